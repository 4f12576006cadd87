/* replaces: fetch_blocking fetch_with_timeout fetch_all_sequential */
/* expect: 1 graded a result must come from a real request */
/* Attack: a chapter 01 that never connects: it reads the URL and makes up the answer the tests expect
 * (the status in /status/N, N bytes for /bytes/N, a wait for /delay/N, a timeout for /stall). Every test of
 * a fetch also asks the server what it saw (its /stats counters), so this earns only the point that needs
 * no network: telling a malformed URL and an unknown scheme apart. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static int fake(const char *url, long timeout_ms, fetch_result *out)
{
    *out = (fetch_result){0};
    if (strncmp(url, "http://", 7) != 0)
        return CW_ESCHEME;
    const char *path = strchr(url + 7, '/');
    if (path == NULL || path == url + 7)
        return CW_EBADURL;
    long n = 0, status = 200;
    size_t len = 0;
    if (sscanf(path, "/status/%ld", &n) == 1)
        status = n;
    else if (sscanf(path, "/bytes/%ld", &n) == 1)
        len = (size_t)n;
    else if (sscanf(path, "/delay/%ld", &n) == 1)
        usleep((useconds_t)n * 1000);
    else if (strcmp(path, "/stall") == 0 && timeout_ms > 0) {
        usleep((useconds_t)timeout_ms * 1000);
        return CW_ETIMEDOUT;
    }
    char json[256] = "";
    if (len == 0)
        len = (size_t)snprintf(json, sizeof json, "{\"path\": \"%s\"}", path);
    out->body = malloc(len + 1);
    memset(out->body, 'x', len);
    if (len == strlen(json) && json[0] == '{')
        memcpy(out->body, json, len);
    out->body[len] = '\0';
    out->body_len = len;
    out->status = status;
    return 0;
}
int fetch_blocking(const char *url, fetch_result *out)
{
    return fake(url, 0, out);
}
int fetch_with_timeout(const char *url, long timeout_ms, fetch_result *out)
{
    return fake(url, timeout_ms, out);
}
int fetch_all_sequential(const char *const *urls, int n, fetch_result *results, interval *times)
{
    memset(results, 0, (size_t)n * sizeof *results);
    memset(times, 0, (size_t)n * sizeof *times);
    for (int i = 0; i < n; i++) {
        times[i].start_us = cw_now_us();
        int rc = fake(urls[i], 0, &results[i]);
        times[i].end_us = cw_now_us();
        if (rc != 0)
            return rc;
    }
    return 0;
}
