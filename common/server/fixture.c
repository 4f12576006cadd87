/**
 * @file fixture.c
 * @brief The fixture server: an httpbin-like HTTP/1.1 server on its own libuv loop and thread.
 *
 * This file is the server: its thread and loop, the listener, the counters,
 * start and stop. A connection is connection.c's; what each path answers is
 * routes.c's table, and parse.c reads each request (server.h says how they fit).
 *
 * Besides the routes in cw_fixture.h: HEAD wherever GET is allowed; /post,
 * /put and /patch (like /delete, for their method); /reset (reads the request,
 * then resets the connection: the client sees ECONNRESET). Limits: a header
 * section over 16 KiB gets 431, a URL over 2 KiB 414, a body over 8 MiB 413;
 * a client that does not send its whole request (headers and body) within
 * 10 s is dropped. /stats and /stats/reset are not counted in "requests", so
 * looking does not change what is seen.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cw_http.h"
#include "server.h"

char cw__pattern[PATTERN_SIZE];
static uv_once_t started_once = UV_ONCE_INIT;

/* ---------------------------------------------------------------- counters */

cw_fixture_stats cw_fixture_stats_get(const cw_fixture *fixture)
{
    cw_fixture_stats s = {
        .accepted = atomic_load(&fixture->accepted),
        .open = atomic_load(&fixture->open),
        .max_open = atomic_load(&fixture->max_open),
        .requests = atomic_load(&fixture->requests),
    };
    return s;
}

void cw_fixture_stats_reset(cw_fixture *fixture)
{
    atomic_store(&fixture->accepted, 0);
    atomic_store(&fixture->requests, 0);
    atomic_store(&fixture->max_open, atomic_load(&fixture->open));
}

void cw_fixture_set_connect_cost(cw_fixture *fixture, unsigned ms)
{
    atomic_store(&fixture->connect_cost_ms, ms);
}

/* ---------------------------------------------------------------- the server */

static void on_stop(uv_async_t *async)
{
    cw_fixture *fx = async->data;
    uv_close((uv_handle_t *)&fx->listener, NULL);
    uv_close((uv_handle_t *)&fx->stopper, NULL);
    cw__conn_close_all(fx);
}

static void server_thread(void *arg)
{
    cw_fixture *fx = arg;
    /* Signals belong to the program's own threads; a write to a closed socket must give EPIPE, not kill. */
    sigset_t all;
    sigfillset(&all);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    sigdelset(&all, SIGABRT);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
}

static void fill_pattern(void)
{
    for (size_t i = 0; i < sizeof cw__pattern; i++)
        cw__pattern[i] = (char)('a' + i % 26);
}

static void start_once(void)
{
    fill_pattern();
    cw_raise_open_file_limit(); /* thousands of connections need thousands of descriptors */
}

cw_fixture *cw_fixture_start(int port)
{
    uv_once(&started_once, start_once);
    cw_fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL)
        return NULL;
    int r = uv_loop_init(&fx->loop);
    if (r < 0) {
        fprintf(stderr, "fixture server: cannot create a loop: %s\n", uv_strerror(r));
        free(fx);
        return NULL;
    }
    fx->listener.data = fx->stopper.data = fx;
    uv_tcp_init(&fx->loop, &fx->listener);
    struct sockaddr_in addr;
    struct sockaddr_storage bound;
    int bound_len = sizeof bound;
    uv_ip4_addr("127.0.0.1", port, &addr);
    if ((r = uv_tcp_bind(&fx->listener, (const struct sockaddr *)&addr, 0)) < 0 ||
        (r = uv_listen((uv_stream_t *)&fx->listener, BACKLOG, cw__conn_accept)) < 0 ||
        (r = uv_tcp_getsockname(&fx->listener, (struct sockaddr *)&bound, &bound_len)) < 0 ||
        (r = uv_async_init(&fx->loop, &fx->stopper, on_stop)) < 0) {
        fprintf(stderr, "fixture server: cannot listen on 127.0.0.1:%d: %s\n", port, uv_strerror(r));
        uv_close((uv_handle_t *)&fx->listener, NULL);
        uv_run(&fx->loop, UV_RUN_DEFAULT);
        uv_loop_close(&fx->loop);
        free(fx);
        return NULL;
    }
    fx->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    if ((r = uv_thread_create(&fx->thread, server_thread, fx)) < 0) {
        fprintf(stderr, "fixture server: cannot start its thread: %s\n", uv_strerror(r));
        uv_close((uv_handle_t *)&fx->listener, NULL);
        uv_close((uv_handle_t *)&fx->stopper, NULL);
        uv_run(&fx->loop, UV_RUN_DEFAULT);
        uv_loop_close(&fx->loop);
        free(fx);
        return NULL;
    }
    return fx;
}

int cw_fixture_port(const cw_fixture *fixture)
{
    return fixture->port;
}

char *cw_fixture_url(const cw_fixture *fixture, const char *path, char *out, unsigned long size)
{
    snprintf(out, size, "http://127.0.0.1:%d%s", fixture->port, path ? path : "");
    return out;
}

void cw_fixture_stop(cw_fixture *fixture)
{
    if (fixture == NULL)
        return;
    uv_async_send(&fixture->stopper);
    uv_thread_join(&fixture->thread);
    int r = uv_loop_close(&fixture->loop);
    if (r < 0)
        fprintf(stderr, "fixture server: loop not empty at stop: %s\n", uv_strerror(r));
    free(fixture);
}

int cw_fixture_for_demo(int argc, char **argv, char *base, unsigned long size, cw_fixture **started)
{
    *started = NULL;
    const char *url = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--url") == 0 && i + 1 < argc)
            url = argv[++i];
        else if (strncmp(argv[i], "--url=", 6) == 0)
            url = argv[i] + 6;
    }
    if (url != NULL) {
        snprintf(base, size, "%s", url); /* exactly as given: the page to fetch */
        return 0;
    }
    cw_fixture *fx = cw_fixture_start(0);
    if (fx == NULL)
        return -1;
    cw_fixture_url(fx, "", base, size);
    *started = fx;
    return 0;
}
