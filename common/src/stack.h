/*
 * stack.h -- task stacks (internal): carved from large slabs, each above its own guard region,
 * and reused from a free list.
 */
#ifndef CW_STACK_H
#define CW_STACK_H

#include <stddef.h>

/* One task's stack: [low, low + size), with the guard region just under low. */
typedef struct cw__stack {
    char *low;
    size_t size;
} cw__stack;

/* Take a stack for a new task. 0, or a negative error (CW_ELIMIT: a limit of the process or of
 * the kernel, named in *why; CW_ENOMEM: really out of memory) with *why a malloc'd message. */
int cw__stack_get(cw__stack *s, char **why);

/* Give a finished task's stack back, for the next task. */
void cw__stack_put(const cw__stack *s);

/* Unmap every slab of this thread (cw_run() does, once its tasks are gone). */
void cw__stacks_free_all(void);

#endif
