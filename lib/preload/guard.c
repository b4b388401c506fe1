#include "guard.h"

#include <errno.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caller.h"
#include "closure.h"
#include "crypto.h"
#include "elf.h"
#include "engine.h"
#include "fdpath.h"
#include "hot.h"
#include "loaded.h"
#include "policy_db.h"
#include "resolve.h"
#include "vcache.h"
#include "verdict.h"
#include "rawsys.h"

PRELOAD_HOT static struct {
	void *(*real_dlopen)(const char *, int);
	void *(*real_dlmopen)(Lmid_t, const char *, int);
	const struct verdict_env *env;
} g;

PRELOAD_HOT static pthread_once_t init_once = PTHREAD_ONCE_INIT;
PRELOAD_HOT static int inited;  /* guard_init has run (release/acquire) */
/* Set while this thread is inside the guard: a dlopen made meanwhile (by
 * libcrypto, by our own lazy loads) goes straight to the real loader.
 * Initial-exec although the front loads this library with dlopen: its 4
 * bytes come from the static TLS room glibc keeps for such objects
 * (rtld.optional_static_tls, 512 bytes), and global-dynamic access costs
 * every dlopen of an already-loaded object ~10% (P3). Without the room the
 * engine does not load, and the front refuses what it cannot check. */
static __thread int in_guard __attribute__((tls_model("initial-exec")));

static pthread_once_t real_once = PTHREAD_ONCE_INIT;

/* The front's (libc's, found from the front); in the rtld-audit copy,
 * which has no front, resolved on the first real call. */
static void real_init(void)
{
	if (!g.real_dlopen)
		*(void **)&g.real_dlopen = dlsym(RTLD_NEXT, "dlopen");
	if (!g.real_dlmopen) {
		void *(*m)(Lmid_t, const char *, int);

		*(void **)&m = dlsym(RTLD_NEXT, "dlmopen");
		/* published last: call_real's unlocked check reads it first */
		__atomic_store_n(&g.real_dlmopen, m, __ATOMIC_RELEASE);
	}
}

void guard_set_front(const struct dlg_front *front)
{
	g.real_dlopen = front->real_dlopen;
	g.real_dlmopen = front->real_dlmopen;
}

static void *call_real(enum guard_kind kind, Lmid_t lmid, const char *name, int flags)
{
	/* set by the front before any call; the audit copy looks them up */
	if (!__atomic_load_n(&g.real_dlmopen, __ATOMIC_ACQUIRE))
		pthread_once(&real_once, real_init);
	if (kind == GUARD_DLMOPEN)
		return g.real_dlmopen ? g.real_dlmopen(lmid, name, flags) : NULL;
	return g.real_dlopen ? g.real_dlopen(name, flags) : NULL;
}

/* libcrypto is mapped through the real loader, bypassing the policy. */
static void *crypto_loader(const char *file, int mode)
{
	return call_real(GUARD_DLOPEN, LM_ID_BASE, file, mode);
}

DLG_START_TEXT static void guard_init(void)
{
	dlg_crypto_set_loader(crypto_loader);
	verdict_init();
	g.env = verdict_env();
	__atomic_store_n(&inited, 1, __ATOMIC_RELEASE);
}

/* guard_init once. A process start (the constructors; single-threaded but
 * for a program whose earlier constructors start threads) runs it directly:
 * pthread_once would cost a page of libc's text and a FUTEX_WAKE in every
 * process. With other threads about, pthread_once (also fork-safe). */
DLG_START_TEXT static void init(void)
{
	if (__atomic_load_n(&inited, __ATOMIC_ACQUIRE))
		return;
	if (__libc_single_threaded)
		guard_init();
	else
		pthread_once(&init_once, guard_init);
}

/* dlerror() state is the loader's; the only way to set it without exporting
 * our own dlerror is to make the real loader fail. A mode without a binding
 * flag fails in _dl_open before any file is touched, and glibc reports the
 * "file" name first: "dlguard: <path>: <reason>: invalid mode for dlopen()". */
static void set_dlerror(const char *path, const char *reason)
{
	char msg[PATH_MAX + 512];

	msgf(msg, sizeof msg, "dlguard: %s: %s", path, reason);
	call_real(GUARD_DLOPEN, LM_ID_BASE, msg, 0);
}

/* ------------------------------------------------------------------ */
/* Loading what was verified                                           */

/* A spelling of /proc/self/fd/N that no earlier load used, at least
 * min_len bytes long. ld.so matches a new request against every name a
 * loaded object was asked for under before it opens anything, and fd
 * numbers are reused: the same spelling twice could hand back an object
 * loaded earlier from another file. The serial is written in base 32 as
 * runs of 1-32 slashes (which the kernel's path walk skips for almost
 * nothing) around "proc" and "self", one more "." component per digit past
 * the third; the run after "fd" only pads, so that fix_name can write the
 * real path over the loader's copy of this string. (The earlier spelling,
 * a binary code of "/" and "./" tokens, cost ~30 ns per "./" in the walk:
 * ~0.4 us per dlopen after 30,000 loads; a slash costs ~1 ns.) */
#define SERIAL_BASE 32
static void put_run(char *buf, size_t *used, size_t n)
{
	memset(buf + *used, '/', n);
	*used += n;
}

static int proc_path(int fd, size_t min_len, char *buf, size_t len)
{
	static unsigned long serial;
	unsigned long s = __atomic_add_fetch(&serial, 1, __ATOMIC_RELAXED);
	unsigned digit[24];
	char num[12];
	size_t nd = 0, k = 0, used = 0, need, pad = 0;

	if (fd < 0)
		return -1;
	do
		digit[k++] = (unsigned)(s % SERIAL_BASE);
	while ((s /= SERIAL_BASE) && k < sizeof digit / sizeof digit[0]);
	while (k < 3)
		digit[k++] = 0;
	do
		num[nd++] = (char)('0' + fd % 10);
	while ((fd /= 10) && nd < sizeof num);
	/* "proc" "self" "fd", a "." per extra digit, the runs, the number. */
	need = 4 + 4 + 2 + (k - 3) + nd + 1;
	for (size_t i = 0; i < k; i++)
		need += 1 + digit[i];
	if (need < min_len)
		pad = min_len - need;
	if (need + pad + 1 > len)
		return -1;
	put_run(buf, &used, 1 + digit[0]);
	memcpy(buf + used, "proc", 4);
	used += 4;
	put_run(buf, &used, 1 + digit[1]);
	memcpy(buf + used, "self", 4);
	used += 4;
	put_run(buf, &used, 1 + digit[2]);
	for (size_t i = 3; i < k; i++) {
		buf[used++] = '.';
		put_run(buf, &used, 1 + digit[i]);
	}
	memcpy(buf + used, "fd", 2);
	used += 2;
	put_run(buf, &used, 1 + pad);
	while (nd)
		buf[used++] = num[--nd];
	buf[used] = '\0';
	return 0;
}

/* ld.so names an object after the string it opened. Give an object loaded
 * through /proc/self/fd the name a plain dlopen would have given it, so
 * dladdr, dl_iterate_phdr and later name matches see the real path.
 * The loader's l_name is its own malloc'ed copy of the string it opened,
 * which proc_path made at least as long as the path: the path is written
 * over it, under the lock dl_iterate_phdr holds (so that no callback of
 * another thread reads a half-written name; ld.so's own readers take
 * other locks, and could see a mix of the two names, which matches no
 * request, for the few nanoseconds of the copy). The pointer stays the
 * same, so a dli_fname an object's constructor kept (it saw the /proc
 * name) stays valid and now reads the path; ld.so frees it on dlclose. */
struct rename {
	const char *at;         /* the object's l_name */
	const char *path;
	size_t n;               /* strlen(path) + 1 */
};

static int rename_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct rename *r = data;

	(void)size;
	if (info->dlpi_name != r->at)
		return 0;
	memcpy((char *)r->at, r->path, r->n);
	return 1;
}

static void fix_name(void *h, const char *proc, const char *path)
{
	struct link_map *lm = NULL;
	struct rename r = { .path = path, .n = strlen(path) + 1 };

	if (dlinfo(h, RTLD_DI_LINKMAP, &lm) != 0 || !lm || strcmp(lm->l_name, proc) != 0 ||
	    r.n > strlen(proc) + 1)
		return;
	r.at = lm->l_name;
	/* dl_iterate_phdr shows only the caller's namespace: an object of
	 * another (dlmopen) is renamed without the lock. */
	if (dlg_iterate_phdr(rename_cb, &r) == 0)
		memcpy(lm->l_name, path, r.n);
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
	char proc[PATH_MAX];
	void *h;

	/* f->path is shorter than PATH_MAX, so the padded name always fits. */
	if ((dyn && needs_real_name(dyn)) ||
	    proc_path(f->fd, strlen(f->path), proc, sizeof proc) != 0)
		return call_real(kind, lmid, f->path, flags);
	h = call_real(kind, lmid, proc, flags);
	if (h)
		fix_name(h, proc, f->path);
	return h;
}

/* ------------------------------------------------------------------ */

/* What a search needs besides the callers: the environment as read at
 * start-up. */
static void fill_ctx(struct dlg_search_ctx *ctx)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->header_known = vcache_known;
	ctx->ld_library_path = g.env->ld_library_path;
	ctx->secure = g.env->secure;
	ctx->platform = g.env->platform;
	ctx->ld_so_cache = "/etc/ld.so.cache";
	ctx->hwcaps = verdict_hwcaps();
}

/* The calling object's and the program's search information (RPATH,
 * RUNPATH, $ORIGIN). A search for a bare name, a name with a dynamic string
 * token or a dependency needs them; a plain path does not, and a dlopen of
 * a file with all its dependencies loaded is decided without them. */
struct callers {
	bool filled;
	const void *ret;        /* the wrapper's return address */
	struct caller_info caller, main;
};

static void fill_callers(struct dlg_search_ctx *ctx, struct callers *c)
{
	const char *exe;

	if (c->filled)
		return;
	exe = verdict_exe();
	caller_lookup(c->ret, exe, &c->caller);
	caller_main(exe, &c->main);
	ctx->caller = c->caller.obj;
	ctx->main = c->main.obj;
	ctx->caller_is_main = c->caller.is_main;
	c->filled = true;
}

static const char *action_of(enum guard_kind kind)
{
	return kind == GUARD_DLMOPEN ? "dlmopen" : "dlopen";
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
	struct decision d;

	verdict_error(&d, reason);
	if (verdict_active())
		verdict_emit(action_of(r->kind), r->name, path, subj, &d);
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
	struct dlg_subject subj = { .path = canon, .exe_lookup = verdict_subject_exe, .fd = dep->fd };
	struct decision d;

	verdict_decide(&subj, &d);
	if (d.by)
		verdict_emit(action_of(c->r->kind), needed, canon, &subj, &d);
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
static void check_dependencies(const struct request *r, struct dlg_search_ctx *ctx,
			       struct callers *callers, const struct dlg_found *f,
			       const struct dlg_elf_dyn *dyn, struct decision *d)
{
	struct closure_root root = { ctx, f->path, dyn };
	struct dep_check c = { .r = r, .denied = false };
	char reason[sizeof d->v.reason];

	if (closure_all_loaded(dyn))
		return;
	fill_callers(ctx, callers);
	if (closure_check(&root, decide_dependency, &c, reason, sizeof reason))
		return;
	if (!c.denied) {
		verdict_error(d, reason);
		return;
	}
	*d = c.denial;
	d->decision = "deny";
	msgf(d->v.reason, sizeof d->v.reason, "%s", reason);
}

static void *open_slow(const struct request *r)
{
	/* Not zero-initialised: callers and f hold path buffers (12 KB, a
	 * measurable share of a cached dlopen); their users set what they read. */
	struct callers callers;
	struct dlg_search_ctx ctx;
	struct dlg_found f;
	struct dlg_subject subj = { .fd = -1, .exe_lookup = verdict_subject_exe };
	struct dlg_elf_dyn dyn;
	struct decision d;
	char err[256], canon[PATH_MAX];
	bool have_dyn;
	void *h = NULL;

	callers.filled = false;
	callers.ret = r->caller;
	f.fd = -1;
	f.path[0] = '\0';
	fill_ctx(&ctx);
	if (!strchr(r->name, '/') || strchr(r->name, '$'))
		fill_callers(&ctx, &callers);
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

	subj.path = canon;
	subj.fd = f.fd;
	if (!vcache_get(&f.st, canon, sizeof canon, &d, &dyn, &have_dyn)) {
		dlg_fd_canonical(f.fd, f.path, canon, sizeof canon);
		verdict_decide(&subj, &d);
		have_dyn = dlg_elf_read_dynamic(f.fd, &dyn, err, sizeof err) == 0;
		if (!subj.sig_checked && !subj.hash_failed && !subj.risk_volatile)
			vcache_put(&f.st, canon, &d, have_dyn ? &dyn : NULL);
	}
	if (strcmp(d.decision, "deny") != 0 && have_dyn && verdict_active())
		check_dependencies(r, &ctx, &callers, &f, &dyn, &d);
	if (d.by)
		verdict_emit(action_of(r->kind), r->name, canon, &subj, &d);
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

DLG_START_TEXT bool guard_enter(void)
{
	if (in_guard)
		return false;
	in_guard = 1;
	init();
	return true;
}

DLG_START_TEXT void guard_leave(void)
{
	in_guard = 0;
}

void *guard_open(enum guard_kind kind, Lmid_t lmid, const char *name, int flags,
		 const void *caller)
{
	struct request r = { kind, lmid, name, flags, caller };
	int saved = errno;
	void *h;

	if (in_guard) {
		init();
		return call_real(kind, lmid, name, flags);
	}
	in_guard = 1;
	init();
	if (!__atomic_load_n(&g.real_dlmopen, __ATOMIC_ACQUIRE))
		pthread_once(&real_once, real_init);
	if (!name || (flags & RTLD_NOLOAD) || !g.real_dlopen || !g.real_dlmopen) {
		h = call_real(kind, lmid, name, flags);
		goto out;
	}
	/* (A name already loaded was answered by the front: loaded.h.) */
	h = open_slow(&r);
out:
	in_guard = 0;
	if (h)
		errno = saved;
	return h;
}
