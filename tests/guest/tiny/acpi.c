/*
 * Just enough ACPI to count processors and to power the VM off:
 * RSDP -> XSDT/RSDT -> MADT ("APIC") and FADT ("FACP") -> DSDT (\_S5_).
 * Offsets are from the ACPI specification (6.x).
 */
#include "tiny.h"

#define RSDP_SIG 0x2052545020445352ull	/* "RSD PTR " as a little-endian u64 */
#define RSDP_REVISION 15
#define RSDP_RSDT 16
#define RSDP_LENGTH 20
#define RSDP_XSDT 24
#define RSDP_V1_LEN 20
#define BIOS_AREA_START 0xe0000
#define BIOS_AREA_END 0x100000

#define RSDP_MAX_LEN 4096
#define SDT_LENGTH 4
#define SDT_HEADER_LEN 36
/* Far above anything a VMM builds; a larger length is taken as garbage
 * rather than checksummed for minutes. */
#define SDT_MAX_LEN (1u << 20)

#define MADT_ENTRIES 44
#define MADT_LOCAL_APIC 0
#define MADT_LOCAL_X2APIC 9
#define MADT_ENABLED 0x1

#define FADT_DSDT 40
#define FADT_PM1A_CNT_BLK 64
#define FADT_FLAGS 112
#define FADT_X_DSDT 140
#define FADT_X_PM1A_CNT_BLK 172
#define FADT_SLEEP_CONTROL_REG 244
#define FADT_HW_REDUCED_ACPI (1u << 20)

#define GAS_SPACE 0
#define GAS_ADDRESS 4
#define GAS_LEN 12
#define GAS_SPACE_MEMORY 0
#define GAS_SPACE_IO 1

#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_EN (1u << 13)
#define SLEEP_CTL_SLP_TYP_SHIFT 2
#define SLEEP_CTL_SLP_EN 0x20
#define SLP_TYP_S5_FALLBACK 5

#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_PACKAGE_OP 0x12
#define AML_ROOT_CHAR '\\'

static char errbuf[40];

static void str_append(char **dst, const char *s, size_t n)
{
	while (n-- && *s)
		*(*dst)++ = *s++;
}

/*
 * "<what> <SIG>" in a static buffer.  Only the first error is reported, so
 * the first message written stays: a later one must not change the text
 * behind a pointer the caller already holds.
 */
static const char *err_sig(const char *what, const char *sig)
{
	char *p = errbuf;

	if (errbuf[0] != '\0')
		return errbuf;
	str_append(&p, what, 24);
	*p++ = ' ';
	str_append(&p, sig, 4);
	*p = '\0';
	return errbuf;
}

/*
 * ACPI checksums: all bytes sum to 0 mod 256.  Done a word at a time in
 * four 16-bit lanes (even and odd bytes added separately); masking each
 * lane back to its low byte every step keeps lanes from overflowing into
 * each other and does not change the total mod 256.
 */
static int acpi_sum_ok(const u8 *p, size_t len)
{
	const u64 m = 0x00ff00ff00ff00ffull;
	u64 lanes = 0;
	size_t i = 0;
	unsigned sum;

	for (; i + 8 <= len; i += 8) {
		u64 w = rd64(p, i);

		lanes = (lanes & m) + (w & m) + ((w >> 8) & m);
	}
	sum = (unsigned)(lanes + (lanes >> 16) + (lanes >> 32) + (lanes >> 48));
	for (; i < len; i++)
		sum += p[i];
	return (sum & 0xff) == 0;
}

static const u8 *phys(u64 addr)
{
	return (const u8 *)(uintptr_t)addr;
}

static int rsdp_ok(const u8 *r)
{
	u32 len;

	if (rd64(r, 0) != RSDP_SIG || !acpi_sum_ok(r, RSDP_V1_LEN))
		return 0;
	if (r[RSDP_REVISION] < 2)
		return 1;
	len = rd32(r, RSDP_LENGTH);
	return len >= RSDP_XSDT + 8 && len <= RSDP_MAX_LEN &&
	       paging_map((uintptr_t)r, len) && acpi_sum_ok(r, len);
}

static const char *find_rsdp(u64 hint, const u8 **out)
{
	u64 a;

	if (hint != 0) {
		/* 36 bytes: the ACPI 2.0+ RSDP. */
		if (!paging_map(hint, 36) || !rsdp_ok(phys(hint)))
			return "bad rsdp";
		*out = phys(hint);
		return NULL;
	}
	/* 8192 candidate slots: test four per round, which roughly halves
	 * the instructions spent here, then look at that group in order. */
	for (a = BIOS_AREA_START; a < BIOS_AREA_END; a += 64) {
		const u8 *p = phys(a);
		unsigned i;

		if (rd64(p, 0) != RSDP_SIG && rd64(p, 16) != RSDP_SIG &&
		    rd64(p, 32) != RSDP_SIG && rd64(p, 48) != RSDP_SIG)
			continue;
		for (i = 0; i < 64; i += 16) {
			if (rd64(p, i) == RSDP_SIG && rsdp_ok(p + i)) {
				*out = p + i;
				return NULL;
			}
		}
	}
	return "no rsdp";
}

/* Validates the table at addr: mapped, signature, length and checksum. */
static const char *check_table(u64 addr, const char *sig, const u8 **out)
{
	const u8 *t = phys(addr);
	u32 len;

	if (addr == 0 || !paging_map(addr, SDT_HEADER_LEN))
		return err_sig("unmapped", sig);
	if (!tiny_memeq(t, sig, 4))
		return err_sig("bad signature", sig);
	len = rd32(t, SDT_LENGTH);
	if (len < SDT_HEADER_LEN || len > SDT_MAX_LEN || !paging_map(addr, len))
		return err_sig("bad length", sig);
	if (!acpi_sum_ok(t, len))
		return err_sig("bad checksum", sig);
	*out = t;
	return NULL;
}

struct root {
	const u8 *table;
	unsigned entry_size; /* 8 for the XSDT, 4 for the RSDT */
};

/* *out stays NULL if no table has that signature (not an error here). */
static const char *find_table(const struct root *root, const char *sig,
			      const u8 **out)
{
	u32 len = rd32(root->table, SDT_LENGTH);
	u32 off;

	*out = NULL;
	for (off = SDT_HEADER_LEN; off + root->entry_size <= len;
	     off += root->entry_size) {
		u64 addr = root->entry_size == 8 ? rd64(root->table, off)
						 : rd32(root->table, off);

		if (addr == 0 || !paging_map(addr, SDT_HEADER_LEN))
			continue;
		if (tiny_memeq(phys(addr), sig, 4))
			return check_table(addr, sig, out);
	}
	return NULL;
}

static const char *count_cpus(const u8 *madt, unsigned *cpus)
{
	u32 len = rd32(madt, SDT_LENGTH);
	u32 off = MADT_ENTRIES;

	*cpus = 0;
	while (off + 2 <= len) {
		u8 type = madt[off];
		u8 elen = madt[off + 1];

		if (elen < 2 || off + elen > len)
			return "bad entry APIC";
		if (type == MADT_LOCAL_APIC && elen >= 8 &&
		    (rd32(madt, off + 4) & MADT_ENABLED))
			(*cpus)++;
		if (type == MADT_LOCAL_X2APIC && elen >= 16 &&
		    (rd32(madt, off + 8) & MADT_ENABLED))
			(*cpus)++;
		off += elen;
	}
	return NULL;
}

/*
 * SLP_TYP of "Name (_S5_, Package () { typ, ... })" starting at d[pos] = '_',
 * or -1 if that is not what is there.
 */
static int s5_at(const u8 *d, u32 len, u32 pos)
{
	u32 q;

	if (pos < SDT_HEADER_LEN || pos + 9 > len ||
	    !tiny_memeq(d + pos, "_S5_", 4))
		return -1;
	if (d[pos - 1] != AML_NAME_OP &&
	    !(d[pos - 1] == AML_ROOT_CHAR && d[pos - 2] == AML_NAME_OP))
		return -1;
	if (d[pos + 4] != AML_PACKAGE_OP)
		return -1;
	/* PkgLength: bits 7-6 of its lead byte count the bytes that follow. */
	q = pos + 5;
	q += 1 + (d[q] >> 6);
	q++; /* NumElements */
	if (q + 2 > len)
		return -1;
	switch (d[q]) {
	case AML_BYTE_PREFIX:
		return d[q + 1] & 7;
	case AML_ZERO_OP:
		return 0;
	case AML_ONE_OP:
		return 1;
	default:
		return -1;
	}
}

/*
 * Finds \_S5_ without looking at every byte: words without a '5' (much
 * rarer in AML than '_' or 'S') are skipped with one test each.
 */
static int dsdt_s5(const u8 *d, u32 len)
{
	const u64 fives = 0x3535353535353535ull;
	u32 i = SDT_HEADER_LEN;
	u32 j, stop;
	int typ;

	while (i < len) {
		stop = i + 8 <= len ? i + 8 : len;
		if (stop - i == 8 && !has_zero_byte(rd64(d, i) ^ fives)) {
			i = stop;
			continue;
		}
		for (j = i; j < stop; j++) {
			if (d[j] == '5' && j >= 2) {
				typ = s5_at(d, len, j - 2);
				if (typ >= 0)
					return typ;
			}
		}
		i = stop;
	}
	return -1;
}

static const char *probe_fadt(const u8 *fadt, struct acpi_info *info)
{
	u32 len = rd32(fadt, SDT_LENGTH);
	u64 dsdt_addr = 0;
	const u8 *dsdt;
	const char *err;
	int typ;

	info->fadt = fadt;
	if (len >= FADT_X_DSDT + 8)
		dsdt_addr = rd64(fadt, FADT_X_DSDT);
	if (dsdt_addr == 0 && len >= FADT_DSDT + 4)
		dsdt_addr = rd32(fadt, FADT_DSDT);
	if (dsdt_addr == 0)
		return NULL;
	err = check_table(dsdt_addr, "DSDT", &dsdt);
	if (err)
		return err;
	typ = dsdt_s5(dsdt, rd32(dsdt, SDT_LENGTH));
	if (typ >= 0)
		info->slp_typ_s5 = (unsigned)typ;
	return NULL;
}

const char *acpi_probe(u64 rsdp_hint, struct acpi_info *info)
{
	const u8 *rsdp;
	const u8 *madt;
	const u8 *fadt;
	struct root root;
	const char *err;
	const char *err2;

	info->fadt = NULL;
	info->cpus = 0;
	info->slp_typ_s5 = SLP_TYP_S5_FALLBACK;

	err = find_rsdp(rsdp_hint, &rsdp);
	if (err)
		return err;
	if (rsdp[RSDP_REVISION] >= 2 && rd64(rsdp, RSDP_XSDT) != 0) {
		root.entry_size = 8;
		err = check_table(rd64(rsdp, RSDP_XSDT), "XSDT", &root.table);
	} else {
		root.entry_size = 4;
		err = check_table(rd32(rsdp, RSDP_RSDT), "RSDT", &root.table);
	}
	if (err)
		return err;

	/* Keep going after a problem so power-off still works; report the
	 * first problem. */
	err = find_table(&root, "APIC", &madt);
	if (!err && !madt)
		err = "no APIC";
	if (!err)
		err = count_cpus(madt, &info->cpus);

	err2 = find_table(&root, "FACP", &fadt);
	if (!err2 && fadt)
		err2 = probe_fadt(fadt, info);
	return err ? err : err2;
}

static void gas_write(const u8 *gas, u16 value, int wide)
{
	u64 addr = rd64(gas, GAS_ADDRESS);

	switch (gas[GAS_SPACE]) {
	case GAS_SPACE_MEMORY:
		if (!paging_map(addr, 2))
			return;
		if (wide)
			*(volatile u16 *)(uintptr_t)addr = value;
		else
			*(volatile u8 *)(uintptr_t)addr = (u8)value;
		break;
	case GAS_SPACE_IO:
		if (wide)
			outw(value, (u16)addr);
		else
			outb((u8)value, (u16)addr);
		break;
	}
}

int acpi_poweroff(const struct acpi_info *info)
{
	const u8 *f = info->fadt;
	u32 len;
	u16 v;

	if (!f)
		return 0;
	len = rd32(f, SDT_LENGTH);
	if (len >= FADT_FLAGS + 4 &&
	    (rd32(f, FADT_FLAGS) & FADT_HW_REDUCED_ACPI) &&
	    len >= FADT_SLEEP_CONTROL_REG + GAS_LEN &&
	    rd64(f, FADT_SLEEP_CONTROL_REG + GAS_ADDRESS) != 0) {
		v = (u16)(info->slp_typ_s5 << SLEEP_CTL_SLP_TYP_SHIFT) |
		    SLEEP_CTL_SLP_EN;
		gas_write(f + FADT_SLEEP_CONTROL_REG, v, 0);
		return 1;
	}
	v = (u16)(info->slp_typ_s5 << PM1_SLP_TYP_SHIFT) | PM1_SLP_EN;
	if (len >= FADT_X_PM1A_CNT_BLK + GAS_LEN &&
	    rd64(f, FADT_X_PM1A_CNT_BLK + GAS_ADDRESS) != 0) {
		gas_write(f + FADT_X_PM1A_CNT_BLK, v, 1);
		return 1;
	}
	if (len >= FADT_PM1A_CNT_BLK + 4 && rd32(f, FADT_PM1A_CNT_BLK) != 0) {
		outw(v, (u16)rd32(f, FADT_PM1A_CNT_BLK));
		return 1;
	}
	return 0;
}
