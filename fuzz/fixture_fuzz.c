/*
 * fixture_fuzz.c -- libFuzzer harness for the fixture server's request parsing and answering.
 *
 * The fixture server runs on its own thread, as in the tests. Each input is
 * sent as raw bytes, in two pieces, on a fresh loopback connection; then the harness closes
 * its sending side and reads the answer (at most 64 KiB) until the server
 * closes. So every input goes through the whole path a hostile client can
 * reach: http-parser and its callbacks, the header, URL and body limits,
 * routing and the numbers in paths and query strings, pipelined requests
 * waiting behind a slow one, and the answers. The server's own code is built
 * with -fsanitize=fuzzer,address,undefined, so its branches guide the fuzzer
 * and any memory error, overflow or undefined behaviour in it stops the run.
 *
 * Build and run: see fuzz/README.md (make fuzz).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "cw_fixture.h"

enum { READ_MAX = 64 * 1024, WAIT_MS = 5000 };

static cw_fixture *fixture;
static struct sockaddr_in server;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc, (void) argv;
    fixture = cw_fixture_start(0);
    if (!fixture) {
        fprintf(stderr, "fixture_fuzz: the fixture server did not start\n");
        exit(1);
    }
    server = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t) cw_fixture_port(fixture)),
                                   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    return 0;
}

/** Wait up to WAIT_MS for @p events on @p fd. libFuzzer's own SIGALRM (its -timeout) interrupts poll()
 *  now and then: that is not the server's silence, so poll() is called again for the time left. */
static bool wait_for(int fd, short events)
{
    struct pollfd p = { .fd = fd, .events = events };
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left = WAIT_MS - ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
        int n = poll(&p, 1, left > 0 ? (int) left : 0);
        if (n == 1)
            return true;
        if (n == 0 || errno != EINTR)
            return false;
    }
}

/** Wait for @p fd to be readable; a server that stays silent for WAIT_MS is a hang. */
static void wait_readable(int fd)
{
    if (!wait_for(fd, POLLIN)) {
        fprintf(stderr, "fixture_fuzz: the server neither answered nor closed within %d ms\n", WAIT_MS);
        abort(); /* libFuzzer saves the input as a crash */
    }
}

/** connect(), which a signal may interrupt: the connection then goes on, and poll() says when it is made. */
static int connect_interrupted(int fd, const struct sockaddr_in *to)
{
    if (connect(fd, (const struct sockaddr *) to, sizeof *to) == 0)
        return 0;
    int error = errno;
    socklen_t len = sizeof error;
    if (errno == EINTR && wait_for(fd, POLLOUT))
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
    errno = error;
    return error == 0 ? 0 : -1;
}

/*
 * Millions of short connections leave as many in TIME_WAIT (60 s each), more than one source address
 * has ports for. So each comes from the next address of 127.0.0.0/8 (loopback, like 127.0.0.1), with
 * the port chosen at connect time.
 */
static int connect_to_server(void)
{
    static uint32_t next;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    int on = 1;
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
    struct sockaddr_in from = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001u + next++ % 1000) };
    if (bind(fd, (struct sockaddr *) &from, sizeof from) != 0 ||
        connect_interrupted(fd, &server) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = connect_to_server();
    if (fd < 0) {
        perror("fixture_fuzz: connect");
        abort();
    }
    /* Two pieces with a pause between: the server reads them separately, so http-parser hands its
       callbacks a URL, a header or a body in parts, as a slow network does. */
    size_t sent = 0, half = size / 2;
    while (sent < size) { /* the server may close early (400, 413, 431): stop sending then */
        size_t end = sent < half ? half : size;
        ssize_t n = send(fd, data + sent, end - sent, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        sent += (size_t) n;
        if (sent == half)
            usleep(100);
    }
    shutdown(fd, SHUT_WR); /* end of input: the server finishes, then closes */
    static char buf[16 * 1024];
    size_t got = 0;
    for (;;) {
        wait_readable(fd);
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0 || (got += (size_t) n) >= READ_MAX)
            break;
    }
    close(fd);
    return 0;
}
