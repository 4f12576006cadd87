/**
 * @file test_oom.c
 * @brief Running out of memory at every allocation the library makes: a clear error, never a crash,
 *        a hang or a leak.
 *
 * This program is linked with -Wl,--wrap for malloc, calloc, realloc, strdup and vasprintf, which
 * sends the library's own calls to them (not libcurl's or libuv's, which are shared libraries)
 * through the wrappers below. One scenario that goes through tasks, a session's queue, every kind of
 * request end, the combinators, a task group, a timeout scope and a semaphore is run again and again: the
 * first time with its first allocation failing, then its second, and so on until a run makes no
 * allocation that fails. Only the thread that runs cw_run() is counted: the fixture server, on its
 * own thread, always gets its memory. Whatever fails, cw_run() must return, every await must end,
 * the server must see every connection closed, and (under AddressSanitizer and valgrind, which
 * make test runs this under too) nothing may leak.
 */
#include "cw.h"
#include "cw_fixture.h"
#include "support.h"

#include <check.h>
#include <errno.h>
#include <execinfo.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ failing allocations */

static _Thread_local long allocations_left = -1; /* -1: none fails; else how many succeed first */
static _Thread_local bool keep_failing;           /* after the first failure, fail every allocation */
static _Thread_local long failures;

static bool this_one_fails(void)
{
    if (allocations_left < 0)
        return false;
    if (allocations_left > 0) {
        allocations_left--;
        return false;
    }
    failures++;
    allocations_left = keep_failing ? 0 : -1;
    if (getenv("CW_OOM_TRACE")) { /* where: addr2line -e build/tests/lib/test_oom ADDRESS... */
        void *where[12];
        backtrace_symbols_fd(where, backtrace(where, 12), 2);
    }
    errno = ENOMEM;
    return true;
}

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
char *__real_strdup(const char *s);
int __real_vasprintf(char **out, const char *fmt, va_list ap);

void *__wrap_malloc(size_t size)
{
    return this_one_fails() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return this_one_fails() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
    return this_one_fails() ? NULL : __real_realloc(p, size);
}

char *__wrap_strdup(const char *s)
{
    return this_one_fails() ? NULL : __real_strdup(s);
}

int __wrap_vasprintf(char **out, const char *fmt, va_list ap)
{
    if (!this_one_fails())
        return __real_vasprintf(out, fmt, ap);
    *out = NULL;
    return -1;
}

/* ------------------------------------------------------------ the scenario */

enum { GOT, POSTED, TIMED_OUT, CANCELLED, SLEPT, N_JOBS };

static char get_url[256], post_url[256], slow_url[256], stall_url[256];
static cw_session *session;
static int job_rc[N_JOBS];
static int scope_rc, group_rc, as_completed_rc, wait_rc, semaphore_rc;
/* What each part ends with when memory is plentiful; with an allocation failing, a part may also end
 * with CW_ENOMEM, and a task group whose child did with CW_EGROUP, but with nothing else. */
static const int job_expected[N_JOBS] = { [TIMED_OUT] = CW_ETIMEDOUT, [CANCELLED] = CW_ECANCELLED };

static int get(const char *u)
{
    cw_future *response = cw_session_get(session, u);
    int rc = response ? cw_await(response) : CW_ENOMEM;
    cw_future_release(response);
    return rc;
}

static void *job(void *arg)
{
    int which = (int)(intptr_t)arg;
    static const char *const headers[] = { "X-Course: oom", NULL };
    static const cw_timeouts quick = { .total_ms = 20 };
    cw_request slow = { .url = slow_url, .headers = headers, .timeouts = &quick };
    cw_future *f = NULL;
    switch (which) {
    case GOT:
        f = cw_session_get(session, get_url);
        break;
    case POSTED:
        f = cw_session_post(session, post_url, "hello", 5);
        break;
    case TIMED_OUT:
        f = cw_session_request(session, &slow);
        break;
    case CANCELLED:
        f = cw_session_get(session, stall_url);
        break;
    default: {
        int rc = cw_sleep(1);
        return rc == 0 ? NULL : cw_fail(rc, "sleep: %s", cw_error_name(rc));
    }
    }
    int rc = f ? cw_await(f) : CW_ENOMEM;
    cw_future_release(f);
    return rc == 0 ? NULL : cw_fail(rc, "request %d: %s", which, cw_error_name(rc));
}

static void *group_child(void *arg)
{
    int rc = get(arg);
    return rc == 0 ? NULL : cw_fail(rc, "GET in a group: %s", cw_error_name(rc));
}

static void *scenario(void *arg)
{
    (void)arg;
    cw_session_options one_at_a_time = cw_session_options_default();
    one_at_a_time.limit_per_host = 1; /* so that requests queue, and hosts are counted */
    /* A request whose task could not await it (no memory for that either) runs on, released, as any
     * released request does; the stall must not then hold the host's one connection for good. */
    one_at_a_time.timeouts.total_ms = (unsigned long)backstop(1000);
    if (cw_session_open(&session, &one_at_a_time) < 0)
        return cw_fail(CW_ENOMEM, "no session");
    cw_future *jobs[N_JOBS];
    for (int i = 0; i < N_JOBS; i++)
        jobs[i] = cw_spawn(job, (void *)(intptr_t)i);
    cw_sleep(5);
    cw_future_cancel(jobs[CANCELLED]);
    /* Awaiting a pending future takes memory too (a done callback): without it, the await itself
     * fails with CW_ENOMEM, and that is what counts for a job not yet done. */
    cw_future *all = cw_gather(jobs, N_JOBS, true);
    int all_rc = all ? cw_await(all) : CW_ENOMEM;
    for (int i = 0; i < N_JOBS; i++) {
        int rc = all_rc == CW_ENOMEM && jobs[i] ? cw_await(jobs[i]) : 0;
        job_rc[i] = !jobs[i] ? CW_ENOMEM : cw_future_done(jobs[i]) ? cw_future_error(jobs[i]) : rc;
    }
    cw_future_release(all);
    cw_future_release_all(jobs, N_JOBS);

    cw_timeout *scope;
    int rc = cw_timeout_enter(&scope, 10);
    if (rc == 0)
        rc = get(stall_url);
    scope_rc = scope ? cw_timeout_exit(scope, rc) : rc;

    cw_task_group *group;
    rc = cw_task_group_enter(&group);
    if (rc == 0) {
        cw_task_group_spawn(group, group_child, get_url, "one");
        cw_task_group_spawn(group, group_child, get_url, "two");
        group_rc = cw_task_group_exit(group, 0);
        cw_task_group_free(group);
    } else {
        group_rc = rc;
    }

    cw_future *two[2] = { cw_session_get(session, get_url), cw_session_get(session, post_url) };
    cw_as_completed *it = cw_as_completed_new(two, 2, 0);
    cw_future *next;
    as_completed_rc = it ? 0 : CW_ENOMEM;
    while (it && cw_as_completed_next(it, &next) == 0)
        ;
    cw_as_completed_free(it);
    cw_wait_sets sets;
    wait_rc = cw_wait(two, 2, CW_ALL_COMPLETED, 0, &sets);
    if (wait_rc == 0)
        cw_wait_sets_free(&sets);
    cw_future_release_all(two, 2);

    cw_semaphore *sem = cw_semaphore_new(1);
    semaphore_rc = sem ? cw_semaphore_acquire(sem) : CW_ENOMEM;
    if (semaphore_rc == 0)
        cw_semaphore_release(sem);
    if (sem)
        cw_semaphore_free(sem);
    cw_session_close(session);
    return NULL;
}

/* Run the scenario with allocation number @p n of the library failing (and every later one too
 * when @p persistent). Returns false once the scenario made fewer than n + 1 allocations. */
static bool run_failing_at(long n, bool persistent)
{
    memset(job_rc, 0, sizeof job_rc);
    scope_rc = group_rc = as_completed_rc = wait_rc = semaphore_rc = 0;
    failures = 0;
    keep_failing = persistent;
    if (getenv("CW_OOM_TRACE"))
        fprintf(stderr, "test_oom: allocation %ld fails%s\n", n, persistent ? ", and every one after it" : "");
    allocations_left = n;
    int rc = cw_run(scenario, NULL, NULL);
    allocations_left = -1;
    ck_assert_msg(rc == 0 || rc == CW_ENOMEM, "allocation %ld failed: cw_run returned %s", n, cw_error_name(rc));
    for (int i = 0; rc == 0 && i < N_JOBS; i++)
        ck_assert_msg(job_rc[i] == job_expected[i] || job_rc[i] == CW_ENOMEM,
                      "allocation %ld failed: job %d ended with %s, not %s or CW_ENOMEM", n, i,
                      cw_error_name(job_rc[i]), cw_error_name(job_expected[i]));
    if (rc == 0) {
        ck_assert_msg(scope_rc == CW_ETIMEDOUT || scope_rc == CW_ENOMEM, "allocation %ld: the scope ended with %s", n,
                      cw_error_name(scope_rc));
        ck_assert_msg(group_rc == 0 || group_rc == CW_ENOMEM || group_rc == CW_EGROUP,
                      "allocation %ld: the group ended with %s", n, cw_error_name(group_rc));
        ck_assert_msg(as_completed_rc == 0 || as_completed_rc == CW_ENOMEM, "allocation %ld: as_completed: %s", n,
                      cw_error_name(as_completed_rc));
        ck_assert_msg(wait_rc == 0 || wait_rc == CW_ENOMEM || wait_rc == CW_EINVAL, "allocation %ld: wait: %s", n,
                      cw_error_name(wait_rc));
        ck_assert_msg(semaphore_rc == 0 || semaphore_rc == CW_ENOMEM, "allocation %ld: semaphore: %s", n,
                      cw_error_name(semaphore_rc));
    }
    ck_assert_msg(wait_open(0, 5000), "allocation %ld failed: %ld connections were left open", n,
                  cw_fixture_stats_get(fx).open);
    return failures > 0;
}

static void urls(void)
{
    snprintf(get_url, sizeof get_url, "%s", url("/redirect/302")); /* followed to /anything */
    snprintf(post_url, sizeof post_url, "%s", url("/redirect/303")); /* a POST, then a GET */
    snprintf(slow_url, sizeof slow_url, "%s", url("/delay/3000"));
    snprintf(stall_url, sizeof stall_url, "%s", url("/stall"));
}

static void check_scenario_succeeds(void)
{
    ck_assert_msg(!run_failing_at(-1, false), "with memory enough, nothing should fail");
    for (int i = 0; i < N_JOBS; i++)
        ck_assert_int_eq(job_rc[i], job_expected[i]);
    ck_assert_int_eq(scope_rc, CW_ETIMEDOUT);
    ck_assert_int_eq(group_rc, 0);
    ck_assert_int_eq(as_completed_rc, 0);
    ck_assert_int_eq(wait_rc, 0);
    ck_assert_int_eq(semaphore_rc, 0);
}

/* The scenario makes 95 to 110 allocations (how many depends on timing): far fewer, and the wrapped calls
 * no longer see most of them. */
#define MANY_ALLOCATIONS 60

START_TEST(test_each_allocation_failing_once)
{
    urls();
    check_scenario_succeeds(); /* the scenario is right, so what changes below is the failure's doing */
    long n = 0;
    while (run_failing_at(n, false))
        n++;
    ck_assert_msg(n > MANY_ALLOCATIONS, "the scenario should make many allocations, made %ld", n);
    fprintf(stderr, "test_oom: each of the scenario's %ld allocations failed in turn\n", n);
    check_scenario_succeeds();
}
END_TEST

START_TEST(test_memory_running_out_for_good)
{
    urls();
    long n = 0;
    while (run_failing_at(n, true))
        n++;
    ck_assert_msg(n > MANY_ALLOCATIONS, "the scenario should make many allocations, made %ld", n);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("oom");
    TCase *tc = add_case(s, "oom", 300, server_setup, server_teardown);
    tcase_add_test(tc, test_each_allocation_failing_once);
    tcase_add_test(tc, test_memory_running_out_for_good);
    return run_suite(s);
}
