/*
 * http_loop.c -- libcurl's multi interface driven by the libuv loop (the seam chapter 01 teaches).
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
 * loopback), and even stopping it and starting it again costs three (libuv's
 * uv_poll_start removes the descriptor from epoll before adding it back). So a
 * connection that was waiting for a response (watched for reading) stays
 * watched, marked idle and unreferenced: it keeps no loop alive, so an idle
 * pool never hides a deadlock, and the next request on it, which waits for
 * its response too, costs no system call here. Should the server close it or
 * write to it meanwhile, the poll is stopped then (libcurl checks a pooled
 * connection before reusing it). Any other socket is stopped at
 * CURL_POLL_REMOVE, which keeps libuv safe: libcurl 7.88 closes a socket that
 * is still connecting (a request cancelled then) without calling
 * close_socket, and says CURL_POLL_REMOVE only after the close; a poll still
 * running there makes libuv abort on EBADF. Sockets libcurl opens by other
 * means (its resolver's) have their poll closed at CURL_POLL_REMOVE.
 *
 * Above this file, requests and sessions (http_request.c, http_session.c) see
 * only two calls coming up: a transfer ended (cw__request_transfer_done) and a
 * socket of a request could not be watched (cw__request_end_unwatched).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "http.h"

typedef struct socket_watch {
    uv_poll_t poll;
    curl_socket_t fd;
    cw_session *session;
    bool connection; /* opened by open_socket: lives until close_socket */
    bool idle;       /* libcurl let go of it (CURL_POLL_REMOVE): waiting in the pool, or closed */
    int events;      /* what the poll watches (0: stopped) */
} socket_watch;

/* The watch of each socket, indexed by descriptor, shared by every session on this thread's loop.
 * A socket libcurl closed without close_socket leaves its (stopped) watch here; whichever session
 * gets that descriptor number next finds it and closes it before polling the new socket, because
 * closing a poll also removes its descriptor number from the loop's epoll set. */
static _Thread_local socket_watch **watch_of_fd;
static _Thread_local int n_fds, n_watches;

static int socket_changed(CURL *easy, curl_socket_t fd, int what, void *session, void *socketp);
static int timer_changed(CURLM *multi, long timeout_ms, void *session);
static curl_socket_t open_socket(void *userdata, curlsocktype purpose, struct curl_sockaddr *address);
static int close_socket(void *session, curl_socket_t fd);

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
        cw__request_transfer_done(r, msg->data.result); /* removes the handle, and with it any message it had left */
    }
}

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
        cw__request_end_unwatched(r);
    }
    /* CURLM_BAD_SOCKET: an event on a socket libcurl has just let go of, nothing to do. Anything
     * else means libcurl can no longer drive its transfers: end them all rather than leave them hanging. */
    if (mc != CURLM_OK && mc != CURLM_BAD_SOCKET && s->multi) {
        while (s->active)
            cw__request_end(s->active, CW_EHTTP, "%s: %s %s (libcurl: %s)", cw_strerror(CW_EHTTP), s->active->method,
                            s->active->url, curl_multi_strerror(mc));
    }
    if (s->multi)
        read_finished(s);
}

static int watch_events(socket_watch *w, int events);

static void socket_ready(uv_poll_t *poll, int status, int events)
{
    socket_watch *w = poll->data;
    int flags;
    if (w->idle) { /* a pooled connection closed or written to by the server: libcurl sees it when it
                    * next checks the connection; until then, it is not ours to read */
        watch_events(w, 0);
        return;
    }
    if (status < 0) /* e.g. UV_EBADF after a reset: libcurl must read the socket to see the error and retry */
        flags = CURL_CSELECT_ERR | CURL_CSELECT_IN | CURL_CSELECT_OUT;
    else
        flags = (events & UV_READABLE ? CURL_CSELECT_IN : 0) | (events & UV_WRITABLE ? CURL_CSELECT_OUT : 0);
    socket_action(w->session, w->fd, flags);
}

static void watch_closed(uv_handle_t *h)
{
    socket_watch *w = h->data;
    cw__session_handle_gone(w->session);
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
    int events = stale && stale->session == s && !stale->idle ? stale->events : 0;
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
        if (w && w->connection) { /* back in the pool, or already closed by libcurl: keep the handle */
            w->idle = true;
            uv_unref((uv_handle_t *)&w->poll);
            if (w->events != UV_READABLE) /* still connecting, maybe closed: stop (see the top) */
                watch_events(w, 0);
        } else if (w) {
            watch_close(w);
        }
        return 0;
    }
    int rc = 0;
    if (!w)
        rc = watch_new(s, fd, false, &w);
    else if (w->idle) {
        w->idle = false;
        uv_ref((uv_handle_t *)&w->poll);
    }
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

/* ---- what the other HTTP files ask of the loop ------------------------------------------ */

CURLMcode cw__loop_drive_multi(cw_session *s)
{
    CURLM *m = s->multi;
    CURLMcode mc = curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, socket_changed);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(m, CURLMOPT_SOCKETDATA, s);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, timer_changed);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(m, CURLMOPT_TIMERDATA, s);
    return mc;
}

void cw__loop_watch_sockets_of(CURL *easy, request *r)
{
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, r);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, close_socket);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, r->session);
}

void cw__loop_forget_failing(request *r)
{
    for (request **p = &r->session->failing; *p; p = &(*p)->next_failing) {
        if (*p == r) {
            *p = r->next_failing;
            return;
        }
    }
}

void cw__loop_unwatch_session(cw_session *s)
{
    for (int fd = 0; fd < n_fds; fd++) /* any socket libcurl did not report closed */
        if (watch_of_fd[fd] && watch_of_fd[fd]->session == s)
            watch_close(watch_of_fd[fd]);
}
