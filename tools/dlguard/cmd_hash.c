#include <errno.h>
#include <fcntl.h>
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

int cmd_hash(int argc, char **argv)
{
	int rules = 0, first = 1, rc = 0;

	if (argc > 1 && strcmp(argv[1], "--rules") == 0) {
		rules = 1;
		first = 2;
	}
	if (first < argc && strcmp(argv[first], "--") == 0)
		first++;
	if (first >= argc) {
		fprintf(stderr, "usage: dlguard hash [--rules] FILE...\n");
		return 2;
	}
	if (rules)
		printf("# paste into the rules = ( ... ) list of a policy\n");
	for (int i = first; i < argc; i++)
		rc |= hash_one(argv[i], rules);
	if (rules)
		putchar('\n');
	return rc;
}
