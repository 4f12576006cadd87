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
 *
 * Even so, every task touches at least one 4 KiB page of its own stack, and a
 * fresh page costs a page fault. Tasks spawned with cw_spawn_on_shared_stack()
 * all run on one stack of the pool, the shared stack: when such a task
 * switches out, the few hundred bytes it uses (from its stack pointer to the
 * top) are copied to the heap, and copied back before it runs again (as
 * greenlet does). The copy is made on the loop's stack, while no task runs on
 * the shared one.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>
#include "cw_error.h"
#include "cw_task.h"
#include "stack.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102 /* Linux 6.13; older headers lack it */
#endif

/* ASan checks memcpy() against its map of the stack's frames, which a copy must ignore. */
#ifdef CW__ASAN
#include <sanitizer/asan_interface.h>
#define asan_poison(base, size) __asan_poison_memory_region(base, size)
#define asan_unpoison(base, size) __asan_unpoison_memory_region(base, size)
#else
#define asan_poison(base, size) ((void)(base), (void)(size))
#define asan_unpoison(base, size) ((void)(base), (void)(size))
#endif

#define STACK_SIZE CW_TASK_STACK_SIZE
#define GUARD_SIZE (64 * 1024) /* no access: an overflow faults here (see CW_TASK_STACK_SIZE) */
#define SLOT_SIZE (GUARD_SIZE + STACK_SIZE)
#define FIRST_SLAB 16 /* stacks in the first slab; each next slab doubles, up to LAST_SLAB */
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
    cw__stack shared;        /* the shared run stack, once a task needs it */
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
        snprintf(text, sizeof text,
                 "no stack for a new task: the process holds %ld memory mappings, "
                 "the kernel's limit vm.max_map_count (%ld)",
                 maps, max_maps);
    else if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY)
        snprintf(text, sizeof text,
                 "no stack for a new task: the address-space limit RLIMIT_AS (ulimit -v) "
                 "of %lu MiB is reached (%ld MiB mapped, %zu MiB more wanted)",
                 (unsigned long)(as.rlim_cur >> 20), mapped_kb >> 10, wanted >> 20);
    else if (read_number("/proc/sys/vm/overcommit_memory", "") == 2)
        snprintf(text, sizeof text,
                 "no stack for a new task: the kernel's commit limit is reached "
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
        if (pool.n_valgrind_ids == pool.cap_valgrind_ids &&
            !grow((void **)&pool.valgrind_ids, &pool.cap_valgrind_ids, sizeof *pool.valgrind_ids))
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

int cw__stack_shared(cw__stack *s, char **why)
{
    *why = NULL;
    if (!pool.shared.low) {
        int rc = cw__stack_get(&pool.shared, why);
        if (rc < 0)
            return rc;
    }
    *s = pool.shared;
    return 0;
}

void cw__stack_make_ready(const cw__stack *s)
{
    asan_unpoison(s->low, s->size);
    VALGRIND_MAKE_MEM_UNDEFINED(s->low, s->size);
}

bool cw__stack_save(cw__stack_copy *c, const cw__stack *s, const char *sp)
{
    char *top = s->low + s->size;
    size_t size = (size_t)(top - sp);
    if (size > c->capacity) {
        char *bigger = malloc(size); /* exactly what it uses: a sleeping task's few hundred bytes */
        if (!bigger)
            return false;
        free(c->bytes);
        c->bytes = bigger;
        c->capacity = size;
    }
    asan_unpoison((char *)sp, size); /* the task's frames hold redzones that memcpy must not trip on */
    memcpy(c->bytes, sp, size);
    c->size = size;
    /* Until it runs again, whatever reads or writes there (a pointer into the task's stack kept
     * by another task or a callback) gets garbage: let ASan and valgrind say so. */
    asan_poison((char *)sp, size);
    VALGRIND_MAKE_MEM_NOACCESS(sp, size);
    return true;
}

void cw__stack_restore(const cw__stack_copy *c, const cw__stack *s)
{
    if (c->size > 0)
        memcpy(s->low + s->size - c->size, c->bytes, c->size);
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
