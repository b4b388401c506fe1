/* Rule model shared by the policy text parser and the compiled-policy writer.
 * The preload never sees this: it only reads the compiled form (policy_db.h). */
#ifndef DLGUARD_POLICY_H
#define DLGUARD_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#define DLG_SHA256_LEN 32
#define DLG_POLICY_VERSION 1

enum dlg_action { DLG_ACTION_ALLOW = 1, DLG_ACTION_DENY = 2 };
enum dlg_mode { DLG_MODE_ENFORCE = 0, DLG_MODE_AUDIT = 1 };

struct dlg_rule {
	enum dlg_action action;
	unsigned line;          /* line of the rule's opening brace in the source */
	char *path;             /* absolute file path, or NULL */
	char *dir;              /* absolute directory (no trailing '/', "/" allowed), or NULL */
	char *exe;              /* absolute executable path, or NULL */
	unsigned char (*sha256)[DLG_SHA256_LEN];
	size_t n_sha256;        /* 0: no digest condition */
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
};

/* Releases everything a policy owns; accepts NULL. */
void dlg_policy_free(struct dlg_policy *p);

#endif
