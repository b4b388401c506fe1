/* dlguard manifest --key KEY -o OUT [--all] FILE|DIR...: hash files into a
 * sha256sum-format list (canonical absolute paths, sorted), write it
 * atomically, and sign it: OUT.sig in the same formats as library
 * signatures. `sha256sum -c OUT` accepts the result; a policy rule
 * `manifest = "OUT"; signed_by = "..."` trusts exactly what it lists.
 *
 * Directories are walked without following symbolic links (a link inside
 * the tree could point anywhere); only regular files named *.so or *.so.*
 * are listed unless --all is given. Files named on the command line are
 * always listed, by their canonical path. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "digest.h"
#include "sig.h"
#include "sig_key.h"
#include "sign.h"

static const char usage_text[] =
	"usage: dlguard manifest --key KEY -o OUT [--all] FILE|DIR...\n"
	"  directories are walked without following symbolic links; only *.so and\n"
	"  *.so.* files are listed from them unless --all is given\n";

struct entry {
	char *path;             /* canonical */
	char hex[2 * DLG_SHA256_LEN + 1];
};

struct list {
	struct entry *v;
	size_t n, cap;
	bool all;               /* --all: every regular file of a walked directory */
	bool failed;
	char skip[2][PATH_MAX]; /* OUT and OUT.sig, never listed */
};

/* nftw has no user pointer: the walk in progress. */
static struct list *walking;

static bool shared_object_name(const char *path)
{
	const char *base = strrchr(path, '/'), *so;

	base = base ? base + 1 : path;
	so = strstr(base, ".so");
	while (so) {
		if (so[3] == '\0' || so[3] == '.')
			return so != base;
		so = strstr(so + 1, ".so");
	}
	return false;
}

static int add(struct list *l, const char *canon)
{
	unsigned char sum[DLG_SHA256_LEN];
	char err[256];
	struct stat st;
	int fd, rc = -1;

	if (strcmp(canon, l->skip[0]) == 0 || strcmp(canon, l->skip[1]) == 0)
		return 0;
	if (strchr(canon, '\r')) {
		fprintf(stderr, "dlguard: %s: a carriage return in a file name cannot be written "
			"in sha256sum format\n", canon);
		return -1;
	}
	fd = open(canon, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0) {
		fprintf(stderr, "dlguard: %s: %s\n", canon, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "dlguard: %s: not a regular file\n", canon);
		goto end;
	}
	if (dlg_sha256_fd(fd, sum, err, sizeof err) != 0) {
		fprintf(stderr, "dlguard: %s: %s\n", canon, err);
		goto end;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct entry *nv = realloc(l->v, cap * sizeof *nv);

		if (!nv) {
			fprintf(stderr, "dlguard: out of memory\n");
			goto end;
		}
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n].path = strdup(canon);
	if (!l->v[l->n].path) {
		fprintf(stderr, "dlguard: out of memory\n");
		goto end;
	}
	dlg_hex(sum, sizeof sum, l->v[l->n].hex);
	l->n++;
	rc = 0;
end:
	close(fd);
	return rc;
}

static int walk_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_DNR || flag == FTW_NS) {
		fprintf(stderr, "dlguard: %s: cannot read\n", path);
		walking->failed = true;
		return 0;
	}
	/* FTW_SL: symbolic links are neither followed nor listed. */
	if (flag != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	if (!walking->all && !shared_object_name(path))
		return 0;
	if (add(walking, path) != 0)
		walking->failed = true;
	return 0;
}

static int collect(struct list *l, const char *arg)
{
	char canon[PATH_MAX];
	struct stat st;

	if (!realpath(arg, canon) || stat(canon, &st) != 0) {
		fprintf(stderr, "dlguard: %s: %s\n", arg, strerror(errno));
		return -1;
	}
	if (S_ISREG(st.st_mode))
		return add(l, canon);
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "dlguard: %s: not a regular file or directory\n", arg);
		return -1;
	}
	walking = l;
	if (nftw(canon, walk_one, 32, FTW_PHYS) != 0) {
		fprintf(stderr, "dlguard: %s: %s\n", arg, strerror(errno));
		return -1;
	}
	return l->failed ? -1 : 0;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->path, ((const struct entry *)b)->path);
}

/* Sorted by path; a file named twice (itself and through its directory)
 * is listed once. */
static void sort_unique(struct list *l)
{
	size_t k = 0;

	qsort(l->v, l->n, sizeof *l->v, entry_cmp);
	for (size_t i = 0; i < l->n; i++) {
		if (k > 0 && strcmp(l->v[k - 1].path, l->v[i].path) == 0) {
			free(l->v[i].path);
			continue;
		}
		l->v[k++] = l->v[i];
	}
	l->n = k;
}

/* sha256sum escapes names holding '\\' or '\n' and marks the line with a
 * leading backslash; dlguard's manifest reader and `sha256sum -c` both
 * read that back. */
static char *render(const struct list *l, size_t *len)
{
	size_t cap = 1, o = 0;
	char *text;

	for (size_t i = 0; i < l->n; i++)
		cap += 2 * strlen(l->v[i].path) + sizeof l->v[i].hex + 4;
	text = malloc(cap);
	if (!text)
		return NULL;
	for (size_t i = 0; i < l->n; i++) {
		const struct entry *e = &l->v[i];
		bool esc = strpbrk(e->path, "\\\n") != NULL;

		if (esc)
			text[o++] = '\\';
		memcpy(text + o, e->hex, 2 * DLG_SHA256_LEN);
		o += 2 * DLG_SHA256_LEN;
		text[o++] = ' ';
		text[o++] = ' ';
		for (const char *c = e->path; *c; c++) {
			if (esc && (*c == '\\' || *c == '\n')) {
				text[o++] = '\\';
				text[o++] = *c == '\n' ? 'n' : '\\';
			} else {
				text[o++] = *c;
			}
		}
		text[o++] = '\n';
	}
	text[o] = '\0';
	*len = o;
	return text;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Temp file in OUT's directory, fsync, rename, fsync of the directory: a
 * reader sees the old manifest or the new one, never a mix. */
static int write_atomic(const char *out, const char *text, size_t len)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	const char *slash = strrchr(out, '/');
	int fd, dfd, n;

	n = slash ? snprintf(dir, sizeof dir, "%.*s", slash == out ? 1 : (int)(slash - out), out)
		  : snprintf(dir, sizeof dir, ".");
	if (n < 0 || (size_t)n >= sizeof dir ||
	    snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, slash ? slash + 1 : out) >=
		    (int)sizeof tmp) {
		fprintf(stderr, "dlguard: %s: path too long\n", out);
		return -1;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "dlguard: %s: cannot create a temporary file: %s\n", out,
			strerror(errno));
		return -1;
	}
	if (fchmod(fd, 0644) != 0 || write_all(fd, text, len) != 0 || fsync(fd) != 0 ||
	    close(fd) != 0) {
		fprintf(stderr, "dlguard: %s: %s\n", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, out) != 0) {
		fprintf(stderr, "dlguard: rename %s to %s: %s\n", tmp, out, strerror(errno));
		unlink(tmp);
		return -1;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* OUT and OUT.sig by canonical path, so a walk over their directory (with
 * --all) does not list the previous manifest. */
static void set_skip(struct list *l, const char *out)
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *slash = strrchr(out, '/');
	const char *base = slash ? slash + 1 : out;

	if (snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - out) + 1 : 1,
		     slash ? out : ".") >= (int)sizeof dir || !realpath(dir, real))
		return;
	if (snprintf(l->skip[0], sizeof l->skip[0], "%s%s%s", real, strcmp(real, "/") ? "/" : "",
		     base) >= (int)sizeof l->skip[0] ||
	    snprintf(l->skip[1], sizeof l->skip[1], "%s.sig", l->skip[0]) >= (int)sizeof l->skip[1])
		l->skip[0][0] = l->skip[1][0] = '\0';
}

struct key {
	EVP_PKEY *pkey;
	enum dlg_key_type type;
	unsigned char *pub;
	size_t pub_len;
};

/* Signs text, checks the signature with the guard's own verifier, and
 * writes OUT then OUT.sig. */
static int sign_and_write(const struct key *k, const char *out, const char *text, size_t len)
{
	unsigned char sig[DLG_SIG_MAX];
	char sigpath[PATH_MAX], err[512];
	size_t sig_len = 0;

	if (snprintf(sigpath, sizeof sigpath, "%s.sig", out) >= (int)sizeof sigpath) {
		fprintf(stderr, "dlguard: %s: path too long\n", out);
		return -1;
	}
	if (dlg_sign_mem(k->pkey, k->type, text, len, sig, &sig_len, err, sizeof err) != 0) {
		fprintf(stderr, "dlguard: %s: cannot sign: %s\n", out, err);
		return -1;
	}
	if (dlg_sig_verify_mem(text, len, sig, sig_len, k->pub, k->pub_len, k->type, err,
			       sizeof err) != DLG_SIG_VALID) {
		fprintf(stderr, "dlguard: %s: the new signature does not verify: %s\n", out, err);
		return -1;
	}
	if (write_atomic(out, text, len) != 0)
		return -1;
	if (dlg_sign_write_file(sigpath, sig, sig_len, 0, err, sizeof err) != 0) {
		fprintf(stderr, "dlguard: %s: %s\n", sigpath, err);
		return -1;
	}
	return 0;
}

static void list_free(struct list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].path);
	free(l->v);
}

int cmd_manifest(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "output", required_argument, NULL, 'o' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *keyfile = NULL, *out = NULL;
	struct list l = { 0 };
	struct key k = { 0 };
	char err[512], *text = NULL;
	size_t len = 0;
	int c, rc = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "k:o:ah", opts, NULL)) != -1) {
		if (c == 'k') {
			keyfile = optarg;
		} else if (c == 'o') {
			out = optarg;
		} else if (c == 'a') {
			l.all = true;
		} else {
			return cli_usage(usage_text, c);
		}
	}
	if (!keyfile || !out || !*out || optind >= argc) {
		fputs(usage_text, stderr);
		return 2;
	}
	k.pkey = dlg_sign_load_key(keyfile, &k.type, &k.pub, &k.pub_len, err, sizeof err);
	if (!k.pkey) {
		fprintf(stderr, "dlguard: %s: %s\n", keyfile, err);
		return 1;
	}
	set_skip(&l, out);
	for (int i = optind; i < argc; i++)
		if (collect(&l, argv[i]) != 0)
			goto end;      /* never write a manifest that misses a file */
	if (l.n == 0) {
		fprintf(stderr, "dlguard: %s: no file to list\n", out);
		goto end;
	}
	sort_unique(&l);
	text = render(&l, &len);
	if (!text) {
		fprintf(stderr, "dlguard: out of memory\n");
		goto end;
	}
	if (sign_and_write(&k, out, text, len) != 0)
		goto end;
	printf("%s: %zu file%s, signed (%s), %s.sig\n", out, l.n, l.n == 1 ? "" : "s",
	       dlg_key_type_name(k.type), out);
	rc = 0;
end:
	free(text);
	list_free(&l);
	EVP_PKEY_free(k.pkey);
	free(k.pub);
	return rc;
}
