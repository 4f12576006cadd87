/**
 * @file fixture.c
 * @brief The fixture server: an httpbin-like HTTP/1.1 server on its own libuv loop and thread.
 *
 * One connection is a uv_tcp_t, a uv_timer_t and an http_parser. Requests on
 * a connection are answered strictly in order: the parser pauses after each
 * request and resumes only once the answer is handed to libuv, so pipelined
 * requests wait their turn in the connection's input buffer. The one timer
 * serves, in turn, the header timeout, /delay, /drip and the lingering close.
 *
 * Besides the routes in cw_fixture.h: HEAD wherever GET is allowed; /post,
 * /put and /patch (like /delete, for their method); /reset (reads the request,
 * then resets the connection: the client sees ECONNRESET). Limits: a header
 * section over 16 KiB gets 431, a URL over 2 KiB 414, a body over 8 MiB 413;
 * a client that does not send its whole request (headers and body) within
 * 10 s is dropped. /stats and /stats/reset are not counted in "requests", so
 * looking does not change what is seen.
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
#include "cw_fixture.h"
#include "cw_http.h"

#include <http_parser.h>
#include <uv.h>

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
    BACKLOG = 4096,                 /* the kernel caps it at net.core.somaxconn */
    HEADER_LIMIT = 16 * 1024,       /* a larger header section gets 431 */
    BODY_LIMIT = 8 * 1024 * 1024,   /* a larger body gets 413 */
    REQUEST_TIMEOUT_MS = 10000,     /* a client that has not sent its whole request by then is dropped */
    LINGER_MS = 2000,               /* after a final answer, read until EOF for this long */
    URL_MAX = 2048,                 /* a longer URL gets 414 */
    PENDING_LIMIT = 1024 * 1024,    /* stop reading when this much waits behind a slow answer */
    OUTPUT_LIMIT = 1024 * 1024,     /* stop reading when this much of the answers waits to be sent */
    REUSE_RESET_MS = 50,            /* /reset_on_reuse: how long the next request waits for its reset */
    BYTES_MAX = 64 * 1024 * 1024,   /* /bytes/{n} */
    DELAY_MAX_MS = 600000,          /* /delay/{ms} and /drip duration */
    DRIP_MAX = 100000,              /* /drip bytes */
    PATTERN_SIZE = 26 * 2520,       /* /bytes body chunk: the alphabet, repeated */
    CLOSE_SENT = 16,                /* /close sends this much of the body it announces */
};

/** What a request asked for, decided when its headers are complete. */
typedef enum route {
    ROUTE_NONE, ROUTE_GET, ROUTE_DELAY, ROUTE_STATUS, ROUTE_BYTES, ROUTE_DRIP, ROUTE_STALL,
    ROUTE_CLOSE, ROUTE_RESET, ROUTE_RESET_ON_REUSE, ROUTE_ECHO, ROUTE_METHOD, ROUTE_STATS, ROUTE_STATS_RESET,
    ROUTE_NOT_FOUND, ROUTE_BAD_ARGUMENT,
} route;

typedef struct conn conn;

struct cw_fixture {
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_async_t stopper;
    uv_thread_t thread;
    int port;
    conn *conns;                    /* every open connection, to close them at stop */
    atomic_long accepted, open, max_open, requests;
    atomic_uint connect_cost_ms;    /* cw_fixture_set_connect_cost(): a handshake's price */
    char read_buf[64 * 1024];       /* shared: the loop reads one stream at a time */
};

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_shutdown_t shutdown;
    http_parser parser;
    cw_fixture *fx;
    conn *prev, *next;
    int handles;                    /* close callbacks still to come before free */
    bool closing;                   /* uv_close called */
    bool draining;                  /* final answer sent: discard input until EOF */
    bool busy;                      /* an answer is in progress: queue further input */
    bool stalled;                   /* /stall: never answer, discard input */
    bool reading;
    bool peer_done;                 /* EOF from the client: answer what it sent, then close */
    bool reset_on_reuse;            /* /reset_on_reuse was answered: reset at the next request */
    bool keep_alive;
    bool head_only;                 /* HEAD: headers without the body */
    bool keep_body;
    bool field_is_type;             /* the header being read is Content-Type */
    bool last_was_value;
    int reject;                     /* status to answer instead of the route (413, 414, 431) */
    size_t head_bytes;
    route route;
    long arg, arg2;
    const char *bad_argument;
    long drip_sent;
    uint64_t drip_start;
    char *body;
    size_t body_len, body_cap;
    char *pending;                  /* input that arrived while an answer was in progress */
    size_t pending_len, pending_cap;
    size_t url_len, field_len, type_len;
    char field[16];
    char content_type[128];
    char url[URL_MAX];
};

/** A write that could not finish at once: the buffers still to send, and copies of the bytes that need one. */
typedef struct write_req {
    uv_write_t req;
    uv_buf_t bufs[];
} write_req;

static char pattern[PATTERN_SIZE];
static uv_once_t started_once = UV_ONCE_INIT;

static void conn_close(conn *c);
static void conn_reset(conn *c);
static void conn_drain(conn *c);
static void conn_continue(conn *c);

/* ---------------------------------------------------------------- counters */

static bool route_is_counted(route r)
{
    return r != ROUTE_NONE && r != ROUTE_STATS && r != ROUTE_STATS_RESET;
}

cw_fixture_stats cw_fixture_stats_get(const cw_fixture *fixture)
{
    cw_fixture_stats s = {
        .accepted = atomic_load(&fixture->accepted),
        .open = atomic_load(&fixture->open),
        .max_open = atomic_load(&fixture->max_open),
        .requests = atomic_load(&fixture->requests),
    };
    return s;
}

void cw_fixture_stats_reset(cw_fixture *fixture)
{
    atomic_store(&fixture->accepted, 0);
    atomic_store(&fixture->requests, 0);
    atomic_store(&fixture->max_open, atomic_load(&fixture->open));
}

/* ---------------------------------------------------------------- writing */

static bool conn_output_full(conn *c)
{
    return uv_stream_get_write_queue_size((uv_stream_t *) &c->tcp) > OUTPUT_LIMIT;
}

static void on_written(uv_write_t *req, int status)
{
    conn *c = req->data;
    free(req);
    if (status < 0)
        conn_close(c);
    else if (!c->reading && !c->closing && !c->draining && !conn_output_full(c))
        conn_continue(c); /* the answers have drained: read and parse again */
}

/**
 * Send @p bufs in order: try to write them at once, and queue what is left.
 * The first @p ncopy buffers are copied if they must wait; the rest are static.
 */
static void conn_send(conn *c, uv_buf_t *bufs, unsigned nbufs, unsigned ncopy)
{
    if (c->closing)
        return;
    int r = uv_try_write((uv_stream_t *) &c->tcp, bufs, nbufs);
    if (r < 0 && r != UV_EAGAIN) {
        conn_close(c);
        return;
    }
    size_t done = r > 0 ? (size_t) r : 0;
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
    char *copy = (char *) &w->bufs[left];
    for (unsigned k = i; k < nbufs; k++) {
        w->bufs[k - i] = bufs[k];
        if (k < ncopy) {
            memcpy(copy, bufs[k].base, bufs[k].len);
            w->bufs[k - i].base = copy;
            copy += bufs[k].len;
        }
    }
    w->req.data = c;
    if (uv_write(&w->req, (uv_stream_t *) &c->tcp, w->bufs, left, on_written) < 0) {
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
    case 304: return "Not Modified";
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

/** Format the status line and headers; a body length < 0 sends no Content-Length. */
static size_t format_head(const conn *c, char *out, size_t size, int status, const char *type,
                          long long body_len, const char *extra)
{
    char length[48] = "";
    if (body_len >= 0)
        snprintf(length, sizeof length, "Content-Length: %lld\r\n", body_len);
    int n = snprintf(out, size,
                     "HTTP/1.1 %d %s\r\nServer: cw-fixture\r\nContent-Type: %s\r\n%sConnection: %s\r\n%s\r\n",
                     status, reason_of(status), type, length, c->keep_alive ? "keep-alive" : "close",
                     extra ? extra : "");
    return n < 0 ? 0 : (size_t) n >= size ? size - 1 : (size_t) n;
}

/** Start an answer: count it, then send its head and (unless HEAD) its body in one write. */
static void conn_respond_extra(conn *c, int status, const char *type, const char *body, size_t len,
                               const char *extra)
{
    if (route_is_counted(c->route))
        atomic_fetch_add(&c->fx->requests, 1);
    bool bodiless = status == 204 || status == 304;
    char head[512];
    uv_buf_t bufs[2];
    bufs[0] = uv_buf_init(head, (unsigned) format_head(c, head, sizeof head, status, type,
                                                       bodiless ? -1 : (long long) len, extra));
    bufs[1] = uv_buf_init((char *) body, (unsigned) len);
    unsigned n = c->head_only || bodiless || len == 0 ? 1 : 2;
    conn_send(c, bufs, n, n);
}

static void conn_respond(conn *c, int status, const char *type, const char *body, size_t len)
{
    conn_respond_extra(c, status, type, body, len, NULL);
}

static void conn_respond_text(conn *c, int status, const char *text)
{
    conn_respond(c, status, "text/plain", text, strlen(text));
}

/** The answer is handed to libuv: the next request may go, or the connection ends. */
static void conn_answered(conn *c)
{
    c->busy = false;
    if (!c->keep_alive)
        conn_drain(c);
}

/* ---------------------------------------------------------------- routes */

/** Append @p len bytes of @p in to @p out as the inside of a JSON string; @p out needs 6 * len bytes. */
static size_t json_escape(char *out, const char *in, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char *o = out;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char) in[i];
        if (ch == '"' || ch == '\\') {
            *o++ = '\\';
            *o++ = (char) ch;
        } else if (ch < 0x20) {
            memcpy(o, "\\u00", 4);
            o[4] = hex[ch >> 4];
            o[5] = hex[ch & 15];
            o += 6;
        } else {
            *o++ = (char) ch;
        }
    }
    return (size_t) (o - out);
}

/** /get and /delay: {"method": "GET", "url": "/get?a=1"} plus @p more fields. */
static void answer_json_summary(conn *c, const char *more)
{
    char body[6 * URL_MAX + 256];
    size_t n = (size_t) snprintf(body, sizeof body, "{\"method\": \"%s\", \"url\": \"",
                                 http_method_str((enum http_method) c->parser.method));
    n += json_escape(body + n, c->url, c->url_len);
    n += (size_t) snprintf(body + n, sizeof body - n, "\"%s}\n", more ? more : "");
    conn_respond(c, 200, "application/json", body, n);
}

/** /anything, /post, /put, /patch, /delete: the summary plus the request body as a JSON string. */
static void answer_method(conn *c)
{
    size_t size = 6 * (URL_MAX + c->body_len + sizeof c->content_type) + 256;
    char *body = malloc(size);
    if (body == NULL) {
        conn_respond_text(c, 500, "out of memory\n");
        return;
    }
    size_t n = (size_t) snprintf(body, size, "{\"method\": \"%s\", \"url\": \"",
                                 http_method_str((enum http_method) c->parser.method));
    n += json_escape(body + n, c->url, c->url_len);
    n += (size_t) snprintf(body + n, size - n, "\", \"content_type\": \"");
    n += json_escape(body + n, c->content_type, c->type_len);
    n += (size_t) snprintf(body + n, size - n, "\", \"data\": \"");
    n += json_escape(body + n, c->body ? c->body : "", c->body_len);
    n += (size_t) snprintf(body + n, size - n, "\"}\n");
    conn_respond(c, 200, "application/json", body, n);
    free(body);
}

static void answer_stats(conn *c)
{
    cw_fixture_stats s = cw_fixture_stats_get(c->fx);
    char body[256];
    int n = snprintf(body, sizeof body, "{\"accepted\": %ld, \"open\": %ld, \"max_open\": %ld, \"requests\": %ld}\n",
                     s.accepted, s.open, s.max_open, s.requests);
    conn_respond(c, 200, "application/json", body, (size_t) n);
}

static void answer_bytes(conn *c)
{
    size_t n = (size_t) c->arg;
    char head[512];
    uv_buf_t bufs[1 + BYTES_MAX / PATTERN_SIZE + 1];
    unsigned nbufs = 0;
    atomic_fetch_add(&c->fx->requests, 1);
    bufs[nbufs++] = uv_buf_init(head, (unsigned) format_head(c, head, sizeof head, 200,
                                                             "application/octet-stream", (long long) n, NULL));
    for (size_t off = 0; !c->head_only && off < n; off += PATTERN_SIZE)
        bufs[nbufs++] = uv_buf_init(pattern, (unsigned) (n - off < PATTERN_SIZE ? n - off : PATTERN_SIZE));
    conn_send(c, bufs, nbufs, 1);
}

static void on_delay_done(uv_timer_t *timer)
{
    conn *c = timer->data;
    char more[64];
    snprintf(more, sizeof more, ", \"delay_ms\": %ld", c->arg);
    answer_json_summary(c, more);
    conn_answered(c);
    conn_continue(c);
}

static void drip_schedule(conn *c);

static void on_drip(uv_timer_t *timer)
{
    conn *c = timer->data;
    uv_buf_t one = uv_buf_init(pattern, 1);
    conn_send(c, &one, 1, 0);
    if (++c->drip_sent < c->arg) {
        drip_schedule(c);
        return;
    }
    conn_answered(c);
    conn_continue(c);
}

/** Byte i goes out at start + (i + 1) * duration / bytes, so the gaps do not drift. */
static void drip_schedule(conn *c)
{
    uint64_t due = c->drip_start + (uint64_t) ((c->drip_sent + 1) * c->arg2 / c->arg);
    uint64_t now = uv_now(&c->fx->loop);
    uv_timer_start(&c->timer, on_drip, due > now ? due - now : 0, 0);
}

static void answer_drip(conn *c)
{
    char head[512];
    atomic_fetch_add(&c->fx->requests, 1);
    uv_buf_t buf = uv_buf_init(head, (unsigned) format_head(c, head, sizeof head, 200,
                                                            "application/octet-stream", c->arg, NULL));
    conn_send(c, &buf, 1, 1);
    if (c->head_only || c->arg == 0) {
        conn_answered(c);
        return;
    }
    c->drip_sent = 0;
    c->drip_start = uv_now(&c->fx->loop);
    drip_schedule(c);
}

/** /close: announce a body, send part of it, then end the connection. */
static void answer_close(conn *c)
{
    char head[512];
    atomic_fetch_add(&c->fx->requests, 1);
    c->keep_alive = false;
    uv_buf_t bufs[2];
    bufs[0] = uv_buf_init(head, (unsigned) format_head(c, head, sizeof head, 200, "text/plain", 1000, NULL));
    bufs[1] = uv_buf_init(pattern, CLOSE_SENT);
    conn_send(c, bufs, 2, 1);
    conn_answered(c);
}

static bool method_is(const conn *c, enum http_method m)
{
    return c->parser.method == m;
}

static bool method_is_get(const conn *c)
{
    return method_is(c, HTTP_GET) || method_is(c, HTTP_HEAD);
}

static void answer_not_allowed(conn *c, const char *allow)
{
    char extra[64];
    snprintf(extra, sizeof extra, "Allow: %s\r\n", allow);
    static const char text[] = "method not allowed\n";
    conn_respond_extra(c, 405, "text/plain", text, sizeof text - 1, extra);
}

static void on_reuse_reset(uv_timer_t *timer)
{
    conn_reset(timer->data);
}

/** Answer the request just parsed; the connection stays busy while an answer is in progress. */
static void conn_answer(conn *c)
{
    c->busy = true;
    if (c->reset_on_reuse) { /* the request after /reset_on_reuse: the client waits, then gets a reset */
        uv_timer_start(&c->timer, on_reuse_reset, REUSE_RESET_MS, 0);
        return;
    }
    if ((c->route == ROUTE_DRIP || c->route == ROUTE_BYTES || c->route == ROUTE_GET) && !method_is_get(c)) {
        answer_not_allowed(c, "GET, HEAD");
        conn_answered(c);
        return;
    }
    switch (c->route) {
    case ROUTE_GET:
        answer_json_summary(c, NULL);
        break;
    case ROUTE_RESET_ON_REUSE:
        c->reset_on_reuse = true;
        answer_json_summary(c, NULL);
        break;
    case ROUTE_DELAY:
        uv_timer_start(&c->timer, on_delay_done, (uint64_t) c->arg, 0);
        return;
    case ROUTE_STATUS:
        conn_respond(c, (int) c->arg, "text/plain", "", 0);
        break;
    case ROUTE_BYTES:
        answer_bytes(c);
        break;
    case ROUTE_DRIP:
        answer_drip(c);  /* answered when its last byte is out */
        return;
    case ROUTE_STALL:
        c->stalled = true;
        return;
    case ROUTE_CLOSE:
        answer_close(c);
        return;
    case ROUTE_RESET:
        atomic_fetch_add(&c->fx->requests, 1);
        conn_reset(c);
        return;
    case ROUTE_ECHO:
        if (!method_is(c, HTTP_POST) && !method_is(c, HTTP_PUT) && !method_is(c, HTTP_PATCH))
            answer_not_allowed(c, "POST, PUT, PATCH");
        else
            conn_respond(c, 200, c->type_len ? c->content_type : "application/octet-stream",
                         c->body, c->body_len);
        break;
    case ROUTE_METHOD:
        if (c->arg >= 0 && c->parser.method != c->arg)
            answer_not_allowed(c, http_method_str((enum http_method) c->arg));
        else
            answer_method(c);
        break;
    case ROUTE_STATS:
        answer_stats(c);
        break;
    case ROUTE_STATS_RESET:
        cw_fixture_stats_reset(c->fx);
        answer_stats(c);
        break;
    case ROUTE_BAD_ARGUMENT:
        conn_respond_text(c, 400, c->bad_argument);
        break;
    case ROUTE_NOT_FOUND:
    case ROUTE_NONE:
        conn_respond_text(c, 404, "not found\n");
        break;
    }
    conn_answered(c);
}

/** Parse a whole decimal number in [min, max] from s[0..len); -1 when it is not one. */
static long parse_number(const char *s, size_t len, long min, long max)
{
    if (len == 0 || len > 10)
        return -1;
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v < min || v > max ? -1 : v;
}

/** The value of @p name in a query string ("a=1&b=2"), or @p fallback; -1 when it is no number in range. */
static long query_number(const char *query, const char *name, long fallback, long max)
{
    size_t name_len = strlen(name);
    for (const char *p = query; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
        if (strncmp(p, name, name_len) == 0 && p[name_len] == '=') {
            const char *v = p + name_len + 1;
            return parse_number(v, strcspn(v, "&"), 0, max);
        }
    }
    return fallback;
}

static bool path_is(const char *path, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(path, want, len) == 0;
}

/** The number after @p prefix in the path, or -2 when the path does not start with it. */
static long path_number(const char *path, size_t len, const char *prefix, long min, long max)
{
    size_t n = strlen(prefix);
    if (len < n || memcmp(path, prefix, n) != 0)
        return -2;
    return parse_number(path + n, len - n, min, max);
}

static void route_bad(conn *c, const char *why)
{
    c->route = ROUTE_BAD_ARGUMENT;
    c->bad_argument = why;
}

/** Decide the route from the URL once the headers are in. */
static void conn_route(conn *c)
{
    c->url[c->url_len] = '\0';
    const char *path = c->url;
    const char *query = strchr(path, '?');
    size_t len = query ? (size_t) (query - path) : c->url_len;
    long n;
    c->arg = -1;
    c->route = ROUTE_NOT_FOUND;
    if (path_is(path, len, "/get")) {
        c->route = ROUTE_GET;
    } else if ((n = path_number(path, len, "/delay/", 0, DELAY_MAX_MS)) != -2) {
        c->route = ROUTE_DELAY;
        c->arg = n;
        if (n < 0)
            route_bad(c, "/delay/{ms}: ms must be a whole number from 0 to 600000\n");
    } else if ((n = path_number(path, len, "/status/", 200, 599)) != -2) {
        c->route = ROUTE_STATUS;
        c->arg = n;
        if (n < 0)
            route_bad(c, "/status/{code}: code must be a number from 200 to 599\n");
    } else if ((n = path_number(path, len, "/bytes/", 0, BYTES_MAX)) != -2) {
        c->route = ROUTE_BYTES;
        c->arg = n;
        if (n < 0)
            route_bad(c, "/bytes/{n}: n must be a whole number from 0 to 67108864\n");
    } else if (path_is(path, len, "/drip")) {
        c->route = ROUTE_DRIP;
        c->arg = query_number(query ? query + 1 : NULL, "bytes", 10, DRIP_MAX);
        c->arg2 = query_number(query ? query + 1 : NULL, "duration_ms", 1000, DELAY_MAX_MS);
        if (c->arg < 0 || c->arg2 < 0)
            route_bad(c, "/drip?bytes=N&duration_ms=M: N from 0 to 100000, M from 0 to 600000\n");
    } else if (path_is(path, len, "/stall")) {
        c->route = ROUTE_STALL;
    } else if (path_is(path, len, "/close")) {
        c->route = ROUTE_CLOSE;
    } else if (path_is(path, len, "/reset")) {
        c->route = ROUTE_RESET;
    } else if (path_is(path, len, "/reset_on_reuse")) {
        c->route = ROUTE_RESET_ON_REUSE;
    } else if (path_is(path, len, "/echo")) {
        c->route = ROUTE_ECHO;
    } else if (path_is(path, len, "/anything") || (len > 10 && memcmp(path, "/anything/", 10) == 0)) {
        c->route = ROUTE_METHOD;
    } else if (path_is(path, len, "/post") || path_is(path, len, "/put") || path_is(path, len, "/patch") ||
               path_is(path, len, "/delete")) {
        c->route = ROUTE_METHOD;
        c->arg = path[1] == 'd' ? HTTP_DELETE : path[2] == 'o' ? HTTP_POST : path[2] == 'u' ? HTTP_PUT : HTTP_PATCH;
    } else if (path_is(path, len, "/stats")) {
        c->route = ROUTE_STATS;
    } else if (path_is(path, len, "/stats/reset")) {
        c->route = ROUTE_STATS_RESET;
    }
    c->keep_body = c->route == ROUTE_ECHO || c->route == ROUTE_METHOD;
}

/* ---------------------------------------------------------------- parsing */

static void on_request_timeout(uv_timer_t *timer)
{
    conn_close(timer->data);
}

static bool head_grows(conn *c, size_t len)
{
    c->head_bytes += len;
    if (c->head_bytes <= HEADER_LIMIT)
        return true;
    c->reject = 431;
    return false;
}

static int on_message_begin(http_parser *p)
{
    conn *c = p->data;
    c->url_len = c->type_len = c->field_len = c->head_bytes = c->body_len = 0;
    c->last_was_value = true;
    c->field_is_type = false;
    c->reject = 0;
    c->route = ROUTE_NONE;
    uv_timer_start(&c->timer, on_request_timeout, REQUEST_TIMEOUT_MS, 0);
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    conn *c = p->data;
    if (!head_grows(c, len))
        return -1;
    if (c->url_len + len >= URL_MAX) {
        c->reject = 414;
        return -1;
    }
    memcpy(c->url + c->url_len, at, len);
    c->url_len += len;
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    conn *c = p->data;
    if (!head_grows(c, len + (c->last_was_value ? 4 : 0)))  /* 4: ": " and CRLF */
        return -1;
    if (c->last_was_value)
        c->field_len = 0;
    c->last_was_value = false;
    /* A name may come in pieces; keep what fits (a longer one is no field we look for) and count the rest. */
    if (c->field_len < sizeof c->field) {
        size_t room = sizeof c->field - c->field_len;
        memcpy(c->field + c->field_len, at, len < room ? len : room);
    }
    c->field_len += len;
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    conn *c = p->data;
    if (!head_grows(c, len))
        return -1;
    if (!c->last_was_value) {
        c->field_is_type = c->field_len == 12 && strncasecmp(c->field, "content-type", 12) == 0;
        if (c->field_is_type)
            c->type_len = 0;
    }
    c->last_was_value = true;
    if (c->field_is_type) {
        size_t room = sizeof c->content_type - 1 - c->type_len;
        size_t n = len < room ? len : room;
        memcpy(c->content_type + c->type_len, at, n);
        c->type_len += n;
        c->content_type[c->type_len] = '\0';
    }
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    conn *c = p->data;
    c->keep_alive = http_should_keep_alive(p);
    c->head_only = p->method == HTTP_HEAD;
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > BODY_LIMIT) {
        c->reject = 413;
        return -1;  /* any value but 0, 1 and 2 is an error for http-parser */
    }
    conn_route(c);
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    conn *c = p->data;
    if (c->body_len + len > BODY_LIMIT) {
        c->reject = 413;
        return -1;
    }
    if (!c->keep_body)
        return 0;
    if (c->body_len + len > c->body_cap) {
        size_t cap = c->body_cap ? c->body_cap : 4096;
        while (cap < c->body_len + len)
            cap *= 2;
        char *body = realloc(c->body, cap);
        if (body == NULL) {
            c->reject = 413;
            return -1;
        }
        c->body = body;
        c->body_cap = cap;
    }
    memcpy(c->body + c->body_len, at, len);
    c->body_len += len;
    return 0;
}

/* The whole request is in: its timeout ends. Pause, so that the caller answers it before reading the next. */
static int on_message_complete(http_parser *p)
{
    conn *c = p->data;
    uv_timer_stop(&c->timer);
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/** A request the server will not serve: answer @p status and end the connection. */
static void conn_reject(conn *c, int status)
{
    static const char *const texts[] = { "bad request\n", "header section too large\n", "body too large\n",
                                         "URL too long\n" };
    c->keep_alive = false;
    c->head_only = false;
    c->route = ROUTE_NONE;
    conn_respond_text(c, status, texts[status == 431 ? 1 : status == 413 ? 2 : status == 414 ? 3 : 0]);
    conn_drain(c);
}

/** Parse and answer requests from @p data while the connection is free; return the bytes used. */
static size_t conn_parse(conn *c, const char *data, size_t len)
{
    size_t used = 0;
    while (used < len && !c->busy && !c->draining && !c->closing && !conn_output_full(c)) {
        size_t n = http_parser_execute(&c->parser, &parser_settings, data + used, len - used);
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
        uv_read_stop((uv_stream_t *) &c->tcp);
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
    (void) suggested;
    conn *c = handle->data;
    *buf = uv_buf_init(c->fx->read_buf, sizeof c->fx->read_buf);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    conn *c = stream->data;
    if (nread < 0) {
        /* An error, or EOF while an answer waits on a timer or after the last one: the client is gone.
           Any other EOF is a half-close: answer what it sent (conn_continue), then close. */
        if (nread != UV_EOF || c->busy || c->stalled || c->draining || c->closing) {
            conn_close(c);
            return;
        }
        c->peer_done = true;
        conn_stop_reading(c);
        conn_continue(c);
        return;
    }
    if (c->draining || c->stalled || c->closing)
        return;
    size_t used = c->busy ? 0 : conn_parse(c, buf->base, (size_t) nread);
    if (used < (size_t) nread && (c->busy || conn_output_full(c)) && !c->stalled && !c->draining && !c->closing)
        conn_keep(c, buf->base + used, (size_t) nread - used);
    if (conn_output_full(c))
        conn_stop_reading(c); /* a client that does not read its answers is not fed more: on_written resumes */
}

/** An answer finished outside the read callback: go on with the input that waited for it. */
static void conn_continue(conn *c)
{
    if (c->busy || c->draining || c->closing)
        return;
    if (c->pending_len > 0) {
        size_t used = conn_parse(c, c->pending, c->pending_len);
        memmove(c->pending, c->pending + used, c->pending_len - used);
        c->pending_len -= used;
    }
    if (c->busy || c->draining || c->closing || conn_output_full(c))
        return;
    if (c->peer_done) { /* every request the half-closed client sent is answered */
        if (uv_stream_get_write_queue_size((uv_stream_t *) &c->tcp) == 0)
            conn_close(c); /* all sent, and no input is left unread (so no reset): close at once */
        else
            conn_drain(c); /* close once the answers are out */
    } else if (!c->reading) {
        c->reading = uv_read_start((uv_stream_t *) &c->tcp, on_alloc, on_read) == 0;
        if (!c->reading)
            conn_close(c);
    }
}

/* ---------------------------------------------------------------- connections */

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
    if (c->closing)
        return;
    c->closing = true;
    if (c->prev)
        c->prev->next = c->next;
    else
        c->fx->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    atomic_fetch_sub(&c->fx->open, 1);
    if (!reset || uv_tcp_close_reset(&c->tcp, on_conn_closed) < 0)
        uv_close((uv_handle_t *) &c->tcp, on_conn_closed);
    uv_close((uv_handle_t *) &c->timer, on_conn_closed);
}

static void conn_close(conn *c)
{
    conn_end(c, false);
}

static void conn_reset(conn *c)
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
    if (c->closing)
        return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    /* Read (and drop) until the client closes too: closing with unread input would send a reset
       that can destroy the answer before the client has read it. */
    uv_timer_start(&c->timer, on_linger_over, LINGER_MS, 0);
    if (!c->reading)
        c->reading = uv_read_start((uv_stream_t *) &c->tcp, on_alloc, on_read) == 0;
}

/** The last answer is queued: send FIN after it, then wait for the client's. */
static void conn_drain(conn *c)
{
    if (c->draining || c->closing)
        return;
    c->draining = true;
    uv_timer_stop(&c->timer);
    c->shutdown.data = c;
    if (uv_shutdown(&c->shutdown, (uv_stream_t *) &c->tcp, on_shutdown) < 0)
        conn_close(c);
}

static void on_connection(uv_stream_t *server, int status)
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
    if (uv_accept(server, (uv_stream_t *) &c->tcp) < 0) {
        conn_close(c);
        return;
    }
    unsigned cost = atomic_load(&fx->connect_cost_ms);
    if (cost > 0)
        uv_sleep(cost); /* a handshake's time; the whole server waits, see cw_fixture_set_connect_cost() */
    atomic_fetch_add(&fx->accepted, 1);
    uv_tcp_nodelay(&c->tcp, 1);
    uv_timer_start(&c->timer, on_request_timeout, REQUEST_TIMEOUT_MS, 0);
    c->reading = uv_read_start((uv_stream_t *) &c->tcp, on_alloc, on_read) == 0;
    if (!c->reading)
        conn_close(c);
}

void cw_fixture_set_connect_cost(cw_fixture *fixture, unsigned ms)
{
    atomic_store(&fixture->connect_cost_ms, ms);
}

/* ---------------------------------------------------------------- the server */

static void on_stop(uv_async_t *async)
{
    cw_fixture *fx = async->data;
    uv_close((uv_handle_t *) &fx->listener, NULL);
    uv_close((uv_handle_t *) &fx->stopper, NULL);
    while (fx->conns)
        conn_close(fx->conns);
}

static void server_thread(void *arg)
{
    cw_fixture *fx = arg;
    /* Signals belong to the program's own threads; a write to a closed socket must give EPIPE, not kill. */
    sigset_t all;
    sigfillset(&all);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    sigdelset(&all, SIGABRT);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
}

static void fill_pattern(void)
{
    for (size_t i = 0; i < sizeof pattern; i++)
        pattern[i] = (char) ('a' + i % 26);
}

static void start_once(void)
{
    fill_pattern();
    cw_raise_open_file_limit(); /* thousands of connections need thousands of descriptors */
}

cw_fixture *cw_fixture_start(int port)
{
    uv_once(&started_once, start_once);
    cw_fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL)
        return NULL;
    int r = uv_loop_init(&fx->loop);
    if (r < 0) {
        fprintf(stderr, "fixture server: cannot create a loop: %s\n", uv_strerror(r));
        free(fx);
        return NULL;
    }
    fx->listener.data = fx->stopper.data = fx;
    uv_tcp_init(&fx->loop, &fx->listener);
    struct sockaddr_in addr;
    struct sockaddr_storage bound;
    int bound_len = sizeof bound;
    uv_ip4_addr("127.0.0.1", port, &addr);
    if ((r = uv_tcp_bind(&fx->listener, (const struct sockaddr *) &addr, 0)) < 0 ||
        (r = uv_listen((uv_stream_t *) &fx->listener, BACKLOG, on_connection)) < 0 ||
        (r = uv_tcp_getsockname(&fx->listener, (struct sockaddr *) &bound, &bound_len)) < 0 ||
        (r = uv_async_init(&fx->loop, &fx->stopper, on_stop)) < 0) {
        fprintf(stderr, "fixture server: cannot listen on 127.0.0.1:%d: %s\n", port, uv_strerror(r));
        uv_close((uv_handle_t *) &fx->listener, NULL);
        uv_run(&fx->loop, UV_RUN_DEFAULT);
        uv_loop_close(&fx->loop);
        free(fx);
        return NULL;
    }
    fx->port = ntohs(((struct sockaddr_in *) &bound)->sin_port);
    if ((r = uv_thread_create(&fx->thread, server_thread, fx)) < 0) {
        fprintf(stderr, "fixture server: cannot start its thread: %s\n", uv_strerror(r));
        uv_close((uv_handle_t *) &fx->listener, NULL);
        uv_close((uv_handle_t *) &fx->stopper, NULL);
        uv_run(&fx->loop, UV_RUN_DEFAULT);
        uv_loop_close(&fx->loop);
        free(fx);
        return NULL;
    }
    return fx;
}

int cw_fixture_port(const cw_fixture *fixture)
{
    return fixture->port;
}

char *cw_fixture_url(const cw_fixture *fixture, const char *path, char *out, unsigned long size)
{
    snprintf(out, size, "http://127.0.0.1:%d%s", fixture->port, path ? path : "");
    return out;
}

void cw_fixture_stop(cw_fixture *fixture)
{
    if (fixture == NULL)
        return;
    uv_async_send(&fixture->stopper);
    uv_thread_join(&fixture->thread);
    int r = uv_loop_close(&fixture->loop);
    if (r < 0)
        fprintf(stderr, "fixture server: loop not empty at stop: %s\n", uv_strerror(r));
    free(fixture);
}

int cw_fixture_for_demo(int argc, char **argv, char *base, unsigned long size, cw_fixture **started)
{
    *started = NULL;
    const char *url = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--url") == 0 && i + 1 < argc)
            url = argv[++i];
        else if (strncmp(argv[i], "--url=", 6) == 0)
            url = argv[i] + 6;
    }
    if (url != NULL) {
        snprintf(base, size, "%s", url); /* exactly as given: the page to fetch */
        return 0;
    }
    cw_fixture *fx = cw_fixture_start(0);
    if (fx == NULL)
        return -1;
    cw_fixture_url(fx, "", base, size);
    *started = fx;
    return 0;
}
