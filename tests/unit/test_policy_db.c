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
#include <sys/stat.h>
#include <unistd.h>

#include "policy_db.h"

/* The on-disk layout (docs/compiled-format.md), restated so a change to it
 * is a deliberate change to these tests too. */
#define HDR 96
#define RULE_SIZE 32
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
#define O_RESERVED 68
#define R_ACTION 0
#define R_PATH 8
#define R_DIR 12
#define R_EXE 16
#define R_FIRST 20
#define R_COUNT 24
#define R_RESERVED 28
#define NONE 0xFFFFFFFFu

/* SHA-256 of "abc" (FIPS 180-2 example), the content of the hashed fixture. */
static const char ABC_HEX[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

static char tmpdir[PATH_MAX];

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
	assert_int_equal(db.digests[DLG_SHA256_LEN], 0x30);

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

/* A policy with every kind of field present, for the damage tests. */
static unsigned char *reference_db(size_t *len)
{
	static unsigned char d[2][DLG_SHA256_LEN];
	static struct dlg_rule r[3];
	struct dlg_policy p;

	memset(d[0], 0xaa, DLG_SHA256_LEN);
	memset(d[1], 0x55, DLG_SHA256_LEN);
	r[0] = mkrule(DLG_ACTION_ALLOW, 5, "/opt/p/x.so", "/opt/p", "/usr/bin/app", d, 2);
	r[1] = mkrule(DLG_ACTION_DENY, 6, NULL, "/tmp", NULL, NULL, 0);
	r[2] = mkrule(DLG_ACTION_ALLOW, 7, NULL, "/", NULL, d, 1);
	p = mkpolicy(r, 3, DLG_ACTION_DENY);
	p.log_file = (char *)"/var/log/dlguard.log";
	p.log_stderr = true;
	return build(&p, len);
}

/* Every API on an accepted db, to show it stays in bounds. */
static void exercise(const struct dlg_db *db)
{
	static const char *const paths[] = { "/opt/p/x.so", "/tmp/a.so", "/x.so", "/" };
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
	if (db->log_file)
		assert_true(strlen(db->log_file) < db->strings_len);
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
					if (k != 1 || (i != O_MODE && i != O_FLAGS && i != O_SOURCE))
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
	/* In the header only three one-bit changes leave a valid file: mode
	 * enforce -> audit, the syslog flag, and the source name's offset
	 * moved by one character (any string may name the source). Elsewhere,
	 * line numbers, digests and string bytes may change. */
	assert_int_equal(header_accepted, 3);
	assert_true(accepted > header_accepted);
	free(ref);
}

enum width { W32, W64, W8 };

struct damage {
	const char *what;       /* expected in the error message */
	long where;             /* byte offset; negative: from the first rule record */
	enum width w;
	uint64_t value;
	bool relative;          /* value is added to the current field */
};

#define RULE0(f) (-1 - (long)(f))

static void test_damaged_fields(void **state)
{
	unsigned char *ref, *c;
	size_t len;
	struct dlg_db db;
	char err[256];
	uint32_t strlen_, nd, rules_off, str_off;

	(void)state;
	ref = reference_db(&len);
	strlen_ = rd32(ref + O_STRLEN);
	nd = rd32(ref + O_NDIGESTS);
	rules_off = rd32(ref + O_RULES);
	str_off = rd32(ref + O_STRINGS);
	assert_int_equal(rules_off, HDR);
	assert_int_equal(nd, 3);

	const struct damage cases[] = {
		{ "bad magic", 0, W8, 'X', false },
		{ "bad magic", 7, W8, 1, false },
		{ "unsupported format version 2", O_VERSION, W32, 2, false },
		{ "unsupported format version 0", O_VERSION, W32, 0, false },
		{ "header size", O_HSIZE, W32, 64, false },
		{ "header size", O_HSIZE, W32, 97, false },
		{ "does not match header", O_FSIZE, W64, 1, true },
		{ "does not match header", O_FSIZE, W64, (uint64_t)-1, true },
		{ "does not match header", O_FSIZE, W64, 1ull << 32, true },
		{ "bad mode 2", O_MODE, W32, 2, false },
		{ "bad default action 0", O_DEFAULT, W32, 0, false },
		{ "bad default action 3", O_DEFAULT, W32, 3, false },
		{ "unknown flags", O_FLAGS, W32, 4, false },
		{ "unknown flags", O_FLAGS, W32, 0x80000000u, false },
		{ "log file offset", O_LOGFILE, W32, strlen_, false },
		{ "log file offset", O_LOGFILE, W32, NONE - 1, false },
		{ "source offset", O_SOURCE, W32, strlen_, false },
		{ "source offset", O_SOURCE, W32, NONE, false },
		{ "rules", O_NRULES, W32, NONE, false },                /* count * 32 > 2^32 */
		{ "rules", O_NRULES, W32, 0x08000000u, false },         /* count * 32 = 2^32 */
		{ "tables overlap", O_NRULES, W32, 4, false },          /* runs into digests */
		{ "not 4-byte aligned", O_RULES, W32, 1, true },
		{ "not 4-byte aligned", O_RULES, W32, 2, true },
		{ "overlaps the header", O_RULES, W32, 0, false },
		{ "overlaps the header", O_RULES, W32, HDR - 4, false },
		{ "rules", O_RULES, W32, 0xFFFFFFFCu, false },
		{ "digests", O_NDIGESTS, W32, NONE, false },
		{ "digests", O_NDIGESTS, W32, 0x08000000u, false },
		{ "digests", O_DIGESTS, W32, 0xFFFFFFE0u, false },
		{ "overlap", O_DIGESTS, W32, HDR, false },
		{ "not 4-byte aligned", O_DIGESTS, W32, 1, true },
		{ "not contiguous", O_NRULES, W32, (uint32_t)-1, true },  /* drops a rule */
		{ "not contiguous", O_NDIGESTS, W32, (uint32_t)-1, true },
		{ "not contiguous", O_NRULES, W32, 0, false },
		{ "strings", O_STRINGS, W32, 1, true },
		{ "strings", O_STRLEN, W32, 1, true },
		{ "strings", O_STRLEN, W32, NONE, false },
		{ "not NUL-terminated", O_STRLEN, W32, 0, false },
		{ "not NUL-terminated", O_STRLEN, W32, (uint32_t)-1, true },
		{ "reserved header byte 68", O_RESERVED, W8, 1, false },
		{ "reserved header byte 95", HDR - 1, W8, 0x80, false },
		{ "rule 1: bad action 0", RULE0(R_ACTION), W32, 0, false },
		{ "rule 1: bad action 3", RULE0(R_ACTION), W32, 3, false },
		{ "rule 1: path offset out of range", RULE0(R_PATH), W32, strlen_, false },
		{ "rule 1: path offset out of range", RULE0(R_PATH), W32, NONE - 1, false },
		{ "rule 1: dir offset out of range", RULE0(R_DIR), W32, strlen_, false },
		{ "rule 1: exe offset out of range", RULE0(R_EXE), W32, strlen_, false },
		{ "rule 1: path is not absolute", RULE0(R_PATH), W32, 1, true },
		{ "rule 1: digest slice", RULE0(R_COUNT), W32, 2, true },
		{ "rule 1: digest slice", RULE0(R_FIRST), W32, 2, true },
		{ "rule 1: digest slice", RULE0(R_FIRST), W32, NONE, false },
		{ "rule 1: reserved", RULE0(R_RESERVED), W32, 1, false },
		{ "rule 2: no condition", RULE0(RULE_SIZE + R_DIR), W32, NONE, false },
		{ "rule 3: bad action", RULE0(2 * RULE_SIZE + R_ACTION), W32, 7, false },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct damage *d = &cases[i];
		size_t at = d->where >= 0 ? (size_t)d->where : rules_off + (size_t)(-1 - d->where);

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

	/* and the untouched reference opens: the cases above changed one thing */
	c = dup_exact(ref, len);
	assert_int_equal(dlg_db_open_mem(&db, c, len, err, sizeof err), 0);
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

/* ------------------------------------------------------------------ scale */

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
	assert_int_equal(len, HDR + RULE_SIZE + n * DLG_SHA256_LEN + rd32(buf + O_STRLEN));
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

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/dlg-test-db.XXXXXX");
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
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
