/**
 * @file exercise.h
 * @brief Exercise 08: done and pending sets, with the library's wait and with your own.
 *
 * Part 1: fetch_and_wait() starts every request, waits with cw_wait() for the
 * condition given, checks each done request for an error before using its
 * response, and cancels the requests still pending; fetch_until_none_pending()
 * handles requests as they finish with a loop of FIRST_COMPLETED waits.
 *
 * Part 2: my_wait() is a small cw_wait() of your own, built from done
 * callbacks, with the same contract (cw_combine.h). All the functions here
 * suspend, so call them inside a task.
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
 * Start a GET of every URL through @p session, then call cw_wait() once. For
 * each request in the done set, fill its outcome (found by its place among
 * your requests): its error, or its status when it has none. Cancel each
 * request in the pending set and mark its outcome not done, CW_ECANCELLED.
 * Release everything before returning.
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
 * Start a GET of every URL, then loop: wait on the requests still pending
 * with CW_FIRST_COMPLETED, handle every request in the done set (in the order
 * of the set), and go on with the pending set, until it is empty.
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
 * Same contract as cw_wait(): @p sets receives the original pointers, done and
 * pending, each in input order, in arrays allocated with malloc() (so that
 * cw_wait_sets_free() frees them). A timeout is not an error and cancels
 * nothing; every future finished when you return is in done, even with
 * CW_FIRST_COMPLETED. CW_FIRST_EXCEPTION returns when one future fails (a
 * cancelled one does not count, as in asyncio), else when all have finished. Before returning, remove every
 * callback you added: the futures outlive the call.
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
