/* The fuzz input as a file, the way the guard reads what it decides on:
 * one memfd per process, rewritten for each input. */
#ifndef DLGUARD_FUZZ_FILE_H
#define DLGUARD_FUZZ_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

/* A descriptor holding exactly data, or -1. */
static inline int fuzz_file(const uint8_t *data, size_t size)
{
	static int fd = -1;

	if (fd < 0)
		fd = memfd_create("dlguard-fuzz", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 0) != 0 ||
	    (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		return -1;
	return fd;
}

#endif
