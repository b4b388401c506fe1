/* dlguard public C API: decide, as the preloaded guard would, whether a
 * shared object may be loaded under a compiled policy.
 *
 * Link with -ldlguard-core (static). The preloaded libdlguard.so exports only
 * dlopen and dlmopen; this API is for tools that want the same decisions
 * (package checks, CI gates, file managers). */
#ifndef DLGUARD_H
#define DLGUARD_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dlguard_policy;  /* opaque: a mapped, validated compiled policy */

struct dlguard_decision {
	int allowed;            /* 1: the policy allows the object; 0: it denies it */
	int audit;              /* 1: the policy is in audit mode (a denial is only logged) */
	unsigned rule;          /* 1-based index of the deciding rule; 0: the default */
	unsigned line;          /* that rule's line in the policy source; 0 for the default */
	char reason[256];       /* one sentence explaining the decision */
	char path[4096];        /* canonical path decided on */
	int have_sha256;        /* 1 when the SHA-256 was computed */
	char sha256[65];        /* lower-case hex, when have_sha256 */
	int from_fingerprint;   /* 1 when the SHA-256 was taken from the policy's stat
				 * fingerprint instead of reading the file */
};

/* Maps a compiled policy (dlguard compile). NULL with a reason in err on any
 * problem: missing, not a regular file, corrupt, truncated. */
struct dlguard_policy *dlguard_policy_open(const char *compiled_path, char *err, size_t errlen);
void dlguard_policy_close(struct dlguard_policy *p);

/* Decides for the object open on fd; exe (may be NULL) is the executable
 * that would load it, for exe-restricted rules. Returns 0, or -1 with
 * out->reason explaining why no decision could be made. */
int dlguard_decide_fd(const struct dlguard_policy *p, int fd, const char *exe,
		      struct dlguard_decision *out);

/* Same for a path: opened once (never blocking), then decided on that fd. */
int dlguard_decide_path(const struct dlguard_policy *p, const char *path, const char *exe,
			struct dlguard_decision *out);

#ifdef __cplusplus
}
#endif

#endif
