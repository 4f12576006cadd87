/*
 * http_request.c -- one request's life: checked (bad input fails at once, with a clear message),
 * queued in its session's pool, started on an easy handle, sent on through redirects as aiohttp
 * sends it, and ended exactly once: resolved with its response, failed with an error that says
 * what happened, or cancelled.
 *
 * Futures are finished only after libcurl has returned (http_loop.c) or from our own timers, never
 * inside a libcurl callback, because code run by a done callback may call libcurl again.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cw_timeline.h"
#include "http.h"

/* ---- ending a request ------------------------------------------------------------------ */

static void free_request(request *r);

/* The one place a request ends: leave the queue or libcurl, then finish the future last,
 * so that whatever its done callbacks do sees a consistent session. */
void cw__request_end(request *r, int code, const char *fmt, ...)
{
    cw_session *s = r->session;
    bool was_active = r->phase == ACTIVE;
    cw__pool_leave(r);
    cw_response *resp = NULL;
    if (was_active) {
        /* Fails only for a handle libcurl does not hold (its add failed): then there is nothing to remove. */
        curl_multi_remove_handle(s->multi, r->easy);
        if (code == 0 && !(resp = cw__response_take(r)))
            code = CW_ENOMEM;
        /* libcurl 7.88 counts a handle's retries on dead pooled connections over its whole life,
         * and gives up after 5: reuse only a handle whose requests went once each, and well. */
        cw__pool_recycle_easy(s, r->easy, code == 0 && r->sends == r->redirects + 1);
        r->easy = NULL;
    }
    cw_timeline_end(r->span, code);
    cw__deadline_remove(r);
    if (r->socket_failure) /* freed below: it must not wait in the list of requests to fail */
        cw__loop_forget_failing(r);
    if (was_active)
        cw__pool_start_queued(s);

    cw_future *f = r->future;
    f->impl = NULL;
    if (code == 0) {
        cw_future_resolve(f, resp, cw__response_free);
    } else if (code == CW_ECANCELLED) {
        cw__future_set_cancelled(f);
    } else if (!fmt) { /* a response that could not be taken (out of memory) has no words of its own */
        cw_future_fail(f, code, "%s: %s %s", cw_strerror(code), r->method, r->url);
    } else {
        char message[CURL_ERROR_SIZE + 512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(message, sizeof message, fmt, ap);
        va_end(ap);
        cw_future_fail(f, code, "%s", message);
    }
    cw_future_release(f);
    free_request(r);
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
    case CURLE_WRITE_ERROR: return r->write_failure ? r->write_failure : CW_EHTTP;
    default: return CW_EHTTP;
    }
}

/* A request whose socket could not be watched: open_socket refused it, or socket_changed could not poll it. */
void cw__request_end_unwatched(request *r)
{
    cw__request_end(r, r->socket_failure, "%s: %s %s (its socket could not be watched: %s)",
                    cw_strerror(r->socket_failure), r->method, r->url,
                    r->socket_failure == CW_ENOMEM ? "out of memory" : "libuv refused the descriptor");
}

static bool follow_redirect(request *r);

void cw__request_transfer_done(request *r, CURLcode result)
{
    if (result == CURLE_OK) {
        if (!follow_redirect(r))
            cw__request_end(r, 0, NULL);
        return;
    }
    if (r->socket_failure) {
        cw__request_end_unwatched(r);
        return;
    }
    if (r->socket_errno == EMFILE || r->socket_errno == ENFILE) {
        cw__request_end(r, CW_EMFILE,
                        "%s: %s %s (no file descriptor left for a socket: raise the limit with "
                        "ulimit -n, or lower the session's limit)",
                        cw_strerror(CW_EMFILE), r->method, r->url);
        return;
    }
    /* Two libcurl codes say something else when they come with a response: the scheme was checked before
     * sending, so "unsupported protocol" with no HTTP header received means the reply is not HTTP; and
     * "out of memory" while the headers come in is, in practice, a header line over libcurl's 100 KB. */
    bool no_header = r->response_headers.len == 0, no_body = r->response_body.len == 0;
    if (result == CURLE_UNSUPPORTED_PROTOCOL && no_header) {
        cw__request_end(r, CW_EHTTP, "%s: %s %s (the reply is not HTTP: %s)", cw_strerror(CW_EHTTP), r->method, r->url,
                        r->error[0] ? r->error : curl_easy_strerror(result));
        return;
    }
    if (result == CURLE_OUT_OF_MEMORY && r->sends > 0 && no_body) {
        cw__request_end(r, CW_EHTTP,
                        "%s: %s %s (a response header line is longer than libcurl's limit of 100 KB, "
                        "or no memory was left for it)",
                        cw_strerror(CW_EHTTP), r->method, r->url);
        return;
    }
    int code = error_from_curl(r, result);
    if (code == CW_ETOOBIG)
        cw__request_end(r, code, "%s: %s %s (more than max_body = %zu bytes)", cw_strerror(code), r->method, r->url,
                        r->session->options.max_body);
    else if (result == CURLE_WRITE_ERROR && code == CW_ENOMEM)
        cw__request_end(r, code, "%s: %s %s (no memory left for the response)", cw_strerror(code), r->method, r->url);
    else
        cw__request_end(r, code, "%s: %s %s (%s)", cw_strerror(code), r->method, r->url,
                        r->error[0] ? r->error : curl_easy_strerror(result));
}

/* ---- starting a request -------------------------------------------------------------------- */

/* What every request sets alike, given once to a new easy handle. A finished request's handle is
 * kept for the next one as it is (cw__request_end()), without curl_easy_reset(): that and setting
 * these again were 6% of a request's instructions. So these stay, and cw__request_start() sets
 * every option that can differ between requests, each time. */
static void set_shared_options(CURL *e)
{
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, cw__response_body_arrived);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, cw__response_header_arrived);
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, cw__deadline_connected);
}

/* The method and the body, set in full: the handle may still hold its last request's. POSTFIELDS,
 * even NULL, makes libcurl's method POST; HTTPGET then makes it GET again and clears NOBODY.
 * libcurl sends GET, or POST with a body, by itself; any other method (a GET with a body, as
 * aiohttp sends it) is named. */
static void set_method(CURL *e, const request *r)
{
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1);
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    bool named = strcmp(r->method, r->body ? "POST" : "GET") != 0;
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, named ? r->method : NULL);
    if (strcmp(r->method, "HEAD") == 0)
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    if (r->body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
    }
}

void cw__request_start(request *r)
{
    cw_session *s = r->session;
    bool is_new = false;
    r->error = calloc(1, CURL_ERROR_SIZE);
    CURL *e = r->error ? cw__pool_take_easy(s, &is_new) : NULL;
    if (!e) {
        cw__request_end(r, CW_ENOMEM, "%s: %s %s", cw_strerror(CW_ENOMEM), r->method, r->url);
        return;
    }
    r->easy = e;
    if (is_new)
        set_shared_options(e);
    curl_easy_setopt(e, CURLOPT_URL, r->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->error);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, r);
    cw__loop_watch_sockets_of(e, r);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
    set_method(e, r);
    cw__pool_activate(r);
    r->started_at = cw__fresh_now(s);
    cw__deadline_arm(r);
    CURLMcode mc = curl_multi_add_handle(s->multi, e);
    if (mc != CURLM_OK)
        cw__request_end(r, CW_EHTTP, "%s: %s %s (%s)", cw_strerror(CW_EHTTP), r->method, r->url,
                        curl_multi_strerror(mc));
}

/* ---- following a redirect ------------------------------------------------------------------ */

/* libcurl can follow redirects, but not as aiohttp does (ClientSession._request): it keeps a method
 * it was told by name through a 303, keeps the type it was given for a POST's body on the GET that
 * follows, and follows a tenth redirect, where aiohttp gives up. So the request follows them: the
 * same handle, sent again with the method and body aiohttp's rules give. */
#define MAX_REDIRECTS 10 /* aiohttp's max_redirects: the 10th redirect fails */

static void drop_our_type(request *r);

/* The transfer of @p r ended well: if with a redirect, send it on (or end it: too many, or not
 * HTTP) and say true; false: the response is the one to keep. */
static bool follow_redirect(request *r)
{
    long status = 0;
    char *location = NULL;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(r->easy, CURLINFO_REDIRECT_URL, &location); /* absolute; NULL without Location */
    bool redirect = status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    if (!redirect || !location)
        return false;
    if (++r->redirects >= MAX_REDIRECTS) {
        cw__request_end(r, CW_EHTTP, "%s: %s %s (%d redirects, aiohttp's max_redirects)", cw_strerror(CW_EHTTP),
                        r->method, r->url, MAX_REDIRECTS);
        return true;
    }
    if (strncasecmp(location, "http://", 7) != 0 && strncasecmp(location, "https://", 8) != 0) {
        cw__request_end(r, CW_ESCHEME, "%s: %s %s (redirected to %.200s)", cw_strerror(CW_ESCHEME), r->method, r->url,
                        location);
        return true;
    }
    char *to = strdup(location); /* location is the handle's, and gone once it sends again */
    if (!to) {
        cw__request_end(r, CW_ENOMEM, "%s: %s %s", cw_strerror(CW_ENOMEM), r->method, r->url);
        return true;
    }
    free(r->location);
    r->location = to;
    bool head = strcmp(r->method, "HEAD") == 0, post = strcmp(r->method, "POST") == 0;
    if ((status == 303 && !head) || ((status == 301 || status == 302) && post)) {
        r->method = "GET";
        free(r->body);
        r->body = NULL;
        r->body_len = 0;
        drop_our_type(r);
    }
    CURL *e = r->easy;
    curl_multi_remove_handle(r->session->multi, e);
    r->response_body.len = r->response_headers.len = 0;
    r->error[0] = '\0';
    curl_easy_setopt(e, CURLOPT_URL, r->location);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
    set_method(e, r);
    CURLMcode mc = curl_multi_add_handle(r->session->multi, e);
    if (mc != CURLM_OK)
        cw__request_end(r, CW_EHTTP, "%s: %s %s (%s)", cw_strerror(CW_EHTTP), r->method, r->url,
                        curl_multi_strerror(mc));
    return true;
}

/* ---- making a request ---------------------------------------------------------------------- */

static int cancel_request(cw_future *f)
{
    cw__request_end(f->impl, CW_ECANCELLED, NULL);
    return 0;
}

/* A request refused before it is made. Its message is formatted here rather than in the checks,
 * so that checking a good request reserves no buffer on its task's stack. */
__attribute__((format(printf, 2, 3))) static cw_future *failed_request(int code, const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    cw_future *f = cw_future_new();
    if (f)
        cw_future_fail(f, code, "%s: %s", cw_strerror(code), message);
    return f;
}

static bool is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Four numbers 0 to 255 without leading zeros, as libcurl writes an IPv4 address back. */
static bool is_dotted_quad(const char *s, size_t len)
{
    int parts = 0;
    for (size_t i = 0; i < len; parts++) {
        size_t digits = 0;
        int value = 0;
        while (i + digits < len && s[i + digits] != '.' && digits <= 3)
            value = value * 10 + (s[i + digits++] - '0');
        if (digits == 0 || digits > 3 || value > 255 || (digits > 1 && s[i] == '0'))
            return false;
        i += digits;
        if (i < len && ++i == len) /* a dot, and something after it */
            return false;
    }
    return parts == 4;
}

/* A host name libcurl keeps as it is: letters, digits, '-', '_' and dots, its last label starting
 * with a letter (so that the name cannot be a number, which libcurl rewrites), or a dotted quad. */
static bool is_plain_host(const char *name, size_t len)
{
    if (len == 0 || len > 253)
        return false;
    bool numbers_only = true;
    for (size_t i = 0; i < len; i++) {
        if (is_letter(name[i]) || name[i] == '-' || name[i] == '_')
            numbers_only = false;
        else if (!is_digit(name[i]) && name[i] != '.')
            return false;
    }
    size_t last = len;
    while (last > 0 && name[last - 1] != '.')
        last--;
    return numbers_only ? is_dotted_quad(name, len) : last < len && is_letter(name[last]);
}

/* The "host:port" of a plain URL, read without libcurl's URL parser: http or https, a plain host,
 * a port as libcurl writes it back (1 to 65535, no leading zero), then only visible ASCII. libcurl
 * accepts every URL accepted here, and gives it the same host and port (tests/lib/test_badinput.c
 * compares them); anything else (IPv6, user names, other spellings) goes to libcurl. The reason: a
 * request is made on its task's stack, and libcurl's parser formats port numbers with a 5 KB stack
 * frame: 10,000 tasks each making a request would keep two more pages of stack each. */
bool cw__url_plain_host(const char *url, char *host, size_t size)
{
    const char *p = url, *port = "80";
    if (strncmp(p, "http://", 7) == 0) {
        p += 7;
    } else if (strncmp(p, "https://", 8) == 0) {
        p += 8;
        port = "443";
    } else {
        return false;
    }
    const char *name = p;
    size_t name_len = strcspn(p, ":/?#"), port_len = strlen(port);
    if (!is_plain_host(name, name_len))
        return false;
    p += name_len;
    if (*p == ':') {
        port = ++p;
        port_len = strspn(p, "0123456789");
        if (port_len == 0 || port_len > 5 || *port == '0' || atol(port) > 65535)
            return false;
        p += port_len;
    }
    if (*p && !strchr("/?#", *p))
        return false;
    for (size_t n = 0; *p; p++, n++)
        if (*p <= ' ' || *p > '~' || n > 8000)
            return false;
    if (name_len + 1 + port_len + 1 > size)
        return false;
    memcpy(host, name, name_len);
    host[name_len] = ':';
    memcpy(host + name_len + 1, port, port_len);
    host[name_len + 1 + port_len] = '\0';
    return true;
}

/* What libcurl's parser makes of a URL that is not plain: its host and port, or the error that
 * says why it is no URL. */
static int check_url_with_libcurl(const char *url, char *host, size_t size, cw_future **error)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *name = NULL, *port = NULL;
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    int rc = 0;
    if (uc != CURLUE_OK) {
        *error = failed_request(CW_EBADURL, "'%.400s' (%s)", url, curl_url_strerror(uc));
        rc = -1;
    } else if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
        *error = failed_request(CW_ESCHEME, "'%.40s' in '%.400s' (only http and https)", scheme, url);
        rc = -1;
    } else if (curl_url_get(u, CURLUPART_HOST, &name, 0) != CURLUE_OK || !*name) {
        *error = failed_request(CW_EBADURL, "'%.400s' (no host)", url);
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

/* Check the URL before anything else, so bad input fails at once with a clear message. */
static int check_url(const char *url, char *host, size_t size, cw_future **error)
{
    if (!url || !*url) {
        *error = failed_request(CW_EBADURL, "%s", "the URL is empty");
        return -1;
    }
    return cw__url_plain_host(url, host, size) ? 0 : check_url_with_libcurl(url, host, size, error);
}

/* A method is an HTTP token (RFC 9110: letters, digits and !#$%&'*+-.^_`|~), and no header may hold
 * a CR or LF: either would let the caller's text end a line and write its own request. */
static int check_method_and_headers(const cw_request *req, cw_future **error)
{
    const char *method = req->method ? req->method : "GET";
    if (!*method ||
        method[strspn(method,
                      "!#$%&'*+-.^_`|~0123456789"
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")]) {
        *error = failed_request(CW_EINVAL,
                                "the method '%.100s' is not an HTTP method name (letters, digits, no spaces)", method);
        return -1;
    }
    for (int i = 0; req->headers && req->headers[i]; i++) {
        if (strpbrk(req->headers[i], "\r\n")) {
            int shown = (int)strcspn(req->headers[i], "\r\n");
            *error = failed_request(CW_EINVAL,
                                    "header %d ('%.*s...') holds a CR or LF (one header per string, no line breaks)", i,
                                    shown < 100 ? shown : 100, req->headers[i]);
            return -1;
        }
    }
    return 0;
}

/* The header lists of requests without headers of their own, shared by all of them: "Expect:", so
 * that no body waits a second for a "100 Continue" that may never come, and for a request with a body
 * aiohttp's type for bytes, where libcurl would say application/x-www-form-urlencoded. libcurl only
 * reads them. */
static char no_expect[] = "Expect:", octet_stream[] = "Content-Type: application/octet-stream";
static struct curl_slist octet_stream_only = { octet_stream, NULL };
static struct curl_slist no_expect_only = { no_expect, NULL };
static struct curl_slist no_expect_octet_stream = { no_expect, &octet_stream_only };

static bool names_content_type(const char *header)
{
    return strncasecmp(header, "Content-Type:", strlen("Content-Type:")) == 0;
}

/* Its own copy of the caller's headers, after "Expect:", and with a body the type of bytes, last,
 * unless the caller names one (then *typed_by_us); NULL: out of memory. */
static struct curl_slist *copy_headers(const char *const *headers, bool with_body, bool *typed_by_us)
{
    *typed_by_us = with_body && !(headers && headers[0]);
    if (!headers || !headers[0])
        return with_body ? &no_expect_octet_stream : &no_expect_only;
    struct curl_slist *list = curl_slist_append(NULL, no_expect);
    bool typed = !with_body;
    for (int i = 0; list && headers[i]; i++) {
        struct curl_slist *more = curl_slist_append(list, headers[i]);
        typed = typed || names_content_type(headers[i]);
        if (!more)
            curl_slist_free_all(list);
        list = more;
    }
    struct curl_slist *typed_list = list && !typed ? curl_slist_append(list, octet_stream) : list;
    if (!typed_list)
        curl_slist_free_all(list);
    *typed_by_us = !typed;
    return typed_list;
}

/* A body that a redirect dropped takes the type we gave it along; the caller's own headers stay, as
 * in aiohttp. */
static void drop_our_type(request *r)
{
    if (!r->typed_by_us)
        return;
    r->typed_by_us = false;
    if (r->headers == &no_expect_octet_stream) {
        r->headers = &no_expect_only;
        return;
    }
    struct curl_slist *before = r->headers; /* "Expect:", then at least the type */
    while (before->next->next)
        before = before->next;
    curl_slist_free_all(before->next);
    before->next = NULL;
}

/* As aiohttp: POST, PUT and PATCH always send a body, empty when none is given. */
static bool method_sends_body(const char *method)
{
    return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0;
}

static void free_request(request *r)
{
    free(r->body);
    free(r->location);
    if (r->headers != &no_expect_only && r->headers != &no_expect_octet_stream)
        curl_slist_free_all(r->headers);
    free(r->error);
    free(r->response_body.data);
    free(r->response_headers.data);
    free(r);
}

/* Everything a request needs while it waits in the queue is made here, in one block where it can
 * be (the method, URL and host follow the struct); the easy handle and its error buffer come when it
 * starts. */
cw_future *cw_session_request(cw_session *s, const cw_request *req)
{
    char host[300];
    cw_future *error = NULL;
    if (!s || !req)
        return failed_request(CW_EINVAL, "%s", s ? "the request is NULL" : "the session is NULL");
    if (s->closing)
        return failed_request(CW_EINVAL, "%s", "the session is closed");
    if (check_url(req->url, host, sizeof host, &error) < 0 || check_method_and_headers(req, &error) < 0)
        return error;

    const char *method = req->method ? req->method : "GET";
    size_t method_size = strlen(method) + 1, url_size = strlen(req->url) + 1, host_size = strlen(host) + 1;
    request *r = calloc(1, sizeof *r + method_size + url_size + host_size);
    cw_future *f = cw_future_new();
    if (!r || !f) {
        free(r);
        free(f);
        return NULL;
    }
    r->session = s;
    r->future = f;
    r->method = memcpy(r->text, method, method_size);
    r->url = memcpy(r->text + method_size, req->url, url_size);
    r->host = memcpy(r->text + method_size + url_size, host, host_size);
    const void *body = req->body ? req->body : method_sends_body(method) ? "" : NULL;
    r->body_len = req->body ? req->body_len : 0;
    if (body && (r->body = malloc(r->body_len ? r->body_len : 1)))
        memcpy(r->body, body, r->body_len);
    r->headers = copy_headers(req->headers, body != NULL, &r->typed_by_us);
    r->timeouts = req->timeouts ? *req->timeouts : s->options.timeouts;
    r->queued_at = cw__fresh_now(s);
    r->phase = QUEUED;
    if ((body && !r->body) || !r->headers || cw__deadline_add(r) < 0) {
        free_request(r);
        free(f);
        return NULL;
    }
    f->kind = CW__FUTURE_REQUEST;
    f->impl = r;
    f->cancel = cancel_request;

    if (cw_timeline_enabled()) {
        char label[48];
        const char *path = strstr(r->url, "://");
        path = path ? strchr(path + 3, '/') : NULL;
        snprintf(label, sizeof label, "%s %s", r->method, path ? path : r->url);
        r->span = cw_timeline_begin(CW_SPAN_REQUEST, label);
    } else {
        r->span = -1;
    }

    cw_future_retain(f);         /* one reference for the caller, one kept until the request ends (maybe now) */
    if (cw__pool_enqueue(r) < 0) /* else started at once when there is room */
        cw__request_end(r, CW_ENOMEM, "%s: %s %s (no memory left to count its host)", cw_strerror(CW_ENOMEM), r->method,
                        r->url);
    return f;
}

static cw_future *request_without_headers(cw_session *s, const char *method, const char *url, const void *body,
                                          size_t len)
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
