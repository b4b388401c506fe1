/* Per-process cache of decisions, keyed by the file's stat fingerprint (dev,
 * ino, size, mtime, ctime): a file decided once is not named, decided or
 * parsed again while it stays the same inode with the same content stamps.
 * Only decisions that depend on nothing but the file and this process's
 * (immutable) policies are cached: not those that read a signature file. */
#ifndef DLGUARD_VCACHE_H
#define DLGUARD_VCACHE_H

#include <stdbool.h>
#include <sys/stat.h>

#include "elf.h"
#include "verdict.h"

/* On a hit, fills canon, *d and, when the dynamic section was cached, *dyn
 * (its strbuf malloc'ed: free with dlg_elf_dyn_free) with *have_dyn set. */
bool vcache_get(const struct stat *st, char *canon, size_t len, struct decision *d,
		struct dlg_elf_dyn *dyn, bool *have_dyn);

/* Whether a file with this fingerprint is in the cache: it was found by a
 * search, so its ELF header passed the check (resolve.h, header_known). */
bool vcache_known(const struct stat *st);

void vcache_put(const struct stat *st, const char *canon, const struct decision *d,
		const struct dlg_elf_dyn *dyn);

#endif
