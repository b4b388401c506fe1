/* Policy text parser: every accepted form and every error class, with the
 * line each finding must carry. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy_conf.h"

#define H_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define H_A_UP "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"
#define H_B "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff00"
#define H_63 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde"
#define H_65 H_A "0"
#define HEAD "version = 1;\ndefault = \"deny\";\n"

static const unsigned char BYTES_A[DLG_SHA256_LEN] = {
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
};

static const struct dlg_diag *find_diag(const struct dlg_diags *d, enum dlg_diag_level level,
					unsigned line, const char *sub)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].level == level && d->v[i].line == line && strstr(d->v[i].msg, sub))
			return &d->v[i];
	return NULL;
}

static void dump(const struct dlg_diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		print_message("  diag %s line %u: %s\n",
			      d->v[i].level == DLG_DIAG_ERROR ? "error" : "warning", d->v[i].line,
			      d->v[i].msg);
}

static size_t count_level(const struct dlg_diags *d, enum dlg_diag_level level)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		n += d->v[i].level == level;
	return n;
}

/* ---- valid texts -------------------------------------------------------- */

static void test_minimal(void **state)
{
	struct dlg_diags d = { 0 };
	struct dlg_policy *p;

	(void)state;
	p = dlg_policy_parse_string(HEAD, "min.conf", &d);
	assert_non_null(p);
	assert_int_equal(d.n, 0);
	assert_int_equal(d.n_errors, 0);
	assert_string_equal(p->source, "min.conf");
	assert_int_equal(p->version, 1);
	assert_int_equal(p->mode, DLG_MODE_ENFORCE);
	assert_int_equal(p->default_action, DLG_ACTION_DENY);
	assert_true(p->log_syslog);
	assert_false(p->log_stderr);
	assert_null(p->log_file);
	assert_int_equal(p->n_rules, 0);
	assert_null(p->rules);
	dlg_policy_free(p);
	dlg_diags_free(&d);
	assert_null(d.v);
}

static const char FULL[] =
	"version = 1;                 # required, must be 1\n"                       /* 1 */
	"mode    = \"audit\";\n"                                                      /* 2 */
	"default = \"deny\";\n"                                                       /* 3 */
	"log = { syslog = false; file = \"/var/log/dlguard.jsonl\"; stderr = true; };\n" /* 4 */
	"rules = (\n"                                                                 /* 5 */
	"  { action = \"allow\"; dir = \"/usr/lib/x86_64-linux-gnu\"; },\n"           /* 6 */
	"  { action = \"allow\"; path = \"/opt/app/lib/libplugin.so\"; sha256 = \"" H_A "\"; },\n" /* 7 */
	"  { action = \"allow\"; sha256 = [ \"" H_B "\", \"" H_A_UP "\" ]; },\n"      /* 8 */
	"  { action = \"deny\";  dir = \"/tmp\"; },\n"                                /* 9 */
	"  {\n"                                                                       /* 10 */
	"    action = \"allow\";\n"
	"    exe = \"/usr/bin/python3.11\";\n"
	"    dir = \"/opt/py-plugins\";\n"
	"  }\n"
	");\n";

static void test_full_example(void **state)
{
	struct dlg_diags d = { 0 };
	struct dlg_policy *p;
	const struct dlg_rule *r;

	(void)state;
	p = dlg_policy_parse_string(FULL, "full.conf", &d);
	dump(&d);
	assert_non_null(p);
	assert_int_equal(d.n, 0);
	assert_int_equal(p->mode, DLG_MODE_AUDIT);
	assert_int_equal(p->default_action, DLG_ACTION_DENY);
	assert_false(p->log_syslog);
	assert_true(p->log_stderr);
	assert_string_equal(p->log_file, "/var/log/dlguard.jsonl");
	assert_int_equal(p->n_rules, 5);

	r = &p->rules[0];
	assert_int_equal(r->action, DLG_ACTION_ALLOW);
	assert_int_equal(r->line, 6);
	assert_string_equal(r->dir, "/usr/lib/x86_64-linux-gnu");
	assert_null(r->path);
	assert_null(r->exe);
	assert_int_equal(r->n_sha256, 0);
	assert_null(r->sha256);

	r = &p->rules[1];
	assert_int_equal(r->line, 7);
	assert_string_equal(r->path, "/opt/app/lib/libplugin.so");
	assert_null(r->dir);
	assert_int_equal(r->n_sha256, 1);
	assert_memory_equal(r->sha256[0], BYTES_A, DLG_SHA256_LEN);

	r = &p->rules[2];
	assert_int_equal(r->line, 8);
	assert_null(r->path);
	assert_null(r->dir);
	assert_int_equal(r->n_sha256, 2);
	/* stored sorted: 01.. before ff.. whatever the written order */
	assert_memory_equal(r->sha256[0], BYTES_A, DLG_SHA256_LEN);
	assert_int_equal(r->sha256[1][0], 0xff);
	assert_int_equal(r->sha256[1][31], 0x00);

	r = &p->rules[3];
	assert_int_equal(r->action, DLG_ACTION_DENY);
	assert_int_equal(r->line, 9);
	assert_string_equal(r->dir, "/tmp");

	r = &p->rules[4];
	assert_int_equal(r->line, 10);
	assert_string_equal(r->exe, "/usr/bin/python3.11");
	assert_string_equal(r->dir, "/opt/py-plugins");
	dlg_policy_free(p);
	dlg_diags_free(&d);
}

/* Forms that parse cleanly, each with a field check. */
static void test_valid_table(void **state)
{
	static const struct {
		const char *text;
		size_t n_rules;
		size_t n_sha;           /* of rule 0 */
	} cases[] = {
		{ HEAD "rules = ();\n", 0, 0 },
		{ HEAD "rules = ( { action = \"allow\"; sha256 = \"" H_A "\"; } );\n", 1, 1 },
		{ HEAD "rules = ( { action = \"allow\"; sha256 = [ \"" H_A "\" ]; } );\n", 1, 1 },
		{ HEAD "rules = ( { action = \"allow\"; sha256 = \"" H_A_UP "\"; } );\n", 1, 1 },
		{ HEAD "rules = ( { action = \"deny\"; dir = \"/\"; } );\n", 1, 0 },
		{ HEAD "rules = ( { action = \"deny\"; dir = \"/a\"; exe = \"/b\"; sha256 = \"" H_A "\"; } );\n", 1, 1 },
		{ "default = \"deny\"; version = 1L;\n", 0, 0 },
		{ "version = 1; default = \"allow\"; rules = ( { action = \"deny\"; dir = \"/tmp\"; } );", 1, 0 },
		{ HEAD "log = { };\n", 0, 0 },
		/* names that only look like dot components are fine */
		{ HEAD "rules = ( { action = \"allow\"; dir = \"/a/.b/..c/...\"; } );\n", 1, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct dlg_diags d = { 0 };
		struct dlg_policy *p = dlg_policy_parse_string(cases[i].text, "v", &d);

		print_message("case %zu\n", i);
		dump(&d);
		assert_non_null(p);
		assert_int_equal(d.n_errors, 0);
		assert_int_equal(count_level(&d, DLG_DIAG_WARNING), 0);
		assert_int_equal(p->n_rules, cases[i].n_rules);
		if (p->n_rules) {
			assert_int_equal(p->rules[0].n_sha256, cases[i].n_sha);
			if (cases[i].n_sha)
				assert_memory_equal(p->rules[0].sha256[0], BYTES_A, DLG_SHA256_LEN);
		}
		dlg_policy_free(p);
		dlg_diags_free(&d);
	}
}

/* ---- errors: one per case, with the line and a part of the message ----- */

struct err_case {
	const char *text;
	unsigned line;
	const char *sub;
};

#define RULE(body) HEAD "rules = (\n  { " body " }\n);\n"    /* rule on line 4 */

static const struct err_case ERRORS[] = {
	/* syntax, from libconfig */
	{ "version = 1;\ndefault = \"deny\"\nrules = ( { ;\n", 3, "libconfig: syntax error" },
	{ "version = 1;\nversion = 1;\n", 2, "given twice" },
	{ HEAD "log = { syslog = true;\n syslog = false; };\n", 4, "given twice" },
	{ RULE("action = \"allow\"; dir = \"/a\"; dir = \"/b\";"), 4, "given twice" },
	{ HEAD "\n  @include \"/etc/hostname\"\n", 4, "@include is not allowed" },
	/* top level */
	{ HEAD "colour = \"red\";\n", 3, "unknown top-level key \"colour\"" },
	{ HEAD "Mode = \"audit\";\n", 3, "unknown top-level key \"Mode\"" },
	{ "default = \"deny\";\n", 0, "version is missing" },
	{ "version = 1;\n", 0, "default is missing" },
	{ "version = 0;\ndefault = \"deny\";\n", 1, "version 0 is not supported" },
	{ "version = 2;\ndefault = \"deny\";\n", 1, "version 2 is not supported" },
	{ "version = \"1\";\ndefault = \"deny\";\n", 1, "version must be the integer 1, not a string" },
	{ "version = 1.0;\ndefault = \"deny\";\n", 1, "not a number" },
	{ HEAD "mode = 1;\n", 3, "mode must be the string \"enforce\" or \"audit\", not an integer" },
	{ HEAD "mode = \"AUDIT\";\n", 3, "mode must be \"enforce\" or \"audit\", not \"AUDIT\"" },
	{ HEAD "mode = \"\";\n", 3, "not \"\"" },
	{ "version = 1;\ndefault = \"permit\";\n", 2, "default must be \"allow\" or \"deny\"" },
	{ "version = 1;\ndefault = true;\n", 2, "not a boolean" },
	/* log */
	{ HEAD "log = true;\n", 3, "log must be a group" },
	{ HEAD "log = { syslog = 1; };\n", 3, "log.syslog must be true or false, not an integer" },
	{ HEAD "log = { stderr = \"yes\"; };\n", 3, "log.stderr must be true or false" },
	{ HEAD "log = { file = \"var/log/x\"; };\n", 3, "file \"var/log/x\" is not absolute" },
	{ HEAD "log = { file = \"\"; };\n", 3, "file is empty" },
	{ HEAD "log = { file = \"/\"; };\n", 3, "not a file" },
	{ HEAD "log = { file = 3; };\n", 3, "file must be a string" },
	{ HEAD "log = { level = 3; };\n", 3, "unknown key \"level\" in log" },
	/* rules container */
	{ HEAD "rules = [];\n", 3, "rules must be a list" },
	{ HEAD "rules = { };\n", 3, "rules must be a list ( { ... }, { ... } ), not a group" },
	{ HEAD "rules = \"all\";\n", 3, "not a string" },
	/* a scalar list element gets the line of the token after it (libconfig
	 * 1.5), so keep the comma on the same line here */
	{ HEAD "rules = (\n  \"x\",\n  { action = \"deny\"; dir = \"/a\"; }\n);\n", 4, "rule 1 must be a group" },
	{ HEAD "rules = (\n  ( )\n);\n", 4, "rule 1 must be a group { action = ...; ... }, not a list" },
	/* one rule */
	{ RULE("dir = \"/a\";"), 4, "rule 1 has no action" },
	{ RULE("action = \"allow\";"), 4, "rule 1 has no condition" },
	{ RULE("action = \"allow\"; exe = \"/usr/bin/x\";"), 4, "only exe, which would match everything" },
	{ RULE("action = \"allow\"; path = \"/a/b.so\"; dir = \"/a\";"), 4, "both path and dir" },
	{ RULE("action = \"permit\"; dir = \"/a\";"), 4, "rule 1: action must be \"allow\" or \"deny\", not \"permit\"" },
	{ RULE("action = 1; dir = \"/a\";"), 4, "action must be the string" },
	{ RULE("action = \"allow\"; dir = \"/a\"; paht = \"/b\";"), 4, "rule 1: unknown key \"paht\"" },
	/* paths */
	{ RULE("action = \"allow\"; dir = \"lib\";"), 4, "rule 1: dir \"lib\" is not absolute" },
	{ RULE("action = \"allow\"; path = \"./x.so\";"), 4, "not absolute" },
	{ RULE("action = \"allow\"; dir = \"\";"), 4, "rule 1: dir is empty" },
	{ RULE("action = \"allow\"; dir = \"/a//b\";"), 4, "contains \"//\"" },
	{ RULE("action = \"allow\"; dir = \"//\";"), 4, "contains \"//\"" },
	{ RULE("action = \"allow\"; dir = \"/a/\";"), 4, "ends with '/'" },
	{ RULE("action = \"allow\"; path = \"/a/b.so/\";"), 4, "ends with '/'" },
	{ RULE("action = \"allow\"; dir = \"/a/./b\";"), 4, "\".\" or \"..\" component" },
	{ RULE("action = \"allow\"; dir = \"/a/..\";"), 4, "\".\" or \"..\" component" },
	{ RULE("action = \"allow\"; dir = \"/..\";"), 4, "component" },
	{ RULE("action = \"allow\"; path = \"/.\";"), 4, "component" },
	{ RULE("action = \"allow\"; path = \"/\";"), 4, "path \"/\" is a directory" },
	{ RULE("action = \"allow\"; dir = \"/a\"; exe = \"/\";"), 4, "exe \"/\" is a directory" },
	{ RULE("action = \"allow\"; dir = \"/a\"; exe = \"python3\";"), 4, "exe \"python3\" is not absolute" },
	{ RULE("action = \"allow\"; dir = 5;"), 4, "dir must be a string (an absolute path), not an integer" },
	{ RULE("action = \"allow\"; dir = [ \"/a\" ];"), 4, "not an array" },
	{ RULE("action = \"allow\"; path = \"a\\n\\x1b[31m\";"), 4, "\"a\\x0a\\x1b[31m\" is not absolute" },
	/* digests */
	{ RULE("action = \"allow\"; sha256 = 5;"), 4, "sha256 must be a string or an array of strings" },
	{ RULE("action = \"allow\"; sha256 = ( \"" H_A "\" );"), 4, "not a list" },
	{ RULE("action = \"allow\"; sha256 = [ ];"), 4, "sha256 array is empty" },
	{ RULE("action = \"allow\"; sha256 = [ 1, 2 ];"), 4, "sha256 item 1 must be a string, not an integer" },
	{ RULE("action = \"allow\"; sha256 = \"\";"), 4, "has 0 characters" },
	{ RULE("action = \"allow\"; sha256 = \"" H_63 "\";"), 4, "has 63 characters; a SHA-256 digest is exactly 64 hex digits" },
	{ RULE("action = \"allow\"; sha256 = \"" H_65 "\";"), 4, "has 65 characters" },
	{ RULE("action = \"allow\"; sha256 = \"g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\";"), 4, "non-hex character at position 1" },
	{ RULE("action = \"allow\"; sha256 = \"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde \";"), 4, "non-hex character at position 64" },
	{ RULE("action = \"allow\"; sha256 = \"0x23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\";"), 4, "non-hex character at position 2" },
	{ RULE("action = \"allow\"; sha256 = [ \"" H_A "\", \"" H_B "\", \"" H_A_UP "\" ];"), 4, "sha256 item 3 repeats an earlier digest" },
	/* whole policy */
	{ HEAD "rules = (\n  { action = \"allow\"; dir = \"/a\"; },\n  { action = \"allow\"; dir = \"/a\"; }\n);\n",
	  5, "rule 2 is a duplicate of rule 1 at line 4" },
	{ HEAD "rules = (\n  { action = \"allow\"; sha256 = [ \"" H_A "\", \"" H_B "\" ]; },\n"
	  "  { action = \"deny\"; dir = \"/x\"; },\n"
	  "  { sha256 = [ \"" H_B "\", \"" H_A "\" ]; action = \"allow\"; }\n);\n",
	  6, "rule 3 is a duplicate of rule 1 at line 4" },
	{ HEAD "rules = (\n  { action = \"deny\"; dir = \"/a\"; exe = \"/e\"; },\n"
	  "  { action = \"allow\"; dir = \"/a\"; exe = \"/e\"; },\n"
	  "  { exe = \"/e\"; dir = \"/a\"; action = \"allow\"; }\n);\n",
	  6, "rule 3 is a duplicate of rule 2 at line 5" },
};

static void test_error_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof ERRORS / sizeof ERRORS[0]; i++) {
		struct dlg_diags d = { 0 };
		struct dlg_policy *p = dlg_policy_parse_string(ERRORS[i].text, "e.conf", &d);

		print_message("case %zu: want line %u \"%s\"\n", i, ERRORS[i].line, ERRORS[i].sub);
		dump(&d);
		assert_null(p);
		assert_true(d.n_errors >= 1);
		assert_int_equal(count_level(&d, DLG_DIAG_ERROR), d.n_errors);
		assert_non_null(find_diag(&d, DLG_DIAG_ERROR, ERRORS[i].line, ERRORS[i].sub));
		dlg_diags_free(&d);
	}
}

/* Each error is reported once: a bad value does not also cause "no
 * condition" or similar follow-up noise. */
static void test_single_error_each(void **state)
{
	static const char *texts[] = {
		RULE("action = \"allow\"; dir = \"rel\";"),
		RULE("action = \"allow\"; sha256 = \"" H_63 "\";"),
		RULE("action = \"bogus\"; dir = \"/a\";"),
		RULE("action = \"allow\"; exe = \"/e\";"),
		HEAD "mode = 1;\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		struct dlg_diags d = { 0 };

		assert_null(dlg_policy_parse_string(texts[i], "s", &d));
		dump(&d);
		assert_int_equal(d.n_errors, 1);
		assert_int_equal(d.n, 1);
		dlg_diags_free(&d);
	}
}

static void test_multiple_errors(void **state)
{
	static const char text[] =
		"version = 2;\n"                                              /* 1 */
		"mode = 1;\n"                                                 /* 2 */
		"default = \"deny\";\n"                                       /* 3 */
		"rules = (\n"                                                 /* 4 */
		"  { action = \"allow\"; dir = \"/a\"; },\n"                  /* 5 */
		"  { action = \"allow\"; dir = \"x\"; },\n"                   /* 6 */
		"  { action = \"allow\"; dir = \"/a\"; },\n"                  /* 7 */
		"  { action = \"allow\"; sha256 = \"" H_63 "\"; },\n"         /* 8 */
		"  { action = \"allow\"; dir = \"/b\"; bogus = 1; }\n"        /* 9 */
		");\n"
		"extra = 1;\n";                                               /* 11 */
	struct dlg_diags d = { 0 };

	(void)state;
	assert_null(dlg_policy_parse_string(text, "m.conf", &d));
	dump(&d);
	assert_int_equal(d.n_errors, 7);
	assert_non_null(find_diag(&d, DLG_DIAG_ERROR, 1, "version 2"));
	assert_non_null(find_diag(&d, DLG_DIAG_ERROR, 2, "mode must be"));
	assert_non_null(find_diag(&d, DLG_DIAG_ERROR, 6, "rule 2: dir \"x\""));
	assert_non_null(find_diag(&d, DLG_DIAG_ERROR, 7, "rule 3 is a duplicate of rule 1 at line 5"));
	assert_non_null(find_diag(&d, DLG_DIAG_ERROR, 8, "rule 4: sha256"));
	assert_non_null(find_diag(&d, DLG_DIAG_ERROR, 9, "rule 5: unknown key \"bogus\""));
	assert_non_null(find_diag(&d, DLG_DIAG_ERROR, 11, "unknown top-level key \"extra\""));
	/* reported in file order */
	for (size_t i = 1; i < d.n; i++)
		assert_true(d.v[i - 1].line <= d.v[i].line);
	dlg_diags_free(&d);
}

/* Diagnostics accumulate across calls; errors of an earlier call do not
 * make a later valid text fail. */
static void test_diags_accumulate(void **state)
{
	struct dlg_diags d = { 0 };
	struct dlg_policy *p;

	(void)state;
	assert_null(dlg_policy_parse_string("version = 1;", "a", &d));
	assert_int_equal(d.n_errors, 1);
	p = dlg_policy_parse_string(HEAD, "b", &d);
	assert_non_null(p);
	assert_int_equal(d.n_errors, 1);
	assert_int_equal(d.n, 1);
	dlg_policy_free(p);
	dlg_diags_free(&d);
	assert_int_equal(d.n, 0);
	assert_int_equal(d.n_errors, 0);
	dlg_diags_free(NULL);
	dlg_policy_free(NULL);
}

/* Thousands of errors: every one counted, storage bounded. */
static void test_many_errors(void **state)
{
	const size_t n = 3000;
	size_t len = 64 + n * 40, o;
	char *text = malloc(len);
	struct dlg_diags d = { 0 };

	(void)state;
	assert_non_null(text);
	o = (size_t)snprintf(text, len, HEAD "rules = (\n");
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(text + o, len - o, "{ action = \"allow\"; dir = \"r\"; },\n");
	snprintf(text + o, len - o, "{ action = \"deny\"; dir = \"/z\"; }\n);\n");
	assert_null(dlg_policy_parse_string(text, "many", &d));
	assert_int_equal(d.n_errors, n);
	assert_true(d.n <= 1000);
	assert_int_equal(d.v[d.n - 1].level, DLG_DIAG_WARNING);
	assert_non_null(strstr(d.v[d.n - 1].msg, "too many problems"));
	assert_int_equal(d.v[0].line, 4);
	dlg_diags_free(&d);
	free(text);
}

static void test_path_length(void **state)
{
	char *text = malloc(PATH_MAX + 200);
	char *path = malloc(PATH_MAX + 1);
	struct dlg_diags d = { 0 };
	struct dlg_policy *p;

	(void)state;
	assert_non_null(text);
	assert_non_null(path);
	/* PATH_MAX - 1 bytes: the longest a path can be */
	memset(path, 'a', PATH_MAX - 1);
	path[0] = '/';
	path[PATH_MAX - 1] = '\0';
	snprintf(text, PATH_MAX + 200, HEAD "rules = ( { action = \"allow\"; dir = \"%s\"; } );", path);
	p = dlg_policy_parse_string(text, "long", &d);
	assert_non_null(p);
	assert_int_equal(strlen(p->rules[0].dir), PATH_MAX - 1);
	dlg_policy_free(p);
	/* one more */
	path[PATH_MAX - 1] = 'a';
	path[PATH_MAX] = '\0';
	snprintf(text, PATH_MAX + 200, HEAD "rules = ( { action = \"allow\"; dir = \"%s\"; } );", path);
	assert_null(dlg_policy_parse_string(text, "long", &d));
	assert_non_null(find_diag(&d, DLG_DIAG_ERROR, 3, "more than a path can be"));
	/* messages stay bounded and NUL-terminated */
	for (size_t i = 0; i < d.n; i++)
		assert_true(strlen(d.v[i].msg) < sizeof d.v[i].msg);
	dlg_diags_free(&d);
	free(path);
	free(text);
}

/* ---- warnings ----------------------------------------------------------- */

struct warn_case {
	const char *text;
	unsigned line;
	const char *sub;        /* NULL: expect no warning at all */
};

static const struct warn_case WARNINGS[] = {
	{ "version = 1;\ndefault = \"allow\";\n", 2, "policy allows everything" },
	{ "version = 1;\ndefault = \"allow\";\nrules = ();\n", 2, "policy allows everything" },
	{ "version = 1;\ndefault = \"deny\";\nrules = ();\n", 0, NULL },
	/* same conditions, other action: the second can never decide */
	{ HEAD "rules = (\n  { action = \"allow\"; dir = \"/a\"; },\n  { action = \"deny\"; dir = \"/a\"; }\n);\n",
	  5, "rule 2 can never match: rule 1 at line 4 has the same conditions" },
	/* a dir covers a dir below it, and a path below it */
	{ HEAD "rules = (\n  { action = \"allow\"; dir = \"/a\"; },\n  { action = \"deny\"; dir = \"/a/b\"; }\n);\n",
	  5, "rule 2 can never match: rule 1 at line 4 already matches everything" },
	{ HEAD "rules = (\n  { action = \"allow\"; dir = \"/a\"; },\n"
	  "  { action = \"deny\"; path = \"/a/b/c.so\"; exe = \"/e\"; sha256 = \"" H_A "\"; }\n);\n",
	  5, "rule 2 can never match" },
	{ HEAD "rules = (\n  { action = \"deny\"; dir = \"/\"; },\n  { action = \"allow\"; dir = \"/usr/lib\"; }\n);\n",
	  5, "rule 2 can never match: rule 1" },
	{ HEAD "rules = (\n  { action = \"allow\"; path = \"/a/x.so\"; },\n"
	  "  { action = \"deny\"; path = \"/a/x.so\"; sha256 = \"" H_A "\"; }\n);\n",
	  5, "rule 2 can never match" },
	/* not covered: sibling with a common prefix, narrower earlier rule,
	 * earlier rule restricted to one exe, later rule order reversed */
	{ HEAD "rules = (\n  { action = \"allow\"; dir = \"/opt/a\"; },\n  { action = \"deny\"; path = \"/opt/ab/x.so\"; }\n);\n", 0, NULL },
	{ HEAD "rules = (\n  { action = \"allow\"; dir = \"/opt/a\"; },\n  { action = \"deny\"; dir = \"/opt/ab\"; }\n);\n", 0, NULL },
	{ HEAD "rules = (\n  { action = \"allow\"; dir = \"/a/b\"; },\n  { action = \"deny\"; dir = \"/a\"; }\n);\n", 0, NULL },
	{ HEAD "rules = (\n  { action = \"allow\"; dir = \"/a\"; exe = \"/e\"; },\n  { action = \"deny\"; dir = \"/a/b\"; }\n);\n", 0, NULL },
	{ HEAD "rules = (\n  { action = \"allow\"; dir = \"/a\"; sha256 = \"" H_A "\"; },\n  { action = \"deny\"; dir = \"/a\"; }\n);\n", 0, NULL },
	{ HEAD "rules = (\n  { action = \"allow\"; path = \"/a\"; },\n  { action = \"deny\"; dir = \"/a\"; }\n);\n", 0, NULL },
};

static void test_warning_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof WARNINGS / sizeof WARNINGS[0]; i++) {
		struct dlg_diags d = { 0 };
		struct dlg_policy *p = dlg_policy_parse_string(WARNINGS[i].text, "w.conf", &d);

		print_message("case %zu\n", i);
		dump(&d);
		assert_non_null(p);
		assert_int_equal(d.n_errors, 0);
		if (WARNINGS[i].sub) {
			assert_int_equal(d.n, 1);
			assert_non_null(find_diag(&d, DLG_DIAG_WARNING, WARNINGS[i].line,
						  WARNINGS[i].sub));
		} else {
			assert_int_equal(d.n, 0);
		}
		dlg_policy_free(p);
		dlg_diags_free(&d);
	}
}

/* ---- files and canonicalisation ----------------------------------------- */

static char tmpdir[PATH_MAX];

static int setup_tmp(void **state)
{
	char *real;

	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "%s/dlg-conf-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir))
		return -1;
	/* expected values are canonical: /tmp itself may be a symlink */
	real = realpath(tmpdir, NULL);
	if (!real)
		return -1;
	snprintf(tmpdir, sizeof tmpdir, "%s", real);
	free(real);
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int teardown_tmp(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void tmp_path(char *out, size_t len, const char *name)
{
	assert_true((size_t)snprintf(out, len, "%s/%s", tmpdir, name) < len);
}

static void write_file(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static void test_parse_file(void **state)
{
	char path[PATH_MAX];
	struct dlg_diags d = { 0 };
	struct dlg_policy *p;

	(void)state;
	tmp_path(path, sizeof path, "ok.conf");
	write_file(path, FULL, strlen(FULL));
	p = dlg_policy_parse_file(path, &d);
	assert_non_null(p);
	assert_string_equal(p->source, path);
	assert_int_equal(p->n_rules, 5);
	dlg_policy_free(p);

	/* an error in a file carries the file's line */
	tmp_path(path, sizeof path, "bad.conf");
	write_file(path, "version = 1;\n\ndefault = \"nope\";\n", 32);
	assert_null(dlg_policy_parse_file(path, &d));
	assert_non_null(find_diag(&d, DLG_DIAG_ERROR, 3, "default must be"));
	dlg_diags_free(&d);

	/* empty file: both required keys missing */
	tmp_path(path, sizeof path, "empty.conf");
	write_file(path, "", 0);
	assert_null(dlg_policy_parse_file(path, &d));
	assert_int_equal(d.n_errors, 2);
	dlg_diags_free(&d);

	/* a NUL byte would hide the rest of the file from libconfig */
	tmp_path(path, sizeof path, "nul.conf");
	write_file(path, HEAD "\0rules = ( { action = \"allow\"; dir = \"x\"; } );", sizeof HEAD + 20);
	assert_null(dlg_policy_parse_file(path, &d));
	assert_non_null(find_diag(&d, DLG_DIAG_ERROR, 3, "NUL byte"));
	dlg_diags_free(&d);
}

static void test_parse_file_refused(void **state)
{
	char path[PATH_MAX];
	struct dlg_diags d = { 0 };

	(void)state;
	/* a FIFO with no writer must not block: the alarm turns a hang into a
	 * failed test */
	alarm(10);
	tmp_path(path, sizeof path, "fifo");
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_null(dlg_policy_parse_file(path, &d));
	assert_non_null(find_diag(&d, DLG_DIAG_ERROR, 0, "FIFO"));
	dlg_diags_free(&d);

	assert_null(dlg_policy_parse_file(tmpdir, &d));
	assert_non_null(find_diag(&d, DLG_DIAG_ERROR, 0, "directory"));
	dlg_diags_free(&d);

	tmp_path(path, sizeof path, "missing.conf");
	assert_null(dlg_policy_parse_file(path, &d));
	assert_non_null(find_diag(&d, DLG_DIAG_ERROR, 0, strerror(ENOENT)));
	dlg_diags_free(&d);

	assert_null(dlg_policy_parse_file("/dev/null", &d));
	assert_non_null(find_diag(&d, DLG_DIAG_ERROR, 0, "character device"));
	dlg_diags_free(&d);
	alarm(0);
}

/* 64 MiB is the most read; one byte more is refused before reading. */
static void test_parse_file_size(void **state)
{
	const off_t max = (off_t)64 << 20;
	char path[PATH_MAX];
	struct dlg_diags d = { 0 };
	int fd;

	(void)state;
	tmp_path(path, sizeof path, "big.conf");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, max + 1), 0);
	assert_null(dlg_policy_parse_file(path, &d));
	assert_non_null(find_diag(&d, DLG_DIAG_ERROR, 0, "larger than 64 MiB"));
	dlg_diags_free(&d);

	/* at the limit it is read (and refused for its zero bytes instead) */
	assert_int_equal(ftruncate(fd, max), 0);
	assert_null(dlg_policy_parse_file(path, &d));
	assert_null(find_diag(&d, DLG_DIAG_ERROR, 0, "larger than"));
	assert_non_null(find_diag(&d, DLG_DIAG_ERROR, 1, "NUL byte"));
	dlg_diags_free(&d);
	assert_int_equal(close(fd), 0);
	unlink(path);
}

static void test_canonicalize(void **state)
{
	char real_dir[PATH_MAX], link_dir[PATH_MAX], lib[PATH_MAX], exe[PATH_MAX];
	char text[8 * PATH_MAX], want[PATH_MAX];
	struct dlg_diags d = { 0 };
	struct dlg_policy *p;

	(void)state;
	tmp_path(real_dir, sizeof real_dir, "real");
	tmp_path(link_dir, sizeof link_dir, "link");
	assert_int_equal(mkdir(real_dir, 0755), 0);
	assert_int_equal(symlink("real", link_dir), 0);
	tmp_path(lib, sizeof lib, "real/libx.so.1");
	write_file(lib, "x", 1);
	tmp_path(lib, sizeof lib, "real/libx.so");
	assert_int_equal(symlink("libx.so.1", lib), 0);
	tmp_path(exe, sizeof exe, "real/prog");
	write_file(exe, "x", 1);

	snprintf(text, sizeof text, HEAD "rules = (\n"
		 "  { action = \"allow\"; dir = \"%s\"; exe = \"%s/prog\"; },\n"   /* 4 */
		 "  { action = \"allow\"; path = \"%s/libx.so\"; },\n"            /* 5 */
		 "  { action = \"deny\"; dir = \"%s/nope\"; },\n"                 /* 6 */
		 "  { action = \"allow\"; dir = \"/\"; sha256 = \"" H_A "\"; },\n"   /* 7 */
		 "  { action = \"allow\"; dir = \"%s/libx.so.1\"; },\n"           /* 8 */
		 "  { action = \"deny\"; dir = \"%s\"; exe = \"%s/prog\"; }\n"     /* 9 */
		 ");\n", link_dir, link_dir, link_dir, tmpdir, real_dir, real_dir, real_dir);
	p = dlg_policy_parse_string(text, "c.conf", &d);
	dump(&d);
	assert_non_null(p);
	assert_int_equal(d.n, 0);
	dlg_policy_canonicalize(p, &d);
	dump(&d);
	assert_int_equal(d.n_errors, 0);

	assert_string_equal(p->rules[0].dir, real_dir);
	tmp_path(want, sizeof want, "real/prog");
	assert_string_equal(p->rules[0].exe, want);
	tmp_path(want, sizeof want, "real/libx.so.1");
	assert_string_equal(p->rules[1].path, want);
	/* missing: kept as written, warned with the rule's line */
	tmp_path(want, sizeof want, "nope");
	assert_string_equal(p->rules[2].dir, want);
	assert_non_null(find_diag(&d, DLG_DIAG_WARNING, 6, "rule 3: dir"));
	assert_non_null(find_diag(&d, DLG_DIAG_WARNING, 6, "does not exist; kept as written"));
	assert_string_equal(p->rules[3].dir, "/");
	/* a dir rule naming a file */
	assert_non_null(find_diag(&d, DLG_DIAG_WARNING, 8, "is not a directory"));
	/* rule 6 was spelled differently but is now rule 1 with another action */
	assert_non_null(find_diag(&d, DLG_DIAG_WARNING, 9,
				  "rule 6 can never match: rule 1 at line 4 has the same conditions"));
	assert_int_equal(d.n, 3);
	dlg_policy_free(p);
	dlg_diags_free(&d);

	dlg_policy_canonicalize(NULL, &d);
	assert_int_equal(d.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_full_example),
		cmocka_unit_test(test_valid_table),
		cmocka_unit_test(test_error_table),
		cmocka_unit_test(test_single_error_each),
		cmocka_unit_test(test_multiple_errors),
		cmocka_unit_test(test_diags_accumulate),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_path_length),
		cmocka_unit_test(test_warning_table),
		cmocka_unit_test(test_parse_file),
		cmocka_unit_test(test_parse_file_refused),
		cmocka_unit_test(test_parse_file_size),
		cmocka_unit_test(test_canonicalize),
	};

	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
