/*
 * demo2_timeout.c -- a timeout scope: one deadline over a block of awaits.
 *
 * Three fetches of 200 ms one after the other, under one deadline of 500 ms:
 * a timeout on each request (chapter 04) would let all three through, 600 ms
 * in all; the scope stops the third at 500 ms and says CW_ETIMEDOUT. Then
 * nested scopes: an inner 100 ms scope around an optional fetch times out by
 * itself, and the outer block carries on, untouched.
 *
 * With --url URL every fetch is of URL itself.
 */
#include <stdio.h>
#include "cw.h"
#include "cw_fixture.h"

typedef struct demo {
    cw_session *session;
    char step_url[512], optional_url[512];
    int checks;
} demo;

static uint64_t begin_us;

static double elapsed_ms(void)
{
    return (double)(cw_now_us() - begin_us) / 1000.0;
}

static int get(demo *d, const char *url)
{
    cw_future *request = cw_session_get(d->session, url);
    int rc = cw_await(request);
    cw_future_release(request);
    return rc;
}

static void one_deadline(demo *d)
{
    printf("async with timeout(0.5): three fetches of 200 ms, one after the other\n");
    begin_us = cw_now_us();
//! [batch]
    cw_timeout *cm;
    cw_timeout_enter(&cm, 500);
    int rc = 0, fetched = 0;
    for (int i = 0; i < 3 && rc == 0; i++) {
        rc = get(d, d->step_url); /* the await that is running at 500 ms returns CW_ECANCELLED */
        if (rc == 0)
            printf("  %4.0f ms: fetch %d done\n", elapsed_ms(), ++fetched);
    }
    bool expired = cw_timeout_expired(cm);
    rc = cw_timeout_exit(cm, rc); /* the scope's own cancellation becomes CW_ETIMEDOUT */
    printf("  %4.0f ms: the block ended: %s (expired: %s)\n", elapsed_ms(), cw_error_name(rc),
           expired ? "yes" : "no");
//! [batch]
    d->checks += rc == CW_ETIMEDOUT && fetched == 2;
}

static void nested(demo *d)
{
    printf("\nasync with timeout(1): an optional fetch under timeout(0.1), then a 200 ms fetch\n");
    begin_us = cw_now_us();
//! [nested]
    cw_timeout *outer, *inner;
    cw_timeout_enter(&outer, 1000);
    cw_timeout_enter(&inner, 100);
    int rc = cw_timeout_exit(inner, get(d, d->optional_url)); /* the inner scope owns this timeout */
    printf("  %4.0f ms: the optional fetch: %s\n", elapsed_ms(), cw_error_name(rc));
    rc = get(d, d->step_url); /* "except TimeoutError: pass", and on */
    printf("  %4.0f ms: the next fetch: %s\n", elapsed_ms(), cw_error_name(rc));
    rc = cw_timeout_exit(outer, rc);
    printf("  %4.0f ms: the outer block ended: %s\n", elapsed_ms(), cw_error_name(rc));
//! [nested]
    d->checks += rc == 0;
}

static void *main_task(void *arg)
{
    demo *d = arg;
    if (cw_session_open(&d->session, NULL) < 0)
        return cw_fail(CW_EFAILED, "could not open a session");
    one_deadline(d);
    nested(d);
    cw_session_close(d->session);
    return NULL;
}

int main(int argc, char **argv)
{
    char base[400];
    cw_fixture *fixture;
    if (cw_fixture_for_demo(argc, argv, base, sizeof base, &fixture) < 0)
        return 1;
    demo d = { .checks = 0 };
    snprintf(d.step_url, sizeof d.step_url, "%s%s", base, fixture ? "/delay/200" : "");
    snprintf(d.optional_url, sizeof d.optional_url, "%s%s", base, fixture ? "/delay/300" : "");
    cw_timeline_enable(true);
    int rc = cw_run(main_task, &d, NULL);
    printf("\n");
    cw_timeline_print(stdout, "Timeline:");
    cw_fixture_stop(fixture);
    return rc == 0 && (d.checks == 2 || !fixture) ? 0 : 1;
}
