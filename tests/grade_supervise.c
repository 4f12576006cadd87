/**
 * @file grade_supervise.c
 * @brief Runs each graded test in a fresh process and decides its verdict from outside that process.
 *
 * A test process runs the learner's code, so nothing it can write is trusted as such: it gets a random
 * nonce on descriptor 3 and may write one verdict line on descriptor 4, and that line counts only when
 * it carries the nonce, parses, and the process then exited with status 0. Before the verdict is read,
 * every process the test left behind is killed (the sandbox's pid namespace, the process group, and any
 * orphan re-parented to this process as the subreaper), so nothing can write after the decision.
 */
#include "grade_supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>

/** Timeout of a test that gives none, in seconds. */
#define CW_GRADE_DEFAULT_TIMEOUT_S 10.0
/** Output of one test shown to the learner; the rest is counted, not shown. */
#define CW_GRADE_SHOWN_OUTPUT 8192
/** Output of one test past which it is stopped as a flood (CW_GRADE_OUTPUT_LIMIT overrides). */
#define CW_GRADE_OUTPUT_LIMIT (4u << 20)
/** Seconds a test process may take to start its test (make its sandbox, load, reach the test). */
#define CW_GRADE_START_BUDGET_S 20.0
/** Longest verdict line accepted. */
#define CW_GRADE_VERDICT_MAX 4096

/** What happened to one test. */
typedef enum cw_grade_status {
    CW_GRADE_NOT_RUN,   /**< no result came back (the count guard reports it) */
    CW_GRADE_PASSED,    /**< every check held */
    CW_GRADE_FAILED,    /**< a check failed, or the test process ended before the test did */
    CW_GRADE_CRASHED,   /**< the test process died of a signal */
    CW_GRADE_TIMED_OUT, /**< the test ran past its timeout and was killed */
} cw_grade_status;

static const char *const cw_grade_status_names[] = {
    [CW_GRADE_NOT_RUN] = "not_run",   [CW_GRADE_PASSED] = "passed",       [CW_GRADE_FAILED] = "failed",
    [CW_GRADE_CRASHED] = "crashed",   [CW_GRADE_TIMED_OUT] = "timed_out",
};

/** The outcome of one test. */
typedef struct cw_grade_outcome {
    cw_grade_status status;
    int signal;        /**< the signal that killed it (CW_GRADE_CRASHED), else 0 */
    char *message;     /**< the outcome in plain words (NULL when it passed) */
    char *rerun;       /**< a command that shows the failure up close, or NULL */
    char *file;        /**< where the failing check is, or NULL */
    int line;
    double duration_s; /**< wall-clock time of the test's process */
} cw_grade_outcome;

/** What the supervisor saw of one test process. */
typedef struct cw_grade_run {
    int wait_status;    /**< of the process it started (the sandbox, or the test itself) */
    bool timed_out;     /**< killed at the deadline */
    bool flooded;       /**< killed for printing too much */
    char verdict[CW_GRADE_VERDICT_MAX + 1];
    size_t verdict_len;
    bool verdict_overflow;
    char shown[CW_GRADE_SHOWN_OUTPUT];
    size_t shown_len;
    size_t output_len;  /**< everything it printed, shown or not */
} cw_grade_run;

/** Seconds on a monotonic clock. */
static double cw_grade_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/** Give up: there is nothing to grade without memory. */
static void cw_grade_out_of_memory(void)
{
    fprintf(stderr, "grade: out of memory\n");
    exit(2);
}

/** printf into a new string. */
static char *cw_grade_format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *cw_grade_format(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    char *text = NULL;
    int len = vasprintf(&text, fmt, args);
    va_end(args);
    if (len < 0)
        cw_grade_out_of_memory();
    return text;
}

/** A copy of @p s (NULL stays NULL). */
static char *cw_grade_strdup_or_die(const char *s)
{
    if (s == NULL)
        return NULL;
    char *copy = strdup(s);
    if (copy == NULL)
        cw_grade_out_of_memory();
    return copy;
}

/** The test's timeout in seconds: its own or the default, times CW_TIMEOUT_SCALE when set. */
static double cw_grade_timeout(const cw_grade_item *test)
{
    double timeout = test->timeout_s > 0 ? test->timeout_s : CW_GRADE_DEFAULT_TIMEOUT_S;
    const char *scale = getenv("CW_TIMEOUT_SCALE");
    if (scale != NULL && *scale != '\0') {
        double factor = strtod(scale, NULL);
        if (factor > 0)
            timeout *= factor;
    }
    return timeout;
}

int cw_grade_format_verdict(char *buf, size_t size, const char *nonce, bool passed, const char *file, int line,
                            const char *message)
{
    int len = snprintf(buf, size, "%s %s %s %d ", CW_GRADE_VERDICT_TAG, nonce, passed ? "pass" : "fail", line);
    if (len < 0 || (size_t)len >= size)
        return -1;
    /* The file ends at a tab and the message at the newline: neither may hold one. */
    for (const char *p = file != NULL ? file : "?"; *p != '\0' && (size_t)len + 3 < size; p++)
        buf[len++] = *p == '\t' || *p == '\n' ? ' ' : *p;
    buf[len++] = '\t';
    for (const char *p = message != NULL ? message : ""; *p != '\0' && (size_t)len + 2 < size; p++)
        buf[len++] = *p == '\n' ? ' ' : *p;
    buf[len++] = '\n';
    buf[len] = '\0';
    return len;
}

/** A fresh nonce: 32 hex digits from the kernel's random source. */
static void cw_grade_new_nonce(char nonce[33])
{
    unsigned char bytes[16];
    size_t got = 0;
    while (got < sizeof bytes) {
        ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
        if (n < 0 && errno != EINTR) {
            perror("grade: getrandom");
            exit(2);
        }
        if (n > 0)
            got += (size_t)n;
    }
    for (size_t k = 0; k < sizeof bytes; k++)
        snprintf(nonce + 2 * k, 3, "%02x", bytes[k]);
}

/** Kill every process left of a test: its group, and the orphans this subreaper inherited; reap them all. */
static void cw_grade_kill_tree(pid_t group)
{
    kill(-group, SIGKILL);
    double give_up = cw_grade_now() + 10;
    for (;;) {
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
            ;
        if (pid < 0 && errno == ECHILD)
            return;
        if (cw_grade_now() > give_up) {
            fprintf(stderr, "grade: a test left processes that would not die\n");
            return;
        }
        /* Orphans of the test were re-parented to this process: find them by their parent. */
        DIR *proc = opendir("/proc");
        struct dirent *entry;
        while (proc != NULL && (entry = readdir(proc)) != NULL) {
            char path[300], stat[512];
            if (entry->d_name[0] < '0' || entry->d_name[0] > '9')
                continue;
            snprintf(path, sizeof path, "/proc/%s/stat", entry->d_name);
            FILE *f = fopen(path, "r");
            if (f == NULL)
                continue;
            size_t n = fread(stat, 1, sizeof stat - 1, f);
            fclose(f);
            stat[n] = '\0';
            const char *after_name = strrchr(stat, ')');
            int ppid = 0;
            if (after_name != NULL && sscanf(after_name, ") %*c %d", &ppid) == 1 && ppid == getpid()) {
                pid_t child = (pid_t)atoi(entry->d_name);
                kill(-child, SIGKILL);
                kill(child, SIGKILL);
            }
        }
        if (proc != NULL)
            closedir(proc);
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    }
}

/** Read what is there on @p fd into the run; returns false at end of file. */
static bool cw_grade_drain(int fd, bool is_verdict, cw_grade_run *run, size_t output_limit)
{
    char buf[65536];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0)
        return errno == EINTR || errno == EAGAIN;
    if (n == 0)
        return false;
    if (is_verdict) {
        size_t room = CW_GRADE_VERDICT_MAX - run->verdict_len;
        size_t take = (size_t)n < room ? (size_t)n : room;
        memcpy(run->verdict + run->verdict_len, buf, take);
        run->verdict_len += take;
        run->verdict[run->verdict_len] = '\0';
        if ((size_t)n > take)
            run->verdict_overflow = true;
    } else {
        size_t room = sizeof run->shown - run->shown_len;
        size_t take = (size_t)n < room ? (size_t)n : room;
        memcpy(run->shown + run->shown_len, buf, take);
        run->shown_len += take;
        run->output_len += (size_t)n;
        if (run->output_len > output_limit)
            run->flooded = true;
    }
    return true;
}

/** The most a test may print (CW_GRADE_OUTPUT_LIMIT bytes, or the default). */
static size_t cw_grade_output_limit(void)
{
    const char *limit = getenv("CW_GRADE_OUTPUT_LIMIT");
    long long value = limit != NULL ? atoll(limit) : 0;
    return value > 0 ? (size_t)value : CW_GRADE_OUTPUT_LIMIT;
}

/** Start the test @p name in a new process group, watch it until it ends or its time is up, kill what is left. */
static void cw_grade_start_and_watch(const cw_grade_plan *plan, const cw_grade_item *test, const char *nonce,
                                     cw_grade_run *run)
{
    int nonce_pipe[2], verdict_pipe[2], output_pipe[2];
    if (pipe2(nonce_pipe, O_CLOEXEC) != 0 || pipe2(verdict_pipe, O_CLOEXEC) != 0 ||
        pipe2(output_pipe, O_CLOEXEC) != 0) {
        perror("grade: pipe");
        exit(2);
    }
    /* The nonce waits in the pipe, which holds far more than 33 bytes. */
    if (write(nonce_pipe[1], nonce, strlen(nonce)) != (ssize_t)strlen(nonce) || write(nonce_pipe[1], "\n", 1) != 1) {
        perror("grade: write");
        exit(2);
    }
    close(nonce_pipe[1]);

    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("grade: fork");
        exit(2);
    }
    if (pid == 0) {
        setpgid(0, 0);
        /* Out of the way first (the pipes may sit on 0 to 4 themselves), then into place without CLOEXEC. */
        int devnull = fcntl(open("/dev/null", O_RDONLY | O_CLOEXEC), F_DUPFD_CLOEXEC, 16);
        int output = fcntl(output_pipe[1], F_DUPFD_CLOEXEC, 16);
        int nonce_in = fcntl(nonce_pipe[0], F_DUPFD_CLOEXEC, 16);
        int verdict_out = fcntl(verdict_pipe[1], F_DUPFD_CLOEXEC, 16);
        if (devnull < 0 || output < 0 || nonce_in < 0 || verdict_out < 0 || dup2(devnull, 0) < 0 ||
            dup2(output, 1) < 0 || dup2(output, 2) < 0 || dup2(nonce_in, CW_GRADE_NONCE_FD) < 0 ||
            dup2(verdict_out, CW_GRADE_VERDICT_FD) < 0)
            _exit(126);
        for (int fd = CW_GRADE_VERDICT_FD + 1; fd < 1024; fd++)
            close(fd);
        signal(SIGPIPE, SIG_DFL);
        if (plan->runner == NULL) {
            plan->run_here(test->name, plan->run_ctx);
            _exit(125);
        }
        int n_prefix = 0;
        while (plan->runner[n_prefix] != NULL)
            n_prefix++;
        char **argv = calloc((size_t)n_prefix + 3, sizeof *argv);
        if (argv == NULL)
            _exit(126);
        memcpy(argv, plan->runner, (size_t)n_prefix * sizeof *argv);
        argv[n_prefix] = "--run";
        argv[n_prefix + 1] = (char *)test->name;
        execvp(argv[0], argv);
        fprintf(stderr, "grade: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid); /* also here, so the group exists whichever of the two runs first */
    close(nonce_pipe[0]);
    close(verdict_pipe[1]);
    close(output_pipe[1]);

    size_t output_limit = cw_grade_output_limit();
    /* The test's own time starts when its process says it starts the test (one byte on the verdict
     * channel); making the sandbox and loading the program have a budget of their own. */
    double deadline = cw_grade_now() + CW_GRADE_START_BUDGET_S + cw_grade_timeout(test);
    bool started = false;
    bool exited = false, verdict_open = true, output_open = true;
    /* Watch until the process it started has ended, or its time is up, or it floods. */
    while (!exited) {
        struct pollfd fds[2] = {{verdict_open ? verdict_pipe[0] : -1, POLLIN, 0},
                                {output_open ? output_pipe[0] : -1, POLLIN, 0}};
        double left = deadline - cw_grade_now();
        if (left <= 0) {
            run->timed_out = true;
            break;
        }
        int wait_ms = left > 0.05 ? 50 : (int)(left * 1000) + 1;
        if (poll(fds, 2, wait_ms) > 0) {
            if (fds[0].revents != 0)
                verdict_open = cw_grade_drain(verdict_pipe[0], true, run, output_limit);
            if (!started && run->verdict_len > 0) {
                started = true;
                deadline = cw_grade_now() + cw_grade_timeout(test);
            }
            if (fds[1].revents != 0)
                output_open = cw_grade_drain(output_pipe[0], false, run, output_limit);
        }
        if (run->flooded)
            break;
        exited = waitpid(pid, &run->wait_status, WNOHANG) == pid;
    }
    /* Nothing of the test survives this: only then is what it wrote read to the end. */
    cw_grade_kill_tree(pid);
    if (!exited && waitpid(pid, &run->wait_status, 0) != pid)
        run->wait_status = 0;
    int flags = fcntl(verdict_pipe[0], F_GETFL);
    fcntl(verdict_pipe[0], F_SETFL, flags | O_NONBLOCK);
    fcntl(output_pipe[0], F_SETFL, flags | O_NONBLOCK);
    while (verdict_open && cw_grade_drain(verdict_pipe[0], true, run, output_limit) && errno != EAGAIN)
        ;
    while (output_open && !run->flooded && cw_grade_drain(output_pipe[0], false, run, output_limit) &&
           errno != EAGAIN)
        ;
    close(verdict_pipe[0]);
    close(output_pipe[0]);
}

/** A verdict from the test process, once checked. */
typedef struct cw_grade_verdict {
    bool valid;
    bool passed;
    int line;
    char file[512];
    char message[CW_GRADE_VERDICT_MAX];
} cw_grade_verdict;

/** Check the verdict line: one line, the right nonce, "pass" or "fail", a line number, a file, a message. */
static cw_grade_verdict cw_grade_parse_verdict(const cw_grade_run *run, const char *nonce)
{
    cw_grade_verdict v = {0};
    /* The start byte, then the line. */
    if (run->verdict_len < 1 || run->verdict[0] != CW_GRADE_START_BYTE)
        return v;
    const char *text = run->verdict + 1;
    size_t len = run->verdict_len - 1;
    if (run->verdict_overflow || len == 0 || text[len - 1] != '\n' || memchr(text, '\n', len) != text + len - 1 ||
        strlen(text) != len)
        return v;
    char tag[8], got_nonce[40], word[8];
    int line, consumed = 0;
    if (sscanf(text, "%7s %39s %7s %d %n", tag, got_nonce, word, &line, &consumed) != 4 || consumed == 0)
        return v;
    if (strcmp(tag, CW_GRADE_VERDICT_TAG) != 0 || strcmp(got_nonce, nonce) != 0)
        return v;
    if (strcmp(word, "pass") != 0 && strcmp(word, "fail") != 0)
        return v;
    const char *file = text + consumed;
    const char *tab = strchr(file, '\t');
    if (tab == NULL || (size_t)(tab - file) >= sizeof v.file)
        return v;
    memcpy(v.file, file, (size_t)(tab - file));
    v.file[tab - file] = '\0';
    size_t message_len = (size_t)(text + len - 1 - (tab + 1));
    memcpy(v.message, tab + 1, message_len);
    v.message[message_len] = '\0';
    v.passed = strcmp(word, "pass") == 0;
    v.line = line;
    v.valid = true;
    return v;
}

/** The usual name of a signal a crashing exercise dies of, e.g. "SIGSEGV"; NULL for others. */
static const char *cw_grade_signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    case SIGPIPE: return "SIGPIPE";
    case SIGTRAP: return "SIGTRAP";
    case SIGXCPU: return "SIGXCPU";
    case SIGXFSZ: return "SIGXFSZ";
    default: return NULL;
    }
}

/** What a crash most often means, in a learner's words. */
static const char *cw_grade_signal_meaning(int sig)
{
    switch (sig) {
    case SIGSEGV: return "a bad pointer: NULL, freed, or past the end of an array";
    case SIGABRT: return "an abort: often a double free or a corrupted heap (see the output above the row)";
    case SIGBUS: return "a bad memory access";
    case SIGFPE: return "an arithmetic error such as a division by zero";
    case SIGXCPU: return "the test used more CPU time than it is allowed";
    case SIGXFSZ: return "the test wrote a file larger than it is allowed";
    case SIGKILL: return "killed, e.g. for using more memory or processes than allowed";
    default: return strsignal(sig);
    }
}

/** The signal a process died of: directly, or as a sandbox reports it (exit status 128 + N). */
static int cw_grade_death_signal(const cw_grade_plan *plan, int wait_status)
{
    if (WIFSIGNALED(wait_status))
        return WTERMSIG(wait_status);
    if (plan->runner != NULL && WIFEXITED(wait_status) && WEXITSTATUS(wait_status) > 128 &&
        WEXITSTATUS(wait_status) < 128 + 32)
        return WEXITSTATUS(wait_status) - 128;
    return 0;
}

/** Decide the test's outcome from what was seen, and put it in plain words. */
static void cw_grade_decide(const cw_grade_plan *plan, const cw_grade_item *test, const cw_grade_run *run,
                            const char *nonce, cw_grade_outcome *out)
{
    const char *program = plan->program;
    cw_grade_verdict v = cw_grade_parse_verdict(run, nonce);
    int sig = cw_grade_death_signal(plan, run->wait_status);
    bool exited_zero = WIFEXITED(run->wait_status) && WEXITSTATUS(run->wait_status) == 0;
    if (v.valid && !v.passed) {
        out->file = cw_grade_strdup_or_die(v.file);
        out->line = v.line;
    }
    if (run->timed_out) {
        out->status = CW_GRADE_TIMED_OUT;
        out->message = cw_grade_format("the test did not finish within %g s and was stopped (is something waiting "
                                       "forever? on a slow machine, CW_TIMEOUT_SCALE=3 gives every test 3 times "
                                       "longer)", cw_grade_timeout(test));
        out->rerun = cw_grade_format("CK_FORK=no gdb -ex run -ex bt --args %s --only %s   (press Ctrl-C when it hangs)",
                                     program, test->name);
    } else if (run->flooded) {
        out->status = CW_GRADE_FAILED;
        out->message = cw_grade_format("the test printed more than %zu bytes and was stopped (a print in a loop?)",
                                       cw_grade_output_limit());
    } else if (sig != 0) {
        const char *sig_name = cw_grade_signal_name(sig);
        out->status = CW_GRADE_CRASHED;
        out->signal = sig;
        out->message = cw_grade_format("the test crashed with signal %d (%s: %s)", sig,
                                       sig_name != NULL ? sig_name : "signal", cw_grade_signal_meaning(sig));
        out->rerun = cw_grade_format("CK_FORK=no valgrind -q %s --only %s", program, test->name);
    } else if (run->verdict_len > 1 && !v.valid) {
        out->status = CW_GRADE_FAILED;
        out->message = cw_grade_strdup_or_die("the test process wrote on the grader's verdict channel something the "
                                              "grader did not issue (a forged or garbled verdict): no points");
    } else if (!v.valid) {
        out->status = CW_GRADE_FAILED;
        int code = WIFEXITED(run->wait_status) ? WEXITSTATUS(run->wait_status) : -1;
        if (code == 0)
            out->message = cw_grade_strdup_or_die("the test process exited with status 0 before the test reached its "
                                                  "end (does the exercise call exit()?)");
        else
            out->message = cw_grade_format("the test process ended early with exit status %d before the test "
                                           "reached its end (does something call exit()?)", code);
    } else if (!v.passed) { /* a failed check comes first: what it skipped may have made valgrind exit 1 too */
        out->status = CW_GRADE_FAILED;
        out->message = cw_grade_format("%s:%d: %s", v.file, v.line, v.message);
    } else if (!exited_zero) {
        out->status = CW_GRADE_FAILED;
        out->message = cw_grade_format("the test's checks held, but its process then ended with %s %d (under "
                                       "valgrind or a sanitizer: the error it reported, in the output above)",
                                       WIFEXITED(run->wait_status) ? "exit status" : "signal",
                                       WIFEXITED(run->wait_status) ? WEXITSTATUS(run->wait_status)
                                                                   : WTERMSIG(run->wait_status));
    } else {
        out->status = CW_GRADE_PASSED;
    }
}

/** Write @p s as a JSON string: quotes, backslashes and control bytes escaped, bad UTF-8 replaced. */
static void cw_grade_json_string(FILE *to, const char *s)
{
    if (s == NULL) {
        fputs("null", to);
        return;
    }
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', to);
    while (*p != '\0') {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            fprintf(to, "\\%c", c);
            p++;
        } else if (c == '\n') {
            fputs("\\n", to);
            p++;
        } else if (c == '\t') {
            fputs("\\t", to);
            p++;
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(to, "\\u%04x", c);
            p++;
        } else if (c < 0x80) {
            fputc(c, to);
            p++;
        } else {
            /* A multi-byte sequence passes through only when it is well-formed UTF-8. */
            int len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 0;
            int ok = len;
            for (int k = 1; k < len && ok; k++)
                if ((p[k] & 0xc0) != 0x80)
                    ok = 0;
            if (ok) {
                fwrite(p, 1, (size_t)len, to);
                p += len;
            } else {
                fputs("\\ufffd", to);
                p++;
            }
        }
    }
    fputc('"', to);
}

/**
 * The count guard's second half: the tests tests/CHAPTER.c defines with START_TEST that are not listed,
 * so they would never run (and never cost a point). Returns how many, their names in @p names.
 */
static int cw_grade_unlisted(const cw_grade_plan *plan, char ***names)
{
    char path[512], line[1024];
    *names = NULL;
    snprintf(path, sizeof path, "tests/%s.c", plan->chapter);
    FILE *source = fopen(path, "r");
    if (source == NULL)
        return 0; /* run from elsewhere: only the runtime count is checked */
    int count = 0;
    while (fgets(line, sizeof line, source) != NULL) {
        char name[256];
        if (sscanf(line, " START_TEST ( %255[A-Za-z0-9_] )", name) != 1)
            continue;
        bool listed = false;
        for (int i = 0; i < plan->n && !listed; i++)
            listed = strcmp(plan->tests[i].name, name) == 0;
        if (listed)
            continue;
        char **grown = realloc(*names, (size_t)(count + 1) * sizeof *grown);
        if (grown == NULL)
            cw_grade_out_of_memory();
        *names = grown;
        (*names)[count++] = cw_grade_strdup_or_die(name);
    }
    fclose(source);
    return count;
}

/** The report other formats are made from (docs/grade-report.schema.json, one chapter's part);
 *  returns 0, or -1 when the file could not be written. */
static int cw_grade_write_json(const cw_grade_plan *plan, const cw_grade_outcome *outcomes, const int *selected,
                               int n_selected, int results_seen, char **unlisted, int n_unlisted, const char *error,
                               int points, int max_points)
{
    FILE *to = fopen(plan->json_path, "w");
    if (to == NULL) {
        perror(plan->json_path);
        return -1;
    }
    fprintf(to, "{\"chapter\":");
    cw_grade_json_string(to, plan->chapter);
    fprintf(to, ",\"status\":\"%s\",\"points\":%d,\"max_points\":%d,\"tests_expected\":%d,\"tests_run\":%d,"
            "\"error\":", error == NULL ? "graded" : "incomplete", points, max_points, n_selected + n_unlisted,
            results_seen);
    cw_grade_json_string(to, error);
    fprintf(to, ",\"compile_error\":null,\"hints\":");
    char *hints = cw_grade_format("chapters/%s/hints.md", plan->chapter);
    cw_grade_json_string(to, hints);
    free(hints);
    fprintf(to, ",\"tests\":[");
    for (int k = 0; k < n_selected; k++) {
        const cw_grade_item *test = &plan->tests[selected[k]];
        const cw_grade_outcome *out = &outcomes[selected[k]];
        bool passed = out->status == CW_GRADE_PASSED;
        fprintf(to, "%s\n  {\"chapter\":", k ? "," : "");
        cw_grade_json_string(to, plan->chapter);
        fprintf(to, ",\"name\":");
        cw_grade_json_string(to, test->name);
        fprintf(to, ",\"title\":");
        cw_grade_json_string(to, test->title);
        fprintf(to, ",\"points\":%d,\"max_points\":%d,\"status\":\"%s\",\"signal\":", passed ? test->points : 0,
                test->points, cw_grade_status_names[out->status]);
        if (out->status == CW_GRADE_CRASHED)
            fprintf(to, "%d,\"signal_name\":", out->signal);
        else
            fputs("null,\"signal_name\":", to);
        cw_grade_json_string(to, out->status == CW_GRADE_CRASHED ? cw_grade_signal_name(out->signal) : NULL);
        fprintf(to, ",\"message\":");
        cw_grade_json_string(to, out->message);
        fprintf(to, ",\"location\":");
        if (out->file != NULL && !passed) {
            fprintf(to, "{\"file\":");
            cw_grade_json_string(to, out->file);
            fprintf(to, ",\"line\":%d}", out->line);
        } else {
            fputs("null", to);
        }
        fprintf(to, ",\"rerun\":");
        cw_grade_json_string(to, out->rerun);
        fprintf(to, ",\"duration_s\":%.3f}", out->duration_s);
    }
    for (int u = 0; u < n_unlisted; u++) {
        fprintf(to, "%s\n  {\"chapter\":", n_selected + u ? "," : "");
        cw_grade_json_string(to, plan->chapter);
        fprintf(to, ",\"name\":");
        cw_grade_json_string(to, unlisted[u]);
        fprintf(to, ",\"title\":");
        cw_grade_json_string(to, unlisted[u]);
        fprintf(to, ",\"points\":0,\"max_points\":null,\"status\":\"not_run\",\"signal\":null,\"signal_name\":null,"
                "\"message\":");
        char *message = cw_grade_format("tests/%s.c defines this test but main() does not list it, so it never ran",
                                        plan->chapter);
        cw_grade_json_string(to, message);
        free(message);
        fprintf(to, ",\"location\":null,\"rerun\":null,\"duration_s\":0}");
    }
    fprintf(to, "\n]}\n");
    if (fclose(to) != 0) {
        perror(plan->json_path);
        return -1;
    }
    return 0;
}

/** One row of the table: title, points earned/max, status. */
static void cw_grade_print_row(const cw_grade_item *test, const cw_grade_outcome *out, int width)
{
    char points[32];
    snprintf(points, sizeof points, "%d/%d", out->status == CW_GRADE_PASSED ? test->points : 0, test->points);
    if ((int)strlen(test->title) > width)
        printf("  %.*s...  %7s  ", width - 3, test->title, points);
    else
        printf("  %-*s  %7s  ", width, test->title, points);
    const char *sig_name = cw_grade_signal_name(out->signal);
    if (out->status == CW_GRADE_CRASHED && sig_name != NULL)
        printf("crashed (signal %d, %s)\n", out->signal, sig_name);
    else if (out->status == CW_GRADE_CRASHED)
        printf("crashed (signal %d)\n", out->signal);
    else if (out->status == CW_GRADE_TIMED_OUT)
        printf("timed out\n");
    else if (out->status == CW_GRADE_NOT_RUN)
        printf("no result\n");
    else
        printf("%s\n", cw_grade_status_names[out->status]);
}

/* ASan says once per process that it does not fully support makecontext; each test is a process. */
static const char cw_grade_makecontext_notice[] = "doesn't fully support makecontext/swapcontext";
static bool cw_grade_makecontext_shown;

/**
 * Show what the test printed, each line behind "  | " so that nothing it prints can pass for a line of
 * the grader's; ASan's makecontext notice only the first time.
 */
static void cw_grade_echo_output(const cw_grade_run *run)
{
    const char *p = run->shown, *end = run->shown + run->shown_len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl != NULL ? nl : end;
        bool notice = memmem(p, (size_t)(stop - p), cw_grade_makecontext_notice,
                             sizeof cw_grade_makecontext_notice - 1) != NULL;
        if (!notice || !cw_grade_makecontext_shown) {
            fputs("  | ", stdout);
            for (const char *c = p; c < stop; c++)
                putchar(*c == '\r' || *c == '\033' ? '?' : *c);
            putchar('\n');
        }
        if (notice)
            cw_grade_makecontext_shown = true;
        p = stop + 1;
    }
    if (run->output_len > run->shown_len)
        printf("  | ... (%zu more bytes of output not shown)\n", run->output_len - run->shown_len);
}

int cw_grade_supervise(const cw_grade_plan *plan)
{
    int n = plan->n;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++)
            if (strcmp(plan->tests[i].name, plan->tests[j].name) == 0) {
                fprintf(stderr, "grade: the test %s is listed twice\n", plan->tests[i].name);
                return 2;
            }
    int *selected = calloc((size_t)(n > 0 ? n : 1), sizeof *selected);
    cw_grade_outcome *outcomes = calloc((size_t)(n > 0 ? n : 1), sizeof *outcomes);
    cw_grade_run *run = malloc(sizeof *run);
    if (selected == NULL || outcomes == NULL || run == NULL)
        cw_grade_out_of_memory();
    int n_selected = 0;
    for (int i = 0; i < n; i++)
        if (plan->only == NULL || strcmp(plan->only, plan->tests[i].name) == 0)
            selected[n_selected++] = i;
    if (n_selected == 0) {
        fprintf(stderr, "grade: no test %s%s in %s; the tests are:\n", plan->only ? "named " : "",
                plan->only ? plan->only : "", plan->chapter);
        for (int i = 0; i < n; i++)
            fprintf(stderr, "  %s\n", plan->tests[i].name);
        free(selected);
        free(outcomes);
        free(run);
        return 2;
    }
    /* Once per make grade, not once per chapter: tools/grade says when a chapter showed it. */
    cw_grade_makecontext_shown = getenv("CW_GRADE_NOTICE_SHOWN") != NULL;
    /* Orphans of a test come back to this process, which kills them before reading the verdict. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    signal(SIGPIPE, SIG_IGN);

    int width = 20;
    for (int k = 0; k < n_selected; k++) {
        int len = (int)strlen(plan->tests[selected[k]].title);
        if (len > width)
            width = len > 64 ? 64 : len;
    }
    int number_len = (int)strcspn(plan->chapter, "_"); /* "06" of "06_gather" */
    printf("Grading %s: %d test%s\n\n", plan->chapter, n_selected, n_selected == 1 ? "" : "s");
    printf("  %-*s  %7s  %s\n", width, "test", "points", "status");

    int points = 0, max_points = 0, passed = 0, results_seen = 0;
    for (int k = 0; k < n_selected; k++) {
        const cw_grade_item *test = &plan->tests[selected[k]];
        cw_grade_outcome *out = &outcomes[selected[k]];
        char nonce[33];
        cw_grade_new_nonce(nonce);
        memset(run, 0, sizeof *run);
        double start = cw_grade_now();
        cw_grade_start_and_watch(plan, test, nonce, run);
        out->duration_s = cw_grade_now() - start;
        cw_grade_decide(plan, test, run, nonce, out);
        results_seen++;
        if (!plan->quiet_output)
            cw_grade_echo_output(run);
        cw_grade_print_row(test, out, width);
        max_points += test->points;
        if (out->status == CW_GRADE_PASSED) {
            points += test->points;
            passed++;
        }
    }

    int status = 0;
    printf("\n");
    /* Check reports success when a selection matches nothing: never trust a short count. */
    char **unlisted = NULL;
    int n_unlisted = plan->only == NULL ? cw_grade_unlisted(plan, &unlisted) : 0;
    char *error = NULL;
    if (results_seen < n_selected)
        error = cw_grade_format("%d test%s listed but only %d result%s came back", n_selected,
                                n_selected == 1 ? " was" : "s were", results_seen, results_seen == 1 ? "" : "s");
    else if (n_unlisted > 0)
        error = cw_grade_format("tests/%s.c defines %d test%s that main() does not list, so %s never ran: %s%s",
                                plan->chapter, n_unlisted, n_unlisted == 1 ? "" : "s", n_unlisted == 1 ? "it" : "they",
                                unlisted[0], n_unlisted > 1 ? ", ..." : "");
    if (error != NULL) {
        fflush(stdout);
        fprintf(stderr, "grade: error: %s\n", error);
        status = 2;
    }

    if (plan->expect_fail) {
        int wrongly_passed = 0;
        for (int k = 0; k < n_selected; k++)
            if (outcomes[selected[k]].status == CW_GRADE_PASSED) {
                if (wrongly_passed++ == 0)
                    printf("These tests passed on the stub, so they cannot tell a stub from a solution:\n");
                printf("  %s (%s)\n", plan->tests[selected[k]].title, plan->tests[selected[k]].name);
            }
        if (wrongly_passed == 0)
            printf("Every test failed on the stub, as it should.\n");
        else if (status == 0)
            status = 1;
    } else {
        for (int k = 0; k < n_selected; k++) {
            int i = selected[k];
            if (outcomes[i].status == CW_GRADE_PASSED)
                continue;
            printf("First failing test: %s\n  %s\n", plan->tests[i].title, outcomes[i].message);
            if (outcomes[i].rerun != NULL)
                printf("  See it up close: %s\n", outcomes[i].rerun);
            if (outcomes[i].status == CW_GRADE_CRASHED)
                printf("  Or with AddressSanitizer: make grade CH=%.*s ASAN=1\n", number_len, plan->chapter);
            printf("  Hints: chapters/%s/hints.md (make next shows them one at a time)\n\n", plan->chapter);
            break;
        }
        if (passed < n_selected && status == 0)
            status = 1;
    }
    printf("Chapter %.*s: %d/%d points (%d/%d tests passed)\n", number_len, plan->chapter, points, max_points, passed,
           n_selected);

    if (plan->json_path != NULL && cw_grade_write_json(plan, outcomes, selected, n_selected, results_seen, unlisted,
                                                       n_unlisted, error, points, max_points) != 0 && status == 0)
        status = 2;

    for (int i = 0; i < n; i++) {
        free(outcomes[i].message);
        free(outcomes[i].rerun);
        free(outcomes[i].file);
    }
    for (int u = 0; u < n_unlisted; u++)
        free(unlisted[u]);
    free(unlisted);
    free(error);
    free(outcomes);
    free(selected);
    free(run);
    fflush(stdout);
    return status;
}
