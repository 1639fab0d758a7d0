/**
 * tsdill: libdill's structured concurrency for TypeScript on Node.js.
 * The public face: re-exports only, each under its libdill name and its `dill_` prefixed name.
 */
export { DillError, ERRNO, type ErrnoCode, isDillError } from "./handles/errors.js";
export type { Op } from "./handles/op.js";
export type { HandleVfs } from "./handles/table.js";
export { Storage } from "./handles/pool.js";
export { hclose, hmake, hown, hquery } from "./handles/handle.js";
export { now } from "./runtime/clock.js";
export { COROUTINE_TYPE, type Coroutine, CoroutineStorage, go, go_mem } from "./runtime/coroutine.js";
export { BUNDLE_TYPE, BundleStorage, bundle, bundle_go, bundle_go_mem, bundle_mem, bundle_wait } from "./runtime/bundle.js";
export { dill_yield, msleep } from "./runtime/time.js";
export { CHAN_TYPE, ChannelStorage, chdone, chmake, chmake_mem, chrecv, chsend } from "./runtime/chan.js";
export { CHRECV, CHSEND, type ChooseClause, choose } from "./runtime/choose.js";
export { await_promise, run, type RunOptions } from "./runtime/promise.js";
export { abort_signal } from "./runtime/signal.js";
export { type DillOptions, type DillStats, dill_configure, dill_stats } from "./runtime/stats.js";
export type { UncaughtHandler } from "./runtime/sched.js";

// libdill's prefixed names (what its header exposes with DILL_DISABLE_RAW_NAMES).
export { hclose as dill_hclose, hmake as dill_hmake, hown as dill_hown, hquery as dill_hquery } from "./handles/handle.js";
export { now as dill_now } from "./runtime/clock.js";
export { go as dill_go, go_mem as dill_go_mem } from "./runtime/coroutine.js";
export {
  bundle as dill_bundle,
  bundle_go as dill_bundle_go,
  bundle_go_mem as dill_bundle_go_mem,
  bundle_mem as dill_bundle_mem,
  bundle_wait as dill_bundle_wait,
} from "./runtime/bundle.js";
export { msleep as dill_msleep } from "./runtime/time.js";
export { chdone as dill_chdone, chmake as dill_chmake, chmake_mem as dill_chmake_mem, chrecv as dill_chrecv, chsend as dill_chsend } from "./runtime/chan.js";
export { CHRECV as DILL_CHRECV, CHSEND as DILL_CHSEND, choose as dill_choose } from "./runtime/choose.js";
export { await_promise as dill_await_promise, run as dill_run } from "./runtime/promise.js";
export { abort_signal as dill_abort_signal } from "./runtime/signal.js";

// Bytestreams and IPC sockets.
export { BSOCK_TYPE, type Bytestream, type IoList, brecv, brecvl, bsend, bsendl } from "./handles/bytestream.js";
export { IPC_TYPE } from "./ipc/socket.js";
export { IPC_LISTENER_TYPE } from "./ipc/listener.js";
export { IpcListenerStorage, IpcPairStorage, IpcStorage } from "./ipc/storage.js";
export { ipc_listen, ipc_listen_mem } from "./ipc/listen.js";
export { ipc_accept, ipc_accept_mem } from "./ipc/accept.js";
export { ipc_connect, ipc_connect_mem } from "./ipc/connect.js";
export { ipc_close, ipc_done } from "./ipc/close.js";
export { ipc_pair, ipc_pair_mem } from "./ipc/pair.js";
export { ipc_fromfd, ipc_fromfd_mem, ipc_listener_fromfd, ipc_listener_fromfd_mem } from "./ipc/fromfd.js";
export { brecv as dill_brecv, brecvl as dill_brecvl, bsend as dill_bsend, bsendl as dill_bsendl } from "./handles/bytestream.js";
export { ipc_listen as dill_ipc_listen, ipc_listen_mem as dill_ipc_listen_mem } from "./ipc/listen.js";
export { ipc_accept as dill_ipc_accept, ipc_accept_mem as dill_ipc_accept_mem } from "./ipc/accept.js";
export { ipc_connect as dill_ipc_connect, ipc_connect_mem as dill_ipc_connect_mem } from "./ipc/connect.js";
export { ipc_close as dill_ipc_close, ipc_done as dill_ipc_done } from "./ipc/close.js";
export { ipc_pair as dill_ipc_pair, ipc_pair_mem as dill_ipc_pair_mem } from "./ipc/pair.js";
export {
  ipc_fromfd as dill_ipc_fromfd,
  ipc_fromfd_mem as dill_ipc_fromfd_mem,
  ipc_listener_fromfd as dill_ipc_listener_fromfd,
  ipc_listener_fromfd_mem as dill_ipc_listener_fromfd_mem,
} from "./ipc/fromfd.js";
