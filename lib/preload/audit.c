/* The rtld-audit interface (LD_AUDIT=libdlguard-engine.so, `dlguard run
 * --audit-mode`): ld.so reports every object it is about to open -- the
 * program's DT_NEEDED closure and LD_PRELOAD entries before their
 * constructors, dlopen'ed objects, and glibc-internal loads (NSS, gconv,
 * libgcc_s) that never call the public dlopen.
 *
 * glibc 2.36 rules relied on (elf/dl-load.c _dl_map_object, open_path), each
 * pinned by tests/integration/t_audit_mode.sh:
 * - la_objsearch(name, LA_SER_ORIG) returning NULL fails that load (for a
 *   start-up DT_NEEDED the process does not start; an LD_PRELOAD entry is
 *   "ignored"); a name with a slash is only reported with LA_SER_ORIG.
 * - For LA_SER_LIBPATH/RUNPATH/CONFIG/DEFAULT the name is one candidate
 *   path; NULL skips that candidate and the search goes on.
 * - la_objopen runs after mapping, before relocation and constructors, and
 *   cannot veto: all refusals happen in la_objsearch.
 * This copy of the library lives in the auditor's own namespace, with its own
 * globals; its own loads are not audited. */
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <link.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf.h"
#include "errstr.h"
#include "fdpath.h"
#include "guard.h"
#include "verdict.h"

#define EXPORT __attribute__((visibility("default")))

/* This library's own file, as loaded here: the front in the program's
 * namespace loads the same file as its engine (engine.h), which the policy
 * need not name: its code is already running, as this auditor. */
static struct {
	pthread_once_t once;
	bool known;
	dev_t dev;
	ino_t ino;
} self = { .once = PTHREAD_ONCE_INIT };

static void self_init(void)
{
	struct stat st;
	Dl_info info;

	if (dladdr((void *)self_init, &info) && info.dli_fname && stat(info.dli_fname, &st) == 0) {
		self.dev = st.st_dev;
		self.ino = st.st_ino;
		self.known = true;
	}
}

static bool is_self(const struct stat *st)
{
	pthread_once(&self.once, self_init);
	return self.known && st->st_dev == self.dev && st->st_ino == self.ino;
}

/* Returns name to let ld.so go on with it, NULL to refuse it. */
static char *check_candidate(const char *name)
{
	struct dlg_subject subj = { .fd = -1, .exe_lookup = verdict_subject_exe };
	struct decision d;
	struct stat st;
	char canon[PATH_MAX], err[128];
	char *verdict = (char *)name;
	const char *why = NULL;
	int fd;

	fd = open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return verdict;         /* ld.so will not find it either */
	if (fstat(fd, &st) != 0)
		why = "cannot stat";
	else if (S_ISFIFO(st.st_mode))
		why = "a FIFO (the loader would block on it)";
	else if (!S_ISREG(st.st_mode))
		why = dlg_file_kind(st.st_mode);
	if (why) {
		verdict_error(&d, why);
		verdict_emit("load", name, name, NULL, &d);
		verdict = NULL;
		goto end;
	}
	if (is_self(&st))
		goto end;
	/* ld.so skips a candidate of another class or machine: no decision */
	if (dlg_elf_check_header(fd, &st, err, sizeof err) == DLG_ELF_OTHER_ARCH)
		goto end;
	dlg_fd_canonical(fd, name, canon, sizeof canon);
	subj.path = canon;
	subj.fd = fd;
	verdict_decide(&subj, &d);
	if (d.by)
		verdict_emit("load", name, canon, &subj, &d);
	if (strcmp(d.decision, "deny") == 0)
		verdict = NULL;
end:
	close(fd);
	return verdict;
}

EXPORT unsigned int la_version(unsigned int version)
{
	(void)version;
	return LAV_CURRENT;
}

EXPORT char *la_objsearch(const char *name, uintptr_t *cookie, unsigned int flag)
{
	char *verdict = (char *)name;

	(void)cookie;
	/* a bare name is searched for: each candidate comes back here */
	if (flag == LA_SER_ORIG && !strchr(name, '/'))
		return verdict;
	if (!guard_enter())
		return verdict;
	if (verdict_active())
		verdict = check_candidate(name);
	guard_leave();
	return verdict;
}

EXPORT unsigned int la_objopen(struct link_map *map, Lmid_t lmid, uintptr_t *cookie)
{
	(void)map;
	(void)lmid;
	(void)cookie;
	return 0;       /* no symbol binding callbacks: nothing to slow down */
}
