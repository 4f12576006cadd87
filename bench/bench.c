/*
 * bench.c -- how fast the library is, measured against the fixture server and against curl.
 *
 * The fixture server runs on its own thread in this process. Every measured
 * run is a forked child, so each gets a fresh heap and its own peak-memory
 * figure (ru_maxrss from wait4), and runs that are compared (ours against
 * curl --parallel) alternate and report the median of several runs.
 *
 * Usage: bench [--quick] [--json FILE]
 * It prints a table, writes build/bench/results.json, and with gnuplot
 * installed draws the scaling figures in build/bench/scaling.svg.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cw.h"
#include "cw_fixture.h"

typedef struct figure {
    double seconds;
    long peak_kb;
    int failures;
} figure;

typedef struct workload {
    const char *path;
    int requests;
    int limit;
    int window;     /* most futures alive at once (0 = all): releasing as they finish bounds memory */
    bool one_by_one; /* await each request before making the next */
} workload;

static char base[64];
static const workload *current;

/* ---- our side: one session, requests kept `window` deep, released as they finish --------- */

typedef struct pump {
    cw_session *session;
    char url[128];
    int made, finished, failures, in_flight;
    cw_future *all_done;
} pump;

static void make_next(pump *p);

static void request_done(cw_future *request, void *arg)
{
    pump *p = arg;
    if (cw_future_error(request) != 0)
        p->failures++;
    cw_future_release(request);
    p->finished++;
    p->in_flight--;
    if (p->made < current->requests)
        make_next(p);
    else if (p->finished == current->requests)
        cw_future_resolve(p->all_done, NULL, NULL);
}

static void make_next(pump *p)
{
    int window = current->window ? current->window : current->requests;
    while (p->made < current->requests && p->in_flight < window) {
        p->made++;
        p->in_flight++;
        cw_future_on_done(cw_session_get(p->session, p->url), request_done, p);
    }
}

static void *run_ours(void *arg)
{
    figure *fig = arg;
    cw_session_options options = cw_session_options_default();
    options.limit = current->limit;
    pump p = { .all_done = cw_future_new() };
    snprintf(p.url, sizeof p.url, "%s%s", base, current->path);
    cw_session_open(&p.session, &options);
    uint64_t start = cw_now_us();
    if (current->one_by_one) {
        for (int i = 0; i < current->requests; i++) {
            cw_future *request = cw_session_get(p.session, p.url);
            p.failures += cw_await(request) != 0;
            cw_future_release(request);
        }
    } else {
        make_next(&p);
        cw_await(p.all_done);
    }
    fig->seconds = (cw_now_us() - start) / 1e6;
    fig->failures = p.failures;
    cw_future_release(p.all_done);
    cw_session_close(p.session);
    return NULL;
}

/* ---- measuring in a child process ------------------------------------------------------------ */

static figure measure_child(void (*body)(figure *))
{
    int fds[2];
    figure fig = { -1, 0, 0 };
    if (pipe(fds) < 0)
        return fig;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        body(&fig);
        if (write(fds[1], &fig, sizeof fig) != sizeof fig)
            _exit(2);
        _exit(0);
    }
    close(fds[1]);
    if (read(fds[0], &fig, sizeof fig) != sizeof fig)
        fig.seconds = -1;
    close(fds[0]);
    int status;
    struct rusage usage;
    wait4(pid, &status, 0, &usage);
    fig.peak_kb = usage.ru_maxrss;
    return fig;
}

static void ours_body(figure *fig)
{
    cw_run(run_ours, fig, NULL);
}

static void curl_body(figure *fig)
{
    char config[] = "/tmp/cw-bench-XXXXXX";
    int fd = mkstemp(config);
    FILE *f = fdopen(fd, "w");
    for (int i = 0; i < current->requests; i++)
        fprintf(f, "url = \"%s%s\"\noutput = \"/dev/null\"\n", base, current->path);
    fclose(f);
    char max[16];
    snprintf(max, sizeof max, "%d", current->limit);
    uint64_t start = cw_now_us();
    pid_t pid = fork();
    if (pid == 0) {
        execlp("curl", "curl", "--silent", "--no-progress-meter", "--parallel", "--parallel-immediate",
               "--parallel-max", max, "--config", config, (char *)NULL);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    fig->seconds = (cw_now_us() - start) / 1e6;
    fig->failures = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    unlink(config);
}

static int by_seconds(const void *a, const void *b)
{
    double x = ((const figure *)a)->seconds, y = ((const figure *)b)->seconds;
    return (x > y) - (x < y);
}

static figure median(figure *runs, int n)
{
    qsort(runs, n, sizeof *runs, by_seconds);
    return runs[n / 2];
}

/* ---- report ------------------------------------------------------------------------------------ */

static FILE *json;
static int n_json;

static void report(const char *name, const char *what, double value, const char *unit, const char *against)
{
    printf("  %-44s %12.3f %-8s %s\n", what, value, unit, against ? against : "");
    if (json)
        fprintf(json, "%s\n    {\"figure\": \"%s\", \"what\": \"%s\", \"value\": %.6f, \"unit\": \"%s\"}",
                n_json++ ? "," : "", name, what, value, unit);
}

/* With gnuplot installed, draw the scaling figures too. */
static void plot_scaling(void)
{
    if (system("command -v gnuplot > /dev/null") != 0)
        return;
    int rc = system("gnuplot -e \"set terminal svg size 800,400; set output 'build/bench/scaling.svg';"
                    " set logscale x; set xlabel 'requests'; set ylabel 'us per request'; set y2label 'peak MiB';"
                    " set ytics nomirror; set y2tics; set yrange [0:*]; set y2range [0:*];"
                    " plot 'build/bench/scaling.dat' using 1:2 with linespoints title 'time per request',"
                    " '' using 1:3 axes x1y2 with linespoints title 'peak memory'\"");
    if (rc == 0)
        printf("  (drawn in build/bench/scaling.svg)\n");
}

static void fail_if(bool failed, const char *what)
{
    if (failed) {
        fprintf(stderr, "bench: %s failed\n", what);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    bool quick = false;
    const char *json_path = "build/bench/results.json";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = true;
        else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc)
            json_path = argv[++i];
    }
    int rounds = quick ? 3 : 5;
    mkdir("build", 0755);
    mkdir("build/bench", 0755);
    cw_fixture *fx = cw_fixture_start(0);
    fail_if(!fx, "starting the fixture server");
    snprintf(base, sizeof base, "http://127.0.0.1:%d", cw_fixture_port(fx));
    json = fopen(json_path, "w");
    if (json)
        fprintf(json, "{\"results\": [");
    bool have_curl = system("curl --version > /dev/null 2>&1") == 0;

    printf("Benchmarks (loopback fixture server on %s; median of %d runs)\n\n", base, rounds);

    /* 1. Latency hiding: 1000 x 100 ms through 100 connections is ideally 10 waves of 100 ms. */
    const workload hiding = { "/delay/100", 1000, 100, 0, false };
    current = &hiding;
    figure runs[9];
    for (int i = 0; i < rounds; i++)
        runs[i] = measure_child(ours_body);
    figure m = median(runs, rounds);
    fail_if(m.seconds < 0 || m.failures, "latency hiding");
    printf("1. Latency hiding: 1000 GETs of /delay/100, limit 100\n");
    report("latency_hiding", "time taken (ideal 1.000 s)", m.seconds, "s", NULL);
    report("latency_hiding", "time / ideal", m.seconds / 1.0, "x", "(target < 1.10)");

    /* 2. Throughput against curl --parallel on the same URLs, alternating. */
    const workload throughput = { "/get", 10000, 100, 0, false };
    current = &throughput;
    if (have_curl) {
        figure ours[9], theirs[9];
        for (int i = 0; i < rounds; i++) {
            ours[i] = measure_child(ours_body);
            theirs[i] = measure_child(curl_body);
        }
        figure a = median(ours, rounds), b = median(theirs, rounds);
        fail_if(a.seconds < 0 || a.failures || b.failures, "throughput");
        printf("\n2. Throughput: 10,000 GETs of /get, limit 100\n");
        report("throughput", "this library", 10000 / a.seconds, "req/s", NULL);
        report("throughput", "curl --parallel --parallel-max 100", 10000 / b.seconds, "req/s", NULL);
        report("throughput", "ratio (ours / curl)", b.seconds / a.seconds, "x", "(target >= 1.2)");
    } else {
        printf("\n2. Throughput: skipped (curl is not installed)\n");
    }

    /* 3. Sequential against concurrent: the chapter 05 lesson, in numbers. */
    const workload sequential = { "/delay/50", 50, 100, 0, true };
    const workload gathered = { "/delay/50", 50, 100, 0, false };
    figure seq[9], con[9];
    for (int i = 0; i < rounds; i++) {
        current = &sequential;
        seq[i] = measure_child(ours_body);
        current = &gathered;
        con[i] = measure_child(ours_body);
    }
    figure s = median(seq, rounds), c = median(con, rounds);
    printf("\n3. Sequential against concurrent: 50 GETs of /delay/50\n");
    report("sequential_vs_concurrent", "awaited one by one", s.seconds, "s", NULL);
    report("sequential_vs_concurrent", "all at once", c.seconds, "s", NULL);
    report("sequential_vs_concurrent", "speedup", s.seconds / c.seconds, "x", NULL);

    /* 4. Scaling: time per request and peak memory as the count grows, futures released as they finish. */
    printf("\n4. Scaling: GETs of /get, limit 100, at most 1000 futures alive\n");
    int sizes[] = { 1000, 10000, quick ? 30000 : 100000 };
    double first_per_request = 0;
    FILE *dat = fopen("build/bench/scaling.dat", "w");
    for (int i = 0; i < 3; i++) {
        workload w = { "/get", sizes[i], 100, 1000, false };
        current = &w;
        figure scaled[3];
        for (int k = 0; k < 3; k++)
            scaled[k] = measure_child(ours_body);
        figure f = median(scaled, 3);
        fail_if(f.seconds < 0 || f.failures, "scaling");
        double per_request = f.seconds / sizes[i] * 1e6;
        char what[64];
        snprintf(what, sizeof what, "%d requests: time per request", sizes[i]);
        report("scaling", what, per_request, "us", NULL);
        snprintf(what, sizeof what, "%d requests: peak memory", sizes[i]);
        report("scaling", what, f.peak_kb / 1024.0, "MiB", NULL);
        if (dat)
            fprintf(dat, "%d %.3f %.3f\n", sizes[i], per_request, f.peak_kb / 1024.0);
        if (i == 0)
            first_per_request = per_request;
        else if (i == 2)
            report("scaling", "time per request, largest / 1000", per_request / first_per_request, "x",
                   "(target <= 1.5)");
    }
    if (dat) {
        fclose(dat);
        plot_scaling();
    }

    /* 5. Memory per request in flight: everything at once, nothing released until the end. */
    const workload idle = { "/delay/1", 1, 1, 0, false };
    const workload in_flight = { "/delay/1000", 10000, 10000, 0, false };
    current = &idle;
    figure baseline = measure_child(ours_body);
    current = &in_flight;
    figure held = measure_child(ours_body);
    printf("\n5. Memory: 10,000 requests in flight at once (limit 10,000)\n");
    if (held.seconds < 0 || held.failures) {
        printf("  skipped: %d of 10,000 failed (raise the open-file limit: ulimit -n)\n", held.failures);
    } else {
        report("memory", "peak memory", held.peak_kb / 1024.0, "MiB", NULL);
        report("memory", "per request in flight", (held.peak_kb - baseline.peak_kb) / 10000.0, "KiB",
               "(target < 64)");
    }

    /* 6. The fixture server's own rate, so a reader can see it is not the bottleneck. */
    printf("\n6. Fixture server under wrk\n");
    if (system("command -v wrk > /dev/null") == 0) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "wrk -t1 -c100 -d%ds %s/get | grep -E 'Requests/sec|errors|Socket'",
                 quick ? 2 : 5, base);
        fflush(stdout);
        if (system(cmd) != 0)
            printf("  (wrk reported nothing)\n");
    } else {
        printf("  skipped: wrk is not installed (apt-get install wrk)\n");
    }

    if (json) {
        fprintf(json, "\n]}\n");
        fclose(json);
        printf("\nResults written to %s\n", json_path);
    }
    cw_fixture_stop(fx);
    return 0;
}
