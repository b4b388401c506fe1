/* bench_costs: what the machine charges for the primitives a preload's
 * start-up and dlopen path are made of. On a virtual machine a system call,
 * a page fault or a CPUID instruction can cost microseconds (each traps to
 * the hypervisor), which is what decides whether "a few syscalls at start-up"
 * is negligible or not. bench/diagnose prints these beside its counts.
 *
 *   bench_costs [FILE]   FILE: any file of a few MiB for the file-fault test */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#ifdef __x86_64__
#include <cpuid.h>
#endif

static long long now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void show(const char *what, long long ns, long n)
{
	printf("%-44s %8.0f ns\n", what, (double)ns / (double)n);
}

static void syscalls(void)
{
	char buf[4096];
	long long t0 = now();
	int n = 20000;

	for (int i = 0; i < n; i++)
		syscall(SYS_getppid);
	show("system call (getppid)", now() - t0, n);
	t0 = now();
	for (int i = 0; i < n; i++)
		close(open("/etc/ld.so.cache", O_RDONLY | O_CLOEXEC));
	show("open + close", now() - t0, n);
	t0 = now();
	for (int i = 0; i < n; i++)
		if (readlink("/proc/self/exe", buf, sizeof buf) < 0)
			break;
	show("readlink /proc/self/exe", now() - t0, n);
}

static void faults(const char *file)
{
	size_t len = 16 << 20;
	volatile unsigned char sink = 0;
	unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long long t0;
	struct stat st;
	int fd;

	if (p == MAP_FAILED)
		return;
	t0 = now();
	for (size_t o = 0; o < len; o += 4096)
		p[o] = 1;
	show("page fault, anonymous (first write)", now() - t0, (long)(len / 4096));
	munmap(p, len);
	fd = file ? open(file, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < (1 << 20))
		return;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return;
	t0 = now();
	for (off_t o = 0; o < st.st_size; o += 4096)
		sink += p[o];
	(void)sink;
	show("page touch, cached file (fault-around)", now() - t0, (long)(st.st_size / 4096));
	munmap(p, (size_t)st.st_size);
}

static void cpuid(void)
{
#ifdef __x86_64__
	unsigned a, b, c, d, sum = 0;
	long long t0 = now();
	int n = 2000;

	for (int i = 0; i < n; i++) {
		__cpuid_count(7, 0, a, b, c, d);
		sum += a + b + c + d;
	}
	show("CPUID instruction", now() - t0, n);
	if (sum == 1)
		puts("");
#endif
}

int main(int argc, char **argv)
{
	long long t0 = now();
	int n = 100000;

	for (int i = 0; i < n; i++)
		now();
	show("clock_gettime (vDSO)", now() - t0, n);
	syscalls();
	faults(argc > 1 ? argv[1] : NULL);
	cpuid();
	return 0;
}
