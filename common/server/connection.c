/*
 * connection.c -- one connection of the fixture server: a uv_tcp_t, a uv_timer_t and an http_parser.
 *
 * Requests on a connection are answered strictly in order: the parser pauses
 * after each request and resumes only once the answer is handed to libuv, so
 * pipelined requests wait their turn in the connection's input buffer. The one
 * timer serves, in turn, the header timeout, /delay, /drip and the lingering
 * close. What a request answers is routes.c's business; this file only knows
 * that an answer is now, later, or never (conn->state).
 *
 * Memory per connection is bounded both ways: input waiting behind a slow
 * answer stops being read past PENDING_LIMIT, and a client that pipelines
 * requests without reading the answers stops being read once OUTPUT_LIMIT
 * bytes of answers wait to be sent; reading resumes as they drain. A client
 * that half-closes (EOF) still gets the answers to every request it sent,
 * then the server closes; only an answer that is waiting on a timer (/delay,
 * /drip, /stall) is abandoned at EOF, because a half-close cannot be told
 * from a client that has gone away.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "server.h"

/** A write that could not finish at once: the buffers still to send, and copies of the bytes that need one. */
typedef struct write_req {
    uv_write_t req;
    uv_buf_t bufs[];
} write_req;

static void conn_close(conn *c);
static void conn_drain(conn *c);
static void conn_continue(conn *c);

/* Not reading requests: answering one, stalled, draining or closing. */
static bool conn_held(const conn *c)
{
    return c->state != CONN_READING;
}

/* Draining or closing: no more answers. */
static bool conn_ending(const conn *c)
{
    return c->state == CONN_DRAINING || c->state == CONN_CLOSING;
}

/* ---------------------------------------------------------------- writing */

static bool conn_output_full(conn *c)
{
    return uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > OUTPUT_LIMIT;
}

static void on_written(uv_write_t *req, int status)
{
    conn *c = req->data;
    free(req);
    if (status < 0)
        conn_close(c);
    else if (!c->reading && !conn_ending(c) && !conn_output_full(c))
        conn_continue(c); /* the answers have drained: read and parse again */
}

/**
 * Send @p bufs in order: try to write them at once, and queue what is left.
 * The first @p ncopy buffers are copied if they must wait; the rest are static.
 */
void cw__conn_send(conn *c, uv_buf_t *bufs, unsigned nbufs, unsigned ncopy)
{
    if (c->state == CONN_CLOSING)
        return;
    int r = uv_try_write((uv_stream_t *)&c->tcp, bufs, nbufs);
    if (r < 0 && r != UV_EAGAIN) {
        conn_close(c);
        return;
    }
    size_t done = r > 0 ? (size_t)r : 0;
    unsigned i = 0;
    while (i < nbufs && done >= bufs[i].len)
        done -= bufs[i++].len;
    if (i == nbufs)
        return;
    bufs[i].base += done;
    bufs[i].len -= done;

    size_t copied = 0;
    for (unsigned k = i; k < ncopy; k++)
        copied += bufs[k].len;
    unsigned left = nbufs - i;
    write_req *w = malloc(sizeof *w + left * sizeof(uv_buf_t) + copied);
    if (w == NULL) {
        conn_close(c);
        return;
    }
    char *copy = (char *)&w->bufs[left];
    for (unsigned k = i; k < nbufs; k++) {
        w->bufs[k - i] = bufs[k];
        if (k < ncopy) {
            memcpy(copy, bufs[k].base, bufs[k].len);
            w->bufs[k - i].base = copy;
            copy += bufs[k].len;
        }
    }
    w->req.data = c;
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, w->bufs, left, on_written) < 0) {
        free(w);
        conn_close(c);
    }
}

static const char *reason_of(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 418: return "I'm a teapot";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
    }
}

void cw__conn_count(conn *c)
{
    if (c->route && !c->route->not_counted)
        atomic_fetch_add(&c->fx->requests, 1);
}

/** Format the status line and headers; a body length < 0 sends no Content-Length. */
size_t cw__conn_head(conn *c, char *out, size_t size, int status, const char *type, long long body_len,
                     const char *extra)
{
    cw__conn_count(c); /* every answer starts here */
    char length[48] = "";
    if (body_len >= 0)
        snprintf(length, sizeof length, "Content-Length: %lld\r\n", body_len);
    int n =
        snprintf(out, size, "HTTP/1.1 %d %s\r\nServer: cw-fixture\r\nContent-Type: %s\r\n%sConnection: %s\r\n%s\r\n",
                 status, reason_of(status), type, length, c->keep_alive ? "keep-alive" : "close", extra ? extra : "");
    return n < 0 ? 0 : (size_t)n >= size ? size - 1 : (size_t)n;
}

/** Start an answer: count it, then send its head and (unless HEAD) its body in one write. */
void cw__conn_respond(conn *c, int status, const char *type, const char *body, size_t len, const char *extra)
{
    bool bodiless = status == 204 || status == 304;
    char head[512];
    uv_buf_t bufs[2];
    bufs[0] = uv_buf_init(
        head, (unsigned)cw__conn_head(c, head, sizeof head, status, type, bodiless ? -1 : (long long)len, extra));
    bufs[1] = uv_buf_init((char *)body, (unsigned)len);
    unsigned n = c->head_only || bodiless || len == 0 ? 1 : 2;
    cw__conn_send(c, bufs, n, n);
}

void cw__conn_respond_text(conn *c, int status, const char *text)
{
    cw__conn_respond(c, status, "text/plain", text, strlen(text), NULL);
}

/** The answer is handed to libuv: the next request may go, or the connection ends. */
static void conn_answered(conn *c)
{
    if (c->state == CONN_ANSWERING)
        c->state = CONN_READING;
    if (!c->keep_alive)
        conn_drain(c);
}

void cw__conn_answered_later(conn *c)
{
    conn_answered(c);
    conn_continue(c);
}

static void on_reuse_reset(uv_timer_t *timer)
{
    cw__conn_reset(timer->data);
}

/** Answer the request just parsed; no further request is read while the answer is in progress. */
static void conn_answer(conn *c)
{
    c->state = CONN_ANSWERING;
    if (c->reset_on_reuse) { /* the request after /reset_on_reuse: the client waits, then gets a reset */
        uv_timer_start(&c->timer, on_reuse_reset, REUSE_RESET_MS, 0);
        return;
    }
    if (cw__route_answer(c) == CW__ANSWERED_NOW)
        conn_answered(c);
}

/** A request the server will not serve: answer @p status and end the connection. */
static void conn_reject(conn *c, int status)
{
    static const char *const texts[] = { "bad request\n", "header section too large\n", "body too large\n",
                                         "URL too long\n" };
    c->keep_alive = false;
    c->head_only = false;
    c->route = NULL; /* not counted */
    cw__conn_respond_text(c, status, texts[status == 431 ? 1 : status == 413 ? 2 : status == 414 ? 3 : 0]);
    conn_drain(c);
}

/** Parse and answer requests from @p data while the connection is free; return the bytes used. */
static size_t conn_parse(conn *c, const char *data, size_t len)
{
    size_t used = 0;
    while (used < len && !conn_held(c) && !conn_output_full(c)) {
        size_t n = http_parser_execute(&c->parser, &cw__parser_settings, data + used, len - used);
        used += n;
        enum http_errno err = HTTP_PARSER_ERRNO(&c->parser);
        if (err == HPE_PAUSED) {
            http_parser_pause(&c->parser, 0);
            conn_answer(c);
        } else if (err != HPE_OK || n == 0) {
            conn_reject(c, c->reject ? c->reject : 400);
            return len;
        }
    }
    return used;
}

static void conn_stop_reading(conn *c)
{
    if (c->reading)
        uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
}

/** Keep input that arrived while an answer is in progress. */
static void conn_keep(conn *c, const char *data, size_t len)
{
    if (c->pending_len + len > c->pending_cap) {
        size_t cap = c->pending_cap ? c->pending_cap : 4096;
        while (cap < c->pending_len + len)
            cap *= 2;
        char *p = realloc(c->pending, cap);
        if (p == NULL) {
            conn_close(c);
            return;
        }
        c->pending = p;
        c->pending_cap = cap;
    }
    memcpy(c->pending + c->pending_len, data, len);
    c->pending_len += len;
    if (c->pending_len > PENDING_LIMIT)
        conn_stop_reading(c);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    conn *c = handle->data;
    *buf = uv_buf_init(c->fx->read_buf, sizeof c->fx->read_buf);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    conn *c = stream->data;
    if (nread < 0) {
        /* An error, or EOF while an answer waits on a timer or after the last one: the client is gone.
           Any other EOF is a half-close: answer what it sent (conn_continue), then close. */
        if (nread != UV_EOF || conn_held(c)) {
            conn_close(c);
            return;
        }
        c->peer_done = true;
        conn_stop_reading(c);
        conn_continue(c);
        return;
    }
    if (c->state == CONN_STALLED || conn_ending(c))
        return;
    size_t used = c->state == CONN_ANSWERING ? 0 : conn_parse(c, buf->base, (size_t)nread);
    if (used < (size_t)nread && (c->state == CONN_ANSWERING || (c->state == CONN_READING && conn_output_full(c))))
        conn_keep(c, buf->base + used, (size_t)nread - used);
    if (conn_output_full(c))
        conn_stop_reading(c); /* a client that does not read its answers is not fed more: on_written resumes */
}

/** An answer finished outside the read callback: go on with the input that waited for it. */
static void conn_continue(conn *c)
{
    if (conn_held(c))
        return;
    if (c->pending_len > 0) {
        size_t used = conn_parse(c, c->pending, c->pending_len);
        memmove(c->pending, c->pending + used, c->pending_len - used);
        c->pending_len -= used;
    }
    if (conn_held(c) || conn_output_full(c))
        return;
    if (c->peer_done) { /* every request the half-closed client sent is answered */
        if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) == 0)
            conn_close(c); /* all sent, and no input is left unread (so no reset): close at once */
        else
            conn_drain(c); /* close once the answers are out */
    } else if (!c->reading) {
        c->reading = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0;
        if (!c->reading)
            conn_close(c);
    }
}

/* ---------------------------------------------------------------- connections */

void cw__conn_request_timeout(uv_timer_t *timer)
{
    conn_close(timer->data);
}

static void on_conn_closed(uv_handle_t *handle)
{
    conn *c = handle->data;
    if (--c->handles > 0)
        return;
    free(c->body);
    free(c->pending);
    free(c);
}

/** Close the connection, with a reset (RST) instead of the usual FIN when @p reset. */
static void conn_end(conn *c, bool reset)
{
    if (c->state == CONN_CLOSING)
        return;
    c->state = CONN_CLOSING;
    if (c->prev)
        c->prev->next = c->next;
    else
        c->fx->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    atomic_fetch_sub(&c->fx->open, 1);
    if (!reset || uv_tcp_close_reset(&c->tcp, on_conn_closed) < 0)
        uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
    uv_close((uv_handle_t *)&c->timer, on_conn_closed);
}

static void conn_close(conn *c)
{
    conn_end(c, false);
}

void cw__conn_reset(conn *c)
{
    conn_end(c, true);
}

static void on_linger_over(uv_timer_t *timer)
{
    conn_close(timer->data);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    conn *c = req->data;
    if (c->state == CONN_CLOSING)
        return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    /* Read (and drop) until the client closes too: closing with unread input would send a reset
       that can destroy the answer before the client has read it. */
    uv_timer_start(&c->timer, on_linger_over, LINGER_MS, 0);
    if (!c->reading)
        c->reading = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0;
}

/** The last answer is queued: send FIN after it, then wait for the client's. */
static void conn_drain(conn *c)
{
    if (conn_ending(c))
        return;
    c->state = CONN_DRAINING;
    uv_timer_stop(&c->timer);
    c->shutdown.data = c;
    if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) < 0)
        conn_close(c);
}

void cw__conn_accept(uv_stream_t *server, int status)
{
    cw_fixture *fx = server->data;
    if (status < 0)
        return;
    conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return;
    c->fx = fx;
    c->handles = 2;
    c->tcp.data = c->timer.data = c;
    uv_tcp_init(&fx->loop, &c->tcp);
    uv_timer_init(&fx->loop, &c->timer);
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    c->next = fx->conns;
    if (fx->conns)
        fx->conns->prev = c;
    fx->conns = c;
    long open = atomic_fetch_add(&fx->open, 1) + 1;
    if (open > atomic_load(&fx->max_open))
        atomic_store(&fx->max_open, open);
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
        conn_close(c);
        return;
    }
    unsigned cost = atomic_load(&fx->connect_cost_ms);
    if (cost > 0)
        uv_sleep(cost); /* a handshake's time; the whole server waits, see cw_fixture_set_connect_cost() */
    atomic_fetch_add(&fx->accepted, 1);
    uv_tcp_nodelay(&c->tcp, 1);
    uv_timer_start(&c->timer, cw__conn_request_timeout, REQUEST_TIMEOUT_MS, 0);
    c->reading = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0;
    if (!c->reading)
        conn_close(c);
}

void cw__conn_close_all(cw_fixture *fx)
{
    while (fx->conns)
        conn_close(fx->conns);
}
