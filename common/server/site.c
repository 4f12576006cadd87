/*
 * site.c -- a small generated web site with known defects, for link checkers (chapter 10).
 *
 * Pages /site/p/1 .. /site/p/39 form a tree under /site/ (page N links to 3N+1, 3N+2, 3N+3,
 * the index to 1, 2, 3), and every page links back to /site/ (a cycle). The pages answer after
 * 20 to 49 ms (7N mod 30 + 20), page 9 after 600 ms (the slow page). A few pages hold one more link
 * each: p/5 and p/11 to a missing page (404), p/7 to a failing one (500), p/13 to a page that
 * never answers, and p/2 to /site/moved/2, which redirects (301) to /site/new/2, a page linking
 * back to p/2. So a crawl from /site/ finds 40 pages plus the redirect's target, 4 broken links,
 * and 1 slow page, whatever order it goes in.
 */
#include <stdio.h>
#include <string.h>
#include "site.h"

enum { PAGES = 40, SLOW_PAGE = 9, SLOW_MS = 600 };

/* The number after @p prefix, or -1. */
static long number_after(const char *path, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    if (len <= n || len - n > 6 || memcmp(path, prefix, n) != 0)
        return -1;
    long v = 0;
    for (size_t i = n; i < len; i++) {
        if (path[i] < '0' || path[i] > '9')
            return -1;
        v = v * 10 + (path[i] - '0');
    }
    return v;
}

static void append(cw__site_answer *a, const char *text)
{
    size_t len = strlen(text);
    if (a->body_len + len < sizeof a->body) {
        memcpy(a->body + a->body_len, text, len + 1);
        a->body_len += len;
    }
}

/* A list item linking to href followed by n (n < 0: href alone). */
static void link(cw__site_answer *a, const char *href, long n)
{
    char line[96];
    if (n >= 0)
        snprintf(line, sizeof line, "<li><a href=\"%s%ld\">%s%ld</a></li>\n", href, n, href, n);
    else
        snprintf(line, sizeof line, "<li><a href=\"%s\">%s</a></li>\n", href, href);
    append(a, line);
}

/* Page @p n of the tree (0 is the index). */
static void page(cw__site_answer *a, long n)
{
    a->status = 200;
    a->delay_ms = n == SLOW_PAGE ? SLOW_MS : (unsigned)(7 * n % 30 + 20);
    a->body_len = (size_t)snprintf(a->body, sizeof a->body, "<html><body><h1>page %ld</h1><ul>\n", n);
    for (long child = 3 * n + 1; child <= 3 * n + 3 && child < PAGES; child++)
        link(a, "/site/p/", child);
    if (n > 0)
        link(a, "/site/", -1);
    if (n == 5 || n == 11)
        link(a, "/site/missing/", n);
    if (n == 7)
        link(a, "/site/error/", n);
    if (n == 13)
        link(a, "/site/stall/", n);
    if (n == 2)
        link(a, "/site/moved/", n);
    append(a, "</ul></body></html>\n");
}

bool cw__site_answer_for(const char *path, size_t len, cw__site_answer *a)
{
    if (len < 5 || memcmp(path, "/site", 5) != 0 || (len > 5 && path[5] != '/'))
        return false;
    memset(a, 0, sizeof *a);
    long n;
    if (len <= 6) {
        page(a, 0);
    } else if ((n = number_after(path, len, "/site/p/")) >= 1 && n < PAGES) {
        page(a, n);
    } else if (number_after(path, len, "/site/error/") >= 0) {
        a->status = 500;
    } else if (number_after(path, len, "/site/stall/") >= 0) {
        a->stall = true;
    } else if ((n = number_after(path, len, "/site/moved/")) >= 0) {
        a->status = 301;
        snprintf(a->location, sizeof a->location, "/site/new/%ld", n);
    } else if ((n = number_after(path, len, "/site/new/")) >= 0) {
        a->status = 200;
        a->body_len = (size_t)snprintf(a->body, sizeof a->body,
                                       "<html><body><p>moved here</p><a href=\"/site/p/%ld\">back</a></body></html>\n", n);
    } else {
        a->status = 404;
    }
    if (a->status >= 300 && a->body_len == 0)
        a->body_len = (size_t)snprintf(a->body, sizeof a->body, "%d\n", a->status);
    return true;
}
