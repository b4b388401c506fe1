/* The canonical name of an open file. */
#ifndef DLGUARD_FDPATH_H
#define DLGUARD_FDPATH_H

#include <stddef.h>

/* Names the file open on fd from /proc/self/fd (symlinks and ".." resolved,
 * exactly the inode held). Without /proc, realpath(fallback) is used if it
 * names the same inode; failing that, fallback itself. Returns 0 when the
 * name is exact, -1 when it is the unverified fallback. A name longer than
 * len - 1 bytes is cut to exactly len - 1: a caller with a buffer shorter
 * than PATH_MAX asks again with a PATH_MAX one when strlen(out) == len - 1. */
int dlg_fd_canonical(int fd, const char *fallback, char *out, size_t len);

#endif
