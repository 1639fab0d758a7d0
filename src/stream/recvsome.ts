/**
 * The receive-some op of every stream family (`ipc_recv_some`, `tcp_recv_some`): receive whatever
 * has arrived, up to a length. libdill's `brecv` reads an exact length; a reader of lines or of
 * any framing it only learns while reading needs "what is there now, or wait for the first
 * bytes" to buffer efficiently, instead of one `brecv` per byte.
 */
import { checkCount, checkDeadline } from "../handles/args.js";
import { dillError } from "../handles/errors.js";
import { FastOp, finished, notRunByYield } from "../handles/op.js";
import { handleQuery } from "../handles/table.js";
import type { StreamConn } from "./conn.js";

/** The receive-some op, for the connection type `type` under the function name `fn`. */
export class RecvSome extends FastOp<number> {
  constructor(
    private readonly type: symbol,
    private readonly fn: string,
    private readonly s: number,
    private readonly buf: Uint8Array,
    private readonly len: number,
    private readonly deadline: number,
  ) {
    super();
  }
  next(v?: unknown): IteratorResult<unknown, number> {
    if (this.begun) return finished(v as number);
    this.begun = true;
    const fn = this.fn;
    if (arguments.length === 0) throw notRunByYield(fn);
    const c = handleQuery(this.s, this.type, fn, "s") as StreamConn;
    const buf = this.buf;
    const len = this.len;
    if (!(buf instanceof Uint8Array)) throw dillError("EINVAL", fn, "buf", "buf must be a Uint8Array");
    checkCount(fn, "len", len);
    if (len > buf.length)
      throw dillError("EINVAL", fn, "len", `len ${len} is larger than the buffer (${buf.length} bytes)`);
    checkDeadline(fn, this.deadline);
    return c.startRecvSome(buf, len, this.deadline, fn);
  }
}
