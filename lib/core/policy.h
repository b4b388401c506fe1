/* Rule model shared by the policy text parser and the compiled-policy writer.
 * The preload never sees this: it only reads the compiled form (policy_db.h). */
#ifndef DLGUARD_POLICY_H
#define DLGUARD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sig.h"

#define DLG_SHA256_LEN 32
#define DLG_POLICY_VERSION 1

enum dlg_action { DLG_ACTION_ALLOW = 1, DLG_ACTION_DENY = 2 };
enum dlg_mode { DLG_MODE_ENFORCE = 0, DLG_MODE_AUDIT = 1 };
/* on_error = "deny-dlopen" | "allow": what the guard does when the installed
 * system policy is unusable (corrupt, truncated, wrongly owned). Kept by
 * `dlguard install` beside the compiled policy, so it survives the policy
 * that carried it. */
enum dlg_on_error { DLG_ON_ERROR_DENY_DLOPEN = 0, DLG_ON_ERROR_ALLOW = 1 };

/* startup = "log" | "kill": what an untrusted object mapped before main does. */
enum dlg_startup { DLG_STARTUP_LOG = 0, DLG_STARTUP_KILL = 1 };

/* Environment variables env.strip may name, one bit each (the compiled form
 * stores the set as this mask). Variables that make the loader or libc load,
 * locate or trace code; DLGUARD_* are not among them on purpose: stripping
 * those would only let children escape the environment policy. */
enum dlg_env_var {
	DLG_ENV_LD_PRELOAD = 1u << 0,
	DLG_ENV_LD_LIBRARY_PATH = 1u << 1,
	DLG_ENV_LD_AUDIT = 1u << 2,
	DLG_ENV_GCONV_PATH = 1u << 3,
	DLG_ENV_GLIBC_TUNABLES = 1u << 4,
	DLG_ENV_LD_BIND_NOW = 1u << 5,
	DLG_ENV_LD_BIND_NOT = 1u << 6,
	DLG_ENV_LD_DEBUG = 1u << 7,
	DLG_ENV_LD_DEBUG_OUTPUT = 1u << 8,
	DLG_ENV_LD_PROFILE = 1u << 9,
	DLG_ENV_LD_PROFILE_OUTPUT = 1u << 10,
	DLG_ENV_LD_DYNAMIC_WEAK = 1u << 11,
	DLG_ENV_LD_HWCAP_MASK = 1u << 12,
	DLG_ENV_LD_ORIGIN_PATH = 1u << 13,
	DLG_ENV_LD_SHOW_AUXV = 1u << 14,
	DLG_ENV_LD_USE_LOAD_BIAS = 1u << 15,
};
#define DLG_ENV_KNOWN 0xffffu

/* The name of the variable of one DLG_ENV_* bit, or NULL. */
const char *dlg_env_var_name(uint32_t bit);
/* The DLG_ENV_* bit of a variable name (exact, case-sensitive), or 0. */
uint32_t dlg_env_var_bit(const char *name);

/* File system types for fs = [ ... ]: a name stands for up to two statfs
 * f_type values (linux/magic.h). */
#define DLG_FS_MAGICS 2
struct dlg_fs_type {
	const char *name;
	uint32_t magic[DLG_FS_MAGICS];  /* unused slots are 0 */
};
/* The known names, in the order messages list them; *n receives the count. */
const struct dlg_fs_type *dlg_fs_types(size_t *n);
/* The name reported for a statfs type: the first known name that stands for
 * it, or NULL. */
const char *dlg_fs_name(uint32_t magic);

/* Bits of dlg_rule.risk (and of the compiled rule's risk flags). */
#define DLG_RISK_FILELESS 1u    /* memfd, deleted, /proc, /dev/shm */
#define DLG_RISK_WRITABLE 2u    /* the file or a directory above it is writable by others */
#define DLG_RISK_KNOWN (DLG_RISK_FILELESS | DLG_RISK_WRITABLE)

/* Longest key name (bytes, without the NUL): it is copied into fixed event
 * fields (struct dlg_subject.sig_key). */
#define DLG_KEY_NAME_MAX 63

/* A public key of the policy's keys = ( ... ) list, loaded and checked when
 * the text is parsed. */
struct dlg_key {
	char *name;             /* unique, [A-Za-z0-9_.-]{1,63} */
	char *public_key;       /* absolute path of the PEM file it was read from */
	unsigned line;          /* line of the key's entry */
	enum dlg_key_type type;
	unsigned char *der;     /* DER SubjectPublicKeyInfo */
	size_t der_len;         /* 1 .. DLG_KEY_DER_MAX */
};

/* One line of a manifest: a file (absolute, canonical once canonicalised)
 * and the SHA-256 it must have. */
struct dlg_manifest_entry {
	char *path;
	unsigned char sha256[DLG_SHA256_LEN];
};

/* A signed manifest as verified when the policy was parsed. Only this copy
 * is ever used: the file is not read again. */
struct dlg_manifest {
	char *path;             /* the manifest file, absolute, as written in the rule */
	unsigned char sha256[DLG_SHA256_LEN];   /* of the content that was verified */
	unsigned char *sig;     /* its detached signature (<path>.sig) */
	size_t sig_len;         /* 1 .. DLG_SIG_MAX */
	size_t key;             /* index into dlg_policy.keys of the key that verified it */
	struct dlg_manifest_entry *entries;     /* sorted by path, then digest */
	size_t n_entries;
};

struct dlg_rule {
	enum dlg_action action;
	unsigned line;          /* line of the rule's opening brace in the source */
	char *path;             /* absolute file path, or NULL */
	char *dir;              /* absolute directory (no trailing '/', "/" allowed), or NULL */
	char *exe;              /* absolute executable path, or NULL */
	unsigned char (*sha256)[DLG_SHA256_LEN];
	size_t n_sha256;        /* 0: no digest condition */
	size_t *signed_by;      /* indices into dlg_policy.keys, ascending, distinct */
	size_t n_signed_by;     /* 0: no signature condition */
	struct dlg_manifest *manifest;  /* NULL, or a manifest (then n_signed_by > 0) */
	/* risk conditions (fstat, fstatfs and the directories above the file) */
	uint32_t risk;          /* DLG_RISK_* bits: fileless = true, writable = true */
	uint32_t *owners;       /* owner = ...: uids, ascending, distinct */
	size_t n_owners;        /* 0: no owner condition */
	uint32_t *fs;           /* fs = [ ... ]: statfs f_type values, ascending, distinct */
	size_t n_fs;            /* 0: no fs condition */
	uint32_t recent;        /* recent = seconds (changed that recently); 0: none */
};

/* A stat fingerprint of a file the policy pins, taken by `dlguard compile`
 * (lib/core/fingerprint.c) after hashing the file: a file open under the
 * same canonical path whose fstat still shows all of dev, ino, size, mtime
 * and ctime has this content, so the guard takes sha256 without reading it
 * (docs/compiled-format.md, "Fingerprints"). */
struct dlg_fingerprint {
	uint64_t dev, ino;
	int64_t size;
	int64_t mtime_sec, ctime_sec;
	uint32_t mtime_nsec, ctime_nsec;        /* below 1000000000 */
	unsigned char sha256[DLG_SHA256_LEN];
	char *path;             /* the file's canonical path, as fingerprinted */
};

struct dlg_policy {
	char *source;           /* file the policy was read from (for events, errors) */
	int version;
	enum dlg_mode mode;
	enum dlg_action default_action;
	bool log_syslog;
	bool log_stderr;
	char *log_file;         /* absolute path, or NULL */
	struct dlg_rule *rules;
	size_t n_rules;
	struct dlg_key *keys;
	size_t n_keys;
	char *sig_dir;          /* signatures.dir: absolute directory, or NULL */
	enum dlg_startup startup;       /* startup = "log" (default) or "kill" */
	enum dlg_on_error on_error;     /* on_error = "deny-dlopen" (default) or "allow" */
	uint32_t env_strip;             /* env.strip: DLG_ENV_* bits */
	bool deny_untrusted_preload;    /* env.deny_untrusted_preload */
	/* Not from the text: filled by dlg_fingerprint_collect at compile
	 * time. At most one per (dev, ino); any order. */
	struct dlg_fingerprint *fprints;
	size_t n_fprints;
	/* Not from the text: filled by dlg_startup_collect at compile time.
	 * Start-up verdicts (docs/compiled-format.md): files this policy
	 * allows in every process, whatever its executable, each under the
	 * name ld.so gives it (path: absolute, 1 to DLG_STARTUP_NAME_MAX
	 * bytes, no two alike; sha256 unused). Any order. */
	struct dlg_fingerprint *startup_fps;    /* n_startup of them */
	size_t n_startup;
};

/* Longest name a start-up verdict can hold (its record keeps it inline). */
#define DLG_STARTUP_NAME_MAX 79

/* Frees a list of fingerprints (p->fprints, p->startup_fps) and their paths. */
void dlg_fingerprints_free(struct dlg_fingerprint *v, size_t n);

/* Releases everything a policy owns; accepts NULL. */
void dlg_policy_free(struct dlg_policy *p);

#endif
