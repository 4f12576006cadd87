/**
 * @file test_group.c
 * @brief Tests of structured concurrency: task groups, timeout scopes and semaphores.
 *
 * Each expectation is what Python 3.11's asyncio does with the same program
 * (TaskGroup, asyncio.timeout, asyncio.Semaphore); the tests check structure
 * (who was cancelled, which errors were collected, in which order tasks got
 * their slot, how many held one at once), never tight timings.
 */
#include "cw.h"
#include "support.h"

#include <check.h>
#include <stdint.h>
#include <string.h>

/* ------------------------------------------------------------ children */

/** A child: sleeps @c ms, then returns @c value, or fails with CW_EHTTP and @c message when it is set. */
typedef struct job {
    uint64_t ms;
    const char *fail_message;
    intptr_t value;
    int sleep_rc;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    if (j->ms)
        j->sleep_rc = cw_sleep(j->ms);
    if (j->sleep_rc < 0)
        return cw_fail(j->sleep_rc, "cancelled while asleep");
    if (j->fail_message)
        return cw_fail(CW_EHTTP, "%s", j->fail_message);
    return (void *)j->value;
}

/* ------------------------------------------------------------ task groups */

typedef struct group_case {
    job jobs[4];
    int n_jobs;
    uint64_t body_sleep_ms; /* the body awaits this long (0: not at all) */
    int body_error;         /* the body's own error, passed to exit, when not 0 */
    int body_rc;            /* what the body's await returned */
    int exit_rc;
    int n_errors;
    int codes[4];
    char messages[4][64];
    int error_task[4];      /* index of the failed task, -1 for the body */
    cw_state states[4];
    intptr_t results[4];
    cw_future *late_spawn;  /* a spawn after exit */
    int cancelling_after;
} group_case;

static void *group_main(void *arg)
{
    group_case *c = arg;
    cw_task_group *tg;
    ck_assert_int_eq(cw_task_group_enter(&tg), 0);
    for (int i = 0; i < c->n_jobs; i++)
        ck_assert_ptr_nonnull(cw_task_group_spawn(tg, run_job, &c->jobs[i], NULL));
    if (c->body_sleep_ms)
        c->body_rc = cw_sleep(c->body_sleep_ms);
    c->exit_rc = cw_task_group_exit(tg, c->body_error ? c->body_error : c->body_rc);
    const cw_task_group_error *errors = cw_task_group_errors(tg, &c->n_errors);
    for (int i = 0; i < c->n_errors && i < 4; i++) {
        c->codes[i] = errors[i].code;
        snprintf(c->messages[i], sizeof c->messages[i], "%s", errors[i].message);
        c->error_task[i] = -1;
        for (int k = 0; k < cw_task_group_size(tg); k++)
            if (cw_task_group_task(tg, k) == errors[i].task)
                c->error_task[i] = k;
    }
    for (int i = 0; i < c->n_jobs; i++) {
        c->states[i] = cw_future_state(cw_task_group_task(tg, i));
        c->results[i] = (intptr_t)cw_future_result(cw_task_group_task(tg, i));
    }
    c->late_spawn = cw_task_group_spawn(tg, run_job, &c->jobs[0], NULL);
    c->cancelling_after = cw_task_cancelling(cw_current_task());
    cw_task_group_free(tg);
    return NULL;
}

START_TEST(test_group_waits_for_all)
{
    group_case c = { .jobs = { { .ms = 60, .value = 1 }, { .ms = 20, .value = 2 }, { .value = 3 } }, .n_jobs = 3 };
    ck_assert_int_eq(cw_run(group_main, &c, NULL), 0);
    ck_assert_int_eq(c.exit_rc, 0);
    ck_assert_int_eq(c.n_errors, 0);
    for (int i = 0; i < 3; i++) {
        ck_assert_msg(c.states[i] == CW_RESOLVED, "task %d should have finished before exit returned", i);
        ck_assert_int_eq(c.results[i], i + 1);
    }
    ck_assert_msg(c.late_spawn == NULL, "a group that has been exited takes no new task (asyncio: RuntimeError)");
}
END_TEST

/* Python: a sleeps 1.5 s, b fails at 20 ms, c sleeps 2 s, the body awaits 1 s: the body and a and c are
 * cancelled, the group raises an ExceptionGroup of b's error alone, and cancelling() is 0 afterwards.
 * (The sleeps that must be cancelled are long: on a loaded machine a loop turn can take tens of ms, and a
 * task whose sleep ends in the same turn as b's failure has finished before it can be cancelled.) */
START_TEST(test_group_first_failure_cancels_the_rest)
{
    group_case c = { .jobs = { { .ms = 1500, .value = 1 }, { .ms = 20, .fail_message = "b broke" }, { .ms = 2000 } },
                     .n_jobs = 3,
                     .body_sleep_ms = 1000 };
    double start = now_ms();
    ck_assert_int_eq(cw_run(group_main, &c, NULL), 0);
    ck_assert_msg(now_ms() - start < backstop(900), "the body's 1 s await should have been cancelled");
    ck_assert_int_eq(c.body_rc, CW_ECANCELLED);
    ck_assert_msg(c.exit_rc == CW_EGROUP, "exit should return CW_EGROUP, got %s", cw_error_name(c.exit_rc));
    ck_assert_int_eq(c.n_errors, 1);
    ck_assert_int_eq(c.codes[0], CW_EHTTP);
    ck_assert_str_eq(c.messages[0], "b broke");
    ck_assert_int_eq(c.error_task[0], 1);
    ck_assert_int_eq(c.states[0], CW_CANCELLED);
    ck_assert_int_eq(c.states[2], CW_CANCELLED);
    ck_assert_int_eq(c.jobs[0].sleep_rc, CW_ECANCELLED);
    ck_assert_msg(c.cancelling_after == 0, "the group takes back the cancellation it sent the body");
}
END_TEST

/* Python: two tasks that fail at once are both in the ExceptionGroup, in order; the third is cancelled. */
START_TEST(test_group_collects_every_error)
{
    group_case c = { .jobs = { { .fail_message = "x" }, { .fail_message = "y" }, { .ms = 2000 } }, .n_jobs = 3 };
    ck_assert_int_eq(cw_run(group_main, &c, NULL), 0);
    ck_assert_int_eq(c.exit_rc, CW_EGROUP);
    ck_assert_int_eq(c.n_errors, 2);
    ck_assert_str_eq(c.messages[0], "x");
    ck_assert_str_eq(c.messages[1], "y");
    ck_assert_int_eq(c.error_task[0], 0);
    ck_assert_int_eq(c.error_task[1], 1);
    ck_assert_int_eq(c.states[2], CW_CANCELLED);
}
END_TEST

/* Python: the body raises after 10 ms: the task (a 2 s sleep) is cancelled, the group raises an
 * ExceptionGroup of the body's error. */
START_TEST(test_group_body_error_joins_the_errors)
{
    group_case c = { .jobs = { { .ms = 2000 } }, .n_jobs = 1, .body_sleep_ms = 10, .body_error = CW_ETOOBIG };
    ck_assert_int_eq(cw_run(group_main, &c, NULL), 0);
    ck_assert_int_eq(c.exit_rc, CW_EGROUP);
    ck_assert_int_eq(c.n_errors, 1);
    ck_assert_int_eq(c.codes[0], CW_ETOOBIG);
    ck_assert_int_eq(c.error_task[0], -1);
    ck_assert_int_eq(c.states[0], CW_CANCELLED);
}
END_TEST

/* Cancelling the task that entered the group cancels the group's tasks; exit says CW_ECANCELLED. */
typedef struct parent_case {
    job jobs[2];
    int body_rc, exit_rc;
    cw_state child_states[2];
} parent_case;

static void *parent_task(void *arg)
{
    parent_case *c = arg;
    cw_task_group *tg;
    cw_task_group_enter(&tg);
    cw_future *kids[2];
    for (int i = 0; i < 2; i++)
        kids[i] = cw_task_group_spawn(tg, run_job, &c->jobs[i], NULL);
    c->body_rc = cw_sleep(c->jobs[1].ms ? 10 : 1000); /* 10 ms: the parent is cancelled inside exit */
    c->exit_rc = cw_task_group_exit(tg, c->body_rc);
    for (int i = 0; i < 2; i++)
        c->child_states[i] = cw_future_state(kids[i]);
    cw_task_group_free(tg);
    return NULL;
}

static void *cancel_parent_main(void *arg)
{
    cw_future *p = cw_spawn(parent_task, arg);
    cw_sleep(50);
    cw_future_cancel(p);
    int rc = cw_await(p);
    cw_future_release(p);
    return (void *)(intptr_t)rc;
}

START_TEST(test_group_parent_cancelled_in_body)
{
    parent_case c = { .jobs = { { .ms = 1000 }, { .ms = 0, .value = 7 } } };
    void *rc;
    ck_assert_int_eq(cw_run(cancel_parent_main, &c, &rc), 0);
    ck_assert_int_eq(c.body_rc, CW_ECANCELLED);
    ck_assert_int_eq(c.exit_rc, CW_ECANCELLED);
    ck_assert_int_eq(c.child_states[0], CW_CANCELLED);
    ck_assert_int_eq(c.child_states[1], CW_RESOLVED);
    ck_assert_int_eq((intptr_t)rc, CW_ECANCELLED);
}
END_TEST

START_TEST(test_group_parent_cancelled_in_exit)
{
    parent_case c = { .jobs = { { .ms = 1000 }, { .ms = 2000 } } };
    void *rc;
    double start = now_ms();
    ck_assert_int_eq(cw_run(cancel_parent_main, &c, &rc), 0);
    ck_assert_msg(now_ms() - start < backstop(900), "the group's tasks should have been cancelled");
    ck_assert_int_eq(c.body_rc, 0);
    ck_assert_int_eq(c.exit_rc, CW_ECANCELLED);
    ck_assert_int_eq(c.child_states[0], CW_CANCELLED);
    ck_assert_int_eq(c.child_states[1], CW_CANCELLED);
    ck_assert_int_eq((intptr_t)rc, CW_ECANCELLED);
}
END_TEST

/* A task of the group may spawn a sibling while the parent waits in exit; exit waits for it too. */
typedef struct spawner_case {
    cw_task_group *tg;
    job late;
    cw_future *sibling;
} spawner_case;

static void *spawner(void *arg)
{
    spawner_case *c = arg;
    cw_sleep(20);
    c->sibling = cw_task_group_spawn(c->tg, run_job, &c->late, "late");
    return NULL;
}

static void *spawner_main(void *arg)
{
    spawner_case *c = arg;
    cw_task_group_enter(&c->tg);
    cw_task_group_spawn(c->tg, spawner, c, NULL);
    int rc = cw_task_group_exit(c->tg, 0);
    ck_assert_int_eq(rc, 0);
    ck_assert_ptr_nonnull(c->sibling);
    ck_assert_msg(cw_future_state(c->sibling) == CW_RESOLVED, "exit should wait for a task spawned meanwhile");
    cw_task_group_free(c->tg);
    return NULL;
}

START_TEST(test_group_spawn_during_exit)
{
    spawner_case c = { .late = { .ms = 80, .value = 1 } };
    ck_assert_int_eq(cw_run(spawner_main, &c, NULL), 0);
}
END_TEST

static void *misuse_main(void *arg)
{
    (void)arg;
    ck_assert_int_eq(cw_task_group_enter(NULL), CW_EINVAL);
    ck_assert_int_eq(cw_task_group_exit(NULL, 0), CW_EINVAL);
    ck_assert_ptr_null(cw_task_group_spawn(NULL, run_job, NULL, NULL));
    cw_task_group *tg;
    ck_assert_int_eq(cw_task_group_enter(&tg), 0);
    ck_assert_ptr_null(cw_task_group_spawn(tg, NULL, NULL, NULL));
    ck_assert_int_eq(cw_task_group_exit(tg, 0), 0);
    ck_assert_int_eq(cw_task_group_exit(tg, 0), CW_EINVAL); /* twice */
    int n = 5;
    ck_assert_ptr_null(cw_task_group_errors(tg, &n));
    ck_assert_int_eq(n, 0);
    ck_assert_ptr_null(cw_task_group_task(tg, 0));
    cw_task_group_free(tg);
    cw_task_group_free(NULL);
    return NULL;
}

START_TEST(test_group_bad_arguments)
{
    cw_task_group *tg = (cw_task_group *)1;
    ck_assert_int_eq(cw_task_group_enter(&tg), CW_ENOTASK); /* outside a task */
    ck_assert_ptr_null(tg);
    ck_assert_int_eq(cw_run(misuse_main, NULL, NULL), 0);
}
END_TEST

/* ------------------------------------------------------------ timeout scopes */

typedef struct scope_case {
    uint64_t outer_ms, inner_ms; /* CW_NO_TIMEOUT: no such scope; inner 0 too: none */
    uint64_t reschedule_ms;      /* moved at once when not 0 */
    uint64_t body_ms;
    int body_rc, inner_rc, outer_rc;
    bool inner_expired, outer_expired;
    int cancelling_after;
} scope_case;

static void *scope_main(void *arg)
{
    scope_case *c = arg;
    cw_timeout *outer, *inner = NULL;
    ck_assert_int_eq(cw_timeout_enter(&outer, c->outer_ms), 0);
    if (c->reschedule_ms)
        ck_assert_int_eq(cw_timeout_reschedule(outer, c->reschedule_ms), 0);
    if (c->inner_ms)
        ck_assert_int_eq(cw_timeout_enter(&inner, c->inner_ms), 0);
    c->body_rc = cw_sleep(c->body_ms);
    c->inner_rc = c->body_rc;
    if (inner) {
        c->inner_expired = cw_timeout_expired(inner);
        c->inner_rc = cw_timeout_exit(inner, c->body_rc);
    }
    c->outer_expired = cw_timeout_expired(outer);
    c->outer_rc = cw_timeout_exit(outer, c->inner_rc == CW_ETIMEDOUT ? 0 : c->inner_rc); /* "except TimeoutError" */
    c->cancelling_after = cw_task_cancelling(cw_current_task());
    return NULL;
}

/* Python: async with timeout(0.05): await sleep(1) -> TimeoutError, expired(), cancelling() 0. */
START_TEST(test_timeout_expires)
{
    scope_case c = { .outer_ms = 50, .body_ms = 1000 };
    void *unused;
    ck_assert_int_eq(cw_run(scope_main, &c, &unused), 0);
    ck_assert_int_eq(c.body_rc, CW_ECANCELLED);
    ck_assert_msg(c.outer_rc == CW_ETIMEDOUT, "exit should say CW_ETIMEDOUT, got %s", cw_error_name(c.outer_rc));
    ck_assert(c.outer_expired);
    ck_assert_int_eq(c.cancelling_after, 0);
}
END_TEST

START_TEST(test_timeout_not_reached)
{
    scope_case c = { .outer_ms = 1000, .body_ms = 20 };
    ck_assert_int_eq(cw_run(scope_main, &c, NULL), 0);
    ck_assert_int_eq(c.outer_rc, 0);
    ck_assert(!c.outer_expired);
}
END_TEST

/* Python: timeout(0.05), reschedule to now + 0.3, sleep 0.15: no timeout. */
START_TEST(test_timeout_rescheduled)
{
    scope_case c = { .outer_ms = 50, .reschedule_ms = 300, .body_ms = 150 };
    ck_assert_int_eq(cw_run(scope_main, &c, NULL), 0);
    ck_assert_int_eq(c.outer_rc, 0);
    ck_assert(!c.outer_expired);
    c = (scope_case){ .outer_ms = CW_NO_TIMEOUT, .reschedule_ms = 30, .body_ms = 1000 };
    ck_assert_int_eq(cw_run(scope_main, &c, NULL), 0);
    ck_assert_int_eq(c.outer_rc, CW_ETIMEDOUT);
}
END_TEST

/* Python: outer 0.05 around inner 1: the inner exit lets the cancellation through, the outer owns it. */
START_TEST(test_timeout_nested_outer_owns)
{
    scope_case c = { .outer_ms = 50, .inner_ms = 1000, .body_ms = 1000 };
    ck_assert_int_eq(cw_run(scope_main, &c, NULL), 0);
    ck_assert(!c.inner_expired);
    ck_assert_int_eq(c.inner_rc, CW_ECANCELLED);
    ck_assert(c.outer_expired);
    ck_assert_int_eq(c.outer_rc, CW_ETIMEDOUT);
}
END_TEST

/* Python: inner 0.05 inside outer 1: the inner one times out, the outer carries on. */
START_TEST(test_timeout_nested_inner_owns)
{
    scope_case c = { .outer_ms = 1000, .inner_ms = 50, .body_ms = 1000 };
    ck_assert_int_eq(cw_run(scope_main, &c, NULL), 0);
    ck_assert(c.inner_expired);
    ck_assert_int_eq(c.inner_rc, CW_ETIMEDOUT);
    ck_assert(!c.outer_expired);
    ck_assert_int_eq(c.outer_rc, 0);
    ck_assert_int_eq(c.cancelling_after, 0);
}
END_TEST

/* Python: a task cancelled from outside at 20 ms inside timeout(0.05) ends cancelled, not timed out. */
static void *scoped_victim(void *arg)
{
    scope_case *c = arg;
    cw_timeout *cm;
    cw_timeout_enter(&cm, c->outer_ms);
    c->body_rc = cw_sleep(1000);
    c->outer_rc = cw_timeout_exit(cm, c->body_rc);
    return NULL;
}

static void *external_cancel_main(void *arg)
{
    scope_case *c = arg;
    cw_future *v = cw_spawn(scoped_victim, c);
    cw_sleep(c->body_ms);
    cw_future_cancel(v);
    int rc = cw_await(v);
    cw_future_release(v);
    return (void *)(intptr_t)rc;
}

START_TEST(test_timeout_external_cancel_stays_cancel)
{
    scope_case c = { .outer_ms = 50, .body_ms = 20 };
    void *rc;
    ck_assert_int_eq(cw_run(external_cancel_main, &c, &rc), 0);
    ck_assert_int_eq(c.outer_rc, CW_ECANCELLED);
    ck_assert_int_eq((intptr_t)rc, CW_ECANCELLED);
}
END_TEST

/* A deadline over a task group: the group's tasks are cancelled and the scope says CW_ETIMEDOUT. The task
 * that must finish first ends 390 ms before the deadline, a gap no loaded loop turn closes. */
static void *timeout_group_main(void *arg)
{
    job *jobs = arg;
    cw_timeout *cm;
    cw_timeout_enter(&cm, 400);
    cw_task_group *tg;
    cw_task_group_enter(&tg);
    for (int i = 0; i < 2; i++)
        cw_task_group_spawn(tg, run_job, &jobs[i], NULL);
    int rc = cw_task_group_exit(tg, 0);
    ck_assert_int_eq(rc, CW_ECANCELLED);
    ck_assert_int_eq(cw_future_state(cw_task_group_task(tg, 0)), CW_RESOLVED);
    ck_assert_int_eq(cw_future_state(cw_task_group_task(tg, 1)), CW_CANCELLED);
    cw_task_group_free(tg);
    ck_assert_int_eq(cw_timeout_exit(cm, rc), CW_ETIMEDOUT);
    return NULL;
}

START_TEST(test_timeout_over_a_group)
{
    job jobs[2] = { { .ms = 10 }, { .ms = 3000 } };
    ck_assert_int_eq(cw_run(timeout_group_main, jobs, NULL), 0);
}
END_TEST

START_TEST(test_timeout_bad_arguments)
{
    cw_timeout *cm = (cw_timeout *)1;
    ck_assert_int_eq(cw_timeout_enter(&cm, 10), CW_ENOTASK);
    ck_assert_ptr_null(cm);
    ck_assert_int_eq(cw_timeout_enter(NULL, 10), CW_EINVAL);
    ck_assert_int_eq(cw_timeout_exit(NULL, 0), CW_EINVAL);
    ck_assert_int_eq(cw_timeout_reschedule(NULL, 0), CW_EINVAL);
    ck_assert(cw_timeout_when(NULL) == CW_NO_TIMEOUT);
}
END_TEST

/* ------------------------------------------------------------ semaphores */

typedef struct sem_case {
    cw_semaphore *sem;
    int order[8], n_order;
    int holding, most;
    int acquire_rc[8];
} sem_case;

typedef struct sem_worker {
    sem_case *c;
    int id;
    uint64_t ms;
} sem_worker;

static void *sem_work(void *arg)
{
    sem_worker *w = arg;
    sem_case *c = w->c;
    c->acquire_rc[w->id] = cw_semaphore_acquire(c->sem);
    if (c->acquire_rc[w->id] < 0)
        return NULL;
    c->order[c->n_order++] = w->id;
    if (++c->holding > c->most)
        c->most = c->holding;
    cw_sleep(w->ms);
    c->holding--;
    cw_semaphore_release(c->sem);
    return NULL;
}

static void *sem_fifo_main(void *arg)
{
    sem_case *c = arg;
    c->sem = cw_semaphore_new(2);
    sem_worker w[6];
    cw_future *t[6];
    for (int i = 0; i < 6; i++) {
        w[i] = (sem_worker){ c, i, 10 * (uint64_t)(5 - i % 3) };
        t[i] = cw_spawn(sem_work, &w[i]);
    }
    cw_future *all = cw_gather(t, 6, false);
    cw_await(all);
    cw_future_release(all);
    cw_future_release_all(t, 6);
    ck_assert_int_eq(cw_semaphore_value(c->sem), 2);
    ck_assert_int_eq(cw_semaphore_free(c->sem), 0);
    return NULL;
}

/* Python: Semaphore(2), six workers of 50/40/30 ms: entry order 0..5, never more than 2 inside. */
START_TEST(test_semaphore_caps_and_is_fair)
{
    sem_case c = { 0 };
    ck_assert_int_eq(cw_run(sem_fifo_main, &c, NULL), 0);
    ck_assert_int_eq(c.n_order, 6);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(c.order[i], i);
    ck_assert_int_eq(c.most, 2);
}
END_TEST

/* A waiter cancelled in line holds no slot; one handed a slot and cancelled before it ran passes it on. */
static void *sem_cancel_main(void *arg)
{
    sem_case *c = arg;
    c->sem = cw_semaphore_new(1);
    sem_worker w[3] = { { c, 0, 50 }, { c, 1, 10 }, { c, 2, 10 } };
    cw_future *t[3];
    for (int i = 0; i < 3; i++)
        t[i] = cw_spawn(sem_work, &w[i]);
    cw_sleep(10); /* 0 holds the slot, 1 and 2 wait */
    ck_assert(cw_semaphore_locked(c->sem));
    cw_future_cancel(t[1]);
    cw_future *all = cw_gather(t, 3, true);
    cw_await(all);
    cw_future_release(all);
    ck_assert_int_eq(c->acquire_rc[1], CW_ECANCELLED);
    ck_assert_int_eq(c->acquire_rc[2], 0);
    ck_assert_int_eq(cw_semaphore_value(c->sem), 1);

    /* Handed the slot by a release, cancelled before it runs: the slot goes to the next in line. */
    ck_assert_int_eq(cw_semaphore_acquire(c->sem), 0);
    c->n_order = 0;
    sem_worker v[2] = { { c, 3, 1 }, { c, 4, 1 } };
    cw_future *u[2] = { cw_spawn(sem_work, &v[0]), cw_spawn(sem_work, &v[1]) };
    cw_sleep(10);
    cw_semaphore_release(c->sem); /* 3 is handed the slot... */
    cw_future_cancel(u[0]);       /* ...and cancelled before it could run */
    cw_future *both = cw_gather(u, 2, true);
    cw_await(both);
    cw_future_release(both);
    ck_assert_int_eq(c->acquire_rc[3], CW_ECANCELLED);
    ck_assert_int_eq(c->acquire_rc[4], 0);
    ck_assert_int_eq(c->n_order, 1);
    ck_assert_int_eq(c->order[0], 4);
    ck_assert_int_eq(cw_semaphore_value(c->sem), 1);
    cw_future_release_all(t, 3);
    cw_future_release_all(u, 2);
    cw_semaphore_free(c->sem);
    return NULL;
}

START_TEST(test_semaphore_cancelled_waiters)
{
    sem_case c = { 0 };
    ck_assert_int_eq(cw_run(sem_cancel_main, &c, NULL), 0);
}
END_TEST

static void *sem_free_main(void *arg)
{
    sem_case *c = arg;
    c->sem = cw_semaphore_new(0);
    sem_worker w = { c, 0, 1 };
    cw_future *t = cw_spawn(sem_work, &w);
    cw_sleep(10);
    ck_assert_int_eq(cw_semaphore_free(c->sem), CW_EPENDING); /* a task waits: not freed */
    cw_semaphore_release(c->sem);
    cw_await(t);
    cw_future_release(t);
    ck_assert_int_eq(cw_semaphore_free(c->sem), 0);
    return NULL;
}

START_TEST(test_semaphore_bad_arguments)
{
    ck_assert_ptr_null(cw_semaphore_new(-1));
    ck_assert_int_eq(cw_semaphore_acquire(NULL), CW_EINVAL);
    ck_assert_int_eq(cw_semaphore_release(NULL), CW_EINVAL);
    ck_assert(cw_semaphore_locked(NULL));
    cw_semaphore *s = cw_semaphore_new(0);
    ck_assert_int_eq(cw_semaphore_acquire(s), CW_ENOTASK); /* would wait, outside a task */
    ck_assert_int_eq(cw_semaphore_free(s), 0);
    sem_case c = { 0 };
    ck_assert_int_eq(cw_run(sem_free_main, &c, NULL), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("structured concurrency");
    TCase *tc = add_case(s, "task groups", 30, NULL, NULL);
    tcase_add_test(tc, test_group_waits_for_all);
    tcase_add_test(tc, test_group_first_failure_cancels_the_rest);
    tcase_add_test(tc, test_group_collects_every_error);
    tcase_add_test(tc, test_group_body_error_joins_the_errors);
    tcase_add_test(tc, test_group_parent_cancelled_in_body);
    tcase_add_test(tc, test_group_parent_cancelled_in_exit);
    tcase_add_test(tc, test_group_spawn_during_exit);
    tcase_add_test(tc, test_group_bad_arguments);
    tc = add_case(s, "timeout scopes", 30, NULL, NULL);
    tcase_add_test(tc, test_timeout_expires);
    tcase_add_test(tc, test_timeout_not_reached);
    tcase_add_test(tc, test_timeout_rescheduled);
    tcase_add_test(tc, test_timeout_nested_outer_owns);
    tcase_add_test(tc, test_timeout_nested_inner_owns);
    tcase_add_test(tc, test_timeout_external_cancel_stays_cancel);
    tcase_add_test(tc, test_timeout_over_a_group);
    tcase_add_test(tc, test_timeout_bad_arguments);
    tc = add_case(s, "semaphores", 30, NULL, NULL);
    tcase_add_test(tc, test_semaphore_caps_and_is_fair);
    tcase_add_test(tc, test_semaphore_cancelled_waiters);
    tcase_add_test(tc, test_semaphore_bad_arguments);
    return run_suite(s);
}
