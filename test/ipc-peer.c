/*
 * A peer for tsdill's IPC tests, written with plain POSIX sockets and no tsdill.
 *   peer listen PATH BACKLOG         bind and listen, never accept; exits when stdin closes
 *   peer echo-server PATH            accept one connection, echo it until end-of-stream, close
 *   peer echo-client PATH NBYTES     send NBYTES of the test pattern, read the echo back while
 *                                    sending, compare byte for byte; prints "ok N" or "mismatch"
 *   peer exec-listening PATH CMD...  bind and listen on PATH, then run CMD with that socket as fd 3
 *   peer exec-connected PATH CMD...  connect to PATH, then run CMD with that socket as fd 3
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static unsigned pat_state;
static unsigned char pat_next(void) {
    pat_state ^= pat_state << 13;
    pat_state ^= pat_state >> 17;
    pat_state ^= pat_state << 5;
    return (unsigned char)(pat_state & 0xff);
}

static void die(const char *what) {
    perror(what);
    exit(2);
}

static struct sockaddr_un addr_of(const char *path) {
    struct sockaddr_un su;
    memset(&su, 0, sizeof(su));
    su.sun_family = AF_UNIX;
    strncpy(su.sun_path, path, sizeof(su.sun_path) - 1);
    return su;
}

static int listen_on(const char *path, int backlog) {
    struct sockaddr_un su = addr_of(path);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    if (s < 0) die("socket");
    if (bind(s, (struct sockaddr *)&su, sizeof(su)) < 0) die("bind");
    if (listen(s, backlog) < 0) die("listen");
    printf("ready\n");
    fflush(stdout);
    return s;
}

static int echo_server(const char *path) {
    int ls = listen_on(path, 1);
    int s = accept(ls, NULL, NULL);
    if (s < 0) die("accept");
    char buf[65536];
    for (;;) {
        ssize_t n = read(s, buf, sizeof(buf));
        if (n < 0) die("read");
        if (n == 0) break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(s, buf + off, n - off);
            if (w < 0) die("write");
            off += w;
        }
    }
    shutdown(s, SHUT_WR);
    close(s);
    close(ls);
    unlink(path);
    return 0;
}

static int echo_client(const char *path, long total) {
    struct sockaddr_un su = addr_of(path);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    if (s < 0) die("socket");
    if (connect(s, (struct sockaddr *)&su, sizeof(su)) < 0) die("connect");
    unsigned char *out = malloc(total), *in = malloc(total);
    pat_state = 7;
    for (long i = 0; i < total; i++) out[i] = pat_next();
    long sent = 0, got = 0;
    while (got < total) {
        struct pollfd p = {s, POLLIN | (sent < total ? POLLOUT : 0), 0};
        if (poll(&p, 1, 10000) <= 0) die("poll");
        if ((p.revents & POLLOUT) && sent < total) {
            ssize_t w = send(s, out + sent, total - sent > 65536 ? 65536 : total - sent, MSG_DONTWAIT);
            if (w < 0 && errno != EAGAIN) die("send");
            if (w > 0) sent += w;
            if (sent == total) shutdown(s, SHUT_WR);
        }
        if (p.revents & (POLLIN | POLLHUP)) {
            ssize_t r = recv(s, in + got, total - got, MSG_DONTWAIT);
            if (r < 0 && errno != EAGAIN) die("recv");
            if (r == 0) break;
            if (r > 0) got += r;
        }
    }
    char c;
    ssize_t r = recv(s, &c, 1, 0); /* the server closes after the echo: end-of-stream */
    close(s);
    if (got != total || memcmp(in, out, total) != 0 || r != 0) {
        printf("mismatch %ld\n", got);
        return 1;
    }
    printf("ok %ld\n", got);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 4 && strcmp(argv[1], "listen") == 0) {
        int ls = listen_on(argv[2], atoi(argv[3]));
        char buf[16];
        while (read(0, buf, sizeof(buf)) > 0) {
        }
        close(ls);
        unlink(argv[2]);
        return 0;
    }
    if (argc >= 4 && (strcmp(argv[1], "exec-listening") == 0 || strcmp(argv[1], "exec-connected") == 0)) {
        int s;
        if (argv[1][5] == 'l') {
            s = listen_on(argv[2], 16);
        } else {
            struct sockaddr_un su = addr_of(argv[2]);
            s = socket(AF_UNIX, SOCK_STREAM, 0);
            if (s < 0) die("socket");
            if (connect(s, (struct sockaddr *)&su, sizeof(su)) < 0) die("connect");
        }
        if (s != 3) {
            if (dup2(s, 3) < 0) die("dup2");
            close(s);
        }
        execvp(argv[3], argv + 3);
        die("execvp");
    }
    if (argc >= 3 && strcmp(argv[1], "echo-server") == 0) return echo_server(argv[2]);
    if (argc >= 4 && strcmp(argv[1], "echo-client") == 0) return echo_client(argv[2], atol(argv[3]));
    fprintf(stderr, "usage: peer listen PATH BACKLOG | echo-server PATH | echo-client PATH NBYTES\n");
    return 2;
}
