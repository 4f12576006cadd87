/*
 * demo3_bounded.c -- a semaphore caps the work in flight.
 *
 * Eight fetches of 100 ms, all spawned at once into a task group, but each
 * takes one of 2 slots of a semaphore before its request: the server never
 * sees more than 2 connections open (its most-open figure, from /stats), and
 * the timeline shows the fetches going through 2 at a time.
 *
 * With --url URL the eight fetches are of URL itself (still 2 at a time).
 */
#include <stdio.h>
#include "cw.h"
#include "cw_fixture.h"

enum { N_FETCHES = 8, SLOTS = 2 };

typedef struct demo {
    cw_session *session;
    cw_semaphore *slots;
    char url[512];
    int in_flight, most_in_flight;
} demo;

//! [bounded]
static void *bounded_fetch(void *arg)
{
    demo *d = arg;
    if (cw_semaphore_acquire(d->slots) < 0) /* async with sem: */
        return cw_fail(CW_ECANCELLED, "cancelled while waiting for a slot");
    if (++d->in_flight > d->most_in_flight)
        d->most_in_flight = d->in_flight;
    cw_future *request = cw_session_get(d->session, d->url);
    int rc = cw_await(request);
    cw_future_release(request);
    d->in_flight--;
    cw_semaphore_release(d->slots); /* on every path */
    return rc < 0 ? cw_fail(rc, "%s", cw_strerror(rc)) : NULL;
}
//! [bounded]

static void *main_task(void *arg)
{
    demo *d = arg;
    if (cw_session_open(&d->session, NULL) < 0) /* limit 100: the session would allow all 8 at once */
        return cw_fail(CW_EFAILED, "could not open a session");
//! [spawn]
    d->slots = cw_semaphore_new(SLOTS);
    cw_task_group *tg;
    cw_task_group_enter(&tg);
    for (int i = 0; i < N_FETCHES; i++) {
        char name[32];
        snprintf(name, sizeof name, "fetch %d", i + 1);
        cw_task_group_spawn(tg, bounded_fetch, d, name);
    }
    int rc = cw_task_group_exit(tg, 0);
    cw_task_group_free(tg);
    cw_semaphore_free(d->slots);
//! [spawn]
    printf("%d fetches: %s; at most %d in flight at once\n", N_FETCHES, cw_error_name(rc), d->most_in_flight);
    cw_session_close(d->session);
    return rc < 0 ? cw_fail(rc, "the group failed") : NULL;
}

int main(int argc, char **argv)
{
    char base[400];
    cw_fixture *fixture;
    if (cw_fixture_for_demo(argc, argv, base, sizeof base, &fixture) < 0)
        return 1;
    demo d = { .in_flight = 0 };
    snprintf(d.url, sizeof d.url, "%s%s", base, fixture ? "/delay/100" : "");
    cw_timeline_enable(true);
    int rc = cw_run(main_task, &d, NULL);
    long most_open = fixture ? cw_fixture_stats_get(fixture).max_open : SLOTS;
    if (fixture)
        printf("the server saw at most %ld connections open at once\n", most_open);
    printf("\n");
    cw_timeline_print(stdout, "Timeline (GET rows are the requests):");
    cw_fixture_stop(fixture);
    return rc == 0 && d.most_in_flight == SLOTS && most_open == SLOTS ? 0 : 1;
}
