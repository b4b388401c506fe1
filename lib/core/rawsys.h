/* The system calls a process start makes in the preload, without libc's
 * wrappers: each wrapper sits on a page of libc's text that a small program
 * never touches otherwise, and on a VM the first touch of a page costs as
 * much as ten system calls. Same contracts as the libc functions (-1 and
 * errno on failure). Elsewhere, and on other architectures, they are the
 * libc functions. */
#ifndef DLGUARD_RAWSYS_H
#define DLGUARD_RAWSYS_H

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

/* The code every process start runs, kept together: its first touch of
 * each page of text costs about as much as a page fault on this kind of
 * VM, however few bytes of the page it uses (bench/README.md, P1). */
#ifdef DLGUARD_IN_PRELOAD
#define DLG_START_TEXT __attribute__((section(".text.startup.dlguard")))
#else
#define DLG_START_TEXT
#endif

#if defined(DLGUARD_IN_PRELOAD) && defined(__x86_64__)

static inline __attribute__((always_inline)) long raw_syscall4(long n, long a, long b, long c, long d)
{
	register long r10 __asm__("r10") = d;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline __attribute__((always_inline)) long raw_result(long ret)
{
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

/* open without touching errno (libc's __errno_location is one more page):
 * the descriptor, or -errno. */
static inline __attribute__((always_inline)) int raw_open_noerrno(const char *path, int flags)
{
	return (int)raw_syscall4(SYS_openat, AT_FDCWD, (long)path, flags, 0);
}

static inline __attribute__((always_inline)) int raw_open(const char *path, int flags)
{
	return (int)raw_result(raw_syscall4(SYS_openat, AT_FDCWD, (long)path, flags, 0));
}

static inline __attribute__((always_inline)) int raw_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	return (int)raw_result(raw_syscall4(SYS_newfstatat, dirfd, (long)path, (long)st, flags));
}

static inline __attribute__((always_inline)) ssize_t raw_pread(int fd, void *buf, size_t len, off_t off)
{
	return raw_result(raw_syscall4(SYS_pread64, fd, (long)buf, (long)len, (long)off));
}

static inline __attribute__((always_inline)) int raw_close(int fd)
{
	return (int)raw_result(raw_syscall4(SYS_close, fd, 0, 0, 0));
}

#else

static inline int raw_open_noerrno(const char *path, int flags)
{
	int fd = open(path, flags);

	return fd < 0 ? -errno : fd;
}

static inline int raw_open(const char *path, int flags)
{
	return open(path, flags);
}

static inline int raw_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	return fstatat(dirfd, path, st, flags);
}

static inline ssize_t raw_pread(int fd, void *buf, size_t len, off_t off)
{
	return pread(fd, buf, len, off);
}

static inline int raw_close(int fd)
{
	return close(fd);
}

#endif
#endif
