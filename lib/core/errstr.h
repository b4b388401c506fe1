/* Error text without locale: strerror may load message catalogs (files,
 * malloc) when the host has called setlocale, which has no place inside a
 * host's dlopen. */
#ifndef DLGUARD_ERRSTR_H
#define DLGUARD_ERRSTR_H

#include <stddef.h>
#include <string.h>
#include <sys/types.h>

/* What a file that is not a regular file is, for messages: "a directory",
 * "a FIFO", "a character device", "a block device", "a socket", else
 * "a special file". */
const char *dlg_file_kind(mode_t mode);

/* Formats a reason into err (when err is not NULL and errlen not 0); a
 * message cut to fit is still a message. The one error-text helper of the
 * core modules. */
__attribute__((format(printf, 3, 4))) void dlg_seterr(char *err, size_t errlen,
						       const char *fmt, ...);

static inline const char *dlg_strerror(int e)
{
	const char *s = strerrordesc_np(e);

	return s ? s : "unknown error";
}

#endif
