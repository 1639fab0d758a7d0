/**
 * The IPC listener: the stream listener, plus the socket file it placed. A listener that created
 * a socket file removes it when it is closed, if the file at that path is still the one it
 * created (same device and inode): a file someone put there after ours was deleted is left alone.
 * One made from an inherited fd, or on an abstract address, removes nothing.
 */
import { lstatSync, unlinkSync } from "node:fs";
import type { Server } from "node:net";
import { type ListenerHome, StreamListener } from "../stream/listener.js";
import { prepareReaders } from "./reader.js";

/** Interface id an IPC listener handle answers in `hquery`. */
export const IPC_LISTENER_TYPE: unique symbol = Symbol("ipc_listener");

/** A stream listener of the IPC family, knowing the socket file it created. */
export class IpcListener extends StreamListener {
  /** The socket file this listener created, and its identity; `path` is null when there is none. */
  path: string | null = null;
  dev = 0;
  ino = 0;

  constructor(home: ListenerHome) {
    super(home, "ipc_listener", IPC_LISTENER_TYPE);
  }

  /** Take over `server`; the readers of the connections it will accept are made ready now. */
  override attach(server: Server): void {
    super.attach(server);
    prepareReaders();
  }

  /** Stop listening, drop everything, and remove the socket file if it is still ours. */
  override detach(): void {
    super.detach();
    const path = this.path;
    if (path === null) return;
    this.path = null;
    try {
      const st = lstatSync(path);
      if (st.dev === this.dev && st.ino === this.ino) unlinkSync(path);
    } catch {
      // Gone already (deleted by someone else): nothing to remove.
    }
  }
}
