/**
 * @file exercise.h
 * @brief Exercise 05: the sequential pitfall, written on purpose and then fixed.
 *
 * Each pair does the same work two ways: the pitfall creates a task (or a
 * request) and awaits it in the same step, so the next one starts only after
 * the previous one ended; the fix creates all of them first and then awaits
 * them, so they run at the same time. Every function suspends the calling
 * task: call them inside a task (cw_run(), cw_spawn()).
 */
#ifndef EXERCISE_05_H
#define EXERCISE_05_H

#include "cw.h"

/**
 * @brief The pitfall with tasks: spawn a task for args[i], await it, and only then go on to args[i + 1].
 *
 * `[await asyncio.create_task(fn(arg)) for arg in args]`: the tasks run one
 * after another. Every task is awaited, even after one has failed, and every
 * task you spawned is released before returning.
 * @param fn the task function.
 * @param args its n arguments, one per task.
 * @param n how many tasks.
 * @param results receives each task's result: results[i] for args[i] (NULL for a task that failed).
 * @return 0 when every task succeeded, else the error of the first task (in input order) that failed.
 */
int run_one_by_one(cw_task_fn fn, void *const *args, int n, void **results);

/**
 * @brief The fix with tasks: spawn a task for every argument first, then await them in order.
 *
 * `tasks = [asyncio.create_task(fn(arg)) for arg in args]; [await t for t in tasks]`:
 * the tasks run at the same time. Same contract as run_one_by_one().
 * @param fn the task function.
 * @param args its n arguments, one per task.
 * @param n how many tasks.
 * @param results receives each task's result: results[i] for args[i] (NULL for a task that failed).
 * @return 0 when every task succeeded, else the error of the first task (in input order) that failed.
 */
int run_all_at_once(cw_task_fn fn, void *const *args, int n, void **results);

/**
 * @brief The pitfall with requests: start a GET of urls[i], await it, and only then start the next one.
 *
 * A request starts as soon as it is made (cw_session_get()), so the pitfall is
 * making the next request only after awaiting the previous one.
 * @param session an open session.
 * @param urls the n URLs.
 * @param n how many.
 * @param statuses receives statuses[i] for urls[i]: the HTTP status, or the
 *        request's negative error code when it got no response.
 * @return 0 when every request got a response (a 404 is a response), else the
 *         error of the first request (in input order) that failed.
 */
int fetch_one_by_one(cw_session *session, const char *const *urls, int n, long *statuses);

/**
 * @brief The fix with requests: start every GET first, then await them in order.
 *
 * Same contract as fetch_one_by_one(); every request future is released before returning.
 * @param session an open session.
 * @param urls the n URLs.
 * @param n how many.
 * @param statuses receives statuses[i] for urls[i]: the HTTP status, or the request's negative error code.
 * @return 0 when every request got a response, else the error of the first request (in input order) that failed.
 */
int fetch_all_at_once(cw_session *session, const char *const *urls, int n, long *statuses);

#endif
