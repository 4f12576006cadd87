/*
 * soak.c -- memory stays flat over 200,000 requests when futures are released as they finish.
 *
 * A hundred worker tasks share one session and loop: GET, await, read the
 * result, release the future. Most requests get 200, some 404 (a response
 * too) and some fail mid-body (/close), so the error path, with its message,
 * is soaked as well. Resident memory (VmRSS from /proc/self/status) is read
 * after the first 10,000 requests, once the pool, the stack cache and the
 * allocator have warmed up, and again at the end; the end must stay within
 * 10% of the first figure, or the program exits 1.
 *
 * Usage: soak [--requests N] [--workers W]   (defaults: 200000, 100)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cw.h"
#include "cw_fixture.h"

enum { WARM_UP = 10000 };

typedef struct soak {
    cw_session *session;
    char url_get[128], url_missing[128], url_close[128];
    long total, started, finished;
    long ok, not_found, failed, unexpected;
    long rss_first_kb, rss_end_kb;
    double first_at_s, end_at_s;
    uint64_t start_us;
} soak;

/** Resident memory of this process in KiB, from /proc/self/status (-1 when it cannot be read). */
static long resident_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

/* One worker: take the next request number, make it, await it, check it, release it. */
static void *worker(void *arg)
{
    soak *s = arg;
    while (s->started < s->total) {
        long n = s->started++;
        const char *url = n % 50 == 7 ? s->url_close : n % 50 == 3 ? s->url_missing : s->url_get;
        cw_future *req = cw_session_get(s->session, url);
        int rc = cw_await(req);
        const cw_response *res = cw_response_of(req);
        if (url == s->url_close && rc == CW_ECONNRESET)
            s->failed++;
        else if (url == s->url_missing && rc == 0 && res->status == 404)
            s->not_found++;
        else if (url == s->url_get && rc == 0 && res->status == 200 && res->body_len > 0)
            s->ok++;
        else
            s->unexpected++;
        cw_future_release(req);
        if (++s->finished == WARM_UP) {
            s->rss_first_kb = resident_kb();
            s->first_at_s = (cw_now_us() - s->start_us) / 1e6;
        }
    }
    return NULL;
}

typedef struct plan {
    const char *base;
    long requests;
    int workers;
    soak *s;
} plan;

static void *soak_main(void *arg)
{
    plan *p = arg;
    soak *s = p->s;
    if (cw_session_open(&s->session, NULL) < 0)
        return cw_fail(CW_EFAILED, "cannot open a session");
    snprintf(s->url_get, sizeof s->url_get, "%s/get", p->base);
    snprintf(s->url_missing, sizeof s->url_missing, "%s/status/404", p->base);
    snprintf(s->url_close, sizeof s->url_close, "%s/close", p->base);
    s->total = p->requests;
    s->start_us = cw_now_us();
    cw_future **workers = calloc((size_t) p->workers, sizeof *workers);
    for (int i = 0; i < p->workers; i++)
        workers[i] = cw_spawn(worker, s);
    for (int i = 0; i < p->workers; i++)
        cw_await(workers[i]);
    cw_future_release_all(workers, p->workers);
    free(workers);
    cw_session_close(s->session);
    s->rss_end_kb = resident_kb();
    s->end_at_s = (cw_now_us() - s->start_us) / 1e6;
    return NULL;
}

int main(int argc, char **argv)
{
    plan p = { .requests = 200000, .workers = 100 };
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--requests") == 0)
            p.requests = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--workers") == 0)
            p.workers = atoi(argv[i + 1]);
    }
    if (p.requests <= WARM_UP || p.workers < 1) {
        fprintf(stderr, "usage: soak [--requests N (more than %d)] [--workers W]\n", WARM_UP);
        return 2;
    }
    cw_fixture *fx = cw_fixture_start(0);
    if (!fx)
        return 1;
    char base[64];
    cw_fixture_url(fx, "", base, sizeof base);
    p.base = base;
    soak s = { 0 };
    p.s = &s;
    int rc = cw_run(soak_main, &p, NULL);
    cw_fixture_stop(fx);

    double limit_kb = s.rss_first_kb * 1.10;
    printf("soak: %ld requests by %d tasks in %.1f s (%.0f per second): %ld ok, %ld 404, %ld reset, %ld unexpected\n",
           s.finished, p.workers, s.end_at_s, s.finished / (s.end_at_s > 0 ? s.end_at_s : 1), s.ok, s.not_found,
           s.failed, s.unexpected);
    printf("soak: resident memory after %d requests: %ld KiB (at %.1f s); at the end: %ld KiB (%+.1f%%, limit +10%%)\n",
           WARM_UP, s.rss_first_kb, s.first_at_s, s.rss_end_kb,
           s.rss_first_kb > 0 ? 100.0 * (s.rss_end_kb - s.rss_first_kb) / s.rss_first_kb : 0.0);
    if (rc != 0 || s.finished != p.requests || s.unexpected > 0) {
        printf("soak: FAILED: %s, %ld of %ld requests finished, %ld unexpected results\n", cw_error_name(rc),
               s.finished, p.requests, s.unexpected);
        return 1;
    }
    if (s.rss_first_kb <= 0 || s.rss_end_kb > limit_kb) {
        printf("soak: FAILED: resident memory grew by more than 10%%\n");
        return 1;
    }
    printf("soak: ok\n");
    return 0;
}
