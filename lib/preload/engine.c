/* libdlguard-engine.so's entry point for the front (engine.h). */
#include "engine.h"

#include "guard.h"
#include "verdict.h"

#define EXPORT __attribute__((visibility("default")))

_Static_assert((int)DLG_OPEN_DLOPEN == (int)GUARD_DLOPEN &&
	       (int)DLG_OPEN_DLMOPEN == (int)GUARD_DLMOPEN, "open kinds");

static void *engine_open(enum dlg_open_kind kind, Lmid_t lmid, const char *name, int flags,
			 const void *caller)
{
	return guard_open((enum guard_kind)kind, lmid, name, flags, caller);
}

static const struct dlg_engine ops = {
	.size = sizeof ops,
	.startup = startup_check,
	.open = engine_open,
};

/* Called once per process, by the front, before anything else here. */
EXPORT const struct dlg_engine *dlguard_engine_v1(const struct dlg_front *front)
{
	if (!front || front->size < sizeof *front)
		return NULL;
	guard_set_front(front);
	verdict_set_front(front);
	return &ops;
}
