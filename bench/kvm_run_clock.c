/*
 * A preload library for boot-latency: it times every KVM_RUN a VMM issues,
 * so that a boot's wall time can be split into the part spent inside
 * KVM_RUN (the guest and the kernel's exit handling, which do not depend on
 * the VMM's code) and the VMM's own part (start-up, set-up, and each exit's
 * handling in user space).
 *
 * The figures go to the file named by KVM_RUN_CLOCK_FILE, mapped shared, so
 * that recording costs no system call per exit and the reader sees them even
 * when it kills the VMM: a struct kvm_run_clock (below) at offset 0.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

struct kvm_run_clock {
	uint64_t first_run_ns; /* CLOCK_MONOTONIC when the first KVM_RUN began */
	uint64_t inside_ns;    /* summed time inside KVM_RUN calls that returned */
	uint64_t runs;         /* KVM_RUN calls that returned */
};

static struct kvm_run_clock *clock_page;
static int (*real_ioctl)(int, unsigned long, void *);

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

__attribute__((constructor)) static void open_clock(void)
{
	const char *path = getenv("KVM_RUN_CLOCK_FILE");
	int fd;
	void *page;

	void *next = dlsym(RTLD_NEXT, "ioctl");

	/* ISO C has no object-to-function pointer cast; POSIX guarantees the copy. */
	memcpy(&real_ioctl, &next, sizeof next);
	if (!path)
		return;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	page = mmap(NULL, sizeof *clock_page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (page != MAP_FAILED)
		clock_page = page;
}

int ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;
	uint64_t start;
	int rc;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (request != KVM_RUN || !clock_page)
		return real_ioctl(fd, request, arg);
	start = now_ns();
	if (!clock_page->first_run_ns)
		clock_page->first_run_ns = start;
	rc = real_ioctl(fd, request, arg);
	/* One vCPU in the benchmark's guests: no two threads add at once. */
	clock_page->inside_ns += now_ns() - start;
	clock_page->runs++;
	return rc;
}
