/* Operations of bench_worker: process start-up and dlopen, measured in a
 * process that has (or has not) the guard preloaded. Nothing here knows
 * about dlguard: the same binary is both sides of a comparison. */
#include "worker.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static struct {
	char **argv;            /* spawn: the program and its arguments */
	char **envp;            /* spawn: its whole environment */
	int devnull;
	posix_spawn_file_actions_t fa;
	const char *path;       /* dlopen modes */
	void *keep;             /* dlopen-loaded: the handle kept open */
} g;

/* ------------------------------------------------------------------ */
/* spawn [VAR=VALUE...] -- PROGRAM [ARGS...]                           */

static int spawn_setup(int argc, char **argv, char *err, size_t len)
{
	static char *empty[] = { NULL };
	int sep = -1;

	for (int i = 0; i < argc && sep < 0; i++)
		if (strcmp(argv[i], "--") == 0)
			sep = i;
	if (sep < 0 || sep + 1 >= argc) {
		snprintf(err, len, "spawn: expected [VAR=VALUE...] -- PROGRAM [ARGS...]");
		return -1;
	}
	/* argv is NULL-terminated after argc; the environment is the
	 * assignments before "--", terminated in place. */
	argv[sep] = NULL;
	g.envp = sep > 0 ? argv : empty;
	g.argv = argv + sep + 1;
	g.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (g.devnull < 0 || posix_spawn_file_actions_init(&g.fa) != 0) {
		snprintf(err, len, "spawn: /dev/null: %s", strerror(errno));
		return -1;
	}
	for (int fd = 0; fd <= 2; fd++)
		posix_spawn_file_actions_adddup2(&g.fa, g.devnull, fd);
	return 0;
}

static int spawn_run(char *err, size_t len)
{
	pid_t pid;
	int st, rc;

	rc = posix_spawn(&pid, g.argv[0], &g.fa, NULL, g.argv, g.envp);
	if (rc != 0) {
		snprintf(err, len, "spawn %s: %s", g.argv[0], strerror(rc));
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			snprintf(err, len, "waitpid: %s", strerror(errno));
			return -1;
		}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(err, len, "%s failed (wait status 0x%x)", g.argv[0], (unsigned)st);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* dlopen PATH: dlopen + dlclose of an object that is not loaded        */

static int dl_cycle(char *err, size_t len)
{
	void *h = dlopen(g.path, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(err, len, "dlopen: %s", dlerror());
		return -1;
	}
	if (dlclose(h) != 0) {
		snprintf(err, len, "dlclose: %s", dlerror());
		return -1;
	}
	return 0;
}

static int dlopen_setup(int argc, char **argv, char *err, size_t len)
{
	if (argc != 1) {
		snprintf(err, len, "dlopen: expected PATH");
		return -1;
	}
	g.path = argv[0];
	if (dl_cycle(err, len) != 0)
		return -1;
	/* Otherwise every later dlopen would only find it loaded. */
	if (dlopen(g.path, RTLD_NOW | RTLD_NOLOAD)) {
		snprintf(err, len, "%s stays loaded after dlclose (NODELETE?)", g.path);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* dlopen-loaded PATH: the same, while another handle keeps it loaded   */

static int loaded_setup(int argc, char **argv, char *err, size_t len)
{
	if (argc != 1) {
		snprintf(err, len, "dlopen-loaded: expected PATH");
		return -1;
	}
	g.path = argv[0];
	g.keep = dlopen(g.path, RTLD_NOW | RTLD_LOCAL);
	if (!g.keep) {
		snprintf(err, len, "dlopen: %s", dlerror());
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* dlopen-viafd PATH: what a guard that loads the inode it checked must */
/* add to dlopen PATH at the least, done by hand without any guard: open */
/* and fstat PATH, dlopen /proc/self/fd/N (ld.so opens that), close.    */

static int viafd_cycle(char *err, size_t len)
{
	char proc[64];
	struct stat st;
	void *h;
	int fd = open(g.path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, len, "%s: %s", g.path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	h = dlopen(proc, RTLD_NOW | RTLD_LOCAL);
	close(fd);
	if (!h) {
		snprintf(err, len, "dlopen: %s", dlerror());
		return -1;
	}
	if (dlclose(h) != 0) {
		snprintf(err, len, "dlclose: %s", dlerror());
		return -1;
	}
	return 0;
}

static int viafd_setup(int argc, char **argv, char *err, size_t len)
{
	if (dlopen_setup(argc, argv, err, len) != 0)
		return -1;
	return viafd_cycle(err, len);
}

static const struct bench_op spawn_op = {
	"spawn", "[VAR=VALUE...] -- PROGRAM [ARGS...]  posix_spawn + waitpid, exit 0 required",
	spawn_setup, spawn_run,
};
static const struct bench_op dlopen_op = {
	"dlopen", "PATH  dlopen(RTLD_NOW) + dlclose of an object not otherwise loaded",
	dlopen_setup, dl_cycle,
};
static const struct bench_op loaded_op = {
	"dlopen-loaded", "PATH  dlopen + dlclose while a first handle keeps PATH loaded",
	loaded_setup, dl_cycle,
};

static const struct bench_op viafd_op = {
	"dlopen-viafd", "PATH  open+fstat PATH, dlopen+dlclose /proc/self/fd/N, close (no guard)",
	viafd_setup, viafd_cycle,
};

const struct bench_op *const bench_ops[] = { &spawn_op, &dlopen_op, &loaded_op, &viafd_op, NULL };
