/*
 * linkcheck.c -- build/bin/linkcheck: check every link of a web site from a start page.
 *
 *   linkcheck [--max-in-flight N] [--timeout S] [--deadline S] [--slow MS] URL
 *
 * The crawl is chapter 10's crawl() (linked from solutions/10_link_checker/exercise.c): each URL
 * fetched once, at most N requests in flight (default 8), S seconds per request (default 10) and for
 * the whole run (default 300), the links of pages on URL's site followed. It prints the report of
 * print_report() (pages taking MS milliseconds or more are slow; default 1000). Ctrl-C cancels the
 * crawl: the requests in flight are cancelled, and the report of what was checked is printed.
 * Exit status: 0 when no link is broken, 1 when some are, 2 when the crawl did not finish (deadline,
 * Ctrl-C) or could not start (bad arguments).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "exercise.h"

enum { WATCH_MS = 50 };

typedef struct job {
    const char *start;
    crawl_options options;
    crawl_report *report;
    cw_session *session;
    int rc;
} job;

static volatile sig_atomic_t interrupted;

/* Ctrl-C: only a flag here (a handler may do almost nothing); a second Ctrl-C kills at once (SA_RESETHAND). */
static void on_sigint(int signo)
{
    (void)signo;
    interrupted = 1;
}

static void *crawl_task(void *arg)
{
    job *j = arg;
    j->rc = crawl(j->session, j->start, &j->options, j->report);
    return NULL;
}

/* The crawl in a task of its own, and the main task watching for Ctrl-C: on it, cancel the crawl, which
 * cancels every request in flight and returns once all of its tasks have ended. */
static void *main_task(void *arg)
{
    job *j = arg;
    cw_session_options options = cw_session_options_default();
    if (options.limit < j->options.max_in_flight)
        options.limit = j->options.max_in_flight;
    int rc = cw_session_open(&j->session, &options);
    if (rc < 0)
        return cw_fail(rc, "could not open a session: %s", cw_strerror(rc));
    cw_future *crawling = cw_spawn_named(crawl_task, j, "crawl");
    while (cw_future_state(crawling) == CW_PENDING) {
        if (interrupted) {
            fprintf(stderr, "linkcheck: interrupted; cancelling the requests in flight\n");
            cw_future_cancel(crawling);
            interrupted = 0;
        }
        cw_sleep(WATCH_MS);
    }
    cw_await(crawling);
    cw_future_release(crawling);
    cw_session_close(j->session);
    return NULL;
}

static int usage(const char *why)
{
    if (why)
        fprintf(stderr, "linkcheck: %s\n", why);
    fprintf(stderr, "usage: linkcheck [--max-in-flight N] [--timeout S] [--deadline S] [--slow MS] URL\n"
                    "  --max-in-flight N  at most N requests at once (default 8)\n"
                    "  --timeout S        seconds per request (default 10)\n"
                    "  --deadline S       seconds for the whole crawl (default 300)\n"
                    "  --slow MS          a page taking MS milliseconds or more is slow (default 1000)\n"
                    "exit status: 0 no broken link, 1 some broken, 2 not finished or bad arguments\n");
    return 2;
}

/* A number > 0 from @p text, or -1. */
static double positive(const char *text)
{
    char *end;
    errno = 0;
    double v = text ? strtod(text, &end) : -1;
    return text && errno == 0 && end != text && *end == '\0' && v > 0 && v < 1e9 ? v : -1;
}

int main(int argc, char **argv)
{
    double in_flight = 8, timeout_s = 10, deadline_s = 300, slow_ms = 1000;
    const char *start = NULL;
    for (int i = 1; i < argc; i++) {
        double *option = strcmp(argv[i], "--max-in-flight") == 0 ? &in_flight
                         : strcmp(argv[i], "--timeout") == 0     ? &timeout_s
                         : strcmp(argv[i], "--deadline") == 0    ? &deadline_s
                         : strcmp(argv[i], "--slow") == 0        ? &slow_ms
                                                                 : NULL;
        if (option) {
            *option = positive(argv[++i < argc ? i : argc - 1]);
            if (i >= argc || *option < 0)
                return usage("an option needs a number greater than 0");
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(NULL);
            return 0;
        } else if (argv[i][0] == '-' || start) {
            return usage("unknown argument");
        } else {
            start = argv[i];
        }
    }
    if (!start)
        return usage("no URL");
    if (in_flight > 10000)
        return usage("--max-in-flight: at most 10000");
    job j = { .start = start, .report = calloc(1, sizeof *j.report), .rc = CW_EFAILED };
    if (!j.report)
        return 2;
    j.options = (crawl_options){ .max_in_flight = (int)in_flight,
                                 .request_timeout_ms = (uint64_t)(timeout_s * 1000),
                                 .deadline_ms = (uint64_t)(deadline_s * 1000) };
    struct sigaction action = { .sa_handler = on_sigint, .sa_flags = SA_RESETHAND };
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    int rc = cw_run(main_task, &j, NULL);
    int broken = 0;
    if (rc == 0 && j.rc != CW_EINVAL) {
        broken = print_report(stdout, j.report, slow_ms);
        if (j.report->truncated)
            printf("(more than %d links: the rest were not checked)\n", LC_MAX_LINKS);
    }
    if (rc < 0 || j.rc < 0)
        fprintf(stderr, "linkcheck: %s: %s\n", start,
                rc < 0 ? cw_strerror(rc) : j.rc == CW_EINVAL ? "not an absolute http(s) URL" : cw_strerror(j.rc));
    free(j.report);
    return rc < 0 || j.rc < 0 ? 2 : broken > 0 ? 1 : 0;
}
