/* Collecting stat fingerprints at compile time: which pinned files get one,
 * and the racy-timestamp wait (a file changed during it gets none). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"
#include "fdpath.h"
#include "fingerprint.h"

static char tmpdir[PATH_MAX];

static void tmp_path(char *out, const char *name)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", tmpdir, name);

	assert_true(n > 0 && n < PATH_MAX);
}

static void write_file(const char *path, const char *content, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static void sha_of_file(const char *path, unsigned char out[DLG_SHA256_LEN])
{
	char err[128];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	if (dlg_sha256_fd(fd, out, err, sizeof err) != 0)
		fail_msg("%s: %s", path, err);
	close(fd);
}

static void canonical(const char *path, char *out)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);     /* FIFOs too */

	assert_true(fd >= 0);
	assert_int_equal(dlg_fd_canonical(fd, path, out, PATH_MAX), 0);
	close(fd);
}

static struct dlg_rule pin(enum dlg_action a, char *path, unsigned char (*sha)[DLG_SHA256_LEN],
			   size_t n)
{
	struct dlg_rule r = { .action = a, .line = 1, .path = path, .sha256 = sha, .n_sha256 = n };

	return r;
}

static const struct dlg_fingerprint *find(const struct dlg_policy *p, const char *path)
{
	for (size_t i = 0; i < p->n_fprints; i++)
		if (strcmp(p->fprints[i].path, path) == 0)
			return &p->fprints[i];
	return NULL;
}

/* The record is what fstat of path shows now, with its real digest. */
static void expect_current(const struct dlg_fingerprint *f, const char *path)
{
	unsigned char d[DLG_SHA256_LEN];
	struct stat st;

	assert_non_null(f);
	assert_int_equal(stat(path, &st), 0);
	sha_of_file(path, d);
	assert_true(f->dev == (uint64_t)st.st_dev && f->ino == (uint64_t)st.st_ino);
	assert_true(f->size == st.st_size);
	assert_true(f->mtime_sec == st.st_mtim.tv_sec && f->mtime_nsec == st.st_mtim.tv_nsec);
	assert_true(f->ctime_sec == st.st_ctim.tv_sec && f->ctime_nsec == st.st_ctim.tv_nsec);
	assert_memory_equal(f->sha256, d, DLG_SHA256_LEN);
}

static void fprints_free(struct dlg_policy *p)
{
	dlg_fingerprints_free(p->fprints, p->n_fprints);
	p->fprints = NULL;
	p->n_fprints = 0;
}

/* A wait hook: counts its calls and keeps the time asked for; sleeps only
 * when told to, then runs the test's change. */
struct waiter {
	int calls;
	struct timespec until;
	bool sleep;
	void (*change)(void);
};

static void hook_wait(const struct timespec *until, void *ctx)
{
	struct waiter *w = ctx;

	w->calls++;
	w->until = *until;
	if (w->sleep)
		while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, until, NULL) != 0)
			;
	if (w->change)
		w->change();
}

static double ts(const struct timespec *t)
{
	return (double)t->tv_sec + (double)t->tv_nsec / 1e9;
}

static double ctime_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return ts(&st.st_ctim);
}

/* Which pinned files get a fingerprint: regular files only root or this
 * user can write, holding a digest an allow rule (or manifest) allows; one
 * record per inode. The wait is a hook that returns at once here, so what
 * is tested is the choice, not the clock. */
static void test_collect_which(void **state)
{
	enum { GOOD, WRONG, DENIED, MISSING, GWRITE, OWRITE, FIFO, DIR_, FOREIGN, MANI, LINK1,
	       LINK2, TWO, NF };
	static const char *const names[NF] = { "good.so", "wrong.so", "denied.so", "missing.so",
					       "gwrite.so", "owrite.so", "fifo.so", "dir.so",
					       "foreign.so", "mani.so", "link1.so", "link2.so",
					       "two.so" };
	static const bool want[NF] = { [GOOD] = true, [MANI] = true, [LINK1] = true,
				       [TWO] = true };
	char raw[NF][PATH_MAX], path[NF][PATH_MAX];
	unsigned char abc[2][DLG_SHA256_LEN], xyz[1][DLG_SHA256_LEN];
	struct dlg_manifest_entry ent;
	struct dlg_manifest man = { .path = (char *)"/etc/m.sha256", .entries = &ent,
				    .n_entries = 1 };
	struct dlg_rule r[NF + 1];
	struct dlg_policy p = { .default_action = DLG_ACTION_DENY, .rules = r };
	struct waiter w = { 0 };
	struct dlg_fp_hooks hooks = { hook_wait, &w };
	struct dlg_fp_stats st;
	bool foreign = geteuid() == 0;
	char err[128];

	(void)state;
	for (int i = 0; i < NF; i++)
		tmp_path(raw[i], names[i]);
	for (int i = 0; i < NF; i++) {
		if (i == MISSING || i == FIFO || i == DIR_ || i == LINK2)
			continue;
		write_file(raw[i], "abc", i == GWRITE ? 0664 : i == OWRITE ? 0646 : 0644);
	}
	assert_int_equal(mkfifo(raw[FIFO], 0644), 0);
	assert_int_equal(mkdir(raw[DIR_], 0755), 0);
	assert_int_equal(link(raw[LINK1], raw[LINK2]), 0);
	if (foreign)
		assert_int_equal(chown(raw[FOREIGN], 65534, 65534), 0);
	for (int i = 0; i < NF; i++) {
		if (i == MISSING)
			memcpy(path[i], raw[i], PATH_MAX);
		else
			canonical(raw[i], path[i]);
	}
	sha_of_file(raw[GOOD], abc[1]);
	memset(abc[0], 0x42, DLG_SHA256_LEN);
	memcpy(xyz[0], abc[1], DLG_SHA256_LEN);
	xyz[0][0] ^= 1;
	for (int i = 0; i < NF; i++)
		r[i] = pin(DLG_ACTION_ALLOW, path[i], &abc[1], 1);
	r[WRONG] = pin(DLG_ACTION_ALLOW, path[WRONG], xyz, 1);
	r[DENIED] = pin(DLG_ACTION_DENY, path[DENIED], &abc[1], 1);
	r[TWO] = pin(DLG_ACTION_ALLOW, path[TWO], abc, 2);      /* any one allowed digest */
	r[MANI] = (struct dlg_rule){ .action = DLG_ACTION_ALLOW, .manifest = &man };
	ent.path = path[MANI];
	memcpy(ent.sha256, abc[1], DLG_SHA256_LEN);
	r[NF] = pin(DLG_ACTION_ALLOW, path[GOOD], xyz, 1);      /* the same path again */
	p.n_rules = NF + 1;

	assert_int_equal(dlg_fingerprint_collect(&p, &hooks, &st, err, sizeof err), 0);
	assert_int_equal(st.pinned, NF - 1);    /* all but the denied one */
	assert_int_equal(st.recorded, p.n_fprints);
	for (int i = 0; i < NF; i++) {
		bool w_i = want[i] || (i == FOREIGN && !foreign);

		if ((find(&p, path[i]) != NULL) != w_i)
			fail_msg("%s: fingerprinted %d, want %d", names[i], find(&p, path[i]) != NULL,
				 w_i);
		if (w_i)
			expect_current(find(&p, path[i]), raw[i]);
	}
	assert_int_equal(p.n_fprints, 4 + !foreign);
	/* every file was just written: one wait for all, 2 s after the newest */
	assert_int_equal(w.calls, 1);
	for (int i = 0; i < NF; i++)
		if (find(&p, path[i]))
			assert_true(ts(&w.until) >= ctime_of(raw[i]) + DLG_FP_SETTLE_SEC - 1e-6);

	/* collecting again replaces what was there; none without pins */
	assert_int_equal(dlg_fingerprint_collect(&p, &hooks, &st, err, sizeof err), 0);
	assert_int_equal(p.n_fprints, 4 + !foreign);
	p.n_rules = 0;
	assert_int_equal(dlg_fingerprint_collect(&p, &hooks, &st, err, sizeof err), 0);
	assert_int_equal(p.n_fprints, 0);
	assert_int_equal(st.pinned, 0);
	fprints_free(&p);
	for (int i = 0; i < NF; i++)
		if (i == DIR_)
			rmdir(raw[i]);
		else
			unlink(raw[i]);
}

/* A file changed long ago needs no wait. */
static void test_collect_old_file(void **state)
{
	char path[PATH_MAX];
	unsigned char d[1][DLG_SHA256_LEN];
	struct dlg_rule r;
	struct dlg_policy p = { .default_action = DLG_ACTION_DENY, .rules = &r, .n_rules = 1 };
	struct waiter w = { 0 };
	struct dlg_fp_hooks hooks = { hook_wait, &w };
	struct dlg_fp_stats st;
	struct timespec now;
	char err[128];

	(void)state;
	canonical("/bin/sh", path);
	clock_gettime(CLOCK_REALTIME, &now);
	if (ctime_of(path) > ts(&now) - 60)
		skip();
	sha_of_file(path, d[0]);
	r = pin(DLG_ACTION_ALLOW, path, d, 1);
	assert_int_equal(dlg_fingerprint_collect(&p, &hooks, &st, err, sizeof err), 0);
	assert_int_equal(w.calls, 0);
	assert_int_equal(st.pinned, 1);
	assert_int_equal(st.recorded, 1);
	expect_current(find(&p, path), path);
	fprints_free(&p);
}

/* Without a hook the collector really sleeps: it returns no sooner than
 * DLG_FP_SETTLE_SEC after the file's ctime, with the file fingerprinted. */
static void test_collect_racy_wait(void **state)
{
	char raw[PATH_MAX], path[PATH_MAX];
	unsigned char d[1][DLG_SHA256_LEN];
	struct dlg_rule r;
	struct dlg_policy p = { .default_action = DLG_ACTION_DENY, .rules = &r, .n_rules = 1 };
	struct dlg_fp_stats st;
	struct timespec now;
	char err[128];

	(void)state;
	tmp_path(raw, "fresh.so");
	write_file(raw, "fresh", 0644);
	canonical(raw, path);
	sha_of_file(raw, d[0]);
	r = pin(DLG_ACTION_ALLOW, path, d, 1);
	assert_int_equal(dlg_fingerprint_collect(&p, NULL, &st, err, sizeof err), 0);
	clock_gettime(CLOCK_REALTIME, &now);
	assert_true(ts(&now) >= ctime_of(raw) + DLG_FP_SETTLE_SEC);
	assert_int_equal(st.recorded, 1);
	expect_current(find(&p, path), raw);
	fprints_free(&p);
	unlink(raw);
}

static char inplace[PATH_MAX], replaced[PATH_MAX], kept[PATH_MAX], same[PATH_MAX];

static void rewrite(const char *path, const char *content)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, content, strlen(content), 0), (ssize_t)strlen(content));
	close(fd);
}

/* During the wait: one file rewritten in place (same size), one replaced
 * by a rename (new inode, same content), one rewritten with its own bytes;
 * one left alone. */
static void change_files(void)
{
	char tmp[PATH_MAX];

	rewrite(inplace, "AbC");
	tmp_path(tmp, "replacement");
	write_file(tmp, "abc", 0644);
	assert_int_equal(rename(tmp, replaced), 0);
	rewrite(same, "abc");
}

static void test_collect_changed_during_wait(void **state)
{
	char *raws[4] = { inplace, replaced, kept, same };
	char path[4][PATH_MAX];
	unsigned char d[1][DLG_SHA256_LEN];
	struct dlg_rule r[4];
	struct dlg_policy p = { .default_action = DLG_ACTION_DENY, .rules = r, .n_rules = 4 };
	struct waiter w = { .sleep = true, .change = change_files };
	struct dlg_fp_hooks hooks = { hook_wait, &w };
	struct dlg_fp_stats st;
	struct timespec start;
	char err[128];

	(void)state;
	tmp_path(inplace, "inplace.so");
	tmp_path(replaced, "replaced.so");
	tmp_path(kept, "kept.so");
	tmp_path(same, "same.so");
	for (int i = 0; i < 4; i++) {
		write_file(raws[i], "abc", 0644);
		canonical(raws[i], path[i]);
	}
	sha_of_file(kept, d[0]);
	for (int i = 0; i < 4; i++)
		r[i] = pin(DLG_ACTION_ALLOW, path[i], d, 1);
	clock_gettime(CLOCK_REALTIME, &start);
	assert_int_equal(dlg_fingerprint_collect(&p, &hooks, &st, err, sizeof err), 0);
	assert_int_equal(w.calls, 1);
	/* no longer than the settling time after the newest change */
	assert_true(ts(&w.until) <= ts(&start) + DLG_FP_SETTLE_SEC);
	assert_int_equal(st.pinned, 4);
	assert_int_equal(st.recorded, 1);
	assert_null(find(&p, path[0]));
	assert_null(find(&p, path[1]));
	assert_null(find(&p, path[3]));
	expect_current(find(&p, path[2]), kept);
	fprints_free(&p);
	for (int i = 0; i < 4; i++)
		unlink(raws[i]);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/dlg-test-fp.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_collect_which),
		cmocka_unit_test(test_collect_old_file),
		cmocka_unit_test(test_collect_racy_wait),
		cmocka_unit_test(test_collect_changed_during_wait),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
