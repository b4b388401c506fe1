/* dlguard sign: a detached signature per file, in the openssl CLI's formats
 * (sign.h), each checked with the guard's own verifier before it is written. */
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
#include "sig.h"
#include "sig_key.h"
#include "sign.h"

static const char usage_text[] = "usage: dlguard sign --key KEY [--sig-dir DIR] FILE...\n";

struct signer {
	EVP_PKEY *key;
	enum dlg_key_type type;
	unsigned char *pub_der;
	size_t pub_der_len;
	const char *sig_dir;
};

/* The guard looks signatures up by the canonical path of what it loads, so
 * FILE.sig goes next to the file a symlink points to, and under --sig-dir
 * the canonical path is mirrored: DIR/usr/lib/x.so.sig. */
static int sig_path(const struct signer *s, const char *canon, char *out, size_t len)
{
	int n;

	if (s->sig_dir)
		n = snprintf(out, len, "%s%s.sig", s->sig_dir, canon);
	else
		n = snprintf(out, len, "%s.sig", canon);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int sign_one(const struct signer *s, const char *name)
{
	unsigned char sig[DLG_SIG_MAX];
	char canon[PATH_MAX], out[PATH_MAX], err[512];
	size_t sig_len = 0;
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
	if (!realpath(name, canon) || sig_path(s, canon, out, sizeof out) != 0) {
		fprintf(stderr, "dlguard: %s: %s\n", name,
			errno ? strerror(errno) : "path too long");
		goto end;
	}
	if (dlg_sign_fd(s->key, s->type, fd, sig, &sig_len, err, sizeof err) != 0) {
		fprintf(stderr, "dlguard: %s: %s\n", name, err);
		goto end;
	}
	if (dlg_sig_verify_fd(fd, sig, sig_len, s->pub_der, s->pub_der_len, s->type, err,
			      sizeof err) != DLG_SIG_VALID) {
		fprintf(stderr, "dlguard: %s: the new signature does not verify: %s\n", name, err);
		goto end;
	}
	if (dlg_sign_write_file(out, sig, sig_len, s->sig_dir != NULL, err, sizeof err) != 0) {
		fprintf(stderr, "dlguard: %s: %s\n", name, err);
		goto end;
	}
	printf("%s: signed (%s), %s\n", name, dlg_key_type_name(s->type), out);
	rc = 0;
end:
	close(fd);
	return rc;
}

/* A relative --sig-dir is made absolute now: the mirrored paths are. */
static int set_sig_dir(struct signer *s, const char *dir, char *buf, size_t len)
{
	size_t n;

	if (dir[0] == '/') {
		if (snprintf(buf, len, "%s", dir) >= (int)len)
			return -1;
	} else {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof cwd) ||
		    snprintf(buf, len, "%s/%s", cwd, dir) >= (int)len)
			return -1;
	}
	n = strlen(buf);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	s->sig_dir = strcmp(buf, "/") == 0 ? "" : buf;
	return 0;
}

int cmd_sign(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "sig-dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct signer s = { 0 };
	const char *key = NULL, *dir = NULL;
	char err[512], dirbuf[PATH_MAX];
	int c, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "k:d:h", opts, NULL)) != -1) {
		if (c == 'k') {
			key = optarg;
		} else if (c == 'd') {
			dir = optarg;
		} else {
			return cli_usage(usage_text, c);
		}
	}
	if (!key || optind >= argc) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (dir && set_sig_dir(&s, dir, dirbuf, sizeof dirbuf) != 0) {
		fprintf(stderr, "dlguard: %s: path too long\n", dir);
		return 1;
	}
	s.key = dlg_sign_load_key(key, &s.type, &s.pub_der, &s.pub_der_len, err, sizeof err);
	if (!s.key) {
		fprintf(stderr, "dlguard: %s: %s\n", key, err);
		return 1;
	}
	for (int i = optind; i < argc; i++)
		rc |= sign_one(&s, argv[i]);
	EVP_PKEY_free(s.key);
	free(s.pub_der);
	return rc;
}
