/* Compiled policy: a little-endian, fixed-record file (docs/compiled-format.md).
 *
 * Ordered first-match rules, the indexes that name the rules which can
 * match a file (directory, path, digest, and the unanchored rest), one
 * sorted table of (digest, rule), the stat fingerprints of pinned files
 * (so a matching file is not read), the policy's public keys, per-rule
 * signed_by key lists, per-rule owner and fs value lists and per-rule
 * slices of embedded manifest entries are arrays, so the file is arrays: a
 * header, the tables end to end, a byte blob (key DER, manifest
 * signatures), the directory strings and a string pool.
 * The preload's open checks the header and the tables' bounds, O(1); the
 * CLI's checks every record of the small tables too. Digests and manifest
 * entries are never scanned, so a policy with a million hashes maps as fast
 * as an empty one. Lookups re-check the few bounds they use, so even bytes
 * changed under a live mapping cannot send a read outside it. */
#include "policy_db.h"
#include "rawsys.h"
#include "errstr.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"
#include "sig.h"

#define DB_MAGIC "DLGUARD"      /* 7 chars + NUL = 8 bytes */
#define DB_MAGIC_LEN 8
/* The same 8 bytes as get64 reads them. check_header compares with this
 * instead of memcmp(DB_MAGIC): in the preload it runs at every process
 * start, where the string (.rodata) and libc's memcmp were two pages touched
 * for nothing else, two page faults (~20-40 us on a VM). */
#define DB_MAGIC_U64 ((uint64_t)'D' | (uint64_t)'L' << 8 | (uint64_t)'G' << 16 | \
		      (uint64_t)'U' << 24 | (uint64_t)'A' << 32 | (uint64_t)'R' << 40 | \
		      (uint64_t)'D' << 48)
#define DB_VERSION 5
#define DB_HEADER_SIZE 192
#define DB_RULE_SIZE 64
#define DB_DIGEST_SIZE (DLG_SHA256_LEN + 4)     /* digest, rule */
#define DB_DIR_SIZE 20
#define DB_PATH_SIZE 16
#define DB_RULEREF_SIZE 4
#define DB_KEY_SIZE 16
#define DB_KEYREF_SIZE 4
#define DB_VALUE_SIZE 4
#define DB_MANIFEST_SIZE 64
#define DB_ENTRY_SIZE (4 + DLG_SHA256_LEN)
#define DB_FPRINT_SIZE 88
#define DB_BOOT_SIZE 128
#define DB_NONE UINT32_MAX
#define DB_MAX_SIZE ((uint64_t)1 << 30)

#define DB_FLAG_SYSLOG 1u
#define DB_FLAG_STDERR 2u
#define DB_FLAG_STARTUP_KILL 4u
#define DB_FLAG_DENY_PRELOAD 8u
#define DB_FLAGS_KNOWN (DB_FLAG_SYSLOG | DB_FLAG_STDERR | DB_FLAG_STARTUP_KILL | \
			DB_FLAG_DENY_PRELOAD)

/* Header field offsets. Format 1 fields keep their places. */
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
	H_N_KEYS = 68,
	H_KEYS_OFF = 72,
	H_N_KEYREFS = 76,
	H_KEYREFS_OFF = 80,
	H_N_MANIFESTS = 84,
	H_MANIFESTS_OFF = 88,
	H_N_ENTRIES = 92,
	H_ENTRIES_OFF = 96,
	H_BLOB_OFF = 100,
	H_BLOB_LEN = 104,
	H_SIG_DIR = 108,
	H_N_VALUES = 112,
	H_VALUES_OFF = 116,
	H_ENV_STRIP = 120,
	/* format 4: the indexes */
	H_N_DIRS = 124,
	H_DIRS_OFF = 128,
	H_DIRSTR_OFF = 132,
	H_DIRSTR_LEN = 136,
	H_N_RULEREFS = 140,
	H_RULEREFS_OFF = 144,
	H_N_PATHS = 148,
	H_PATHS_OFF = 152,
	H_FREE_FIRST = 156,     /* unanchored rules: slice of the rule references */
	H_FREE_COUNT = 160,
	H_FIRST_DIGEST = 164,   /* lowest digest-anchored rule, or NONE */
	H_N_FPRINTS = 168,      /* stat fingerprints of pinned files */
	H_FPRINTS_OFF = 172,
	/* format 5: start-up verdicts */
	H_N_BOOT = 176,         /* slots of the start-up verdict table */
	H_BOOT_OFF = 180,
	H_RESERVED = 184,       /* zero up to DB_HEADER_SIZE */
};

/* Rule record field offsets. */
enum {
	R_ACTION = 0,
	R_LINE = 4,
	R_PATH = 8,
	R_DIR = 12,
	R_EXE = 16,
	R_RESERVED = 20,        /* zero (format 3: first digest) */
	R_COUNT = 24,           /* how many digests the rule lists */
	R_KEYS_FIRST = 28,
	R_KEYS_COUNT = 32,
	R_MANIFEST = 36,
	R_RISK = 40,            /* DLG_RISK_* bits; others zero */
	R_RECENT = 44,          /* seconds; 0: no recent condition */
	R_OWN_FIRST = 48,       /* owner uids: slice of the values */
	R_OWN_COUNT = 52,
	R_FS_FIRST = 56,        /* fs types: slice of the values */
	R_FS_COUNT = 60,
};

/* Key record field offsets. */
enum {
	K_NAME = 0,
	K_TYPE = 4,
	K_DER_OFF = 8,
	K_DER_LEN = 12,
};

/* Manifest record field offsets. */
enum {
	M_PATH = 0,
	M_KEY = 4,
	M_SIG_OFF = 8,
	M_SIG_LEN = 12,
	M_FIRST = 16,
	M_COUNT = 20,
	M_SHA256 = 24,
	M_RESERVED = 56,        /* zero up to DB_MANIFEST_SIZE */
};

/* Digest record: the digest, then the rule that lists it. */
enum {
	G_SHA256 = 0,
	G_RULE = DLG_SHA256_LEN,
};

/* Directory index record. */
enum {
	D_HASH = 0,             /* dlg_db_hash of the key */
	D_STR = 4,              /* the key: offset in the directory strings */
	D_FIRST = 8,            /* rules anchored at this directory: rule references */
	D_COUNT = 12,
	D_PATHS = 16,           /* path-anchored rules whose file is directly in it */
};

/* Path index record. */
enum {
	P_HASH = 0,
	P_STR = 4,              /* offset in the string pool */
	P_FIRST = 8,            /* rules anchored at this path: rule references */
	P_COUNT = 12,
};

/* Manifest entry field offsets. */
enum {
	E_PATH = 0,
	E_SHA256 = 4,
};

/* Fingerprint record: what fstat showed when the file was hashed at compile
 * time, and that hash. Sorted by (ino, dev), without repeats. */
enum {
	F_DEV = 0,              /* 64-bit fields first */
	F_INO = 8,
	F_SIZE = 16,
	F_MTIME = 24,           /* seconds, signed */
	F_CTIME = 32,
	F_MTIME_NSEC = 40,
	F_CTIME_NSEC = 44,
	F_SHA256 = 48,
	F_PATH = 80,            /* the canonical path: string offset */
	F_RESERVED = 84,        /* zero up to DB_FPRINT_SIZE */
};

/* Start-up verdict slot: the stat fingerprint of a file the policy allows
 * in every process, and the name ld.so gives it, inline. An empty slot is
 * all zero. Open addressing by the name's hash (boot_hash), linear probing. */
enum {
	B_DEV = 0,
	B_INO = 8,
	B_SIZE = 16,
	B_MTIME = 24,
	B_CTIME = 32,
	B_MTIME_NSEC = 40,
	B_CTIME_NSEC = 44,
	B_NAME = 48,            /* NUL-padded to DB_BOOT_SIZE */
};
#define B_NAME_ROOM (DB_BOOT_SIZE - B_NAME)

/* Reasons are built in v->reason; hashing errors need a little room too. */
#define HASH_ERR_LEN 128

/* strerror may load message catalogs (locale files, malloc) in the middle of
 * a host's dlopen; the untranslated description never does. */
static const char *errstr(int e)
{
	const char *s = strerrordesc_np(e);

	return s ? s : "unknown error";
}

/* Byte-wise loads: the mapping is page aligned but nothing inside it is
 * trusted to be, and this keeps the format the same on any host. */
DLG_START_TEXT static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

DLG_START_TEXT static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

DLG_START_TEXT static bool action_ok(uint32_t a)
{
	return a == DLG_ACTION_ALLOW || a == DLG_ACTION_DENY;
}

DLG_START_TEXT static bool mode_ok(uint32_t m)
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

/* A string of the directory strings (rules' dir, index keys). */
static const char *dir_str(const struct dlg_db *db, uint32_t off, size_t *len)
{
	const char *s;
	size_t n;

	if (off == DB_NONE || off >= db->dirstr_len)
		return NULL;
	s = db->dirstr + off;
	n = strnlen(s, db->dirstr_len - off);
	if (n == db->dirstr_len - off)
		return NULL;
	if (len)
		*len = n;
	return s;
}

static bool slice_ok(uint64_t first, uint64_t count, uint64_t n)
{
	return first <= n && count <= n - first;
}

/* Checks that a table of count records of size bytes at off lies inside the
 * file, after the header, 4-byte aligned. 64-bit arithmetic: count * size of
 * two u32 values cannot overflow it. */
DLG_START_TEXT static int check_table(const char *name, uint64_t off, uint64_t count, uint64_t size,
		       uint64_t len, uint64_t *end, char *err, size_t errlen)
{
	uint64_t bytes = count * size;

	if (off % 4 != 0) {
		dlg_seterr(err, errlen, "%s offset %llu is not 4-byte aligned", name,
			(unsigned long long)off);
		return -1;
	}
	if (off < DB_HEADER_SIZE) {
		dlg_seterr(err, errlen, "%s offset %llu overlaps the header", name,
			(unsigned long long)off);
		return -1;
	}
	if (off > len || bytes > len - off) {
		dlg_seterr(err, errlen, "%s (offset %llu, %llu bytes) out of range of file size %llu",
			name, (unsigned long long)off, (unsigned long long)bytes,
			(unsigned long long)len);
		return -1;
	}
	*end = off + bytes;
	return 0;
}

DLG_START_TEXT static bool overlap(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end)
{
	return a < b_end && b < a_end;
}

DLG_START_TEXT static int check_header(const unsigned char *h, size_t len, char *err, size_t errlen)
{
	uint32_t v;
	uint64_t total;

	/* The version sits at the same place in every format: read it first so
	 * an old file gets a message that says what to do. */
	if (len >= H_VERSION + 4 && get64(h + H_MAGIC) == DB_MAGIC_U64 &&
	    get32(h + H_VERSION) >= 1 && get32(h + H_VERSION) < DB_VERSION) {
		dlg_seterr(err, errlen, "format version %u is not supported by this dlguard; "
			"recompile", get32(h + H_VERSION));
		return -1;
	}
	if (len < DB_HEADER_SIZE) {
		dlg_seterr(err, errlen, "file size %zu is smaller than the header (%d bytes)",
			len, DB_HEADER_SIZE);
		return -1;
	}
	if (get64(h + H_MAGIC) != DB_MAGIC_U64) {
		dlg_seterr(err, errlen, "bad magic");
		return -1;
	}
	v = get32(h + H_VERSION);
	if (v != DB_VERSION) {
		dlg_seterr(err, errlen, "unsupported format version %u", v);
		return -1;
	}
	v = get32(h + H_HEADER_SIZE);
	if (v != DB_HEADER_SIZE) {
		dlg_seterr(err, errlen, "unsupported header size %u", v);
		return -1;
	}
	total = get64(h + H_FILE_SIZE);
	if (total != (uint64_t)len) {
		dlg_seterr(err, errlen, "file size %zu does not match header %llu", len,
			(unsigned long long)total);
		return -1;
	}
	for (size_t i = H_RESERVED; i < DB_HEADER_SIZE; i++) {
		if (h[i] != 0) {
			dlg_seterr(err, errlen, "reserved header byte %zu is not zero", i);
			return -1;
		}
	}
	return 0;
}

/* An optional absolute path in the pool: log file, signature dir. */
static int check_abs_str(const struct dlg_db *db, uint32_t off, const char *what,
			 const char **out, char *err, size_t errlen)
{
	*out = NULL;
	if (off == DB_NONE)
		return 0;
	*out = pool_str(db, off, NULL);
	if (!*out || (*out)[0] != '/') {
		dlg_seterr(err, errlen, "%s offset %u out of range or not absolute", what, off);
		return -1;
	}
	return 0;
}

/* The settings that are numbers in the header. */
DLG_START_TEXT static int check_options(struct dlg_db *db, const unsigned char *h, char *err, size_t errlen)
{
	uint32_t mode = get32(h + H_MODE);
	uint32_t def = get32(h + H_DEFAULT);
	uint32_t flags = get32(h + H_FLAGS);

	if (!mode_ok(mode)) {
		dlg_seterr(err, errlen, "bad mode %u", mode);
		return -1;
	}
	if (!action_ok(def)) {
		dlg_seterr(err, errlen, "bad default action %u", def);
		return -1;
	}
	if (flags & ~DB_FLAGS_KNOWN) {
		dlg_seterr(err, errlen, "unknown flags 0x%x", flags);
		return -1;
	}
	db->mode = (enum dlg_mode)mode;
	db->default_action = (enum dlg_action)def;
	db->log_syslog = (flags & DB_FLAG_SYSLOG) != 0;
	db->log_stderr = (flags & DB_FLAG_STDERR) != 0;
	db->startup = (flags & DB_FLAG_STARTUP_KILL) ? DLG_STARTUP_KILL : DLG_STARTUP_LOG;
	db->deny_untrusted_preload = (flags & DB_FLAG_DENY_PRELOAD) != 0;
	db->env_strip = get32(h + H_ENV_STRIP);
	if (db->env_strip & ~(uint32_t)DLG_ENV_KNOWN) {
		dlg_seterr(err, errlen, "unknown environment variables 0x%x in env.strip",
			db->env_strip);
		return -1;
	}
	return 0;
}

static int check_settings(struct dlg_db *db, const unsigned char *h, char *err, size_t errlen)
{
	uint32_t src_off = get32(h + H_SOURCE);

	if (check_options(db, h, err, errlen))
		return -1;
	if (check_abs_str(db, get32(h + H_LOG_FILE), "log file", &db->log_file, err, errlen) ||
	    check_abs_str(db, get32(h + H_SIG_DIR), "signature dir", &db->sig_dir, err, errlen))
		return -1;
	db->source = pool_str(db, src_off, NULL);
	if (!db->source) {
		dlg_seterr(err, errlen, "source offset %u out of range", src_off);
		return -1;
	}
	db->free_first = get32(h + H_FREE_FIRST);
	db->free_count = get32(h + H_FREE_COUNT);
	if (!slice_ok(db->free_first, db->free_count, db->n_rulerefs)) {
		dlg_seterr(err, errlen, "unanchored rules %u+%u out of range of %u rule references",
			db->free_first, db->free_count, db->n_rulerefs);
		return -1;
	}
	db->first_digest = get32(h + H_FIRST_DIGEST);
	if (db->first_digest != DB_NONE && db->first_digest >= db->n_rules) {
		dlg_seterr(err, errlen, "first digest-anchored rule %u out of range of %u rules",
			db->first_digest, db->n_rules);
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
	s = field == R_DIR ? dir_str(db, off, NULL) : pool_str(db, off, NULL);
	if (!s) {
		dlg_seterr(err, errlen, "rule %u: %s offset out of range", i + 1, name);
		return -1;
	}
	if (s[0] != '/') {
		dlg_seterr(err, errlen, "rule %u: %s is not absolute", i + 1, name);
		return -1;
	}
	return 0;
}

static bool reserved_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* signed_by and manifest: the slice, the index, and what a manifest rule
 * must (signed_by) and must not (path, sha256) have. */
static int check_rule_sig(const struct dlg_db *db, uint32_t i, const unsigned char *r,
			  char *err, size_t errlen)
{
	uint32_t kfirst = get32(r + R_KEYS_FIRST), kcount = get32(r + R_KEYS_COUNT);
	uint32_t m = get32(r + R_MANIFEST);

	if (!slice_ok(kfirst, kcount, db->n_keyrefs)) {
		dlg_seterr(err, errlen, "rule %u: signed_by slice %u+%u out of range of %u key "
			"references", i + 1, kfirst, kcount, db->n_keyrefs);
		return -1;
	}
	if (m == DB_NONE)
		return 0;
	if (m >= db->n_manifests) {
		dlg_seterr(err, errlen, "rule %u: manifest %u out of range of %u manifests", i + 1, m,
			db->n_manifests);
		return -1;
	}
	if (kcount == 0 || get32(r + R_PATH) != DB_NONE || get32(r + R_COUNT) != 0) {
		dlg_seterr(err, errlen, "rule %u: manifest rule without signed_by, or with path or "
			"sha256", i + 1);
		return -1;
	}
	return 0;
}

/* Risk flags, and the owner and fs slices of the values table. */
static int check_rule_risk(const struct dlg_db *db, uint32_t i, const unsigned char *r,
			   char *err, size_t errlen)
{
	uint32_t risk = get32(r + R_RISK);

	if (risk & ~(uint32_t)DLG_RISK_KNOWN) {
		dlg_seterr(err, errlen, "rule %u: unknown risk flags 0x%x", i + 1, risk);
		return -1;
	}
	if (!slice_ok(get32(r + R_OWN_FIRST), get32(r + R_OWN_COUNT), db->n_values)) {
		dlg_seterr(err, errlen, "rule %u: owner slice %u+%u out of range of %u values", i + 1,
			get32(r + R_OWN_FIRST), get32(r + R_OWN_COUNT), db->n_values);
		return -1;
	}
	if (!slice_ok(get32(r + R_FS_FIRST), get32(r + R_FS_COUNT), db->n_values)) {
		dlg_seterr(err, errlen, "rule %u: fs slice %u+%u out of range of %u values", i + 1,
			get32(r + R_FS_FIRST), get32(r + R_FS_COUNT), db->n_values);
		return -1;
	}
	return 0;
}

static int check_rule(const struct dlg_db *db, uint32_t i, char *err, size_t errlen)
{
	const unsigned char *r = db->rules + (size_t)i * DB_RULE_SIZE;
	uint32_t action = get32(r + R_ACTION);
	uint64_t count = get32(r + R_COUNT);

	if (!action_ok(action)) {
		dlg_seterr(err, errlen, "rule %u: bad action %u", i + 1, action);
		return -1;
	}
	if (check_rule_str(db, i, r, R_PATH, "path", err, errlen) ||
	    check_rule_str(db, i, r, R_DIR, "dir", err, errlen) ||
	    check_rule_str(db, i, r, R_EXE, "exe", err, errlen))
		return -1;
	if (get32(r + R_RESERVED) != 0) {
		dlg_seterr(err, errlen, "rule %u: reserved field is not zero", i + 1);
		return -1;
	}
	if (check_rule_sig(db, i, r, err, errlen) || check_rule_risk(db, i, r, err, errlen))
		return -1;
	if (get32(r + R_PATH) == DB_NONE && get32(r + R_DIR) == DB_NONE &&
	    get32(r + R_EXE) == DB_NONE && count == 0 && get32(r + R_KEYS_COUNT) == 0 &&
	    get32(r + R_MANIFEST) == DB_NONE && get32(r + R_RISK) == 0 &&
	    get32(r + R_RECENT) == 0 && get32(r + R_OWN_COUNT) == 0 &&
	    get32(r + R_FS_COUNT) == 0) {
		dlg_seterr(err, errlen, "rule %u: no condition", i + 1);
		return -1;
	}
	return 0;
}

static bool key_type_ok(uint32_t t)
{
	return t >= DLG_KEY_ED25519 && t <= DLG_KEY_RSA_PSS;
}

static int check_key(const struct dlg_db *db, uint32_t i, char *err, size_t errlen)
{
	const unsigned char *k = db->keys + (size_t)i * DB_KEY_SIZE;
	const char *name = pool_str(db, get32(k + K_NAME), NULL);
	uint32_t type = get32(k + K_TYPE);
	uint32_t off = get32(k + K_DER_OFF), len = get32(k + K_DER_LEN);

	if (!name || !name[0]) {
		dlg_seterr(err, errlen, "key %u: name offset out of range or empty", i + 1);
		return -1;
	}
	if (!key_type_ok(type)) {
		dlg_seterr(err, errlen, "key %u: bad key type %u", i + 1, type);
		return -1;
	}
	if (len == 0 || len > DLG_KEY_DER_MAX || !slice_ok(off, len, db->blob_len)) {
		dlg_seterr(err, errlen, "key %u: DER %u+%u out of range (blob %u bytes, at most %d)",
			i + 1, off, len, db->blob_len, DLG_KEY_DER_MAX);
		return -1;
	}
	return 0;
}

static int check_manifest(const struct dlg_db *db, uint32_t i, char *err, size_t errlen)
{
	const unsigned char *m = db->manifests + (size_t)i * DB_MANIFEST_SIZE;
	const char *path = pool_str(db, get32(m + M_PATH), NULL);
	uint32_t key = get32(m + M_KEY);
	uint32_t off = get32(m + M_SIG_OFF), len = get32(m + M_SIG_LEN);

	if (!path || path[0] != '/') {
		dlg_seterr(err, errlen, "manifest %u: path offset out of range or not absolute", i + 1);
		return -1;
	}
	if (key >= db->n_keys) {
		dlg_seterr(err, errlen, "manifest %u: key %u out of range of %u keys", i + 1, key,
			db->n_keys);
		return -1;
	}
	if (len == 0 || len > DLG_SIG_MAX || !slice_ok(off, len, db->blob_len)) {
		dlg_seterr(err, errlen, "manifest %u: signature %u+%u out of range (blob %u bytes, "
			"at most %d)", i + 1, off, len, db->blob_len, DLG_SIG_MAX);
		return -1;
	}
	if (!slice_ok(get32(m + M_FIRST), get32(m + M_COUNT), db->n_entries)) {
		dlg_seterr(err, errlen, "manifest %u: entry slice %u+%u out of range of %u entries",
			i + 1, get32(m + M_FIRST), get32(m + M_COUNT), db->n_entries);
		return -1;
	}
	if (!reserved_zero(m + M_RESERVED, DB_MANIFEST_SIZE - M_RESERVED)) {
		dlg_seterr(err, errlen, "manifest %u: reserved field is not zero", i + 1);
		return -1;
	}
	return 0;
}

/* One index record: its key is a string of its pool hashing to the
 * recorded hash, its rule list a slice of the rule references; the records
 * are sorted by (hash, key) without repeats. */
static int check_index(const struct dlg_db *db, bool dirs, char *err, size_t errlen)
{
	const unsigned char *t = dirs ? db->dirs : db->paths;
	uint32_t n = dirs ? db->n_dirs : db->n_paths, size = dirs ? DB_DIR_SIZE : DB_PATH_SIZE;
	const char *what = dirs ? "directory index" : "path index", *prev = NULL;
	uint32_t prev_hash = 0;

	for (uint32_t i = 0; i < n; i++) {
		const unsigned char *r = t + (size_t)i * size;
		uint32_t off = get32(r + (dirs ? D_STR : P_STR)), hash = get32(r);
		size_t len = 0;
		const char *key = dirs ? dir_str(db, off, &len) : pool_str(db, off, &len);

		if (!key || (len > 0 && key[0] != '/') || (!dirs && len == 0) ||
		    (dirs && len > 0 && key[len - 1] == '/')) {
			dlg_seterr(err, errlen, "%s %u: key out of range or malformed", what, i + 1);
			return -1;
		}
		if (hash != dlg_db_hash(key, len)) {
			dlg_seterr(err, errlen, "%s %u: hash does not match its key", what, i + 1);
			return -1;
		}
		if (prev && (hash < prev_hash || (hash == prev_hash && strcmp(prev, key) >= 0))) {
			dlg_seterr(err, errlen, "%s %u: not sorted", what, i + 1);
			return -1;
		}
		if (!slice_ok(get32(r + (dirs ? D_FIRST : P_FIRST)),
			      get32(r + (dirs ? D_COUNT : P_COUNT)), db->n_rulerefs)) {
			dlg_seterr(err, errlen, "%s %u: rule slice out of range of %u rule references",
				what, i + 1, db->n_rulerefs);
			return -1;
		}
		prev = key;
		prev_hash = hash;
	}
	return 0;
}

/* A fingerprint record: times that fstat could show, a canonical path of
 * the pool, the reserved field zero; the table sorted by (ino, dev) without
 * repeats, which the lookup relies on to find the one record of an inode. */
static int check_fprint(const struct dlg_db *db, uint32_t i, char *err, size_t errlen)
{
	const unsigned char *f = db->fprints + (size_t)i * DB_FPRINT_SIZE;
	const char *path = pool_str(db, get32(f + F_PATH), NULL);

	if (get32(f + F_MTIME_NSEC) >= 1000000000u || get32(f + F_CTIME_NSEC) >= 1000000000u ||
	    get64(f + F_SIZE) > INT64_MAX) {
		dlg_seterr(err, errlen, "fingerprint %u: size or nanoseconds out of range", i + 1);
		return -1;
	}
	if (!path || path[0] != '/') {
		dlg_seterr(err, errlen, "fingerprint %u: path offset out of range or not absolute",
			i + 1);
		return -1;
	}
	if (get32(f + F_RESERVED) != 0) {
		dlg_seterr(err, errlen, "fingerprint %u: reserved field is not zero", i + 1);
		return -1;
	}
	if (i > 0) {
		const unsigned char *prev = f - DB_FPRINT_SIZE;
		uint64_t ino = get64(f + F_INO), pino = get64(prev + F_INO);

		if (ino < pino || (ino == pino && get64(f + F_DEV) <= get64(prev + F_DEV))) {
			dlg_seterr(err, errlen, "fingerprint %u: not sorted by (ino, dev), or repeated",
				i + 1);
			return -1;
		}
	}
	return 0;
}

/* Every record of the small tables and of the fingerprints; digests and
 * manifest entries are only ever read through bounds-checked lookups. */
/* Unused in the preload, which checks records when it reads them. */
static int check_boot(const struct dlg_db *db, char *err, size_t errlen);

__attribute__((unused)) static int check_records(const struct dlg_db *db, char *err,
						 size_t errlen)
{
	for (uint32_t i = 0; i < db->n_keys; i++)
		if (check_key(db, i, err, errlen))
			return -1;
	for (uint32_t i = 0; i < db->n_keyrefs; i++) {
		uint32_t k = get32(db->keyrefs + (size_t)i * DB_KEYREF_SIZE);

		if (k >= db->n_keys) {
			dlg_seterr(err, errlen, "key reference %u: key %u out of range of %u keys",
				i + 1, k, db->n_keys);
			return -1;
		}
	}
	for (uint32_t i = 0; i < db->n_manifests; i++)
		if (check_manifest(db, i, err, errlen))
			return -1;
	for (uint32_t i = 0; i < db->n_rules; i++)
		if (check_rule(db, i, err, errlen))
			return -1;
	for (uint32_t i = 0; i < db->n_rulerefs; i++) {
		uint32_t r = get32(db->rulerefs + (size_t)i * DB_RULEREF_SIZE);

		if (r >= db->n_rules) {
			dlg_seterr(err, errlen, "rule reference %u: rule %u out of range of %u rules",
				i + 1, r, db->n_rules);
			return -1;
		}
	}
	for (uint32_t i = 0; i < db->n_fprints; i++)
		if (check_fprint(db, i, err, errlen))
			return -1;
	if (check_boot(db, err, errlen))
		return -1;
	return check_index(db, true, err, errlen) || check_index(db, false, err, errlen) ? -1 : 0;
}

/* The preload checks the header and every table's bounds when it maps a
 * policy, and each record when a decision reads it (load_rule, load_key,
 * load_manifest re-check everything they use): mapping a 100,000-rule policy
 * costs the same as a 10-rule one, and a corrupt record is still never
 * trusted -- the decision that meets it denies and says so. The CLI checks
 * every record up front, so `dlguard compile` and `verify` report it. */
static int check_all_records(const struct dlg_db *db, char *err, size_t errlen)
{
#ifdef DLGUARD_IN_PRELOAD
	(void)db;
	(void)err;
	(void)errlen;
	return 0;
#else
	return check_records(db, err, errlen);
#endif
}

/* The tables, in file order. */
enum { T_DIRS, T_DIRSTR, T_RULEREFS, T_RULES, T_PATHS, T_DIGESTS, T_FPRINTS, T_BOOT,
       T_KEYS, T_KEYREFS, T_VALUES, T_MANIFESTS, T_ENTRIES, T_BLOB, T_STRINGS, T_N };

static const struct table_def {
	const char *name;
	int off_field, count_field;
	uint32_t size;
} TABLES[T_N] = {
	{ "directory index", H_DIRS_OFF, H_N_DIRS, DB_DIR_SIZE },
	{ "directory strings", H_DIRSTR_OFF, H_DIRSTR_LEN, 1 },
	{ "rule references", H_RULEREFS_OFF, H_N_RULEREFS, DB_RULEREF_SIZE },
	{ "rules", H_RULES_OFF, H_N_RULES, DB_RULE_SIZE },
	{ "path index", H_PATHS_OFF, H_N_PATHS, DB_PATH_SIZE },
	{ "digests", H_DIGESTS_OFF, H_N_DIGESTS, DB_DIGEST_SIZE },
	{ "fingerprints", H_FPRINTS_OFF, H_N_FPRINTS, DB_FPRINT_SIZE },
	{ "start-up verdicts", H_BOOT_OFF, H_N_BOOT, DB_BOOT_SIZE },
	{ "keys", H_KEYS_OFF, H_N_KEYS, DB_KEY_SIZE },
	{ "key references", H_KEYREFS_OFF, H_N_KEYREFS, DB_KEYREF_SIZE },
	{ "values", H_VALUES_OFF, H_N_VALUES, DB_VALUE_SIZE },
	{ "manifests", H_MANIFESTS_OFF, H_N_MANIFESTS, DB_MANIFEST_SIZE },
	{ "manifest entries", H_ENTRIES_OFF, H_N_ENTRIES, DB_ENTRY_SIZE },
	{ "blob", H_BLOB_OFF, H_BLOB_LEN, 1 },
	{ "strings", H_STRINGS_OFF, H_STRINGS_LEN, 1 },
};

static void not_contiguous(const uint64_t *off, const uint64_t *end, size_t len, char *err,
			   size_t errlen)
{
	size_t o;
	int n;

	if (!err || !errlen)
		return;
	n = snprintf(err, errlen, "tables not contiguous:");
	o = n < 0 ? 0 : (size_t)n;
	for (int i = 0; i < T_N && o < errlen; i++) {
		n = snprintf(err + o, errlen - o, " %s %llu-%llu,", TABLES[i].name,
			     (unsigned long long)off[i], (unsigned long long)end[i]);
		o += n < 0 ? 0 : (size_t)n;
	}
	if (o < errlen)
		snprintf(err + o, errlen - o, " file size %zu", len);
}

/* Where the tables are, from the header alone: inside the file, apart;
 * the start-up verdict table a power of two of slots, or none. */
DLG_START_TEXT static int table_bounds(const unsigned char *h, size_t len, uint64_t *off, uint64_t *end,
			uint64_t *count, char *err, size_t errlen)
{
	for (int i = 0; i < T_N; i++) {
		off[i] = get32(h + TABLES[i].off_field);
		count[i] = get32(h + TABLES[i].count_field);
		if (check_table(TABLES[i].name, off[i], count[i], TABLES[i].size, len, &end[i],
				err, errlen))
			return -1;
	}
	if (count[T_BOOT] & (count[T_BOOT] - 1)) {
		dlg_seterr(err, errlen, "start-up verdict slots (%llu) not a power of two",
			(unsigned long long)count[T_BOOT]);
		return -1;
	}
	for (int i = 0; i < T_N; i++) {
		for (int j = i + 1; j < T_N; j++) {
			if (overlap(off[i], end[i], off[j], end[j])) {
				dlg_seterr(err, errlen, "tables overlap: %s and %s", TABLES[i].name,
					TABLES[j].name);
				return -1;
			}
		}
	}
	return 0;
}

/* The writer lays the tables end to end; anything else means a count or an
 * offset changed, e.g. one bit silently dropping the last rules. */
DLG_START_TEXT static int tables_contiguous(const uint64_t *off, const uint64_t *end, size_t len, char *err,
			     size_t errlen)
{
	uint64_t at = DB_HEADER_SIZE;
	bool contiguous = true;

	for (int i = 0; i < T_N; i++) {
		contiguous &= off[i] == at;
		at = end[i];
	}
	if (!contiguous || at != len) {
		not_contiguous(off, end, len, err, errlen);
		return -1;
	}
	return 0;
}

static int check_tables(struct dlg_db *db, const unsigned char *h, size_t len,
			char *err, size_t errlen)
{
	uint64_t off[T_N], end[T_N], count[T_N];

	if (table_bounds(h, len, off, end, count, err, errlen))
		return -1;
	if (count[T_STRINGS] == 0 || h[end[T_STRINGS] - 1] != '\0' ||
	    (count[T_DIRSTR] > 0 && h[end[T_DIRSTR] - 1] != '\0')) {
		dlg_seterr(err, errlen, "string pool is not NUL-terminated");
		return -1;
	}
	if (tables_contiguous(off, end, len, err, errlen))
		return -1;
	db->n_dirs = (uint32_t)count[T_DIRS];
	db->dirs = h + off[T_DIRS];
	db->dirstr_len = (uint32_t)count[T_DIRSTR];
	db->dirstr = (const char *)h + off[T_DIRSTR];
	db->n_rulerefs = (uint32_t)count[T_RULEREFS];
	db->rulerefs = h + off[T_RULEREFS];
	db->n_paths = (uint32_t)count[T_PATHS];
	db->paths = h + off[T_PATHS];
	db->n_rules = (uint32_t)count[T_RULES];
	db->n_digests = (uint32_t)count[T_DIGESTS];
	db->n_fprints = (uint32_t)count[T_FPRINTS];
	db->fprints = h + off[T_FPRINTS];
	db->n_boot = (uint32_t)count[T_BOOT];
	db->boot = h + off[T_BOOT];
	db->n_keys = (uint32_t)count[T_KEYS];
	db->n_keyrefs = (uint32_t)count[T_KEYREFS];
	db->n_values = (uint32_t)count[T_VALUES];
	db->n_manifests = (uint32_t)count[T_MANIFESTS];
	db->n_entries = (uint32_t)count[T_ENTRIES];
	db->rules = h + off[T_RULES];
	db->digests = h + off[T_DIGESTS];
	db->keys = h + off[T_KEYS];
	db->keyrefs = h + off[T_KEYREFS];
	db->values = h + off[T_VALUES];
	db->manifests = h + off[T_MANIFESTS];
	db->entries = h + off[T_ENTRIES];
	db->blob = h + off[T_BLOB];
	db->blob_len = (uint32_t)count[T_BLOB];
	db->strings = (const char *)h + off[T_STRINGS];
	db->strings_len = (uint32_t)count[T_STRINGS];
	return 0;
}

int dlg_db_open_mem(struct dlg_db *db, const void *buf, size_t len, char *err, size_t errlen)
{
	const unsigned char *h = buf;
	struct dlg_db tmp;

	memset(db, 0, sizeof *db);
	memset(&tmp, 0, sizeof tmp);
	if (!buf) {
		dlg_seterr(err, errlen, "no data");
		return -1;
	}
	if (check_header(h, len, err, errlen) || check_tables(&tmp, h, len, err, errlen) ||
	    check_settings(&tmp, h, err, errlen) || check_all_records(&tmp, err, errlen))
		return -1;
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
		dlg_seterr(err, errlen, "%s: %s", path, errstr(errno));
		return -1;
	}
	/* fstat would pass the kernel libc's own "" (a page of libc's
	 * read-only data no start-up otherwise touches: a page fault) */
	if (fstatat(fd, "", &st, AT_EMPTY_PATH) != 0) {
		dlg_seterr(err, errlen, "%s: fstat: %s", path, errstr(errno));
		goto end;
	}
	if (st_out)
		*st_out = st;
	if (!S_ISREG(st.st_mode)) {
		dlg_seterr(err, errlen, "%s: not a regular file", path);
		goto end;
	}
	if (st.st_size <= 0 || (uint64_t)st.st_size > DB_MAX_SIZE) {
		dlg_seterr(err, errlen, "%s: size %lld out of range (1 byte to 1 GiB)", path,
			(long long)st.st_size);
		goto end;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		dlg_seterr(err, errlen, "%s: mmap: %s", path, errstr(errno));
		goto end;
	}
	if (dlg_db_open_mem(db, map, (size_t)st.st_size, why, sizeof why) != 0) {
		dlg_seterr(err, errlen, "%s: %s", path, why);
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
	uint32_t action, line, count;  /* count: digests listed */
	uint32_t kfirst, kcount;        /* signed_by slice of the key references */
	uint32_t manifest;              /* DB_NONE or a manifest index */
	uint32_t risk, recent;          /* DLG_RISK_* bits; seconds or 0 */
	uint32_t own_first, own_count;  /* owner uids in the values */
	uint32_t fs_first, fs_count;    /* fs types in the values */
	const char *path, *dir, *exe;
	size_t dir_len;
};

/* A decoded key; der lies inside the blob. */
struct key {
	const char *name;
	enum dlg_key_type type;
	const unsigned char *der;
	size_t der_len;
};

/* A decoded manifest record. */
struct manifest {
	const char *path;
	uint32_t key, first, count, sig_len;
	const unsigned char *sha256, *sig;
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
	rl->count = get32(r + R_COUNT);
	rl->kfirst = get32(r + R_KEYS_FIRST);
	rl->kcount = get32(r + R_KEYS_COUNT);
	rl->manifest = get32(r + R_MANIFEST);
	rl->risk = get32(r + R_RISK);
	rl->recent = get32(r + R_RECENT);
	rl->own_first = get32(r + R_OWN_FIRST);
	rl->own_count = get32(r + R_OWN_COUNT);
	rl->fs_first = get32(r + R_FS_FIRST);
	rl->fs_count = get32(r + R_FS_COUNT);
	rl->dir_len = 0;
	if (!action_ok(rl->action) || !slice_ok(rl->kfirst, rl->kcount, db->n_keyrefs) ||
	    (rl->manifest != DB_NONE && rl->manifest >= db->n_manifests) ||
	    !slice_ok(rl->own_first, rl->own_count, db->n_values) ||
	    !slice_ok(rl->fs_first, rl->fs_count, db->n_values))
		return false;
	rl->dir = NULL;
	if (get32(r + R_DIR) != DB_NONE && !(rl->dir = dir_str(db, get32(r + R_DIR), &rl->dir_len)))
		return false;
	return load_str(db, r, R_PATH, &rl->path, NULL) && load_str(db, r, R_EXE, &rl->exe, NULL);
}

static bool load_key(const struct dlg_db *db, uint32_t i, struct key *k)
{
	const unsigned char *r;
	uint32_t off, len, type;

	if (i >= db->n_keys)
		return false;
	r = db->keys + (size_t)i * DB_KEY_SIZE;
	type = get32(r + K_TYPE);
	off = get32(r + K_DER_OFF);
	len = get32(r + K_DER_LEN);
	k->name = pool_str(db, get32(r + K_NAME), NULL);
	if (!k->name || !key_type_ok(type) || len == 0 || !slice_ok(off, len, db->blob_len))
		return false;
	k->type = (enum dlg_key_type)type;
	k->der = db->blob + off;
	k->der_len = len;
	return true;
}

static bool load_manifest(const struct dlg_db *db, uint32_t i, struct manifest *m)
{
	const unsigned char *r;
	uint32_t off;

	if (i >= db->n_manifests)
		return false;
	r = db->manifests + (size_t)i * DB_MANIFEST_SIZE;
	m->path = pool_str(db, get32(r + M_PATH), NULL);
	m->key = get32(r + M_KEY);
	off = get32(r + M_SIG_OFF);
	m->sig_len = get32(r + M_SIG_LEN);
	m->first = get32(r + M_FIRST);
	m->count = get32(r + M_COUNT);
	m->sha256 = r + M_SHA256;
	if (!m->path || !slice_ok(off, m->sig_len, db->blob_len) ||
	    !slice_ok(m->first, m->count, db->n_entries))
		return false;
	m->sig = db->blob + off;
	return true;
}

/* Key index j of a rule's signed_by list (the slice was checked). */
static uint32_t rule_key(const struct dlg_db *db, const struct rule *rl, uint32_t j)
{
	return get32(db->keyrefs + ((size_t)rl->kfirst + j) * DB_KEYREF_SIZE);
}

/* The name of key i for messages and events; "?" if the record is bad. */
static const char *key_name(const struct dlg_db *db, uint32_t i)
{
	struct key k;

	return load_key(db, i, &k) ? k.name : "?";
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

/* ---------------------------------------------------------------- indexes */

uint32_t dlg_db_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

__extension__ typedef unsigned __int128 u128;

/* The search key of a record: a dir or path record's hash, the first 8
 * bytes of a digest. */
static uint64_t key_hash(const unsigned char *r)
{
	return get32(r);
}

static uint64_t key_ino(const unsigned char *r)
{
	return get64(r + F_INO);
}

static uint64_t key_digest(const unsigned char *r)
{
	uint64_t k = 0;

	for (int i = 0; i < 8; i++)
		k = k << 8 | r[i];
	return k;
}

/* Index of the first of n records (size bytes each) whose key is not below
 * target. The keys are hashes or digests, spread evenly, so the position is
 * interpolated first and then bracketed by galloping outwards: a lookup in
 * a table of millions touches a page or two of it, not one per halving.
 * Sortedness is the writer's promise: if it does not hold the answer is
 * wrong (a miss) but still within [0, n], and the loop still ends. */
static uint32_t seek(const unsigned char *base, uint32_t n, uint32_t size,
		     uint64_t (*key)(const unsigned char *), uint64_t target)
{
	uint32_t lo = 0, hi = n;        /* the answer is in [lo, hi] */

#define KEY(i) key(base + (size_t)(i) * size)
	if (n > 16) {
		uint64_t klo = KEY(0), khi = KEY(n - 1), step = 1;
		uint32_t pos;

		if (target <= klo)
			return 0;
		if (target > khi)
			return n;
		pos = (uint32_t)((u128)(target - klo) * (n - 1) / (khi - klo));
		if (pos >= n)
			pos = n - 1;
		if (KEY(pos) < target) {
			lo = pos + 1;
			while (pos + step < n && KEY(pos + step) < target) {
				lo = (uint32_t)(pos + step + 1);
				step *= 2;
			}
			if (pos + step < n)
				hi = (uint32_t)(pos + step);
		} else {
			hi = pos;
			while (step <= pos && KEY(pos - step) >= target) {
				hi = (uint32_t)(pos - step);
				step *= 2;
			}
			if (step <= pos)
				lo = (uint32_t)(pos - step + 1);
		}
	}
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (KEY(mid) < target)
			lo = mid + 1;
		else
			hi = mid;
	}
#undef KEY
	return lo;
}

/* memcmp(a, b, n) == 0 for the short keys of the indexes, without libc:
 * its memcmp lies on a page of its own that no start-up otherwise reads,
 * and a page fault costs more than comparing a path. */
static bool same_bytes(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/* The record of the dir (dirs true) or path index whose key is the n bytes
 * at key, or NULL. */
static const unsigned char *index_find(const struct dlg_db *db, bool dirs, const char *key,
				       size_t n, uint32_t hash)
{
	const unsigned char *t = dirs ? db->dirs : db->paths;
	uint32_t count = dirs ? db->n_dirs : db->n_paths, size = dirs ? DB_DIR_SIZE : DB_PATH_SIZE;

	for (uint32_t i = seek(t, count, size, key_hash, hash); i < count; i++) {
		const unsigned char *r = t + (size_t)i * size;
		uint32_t off = get32(r + (dirs ? D_STR : P_STR));
		size_t len;
		const char *s;

		if (get32(r) != hash)
			break;
		s = dirs ? dir_str(db, off, &len) : pool_str(db, off, &len);
		if (s && len == n && same_bytes(s, key, n))
			return r;
	}
	return NULL;
}

/* The digest records of the subject's digest, found once per decision:
 * [lo, hi), sorted by rule. */
struct drange {
	bool known;
	uint32_t lo, hi;
};

static void digest_range(const struct dlg_db *db, const unsigned char *d, struct drange *dr)
{
	uint32_t i;

	if (dr->known)
		return;
	dr->known = true;
	i = seek(db->digests, db->n_digests, DB_DIGEST_SIZE, key_digest, key_digest(d));
	for (; i < db->n_digests; i++) {
		/* records that share the first 8 bytes but sort below */
		if (memcmp(db->digests + (size_t)i * DB_DIGEST_SIZE, d, DLG_SHA256_LEN) >= 0)
			break;
	}
	dr->lo = dr->hi = i;
	while (dr->hi < db->n_digests &&
	       memcmp(db->digests + (size_t)dr->hi * DB_DIGEST_SIZE, d, DLG_SHA256_LEN) == 0)
		dr->hi++;
}

static uint32_t digest_rule(const struct dlg_db *db, uint32_t i)
{
	return get32(db->digests + (size_t)i * DB_DIGEST_SIZE + G_RULE);
}

/* Whether rule `rule` lists the subject's digest (binary search of the
 * range, which is sorted by rule). */
static bool digest_listed(const struct dlg_db *db, const struct drange *dr, uint32_t rule)
{
	uint32_t lo = dr->lo, hi = dr->hi;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2, r = digest_rule(db, mid);

		if (r == rule)
			return true;
		if (r < rule)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* The path of manifest entry e; "" when its offset is bad (then it matches
 * no absolute path, and the search stays in bounds). */
static const char *entry_path(const struct dlg_db *db, uint32_t e)
{
	const char *s = pool_str(db, get32(db->entries + (size_t)e * DB_ENTRY_SIZE + E_PATH), NULL);

	return s ? s : "";
}

/* First entry of the slice whose path is not below path (entries are
 * sorted by path, then digest): O(log n). */
static uint32_t entry_lower_bound(const struct dlg_db *db, const struct manifest *m,
				  const char *path)
{
	uint32_t lo = 0, hi = m->count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (strcmp(entry_path(db, m->first + mid), path) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
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

/* What a signature or manifest condition found, ranked by how much it
 * tells: when no rule matches, the highest-ranked failure is reported. */
enum ev_rank {
	EV_NONE,
	EV_NOT_LISTED,          /* manifest: the path is not in it */
	EV_MISSING,             /* no .sig file */
	EV_MISMATCH,            /* manifest: listed with another digest */
	EV_UNREADABLE,          /* .sig is a FIFO, too large, unreadable */
	EV_ERROR,               /* the check itself failed (libcrypto, I/O) */
	EV_INVALID,             /* no key of the policy verifies it */
	EV_UNTRUSTED,           /* another key of the policy verifies it */
	EV_TRUSTED,
};

static const char *const EV_STATUS[] = {
	"", "not listed", "missing", "hash mismatch", "unreadable", "error", "invalid",
	"untrusted key", "trusted",
};

struct evidence {
	enum ev_rank rank;
	bool exists, valid;
	uint32_t key;           /* the key that verified (trusted or not), or DB_NONE */
	char detail[200];       /* "signature: missing /x.so.sig", for reasons */
};

static void ev_set(struct evidence *ev, enum ev_rank rank, bool exists, bool valid,
		   uint32_t key, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void ev_set(struct evidence *ev, enum ev_rank rank, bool exists, bool valid,
		   uint32_t key, const char *fmt, ...)
{
	va_list ap;
	int n;

	ev->rank = rank;
	ev->exists = exists;
	ev->valid = valid;
	ev->key = key;
	va_start(ap, fmt);
	n = vsnprintf(ev->detail, sizeof ev->detail, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof ev->detail)
		memcpy(ev->detail + sizeof ev->detail - 4, "...", 4);
}

static void ev_keep_best(struct evidence *best, const struct evidence *ev)
{
	if (ev->rank > best->rank)
		*best = *ev;
}

/* The subject's dll.code_signature.* fields. */
static void put_evidence(const struct dlg_db *db, struct dlg_subject *s,
			 const struct evidence *ev)
{
	s->sig_checked = true;
	s->sig_exists = ev->exists;
	s->sig_valid = ev->valid;
	s->sig_trusted = ev->rank == EV_TRUSTED;
	snprintf(s->sig_status, sizeof s->sig_status, "%s", EV_STATUS[ev->rank]);
	snprintf(s->sig_key, sizeof s->sig_key, "%s",
		 ev->key == DB_NONE ? "" : key_name(db, ev->key));
}

/* Verification results per signature file and key, so several signed_by
 * rules on one subject read the library once per key at most. */
#define MEMO_KEYS 32
enum { MEMO_UNKNOWN, MEMO_VALID, MEMO_INVALID, MEMO_ERROR };

struct sig_memo {
	unsigned char res[2][MEMO_KEYS];
	char err[96];           /* why the last check could not be made */
};

static enum dlg_sig_result verify_key(const struct dlg_db *db, struct sig_memo *memo, int c,
				      uint32_t k, int fd, const unsigned char *sig,
				      size_t sig_len)
{
	static const enum dlg_sig_result from_memo[] = {
		DLG_SIG_ERROR, DLG_SIG_VALID, DLG_SIG_INVALID, DLG_SIG_ERROR,
	};
	enum dlg_sig_result r;
	struct key key;

	if (k < MEMO_KEYS && memo->res[c][k] != MEMO_UNKNOWN)
		return from_memo[memo->res[c][k]];
	if (!load_key(db, k, &key)) {
		snprintf(memo->err, sizeof memo->err, "compiled policy changed while mapped");
		return DLG_SIG_ERROR;
	}
	r = dlg_sig_verify_fd(fd, sig, sig_len, key.der, key.der_len, key.type, memo->err,
			      sizeof memo->err);
	if (k < MEMO_KEYS)
		memo->res[c][k] = r == DLG_SIG_VALID ? MEMO_VALID
				  : r == DLG_SIG_INVALID ? MEMO_INVALID : MEMO_ERROR;
	return r;
}

static bool rule_lists(const struct dlg_db *db, const struct rule *rl, uint32_t k)
{
	for (uint32_t j = 0; j < rl->kcount; j++)
		if (rule_key(db, rl, j) == k)
			return true;
	return false;
}

/* One signature file: trusted when a key of the rule verifies it; else
 * "untrusted key" when another key of the policy does; else invalid, or
 * error when no check could be made at all. */
static void sig_file_eval(const struct dlg_db *db, const struct rule *rl, uint32_t index,
			  const struct dlg_subject *s, struct sig_memo *memo, int c,
			  const char *path, unsigned char *sig, struct evidence *ev)
{
	bool invalid = false;
	size_t len = 0;
	char err[128];

	err[0] = '\0';
	if (dlg_sig_read_file(path, sig, DLG_SIG_MAX, &len, err, sizeof err) != 0) {
		if (strcmp(err, DLG_SIG_REASON_MISSING) == 0)
			ev_set(ev, EV_MISSING, false, false, DB_NONE, "signature: missing %s", path);
		else
			ev_set(ev, EV_UNREADABLE, true, false, DB_NONE,
			       "signature: unreadable %s (%s)", path, err);
		return;
	}
	for (uint32_t j = 0; j < rl->kcount; j++) {
		uint32_t k = rule_key(db, rl, j);
		enum dlg_sig_result r = verify_key(db, memo, c, k, s->fd, sig, len);

		if (r == DLG_SIG_VALID) {
			ev_set(ev, EV_TRUSTED, true, true, k, "signature: trusted %s", path);
			return;
		}
		invalid |= r == DLG_SIG_INVALID;
	}
	for (uint32_t k = 0; k < db->n_keys; k++) {
		if (rule_lists(db, rl, k))
			continue;
		if (verify_key(db, memo, c, k, s->fd, sig, len) == DLG_SIG_VALID) {
			ev_set(ev, EV_UNTRUSTED, true, true, k,
			       "signature: key %s, which rule %u does not trust, signed %s",
			       key_name(db, k), index + 1, path);
			return;
		}
	}
	if (invalid)
		ev_set(ev, EV_INVALID, true, false, DB_NONE,
		       "signature: invalid %s (no key of rule %u verifies it)", path, index + 1);
	else
		ev_set(ev, EV_ERROR, true, false, DB_NONE, "signature: cannot check %s (%s)",
		       path, memo->err);
}

/* <path>.sig (c = 0) or <signatures.dir><path>.sig (c = 1); false when
 * there is no such candidate. */
static bool sig_path(const struct dlg_db *db, const char *path, int c, char *out, size_t len,
		     bool *too_long)
{
	int n;

	*too_long = false;
	if (c == 1 && (!db->sig_dir || strcmp(db->sig_dir, "/") == 0))
		return false;
	n = snprintf(out, len, "%s%s.sig", c == 1 ? db->sig_dir : "", path);
	*too_long = n < 0 || (size_t)n >= len;
	return true;
}

/* The signature condition of one rule. Kept out of line: its buffers (a
 * path and a signature, 8 KiB) are only on the stack while it runs, and
 * only for rules that need them. */
__attribute__((noinline))
static void sig_eval(const struct dlg_db *db, const struct rule *rl, uint32_t index,
		     const struct dlg_subject *s, struct sig_memo *memo, struct evidence *best)
{
	unsigned char sig[DLG_SIG_MAX];
	char path[PATH_MAX];
	struct evidence ev;
	bool too_long;

	best->rank = EV_NONE;
	for (int c = 0; c < 2 && best->rank != EV_TRUSTED; c++) {
		if (!sig_path(db, s->path, c, path, sizeof path, &too_long))
			break;
		if (too_long)
			ev_set(&ev, EV_UNREADABLE, false, false, DB_NONE,
			       "signature: name too long for %s", s->path);
		else
			sig_file_eval(db, rl, index, s, memo, c, path, sig, &ev);
		ev_keep_best(best, &ev);
	}
}

enum cond { COND_MATCH, COND_NO_MATCH, COND_HASH_FAILED, COND_FACT_FAILED };

/* ------------------------------------------------------- risk conditions */

enum { RISK_FACT_STAT = 1u, RISK_FACT_FS = 2u, RISK_FACT_WALK = 4u, RISK_FACT_CLOCK = 8u };

/* Directories above a file examined by writable, at most: a deeper path is
 * a fact that cannot be known (and denies), not an unbounded walk. */
#define WALK_MAX_DEPTH 64

static void fact_fail(struct dlg_subject *s, unsigned bit, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fact_fail(struct dlg_subject *s, unsigned bit, const char *fmt, ...)
{
	va_list ap;

	s->risk.failed |= bit;
	va_start(ap, fmt);
	vsnprintf(s->risk.err, sizeof s->risk.err, fmt, ap);   /* a cut message is fine */
	va_end(ap);
}

/* fstat of the subject's fd, once per subject. */
static bool subject_stat(struct dlg_subject *s)
{
	struct dlg_risk_facts *f = &s->risk;

	if (f->have & RISK_FACT_STAT)
		return true;
	if (f->failed & RISK_FACT_STAT)
		return false;
	if (s->fd < 0) {
		fact_fail(s, RISK_FACT_STAT, "no file descriptor");
		return false;
	}
	if (fstat(s->fd, &f->st) != 0) {
		fact_fail(s, RISK_FACT_STAT, "fstat: %s", errstr(errno));
		return false;
	}
	f->have |= RISK_FACT_STAT;
	return true;
}

/* Whether fstat shows exactly what fingerprint record f recorded. */
DLG_START_TEXT static bool fprint_same(const unsigned char *f, const struct stat *st)
{
	return get64(f + F_DEV) == (uint64_t)st->st_dev &&
	       get64(f + F_INO) == (uint64_t)st->st_ino &&
	       get64(f + F_SIZE) == (uint64_t)st->st_size &&
	       get64(f + F_MTIME) == (uint64_t)(int64_t)st->st_mtim.tv_sec &&
	       get32(f + F_MTIME_NSEC) == (uint64_t)st->st_mtim.tv_nsec &&
	       get64(f + F_CTIME) == (uint64_t)(int64_t)st->st_ctim.tv_sec &&
	       get32(f + F_CTIME_NSEC) == (uint64_t)st->st_ctim.tv_nsec;
}

/* ------------------------------------------------------ start-up verdicts */

/* The fingerprint part of a start-up verdict slot is laid out as a
 * fingerprint record's, so fprint_same compares both. */
_Static_assert((int)B_DEV == (int)F_DEV && (int)B_INO == (int)F_INO &&
	       (int)B_SIZE == (int)F_SIZE && (int)B_MTIME == (int)F_MTIME &&
	       (int)B_CTIME == (int)F_CTIME && (int)B_MTIME_NSEC == (int)F_MTIME_NSEC &&
	       (int)B_CTIME_NSEC == (int)F_CTIME_NSEC && (int)B_NAME == DLG_DB_BOOT_FP,
	       "start-up verdict layout");

/* 64-bit FNV-1a of the name: its home slot is the hash modulo the slots. */
DLG_START_TEXT static uint64_t boot_hash(const char *name, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)name[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* strlen and memcmp without libc: in the preload these run at every
 * process start, where a libc page not otherwise touched is a page fault. */
DLG_START_TEXT static size_t boot_name_len(const char *name)
{
	size_t n = 0;

	while (n < B_NAME_ROOM && name[n])
		n++;
	return n;
}

DLG_START_TEXT static bool boot_slot_names(const unsigned char *slot, const char *name, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (slot[B_NAME + i] != (unsigned char)name[i])
			return false;
	return slot[B_NAME + len] == '\0';
}

typedef int (*boot_reader)(const void *src, uint64_t off, unsigned char *buf, size_t len);

DLG_START_TEXT static int read_fd_at(const void *src, uint64_t off, unsigned char *buf,
				     size_t len)
{
	ssize_t n;

	do
		n = raw_pread(*(const int *)src, buf, len, (off_t)off);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? 0 : -1;
}

static int boot_read_mem(const void *src, uint64_t off, unsigned char *buf, size_t len)
{
	memcpy(buf, (const unsigned char *)src + off, len);
	return 0;
}

/* Linear probing from the name's home slot, up to four slots per read,
 * until the name or an empty slot: copies the name's fingerprint into fp
 * and returns its slot number + 1, or 0 when absent, -1 on a read error.
 * Never more than n_slots slots, so a table without an empty slot ends. */
DLG_START_TEXT static int64_t boot_probe(boot_reader rd, const void *src, uint64_t table, uint32_t n_slots,
			  const char *name, unsigned char *fp)
{
	unsigned char buf[4 * DB_BOOT_SIZE];
	size_t len = boot_name_len(name);
	uint32_t mask = n_slots - 1, at, seen = 0;

	if (n_slots == 0 || (n_slots & mask) || len == 0 || len >= B_NAME_ROOM)
		return 0;
	at = (uint32_t)(boot_hash(name, len) & mask);
	while (seen < n_slots) {
		uint32_t k = n_slots - at < 4 ? n_slots - at : 4;

		if (k > n_slots - seen)
			k = n_slots - seen;
		if (rd(src, table + (uint64_t)at * DB_BOOT_SIZE, buf, k * DB_BOOT_SIZE))
			return -1;
		for (uint32_t j = 0; j < k; j++) {
			const unsigned char *slot = buf + (size_t)j * DB_BOOT_SIZE;

			if (slot[B_NAME] == '\0')
				return 0;
			if (boot_slot_names(slot, name, len)) {
				memcpy(fp, slot, DLG_DB_BOOT_FP);
				return (int64_t)at + j + 1;
			}
		}
		seen += k;
		at = (at + k) & mask;
	}
	return 0;
}

DLG_START_TEXT int dlg_db_boot_find_fd(int fd, const struct dlg_db_head *head, const char *name,
			unsigned char fp[DLG_DB_BOOT_FP])
{
	int64_t r = boot_probe(read_fd_at, &fd, head->boot_off, head->n_boot, name, fp);

	return r < 0 ? -1 : r > 0;
}

DLG_START_TEXT bool dlg_db_boot_same(const unsigned char fp[DLG_DB_BOOT_FP], const struct stat *st)
{
	return S_ISREG(st->st_mode) && fprint_same(fp, st);
}

bool dlg_db_boot_allows(const struct dlg_db *db, const char *name, const struct stat *st)
{
	unsigned char fp[DLG_DB_BOOT_FP];

	return db->n_boot > 0 &&
	       boot_probe(boot_read_mem, db->boot, 0, db->n_boot, name, fp) > 0 &&
	       dlg_db_boot_same(fp, st);
}

DLG_START_TEXT void dlg_db_head_options(struct dlg_db_head *head, const struct dlg_db *db)
{
	head->mode = db->mode;
	head->startup = db->startup;
	head->deny_untrusted_preload = db->deny_untrusted_preload;
	head->env_strip = db->env_strip;
}

bool dlg_db_boot_slot(const struct dlg_db *db, uint32_t i, const char **name,
		      unsigned char fp[DLG_DB_BOOT_FP])
{
	const unsigned char *slot = db->boot + (size_t)i * DB_BOOT_SIZE;

	if (i >= db->n_boot || slot[B_NAME] == '\0' || slot[DB_BOOT_SIZE - 1] != '\0')
		return false;
	*name = (const char *)slot + B_NAME;
	memcpy(fp, slot, DLG_DB_BOOT_FP);
	return true;
}

DLG_START_TEXT int dlg_db_peek(int fd, const struct stat *st, struct dlg_db_head *head, char *err,
		size_t errlen)
{
	unsigned char h[DB_HEADER_SIZE];
	uint64_t off[T_N], end[T_N], count[T_N];
	struct dlg_db tmp;
	size_t n;

	uint64_t size;

	memset(head, 0, sizeof *head);
	if (!st) {
		/* the size the header claims; a shorter file makes a later pread
		 * short, which the caller treats as a failed lookup */
		if (read_fd_at(&fd, 0, h, sizeof h) != 0) {
			dlg_seterr(err, errlen, "read: failed or short (not a compiled policy?)");
			return -1;
		}
		size = get64(h + H_FILE_SIZE);
		n = sizeof h;
	} else {
		size = st->st_size > 0 && S_ISREG(st->st_mode) ? (uint64_t)st->st_size : 0;
	}
	if (size == 0 || size > DB_MAX_SIZE) {
		dlg_seterr(err, errlen, "not a regular file of 1 byte to 1 GiB");
		return -1;
	}
	if (st) {
		/* a file shorter than the header is read whole, for check_header to say so */
		n = size < sizeof h ? (size_t)size : sizeof h;
		if (read_fd_at(&fd, 0, h, n) != 0) {
			dlg_seterr(err, errlen, "read: failed or short (file changed?)");
			return -1;
		}
	}
	if (check_header(h, n < sizeof h ? n : (size_t)size, err, errlen) ||
	    table_bounds(h, (size_t)size, off, end, count, err, errlen) ||
	    tables_contiguous(off, end, (size_t)size, err, errlen) ||
	    check_options(&tmp, h, err, errlen))
		return -1;
	dlg_db_head_options(head, &tmp);
	head->n_boot = (uint32_t)count[T_BOOT];
	head->boot_off = off[T_BOOT];
	return 0;
}

/* Every slot: empty and all zero, or a name (absolute, NUL-terminated,
 * zero-padded) and a fingerprint fstat could show, found by a lookup of its
 * name exactly there (so neither repeated nor cut off by an empty slot). */
static int check_boot(const struct dlg_db *db, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < db->n_boot; i++) {
		const unsigned char *slot = db->boot + (size_t)i * DB_BOOT_SIZE;
		const char *name = (const char *)slot + B_NAME;
		unsigned char fp[DLG_DB_BOOT_FP];
		size_t len = boot_name_len(name);
		bool empty = slot[B_NAME] == '\0';

		for (size_t j = empty ? 0 : B_NAME + len; j < DB_BOOT_SIZE; j++) {
			if (slot[j] != 0) {
				dlg_seterr(err, errlen, "start-up verdict slot %u: %s", i + 1,
					empty ? "empty but not zero" : "name not NUL-padded");
				return -1;
			}
		}
		if (empty)
			continue;
		if (name[0] != '/' || get32(slot + B_MTIME_NSEC) >= 1000000000u ||
		    get32(slot + B_CTIME_NSEC) >= 1000000000u || get64(slot + B_SIZE) > INT64_MAX) {
			dlg_seterr(err, errlen, "start-up verdict slot %u: name not absolute, or size "
				"or nanoseconds out of range", i + 1);
			return -1;
		}
		if (boot_probe(boot_read_mem, db->boot, 0, db->n_boot, name, fp) != (int64_t)i + 1) {
			dlg_seterr(err, errlen, "start-up verdict slot %u: %s not found there by its "
				"hash (repeated, or misplaced)", i + 1, name);
			return -1;
		}
	}
	return 0;
}

/* The digest the policy recorded for the file whose fstat is st, open
 * under the canonical path, when the record of its (ino, dev) shows the
 * same size, mtime and ctime and names the same path; else NULL. seek()
 * finds that one record in a page or two of the table, without reading the
 * file or loading libcrypto. Bytes changed under the mapping can only make
 * it miss (or name a digest, which the rules then judge as ever). */
static const unsigned char *fprint_digest(const struct dlg_db *db, const struct stat *st,
					  const char *path)
{
	uint64_t ino = (uint64_t)st->st_ino;
	uint32_t i = seek(db->fprints, db->n_fprints, DB_FPRINT_SIZE, key_ino, ino);

	for (; i < db->n_fprints; i++) {
		const unsigned char *f = db->fprints + (size_t)i * DB_FPRINT_SIZE;
		const char *p;

		if (get64(f + F_INO) != ino)
			break;
		if (get64(f + F_DEV) != (uint64_t)st->st_dev)
			continue;
		if (!fprint_same(f, st))
			break;
		p = pool_str(db, get32(f + F_PATH), NULL);
		return p && strcmp(p, path) == 0 ? f + F_SHA256 : NULL;
	}
	return NULL;
}

/* The subject's digest, once per subject: from this policy's fingerprint
 * when fstat of s->fd matches one, else by hashing s->fd. A digest another
 * policy's fingerprint gave is not taken here: that policy vouched for it,
 * not this one (an environment policy is the user's, and may only tighten).
 * 0 on success, -1 with err filled. */
static int subject_hash(const struct dlg_db *db, struct dlg_subject *s, char *err,
			size_t errlen)
{
	const unsigned char *d;

	if (s->have_sha256 && (!s->sha256_fingerprint || s->sha256_db == db->base))
		return 0;
	if (s->fd < 0) {
		dlg_seterr(err, errlen, "no file descriptor");
		return -1;
	}
	if (db->n_fprints > 0 && subject_stat(s) &&
	    (d = fprint_digest(db, &s->risk.st, s->path)) != NULL) {
		memcpy(s->sha256, d, DLG_SHA256_LEN);
		s->have_sha256 = true;
		s->sha256_fingerprint = true;
		s->sha256_db = db->base;
		return 0;
	}
	if (dlg_sha256_fd(s->fd, s->sha256, err, errlen) != 0)
		return -1;
	s->have_sha256 = true;
	s->sha256_fingerprint = false;
	s->sha256_db = NULL;
	return 0;
}

static bool subject_fs(struct dlg_subject *s)
{
	struct dlg_risk_facts *f = &s->risk;
	struct statfs sfs;

	if (f->have & RISK_FACT_FS)
		return true;
	if (f->failed & RISK_FACT_FS)
		return false;
	if (s->fd < 0) {
		fact_fail(s, RISK_FACT_FS, "no file descriptor");
		return false;
	}
	if (fstatfs(s->fd, &sfs) != 0) {
		fact_fail(s, RISK_FACT_FS, "fstatfs: %s", errstr(errno));
		return false;
	}
	/* f_type is a long; every magic number fits 32 bits. */
	f->fs_type = (uint32_t)sfs.f_type;
	f->have |= RISK_FACT_FS;
	return true;
}

/* What the canonical name alone says: the kernel names a memfd
 * "/memfd:NAME (deleted)" and an unlinked file "PATH (deleted)"; nothing
 * under /proc or /dev/shm is a library installed on disk. */
static const char *fileless_by_name(const char *path)
{
	size_t n = strlen(path);
	static const char deleted[] = " (deleted)";

	if (strncmp(path, "/memfd:", 7) == 0)
		return "memfd";
	if (n >= sizeof deleted - 1 && strcmp(path + n - (sizeof deleted - 1), deleted) == 0)
		return "deleted";
	if (strncmp(path, "/proc/", 6) == 0)
		return "/proc";
	if (strncmp(path, "/dev/shm/", 9) == 0)
		return "/dev/shm";
	return NULL;
}

/* Fills kind with what makes the subject fileless; NULL when it is not. */
static enum cond fileless_eval(struct dlg_subject *s, const char **kind)
{
	*kind = fileless_by_name(s->path);
	if (*kind)
		return COND_MATCH;
	if (!subject_stat(s))
		return COND_FACT_FAILED;
	if (s->risk.st.st_nlink == 0) {
		*kind = "deleted";
		return COND_MATCH;
	}
	return COND_NO_MATCH;
}

static bool value_in(const struct dlg_db *db, uint32_t first, uint32_t count, uint32_t v)
{
	for (uint32_t j = 0; j < count; j++)
		if (get32(db->values + ((size_t)first + j) * DB_VALUE_SIZE) == v)
			return true;
	return false;
}

/* The subject's time, or the clock's; false when there is none. */
static bool subject_now(const struct dlg_subject *s, time_t *now)
{
	struct timespec ts;

	*now = s->now;
	if (s->now)
		return true;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return false;
	*now = ts.tv_sec;
	return true;
}

/* Seconds since the file changed (st_ctime: a file's owner can set st_mtime
 * with touch, not this); negative when the change time is in the future. */
static int64_t subject_age(const struct dlg_subject *s, time_t now)
{
	return (int64_t)now - (int64_t)s->risk.st.st_ctim.tv_sec;
}

/* One directory above the file: writable by someone other than root and
 * the file's owner? Sticky world-writable directories (/tmp) count: others
 * cannot rename over the file there, but can add files next to it. */
static bool dir_writable(struct dlg_subject *s, const char *dir, const struct stat *st)
{
	struct dlg_risk_facts *f = &s->risk;
	mode_t w = st->st_mode & (S_IWGRP | S_IWOTH);

	if (w) {
		snprintf(f->writable_why, sizeof f->writable_why, "%s is writable by %s%s", dir,
			 w == S_IWGRP ? "its group" : w == S_IWOTH ? "others" : "group and others",
			 st->st_mode & S_ISVTX ? " (sticky)" : "");
		return true;
	}
	if (st->st_uid != 0 && st->st_uid != f->st.st_uid) {
		snprintf(f->writable_why, sizeof f->writable_why, "%s is owned by uid %u", dir,
			 (unsigned)st->st_uid);
		return true;
	}
	return false;
}

/* Each directory above the canonical path, up to "/" (lstat: a component
 * that is no longer a directory means the path changed: unknowable). Kept
 * out of line: its path buffer is only on the stack while it runs. */
__attribute__((noinline))
static bool subject_walk(struct dlg_subject *s)
{
	struct dlg_risk_facts *f = &s->risk;
	char dir[PATH_MAX];
	size_t n = strlen(s->path);

	if (f->have & RISK_FACT_WALK)
		return true;
	if (f->failed & RISK_FACT_WALK)
		return false;
	if (s->path[0] != '/' || n >= sizeof dir) {
		fact_fail(s, RISK_FACT_WALK, "%s", s->path[0] != '/' ? "path is not absolute"
			  : "path too long");
		return false;
	}
	memcpy(dir, s->path, n + 1);
	f->writable = false;
	for (int depth = 1; !f->writable; depth++) {
		char *slash = strrchr(dir, '/');
		struct stat st;

		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (depth > WALK_MAX_DEPTH) {
			fact_fail(s, RISK_FACT_WALK, "more than %d directories above the file",
				  WALK_MAX_DEPTH);
			return false;
		}
		if (lstat(dir, &st) != 0) {
			fact_fail(s, RISK_FACT_WALK, "lstat %s: %s", dir, errstr(errno));
			return false;
		}
		if (!S_ISDIR(st.st_mode)) {
			fact_fail(s, RISK_FACT_WALK, "%s is not a directory", dir);
			return false;
		}
		f->writable = dir_writable(s, dir, &st);
		if (strcmp(dir, "/") == 0)
			break;
	}
	f->have |= RISK_FACT_WALK;
	return true;
}

/* The file itself first (its fstat is at hand), then the walk. */
static enum cond writable_eval(struct dlg_subject *s, bool walk)
{
	struct dlg_risk_facts *f = &s->risk;
	mode_t w;

	if (!subject_stat(s))
		return COND_FACT_FAILED;
	w = f->st.st_mode & (S_IWGRP | S_IWOTH);
	if (w) {
		snprintf(f->writable_why, sizeof f->writable_why, "the file is writable by %s",
			 w == S_IWGRP ? "its group" : w == S_IWOTH ? "others" : "group and others");
		return COND_MATCH;
	}
	if (!walk)
		return COND_NO_MATCH;   /* not known yet: the caller walks later */
	if (!subject_walk(s))
		return COND_FACT_FAILED;
	return f->writable ? COND_MATCH : COND_NO_MATCH;
}

/* The rule's risk conditions, cheapest first: what one fstat answers
 * (fileless, owner, recent, the file's own mode), then one fstatfs (fs),
 * then the walk above the file (writable). what names the condition whose
 * fact could not be known. */
static enum cond risk_eval(const struct dlg_db *db, const struct rule *rl,
			   struct dlg_subject *s, const char **what)
{
	const char *kind;
	enum cond c;
	bool walk = false;
	time_t now;

	*what = NULL;
	if (rl->risk & DLG_RISK_FILELESS) {
		*what = "fileless";
		if ((c = fileless_eval(s, &kind)) != COND_MATCH)
			return c;
	}
	if (rl->own_count || rl->recent) {
		*what = rl->own_count ? "owner" : "recent";
		if (!subject_stat(s))
			return COND_FACT_FAILED;
		if (rl->own_count && !value_in(db, rl->own_first, rl->own_count, s->risk.st.st_uid))
			return COND_NO_MATCH;
		s->risk_volatile |= rl->recent != 0;
		if (rl->recent && !subject_now(s, &now)) {
			fact_fail(s, RISK_FACT_CLOCK, "clock_gettime: %s", errstr(errno));
			return COND_FACT_FAILED;
		}
		/* a change time in the future counts as recent */
		if (rl->recent && subject_age(s, now) >= (int64_t)rl->recent)
			return COND_NO_MATCH;
	}
	if (rl->risk & DLG_RISK_WRITABLE) {
		*what = "writable";
		c = writable_eval(s, false);
		if (c == COND_FACT_FAILED)
			return c;
		walk = c == COND_NO_MATCH;
	}
	if (rl->fs_count) {
		*what = "fs";
		if (!subject_fs(s))
			return COND_FACT_FAILED;
		if (!value_in(db, rl->fs_first, rl->fs_count, s->risk.fs_type))
			return COND_NO_MATCH;
	}
	if (walk) {
		*what = "writable";
		s->risk_volatile = true;
		return writable_eval(s, true);
	}
	return COND_MATCH;
}

/* The risk part of a matching rule's reason. */
static void risk_text(struct text *t, const struct rule *rl, const struct dlg_subject *s)
{
	const char *kind, *fs;
	time_t now;

	if (rl->risk & DLG_RISK_FILELESS) {
		kind = fileless_by_name(s->path);
		text_add(t, " fileless (%s)", kind ? kind : "deleted");
	}
	if (rl->own_count)
		text_add(t, " owner uid %u", (unsigned)s->risk.st.st_uid);
	if (rl->fs_count) {
		fs = dlg_fs_name(s->risk.fs_type);
		if (fs)
			text_add(t, " fs %s", fs);
		else
			text_add(t, " fs 0x%x", (unsigned)s->risk.fs_type);
	}
	if (rl->recent && subject_now(s, &now) && subject_age(s, now) >= 0)
		text_add(t, " recent (changed %lld s ago)", (long long)subject_age(s, now));
	else if (rl->recent)
		text_add(t, " recent (changed in the future)");
	if (rl->risk & DLG_RISK_WRITABLE)
		text_add(t, " writable (%s)", s->risk.writable_why);
}

/* The manifest condition: the canonical path listed with this content.
 * The path is looked up first so an unlisted file is never hashed. */
static enum cond manifest_eval(const struct dlg_db *db, const struct rule *rl,
			       struct dlg_subject *s, struct evidence *ev, char *herr,
			       size_t herrlen)
{
	struct manifest m;
	uint32_t e;

	if (!load_manifest(db, rl->manifest, &m)) {
		ev_set(ev, EV_ERROR, false, false, DB_NONE, "manifest: compiled policy changed "
		       "while mapped");
		return COND_NO_MATCH;
	}
	e = entry_lower_bound(db, &m, s->path);
	if (e >= m.count || strcmp(entry_path(db, m.first + e), s->path) != 0) {
		ev_set(ev, EV_NOT_LISTED, false, false, DB_NONE, "manifest: not listed in %s",
		       m.path);
		return COND_NO_MATCH;
	}
	if (subject_hash(db, s, herr, herrlen) != 0)
		return COND_HASH_FAILED;
	for (; e < m.count && strcmp(entry_path(db, m.first + e), s->path) == 0; e++) {
		const unsigned char *d = db->entries + ((size_t)m.first + e) * DB_ENTRY_SIZE + E_SHA256;

		if (memcmp(d, s->sha256, DLG_SHA256_LEN) == 0) {
			ev_set(ev, EV_TRUSTED, true, true, m.key < db->n_keys ? m.key : DB_NONE,
			       "manifest: listed in %s", m.path);
			return COND_MATCH;
		}
	}
	ev_set(ev, EV_MISMATCH, true, false, DB_NONE, "manifest: sha256 differs from %s",
	       m.path);
	return COND_NO_MATCH;
}

static enum dlg_action verdict_rule(struct dlg_verdict *v, const struct dlg_db *db,
				    uint32_t index, const struct rule *rl,
				    const struct dlg_subject *s, const struct evidence *ev)
{
	struct manifest m;
	struct text t;

	v->action = (enum dlg_action)rl->action;
	v->rule = index + 1;
	v->line = rl->line;
	if (s->quiet_allow && v->action == DLG_ACTION_ALLOW) {
		v->reason[0] = '\0';
		return v->action;
	}
	text_init(&t, v->reason, sizeof v->reason);
	text_add(&t, "rule %u (line %u): %s", index + 1, rl->line, action_name(v->action));
	if (rl->path)
		text_add(&t, " path %s", rl->path);
	if (rl->dir)
		text_add(&t, " dir %s", rl->dir);
	if (rl->exe)
		text_add(&t, " exe %s", rl->exe);
	risk_text(&t, rl, s);
	if (rl->count > 0)
		text_add(&t, " sha256 matches");
	if (rl->manifest != DB_NONE && load_manifest(db, rl->manifest, &m))
		text_add(&t, " manifest %s lists it", m.path);
	else if (rl->kcount > 0 && ev && ev->key != DB_NONE)
		text_add(&t, " signed by %s", key_name(db, ev->key));
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

static enum dlg_action verdict_default(struct dlg_verdict *v, const struct dlg_db *db,
				       const struct dlg_subject *s, const struct evidence *best)
{
	struct text t;

	v->action = db->default_action;
	v->rule = 0;
	v->line = 0;
	if (s->quiet_allow && v->action == DLG_ACTION_ALLOW) {
		v->reason[0] = '\0';
		return v->action;
	}
	text_init(&t, v->reason, sizeof v->reason);
	text_add(&t, "no rule matched; default %s", action_name(db->default_action));
	if (best->rank != EV_NONE)
		text_add(&t, " (%s)", best->detail);
	return v->action;
}

/* The content conditions of a rule whose path/dir/exe hold: digest, then
 * manifest, then signature. ev receives what a signature or manifest
 * condition found (rank EV_NONE when the rule has neither). */
static enum cond content_eval(const struct dlg_db *db, const struct rule *rl, uint32_t index,
			      struct dlg_subject *s, struct sig_memo *memo, struct drange *dr,
			      struct evidence *ev, char *herr, size_t herrlen)
{
	ev->rank = EV_NONE;
	if (rl->count > 0) {
		if (subject_hash(db, s, herr, herrlen) != 0)
			return COND_HASH_FAILED;
		digest_range(db, s->sha256, dr);
		if (!digest_listed(db, dr, index))
			return COND_NO_MATCH;
	}
	if (rl->manifest != DB_NONE)
		return manifest_eval(db, rl, s, ev, herr, herrlen);
	if (rl->kcount > 0) {
		sig_eval(db, rl, index, s, memo, ev);
		return ev->rank == EV_TRUSTED ? COND_MATCH : COND_NO_MATCH;
	}
	return COND_MATCH;
}

/* The subject's executable, looked up on first need. */
static const char *subject_exe(struct dlg_subject *s)
{
	if (!s->exe && s->exe_lookup) {
		s->exe = s->exe_lookup();
		s->exe_lookup = NULL;
	}
	return s->exe;
}

/* What one decision carries from rule to rule. */
struct decision {
	struct evidence best;           /* most informative failed evidence */
	struct sig_memo memo;
	struct drange dr;
	char herr[HASH_ERR_LEN];
};

enum step { STEP_NEXT, STEP_DONE };

/* Rule i in the order of the policy: the verdict when it decides (matches,
 * or a fact or the hash it needs cannot be had), else STEP_NEXT. */
static enum step try_rule(const struct dlg_db *db, uint32_t i, struct dlg_subject *s,
			  struct decision *dc, struct dlg_verdict *v)
{
	struct evidence ev;
	const char *what;
	struct rule rl;

	if (!load_rule(db, i, &rl)) {
		verdict_deny(v, i + 1, 0, "compiled policy rule is corrupt (or changed while mapped)",
			     NULL);
		return STEP_DONE;
	}
	if (rl.path && strcmp(s->path, rl.path) != 0)
		return STEP_NEXT;
	if (rl.dir && !below(rl.dir, rl.dir_len, s->path))
		return STEP_NEXT;
	if (rl.exe && (!subject_exe(s) || strcmp(s->exe, rl.exe) != 0))
		return STEP_NEXT;
	switch (risk_eval(db, &rl, s, &what)) {
	case COND_FACT_FAILED:
		s->risk_failed = true;
		s->risk_volatile = true;
		snprintf(dc->herr, sizeof dc->herr, "cannot check %s", what);
		verdict_deny(v, i + 1, rl.line, dc->herr, s->risk.err);
		return STEP_DONE;
	case COND_NO_MATCH:
		return STEP_NEXT;
	default:
		break;
	}
	dc->herr[0] = '\0';
	switch (content_eval(db, &rl, i, s, &dc->memo, &dc->dr, &ev, dc->herr, sizeof dc->herr)) {
	case COND_HASH_FAILED:
		s->hash_failed = true;
		verdict_deny(v, i + 1, rl.line, "cannot hash", dc->herr);
		return STEP_DONE;
	case COND_NO_MATCH:
		ev_keep_best(&dc->best, &ev);
		return STEP_NEXT;
	default:
		break;
	}
	if (ev.rank != EV_NONE)
		put_evidence(db, s, &ev);
	else if (dc->best.rank != EV_NONE)
		put_evidence(db, s, &dc->best);
	verdict_rule(v, db, i, &rl, s, &ev);
	return STEP_DONE;
}

static enum dlg_action no_match(const struct dlg_db *db, struct dlg_subject *s,
				struct decision *dc, struct dlg_verdict *v)
{
	if (dc->best.rank != EV_NONE)
		put_evidence(db, s, &dc->best);
	return verdict_default(v, db, s, &dc->best);
}

static bool decide_start(const struct dlg_db *db, struct dlg_subject *s, struct decision *dc,
			 struct dlg_verdict *v)
{
	if (!db || !db->base || !s || !s->path) {
		verdict_deny(v, 0, 0, "no policy or no subject", NULL);
		return false;
	}
	memset(dc, 0, sizeof *dc);
	dc->best.rank = EV_NONE;
	return true;
}

/* No allocation anywhere below but what signature verification needs: the
 * preload calls this inside dlopen. */
enum dlg_action dlg_decide_scan(const struct dlg_db *db, struct dlg_subject *s,
				struct dlg_verdict *v)
{
	struct decision dc;

	if (!decide_start(db, s, &dc, v))
		return v->action;
	for (uint32_t i = 0; i < db->n_rules; i++)
		if (try_rule(db, i, s, &dc, v) == STEP_DONE)
			return v->action;
	return no_match(db, s, &dc, v);
}

/* Candidate rules: ascending lists of rule numbers (a slice of the rule
 * references, or the rule column of the subject's digest records), merged
 * in policy order. One list per indexed directory above the subject, its
 * path, the unanchored rules and the digest-anchored rules. */
#define CAND_LISTS 36

struct cands {
	struct {
		const unsigned char *p;
		uint32_t stride, n, i;
	} l[CAND_LISTS];
	int n;
	bool overflow;                  /* more lists than tracked: scan instead */
};

static void cand_add(struct cands *c, const unsigned char *p, uint32_t stride, uint32_t n)
{
	if (n == 0)
		return;
	if (c->n == CAND_LISTS) {
		c->overflow = true;
		return;
	}
	c->l[c->n].p = p;
	c->l[c->n].stride = stride;
	c->l[c->n].n = n;
	c->l[c->n].i = 0;
	c->n++;
}

/* A slice of the rule references; a slice out of bounds (a file changed
 * under its mapping) adds nothing. */
static void cand_refs(const struct dlg_db *db, struct cands *c, uint32_t first, uint32_t count)
{
	if (slice_ok(first, count, db->n_rulerefs))
		cand_add(c, db->rulerefs + (size_t)first * DB_RULEREF_SIZE, DB_RULEREF_SIZE, count);
}

/* The lowest candidate not below floor, or DB_NONE. */
static uint32_t cand_next(struct cands *c, uint32_t floor)
{
	uint32_t best = DB_NONE;

	for (int k = 0; k < c->n; k++) {
		while (c->l[k].i < c->l[k].n) {
			uint32_t r = get32(c->l[k].p + (size_t)c->l[k].i * c->l[k].stride);

			if (r >= floor) {
				if (r < best)
					best = r;
				break;
			}
			c->l[k].i++;
		}
	}
	return best;
}

/* The directories that hold the subject (each '/' of its path not at the
 * end: "/" for "/a/b", "/a"), and the index lists they name. The path
 * index is looked in only if the directory the file is directly in has
 * path-anchored rules: a file in a directory the policy names no file of
 * costs no page of the path index. */
static void cand_dirs(const struct dlg_db *db, const char *path, struct cands *c)
{
	uint32_t h = 2166136261u, paths = 0;
	size_t i;

	for (i = 0; path[i]; i++) {
		if (path[i] == '/') {
			const unsigned char *r = index_find(db, true, path, i, h);
			bool holds = path[i + 1] != '\0';

			if (r && holds)
				cand_refs(db, c, get32(r + D_FIRST), get32(r + D_COUNT));
			paths = r ? get32(r + D_PATHS) : 0;
		}
		h ^= (unsigned char)path[i];
		h *= 16777619u;
	}
	if (paths > 0) {
		const unsigned char *r = index_find(db, false, path, i, h);

		if (r)
			cand_refs(db, c, get32(r + P_FIRST), get32(r + P_COUNT));
	}
}

enum dlg_action dlg_decide(const struct dlg_db *db, struct dlg_subject *s,
			   struct dlg_verdict *v)
{
	struct decision dc;
	struct cands c;
	bool digests = false;
	uint32_t floor = 0;

	if (!decide_start(db, s, &dc, v))
		return v->action;
	c.n = 0;
	c.overflow = false;
	cand_refs(db, &c, db->free_first, db->free_count);
	cand_dirs(db, s->path, &c);
	if (c.overflow)
		return dlg_decide_scan(db, s, v);
	for (;;) {
		uint32_t i = cand_next(&c, floor);

		/* The digest-anchored rules are candidates only for a file
		 * listed by them, so the subject is hashed when the first of
		 * them is reached in policy order -- exactly when a scan would
		 * hash it -- and looked up once. */
		if (!digests && db->first_digest != DB_NONE && db->first_digest < i) {
			digests = true;
			if (subject_hash(db, s, dc.herr, sizeof dc.herr) != 0) {
				struct rule rl;

				s->hash_failed = true;
				verdict_deny(v, db->first_digest + 1,
					     load_rule(db, db->first_digest, &rl) ? rl.line : 0,
					     "cannot hash", dc.herr);
				return v->action;
			}
			digest_range(db, s->sha256, &dc.dr);
			cand_add(&c, db->digests + (size_t)dc.dr.lo * DB_DIGEST_SIZE + G_RULE,
				 DB_DIGEST_SIZE, dc.dr.hi - dc.dr.lo);
			if (c.overflow)
				return dlg_decide_scan(db, s, v);
			continue;
		}
		if (i == DB_NONE)
			break;
		floor = i + 1;
		if (i >= db->n_rules)
			continue;       /* a reference changed under the mapping */
		if (try_rule(db, i, s, &dc, v) == STEP_DONE)
			return v->action;
	}
	return no_match(db, s, &dc, v);
}

static void rule_view(const struct rule *rl, struct dlg_db_rule_view *out)
{
	out->action = (enum dlg_action)rl->action;
	out->line = rl->line;
	out->path = rl->path;
	out->dir = rl->dir;
	out->exe = rl->exe;
	out->n_sha256 = rl->count;
	out->n_signed_by = rl->kcount;
	out->manifest = rl->manifest;
	out->risk = rl->risk;
	out->recent = rl->recent;
	out->n_owners = rl->own_count;
	out->n_fs = rl->fs_count;
}

bool dlg_db_rule(const struct dlg_db *db, uint32_t index, struct dlg_db_rule_view *out)
{
	struct rule rl;

	if (!db || !db->base || index >= db->n_rules || !load_rule(db, index, &rl))
		return false;
	rule_view(&rl, out);
	return true;
}

bool dlg_db_rule_key(const struct dlg_db *db, uint32_t rule, uint32_t j, uint32_t *key)
{
	struct rule rl;

	if (!db || !db->base || rule >= db->n_rules || !load_rule(db, rule, &rl) ||
	    j >= rl.kcount)
		return false;
	*key = rule_key(db, &rl, j);
	return *key < db->n_keys;
}

bool dlg_db_rule_value(const struct dlg_db *db, uint32_t rule, bool fs, uint32_t j,
		       uint32_t *value)
{
	struct rule rl;

	if (!db || !db->base || rule >= db->n_rules || !load_rule(db, rule, &rl) ||
	    j >= (fs ? rl.fs_count : rl.own_count))
		return false;
	*value = get32(db->values + ((size_t)(fs ? rl.fs_first : rl.own_first) + j) *
		       DB_VALUE_SIZE);
	return true;
}

bool dlg_db_key(const struct dlg_db *db, uint32_t index, struct dlg_db_key_view *out)
{
	struct key k;

	if (!db || !db->base || !load_key(db, index, &k))
		return false;
	out->name = k.name;
	out->type = k.type;
	out->der = k.der;
	out->der_len = k.der_len;
	return true;
}

bool dlg_db_manifest(const struct dlg_db *db, uint32_t index, struct dlg_db_manifest_view *out)
{
	struct manifest m;

	if (!db || !db->base || !load_manifest(db, index, &m))
		return false;
	out->path = m.path;
	out->key = m.key;
	out->sha256 = m.sha256;
	out->sig = m.sig;
	out->sig_len = m.sig_len;
	out->n_entries = m.count;
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

static int check_abs(const char *s, size_t i, unsigned line, const char *what,
		     char *err, size_t errlen)
{
	if (s && s[0] != '/') {
		dlg_seterr(err, errlen, "rule %zu (line %u): %s '%s' is not absolute", i + 1, line,
			what, s);
		return -1;
	}
	return 0;
}

/* How many records of each kind a policy needs (before de-duplication). */
struct counts {
	size_t digests, keyrefs, values, manifests, entries, blob, fprints;
	size_t boot;            /* start-up verdict slots */
};

static int check_manifest_model(const struct dlg_manifest *m, size_t i, unsigned line,
				size_t n_keys, char *err, size_t errlen)
{
	if (!m->path || m->path[0] != '/') {
		dlg_seterr(err, errlen, "rule %zu (line %u): manifest path missing or not absolute",
			i + 1, line);
		return -1;
	}
	if (m->key >= n_keys || !m->sig || m->sig_len == 0 || m->sig_len > DLG_SIG_MAX ||
	    (m->n_entries > 0 && !m->entries)) {
		dlg_seterr(err, errlen, "rule %zu (line %u): manifest signer, signature or entries "
			"missing", i + 1, line);
		return -1;
	}
	for (size_t j = 0; j < m->n_entries; j++) {
		if (!m->entries[j].path || m->entries[j].path[0] != '/') {
			dlg_seterr(err, errlen, "rule %zu (line %u): manifest entry %zu is not absolute",
				i + 1, line, j + 1);
			return -1;
		}
	}
	return 0;
}

static int check_policy_sig(const struct dlg_rule *r, size_t i, size_t n_keys, char *err,
			    size_t errlen)
{
	if (r->n_signed_by > 0 && !r->signed_by) {
		dlg_seterr(err, errlen, "rule %zu (line %u): signed_by list missing", i + 1, r->line);
		return -1;
	}
	for (size_t j = 0; j < r->n_signed_by; j++) {
		if (r->signed_by[j] >= n_keys) {
			dlg_seterr(err, errlen, "rule %zu (line %u): signed_by names key %zu of %zu",
				i + 1, r->line, r->signed_by[j] + 1, n_keys);
			return -1;
		}
	}
	if (!r->manifest)
		return 0;
	if (r->n_signed_by == 0 || r->path || r->n_sha256 > 0) {
		dlg_seterr(err, errlen, "rule %zu (line %u): a manifest rule needs signed_by and "
			"takes no path or sha256", i + 1, r->line);
		return -1;
	}
	return check_manifest_model(r->manifest, i, r->line, n_keys, err, errlen);
}

static int check_policy_rule(const struct dlg_rule *r, size_t i, size_t n_keys, char *err,
			     size_t errlen)
{
	size_t dl;

	if (!action_ok((uint32_t)r->action)) {
		dlg_seterr(err, errlen, "rule %zu (line %u): bad action %d", i + 1, r->line,
			(int)r->action);
		return -1;
	}
	if (!r->path && !r->dir && !r->exe && r->n_sha256 == 0 && r->n_signed_by == 0 &&
	    !r->manifest && r->risk == 0 && r->n_owners == 0 && r->n_fs == 0 && r->recent == 0) {
		dlg_seterr(err, errlen, "rule %zu (line %u): no condition", i + 1, r->line);
		return -1;
	}
	if (r->risk & ~(uint32_t)DLG_RISK_KNOWN) {
		dlg_seterr(err, errlen, "rule %zu (line %u): bad risk flags 0x%x", i + 1, r->line,
			r->risk);
		return -1;
	}
	if ((r->n_owners > 0 && !r->owners) || (r->n_fs > 0 && !r->fs)) {
		dlg_seterr(err, errlen, "rule %zu (line %u): owner or fs list missing", i + 1, r->line);
		return -1;
	}
	if (r->n_sha256 > 0 && !r->sha256) {
		dlg_seterr(err, errlen, "rule %zu (line %u): digest list missing", i + 1, r->line);
		return -1;
	}
	if (check_abs(r->path, i, r->line, "path", err, errlen) ||
	    check_abs(r->dir, i, r->line, "dir", err, errlen) ||
	    check_abs(r->exe, i, r->line, "exe", err, errlen))
		return -1;
	dl = r->dir ? strlen(r->dir) : 0;
	if (dl > 1 && r->dir[dl - 1] == '/') {
		dlg_seterr(err, errlen, "rule %zu (line %u): dir '%s' ends with '/'", i + 1, r->line,
			r->dir);
		return -1;
	}
	return check_policy_sig(r, i, n_keys, err, errlen);
}

static int check_policy_key(const struct dlg_key *k, size_t i, char *err, size_t errlen)
{
	if (!k->name || !k->name[0] || strlen(k->name) > DLG_KEY_NAME_MAX) {
		dlg_seterr(err, errlen, "key %zu: name missing or longer than %d", i + 1,
			DLG_KEY_NAME_MAX);
		return -1;
	}
	if (!key_type_ok((uint32_t)k->type)) {
		dlg_seterr(err, errlen, "key %zu (%s): bad key type %d", i + 1, k->name, (int)k->type);
		return -1;
	}
	if (!k->der || k->der_len == 0 || k->der_len > DLG_KEY_DER_MAX) {
		dlg_seterr(err, errlen, "key %zu (%s): DER missing or longer than %d", i + 1, k->name,
			DLG_KEY_DER_MAX);
		return -1;
	}
	return 0;
}

/* Adds n records of size bytes to *total, refusing more than fits a file. */
static int count_add(size_t *total, size_t n, size_t size, const char *what, char *err,
		     size_t errlen)
{
	if (n > DB_MAX_SIZE / size || *total > DB_MAX_SIZE / size - n) {
		dlg_seterr(err, errlen, "too many %s", what);
		return -1;
	}
	*total += n;
	return 0;
}

static int check_policy_fprints(const struct dlg_policy *p, struct counts *c, char *err,
				size_t errlen)
{
	if (p->n_fprints > 0 && !p->fprints) {
		dlg_seterr(err, errlen, "fingerprint list missing");
		return -1;
	}
	for (size_t i = 0; i < p->n_fprints; i++) {
		const struct dlg_fingerprint *f = &p->fprints[i];

		if (!f->path || f->path[0] != '/' || f->size < 0 || f->mtime_nsec >= 1000000000u ||
		    f->ctime_nsec >= 1000000000u) {
			dlg_seterr(err, errlen, "fingerprint %zu: path not absolute, or size or "
				"nanoseconds out of range", i + 1);
			return -1;
		}
	}
	return count_add(&c->fprints, p->n_fprints, DB_FPRINT_SIZE, "fingerprints", err, errlen);
}

/* Start-up verdicts: names ld.so could give (absolute, short enough to
 * keep inline), fingerprints fstat could show. Slots: the next power of
 * two of at least one and a half times as many (a third of them empty or
 * more), so that probes stay short (one read of four slots, mostly) and a
 * lookup always meets an empty slot. */
static int check_policy_boot(const struct dlg_policy *p, struct counts *c, char *err,
			     size_t errlen)
{
	size_t slots = 4;

	if (p->n_startup > 0 && !p->startup_fps) {
		dlg_seterr(err, errlen, "start-up verdict list missing");
		return -1;
	}
	for (size_t i = 0; i < p->n_startup; i++) {
		const struct dlg_fingerprint *f = &p->startup_fps[i];
		size_t len = f->path ? strlen(f->path) : 0;

		if (len < 1 || len > DLG_STARTUP_NAME_MAX || f->path[0] != '/' || f->size < 0 ||
		    f->mtime_nsec >= 1000000000u || f->ctime_nsec >= 1000000000u) {
			dlg_seterr(err, errlen, "start-up verdict %zu: name not absolute or longer "
				"than %d bytes, or size or nanoseconds out of range", i + 1,
				DLG_STARTUP_NAME_MAX);
			return -1;
		}
	}
	if (p->n_startup == 0)
		return 0;
	if (p->n_startup > DB_MAX_SIZE / DB_BOOT_SIZE / 4) {
		dlg_seterr(err, errlen, "too many start-up verdicts");
		return -1;
	}
	while (slots < p->n_startup + p->n_startup / 2)
		slots *= 2;
	return count_add(&c->boot, slots, DB_BOOT_SIZE, "start-up verdicts", err, errlen);
}

/* Checks the model and counts records; 0 or -1 with err. */
static int check_policy(const struct dlg_policy *p, struct counts *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	if (!mode_ok((uint32_t)p->mode) || !action_ok((uint32_t)p->default_action) ||
	    (p->startup != DLG_STARTUP_LOG && p->startup != DLG_STARTUP_KILL)) {
		dlg_seterr(err, errlen, "bad mode, default action or startup");
		return -1;
	}
	if (p->env_strip & ~(uint32_t)DLG_ENV_KNOWN) {
		dlg_seterr(err, errlen, "unknown environment variables 0x%x in env.strip",
			p->env_strip);
		return -1;
	}
	if (p->log_file && p->log_file[0] != '/') {
		dlg_seterr(err, errlen, "log file '%s' is not absolute", p->log_file);
		return -1;
	}
	if (p->sig_dir && p->sig_dir[0] != '/') {
		dlg_seterr(err, errlen, "signature dir '%s' is not absolute", p->sig_dir);
		return -1;
	}
	if ((p->n_rules > 0 && !p->rules) || (p->n_keys > 0 && !p->keys)) {
		dlg_seterr(err, errlen, "rule or key list missing");
		return -1;
	}
	if (p->n_rules > DB_MAX_SIZE / DB_RULE_SIZE || p->n_keys > DB_MAX_SIZE / DB_KEY_SIZE) {
		dlg_seterr(err, errlen, "too many rules (%zu) or keys (%zu)", p->n_rules, p->n_keys);
		return -1;
	}
	for (size_t i = 0; i < p->n_keys; i++) {
		if (check_policy_key(&p->keys[i], i, err, errlen) ||
		    count_add(&c->blob, p->keys[i].der_len, 1, "key bytes", err, errlen))
			return -1;
	}
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct dlg_rule *r = &p->rules[i];

		if (check_policy_rule(r, i, p->n_keys, err, errlen) ||
		    count_add(&c->digests, r->n_sha256, DB_DIGEST_SIZE, "digests", err, errlen) ||
		    count_add(&c->keyrefs, r->n_signed_by, DB_KEYREF_SIZE, "signed_by keys", err,
			      errlen) ||
		    count_add(&c->values, r->n_owners, DB_VALUE_SIZE, "owner uids", err, errlen) ||
		    count_add(&c->values, r->n_fs, DB_VALUE_SIZE, "fs types", err, errlen))
			return -1;
		if (!r->manifest)
			continue;
		c->manifests++;
		if (count_add(&c->entries, r->manifest->n_entries, DB_ENTRY_SIZE,
			      "manifest entries", err, errlen) ||
		    count_add(&c->blob, r->manifest->sig_len, 1, "signature bytes", err, errlen))
			return -1;
	}
	return check_policy_fprints(p, c, err, errlen) || check_policy_boot(p, c, err, errlen);
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
			dlg_seterr(err, errlen, "strings too large");
			return -1;
		}
	}
	buf = malloc(len ? len : 1);
	if (!buf) {
		dlg_seterr(err, errlen, "out of memory");
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

/* One digest record being planned. */
struct drec {
	unsigned char sha256[DLG_SHA256_LEN];
	uint32_t rule;
};

static int cmp_drec(const void *pa, const void *pb)
{
	const struct drec *a = pa, *b = pb;
	int c = memcmp(a->sha256, b->sha256, DLG_SHA256_LEN);

	return c ? c : (a->rule > b->rule) - (a->rule < b->rule);
}

/* Every rule's digests as (digest, rule) records sorted by digest then
 * rule, exact repeats dropped, into out (room for every digest); returns
 * how many remain. count[i]: how many distinct digests rule i lists. */
static size_t put_digests(const struct dlg_policy *p, size_t total, unsigned char *out,
			  uint32_t *count, char *err, size_t errlen)
{
	struct drec *d = malloc((total ? total : 1) * sizeof *d);
	size_t n = 0, k = 0;

	if (!d) {
		dlg_seterr(err, errlen, "out of memory");
		return (size_t)-1;
	}
	for (size_t i = 0; i < p->n_rules; i++) {
		for (size_t j = 0; j < p->rules[i].n_sha256; j++) {
			memcpy(d[n].sha256, p->rules[i].sha256[j], DLG_SHA256_LEN);
			d[n++].rule = (uint32_t)i;
		}
	}
	qsort(d, n, sizeof *d, cmp_drec);
	for (size_t j = 0; j < n; j++) {
		if (k > 0 && cmp_drec(&d[j], &d[k - 1]) == 0)
			continue;
		d[k++] = d[j];
	}
	for (size_t j = 0; j < k; j++) {
		memcpy(out + j * DB_DIGEST_SIZE + G_SHA256, d[j].sha256, DLG_SHA256_LEN);
		put32(out + j * DB_DIGEST_SIZE + G_RULE, d[j].rule);
		count[d[j].rule]++;
	}
	free(d);
	return k;
}

/* ------------------------------------------------------- planning indexes */

/* What anchors a rule in the indexes: the condition tried first that needs
 * no more than the subject's path, or its digest when no condition that can
 * decide on its own (exe, a risk fact) comes before it. */
enum anchor { A_PATH, A_DIR, A_DIGEST, A_FREE };

static enum anchor rule_anchor(const struct dlg_rule *r)
{
	if (r->path)
		return A_PATH;
	if (r->dir)
		return A_DIR;
	if (r->n_sha256 > 0 && !r->exe && !r->manifest && r->risk == 0 && r->recent == 0 &&
	    r->n_owners == 0 && r->n_fs == 0)
		return A_DIGEST;
	return A_FREE;
}

/* An index key being planned: a directory key (kind K_DIR: a rule anchored
 * there; K_PARENT: a path-anchored rule's file is directly in it) or a
 * path (K_PATH). The key is the len bytes at s. */
enum { K_DIR, K_PARENT, K_PATH };

struct ikey {
	uint32_t hash;
	const char *s;
	size_t len;
	int kind;
	uint32_t rule;
};

static int cmp_ikey_key(const struct ikey *a, const struct ikey *b)
{
	int c;

	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	c = memcmp(a->s, b->s, a->len < b->len ? a->len : b->len);
	if (c)
		return c;
	return (a->len > b->len) - (a->len < b->len);
}

static int cmp_ikey(const void *pa, const void *pb)
{
	const struct ikey *a = pa, *b = pb;
	int c = cmp_ikey_key(a, b);

	if (c)
		return c;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return (a->rule > b->rule) - (a->rule < b->rule);
}

static struct ikey ikey(const char *s, size_t len, int kind, size_t rule)
{
	struct ikey k = { dlg_db_hash(s, len), s, len, kind, (uint32_t)rule };

	return k;
}

/* The indexes of a policy, planned: records in file order, the rule
 * references they and the unanchored list point into. */
struct iplan {
	struct ikey *keys;              /* dir and parent keys, then path keys */
	size_t n_dkeys, n_pkeys;
	uint32_t *refs;
	size_t n_refs;
	uint32_t free_first, free_count, first_digest;
	/* one per directory record */
	uint32_t *d_hash, *d_str, *d_first, *d_count, *d_paths;
	char **d_key;                   /* NUL-terminated copies of the keys */
	size_t n_dirs;
	/* one per path record: the first rule of the group names the string */
	uint32_t *p_hash, *p_rule, *p_first, *p_count;
	size_t n_paths;
};

static void iplan_free(struct iplan *ip)
{
	for (size_t i = 0; ip->d_key && i < ip->n_dirs; i++)
		free(ip->d_key[i]);
	free(ip->d_key);
	free(ip->keys);
	free(ip->refs);
	free(ip->d_hash);
	free(ip->d_str);
	free(ip->d_first);
	free(ip->d_count);
	free(ip->d_paths);
	free(ip->p_hash);
	free(ip->p_rule);
	free(ip->p_first);
	free(ip->p_count);
}

/* Trailing slashes are not part of a directory key ("/" is the empty key),
 * as below() ignores them. */
static size_t dir_key_len(const char *dir)
{
	size_t n = strlen(dir);

	while (n > 0 && dir[n - 1] == '/')
		n--;
	return n;
}

static int iplan_build(struct iplan *ip, const struct dlg_policy *p)
{
	size_t nr = p->n_rules, nk = 0, np = 0;

	memset(ip, 0, sizeof *ip);
	ip->first_digest = DB_NONE;
	ip->keys = calloc(2 * nr + 1, sizeof *ip->keys);
	ip->refs = calloc(nr + 1, sizeof *ip->refs);
	if (!ip->keys || !ip->refs)
		return -1;
	/* unanchored rules first: their slice is read by every decision */
	for (size_t i = 0; i < nr; i++) {
		const struct dlg_rule *r = &p->rules[i];
		const char *slash;

		switch (rule_anchor(r)) {
		case A_PATH:
			slash = strrchr(r->path, '/');
			ip->keys[nk++] = ikey(r->path, slash ? (size_t)(slash - r->path) : 0,
					      K_PARENT, i);
			break;
		case A_DIR:
			ip->keys[nk++] = ikey(r->dir, dir_key_len(r->dir), K_DIR, i);
			break;
		case A_DIGEST:
			if (ip->first_digest == DB_NONE)
				ip->first_digest = (uint32_t)i;
			break;
		case A_FREE:
			ip->refs[ip->n_refs++] = (uint32_t)i;
			break;
		}
	}
	ip->free_count = (uint32_t)ip->n_refs;
	for (size_t i = 0; i < nr; i++)
		if (rule_anchor(&p->rules[i]) == A_PATH)
			ip->keys[nk + np++] = ikey(p->rules[i].path, strlen(p->rules[i].path), K_PATH, i);
	ip->n_dkeys = nk;
	ip->n_pkeys = np;
	qsort(ip->keys, nk, sizeof *ip->keys, cmp_ikey);
	qsort(ip->keys + nk, np, sizeof *ip->keys, cmp_ikey);
	ip->d_hash = calloc(nk + 1, sizeof *ip->d_hash);
	ip->d_str = calloc(nk + 1, sizeof *ip->d_str);
	ip->d_first = calloc(nk + 1, sizeof *ip->d_first);
	ip->d_count = calloc(nk + 1, sizeof *ip->d_count);
	ip->d_paths = calloc(nk + 1, sizeof *ip->d_paths);
	ip->d_key = calloc(nk + 1, sizeof *ip->d_key);
	ip->p_hash = calloc(np + 1, sizeof *ip->p_hash);
	ip->p_rule = calloc(np + 1, sizeof *ip->p_rule);
	ip->p_first = calloc(np + 1, sizeof *ip->p_first);
	ip->p_count = calloc(np + 1, sizeof *ip->p_count);
	if (!ip->d_hash || !ip->d_str || !ip->d_first || !ip->d_count || !ip->d_paths ||
	    !ip->d_key || !ip->p_hash || !ip->p_rule || !ip->p_first || !ip->p_count)
		return -1;
	for (size_t i = 0; i < nk; i++) {
		const struct ikey *k = &ip->keys[i];
		size_t d = ip->n_dirs;

		if (i == 0 || cmp_ikey_key(k, &ip->keys[i - 1]) != 0) {
			if (!(ip->d_key[d] = strndup(k->s, k->len)))
				return -1;
			ip->d_hash[d] = k->hash;
			ip->d_first[d] = (uint32_t)ip->n_refs;
			ip->n_dirs++;
		}
		d = ip->n_dirs - 1;
		if (k->kind == K_DIR) {
			ip->refs[ip->n_refs++] = k->rule;
			ip->d_count[d]++;
		} else {
			ip->d_paths[d]++;
		}
	}
	for (size_t i = 0; i < np; i++) {
		const struct ikey *k = &ip->keys[nk + i];

		if (i == 0 || cmp_ikey_key(k, &ip->keys[nk + i - 1]) != 0) {
			ip->p_hash[ip->n_paths] = k->hash;
			ip->p_rule[ip->n_paths] = k->rule;
			ip->p_first[ip->n_paths] = (uint32_t)ip->n_refs;
			ip->n_paths++;
		}
		ip->refs[ip->n_refs++] = k->rule;
		ip->p_count[ip->n_paths - 1]++;
	}
	return 0;
}

static int cmp_index(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

static int cmp_entry(const void *pa, const void *pb)
{
	const struct dlg_manifest_entry *a = *(const struct dlg_manifest_entry *const *)pa;
	const struct dlg_manifest_entry *b = *(const struct dlg_manifest_entry *const *)pb;
	int c = strcmp(a->path, b->path);

	return c ? c : memcmp(a->sha256, b->sha256, DLG_SHA256_LEN);
}

/* Everything dlg_db_build computes before writing: per-rule slices,
 * per-key and per-manifest placements, the manifest entries in file order
 * and where their strings go. */
struct plan {
	struct rule_offs *offs;
	uint32_t *count;                /* distinct digests per rule */
	uint32_t *kfirst, *kcount;      /* signed_by slice per rule */
	uint32_t *manifest;             /* manifest index per rule, or DB_NONE */
	size_t *keyrefs;                /* all signed_by lists, sorted per rule */
	size_t n_keyrefs;
	uint32_t *own_first, *own_count, *fs_first, *fs_count;  /* per rule */
	uint32_t *values;               /* owner and fs lists, sorted per rule */
	size_t n_values;
	uint32_t *key_name, *key_der;   /* per key: name string, DER offset in the blob */
	const struct dlg_manifest **man;        /* per manifest */
	uint32_t *man_path, *man_sig, *man_first, *man_count;
	const struct dlg_manifest_entry **entries;
	uint32_t *entry_path;
	size_t n_manifests, n_entries;
	const struct dlg_fingerprint **fps;     /* sorted by (ino, dev) */
	uint32_t *fp_path;
	size_t n_fps;
	uint32_t log_off, src_off, sig_dir_off;
	struct pending *pd;
	size_t n_pd;
};

static void plan_free(struct plan *pl)
{
	free(pl->offs);
	free(pl->count);
	free(pl->kfirst);
	free(pl->kcount);
	free(pl->manifest);
	free(pl->keyrefs);
	free(pl->own_first);
	free(pl->own_count);
	free(pl->fs_first);
	free(pl->fs_count);
	free(pl->values);
	free(pl->key_name);
	free(pl->key_der);
	free(pl->man);
	free(pl->man_path);
	free(pl->man_sig);
	free(pl->man_first);
	free(pl->man_count);
	free(pl->entries);
	free(pl->entry_path);
	free(pl->fps);
	free(pl->fp_path);
	free(pl->pd);
}

static int plan_alloc(struct plan *pl, const struct dlg_policy *p, const struct counts *c)
{
	size_t nr = p->n_rules + 1, nk = p->n_keys + 1, nm = c->manifests + 1;
	size_t ne = c->entries + 1;

	memset(pl, 0, sizeof *pl);
	pl->offs = calloc(nr, sizeof *pl->offs);
	pl->count = calloc(nr, sizeof *pl->count);
	pl->kfirst = calloc(nr, sizeof *pl->kfirst);
	pl->kcount = calloc(nr, sizeof *pl->kcount);
	pl->manifest = calloc(nr, sizeof *pl->manifest);
	pl->keyrefs = calloc(c->keyrefs + 1, sizeof *pl->keyrefs);
	pl->own_first = calloc(nr, sizeof *pl->own_first);
	pl->own_count = calloc(nr, sizeof *pl->own_count);
	pl->fs_first = calloc(nr, sizeof *pl->fs_first);
	pl->fs_count = calloc(nr, sizeof *pl->fs_count);
	pl->values = calloc(c->values + 1, sizeof *pl->values);
	pl->key_name = calloc(nk, sizeof *pl->key_name);
	pl->key_der = calloc(nk, sizeof *pl->key_der);
	pl->man = calloc(nm, sizeof *pl->man);
	pl->man_path = calloc(nm, sizeof *pl->man_path);
	pl->man_sig = calloc(nm, sizeof *pl->man_sig);
	pl->man_first = calloc(nm, sizeof *pl->man_first);
	pl->man_count = calloc(nm, sizeof *pl->man_count);
	pl->entries = calloc(ne, sizeof *pl->entries);
	pl->entry_path = calloc(ne, sizeof *pl->entry_path);
	pl->fps = calloc(c->fprints + 1, sizeof *pl->fps);
	pl->fp_path = calloc(c->fprints + 1, sizeof *pl->fp_path);
	pl->pd = calloc(3 + 3 * p->n_rules + p->n_keys + c->manifests + c->entries +
			c->fprints, sizeof *pl->pd);
	return pl->offs && pl->count && pl->kfirst && pl->kcount && pl->manifest &&
	       pl->keyrefs && pl->own_first && pl->own_count && pl->fs_first && pl->fs_count &&
	       pl->values && pl->key_name && pl->key_der && pl->man && pl->man_path &&
	       pl->man_sig && pl->man_first && pl->man_count && pl->entries &&
	       pl->entry_path && pl->fps && pl->fp_path && pl->pd ? 0 : -1;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* One owner or fs list as a slice of the values, sorted, without repeats. */
static void plan_values(struct plan *pl, const uint32_t *v, size_t n, uint32_t *first,
			uint32_t *count)
{
	uint32_t *out = pl->values + pl->n_values;
	size_t k = 0;

	if (n > 0)
		memcpy(out, v, n * sizeof *out);
	qsort(out, n, sizeof *out, cmp_u32);
	for (size_t j = 0; j < n; j++)
		if (k == 0 || out[j] != out[k - 1])
			out[k++] = out[j];
	*first = (uint32_t)pl->n_values;
	*count = (uint32_t)k;
	pl->n_values += k;
}

/* signed_by lists, sorted and de-duplicated per rule; owner and fs lists
 * likewise; manifests numbered in rule order, their entries sorted by path
 * then digest, exact repeats dropped. */
static void plan_slices(struct plan *pl, const struct dlg_policy *p)
{
	for (size_t i = 0; i < p->n_rules; i++) {
		plan_values(pl, p->rules[i].owners, p->rules[i].n_owners, &pl->own_first[i],
			    &pl->own_count[i]);
		plan_values(pl, p->rules[i].fs, p->rules[i].n_fs, &pl->fs_first[i],
			    &pl->fs_count[i]);
	}
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct dlg_rule *r = &p->rules[i];
		size_t *ks = pl->keyrefs + pl->n_keyrefs, k = 0;
		const struct dlg_manifest_entry **es;
		const struct dlg_manifest *m = r->manifest;

		if (r->n_signed_by > 0)
			memcpy(ks, r->signed_by, r->n_signed_by * sizeof *ks);
		qsort(ks, r->n_signed_by, sizeof *ks, cmp_index);
		for (size_t j = 0; j < r->n_signed_by; j++)
			if (k == 0 || ks[j] != ks[k - 1])
				ks[k++] = ks[j];
		pl->kfirst[i] = (uint32_t)pl->n_keyrefs;
		pl->kcount[i] = (uint32_t)k;
		pl->n_keyrefs += k;
		pl->manifest[i] = DB_NONE;
		if (!m)
			continue;
		pl->manifest[i] = (uint32_t)pl->n_manifests;
		pl->man[pl->n_manifests] = m;
		es = pl->entries + pl->n_entries;
		for (size_t j = 0; j < m->n_entries; j++)
			es[j] = &m->entries[j];
		qsort(es, m->n_entries, sizeof *es, cmp_entry);
		k = 0;
		for (size_t j = 0; j < m->n_entries; j++)
			if (k == 0 || cmp_entry(&es[j], &es[k - 1]) != 0)
				es[k++] = es[j];
		pl->man_first[pl->n_manifests] = (uint32_t)pl->n_entries;
		pl->man_count[pl->n_manifests] = (uint32_t)k;
		pl->n_entries += k;
		pl->n_manifests++;
	}
}

static int cmp_fprint(const void *pa, const void *pb)
{
	const struct dlg_fingerprint *a = *(const struct dlg_fingerprint *const *)pa;
	const struct dlg_fingerprint *b = *(const struct dlg_fingerprint *const *)pb;

	if (a->ino != b->ino)
		return a->ino < b->ino ? -1 : 1;
	return (a->dev > b->dev) - (a->dev < b->dev);
}

/* The fingerprints sorted by (ino, dev), the key the reader seeks by. Two
 * for one inode are refused rather than one picked: the collector keeps at
 * most one (none when they disagree). */
static int plan_fprints(struct plan *pl, const struct dlg_policy *p, char *err, size_t errlen)
{
	for (size_t i = 0; i < p->n_fprints; i++)
		pl->fps[i] = &p->fprints[i];
	qsort(pl->fps, p->n_fprints, sizeof *pl->fps, cmp_fprint);
	for (size_t i = 1; i < p->n_fprints; i++) {
		if (cmp_fprint(&pl->fps[i - 1], &pl->fps[i]) == 0) {
			dlg_seterr(err, errlen, "two fingerprints of one file (dev %llu, ino %llu)",
				(unsigned long long)pl->fps[i]->dev,
				(unsigned long long)pl->fps[i]->ino);
			return -1;
		}
	}
	pl->n_fps = p->n_fprints;
	return 0;
}

static void plan_strings(struct plan *pl, const struct dlg_policy *p)
{
	/* A policy built in memory may have no source: record "". */
	add_pending(pl->pd, &pl->n_pd, p->source ? p->source : "", &pl->src_off);
	add_pending(pl->pd, &pl->n_pd, p->log_file, &pl->log_off);
	add_pending(pl->pd, &pl->n_pd, p->sig_dir, &pl->sig_dir_off);
	for (size_t i = 0; i < p->n_rules; i++) {
		add_pending(pl->pd, &pl->n_pd, p->rules[i].path, &pl->offs[i].path);
		add_pending(pl->pd, &pl->n_pd, p->rules[i].exe, &pl->offs[i].exe);
	}
	for (size_t i = 0; i < p->n_keys; i++)
		add_pending(pl->pd, &pl->n_pd, p->keys[i].name, &pl->key_name[i]);
	for (size_t i = 0; i < pl->n_manifests; i++)
		add_pending(pl->pd, &pl->n_pd, pl->man[i]->path, &pl->man_path[i]);
	for (size_t i = 0; i < pl->n_entries; i++)
		add_pending(pl->pd, &pl->n_pd, pl->entries[i]->path, &pl->entry_path[i]);
	for (size_t i = 0; i < pl->n_fps; i++)
		add_pending(pl->pd, &pl->n_pd, pl->fps[i]->path, &pl->fp_path[i]);
}

/* Key DER then manifest signatures; returns the length, padded to 4 so the
 * string pool after it stays aligned. */
static size_t put_blob(struct plan *pl, const struct dlg_policy *p, unsigned char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n_keys; i++) {
		memcpy(out + n, p->keys[i].der, p->keys[i].der_len);
		pl->key_der[i] = (uint32_t)n;
		n += p->keys[i].der_len;
	}
	for (size_t i = 0; i < pl->n_manifests; i++) {
		memcpy(out + n, pl->man[i]->sig, pl->man[i]->sig_len);
		pl->man_sig[i] = (uint32_t)n;
		n += pl->man[i]->sig_len;
	}
	return (n + 3) & ~(size_t)3;
}

static void put_rules(const struct plan *pl, const struct dlg_policy *p, unsigned char *out)
{
	for (size_t i = 0; i < p->n_rules; i++) {
		unsigned char *r = out + i * DB_RULE_SIZE;

		put32(r + R_ACTION, (uint32_t)p->rules[i].action);
		put32(r + R_LINE, p->rules[i].line);
		put32(r + R_PATH, pl->offs[i].path);
		put32(r + R_DIR, pl->offs[i].dir);
		put32(r + R_EXE, pl->offs[i].exe);
		put32(r + R_COUNT, pl->count[i]);
		put32(r + R_KEYS_FIRST, pl->kfirst[i]);
		put32(r + R_KEYS_COUNT, pl->kcount[i]);
		put32(r + R_MANIFEST, pl->manifest[i]);
		put32(r + R_RISK, p->rules[i].risk);
		put32(r + R_RECENT, p->rules[i].recent);
		put32(r + R_OWN_FIRST, pl->own_first[i]);
		put32(r + R_OWN_COUNT, pl->own_count[i]);
		put32(r + R_FS_FIRST, pl->fs_first[i]);
		put32(r + R_FS_COUNT, pl->fs_count[i]);
	}
}

static void put_keys(const struct plan *pl, const struct dlg_policy *p, unsigned char *out)
{
	for (size_t i = 0; i < p->n_keys; i++) {
		unsigned char *k = out + i * DB_KEY_SIZE;

		put32(k + K_NAME, pl->key_name[i]);
		put32(k + K_TYPE, (uint32_t)p->keys[i].type);
		put32(k + K_DER_OFF, pl->key_der[i]);
		put32(k + K_DER_LEN, (uint32_t)p->keys[i].der_len);
	}
}

static void put_keyrefs(const struct plan *pl, unsigned char *out)
{
	for (size_t i = 0; i < pl->n_keyrefs; i++)
		put32(out + i * DB_KEYREF_SIZE, (uint32_t)pl->keyrefs[i]);
}

static void put_values(const struct plan *pl, unsigned char *out)
{
	for (size_t i = 0; i < pl->n_values; i++)
		put32(out + i * DB_VALUE_SIZE, pl->values[i]);
}

static void put_manifests(const struct plan *pl, unsigned char *out)
{
	for (size_t i = 0; i < pl->n_manifests; i++) {
		unsigned char *m = out + i * DB_MANIFEST_SIZE;

		put32(m + M_PATH, pl->man_path[i]);
		put32(m + M_KEY, (uint32_t)pl->man[i]->key);
		put32(m + M_SIG_OFF, pl->man_sig[i]);
		put32(m + M_SIG_LEN, (uint32_t)pl->man[i]->sig_len);
		put32(m + M_FIRST, pl->man_first[i]);
		put32(m + M_COUNT, pl->man_count[i]);
		memcpy(m + M_SHA256, pl->man[i]->sha256, DLG_SHA256_LEN);
	}
}

static void put_entries(const struct plan *pl, unsigned char *out)
{
	for (size_t i = 0; i < pl->n_entries; i++) {
		unsigned char *e = out + i * DB_ENTRY_SIZE;

		put32(e + E_PATH, pl->entry_path[i]);
		memcpy(e + E_SHA256, pl->entries[i]->sha256, DLG_SHA256_LEN);
	}
}

/* The stat fields, laid out alike in fingerprint records and start-up
 * verdict slots. */
static void put_stat_fields(unsigned char *f, const struct dlg_fingerprint *fp)
{
	put64(f + F_DEV, fp->dev);
	put64(f + F_INO, fp->ino);
	put64(f + F_SIZE, (uint64_t)fp->size);
	put64(f + F_MTIME, (uint64_t)fp->mtime_sec);
	put64(f + F_CTIME, (uint64_t)fp->ctime_sec);
	put32(f + F_MTIME_NSEC, fp->mtime_nsec);
	put32(f + F_CTIME_NSEC, fp->ctime_nsec);
}

static void put_fprints(const struct plan *pl, unsigned char *out)
{
	for (size_t i = 0; i < pl->n_fps; i++) {
		const struct dlg_fingerprint *fp = pl->fps[i];
		unsigned char *f = out + i * DB_FPRINT_SIZE;

		put_stat_fields(f, fp);
		memcpy(f + F_SHA256, fp->sha256, DLG_SHA256_LEN);
		put32(f + F_PATH, pl->fp_path[i]);
	}
}

/* Each start-up verdict in the first free slot from its name's home. */
static int put_boot(const struct dlg_policy *p, size_t slots, unsigned char *out, char *err,
		    size_t errlen)
{
	size_t mask = slots - 1;

	for (size_t i = 0; i < p->n_startup; i++) {
		const struct dlg_fingerprint *fp = &p->startup_fps[i];
		size_t len = strlen(fp->path), at = (size_t)(boot_hash(fp->path, len) & mask);
		unsigned char *b = out + at * DB_BOOT_SIZE;

		for (; b[B_NAME] != '\0'; at = (at + 1) & mask, b = out + at * DB_BOOT_SIZE) {
			if (boot_slot_names(b, fp->path, len)) {
				dlg_seterr(err, errlen, "two start-up verdicts for %s", fp->path);
				return -1;
			}
		}
		put_stat_fields(b, fp);
		memcpy(b + B_NAME, fp->path, len);
	}
	return 0;
}

static void put_table(unsigned char *h, int t, size_t off, size_t count)
{
	put32(h + TABLES[t].off_field, (uint32_t)off);
	put32(h + TABLES[t].count_field, (uint32_t)count);
}

static void put_header(unsigned char *h, const struct dlg_policy *p, const struct plan *pl,
		       uint64_t total)
{
	uint32_t flags = (p->log_syslog ? DB_FLAG_SYSLOG : 0) | (p->log_stderr ? DB_FLAG_STDERR : 0) |
			 (p->startup == DLG_STARTUP_KILL ? DB_FLAG_STARTUP_KILL : 0) |
			 (p->deny_untrusted_preload ? DB_FLAG_DENY_PRELOAD : 0);

	memcpy(h + H_MAGIC, DB_MAGIC, DB_MAGIC_LEN);
	put32(h + H_VERSION, DB_VERSION);
	put32(h + H_HEADER_SIZE, DB_HEADER_SIZE);
	put64(h + H_FILE_SIZE, total);
	put32(h + H_MODE, (uint32_t)p->mode);
	put32(h + H_DEFAULT, (uint32_t)p->default_action);
	put32(h + H_FLAGS, flags);
	put32(h + H_LOG_FILE, pl->log_off);
	put32(h + H_SOURCE, pl->src_off);
	put32(h + H_SIG_DIR, pl->sig_dir_off);
	put32(h + H_ENV_STRIP, p->env_strip);
}

/* Writes the tables from the directory index to the manifest entries end
 * to end after the header; returns where the blob goes, or (size_t)-1 with
 * err. buf has room for every record before de-duplication; put_blob has
 * placed the key DER already. */
static size_t put_tables(unsigned char *buf, struct plan *pl, const struct iplan *ip,
			 const char *dirstr, size_t dirstr_len, const struct counts *c,
			 const struct dlg_policy *p, char *err, size_t errlen)
{
	size_t at = DB_HEADER_SIZE, n;

	for (size_t i = 0; i < ip->n_dirs; i++) {
		unsigned char *d = buf + at + i * DB_DIR_SIZE;

		put32(d + D_HASH, ip->d_hash[i]);
		put32(d + D_STR, ip->d_str[i]);
		put32(d + D_FIRST, ip->d_first[i]);
		put32(d + D_COUNT, ip->d_count[i]);
		put32(d + D_PATHS, ip->d_paths[i]);
	}
	put_table(buf, T_DIRS, at, ip->n_dirs);
	at += ip->n_dirs * DB_DIR_SIZE;
	memcpy(buf + at, dirstr, dirstr_len);
	put_table(buf, T_DIRSTR, at, (dirstr_len + 3) & ~(size_t)3);
	at += (dirstr_len + 3) & ~(size_t)3;
	for (size_t i = 0; i < ip->n_refs; i++)
		put32(buf + at + i * DB_RULEREF_SIZE, ip->refs[i]);
	put_table(buf, T_RULEREFS, at, ip->n_refs);
	at += ip->n_refs * DB_RULEREF_SIZE;
	put_table(buf, T_RULES, at, p->n_rules);
	n = put_digests(p, c->digests, buf + at + p->n_rules * DB_RULE_SIZE +
			ip->n_paths * DB_PATH_SIZE, pl->count, err, errlen);
	if (n == (size_t)-1)
		return n;
	put_rules(pl, p, buf + at);
	at += p->n_rules * DB_RULE_SIZE;
	for (size_t i = 0; i < ip->n_paths; i++) {
		unsigned char *r = buf + at + i * DB_PATH_SIZE;

		put32(r + P_HASH, ip->p_hash[i]);
		put32(r + P_STR, pl->offs[ip->p_rule[i]].path);
		put32(r + P_FIRST, ip->p_first[i]);
		put32(r + P_COUNT, ip->p_count[i]);
	}
	put_table(buf, T_PATHS, at, ip->n_paths);
	at += ip->n_paths * DB_PATH_SIZE;
	put_table(buf, T_DIGESTS, at, n);
	at += n * DB_DIGEST_SIZE;
	put_fprints(pl, buf + at);
	put_table(buf, T_FPRINTS, at, pl->n_fps);
	at += pl->n_fps * DB_FPRINT_SIZE;
	if (put_boot(p, c->boot, buf + at, err, errlen))
		return (size_t)-1;
	put_table(buf, T_BOOT, at, c->boot);
	at += c->boot * DB_BOOT_SIZE;
	put_keys(pl, p, buf + at);
	put_table(buf, T_KEYS, at, p->n_keys);
	at += p->n_keys * DB_KEY_SIZE;
	put_keyrefs(pl, buf + at);
	put_table(buf, T_KEYREFS, at, pl->n_keyrefs);
	at += pl->n_keyrefs * DB_KEYREF_SIZE;
	put_values(pl, buf + at);
	put_table(buf, T_VALUES, at, pl->n_values);
	at += pl->n_values * DB_VALUE_SIZE;
	put_manifests(pl, buf + at);
	put_table(buf, T_MANIFESTS, at, pl->n_manifests);
	at += pl->n_manifests * DB_MANIFEST_SIZE;
	put_entries(pl, buf + at);
	put_table(buf, T_ENTRIES, at, pl->n_entries);
	return at + pl->n_entries * DB_ENTRY_SIZE;
}

/* The directory strings: each rule's dir and each directory key. */
static int plan_dirstr(struct plan *pl, struct iplan *ip, const struct dlg_policy *p,
		       char **pool, size_t *len, char *err, size_t errlen)
{
	struct pending *pd = calloc(p->n_rules + ip->n_dirs + 1, sizeof *pd);
	size_t n = 0;
	int ret;

	if (!pd) {
		dlg_seterr(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < p->n_rules; i++)
		add_pending(pd, &n, p->rules[i].dir, &pl->offs[i].dir);
	for (size_t i = 0; i < ip->n_dirs; i++)
		add_pending(pd, &n, ip->d_key[i], &ip->d_str[i]);
	ret = build_pool(pd, n, pool, len, err, errlen);
	free(pd);
	return ret;
}

int dlg_db_build(const struct dlg_policy *p, unsigned char **out, size_t *out_len,
		 char *err, size_t errlen)
{
	unsigned char *buf = NULL, *blob = NULL;
	struct counts c;
	struct plan pl;
	struct iplan ip;
	char *pool = NULL, *dirstr = NULL;
	size_t pool_len = 0, dirstr_len = 0, room, at, blob_len;
	int ret = -1;

	*out = NULL;
	*out_len = 0;
	memset(&ip, 0, sizeof ip);
	if (check_policy(p, &c, err, errlen))
		return -1;
	if (plan_alloc(&pl, p, &c) != 0 || !(blob = malloc(c.blob + 4)) ||
	    iplan_build(&ip, p) != 0) {
		dlg_seterr(err, errlen, "out of memory");
		goto end;
	}
	plan_slices(&pl, p);
	if (plan_fprints(&pl, p, err, errlen))
		goto end;
	plan_strings(&pl, p);
	if (build_pool(pl.pd, pl.n_pd, &pool, &pool_len, err, errlen) ||
	    plan_dirstr(&pl, &ip, p, &dirstr, &dirstr_len, err, errlen))
		goto end;
	memset(blob, 0, c.blob + 4);
	blob_len = put_blob(&pl, p, blob);
	/* Each part is below 1 GiB (checked), so the sum fits in size_t. */
	room = DB_HEADER_SIZE + ip.n_dirs * DB_DIR_SIZE + ((dirstr_len + 3) & ~(size_t)3) +
	       ip.n_refs * DB_RULEREF_SIZE + p->n_rules * DB_RULE_SIZE +
	       ip.n_paths * DB_PATH_SIZE + c.digests * DB_DIGEST_SIZE +
	       pl.n_fps * DB_FPRINT_SIZE + c.boot * DB_BOOT_SIZE +
	       p->n_keys * DB_KEY_SIZE + pl.n_keyrefs * DB_KEYREF_SIZE +
	       pl.n_values * DB_VALUE_SIZE + pl.n_manifests * DB_MANIFEST_SIZE +
	       pl.n_entries * DB_ENTRY_SIZE + blob_len + ((pool_len + 3) & ~(size_t)3);
	if (room > DB_MAX_SIZE) {
		dlg_seterr(err, errlen, "compiled policy would exceed 1 GiB");
		goto end;
	}
	buf = calloc(1, room);
	if (!buf) {
		dlg_seterr(err, errlen, "out of memory");
		goto end;
	}
	at = put_tables(buf, &pl, &ip, dirstr, dirstr_len, &c, p, err, errlen);
	if (at == (size_t)-1)
		goto end;
	memcpy(buf + at, blob, blob_len);
	put_table(buf, T_BLOB, at, blob_len);
	at += blob_len;
	memcpy(buf + at, pool, pool_len);
	put_table(buf, T_STRINGS, at, pool_len);
	at += pool_len;
	put_header(buf, p, &pl, at);
	put32(buf + H_FREE_FIRST, ip.free_first);
	put32(buf + H_FREE_COUNT, ip.free_count);
	put32(buf + H_FIRST_DIGEST, ip.first_digest);
	*out = buf;
	*out_len = at;
	buf = NULL;
	ret = 0;
end:
	free(buf);
	free(blob);
	free(pool);
	free(dirstr);
	iplan_free(&ip);
	plan_free(&pl);
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
		dlg_seterr(err, errlen, "%s: bad output path", out_path);
		return -1;
	}
	n = snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, base);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		dlg_seterr(err, errlen, "%s: path too long", out_path);
		return -1;
	}
	if (dlg_db_build(p, &buf, &len, err, errlen) != 0)
		return -1;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		dlg_seterr(err, errlen, "%s: cannot create temporary file: %s", out_path,
			errstr(errno));
		goto end;
	}
	created = true;
	if (fchmod(fd, 0644) != 0 || write_all(fd, buf, len) != 0 || fsync(fd) != 0) {
		dlg_seterr(err, errlen, "%s: %s", tmp, errstr(errno));
		goto end;
	}
	n = close(fd);
	fd = -1;
	if (n != 0) {
		dlg_seterr(err, errlen, "%s: close: %s", tmp, errstr(errno));
		goto end;
	}
	if (rename(tmp, out_path) != 0) {
		dlg_seterr(err, errlen, "rename %s to %s: %s", tmp, out_path, errstr(errno));
		goto end;
	}
	created = false;        /* renamed: the name is the target's now */
	if (sync_dir(dir) != 0) {
		dlg_seterr(err, errlen, "%s: fsync directory: %s", dir, errstr(errno));
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
