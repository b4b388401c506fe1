/* dlguard install / uninstall / status: the system-wide mode, through
 * /etc/ld.so.preload. A bad ld.so.preload or system policy affects every
 * process on the machine, so every write is atomic (temp file in the same
 * directory, fsync, rename, fsync of the directory) and a policy is
 * installed only after it was tried with the library preloaded. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fingerprint.h"
#include "policy.h"
#include "policy_db.h"
#include "startup_verdicts.h"

#define PRELOAD_MAX (64 * 1024)
/* A library every glibc system has and few programs load: the pre-flight
 * dlopen probe. */
#define PROBE_LIBRARY "libutil.so.1"

struct paths {
	char root[PATH_MAX];
	char etc_dlguard[PATH_MAX];
	char conf[PATH_MAX];
	char db[PATH_MAX];
	char on_error[PATH_MAX];
	char preload_file[PATH_MAX];
	char lib[PATH_MAX];
};

static int join(char *out, size_t len, const char *a, const char *b)
{
	int n = snprintf(out, len, "%s%s", a, b);

	if (n < 0 || (size_t)n >= len) {
		fprintf(stderr, "dlguard: path too long: %s%s\n", a, b);
		return -1;
	}
	return 0;
}

static int set_paths(struct paths *p, const char *root)
{
	size_t n;

	if (!root || !*root)
		root = "/";
	if (snprintf(p->root, sizeof p->root, "%s", root) >= (int)sizeof p->root)
		return -1;
	n = strlen(p->root);
	while (n > 1 && p->root[n - 1] == '/')
		p->root[--n] = '\0';
	if (strcmp(p->root, "/") == 0)
		p->root[0] = '\0';
	if (join(p->etc_dlguard, sizeof p->etc_dlguard, p->root, "/etc/dlguard") ||
	    join(p->conf, sizeof p->conf, p->root, "/etc/dlguard/policy.conf") ||
	    join(p->db, sizeof p->db, p->root, "/etc/dlguard/policy.db") ||
	    join(p->on_error, sizeof p->on_error, p->root, "/etc/dlguard/on_error") ||
	    join(p->preload_file, sizeof p->preload_file, p->root, "/etc/ld.so.preload"))
		return -1;
	if (cli_preload_path(p->lib, sizeof p->lib) != 0) {
		fprintf(stderr, "dlguard: cannot find libdlguard.so and libdlguard-engine.so beside this dlguard binary\n");
		return -1;
	}
	return 0;
}

static int fsync_dir_of(const char *path)
{
	char dir[PATH_MAX], *slash;
	int fd, rc;

	snprintf(dir, sizeof dir, "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	fd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Replaces path with content: temp file beside it, fsync, rename. */
static int write_atomic(const char *path, const char *content, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd, rc = -1;

	if (snprintf(tmp, sizeof tmp, "%s.dlguard-XXXXXX", path) >= (int)sizeof tmp)
		return -1;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -1;
	if (fchmod(fd, mode) == 0 && write(fd, content, len) == (ssize_t)len && fsync(fd) == 0 &&
	    close(fd) == 0) {
		fd = -1;
		if (rename(tmp, path) == 0) {
			rc = fsync_dir_of(path);
			goto end;
		}
	}
	if (fd >= 0)
		close(fd);
	unlink(tmp);
end:
	return rc;
}

/* Reads /etc/ld.so.preload (missing = empty). */
static int read_preload(const char *path, char *buf, size_t cap, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	ssize_t n;

	*len = 0;
	buf[0] = '\0';
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size >= cap) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -1;
	*len = (size_t)n;
	buf[n] = '\0';
	return 0;
}

/* ld.so.preload entries are separated by white space or ':'
 * (elf/rtld.c). Calls fn for each entry; stops when fn returns non-zero. */
static int each_entry(const char *buf, int (*fn)(const char *e, size_t n, void *ctx), void *ctx)
{
	const char *p = buf;

	while (*p) {
		size_t n;
		p += strspn(p, " \t\n:");
		n = strcspn(p, " \t\n:");
		if (n && fn(p, n, ctx))
			return 1;
		p += n;
	}
	return 0;
}

static int is_ours(const char *e, size_t n, void *lib)
{
	return strlen(lib) == n && memcmp(e, lib, n) == 0;
}

struct rebuild {
	char *out;
	size_t cap, used;
	const char *skip;
};

static int keep_entry(const char *e, size_t n, void *ctx)
{
	struct rebuild *r = ctx;

	if (r->skip && is_ours(e, n, (void *)r->skip))
		return 0;
	if (r->used + n + 2 > r->cap)
		return 1;
	memcpy(r->out + r->used, e, n);
	r->used += n;
	r->out[r->used++] = '\n';
	r->out[r->used] = '\0';
	return 0;
}

static int run_with_policy(const struct paths *p, const char *db, char *const argv[])
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null >= 0)
			dup2(null, 1);
		setenv("LD_PRELOAD", p->lib, 1);
		setenv("DLGUARD_POLICY", db, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* dlguard-probe: beside this binary in a build tree, in
 * libexec/dlguard when installed. */
static int probe_path(char *out, size_t len)
{
	const char *rel[] = { "dlguard-probe", DLGUARD_BIN_TO_LIBEXEC "/dlguard/dlguard-probe" };
	char exe[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

	if (n <= 0)
		return -1;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++)
		if (snprintf(out, len, "%s/%s", exe, rel[i]) < (int)len && access(out, X_OK) == 0)
			return 0;
	return -1;
}

/* Tries the new policy for real before any process depends on it: a shell
 * starts, and a dlopen of a system library succeeds. */
static int preflight(const struct paths *p, const char *db)
{
	char probe_exe[PATH_MAX];
	char *const sh[] = { "/bin/sh", "-c", "true", NULL };
	char *probe[] = { probe_exe, PROBE_LIBRARY, NULL };
	int rc;

	if (probe_path(probe_exe, sizeof probe_exe) != 0) {
		fprintf(stderr, "dlguard: cannot find dlguard-probe beside this dlguard binary\n");
		return -1;
	}
	rc = run_with_policy(p, db, sh);
	if (rc != 0) {
		fprintf(stderr, "dlguard: pre-flight failed: /bin/sh -c true exited %d under the new policy\n", rc);
		return -1;
	}
	rc = run_with_policy(p, db, probe);
	if (rc != 0) {
		fprintf(stderr, "dlguard: pre-flight failed: dlopen(\"%s\") is refused under the new policy "
				"(see its log); not installing\n", PROBE_LIBRARY);
		return -1;
	}
	return 0;
}

static int check_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "dlguard: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || !dlg_root_only(&st)) {
		fprintf(stderr, "dlguard: %s must be a directory owned by root and not writable by "
				"group or others\n", dir);
		return -1;
	}
	return 0;
}

static int install_policy(const struct paths *p, const char *conf)
{
	struct dlg_fp_stats fps;
	struct dlg_startup_stats sus;
	struct dlg_policy *pol;
	const char *on_error;
	char tmp[PATH_MAX], err[512];
	int rc = -1;

	pol = cli_load_policy(conf, 1);
	if (!pol)
		return -1;
	if (check_dir(p->etc_dlguard) != 0 || join(tmp, sizeof tmp, p->db, ".new") != 0)
		goto end;
	/* Fingerprints and start-up verdicts describe this machine's files:
	 * not those of a tree installed into with --root, whose paths name
	 * other files. */
	if (!p->root[0] && cli_collect_fingerprints(pol, conf, &fps, &sus) != 0)
		goto end;
	if (dlg_db_write_file(pol, tmp, err, sizeof err) != 0) {
		fprintf(stderr, "dlguard: %s: %s\n", tmp, err);
		goto end;
	}
	if (chown(tmp, 0, 0) != 0 || chmod(tmp, 0644) != 0) {
		fprintf(stderr, "dlguard: %s: %s\n", tmp, strerror(errno));
		goto drop;
	}
	if (preflight(p, tmp) != 0)
		goto drop;
	if (rename(tmp, p->db) != 0 || fsync_dir_of(p->db) != 0) {
		fprintf(stderr, "dlguard: %s: %s\n", p->db, strerror(errno));
		goto drop;
	}
	/* What the guard does if this policy later becomes unusable: kept
	 * apart from it, so a corrupt policy cannot take it along. */
	on_error = pol->on_error == DLG_ON_ERROR_ALLOW ? "allow\n" : "deny-dlopen\n";
	if (write_atomic(p->on_error, on_error, strlen(on_error), 0644) != 0) {
		fprintf(stderr, "dlguard: %s: %s\n", p->on_error, strerror(errno));
		goto end;
	}
	printf("dlguard: installed %s (%zu rules, %s) from %s\n", p->db, pol->n_rules,
	       pol->mode == DLG_MODE_AUDIT ? "audit" : "enforce", conf);
	rc = 0;
	goto end;
drop:
	unlink(tmp);
end:
	dlg_policy_free(pol);
	return rc;
}

static int add_preload_line(struct paths *p)
{
	static char buf[PRELOAD_MAX], out[PRELOAD_MAX + PATH_MAX + 2];
	struct rebuild r = { out, sizeof out, 0, NULL };
	size_t len;

	if (read_preload(p->preload_file, buf, sizeof buf, &len) != 0) {
		fprintf(stderr, "dlguard: %s: %s\n", p->preload_file, strerror(errno));
		return -1;
	}
	if (each_entry(buf, is_ours, p->lib)) {
		printf("dlguard: %s already lists %s\n", p->preload_file, p->lib);
		return 0;
	}
	out[0] = '\0';
	/* our entry first: the guard should see the other preloads' loads */
	keep_entry(p->lib, strlen(p->lib), &r);
	if (each_entry(buf, keep_entry, &r)) {
		fprintf(stderr, "dlguard: %s: too long\n", p->preload_file);
		return -1;
	}
	if (write_atomic(p->preload_file, out, r.used, 0644) != 0) {
		fprintf(stderr, "dlguard: %s: %s\n", p->preload_file, strerror(errno));
		return -1;
	}
	printf("dlguard: added %s to %s\n", p->lib, p->preload_file);
	return 0;
}

static int parse_root(int argc, char **argv, const char **root, const char **conf)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--root") == 0 && i + 1 < argc)
			*root = argv[++i];
		else if (conf && strcmp(argv[i], "--policy") == 0 && i + 1 < argc)
			*conf = argv[++i];
		else
			return -1;
	}
	return 0;
}

int cmd_install(int argc, char **argv)
{
	const char *root = NULL, *conf = NULL;
	struct paths p;

	if (parse_root(argc, argv, &root, &conf) != 0) {
		fprintf(stderr, "usage: dlguard install [--root DIR] [--policy POLICY.conf]\n");
		return 2;
	}
	if (set_paths(&p, root) != 0)
		return 1;
	if (install_policy(&p, conf ? conf : p.conf) != 0)
		return 1;
	return add_preload_line(&p) == 0 ? 0 : 1;
}

int cmd_uninstall(int argc, char **argv)
{
	static char buf[PRELOAD_MAX], out[PRELOAD_MAX];
	struct rebuild r = { out, sizeof out, 0, NULL };
	const char *root = NULL;
	struct paths p;
	size_t len;

	if (parse_root(argc, argv, &root, NULL) != 0) {
		fprintf(stderr, "usage: dlguard uninstall [--root DIR]\n");
		return 2;
	}
	if (set_paths(&p, root) != 0)
		return 1;
	if (read_preload(p.preload_file, buf, sizeof buf, &len) != 0) {
		fprintf(stderr, "dlguard: %s: %s\n", p.preload_file, strerror(errno));
		return 1;
	}
	if (!each_entry(buf, is_ours, p.lib)) {
		printf("dlguard: %s does not list %s\n", p.preload_file, p.lib);
		return 0;
	}
	out[0] = '\0';
	r.skip = p.lib;
	each_entry(buf, keep_entry, &r);
	if (write_atomic(p.preload_file, out, r.used, 0644) != 0) {
		fprintf(stderr, "dlguard: %s: %s\n", p.preload_file, strerror(errno));
		return 1;
	}
	printf("dlguard: removed %s from %s\n", p.lib, p.preload_file);
	return 0;
}

/* How many start-up verdicts the policy holds and how many still match the
 * files of this machine (install records none with --root): a stale one
 * costs every process a full decision of that object until the policy is
 * recompiled. */
static void print_boot(const struct dlg_db *db)
{
	unsigned char fp[DLG_DB_BOOT_FP];
	size_t n = 0, current = 0;
	const char *name;
	struct stat st;

	for (uint32_t i = 0; i < db->n_boot; i++) {
		if (!dlg_db_boot_slot(db, i, &name, fp))
			continue;
		n++;
		if (stat(name, &st) == 0 && dlg_db_boot_same(fp, &st))
			current++;
	}
	printf("start-up: %zu verdicts, %zu current", n, current);
	if (current < n)
		printf(" (%zu changed since compile: recompile to refresh)", n - current);
	printf("; %u fingerprints\n", db->n_fprints);
}

int cmd_status(int argc, char **argv)
{
	static char buf[PRELOAD_MAX];
	const char *root = NULL;
	struct paths p;
	struct dlg_db db;
	struct stat st;
	char err[512], when[64];
	size_t len;
	int installed;

	if (parse_root(argc, argv, &root, NULL) != 0) {
		fprintf(stderr, "usage: dlguard status [--root DIR]\n");
		return 2;
	}
	if (set_paths(&p, root) != 0)
		return 1;
	installed = read_preload(p.preload_file, buf, sizeof buf, &len) == 0 &&
		    each_entry(buf, is_ours, p.lib);
	printf("preload:  %s (%s %s)\n", installed ? "installed" : "not installed", p.preload_file,
	       installed ? "lists" : "does not list");
	printf("library:  %s\n", p.lib);
	if (dlg_db_open_file(&db, p.db, &st, err, sizeof err) != 0) {
		/* What every guarded process then does (README, "Policies"). */
		int record = read_preload(p.on_error, buf, 64, &len) == 0 && len;

		if (!record && lstat(p.db, &st) != 0 && errno == ENOENT) {
			printf("policy:   none (%s missing, and no record of dlguard install): "
			       "dlopen is passed through\n", p.db);
			return installed ? 1 : 0;
		}
		printf("policy:   %s: unusable: %s\n", p.db, err);
		if (record && strncmp(buf, "allow\n", 6) == 0 &&
		    (stat(p.on_error, &st) != 0 || !dlg_root_only(&st)))
			printf("on_error: deny-dlopen (%s says allow, but is not root-owned or is "
			       "writable by group/others: ignored): every guarded dlopen is refused\n",
			       p.on_error);
		else if (record && strncmp(buf, "allow\n", 6) == 0)
			printf("on_error: allow: the system policy is not applied\n");
		else
			printf("on_error: deny-dlopen%s: every guarded dlopen is refused\n",
			       record ? "" : " (default)");
		return installed ? 1 : 0;
	}
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&st.st_mtime));
	printf("policy:   %s (compiled %s from %s), %u rules, default %s\n", p.db, when,
	       db.source && *db.source ? db.source : "?", db.n_rules,
	       db.default_action == DLG_ACTION_ALLOW ? "allow" : "deny");
	printf("mode:     %s\n", db.mode == DLG_MODE_AUDIT ? "audit" : "enforce");
	print_boot(&db);
	if (read_preload(p.on_error, buf, 64, &len) == 0 && len)
		printf("on_error: %s", buf);
	else
		printf("on_error: deny-dlopen (default; %s missing)\n", p.on_error);
	if (!dlg_root_only(&st))
		printf("warning:  %s is not root-owned or is writable by group/others: the guard "
		       "treats it as unusable\n", p.db);
	dlg_db_close(&db);
	return 0;
}
