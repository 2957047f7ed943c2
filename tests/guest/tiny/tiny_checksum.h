/*
 * Checksum the tiny test guest prints for the command line and the initrd.
 *
 * Definition (host tests re-implement this independently, so it is the
 * contract, not an implementation detail):
 *
 *   - View the data as a sequence of 64-bit little-endian words.  Word i is
 *     made of bytes 8*i .. 8*i+7, byte 8*i being the least significant.
 *   - If the length is not a multiple of 8, the last word holds the remaining
 *     bytes in its low end and zeros above them.  An empty buffer has no words.
 *   - Starting from a = 0 and b = 0, for each word w in order:
 *         a = a + w      (mod 2^64)
 *         b = b + a      (mod 2^64)
 *   - The checksum is the pair (a, b).  The guest prints each as exactly
 *     16 lowercase hex digits.
 *
 * a catches changed words, b also catches words that were moved around.
 * Working on whole words keeps the guest's cost per byte low, which matters
 * when the guest runs under a slow, fully emulated hypervisor.
 *
 * Plain C with static inline so that the guest (freestanding, C) and host
 * tests (C or C++) can both include it.
 */
#ifndef TINY_CHECKSUM_H
#define TINY_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

struct tiny_checksum {
	uint64_t a;
	uint64_t b;
};

static inline uint64_t tiny_checksum_load_le64(const unsigned char *p)
{
	uint64_t w;

	/* A fixed-size builtin copy compiles to one load and is alias-safe. */
	__builtin_memcpy(&w, p, sizeof(w));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

static inline struct tiny_checksum tiny_checksum_compute(const void *data,
							 size_t len)
{
	const unsigned char *p = (const unsigned char *)data;
	struct tiny_checksum c = { 0, 0 };
	size_t whole = len / 8;
	size_t rest = len % 8;
	size_t i;

	/* Unrolled, the loop is about two instructions per word; this matters
	 * for the guest under an emulating hypervisor. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 4
#endif
	for (i = 0; i < whole; i++) {
		c.a += tiny_checksum_load_le64(p + 8 * i);
		c.b += c.a;
	}
	if (rest != 0) {
		uint64_t w = 0;

		/* Assemble the tail byte by byte so nothing past len is read. */
		for (i = 0; i < rest; i++)
			w |= (uint64_t)p[8 * whole + i] << (8 * i);
		c.a += w;
		c.b += c.a;
	}
	return c;
}

#endif /* TINY_CHECKSUM_H */
