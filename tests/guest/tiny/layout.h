/*
 * Constants shared by the assembly and the C parts of the tiny guest.
 * Preprocessor definitions only, so .S files can include it too.
 */
#ifndef TINY_LAYOUT_H
#define TINY_LAYOUT_H

/* Where the protected-mode part is linked and must be loaded (code32_start,
 * pref_address).  The image is not relocatable. */
#define TINY_LOAD_ADDR 0x100000

/* Longest command line we accept, without its NUL (hdr.cmdline_size). */
#define TINY_CMDLINE_SIZE 4095

/*
 * Real-mode path scratch memory, as offsets from the setup's own base.
 * The boot protocol gives the setup code the 32 KiB from its base (setup
 * sectors, then stack/heap), so the zero page we build and the real-mode
 * stack stay inside that and away from where loaders put the command line.
 */
#define RM_ZERO_PAGE 0x1000
#define RM_STACK_TOP 0x3000

/* Spare page tables for mapping data above 4 GiB (paging.c). */
#define TINY_PT_POOL_TABLES 8

/* GDT selectors.  0x10/0x18 are the boot protocol's __BOOT_CS/__BOOT_DS
 * (0x10 is 64-bit code here, as in the 64-bit protocol); 0x08 is 32-bit
 * code for the short stretch in protected mode. */
#define SEL_CODE32 0x08
#define SEL_CODE64 0x10
#define SEL_DATA 0x18

#endif /* TINY_LAYOUT_H */
