/* The interface between the two objects of the guard.
 *
 * libdlguard.so, the front (lib/front), is what LD_PRELOAD and
 * /etc/ld.so.preload name: it is mapped into every process, so it is small
 * (a few pages, a handful of imports) and at process start does only the
 * start-up check's common case, from the policies' headers and start-up
 * verdicts. libdlguard-engine.so, the engine (lib/preload, lib/core), does
 * everything else: the front loads it from its own directory, through the
 * real loader, on the first decision it cannot take itself -- a dlopen of a
 * file not already loaded under that name (loaded.h), or a start-up object
 * without a current start-up verdict. The
 * engine is also the rtld-audit module (LD_AUDIT names it).
 *
 * The engine's entry point is versioned by name: a front and an engine of
 * different interfaces (a package upgraded under a running process) find
 * no entry, and the front then refuses what it cannot check. */
#ifndef DLGUARD_ENGINE_H
#define DLGUARD_ENGINE_H

#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>

#define DLG_ENGINE_FILE "libdlguard-engine.so"
#define DLG_ENGINE_ENTRY "dlguard_engine_v1"

enum dlg_open_kind { DLG_OPEN_DLOPEN, DLG_OPEN_DLMOPEN };

/* What the front read at process start, before the program could change
 * its environment. The strings stay valid for the life of the process. */
struct dlg_front {
	uint32_t size;                  /* sizeof (struct dlg_front) */
	bool secure;                    /* AT_SECURE */
	bool sys_absent;                /* no system policy at start-up: none for this process */
	const char *platform;           /* AT_PLATFORM */
	const char *ld_library_path;    /* NULL if unset or AT_SECURE */
	const char *policy_path;        /* DLGUARD_POLICY; NULL if unset or AT_SECURE */
	const char *run_log;            /* DLGUARD_RUN_LOG; likewise */
	const void *front_base;         /* the front's ELF header (its load address) */
	void *(*real_dlopen)(const char *, int);
	void *(*real_dlmopen)(Lmid_t, const char *, int);
};

struct dlg_engine {
	uint32_t size;                  /* sizeof (struct dlg_engine) */
	/* The whole start-up check (startup.c): from the front's constructor. */
	void (*startup)(void);
	/* A guarded dlopen or dlmopen, for the object containing caller. */
	void *(*open)(enum dlg_open_kind kind, Lmid_t lmid, const char *name, int flags,
		      const void *caller);
};

typedef const struct dlg_engine *(*dlg_engine_entry)(const struct dlg_front *front);

/* The engine's entry point (DLG_ENGINE_ENTRY): called once per process by
 * the front, before anything else in the engine; NULL if it cannot serve
 * this front. */
const struct dlg_engine *dlguard_engine_v1(const struct dlg_front *front);

#endif
