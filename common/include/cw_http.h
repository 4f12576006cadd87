/**
 * @file cw_http.h
 * @brief HTTP sessions: a connection pool with limits and timeouts, like aiohttp.ClientSession.
 *
 * Think of a session as a browser window: open one for the whole program,
 * pass it to the functions that make requests, close it at the end. It keeps
 * connections open between requests (keep-alive, HTTP/1.1) and never opens
 * more than `limit` of them; requests beyond the limit wait in the session's
 * own queue.
 *
 * A request is a future that starts at once (like a task, not like a bare
 * coroutine). When it resolves, cw_response_of() gives the response, which
 * lives inside the future: one cw_future_release() per request frees both.
 * A 404 or a 500 is a response, not an error; errors are for requests that got
 * no complete response (refused, reset, timed out, bad URL, body too large).
 *
 * @code
 * cw_session *s;
 * cw_session_open(&s, NULL);                     // limit 100, timeouts total 300 s, sock_connect 30 s
 * cw_future *req = cw_session_get(s, "http://127.0.0.1:8080/get");
 * if (cw_await(req) == 0)
 *     printf("%ld: %s\n", cw_response_of(req)->status, cw_response_of(req)->body);
 * else
 *     printf("failed: %s\n", cw_future_message(req));
 * cw_future_release(req);
 * cw_session_close(s);                           // awaited: every connection closed
 * @endcode
 */
#ifndef CW_HTTP_H
#define CW_HTTP_H

#include <stddef.h>
#include "cw_future.h"

/** An opaque session (connection pool). */
typedef struct cw_session cw_session;

/**
 * Timeouts in milliseconds, with aiohttp's meaning; 0 switches one off.
 * A request-level cw_timeouts replaces the session's whole, field by field
 * included: fields left 0 there are off for that request. A value too large
 * for the clock to reach (such as (unsigned long)-1) never fires.
 */
typedef struct cw_timeouts {
    unsigned long total_ms;        /**< the whole request: queue wait + connect + send + read */
    unsigned long connect_ms;      /**< queue wait for a pooled connection + connecting */
    unsigned long sock_connect_ms; /**< connecting alone */
    unsigned long sock_read_ms;    /**< the longest gap between two pieces of data */
} cw_timeouts;

/** The default total timeout: 5 minutes, as in aiohttp. */
#define CW_DEFAULT_TOTAL_MS (300UL * 1000UL)

/**
 * The default sock_connect timeout: 30 s, as in aiohttp since 3.10
 * (`ClientTimeout(total=5 * 60, sock_connect=30)`); aiohttp 3.8, which the
 * book describes, had none, so a connect could use the whole 5 minutes.
 */
#define CW_DEFAULT_SOCK_CONNECT_MS (30UL * 1000UL)

/** Session options; cw_session_options_default() fills in the defaults. */
typedef struct cw_session_options {
    int limit;            /**< most connections open at once (default 100; 0 = unlimited) */
    int limit_per_host;   /**< most connections to one host:port (default 0 = unlimited) */
    cw_timeouts timeouts; /**< default timeouts of every request (default: total 300 s, sock_connect 30 s) */
    size_t max_body;      /**< largest response body accepted, bytes (default 64 MiB; 0 = unlimited) */
} cw_session_options;

/** A request with every option; cw_session_get() and friends fill one for you. */
typedef struct cw_request {
    const char *method;          /**< "GET" when NULL */
    const char *url;             /**< http:// or https:// URL */
    const void *body;            /**< request body (copied), or NULL; typed application/octet-stream unless
                                      headers name a Content-Type; POST, PUT and PATCH send an empty one
                                      when NULL (as aiohttp) */
    size_t body_len;             /**< its length in bytes */
    const char *const *headers;  /**< extra "Name: value" headers, NULL-terminated, or NULL */
    const cw_timeouts *timeouts; /**< replaces the session's timeouts for this request, or NULL */
} cw_request;

/** A complete HTTP response; it belongs to its request future. */
typedef struct cw_response {
    long status;         /**< HTTP status code, e.g. 200 or 404 */
    const char *body;    /**< the body, with a terminating NUL added for convenience */
    size_t body_len;     /**< body length in bytes (without the added NUL) */
    const char *headers; /**< the raw response header block, "Name: value\r\n" lines */
    const char *url;     /**< the URL that was requested */
} cw_response;

/** @brief The default options: limit 100, no per-host limit, timeouts total 300 s and sock_connect 30 s
 *  (aiohttp's since 3.10), max body 64 MiB. */
cw_session_options cw_session_options_default(void);

/**
 * @brief Open a session on the running loop.
 *
 * Every connection needs a file descriptor, so the first session a process
 * opens calls cw_raise_open_file_limit(); past that limit, requests fail with
 * CW_EMFILE and a message that says so.
 * @param out receives the session.
 * @param options NULL for the defaults.
 * @return 0, CW_EINVAL for a negative limit or a NULL @p out, CW_ENOTASK
 *         outside cw_run(), CW_ENOMEM, CW_EHTTP when libcurl refuses its
 *         settings.
 *
 * @code
 * cw_session_options options = cw_session_options_default();
 * options.limit = 10;               // aiohttp.TCPConnector(limit=10)
 * options.timeouts.total_ms = 5000; // aiohttp.ClientTimeout(total=5)
 * cw_session *s;
 * if (cw_session_open(&s, &options) < 0)
 *     return cw_fail(CW_EINVAL, "could not open a session");
 * // ... requests: cw_session_get(s, url) ...
 * cw_session_close(s);              // awaited: returns once every connection is closed
 * @endcode
 */
int cw_session_open(cw_session **out, const cw_session_options *options);

/**
 * @brief Raise this process's soft open-file limit (RLIMIT_NOFILE) to its hard limit.
 *
 * The one place the library changes the limit: the first cw_session_open()
 * calls it, and so does the first cw_fixture_start(), since every connection
 * is a file descriptor and the usual soft limit (1024) is far below what
 * thousands of requests in flight need. Call it yourself to know the figure.
 * @return the soft limit now in force, or -1 when it cannot be read.
 */
long cw_raise_open_file_limit(void);

/**
 * @brief Close a session: cancel what is still queued or in flight, close every connection, free it.
 *
 * Awaited: the calling task is suspended until every connection is closed.
 * @return 0, CW_EINVAL for NULL, CW_ENOTASK outside a task (then nothing is done).
 */
int cw_session_close(cw_session *session);

/**
 * @brief Start a request.
 *
 * Redirects are followed as aiohttp follows them: a 303 (except after a HEAD),
 * and a 301 or 302 after a POST, become a GET without the body; anything else
 * is sent again as it was; the tenth redirect fails with #CW_EHTTP.
 * @return a request future (one reference for the caller). Bad input (NULL or
 *         malformed URL, unsupported scheme) gives a future already failed with
 *         a message, never NULL, except when out of memory.
 *
 * @code
 * static const char *const headers[] = { "Content-Type: application/json", NULL };
 * cw_timeouts quick = { .total_ms = 2000 }; // replaces the session's timeouts for this request
 * cw_request put = { .method = "PUT", .url = url, .body = "{\"n\": 1}", .body_len = 8,
 *                    .headers = headers, .timeouts = &quick };
 * cw_future *req = cw_session_request(s, &put);
 * if (cw_await(req) == 0)
 *     printf("%ld %s\n", cw_response_of(req)->status, cw_response_of(req)->body);
 * cw_future_release(req);
 * @endcode
 */
cw_future *cw_session_request(cw_session *session, const cw_request *request);

/** @brief Start a GET of @p url. @return a request future, as cw_session_request(). */
cw_future *cw_session_get(cw_session *session, const char *url);

/** @brief Start a POST of @p len bytes of @p body to @p url. @return a request future. */
cw_future *cw_session_post(cw_session *session, const char *url, const void *body, size_t len);

/** @brief Start a PUT of @p len bytes of @p body to @p url. @return a request future. */
cw_future *cw_session_put(cw_session *session, const char *url, const void *body, size_t len);

/** @brief Start a DELETE of @p url. @return a request future. */
cw_future *cw_session_delete(cw_session *session, const char *url);

/**
 * @brief The response of a resolved request future.
 * @return the response, or NULL when the request is pending or failed (or the future is not a request).
 */
const cw_response *cw_response_of(const cw_future *request);

/**
 * @brief Find a response header by name (case-insensitive).
 * @param response the response.
 * @param name the header name, without the colon.
 * @param out buffer for the value.
 * @param size its size; the value is cut to fit and always NUL-terminated.
 * @return the value's full length, or -1 when the header is absent.
 *
 * @code
 * char type[64];
 * if (cw_response_header(cw_response_of(req), "Content-Type", type, sizeof type) >= 0)
 *     printf("Content-Type: %s\n", type);
 * @endcode
 */
int cw_response_header(const cw_response *response, const char *name, char *out, size_t size);

#endif
