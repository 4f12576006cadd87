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
 * While no connection is pending, put a fresh future in listener->waiting and
 * await it (tcp_listener_on_connection() resolves it). Leave
 * listener->waiting NULL again before returning, whatever happened.
 * @param socket receives the connection.
 * @param listener an open listener.
 * @return 0 when a connection was accepted; CW_ECANCELLED when the task was
 *         cancelled while waiting (nothing to exit then); another negative
 *         code when accepting failed.
 */
int connected_socket_enter(connected_socket *socket, tcp_listener *listener);

/**
 * @brief Exit: close the connection and wait until libuv has closed it.
 *
 * Returns only after the handle's close callback has run, so that the caller
 * may then reuse or free the memory of @p socket.
 * @param socket a connection entered with connected_socket_enter().
 * @return 0, or a negative code when the wait was interrupted.
 */
int connected_socket_exit(connected_socket *socket);

/** The body of a with block: it runs while the connection is open and returns 0 or a negative code. */
typedef int (*socket_body_fn)(connected_socket *socket, void *arg);

/**
 * @brief `async with ConnectedSocket(listener) as socket: body(socket)`, in C.
 *
 * Enter; when that fails, return its error without running the body or exit.
 * Otherwise run @p body and then exit, whichever way the body ended: normally,
 * early, with an error, or because the task was cancelled inside it.
 * @param listener an open listener.
 * @param body the code to run on the connection.
 * @param arg passed to @p body.
 * @return enter's error, else the body's error, else exit's result (0 when all went well).
 */
int with_connected_socket(tcp_listener *listener, socket_body_fn body, void *arg);

#endif
