/* The few string helpers the guest needs, since there is no libc. */
#include "tiny.h"

int tiny_memeq(const void *a, const void *b, size_t n)
{
	const u8 *x = a;
	const u8 *y = b;

	while (n--)
		if (*x++ != *y++)
			return 0;
	return 1;
}

/*
 * Length of s, at most max.  Reads aligned words after the first few bytes,
 * so the scan costs about one loop iteration per 8 bytes and never reads
 * past the aligned word holding the terminator.
 */
size_t tiny_strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && ((uintptr_t)(s + n) & 7) != 0) {
		if (s[n] == '\0')
			return n;
		n++;
	}
	while (n + 8 <= max && !has_zero_byte(*(const u64_una *)(s + n)))
		n += 8;
	while (n < max && s[n] != '\0')
		n++;
	return n;
}
