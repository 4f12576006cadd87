/*
 * exercise.c -- exercise 10: a concurrent link checker. Resolve and extract a
 * page's links (part 1), crawl a site with a bound, timeouts and a deadline
 * (part 2), print the report (part 3). See exercise.h for the contract,
 * hints.md when stuck, and `make grade CH=10` to check your work.
 */
#include <stdlib.h>
#include <string.h>
#include "exercise.h"

/* ---- Part 1 ---- */

int resolve_link(const char *base, const char *href, char *out, size_t size)
{
    /* TODO(10.1): check that base is an absolute http(s) URL; drop href's
     * #fragment; then build the URL by the kind of href (absolute, //host,
     * /path, ?query, empty, relative), remove the . and .. segments of its
     * path, and copy it to out when it fits. */
    (void)base;
    (void)href;
    (void)out;
    (void)size;
    return CW_EFAILED;
}

int extract_links(const char *page_url, const char *html, char (*links)[LC_URL_MAX], int max)
{
    /* TODO(10.2): find each href attribute and its quoted value; resolve it
     * against page_url; keep it unless refused or already kept. */
    (void)page_url;
    (void)html;
    (void)links;
    (void)max;
    return CW_EFAILED;
}

/* ---- Part 2 ---- */

int crawl(cw_session *session, const char *start_url, const crawl_options *options, crawl_report *report)
{
    /* TODO(10.3): check the arguments; a semaphore of max_in_flight; a
     * timeout scope of deadline_ms around a task group. Add the start page to
     * the report and spawn a task for it. Each task takes a slot, GETs its
     * link with the request timeout, gives the slot back, writes its result,
     * and when the page is on the start's site and answered 200, adds every
     * new link of it to the report and spawns a task for each. */
    (void)session;
    (void)start_url;
    (void)options;
    (void)report;
    return CW_EFAILED;
}

/* ---- Part 3 ---- */

int print_report(FILE *out, const crawl_report *report, double slow_ms)
{
    /* TODO(10.4): the BROKEN lines, the SLOW lines, the totals line; return
     * the number of broken links. */
    (void)out;
    (void)report;
    (void)slow_ms;
    return CW_EFAILED;
}
