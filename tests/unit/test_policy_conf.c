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

#include "digest.h"
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
		/* risk conditions are conditions: each may stand alone */
		{ HEAD "rules = ( { action = \"deny\"; fileless = true; } );\n", 1, 0 },
		{ HEAD "rules = ( { action = \"deny\"; writable = true; } );\n", 1, 0 },
		{ HEAD "rules = ( { action = \"allow\"; owner = \"root\"; } );\n", 1, 0 },
		{ HEAD "rules = ( { action = \"deny\"; fs = \"nfs\"; } );\n", 1, 0 },
		{ HEAD "rules = ( { action = \"deny\"; recent = 1; } );\n", 1, 0 },
		{ HEAD "rules = ( { action = \"deny\"; exe = \"/e\"; recent = 2147483647; } );\n", 1, 0 },
		/* start-up and environment options */
		{ HEAD "startup = \"log\";\n", 0, 0 },
		{ HEAD "startup = \"kill\";\n", 0, 0 },
		{ HEAD "on_error = \"allow\";\n", 0, 0 },
		{ HEAD "on_error = \"deny-dlopen\";\n", 0, 0 },
		{ HEAD "env = { };\n", 0, 0 },
		{ HEAD "env = { strip = \"LD_PRELOAD\"; deny_untrusted_preload = false; };\n", 0, 0 },
		{ HEAD "mode = \"audit\"; startup = \"log\"; env = { deny_untrusted_preload = true; };\n", 0, 0 },
		/* rules differing only in a risk condition are not duplicates */
		{ HEAD "rules = ( { action = \"deny\"; fileless = true; },\n"
		  "{ action = \"deny\"; writable = true; }, { action = \"deny\"; recent = 5; },\n"
		  "{ action = \"deny\"; recent = 6; }, { action = \"deny\"; owner = 0; },\n"
		  "{ action = \"deny\"; owner = 1; }, { action = \"deny\"; fs = \"nfs\"; },\n"
		  "{ action = \"deny\"; fs = \"9p\"; } );\n", 8, 0 },
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
	/* risk conditions */
	{ RULE("action = \"deny\"; fileless = false;"), 4, "rule 1: fileless = false is not a condition: remove it" },
	{ RULE("action = \"deny\"; writable = false;"), 4, "writable = false is not a condition" },
	{ RULE("action = \"deny\"; fileless = 1;"), 4, "rule 1: fileless must be true, not an integer" },
	{ RULE("action = \"deny\"; writable = \"true\";"), 4, "rule 1: writable must be true, not a string" },
	{ RULE("action = \"deny\"; owner = \"dlg-no-such-user\";"), 4,
	  "rule 1: owner \"dlg-no-such-user\": no such user on this machine (names are resolved to uids when the policy is compiled)" },
	{ RULE("action = \"deny\"; owner = \"\";"), 4, "owner \"\": no such user" },
	{ RULE("action = \"deny\"; owner = -1;"), 4, "rule 1: owner: uid -1 is out of range (0 to 4294967294)" },
	{ RULE("action = \"deny\"; owner = 4294967295L;"), 4, "uid 4294967295 is out of range" },
	{ RULE("action = \"deny\"; owner = 1.0;"), 4, "rule 1: owner must be a user name or a uid, not a number" },
	{ RULE("action = \"deny\"; owner = true;"), 4, "not a boolean" },
	{ RULE("action = \"deny\"; owner = { a = 1; };"), 4, "rule 1: owner must be a user name, a uid, or a list of them" },
	{ RULE("action = \"deny\"; owner = ( );"), 4, "rule 1: owner list is empty" },
	{ RULE("action = \"deny\"; owner = [ ];"), 4, "rule 1: owner list is empty" },
	{ RULE("action = \"deny\"; owner = ( 0, [ 1 ] );"), 4, "rule 1: owner item 2 must be a user name or a uid, not an array" },
	{ RULE("action = \"deny\"; owner = ( 0, \"root\" );"), 4, "rule 1: owner item 2 repeats uid 0" },
	{ RULE("action = \"deny\"; owner = [ 7, 7 ];"), 4, "owner item 2 repeats uid 7" },
	{ RULE("action = \"deny\"; owner = [ 0, \"root\" ];"), 4, "libconfig: mismatched element type in array" },
	{ RULE("action = \"deny\"; fs = \"NFS\";"), 4,
	  "rule 1: fs \"NFS\" is not a type dlguard knows (known: nfs cifs smb3 fuse 9p " },
	{ RULE("action = \"deny\"; fs = [ \"nfs\", \"zfs-ish\" ];"), 4, "fs \"zfs-ish\" is not a type" },
	{ RULE("action = \"deny\"; fs = \"\";"), 4, "fs \"\" is not a type" },
	{ RULE("action = \"deny\"; fs = ( \"nfs\" );"), 4, "rule 1: fs must be a file system type or an array of them [ \"nfs\", \"cifs\" ], not a list" },
	{ RULE("action = \"deny\"; fs = 5;"), 4, "fs must be a file system type" },
	{ RULE("action = \"deny\"; fs = [ ];"), 4, "rule 1: fs array is empty" },
	{ RULE("action = \"deny\"; fs = [ 1 ];"), 4, "rule 1: fs item 1 must be a string, not an integer" },
	{ RULE("action = \"deny\"; fs = [ \"nfs\", \"9p\", \"nfs\" ];"), 4, "rule 1: fs item 3 repeats \"nfs\"" },
	{ RULE("action = \"deny\"; recent = 0;"), 4, "rule 1: recent = 0 is out of range (1 to 2147483647 seconds)" },
	{ RULE("action = \"deny\"; recent = -5;"), 4, "recent = -5 is out of range" },
	{ RULE("action = \"deny\"; recent = 2147483648L;"), 4, "recent = 2147483648 is out of range" },
	{ RULE("action = \"deny\"; recent = 1.5;"), 4, "rule 1: recent must be a number of seconds (an integer), not a number" },
	{ RULE("action = \"deny\"; recent = \"1h\";"), 4, "not a string" },
	{ RULE("action = \"deny\"; Fileless = true;"), 4, "rule 1: unknown key \"Fileless\"" },
	/* duplicates and the same type under two names */
	{ HEAD "rules = (\n  { action = \"deny\"; fs = [ \"nfs\", \"ext3\" ]; },\n"
	  "  { action = \"deny\"; fs = [ \"ext4\", \"nfs\" ]; }\n);\n",
	  5, "rule 2 is a duplicate of rule 1 at line 4" },
	{ HEAD "rules = (\n  { action = \"deny\"; owner = ( \"root\", 5 ); recent = 9; },\n"
	  "  { action = \"deny\"; recent = 9; owner = [ 5, 0 ]; }\n);\n",
	  5, "rule 2 is a duplicate of rule 1 at line 4" },
	/* top-level options */
	{ HEAD "startup = \"abort\";\n", 3, "startup must be \"log\" or \"kill\", not \"abort\"" },
	{ HEAD "on_error = \"maybe\";\n", 3, "on_error must be \"deny-dlopen\" or \"allow\", not \"maybe\"" },
	{ HEAD "on_error = 1;\n", 3, "on_error must be" },
	{ HEAD "startup = true;\n", 3, "startup must be the string \"log\" or \"kill\", not a boolean" },
	{ HEAD "env = [ ];\n", 3, "env must be a group { strip = [ ... ]; deny_untrusted_preload = true; }, not an array" },
	{ HEAD "env = { strip = [ \"LD_PRELOAD\" ]; clear = true; };\n", 3, "unknown key \"clear\" in env (env takes strip, deny_untrusted_preload)" },
	{ HEAD "env = { deny_untrusted_preload = 1; };\n", 3, "env.deny_untrusted_preload must be true or false, not an integer" },
	{ HEAD "env = { strip = [ \"LD_PRELOAD\", \"LD_FOO\" ]; };\n", 3,
	  "env.strip: \"LD_FOO\" is not one of LD_PRELOAD LD_LIBRARY_PATH LD_AUDIT GCONV_PATH GLIBC_TUNABLES" },
	{ HEAD "env = { strip = \"ld_preload\"; };\n", 3, "env.strip: \"ld_preload\" is not one of" },
	{ HEAD "env = { strip = \"DLGUARD_POLICY\"; };\n", 3,
	  "env.strip: \"DLGUARD_POLICY\" cannot be stripped: that would only let child processes escape" },
	{ HEAD "env = { strip = [ \"LD_AUDIT\", \"LD_AUDIT\" ]; };\n", 3, "env.strip item 2 repeats \"LD_AUDIT\"" },
	{ HEAD "env = { strip = [ ]; };\n", 3, "env.strip array is empty" },
	{ HEAD "env = { strip = ( \"LD_AUDIT\" ); };\n", 3, "env.strip must be a variable name or an array of them" },
	{ HEAD "env = { strip = [ 1 ]; };\n", 3, "env.strip item 1 must be a string, not an integer" },
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
		/* a bad risk value does not also make the rule condition-less */
		RULE("action = \"deny\"; fileless = false;"),
		RULE("action = \"deny\"; owner = \"dlg-no-such-user\";"),
		RULE("action = \"deny\"; fs = \"nope\";"),
		RULE("action = \"deny\"; recent = 0;"),
		HEAD "env = { strip = \"LD_FOO\"; };\n",
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
	/* audit mode changes nothing in the process */
	{ "version = 1;\ndefault = \"deny\";\nmode = \"audit\";\nstartup = \"kill\";\n", 4,
	  "startup = \"kill\" has no effect in audit mode" },
	{ "version = 1;\ndefault = \"deny\";\nenv = {\n strip = \"LD_PRELOAD\"; };\nmode = \"audit\";\n", 4,
	  "env.strip has no effect in audit mode" },
	{ "version = 1;\ndefault = \"deny\";\nmode = \"enforce\";\nstartup = \"kill\";\n"
	  "env = { strip = \"LD_PRELOAD\"; };\n", 0, NULL },
	/* risk conditions in coverage: a broader earlier rule shadows */
	{ HEAD "rules = (\n  { action = \"deny\"; fileless = true; },\n"
	  "  { action = \"allow\"; fileless = true; dir = \"/opt\"; owner = 0; }\n);\n",
	  5, "rule 2 can never match: rule 1 at line 4 already matches everything" },
	{ HEAD "rules = (\n  { action = \"deny\"; recent = 60; fs = [ \"nfs\", \"9p\" ]; },\n"
	  "  { action = \"allow\"; recent = 10; fs = \"9p\"; }\n);\n",
	  5, "rule 2 can never match" },
	{ HEAD "rules = (\n  { action = \"deny\"; owner = ( 0, 1 ); },\n"
	  "  { action = \"allow\"; owner = 1; writable = true; }\n);\n", 5, "rule 2 can never match" },
	{ HEAD "rules = (\n  { action = \"deny\"; dir = \"/a\"; },\n"
	  "  { action = \"allow\"; dir = \"/a/b\"; writable = true; }\n);\n", 5, "rule 2 can never match" },
	/* not covered: the earlier rule asks for more */
	{ HEAD "rules = (\n  { action = \"deny\"; fileless = true; },\n  { action = \"deny\"; writable = true; },\n"
	  "  { action = \"deny\"; dir = \"/tmp\"; }\n);\n", 0, NULL },
	{ HEAD "rules = (\n  { action = \"deny\"; recent = 10; },\n  { action = \"deny\"; recent = 60; }\n);\n", 0, NULL },
	{ HEAD "rules = (\n  { action = \"deny\"; fs = \"nfs\"; },\n  { action = \"deny\"; fs = [ \"nfs\", \"9p\" ]; }\n);\n", 0, NULL },
	{ HEAD "rules = (\n  { action = \"deny\"; owner = 1; },\n  { action = \"allow\"; owner = ( 0, 1 ); }\n);\n", 0, NULL },
	{ HEAD "rules = (\n  { action = \"deny\"; writable = true; dir = \"/a\"; },\n  { action = \"allow\"; dir = \"/a/b\"; }\n);\n", 0, NULL },
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

/* ---- duplicate and shadowed rules, duplicate digests: exact findings ---- */

/* The findings a text must produce: all of them, whole messages, in order. */
struct want {
	enum dlg_diag_level level;
	unsigned line;
	const char *msg;
};

#define W_(line, msg) { DLG_DIAG_WARNING, (line), (msg) }
#define E_(line, msg) { DLG_DIAG_ERROR, (line), (msg) }
#define WANT_END { DLG_DIAG_ERROR, 0, NULL }

static void assert_diags_from(const struct dlg_diags *d, size_t from, const struct want *w)
{
	size_t n = 0;

	dump(d);
	while (w[n].msg)
		n++;
	assert_int_equal(d->n - from, n);
	for (size_t i = 0; i < n; i++) {
		print_message("finding %zu\n", i);
		assert_int_equal(d->v[from + i].level, w[i].level);
		assert_int_equal(d->v[from + i].line, w[i].line);
		assert_string_equal(d->v[from + i].msg, w[i].msg);
	}
}

/* H_A but for the last digit: a comparator that looks at fewer than 32
 * bytes takes it for a repeat of H_A. */
#define H_A2 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdee"
#define REPEATS(n) "rule 1: sha256 item " #n " repeats an earlier digest of the same rule"

/* Each later item with a digest already seen is named, never the earliest
 * one, with its own line; findings on one line keep item order. */
static void test_digest_repeats(void **state)
{
	static const char text[] =
		HEAD "rules = (\n"                                  /* 1-3 */
		"  { action = \"allow\"; sha256 = [\n"               /* 4 */
		"    \"" H_B "\",\n"                                   /* 5: item 1 */
		"    \"" H_A "\",\n"                                   /* 6: item 2 */
		"    \"" H_A2 "\",\n"                                  /* 7: item 3 */
		"    \"" H_A_UP "\",\n"                                /* 8: item 4 = 2 */
		"    \"" H_B "\", \"zz\", \"" H_A "\" ]; }\n"   /* 9: items 5 = 1, 6, 7 = 2 */
		");\n";
	static const struct want w[] = {
		E_(8, REPEATS(4)),
		E_(9, REPEATS(5)),
		E_(9, "rule 1: sha256 \"zz\" has 2 characters; a SHA-256 digest is exactly 64 "
		   "hex digits"),
		E_(9, REPEATS(7)),
		WANT_END,
	};
	struct dlg_diags d = { 0 };

	(void)state;
	assert_null(dlg_policy_parse_string(text, "r.conf", &d));
	assert_diags_from(&d, 0, w);
	dlg_diags_free(&d);
}

/* Digest k: its low byte leads and its whole value ends the string, so
 * sorted order is nothing like item order and neighbours share prefixes. */
static void digest_text(char out[65], unsigned k)
{
	snprintf(out, 65, "%02x%058u%04x", k & 0xff, 0u, k);
}

/* One digest per line from line 5 on (item i on line 4 + i); item
 * repeat_at[j] (1-based) repeats item repeat_of[j]. */
static char *digest_policy(size_t n, const size_t *repeat_at, const size_t *repeat_of,
			   size_t n_repeats)
{
	char *text = NULL, hex[65];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	fprintf(f, HEAD "rules = (\n  { action = \"allow\"; sha256 = [\n");
	for (size_t i = 1; i <= n; i++) {
		unsigned k = (unsigned)(n - i);    /* descending: qsort must reorder */

		for (size_t j = 0; j < n_repeats; j++)
			if (repeat_at[j] == i)
				k = (unsigned)(n - repeat_of[j]);
		digest_text(hex, k);
		fprintf(f, "    \"%s\"%s\n", hex, i < n ? "," : " ]; }");
	}
	fprintf(f, ");\n");
	assert_int_equal(fclose(f), 0);
	return text;
}

static void test_digest_many(void **state)
{
	static const size_t at[] = { 100, 599, 600 }, of[] = { 7, 350, 7 };
	const size_t n = 600;
	struct dlg_diags d = { 0 };
	struct dlg_policy *p;
	char *text;

	(void)state;
	text = digest_policy(n, NULL, NULL, 0);
	p = dlg_policy_parse_string(text, "m.conf", &d);
	free(text);
	dump(&d);
	assert_non_null(p);
	assert_int_equal(d.n, 0);
	assert_int_equal(p->rules[0].n_sha256, n);
	for (size_t i = 1; i < n; i++)
		assert_true(memcmp(p->rules[0].sha256[i - 1], p->rules[0].sha256[i],
				   DLG_SHA256_LEN) < 0);
	dlg_policy_free(p);

	text = digest_policy(n, at, of, 3);
	assert_null(dlg_policy_parse_string(text, "m.conf", &d));
	free(text);
	assert_diags_from(&d, 0, (const struct want[]){
		E_(4 + 100, REPEATS(100)), E_(4 + 599, REPEATS(599)), E_(4 + 600, REPEATS(600)),
		WANT_END });
	dlg_diags_free(&d);
}

/* A run of rules with the same conditions: each later one is checked
 * against the earliest rule of the run with its action. */
static void test_same_conditions_run(void **state)
{
	static const char text[] =
		HEAD "rules = (\n"
		"  { action = \"allow\"; path = \"/opt/x\"; },\n"       /* 4 */
		"  { action = \"deny\"; path = \"/opt/x\"; },\n"        /* 5 */
		"  { action = \"deny\"; path = \"/opt/y\"; },\n"        /* 6 */
		"  { action = \"deny\"; path = \"/opt/x\"; },\n"        /* 7 */
		"  { path = \"/opt/x\"; action = \"allow\"; },\n"       /* 8 */
		"  { action = \"allow\"; path = \"/opt/x\"; }\n"        /* 9 */
		");\n";
	static const struct want w[] = {
		W_(5, "rule 2 can never match: rule 1 at line 4 has the same conditions and is "
		   "tried first"),
		E_(7, "rule 4 is a duplicate of rule 2 at line 5"),
		E_(8, "rule 5 is a duplicate of rule 1 at line 4"),
		E_(9, "rule 6 is a duplicate of rule 1 at line 4"),
		WANT_END,
	};
	struct dlg_diags d = { 0 };

	(void)state;
	assert_null(dlg_policy_parse_string(text, "s.conf", &d));
	assert_diags_from(&d, 0, w);
	dlg_diags_free(&d);
}

#define SHADOWED(j, i, line) "rule " #j " can never match: rule " #i " at line " #line \
	" already matches everything it matches"

/* Rules start on line 4; each case names the earliest rule that covers. */
static const struct {
	const char *rules;
	struct want w[4];
} SHADOWS[] = {
	/* dir containment; rule 1 asks for more, so rule 2 is the one named */
	{ "  { action = \"deny\"; dir = \"/opt\"; writable = true; },\n"
	  "  { action = \"allow\"; dir = \"/opt/a\"; },\n"
	  "  { action = \"allow\"; dir = \"/opt\"; },\n"
	  "  { action = \"deny\"; path = \"/opt/a/b/x.so\"; },\n"
	  "  { action = \"deny\"; dir = \"/opt/a/b\"; exe = \"/usr/bin/e\"; }\n",
	  { W_(7, SHADOWED(4, 2, 5)), W_(8, SHADOWED(5, 2, 5)), WANT_END } },
	/* equal paths; an exe must match exactly */
	{ "  { action = \"allow\"; path = \"/opt/a/x.so\"; exe = \"/usr/bin/e1\"; },\n"
	  "  { action = \"deny\"; path = \"/opt/a/x.so\"; exe = \"/usr/bin/e2\"; },\n"
	  "  { action = \"deny\"; path = \"/opt/a/x.so\"; exe = \"/usr/bin/e1\"; fileless = true; },\n"
	  "  { action = \"deny\"; path = \"/opt/a/x.so\"; },\n"
	  "  { action = \"allow\"; path = \"/opt/a/x.so\"; exe = \"/usr/bin/e2\"; writable = true; }\n",
	  { W_(6, SHADOWED(3, 1, 4)), W_(8, SHADOWED(5, 2, 5)), WANT_END } },
	/* /opt/a is not above /opt/ab, nor above the file /opt/a itself */
	{ "  { action = \"allow\"; dir = \"/opt/a\"; },\n"
	  "  { action = \"deny\"; path = \"/opt/ab\"; },\n"
	  "  { action = \"deny\"; dir = \"/opt/ab\"; },\n"
	  "  { action = \"deny\"; path = \"/opt/ab/x.so\"; },\n"
	  "  { action = \"deny\"; path = \"/opt/a\"; },\n"
	  "  { action = \"deny\"; dir = \"/opt/a/b\"; }\n",
	  { W_(7, SHADOWED(4, 3, 6)), W_(9, SHADOWED(6, 1, 4)), WANT_END } },
	/* no place at all covers every place; "/" covers every path and dir */
	{ "  { action = \"deny\"; fileless = true; },\n"
	  "  { action = \"allow\"; dir = \"/\"; },\n"
	  "  { action = \"deny\"; path = \"/usr/lib/x.so\"; fileless = true; },\n"
	  "  { action = \"deny\"; dir = \"/usr\"; },\n"
	  "  { action = \"deny\"; fileless = true; writable = true; },\n"
	  "  { action = \"deny\"; sha256 = \"" H_A "\"; }\n",
	  { W_(6, SHADOWED(3, 1, 4)), W_(7, SHADOWED(4, 2, 5)), W_(8, SHADOWED(5, 1, 4)),
	    WANT_END } },
	/* a rule with content conditions never shadows, but can be shadowed */
	{ "  { action = \"allow\"; dir = \"/opt\"; sha256 = \"" H_A "\"; },\n"
	  "  { action = \"deny\"; path = \"/opt/x.so\"; sha256 = \"" H_A "\"; },\n"
	  "  { action = \"deny\"; dir = \"/opt\"; },\n"
	  "  { action = \"allow\"; path = \"/opt/y.so\"; sha256 = \"" H_B "\"; }\n",
	  { W_(7, SHADOWED(4, 3, 6)), WANT_END } },
};

static void test_shadow_table(void **state)
{
	char text[2048];

	(void)state;
	for (size_t i = 0; i < sizeof SHADOWS / sizeof SHADOWS[0]; i++) {
		struct dlg_diags d = { 0 };
		struct dlg_policy *p;

		print_message("case %zu\n", i);
		assert_true((size_t)snprintf(text, sizeof text, HEAD "rules = (\n%s);\n",
					     SHADOWS[i].rules) < sizeof text);
		p = dlg_policy_parse_string(text, "sh.conf", &d);
		assert_non_null(p);
		assert_diags_from(&d, 0, SHADOWS[i].w);
		dlg_policy_free(p);
		dlg_diags_free(&d);
	}
}

/* Item i of a permutation of 0..n-1 (step prime to n). */
static unsigned perm(unsigned i, unsigned n, unsigned step)
{
	return (i * step + 3) % n;
}

/* n dir rules /d/K in one order, then n path rules /d/K/f.so in another
 * and n siblings /d/Kx/f.so that nothing covers. Names like 1, 10, 100
 * share prefixes; every third dir rule is for one exe only, which every
 * other path rule has. Line of rule r: 3 + r. */
static void test_shadow_many(void **state)
{
	const unsigned n = 200;
	struct dlg_diags d = { 0 };
	struct dlg_policy *p;
	char *text = NULL, msg[160];
	size_t len = 0, found = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	fprintf(f, HEAD "rules = (\n");
	for (unsigned i = 0; i < n; i++) {
		unsigned k = perm(i, n, 7);

		fprintf(f, "  { action = \"allow\"; dir = \"/d/%u\";%s },\n", k,
			k % 3 ? "" : " exe = \"/e\";");
	}
	for (unsigned i = 0; i < 2 * n; i++) {
		unsigned k = perm(i % n, n, 11);

		fprintf(f, "  { action = \"deny\"; path = \"/d/%u%s/f.so\";%s }%s\n", k,
			i < n ? "" : "x", k % 2 ? "" : " exe = \"/e\";", i + 1 < 2 * n ? "," : "");
	}
	fprintf(f, ");\n");
	assert_int_equal(fclose(f), 0);
	p = dlg_policy_parse_string(text, "many.conf", &d);
	free(text);
	assert_non_null(p);
	assert_int_equal(d.n_errors, 0);
	for (unsigned i = 0; i < n; i++) {
		unsigned k = perm(i, n, 11), by = 0;

		if (k % 3 == 0 && k % 2)  /* the dir rule wants an exe this rule lacks */
			continue;
		while (perm(by, n, 7) != k)
			by++;
		snprintf(msg, sizeof msg, "rule %u can never match: rule %u at line %u already "
			 "matches everything it matches", n + i + 1, by + 1, by + 4);
		assert_true(found < d.n);
		assert_int_equal(d.v[found].line, n + i + 4);
		assert_string_equal(d.v[found].msg, msg);
		found++;
	}
	assert_int_equal(d.n, found);
	dlg_policy_free(p);
	dlg_diags_free(&d);
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

/* ---- risk conditions and options: what lands in the model ------------- */

static const char RISKY[] =
	HEAD                                                                          /* 1-2 */
	"startup = \"kill\";\n"                                                     /* 3 */
	"env = { strip = [ \"LD_PRELOAD\", \"GCONV_PATH\", \"LD_AUDIT\" ];\n"  /* 4 */
	"        deny_untrusted_preload = true; };\n"                                /* 5 */
	"rules = (\n"                                                                /* 6 */
	"  { action = \"deny\"; fileless = true; writable = true; },\n"            /* 7 */
	"  { action = \"deny\"; fs = [ \"smb3\", \"nfs\", \"ext3\", \"ext4\" ]; },\n" /* 8 */
	"  { action = \"allow\"; dir = \"/opt\"; owner = ( \"root\", 65534, 4294967294L, 1000 ); },\n" /* 9 */
	"  { action = \"deny\"; recent = 86400; owner = 7; }\n"                    /* 10 */
	");\n";

static void test_risk_model(void **state)
{
	struct dlg_diags d = { 0 };
	struct dlg_policy *p;
	const struct dlg_rule *r;

	(void)state;
	p = dlg_policy_parse_string(RISKY, "risky.conf", &d);
	dump(&d);
	assert_non_null(p);
	assert_int_equal(d.n, 0);
	assert_int_equal(p->startup, DLG_STARTUP_KILL);
	assert_true(p->deny_untrusted_preload);
	assert_int_equal(p->env_strip, DLG_ENV_LD_PRELOAD | DLG_ENV_GCONV_PATH | DLG_ENV_LD_AUDIT);
	assert_int_equal(p->n_rules, 4);

	r = &p->rules[0];
	assert_int_equal(r->risk, DLG_RISK_FILELESS | DLG_RISK_WRITABLE);
	assert_int_equal(r->n_owners + r->n_fs + r->recent, 0);
	/* sorted, ext3 and ext4 one type, smb3 two */
	r = &p->rules[1];
	assert_int_equal(r->risk, 0);
	assert_int_equal(r->n_fs, 4);
	assert_int_equal(r->fs[0], 0x6969);
	assert_int_equal(r->fs[1], 0xEF53);
	assert_int_equal(r->fs[2], 0xFE534D42);
	assert_int_equal(r->fs[3], 0xFF534D42);
	/* names resolved now, sorted */
	r = &p->rules[2];
	assert_string_equal(r->dir, "/opt");
	assert_int_equal(r->n_owners, 4);
	assert_int_equal(r->owners[0], 0);
	assert_int_equal(r->owners[1], 1000);
	assert_int_equal(r->owners[2], 65534);
	assert_int_equal(r->owners[3], 4294967294u);
	r = &p->rules[3];
	assert_int_equal(r->recent, 86400);
	assert_int_equal(r->n_owners, 1);
	assert_int_equal(r->owners[0], 7);
	dlg_policy_free(p);
	dlg_diags_free(&d);

	/* the defaults */
	p = dlg_policy_parse_string(HEAD, "plain.conf", &d);
	assert_non_null(p);
	assert_int_equal(p->startup, DLG_STARTUP_LOG);
	assert_false(p->deny_untrusted_preload);
	assert_int_equal(p->env_strip, 0);
	dlg_policy_free(p);
	dlg_diags_free(&d);
}

/* Every variable env.strip accepts, by name. */
static void test_strip_names(void **state)
{
	char text[1024];
	size_t o;

	(void)state;
	o = (size_t)snprintf(text, sizeof text, HEAD "env = { strip = [ ");
	for (uint32_t bit = 1; bit & DLG_ENV_KNOWN; bit <<= 1)
		o += (size_t)snprintf(text + o, sizeof text - o, "%s\"%s\"", bit > 1 ? ", " : "",
				      dlg_env_var_name(bit));
	snprintf(text + o, sizeof text - o, " ]; };\n");
	{
		struct dlg_diags d = { 0 };
		struct dlg_policy *p = dlg_policy_parse_string(text, "all.conf", &d);

		dump(&d);
		assert_non_null(p);
		assert_int_equal(p->env_strip, DLG_ENV_KNOWN);
		dlg_policy_free(p);
		dlg_diags_free(&d);
	}
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

/* After canonicalize only pairs with a rewritten rule are looked at again:
 * rule 3 was already reported at parse time and is not reported twice. */
static void test_canonicalize_shadow(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX], text[8 * PATH_MAX], m1[PATH_MAX + 64], m2[256],
	     m3[256];
	struct dlg_diags d = { 0 };
	struct dlg_policy *p;
	size_t first;

	(void)state;
	tmp_path(dir, sizeof dir, "sh");
	assert_int_equal(mkdir(dir, 0755), 0);
	tmp_path(path, sizeof path, "sh/real");
	assert_int_equal(mkdir(path, 0755), 0);
	tmp_path(path, sizeof path, "sh/real/x.so");
	write_file(path, "x", 1);
	tmp_path(path, sizeof path, "sh/link");
	assert_int_equal(symlink("real", path), 0);
	snprintf(text, sizeof text, HEAD "rules = (\n"
		 "  { action = \"allow\"; dir = \"%s/real\"; },\n"                       /* 4 */
		 "  { action = \"deny\"; path = \"%s/link/x.so\"; },\n"                  /* 5 */
		 "  { action = \"deny\"; path = \"%s/real/y.so\"; },\n"                  /* 6 */
		 "  { action = \"allow\"; dir = \"%s/link\"; writable = true; }\n"       /* 7 */
		 ");\n", dir, dir, dir, dir);
	p = dlg_policy_parse_string(text, "c.conf", &d);
	assert_non_null(p);
	assert_diags_from(&d, 0, (const struct want[]){ W_(6, SHADOWED(3, 1, 4)), WANT_END });
	first = d.n;
	dlg_policy_canonicalize(p, &d);
	snprintf(m1, sizeof m1, "rule 3: path \"%s/real/y.so\" does not exist; kept as written",
		 dir);
	snprintf(m2, sizeof m2, "%s (once symlinks are resolved)", SHADOWED(2, 1, 4));
	snprintf(m3, sizeof m3, "%s (once symlinks are resolved)", SHADOWED(4, 1, 4));
	assert_diags_from(&d, first, (const struct want[]){
		W_(6, m1), W_(5, m2), W_(7, m3), WANT_END });
	dlg_policy_free(p);
	dlg_diags_free(&d);
}

/* ---- keys, signatures, manifests ---------------------------------------- */

/* Key files are made once with the openssl CLI under tmpdir/keys; policy
 * texts name them through "@K" (that directory) and "@D" (tmpdir). */
static char kdir[PATH_MAX];

__attribute__((format(printf, 1, 2)))
static void sh(const char *fmt, ...)
{
	char cmd[4 * PATH_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof cmd);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

static const struct {
	const char *name;
	const char *genpkey;
} KEYS[] = {
	{ "vendor", "-algorithm ed25519" },
	{ "p256", "-algorithm EC -pkeyopt ec_paramgen_curve:P-256" },
	{ "p384", "-algorithm EC -pkeyopt ec_paramgen_curve:P-384" },
	{ "rsa", "-algorithm RSA -pkeyopt rsa_keygen_bits:2048" },
	{ "pss", "-algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048" },
	{ "outsider", "-algorithm ed25519" },
	{ "weak", "-algorithm RSA -pkeyopt rsa_keygen_bits:1024" },
	{ "k1", "-algorithm EC -pkeyopt ec_paramgen_curve:secp256k1" },
	{ "x25519", "-algorithm X25519" },
};

static void keys_ready(void)
{
	if (kdir[0])
		return;
	tmp_path(kdir, sizeof kdir, "keys");
	assert_int_equal(mkdir(kdir, 0755), 0);
	for (size_t i = 0; i < sizeof KEYS / sizeof KEYS[0]; i++) {
		sh("openssl genpkey %s -out '%s/%s.key' 2>/dev/null", KEYS[i].genpkey, kdir,
		   KEYS[i].name);
		sh("openssl pkey -in '%s/%s.key' -pubout -out '%s/%s.pub'", kdir, KEYS[i].name,
		   kdir, KEYS[i].name);
	}
	sh("cp '%s/vendor.pub' '%s/vendor-copy.pub'", kdir, kdir);
	sh("printf 'not a key\\n' > '%s/garbage.pub'", kdir);
}

/* Detached signature file.sig in the openssl CLI's formats. */
static void sign_as(const char *key, const char *file)
{
	if (strcmp(key, "vendor") == 0 || strcmp(key, "outsider") == 0)
		sh("openssl pkeyutl -sign -rawin -inkey '%s/%s.key' -in '%s' -out '%s.sig'", kdir,
		   key, file, file);
	else if (strcmp(key, "pss") == 0)
		sh("openssl dgst -sha256 -sign '%s/%s.key' -sigopt rsa_padding_mode:pss "
		   "-out '%s.sig' '%s'", kdir, key, file, file);
	else
		sh("openssl dgst -sha256 -sign '%s/%s.key' -out '%s.sig' '%s'", kdir, key, file, file);
}

/* The text with @K and @D replaced; malloc'ed. */
static char *expand(const char *tmpl)
{
	size_t cap = strlen(tmpl) * 2 + 64 * (strlen(kdir) + strlen(tmpdir)), o = 0;
	char *out = malloc(cap);

	assert_non_null(out);
	for (const char *c = tmpl; *c; c++) {
		const char *rep = NULL;

		if (c[0] == '@' && c[1] == 'K')
			rep = kdir;
		else if (c[0] == '@' && c[1] == 'D')
			rep = tmpdir;
		if (rep) {
			size_t n = strlen(rep);

			assert_true(o + n < cap);
			memcpy(out + o, rep, n);
			o += n;
			c++;
		} else {
			assert_true(o + 1 < cap);
			out[o++] = *c;
		}
	}
	out[o] = '\0';
	return out;
}

static struct dlg_policy *parse_tmpl(const char *tmpl, struct dlg_diags *d)
{
	char *text = expand(tmpl);
	struct dlg_policy *p = dlg_policy_parse_string(text, "k.conf", d);

	free(text);
	return p;
}

/* tmpdir/name with content (@D expanded), signed by key unless NULL. */
static void manifest_file(const char *name, const char *content, const char *key)
{
	char path[PATH_MAX], *text = expand(content);

	tmp_path(path, sizeof path, name);
	write_file(path, text, strlen(text));
	free(text);
	if (key)
		sign_as(key, path);
}

#define KEYS_HEAD HEAD "keys = (\n  { name = \"vendor\"; public_key = \"@K/vendor.pub\"; },\n" \
	"  { name = \"other\"; public_key = \"@K/p256.pub\"; }\n);\n"   /* keys on lines 4, 5 */
#define KRULE(body) KEYS_HEAD "rules = (\n  { " body " }\n);\n"      /* rule on line 8 */

#define HX1 "1111111111111111111111111111111111111111111111111111111111111111"
#define HX2 "2222222222222222222222222222222222222222222222222222222222222222"

static void test_keys_valid(void **state)
{
	static const char tmpl[] =
		HEAD
		"keys = (\n"                                                               /* 3 */
		"  { name = \"vendor\"; public_key = \"@K/vendor.pub\"; },\n"               /* 4 */
		"  { name = \"Other.ci-2_x\"; public_key = \"@K/p384.pub\"; },\n"           /* 5 */
		"  { public_key = \"@K/rsa.pub\"; name = \"rsa\"; },\n"                     /* 6 */
		"  { name = \"pss\"; public_key = \"@K/pss.pub\"; },\n"                     /* 7 */
		"  { name = \"p256\"; public_key = \"@K/p256.pub\"; }\n"                    /* 8 */
		");\n"
		"signatures = { dir = \"/var/lib/dlguard/sigs\"; };\n"                      /* 10 */
		"rules = (\n"
		"  { action = \"allow\"; dir = \"/opt/a\"; signed_by = \"vendor\"; },\n"    /* 12 */
		"  { action = \"allow\"; dir = \"/opt/b\"; signed_by = [ \"pss\", \"Other.ci-2_x\", \"rsa\" ]; },\n"
		"  { action = \"allow\"; signed_by = \"p256\"; },\n"                         /* 14 */
		"  { action = \"deny\"; exe = \"/usr/bin/x\"; signed_by = \"vendor\"; },\n"  /* 15 */
		"  { action = \"allow\"; manifest = \"@D/app.sha256\"; signed_by = [ \"vendor\", \"rsa\" ]; }\n"
		");\n";
	static const char manifest[] =
		HX1 "  /opt/app/b.so\n"
		HX2 " */opt/app/a.so\n"
		"\\" HX1 "  /opt/app/we\\\\ird\\nname.so\n"
		"ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789  /opt/app/c d.so";
	enum dlg_key_type want_type[] = { DLG_KEY_ED25519, DLG_KEY_ECDSA_P384, DLG_KEY_RSA,
					  DLG_KEY_RSA_PSS, DLG_KEY_ECDSA_P256 };
	char path[PATH_MAX];
	struct dlg_diags d = { 0 };
	struct dlg_policy *p;
	struct dlg_manifest *m;
	unsigned char want[DLG_SHA256_LEN];
	char err[128];
	int fd;

	(void)state;
	keys_ready();
	manifest_file("app.sha256", manifest, "rsa");
	p = parse_tmpl(tmpl, &d);
	dump(&d);
	assert_non_null(p);
	assert_int_equal(d.n, 0);
	assert_int_equal(p->n_keys, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(p->keys[i].type, want_type[i]);
		assert_non_null(p->keys[i].der);
		assert_true(p->keys[i].der_len > 0 && p->keys[i].der_len <= DLG_KEY_DER_MAX);
		assert_int_equal(p->keys[i].line, 4 + i);
	}
	assert_string_equal(p->keys[1].name, "Other.ci-2_x");
	assert_string_equal(p->sig_dir, "/var/lib/dlguard/sigs");
	assert_int_equal(p->n_rules, 5);
	assert_int_equal(p->rules[0].n_signed_by, 1);
	assert_int_equal(p->rules[0].signed_by[0], 0);
	/* stored sorted by key index, whatever the written order */
	assert_int_equal(p->rules[1].n_signed_by, 3);
	assert_int_equal(p->rules[1].signed_by[0], 1);
	assert_int_equal(p->rules[1].signed_by[1], 2);
	assert_int_equal(p->rules[1].signed_by[2], 3);
	assert_null(p->rules[1].manifest);
	m = p->rules[4].manifest;
	assert_non_null(m);
	assert_int_equal(m->key, 2);            /* rsa signed it: the second listed key */
	tmp_path(path, sizeof path, "app.sha256");
	assert_string_equal(m->path, path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(dlg_sha256_fd(fd, want, err, sizeof err), 0);
	close(fd);
	assert_memory_equal(m->sha256, want, DLG_SHA256_LEN);
	assert_int_equal(m->sig_len, 256);      /* RSA 2048 */
	assert_int_equal(m->n_entries, 4);
	/* sorted by path; binary marker, escapes, spaces, upper-case hex read */
	assert_string_equal(m->entries[0].path, "/opt/app/a.so");
	assert_int_equal(m->entries[0].sha256[0], 0x22);
	assert_string_equal(m->entries[1].path, "/opt/app/b.so");
	assert_string_equal(m->entries[2].path, "/opt/app/c d.so");
	assert_int_equal(m->entries[2].sha256[0], 0xab);
	assert_string_equal(m->entries[3].path, "/opt/app/we\\ird\nname.so");
	dlg_policy_free(p);
	dlg_diags_free(&d);

	/* each key type signs a manifest that verifies */
	for (size_t i = 0; i < 5; i++) {
		static const char *const names[] = { "vendor", "p384", "rsa", "pss", "p256" };
		char t[1024];

		manifest_file("each.sha256", HX1 "  /opt/x.so\n", names[i]);
		snprintf(t, sizeof t, HEAD "keys = ( { name = \"k\"; public_key = \"@K/%s.pub\"; } );\n"
			 "rules = ( { action = \"allow\"; manifest = \"@D/each.sha256\"; "
			 "signed_by = \"k\"; } );\n", names[i]);
		p = parse_tmpl(t, &d);
		print_message("key %s\n", names[i]);
		dump(&d);
		assert_non_null(p);
		assert_int_equal(d.n, 0);
		assert_int_equal(p->rules[0].manifest->n_entries, 1);
		dlg_policy_free(p);
		dlg_diags_free(&d);
	}
}

/* Errors about keys, signed_by, manifest rules and signatures, each on its
 * line. Keys are on lines 4 and 5 of KEYS_HEAD, its rule on line 8. */
static const struct err_case KEY_ERRORS[] = {
	{ HEAD "keys = { };\n", 3, "keys must be a list" },
	{ HEAD "keys = ( \"x\" );\n", 3, "key 1 must be a group" },
	{ HEAD "keys = (\n  { name = \"a\"; public_key = \"@K/vendor.pub\"; file = 1; }\n);\n", 4,
	  "key 1: unknown key \"file\" (a key takes name, public_key)" },
	{ HEAD "keys = (\n  { public_key = \"@K/vendor.pub\"; }\n);\n", 4, "key 1 has no name" },
	{ HEAD "keys = (\n  { name = \"a\"; }\n);\n", 4, "key 1 has no public_key" },
	{ HEAD "keys = (\n  { name = \"a b\"; public_key = \"@K/vendor.pub\"; }\n);\n", 4,
	  "key 1: name \"a b\" must be 1 to 63 characters from A-Z a-z 0-9 _ . -" },
	{ HEAD "keys = (\n  { name = \"\"; public_key = \"@K/vendor.pub\"; }\n);\n", 4, "must be 1 to 63" },
	{ HEAD "keys = (\n  { name = \"0123456789012345678901234567890123456789012345678901234567890123\"; "
	  "public_key = \"@K/vendor.pub\"; }\n);\n", 4, "must be 1 to 63" },
	{ HEAD "keys = (\n  { name = \"k\\u00e9\"; public_key = \"@K/vendor.pub\"; }\n);\n", 4, "must be 1 to 63" },
	{ HEAD "keys = (\n  { name = 1; public_key = \"@K/vendor.pub\"; }\n);\n", 4,
	  "key 1: name must be a string, not an integer" },
	{ KEYS_HEAD "keys2 = 1;\n", 7, "unknown top-level key \"keys2\"" },
	{ HEAD "keys = (\n  { name = \"a\"; public_key = \"@K/vendor.pub\"; },\n"
	  "  { name = \"a\"; public_key = \"@K/p256.pub\"; }\n);\n", 5,
	  "key 2: name \"a\" is already used by the key at line 4" },
	{ HEAD "keys = (\n  { name = \"a\"; public_key = \"vendor.pub\"; }\n);\n", 4,
	  "public_key \"vendor.pub\" is not absolute" },
	{ HEAD "keys = (\n  { name = \"a\"; public_key = [ \"/x\" ]; }\n);\n", 4,
	  "public_key must be a string (an absolute path), not an array" },
	/* loading: the key's line, its name */
	{ HEAD "keys = (\n  { name = \"a\"; public_key = \"@K/none.pub\"; }\n);\n", 4, "key \"a\": " },
	{ HEAD "keys = (\n  { name = \"a\"; public_key = \"@K/vendor.pub\"; },\n"
	  "  { name = \"w\";\n    public_key = \"@K/weak.pub\"; }\n);\n", 5, "key \"w\": " },
	{ HEAD "keys = (\n  { name = \"a\"; public_key = \"@K/weak.pub\"; }\n);\n", 4, "1024" },
	{ HEAD "keys = (\n  { name = \"a\"; public_key = \"@K/k1.pub\"; }\n);\n", 4, "key \"a\": " },
	{ HEAD "keys = (\n  { name = \"a\"; public_key = \"@K/x25519.pub\"; }\n);\n", 4, "key \"a\": " },
	{ HEAD "keys = (\n  { name = \"a\"; public_key = \"@K/vendor.key\"; }\n);\n", 4, "key \"a\": " },
	{ HEAD "keys = (\n  { name = \"a\"; public_key = \"@K/garbage.pub\"; }\n);\n", 4, "key \"a\": " },
	{ HEAD "keys = (\n  { name = \"a\"; public_key = \"@K\"; }\n);\n", 4, "key \"a\": " },
	/* signatures */
	{ HEAD "signatures = \"/x\";\n", 3, "signatures must be a group { dir = \"...\"; }, not a string" },
	{ HEAD "signatures = { path = \"/x\"; };\n", 3, "unknown key \"path\" in signatures" },
	{ HEAD "signatures = { dir = \"sigs\"; };\n", 3, "signatures.dir \"sigs\" is not absolute" },
	{ HEAD "signatures = { dir = \"/var/sigs/\"; };\n", 3, "signatures.dir \"/var/sigs/\" ends with '/'" },
	{ HEAD "signatures = { dir = \"/\"; };\n", 3, "signatures.dir \"/\" is where signatures are looked for" },
	{ HEAD "signatures = { dir = 1; };\n", 3, "signatures.dir must be a string" },
	/* signed_by */
	{ KRULE("action = \"allow\"; dir = \"/a\"; signed_by = \"nope\";"), 8,
	  "rule 1: signed_by names key \"nope\", which keys = ( ... ) does not define" },
	{ RULE("action = \"allow\"; dir = \"/a\"; signed_by = \"vendor\";"), 4,
	  "rule 1: signed_by names key \"vendor\"" },
	{ KRULE("action = \"allow\"; dir = \"/a\"; signed_by = [ ];"), 8, "rule 1: signed_by array is empty" },
	{ KRULE("action = \"allow\"; dir = \"/a\"; signed_by = ( \"vendor\" );"), 8,
	  "rule 1: signed_by must be a key name or an array of key names" },
	{ KRULE("action = \"allow\"; dir = \"/a\"; signed_by = 3;"), 8, "not an integer" },
	{ KRULE("action = \"allow\"; dir = \"/a\"; signed_by = [ 1 ];"), 8,
	  "rule 1: signed_by item 1 must be a string, not an integer" },
	{ KRULE("action = \"allow\"; dir = \"/a\"; signed_by = [ \"other\", \"vendor\", \"other\" ];"), 8,
	  "rule 1: signed_by item 3 repeats key \"other\"" },
	{ KRULE("action = \"allow\"; dir = \"/a\"; signed_by = \"Vendor\";"), 8, "names key \"Vendor\"" },
	{ KRULE("action = \"allow\"; dir = \"/a\"; signd_by = \"vendor\";"), 8,
	  "rule 1: unknown key \"signd_by\" (a rule takes action, path, dir, exe, sha256, signed_by, manifest, fileless, writable, owner, fs, recent)" },
	{ KRULE("action = \"allow\"; exe = \"/usr/bin/x\";"), 8, "only exe" },
	/* manifest rules */
	{ KRULE("action = \"allow\"; manifest = \"app.sha256\"; signed_by = \"vendor\";"), 8,
	  "rule 1: manifest \"app.sha256\" is not absolute" },
	{ KRULE("action = \"allow\"; manifest = \"@D/m.sha256\";"), 8,
	  "rule 1: manifest needs signed_by" },
	{ KRULE("action = \"allow\"; manifest = \"@D/m.sha256\"; signed_by = \"vendor\"; path = \"/a.so\";"), 8,
	  "rule 1: manifest cannot be combined with path" },
	{ KRULE("action = \"allow\"; manifest = \"@D/m.sha256\"; signed_by = \"vendor\"; sha256 = \"" H_A "\";"), 8,
	  "rule 1: manifest cannot be combined with sha256" },
	{ KRULE("action = \"allow\"; manifest = 1; signed_by = \"vendor\";"), 8,
	  "manifest must be a string" },
	{ KRULE("action = \"allow\"; manifest = \"@D/missing.sha256\"; signed_by = \"vendor\";"), 8,
	  "rule 1: cannot read manifest \"" },
	{ KRULE("action = \"allow\"; manifest = \"@D\"; signed_by = \"vendor\";"), 8, "it is a directory" },
	/* duplicates and what counts as the same conditions */
	{ KEYS_HEAD "rules = (\n  { action = \"allow\"; dir = \"/a\"; signed_by = [ \"vendor\", \"other\" ]; },\n"
	  "  { action = \"allow\"; dir = \"/a\"; signed_by = [ \"other\", \"vendor\" ]; }\n);\n", 9,
	  "rule 2 is a duplicate of rule 1 at line 8" },
};

static void test_key_error_table(void **state)
{
	(void)state;
	keys_ready();
	for (size_t i = 0; i < sizeof KEY_ERRORS / sizeof KEY_ERRORS[0]; i++) {
		struct dlg_diags d = { 0 };
		struct dlg_policy *p = parse_tmpl(KEY_ERRORS[i].text, &d);

		print_message("case %zu: want line %u \"%s\"\n", i, KEY_ERRORS[i].line,
			      KEY_ERRORS[i].sub);
		dump(&d);
		assert_null(p);
		assert_true(d.n_errors >= 1);
		assert_non_null(find_diag(&d, DLG_DIAG_ERROR, KEY_ERRORS[i].line, KEY_ERRORS[i].sub));
		dlg_diags_free(&d);
	}
}

/* A key that fails to load is one error: rules naming it add none. */
static void test_key_error_once(void **state)
{
	static const char tmpl[] =
		HEAD "keys = (\n  { name = \"w\"; public_key = \"@K/weak.pub\"; }\n);\n"
		"rules = (\n  { action = \"allow\"; dir = \"/a\"; signed_by = \"w\"; },\n"
		"  { action = \"allow\"; manifest = \"@D/nothing.sha256\"; signed_by = \"w\"; }\n);\n";
	struct dlg_diags d = { 0 };

	(void)state;
	keys_ready();
	assert_null(parse_tmpl(tmpl, &d));
	dump(&d);
	assert_int_equal(d.n_errors, 1);
	assert_int_equal(d.n, 1);
	assert_non_null(find_diag(&d, DLG_DIAG_ERROR, 4, "key \"w\": "));
	dlg_diags_free(&d);
}

struct manifest_case {
	const char *content;    /* @D expanded */
	const char *signer;     /* NULL: no .sig */
	const char *after;      /* appended after signing, or NULL */
	const char *sub;        /* expected error on the rule's line (8) */
};

static void test_manifest_errors(void **state)
{
	static const struct manifest_case cases[] = {
		{ HX1 "  /opt/a.so\n", NULL, NULL, "cannot read its signature" },
		{ HX1 "  /opt/a.so\n", "p256", NULL,
		  "rule 1: manifest \"" },
		{ HX1 "  /opt/a.so\n", "p256", NULL,
		  "is signed by key \"other\", which this rule does not trust (signed_by \"vendor\")" },
		{ HX1 "  /opt/a.so\n", "outsider", NULL,
		  "its signature does not verify with key \"vendor\"" },
		{ HX1 "  /opt/a.so\n", "vendor", HX2 "  /opt/b.so\n",
		  "its signature does not verify with key \"vendor\"" },
		{ HX1 "  /opt/a.so\n" HX2 "  lib/x.so\n", "vendor", NULL,
		  "line 2: path \"lib/x.so\" is not absolute: a manifest lists absolute paths" },
		{ HX1 "  /opt/a.so\n\n", "vendor", NULL, "line 2: not a sha256sum line" },
		{ "hello\n", "vendor", NULL, "line 1: not a sha256sum line" },
		{ HX1 " /opt/a.so\n", "vendor", NULL, "line 1: not a sha256sum line" },
		{ HX1 "\t/opt/a.so\n", "vendor", NULL, "line 1: not a sha256sum line" },
		{ HX1 "  \n", "vendor", NULL, "line 1: not a sha256sum line" },
		{ "SHA256 (/opt/a.so) = " HX1 "\n", "vendor", NULL, "line 1: not a sha256sum line" },
		{ "g111111111111111111111111111111111111111111111111111111111111111  /opt/a.so\n",
		  "vendor", NULL, "line 1: digest has a non-hex character at position 1" },
		{ "\\" HX1 "  /opt/a\\tb.so\n", "vendor", NULL, "line 1: bad escape" },
		{ "\\" HX1 "  /opt/a.so\\\n", "vendor", NULL, "line 1: bad escape" },
		{ HX1 "  /opt/a.so\n" HX2 "  /opt/b.so\n" HX2 "  /opt/a.so\n", "vendor", NULL,
		  "line 3 lists /opt/a.so again (first at line 1)" },
		{ HX1 "  /opt/a.so\n" HX1 "  /opt/a.so\n", "vendor", NULL, "lists /opt/a.so again" },
	};
	char path[PATH_MAX];

	(void)state;
	keys_ready();
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct dlg_diags d = { 0 };

		tmp_path(path, sizeof path, "bad.sha256.sig");
		unlink(path);
		manifest_file("bad.sha256", cases[i].content, cases[i].signer);
		if (cases[i].after) {
			tmp_path(path, sizeof path, "bad.sha256");
			sh("printf '%%s' '%s' >> '%s'", cases[i].after, path);
		}
		print_message("case %zu: \"%s\"\n", i, cases[i].sub);
		assert_null(parse_tmpl(KRULE("action = \"allow\"; manifest = \"@D/bad.sha256\"; "
					     "signed_by = \"vendor\";"), &d));
		dump(&d);
		assert_non_null(find_diag(&d, DLG_DIAG_ERROR, 8, cases[i].sub));
		dlg_diags_free(&d);
	}

	/* a NUL byte; a FIFO (must not block: the alarm fails a hang) */
	struct dlg_diags d = { 0 };
	tmp_path(path, sizeof path, "nul.sha256");
	write_file(path, HX1 "  /opt/a\0.so\n", 77);
	sign_as("vendor", path);
	assert_null(parse_tmpl(KRULE("action = \"allow\"; manifest = \"@D/nul.sha256\"; "
				     "signed_by = \"vendor\";"), &d));
	assert_non_null(find_diag(&d, DLG_DIAG_ERROR, 8, "contains a NUL byte"));
	dlg_diags_free(&d);
	alarm(10);
	tmp_path(path, sizeof path, "fifo.sha256");
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_null(parse_tmpl(KRULE("action = \"allow\"; manifest = \"@D/fifo.sha256\"; "
				     "signed_by = \"vendor\";"), &d));
	assert_non_null(find_diag(&d, DLG_DIAG_ERROR, 8, "it is a FIFO, not a regular file"));
	dlg_diags_free(&d);
	/* a FIFO as the signature */
	manifest_file("fsig.sha256", HX1 "  /opt/a.so\n", NULL);
	tmp_path(path, sizeof path, "fsig.sha256.sig");
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_null(parse_tmpl(KRULE("action = \"allow\"; manifest = \"@D/fsig.sha256\"; "
				     "signed_by = \"vendor\";"), &d));
	assert_non_null(find_diag(&d, DLG_DIAG_ERROR, 8, "cannot read its signature"));
	dlg_diags_free(&d);
	alarm(0);
}

static void test_key_warnings(void **state)
{
	struct dlg_diags d = { 0 };
	struct dlg_policy *p;

	(void)state;
	keys_ready();
	/* other is never used; a copy of vendor under another name */
	p = parse_tmpl(HEAD "keys = (\n  { name = \"vendor\"; public_key = \"@K/vendor.pub\"; },\n"
		       "  { name = \"other\"; public_key = \"@K/p256.pub\"; },\n"
		       "  { name = \"again\"; public_key = \"@K/vendor-copy.pub\"; }\n);\n"
		       "rules = ( { action = \"allow\"; dir = \"/a\"; signed_by = [ \"vendor\", \"again\" ]; } );\n",
		       &d);
	dump(&d);
	assert_non_null(p);
	assert_int_equal(d.n, 2);
	assert_non_null(find_diag(&d, DLG_DIAG_WARNING, 5, "key \"other\" is not used by any rule"));
	assert_non_null(find_diag(&d, DLG_DIAG_WARNING, 6,
				  "key \"again\" is the same public key as key \"vendor\" at line 4"));
	dlg_policy_free(p);
	dlg_diags_free(&d);

	/* an empty manifest is valid and matches nothing (the openssl CLI
	 * cannot sign empty input with Ed25519: ECDSA here) */
	manifest_file("empty.sha256", "", "p256");
	p = parse_tmpl(KRULE("action = \"allow\"; manifest = \"@D/empty.sha256\"; "
			     "signed_by = [ \"vendor\", \"other\" ];"), &d);
	dump(&d);
	assert_non_null(p);
	assert_non_null(find_diag(&d, DLG_DIAG_WARNING, 8, "lists no file: the rule matches nothing"));
	assert_int_equal(p->rules[0].manifest->n_entries, 0);
	dlg_policy_free(p);
	dlg_diags_free(&d);

	/* shadowing: a broad rule before a signed one shadows it; a signed rule
	 * before a broad one does not; different keys are different rules */
	p = parse_tmpl(KEYS_HEAD "rules = (\n"
		       "  { action = \"allow\"; dir = \"/a\"; signed_by = \"vendor\"; },\n"    /* 8 */
		       "  { action = \"deny\"; dir = \"/a\"; },\n"                             /* 9 */
		       "  { action = \"allow\"; dir = \"/a\"; signed_by = \"other\"; },\n"     /* 10 */
		       "  { action = \"allow\"; dir = \"/a/b\"; signed_by = \"other\"; }\n"    /* 11 */
		       ");\n", &d);
	dump(&d);
	assert_non_null(p);
	assert_int_equal(d.n, 2);
	assert_non_null(find_diag(&d, DLG_DIAG_WARNING, 10, "rule 3 can never match: rule 2 at line 9"));
	assert_non_null(find_diag(&d, DLG_DIAG_WARNING, 11, "rule 4 can never match: rule 2 at line 9"));
	dlg_policy_free(p);
	dlg_diags_free(&d);
}

/* Manifest entries and signatures.dir become canonical; missing entries are
 * kept as written with one warning per manifest. */
static void test_canonicalize_manifest(void **state)
{
	char real[PATH_MAX], link[PATH_MAX], lib[PATH_MAX], want[PATH_MAX];
	struct dlg_diags d = { 0 };
	struct dlg_policy *p;
	struct dlg_manifest *m;

	(void)state;
	keys_ready();
	tmp_path(real, sizeof real, "mreal");
	tmp_path(link, sizeof link, "mlink");
	assert_int_equal(mkdir(real, 0755), 0);
	assert_int_equal(symlink("mreal", link), 0);
	tmp_path(lib, sizeof lib, "mreal/z.so");
	write_file(lib, "z", 1);
	tmp_path(lib, sizeof lib, "mreal/a.so");
	write_file(lib, "a", 1);
	manifest_file("canon.sha256",
		      HX1 "  @D/mlink/z.so\n"
		      HX2 "  @D/mlink/a.so\n"
		      HX2 "  @D/mlink/gone1.so\n"
		      HX2 "  @D/mlink/gone2.so\n", "vendor");
	p = parse_tmpl(KEYS_HEAD "signatures = { dir = \"@D/mlink\"; };\n"
		       "rules = (\n  { action = \"allow\"; manifest = \"@D/canon.sha256\"; "
		       "signed_by = \"vendor\"; },\n  { action = \"allow\"; signed_by = \"other\"; }\n);\n",
		       &d);
	dump(&d);
	assert_non_null(p);
	assert_int_equal(d.n, 0);
	dlg_policy_canonicalize(p, &d);
	dump(&d);
	assert_int_equal(d.n_errors, 0);
	assert_int_equal(d.n, 1);
	assert_non_null(find_diag(&d, DLG_DIAG_WARNING, 9, "rule 1: 2 of 4 files listed in manifest"));
	assert_string_equal(p->sig_dir, real);
	m = p->rules[0].manifest;
	/* canonical, and sorted again: "mlink/gone*" sort after "mreal/..." */
	tmp_path(want, sizeof want, "mlink/gone1.so");
	assert_string_equal(m->entries[0].path, want);
	tmp_path(want, sizeof want, "mlink/gone2.so");
	assert_string_equal(m->entries[1].path, want);
	tmp_path(want, sizeof want, "mreal/a.so");
	assert_string_equal(m->entries[2].path, want);
	assert_int_equal(m->entries[2].sha256[0], 0x22);
	tmp_path(want, sizeof want, "mreal/z.so");
	assert_string_equal(m->entries[3].path, want);
	dlg_policy_free(p);
	dlg_diags_free(&d);

	/* a signature directory that does not exist: kept, with a warning */
	p = parse_tmpl(KEYS_HEAD "signatures = { dir = \"@D/nosigs\"; };\n"
		       "rules = ( { action = \"allow\"; signed_by = [ \"vendor\", \"other\" ]; } );\n", &d);
	assert_non_null(p);
	dlg_policy_canonicalize(p, &d);
	dump(&d);
	assert_non_null(find_diag(&d, DLG_DIAG_WARNING, 0, "signatures.dir"));
	tmp_path(want, sizeof want, "nosigs");
	assert_string_equal(p->sig_dir, want);
	dlg_policy_free(p);
	dlg_diags_free(&d);
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
		cmocka_unit_test(test_digest_repeats),
		cmocka_unit_test(test_digest_many),
		cmocka_unit_test(test_same_conditions_run),
		cmocka_unit_test(test_shadow_table),
		cmocka_unit_test(test_shadow_many),
		cmocka_unit_test(test_canonicalize),
		cmocka_unit_test(test_canonicalize_shadow),
		cmocka_unit_test(test_keys_valid),
		cmocka_unit_test(test_key_error_table),
		cmocka_unit_test(test_key_error_once),
		cmocka_unit_test(test_manifest_errors),
		cmocka_unit_test(test_key_warnings),
		cmocka_unit_test(test_canonicalize_manifest),
		cmocka_unit_test(test_risk_model),
		cmocka_unit_test(test_strip_names),
	};

	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
