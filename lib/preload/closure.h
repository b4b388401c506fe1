/* The dependency closure of an object about to be loaded: every DT_NEEDED
 * object ld.so would map with it that is not loaded yet, found the way ld.so
 * will find it, and decided on before the real loader runs any of them. */
#ifndef DLGUARD_CLOSURE_H
#define DLGUARD_CLOSURE_H

#include <stdbool.h>
#include <stddef.h>
#include "elf.h"
#include "resolve.h"

/* Decides on one dependency. Returns true when its load may go ahead (an
 * allow, or a denial in audit mode); false to refuse the whole load, with
 * a sentence in reason. */
typedef bool (*closure_decide_fn)(void *ctx, const char *needed, const struct dlg_found *dep,
				  const char *canon, char *reason, size_t len);

struct closure_root {
	const struct dlg_search_ctx *base;      /* the search context of the dlopen call */
	const char *path;                       /* the root as ld.so will name it */
	const struct dlg_elf_dyn *dyn;          /* its dynamic section */
};

#define CLOSURE_MAX 512

/* Nothing to map but the root: every name it needs is already loaded
 * (loaded.h), so closure_check has nothing to search for or decide -- the
 * common case, which callers test first (closure_check would find the same,
 * walking the closure). */
bool closure_all_loaded(const struct dlg_elf_dyn *dyn);

/* Walks the closure breadth-first, as _dl_map_object_deps does. Returns
 * true when every new object may be loaded; false with the reason (naming the
 * dependency, who needs it, and why) when one may not, or when a dependency
 * cannot be found, read, or the closure exceeds CLOSURE_MAX objects. */
bool closure_check(const struct closure_root *root, closure_decide_fn decide, void *ctx,
		   char *reason, size_t len);

#endif
