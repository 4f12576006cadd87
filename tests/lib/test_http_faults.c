/**
 * @file test_http_faults.c
 * @brief Failures of libuv and libcurl calls the session cannot prevent: each fails its own request only.
 *
 * This program defines its own uv_poll_init_socket(), uv_poll_start() and curl_multi_add_handle(),
 * which the library's calls reach instead of the real ones (a definition in the
 * program wins over the shared library's). They pass every call through to the
 * real function until a test arms them to fail the next few. Then:
 * a socket that cannot be watched fails the request that needed it (libcurl's
 * multi handle, and every later request, must stay usable), and a transfer
 * libcurl refuses to start fails that request alone, without starting any
 * other request twice. Out of memory just as a finished transfer's response
 * is taken (a calloc stand-in, armed by curl_multi_info_read's) fails that
 * request with CW_ENOMEM and a message. AddressSanitizer and valgrind bring
 * their own calloc, so that last test runs only in the plain build.
 */
#include "cw.h"
#include "cw_fixture.h"
#include "support.h"

#include <check.h>
#include <curl/curl.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

/* ------------------------------------------------------------ the stand-ins */

#if defined(__SANITIZE_ADDRESS__)
#define CALLOC_STAND_IN 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CALLOC_STAND_IN 0
#endif
#endif
#ifndef CALLOC_STAND_IN
#define CALLOC_STAND_IN 1
#endif

static bool fail_response_calloc; /* armed: fail the calloc of a response after the next finished transfer */
static bool response_calloc_armed;
static size_t response_calloc_size; /* a response and its URL, in one block */
static int response_callocs_failed;

#if CALLOC_STAND_IN
extern void *__libc_calloc(size_t nmemb, size_t size);

void *calloc(size_t nmemb, size_t size)
{
    if (response_calloc_armed && nmemb == 1 && size == response_calloc_size) {
        response_calloc_armed = false;
        response_callocs_failed++;
        return NULL;
    }
    return __libc_calloc(nmemb, size);
}
#endif

CURLMsg *curl_multi_info_read(CURLM *multi, int *left)
{
    static CURLMsg *(*real)(CURLM *, int *);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "curl_multi_info_read");
    CURLMsg *msg = real(multi, left);
    if (msg && msg->msg == CURLMSG_DONE && fail_response_calloc) {
        fail_response_calloc = false;
        response_calloc_armed = true; /* the library takes the response next */
    }
    return msg;
}

static int poll_inits_to_fail; /* the next N calls fail with UV_EBADF */
static int poll_inits_failed;
static int poll_starts_to_fail; /* the next N calls fail with UV_ENOMEM */
static int poll_starts_failed;
static int adds_to_fail;       /* the next N calls fail with CURLM_OUT_OF_MEMORY */
static int adds_failed;

int uv_poll_init_socket(uv_loop_t *loop, uv_poll_t *handle, uv_os_sock_t socket)
{
    static int (*real)(uv_loop_t *, uv_poll_t *, uv_os_sock_t);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "uv_poll_init_socket");
    if (poll_inits_to_fail > 0) {
        poll_inits_to_fail--;
        poll_inits_failed++;
        return UV_EBADF;
    }
    return real(loop, handle, socket);
}

int uv_poll_start(uv_poll_t *handle, int events, uv_poll_cb cb)
{
    static int (*real)(uv_poll_t *, int, uv_poll_cb);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "uv_poll_start");
    if (poll_starts_to_fail > 0) {
        poll_starts_to_fail--;
        poll_starts_failed++;
        return UV_ENOMEM;
    }
    return real(handle, events, cb);
}

CURLMcode curl_multi_add_handle(CURLM *multi, CURL *easy)
{
    static CURLMcode (*real)(CURLM *, CURL *);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "curl_multi_add_handle");
    if (adds_to_fail > 0) {
        adds_to_fail--;
        adds_failed++;
        return CURLM_OUT_OF_MEMORY;
    }
    return real(multi, easy);
}

/* ------------------------------------------------------------ a socket that cannot be watched */

typedef struct unwatchable {
    bool at_start;             /* fail uv_poll_start (libcurl's socket callback) instead of uv_poll_init_socket */
    int before, during, after; /* what cw_await gave for each request */
    char message[256];
} unwatchable;

static int get_once(cw_session *s, const char *path, char *message, size_t size)
{
    cw_future *req = cw_session_get(s, url(path));
    int rc = cw_await(req);
    if (message)
        snprintf(message, size, "%s", cw_future_message(req));
    cw_future_release(req);
    return rc;
}

static void *unwatchable_socket(void *arg)
{
    unwatchable *u = arg;
    cw_session_options o = cw_session_options_default();
    o.limit = 1; /* one connection: the failed request's socket would have been the pooled one */
    cw_session *s;
    cw_session_open(&s, &o);
    u->before = get_once(s, "/get", NULL, 0);
    cw_session_close(s);
    cw_session_open(&s, &o);
    if (u->at_start)
        poll_starts_to_fail = 1; /* inside libcurl's socket callback */
    else
        poll_inits_to_fail = 2; /* the new connection's socket, however the library tries to watch it */
    u->during = get_once(s, "/get", u->message, sizeof u->message);
    poll_inits_to_fail = poll_starts_to_fail = 0;
    u->after = get_once(s, "/get", NULL, 0);
    cw_session_close(s);
    return NULL;
}

static void check_unwatchable(bool at_start)
{
    unwatchable u = { at_start, 1, 1, 1, "" };
    ck_assert_int_eq(cw_run(unwatchable_socket, &u, NULL), 0);
    ck_assert_msg(u.before == 0, "a request before the fault should succeed, got %s", cw_error_name(u.before));
    ck_assert_msg((at_start ? poll_starts_failed : poll_inits_failed) >= 1, "the fault should have been met");
    ck_assert_msg(u.during < 0, "the request whose socket could not be watched should fail, got %s",
                  cw_error_name(u.during));
    ck_assert_msg(strstr(u.message, "watched") != NULL, "its message should say why: %s", u.message);
    ck_assert_msg(u.after == 0, "the session should serve the next request (libcurl's multi handle must live on), "
                  "got %s", cw_error_name(u.after));
}

START_TEST(test_unwatchable_socket_fails_one_request)
{
    check_unwatchable(false);
}
END_TEST

START_TEST(test_unstartable_poll_fails_one_request)
{
    check_unwatchable(true);
}
END_TEST

/* ------------------------------------------------------------ a transfer libcurl refuses to start */

enum { QUEUED_BEHIND = 2 };

typedef struct refused_start {
    int first, second;                /* the two requests that hold the limit */
    int queued[QUEUED_BEHIND];        /* the requests libcurl refuses */
    int later;                        /* one more, after the faults */
    char message[256];
    long requests_served;
} refused_start;

static void *refuse_queued_starts(void *arg)
{
    refused_start *r = arg;
    cw_session_options o = cw_session_options_default();
    o.limit = 2;
    cw_session *s;
    cw_session_open(&s, &o);
    cw_fixture_stats_reset(fx);
    cw_future *first = cw_session_get(s, url("/delay/50"));
    cw_future *second = cw_session_get(s, url("/delay/1000"));
    cw_future *queued[QUEUED_BEHIND];
    for (int i = 0; i < QUEUED_BEHIND; i++)
        queued[i] = cw_session_get(s, url("/get"));
    adds_to_fail = QUEUED_BEHIND; /* when the first ends, both queued requests fail to start */
    r->first = cw_await(first);
    for (int i = 0; i < QUEUED_BEHIND; i++) {
        r->queued[i] = cw_await(queued[i]);
        if (i == 0)
            snprintf(r->message, sizeof r->message, "%s", cw_future_message(queued[i]));
    }
    r->second = cw_await(second);
    r->later = get_once(s, "/get", NULL, 0);
    r->requests_served = cw_fixture_stats_get(fx).requests;
    cw_future_release(first);
    cw_future_release(second);
    cw_future_release_all(queued, QUEUED_BEHIND);
    cw_session_close(s);
    return NULL;
}

START_TEST(test_refused_start_fails_only_that_request)
{
    refused_start r = { .first = 1, .second = 1, .later = 1 };
    ck_assert_int_eq(cw_run(refuse_queued_starts, &r, NULL), 0);
    ck_assert_msg(adds_failed == QUEUED_BEHIND, "both queued requests should have met the fault, %d did", adds_failed);
    ck_assert_msg(r.first == 0, "the first request should succeed, got %s", cw_error_name(r.first));
    for (int i = 0; i < QUEUED_BEHIND; i++)
        ck_assert_msg(r.queued[i] == CW_EHTTP, "queued request %d should fail with CW_EHTTP, got %s", i,
                      cw_error_name(r.queued[i]));
    ck_assert_msg(strstr(r.message, "/get") != NULL, "the message should name the request: %s", r.message);
    ck_assert_msg(r.second == 0, "the request still in flight should succeed, got %s", cw_error_name(r.second));
    ck_assert_msg(r.later == 0, "a later request should succeed, got %s", cw_error_name(r.later));
    ck_assert_msg(r.requests_served == 3, "the server should have answered exactly 3 requests (nothing started twice), "
                  "got %ld", r.requests_served);
}
END_TEST

/* ------------------------------------------------------------ out of memory for a response */

/** valgrind runs the program with its preloaded library, whose calloc replaces the program's. */
static bool under_valgrind(void)
{
    const char *preload = getenv("LD_PRELOAD");
    return preload && strstr(preload, "vgpreload") != NULL;
}

typedef struct no_memory {
    int during, after;
    char message[256];
} no_memory;

static void *response_without_memory(void *arg)
{
    no_memory *m = arg;
    cw_session *s;
    cw_session_open(&s, NULL);
    response_calloc_size = sizeof(cw_response) + strlen(url("/get")) + 1;
    fail_response_calloc = true;
    m->during = get_once(s, "/get", m->message, sizeof m->message);
    fail_response_calloc = response_calloc_armed = false;
    m->after = get_once(s, "/get", NULL, 0);
    cw_session_close(s);
    return NULL;
}

START_TEST(test_response_without_memory)
{
    no_memory m = { 1, 1, "" };
    ck_assert_int_eq(cw_run(response_without_memory, &m, NULL), 0);
    if (response_callocs_failed == 0 && under_valgrind())
        return; /* valgrind's calloc took the place of ours: nothing was injected */
    ck_assert_msg(response_callocs_failed == 1, "the fault should have been met once, %d", response_callocs_failed);
    ck_assert_msg(m.during == CW_ENOMEM, "the request should fail with CW_ENOMEM, got %s", cw_error_name(m.during));
    ck_assert_msg(strstr(m.message, "/get") != NULL, "the message should name the request: %s", m.message);
    ck_assert_msg(m.after == 0, "the next request should succeed, got %s", cw_error_name(m.after));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http_faults");
    TCase *tc = add_case(s, "faults", 20, server_setup, server_teardown);
    tcase_add_test(tc, test_unwatchable_socket_fails_one_request);
    tcase_add_test(tc, test_unstartable_poll_fails_one_request);
    tcase_add_test(tc, test_refused_start_fails_only_that_request);
    if (CALLOC_STAND_IN)
        tcase_add_test(tc, test_response_without_memory);
    return run_suite(s);
}
