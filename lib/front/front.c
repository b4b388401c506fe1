/* libdlguard.so: the object LD_PRELOAD and /etc/ld.so.preload name, mapped
 * into every process on the machine (engine.h says how the guard is split).
 *
 * A process start costs what this file does and what ld.so does to map it,
 * so it keeps both small: a few pages, a handful of imports, no
 * relocation-heavy data, system calls without libc's wrappers (rawsys.h).
 * At start-up it reads the environment, the headers of the policies and,
 * per object ld.so mapped, the policies' start-up verdict for its name and
 * the stat that shows the verdict still holds (docs/compiled-format.md).
 * A dlopen of a name already loaded it answers itself (loaded.h). Everything
 * else -- an object without a current verdict, an unusable policy,
 * env.strip, a dlopen of a file -- goes to the engine, which this file loads
 * then: most processes never do. */
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/single_threaded.h>
#include <sys/stat.h>

#include "engine.h"
#include "loaded.h"
#include "policy_db.h"
#include "rawsys.h"
#include "startenv.h"

#define EXPORT __attribute__((visibility("default")))

#ifndef DLGUARD_SYSTEM_POLICY
#define DLGUARD_SYSTEM_POLICY "/etc/dlguard/policy.db"
#endif

/* This library's ELF header, i.e. its load address (GNU ld defines it). */
extern const ElfW(Ehdr) __ehdr_start __attribute__((visibility("hidden")));

/* DLGUARD_* values up to this long are copied beside the state, longer
 * ones (up to PATH_MAX) to the heap. */
#define FRONT_PATH 256

struct peek {
	int fd;                         /* open during the start-up check, else -1 */
	bool present;
	bool ok;                        /* header read and checked */
	struct dlg_db_head head;
};

/* All of the front's state, one object: a process start writes it, and it
 * lands on the one page of .data/.bss that ld.so's relocation touches
 * anyway (hot.h). */
static struct {
	int inited;                     /* front_init has run (release/acquire) */
	bool active;                    /* some policy present at start-up */
	bool base;                      /* this copy is in the base namespace */
	struct dlg_front f;
	struct peek sys, env;
	const struct dlg_engine *engine;
	char engine_error[256];
	char policy_path[FRONT_PATH];
	char run_log[FRONT_PATH];
} st = { .sys = { .fd = -1 }, .env = { .fd = -1 } };

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static int engine_tried;        /* load_engine has run (release/acquire) */

/* Strings read at process start, beside the state (a literal would sit in
 * .rodata, one more page to touch). */
static char k_system_policy[] = DLGUARD_SYSTEM_POLICY;
static char k_ld_library_path[] = "LD_LIBRARY_PATH";
static char k_policy[] = "DLGUARD_POLICY";
static char k_run_log[] = "DLGUARD_RUN_LOG";
static char k_empty[1];

/* A copy of a DLGUARD_* variable (the program may rewrite its environment
 * later), into small when it fits, else into the heap (static buffers
 * of PATH_MAX would make ld.so map one more region in every process), or
 * failing that the environment's own string; NULL when unset, empty,
 * PATH_MAX or longer, or in an AT_SECURE process. */
DLG_START_TEXT static const char *copy_env(const char *var, char *small, size_t small_len)
{
	const char *v = st.f.secure ? NULL : dlg_env_get(var);
	char *buf;
	size_t n = 0;

	if (!v || !*v)
		return NULL;
	while (v[n] && n < PATH_MAX)
		n++;
	if (n >= PATH_MAX)
		return NULL;
	buf = n < small_len ? small : malloc(n + 1);
	if (!buf)
		return v;
	for (size_t i = 0; i <= n; i++)
		buf[i] = v[i];
	return buf;
}

/* The header of one policy. Anything short of a good one (unreadable,
 * corrupt, wrongly owned) leaves ok false: the engine says why. */
DLG_START_TEXT static void peek(struct peek *p, const char *path, bool root_owned)
{
	struct stat fst;
	int fd = raw_open_noerrno(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd == -ENOENT && root_owned)
		return;
	p->present = true;
	if (fd < 0)
		return;
	/* The system policy must be root's (not fstat: see dlg_db_open_file).
	 * An environment policy is the user's own, and only adds denials: its
	 * header's word for the file's size will do, which saves a system
	 * call in every process started under one (a FIFO, a directory or a
	 * device fails the header read; a short file, the lookups). */
	if ((!root_owned || (raw_fstatat(fd, k_empty, &fst, AT_EMPTY_PATH) == 0 &&
			     dlg_root_only(&fst))) &&
	    dlg_db_peek(fd, root_owned ? &fst : NULL, &p->head, NULL, 0) == 0) {
		p->fd = fd;
		p->ok = true;
		return;
	}
	raw_close(fd);
}

DLG_START_TEXT static int first_object(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	*(const ElfW(Phdr) **)data = info->dlpi_phdr;
	return 1;
}

/* A copy of this library loaded elsewhere than the program's namespace
 * (dlmopen, LD_AUDIT) does nothing. The first object of the base namespace
 * is the main program, whose program headers the kernel named in AT_PHDR;
 * dl_iterate_phdr lists the caller's namespace. */
DLG_START_TEXT static bool in_base_namespace(void)
{
	const ElfW(Phdr) *first = NULL;

	dl_iterate_phdr(first_object, &first);
	return first && first == (const ElfW(Phdr) *)getauxval(AT_PHDR);
}

/* What the process is, and which policies it has: once, from the
 * constructor or from a dlopen made before it (by an earlier constructor). */
DLG_START_TEXT static void front_init(void)
{
	st.base = in_base_namespace();
	if (!st.base) {
		__atomic_store_n(&st.inited, 1, __ATOMIC_RELEASE);
		return;
	}
	st.f.size = sizeof st.f;
	st.f.secure = getauxval(AT_SECURE) != 0;
	st.f.platform = (const char *)getauxval(AT_PLATFORM);
	st.f.ld_library_path = st.f.secure ? NULL : dlg_env_get(k_ld_library_path);
	st.f.policy_path = copy_env(k_policy, st.policy_path, sizeof st.policy_path);
	st.f.run_log = copy_env(k_run_log, st.run_log, sizeof st.run_log);
	st.f.front_base = &__ehdr_start;
	peek(&st.sys, k_system_policy, true);
	st.f.sys_absent = !st.sys.present;
	if (st.f.policy_path)
		peek(&st.env, st.f.policy_path, false);
	st.active = st.sys.present || st.env.present;
	__atomic_store_n(&st.inited, 1, __ATOMIC_RELEASE);
}

/* front_init once. A process start (single-threaded but for a program
 * whose earlier constructors start threads) runs it directly: pthread_once
 * would cost a page of libc and a FUTEX_WAKE in every process. */
DLG_START_TEXT static void init(void)
{
	if (__atomic_load_n(&st.inited, __ATOMIC_ACQUIRE))
		return;
	if (__libc_single_threaded)
		front_init();
	else
		pthread_once(&init_once, front_init);
}

DLG_START_TEXT static void close_peeks(void)
{
	struct peek *ps[2] = { &st.sys, &st.env };

	for (int i = 0; i < 2; i++) {
		if (ps[i]->fd >= 0) {
			raw_close(ps[i]->fd);
			ps[i]->fd = -1;
		}
	}
}

/* ------------------------------------------------------------------ */
/* The engine                                                          */

/* libc's dlopen and dlmopen. Threads may race here: each finds the same
 * values, and dlmopen is published last (call_real checks it first). */
static void real_init(void)
{
	void *(*o)(const char *, int);
	void *(*m)(Lmid_t, const char *, int);

	if (__atomic_load_n(&st.f.real_dlmopen, __ATOMIC_ACQUIRE))
		return;
	*(void **)&o = dlsym(RTLD_NEXT, "dlopen");
	*(void **)&m = dlsym(RTLD_NEXT, "dlmopen");
	__atomic_store_n(&st.f.real_dlopen, o, __ATOMIC_RELAXED);
	__atomic_store_n(&st.f.real_dlmopen, m, __ATOMIC_RELEASE);
}

static void *call_real(enum dlg_open_kind kind, Lmid_t lmid, const char *name, int flags)
{
	if (!__atomic_load_n(&st.f.real_dlmopen, __ATOMIC_ACQUIRE))
		real_init();
	if (kind == DLG_OPEN_DLMOPEN)
		return st.f.real_dlmopen ? st.f.real_dlmopen(lmid, name, flags) : NULL;
	return st.f.real_dlopen ? st.f.real_dlopen(name, flags) : NULL;
}

static void set_engine_error(const char *what, const char *detail)
{
	size_t n = 0;

	for (const char *s = what; *s && n + 1 < sizeof st.engine_error; s++)
		st.engine_error[n++] = *s;
	for (const char *s = detail ? detail : ""; *s && n + 1 < sizeof st.engine_error; s++)
		st.engine_error[n++] = *s;
	st.engine_error[n] = '\0';
}

/* libdlguard-engine.so from this library's directory (ld.so's record of
 * where it loaded this library from, made when it did: a later chdir or a
 * relative LD_PRELOAD entry do not change it), through the real loader,
 * RTLD_LOCAL: its symbols interpose nothing. */
static void load_engine(void)
{
	struct link_map *self = NULL;
	char path[1 + PATH_MAX + sizeof DLG_ENGINE_FILE + 1];
	dlg_engine_entry entry;
	Dl_info info;
	size_t n;
	void *h;

	real_init();
	/* The name starts with "//": ld.so compares every name a dlopen asks
	 * for with every loaded object's name, and a name that differs from
	 * the usual "/usr/...", "/opt/..." at its second byte ends each such
	 * strcmp at once, where one sharing a directory prefix with the
	 * program's plugins cost them ~15% on a dlopen of an already-loaded
	 * object (bench/README.md, P3). The kernel reads "//" as "/". */
	path[0] = '/';
	if (!dladdr1(&__ehdr_start, &info, (void **)&self, RTLD_DL_LINKMAP) || !self ||
	    dlinfo(self, RTLD_DI_ORIGIN, path + 1) != 0 || path[1] != '/') {
		set_engine_error("cannot find this library's directory", NULL);
		return;
	}
	n = strlen(path);
	if (n + 1 + sizeof DLG_ENGINE_FILE > sizeof path) {
		set_engine_error("directory name too long", NULL);
		return;
	}
	path[n] = '/';
	memcpy(path + n + 1, DLG_ENGINE_FILE, sizeof DLG_ENGINE_FILE);
	h = call_real(DLG_OPEN_DLOPEN, LM_ID_BASE, path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		set_engine_error("cannot load " DLG_ENGINE_FILE ": ", dlerror());
		return;
	}
	*(void **)&entry = dlsym(h, DLG_ENGINE_ENTRY);
	if (!entry) {
		set_engine_error(DLG_ENGINE_FILE " has no " DLG_ENGINE_ENTRY
				 " (another version of dlguard?)", NULL);
		return;
	}
	st.engine = entry(&st.f);
	if (!st.engine || st.engine->size < sizeof *st.engine) {
		st.engine = NULL;
		set_engine_error(DLG_ENGINE_FILE " refused this library's interface", NULL);
	}
}

static void load_engine_once(void)
{
	if (__atomic_load_n(&engine_tried, __ATOMIC_ACQUIRE))
		return;
	load_engine();
	__atomic_store_n(&engine_tried, 1, __ATOMIC_RELEASE);
}

/* The engine, loaded once (directly while single-threaded, as init()). */
static const struct dlg_engine *engine(void)
{
	if (!__atomic_load_n(&engine_tried, __ATOMIC_ACQUIRE)) {
		if (__libc_single_threaded)
			load_engine_once();
		else
			pthread_once(&engine_once, load_engine_once);
	}
	return st.engine;
}

/* ------------------------------------------------------------------ */
/* The start-up check's common case                                    */

struct visit {
	int index;
	bool unknown;                   /* an object without a current start-up verdict */
	ElfW(Addr) interp;              /* the program interpreter's load address */
};

/* True when every policy present holds a start-up verdict for the object
 * ld.so named name, and stat(name) shows the fingerprint recorded with it. */
DLG_START_TEXT static bool startup_known(const char *name)
{
	struct peek *ps[2] = { &st.sys, &st.env };
	unsigned char fp[DLG_DB_BOOT_FP];
	struct stat ost;
	bool have_st = false;

	for (int i = 0; i < 2; i++) {
		if (!ps[i]->present)
			continue;
		if (!ps[i]->ok || dlg_db_boot_find_fd(ps[i]->fd, &ps[i]->head, name, fp) != 1)
			return false;
		if (!have_st && raw_fstatat(AT_FDCWD, name, &ost, 0) != 0)
			return false;
		have_st = true;
		if (!dlg_db_boot_same(fp, &ost))
			return false;
	}
	return have_st;
}

DLG_START_TEXT static bool has_slash(const char *s)
{
	for (; *s; s++)
		if (*s == '/')
			return true;
	return false;
}

/* The objects ld.so mapped before the program runs. Not judged: the
 * program itself (first), the vDSO (no slash), this library, and the
 * program interpreter, which the kernel mapped with the program (like the
 * program, it is not something a loader chose; an untrusted one has run
 * before anything here and decides whether this library is loaded at all). */
DLG_START_TEXT static int visit(struct dl_phdr_info *info, size_t size, void *data)
{
	struct visit *v = data;

	(void)size;
	if (v->index++ == 0 || !info->dlpi_name || !has_slash(info->dlpi_name) ||
	    (const void *)info->dlpi_addr == (const void *)&__ehdr_start ||
	    (v->interp && info->dlpi_addr == v->interp))
		return 0;
	if (startup_known(info->dlpi_name))
		return 0;
	v->unknown = true;
	return 1;
}

/* The engine is needed at start-up for anything but the common case: a
 * policy that could not be read, one that strips variables, an object
 * without a current start-up verdict. */
DLG_START_TEXT __attribute__((constructor)) static void front_startup(void)
{
	struct visit v = { 0 };
	bool full;

	init();
	if (!st.base || !st.active)
		return;
	full = (st.sys.present && !st.sys.ok) || (st.env.present && !st.env.ok) ||
	       (st.sys.ok && st.sys.head.env_strip) || (st.env.ok && st.env.head.env_strip);
	if (!full) {
		v.interp = (ElfW(Addr))getauxval(AT_BASE);
		dl_iterate_phdr(visit, &v);
		full = v.unknown;
	}
	close_peeks();
	if (full && engine())
		st.engine->startup();
}

/* ------------------------------------------------------------------ */
/* The exported functions                                              */

/* dlerror() state is the loader's: a mode without a binding flag makes the
 * real loader fail before touching any file, naming our text as the file. */
__attribute__((noinline)) static void *refuse(const char *name)
{
	char msg[PATH_MAX + 512];
	size_t n = 0;
	const char *parts[] = { "dlguard: ", name, ": refused, the guard cannot decide: ",
				st.engine_error };

	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
		for (const char *s = parts[i]; *s && n + 1 < sizeof msg; s++)
			msg[n++] = *s;
	msg[n] = '\0';
	call_real(DLG_OPEN_DLOPEN, LM_ID_BASE, msg, 0);
	errno = EACCES;
	return NULL;
}

static void *front_open(enum dlg_open_kind kind, Lmid_t lmid, const char *name, int flags,
			const void *caller)
{
	init();
	/* No file to decide on: the loader's own business. (Without a policy
	 * the engine still resolves the name, and refuses what would make
	 * the loader block or fail: a FIFO, a directory.) */
	if (!st.base || !name || (flags & RTLD_NOLOAD))
		return call_real(kind, lmid, name, flags);
	/* Already loaded under this very name (loaded.h): the real loader
	 * answers from memory, with the object every caller would get, so
	 * there is nothing to decide -- the most frequent dlopen of all, served
	 * without the engine. Anything else goes to the engine: a NOLOAD miss
	 * would open files (and block on a FIFO) and search as the wrong
	 * caller. dlmopen's namespaces are not the one loaded.c looks at. */
	if (kind == DLG_OPEN_DLOPEN && dlg_loaded_name(name)) {
		void *h = call_real(kind, lmid, name, flags | RTLD_NOLOAD);

		if (h)
			return h;
		(void)dlerror();        /* unloaded meanwhile: decide as usual */
	}
	if (!engine())
		return refuse(name);
	return st.engine->open(kind, lmid, name, flags, caller);
}

/* Unversioned on purpose: an unversioned definition interposes both
 * dlopen@GLIBC_2.2.5 and dlopen@@GLIBC_2.34 (elf/dl-lookup.c check_match). */
EXPORT void *dlopen(const char *file, int mode)
{
	return front_open(DLG_OPEN_DLOPEN, LM_ID_BASE, file, mode, __builtin_return_address(0));
}

EXPORT void *dlmopen(Lmid_t lmid, const char *file, int mode)
{
	return front_open(DLG_OPEN_DLMOPEN, lmid, file, mode, __builtin_return_address(0));
}
