/**
 * @file exercise.h
 * @brief Exercise 03: sessions: pass one session around, pool connections with limits, use every method.
 *
 * Every function here suspends the calling task, so call them inside a task
 * (cw_run(), cw_spawn()). A result is an HTTP status (200, 404, ...) when a
 * response came back, or a negative cw_error code when none did.
 */
#ifndef EXERCISE_03_H
#define EXERCISE_03_H

#include <stddef.h>
#include "cw.h"

/**
 * @brief GET @p url through @p session and return the response's status.
 *
 * Uses the session it is given (its pooled connections, so that calls in a row
 * reuse one connection), never a session of its own. Keeps nothing: whatever
 * it created is released before it returns.
 * @return the status (a 404 or a 500 is a status like any other), or the
 *         request's negative error code when no response came back.
 */
long fetch_status(cw_session *session, const char *url);

/**
 * @brief Fetch many URLs with one session of bounded size, and close it at the end.
 *
 * One session for the whole crawl, with @p limit connections in all and
 * @p limit_per_host to any one host:port (0 = unlimited, as in
 * cw_session_options); every other option keeps its default. The requests run
 * as many at a time as those limits allow (never more, and not fewer: a
 * request never waits for another one to end while a connection is free).
 * When crawl returns, every request has ended, its session is closed (no
 * connection of it left open) and nothing it created is left.
 * @param urls the URLs.
 * @param n how many.
 * @param limit most connections open at once.
 * @param limit_per_host most connections open at once to one host:port.
 * @param statuses receives, in the order of @p urls, each status or negative error code.
 * @return 0, or the error of cw_session_open().
 */
int crawl(const char *const *urls, int n, int limit, int limit_per_host, long *statuses);

/**
 * @brief Send one request with @p method and copy the response body into @p out.
 *
 * `session.request(method, url, data=body)`. The response body is copied out
 * before the request is released (it is freed with it); nothing is kept.
 * @param session the session to use.
 * @param method "GET", "POST", "PUT" or "DELETE", sent as given.
 * @param url the URL.
 * @param body the request body (a string, sent whole, without its NUL), or NULL for none.
 * @param out receives the response body, cut to fit and always NUL-terminated
 *            (never a byte written past out[size - 1]).
 * @param size the size of @p out (at least 1).
 * @return the status, or a negative error code (then @p out holds "").
 */
long send_request(cw_session *session, const char *method, const char *url, const char *body, char *out,
                  size_t size);

#endif
