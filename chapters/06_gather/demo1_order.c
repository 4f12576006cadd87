/*
 * demo1_order.c -- gather hands back results in the order they were given,
 * whatever order they finish in: delays of 300 ms and 100 ms give [300, 100].
 * Then the same with two requests, /delay/300 and /delay/100.
 *
 * The lesson's delays of 3 s and 1 s are scaled down to 300 ms and 100 ms.
 * With --url URL both requests fetch URL itself (e.g. https://example.org/):
 * the slots still come back in the order the requests were given.
 */
#include <stdio.h>
#include "cw.h"
#include "cw_fixture.h"

static uint64_t begin_us;

static double elapsed_ms(void)
{
    return (double)(cw_now_us() - begin_us) / 1000.0;
}

//! [delay]
static void *delay(void *arg)
{
    int ms = *(int *)arg;
    cw_sleep((uint64_t)ms);
    printf("  %4.0f ms: delay(%d) finished\n", elapsed_ms(), ms);
    return arg;
}
//! [delay]

typedef struct demo {
    char slow_url[512], fast_url[512];
    int in_order;
} demo;

static void gather_delays(demo *d)
{
//! [gather-delays]
    static int delays[] = { 300, 100 };
    cw_future *tasks[2] = { cw_spawn_named(delay, &delays[0], "delay(300)"),
                            cw_spawn_named(delay, &delays[1], "delay(100)") }; /* named for the timeline */
    cw_future *all = cw_gather(tasks, 2, false);
    if (cw_await(all) == 0) {
        cw_future **done = cw_future_result(all); /* the tasks again, in the order given */
        int first = *(int *)cw_future_result(done[0]), second = *(int *)cw_future_result(done[1]);
        printf("  %4.0f ms: gather gave [%d, %d]\n", elapsed_ms(), first, second);
        d->in_order += first == 300 && second == 100;
    }
    cw_future_release(all);
    cw_future_release_all(tasks, 2);
//! [gather-delays]
}

static void gather_requests(demo *d, cw_session *session)
{
//! [gather-requests]
    cw_future *requests[2] = { cw_session_get(session, d->slow_url), cw_session_get(session, d->fast_url) };
    cw_future *all = cw_gather(requests, 2, false);
    if (cw_await(all) == 0) {
        cw_future **done = cw_future_result(all);
        for (int i = 0; i < 2; i++)
            printf("  %4.0f ms: slot %d: %ld from %s\n", elapsed_ms(), i, cw_response_of(done[i])->status,
                   cw_response_of(done[i])->url);
        d->in_order += done[0] == requests[0] && done[1] == requests[1];
    } else {
        printf("  the gather failed: %s\n", cw_future_message(all));
    }
    cw_future_release(all);
    cw_future_release_all(requests, 2);
//! [gather-requests]
}

static void *main_task(void *arg)
{
    demo *d = arg;
    printf("gather(delay(300), delay(100)):\n");
    begin_us = cw_now_us();
    gather_delays(d);

    cw_session *session;
    if (cw_session_open(&session, NULL) < 0)
        return cw_fail(CW_EFAILED, "could not open a session");
    printf("\ngather(GET %s, GET %s):\n", d->slow_url, d->fast_url);
    begin_us = cw_now_us();
    gather_requests(d, session);
    cw_session_close(session);
    return NULL;
}

int main(int argc, char **argv)
{
    char base[400];
    cw_fixture *fixture;
    if (cw_fixture_for_demo(argc, argv, base, sizeof base, &fixture) < 0)
        return 1;
    demo d = { .in_order = 0 };
    snprintf(d.slow_url, sizeof d.slow_url, "%s%s", base, fixture ? "/delay/300" : ""); /* --url: that page */
    snprintf(d.fast_url, sizeof d.fast_url, "%s%s", base, fixture ? "/delay/100" : "");
    cw_timeline_enable(true);
    int rc = cw_run(main_task, &d, NULL);
    printf("\n");
    cw_timeline_print(stdout, "Timeline (task 1 is main):");
    cw_fixture_stop(fixture);
    return rc == 0 && d.in_order == 2 ? 0 : 1;
}
