/**
 * @file test_fixture.c
 * @brief Tests of the fixture server, spoken to with plain libcurl and raw sockets.
 *
 * Each test starts its own server (server_setup) and stops it (server_teardown),
 * so the tests also work in Check's fork mode.
 */
#include "cw_fixture.h"
#include "support.h"

#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* ------------------------------------------------------------ libcurl helpers */

/** What one transfer brought back. */
typedef struct reply {
    CURLcode rc;
    long status;
    char *body;
    size_t len;
    int writes;     /* how many pieces the body came in */
    char type[128]; /* Content-Type */
} reply;

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
    reply *r = arg;
    char *body = realloc(r->body, r->len + size * n + 1);
    if (body == NULL)
        return 0;
    memcpy(body + r->len, data, size * n);
    r->body = body;
    r->len += size * n;
    r->body[r->len] = '\0';
    r->writes++;
    return size * n;
}

static void reply_free(reply *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}

/** Point @p h at @p path on the server and collect into @p r. */
static void prepare(CURL *h, const char *path, reply *r)
{
    memset(r, 0, sizeof *r);
    curl_easy_setopt(h, CURLOPT_URL, url(path));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long) backstop(5000)); /* a backstop: longer under valgrind */
}

static void finish(CURL *h, reply *r)
{
    char *type = NULL;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &type);
    snprintf(r->type, sizeof r->type, "%s", type ? type : "");
}

/** One request on handle @p h (which may carry a connection from an earlier one). */
static reply perform(CURL *h, const char *path)
{
    reply r;
    prepare(h, path, &r);
    r.rc = curl_easy_perform(h);
    finish(h, &r);
    return r;
}

/** One request on a fresh handle; @p method NULL means GET, @p body NULL means none. */
static reply request(const char *method, const char *path, const char *body, size_t body_len, const char *type)
{
    CURL *h = curl_easy_init();
    struct curl_slist *headers = NULL;
    if (method)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) body_len);
    }
    if (type) {
        char line[160];
        snprintf(line, sizeof line, "Content-Type: %s", type);
        headers = curl_slist_append(headers, line);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    }
    reply r = perform(h, path);
    curl_easy_cleanup(h);
    curl_slist_free_all(headers);
    return r;
}

static reply get(const char *path)
{
    return request(NULL, path, NULL, 0, NULL);
}

/** GET @p path on @p n fresh handles at once until all finish; replies go into @p r (free them), results
 *  into @p codes. */
static void get_together(const char *path, int n, reply *r, CURLcode *codes)
{
    CURL *handles[16];
    ck_assert_msg(n <= 16, "at most 16 requests at once");
    CURLM *m = curl_multi_init();
    for (int i = 0; i < n; i++) {
        handles[i] = curl_easy_init();
        prepare(handles[i], path, &r[i]);
        curl_multi_add_handle(m, handles[i]);
    }
    int running = n;
    while (running > 0) {
        curl_multi_perform(m, &running);
        if (running > 0)
            curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m, &left)) != NULL) {
        for (int i = 0; i < n; i++)
            if (msg->msg == CURLMSG_DONE && msg->easy_handle == handles[i])
                codes[i] = msg->data.result;
    }
    for (int i = 0; i < n; i++) {
        curl_multi_remove_handle(m, handles[i]);
        finish(handles[i], &r[i]);
        curl_easy_cleanup(handles[i]);
    }
    curl_multi_cleanup(m);
}

/* ------------------------------------------------------------ raw socket helpers */

static int raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    ck_assert_msg(fd >= 0 && connect(fd, (struct sockaddr *) &addr, sizeof addr) == 0,
                  "a raw connection to the server should open");
    struct timeval t = { 3, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &t, sizeof t);
    return fd;
}

static void raw_send(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        ck_assert_msg(n > 0, "writing to the server should work");
        data += n;
        len -= (size_t) n;
    }
}

/** Read until EOF (or 3 s of silence) into @p out; @p eof says whether the server closed. */
static size_t raw_read_all(int fd, char *out, size_t size, bool *eof)
{
    size_t len = 0;
    *eof = false;
    while (len + 1 < size) {
        ssize_t n = read(fd, out + len, size - 1 - len);
        if (n <= 0) {
            *eof = n == 0;
            break;
        }
        len += (size_t) n;
    }
    out[len] = '\0';
    return len;
}

/** Send @p request on a new connection and read the whole answer. */
static size_t raw_exchange(const char *req, size_t req_len, char *out, size_t size, bool *eof)
{
    int fd = raw_connect(cw_fixture_port(fx));
    raw_send(fd, req, req_len);
    size_t n = raw_read_all(fd, out, size, eof);
    close(fd);
    return n;
}

/* ------------------------------------------------------------ routes */

START_TEST(test_get)
{
    reply r = get("/get");
    ck_assert_msg(r.rc == CURLE_OK, "GET /get should succeed, got: %s", curl_easy_strerror(r.rc));
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.type, "application/json");
    ck_assert_msg(r.body && strstr(r.body, "\"method\": \"GET\"") && strstr(r.body, "\"url\": \"/get\""),
                  "the body should name the method and URL, got: %s", r.body);
    reply_free(&r);

    r = request("POST", "/get", "x", 1, NULL);
    ck_assert_msg(r.status == 405, "POST /get should get 405, got %ld", r.status);
    reply_free(&r);

    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    r = perform(h, "/get");
    curl_off_t length = -1;
    curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
    curl_easy_cleanup(h);
    ck_assert_msg(r.rc == CURLE_OK && r.status == 200 && r.len == 0 && length > 0,
                  "HEAD /get should give 200, a Content-Length and no body");
    reply_free(&r);
}
END_TEST

START_TEST(test_delay)
{
    double start = now_ms();
    reply r = get("/delay/200");
    double took = now_ms() - start;
    ck_assert_msg(r.rc == CURLE_OK && r.status == 200, "GET /delay/200 should give 200");
    ck_assert_msg(took >= 190, "GET /delay/200 should take about 200 ms, took %.0f ms", took);
    ck_assert_msg(strstr(r.body, "\"delay_ms\": 200") != NULL, "the body should say the delay: %s", r.body);
    reply_free(&r);

    r = get("/delay/soon");
    ck_assert_msg(r.status == 400, "a delay that is no number should get 400, got %ld", r.status);
    reply_free(&r);
}
END_TEST

/* Ten delays at once end together: the server waits on timers, it does not sleep. */
START_TEST(test_delays_overlap)
{
    enum { N = 10 };
    reply r[N];
    CURLcode codes[N];
    cw_fixture_stats_reset(fx);
    double start = now_ms();
    get_together("/delay/300", N, r, codes);
    double took = now_ms() - start;
    for (int i = 0; i < N; i++) {
        ck_assert_msg(codes[i] == CURLE_OK && r[i].status == 200, "delay %d should give 200", i);
        reply_free(&r[i]);
    }
    cw_fixture_stats s = cw_fixture_stats_get(fx);
    ck_assert_msg(s.max_open == N, "the server should have held %d connections at once, saw %ld", N, s.max_open);
    ck_assert_msg(took < 2500, "ten 300 ms delays at once should end together (one after another: 3 s), took %.0f ms",
                  took);
}
END_TEST

START_TEST(test_status)
{
    const int codes[] = { 201, 204, 404, 418, 500, 503 };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        char path[32];
        snprintf(path, sizeof path, "/status/%d", codes[i]);
        reply r = get(path);
        ck_assert_msg(r.rc == CURLE_OK && r.status == codes[i], "%s should answer %d, got %ld (%s)", path,
                      codes[i], r.status, curl_easy_strerror(r.rc));
        reply_free(&r);
    }
    reply r = request("DELETE", "/status/404", NULL, 0, NULL);
    ck_assert_int_eq(r.status, 404);
    reply_free(&r);
    r = get("/status/999");
    ck_assert_msg(r.status == 400, "/status/999 should get 400, got %ld", r.status);
    reply_free(&r);
}
END_TEST

START_TEST(test_redirect)
{
    const int codes[] = { 301, 302, 303, 307, 308 };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        char req[128], out[1024], status[32];
        int len = snprintf(req, sizeof req, "PUT /redirect/%d HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                                            "Connection: close\r\n\r\nx", codes[i]);
        bool eof;
        raw_exchange(req, (size_t) len, out, sizeof out, &eof);
        snprintf(status, sizeof status, "HTTP/1.1 %d ", codes[i]);
        ck_assert_msg(strncmp(out, status, strlen(status)) == 0 && strstr(out, "\r\nLocation: /anything\r\n"),
                      "PUT /redirect/%d should answer %d with Location: /anything, got: %s", codes[i], codes[i], out);
    }
    char out[1024];
    bool eof;
    static const char chain[] = "GET /redirect/307?more=2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    raw_exchange(chain, sizeof chain - 1, out, sizeof out, &eof);
    ck_assert_msg(strstr(out, "\r\nLocation: /redirect/307?more=1\r\n"), "?more=2 should lead to ?more=1: %s", out);
    const char *bad[] = { "/redirect/300", "/redirect/304", "/redirect/309", "/redirect/x", "/redirect/301?more=101" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        reply r = get(bad[i]);
        ck_assert_msg(r.status == 400, "%s should get 400, got %ld", bad[i], r.status);
        reply_free(&r);
    }
}
END_TEST

START_TEST(test_bytes)
{
    const size_t sizes[] = { 0, 1, 26, 100000, 3 * 1024 * 1024 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char path[32];
        snprintf(path, sizeof path, "/bytes/%zu", sizes[i]);
        reply r = get(path);
        ck_assert_msg(r.rc == CURLE_OK && r.status == 200, "%s should give 200", path);
        ck_assert_msg(r.len == sizes[i], "%s should give %zu bytes, got %zu", path, sizes[i], r.len);
        size_t k = 0;
        while (k < r.len && r.body[k] == 'a' + (char) (k % 26))
            k++;
        ck_assert_msg(k == r.len, "byte %zu of %s should be '%c'", k, path, 'a' + (int) (k % 26));
        reply_free(&r);
    }
    reply r = get("/bytes/-1");
    ck_assert_int_eq(r.status, 400);
    reply_free(&r);
}
END_TEST

START_TEST(test_drip)
{
    CURL *h = curl_easy_init();
    double start = now_ms();
    reply r = perform(h, "/drip?bytes=5&duration_ms=250");
    double took = now_ms() - start;
    curl_off_t length = -1;
    curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
    curl_easy_cleanup(h);
    ck_assert_msg(r.rc == CURLE_OK && r.status == 200, "/drip should give 200");
    ck_assert_msg(length == 5, "/drip should announce Content-Length 5, got %ld", (long) length);
    ck_assert_msg(r.len == 5, "/drip should send 5 bytes, got %zu", r.len);
    ck_assert_msg(r.writes >= 3, "the bytes should arrive one by one, they came in %d pieces", r.writes);
    ck_assert_msg(took >= 240, "5 bytes over 250 ms should take 250 ms, took %.0f ms", took);
    reply_free(&r);

    r = get("/drip?bytes=lots");
    ck_assert_int_eq(r.status, 400);
    reply_free(&r);
}
END_TEST

START_TEST(test_stall_times_out)
{
    CURL *h = curl_easy_init();
    reply r;
    prepare(h, "/stall", &r);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 300L);
    r.rc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    ck_assert_msg(r.rc == CURLE_OPERATION_TIMEDOUT, "/stall should time out, got: %s", curl_easy_strerror(r.rc));
    ck_assert_msg(r.len == 0, "/stall should send nothing");
    reply_free(&r);
    ck_assert_msg(wait_open(0, 3000), "the server should notice the client left (open 0), open is %ld",
                  cw_fixture_stats_get(fx).open);
}
END_TEST

START_TEST(test_close_is_an_error)
{
    reply r = get("/close");
    ck_assert_msg(r.rc != CURLE_OK && r.rc != CURLE_OPERATION_TIMEDOUT,
                  "/close should end in a transfer error (not a timeout), got: %s", curl_easy_strerror(r.rc));
    reply_free(&r);
}
END_TEST

START_TEST(test_reset_is_an_error)
{
    reply r = get("/reset");
    ck_assert_msg(r.rc == CURLE_RECV_ERROR, "/reset should end in a receive error (connection reset), got: %s",
                  curl_easy_strerror(r.rc));
    reply_free(&r);
    ck_assert(wait_open(0, 3000));
}
END_TEST

START_TEST(test_echo)
{
    reply r = request("POST", "/echo", "hello, \"server\"", 15, "text/x-greeting");
    ck_assert_msg(r.rc == CURLE_OK && r.status == 200, "POST /echo should give 200");
    ck_assert_str_eq(r.body, "hello, \"server\"");
    ck_assert_str_eq(r.type, "text/x-greeting");
    reply_free(&r);

    size_t size = 1024 * 1024;
    char *big = malloc(size);
    for (size_t i = 0; i < size; i++)
        big[i] = (char) (i * 7);
    r = request("PUT", "/echo", big, size, "application/octet-stream");
    ck_assert_msg(r.rc == CURLE_OK && r.status == 200 && r.len == size && memcmp(r.body, big, size) == 0,
                  "PUT /echo should send back the same 1 MiB (got %zu bytes)", r.len);
    free(big);
    reply_free(&r);

    r = get("/echo");
    ck_assert_msg(r.status == 405, "GET /echo should get 405, got %ld", r.status);
    reply_free(&r);
}
END_TEST

START_TEST(test_methods)
{
    reply r = request("DELETE", "/delete", NULL, 0, NULL);
    ck_assert_msg(r.status == 200 && strstr(r.body, "\"method\": \"DELETE\""), "DELETE /delete: %s", r.body);
    reply_free(&r);
    r = get("/delete");
    ck_assert_msg(r.status == 405, "GET /delete should get 405, got %ld", r.status);
    reply_free(&r);

    const char *methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE" };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        r = request(methods[i], "/anything/x?y=1", i > 0 ? "k=v" : NULL, 3, NULL);
        char want[64];
        snprintf(want, sizeof want, "\"method\": \"%s\"", methods[i]);
        ck_assert_msg(r.status == 200 && strstr(r.body, want) && strstr(r.body, "\"url\": \"/anything/x?y=1\""),
                      "%s /anything/x should name the method and URL: %s", methods[i], r.body);
        if (i > 0)
            ck_assert_msg(strstr(r.body, "\"data\": \"k=v\"") != NULL, "the body should come back: %s", r.body);
        reply_free(&r);
    }
    r = request("POST", "/post", "a", 1, NULL);
    ck_assert_int_eq(r.status, 200);
    reply_free(&r);
    r = request("PUT", "/put", "a", 1, NULL);
    ck_assert_int_eq(r.status, 200);
    reply_free(&r);

    r = get("/no/such/route");
    ck_assert_int_eq(r.status, 404);
    reply_free(&r);
}
END_TEST

/* ------------------------------------------------------------ connections and counters */

START_TEST(test_keep_alive_reuse)
{
    cw_fixture_stats_reset(fx);
    CURL *h = curl_easy_init();
    for (int i = 0; i < 2; i++) {
        reply r = perform(h, "/get");
        ck_assert_msg(r.rc == CURLE_OK && r.status == 200, "GET /get %d should succeed", i);
        reply_free(&r);
    }
    cw_fixture_stats s = cw_fixture_stats_get(fx);
    ck_assert_msg(s.accepted == 1 && s.requests == 2 && s.open == 1,
                  "two requests on one handle should share a connection: want accepted 1, requests 2, "
                  "open 1; got accepted %ld, requests %ld, open %ld",
                  s.accepted, s.requests, s.open);
    curl_easy_cleanup(h);
    ck_assert(wait_open(0, 3000));
}
END_TEST

START_TEST(test_connection_close_is_respected)
{
    cw_fixture_stats_reset(fx);
    CURL *h = curl_easy_init();
    struct curl_slist *headers = curl_slist_append(NULL, "Connection: close");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    for (int i = 0; i < 2; i++) {
        reply r = perform(h, "/get");
        ck_assert_msg(r.rc == CURLE_OK && r.status == 200, "GET /get %d should succeed", i);
        reply_free(&r);
    }
    ck_assert_msg(wait_open(0, 3000), "the server should close a 'Connection: close' connection");
    ck_assert_int_eq(cw_fixture_stats_get(fx).accepted, 2);
    curl_easy_cleanup(h);
    curl_slist_free_all(headers);
}
END_TEST

START_TEST(test_stats_route)
{
    reply r = get("/get");
    reply_free(&r);
    r = get("/stats/reset");
    long accepted = -1, open = -1, max_open = -1, requests = -1;
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(sscanf(r.body, "{\"accepted\": %ld, \"open\": %ld, \"max_open\": %ld, \"requests\": %ld}",
                         &accepted, &open, &max_open, &requests) == 4, "unexpected /stats/reset body: %s", r.body);
    ck_assert_msg(accepted == 0 && open == 1 && max_open == 1 && requests == 0,
                  "after a reset: accepted 0, open 1, max_open 1, requests 0; got %s", r.body);
    reply_free(&r);

    CURL *h = curl_easy_init();
    reply a = perform(h, "/get"), b = perform(h, "/status/404"), c = perform(h, "/stats");
    ck_assert_msg(sscanf(c.body, "{\"accepted\": %ld, \"open\": %ld, \"max_open\": %ld, \"requests\": %ld}",
                         &accepted, &open, &max_open, &requests) == 4, "unexpected /stats body: %s", c.body);
    ck_assert_msg(accepted == 1 && requests == 2,
                  "/stats after two requests on one connection: accepted 1, requests 2 (itself not counted); got %s",
                  c.body);
    reply_free(&a);
    reply_free(&b);
    reply_free(&c);
    curl_easy_cleanup(h);
}
END_TEST

START_TEST(test_max_open)
{
    enum { N = 5 };
    reply r[N];
    CURLcode codes[N];
    cw_fixture_stats_reset(fx);
    get_together("/delay/200", N, r, codes);
    for (int i = 0; i < N; i++)
        reply_free(&r[i]);
    ck_assert(wait_open(0, 3000));
    cw_fixture_stats s = cw_fixture_stats_get(fx);
    ck_assert_msg(s.accepted == N && s.max_open == N && s.requests == N,
                  "five requests at once: want accepted 5, max_open 5, requests 5; got %ld, %ld, %ld", s.accepted,
                  s.max_open, s.requests);
    cw_fixture_stats_reset(fx);
    ck_assert_msg(cw_fixture_stats_get(fx).max_open == 0, "a reset with nothing open should make max_open 0");
}
END_TEST

/* A thousand clients connected at once, each served. */
START_TEST(test_many_connections)
{
    enum { N = 1000 };
    static int fds[N];
    static const char req[] = "GET /get HTTP/1.1\r\nHost: x\r\n\r\n";
    cw_fixture_stats_reset(fx);
    for (int i = 0; i < N; i++) {
        fds[i] = raw_connect(cw_fixture_port(fx));
        raw_send(fds[i], req, sizeof req - 1);
    }
    for (int i = 0; i < N; i++) {
        char buf[512];
        ssize_t n = read(fds[i], buf, sizeof buf - 1);
        ck_assert_msg(n > 12 && memcmp(buf, "HTTP/1.1 200", 12) == 0, "client %d should get 200", i);
    }
    cw_fixture_stats s = cw_fixture_stats_get(fx);
    for (int i = 0; i < N; i++)
        close(fds[i]);
    ck_assert_msg(s.accepted == N && s.max_open == N && s.requests == N,
                  "want accepted, max_open and requests all %d; got %ld, %ld, %ld", N, s.accepted, s.max_open,
                  s.requests);
    ck_assert(wait_open(0, 3000));
}
END_TEST

/* ------------------------------------------------------------ bad requests */

START_TEST(test_malformed_gets_400)
{
    static const char *bad[] = {
        "GARBAGE\r\n\r\n",
        "GET /get HTTP/9.x\r\n\r\n",
        "GET /get HTTP/1.1\r\nContent-Length: twelve\r\n\r\n",
        "\x01\x02\x03\x04\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char out[1024];
        bool eof;
        raw_exchange(bad[i], strlen(bad[i]), out, sizeof out, &eof);
        ck_assert_msg(strncmp(out, "HTTP/1.1 400 ", 13) == 0, "malformed request %zu should get 400, got: %.40s", i,
                      out);
        ck_assert_msg(eof, "the server should close after a 400");
    }
    reply r = get("/get");
    ck_assert_msg(r.status == 200, "the server should still serve after malformed requests");
    reply_free(&r);
}
END_TEST

START_TEST(test_limits)
{
    size_t size = 20 * 1024;
    char *req = malloc(size + 64);
    int n = snprintf(req, size + 64, "GET /get HTTP/1.1\r\nX-Big: ");
    memset(req + n, 'a', size);
    memcpy(req + n + size, "\r\n\r\n", 4);
    char out[1024];
    bool eof;
    raw_exchange(req, (size_t) n + size + 4, out, sizeof out, &eof);
    free(req);
    ck_assert_msg(strncmp(out, "HTTP/1.1 431 ", 13) == 0 && eof, "a 20 KiB header should get 431, got: %.40s", out);

    static const char huge[] = "POST /echo HTTP/1.1\r\nContent-Length: 100000000\r\n\r\n";
    raw_exchange(huge, sizeof huge - 1, out, sizeof out, &eof);
    ck_assert_msg(strncmp(out, "HTTP/1.1 413 ", 13) == 0 && eof, "a 100 MB body should get 413, got: %.40s", out);
}
END_TEST

/* A long header name that arrives in several pieces (http-parser reports each piece) is read safely. */
START_TEST(test_header_name_in_pieces)
{
    static const char start[] = "GET /get HTTP/1.1\r\nHost: x\r\nX-Long-Header-Name-";
    static char middle[12000];
    static const char end[] = ": 1\r\nContent-Type: text/plain\r\n\r\n";
    memset(middle, 'n', sizeof middle);
    int fd = raw_connect(cw_fixture_port(fx));
    raw_send(fd, start, sizeof start - 1);
    usleep(50 * 1000); /* separate reads on the server's side */
    raw_send(fd, middle, sizeof middle);
    usleep(50 * 1000);
    raw_send(fd, end, sizeof end - 1);
    char out[1024];
    ssize_t n = read(fd, out, sizeof out - 1);
    close(fd);
    out[n > 0 ? n : 0] = '\0';
    ck_assert_msg(strncmp(out, "HTTP/1.1 200 ", 13) == 0, "a long header name in pieces should be served, got: %.40s",
                  out);
    reply r = get("/get");
    ck_assert_msg(r.status == 200, "the server should still serve afterwards");
    reply_free(&r);
}
END_TEST

/* A client that sends its headers one byte at a time, forever, is dropped after the header timeout (10 s),
 * and meanwhile the server goes on serving everyone else. */
START_TEST(test_slow_headers_are_dropped)
{
    static const char head[] = "GET /get HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    int fd = raw_connect(cw_fixture_port(fx));
    double start = now_ms();
    bool closed = false, others_served = false;
    size_t sent = 0;
    while (!closed && now_ms() - start < 20000) {
        char byte = sent < sizeof head - 1 ? head[sent] : 'a';
        if (send(fd, &byte, 1, MSG_NOSIGNAL) != 1) {
            closed = true; /* the server reset the connection */
            break;
        }
        sent++;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 100) == 1) {
            char buf[256];
            ssize_t n = read(fd, buf, sizeof buf);
            closed = n <= 0 || memmem(buf, (size_t) n, "HTTP/1.1 2", 10) == NULL;
            ck_assert_msg(closed, "the slow client should get no answer, only a closed connection");
        }
        if (!others_served && now_ms() - start > 1000) {
            reply r = get("/get");
            others_served = r.status == 200;
            reply_free(&r);
            ck_assert_msg(others_served, "while one client trickles its headers, others should be served");
        }
    }
    double took = now_ms() - start;
    close(fd);
    ck_assert_msg(closed, "a client trickling its headers should be dropped within 20 s; %zu bytes sent", sent);
    ck_assert_msg(took > 5000, "it should be the 10 s header timeout that drops it, not something sooner (%.0f ms)",
                  took);
    ck_assert(wait_open(0, 3000));
}
END_TEST

/* A body sent one byte every 200 ms is dropped by the same 10 s request timeout as slow headers. */
START_TEST(test_slow_body_is_dropped)
{
    static const char head[] = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n";
    int fd = raw_connect(cw_fixture_port(fx));
    raw_send(fd, head, sizeof head - 1);
    double start = now_ms();
    bool closed = false;
    size_t sent = 0;
    while (!closed && now_ms() - start < 20000 && sent < 1000) {
        if (send(fd, "a", 1, MSG_NOSIGNAL) != 1)
            break; /* the server reset the connection */
        sent++;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 200) == 1) {
            char buf[256];
            ssize_t n = read(fd, buf, sizeof buf);
            ck_assert_msg(n <= 0, "the slow client should get no answer, only a closed connection");
            closed = true;
        }
    }
    double took = now_ms() - start;
    close(fd);
    ck_assert_msg(closed, "a client trickling its body should be dropped within 20 s; %zu bytes sent", sent);
    ck_assert_msg(took > 5000, "it should be the 10 s request timeout that drops it, not something sooner (%.0f ms)",
                  took);
    ck_assert(wait_open(0, 3000));
}
END_TEST

/* A client that pipelines requests and never reads the answers is not read from once 1 MiB of answers
 * waits for it: its writes soon block, however much it has to send. Then, reading, it gets every answer
 * for what it sent. */
START_TEST(test_pipelining_without_reading_is_throttled)
{
    enum { OFFER = 16 * 1024 * 1024 };
    static const char one[] = "GET /bytes/65536 HTTP/1.1\r\nHost: x\r\n\r\n";
    int fd = raw_connect(cw_fixture_port(fx));
    size_t written = 0;
    char batch[64 * (sizeof one - 1)];
    for (size_t i = 0; i < 64; i++)
        memcpy(batch + i * (sizeof one - 1), one, sizeof one - 1);
    while (written < OFFER) {
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        if (poll(&p, 1, 1000) != 1)
            break; /* nothing could be written for a second: the server stopped reading */
        ssize_t n = send(fd, batch, sizeof batch, MSG_DONTWAIT | MSG_NOSIGNAL);
        ck_assert_msg(n > 0 || errno == EAGAIN, "writing to the server should work");
        if (n > 0)
            written += (size_t)n;
    }
    ck_assert_msg(written < OFFER / 2, "the server should stop reading a client that does not read its answers; "
                  "it took %zu bytes of requests (%zu answers of 64 KiB)", written, written / (sizeof one - 1));
    /* Now read: the answers flow, the server reads on; then stop short and hang up. */
    char *buf = malloc(1 << 20);
    size_t got = 0;
    while (got < 8 * 65536) {
        ssize_t n = read(fd, buf, 1 << 20);
        ck_assert_msg(n > 0, "the answers should come once the client reads");
        got += (size_t)n;
    }
    free(buf);
    close(fd);
    ck_assert(wait_open(0, 5000));
}
END_TEST

/* A client that half-closes after its requests (shutdown(SHUT_WR): EOF for the server) still gets
 * every answer, then the server closes too. */
START_TEST(test_half_closed_client_gets_its_answers)
{
    static const char reqs[] = "GET /get HTTP/1.1\r\nHost: x\r\n\r\n"
                               "GET /bytes/16000000 HTTP/1.1\r\nHost: x\r\n\r\n"
                               "GET /status/404 HTTP/1.1\r\nHost: x\r\n\r\n";
    int fd = raw_connect(cw_fixture_port(fx));
    raw_send(fd, reqs, sizeof reqs - 1);
    shutdown(fd, SHUT_WR);
    usleep(100 * 1000); /* the server sees the EOF while most of the 16 MB answer still waits to be sent */
    size_t size = 20 * 1024 * 1024;
    char *out = malloc(size);
    bool eof;
    size_t n = raw_read_all(fd, out, size, &eof);
    close(fd);
    static const char get_answer[] = "\"url\": \"/get\"", not_found[] = "HTTP/1.1 404";
    bool first = memmem(out, n, get_answer, sizeof get_answer - 1) != NULL;
    char *last = memmem(out, n, not_found, sizeof not_found - 1);
    size_t last_at = last ? (size_t)(last - out) : 0;
    free(out);
    ck_assert_msg(first, "the first answer should come");
    ck_assert_msg(last != NULL && last_at > 16000000, "the 16 MB answer and then the 404 should come (%zu bytes read)",
                  n);
    ck_assert_msg(eof, "the server should close once everything is answered");
}
END_TEST

/* Three requests in one write: answered in order, the slow first one included. */
START_TEST(test_pipelined_in_order)
{
    static const char reqs[] = "GET /delay/100 HTTP/1.1\r\nHost: x\r\n\r\n"
                               "GET /status/404 HTTP/1.1\r\nHost: x\r\n\r\n"
                               "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\nlast";
    char out[4096];
    bool eof;
    raw_exchange(reqs, sizeof reqs - 1, out, sizeof out, &eof);
    char *first = strstr(out, "\"delay_ms\": 100");
    char *second = strstr(out, "HTTP/1.1 404");
    char *third = strstr(out, "\r\n\r\nlast");
    ck_assert_msg(first && second && third && first < second && second < third,
                  "pipelined answers should come in request order, got:\n%s", out);
    ck_assert_msg(eof, "the server should close after the 'Connection: close' request");
}
END_TEST

/* ------------------------------------------------------------ blackhole, lifecycle, helpers */

START_TEST(test_blackhole_connect_times_out)
{
    int port = 0;
    int hole = cw_fixture_blackhole_open(&port);
    ck_assert_msg(hole >= 0 && port > 0, "the blackhole should open");
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 200L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
    CURLcode rc = curl_easy_perform(h);
    ck_assert_msg(rc == CURLE_OPERATION_TIMEDOUT, "a connect to the blackhole should time out, got: %s",
                  curl_easy_strerror(rc));
    cw_fixture_blackhole_close(hole);
    rc = curl_easy_perform(h);
    ck_assert_msg(rc == CURLE_COULDNT_CONNECT, "after close the port should refuse, got: %s", curl_easy_strerror(rc));
    curl_easy_cleanup(h);
}
END_TEST

/* Stopping with a stalled request, a pending delay and an idle keep-alive connection neither hangs nor leaks. */
START_TEST(test_stop_with_open_connections)
{
    CURL *h[2];
    reply r[2];
    CURLM *m = curl_multi_init();
    const char *paths[] = { "/stall", "/delay/10000" };
    for (int i = 0; i < 2; i++) {
        h[i] = curl_easy_init();
        prepare(h[i], paths[i], &r[i]);
        curl_multi_add_handle(m, h[i]);
    }
    int idle = raw_connect(cw_fixture_port(fx));
    raw_send(idle, "GET /get HTTP/1.1\r\n\r\n", 21);
    double until = now_ms() + 3000;
    int running = 2;
    while (cw_fixture_stats_get(fx).requests < 1 || cw_fixture_stats_get(fx).open < 3) {
        ck_assert_msg(now_ms() < until, "three connections should open");
        curl_multi_perform(m, &running);
        curl_multi_poll(m, NULL, 0, 10, NULL);
    }
    double start = now_ms();
    cw_fixture_stop(fx);
    fx = NULL;
    double took = now_ms() - start;
    ck_assert_msg(took < 1000, "stopping should not wait for open connections, took %.0f ms", took);

    until = now_ms() + 3000;
    while (running > 0 && now_ms() < until) {
        curl_multi_perform(m, &running);
        curl_multi_poll(m, NULL, 0, 10, NULL);
    }
    ck_assert_msg(running == 0, "the clients should see their connections end");
    for (int i = 0; i < 2; i++) {
        curl_multi_remove_handle(m, h[i]);
        curl_easy_cleanup(h[i]);
        reply_free(&r[i]);
    }
    curl_multi_cleanup(m);
    close(idle);
}
END_TEST

START_TEST(test_start_on_a_busy_port_fails)
{
    cw_fixture *second = cw_fixture_start(cw_fixture_port(fx));
    ck_assert_msg(second == NULL, "a second server on the same port should not start");
}
END_TEST

START_TEST(test_url)
{
    char url[64], want[64];
    snprintf(want, sizeof want, "http://127.0.0.1:%d/get?x=1", cw_fixture_port(fx));
    ck_assert_str_eq(cw_fixture_url(fx, "/get?x=1", url, sizeof url), want);
    ck_assert_msg(cw_fixture_port(fx) > 0, "the port should be known");
}
END_TEST

START_TEST(test_for_demo)
{
    char base[128];
    cw_fixture *started = (cw_fixture *) 1;
    char *with_url[] = { "demo", "--url", "https://example.org/", NULL };
    ck_assert_int_eq(cw_fixture_for_demo(3, with_url, base, sizeof base, &started), 0);
    ck_assert_str_eq(base, "https://example.org/"); /* the page to fetch, exactly as given */
    ck_assert_msg(started == NULL, "with --url no server should start");

    char *without[] = { "demo", NULL };
    ck_assert_int_eq(cw_fixture_for_demo(1, without, base, sizeof base, &started), 0);
    ck_assert_msg(started != NULL, "without --url a server should start");
    char want[64];
    snprintf(want, sizeof want, "http://127.0.0.1:%d", cw_fixture_port(started));
    ck_assert_str_eq(base, want);
    cw_fixture_stop(started);
}
END_TEST

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    Suite *s = suite_create("fixture");
    TCase *tc = add_case(s, "server", (int) backstop(30), server_setup, server_teardown); /* longer under ASan */
    tcase_add_test(tc, test_get);
    tcase_add_test(tc, test_delay);
    tcase_add_test(tc, test_delays_overlap);
    tcase_add_test(tc, test_status);
    tcase_add_test(tc, test_redirect);
    tcase_add_test(tc, test_bytes);
    tcase_add_test(tc, test_drip);
    tcase_add_test(tc, test_stall_times_out);
    tcase_add_test(tc, test_close_is_an_error);
    tcase_add_test(tc, test_reset_is_an_error);
    tcase_add_test(tc, test_echo);
    tcase_add_test(tc, test_methods);
    tcase_add_test(tc, test_keep_alive_reuse);
    tcase_add_test(tc, test_connection_close_is_respected);
    tcase_add_test(tc, test_stats_route);
    tcase_add_test(tc, test_max_open);
    tcase_add_test(tc, test_many_connections);
    tcase_add_test(tc, test_malformed_gets_400);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_header_name_in_pieces);
    tcase_add_test(tc, test_slow_headers_are_dropped);
    tcase_add_test(tc, test_slow_body_is_dropped);
    tcase_add_test(tc, test_pipelining_without_reading_is_throttled);
    tcase_add_test(tc, test_half_closed_client_gets_its_answers);
    tcase_add_test(tc, test_pipelined_in_order);
    tcase_add_test(tc, test_blackhole_connect_times_out);
    tcase_add_test(tc, test_stop_with_open_connections);
    tcase_add_test(tc, test_start_on_a_busy_port_fails);
    tcase_add_test(tc, test_url);
    tcase_add_test(tc, test_for_demo);

    int failed = run_suite(s);
    curl_global_cleanup();
    return failed;
}
