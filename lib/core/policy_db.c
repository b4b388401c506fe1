/* Compiled policy: a little-endian, fixed-record file (docs/compiled-format.md).
 *
 * Ordered first-match rules and per-rule sorted digest slices are arrays, so
 * the file is arrays: a header, the rule records, the digests, a string pool.
 * Opening checks every bound once, in O(n_rules); digests are never scanned,
 * so a policy with a million hashes maps as fast as an empty one. Lookups
 * re-check the few bounds they use, so even bytes changed under a live
 * mapping cannot send a read outside it. */
#include "policy_db.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"

#define DB_MAGIC "DLGUARD"      /* 7 chars + NUL = 8 bytes */
#define DB_MAGIC_LEN 8
#define DB_VERSION 1
#define DB_HEADER_SIZE 96
#define DB_RULE_SIZE 32
#define DB_DIGEST_SIZE DLG_SHA256_LEN
#define DB_NONE UINT32_MAX
#define DB_MAX_SIZE ((uint64_t)1 << 30)

#define DB_FLAG_SYSLOG 1u
#define DB_FLAG_STDERR 2u
#define DB_FLAGS_KNOWN (DB_FLAG_SYSLOG | DB_FLAG_STDERR)

/* Header field offsets. */
enum {
	H_MAGIC = 0,
	H_VERSION = 8,
	H_HEADER_SIZE = 12,
	H_FILE_SIZE = 16,
	H_MODE = 24,
	H_DEFAULT = 28,
	H_FLAGS = 32,
	H_LOG_FILE = 36,
	H_SOURCE = 40,
	H_N_RULES = 44,
	H_RULES_OFF = 48,
	H_N_DIGESTS = 52,
	H_DIGESTS_OFF = 56,
	H_STRINGS_OFF = 60,
	H_STRINGS_LEN = 64,
	H_RESERVED = 68,        /* zero up to DB_HEADER_SIZE */
};

/* Rule record field offsets. */
enum {
	R_ACTION = 0,
	R_LINE = 4,
	R_PATH = 8,
	R_DIR = 12,
	R_EXE = 16,
	R_FIRST = 20,
	R_COUNT = 24,
	R_RESERVED = 28,
};

/* Reasons are built in v->reason; hashing errors need a little room too. */
#define HASH_ERR_LEN 128

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);  /* truncation of a message is harmless */
	va_end(ap);
}

/* strerror may load message catalogs (locale files, malloc) in the middle of
 * a host's dlopen; the untranslated description never does. */
static const char *errstr(int e)
{
	const char *s = strerrordesc_np(e);

	return s ? s : "unknown error";
}

/* Byte-wise loads: the mapping is page aligned but nothing inside it is
 * trusted to be, and this keeps the format the same on any host. */
static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static bool action_ok(uint32_t a)
{
	return a == DLG_ACTION_ALLOW || a == DLG_ACTION_DENY;
}

static bool mode_ok(uint32_t m)
{
	return m == DLG_MODE_ENFORCE || m == DLG_MODE_AUDIT;
}

static const char *action_name(enum dlg_action a)
{
	return a == DLG_ACTION_ALLOW ? "allow" : "deny";
}

/* ---------------------------------------------------------------- reading */

/* A string of the pool, or NULL when off is DB_NONE or not a bounded string.
 * Bounded with strnlen so it holds even if the pool changed after opening. */
static const char *pool_str(const struct dlg_db *db, uint32_t off, size_t *len)
{
	const char *s;
	size_t n;

	if (off == DB_NONE || off >= db->strings_len)
		return NULL;
	s = db->strings + off;
	n = strnlen(s, db->strings_len - off);
	if (n == db->strings_len - off)
		return NULL;
	if (len)
		*len = n;
	return s;
}

/* Checks that a table of count records of size bytes at off lies inside the
 * file, after the header, 4-byte aligned. 64-bit arithmetic: count * size of
 * two u32 values cannot overflow it. */
static int check_table(const char *name, uint64_t off, uint64_t count, uint64_t size,
		       uint64_t len, uint64_t *end, char *err, size_t errlen)
{
	uint64_t bytes = count * size;

	if (off % 4 != 0) {
		set_err(err, errlen, "%s offset %llu is not 4-byte aligned", name,
			(unsigned long long)off);
		return -1;
	}
	if (off < DB_HEADER_SIZE) {
		set_err(err, errlen, "%s offset %llu overlaps the header", name,
			(unsigned long long)off);
		return -1;
	}
	if (off > len || bytes > len - off) {
		set_err(err, errlen, "%s (offset %llu, %llu bytes) out of range of file size %llu",
			name, (unsigned long long)off, (unsigned long long)bytes,
			(unsigned long long)len);
		return -1;
	}
	*end = off + bytes;
	return 0;
}

static bool overlap(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end)
{
	return a < b_end && b < a_end;
}

static int check_header(const unsigned char *h, size_t len, char *err, size_t errlen)
{
	uint32_t v;
	uint64_t total;

	if (len < DB_HEADER_SIZE) {
		set_err(err, errlen, "file size %zu is smaller than the header (%d bytes)",
			len, DB_HEADER_SIZE);
		return -1;
	}
	if (memcmp(h + H_MAGIC, DB_MAGIC, DB_MAGIC_LEN) != 0) {
		set_err(err, errlen, "bad magic");
		return -1;
	}
	v = get32(h + H_VERSION);
	if (v != DB_VERSION) {
		set_err(err, errlen, "unsupported format version %u", v);
		return -1;
	}
	v = get32(h + H_HEADER_SIZE);
	if (v != DB_HEADER_SIZE) {
		set_err(err, errlen, "unsupported header size %u", v);
		return -1;
	}
	total = get64(h + H_FILE_SIZE);
	if (total != (uint64_t)len) {
		set_err(err, errlen, "file size %zu does not match header %llu", len,
			(unsigned long long)total);
		return -1;
	}
	for (size_t i = H_RESERVED; i < DB_HEADER_SIZE; i++) {
		if (h[i] != 0) {
			set_err(err, errlen, "reserved header byte %zu is not zero", i);
			return -1;
		}
	}
	return 0;
}

static int check_settings(struct dlg_db *db, const unsigned char *h, char *err, size_t errlen)
{
	uint32_t mode = get32(h + H_MODE);
	uint32_t def = get32(h + H_DEFAULT);
	uint32_t flags = get32(h + H_FLAGS);
	uint32_t log_off = get32(h + H_LOG_FILE);
	uint32_t src_off = get32(h + H_SOURCE);

	if (!mode_ok(mode)) {
		set_err(err, errlen, "bad mode %u", mode);
		return -1;
	}
	if (!action_ok(def)) {
		set_err(err, errlen, "bad default action %u", def);
		return -1;
	}
	if (flags & ~DB_FLAGS_KNOWN) {
		set_err(err, errlen, "unknown flags 0x%x", flags);
		return -1;
	}
	db->mode = (enum dlg_mode)mode;
	db->default_action = (enum dlg_action)def;
	db->log_syslog = (flags & DB_FLAG_SYSLOG) != 0;
	db->log_stderr = (flags & DB_FLAG_STDERR) != 0;
	db->log_file = NULL;
	if (log_off != DB_NONE) {
		db->log_file = pool_str(db, log_off, NULL);
		if (!db->log_file || db->log_file[0] != '/') {
			set_err(err, errlen, "log file offset %u out of range or not absolute",
				log_off);
			return -1;
		}
	}
	db->source = pool_str(db, src_off, NULL);
	if (!db->source) {
		set_err(err, errlen, "source offset %u out of range", src_off);
		return -1;
	}
	return 0;
}

/* A present path/dir/exe must be a pool string starting with '/': an empty
 * dir would otherwise behave like "/". */
static int check_rule_str(const struct dlg_db *db, uint32_t i, const unsigned char *r,
			  int field, const char *name, char *err, size_t errlen)
{
	uint32_t off = get32(r + field);
	const char *s;

	if (off == DB_NONE)
		return 0;
	s = pool_str(db, off, NULL);
	if (!s) {
		set_err(err, errlen, "rule %u: %s offset out of range", i + 1, name);
		return -1;
	}
	if (s[0] != '/') {
		set_err(err, errlen, "rule %u: %s is not absolute", i + 1, name);
		return -1;
	}
	return 0;
}

static int check_rule(const struct dlg_db *db, uint32_t i, char *err, size_t errlen)
{
	const unsigned char *r = db->rules + (size_t)i * DB_RULE_SIZE;
	uint32_t action = get32(r + R_ACTION);
	uint64_t first = get32(r + R_FIRST);
	uint64_t count = get32(r + R_COUNT);

	if (!action_ok(action)) {
		set_err(err, errlen, "rule %u: bad action %u", i + 1, action);
		return -1;
	}
	if (check_rule_str(db, i, r, R_PATH, "path", err, errlen) ||
	    check_rule_str(db, i, r, R_DIR, "dir", err, errlen) ||
	    check_rule_str(db, i, r, R_EXE, "exe", err, errlen))
		return -1;
	if (first > db->n_digests || count > db->n_digests - first) {
		set_err(err, errlen, "rule %u: digest slice %llu+%llu out of range of %u digests",
			i + 1, (unsigned long long)first, (unsigned long long)count,
			db->n_digests);
		return -1;
	}
	if (get32(r + R_PATH) == DB_NONE && get32(r + R_DIR) == DB_NONE &&
	    get32(r + R_EXE) == DB_NONE && count == 0) {
		set_err(err, errlen, "rule %u: no condition", i + 1);
		return -1;
	}
	if (get32(r + R_RESERVED) != 0) {
		set_err(err, errlen, "rule %u: reserved field is not zero", i + 1);
		return -1;
	}
	return 0;
}

static int check_tables(struct dlg_db *db, const unsigned char *h, size_t len,
			char *err, size_t errlen)
{
	uint64_t r_off = get32(h + H_RULES_OFF), r_end;
	uint64_t d_off = get32(h + H_DIGESTS_OFF), d_end;
	uint64_t s_off = get32(h + H_STRINGS_OFF), s_end;
	uint32_t n_rules = get32(h + H_N_RULES);
	uint32_t n_digests = get32(h + H_N_DIGESTS);
	uint32_t s_len = get32(h + H_STRINGS_LEN);

	if (check_table("rules", r_off, n_rules, DB_RULE_SIZE, len, &r_end, err, errlen) ||
	    check_table("digests", d_off, n_digests, DB_DIGEST_SIZE, len, &d_end, err, errlen) ||
	    check_table("strings", s_off, s_len, 1, len, &s_end, err, errlen))
		return -1;
	if (overlap(r_off, r_end, d_off, d_end) || overlap(r_off, r_end, s_off, s_end) ||
	    overlap(d_off, d_end, s_off, s_end)) {
		set_err(err, errlen, "tables overlap");
		return -1;
	}
	if (s_len == 0 || h[s_end - 1] != '\0') {
		set_err(err, errlen, "string pool is not NUL-terminated");
		return -1;
	}
	/* The writer lays the tables end to end; anything else means a count or
	 * an offset changed, e.g. one bit silently dropping the last rules. */
	if (r_off != DB_HEADER_SIZE || d_off != r_end || s_off != d_end || s_end != len) {
		set_err(err, errlen, "tables not contiguous: rules %llu-%llu, digests %llu-%llu, "
			"strings %llu-%llu, file size %zu", (unsigned long long)r_off,
			(unsigned long long)r_end, (unsigned long long)d_off,
			(unsigned long long)d_end, (unsigned long long)s_off,
			(unsigned long long)s_end, len);
		return -1;
	}
	db->n_rules = n_rules;
	db->n_digests = n_digests;
	db->rules = h + r_off;
	db->digests = h + d_off;
	db->strings = (const char *)h + s_off;
	db->strings_len = s_len;
	return 0;
}

int dlg_db_open_mem(struct dlg_db *db, const void *buf, size_t len, char *err, size_t errlen)
{
	const unsigned char *h = buf;
	struct dlg_db tmp;

	memset(db, 0, sizeof *db);
	memset(&tmp, 0, sizeof tmp);
	if (!buf) {
		set_err(err, errlen, "no data");
		return -1;
	}
	if (check_header(h, len, err, errlen) || check_tables(&tmp, h, len, err, errlen) ||
	    check_settings(&tmp, h, err, errlen))
		return -1;
	for (uint32_t i = 0; i < tmp.n_rules; i++) {
		if (check_rule(&tmp, i, err, errlen))
			return -1;
	}
	tmp.base = h;
	tmp.len = len;
	*db = tmp;
	return 0;
}

int dlg_db_open_file(struct dlg_db *db, const char *path, struct stat *st_out,
		     char *err, size_t errlen)
{
	char why[200];
	struct stat st;
	void *map = MAP_FAILED;
	int fd, ret = -1;

	memset(db, 0, sizeof *db);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		set_err(err, errlen, "%s: %s", path, errstr(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		set_err(err, errlen, "%s: fstat: %s", path, errstr(errno));
		goto end;
	}
	if (st_out)
		*st_out = st;
	if (!S_ISREG(st.st_mode)) {
		set_err(err, errlen, "%s: not a regular file", path);
		goto end;
	}
	if (st.st_size <= 0 || (uint64_t)st.st_size > DB_MAX_SIZE) {
		set_err(err, errlen, "%s: size %lld out of range (1 byte to 1 GiB)", path,
			(long long)st.st_size);
		goto end;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		set_err(err, errlen, "%s: mmap: %s", path, errstr(errno));
		goto end;
	}
	if (dlg_db_open_mem(db, map, (size_t)st.st_size, why, sizeof why) != 0) {
		set_err(err, errlen, "%s: %s", path, why);
		munmap(map, (size_t)st.st_size);
		goto end;
	}
	db->mapped = true;
	ret = 0;
end:
	close(fd);
	return ret;
}

void dlg_db_close(struct dlg_db *db)
{
	if (!db)
		return;
	if (db->mapped && db->base)
		munmap((void *)db->base, db->len);
	memset(db, 0, sizeof *db);
}

/* --------------------------------------------------------------- deciding */

/* One decoded rule record; its strings are bounded within the pool. */
struct rule {
	uint32_t action, line, first, count;
	const char *path, *dir, *exe;
	size_t dir_len;
};

static bool load_str(const struct dlg_db *db, const unsigned char *r, int field,
		     const char **out, size_t *len)
{
	uint32_t off = get32(r + field);

	*out = NULL;
	if (off == DB_NONE)
		return true;
	*out = pool_str(db, off, len);
	return *out != NULL;
}

/* Returns false if the record no longer holds what was validated at open
 * (the file was changed under the mapping). */
static bool load_rule(const struct dlg_db *db, uint32_t i, struct rule *rl)
{
	const unsigned char *r = db->rules + (size_t)i * DB_RULE_SIZE;

	rl->action = get32(r + R_ACTION);
	rl->line = get32(r + R_LINE);
	rl->first = get32(r + R_FIRST);
	rl->count = get32(r + R_COUNT);
	rl->dir_len = 0;
	if (!action_ok(rl->action) || rl->first > db->n_digests ||
	    rl->count > db->n_digests - rl->first)
		return false;
	return load_str(db, r, R_PATH, &rl->path, NULL) &&
	       load_str(db, r, R_DIR, &rl->dir, &rl->dir_len) &&
	       load_str(db, r, R_EXE, &rl->exe, NULL);
}

/* Strictly below: "/opt/a" holds "/opt/a/x" but neither "/opt/a" nor
 * "/opt/ab"; trailing slashes of dir are ignored so "/" holds every absolute
 * path but "/" itself. */
static bool below(const char *dir, size_t dlen, const char *path)
{
	while (dlen > 0 && dir[dlen - 1] == '/')
		dlen--;
	return strncmp(path, dir, dlen) == 0 && path[dlen] == '/' && path[dlen + 1] != '\0';
}

static bool digest_in(const struct dlg_db *db, uint32_t first, uint32_t count,
		      const unsigned char *d)
{
	const unsigned char *base = db->digests + (size_t)first * DB_DIGEST_SIZE;
	size_t lo = 0, hi = count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(d, base + mid * DB_DIGEST_SIZE, DB_DIGEST_SIZE);

		if (c == 0)
			return true;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

/* Appends to a fixed buffer; on overflow the text ends in "..." so a cut
 * reason is visibly cut. */
struct text {
	char *buf;
	size_t size, len;
	bool cut;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->cut)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		t->buf[t->len] = '\0';
		return;
	}
	if ((size_t)n >= t->size - t->len) {
		t->cut = true;
		t->len = t->size - 1;
		if (t->size >= 4)
			memcpy(t->buf + t->size - 4, "...", 4);
		return;
	}
	t->len += (size_t)n;
}

static void text_init(struct text *t, char *buf, size_t size)
{
	t->buf = buf;
	t->size = size;
	t->len = 0;
	t->cut = false;
	buf[0] = '\0';
}

static enum dlg_action verdict_rule(struct dlg_verdict *v, uint32_t index,
				    const struct rule *rl)
{
	struct text t;

	v->action = (enum dlg_action)rl->action;
	v->rule = index + 1;
	v->line = rl->line;
	text_init(&t, v->reason, sizeof v->reason);
	text_add(&t, "rule %u (line %u): %s", index + 1, rl->line, action_name(v->action));
	if (rl->path)
		text_add(&t, " path %s", rl->path);
	if (rl->dir)
		text_add(&t, " dir %s", rl->dir);
	if (rl->exe)
		text_add(&t, " exe %s", rl->exe);
	if (rl->count > 0)
		text_add(&t, " sha256 matches");
	return v->action;
}

static enum dlg_action verdict_deny(struct dlg_verdict *v, uint32_t rule, uint32_t line,
				    const char *what, const char *detail)
{
	struct text t;

	v->action = DLG_ACTION_DENY;
	v->rule = rule;
	v->line = line;
	text_init(&t, v->reason, sizeof v->reason);
	if (rule)
		text_add(&t, "rule %u (line %u): ", rule, line);
	text_add(&t, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
	return DLG_ACTION_DENY;
}

/* Hashes s->fd once per subject; 0 on success, -1 with err filled. */
static int subject_hash(struct dlg_subject *s, char *err, size_t errlen)
{
	if (s->have_sha256)
		return 0;
	if (s->fd < 0) {
		set_err(err, errlen, "no file descriptor");
		return -1;
	}
	if (dlg_sha256_fd(s->fd, s->sha256, err, errlen) != 0)
		return -1;
	s->have_sha256 = true;
	return 0;
}

/* No allocation anywhere below: the preload calls this inside dlopen. */
enum dlg_action dlg_decide(const struct dlg_db *db, struct dlg_subject *s,
			   struct dlg_verdict *v)
{
	char herr[HASH_ERR_LEN];
	struct rule rl;

	if (!db || !db->base || !s || !s->path)
		return verdict_deny(v, 0, 0, "no policy or no subject", NULL);
	for (uint32_t i = 0; i < db->n_rules; i++) {
		if (!load_rule(db, i, &rl))
			return verdict_deny(v, i + 1, 0, "compiled policy changed while mapped",
					    NULL);
		if (rl.path && strcmp(s->path, rl.path) != 0)
			continue;
		if (rl.dir && !below(rl.dir, rl.dir_len, s->path))
			continue;
		if (rl.exe && (!s->exe || strcmp(s->exe, rl.exe) != 0))
			continue;
		if (rl.count > 0) {
			herr[0] = '\0';
			if (subject_hash(s, herr, sizeof herr) != 0) {
				s->hash_failed = true;
				return verdict_deny(v, i + 1, rl.line, "cannot hash", herr);
			}
			if (!digest_in(db, rl.first, rl.count, s->sha256))
				continue;
		}
		return verdict_rule(v, i, &rl);
	}
	v->action = db->default_action;
	v->rule = 0;
	v->line = 0;
	snprintf(v->reason, sizeof v->reason, "no rule matched; default %s",
		 action_name(db->default_action));
	return v->action;
}

bool dlg_db_rule(const struct dlg_db *db, uint32_t index, struct dlg_db_rule_view *out)
{
	struct rule rl;

	if (!db || !db->base || index >= db->n_rules || !load_rule(db, index, &rl))
		return false;
	out->action = (enum dlg_action)rl.action;
	out->line = rl.line;
	out->path = rl.path;
	out->dir = rl.dir;
	out->exe = rl.exe;
	out->n_sha256 = rl.count;
	return true;
}

/* --------------------------------------------------------------- writing */

/* The preload only reads policies; leaving the writer out keeps mkostemp,
 * rename and qsort out of every process. */
#ifndef DLGUARD_IN_PRELOAD

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* A string to place in the pool, and where its offset goes. */
struct pending {
	const char *s;
	uint32_t *dst;
};

/* Offsets of each rule's strings, filled in while building the pool. */
struct rule_offs {
	uint32_t path, dir, exe;
};

static int cmp_pending(const void *a, const void *b)
{
	return strcmp(((const struct pending *)a)->s, ((const struct pending *)b)->s);
}

static int cmp_digest(const void *a, const void *b)
{
	return memcmp(a, b, DB_DIGEST_SIZE);
}

static int check_abs(const char *s, size_t i, unsigned line, const char *what,
		     char *err, size_t errlen)
{
	if (s && s[0] != '/') {
		set_err(err, errlen, "rule %zu (line %u): %s '%s' is not absolute", i + 1, line,
			what, s);
		return -1;
	}
	return 0;
}

static int check_policy_rule(const struct dlg_rule *r, size_t i, char *err, size_t errlen)
{
	size_t dl;

	if (!action_ok((uint32_t)r->action)) {
		set_err(err, errlen, "rule %zu (line %u): bad action %d", i + 1, r->line,
			(int)r->action);
		return -1;
	}
	if (!r->path && !r->dir && !r->exe && r->n_sha256 == 0) {
		set_err(err, errlen, "rule %zu (line %u): no condition", i + 1, r->line);
		return -1;
	}
	if (r->n_sha256 > 0 && !r->sha256) {
		set_err(err, errlen, "rule %zu (line %u): digest list missing", i + 1, r->line);
		return -1;
	}
	if (check_abs(r->path, i, r->line, "path", err, errlen) ||
	    check_abs(r->dir, i, r->line, "dir", err, errlen) ||
	    check_abs(r->exe, i, r->line, "exe", err, errlen))
		return -1;
	dl = r->dir ? strlen(r->dir) : 0;
	if (dl > 1 && r->dir[dl - 1] == '/') {
		set_err(err, errlen, "rule %zu (line %u): dir '%s' ends with '/'", i + 1, r->line,
			r->dir);
		return -1;
	}
	return 0;
}

/* Checks the model and counts digests; 0 or -1 with err. */
static int check_policy(const struct dlg_policy *p, size_t *n_digests, char *err, size_t errlen)
{
	size_t total = 0;

	if (!mode_ok((uint32_t)p->mode) || !action_ok((uint32_t)p->default_action)) {
		set_err(err, errlen, "bad mode or default action");
		return -1;
	}
	if (p->log_file && p->log_file[0] != '/') {
		set_err(err, errlen, "log file '%s' is not absolute", p->log_file);
		return -1;
	}
	if (p->n_rules > 0 && !p->rules) {
		set_err(err, errlen, "rule list missing");
		return -1;
	}
	if (p->n_rules > DB_MAX_SIZE / DB_RULE_SIZE) {
		set_err(err, errlen, "too many rules (%zu)", p->n_rules);
		return -1;
	}
	for (size_t i = 0; i < p->n_rules; i++) {
		if (check_policy_rule(&p->rules[i], i, err, errlen))
			return -1;
		if (p->rules[i].n_sha256 > DB_MAX_SIZE / DB_DIGEST_SIZE - total) {
			set_err(err, errlen, "too many digests");
			return -1;
		}
		total += p->rules[i].n_sha256;
	}
	*n_digests = total;
	return 0;
}

static void add_pending(struct pending *pd, size_t *n, const char *s, uint32_t *dst)
{
	*dst = DB_NONE;
	if (!s)
		return;
	pd[*n].s = s;
	pd[*n].dst = dst;
	(*n)++;
}

/* Builds a pool of distinct strings (sorted, so output does not depend on
 * rule order beyond the rules themselves). *pool is malloc'ed. */
static int build_pool(struct pending *pd, size_t n, char **pool, size_t *pool_len,
		      char *err, size_t errlen)
{
	size_t len = 0;
	char *buf;

	qsort(pd, n, sizeof *pd, cmp_pending);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(pd[i].s, pd[i - 1].s) == 0)
			continue;
		len += strlen(pd[i].s) + 1;
		if (len > DB_MAX_SIZE) {
			set_err(err, errlen, "strings too large");
			return -1;
		}
	}
	buf = malloc(len ? len : 1);
	if (!buf) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	len = 0;
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(pd[i].s, pd[i - 1].s) == 0) {
			*pd[i].dst = *pd[i - 1].dst;
			continue;
		}
		*pd[i].dst = (uint32_t)len;
		memcpy(buf + len, pd[i].s, strlen(pd[i].s) + 1);
		len += strlen(pd[i].s) + 1;
	}
	*pool = buf;
	*pool_len = len;
	return 0;
}

/* Copies, sorts and de-duplicates each rule's digests into out (room for
 * every digest); returns how many remain. first/count per rule. */
static size_t put_digests(const struct dlg_policy *p, unsigned char *out,
			  uint32_t *first, uint32_t *count)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n_rules; i++) {
		const struct dlg_rule *r = &p->rules[i];
		unsigned char *slice = out + n * DB_DIGEST_SIZE;
		size_t k = 0;

		if (r->n_sha256 > 0)
			memcpy(slice, r->sha256, r->n_sha256 * DB_DIGEST_SIZE);
		qsort(slice, r->n_sha256, DB_DIGEST_SIZE, cmp_digest);
		for (size_t j = 0; j < r->n_sha256; j++) {
			const unsigned char *d = slice + j * DB_DIGEST_SIZE;

			if (k > 0 && memcmp(d, slice + (k - 1) * DB_DIGEST_SIZE, DB_DIGEST_SIZE) == 0)
				continue;
			if (k != j)
				memcpy(slice + k * DB_DIGEST_SIZE, d, DB_DIGEST_SIZE);
			k++;
		}
		first[i] = (uint32_t)n;
		count[i] = (uint32_t)k;
		n += k;
	}
	return n;
}

static void put_header(unsigned char *h, const struct dlg_policy *p, uint64_t total,
		       uint32_t log_off, uint32_t src_off, uint32_t n_digests,
		       uint32_t strings_off, uint32_t strings_len)
{
	uint32_t flags = (p->log_syslog ? DB_FLAG_SYSLOG : 0) | (p->log_stderr ? DB_FLAG_STDERR : 0);

	memset(h, 0, DB_HEADER_SIZE);
	memcpy(h + H_MAGIC, DB_MAGIC, DB_MAGIC_LEN);
	put32(h + H_VERSION, DB_VERSION);
	put32(h + H_HEADER_SIZE, DB_HEADER_SIZE);
	put64(h + H_FILE_SIZE, total);
	put32(h + H_MODE, (uint32_t)p->mode);
	put32(h + H_DEFAULT, (uint32_t)p->default_action);
	put32(h + H_FLAGS, flags);
	put32(h + H_LOG_FILE, log_off);
	put32(h + H_SOURCE, src_off);
	put32(h + H_N_RULES, (uint32_t)p->n_rules);
	put32(h + H_RULES_OFF, DB_HEADER_SIZE);
	put32(h + H_N_DIGESTS, n_digests);
	put32(h + H_DIGESTS_OFF, DB_HEADER_SIZE + (uint32_t)p->n_rules * DB_RULE_SIZE);
	put32(h + H_STRINGS_OFF, strings_off);
	put32(h + H_STRINGS_LEN, strings_len);
}

int dlg_db_build(const struct dlg_policy *p, unsigned char **out, size_t *out_len,
		 char *err, size_t errlen)
{
	struct pending *pd = NULL;
	struct rule_offs *offs = NULL;
	uint32_t *first = NULL, *count = NULL;
	uint32_t log_off, src_off;
	unsigned char *buf = NULL;
	char *pool = NULL;
	size_t n_pd = 0, pool_len = 0, n_dig = 0, digests_off, strings_off, room;
	int ret = -1;

	*out = NULL;
	*out_len = 0;
	if (check_policy(p, &n_dig, err, errlen))
		return -1;
	pd = calloc(3 * p->n_rules + 2, sizeof *pd);
	offs = calloc(p->n_rules + 1, sizeof *offs);
	first = calloc(p->n_rules + 1, sizeof *first);
	count = calloc(p->n_rules + 1, sizeof *count);
	if (!pd || !offs || !first || !count) {
		set_err(err, errlen, "out of memory");
		goto end;
	}
	/* A policy built in memory may have no source: record "". */
	add_pending(pd, &n_pd, p->source ? p->source : "", &src_off);
	add_pending(pd, &n_pd, p->log_file, &log_off);
	for (size_t i = 0; i < p->n_rules; i++) {
		add_pending(pd, &n_pd, p->rules[i].path, &offs[i].path);
		add_pending(pd, &n_pd, p->rules[i].dir, &offs[i].dir);
		add_pending(pd, &n_pd, p->rules[i].exe, &offs[i].exe);
	}
	if (build_pool(pd, n_pd, &pool, &pool_len, err, errlen))
		goto end;
	digests_off = DB_HEADER_SIZE + p->n_rules * DB_RULE_SIZE;
	/* Each part is below 1 GiB (checked), so the sum fits in size_t. */
	room = digests_off + n_dig * DB_DIGEST_SIZE + ((pool_len + 3) & ~(size_t)3);
	if (room > DB_MAX_SIZE) {
		set_err(err, errlen, "compiled policy would exceed 1 GiB");
		goto end;
	}
	buf = calloc(1, room);
	if (!buf) {
		set_err(err, errlen, "out of memory");
		goto end;
	}
	n_dig = put_digests(p, buf + digests_off, first, count);
	strings_off = digests_off + n_dig * DB_DIGEST_SIZE;
	for (size_t i = 0; i < p->n_rules; i++) {
		unsigned char *r = buf + DB_HEADER_SIZE + i * DB_RULE_SIZE;

		put32(r + R_ACTION, (uint32_t)p->rules[i].action);
		put32(r + R_LINE, p->rules[i].line);
		put32(r + R_PATH, offs[i].path);
		put32(r + R_DIR, offs[i].dir);
		put32(r + R_EXE, offs[i].exe);
		put32(r + R_FIRST, first[i]);
		put32(r + R_COUNT, count[i]);
		put32(r + R_RESERVED, 0);
	}
	memcpy(buf + strings_off, pool, pool_len);
	put_header(buf, p, strings_off + pool_len, log_off, src_off, (uint32_t)n_dig,
		   (uint32_t)strings_off, (uint32_t)pool_len);
	*out = buf;
	*out_len = strings_off + pool_len;
	buf = NULL;
	ret = 0;
end:
	free(buf);
	free(pool);
	free(count);
	free(first);
	free(offs);
	free(pd);
	return ret;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Splits out_path into its directory (for the temp file and the final
 * directory fsync) and its base name. */
static int split_path(const char *path, char *dir, size_t dirlen, const char **base)
{
	const char *slash = strrchr(path, '/');
	int n;

	if (!slash) {
		*base = path;
		n = snprintf(dir, dirlen, ".");
	} else {
		*base = slash + 1;
		n = snprintf(dir, dirlen, "%.*s", slash == path ? 1 : (int)(slash - path), path);
	}
	return (n < 0 || (size_t)n >= dirlen || **base == '\0') ? -1 : 0;
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -1;
	ret = fsync(fd);
	close(fd);
	return ret;
}

int dlg_db_write_file(const struct dlg_policy *p, const char *out_path, char *err,
		      size_t errlen)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	const char *base;
	unsigned char *buf = NULL;
	size_t len;
	bool created = false;   /* the temp file exists and is ours to unlink */
	int fd = -1, ret = -1, n;

	if (split_path(out_path, dir, sizeof dir, &base) != 0) {
		set_err(err, errlen, "%s: bad output path", out_path);
		return -1;
	}
	n = snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, base);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		set_err(err, errlen, "%s: path too long", out_path);
		return -1;
	}
	if (dlg_db_build(p, &buf, &len, err, errlen) != 0)
		return -1;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		set_err(err, errlen, "%s: cannot create temporary file: %s", out_path,
			errstr(errno));
		goto end;
	}
	created = true;
	if (fchmod(fd, 0644) != 0 || write_all(fd, buf, len) != 0 || fsync(fd) != 0) {
		set_err(err, errlen, "%s: %s", tmp, errstr(errno));
		goto end;
	}
	n = close(fd);
	fd = -1;
	if (n != 0) {
		set_err(err, errlen, "%s: close: %s", tmp, errstr(errno));
		goto end;
	}
	if (rename(tmp, out_path) != 0) {
		set_err(err, errlen, "rename %s to %s: %s", tmp, out_path, errstr(errno));
		goto end;
	}
	created = false;        /* renamed: the name is the target's now */
	if (sync_dir(dir) != 0) {
		set_err(err, errlen, "%s: fsync directory: %s", dir, errstr(errno));
		goto end;
	}
	ret = 0;
end:
	if (fd >= 0)
		close(fd);
	if (created)
		unlink(tmp);
	free(buf);
	return ret;
}

#endif /* DLGUARD_IN_PRELOAD */
