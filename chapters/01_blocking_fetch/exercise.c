/*
 * exercise.c -- exercise 01: blocking fetches with libcurl's easy interface.
 *
 * Fill in the three TODOs; the contract is in exercise.h, hints are in hints.md.
 * Check your work with `make grade CH=01`.
 */
#include "exercise.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include "cw.h"

/* Given: frees the body and leaves the result empty. */
void fetch_result_free(fetch_result *result)
{
    if (!result)
        return;
    free(result->body);
    *result = (fetch_result){0};
}

int fetch_blocking(const char *url, fetch_result *out)
{
    /* TODO(01.1): fetch_blocking() as exercise.h states it. Helpers of your own go above this function. */
    (void)url;
    (void)out;
    return CW_EFAILED;
}

int fetch_with_timeout(const char *url, long timeout_ms, fetch_result *out)
{
    /* TODO(01.2): fetch_with_timeout() as exercise.h states it. */
    (void)url;
    (void)timeout_ms;
    (void)out;
    return CW_EFAILED;
}

int fetch_all_sequential(const char *const *urls, int n, fetch_result *results, interval *times)
{
    /* TODO(01.3): fetch_all_sequential() as exercise.h states it. */
    (void)urls;
    (void)n;
    (void)results;
    (void)times;
    return CW_EFAILED;
}
