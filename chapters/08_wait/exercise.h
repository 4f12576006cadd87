/**
 * @file exercise.h
 * @brief Exercise 08: done and pending sets, with the library's wait and with your own.
 *
 * Part 1: the library's cw_wait() on real requests: one wait for a condition
 * (fetch_and_wait()), and a loop of FIRST_COMPLETED waits until nothing is
 * pending (fetch_until_none_pending()).
 *
 * Part 2: my_wait(), a small wait of your own, built from futures and done
 * callbacks (no cw_wait()). All the functions here suspend, so call them
 * inside a task.
 */
#ifndef EXERCISE_08_H
#define EXERCISE_08_H

#include <stdbool.h>
#include <stdint.h>
#include "cw.h"

/* ---- Part 1: the library's wait on real requests ---- */

/** How one request ended up when the wait returned. */
typedef struct outcome {
    bool done;   /**< it was in the done set */
    long status; /**< its response's HTTP status when it was done without error; else 0 */
    int error;   /**< 0; its error when it was done and failed (e.g. CW_ESCHEME); CW_ECANCELLED when it was
                      pending and you cancelled it */
} outcome;

/**
 * @brief Fetch @p n URLs concurrently, wait until @p when holds or the timeout passes, cancel the rest.
 *
 * The requests run at the same time through @p session; one cw_wait() decides
 * which are done. outcomes[i] describes urls[i]: a done request's error, or its
 * status when it has none (a failed request has no response to read); a
 * request still pending is cancelled (wait itself cancels nothing) and marked
 * not done, CW_ECANCELLED. Nothing created is left when it returns.
 * @param session an open session.
 * @param urls the URLs.
 * @param n how many (at least 1).
 * @param when CW_ALL_COMPLETED, CW_FIRST_COMPLETED or CW_FIRST_EXCEPTION.
 * @param timeout_ms 0 = no timeout.
 * @param outcomes n slots: outcomes[i] for urls[i].
 * @return how many requests were done (a timeout is not an error), or a
 *         negative code when cw_wait() itself failed (CW_EINVAL for bad arguments).
 */
int fetch_and_wait(cw_session *session, const char *const *urls, int n, cw_return_when when,
                   uint64_t timeout_ms, outcome *outcomes);

/**
 * @brief Handle requests as they finish, by waiting with CW_FIRST_COMPLETED until nothing is pending.
 *
 * The requests run at the same time; each is handled (its place noted in
 * @p order, its outcome read) as soon as a FIRST_COMPLETED wait reports it
 * done, in the order of that wait's done set, until none is pending. Each
 * wait covers only the requests not handled yet. Nothing created is left
 * when it returns.
 * @param session an open session.
 * @param urls the URLs.
 * @param n how many (at least 1).
 * @param order n slots: order[k] receives the index (into @p urls) of the k-th request handled.
 * @param rounds receives how many times cw_wait() was called.
 * @return 0, or the first error of cw_wait() (CW_EINVAL for bad arguments).
 */
int fetch_until_none_pending(cw_session *session, const char *const *urls, int n, int *order, int *rounds);

/* ---- Part 2: a small wait of your own ---- */

/**
 * @brief asyncio.wait: suspend until @p when holds or the timeout expires, then split the futures.
 *
 * @p sets receives the original pointers, done and pending, each in input
 * order, in arrays allocated with malloc() (so that cw_wait_sets_free() frees
 * them). Every future finished when my_wait() returns is in done, even with
 * CW_FIRST_COMPLETED (several may finish in the same loop turn).
 * CW_ALL_COMPLETED returns when all have finished; CW_FIRST_COMPLETED when one
 * has; CW_FIRST_EXCEPTION when one fails (a cancelled one does not count, as in
 * asyncio), else when all have finished. A timeout is not an error and cancels
 * nothing, and neither does my_wait() otherwise. The futures outlive the call:
 * once my_wait() has returned, nothing of it runs any more (no callback of it
 * left on any future, nor on whatever measures the timeout).
 * @param futures the futures (not retained: the caller keeps its references).
 * @param n how many; 0 is an error.
 * @param when the condition.
 * @param timeout_ms 0 = no timeout.
 * @param sets filled on return (zeroed first, also on error).
 * @return 0; CW_EINVAL for a NULL or empty input; CW_ECANCELLED when the
 *         calling task was cancelled while waiting.
 */
int my_wait(cw_future **futures, int n, cw_return_when when, uint64_t timeout_ms, cw_wait_sets *sets);

#endif
