/*
 * bench.c -- how fast the library is, measured against the fixture server and against curl.
 *
 * The fixture server runs on its own thread in this process. Every measured
 * run is a forked child, so each gets a fresh heap and its own peak-memory
 * figure (ru_maxrss from wait4), and runs that are compared (ours against
 * curl --parallel) alternate and report the median of several runs.
 *
 * Sections 7 to 11 compare whole programs, each a separate process from
 * bench/clients/ (its wall time measured by itself, its peak memory by
 * wait4): the pattern every chapter teaches (a task per GET, gathered) against
 * a bare libcurl multi loop and aiohttp, against the fixture server and
 * nginx; many sleeping tasks against asyncio; a task switch against a function
 * call; and cw_wait() in a loop against asyncio.wait. Each figure is printed
 * next to its baseline from the same run; none of them passes or fails.
 *
 * Usage: bench [--quick] [--json FILE] [--only 7,8]
 * It prints a table, writes build/bench/results.json, and with gnuplot
 * installed draws the scaling figures in build/bench/scaling.svg.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
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

/* ---- whole programs: bench/clients/, each measured in its own process --------------------------- */

static char clients[512]; /* the directory of the built client programs */

/* What a client program printed (up to three numbers), its peak memory, and how it ended. */
typedef struct program_run {
    double out[3];
    int n_out;
    long peak_kb;
    double cpu_s;  /* user + system time: what the program cost, however busy the machine was */
    bool ok;       /* exited with status 0 and printed its line */
    bool too_long; /* stopped at the time limit */
} program_run;

/* Run argv with stdout to a pipe and a time limit (an alarm survives exec). */
static program_run run_program(char *const argv[], unsigned limit_s)
{
    program_run r = { .n_out = 0 };
    int fds[2];
    if (pipe(fds) < 0)
        return r;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        alarm(limit_s);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    char line[256] = "";
    size_t got = 0;
    ssize_t n;
    while (got < sizeof line - 1 && (n = read(fds[0], line + got, sizeof line - 1 - got)) > 0)
        got += n;
    line[got] = '\0';
    close(fds[0]);
    int status;
    struct rusage usage;
    wait4(pid, &status, 0, &usage);
    r.peak_kb = usage.ru_maxrss;
    r.cpu_s = usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    r.too_long = WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM;
    r.n_out = sscanf(line, "%lf %lf %lf", &r.out[0], &r.out[1], &r.out[2]);
    r.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && r.n_out > 0;
    return r;
}

static char *client(const char *name)
{
    static char paths[8][600];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, sizeof paths[0], "%s/%s", clients, name);
    return p;
}

static int by_first_output(const void *a, const void *b)
{
    double x = ((const program_run *)a)->out[0], y = ((const program_run *)b)->out[0];
    return (x > y) - (x < y);
}

/* The median run by its first output (seconds); a failed run counts as the slowest. */
static program_run median_run(program_run *runs, int n)
{
    for (int i = 0; i < n; i++)
        if (!runs[i].ok)
            runs[i].out[0] = 1e9;
    qsort(runs, n, sizeof *runs, by_first_output);
    return runs[n / 2];
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of the third number the runs printed (0 if no run went well and printed one, or any
 * failed a request). */
static double median_third_output(const program_run *runs, int n)
{
    double v[9];
    int ok = 0;
    for (int i = 0; i < n; i++) {
        if (runs[i].ok && runs[i].out[1] != 0)
            return 0;
        if (runs[i].ok && runs[i].n_out == 3)
            v[ok++] = runs[i].out[2];
    }
    qsort(v, ok, sizeof *v, by_value);
    return ok ? v[ok / 2] : 0;
}

/* The median CPU time of the runs that went well (0 if none did). */
static double median_cpu(const program_run *runs, int n)
{
    double cpu[9];
    int ok = 0;
    for (int i = 0; i < n; i++)
        if (runs[i].ok)
            cpu[ok++] = runs[i].cpu_s;
    qsort(cpu, ok, sizeof *cpu, by_value);
    return ok ? cpu[ok / 2] : 0;
}

static bool have_aiohttp(void)
{
    return system("/usr/bin/python3 -c 'import aiohttp' > /dev/null 2>&1") == 0;
}

static bool have_python(void)
{
    return system("/usr/bin/python3 -c 'import asyncio' > /dev/null 2>&1") == 0;
}

/* ---- nginx on a loopback port, serving an 11-byte file -------------------------------------------- */

typedef struct nginx {
    pid_t pid;
    int port;
    char dir[64];
} nginx;

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0
        && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static bool port_answers(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Start nginx (one worker, like the single-threaded fixture server); false with a note when it can't. */
static bool nginx_start(nginx *n)
{
    if (access("/usr/sbin/nginx", X_OK) != 0) {
        printf("  nginx: skipped (not installed: apt-get install nginx-light)\n");
        return false;
    }
    strcpy(n->dir, "/tmp/cw-bench-nginx-XXXXXX");
    if (!mkdtemp(n->dir) || chmod(n->dir, 0755) != 0 || (n->port = free_port()) < 0)
        return false;
    char path[128];
    snprintf(path, sizeof path, "%s/hello.txt", n->dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fputs("hello world", f); /* 11 bytes */
    fclose(f);
    chmod(path, 0644);
    snprintf(path, sizeof path, "%s/nginx.conf", n->dir);
    if (!(f = fopen(path, "w")))
        return false;
    fprintf(f,
            "daemon off;\nworker_processes 1;\npid %s/nginx.pid;\nerror_log %s/error.log;\n"
            "events { worker_connections 4096; }\n"
            "http {\n access_log off;\n keepalive_requests 1000000;\n"
            " client_body_temp_path %s; proxy_temp_path %s; fastcgi_temp_path %s;\n"
            " uwsgi_temp_path %s; scgi_temp_path %s;\n"
            " server { listen 127.0.0.1:%d; root %s; }\n}\n",
            n->dir, n->dir, n->dir, n->dir, n->dir, n->dir, n->dir, n->port, n->dir);
    fclose(f);
    fflush(stdout);
    n->pid = fork();
    if (n->pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        execl("/usr/sbin/nginx", "nginx", "-p", n->dir, "-c", path, "-e", "stderr", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200 && !port_answers(n->port); i++)
        usleep(10000);
    if (!port_answers(n->port)) {
        printf("  nginx: skipped (it did not start; see %s/error.log)\n", n->dir);
        kill(n->pid, SIGKILL);
        waitpid(n->pid, NULL, 0);
        return false;
    }
    return true;
}

static void nginx_stop(nginx *n)
{
    kill(n->pid, SIGQUIT);
    waitpid(n->pid, NULL, 0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", n->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench: could not remove %s\n", n->dir);
}

/* wrk's requests per second against url (2 or 5 s, 100 connections), or -1. */
static double wrk_rate(const char *url, bool quick)
{
    char cmd[256], line[256];
    snprintf(cmd, sizeof cmd, "wrk -t1 -c100 -d%ds %s 2>&1", quick ? 2 : 5, url);
    fflush(stdout);
    FILE *p = popen(cmd, "r");
    double rate = -1;
    while (p && fgets(line, sizeof line, p))
        sscanf(line, "Requests/sec: %lf", &rate);
    if (p)
        pclose(p);
    return rate;
}

/* ---- 7. the pattern every chapter teaches, against bare libcurl and aiohttp --------------------- */

/* Every thread of this process (the fixture server's included) and every program started from now
 * on to one CPU, the first of *all, or back to *all. Left to the scheduler on 2 cores, the same
 * program took 0.28 s or 0.47 s depending on whether client and server met on one CPU. */
static void set_cpus(const cpu_set_t *cpus)
{
    DIR *tasks = opendir("/proc/self/task");
    struct dirent *e;
    while (tasks && (e = readdir(tasks)))
        if (e->d_name[0] != '.')
            sched_setaffinity(atoi(e->d_name), sizeof *cpus, cpus);
    if (tasks)
        closedir(tasks);
}

static int pin_to_one_cpu(cpu_set_t *all)
{
    if (sched_getaffinity(0, sizeof *all, all) < 0)
        return -1;
    int cpu = 0;
    while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, all))
        cpu++;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    set_cpus(&one);
    return cpu;
}

/* Connections the fixture server accepted while argv ran (-1 for another server). */
static program_run run_counting_connections(char *const argv[], cw_fixture *fx, long *accepted)
{
    long before = fx ? cw_fixture_stats_get(fx).accepted : 0;
    program_run r = run_program(argv, 300);
    *accepted = fx ? cw_fixture_stats_get(fx).accepted - before : -1;
    return r;
}

/* fx: the fixture server when it is the one serving url (its counters show connection reuse), or NULL. */
static void users_pattern(const char *server, const char *url, cw_fixture *fx, int rounds)
{
    char *ours[] = { client("tasks_get"), (char *)url, "10000", "100", NULL };
    char *few[] = { client("tasks_get"), (char *)url, "10000", "100", "100", NULL };
    char *shared[] = { client("tasks_get"), (char *)url, "10000", "100", "10000", "shared", NULL };
    char *curl[] = { client("curl_loop"), (char *)url, "10000", "100", NULL };
    char *aio[] = { "/usr/bin/python3", "bench/clients/aiohttp_get.py", (char *)url, "10000", "100", NULL };
    bool aiohttp = have_aiohttp();
    program_run a[9], b[9], c[9], d[9], e[9], again[3][9], huge[2][9];
    const char *tunables = getenv("GLIBC_TUNABLES");
    char *kept_tunables = tunables ? strdup(tunables) : NULL;
    double load[1] = { -1 };
    getloadavg(load, 1); /* the machine may be shared: wall times depend on it, CPU times less */
    long ours_connections = 0, curl_connections = 0;
    for (int i = 0; i < rounds; i++) { /* alternating, so a slow moment of the machine hits all three */
        a[i] = run_counting_connections(ours, fx, &ours_connections);
        b[i] = run_counting_connections(curl, fx, &curl_connections);
        d[i] = run_program(few, 300);
        e[i] = run_program(shared, 300);
        if (aiohttp)
            c[i] = run_program(aio, 300);
        setenv("CW_BENCH_AGAIN", "1", 1); /* each does its work twice; the second round is timed too */
        again[0][i] = run_program(ours, 300);
        again[1][i] = run_program(shared, 300);
        again[2][i] = run_program(curl, 300);
        unsetenv("CW_BENCH_AGAIN");
        setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1", 1); /* malloc's heap in transparent huge pages */
        huge[0][i] = run_program(shared, 300);
        huge[1][i] = run_program(curl, 300);
        if (kept_tunables)
            setenv("GLIBC_TUNABLES", kept_tunables, 1);
        else
            unsetenv("GLIBC_TUNABLES");
    }
    free(kept_tunables);
    double cpu_x = median_cpu(a, rounds), cpu_y = median_cpu(b, rounds), cpu_z = median_cpu(c, aiohttp ? rounds : 1);
    double cpu_w = median_cpu(d, rounds);
    program_run x = median_run(a, rounds), y = median_run(b, rounds), z = median_run(c, aiohttp ? rounds : 1);
    program_run w = median_run(d, rounds), v = median_run(e, rounds);
    double cpu_v = median_cpu(e, rounds);
    char name[64];
    snprintf(name, sizeof name, "users_pattern_%s", server);
    printf("\n7. The pattern the chapters teach, against %s:\n"
           "   10,000 tasks gathered, each awaiting one GET, limit 100 (medians, alternating)\n", server);
    report(name, "load average (1 min) at the start", load[0], "", "(2 cores)");
    if (!x.ok || !y.ok || x.out[1] || y.out[1]) {
        printf("  a run failed (ours %s, %g failed GETs; libcurl loop %s, %g failed)\n", x.ok ? "ok" : "crashed",
               x.out[1], y.ok ? "ok" : "crashed", y.out[1]);
        return;
    }
    report(name, "this library: wall time", x.out[0], "s", NULL);
    report(name, "plain libcurl multi loop: wall time", y.out[0], "s", NULL);
    report(name, "this library: CPU time (user + system)", cpu_x, "s", NULL);
    report(name, "plain libcurl multi loop: CPU time", cpu_y, "s", NULL);
    report(name, "this library: peak memory", x.peak_kb / 1024.0, "MiB", NULL);
    report(name, "plain libcurl multi loop: peak memory", y.peak_kb / 1024.0, "MiB", NULL);
    report(name, "time, ours / libcurl loop", x.out[0] / y.out[0], "x", "(target <= 1.10)");
    report(name, "CPU time, ours / libcurl loop", cpu_x / cpu_y, "x", NULL);
    report(name, "memory, ours / libcurl loop", (double)x.peak_kb / y.peak_kb, "x", "(target <= 3)");
    if (w.ok && !w.out[1]) { /* the same requests from 100 tasks: what 10,000 tasks cost apart */
        report(name, "100 tasks, 100 GETs each in turn: wall time", w.out[0], "s", NULL);
        report(name, "100 tasks, 100 GETs each in turn: CPU time", cpu_w, "s", NULL);
        report(name, "100 tasks, 100 GETs each in turn: peak memory", w.peak_kb / 1024.0, "MiB", NULL);
        report(name, "time, 100 tasks / libcurl loop", w.out[0] / y.out[0], "x", NULL);
        report(name, "CPU time, 100 tasks / libcurl loop", cpu_w / cpu_y, "x", NULL);
    }
    if (v.ok && !v.out[1]) { /* the same 10,000 tasks without a stack page each (cw_spawn_on_shared_stack) */
        report(name, "10,000 tasks on the shared stack: wall time", v.out[0], "s", NULL);
        report(name, "10,000 tasks on the shared stack: CPU time", cpu_v, "s", NULL);
        report(name, "10,000 tasks on the shared stack: peak memory", v.peak_kb / 1024.0, "MiB", NULL);
        report(name, "time, shared stack / libcurl loop", v.out[0] / y.out[0], "x", "(target <= 1.10)");
        report(name, "CPU time, shared stack / libcurl loop", cpu_v / cpu_y, "x", NULL);
        report(name, "memory, shared stack / libcurl loop", (double)v.peak_kb / y.peak_kb, "x", "(target <= 3)");
    }
    /* The same work a second time in the same process. On a virtual machine the first touch of a
     * fresh page can cost tens of microseconds, and 10,000 tasks touch thousands of pages (own stacks:
     * one each); a program that has run a while reuses memory it has touched already. */
    double warm[3];
    for (int k = 0; k < 3; k++)
        warm[k] = median_third_output(again[k], rounds);
    if (warm[0] > 0 && warm[1] > 0 && warm[2] > 0) {
        report(name, "again in the same process: this library: wall time", warm[0], "s", NULL);
        report(name, "again in the same process: shared stack: wall time", warm[1], "s", NULL);
        report(name, "again in the same process: libcurl loop: wall time", warm[2], "s", NULL);
        report(name, "time again, ours / libcurl loop", warm[0] / warm[2], "x", "(target <= 1.10)");
        report(name, "time again, shared stack / libcurl loop", warm[1] / warm[2], "x", "(target <= 1.10)");
    }
    /* The first round's gap is mostly those first touches: with malloc's heap in 2 MiB pages (glibc's
     * tunable, for both programs alike), one page fault maps what took 512. Own stacks are mapped by
     * the library, a 4 KiB page each, so only the shared stack is measured so. */
    program_run hv = median_run(huge[0], rounds), hy = median_run(huge[1], rounds);
    if (hv.ok && hy.ok && !hv.out[1] && !hy.out[1]) {
        report(name, "malloc in huge pages: shared stack: wall time", hv.out[0], "s", NULL);
        report(name, "malloc in huge pages: libcurl loop: wall time", hy.out[0], "s", NULL);
        report(name, "time in huge pages, shared stack / libcurl loop", hv.out[0] / hy.out[0], "x",
               "(both: GLIBC_TUNABLES=glibc.malloc.hugetlb=1)");
    }
    if (fx) { /* reuse: about `limit` connections for all the requests */
        report(name, "this library: connections opened", ours_connections, "", "(limit 100)");
        report(name, "plain libcurl multi loop: connections opened", curl_connections, "", NULL);
    }
    if (!aiohttp) {
        printf("  aiohttp: skipped (/usr/bin/python3 has no aiohttp: apt-get install python3-aiohttp)\n");
    } else if (!z.ok || z.out[1]) {
        printf("  aiohttp: a run failed (%g failed GETs)\n", z.out[1]);
    } else {
        report(name, "aiohttp: wall time", z.out[0], "s", NULL);
        report(name, "aiohttp: CPU time", cpu_z, "s", NULL);
        report(name, "aiohttp: peak memory", z.peak_kb / 1024.0, "MiB", NULL);
        report(name, "time, aiohttp / ours", z.out[0] / x.out[0], "x", "(target >= 5)");
        report(name, "CPU time, aiohttp / ours", cpu_z / cpu_x, "x", NULL);
        report(name, "memory, ours / aiohttp", (double)x.peak_kb / z.peak_kb, "x", "(target <= 0.33)");
        if (v.ok && !v.out[1]) {
            report(name, "time, aiohttp / shared stack", z.out[0] / v.out[0], "x", "(target >= 5)");
            report(name, "memory, shared stack / aiohttp", (double)v.peak_kb / z.peak_kb, "x", "(target <= 0.33)");
        }
    }
}

/* ---- 8. many sleeping tasks, against asyncio -------------------------------------------------------- */

/* The same program twice: tasks on the shared stack (cw_spawn_on_shared_stack(), which the figures
 * and targets are about) and, with own_too, tasks on their own stacks (cw_spawn()), for comparison.
 * Ours and asyncio's alternate for `rounds` rounds (the median of each), so that a busy moment of
 * the machine hits both. */
static void sleepers(int n, bool own_too, int rounds)
{
    char count[16];
    snprintf(count, sizeof count, "%d", n);
    char *ours[] = { client("sleepers"), count, "shared", NULL };
    char *own[] = { client("sleepers"), count, "own", NULL };
    char *aio[] = { "/usr/bin/python3", "bench/clients/asyncio_sleepers.py", count, NULL };
    double load[1] = { -1 };
    getloadavg(load, 1); /* the machine may be shared: wall times depend on it, CPU times less */
    bool python = have_python();
    program_run a[9], c[9];
    for (int i = 0; i < rounds; i++) {
        a[i] = run_program(ours, 600);
        c[i] = python ? run_program(aio, 600) : (program_run){ .ok = false };
    }
    program_run x = median_run(a, rounds), z = median_run(c, rounds);
    program_run y = own_too ? run_program(own, 600) : (program_run){ .ok = false };
    char name[64];
    snprintf(name, sizeof name, "sleepers_%d", n);
    printf("\n8. %d tasks that each sleep 200 ms, gathered%s\n", n, rounds > 1 ? " (medians, alternating)" : "");
    report(name, "load average (1 min) at the start", load[0], "", "(2 cores)");
    if (!x.ok)
        printf("  this library: %s\n", x.too_long ? "stopped after 600 s" : "crashed");
    else {
        report(name, "this library: failed tasks", x.out[1], "tasks", "(target 0)");
        report(name, "this library: wall time", x.out[0], "s", NULL);
        report(name, "this library: CPU time (user + system)", x.cpu_s, "s", NULL);
        report(name, "this library: tasks per second", n / x.out[0], "tasks/s", NULL);
        report(name, "this library: peak memory", x.peak_kb / 1024.0, "MiB", NULL);
        report(name, "this library: memory per task", (double)x.peak_kb / n, "KiB", "(target <= 2)");
        report(name, "this library: most memory mappings", x.out[2], "maps", "(vm.max_map_count: 65530)");
    }
    if (own_too && y.ok) {
        report(name, "own stacks (cw_spawn): wall time", y.out[0], "s", NULL);
        report(name, "own stacks (cw_spawn): CPU time", y.cpu_s, "s", NULL);
        report(name, "own stacks (cw_spawn): memory per task", (double)y.peak_kb / n, "KiB", NULL);
    } else if (own_too) {
        printf("  own stacks (cw_spawn): %s\n", y.too_long ? "stopped after 600 s" : "failed");
    }
    if (!python) {
        printf("  asyncio: skipped (no /usr/bin/python3)\n");
    } else if (!z.ok) {
        printf("  asyncio: %s\n", z.too_long ? "stopped after 600 s" : "crashed");
    } else {
        report(name, "asyncio: wall time", z.out[0], "s", NULL);
        report(name, "asyncio: CPU time (user + system)", z.cpu_s, "s", NULL);
        report(name, "asyncio: tasks per second", n / z.out[0], "tasks/s", NULL);
        report(name, "asyncio: peak memory", z.peak_kb / 1024.0, "MiB", NULL);
        report(name, "asyncio: memory per task", (double)z.peak_kb / n, "KiB", NULL);
        if (x.ok) {
            report(name, "time, asyncio / ours", z.out[0] / x.out[0], "x", "(target >= 5)");
            report(name, "CPU time, asyncio / ours", z.cpu_s / x.cpu_s, "x", NULL);
            report(name, "memory per task, ours / asyncio", (double)x.peak_kb / z.peak_kb, "x", NULL);
        }
    }
}

/* ---- 9. a task switch, against a function call -------------------------------------------------- */

static void switches(bool quick)
{
    char *ours[] = { client("switches"), "100", quick ? "2000" : "10000", NULL };
    program_run x = run_program(ours, 300);
    printf("\n9. Task switches: 100 tasks, each calling cw_sleep(0) in a loop (two switches a call)\n");
    if (!x.ok || x.n_out < 3) {
        printf("  the run failed\n");
        return;
    }
    report("switches", "task switches per second", x.out[0] / x.out[1], "/s", NULL);
    report("switches", "function calls per second", x.out[0] / x.out[2], "/s", NULL);
    report("switches", "a switch costs, in function calls", x.out[1] / x.out[2], "x", NULL);
    char *copying[] = { client("switches"), "100", quick ? "2000" : "10000", "shared", NULL };
    program_run y = run_program(copying, 300);
    if (y.ok && y.n_out >= 3)
        report("switches", "on the shared stack (copying): switches/s", y.out[0] / y.out[1], "/s", NULL);
    /* System calls per switch, counted by strace: libuv's one epoll_wait per loop turn is shared by 100 tasks. */
    if (system("command -v strace > /dev/null") != 0) {
        printf("  system calls per switch: skipped (strace is not installed)\n");
        return;
    }
    char cmd[700], line[256];
    snprintf(cmd, sizeof cmd, "strace -f -c -o /dev/stderr %s 100 2000 2>&1 > /dev/null | grep ' total$'",
             client("switches"));
    fflush(stdout);
    FILE *p = popen(cmd, "r");
    double seconds, calls = -1;
    if (p && fgets(line, sizeof line, p) && sscanf(line, "%*s %lf %*s %lf", &seconds, &calls) != 2)
        sscanf(line, "%*s %lf %lf", &seconds, &calls);
    if (p)
        pclose(p);
    if (calls >= 0)
        report("switches", "system calls per switch (strace -c, whole run)", calls / (2.0 * 100 * 2000), "",
               "(target ~0)");
}

/* ---- 10. while pending: wait(FIRST_COMPLETED) ------------------------------------------------------ */

static void wait_loop(void)
{
    char *ours[] = { client("wait_loop"), "10000", NULL };
    char *aio[] = { "/usr/bin/python3", "bench/clients/asyncio_wait_loop.py", "10000", NULL };
    program_run x = run_program(ours, 120);
    printf("\n10. while pending: wait(FIRST_COMPLETED) over 10,000 futures finished one per loop turn\n");
    if (x.ok)
        report("wait_loop", "this library", x.out[0], "s", "(target < 1)");
    else
        printf("  this library: %s\n", x.too_long ? "stopped after 120 s (target < 1 s)" : "the run failed");
    if (!have_python())
        return;
    program_run z = run_program(aio, 120);
    if (z.ok)
        report("wait_loop", "asyncio", z.out[0], "s", NULL);
    if (x.ok && z.ok)
        report("wait_loop", "time, asyncio / ours", z.out[0] / x.out[0], "x", NULL);
}

/* --only 7,8 runs those sections alone. */
static const char *only;

static bool wanted(int section)
{
    if (!only)
        return true;
    for (const char *p = only; *p;) {
        char *end;
        long n = strtol(p, &end, 10);
        if (end == p)
            break;
        if (n == section)
            return true;
        p = *end == ',' ? end + 1 : end;
    }
    return false;
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
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
    }
    int rounds = quick ? 3 : 5;
    char self[512];
    snprintf(self, sizeof self, "%s", argv[0]);
    snprintf(clients, sizeof clients, "%s/clients", dirname(self));
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
    if (wanted(1)) {
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
    }

    /* 2. Throughput against curl --parallel on the same URLs, alternating. */
    if (wanted(2)) {
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
    }

    /* 3. Sequential against concurrent: the chapter 05 lesson, in numbers. */
    if (wanted(3)) {
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
    }

    /* 4. Scaling: time per request and peak memory as the count grows, futures released as they finish. */
    if (wanted(4)) {
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
    }

    /* 5. Memory per request in flight: everything at once, nothing released until the end. */
    if (wanted(5)) {
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
    }

    /* 6. The servers' own rates under wrk, so a reader can see they are not the bottleneck, and
     * 7. the pattern the chapters teach against a bare libcurl loop and aiohttp, on both servers. */
    if (wanted(6) || wanted(7)) {
        nginx web;
        bool have_nginx = nginx_start(&web);
        char fixture_url[96], nginx_url[96] = "";
        snprintf(fixture_url, sizeof fixture_url, "%s/get", base);
        if (have_nginx)
            snprintf(nginx_url, sizeof nginx_url, "http://127.0.0.1:%d/hello.txt", web.port);
        if (wanted(6)) {
            printf("\n6. The servers under wrk (1 thread, 100 connections)\n");
            if (system("command -v wrk > /dev/null") == 0) {
                report("wrk", "fixture server: requests per second", wrk_rate(fixture_url, quick), "req/s", NULL);
                if (have_nginx)
                    report("wrk", "nginx, an 11-byte file: requests per second", wrk_rate(nginx_url, quick),
                           "req/s", NULL);
            } else {
                printf("  skipped: wrk is not installed (apt-get install wrk)\n");
            }
        }
        if (wanted(7)) {
            cpu_set_t all;
            int cpu = pin_to_one_cpu(&all);
            if (have_nginx) { /* again, on that CPU */
                nginx_stop(&web);
                have_nginx = nginx_start(&web);
                snprintf(nginx_url, sizeof nginx_url, "http://127.0.0.1:%d/hello.txt", web.port);
            }
            if (cpu >= 0)
                printf("\n7. (clients and servers all on CPU %d)\n", cpu);
            users_pattern("fixture_server", fixture_url, fx, rounds);
            if (have_nginx)
                users_pattern("nginx", nginx_url, NULL, rounds);
            if (cpu >= 0)
                set_cpus(&all);
        }
        if (have_nginx)
            nginx_stop(&web);
    }

    /* 8. Many sleeping tasks against asyncio; 9. a switch against a call; 10. cw_wait() in a loop. */
    if (wanted(8)) {
        sleepers(100000, true, quick ? 1 : 3);
        if (!quick)
            sleepers(1000000, false, 1); /* own stacks: over 4 GiB and minutes, see sleepers_100000 */
    }
    if (wanted(9))
        switches(quick);
    if (wanted(10))
        wait_loop();

    if (json) {
        fprintf(json, "\n]}\n");
        fclose(json);
        printf("\nResults written to %s\n", json_path);
    }
    cw_fixture_stop(fx);
    return 0;
}
