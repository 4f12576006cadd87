/*
 * site_truth.h -- what a crawl of a generated site (common/server/site.c) must find, computed by walking
 * the site's own answers in memory, without a network: the truth the link checker tests grade against.
 */
#ifndef SITE_TRUTH_H
#define SITE_TRUTH_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "../common/server/site.h"

enum { TRUTH_MAX = 128, TRUTH_PATH = 64 };

typedef struct truth_link {
    char path[TRUTH_PATH]; /* a link's target */
    char from[TRUTH_PATH]; /* the page that links to it first in a breadth-first walk ("" for the start) */
    long status;           /* the final answer's status (after a redirect); 0 when it never answers */
    unsigned delay_ms;     /* how long the server waits before answering */
} truth_link;

typedef struct site_truth {
    char start[TRUTH_PATH]; /* "/site/" or "/site/S/" */
    truth_link links[TRUTH_MAX];
    int n;                  /* distinct link targets, the start included */
    int pages;              /* of them, those that answer 200 */
    int broken;             /* those that answer 400 or more, or never */
    int slow;               /* those that take 500 ms or more */
    int redirects;          /* those that answer 301 first */
    long requests;          /* answers the server gives to a crawl fetching each once (redirects count twice) */
} site_truth;

static inline int truth_find(const site_truth *t, const char *path)
{
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->links[i].path, path) == 0)
            return i;
    return -1;
}

/* Walk the site of @p seed breadth-first, as a crawler that fetches each URL once would. */
static inline void site_truth_walk(long seed, site_truth *t)
{
    memset(t, 0, sizeof *t);
    if (seed == 0)
        snprintf(t->start, sizeof t->start, "/site/");
    else
        snprintf(t->start, sizeof t->start, "/site/%ld/", seed);
    snprintf(t->links[0].path, TRUTH_PATH, "%s", t->start);
    t->n = 1;
    static cw__site_answer a; /* 2 KiB of body: not on a task's stack */
    for (int i = 0; i < t->n; i++) {
        truth_link *l = &t->links[i];
        cw__site_answer_for(l->path, strlen(l->path), &a);
        if (a.status == 301) {
            t->redirects++;
            t->requests++;
            char location[sizeof a.location];
            memcpy(location, a.location, sizeof location);
            cw__site_answer_for(location, strlen(location), &a);
        }
        l->status = a.stall ? 0 : a.status;
        l->delay_ms = a.delay_ms;
        t->requests += !a.stall;
        t->pages += l->status == 200;
        t->broken += l->status == 0 || l->status >= 400;
        t->slow += a.delay_ms >= 500;
        if (l->status != 200)
            continue;
        for (const char *p = a.body; (p = strstr(p, "href=\"")) != NULL;) {
            p += 6;
            size_t len = strcspn(p, "\"");
            char path[TRUTH_PATH];
            snprintf(path, sizeof path, "%.*s", (int)len, p);
            if (truth_find(t, path) < 0 && t->n < TRUTH_MAX) {
                snprintf(t->links[t->n].path, TRUTH_PATH, "%s", path);
                memcpy(t->links[t->n].from, t->links[i].path, TRUTH_PATH); /* i < n: two different links */
                t->n++;
            }
        }
    }
}

#endif
