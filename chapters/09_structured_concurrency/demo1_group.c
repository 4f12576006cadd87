/*
 * demo1_group.c -- why gather leaks work, and how a task group does not.
 *
 * Two tasks: one fetches a slow page (600 ms), the other fails after 100 ms.
 * With gather (chapter 06) the failure comes back at once and the slow fetch
 * keeps running, unwatched, until it ends by itself. With a task group the
 * failure cancels the slow fetch, and leaving the group waits until it has
 * really stopped: when the block ends, nothing of it is still running.
 *
 * With --url URL the slow task fetches URL itself.
 */
#include <stdio.h>
#include "cw.h"
#include "cw_fixture.h"

typedef struct demo {
    cw_session *session;
    char slow_url[512], bad_url[512];
    int checks;
} demo;

static uint64_t begin_us;

static double elapsed_ms(void)
{
    return (double)(cw_now_us() - begin_us) / 1000.0;
}

static demo *d;

//! [fetch]
/* GET a URL; a status of 400 or more fails the task, as raise_for_status() would. */
static void *fetch(void *url)
{
    cw_future *request = cw_session_get(d->session, url);
    int rc = cw_await(request);
    long status = rc == 0 ? cw_response_of(request)->status : 0;
    cw_future_release(request);
    if (rc < 0)
        return cw_fail(rc, "GET %s: %s", (char *)url, cw_strerror(rc));
    if (status >= 400)
        return cw_fail(CW_EHTTP, "GET %s: status %ld", (char *)url, status);
    return NULL;
}

static void *fail_soon(void *url)
{
    cw_sleep(100);
    return fetch(url);
}
//! [fetch]

static void with_gather(void)
{
    printf("gather(fetch(slow), fail_soon()):\n");
    begin_us = cw_now_us();
//! [gather]
    cw_future *tasks[2] = { cw_spawn_named(fetch, d->slow_url, "gather: slow"),
                            cw_spawn_named(fail_soon, d->bad_url, "gather: fails") };
    cw_future *all = cw_gather(tasks, 2, false);
    int rc = cw_await(all);
    printf("  %4.0f ms: gather failed: %s\n", elapsed_ms(), cw_future_message(all));
    printf("  %4.0f ms: the slow fetch is %s\n", elapsed_ms(), cw_future_done(tasks[0]) ? "done" : "still running");
//! [gather]
    d->checks += rc == CW_EHTTP && !cw_future_done(tasks[0]);
    cw_await(tasks[0]);
    printf("  %4.0f ms: the slow fetch ended by itself: %s\n", elapsed_ms(), cw_future_message(tasks[0]));
    cw_future_release(all);
    cw_future_release_all(tasks, 2);
}

static void with_group(void)
{
    printf("\nTaskGroup: fetch(slow), fail_soon():\n");
    begin_us = cw_now_us();
//! [group]
    cw_task_group *tg;
    cw_task_group_enter(&tg);
    cw_future *slow = cw_task_group_spawn(tg, fetch, d->slow_url, "group: slow");
    cw_task_group_spawn(tg, fail_soon, d->bad_url, "group: fails");
    int rc = cw_task_group_exit(tg, 0); /* waits for both: the failure cancelled the slow one */
    printf("  %4.0f ms: the group ended: %s\n", elapsed_ms(), cw_error_name(rc));
    printf("  %4.0f ms: the slow fetch is %s\n", elapsed_ms(),
           cw_future_state(slow) == CW_CANCELLED ? "cancelled" : "not cancelled");
    int n;
    const cw_task_group_error *errors = cw_task_group_errors(tg, &n);
    for (int i = 0; i < n; i++)
        printf("  error %d: %s: %s\n", i + 1, cw_error_name(errors[i].code), errors[i].message);
    cw_task_group_free(tg);
//! [group]
    d->checks += rc == CW_EGROUP && n == 1 && cw_future_state(slow) != CW_PENDING;
}

static void *main_task(void *arg)
{
    (void)arg;
    if (cw_session_open(&d->session, NULL) < 0)
        return cw_fail(CW_EFAILED, "could not open a session");
    with_gather();
    with_group();
    cw_session_close(d->session);
    return NULL;
}

int main(int argc, char **argv)
{
    char base[400];
    cw_fixture *fixture;
    if (cw_fixture_for_demo(argc, argv, base, sizeof base, &fixture) < 0)
        return 1;
    demo the_demo = { .checks = 0 };
    d = &the_demo;
    snprintf(d->slow_url, sizeof d->slow_url, "%s%s", base, fixture ? "/delay/600" : "");
    snprintf(d->bad_url, sizeof d->bad_url, "%s", fixture ? base : "python://bad");
    if (fixture)
        snprintf(d->bad_url, sizeof d->bad_url, "%s/status/500", base);
    cw_timeline_enable(true);
    int rc = cw_run(main_task, NULL, NULL);
    printf("\n");
    cw_timeline_print(stdout, "Timeline:");
    cw_fixture_stop(fixture);
    return rc == 0 && d->checks == 2 ? 0 : 1;
}
