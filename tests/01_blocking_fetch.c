/*
 * 01_blocking_fetch.c -- graded tests of exercise 01: blocking fetches with libcurl's easy interface.
 *
 * Each test starts its own fixture server (tests run in forked processes) and checks one
 * promise of exercise.h: statuses and bodies, errors as values, and fetches that run
 * strictly one after another (recorded intervals and the server's connection counters).
 */
#include "grade.h"
#include "exercise.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "cw.h"
#include "cw_fixture.h"
#include <stdlib.h>

/* How much slower than usual this run may be: CW_TIMEOUT_SCALE (set for the valgrind and sanitizer runs of
 * make test), between 1 and 4. Time margins and backstops are stretched by it, so that a slow run under
 * valgrind on a loaded machine keeps the structure the test checks. */
static double slack(void)
{
    const char *scale = getenv("CW_TIMEOUT_SCALE");
    double f = scale ? atof(scale) : 1;
    return f < 1 ? 1 : f > 4 ? 4 : f;
}

static cw_fixture *start_fixture(void)
{
    cw_fixture *fixture = cw_fixture_start(0);
    ck_assert_msg(fixture != NULL, "the fixture server did not start");
    return fixture;
}

/* The server's side of the story: how many requests it answered (it counts an answer before sending it).
 * A fetch that never reached the server cannot have its answer, whatever it returns. */
static void expect_answered(cw_fixture *fixture, long n, const char *what)
{
    long answered = cw_fixture_stats_get(fixture).requests;
    ck_assert_msg(answered == n, "%s: the server should have answered %ld request%s, but it answered %ld "
                  "(a result must come from a real request to the URL)", what, n, n == 1 ? "" : "s", answered);
}

/* A loopback port where nothing listens: a socket bound to it but not listening, so connects
 * are refused and no other program can take the port while the socket is open. */
static int refusing_port(int *sock)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    *sock = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_msg(*sock >= 0, "could not make a socket");
    ck_assert_msg(bind(*sock, (struct sockaddr *)&addr, len) == 0, "could not bind a loopback port");
    ck_assert_msg(getsockname(*sock, (struct sockaddr *)&addr, &len) == 0, "getsockname failed");
    return ntohs(addr.sin_port);
}

START_TEST(test_get_body)
{
    cw_fixture *fixture = start_fixture();
    char url[128];
    fetch_result r = {0};
    cw_fixture_url(fixture, "/get", url, sizeof url);
    int rc = fetch_blocking(url, &r);
    ck_assert_msg(rc == 0, "fetch_blocking(\"%s\") should return 0, but returned %d (%s)", url, rc,
                  cw_error_name(rc));
    ck_assert_msg(r.status == 200, "the status of /get should be 200, but was %ld", r.status);
    ck_assert_msg(r.body != NULL && r.body_len > 0, "the body of /get should not be empty");
    ck_assert_msg(strlen(r.body) == r.body_len,
                  "the body should end with an added NUL right after body_len bytes "
                  "(body_len is %zu, strlen(body) is %zu)", r.body_len, strlen(r.body));
    ck_assert_msg(r.body[0] == '{' && strstr(r.body, "/get") != NULL,
                  "the body of /get should be the server's JSON naming /get, but was: %.200s", r.body);
    expect_answered(fixture, 1, "fetch_blocking of /get");
    fetch_result_free(&r);
    cw_fixture_stop(fixture);
}
END_TEST

START_TEST(test_404_is_a_response)
{
    cw_fixture *fixture = start_fixture();
    char url[128];
    fetch_result r = {0};
    int rc = fetch_blocking(cw_fixture_url(fixture, "/status/404", url, sizeof url), &r);
    ck_assert_msg(rc == 0, "a 404 is a response, not an error: fetch_blocking should return 0, but returned %d (%s)",
                  rc, cw_error_name(rc));
    ck_assert_msg(r.status == 404, "the status should be 404, but was %ld", r.status);
    fetch_result_free(&r);
    rc = fetch_blocking(cw_fixture_url(fixture, "/status/500", url, sizeof url), &r);
    ck_assert_msg(rc == 0 && r.status == 500,
                  "a 500 is a response too: expected rc 0 and status 500, got rc %d (%s) and status %ld", rc,
                  cw_error_name(rc), r.status);
    expect_answered(fixture, 2, "fetch_blocking of /status/404 then /status/500");
    fetch_result_free(&r);
    cw_fixture_stop(fixture);
}
END_TEST

START_TEST(test_refused)
{
    int sock;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/get", refusing_port(&sock));
    fetch_result r = {.status = 999};
    int rc = fetch_blocking(url, &r);
    ck_assert_msg(rc == CW_ECONNREFUSED, "nothing listens at %s: expected CW_ECONNREFUSED, got %d (%s)", url, rc,
                  cw_error_name(rc));
    ck_assert_msg(r.status == 0 && r.body == NULL,
                  "after a failure the result should be empty (status 0, body NULL), but status is %ld", r.status);
    close(sock);

    cw_fixture *fixture = start_fixture();
    r = (fetch_result){.status = 999};
    rc = fetch_blocking(cw_fixture_url(fixture, "/close", url, sizeof url), &r);
    ck_assert_msg(rc == CW_ECONNRESET,
                  "/close sends part of its body, then drops the connection: expected CW_ECONNRESET, got %d (%s)", rc,
                  cw_error_name(rc));
    ck_assert_msg(r.status == 0 && r.body == NULL && r.body_len == 0,
                  "after a failure the result should be empty (status 0, body NULL, body_len 0), but it holds "
                  "status %ld and %zu bytes of body: free the part that arrived before the failure",
                  r.status, r.body_len);
    fetch_result_free(&r);
    cw_fixture_stop(fixture);
}
END_TEST

START_TEST(test_bad_urls)
{
    fetch_result r = {0};
    int rc = fetch_blocking("http://", &r);
    ck_assert_msg(rc == CW_EBADURL, "\"http://\" is malformed: expected CW_EBADURL, got %d (%s)", rc,
                  cw_error_name(rc));
    fetch_result_free(&r);
    rc = fetch_blocking("python://bad", &r);
    ck_assert_msg(rc == CW_ESCHEME, "\"python://bad\" has a scheme curl cannot fetch: expected CW_ESCHEME, got %d (%s)",
                  rc, cw_error_name(rc));
    fetch_result_free(&r);
}
END_TEST

START_TEST(test_whole_body)
{
    enum { N = 300000 }; /* many pieces: curl hands the body over about 16 KiB at a time */
    cw_fixture *fixture = start_fixture();
    char path[32], url[128];
    snprintf(path, sizeof path, "/bytes/%d", N);
    fetch_result r = {0};
    int rc = fetch_blocking(cw_fixture_url(fixture, path, url, sizeof url), &r);
    ck_assert_msg(rc == 0 && r.status == 200, "GET %s: expected rc 0 and status 200, got rc %d (%s) and status %ld",
                  path, rc, cw_error_name(rc), r.status);
    ck_assert_msg(r.body_len == N,
                  "GET %s should give exactly %d bytes of body, but body_len is %zu "
                  "(is every piece appended, none overwritten?)", path, N, r.body_len);
    ck_assert_msg(r.body != NULL && r.body[N] == '\0', "the body should have a NUL added after its last byte");
    fetch_result_free(&r);

    r = (fetch_result){.status = 999};
    char empty[128];
    rc = fetch_blocking(cw_fixture_url(fixture, "/bytes/0", empty, sizeof empty), &r);
    ck_assert_msg(rc == 0 && r.status == 200,
                  "GET /bytes/0: expected rc 0 and status 200, got rc %d (%s) and status %ld", rc, cw_error_name(rc),
                  r.status);
    ck_assert_msg(r.body != NULL && r.body_len == 0 && r.body[0] == '\0',
                  "a response with an empty body should give body \"\" (an empty string, not NULL: NULL means no "
                  "response) and body_len 0, but body is %s and body_len %zu",
                  r.body ? "not empty" : "NULL", r.body_len);
    expect_answered(fixture, 2, "fetch_blocking of /bytes/300000 then /bytes/0");
    fetch_result_free(&r);
    cw_fixture_stop(fixture);
}
END_TEST

START_TEST(test_timeout)
{
    cw_fixture *fixture = start_fixture();
    char url[128];
    fetch_result r = {0};
    uint64_t t0 = cw_now_us();
    int rc = fetch_with_timeout(cw_fixture_url(fixture, "/stall", url, sizeof url), 300, &r);
    uint64_t took_ms = (cw_now_us() - t0) / 1000;
    ck_assert_msg(rc == CW_ETIMEDOUT, "/stall never answers: a 300 ms limit should give CW_ETIMEDOUT, got %d (%s)",
                  rc, cw_error_name(rc));
    ck_assert_msg(took_ms < 3000 * slack(),
                  "a 300 ms limit should end the fetch long before %.0f s, but it took %llu ms", 3 * slack(),
                  (unsigned long long)took_ms);
    ck_assert_msg(r.body == NULL && r.status == 0, "after a timeout the result should be empty");
    /* /stall is never answered, so never counted: the connection is what shows the fetch went out (the
     * server's thread may take a moment to count it on a loaded machine). */
    for (int i = 0; i < 100 && cw_fixture_stats_get(fixture).accepted == 0; i++)
        usleep(20000 * (useconds_t)slack());
    ck_assert_msg(cw_fixture_stats_get(fixture).accepted >= 1,
                  "fetch_with_timeout of /stall should have connected to the server, but the server saw no "
                  "connection (a timeout must come from a real request that got no answer)");

    rc = fetch_with_timeout(cw_fixture_url(fixture, "/delay/100", url, sizeof url), 3000, &r);
    ck_assert_msg(rc == 0 && r.status == 200,
                  "/delay/100 answers within a 3000 ms limit: expected rc 0 and status 200, got rc %d (%s), status %ld",
                  rc, cw_error_name(rc), r.status);
    fetch_result_free(&r);
    rc = fetch_with_timeout(url, 0, &r);
    ck_assert_msg(rc == 0 && r.status == 200, "a limit of 0 means no limit: expected rc 0 and status 200, got rc %d (%s)",
                  rc, cw_error_name(rc));
    expect_answered(fixture, 2, "fetch_with_timeout of /delay/100, twice");
    fetch_result_free(&r);
    cw_fixture_stop(fixture);
}
END_TEST

START_TEST(test_sequential_no_overlap)
{
    enum { N = 3, DELAY_MS = 200 };
    cw_fixture *fixture = start_fixture();
    char urls[N][128];
    const char *list[N];
    for (int i = 0; i < N; i++)
        list[i] = cw_fixture_url(fixture, "/delay/200", urls[i], sizeof urls[i]);
    fetch_result results[N];
    interval times[N];
    uint64_t before = cw_now_us();
    int rc = fetch_all_sequential(list, N, results, times);
    uint64_t after = cw_now_us();
    ck_assert_msg(rc == 0, "fetch_all_sequential should return 0, but returned %d (%s)", rc, cw_error_name(rc));
    for (int i = 0; i < N; i++) {
        ck_assert_msg(results[i].status == 200, "results[%d].status should be 200, but is %ld", i, results[i].status);
        ck_assert_msg(before <= times[i].start_us && times[i].start_us <= times[i].end_us && times[i].end_us <= after,
                      "times[%d] should hold cw_now_us() (or CLOCK_MONOTONIC in microseconds) read just before "
                      "and just after the fetch, but holds %llu..%llu, outside the call's %llu..%llu",
                      i, (unsigned long long)times[i].start_us, (unsigned long long)times[i].end_us,
                      (unsigned long long)before, (unsigned long long)after);
        ck_assert_msg(times[i].end_us - times[i].start_us >= (DELAY_MS - 20) * 1000ULL,
                      "each fetch of /delay/%d takes at least %d ms, but times[%d] spans %lld us: "
                      "read the clock just before and just after the fetch",
                      DELAY_MS, DELAY_MS, i, (long long)(times[i].end_us - times[i].start_us));
        if (i > 0)
            ck_assert_msg(times[i - 1].end_us <= times[i].start_us,
                          "fetch %d started before fetch %d ended: sequential fetches must not overlap", i, i - 1);
    }
    cw_fixture_stats stats = cw_fixture_stats_get(fixture);
    ck_assert_msg(stats.requests == N, "the server should have answered %d requests, but answered %ld", N,
                  stats.requests);
    ck_assert_msg(stats.max_open == 1,
                  "one fetch at a time means one connection at a time, but the server saw %ld open at once",
                  stats.max_open);
    for (int i = 0; i < N; i++)
        fetch_result_free(&results[i]);
    cw_fixture_stop(fixture);
}
END_TEST

START_TEST(test_sequential_input_order)
{
    cw_fixture *fixture = start_fixture();
    char urls[3][128];
    const char *list[3] = {
        cw_fixture_url(fixture, "/status/201", urls[0], sizeof urls[0]),
        cw_fixture_url(fixture, "/status/404", urls[1], sizeof urls[1]),
        cw_fixture_url(fixture, "/bytes/7", urls[2], sizeof urls[2]),
    };
    fetch_result results[3];
    interval times[3];
    int rc = fetch_all_sequential(list, 3, results, times);
    ck_assert_msg(rc == 0, "fetch_all_sequential should return 0 (a 404 is a response), but returned %d (%s)", rc,
                  cw_error_name(rc));
    ck_assert_msg(results[0].status == 201 && results[1].status == 404 && results[2].status == 200,
                  "results[i] should hold the response of urls[i]: expected statuses 201, 404, 200, got %ld, %ld, %ld",
                  results[0].status, results[1].status, results[2].status);
    ck_assert_msg(results[2].body_len == 7, "results[2] should hold the 7 bytes of /bytes/7, but holds %zu",
                  results[2].body_len);
    expect_answered(fixture, 3, "fetch_all_sequential of three URLs");
    for (int i = 0; i < 3; i++)
        fetch_result_free(&results[i]);
    cw_fixture_stop(fixture);
}
END_TEST

START_TEST(test_sequential_stops_at_failure)
{
    cw_fixture *fixture = start_fixture();
    int sock;
    char urls[3][128];
    cw_fixture_url(fixture, "/get", urls[0], sizeof urls[0]);
    snprintf(urls[1], sizeof urls[1], "http://127.0.0.1:%d/get", refusing_port(&sock));
    cw_fixture_url(fixture, "/get", urls[2], sizeof urls[2]);
    const char *list[3] = {urls[0], urls[1], urls[2]};
    fetch_result results[3];
    memset(results, 0xAB, sizeof results); /* garbage: the function must empty every slot itself */
    interval times[3];
    int rc = fetch_all_sequential(list, 3, results, times);
    ck_assert_msg(rc == CW_ECONNREFUSED, "the second URL is refused: expected CW_ECONNREFUSED, got %d (%s)", rc,
                  cw_error_name(rc));
    ck_assert_msg(results[0].status == 200, "results[0] should still hold the first response (200), but has %ld",
                  results[0].status);
    ck_assert_msg(results[1].body == NULL && results[2].body == NULL && results[2].status == 0,
                  "the failed slot and the slots after it should be left empty (status 0, body NULL)");
    cw_fixture_stats stats = cw_fixture_stats_get(fixture);
    ck_assert_msg(stats.requests == 1,
                  "the first failure stops the loop: the server should have seen 1 request, but saw %ld",
                  stats.requests);
    for (int i = 0; i < 3; i++)
        fetch_result_free(&results[i]);
    close(sock);
    cw_fixture_stop(fixture);
}
END_TEST

int main(int argc, char **argv)
{
    const cw_graded_test tests[] = {
        {"fetch_blocking returns the status and body of /get", test_get_body, 2, 5},
        {"a 404 (or 500) is a response, not an error", test_404_is_a_response, 1, 5},
        {"a refused or dropped connection: its error, and an empty result", test_refused, 1, 5},
        {"bad URLs give CW_EBADURL and CW_ESCHEME", test_bad_urls, 1, 5},
        {"the whole body arrives: /bytes/300000 gives 300000 bytes, /bytes/0 \"\"", test_whole_body, 2, 5},
        {"fetch_with_timeout: CW_ETIMEDOUT on /stall, a response in time", test_timeout, 2, 5},
        {"sequential fetches never overlap, one connection at a time", test_sequential_no_overlap, 3, 5},
        {"sequential results come back in input order", test_sequential_input_order, 2, 5},
        {"the first failure stops the sequential loop", test_sequential_stops_at_failure, 1, 5},
    };
    return cw_grade_main("01_blocking_fetch", tests, sizeof tests / sizeof tests[0], argc, argv);
}
