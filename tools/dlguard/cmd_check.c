/* dlguard check [-q] FILE...: validate policy texts the way compile would.
 * Diagnostics go to stderr as FILE:LINE: level: message, one "FILE: OK"
 * line per valid file to stdout. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "policy.h"

static int usage(void)
{
	fprintf(stderr, "usage: dlguard check [-q] FILE...\n"
		"  -q  print errors only (no warnings, no OK lines)\n");
	return 2;
}

int cmd_check(int argc, char **argv)
{
	int quiet = 0, c, rc = 0;

	optind = 1;
	while ((c = getopt(argc, argv, "q")) != -1) {
		if (c == 'q')
			quiet = 1;
		else
			return usage();
	}
	if (optind >= argc)
		return usage();
	for (; optind < argc; optind++) {
		const char *file = argv[optind];
		/* Same parse and canonicalisation as compile, so "OK" here means
		 * compile will accept it. */
		struct dlg_policy *p = cli_load_policy(file, quiet);

		if (!p) {
			rc = 1;
			continue;
		}
		if (!quiet)
			printf("%s: OK (%zu rule%s)\n", file, p->n_rules,
			       p->n_rules == 1 ? "" : "s");
		dlg_policy_free(p);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("dlguard check: stdout");
		return 1;
	}
	return rc;
}
