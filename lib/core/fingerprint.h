/* Stat fingerprints of the files a policy pins, taken when it is compiled
 * (docs/compiled-format.md, "Fingerprints"). CLI only: it reads every
 * pinned file, allocates and may sleep; the preload only looks them up. */
#ifndef DLGUARD_FINGERPRINT_H
#define DLGUARD_FINGERPRINT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <time.h>
#include "policy.h"

/* How long ago, at least, a file's ctime must lie when it is hashed for
 * its fingerprint to be trusted (the racy-timestamp wait, fingerprint.c). */
#define DLG_FP_SETTLE_SEC 2

struct dlg_fp_stats {
	size_t pinned;          /* distinct paths the allow rules pin by content */
	size_t recorded;        /* fingerprints in p->fprints */
};

/* For tests: wait replaces the sleep of the racy-timestamp wait. It is
 * called at most once per collection, with the CLOCK_REALTIME time to wait
 * until, before the files that were too recent are hashed again. */
struct dlg_fp_hooks {
	void (*wait)(const struct timespec *until, void *ctx);
	void *ctx;
};

/* Fingerprints every file an allow rule pins by path and sha256, or an
 * allow manifest rule lists, that holds one of the digests it is allowed
 * with, into p->fprints (what was there is replaced): at most one per
 * (dev, ino), none for an inode seen with two digests. A file is skipped,
 * never an error, when it is missing, unreadable, not a regular file,
 * writable by anyone but root or the compiling user, on a network or FUSE
 * file system, changed while read or during the wait. hooks may be NULL.
 * Returns 0, or -1 with err filled (out of memory). */
int dlg_fingerprint_collect(struct dlg_policy *p, const struct dlg_fp_hooks *hooks,
			    struct dlg_fp_stats *stats, char *err, size_t errlen);

/* Shared with the start-up verdicts (startup_verdicts.c), which rest on the
 * same argument (the top of fingerprint.c). */

/* Whether the file system of fd keeps file attributes itself: false on a
 * network or FUSE file system, whose server may serve other bytes under the
 * same attributes, and when fstatfs fails. */
bool dlg_fp_attrs_local(int fd);

/* Whether two fstat results show the same dev, ino, size, mtime and ctime. */
bool dlg_fp_same_stat(const struct stat *a, const struct stat *b);

/* Sets those fields of fp from st (sha256 and path are left alone). */
void dlg_fp_set_stat(struct dlg_fingerprint *fp, const struct stat *st);

#endif
