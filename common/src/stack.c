/*
 * stack.c -- where a million task stacks come from.
 *
 * Mapping one region per task (plus a guard) costs the kernel one or two
 * memory mappings per task, and a process may hold only vm.max_map_count of
 * them (65,530 by default): about 32,000 tasks. So stacks are carved from
 * slabs, one mapping each for 16 to 1024 stacks, and a finished task's stack
 * goes on a free list for the next task. Under every stack lies a guard region
 * (GUARD_SIZE, see CW_TASK_STACK_SIZE) that faults when touched. On Linux 6.13
 * and later the guard is installed with madvise(MADV_GUARD_INSTALL), which
 * marks the pages in the page tables and does not split the mapping; on older
 * kernels mprotect() makes it, at two mappings per stack, and running out of
 * them is reported as what it is. Only the pages a task touches use memory
 * (transparent huge pages are turned off for slabs: one 2 MiB page per stack
 * would be a disaster). Stacks stay mapped until cw_run() returns.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <valgrind/valgrind.h>
#include "cw_error.h"
#include "cw_task.h"
#include "stack.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102 /* Linux 6.13; older headers lack it */
#endif

#define STACK_SIZE CW_TASK_STACK_SIZE
#define GUARD_SIZE (64 * 1024) /* no access: an overflow faults here (see CW_TASK_STACK_SIZE) */
#define SLOT_SIZE (GUARD_SIZE + STACK_SIZE)
#define FIRST_SLAB 16   /* stacks in the first slab; each next slab doubles, up to LAST_SLAB */
#define LAST_SLAB 1024

typedef struct slab {
    char *base;
    int n_slots, n_carved;
} slab;

/* Per thread, like the runtime: each cw_run() has its own. */
static _Thread_local struct {
    slab *slabs;
    int n_slabs, cap_slabs;
    cw__stack *free;
    int n_free, cap_free;
    bool guards_by_mprotect; /* the kernel has no MADV_GUARD_INSTALL */
    unsigned *valgrind_ids;  /* the stacks registered with valgrind (only when running under it) */
    int n_valgrind_ids, cap_valgrind_ids;
} pool;

static bool grow(void **array, int *cap, size_t item)
{
    int more = *cap ? 2 * *cap : 64;
    void *bigger = realloc(*array, more * item);
    if (!bigger)
        return false;
    *array = bigger;
    *cap = more;
    return true;
}

static long read_number(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    char line[256];
    long n = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, strlen(key)) == 0 && sscanf(line + strlen(key), "%ld", &n) == 1)
            break;
    if (f)
        fclose(f);
    return n;
}

static long count_mappings(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    long n = 0;
    int c;
    while (f && (c = getc(f)) != EOF)
        n += c == '\n';
    if (f)
        fclose(f);
    return f ? n : -1;
}

/* The kernel said ENOMEM: name the limit that was reached, in the failing task's message. */
static int explain_no_memory(size_t wanted, char **why)
{
    char text[300];
    long maps = count_mappings(), max_maps = read_number("/proc/sys/vm/max_map_count", "");
    long mapped_kb = read_number("/proc/self/status", "VmSize:");
    struct rlimit as;
    int rc = CW_ELIMIT;
    if (maps >= 0 && max_maps > 0 && maps + 16 >= max_maps)
        snprintf(text, sizeof text, "no stack for a new task: the process holds %ld memory mappings, "
                 "the kernel's limit vm.max_map_count (%ld)", maps, max_maps);
    else if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY)
        snprintf(text, sizeof text, "no stack for a new task: the address-space limit RLIMIT_AS (ulimit -v) "
                 "of %lu MiB is reached (%ld MiB mapped, %zu MiB more wanted)",
                 (unsigned long)(as.rlim_cur >> 20), mapped_kb >> 10, wanted >> 20);
    else if (read_number("/proc/sys/vm/overcommit_memory", "") == 2)
        snprintf(text, sizeof text, "no stack for a new task: the kernel's commit limit is reached "
                 "(vm.overcommit_memory is 2; see CommitLimit in /proc/meminfo)");
    else {
        rc = CW_ENOMEM;
        snprintf(text, sizeof text, "no stack for a new task: out of memory (%zu MiB more wanted)", wanted >> 20);
    }
    *why = strdup(text);
    return rc;
}

static int new_slab(char **why)
{
    if (pool.n_slabs == pool.cap_slabs && !grow((void **)&pool.slabs, &pool.cap_slabs, sizeof *pool.slabs))
        return CW_ENOMEM;
    int n = pool.n_slabs < 6 ? FIRST_SLAB << pool.n_slabs : LAST_SLAB;
    size_t bytes = (size_t)n * SLOT_SIZE;
    char *base = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED)
        return errno == ENOMEM ? explain_no_memory(bytes, why) : CW_ENOMEM;
    madvise(base, bytes, MADV_NOHUGEPAGE); /* else a touched stack could take a whole 2 MiB page */
    pool.slabs[pool.n_slabs++] = (slab){ base, n, 0 };
    return 0;
}

/* Put the guard region under the next stack of the newest slab, and hand that stack out. */
static int carve(cw__stack *s, char **why)
{
    slab *sl = &pool.slabs[pool.n_slabs - 1];
    char *guard = sl->base + (size_t)sl->n_carved * SLOT_SIZE;
    if (!pool.guards_by_mprotect && madvise(guard, GUARD_SIZE, MADV_GUARD_INSTALL) < 0)
        pool.guards_by_mprotect = true; /* an older kernel (EINVAL): fall back on mprotect */
    if (pool.guards_by_mprotect && mprotect(guard, GUARD_SIZE, PROT_NONE) < 0)
        return errno == ENOMEM ? explain_no_memory(0, why) : CW_ENOMEM; /* never a stack without its guard */
    sl->n_carved++;
    s->low = guard + GUARD_SIZE;
    s->size = STACK_SIZE;
    if (RUNNING_ON_VALGRIND) { /* so that it knows a switch between stacks from a big local frame */
        if (pool.n_valgrind_ids == pool.cap_valgrind_ids
            && !grow((void **)&pool.valgrind_ids, &pool.cap_valgrind_ids, sizeof *pool.valgrind_ids))
            return CW_ENOMEM;
        pool.valgrind_ids[pool.n_valgrind_ids++] = VALGRIND_STACK_REGISTER(s->low, s->low + s->size);
    }
    return 0;
}

int cw__stack_get(cw__stack *s, char **why)
{
    *why = NULL;
    if (pool.n_free > 0) {
        *s = pool.free[--pool.n_free];
        return 0;
    }
    if (pool.n_slabs == 0 || pool.slabs[pool.n_slabs - 1].n_carved == pool.slabs[pool.n_slabs - 1].n_slots) {
        int rc = new_slab(why);
        if (rc < 0)
            return rc;
    }
    return carve(s, why);
}

void cw__stack_put(const cw__stack *s)
{
    if (pool.n_free == pool.cap_free && !grow((void **)&pool.free, &pool.cap_free, sizeof *pool.free))
        return; /* the stack stays mapped, unused, until the end of cw_run() */
    pool.free[pool.n_free++] = *s;
}

void cw__stacks_free_all(void)
{
    for (int i = 0; i < pool.n_valgrind_ids; i++)
        VALGRIND_STACK_DEREGISTER(pool.valgrind_ids[i]);
    free(pool.valgrind_ids);
    for (int i = 0; i < pool.n_slabs; i++)
        munmap(pool.slabs[i].base, (size_t)pool.slabs[i].n_slots * SLOT_SIZE);
    free(pool.slabs);
    free(pool.free);
    memset(&pool, 0, sizeof pool);
}
