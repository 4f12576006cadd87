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
 * @brief The pitfall with tasks: one task per argument, each running only after the previous one ended.
 *
 * `[await asyncio.create_task(fn(arg)) for arg in args]`: task i + 1 starts
 * only once task i has ended, so no two run at the same time. A failure does
 * not stop the loop: every task runs to its end, and every task created is
 * released before returning.
 * @param fn the task function.
 * @param args its n arguments, one per task.
 * @param n how many tasks.
 * @param results receives each task's result: results[i] for args[i] (NULL for a task that failed).
 * @return 0 when every task succeeded, else the error of the first task (in input order) that failed.
 */
int run_one_by_one(cw_task_fn fn, void *const *args, int n, void **results);

/**
 * @brief The fix with tasks: one task per argument, all running at the same time.
 *
 * `tasks = [asyncio.create_task(fn(arg)) for arg in args]; [await t for t in tasks]`:
 * every task has started before any has ended. Otherwise the same contract as
 * run_one_by_one(): every task runs to its end (a failure stops nothing), and
 * all are released before returning.
 * @param fn the task function.
 * @param args its n arguments, one per task.
 * @param n how many tasks.
 * @param results receives each task's result: results[i] for args[i] (NULL for a task that failed).
 * @return 0 when every task succeeded, else the error of the first task (in input order) that failed.
 */
int run_all_at_once(cw_task_fn fn, void *const *args, int n, void **results);

/**
 * @brief The pitfall with requests: one GET per URL, each sent only after the previous one got its answer.
 *
 * A request starts as soon as it is made (cw_session_get()), so no two are in
 * flight at once here: one connection is enough. A failure does not stop the
 * loop; every request is released before returning.
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
 * @brief The fix with requests: every GET in flight at the same time.
 *
 * Every request is started before any is awaited, so they share the session's
 * pool (several connections at once). Otherwise the same contract as
 * fetch_one_by_one(); every request is released before returning.
 * @param session an open session.
 * @param urls the n URLs.
 * @param n how many.
 * @param statuses receives statuses[i] for urls[i]: the HTTP status, or the request's negative error code.
 * @return 0 when every request got a response, else the error of the first request (in input order) that failed.
 */
int fetch_all_at_once(cw_session *session, const char *const *urls, int n, long *statuses);

#endif
