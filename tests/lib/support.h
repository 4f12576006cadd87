/**
 * @file support.h
 * @brief What the library tests share: a fixture server per test, time in milliseconds, generous
 *        time limits, fixture URLs, waiting for the server's open connections, a refused port, and
 *        the Check suite runner.
 *
 * Each tests/lib/test_*.c is a program of its own that includes this file. Every helper is
 * static inline, so a test uses what it needs and the rest costs nothing.
 */
#ifndef CW_TESTS_LIB_SUPPORT_H
#define CW_TESTS_LIB_SUPPORT_H

#include "cw_fixture.h"
#include "cw_task.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/** The fixture server of the running test (server_setup starts it, server_teardown stops it). */
static cw_fixture *fx __attribute__((unused));

/** Check fixture: start a server for one test, inside the forked child that runs it. */
static inline void server_setup(void)
{
    fx = cw_fixture_start(0);
    ck_assert_msg(fx != NULL, "the fixture server should start");
}

/** Check fixture: stop the test's server. */
static inline void server_teardown(void)
{
    cw_fixture_stop(fx);
    fx = NULL;
}

/** Milliseconds on the monotonic clock, for measuring intervals. */
static inline double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/** A generous time limit, stretched by CW_TIMEOUT_SCALE when running under valgrind or sanitizers. */
static inline double backstop(double ms)
{
    const char *scale = getenv("CW_TIMEOUT_SCALE");
    double factor = scale ? atof(scale) : 1.0;
    return ms * (factor > 1.0 ? factor : 1.0);
}

/** The URL of @p path on the test's server; each call has its own buffer, for the next eight calls. */
static inline char *url(const char *path)
{
    static char buf[8][256];
    static int next;
    char *out = buf[next++ % 8];
    return cw_fixture_url(fx, path, out, sizeof buf[0]);
}

/** Inside a task: sleep until the server has @p open connections open, or give up after @p backstop_ms. */
static inline bool await_open(long open, double backstop_ms)
{
    double start = now_ms();
    while (cw_fixture_stats_get(fx).open != open) {
        if (now_ms() - start > backstop(backstop_ms))
            return false;
        cw_sleep(10);
    }
    return true;
}

/** Outside the loop: the same, with a plain sleep. */
static inline bool wait_open(long open, double backstop_ms)
{
    double start = now_ms();
    while (cw_fixture_stats_get(fx).open != open) {
        if (now_ms() - start > backstop(backstop_ms))
            return false;
        usleep(10 * 1000);
    }
    return true;
}

/** A loopback port that nothing listens on: bind one, read its number, close it. */
static inline int refused_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    ck_assert_msg(fd >= 0 && bind(fd, (struct sockaddr *) &addr, sizeof addr) == 0 &&
                      getsockname(fd, (struct sockaddr *) &addr, &len) == 0,
                  "a free loopback port should be found");
    close(fd);
    return ntohs(addr.sin_port);
}

/** Add a test case named @p name to @p s, each test limited to @p timeout_s seconds and run between
 *  @p setup and @p teardown (both NULL: none). Add its tests to the case returned. */
static inline TCase *add_case(Suite *s, const char *name, int timeout_s, SFun setup, SFun teardown)
{
    TCase *tc = tcase_create(name);
    if (setup || teardown)
        tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, timeout_s);
    suite_add_tcase(s, tc);
    return tc;
}

/** Run every test of @p s and free it; the program's exit status: 0 when all passed, else 1. */
static inline int run_suite(Suite *s)
{
    SRunner *runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed != 0;
}

#endif
