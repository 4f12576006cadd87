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
 * `session.get(url, timeout=ClientTimeout(total=...))`: the limit belongs to
 * this request alone and replaces the session's timeouts whole (as aiohttp's
 * request-level timeout does), so neither a shorter total nor any other
 * timeout of the session cuts this request short; the session itself is left
 * as it was. The request is released before returning.
 * @return the status, or the negative error code (CW_ETIMEDOUT past the limit).
 */
long fetch_within(cw_session *session, const char *url, unsigned long total_ms);

/**
 * @brief GET a slow stream: at most @p gap_ms between two pieces of data, and at most @p total_ms in all.
 *
 * A response that keeps trickling in is fine, as long as no gap exceeds
 * @p gap_ms and the whole stays within @p total_ms; like fetch_within(), these
 * limits replace the session's for this request only.
 * @return the status, or the negative error code (CW_ETIMEDOUT when either limit is hit).
 */
long fetch_stream(cw_session *session, const char *url, unsigned long gap_ms, unsigned long total_ms);

/**
 * @brief Open a session of @p limit connections whose requests give up getting a connection after @p connect_ms.
 *
 * `ClientSession(connector=TCPConnector(limit=...), timeout=ClientTimeout(total=300, connect=...))`.
 * "Getting a connection" counts the wait for a free pooled connection as well
 * as the connecting itself. Every other option keeps the session default
 * (cw_session_options_default()), so a slow response on a connection that was
 * obtained in time is fine. The caller closes the session.
 * @param out receives the session.
 * @param limit most connections open at once (0 = unlimited).
 * @param connect_ms the connect timeout of every request.
 * @return 0, or the error of cw_session_open().
 */
int open_impatient_session(cw_session **out, int limit, unsigned long connect_ms);

#endif
