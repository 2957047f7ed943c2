/*
 * Shared declarations for the 64-bit part of the tiny test guest.
 * Freestanding: no libc, only what gcc itself provides.
 */
#ifndef TINY_H
#define TINY_H

#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

/*
 * Firmware tables and boot_params fields are not always naturally aligned;
 * these types make unaligned loads well defined and exempt from strict
 * aliasing rules.
 */
typedef u16 __attribute__((aligned(1), may_alias)) u16_una;
typedef u32 __attribute__((aligned(1), may_alias)) u32_una;
typedef u64 __attribute__((aligned(1), may_alias)) u64_una;

static inline u16 rd16(const void *p, size_t off)
{
	return *(const u16_una *)((const u8 *)p + off);
}

static inline u32 rd32(const void *p, size_t off)
{
	return *(const u32_una *)((const u8 *)p + off);
}

static inline u64 rd64(const void *p, size_t off)
{
	return *(const u64_una *)((const u8 *)p + off);
}

/* Nonzero iff some byte of w is zero (exact for the word as a whole). */
static inline u64 has_zero_byte(u64 w)
{
	return (w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull;
}

static inline u8 inb(u16 port)
{
	u8 v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outb(u8 v, u16 port)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(u16 v, u16 port)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

/* uart.c */
void uart_puts(const char *s);
void uart_hex64(u64 v);
void uart_dec(u64 v);

/* acpi.c */
struct acpi_info {
	const u8 *fadt;      /* validated FADT, or NULL if there is none */
	unsigned cpus;       /* enabled processors listed in the MADT */
	unsigned slp_typ_s5; /* SLP_TYP for S5 from the DSDT, or 5 */
};
const char *acpi_probe(u64 rsdp_hint, struct acpi_info *info);
int acpi_poweroff(const struct acpi_info *info); /* 0: no way known */

/* util.c */
int tiny_memeq(const void *a, const void *b, size_t n);
size_t tiny_strnlen(const char *s, size_t max);

/* paging.c */
int paging_map(u64 addr, u64 len);

#endif /* TINY_H */
