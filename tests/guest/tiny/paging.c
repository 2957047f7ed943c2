/*
 * The 64-bit entry runs on the loader's page tables.  libcvm's launcher
 * (like our own 32-bit path) identity-maps at least the first 4 GiB, but the
 * 64-bit boot protocol lets a loader put the initrd or command line higher
 * (ext_* fields, XLF_CAN_BE_LOADED_ABOVE_4G).  Touching such data through an
 * unmapped address would fault with no IDT and reset the VM silently, so
 * anything above 4 GiB is first added to the loader's tables here, with
 * 2 MiB pages (1 GiB pages are not available on every virtual CPU).
 */
#include "layout.h"
#include "tiny.h"

#define FOUR_GIB (4ull << 30)
#define PAGE_2M (1ull << 21)
#define PTE_P 0x001ull
#define PTE_RW 0x002ull
#define PTE_PS 0x080ull
#define PTE_ADDR 0x000ffffffffff000ull
#define CR4_LA57 (1ull << 12)

extern u64 pt_pool[TINY_PT_POOL_TABLES][512];

static unsigned pool_used;

/* The table an entry points to, allocating an empty one if not present. */
static u64 *next_table(u64 *entry)
{
	u64 *t;
	unsigned i;

	if (*entry & PTE_P)
		return (u64 *)(uintptr_t)(*entry & PTE_ADDR);
	if (pool_used == TINY_PT_POOL_TABLES)
		return NULL;
	t = pt_pool[pool_used++];
	for (i = 0; i < 512; i++)
		t[i] = 0;
	*entry = (u64)(uintptr_t)t | PTE_P | PTE_RW;
	return t;
}

/* Identity-maps the 2 MiB page holding addr unless something maps it. */
static int map_2m(u64 *pml4, u64 addr)
{
	u64 *pdpt, *pd, *e;

	pdpt = next_table(&pml4[(addr >> 39) & 511]);
	if (!pdpt)
		return 0;
	e = &pdpt[(addr >> 30) & 511];
	if ((*e & PTE_P) && (*e & PTE_PS))
		return 1;
	pd = next_table(e);
	if (!pd)
		return 0;
	e = &pd[(addr >> 21) & 511];
	if (!(*e & PTE_P))
		*e = (addr & ~(PAGE_2M - 1)) | PTE_P | PTE_RW | PTE_PS;
	return 1;
}

/*
 * Makes sure [addr, addr + len) is identity mapped; returns 0 if it cannot
 * be.  Below 4 GiB the loader's mapping is trusted as is.
 */
int paging_map(u64 addr, u64 len)
{
	u64 end = addr + len;
	u64 cr3, cr4, a;
	u64 *pml4;

	if (end < addr)
		return 0;
	if (end <= FOUR_GIB)
		return 1;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	if (cr4 & CR4_LA57)
		return 0; /* 5-level paging; we never asked for it (XLF_5LEVEL) */
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	pml4 = (u64 *)(uintptr_t)(cr3 & PTE_ADDR);
	a = addr > FOUR_GIB ? addr : FOUR_GIB;
	for (a &= ~(PAGE_2M - 1); a < end; a += PAGE_2M)
		if (!map_2m(pml4, a))
			return 0;
	/* Only not-present entries changed, which no TLB holds, but reloading
	 * CR3 is cheap and leaves no doubt. */
	__asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
	return 1;
}
