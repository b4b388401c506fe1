#include "fdpath.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* "/proc/self/fd/<fd>" into buf (at least FD_LINK_LEN bytes). By hand: this
 * runs for every object at every process start, and snprintf's code would be
 * the only reason to touch several pages of libc. */
#define FD_LINK_LEN 32

static void fd_link(int fd, char *buf)
{
	static const char prefix[] = "/proc/self/fd/";
	char digits[16];
	long v = fd;
	size_t n = 0, used = sizeof prefix - 1;

	memcpy(buf, prefix, used);
	if (v < 0) {
		buf[used++] = '-';
		v = -v;
	}
	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		buf[used++] = digits[--n];
	buf[used] = '\0';
}

/* Without /proc. Apart from dlg_fd_canonical so that its PATH_MAX buffer is
 * on the stack only when it is needed. */
__attribute__((noinline)) static int by_realpath(int fd, const char *fallback, char *out,
						  size_t len)
{
	char real[PATH_MAX];
	struct stat a, b;

	if (!realpath(fallback, real) || fstat(fd, &a) != 0 || stat(real, &b) != 0 ||
	    a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		return -1;
	/* cut to fit when it does not: the caller can tell (fdpath.h) */
	return (size_t)snprintf(out, len, "%s", real) < len ? 0 : 1;
}

int dlg_fd_canonical(int fd, const char *fallback, char *out, size_t len)
{
	char link[FD_LINK_LEN];
	ssize_t n;
	int saved = errno, rc = 0;

	fd_link(fd, link);
	n = len > 1 ? readlink(link, out, len - 1) : -1;
	if (n > 0 && out[0] == '/') {
		out[n] = '\0';
		goto end;
	}
	rc = fallback ? by_realpath(fd, fallback, out, len) : -1;
	if (rc == 0)
		goto end;
	if (rc < 0)
		snprintf(out, len, "%s", fallback ? fallback : "");
	rc = -1;
end:
	errno = saved;
	return rc;
}
