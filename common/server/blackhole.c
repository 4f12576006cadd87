/**
 * @file blackhole.c
 * @brief A loopback port whose connects time out: a listener that never accepts, with a full accept queue.
 *
 * Linux drops a SYN when the listener's accept queue is full, so the client
 * keeps retransmitting and its connect times out, exactly as with a host
 * that does not answer, without leaving 127.0.0.1. The queue (backlog 0)
 * is filled with our own connections, and TCP_INFO on the listener says
 * when it is full: for a listening socket, tcpi_unacked is the queue's
 * length and tcpi_sacked its limit.
 */
#include "cw_fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { MAX_BLACKHOLES = 16, MAX_FILLERS = 32 };

/** One listener and the connections that fill its queue. */
typedef struct blackhole {
    bool used;
    int listener;
    int fillers[MAX_FILLERS];
    int count;
} blackhole;

static blackhole holes[MAX_BLACKHOLES];
static pthread_mutex_t holes_lock = PTHREAD_MUTEX_INITIALIZER;

static bool queue_is_full(int listener)
{
    struct tcp_info info;
    socklen_t len = sizeof info;
    if (getsockopt(listener, IPPROTO_TCP, TCP_INFO, &info, &len) < 0)
        return false;
    return info.tcpi_unacked > info.tcpi_sacked;
}

static void sleep_ms(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&t, NULL);
}

/** Connect one filler to @p addr; -1 when the connect does not complete within a second. */
static int connect_filler(const struct sockaddr_in *addr)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) < 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    int err = 0;
    socklen_t len = sizeof err;
    if (poll(&p, 1, 1000) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void close_hole(blackhole *h)
{
    for (int i = 0; i < h->count; i++)
        close(h->fillers[i]);
    if (h->listener >= 0)
        close(h->listener);
    h->count = 0;
    h->listener = -1;
}

int cw_fixture_blackhole_open(int *port)
{
    blackhole h = { .used = true, .listener = -1 };
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    h.listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (h.listener < 0 || bind(h.listener, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(h.listener, 0) < 0 ||
        getsockname(h.listener, (struct sockaddr *)&addr, &len) < 0) {
        fprintf(stderr, "fixture blackhole: cannot listen on 127.0.0.1: %s\n", strerror(errno));
        close_hole(&h);
        return -1;
    }
    while (!queue_is_full(h.listener) && h.count < MAX_FILLERS) {
        int fd = connect_filler(&addr);
        if (fd < 0)
            break;
        h.fillers[h.count++] = fd;
        /* the listener counts the connection a moment after the client sees it complete */
        for (int wait = 0; wait < 100 && !queue_is_full(h.listener); wait++)
            sleep_ms(1);
    }
    if (!queue_is_full(h.listener)) {
        fprintf(stderr, "fixture blackhole: could not fill the accept queue\n");
        close_hole(&h);
        return -1;
    }
    pthread_mutex_lock(&holes_lock);
    int handle = -1;
    for (int i = 0; i < MAX_BLACKHOLES && handle < 0; i++) {
        if (!holes[i].used) {
            holes[i] = h;
            handle = i;
        }
    }
    pthread_mutex_unlock(&holes_lock);
    if (handle < 0) {
        fprintf(stderr, "fixture blackhole: more than %d open at once\n", MAX_BLACKHOLES);
        close_hole(&h);
        return -1;
    }
    *port = ntohs(addr.sin_port);
    return handle;
}

void cw_fixture_blackhole_close(int handle)
{
    if (handle < 0 || handle >= MAX_BLACKHOLES)
        return;
    pthread_mutex_lock(&holes_lock);
    if (holes[handle].used) {
        close_hole(&holes[handle]);
        holes[handle].used = false;
    }
    pthread_mutex_unlock(&holes_lock);
}
