/*
 * switches.c -- what a task switch costs, next to what a function call costs.
 *
 * TASKS tasks each call cw_sleep(0) ROUNDS times: every call switches from
 * the task to the loop and later back, two switches. The baseline makes the
 * same number of calls to a function the compiler may not inline.
 *
 * Usage: switches TASKS ROUNDS [own|shared]
 * own (the default): tasks from cw_spawn(); shared: from cw_spawn_on_shared_stack(),
 * whose switches also copy the task's used stack out and back.
 * Prints "SWITCHES SECONDS CALL_SECONDS" on one line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cw.h"

static int rounds;
static bool shared;

static void *yielder(void *arg)
{
    (void)arg;
    for (int i = 0; i < rounds; i++)
        if (cw_sleep(0) != 0)
            return cw_fail(CW_EFAILED, "sleep(0) failed");
    return NULL;
}

typedef struct job {
    int tasks;
    double seconds;
    int failures;
} job;

static void *main_task(void *arg)
{
    job *j = arg;
    cw_future **tasks = calloc(j->tasks, sizeof *tasks);
    for (int i = 0; i < j->tasks; i++)
        tasks[i] = shared ? cw_spawn_on_shared_stack(yielder, NULL) : cw_spawn(yielder, NULL);
    cw_sleep(0); /* let every task start (and get its stack) before the clock runs */
    uint64_t start = cw_now_us();
    cw_future *all = cw_gather(tasks, j->tasks, true);
    cw_await(all);
    j->seconds = (cw_now_us() - start) / 1e6;
    for (int i = 0; i < j->tasks; i++) {
        j->failures += cw_future_error(tasks[i]) != 0;
        cw_future_release(tasks[i]);
    }
    cw_future_release(all);
    free(tasks);
    return NULL;
}

/* The baseline: a call the compiler must make (noinline, and a side effect it cannot drop). */
__attribute__((noinline)) static void step(long *counter)
{
    __asm__ volatile("" : : "r"(counter) : "memory");
    ++*counter;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4 || atoi(argv[1]) <= 0 || atoi(argv[2]) <= 0
        || (argc == 4 && strcmp(argv[3], "own") != 0 && strcmp(argv[3], "shared") != 0)) {
        fprintf(stderr, "usage: switches TASKS ROUNDS [own|shared]\n");
        return 2;
    }
    shared = argc == 4 && strcmp(argv[3], "shared") == 0;
    job j = { .tasks = atoi(argv[1]) };
    rounds = atoi(argv[2]);
    if (cw_run(main_task, &j, NULL) != 0 || j.failures)
        return 1;
    long switches = 2L * j.tasks * rounds, counter = 0;
    uint64_t start = cw_now_us();
    for (long i = 0; i < switches; i++)
        step(&counter);
    double call_seconds = (cw_now_us() - start) / 1e6;
    printf("%ld %.6f %.6f\n", switches, j.seconds, call_seconds);
    return counter == switches ? 0 : 1;
}
