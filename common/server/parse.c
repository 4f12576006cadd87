/*
 * parse.c -- reading one request with http-parser: the URL, the Content-Type header and the body
 * kept, every limit checked (431, 414, 413), the route decided once the headers are in, and the
 * parser paused at the end of each request so that requests are answered one at a time.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "server.h"

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
    c->route = NULL;
    uv_timer_start(&c->timer, cw__conn_request_timeout, REQUEST_TIMEOUT_MS, 0);
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
    if (!head_grows(c, len + (c->last_was_value ? 4 : 0))) /* 4: ": " and CRLF */
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
        return -1; /* any value but 0, 1 and 2 is an error for http-parser */
    }
    c->url[c->url_len] = '\0';
    c->route = cw__route_find(c->url, strcspn(c->url, "?"));
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    conn *c = p->data;
    if (c->body_len + len > BODY_LIMIT) {
        c->reject = 413;
        return -1;
    }
    if (!c->route || !c->route->keeps_body)
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

const http_parser_settings cw__parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};
