/*
 * The 64-bit entry runs on the loader's page tables.  libcvm's launcher
 * (like our own 32-bit path) identity-maps at least the first 4 GiB, but the
 * 64-bit boot protocol lets a loader put the initrd or command line higher
 * (ext_* fields, XLF_CAN_BE_LOADED_ABOVE_4G).  Reaching such data through an
 * unmapped address would fault with no IDT and reset the VM silently, so
 * anything above 4 GiB is first mapped here.
 */
#include "tiny.h"

#define GIB (1ull << 30)
#define PTE_P 0x001ull
#define PTE_RW 0x002ull
#define PTE_PS 0x080ull

extern u64 hi_pml4[512];
extern u64 hi_pdpt[512];

static int high_mapped;

static int cpu_has_1g_pages(void)
{
	u32 a, b, c, d;

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
			 : "a"(0x80000000u), "c"(0));
	if (a < 0x80000001u)
		return 0;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
			 : "a"(0x80000001u), "c"(0));
	return (d >> 26) & 1;
}

/*
 * Makes sure [0, end) is identity mapped; returns 0 if it cannot be.
 * Above 4 GiB this switches once to our own tables: 1 GiB pages for the
 * first 512 GiB, which cost one table to fill.  Without 1 GiB page support
 * we give up rather than fill thousands of 2 MiB entries.
 */
int paging_cover(u64 end)
{
	u64 i;

	if (end <= 4 * GIB)
		return 1;
	if (end > 512 * GIB)
		return 0;
	if (!high_mapped) {
		if (!cpu_has_1g_pages())
			return 0;
		for (i = 0; i < 512; i++)
			hi_pdpt[i] = (i * GIB) | PTE_P | PTE_RW | PTE_PS;
		hi_pml4[0] = (u64)(uintptr_t)hi_pdpt | PTE_P | PTE_RW;
		for (i = 1; i < 512; i++)
			hi_pml4[i] = 0;
		__asm__ volatile("mov %0, %%cr3" : : "r"((u64)(uintptr_t)hi_pml4)
				 : "memory");
		high_mapped = 1;
	}
	return 1;
}
