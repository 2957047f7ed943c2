/*
 * Polled output on the 16550 at 0x3f8.  The UART is used as the VMM left it:
 * line settings do not matter to a virtual UART, so no init is done.
 */
#include "tiny.h"

#define COM1 0x3f8
#define COM1_LSR (COM1 + 5)
#define LSR_THR_EMPTY 0x20

static void uart_putc(char c)
{
	/* An absent UART reads as 0xff, which also ends this loop. */
	while (!(inb(COM1_LSR) & LSR_THR_EMPTY))
		;
	outb((u8)c, COM1);
}

void uart_puts(const char *s)
{
	while (*s)
		uart_putc(*s++);
}

void uart_hex64(u64 v)
{
	static const char digits[] = "0123456789abcdef";
	char buf[17];
	int i;

	for (i = 15; i >= 0; i--) {
		buf[i] = digits[v & 0xf];
		v >>= 4;
	}
	buf[16] = '\0';
	uart_puts(buf);
}

void uart_dec(u64 v)
{
	char buf[21];
	int i = 20;

	buf[i] = '\0';
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	uart_puts(buf + i);
}
