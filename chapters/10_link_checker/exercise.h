/**
 * @file exercise.h
 * @brief Exercise 10: a concurrent link checker, built from the pieces of the chapters before.
 *
 * Part 1: resolve_link() and extract_links() turn a page's href attributes
 * into absolute URLs.
 * Part 2: crawl() checks every link of a site from a start page: each URL
 * fetched once, never more than a bound of requests in flight, a timeout per
 * request and a deadline over the whole run, and nothing left running when it
 * returns, cancelled or not.
 * Part 3: print_report() says what the crawl found: broken links with the page
 * they are on, slow pages, totals.
 * crawl() suspends, so call it inside a task; the other functions do not.
 */
#ifndef EXERCISE_10_H
#define EXERCISE_10_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "cw.h"

enum {
    LC_URL_MAX = 512,  /**< the longest URL kept, its terminating NUL included */
    LC_MAX_LINKS = 2000 /**< the most links a report holds */
};

/* ---- Part 1: links ---- */

/**
 * @brief The absolute URL that @p href means on the page @p base, without its `#fragment`.
 *
 * As a browser reads a link: `http://...` and `https://...` (any case) stay as
 * they are; `//host/x` takes the base's scheme; `/x` the base's scheme, host
 * and port; `?q` the base's path; `""` and `#f` are the base itself; anything
 * else (`x`, `./x`, `../x`) is relative to the base's directory (its path up to
 * the last '/'), with `.` and `..` segments removed (`..` never climbs above
 * the root).
 * @param base the page's own URL: absolute, http or https.
 * @param href the link as written in the page.
 * @param out receives the URL.
 * @param size the size of @p out.
 * @return 0; CW_EINVAL when @p href is no http(s) link (`mailto:`, `javascript:`,
 *         `ftp://` ...: a scheme other than http and https), when @p base is no
 *         absolute http(s) URL, for NULL arguments, or when the URL does not fit
 *         in @p size bytes (then @p out is "").
 */
int resolve_link(const char *base, const char *href, char *out, size_t size);

/**
 * @brief The links of an HTML page, resolved against its URL, each once, in the order they appear.
 *
 * A link is the value of an `href` attribute (any case), quoted with `"` or
 * `'`: `<a href="x">`, `<A HREF='x'>`. Each value goes through
 * resolve_link(); those it refuses are left out, and so are repeats.
 * @param page_url the page's URL (the base of its relative links).
 * @param html the page, NUL-terminated.
 * @param links receives the URLs.
 * @param max how many fit in @p links.
 * @return how many were written (at most @p max: the rest are left out);
 *         CW_EINVAL for NULL arguments or a negative @p max.
 */
int extract_links(const char *page_url, const char *html, char (*links)[LC_URL_MAX], int max);

/* ---- Part 2: the crawl ---- */

/** What one link came to. */
typedef struct link_result {
    char url[LC_URL_MAX];  /**< the link's target, as extract_links() gives it (the start URL without its
                                #fragment) */
    char from[LC_URL_MAX]; /**< the URL of the first page found linking to it; "" for the start page */
    long status;           /**< the final response's status (redirects are followed); 0 when none came */
    int error;             /**< 0 for a status below 400; CW_EHTTP for 400 or more; the request's own error
                                (CW_ETIMEDOUT for its timeout); CW_ECANCELLED when it was not checked to the
                                end (the run's deadline passed, or the crawl was cancelled) */
    double ms;             /**< how long its request took, from sent to answered or failed; 0 if never sent */
} link_result;

/** What a crawl found: every distinct link, the start page first, in the order they were found. */
typedef struct crawl_report {
    link_result links[LC_MAX_LINKS]; /**< links[0 .. n-1] */
    int n;                           /**< how many */
    bool truncated;                  /**< true when more links were found than fit (they were not checked) */
} crawl_report;

/** How a crawl may go. */
typedef struct crawl_options {
    int max_in_flight;           /**< the most requests in flight at once, at least 1 */
    uint64_t request_timeout_ms; /**< each request's total timeout (0: the session's own) */
    uint64_t deadline_ms;        /**< the whole crawl's deadline, from the call (CW_NO_TIMEOUT: none) */
} crawl_options;

/**
 * @brief Check every link reachable from @p start_url on its site, concurrently.
 *
 * Sets `report->n` to 0 first, then the start page is links[0]. Every
 * distinct URL (as extract_links() writes it) is fetched once with a GET
 * through @p session, and appears once in the report. The links of a page are
 * followed when it answered 200 and it is on the start URL's site (the same
 * scheme, host and port): a link to another site is checked, not followed.
 * Never more than `max_in_flight` requests are in flight at once (the session
 * may allow more: do not change it or open another), and the bound is used:
 * while links wait, that many requests run. Each request has the total timeout
 * `request_timeout_ms`. The whole crawl stops at `deadline_ms`. When it
 * returns, for any reason, nothing it started is still running or waiting:
 * every request has ended or been cancelled.
 * @param session an open session.
 * @param start_url the first page: an absolute http(s) URL.
 * @param options the bound and the timeouts.
 * @param report receives the links and what they came to.
 * @return 0 once every link is checked (some may be broken: the report says);
 *         CW_ETIMEDOUT when the deadline passed first (the report holds what was
 *         found; unfinished links have CW_ECANCELLED); CW_ECANCELLED when the
 *         calling task was cancelled; CW_EINVAL for NULL arguments, a start URL
 *         that is no absolute http(s) URL, or `max_in_flight` < 1 (nothing is sent);
 *         CW_ENOMEM.
 */
int crawl(cw_session *session, const char *start_url, const crawl_options *options, crawl_report *report);

/* ---- Part 3: the report ---- */

/**
 * @brief Print what a crawl found, and count the broken links.
 *
 * First one line per broken link (error neither 0 nor CW_ECANCELLED), in
 * report order: `BROKEN <url> (<status>) on <from>` for a status of 400 or
 * more, `BROKEN <url> (<error name>) on <from>` otherwise, with
 * cw_error_name(); a broken start page has no ` on <from>`. Then one line per slow link (error 0, ms at least
 * @p slow_ms), in report order: `SLOW <url> (<ms> ms)`, ms printed as `%.0f`.
 * Last the totals: `<n> links: <ok> ok, <broken> broken, <unchecked> unchecked,
 * <slow> slow`, where ok counts the links with error 0 and unchecked those with
 * CW_ECANCELLED. Every line ends with a newline.
 * @param out where to print.
 * @param report the crawl's report.
 * @param slow_ms from how long a link counts as slow.
 * @return the number of broken links; CW_EINVAL for NULL arguments.
 */
int print_report(FILE *out, const crawl_report *report, double slow_ms);

#endif
