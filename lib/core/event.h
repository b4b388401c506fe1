/* One decision -> one JSON line (ECS field names), syslog, stderr. */
#ifndef DLGUARD_EVENT_H
#define DLGUARD_EVENT_H

#include <stddef.h>
#include <sys/types.h>

struct dlg_event {
	const char *action;     /* event.action: "dlopen", "dlmopen" */
	const char *decision;   /* dlguard.decision: "allow", "deny", "would-deny" */
	const char *rule;       /* dlguard.rule: "3" or "default" (or "error") */
	const char *reason;     /* dlguard.reason */
	const char *policy;     /* dlguard.policy: the policy file that decided, or NULL */
	const char *requested;  /* dlguard.requested: the name the caller passed */
	const char *path;       /* dll.path: canonical path, or NULL when unresolved */
	const unsigned char *sha256;    /* dll.hash.sha256, NULL when not computed */
	/* dll.code_signature.*, present when sig_checked */
	int sig_checked;
	int sig_exists, sig_valid, sig_trusted;
	const char *sig_status;
	const char *sig_key;    /* dlguard.key: the key name that verified, or NULL */
	pid_t pid;              /* process.pid */
	const char *exe;        /* process.executable, or NULL */
};

/* Big enough for two PATH_MAX strings fully escaped; longer fields are cut. */
#define DLG_EVENT_MAX 16384

/* Formats one JSON object followed by '\n'. Returns its length (< len), or 0
 * if len is too small for even a truncated line. Never allocates. */
size_t dlg_event_format(const struct dlg_event *e, char *buf, size_t len);

/* Appends one line with a single write(2) on an O_APPEND descriptor, so lines
 * from concurrent processes never interleave. Creates the file 0640. Returns
 * 0, or -1 with errno set. */
int dlg_event_append(const char *file, const char *line, size_t len);

/* One message to the local syslog socket (/dev/log), facility authpriv,
 * severity warning, tag "dlguard". Silent when syslog is not running. */
void dlg_event_syslog(const char *msg);

/* A one-line human summary for syslog and stderr. */
size_t dlg_event_summary(const struct dlg_event *e, char *buf, size_t len);

#endif
