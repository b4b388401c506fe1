/* Environment hardening (env.strip) and the preload entries ld.so read at
 * start-up (env.deny_untrusted_preload). Called from the start-up
 * constructor only: single-threaded, before main. */
#ifndef DLGUARD_ENVGUARD_H
#define DLGUARD_ENVGUARD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "policy_db.h"

/* The preload entries as ld.so read them, copied before anything strips
 * LD_PRELOAD: the variable split at spaces and colons, /etc/ld.so.preload
 * split at white space and colons without its # comments. Each list is NUL
 * separated; an entry that does not fit is left out (its object is still
 * judged as a start-up object, only not named as a preload entry). */
struct envguard_preload {
	char env[4096];
	size_t env_len;
	char file[4096];
	size_t file_len;
};

void envguard_preload_read(struct envguard_preload *pl);

/* The preload entry naming the mapped object (ld.so's name for it, and the
 * fstat of the file): an entry with a slash names the same inode, one
 * without is the object's file name. Returns "LD_PRELOAD" or
 * "/etc/ld.so.preload" with *entry set, or NULL when no entry names it. */
const char *envguard_preload_entry(const struct envguard_preload *pl, const char *name,
				   const struct stat *st, const char **entry);

/* Removes the DLG_ENV_* variables of mask from this process's environment,
 * so its children do not inherit them. The entry naming the guard (as
 * dladdr names it: the front in LD_PRELOAD, the engine in LD_AUDIT) is
 * kept, alone, so the children stay guarded; if that cannot be written the
 * variable is left as it was. ld.so has read these variables already: this
 * process is not affected, except that getenv() no longer sees them. */
void envguard_strip(uint32_t mask, const char *preload_self, const char *audit_self);

#endif
