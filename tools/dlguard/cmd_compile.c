#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fingerprint.h"
#include "policy_conf.h"
#include "policy_db.h"
#include "startup_verdicts.h"

static int usage(void)
{
	fprintf(stderr, "usage: dlguard compile [--audit] [--no-fingerprints] FILE -o OUT\n"
			"  --no-fingerprints  record no stat fingerprints and no start-up verdicts\n");
	return 2;
}

int cmd_compile(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "audit", no_argument, NULL, 'a' },
		{ "no-fingerprints", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL;
	int audit = 0, fingerprints = 1, c, rc = 1;
	struct dlg_fp_stats fps = { 0, 0 };
	struct dlg_startup_stats sus = { 0, 0, 0 };
	struct dlg_policy *p;
	char err[512];

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (c == 'o')
			out = optarg;
		else if (c == 'a')
			audit = 1;
		else if (c == 'n')
			fingerprints = 0;
		else
			return usage();
	}
	if (!out || optind != argc - 1)
		return usage();
	p = cli_load_policy(argv[optind], 0);
	if (!p)
		return 1;
	if (audit)
		p->mode = DLG_MODE_AUDIT;
	/* The files as they are now: the guard trusts a file whose fstat still
	 * matches without reading it, and hashes any other. */
	if (fingerprints && cli_collect_fingerprints(p, argv[optind], &fps, &sus) != 0)
		goto end;
	if (dlg_db_write_file(p, out, err, sizeof err) != 0) {
		fprintf(stderr, "dlguard: %s: %s\n", out, err);
		goto end;
	}
	printf("%s: compiled %zu rules (%s, default %s) from %s\n", out, p->n_rules,
	       p->mode == DLG_MODE_AUDIT ? "audit" : "enforce",
	       p->default_action == DLG_ACTION_ALLOW ? "allow" : "deny", argv[optind]);
	if (fps.pinned > 0)
		printf("%s: fingerprinted %zu of %zu pinned files (the others are hashed when "
		       "loaded)\n", out, fps.recorded, fps.pinned);
	if (sus.candidates > 0) {
		printf("%s: recorded %zu start-up verdicts (of %zu candidates", out, sus.recorded,
		       sus.candidates);
		if (sus.too_recent > 0)
			printf("; %zu changed too recently", sus.too_recent);
		printf(")\n");
	}
	rc = 0;
end:
	dlg_policy_free(p);
	return rc;
}
