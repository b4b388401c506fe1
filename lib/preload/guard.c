#include "guard.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caller.h"
#include "closure.h"
#include "crypto.h"
#include "elf.h"
#include "event.h"
#include "policy_db.h"
#include "resolve.h"

#ifndef DLGUARD_SYSTEM_POLICY
#define DLGUARD_SYSTEM_POLICY "/etc/dlguard/policy.db"
#endif

#define TLS_IE __attribute__((tls_model("initial-exec")))

enum slot_state { SLOT_ABSENT, SLOT_OK, SLOT_ERROR };

struct policy_slot {
	const char *label;              /* "system" or "environment" */
	char path[PATH_MAX];
	enum slot_state state;
	struct dlg_db db;
	char error[256];
};

static struct {
	void *(*real_dlopen)(const char *, int);
	void *(*real_dlmopen)(Lmid_t, const char *, int);
	bool secure;
	const char *platform;
	const char *ld_library_path;
	char exe[PATH_MAX];
	char run_log[PATH_MAX];
	struct dlg_hwcaps hwcaps;
	struct policy_slot sys, env;
} g;

/* Messages may be cut to fit their fixed buffers; that is fine for text
 * meant for people, so truncation is not an error here. */
__attribute__((format(printf, 3, 4))) static void msgf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
/* Set while this thread is inside the guard: a dlopen made meanwhile (by
 * libcrypto, by our own lazy loads) goes straight to the real loader. */
static __thread int in_guard TLS_IE;

/* ld.so reads LD_LIBRARY_PATH once, at start-up; so do we, before the
 * program can change its environment. */
__attribute__((constructor)) static void capture_start_env(void)
{
	g.ld_library_path = getenv("LD_LIBRARY_PATH");
}

static void load_slot(struct policy_slot *s, bool must_be_root_owned)
{
	struct stat st;

	if (dlg_db_open_file(&s->db, s->path, &st, s->error, sizeof s->error) != 0) {
		s->state = (errno == ENOENT && must_be_root_owned) ? SLOT_ABSENT : SLOT_ERROR;
		return;
	}
	if (must_be_root_owned && (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))) {
		snprintf(s->error, sizeof s->error,
			 "not root-owned or writable by group/others; ignored");
		dlg_db_close(&s->db);
		s->state = SLOT_ERROR;
		return;
	}
	s->state = SLOT_OK;
}

static void copy_env(const char *var, char *out, size_t len)
{
	const char *v = g.secure ? NULL : getenv(var);

	out[0] = '\0';
	if (v && *v && strlen(v) < len)
		strcpy(out, v);
}

static void guard_init(void)
{
	ssize_t n;

	*(void **)&g.real_dlopen = dlsym(RTLD_NEXT, "dlopen");
	*(void **)&g.real_dlmopen = dlsym(RTLD_NEXT, "dlmopen");
	g.secure = getauxval(AT_SECURE) != 0;
	g.platform = (const char *)getauxval(AT_PLATFORM);
	if (g.secure)
		g.ld_library_path = NULL;
	n = readlink("/proc/self/exe", g.exe, sizeof g.exe - 1);
	g.exe[n > 0 ? n : 0] = '\0';
	dlg_hwcaps_init(&g.hwcaps);
	if (g.real_dlopen)
		dlg_crypto_set_loader(g.real_dlopen);

	g.sys.label = "system";
	snprintf(g.sys.path, sizeof g.sys.path, "%s", DLGUARD_SYSTEM_POLICY);
	load_slot(&g.sys, true);

	g.env.label = "environment";
	copy_env("DLGUARD_POLICY", g.env.path, sizeof g.env.path);
	if (g.env.path[0])
		load_slot(&g.env, false);
	else
		g.env.state = SLOT_ABSENT;
	copy_env("DLGUARD_RUN_LOG", g.run_log, sizeof g.run_log);
}

static void *call_real(enum guard_kind kind, Lmid_t lmid, const char *name, int flags)
{
	if (kind == GUARD_DLMOPEN)
		return g.real_dlmopen ? g.real_dlmopen(lmid, name, flags) : NULL;
	return g.real_dlopen ? g.real_dlopen(name, flags) : NULL;
}

/* dlerror() state is the loader's; the only way to set it without exporting
 * our own dlerror is to make the real loader fail. A mode without a binding
 * flag fails in _dl_open before any file is touched, and glibc reports the
 * "file" name first: "dlguard: <path>: <reason>: invalid mode for dlopen()". */
static void set_dlerror(const char *path, const char *reason)
{
	char msg[PATH_MAX + 512];

	msgf(msg, sizeof msg, "dlguard: %s: %s", path, reason);
	if (g.real_dlopen)
		g.real_dlopen(msg, 0);
}

/* ------------------------------------------------------------------ */
/* Decision                                                            */

struct decision {
	const char *decision;           /* "allow", "deny", "would-deny" */
	const struct policy_slot *by;   /* the policy whose verdict is reported */
	struct dlg_verdict v;
};

static void decide_slot(struct policy_slot *s, struct dlg_subject *subj, struct dlg_verdict *v,
			bool *audit)
{
	*audit = false;
	if (s->state == SLOT_ERROR) {
		v->action = DLG_ACTION_DENY;
		v->rule = 0;
		v->line = 0;
		msgf(v->reason, sizeof v->reason, "%s policy %s unusable: %s", s->label, s->path,
		     s->error);
		return;
	}
	dlg_decide(&s->db, subj, v);
	*audit = s->db.mode == DLG_MODE_AUDIT;
}

/* Both policies must allow. An enforcing denial wins over an audit one. */
static void decide_all(struct dlg_subject *subj, struct decision *d)
{
	struct policy_slot *slots[2] = { &g.sys, &g.env };
	struct dlg_verdict v;
	bool audit;

	d->decision = "allow";
	d->by = NULL;
	for (int i = 0; i < 2; i++) {
		if (slots[i]->state == SLOT_ABSENT)
			continue;
		decide_slot(slots[i], subj, &v, &audit);
		if (v.action == DLG_ACTION_DENY && !audit) {
			d->decision = "deny";
			d->by = slots[i];
			d->v = v;
			return;
		}
		if (v.action == DLG_ACTION_DENY && strcmp(d->decision, "allow") == 0) {
			d->decision = "would-deny";
			d->by = slots[i];
			d->v = v;
		} else if (!d->by) {
			d->by = slots[i];
			d->v = v;
		}
	}
}

static bool guarded(void)
{
	return g.sys.state != SLOT_ABSENT || g.env.state != SLOT_ABSENT;
}

/* ------------------------------------------------------------------ */
/* Events                                                              */

static void log_slot(const struct policy_slot *s, const struct dlg_event *e, const char *line,
		     size_t len, bool denied)
{
	char summary[1024];

	if (s->state != SLOT_OK)
		return;
	if (s->db.log_file)
		dlg_event_append(s->db.log_file, line, len);
	if (denied && (s->db.log_syslog || s->db.log_stderr)) {
		dlg_event_summary(e, summary, sizeof summary);
		if (s->db.log_syslog)
			dlg_event_syslog(summary);
		if (s->db.log_stderr) {
			char out[1100];
			int n = snprintf(out, sizeof out, "dlguard: %s\n", summary);
			if (n > 0)
				(void)!write(2, out, (size_t)n < sizeof out ? (size_t)n : sizeof out - 1);
		}
	}
}

static void log_error_once(const struct policy_slot *s)
{
	static int done;
	char msg[PATH_MAX + 300];

	if (s->state != SLOT_ERROR || __atomic_exchange_n(&done, 1, __ATOMIC_ACQ_REL))
		return;
	msgf(msg, sizeof msg, "%s policy %s unusable (%s); denying dlopen in pid %ld (%s)",
	     s->label, s->path, s->error, (long)getpid(), g.exe);
	dlg_event_syslog(msg);
}

static void emit(enum guard_kind kind, const char *requested, const char *path,
		 const struct dlg_subject *subj, const struct decision *d)
{
	char rule[32], line[DLG_EVENT_MAX];
	bool denied = strcmp(d->decision, "allow") != 0;
	struct dlg_event e = {
		.action = kind == GUARD_DLMOPEN ? "dlmopen" : "dlopen",
		.decision = d->decision,
		.rule = rule,
		.reason = d->v.reason,
		.policy = d->by && d->by->state == SLOT_OK ? d->by->db.source : (d->by ? d->by->path : NULL),
		.requested = requested,
		.path = path,
		.sha256 = subj && subj->have_sha256 ? subj->sha256 : NULL,
		.sig_checked = subj && subj->sig_checked,
		.sig_exists = subj && subj->sig_exists,
		.sig_valid = subj && subj->sig_valid,
		.sig_trusted = subj && subj->sig_trusted,
		.sig_status = subj ? subj->sig_status : NULL,
		.sig_key = subj ? subj->sig_key : NULL,
		.pid = getpid(),
		.exe = g.exe,
	};
	size_t len;

	if ((d->by && d->by->state == SLOT_ERROR) || (!d->by && denied))
		snprintf(rule, sizeof rule, "error");
	else if (d->v.rule)
		snprintf(rule, sizeof rule, "%u", d->v.rule);
	else
		snprintf(rule, sizeof rule, "default");
	len = dlg_event_format(&e, line, sizeof line);
	if (!len)
		return;
	log_slot(&g.sys, &e, line, len, denied);
	log_slot(&g.env, &e, line, len, denied);
	log_error_once(&g.sys);
	log_error_once(&g.env);
	if (denied && g.run_log[0])
		dlg_event_append(g.run_log, line, len);
}

/* ------------------------------------------------------------------ */
/* Loading what was verified                                           */

/* A spelling of /proc/self/fd/N that no earlier load used: ld.so matches a
 * new request against the names of loaded objects before opening anything,
 * and fd numbers are reused. The serial is written as a prefix-free code of
 * "/" (0) and "./" (1) tokens, which the kernel's path walk ignores. */
static int proc_path(int fd, char *buf, size_t len)
{
	static unsigned long serial;
	unsigned long s = __atomic_add_fetch(&serial, 1, __ATOMIC_RELAXED);
	size_t used = 0;
	int bits = 0, n;

	n = snprintf(buf, len, "/proc/self/");
	if (n < 0 || (size_t)n >= len)
		return -1;
	used = (size_t)n;
	for (unsigned long t = s; t; t >>= 1)
		bits++;
	for (int i = bits - 1; i >= 0; i--) {
		const char *tok = (s >> i) & 1 ? "./" : "/";
		size_t tl = strlen(tok);
		if (used + tl >= len)
			return -1;
		memcpy(buf + used, tok, tl);
		used += tl;
	}
	n = snprintf(buf + used, len - used, "fd/%d", fd);
	return n < 0 || (size_t)n >= len - used ? -1 : 0;
}

/* ld.so names an object after the string it opened. Give an object loaded
 * through /proc/self/fd the name a plain dlopen would have given it, so
 * dladdr, dl_iterate_phdr and later name matches see the real path. ld.so
 * frees l_name with free() on dlclose, so the copy comes from malloc. */
static void fix_name(void *h, const char *proc, const char *path)
{
	struct link_map *lm = NULL;
	char *copy;

	if (dlinfo(h, RTLD_DI_LINKMAP, &lm) != 0 || !lm || strcmp(lm->l_name, proc) != 0)
		return;
	copy = strdup(path);
	if (copy)
		__atomic_store_n(&lm->l_name, copy, __ATOMIC_RELEASE);
}

/* An object whose own search paths or needed names use $ORIGIN must be
 * opened by its real path: ld.so derives $ORIGIN from the name it opened. */
static bool needs_real_name(const struct dlg_elf_dyn *dyn)
{
	bool origin = (dyn->rpath && dlg_elf_uses_origin(dyn->rpath)) ||
		      (dyn->runpath && dlg_elf_uses_origin(dyn->runpath));

	for (size_t i = 0; i < dyn->n_needed && !origin; i++)
		origin = dlg_elf_uses_origin(dyn->needed[i]);
	return origin;
}

static void *load_found(enum guard_kind kind, Lmid_t lmid, int flags, const struct dlg_found *f,
			const struct dlg_elf_dyn *dyn)
{
	char proc[128];
	void *h;

	if ((dyn && needs_real_name(dyn)) || proc_path(f->fd, proc, sizeof proc) != 0)
		return call_real(kind, lmid, f->path, flags);
	h = call_real(kind, lmid, proc, flags);
	if (h)
		fix_name(h, proc, f->path);
	return h;
}

/* ------------------------------------------------------------------ */

static void canonical_path(const struct dlg_found *f, char *out, size_t len)
{
	char link[64];
	ssize_t n;
	struct stat st;

	snprintf(link, sizeof link, "/proc/self/fd/%d", f->fd);
	n = readlink(link, out, len - 1);
	if (n > 0 && out[0] == '/') {
		out[n] = '\0';
		return;
	}
	/* No /proc: realpath, trusted only if it names the inode we hold. */
	if (realpath(f->path, out) && stat(out, &st) == 0 && st.st_dev == f->st.st_dev &&
	    st.st_ino == f->st.st_ino)
		return;
	snprintf(out, len, "%s", f->path);
}

static void fill_ctx(struct dlg_search_ctx *ctx, struct caller_info *caller,
		     struct caller_info *mainp, const void *ret)
{
	caller_lookup(ret, g.exe, caller);
	caller_main(g.exe, mainp);
	memset(ctx, 0, sizeof *ctx);
	ctx->caller = caller->obj;
	ctx->main = mainp->obj;
	ctx->caller_is_main = caller->is_main;
	ctx->ld_library_path = g.ld_library_path;
	ctx->secure = g.secure;
	ctx->platform = g.platform;
	ctx->ld_so_cache = "/etc/ld.so.cache";
	ctx->hwcaps = &g.hwcaps;
}

/* Already loaded under this very name (a path equal to a loaded object's
 * name, or a bare name equal to its SONAME): the real loader matches names
 * before opening anything, so it answers without touching the filesystem.
 * Anything else takes the slow path: a NOLOAD miss would open files (and
 * block on a FIFO) and search as the wrong caller. */
static void *already_loaded(enum guard_kind kind, Lmid_t lmid, const char *name, int flags)
{
	void *h;

	if (kind == GUARD_DLMOPEN || strchr(name, '$') || !caller_name_loaded(name))
		return NULL;
	h = call_real(kind, lmid, name, flags | RTLD_NOLOAD);
	if (!h)
		(void)dlerror();
	return h;
}

struct request {
	enum guard_kind kind;
	Lmid_t lmid;
	const char *name;
	int flags;
	const void *caller;
};

static void *refuse(const struct request *r, const char *path, const char *reason,
		    const struct dlg_subject *subj)
{
	struct decision d = { .decision = "deny", .by = NULL };

	d.v.action = DLG_ACTION_DENY;
	msgf(d.v.reason, sizeof d.v.reason, "%s", reason);
	if (guarded())
		emit(r->kind, r->name, path, subj, &d);
	set_dlerror(path, reason);
	errno = EACCES;
	return NULL;
}

/* The resolver's messages name the file; ours put the path first already. */
static const char *without_prefix(const char *msg, const char *path)
{
	size_t n = strlen(path);

	if (n && strncmp(msg, path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
		return msg + n + 2;
	return msg;
}

struct dep_check {
	const struct request *r;
	struct decision denial;     /* the dependency's own verdict, when one refused */
	bool denied;
};

static bool decide_dependency(void *vctx, const char *needed, const struct dlg_found *dep,
			      const char *canon, char *reason, size_t len)
{
	struct dep_check *c = vctx;
	struct dlg_subject subj = { .path = canon, .exe = g.exe[0] ? g.exe : NULL, .fd = dep->fd };
	struct decision d;

	decide_all(&subj, &d);
	if (d.by)
		emit(c->r->kind, needed, canon, &subj, &d);
	if (strcmp(d.decision, "deny") != 0)
		return true;
	c->denial = d;
	c->denied = true;
	msgf(reason, len, "%s", d.v.reason);
	return false;
}

/* ld.so maps the whole not-yet-loaded DT_NEEDED closure and runs its
 * constructors inside the real call: every object of it is decided on
 * before that call, and one refusal refuses the load. The refusal is
 * reported with the root's event, naming the dependency. */
static void check_dependencies(const struct request *r, const struct dlg_search_ctx *ctx,
			       const struct dlg_found *f, const struct dlg_elf_dyn *dyn,
			       struct decision *d)
{
	struct closure_root root = { ctx, f->path, dyn };
	struct dep_check c = { .r = r, .denied = false };
	char reason[sizeof d->v.reason];

	if (closure_check(&root, decide_dependency, &c, reason, sizeof reason))
		return;
	if (c.denied) {
		*d = c.denial;
	} else {
		d->by = NULL;
		d->v.rule = 0;
		d->v.line = 0;
	}
	d->decision = "deny";
	d->v.action = DLG_ACTION_DENY;
	msgf(d->v.reason, sizeof d->v.reason, "%s", reason);
}

static void *open_slow(const struct request *r)
{
	struct caller_info caller, mainp;
	struct dlg_search_ctx ctx;
	struct dlg_found f = { .fd = -1 };
	struct dlg_subject subj = { .fd = -1 };
	struct dlg_elf_dyn dyn;
	struct decision d;
	char err[256], canon[PATH_MAX];
	bool have_dyn;
	void *h = NULL;

	fill_ctx(&ctx, &caller, &mainp, r->caller);
	switch (dlg_resolve(&ctx, r->name, &f, err, sizeof err)) {
	case DLG_RESOLVE_FOUND:
		break;
	case DLG_RESOLVE_NOT_FOUND:
		/* Let the loader report the miss in its own words; NOLOAD
		 * guarantees nothing gets mapped if the file appeared since. */
		h = call_real(r->kind, r->lmid, r->name, r->flags | RTLD_NOLOAD);
		if (h)
			return h;
		/* Peeking at dlerror() consumes it: ask again to leave the
		 * loader's own message for the caller. */
		if (dlerror())
			h = call_real(r->kind, r->lmid, r->name, r->flags | RTLD_NOLOAD);
		else
			set_dlerror(r->name, err);
		return h;
	default:
		return refuse(r, f.path[0] ? f.path : r->name, without_prefix(err, f.path), NULL);
	}

	canonical_path(&f, canon, sizeof canon);
	subj.path = canon;
	subj.exe = g.exe[0] ? g.exe : NULL;
	subj.fd = f.fd;
	decide_all(&subj, &d);
	have_dyn = dlg_elf_read_dynamic(f.fd, &dyn, err, sizeof err) == 0;
	if (strcmp(d.decision, "deny") != 0 && have_dyn && guarded())
		check_dependencies(r, &ctx, &f, &dyn, &d);
	if (d.by)
		emit(r->kind, r->name, canon, &subj, &d);
	if (strcmp(d.decision, "deny") == 0) {
		set_dlerror(canon, d.v.reason);
		errno = EACCES;
	} else {
		h = load_found(r->kind, r->lmid, r->flags, &f, have_dyn ? &dyn : NULL);
	}
	if (have_dyn)
		dlg_elf_dyn_free(&dyn);
	close(f.fd);
	return h;
}

void *guard_open(enum guard_kind kind, Lmid_t lmid, const char *name, int flags,
		 const void *caller)
{
	struct request r = { kind, lmid, name, flags, caller };
	int saved = errno;
	void *h;

	if (in_guard) {
		pthread_once(&init_once, guard_init);
		return call_real(kind, lmid, name, flags);
	}
	in_guard = 1;
	pthread_once(&init_once, guard_init);
	if (!name || (flags & RTLD_NOLOAD) || !g.real_dlopen || !g.real_dlmopen) {
		h = call_real(kind, lmid, name, flags);
		goto out;
	}
	h = already_loaded(kind, lmid, name, flags);
	if (!h)
		h = open_slow(&r);
out:
	in_guard = 0;
	if (h)
		errno = saved;
	return h;
}
