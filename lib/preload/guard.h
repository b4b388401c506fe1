/* The decision flow behind the exported wrappers. */
#ifndef DLGUARD_GUARD_H
#define DLGUARD_GUARD_H

#include <dlfcn.h>
#include <stdbool.h>

enum guard_kind { GUARD_DLOPEN, GUARD_DLMOPEN };

/* Loads 'name' for the object containing 'caller' exactly as the real loader
 * would, unless the policy denies it. */
void *guard_open(enum guard_kind kind, Lmid_t lmid, const char *name, int flags,
		 const void *caller);

/* Initialises the guard once (real loader pointers, policies) and marks this
 * thread as inside it, so that loads made meanwhile (libcrypto, constructors)
 * go straight to the real loader. Returns false if the thread already was
 * inside; pair a true return with guard_leave(). */
bool guard_enter(void);
void guard_leave(void);

struct dlg_front;

/* The real loader as the front found it (engine.h): before any other call. */
void guard_set_front(const struct dlg_front *front);

/* The whole start-up check (startup.c), for the front's constructor. */
void startup_check(void);

#endif
