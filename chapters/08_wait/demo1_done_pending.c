/*
 * demo1_done_pending.c -- cw_wait() splits requests into done and pending.
 * With CW_ALL_COMPLETED, a good URL and `python://bad` both end up done, and
 * each done request is checked for an error before its response is used.
 * With CW_FIRST_EXCEPTION the wait returns at the first failure (a request
 * given a 200 ms timeout), and the requests still pending are cancelled by
 * hand: wait cancels nothing.
 *
 * The slow requests take 1000 ms (the lesson's seconds, scaled down). With
 * --url URL the good request fetches URL itself; the slow ones, which must
 * outlast the timeout, still come from a fixture server of the demo's own.
 */
#include <stdio.h>
#include <string.h>
#include "cw.h"
#include "cw_fixture.h"

typedef struct demo {
    char good[512], slow[512];
    int results, errors, cancelled;
} demo;

//! [check]
/* A done request holds a response or an error: look at the error first. */
static void report(demo *d, cw_future *request)
{
    if (cw_future_error(request) == 0) {
        printf("    done: status %ld from %s\n", cw_response_of(request)->status, cw_response_of(request)->url);
        d->results++;
    } else {
        printf("    done: failed, %s\n", cw_future_message(request));
        d->errors++;
    }
}
//! [check]

static void all_completed(demo *d, cw_session *session)
{
    printf("CW_ALL_COMPLETED, one good URL and python://bad:\n");
//! [all]
    cw_future *requests[2] = { cw_session_get(session, d->good), cw_session_get(session, "python://bad") };
    cw_wait_sets sets;
    if (cw_wait(requests, 2, CW_ALL_COMPLETED, CW_NO_TIMEOUT, &sets) == 0) {
        printf("  %d done, %d pending\n", sets.n_done, sets.n_pending);
        for (int i = 0; i < sets.n_done; i++)
            report(d, sets.done[i]);
        cw_wait_sets_free(&sets);
    }
    cw_future_release_all(requests, 2);
//! [all]
}

static void first_exception(demo *d, cw_session *session)
{
    printf("\nCW_FIRST_EXCEPTION, three slow URLs, the second with a 200 ms timeout:\n");
    uint64_t begin = cw_now_us();
    cw_timeouts impatient = { .total_ms = 200 };
    cw_request doomed = { .url = d->slow, .timeouts = &impatient };
//! [first-exception]
    cw_future *requests[3] = { cw_session_get(session, d->slow), cw_session_request(session, &doomed),
                               cw_session_get(session, d->slow) };
    cw_wait_sets sets;
    if (cw_wait(requests, 3, CW_FIRST_EXCEPTION, CW_NO_TIMEOUT, &sets) == 0) {
        printf("  after %.0f ms: %d done, %d pending\n", (double)(cw_now_us() - begin) / 1000.0, sets.n_done,
               sets.n_pending);
        for (int i = 0; i < sets.n_done; i++)
            report(d, sets.done[i]);
        for (int i = 0; i < sets.n_pending; i++) {
            cw_future_cancel(sets.pending[i]); /* wait never cancels: we do */
            printf("    pending: cancelled\n");
            d->cancelled++;
        }
        cw_wait_sets_free(&sets);
    }
    cw_future_release_all(requests, 3);
//! [first-exception]
}

static void *demo_main(void *arg)
{
    demo *d = arg;
    cw_session *session;
    if (cw_session_open(&session, NULL) < 0)
        return cw_fail(CW_EFAILED, "could not open a session");
    all_completed(d, session);
    first_exception(d, session);
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
    snprintf(d.good, sizeof d.good, "%s%s", base, fixture ? "/get" : ""); /* --url: that page itself */
    cw_fixture_url(fixture ? fixture : own, "/delay/1000", d.slow, sizeof d.slow);
    cw_timeline_enable(true);
    int rc = cw_run(demo_main, &d, NULL);
    printf("\n%d result(s), %d error(s), %d cancelled\n\n", d.results, d.errors, d.cancelled);
    cw_timeline_print(stdout, "Timeline (the impatient request times out; the other two end cancelled):");
    cw_fixture_stop(own);
    cw_fixture_stop(fixture);
    bool expected = d.results == 1 && d.errors == 2 && d.cancelled == 2;
    return rc == 0 && expected ? 0 : 1;
}
