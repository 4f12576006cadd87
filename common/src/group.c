/*
 * group.c -- task groups (asyncio.TaskGroup), built from done callbacks and cancellation.
 *
 * Each task of the group gets one done callback, task_done(): it counts the
 * task as finished, wakes exit when it was the last, and on the first failure
 * cancels every other task and the body (the task that entered the group),
 * which exit takes back with cw_task_uncancel(). Exit is a loop around one
 * future that the last task's callback resolves.
 */
#include <stdlib.h>
#include "cw_group.h"

struct cw_task_group {
    cw_future *parent; /* the task that entered the group (our reference) */
    cw_future **tasks; /* every task spawned, in order (our references) */
    int n_tasks, cap_tasks;
    int running;         /* tasks not finished yet */
    cw_future *all_done; /* what exit awaits: resolved when running reaches 0 */
    cw_task_group_error *errors;
    int n_errors, cap_errors;
    bool exiting, exited;
    bool aborting;                /* the tasks were cancelled: no new task may join */
    bool parent_cancel_requested; /* the group cancelled the body: exit takes it back */
};

int cw_task_group_enter(cw_task_group **group)
{
    if (!group)
        return CW_EINVAL;
    *group = NULL;
    cw_future *parent = cw_current_task();
    if (!parent)
        return CW_ENOTASK;
    cw_task_group *g = calloc(1, sizeof *g);
    if (!g)
        return CW_ENOMEM;
    g->parent = cw_future_retain(parent);
    *group = g;
    return 0;
}

static void add_error(cw_task_group *g, cw_future *task, int code, const char *message)
{
    if (g->n_errors == g->cap_errors) {
        int cap = g->cap_errors ? 2 * g->cap_errors : 4;
        cw_task_group_error *bigger = realloc(g->errors, (size_t)cap * sizeof *bigger);
        if (!bigger)
            return; /* out of memory: the error is lost, the group still fails */
        g->errors = bigger;
        g->cap_errors = cap;
    }
    g->errors[g->n_errors++] = (cw_task_group_error){ task, code, message };
}

/* Cancel every unfinished task; from now on no task may join. */
static void abort_tasks(cw_task_group *g)
{
    g->aborting = true;
    for (int i = 0; i < g->n_tasks; i++)
        if (!cw_future_done(g->tasks[i]))
            cw_future_cancel(g->tasks[i]);
}

static void task_done(cw_future *task, void *arg)
{
    cw_task_group *g = arg;
    if (--g->running == 0 && g->all_done)
        cw_future_resolve(g->all_done, NULL, NULL);
    if (cw_future_state(task) != CW_FAILED)
        return; /* a result, or cancelled: not an error */
    add_error(g, task, cw_future_error(task), cw_future_message(task));
    if (g->aborting || g->parent_cancel_requested)
        return;
    abort_tasks(g);
    if (!g->exiting && !cw_future_done(g->parent)) { /* interrupt the body: it should reach exit now */
        g->parent_cancel_requested = true;
        cw_future_cancel(g->parent);
    }
}

cw_future *cw_task_group_spawn(cw_task_group *g, cw_task_fn fn, void *arg, const char *name)
{
    if (!g || !fn || g->exited || g->aborting || (g->exiting && g->running == 0))
        return NULL;
    if (g->n_tasks == g->cap_tasks) {
        int cap = g->cap_tasks ? 2 * g->cap_tasks : 8;
        cw_future **bigger = realloc(g->tasks, (size_t)cap * sizeof *bigger);
        if (!bigger)
            return NULL;
        g->tasks = bigger;
        g->cap_tasks = cap;
    }
    cw_future *task = cw_spawn_named(fn, arg, name);
    if (!task)
        return NULL;
    if (cw_future_on_done(task, task_done, g) < 0) {
        cw_future_cancel(task); /* it has not started: it never will */
        cw_future_release(task);
        return NULL;
    }
    g->tasks[g->n_tasks++] = task;
    g->running++;
    return task;
}

int cw_task_group_exit(cw_task_group *g, int body_rc)
{
    if (!g || g->exiting || cw_current_task() != g->parent)
        return CW_EINVAL;
    g->exiting = true;
    bool propagate_cancel = body_rc == CW_ECANCELLED;
    if (body_rc < 0 && !g->aborting) /* the body failed or was cancelled: so are the tasks */
        abort_tasks(g);
    while (g->running > 0) {
        g->all_done = cw_future_new();
        /* Out of memory: look again on every loop turn rather than leave tasks behind. */
        int rc = g->all_done ? cw_await(g->all_done) : cw_sleep(0);
        cw_future_release(g->all_done);
        g->all_done = NULL;
        if (rc == CW_ECANCELLED && !g->aborting) { /* the caller was cancelled while waiting */
            propagate_cancel = true;
            abort_tasks(g);
        }
    }
    /* The cancellation the group sent the body was its own: take it back. */
    if (g->parent_cancel_requested && cw_task_uncancel(g->parent) == 0)
        propagate_cancel = false;
    g->exited = true;
    if (propagate_cancel && g->n_errors == 0)
        return CW_ECANCELLED;
    if (body_rc < 0 && body_rc != CW_ECANCELLED)
        add_error(g, NULL, body_rc, cw_strerror(body_rc));
    return g->n_errors > 0 ? CW_EGROUP : 0;
}

const cw_task_group_error *cw_task_group_errors(const cw_task_group *g, int *n)
{
    if (n)
        *n = g ? g->n_errors : 0;
    return g && g->n_errors > 0 ? g->errors : NULL;
}

int cw_task_group_size(const cw_task_group *g)
{
    return g ? g->n_tasks : 0;
}

cw_future *cw_task_group_task(const cw_task_group *g, int i)
{
    return g && i >= 0 && i < g->n_tasks ? g->tasks[i] : NULL;
}

void cw_task_group_free(cw_task_group *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->n_tasks; i++) {
        cw_future_remove_done(g->tasks[i], task_done, g);
        if (!cw_future_done(g->tasks[i]))
            cw_future_cancel(g->tasks[i]);
        cw_future_release(g->tasks[i]);
    }
    cw_future_release(g->all_done);
    cw_future_release(g->parent);
    free(g->tasks);
    free(g->errors);
    free(g);
}
