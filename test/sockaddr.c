/* Prints, in hex, the bytes of the socket address a C program builds for each argument pair
   "address port": a struct sockaddr_in for IPv4 literals, a struct sockaddr_in6 for IPv6, as
   Linux lays them out. One line per address. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void dump(const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) printf("%02x", b[i]);
    printf("\n");
}

int main(int argc, char **argv) {
    for (int i = 1; i + 1 < argc; i += 2) {
        int port = atoi(argv[i + 1]);
        struct sockaddr_in v4;
        struct sockaddr_in6 v6;
        memset(&v4, 0, sizeof v4);
        memset(&v6, 0, sizeof v6);
        if (inet_pton(AF_INET, argv[i], &v4.sin_addr) == 1) {
            v4.sin_family = AF_INET;
            v4.sin_port = htons(port);
            dump(&v4, sizeof v4);
        } else if (inet_pton(AF_INET6, argv[i], &v6.sin6_addr) == 1) {
            v6.sin6_family = AF_INET6;
            v6.sin6_port = htons(port);
            dump(&v6, sizeof v6);
        } else {
            return 1;
        }
    }
    return 0;
}
