/**
 * @file exercise.h
 * @brief Exercise 02: the connected-socket manager, an asynchronous context manager in C.
 *
 * Enter waits for a client to connect to a tcp_listener and accepts it; exit
 * closes the connection and waits until it is closed; with_connected_socket()
 * runs a body between the two so that exit runs on every path. All three
 * suspend the calling task, so call them inside a task (cw_run(), cw_spawn()).
 */
#ifndef EXERCISE_02_H
#define EXERCISE_02_H

#include <uv.h>
#include "cw.h"
#include "tcp_listener.h"

/** An accepted connection, valid between connected_socket_enter() and connected_socket_exit(). */
typedef struct connected_socket {
    uv_tcp_t tcp; /**< the connection's handle on the running loop; tcp.data is yours to use */
} connected_socket;

/**
 * @brief Enter: wait until a client connects to @p listener, then accept the connection into @p socket.
 *
 * Waiting suspends the calling task only: the loop and the other tasks keep
 * running meanwhile. The listener wakes a waiting task through
 * listener->waiting alone (see tcp_listener.h); whatever happened, that field
 * is NULL again when enter returns, so the listener never touches a future
 * enter no longer owns, and the listener can serve the next enter.
 * @param socket receives the connection: after a 0 return it is a handle on
 *               cw_loop() that connected_socket_exit() must close.
 * @param listener an open listener.
 * @return 0 when a connection was accepted; CW_ECANCELLED at once when the task
 *         is cancelled while waiting (then nothing was acquired: no handle to
 *         close, and the pending connection stays for the next enter); another
 *         negative code when accepting failed (and nothing is left open).
 */
int connected_socket_enter(connected_socket *socket, tcp_listener *listener);

/**
 * @brief Exit: close the connection and wait until libuv has closed it.
 *
 * libuv owns the handle's memory until its close callback has run. Exit
 * returns only after that, whatever happens meanwhile, even when the task is
 * cancelled (once or again) while exit waits, so that the caller may then
 * reuse or free the memory of @p socket at once. Nothing of exit's own is left
 * behind (no future, no callback) once it returned.
 * @param socket a connection entered with connected_socket_enter().
 * @return 0; CW_ECANCELLED when the task was cancelled while exit waited (the
 *         connection is closed all the same).
 */
int connected_socket_exit(connected_socket *socket);

/** The body of a with block: it runs while the connection is open and returns 0 or a negative code. */
typedef int (*socket_body_fn)(connected_socket *socket, void *arg);

/**
 * @brief `async with ConnectedSocket(listener) as socket: body(socket)`, in C.
 *
 * Enter; when that fails, return its error without running the body or exit.
 * Otherwise run @p body on the connection and then exit, whichever way the body
 * ended: normally, early, with an error, or because the task was cancelled
 * inside it. The connection is closed (exit has returned) before
 * with_connected_socket() returns.
 * @param listener an open listener.
 * @param body the code to run on the connection.
 * @param arg passed to @p body.
 * @return enter's error, else the body's error, else exit's result (0 when all went well).
 */
int with_connected_socket(tcp_listener *listener, socket_body_fn body, void *arg);

#endif
