/* Search information of the object that called dlopen, read from memory. */
#ifndef DLGUARD_CALLER_H
#define DLGUARD_CALLER_H

#include <limits.h>
#include <stdbool.h>
#include "resolve.h"

struct caller_info {
	struct dlg_search_obj obj;
	bool is_main;
	char origin[PATH_MAX];
};

/* Fills ci for the object containing addr (the wrapper's return address).
 * An address outside any object is treated as the main program. exe is the
 * program's canonical path (for the main program's $ORIGIN). */
void caller_lookup(const void *addr, const char *exe, struct caller_info *ci);

/* Search information of the main program. */
void caller_main(const char *exe, struct caller_info *ci);

#endif
