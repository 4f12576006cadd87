/*
 * sleepers.c -- how many tasks the library holds at once: N tasks that each sleep 200 ms, gathered.
 *
 * The same program as asyncio_sleepers.py. While the tasks sleep, a watcher
 * task counts the process's memory mappings (/proc/self/maps), the resource
 * the kernel caps at vm.max_map_count.
 *
 * Usage: sleepers TASKS [shared|own]
 * shared (the default): the tasks are spawned with cw_spawn_on_shared_stack(),
 * so a sleeping task keeps only the bytes of stack it uses; own: with
 * cw_spawn(), each on its own stack (at least one 4 KiB page each).
 * Prints "SECONDS FAILURES MOST_MAPPINGS" on one line, and the first
 * failure's message on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cw.h"

typedef struct job {
    int tasks, failures, most_mappings;
    double seconds;
    bool done, own_stacks;
} job;

static void *sleeper(void *arg)
{
    (void)arg;
    int rc = cw_sleep(200);
    return rc == 0 ? NULL : cw_fail(rc, "sleep failed");
}

static int count_mappings(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return -1;
    int n = 0, c;
    while ((c = getc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static void *watcher(void *arg)
{
    job *j = arg;
    while (!j->done) {
        int n = count_mappings();
        if (n > j->most_mappings)
            j->most_mappings = n;
        if (cw_sleep(50) != 0)
            break;
    }
    return NULL;
}

static void *main_task(void *arg)
{
    job *j = arg;
    cw_future *watch = cw_spawn(watcher, j);
    cw_future **tasks = calloc(j->tasks, sizeof *tasks);
    if (!tasks || !watch)
        return cw_fail(CW_ENOMEM, "no memory for the task array");
    uint64_t start = cw_now_us();
    int spawned = 0;
    for (; spawned < j->tasks; spawned++)
        if (!(tasks[spawned] = j->own_stacks ? cw_spawn(sleeper, NULL) : cw_spawn_on_shared_stack(sleeper, NULL)))
            break;
    cw_future *all = cw_gather(tasks, spawned, true);
    cw_await(all);
    j->seconds = (cw_now_us() - start) / 1e6;
    j->failures = j->tasks - spawned;
    for (int i = 0; i < spawned; i++) {
        if (cw_future_error(tasks[i]) != 0 && j->failures++ == 0)
            fprintf(stderr, "sleepers: a task failed: %s\n", cw_future_message(tasks[i]));
        cw_future_release(tasks[i]);
    }
    j->done = true;
    cw_await(watch);
    cw_future_release(watch);
    cw_future_release(all);
    free(tasks);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3 || atoi(argv[1]) <= 0
        || (argc == 3 && strcmp(argv[2], "shared") != 0 && strcmp(argv[2], "own") != 0)) {
        fprintf(stderr, "usage: sleepers TASKS [shared|own]\n");
        return 2;
    }
    job j = { .tasks = atoi(argv[1]), .own_stacks = argc == 3 && strcmp(argv[2], "own") == 0 };
    if (cw_run(main_task, &j, NULL) != 0)
        return 1;
    printf("%.6f %d %d\n", j.seconds, j.failures, j.most_mappings);
    return 0;
}
