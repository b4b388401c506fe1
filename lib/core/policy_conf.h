/* libconfig text -> rule model. Used by the CLI only, never by the preload. */
#ifndef DLGUARD_POLICY_CONF_H
#define DLGUARD_POLICY_CONF_H

#include <stddef.h>
#include "policy.h"

enum dlg_diag_level { DLG_DIAG_ERROR, DLG_DIAG_WARNING };

/* One finding about a policy text, reported as FILE:LINE: message. */
struct dlg_diag {
	enum dlg_diag_level level;
	unsigned line;          /* 0 when no line applies */
	char msg[256];
};

struct dlg_diags {
	struct dlg_diag *v;
	size_t n;
	size_t n_errors;
};

void dlg_diags_free(struct dlg_diags *d);

/* Parses a policy file strictly. Every error and warning found is appended to
 * *diags (the parser goes on after an error where it can, so one run reports
 * them all). Returns a policy only when there was no error; NULL otherwise. */
struct dlg_policy *dlg_policy_parse_file(const char *path, struct dlg_diags *diags);

/* Same, for text held in memory; 'name' is used as the file name in messages. */
struct dlg_policy *dlg_policy_parse_string(const char *text, const char *name,
					   struct dlg_diags *diags);

/* Replaces every rule path/dir/exe that exists by its canonical form
 * (realpath), so rules match the canonical paths the guard computes. A path
 * that does not exist is kept as written and produces a warning. */
void dlg_policy_canonicalize(struct dlg_policy *p, struct dlg_diags *diags);

#endif
