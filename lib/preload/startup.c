/* The start-up check: the objects mapped before the guard could see them
 * (the program's DT_NEEDED closure, LD_PRELOAD libraries) are decided on
 * when the guard initialises, and each untrusted one is logged with
 * event.action "startup". Their constructors may already have run: only the
 * rtld-audit interface (audit.c) can stop those. */
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdpath.h"
#include "guard.h"
#include "verdict.h"

static void check_object(const char *name)
{
	struct dlg_subject subj = { .fd = -1 };
	struct decision d;
	struct stat st;
	char canon[PATH_MAX];
	int fd;

	fd = open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto end;
	dlg_fd_canonical(fd, name, canon, sizeof canon);
	subj.path = canon;
	subj.exe = verdict_env()->exe[0] ? verdict_env()->exe : NULL;
	subj.fd = fd;
	verdict_decide(&subj, &d);
	if (strcmp(d.decision, "allow") == 0)
		goto end;
	/* Already mapped: nothing can be refused any more. */
	d.decision = "would-deny";
	verdict_emit("startup", name, canon, &subj, &d);
end:
	close(fd);
}

struct visit {
	int index;
	const void *self;       /* our own load address */
};

static int visit(struct dl_phdr_info *info, size_t size, void *data)
{
	struct visit *v = data;

	(void)size;
	/* The first entry is the program itself; names without a slash are
	 * the vDSO. This library is not judged by itself: a tampered copy
	 * would not report itself anyway. */
	if (v->index++ > 0 && info->dlpi_name && strchr(info->dlpi_name, '/') &&
	    (const void *)info->dlpi_addr != v->self)
		check_object(info->dlpi_name);
	return 0;
}

/* The copy of this library loaded as an rtld-audit module lives in its own
 * namespace: the start-up check belongs to the copy in the program's. */
static bool in_base_namespace(void)
{
	struct link_map *self = NULL;
	Lmid_t lmid = LM_ID_BASE;
	Dl_info info;

	if (!dladdr1((void *)in_base_namespace, &info, (void **)&self, RTLD_DL_LINKMAP) || !self)
		return true;
	return dlinfo(self, RTLD_DI_LMID, &lmid) != 0 || lmid == LM_ID_BASE;
}

__attribute__((constructor)) static void startup_check(void)
{
	struct visit v = { 0, NULL };
	Dl_info info;

	if (!in_base_namespace() || !guard_enter())
		return;
	if (dladdr((void *)startup_check, &info))
		v.self = info.dli_fbase;
	if (verdict_active())
		dl_iterate_phdr(visit, &v);
	guard_leave();
}
