/*
 * demo2_pool_limits.c -- the connection pool and its limits. Many slow
 * requests are started at once; the session never opens more connections than
 * its limit (100 by default), and queues the rest until a connection is free.
 * The fixture server reports the most connections it saw open at once.
 * The lesson's 1-second delays are scaled down to 300 ms. Runs against the
 * embedded fixture server, or with `--url URL` fetches URL itself (then with
 * fewer requests, and without the server's counts).
 */
#include <stdio.h>
#include <stdlib.h>
#include "cw.h"
#include "cw_fixture.h"

typedef struct job {
    const char *base;
    cw_fixture *fixture; /* NULL with --url */
} job;

//! [start_all]
/* Start n GETs at once, then await them all; the session queues what is over its limit. */
static void get_all(cw_session *session, const char *url, int n)
{
    cw_future **requests = calloc((size_t)n, sizeof *requests);
    for (int i = 0; i < n; i++)
        requests[i] = cw_session_get(session, url);
    for (int i = 0; i < n; i++)
        cw_await(requests[i]);
    cw_future_release_all(requests, n);
    free(requests);
}
//! [start_all]

static void run(const job *j, const char *title, const cw_session_options *options, int n)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", j->base, j->fixture ? "/delay/300" : ""); /* --url: that page itself */
    if (j->fixture) {
        for (int i = 0; i < 100 && cw_fixture_stats_get(j->fixture).open > 0; i++)
            cw_sleep(10);                          /* let the server see the last run's connections go */
        cw_fixture_stats_reset(j->fixture);
    }
    uint64_t started = cw_now_us();

    cw_session *session;
    cw_session_open(&session, options);
    get_all(session, url, n);
    cw_session_close(session);

    printf("%-34s %3d requests in %5.0f ms", title, n, (double)(cw_now_us() - started) / 1000.0);
    if (j->fixture)
        printf(", at most %3ld connections open at once", cw_fixture_stats_get(j->fixture).max_open);
    printf("\n");
}

static void *demo(void *arg)
{
    const job *j = arg;
    int many = j->fixture ? 150 : 10;

    run(j, "Default session (limit 100):", NULL, many);

    //! [limits]
    cw_session_options five = cw_session_options_default();
    five.limit = 5;                                /* TCPConnector(limit=5) */

    cw_session_options per_host = cw_session_options_default();
    per_host.limit_per_host = 3;                   /* TCPConnector(limit_per_host=3) */
    //! [limits]

    cw_timeline_enable(true);                      /* draw only these runs: 150 rows would not fit */
    run(j, "limit = 5:", &five, 10);
    run(j, "limit_per_host = 3:", &per_host, 6);
    return NULL;
}

int main(int argc, char **argv)
{
    char base[512];
    job j = { .base = base };
    if (cw_fixture_for_demo(argc, argv, base, sizeof base, &j.fixture) < 0)
        return 1;
    int rc = cw_run(demo, &j, NULL);
    printf("\n");
    cw_timeline_print(stdout, "limit 5: ten 300 ms requests in two waves; then limit_per_host 3: six in two waves");
    cw_fixture_stop(j.fixture);
    return rc == 0 ? 0 : 1;
}
