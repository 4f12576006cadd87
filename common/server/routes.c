/*
 * routes.c -- what the fixture server answers: one table of {path pattern, methods, handler}.
 *
 * The table (routes[], at the end) is the whole list of paths; cw_fixture.h describes each. A
 * handler answers at once (CW__ANSWERED_NOW) or later, from the connection's timer, or never
 * (CW__ANSWERED_LATER). HEAD goes wherever GET does. A method a route does not take gets 405
 * with an Allow header made from the route's methods. The generated site (/site, site.c) is one
 * entry of the table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server.h"
#include "site.h"

/* ---------------------------------------------------------------- arguments */

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

/** The number after @p prefix in the path, or -2 when the path does not start with it. */
static long path_number(const char *path, size_t len, const char *prefix, long min, long max)
{
    size_t n = strlen(prefix);
    if (len < n || memcmp(path, prefix, n) != 0)
        return -2;
    return parse_number(path + n, len - n, min, max);
}

/* The request's path (without the query) and its length. */
static size_t path_length(const conn *c)
{
    return strcspn(c->url, "?");
}

static const char *query_of(const conn *c)
{
    const char *q = strchr(c->url, '?');
    return q ? q + 1 : NULL;
}

/* ---------------------------------------------------------------- bodies */

/** Append @p len bytes of @p in to @p out as the inside of a JSON string; @p out needs 6 * len bytes. */
static size_t json_escape(char *out, const char *in, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char *o = out;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (ch == '"' || ch == '\\') {
            *o++ = '\\';
            *o++ = (char)ch;
        } else if (ch < 0x20) {
            memcpy(o, "\\u00", 4);
            o[4] = hex[ch >> 4];
            o[5] = hex[ch & 15];
            o += 6;
        } else {
            *o++ = (char)ch;
        }
    }
    return (size_t)(o - out);
}

/** /get and /delay: {"method": "GET", "url": "/get?a=1"} plus @p more fields. */
static void answer_json_summary(conn *c, const char *more)
{
    char body[6 * URL_MAX + 256];
    size_t n = (size_t)snprintf(body, sizeof body, "{\"method\": \"%s\", \"url\": \"",
                                http_method_str((enum http_method)c->parser.method));
    n += json_escape(body + n, c->url, c->url_len);
    n += (size_t)snprintf(body + n, sizeof body - n, "\"%s}\n", more ? more : "");
    cw__conn_respond(c, 200, "application/json", body, n, NULL);
}

/** /anything, /post, /put, /patch, /delete: the summary plus the request body as a JSON string. */
static void answer_method(conn *c)
{
    size_t size = 6 * (URL_MAX + c->body_len + sizeof c->content_type) + 256;
    char *body = malloc(size);
    if (body == NULL) {
        cw__conn_respond_text(c, 500, "out of memory\n");
        return;
    }
    size_t n = (size_t)snprintf(body, size, "{\"method\": \"%s\", \"url\": \"",
                                http_method_str((enum http_method)c->parser.method));
    n += json_escape(body + n, c->url, c->url_len);
    n += (size_t)snprintf(body + n, size - n, "\", \"content_type\": \"");
    n += json_escape(body + n, c->content_type, c->type_len);
    n += (size_t)snprintf(body + n, size - n, "\", \"data\": \"");
    n += json_escape(body + n, c->body ? c->body : "", c->body_len);
    n += (size_t)snprintf(body + n, size - n, "\"}\n");
    cw__conn_respond(c, 200, "application/json", body, n, NULL);
    free(body);
}

static void answer_stats(conn *c)
{
    cw_fixture_stats s = cw_fixture_stats_get(c->fx);
    char body[256];
    int n = snprintf(body, sizeof body, "{\"accepted\": %ld, \"open\": %ld, \"max_open\": %ld, \"requests\": %ld}\n",
                     s.accepted, s.open, s.max_open, s.requests);
    cw__conn_respond(c, 200, "application/json", body, (size_t)n, NULL);
}

/* ---------------------------------------------------------------- handlers */

static cw__answered answer_get(conn *c)
{
    answer_json_summary(c, NULL);
    return CW__ANSWERED_NOW;
}

static cw__answered answer_reset_on_reuse(conn *c)
{
    c->reset_on_reuse = true;
    answer_json_summary(c, NULL);
    return CW__ANSWERED_NOW;
}

static void on_delay_done(uv_timer_t *timer)
{
    conn *c = timer->data;
    char more[64];
    snprintf(more, sizeof more, ", \"delay_ms\": %ld", c->arg);
    answer_json_summary(c, more);
    cw__conn_answered_later(c);
}

static cw__answered answer_delay(conn *c)
{
    c->arg = path_number(c->url, path_length(c), "/delay/", 0, DELAY_MAX_MS);
    if (c->arg < 0) {
        cw__conn_respond_text(c, 400, "/delay/{ms}: ms must be a whole number from 0 to 600000\n");
        return CW__ANSWERED_NOW;
    }
    uv_timer_start(&c->timer, on_delay_done, (uint64_t)c->arg, 0);
    return CW__ANSWERED_LATER;
}

static cw__answered answer_status(conn *c)
{
    long status = path_number(c->url, path_length(c), "/status/", 200, 599);
    if (status < 0)
        cw__conn_respond_text(c, 400, "/status/{code}: code must be a number from 200 to 599\n");
    else
        cw__conn_respond(c, (int)status, "text/plain", "", 0, NULL);
    return CW__ANSWERED_NOW;
}

static cw__answered answer_redirect(conn *c)
{
    long status = path_number(c->url, path_length(c), "/redirect/", 301, 308);
    long more = query_number(query_of(c), "more", 0, 100);
    char location[64] = "Location: /anything\r\n";
    if (status < 0 || status == 304 || status == 305 || status == 306 || more < 0) {
        cw__conn_respond_text(c, 400,
                              "/redirect/{code}?more=N: code must be 301, 302, 303, 307 or 308, N from 0 to 100\n");
        return CW__ANSWERED_NOW;
    }
    if (more > 0)
        snprintf(location, sizeof location, "Location: /redirect/%ld?more=%ld\r\n", status, more - 1);
    cw__conn_respond(c, (int)status, "text/plain", "", 0, location);
    return CW__ANSWERED_NOW;
}

static cw__answered answer_bytes(conn *c)
{
    long arg = path_number(c->url, path_length(c), "/bytes/", 0, BYTES_MAX);
    if (arg < 0) {
        cw__conn_respond_text(c, 400, "/bytes/{n}: n must be a whole number from 0 to 67108864\n");
        return CW__ANSWERED_NOW;
    }
    size_t n = (size_t)arg;
    char head[512];
    uv_buf_t bufs[1 + BYTES_MAX / PATTERN_SIZE + 1];
    unsigned nbufs = 0;
    bufs[nbufs++] = uv_buf_init(
        head, (unsigned)cw__conn_head(c, head, sizeof head, 200, "application/octet-stream", (long long)n, NULL));
    for (size_t off = 0; !c->head_only && off < n; off += PATTERN_SIZE)
        bufs[nbufs++] = uv_buf_init(cw__pattern, (unsigned)(n - off < PATTERN_SIZE ? n - off : PATTERN_SIZE));
    cw__conn_send(c, bufs, nbufs, 1);
    return CW__ANSWERED_NOW;
}

static void drip_schedule(conn *c);

static void on_drip(uv_timer_t *timer)
{
    conn *c = timer->data;
    uv_buf_t one = uv_buf_init(cw__pattern, 1);
    cw__conn_send(c, &one, 1, 0);
    if (++c->drip_sent < c->arg) {
        drip_schedule(c);
        return;
    }
    cw__conn_answered_later(c);
}

/** Byte i goes out at start + (i + 1) * duration / bytes, so the gaps do not drift. */
static void drip_schedule(conn *c)
{
    uint64_t due = c->drip_start + (uint64_t)((c->drip_sent + 1) * c->arg2 / c->arg);
    uint64_t now = uv_now(&c->fx->loop);
    uv_timer_start(&c->timer, on_drip, due > now ? due - now : 0, 0);
}

static cw__answered answer_drip(conn *c)
{
    c->arg = query_number(query_of(c), "bytes", 10, DRIP_MAX);
    c->arg2 = query_number(query_of(c), "duration_ms", 1000, DELAY_MAX_MS);
    if (c->arg < 0 || c->arg2 < 0) {
        cw__conn_respond_text(c, 400, "/drip?bytes=N&duration_ms=M: N from 0 to 100000, M from 0 to 600000\n");
        return CW__ANSWERED_NOW;
    }
    char head[512];
    uv_buf_t buf =
        uv_buf_init(head, (unsigned)cw__conn_head(c, head, sizeof head, 200, "application/octet-stream", c->arg, NULL));
    cw__conn_send(c, &buf, 1, 1);
    if (c->head_only || c->arg == 0)
        return CW__ANSWERED_NOW;
    c->drip_sent = 0;
    c->drip_start = uv_now(&c->fx->loop);
    drip_schedule(c);
    return CW__ANSWERED_LATER; /* when its last byte is out */
}

static cw__answered answer_stall(conn *c)
{
    c->state = CONN_STALLED;
    return CW__ANSWERED_LATER; /* never */
}

/** /close: announce a body, send part of it, then end the connection. */
static cw__answered answer_close(conn *c)
{
    char head[512];
    c->keep_alive = false;
    uv_buf_t bufs[2];
    bufs[0] = uv_buf_init(head, (unsigned)cw__conn_head(c, head, sizeof head, 200, "text/plain", 1000, NULL));
    bufs[1] = uv_buf_init(cw__pattern, CLOSE_SENT);
    cw__conn_send(c, bufs, 2, 1);
    return CW__ANSWERED_NOW;
}

static cw__answered answer_reset(conn *c)
{
    cw__conn_count(c); /* the reset is the answer */
    cw__conn_reset(c);
    return CW__ANSWERED_LATER; /* the connection is gone */
}

static cw__answered answer_echo(conn *c)
{
    cw__conn_respond(c, 200, c->type_len ? c->content_type : "application/octet-stream", c->body, c->body_len, NULL);
    return CW__ANSWERED_NOW;
}

static cw__answered answer_anything(conn *c)
{
    answer_method(c);
    return CW__ANSWERED_NOW;
}

static cw__answered answer_stats_now(conn *c)
{
    answer_stats(c);
    return CW__ANSWERED_NOW;
}

static cw__answered answer_stats_reset(conn *c)
{
    cw_fixture_stats_reset(c->fx);
    answer_stats(c);
    return CW__ANSWERED_NOW;
}

/* /site/...: the generated site of site.c, answered at once, after a delay, or never. */
static void answer_site_now(conn *c)
{
    cw__site_answer a;
    cw__site_answer_for(c->url, strcspn(c->url, "?"), &a);
    char extra[96] = "";
    if (a.location[0])
        snprintf(extra, sizeof extra, "Location: %s\r\n", a.location);
    cw__conn_respond(c, a.status, "text/html", a.body, a.body_len, extra);
}

static void on_site_delay_done(uv_timer_t *timer)
{
    conn *c = timer->data;
    answer_site_now(c);
    cw__conn_answered_later(c);
}

static cw__answered answer_site(conn *c)
{
    cw__site_answer a;
    cw__site_answer_for(c->url, strcspn(c->url, "?"), &a);
    if (a.stall) {
        c->state = CONN_STALLED;
        return CW__ANSWERED_LATER; /* never */
    }
    if (a.delay_ms > 0) {
        uv_timer_start(&c->timer, on_site_delay_done, a.delay_ms, 0);
        return CW__ANSWERED_LATER;
    }
    answer_site_now(c);
    return CW__ANSWERED_NOW;
}

static cw__answered answer_not_found(conn *c)
{
    cw__conn_respond_text(c, 404, "not found\n");
    return CW__ANSWERED_NOW;
}

/* ---------------------------------------------------------------- the table */

#define GET_HEAD (ROUTE_GET | ROUTE_HEAD)

/* A table reads best in columns: */
/* clang-format off */
static const cw__route routes[] = {
    { "/get",            EXACT,   GET_HEAD,   answer_get,            false, false },
    { "/delay/",         PREFIX,  ROUTE_ANY,  answer_delay,          false, false },
    { "/status/",        PREFIX,  ROUTE_ANY,  answer_status,         false, false },
    { "/redirect/",      PREFIX,  ROUTE_ANY,  answer_redirect,       false, false },
    { "/bytes/",         PREFIX,  GET_HEAD,   answer_bytes,          false, false },
    { "/drip",           EXACT,   GET_HEAD,   answer_drip,           false, false },
    { "/stall",          EXACT,   ROUTE_ANY,  answer_stall,          false, false },
    { "/close",          EXACT,   ROUTE_ANY,  answer_close,          false, false },
    { "/reset",          EXACT,   ROUTE_ANY,  answer_reset,          false, false },
    { "/reset_on_reuse", EXACT,   ROUTE_ANY,  answer_reset_on_reuse, false, false },
    { "/echo",           EXACT,   ROUTE_POST | ROUTE_PUT | ROUTE_PATCH, answer_echo, true, false },
    { "/anything",       SUBTREE, ROUTE_ANY,  answer_anything,       true,  false },
    { "/post",           EXACT,   ROUTE_POST, answer_anything,       true,  false },
    { "/put",            EXACT,   ROUTE_PUT,  answer_anything,       true,  false },
    { "/patch",          EXACT,   ROUTE_PATCH, answer_anything,      true,  false },
    { "/delete",         EXACT,   ROUTE_DELETE, answer_anything,     true,  false },
    { "/site",           SUBTREE, ROUTE_ANY,  answer_site,           false, false },
    { "/stats",          EXACT,   ROUTE_ANY,  answer_stats_now,      false, true },
    { "/stats/reset",    EXACT,   ROUTE_ANY,  answer_stats_reset,    false, true },
};
/* clang-format on */

static const cw__route not_found = { "", EXACT, ROUTE_ANY, answer_not_found, false, false };

static bool route_matches(const cw__route *r, const char *path, size_t len)
{
    size_t n = strlen(r->path);
    switch (r->match) {
    case EXACT: return len == n && memcmp(path, r->path, n) == 0;
    case PREFIX: return len >= n && memcmp(path, r->path, n) == 0;
    case SUBTREE: return len >= n && memcmp(path, r->path, n) == 0 && (len == n || path[n] == '/');
    }
    return false;
}

const cw__route *cw__route_find(const char *path, size_t len)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (route_matches(&routes[i], path, len))
            return &routes[i];
    return &not_found;
}

static unsigned method_bit(unsigned method)
{
    switch (method) {
    case HTTP_GET: return ROUTE_GET;
    case HTTP_HEAD: return ROUTE_HEAD;
    case HTTP_POST: return ROUTE_POST;
    case HTTP_PUT: return ROUTE_PUT;
    case HTTP_PATCH: return ROUTE_PATCH;
    case HTTP_DELETE: return ROUTE_DELETE;
    default: return ROUTE_OTHER;
    }
}

/* 405, with the route's methods in the Allow header ("GET, HEAD"). */
static void answer_not_allowed(conn *c, unsigned methods)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {
        { ROUTE_GET, "GET" }, { ROUTE_HEAD, "HEAD" },   { ROUTE_POST, "POST" },
        { ROUTE_PUT, "PUT" }, { ROUTE_PATCH, "PATCH" }, { ROUTE_DELETE, "DELETE" },
    };
    char extra[96] = "Allow: ";
    size_t n = strlen(extra);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (methods & names[i].bit)
            n += (size_t)snprintf(extra + n, sizeof extra - n, "%s%s", n > 7 ? ", " : "", names[i].name);
    snprintf(extra + n, sizeof extra - n, "\r\n");
    static const char text[] = "method not allowed\n";
    cw__conn_respond(c, 405, "text/plain", text, sizeof text - 1, extra);
}

cw__answered cw__route_answer(conn *c)
{
    if (!(c->route->methods & method_bit(c->parser.method))) {
        answer_not_allowed(c, c->route->methods);
        return CW__ANSWERED_NOW;
    }
    return c->route->answer(c);
}
