/*
 * context.h -- switching the CPU from one stack to another (internal): the loop's and each task's.
 *
 * A switch saves what a function call must preserve (the callee-saved
 * registers and the stack pointer) and nothing else: no signal mask, so no
 * system call. Hand-written for x86-64 and aarch64 (context.c); elsewhere, or
 * built with -DCW_USE_UCONTEXT, it falls back on ucontext (swapcontext, which
 * also saves the signal mask with one system call per switch).
 */
#ifndef CW_CONTEXT_H
#define CW_CONTEXT_H

#include <stddef.h>
#include "internal.h"

#if !defined(CW_USE_UCONTEXT) && (defined(__x86_64__) || defined(__aarch64__))
#define CW_CONTEXT_ASM 1
#else
#include <ucontext.h>
#endif

/* Where a suspended stack resumes. */
typedef struct cw__context {
#ifdef CW_CONTEXT_ASM
    void *sp; /* the saved registers sit on the suspended stack itself, under sp */
#else
    ucontext_t uc;
#endif
} cw__context;

/* Prepare @p c so that switching to it calls entry() on the stack [low, low + size).
 * entry() must never return: it ends by switching away for good. */
CW__HIDDEN void cw__context_start(cw__context *c, char *low, size_t size, void (*entry)(void));

#ifdef CW_CONTEXT_ASM
/* In context.c: push the callee-saved registers, store sp in *save_sp, load load_sp, pop, return. */
CW__HIDDEN void cw__switch_stacks(void **save_sp, void *load_sp);

/* Save the running stack into @p save and resume @p load. */
static inline void cw__context_switch(cw__context *save, cw__context *load)
{
    cw__switch_stacks(&save->sp, load->sp);
}

/* Where the used part of a suspended stack begins: everything from here to the top of the stack
 * (the saved registers included) is what the stack holds. Only the hand-written switch knows it,
 * so only it can copy a task's stack out and back (CW_CONTEXT_CAN_COPY). */
#define CW_CONTEXT_CAN_COPY 1
static inline const char *cw__context_stack_pointer(const cw__context *c)
{
    return c->sp;
}
#else
static inline void cw__context_switch(cw__context *save, cw__context *load)
{
    swapcontext(&save->uc, &load->uc);
}

#define CW_CONTEXT_CAN_COPY 0 /* cw_spawn_on_shared_stack() gives each task its own stack then */
static inline const char *cw__context_stack_pointer(const cw__context *c)
{
    (void)c;
    return NULL;
}
#endif

#endif
