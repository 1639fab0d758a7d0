/*
 * tsdill's native part: the few system calls Node's JavaScript API lacks.
 *
 *  - Readiness of any file descriptor, without blocking the event loop: an epoll instance of
 *    tsdill's own, watched by one libuv poll handle on the loop Node runs, reporting to a single
 *    JavaScript dispatcher (pollStart/pollStop, dispatch(fd, status, events)).
 *  - Descriptor passing over Unix-domain stream sockets: sendmsg and recvmsg with SCM_RIGHTS, both
 *    non-blocking (sendFd, recv); a receive also reports the descriptor that came with the bytes.
 *  - Small helpers around them: ready (poll with no timeout), fdCheck (is it open), dup, close,
 *    and pipe and socketpair (new descriptors, for programs and tests that need raw ones).
 *
 * Every call returns a number: the result, or a negated errno (the JavaScript side names it).
 * Nothing here blocks or allocates per call, and no JavaScript object is kept but the dispatcher.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

/*
 * Readiness goes through one epoll instance of tsdill's own, which the loop watches with a single
 * libuv poll handle: a descriptor is registered in it directly, so tsdill needs no handle and no
 * duplicate per descriptor, and it never clashes with the watchers libuv keeps for Node's own
 * handles on the same descriptor (libuv allows one per descriptor number). A descriptor that
 * nobody waits for is not registered at all, so a hang-up it has cannot wake the loop for
 * nothing; the handle keeps the process alive only while something is registered.
 */
static int efd = -1;
static uv_poll_t ehandle;
static unsigned char *masks = NULL; /* events asked for, per descriptor; 0 = not registered */
static int nmasks = 0;
static int registered = 0;
static napi_env penv = NULL;
static napi_ref dispatcher = NULL;
static napi_ref resource = NULL;
static napi_async_context actx = NULL;

#define CHECK(call)                                                                      \
  do {                                                                                   \
    if ((call) != napi_ok) {                                                             \
      napi_throw_error(env, NULL, "tsdill native: " #call " failed");                    \
      return NULL;                                                                       \
    }                                                                                    \
  } while (0)

static napi_value number(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

/* The first n arguments of a call as int32 into out; false (and a TypeError thrown) otherwise. */
static int int_args(napi_env env, napi_callback_info info, int n, int32_t *out) {
  size_t argc = 4;
  napi_value args[4];
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || (int)argc < n) {
    napi_throw_type_error(env, NULL, "tsdill native: too few arguments");
    return 0;
  }
  for (int i = 0; i < n; i++) {
    if (napi_get_value_int32(env, args[i], &out[i]) != napi_ok) {
      napi_throw_type_error(env, NULL, "tsdill native: an argument is not a number");
      return 0;
    }
  }
  return 1;
}

static void on_epoll(uv_poll_t *h, int status, int events) {
  struct epoll_event evs[64];
  int n;
  do n = epoll_wait(efd, evs, 64, 0);
  while (n < 0 && errno == EINTR);
  if (n <= 0) return;
  napi_env env = penv;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn, recv, argv[3], result;
  napi_get_reference_value(env, dispatcher, &fn);
  napi_get_reference_value(env, resource, &recv);
  for (int i = 0; i < n; i++) {
    int fd = evs[i].data.fd;
    int want = fd < nmasks ? masks[fd] : 0;
    if (want == 0) continue; /* forgotten by an earlier call of this batch */
    uint32_t e = evs[i].events;
    int ready = 0;
    if (e & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) ready |= 1;
    if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP)) ready |= 2;
    ready &= want;
    if (ready == 0) continue;
    argv[0] = number(env, fd);
    argv[1] = number(env, 0);
    argv[2] = number(env, ready);
    if (napi_make_callback(env, actx, recv, fn, 3, argv, &result) != napi_ok) {
      napi_value err;
      if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
    }
  }
  napi_close_handle_scope(env, scope);
}

/* init(dispatch): the function every readiness event is reported to, as dispatch(fd, 0, events). */
static napi_value init(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value fn, obj, name;
  CHECK(napi_get_cb_info(env, info, &argc, &fn, NULL, NULL));
  /* One event loop only: the first thread that started polling (worker threads get ENOTSUP). */
  if (penv != NULL && penv != env) return number(env, -ENOTSUP);
  if (dispatcher != NULL) napi_delete_reference(env, dispatcher);
  CHECK(napi_create_reference(env, fn, 1, &dispatcher));
  penv = env;
  if (efd >= 0) return number(env, 0);
  CHECK(napi_create_object(env, &obj));
  CHECK(napi_create_reference(env, obj, 1, &resource));
  CHECK(napi_create_string_utf8(env, "tsdill.fd", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, obj, name, &actx));
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return number(env, -errno);
  int rc = uv_poll_init(loop, &ehandle, fd);
  if (rc == 0) rc = uv_poll_start(&ehandle, UV_READABLE, on_epoll);
  if (rc < 0) {
    close(fd);
    return number(env, rc);
  }
  uv_unref((uv_handle_t *)&ehandle);
  efd = fd;
  return number(env, 0);
}

static void forget(int fd) {
  if (fd < 0 || fd >= nmasks || masks[fd] == 0) return;
  epoll_ctl(efd, EPOLL_CTL_DEL, fd, NULL); /* ENOENT or EBADF: the kernel forgot it already */
  masks[fd] = 0;
  if (--registered == 0) uv_unref((uv_handle_t *)&ehandle);
}

/* pollStart(fd, events): report fd's readiness for UV_READABLE (1) and/or UV_WRITABLE (2). */
static napi_value poll_start(napi_env env, napi_callback_info info) {
  int32_t a[2];
  if (!int_args(env, info, 2, a)) return NULL;
  int fd = a[0], want = a[1] & 3;
  if (efd < 0) return number(env, -EINVAL);
  if (fd < 0 || fcntl(fd, F_GETFD) < 0) return number(env, -EBADF);
  if (want == 0) {
    forget(fd);
    return number(env, 0);
  }
  if (fd >= nmasks) {
    int n = nmasks ? nmasks : 256;
    while (n <= fd) n *= 2;
    unsigned char *grown = realloc(masks, n);
    if (!grown) return number(env, -ENOMEM);
    memset(grown + nmasks, 0, n - nmasks);
    masks = grown;
    nmasks = n;
  }
  struct epoll_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.events = ((want & 1) ? EPOLLIN | EPOLLRDHUP : 0) | ((want & 2) ? EPOLLOUT : 0);
  ev.data.fd = fd;
  int op = masks[fd] ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  int rc = epoll_ctl(efd, op, fd, &ev);
  /* The descriptor was closed and reopened behind our back, or is registered already. */
  if (rc < 0 && errno == ENOENT && op == EPOLL_CTL_MOD) rc = epoll_ctl(efd, EPOLL_CTL_ADD, fd, &ev);
  else if (rc < 0 && errno == EEXIST) rc = epoll_ctl(efd, EPOLL_CTL_MOD, fd, &ev);
  if (rc < 0) {
    int err = errno;
    if (masks[fd]) {
      masks[fd] = 1; /* make forget() count it out */
      forget(fd);
    }
    return number(env, -err);
  }
  if (masks[fd] == 0 && registered++ == 0) uv_ref((uv_handle_t *)&ehandle);
  masks[fd] = (unsigned char)want;
  return number(env, 0);
}

/* pollStop(fd): stop reporting fd's readiness (before it is closed, too). */
static napi_value poll_stop(napi_env env, napi_callback_info info) {
  int32_t a[1];
  if (!int_args(env, info, 1, a)) return NULL;
  forget(a[0]);
  return number(env, 0);
}

/* fdCheck(fd): 0 when fd is open, else -EBADF. */
static napi_value fd_check(napi_env env, napi_callback_info info) {
  int32_t a[1];
  if (!int_args(env, info, 1, a)) return NULL;
  return number(env, a[0] >= 0 && fcntl(a[0], F_GETFD) >= 0 ? 0 : -EBADF);
}

/*
 * ready(fd, events): which of UV_READABLE (1) and UV_WRITABLE (2) fd is ready for now (an error
 * or hang-up counts as both, as the next read or write will report it); -EBADF when fd is not
 * open, -ENOTSUP for a regular file or a directory, which cannot be waited for.
 */
static napi_value fd_ready(napi_env env, napi_callback_info info) {
  int32_t a[2];
  if (!int_args(env, info, 2, a)) return NULL;
  struct stat st;
  if (a[0] < 0 || fstat(a[0], &st) < 0) return number(env, -EBADF);
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) return number(env, -ENOTSUP);
  struct pollfd p = {a[0], (short)(((a[1] & 1) ? POLLIN : 0) | ((a[1] & 2) ? POLLOUT : 0)), 0};
  int rc;
  do rc = poll(&p, 1, 0);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) return number(env, -errno);
  if (p.revents & POLLNVAL) return number(env, -EBADF);
  int r = 0;
  if (p.revents & (POLLIN | POLLERR | POLLHUP)) r |= 1;
  if (p.revents & (POLLOUT | POLLERR | POLLHUP)) r |= 2;
  return number(env, r & a[1]);
}

/* dup(fd): a new descriptor (close-on-exec) for the same open file. */
static napi_value fd_dup(napi_env env, napi_callback_info info) {
  int32_t a[1];
  if (!int_args(env, info, 1, a)) return NULL;
  int r = fcntl(a[0], F_DUPFD_CLOEXEC, 0);
  return number(env, r < 0 ? -errno : r);
}

/* close(fd). */
static napi_value fd_close(napi_env env, napi_callback_info info) {
  int32_t a[1];
  if (!int_args(env, info, 1, a)) return NULL;
  return number(env, close(a[0]) < 0 ? -errno : 0);
}

/* sendFd(sock, fd): one marker byte carrying fd (SCM_RIGHTS); 1 when sent, else -errno. */
static napi_value send_fd(napi_env env, napi_callback_info info) {
  int32_t a[2];
  if (!int_args(env, info, 2, a)) return NULL;
  unsigned char marker = 0xcc;
  struct iovec iov = {&marker, 1};
  union {
    struct cmsghdr h;
    char space[CMSG_SPACE(sizeof(int))];
  } control;
  memset(&control, 0, sizeof(control));
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.space;
  msg.msg_controllen = sizeof(control.space);
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &a[1], sizeof(int));
  ssize_t n;
  do n = sendmsg(a[0], &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return number(env, n < 0 ? -errno : (double)n);
}

/*
 * recv(sock, buf, out): read what has arrived into the Uint8Array buf; the count, 0 at the end of
 * the stream, or -errno. out (an Int32Array) gets the descriptor that came with these bytes, or
 * -1; any further descriptors of the same message are closed. The kernel ends a read right after
 * the bytes that carry descriptors, so they belong to the last byte read.
 */
static napi_value recv_fd(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t sock;
  size_t argc = 3;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3 || napi_get_value_int32(env, argv[0], &sock) != napi_ok) {
    napi_throw_type_error(env, NULL, "tsdill native: recv(sock, buf, out)");
    return NULL;
  }
  void *base, *obase;
  size_t len, olen;
  napi_typedarray_type t, ot;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, argv[1], &t, &len, &base, &ab, &off) != napi_ok ||
      napi_get_typedarray_info(env, argv[2], &ot, &olen, &obase, &ab, &off) != napi_ok ||
      t != napi_uint8_array || ot != napi_int32_array || olen < 1) {
    napi_throw_type_error(env, NULL, "tsdill native: recv(sock, Uint8Array, Int32Array)");
    return NULL;
  }
  int32_t *out = (int32_t *)obase;
  out[0] = -1;
  struct iovec iov = {base, len};
  union {
    struct cmsghdr h;
    char space[CMSG_SPACE(sizeof(int) * 16)];
  } control;
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.space;
  msg.msg_controllen = sizeof(control.space);
  ssize_t n;
  do n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) return number(env, -errno);
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    for (int i = 0; i < count; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      if (out[0] < 0) out[0] = fd;
      else close(fd);
    }
  }
  return number(env, (double)n);
}

/* pipe(out) and socketpair(out): two new descriptors into the Int32Array out; 0 or -errno. */
static napi_value make_two(napi_env env, napi_callback_info info, int sock) {
  size_t argc = 1;
  napi_value arg, ab;
  void *base;
  size_t len, off;
  napi_typedarray_type t;
  CHECK(napi_get_cb_info(env, info, &argc, &arg, NULL, NULL));
  if (argc < 1 || napi_get_typedarray_info(env, arg, &t, &len, &base, &ab, &off) != napi_ok ||
      t != napi_int32_array || len < 2) {
    napi_throw_type_error(env, NULL, "tsdill native: expected an Int32Array of 2");
    return NULL;
  }
  int fds[2];
  int rc = sock ? socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) : pipe2(fds, O_CLOEXEC);
  if (rc < 0) return number(env, -errno);
  memcpy(base, fds, sizeof(fds));
  return number(env, 0);
}
static napi_value make_pipe(napi_env env, napi_callback_info info) { return make_two(env, info, 0); }
static napi_value make_socketpair(napi_env env, napi_callback_info info) { return make_two(env, info, 1); }

static napi_value module_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"init", NULL, init, NULL, NULL, NULL, napi_default, NULL},
      {"pollStart", NULL, poll_start, NULL, NULL, NULL, napi_default, NULL},
      {"pollStop", NULL, poll_stop, NULL, NULL, NULL, napi_default, NULL},
      {"fdCheck", NULL, fd_check, NULL, NULL, NULL, napi_default, NULL},
      {"ready", NULL, fd_ready, NULL, NULL, NULL, napi_default, NULL},
      {"dup", NULL, fd_dup, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, fd_close, NULL, NULL, NULL, napi_default, NULL},
      {"sendFd", NULL, send_fd, NULL, NULL, NULL, napi_default, NULL},
      {"pipe", NULL, make_pipe, NULL, NULL, NULL, napi_default, NULL},
      {"socketpair", NULL, make_socketpair, NULL, NULL, NULL, napi_default, NULL},
      {"recv", NULL, recv_fd, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, module_init)
