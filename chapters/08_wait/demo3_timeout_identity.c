/*
 * demo3_timeout_identity.c -- a wait with a timeout returns both sets and
 * neither fails nor cancels; because the sets hold the very pointers you
 * passed, you can tell which task is too slow and cancel that one. Each
 * fetch is wrapped in a task (request plus whatever processing follows), so
 * the unit you wait on, compare and cancel is one task per fetch.
 *
 * Fetches take 100 and 1000 ms with a 500 ms timeout (the lesson's seconds,
 * scaled down). With --url URL the quick fetch is URL itself; the slow one,
 * which must outlast the timeout, still comes from a fixture server of the
 * demo's own.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "cw.h"
#include "cw_fixture.h"

typedef struct fetch {
    cw_session *session;
    char url[512];
} fetch;

typedef struct demo {
    fetch quick, slow;
    bool slow_was_pending, slow_cancelled;
} demo;

//! [task]
/* One fetch, wrapped in a task: its result is the response status. */
static void *fetch_status(void *arg)
{
    fetch *f = arg;
    cw_future *request = cw_session_get(f->session, f->url);
    int rc = cw_await(request);
    long status = rc == 0 ? cw_response_of(request)->status : 0;
    cw_future_release(request);
    if (rc != 0)
        return cw_fail(rc, "GET %s failed", f->url);
    return (void *)(intptr_t)status;
}
//! [task]

static void *demo_main(void *arg)
{
    demo *d = arg;
    cw_session *session;
    if (cw_session_open(&session, NULL) < 0)
        return cw_fail(CW_EFAILED, "could not open a session");
    d->quick.session = d->slow.session = session;
    uint64_t begin = cw_now_us();
//! [timeout]
    cw_future *quick = cw_spawn_named(fetch_status, &d->quick, "quick fetch"); /* the names label the timeline */
    cw_future *slow = cw_spawn_named(fetch_status, &d->slow, "slow fetch");
    cw_future *tasks[2] = { quick, slow };
    cw_wait_sets sets;
    int rc = cw_wait(tasks, 2, CW_ALL_COMPLETED, 500, &sets); /* 0: a timeout is not an error */
    printf("  after %.0f ms, cw_wait() returned %d: %d done, %d pending\n", (double)(cw_now_us() - begin) / 1000.0,
           rc, sets.n_done, sets.n_pending);
//! [timeout]
//! [identity]
    for (int i = 0; i < sets.n_pending; i++) {
        if (sets.pending[i] == slow) { /* the very pointer we passed in */
            printf("  the slow fetch is pending, still running: cancelling it\n");
            cw_future_cancel(slow);
            d->slow_was_pending = true;
        }
    }
    cw_wait_sets_free(&sets);
    cw_await(slow); /* returns CW_ECANCELLED once the task has stopped */
    d->slow_cancelled = cw_future_state(slow) == CW_CANCELLED;
    printf("  quick fetch: status %ld; slow fetch: %s\n", (long)(intptr_t)cw_future_result(quick),
           d->slow_cancelled ? "cancelled" : cw_future_message(slow));
    cw_future_release_all(tasks, 2);
//! [identity]
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
    demo d = { .slow_was_pending = false };
    snprintf(d.quick.url, sizeof d.quick.url, "%s%s", base, fixture ? "/delay/100" : ""); /* --url: that page */
    cw_fixture_url(fixture ? fixture : own, "/delay/1000", d.slow.url, sizeof d.slow.url);
    cw_timeline_enable(true);
    printf("Two fetches, each in a task, taking 100 and 1000 ms, waited on with a 500 ms timeout:\n");
    int rc = cw_run(demo_main, &d, NULL);
    printf("\n");
    cw_timeline_print(stdout, "Timeline (the slow fetch and its request end cancelled):");
    cw_fixture_stop(own);
    cw_fixture_stop(fixture);
    bool expected = d.slow_was_pending && d.slow_cancelled;
    return rc == 0 && expected ? 0 : 1;
}
