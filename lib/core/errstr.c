#include "errstr.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

void dlg_seterr_fmt(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!dlg_err_wanted(err, errlen))
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

const char *dlg_file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "a special file";
}
