/* Start-up verdicts, taken by `dlguard compile`.
 *
 * A record says: the name N, which now resolves to the file with canonical
 * path C and this fingerprint (dev, ino, size, mtime, ctime), is allowed by
 * this policy in every process. The guard, at start-up, finds the record
 * under an object's link-map name, stats that name and allows the object
 * when the fingerprint matches. That verdict is the one a full decision
 * would reach, given what this file sees to:
 *
 * - The decision must rest only on what the fingerprint captures: the
 *   canonical path and the content (which the fingerprint stands for, by
 *   the argument at the top of fingerprint.c: fsync first, only root can
 *   write the file, a local file system, a settled ctime). So no verdict
 *   that consulted the executable (an exe condition), the clock (recent),
 *   the directories above the file (writable), a signature file, or that
 *   failed to hash or to learn a fact.
 *
 * - C must stay the file's canonical path: a rename of the file or a link
 *   to it stamps its ctime, but a rename of a directory above it does not,
 *   so every ancestor of C must be writable by root only.
 *
 * - What the guard stats must be what ld.so mapped: N is resolved again
 *   between the two, so every directory that resolution looks a name up
 *   in, symlink targets included, must be writable by root only. walk()
 *   checks exactly those, and since it must arrive at C, C's ancestors are
 *   among them.
 *
 * The decisions use the policy as it will be compiled (built in memory from
 * the same struct, fingerprints included), and only allows are recorded, so
 * audit or enforce mode makes no difference. */
#include "startup_verdicts.h"

#include "errstr.h"

#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>
#include <unistd.h>

#include "fdpath.h"
#include "fingerprint.h"
#include "policy_db.h"
#include "resolve.h"

#define LD_SO_CACHE "/etc/ld.so.cache"
#define MAX_LINKS 40            /* the kernel's MAXSYMLINKS */

/* A growing list of malloc'ed names; oom once an allocation failed. */
struct names {
	char **v;
	size_t n, cap;
	bool oom;
};

static void names_add(struct names *l, const char *s)
{
	char *copy;

	if (l->oom)
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 256;
		char **v = realloc(l->v, cap * sizeof *v);

		if (!v) {
			l->oom = true;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	copy = strdup(s);
	if (!copy) {
		l->oom = true;
		return;
	}
	l->v[l->n++] = copy;
}

static void names_free(struct names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sort_unique(struct names *l)
{
	size_t k = 0;

	if (l->n == 0)
		return;
	qsort(l->v, l->n, sizeof *l->v, cmp_name);
	for (size_t i = 1; i < l->n; i++) {
		if (strcmp(l->v[i], l->v[k]) == 0)
			free(l->v[i]);
		else
			l->v[++k] = l->v[i];
	}
	l->n = k + 1;
}

static int add_cached(const char *path, void *ctx)
{
	struct names *l = ctx;

	names_add(l, path);
	return l->oom ? -1 : 0;
}

/* The PT_INTERP string of this program: the name ld.so gives itself. */
static void add_interp(struct names *l)
{
	const ElfW(Phdr) *ph = (const ElfW(Phdr) *)getauxval(AT_PHDR);
	size_t n = (size_t)getauxval(AT_PHNUM);
	uintptr_t bias = 0;
	bool have_bias = false;

	for (size_t i = 0; ph && i < n; i++) {
		if (ph[i].p_type == PT_PHDR) {
			bias = (uintptr_t)ph - (uintptr_t)ph[i].p_vaddr;
			have_bias = true;
		}
	}
	for (size_t i = 0; have_bias && i < n; i++) {
		const char *s = (const char *)(bias + (uintptr_t)ph[i].p_vaddr);

		if (ph[i].p_type == PT_INTERP && ph[i].p_filesz > 0 &&
		    memchr(s, '\0', (size_t)ph[i].p_filesz))
			names_add(l, s);
	}
}

/* Every name to try: the names ld.so gives (or the test's), their
 * canonical paths, and the fingerprinted files'. */
static void gather(const struct dlg_policy *p, const struct dlg_startup_hooks *h,
		   struct names *l)
{
	char real[PATH_MAX];
	size_t given;

	if (h && h->names) {
		for (size_t i = 0; i < h->n_names; i++)
			names_add(l, h->names[i]);
	} else {
		/* a missing or unusable cache only means fewer candidates */
		dlg_ldcache_each(LD_SO_CACHE, add_cached, l);
		add_interp(l);
	}
	given = l->n;
	for (size_t i = 0; i < given; i++)
		if (realpath(l->v[i], real))
			names_add(l, real);
	for (size_t i = 0; i < p->n_fprints; i++)
		names_add(l, p->fprints[i].path);
	sort_unique(l);
}

/* The n bytes at c, a path component: 1 for ".", 2 for "..", else 0. */
static int dots(const char *c, size_t n)
{
	return n <= 2 && strspn(c, ".") == n ? (int)n : 0;
}

/* Absolute, short enough, and every component a plain name: no "//",
 * "/./", "/../" or trailing "/". ld.so's names are all like that. */
static bool name_clean(const char *name)
{
	const char *c = name;

	if (name[0] != '/' || strlen(name) > DLG_STARTUP_NAME_MAX)
		return false;
	while (*c == '/') {
		size_t n = strcspn(++c, "/");

		if (n == 0 || dots(c, n))
			return false;
		c += n;
	}
	return true;
}

static bool dir_safe(const char *dir)
{
	struct stat st;

	return stat(dir[0] ? dir : "/", &st) == 0 && S_ISDIR(st.st_mode) && dlg_root_only(&st);
}

/* Replaces rest (len bytes) by the target of the symlink at path followed
 * by after, what was left of the name behind the link. */
static bool follow_link(const char *path, const char *after, char *rest, size_t len,
			bool *absolute)
{
	char target[PATH_MAX], next[2 * PATH_MAX];
	ssize_t t = readlink(path, target, sizeof target - 1);
	int n;

	if (t <= 0)
		return false;
	target[t] = '\0';
	*absolute = target[0] == '/';
	n = snprintf(next, sizeof next, "%s%s", target, after);
	if (n < 0 || (size_t)n >= len)
		return false;
	memcpy(rest, next, (size_t)n + 1);
	return true;
}

/* Resolves name the way the kernel does, one component at a time,
 * following symlinks, and checks every directory a component is looked up
 * in (dir_safe). out receives the resolved path. False when a directory is
 * not safe or the name does not resolve. */
static bool walk(const char *name, char *out, size_t len)
{
	char rest[2 * PATH_MAX];
	const char *c = rest;
	size_t done = 0;        /* strlen(out); "" stands for "/" */
	int links = 0;

	if ((size_t)snprintf(rest, sizeof rest, "%s", name) >= sizeof rest)
		return false;
	out[0] = '\0';
	for (;;) {
		struct stat st;
		bool absolute;
		size_t n;

		c += strspn(c, "/");
		n = strcspn(c, "/");
		if (n == 0)
			break;
		if (!dir_safe(out))
			return false;
		if (dots(c, n)) {
			/* out holds no symlink: ".." is its parent */
			while (dots(c, n) == 2 && done > 0 && out[--done] != '/')
				;
			out[done] = '\0';
			c += n;
			continue;
		}
		if (done + 1 + n >= len)
			return false;
		out[done] = '/';
		memcpy(out + done + 1, c, n);
		out[done + 1 + n] = '\0';
		c += n;
		if (lstat(out, &st) != 0)
			return false;
		if (!S_ISLNK(st.st_mode)) {
			done += 1 + n;
			continue;
		}
		if (++links > MAX_LINKS || !follow_link(out, c, rest, sizeof rest, &absolute))
			return false;
		if (absolute)
			done = 0;
		out[done] = '\0';
		c = rest;
	}
	if (done == 0)
		snprintf(out, len, "/");
	return true;
}

/* dlg_subject.exe_lookup takes no context: the flag it raises is static
 * (the CLI decides on one file at a time). */
static bool exe_asked;

static const char *no_exe(void)
{
	exe_asked = true;
	return NULL;
}

/* Allowed from facts a fingerprint of fd captures, whatever the process. */
static bool allowed_anywhere(const struct dlg_db *db, const char *canon, int fd)
{
	struct dlg_subject s;
	struct dlg_verdict v;
	enum dlg_action a;

	memset(&s, 0, sizeof s);
	s.path = canon;
	s.fd = fd;
	s.exe_lookup = no_exe;
	s.quiet_allow = true;
	exe_asked = false;
	a = dlg_decide(db, &s, &v);
	return a == DLG_ACTION_ALLOW && !exe_asked && !s.sig_checked && !s.hash_failed &&
	       !s.risk_volatile && !s.risk_failed;
}

static bool settled_by_clock(const struct stat *st, void *ctx)
{
	struct timespec now;
	time_t age;

	(void)ctx;
	if (clock_gettime(CLOCK_REALTIME, &now) != 0)
		return false;
	/* a ctime in the future is as recent as it gets */
	age = now.tv_sec - st->st_ctim.tv_sec;
	return age > DLG_FP_SETTLE_SEC ||
	       (age == DLG_FP_SETTLE_SEC && now.tv_nsec >= st->st_ctim.tv_nsec);
}

enum outcome { SKIP, TOO_RECENT, RECORD };

/* Opens name as ld.so does and decides whether it may be recorded; fp
 * receives its fingerprint when so. */
static enum outcome probe(const struct dlg_db *db, const char *name,
			  const struct dlg_startup_hooks *h, struct dlg_fingerprint *fp)
{
	char canon[PATH_MAX], walked[PATH_MAX];
	struct stat a, b;
	enum outcome r = SKIP;
	int fd;

	if (!name_clean(name))
		return SKIP;
	fd = open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return SKIP;
	if (fstat(fd, &a) != 0 || !S_ISREG(a.st_mode) || !dlg_root_only(&a) ||
	    !dlg_fp_attrs_local(fd))
		goto end;
	if (dlg_fd_canonical(fd, name, canon, sizeof canon) != 0 ||
	    strlen(canon) >= sizeof canon - 1 || !walk(name, walked, sizeof walked) ||
	    strcmp(walked, canon) != 0)
		goto end;
	if (fsync(fd) != 0 || !allowed_anywhere(db, canon, fd) || fstat(fd, &b) != 0 ||
	    !dlg_fp_same_stat(&a, &b))
		goto end;
	if (!(h && h->settled ? h->settled(&b, h->ctx) : settled_by_clock(&b, NULL))) {
		r = TOO_RECENT;
		goto end;
	}
	memset(fp, 0, sizeof *fp);
	dlg_fp_set_stat(fp, &b);
	r = RECORD;
end:
	close(fd);
	return r;
}

static void startup_clear(struct dlg_policy *p)
{
	dlg_fingerprints_free(p->startup_fps, p->n_startup);
	p->startup_fps = NULL;
	p->n_startup = 0;
}

int dlg_startup_collect(struct dlg_policy *p, const struct dlg_startup_hooks *hooks,
			struct dlg_startup_stats *stats, char *err, size_t errlen)
{
	struct names l = { NULL, 0, 0, false };
	struct dlg_fingerprint *rec = NULL;
	unsigned char *buf = NULL;
	size_t len = 0, k = 0;
	struct dlg_db db;
	int ret = -1;

	memset(stats, 0, sizeof *stats);
	memset(&db, 0, sizeof db);
	/* the table plays no part in decisions; the db is built without it */
	startup_clear(p);
	if (dlg_db_build(p, &buf, &len, err, errlen) != 0 ||
	    dlg_db_open_mem(&db, buf, len, err, errlen) != 0)
		goto end;
	gather(p, hooks, &l);
	rec = calloc(l.n ? l.n : 1, sizeof *rec);
	if (l.oom || !rec) {
		dlg_seterr(err, errlen, "out of memory");
		goto end;
	}
	for (size_t i = 0; i < l.n; i++) {
		switch (probe(&db, l.v[i], hooks, &rec[k])) {
		case RECORD:
			rec[k++].path = l.v[i];
			l.v[i] = NULL;  /* now rec's */
			break;
		case TOO_RECENT:
			stats->too_recent++;
			break;
		case SKIP:
			break;
		}
	}
	stats->candidates = l.n;
	stats->recorded = k;
	p->startup_fps = rec;
	p->n_startup = k;
	rec = NULL;
	ret = 0;
end:
	free(rec);
	names_free(&l);
	dlg_db_close(&db);
	free(buf);
	return ret;
}
