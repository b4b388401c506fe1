#include "verdict.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "event.h"
#include "hot.h"
#include "rawsys.h"
#include "startenv.h"

#ifndef DLGUARD_SYSTEM_POLICY
#define DLGUARD_SYSTEM_POLICY "/etc/dlguard/policy.db"
#endif
#ifndef DLGUARD_ON_ERROR_FILE
#define DLGUARD_ON_ERROR_FILE "/etc/dlguard/on_error"
#endif

/* SLOT_PEEKED: the header was read and checked at start-up, the policy is
 * mapped on first use (ready()), which makes the state one of the others. */
enum slot_state { SLOT_ABSENT, SLOT_OK, SLOT_ERROR, SLOT_PEEKED };

struct policy_slot {
	const char *label;              /* "system" or "environment" */
	const char *path;               /* NULL when absent */
	enum slot_state state;
	bool root_owned;                /* must be root-owned (the system policy) */
	bool peeked;                    /* set once at start-up: mapped through map_once */
	bool on_error_allow;            /* unusable, and on_error = "allow" was installed */
	bool expected;                  /* missing would be an error, not "no policy" */
	int fd;                         /* open while the start-up check runs, else -1 */
	pthread_once_t map_once;
	struct dlg_db_head head;        /* when peeked; the options also when SLOT_OK */
	struct dlg_db db;               /* when SLOT_OK */
	char *error;                    /* why it is unusable: cold storage */
};

/* Environment values longer than this are copied to cold storage. */
#define HOT_PATH 256

/* Cold: written only when needed (an unusable policy, a run log, a long
 * DLGUARD_POLICY, the first event or exe rule, the first search). */
static struct {
	char errors[2][256];
	char exe[PATH_MAX];
	char run_log[PATH_MAX];
	char policy_path[PATH_MAX];
	struct dlg_hwcaps hwcaps;
} cold;

/* The strings a process start reads, beside the state it writes: as
 * literals they would be in .rodata, a page no other start-up access
 * touches (the kernel's read of a path faults it in just the same). */
PRELOAD_HOT static char k_system_policy[] = DLGUARD_SYSTEM_POLICY;
PRELOAD_HOT static char k_ld_library_path[] = "LD_LIBRARY_PATH";
PRELOAD_HOT static char k_policy[] = "DLGUARD_POLICY";
PRELOAD_HOT static char k_run_log[] = "DLGUARD_RUN_LOG";
PRELOAD_HOT static char k_empty[1];

/* Everything a process start writes (hot.h). */
PRELOAD_HOT static struct {
	struct verdict_env env;
	struct policy_slot sys, envp;
	const char *run_log;            /* DLGUARD_RUN_LOG, NULL if none */
	char policy_path[HOT_PATH];     /* DLGUARD_POLICY, when short enough */
} hot = {
	.sys = { .label = "system", .path = k_system_policy, .root_owned = true, .fd = -1,
		 .map_once = PTHREAD_ONCE_INIT, .error = cold.errors[0] },
	.envp = { .label = "environment", .fd = -1, .map_once = PTHREAD_ONCE_INIT,
		  .error = cold.errors[1] },
};

/* What the front read at process start; NULL in the rtld-audit copy. */
static const struct dlg_front *front;

/* ld.so reads LD_LIBRARY_PATH once, at start-up; so do we, before the
 * program can change its environment. That is when the rtld-audit copy is
 * loaded; the copy the front loads later takes the front's. */
__attribute__((constructor)) static void capture_start_env(void)
{
	hot.env.ld_library_path = dlg_env_get(k_ld_library_path);
}

void verdict_set_front(const struct dlg_front *f)
{
	front = f;
}

/* Messages may be cut to fit their fixed buffers; that is fine for text
 * meant for people, so truncation is not an error here. */
void msgf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static void log_error_once(const struct policy_slot *s);

static void load_slot(struct policy_slot *s)
{
	bool must_be_root_owned = s->root_owned;
	struct stat st;

	/* Without a message first: a missing system policy is the common case
	 * in every process of a machine without dlguard installed, and
	 * formatting the reason would be its only cost. */
	if (dlg_db_open_file(&s->db, s->path, &st, NULL, 0) != 0) {
		if (errno == ENOENT && must_be_root_owned && !s->expected) {
			s->state = SLOT_ABSENT;
			return;
		}
		s->state = SLOT_ERROR;
		if (dlg_db_open_file(&s->db, s->path, &st, s->error, sizeof cold.errors[0]) == 0) {
			/* it became valid in between: take it */
			s->state = SLOT_OK;
		} else {
			return;
		}
	}
	if (must_be_root_owned && !dlg_root_only(&st)) {
		snprintf(s->error, sizeof cold.errors[0],
			 "not root-owned or writable by group/others; ignored");
		dlg_db_close(&s->db);
		s->state = SLOT_ERROR;
		return;
	}
	/* the options of what is mapped (a policy replaced since the peek is
	 * the new one); the start-up table's place stays that of the file the
	 * start-up check reads through s->fd */
	dlg_db_head_options(&s->head, &s->db);
	s->state = SLOT_OK;
}

/* What a process start reads of a policy: its header (dlg_db_peek), by
 * pread on a descriptor kept open until the start-up check is done. The
 * mapping waits for the first decision that needs it; most processes never
 * make one. Anything short of a good header is left to load_slot, which
 * says why. */
DLG_START_TEXT static void peek_slot(struct policy_slot *s)
{
	struct stat st;
	int fd = raw_open(s->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0 && errno == ENOENT && s->root_owned && !s->expected) {
		s->state = SLOT_ABSENT;
		return;
	}
	/* not fstat: see dlg_db_open_file */
	if (fd >= 0 && raw_fstatat(fd, k_empty, &st, AT_EMPTY_PATH) == 0 &&
	    (!s->root_owned || dlg_root_only(&st)) &&
	    dlg_db_peek(fd, &st, &s->head, NULL, 0) == 0) {
		s->fd = fd;
		s->state = SLOT_PEEKED;
		s->peeked = true;
		return;
	}
	if (fd >= 0)
		raw_close(fd);
	load_slot(s);
}

static bool installed_on_error_allows(void);

static void map_slot(struct policy_slot *s)
{
	load_slot(s);
	if (s->state == SLOT_ERROR && s->root_owned)
		s->on_error_allow = installed_on_error_allows();
}

static void map_sys(void);
static void map_envp(void);

/* The slot with its policy mapped, if it was only peeked at. */
static struct policy_slot *ready(struct policy_slot *s)
{
	if (s->peeked)
		pthread_once(&s->map_once, s->root_owned ? map_sys : map_envp);
	return s;
}

/* on_error, as the last successful `dlguard install` left it beside the
 * system policy: -1 when there is no such record, else whether it says
 * "allow". "allow" is trusted only if the record is root-owned and not
 * writable by others, like the policy itself; anything else means the
 * default, deny-dlopen. */
static int installed_on_error(void)
{
	char buf[32] = "";
	struct stat st;
	ssize_t n = -1;
	int fd = open(DLGUARD_ON_ERROR_FILE, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY |
		      O_NOFOLLOW);

	if (fd < 0)
		return errno == ENOENT ? -1 : 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && dlg_root_only(&st))
		n = read(fd, buf, sizeof buf - 1);
	close(fd);
	return n > 0 && strncmp(buf, "allow\n", 6) == 0;
}

#define RECORD_UNREAD (-2)

static bool installed_on_error_allows(void)
{
	return installed_on_error() == 1;
}

/* A copy of a DLGUARD_* variable (the program may rewrite its environment
 * strings later): into small when it fits, else into big (PATH_MAX bytes).
 * NULL when unset, empty, PATH_MAX or longer, or in an AT_SECURE process. */
DLG_START_TEXT static const char *copy_env(const char *var, char *small, size_t small_len, char *big)
{
	const char *v = hot.env.secure ? NULL : dlg_env_get(var);
	size_t n = 0;

	if (!v || !*v)
		return NULL;
	while (v[n] && n < PATH_MAX)
		n++;
	if (n < small_len)
		return memcpy(small, v, n + 1);
	if (n < PATH_MAX)
		return memcpy(big, v, n + 1);
	return NULL;
}

DLG_START_TEXT void verdict_init(void)
{
	int record = RECORD_UNREAD;     /* installed_on_error(), read at most once here */

	if (front) {
		/* the environment as the front read it at start-up */
		hot.env.secure = front->secure;
		hot.env.platform = front->platform;
		hot.env.ld_library_path = front->ld_library_path;
		hot.env.front_base = front->front_base;
		hot.envp.path = front->policy_path;
		hot.run_log = front->run_log;
	} else {
		hot.env.secure = getauxval(AT_SECURE) != 0;
		hot.env.platform = (const char *)getauxval(AT_PLATFORM);
		if (hot.env.secure)
			hot.env.ld_library_path = NULL;
		hot.envp.path = copy_env(k_policy, hot.policy_path, sizeof hot.policy_path,
					 cold.policy_path);
		hot.run_log = copy_env(k_run_log, NULL, 0, cold.run_log);
	}

	/* A system policy is "none" when it is missing, unless it is expected:
	 * this process saw it at start-up, or `dlguard install` ran on this
	 * machine (its on_error record is there). A missing policy that is
	 * expected is an unusable one, and on_error applies. Otherwise a
	 * system policy absent when the process started stays absent. */
	if (front && !front->sys_absent) {
		hot.sys.expected = true;
	} else {
		record = installed_on_error();
		hot.sys.expected = record >= 0;
	}
	if (front && front->sys_absent && !hot.sys.expected)
		hot.sys.state = SLOT_ABSENT;
	else
		peek_slot(&hot.sys);
	if (hot.sys.state == SLOT_ERROR)
		hot.sys.on_error_allow = (record == RECORD_UNREAD ? installed_on_error() : record) == 1;
	if (hot.envp.path)
		peek_slot(&hot.envp);
}

static void map_sys(void)
{
	map_slot(&hot.sys);
}

static void map_envp(void)
{
	map_slot(&hot.envp);
}

DLG_START_TEXT bool verdict_startup_known(const char *name)
{
	struct policy_slot *slots[2] = { &hot.sys, &hot.envp };
	unsigned char fp[DLG_DB_BOOT_FP];
	struct stat st;
	bool have_st = false;

	for (int i = 0; i < 2; i++) {
		const struct policy_slot *s = slots[i];

		if (s->state == SLOT_ABSENT)
			continue;
		if (!s->peeked || s->fd < 0 || s->state == SLOT_ERROR ||
		    dlg_db_boot_find_fd(s->fd, &s->head, name, fp) != 1)
			return false;
		if (!have_st && raw_fstatat(AT_FDCWD, name, &st, 0) != 0)
			return false;
		have_st = true;
		if (!dlg_db_boot_same(fp, &st))
			return false;
	}
	return have_st;
}

DLG_START_TEXT void verdict_startup_done(void)
{
	struct policy_slot *slots[2] = { &hot.sys, &hot.envp };

	for (int i = 0; i < 2; i++) {
		if (slots[i]->fd >= 0) {
			raw_close(slots[i]->fd);
			slots[i]->fd = -1;
		}
	}
}

DLG_START_TEXT void verdict_options(struct verdict_options *o)
{
	const struct policy_slot *slots[2] = { &hot.sys, &hot.envp };

	o->usable = 0;
	o->deny_untrusted_preload = false;
	o->env_strip = 0;
	for (int i = 0; i < 2; i++) {
		const struct dlg_db_head *h = &slots[i]->head;

		if (slots[i]->state != SLOT_PEEKED && slots[i]->state != SLOT_OK)
			continue;
		o->deny_untrusted_preload |= h->deny_untrusted_preload;
		if (h->mode == DLG_MODE_ENFORCE)
			o->env_strip |= h->env_strip;
		o->usable++;
	}
}

DLG_START_TEXT const struct verdict_env *verdict_env(void)
{
	return &hot.env;
}

static pthread_once_t hwcaps_once = PTHREAD_ONCE_INIT;

static void hwcaps_init(void)
{
	dlg_hwcaps_init(&cold.hwcaps);
}

/* CPUID is slow under virtualisation (several microseconds each): computed
 * on the first search, never at process start. */
const struct dlg_hwcaps *verdict_hwcaps(void)
{
	pthread_once(&hwcaps_once, hwcaps_init);
	return &cold.hwcaps;
}

static pthread_once_t exe_once = PTHREAD_ONCE_INIT;

static void exe_init(void)
{
	ssize_t n = readlink("/proc/self/exe", cold.exe, sizeof cold.exe - 1);

	cold.exe[n > 0 ? n : 0] = '\0';
}

const char *verdict_exe(void)
{
	pthread_once(&exe_once, exe_init);
	return cold.exe;
}

const char *verdict_subject_exe(void)
{
	const char *exe = verdict_exe();

	return exe[0] ? exe : NULL;
}

static void decide_slot(struct policy_slot *s, struct dlg_subject *subj, struct dlg_verdict *v,
			bool *audit)
{
	*audit = false;
	if (s->state == SLOT_ERROR) {
		v->action = DLG_ACTION_DENY;
		v->rule = 0;
		v->line = 0;
		msgf(v->reason, sizeof v->reason, "%s policy %s unusable: %s", s->label, s->path,
		     s->error);
		return;
	}
	dlg_decide(&s->db, subj, v);
	*audit = s->db.mode == DLG_MODE_AUDIT;
}

void verdict_decide(struct dlg_subject *subj, struct decision *d)
{
	struct policy_slot *slots[2] = { &hot.sys, &hot.envp };
	struct dlg_verdict v;
	bool audit;

	d->decision = "allow";
	d->by = NULL;
	for (int i = 0; i < 2; i++) {
		ready(slots[i]);
		if (slots[i]->state == SLOT_ABSENT)
			continue;
		if (slots[i]->state == SLOT_ERROR && slots[i]->on_error_allow) {
			log_error_once(slots[i]);
			continue;
		}
		decide_slot(slots[i], subj, &v, &audit);
		if (v.action == DLG_ACTION_DENY && !audit) {
			d->decision = "deny";
			d->by = slots[i];
			d->v = v;
			return;
		}
		if (v.action == DLG_ACTION_DENY && strcmp(d->decision, "allow") == 0) {
			d->decision = "would-deny";
			d->by = slots[i];
			d->v = v;
		} else if (!d->by) {
			d->by = slots[i];
			d->v = v;
		}
	}
}

DLG_START_TEXT bool verdict_active(void)
{
	return hot.sys.state != SLOT_ABSENT || hot.envp.state != SLOT_ABSENT;
}

size_t verdict_policies(const struct dlg_db **out, size_t max)
{
	const struct policy_slot *slots[2] = { ready(&hot.sys), ready(&hot.envp) };
	size_t n = 0;

	for (int i = 0; i < 2 && n < max; i++)
		if (slots[i]->state == SLOT_OK)
			out[n++] = &slots[i]->db;
	return n;
}

void verdict_error(struct decision *d, const char *reason)
{
	d->decision = "deny";
	d->by = NULL;
	d->v.action = DLG_ACTION_DENY;
	d->v.rule = 0;
	d->v.line = 0;
	msgf(d->v.reason, sizeof d->v.reason, "%s", reason);
}

/* ------------------------------------------------------------------ */
/* Events                                                              */

static void log_slot(const struct policy_slot *s, const struct dlg_event *e, const char *line,
		     size_t len, bool denied)
{
	char summary[1024];

	if (s->state != SLOT_OK)
		return;
	if (s->db.log_file)
		dlg_event_append(s->db.log_file, line, len);
	if (denied && (s->db.log_syslog || s->db.log_stderr)) {
		dlg_event_summary(e, summary, sizeof summary);
		if (s->db.log_syslog)
			dlg_event_syslog(summary);
		if (s->db.log_stderr) {
			char out[1100];
			int n = snprintf(out, sizeof out, "dlguard: %s\n", summary);
			if (n > 0)
				(void)!write(2, out, (size_t)n < sizeof out ? (size_t)n : sizeof out - 1);
		}
	}
}

static void log_error_once(const struct policy_slot *s)
{
	static int done;
	char msg[PATH_MAX + 300];

	if (s->state != SLOT_ERROR || __atomic_exchange_n(&done, 1, __ATOMIC_ACQ_REL))
		return;
	msgf(msg, sizeof msg, "%s policy %s unusable (%s); %s in pid %ld (%s)", s->label, s->path,
	     s->error, s->on_error_allow ? "on_error = allow: not applied" : "denying dlopen",
	     (long)getpid(), verdict_exe());
	dlg_event_syslog(msg);
}

static void emit_event(const char *action, const char *requested, const char *path,
		       const struct dlg_subject *subj, const struct decision *d);

static bool slot_logs(const struct policy_slot *s, bool denied)
{
	return s->state == SLOT_ERROR ||
	       (s->state == SLOT_OK &&
		(s->db.log_file || (denied && (s->db.log_syslog || s->db.log_stderr))));
}

/* Whether an event would go anywhere: formatting one costs more than many
 * a dlopen of an already-mapped file. */
static bool wanted(bool denied)
{
	ready(&hot.sys);
	ready(&hot.envp);
	return slot_logs(&hot.sys, denied) || slot_logs(&hot.envp, denied) ||
	       (denied && hot.run_log);
}

void verdict_emit(const char *action, const char *requested, const char *path,
		  const struct dlg_subject *subj, const struct decision *d)
{
	if (!wanted(strcmp(d->decision, "allow") != 0))
		return;
	emit_event(action, requested, path, subj, d);
}

static void emit_event(const char *action, const char *requested, const char *path,
		       const struct dlg_subject *subj, const struct decision *d)
{
	char rule[32], line[DLG_EVENT_MAX];
	bool denied = strcmp(d->decision, "allow") != 0;
	struct dlg_event e = {
		.action = action,
		.decision = d->decision,
		.rule = rule,
		.reason = d->v.reason,
		.policy = d->by && d->by->state == SLOT_OK ? d->by->db.source : (d->by ? d->by->path : NULL),
		.requested = requested,
		.path = path,
		.sha256 = subj && subj->have_sha256 ? subj->sha256 : NULL,
		.sig_checked = subj && subj->sig_checked,
		.sig_exists = subj && subj->sig_exists,
		.sig_valid = subj && subj->sig_valid,
		.sig_trusted = subj && subj->sig_trusted,
		.sig_status = subj ? subj->sig_status : NULL,
		.sig_key = subj ? subj->sig_key : NULL,
		.pid = getpid(),
		.exe = verdict_exe(),
	};
	size_t len;

	if ((d->by && d->by->state == SLOT_ERROR) || (!d->by && denied))
		snprintf(rule, sizeof rule, "error");
	else if (d->v.rule)
		snprintf(rule, sizeof rule, "%u", d->v.rule);
	else
		snprintf(rule, sizeof rule, "default");
	len = dlg_event_format(&e, line, sizeof line);
	if (!len)
		return;
	log_slot(&hot.sys, &e, line, len, denied);
	log_slot(&hot.envp, &e, line, len, denied);
	log_error_once(&hot.sys);
	log_error_once(&hot.envp);
	if (denied && hot.run_log)
		dlg_event_append(hot.run_log, line, len);
}

