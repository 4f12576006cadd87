/*
 * demo2_requests.c -- the sequential pitfall with requests: three GETs of
 * /delay/300 awaited one by one take 900 ms on one connection; started all
 * first, then awaited, they take 300 ms on three connections.
 *
 * The lesson's 3-second delays are scaled down to 300 ms. With --url URL the
 * three GETs fetch URL itself (e.g. https://example.org/).
 */
#include <stdio.h>
#include <string.h>
#include "cw.h"
#include "cw_fixture.h"

typedef struct demo {
    char url[512];
    int failures;
} demo;

static void report(demo *d, cw_future *request)
{
    if (cw_future_error(request) == 0) {
        printf("  status %ld\n", cw_response_of(request)->status);
    } else {
        printf("  failed: %s\n", cw_future_message(request));
        d->failures++;
    }
}

static void *one_by_one(void *arg)
{
    demo *d = arg;
    cw_session *session;
    if (cw_session_open(&session, NULL) < 0)
        return cw_fail(CW_EFAILED, "could not open a session");
//! [requests-pitfall]
    for (int i = 0; i < 3; i++) {
        cw_future *request = cw_session_get(session, d->url); /* starts at once ...       */
        cw_await(request);                                    /* ... and ends before the next starts */
        report(d, request);
        cw_future_release(request);
    }
//! [requests-pitfall]
    cw_session_close(session);
    return NULL;
}

static void *all_at_once(void *arg)
{
    demo *d = arg;
    cw_session *session;
    if (cw_session_open(&session, NULL) < 0)
        return cw_fail(CW_EFAILED, "could not open a session");
//! [requests-fix]
    cw_future *requests[3];
    for (int i = 0; i < 3; i++)
        requests[i] = cw_session_get(session, d->url); /* all three are in flight now */
    for (int i = 0; i < 3; i++) {
        cw_await(requests[i]);
        report(d, requests[i]);
    }
    cw_future_release_all(requests, 3);
//! [requests-fix]
    cw_session_close(session);
    return NULL;
}

static int timed_run(cw_task_fn main_task, demo *d, cw_fixture *fixture, const char *title)
{
    printf("\n== %s ==\n", title);
    if (fixture)
        cw_fixture_stats_reset(fixture);
    cw_timeline_clear();
    uint64_t begin = cw_now_us();
    int rc = cw_run(main_task, d, NULL);
    printf("=> took %.0f ms", (double)(cw_now_us() - begin) / 1000.0);
    if (fixture)
        printf(", at most %ld connection(s) open at once on the server", cw_fixture_stats_get(fixture).max_open);
    printf("\n\n");
    cw_timeline_print(stdout, "Timeline:");
    return rc;
}

int main(int argc, char **argv)
{
    char base[400];
    cw_fixture *fixture;
    if (cw_fixture_for_demo(argc, argv, base, sizeof base, &fixture) < 0)
        return 1;
    demo d = { .failures = 0 };
    snprintf(d.url, sizeof d.url, "%s%s", base, fixture ? "/delay/300" : ""); /* --url: that page itself */
    cw_timeline_enable(true);
    printf("Three GETs of %s.\n", d.url);
    int rc = timed_run(one_by_one, &d, fixture, "Pitfall: start and await each request in one step");
    rc |= timed_run(all_at_once, &d, fixture, "Fix: start all three, then await them");
    cw_fixture_stop(fixture);
    return rc == 0 && d.failures == 0 ? 0 : 1;
}
