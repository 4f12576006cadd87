/*
 * tasks_get.c -- the pattern every chapter teaches, measured: a task per request, gathered.
 *
 * Each task awaits one GET on a shared session (limit connections), and the
 * main task gathers them all, as `asyncio.gather(*(fetch(url) for ...))`.
 * bench runs it next to curl_loop (the same requests through bare libcurl)
 * and aiohttp_get.py. With TASKS, that many tasks share the requests, each
 * awaiting its GETs one after another: with TASKS = LIMIT, the same requests
 * without thousands of tasks, which shows what the tasks cost apart. With
 * "shared", the tasks are spawned with cw_spawn_on_shared_stack() (they keep no
 * pointer into their own stacks, so they may): what a task costs without a
 * stack page of its own.
 *
 * Usage: tasks_get URL REQUESTS LIMIT [TASKS [shared]]
 * Prints "SECONDS FAILURES" on one line. With CW_BENCH_AGAIN=1 in the environment, it does the same
 * work a second time in the same process and prints that round's time too, "SECONDS FAILURES AGAIN":
 * the second round finds its memory already touched, as a program that has been running a while does.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cw.h"

typedef struct job {
    const char *url;
    int requests, limit, tasks, failures, rounds;
    bool shared_stack;
    double seconds[2];
    cw_session *session;
} job;

static void *fetch(void *arg)
{
    job *j = arg;
    int rc = 0;
    for (int i = 0; i < j->requests / j->tasks && rc == 0; i++) {
        cw_future *response = cw_session_get(j->session, j->url);
        rc = cw_await(response);
        cw_future_release(response);
    }
    return rc == 0 ? NULL : cw_fail(rc, "GET failed");
}

static void *main_task(void *arg)
{
    job *j = arg;
    cw_session_options options = cw_session_options_default();
    options.limit = j->limit;
    if (cw_session_open(&j->session, &options) < 0)
        return cw_fail(CW_EINVAL, "could not open a session");
    cw_future **tasks = calloc(j->tasks, sizeof *tasks);
    for (int round = 0; round < j->rounds; round++) {
        uint64_t start = cw_now_us();
        for (int i = 0; i < j->tasks; i++)
            tasks[i] = j->shared_stack ? cw_spawn_on_shared_stack(fetch, j) : cw_spawn(fetch, j);
        cw_future *all = cw_gather(tasks, j->tasks, true);
        cw_await(all);
        j->seconds[round] = (cw_now_us() - start) / 1e6;
        for (int i = 0; i < j->tasks; i++) {
            j->failures += cw_future_error(tasks[i]) != 0;
            cw_future_release(tasks[i]);
        }
        cw_future_release(all);
    }
    free(tasks);
    cw_session_close(j->session);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 6 || (argc == 6 && strcmp(argv[5], "shared") != 0)) {
        fprintf(stderr, "usage: tasks_get URL REQUESTS LIMIT [TASKS [shared]]\n");
        return 2;
    }
    job j = { .url = argv[1], .requests = atoi(argv[2]), .limit = atoi(argv[3]), .shared_stack = argc == 6 };
    j.tasks = argc >= 5 ? atoi(argv[4]) : j.requests;
    j.rounds = getenv("CW_BENCH_AGAIN") ? 2 : 1;
    if (j.requests <= 0 || j.limit < 0 || j.tasks <= 0 || j.requests % j.tasks || cw_run(main_task, &j, NULL) != 0)
        return 1;
    printf("%.6f %d", j.seconds[0], j.failures);
    if (j.rounds == 2)
        printf(" %.6f", j.seconds[1]);
    printf("\n");
    return 0;
}
