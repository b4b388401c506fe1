/* Error text without locale: strerror may load message catalogs (files,
 * malloc) when the host has called setlocale, which has no place inside a
 * host's dlopen. */
#ifndef DLGUARD_ERRSTR_H
#define DLGUARD_ERRSTR_H

#include <string.h>

static inline const char *dlg_strerror(int e)
{
	const char *s = strerrordesc_np(e);

	return s ? s : "unknown error";
}

#endif
