/**
 * @file test_http.c
 * @brief Tests of HTTP sessions: responses, methods, the connection pool's limits, keep-alive,
 *        closing, and cancelling requests in flight.
 *
 * Each test starts its own fixture server and checks the pool through the
 * server's counters (connections accepted, open, most open at once).
 */
#include "cw.h"
#include "cw_fixture.h"
#include "support.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* ------------------------------------------------------------ one request */

typedef struct get_record {
    int rc;
    long status;
    char body[512];
    size_t body_len;
    size_t strlen_body;
    char url[256];
    int type_len;
    char type[128];
    int missing_len;
    char cut[4];
    int cut_len;
    bool has_status_line;
    bool pending_has_response;
    bool failed_has_response;
    bool plain_future_has_response;
} get_record;

static void *get_one(void *arg)
{
    get_record *r = arg;
    cw_session *s;
    if (cw_session_open(&s, NULL) < 0)
        return cw_fail(CW_EFAILED, "session open failed");
    cw_future *req = cw_session_get(s, url("/get?x=1"));
    r->pending_has_response = cw_response_of(req) != NULL;
    r->rc = cw_await(req);
    const cw_response *res = cw_response_of(req);
    if (res) {
        r->status = res->status;
        snprintf(r->body, sizeof r->body, "%s", res->body);
        r->body_len = res->body_len;
        r->strlen_body = strlen(res->body);
        snprintf(r->url, sizeof r->url, "%s", res->url);
        r->has_status_line = res->headers && strstr(res->headers, "200") != NULL;
        r->type_len = cw_response_header(res, "content-type", r->type, sizeof r->type);
        r->missing_len = cw_response_header(res, "X-Not-There", r->type + 100, 8);
        r->cut_len = cw_response_header(res, "Content-Type", r->cut, sizeof r->cut);
    }
    cw_future_release(req);

    cw_future *plain = cw_future_new();
    cw_future_resolve(plain, r, NULL);
    r->plain_future_has_response = cw_response_of(plain) != NULL;
    cw_future_release(plain);

    cw_future *bad = cw_session_get(s, "python://bad");
    cw_await(bad);
    r->failed_has_response = cw_response_of(bad) != NULL;
    cw_future_release(bad);
    cw_session_close(s);
    return NULL;
}

START_TEST(test_get_returns_response)
{
    get_record r = { 0 };
    ck_assert_int_eq(cw_run(get_one, &r, NULL), 0);
    ck_assert_msg(r.rc == 0, "GET /get should succeed, got %s", cw_error_name(r.rc));
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.body, "\"method\": \"GET\"") != NULL, "unexpected body: %s", r.body);
    ck_assert_msg(strstr(r.body, "/get?x=1") != NULL, "the body should name the URL: %s", r.body);
    ck_assert_uint_eq(r.body_len, r.strlen_body);
    ck_assert_str_eq(r.url, url("/get?x=1"));
    ck_assert(r.has_status_line);
    ck_assert_int_eq(r.type_len, (int)strlen("application/json"));
    ck_assert_str_eq(r.type, "application/json");
    ck_assert_int_eq(r.missing_len, -1);
    ck_assert_msg(r.cut_len == (int)strlen("application/json") && strcmp(r.cut, "app") == 0,
                  "a cut header value should be NUL-terminated and report its full length, got \"%s\" %d",
                  r.cut, r.cut_len);
    ck_assert(!r.pending_has_response);
    ck_assert(!r.failed_has_response);
    ck_assert(!r.plain_future_has_response);
}
END_TEST

START_TEST(test_options_default)
{
    cw_session_options o = cw_session_options_default();
    ck_assert_int_eq(o.limit, 100);
    ck_assert_int_eq(o.limit_per_host, 0);
    ck_assert_uint_eq(o.timeouts.total_ms, CW_DEFAULT_TOTAL_MS);
    ck_assert_uint_eq(o.timeouts.total_ms, 300000);
    ck_assert_uint_eq(o.timeouts.connect_ms, 0);
    /* aiohttp >= 3.10: ClientTimeout(total=5 * 60, sock_connect=30) */
    ck_assert_uint_eq(o.timeouts.sock_connect_ms, CW_DEFAULT_SOCK_CONNECT_MS);
    ck_assert_uint_eq(o.timeouts.sock_connect_ms, 30000);
    ck_assert_uint_eq(o.timeouts.sock_read_ms, 0);
    ck_assert_uint_eq(o.max_body, 64u * 1024 * 1024);
}
END_TEST

/* ------------------------------------------------------------ methods */

typedef struct methods_record {
    int rc[8];
    long status[8];
    char body[8][256];
    size_t len[8];
} methods_record;

static void keep(methods_record *r, int i, cw_future *req)
{
    r->rc[i] = cw_await(req);
    const cw_response *res = cw_response_of(req);
    if (res) {
        r->status[i] = res->status;
        r->len[i] = res->body_len;
        memcpy(r->body[i], res->body, res->body_len < 255 ? res->body_len : 255);
    }
    cw_future_release(req);
}

static void *all_methods(void *arg)
{
    methods_record *r = arg;
    cw_session *s;
    cw_session_open(&s, NULL);
    keep(r, 0, cw_session_get(s, url("/get")));
    keep(r, 1, cw_session_post(s, url("/echo"), "hello post", 10));
    keep(r, 2, cw_session_put(s, url("/echo"), "hello put", 9));
    keep(r, 3, cw_session_delete(s, url("/delete")));
    keep(r, 4, cw_session_post(s, url("/echo"), "a\0b", 3)); /* binary body, NUL included */
    static const char *const headers[] = { "Content-Type: text/x-course", NULL };
    cw_request req = {
        .method = "PATCH", .url = url("/anything"), .body = "patched", .body_len = 7, .headers = headers,
    };
    keep(r, 5, cw_session_request(s, &req));
    cw_session_close(s);
    return NULL;
}

START_TEST(test_get_post_put_delete)
{
    methods_record r = { 0 };
    ck_assert_int_eq(cw_run(all_methods, &r, NULL), 0);
    for (int i = 0; i < 6; i++) {
        ck_assert_msg(r.rc[i] == 0, "request %d failed: %s", i, cw_error_name(r.rc[i]));
        ck_assert_msg(r.status[i] == 200, "request %d: status %ld", i, r.status[i]);
    }
    ck_assert_str_eq(r.body[1], "hello post");
    ck_assert_str_eq(r.body[2], "hello put");
    ck_assert_msg(strstr(r.body[3], "DELETE") != NULL, "DELETE /delete should name its method: %s", r.body[3]);
    ck_assert_uint_eq(r.len[4], 3);
    ck_assert_mem_eq(r.body[4], "a\0b", 3);
    ck_assert_msg(strstr(r.body[5], "PATCH") != NULL, "the method should be PATCH: %s", r.body[5]);
    ck_assert_msg(strstr(r.body[5], "patched") != NULL, "the body should be sent: %s", r.body[5]);
    ck_assert_msg(strstr(r.body[5], "text/x-course") != NULL, "the extra header should be sent: %s", r.body[5]);
}
END_TEST

/* What /anything saw of each request: aiohttp 3.8 (checked on Debian's python3) labels any body
 * application/octet-stream unless a Content-Type is given, and sends POST, PUT and PATCH with an
 * empty body when none is given; GET and DELETE without a body carry no type. */
static const struct {
    const char *method, *body, *header, *type;
} typed[] = {
    { "POST", "{}", NULL, "\"content_type\": \"application/octet-stream\"" },
    { "PUT", "{}", "X-Course: 1", "\"content_type\": \"application/octet-stream\"" },
    { "POST", "{}", "content-type: application/json", "\"content_type\": \"application/json\"" },
    { "POST", NULL, NULL, "\"content_type\": \"application/octet-stream\", \"data\": \"\"" },
    { "PATCH", NULL, NULL, "\"content_type\": \"application/octet-stream\"" },
    { "DELETE", NULL, NULL, "\"content_type\": \"\"" },
    { "GET", NULL, NULL, "\"content_type\": \"\"" },
};
#define N_TYPED (int)(sizeof typed / sizeof typed[0])

static void *typed_requests(void *arg)
{
    methods_record *r = arg;
    cw_session *s;
    cw_session_open(&s, NULL);
    for (int i = 0; i < N_TYPED; i++) {
        const char *headers[] = { typed[i].header, NULL };
        cw_request req = { .method = typed[i].method,
                           .url = url("/anything"),
                           .body = typed[i].body,
                           .body_len = typed[i].body ? strlen(typed[i].body) : 0,
                           .headers = typed[i].header ? headers : NULL };
        keep(r, i, cw_session_request(s, &req));
    }
    cw_session_close(s);
    return NULL;
}

START_TEST(test_body_types_as_aiohttp)
{
    methods_record r = { 0 };
    ck_assert_int_eq(cw_run(typed_requests, &r, NULL), 0);
    for (int i = 0; i < N_TYPED; i++) {
        ck_assert_msg(r.rc[i] == 0 && r.status[i] == 200, "%s %d: %s, status %ld", typed[i].method, i,
                      cw_error_name(r.rc[i]), r.status[i]);
        ck_assert_msg(strstr(r.body[i], typed[i].type) != NULL, "%s %d should arrive with %s: %s", typed[i].method,
                      i, typed[i].type, r.body[i]);
    }
}
END_TEST

/* A finished request's easy handle serves the next one as it is (http_request.c): nothing of one
 * request may reach the next. With limit 1 and each request awaited, every request here runs on the
 * same handle, and every kind follows every kind (a method, a body or none, a header or none). A GET
 * with a body is sent as aiohttp sends it (checked on Debian's python3): GET, the body typed as bytes. */
static const struct {
    const char *method, *body, *header;
} kinds[] = {
    { "GET", NULL, NULL },   { "HEAD", NULL, NULL },  { "POST", "p", "Content-Type: text/x-course" },
    { "POST", NULL, NULL },  { "PUT", "u", NULL },    { "PATCH", "a", "Content-Type: text/x-course" },
    { "DELETE", NULL, NULL }, { "GET", NULL, "Content-Type: text/x-course" }, { "GET", "g", NULL },
};
#define N_KINDS (int)(sizeof kinds / sizeof kinds[0])
#define N_PAIRS (N_KINDS * N_KINDS)

typedef struct pairs_record {
    char wrong[512]; /* the first request that carried something it should not have, or "" */
    int done;
    long accepted;
} pairs_record;

/* What /anything must say of kinds[k]: the body and type aiohttp's rules give (test_body_types_as_aiohttp). */
static void expect_of(int k, char *out, size_t size)
{
    const char *type = kinds[k].header              ? "text/x-course"
                       : kinds[k].body              ? "application/octet-stream"
                       : strcmp(kinds[k].method, "POST") == 0 ? "application/octet-stream"
                                                               : "";
    snprintf(out, size, "{\"method\": \"%s\", \"url\": \"/anything\", \"content_type\": \"%s\", \"data\": \"%s\"}\n",
             kinds[k].method, type, kinds[k].body ? kinds[k].body : "");
}

static void *every_pair_on_one_handle(void *arg)
{
    pairs_record *r = arg;
    cw_session_options o = cw_session_options_default();
    o.limit = 1;
    o.timeouts.total_ms = backstop(3000); /* a HEAD that stayed set waits for a body: say so */
    cw_session *s;
    if (cw_session_open(&s, &o) < 0)
        return cw_fail(CW_EFAILED, "session open failed");
    cw_fixture_stats_reset(fx);
    int last = -1;
    for (int i = 0; i < 2 * N_PAIRS && !r->wrong[0]; i++) {
        int k = i % 2 == 0 ? i / 2 / N_KINDS : i / 2 % N_KINDS; /* pairs (a, b), one after another */
        const char *headers[] = { kinds[k].header, NULL };
        cw_request req = { .method = kinds[k].method,
                           .url = url("/anything"),
                           .body = kinds[k].body,
                           .body_len = kinds[k].body ? strlen(kinds[k].body) : 0,
                           .headers = kinds[k].header ? headers : NULL };
        cw_future *f = cw_session_request(s, &req);
        int rc = cw_await(f);
        const cw_response *res = cw_response_of(f);
        char want[256];
        expect_of(k, want, sizeof want);
        if (strcmp(kinds[k].method, "HEAD") == 0)
            want[0] = '\0'; /* no body */
        if (rc != 0 || !res || res->status != 200 || strcmp(res->body, want) != 0)
            snprintf(r->wrong, sizeof r->wrong,
                     "request %d, kind %d (%s) after kind %d: %s, status %ld, body \"%s\", wanted \"%s\"", i, k,
                     kinds[k].method, last, cw_error_name(rc), res ? res->status : 0, res ? res->body : "", want);
        last = k;
        cw_future_release(f);
        r->done++;
    }
    r->accepted = cw_fixture_stats_get(fx).accepted;
    cw_session_close(s);
    return NULL;
}

START_TEST(test_pooled_handle_keeps_nothing_of_its_last_request)
{
    pairs_record r = { 0 };
    ck_assert_int_eq(cw_run(every_pair_on_one_handle, &r, NULL), 0);
    ck_assert_msg(r.wrong[0] == '\0', "%s", r.wrong);
    ck_assert_int_eq(r.done, 2 * N_PAIRS);
    ck_assert_msg(r.accepted == 1, "one connection should carry them all, as one handle does: %ld", r.accepted);
}
END_TEST

/* Redirects, as aiohttp follows them (its rule: a 303, except after a HEAD, and a 301 or 302 after
 * a POST, become a GET without the body and the type given to it, the caller's headers kept;
 * anything else is sent again as it was), checked on Debian's python3-aiohttp against
 * /redirect/{code}. */
static const int redirect_codes[] = { 301, 302, 303, 307, 308 };
#define N_CODES (int)(sizeof redirect_codes / sizeof redirect_codes[0])

static void *redirects(void *arg)
{
    pairs_record *r = arg;
    cw_session *s;
    if (cw_session_open(&s, NULL) < 0)
        return cw_fail(CW_EFAILED, "session open failed");
    for (int k = 0; k < N_KINDS && !r->wrong[0]; k++) {
        for (int c = 0; c < N_CODES && !r->wrong[0]; c++) {
            const char *method = kinds[k].method, *body = kinds[k].body;
            int code = redirect_codes[c];
            bool head = strcmp(method, "HEAD") == 0, post = strcmp(method, "POST") == 0;
            bool to_get = (code == 303 && !head) || ((code == 301 || code == 302) && post);
            char path[32], want[200];
            snprintf(path, sizeof path, "/redirect/%d", code);
            int k_get = to_get ? 0 : k; /* what a plain GET, or this kind, says of itself */
            expect_of(k_get, want, sizeof want);
            if (to_get && kinds[k].header) /* the caller's type stays */
                expect_of(7, want, sizeof want);
            const char *headers[] = { kinds[k].header, NULL };
            cw_request req = { .method = method,
                               .url = url(path),
                               .body = body,
                               .body_len = body ? strlen(body) : 0,
                               .headers = kinds[k].header ? headers : NULL };
            cw_future *f = cw_session_request(s, &req);
            int rc = cw_await(f);
            const cw_response *res = cw_response_of(f);
            bool ok = rc == 0 && res && res->status == 200 && (head ? res->body_len == 0 : strcmp(res->body, want) == 0);
            if (!ok)
                snprintf(r->wrong, sizeof r->wrong, "%s%s after a %d: %s, status %ld, body \"%s\", wanted \"%s\"",
                         method, body ? " with a body" : "", code, cw_error_name(rc), res ? res->status : 0,
                         res ? res->body : "", head ? "" : want);
            cw_future_release(f);
            r->done++;
        }
    }
    cw_session_close(s);
    return NULL;
}

START_TEST(test_redirects_as_aiohttp)
{
    pairs_record r = { 0 };
    ck_assert_int_eq(cw_run(redirects, &r, NULL), 0);
    ck_assert_msg(r.wrong[0] == '\0', "%s", r.wrong);
    ck_assert_int_eq(r.done, N_KINDS * N_CODES);
}
END_TEST

typedef struct chain_record {
    int rc[2];
    long status[2];
    char message[256];
} chain_record;

/* aiohttp follows 9 redirects and fails at the 10th (max_redirects=10, checked on Debian's
 * python3-aiohttp: TooManyRedirects). /redirect/302?more=N redirects N + 1 times. */
static void *redirect_chains(void *arg)
{
    chain_record *r = arg;
    cw_session *s;
    if (cw_session_open(&s, NULL) < 0)
        return cw_fail(CW_EFAILED, "session open failed");
    const char *paths[] = { "/redirect/302?more=8", "/redirect/302?more=9" };
    for (int i = 0; i < 2; i++) {
        cw_future *f = cw_session_get(s, url(paths[i]));
        r->rc[i] = cw_await(f);
        r->status[i] = cw_response_of(f) ? cw_response_of(f)->status : 0;
        if (r->rc[i] != 0)
            snprintf(r->message, sizeof r->message, "%s", cw_future_message(f));
        cw_future_release(f);
    }
    cw_session_close(s);
    return NULL;
}

START_TEST(test_redirects_at_most_nine)
{
    chain_record r = { 0 };
    ck_assert_int_eq(cw_run(redirect_chains, &r, NULL), 0);
    ck_assert_msg(r.rc[0] == 0 && r.status[0] == 200, "9 redirects should be followed: %s, status %ld",
                  cw_error_name(r.rc[0]), r.status[0]);
    ck_assert_msg(r.rc[1] == CW_EHTTP, "the 10th redirect should fail with CW_EHTTP, not %s", cw_error_name(r.rc[1]));
    ck_assert_msg(strstr(r.message, "redirects") != NULL, "the message should say why: %s", r.message);
}
END_TEST

/* ------------------------------------------------------------ the pool */

typedef struct pool_record {
    int limit, per_host;
    int n;
    const char *path;
    int ok;
    int open_rc;
    cw_fixture_stats stats;
} pool_record;

/** Open a session with the record's limits, start n requests at once, await them all. */
static void *concurrent_gets(void *arg)
{
    pool_record *r = arg;
    cw_session_options o = cw_session_options_default();
    o.limit = r->limit;
    o.limit_per_host = r->per_host;
    cw_session *s;
    r->open_rc = cw_session_open(&s, &o);
    if (r->open_rc < 0)
        return NULL;
    cw_fixture_stats_reset(fx);
    cw_future **reqs = calloc(r->n, sizeof *reqs);
    for (int i = 0; i < r->n; i++)
        reqs[i] = cw_session_get(s, url(r->path));
    for (int i = 0; i < r->n; i++) {
        if (cw_await(reqs[i]) == 0 && cw_response_of(reqs[i])->status == 200)
            r->ok++;
    }
    r->stats = cw_fixture_stats_get(fx);
    cw_future_release_all(reqs, r->n);
    free(reqs);
    cw_session_close(s);
    return NULL;
}

START_TEST(test_limit_caps_open_connections)
{
    pool_record r = { .limit = 2, .n = 10, .path = "/delay/100" };
    ck_assert_int_eq(cw_run(concurrent_gets, &r, NULL), 0);
    ck_assert_int_eq(r.open_rc, 0);
    ck_assert_msg(r.ok == 10, "all 10 requests should succeed, %d did", r.ok);
    ck_assert_msg(r.stats.max_open <= 2, "limit 2 but the server saw %ld connections open at once", r.stats.max_open);
    ck_assert_msg(r.stats.max_open == 2, "with 10 requests waiting both pooled connections should be used, saw %ld",
                  r.stats.max_open);
    ck_assert_int_eq(r.stats.requests, 10);
}
END_TEST

START_TEST(test_limit_per_host)
{
    pool_record r = { .limit = 100, .per_host = 3, .n = 9, .path = "/delay/100" };
    ck_assert_int_eq(cw_run(concurrent_gets, &r, NULL), 0);
    ck_assert_int_eq(r.ok, 9);
    ck_assert_msg(r.stats.max_open <= 3, "limit_per_host 3 but the server saw %ld open at once", r.stats.max_open);
    ck_assert_int_eq(r.stats.requests, 9);
}
END_TEST

START_TEST(test_default_limit_100)
{
    /* Default options: the limit is 100. */
    pool_record r = { .limit = 100, .n = 200, .path = "/delay/200" };
    cw_session_options o = cw_session_options_default();
    ck_assert_int_eq(o.limit, 100);
    ck_assert_int_eq(cw_run(concurrent_gets, &r, NULL), 0);
    ck_assert_msg(r.ok == 200, "all 200 requests should succeed, %d did", r.ok);
    ck_assert_msg(r.stats.max_open <= 100, "default limit 100 but the server saw %ld open at once", r.stats.max_open);
    ck_assert_msg(r.stats.max_open > 10, "200 concurrent requests should use many connections, saw %ld",
                  r.stats.max_open);
}
END_TEST

/* NULL options are the defaults too. */
static void *default_session_gets(void *arg)
{
    pool_record *r = arg;
    cw_session *s;
    r->open_rc = cw_session_open(&s, NULL);
    cw_fixture_stats_reset(fx);
    cw_future *reqs[150];
    for (int i = 0; i < 150; i++)
        reqs[i] = cw_session_get(s, url("/delay/200"));
    for (int i = 0; i < 150; i++)
        r->ok += cw_await(reqs[i]) == 0;
    r->stats = cw_fixture_stats_get(fx);
    cw_future_release_all(reqs, 150);
    cw_session_close(s);
    return NULL;
}

START_TEST(test_null_options_limit_100)
{
    pool_record r = { 0 };
    ck_assert_int_eq(cw_run(default_session_gets, &r, NULL), 0);
    ck_assert_int_eq(r.open_rc, 0);
    ck_assert_int_eq(r.ok, 150);
    ck_assert_msg(r.stats.max_open <= 100, "NULL options: limit 100, but %ld open at once", r.stats.max_open);
}
END_TEST

START_TEST(test_limit_0_is_unlimited)
{
    pool_record r = { .limit = 0, .n = 30, .path = "/delay/300" };
    ck_assert_int_eq(cw_run(concurrent_gets, &r, NULL), 0);
    ck_assert_int_eq(r.ok, 30);
    ck_assert_msg(r.stats.max_open > 20, "limit 0 (unlimited): 30 concurrent requests opened only %ld at once",
                  r.stats.max_open);
}
END_TEST

START_TEST(test_negative_limit_einval)
{
    pool_record r = { .limit = -1, .n = 1, .path = "/get" };
    ck_assert_int_eq(cw_run(concurrent_gets, &r, NULL), 0);
    ck_assert_int_eq(r.open_rc, CW_EINVAL);
    r = (pool_record){ .limit = 10, .per_host = -1, .n = 1, .path = "/get" };
    ck_assert_int_eq(cw_run(concurrent_gets, &r, NULL), 0);
    ck_assert_msg(r.open_rc == CW_EINVAL, "a negative limit_per_host should be CW_EINVAL, got %s",
                  cw_error_name(r.open_rc));
}
END_TEST

typedef struct misc_record {
    int open_null_rc;
    int close_null_rc;
} misc_record;

static void *open_null(void *arg)
{
    misc_record *r = arg;
    r->open_null_rc = cw_session_open(NULL, NULL);
    r->close_null_rc = cw_session_close(NULL);
    return NULL;
}

START_TEST(test_session_bad_arguments)
{
    cw_session *s = NULL;
    ck_assert_int_eq(cw_session_open(&s, NULL), CW_ENOTASK); /* outside cw_run() */
    misc_record r = { 0 };
    ck_assert_int_eq(cw_run(open_null, &r, NULL), 0);
    ck_assert_int_eq(r.open_null_rc, CW_EINVAL);
    ck_assert_int_eq(r.close_null_rc, CW_EINVAL);
}
END_TEST

/* ------------------------------------------------------------ keep-alive */

static void *sequential_gets(void *arg)
{
    pool_record *r = arg;
    cw_session *s;
    cw_session_open(&s, NULL);
    cw_fixture_stats_reset(fx);
    for (int i = 0; i < r->n; i++) {
        cw_future *req = cw_session_get(s, url(r->path));
        if (cw_await(req) == 0 && cw_response_of(req)->status == 200)
            r->ok++;
        cw_future_release(req);
    }
    r->stats = cw_fixture_stats_get(fx);
    cw_session_close(s);
    return NULL;
}

/* A pooled connection the server closed while it idled is noticed and replaced: the next
 * requests succeed on new connections (the server is restarted on the same port). */
typedef struct dead_pool {
    int port;
    int failures;
    long accepted_after;
} dead_pool;

static void *dead_pool_main(void *arg)
{
    dead_pool *d = arg;
    cw_session *session;
    cw_session_open(&session, NULL);
    for (int round = 0; round < 3; round++) {
        cw_future *reqs[5];
        for (int i = 0; i < 5; i++)
            reqs[i] = cw_session_get(session, url("/get"));
        cw_future *all = cw_gather(reqs, 5, true);
        cw_await(all);
        for (int i = 0; i < 5; i++)
            d->failures += cw_future_error(reqs[i]) != 0;
        cw_future_release(all);
        cw_future_release_all(reqs, 5);
        if (round < 2) { /* the server goes away with the five idle connections, and comes back */
            cw_fixture_stop(fx);
            cw_sleep(50);
            fx = cw_fixture_start(d->port);
            ck_assert_msg(fx != NULL, "the fixture server should start again on port %d", d->port);
        }
    }
    d->accepted_after = cw_fixture_stats_get(fx).accepted;
    cw_session_close(session);
    return NULL;
}

START_TEST(test_dead_pooled_connections_are_replaced)
{
    dead_pool d = { .port = cw_fixture_port(fx) };
    ck_assert_int_eq(cw_run(dead_pool_main, &d, NULL), 0);
    ck_assert_msg(d.failures == 0, "every request after the server closed the pooled connections should succeed, "
                  "%d failed", d.failures);
    ck_assert_msg(d.accepted_after >= 1 && d.accepted_after <= 5,
                  "the last round should run on new connections (1 to 5 accepted), got %ld", d.accepted_after);
}
END_TEST

START_TEST(test_keep_alive_reuses_connection)
{
    pool_record r = { .n = 20, .path = "/get" };
    ck_assert_int_eq(cw_run(sequential_gets, &r, NULL), 0);
    ck_assert_int_eq(r.ok, 20);
    ck_assert_int_eq(r.stats.requests, 20);
    ck_assert_msg(r.stats.accepted < r.stats.requests, "20 sequential GETs opened %ld connections: no keep-alive",
                  r.stats.accepted);
    ck_assert_msg(r.stats.accepted == 1, "20 sequential GETs should share one connection, opened %ld",
                  r.stats.accepted);
}
END_TEST

/* A server that resets an idle kept-alive connection just as it is reused: libcurl must see the
 * socket as readable (not only "in error") to find the connection dead and retry on a fresh one,
 * as the curl tool does. Each round: /reset_on_reuse, then a /get that goes out on that connection. */
typedef struct reuse_race {
    int rounds, ok, failed;
    char first_error[256];
    long accepted;
} reuse_race;

static void *race_reuse(void *arg)
{
    reuse_race *r = arg;
    cw_session *s;
    cw_session_open(&s, NULL);
    cw_fixture_stats_reset(fx);
    for (int i = 0; i < r->rounds; i++) {
        cw_future *prime = cw_session_get(s, url("/reset_on_reuse"));
        cw_await(prime);
        cw_future_release(prime);
        cw_future *req = cw_session_get(s, url("/get"));
        if (cw_await(req) == 0 && cw_response_of(req)->status == 200) {
            r->ok++;
        } else if (r->failed++ == 0) {
            snprintf(r->first_error, sizeof r->first_error, "%s", cw_future_message(req));
        }
        cw_future_release(req);
    }
    r->accepted = cw_fixture_stats_get(fx).accepted;
    cw_session_close(s);
    return NULL;
}

START_TEST(test_reset_on_reuse_is_retried)
{
    reuse_race r = { .rounds = 10 };
    ck_assert_int_eq(cw_run(race_reuse, &r, NULL), 0);
    ck_assert_msg(r.failed == 0, "%d of %d requests on a connection reset as it was reused failed (first: %s)",
                  r.failed, r.rounds, r.first_error);
    ck_assert_msg(r.accepted >= r.rounds, "each round should need a fresh connection, %ld accepted", r.accepted);
}
END_TEST

/* An idle pooled connection must not keep the loop alive: a main task waiting on a future
 * that nothing can finish is a deadlock, reported as such, not a hang. */
static void *deadlock_beside_idle_pool(void *arg)
{
    int *awaited = arg;
    cw_session *s;
    cw_session_open(&s, NULL);
    cw_future *req = cw_session_get(s, url("/get"));
    cw_await(req); /* its connection now waits in the pool */
    cw_future_release(req);
    cw_future *never = cw_future_new();
    *awaited = cw_await(never);
    cw_future_release(never);
    cw_session_close(s);
    return NULL;
}

START_TEST(test_idle_pool_does_not_hide_deadlock)
{
    int awaited = 1;
    int rc = cw_run(deadlock_beside_idle_pool, &awaited, NULL);
    ck_assert_msg(rc == CW_EDEADLOCK, "cw_run should report the deadlock, got %s", cw_error_name(rc));
}
END_TEST

/* The one function that raises the open-file limit (sessions and the fixture server both call it). */
START_TEST(test_raise_open_file_limit)
{
    struct rlimit files;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &files), 0);
    rlim_t hard = files.rlim_max;
    files.rlim_cur = hard < 256 ? hard : 256;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &files), 0);
    long now = cw_raise_open_file_limit();
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &files), 0);
    ck_assert_msg(files.rlim_cur == hard, "the soft limit should be raised to the hard one (%ld), it is %ld",
                  (long)hard, (long)files.rlim_cur);
    ck_assert_msg(now == (long)files.rlim_cur, "the function should return the limit in force (%ld), it gave %ld",
                  (long)files.rlim_cur, now);
}
END_TEST

/* ------------------------------------------------------------ closing */

typedef struct close_record {
    int n;
    int close_rc;
    int states[10];
    int errors[10];
    bool all_open;
    bool all_closed;
    long open_before_close;
} close_record;

static void *close_in_flight(void *arg)
{
    close_record *r = arg;
    cw_session *s;
    cw_session_open(&s, NULL);
    cw_future *reqs[10];
    for (int i = 0; i < 10; i++)
        reqs[i] = cw_session_get(s, url(i % 2 ? "/stall" : "/delay/5000"));
    r->all_open = await_open(10, 2000);
    r->open_before_close = cw_fixture_stats_get(fx).open;
    r->close_rc = cw_session_close(s);
    for (int i = 0; i < 10; i++) {
        r->states[i] = cw_future_state(reqs[i]);
        r->errors[i] = cw_future_error(reqs[i]);
    }
    r->all_closed = await_open(0, 2000);
    cw_future_release_all(reqs, 10);
    return NULL;
}

START_TEST(test_close_with_requests_in_flight)
{
    close_record r = { 0 };
    double start = now_ms();
    ck_assert_int_eq(cw_run(close_in_flight, &r, NULL), 0);
    ck_assert_msg(r.all_open, "the 10 requests should be in flight, the server saw %ld", r.open_before_close);
    ck_assert_int_eq(r.close_rc, 0);
    for (int i = 0; i < 10; i++) {
        ck_assert_msg(r.states[i] == CW_CANCELLED, "request %d should end cancelled when the session closes, state %d (%s)",
                      i, r.states[i], cw_error_name(r.errors[i]));
    }
    ck_assert_msg(r.all_closed, "the server should see every connection closed");
    ck_assert(now_ms() - start < backstop(4500));
}
END_TEST

/* Queued requests (beyond the limit) end too. */
static void *close_with_queue(void *arg)
{
    close_record *r = arg;
    cw_session_options o = cw_session_options_default();
    o.limit = 2;
    cw_session *s;
    cw_session_open(&s, &o);
    cw_future *reqs[6];
    for (int i = 0; i < 6; i++)
        reqs[i] = cw_session_get(s, url("/stall"));
    r->all_open = await_open(2, 2000);
    cw_sleep(50);
    r->open_before_close = cw_fixture_stats_get(fx).open;
    r->close_rc = cw_session_close(s);
    for (int i = 0; i < 6; i++)
        r->states[i] = cw_future_state(reqs[i]);
    r->all_closed = await_open(0, 2000);
    cw_future_release_all(reqs, 6);
    return NULL;
}

START_TEST(test_close_with_queued_requests)
{
    close_record r = { 0 };
    ck_assert_int_eq(cw_run(close_with_queue, &r, NULL), 0);
    ck_assert(r.all_open);
    ck_assert_msg(r.open_before_close == 2, "limit 2: %ld connections open", r.open_before_close);
    ck_assert_int_eq(r.close_rc, 0);
    for (int i = 0; i < 6; i++)
        ck_assert_msg(r.states[i] == CW_CANCELLED, "request %d should end cancelled, state %d", i, r.states[i]);
    ck_assert(r.all_closed);
}
END_TEST

static void *close_idle(void *arg)
{
    close_record *r = arg;
    cw_session *s;
    cw_session_open(&s, NULL);
    cw_future *reqs[3];
    for (int i = 0; i < 3; i++)
        reqs[i] = cw_session_get(s, url("/get"));
    for (int i = 0; i < 3; i++)
        cw_await(reqs[i]);
    cw_future_release_all(reqs, 3);
    r->open_before_close = cw_fixture_stats_get(fx).open; /* kept alive */
    r->close_rc = cw_session_close(s);
    r->all_closed = await_open(0, 2000);
    return NULL;
}

START_TEST(test_close_idle_session_closes_connections)
{
    close_record r = { 0 };
    ck_assert_int_eq(cw_run(close_idle, &r, NULL), 0);
    ck_assert_msg(r.open_before_close >= 1, "idle connections should stay open (keep-alive) until the session closes");
    ck_assert_int_eq(r.close_rc, 0);
    ck_assert_msg(r.all_closed, "closing the session should close its idle connections");
}
END_TEST

static void *leave_session_open(void *arg)
{
    close_record *r = arg;
    cw_session *s;
    cw_session_open(&s, NULL);
    cw_future *a = cw_session_get(s, url("/stall"));
    cw_future *b = cw_session_get(s, url("/get"));
    cw_await(b);
    r->all_open = await_open(2, 2000);
    cw_future_release(a);
    cw_future_release(b);
    return NULL; /* no cw_session_close(): cw_run() closes it */
}

START_TEST(test_run_closes_leftover_session)
{
    close_record r = { 0 };
    ck_assert_int_eq(cw_run(leave_session_open, &r, NULL), 0);
    ck_assert(r.all_open);
    ck_assert_msg(wait_open(0, 2000), "cw_run should close a session left open, server still sees %ld open",
                  cw_fixture_stats_get(fx).open);
}
END_TEST

/* Releasing a request does not cancel it: it still reaches the server and completes. */
static void *release_without_await(void *arg)
{
    pool_record *r = arg;
    cw_session *s;
    cw_session_open(&s, NULL);
    cw_fixture_stats_reset(fx);
    cw_future_release(cw_session_get(s, url("/delay/100")));
    double start = now_ms();
    while (cw_fixture_stats_get(fx).requests < 1 && now_ms() - start < backstop(2000))
        cw_sleep(10);
    cw_sleep(50);
    r->stats = cw_fixture_stats_get(fx);
    cw_session_close(s);
    return NULL;
}

START_TEST(test_released_request_keeps_running)
{
    pool_record r = { 0 };
    ck_assert_int_eq(cw_run(release_without_await, &r, NULL), 0);
    ck_assert_msg(r.stats.requests == 1, "a released request should still be answered, the server answered %ld",
                  r.stats.requests);
}
END_TEST

/* ------------------------------------------------------------ cancelling requests */

typedef struct cancel_record {
    const char *path;
    bool was_open;
    bool closed;
    int task_rc;
    int task_state;
    int req_rc;
    int req_state;
    int cancel_rc;
    int after_rc;
    long after_status;
    cw_future *req;
    cw_session *s;
} cancel_record;

static void *await_request(void *arg)
{
    cancel_record *r = arg;
    r->req_rc = cw_await(r->req);
    return NULL;
}

static void *cancel_task_awaiting_request(void *arg)
{
    cancel_record *r = arg;
    cw_session_open(&r->s, NULL);
    r->req = cw_session_get(r->s, url(r->path));
    cw_future *t = cw_spawn(await_request, r);
    r->was_open = await_open(1, 2000);
    cw_sleep(20); /* the request is on the wire */
    r->cancel_rc = cw_future_cancel(t);
    r->task_rc = cw_await(t);
    r->task_state = cw_future_state(t);
    r->req_state = cw_future_state(r->req);
    r->closed = await_open(0, 2000);

    /* The session is still usable. */
    cw_future *after = cw_session_get(r->s, url("/get"));
    r->after_rc = cw_await(after);
    if (r->after_rc == 0)
        r->after_status = cw_response_of(after)->status;
    cw_future_release(after);
    cw_future_release(t);
    cw_future_release(r->req);
    cw_session_close(r->s);
    return NULL;
}

static void check_cancelled_transfer(const cancel_record *r)
{
    ck_assert_msg(r->was_open, "the request should reach the server before it is cancelled");
    ck_assert_int_eq(r->cancel_rc, 0);
    ck_assert_int_eq(r->req_rc, CW_ECANCELLED);
    ck_assert_int_eq(r->task_rc, CW_ECANCELLED);
    ck_assert_int_eq(r->task_state, CW_CANCELLED);
    ck_assert_msg(r->req_state == CW_CANCELLED, "the awaited request should be cancelled with the task, state %d",
                  r->req_state);
    ck_assert_msg(r->closed, "cancelling should remove the transfer: the server should see its connection close");
    ck_assert_msg(r->after_rc == 0 && r->after_status == 200, "the session should still work after a cancel, got %s",
                  cw_error_name(r->after_rc));
}

START_TEST(test_cancel_task_awaiting_stall)
{
    cancel_record r = { .path = "/stall" };
    double start = now_ms();
    ck_assert_int_eq(cw_run(cancel_task_awaiting_request, &r, NULL), 0);
    check_cancelled_transfer(&r);
    ck_assert(now_ms() - start < backstop(4000));
}
END_TEST

START_TEST(test_cancel_task_awaiting_delay)
{
    cancel_record r = { .path = "/delay/5000" };
    double start = now_ms();
    ck_assert_int_eq(cw_run(cancel_task_awaiting_request, &r, NULL), 0);
    check_cancelled_transfer(&r);
    ck_assert(now_ms() - start < backstop(4000));
}
END_TEST

static void *cancel_request_directly(void *arg)
{
    cancel_record *r = arg;
    cw_session_open(&r->s, NULL);
    r->req = cw_session_get(r->s, url("/stall"));
    r->was_open = await_open(1, 2000);
    cw_sleep(20);
    r->cancel_rc = cw_future_cancel(r->req);
    r->req_state = cw_future_state(r->req); /* cancelled at once */
    r->req_rc = cw_await(r->req);
    r->closed = await_open(0, 2000);
    r->task_rc = cw_future_cancel(r->req); /* a second cancel: already done */
    cw_future *after = cw_session_get(r->s, url("/get"));
    r->after_rc = cw_await(after);
    cw_future_release(after);
    cw_future_release(r->req);
    cw_session_close(r->s);
    return NULL;
}

START_TEST(test_cancel_request_directly)
{
    cancel_record r = { 0 };
    ck_assert_int_eq(cw_run(cancel_request_directly, &r, NULL), 0);
    ck_assert(r.was_open);
    ck_assert_int_eq(r.cancel_rc, 0);
    ck_assert_int_eq(r.req_state, CW_CANCELLED);
    ck_assert_int_eq(r.req_rc, CW_ECANCELLED);
    ck_assert_msg(r.closed, "a cancelled request's connection should be closed");
    ck_assert_int_eq(r.task_rc, CW_EDONE);
    ck_assert_int_eq(r.after_rc, 0);
}
END_TEST

/* A queued request (beyond the limit) can be cancelled without disturbing the one in flight. */
typedef struct queue_cancel {
    int cancel_rc;
    int queued_state;
    int first_rc;
    long requests;
} queue_cancel;

static void *cancel_queued(void *arg)
{
    queue_cancel *r = arg;
    cw_session_options o = cw_session_options_default();
    o.limit = 1;
    cw_session *s;
    cw_session_open(&s, &o);
    cw_fixture_stats_reset(fx);
    cw_future *first = cw_session_get(s, url("/delay/200"));
    cw_future *queued = cw_session_get(s, url("/get"));
    cw_sleep(50);
    r->cancel_rc = cw_future_cancel(queued);
    r->queued_state = cw_future_state(queued);
    r->first_rc = cw_await(first);
    cw_sleep(50);
    r->requests = cw_fixture_stats_get(fx).requests;
    cw_future_release(first);
    cw_future_release(queued);
    cw_session_close(s);
    return NULL;
}

START_TEST(test_cancel_queued_request)
{
    queue_cancel r = { 0 };
    ck_assert_int_eq(cw_run(cancel_queued, &r, NULL), 0);
    ck_assert_int_eq(r.cancel_rc, 0);
    ck_assert_int_eq(r.queued_state, CW_CANCELLED);
    ck_assert_int_eq(r.first_rc, 0);
    ck_assert_msg(r.requests == 1, "the cancelled queued request should never be sent, the server answered %ld",
                  r.requests);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http");

    TCase *tc = add_case(s, "requests", 15, server_setup, server_teardown);
    tcase_add_test(tc, test_get_returns_response);
    tcase_add_test(tc, test_options_default);
    tcase_add_test(tc, test_get_post_put_delete);
    tcase_add_test(tc, test_body_types_as_aiohttp);
    tcase_add_test(tc, test_pooled_handle_keeps_nothing_of_its_last_request);
    tcase_add_test(tc, test_redirects_as_aiohttp);
    tcase_add_test(tc, test_redirects_at_most_nine);
    tcase_add_test(tc, test_released_request_keeps_running);

    tc = add_case(s, "pool", 15, server_setup, server_teardown);
    tcase_add_test(tc, test_limit_caps_open_connections);
    tcase_add_test(tc, test_limit_per_host);
    tcase_add_test(tc, test_default_limit_100);
    tcase_add_test(tc, test_null_options_limit_100);
    tcase_add_test(tc, test_limit_0_is_unlimited);
    tcase_add_test(tc, test_negative_limit_einval);
    tcase_add_test(tc, test_session_bad_arguments);
    tcase_add_test(tc, test_keep_alive_reuses_connection);
    tcase_add_test(tc, test_dead_pooled_connections_are_replaced);
    tcase_add_test(tc, test_reset_on_reuse_is_retried);
    tcase_add_test(tc, test_idle_pool_does_not_hide_deadlock);
    tcase_add_test(tc, test_raise_open_file_limit);

    tc = add_case(s, "close", 15, server_setup, server_teardown);
    tcase_add_test(tc, test_close_with_requests_in_flight);
    tcase_add_test(tc, test_close_with_queued_requests);
    tcase_add_test(tc, test_close_idle_session_closes_connections);
    tcase_add_test(tc, test_run_closes_leftover_session);

    tc = add_case(s, "cancel", 15, server_setup, server_teardown);
    tcase_add_test(tc, test_cancel_task_awaiting_stall);
    tcase_add_test(tc, test_cancel_task_awaiting_delay);
    tcase_add_test(tc, test_cancel_request_directly);
    tcase_add_test(tc, test_cancel_queued_request);

    return run_suite(s);
}
