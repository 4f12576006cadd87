/*
 * http_session.c -- sessions (aiohttp's ClientSession) and their pool: one libcurl multi handle
 * each, the queue of requests waiting for a connection slot (limit, limit_per_host), the spare easy
 * handles, and closing: by the program (cw_session_close) or by cw_run() for a session left open.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include "cw_task.h"
#include "http.h"

/* The index of @p host in the session's hosts, added when new; -1: out of memory. */
static int host_index(cw_session *s, const char *host)
{
    for (int i = 0; i < s->n_hosts; i++)
        if (strcmp(s->hosts[i].host, host) == 0)
            return i;
    host_count *grown = realloc(s->hosts, (s->n_hosts + 1) * sizeof *grown);
    if (!grown)
        return -1;
    s->hosts = grown;
    host_count *h = &s->hosts[s->n_hosts];
    *h = (host_count){ .active = 0 };
    snprintf(h->host, sizeof h->host, "%s", host);
    return s->n_hosts++;
}

static bool per_host(const cw_session *s)
{
    return s->options.limit_per_host > 0;
}

static void unlink_request(request *r)
{
    cw_session *s = r->session;
    bool queued = r->phase == QUEUED;
    request **head = queued ? &s->queue_head : &s->active;
    if (r->prev)
        r->prev->next = r->next;
    else if (*head == r)
        *head = r->next;
    else
        return; /* in neither list: taken off the queue, and ended before it could start */
    if (r->next)
        r->next->prev = r->prev;
    else if (queued)
        s->queue_tail = r->prev;
    r->prev = r->next = NULL;
    if (queued && per_host(s)) {
        host_count *h = &s->hosts[r->host_index];
        if (r->host_prev)
            r->host_prev->host_next = r->host_next;
        else
            h->queue_head = r->host_next;
        if (r->host_next)
            r->host_next->host_prev = r->host_prev;
        else
            h->queue_tail = r->host_prev;
        r->host_prev = r->host_next = NULL;
    }
}

/* The request to start next: the queue's first, or with limit_per_host the first whose host has
 * room. Each host keeps its own queue, so this looks at one request per host, not at every request
 * queued behind a busy host. */
static request *next_to_start(cw_session *s)
{
    if (!per_host(s))
        return s->queue_head;
    request *first = NULL;
    for (int i = 0; i < s->n_hosts; i++) {
        request *r = s->hosts[i].queue_head;
        if (r && s->hosts[i].active < s->options.limit_per_host && (!first || r->order < first->order))
            first = r;
    }
    return first;
}

/* ---- the pool ------------------------------------------------------------------------------ */

int cw__pool_enqueue(request *r)
{
    cw_session *s = r->session;
    r->phase = QUEUED;
    if (per_host(s)) {
        if ((r->host_index = host_index(s, r->host)) < 0)
            return CW_ENOMEM;
        host_count *h = &s->hosts[r->host_index];
        r->host_next = NULL;
        r->host_prev = h->queue_tail;
        if (h->queue_tail)
            h->queue_tail->host_next = r;
        else
            h->queue_head = r;
        h->queue_tail = r;
    }
    r->order = s->n_queued++;
    r->next = NULL;
    r->prev = s->queue_tail;
    if (s->queue_tail)
        s->queue_tail->next = r;
    else
        s->queue_head = r;
    s->queue_tail = r;
    cw__pool_start_queued(s);
    return 0;
}

void cw__pool_activate(request *r)
{
    cw_session *s = r->session;
    r->phase = ACTIVE;
    r->next = s->active;
    if (s->active)
        s->active->prev = r;
    s->active = r;
    s->n_active++;
    if (per_host(s))
        s->hosts[r->host_index].active++;
}

void cw__pool_leave(request *r)
{
    unlink_request(r);
    if (r->phase == ACTIVE) {
        r->session->n_active--;
        if (per_host(r->session))
            r->session->hosts[r->host_index].active--;
    }
}

CURL *cw__pool_take_easy(cw_session *s, bool *is_new)
{
    *is_new = s->n_spare == 0;
    return *is_new ? curl_easy_init() : s->spare[--s->n_spare];
}

void cw__pool_recycle_easy(cw_session *s, CURL *easy, bool reusable)
{
    if (reusable && s->n_spare < CW__SPARE_EASY_HANDLES && !s->closing) {
        s->spare[s->n_spare++] = easy; /* as it is: cw__request_start() sets what each request needs */
    } else {
        curl_easy_cleanup(easy);
    }
}

/* Start queued requests while there is room. A start that fails ends its request, which calls
 * start_queued again: that inner call does nothing, and this one goes on. */
void cw__pool_start_queued(cw_session *s)
{
    if (s->starting)
        return;
    s->starting = true;
    request *r;
    while (!s->closing && (s->options.limit == 0 || s->n_active < s->options.limit) && (r = next_to_start(s))) {
        unlink_request(r);
        cw__request_start(r);
    }
    s->starting = false;
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
    CURLMcode mc = cw__loop_drive_multi(s);
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
    cw__deadlines_init(s);
    s->open_handles = 2;
    s->left_open.close = close_left_open;
    cw__close_at_run_end(&s->left_open);
    *out = s;
    return 0;
}

void cw__session_handle_gone(cw_session *s)
{
    if (--s->open_handles > 0 || !s->closing)
        return;
    if (s->closed)
        cw_future_resolve(s->closed, NULL, NULL);
    cw_future_release(s->closed);
    free(s->deadlines);
    free(s->hosts);
    free(s);
}

static void timer_closed(uv_handle_t *h)
{
    cw__session_handle_gone(h->data);
}

/* Everything but the wait: end every request, let libcurl close its connections, close our handles. */
static void session_shut(cw_session *s)
{
    s->closing = true;
    cw__closer_forget(&s->left_open);
    while (s->queue_head)
        cw__request_end(s->queue_head, CW_ECANCELLED, NULL);
    while (s->active)
        cw__request_end(s->active, CW_ECANCELLED, NULL);
    while (s->n_spare > 0)
        curl_easy_cleanup(s->spare[--s->n_spare]);
    curl_multi_cleanup(s->multi); /* closes each pooled connection; fails only for a bad handle */
    s->multi = NULL;
    cw__loop_unwatch_session(s); /* any socket libcurl did not report closed */
    uv_close((uv_handle_t *)&s->timer, timer_closed);
    uv_close((uv_handle_t *)&s->deadline_timer, timer_closed);
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
