/**
 * @file test_site.c
 * @brief Tests of the fixture server's generated site (/site/...): what a link checker will be graded against.
 *
 * A plain breadth-first crawl, one request at a time, must find exactly the site that cw_fixture.h
 * describes: 41 pages, the 4 broken links with their source pages, the slow page, the redirect.
 */
#include "cw.h"
#include "support.h"
#include "../site_truth.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

enum { MAX_PAGES = 64 };

typedef struct crawl {
    char seen[MAX_PAGES][64]; /* paths, in the order found */
    char from[MAX_PAGES][64]; /* the page that linked to it first */
    int n_seen;
    long status[MAX_PAGES];
    int error[MAX_PAGES];
    double took_ms[MAX_PAGES];
    char final_url[MAX_PAGES][8]; /* "new" for the redirect's target page */
} crawl;

static int index_of(const crawl *c, const char *path)
{
    for (int i = 0; i < c->n_seen; i++)
        if (strcmp(c->seen[i], path) == 0)
            return i;
    return -1;
}

static void *crawl_main(void *arg)
{
    crawl *c = arg;
    cw_session_options options = cw_session_options_default();
    options.timeouts.total_ms = 1500; /* the page that never answers */
    cw_session *session;
    ck_assert_int_eq(cw_session_open(&session, &options), 0);
    snprintf(c->seen[0], sizeof c->seen[0], "/site/");
    c->n_seen = 1;
    for (int i = 0; i < c->n_seen; i++) {
        double start = now_ms();
        cw_future *request = cw_session_get(session, url(c->seen[i]));
        c->error[i] = cw_await(request);
        c->took_ms[i] = now_ms() - start;
        if (c->error[i] == 0) {
            const cw_response *r = cw_response_of(request);
            c->status[i] = r->status;
            snprintf(c->final_url[i], sizeof c->final_url[i], "%s", strstr(r->body, "moved here") ? "new" : "");
            for (const char *p = r->body; (p = strstr(p, "href=\"")) != NULL;) {
                p += 6;
                size_t len = strcspn(p, "\"");
                char path[64];
                snprintf(path, sizeof path, "%.*s", (int)len, p);
                if (index_of(c, path) < 0 && c->n_seen < MAX_PAGES) {
                    snprintf(c->seen[c->n_seen], sizeof c->seen[0], "%s", path);
                    memcpy(c->from[c->n_seen], c->seen[i], sizeof c->from[0]);
                    c->n_seen++;
                }
            }
        }
        cw_future_release(request);
    }
    cw_session_close(session);
    return NULL;
}

START_TEST(test_site_is_as_documented)
{
    static crawl c;
    memset(&c, 0, sizeof c);
    ck_assert_int_eq(cw_run(crawl_main, &c, NULL), 0);
    ck_assert_msg(c.n_seen == 45, "the crawl should meet 41 pages and 4 broken links, it met %d URLs", c.n_seen);
    int pages = 0, broken = 0;
    for (int i = 0; i < c.n_seen; i++) {
        if (c.error[i] == 0 && c.status[i] == 200)
            pages++;
        else
            broken++;
    }
    ck_assert_int_eq(pages, 41);
    ck_assert_int_eq(broken, 4);
    const struct {
        const char *path, *from;
        long status;
        int error;
    } bad[] = { { "/site/missing/5", "/site/p/5", 404, 0 },
                { "/site/missing/11", "/site/p/11", 404, 0 },
                { "/site/error/7", "/site/p/7", 500, 0 },
                { "/site/stall/13", "/site/p/13", 0, CW_ETIMEDOUT } };
    for (int k = 0; k < 4; k++) {
        int i = index_of(&c, bad[k].path);
        ck_assert_msg(i >= 0, "%s should be linked", bad[k].path);
        ck_assert_str_eq(c.from[i], bad[k].from);
        ck_assert_msg(c.status[i] == bad[k].status && c.error[i] == bad[k].error, "%s: status %ld, %s", bad[k].path,
                      c.status[i], cw_error_name(c.error[i]));
    }
    int slow = index_of(&c, "/site/p/9");
    ck_assert_msg(slow >= 0 && c.took_ms[slow] >= 550, "/site/p/9 should take 600 ms");
    for (int i = 0; i < c.n_seen; i++)
        if (i != slow && c.error[i] == 0)
            ck_assert_msg(c.took_ms[i] < backstop(500), "%s took %.0f ms", c.seen[i], c.took_ms[i]);
    int moved = index_of(&c, "/site/moved/2");
    ck_assert_msg(moved >= 0 && c.status[moved] == 200 && strcmp(c.final_url[moved], "new") == 0,
                  "/site/moved/2 should redirect to /site/new/2");
}
END_TEST

/* Every seed gives a site with the plan site.c states, and seed 0 is the documented one. */
START_TEST(test_seeded_sites_follow_the_plan)
{
    static site_truth t;
    site_truth_walk(0, &t);
    ck_assert_msg(t.n == 45 && t.pages == 41 && t.broken == 4 && t.slow == 1 && t.redirects == 1,
                  "seed 0: %d links, %d pages, %d broken, %d slow, %d redirects", t.n, t.pages, t.broken, t.slow,
                  t.redirects);
    int sizes[48] = { 0 };
    for (long seed = 1; seed <= 500; seed++) {
        site_truth_walk(seed, &t);
        int pages = t.pages - t.redirects; /* the tree's pages */
        ck_assert_msg(pages >= 24 && pages <= 47, "seed %ld: %d pages", seed, pages);
        ck_assert_msg(t.broken >= 3 && t.broken <= 5 && t.slow == 1 && t.redirects == 1,
                      "seed %ld: %d broken, %d slow, %d redirects", seed, t.broken, t.slow, t.redirects);
        ck_assert_msg(t.requests == t.n - 1 + t.redirects, "seed %ld: %ld requests for %d links", seed, t.requests,
                      t.n);
        for (int i = 1; i < t.n; i++)
            ck_assert_msg(strncmp(t.links[i].path, t.start, strlen(t.start)) == 0, "seed %ld links to %s", seed,
                          t.links[i].path);
        sizes[pages]++;
    }
    int different = 0;
    for (int i = 0; i < 48; i++)
        different += sizes[i] > 0;
    ck_assert_msg(different >= 20, "500 seeds gave only %d different site sizes", different);
    cw__site_answer a;
    ck_assert(cw__site_answer_for("/site/0/p/1", 11, &a) && a.status == 404);
    ck_assert(cw__site_answer_for("/site/1000000/", 14, &a) && a.status == 404);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("site");
    TCase *tc = add_case(s, "generated site", 60, server_setup, server_teardown);
    tcase_add_test(tc, test_site_is_as_documented);
    tcase_add_test(tc, test_seeded_sites_follow_the_plan);
    return run_suite(s);
}
