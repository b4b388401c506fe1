/* Compiled policy: written by the CLI, mapped read-only by the preload.
 *
 * The preload trusts nothing in the file: dlg_db_open_* checks magic, version,
 * sizes and every offset before any lookup, and lookups stay in bounds even on
 * a file that passed those checks but holds nonsense. */
#ifndef DLGUARD_POLICY_DB_H
#define DLGUARD_POLICY_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include "policy.h"

/* A validated view of a compiled policy. Plain struct so the preload can keep
 * one in static storage without malloc. */
struct dlg_db {
	const unsigned char *base;
	size_t len;
	bool mapped;            /* true: base was mmap'ed by dlg_db_open_file */
	/* decoded header fields, valid after a successful open */
	enum dlg_mode mode;
	enum dlg_action default_action;
	bool log_syslog;
	bool log_stderr;
	const char *log_file;   /* NULL when none */
	const char *source;     /* policy source file name recorded at compile time */
	uint32_t n_rules;
	uint32_t n_digests;
	const unsigned char *rules;    /* n_rules fixed-size records */
	const unsigned char *digests;  /* n_digests fixed-size records */
	const char *strings;
	uint32_t strings_len;
	/* format 2: keys, signed_by lists, embedded manifests */
	uint32_t n_keys;
	uint32_t n_keyrefs;
	uint32_t n_manifests;
	uint32_t n_entries;
	const unsigned char *keys;      /* n_keys fixed-size records */
	const unsigned char *keyrefs;   /* n_keyrefs 32-bit key indices (signed_by lists) */
	const unsigned char *manifests; /* n_manifests fixed-size records */
	const unsigned char *entries;   /* n_entries (path, sha256) records */
	const unsigned char *blob;      /* key DER and manifest signature bytes */
	uint32_t blob_len;
	const char *sig_dir;    /* signatures.dir, or NULL */
	/* format 3: risk conditions' values, start-up and environment options */
	uint32_t n_values;
	const unsigned char *values;    /* n_values 32-bit owner uids and fs types */
	enum dlg_startup startup;       /* startup = "log" / "kill" */
	bool deny_untrusted_preload;    /* env.deny_untrusted_preload */
	uint32_t env_strip;             /* env.strip: DLG_ENV_* bits */
	/* format 4: the indexes dlg_decide looks candidates up in */
	uint32_t n_dirs;
	uint32_t n_paths;
	uint32_t n_rulerefs;
	uint32_t dirstr_len;
	const unsigned char *dirs;      /* directory index, sorted by (hash, key) */
	const unsigned char *paths;     /* path index, sorted by (hash, path) */
	const unsigned char *rulerefs;  /* 32-bit rule numbers: the indexes' rule lists */
	const char *dirstr;             /* directory strings (dir keys, rules' dir) */
	uint32_t free_first, free_count;        /* unanchored rules: rule references */
	uint32_t first_digest;  /* lowest digest-anchored rule, or DLG_DB_NONE */
	uint32_t n_fprints;
	const unsigned char *fprints;   /* stat fingerprints, sorted by (ino, dev) */
	/* format 5: start-up verdicts, a hash table of n_boot slots */
	uint32_t n_boot;
	const unsigned char *boot;
};

/* "no such index" in the accessors below. */
#define DLG_DB_NONE UINT32_MAX

/* Serialises a policy. *out is malloc'ed; returns 0, or -1 with err filled. */
int dlg_db_build(const struct dlg_policy *p, unsigned char **out, size_t *out_len,
		 char *err, size_t errlen);

/* Builds and writes atomically (temp file in the same directory, fsync,
 * rename), mode 0644. Returns 0, or -1 with err filled. */
int dlg_db_write_file(const struct dlg_policy *p, const char *out_path,
		      char *err, size_t errlen);

/* Validates bytes held by the caller (not copied; must outlive db). */
int dlg_db_open_mem(struct dlg_db *db, const void *buf, size_t len,
		    char *err, size_t errlen);

/* open(O_RDONLY|O_CLOEXEC|O_NONBLOCK) + fstat (regular file only) + one
 * read-only mmap + validation. Never hangs on FIFOs or devices. If st_out is
 * not NULL it receives the fstat of the opened file (owner/mode checks are the
 * caller's business). */
int dlg_db_open_file(struct dlg_db *db, const char *path, struct stat *st_out,
		     char *err, size_t errlen);

void dlg_db_close(struct dlg_db *db);

/* Owned by root and writable by no one else: what a file or directory that
 * every process (setuid ones included) trusts must be, the system policy
 * first among them. */
static inline bool dlg_root_only(const struct stat *st)
{
	return st->st_uid == 0 && (st->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/* What the guard reads of a compiled policy when a process starts, before
 * (and usually instead of) mapping it: the header's options and where the
 * start-up verdicts are (docs/compiled-format.md, "Start-up verdicts"). */
struct dlg_db_head {
	enum dlg_mode mode;
	enum dlg_startup startup;
	bool deny_untrusted_preload;
	uint32_t env_strip;
	uint32_t n_boot;        /* start-up verdict slots; 0: none */
	uint64_t boot_off;
};

/* Reads (pread) and checks the header of the compiled policy open on fd,
 * whose fstat is st: magic, version, size, every table's bounds, the
 * options. Nothing beyond the header is read: the records are checked when
 * the policy is mapped and used. st NULL: the file's size is taken to be
 * the one its header claims (a shorter file then fails the lookups that
 * read past its end). Returns 0, or -1 with err filled. */
int dlg_db_peek(int fd, const struct stat *st, struct dlg_db_head *head, char *err,
		size_t errlen);

/* Sets the options of head (mode, startup, env) to those of a mapped policy. */
void dlg_db_head_options(struct dlg_db_head *head, const struct dlg_db *db);

/* Bytes of a start-up verdict's fingerprint. */
#define DLG_DB_BOOT_FP 48

/* Looks up (pread on fd, a few slots per read) the start-up verdict for the
 * object ld.so named name: 1 with its fingerprint in fp, 0 when the policy
 * has none for that name, -1 on a read error. */
int dlg_db_boot_find_fd(int fd, const struct dlg_db_head *head, const char *name,
			unsigned char fp[DLG_DB_BOOT_FP]);

/* Whether st (stat of the name) is a regular file showing exactly that
 * fingerprint: dev, ino, size, mtime and ctime. Then the policy allows it in
 * every process, whatever its executable. */
bool dlg_db_boot_same(const unsigned char fp[DLG_DB_BOOT_FP], const struct stat *st);

/* Both in a mapped policy: whether it allows, by a start-up verdict, the
 * object ld.so named name whose stat is st. */
bool dlg_db_boot_allows(const struct dlg_db *db, const char *name, const struct stat *st);

/* Slot i of a mapped policy's start-up verdicts (i below db->n_boot): false
 * when empty, else its name (inside the mapping) and fingerprint. */
bool dlg_db_boot_slot(const struct dlg_db *db, uint32_t i, const char **name,
		      unsigned char fp[DLG_DB_BOOT_FP]);

/* Facts the risk conditions need, gathered by dlg_decide at most once per
 * subject (so a second policy deciding on the same subject reuses them).
 * Callers leave this zeroed. */
struct dlg_risk_facts {
	unsigned have;          /* RISK_FACT_* bits (policy_db.c): what is known */
	unsigned failed;        /* same bits: tried, could not be known */
	struct stat st;         /* fstat of the subject's fd */
	uint32_t fs_type;       /* fstatfs f_type */
	bool writable;          /* the file or a directory above it is writable by others */
	char writable_why[160]; /* what makes it writable, e.g. "/tmp is writable by others" */
	char err[160];          /* why the last fact that failed is unknown */
};

/* What is known about the object being decided on. */
struct dlg_subject {
	const char *path;       /* canonical path of the object */
	const char *exe;        /* canonical path of this process's executable, or NULL */
	/* When exe is NULL and this is set, dlg_decide calls it the first time a
	 * rule has an exe condition and keeps the result in exe (NULL: unknown):
	 * a process whose policies never name an executable never looks it up. */
	const char *(*exe_lookup)(void);
	int fd;                 /* descriptor of the very inode being decided on; -1 if none */
	/* The caller has no use for the reason of an allow verdict (the start-up
	 * check reports only untrusted objects): v->reason is then left "" for
	 * an allow, which spares formatting it in every process. */
	bool quiet_allow;
	bool have_sha256;       /* set by the caller if known, or by dlg_decide once hashed */
	unsigned char sha256[DLG_SHA256_LEN];
	/* Set by dlg_decide when sha256 was taken from a policy's stat
	 * fingerprint of the file (dev, ino, size, mtime, ctime) instead of
	 * reading it; sha256_db is that policy's base. Another policy deciding
	 * on the same subject does not take the digest from there. Callers leave
	 * both zero. */
	bool sha256_fingerprint;
	const void *sha256_db;
	bool hash_failed;       /* set by dlg_decide when hashing was needed and failed */
	/* Signature evidence, filled by dlg_decide when a rule needed it
	 * (ECS dll.code_signature.*). */
	bool sig_checked;       /* a signature condition was evaluated */
	bool sig_exists;        /* a signature (or manifest line) was found */
	bool sig_valid;         /* it verifies with some key */
	bool sig_trusted;       /* it verifies with a key the deciding rule trusts */
	char sig_status[64];    /* "trusted", "missing", "invalid", "untrusted key", "error", ... */
	char sig_key[64];       /* name of the key that verified, "" if none */
	/* Risk conditions: the current time for recent (0: read the clock) and
	 * the facts dlg_decide gathered. */
	time_t now;
	bool risk_failed;       /* set by dlg_decide when a fact a rule needed was unknowable */
	/* Set by dlg_decide when the verdict used facts that a fingerprint of
	 * the file (dev, ino, size, mtime, ctime) does not capture: the clock
	 * (recent) or the directories above the file (writable). Such a verdict
	 * must not be cached by fingerprint. */
	bool risk_volatile;
	struct dlg_risk_facts risk;
};

struct dlg_verdict {
	enum dlg_action action;
	uint32_t rule;          /* 1-based index of the deciding rule; 0 = default or error */
	uint32_t line;          /* its source line; 0 for default */
	char reason[256];       /* one human sentence, e.g. "rule 4 (line 12): deny dir /tmp" */
};

/* First matching rule decides, else the default. Only the rules the
 * indexes name as candidates are tried (docs/compiled-format.md, "Indexes"):
 * the same verdict as trying every rule, at O(log n) cost. Within a rule the cheap
 * conditions (path, dir, exe) are checked first, then the risk conditions
 * that need only an fstat of s->fd (fileless, owner, recent, the file's own
 * mode for writable), then fs (fstatfs) and the walk of the directories
 * above s->path (writable), then the digest (sha256 or manifest), then the
 * signature. The SHA-256 of s->fd is needed only when a rule's other
 * conditions all hold and it has a digest or manifest condition; it is
 * taken from the policy's stat fingerprint of the file, without reading it,
 * when fstat of s->fd shows exactly what was recorded at compile time under
 * the same path (s->sha256_fingerprint), else computed; a failure
 * to hash denies with the reason, and so does a risk fact that cannot be
 * known (no fd, a directory above the file that cannot be examined):
 * s->risk_failed is then set.
 *
 * signed_by: <path>.sig, then <signatures.dir><path>.sig, is read and
 * verified over s->fd with each key the rule lists; a missing, unreadable,
 * invalid or untrusted signature makes the rule not match (never an error).
 * The sig_* fields of s are written only when a signature or manifest
 * condition was evaluated: with the deciding rule's evidence when it had
 * such a condition, else with the most informative failure seen, which the
 * default's reason then names ("no rule matched; default deny (signature:
 * missing /x.so.sig)"). No allocation beyond what verification needs.
 * Returns the action. */
enum dlg_action dlg_decide(const struct dlg_db *db, struct dlg_subject *s,
			   struct dlg_verdict *v);

/* The same decision by trying every rule in order, without the indexes:
 * dlg_decide falls back to it for a path with more indexed ancestors than
 * it tracks, and the tests compare the two. */
enum dlg_action dlg_decide_scan(const struct dlg_db *db, struct dlg_subject *s,
				struct dlg_verdict *v);

/* The hash the indexes use for directory keys and paths (32-bit FNV-1a of
 * the n bytes at s). */
uint32_t dlg_db_hash(const char *s, size_t n);

/* Rule accessors for tools (dlguard verify/explain); index is 0-based.
 * Return false when index is out of range. */
struct dlg_db_rule_view {
	enum dlg_action action;
	uint32_t line;
	const char *path, *dir, *exe;   /* NULL when absent */
	uint32_t n_sha256;
	uint32_t n_signed_by;   /* keys listed by signed_by (dlg_db_rule_key) */
	uint32_t manifest;      /* index for dlg_db_manifest, or DLG_DB_NONE */
	uint32_t risk;          /* DLG_RISK_* bits */
	uint32_t recent;        /* seconds, 0 when absent */
	uint32_t n_owners;      /* owner uids (dlg_db_rule_value) */
	uint32_t n_fs;          /* fs types (dlg_db_rule_value) */
};
bool dlg_db_rule(const struct dlg_db *db, uint32_t index, struct dlg_db_rule_view *out);

/* The j-th key index (0-based) of a rule's signed_by list. */
bool dlg_db_rule_key(const struct dlg_db *db, uint32_t rule, uint32_t j, uint32_t *key);

/* The j-th owner uid (fs = false) or fs type (fs = true) of a rule. */
bool dlg_db_rule_value(const struct dlg_db *db, uint32_t rule, bool fs, uint32_t j,
		       uint32_t *value);

struct dlg_db_key_view {
	const char *name;
	enum dlg_key_type type;
	const unsigned char *der;       /* DER SubjectPublicKeyInfo, inside the file */
	size_t der_len;
};
bool dlg_db_key(const struct dlg_db *db, uint32_t index, struct dlg_db_key_view *out);

/* A manifest as verified at compile time; only its embedded entries are
 * ever used for decisions. */
struct dlg_db_manifest_view {
	const char *path;               /* the manifest file named by the rule */
	uint32_t key;                   /* index of the key that verified it */
	const unsigned char *sha256;    /* SHA-256 of the manifest content that was verified */
	const unsigned char *sig;       /* its detached signature */
	size_t sig_len;
	uint32_t n_entries;
};
bool dlg_db_manifest(const struct dlg_db *db, uint32_t index, struct dlg_db_manifest_view *out);

#endif
