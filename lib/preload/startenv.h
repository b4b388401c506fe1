/* Reading the environment at process start, shared by the guard's front
 * (lib/front) and its engine. */
#ifndef DLGUARD_STARTENV_H
#define DLGUARD_STARTENV_H

#include <stddef.h>
#include <unistd.h>

#include "rawsys.h"

/* getenv, without the libc code it needs (getenv and strlen are pages that
 * a process start would not touch otherwise). */
DLG_START_TEXT static inline const char *dlg_env_get(const char *name)
{
	for (char **e = environ; e && *e; e++) {
		const char *v = *e, *n = name;

		while (*n && *v == *n) {
			v++;
			n++;
		}
		if (!*n && *v == '=')
			return v + 1;
	}
	return NULL;
}

#endif
