/* Rule model shared by the policy text parser and the compiled-policy writer.
 * The preload never sees this: it only reads the compiled form (policy_db.h). */
#ifndef DLGUARD_POLICY_H
#define DLGUARD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include "sig.h"

#define DLG_SHA256_LEN 32
#define DLG_POLICY_VERSION 1

enum dlg_action { DLG_ACTION_ALLOW = 1, DLG_ACTION_DENY = 2 };
enum dlg_mode { DLG_MODE_ENFORCE = 0, DLG_MODE_AUDIT = 1 };

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
};

/* Releases everything a policy owns; accepts NULL. */
void dlg_policy_free(struct dlg_policy *p);

#endif
