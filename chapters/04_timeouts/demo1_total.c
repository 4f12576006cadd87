/*
 * demo1_total.c -- the total timeout: 5 minutes by default, set per session,
 * and replaced per request. A session with a 500 ms total lets /delay/200
 * through and cuts /delay/1000 short; the same request with a request-level
 * total of 1500 ms succeeds, because the request's timeouts replace the
 * session's. The lesson's seconds are scaled down to hundreds of milliseconds.
 * Runs against the embedded fixture server; with `--url URL` the quick page is
 * URL itself, and the slow page that must time out still comes from a fixture
 * server of the demo's own.
 */
#include <stdio.h>
#include "cw.h"
#include "cw_fixture.h"

typedef struct job {
    char page[512]; /* /delay/200, or with --url the URL itself */
    char slow[512]; /* /delay/1000, always from a fixture server: it must be slow */
} job;

//! [fetch]
static void fetch(cw_session *session, const char *url, const cw_timeouts *timeouts, const char *how)
{
    cw_request request = { .url = url, .timeouts = timeouts };
    uint64_t started = cw_now_us();
    cw_future *f = cw_session_request(session, &request);
    int rc = cw_await(f);
    double ms = (double)(cw_now_us() - started) / 1000.0;
    if (rc == 0)
        printf("  GET %-34s %-30s -> %ld after %4.0f ms\n", url, how, cw_response_of(f)->status, ms);
    else
        printf("  GET %-34s %-30s -> %s after %4.0f ms\n", url, how, cw_error_name(rc), ms);
    cw_future_release(f);
}
//! [fetch]

static void *demo(void *arg)
{
    const job *j = arg;
    cw_timeouts defaults = cw_session_options_default().timeouts; /* 0: off, as None in aiohttp */
    printf("Default timeouts (ms): total %lu, connect %lu, sock_connect %lu, sock_read %lu\n\n", defaults.total_ms,
           defaults.connect_ms, defaults.sock_connect_ms, defaults.sock_read_ms);

    //! [session_timeout]
    cw_session_options options = cw_session_options_default();
    options.timeouts.total_ms = 500;               /* ClientTimeout(total=0.5) for every request */
    cw_session *session;
    cw_session_open(&session, &options);
    //! [session_timeout]

    fetch(session, j->page, NULL, "(session: total 500 ms)");
    fetch(session, j->slow, NULL, "(session: total 500 ms)");

    //! [request_timeout]
    cw_timeouts patient = { .total_ms = 1500 };    /* replaces the session's timeouts, all of them */
    fetch(session, j->slow, &patient, "(request: total 1500 ms)");
    //! [request_timeout]
    fetch(session, j->page, NULL, "(session again, still usable)");

    cw_session_close(session);
    return NULL;
}

int main(int argc, char **argv)
{
    char base[400];
    cw_fixture *fixture;
    if (cw_fixture_for_demo(argc, argv, base, sizeof base, &fixture) < 0)
        return 1;
    /* A timeout needs a page that is slow for sure: with --url, a fixture server of our own serves it. */
    cw_fixture *own = fixture ? NULL : cw_fixture_start(0);
    if (!fixture && !own)
        return 1;
    job j;
    snprintf(j.page, sizeof j.page, "%s%s", base, fixture ? "/delay/200" : ""); /* --url: that page itself */
    cw_fixture_url(fixture ? fixture : own, "/delay/1000", j.slow, sizeof j.slow);
    cw_timeline_enable(true);
    int rc = cw_run(demo, &j, NULL);
    printf("\n");
    cw_timeline_print(stdout, "Total timeouts: 500 ms from the session, 1500 ms from one request");
    cw_fixture_stop(own);
    cw_fixture_stop(fixture);
    return rc == 0 ? 0 : 1;
}
