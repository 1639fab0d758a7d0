/**
 * IPC connections: the stream connection ({@link StreamConn}) of the IPC family, Unix-domain
 * stream sockets. Everything else about an IPC connection is the shared stream code.
 */
import type { StreamFamily } from "../stream/conn.js";
import { takeOver } from "./reader.js";

export { StreamConn as IpcConn } from "../stream/conn.js";

/** Interface id an IPC connection handle answers in `hquery` (besides `BSOCK_TYPE`). */
export const IPC_TYPE: unique symbol = Symbol("ipc");

/** The IPC family: Unix-domain stream sockets. */
export const IPC_FAMILY: StreamFamily = {
  type: IPC_TYPE,
  kind: "ipc",
  prefix: "ipc",
  noDelay: false,
  // Every IPC socket is read by tsdill's reader, so that descriptors passed with it are caught.
  attached: takeOver,
};
