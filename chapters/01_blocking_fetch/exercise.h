/**
 * @file exercise.h
 * @brief Exercise 01: blocking fetches with libcurl's easy interface, the C `requests.get()`.
 *
 * Three functions to write in exercise.c (fetch_result_free() is given):
 * fetch_blocking() fetches one URL and waits for the whole response,
 * fetch_with_timeout() does the same but gives up after a time limit, and
 * fetch_all_sequential() fetches several URLs one after another, recording when
 * each fetch started and ended. No event loop, no tasks: the calling thread waits.
 *
 * Errors follow the course's rule: 0 for a response (any status, 404 and 500
 * included), a negative cw_error (cw_error.h) when no complete response came:
 *
 * | libcurl's CURLcode                                      | cw_error        |
 * |---------------------------------------------------------|-----------------|
 * | CURLE_COULDNT_CONNECT                                   | CW_ECONNREFUSED |
 * | CURLE_URL_MALFORMAT                                     | CW_EBADURL      |
 * | CURLE_UNSUPPORTED_PROTOCOL                              | CW_ESCHEME      |
 * | CURLE_COULDNT_RESOLVE_HOST                              | CW_EHOST        |
 * | CURLE_OPERATION_TIMEDOUT                                | CW_ETIMEDOUT    |
 * | CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_PARTIAL_FILE | CW_ECONNRESET   |
 * | CURLE_OUT_OF_MEMORY                                     | CW_ENOMEM       |
 * | any other failure                                       | CW_EHTTP        |
 */
#ifndef EXERCISE_01_H
#define EXERCISE_01_H

#include <stddef.h>
#include <stdint.h>
#include "cw_error.h"

/** One response: what `requests.get(url)` gives back, reduced to status and body. */
typedef struct fetch_result {
    long status;     /**< the HTTP status, e.g. 200 or 404; 0 when there was no response */
    char *body;      /**< the body (malloc'd, NUL added after the last byte), or NULL when there was no response */
    size_t body_len; /**< the body's length in bytes, without the added NUL */
} fetch_result;

/** When one fetch ran, in microseconds of the monotonic clock cw_now_us() reads. */
typedef struct interval {
    uint64_t start_us; /**< just before the fetch began */
    uint64_t end_us;   /**< just after it returned */
} interval;

/**
 * @brief GET @p url and wait for the whole response, with libcurl's easy interface.
 *
 * The calling thread waits until the last byte of the body is in (or the fetch failed).
 * The body is kept whole, however many pieces it arrives in, with a NUL added after its
 * last byte; an empty body is "" (body not NULL, body_len 0): NULL means no response.
 * @param url the URL, e.g. "http://127.0.0.1:8080/get".
 * @param out receives the response, which the caller then owns (free it with
 *            fetch_result_free()); on failure it is left empty (status 0, body NULL,
 *            body_len 0), with nothing of a partial body kept, so fetch_result_free()
 *            is always safe on it.
 * @return 0 on a response, whatever its status; a negative cw_error when there was
 *         none (see the table at the top of this file).
 */
int fetch_blocking(const char *url, fetch_result *out);

/**
 * @brief fetch_blocking() with a time limit on the whole fetch (connect, send, wait, read).
 *
 * `requests.get(url, timeout=...)`, in milliseconds: when the limit passes first, the
 * fetch stops there (it does not go on in the background) and nothing of it is kept.
 * @param url the URL.
 * @param timeout_ms the limit in milliseconds; 0 means no limit.
 * @param out receives the response, or is left empty on failure.
 * @return 0 on a response, CW_ETIMEDOUT when the limit passed first, CW_EINVAL for a
 *         negative limit, another negative cw_error for other failures (the table above).
 */
int fetch_with_timeout(const char *url, long timeout_ms, fetch_result *out);

/**
 * @brief Fetch @p n URLs one after another, as a `for` loop over `requests.get()` does.
 *
 * Each fetch starts only when the one before it has returned. Like an exception
 * in that loop, the first failure stops it: the URLs after it are not fetched.
 * @param urls the URLs.
 * @param n how many there are.
 * @param results n slots: results[i] receives the response of urls[i]; slots with
 *                no response (the failed one and those after it) are left empty,
 *                so fetch_result_free() is safe on all n.
 * @param times n slots: times[i] receives when the fetch of urls[i] started and ended
 *              (slots of URLs never fetched are set to 0). The arrays may hold garbage
 *              on entry: every slot is written.
 * @return 0 when every URL got a response, else the error of the first that did not;
 *         CW_EINVAL for n < 0 or a NULL array with n > 0.
 */
int fetch_all_sequential(const char *const *urls, int n, fetch_result *results, interval *times);

/**
 * @brief Free the body of a result and leave it empty. Given in exercise.c.
 * @param result the result; NULL is ignored, and so is an empty result.
 */
void fetch_result_free(fetch_result *result);

#endif
