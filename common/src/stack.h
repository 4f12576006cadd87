/*
 * stack.h -- task stacks (internal): carved from large slabs, each above its own guard region,
 * and reused from a free list; and the shared run stack, whose used part a waiting task keeps
 * on the heap.
 */
#ifndef CW_STACK_H
#define CW_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include "internal.h"

/* One task's stack: [low, low + size), with the guard region just under low. */
typedef struct cw__stack {
    char *low;
    size_t size;
} cw__stack;

/* Take a stack for a new task. 0, or a negative error (CW_ELIMIT: a limit of the process or of
 * the kernel, named in *why; CW_ENOMEM: really out of memory) with *why a malloc'd message. */
CW__HIDDEN int cw__stack_get(cw__stack *s, char **why);

/* Give a finished task's stack back, for the next task. */
CW__HIDDEN void cw__stack_put(const cw__stack *s);

/* The bytes a task on the shared stack was using when it switched out: [top - size, top). */
typedef struct cw__stack_copy {
    char *bytes;
    size_t size, capacity;
} cw__stack_copy;

/* The thread's shared run stack (one stack of the pool, guard included), taken on first use.
 * 0, or a negative error as cw__stack_get(). */
CW__HIDDEN int cw__stack_shared(cw__stack *s, char **why);

/* Before a task runs on the shared stack @p s: forget what ASan and valgrind recorded of the
 * frames other tasks left there, so that the task may use any of it. */
CW__HIDDEN void cw__stack_make_ready(const cw__stack *s);

/* A task that ran on @p s has switched out with its stack pointer at @p sp: copy [sp, top) into
 * @p c (grown to fit). False when out of memory. */
CW__HIDDEN bool cw__stack_save(cw__stack_copy *c, const cw__stack *s, const char *sp);

/* Copy @p c back where it was on @p s, before its task runs again (cw__stack_make_ready() first). */
CW__HIDDEN void cw__stack_restore(const cw__stack_copy *c, const cw__stack *s);

/* Unmap every slab of this thread (cw_run() does, once its tasks are gone). */
CW__HIDDEN void cw__stacks_free_all(void);

#endif
