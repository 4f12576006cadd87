/*
 * http.c -- HTTP sessions: libcurl's multi interface driven by the libuv loop.
 *
 * libcurl does the HTTP; libuv tells it when its sockets are ready. libcurl
 * asks for two things through callbacks: "watch this socket" (socket_changed:
 * one uv_poll per socket) and "call me back in N ms" (timer_changed: one
 * uv_timer per session). When either fires we call curl_multi_socket_action
 * and then read every finished transfer with curl_multi_info_read. Futures are
 * finished only there and in our own timers, never inside a libcurl callback,
 * because code run by a done callback may call libcurl again.
 *
 * A connection's uv_poll lives as long as its socket: made when libcurl opens
 * the socket (open_socket), closed when libcurl closes it (close_socket).
 * Between two requests libcurl says CURL_POLL_REMOVE while the connection
 * waits in the pool; closing the poll there and making a new one for the next
 * request would cost six system calls per request (a third of the time on
 * loopback), so the poll is only stopped there, and started again when the
 * next request wants it (one epoll_ctl each). Stopped, it no longer keeps the
 * loop alive, so an idle pool never hides a deadlock. Stopping at
 * CURL_POLL_REMOVE is also what keeps libuv safe: libcurl 7.88 closes a socket
 * that is still connecting (a request cancelled then) without calling
 * close_socket, and says CURL_POLL_REMOVE only after the close; a poll still
 * running there makes libuv abort on EBADF. Sockets libcurl opens by other
 * means (its resolver's) have their poll closed at CURL_POLL_REMOVE.
 *
 * On top of that sit the parts aiohttp adds: the pool limit (a request waits
 * in the session's own queue until a connection slot is free) and the
 * timeouts (one uv_timer per request watching total, connect, sock_connect
 * and sock_read deadlines).
 */
#include <curl/curl.h>
#include <errno.h>
#include <stddef.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>
#include "cw_http.h"
#include "cw_task.h"
#include "cw_timeline.h"
#include "internal.h"

#define SPARE_EASY_HANDLES 64 /* finished transfers' easy handles kept for reuse */

typedef struct buffer {
    char *data;
    size_t len, cap;
} buffer;

typedef enum phase { QUEUED, ACTIVE, ENDED } phase;

typedef struct request {
    cw_session *session;
    cw_future *future; /* our reference, until the request ends */
    CURL *easy;
    phase phase;
    char *method;
    char *url;
    char host[300]; /* "host:port", for limit_per_host */
    char *body;
    size_t body_len;
    struct curl_slist *headers;
    cw_timeouts timeouts;
    uv_timer_t deadline;
    uint64_t queued_at, started_at, last_data_at; /* loop time, ms */
    uint64_t armed_for;                           /* the deadline the timer is set for */
    bool connected;
    bool too_big;
    int socket_failure; /* a socket of this request could not be watched: the error to end it with */
    int socket_errno; /* why socket() failed, which libcurl reports only as "couldn't connect" */
    buffer response_body, response_headers;
    int span;
    char error[CURL_ERROR_SIZE];
    struct request *prev, *next; /* in the session's queue or its active list */
    struct request *next_failing; /* in the session's list of requests to fail after socket_action */
} request;

typedef struct socket_watch {
    uv_poll_t poll;
    curl_socket_t fd;
    cw_session *session;
    bool connection; /* opened by open_socket: lives until close_socket */
    int events;      /* what libcurl asked for and the poll watches (0: stopped, e.g. idle in the pool) */
} socket_watch;

typedef struct host_count {
    char host[300];
    int active;
} host_count;

struct cw_session {
    CURLM *multi;
    uv_loop_t *loop;
    uv_timer_t timer; /* libcurl's one timer */
    cw_session_options options;
    request *queue_head, *queue_tail; /* waiting for a connection slot */
    request *active;                  /* handed to libcurl */
    int n_active;
    host_count *hosts; /* only with limit_per_host */
    int n_hosts;
    CURL *spare[SPARE_EASY_HANDLES];
    int n_spare;
    request *failing;  /* requests whose socket could not be watched, to end once libcurl returns */
    int open_handles;  /* libuv handles whose close callback has not run yet */
    bool starting;     /* inside start_queued (which ending a request calls again) */
    bool closing;
    cw_future *closed; /* resolved when the last handle is closed */
    cw__closer left_open; /* cw_run() closes the session should the program not */
};

/* The watch of each socket, indexed by descriptor, shared by every session on this thread's loop.
 * A socket libcurl closed without close_socket leaves its (stopped) watch here; whichever session
 * gets that descriptor number next finds it and closes it before polling the new socket, because
 * closing a poll also removes its descriptor number from the loop's epoll set. */
static _Thread_local socket_watch **watch_of_fd;
static _Thread_local int n_fds, n_watches;

/* ---- small helpers --------------------------------------------------------------------- */

/* The loop's clock is read once per turn; a deadline armed late in a long turn must not start early. */
static uint64_t fresh_now(cw_session *s)
{
    uv_update_time(s->loop);
    return uv_now(s->loop);
}

static bool buffer_add(buffer *b, const char *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown)
            return false;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

static int *host_active(cw_session *s, const char *host)
{
    for (int i = 0; i < s->n_hosts; i++)
        if (strcmp(s->hosts[i].host, host) == 0)
            return &s->hosts[i].active;
    host_count *grown = realloc(s->hosts, (s->n_hosts + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    s->hosts = grown;
    host_count *h = &s->hosts[s->n_hosts++];
    snprintf(h->host, sizeof h->host, "%s", host);
    h->active = 0;
    return &h->active;
}

static bool can_start(cw_session *s, request *r)
{
    if (s->options.limit > 0 && s->n_active >= s->options.limit)
        return false;
    if (s->options.limit_per_host > 0) {
        int *active = host_active(s, r->host);
        return active && *active < s->options.limit_per_host;
    }
    return true;
}

static void count_host(cw_session *s, request *r, int delta)
{
    if (s->options.limit_per_host > 0) {
        int *active = host_active(s, r->host);
        if (active)
            *active += delta;
    }
}

static void unlink_request(request *r)
{
    cw_session *s = r->session;
    request **head = r->phase == QUEUED ? &s->queue_head : &s->active;
    if (r->prev)
        r->prev->next = r->next;
    else
        *head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else if (r->phase == QUEUED)
        s->queue_tail = r->prev;
    r->prev = r->next = NULL;
}

/* ---- responses --------------------------------------------------------------------------- */

static void response_free(void *p)
{
    cw_response *resp = p;
    free((char *)resp->body);
    free((char *)resp->headers);
    free((char *)resp->url);
    free(resp);
}

static cw_response *response_take(request *r)
{
    cw_response *resp = calloc(1, sizeof *resp);
    if (!resp)
        return NULL;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &resp->status);
    if (!r->response_body.data)
        buffer_add(&r->response_body, "", 0);
    if (!r->response_headers.data)
        buffer_add(&r->response_headers, "", 0);
    resp->body = r->response_body.data;
    resp->body_len = r->response_body.len;
    resp->headers = r->response_headers.data;
    resp->url = r->url;
    r->response_body = (buffer){ 0 };
    r->response_headers = (buffer){ 0 };
    r->url = NULL;
    return resp;
}

const cw_response *cw_response_of(const cw_future *f)
{
    return f && f->state == CW_RESOLVED && f->kind == CW__FUTURE_REQUEST ? f->result : NULL;
}

int cw_response_header(const cw_response *resp, const char *name, char *out, size_t size)
{
    if (!resp || !name || !resp->headers)
        return -1;
    size_t name_len = strlen(name);
    for (const char *line = resp->headers; *line;) {
        const char *end = strstr(line, "\r\n");
        if (!end)
            end = line + strlen(line);
        if ((size_t)(end - line) > name_len && line[name_len] == ':' && strncasecmp(line, name, name_len) == 0) {
            const char *value = line + name_len + 1;
            while (value < end && (*value == ' ' || *value == '\t'))
                value++;
            int len = (int)(end - value);
            if (out && size > 0)
                snprintf(out, size, "%.*s", len, value);
            return len;
        }
        line = *end ? end + 2 : end;
    }
    return -1;
}

/* ---- ending a request ------------------------------------------------------------------ */

static void start_queued(cw_session *s);

static void request_closed(uv_handle_t *h)
{
    request *r = h->data;
    free(r->method);
    free(r->url);
    free(r->body);
    curl_slist_free_all(r->headers);
    free(r->response_body.data);
    free(r->response_headers.data);
    free(r);
}

static void recycle_easy(cw_session *s, CURL *easy)
{
    if (s->n_spare < SPARE_EASY_HANDLES && !s->closing) {
        curl_easy_reset(easy);
        s->spare[s->n_spare++] = easy;
    } else {
        curl_easy_cleanup(easy);
    }
}

/* The one place a request ends: leave the queue or libcurl, then finish the future last,
 * so that whatever its done callbacks do sees a consistent session. */
static void request_end(request *r, int code, const char *fmt, ...)
{
    cw_session *s = r->session;
    bool was_active = r->phase == ACTIVE;
    unlink_request(r);
    cw_response *resp = NULL;
    if (was_active) {
        /* Fails only for a handle libcurl does not hold (its add failed): then there is nothing to remove. */
        curl_multi_remove_handle(s->multi, r->easy);
        s->n_active--;
        count_host(s, r, -1);
        if (code == 0 && !(resp = response_take(r)))
            code = CW_ENOMEM;
        recycle_easy(s, r->easy);
        r->easy = NULL;
    }
    r->phase = ENDED;
    cw_timeline_end(r->span, code);
    uv_close((uv_handle_t *)&r->deadline, request_closed);
    if (was_active)
        start_queued(s);

    cw_future *f = r->future;
    if (code == 0) {
        cw_future_resolve(f, resp, response_free);
    } else if (code == CW_ECANCELLED) {
        cw__future_set_cancelled(f);
    } else if (!fmt) { /* a response that could not be taken (out of memory) has no words of its own */
        cw_future_fail(f, code, "%s: %s %s", cw_strerror(code), r->method, r->url ? r->url : "");
    } else {
        char message[CURL_ERROR_SIZE + 512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(message, sizeof message, fmt, ap);
        va_end(ap);
        cw_future_fail(f, code, "%s", message);
    }
    cw_future_release(f);
}

static int error_from_curl(request *r, CURLcode c)
{
    switch (c) {
    case CURLE_COULDNT_CONNECT: return CW_ECONNREFUSED;
    case CURLE_OPERATION_TIMEDOUT: return CW_ETIMEDOUT;
    case CURLE_URL_MALFORMAT: return CW_EBADURL;
    case CURLE_UNSUPPORTED_PROTOCOL: return CW_ESCHEME;
    case CURLE_COULDNT_RESOLVE_HOST: return CW_EHOST;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE: return CW_ECONNRESET;
    case CURLE_WRITE_ERROR: return r->too_big ? CW_ETOOBIG : CW_EHTTP;
    default: return CW_EHTTP;
    }
}

/* A request whose socket could not be watched: open_socket refused it, or socket_changed could not poll it. */
static void end_unwatched(request *r)
{
    request_end(r, r->socket_failure, "%s: %s %s (its socket could not be watched: %s)", cw_strerror(r->socket_failure),
                r->method, r->url, r->socket_failure == CW_ENOMEM ? "out of memory" : "libuv refused the descriptor");
}

static void transfer_done(request *r, CURLcode result)
{
    if (result == CURLE_OK) {
        request_end(r, 0, NULL);
        return;
    }
    if (r->socket_failure) {
        end_unwatched(r);
        return;
    }
    if (r->socket_errno == EMFILE || r->socket_errno == ENFILE) {
        request_end(r, CW_EMFILE, "%s: %s %s (no file descriptor left for a socket: raise the limit with "
                    "ulimit -n, or lower the session's limit)", cw_strerror(CW_EMFILE), r->method, r->url);
        return;
    }
    /* Two libcurl codes say something else when they come with a response: the scheme was checked before
     * sending, so "unsupported protocol" with no HTTP header received means the reply is not HTTP; and
     * "out of memory" while the headers come in is, in practice, a header line over libcurl's 100 KB. */
    bool no_header = r->response_headers.len == 0, no_body = r->response_body.len == 0;
    if (result == CURLE_UNSUPPORTED_PROTOCOL && no_header) {
        request_end(r, CW_EHTTP, "%s: %s %s (the reply is not HTTP: %s)", cw_strerror(CW_EHTTP), r->method, r->url,
                    r->error[0] ? r->error : curl_easy_strerror(result));
        return;
    }
    if (result == CURLE_OUT_OF_MEMORY && r->connected && no_body) {
        request_end(r, CW_EHTTP, "%s: %s %s (a response header line is longer than libcurl's limit of 100 KB, "
                    "or no memory was left for it)", cw_strerror(CW_EHTTP), r->method, r->url);
        return;
    }
    int code = error_from_curl(r, result);
    if (code == CW_ETOOBIG)
        request_end(r, code, "%s: %s %s (more than max_body = %zu bytes)", cw_strerror(code), r->method, r->url,
                    r->session->options.max_body);
    else
        request_end(r, code, "%s: %s %s (%s)", cw_strerror(code), r->method, r->url,
                    r->error[0] ? r->error : curl_easy_strerror(result));
}

/* Always drain every finished transfer, whichever event woke libcurl. */
static void read_finished(cw_session *s)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(s->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        request *r = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        transfer_done(r, msg->data.result); /* removes the handle, and with it any message it had left */
    }
}

/* ---- the libcurl <-> libuv glue ---------------------------------------------------------- */

/* Ask libcurl to act on a socket (or on its timer, with CURL_SOCKET_TIMEOUT), then do what it could
 * not do from inside: end the requests whose socket could not be watched, and every finished one. */
static void socket_action(cw_session *s, curl_socket_t fd, int flags)
{
    int running;
    CURLMcode mc = curl_multi_socket_action(s->multi, fd, flags, &running);
    while (s->failing) {
        request *r = s->failing;
        s->failing = r->next_failing;
        r->next_failing = NULL;
        if (r->phase == ACTIVE)
            end_unwatched(r);
    }
    /* CURLM_BAD_SOCKET: an event on a socket libcurl has just let go of, nothing to do. Anything
     * else means libcurl can no longer drive its transfers: end them all rather than leave them hanging. */
    if (mc != CURLM_OK && mc != CURLM_BAD_SOCKET && s->multi) {
        while (s->active)
            request_end(s->active, CW_EHTTP, "%s: %s %s (libcurl: %s)", cw_strerror(CW_EHTTP), s->active->method,
                        s->active->url, curl_multi_strerror(mc));
    }
    if (s->multi)
        read_finished(s);
}

static void socket_ready(uv_poll_t *poll, int status, int events)
{
    socket_watch *w = poll->data;
    int flags;
    if (status < 0) /* e.g. UV_EBADF after a reset: libcurl must read the socket to see the error and retry */
        flags = CURL_CSELECT_ERR | CURL_CSELECT_IN | CURL_CSELECT_OUT;
    else
        flags = (events & UV_READABLE ? CURL_CSELECT_IN : 0) | (events & UV_WRITABLE ? CURL_CSELECT_OUT : 0);
    socket_action(w->session, w->fd, flags);
}

static void session_handle_gone(cw_session *s);

static void watch_closed(uv_handle_t *h)
{
    socket_watch *w = h->data;
    session_handle_gone(w->session);
    free(w);
    if (--n_watches == 0) {
        free(watch_of_fd);
        watch_of_fd = NULL;
        n_fds = 0;
    }
}

static socket_watch *watch_of(curl_socket_t fd)
{
    return fd >= 0 && fd < n_fds ? watch_of_fd[fd] : NULL;
}

static void watch_close(socket_watch *w)
{
    watch_of_fd[w->fd] = NULL;
    uv_close((uv_handle_t *)&w->poll, watch_closed); /* stops the poll first */
}

/* Watch what libcurl asked for, or stop watching (events 0). A started poll keeps the loop alive,
 * a stopped one does not. */
static int watch_events(socket_watch *w, int events)
{
    if (events == w->events)
        return 0;
    w->events = events;
    return events ? uv_poll_start(&w->poll, events, socket_ready) : uv_poll_stop(&w->poll);
}

static int watch_new(cw_session *s, curl_socket_t fd, bool connection, socket_watch **out)
{
    if (fd >= n_fds) {
        int n = n_fds ? n_fds : 64;
        while (n <= fd)
            n *= 2;
        socket_watch **grown = realloc(watch_of_fd, n * sizeof *grown);
        if (!grown)
            return UV_ENOMEM;
        memset(grown + n_fds, 0, (n - n_fds) * sizeof *grown);
        watch_of_fd = grown;
        n_fds = n;
    }
    /* A watch already here belongs to a descriptor libcurl closed without close_socket whose
     * number has come back. Close it first; when it was this session's, libcurl may still count
     * on what it asked of it, so the new watch keeps that. */
    socket_watch *stale = watch_of_fd[fd];
    int events = stale && stale->session == s ? stale->events : 0;
    if (stale)
        watch_close(stale);
    socket_watch *w = calloc(1, sizeof *w);
    if (!w)
        return UV_ENOMEM;
    int rc = uv_poll_init_socket(s->loop, &w->poll, fd);
    if (rc < 0) {
        free(w);
        return rc;
    }
    w->fd = fd;
    w->session = s;
    w->connection = connection;
    w->poll.data = w;
    watch_of_fd[fd] = w;
    n_watches++;
    s->open_handles++;
    *out = w;
    return watch_events(w, events);
}

/* A socket libcurl needs cannot be watched: fail its request, never the whole multi handle
 * (which returning -1 from the socket callback would do). */
static void fail_request_of(cw_session *s, CURL *easy, int code)
{
    request *r = NULL;
    if (easy)
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
    if (r && !r->socket_failure) {
        r->socket_failure = code;
        r->next_failing = s->failing;
        s->failing = r;
    }
}

static int socket_changed(CURL *easy, curl_socket_t fd, int what, void *session, void *socketp)
{
    (void)socketp;
    cw_session *s = session;
    socket_watch *w = watch_of(fd);
    if (w && w->session != s) { /* another session's stale watch: this descriptor is ours now */
        watch_close(w);
        w = NULL;
    }
    if (what == CURL_POLL_REMOVE) {
        if (w && w->connection)
            watch_events(w, 0); /* back in the pool, or already closed by libcurl: stop, keep the handle */
        else if (w)
            watch_close(w);
        return 0;
    }
    int rc = 0;
    if (!w)
        rc = watch_new(s, fd, false, &w);
    if (rc == 0)
        rc = watch_events(w, (what & CURL_POLL_IN ? UV_READABLE : 0) | (what & CURL_POLL_OUT ? UV_WRITABLE : 0));
    if (rc < 0)
        fail_request_of(s, easy, rc == UV_ENOMEM ? CW_ENOMEM : CW_EHTTP);
    return 0;
}

static void curl_timer_fired(uv_timer_t *timer)
{
    socket_action(timer->data, CURL_SOCKET_TIMEOUT, 0);
}

static int timer_changed(CURLM *multi, long timeout_ms, void *session)
{
    (void)multi;
    cw_session *s = session;
    if (timeout_ms < 0)
        uv_timer_stop(&s->timer);
    else /* 0 stays 0: rounding it up to 1 ms costs a whole loop turn per request */
        uv_timer_start(&s->timer, curl_timer_fired, (uint64_t)timeout_ms, 0);
    return 0;
}

static size_t body_arrived(char *data, size_t size, size_t n, void *userdata)
{
    request *r = userdata;
    size_t bytes = size * n;
    size_t max = r->session->options.max_body;
    r->last_data_at = uv_now(r->session->loop);
    if (max && r->response_body.len + bytes > max) {
        r->too_big = true;
        return 0; /* libcurl stops the transfer with CURLE_WRITE_ERROR */
    }
    return buffer_add(&r->response_body, data, bytes) ? bytes : 0;
}

static size_t header_arrived(char *data, size_t size, size_t n, void *userdata)
{
    request *r = userdata;
    size_t bytes = size * n;
    if (r->response_headers.len == 0)
        cw_timeline_first_byte(r->span);
    r->last_data_at = uv_now(r->session->loop);
    if (bytes >= 5 && memcmp(data, "HTTP/", 5) == 0)
        r->response_headers.len = 0; /* a new response (after a redirect): keep only the last */
    return buffer_add(&r->response_headers, data, bytes) ? bytes : 0;
}

static curl_socket_t open_socket(void *userdata, curlsocktype purpose, struct curl_sockaddr *address)
{
    request *r = userdata;
    (void)purpose;
    curl_socket_t fd = socket(address->family, address->socktype, address->protocol);
    socket_watch *w;
    int rc;
    if (fd == CURL_SOCKET_BAD) {
        r->socket_errno = errno;
    } else if ((rc = watch_new(r->session, fd, true, &w)) < 0) { /* libcurl ends the request: "couldn't connect" */
        r->socket_failure = rc == UV_ENOMEM ? CW_ENOMEM : CW_EHTTP;
        if (watch_of(fd))
            watch_close(watch_of(fd));
        close(fd);
        fd = CURL_SOCKET_BAD;
    }
    return fd;
}

static int close_socket(void *session, curl_socket_t fd)
{
    (void)session;
    socket_watch *w = watch_of(fd);
    if (w)
        watch_close(w);
    return close(fd);
}

static void arm_deadline(request *r);

static int connected(void *userdata, char *ip, char *local_ip, int port, int local_port)
{
    (void)ip, (void)local_ip, (void)port, (void)local_port;
    request *r = userdata;
    r->connected = true;
    r->last_data_at = fresh_now(r->session);
    cw_timeline_start(r->span);
    arm_deadline(r); /* from now on sock_read counts, and the connect deadlines no longer do */
    return CURL_PREREQFUNC_OK;
}

/* ---- timeouts --------------------------------------------------------------------------- */

typedef struct deadline {
    uint64_t at;
    const char *kind;
    unsigned long ms;
} deadline;

/* A timeout so long that since + ms would pass the end of the clock (say (unsigned long)-1) never fires. */
static void consider(deadline *d, bool applies, uint64_t since, unsigned long ms, const char *kind)
{
    if (applies && ms && ms < UINT64_MAX - since && since + ms < d->at)
        *d = (deadline){ since + ms, kind, ms };
}

static deadline next_deadline(const request *r)
{
    const cw_timeouts *t = &r->timeouts;
    deadline d = { UINT64_MAX, NULL, 0 };
    consider(&d, true, r->queued_at, t->total_ms, "total");
    consider(&d, !r->connected, r->queued_at, t->connect_ms, "connect");
    consider(&d, !r->connected && r->phase == ACTIVE, r->started_at, t->sock_connect_ms, "sock_connect");
    consider(&d, r->connected, r->last_data_at, t->sock_read_ms, "sock_read");
    return d;
}

/* Data arriving pushes the sock_read deadline back without touching the timer:
 * when the timer fires early, it looks again and sleeps for the rest. */
static void deadline_fired(uv_timer_t *timer)
{
    request *r = timer->data;
    deadline d = next_deadline(r);
    r->armed_for = 0; /* the timer has fired: whatever comes next must be armed again */
    if (d.at <= fresh_now(r->session))
        request_end(r, CW_ETIMEDOUT, "%s: %s %s (%s timeout of %lu ms)", cw_strerror(CW_ETIMEDOUT), r->method, r->url,
                    d.kind, d.ms);
    else
        arm_deadline(r);
}

static void arm_deadline(request *r)
{
    deadline d = next_deadline(r);
    if (d.at == r->armed_for)
        return; /* most requests keep one deadline (the total) from start to end */
    r->armed_for = d.at;
    uint64_t now = fresh_now(r->session);
    if (d.at == UINT64_MAX)
        uv_timer_stop(&r->deadline);
    else
        uv_timer_start(&r->deadline, deadline_fired, d.at > now ? d.at - now : 0, 0);
}

/* ---- starting requests -------------------------------------------------------------------- */

static void start_request(request *r)
{
    cw_session *s = r->session;
    CURL *e = s->n_spare > 0 ? s->spare[--s->n_spare] : curl_easy_init();
    if (!e) {
        request_end(r, CW_ENOMEM, "%s: %s %s", cw_strerror(CW_ENOMEM), r->method, r->url);
        return;
    }
    r->easy = e;
    curl_easy_setopt(e, CURLOPT_URL, r->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->error);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L); /* aiohttp follows redirects too */
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, body_arrived);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_arrived);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, connected);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, r);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, r);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, close_socket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, s);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
    if (strcmp(r->method, "GET") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
    if (strcmp(r->method, "HEAD") == 0)
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    if (r->body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
    }
    r->phase = ACTIVE;
    r->next = s->active;
    if (s->active)
        s->active->prev = r;
    s->active = r;
    s->n_active++;
    count_host(s, r, +1);
    r->started_at = fresh_now(s);
    arm_deadline(r);
    CURLMcode mc = curl_multi_add_handle(s->multi, e);
    if (mc != CURLM_OK)
        request_end(r, CW_EHTTP, "%s: %s %s (%s)", cw_strerror(CW_EHTTP), r->method, r->url, curl_multi_strerror(mc));
}

/* Start queued requests while there is room. A start that fails ends its request, which calls
 * start_queued again: that inner call does nothing, and this one goes on from the queue's head,
 * since the request it would have looked at next may have been ended meanwhile. */
static void start_queued(cw_session *s)
{
    if (s->starting)
        return;
    s->starting = true;
    request *r = s->queue_head;
    while (r && !s->closing && (s->options.limit == 0 || s->n_active < s->options.limit)) {
        if (can_start(s, r)) {
            unlink_request(r);
            start_request(r);
            r = s->queue_head;
        } else {
            r = r->next;
        }
    }
    s->starting = false;
}

static int cancel_request(cw_future *f)
{
    request_end(f->impl, CW_ECANCELLED, NULL);
    return 0;
}

static cw_future *failed_request(int code, const char *message)
{
    cw_future *f = cw_future_new();
    if (f)
        cw_future_fail(f, code, "%s: %s", cw_strerror(code), message);
    return f;
}

/* Check the URL before anything else, so bad input fails at once with a clear message. */
static int check_url(const char *url, char *host, size_t size, cw_future **error)
{
    char why[512];
    if (!url || !*url) {
        *error = failed_request(CW_EBADURL, "the URL is empty");
        return -1;
    }
    CURLU *u = curl_url();
    char *scheme = NULL, *name = NULL, *port = NULL;
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    int rc = 0;
    if (uc != CURLUE_OK) {
        snprintf(why, sizeof why, "'%.400s' (%s)", url, curl_url_strerror(uc));
        *error = failed_request(CW_EBADURL, why);
        rc = -1;
    } else if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
        snprintf(why, sizeof why, "'%.40s' in '%.400s' (only http and https)", scheme, url);
        *error = failed_request(CW_ESCHEME, why);
        rc = -1;
    } else if (curl_url_get(u, CURLUPART_HOST, &name, 0) != CURLUE_OK || !*name) {
        snprintf(why, sizeof why, "'%.400s' (no host)", url);
        *error = failed_request(CW_EBADURL, why);
        rc = -1;
    } else {
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
        snprintf(host, size, "%s:%s", name, port ? port : "");
    }
    curl_free(scheme);
    curl_free(name);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

/* A method is an HTTP token (RFC 9110: letters, digits and !#$%&'*+-.^_`|~), and no header may hold
 * a CR or LF: either would let the caller's text end a line and write its own request. */
static int check_method_and_headers(const cw_request *req, cw_future **error)
{
    char why[512];
    const char *method = req->method ? req->method : "GET";
    if (!*method || method[strspn(method, "!#$%&'*+-.^_`|~0123456789"
                                          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")]) {
        snprintf(why, sizeof why, "the method '%.100s' is not an HTTP method name (letters, digits, no spaces)",
                 method);
        *error = failed_request(CW_EINVAL, why);
        return -1;
    }
    for (int i = 0; req->headers && req->headers[i]; i++) {
        if (strpbrk(req->headers[i], "\r\n")) {
            int shown = (int)strcspn(req->headers[i], "\r\n");
            snprintf(why, sizeof why, "header %d ('%.*s...') holds a CR or LF (one header per string, no line breaks)",
                     i, shown < 100 ? shown : 100, req->headers[i]);
            *error = failed_request(CW_EINVAL, why);
            return -1;
        }
    }
    return 0;
}

cw_future *cw_session_request(cw_session *s, const cw_request *req)
{
    char host[300];
    cw_future *error = NULL;
    if (!s || !req)
        return failed_request(CW_EINVAL, s ? "the request is NULL" : "the session is NULL");
    if (s->closing)
        return failed_request(CW_EINVAL, "the session is closed");
    if (check_url(req->url, host, sizeof host, &error) < 0 || check_method_and_headers(req, &error) < 0)
        return error;

    request *r = calloc(1, sizeof *r);
    cw_future *f = cw_future_new();
    if (!r || !f)
        goto out_of_memory;
    r->session = s;
    r->future = f;
    r->method = strdup(req->method ? req->method : "GET");
    r->url = strdup(req->url);
    if (!r->method || !r->url)
        goto out_of_memory;
    snprintf(r->host, sizeof r->host, "%s", host);
    if (req->body) {
        r->body = malloc(req->body_len ? req->body_len : 1);
        if (!r->body)
            goto out_of_memory;
        memcpy(r->body, req->body, req->body_len);
        r->body_len = req->body_len;
    }
    r->headers = curl_slist_append(NULL, "Expect:"); /* no 1-second wait for "100 Continue" */
    for (int i = 0; r->headers && req->headers && req->headers[i]; i++) {
        struct curl_slist *more = curl_slist_append(r->headers, req->headers[i]);
        if (!more)
            curl_slist_free_all(r->headers);
        r->headers = more;
    }
    if (!r->headers)
        goto out_of_memory;
    r->timeouts = req->timeouts ? *req->timeouts : s->options.timeouts;
    f->kind = CW__FUTURE_REQUEST;
    f->impl = r;
    f->cancel = cancel_request;

    char label[48];
    const char *path = strstr(r->url, "://");
    path = path ? strchr(path + 3, '/') : NULL;
    snprintf(label, sizeof label, "%s %s", r->method, path ? path : r->url);
    r->span = cw_timeline_begin(CW_SPAN_REQUEST, label);

    uv_timer_init(s->loop, &r->deadline); /* cannot fail: it only fills in the handle */
    r->deadline.data = r;
    r->queued_at = fresh_now(s);
    r->phase = QUEUED;
    r->prev = s->queue_tail;
    if (s->queue_tail)
        s->queue_tail->next = r;
    else
        s->queue_head = r;
    s->queue_tail = r;
    arm_deadline(r);
    start_queued(s);
    return cw_future_retain(f); /* one reference for the caller, one kept until the request ends */

out_of_memory:
    if (r) {
        free(r->method);
        free(r->url);
        free(r->body);
        free(r);
    }
    free(f);
    return NULL;
}

static cw_future *request_without_headers(cw_session *s, const char *method, const char *url, const void *body, size_t len)
{
    cw_request req = { .method = method, .url = url, .body = body, .body_len = len };
    return cw_session_request(s, &req);
}

cw_future *cw_session_get(cw_session *s, const char *url)
{
    return request_without_headers(s, "GET", url, NULL, 0);
}

cw_future *cw_session_post(cw_session *s, const char *url, const void *body, size_t len)
{
    return request_without_headers(s, "POST", url, body ? body : "", len);
}

cw_future *cw_session_put(cw_session *s, const char *url, const void *body, size_t len)
{
    return request_without_headers(s, "PUT", url, body ? body : "", len);
}

cw_future *cw_session_delete(cw_session *s, const char *url)
{
    return request_without_headers(s, "DELETE", url, NULL, 0);
}

/* ---- opening and closing sessions --------------------------------------------------------- */

cw_session_options cw_session_options_default(void)
{
    return (cw_session_options){
        .limit = 100,
        .limit_per_host = 0,
        .timeouts = { .total_ms = CW_DEFAULT_TOTAL_MS, .sock_connect_ms = CW_DEFAULT_SOCK_CONNECT_MS },
        .max_body = 64u << 20,
    };
}

long cw_raise_open_file_limit(void)
{
    struct rlimit files;
    if (getrlimit(RLIMIT_NOFILE, &files) != 0)
        return -1;
    if (files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &files) != 0 && getrlimit(RLIMIT_NOFILE, &files) != 0)
            return -1;
    }
    return files.rlim_cur > (rlim_t)LONG_MAX ? LONG_MAX : (long)files.rlim_cur;
}

static void global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    cw_raise_open_file_limit(); /* every connection is a file descriptor */
}

static CURLMcode configure_multi(cw_session *s)
{
    CURLM *m = s->multi;
    long limit = s->options.limit;
    CURLMcode mc = curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, socket_changed);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(m, CURLMOPT_SOCKETDATA, s);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, timer_changed);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(m, CURLMOPT_TIMERDATA, s);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(m, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
    if (mc == CURLM_OK && limit > 0) /* our queue keeps transfers within the limit; libcurl's cache matches it */
        mc = curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, limit);
    if (mc == CURLM_OK && limit > 0)
        mc = curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, limit);
    return mc;
}

static void close_left_open(cw__closer *c);

int cw_session_open(cw_session **out, const cw_session_options *options)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    if (!out)
        return CW_EINVAL;
    *out = NULL;
    cw_session_options o = options ? *options : cw_session_options_default();
    if (o.limit < 0 || o.limit_per_host < 0)
        return CW_EINVAL;
    if (!cw_loop())
        return CW_ENOTASK;
    pthread_once(&once, global_init);
    cw_session *s = calloc(1, sizeof *s);
    if (!s || !(s->multi = curl_multi_init())) {
        free(s);
        return CW_ENOMEM;
    }
    s->options = o;
    s->loop = cw_loop();
    CURLMcode mc = configure_multi(s);
    if (mc != CURLM_OK) {
        curl_multi_cleanup(s->multi);
        free(s);
        return mc == CURLM_OUT_OF_MEMORY ? CW_ENOMEM : CW_EHTTP;
    }
    uv_timer_init(s->loop, &s->timer); /* cannot fail: it only fills in the handle */
    s->timer.data = s;
    s->open_handles = 1;
    s->left_open.close = close_left_open;
    cw__close_at_run_end(&s->left_open);
    *out = s;
    return 0;
}

static void session_handle_gone(cw_session *s)
{
    if (--s->open_handles > 0 || !s->closing)
        return;
    if (s->closed)
        cw_future_resolve(s->closed, NULL, NULL);
    cw_future_release(s->closed);
    free(s->hosts);
    free(s);
}

static void timer_closed(uv_handle_t *h)
{
    session_handle_gone(h->data);
}

/* Everything but the wait: end every request, let libcurl close its connections, close our handles. */
static void session_shut(cw_session *s)
{
    s->closing = true;
    cw__closer_forget(&s->left_open);
    while (s->queue_head)
        request_end(s->queue_head, CW_ECANCELLED, NULL);
    while (s->active)
        request_end(s->active, CW_ECANCELLED, NULL);
    while (s->n_spare > 0)
        curl_easy_cleanup(s->spare[--s->n_spare]);
    curl_multi_cleanup(s->multi); /* closes each pooled connection; fails only for a bad handle */
    s->multi = NULL;
    for (int fd = 0; fd < n_fds; fd++) /* any socket libcurl did not report closed */
        if (watch_of_fd[fd] && watch_of_fd[fd]->session == s)
            watch_close(watch_of_fd[fd]);
    uv_close((uv_handle_t *)&s->timer, timer_closed);
}

int cw_session_close(cw_session *s)
{
    if (!s || s->closing)
        return CW_EINVAL;
    if (!cw_current_task())
        return CW_ENOTASK;
    cw_future *closed = cw_future_new();
    if (!closed)
        return CW_ENOMEM;
    s->closed = cw_future_retain(closed);
    session_shut(s);
    int rc = cw_await(closed); /* CW_ECANCELLED here still closes everything: only the wait is cut short */
    cw_future_release(closed);
    return rc == CW_ECANCELLED ? rc : 0;
}

static void close_left_open(cw__closer *c)
{
    session_shut((cw_session *)((char *)c - offsetof(cw_session, left_open)));
}
