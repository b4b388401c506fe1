/* dlguard verify [-p POLICY] [--exe EXE] FILE...: for each file, the
 * decision the guard would take under POLICY and why: the deciding rule, the
 * reason, the SHA-256 when a rule needed it, what a signature or manifest
 * condition found and which key signed. The same dlg_decide as the preload,
 * over a descriptor opened the way the guard opens libraries.
 *
 * POLICY is a policy text (compiled in memory) or a compiled policy;
 * default /etc/dlguard/policy.db. Manifests embedded in the policy are
 * reported first, with whether the file on disk still is the one that was
 * verified at compile time. Exit 0 when every file is allowed, 1 when any
 * is denied (or cannot be decided), 2 on usage errors. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "cli.h"
#include "digest.h"
#include "fdpath.h"
#include "policy.h"
#include "policy_db.h"
#include "sig.h"

#define SYSTEM_POLICY "/etc/dlguard/policy.db"
/* The most of a manifest re-read to report on it (as when compiling). */
#define MANIFEST_MAX ((size_t)64 << 20)

static const char usage_text[] =
	"usage: dlguard verify [-p POLICY] [--exe EXE] FILE...\n"
	"  POLICY: a policy text or a compiled policy (default " SYSTEM_POLICY ")\n"
	"  EXE:    the program that would load the files, for exe rules\n";

/* A policy for deciding: a compiled file mapped, or text compiled here. */
struct loaded {
	struct dlg_db db;
	unsigned char *built;   /* dlg_db_build output when compiled here */
	bool compiled;
};

static bool is_compiled(const char *path)
{
	char magic[8];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	ssize_t n = fd >= 0 ? read(fd, magic, sizeof magic) : -1;

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)sizeof magic && memcmp(magic, "DLGUARD", 8) == 0;
}

static int load(struct loaded *l, const char *path)
{
	struct dlg_policy *p;
	size_t len = 0;
	char err[512];

	memset(l, 0, sizeof *l);
	if (is_compiled(path)) {
		l->compiled = true;
		if (dlg_db_open_file(&l->db, path, NULL, err, sizeof err) != 0) {
			fprintf(stderr, "dlguard: %s\n", err);
			return -1;
		}
		return 0;
	}
	p = cli_load_policy(path, 1);
	if (!p)
		return -1;
	if (dlg_db_build(p, &l->built, &len, err, sizeof err) != 0 ||
	    dlg_db_open_mem(&l->db, l->built, len, err, sizeof err) != 0) {
		fprintf(stderr, "dlguard: %s: %s\n", path, err);
		dlg_policy_free(p);
		return -1;
	}
	dlg_policy_free(p);
	return 0;
}

static void unload(struct loaded *l)
{
	dlg_db_close(&l->db);
	free(l->built);
}

static const char *key_label(const struct dlg_db *db, uint32_t k)
{
	struct dlg_db_key_view kv;

	return dlg_db_key(db, k, &kv) ? kv.name : "?";
}

/* The manifest file as it is now: read whole (regular file, bounded). */
static unsigned char *read_manifest(const char *path, size_t *len, char *why, size_t whylen)
{
	unsigned char *buf = NULL;
	struct stat st;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > MANIFEST_MAX) {
		snprintf(why, whylen, "not a regular file of at most 64 MiB");
		goto end;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		snprintf(why, whylen, "out of memory");
		goto end;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(why, whylen, "read failed");
			free(buf);
			buf = NULL;
			goto end;
		}
		got += (size_t)n;
	}
	*len = got;
end:
	close(fd);
	return buf;
}

/* The compiled policy uses only the manifest embedded in it; say whether
 * the file on disk is still that one (its signature re-checked with the
 * embedded copy), or an edit that the policy ignores until recompiled. */
static void report_manifest(const struct dlg_db *db, uint32_t index, uint32_t rule)
{
	struct dlg_db_manifest_view mv;
	struct dlg_db_key_view kv;
	unsigned char now[DLG_SHA256_LEN], *buf;
	char hex[2 * DLG_SHA256_LEN + 1], why[256];
	size_t len = 0;

	if (!dlg_db_manifest(db, index, &mv))
		return;
	dlg_hex(mv.sha256, DLG_SHA256_LEN, hex);
	printf("manifest (rule %u): %s\n  %u file%s, sha256 %s, signed by %s at compile time\n",
	       rule + 1, mv.path, mv.n_entries, mv.n_entries == 1 ? "" : "s", hex,
	       key_label(db, mv.key));
	buf = read_manifest(mv.path, &len, why, sizeof why);
	if (!buf) {
		printf("  on disk: unreadable (%s); the compiled copy is what is used\n", why);
		return;
	}
	if (EVP_Digest(buf, len, now, NULL, EVP_sha256(), NULL) != 1) {
		printf("  on disk: cannot hash it; the compiled copy is what is used\n");
	} else if (memcmp(now, mv.sha256, DLG_SHA256_LEN) != 0) {
		printf("  on disk: CHANGED since compilation; the edit grants nothing: the "
		       "compiled copy is what is used until the policy is recompiled (and "
		       "the new manifest must be signed again)\n");
	} else if (dlg_db_key(db, mv.key, &kv) &&
		   dlg_sig_verify_mem(buf, len, mv.sig, mv.sig_len, kv.der, kv.der_len, kv.type,
				      why, sizeof why) == DLG_SIG_VALID) {
		printf("  on disk: unchanged; the embedded signature verifies it with key %s\n",
		       kv.name);
	} else {
		printf("  on disk: unchanged, but the embedded signature does not verify it "
		       "(%s): the compiled policy is damaged\n", why);
	}
	free(buf);
}

static void report_manifests(const struct dlg_db *db)
{
	struct dlg_db_rule_view rv;

	for (uint32_t i = 0; i < db->n_rules; i++)
		if (dlg_db_rule(db, i, &rv) && rv.manifest != DLG_DB_NONE)
			report_manifest(db, rv.manifest, i);
}

static void print_subject(const struct dlg_subject *s)
{
	char hex[2 * DLG_SHA256_LEN + 1];

	if (s->have_sha256) {
		dlg_hex(s->sha256, DLG_SHA256_LEN, hex);
		printf("  sha256:    %s\n", hex);
	}
	if (s->sig_checked)
		printf("  signature: %s (exists %s, valid %s, trusted %s)%s%s\n", s->sig_status,
		       s->sig_exists ? "yes" : "no", s->sig_valid ? "yes" : "no",
		       s->sig_trusted ? "yes" : "no", s->sig_key[0] ? ", key " : "", s->sig_key);
}

/* Opens name as the guard opens a library (never blocking, regular files
 * only), decides, prints. Returns 0 when allowed. */
static int verify_one(const struct dlg_db *db, const char *name, const char *exe)
{
	char canon[PATH_MAX];
	struct dlg_subject s;
	struct dlg_verdict v;
	struct stat st;
	int fd, rc = 1;

	fd = open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		printf("%s: deny\n  reason:    cannot open: %s\n", name, strerror(errno));
		return 1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		printf("%s: deny\n  reason:    not a regular file\n", name);
		goto end;
	}
	dlg_fd_canonical(fd, name, canon, sizeof canon);
	memset(&s, 0, sizeof s);
	s.path = canon;
	s.exe = exe;
	s.fd = fd;
	dlg_decide(db, &s, &v);
	printf("%s: %s%s\n", canon, v.action == DLG_ACTION_ALLOW ? "allow" : "deny",
	       v.action == DLG_ACTION_DENY && db->mode == DLG_MODE_AUDIT
		       ? " (audit mode: would be logged, not refused)" : "");
	if (v.rule)
		printf("  rule:      %u (line %u)\n", v.rule, v.line);
	else
		printf("  rule:      default\n");
	printf("  reason:    %s\n", v.reason);
	print_subject(&s);
	rc = v.action == DLG_ACTION_ALLOW ? 0 : 1;
end:
	close(fd);
	return rc;
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "exe", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *policy = SYSTEM_POLICY, *exe_arg = NULL;
	char exe[PATH_MAX];
	struct loaded l;
	int c, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:e:h", opts, NULL)) != -1) {
		if (c == 'p') {
			policy = optarg;
		} else if (c == 'e') {
			exe_arg = optarg;
		} else {
			return cli_usage(usage_text, c);
		}
	}
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (exe_arg && !realpath(exe_arg, exe)) {
		fprintf(stderr, "dlguard: %s: %s\n", exe_arg, strerror(errno));
		return 2;
	}
	if (load(&l, policy) != 0)
		return 1;
	printf("policy: %s (%s), %u rule%s, %u key%s, %s, default %s\n", policy,
	       l.compiled ? "compiled" : "text, compiled in memory", l.db.n_rules,
	       l.db.n_rules == 1 ? "" : "s", l.db.n_keys, l.db.n_keys == 1 ? "" : "s",
	       l.db.mode == DLG_MODE_AUDIT ? "audit" : "enforce",
	       l.db.default_action == DLG_ACTION_ALLOW ? "allow" : "deny");
	report_manifests(&l.db);
	for (int i = optind; i < argc; i++)
		rc |= verify_one(&l.db, argv[i], exe_arg ? exe : NULL);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("dlguard verify: stdout");
		rc = 1;
	}
	unload(&l);
	return rc;
}
