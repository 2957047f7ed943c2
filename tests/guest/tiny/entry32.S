/*
 * 32-bit entry at the load address (code32_start), for loaders using the
 * 32-bit boot protocol and for our own real-mode path.  Protected mode,
 * paging off, ESI = zero page.  It maps the first 4 GiB with 2 MiB pages,
 * enters long mode and continues at the 64-bit entry (load address + 0x200)
 * so that every path runs the same 64-bit code.
 *
 * Nothing here may grow past 0x200 bytes; the linker script checks.
 */
#include "layout.h"

#define PTE_P 0x001
#define PTE_RW 0x002
#define PTE_PS 0x080
#define CR0_PE 0x00000001
#define CR0_PG 0x80000000
#define CR4_PAE 0x00000020
#define MSR_EFER 0xc0000080
#define EFER_LME 0x00000100

	.section .head32, "ax"
	.code32
	.globl	entry32
entry32:
	cli
	cld
	/* Own GDT and segments: the loader's are only promised to be flat. */
	lgdt	tiny_gdt_desc
	ljmp	$SEL_CODE32, $1f
1:	movl	$SEL_DATA, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%eax, %fs
	movl	%eax, %gs

	/* PML4 and PDPT are adjacent; zero both, then link PML4[0] and
	 * PDPT[0..3] to the four page directories. */
	movl	$pt_pml4, %edi
	xorl	%eax, %eax
	movl	$2 * 4096 / 4, %ecx
	rep stosl
	movl	$pt_pdpt + (PTE_P | PTE_RW), pt_pml4
	movl	$pt_pdpt, %edi
	movl	$pt_pd + (PTE_P | PTE_RW), %eax
	movl	$4, %ecx
2:	movl	%eax, (%edi)
	addl	$4096, %eax
	addl	$8, %edi
	loop	2b

	/* 2048 2 MiB pages = 4 GiB identity map, four entries per round to
	 * keep the instruction count down under an emulating hypervisor. */
	movl	$pt_pd, %edi
	movl	$PTE_P | PTE_RW | PTE_PS, %eax
	xorl	%edx, %edx
	movl	$2048 / 4, %ecx
3:
	.irp	off, 0, 8, 16, 24
	movl	%eax, \off(%edi)
	movl	%edx, \off + 4(%edi)
	addl	$0x200000, %eax
	.endr
	addl	$32, %edi
	loop	3b

	movl	$CR4_PAE, %eax
	movl	%eax, %cr4
	movl	$pt_pml4, %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_LME, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$CR0_PG | CR0_PE, %eax
	movl	%eax, %cr0
	ljmp	$SEL_CODE64, $from32

	.code64
from32:
	/* Upper halves of registers are undefined after the mode switch, and
	 * the 64-bit entry takes RSI as a full pointer. */
	movl	%esi, %esi
	jmp	entry64

	/* Lets tiny.ld check that it agrees with layout.h. */
	.globl	tiny_layout_load_addr
	.set	tiny_layout_load_addr, TINY_LOAD_ADDR

	.section .scratch, "aw", @nobits
	.balign	4096
pt_pml4:
	.skip	4096
pt_pdpt:
	.skip	4096
pt_pd:
	.skip	4 * 4096

	.section .note.GNU-stack, "", @progbits
