/*
 * demo1_blocking.c -- the blocking fetch: libcurl's easy interface is Python's requests.get().
 *
 * Fetches /delay/300 three times, one after another. Each curl_easy_perform() holds the
 * thread until its whole response is in, so the three take about 3 x 300 ms, the timeline
 * shows their bars end to end, and the server never sees more than one connection open.
 * (The lesson's 3-second delays are scaled down to 300 ms.)
 *
 * Usage: demo1_blocking [--url URL]   (fetches URL itself three times, e.g. https://example.org/)
 */
#include <curl/curl.h>
#include <stdio.h>
#include "cw.h"
#include "cw_fixture.h"

enum { N = 3 };

//! [fetch]
/* libcurl hands the body over in pieces as they arrive; this demo only counts them. */
static size_t count_body(char *data, size_t size, size_t count, void *total)
{
    (void)data;
    *(size_t *)total += size * count;
    return size * count;
}

/* requests.get(url): returns once the whole response is in, or the fetch failed. */
static CURLcode fetch(const char *url, long *status, size_t *bytes)
{
    CURL *easy = curl_easy_init();
    if (!easy)
        return CURLE_OUT_OF_MEMORY;
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, count_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, bytes);
    CURLcode rc = curl_easy_perform(easy); /* connect, send, wait, read: the thread does nothing else */
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(easy);
    return rc;
}
//! [fetch]

int main(int argc, char **argv)
{
    char base[256], url[512];
    cw_fixture *fixture;
    if (cw_fixture_for_demo(argc, argv, base, sizeof base, &fixture) != 0)
        return 1;
    snprintf(url, sizeof url, "%s%s", base, fixture ? "/delay/300" : ""); /* --url: that page itself */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    cw_timeline_enable(true);

    printf("%d blocking fetches of %s, one after another:\n", N, url);
    int failed = 0;
    uint64_t t0 = cw_now_us();
//! [loop]
    for (int i = 0; i < N; i++) {
        char label[16];
        snprintf(label, sizeof label, "fetch %d", i + 1);
        int span = cw_timeline_begin(CW_SPAN_USER, label);
        long status = 0;
        size_t bytes = 0;
        CURLcode rc = fetch(url, &status, &bytes); /* the next fetch cannot start before this returns */
        cw_timeline_end(span, rc == CURLE_OK ? 0 : CW_EHTTP);
        if (rc == CURLE_OK)
            printf("  %s: status %ld, %zu bytes, done at %4llu ms\n", label, status, bytes,
                   (unsigned long long)(cw_now_us() - t0) / 1000);
        else
            printf("  %s: failed: %s\n", label, curl_easy_strerror(rc));
        failed += rc != CURLE_OK;
    }
//! [loop]
    printf("%d fetches took %llu ms: each one waited for the one before.\n", N,
           (unsigned long long)(cw_now_us() - t0) / 1000);
    if (fixture) {
        cw_fixture_stats stats = cw_fixture_stats_get(fixture);
        printf("Server: %ld connections accepted, at most %ld open at once, %ld requests answered.\n",
               stats.accepted, stats.max_open, stats.requests);
    }
    printf("\n");
    cw_timeline_print(stdout, "Timeline: one row per fetch, the bars end to end");

    cw_timeline_clear();
    curl_global_cleanup();
    cw_fixture_stop(fixture);
    return failed ? 1 : 0;
}
