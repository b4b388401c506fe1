/* Collecting start-up verdicts at compile time: which names get one (a
 * table of files, each allowed by a plain decision but for the one reason
 * it must be left out), the settle check, the candidates (ld.so.cache,
 * PT_INTERP, canonical names, fingerprints), and dlg_ldcache_each on
 * damaged caches.
 *
 * Fixtures live in a fresh directory of the build tree, never under /tmp:
 * every directory above a recorded file must be writable by root only. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "digest.h"
#include "fingerprint.h"
#include "policy_conf.h"
#include "policy_db.h"
#include "resolve.h"
#include "sign.h"
#include "startup_verdicts.h"

#define LD_SO_CACHE "/etc/ld.so.cache"

static char dir[PATH_MAX];      /* the fixture directory, canonical */
static const char *unusable;    /* why the fixtures cannot be made here, or NULL */

__attribute__((format(printf, 2, 3)))
static void fx(char *out, const char *fmt, ...)
{
	char rel[PATH_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(rel, sizeof rel, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof rel);
	n = snprintf(out, PATH_MAX, "%s/%s", dir, rel);
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

/* The fixture directory's file rel, content its own name, mode 0644. */
static void fixture(const char *rel)
{
	char path[PATH_MAX];

	fx(path, "%s", rel);
	write_file(path, rel, 0644);
}

static void sha_hex(const char *path, char hex[2 * DLG_SHA256_LEN + 1])
{
	unsigned char d[DLG_SHA256_LEN];
	char err[128];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	if (dlg_sha256_fd(fd, d, err, sizeof err) != 0)
		fail_msg("%s: %s", path, err);
	close(fd);
	dlg_hex(d, DLG_SHA256_LEN, hex);
}

static struct dlg_policy *parse(const char *text)
{
	struct dlg_diags d = { 0 };
	struct dlg_policy *p = dlg_policy_parse_string(text, "startup.conf", &d);

	for (size_t i = 0; !p && i < d.n; i++)
		print_message("  line %u: %s\n", d.v[i].line, d.v[i].msg);
	assert_non_null(p);
	dlg_diags_free(&d);
	return p;
}

static const struct dlg_fingerprint *find(const struct dlg_policy *p, const char *name)
{
	for (size_t i = 0; i < p->n_startup; i++)
		if (strcmp(p->startup_fps[i].path, name) == 0)
			return &p->startup_fps[i];
	return NULL;
}

/* The record is what stat of name shows now, with no digest. */
static void expect_current(const struct dlg_fingerprint *f, const char *name)
{
	struct dlg_fingerprint want;
	struct stat st;

	assert_non_null(f);
	assert_int_equal(stat(name, &st), 0);
	memset(&want, 0, sizeof want);
	dlg_fp_set_stat(&want, &st);
	want.path = f->path;
	assert_memory_equal(f, &want, sizeof want);
}

/* A decision with nothing held against the file: no executable, no
 * lookup of one. The rows below check it first, so that a file left out
 * is left out for the reason the row is about. */
static enum dlg_action plain_decision(const struct dlg_policy *p, const char *name)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	struct dlg_db db;
	struct dlg_subject s;
	struct dlg_verdict v;
	char canon[PATH_MAX], err[256];
	enum dlg_action a;

	assert_non_null(realpath(name, canon));
	if (dlg_db_build(p, &buf, &len, err, sizeof err) != 0 ||
	    dlg_db_open_mem(&db, buf, len, err, sizeof err) != 0)
		fail_msg("policy: %s", err);
	memset(&s, 0, sizeof s);
	s.path = canon;
	s.fd = open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	assert_true(s.fd >= 0);
	a = dlg_decide(&db, &s, &v);
	close(s.fd);
	dlg_db_close(&db);
	free(buf);
	return a;
}

static bool always_settled(const struct stat *st, void *ctx)
{
	(void)st;
	(void)ctx;
	return true;
}

/* Settled but for the inode *ctx. */
static bool settled_but(const struct stat *st, void *ctx)
{
	return st->st_ino != *(const ino_t *)ctx;
}

static void need_fixtures(void)
{
	if (unusable) {
		print_message("  skipped: %s\n", unusable);
		skip();
	}
}

/* ---- which names get a verdict ------------------------------------------ */

/* An ed25519 key (public half at dir/k.pub) that signs dir/rel into
 * rel.sig. */
static void sign_fixture(const char *rel)
{
	unsigned char sig[DLG_SIG_MAX];
	char path[PATH_MAX], sigpath[PATH_MAX + 4], err[256];
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	size_t len = 0;
	FILE *f;
	int fd;

	assert_non_null(key);
	fx(path, "k.pub");
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_PUBKEY(f, key), 1);
	assert_int_equal(fclose(f), 0);
	fx(path, "%s", rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	if (dlg_sign_fd(key, DLG_KEY_ED25519, fd, sig, &len, err, sizeof err) != 0)
		fail_msg("sign: %s", err);
	close(fd);
	snprintf(sigpath, sizeof sigpath, "%s.sig", path);
	if (dlg_sign_write_file(sigpath, sig, len, 0, err, sizeof err) != 0)
		fail_msg("sign: %s", err);
	EVP_PKEY_free(key);
}

/* %1$s: the fixture directory, %2$s: the digest of ok/denyhash.so */
#define TABLE_POLICY                                                                    \
	"version = 1;\n" \
	"default = \"deny\";\n" \
	"keys = ( { name = \"k\"; public_key = \"%1$s/k.pub\"; } );\n" \
	"rules = (\n" \
	"  { action = \"deny\"; path = \"%1$s/ok/exedeny.so\"; exe = \"/nonexistent/evil\"; },\n" \
	"  { action = \"allow\"; path = \"%1$s/ok/exeonly.so\"; exe = \"/usr/bin/true\"; },\n" \
	"  { action = \"deny\"; path = \"%1$s/ok/exeonly.so\"; },\n" \
	"  { action = \"allow\"; path = \"%1$s/ok/recent.so\"; recent = 86400; },\n" \
	"  { action = \"deny\"; path = \"%1$s/ok/writable.so\"; writable = true; },\n" \
	"  { action = \"deny\"; path = \"%1$s/ok/sigdeny.so\"; signed_by = \"k\"; },\n" \
	"  { action = \"allow\"; path = \"%1$s/ok/signed.so\"; signed_by = \"k\"; },\n" \
	"  { action = \"deny\"; sha256 = \"%2$s\"; },\n" \
	"  { action = \"deny\"; path = \"%1$s/ok/denied.so\"; },\n" \
	"  { action = \"allow\"; dir = \"%1$s/ok\"; },\n" \
	"  { action = \"allow\"; dir = \"%1$s/ww\"; }\n" \
	");\n"

enum plain { P_ALLOW, P_DENY, P_NONE };

static const struct row {
	const char *name;       /* under the fixture directory; "@79"/"@80": that long in all */
	bool recorded;
	enum plain plain;       /* what a plain decision says (P_NONE: no file) */
} ROWS[] = {
	{ "ok/allowed.so", true, P_ALLOW },
	{ "ok/link.so", true, P_ALLOW },                /* symlink: under its own name */
	{ "ok/uplink.so", true, P_ALLOW },              /* to ../ok/allowed.so */
	{ "ok/abslink.so", true, P_ALLOW },             /* to an absolute path */
	{ "@79", true, P_ALLOW },                       /* DLG_STARTUP_NAME_MAX */
	{ "@80", false, P_ALLOW },                      /* one more */
	{ "ok/denied.so", false, P_DENY },
	{ "ok/denyhash.so", false, P_DENY },            /* sha256 deny before the dir allow */
	{ "ok/exeonly.so", false, P_DENY },             /* allowed only with an exe */
	{ "ok/exedeny.so", false, P_ALLOW },            /* denied with an exe */
	{ "ok/recent.so", false, P_ALLOW },
	{ "ok/writable.so", false, P_ALLOW },
	{ "ok/sigdeny.so", false, P_ALLOW },            /* a signed_by rule looked, found none */
	{ "ok/signed.so", false, P_ALLOW },             /* allowed by its signature */
	{ "ok/gw.so", false, P_ALLOW },                 /* 0664 */
	{ "ok/nobody.so", false, P_ALLOW },             /* owned by 65534 */
	{ "ww/inww.so", false, P_ALLOW },               /* in a 0777 directory */
	{ "ok/tounsafe.so", false, P_ALLOW },           /* links into it */
	{ "ww/fromunsafe.so", false, P_ALLOW },         /* a link in it */
	{ "ok/nested.so", false, P_ALLOW },             /* resolves through a link in it */
	{ "ok//allowed.so", false, P_ALLOW },
	{ "ok/./allowed.so", false, P_ALLOW },
	{ "ok/../ok/allowed.so", false, P_ALLOW },
	{ "ok/", false, P_NONE },
	{ "ok/missing.so", false, P_NONE },
};
#define N_ROWS (sizeof ROWS / sizeof ROWS[0])

/* dir/ok/lll...l, total bytes long. */
static void long_name(char *out, size_t total)
{
	char prefix[PATH_MAX];
	size_t n;

	fx(prefix, "ok/");
	n = strlen(prefix);
	if (total <= n || total - n > NAME_MAX)
		fail_msg("the fixture directory %s is too long for a %zu-byte name", dir, total);
	memcpy(out, prefix, n);
	memset(out + n, 'l', total - n);
	out[total] = '\0';
}

static void row_name(const struct row *r, char *out)
{
	if (r->name[0] == '@')
		long_name(out, (size_t)atoi(r->name + 1));
	else
		fx(out, "%s", r->name);
}

static void make_table_fixtures(void)
{
	static const char *const plain[] = { "ok/allowed.so", "ok/denied.so", "ok/denyhash.so",
					     "ok/exeonly.so", "ok/exedeny.so", "ok/recent.so",
					     "ok/writable.so", "ok/sigdeny.so", "ok/signed.so",
					     "ok/nobody.so", "ww/inww.so" };
	static const char *const links[][2] = {
		{ "allowed.so", "ok/link.so" }, { "../ok/allowed.so", "ok/uplink.so" },
		{ "../ww/inww.so", "ok/tounsafe.so" }, { "../ok/allowed.so", "ww/fromunsafe.so" },
		{ "../ok", "ww/dirlink" },
		{ "../ww/dirlink/allowed.so", "ok/nested.so" },
	};
	char path[PATH_MAX], target[PATH_MAX];

	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
		fixture(plain[i]);
	fx(path, "ok/gw.so");
	write_file(path, "gw", 0664);
	fx(path, "ok/nobody.so");
	assert_int_equal(chown(path, 65534, 65534), 0);
	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
		fx(path, "%s", links[i][1]);
		assert_int_equal(symlink(links[i][0], path), 0);
	}
	fx(path, "ok/abslink.so");
	fx(target, "ok/allowed.so");
	assert_int_equal(symlink(target, path), 0);
	long_name(path, DLG_STARTUP_NAME_MAX);
	write_file(path, "79", 0644);
	long_name(path, DLG_STARTUP_NAME_MAX + 1);
	write_file(path, "80", 0644);
	sign_fixture("ok/signed.so");
}

static void test_which(void **state)
{
	char names[N_ROWS][PATH_MAX], hex[2 * DLG_SHA256_LEN + 1], path[PATH_MAX];
	char text[sizeof TABLE_POLICY + 16 * PATH_MAX], err[256];
	const char *list[N_ROWS];
	struct dlg_startup_hooks hooks = { list, N_ROWS, always_settled, NULL };
	struct dlg_startup_stats st;
	struct dlg_policy *p;
	size_t want = 0;

	(void)state;
	need_fixtures();
	make_table_fixtures();
	fx(path, "ok/denyhash.so");
	sha_hex(path, hex);
	assert_true((size_t)snprintf(text, sizeof text, TABLE_POLICY, dir, hex) < sizeof text);
	p = parse(text);
	for (size_t i = 0; i < N_ROWS; i++) {
		row_name(&ROWS[i], names[i]);
		list[i] = names[i];
		if (ROWS[i].plain != P_NONE &&
		    plain_decision(p, names[i]) != (ROWS[i].plain == P_ALLOW ? DLG_ACTION_ALLOW
									    : DLG_ACTION_DENY))
			fail_msg("%s: a plain decision is not %s", ROWS[i].name,
				 ROWS[i].plain == P_ALLOW ? "allow" : "deny");
	}
	assert_int_equal(dlg_startup_collect(p, &hooks, &st, err, sizeof err), 0);
	for (size_t i = 0; i < N_ROWS; i++) {
		if ((find(p, names[i]) != NULL) != ROWS[i].recorded)
			fail_msg("%s: recorded %d, want %d", ROWS[i].name, find(p, names[i]) != NULL,
				 ROWS[i].recorded);
		if (ROWS[i].recorded)
			expect_current(find(p, names[i]), names[i]);
		want += ROWS[i].recorded;
	}
	assert_int_equal(p->n_startup, want);
	assert_int_equal(st.recorded, want);
	assert_int_equal(st.too_recent, 0);
	/* the rows, and the one canonical name none of them spells: dir/ok */
	assert_int_equal(st.candidates, N_ROWS + 1);
	/* a symlink's record is its target's file */
	assert_true(find(p, names[0])->ino == find(p, names[1])->ino);

	/* collecting again replaces what was there */
	hooks.n_names = 1;
	assert_int_equal(dlg_startup_collect(p, &hooks, &st, err, sizeof err), 0);
	assert_int_equal(p->n_startup, 1);
	expect_current(find(p, names[0]), names[0]);
	dlg_policy_free(p);
}

/* With default allow and no rules, every regular file that passes the
 * other checks is allowed; nothing else is. */
static void test_default_allow(void **state)
{
	char good[PATH_MAX], gw[PATH_MAX], fifo[PATH_MAX], sub[PATH_MAX], err[256];
	const char *list[] = { good, gw, fifo, sub };
	struct dlg_startup_hooks hooks = { list, 4, always_settled, NULL };
	struct dlg_startup_stats st;
	struct dlg_policy *p;

	(void)state;
	need_fixtures();
	fx(good, "ok/da-good.so");
	write_file(good, "good", 0644);
	fx(gw, "ok/da-gw.so");
	write_file(gw, "gw", 0660);
	fx(fifo, "ok/da-fifo.so");
	assert_int_equal(mkfifo(fifo, 0644), 0);
	fx(sub, "ok/da-dir.so");
	assert_int_equal(mkdir(sub, 0755), 0);
	p = parse("version = 1;\ndefault = \"allow\";\n");
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(plain_decision(p, list[i]), DLG_ACTION_ALLOW);
	assert_int_equal(dlg_startup_collect(p, &hooks, &st, err, sizeof err), 0);
	assert_int_equal(st.candidates, 4);
	assert_int_equal(st.recorded, 1);
	expect_current(find(p, good), good);
	dlg_policy_free(p);
}

/* A file not settled is counted, not recorded: through the hook, and by
 * the real clock for a file written just now. */
static void test_too_recent(void **state)
{
	char old[PATH_MAX], fresh[PATH_MAX], err[256];
	const char *list[] = { old, fresh };
	struct stat sf;
	struct dlg_startup_hooks hooks = { list, 2, settled_but, &sf.st_ino };
	struct dlg_startup_stats st;
	struct dlg_policy *p;

	(void)state;
	need_fixtures();
	p = parse("version = 1;\ndefault = \"allow\";\n");
	fx(old, "ok/tr-old.so");
	write_file(old, "old", 0644);
	fx(fresh, "ok/tr-fresh.so");
	write_file(fresh, "fresh", 0644);
	assert_int_equal(stat(fresh, &sf), 0);
	assert_int_equal(dlg_startup_collect(p, &hooks, &st, err, sizeof err), 0);
	assert_int_equal(st.candidates, 2);
	assert_int_equal(st.too_recent, 1);
	assert_int_equal(st.recorded, 1);
	assert_non_null(find(p, old));
	assert_null(find(p, fresh));

	hooks.settled = NULL;
	hooks.n_names = 1;
	list[0] = fresh;
	write_file(fresh, "fresher", 0644);
	assert_int_equal(dlg_startup_collect(p, &hooks, &st, err, sizeof err), 0);
	assert_int_equal(st.too_recent, 1);
	assert_int_equal(st.recorded, 0);
	dlg_policy_free(p);
}

static void noop_wait(const struct timespec *until, void *ctx)
{
	(void)until;
	(void)ctx;
}

/* The fingerprinted files are candidates too, and deciding on them uses
 * the fingerprints (the policy as compiled). */
static void test_fingerprint_candidates(void **state)
{
#define PIN_POLICY                                                                      \
	"version = 1;\ndefault = \"deny\";\n"                                              \
	"rules = ( { action = \"allow\"; path = \"%s\"; sha256 = \"%s\"; } );\n"
	char pinned[PATH_MAX], hex[2 * DLG_SHA256_LEN + 1], text[sizeof PIN_POLICY + PATH_MAX + 64];
	char err[256];
	const char *none[1] = { NULL };
	struct dlg_startup_hooks hooks = { none, 0, always_settled, NULL };
	struct dlg_fp_hooks fph = { noop_wait, NULL };
	struct dlg_fp_stats fps;
	struct dlg_startup_stats st;
	struct dlg_policy *p;

	(void)state;
	need_fixtures();
	fx(pinned, "ok/pinned.so");
	write_file(pinned, "pinned", 0644);
	sha_hex(pinned, hex);
	assert_true((size_t)snprintf(text, sizeof text, PIN_POLICY, pinned, hex) < sizeof text);
	p = parse(text);
	assert_int_equal(dlg_fingerprint_collect(p, &fph, &fps, err, sizeof err), 0);
	assert_int_equal(p->n_fprints, 1);
	assert_int_equal(dlg_startup_collect(p, &hooks, &st, err, sizeof err), 0);
	assert_int_equal(st.candidates, 1);
	assert_int_equal(st.recorded, 1);
	expect_current(find(p, pinned), pinned);
	dlg_policy_free(p);
}

/* ---- the names ld.so gives -------------------------------------------- */

struct seen {
	const char *want;
	size_t n;
	bool found;
};

static int see(const char *path, void *ctx)
{
	struct seen *s = ctx;

	s->n++;
	s->found |= strcmp(path, s->want) == 0;
	return 0;
}

static int stop_at_first(const char *path, void *ctx)
{
	(void)path;
	++*(int *)ctx;
	return 7;
}

static int interp_of_main(struct dl_phdr_info *info, size_t size, void *ctx)
{
	(void)size;
	for (size_t i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_INTERP)
			snprintf(ctx, PATH_MAX, "%s",
				 (const char *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr));
	return 1;       /* the first object is the program */
}

/* libc's name as ld.so.cache gives it is among the paths dlg_ldcache_each
 * lists, and without hooks both it and the loader's PT_INTERP name get a
 * verdict from a policy that allows everything. */
static void test_real_cache(void **state)
{
	struct dlg_hwcaps h;
	char libc[PATH_MAX], interp[PATH_MAX] = "", err[256];
	struct seen s = { libc, 0, false };
	struct dlg_startup_stats st;
	struct dlg_policy *p;
	int calls = 0;

	(void)state;
	dlg_hwcaps_init(&h);
	if (dlg_ldcache_lookup(LD_SO_CACHE, &h, "libc.so.6", libc, sizeof libc) != 0)
		skip();
	assert_int_equal(dlg_ldcache_each(LD_SO_CACHE, see, &s), 0);
	assert_true(s.found);
	assert_true(s.n > 1);
	assert_int_equal(dlg_ldcache_each(LD_SO_CACHE, stop_at_first, &calls), 7);
	assert_int_equal(calls, 1);

	dl_iterate_phdr(interp_of_main, interp);
	assert_true(interp[0] == '/');
	p = parse("version = 1;\ndefault = \"allow\";\n");
	assert_int_equal(dlg_startup_collect(p, NULL, &st, err, sizeof err), 0);
	expect_current(find(p, libc), libc);
	expect_current(find(p, interp), interp);
	dlg_policy_free(p);
}

/* A damaged copy of the cache is refused, whole or in part, without
 * reading outside it. */
static void test_cache_damaged(void **state)
{
	enum { NEW_HDR = 48, VALUE_OF_ENTRY0 = 48 + 8, NLIBS = 20 };
	static const struct {
		const char *what;
		long size;              /* truncate to; -1: keep, -2: half */
		long at;                /* then write 4 bytes 0xff here; -1: none */
		int want;               /* 7: the callback's first answer */
	} cases[] = {
		{ "intact", -1, -1, 7 },
		{ "empty", 0, -1, -1 },
		{ "8 bytes", 8, -1, -1 },
		{ "header - 1", NEW_HDR - 1, -1, -1 },
		{ "header only", NEW_HDR, -1, -1 },
		{ "half", -2, -1, -1 },
		{ "nlibs huge", -1, NLIBS, -1 },
		{ "entry 0 path outside", -1, VALUE_OF_ENTRY0, -1 },
		{ "magic", -1, 0, -1 },
	};
	static const unsigned char ff[4] = { 0xff, 0xff, 0xff, 0xff };
	char copy[PATH_MAX], magic[20];
	struct stat st;
	int src, n = 0;

	(void)state;
	need_fixtures();
	src = open(LD_SO_CACHE, O_RDONLY | O_CLOEXEC);
	if (src < 0 || fstat(src, &st) != 0 || pread(src, magic, sizeof magic, 0) != sizeof magic ||
	    memcmp(magic, "glibc-ld.so.cache1.1", sizeof magic) != 0)
		skip();         /* the offsets below are the new format's */
	fx(copy, "ld.so.cache");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char buf[65536];
		int fd = open(copy, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		off_t off = 0;
		ssize_t k;

		assert_true(fd >= 0);
		while ((k = pread(src, buf, sizeof buf, off)) > 0) {
			assert_int_equal(write(fd, buf, (size_t)k), k);
			off += k;
		}
		if (cases[i].size != -1)
			assert_int_equal(ftruncate(fd, cases[i].size == -2 ? st.st_size / 2
									   : cases[i].size), 0);
		if (cases[i].at >= 0)
			assert_int_equal(pwrite(fd, ff, sizeof ff, cases[i].at), (ssize_t)sizeof ff);
		close(fd);
		if (dlg_ldcache_each(copy, stop_at_first, &n) != cases[i].want)
			fail_msg("%s: not %d", cases[i].what, cases[i].want);
	}
	assert_int_equal(dlg_ldcache_each("/nonexistent/ld.so.cache", stop_at_first, &n), -1);
	close(src);
	unlink(copy);
}

/* ---- fixtures ------------------------------------------------------------ */

/* Every directory from / down to path: root's, not group or other
 * writable. */
static bool root_only_above(const char *path)
{
	char p[PATH_MAX];
	struct stat st;
	char *slash;

	snprintf(p, sizeof p, "%s", path);
	for (;;) {
		if (stat(p[0] ? p : "/", &st) != 0 || st.st_uid != 0 ||
		    (st.st_mode & (S_IWGRP | S_IWOTH)))
			return false;
		slash = strrchr(p, '/');
		if (!slash || !p[0])
			return true;
		*slash = '\0';
	}
}

static int setup(void **state)
{
	char base[PATH_MAX], made[PATH_MAX], sub[PATH_MAX];

	(void)state;
	if (geteuid() != 0) {
		unusable = "needs root (fixtures owned by root and by 65534)";
		return 0;
	}
	if (!realpath(DLG_TEST_BINDIR, base) || !root_only_above(base)) {
		unusable = "a directory above the build tree is writable by others than root";
		return 0;
	}
	if ((size_t)snprintf(made, sizeof made, "%s/su.XXXXXX", base) >= sizeof made ||
	    !mkdtemp(made) || chmod(made, 0755) != 0 || !realpath(made, dir))
		return -1;
	if ((size_t)snprintf(sub, sizeof sub, "%s/ok", dir) >= sizeof sub || mkdir(sub, 0755) != 0)
		return -1;
	/* chmod: mkdir's mode goes through the umask */
	if ((size_t)snprintf(sub, sizeof sub, "%s/ww", dir) >= sizeof sub || mkdir(sub, 0777) != 0)
		return -1;
	return chmod(sub, 0777);
}

static int rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	(void)state;
	return dir[0] ? nftw(dir, rm, 16, FTW_DEPTH | FTW_PHYS) : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_which),
		cmocka_unit_test(test_default_allow),
		cmocka_unit_test(test_too_recent),
		cmocka_unit_test(test_fingerprint_candidates),
		cmocka_unit_test(test_real_cache),
		cmocka_unit_test(test_cache_damaged),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
