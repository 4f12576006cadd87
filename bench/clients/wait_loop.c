/*
 * wait_loop.c -- `while pending: wait(FIRST_COMPLETED)` over many futures, finished one per loop turn.
 *
 * The same program as asyncio_wait_loop.py: a producer task finishes the
 * futures one by one, yielding to the loop between two, so each cw_wait()
 * in the consumer sees about one more done future than the last.
 *
 * Usage: wait_loop FUTURES
 * Prints "SECONDS WAITS" on one line.
 */
#include <stdio.h>
#include <stdlib.h>
#include "cw.h"

#ifndef CW_NO_TIMEOUT
#define CW_NO_TIMEOUT 0 /* before CW_NO_TIMEOUT existed, 0 meant "no timeout" */
#endif

typedef struct job {
    int n, waits;
    cw_future **futures;
    double seconds;
} job;

static void *producer(void *arg)
{
    job *j = arg;
    for (int i = 0; i < j->n; i++) {
        cw_future_resolve(j->futures[i], NULL, NULL);
        cw_sleep(0);
    }
    return NULL;
}

static void *main_task(void *arg)
{
    job *j = arg;
    j->futures = calloc(j->n, sizeof *j->futures);
    cw_future **pending = calloc(j->n, sizeof *pending);
    for (int i = 0; i < j->n; i++)
        pending[i] = j->futures[i] = cw_future_new();
    int n_pending = j->n;
    uint64_t start = cw_now_us();
    cw_future *produce = cw_spawn(producer, j);
    while (n_pending > 0) {
        cw_wait_sets sets;
        if (cw_wait(pending, n_pending, CW_FIRST_COMPLETED, CW_NO_TIMEOUT, &sets) != 0)
            return cw_fail(CW_EFAILED, "cw_wait failed");
        j->waits++;
        for (int i = 0; i < sets.n_pending; i++)
            pending[i] = sets.pending[i];
        n_pending = sets.n_pending;
        cw_wait_sets_free(&sets);
    }
    j->seconds = (cw_now_us() - start) / 1e6;
    cw_await(produce);
    cw_future_release(produce);
    for (int i = 0; i < j->n; i++)
        cw_future_release(j->futures[i]);
    free(j->futures);
    free(pending);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2 || atoi(argv[1]) <= 0) {
        fprintf(stderr, "usage: wait_loop FUTURES\n");
        return 2;
    }
    job j = { .n = atoi(argv[1]) };
    if (cw_run(main_task, &j, NULL) != 0)
        return 1;
    printf("%.6f %d\n", j.seconds, j.waits);
    return 0;
}
