/*
 * A peer that passes file descriptors with tsdill over a Unix socket, with plain POSIX calls
 * (sendmsg/recvmsg and SCM_RIGHTS, one marker byte per descriptor, as libdill sends them).
 *
 *   fd-peer give ADDR   connect; send "ABC", a socketpair end with its marker, "DEF"; then read
 *                       one byte from the other end of the pair (tsdill writes it through the
 *                       descriptor it received) and print "ok XX" with its value in hex.
 *   fd-peer take ADDR   connect; read "XYZ", then a marker with a descriptor, then "END"; write
 *                       "hello" into the received descriptor, close it, print "ok".
 *   fd-peer bare ADDR   connect; send "Q" with no descriptor, then wait for the end of the stream.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int dial(const char *addr) {
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un su;
  memset(&su, 0, sizeof(su));
  su.sun_family = AF_UNIX;
  strncpy(su.sun_path, addr, sizeof(su.sun_path) - 1);
  if (s < 0 || connect(s, (struct sockaddr *)&su, sizeof(su)) < 0) {
    perror("connect");
    return -1;
  }
  return s;
}

static int readn(int s, char *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t k = read(s, buf + got, n - got);
    if (k <= 0) return -1;
    got += (size_t)k;
  }
  return 0;
}

static int sendfd(int s, int fd) {
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
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  return sendmsg(s, &msg, 0) == 1 ? 0 : -1;
}

static int recvfd(int s) {
  unsigned char marker;
  struct iovec iov = {&marker, 1};
  union {
    struct cmsghdr h;
    char space[CMSG_SPACE(sizeof(int))];
  } control;
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.space;
  msg.msg_controllen = sizeof(control.space);
  if (recvmsg(s, &msg, 0) != 1) return -1;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (c == NULL || c->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof(int));
  return fd;
}

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  int s = dial(argv[2]);
  if (s < 0) return 1;
  if (strcmp(argv[1], "give") == 0) {
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) < 0) return 1;
    if (write(s, "ABC", 3) != 3 || sendfd(s, sp[0]) < 0 || write(s, "DEF", 3) != 3) return 1;
    close(sp[0]);
    unsigned char c;
    if (read(sp[1], &c, 1) != 1) return 1;
    printf("ok %02x\n", c);
    return 0;
  }
  if (strcmp(argv[1], "take") == 0) {
    char buf[3];
    if (readn(s, buf, 3) < 0 || memcmp(buf, "XYZ", 3) != 0) return 1;
    int fd = recvfd(s);
    if (fd < 0) return 1;
    if (readn(s, buf, 3) < 0 || memcmp(buf, "END", 3) != 0) return 1;
    if (write(fd, "hello", 5) != 5) return 1;
    close(fd);
    printf("ok\n");
    return 0;
  }
  if (strcmp(argv[1], "bare") == 0) {
    char c;
    if (write(s, "Q", 1) != 1) return 1;
    while (read(s, &c, 1) > 0) {
    }
    return 0;
  }
  return 2;
}
