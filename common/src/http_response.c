/*
 * http_response.c -- what arrives for a request: the body and headers as they come (libcurl's write
 * and header callbacks), then the response its future resolves to, and what programs read of it.
 *
 * A response lives inside its request future (the future's result), so one cw_future_release()
 * frees both; a 404 is a response, not an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cw_timeline.h"
#include "http.h"

static bool buffer_add(buffer *b, const char *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256; /* small enough for malloc's per-thread cache */
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

/* For libcurl's callbacks: what was kept, or 0 (the transfer stops) when no memory was left. */
static size_t keep(request *r, buffer *b, const char *data, size_t n)
{
    if (buffer_add(b, data, n))
        return n;
    r->write_failure = CW_ENOMEM;
    return 0;
}

size_t cw__response_body_arrived(char *data, size_t size, size_t n, void *userdata)
{
    request *r = userdata;
    size_t bytes = size * n;
    size_t max = r->session->options.max_body;
    r->last_data_at = uv_now(r->session->loop);
    if (max && r->response_body.len + bytes > max) {
        r->write_failure = CW_ETOOBIG;
        return 0; /* libcurl stops the transfer with CURLE_WRITE_ERROR */
    }
    return keep(r, &r->response_body, data, bytes);
}

size_t cw__response_header_arrived(char *data, size_t size, size_t n, void *userdata)
{
    request *r = userdata;
    size_t bytes = size * n;
    if (r->response_headers.len == 0)
        cw_timeline_first_byte(r->span);
    r->last_data_at = uv_now(r->session->loop);
    if (bytes >= 5 && memcmp(data, "HTTP/", 5) == 0)
        r->response_headers.len = 0; /* a new response (after a redirect): keep only the last */
    return keep(r, &r->response_headers, data, bytes);
}

void cw__response_free(void *p)
{
    cw_response *resp = p;
    free((char *)resp->body);
    free((char *)resp->headers);
    free(resp); /* and its URL, which follows it */
}

cw_response *cw__response_take(request *r)
{
    size_t url_size = strlen(r->url) + 1;
    cw_response *resp = calloc(1, sizeof *resp + url_size);
    if (!resp)
        return NULL;
    resp->url = memcpy(resp + 1, r->url, url_size);
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &resp->status);
    if (!r->response_body.data)
        buffer_add(&r->response_body, "", 0);
    if (!r->response_headers.data)
        buffer_add(&r->response_headers, "", 0);
    resp->body = r->response_body.data;
    resp->body_len = r->response_body.len;
    resp->headers = r->response_headers.data;
    r->response_body = (buffer){ 0 };
    r->response_headers = (buffer){ 0 };
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
