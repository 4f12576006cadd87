/*
 * demo2_nonblocking.c -- the non-blocking idea, raw: libcurl's multi interface driven by a libuv loop.
 *
 * The same three fetches of /delay/300 as demo1_blocking.c, started together on one thread.
 * libcurl tells the loop which sockets to watch and when to wake it up; the loop tells
 * libcurl what happened. The three waits overlap, so all three finish in about 300 ms and
 * the timeline shows the bars stacked. No course library here beyond the fixture server and
 * the timeline: this plumbing is what common/ does for every chapter from 02 on.
 *
 * Usage: demo2_nonblocking [--url URL]   (fetches URL itself three times, e.g. https://example.org/)
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>
#include "cw.h"
#include "cw_fixture.h"

enum { N = 3 };

/* One transfer, found again through CURLOPT_PRIVATE when it finishes. */
typedef struct transfer {
    char label[16];
    int span;     /* its timeline row */
    size_t bytes; /* body bytes received */
} transfer;

/* One socket libcurl asked us to watch, and the libuv handle that watches it. */
typedef struct watch {
    uv_poll_t poll; /* first, so a uv_poll_t * is a watch * */
    curl_socket_t fd;
} watch;

static uv_loop_t loop;
static uv_timer_t timer; /* the one timer libcurl asks for */
static CURLM *multi;
static int finished, failed;
static uint64_t t0;

static size_t count_body(char *data, size_t size, size_t count, void *total)
{
    (void)data;
    *(size_t *)total += size * count;
    return size * count;
}

//! [finished]
/* Hand back every transfer that has finished. Runs after each curl_multi_socket_action(),
 * the timer's included: a transfer can end on either path, and nothing else would notice. */
static void collect_finished(void)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result; /* read it now: msg dies with the handle */
        transfer *t;
        long status = 0;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &t);
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        cw_timeline_end(t->span, rc == CURLE_OK ? 0 : CW_EHTTP);
        if (rc == CURLE_OK)
            printf("  %s: status %ld, %zu bytes, done at %4llu ms\n", t->label, status, t->bytes,
                   (unsigned long long)(cw_now_us() - t0) / 1000);
        else
            printf("  %s: failed: %s\n", t->label, curl_easy_strerror(rc));
        failed += rc != CURLE_OK;
        finished++;
        curl_multi_remove_handle(multi, easy);
        curl_easy_cleanup(easy);
    }
}
//! [finished]

//! [socket]
/* The loop saw a socket ready (or in error): tell libcurl, then collect what finished. */
static void on_poll(uv_poll_t *poll, int status, int events)
{
    curl_socket_t fd = ((watch *)poll)->fd; /* read before: libcurl may close the watch */
    int flags = status < 0 ? CURL_CSELECT_ERR
                           : (events & UV_READABLE ? CURL_CSELECT_IN : 0) |
                                 (events & UV_WRITABLE ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(multi, fd, flags, &running);
    collect_finished();
}

static void free_watch(uv_handle_t *handle) { free(handle); }

/* CURLMOPT_SOCKETFUNCTION: libcurl says what to watch a socket for. One uv_poll per socket,
 * closed as soon as libcurl is done with it (the descriptor may come back for a new socket). */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    (void)userp;
    watch *w = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (w)
            uv_close((uv_handle_t *)&w->poll, free_watch);
        return 0;
    }
    if (!w) {
        w = malloc(sizeof *w);
        if (!w || uv_poll_init_socket(&loop, &w->poll, fd) != 0) {
            free(w);
            return -1; /* libcurl fails this transfer */
        }
        w->fd = fd;
        curl_multi_assign(multi, fd, w); /* the one curl_multi_ call allowed in here */
    }
    int events = (what & CURL_POLL_IN ? UV_READABLE : 0) | (what & CURL_POLL_OUT ? UV_WRITABLE : 0);
    uv_poll_start(&w->poll, events, on_poll);
    return 0;
}
//! [socket]

//! [timer]
/* libcurl's deadline came: let it start transfers and check its timeouts. */
static void on_timer(uv_timer_t *handle)
{
    (void)handle;
    int running;
    curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
    collect_finished();
}

/* CURLMOPT_TIMERFUNCTION: call me back in ms milliseconds (-1: never mind). A 0 stays a real 0. */
static int on_timeout(CURLM *m, long ms, void *userp)
{
    (void)m;
    (void)userp;
    if (ms < 0)
        uv_timer_stop(&timer);
    else
        uv_timer_start(&timer, on_timer, (uint64_t)ms, 0);
    return 0;
}
//! [timer]

int main(int argc, char **argv)
{
    char base[256], url[512];
    cw_fixture *fixture;
    if (cw_fixture_for_demo(argc, argv, base, sizeof base, &fixture) != 0)
        return 1;
    snprintf(url, sizeof url, "%s%s", base, fixture ? "/delay/300" : ""); /* --url: that page itself */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    cw_timeline_enable(true);

//! [setup]
    uv_loop_init(&loop);
    uv_timer_init(&loop, &timer);
    multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timeout);
//! [setup]

    printf("%d non-blocking fetches of %s, all started at once:\n", N, url);
    transfer transfers[N];
    t0 = cw_now_us();
//! [start]
    for (int i = 0; i < N; i++) {
        transfer *t = &transfers[i];
        *t = (transfer){.bytes = 0};
        snprintf(t->label, sizeof t->label, "fetch %d", i + 1);
        t->span = cw_timeline_begin(CW_SPAN_USER, t->label);
        CURL *easy = curl_easy_init();
        curl_easy_setopt(easy, CURLOPT_URL, url);
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, count_body);
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, &t->bytes);
        curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
        curl_multi_add_handle(multi, easy); /* returns at once; libcurl asks for a 0 ms timer */
    }
    uv_run(&loop, UV_RUN_DEFAULT); /* returns when nothing is left to watch: all three are done */
//! [start]
    printf("%d fetches took %llu ms: they waited together.\n", N, (unsigned long long)(cw_now_us() - t0) / 1000);
    if (fixture) {
        cw_fixture_stats stats = cw_fixture_stats_get(fixture);
        printf("Server: %ld connections accepted, at most %ld open at once, %ld requests answered.\n",
               stats.accepted, stats.max_open, stats.requests);
    }
    printf("\n");
    cw_timeline_print(stdout, "Timeline: one row per fetch, the bars side by side");

//! [cleanup]
    curl_multi_cleanup(multi);                  /* may still close watches: the loop must be alive */
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);              /* runs the close callbacks */
    int open_handles = uv_loop_close(&loop);    /* 0 only when every handle is closed */
//! [cleanup]
    cw_timeline_clear();
    curl_global_cleanup();
    cw_fixture_stop(fixture);
    if (open_handles != 0)
        fprintf(stderr, "the loop still had handles open: %s\n", uv_strerror(open_handles));
    return failed || finished != N || open_handles != 0 ? 1 : 0;
}
