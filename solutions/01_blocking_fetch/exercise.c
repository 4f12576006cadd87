/*
 * exercise.c -- reference solution of exercise 01: blocking fetches with libcurl's easy interface.
 *
 * fetch_blocking() and fetch_with_timeout() share one helper; fetch_all_sequential()
 * is the `for url in urls: requests.get(url)` loop, with a clock read around each fetch.
 */
#include "exercise.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include "cw.h"

void fetch_result_free(fetch_result *result)
{
    if (!result)
        return;
    free(result->body);
    *result = (fetch_result){0};
}

/* libcurl hands the body over in pieces as they arrive: append each one, keep a NUL after the last.
 * Returning less than it gave makes curl_easy_perform() stop with CURLE_WRITE_ERROR. */
static size_t append_body(char *data, size_t size, size_t count, void *userdata)
{
    fetch_result *out = userdata;
    size_t n = size * count;
    char *body = realloc(out->body, out->body_len + n + 1);
    if (!body)
        return 0;
    memcpy(body + out->body_len, data, n);
    out->body = body;
    out->body_len += n;
    out->body[out->body_len] = '\0';
    return n;
}

/* The table in exercise.h: which libcurl failure is which cw_error. */
static int error_of(CURLcode code)
{
    switch (code) {
    case CURLE_OK:
        return 0;
    case CURLE_COULDNT_CONNECT:
        return CW_ECONNREFUSED;
    case CURLE_URL_MALFORMAT:
        return CW_EBADURL;
    case CURLE_UNSUPPORTED_PROTOCOL:
        return CW_ESCHEME;
    case CURLE_COULDNT_RESOLVE_HOST:
        return CW_EHOST;
    case CURLE_OPERATION_TIMEDOUT:
        return CW_ETIMEDOUT;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
        return CW_ECONNRESET;
    case CURLE_OUT_OF_MEMORY:
        return CW_ENOMEM;
    default:
        return CW_EHTTP;
    }
}

/* One blocking GET; timeout_ms 0 means no limit (libcurl's own default). */
static int fetch(const char *url, long timeout_ms, fetch_result *out)
{
    *out = (fetch_result){0};
    CURL *easy = curl_easy_init();
    if (!easy)
        return CW_ENOMEM;
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, append_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    CURLcode code = curl_easy_perform(easy); /* the thread waits here for the whole response */
    if (code == CURLE_OK) {
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &out->status);
        if (!out->body && !(out->body = calloc(1, 1))) /* an empty body is "", not NULL */
            code = CURLE_OUT_OF_MEMORY;
    }
    curl_easy_cleanup(easy);
    if (code != CURLE_OK)
        fetch_result_free(out); /* a failed fetch leaves no half body behind */
    return error_of(code);
}

int fetch_blocking(const char *url, fetch_result *out)
{
    return fetch(url, 0, out);
}

int fetch_with_timeout(const char *url, long timeout_ms, fetch_result *out)
{
    if (timeout_ms < 0) {
        *out = (fetch_result){0};
        return CW_EINVAL;
    }
    return fetch(url, timeout_ms, out);
}

int fetch_all_sequential(const char *const *urls, int n, fetch_result *results, interval *times)
{
    if (n < 0 || (n > 0 && (!urls || !results || !times)))
        return CW_EINVAL;
    for (int i = 0; i < n; i++) {
        results[i] = (fetch_result){0};
        times[i] = (interval){0};
    }
    for (int i = 0; i < n; i++) {
        times[i].start_us = cw_now_us();
        int rc = fetch_blocking(urls[i], &results[i]); /* returns only when this response is in */
        times[i].end_us = cw_now_us();
        if (rc < 0)
            return rc; /* like an exception in the loop: the rest is not fetched */
    }
    return 0;
}
