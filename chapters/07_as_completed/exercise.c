/*
 * exercise.c -- exercise 07: handle requests as they complete with the
 * library's as_completed (part 1), then build a small as_completed of your own
 * (part 2). See exercise.h for the contract, hints.md when stuck, and
 * `make grade CH=07` to check your work.
 */
#include <stdlib.h>
#include "exercise.h"

/* ---- Part 1 ---- */

int fetch_as_completed(cw_session *session, const char *const *urls, int n, uint64_t timeout_ms,
                       arrival *steps, int *still_running)
{
    /* TODO(07.1): start a GET of every URL, then take n steps of
     * cw_as_completed_next() on an iterator made with cw_as_completed_new().
     * For each step, find the handed-out request among yours (that is its URL)
     * and record its status or error; a CW_ETIMEDOUT step records index -1.
     * Then count the requests still running, cancel them, release everything. */
    (void)session;
    (void)urls;
    (void)n;
    (void)timeout_ms;
    (void)steps;
    (void)still_running;
    return CW_EFAILED;
}

/* ---- Part 2 ---- */

int my_as_completed_init(my_as_completed *it, cw_future **futures, int n, uint64_t timeout_ms)
{
    /* TODO(07.2): zero *it, copy and retain the futures, add a done callback to
     * each that appends it to it->finished and resolves it->wakeup; with a
     * timeout, spawn a task that sleeps timeout_ms and give it a done callback
     * that sets it->timed_out and resolves it->wakeup. */
    if (it)
        *it = (my_as_completed){ 0 };
    (void)futures;
    (void)n;
    (void)timeout_ms;
    return CW_EFAILED;
}

int my_as_completed_next(my_as_completed *it, cw_future **out)
{
    /* TODO(07.3): CW_EEOF after n steps. While the queue holds nothing new and
     * the deadline has not passed, await a fresh it->wakeup. Then hand out the
     * next queued future, or count a CW_ETIMEDOUT step. */
    (void)it;
    if (out)
        *out = NULL;
    return CW_EFAILED;
}

void my_as_completed_cleanup(my_as_completed *it)
{
    /* TODO(07.4): remove your done callbacks and release every future; cancel
     * and release the deadline task; free the arrays; zero *it. Cancel nothing else. */
    (void)it;
}
