/*
 * Real-mode part of the bzImage: boot sector, setup header and the 16-bit
 * entry used by loaders that start the kernel through its setup code (such
 * as QEMU's -kernel).  It builds a zero page from the header the loader filled
 * in, enters 32-bit protected mode and jumps to code32_start, the way Linux's
 * own setup hands over to its 32-bit entry.
 *
 * Linked at 0: once CS is made equal to DS, offsets in this file are offsets
 * from the setup base, wherever the loader put it.
 */
#include "layout.h"

#define LOADED_HIGH 0x01
#define XLF_KERNEL_64 0x01
#define XLF_CAN_BE_LOADED_ABOVE_4G 0x02
#define SETUP_HEADER_END 0x26c	/* end of struct setup_header (2.15) */

	.section .setup, "ax"
	.code16

	/* Nothing boots from this sector directly; a BIOS that tries halts. */
bootsect:
	cli
1:	hlt
	jmp	1b
	.ascii	"This image is booted by a Linux boot loader.\r\n"

	/* struct setup_header; .org pins every field to its documented offset. */
	.org	0x1f1
hdr:
	.byte	TINY_SETUP_SECTS	/* setup_sects: from the linker script */
	.word	0			/* root_flags */
	.long	TINY_SYSSIZE		/* syssize, 16-byte units */
	.word	0			/* ram_size */
	.word	0xffff			/* vid_mode: normal */
	.word	0			/* root_dev */
	.org	0x1fe
	.word	0xaa55			/* boot_flag */
	.org	0x200
	/* jump: must be a two-byte short jump; it also bounds the header. */
	.byte	0xeb, real_start - 2f
2:	.org	0x202
	.ascii	"HdrS"
	.org	0x206
	.word	0x020c			/* version 2.12: has xloadflags */
	.long	0			/* realmode_swtch */
	.word	0			/* start_sys_seg */
	.org	0x20e
	.word	kernel_version - 0x200	/* kernel_version */
	.org	0x210
	.byte	0			/* type_of_loader: the loader's */
	.org	0x211
	.byte	LOADED_HIGH		/* loadflags */
	.word	0			/* setup_move_size */
	.org	0x214
code32_start:
	.long	TINY_LOAD_ADDR		/* code32_start */
	.org	0x218
	.long	0			/* ramdisk_image */
	.long	0			/* ramdisk_size */
	.long	0			/* bootsect_kludge */
	.word	0			/* heap_end_ptr */
	.byte	0			/* ext_loader_ver */
	.byte	0			/* ext_loader_type */
	.org	0x228
	.long	0			/* cmd_line_ptr */
	.org	0x22c
	.long	0x7fffffff		/* initrd_addr_max */
	.org	0x230
	/* Only meaningful for relocatable kernels; matches the fixed address so
	 * a loader that rounds up to it still lands on TINY_LOAD_ADDR. */
	.long	TINY_LOAD_ADDR		/* kernel_alignment */
	.org	0x234
	.byte	0			/* relocatable_kernel */
	.byte	0			/* min_alignment */
	.org	0x236
	.word	XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G	/* xloadflags */
	.org	0x238
	.long	TINY_CMDLINE_SIZE	/* cmdline_size */
	.long	0			/* hardware_subarch */
	.quad	0			/* hardware_subarch_data */
	.long	0			/* payload_offset */
	.long	0			/* payload_length */
	.org	0x250
	.quad	0			/* setup_data */
	.org	0x258
	.quad	TINY_LOAD_ADDR		/* pref_address */
	.org	0x260
	.long	TINY_INIT_SIZE		/* init_size */
	.long	0			/* handover_offset */
	.long	0			/* kernel_info_offset */
	.org	SETUP_HEADER_END

	/*
	 * Entry at setup + 0x200 via the jump above.  The loader has set
	 * DS = ES = SS = the setup segment (boot protocol); CS may be that
	 * segment + 0x20.  Nothing but DS is relied on.
	 */
real_start:
	cli
	cld
	movw	%ds, %ax
	movw	%ax, %ss		/* also holds off interrupts one insn */
	movw	$RM_STACK_TOP, %sp
	movw	%ax, %es
	pushw	%ax
	pushw	$1f
	lretw				/* CS = DS, so link offsets work for code */
1:
	/* Zero page: 4 KiB of zeros, then the header as the loader left it
	 * in memory (cmd_line_ptr, ramdisk_*, type_of_loader, ...). */
	movw	$RM_ZERO_PAGE, %di
	xorl	%eax, %eax
	movw	$4096 / 4, %cx
	rep stosl
	movw	$hdr, %si
	movw	$RM_ZERO_PAGE + 0x1f1, %di
	movw	$SETUP_HEADER_END - 0x1f1, %cx
	rep movsb

	/* Make sure A20 is on (port 0x92 "fast A20"); skip the write when it
	 * already is, which is also what an absent port 0x92 reads like. */
	inb	$0x92, %al
	testb	$0x02, %al
	jnz	2f
	orb	$0x02, %al
	andb	$0xfe, %al		/* bit 0 would reset the machine */
	outb	%al, $0x92
2:
	/* EBX = linear setup base; ESI = linear zero page, as the 32-bit
	 * entry expects it. */
	xorl	%ebx, %ebx
	movw	%ds, %bx
	shll	$4, %ebx
	leal	RM_ZERO_PAGE(%ebx), %esi
	/* Far pointer to in_pm32 below, as a linear address. */
	leal	in_pm32(%ebx), %eax
	movl	%eax, pm32_ptr

	lgdtl	gdt_ptr
	movl	%cr0, %eax
	orb	$0x01, %al		/* PE */
	movl	%eax, %cr0
	ljmpl	*pm32_ptr		/* DS still has its real-mode base here */

	.code32
in_pm32:
	movl	$SEL_DATA, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%eax, %fs
	movl	%eax, %gs
	leal	RM_STACK_TOP(%ebx), %esp
	/* Hand over like the 32-bit boot protocol: ESI = zero page,
	 * EBX = EDI = EBP = 0, to hdr.code32_start as the loader left it. */
	movl	0x214(%esi), %eax
	xorl	%ebx, %ebx
	xorl	%edi, %edi
	xorl	%ebp, %ebp
	jmp	*%eax

	.balign	4
pm32_ptr:
	.long	0			/* filled in: linear in_pm32 */
	.word	SEL_CODE32
gdt_ptr:
	/* The GDT itself lives in the protected-mode part, already loaded. */
	.word	tiny_gdt_limit
	.long	tiny_gdt

kernel_version:
	.asciz	"libcvm tiny test guest"

	/* Lets tiny.ld check that it agrees with layout.h. */
	.globl	tiny_layout_rm_zero_page
	.set	tiny_layout_rm_zero_page, RM_ZERO_PAGE

	.section .note.GNU-stack, "", @progbits
