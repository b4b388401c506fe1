#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "policy.h"
#include "policy_db.h"

#define MAX_LISTED 3

static int usage(void)
{
	fprintf(stderr, "usage: dlguard run [-p POLICY] [--audit] [--audit-mode] [--no-fingerprints] "
			"-- CMD [ARGS...]\n");
	return 2;
}

struct run {
	char tmpdir[PATH_MAX];
	char db[PATH_MAX];
	char events[PATH_MAX];
	char preload[PATH_MAX];
	char engine[PATH_MAX];          /* LD_AUDIT in --audit-mode */
};

static int join(char *out, size_t len, const char *dir, const char *name)
{
	int n = snprintf(out, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int is_compiled(const char *path)
{
	char magic[8];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	ssize_t n = fd >= 0 ? read(fd, magic, sizeof magic) : -1;

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)sizeof magic && memcmp(magic, "DLGUARD", 8) == 0;
}

/* A policy text is compiled into a private directory that lives as long as
 * the command; a compiled one is used in place. */
static int prepare_policy(struct run *r, const char *policy, int audit, int fingerprints)
{
	struct dlg_policy *p;
	char err[512];
	int rc;

	if (is_compiled(policy)) {
		if (audit) {
			fprintf(stderr, "dlguard: %s: --audit needs the policy text, not a compiled policy\n", policy);
			return -1;
		}
		if (!realpath(policy, r->db)) {
			fprintf(stderr, "dlguard: %s: %s\n", policy, strerror(errno));
			return -1;
		}
		return 0;
	}
	p = cli_load_policy(policy, 1);
	if (!p)
		return -1;
	if (audit)
		p->mode = DLG_MODE_AUDIT;
	/* As `dlguard compile` does: every process the command starts is then
	 * decided at start-up from the policy's header and a stat per object,
	 * without loading the guard's engine, and pinned files unchanged since
	 * are not read (~0.1 s here, once, against ~0.5 ms per process). */
	if ((fingerprints && cli_collect_fingerprints(p, policy, NULL, NULL) != 0) ||
	    join(r->db, sizeof r->db, r->tmpdir, "policy.db") != 0) {
		dlg_policy_free(p);
		return -1;
	}
	rc = dlg_db_write_file(p, r->db, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "dlguard: %s: %s\n", r->db, err);
	dlg_policy_free(p);
	return rc;
}

/* Puts lib first in a colon-separated loader variable, keeping the rest. */
static int prepend(const char *var, const char *lib)
{
	const char *old = getenv(var);
	char *v;
	int rc;

	if (!old || !*old)
		return setenv(var, lib, 1);
	if (asprintf(&v, "%s:%s", lib, old) < 0)
		return -1;
	rc = setenv(var, v, 1);
	free(v);
	return rc;
}

/* Extracts "key":"value" from one of our own event lines. */
static int field(const char *line, const char *key, char *out, size_t len)
{
	const char *p = strstr(line, key), *q;

	if (!p)
		return -1;
	p += strlen(key);
	for (q = p; *q && *q != '"'; q++)
		if (*q == '\\' && q[1])
			q++;
	if ((size_t)(q - p) >= len)
		return -1;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
	return 0;
}

static void summarise(const char *events)
{
	FILE *f = fopen(events, "re");
	char *line = NULL, decision[32], action[32], path[PATH_MAX], list[3 * PATH_MAX] = "";
	size_t cap = 0, n_deny = 0, n_would = 0, n_startup = 0, listed = 0;

	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		if (field(line, "\"decision\":\"", decision, sizeof decision) != 0)
			continue;
		if (field(line, "\"action\":\"", action, sizeof action) == 0 &&
		    strcmp(action, "startup") == 0) {
			n_startup++;
			continue;
		}
		if (strcmp(decision, "deny") == 0)
			n_deny++;
		else if (strcmp(decision, "would-deny") == 0)
			n_would++;
		else
			continue;
		if (listed < MAX_LISTED &&
		    (field(line, "\"dll\":{\"path\":\"", path, sizeof path) == 0 ||
		     field(line, "\"requested\":\"", path, sizeof path) == 0)) {
			size_t used = strlen(list);
			snprintf(list + used, sizeof list - used, "%s%s", listed ? ", " : "", path);
			listed++;
		}
	}
	free(line);
	fclose(f);
	if (n_deny + n_would + n_startup == 0)
		return;
	fprintf(stderr, "dlguard: %zu load%s denied, %zu would have been denied%s%s%s", n_deny,
		n_deny == 1 ? "" : "s", n_would, listed ? ": " : "", list,
		n_deny + n_would > listed ? ", ..." : "");
	if (n_startup)
		fprintf(stderr, "; %zu untrusted object%s mapped at start-up", n_startup,
			n_startup == 1 ? "" : "s");
	fputc('\n', stderr);
}

static int wait_child(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

static void cleanup(struct run *r)
{
	char path[PATH_MAX];

	if (!r->tmpdir[0])
		return;
	if (join(path, sizeof path, r->tmpdir, "policy.db") == 0)
		unlink(path);
	unlink(r->events);
	rmdir(r->tmpdir);
}

int cmd_run(int argc, char **argv)
{
	const char *policy = NULL, *tmp = getenv("TMPDIR");
	struct run r = { 0 };
	int audit = 0, audit_mode = 0, fingerprints = 1, i, rc = 1, fd;
	pid_t pid;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "-p") == 0 && i + 1 < argc)
			policy = argv[++i];
		else if (strcmp(argv[i], "--audit") == 0)
			audit = 1;
		else if (strcmp(argv[i], "--audit-mode") == 0)
			audit_mode = 1;
		else if (strcmp(argv[i], "--no-fingerprints") == 0)
			fingerprints = 0;
		else
			return usage();
	}
	if (i >= argc - 1)
		return usage();
	if (audit && !policy) {
		fprintf(stderr, "dlguard: --audit needs -p POLICY\n");
		return 2;
	}
	if (cli_preload_path(r.preload, sizeof r.preload) != 0 ||
	    cli_engine_path(r.preload, r.engine, sizeof r.engine) != 0) {
		fprintf(stderr, "dlguard: cannot find libdlguard.so and libdlguard-engine.so "
			"beside this dlguard binary\n");
		return 1;
	}
	snprintf(r.tmpdir, sizeof r.tmpdir, "%s/dlguard-run.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(r.tmpdir)) {
		fprintf(stderr, "dlguard: %s: %s\n", r.tmpdir, strerror(errno));
		return 1;
	}
	if (join(r.events, sizeof r.events, r.tmpdir, "events.jsonl") != 0)
		goto end;
	fd = open(r.events, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd >= 0)
		close(fd);
	/* children may run as other users (setuid helpers are ignored anyway) */
	chmod(r.tmpdir, 0755);
	chmod(r.events, 0666);
	if (policy && prepare_policy(&r, policy, audit, fingerprints) != 0)
		goto end;
	if (prepend("LD_PRELOAD", r.preload) != 0 ||
	    (audit_mode && prepend("LD_AUDIT", r.engine) != 0) || (policy && setenv("DLGUARD_POLICY", r.db, 1) != 0) ||
	    setenv("DLGUARD_RUN_LOG", r.events, 1) != 0) {
		fprintf(stderr, "dlguard: cannot set the environment: %s\n", strerror(errno));
		goto end;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "dlguard: fork: %s\n", strerror(errno));
		goto end;
	}
	if (pid == 0) {
		execvp(argv[i + 1], argv + i + 1);
		fprintf(stderr, "dlguard: %s: %s\n", argv[i + 1], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	rc = wait_child(pid);
	summarise(r.events);
end:
	cleanup(&r);
	return rc;
}
