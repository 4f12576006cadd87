/*
 * exercise.c -- exercise 10 (reference solution): links resolved and extracted
 * from a page (part 1); a crawl in one task group, one task per link, with a
 * semaphore over the requests and a timeout scope over the whole run (part 2);
 * the report (part 3).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "exercise.h"

/* ---- Part 1 ---- */

/* The length of "http" or "https" when @p url starts with "http://" or "https://" (any case), else 0. */
static size_t http_scheme(const char *url)
{
    if (strncasecmp(url, "http://", 7) == 0)
        return 4;
    if (strncasecmp(url, "https://", 8) == 0)
        return 5;
    return 0;
}

/* True when @p href starts with a scheme ("mailto:", "ftp:"...): letters, digits, + - . then ':'. */
static bool has_scheme(const char *href)
{
    if (!isalpha((unsigned char)href[0]))
        return false;
    size_t i = 1;
    while (isalnum((unsigned char)href[i]) || href[i] == '+' || href[i] == '-' || href[i] == '.')
        i++;
    return href[i] == ':';
}

/* Where the path of an absolute http(s) URL starts (after scheme://host:port), or 0 when it has no host. */
static size_t origin_length(const char *url)
{
    size_t scheme = http_scheme(url);
    if (scheme == 0)
        return 0;
    size_t host = scheme + 3;
    size_t len = host + strcspn(url + host, "/?#");
    return len > host ? len : 0;
}

/* Remove the "." and ".." segments of @p path (it starts with '/'), in place. */
static void remove_dot_segments(char *path)
{
    size_t w = 0;
    const char *p = path;
    while (*p == '/') {
        const char *segment = p + 1;
        size_t len = strcspn(segment, "/");
        bool last = segment[len] == '\0';
        if (len == 1 && segment[0] == '.') {
            if (last)
                path[w++] = '/';
        } else if (len == 2 && segment[0] == '.' && segment[1] == '.') {
            while (w > 0 && path[--w] != '/')
                ;
            if (last)
                path[w++] = '/';
        } else {
            path[w++] = '/';
            memmove(path + w, segment, len);
            w += len;
        }
        p = segment + len;
    }
    if (w == 0)
        path[w++] = '/';
    path[w] = '\0';
}

int resolve_link(const char *base, const char *href, char *out, size_t size)
{
    if (!base || !href || !out || size == 0)
        return CW_EINVAL;
    out[0] = '\0';
    size_t origin = origin_length(base);
    if (origin == 0)
        return CW_EINVAL;
    size_t href_len = strcspn(href, "#");
    size_t base_len = strcspn(base, "#");
    size_t base_path_end = strcspn(base, "?#");
    size_t cap = strlen(base) + href_len + 3;
    char *url = malloc(cap);
    if (!url)
        return CW_ENOMEM;
    size_t path_at = origin; /* where the path starts in url, for the dot segments */
    if (http_scheme(href)) {
        snprintf(url, cap, "%.*s", (int)href_len, href);
        path_at = origin_length(url);
    } else if (has_scheme(href)) {
        path_at = 0; /* mailto:, javascript:, ftp:... */
    } else if (href[0] == '/' && href[1] == '/') {
        snprintf(url, cap, "%.*s%.*s", (int)http_scheme(base) + 1, base, (int)href_len, href);
        path_at = origin_length(url);
    } else if (href[0] == '/') {
        snprintf(url, cap, "%.*s%.*s", (int)origin, base, (int)href_len, href);
    } else if (href[0] == '?') {
        snprintf(url, cap, "%.*s%.*s", (int)base_path_end, base, (int)href_len, href);
    } else if (href_len == 0) {
        snprintf(url, cap, "%.*s", (int)base_len, base);
    } else {
        size_t dir = base_path_end;
        while (dir > origin && base[dir - 1] != '/')
            dir--;
        if (dir == origin) /* no path at all: the root */
            snprintf(url, cap, "%.*s/%.*s", (int)origin, base, (int)href_len, href);
        else
            snprintf(url, cap, "%.*s%.*s", (int)dir, base, (int)href_len, href);
    }
    int rc = CW_EINVAL;
    if (path_at > 0) {
        if (url[path_at] == '/') {
            /* dot segments of the path only; the query stays as it is */
            size_t query = path_at + strcspn(url + path_at, "?");
            char *rest = strdup(url + query);
            url[query] = '\0';
            if (rest) {
                remove_dot_segments(url + path_at);
                strcat(url, rest); /* no longer than before */
            }
            free(rest);
        }
        if (strlen(url) < size) {
            memcpy(out, url, strlen(url) + 1);
            rc = 0;
        }
    }
    free(url);
    return rc;
}

int extract_links(const char *page_url, const char *html, char (*links)[LC_URL_MAX], int max)
{
    if (!page_url || !html || !links || max < 0)
        return CW_EINVAL;
    int n = 0;
    char href[LC_URL_MAX * 2];
    char url[LC_URL_MAX];
    for (const char *p = html; (p = strcasestr(p, "href")) != NULL;) {
        bool attribute = p == html || isspace((unsigned char)p[-1]);
        p += 4;
        while (isspace((unsigned char)*p))
            p++;
        if (!attribute || *p != '=')
            continue;
        p++;
        while (isspace((unsigned char)*p))
            p++;
        if (*p != '"' && *p != '\'')
            continue;
        const char quote = *p++;
        const char *end = strchr(p, quote);
        if (!end)
            break;
        size_t len = (size_t)(end - p);
        p = end + 1;
        if (len >= sizeof href)
            continue;
        memcpy(href, p - 1 - len, len);
        href[len] = '\0';
        if (resolve_link(page_url, href, url, sizeof url) < 0)
            continue;
        bool seen = false;
        for (int i = 0; i < n && !seen; i++)
            seen = strcmp(links[i], url) == 0;
        if (!seen && n < max)
            memcpy(links[n++], url, strlen(url) + 1);
    }
    return n;
}

/* ---- Part 2 ---- */

typedef struct crawler crawler;

/* What one task of the crawl checks: report->links[i]. */
typedef struct visit {
    crawler *crawler;
    int i;
} visit;

struct crawler {
    cw_session *session;
    crawl_report *report;
    cw_semaphore *slots;        /* a slot per request in flight */
    cw_task_group *group;       /* every task of the crawl */
    cw_timeouts timeouts;       /* each request's */
    bool own_timeouts;          /* false: the session's */
    char origin[LC_URL_MAX];    /* the start's scheme://host:port */
    visit visits[LC_MAX_LINKS]; /* visits[i] checks report->links[i] */
    char (*found)[LC_URL_MAX];  /* one page's links, while they are added */
};

static void *check_link(void *arg);

/* Add @p url, found on @p from, unless the report has it; then check it in a task of the group. */
static void add_link(crawler *c, const char *url, const char *from)
{
    crawl_report *r = c->report;
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->links[i].url, url) == 0)
            return;
    if (r->n == LC_MAX_LINKS) {
        r->truncated = true;
        return;
    }
    link_result *l = &r->links[r->n];
    *l = (link_result){ .error = CW_ECANCELLED }; /* until its task says otherwise */
    snprintf(l->url, sizeof l->url, "%s", url);
    snprintf(l->from, sizeof l->from, "%s", from);
    c->visits[r->n] = (visit){ c, r->n };
    r->n++;
    cw_task_group_spawn(c->group, check_link, &c->visits[r->n - 1], l->url); /* NULL: shutting down */
}

/* A page on the start's site: its links join the crawl (no await here, so no other task sees half of it). */
static void follow(crawler *c, const link_result *page, const char *html)
{
    size_t origin = strlen(c->origin);
    if (strncasecmp(page->url, c->origin, origin) != 0 || strchr("/?", page->url[origin]) == NULL)
        return;
    int n = extract_links(page->url, html, c->found, LC_MAX_LINKS);
    for (int i = 0; i < n; i++)
        add_link(c, c->found[i], page->url);
}

/* One link: wait for a slot, GET it, give the slot back, then follow its links. */
static void *check_link(void *arg)
{
    visit *v = arg;
    crawler *c = v->crawler;
    link_result *l = &c->report->links[v->i];
    if (cw_semaphore_acquire(c->slots) < 0)
        return cw_fail(CW_ECANCELLED, "cancelled while waiting for a slot");
    cw_request request = { .url = l->url, .timeouts = c->own_timeouts ? &c->timeouts : NULL };
    uint64_t sent = cw_now_us();
    cw_future *answer = cw_session_request(c->session, &request);
    int rc = cw_await(answer);
    l->ms = (double)(cw_now_us() - sent) / 1000.0;
    if (rc == 0) {
        l->status = cw_response_of(answer)->status;
        rc = l->status >= 400 ? CW_EHTTP : 0;
    }
    l->error = rc;
    cw_semaphore_release(c->slots); /* whatever happened: the slot bounds requests, not their outcomes */
    if (rc == 0 && l->status == 200)
        follow(c, l, cw_response_of(answer)->body);
    cw_future_release(answer);
    if (rc == CW_ECANCELLED)
        return cw_fail(rc, "cancelled");
    return NULL;
}

int crawl(cw_session *session, const char *start_url, const crawl_options *options, crawl_report *report)
{
    if (!session || !start_url || !options || !report)
        return CW_EINVAL;
    report->n = 0;
    report->truncated = false;
    char start[LC_URL_MAX];
    if (options->max_in_flight < 1 || resolve_link(start_url, "", start, sizeof start) < 0)
        return CW_EINVAL;
    crawler *c = calloc(1, sizeof *c);
    char (*found)[LC_URL_MAX] = malloc(LC_MAX_LINKS * sizeof *found);
    cw_semaphore *slots = cw_semaphore_new(options->max_in_flight);
    int rc = CW_ENOMEM;
    if (c && found && slots) {
        c->session = session;
        c->report = report;
        c->slots = slots;
        c->found = found;
        c->own_timeouts = options->request_timeout_ms > 0;
        c->timeouts = (cw_timeouts){ .total_ms = options->request_timeout_ms };
        snprintf(c->origin, sizeof c->origin, "%.*s", (int)origin_length(start), start);
        cw_timeout *deadline;
        rc = cw_timeout_enter(&deadline, options->deadline_ms);
        if (rc == 0) {
            rc = cw_task_group_enter(&c->group);
            if (rc == 0) {
                add_link(c, start, "");
                rc = cw_task_group_exit(c->group, 0);
                cw_task_group_free(c->group);
            }
            rc = cw_timeout_exit(deadline, rc); /* CW_ECANCELLED becomes CW_ETIMEDOUT when it was the deadline */
        }
    }
    cw_semaphore_free(slots);
    free(found);
    free(c);
    return rc;
}

/* ---- Part 3 ---- */

int print_report(FILE *out, const crawl_report *report, double slow_ms)
{
    if (!out || !report)
        return CW_EINVAL;
    int ok = 0, broken = 0, unchecked = 0, slow = 0;
    for (int i = 0; i < report->n; i++) {
        const link_result *l = &report->links[i];
        if (l->error == 0) {
            ok++;
        } else if (l->error == CW_ECANCELLED) {
            unchecked++;
        } else {
            broken++;
            if (l->status >= 400)
                fprintf(out, "BROKEN %s (%ld)", l->url, l->status);
            else
                fprintf(out, "BROKEN %s (%s)", l->url, cw_error_name(l->error));
            fprintf(out, l->from[0] ? " on %s\n" : "\n", l->from);
        }
    }
    for (int i = 0; i < report->n; i++) {
        const link_result *l = &report->links[i];
        if (l->error == 0 && l->ms >= slow_ms) {
            slow++;
            fprintf(out, "SLOW %s (%.0f ms)\n", l->url, l->ms);
        }
    }
    fprintf(out, "%d links: %d ok, %d broken, %d unchecked, %d slow\n", report->n, ok, broken, unchecked, slow);
    return broken;
}
