/* Compiled policy: build, validate, decide, and refuse every damaged file.
 *
 * Policies are built here as struct dlg_policy so these tests do not depend on
 * the text parser. Buffers handed to dlg_db_open_mem are malloc'ed at their
 * exact length so ASan reports any read past the end. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include "digest.h"
#include "fdpath.h"
#include "policy_db.h"

/* The on-disk layout (docs/compiled-format.md), restated so a change to it
 * is a deliberate change to these tests too. */
#define HDR 192
#define RULE_SIZE 64
#define KEY_SIZE 16
#define MAN_SIZE 64
#define ENTRY_SIZE 36
#define O_VERSION 8
#define O_HSIZE 12
#define O_FSIZE 16
#define O_MODE 24
#define O_DEFAULT 28
#define O_FLAGS 32
#define O_LOGFILE 36
#define O_SOURCE 40
#define O_NRULES 44
#define O_RULES 48
#define O_NDIGESTS 52
#define O_DIGESTS 56
#define O_STRINGS 60
#define O_STRLEN 64
#define O_NKEYS 68
#define O_KEYS 72
#define O_NKEYREFS 76
#define O_KEYREFS 80
#define O_NMANIFESTS 84
#define O_MANIFESTS 88
#define O_NENTRIES 92
#define O_ENTRIES 96
#define O_BLOB 100
#define O_BLOBLEN 104
#define O_SIGDIR 108
#define O_NVALUES 112
#define O_VALUES 116
#define O_ENVSTRIP 120
#define O_NDIRS 124
#define O_DIRS 128
#define O_DIRSTR 132
#define O_DIRSTRLEN 136
#define O_NREFS 140
#define O_REFS 144
#define O_NPATHS 148
#define O_PATHS 152
#define O_FREEFIRST 156
#define O_FREECOUNT 160
#define O_FIRSTDIGEST 164
#define O_NFPRINTS 168
#define O_FPRINTS 172
#define O_NBOOT 176
#define O_BOOT 180
#define O_RESERVED 184
#define DIG_SIZE 36
#define DIR_SIZE 20
#define PATH_SIZE 16
#define R_ACTION 0
#define R_PATH 8
#define R_DIR 12
#define R_EXE 16
#define R_RESERVED 20
#define R_COUNT 24
#define R_KFIRST 28
#define R_KCOUNT 32
#define R_MANIFEST 36
#define R_RISK 40
#define R_RECENT 44
#define R_OFIRST 48
#define R_OCOUNT 52
#define R_FFIRST 56
#define R_FCOUNT 60
#define K_NAME 0
#define K_TYPE 4
#define K_DEROFF 8
#define K_DERLEN 12
#define M_PATH 0
#define M_KEY 4
#define M_SIGOFF 8
#define M_SIGLEN 12
#define M_FIRST 16
#define M_COUNT 20
#define M_RESERVED 56
#define FP_SIZE 88
#define FP_DEV 0
#define FP_INO 8
#define FP_SIZEF 16
#define FP_MTIME 24
#define FP_CTIME 32
#define FP_MNSEC 40
#define FP_CNSEC 44
#define FP_SHA256 48
#define FP_PATH 80
#define FP_RESERVED 84
#define NONE 0xFFFFFFFFu

/* SHA-256 of "abc" (FIPS 180-2 example), the content of the hashed fixture. */
static const char ABC_HEX[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

static char tmpdir[PATH_MAX];
/* A real file (reference_db fingerprints it) and the path its fingerprint
 * names, so exercise() reaches a fingerprint that matches. */
static char ref_file[PATH_MAX];
#define REF_FP_PATH "/opt/f/ref.so"

static void hex32(const char *hex, unsigned char out[DLG_SHA256_LEN])
{
	for (int i = 0; i < DLG_SHA256_LEN; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (unsigned char)v;
	}
}

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void wr64(unsigned char *p, uint64_t v)
{
	wr32(p, (uint32_t)v);
	wr32(p + 4, (uint32_t)(v >> 32));
}

static void tmp_path(char *out, const char *name)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", tmpdir, name);

	assert_true(n > 0 && n < PATH_MAX);
}

static void write_fixture(const char *path, const char *content)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	assert_int_equal(close(fd), 0);
}

/* The fingerprint of the file open on fd, claiming digest sha under path. */
static struct dlg_fingerprint fp_of(int fd, const char *path, const unsigned char *sha)
{
	struct dlg_fingerprint f;
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	memset(&f, 0, sizeof f);
	f.dev = (uint64_t)st.st_dev;
	f.ino = (uint64_t)st.st_ino;
	f.size = (int64_t)st.st_size;
	f.mtime_sec = (int64_t)st.st_mtim.tv_sec;
	f.mtime_nsec = (uint32_t)st.st_mtim.tv_nsec;
	f.ctime_sec = (int64_t)st.st_ctim.tv_sec;
	f.ctime_nsec = (uint32_t)st.st_ctim.tv_nsec;
	memcpy(f.sha256, sha, DLG_SHA256_LEN);
	f.path = (char *)path;
	return f;
}

static struct dlg_rule mkrule(enum dlg_action a, unsigned line, const char *path,
			      const char *dir, const char *exe,
			      unsigned char (*sha)[DLG_SHA256_LEN], size_t n)
{
	struct dlg_rule r = {
		.action = a, .line = line, .path = (char *)path, .dir = (char *)dir,
		.exe = (char *)exe, .sha256 = sha, .n_sha256 = n,
	};
	return r;
}

static struct dlg_policy mkpolicy(struct dlg_rule *rules, size_t n, enum dlg_action def)
{
	struct dlg_policy p = {
		.source = (char *)"/etc/dlguard/test.conf", .version = 1,
		.mode = DLG_MODE_ENFORCE, .default_action = def,
		.rules = rules, .n_rules = n,
	};
	return p;
}

/* Builds and copies into an exact-size buffer. */
static unsigned char *build(const struct dlg_policy *p, size_t *len)
{
	unsigned char *buf = NULL;
	char err[256] = "";

	if (dlg_db_build(p, &buf, len, err, sizeof err) != 0)
		fail_msg("build: %s", err);
	return buf;
}

static unsigned char *dup_exact(const unsigned char *b, size_t len)
{
	unsigned char *c = malloc(len ? len : 1);

	assert_non_null(c);
	if (len)
		memcpy(c, b, len);
	return c;
}

/* ------------------------------------------------------------- deciding */

enum fdk { FD_NONE, FD_ABC, FD_OTHER };

struct decide_case {
	const char *path;
	const char *exe;
	enum fdk fd;
	enum dlg_action want;
	uint32_t rule;
	const char *reason;     /* exact; NULL: not checked */
	bool hash_failed;
	bool hashed;
};

static void run_cases(const struct dlg_db *db, const struct decide_case *c, size_t n,
		      int fd_abc, int fd_other)
{
	for (size_t i = 0; i < n; i++) {
		struct dlg_subject s = { .path = c[i].path, .exe = c[i].exe, .fd = -1 };
		struct dlg_verdict v;

		if (c[i].fd == FD_ABC)
			s.fd = fd_abc;
		else if (c[i].fd == FD_OTHER)
			s.fd = fd_other;
		memset(&v, 0x5a, sizeof v);
		if (dlg_decide(db, &s, &v) != c[i].want || v.action != c[i].want ||
		    v.rule != c[i].rule || s.hash_failed != c[i].hash_failed ||
		    s.have_sha256 != c[i].hashed ||
		    (c[i].reason && strcmp(v.reason, c[i].reason) != 0))
			fail_msg("case %zu (%s): action %d rule %u hash_failed %d hashed %d reason '%s'",
				 i, c[i].path, v.action, v.rule, s.hash_failed, s.have_sha256,
				 v.reason);
		assert_true(strlen(v.reason) < sizeof v.reason);
	}
}

static void test_decide(void **state)
{
	char abc[PATH_MAX], other[PATH_MAX], r4[PATH_MAX + 64], r9[PATH_MAX + 64];
	unsigned char dg[3][DLG_SHA256_LEN];
	unsigned char dx[1][DLG_SHA256_LEN];
	struct dlg_rule rules[10];
	struct dlg_policy p;
	struct dlg_db db;
	unsigned char *buf;
	size_t len;
	char err[256];
	int fd_abc, fd_other;

	(void)state;
	tmp_path(abc, "abc.so");
	tmp_path(other, "other.so");
	write_fixture(abc, "abc");
	write_fixture(other, "abd");
	memset(dg, 0x11, sizeof dg);
	memset(dg[2], 0xee, sizeof dg[2]);
	hex32(ABC_HEX, dg[1]);
	memset(dx, 0x22, sizeof dx);
	rules[0] = mkrule(DLG_ACTION_DENY, 10, "/opt/app/lib/bad.so", NULL, NULL, NULL, 0);
	rules[1] = mkrule(DLG_ACTION_ALLOW, 11, NULL, "/opt/a", NULL, NULL, 0);
	rules[2] = mkrule(DLG_ACTION_ALLOW, 12, NULL, "/usr/lib", "/usr/bin/trusted", NULL, 0);
	rules[3] = mkrule(DLG_ACTION_ALLOW, 13, abc, NULL, NULL, dg, 3);
	rules[4] = mkrule(DLG_ACTION_DENY, 14, NULL, "/", "/usr/bin/jail", NULL, 0);
	rules[5] = mkrule(DLG_ACTION_ALLOW, 15, "/opt/app/lib/bad.so", NULL, NULL, NULL, 0);
	rules[6] = mkrule(DLG_ACTION_ALLOW, 16, NULL, "/srv", NULL, NULL, 0);
	rules[7] = mkrule(DLG_ACTION_DENY, 17, "/srv/x.so", NULL, NULL, NULL, 0);
	/* exe then digest: a wrong exe must not cost a hash */
	rules[8] = mkrule(DLG_ACTION_ALLOW, 18, NULL, "/var", "/usr/bin/v", dx, 1);
	rules[9] = mkrule(DLG_ACTION_ALLOW, 19, other, NULL, NULL, dg, 3);
	p = mkpolicy(rules, 10, DLG_ACTION_DENY);
	buf = build(&p, &len);
	assert_int_equal(dlg_db_open_mem(&db, buf, len, err, sizeof err), 0);
	snprintf(r4, sizeof r4, "rule 4 (line 13): allow path %s sha256 matches", abc);
	snprintf(r9, sizeof r9, "rule 4 (line 13): cannot hash: no file descriptor");

	const struct decide_case cases[] = {
		{ "/opt/app/lib/bad.so", NULL, FD_NONE, DLG_ACTION_DENY, 1,
		  "rule 1 (line 10): deny path /opt/app/lib/bad.so", false, false },
		{ "/opt/app/lib/bad.so2", NULL, FD_NONE, DLG_ACTION_DENY, 0,
		  "no rule matched; default deny", false, false },
		{ "/opt/a/x.so", NULL, FD_NONE, DLG_ACTION_ALLOW, 2,
		  "rule 2 (line 11): allow dir /opt/a", false, false },
		{ "/opt/a/b/c/x.so", NULL, FD_NONE, DLG_ACTION_ALLOW, 2, NULL, false, false },
		{ "/opt/ab/x.so", NULL, FD_NONE, DLG_ACTION_DENY, 0, NULL, false, false },
		{ "/opt/a", NULL, FD_NONE, DLG_ACTION_DENY, 0, NULL, false, false },
		{ "/opt/a/", NULL, FD_NONE, DLG_ACTION_DENY, 0, NULL, false, false },
		{ "/opt", NULL, FD_NONE, DLG_ACTION_DENY, 0, NULL, false, false },
		{ "/usr/lib/libz.so", "/usr/bin/trusted", FD_NONE, DLG_ACTION_ALLOW, 3,
		  "rule 3 (line 12): allow dir /usr/lib exe /usr/bin/trusted", false, false },
		{ "/usr/lib/libz.so", "/usr/bin/trusted2", FD_NONE, DLG_ACTION_DENY, 0, NULL,
		  false, false },
		{ "/usr/lib/libz.so", NULL, FD_NONE, DLG_ACTION_DENY, 0, NULL, false, false },
		/* digest: hit from a real fd, hashed lazily */
		{ abc, NULL, FD_ABC, DLG_ACTION_ALLOW, 4, r4, false, true },
		/* digest: no fd is a hashing failure, and denies whatever follows */
		{ abc, "/usr/bin/jail", FD_NONE, DLG_ACTION_DENY, 4, r9, true, false },
		/* digest miss: content "abd" under the rule's path falls through */
		{ abc, NULL, FD_OTHER, DLG_ACTION_DENY, 0, NULL, false, true },
		/* dir "/" holds every absolute path, but not "/" itself */
		{ "/x.so", "/usr/bin/jail", FD_NONE, DLG_ACTION_DENY, 5,
		  "rule 5 (line 14): deny dir / exe /usr/bin/jail", false, false },
		{ "/srv/y/z.so", "/usr/bin/jail", FD_NONE, DLG_ACTION_DENY, 5, NULL, false, false },
		{ "/", "/usr/bin/jail", FD_NONE, DLG_ACTION_DENY, 0, NULL, false, false },
		/* first match: rule 7 (allow dir /srv) shadows rule 8 */
		{ "/srv/x.so", NULL, FD_NONE, DLG_ACTION_ALLOW, 7, NULL, false, false },
		/* wrong exe, no fd: the digest condition is never reached */
		{ "/var/lib/q.so", "/usr/bin/w", FD_NONE, DLG_ACTION_DENY, 0, NULL, false, false },
		{ "/var/lib/q.so", NULL, FD_NONE, DLG_ACTION_DENY, 0, NULL, false, false },
		/* right exe, no fd: now it is reached and fails */
		{ "/var/lib/q.so", "/usr/bin/v", FD_NONE, DLG_ACTION_DENY, 9, NULL, true, false },
		/* the other file's own digest is not in rule 10's slice */
		{ other, NULL, FD_OTHER, DLG_ACTION_DENY, 0, NULL, false, true },
		/* an "abc" fd presented under other's path hits rule 10 */
		{ other, NULL, FD_ABC, DLG_ACTION_ALLOW, 10, NULL, false, true },
		{ "", NULL, FD_NONE, DLG_ACTION_DENY, 0, NULL, false, false },
		{ "relative/x.so", NULL, FD_NONE, DLG_ACTION_DENY, 0, NULL, false, false },
	};

	fd_abc = open(abc, O_RDONLY | O_CLOEXEC);
	fd_other = open(other, O_RDONLY | O_CLOEXEC);
	assert_true(fd_abc >= 0 && fd_other >= 0);
	run_cases(&db, cases, sizeof cases / sizeof cases[0], fd_abc, fd_other);

	/* default allow, same rules */
	p.default_action = DLG_ACTION_ALLOW;
	free(buf);
	buf = build(&p, &len);
	assert_int_equal(dlg_db_open_mem(&db, buf, len, err, sizeof err), 0);
	const struct decide_case allow[] = {
		{ "/nowhere/x.so", NULL, FD_NONE, DLG_ACTION_ALLOW, 0,
		  "no rule matched; default allow", false, false },
		{ "/opt/app/lib/bad.so", NULL, FD_NONE, DLG_ACTION_DENY, 1, NULL, false, false },
		{ abc, NULL, FD_OTHER, DLG_ACTION_ALLOW, 0, NULL, false, true },
	};
	run_cases(&db, allow, sizeof allow / sizeof allow[0], fd_abc, fd_other);

	close(fd_abc);
	close(fd_other);
	unlink(abc);
	unlink(other);
	free(buf);
}

/* A digest supplied by the caller is used as is: no fd needed, no hashing. */
static void test_decide_known_digest(void **state)
{
	unsigned char d[2][DLG_SHA256_LEN];
	struct dlg_rule r[1];
	struct dlg_policy p;
	struct dlg_subject s = { .path = "/any/x.so", .fd = -1, .have_sha256 = true };
	struct dlg_verdict v;
	struct dlg_db db;
	unsigned char *buf;
	size_t len;

	(void)state;
	memset(d[0], 0x01, DLG_SHA256_LEN);
	memset(d[1], 0x02, DLG_SHA256_LEN);
	r[0] = mkrule(DLG_ACTION_ALLOW, 3, NULL, NULL, NULL, d, 2);
	p = mkpolicy(r, 1, DLG_ACTION_DENY);
	buf = build(&p, &len);
	assert_int_equal(dlg_db_open_mem(&db, buf, len, NULL, 0), 0);

	memcpy(s.sha256, d[1], DLG_SHA256_LEN);
	assert_int_equal(dlg_decide(&db, &s, &v), DLG_ACTION_ALLOW);
	assert_string_equal(v.reason, "rule 1 (line 3): allow sha256 matches");
	assert_int_equal(v.line, 3);
	s.sha256[31] ^= 1;
	assert_int_equal(dlg_decide(&db, &s, &v), DLG_ACTION_DENY);
	assert_int_equal(v.rule, 0);
	assert_int_equal(v.line, 0);
	assert_false(s.hash_failed);
	s.have_sha256 = false;
	assert_int_equal(dlg_decide(&db, &s, &v), DLG_ACTION_DENY);
	assert_true(s.hash_failed);
	assert_int_equal(v.rule, 1);
	free(buf);
}

/* Decide on an unopened db or without a path: deny, never crash. */
static void test_decide_no_policy(void **state)
{
	struct dlg_db db;
	struct dlg_subject s = { .path = "/x.so", .fd = -1 };
	struct dlg_verdict v;

	(void)state;
	memset(&db, 0, sizeof db);
	assert_int_equal(dlg_decide(&db, &s, &v), DLG_ACTION_DENY);
	assert_int_equal(dlg_decide(NULL, &s, &v), DLG_ACTION_DENY);
	s.path = NULL;
	assert_int_equal(dlg_decide(&db, &s, &v), DLG_ACTION_DENY);
	assert_int_equal(v.rule, 0);
}

/* Reasons longer than the buffer are cut with "..." and stay terminated. */
static void test_reason_truncated(void **state)
{
	char longp[400];
	struct dlg_rule r[1];
	struct dlg_policy p;
	struct dlg_verdict v;
	struct dlg_db db;
	unsigned char *buf;
	size_t len;

	(void)state;
	memset(longp, 'a', sizeof longp - 1);
	longp[0] = '/';
	longp[sizeof longp - 1] = '\0';
	r[0] = mkrule(DLG_ACTION_ALLOW, 1, longp, NULL, NULL, NULL, 0);
	p = mkpolicy(r, 1, DLG_ACTION_DENY);
	buf = build(&p, &len);
	assert_int_equal(dlg_db_open_mem(&db, buf, len, NULL, 0), 0);
	struct dlg_subject s = { .path = longp, .fd = -1 };
	assert_int_equal(dlg_decide(&db, &s, &v), DLG_ACTION_ALLOW);
	assert_int_equal(strlen(v.reason), sizeof v.reason - 1);
	assert_string_equal(v.reason + sizeof v.reason - 4, "...");
	assert_memory_equal(v.reason, "rule 1 (line 1): allow path /aaa", 32);
	free(buf);
}

/* -------------------------------------------------------------- building */

static void test_accessor_and_dedupe(void **state)
{
	unsigned char d[3][DLG_SHA256_LEN];
	struct dlg_rule r[3];
	struct dlg_policy p;
	struct dlg_db_rule_view a, b;
	struct dlg_db db;
	unsigned char *buf, *buf2;
	size_t len, len2;

	(void)state;
	memset(d[0], 0x30, DLG_SHA256_LEN);
	memset(d[1], 0x10, DLG_SHA256_LEN);
	memset(d[2], 0x30, DLG_SHA256_LEN);   /* duplicate of d[0] */
	r[0] = mkrule(DLG_ACTION_ALLOW, 7, "/opt/x.so", "/opt", "/bin/e", d, 3);
	r[1] = mkrule(DLG_ACTION_DENY, 9, "/opt/x.so", NULL, NULL, NULL, 0);
	r[2] = mkrule(DLG_ACTION_DENY, 11, NULL, "/", NULL, NULL, 0);
	p = mkpolicy(r, 3, DLG_ACTION_ALLOW);
	p.mode = DLG_MODE_AUDIT;
	p.log_syslog = true;
	p.log_file = (char *)"/var/log/dlguard.log";
	buf = build(&p, &len);
	assert_int_equal(dlg_db_open_mem(&db, buf, len, NULL, 0), 0);
	assert_int_equal(db.mode, DLG_MODE_AUDIT);
	assert_int_equal(db.default_action, DLG_ACTION_ALLOW);
	assert_true(db.log_syslog);
	assert_false(db.log_stderr);
	assert_string_equal(db.log_file, "/var/log/dlguard.log");
	assert_string_equal(db.source, "/etc/dlguard/test.conf");
	assert_int_equal(db.n_rules, 3);
	assert_int_equal(db.n_digests, 2);

	assert_true(dlg_db_rule(&db, 0, &a));
	assert_int_equal(a.action, DLG_ACTION_ALLOW);
	assert_int_equal(a.line, 7);
	assert_string_equal(a.path, "/opt/x.so");
	assert_string_equal(a.dir, "/opt");
	assert_string_equal(a.exe, "/bin/e");
	assert_int_equal(a.n_sha256, 2);
	assert_true(dlg_db_rule(&db, 1, &b));
	assert_ptr_equal(a.path, b.path);     /* one copy in the pool */
	assert_null(b.dir);
	assert_null(b.exe);
	assert_int_equal(b.n_sha256, 0);
	assert_true(dlg_db_rule(&db, 2, &b));
	assert_string_equal(b.dir, "/");
	assert_false(dlg_db_rule(&db, 3, &b));
	assert_false(dlg_db_rule(&db, UINT32_MAX, &b));

	/* the slice is sorted: 0x10.. before 0x30.. */
	assert_int_equal(db.digests[0], 0x10);
	assert_int_equal(db.digests[DIG_SIZE], 0x30);

	/* deterministic output */
	buf2 = build(&p, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, buf2, len);

	/* no log file, no source */
	p.log_file = NULL;
	p.source = NULL;
	p.log_stderr = true;
	free(buf2);
	buf2 = build(&p, &len2);
	assert_int_equal(dlg_db_open_mem(&db, buf2, len2, NULL, 0), 0);
	assert_null(db.log_file);
	assert_string_equal(db.source, "");
	assert_true(db.log_stderr);
	free(buf);
	free(buf2);
}

static void test_empty_policy(void **state)
{
	struct dlg_policy p = mkpolicy(NULL, 0, DLG_ACTION_ALLOW);
	struct dlg_subject s = { .path = "/x.so", .fd = -1 };
	struct dlg_verdict v;
	struct dlg_db db;
	unsigned char *buf;
	size_t len;

	(void)state;
	buf = build(&p, &len);
	assert_int_equal(dlg_db_open_mem(&db, buf, len, NULL, 0), 0);
	assert_int_equal(db.n_rules, 0);
	assert_int_equal(dlg_decide(&db, &s, &v), DLG_ACTION_ALLOW);
	free(buf);
}

struct bad_policy {
	const char *what;
	struct dlg_rule rule;
	int mode, def;
	const char *log_file;
};

static void test_build_refuses(void **state)
{
	static unsigned char d[1][DLG_SHA256_LEN];
	const struct bad_policy cases[] = {
		{ "bad action 0", mkrule(0, 1, "/a", NULL, NULL, NULL, 0), 0, 2, NULL },
		{ "bad action 3", mkrule(3, 1, "/a", NULL, NULL, NULL, 0), 0, 2, NULL },
		{ "no condition", mkrule(DLG_ACTION_ALLOW, 1, NULL, NULL, NULL, NULL, 0), 0, 2, NULL },
		{ "not absolute", mkrule(DLG_ACTION_ALLOW, 1, "a.so", NULL, NULL, NULL, 0), 0, 2, NULL },
		{ "not absolute", mkrule(DLG_ACTION_ALLOW, 1, NULL, "", NULL, NULL, 0), 0, 2, NULL },
		{ "not absolute", mkrule(DLG_ACTION_ALLOW, 1, NULL, NULL, "e", NULL, 0), 0, 2, NULL },
		{ "ends with '/'", mkrule(DLG_ACTION_ALLOW, 1, NULL, "/opt/", NULL, NULL, 0), 0, 2, NULL },
		{ "digest list missing", mkrule(DLG_ACTION_ALLOW, 1, NULL, NULL, NULL, NULL, 1), 0, 2, NULL },
		{ "bad mode", mkrule(DLG_ACTION_ALLOW, 1, "/a", NULL, NULL, d, 1), 2, 2, NULL },
		{ "default", mkrule(DLG_ACTION_ALLOW, 1, "/a", NULL, NULL, d, 1), 0, 0, NULL },
		{ "log file", mkrule(DLG_ACTION_ALLOW, 1, "/a", NULL, NULL, d, 1), 0, 2, "x.log" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct dlg_rule r = cases[i].rule;
		struct dlg_policy p = mkpolicy(&r, 1, (enum dlg_action)cases[i].def);
		unsigned char *buf = (unsigned char *)&p;
		size_t len = 1;
		char err[256] = "";

		p.mode = (enum dlg_mode)cases[i].mode;
		p.log_file = (char *)cases[i].log_file;
		if (dlg_db_build(&p, &buf, &len, err, sizeof err) != -1 || buf != NULL ||
		    len != 0 || !strstr(err, cases[i].what))
			fail_msg("case %zu (%s): err '%s'", i, cases[i].what, err);
	}
}

/* ----------------------------------------------------------- validating */

/* A policy with every kind of field present, for the damage tests: digests,
 * keys (their DER is not parsed when opening, so any bytes do), signed_by
 * lists, a manifest with entries, a signature directory. */
static unsigned char *reference_db(size_t *len)
{
	static unsigned char d[2][DLG_SHA256_LEN], der0[40], der1[33], msig[70];
	static struct dlg_rule r[7];
	static uint32_t owners[3] = { 1000, 0, 1000 }, fs[2] = { TMPFS_MAGIC, NFS_SUPER_MAGIC };
	static uint32_t fs_only[1] = { NFS_SUPER_MAGIC };
	static struct dlg_key keys[2];
	static struct dlg_manifest_entry ents[3];
	static struct dlg_manifest man;
	static size_t both[2] = { 0, 1 }, first[1] = { 0 };
	static struct dlg_fingerprint fps[2];
	struct dlg_policy p;
	int fd;

	memset(d[0], 0xaa, DLG_SHA256_LEN);
	memset(d[1], 0x55, DLG_SHA256_LEN);
	memset(der0, 0x30, sizeof der0);
	memset(der1, 0x31, sizeof der1);
	memset(msig, 0x77, sizeof msig);
	keys[0] = (struct dlg_key){ .name = (char *)"vendor", .type = DLG_KEY_ED25519,
				    .der = der0, .der_len = sizeof der0 };
	keys[1] = (struct dlg_key){ .name = (char *)"other", .type = DLG_KEY_ECDSA_P256,
				    .der = der1, .der_len = sizeof der1 };
	ents[0].path = (char *)"/opt/m/b.so";
	memset(ents[0].sha256, 0x22, DLG_SHA256_LEN);
	ents[1].path = (char *)"/opt/m/a.so";
	memset(ents[1].sha256, 0x11, DLG_SHA256_LEN);
	ents[2].path = (char *)"/opt/m/c.so";
	memset(ents[2].sha256, 0x33, DLG_SHA256_LEN);
	man = (struct dlg_manifest){ .path = (char *)"/etc/dlguard/app.sha256", .sig = msig,
				     .sig_len = sizeof msig, .key = 0, .entries = ents,
				     .n_entries = 3 };
	memset(man.sha256, 0x44, DLG_SHA256_LEN);
	r[0] = mkrule(DLG_ACTION_ALLOW, 5, "/opt/p/x.so", "/opt/p", "/usr/bin/app", d, 2);
	r[1] = mkrule(DLG_ACTION_DENY, 6, NULL, "/tmp", NULL, NULL, 0);
	r[2] = mkrule(DLG_ACTION_ALLOW, 7, NULL, "/", NULL, d, 1);
	r[3] = mkrule(DLG_ACTION_ALLOW, 8, NULL, "/opt/s", NULL, NULL, 0);
	r[3].signed_by = both;
	r[3].n_signed_by = 2;
	r[4] = mkrule(DLG_ACTION_ALLOW, 9, NULL, NULL, NULL, NULL, 0);
	r[4].signed_by = first;
	r[4].n_signed_by = 1;
	r[4].manifest = &man;
	/* format 3: risk conditions (values: owners 0, 1000; fs nfs, tmpfs; nfs) */
	r[2].risk = DLG_RISK_FILELESS | DLG_RISK_WRITABLE;
	r[2].recent = 60;
	r[3].owners = owners;
	r[3].n_owners = 3;
	r[3].fs = fs;
	r[3].n_fs = 2;
	r[5] = mkrule(DLG_ACTION_DENY, 10, NULL, NULL, NULL, NULL, 0);
	r[5].fs = fs_only;
	r[5].n_fs = 1;
	/* format 4: a digest-anchored rule */
	r[6] = mkrule(DLG_ACTION_ALLOW, 11, NULL, NULL, NULL, &d[1], 1);
	p = mkpolicy(r, 7, DLG_ACTION_DENY);
	p.log_file = (char *)"/var/log/dlguard.log";
	p.log_stderr = true;
	p.keys = keys;
	p.n_keys = 2;
	p.sig_dir = (char *)"/var/lib/dlguard/sigs";
	p.startup = DLG_STARTUP_KILL;
	p.deny_untrusted_preload = true;
	p.env_strip = DLG_ENV_LD_PRELOAD | DLG_ENV_LD_AUDIT;
	/* fingerprints: a real file, claimed to hold d[1] (so rule 7 allows it
	 * under REF_FP_PATH without reading it), and a made-up inode 1 on the
	 * same device, listed first (the writer sorts by ino) */
	tmp_path(ref_file, "ref.so");
	write_fixture(ref_file, "reference");
	fd = open(ref_file, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	fps[0] = fp_of(fd, REF_FP_PATH, d[1]);
	close(fd);
	fps[1] = fps[0];
	fps[1].ino = 1;
	fps[1].path = (char *)"/opt/m/a.so";
	memcpy(fps[1].sha256, d[0], DLG_SHA256_LEN);
	p.fprints = fps;
	p.n_fprints = 2;
	return build(&p, len);
}

/* Every API on an accepted db, to show it stays in bounds. */
static void exercise(const struct dlg_db *db)
{
	static const char *const paths[] = { "/opt/p/x.so", "/tmp/a.so", "/x.so", "/",
					     "/opt/s/y.so", "/opt/m/a.so", "/opt/m/b.so",
					     "/opt/m/c.so", "/opt/m/d.so" };
	struct dlg_db_manifest_view mv;
	struct dlg_db_key_view kv;
	uint32_t k;
	struct dlg_db_rule_view rv;
	struct dlg_verdict v;

	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		struct dlg_subject s = { .path = paths[i], .exe = "/usr/bin/app", .fd = -1 };

		dlg_decide(db, &s, &v);
		assert_true(v.action == DLG_ACTION_ALLOW || v.action == DLG_ACTION_DENY);
		assert_true(strlen(v.reason) < sizeof v.reason);
		memset(s.sha256, 0xaa, sizeof s.sha256);
		s.have_sha256 = true;
		dlg_decide(db, &s, &v);
	}
	/* the fingerprinted file, through the fingerprint lookup */
	if (ref_file[0]) {
		struct dlg_subject s = { .path = REF_FP_PATH, .fd = open(ref_file, O_RDONLY) };

		assert_true(s.fd >= 0);
		dlg_decide(db, &s, &v);
		assert_true(v.action == DLG_ACTION_ALLOW || v.action == DLG_ACTION_DENY);
		close(s.fd);
	}
	for (uint32_t i = 0; i <= db->n_rules; i++) {
		if (dlg_db_rule(db, i, &rv)) {
			if (rv.path)
				assert_true(strlen(rv.path) < db->strings_len);
			if (rv.dir)
				assert_true(strlen(rv.dir) < db->strings_len);
			if (rv.exe)
				assert_true(strlen(rv.exe) < db->strings_len);
		}
	}
	for (uint32_t i = 0; i <= db->n_rules; i++)
		for (uint32_t j = 0; j < 3; j++)
			if (dlg_db_rule_key(db, i, j, &k))
				assert_true(k < db->n_keys);
	for (uint32_t i = 0; i <= db->n_rules; i++)
		for (uint32_t j = 0; j < 3; j++)
			(void)(dlg_db_rule_value(db, i, false, j, &k) &&
			       dlg_db_rule_value(db, i, true, j, &k));
	for (uint32_t i = 0; i <= db->n_keys; i++)
		if (dlg_db_key(db, i, &kv))
			assert_true(kv.der >= db->blob && kv.der + kv.der_len <= db->blob + db->blob_len);
	for (uint32_t i = 0; i <= db->n_manifests; i++)
		if (dlg_db_manifest(db, i, &mv))
			assert_true(mv.sig + mv.sig_len <= db->blob + db->blob_len);
	if (db->log_file)
		assert_true(strlen(db->log_file) < db->strings_len);
	if (db->sig_dir)
		assert_true(strlen(db->sig_dir) < db->strings_len);
	assert_true(strlen(db->source) < db->strings_len);
}

static void test_truncated(void **state)
{
	unsigned char *ref, *c;
	size_t len;
	struct dlg_db db;
	char err[256];

	(void)state;
	ref = reference_db(&len);
	c = dup_exact(ref, len);
	assert_int_equal(dlg_db_open_mem(&db, c, len, err, sizeof err), 0);
	free(c);
	for (size_t n = 0; n < len; n++) {
		c = dup_exact(ref, n);
		err[0] = '\0';
		if (dlg_db_open_mem(&db, c, n, err, sizeof err) != -1 || err[0] == '\0')
			fail_msg("truncated to %zu bytes: accepted", n);
		assert_null(db.base);
		free(c);
	}
	assert_int_equal(dlg_db_open_mem(&db, NULL, len, err, sizeof err), -1);
	free(ref);
}

/* Every byte of the file changed in three ways: never a crash or an
 * out-of-bounds read, and whatever is accepted behaves. */
/* Header fields a changed byte may leave valid: the mode and flag bits, and
 * string offsets that land on another string of the pool (any string may
 * name the source; the log file and signature dir need only be absolute). */
static bool header_byte_may_change(size_t i, size_t k)
{
	if (i == O_MODE || i == O_FLAGS)
		return k == 1;
	if (i == O_ENVSTRIP || i == O_ENVSTRIP + 1)
		return true;    /* all 16 low bits name a variable */
	/* the unanchored slice may move inside the rule references: the
	 * indexes are checked for bounds, not for sense, like a rule's action */
	if ((i == O_FREEFIRST || i == O_FREECOUNT) && k == 1)
		return true;
	return (i >= O_SOURCE && i < O_SOURCE + 4) || (i >= O_LOGFILE && i < O_LOGFILE + 4) ||
	       (i >= O_SIGDIR && i < O_SIGDIR + 4);
}

/* Every byte of the file changed in three ways: never a crash or an
 * out-of-bounds read, and whatever is accepted behaves. */
static void test_flipped(void **state)
{
	static const unsigned char pattern[] = { 0xff, 0x01, 0x80 };
	unsigned char *ref, *c;
	size_t len, accepted = 0, header_accepted = 0;
	struct dlg_db db;
	char err[256];

	(void)state;
	ref = reference_db(&len);
	for (size_t i = 0; i < len; i++) {
		for (size_t k = 0; k < sizeof pattern; k++) {
			c = dup_exact(ref, len);
			c[i] ^= pattern[k];
			if (dlg_db_open_mem(&db, c, len, err, sizeof err) == 0) {
				accepted++;
				if (i < HDR) {
					header_accepted++;
					if (!header_byte_may_change(i, k))
						fail_msg("header byte %zu ^ 0x%02x accepted", i,
							 pattern[k]);
				}
				exercise(&db);
			} else {
				assert_true(err[0] != '\0');
			}
			free(c);
		}
	}
	/* At least: mode enforce -> audit, the syslog flag, the source name's
	 * offset moved by one character. Elsewhere, line numbers, digests, key
	 * bytes, signatures and string bytes may change. */
	assert_true(header_accepted >= 3);
	assert_true(accepted > header_accepted);
	free(ref);
}

enum width { W32, W64, W8 };

/* Where a damaged field lies: the file, or the first record of a table. */
enum base { B_FILE, B_RULE, B_KEY, B_KEYREF, B_MAN, B_DIR, B_PATH, B_REF, B_FPRINT };

struct damage {
	const char *what;       /* expected in the error message */
	enum base base;
	size_t where;           /* byte offset from the base */
	enum width w;
	uint64_t value;
	bool relative;          /* value is added to the current field */
};

static void test_damaged_fields(void **state)
{
	unsigned char *ref, *c;
	size_t len;
	struct dlg_db db;
	char err[256];
	uint32_t strlen_, nd, rules_off, str_off;
	size_t bases[9];
	uint32_t dirstrlen, nrefs;

	(void)state;
	ref = reference_db(&len);
	bases[B_FILE] = 0;
	bases[B_RULE] = rd32(ref + O_RULES);
	bases[B_KEY] = rd32(ref + O_KEYS);
	bases[B_KEYREF] = rd32(ref + O_KEYREFS);
	bases[B_MAN] = rd32(ref + O_MANIFESTS);
	bases[B_DIR] = rd32(ref + O_DIRS);
	bases[B_PATH] = rd32(ref + O_PATHS);
	bases[B_REF] = rd32(ref + O_REFS);
	bases[B_FPRINT] = rd32(ref + O_FPRINTS);
	assert_int_equal(rd32(ref + O_NFPRINTS), 2);
	assert_int_equal(bases[B_FPRINT], rd32(ref + O_DIGESTS) + 4 * DIG_SIZE);
	assert_int_equal(rd32(ref + O_KEYS), bases[B_FPRINT] + 2 * FP_SIZE);
	dirstrlen = rd32(ref + O_DIRSTRLEN);
	nrefs = rd32(ref + O_NREFS);
	/* dirs "" (rule 3), "/opt/p" (rule 1's parent), "/opt/s", "/tmp"; one
	 * path; references: 2 unanchored, 3 dir rules, 1 path rule */
	assert_int_equal(rd32(ref + O_NDIRS), 4);
	assert_int_equal(rd32(ref + O_NPATHS), 1);
	assert_int_equal(nrefs, 6);
	assert_int_equal(rd32(ref + O_FREECOUNT), 2);
	assert_int_equal(rd32(ref + O_FIRSTDIGEST), 6);
	assert_int_equal(rd32(ref + O_NVALUES), 5);
	assert_int_equal(rd32(ref + O_ENVSTRIP), DLG_ENV_LD_PRELOAD | DLG_ENV_LD_AUDIT);
	assert_int_equal(rd32(ref + O_FLAGS), 2 | 4 | 8);
	assert_int_equal(rd32(ref + O_NKEYS), 2);
	assert_int_equal(rd32(ref + O_NKEYREFS), 3);
	assert_int_equal(rd32(ref + O_NMANIFESTS), 1);
	assert_int_equal(rd32(ref + O_NENTRIES), 3);
	strlen_ = rd32(ref + O_STRLEN);
	nd = rd32(ref + O_NDIGESTS);
	rules_off = rd32(ref + O_RULES);
	str_off = rd32(ref + O_STRINGS);
	assert_true(rules_off > HDR);
	assert_int_equal(nd, 4);

	const struct damage cases[] = {
		{ "bad magic", B_FILE, 0, W8, 'X', false },
		{ "bad magic", B_FILE, 7, W8, 1, false },
		{ "format version 1 is not supported by this dlguard; recompile", B_FILE, O_VERSION,
		  W32, 1, false },
		{ "format version 2 is not supported by this dlguard; recompile", B_FILE, O_VERSION,
		  W32, 2, false },
		{ "format version 3 is not supported by this dlguard; recompile", B_FILE, O_VERSION,
		  W32, 3, false },
		{ "format version 4 is not supported by this dlguard; recompile", B_FILE, O_VERSION,
		  W32, 4, false },
		{ "unsupported format version 6", B_FILE, O_VERSION, W32, 6, false },
		{ "unsupported format version 0", B_FILE, O_VERSION, W32, 0, false },
		{ "header size", B_FILE, O_HSIZE, W32, 64, false },
		{ "header size", B_FILE, O_HSIZE, W32, 96, false },
		{ "header size", B_FILE, O_HSIZE, W32, 129, false },
		{ "does not match header", B_FILE, O_FSIZE, W64, 1, true },
		{ "does not match header", B_FILE, O_FSIZE, W64, (uint64_t)-1, true },
		{ "does not match header", B_FILE, O_FSIZE, W64, 1ull << 32, true },
		{ "bad mode 2", B_FILE, O_MODE, W32, 2, false },
		{ "bad default action 0", B_FILE, O_DEFAULT, W32, 0, false },
		{ "bad default action 3", B_FILE, O_DEFAULT, W32, 3, false },
		{ "unknown flags", B_FILE, O_FLAGS, W32, 16, false },
		{ "unknown flags", B_FILE, O_FLAGS, W32, 0x80000000u, false },
		{ "log file offset", B_FILE, O_LOGFILE, W32, strlen_, false },
		{ "log file offset", B_FILE, O_LOGFILE, W32, NONE - 1, false },
		{ "source offset", B_FILE, O_SOURCE, W32, strlen_, false },
		{ "source offset", B_FILE, O_SOURCE, W32, NONE, false },
		{ "rules", B_FILE, O_NRULES, W32, NONE, false },                /* count * 48 > 2^32 */
		{ "rules", B_FILE, O_NRULES, W32, 0x05555556u, false },         /* count * 48 > 2^32 */
		{ "tables overlap", B_FILE, O_NRULES, W32, 8, false },          /* runs into the paths */
		{ "not 4-byte aligned", B_FILE, O_RULES, W32, 1, true },
		{ "not 4-byte aligned", B_FILE, O_RULES, W32, 2, true },
		{ "overlaps the header", B_FILE, O_RULES, W32, 0, false },
		{ "overlaps the header", B_FILE, O_RULES, W32, HDR - 4, false },
		{ "rules", B_FILE, O_RULES, W32, 0xFFFFFFFCu, false },
		{ "digests", B_FILE, O_NDIGESTS, W32, NONE, false },
		{ "digests", B_FILE, O_NDIGESTS, W32, 0x08000000u, false },
		{ "digests", B_FILE, O_DIGESTS, W32, 0xFFFFFFE0u, false },
		{ "overlap", B_FILE, O_DIGESTS, W32, HDR, false },
		{ "not 4-byte aligned", B_FILE, O_DIGESTS, W32, 1, true },
		{ "not contiguous", B_FILE, O_NRULES, W32, (uint32_t)-1, true },  /* drops a rule */
		{ "not contiguous", B_FILE, O_NDIGESTS, W32, (uint32_t)-1, true },
		{ "not contiguous", B_FILE, O_NRULES, W32, 0, false },
		{ "strings", B_FILE, O_STRINGS, W32, 1, true },
		{ "strings", B_FILE, O_STRLEN, W32, 1, true },
		{ "strings", B_FILE, O_STRLEN, W32, NONE, false },
		{ "not NUL-terminated", B_FILE, O_STRLEN, W32, 0, false },
		{ "not NUL-terminated", B_FILE, O_STRLEN, W32, (uint32_t)-1, true },
		{ "reserved header byte 184", B_FILE, O_RESERVED, W8, 1, false },
		{ "start-up verdicts", B_FILE, O_NBOOT, W32, NONE, false },
		{ "tables overlap: start-up verdicts and keys", B_FILE, O_NBOOT, W32, 1, false },
		{ "start-up verdict slots (3) not a power of two", B_FILE, O_NBOOT, W32, 3, false },
		{ "start-up verdicts", B_FILE, O_BOOT, W32, HDR + 4, true },
		{ "reserved header byte 191", B_FILE, HDR - 1, W8, 0x80, false },
		/* format 2: signature directory, tables of keys, key references,
		 * manifests, entries, the blob */
		{ "signature dir offset", B_FILE, O_SIGDIR, W32, strlen_, false },
		{ "signature dir offset", B_FILE, O_SIGDIR, W32, 1, true },      /* not absolute */
		{ "keys", B_FILE, O_NKEYS, W32, NONE, false },
		{ "tables overlap: keys and key references", B_FILE, O_NKEYS, W32, 1, true },
		{ "not contiguous", B_FILE, O_NKEYS, W32, (uint32_t)-1, true },
		{ "not 4-byte aligned", B_FILE, O_KEYS, W32, 2, true },
		{ "key references", B_FILE, O_NKEYREFS, W32, NONE, false },
		{ "not contiguous", B_FILE, O_NKEYREFS, W32, (uint32_t)-1, true },
		{ "tables overlap: key references and values", B_FILE, O_NKEYREFS, W32, 1, true },
		{ "manifests", B_FILE, O_NMANIFESTS, W32, NONE, false },
		{ "tables overlap: manifests and manifest entries", B_FILE, O_NMANIFESTS, W32, 1, true },
		{ "not contiguous", B_FILE, O_NMANIFESTS, W32, 0, false },
		{ "manifest entries", B_FILE, O_NENTRIES, W32, NONE, false },
		{ "not contiguous", B_FILE, O_NENTRIES, W32, (uint32_t)-1, true },
		{ "tables overlap: manifest entries and blob", B_FILE, O_NENTRIES, W32, 1, true },
		{ "not 4-byte aligned", B_FILE, O_ENTRIES, W32, 1, true },
		{ "tables overlap: blob and strings", B_FILE, O_BLOBLEN, W32, 4, true },
		{ "not contiguous", B_FILE, O_BLOBLEN, W32, (uint32_t)-4, true },
		{ "blob", B_FILE, O_BLOBLEN, W32, NONE, false },
		{ "not 4-byte aligned", B_FILE, O_BLOB, W32, 2, true },
		{ "overlaps the header", B_FILE, O_KEYS, W32, 64, false },
		{ "key 1: name offset", B_KEY, K_NAME, W32, strlen_, false },
		{ "key 1: name offset", B_KEY, K_NAME, W32, NONE, false },
		{ "key 2: bad key type 0", B_KEY, KEY_SIZE + K_TYPE, W32, 0, false },
		{ "key 1: bad key type 6", B_KEY, K_TYPE, W32, 6, false },
		{ "key 1: DER", B_KEY, K_DERLEN, W32, 0, false },
		{ "key 1: DER", B_KEY, K_DERLEN, W32, 2049, false },
		{ "key 2: DER", B_KEY, KEY_SIZE + K_DEROFF, W32, NONE, false },
		{ "key 1: DER", B_KEY, K_DEROFF, W32, 0xFFFFFFF0u, false },
		{ "key reference 1: key 2 out of range of 2 keys", B_KEYREF, 0, W32, 2, false },
		{ "key reference 3: key", B_KEYREF, 8, W32, NONE, false },
		{ "manifest 1: path offset", B_MAN, M_PATH, W32, strlen_, false },
		{ "manifest 1: path offset", B_MAN, M_PATH, W32, 1, true },      /* not absolute */
		{ "manifest 1: key 2 out of range", B_MAN, M_KEY, W32, 2, false },
		{ "manifest 1: signature", B_MAN, M_SIGLEN, W32, 0, false },
		{ "manifest 1: signature", B_MAN, M_SIGLEN, W32, 4097, false },
		{ "manifest 1: signature", B_MAN, M_SIGOFF, W32, NONE, false },
		{ "manifest 1: entry slice", B_MAN, M_COUNT, W32, 1, true },
		{ "manifest 1: entry slice", B_MAN, M_FIRST, W32, NONE, false },
		{ "manifest 1: reserved", B_MAN, M_RESERVED, W32, 1, false },
		{ "manifest 1: reserved", B_MAN, MAN_SIZE - 1, W8, 1, false },
		{ "rule 4: signed_by slice", B_RULE, 3 * RULE_SIZE + R_KCOUNT, W32, 2, true },
		{ "rule 5: signed_by slice", B_RULE, 4 * RULE_SIZE + R_KFIRST, W32, NONE, false },
		{ "rule 5: manifest 1 out of range", B_RULE, 4 * RULE_SIZE + R_MANIFEST, W32, 1, false },
		{ "rule 5: manifest rule without signed_by", B_RULE, 4 * RULE_SIZE + R_KCOUNT, W32, 0,
		  false },
		{ "rule 1: manifest rule without signed_by, or with path", B_RULE, R_MANIFEST, W32, 0,
		  false },
		{ "rule 3: manifest rule without signed_by, or with path or sha256", B_RULE,
		  2 * RULE_SIZE + R_MANIFEST, W32, 0, false },
		{ "rule 1: bad action 0", B_RULE, R_ACTION, W32, 0, false },
		{ "rule 1: bad action 3", B_RULE, R_ACTION, W32, 3, false },
		{ "rule 1: path offset out of range", B_RULE, R_PATH, W32, strlen_, false },
		{ "rule 1: path offset out of range", B_RULE, R_PATH, W32, NONE - 1, false },
		{ "rule 1: dir offset out of range", B_RULE, R_DIR, W32, strlen_, false },
		{ "rule 1: exe offset out of range", B_RULE, R_EXE, W32, strlen_, false },
		{ "rule 1: path is not absolute", B_RULE, R_PATH, W32, 1, true },
		{ "rule 1: reserved field is not zero", B_RULE, R_RESERVED, W32, 1, false },
		/* format 3: risk flags, owner and fs slices, the values table,
		 * environment variables */
		{ "rule 1: unknown risk flags 0x4", B_RULE, R_RISK, W32, 4, false },
		{ "rule 3: unknown risk flags 0x80000003", B_RULE, 2 * RULE_SIZE + R_RISK, W32,
		  0x80000000u, true },
		{ "rule 4: owner slice 0+6 out of range of 5 values", B_RULE, 3 * RULE_SIZE + R_OCOUNT,
		  W32, 4, true },
		{ "rule 4: owner slice", B_RULE, 3 * RULE_SIZE + R_OFIRST, W32, NONE, false },
		{ "rule 4: fs slice 2+4 out of range", B_RULE, 3 * RULE_SIZE + R_FCOUNT, W32, 2, true },
		{ "rule 6: fs slice 4+2", B_RULE, 5 * RULE_SIZE + R_FCOUNT, W32, 2, false },
		{ "rule 1: owner slice 6+0", B_RULE, R_OFIRST, W32, 6, false },
		{ "rule 1: owner slice", B_RULE, R_OCOUNT, W32, 6, false },
		{ "rule 6: no condition", B_RULE, 5 * RULE_SIZE + R_FCOUNT, W32, 0, false },
		{ "values", B_FILE, O_NVALUES, W32, NONE, false },
		{ "tables overlap: values and manifests", B_FILE, O_NVALUES, W32, 1, true },
		{ "not contiguous", B_FILE, O_NVALUES, W32, (uint32_t)-1, true },
		{ "not 4-byte aligned", B_FILE, O_VALUES, W32, 2, true },
		{ "tables overlap: values and manifests", B_FILE, O_VALUES, W32, 4, true },
		{ "unknown environment variables 0x10002", B_FILE, O_ENVSTRIP, W32, 0x10002, false },
		{ "unknown environment variables 0x80000000", B_FILE, O_ENVSTRIP, W32, 0x80000000u,
		  false },
		{ "rule 2: no condition", B_RULE, RULE_SIZE + R_DIR, W32, NONE, false },
		{ "rule 3: bad action", B_RULE, 2 * RULE_SIZE + R_ACTION, W32, 7, false },
		/* format 4: the indexes */
		{ "directory index", B_FILE, O_NDIRS, W32, NONE, false },
		{ "not contiguous", B_FILE, O_NDIRS, W32, (uint32_t)-1, true },
		{ "tables overlap: directory index and directory strings", B_FILE, O_NDIRS, W32, 1,
		  true },
		{ "tables overlap: directory strings and rule references", B_FILE, O_DIRSTRLEN, W32, 1,
		  true },
		{ "not NUL-terminated", B_FILE, O_DIRSTRLEN, W32, (uint32_t)-4, true },
		{ "directory strings", B_FILE, O_DIRSTRLEN, W32, NONE - 3, false },
		{ "rule references", B_FILE, O_NREFS, W32, NONE, false },
		{ "not contiguous", B_FILE, O_NREFS, W32, (uint32_t)-1, true },
		{ "path index", B_FILE, O_NPATHS, W32, 0x40000000u, false },
		{ "not contiguous", B_FILE, O_NPATHS, W32, (uint32_t)-1, true },
		{ "unanchored rules 0+7 out of range of 6", B_FILE, O_FREECOUNT, W32, 7, false },
		{ "unanchored rules", B_FILE, O_FREEFIRST, W32, NONE, false },
		{ "first digest-anchored rule 7 out of range of 7 rules", B_FILE, O_FIRSTDIGEST, W32,
		  7, false },
		{ "rule reference 1: rule 7 out of range of 7 rules", B_REF, 0, W32, 7, false },
		{ "rule reference 6: rule", B_REF, 20, W32, NONE, false },
		{ "directory index 1: key out of range", B_DIR, 4, W32, dirstrlen, false },
		{ "directory index 1: key out of range", B_DIR, 4, W32, NONE, false },
		{ "directory index 2: hash does not match", B_DIR, DIR_SIZE, W32, 1, true },
		{ "directory index 3: rule slice", B_DIR, 2 * DIR_SIZE + 12, W32, nrefs, false },
		{ "directory index 1: rule slice", B_DIR, 8, W32, NONE, false },
		{ "path index 1: key out of range", B_PATH, 4, W32, strlen_, false },
		{ "path index 1: hash does not match", B_PATH, 0, W32, 1, true },
		{ "path index 1: rule slice", B_PATH, 12, W32, nrefs, true },
		{ "rule 2: dir offset out of range", B_RULE, RULE_SIZE + R_DIR, W32, dirstrlen, false },
		/* fingerprints: the table, then each record (the CLI checks them all) */
		{ "fingerprints", B_FILE, O_NFPRINTS, W32, NONE, false },
		{ "fingerprints", B_FILE, O_NFPRINTS, W32, 0x03000000u, false },
		{ "not contiguous", B_FILE, O_NFPRINTS, W32, (uint32_t)-1, true },
		{ "not contiguous", B_FILE, O_NFPRINTS, W32, 0, false },
		{ "tables overlap: fingerprints and start-up verdicts", B_FILE, O_NFPRINTS, W32, 1, true },
		{ "tables overlap: digests and fingerprints", B_FILE, O_NDIGESTS, W32, 1, true },
		{ "not 4-byte aligned", B_FILE, O_FPRINTS, W32, 2, true },
		{ "overlaps the header", B_FILE, O_FPRINTS, W32, HDR - 8, false },
		{ "fingerprints", B_FILE, O_FPRINTS, W32, 0xFFFFFFF0u, false },
		{ "tables overlap: fingerprints and start-up verdicts", B_FILE, O_FPRINTS, W32, FP_SIZE, true },
		{ "fingerprint 1: size or nanoseconds out of range", B_FPRINT, FP_MNSEC, W32,
		  1000000000u, false },
		{ "fingerprint 2: size or nanoseconds out of range", B_FPRINT, FP_SIZE + FP_CNSEC,
		  W32, NONE, false },
		{ "fingerprint 1: size or nanoseconds out of range", B_FPRINT, FP_SIZEF, W64,
		  1ull << 63, false },
		{ "fingerprint 1: path offset out of range", B_FPRINT, FP_PATH, W32, strlen_, false },
		{ "fingerprint 2: path offset out of range", B_FPRINT, FP_SIZE + FP_PATH, W32, NONE,
		  false },
		{ "fingerprint 2: path offset out of range or not absolute", B_FPRINT,
		  FP_SIZE + FP_PATH, W32, 1, true },
		{ "fingerprint 1: reserved field is not zero", B_FPRINT, FP_RESERVED, W32, 1, false },
		{ "fingerprint 2: reserved field is not zero", B_FPRINT, FP_SIZE + FP_RESERVED, W8,
		  0x80, false },
		{ "fingerprint 2: not sorted by (ino, dev), or repeated", B_FPRINT, FP_SIZE + FP_INO,
		  W64, 1, false },
		{ "fingerprint 2: not sorted", B_FPRINT, FP_SIZE + FP_INO, W64, 0, false },
		{ "fingerprint 2: not sorted", B_FPRINT, FP_INO, W64, UINT64_MAX, false },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct damage *d = &cases[i];
		size_t at = bases[d->base] + d->where;

		c = dup_exact(ref, len);
		if (d->w == W8)
			c[at] = (unsigned char)d->value;
		else if (d->w == W32)
			wr32(c + at, (uint32_t)((d->relative ? rd32(c + at) : 0) + d->value));
		else
			wr64(c + at, (d->relative ? len : 0) + d->value);
		err[0] = '\0';
		if (dlg_db_open_mem(&db, c, len, err, sizeof err) != -1 || !strstr(err, d->what))
			fail_msg("case %zu (%s): err '%s'", i, d->what, err);
		free(c);
	}

	/* pool whose last byte is not NUL */
	c = dup_exact(ref, len);
	c[str_off + strlen_ - 1] = 'x';
	assert_int_equal(dlg_db_open_mem(&db, c, len, err, sizeof err), -1);
	assert_non_null(strstr(err, "not NUL-terminated"));
	free(c);

	/* one byte more than the header says */
	c = malloc(len + 1);
	assert_non_null(c);
	memcpy(c, ref, len);
	c[len] = 0;
	assert_int_equal(dlg_db_open_mem(&db, c, len + 1, err, sizeof err), -1);
	assert_non_null(strstr(err, "does not match header"));
	free(c);

	/* and the untouched reference opens: the cases above changed one thing;
	 * its real fingerprint is what rule 7 allows the file by */
	c = dup_exact(ref, len);
	assert_int_equal(dlg_db_open_mem(&db, c, len, err, sizeof err), 0);
	{
		struct dlg_subject s = { .path = REF_FP_PATH, .fd = open(ref_file, O_RDONLY) };
		struct dlg_verdict v;

		assert_true(s.fd >= 0);
		assert_int_equal(dlg_decide(&db, &s, &v), DLG_ACTION_ALLOW);
		assert_int_equal(v.rule, 7);
		assert_true(s.sha256_fingerprint);
		close(s.fd);
	}
	free(c);
	free(ref);
}

/* ----------------------------------------------------------------- files */

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void test_write_open_file(void **state)
{
	char sub[PATH_MAX], out[PATH_MAX + 16], bad[PATH_MAX + 32], err[512];
	unsigned char d[1][DLG_SHA256_LEN];
	struct dlg_rule r[2];
	struct dlg_policy p;
	struct dlg_db db;
	struct stat st;
	struct dlg_subject s = { .path = "/opt/q/x.so", .fd = -1 };
	struct dlg_verdict v;
	mode_t old_mask;

	(void)state;
	tmp_path(sub, "out");
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(out, sizeof out, "%s/policy.db", sub);
	memset(d, 0x42, sizeof d);
	r[0] = mkrule(DLG_ACTION_ALLOW, 2, NULL, "/opt/q", NULL, NULL, 0);
	r[1] = mkrule(DLG_ACTION_DENY, 3, NULL, NULL, NULL, d, 1);
	p = mkpolicy(r, 2, DLG_ACTION_DENY);
	old_mask = umask(077);  /* the mode must not depend on the umask */
	assert_int_equal(dlg_db_write_file(&p, out, err, sizeof err), 0);
	umask(old_mask);
	assert_int_equal(count_entries(sub), 1);
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);

	memset(&st, 0, sizeof st);
	if (dlg_db_open_file(&db, out, &st, err, sizeof err) != 0)
		fail_msg("open_file: %s", err);
	assert_true(db.mapped);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal((size_t)st.st_size, db.len);
	assert_int_equal(db.n_rules, 2);
	assert_int_equal(dlg_decide(&db, &s, &v), DLG_ACTION_ALLOW);
	dlg_db_close(&db);
	assert_null(db.base);
	assert_false(db.mapped);
	dlg_db_close(&db);      /* twice is harmless */
	dlg_db_close(NULL);

	/* overwrite in place: the new content replaces the old atomically */
	p.default_action = DLG_ACTION_ALLOW;
	assert_int_equal(dlg_db_write_file(&p, out, err, sizeof err), 0);
	assert_int_equal(count_entries(sub), 1);
	assert_int_equal(dlg_db_open_file(&db, out, NULL, err, sizeof err), 0);
	assert_int_equal(db.default_action, DLG_ACTION_ALLOW);
	dlg_db_close(&db);

	/* an invalid policy leaves neither a temp file nor a changed target */
	p.rules[1].action = (enum dlg_action)9;
	assert_int_equal(dlg_db_write_file(&p, out, err, sizeof err), -1);
	assert_non_null(strstr(err, "rule 2 (line 3): bad action 9"));
	assert_int_equal(count_entries(sub), 1);
	assert_int_equal(dlg_db_open_file(&db, out, NULL, err, sizeof err), 0);
	dlg_db_close(&db);
	p.rules[1].action = DLG_ACTION_DENY;

	/* missing directory; a directory as target (rename fails, temp removed) */
	snprintf(bad, sizeof bad, "%s/missing/policy.db", sub);
	assert_int_equal(dlg_db_write_file(&p, bad, err, sizeof err), -1);
	assert_non_null(strstr(err, "cannot create temporary file"));
	snprintf(bad, sizeof bad, "%s/adir", sub);
	assert_int_equal(mkdir(bad, 0700), 0);
	assert_int_equal(dlg_db_write_file(&p, bad, err, sizeof err), -1);
	assert_non_null(strstr(err, "rename"));
	assert_int_equal(count_entries(sub), 2);
	assert_int_equal(rmdir(bad), 0);
	snprintf(bad, sizeof bad, "%s/", sub);
	assert_int_equal(dlg_db_write_file(&p, bad, err, sizeof err), -1);
	assert_non_null(strstr(err, "bad output path"));

	assert_int_equal(unlink(out), 0);
	assert_int_equal(rmdir(sub), 0);
}

/* Files that are not compiled policies are refused quickly: FIFOs must not
 * block, devices and directories are not regular files. */
static void test_open_file_odd(void **state)
{
	char fifo[PATH_MAX], empty[PATH_MAX], junk[PATH_MAX], missing[PATH_MAX], err[512];
	struct dlg_db db;
	struct stat st;
	const struct {
		const char *path;
		const char *what;
	} cases[] = {
		{ fifo, "not a regular file" },
		{ tmpdir, "not a regular file" },
		{ "/dev/zero", "not a regular file" },
		{ "/dev/null", "not a regular file" },
		{ missing, "No such file" },
		{ empty, "size 0 out of range" },
		{ junk, "smaller than the header" },
	};

	(void)state;
	tmp_path(fifo, "fifo");
	tmp_path(empty, "empty");
	tmp_path(junk, "junk");
	tmp_path(missing, "missing");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	write_fixture(empty, "");
	write_fixture(junk, "DLGUARD\0 nope");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		err[0] = '\0';
		if (dlg_db_open_file(&db, cases[i].path, &st, err, sizeof err) != -1 ||
		    !strstr(err, cases[i].what) || strncmp(err, cases[i].path, strlen(cases[i].path)) != 0)
			fail_msg("case %zu (%s): err '%s'", i, cases[i].path, err);
		assert_null(db.base);
		dlg_db_close(&db);
	}
	unlink(fifo);
	unlink(empty);
	unlink(junk);
}

/* ------------------------------------------------------------ signatures */

/* Keys and signatures are made with the openssl CLI, in the formats sig.h
 * documents, so these tests also pin that dlguard reads what openssl writes. */
/* snprintf that fails the test instead of truncating. */
__attribute__((format(printf, 3, 4)))
static void pathf(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, len, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < len);
}

__attribute__((format(printf, 1, 2)))
static void sh(const char *fmt, ...)
{
	char cmd[3 * PATH_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof cmd);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

static unsigned char *read_all(const char *path, size_t *len)
{
	struct stat st;
	unsigned char *b;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	b = malloc((size_t)st.st_size + 1);
	assert_non_null(b);
	assert_int_equal(read(fd, b, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return b;
}

struct test_key {
	const char *name;
	const char *genpkey;    /* openssl genpkey arguments */
	enum dlg_key_type type;
	char pem[PATH_MAX];
};

static void make_key(const char *dir, struct test_key *t, struct dlg_key *k)
{
	char der[PATH_MAX + 16];

	pathf(t->pem, sizeof t->pem, "%s/%s.pem", dir, t->name);
	pathf(der, sizeof der, "%s/%s.der", dir, t->name);
	sh("openssl genpkey %s -out '%s' 2>/dev/null", t->genpkey, t->pem);
	sh("openssl pkey -in '%s' -pubout -outform DER -out '%s'", t->pem, der);
	memset(k, 0, sizeof *k);
	k->name = (char *)t->name;
	k->type = t->type;
	k->der = read_all(der, &k->der_len);
}

static void sign_with(const struct test_key *t, const char *file, const char *sig)
{
	if (t->type == DLG_KEY_ED25519)
		sh("openssl pkeyutl -sign -rawin -inkey '%s' -in '%s' -out '%s'", t->pem, file, sig);
	else
		sh("openssl dgst -sha256 -sign '%s' -out '%s' '%s'", t->pem, sig, file);
}

/* dir/name with content, signed by t into dir/name.sig unless t is NULL. */
static void signed_file(const char *dir, const char *name, const char *content,
			const struct test_key *t)
{
	char f[PATH_MAX], sig[PATH_MAX + 8];

	pathf(f, sizeof f, "%s/%s", dir, name);
	write_fixture(f, content);
	if (t) {
		pathf(sig, sizeof sig, "%s.sig", f);
		sign_with(t, f, sig);
	}
}

struct sig_case {
	const char *file;       /* relative to the test directory */
	enum dlg_action want;
	uint32_t rule;
	bool checked;
	const char *status;     /* dll.code_signature.status */
	bool exists, valid, trusted;
	const char *key;        /* "" when none */
	const char *reason;     /* substring of the reason */
};

static void run_sig_cases(const struct dlg_db *db, const char *base, const struct sig_case *c,
			  size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX];
		struct dlg_subject s;
		struct dlg_verdict v;
		int fd;

		pathf(path, sizeof path, "%s/%s", base, c[i].file);
		memset(&s, 0, sizeof s);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		assert_true(fd >= 0);
		s.path = path;
		s.fd = fd;
		memset(&v, 0x5a, sizeof v);
		dlg_decide(db, &s, &v);
		close(fd);
		if (v.action != c[i].want || v.rule != c[i].rule || s.sig_checked != c[i].checked ||
		    (c[i].checked && (strcmp(s.sig_status, c[i].status) != 0 ||
				      s.sig_exists != c[i].exists || s.sig_valid != c[i].valid ||
				      s.sig_trusted != c[i].trusted ||
				      strcmp(s.sig_key, c[i].key) != 0)) ||
		    !strstr(v.reason, c[i].reason))
			fail_msg("case %zu (%s): action %d rule %u checked %d status '%s' exists %d "
				 "valid %d trusted %d key '%s' reason '%s'", i, c[i].file, v.action,
				 v.rule, s.sig_checked, s.sig_status, s.sig_exists, s.sig_valid,
				 s.sig_trusted, s.sig_key, v.reason);
	}
}

static void sha256_of(const char *content, unsigned char out[DLG_SHA256_LEN])
{
	char f[PATH_MAX];
	char err[128];
	int fd;

	tmp_path(f, "hashme");
	write_fixture(f, content);
	fd = open(f, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	if (dlg_sha256_fd(fd, out, err, sizeof err) != 0)
		fail_msg("hash: %s", err);
	close(fd);
	unlink(f);
}

/* Every signature outcome, through dlg_decide over real files: trusted,
 * another key of the policy, a key outside the policy, modified after
 * signing, truncated, garbage, missing, empty, FIFO, 10 MB, found in the
 * signature directory only, garbage next to the file but valid in the
 * directory; manifests: listed, right hash under another path, unlisted;
 * a signed deny; and the evidence a later non-signature rule keeps. */
static void test_decide_signatures(void **state)
{
	struct test_key tk[3] = {
		{ "vendor", "-algorithm ed25519", DLG_KEY_ED25519, "" },
		{ "other", "-algorithm EC -pkeyopt ec_paramgen_curve:P-256", DLG_KEY_ECDSA_P256, "" },
		{ "ghost", "-algorithm ed25519", DLG_KEY_ED25519, "" },
	};
	struct dlg_key keys[3];
	char base[PATH_MAX], a[PATH_MAX + 8], b[PATH_MAX + 8], m[PATH_MAX + 8], dd[PATH_MAX + 8];
	char sigs[PATH_MAX + 8], f[2 * PATH_MAX], e_x[PATH_MAX + 16], e_y[PATH_MAX + 16];
	struct dlg_manifest_entry ents[3];
	struct dlg_manifest man;
	static unsigned char msig[64];
	size_t vendor[1] = { 0 }, both[2] = { 0, 1 }, other[1] = { 1 };
	struct dlg_rule r[5];
	struct dlg_policy p;
	struct dlg_db db;
	unsigned char *buf;
	size_t len;
	char err[256];
	int fd;

	(void)state;
	alarm(60);      /* a FIFO that blocked would hang here: fail instead */
	tmp_path(base, "sig");
	assert_int_equal(mkdir(base, 0755), 0);
	for (int i = 0; i < 3; i++)
		make_key(base, &tk[i], &keys[i]);
	pathf(a, sizeof a, "%s/a", base);
	pathf(b, sizeof b, "%s/b", base);
	pathf(m, sizeof m, "%s/m", base);
	pathf(dd, sizeof dd, "%s/d", base);
	pathf(sigs, sizeof sigs, "%s/sigs", base);
	sh("mkdir -p '%s' '%s' '%s' '%s' '%s%s'", a, b, m, dd, sigs, a);

	signed_file(a, "good.so", "good", &tk[0]);
	signed_file(a, "other.so", "other key", &tk[1]);
	signed_file(a, "ghost.so", "ghost key", &tk[2]);
	signed_file(a, "mod.so", "original", &tk[0]);
	pathf(f, sizeof f, "%s/mod.so", a);
	write_fixture(f, "modified");
	signed_file(a, "trunc.so", "truncated", &tk[0]);
	sh("truncate -s 10 '%s/trunc.so.sig'", a);
	signed_file(a, "trunc-ec.so", "truncated ec", &tk[1]);
	sh("truncate -s 20 '%s/trunc-ec.so.sig'", a);
	signed_file(a, "garbage.so", "garbage", NULL);
	sh("head -c 64 /dev/urandom > '%s/garbage.so.sig'", a);
	signed_file(a, "none.so", "unsigned", NULL);
	signed_file(a, "empty.so", "empty sig", NULL);
	sh(": > '%s/empty.so.sig'", a);
	signed_file(a, "fifo.so", "fifo sig", NULL);
	pathf(f, sizeof f, "%s/fifo.so.sig", a);
	assert_int_equal(mkfifo(f, 0600), 0);
	signed_file(a, "big.so", "big sig", NULL);
	sh("truncate -s 10M '%s/big.so.sig'", a);
	signed_file(a, "dirsig.so", "in the signature directory", NULL);
	sh("openssl pkeyutl -sign -rawin -inkey '%s' -in '%s/dirsig.so' -out '%s%s/dirsig.so.sig'",
	   tk[0].pem, a, sigs, a);
	signed_file(a, "both.so", "garbage here, valid there", NULL);
	sh("head -c 64 /dev/urandom > '%s/both.so.sig'", a);
	sh("openssl pkeyutl -sign -rawin -inkey '%s' -in '%s/both.so' -out '%s%s/both.so.sig'",
	   tk[0].pem, a, sigs, a);
	signed_file(b, "x.so", "b by other", &tk[1]);
	signed_file(m, "x.so", "abc", NULL);
	signed_file(m, "y.so", "abc", NULL);
	signed_file(m, "w.so", "abc", NULL);
	signed_file(dd, "revoked.so", "revoked", &tk[1]);
	signed_file(dd, "plain.so", "plain", NULL);

	pathf(e_x, sizeof e_x, "%s/x.so", m);
	pathf(e_y, sizeof e_y, "%s/y.so", m);
	ents[0].path = e_y;
	sha256_of("abd", ents[0].sha256);
	ents[1].path = e_x;
	sha256_of("abc", ents[1].sha256);
	ents[2].path = (char *)"/nonexistent/z.so";
	memset(ents[2].sha256, 0x33, DLG_SHA256_LEN);
	memset(msig, 0x5c, sizeof msig);
	man = (struct dlg_manifest){ .path = (char *)"/etc/dlguard/app.sha256", .sig = msig,
				     .sig_len = sizeof msig, .key = 0, .entries = ents,
				     .n_entries = 3 };
	r[0] = mkrule(DLG_ACTION_ALLOW, 10, NULL, a, NULL, NULL, 0);
	r[0].signed_by = vendor;
	r[0].n_signed_by = 1;
	r[1] = mkrule(DLG_ACTION_ALLOW, 11, NULL, b, NULL, NULL, 0);
	r[1].signed_by = both;
	r[1].n_signed_by = 2;
	r[2] = mkrule(DLG_ACTION_ALLOW, 12, NULL, NULL, NULL, NULL, 0);
	r[2].signed_by = vendor;
	r[2].n_signed_by = 1;
	r[2].manifest = &man;
	r[3] = mkrule(DLG_ACTION_DENY, 13, NULL, dd, NULL, NULL, 0);
	r[3].signed_by = other;
	r[3].n_signed_by = 1;
	r[4] = mkrule(DLG_ACTION_ALLOW, 14, NULL, dd, NULL, NULL, 0);
	p = mkpolicy(r, 5, DLG_ACTION_DENY);
	p.keys = keys;
	p.n_keys = 2;           /* ghost is not in the policy */
	p.sig_dir = sigs;
	buf = build(&p, &len);
	assert_int_equal(dlg_db_open_mem(&db, buf, len, err, sizeof err), 0);

	const struct sig_case cases[] = {
		{ "a/good.so", DLG_ACTION_ALLOW, 1, true, "trusted", true, true, true, "vendor",
		  "rule 1 (line 10): allow dir " },
		{ "a/good.so", DLG_ACTION_ALLOW, 1, true, "trusted", true, true, true, "vendor",
		  " signed by vendor" },
		{ "a/other.so", DLG_ACTION_DENY, 0, true, "untrusted key", true, true, false, "other",
		  "no rule matched; default deny (signature: key other, which rule 1 does not "
		  "trust, signed /" },
		{ "a/ghost.so", DLG_ACTION_DENY, 0, true, "invalid", true, false, false, "",
		  "(signature: invalid /" },
		{ "a/mod.so", DLG_ACTION_DENY, 0, true, "invalid", true, false, false, "",
		  "mod.so.sig (no key of rule 1 verifies it)" },
		{ "a/trunc.so", DLG_ACTION_DENY, 0, true, "invalid", true, false, false, "",
		  "(signature: invalid /" },
		{ "a/trunc-ec.so", DLG_ACTION_DENY, 0, true, "invalid", true, false, false, "",
		  "(signature: invalid /" },
		{ "a/garbage.so", DLG_ACTION_DENY, 0, true, "invalid", true, false, false, "",
		  "(signature: invalid /" },
		{ "a/none.so", DLG_ACTION_DENY, 0, true, "missing", false, false, false, "",
		  "no rule matched; default deny (signature: missing /" },
		{ "a/empty.so", DLG_ACTION_DENY, 0, true, "unreadable", true, false, false, "",
		  "(signature: unreadable /" },
		{ "a/fifo.so", DLG_ACTION_DENY, 0, true, "unreadable", true, false, false, "",
		  "FIFO" },
		{ "a/big.so", DLG_ACTION_DENY, 0, true, "unreadable", true, false, false, "",
		  "too large" },
		{ "a/dirsig.so", DLG_ACTION_ALLOW, 1, true, "trusted", true, true, true, "vendor",
		  " signed by vendor" },
		{ "a/both.so", DLG_ACTION_ALLOW, 1, true, "trusted", true, true, true, "vendor",
		  " signed by vendor" },
		{ "b/x.so", DLG_ACTION_ALLOW, 2, true, "trusted", true, true, true, "other",
		  "rule 2 (line 11): allow dir " },
		{ "m/x.so", DLG_ACTION_ALLOW, 3, true, "trusted", true, true, true, "vendor",
		  "rule 3 (line 12): allow manifest /etc/dlguard/app.sha256 lists it" },
		/* the right content under another listed path: no */
		{ "m/y.so", DLG_ACTION_DENY, 0, true, "hash mismatch", true, false, false, "",
		  "(manifest: sha256 differs from /etc/dlguard/app.sha256)" },
		{ "m/w.so", DLG_ACTION_DENY, 0, true, "not listed", false, false, false, "",
		  "(manifest: not listed in /etc/dlguard/app.sha256)" },
		/* a signature that verifies can also deny */
		{ "d/revoked.so", DLG_ACTION_DENY, 4, true, "trusted", true, true, true, "other",
		  "rule 4 (line 13): deny dir " },
		/* rule 5 (no signature condition) decides; rule 4's finding is kept */
		{ "d/plain.so", DLG_ACTION_ALLOW, 5, true, "missing", false, false, false, "",
		  "rule 5 (line 14): allow dir " },
	};
	run_sig_cases(&db, base, cases, sizeof cases / sizeof cases[0]);

	/* no descriptor: the check cannot be made, the rule does not match */
	struct dlg_subject s = { .fd = -1 };
	struct dlg_verdict v;
	pathf(f, sizeof f, "%s/good.so", a);
	s.path = f;
	assert_int_equal(dlg_decide(&db, &s, &v), DLG_ACTION_DENY);
	assert_string_equal(s.sig_status, "error");
	assert_non_null(strstr(v.reason, "(signature: cannot check /"));

	/* a path too long for the signature directory variant */
	char longp[PATH_MAX];
	memset(longp, 'x', sizeof longp);
	memcpy(longp, a, strlen(a));
	for (size_t i = strlen(a); i < PATH_MAX - 6; i += 200)
		longp[i] = '/';         /* components a file system accepts */
	longp[PATH_MAX - 6] = '\0';
	memset(&s, 0, sizeof s);
	s.path = longp;
	s.fd = -1;
	assert_int_equal(dlg_decide(&db, &s, &v), DLG_ACTION_DENY);
	assert_string_equal(s.sig_status, "unreadable");
	assert_non_null(strstr(v.reason, "signature: name too long"));

	/* the manifest rule has no path condition: it looks at every file */
	memset(&s, 0, sizeof s);
	s.path = "/elsewhere/x.so";
	s.fd = -1;
	assert_int_equal(dlg_decide(&db, &s, &v), DLG_ACTION_DENY);
	assert_true(s.sig_checked);
	assert_string_equal(v.reason, "no rule matched; default deny (manifest: not listed in "
			    "/etc/dlguard/app.sha256)");

	/* a descriptor again: the same file is trusted again (nothing of the
	 * failed decision above is remembered across calls) */
	fd = open(f, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	memset(&s, 0, sizeof s);
	s.path = f;
	s.fd = fd;
	assert_int_equal(dlg_decide(&db, &s, &v), DLG_ACTION_ALLOW);
	close(fd);

	free(buf);
	for (int i = 0; i < 3; i++)
		free(keys[i].der);
	sh("rm -rf '%s'", base);
	alarm(0);
}

/* Compiled with keys, signed_by lists and a manifest, read back through the
 * accessors; manifest entries come out sorted and without exact repeats. */
static void test_signature_tables(void **state)
{
	static unsigned char der0[44], der1[91], msig[72];
	struct dlg_key keys[2] = {
		{ .name = (char *)"vendor", .type = DLG_KEY_ED25519, .der = der0, .der_len = sizeof der0 },
		{ .name = (char *)"build-2.ci", .type = DLG_KEY_RSA_PSS, .der = der1,
		  .der_len = sizeof der1 },
	};
	struct dlg_manifest_entry ents[4] = {
		{ .path = (char *)"/opt/z.so" }, { .path = (char *)"/opt/a.so" },
		{ .path = (char *)"/opt/z.so" }, { .path = (char *)"/opt/a.so" },
	};
	struct dlg_manifest man = { .path = (char *)"/etc/app.sha256", .sig = msig,
				    .sig_len = sizeof msig, .key = 1, .entries = ents,
				    .n_entries = 4 };
	size_t sb[2] = { 1, 0 }, sb_dup[3] = { 1, 1, 0 };
	struct dlg_rule r[3];
	struct dlg_policy p;
	struct dlg_db db;
	struct dlg_db_rule_view rv;
	struct dlg_db_key_view kv;
	struct dlg_db_manifest_view mv;
	unsigned char *buf, *buf2;
	size_t len, len2;
	uint32_t k;

	(void)state;
	memset(der0, 0x30, sizeof der0);
	memset(der1, 0x31, sizeof der1);
	memset(msig, 0x5a, sizeof msig);
	memset(man.sha256, 0x99, DLG_SHA256_LEN);
	memset(ents[0].sha256, 0x02, DLG_SHA256_LEN);
	memset(ents[1].sha256, 0x01, DLG_SHA256_LEN);
	memset(ents[2].sha256, 0x01, DLG_SHA256_LEN);  /* same path, another digest */
	memset(ents[3].sha256, 0x01, DLG_SHA256_LEN);  /* exact repeat of ents[1] */
	r[0] = mkrule(DLG_ACTION_ALLOW, 3, NULL, "/opt", NULL, NULL, 0);
	r[0].signed_by = sb;
	r[0].n_signed_by = 2;
	r[1] = mkrule(DLG_ACTION_ALLOW, 4, NULL, NULL, "/bin/app", NULL, 0);
	r[1].signed_by = sb_dup;
	r[1].n_signed_by = 3;
	r[1].manifest = &man;
	r[2] = mkrule(DLG_ACTION_DENY, 5, NULL, "/tmp", NULL, NULL, 0);
	p = mkpolicy(r, 3, DLG_ACTION_DENY);
	p.keys = keys;
	p.n_keys = 2;
	p.sig_dir = (char *)"/var/lib/dlguard/sigs";
	buf = build(&p, &len);
	assert_int_equal(dlg_db_open_mem(&db, buf, len, NULL, 0), 0);
	assert_int_equal(db.n_keys, 2);
	assert_int_equal(db.n_keyrefs, 4);      /* 2 + 2: the repeat is dropped */
	assert_int_equal(db.n_manifests, 1);
	assert_int_equal(db.n_entries, 3);      /* the exact repeat is dropped */
	assert_string_equal(db.sig_dir, "/var/lib/dlguard/sigs");
	assert_int_equal(db.blob_len % 4, 0);
	assert_true(db.blob_len >= sizeof der0 + sizeof der1 + sizeof msig);

	assert_true(dlg_db_key(&db, 1, &kv));
	assert_string_equal(kv.name, "build-2.ci");
	assert_int_equal(kv.type, DLG_KEY_RSA_PSS);
	assert_int_equal(kv.der_len, sizeof der1);
	assert_memory_equal(kv.der, der1, sizeof der1);
	assert_false(dlg_db_key(&db, 2, &kv));

	assert_true(dlg_db_rule(&db, 0, &rv));
	assert_int_equal(rv.n_signed_by, 2);
	assert_int_equal(rv.manifest, DLG_DB_NONE);
	assert_true(dlg_db_rule_key(&db, 0, 0, &k));
	assert_int_equal(k, 0);                 /* sorted */
	assert_true(dlg_db_rule_key(&db, 0, 1, &k));
	assert_int_equal(k, 1);
	assert_false(dlg_db_rule_key(&db, 0, 2, &k));
	assert_true(dlg_db_rule(&db, 1, &rv));
	assert_int_equal(rv.n_signed_by, 2);
	assert_int_equal(rv.manifest, 0);
	assert_string_equal(rv.exe, "/bin/app");
	assert_true(dlg_db_rule(&db, 2, &rv));
	assert_int_equal(rv.n_signed_by, 0);
	assert_false(dlg_db_rule_key(&db, 2, 0, &k));
	assert_false(dlg_db_rule_key(&db, 3, 0, &k));

	assert_true(dlg_db_manifest(&db, 0, &mv));
	assert_string_equal(mv.path, "/etc/app.sha256");
	assert_int_equal(mv.key, 1);
	assert_int_equal(mv.n_entries, 3);
	assert_int_equal(mv.sig_len, sizeof msig);
	assert_memory_equal(mv.sig, msig, sizeof msig);
	assert_memory_equal(mv.sha256, man.sha256, DLG_SHA256_LEN);
	assert_false(dlg_db_manifest(&db, 1, &mv));

	/* entries sorted by path, then digest */
	const unsigned char *e = db.entries;
	assert_string_equal(db.strings + rd32(e), "/opt/a.so");
	assert_int_equal(e[4], 0x01);
	assert_string_equal(db.strings + rd32(e + ENTRY_SIZE), "/opt/z.so");
	assert_int_equal(e[ENTRY_SIZE + 4], 0x01);
	assert_string_equal(db.strings + rd32(e + 2 * ENTRY_SIZE), "/opt/z.so");
	assert_int_equal(e[2 * ENTRY_SIZE + 4], 0x02);

	/* one path with two listed digests: either content is allowed there */
	struct dlg_subject s = { .path = "/opt/z.so", .exe = "/bin/app", .fd = -1,
				 .have_sha256 = true };
	struct dlg_verdict v;
	memset(s.sha256, 0x02, DLG_SHA256_LEN);
	assert_int_equal(dlg_decide(&db, &s, &v), DLG_ACTION_ALLOW);
	assert_int_equal(v.rule, 2);
	assert_string_equal(s.sig_key, "build-2.ci");
	memset(s.sha256, 0x01, DLG_SHA256_LEN);
	assert_int_equal(dlg_decide(&db, &s, &v), DLG_ACTION_ALLOW);
	memset(s.sha256, 0x03, DLG_SHA256_LEN);
	assert_int_equal(dlg_decide(&db, &s, &v), DLG_ACTION_DENY);
	assert_string_equal(s.sig_status, "hash mismatch");
	/* wrong exe: the manifest is not even looked at */
	memset(&s, 0, sizeof s);
	s.path = "/opt/z.so";
	s.exe = "/bin/other";
	s.fd = -1;
	s.have_sha256 = true;
	memset(s.sha256, 0x02, DLG_SHA256_LEN);
	dlg_decide(&db, &s, &v);
	assert_int_equal(v.rule, 0);
	assert_string_equal(s.sig_status, "missing");   /* rule 1 (dir /opt) looked */

	/* no signature or manifest condition reached: no evidence at all */
	memset(&s, 0, sizeof s);
	s.path = "/srv/x.so";
	s.exe = "/bin/other";
	s.fd = -1;
	assert_int_equal(dlg_decide(&db, &s, &v), DLG_ACTION_DENY);
	assert_false(s.sig_checked);
	assert_string_equal(s.sig_status, "");
	assert_string_equal(v.reason, "no rule matched; default deny");

	/* deterministic, and the model's order of signed_by does not matter */
	sb[0] = 0;
	sb[1] = 1;
	buf2 = build(&p, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, buf2, len);
	free(buf2);
	free(buf);
}

/* Lookups in a large manifest are binary searches within the rule's slice:
 * first, last, middle entries found, neighbours not. */
static void test_big_manifest(void **state)
{
	const size_t n = 200000;
	struct dlg_manifest_entry *ents = calloc(n, sizeof *ents);
	char (*names)[32] = calloc(n, sizeof *names);
	static unsigned char der[32], msig[64];
	struct dlg_key key = { .name = (char *)"k", .type = DLG_KEY_ED25519, .der = der,
			       .der_len = sizeof der };
	struct dlg_manifest man = { .path = (char *)"/etc/big.sha256", .sig = msig,
				    .sig_len = sizeof msig, .entries = ents, .n_entries = n };
	size_t sb[1] = { 0 };
	struct dlg_rule r[1];
	struct dlg_policy p;
	struct dlg_db db;
	struct dlg_verdict v;
	unsigned char *buf;
	size_t len;

	(void)state;
	assert_non_null(ents);
	assert_non_null(names);
	for (size_t i = 0; i < n; i++) {
		/* written in reverse: the writer sorts */
		pathf(names[i], sizeof names[i], "/opt/big/%07zu.so", (n - 1 - i) * 2);
		ents[i].path = names[i];
		memcpy(ents[i].sha256, &i, sizeof i);
	}
	r[0] = mkrule(DLG_ACTION_ALLOW, 1, NULL, NULL, NULL, NULL, 0);
	r[0].signed_by = sb;
	r[0].n_signed_by = 1;
	r[0].manifest = &man;
	p = mkpolicy(r, 1, DLG_ACTION_DENY);
	p.keys = &key;
	p.n_keys = 1;
	buf = build(&p, &len);
	assert_int_equal(dlg_db_open_mem(&db, buf, len, NULL, 0), 0);
	assert_int_equal(db.n_entries, n);
	for (size_t i = 0; i < n; i += 9973) {
		for (int odd = 0; odd < 2; odd++) {
			char path[32];
			struct dlg_subject s = { .path = path, .fd = -1, .have_sha256 = true };

			pathf(path, sizeof path, "/opt/big/%07zu.so", (n - 1 - i) * 2 + (size_t)odd);
			memset(s.sha256, 0, DLG_SHA256_LEN);
			memcpy(s.sha256, &i, sizeof i);
			assert_int_equal(dlg_decide(&db, &s, &v),
					 odd ? DLG_ACTION_DENY : DLG_ACTION_ALLOW);
			assert_string_equal(s.sig_status, odd ? "not listed" : "trusted");
		}
	}
	/* before the first and after the last */
	struct dlg_subject s0 = { .path = "/opt/big/", .fd = -1, .have_sha256 = true };
	struct dlg_subject s1 = { .path = "/opt/big/9999999.so", .fd = -1, .have_sha256 = true };
	assert_int_equal(dlg_decide(&db, &s0, &v), DLG_ACTION_DENY);
	assert_int_equal(dlg_decide(&db, &s1, &v), DLG_ACTION_DENY);
	assert_string_equal(s1.sig_status, "not listed");
	free(buf);
	free(names);
	free(ents);
}

struct bad_sig_policy {
	const char *what;
	void (*damage)(struct dlg_policy *p);
};

static void bad_key_type(struct dlg_policy *p) { p->keys[0].type = (enum dlg_key_type)6; }
static void bad_key_type0(struct dlg_policy *p) { p->keys[0].type = (enum dlg_key_type)0; }
static void no_der(struct dlg_policy *p) { p->keys[0].der = NULL; }
static void der_empty(struct dlg_policy *p) { p->keys[0].der_len = 0; }
static void der_long(struct dlg_policy *p) { p->keys[0].der_len = DLG_KEY_DER_MAX + 1; }
static void no_name(struct dlg_policy *p) { p->keys[0].name = (char *)""; }
static void long_name(struct dlg_policy *p)
{
	p->keys[0].name = (char *)"0123456789012345678901234567890123456789012345678901234567890123";
}
static void keys_missing(struct dlg_policy *p) { p->keys = NULL; }
static void bad_index(struct dlg_policy *p) { p->rules[0].signed_by[0] = 1; }
static void no_list(struct dlg_policy *p) { p->rules[0].signed_by = NULL; }
static void man_no_sig(struct dlg_policy *p) { p->rules[1].n_signed_by = 0; }
static void man_path(struct dlg_policy *p) { p->rules[1].path = (char *)"/a.so"; }
static void man_sha(struct dlg_policy *p) { p->rules[1].n_sha256 = 1; p->rules[1].sha256 = p->rules[0].sha256; }
static void man_key(struct dlg_policy *p) { p->rules[1].manifest->key = 1; }
static void man_siglen0(struct dlg_policy *p) { p->rules[1].manifest->sig_len = 0; }
static void man_siglong(struct dlg_policy *p) { p->rules[1].manifest->sig_len = DLG_SIG_MAX + 1; }
static void man_relative(struct dlg_policy *p) { p->rules[1].manifest->path = (char *)"app.sha256"; }
static void entry_relative(struct dlg_policy *p) { p->rules[1].manifest->entries[0].path = (char *)"x.so"; }
static void sigdir_relative(struct dlg_policy *p) { p->sig_dir = (char *)"sigs"; }

static void test_build_refuses_signatures(void **state)
{
	static const struct bad_sig_policy cases[] = {
		{ "key 1 (vendor): bad key type 6", bad_key_type },
		{ "key 1 (vendor): bad key type 0", bad_key_type0 },
		{ "key 1 (vendor): DER missing", no_der },
		{ "key 1 (vendor): DER missing", der_empty },
		{ "key 1 (vendor): DER missing or longer than 2048", der_long },
		{ "key 1: name missing", no_name },
		{ "key 1: name missing or longer than 63", long_name },
		{ "rule or key list missing", keys_missing },
		{ "rule 1 (line 1): signed_by names key 2 of 1", bad_index },
		{ "rule 1 (line 1): signed_by list missing", no_list },
		{ "rule 2 (line 2): a manifest rule needs signed_by", man_no_sig },
		{ "takes no path or sha256", man_path },
		{ "takes no path or sha256", man_sha },
		{ "rule 2 (line 2): manifest signer", man_key },
		{ "manifest signer, signature", man_siglen0 },
		{ "manifest signer, signature", man_siglong },
		{ "manifest path missing or not absolute", man_relative },
		{ "manifest entry 1 is not absolute", entry_relative },
		{ "signature dir 'sigs' is not absolute", sigdir_relative },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		unsigned char der[8] = { 1 }, sig[8] = { 2 }, dg[1][DLG_SHA256_LEN] = { { 3 } };
		struct dlg_key key = { .name = (char *)"vendor", .type = DLG_KEY_ED25519,
				       .der = der, .der_len = sizeof der };
		struct dlg_manifest_entry ent = { .path = (char *)"/opt/x.so" };
		struct dlg_manifest man = { .path = (char *)"/etc/m.sha256", .sig = sig,
					    .sig_len = sizeof sig, .entries = &ent, .n_entries = 1 };
		size_t sb0[1] = { 0 }, sb1[1] = { 0 };
		struct dlg_rule r[2];
		struct dlg_policy p;
		unsigned char *buf = (unsigned char *)&p;
		size_t len = 1;
		char err[256] = "";

		r[0] = mkrule(DLG_ACTION_ALLOW, 1, NULL, "/opt", NULL, dg, 1);
		r[0].signed_by = sb0;
		r[0].n_signed_by = 1;
		r[1] = mkrule(DLG_ACTION_ALLOW, 2, NULL, NULL, NULL, NULL, 0);
		r[1].signed_by = sb1;
		r[1].n_signed_by = 1;
		r[1].manifest = &man;
		p = mkpolicy(r, 2, DLG_ACTION_DENY);
		p.keys = &key;
		p.n_keys = 1;
		/* the undamaged policy builds */
		assert_int_equal(dlg_db_build(&p, &buf, &len, err, sizeof err), 0);
		free(buf);
		cases[i].damage(&p);
		if (dlg_db_build(&p, &buf, &len, err, sizeof err) != -1 || buf != NULL ||
		    len != 0 || !strstr(err, cases[i].what))
			fail_msg("case %zu (%s): err '%s'", i, cases[i].what, err);
	}
}

/* ------------------------------------------------------------------ scale */

/* -------------------------------------------------------- risk conditions */

static struct dlg_rule risk_rule(uint32_t risk, uint32_t *owners, size_t n_owners,
				 uint32_t *fs, size_t n_fs, uint32_t recent)
{
	struct dlg_rule r = mkrule(DLG_ACTION_DENY, 3, NULL, NULL, NULL, NULL, 0);

	r.risk = risk;
	r.owners = owners;
	r.n_owners = n_owners;
	r.fs = fs;
	r.n_fs = n_fs;
	r.recent = recent;
	return r;
}

/* Decides with one rule (and default allow) on fd, named path (NULL: its
 * canonical name), at time now (0: the clock). */
static void decide_one(const struct dlg_rule *rule, int fd, const char *path, time_t now,
		       struct dlg_subject *s, struct dlg_verdict *v)
{
	static char canon[PATH_MAX];
	struct dlg_rule r = *rule;
	struct dlg_policy p = mkpolicy(&r, 1, DLG_ACTION_ALLOW);
	struct dlg_db db;
	unsigned char *buf;
	size_t len;

	if (!path) {
		assert_int_equal(dlg_fd_canonical(fd, NULL, canon, sizeof canon), 0);
		path = canon;
	}
	buf = build(&p, &len);
	assert_int_equal(dlg_db_open_mem(&db, buf, len, NULL, 0), 0);
	memset(s, 0, sizeof *s);
	s->path = path;
	s->fd = fd;
	s->now = now;
	memset(v, 0x5a, sizeof *v);
	dlg_decide(&db, s, v);
	free(buf);
}

#define expect(rule, fd, path, now, want, sub, failed) \
	expect_at(__LINE__, rule, fd, path, now, want, sub, failed)

static void expect_at(int line, const struct dlg_rule *rule, int fd, const char *path,
		      time_t now, enum dlg_action want, const char *sub, bool failed)
{
	struct dlg_subject s;
	struct dlg_verdict v;

	decide_one(rule, fd, path, now, &s, &v);
	if (v.action != want || (sub && !strstr(v.reason, sub)) || s.risk_failed != failed ||
	    v.rule != (want == DLG_ACTION_DENY ? 1u : 0u))
		fail_msg("line %d (%s): action %d rule %u failed %d reason '%s'", line,
			 path ? path : "(fd)", v.action, v.rule, s.risk_failed, v.reason);
}

static int open_new(const char *path, mode_t mode)
{
	int fd;

	write_fixture(path, "abc");
	assert_int_equal(chmod(path, mode), 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

/* A directory whose every ancestor is root's (or ours) and not writable by
 * group or others, so "not writable" can be shown; NULL if there is none. */
static bool chain_safe(const char *dir)
{
	char d[PATH_MAX];
	struct stat st;
	char *slash;

	if (!realpath(dir, d))
		return false;
	for (;;) {
		if (lstat(d, &st) != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) ||
		    (st.st_uid != 0 && st.st_uid != geteuid()))
			return false;
		if (strcmp(d, "/") == 0)
			return true;
		slash = strrchr(d, '/');
		if (slash == d)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
}

static bool make_safe_dir(char *out, size_t len)
{
	static const char *const bases[] = { DLG_TEST_BINDIR, "/run", "/var/lib", "/root" };

	for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
		if (!chain_safe(bases[i]))
			continue;
		pathf(out, len, "%s/dlg-risk.XXXXXX", bases[i]);
		if (mkdtemp(out))
			return true;
	}
	return false;
}

static void test_risk_fileless(void **state)
{
	struct dlg_rule r = risk_rule(DLG_RISK_FILELESS, NULL, 0, NULL, 0, 0);
	char plain[PATH_MAX], del[PATH_MAX], shm[] = "/dev/shm/dlg-risk-XXXXXX";
	int mfd, dfd, pfd, sfd;

	(void)state;
	tmp_path(plain, "plain.so");
	tmp_path(del, "deleted.so");
	pfd = open_new(plain, 0644);
	dfd = open_new(del, 0644);
	assert_int_equal(unlink(del), 0);
	mfd = memfd_create("innocent.so", MFD_CLOEXEC);
	assert_true(mfd >= 0);
	assert_int_equal(write(mfd, "abc", 3), 3);
	sfd = mkstemp(shm);
	assert_true(sfd >= 0);

	expect(&r, mfd, NULL, 0, DLG_ACTION_DENY, "rule 1 (line 3): deny fileless (memfd)", false);
	expect(&r, dfd, NULL, 0, DLG_ACTION_DENY, "deny fileless (deleted)", false);
	/* unlinked, under a name that does not say so: st_nlink does */
	expect(&r, dfd, "/opt/app/x.so", 0, DLG_ACTION_DENY, "deny fileless (deleted)", false);
	expect(&r, sfd, NULL, 0, DLG_ACTION_DENY, "deny fileless (/dev/shm)", false);
	expect(&r, pfd, "/proc/self/fd/3", 0, DLG_ACTION_DENY, "deny fileless (/proc)", false);
	expect(&r, pfd, "/proc/1/map_files/x", 0, DLG_ACTION_DENY, "fileless (/proc)", false);
	expect(&r, pfd, "/x (deleted)", 0, DLG_ACTION_DENY, "fileless (deleted)", false);
	/* on disk, linked: not fileless, whatever the name looks like */
	expect(&r, pfd, NULL, 0, DLG_ACTION_ALLOW, "no rule matched; default allow", false);
	expect(&r, pfd, "/dev/shmx/a.so", 0, DLG_ACTION_ALLOW, NULL, false);
	expect(&r, pfd, "/dev/shm", 0, DLG_ACTION_ALLOW, NULL, false);
	expect(&r, pfd, "/procfs/a.so", 0, DLG_ACTION_ALLOW, NULL, false);
	expect(&r, pfd, "/memfd.so", 0, DLG_ACTION_ALLOW, NULL, false);
	expect(&r, pfd, "/a (deleted)x", 0, DLG_ACTION_ALLOW, NULL, false);
	expect(&r, pfd, "/a(deleted)", 0, DLG_ACTION_ALLOW, NULL, false);
	/* no descriptor: the name decides when it can, else the fact is
	 * unknowable and the rule denies */
	expect(&r, -1, "/memfd:y (deleted)", 0, DLG_ACTION_DENY, "fileless (memfd)", false);
	expect(&r, -1, "/usr/lib/x.so", 0, DLG_ACTION_DENY,
	       "rule 1 (line 3): cannot check fileless: no file descriptor", true);
	/* an allow rule fails closed too */
	r.action = DLG_ACTION_ALLOW;
	expect(&r, -1, "/usr/lib/x.so", 0, DLG_ACTION_DENY, "cannot check fileless", true);

	close(mfd);
	close(dfd);
	close(pfd);
	close(sfd);
	unlink(shm);
	unlink(plain);
}

static void test_risk_writable(void **state)
{
	struct dlg_rule r = risk_rule(DLG_RISK_WRITABLE, NULL, 0, NULL, 0, 0);
	char safe[PATH_MAX], f[PATH_MAX + 64], sub[PATH_MAX + 64], want[2 * PATH_MAX];
	char deep[PATH_MAX];
	bool have_safe = make_safe_dir(safe, sizeof safe);
	int fd;

	(void)state;
	/* under /tmp: sticky and world-writable counts */
	tmp_path(f, "t.so");
	fd = open_new(f, 0644);
	expect(&r, fd, NULL, 0, DLG_ACTION_DENY,
	       "deny writable (/tmp is writable by group and others (sticky))", false);
	/* the file's own mode is checked first */
	assert_int_equal(fchmod(fd, 0664), 0);
	expect(&r, fd, NULL, 0, DLG_ACTION_DENY, "writable (the file is writable by its group)",
	       false);
	assert_int_equal(fchmod(fd, 0646), 0);
	expect(&r, fd, NULL, 0, DLG_ACTION_DENY, "writable (the file is writable by others)",
	       false);
	assert_int_equal(fchmod(fd, 0644), 0);
	/* unknowable: no fd, a missing directory, not a directory, relative */
	expect(&r, -1, f, 0, DLG_ACTION_DENY, "cannot check writable: no file descriptor", true);
	expect(&r, fd, "/nonexistent-dlg/x.so", 0, DLG_ACTION_DENY,
	       "cannot check writable: lstat /nonexistent-dlg: No such file or directory", true);
	pathf(sub, sizeof sub, "%s/x.so", f);
	pathf(want, sizeof want, "cannot check writable: %s is not a directory", f);
	expect(&r, fd, sub, 0, DLG_ACTION_DENY, want, true);
	expect(&r, fd, "x.so", 0, DLG_ACTION_DENY, "cannot check writable: path is not absolute",
	       true);
	/* bounded walk: 64 directories above the file are examined (the 64th,
	 * /tmp, is writable), 65 are not */
	pathf(deep, sizeof deep, "%s", tmpdir);
	for (int i = 0; i < 63; i++) {
		size_t n = strlen(deep);

		assert_true(n + 3 < sizeof deep);
		memcpy(deep + n, "/d", 3);
		assert_int_equal(mkdir(deep, 0755), 0);
		if (i == 61) {
			pathf(sub, sizeof sub, "%s/x.so", deep);
			expect(&r, fd, sub, 0, DLG_ACTION_DENY, "(/tmp is writable", false);
		}
	}
	pathf(sub, sizeof sub, "%s/x.so", deep);
	expect(&r, fd, sub, 0, DLG_ACTION_DENY,
	       "cannot check writable: more than 64 directories above the file", true);
	pathf(sub, sizeof sub, "rm -rf '%s/d'", tmpdir);
	sh("%s", sub);
	close(fd);
	unlink(f);

	if (!have_safe) {
		print_message("no directory with a safe chain of parents: 'not writable' is not "
			      "shown\n");
		return;
	}
	pathf(f, sizeof f, "%s/ok.so", safe);
	fd = open_new(f, 0644);
	expect(&r, fd, NULL, 0, DLG_ACTION_ALLOW, "default allow", false);
	close(fd);
	const struct { const char *dir; mode_t mode; uid_t owner; const char *why; } dirs[] = {
		{ "w777", 0777, 0, "w777 is writable by group and others)" },
		{ "s1777", 01777, 0, "s1777 is writable by group and others (sticky))" },
		{ "g775", 0775, 0, "g775 is writable by its group)" },
		{ "o757", 0757, 0, "o757 is writable by others)" },
		{ "nobody", 0755, 65534, "nobody is owned by uid 65534)" },
		{ "ok755", 0755, 0, NULL },
	};
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		pathf(sub, sizeof sub, "%s/%s", safe, dirs[i].dir);
		assert_int_equal(mkdir(sub, 0700), 0);
		assert_int_equal(chmod(sub, dirs[i].mode), 0);
		if (dirs[i].owner && (geteuid() != 0 || chown(sub, dirs[i].owner, 0) != 0)) {
			print_message("not root: directory owners are not shown\n");
			continue;
		}
		pathf(f, sizeof f, "%s/x.so", sub);
		fd = open_new(f, 0644);
		if (dirs[i].why)
			expect(&r, fd, NULL, 0, DLG_ACTION_DENY, dirs[i].why, false);
		else
			expect(&r, fd, NULL, 0, DLG_ACTION_ALLOW, NULL, false);
		/* a directory owned by the file's own owner is not someone else */
		if (dirs[i].owner) {
			assert_int_equal(fchown(fd, dirs[i].owner, 0), 0);
			expect(&r, fd, NULL, 0, DLG_ACTION_ALLOW, NULL, false);
		}
		close(fd);
	}
	pathf(sub, sizeof sub, "rm -rf '%s'", safe);
	sh("%s", sub);
}

static void test_risk_owner_fs(void **state)
{
	uint32_t root[1] = { 0 }, nobody[1] = { 65534 }, two[2] = { 1000, 65534 };
	uint32_t tmpfs[1] = { TMPFS_MAGIC }, net[2] = { NFS_SUPER_MAGIC, 0xFF534D42 }, other[1];
	struct dlg_rule r;
	char f[PATH_MAX], want[64], shm[] = "/dev/shm/dlg-risk-XXXXXX";
	struct statfs sfs;
	const char *name;
	int fd, sfd, ufd;

	(void)state;
	tmp_path(f, "own.so");
	fd = open_new(f, 0644);
	assert_int_equal(fchown(fd, geteuid(), getegid()), 0);
	root[0] = (uint32_t)geteuid();
	r = risk_rule(0, root, 1, NULL, 0, 0);
	pathf(want, sizeof want, "deny owner uid %u", root[0]);
	expect(&r, fd, NULL, 0, DLG_ACTION_DENY, want, false);
	r = risk_rule(0, nobody, 1, NULL, 0, 0);
	expect(&r, fd, NULL, 0, DLG_ACTION_ALLOW, NULL, false);
	expect(&r, -1, f, 0, DLG_ACTION_DENY, "cannot check owner: no file descriptor", true);
	if (geteuid() == 0) {
		assert_int_equal(fchown(fd, 65534, 0), 0);
		r = risk_rule(0, two, 2, NULL, 0, 0);
		expect(&r, fd, NULL, 0, DLG_ACTION_DENY, "deny owner uid 65534", false);
	} else {
		print_message("not root: another owner is not shown\n");
	}

	/* fs: /dev/shm is tmpfs; /usr/lib is on the root file system */
	sfd = mkstemp(shm);
	assert_true(sfd >= 0);
	ufd = open("/usr/lib/os-release", O_RDONLY | O_CLOEXEC);
	if (ufd < 0)
		ufd = open("/usr/lib", O_RDONLY | O_CLOEXEC | O_DIRECTORY);
	assert_true(ufd >= 0);
	assert_int_equal(fstatfs(ufd, &sfs), 0);
	assert_true((uint32_t)sfs.f_type != TMPFS_MAGIC);
	r = risk_rule(0, NULL, 0, tmpfs, 1, 0);
	expect(&r, sfd, NULL, 0, DLG_ACTION_DENY, "rule 1 (line 3): deny fs tmpfs", false);
	expect(&r, ufd, NULL, 0, DLG_ACTION_ALLOW, NULL, false);
	expect(&r, -1, shm, 0, DLG_ACTION_DENY, "cannot check fs: no file descriptor", true);
	r = risk_rule(0, NULL, 0, net, 2, 0);
	expect(&r, sfd, NULL, 0, DLG_ACTION_ALLOW, NULL, false);
	other[0] = (uint32_t)sfs.f_type;
	name = dlg_fs_name(other[0]);
	if (name)
		pathf(want, sizeof want, "deny fs %s", name);
	else
		pathf(want, sizeof want, "deny fs 0x%x", other[0]);
	r = risk_rule(0, NULL, 0, other, 1, 0);
	expect(&r, ufd, NULL, 0, DLG_ACTION_DENY, want, false);
	expect(&r, sfd, NULL, 0, DLG_ACTION_ALLOW, NULL, false);
	/* conditions of one rule are ANDed */
	r = risk_rule(0, root, 1, tmpfs, 1, 0);
	root[0] = 12345;
	expect(&r, sfd, NULL, 0, DLG_ACTION_ALLOW, NULL, false);
	root[0] = (uint32_t)geteuid();
	expect(&r, sfd, NULL, 0, DLG_ACTION_DENY, "deny owner uid", false);
	close(ufd);
	close(sfd);
	unlink(shm);
	close(fd);
	unlink(f);
}

static void test_risk_recent(void **state)
{
	struct dlg_rule r;
	struct stat st;
	char f[PATH_MAX];
	struct timespec times[2] = { { 0, UTIME_OMIT }, { 4102444800, 0 } };   /* 2100 */
	time_t c;
	int fd;

	(void)state;
	tmp_path(f, "recent.so");
	fd = open_new(f, 0644);
	assert_int_equal(fstat(fd, &st), 0);
	c = st.st_ctim.tv_sec;
	const struct { uint32_t recent; time_t now; enum dlg_action want; const char *sub; } cases[] = {
		{ 11, c + 10, DLG_ACTION_DENY, "deny recent (changed 10 s ago)" },
		{ 10, c + 10, DLG_ACTION_ALLOW, NULL },         /* age == recent: not recent */
		{ 1, c + 1, DLG_ACTION_ALLOW, NULL },
		{ 1, c, DLG_ACTION_DENY, "changed 0 s ago" },
		{ 1, c - 5, DLG_ACTION_DENY, "deny recent (changed in the future)" },
		{ INT32_MAX, c + 100000, DLG_ACTION_DENY, NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		r = risk_rule(0, NULL, 0, NULL, 0, cases[i].recent);
		expect(&r, fd, NULL, cases[i].now, cases[i].want, cases[i].sub, false);
	}
	/* the clock, when the subject does not say */
	r = risk_rule(0, NULL, 0, NULL, 0, 3600);
	expect(&r, fd, NULL, 0, DLG_ACTION_DENY, "deny recent", false);
	expect(&r, -1, f, c, DLG_ACTION_DENY, "cannot check recent: no file descriptor", true);
	/* the change time, not the modification time a file's owner can set */
	assert_int_equal(futimens(fd, times), 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mtim.tv_sec, 4102444800);
	r = risk_rule(0, NULL, 0, NULL, 0, 50);
	expect(&r, fd, NULL, st.st_ctim.tv_sec + 100, DLG_ACTION_ALLOW, NULL, false);
	expect(&r, fd, NULL, st.st_ctim.tv_sec + 10, DLG_ACTION_DENY, "changed 10 s ago", false);
	close(fd);
	unlink(f);
}

/* Cheapest first, facts gathered once, and which verdicts a fingerprint
 * cache may keep. */
static void test_risk_order(void **state)
{
	uint32_t nobody[1] = { 65534 }, tmpfs[1] = { TMPFS_MAGIC };
	unsigned char d[1][DLG_SHA256_LEN];
	struct dlg_subject s;
	struct dlg_verdict v;
	struct dlg_rule r;
	struct stat st;
	char f[PATH_MAX];
	int fd;

	(void)state;
	tmp_path(f, "order.so");
	fd = open_new(f, 0644);
	memset(d, 0x42, sizeof d);
	/* a string condition that fails: no fact is needed, none unknowable */
	r = risk_rule(DLG_RISK_FILELESS | DLG_RISK_WRITABLE, nobody, 1, tmpfs, 1, 10);
	r.dir = (char *)"/nowhere";
	decide_one(&r, -1, "/usr/lib/x.so", 0, &s, &v);
	assert_int_equal(v.action, DLG_ACTION_ALLOW);
	assert_false(s.risk_failed);
	assert_int_equal(s.risk.have | s.risk.failed, 0);
	/* a risk condition that fails: the digest is never computed */
	r = risk_rule(0, NULL, 0, tmpfs, 1, 0);
	r.sha256 = d;
	r.n_sha256 = 1;
	decide_one(&r, fd, NULL, 0, &s, &v);
	assert_int_equal(v.action, DLG_ACTION_ALLOW);
	assert_false(s.have_sha256);
	/* fstat-based before the walk: the owner fails, nothing is walked */
	r = risk_rule(DLG_RISK_WRITABLE, nobody, 1, NULL, 0, 0);
	decide_one(&r, fd, NULL, 0, &s, &v);
	assert_int_equal(v.action, DLG_ACTION_ALLOW);
	assert_false(s.risk_volatile);
	assert_null(strchr(s.risk.writable_why, '/'));
	/* fs before the walk: not tmpfs, nothing walked */
	r = risk_rule(DLG_RISK_WRITABLE, NULL, 0, tmpfs, 1, 0);
	decide_one(&r, fd, NULL, 0, &s, &v);
	assert_int_equal(v.action, DLG_ACTION_ALLOW);
	assert_false(s.risk_volatile);
	/* the walk and the clock make a verdict volatile; fstat facts do not */
	r = risk_rule(DLG_RISK_WRITABLE, NULL, 0, NULL, 0, 0);
	decide_one(&r, fd, NULL, 0, &s, &v);
	assert_int_equal(v.action, DLG_ACTION_DENY);
	assert_true(s.risk_volatile);
	r = risk_rule(0, NULL, 0, NULL, 0, 5);
	decide_one(&r, fd, NULL, 1, &s, &v);
	assert_true(s.risk_volatile);
	r = risk_rule(DLG_RISK_FILELESS, nobody, 1, NULL, 0, 0);
	decide_one(&r, fd, NULL, 0, &s, &v);
	assert_false(s.risk_volatile);
	/* facts are kept in the subject: a second policy needs no fd */
	r = risk_rule(DLG_RISK_WRITABLE, NULL, 0, tmpfs, 1, 0);
	decide_one(&r, fd, NULL, 0, &s, &v);
	{
		struct dlg_rule r2 = risk_rule(DLG_RISK_WRITABLE, NULL, 0, NULL, 0, 0);
		struct dlg_policy p = mkpolicy(&r2, 1, DLG_ACTION_ALLOW);
		struct dlg_db db;
		size_t len;
		unsigned char *buf = build(&p, &len);

		assert_int_equal(dlg_db_open_mem(&db, buf, len, NULL, 0), 0);
		s.fd = -1;
		assert_int_equal(dlg_decide(&db, &s, &v), DLG_ACTION_DENY);
		assert_false(s.risk_failed);
		assert_non_null(strstr(v.reason, "writable (/tmp is writable"));
		free(buf);
	}
	/* every condition in one reason, in the order they are checked */
	assert_int_equal(fchmod(fd, 0666), 0);
	assert_int_equal(fstat(fd, &st), 0);
	r = risk_rule(DLG_RISK_FILELESS | DLG_RISK_WRITABLE, NULL, 0, NULL, 0, 100);
	r.dir = (char *)"/";
	decide_one(&r, fd, "/x (deleted)", st.st_ctim.tv_sec + 100, &s, &v);
	assert_int_equal(v.action, DLG_ACTION_ALLOW);  /* changed 100 s ago: not recent */
	decide_one(&r, fd, "/x (deleted)", st.st_ctim.tv_sec + 7, &s, &v);
	assert_string_equal(v.reason, "rule 1 (line 3): deny dir / fileless (deleted) recent "
			    "(changed 7 s ago) writable (the file is writable by group and "
			    "others)");
	close(fd);
	unlink(f);
}

static void build_fails(const struct dlg_policy *p, const char *what)
{
	unsigned char *buf = (unsigned char *)p;
	size_t len = 1;
	char err[256] = "";

	if (dlg_db_build(p, &buf, &len, err, sizeof err) != -1 || buf || len ||
	    !strstr(err, what))
		fail_msg("want '%s', got '%s'", what, err);
}

/* Compiled risk conditions and the start-up and environment options. */
static void test_risk_tables(void **state)
{
	uint32_t owners[4] = { 1000, 0, 65534, 0 }, fs[3] = { 0x6969, TMPFS_MAGIC, 0x6969 };
	struct dlg_rule r[3];
	struct dlg_policy p;
	struct dlg_db db;
	struct dlg_db_rule_view rv;
	unsigned char *buf, *buf2;
	size_t len, len2;
	uint32_t v;

	(void)state;
	r[0] = risk_rule(DLG_RISK_FILELESS, NULL, 0, NULL, 0, 0);
	r[1] = risk_rule(DLG_RISK_WRITABLE, owners, 4, fs, 3, 86400);
	r[2] = risk_rule(0, NULL, 0, NULL, 0, 1);
	p = mkpolicy(r, 3, DLG_ACTION_DENY);
	buf = build(&p, &len);
	assert_int_equal(dlg_db_open_mem(&db, buf, len, NULL, 0), 0);
	assert_int_equal(db.startup, DLG_STARTUP_LOG);
	assert_false(db.deny_untrusted_preload);
	assert_int_equal(db.env_strip, 0);
	assert_int_equal(db.n_values, 5);      /* owners 0 1000 65534, fs 0x6969 tmpfs */
	assert_true(dlg_db_rule(&db, 0, &rv));
	assert_int_equal(rv.risk, DLG_RISK_FILELESS);
	assert_int_equal(rv.recent, 0);
	assert_int_equal(rv.n_owners + rv.n_fs, 0);
	assert_true(dlg_db_rule(&db, 1, &rv));
	assert_int_equal(rv.risk, DLG_RISK_WRITABLE);
	assert_int_equal(rv.recent, 86400);
	assert_int_equal(rv.n_owners, 3);
	assert_int_equal(rv.n_fs, 2);
	const uint32_t want_own[] = { 0, 1000, 65534 }, want_fs[] = { 0x6969, TMPFS_MAGIC };
	for (uint32_t j = 0; j < 3; j++) {
		assert_true(dlg_db_rule_value(&db, 1, false, j, &v));
		assert_int_equal(v, want_own[j]);
	}
	for (uint32_t j = 0; j < 2; j++) {
		assert_true(dlg_db_rule_value(&db, 1, true, j, &v));
		assert_int_equal(v, want_fs[j]);
	}
	assert_false(dlg_db_rule_value(&db, 1, false, 3, &v));
	assert_false(dlg_db_rule_value(&db, 1, true, 2, &v));
	assert_false(dlg_db_rule_value(&db, 0, false, 0, &v));
	assert_false(dlg_db_rule_value(&db, 3, false, 0, &v));
	assert_true(dlg_db_rule(&db, 2, &rv));
	assert_int_equal(rv.recent, 1);

	/* options round-trip, and change the file */
	p.startup = DLG_STARTUP_KILL;
	p.deny_untrusted_preload = true;
	p.env_strip = DLG_ENV_LD_PRELOAD | DLG_ENV_LD_USE_LOAD_BIAS;
	buf2 = build(&p, &len2);
	assert_int_equal(len, len2);
	assert_memory_not_equal(buf, buf2, len);
	assert_int_equal(dlg_db_open_mem(&db, buf2, len2, NULL, 0), 0);
	assert_int_equal(db.startup, DLG_STARTUP_KILL);
	assert_true(db.deny_untrusted_preload);
	assert_int_equal(db.env_strip, DLG_ENV_LD_PRELOAD | DLG_ENV_LD_USE_LOAD_BIAS);
	free(buf);
	free(buf2);

	/* the model is checked before writing */
	r[0].risk = 4;
	build_fails(&p, "rule 1 (line 3): bad risk flags 0x4");
	r[0].risk = DLG_RISK_FILELESS;
	r[1].owners = NULL;
	build_fails(&p, "rule 2 (line 3): owner or fs list missing");
	r[1].owners = owners;
	r[1].fs = NULL;
	build_fails(&p, "rule 2 (line 3): owner or fs list missing");
	r[1].fs = fs;
	p.env_strip = DLG_ENV_KNOWN + 1;
	build_fails(&p, "unknown environment variables 0x10000 in env.strip");
	p.env_strip = 0;
	p.startup = (enum dlg_startup)2;
	build_fails(&p, "bad mode, default action or startup");
	p.startup = DLG_STARTUP_LOG;
	assert_int_equal(dlg_db_build(&p, &buf, &len, NULL, 0), 0);
	free(buf);
}

/* The tables behind dlg_env_var_* and dlg_fs_*. */
static void test_name_tables(void **state)
{
	const struct dlg_fs_type *t;
	size_t n, bits = 0;

	(void)state;
	for (uint32_t bit = 1; bit; bit <<= 1) {
		const char *name = dlg_env_var_name(bit);

		if (!(bit & DLG_ENV_KNOWN)) {
			assert_null(name);
			continue;
		}
		assert_non_null(name);
		assert_int_equal(dlg_env_var_bit(name), bit);
		bits++;
	}
	assert_int_equal(bits, 16);
	assert_int_equal(dlg_env_var_bit("LD_PRELOAD"), DLG_ENV_LD_PRELOAD);
	assert_int_equal(dlg_env_var_bit("ld_preload"), 0);
	assert_int_equal(dlg_env_var_bit("LD_PRELOAD "), 0);
	assert_int_equal(dlg_env_var_bit("DLGUARD_POLICY"), 0);
	assert_int_equal(dlg_env_var_bit(""), 0);
	assert_null(dlg_env_var_name(0));
	assert_null(dlg_env_var_name(3));
	t = dlg_fs_types(&n);
	assert_true(n >= 20);
	for (size_t i = 0; i < n; i++)
		assert_non_null(dlg_fs_name(t[i].magic[0]));
	assert_string_equal(dlg_fs_name(0xEF53), "ext4");
	assert_string_equal(dlg_fs_name(0xFE534D42), "cifs");
	assert_string_equal(dlg_fs_name(FUSE_SUPER_MAGIC), "fuse");
	assert_string_equal(dlg_fs_name(TMPFS_MAGIC), "tmpfs");
	assert_null(dlg_fs_name(0));
	assert_null(dlg_fs_name(0x12345678));
}

static void test_million_digests(void **state)
{
	const size_t n = 1000000;
	unsigned char (*d)[DLG_SHA256_LEN] = malloc(n * DLG_SHA256_LEN);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	struct dlg_rule r[1];
	struct dlg_policy p;
	struct dlg_db db;
	struct dlg_db_rule_view rv;
	struct dlg_subject s = { .path = "/usr/lib/x.so", .fd = -1, .have_sha256 = true };
	struct dlg_verdict v;
	unsigned char *buf;
	size_t len;

	(void)state;
	assert_non_null(d);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < DLG_SHA256_LEN; j += 8) {
			x ^= x << 13;   /* xorshift64: distinct enough, deterministic */
			x ^= x >> 7;
			x ^= x << 17;
			memcpy(d[i] + j, &x, 8);
		}
	}
	r[0] = mkrule(DLG_ACTION_ALLOW, 1, NULL, "/usr/lib", NULL, d, n);
	p = mkpolicy(r, 1, DLG_ACTION_DENY);
	buf = build(&p, &len);
	assert_int_equal(rd32(buf + O_NDIGESTS), n);
	assert_int_equal(rd32(buf + O_NRULES), 1);
	assert_int_equal(len, rd32(buf + O_STRINGS) + rd32(buf + O_STRLEN));
	assert_int_equal(dlg_db_open_mem(&db, buf, len, NULL, 0), 0);
	assert_int_equal(db.n_digests, n);
	assert_true(dlg_db_rule(&db, 0, &rv));
	assert_int_equal(rv.n_sha256, n);
	for (size_t i = 0; i < n; i += 99991) {
		memcpy(s.sha256, d[i], DLG_SHA256_LEN);
		assert_int_equal(dlg_decide(&db, &s, &v), DLG_ACTION_ALLOW);
		assert_int_equal(v.rule, 1);
	}
	memcpy(s.sha256, d[n - 1], DLG_SHA256_LEN);
	assert_int_equal(dlg_decide(&db, &s, &v), DLG_ACTION_ALLOW);
	memset(s.sha256, 0, DLG_SHA256_LEN);
	assert_int_equal(dlg_decide(&db, &s, &v), DLG_ACTION_DENY);
	memset(s.sha256, 0xff, DLG_SHA256_LEN);
	assert_int_equal(dlg_decide(&db, &s, &v), DLG_ACTION_DENY);
	free(buf);
	free(d);
}


/* ------------------------------------------------------------- indexes */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Decides s with the indexes and with a scan of every rule, on copies of
 * s: the two must agree on everything a caller sees. */
static void same_as_scan(const struct dlg_db *db, const struct dlg_subject *s, const char *ctx)
{
	struct dlg_subject a = *s, b = *s;
	struct dlg_verdict va, vb;

	memset(&va, 0x5a, sizeof va);
	memset(&vb, 0x5a, sizeof vb);
	dlg_decide(db, &a, &va);
	dlg_decide_scan(db, &b, &vb);
	if (va.action != vb.action || va.rule != vb.rule || va.line != vb.line ||
	    strcmp(va.reason, vb.reason) != 0 || a.hash_failed != b.hash_failed ||
	    a.risk_failed != b.risk_failed || a.have_sha256 != b.have_sha256 ||
	    a.sig_checked != b.sig_checked || strcmp(a.sig_status, b.sig_status) != 0)
		fail_msg("%s: %s (exe %s): indexed '%s' (rule %u), scan '%s' (rule %u)", ctx,
			 s->path, s->exe ? s->exe : "-", va.reason, va.rule, vb.reason, vb.rule);
}

/* Random policies over a small world of paths, directories, executables
 * and digests, every subject of that world decided both ways. The world is
 * made of the shapes the indexes must get right: "/", a subject with a
 * trailing slash or without one,
 * a directory that is a prefix of another's name (/opt/a, /opt/ab), files
 * directly in a directory and deeper, one path named by several rules,
 * digest-only rules before and after anchored ones, exe conditions, and a
 * risk condition that cannot be checked (no fd) and so denies where a scan
 * would meet it. */
static void test_index_same_as_scan(void **state)
{
	static const char *const dirs[] = { "/", "/opt", "/opt/a", "/opt/ab", "/opt/a/b",
					     "/usr/lib", "/tmp" };
	static const char *const files[] = { "/opt/a/x.so", "/opt/ab/x.so", "/opt/a/b/y.so",
					     "/usr/lib/libc.so", "/tmp/e.so", "/x.so", "/opt/a",
					     "/opt/a/b/", "/", "relative.so", "/opt/ab" };
	static const char *const exes[] = { NULL, "/bin/a", "/bin/b" };
	static unsigned char dg[4][DLG_SHA256_LEN];
	static uint32_t owner0[1] = { 0 };
	struct dlg_rule r[40];
	uint64_t x = 0x2545f4914f6cdd1dull;
	size_t compared = 0;

	(void)state;
	for (int i = 0; i < 4; i++)
		memset(dg[i], 0x11 * (i + 1), DLG_SHA256_LEN);
	for (int round = 0; round < 400; round++) {
		size_t n = 1 + rng_next(&x) % 40;
		struct dlg_policy p;
		struct dlg_db db;
		unsigned char *buf;
		size_t len;
		char ctx[64];

		for (size_t i = 0; i < n; i++) {
			uint64_t k = rng_next(&x);
			enum dlg_action a = k & 1 ? DLG_ACTION_ALLOW : DLG_ACTION_DENY;
			const char *path = NULL, *dir = NULL, *exe = NULL;
			size_t nd = 0, d0 = 0;

			if (k % 10 < 3)
				path = files[(k >> 8) % 9];     /* absolute ones only */
			else if (k % 10 < 7)
				dir = dirs[(k >> 12) % (sizeof dirs / sizeof dirs[0])];
			if ((k >> 20) % 5 == 0)
				exe = exes[1 + (k >> 24) % 2];
			if ((k >> 28) % 3 == 0 || (!path && !dir && !exe)) {
				nd = 1 + (k >> 32) % 2;
				d0 = (k >> 36) % 3;
			}
			r[i] = mkrule(a, (unsigned)(i + 10), path, dir, exe, nd ? &dg[d0] : NULL, nd);
			if ((k >> 40) % 17 == 0) {
				r[i].owners = owner0;
				r[i].n_owners = 1;
			}
		}
		p = mkpolicy(r, n, rng_next(&x) & 1 ? DLG_ACTION_ALLOW : DLG_ACTION_DENY);
		buf = build(&p, &len);
		assert_int_equal(dlg_db_open_mem(&db, buf, len, NULL, 0), 0);
		for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
			for (size_t e = 0; e < 3; e++) {
				for (int d = -1; d < 4; d++) {
					struct dlg_subject s = { .path = files[f], .exe = exes[e],
								 .fd = -1 };

					if (d >= 0) {
						s.have_sha256 = true;
						memcpy(s.sha256, dg[d], DLG_SHA256_LEN);
					}
					snprintf(ctx, sizeof ctx, "round %d", round);
					same_as_scan(&db, &s, ctx);
					compared++;
				}
			}
		}
		free(buf);
	}
	assert_true(compared > 10000);
}

/* Two different strings with the same dlg_db_hash, found by brute force
 * (birthday bound: a few hundred thousand 32-bit hashes). */
static void collision_name(const char *prefix, uint32_t i, char *out, size_t len)
{
	uint64_t x = 0x9e3779b97f4a7c15ull + i;
	char tail[11];

	for (int k = 0; k < 10; k++)
		tail[k] = (char)('a' + rng_next(&x) % 26);
	tail[10] = '\0';
	snprintf(out, len, "%s%s", prefix, tail);
}

static void hash_collision(const char *prefix, char *a, char *b, size_t len)
{
	enum { N = 400000 };
	uint64_t *h = malloc(N * sizeof *h);
	char s[64];

	assert_non_null(h);
	for (uint32_t i = 0; i < N; i++) {
		collision_name(prefix, i, s, sizeof s);
		h[i] = (uint64_t)dlg_db_hash(s, strlen(s)) << 32 | i;
	}
	qsort(h, N, sizeof *h, cmp_u64);
	for (uint32_t i = 1; i < N; i++) {
		if (h[i] >> 32 == h[i - 1] >> 32) {
			collision_name(prefix, (uint32_t)h[i - 1], a, len);
			collision_name(prefix, (uint32_t)h[i], b, len);
			if (strcmp(a, b) == 0)
				continue;
			free(h);
			return;
		}
	}
	fail_msg("no collision found");
}

/* Keys that share a hash are told apart by their strings, in both
 * indexes, whichever comes first. */
static void test_index_collisions(void **state)
{
	char d1[64], d2[64], p1[80], p2[80], f1[96], f2[96];
	struct dlg_rule r[4];
	struct dlg_policy p;
	struct dlg_db db;
	struct dlg_verdict v;
	unsigned char *buf;
	size_t len;

	(void)state;
	hash_collision("/opt/d", d1, d2, sizeof d1);
	assert_int_equal(dlg_db_hash(d1, strlen(d1)), dlg_db_hash(d2, strlen(d2)));
	hash_collision("/srv/f", p1, p2, sizeof p1);
	r[0] = mkrule(DLG_ACTION_DENY, 1, NULL, d1, NULL, NULL, 0);
	r[1] = mkrule(DLG_ACTION_ALLOW, 2, NULL, d2, NULL, NULL, 0);
	r[2] = mkrule(DLG_ACTION_DENY, 3, p1, NULL, NULL, NULL, 0);
	r[3] = mkrule(DLG_ACTION_ALLOW, 4, p2, NULL, NULL, NULL, 0);
	p = mkpolicy(r, 4, DLG_ACTION_DENY);
	buf = build(&p, &len);
	assert_int_equal(dlg_db_open_mem(&db, buf, len, NULL, 0), 0);
	snprintf(f1, sizeof f1, "%s/x.so", d1);
	snprintf(f2, sizeof f2, "%s/x.so", d2);
	{
		struct dlg_subject s1 = { .path = f1, .fd = -1 }, s2 = { .path = f2, .fd = -1 };
		struct dlg_subject s3 = { .path = p1, .fd = -1 }, s4 = { .path = p2, .fd = -1 };

		assert_int_equal(dlg_decide(&db, &s1, &v), DLG_ACTION_DENY);
		assert_int_equal(v.rule, 1);
		assert_int_equal(dlg_decide(&db, &s2, &v), DLG_ACTION_ALLOW);
		assert_int_equal(v.rule, 2);
		assert_int_equal(dlg_decide(&db, &s3, &v), DLG_ACTION_DENY);
		assert_int_equal(v.rule, 3);
		assert_int_equal(dlg_decide(&db, &s4, &v), DLG_ACTION_ALLOW);
		assert_int_equal(v.rule, 4);
	}
	free(buf);
}

/* The subject is hashed when, and only when, a scan would hash it: at the
 * first digest-only rule reached, not for a file an earlier rule decides. */
static void test_index_hashing_order(void **state)
{
	static unsigned char d[1][DLG_SHA256_LEN] = { { 0x42 } };
	struct dlg_rule r[3];
	struct dlg_policy p;
	struct dlg_db db;
	struct dlg_verdict v;
	unsigned char *buf;
	size_t len;

	(void)state;
	r[0] = mkrule(DLG_ACTION_ALLOW, 1, NULL, "/usr/lib", NULL, NULL, 0);
	r[1] = mkrule(DLG_ACTION_ALLOW, 2, NULL, NULL, NULL, d, 1);
	r[2] = mkrule(DLG_ACTION_ALLOW, 3, NULL, "/opt", NULL, NULL, 0);
	p = mkpolicy(r, 3, DLG_ACTION_DENY);
	buf = build(&p, &len);
	assert_int_equal(dlg_db_open_mem(&db, buf, len, NULL, 0), 0);
	{
		struct dlg_subject a = { .path = "/usr/lib/x.so", .fd = -1 };
		struct dlg_subject b = { .path = "/opt/x.so", .fd = -1 };
		struct dlg_subject c = { .path = "/opt/x.so", .fd = -1, .have_sha256 = true };

		assert_int_equal(dlg_decide(&db, &a, &v), DLG_ACTION_ALLOW);
		assert_int_equal(v.rule, 1);
		assert_false(a.hash_failed);
		/* rule 2 comes before rule 3: it needs the digest, which
		 * cannot be had without an fd */
		assert_int_equal(dlg_decide(&db, &b, &v), DLG_ACTION_DENY);
		assert_int_equal(v.rule, 2);
		assert_true(b.hash_failed);
		assert_string_equal(v.reason, "rule 2 (line 2): cannot hash: no file descriptor");
		memcpy(c.sha256, d[0], DLG_SHA256_LEN);
		assert_int_equal(dlg_decide(&db, &c, &v), DLG_ACTION_ALLOW);
		assert_int_equal(v.rule, 2);
		c.sha256[0] ^= 1;
		assert_int_equal(dlg_decide(&db, &c, &v), DLG_ACTION_ALLOW);
		assert_int_equal(v.rule, 3);
	}
	free(buf);
}

/* A path under more indexed directories than one decision tracks is
 * decided by a scan, with the same verdict. */
static void test_index_deep_path(void **state)
{
	enum { DEPTH = 60 };
	static char dir[DEPTH][DEPTH * 2 + 16];
	struct dlg_rule r[DEPTH + 1];
	char path[DEPTH * 2 + 16];
	struct dlg_policy p;
	struct dlg_db db;
	struct dlg_verdict v;
	unsigned char *buf;
	size_t len, at = 0;

	(void)state;
	for (int i = 0; i < DEPTH; i++) {
		path[at++] = '/';
		path[at++] = 'd';
		path[at] = '\0';
		snprintf(dir[i], sizeof dir[i], "%s", path);
		/* each level has a rule that does not match (wrong exe) */
		r[i] = mkrule(DLG_ACTION_DENY, (unsigned)i + 1, NULL, dir[i], "/bin/none", NULL, 0);
	}
	snprintf(path + at, sizeof path - at, "/x.so");
	r[DEPTH] = mkrule(DLG_ACTION_ALLOW, DEPTH + 1, NULL, dir[DEPTH - 1], NULL, NULL, 0);
	p = mkpolicy(r, DEPTH + 1, DLG_ACTION_DENY);
	buf = build(&p, &len);
	assert_int_equal(dlg_db_open_mem(&db, buf, len, NULL, 0), 0);
	{
		struct dlg_subject s = { .path = path, .fd = -1, .exe = "/bin/app" };

		assert_int_equal(dlg_decide(&db, &s, &v), DLG_ACTION_ALLOW);
		assert_int_equal(v.rule, DEPTH + 1);
		same_as_scan(&db, &s, "deep");
		s.exe = "/bin/none";
		assert_int_equal(dlg_decide(&db, &s, &v), DLG_ACTION_DENY);
		assert_int_equal(v.rule, 1);
	}
	free(buf);
}

/* The CLI's open checks that the indexes are sorted: two directory
 * records swapped are refused. */
static void test_index_unsorted(void **state)
{
	unsigned char *ref, *c, tmp[DIR_SIZE];
	size_t len, dirs;
	struct dlg_db db;
	char err[256] = "";

	(void)state;
	ref = reference_db(&len);
	c = dup_exact(ref, len);
	dirs = rd32(c + O_DIRS);
	memcpy(tmp, c + dirs, DIR_SIZE);
	memcpy(c + dirs, c + dirs + DIR_SIZE, DIR_SIZE);
	memcpy(c + dirs + DIR_SIZE, tmp, DIR_SIZE);
	assert_int_equal(dlg_db_open_mem(&db, c, len, err, sizeof err), -1);
	assert_non_null(strstr(err, "directory index 2: not sorted"));
	free(c);
	free(ref);
}

/* 1,000 rules of 1,000 digests each, the subject's digest in the last
 * one: decided through the digest index, found among a million records. */
static void test_index_many_digest_rules(void **state)
{
	enum { RULES = 1000, PER = 1000 };
	unsigned char (*d)[DLG_SHA256_LEN] = malloc((size_t)RULES * PER * DLG_SHA256_LEN);
	struct dlg_rule *r = calloc(RULES + 1, sizeof *r);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	struct dlg_policy p;
	struct dlg_db db;
	struct dlg_verdict v;
	unsigned char *buf;
	size_t len;

	(void)state;
	assert_non_null(d);
	assert_non_null(r);
	for (size_t i = 0; i < (size_t)RULES * PER; i++)
		for (size_t j = 0; j < DLG_SHA256_LEN; j += 8) {
			uint64_t v64 = rng_next(&x);

			memcpy(d[i] + j, &v64, 8);
		}
	r[0] = mkrule(DLG_ACTION_DENY, 1, NULL, "/tmp", NULL, NULL, 0);
	for (size_t i = 0; i < RULES; i++)
		r[i + 1] = mkrule(DLG_ACTION_ALLOW, (unsigned)i + 2, NULL, NULL, NULL,
				  d + i * PER, PER);
	p = mkpolicy(r, RULES + 1, DLG_ACTION_DENY);
	buf = build(&p, &len);
	assert_int_equal(dlg_db_open_mem(&db, buf, len, NULL, 0), 0);
	for (size_t i = 0; i < (size_t)RULES * PER; i += 7919) {
		struct dlg_subject s = { .path = "/opt/x.so", .fd = -1, .have_sha256 = true };

		memcpy(s.sha256, d[i], DLG_SHA256_LEN);
		assert_int_equal(dlg_decide(&db, &s, &v), DLG_ACTION_ALLOW);
		assert_int_equal(v.rule, i / PER + 2);
		if (i % 100 == 0)
			same_as_scan(&db, &s, "many");
		s.path = "/tmp/x.so";
		assert_int_equal(dlg_decide(&db, &s, &v), DLG_ACTION_DENY);
		assert_int_equal(v.rule, 1);
	}
	{
		struct dlg_subject s = { .path = "/opt/x.so", .fd = -1, .have_sha256 = true };

		memset(s.sha256, 0x00, DLG_SHA256_LEN);
		assert_int_equal(dlg_decide(&db, &s, &v), DLG_ACTION_DENY);
		assert_int_equal(v.rule, 0);
		memset(s.sha256, 0xff, DLG_SHA256_LEN);
		assert_int_equal(dlg_decide(&db, &s, &v), DLG_ACTION_DENY);
		same_as_scan(&db, &s, "many/none");
	}
	free(buf);
	free(r);
	free(d);
}

/* --------------------------------------------------------- fingerprints */

/* Rewrites the file at path in place (same inode, same size) until the
 * kernel stamps a ctime other than old's: writes within one tick of its
 * coarse clock get the same stamp, which is what the compile-time wait is
 * for, and here would make the test say nothing. */
static void rewrite_restamped(const char *path, const char *content, const struct stat *old)
{
	for (int i = 0; i < 400; i++) {
		const struct timespec tick = { 0, 5 * 1000 * 1000 };
		struct stat st;
		int fd = open(path, O_WRONLY | O_CLOEXEC);

		assert_true(fd >= 0);
		assert_int_equal(pwrite(fd, content, strlen(content), 0), (ssize_t)strlen(content));
		assert_int_equal(fstat(fd, &st), 0);
		close(fd);
		assert_int_equal(st.st_ino, old->st_ino);
		assert_int_equal(st.st_size, old->st_size);
		if (st.st_ctim.tv_sec != old->st_ctim.tv_sec ||
		    st.st_ctim.tv_nsec != old->st_ctim.tv_nsec)
			return;
		nanosleep(&tick, NULL);
	}
	fail_msg("%s: ctime never changed", path);
}

static enum dlg_action decide_fd(const struct dlg_db *db, struct dlg_subject *s,
				 const char *path, int fd, struct dlg_verdict *v)
{
	memset(s, 0, sizeof *s);
	s->path = path;
	s->fd = fd;
	return dlg_decide(db, s, v);
}

/* The decision took the digest from a fingerprint (want) or read the file,
 * whose content is then real. */
static void expect_source(int line, const struct dlg_subject *s, bool want,
			  const unsigned char *digest)
{
	if (!s->have_sha256 || s->sha256_fingerprint != want || s->hash_failed ||
	    memcmp(s->sha256, digest, DLG_SHA256_LEN) != 0)
		fail_msg("line %d: have %d fingerprint %d (want %d) failed %d, digest %s", line,
			 s->have_sha256, s->sha256_fingerprint, want, s->hash_failed,
			 memcmp(s->sha256, digest, DLG_SHA256_LEN) ? "other" : "as expected");
}

enum fp_field { FPF_DEV, FPF_INO, FPF_SIZE, FPF_MTIME, FPF_MTIME_NSEC, FPF_CTIME,
		FPF_CTIME_NSEC, FPF_PATH, FPF_N };

static void fp_change(struct dlg_fingerprint *f, enum fp_field k)
{
	switch (k) {
	case FPF_DEV: f->dev ^= 1; break;
	case FPF_INO: f->ino += 1; break;
	case FPF_SIZE: f->size += 1; break;
	case FPF_MTIME: f->mtime_sec -= 1; break;
	case FPF_MTIME_NSEC: f->mtime_nsec = (f->mtime_nsec + 1) % 1000000000u; break;
	case FPF_CTIME: f->ctime_sec += 1; break;
	case FPF_CTIME_NSEC: f->ctime_nsec = (f->ctime_nsec + 999999999u) % 1000000000u; break;
	default: f->path = (char *)"/opt/elsewhere/fp.so"; break;
	}
}

/* A fingerprint that claims the file holds "abc" while it holds "xyz": a
 * decision that follows the claim did not read the file. Every field must
 * match, the path too; a changed file is read; another policy does not
 * take the digest one policy's fingerprint gave. */
static void test_fingerprint_decide(void **state)
{
	char raw[PATH_MAX], canon[PATH_MAX], raw2[PATH_MAX], canon2[PATH_MAX];
	unsigned char abc[1][DLG_SHA256_LEN], xyz[DLG_SHA256_LEN], abd[DLG_SHA256_LEN];
	struct dlg_rule r[2];
	struct dlg_fingerprint fp[2];
	struct dlg_policy p;
	struct dlg_subject s;
	struct dlg_verdict v;
	struct dlg_db db, db2;
	unsigned char *buf, *buf2;
	struct stat st;
	size_t len, len2;
	char err[256];
	int fd, fd2;

	(void)state;
	hex32(ABC_HEX, abc[0]);
	sha256_of("xyz", xyz);
	sha256_of("abd", abd);
	tmp_path(raw, "fp.so");
	tmp_path(raw2, "fp2.so");
	write_fixture(raw, "xyz");
	write_fixture(raw2, "xyz");
	fd = open(raw, O_RDONLY | O_CLOEXEC);
	fd2 = open(raw2, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0 && fd2 >= 0);
	assert_int_equal(dlg_fd_canonical(fd, raw, canon, sizeof canon), 0);
	assert_int_equal(dlg_fd_canonical(fd2, raw2, canon2, sizeof canon2), 0);
	r[0] = mkrule(DLG_ACTION_ALLOW, 3, canon, NULL, NULL, abc, 1);
	r[1] = mkrule(DLG_ACTION_ALLOW, 4, canon2, NULL, NULL, abc, 1);
	p = mkpolicy(r, 2, DLG_ACTION_DENY);
	fp[0] = fp_of(fd, canon, abc[0]);
	p.fprints = fp;
	p.n_fprints = 1;
	buf = build(&p, &len);
	assert_int_equal(dlg_db_open_mem(&db, buf, len, err, sizeof err), 0);
	assert_int_equal(db.n_fprints, 1);
	assert_int_equal(decide_fd(&db, &s, canon, fd, &v), DLG_ACTION_ALLOW);
	assert_int_equal(v.rule, 1);
	expect_source(__LINE__, &s, true, abc[0]);
	assert_ptr_equal(s.sha256_db, db.base);
	/* the same inode under another path, another inode under its path */
	assert_int_equal(decide_fd(&db, &s, canon2, fd, &v), DLG_ACTION_DENY);
	expect_source(__LINE__, &s, false, xyz);
	assert_int_equal(decide_fd(&db, &s, canon2, fd2, &v), DLG_ACTION_DENY);
	expect_source(__LINE__, &s, false, xyz);
	/* no fd: nothing to fstat, a hashing failure as ever */
	assert_int_equal(decide_fd(&db, &s, canon, -1, &v), DLG_ACTION_DENY);
	assert_true(s.hash_failed);
	assert_false(s.sha256_fingerprint);

	/* a policy of its own (digest rule, no fingerprints) reads the file even
	 * after the first one took the digest from its fingerprint */
	{
		struct dlg_rule rd = mkrule(DLG_ACTION_ALLOW, 9, NULL, NULL, NULL, abc, 1);
		struct dlg_policy pd = mkpolicy(&rd, 1, DLG_ACTION_DENY);

		buf2 = build(&pd, &len2);
		assert_int_equal(dlg_db_open_mem(&db2, buf2, len2, err, sizeof err), 0);
		assert_int_equal(decide_fd(&db, &s, canon, fd, &v), DLG_ACTION_ALLOW);
		expect_source(__LINE__, &s, true, abc[0]);
		assert_int_equal(dlg_decide(&db2, &s, &v), DLG_ACTION_DENY);
		expect_source(__LINE__, &s, false, xyz);
		/* and a digest read from the file is every policy's */
		assert_int_equal(dlg_decide(&db, &s, &v), DLG_ACTION_DENY);
		expect_source(__LINE__, &s, false, xyz);
		free(buf2);
	}

	/* a digest-anchored rule uses the fingerprint as well */
	{
		struct dlg_rule rd = mkrule(DLG_ACTION_ALLOW, 9, NULL, NULL, NULL, abc, 1);
		struct dlg_policy pd = mkpolicy(&rd, 1, DLG_ACTION_DENY);

		pd.fprints = fp;
		pd.n_fprints = 1;
		buf2 = build(&pd, &len2);
		assert_int_equal(dlg_db_open_mem(&db2, buf2, len2, err, sizeof err), 0);
		assert_int_equal(decide_fd(&db2, &s, canon, fd, &v), DLG_ACTION_ALLOW);
		expect_source(__LINE__, &s, true, abc[0]);
		assert_int_equal(dlg_decide_scan(&db2, &s, &v), DLG_ACTION_ALLOW);
		free(buf2);
	}

	/* one field off, whichever: the file is read */
	for (int k = 0; k < FPF_N; k++) {
		struct dlg_fingerprint f = fp[0];

		fp_change(&f, (enum fp_field)k);
		p.fprints = &f;
		buf2 = build(&p, &len2);
		assert_int_equal(dlg_db_open_mem(&db2, buf2, len2, err, sizeof err), 0);
		if (decide_fd(&db2, &s, canon, fd, &v) != DLG_ACTION_DENY || v.rule != 0)
			fail_msg("field %d: rule %u", k, v.rule);
		expect_source(__LINE__, &s, false, xyz);
		free(buf2);
	}

	/* the fingerprint of the other inode applies to that inode only */
	fp[1] = fp_of(fd2, canon2, abc[0]);
	p.fprints = &fp[1];
	buf2 = build(&p, &len2);
	assert_int_equal(dlg_db_open_mem(&db2, buf2, len2, err, sizeof err), 0);
	assert_int_equal(decide_fd(&db2, &s, canon, fd, &v), DLG_ACTION_DENY);
	expect_source(__LINE__, &s, false, xyz);
	assert_int_equal(decide_fd(&db2, &s, canon2, fd2, &v), DLG_ACTION_ALLOW);
	assert_int_equal(v.rule, 2);
	expect_source(__LINE__, &s, true, abc[0]);
	free(buf2);

	/* both, in either order given: one table sorted by (ino, dev) */
	p.fprints = fp;
	p.n_fprints = 2;
	buf2 = build(&p, &len2);
	assert_int_equal(dlg_db_open_mem(&db2, buf2, len2, err, sizeof err), 0);
	assert_int_equal(decide_fd(&db2, &s, canon, fd, &v), DLG_ACTION_ALLOW);
	expect_source(__LINE__, &s, true, abc[0]);
	assert_int_equal(decide_fd(&db2, &s, canon2, fd2, &v), DLG_ACTION_ALLOW);
	expect_source(__LINE__, &s, true, abc[0]);
	free(buf2);

	/* the file rewritten in place, same size: read, and the verdict is
	 * the new content's, whichever it is */
	assert_int_equal(fstat(fd, &st), 0);
	rewrite_restamped(raw, "abd", &st);
	assert_int_equal(decide_fd(&db, &s, canon, fd, &v), DLG_ACTION_DENY);
	expect_source(__LINE__, &s, false, abd);
	assert_int_equal(fstat(fd, &st), 0);
	rewrite_restamped(raw, "abc", &st);
	assert_int_equal(decide_fd(&db, &s, canon, fd, &v), DLG_ACTION_ALLOW);
	expect_source(__LINE__, &s, false, abc[0]);

	close(fd);
	close(fd2);
	unlink(raw);
	unlink(raw2);
	free(buf);
}

/* A manifest entry's digest comes from the fingerprint too. */
static void test_fingerprint_manifest(void **state)
{
	static unsigned char der[32], sig[64];
	char raw[PATH_MAX], canon[PATH_MAX];
	struct dlg_manifest_entry ent;
	struct dlg_manifest man;
	struct dlg_key key = { .name = (char *)"k", .type = DLG_KEY_ED25519, .der = der,
			       .der_len = sizeof der };
	size_t first[1] = { 0 };
	struct dlg_fingerprint fp;
	struct dlg_rule r;
	struct dlg_policy p;
	struct dlg_subject s;
	struct dlg_verdict v;
	struct dlg_db db;
	unsigned char *buf, xyz[DLG_SHA256_LEN];
	size_t len;
	int fd;

	(void)state;
	sha256_of("xyz", xyz);
	tmp_path(raw, "mfp.so");
	write_fixture(raw, "xyz");
	fd = open(raw, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(dlg_fd_canonical(fd, raw, canon, sizeof canon), 0);
	ent.path = canon;
	hex32(ABC_HEX, ent.sha256);
	man = (struct dlg_manifest){ .path = (char *)"/etc/dlguard/m.sha256", .sig = sig,
				     .sig_len = sizeof sig, .key = 0, .entries = &ent,
				     .n_entries = 1 };
	r = mkrule(DLG_ACTION_ALLOW, 2, NULL, NULL, NULL, NULL, 0);
	r.signed_by = first;
	r.n_signed_by = 1;
	r.manifest = &man;
	p = mkpolicy(&r, 1, DLG_ACTION_DENY);
	p.keys = &key;
	p.n_keys = 1;
	fp = fp_of(fd, canon, ent.sha256);
	p.fprints = &fp;
	p.n_fprints = 1;
	buf = build(&p, &len);
	assert_int_equal(dlg_db_open_mem(&db, buf, len, NULL, 0), 0);
	assert_int_equal(decide_fd(&db, &s, canon, fd, &v), DLG_ACTION_ALLOW);
	expect_source(__LINE__, &s, true, ent.sha256);
	free(buf);
	p.n_fprints = 0;
	buf = build(&p, &len);
	assert_int_equal(dlg_db_open_mem(&db, buf, len, NULL, 0), 0);
	assert_int_equal(decide_fd(&db, &s, canon, fd, &v), DLG_ACTION_DENY);
	expect_source(__LINE__, &s, false, xyz);
	free(buf);
	close(fd);
	unlink(raw);
}

/* The writer's checks of the model, and its order. */
static void test_fingerprint_build(void **state)
{
	static unsigned char d[1][DLG_SHA256_LEN];
	struct dlg_rule r = mkrule(DLG_ACTION_ALLOW, 1, "/a.so", NULL, NULL, d, 1);
	struct dlg_fingerprint ok = { .dev = 3, .ino = 9, .size = 3, .path = (char *)"/a.so" };
	struct dlg_fingerprint f[2];
	const struct {
		const char *what;
		struct dlg_fingerprint a, b;
		size_t n;
	} cases[] = {
		{ "path not absolute", { .ino = 1, .path = NULL }, ok, 1 },
		{ "path not absolute", { .ino = 1, .path = (char *)"a.so" }, ok, 1 },
		{ "nanoseconds out of range", { .ino = 1, .mtime_nsec = 1000000000u,
		  .path = (char *)"/a.so" }, ok, 1 },
		{ "nanoseconds out of range", { .ino = 1, .ctime_nsec = UINT32_MAX,
		  .path = (char *)"/a.so" }, ok, 1 },
		{ "size", { .ino = 1, .size = -1, .path = (char *)"/a.so" }, ok, 1 },
		{ "two fingerprints of one file (dev 3, ino 9)", ok, ok, 2 },
		{ "two fingerprints of one file", ok, { .dev = 3, .ino = 9, .path = (char *)"/b.so" },
		  2 },
	};
	struct dlg_policy p = mkpolicy(&r, 1, DLG_ACTION_DENY);
	struct dlg_db db;
	unsigned char *buf, *buf2;
	size_t len, len2;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char err[256] = "";

		f[0] = cases[i].a;
		f[1] = cases[i].b;
		p.fprints = f;
		p.n_fprints = cases[i].n;
		buf = NULL;
		if (dlg_db_build(&p, &buf, &len, err, sizeof err) != -1 || buf ||
		    !strstr(err, cases[i].what))
			fail_msg("case %zu (%s): err '%s'", i, cases[i].what, err);
	}
	p.fprints = NULL;
	p.n_fprints = 1;
	assert_int_equal(dlg_db_build(&p, &buf, &len, NULL, 0), -1);

	/* sorted by (ino, dev) whatever the model's order; the same bytes */
	f[0] = ok;
	f[1] = ok;
	f[1].dev = 2;
	f[1].path = (char *)"/b.so";
	p.fprints = f;
	p.n_fprints = 2;
	buf = build(&p, &len);
	assert_int_equal(dlg_db_open_mem(&db, buf, len, NULL, 0), 0);
	assert_int_equal(db.n_fprints, 2);
	assert_int_equal(rd32(db.fprints + FP_DEV), 2);
	assert_int_equal(rd32(db.fprints + FP_SIZE + FP_DEV), 3);
	assert_string_equal(db.strings + rd32(db.fprints + FP_PATH), "/b.so");
	f[0] = f[1];
	f[1] = ok;
	buf2 = build(&p, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, buf2, len);
	free(buf);
	free(buf2);
}


/* Start-up verdicts: a fingerprint under a name, found by that exact name
 * and only with every stat field the same, in the mapped policy and by
 * pread; a damaged table is refused by the full check, and the unchecked
 * pread lookup still ends. */
static struct stat boot_stat(const struct dlg_fingerprint *f)
{
	struct stat st;

	memset(&st, 0, sizeof st);
	st.st_mode = S_IFREG | 0644;
	st.st_dev = (dev_t)f->dev;
	st.st_ino = (ino_t)f->ino;
	st.st_size = (off_t)f->size;
	st.st_mtim.tv_sec = (time_t)f->mtime_sec;
	st.st_mtim.tv_nsec = (long)f->mtime_nsec;
	st.st_ctim.tv_sec = (time_t)f->ctime_sec;
	st.st_ctim.tv_nsec = (long)f->ctime_nsec;
	return st;
}

#define BOOT_N 300

static void test_startup_verdicts(void **state)
{
	static struct dlg_fingerprint f[BOOT_N];
	static char names[BOOT_N][DLG_STARTUP_NAME_MAX + 1];
	struct dlg_rule r = mkrule(DLG_ACTION_ALLOW, 1, NULL, "/lib", NULL, NULL, 0);
	struct dlg_policy p = mkpolicy(&r, 1, DLG_ACTION_DENY);
	struct dlg_fingerprint bad[2];
	const struct {
		const char *what;
		struct dlg_fingerprint a, b;
		size_t n;
	} cases[] = {
		{ "start-up verdict 1: name not absolute", { .ino = 1 }, { 0 }, 1 },
		{ "name not absolute", { .ino = 1, .path = (char *)"lib/a.so" }, { 0 }, 1 },
		{ "name not absolute", { .ino = 1, .path = (char *)"" }, { 0 }, 1 },
		{ "longer than 79 bytes", { .ino = 1, .path = (char *)"/0123456789012345678901234567"
		  "890123456789012345678901234567890123456789012345678901" }, { 0 }, 1 },
		{ "out of range", { .ino = 1, .size = -1, .path = (char *)"/a.so" }, { 0 }, 1 },
		{ "out of range", { .ino = 1, .ctime_nsec = 1000000000u, .path = (char *)"/a.so" },
		  { 0 }, 1 },
		{ "two start-up verdicts for /a.so", { .ino = 1, .path = (char *)"/a.so" },
		  { .ino = 2, .path = (char *)"/a.so" }, 2 },
	};
	struct dlg_db db;
	struct dlg_db_head head;
	struct stat st, fst;
	unsigned char *buf, fp[DLG_DB_BOOT_FP];
	char path[] = "/tmp/dlguard-boot-XXXXXX", err[256];
	size_t len;
	int fd;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		err[0] = '\0';
		bad[0] = cases[i].a;
		bad[1] = cases[i].b;
		p.startup_fps = bad;
		p.n_startup = cases[i].n;
		buf = NULL;
		if (dlg_db_build(&p, &buf, &len, err, sizeof err) != -1 || buf ||
		    !strstr(err, cases[i].what))
			fail_msg("case %zu (%s): err '%s'", i, cases[i].what, err);
	}

	for (int i = 0; i < BOOT_N; i++) {
		/* names of every length up to the longest, many sharing a home */
		int n = snprintf(names[i], sizeof names[i], "/lib/x86_64-linux-gnu/lib%d.so", i);

		for (; i % 7 == 0 && n < DLG_STARTUP_NAME_MAX; n++)
			names[i][n] = 'x';
		names[i][n] = '\0';
		f[i] = (struct dlg_fingerprint){ .dev = 2049 + (uint64_t)(i % 3), .ino = 1000u + (uint64_t)i,
			.size = 4096 * i, .mtime_sec = 1700000000 + i, .mtime_nsec = (uint32_t)i * 7,
			.ctime_sec = 1700000100 + i, .ctime_nsec = (uint32_t)i * 11, .path = names[i] };
	}
	p.startup_fps = f;
	p.n_startup = BOOT_N;
	buf = build(&p, &len);
	assert_int_equal(dlg_db_open_mem(&db, buf, len, err, sizeof err), 0);
	assert_int_equal(db.n_boot, 512);
	for (int i = 0; i < BOOT_N; i++) {
		struct stat want = boot_stat(&f[i]), alt;

		assert_true(dlg_db_boot_allows(&db, names[i], &want));
		for (int k = 0; k < 8; k++) {
			alt = want;
			switch (k) {
			case 0: alt.st_dev++; break;
			case 1: alt.st_ino++; break;
			case 2: alt.st_size++; break;
			case 3: alt.st_mtim.tv_sec++; break;
			case 4: alt.st_mtim.tv_nsec++; break;
			case 5: alt.st_ctim.tv_sec--; break;
			case 6: alt.st_ctim.tv_nsec++; break;
			default: alt.st_mode = S_IFDIR | 0755; break;
			}
			if (dlg_db_boot_allows(&db, names[i], &alt))
				fail_msg("%s allowed with field %d changed", names[i], k);
		}
	}
	st = boot_stat(&f[1]);
	assert_false(dlg_db_boot_allows(&db, "/lib/x86_64-linux-gnu/lib1.s", &st));
	assert_false(dlg_db_boot_allows(&db, "/lib/x86_64-linux-gnu/lib1.so/", &st));
	assert_false(dlg_db_boot_allows(&db, "", &st));

	/* by pread, from the header alone */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(fstat(fd, &fst), 0);
	assert_int_equal(dlg_db_peek(fd, &fst, &head, err, sizeof err), 0);
	assert_int_equal(head.n_boot, 512);
	assert_int_equal(head.boot_off, (uint64_t)(db.boot - buf));
	for (int i = 0; i < BOOT_N; i++) {
		st = boot_stat(&f[i]);
		assert_int_equal(dlg_db_boot_find_fd(fd, &head, names[i], fp), 1);
		assert_true(dlg_db_boot_same(fp, &st));
	}
	assert_int_equal(dlg_db_boot_find_fd(fd, &head, "/nowhere.so", fp), 0);
	/* without fstat (an environment policy): the same, by the header's size */
	{
		struct dlg_db_head h2;

		assert_int_equal(dlg_db_peek(fd, NULL, &h2, err, sizeof err), 0);
		assert_int_equal(h2.n_boot, head.n_boot);
		assert_int_equal(h2.boot_off, head.boot_off);
		st = boot_stat(&f[0]);
		assert_int_equal(dlg_db_boot_find_fd(fd, &h2, names[0], fp), 1);
		assert_true(dlg_db_boot_same(fp, &st));
		/* cut short after the header: the header still reads, every
		 * lookup past the end fails (-1, never "known") */
		assert_int_equal(ftruncate(fd, (off_t)head.boot_off), 0);
		assert_int_equal(dlg_db_peek(fd, NULL, &h2, err, sizeof err), 0);
		for (int i = 0; i < BOOT_N; i++)
			assert_int_equal(dlg_db_boot_find_fd(fd, &h2, names[i], fp), -1);
		/* shorter than the header, or not a policy at all: refused */
		assert_int_equal(ftruncate(fd, 100), 0);
		assert_int_equal(dlg_db_peek(fd, NULL, &h2, err, sizeof err), -1);
		assert_non_null(strstr(err, "short"));
		assert_int_equal(ftruncate(fd, 0), 0);
		assert_int_equal(pwrite(fd, "garbage!", 8, 0), 8);
		assert_int_equal(ftruncate(fd, 4096), 0);
		assert_int_equal(dlg_db_peek(fd, NULL, &h2, err, sizeof err), -1);
		assert_int_equal(ftruncate(fd, 0), 0);
		assert_int_equal(pwrite(fd, buf, len, 0), (ssize_t)len);
		/* a header claiming more than 1 GiB */
		{
			unsigned char big[8] = { 0, 0, 0, 0, 1, 0, 0, 0 };

			assert_int_equal(pwrite(fd, big, 8, 16), 8);
			assert_int_equal(dlg_db_peek(fd, NULL, &h2, err, sizeof err), -1);
			assert_int_equal(pwrite(fd, buf + 16, 8, 16), 8);
		}
		assert_int_equal(dlg_db_peek(fd, NULL, &h2, err, sizeof err), 0);
	}
	/* a header that does not describe this file */
	st = fst;
	st.st_size--;
	assert_int_equal(dlg_db_peek(fd, &st, &head, err, sizeof err), -1);
	assert_non_null(strstr(err, "does not match header"));
	st.st_mode = S_IFIFO | 0644;
	assert_int_equal(dlg_db_peek(fd, &st, &head, err, sizeof err), -1);
	/* a file shorter than the header is read whole and refused as such */
	assert_int_equal(ftruncate(fd, 100), 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(dlg_db_peek(fd, &st, &head, err, sizeof err), -1);
	assert_non_null(strstr(err, "file size 100 is smaller than the header"));
	/* stat promising more than the file holds: a short read, refused */
	st.st_size = (off_t)len;
	assert_int_equal(dlg_db_peek(fd, &st, &head, err, sizeof err), -1);
	assert_non_null(strstr(err, "short"));
	assert_int_equal(pwrite(fd, buf, len, 0), (ssize_t)len);

	/* damage: found elsewhere, name padding, empty slot bytes */
	{
		unsigned char *t = (unsigned char *)db.boot, *a = NULL, *e = NULL, save[128];

		for (uint32_t i = 0; i < db.n_boot && (!a || !e); i++) {
			unsigned char *slot = t + (size_t)i * 128;

			if (slot[48] && !a && strlen((char *)slot + 48) < 70)
				a = slot;
			if (!slot[48] && !e)
				e = slot;
		}
		assert_non_null(a);
		assert_non_null(e);
		memcpy(save, a, 128);
		a[48 + strlen((char *)a + 48) + 1] = 'z';
		assert_int_equal(dlg_db_open_mem(&db, buf, len, err, sizeof err), -1);
		assert_non_null(strstr(err, "not NUL-padded"));
		memcpy(a, save, 128);
		e[3] = 1;
		assert_int_equal(dlg_db_open_mem(&db, buf, len, err, sizeof err), -1);
		assert_non_null(strstr(err, "empty but not zero"));
		e[3] = 0;
		/* moved to an empty slot: a lookup from its home no longer meets it */
		memcpy(e, a, 128);
		memset(a, 0, 128);
		assert_int_equal(dlg_db_open_mem(&db, buf, len, err, sizeof err), -1);
		assert_non_null(strstr(err, "not found there"));
		memcpy(a, e, 128);
		memset(e, 0, 128);
		assert_int_equal(dlg_db_open_mem(&db, buf, len, err, sizeof err), 0);
	}
	free(buf);

	/* a table with no empty slot (never written so): the unchecked lookup
	 * by pread still ends, with "not known" */
	p.n_startup = 2;
	buf = build(&p, &len);
	assert_int_equal(dlg_db_open_mem(&db, buf, len, err, sizeof err), 0);
	assert_int_equal(db.n_boot, 4);
	for (uint32_t i = 0; i < 4; i++) {
		unsigned char *slot = (unsigned char *)db.boot + (size_t)i * 128;

		if (!slot[48])
			memcpy(slot + 48, "/filler", 8);
	}
	assert_int_equal(dlg_db_open_mem(&db, buf, len, err, sizeof err), -1);
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(pwrite(fd, buf, len, 0), (ssize_t)len);
	assert_int_equal(fstat(fd, &fst), 0);
	assert_int_equal(dlg_db_peek(fd, &fst, &head, err, sizeof err), 0);
	assert_int_equal(dlg_db_boot_find_fd(fd, &head, "/nowhere.so", fp), 0);
	assert_int_equal(dlg_db_boot_find_fd(fd, &head, names[1], fp), 1);
	close(fd);
	unlink(path);
	free(buf);
}

/* quiet_allow: an allow verdict's reason is left unformatted, a denial's
 * never is; rule numbers are kept either way. */
static void test_quiet_allow(void **state)
{
	struct dlg_rule r[2];
	struct dlg_policy p;
	struct dlg_db db;
	struct dlg_verdict v;
	unsigned char *buf;
	size_t len;

	(void)state;
	r[0] = mkrule(DLG_ACTION_ALLOW, 3, NULL, "/usr/lib", NULL, NULL, 0);
	r[1] = mkrule(DLG_ACTION_DENY, 4, NULL, "/tmp", NULL, NULL, 0);
	for (int def = 0; def < 2; def++) {
		p = mkpolicy(r, 2, def ? DLG_ACTION_ALLOW : DLG_ACTION_DENY);
		buf = build(&p, &len);
		assert_int_equal(dlg_db_open_mem(&db, buf, len, NULL, 0), 0);
		{
			struct dlg_subject a = { .path = "/usr/lib/x.so", .fd = -1, .quiet_allow = true };
			struct dlg_subject d = { .path = "/tmp/x.so", .fd = -1, .quiet_allow = true };
			struct dlg_subject o = { .path = "/opt/x.so", .fd = -1, .quiet_allow = true };
			struct dlg_subject loud = { .path = "/usr/lib/x.so", .fd = -1 };

			memset(&v, 0x5a, sizeof v);
			assert_int_equal(dlg_decide(&db, &a, &v), DLG_ACTION_ALLOW);
			assert_int_equal(v.rule, 1);
			assert_string_equal(v.reason, "");
			assert_int_equal(dlg_decide(&db, &loud, &v), DLG_ACTION_ALLOW);
			assert_string_equal(v.reason, "rule 1 (line 3): allow dir /usr/lib");
			assert_int_equal(dlg_decide(&db, &d, &v), DLG_ACTION_DENY);
			assert_string_equal(v.reason, "rule 2 (line 4): deny dir /tmp");
			dlg_decide(&db, &o, &v);
			assert_int_equal(v.rule, 0);
			assert_string_equal(v.reason, def ? "" : "no rule matched; default deny");
		}
		free(buf);
	}
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/dlg-test-db.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	if (ref_file[0])
		unlink(ref_file);
	return rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_decide_known_digest),
		cmocka_unit_test(test_decide_no_policy),
		cmocka_unit_test(test_reason_truncated),
		cmocka_unit_test(test_accessor_and_dedupe),
		cmocka_unit_test(test_empty_policy),
		cmocka_unit_test(test_build_refuses),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_flipped),
		cmocka_unit_test(test_damaged_fields),
		cmocka_unit_test(test_write_open_file),
		cmocka_unit_test(test_open_file_odd),
		cmocka_unit_test(test_million_digests),
		cmocka_unit_test(test_index_same_as_scan),
		cmocka_unit_test(test_quiet_allow),
		cmocka_unit_test(test_index_collisions),
		cmocka_unit_test(test_index_hashing_order),
		cmocka_unit_test(test_index_deep_path),
		cmocka_unit_test(test_index_unsorted),
		cmocka_unit_test(test_index_many_digest_rules),
		cmocka_unit_test(test_decide_signatures),
		cmocka_unit_test(test_signature_tables),
		cmocka_unit_test(test_big_manifest),
		cmocka_unit_test(test_build_refuses_signatures),
		cmocka_unit_test(test_risk_fileless),
		cmocka_unit_test(test_risk_writable),
		cmocka_unit_test(test_risk_owner_fs),
		cmocka_unit_test(test_risk_recent),
		cmocka_unit_test(test_risk_order),
		cmocka_unit_test(test_risk_tables),
		cmocka_unit_test(test_name_tables),
		cmocka_unit_test(test_fingerprint_decide),
		cmocka_unit_test(test_fingerprint_manifest),
		cmocka_unit_test(test_fingerprint_build),
		cmocka_unit_test(test_startup_verdicts),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
