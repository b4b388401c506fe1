/* The decision flow behind the exported wrappers. */
#ifndef DLGUARD_GUARD_H
#define DLGUARD_GUARD_H

#include <dlfcn.h>

enum guard_kind { GUARD_DLOPEN, GUARD_DLMOPEN };

/* Loads 'name' for the object containing 'caller' exactly as the real loader
 * would, unless the policy denies it. */
void *guard_open(enum guard_kind kind, Lmid_t lmid, const char *name, int flags,
		 const void *caller);

#endif
