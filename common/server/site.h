/*
 * site.h -- the fixture server's generated site (/site/...), for link checkers: what it answers
 * for one path. Internal to the server; the site itself is described in cw_fixture.h.
 */
#ifndef CW_SITE_H
#define CW_SITE_H

#include <stdbool.h>
#include <stddef.h>

enum { CW__SITE_BODY_MAX = 2048 };

/** The answer to one path of the site. */
typedef struct cw__site_answer {
    int status;        /* 200, 301, 404 or 500 */
    unsigned delay_ms; /* answer after this long */
    bool stall;        /* never answer */
    char location[64]; /* a redirect's target (a path), else "" */
    char body[CW__SITE_BODY_MAX];
    size_t body_len;
} cw__site_answer;

/* True when @p path (@p len bytes, no query) is /site or under /site/; then @p out says what to answer.
 * A pure function of the path: a test walks a site through it to know what a crawl must find. */
__attribute__((visibility("hidden"))) bool cw__site_answer_for(const char *path, size_t len, cw__site_answer *out);

#endif
