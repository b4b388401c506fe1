/* Operations of bench_apiworker: the decision machinery through the public
 * API of include/dlguard.h (libdlguard-core.a), no preloading involved. */
#include "worker.h"

#include <dlguard.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct {
	const char *policy_path;
	struct dlguard_policy *policy;
	const char *file;
	int fd;
	long expect_rule;       /* -1: any allowing rule */
	struct dlguard_decision d;
} g = { .fd = -1, .expect_rule = -1 };

static int open_policy(const char *path, char *err, size_t len)
{
	char why[512];

	g.policy_path = path;
	g.policy = dlguard_policy_open(path, why, sizeof why);
	if (!g.policy) {
		snprintf(err, len, "%s: %s", path, why);
		return -1;
	}
	return 0;
}

/* Every sample must be the decision the benchmark claims to measure. */
static int check(int rc, int want_hash, char *err, size_t len)
{
	if (rc != 0) {
		snprintf(err, len, "no decision: %s", g.d.reason);
		return -1;
	}
	if (!g.d.allowed || (g.expect_rule >= 0 && g.d.rule != (unsigned)g.expect_rule)) {
		snprintf(err, len, "unexpected decision (allowed=%d rule=%u, expected rule %ld): %s",
			 g.d.allowed, g.d.rule, g.expect_rule, g.d.reason);
		return -1;
	}
	if (want_hash && !g.d.have_sha256) {
		snprintf(err, len, "allowed without hashing (%s): nothing measured", g.d.reason);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* decide POLICY FILE [RULE]                                           */

static int decide_setup(int argc, char **argv, char *err, size_t len)
{
	if (argc < 2 || argc > 3) {
		snprintf(err, len, "decide: expected POLICY FILE [RULE]");
		return -1;
	}
	if (argc == 3)
		g.expect_rule = strtol(argv[2], NULL, 10);
	g.file = argv[1];
	g.fd = open(g.file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (g.fd < 0) {
		snprintf(err, len, "%s: %s", g.file, strerror(errno));
		return -1;
	}
	return open_policy(argv[0], err, len);
}

static int decide_run(char *err, size_t len)
{
	return check(dlguard_decide_fd(g.policy, g.fd, NULL, &g.d), 0, err, len);
}

/* ------------------------------------------------------------------ */
/* hash POLICY FILE: a first verification that must hash FILE          */

static int hash_setup(int argc, char **argv, char *err, size_t len)
{
	if (argc != 2) {
		snprintf(err, len, "hash: expected POLICY FILE");
		return -1;
	}
	g.file = argv[1];
	return open_policy(argv[0], err, len);
}

static int hash_run(char *err, size_t len)
{
	return check(dlguard_decide_path(g.policy, g.file, NULL, &g.d), 1, err, len);
}

/* ------------------------------------------------------------------ */
/* open POLICY: map and validate a compiled policy, then unmap it      */

static int open_setup(int argc, char **argv, char *err, size_t len)
{
	if (argc != 1) {
		snprintf(err, len, "open: expected POLICY");
		return -1;
	}
	g.policy_path = argv[0];
	return 0;
}

static int open_run(char *err, size_t len)
{
	if (open_policy(g.policy_path, err, len) != 0)
		return -1;
	dlguard_policy_close(g.policy);
	g.policy = NULL;
	return 0;
}

static const struct bench_op decide_op = {
	"decide", "POLICY FILE [RULE]  dlguard_decide_fd on an open FILE; must allow (by RULE)",
	decide_setup, decide_run,
};
static const struct bench_op hash_op = {
	"hash", "POLICY FILE  dlguard_decide_path; must allow after hashing FILE",
	hash_setup, hash_run,
};
static const struct bench_op open_op = {
	"open", "POLICY  dlguard_policy_open + dlguard_policy_close",
	open_setup, open_run,
};

const struct bench_op *const bench_ops[] = { &decide_op, &hash_op, &open_op, NULL };
