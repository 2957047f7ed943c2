/*
 * 64-bit entry at load address + 0x200 (64-bit boot protocol).  Relies only
 * on what that protocol guarantees: long mode, identity mapping, interrupts
 * off, RSI = zero page.  Loads its own GDT and stack so that nothing the
 * loader (or our own real-mode path) set up is used past this point.
 */
#include "layout.h"

	.section .head64, "ax"
	.code64
	.globl	entry64
entry64:
	cli
	cld
	lgdt	tiny_gdt_desc(%rip)
	movl	$SEL_DATA, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%eax, %fs
	movl	%eax, %gs
	leaq	stack_top(%rip), %rsp
	pushq	$SEL_CODE64
	leaq	1f(%rip), %rax
	pushq	%rax
	lretq				/* CS from our GDT too */
1:
	/* The loader only copies the file; .bss is ours to clear. */
	movq	%rsi, %rbx
	leaq	__bss_start(%rip), %rdi
	leaq	__bss_end(%rip), %rcx
	subq	%rdi, %rcx
	shrq	$3, %rcx
	xorl	%eax, %eax
	rep stosq
	movq	%rbx, %rdi
	call	tiny_main
2:	cli
	hlt
	jmp	2b

	/*
	 * The GDT for every path, selectors as in layout.h.  Accessed bits are
	 * preset so the CPU never needs to write to the table.
	 */
	.section .data
	.balign	16
	.globl	tiny_gdt, tiny_gdt_limit, tiny_gdt_desc
tiny_gdt:
	.quad	0
	.quad	0x00cf9b000000ffff	/* 0x08: 32-bit code, flat */
	.quad	0x00af9b000000ffff	/* 0x10: 64-bit code */
	.quad	0x00cf93000000ffff	/* 0x18: data, flat */
tiny_gdt_end:
	.set	tiny_gdt_limit, tiny_gdt_end - tiny_gdt - 1
	/* 64-bit pseudo-descriptor; lgdt in 32-bit mode reads only the
	 * low 4 bytes of the base, which hold the same (sub-4 GiB) address. */
tiny_gdt_desc:
	.word	tiny_gdt_limit
	.quad	tiny_gdt

	/* Not part of the file and not cleared: stack and spare page tables. */
	.section .scratch, "aw", @nobits
	.balign	4096
	.globl	pt_pool
pt_pool:
	.skip	TINY_PT_POOL_TABLES * 4096	/* see paging.c */
	.balign	16
	.skip	8192
stack_top:

	.section .note.GNU-stack, "", @progbits
