#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fingerprint.h"
#include "policy_conf.h"
#include "startup_verdicts.h"

static void print_diags(const char *path, const struct dlg_diags *d, int quiet_warnings)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct dlg_diag *x = &d->v[i];
		const char *level = x->level == DLG_DIAG_ERROR ? "error" : "warning";
		if (quiet_warnings && x->level == DLG_DIAG_WARNING)
			continue;
		if (x->line)
			fprintf(stderr, "%s:%u: %s: %s\n", path, x->line, level, x->msg);
		else
			fprintf(stderr, "%s: %s: %s\n", path, level, x->msg);
	}
}

struct dlg_policy *cli_load_policy(const char *path, int quiet_warnings)
{
	struct dlg_diags d = { 0 };
	struct dlg_policy *p = dlg_policy_parse_file(path, &d);

	if (p) {
		char abs[PATH_MAX], *copy;
		dlg_policy_canonicalize(p, &d);
		/* events name the policy that decided: make that name absolute */
		if (realpath(path, abs) && (copy = strdup(abs))) {
			free(p->source);
			p->source = copy;
		}
	}
	print_diags(path, &d, quiet_warnings);
	dlg_diags_free(&d);
	return p;
}

int cli_usage(const char *usage, int opt)
{
	fputs(usage, opt == 'h' ? stdout : stderr);
	return opt == 'h' ? 0 : 2;
}

int cli_preload_path(char *out, unsigned long len)
{
	char exe[PATH_MAX], *slash;
	const char *rel[] = { DLGUARD_BIN_TO_LIB "/libdlguard.so", "libdlguard.so" };
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

	if (n <= 0)
		return -1;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
		char cand[PATH_MAX];
		if (snprintf(cand, sizeof cand, "%s/%s", exe, rel[i]) >= (int)sizeof cand)
			continue;
		char engine[PATH_MAX];
		if (access(cand, R_OK) == 0 && realpath(cand, out) && strlen(out) < len &&
		    cli_engine_path(out, engine, sizeof engine) == 0 && access(engine, R_OK) == 0)
			return 0;
	}
	return -1;
}

int cli_engine_path(const char *preload, char *out, unsigned long len)
{
	const char *slash = strrchr(preload, '/');
	int n;

	if (!slash)
		return -1;
	n = snprintf(out, len, "%.*s/libdlguard-engine.so", (int)(slash - preload), preload);
	return n < 0 || (unsigned long)n >= len ? -1 : 0;
}

int cli_collect_fingerprints(struct dlg_policy *p, const char *what, struct dlg_fp_stats *fps,
			     struct dlg_startup_stats *sus)
{
	struct dlg_fp_stats fps0;
	struct dlg_startup_stats sus0;
	char err[512];

	if (dlg_fingerprint_collect(p, NULL, fps ? fps : &fps0, err, sizeof err) != 0) {
		fprintf(stderr, "dlguard: %s: fingerprints: %s\n", what, err);
		return -1;
	}
	if (dlg_startup_collect(p, NULL, sus ? sus : &sus0, err, sizeof err) != 0) {
		fprintf(stderr, "dlguard: %s: start-up verdicts: %s\n", what, err);
		return -1;
	}
	return 0;
}
