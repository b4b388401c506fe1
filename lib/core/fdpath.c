#include "fdpath.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int dlg_fd_canonical(int fd, const char *fallback, char *out, size_t len)
{
	char link[64], real[PATH_MAX];
	struct stat a, b;
	ssize_t n;
	int saved = errno, rc = 0;

	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	n = len > 1 ? readlink(link, out, len - 1) : -1;
	if (n > 0 && out[0] == '/') {
		out[n] = '\0';
		goto end;
	}
	if (fallback && realpath(fallback, real) && fstat(fd, &a) == 0 && stat(real, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino && (size_t)snprintf(out, len, "%s", real) < len)
		goto end;
	snprintf(out, len, "%s", fallback ? fallback : "");
	rc = -1;
end:
	errno = saved;
	return rc;
}
