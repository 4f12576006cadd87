/*
 * http.h -- what the HTTP files share (internal): a session, a request, and the calls between them.
 *
 * HTTP is five files, one job each, in layers:
 *   http_loop.c      libcurl's multi interface driven by the libuv loop (sockets, polls, libcurl's
 *                    timer): chapter 01's hand-made loop, grown up. It knows requests only as
 *                    "a transfer finished" and "a socket could not be watched".
 *   http_request.c   one request's life: checked, queued, started on an easy handle, redirected as
 *                    aiohttp redirects, ended once.
 *   http_session.c   sessions and their pool: the queue, the limits, the spare easy handles.
 *   http_deadline.c  the timeouts aiohttp has (total, connect, sock_connect, sock_read), one
 *                    timer per session.
 *   http_response.c  what arrives: the body and headers, then the response a future resolves to.
 */
#ifndef CW_HTTP_INTERNAL_H
#define CW_HTTP_INTERNAL_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include "cw_http.h"
#include "internal.h"

#define CW__SPARE_EASY_HANDLES 64 /* finished transfers' easy handles kept for reuse */

typedef struct buffer {
    char *data;
    size_t len, cap;
} buffer;

typedef enum phase { QUEUED, ACTIVE } phase; /* then it ends, and is freed */

typedef struct request {
    cw_session *session;
    cw_future *future; /* our reference, until the request ends */
    CURL *easy;
    phase phase;
    const char *method, *url; /* in text[] */
    const char *host;         /* "host:port", for limit_per_host; in text[] */
    char *body;
    size_t body_len;
    struct curl_slist *headers;
    cw_timeouts timeouts;
    uint64_t queued_at, started_at, last_data_at; /* loop time, ms */
    uint64_t due_at;    /* when the session's timer looks at it: no later than any of its deadlines */
    int deadline_index; /* its place in the session's heap of deadlines */
    int sends;          /* how often libcurl sent it: 0 until connected, more than redirects + 1 after a retry */
    int redirects;      /* redirects followed (http_request.c follows them, as aiohttp does) */
    char *location;     /* where the last redirect sent it (NULL: none); the url stays the one asked for */
    bool typed_by_us;   /* its headers end with the type given to a body that came without one */
    int write_failure;  /* why a write callback stopped the transfer: CW_ETOOBIG or CW_ENOMEM (0: none) */
    int socket_failure; /* a socket of this request could not be watched: the error to end it with */
    int socket_errno;   /* why socket() failed, which libcurl reports only as "couldn't connect" */
    buffer response_body, response_headers;
    int span;
    char *error; /* libcurl's words on a failure (CURL_ERROR_SIZE bytes), from the start of the transfer */
    struct request *prev, *next;           /* in the session's queue or its active list */
    uint64_t order;                        /* when it joined the queue: the session's n_queued then */
    int host_index;                        /* its host in the session's hosts (only with limit_per_host) */
    struct request *host_prev, *host_next; /* in its host's queue (only with limit_per_host) */
    struct request *next_failing;          /* in the session's list of requests to fail after socket_action */
    char text[];                           /* the method, the URL, the host */
} request;

typedef struct host_count {
    char host[300];
    int active;
    struct request *queue_head, *queue_tail; /* its requests waiting, in the order they came */
} host_count;

struct cw_session {
    CURLM *multi;
    uv_loop_t *loop;
    uv_timer_t timer;          /* libcurl's one timer */
    uv_timer_t deadline_timer; /* ours: the nearest deadline of its requests (http_deadline.c) */
    uint64_t timer_due_at;     /* when it fires (UINT64_MAX: stopped) */
    request **deadlines;       /* every unended request, in a heap: the nearest due_at first */
    int n_deadlines, cap_deadlines;
    cw_session_options options;
    request *queue_head, *queue_tail; /* waiting for a connection slot */
    request *active;                  /* handed to libcurl */
    int n_active;
    host_count *hosts; /* only with limit_per_host */
    int n_hosts;
    uint64_t n_queued; /* requests queued so far, which orders them */
    CURL *spare[CW__SPARE_EASY_HANDLES];
    int n_spare;
    request *failing; /* requests whose socket could not be watched, to end once libcurl returns */
    int open_handles; /* libuv handles whose close callback has not run yet */
    bool starting;    /* inside cw__pool_start_queued (which ending a request calls again) */
    bool closing;
    cw_future *closed;    /* resolved when the last handle is closed */
    cw__closer left_open; /* cw_run() closes the session should the program not */
};

/* The loop's clock is read once per turn; a deadline armed late in a long turn must not start early. */
static inline uint64_t cw__fresh_now(cw_session *s)
{
    uv_update_time(s->loop);
    return uv_now(s->loop);
}

/* ---- http_loop.c: libcurl on libuv ---- */

/* Give the session's multi handle its socket and timer callbacks. */
CW__HIDDEN CURLMcode cw__loop_drive_multi(cw_session *s);
/* Let the loop watch the sockets @p easy opens for @p r from the moment they exist. */
CW__HIDDEN void cw__loop_watch_sockets_of(CURL *easy, request *r);
/* @p r ends, maybe while in the list of requests to fail once libcurl returns: take it off. */
CW__HIDDEN void cw__loop_forget_failing(request *r);
/* Close the watches still open for the session's sockets (after curl_multi_cleanup). */
CW__HIDDEN void cw__loop_unwatch_session(cw_session *s);

/* ---- http_request.c: one request ---- */

/* The one place a request ends (0: resolved with its response; CW_ECANCELLED: cancelled; else failed
 * with the message fmt makes, or a generic one when fmt is NULL). */
CW__HIDDEN void cw__request_end(request *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* libcurl says the transfer of @p r ended with @p result. */
CW__HIDDEN void cw__request_transfer_done(request *r, CURLcode result);
/* A socket of @p r could not be watched: end it with r->socket_failure. */
CW__HIDDEN void cw__request_end_unwatched(request *r);
/* Hand @p r (just taken off the queue) to libcurl. */
CW__HIDDEN void cw__request_start(request *r);
/* Write the "host:port" of a plain URL (http or https, a host libcurl keeps as it is, visible ASCII)
 * into @p host and say true, reading it as libcurl would but without its parser; false: not plain. */
CW__HIDDEN bool cw__url_plain_host(const char *url, char *host, size_t size);

/* ---- http_session.c: the pool ---- */

/* Append @p r to its session's queue, then start what there is room for (CW_ENOMEM: its host could
 * not be counted; then it is in no queue). */
CW__HIDDEN int cw__pool_enqueue(request *r);
/* Start queued requests while there is room. */
CW__HIDDEN void cw__pool_start_queued(cw_session *s);
/* Count @p r (just started) among the session's active requests. */
CW__HIDDEN void cw__pool_activate(request *r);
/* Take @p r off the queue or the active list, and stop counting it. */
CW__HIDDEN void cw__pool_leave(request *r);
/* An easy handle for a new transfer, or NULL: a spare one, with its last request's options still
 * set, or a new one (then *is_new is true). */
CW__HIDDEN CURL *cw__pool_take_easy(cw_session *s, bool *is_new);
/* Keep a finished transfer's easy handle for the next one, if @p reusable and there is room, or free it. */
CW__HIDDEN void cw__pool_recycle_easy(cw_session *s, CURL *easy, bool reusable);
/* One of the session's libuv handles is closed; the last one frees a closing session. */
CW__HIDDEN void cw__session_handle_gone(cw_session *s);

/* ---- http_deadline.c: timeouts ---- */

/* Make the session's deadline timer (when it opens). */
CW__HIDDEN void cw__deadlines_init(cw_session *s);
/* Watch the deadlines of @p r, just queued (CW_ENOMEM: the heap could not grow). */
CW__HIDDEN int cw__deadline_add(request *r);
/* Its deadlines may have come nearer (it started, connected): look again. */
CW__HIDDEN void cw__deadline_arm(request *r);
/* Stop watching @p r (it ends). */
CW__HIDDEN void cw__deadline_remove(request *r);
/* libcurl's "connected" callback (CURLOPT_PREREQFUNCTION): from now on sock_read counts. */
CW__HIDDEN int cw__deadline_connected(void *request, char *ip, char *local_ip, int port, int local_port);

/* ---- http_response.c: what arrives ---- */

/* libcurl's write and header callbacks (CURLOPT_WRITEFUNCTION, CURLOPT_HEADERFUNCTION). */
CW__HIDDEN size_t cw__response_body_arrived(char *data, size_t size, size_t n, void *request);
CW__HIDDEN size_t cw__response_header_arrived(char *data, size_t size, size_t n, void *request);
/* The response of a finished transfer, taking the request's buffers; NULL: out of memory. */
CW__HIDDEN cw_response *cw__response_take(request *r);
/* Frees a response (the free function of a request future's result). */
CW__HIDDEN void cw__response_free(void *response);

#endif
