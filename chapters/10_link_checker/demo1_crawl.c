/*
 * demo1_crawl.c -- a concurrent link checker in one file: a task group, a semaphore, two timeouts.
 *
 * It crawls the fixture server's generated site from /site/: one task per link found, each link
 * fetched once (a "seen" list, checked and filled with no await in between), at most 4 requests in
 * flight (a semaphore), 1 s per request (the stalled page fails on it) and 10 s for the whole run (a
 * timeout scope around the group). Then it prints the broken links with the page they are on, the
 * slow pages and the totals, the server's most-open figure, and the crawl's timeline.
 *
 * With --url URL it checks that site instead (links written as absolute URLs or as /paths only; the
 * exercise resolves every kind).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cw.h"
#include "cw_fixture.h"

enum { MAX_LINKS = 500, URL_MAX = 300, IN_FLIGHT = 4, REQUEST_MS = 1000, RUN_MS = 10000, SLOW_MS = 300 };

typedef struct entry {
    char url[URL_MAX];
    char from[URL_MAX];
    long status;
    int error; /* CW_ECANCELLED until checked */
    double ms;
} entry;

typedef struct crawler {
    cw_session *session;
    cw_semaphore *slots;
    cw_task_group *group;
    char origin[URL_MAX]; /* http://host:port of the start page: only its pages are followed */
    entry links[MAX_LINKS];
    int n;
} crawler;

static crawler c;

static void *check(void *arg);

//! [add]
/* A link found on page @p from: new ones join the report and get a task. No await here: no other
 * task can run between the check and the insert, so two pages linking to one URL fetch it once. */
static void add(const char *url, const char *from)
{
    for (int i = 0; i < c.n; i++)
        if (strcmp(c.links[i].url, url) == 0)
            return;
    if (c.n == MAX_LINKS)
        return;
    entry *l = &c.links[c.n++];
    *l = (entry){ .error = CW_ECANCELLED };
    snprintf(l->url, sizeof l->url, "%s", url);
    snprintf(l->from, sizeof l->from, "%s", from);
    const char *path = strstr(l->url, "/site/");
    cw_task_group_spawn(c.group, check, l, path ? path + 5 : l->url); /* the name: for the timeline */
}
//! [add]

/* The links of a page: href="..." written as an absolute URL or as a /path (the exercise does the rest). */
static void follow(const entry *page, const char *html)
{
    for (const char *p = html; (p = strstr(p, "href=\"")) != NULL;) {
        p += 6;
        size_t len = strcspn(p, "\"#");
        char url[URL_MAX];
        if (p[0] == '/' && p[1] != '/')
            snprintf(url, sizeof url, "%s%.*s", c.origin, (int)len, p);
        else if (strncmp(p, "http://", 7) == 0 || strncmp(p, "https://", 8) == 0)
            snprintf(url, sizeof url, "%.*s", (int)len, p);
        else
            continue;
        add(url, page->url);
    }
}

//! [check]
static void *check(void *arg)
{
    entry *l = arg;
    if (cw_semaphore_acquire(c.slots) < 0) /* async with sem: */
        return cw_fail(CW_ECANCELLED, "cancelled while waiting for a slot");
    cw_timeouts per_request = { .total_ms = REQUEST_MS };
    cw_request request = { .url = l->url, .timeouts = &per_request };
    uint64_t sent = cw_now_us();
    cw_future *answer = cw_session_request(c.session, &request);
    int rc = cw_await(answer);
    l->ms = (double)(cw_now_us() - sent) / 1000.0;
    if (rc == 0) {
        l->status = cw_response_of(answer)->status;
        rc = l->status >= 400 ? CW_EHTTP : 0;
    }
    l->error = rc;
    cw_semaphore_release(c.slots); /* on every path */
    if (rc == 0 && l->status == 200 && strncmp(l->url, c.origin, strlen(c.origin)) == 0)
        follow(l, cw_response_of(answer)->body);
    cw_future_release(answer);
    return rc == CW_ECANCELLED ? cw_fail(rc, "cancelled") : NULL;
}
//! [check]

static int by_url(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->url, ((const entry *)b)->url);
}

static void *main_task(void *start)
{
    if (cw_session_open(&c.session, NULL) < 0) /* limit 100: the semaphore is what keeps it to 4 */
        return cw_fail(CW_EFAILED, "could not open a session");
    const char *host = strstr(start, "://");
    snprintf(c.origin, sizeof c.origin, "%.*s", host ? (int)(host + 3 - (char *)start + strcspn(host + 3, "/")) : 0,
             (char *)start);
//! [crawl]
    c.slots = cw_semaphore_new(IN_FLIGHT);
    cw_timeout *deadline;
    cw_timeout_enter(&deadline, RUN_MS);      /* async with asyncio.timeout(10): */
    cw_task_group_enter(&c.group);            /*     async with asyncio.TaskGroup() as tg: */
    add(start, "");                           /*         tg.create_task(check(start)) */
    int rc = cw_task_group_exit(c.group, 0);  /* every task, the ones spawned by tasks too */
    cw_task_group_free(c.group);
    rc = cw_timeout_exit(deadline, rc);       /* CW_ETIMEDOUT if the 10 s ran out */
    cw_semaphore_free(c.slots);
//! [crawl]
    cw_session_close(c.session);
    return rc < 0 ? cw_fail(rc, "the crawl ended with %s", cw_error_name(rc)) : NULL;
}

int main(int argc, char **argv)
{
    char base[URL_MAX - 16];
    cw_fixture *fixture;
    if (cw_fixture_for_demo(argc, argv, base, sizeof base, &fixture) < 0)
        return 1;
    char start[URL_MAX];
    snprintf(start, sizeof start, "%s%s", base, fixture ? "/site/" : "");
    cw_timeline_enable(true);
    int rc = cw_run(main_task, start, NULL);
    /* the report, sorted so that it reads the same whatever order the crawl went in */
    qsort(c.links, (size_t)c.n, sizeof c.links[0], by_url);
    int ok = 0, broken = 0, slow = 0;
    for (int i = 0; i < c.n; i++) {
        const entry *l = &c.links[i];
        ok += l->error == 0;
        if (l->error != 0 && l->error != CW_ECANCELLED) {
            broken++;
            if (l->status >= 400)
                printf("BROKEN %s (%ld) on %s\n", l->url, l->status, l->from);
            else
                printf("BROKEN %s (%s) on %s\n", l->url, cw_error_name(l->error), l->from);
        }
    }
    for (int i = 0; i < c.n; i++)
        if (c.links[i].error == 0 && c.links[i].ms >= SLOW_MS && ++slow)
            printf("SLOW %s (%.0f ms)\n", c.links[i].url, c.links[i].ms);
    printf("%d links: %d ok, %d broken, %d slow; the crawl: %s\n", c.n, ok, broken, slow,
           rc == 0 ? "done" : cw_error_name(rc));
    if (fixture)
        printf("the server saw at most %ld connections open at once\n", cw_fixture_stats_get(fixture).max_open);
    printf("\n");
    cw_timeline_print(stdout, "Timeline (the tasks, named by their path, then the GET requests):");
    cw_fixture_stop(fixture);
    return rc == 0 ? 0 : 1;
}
