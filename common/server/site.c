/*
 * site.c -- small generated web sites with known defects, for link checkers (chapter 10).
 *
 * Every site is a tree of pages with a few defects, drawn from a seed; the same seed always gives the
 * same site, so a test can compute what a crawl must find (walk cw__site_answer_for() itself) and then
 * check a real crawl against it.
 *
 * Seed 0 lives at /site/ and is the site cw_fixture.h describes: pages /site/p/1 .. /site/p/39 form a
 * tree under /site/ (page N links to 3N+1, 3N+2, 3N+3, the index to 1, 2, 3), and every page links back
 * to /site/ (a cycle). The pages answer after 20 to 49 ms (7N mod 30 + 20), page 9 after 600 ms (the slow
 * page). A few pages hold one more link each: p/5 and p/11 to a missing page (404), p/7 to a failing one
 * (500), p/13 to a page that never answers, and p/2 to /site/moved/2, which redirects (301) to
 * /site/new/2, a page linking back to p/2. So a crawl from /site/ finds 40 pages plus the redirect's
 * target, 4 broken links, and 1 slow page, whatever order it goes in.
 *
 * Seed S (1 to 999999) lives at /site/S/ and follows the same plan with other numbers: 24 to 47 pages,
 * 2 to 4 children a page, 1 to 3 missing links, the defects and the slow page on other pages, delays
 * (7N + S) mod 30 + 20 ms, and one more link a page to some other page of the tree (so a page is linked
 * from several places, and a checker must not fetch it twice).
 */
#include <stdio.h>
#include <string.h>
#include "site.h"

enum { SEED_MAX = 999999, SLOW_MS = 600 };
enum { MISSING_1, MISSING_2, MISSING_3, ERROR_PAGE, STALL_PAGE, MOVED_PAGE, SLOW_PAGE, DEFECTS };

/* One site: its path prefix and the numbers drawn from its seed. */
typedef struct site {
    long seed;
    char prefix[24]; /* "/site/" or "/site/S/" */
    long pages;      /* pages 0 (the index) .. pages - 1 */
    long children;   /* page N links to N * children + 1 .. N * children + children */
    int missing;     /* how many of MISSING_1..3 are used */
    long defect[DEFECTS];
} site;

static unsigned long next_random(unsigned long *state)
{
    /* xorshift64: small, and the same sites on every machine */
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

static void site_draw(site *s, long seed)
{
    s->seed = seed;
    if (seed == 0) {
        *s = (site){ .pages = 40, .children = 3, .missing = 2, .defect = { 5, 11, 0, 7, 13, 2, 9 } };
        snprintf(s->prefix, sizeof s->prefix, "/site/");
        return;
    }
    snprintf(s->prefix, sizeof s->prefix, "/site/%ld/", seed);
    unsigned long state = 0x9E3779B97F4A7C15ul ^ (unsigned long)seed * 2654435761ul;
    s->pages = 24 + (long)(next_random(&state) % 24);
    s->children = 2 + seed % 3;
    s->missing = 1 + (int)(next_random(&state) % 3);
    for (int d = 0; d < DEFECTS; d++) {
        long page;
        bool taken;
        do { /* distinct pages, the index excluded */
            page = 1 + (long)(next_random(&state) % (unsigned long)(s->pages - 1));
            taken = false;
            for (int e = 0; e < d; e++)
                taken = taken || s->defect[e] == page;
        } while (taken);
        s->defect[d] = page;
    }
    for (int d = s->missing; d < MISSING_3 + 1; d++)
        s->defect[d] = 0;
}

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

/* A list item linking to the site's prefix + @p what + @p n (n < 0: the index). */
static void link(cw__site_answer *a, const site *s, const char *what, long n)
{
    char line[160];
    if (n >= 0)
        snprintf(line, sizeof line, "<li><a href=\"%s%s%ld\">%s%ld</a></li>\n", s->prefix, what, n, what, n);
    else
        snprintf(line, sizeof line, "<li><a href=\"%s\">home</a></li>\n", s->prefix);
    append(a, line);
}

/* Page @p n of the tree (0 is the index). */
static void page(cw__site_answer *a, const site *s, long n)
{
    a->status = 200;
    a->delay_ms = n == s->defect[SLOW_PAGE] ? SLOW_MS : (unsigned)((7 * n + s->seed) % 30 + 20);
    a->body_len = (size_t)snprintf(a->body, sizeof a->body, "<html><body><h1>page %ld</h1><ul>\n", n);
    for (long child = s->children * n + 1; child <= s->children * n + s->children && child < s->pages; child++)
        link(a, s, "p/", child);
    if (n > 0)
        link(a, s, "", -1);
    long other = (5 * n + s->seed) % s->pages;
    if (s->seed != 0 && other != 0 && other != n)
        link(a, s, "p/", other);
    for (int d = MISSING_1; d < s->missing; d++)
        if (n == s->defect[d])
            link(a, s, "missing/", n);
    if (n == s->defect[ERROR_PAGE])
        link(a, s, "error/", n);
    if (n == s->defect[STALL_PAGE])
        link(a, s, "stall/", n);
    if (n == s->defect[MOVED_PAGE])
        link(a, s, "moved/", n);
    append(a, "</ul></body></html>\n");
}

/* The seed at the start of @p path ("/site/S/..." or "/site/S"); 0 for "/site/...". Sets @p rest. */
static long seed_of(const char *path, size_t len, size_t *rest)
{
    size_t i = 6;
    long seed = 0;
    while (i < len && path[i] >= '0' && path[i] <= '9' && seed <= SEED_MAX)
        seed = seed * 10 + (path[i++] - '0');
    if (i == 6 || seed < 1 || seed > SEED_MAX || (i < len && path[i] != '/')) {
        *rest = 6; /* seed 0: what follows "/site/" */
        return 0;
    }
    *rest = i < len ? i + 1 : len;
    return seed;
}

bool cw__site_answer_for(const char *path, size_t len, cw__site_answer *a)
{
    if (len < 5 || memcmp(path, "/site", 5) != 0 || (len > 5 && path[5] != '/'))
        return false;
    memset(a, 0, sizeof *a);
    size_t at;
    site s;
    site_draw(&s, len <= 6 ? 0 : seed_of(path, len, &at));
    if (len <= 6)
        at = len;
    const char *p = path + at;
    size_t n_len = len - at;
    long n;
    if (n_len == 0) {
        page(a, &s, 0);
    } else if ((n = number_after(p, n_len, "p/")) >= 1 && n < s.pages) {
        page(a, &s, n);
    } else if ((n = number_after(p, n_len, "error/")) >= 0 && n == s.defect[ERROR_PAGE]) {
        a->status = 500;
    } else if ((n = number_after(p, n_len, "stall/")) >= 0 && n == s.defect[STALL_PAGE]) {
        a->stall = true;
    } else if ((n = number_after(p, n_len, "moved/")) >= 0 && n == s.defect[MOVED_PAGE]) {
        a->status = 301;
        snprintf(a->location, sizeof a->location, "%snew/%ld", s.prefix, n);
    } else if ((n = number_after(p, n_len, "new/")) >= 0 && n == s.defect[MOVED_PAGE]) {
        a->status = 200;
        a->body_len =
            (size_t)snprintf(a->body, sizeof a->body,
                             "<html><body><p>moved here</p><a href=\"%sp/%ld\">back</a></body></html>\n", s.prefix, n);
    } else {
        a->status = 404;
    }
    if (a->status >= 300 && a->body_len == 0)
        a->body_len = (size_t)snprintf(a->body, sizeof a->body, "%d\n", a->status);
    return true;
}
