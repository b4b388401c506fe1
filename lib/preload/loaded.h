/* Whether the loader would answer a dlopen of a name from memory. Shared by
 * the front (its already-loaded fast path) and the engine (a dependency
 * already loaded needs no decision). */
#ifndef DLGUARD_LOADED_H
#define DLGUARD_LOADED_H

#include <link.h>
#include <stdbool.h>

/* True when a loaded object of the caller's namespace answers to name
 * without a search: for a name with a slash, an object loaded under exactly
 * that name; for a bare name, an object whose DT_SONAME it is. False for an
 * empty name and for a name with a dynamic string token ('$'), which ld.so
 * expands before it matches. A subset of ld.so's own matching (it also
 * knows every name an object was asked for under), so a true answer means a
 * dlopen(name, RTLD_NOLOAD) finds the object without touching a file. */
bool dlg_loaded_name(const char *name);

/* dl_iterate_phdr, made so that no fork starts while it runs (loaded.c says
 * why): what the guard's dlopen paths call instead. */
int dlg_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data);

#endif
