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
    /* TODO(01.1): GET url with libcurl's easy interface and wait for the whole response.
     *  - curl_easy_init(); set CURLOPT_URL, and a CURLOPT_WRITEFUNCTION (+ CURLOPT_WRITEDATA)
     *    that appends each piece of body it is given to out->body, keeping a NUL after the end;
     *  - curl_easy_perform() returns once the response is in, or the fetch failed;
     *  - on CURLE_OK read the status with curl_easy_getinfo(..., CURLINFO_RESPONSE_CODE, ...);
     *  - curl_easy_cleanup(), then turn a failing CURLcode into a cw_error (table in exercise.h),
     *    leaving *out empty. A 404 is a response: return 0. */
    (void)url;
    (void)out;
    return CW_EFAILED;
}

int fetch_with_timeout(const char *url, long timeout_ms, fetch_result *out)
{
    /* TODO(01.2): the same fetch, limited to timeout_ms milliseconds (0 = no limit).
     *  One more option does it; share the code of TODO(01.1) rather than copy it. */
    (void)url;
    (void)timeout_ms;
    (void)out;
    return CW_EFAILED;
}

int fetch_all_sequential(const char *const *urls, int n, fetch_result *results, interval *times)
{
    /* TODO(01.3): fetch urls[0..n-1] one after another with fetch_blocking(), results in input order.
     *  - start with every results[i] and times[i] empty (zeroed);
     *  - read cw_now_us() just before and just after each fetch into times[i];
     *  - stop at the first failure and return its error; return 0 when all got a response. */
    (void)urls;
    (void)n;
    (void)results;
    (void)times;
    return CW_EFAILED;
}
