#include "dlguard.h"

#include "errstr.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "fdpath.h"
#include "policy_db.h"

struct dlguard_policy {
	struct dlg_db db;
};

struct dlguard_policy *dlguard_policy_open(const char *compiled_path, char *err, size_t errlen)
{
	struct dlguard_policy *p = calloc(1, sizeof *p);

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (dlg_db_open_file(&p->db, compiled_path, NULL, err, errlen) != 0) {
		free(p);
		return NULL;
	}
	return p;
}

void dlguard_policy_close(struct dlguard_policy *p)
{
	if (!p)
		return;
	dlg_db_close(&p->db);
	free(p);
}

int dlguard_decide_fd(const struct dlguard_policy *p, int fd, const char *exe,
		      struct dlguard_decision *out)
{
	struct dlg_subject s = { .fd = fd, .exe = exe };
	struct dlg_verdict v;
	struct stat st;

	memset(out, 0, sizeof *out);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(out->reason, sizeof out->reason, "not a regular file");
		return -1;
	}
	if (dlg_fd_canonical(fd, NULL, out->path, sizeof out->path) != 0) {
		snprintf(out->reason, sizeof out->reason, "cannot name the file (is /proc mounted?)");
		return -1;
	}
	s.path = out->path;
	dlg_decide(&p->db, &s, &v);
	out->allowed = v.action == DLG_ACTION_ALLOW;
	out->audit = p->db.mode == DLG_MODE_AUDIT;
	out->rule = v.rule;
	out->line = v.line;
	snprintf(out->reason, sizeof out->reason, "%s", v.reason);
	if (s.have_sha256) {
		out->have_sha256 = 1;
		out->from_fingerprint = s.sha256_fingerprint;
		dlg_hex(s.sha256, DLG_SHA256_LEN, out->sha256);
	}
	return 0;
}

int dlguard_decide_path(const struct dlguard_policy *p, const char *path, const char *exe,
			struct dlguard_decision *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY), rc;

	if (fd < 0) {
		memset(out, 0, sizeof *out);
		snprintf(out->reason, sizeof out->reason, "%s: %s", path, dlg_strerror(errno));
		return -1;
	}
	rc = dlguard_decide_fd(p, fd, exe, out);
	close(fd);
	return rc;
}
