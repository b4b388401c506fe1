/* The only exported symbols of libdlguard.so. Unversioned on purpose: an
 * unversioned definition interposes both dlopen@GLIBC_2.2.5 and
 * dlopen@@GLIBC_2.34 (elf/dl-lookup.c check_match). */
#include "guard.h"

#define EXPORT __attribute__((visibility("default")))

EXPORT void *dlopen(const char *file, int mode)
{
	return guard_open(GUARD_DLOPEN, LM_ID_BASE, file, mode, __builtin_return_address(0));
}

EXPORT void *dlmopen(Lmid_t lmid, const char *file, int mode)
{
	return guard_open(GUARD_DLMOPEN, lmid, file, mode, __builtin_return_address(0));
}
