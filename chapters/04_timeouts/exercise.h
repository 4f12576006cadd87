/**
 * @file exercise.h
 * @brief Exercise 04: timeouts: a request-level total, a read timeout, and a session that connects impatiently.
 *
 * Every function that sends a request suspends the calling task, so call them
 * inside a task (cw_run(), cw_spawn()). A result is an HTTP status when a
 * response came back, or a negative cw_error code (CW_ETIMEDOUT, ...) when none did.
 */
#ifndef EXERCISE_04_H
#define EXERCISE_04_H

#include "cw.h"

/**
 * @brief GET @p url, giving the whole request at most @p total_ms.
 *
 * The limit is set on this request alone (a request-level timeout), so it
 * replaces whatever timeouts the session has: a session with a shorter total
 * does not cut this request short.
 * @return the status, or the negative error code (CW_ETIMEDOUT past the limit).
 */
long fetch_within(cw_session *session, const char *url, unsigned long total_ms);

/**
 * @brief GET a slow stream: at most @p gap_ms between two pieces of data, and at most @p total_ms in all.
 *
 * A response that keeps trickling in is fine however long it takes, as long
 * as no gap exceeds @p gap_ms and the whole stays within @p total_ms.
 * @return the status, or the negative error code (CW_ETIMEDOUT when either limit is hit).
 */
long fetch_stream(cw_session *session, const char *url, unsigned long gap_ms, unsigned long total_ms);

/**
 * @brief Open a session of @p limit connections whose requests give up getting a connection after @p connect_ms.
 *
 * "Getting a connection" counts the wait for a free pooled connection as well
 * as the connecting itself. Everything else keeps its default (a total of
 * 5 minutes), so a slow response on a connection that was obtained in time is fine.
 * @param out receives the session.
 * @param limit most connections open at once (0 = unlimited).
 * @param connect_ms the connect timeout of every request.
 * @return 0, or the error of cw_session_open().
 */
int open_impatient_session(cw_session **out, int limit, unsigned long connect_ms);

#endif
