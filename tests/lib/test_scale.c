/**
 * @file test_scale.c
 * @brief Tests of tasks at scale: more live tasks than one mapping per stack would allow, a
 *        process limit reached while spawning is named in the error, never called "out of memory",
 *        and tasks on the shared stack (cw_spawn_on_shared_stack()): their locals survive other
 *        tasks running on the same stack, they hold less than a page each, and an overflow faults.
 *
 * Counts, not times: how many tasks succeed, how many memory mappings the process holds.
 */
#include "cw.h"
#include "support.h"

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
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

/* Under valgrind or AddressSanitizer every page costs many times more: fewer tasks there. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#else
#define CW_TEST_ASAN 1
#include <sanitizer/asan_interface.h>
#endif

/* One mapping (or two, with a guard) per stack stops near 32,000 tasks at the kernel's
 * vm.max_map_count of 65,530; stacks carved from slabs do not. */
START_TEST(test_more_tasks_than_one_mapping_each_allows)
{
    crowd c = { .n = RUNNING_ON_VALGRIND || SANITIZED ? 2000 : 40000 };
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

/* ------------------------------------------------------------ the shared stack */

#define LOCALS 64

/* Locals in every frame, checked after every switch: each task's copy must come back intact,
 * though the tasks in between wrote their own frames over the same addresses. */
static long nested(int id, int depth)
{
    volatile long mine[LOCALS];
    for (int i = 0; i < LOCALS; i++)
        mine[i] = (long)id * 1000 + depth * LOCALS + i;
    long below = 0;
    if (depth > 0) {
        below = nested(id, depth - 1);
    } else {
        if (cw_sleep((uint64_t)(id % 5) * 10) != 0) /* they wake in another order than they slept */
            return -1;
        for (int k = 0; k < 3; k++)
            if (cw_sleep(0) != 0)
                return -1;
    }
    if (below < 0)
        return -1;
    long sum = below;
    for (int i = 0; i < LOCALS; i++) {
        if (mine[i] != (long)id * 1000 + depth * LOCALS + i)
            return -1;
        sum += mine[i];
    }
    return sum;
}

static long expected_sum(int id, int depth)
{
    long sum = 0;
    for (int d = 0; d <= depth; d++)
        for (int i = 0; i < LOCALS; i++)
            sum += (long)id * 1000 + d * LOCALS + i;
    return sum;
}

static void *keep_locals(void *arg)
{
    int id = (int)(intptr_t)arg;
    long sum = nested(id, id % 8);
    return sum == expected_sum(id, id % 8) ? NULL : cw_fail(CW_EFAILED, "task %d found its locals changed", id);
}

static void *mix_of_tasks(void *arg)
{
    int *failed = arg;
    enum { N = 300 };
    cw_future *tasks[N];
    for (int i = 0; i < N; i++) /* every fifth on its own stack: both kinds interleave */
        tasks[i] = i % 5 ? cw_spawn_on_shared_stack(keep_locals, (void *)(intptr_t)i)
                         : cw_spawn(keep_locals, (void *)(intptr_t)i);
    cw_future *all = cw_gather(tasks, N, true);
    cw_await(all);
    for (int i = 0; i < N; i++)
        if (cw_future_error(tasks[i]) != 0 && (*failed)++ == 0)
            fprintf(stderr, "%s\n", cw_future_message(tasks[i]));
    cw_future_release(all);
    cw_future_release_all(tasks, N);
    return NULL;
}

START_TEST(test_tasks_on_the_shared_stack_keep_their_locals)
{
    int failed = 0;
    ck_assert_int_eq(cw_run(mix_of_tasks, &failed, NULL), 0);
    ck_assert_msg(failed == 0, "%d of 300 tasks found their locals changed after a switch", failed);
}
END_TEST

static long resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = -1;
    if (f && fscanf(f, "%ld %ld", &size, &resident) != 2)
        resident = -1;
    if (f)
        fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

static void *sleep_300(void *arg)
{
    (void)arg;
    return cw_sleep(300) == 0 ? NULL : cw_fail(CW_EFAILED, "sleep failed");
}

typedef struct footprint {
    int n;
    long bytes_per_task;
} footprint;

static void *measure_sleepers(void *arg)
{
    footprint *fp = arg;
    cw_future **tasks = calloc(fp->n, sizeof *tasks);
    long before = resident_bytes();
    for (int i = 0; i < fp->n; i++)
        tasks[i] = cw_spawn_on_shared_stack(sleep_300, NULL);
    cw_sleep(100); /* every task has started and sleeps */
    fp->bytes_per_task = (resident_bytes() - before) / fp->n;
    cw_future *all = cw_gather(tasks, fp->n, true);
    int rc = cw_await(all);
    cw_future_release(all);
    cw_future_release_all(tasks, fp->n);
    free(tasks);
    return rc == 0 ? NULL : cw_fail(rc, "a sleeping task failed");
}

/* A task on its own stack touches at least one 4 KiB page of it; on the shared stack a sleeping
 * task keeps only the bytes it uses, and everything it holds fits in the goal of 2 KiB. */
START_TEST(test_a_task_on_the_shared_stack_holds_less_than_a_page)
{
    if (RUNNING_ON_VALGRIND || SANITIZED)
        return; /* their own bookkeeping counts in the resident size */
#if defined(CW_USE_UCONTEXT) || !(defined(__x86_64__) || defined(__aarch64__))
    return; /* the ucontext switch cannot copy stacks: each task gets its own (see cw_task.h) */
#endif
    footprint fp = { .n = 20000 };
    ck_assert_int_eq(cw_run(measure_sleepers, &fp, NULL), 0);
    ck_assert_msg(fp.bytes_per_task <= 2048, "a sleeping task on the shared stack holds %ld bytes",
                  fp.bytes_per_task);
}
END_TEST

static __attribute__((noinline)) char write_far_below(void)
{
    volatile char big[CW_TASK_STACK_SIZE + 20 * 1024]; /* bigger than the whole stack */
    for (int i = 0; i < 4096; i++)
        big[i] = 0x66;
    return big[0];
}

static void *overflow_after_a_switch(void *arg)
{
    (void)arg;
    cw_sleep(20); /* first let the others take the shared stack and switch out */
    write_far_below();
    return NULL;
}

static void *overflow_among_others(void *arg)
{
    (void)arg;
    cw_future *tasks[3] = { cw_spawn_on_shared_stack(sleep_50, NULL),
                            cw_spawn_on_shared_stack(overflow_after_a_switch, NULL), cw_spawn(sleep_50, NULL) };
    cw_future *all = cw_gather(tasks, 3, true);
    cw_await(all);
    cw_future_release(all);
    cw_future_release_all(tasks, 3);
    return NULL;
}

/* The shared stack has its guard region like any other: overflowing it stops the program. */
START_TEST(test_an_overflow_of_the_shared_stack_faults)
{
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 }); /* an expected crash: no core file */
        cw_run(overflow_among_others, NULL, NULL);
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(!(WIFEXITED(status) && WEXITSTATUS(status) == 0),
                  "a task used %d KiB of the %d KiB shared stack and nothing stopped it",
                  (CW_TASK_STACK_SIZE + 20 * 1024) / 1024, CW_TASK_STACK_SIZE / 1024);
}
END_TEST

typedef struct attempt {
    bool ran;
    cw_future *task;
} attempt;

static void *spawn_without_a_function(void *arg)
{
    attempt *a = arg;
    a->task = cw_spawn_on_shared_stack(NULL, NULL);
    a->ran = true;
    return NULL;
}

/* As cw_spawn(): NULL outside cw_run() and for a NULL function, never a crash. */
START_TEST(test_spawn_on_shared_stack_refuses_bad_input)
{
    ck_assert_ptr_null(cw_spawn_on_shared_stack(sleep_50, NULL)); /* outside cw_run() */
    attempt a = { false, NULL };
    ck_assert_int_eq(cw_run(spawn_without_a_function, &a, NULL), 0);
    ck_assert(a.ran);
    ck_assert_ptr_null(a.task);
}
END_TEST

static void write_through(cw_future *f, void *arg)
{
    (void)f;
    *(volatile int *)arg = 1;
}

static void *resolve_later(void *arg)
{
    cw_sleep(10);
    cw_future_resolve(arg, NULL, NULL);
    return NULL;
}

/* The mistake cw_spawn_on_shared_stack() warns about: a callback that writes into the stack of a
 * task that is switched out. */
static void *hand_out_a_local(void *arg)
{
    cw_future *later = arg;
    int local = 0;
#ifdef CW_TEST_ASAN
    if (__asan_addr_is_in_fake_stack(__asan_get_current_fake_stack(), &local, NULL, NULL))
        _exit(4); /* detect_stack_use_after_return put local on the heap: no mistake to see */
#endif
    cw_future_on_done(later, write_through, &local);
    cw_sleep(50); /* switched out when the callback runs */
    cw_future_remove_done(later, write_through, &local);
    return NULL;
}

static void *local_written_while_away(void *arg)
{
    (void)arg;
    cw_future *later = cw_future_new();
    cw_future *tasks[2] = { cw_spawn_on_shared_stack(hand_out_a_local, later), cw_spawn(resolve_later, later) };
    cw_future *all = cw_gather(tasks, 2, true);
    cw_await(all);
    cw_future_release(all);
    cw_future_release_all(tasks, 2);
    cw_future_release(later);
    return NULL;
}

/* Built with AddressSanitizer, that write is reported where it happens (the copied-out region is
 * poisoned); without it, the write lands in a stack nobody uses, and nothing can tell. */
START_TEST(test_asan_reports_a_write_into_a_switched_out_task)
{
    if (!SANITIZED)
        return;
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 }); /* an expected crash: no core file */
        cw_run(local_written_while_away, NULL, NULL);
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 4)
        return;
    ck_assert_msg(!(WIFEXITED(status) && WEXITSTATUS(status) == 0),
                  "a callback wrote into a switched-out task's stack and AddressSanitizer said nothing");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("scale");
    TCase *tc = add_case(s, "tasks", 120, NULL, NULL);
    tcase_add_test(tc, test_more_tasks_than_one_mapping_each_allows);
    tcase_add_test(tc, test_a_limit_reached_is_named);
    tcase_add_test(tc, test_tasks_on_the_shared_stack_keep_their_locals);
    tcase_add_test(tc, test_a_task_on_the_shared_stack_holds_less_than_a_page);
    tcase_add_test(tc, test_an_overflow_of_the_shared_stack_faults);
    tcase_add_test(tc, test_asan_reports_a_write_into_a_switched_out_task);
    tcase_add_test(tc, test_spawn_on_shared_stack_refuses_bad_input);
    return run_suite(s);
}
