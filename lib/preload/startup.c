/* The start-up check: the objects mapped before the guard could see them
 * (the program's DT_NEEDED closure, LD_PRELOAD libraries) are decided on
 * when the guard initialises, and each untrusted one is logged with
 * event.action "startup". Their constructors may already have run: only the
 * rtld-audit interface (audit.c) can stop those. What the policies add:
 * - startup = "kill": an object an enforcing kill policy denies ends the
 *   process before main (one line on stderr, exit status 126);
 * - env.deny_untrusted_preload: an untrusted object that an LD_PRELOAD or
 *   /etc/ld.so.preload entry named is reported as that entry;
 * - env.strip: variables removed for the children (envguard.c), last.
 * Run by the front's constructor (engine.h) when its common case does not
 * settle every object: single-threaded but for a program whose earlier
 * constructors start threads, before main. */
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <stdint.h>
#include <unistd.h>

#include "envguard.h"
#include "fdpath.h"
#include "guard.h"
#include "verdict.h"
#include "rawsys.h"

/* Exit status of a process stopped at start-up: the shell's "found but
 * could not be executed". */
#define STARTUP_KILL_STATUS 126

/* This library's ELF header, i.e. its load address (GNU ld defines it). */
extern const ElfW(Ehdr) __ehdr_start __attribute__((visibility("hidden")));

/* Small: on the constructor's stack, which ld.so's own deeper frames have
 * already touched. */
struct startup {
	int index;
	const void *self;               /* our own load address */
	const void *front;              /* the front's */
	ElfW(Addr) interp;              /* the program interpreter's */
	bool name_preloads;             /* some policy sets env.deny_untrusted_preload */
	bool kill;                      /* an object made a kill policy stop the process */
};

/* Written only when a policy asks for them: a first write to a page is a
 * page fault, too costly for every process start. */
static struct envguard_preload preload_entries;   /* when name_preloads */
static struct {
	char path[PATH_MAX];
	char reason[sizeof ((struct dlg_verdict *)0)->reason];
} killed;                                         /* when kill */
static char long_name[PATH_MAX];                  /* a canonical name beyond NAME_SHORT */

/* Canonical names of mapped objects are short: room on the stack for those. */
#define NAME_SHORT 512

/* The verdict of an enforcing startup = "kill" policy that denies the
 * subject, if any. Decided on a copy: the event keeps the evidence of the
 * verdict it reports. */
static bool kill_verdict(const struct dlg_subject *subj, struct dlg_verdict *v)
{
	const struct dlg_db *dbs[2];
	size_t n = verdict_policies(dbs, 2);

	for (size_t i = 0; i < n; i++) {
		struct dlg_subject copy = *subj;

		if (dbs[i]->startup != DLG_STARTUP_KILL || dbs[i]->mode != DLG_MODE_ENFORCE)
			continue;
		if (dlg_decide(dbs[i], &copy, v) == DLG_ACTION_DENY)
			return true;
	}
	return false;
}

/* "LD_PRELOAD entry /x/libevil.so: <reason>" for an object a preload entry
 * named, when a policy asks for that. */
static void name_preload(const struct startup *st, const char *name, const struct stat *fst,
			 char *reason, size_t len)
{
	char tmp[sizeof ((struct dlg_verdict *)0)->reason];
	const char *which, *entry;

	if (!st->name_preloads)
		return;
	which = envguard_preload_entry(&preload_entries, name, fst, &entry);
	if (!which)
		return;
	msgf(tmp, sizeof tmp, "%s entry %s: %s", which, entry, reason);
	msgf(reason, len, "%s", tmp);
}

/* An object the policies do not allow: reported, and remembered if a kill
 * policy denies it. Apart from check_object, so that the frame of the
 * common case stays small (stack pages are faults too). */
__attribute__((noinline, cold)) static void not_allowed(struct startup *st, const char *name,
							 const struct stat *fst,
							 struct dlg_subject *subj,
							 struct decision *d)
{
	struct dlg_verdict kv;
	bool kill;

	kill = kill_verdict(subj, &kv);
	name_preload(st, name, fst, d->v.reason, sizeof d->v.reason);
	/* Already mapped: refused only by stopping the process. */
	d->decision = kill ? "deny" : "would-deny";
	verdict_emit("startup", name, subj->path, subj, d);
	if (kill && !st->kill) {
		st->kill = true;
		msgf(killed.path, sizeof killed.path, "%s", subj->path);
		name_preload(st, name, fst, kv.reason, sizeof kv.reason);
		msgf(killed.reason, sizeof killed.reason, "%s", kv.reason);
	}
}

/* The canonical name of the object open on fd, in buf when it fits (a name
 * that may have been cut fills it: fdpath.h). */
static const char *canonical_name(int fd, const char *name, char *buf, size_t len)
{
	dlg_fd_canonical(fd, name, buf, len);
	if (strlen(buf) + 1 < len)
		return buf;
	dlg_fd_canonical(fd, name, long_name, sizeof long_name);
	return long_name;
}

DLG_START_TEXT static void check_object(struct startup *st, const char *name)
{
	/* allowed objects are not reported: their reasons go unformatted */
	struct dlg_subject subj = { .fd = -1, .exe_lookup = verdict_subject_exe,
				    .quiet_allow = true };
	struct decision d;
	struct stat fst;
	char canon[NAME_SHORT];
	int fd;

	/* the common case: one pread per policy and one stat */
	if (verdict_startup_known(name))
		return;
	fd = open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return;
	/* not fstat: see dlg_db_open_file */
	if (fstatat(fd, "", &fst, AT_EMPTY_PATH) != 0 || !S_ISREG(fst.st_mode))
		goto end;
	subj.path = canonical_name(fd, name, canon, sizeof canon);
	subj.fd = fd;
	verdict_decide(&subj, &d);
	if (strcmp(d.decision, "allow") != 0)
		not_allowed(st, name, &fst, &subj, &d);
end:
	close(fd);
}

DLG_START_TEXT static int visit(struct dl_phdr_info *info, size_t size, void *data)
{
	struct startup *st = data;

	(void)size;
	/* The first entry is the program itself; names without a slash are
	 * the vDSO. The guard's two objects are not judged by themselves: a
	 * tampered copy would not report itself anyway. Nor is the program
	 * interpreter, which the kernel mapped with the program: like the
	 * program, no loader chose it, and an untrusted one has run before
	 * the guard and decides whether the guard is loaded at all. */
	if (st->index++ > 0 && info->dlpi_name && strchr(info->dlpi_name, '/') &&
	    (const void *)info->dlpi_addr != st->self &&
	    (const void *)info->dlpi_addr != st->front &&
	    !(st->interp && info->dlpi_addr == st->interp))
		check_object(st, info->dlpi_name);
	return 0;
}

/* Every untrusted object has been logged; the first one a kill policy
 * denied is named. */
__attribute__((noreturn, cold)) static void stop(void)
{
	const char *exe = verdict_exe()[0] ? verdict_exe() : "process";
	char msg[2 * PATH_MAX + 512];

	msgf(msg, sizeof msg, "dlguard: %s: untrusted object %s mapped at start-up (%s); "
	     "stopping before main\n", exe, killed.path, killed.reason);
	(void)!write(STDERR_FILENO, msg, strlen(msg));
	_exit(STARTUP_KILL_STATUS);
}

/* The options of the usable policies: an unusable one (corrupt, wrong
 * owner) refuses every dlopen but never stops or changes a process. Audit
 * mode changes nothing in the process: only enforcing ones strip. */
DLG_START_TEXT static uint32_t read_options(struct startup *st)
{
	struct verdict_options o;

	verdict_options(&o);
	st->name_preloads = o.deny_untrusted_preload;
	return o.usable ? o.env_strip : 0;
}

/* Removes the variables env.strip names, keeping the guard: the front in
 * LD_PRELOAD, this library in LD_AUDIT. */
__attribute__((cold)) static void strip_env(uint32_t strip, const void *front)
{
	Dl_info self, fr;

	envguard_strip(strip, front && dladdr(front, &fr) ? fr.dli_fname : NULL,
		       dladdr((void *)strip_env, &self) ? self.dli_fname : NULL);
}

/* The whole check, for the front's constructor (engine.h). */
void startup_check(void)
{
	struct startup st = { .self = &__ehdr_start,
			      .interp = (ElfW(Addr))getauxval(AT_BASE) };
	uint32_t strip;

	if (!guard_enter()) {
		verdict_startup_done();
		return;
	}
	st.front = verdict_env()->front_base;
	if (verdict_active()) {
		strip = read_options(&st);
		if (st.name_preloads)
			envguard_preload_read(&preload_entries);
		dl_iterate_phdr(visit, &st);
		if (st.kill)
			stop();
		if (strip)
			strip_env(strip, st.front);
	}
	verdict_startup_done();
	guard_leave();
}
