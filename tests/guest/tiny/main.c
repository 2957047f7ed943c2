/*
 * What the guest checks and reports, once in 64-bit mode on any entry path.
 * The output format is documented in README.md; tests parse it.
 */
#include "layout.h"
#include "tiny.h"
#include "tiny_checksum.h"

/* struct boot_params offsets (arch/x86/include/uapi/asm/bootparam.h). */
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21c
#define BP_CMD_LINE_PTR 0x228

#define KBC_COMMAND 0x64
#define KBC_PULSE_RESET 0xfe

void tiny_main(const u8 *bp) __attribute__((noreturn));

static void put_sum(const void *data, size_t len)
{
	struct tiny_checksum c = tiny_checksum_compute(data, len);

	uart_puts(" a=");
	uart_hex64(c.a);
	uart_puts(" b=");
	uart_hex64(c.b);
}

/* Whether the command line holds `word` as a whole blank-separated word. */
static int cmdline_has(const char *s, size_t len, const char *word)
{
	size_t n = tiny_strnlen(word, 64);

	for (size_t i = 0; i + n <= len; i++) {
		size_t j = 0;

		if (i > 0 && s[i - 1] != ' ')
			continue;
		while (j < n && s[i + j] == word[j])
			j++;
		if (j == n && (i + n == len || s[i + n] == ' '))
			return 1;
	}
	return 0;
}

static int stay_requested;

static void report_cmdline(const u8 *bp)
{
	u64 addr = rd32(bp, BP_CMD_LINE_PTR) |
		   (u64)rd32(bp, BP_EXT_CMD_LINE_PTR) << 32;
	const char *s = (const char *)(uintptr_t)addr;
	size_t len = 0;

	if (addr != 0) {
		if (!paging_map(addr, TINY_CMDLINE_SIZE + 1)) {
			uart_puts("tiny: error cmdline unmapped\n");
			return;
		}
		/* A loader must not pass more than cmdline_size bytes; if it
		 * did, the reported length is capped there. */
		len = tiny_strnlen(s, TINY_CMDLINE_SIZE);
		stay_requested = cmdline_has(s, len, "tiny.stay");
	}
	uart_puts("tiny: cmdline len=");
	uart_dec(len);
	put_sum(s, len);
	uart_puts("\n");
}

static void report_initrd(const u8 *bp)
{
	u64 addr = rd32(bp, BP_RAMDISK_IMAGE) |
		   (u64)rd32(bp, BP_EXT_RAMDISK_IMAGE) << 32;
	u64 size = rd32(bp, BP_RAMDISK_SIZE) |
		   (u64)rd32(bp, BP_EXT_RAMDISK_SIZE) << 32;

	if (size == 0) {
		uart_puts("tiny: initrd none\n");
		return;
	}
	if (!paging_map(addr, size)) {
		uart_puts("tiny: error initrd unmapped\n");
		return;
	}
	uart_puts("tiny: initrd addr=0x");
	uart_hex64(addr);
	uart_puts(" size=");
	uart_dec(size);
	put_sum((const void *)(uintptr_t)addr, size);
	uart_puts("\n");
}

void tiny_main(const u8 *bp)
{
	struct acpi_info acpi;
	const char *err;

	uart_puts("tiny: hello\n");
	uart_puts("tiny: boot_params=0x");
	uart_hex64((u64)(uintptr_t)bp);
	uart_puts("\n");

	report_cmdline(bp);
	report_initrd(bp);

	uart_puts("tiny: e820 entries=");
	uart_dec(bp[BP_E820_ENTRIES]);
	uart_puts("\n");

	err = acpi_probe(rd64(bp, BP_ACPI_RSDP_ADDR), &acpi);
	if (err) {
		uart_puts("tiny: error ");
		uart_puts(err);
	} else {
		uart_puts("tiny: cpus=");
		uart_dec(acpi.cpus);
	}
	uart_puts("\n");
	uart_puts("tiny: done\n");

	/* "tiny.stay": a guest that never stops by itself, for tests of how
	 * a caller stops a run. Halted with interrupts off, it waits in
	 * KVM_RUN until the VMM interrupts the vCPU. */
	if (stay_requested)
		for (;;)
			__asm__ volatile("cli; hlt");

	/* ACPI S5 if the FADT says how; otherwise ask the keyboard controller
	 * for a reset, which many VMMs, and QEMU with -no-reboot, treat as an
	 * exit. */
	if (!acpi_poweroff(&acpi))
		outb(KBC_PULSE_RESET, KBC_COMMAND);
	for (;;)
		__asm__ volatile("cli; hlt");
}
