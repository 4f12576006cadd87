/*
 * 03_sessions.c -- graded tests of exercise 03, read off the fixture server's
 * counters: a session passed in is reused (fewer connections than requests),
 * statuses and errors come back as such, crawl() stays within its limits yet
 * uses them, closes its session, and send_request() uses the method asked for.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "grade.h"
#include "exercise.h"
#include "cw_fixture.h"

/* A loopback port nothing listens on: bind one, read its number, close it. */
static int refused_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    bind(fd, (struct sockaddr *)&addr, sizeof addr);
    getsockname(fd, (struct sockaddr *)&addr, &len);
    close(fd);
    return ntohs(addr.sin_port);
}

/* Wait (up to 2 s) for the server to see every connection closed; return what stays open. */
static long open_after_settling(cw_fixture *fx)
{
    cw_fixture_stats stats = cw_fixture_stats_get(fx);
    for (int i = 0; i < 200 && stats.open > 0; i++) {
        cw_sleep(10);
        stats = cw_fixture_stats_get(fx);
    }
    return stats.open;
}

/* ---- 1-2. fetch_status ---- */

#define N_FETCH 5
static const char *const fetch_paths[N_FETCH] = { "/get", "/status/404", "/get", "/status/500", "/status/201" };
static const long fetch_expected[N_FETCH] = { 200, 404, 200, 500, 201 };

typedef struct fetch_case {
    cw_fixture *fx;
    long statuses[N_FETCH];
    long refused;
    cw_fixture_stats stats;
} fetch_case;

static void *fetch_main(void *arg)
{
    fetch_case *c = arg;
    cw_session *session;
    if (cw_session_open(&session, NULL) < 0)
        return cw_fail(CW_EFAILED, "no session");
    for (int i = 0; i < N_FETCH; i++) {
        char url[128];
        c->statuses[i] = fetch_status(session, cw_fixture_url(c->fx, fetch_paths[i], url, sizeof url));
    }
    c->stats = cw_fixture_stats_get(c->fx);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/get", refused_port());
    c->refused = fetch_status(session, url);
    cw_session_close(session);
    return NULL;
}

static void run_fetch(fetch_case *c)
{
    c->fx = cw_fixture_start(0);
    ck_assert_msg(c->fx != NULL, "the fixture server did not start");
    ck_assert_int_eq(cw_run(fetch_main, c, NULL), 0);
    cw_fixture_stop(c->fx);
}

START_TEST(test_fetch_status_reuses_the_session)
{
    fetch_case c = { 0 };
    run_fetch(&c);
    ck_assert_msg(c.statuses[0] == 200, "fetch_status(/get) should return 200, got %ld (%s)", c.statuses[0],
                  c.statuses[0] < 0 ? cw_error_name((int)c.statuses[0]) : "a status");
    ck_assert_msg(c.stats.requests == N_FETCH, "the server should have answered %d requests, it answered %ld",
                  N_FETCH, c.stats.requests);
    ck_assert_msg(c.stats.accepted < c.stats.requests,
                  "fetch_status() should use the session it is given, whose connection is kept alive: "
                  "%ld requests arrived over %ld connections, expected fewer connections than requests",
                  c.stats.requests, c.stats.accepted);
}
END_TEST

START_TEST(test_fetch_status_statuses_and_errors)
{
    fetch_case c = { 0 };
    run_fetch(&c);
    for (int i = 0; i < N_FETCH; i++)
        ck_assert_msg(c.statuses[i] == fetch_expected[i],
                      "fetch_status(%s) should return %ld (a status is a result, not an error), got %ld",
                      fetch_paths[i], fetch_expected[i], c.statuses[i]);
    ck_assert_msg(c.refused == CW_ECONNREFUSED,
                  "fetch_status() of a port where nothing listens should return CW_ECONNREFUSED (%d), got %ld",
                  CW_ECONNREFUSED, c.refused);
}
END_TEST

/* ---- 3-5. crawl ---- */

#define N_CRAWL 8

typedef struct crawl_case {
    cw_fixture *fx[2];
    int n_servers;
    const char *paths[N_CRAWL];
    int limit, limit_per_host;
    long statuses[N_CRAWL];
    int rc;
    cw_fixture_stats stats[2]; /* right after crawl() returned */
    long open_after[2];        /* once the server has seen the closes */
} crawl_case;

static void *crawl_main(void *arg)
{
    crawl_case *c = arg;
    char urls[N_CRAWL][128];
    const char *list[N_CRAWL];
    for (int i = 0; i < N_CRAWL; i++) /* alternate between the servers */
        list[i] = cw_fixture_url(c->fx[i % c->n_servers], c->paths[i], urls[i], sizeof urls[i]);
    c->rc = crawl(list, N_CRAWL, c->limit, c->limit_per_host, c->statuses);
    for (int s = 0; s < c->n_servers; s++)
        c->stats[s] = cw_fixture_stats_get(c->fx[s]);
    for (int s = 0; s < c->n_servers; s++)
        c->open_after[s] = open_after_settling(c->fx[s]);
    return NULL;
}

static void run_crawl(crawl_case *c)
{
    for (int s = 0; s < c->n_servers; s++) {
        c->fx[s] = cw_fixture_start(0);
        ck_assert_msg(c->fx[s] != NULL, "the fixture server did not start");
    }
    for (int i = 0; i < N_CRAWL; i++)
        c->statuses[i] = 1;
    c->rc = 1;
    ck_assert_int_eq(cw_run(crawl_main, c, NULL), 0);
    for (int s = 0; s < c->n_servers; s++)
        cw_fixture_stop(c->fx[s]);
    ck_assert_msg(c->rc == 0, "crawl() should return 0, got %d (%s)", c->rc, cw_error_name(c->rc));
}

static void set_paths(crawl_case *c, const char *path)
{
    for (int i = 0; i < N_CRAWL; i++)
        c->paths[i] = path;
}

START_TEST(test_crawl_stays_within_its_limit)
{
    crawl_case c = { .n_servers = 1, .limit = 3 };
    set_paths(&c, "/delay/200");
    run_crawl(&c);
    ck_assert_msg(c.stats[0].requests == N_CRAWL, "the server should have answered %d requests, it answered %ld",
                  N_CRAWL, c.stats[0].requests);
    ck_assert_msg(c.stats[0].max_open <= 3,
                  "with limit 3, at most 3 connections should ever be open at once; the server saw %ld",
                  c.stats[0].max_open);
}
END_TEST

START_TEST(test_crawl_uses_its_limit)
{
    crawl_case c = { .n_servers = 1, .limit = 3 };
    set_paths(&c, "/delay/200");
    run_crawl(&c);
    ck_assert_msg(c.stats[0].max_open == 3,
                  "with limit 3 and 8 slow requests started at once, 3 connections should be open together; "
                  "the most the server saw was %ld (were the requests awaited one by one?)",
                  c.stats[0].max_open);
    for (int i = 0; i < N_CRAWL; i++)
        ck_assert_msg(c.statuses[i] == 200, "request %d of /delay/200 should give 200, got %ld", i, c.statuses[i]);
}
END_TEST

START_TEST(test_crawl_limit_per_host)
{
    crawl_case c = { .n_servers = 2, .limit = 0, .limit_per_host = 2 };
    set_paths(&c, "/delay/200");
    run_crawl(&c);
    for (int s = 0; s < 2; s++) {
        ck_assert_msg(c.stats[s].requests == N_CRAWL / 2, "server %d should have answered %d requests, it answered %ld",
                      s + 1, N_CRAWL / 2, c.stats[s].requests);
        ck_assert_msg(c.stats[s].max_open == 2,
                      "with limit_per_host 2, each server should see exactly 2 connections open at once "
                      "(never more, and the requests start together); server %d saw %ld",
                      s + 1, c.stats[s].max_open);
    }
}
END_TEST

START_TEST(test_crawl_closes_its_session)
{
    crawl_case c = { .n_servers = 1, .limit = 4,
                     .paths = { "/status/201", "/delay/150", "/status/404", "/get", "/status/500", "/delay/50",
                                "/status/202", "/get" } };
    const long expected[N_CRAWL] = { 201, 200, 404, 200, 500, 200, 202, 200 };
    run_crawl(&c);
    for (int i = 0; i < N_CRAWL; i++)
        ck_assert_msg(c.statuses[i] == expected[i], "statuses[%d] (%s) should be %ld, in the order of the URLs; got %ld",
                      i, c.paths[i], expected[i], c.statuses[i]);
    ck_assert_msg(c.open_after[0] == 0,
                  "crawl() should close its session before returning, closing every connection; "
                  "the server still has %ld open",
                  c.open_after[0]);
}
END_TEST

/* ---- 6. send_request ---- */

typedef struct method_case {
    cw_fixture *fx;
    long post, put, del, get;
    long answered; /* requests the server had answered when the four calls were done */
    char post_body[256], put_body[256], del_body[256], get_body[256];
} method_case;

static void *method_main(void *arg)
{
    method_case *c = arg;
    cw_session *session;
    if (cw_session_open(&session, NULL) < 0)
        return cw_fail(CW_EFAILED, "no session");
    char url[128];
    c->post = send_request(session, "POST", cw_fixture_url(c->fx, "/echo", url, sizeof url), "apple pie",
                           c->post_body, sizeof c->post_body);
    c->put = send_request(session, "PUT", url, "pear tart", c->put_body, sizeof c->put_body);
    c->del = send_request(session, "DELETE", cw_fixture_url(c->fx, "/anything", url, sizeof url), NULL, c->del_body,
                          sizeof c->del_body);
    c->get = send_request(session, "GET", cw_fixture_url(c->fx, "/bytes/1000", url, sizeof url), NULL, c->get_body,
                          8);
    c->answered = cw_fixture_stats_get(c->fx).requests;
    cw_session_close(session);
    return NULL;
}

START_TEST(test_send_request_methods)
{
    method_case c = { 0 };
    c.fx = cw_fixture_start(0);
    ck_assert_msg(c.fx != NULL, "the fixture server did not start");
    ck_assert_int_eq(cw_run(method_main, &c, NULL), 0);
    cw_fixture_stop(c.fx);
    ck_assert_msg(c.post == 200 && strcmp(c.post_body, "apple pie") == 0,
                  "POST /echo with \"apple pie\" should give 200 and that body back; got %ld and \"%s\"", c.post,
                  c.post_body);
    ck_assert_msg(c.put == 200 && strcmp(c.put_body, "pear tart") == 0,
                  "PUT /echo with \"pear tart\" should give 200 and that body back; got %ld and \"%s\"", c.put,
                  c.put_body);
    ck_assert_msg(c.del == 200 && strstr(c.del_body, "\"method\": \"DELETE\"") != NULL,
                  "DELETE /anything should give 200 and a body naming the DELETE method; got %ld and \"%s\"", c.del,
                  c.del_body);
    ck_assert_msg(c.get == 200 && strlen(c.get_body) == 7,
                  "GET /bytes/1000 into an 8-byte buffer should give 200 and 7 bytes plus the NUL; got %ld and %zu "
                  "bytes",
                  c.get, strlen(c.get_body));
    ck_assert_msg(c.answered == 4,
                  "the server should have answered the 4 requests by the time send_request() returned, but it "
                  "answered %ld: each call sends its request and waits for the answer", c.answered);
}
END_TEST

int main(int argc, char **argv)
{
    const cw_graded_test tests[] = {
        { "fetch_status reuses the session it is given", test_fetch_status_reuses_the_session, 3, 10 },
        { "fetch_status returns statuses, and errors as negative codes", test_fetch_status_statuses_and_errors, 2, 10 },
        { "crawl never opens more connections than its limit", test_crawl_stays_within_its_limit, 3, 10 },
        { "crawl runs as many requests at once as its limit allows", test_crawl_uses_its_limit, 2, 10 },
        { "crawl keeps to its limit per host, on each host", test_crawl_limit_per_host, 2, 10 },
        { "crawl returns statuses in order and closes its session", test_crawl_closes_its_session, 2, 10 },
        { "send_request uses the method asked for (POST, PUT, DELETE, GET)", test_send_request_methods, 3, 10 },
    };
    return cw_grade_main("03_sessions", tests, sizeof tests / sizeof tests[0], argc, argv);
}
