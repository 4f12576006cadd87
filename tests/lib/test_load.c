/**
 * @file test_load.c
 * @brief Load: thousands of requests in flight at once, and a clear error when descriptors run out.
 *
 * The fixture server runs in a forked process of its own, so that the client
 * and the server each have their whole open-file allowance: N requests in
 * flight need N sockets on each side. The test checks the structure, not the
 * speed: every one of the N connections is accepted by the server before the
 * first answer comes back (so all N were in flight at once), every request
 * succeeds, and the server sees every connection closed at the end.
 *
 * The number of requests is CW_LOAD_REQUESTS (default 2000, which make test
 * runs); `make load` runs the same test with 10000.
 *
 * When the open-file limit is too low (a forked child lowers its own), the
 * requests that cannot get a socket must fail with an error that says so,
 * the others must succeed, and nothing may crash or hang.
 */
#include "cw.h"
#include "cw_fixture.h"
#include "support.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <valgrind/valgrind.h>

enum { DEFAULT_REQUESTS = 2000 };

/* ------------------------------------------------------------ a fixture server in its own process */

static pid_t server_pid = -1;
static int server_port;
static int server_stop_fd = -1; /* closing it tells the server process to stop */

static void server_start(void)
{
    int port_pipe[2], stop_pipe[2];
    ck_assert_msg(pipe(port_pipe) == 0 && pipe(stop_pipe) == 0, "pipes for the server process");
    fflush(NULL);
    server_pid = fork();
    ck_assert_msg(server_pid >= 0, "fork the server process: %s", strerror(errno));
    if (server_pid == 0) {
        close(port_pipe[0]);
        close(stop_pipe[1]);
        cw_fixture *server = cw_fixture_start(0); /* raises this process's open-file limit too */
        int port = server ? cw_fixture_port(server) : -1;
        if (write(port_pipe[1], &port, sizeof port) != sizeof port)
            _exit(1);
        close(port_pipe[1]);
        char byte;
        while (read(stop_pipe[0], &byte, 1) > 0) /* EOF: the test is over (or died) */
            ;
        cw_fixture_stop(server);
        _exit(server ? 0 : 1);
    }
    close(port_pipe[1]);
    close(stop_pipe[0]);
    server_stop_fd = stop_pipe[1];
    int port = -1;
    ssize_t n = read(port_pipe[0], &port, sizeof port);
    close(port_pipe[0]);
    ck_assert_msg(n == sizeof port && port > 0, "the fixture server process should start");
    server_port = port;
}

static void setup(void)
{
    server_start();
}

static void teardown(void)
{
    if (server_stop_fd >= 0)
        close(server_stop_fd);
    server_stop_fd = -1;
    if (server_pid > 0) {
        int status = 0;
        waitpid(server_pid, &status, 0);
        server_pid = -1;
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "the fixture server process should stop cleanly (status %#x)", status);
    }
}

static char *server_url(const char *path, char *out, size_t size)
{
    snprintf(out, size, "http://127.0.0.1:%d%s", server_port, path);
    return out;
}

/* ------------------------------------------------------------ the server's counters, over HTTP */

typedef struct stats {
    long accepted, open, max_open, requests;
} stats;

/** GET /stats on @p s (a session of its own, limit 1: one kept-alive connection). */
static bool stats_get(cw_session *s, stats *out)
{
    char buf[128];
    cw_future *f = cw_session_get(s, server_url("/stats", buf, sizeof buf));
    bool ok = cw_await(f) == 0 && cw_response_of(f)->status == 200 &&
              sscanf(cw_response_of(f)->body, "{\"accepted\": %ld, \"open\": %ld, \"max_open\": %ld, \"requests\": %ld",
                     &out->accepted, &out->open, &out->max_open, &out->requests) == 4;
    cw_future_release(f);
    return ok;
}

/* ------------------------------------------------------------ N requests in flight at once */

typedef struct load {
    int n;
    unsigned long delay_ms;
    long fd_limit;
    /* results */
    int failures;
    int first_error;
    char first_message[256];
    bool all_accepted_before_any_answer;
    long accepted_seen;
    int done_when_all_accepted;
    double connect_all_ms, total_ms;
    long open_after;
    bool stats_ok;
} load;

static void *run_load(void *arg)
{
    load *l = arg;
    cw_session_options o = cw_session_options_default();
    o.limit = l->n;
    o.timeouts.total_ms = 0; /* nothing but the backstop below may end a request */
    cw_session *s, *watch;
    cw_session_options w = cw_session_options_default();
    w.limit = 1;
    if (cw_session_open(&s, &o) < 0 || cw_session_open(&watch, &w) < 0)
        return cw_fail(CW_EFAILED, "session open failed");

    stats st;
    l->stats_ok = stats_get(watch, &st); /* the watcher's one connection is open from here on */
    long base = l->stats_ok ? st.accepted : 0;

    char path[64], buf[128];
    snprintf(path, sizeof path, "/delay/%lu", l->delay_ms);
    server_url(path, buf, sizeof buf);
    cw_future **reqs = calloc((size_t) l->n, sizeof *reqs);
    uint64_t start = cw_now_us();
    for (int i = 0; i < l->n; i++)
        reqs[i] = cw_session_get(s, buf);

    /* Every connection is accepted before any answer is back: then all N were in flight at once. */
    uint64_t backstop_us = start + (uint64_t) (l->delay_ms + 60000) * 1000;
    while (l->stats_ok && cw_now_us() < backstop_us) {
        l->stats_ok = stats_get(watch, &st);
        int done = 0;
        for (int i = 0; i < l->n; i++)
            done += cw_future_done(reqs[i]);
        l->accepted_seen = st.accepted - base;
        if (l->accepted_seen >= l->n || done == l->n) {
            l->done_when_all_accepted = done;
            l->all_accepted_before_any_answer = l->accepted_seen >= l->n && done == 0;
            l->connect_all_ms = (cw_now_us() - start) / 1000.0;
            break;
        }
        cw_sleep(50);
    }

    for (int i = 0; i < l->n; i++) {
        int rc = cw_await(reqs[i]);
        if (rc == 0 && cw_response_of(reqs[i])->status != 200)
            rc = CW_EHTTP;
        if (rc != 0 && l->failures++ == 0) {
            l->first_error = rc;
            snprintf(l->first_message, sizeof l->first_message, "%s", cw_future_message(reqs[i]));
        }
    }
    l->total_ms = (cw_now_us() - start) / 1000.0;
    cw_future_release_all(reqs, l->n);
    free(reqs);
    cw_session_close(s);

    for (int i = 0; i < 200; i++) { /* the server sees them closed: only the watcher's stays */
        if (!stats_get(watch, &st) || st.open <= 1)
            break;
        cw_sleep(20);
    }
    l->open_after = st.open - 1;
    cw_session_close(watch);
    return NULL;
}

START_TEST(test_many_in_flight)
{
    load l = { .n = DEFAULT_REQUESTS };
    const char *env = getenv("CW_LOAD_REQUESTS");
    if (env && atoi(env) > 0)
        l.n = atoi(env);
    /* Long enough for every connection to open before the first answer, on a slow machine too: with the two
       cores loaded (load average 25), 2000 connects took 6 s, and far longer under valgrind. */
    l.delay_ms = (unsigned long) (l.n > 2000 ? l.n / 2 : 1000) + (RUNNING_ON_VALGRIND ? 30000 : 8000);
    l.fd_limit = cw_raise_open_file_limit();
    ck_assert_msg(l.fd_limit > l.n + 64,
                  "%d requests in flight need %d open files, but the limit is %ld (and cannot be raised: "
                  "ulimit -Hn)", l.n, l.n + 64, l.fd_limit);

    ck_assert_int_eq(cw_run(run_load, &l, NULL), 0);
    ck_assert_msg(l.stats_ok, "the server's /stats should answer");
    ck_assert_msg(l.all_accepted_before_any_answer,
                  "all %d connections should be accepted before any answer; the server had accepted %ld when %d "
                  "requests were done",
                  l.n, l.accepted_seen, l.done_when_all_accepted);
    ck_assert_msg(l.failures == 0, "%d of %d requests failed; the first with %s: %s", l.failures, l.n,
                  cw_error_name(l.first_error), l.first_message);
    ck_assert_msg(l.open_after == 0, "the server should see every connection closed, %ld still open", l.open_after);
    printf("load: %d requests in flight at once (all connected after %.0f ms, all answered after %.0f ms, "
           "open-file limit %ld)\n",
           l.n, l.connect_all_ms, l.total_ms, l.fd_limit);
    fflush(stdout);
}
END_TEST

/* ------------------------------------------------------------ too few descriptors */

enum { LOW_LIMIT = 64, LOW_REQUESTS = 300 };

/** What the child that lowered its limit saw, sent back through a pipe. */
typedef struct low_result {
    int run_rc;
    int ok, failed, pending;
    int first_error;
    char first_message[256];
    bool message_is_clear;
    int after_rc; /* a request made once the others have closed their sockets */
} low_result;

static void *run_low(void *arg)
{
    low_result *r = arg;
    cw_session_options o = cw_session_options_default();
    o.limit = LOW_REQUESTS;
    o.timeouts.total_ms = 20000; /* a backstop: nothing here should come near it */
    cw_session *s;
    if (cw_session_open(&s, &o) < 0)
        return cw_fail(CW_EFAILED, "session open failed");
    char buf[128];
    server_url("/delay/300", buf, sizeof buf);
    cw_future *reqs[LOW_REQUESTS];
    for (int i = 0; i < LOW_REQUESTS; i++)
        reqs[i] = cw_session_get(s, buf);
    for (int i = 0; i < LOW_REQUESTS; i++) {
        int rc = cw_await(reqs[i]);
        if (rc == 0) {
            r->ok++;
        } else if (rc == CW_ETIMEDOUT) {
            r->pending++; /* would mean: stuck until the backstop */
        } else if (r->failed++ == 0) {
            r->first_error = rc;
            const char *m = cw_future_message(reqs[i]);
            snprintf(r->first_message, sizeof r->first_message, "%s", m);
            r->message_is_clear = strstr(m, "open files") || strstr(m, "descriptor") || strstr(m, "socket");
        }
    }
    cw_future_release_all(reqs, LOW_REQUESTS);
    cw_session_close(s);

    /* The failures freed nothing for good: a new session works again. */
    cw_session_open(&s, NULL);
    cw_future *again = cw_session_get(s, server_url("/get", buf, sizeof buf));
    r->after_rc = cw_await(again);
    cw_future_release(again);
    cw_session_close(s);
    return NULL;
}

/** Lower the open-file limit to @p n, the hard limit too, so that nobody can raise it again. */
static bool lower_open_files(rlim_t n)
{
    struct rlimit lim = { n, n };
    if (setrlimit(RLIMIT_NOFILE, &lim) == 0)
        return true;
    /* valgrind keeps the hard limit for itself: there only the soft one goes down. */
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
        return false;
    lim.rlim_cur = n;
    return setrlimit(RLIMIT_NOFILE, &lim) == 0;
}

START_TEST(test_too_few_descriptors)
{
    int fds[2];
    ck_assert_msg(pipe(fds) == 0, "a pipe for the child's results");
    fflush(NULL);
    pid_t child = fork();
    ck_assert_msg(child >= 0, "fork: %s", strerror(errno));
    if (child == 0) {
        close(fds[0]);
        low_result r = { 0 };
        if (!lower_open_files(LOW_LIMIT))
            r.run_rc = CW_EFAILED;
        else
            r.run_rc = cw_run(run_low, &r, NULL);
        ssize_t n = write(fds[1], &r, sizeof r);
        _exit(n == sizeof r ? 0 : 3);
    }
    close(fds[1]);
    low_result r;
    ssize_t n = read(fds[0], &r, sizeof r);
    close(fds[0]);
    int status = 0;
    waitpid(child, &status, 0);
    ck_assert_msg(!WIFSIGNALED(status), "the child with %d open files crashed with signal %d", LOW_LIMIT,
                  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0 && n == sizeof r,
                  "the child should report its results (status %#x)", status);
    ck_assert_msg(r.run_rc == 0, "cw_run should end normally, got %s", cw_error_name(r.run_rc));
    ck_assert_msg(r.pending == 0, "%d requests hung until the 20 s backstop instead of failing at once", r.pending);
    ck_assert_msg(r.ok + r.failed == LOW_REQUESTS, "every request should end: %d ok + %d failed of %d", r.ok,
                  r.failed, LOW_REQUESTS);
    ck_assert_msg(r.ok > 0, "the requests that got a socket should succeed; none did");
    ck_assert_msg(r.failed > 0, "with %d open files, %d requests at once cannot all get a socket", LOW_LIMIT,
                  LOW_REQUESTS);
    ck_assert_msg(r.after_rc == 0, "a request after the others closed their sockets should work, got %s",
                  cw_error_name(r.after_rc));
    printf("load: with %d open files, %d of %d requests succeeded, %d failed with %s: %s\n", LOW_LIMIT, r.ok,
           LOW_REQUESTS, r.failed, cw_error_name(r.first_error), r.first_message);
    fflush(stdout);
    ck_assert_msg(r.message_is_clear && r.first_error != CW_ECONNREFUSED,
                  "the error should say that this process ran out of sockets (open files), not blame the server; "
                  "got %s: %s",
                  cw_error_name(r.first_error), r.first_message);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("load");
    TCase *tc = add_case(s, "load", 120, setup, teardown);
    tcase_add_test(tc, test_many_in_flight);
    tcase_add_test(tc, test_too_few_descriptors);

    return run_suite(s);
}
