/* Start-up verdicts, collected by `dlguard compile` (docs/compiled-format.md,
 * "Start-up verdicts"): files the policy allows in every process, whatever
 * its executable, each under the name ld.so gives it, with the stat
 * fingerprint that vouches for the verdict. CLI only: it opens, hashes and
 * decides on every candidate; the preload only looks the names up. */
#ifndef DLGUARD_STARTUP_VERDICTS_H
#define DLGUARD_STARTUP_VERDICTS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include "policy.h"

struct dlg_startup_stats {
	size_t candidates;      /* distinct names tried */
	size_t recorded;        /* verdicts in p->startup_fps */
	size_t too_recent;      /* left out only for a ctime too recent */
};

/* For tests. names (when not NULL) replaces the names ld.so gives at
 * start-up (the paths of /etc/ld.so.cache and the PT_INTERP of this
 * program) by names[0..n_names); the canonical paths of these and the
 * paths of p->fprints are tried as well either way. settled (when not
 * NULL) replaces the clock: whether a file with this fstat changed long
 * enough ago (default: ctime at least DLG_FP_SETTLE_SEC ago). */
struct dlg_startup_hooks {
	const char *const *names;
	size_t n_names;
	bool (*settled)(const struct stat *st, void *ctx);
	void *ctx;
};

/* Fills p->startup_fps / p->n_startup (what was there is replaced) with the
 * candidates this policy allows from facts their fingerprint captures:
 * the decision must not depend on the executable, the clock (recent), the
 * directories above the file (writable), a signature or a failure; the
 * file must be a root-owned regular file nobody else can write, on a local
 * file system, unchanged while decided on and settled (stats->too_recent
 * counts those that were not); and every directory the name's resolution
 * goes through, the canonical path's ancestors among them, must be
 * writable by root only. A candidate that fails any of this is skipped,
 * never an error. hooks may be NULL. Returns 0, or -1 with err filled
 * (out of memory, the policy does not build). */
int dlg_startup_collect(struct dlg_policy *p, const struct dlg_startup_hooks *hooks,
			struct dlg_startup_stats *stats, char *err, size_t errlen);

#endif
