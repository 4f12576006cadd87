/**
 * @file test_errors.c
 * @brief Tests of errors as values: bad URLs, refused and reset connections, bodies too large,
 *        HTTP error statuses that are results, and the names of every error code.
 */
#include "cw.h"
#include "cw_fixture.h"
#include "support.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

/** One GET and how it ended. */
typedef struct outcome {
    const char *url;      /* full URL, or NULL to use path on the fixture */
    const char *path;
    size_t max_body;      /* 0: the default */
    bool done_at_once;    /* already finished when cw_session_get returned */
    int rc;
    int state;
    long status;
    size_t body_len;
    char message[256];
} outcome;

static void *get_outcome(void *arg)
{
    outcome *o = arg;
    cw_session_options opts = cw_session_options_default();
    if (o->max_body)
        opts.max_body = o->max_body;
    cw_session *s;
    if (cw_session_open(&s, &opts) < 0)
        return cw_fail(CW_EFAILED, "session open failed");
    cw_future *f = cw_session_get(s, o->url ? o->url : url(o->path));
    if (f == NULL) {
        cw_session_close(s);
        return cw_fail(CW_EFAILED, "cw_session_get returned NULL");
    }
    o->done_at_once = cw_future_done(f);
    o->rc = cw_await(f);
    o->state = cw_future_state(f);
    snprintf(o->message, sizeof o->message, "%s", cw_future_message(f));
    if (o->rc == 0) {
        o->status = cw_response_of(f)->status;
        o->body_len = cw_response_of(f)->body_len;
    }
    cw_future_release(f);
    cw_session_close(s);
    return NULL;
}

static void run_outcome(outcome *o)
{
    int rc = cw_run(get_outcome, o, NULL);
    ck_assert_msg(rc == 0, "the test's main task failed: %s", cw_error_name(rc));
}

/* ------------------------------------------------------------ bad input */

START_TEST(test_malformed_urls)
{
    const char *bad[] = { "http://", "not a url", "" };
    for (int i = 0; i < 3; i++) {
        outcome o = { .url = bad[i] };
        run_outcome(&o);
        ck_assert_msg(o.rc == CW_EBADURL, "\"%s\" should fail with CW_EBADURL, got %s (%s)", bad[i],
                      cw_error_name(o.rc), o.message);
        ck_assert_int_eq(o.state, CW_FAILED);
        ck_assert_msg(o.done_at_once, "\"%s\": bad input should give a future already failed", bad[i]);
        ck_assert_msg(strlen(o.message) > 0 && strcmp(o.message, "ok") != 0, "\"%s\" should come with a message",
                      bad[i]);
    }
}
END_TEST

START_TEST(test_unsupported_scheme)
{
    outcome o = { .url = "python://bad" };
    run_outcome(&o);
    ck_assert_msg(o.rc == CW_ESCHEME, "python://bad should fail with CW_ESCHEME, got %s", cw_error_name(o.rc));
    ck_assert(o.done_at_once);
    ck_assert_msg(strstr(o.message, "python") != NULL, "the message should name the scheme: \"%s\"", o.message);

    outcome ftp = { .url = "ftp://127.0.0.1/file" };
    run_outcome(&ftp);
    ck_assert_msg(ftp.rc == CW_ESCHEME, "ftp:// should fail with CW_ESCHEME, got %s", cw_error_name(ftp.rc));
    ck_assert_msg(strstr(ftp.message, "ftp") != NULL, "the message should name the scheme: \"%s\"", ftp.message);
}
END_TEST

static void *null_url(void *arg)
{
    outcome *o = arg;
    cw_session *s;
    cw_session_open(&s, NULL);
    cw_future *f = cw_session_get(s, NULL);
    o->done_at_once = f && cw_future_done(f);
    o->rc = f ? cw_future_error(f) : 1;
    cw_future_release(f);
    cw_request req = { .url = NULL };
    f = cw_session_request(s, &req);
    o->state = f ? cw_future_error(f) : 1;
    cw_future_release(f);
    cw_session_close(s);
    return NULL;
}

START_TEST(test_null_url_is_failed_future)
{
    outcome o = { 0 };
    ck_assert_int_eq(cw_run(null_url, &o, NULL), 0);
    ck_assert_msg(o.done_at_once, "a NULL URL should give a future already failed, not NULL");
    ck_assert_msg(o.rc == CW_EBADURL || o.rc == CW_EINVAL, "a NULL URL: got %s", cw_error_name(o.rc));
    ck_assert_msg(o.state == CW_EBADURL || o.state == CW_EINVAL, "a NULL request URL: got %s", cw_error_name(o.state));
}
END_TEST

/* ------------------------------------------------------------ transfer errors */

START_TEST(test_connection_refused)
{
    char u[128];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/get", refused_port());
    outcome o = { .url = u };
    run_outcome(&o);
    ck_assert_msg(o.rc == CW_ECONNREFUSED, "a closed port should give CW_ECONNREFUSED, got %s (%s)",
                  cw_error_name(o.rc), o.message);
    ck_assert_int_eq(o.state, CW_FAILED);
    ck_assert(strlen(o.message) > 0);
}
END_TEST

START_TEST(test_connection_reset)
{
    outcome o = { .path = "/close" };
    run_outcome(&o);
    ck_assert_msg(o.rc == CW_ECONNRESET, "/close should give CW_ECONNRESET, got %s (%s)", cw_error_name(o.rc),
                  o.message);
}
END_TEST

START_TEST(test_body_too_big)
{
    outcome o = { .path = "/bytes/100000", .max_body = 1000 };
    run_outcome(&o);
    ck_assert_msg(o.rc == CW_ETOOBIG, "100000 bytes with max_body 1000 should give CW_ETOOBIG, got %s (%s)",
                  cw_error_name(o.rc), o.message);

    outcome fits = { .path = "/bytes/1000", .max_body = 1000 };
    run_outcome(&fits);
    ck_assert_msg(fits.rc == 0, "exactly max_body bytes should be accepted, got %s", cw_error_name(fits.rc));
    ck_assert_uint_eq(fits.body_len, 1000);

    outcome big = { .path = "/bytes/1000000" };
    run_outcome(&big);
    ck_assert_msg(big.rc == 0, "1 MB is under the default maximum, got %s", cw_error_name(big.rc));
    ck_assert_uint_eq(big.body_len, 1000000);
}
END_TEST

START_TEST(test_http_error_statuses_are_results)
{
    long codes[] = { 404, 500, 201, 503 };
    for (int i = 0; i < 4; i++) {
        char path[32];
        snprintf(path, sizeof path, "/status/%ld", codes[i]);
        outcome o = { .path = path };
        run_outcome(&o);
        ck_assert_msg(o.rc == 0, "%s should be a result, not an error (got %s)", path, cw_error_name(o.rc));
        ck_assert_int_eq(o.state, CW_RESOLVED);
        ck_assert_int_eq(o.status, codes[i]);
    }
}
END_TEST

/* ------------------------------------------------------------ error codes */

static const int all_codes[] = {
    CW_ECANCELLED, CW_ETIMEDOUT, CW_ECONNREFUSED, CW_ECONNRESET, CW_ETOOBIG, CW_EBADURL,
    CW_ESCHEME,    CW_EHOST,     CW_EHTTP,        CW_EINVAL,     CW_ENOTASK, CW_EDONE,
    CW_EPENDING,   CW_EEOF,      CW_EDEADLOCK,    CW_ENOMEM,     CW_EFAILED,
};
#define N_CODES ((int)(sizeof all_codes / sizeof all_codes[0]))

START_TEST(test_strerror_every_code)
{
    for (int i = 0; i < N_CODES; i++) {
        const char *text = cw_strerror(all_codes[i]);
        ck_assert_ptr_nonnull(text);
        ck_assert_msg(strlen(text) > 0, "cw_strerror(%d) is empty", all_codes[i]);
        ck_assert_msg(strcmp(text, cw_strerror(12345)) != 0, "cw_strerror(%d) says unknown", all_codes[i]);
        for (int j = 0; j < i; j++)
            ck_assert_msg(strcmp(text, cw_strerror(all_codes[j])) != 0, "cw_strerror(%d) and (%d) are both \"%s\"",
                          all_codes[i], all_codes[j], text);
    }
    ck_assert_str_eq(cw_strerror(0), "success");
    ck_assert_str_eq(cw_strerror(12345), "unknown error");
    ck_assert_str_eq(cw_strerror(-1), "unknown error");
}
END_TEST

START_TEST(test_error_names)
{
    ck_assert_str_eq(cw_error_name(CW_ETIMEDOUT), "CW_ETIMEDOUT");
    ck_assert_str_eq(cw_error_name(CW_ECANCELLED), "CW_ECANCELLED");
    ck_assert_str_eq(cw_error_name(CW_EFAILED), "CW_EFAILED");
    for (int i = 0; i < N_CODES; i++) {
        const char *name = cw_error_name(all_codes[i]);
        ck_assert_ptr_nonnull(name);
        ck_assert_msg(strncmp(name, "CW_E", 4) == 0, "cw_error_name(%d) = \"%s\"", all_codes[i], name);
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(name, cw_error_name(all_codes[j]));
    }
    ck_assert_ptr_nonnull(cw_error_name(12345));
    ck_assert_ptr_nonnull(cw_error_name(0));
}
END_TEST

/* A task's error message travels to whoever awaits it, and to cw_run's caller as a code. */
static void *fail_with_text(void *arg)
{
    (void)arg;
    return cw_fail(CW_EHTTP, "server said %d", 503);
}

static void *await_failing_task(void *arg)
{
    outcome *o = arg;
    cw_future *t = cw_spawn(fail_with_text, NULL);
    o->rc = cw_await(t);
    snprintf(o->message, sizeof o->message, "%s", cw_future_message(t));
    cw_future_release(t);
    return NULL;
}

START_TEST(test_fail_message_reaches_awaiter)
{
    outcome o = { 0 };
    ck_assert_int_eq(cw_run(await_failing_task, &o, NULL), 0);
    ck_assert_int_eq(o.rc, CW_EHTTP);
    ck_assert_str_eq(o.message, "server said 503");
    ck_assert_int_eq(cw_run(fail_with_text, NULL, NULL), CW_EHTTP);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("errors");

    TCase *tc = add_case(s, "http", 15, server_setup, server_teardown);
    tcase_add_test(tc, test_malformed_urls);
    tcase_add_test(tc, test_unsupported_scheme);
    tcase_add_test(tc, test_null_url_is_failed_future);
    tcase_add_test(tc, test_connection_refused);
    tcase_add_test(tc, test_connection_reset);
    tcase_add_test(tc, test_body_too_big);
    tcase_add_test(tc, test_http_error_statuses_are_results);

    tc = add_case(s, "codes", 10, NULL, NULL);
    tcase_add_test(tc, test_strerror_every_code);
    tcase_add_test(tc, test_error_names);
    tcase_add_test(tc, test_fail_message_reaches_awaiter);

    return run_suite(s);
}
