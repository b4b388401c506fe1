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
 * core modules. A macro so that callers that want no message (the preload's
 * first, silent try at the system policy) do not evaluate the arguments
 * either: strerrordesc_np alone touches pages of libc no process start
 * needs otherwise. */
#ifdef DLGUARD_FRONT
/* The guard's front (lib/front) never asks for a reason: the engine says
 * why. Without the formatting code its start-up path fits a page of text. */
#define dlg_seterr(err, errlen, ...) \
	(0 ? dlg_seterr_fmt((err), (errlen), __VA_ARGS__) : (void)0)
#else
#define dlg_seterr(err, errlen, ...)                                                  \
	(dlg_err_wanted((err), (errlen)) ? dlg_seterr_fmt((err), (errlen), __VA_ARGS__) \
					 : (void)0)
#endif

/* A function, not `err && errlen`: an array argument would trip -Waddress. */
static inline int dlg_err_wanted(const char *err, size_t errlen)
{
	return err != NULL && errlen != 0;
}

__attribute__((format(printf, 3, 4))) void dlg_seterr_fmt(char *err, size_t errlen,
							   const char *fmt, ...);

static inline const char *dlg_strerror(int e)
{
	const char *s = strerrordesc_np(e);

	return s ? s : "unknown error";
}

#endif
