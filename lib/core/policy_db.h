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
};

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
struct stat;
int dlg_db_open_file(struct dlg_db *db, const char *path, struct stat *st_out,
		     char *err, size_t errlen);

void dlg_db_close(struct dlg_db *db);

/* What is known about the object being decided on. */
struct dlg_subject {
	const char *path;       /* canonical path of the object */
	const char *exe;        /* canonical path of this process's executable, or NULL */
	int fd;                 /* descriptor of the very inode being decided on; -1 if none */
	bool have_sha256;       /* set by the caller if known, or by dlg_decide once hashed */
	unsigned char sha256[DLG_SHA256_LEN];
	bool hash_failed;       /* set by dlg_decide when hashing was needed and failed */
	/* Signature evidence, filled by dlg_decide when a rule needed it
	 * (ECS dll.code_signature.*). */
	bool sig_checked;       /* a signature condition was evaluated */
	bool sig_exists;        /* a signature (or manifest line) was found */
	bool sig_valid;         /* it verifies with some key */
	bool sig_trusted;       /* it verifies with a key the deciding rule trusts */
	char sig_status[64];    /* "trusted", "missing", "invalid", "untrusted key", "error", ... */
	char sig_key[64];       /* name of the key that verified, "" if none */
};

struct dlg_verdict {
	enum dlg_action action;
	uint32_t rule;          /* 1-based index of the deciding rule; 0 = default or error */
	uint32_t line;          /* its source line; 0 for default */
	char reason[256];       /* one human sentence, e.g. "rule 4 (line 12): deny dir /tmp" */
};

/* First matching rule decides, else the default. The SHA-256 of s->fd is
 * computed only when a rule's other conditions all hold and it has a digest
 * condition; a failure to hash denies with the reason. Returns the action. */
enum dlg_action dlg_decide(const struct dlg_db *db, struct dlg_subject *s,
			   struct dlg_verdict *v);

/* Rule accessors for tools (dlguard verify/explain); index is 0-based.
 * Return false when index is out of range. */
struct dlg_db_rule_view {
	enum dlg_action action;
	uint32_t line;
	const char *path, *dir, *exe;   /* NULL when absent */
	uint32_t n_sha256;
};
bool dlg_db_rule(const struct dlg_db *db, uint32_t index, struct dlg_db_rule_view *out);

#endif
