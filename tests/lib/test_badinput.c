/**
 * @file test_badinput.c
 * @brief Bad input and misuse: every case ends in an error value with a message that names the problem.
 *
 * Two matrices. Requests that cannot succeed (malformed, empty or NULL URL,
 * unsupported scheme, refused port, a server that drops or resets the
 * connection mid-body, a server that never answers under each timeout kind,
 * a body over max_body) must fail with the right code and a message naming
 * the URL, the scheme or the timeout. Calls made where they make no sense
 * (await or sleep outside a task, cancelling twice or too late, empty sets,
 * negative limits, cw_run() inside cw_run()) must return their documented
 * error. Requests that must be refused before anything is sent (an empty
 * method, a CR or LF in the method or a header: header injection) give
 * CW_EINVAL and reach no server; replies that are not HTTP, or carry a header
 * line over libcurl's 100 KB, give CW_EHTTP with words that say so; a timeout
 * too long for the clock never fires. Nothing may crash, hang or leak: make
 * test runs this file under valgrind and the sanitizers as well.
 */
#include "cw.h"
#include "cw_fixture.h"
#include "support.h"

#include <check.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ requests that cannot succeed */

/** One row of the request matrix: what to send, and what must come back. */
typedef struct bad_request {
    const char *name;           /* for the failure message */
    const char *url;            /* a full URL, or NULL with path or null_url */
    const char *path;           /* on the fixture server */
    int blackhole_port;         /* > 0: http://127.0.0.1:PORT/ that never accepts */
    int refused_port;           /* > 0: http://127.0.0.1:PORT/ that refuses */
    bool null_url;              /* send url = NULL */
    cw_timeouts timeouts;       /* the request's timeouts (all 0: the session's defaults) */
    size_t max_body;            /* 0: the default */
    int want;                   /* the error code expected */
    const char *must_name[3];   /* words the message must contain */
    /* filled in by the task */
    int rc;
    int state;
    bool has_response;
    char message[512];
    char sent_url[256];
} bad_request;

static void *run_bad_request(void *arg)
{
    bad_request *b = arg;
    cw_session_options o = cw_session_options_default();
    if (b->max_body)
        o.max_body = b->max_body;
    cw_session *s;
    if (cw_session_open(&s, &o) < 0)
        return cw_fail(CW_EFAILED, "session open failed");
    const char *url = b->url;
    if (b->path)
        url = cw_fixture_url(fx, b->path, b->sent_url, sizeof b->sent_url);
    else if (b->blackhole_port || b->refused_port) {
        snprintf(b->sent_url, sizeof b->sent_url, "http://127.0.0.1:%d/get",
                 b->blackhole_port ? b->blackhole_port : b->refused_port);
        url = b->sent_url;
    }
    if (b->null_url)
        url = NULL;
    bool any_timeout = b->timeouts.total_ms || b->timeouts.connect_ms || b->timeouts.sock_connect_ms ||
                       b->timeouts.sock_read_ms;
    cw_request req = { .url = url, .timeouts = any_timeout ? &b->timeouts : NULL };
    cw_future *f = cw_session_request(s, &req);
    if (!f)
        return cw_fail(CW_ENOMEM, "cw_session_request returned NULL");
    b->rc = cw_await(f);
    b->state = cw_future_state(f);
    b->has_response = cw_response_of(f) != NULL;
    snprintf(b->message, sizeof b->message, "%s", cw_future_message(f));
    cw_future_release(f);
    cw_session_close(s);
    return NULL;
}

static void check_bad_request(bad_request *b)
{
    int rc = cw_run(run_bad_request, b, NULL);
    ck_assert_msg(rc == 0, "%s: the test task itself should end well, got %s", b->name, cw_error_name(rc));
    ck_assert_msg(b->rc == b->want, "%s: want %s, got %s (%s)", b->name, cw_error_name(b->want),
                  cw_error_name(b->rc), b->message);
    ck_assert_msg(b->state == CW_FAILED, "%s: the request future should end failed, its state is %d", b->name,
                  b->state);
    ck_assert_msg(!b->has_response, "%s: a failed request should have no response", b->name);
    for (int i = 0; i < 3 && b->must_name[i]; i++)
        ck_assert_msg(strstr(b->message, b->must_name[i]) != NULL, "%s: the message should name '%s', it says: %s",
                      b->name, b->must_name[i], b->message);
}

/* The library reads the host and port of a plain URL itself, without libcurl's parser (internal). */
bool cw__url_plain_host(const char *url, char *host, size_t size);

/* Every URL the library reads itself, libcurl must accept and read the same: same host, same port;
 * and the plain URLs of everyday use must be read that way, or the shortcut is gone. */
START_TEST(test_plain_urls_read_as_libcurl_reads_them)
{
    static const char *const plain[] = { "http://127.0.0.1:8080/get", "https://example.org/", "http://localhost",
                                         "http://a-b_c.example.COM:65535/x?y=1#z", "http://h/a\"<>{}|^`\\x",
                                         "http://h?q", "http://h#f", "http://10.0.0.255/" };
    static const char *const others[] = { "http://127.1/", "http://0x7f.1/", "http://01.2.3.4/", "http://1.2.3/",
                                          "http://1.2.3.4.5/", "http://1.2.3.256/", "http://1.2.3.4./", "http://h:080/",
                                          "http://h:0/", "http://h:65536/", "http://h:/x", "http://h./", "http://a.1/",
                                          "http://1a.2b/", "http://[::1]:80/", "http://u:p@h/", "HTTP://h/",
                                          "http://h/a b", "http://h/\xc3\xa9", "http://h\\x/", "http://h;x/",
                                          "http://exa mple.org/", "http://:8080/", "http://", "ftp://h/" };
    char ours[300], theirs[300];
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        ck_assert_msg(cw__url_plain_host(plain[i], ours, sizeof ours), "%s should be read as a plain URL", plain[i]);
    for (size_t k = 0; k < 2; k++) {
        const char *const *urls = k ? others : plain;
        size_t n = k ? sizeof others / sizeof others[0] : sizeof plain / sizeof plain[0];
        for (size_t i = 0; i < n; i++) {
            if (!cw__url_plain_host(urls[i], ours, sizeof ours))
                continue; /* left to libcurl's parser: nothing to compare */
            CURLU *u = curl_url();
            char *host = NULL, *port = NULL;
            CURLUcode uc = curl_url_set(u, CURLUPART_URL, urls[i], CURLU_NON_SUPPORT_SCHEME);
            if (uc == CURLUE_OK)
                uc = curl_url_get(u, CURLUPART_HOST, &host, 0);
            if (uc == CURLUE_OK)
                uc = curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
            snprintf(theirs, sizeof theirs, "%s:%s", host ? host : "", port ? port : "");
            curl_free(host);
            curl_free(port);
            curl_url_cleanup(u);
            ck_assert_msg(uc == CURLUE_OK, "%s was read as plain (%s), but libcurl refuses it: %s", urls[i], ours,
                          curl_url_strerror(uc));
            ck_assert_msg(strcmp(ours, theirs) == 0, "%s: read as %s, libcurl reads %s", urls[i], ours, theirs);
        }
    }
}
END_TEST

START_TEST(test_malformed_urls)
{
    static const char *const urls[] = { "http://exa mple.org:99999/x", "http://:8080/no-host", "not a url",
                                        "http://[::1/unclosed" };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        bad_request b = { .name = urls[i], .url = urls[i], .want = CW_EBADURL, .must_name = { urls[i] } };
        check_bad_request(&b);
    }
}
END_TEST

START_TEST(test_empty_url)
{
    bad_request b = { .name = "empty URL", .url = "", .want = CW_EBADURL, .must_name = { "empty" } };
    check_bad_request(&b);
}
END_TEST

START_TEST(test_null_url)
{
    bad_request b = { .name = "NULL URL", .null_url = true, .want = CW_EBADURL, .must_name = { "URL" } };
    check_bad_request(&b);
}
END_TEST

START_TEST(test_unsupported_scheme)
{
    bad_request b = { .name = "unsupported scheme", .url = "python://bad", .want = CW_ESCHEME,
                      .must_name = { "python", "python://bad" } };
    check_bad_request(&b);
}
END_TEST

START_TEST(test_ftp_scheme)
{
    bad_request b = { .name = "ftp scheme", .url = "ftp://127.0.0.1/file", .want = CW_ESCHEME,
                      .must_name = { "ftp" } };
    check_bad_request(&b);
}
END_TEST

START_TEST(test_refused_port)
{
    bad_request b = { .name = "refused port", .refused_port = refused_port(), .want = CW_ECONNREFUSED };
    char port[16];
    snprintf(port, sizeof port, "%d", b.refused_port);
    b.must_name[0] = port;
    check_bad_request(&b);
}
END_TEST

START_TEST(test_close_mid_body)
{
    bad_request b = { .name = "/close (connection closed mid-body)", .path = "/close", .want = CW_ECONNRESET,
                      .must_name = { "/close" } };
    check_bad_request(&b);
}
END_TEST

START_TEST(test_reset)
{
    bad_request b = { .name = "/reset (TCP reset)", .path = "/reset", .want = CW_ECONNRESET,
                      .must_name = { "/reset" } };
    check_bad_request(&b);
}
END_TEST

START_TEST(test_stall_total)
{
    bad_request b = { .name = "/stall under total", .path = "/stall", .timeouts = { .total_ms = 200 },
                      .want = CW_ETIMEDOUT, .must_name = { "/stall", "total", "200 ms" } };
    check_bad_request(&b);
}
END_TEST

START_TEST(test_stall_sock_read)
{
    bad_request b = { .name = "/stall under sock_read", .path = "/stall", .timeouts = { .sock_read_ms = 200 },
                      .want = CW_ETIMEDOUT, .must_name = { "/stall", "sock_read", "200 ms" } };
    check_bad_request(&b);
}
END_TEST

/* A drip with gaps of 500 ms: sock_read of 150 ms fires in a gap, after the headers came. */
START_TEST(test_drip_sock_read)
{
    bad_request b = { .name = "/drip under sock_read", .path = "/drip?bytes=4&duration_ms=2000",
                      .timeouts = { .sock_read_ms = 150 }, .want = CW_ETIMEDOUT,
                      .must_name = { "/drip", "sock_read" } };
    check_bad_request(&b);
}
END_TEST

/** Run @p b against a blackhole port: a loopback listener whose connects never complete. */
static void check_blackhole_request(bad_request *b)
{
    int hole = cw_fixture_blackhole_open(&b->blackhole_port);
    ck_assert_msg(hole >= 0, "the blackhole listener should open");
    check_bad_request(b);
    cw_fixture_blackhole_close(hole);
}

START_TEST(test_blackhole_connect)
{
    bad_request b = { .name = "blackhole under connect", .timeouts = { .connect_ms = 200 }, .want = CW_ETIMEDOUT,
                      .must_name = { "connect timeout", "200 ms" } };
    check_blackhole_request(&b);
    ck_assert_msg(strstr(b.message, "sock_connect") == NULL, "the connect timeout fired, not sock_connect: %s",
                  b.message);
}
END_TEST

START_TEST(test_blackhole_sock_connect)
{
    bad_request b = { .name = "blackhole under sock_connect", .timeouts = { .sock_connect_ms = 200 },
                      .want = CW_ETIMEDOUT, .must_name = { "sock_connect", "200 ms" } };
    check_blackhole_request(&b);
}
END_TEST

START_TEST(test_blackhole_total)
{
    bad_request b = { .name = "blackhole under total", .timeouts = { .total_ms = 200 }, .want = CW_ETIMEDOUT,
                      .must_name = { "total", "200 ms" } };
    check_blackhole_request(&b);
}
END_TEST

START_TEST(test_body_over_max)
{
    bad_request b = { .name = "body over max_body", .path = "/bytes/100000", .max_body = 1000,
                      .want = CW_ETOOBIG, .must_name = { "/bytes/100000", "max_body", "1000" } };
    check_bad_request(&b);
}
END_TEST

/* A body exactly at the limit is accepted: the check is "more than", not "as much as". */
typedef struct at_limit {
    int rc;
    size_t len;
} at_limit;

static void *get_at_limit(void *arg)
{
    at_limit *a = arg;
    cw_session_options o = cw_session_options_default();
    o.max_body = 1000;
    cw_session *s;
    cw_session_open(&s, &o);
    cw_future *f = cw_session_get(s, url("/bytes/1000"));
    a->rc = cw_await(f);
    if (a->rc == 0)
        a->len = cw_response_of(f)->body_len;
    cw_future_release(f);
    cw_session_close(s);
    return NULL;
}

START_TEST(test_body_at_max_is_fine)
{
    at_limit a = { 0 };
    ck_assert_int_eq(cw_run(get_at_limit, &a, NULL), 0);
    ck_assert_msg(a.rc == 0 && a.len == 1000, "a 1000-byte body with max_body 1000 should arrive whole: %s, %zu bytes",
                  cw_error_name(a.rc), a.len);
}
END_TEST

/* After every kind of failure above, the same session still works. */
typedef struct survivor {
    int rcs[6];
    int last_rc;
    long last_status;
    long open_after;
} survivor;

static void *failures_then_get(void *arg)
{
    survivor *v = arg;
    cw_session_options o = cw_session_options_default();
    o.max_body = 1000;
    o.timeouts.sock_read_ms = 200;
    cw_session *s;
    cw_session_open(&s, &o);
    const char *urls[6] = { "", "python://bad", url("/close"), url("/reset"), url("/stall"), url("/bytes/5000") };
    cw_future *fs[6];
    for (int i = 0; i < 6; i++)
        fs[i] = cw_session_get(s, urls[i]);
    for (int i = 0; i < 6; i++) {
        v->rcs[i] = cw_await(fs[i]);
        cw_future_release(fs[i]);
    }
    cw_future *ok = cw_session_get(s, url("/get"));
    v->last_rc = cw_await(ok);
    if (v->last_rc == 0)
        v->last_status = cw_response_of(ok)->status;
    cw_future_release(ok);
    cw_session_close(s);
    await_open(0, 2000);
    v->open_after = cw_fixture_stats_get(fx).open;
    return NULL;
}

START_TEST(test_session_survives_failures)
{
    survivor v = { 0 };
    ck_assert_int_eq(cw_run(failures_then_get, &v, NULL), 0);
    const int want[6] = { CW_EBADURL, CW_ESCHEME, CW_ECONNRESET, CW_ECONNRESET, CW_ETIMEDOUT, CW_ETOOBIG };
    for (int i = 0; i < 6; i++)
        ck_assert_msg(v.rcs[i] == want[i], "failure %d: want %s, got %s", i, cw_error_name(want[i]),
                      cw_error_name(v.rcs[i]));
    ck_assert_msg(v.last_rc == 0 && v.last_status == 200, "a GET after six failures should work, got %s",
                  cw_error_name(v.last_rc));
    ck_assert_msg(v.open_after == 0, "every connection should be closed at the end, %ld open", v.open_after);
}
END_TEST

/* ------------------------------------------------------------ requests refused before they are sent */

typedef struct refused {
    cw_request req;
    int rc, state;
    char message[512];
    long accepted;
} refused;

static void *send_refused(void *arg)
{
    refused *r = arg;
    cw_session *s;
    cw_session_open(&s, NULL);
    cw_fixture_stats_reset(fx);
    cw_future *f = cw_session_request(s, &r->req);
    r->rc = cw_await(f);
    r->state = cw_future_state(f);
    snprintf(r->message, sizeof r->message, "%s", cw_future_message(f));
    cw_future_release(f);
    cw_session_close(s);
    r->accepted = cw_fixture_stats_get(fx).accepted;
    return NULL;
}

static void check_refused(const char *name, const char *method, const char *const *headers, const char *must_name)
{
    refused r = { .req = { .method = method, .url = url("/anything"), .headers = headers } };
    ck_assert_int_eq(cw_run(send_refused, &r, NULL), 0);
    ck_assert_msg(r.rc == CW_EINVAL, "%s: want CW_EINVAL, got %s (%s)", name, cw_error_name(r.rc), r.message);
    ck_assert_msg(r.state == CW_FAILED, "%s: the future should end failed, state %d", name, r.state);
    ck_assert_msg(strstr(r.message, must_name) != NULL, "%s: the message should name '%s': %s", name, must_name,
                  r.message);
    ck_assert_msg(r.accepted == 0, "%s: nothing should reach the server, %ld connections accepted", name, r.accepted);
}

START_TEST(test_empty_method)
{
    check_refused("empty method", "", NULL, "method");
}
END_TEST

START_TEST(test_header_injection_in_method)
{
    check_refused("CR LF in the method", "GET /evil HTTP/1.1\r\nX-Injected: 1\r\n\r\nGET", NULL, "method");
    check_refused("a space in the method", "GET /evil", NULL, "method");
}
END_TEST

START_TEST(test_header_injection_in_header)
{
    static const char *const crlf[] = { "X-Ok: 1", "X-Evil: 1\r\nX-Injected: 2", NULL };
    static const char *const lf[] = { "X-Evil: 1\nX-Injected: 2", NULL };
    check_refused("CR LF in a header", NULL, crlf, "header 1");
    check_refused("LF in a header", NULL, lf, "header 0");
}
END_TEST

/* A timeout too long for the clock ((unsigned long)-1 ms) is no timeout: the request succeeds. */
START_TEST(test_absurd_timeouts_never_fire)
{
    const unsigned long forever = (unsigned long)-1;
    const cw_timeouts each[] = { { .total_ms = forever }, { .connect_ms = forever }, { .sock_connect_ms = forever },
                                 { .sock_read_ms = forever }, { forever, forever, forever, forever } };
    for (size_t i = 0; i < sizeof each / sizeof each[0]; i++) {
        refused r = { .req = { .url = url("/delay/100"), .timeouts = &each[i] } };
        ck_assert_int_eq(cw_run(send_refused, &r, NULL), 0);
        ck_assert_msg(r.rc == 0, "timeouts #%zu of (unsigned long)-1 ms should never fire, got %s (%s)", i,
                      cw_error_name(r.rc), r.message);
    }
}
END_TEST

/* ------------------------------------------------------------ replies that are not what HTTP allows */

/** A loopback listener that answers every connection with the same canned bytes, then closes it. */
typedef struct canned {
    int listener, port;
    const char *reply;
    size_t len;
    pthread_t thread;
} canned;

static void *serve_canned(void *arg)
{
    canned *c = arg;
    int fd;
    while ((fd = accept(c->listener, NULL, NULL)) >= 0) {
        char buf[4096];
        ssize_t n = read(fd, buf, sizeof buf); /* the request (small: it fits in one read) */
        (void)n;
        for (size_t sent = 0; sent < c->len;) {
            ssize_t w = write(fd, c->reply + sent, c->len - sent);
            if (w <= 0)
                break;
            sent += (size_t)w;
        }
        close(fd);
    }
    return NULL;
}

static void canned_start(canned *c, const char *reply, size_t len)
{
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof addr;
    c->reply = reply;
    c->len = len;
    c->listener = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_msg(c->listener >= 0 && bind(c->listener, (struct sockaddr *)&addr, sizeof addr) == 0 &&
                      listen(c->listener, 8) == 0 && getsockname(c->listener, (struct sockaddr *)&addr, &alen) == 0,
                  "the canned listener should open");
    c->port = ntohs(addr.sin_port);
    ck_assert_int_eq(pthread_create(&c->thread, NULL, serve_canned, c), 0);
}

static void canned_stop(canned *c)
{
    shutdown(c->listener, SHUT_RDWR); /* wakes accept() with an error */
    pthread_join(c->thread, NULL);
    close(c->listener);
}

static void check_canned(const char *name, const char *reply, size_t len, int want, const char *must_name,
                         const char *must_not_name)
{
    canned c;
    canned_start(&c, reply, len);
    char target[64];
    snprintf(target, sizeof target, "http://127.0.0.1:%d/get", c.port);
    refused r = { .req = { .url = target } };
    ck_assert_int_eq(cw_run(send_refused, &r, NULL), 0);
    canned_stop(&c);
    ck_assert_msg(r.rc == want, "%s: want %s, got %s (%s)", name, cw_error_name(want), cw_error_name(r.rc), r.message);
    ck_assert_msg(strstr(r.message, must_name) != NULL, "%s: the message should say '%s': %s", name, must_name,
                  r.message);
    ck_assert_msg(strstr(r.message, must_not_name) == NULL, "%s: the message should not say '%s': %s", name,
                  must_not_name, r.message);
}

START_TEST(test_reply_not_http)
{
    static const char ssh[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";
    check_canned("an SSH banner", ssh, sizeof ssh - 1, CW_EHTTP, "not HTTP", "scheme");
}
END_TEST

START_TEST(test_reply_header_too_long)
{
    enum { LINE = 200 * 1024 };
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Huge: ";
    char *reply = malloc(sizeof head + LINE + 8);
    memcpy(reply, head, sizeof head - 1);
    memset(reply + sizeof head - 1, 'a', LINE);
    memcpy(reply + sizeof head - 1 + LINE, "\r\n\r\n", 4);
    check_canned("a 200 KB header line", reply, sizeof head - 1 + LINE + 4, CW_EHTTP, "header", "Out of memory");
    free(reply);
}
END_TEST

/* ------------------------------------------------------------ the API used where it makes no sense */

START_TEST(test_outside_any_loop)
{
    cw_future *f = cw_future_new();
    ck_assert_msg(cw_await(f) == CW_ENOTASK, "cw_await outside a task should give CW_ENOTASK");
    ck_assert_msg(cw_await(NULL) == CW_EINVAL, "cw_await(NULL) should give CW_EINVAL");
    ck_assert_msg(cw_sleep(10) == CW_ENOTASK, "cw_sleep outside a task should give CW_ENOTASK");
    ck_assert_msg(cw_sleep(0) == CW_ENOTASK, "cw_sleep(0) outside a task should give CW_ENOTASK");
    ck_assert_msg(cw_spawn(NULL, NULL) == NULL, "cw_spawn outside cw_run should give NULL");
    ck_assert_msg(cw_fail(CW_EFAILED, "x") == NULL, "cw_fail outside a task should just give NULL");
    ck_assert_msg(cw_current_task() == NULL && cw_loop() == NULL, "no task and no loop outside cw_run");
    cw_session *s = (cw_session *) 1;
    ck_assert_msg(cw_session_open(&s, NULL) == CW_ENOTASK && s == NULL,
                  "cw_session_open outside cw_run should give CW_ENOTASK and a NULL session");
    ck_assert_msg(cw_session_open(NULL, NULL) == CW_EINVAL, "cw_session_open(NULL) should give CW_EINVAL");
    ck_assert_msg(cw_session_close(NULL) == CW_EINVAL, "cw_session_close(NULL) should give CW_EINVAL");
    ck_assert_msg(cw_run(NULL, NULL, NULL) == CW_EINVAL, "cw_run(NULL) should give CW_EINVAL");

    cw_as_completed *it = cw_as_completed_new(&f, 1, CW_NO_TIMEOUT);
    ck_assert_msg(it != NULL, "an iterator without a timeout can be made outside cw_run");
    cw_future *out = f;
    ck_assert_msg(cw_as_completed_next(it, &out) == CW_ENOTASK && out == NULL,
                  "cw_as_completed_next outside a task should give CW_ENOTASK");
    cw_as_completed_free(it);
    cw_wait_sets sets;
    ck_assert_msg(cw_wait(&f, 1, CW_ALL_COMPLETED, 0, &sets) == CW_ENOTASK,
                  "cw_wait outside a task should give CW_ENOTASK");
    cw_wait_sets_free(&sets);

    ck_assert_msg(cw_future_cancel(f) == 0, "cancelling a pending plain future should work");
    ck_assert_msg(cw_future_cancel(f) == CW_EDONE, "cancelling it again should give CW_EDONE");
    ck_assert_msg(cw_future_resolve(f, NULL, NULL) == CW_EDONE, "resolving a cancelled future should give CW_EDONE");
    ck_assert_msg(cw_future_fail(f, CW_EFAILED, "late") == CW_EDONE, "failing it should give CW_EDONE");
    cw_future_release(f);
}
END_TEST

static void ignore_done(cw_future *f, void *arg)
{
    (void) f, (void) arg;
}

START_TEST(test_future_misuse)
{
    cw_future *f = cw_future_new();
    ck_assert_msg(cw_future_fail(f, 5, "positive") == CW_EINVAL, "a non-negative error code should give CW_EINVAL");
    ck_assert_msg(cw_future_fail(f, 0, NULL) == CW_EINVAL, "error code 0 should give CW_EINVAL");
    ck_assert_msg(!cw_future_done(f), "a rejected fail leaves the future pending");
    ck_assert_msg(cw_future_on_done(f, NULL, NULL) == CW_EINVAL, "a NULL callback should give CW_EINVAL");
    ck_assert_msg(cw_future_on_done(NULL, ignore_done, NULL) == CW_EINVAL, "a NULL future should give CW_EINVAL");
    ck_assert_msg(cw_future_remove_done(f, ignore_done, NULL) == CW_EINVAL,
                  "removing a callback never added should give CW_EINVAL");
    ck_assert_msg(cw_future_error(f) == CW_EPENDING, "a pending future's error is CW_EPENDING");
    ck_assert_msg(cw_future_result(f) == NULL, "a pending future has no result");
    ck_assert_msg(cw_future_cancel(NULL) == CW_EINVAL, "cancelling NULL should give CW_EINVAL");
    ck_assert_msg(strcmp(cw_future_message(NULL), "") != 0, "a NULL future still has a message");
    ck_assert_msg(cw_future_resolve(f, NULL, NULL) == 0, "resolving once works");
    char *late = malloc(8);
    ck_assert_msg(cw_future_resolve(f, late, free) == CW_EDONE, "resolving twice gives CW_EDONE (and frees the value)");
    cw_future_release(f);
    cw_future_release(NULL);
    cw_future_release_all(NULL, 3);
    ck_assert_str_eq(cw_error_name(CW_ENOTASK), "CW_ENOTASK");
    ck_assert_msg(strlen(cw_strerror(12345)) > 0 && strlen(cw_error_name(12345)) > 0,
                  "an unknown code still has a name and a text");
}
END_TEST

START_TEST(test_combinator_misuse)
{
    ck_assert_msg(cw_gather(NULL, 1, false) == NULL, "gather of a NULL array should give NULL");
    cw_future *one = cw_future_new();
    cw_future *with_null[2] = { one, NULL };
    ck_assert_msg(cw_gather(with_null, 2, false) == NULL, "gather with a NULL entry should give NULL");
    ck_assert_msg(cw_gather(&one, -1, false) == NULL, "gather of n = -1 should give NULL");
    ck_assert_msg(cw_as_completed_new(NULL, 1, 0) == NULL, "as_completed of NULL should give NULL");
    ck_assert_msg(cw_as_completed_new(&one, -1, 0) == NULL, "as_completed of n = -1 should give NULL");
    ck_assert_msg(cw_as_completed_next(NULL, &one) == CW_EINVAL, "next(NULL) should give CW_EINVAL");
    cw_wait_sets sets;
    ck_assert_msg(cw_wait(&one, 0, CW_ALL_COMPLETED, 0, &sets) == CW_EINVAL, "wait on an empty set: CW_EINVAL");
    ck_assert_msg(sets.n_done == 0 && sets.n_pending == 0 && !sets.done && !sets.pending,
                  "a rejected wait leaves the sets empty");
    ck_assert_msg(cw_wait(NULL, 1, CW_ALL_COMPLETED, 0, &sets) == CW_EINVAL, "wait on NULL: CW_EINVAL");
    ck_assert_msg(cw_wait(with_null, 2, CW_ALL_COMPLETED, 0, &sets) == CW_EINVAL, "wait with a NULL entry: CW_EINVAL");
    ck_assert_msg(cw_wait(&one, 1, CW_ALL_COMPLETED, 0, NULL) == CW_EINVAL, "wait with NULL sets: CW_EINVAL");
    cw_wait_sets_free(NULL);
    cw_as_completed_free(NULL);
    cw_future_release(one);
}
END_TEST

/* Inside cw_run: the misuses that need a loop. */
typedef struct misuse {
    int nested_run;
    int await_self;
    int limit_rc, per_host_rc, both_rc;
    cw_session *limit_session;
    int gather_empty_rc;
    int wait_empty_rc;
    int as_completed_empty_rc;
    int cancel_pending_rc, cancel_again_rc, task_state, cancel_done_rc, cancel_done_state;
    int request_cancel_rc, request_cancel_again_rc, request_state;
    int null_session_rc;
    char null_session_message[256];
    int null_request_rc;
    int close_twice_rc;
    /* from a libuv callback: inside cw_run, outside any task */
    bool timer_ran;
    int timer_await, timer_sleep, timer_close, timer_next, timer_wait;
    cw_future *timer_spawn;
    cw_session *session;
    cw_as_completed *iterator;
    cw_future *pending;
} misuse;

static void *never_runs(void *arg)
{
    (void) arg;
    return NULL;
}

static void *sleeper(void *arg)
{
    (void) arg;
    cw_sleep(10000);
    return NULL;
}

static void *quick(void *arg)
{
    return arg;
}

static void from_a_timer(uv_timer_t *timer)
{
    misuse *m = timer->data;
    m->timer_ran = true;
    m->timer_await = cw_await(m->pending);
    m->timer_sleep = cw_sleep(5);
    m->timer_close = cw_session_close(m->session);
    cw_future *out = NULL;
    m->timer_next = cw_as_completed_next(m->iterator, &out);
    cw_wait_sets sets;
    m->timer_wait = cw_wait(&m->pending, 1, CW_ALL_COMPLETED, 0, &sets);
    cw_wait_sets_free(&sets);
    uv_close((uv_handle_t *) timer, NULL);
}

static void *misuse_main(void *arg)
{
    misuse *m = arg;
    m->nested_run = cw_run(never_runs, NULL, NULL);
    m->await_self = cw_await(cw_current_task());

    cw_session_options o = cw_session_options_default();
    o.limit = -1;
    m->limit_session = (cw_session *) 1;
    m->limit_rc = cw_session_open(&m->limit_session, &o);
    o.limit = 10;
    o.limit_per_host = -1;
    cw_session *s;
    m->per_host_rc = cw_session_open(&s, &o);
    o.limit = -5;
    m->both_rc = cw_session_open(&s, &o);

    cw_future *g = cw_gather(NULL, 0, false);
    m->gather_empty_rc = g ? cw_await(g) : CW_EINVAL; /* n == 0 with a NULL array: either is fine */
    cw_future_release(g);
    cw_wait_sets sets;
    m->wait_empty_rc = cw_wait(NULL, 0, CW_FIRST_COMPLETED, 100, &sets);
    cw_as_completed *it = cw_as_completed_new(NULL, 0, 0);
    cw_future *out;
    m->as_completed_empty_rc = it ? cw_as_completed_next(it, &out) : CW_EEOF;
    cw_as_completed_free(it);

    /* Cancel a task twice before it runs, then once more after it has ended. */
    cw_future *t = cw_spawn(sleeper, NULL);
    m->cancel_pending_rc = cw_future_cancel(t);
    m->cancel_again_rc = cw_future_cancel(t);
    cw_await(t);
    m->task_state = cw_future_state(t);
    cw_future_release(t);
    cw_future *done = cw_spawn(quick, m);
    cw_await(done);
    m->cancel_done_rc = cw_future_cancel(done);
    m->cancel_done_state = cw_future_state(done);
    cw_future_release(done);

    cw_session_open(&m->session, NULL);
    char url[128];
    cw_future *req = cw_session_get(m->session, cw_fixture_url(fx, "/stall", url, sizeof url));
    cw_sleep(20);
    m->request_cancel_rc = cw_future_cancel(req);
    m->request_cancel_again_rc = cw_future_cancel(req);
    m->request_state = cw_future_state(req);
    cw_future_release(req);

    cw_future *nul = cw_session_get(NULL, url);
    m->null_session_rc = cw_await(nul);
    snprintf(m->null_session_message, sizeof m->null_session_message, "%s", cw_future_message(nul));
    cw_future_release(nul);
    nul = cw_session_request(m->session, NULL);
    m->null_request_rc = cw_await(nul);
    cw_future_release(nul);

    /* Now the same calls from a libuv callback: inside cw_run, but outside any task. */
    m->pending = cw_future_new();
    m->iterator = cw_as_completed_new(&m->pending, 1, 0);
    uv_timer_t timer;
    uv_timer_init(cw_loop(), &timer);
    timer.data = m;
    uv_timer_start(&timer, from_a_timer, 10, 0);
    while (!m->timer_ran)
        cw_sleep(5);
    cw_sleep(5); /* let the timer's close finish before its memory goes */
    cw_as_completed_free(m->iterator);
    cw_future_cancel(m->pending);
    cw_future_release(m->pending);
    cw_session_close(m->session);
    return NULL;
}

START_TEST(test_misuse_inside_run)
{
    misuse m = { 0 };
    ck_assert_int_eq(cw_run(misuse_main, &m, NULL), 0);
    ck_assert_msg(m.nested_run == CW_EINVAL, "cw_run inside cw_run should give CW_EINVAL, got %s",
                  cw_error_name(m.nested_run));
    ck_assert_msg(m.await_self == CW_EINVAL, "a task awaiting itself should give CW_EINVAL, got %s",
                  cw_error_name(m.await_self));
    ck_assert_msg(m.limit_rc == CW_EINVAL && m.limit_session == NULL,
                  "limit -1 should give CW_EINVAL and no session, got %s", cw_error_name(m.limit_rc));
    ck_assert_msg(m.per_host_rc == CW_EINVAL, "limit_per_host -1 should give CW_EINVAL, got %s",
                  cw_error_name(m.per_host_rc));
    ck_assert_msg(m.both_rc == CW_EINVAL, "limit -5 should give CW_EINVAL, got %s", cw_error_name(m.both_rc));
    ck_assert_msg(m.gather_empty_rc == 0 || m.gather_empty_rc == CW_EINVAL,
                  "gather of nothing should resolve or be refused, got %s", cw_error_name(m.gather_empty_rc));
    ck_assert_msg(m.wait_empty_rc == CW_EINVAL, "wait on an empty set should give CW_EINVAL, got %s",
                  cw_error_name(m.wait_empty_rc));
    ck_assert_msg(m.as_completed_empty_rc == CW_EEOF, "as_completed of nothing should give CW_EEOF at once, got %s",
                  cw_error_name(m.as_completed_empty_rc));
    ck_assert_msg(m.cancel_pending_rc == 0, "cancelling a pending task should give 0, got %s",
                  cw_error_name(m.cancel_pending_rc));
    ck_assert_msg(m.cancel_again_rc == 0 || m.cancel_again_rc == CW_EDONE,
                  "cancelling it twice should be harmless, got %s", cw_error_name(m.cancel_again_rc));
    ck_assert_msg(m.task_state == CW_CANCELLED, "the twice-cancelled task should end cancelled, state %d",
                  m.task_state);
    ck_assert_msg(m.cancel_done_rc == CW_EDONE && m.cancel_done_state == CW_RESOLVED,
                  "cancelling a finished task should give CW_EDONE and change nothing, got %s, state %d",
                  cw_error_name(m.cancel_done_rc), m.cancel_done_state);
    ck_assert_msg(m.request_cancel_rc == 0 && m.request_cancel_again_rc == CW_EDONE &&
                      m.request_state == CW_CANCELLED,
                  "a request cancelled twice: want 0 then CW_EDONE and cancelled, got %s, %s, state %d",
                  cw_error_name(m.request_cancel_rc), cw_error_name(m.request_cancel_again_rc), m.request_state);
    ck_assert_msg(m.null_session_rc == CW_EINVAL && strstr(m.null_session_message, "session"),
                  "a request on a NULL session should fail with CW_EINVAL naming the session, got %s: %s",
                  cw_error_name(m.null_session_rc), m.null_session_message);
    ck_assert_msg(m.null_request_rc == CW_EINVAL, "a NULL request should fail with CW_EINVAL, got %s",
                  cw_error_name(m.null_request_rc));
    ck_assert_msg(m.timer_ran, "the timer callback should have run");
    ck_assert_msg(m.timer_await == CW_ENOTASK, "cw_await from a libuv callback should give CW_ENOTASK, got %s",
                  cw_error_name(m.timer_await));
    ck_assert_msg(m.timer_sleep == CW_ENOTASK, "cw_sleep from a libuv callback should give CW_ENOTASK, got %s",
                  cw_error_name(m.timer_sleep));
    ck_assert_msg(m.timer_close == CW_ENOTASK, "cw_session_close outside a task should give CW_ENOTASK, got %s",
                  cw_error_name(m.timer_close));
    ck_assert_msg(m.timer_next == CW_ENOTASK, "cw_as_completed_next outside a task should give CW_ENOTASK, got %s",
                  cw_error_name(m.timer_next));
    ck_assert_msg(m.timer_wait == CW_ENOTASK, "cw_wait outside a task should give CW_ENOTASK, got %s",
                  cw_error_name(m.timer_wait));
}
END_TEST

/* A session left open, a task left sleeping and a request left in flight: cw_run cleans all of it up. */
static void *leave_everything_open(void *arg)
{
    (void) arg;
    cw_session *s;
    cw_session_open(&s, NULL);
    cw_future *req = cw_session_get(s, url("/stall"));
    cw_future *t = cw_spawn(sleeper, NULL);
    cw_sleep(20);
    cw_future_release(req);
    cw_future_release(t);
    return NULL;
}

START_TEST(test_run_cleans_up_leftovers)
{
    ck_assert_int_eq(cw_run(leave_everything_open, NULL, NULL), 0);
    ck_assert_msg(wait_open(0, 2000), "cw_run should close the leftover session's connections, %ld open",
                  cw_fixture_stats_get(fx).open);
    ck_assert_int_eq(cw_run(quick, NULL, NULL), 0); /* and a second cw_run works */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("badinput");

    TCase *tc = add_case(s, "requests", 15, server_setup, server_teardown);
    tcase_add_test(tc, test_plain_urls_read_as_libcurl_reads_them);
    tcase_add_test(tc, test_malformed_urls);
    tcase_add_test(tc, test_empty_url);
    tcase_add_test(tc, test_null_url);
    tcase_add_test(tc, test_unsupported_scheme);
    tcase_add_test(tc, test_ftp_scheme);
    tcase_add_test(tc, test_refused_port);
    tcase_add_test(tc, test_close_mid_body);
    tcase_add_test(tc, test_reset);
    tcase_add_test(tc, test_stall_total);
    tcase_add_test(tc, test_stall_sock_read);
    tcase_add_test(tc, test_drip_sock_read);
    tcase_add_test(tc, test_blackhole_connect);
    tcase_add_test(tc, test_blackhole_sock_connect);
    tcase_add_test(tc, test_blackhole_total);
    tcase_add_test(tc, test_body_over_max);
    tcase_add_test(tc, test_body_at_max_is_fine);
    tcase_add_test(tc, test_session_survives_failures);
    tcase_add_test(tc, test_empty_method);
    tcase_add_test(tc, test_header_injection_in_method);
    tcase_add_test(tc, test_header_injection_in_header);
    tcase_add_test(tc, test_absurd_timeouts_never_fire);
    tcase_add_test(tc, test_reply_not_http);
    tcase_add_test(tc, test_reply_header_too_long);

    tc = add_case(s, "misuse", 15, server_setup, server_teardown);
    tcase_add_test(tc, test_outside_any_loop);
    tcase_add_test(tc, test_future_misuse);
    tcase_add_test(tc, test_combinator_misuse);
    tcase_add_test(tc, test_misuse_inside_run);
    tcase_add_test(tc, test_run_cleans_up_leftovers);

    return run_suite(s);
}
