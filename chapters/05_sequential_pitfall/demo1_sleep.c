/*
 * demo1_sleep.c -- the sequential pitfall with sleeps: three tasks created and
 * awaited in one step run one after another (900 ms); created first, then
 * awaited, they run at the same time (300 ms).
 *
 * The lesson's 3-second delays are scaled down to 300 ms so the demo is quick.
 * Each version runs in its own cw_run() and draws its own timeline.
 */
#include <stdio.h>
#include "cw.h"

//! [delay]
/* asyncio's delay(seconds): sleep, then return how long we slept. */
static void *delay(void *arg)
{
    int ms = *(int *)arg;
    printf("  sleeping for %d ms\n", ms);
    cw_sleep((uint64_t)ms);
    printf("  finished sleeping for %d ms\n", ms);
    return arg;
}
//! [delay]

static int delays[] = { 300, 300, 300 };
static const char *const names[] = { "delay 1", "delay 2", "delay 3" }; /* their rows in the timeline */

//! [pitfall]
static void *create_and_await_in_one_step(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++) {
        cw_future *task = cw_spawn_named(delay, &delays[i], names[i]); /* create a task ...      */
        cw_await(task);                                                /* ... and wait for it at once */
        cw_future_release(task);
    }
    return NULL;
}
//! [pitfall]

//! [fix]
static void *create_all_then_await(void *arg)
{
    (void)arg;
    cw_future *tasks[3];
    for (int i = 0; i < 3; i++)
        tasks[i] = cw_spawn_named(delay, &delays[i], names[i]); /* create them all: none has started yet */
    for (int i = 0; i < 3; i++)
        cw_await(tasks[i]);                                     /* then wait: all three sleep together */
    cw_future_release_all(tasks, 3);
    return NULL;
}
//! [fix]

/* Run one version as a whole program run (asyncio.run), timed, with its own timeline. */
static int timed_run(cw_task_fn main_task, const char *title)
{
    printf("\n== %s ==\n", title);
    cw_timeline_clear();
    uint64_t begin = cw_now_us();
    int rc = cw_run(main_task, NULL, NULL);
    double ms = (double)(cw_now_us() - begin) / 1000.0;
    printf("=> took %.0f ms\n\n", ms);
    cw_timeline_print(stdout, "Timeline:");
    return rc;
}

int main(void)
{
    cw_timeline_enable(true);
    printf("Three tasks that each sleep 300 ms (the lesson's 3 s, scaled down).\n");
    int rc = timed_run(create_and_await_in_one_step, "Pitfall: create and await in one step (about 900 ms)");
    rc |= timed_run(create_all_then_await, "Fix: create all, then await (about 300 ms)");
    printf("\ntask 1 is the main task; delay 1 to delay 3 are the three delays.\n");
    return rc == 0 ? 0 : 1;
}
