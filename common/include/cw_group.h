/**
 * @file cw_group.h
 * @brief Task groups: asyncio.TaskGroup, where no task outlives the block that started it.
 *
 * Python's `async with` becomes two calls around the block, enter and exit:
 *
 * | asyncio                                   | this library                                   |
 * |-------------------------------------------|------------------------------------------------|
 * | `async with asyncio.TaskGroup() as tg:`   | `cw_task_group_enter(&tg)`                     |
 * | `tg.create_task(coro)`                    | `cw_task_group_spawn(tg, fn, arg)`             |
 * | leaving the block (body raised or not)    | `rc = cw_task_group_exit(tg, body_rc)`         |
 * | `except* Exception as eg: eg.exceptions`  | `cw_task_group_errors(tg, &n)`                 |
 *
 * The rules are asyncio's (Python 3.11):
 * - exit waits for every task of the group, whatever happened;
 * - the first task that fails cancels all the others, and the body too (the
 *   task that entered the group sees CW_ECANCELLED at its current await, so it
 *   reaches exit soon); the group takes that cancellation back at exit;
 * - a task that ends cancelled is not an error;
 * - exit returns CW_EGROUP when tasks failed, with every error collected, in the
 *   order they happened (an ExceptionGroup): nothing is lost, unlike gather,
 *   which reports the first error and leaves the rest running;
 * - cancelling the task that entered the group cancels every task of the group,
 *   and exit returns CW_ECANCELLED once they have all ended (unless some failed:
 *   errors come first).
 *
 * The group owns its tasks: cw_task_group_spawn() returns a borrowed pointer,
 * valid until cw_task_group_free(). A task's result is yours to free, as always.
 */
#ifndef CW_GROUP_H
#define CW_GROUP_H

#include "cw_task.h"

/** A task group (opaque). */
typedef struct cw_task_group cw_task_group;

/** One error a group collected: a failed task, or the body's own error. */
typedef struct cw_task_group_error {
    cw_future *task;     /**< the task that failed (borrowed), or NULL for the body's own error */
    int code;            /**< its error code */
    const char *message; /**< its message; valid until cw_task_group_free() */
} cw_task_group_error;

/**
 * @brief `async with asyncio.TaskGroup() as tg:` make a group owned by the calling task.
 * @param group receives the group (NULL on error).
 * @return 0, CW_EINVAL for a NULL @p group, CW_ENOTASK outside a task, CW_ENOMEM.
 *
 * @code
 * cw_task_group *tg;
 * if (cw_task_group_enter(&tg) < 0)
 *     return cw_fail(CW_ENOMEM, "no group");
 * cw_task_group_spawn(tg, fetch, "/get");
 * cw_task_group_spawn(tg, fetch, "/status/500");  // fails: cancels the first fetch
 * int rc = cw_task_group_exit(tg, 0);             // waits for both: CW_EGROUP
 * cw_task_group_free(tg);
 * @endcode
 */
int cw_task_group_enter(cw_task_group **group);

/**
 * @brief `tg.create_task(coro)`: start @p fn(arg) as a task of the group.
 * @param group the group.
 * @param fn the task's function.
 * @param arg its argument.
 * @param name a name for timelines, or NULL.
 * @return the task, borrowed (the group holds it until cw_task_group_free()), or NULL
 *         when the group is shutting down (a task failed, or it was cancelled) or has
 *         been exited, for bad arguments, or out of memory (asyncio raises RuntimeError).
 */
cw_future *cw_task_group_spawn(cw_task_group *group, cw_task_fn fn, void *arg, const char *name);

/**
 * @brief Leave the group's block: wait for every task of the group, then say how it went.
 *
 * Call it from the task that entered the group, once, with what the body
 * came to: 0 (or any value >= 0) when it went well, CW_ECANCELLED when an
 * await of the body was cancelled, another error when the body failed. A body
 * that did not go well cancels the group's tasks first; a body error joins the
 * group's errors (task NULL), as asyncio puts the block's exception in its
 * ExceptionGroup.
 * @param group the group.
 * @param body_rc the body's outcome.
 * @return 0; CW_EGROUP when there are errors (see cw_task_group_errors());
 *         CW_ECANCELLED when the calling task was cancelled (not by the group
 *         itself) and nothing failed; CW_EINVAL for NULL, a second exit, or a
 *         call from another task.
 */
int cw_task_group_exit(cw_task_group *group, int body_rc);

/**
 * @brief The errors the group collected, in the order they happened.
 * @param group the group.
 * @param n receives how many (0 when none).
 * @return the array (owned by the group, valid until cw_task_group_free()), or NULL when empty.
 *
 * @code
 * int n;
 * const cw_task_group_error *errors = cw_task_group_errors(tg, &n);
 * for (int i = 0; i < n; i++)
 *     printf("%s: %s\n", cw_error_name(errors[i].code), errors[i].message);
 * @endcode
 */
const cw_task_group_error *cw_task_group_errors(const cw_task_group *group, int *n);

/**
 * @brief How many tasks were spawned into the group.
 * @return the count, or 0 for NULL.
 */
int cw_task_group_size(const cw_task_group *group);

/**
 * @brief The i-th task spawned into the group (borrowed), or NULL when out of range.
 * @param group the group.
 * @param i 0 for the first task spawned.
 */
cw_future *cw_task_group_task(const cw_task_group *group, int i);

/**
 * @brief Free the group and release its tasks. NULL is ignored.
 *
 * Call it after cw_task_group_exit(). A group freed without exit (a bug)
 * cancels its unfinished tasks, which then end on their own.
 */
void cw_task_group_free(cw_task_group *group);

#endif
