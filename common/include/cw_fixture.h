/**
 * @file cw_fixture.h
 * @brief The fixture server: a small httpbin-like HTTP/1.1 server on loopback for demos and tests.
 *
 * It runs on its own thread with its own libuv loop, so a program (or a
 * forked Check test) starts it, talks to it over 127.0.0.1 and stops it.
 * Routes:
 *
 * | route                              | answer                                              |
 * |------------------------------------|-----------------------------------------------------|
 * | `GET /get`                         | 200, a small JSON body                              |
 * | `GET /delay/{ms}`                  | 200 after {ms} milliseconds (at most 600000); the connection stays usable |
 * | `GET /status/{code}`               | that status code                                    |
 * | `/redirect/{code}?more=N`, any method | that redirect (301, 302, 303, 307 or 308) to /anything, or with N > 0 (at most 100) to `/redirect/{code}?more=N-1` |
 * | `GET /bytes/{n}`                   | n bytes of body (at most 64 MiB)                    |
 * | `GET /drip?bytes=N&duration_ms=M`  | N bytes, one at a time, spread over M ms (defaults 10 bytes, 1000 ms) |
 * | `GET /stall`                       | reads the request, never answers                    |
 * | `GET /close`                       | headers announcing 1000 bytes, 16 of them, then a normal close (curl: partial file) |
 * | `GET /reset`                       | reads the request, then resets the connection (TCP RST) |
 * | `GET /reset_on_reuse`              | 200 like /get; the next request on that connection gets a reset 50 ms after it arrives (a keep-alive race) |
 * | `POST or PUT /echo`                | the request body back                               |
 * | `/post`, `/put`, `/patch`, `/delete`, `/anything` | 200, JSON naming the method; a wrong method gets 405 |
 * | `GET /site/...`                    | a generated site with known defects, for link checkers (below) |
 * | `GET /stats`                       | JSON: accepted, open, max_open, requests            |
 * | `GET /stats/reset`                 | zeroes the counters (max_open becomes the open count) |
 *
 * The site (common/server/site.c): /site/ and /site/p/1 .. /site/p/39 form a tree (page N links to
 * p/3N+1 .. p/3N+3, the index to p/1 .. p/3) and every page links back to /site/. Pages answer after
 * 20 to 49 ms, p/9 after 600 ms. p/5 and p/11 link to a missing page (404), p/7 to one that fails (500),
 * p/13 to one that never answers, p/2 to /site/moved/2, a 301 to /site/new/2 (which links back to
 * p/2). A crawl from /site/ finds 41 pages, 4 broken links and 1 slow page.
 * /site/S/ (S from 1 to 999999) is another site of the same plan drawn from the seed S: 24 to 47 pages,
 * 1 to 3 missing links, the other defects and the slow page elsewhere, and one more link a page to some
 * other page, so that pages are linked from several places (site.c says how).
 * `requests` counts answers only, and leaves out /stats and /stats/reset, so
 * reading the counters does not change them (and /stall is never counted).
 * `open` and `max_open` include the connection that asks for /stats.
 * A malformed request gets 400, a URL over 2 KiB 414, headers over 16 KiB
 * 431, a body over 8 MiB 413, and the connection is closed; a client that has
 * not sent its whole request (headers and body) within 10 s is dropped. Idle
 * keep-alive connections stay. A client that pipelines requests without
 * reading the answers is not read from while 1 MiB of answers waits for it.
 * A client that half-closes its side still gets the answers to the requests
 * it sent, except one waiting on a timer (/delay, /drip, /stall), which is
 * abandoned as if the client had gone.
 */
#ifndef CW_FIXTURE_H
#define CW_FIXTURE_H

/** A running fixture server (opaque). */
typedef struct cw_fixture cw_fixture;

/** The server's counters, as /stats reports them. */
typedef struct cw_fixture_stats {
    long accepted; /**< connections accepted since start or reset */
    long open;     /**< connections open now */
    long max_open; /**< most connections open at once since start or reset */
    long requests; /**< requests answered since start or reset */
} cw_fixture_stats;

/**
 * @brief Start a fixture server on its own thread, bound to 127.0.0.1.
 *
 * The first start calls cw_raise_open_file_limit() (cw_http.h), as the first
 * session does: thousands of connections need thousands of descriptors.
 * @param port the port to bind, 0 for any free port.
 * @return the server, or NULL when it could not bind (a message goes to stderr).
 *
 * @code
 * cw_fixture *fx = cw_fixture_start(0); // any free port on 127.0.0.1
 * char url[128];
 * cw_fixture_url(fx, "/delay/300", url, sizeof url);
 * // ... requests to url, inside cw_run() ...
 * printf("%ld connections accepted\n", cw_fixture_stats_get(fx).accepted);
 * cw_fixture_stop(fx);
 * @endcode
 */
cw_fixture *cw_fixture_start(int port);

/** @brief The port the server listens on. */
int cw_fixture_port(const cw_fixture *fixture);

/**
 * @brief Write "http://127.0.0.1:PORT/path" into @p out.
 * @param fixture the server.
 * @param path the path, starting with '/'.
 * @param out the buffer.
 * @param size its size.
 * @return @p out, for use inside a call.
 */
char *cw_fixture_url(const cw_fixture *fixture, const char *path, char *out, unsigned long size);

/** @brief Read the counters directly (the same numbers /stats serves). */
cw_fixture_stats cw_fixture_stats_get(const cw_fixture *fixture);

/** @brief Zero the counters, as /stats/reset does. */
void cw_fixture_stats_reset(cw_fixture *fixture);

/**
 * @brief Make every new connection cost @p ms milliseconds, as a handshake across the internet does.
 *
 * The server waits that long as it accepts a connection, so the first request on it is answered that much
 * later; later requests on the same (kept-alive) connection are not delayed. The whole server waits
 * meanwhile: meant for demos that open one connection at a time. 0, the default, makes connections free.
 * @param fixture the server.
 * @param ms the cost of each new connection.
 */
void cw_fixture_set_connect_cost(cw_fixture *fixture, unsigned ms);

/** @brief Stop the server, close every connection, join its thread and free it. NULL is ignored. */
void cw_fixture_stop(cw_fixture *fixture);

/**
 * @brief Open a loopback listener whose accept queue is full, so that connecting to it times out.
 *
 * This is how tests provoke a connect timeout without touching any address
 * but 127.0.0.1: the listener never accepts, and its backlog is filled first.
 * @param port receives the port.
 * @return a handle for cw_fixture_blackhole_close(), or -1 on failure.
 */
int cw_fixture_blackhole_open(int *port);

/** @brief Close a listener made by cw_fixture_blackhole_open() and its filler connections. */
void cw_fixture_blackhole_close(int handle);

/**
 * @brief For demos: where to send requests.
 *
 * With `--url URL` among the arguments, @p base gets URL exactly as given
 * (the page the demo fetches) and nothing is started; otherwise a fixture
 * server is started on a free loopback port and @p base gets its
 * "http://127.0.0.1:PORT", to which the demo appends its routes.
 * @param argc the program's argc.
 * @param argv the program's argv.
 * @param base receives the base URL.
 * @param size its size.
 * @param started receives the server to stop at the end, or NULL when --url was given.
 * @return 0, or -1 when the server could not start (a message goes to stderr).
 *
 * @code
 * int main(int argc, char **argv)
 * {
 *     char base[256];
 *     cw_fixture *fx;
 *     if (cw_fixture_for_demo(argc, argv, base, sizeof base, &fx) < 0)
 *         return 1;
 *     int rc = cw_run(demo, base, NULL); // demo() builds its URLs from base
 *     cw_fixture_stop(fx);               // NULL after --url: ignored
 *     return rc == 0 ? 0 : 1;
 * }
 * @endcode
 */
int cw_fixture_for_demo(int argc, char **argv, char *base, unsigned long size, cw_fixture **started);

#endif
