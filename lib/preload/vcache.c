#include "vcache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 16
#define BLOB 1024      /* dynamic-section strings kept per entry */
#define NO_STR 0xffff

struct entry {
	bool used;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	struct decision d;
	char canon[PATH_MAX];
	bool have_dyn;
	unsigned flags_1;
	unsigned short soname, rpath, runpath;
	unsigned short needed[DLG_ELF_MAX_NEEDED];
	unsigned short n_needed;
	unsigned short blob_used;
	char blob[BLOB];
};

/* Never waited for: a thread that finds it taken goes without the cache for
 * that call (a full decision), so a child forked while another thread held
 * it cannot block on it. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry cache[SLOTS];
static unsigned next_victim;

static bool same(const struct entry *e, const struct stat *st)
{
	return e->used && e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
	       e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec &&
	       e->ctime.tv_sec == st->st_ctim.tv_sec && e->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

static unsigned short pack(struct entry *e, size_t *used, const char *s, bool *fits)
{
	size_t n;
	unsigned short at;

	if (!s)
		return NO_STR;
	n = strlen(s) + 1;
	if (*used + n > BLOB) {
		*fits = false;
		return NO_STR;
	}
	at = (unsigned short)*used;
	memcpy(e->blob + *used, s, n);
	*used += n;
	return at;
}

static void pack_dyn(struct entry *e, const struct dlg_elf_dyn *dyn)
{
	size_t used = 0;
	bool fits = true;

	e->have_dyn = false;
	if (!dyn)
		return;
	e->soname = pack(e, &used, dyn->soname, &fits);
	e->rpath = pack(e, &used, dyn->rpath, &fits);
	e->runpath = pack(e, &used, dyn->runpath, &fits);
	for (size_t i = 0; i < dyn->n_needed; i++)
		e->needed[i] = pack(e, &used, dyn->needed[i], &fits);
	e->n_needed = (unsigned short)dyn->n_needed;
	e->flags_1 = dyn->flags_1;
	e->blob_used = (unsigned short)used;
	e->have_dyn = fits;
}

/* Only what the entry holds is copied: a cached dlopen pays for every byte
 * (dyn's needed[] alone is 2 KB). */
static bool unpack_dyn(const struct entry *e, struct dlg_elf_dyn *dyn)
{
	dyn->strbuf = malloc(e->blob_used ? e->blob_used : 1);
	if (!dyn->strbuf)
		return false;
	memcpy(dyn->strbuf, e->blob, e->blob_used);
#define STR(x) ((x) == NO_STR ? NULL : dyn->strbuf + (x))
	dyn->soname = STR(e->soname);
	dyn->rpath = STR(e->rpath);
	dyn->runpath = STR(e->runpath);
	for (size_t i = 0; i < e->n_needed; i++)
		dyn->needed[i] = STR(e->needed[i]);
#undef STR
	dyn->n_needed = e->n_needed;
	dyn->flags_1 = e->flags_1;
	return true;
}

bool vcache_get(const struct stat *st, char *canon, size_t len, struct decision *d,
		struct dlg_elf_dyn *dyn, bool *have_dyn)
{
	bool hit = false;

	*have_dyn = false;
	if (pthread_mutex_trylock(&lock) != 0)
		return false;
	for (unsigned i = 0; i < SLOTS && !hit; i++) {
		const struct entry *e = &cache[i];
		if (!same(e, st) || strlen(e->canon) >= len)
			continue;
		strcpy(canon, e->canon);
		*d = e->d;
		*have_dyn = e->have_dyn && unpack_dyn(e, dyn);
		hit = true;
	}
	pthread_mutex_unlock(&lock);
	return hit;
}

bool vcache_known(const struct stat *st)
{
	bool hit = false;

	if (pthread_mutex_trylock(&lock) != 0)
		return false;
	for (unsigned i = 0; i < SLOTS && !hit; i++)
		hit = same(&cache[i], st);
	pthread_mutex_unlock(&lock);
	return hit;
}

void vcache_put(const struct stat *st, const char *canon, const struct decision *d,
		const struct dlg_elf_dyn *dyn)
{
	struct entry *e;

	if (strlen(canon) >= sizeof e->canon || pthread_mutex_trylock(&lock) != 0)
		return;
	e = &cache[next_victim++ % SLOTS];
	e->used = true;
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->size = st->st_size;
	e->mtime = st->st_mtim;
	e->ctime = st->st_ctim;
	e->d = *d;
	strcpy(e->canon, canon);
	pack_dyn(e, dyn);
	pthread_mutex_unlock(&lock);
}
