/* Stat fingerprints of pinned files, taken by `dlguard compile`.
 *
 * Why a fingerprint may stand for the content. Every change the kernel
 * makes to a file -- write, truncate, fallocate, a write fault on a clean
 * shared mapping, chmod, chown, link, unlink, rename -- stamps its ctime
 * with the current time, and no system call sets ctime to a chosen value
 * (utimensat sets mtime and stamps ctime with now). So a file whose (dev,
 * ino, size, mtime, ctime) are what they were when it was hashed still
 * holds what was hashed, given three things this file sees to:
 *
 * - No change after the hash may get the recorded stamp. The kernel stamps
 *   from a coarse clock (a tick of a few ms; some file systems round to a
 *   second or more), so a write in the same tick just after our read leaves
 *   the whole fingerprint as recorded, with other content: git's "racy
 *   clean" problem. A change made at least DLG_FP_SETTLE_SEC after the
 *   recorded ctime gets a later stamp. So a file whose ctime is more recent
 *   than that when it is hashed is kept aside; after one wait for all of
 *   them, until DLG_FP_SETTLE_SEC have passed since the newest such ctime,
 *   each is hashed and fstat'ed again and kept only if digest and
 *   fingerprint are both unchanged. A change between the two reads shows in
 *   one or the other; a change after the second gets a later ctime. A ctime
 *   in the future (the clock was set back) cannot be waited out in bounded
 *   time: such a file is skipped. Only ctime matters: a write stamps mtime
 *   and ctime alike, and an mtime set by utimensat stamps ctime with now.
 *
 * - No write may bypass ctime. A write through a shared mapping to a page
 *   that is already dirty does not fault, so it leaves ctime alone until the
 *   page is written back; tmpfs never stamps mapped writes at all. fsync
 *   before hashing writes back and write-protects every dirty page, so any
 *   later mapped write faults and stamps ctime; and only files that nobody
 *   but root or the compiling user can write (owner, no group or other
 *   write bit -- with an ACL the group bits are its mask) are fingerprinted:
 *   whoever can write those could rewrite the policy as well.
 *
 * - The attributes must be the kernel's own. A network or FUSE file system
 *   reports what its server says, which may serve other bytes under the
 *   same attributes: files there are never fingerprinted (they are hashed,
 *   as every file was before).
 *
 * The record also carries the canonical path the file was fingerprinted
 * under, and the guard uses it only for a file open under that path: a
 * device number names a different file system after a reboot (anonymous
 * devices are handed out in mount order), and mounting a file system over
 * the path needs privileges a path rule already trusts.
 *
 * What remains is in docs/compiled-format.md: someone who can write the
 * block device or set the clock can forge a fingerprint. */
#include "fingerprint.h"

#include "errstr.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "digest.h"
#include "fdpath.h"

/* One digest a path is allowed with. */
struct cand {
	const char *path;
	const unsigned char *sha256;
};

/* A file fingerprinted once; racy: its ctime was too recent, it is read
 * again after the wait. */
struct taken {
	struct dlg_fingerprint fp;
	bool racy;
};

static int cmp_cand(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;
	int c = strcmp(a->path, b->path);

	return c ? c : memcmp(a->sha256, b->sha256, DLG_SHA256_LEN);
}

/* Allow rules only: a fingerprint vouches for files the policy allows by
 * content; a denied file may as well be read. */
static size_t count_cands(const struct dlg_policy *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n_rules; i++) {
		const struct dlg_rule *r = &p->rules[i];

		if (r->action != DLG_ACTION_ALLOW)
			continue;
		if (r->path && r->sha256)
			n += r->n_sha256;
		if (r->manifest && r->manifest->entries)
			n += r->manifest->n_entries;
	}
	return n;
}

static size_t add_cands(const struct dlg_policy *p, struct cand *c)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n_rules; i++) {
		const struct dlg_rule *r = &p->rules[i];

		if (r->action != DLG_ACTION_ALLOW)
			continue;
		for (size_t j = 0; r->path && r->sha256 && j < r->n_sha256; j++)
			c[n++] = (struct cand){ r->path, r->sha256[j] };
		for (size_t j = 0; r->manifest && r->manifest->entries && j < r->manifest->n_entries;
		     j++)
			c[n++] = (struct cand){ r->manifest->entries[j].path,
						r->manifest->entries[j].sha256 };
	}
	return n;
}

/* See the top of the file: only root and the compiling user may write it. */
static bool writers_trusted(const struct stat *st)
{
	return (st->st_uid == 0 || st->st_uid == geteuid()) &&
	       (st->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

bool dlg_fp_attrs_local(int fd)
{
	static const char *const remote[] = { "nfs", "cifs", "fuse", "9p", "afs", "ceph",
					      "coda", "ocfs2" };
	struct statfs sfs;
	const char *name;

	if (fstatfs(fd, &sfs) != 0)
		return false;
	name = dlg_fs_name((uint32_t)sfs.f_type);
	for (size_t i = 0; name && i < sizeof remote / sizeof remote[0]; i++)
		if (strcmp(name, remote[i]) == 0)
			return false;
	return true;
}

bool dlg_fp_same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

void dlg_fp_set_stat(struct dlg_fingerprint *fp, const struct stat *st)
{
	fp->dev = (uint64_t)st->st_dev;
	fp->ino = (uint64_t)st->st_ino;
	fp->size = (int64_t)st->st_size;
	fp->mtime_sec = (int64_t)st->st_mtim.tv_sec;
	fp->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
	fp->ctime_sec = (int64_t)st->st_ctim.tv_sec;
	fp->ctime_nsec = (uint32_t)st->st_ctim.tv_nsec;
}

static bool same_fp(const struct dlg_fingerprint *a, const struct dlg_fingerprint *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_sec == b->mtime_sec && a->mtime_nsec == b->mtime_nsec &&
	       a->ctime_sec == b->ctime_sec && a->ctime_nsec == b->ctime_nsec &&
	       memcmp(a->sha256, b->sha256, DLG_SHA256_LEN) == 0;
}

/* Opens path once and fingerprints what it holds: fp (but its path) and
 * the canonical name into canon. False when the file is skipped. */
static bool probe(const char *path, struct dlg_fingerprint *fp, char *canon, size_t len)
{
	struct stat a, b;
	char why[128];
	bool ok = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0)
		return false;
	if (fstat(fd, &a) != 0 || !S_ISREG(a.st_mode) || !writers_trusted(&a) ||
	    !dlg_fp_attrs_local(fd) || fsync(fd) != 0)
		goto end;
	if (dlg_sha256_fd(fd, fp->sha256, why, sizeof why) != 0 || fstat(fd, &b) != 0 ||
	    !dlg_fp_same_stat(&a, &b))
		goto end;
	if (dlg_fd_canonical(fd, path, canon, len) != 0 || strlen(canon) >= len - 1)
		goto end;
	dlg_fp_set_stat(fp, &b);
	ok = true;
end:
	close(fd);
	return ok;
}

static bool allowed(const struct dlg_fingerprint *fp, const struct cand *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(fp->sha256, c[i].sha256, DLG_SHA256_LEN) == 0)
			return true;
	return false;
}

static bool ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* The first reading of one pinned path (its allowed digests: c[0..n)).
 * 1: t filled (t->fp.path malloc'ed), 0: skipped, -1: out of memory.
 * A ctime less than DLG_FP_SETTLE_SEC ago marks it racy and moves *until
 * to DLG_FP_SETTLE_SEC after that ctime, if that is later. */
static int take(const struct cand *c, size_t n, struct taken *t, struct timespec *until)
{
	char canon[PATH_MAX];
	struct timespec now, ctime, settle;

	memset(t, 0, sizeof *t);
	if (!probe(c[0].path, &t->fp, canon, sizeof canon) || !allowed(&t->fp, c, n) ||
	    clock_gettime(CLOCK_REALTIME, &now) != 0)
		return 0;
	ctime = (struct timespec){ (time_t)t->fp.ctime_sec, (long)t->fp.ctime_nsec };
	settle = (struct timespec){ ctime.tv_sec + DLG_FP_SETTLE_SEC, ctime.tv_nsec };
	if (ts_before(&now, &ctime))
		return 0;       /* in the future: no bounded wait settles it */
	t->fp.path = strdup(canon);
	if (!t->fp.path)
		return -1;
	t->racy = ts_before(&now, &settle);
	if (t->racy && ts_before(until, &settle))
		*until = settle;
	return 1;
}

/* Read again after the wait: the same file, fingerprint and digest, under
 * the same name. */
static bool settled(const struct taken *t)
{
	struct dlg_fingerprint again;
	char canon[PATH_MAX];

	memset(&again, 0, sizeof again);
	return probe(t->fp.path, &again, canon, sizeof canon) && same_fp(&again, &t->fp) &&
	       strcmp(canon, t->fp.path) == 0;
}

static void sleep_until(const struct timespec *until, void *ctx)
{
	(void)ctx;
	while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, until, NULL) == EINTR)
		;
}

static int cmp_taken(const void *pa, const void *pb)
{
	const struct taken *a = pa, *b = pb;

	if (a->fp.ino != b->fp.ino)
		return a->fp.ino < b->fp.ino ? -1 : 1;
	if (a->fp.dev != b->fp.dev)
		return a->fp.dev < b->fp.dev ? -1 : 1;
	return strcmp(a->fp.path, b->fp.path);
}

/* One record per (dev, ino): the first name (hard links pinned under two
 * names), none when the inode was read with two digests (it changed between
 * two readings). The kept ones move to out; the rest are freed. */
static size_t one_per_inode(struct taken *t, size_t n, struct dlg_fingerprint *out)
{
	size_t k = 0, j;

	qsort(t, n, sizeof *t, cmp_taken);
	for (size_t i = 0; i < n; i = j) {
		bool agree = true;

		for (j = i + 1; j < n && t[j].fp.ino == t[i].fp.ino && t[j].fp.dev == t[i].fp.dev;
		     j++)
			agree &= same_fp(&t[j].fp, &t[i].fp);
		if (agree) {
			out[k++] = t[i].fp;
			t[i].fp.path = NULL;
		}
		for (size_t m = i; m < j; m++)
			free(t[m].fp.path);
	}
	return k;
}

int dlg_fingerprint_collect(struct dlg_policy *p, const struct dlg_fp_hooks *hooks,
			    struct dlg_fp_stats *stats, char *err, size_t errlen)
{
	size_t n = count_cands(p), nt = 0, kept = 0;
	struct timespec until = { 0, 0 };
	struct cand *c = malloc((n ? n : 1) * sizeof *c);
	struct taken *t = calloc(n ? n : 1, sizeof *t);
	struct dlg_fingerprint *out = NULL;
	int ret = -1;

	memset(stats, 0, sizeof *stats);
	dlg_fingerprints_free(p->fprints, p->n_fprints);
	p->fprints = NULL;
	p->n_fprints = 0;
	if (!c || !t)
		goto end;
	n = add_cands(p, c);
	qsort(c, n, sizeof *c, cmp_cand);
	for (size_t i = 0, j; i < n; i = j) {
		int r;

		for (j = i + 1; j < n && strcmp(c[j].path, c[i].path) == 0; j++)
			;
		stats->pinned++;
		r = take(&c[i], j - i, &t[nt], &until);
		if (r < 0)
			goto end;
		nt += (size_t)r;
	}
	if (until.tv_sec != 0) {
		if (hooks && hooks->wait)
			hooks->wait(&until, hooks->ctx);
		else
			sleep_until(&until, NULL);
	}
	for (size_t i = 0; i < nt;) {
		if (t[i].racy && !settled(&t[i])) {
			free(t[i].fp.path);
			t[i] = t[--nt];         /* the last one takes its place, and is next */
		} else {
			i++;
		}
	}
	out = calloc(nt ? nt : 1, sizeof *out);
	if (!out)
		goto end;
	kept = one_per_inode(t, nt, out);
	nt = 0;
	p->fprints = out;
	p->n_fprints = kept;
	stats->recorded = kept;
	out = NULL;
	ret = 0;
end:
	if (ret != 0)
		dlg_seterr(err, errlen, "out of memory");
	for (size_t i = 0; i < nt; i++)
		free(t[i].fp.path);
	free(out);
	free(t);
	free(c);
	return ret;
}
