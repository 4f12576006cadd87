/*
 * demo2_timeout.c -- as_completed with a timeout: of three GETs taking 100,
 * 100 and 1000 ms, two finish within the 500 ms deadline and the last step
 * fails with CW_ETIMEDOUT. The timeout cancels nothing: the slow request is
 * shown still running in the background, then cancelled by hand.
 *
 * The lesson's 1, 1 and 10 s delays and 5 s timeout are scaled down to 100,
 * 100, 1000 and 500 ms. With --url URL the two quick requests fetch URL
 * itself; the slow one, which must time out, still comes from a fixture
 * server of the demo's own.
 */
#include <stdio.h>
#include <string.h>
#include "cw.h"
#include "cw_fixture.h"

enum { N = 3, TIMEOUT_MS = 500 };

typedef struct demo {
    char urls[N][512];
    int results, timeouts, failures;
} demo;

static const char *state_name(cw_state state)
{
    static const char *const names[] = { "still running", "finished", "failed", "cancelled" };
    return names[state];
}

static void *fetch_with_deadline(void *arg)
{
    demo *d = arg;
    cw_session *session;
    if (cw_session_open(&session, NULL) < 0)
        return cw_fail(CW_EFAILED, "could not open a session");
    uint64_t begin = cw_now_us();
    cw_future *requests[N];
    for (int i = 0; i < N; i++)
        requests[i] = cw_session_get(session, d->urls[i]);

//! [timeout]
    cw_as_completed *it = cw_as_completed_new(requests, N, TIMEOUT_MS);
    for (int step = 0; step < N; step++) {
        cw_future *done;
        int rc = cw_as_completed_next(it, &done);
        printf("  step %d after %4.0f ms: ", step, (double)(cw_now_us() - begin) / 1000.0);
        if (rc == CW_ETIMEDOUT) {
            printf("%s\n", cw_error_name(rc)); /* asyncio raises TimeoutError here */
            d->timeouts++;
        } else if (cw_future_error(done) == 0) {
            printf("status %ld\n", cw_response_of(done)->status);
            d->results++;
        } else {
            printf("failed: %s\n", cw_future_message(done));
            d->failures++;
        }
    }
    cw_as_completed_free(it);
//! [timeout]

//! [still-running]
    cw_sleep(200); /* the deadline has passed, and yet ... */
    for (int i = 0; i < N; i++)
        printf("  request %d after %4.0f ms: %s\n", i, (double)(cw_now_us() - begin) / 1000.0,
               state_name(cw_future_state(requests[i])));
    for (int i = 0; i < N; i++)
        if (!cw_future_done(requests[i]))
            cw_future_cancel(requests[i]); /* stopping them is our job */
    printf("  after cancelling, request %d is %s\n", N - 1, state_name(cw_future_state(requests[N - 1])));
    cw_future_release_all(requests, N);
//! [still-running]
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
    demo d = { .results = 0 };
    const char *paths[N] = { "/delay/100", "/delay/100", "/delay/1000" };
    for (int i = 0; i < N - 1; i++)
        snprintf(d.urls[i], sizeof d.urls[i], "%s%s", base, fixture ? paths[i] : ""); /* --url: that page */
    cw_fixture_url(fixture ? fixture : own, paths[N - 1], d.urls[N - 1], sizeof d.urls[N - 1]);
    cw_timeline_enable(true);

    printf("Three GETs taking 100, 100 and 1000 ms, handled as they complete, with a %d ms timeout:\n",
           TIMEOUT_MS);
    int rc = cw_run(fetch_with_deadline, &d, NULL);
    printf("\n%d result(s), %d timeout(s), %d failure(s)\n\n", d.results, d.timeouts, d.failures);
    cw_timeline_print(stdout, "Timeline (the slow request runs past the deadline until it is cancelled):");
    cw_fixture_stop(own);
    cw_fixture_stop(fixture);
    /* Against the fixture server the outcome is exact: two results, one timeout; a real site may be slower. */
    bool expected = fixture ? d.results == 2 && d.timeouts == 1 : d.timeouts >= 1 && d.failures == 0;
    return rc == 0 && expected ? 0 : 1;
}
