#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "digest.h"

/* sha256sum escapes names holding '\\' or '\n' and marks the line with a
 * leading backslash; do the same so `sha256sum -c` reads our output. */
static void print_sum(const char *hex, const char *name)
{
	int esc = strpbrk(name, "\\\n") != NULL;

	if (esc)
		putchar('\\');
	fputs(hex, stdout);
	fputs("  ", stdout);
	for (const char *p = name; *p; p++) {
		if (esc && *p == '\\')
			fputs("\\\\", stdout);
		else if (esc && *p == '\n')
			fputs("\\n", stdout);
		else
			putchar(*p);
	}
	putchar('\n');
}

/* libconfig lists take no trailing comma: rules are separated, not ended. */
static void print_rule(const char *hex, const char *path)
{
	static int printed;

	printf("%s  { action = \"allow\"; path = \"", printed++ ? ",\n" : "");
	for (const char *p = path; *p; p++) {
		if (*p == '"' || *p == '\\')
			putchar('\\');
		putchar(*p);
	}
	printf("\"; sha256 = \"%s\"; }", hex);
}

static int hash_one(const char *name, int rules)
{
	unsigned char sum[DLG_SHA256_LEN];
	char hex[2 * DLG_SHA256_LEN + 1], err[256], canon[PATH_MAX];
	struct stat st;
	int fd, rc = 1;

	fd = open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		fprintf(stderr, "dlguard: %s: %s\n", name, strerror(errno));
		return 1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "dlguard: %s: not a regular file\n", name);
		goto end;
	}
	if (dlg_sha256_fd(fd, sum, err, sizeof err) != 0) {
		fprintf(stderr, "dlguard: %s: %s\n", name, err);
		goto end;
	}
	dlg_hex(sum, sizeof sum, hex);
	if (!rules) {
		print_sum(hex, name);
	} else if (!realpath(name, canon)) {
		fprintf(stderr, "dlguard: %s: %s\n", name, strerror(errno));
		goto end;
	} else {
		print_rule(hex, canon);
	}
	rc = 0;
end:
	close(fd);
	return rc;
}

static const char usage_text[] =
	"usage: dlguard hash [--rules] [--] FILE...\n"
	"  SHA-256 of each file, in sha256sum's format (sha256sum -c reads it).\n"
	"  --rules    print policy rules instead: one allow rule per file, by its\n"
	"             canonical path and digest, to paste into rules = ( ... )\n"
	"  -h, --help this text\n";

int cmd_hash(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rules", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int rules = 0, rc = 0, c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'r') {
			rules = 1;
		} else {
			return cli_usage(usage_text, c);
		}
	}
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (rules)
		printf("# paste into the rules = ( ... ) list of a policy\n");
	for (int i = optind; i < argc; i++)
		rc |= hash_one(argv[i], rules);
	if (rules)
		putchar('\n');
	return rc;
}
