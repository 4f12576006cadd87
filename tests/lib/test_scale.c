/**
 * @file test_scale.c
 * @brief Tests of tasks at scale: more live tasks than one mapping per stack would allow, and a
 *        process limit reached while spawning is named in the error, never called "out of memory".
 *
 * Counts, not times: how many tasks succeed, how many memory mappings the process holds.
 */
#include "cw.h"
#include "support.h"

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <valgrind/valgrind.h>

static int count_mappings(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    int n = 0, c;
    while (f && (c = getc(f)) != EOF)
        n += c == '\n';
    if (f)
        fclose(f);
    return n;
}

/* ------------------------------------------------------------ many tasks */

static void *sleep_50(void *arg)
{
    (void)arg;
    return cw_sleep(50) == 0 ? NULL : cw_fail(CW_EFAILED, "sleep failed");
}

typedef struct crowd {
    int n, succeeded, mappings;
    char first_error[200];
} crowd;

static void *spawn_crowd(void *arg)
{
    crowd *c = arg;
    cw_future **tasks = calloc(c->n, sizeof *tasks);
    for (int i = 0; i < c->n; i++)
        tasks[i] = cw_spawn(sleep_50, NULL);
    cw_future *all = cw_gather(tasks, c->n, true);
    cw_await(all);
    c->mappings = count_mappings(); /* every stack is still mapped, on the free list */
    for (int i = 0; i < c->n; i++) {
        if (cw_future_error(tasks[i]) == 0)
            c->succeeded++;
        else if (!c->first_error[0])
            snprintf(c->first_error, sizeof c->first_error, "%s", cw_future_message(tasks[i]));
    }
    cw_future_release(all);
    cw_future_release_all(tasks, c->n);
    free(tasks);
    return NULL;
}

/* One mapping (or two, with a guard) per stack stops near 32,000 tasks at the kernel's
 * vm.max_map_count of 65,530; stacks carved from slabs do not. (Fewer under valgrind: slow.) */
START_TEST(test_more_tasks_than_one_mapping_each_allows)
{
    crowd c = { .n = RUNNING_ON_VALGRIND ? 2000 : 40000 };
    ck_assert_int_eq(cw_run(spawn_crowd, &c, NULL), 0);
    ck_assert_msg(c.succeeded == c.n, "%d of %d sleeping tasks succeeded; the first error: %s", c.succeeded, c.n,
                  c.first_error);
    ck_assert_msg(c.mappings < 2000, "%d tasks left the process holding %d memory mappings", c.n, c.mappings);
}
END_TEST

/* ------------------------------------------------------------ a limit, named */

static void *sleep_long(void *arg)
{
    (void)arg;
    cw_sleep(60 * 1000);
    return NULL;
}

/* In a child under an address-space limit: spawn until a task cannot start, then exit with
 * 0 when its error names the limit, 1 when it says something else, 2 when none failed. */
static void *spawn_until_refused(void *arg)
{
    (void)arg;
    for (int round = 0; round < 100; round++) {
        cw_future *batch[200];
        for (int i = 0; i < 200; i++)
            batch[i] = cw_spawn(sleep_long, NULL);
        cw_sleep(0); /* they start (and take their stacks) */
        cw_sleep(0);
        for (int i = 0; i < 200; i++) {
            if (!batch[i] || !cw_future_done(batch[i]))
                continue;
            int rc = cw_future_error(batch[i]);
            const char *message = cw_future_message(batch[i]);
            fprintf(stderr, "a task could not start: %s (%s)\n", message ? message : "", cw_error_name(rc));
            _exit(rc == CW_ELIMIT && message && strstr(message, "RLIMIT_AS") ? 0 : 1);
        }
    }
    _exit(2);
}

START_TEST(test_a_limit_reached_is_named)
{
    if (RUNNING_ON_VALGRIND)
        return; /* valgrind manages the address space itself */
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        FILE *f = fopen("/proc/self/status", "r");
        char line[256];
        long vm_kb = 0;
        while (f && fgets(line, sizeof line, f))
            sscanf(line, "VmSize: %ld", &vm_kb);
        fclose(f);
        rlim_t limit = (rlim_t)vm_kb * 1024 + 100 * 1024 * 1024; /* 100 MiB more than now */
        setrlimit(RLIMIT_AS, &(struct rlimit){ limit, limit });
        cw_run(spawn_until_refused, NULL, NULL);
        _exit(3);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status), "the child spawning under RLIMIT_AS crashed (status %d)", status);
    ck_assert_msg(WEXITSTATUS(status) != 1, "a task that found RLIMIT_AS reached failed without naming it");
    ck_assert_msg(WEXITSTATUS(status) == 0, "no task failed under a 100 MiB address-space margin (exit %d)",
                  WEXITSTATUS(status));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("scale");
    TCase *tc = add_case(s, "tasks", 120, NULL, NULL);
    tcase_add_test(tc, test_more_tasks_than_one_mapping_each_allows);
    tcase_add_test(tc, test_a_limit_reached_is_named);
    return run_suite(s);
}
