/*
 * Polled output on the 16550 at 0x3f8.  Line settings do not matter to a
 * virtual UART, so the only set-up is the transmit FIFO: on a 16550A, one
 * "THR empty" in LSR means 16 bytes may follow, which saves an LSR read (a
 * VM exit, expensive under an emulating hypervisor) for 15 of every 16 bytes.
 */
#include "tiny.h"

#define COM1 0x3f8
#define COM1_IIR (COM1 + 2)
#define COM1_FCR (COM1 + 2)
#define COM1_LSR (COM1 + 5)
#define LSR_THR_EMPTY 0x20
#define FCR_ENABLE_AND_CLEAR 0x07
#define IIR_FIFOS_ENABLED 0xc0
#define FIFO_DEPTH 16

static unsigned fifo_depth;	/* 0 until uart_putc first looks */
static unsigned fifo_room;	/* bytes that may be written before the next LSR check */

static void uart_init(void)
{
	outb(FCR_ENABLE_AND_CLEAR, COM1_FCR);
	/* An 8250/16450, or no UART at all, does not report working FIFOs. */
	fifo_depth = (inb(COM1_IIR) & IIR_FIFOS_ENABLED) == IIR_FIFOS_ENABLED ? FIFO_DEPTH : 1;
}

static void uart_putc(char c)
{
	if (!fifo_depth)
		uart_init();
	if (!fifo_room) {
		/* An absent UART reads as 0xff, which also ends this loop. */
		while (!(inb(COM1_LSR) & LSR_THR_EMPTY))
			;
		fifo_room = fifo_depth;
	}
	outb((u8)c, COM1);
	fifo_room--;
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
