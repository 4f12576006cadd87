/*
 * demo4_callbacks.c -- the two pieces gather is made of: a done callback, which
 * runs the moment a future finishes, and a future of our own, which we finish
 * ourselves. Three delays (300, 100, 200 ms) count down; the last callback
 * resolves a future that the main task is awaiting.
 */
#include <stdio.h>
#include "cw.h"

static void *delay(void *arg)
{
    cw_sleep((uint64_t) * (int *)arg);
    return arg;
}

typedef struct countdown {
    int remaining;
    cw_future *all_done; /* a future of our own: nothing but our callback finishes it */
} countdown;

//! [callback]
static void on_delay_done(cw_future *task, void *arg)
{
    countdown *c = arg;
    c->remaining--;
    printf("  delay(%d) finished, %d to go\n", *(int *)cw_future_result(task), c->remaining);
    if (c->remaining == 0)
        cw_future_resolve(c->all_done, NULL, NULL); /* wakes every task awaiting it */
}
//! [callback]

static void *main_task(void *arg)
{
    (void)arg;
//! [countdown]
    static int delays[] = { 300, 100, 200 };
    static const char *const names[] = { "delay(300)", "delay(100)", "delay(200)" }; /* for the timeline */
    countdown c = { .remaining = 3, .all_done = cw_future_new() };
    cw_future *tasks[3];
    for (int i = 0; i < 3; i++) {
        tasks[i] = cw_spawn_named(delay, &delays[i], names[i]);
        cw_future_on_done(tasks[i], on_delay_done, &c);
    }
    cw_await(c.all_done); /* suspends until the last callback resolves it */
    printf("  all three are done\n");
    cw_future_release(c.all_done);
    cw_future_release_all(tasks, 3);
//! [countdown]
    return NULL;
}

int main(void)
{
    cw_timeline_enable(true);
    printf("Three delays with a done callback each:\n");
    int rc = cw_run(main_task, NULL, NULL);
    printf("\n");
    cw_timeline_print(stdout, "Timeline (task 1 is main):");
    return rc == 0 ? 0 : 1;
}
