/* The process's policies, the decisions taken with them, and the events
 * that report those decisions. Shared by the dlopen wrappers, the start-up
 * check and the rtld-audit interface. */
#ifndef DLGUARD_VERDICT_H
#define DLGUARD_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include "policy_db.h"
#include "resolve.h"

/* What the process is, read once. */
struct verdict_env {
	bool secure;                    /* AT_SECURE: every DLGUARD_* variable ignored */
	const char *platform;           /* AT_PLATFORM */
	const char *ld_library_path;    /* as at start-up; NULL in AT_SECURE processes */
	const void *front_base;         /* the front's load address; NULL without one */
};

struct policy_slot;

struct decision {
	const char *decision;           /* "allow", "deny", "would-deny" */
	const struct policy_slot *by;   /* the policy whose verdict is reported; NULL if none */
	struct dlg_verdict v;
};

/* Reads the environment and the headers of the policies (each is mapped on
 * first use). Called once per process (also after fork: the state is
 * inherited), by guard.c's initialisation,
 * which runs under its own pthread_once: a second one here would cost every
 * process start one more FUTEX_WAKE system call. */
void verdict_init(void);

/* Makes verdict_init take the environment the front read at start-up
 * (engine.h) instead of reading the current one. Before verdict_init. */
struct dlg_front;
void verdict_set_front(const struct dlg_front *front);
const struct verdict_env *verdict_env(void);

/* The hwcaps subdirectories of this CPU, computed once, on first use. */
const struct dlg_hwcaps *verdict_hwcaps(void);

/* The program's canonical path (/proc/self/exe), read once, on first use
 * (thread-safe); "" if unknown. A process start needs it only for a rule
 * with an exe condition, an event, or the main program's $ORIGIN. */
const char *verdict_exe(void);

/* verdict_exe() for struct dlg_subject's exe_lookup: NULL if unknown. */
const char *verdict_subject_exe(void);

/* True when a system or environment policy exists (usable or not). */
bool verdict_active(void);

/* The usable policies, system first (at most max): the start-up check
 * reads their start-up and environment options. After verdict_init(). */
size_t verdict_policies(const struct dlg_db **out, size_t max);

/* The start-up check's shortcut: true when every policy present holds a
 * start-up verdict for the object ld.so named name (docs/compiled-format.md)
 * and stat(name) shows the fingerprint recorded with it. Reads the policies
 * by pread, without mapping them; false whenever that cannot be said (then
 * the object is decided as any other). Until verdict_startup_done(). */
bool verdict_startup_known(const char *name);

/* Closes what the start-up check read the policies through. */
void verdict_startup_done(void);

/* The start-up and environment options of the usable policies, from their
 * headers: no mapping needed. */
struct verdict_options {
	size_t usable;                  /* policies present and readable */
	bool deny_untrusted_preload;    /* some policy sets env.deny_untrusted_preload */
	uint32_t env_strip;             /* env.strip of the enforcing ones */
};
void verdict_options(struct verdict_options *o);

/* Both policies must allow: an enforcing denial wins over an audit one. */
void verdict_decide(struct dlg_subject *subj, struct decision *d);

/* A refusal that is not a policy verdict (unloadable file, missing
 * dependency): rule "error". */
void verdict_error(struct decision *d, const char *reason);

/* Writes the event to every log the policies ask for (and to the run log
 * for denials). action: "dlopen", "dlmopen", "startup", "audit". */
void verdict_emit(const char *action, const char *requested, const char *path,
		  const struct dlg_subject *subj, const struct decision *d);

/* Text for people may be cut to its fixed buffer: not an error. */
__attribute__((format(printf, 3, 4))) void msgf(char *buf, size_t len, const char *fmt, ...);

#endif
