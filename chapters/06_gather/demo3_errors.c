/*
 * demo3_errors.c -- errors in a gather. With return_exceptions off, the first
 * error comes back at once while the other request keeps running (and
 * cancelling the finished gather cannot stop it); with return_exceptions on,
 * every slot holds a response or an error, and we filter the errors out.
 *
 * With --url URL the slow request and the good ones fetch URL itself; the
 * failing request stays python://bad, which fails the same everywhere.
 */
#include <stdio.h>
#include "cw.h"
#include "cw_fixture.h"

typedef struct demo {
    char slow_url[512], good_url[512];
    int checks; /* how many of the expected outcomes happened */
} demo;

static uint64_t begin_us;

static double elapsed_ms(void)
{
    return (double)(cw_now_us() - begin_us) / 1000.0;
}

static void exceptions_off(demo *d, cw_session *session)
{
    printf("return_exceptions off: gather(GET %s, GET python://bad)\n", d->slow_url);
    begin_us = cw_now_us();
//! [exceptions-off]
    cw_future *requests[2] = { cw_session_get(session, d->slow_url), cw_session_get(session, "python://bad") };
    cw_future *all = cw_gather(requests, 2, false);
    int rc = cw_await(all); /* fails at once, with the first error */
    printf("  %4.0f ms: the gather failed: %s (%s)\n", elapsed_ms(), cw_future_message(all), cw_error_name(rc));
    printf("  %4.0f ms: the slow request is %s\n", elapsed_ms(),
           cw_future_done(requests[0]) ? "already done" : "still running");
//! [exceptions-off]
    d->checks += rc == CW_ESCHEME;
//! [no-cancel]
    rc = cw_future_cancel(all); /* too late: the gather has finished, so this cancels nothing */
    printf("  %4.0f ms: cancelling the gather now gives %s\n", elapsed_ms(), cw_error_name(rc));
    cw_await(requests[0]);      /* the slow request went on regardless */
    printf("  %4.0f ms: the slow request finished anyway: %s\n", elapsed_ms(), cw_future_message(requests[0]));
    cw_future_release(all);
    cw_future_release_all(requests, 2);
//! [no-cancel]
    d->checks += rc == CW_EDONE;
}

static void exceptions_on(demo *d, cw_session *session)
{
    printf("\nreturn_exceptions on: gather(GET %s, GET python://bad, GET %s)\n", d->good_url, d->good_url);
    const char *urls[3] = { d->good_url, "python://bad", d->good_url };
//! [exceptions-on]
    cw_future *requests[3];
    for (int i = 0; i < 3; i++)
        requests[i] = cw_session_get(session, urls[i]);
    cw_future *all = cw_gather(requests, 3, true);
    cw_await(all); /* never fails because of a child: each slot holds a response or an error */
    cw_future **slots = cw_future_result(all);
    for (int i = 0; i < 3; i++) {
        if (cw_future_error(slots[i]) == 0)
            printf("  slot %d: status %ld\n", i, cw_response_of(slots[i])->status);
        else
            printf("  slot %d: error: %s\n", i, cw_future_message(slots[i]));
    }
//! [exceptions-on]
//! [filter]
    cw_future *succeeded[3], *failed[3];
    int n_succeeded = 0, n_failed = 0;
    for (int i = 0; i < 3; i++) {
        if (cw_future_error(slots[i]) == 0)
            succeeded[n_succeeded++] = slots[i];
        else
            failed[n_failed++] = slots[i];
    }
    printf("  %d succeeded, %d failed\n", n_succeeded, n_failed);
//! [filter]
    for (int i = 0; i < n_failed; i++)
        printf("  failed: %s\n", cw_future_message(failed[i]));
    d->checks += n_succeeded == 2 && n_failed == 1 && succeeded[0] == requests[0];
    cw_future_release(all);
    cw_future_release_all(requests, 3);
}

static void *main_task(void *arg)
{
    demo *d = arg;
    cw_session *session;
    if (cw_session_open(&session, NULL) < 0)
        return cw_fail(CW_EFAILED, "could not open a session");
    exceptions_off(d, session);
    exceptions_on(d, session);
    cw_session_close(session);
    return NULL;
}

int main(int argc, char **argv)
{
    char base[400];
    cw_fixture *fixture;
    if (cw_fixture_for_demo(argc, argv, base, sizeof base, &fixture) < 0)
        return 1;
    demo d = { .checks = 0 };
    snprintf(d.slow_url, sizeof d.slow_url, "%s%s", base, fixture ? "/delay/500" : ""); /* --url: that page */
    snprintf(d.good_url, sizeof d.good_url, "%s%s", base, fixture ? "/get" : "");
    cw_timeline_enable(true);
    int rc = cw_run(main_task, &d, NULL);
    printf("\n");
    cw_timeline_print(stdout, "Timeline:");
    cw_fixture_stop(fixture);
    return rc == 0 && d.checks == 3 ? 0 : 1;
}
