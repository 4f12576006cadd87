/*
 * curl_loop.c -- the baseline: GETs through a bare libcurl multi loop, no library.
 *
 * What a careful C programmer writes without tasks or futures: one multi
 * handle, `limit` transfers in flight, curl_multi_poll() to wait, a new easy
 * handle per request, the body thrown away. bench runs it next to the same
 * requests made by tasks, so the library's cost shows as a ratio.
 *
 * Usage: curl_loop URL REQUESTS LIMIT
 * Prints "SECONDS FAILURES" on one line; with CW_BENCH_AGAIN=1, the same requests a second time in the
 * same process (its memory already touched) and "SECONDS FAILURES AGAIN", as tasks_get does.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static size_t discard(char *data, size_t size, size_t n, void *arg)
{
    (void)data;
    (void)arg;
    return size * n;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void start_one(CURLM *multi, const char *url)
{
    CURL *easy = curl_easy_init();
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L); /* as the library does: no signals in a program with a loop */
    curl_multi_add_handle(multi, easy);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: curl_loop URL REQUESTS LIMIT\n");
        return 2;
    }
    const char *url = argv[1];
    int requests = atoi(argv[2]), limit = atoi(argv[3]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)limit);
    int rounds = getenv("CW_BENCH_AGAIN") ? 2 : 1, failures = 0;
    double seconds[2];
    for (int round = 0; round < rounds; round++) {
        double start = now();
        int made = 0, finished = 0, running = 0;
        for (; made < requests && made < limit; made++)
            start_one(multi, url);
        while (finished < requests) {
            if (curl_multi_perform(multi, &running) != CURLM_OK)
                return 1;
            CURLMsg *msg;
            int left;
            while ((msg = curl_multi_info_read(multi, &left))) {
                if (msg->msg != CURLMSG_DONE)
                    continue;
                failures += msg->data.result != CURLE_OK;
                finished++;
                curl_multi_remove_handle(multi, msg->easy_handle);
                curl_easy_cleanup(msg->easy_handle);
                if (made < requests) {
                    start_one(multi, url);
                    made++;
                }
            }
            if (finished < requests && curl_multi_poll(multi, NULL, 0, 1000, NULL) != CURLM_OK)
                return 1;
        }
        seconds[round] = now() - start;
    }
    printf("%.6f %d", seconds[0], failures);
    if (rounds == 2)
        printf(" %.6f", seconds[1]);
    printf("\n");
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    return 0;
}
