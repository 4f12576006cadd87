/*
 * context.c -- the task switch: a few instructions per architecture, ucontext elsewhere.
 *
 * cw__switch_stacks(save, load) pushes the registers the C calling convention
 * says a function must preserve, stores the stack pointer in *save, loads
 * `load` as the stack pointer, pops the same registers from that stack and
 * returns -- into whatever called cw__switch_stacks() on that stack before.
 * A new stack is prepared (cw__context_start) to look as if it had been
 * suspended there: zeroed registers and a return address that is entry().
 */
#include <stdint.h>
#include <string.h>
#include "context.h"

#if defined(CW_CONTEXT_ASM) && defined(__x86_64__)
/* System V x86-64: rbx, rbp, r12-r15, and the control bits of MXCSR and the x87 FPU. */
__asm__(".text\n"
        ".globl cw__switch_stacks\n"
        ".hidden cw__switch_stacks\n"
        ".type cw__switch_stacks, @function\n"
        "cw__switch_stacks:\n"
        "    pushq %rbp\n"
        "    pushq %rbx\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n"
        "    pushq %r15\n"
        "    subq $8, %rsp\n"
        "    stmxcsr (%rsp)\n"
        "    fnstcw 4(%rsp)\n"
        "    movq %rsp, (%rdi)\n" /* *save = sp */
        "    movq %rsi, %rsp\n"   /* sp = load */
        "    ldmxcsr (%rsp)\n"
        "    fldcw 4(%rsp)\n"
        "    addq $8, %rsp\n"
        "    popq %r15\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbx\n"
        "    popq %rbp\n"
        "    ret\n"
        ".size cw__switch_stacks, .-cw__switch_stacks\n");

void cw__context_start(cw__context *c, char *low, size_t size, void (*entry)(void))
{
    /* From the top down: a zero return address for entry() (which never returns), entry itself
     * for the final ret, six zeroed registers, then MXCSR and the x87 control word as they are now.
     * entry() then starts with rsp + 8 a multiple of 16, as after a call. */
    uintptr_t top = ((uintptr_t)(low + size)) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)(top - 72);
    memset(sp, 0, 72);
    sp[7] = (uint64_t)(uintptr_t)entry;
    __asm__ volatile("stmxcsr (%0)\n\tfnstcw 4(%0)" : : "r"(sp) : "memory");
    c->sp = sp;
}

#elif defined(CW_CONTEXT_ASM) && defined(__aarch64__)
/* AAPCS64: x19-x28, the frame pointer x29, the link register x30 and the low halves of v8-v15. */
__asm__(".text\n"
        ".globl cw__switch_stacks\n"
        ".hidden cw__switch_stacks\n"
        ".type cw__switch_stacks, %function\n"
        "cw__switch_stacks:\n"
        "    sub sp, sp, #160\n"
        "    stp x19, x20, [sp, #0]\n"
        "    stp x21, x22, [sp, #16]\n"
        "    stp x23, x24, [sp, #32]\n"
        "    stp x25, x26, [sp, #48]\n"
        "    stp x27, x28, [sp, #64]\n"
        "    stp x29, x30, [sp, #80]\n"
        "    stp d8, d9, [sp, #96]\n"
        "    stp d10, d11, [sp, #112]\n"
        "    stp d12, d13, [sp, #128]\n"
        "    stp d14, d15, [sp, #144]\n"
        "    mov x9, sp\n"
        "    str x9, [x0]\n" /* *save = sp */
        "    mov sp, x1\n"   /* sp = load */
        "    ldp x19, x20, [sp, #0]\n"
        "    ldp x21, x22, [sp, #16]\n"
        "    ldp x23, x24, [sp, #32]\n"
        "    ldp x25, x26, [sp, #48]\n"
        "    ldp x27, x28, [sp, #64]\n"
        "    ldp x29, x30, [sp, #80]\n"
        "    ldp d8, d9, [sp, #96]\n"
        "    ldp d10, d11, [sp, #112]\n"
        "    ldp d12, d13, [sp, #128]\n"
        "    ldp d14, d15, [sp, #144]\n"
        "    add sp, sp, #160\n"
        "    ret\n"
        ".size cw__switch_stacks, .-cw__switch_stacks\n");

void cw__context_start(cw__context *c, char *low, size_t size, void (*entry)(void))
{
    /* A 160-byte frame of zeroed registers whose x30 (the return address) is entry(); after the
     * final ret, sp is the 16-byte aligned top of the stack. */
    uintptr_t top = ((uintptr_t)(low + size)) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)(top - 160);
    memset(sp, 0, 160);
    sp[11] = (uint64_t)(uintptr_t)entry; /* x30, at sp + 88 */
    c->sp = sp;
}

#else
void cw__context_start(cw__context *c, char *low, size_t size, void (*entry)(void))
{
    getcontext(&c->uc);
    c->uc.uc_stack.ss_sp = low;
    c->uc.uc_stack.ss_size = size;
    c->uc.uc_link = NULL;
    makecontext(&c->uc, entry, 0);
}
#endif
