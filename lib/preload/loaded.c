#include "loaded.h"

#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/single_threaded.h>

/* Names recently found loaded, valid while the loader's load and unload
 * counters stay the same: asking again for an object already loaded (the
 * most frequent dlopen of all) then costs one dl_iterate_phdr callback and
 * a string compare instead of a walk over every loaded object. From the
 * heap on the first one: as .bss it would be one more mapping in every
 * process the front is preloaded into. */
#define SEEN_SLOTS 8
#define SEEN_NAME 256

struct seen {
	unsigned long long adds, subs;
	unsigned next;
	char names[SEEN_SLOTS][SEEN_NAME];
};

static struct seen *seen;
/* Taken only while other threads exist: a single-threaded process (most of
 * them) pays no lock per dlopen. Never waited for: a thread that finds it
 * taken does without the cache for that call, so a child forked while
 * another thread held it cannot deadlock on it. */
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;

static bool seen_take(bool locked)
{
	return !locked || pthread_mutex_trylock(&seen_lock) == 0;
}

static void seen_drop(bool locked)
{
	if (locked)
		pthread_mutex_unlock(&seen_lock);
}

/* dl_iterate_phdr holds the loader's dl_load_write_lock while it runs, and
 * glibc (2.36) does not reset that lock in the child of a fork: a fork made
 * while another thread was inside it leaves the child blocked in its next
 * dl_iterate_phdr -- with the guard, its next dlopen. A program calls
 * dl_iterate_phdr rarely; the guard calls it in every dlopen. So the
 * guard's calls are made under a read lock that a fork handler takes for
 * writing: no fork starts while one of them is in flight. The handlers are
 * registered by the first call (a process's first dlopen, before it can
 * race with a fork unless it already has threads). */
static pthread_rwlock_t iterate_lock = PTHREAD_RWLOCK_INITIALIZER;
static int atfork_state;        /* 0: not registered, 1: being registered, 2: done */

static void fork_prepare(void)
{
	pthread_rwlock_wrlock(&iterate_lock);
}

static void fork_parent(void)
{
	pthread_rwlock_unlock(&iterate_lock);
}

/* The child's only thread has another thread id than the writer recorded:
 * a fresh lock, not an unlock. */
static void fork_child(void)
{
	static const pthread_rwlock_t fresh = PTHREAD_RWLOCK_INITIALIZER;

	memcpy(&iterate_lock, &fresh, sizeof fresh);
}

/* Without pthread_once, whose first run ends in a FUTEX_WAKE. A thread
 * that finds another registering waits the few instructions it takes.
 * (The lock prefers readers, glibc's default: a thread that took it and is
 * interrupted by a handler that dlopens takes it again without blocking.) */
static void ensure_atfork(void)
{
	int expected = 0;

	if (__atomic_load_n(&atfork_state, __ATOMIC_ACQUIRE) == 2)
		return;
	if (__atomic_compare_exchange_n(&atfork_state, &expected, 1, false, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE)) {
		pthread_atfork(fork_prepare, fork_parent, fork_child);
		__atomic_store_n(&atfork_state, 2, __ATOMIC_RELEASE);
		return;
	}
	while (__atomic_load_n(&atfork_state, __ATOMIC_ACQUIRE) != 2)
		continue;
}

int dlg_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data)
{
	bool locked = !__libc_single_threaded;
	int rc;

	ensure_atfork();
	if (locked)
		pthread_rwlock_rdlock(&iterate_lock);
	rc = dl_iterate_phdr(cb, data);
	if (locked)
		pthread_rwlock_unlock(&iterate_lock);
	return rc;
}

struct generation {
	unsigned long long adds, subs;
};

static int generation_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct generation *g = data;

	if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
		g->adds = info->dlpi_adds;
		g->subs = info->dlpi_subs;
	}
	return 1;
}

static bool seen_lookup(const char *name, const struct generation *gen)
{
	bool hit = false;

	if (!seen || seen->adds != gen->adds || seen->subs != gen->subs)
		return false;
	for (unsigned i = 0; i < SEEN_SLOTS && !hit; i++)
		hit = strcmp(seen->names[i], name) == 0;
	return hit;
}

static void seen_add(const char *name, const struct generation *gen)
{
	size_t n = strlen(name);

	if (n >= SEEN_NAME)
		return;
	if (!seen && !(seen = calloc(1, sizeof *seen)))
		return;
	if (seen->adds != gen->adds || seen->subs != gen->subs) {
		memset(seen->names, 0, sizeof seen->names);
		seen->adds = gen->adds;
		seen->subs = gen->subs;
	}
	memcpy(seen->names[seen->next++ % SEEN_SLOTS], name, n + 1);
}

/* glibc relocates d_ptr entries of a writable dynamic section in place
 * (elf_get_dynamic_info), but not of a read-only one (the vDSO's); a value
 * below the load address is still an offset. */
static const char *soname_of(const struct dl_phdr_info *info)
{
	const ElfW(Dyn) *dyn = NULL;
	ElfW(Addr) strtab = 0, soname = 0;
	bool has_soname = false;

	for (ElfW(Half) i = 0; i < info->dlpi_phnum && !dyn; i++)
		if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
	for (; dyn && dyn->d_tag != DT_NULL; dyn++) {
		if (dyn->d_tag == DT_STRTAB)
			strtab = dyn->d_un.d_ptr < info->dlpi_addr ? info->dlpi_addr + dyn->d_un.d_ptr
								   : dyn->d_un.d_ptr;
		else if (dyn->d_tag == DT_SONAME) {
			soname = dyn->d_un.d_val;
			has_soname = true;
		}
	}
	return strtab && has_soname ? (const char *)(strtab + soname) : NULL;
}

struct name_query {
	const char *name;
	bool slash;
	bool found;
};

static int match_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct name_query *q = data;
	const char *soname;

	(void)size;
	if (q->slash) {
		q->found = info->dlpi_name && strcmp(info->dlpi_name, q->name) == 0;
	} else {
		soname = soname_of(info);
		q->found = soname && strcmp(soname, q->name) == 0;
	}
	return q->found;
}

bool dlg_loaded_name(const char *name)
{
	struct generation gen = { 0, 0 };
	struct name_query q = { name, false, false };
	bool locked = !__libc_single_threaded, hit = false;

	if (!*name)
		return false;
	dlg_iterate_phdr(generation_cb, &gen);
	if (gen.adds && seen_take(locked)) {
		hit = seen_lookup(name, &gen);
		seen_drop(locked);
	}
	/* A name with '$' is never added: no need to look for one first. */
	if (hit || strchr(name, '$'))
		return hit;
	q.slash = strchr(name, '/') != NULL;
	dlg_iterate_phdr(match_cb, &q);
	if (q.found && gen.adds && seen_take(locked)) {
		seen_add(name, &gen);
		seen_drop(locked);
	}
	return q.found;
}
