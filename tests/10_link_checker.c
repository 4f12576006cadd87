/*
 * 10_link_checker.c -- graded tests of exercise 10.
 *
 * The crawls run against a generated site of the fixture server (/site/S/, common/server/site.c), drawn
 * from a seed S picked at random for each run (CW_SITE_SEED=S picks it; every failure message names it).
 * The truth a crawl must find comes from walking the same site's answers in memory (site_truth.h).
 * Part 1 (resolve_link, extract_links): links read as a browser reads them.
 * Part 2 (crawl): every link found, once, with what it came to and the page it is on; the server
 * answers each URL once; never more than k requests in flight, and k reached (the server's most-open
 * figure); the run's deadline and a cancellation from outside both stop it, and afterwards the server
 * answers nothing more (nothing was left running); bad input sends nothing.
 * Part 3 (print_report): the lines and totals exercise.h states.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cw_fixture.h"
#include "grade.h"
#include "exercise.h"
#include "site_truth.h"

static long seed; /* the site every crawl of this run checks */

static double backstop(double ms)
{
    const char *scale = getenv("CW_TIMEOUT_SCALE");
    double factor = scale ? atof(scale) : 1.0;
    return ms * (factor > 1.0 ? factor : 1.0);
}

/* ---- Part 1 ---- */

static void check_resolves(const char *base, const char *href, const char *expected)
{
    char out[LC_URL_MAX];
    memset(out, 'x', sizeof out);
    int rc = resolve_link(base, href, out, sizeof out);
    ck_assert_msg(rc == 0, "resolve_link(\"%s\", \"%s\") should give \"%s\", it returned %s", base, href, expected,
                  cw_error_name(rc));
    ck_assert_msg(strcmp(out, expected) == 0, "resolve_link(\"%s\", \"%s\") should give \"%s\", not \"%s\"", base, href,
                  expected, out);
}

static void check_refuses(const char *base, const char *href, size_t size, const char *why)
{
    char out[LC_URL_MAX + 8];
    memset(out, 'x', sizeof out);
    int rc = resolve_link(base, href, out, size);
    ck_assert_msg(rc == CW_EINVAL, "resolve_link(\"%s\", \"%s\", size %zu) should return CW_EINVAL (%s), got %s (%s)",
                  base ? base : "NULL", href ? href : "NULL", size, why, cw_error_name(rc), rc == 0 ? out : "");
    for (size_t i = size; i < sizeof out; i++)
        ck_assert_msg(out[i] == 'x', "resolve_link() wrote past the %zu bytes it was given", size);
}

START_TEST(test_resolve_link)
{
    const char *base = "http://127.0.0.1:8080/docs/guide/page.html?v=1#top";
    check_resolves(base, "https://Example.org/a#b", "https://Example.org/a");
    check_resolves(base, "HTTP://h/x", "HTTP://h/x");
    check_resolves(base, "//other:81/x", "http://other:81/x");
    check_resolves(base, "/root.html", "http://127.0.0.1:8080/root.html");
    check_resolves(base, "next.html", "http://127.0.0.1:8080/docs/guide/next.html");
    check_resolves(base, "./next.html#part", "http://127.0.0.1:8080/docs/guide/next.html");
    check_resolves(base, "../up.html", "http://127.0.0.1:8080/docs/up.html");
    check_resolves(base, "../../../../top.html", "http://127.0.0.1:8080/top.html");
    check_resolves(base, "a/./b/../c?q=1", "http://127.0.0.1:8080/docs/guide/a/c?q=1");
    check_resolves(base, "?v=2", "http://127.0.0.1:8080/docs/guide/page.html?v=2");
    check_resolves(base, "#other", "http://127.0.0.1:8080/docs/guide/page.html?v=1");
    check_resolves(base, "", "http://127.0.0.1:8080/docs/guide/page.html?v=1");
    check_resolves("http://127.0.0.1:8080", "x.html", "http://127.0.0.1:8080/x.html");
    check_resolves("https://h/dir/", "..", "https://h/");
}
END_TEST

START_TEST(test_resolve_link_refuses)
{
    const char *base = "http://127.0.0.1/a/b.html";
    check_refuses(base, "mailto:someone@example.org", LC_URL_MAX, "not an http(s) link");
    check_refuses(base, "javascript:void(0)", LC_URL_MAX, "not an http(s) link");
    check_refuses(base, "ftp://127.0.0.1/file", LC_URL_MAX, "not an http(s) link");
    check_refuses("python://bad/", "x.html", LC_URL_MAX, "the base is no http(s) URL");
    check_refuses("/a/b.html", "x.html", LC_URL_MAX, "the base is no absolute URL");
    check_refuses("http:///a", "x.html", LC_URL_MAX, "the base has no host");
    check_refuses(NULL, "x.html", LC_URL_MAX, "NULL base");
    check_refuses(base, NULL, LC_URL_MAX, "NULL href");
    check_refuses(base, "a-long-name.html", 20, "the URL does not fit");
}
END_TEST

START_TEST(test_extract_links)
{
    const char *page = "<html><body>\n"
                       "<a href=\"one.html\">1</a> <A HREF='/two.html'>2</A>\n"
                       "<a class=\"x\" href = \"http://127.0.0.1:9/three\">3</a>\n"
                       "<a href=\"mailto:me@example.org\">mail</a>\n"
                       "<a href=\"one.html#again\">1 again</a>\n"
                       "<link rel=\"stylesheet\" href=\"../style.css\">\n"
                       "<a data-href=\"not-a-link.html\">x</a>\n"
                       "</body></html>\n";
    static char links[8][LC_URL_MAX];
    int n = extract_links("http://127.0.0.1/dir/index.html", page, links, 8);
    const char *expected[] = { "http://127.0.0.1/dir/one.html", "http://127.0.0.1/two.html",
                               "http://127.0.0.1:9/three", "http://127.0.0.1/style.css" };
    ck_assert_msg(n == 4, "extract_links() should find 4 links (mailto: refused, one.html once, data-href is no href), "
                  "it returned %d", n);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(strcmp(links[i], expected[i]) == 0, "links[%d] should be \"%s\", not \"%s\"", i, expected[i],
                      links[i]);
    n = extract_links("http://127.0.0.1/dir/index.html", page, links, 2);
    ck_assert_msg(n == 2, "extract_links(max 2) should write 2 links, it returned %d", n);
    ck_assert_msg(extract_links("http://127.0.0.1/", "<p>no links</p>", links, 8) == 0, "a page without links has 0");
    ck_assert_msg(extract_links(NULL, page, links, 8) == CW_EINVAL, "a NULL page_url is CW_EINVAL");
}
END_TEST

/* ---- Part 2 ---- */

/* One crawl, in a task of its own, against a fresh fixture server. */
typedef struct run {
    const char *start; /* a URL, or NULL for the site's start page */
    int k;
    uint64_t request_timeout_ms;
    uint64_t deadline_ms;
    uint64_t cancel_after_ms; /* cancel the calling task this long after it starts (0: never) */
    cw_fixture *fx;
    char base[64]; /* http://127.0.0.1:PORT */
    site_truth truth;
    cw_session *session;
    crawl_report *report;
    int rc;
    double took_ms;
    cw_fixture_stats at_return; /* the server's counters just after crawl() returned */
    long requests_later;        /* the server's answers 900 ms later (stopped crawls only) */
    cw_state caller_state;
} run;

static void *call_task(void *arg)
{
    run *r = arg;
    char start[128];
    if (r->start)
        snprintf(start, sizeof start, "%s", r->start);
    else
        snprintf(start, sizeof start, "%s%s", r->base, r->truth.start);
    crawl_options options = { .max_in_flight = r->k, .request_timeout_ms = r->request_timeout_ms,
                              .deadline_ms = r->deadline_ms };
    uint64_t began = cw_now_us();
    r->rc = crawl(r->session, start, &options, r->report);
    r->took_ms = (double)(cw_now_us() - began) / 1000.0;
    return NULL;
}

static void *run_main(void *arg)
{
    run *r = arg;
    if (cw_session_open(&r->session, NULL) != 0) /* limit 100: the bound is the crawl's to keep */
        return cw_fail(CW_EFAILED, "could not open a session");
    cw_fixture_stats_reset(r->fx);
    cw_future *caller = cw_spawn_named(call_task, r, "caller");
    if (r->cancel_after_ms) {
        cw_sleep(r->cancel_after_ms);
        cw_future_cancel(caller);
    }
    cw_await(caller);
    /* What crawl() sent before it returned may not have been read by the server yet (under valgrind
     * its thread waits its turn): give it a moment, so that only what was sent later counts as later. */
    cw_sleep((uint64_t)backstop(50));
    r->at_return = cw_fixture_stats_get(r->fx);
    r->caller_state = cw_future_state(caller);
    cw_future_release(caller);
    if (r->cancel_after_ms || r->deadline_ms != CW_NO_TIMEOUT) {
        cw_sleep((uint64_t)backstop(900)); /* longer than any page takes: one left running would be answered */
        r->requests_later = cw_fixture_stats_get(r->fx).requests;
    }
    cw_session_close(r->session);
    return NULL;
}

static run *new_run(int k)
{
    run *r = calloc(1, sizeof *r);
    ck_assert(r != NULL);
    r->report = calloc(1, sizeof *r->report);
    ck_assert(r->report != NULL);
    r->k = k;
    r->request_timeout_ms = (uint64_t)backstop(1000); /* the stalled page's; every other answers well before */
    r->deadline_ms = CW_NO_TIMEOUT;
    site_truth_walk(seed, &r->truth);
    return r;
}

static void start_run(run *r)
{
    r->fx = cw_fixture_start(0);
    ck_assert_msg(r->fx != NULL, "the fixture server did not start");
    snprintf(r->base, sizeof r->base, "http://127.0.0.1:%d", cw_fixture_port(r->fx));
    r->rc = 1;
    r->report->n = -1;
    int rc = cw_run(run_main, r, NULL);
    cw_fixture_stop(r->fx);
    ck_assert_msg(rc == 0, "the test's main task failed: %s", cw_error_name(rc));
}

static void free_run(run *r)
{
    free(r->report);
    free(r);
}

static void check_rc(const run *r, int expected, const char *why)
{
    ck_assert_msg(r->rc == expected, "crawl() of site %ld should return %s (%s), got %d (%s)", seed,
                  cw_error_name(expected), why, r->rc, cw_error_name(r->rc));
}

/* Where the report has @p path of the site (-1 if nowhere); fails when it has it twice. */
static int report_index(const run *r, const char *path)
{
    char url[LC_URL_MAX];
    snprintf(url, sizeof url, "%s%s", r->base, path);
    int at = -1;
    for (int i = 0; i < r->report->n; i++) {
        if (strcmp(r->report->links[i].url, url) == 0) {
            ck_assert_msg(at < 0, "site %ld: the report has %s twice (links[%d] and links[%d])", seed, url, at, i);
            at = i;
        }
    }
    return at;
}

static int expected_error(const truth_link *t)
{
    return t->status == 0 ? CW_ETIMEDOUT : t->status >= 400 ? CW_EHTTP : 0;
}

START_TEST(test_crawl_finds_every_link)
{
    run *r = new_run(4);
    start_run(r);
    check_rc(r, 0, "every link can be checked");
    ck_assert_msg(r->report->n == r->truth.n, "site %ld has %d distinct links (the start page included); the report "
                  "has %d", seed, r->truth.n, r->report->n);
    for (int i = 0; i < r->truth.n; i++) {
        const truth_link *t = &r->truth.links[i];
        int at = report_index(r, t->path);
        ck_assert_msg(at >= 0, "site %ld: the report misses %s%s (linked from %s)", seed, r->base, t->path,
                      t->from[0] ? t->from : "nowhere: the start page");
        const link_result *l = &r->report->links[at];
        ck_assert_msg(l->status == t->status && l->error == expected_error(t),
                      "site %ld: %s should be {status %ld, error %s}, the report says {status %ld, error %s}", seed,
                      l->url, t->status, cw_error_name(expected_error(t)), l->status, cw_error_name(l->error));
    }
    ck_assert_msg(report_index(r, r->truth.start) == 0, "site %ld: links[0] should be the start page", seed);
    free_run(r);
}
END_TEST

START_TEST(test_crawl_broken_links_have_their_page)
{
    run *r = new_run(4);
    start_run(r);
    check_rc(r, 0, "every link can be checked");
    int broken = 0;
    for (int i = 0; i < r->truth.n; i++) {
        const truth_link *t = &r->truth.links[i];
        if (t->status == 200)
            continue;
        broken++;
        int at = report_index(r, t->path);
        ck_assert_msg(at >= 0, "site %ld: the report misses the broken link %s%s", seed, r->base, t->path);
        char from[LC_URL_MAX];
        snprintf(from, sizeof from, "%s%s", r->base, t->from);
        ck_assert_msg(strcmp(r->report->links[at].from, from) == 0,
                      "site %ld: the broken link %s is on %s, the report says it was found on \"%s\"", seed,
                      r->report->links[at].url, from, r->report->links[at].from);
    }
    ck_assert_msg(broken == r->truth.broken && broken >= 3, "site %ld: the truth has %d broken links", seed, broken);
    free_run(r);
}
END_TEST

START_TEST(test_crawl_fetches_each_url_once)
{
    run *r = new_run(4);
    start_run(r);
    check_rc(r, 0, "every link can be checked");
    ck_assert_msg(r->at_return.requests == r->truth.requests,
                  "site %ld: the server answered %ld requests; fetching each of its %d URLs once (the one that never "
                  "answers aside, a redirect counting twice) makes %ld: %s", seed, r->at_return.requests, r->truth.n,
                  r->truth.requests,
                  r->at_return.requests > r->truth.requests ? "some URL was fetched more than once"
                                                            : "some URL was never fetched");
    free_run(r);
}
END_TEST

START_TEST(test_crawl_bound_kept_and_reached)
{
    run *r = new_run(3);
    start_run(r);
    check_rc(r, 0, "every link can be checked");
    ck_assert_msg(r->at_return.max_open <= 3,
                  "site %ld: the server saw %ld connections open at once: crawl(max_in_flight = 3) should never have "
                  "more than 3 requests in flight", seed, r->at_return.max_open);
    ck_assert_msg(r->at_return.max_open == 3,
                  "site %ld: the server never saw more than %ld connections open at once: with dozens of links "
                  "waiting, crawl(max_in_flight = 3) should keep 3 requests in flight", seed, r->at_return.max_open);
    ck_assert_msg(r->report->n == r->truth.n, "site %ld: %d links in the report, %d on the site", seed, r->report->n,
                  r->truth.n);
    free_run(r);
}
END_TEST

START_TEST(test_crawl_times_each_request)
{
    run *r = new_run(1); /* one at a time: each broken link must give its slot back, or the crawl stops */
    start_run(r);
    check_rc(r, 0, "every link can be checked");
    ck_assert_msg(r->report->n == r->truth.n, "site %ld: %d links in the report, %d on the site", seed, r->report->n,
                  r->truth.n);
    ck_assert_msg(r->at_return.max_open == 1, "site %ld: crawl(max_in_flight = 1) had %ld connections open at once",
                  seed, r->at_return.max_open);
    for (int i = 0; i < r->truth.n; i++) {
        const truth_link *t = &r->truth.links[i];
        const link_result *l = &r->report->links[report_index(r, t->path)];
        if (t->delay_ms >= 500)
            ck_assert_msg(l->ms >= t->delay_ms - 50, "site %ld: %s takes %u ms to answer; the report says %.0f ms",
                          seed, l->url, t->delay_ms, l->ms);
        else if (t->status == 0)
            ck_assert_msg(l->ms >= 900, "site %ld: %s timed out after 1000 ms; the report says %.0f ms", seed,
                          l->url, l->ms);
        else
            ck_assert_msg(l->ms > 0 && l->ms < backstop(500), "site %ld: %s answers within 50 ms; the report says "
                          "%.0f ms", seed, l->url, l->ms);
    }
    free_run(r);
}
END_TEST

/* A crawl stopped part-way: what was checked stays, the rest is unchecked, and nothing runs on. */
static void check_stopped(const run *r, const char *how)
{
    double stopped_at = (double)(r->cancel_after_ms ? r->cancel_after_ms : r->deadline_ms);
    ck_assert_msg(r->took_ms < stopped_at + backstop(1000), "site %ld: crawl() took %.0f ms, stopped by %s at %.0f ms",
                  seed, r->took_ms, how, stopped_at);
    ck_assert_msg(r->report->n >= 2 && r->report->n <= r->truth.n,
                  "site %ld: the report should hold what was found before %s, it has %d links", seed, how,
                  r->report->n);
    ck_assert_msg(r->report->links[0].error == 0, "site %ld: the start page was checked before %s: links[0] should "
                  "have error 0, not %s", seed, how, cw_error_name(r->report->links[0].error));
    int unchecked = 0;
    for (int i = 0; i < r->report->n; i++) {
        const link_result *l = &r->report->links[i];
        unchecked += l->error == CW_ECANCELLED;
        ck_assert_msg(l->error != 0 || (l->status >= 200 && l->status < 400),
                      "site %ld: %s has error 0 but status %ld: a link not checked to the end before %s should have "
                      "error CW_ECANCELLED", seed, l->url, l->status, how);
    }
    ck_assert_msg(unchecked > 0, "site %ld: links not checked when %s happened should have error CW_ECANCELLED: "
                  "none has", seed, how);
    ck_assert_msg(r->requests_later == r->at_return.requests,
                  "site %ld: the server answered %ld requests by the time crawl() returned, and %ld by 900 ms later: "
                  "requests (or tasks) of the crawl were still running after %s", seed, r->at_return.requests,
                  r->requests_later, how);
}

START_TEST(test_crawl_deadline)
{
    run *r = new_run(2);
    r->deadline_ms = (uint64_t)backstop(400); /* the stalled page alone takes longer: 1000 ms */
    start_run(r);
    check_rc(r, CW_ETIMEDOUT, "the whole site takes longer than the 400 ms deadline");
    ck_assert_msg(r->took_ms >= (double)r->deadline_ms - 50, "site %ld: crawl() returned after %.0f ms, before its "
                  "%.0f ms deadline", seed, r->took_ms, (double)r->deadline_ms);
    check_stopped(r, "the deadline");
    free_run(r);
}
END_TEST

START_TEST(test_crawl_cancelled)
{
    run *r = new_run(2);
    r->cancel_after_ms = (uint64_t)backstop(300);
    start_run(r);
    check_rc(r, CW_ECANCELLED, "the calling task was cancelled at 300 ms");
    ck_assert_msg(r->caller_state == CW_CANCELLED, "the calling task should end cancelled");
    check_stopped(r, "the cancellation");
    free_run(r);
}
END_TEST

START_TEST(test_crawl_bad_input)
{
    const struct {
        const char *start;
        int k;
    } bad[] = { { "python://bad/", 2 }, { "not a url", 2 }, { "http:///no-host", 2 }, { NULL, 0 } };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        run *r = new_run(bad[i].k);
        r->start = bad[i].start;
        start_run(r);
        ck_assert_msg(r->rc == CW_EINVAL, "crawl(start \"%s\", max_in_flight %d) should return CW_EINVAL, got %s",
                      bad[i].start ? bad[i].start : "(the site's)", bad[i].k, cw_error_name(r->rc));
        ck_assert_msg(r->at_return.requests == 0 && r->at_return.accepted == 0,
                      "crawl(start \"%s\", max_in_flight %d) should send nothing", bad[i].start ? bad[i].start : "",
                      bad[i].k);
        free_run(r);
    }
}
END_TEST

/* ---- Part 3 ---- */

START_TEST(test_print_report)
{
    static crawl_report report;
    memset(&report, 0, sizeof report);
    const link_result links[] = {
        { "http://h/", "", 200, 0, 30 },
        { "http://h/a", "http://h/", 200, 0, 700.4 },
        { "http://h/gone", "http://h/a", 404, CW_EHTTP, 20 },
        { "http://h/stall", "http://h/", 0, CW_ETIMEDOUT, 1000 },
        { "http://h/later", "http://h/a", 0, CW_ECANCELLED, 0 },
        { "http://h/b", "http://h/", 200, 0, 250 },
        { "http://h/fail", "http://h/b", 500, CW_EHTTP, 600 },
    };
    report.n = sizeof links / sizeof links[0];
    memcpy(report.links, links, sizeof links);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    ck_assert(out != NULL);
    int broken = print_report(out, &report, 250);
    fclose(out);
    const char *expected = "BROKEN http://h/gone (404) on http://h/a\n"
                           "BROKEN http://h/stall (CW_ETIMEDOUT) on http://h/\n"
                           "BROKEN http://h/fail (500) on http://h/b\n"
                           "SLOW http://h/a (700 ms)\n"
                           "SLOW http://h/b (250 ms)\n"
                           "7 links: 3 ok, 3 broken, 1 unchecked, 2 slow\n";
    ck_assert_msg(strcmp(text, expected) == 0, "print_report() printed:\n%s\nexpected:\n%s", text, expected);
    free(text);
    ck_assert_msg(broken == 3, "print_report() should return 3 (broken links), got %d", broken);
    report.links[0] = (link_result){ "http://h/", "", 503, CW_EHTTP, 5 };
    report.n = 1;
    out = open_memstream(&text, &size);
    print_report(out, &report, 250);
    fclose(out);
    ck_assert_msg(strcmp(text, "BROKEN http://h/ (503)\n1 links: 0 ok, 1 broken, 0 unchecked, 0 slow\n") == 0,
                  "a broken start page has no \" on\": print_report() printed:\n%s", text);
    free(text);
    ck_assert_msg(print_report(NULL, &report, 1) == CW_EINVAL, "print_report(NULL, ...) should return CW_EINVAL");
}
END_TEST

int main(int argc, char **argv)
{
    const char *chosen = getenv("CW_SITE_SEED");
    seed = chosen ? atol(chosen) : (long)(((unsigned long)time(NULL) * 2654435761ul ^ (unsigned long)getpid()) %
                                          999999) + 1;
    if (seed < 1 || seed > 999999)
        seed = 1;
    const cw_graded_test tests[] = {
        { "resolve_link: links read as a browser reads them", test_resolve_link, 3, 10 },
        { "resolve_link: other schemes, bad bases and small buffers refused", test_resolve_link_refuses, 2, 10 },
        { "extract_links: every href, resolved, each once", test_extract_links, 2, 10 },
        { "crawl: every link of the site, with its status", test_crawl_finds_every_link, 5, 20 },
        { "crawl: broken links with the page they are on", test_crawl_broken_links_have_their_page, 3, 20 },
        { "crawl: the server answers each URL once", test_crawl_fetches_each_url_once, 3, 20 },
        { "crawl: never more than max_in_flight requests, and that many reached", test_crawl_bound_kept_and_reached,
          4, 20 },
        { "crawl: one request at a time, each timed (the slow page, the timeout)", test_crawl_times_each_request, 2,
          20 },
        { "crawl: the run's deadline stops it, and nothing runs on", test_crawl_deadline, 3, 15 },
        { "crawl: a cancellation stops it, and nothing runs on", test_crawl_cancelled, 3, 15 },
        { "crawl: bad start URL or bound, nothing sent", test_crawl_bad_input, 1, 15 },
        { "print_report: broken, slow, totals", test_print_report, 2, 10 },
    };
    return cw_grade_main("10_link_checker", tests, sizeof tests / sizeof tests[0], argc, argv);
}
