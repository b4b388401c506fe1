/* libconfig text -> rule model, strictly.
 *
 * CLI only (libconfig, malloc, strerror, realpath: none of it belongs in the
 * preload, which reads the compiled form). Every problem becomes a dlg_diag
 * with the libconfig line, and parsing goes on after an error wherever the
 * structure still makes sense, so one run of `dlguard check` shows them all. */
#include "policy_conf.h"
#include "errstr.h"

#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "sig.h"

/* A policy is a reviewed text file; anything bigger is a mistake (or an
 * attempt to make the CLI eat memory). */
#define CONF_MAX_BYTES ((size_t)64 << 20)
/* Past this many stored findings the rest are only counted (n_errors). */
#define DIAGS_MAX 1000
/* Longest user string quoted in a message, before "...". */
#define QUOTE_MAX 96

/* ---- diagnostics ------------------------------------------------------ */

void dlg_diags_free(struct dlg_diags *d)
{
	if (!d)
		return;
	free(d->v);
	d->v = NULL;
	d->n = 0;
	d->n_errors = 0;
}

/* Capacity is implicit: powers of two from 8, so no field is needed. */
static bool diags_grow(struct dlg_diags *d)
{
	struct dlg_diag *nv;
	size_t cap;

	if (d->n >= 8 && (d->n & (d->n - 1)) != 0)
		return true;
	if (d->n > 0 && d->n < 8)
		return true;
	cap = d->n == 0 ? 8 : d->n * 2;
	nv = realloc(d->v, cap * sizeof *nv);
	if (!nv)
		return false;
	d->v = nv;
	return true;
}

static void diag_store(struct dlg_diags *d, enum dlg_diag_level level, unsigned line,
		       const char *msg)
{
	struct dlg_diag *g;
	size_t len;

	if (d->n >= DIAGS_MAX || !diags_grow(d))
		return;
	g = &d->v[d->n++];
	g->level = level;
	g->line = line;
	len = strlen(msg);
	if (len >= sizeof g->msg) {
		memcpy(g->msg, msg, sizeof g->msg - 4);
		memcpy(g->msg + sizeof g->msg - 4, "...", 4);
	} else {
		memcpy(g->msg, msg, len + 1);
	}
}

/* Errors are always counted, even when they cannot be stored (out of
 * memory, or past DIAGS_MAX): the caller must never see "no errors" then. */
__attribute__((format(printf, 4, 5)))
static void diag(struct dlg_diags *d, enum dlg_diag_level level, unsigned line,
		 const char *fmt, ...)
{
	char msg[sizeof ((struct dlg_diag *)0)->msg + 8];
	va_list ap;

	if (level == DLG_DIAG_ERROR)
		d->n_errors++;
	if (d->n == DIAGS_MAX - 1) {
		diag_store(d, DLG_DIAG_WARNING, 0,
			   "too many problems: further ones are not shown");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	diag_store(d, level, line, msg);
}

#define ERR(d, line, ...) diag((d), DLG_DIAG_ERROR, (line), __VA_ARGS__)
#define WARN(d, line, ...) diag((d), DLG_DIAG_WARNING, (line), __VA_ARGS__)

/* Room for QUOTE_MAX bytes, one last escape, "...", quotes and NUL. */
typedef char qbuf[QUOTE_MAX + 8];

/* User text in a message: escaped (a policy under review must not be able
 * to drive the reviewer's terminal) and cut to QUOTE_MAX. */
static const char *quote(qbuf *buf, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	const unsigned char *u = (const unsigned char *)s;

	(*buf)[o++] = '"';
	for (; *u; u++) {
		if (o >= QUOTE_MAX) {
			memcpy(*buf + o, "...", 3);
			o += 3;
			break;
		}
		if (*u < 0x20 || *u == 0x7f || *u == '"' || *u == '\\') {
			(*buf)[o++] = '\\';
			if (*u == '"' || *u == '\\') {
				(*buf)[o++] = (char)*u;
			} else {
				(*buf)[o++] = 'x';
				(*buf)[o++] = hex[*u >> 4];
				(*buf)[o++] = hex[*u & 15];
			}
		} else {
			(*buf)[o++] = (char)*u;
		}
	}
	(*buf)[o++] = '"';
	(*buf)[o] = '\0';
	return *buf;
}

static unsigned line_of(const config_setting_t *s)
{
	return config_setting_source_line(s);
}

static const char *type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP: return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a number";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array";
	case CONFIG_TYPE_LIST: return "a list";
	default: return "an unknown type";
	}
}

/* ---- files ------------------------------------------------------------ */

/* Reads a regular file of at most CONF_MAX_BYTES into a NUL-terminated
 * buffer (policies and manifests). Refuses anything else before opening it
 * (a FIFO or device must never block or be touched), and re-checks the
 * opened fd in case the path changed in between. NULL with why filled. */
static char *slurp(const char *path, size_t *out_len, char *why, size_t whylen)
{
	struct stat st;
	char *buf = NULL, *nb;
	size_t len = 0, cap;
	int fd = -1;

	if (stat(path, &st) != 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		return NULL;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "it is a directory");
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "it is %s, not a regular file", dlg_file_kind(st.st_mode));
		return NULL;
	}
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "it changed while being opened");
		goto fail;
	}
	if ((unsigned long long)st.st_size > CONF_MAX_BYTES)
		goto too_big;
	/* One spare byte beyond st_size notices a file that grew meanwhile. */
	cap = (size_t)st.st_size + 2;
	buf = malloc(cap);
	if (!buf)
		goto oom;
	for (;;) {
		ssize_t r;

		if (len > CONF_MAX_BYTES)
			goto too_big;
		if (len == cap - 1) {
			cap = cap > CONF_MAX_BYTES / 2 ? CONF_MAX_BYTES + 2 : cap * 2;
			nb = realloc(buf, cap);
			if (!nb)
				goto oom;
			buf = nb;
		}
		r = read(fd, buf + len, cap - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(why, whylen, "%s", strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	*out_len = len;
	return buf;
too_big:
	snprintf(why, whylen, "it is larger than %zu MiB", CONF_MAX_BYTES >> 20);
	goto fail;
oom:
	snprintf(why, whylen, "out of memory");
fail:
	free(buf);
	close(fd);
	return NULL;
}

/* ---- values ----------------------------------------------------------- */

/* "rule 3: " or "" (top level / log), prefixed to value messages. */
static void where_rule(char *buf, size_t len, size_t rule_no)
{
	if (rule_no)
		snprintf(buf, len, "rule %zu: ", rule_no);
	else
		buf[0] = '\0';
}

static bool has_dot_component(const char *s)
{
	const char *c = s;

	while (*c) {
		const char *end;
		size_t n;

		while (*c == '/')
			c++;
		end = strchrnul(c, '/');
		n = (size_t)(end - c);
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return true;
		c = end;
	}
	return false;
}

/* Rules match canonical paths, so a non-canonical spelling could never match
 * what the author meant: reject it rather than guess. 'key' names the setting
 * in messages; is_dir allows "/". */
static bool check_path(struct dlg_diags *d, unsigned line, size_t rule_no,
		       const char *key, const char *s, bool is_dir)
{
	char w[32];
	qbuf q;
	size_t len = strlen(s);

	where_rule(w, sizeof w, rule_no);
	if (len == 0) {
		ERR(d, line, "%s%s is empty", w, key);
		return false;
	}
	if (s[0] != '/') {
		ERR(d, line, "%s%s %s is not absolute: it must start with '/'", w, key,
		    quote(&q, s));
		return false;
	}
	if (len >= PATH_MAX) {
		ERR(d, line, "%s%s is %zu bytes long, more than a path can be (%d)", w, key,
		    len, PATH_MAX - 1);
		return false;
	}
	if (strstr(s, "//")) {
		ERR(d, line, "%s%s %s contains \"//\": write the path canonically", w, key,
		    quote(&q, s));
		return false;
	}
	if (len > 1 && s[len - 1] == '/') {
		ERR(d, line, "%s%s %s ends with '/': write the path canonically, without it",
		    w, key, quote(&q, s));
		return false;
	}
	if (has_dot_component(s)) {
		ERR(d, line, "%s%s %s has a \".\" or \"..\" component: write the path "
		    "canonically (matching uses resolved paths)", w, key, quote(&q, s));
		return false;
	}
	if (!is_dir && len == 1) {
		ERR(d, line, "%s%s \"/\" is a directory, not a file%s", w, key,
		    rule_no ? ": use dir" : "");
		return false;
	}
	return true;
}

/* A string setting that must be an absolute canonical path; *out is
 * strdup'ed. Returns false (diag given) on any problem. */
static bool read_path(struct dlg_diags *d, const config_setting_t *s, size_t rule_no,
		      bool is_dir, char **out)
{
	char w[32];
	const char *key = config_setting_name(s);
	const char *v;

	where_rule(w, sizeof w, rule_no);
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		ERR(d, line_of(s), "%s%s must be a string (an absolute path), not %s", w, key,
		    type_name(s));
		return false;
	}
	v = config_setting_get_string(s);
	if (!check_path(d, line_of(s), rule_no, key, v, is_dir))
		return false;
	*out = strdup(v);
	if (!*out) {
		ERR(d, line_of(s), "out of memory");
		return false;
	}
	return true;
}

/* A string that must be one of two words; *out gets 0 or 1. */
static bool read_word(struct dlg_diags *d, const config_setting_t *s, size_t rule_no,
		      const char *w0, const char *w1, int *out)
{
	const char *key = config_setting_name(s);
	const char *v;
	char w[32];
	qbuf q;

	where_rule(w, sizeof w, rule_no);
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		ERR(d, line_of(s), "%s%s must be the string \"%s\" or \"%s\", not %s", w, key,
		    w0, w1, type_name(s));
		return false;
	}
	v = config_setting_get_string(s);
	if (strcmp(v, w0) == 0) {
		*out = 0;
		return true;
	}
	if (strcmp(v, w1) == 0) {
		*out = 1;
		return true;
	}
	ERR(d, line_of(s), "%s%s must be \"%s\" or \"%s\", not %s", w, key, w0, w1,
	    quote(&q, v));
	return false;
}

static bool read_bool(struct dlg_diags *d, const config_setting_t *s, bool *out)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		ERR(d, line_of(s), "log.%s must be true or false, not %s",
		    config_setting_name(s), type_name(s));
		return false;
	}
	*out = config_setting_get_bool(s) != 0;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 64 hex digits into out; false (and nothing said, out clobbered) for anything
 * else. */
static bool hex_digest(const char *s, unsigned char out[DLG_SHA256_LEN])
{
	size_t i;

	if (strlen(s) != (size_t)2 * DLG_SHA256_LEN)
		return false;
	for (i = 0; i < DLG_SHA256_LEN; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

static bool parse_digest(struct dlg_diags *d, unsigned line, size_t rule_no, const char *s,
			 unsigned char out[DLG_SHA256_LEN])
{
	size_t len = strlen(s), i;
	qbuf q;

	if (hex_digest(s, out))
		return true;
	if (len != (size_t)2 * DLG_SHA256_LEN) {
		ERR(d, line, "rule %zu: sha256 %s has %zu characters; a SHA-256 digest is "
		    "exactly 64 hex digits", rule_no, quote(&q, s), len);
		return false;
	}
	for (i = 0; hexval(s[i]) >= 0; i++)
		;
	ERR(d, line, "rule %zu: sha256 %s has a non-hex character at position %zu", rule_no,
	    quote(&q, s), i + 1);
	return false;
}

/* A digest and its item number: sorted by both, each repeat lands right
 * after the earliest item with the same digest, so one pass over the sorted
 * array names every later item, as a compare-with-all-earlier loop would
 * (that loop took minutes on learned policies with a million digests). */
struct digest_at {
	unsigned char d[DLG_SHA256_LEN];
	size_t i;
};

static int digest_at_cmp(const void *pa, const void *pb)
{
	const struct digest_at *a = pa, *b = pb;
	int c = memcmp(a->d, b->d, DLG_SHA256_LEN);

	if (c)
		return c;
	return (a->i > b->i) - (a->i < b->i);
}

/* A key that takes one string or an array of them: how many elements (an
 * empty array, or any other type, is an error naming the key). */
static bool one_or_array(struct dlg_diags *d, const config_setting_t *s, size_t rule_no,
			 const char *key, const char *expected, size_t *n)
{
	int type = config_setting_type(s);

	if (type == CONFIG_TYPE_STRING) {
		*n = 1;
		return true;
	}
	if (type != CONFIG_TYPE_ARRAY) {
		ERR(d, line_of(s), "rule %zu: %s must be %s, not %s", rule_no, key, expected,
		    type_name(s));
		return false;
	}
	*n = (size_t)config_setting_length(s);
	if (*n == 0) {
		ERR(d, line_of(s), "rule %zu: %s array is empty", rule_no, key);
		return false;
	}
	return true;
}

/* Item i of a setting that is one string or an array of them. */
static const config_setting_t *string_item(const config_setting_t *s, size_t i)
{
	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		return s;
	return config_setting_get_elem(s, (unsigned)i);
}

/* The items that are well-formed digests, sorted by (digest, item). */
static size_t collect_digests(const config_setting_t *s, size_t n, struct digest_at *v)
{
	size_t i, good = 0;

	for (i = 0; i < n; i++) {
		const config_setting_t *e = string_item(s, i);

		if (config_setting_type(e) == CONFIG_TYPE_STRING &&
		    hex_digest(config_setting_get_string(e), v[good].d))
			v[good++].i = i;
	}
	qsort(v, good, sizeof *v, digest_at_cmp);
	return good;
}

static bool mark_repeats(const struct digest_at *v, size_t good, bool *repeat)
{
	bool any = false;

	for (size_t k = 1; k < good; k++) {
		if (memcmp(v[k].d, v[k - 1].d, DLG_SHA256_LEN) == 0) {
			repeat[v[k].i] = true;
			any = true;
		}
	}
	return any;
}

/* One error per bad item, in item order (the order the findings of one line
 * keep). */
static void report_digests(struct dlg_diags *d, const config_setting_t *s, size_t rule_no,
			   size_t n, const bool *repeat)
{
	unsigned char scratch[DLG_SHA256_LEN];

	for (size_t i = 0; i < n; i++) {
		const config_setting_t *e = string_item(s, i);
		unsigned line = line_of(e) ? line_of(e) : line_of(s);

		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			ERR(d, line, "rule %zu: sha256 item %zu must be a string, not %s",
			    rule_no, i + 1, type_name(e));
		else if (parse_digest(d, line, rule_no, config_setting_get_string(e), scratch) &&
			 repeat[i])
			ERR(d, line, "rule %zu: sha256 item %zu repeats an earlier digest "
			    "of the same rule", rule_no, i + 1);
	}
}

/* sha256 = "hex"; or sha256 = [ "hex", ... ]; stored sorted (order has no
 * meaning, and sorted sets compare and search cheaply). */
static bool read_digests(struct dlg_diags *d, const config_setting_t *s, size_t rule_no,
			 struct dlg_rule *r)
{
	unsigned char (*out)[DLG_SHA256_LEN];
	struct digest_at *v;
	bool *repeat, ok = false;
	size_t n, good, k;

	if (!one_or_array(d, s, rule_no, "sha256",
			  "a string or an array of strings [ \"...\", \"...\" ]", &n))
		return false;
	v = malloc(n * sizeof *v);
	repeat = calloc(n, sizeof *repeat);
	out = malloc(n * sizeof *out);
	if (!v || !repeat || !out) {
		ERR(d, line_of(s), "out of memory");
		goto end;
	}
	good = collect_digests(s, n, v);
	if (mark_repeats(v, good, repeat) || good != n) {
		report_digests(d, s, rule_no, n, repeat);
		goto end;
	}
	for (k = 0; k < n; k++)
		memcpy(out[k], v[k].d, DLG_SHA256_LEN);
	r->sha256 = out;
	r->n_sha256 = n;
	out = NULL;
	ok = true;
end:
	free(out);
	free(repeat);
	free(v);
	return ok;
}

/* ---- keys and signatures ---------------------------------------------- */

static bool key_name_ok(const char *s)
{
	static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";
	size_t n = strlen(s);

	return n > 0 && n <= DLG_KEY_NAME_MAX && strspn(s, ok) == n;
}

/* Index of the key called name, or -1. Policies name a handful of keys. */
static long find_key(const struct dlg_policy *p, const char *name)
{
	for (size_t i = 0; i < p->n_keys; i++)
		if (strcmp(p->keys[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* The name of one keys = ( ... ) entry, or NULL (diag given). */
static const char *key_entry_name(struct dlg_diags *d, const config_setting_t *s, size_t no,
				  const struct dlg_policy *p)
{
	const char *name;
	long dup;
	qbuf q;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		ERR(d, line_of(s), "key %zu: name must be a string, not %s", no, type_name(s));
		return NULL;
	}
	name = config_setting_get_string(s);
	if (!key_name_ok(name)) {
		ERR(d, line_of(s), "key %zu: name %s must be 1 to %d characters from A-Z a-z "
		    "0-9 _ . -", no, quote(&q, name), DLG_KEY_NAME_MAX);
		return NULL;
	}
	dup = find_key(p, name);
	if (dup >= 0) {
		ERR(d, line_of(s), "key %zu: name %s is already used by the key at line %u", no,
		    quote(&q, name), p->keys[dup].line);
		return NULL;
	}
	return name;
}

/* Loads the PEM file: a weak or unknown key is an error on the key's line. */
static void key_load(struct dlg_diags *d, struct dlg_key *k)
{
	char err[256];
	qbuf q;

	err[0] = '\0';
	if (dlg_key_load_pem(k->public_key, &k->der, &k->der_len, &k->type, err,
			     sizeof err) != 0) {
		ERR(d, k->line, "key %s: %s", quote(&q, k->name), err[0] ? err : "cannot load");
		k->der = NULL;
		k->der_len = 0;
		return;
	}
	if (k->der_len == 0 || k->der_len > DLG_KEY_DER_MAX) {
		ERR(d, k->line, "key %s: public key is %zu bytes long in DER, more than %d",
		    quote(&q, k->name), k->der_len, DLG_KEY_DER_MAX);
		free(k->der);
		k->der = NULL;
		k->der_len = 0;
	}
}

/* One { name = ...; public_key = ...; }. An entry with a usable name is
 * recorded even when its key fails to load (der stays NULL), so rules that
 * name it do not also report "unknown key". */
static void read_key(struct dlg_diags *d, const config_setting_t *g, size_t no,
		     struct dlg_policy *p)
{
	const config_setting_t *name_s = NULL, *pk_s = NULL;
	const char *name = NULL;
	unsigned line = line_of(g);
	struct dlg_key *k;
	char *pem = NULL;
	bool ok = true;
	qbuf q;
	int i, n;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		ERR(d, line, "key %zu must be a group { name = \"...\"; public_key = \"...\"; }, "
		    "not %s", no, type_name(g));
		return;
	}
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *m = config_setting_name(s);

		if (strcmp(m, "name") == 0) {
			name_s = s;
		} else if (strcmp(m, "public_key") == 0) {
			pk_s = s;
		} else {
			ERR(d, line_of(s), "key %zu: unknown key %s (a key takes name, public_key)",
			    no, quote(&q, m));
			ok = false;
		}
	}
	if (!name_s)
		ERR(d, line, "key %zu has no name: add name = \"...\";", no);
	else
		name = key_entry_name(d, name_s, no, p);
	if (!pk_s) {
		ERR(d, line, "key %zu has no public_key: add public_key = \"/path/key.pem\";", no);
		ok = false;
	} else if (!read_path(d, pk_s, 0, false, &pem)) {
		ok = false;
	}
	if (!name) {
		free(pem);
		return;
	}
	k = &p->keys[p->n_keys];
	k->line = line;
	k->public_key = pem;
	k->name = strdup(name);
	if (!k->name) {
		ERR(d, line, "out of memory");
		free(pem);
		k->public_key = NULL;
		return;
	}
	p->n_keys++;
	if (ok)
		key_load(d, k);
}

static void read_keys(struct dlg_diags *d, const config_setting_t *s, struct dlg_policy *p)
{
	size_t n, i, j;
	qbuf q1, q2;

	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		ERR(d, line_of(s), "keys must be a list ( { name = \"...\"; public_key = \"...\"; "
		    "}, ... ), not %s", type_name(s));
		return;
	}
	n = (size_t)config_setting_length(s);
	if (n == 0)
		return;
	p->keys = calloc(n, sizeof *p->keys);
	if (!p->keys) {
		ERR(d, line_of(s), "out of memory");
		return;
	}
	for (i = 0; i < n; i++)
		read_key(d, config_setting_get_elem(s, (unsigned)i), i + 1, p);
	for (i = 0; i < p->n_keys; i++) {
		for (j = 0; j < i && p->keys[i].der; j++) {
			if (p->keys[j].der && p->keys[j].der_len == p->keys[i].der_len &&
			    memcmp(p->keys[j].der, p->keys[i].der, p->keys[i].der_len) == 0) {
				WARN(d, p->keys[i].line, "key %s is the same public key as key %s "
				     "at line %u", quote(&q1, p->keys[i].name),
				     quote(&q2, p->keys[j].name), p->keys[j].line);
				break;
			}
		}
	}
}

/* Keys nobody trusts are probably a typo in a signed_by. */
static void warn_unused_keys(struct dlg_diags *d, const struct dlg_policy *p)
{
	for (size_t k = 0; k < p->n_keys; k++) {
		bool used = false;
		qbuf q;

		for (size_t i = 0; i < p->n_rules && !used; i++)
			for (size_t j = 0; j < p->rules[i].n_signed_by && !used; j++)
				used = p->rules[i].signed_by[j] == k;
		if (!used && p->keys[k].der)
			WARN(d, p->keys[k].line, "key %s is not used by any rule",
			     quote(&q, p->keys[k].name));
	}
}

static void read_signatures(struct dlg_diags *d, const config_setting_t *g, struct dlg_policy *p)
{
	int i, n;
	qbuf q;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		ERR(d, line_of(g), "signatures must be a group { dir = \"...\"; }, not %s",
		    type_name(g));
		return;
	}
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);
		const char *v;

		if (strcmp(name, "dir") != 0) {
			ERR(d, line_of(s), "unknown key %s in signatures (signatures takes dir)",
			    quote(&q, name));
			continue;
		}
		if (config_setting_type(s) != CONFIG_TYPE_STRING) {
			ERR(d, line_of(s), "signatures.dir must be a string (an absolute path), "
			    "not %s", type_name(s));
			continue;
		}
		v = config_setting_get_string(s);
		if (!check_path(d, line_of(s), 0, "signatures.dir", v, true))
			continue;
		if (strcmp(v, "/") == 0) {
			ERR(d, line_of(s), "signatures.dir \"/\" is where signatures are looked for "
			    "anyway (next to each library): name a separate directory");
			continue;
		}
		p->sig_dir = strdup(v);
		if (!p->sig_dir)
			ERR(d, line_of(s), "out of memory");
	}
}

static int index_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

/* signed_by = "name"; or signed_by = [ "a", "b" ]; stored as sorted key
 * indices. A name whose key failed to load makes the rule invalid without a
 * second message. */
static bool read_signed_by(struct dlg_diags *d, const config_setting_t *s, size_t no,
			   const struct dlg_policy *p, struct dlg_rule *r)
{
	int type = config_setting_type(s);
	size_t n, i, j, good = 0, *v;
	bool ok = true;
	qbuf q;

	if (!one_or_array(d, s, no, "signed_by",
			  "a key name or an array of key names [ \"a\", \"b\" ]", &n))
		return false;
	v = calloc(n, sizeof *v);
	if (!v) {
		ERR(d, line_of(s), "out of memory");
		return false;
	}
	for (i = 0; i < n; i++) {
		const config_setting_t *e = type == CONFIG_TYPE_STRING ? s
			: config_setting_get_elem(s, (unsigned)i);
		unsigned line = line_of(e) ? line_of(e) : line_of(s);
		const char *name;
		long k;

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			ERR(d, line, "rule %zu: signed_by item %zu must be a string, not %s", no,
			    i + 1, type_name(e));
			ok = false;
			continue;
		}
		name = config_setting_get_string(e);
		k = find_key(p, name);
		if (k < 0) {
			ERR(d, line, "rule %zu: signed_by names key %s, which keys = ( ... ) does "
			    "not define", no, quote(&q, name));
			ok = false;
			continue;
		}
		for (j = 0; j < good && v[j] != (size_t)k; j++)
			;
		if (j < good) {
			ERR(d, line, "rule %zu: signed_by item %zu repeats key %s", no, i + 1,
			    quote(&q, name));
			ok = false;
			continue;
		}
		if (!p->keys[k].der)
			ok = false;
		v[good++] = (size_t)k;
	}
	if (!ok) {
		free(v);
		return false;
	}
	qsort(v, n, sizeof *v, index_cmp);
	r->signed_by = v;
	r->n_signed_by = n;
	return true;
}

/* ---- risk conditions and top-level options ------------------------------ */

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* A setting that may be one scalar or an array (or, when lists_too, a list)
 * of them: false when it is neither; *n receives the number of items
 * (item_of gives each). */
static bool scalar_or_many(const config_setting_t *s, bool lists_too, size_t *n)
{
	int type = config_setting_type(s);

	if (type == CONFIG_TYPE_ARRAY || (lists_too && type == CONFIG_TYPE_LIST)) {
		*n = (size_t)config_setting_length(s);
		return true;
	}
	*n = 1;
	return type != CONFIG_TYPE_GROUP && type != CONFIG_TYPE_LIST &&
	       type != CONFIG_TYPE_ARRAY;
}

static const config_setting_t *item_of(const config_setting_t *s, size_t i)
{
	int type = config_setting_type(s);

	if (type == CONFIG_TYPE_ARRAY || type == CONFIG_TYPE_LIST)
		return config_setting_get_elem(s, (unsigned)i);
	return s;
}

static unsigned item_line(const config_setting_t *e, const config_setting_t *s)
{
	return line_of(e) ? line_of(e) : line_of(s);
}

/* fileless = true; writable = true. false is refused: a rule without the key
 * already matches either way, and false-as-negation would be easy to misread. */
static bool read_risk_flag(struct dlg_diags *d, const config_setting_t *s, size_t no,
			   uint32_t bit, struct dlg_rule *r)
{
	const char *key = config_setting_name(s);

	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		ERR(d, line_of(s), "rule %zu: %s must be true, not %s", no, key, type_name(s));
		return false;
	}
	if (!config_setting_get_bool(s)) {
		ERR(d, line_of(s), "rule %zu: %s = false is not a condition: remove it (a rule "
		    "without %s matches either way; to exclude such files, put a deny rule with "
		    "%s = true above)", no, key, key, key);
		return false;
	}
	r->risk |= bit;
	return true;
}

/* One owner item: a uid, or a user name resolved now (the preload never
 * looks names up: the compiled policy holds uids). */
static bool owner_item(struct dlg_diags *d, const config_setting_t *e, unsigned line,
		       size_t no, size_t i, uint32_t *uid)
{
	const struct passwd *pw;
	char w[32];
	long long v;
	qbuf q;

	/* "owner item 2" in a list, "owner" alone */
	if (config_setting_parent(e) && config_setting_name(e))
		snprintf(w, sizeof w, "owner");
	else
		snprintf(w, sizeof w, "owner item %zu", i + 1);

	switch (config_setting_type(e)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v = config_setting_get_int64(e);
		if (v < 0 || v > (long long)UINT32_MAX - 1) {
			ERR(d, line, "rule %zu: %s: uid %lld is out of range (0 to %lu)", no, w, v,
			    (unsigned long)UINT32_MAX - 1);
			return false;
		}
		*uid = (uint32_t)v;
		return true;
	case CONFIG_TYPE_STRING:
		pw = getpwnam(config_setting_get_string(e));
		if (!pw) {
			ERR(d, line, "rule %zu: owner %s: no such user on this machine (names are "
			    "resolved to uids when the policy is compiled)", no,
			    quote(&q, config_setting_get_string(e)));
			return false;
		}
		*uid = (uint32_t)pw->pw_uid;
		return true;
	default:
		ERR(d, line, "rule %zu: %s must be a user name or a uid, not %s", no, w,
		    type_name(e));
		return false;
	}
}

/* owner = "root"; owner = 1000; owner = [ 0, 1000 ]; owner = ( 0, "daemon" );
 * stored as sorted uids. */
static bool read_owner(struct dlg_diags *d, const config_setting_t *s, size_t no,
		       struct dlg_rule *r)
{
	size_t n, i, j, good = 0;
	uint32_t *v;
	bool ok = true;

	if (!scalar_or_many(s, true, &n)) {
		ERR(d, line_of(s), "rule %zu: owner must be a user name, a uid, or a list of them "
		    "( 0, \"daemon\" ), not %s", no, type_name(s));
		return false;
	}
	if (n == 0) {
		ERR(d, line_of(s), "rule %zu: owner list is empty", no);
		return false;
	}
	v = calloc(n, sizeof *v);
	if (!v) {
		ERR(d, line_of(s), "out of memory");
		return false;
	}
	for (i = 0; i < n; i++) {
		const config_setting_t *e = item_of(s, i);
		unsigned line = item_line(e, s);

		if (!owner_item(d, e, line, no, i, &v[good])) {
			ok = false;
			continue;
		}
		for (j = 0; j < good && v[j] != v[good]; j++)
			;
		if (j < good) {
			ERR(d, line, "rule %zu: owner item %zu repeats uid %u", no, i + 1,
			    (unsigned)v[good]);
			ok = false;
			continue;
		}
		good++;
	}
	if (!ok) {
		free(v);
		return false;
	}
	qsort(v, n, sizeof *v, u32_cmp);
	r->owners = v;
	r->n_owners = n;
	return true;
}

/* "nfs cifs ..." for messages. */
static void fs_known(char *buf, size_t len)
{
	const struct dlg_fs_type *t;
	size_t n, o = 0;

	t = dlg_fs_types(&n);
	buf[0] = '\0';
	for (size_t i = 0; i < n && o < len; i++) {
		int k = snprintf(buf + o, len - o, "%s%s", i ? " " : "", t[i].name);

		if (k < 0)
			break;
		o += (size_t)k;
	}
}

/* Adds the statfs types of one fs name to v (room for DLG_FS_MAGICS more);
 * false when the name is unknown. */
static bool fs_lookup(const char *name, uint32_t *v, size_t *nv)
{
	const struct dlg_fs_type *t;
	size_t n;

	t = dlg_fs_types(&n);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(t[i].name, name) != 0)
			continue;
		for (size_t j = 0; j < DLG_FS_MAGICS; j++)
			if (t[i].magic[j])
				v[(*nv)++] = t[i].magic[j];
		return true;
	}
	return false;
}

/* fs = "nfs"; fs = [ "nfs", "cifs" ]; stored as sorted distinct statfs
 * types (ext2/ext3/ext4 are one type to statfs, cifs and smb3 two). */
static bool read_fs(struct dlg_diags *d, const config_setting_t *s, size_t no,
		    struct dlg_rule *r)
{
	size_t n, i, j, nv = 0, k;
	char known[200];
	uint32_t *v;
	bool ok = true;
	qbuf q;

	if (config_setting_type(s) != CONFIG_TYPE_STRING &&
	    config_setting_type(s) != CONFIG_TYPE_ARRAY) {
		ERR(d, line_of(s), "rule %zu: fs must be a file system type or an array of them "
		    "[ \"nfs\", \"cifs\" ], not %s", no, type_name(s));
		return false;
	}
	scalar_or_many(s, false, &n);
	if (n == 0) {
		ERR(d, line_of(s), "rule %zu: fs array is empty", no);
		return false;
	}
	v = calloc(n * DLG_FS_MAGICS, sizeof *v);
	if (!v) {
		ERR(d, line_of(s), "out of memory");
		return false;
	}
	for (i = 0; i < n; i++) {
		const config_setting_t *e = item_of(s, i);
		unsigned line = item_line(e, s);
		const char *name;

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			ERR(d, line, "rule %zu: fs item %zu must be a string, not %s", no, i + 1,
			    type_name(e));
			ok = false;
			continue;
		}
		name = config_setting_get_string(e);
		for (j = 0; j < i; j++)
			if (config_setting_type(item_of(s, j)) == CONFIG_TYPE_STRING &&
			    strcmp(config_setting_get_string(item_of(s, j)), name) == 0)
				break;
		if (j < i) {
			ERR(d, line, "rule %zu: fs item %zu repeats %s", no, i + 1,
			    quote(&q, name));
			ok = false;
			continue;
		}
		if (!fs_lookup(name, v, &nv)) {
			fs_known(known, sizeof known);
			ERR(d, line, "rule %zu: fs %s is not a type dlguard knows (known: %s)", no,
			    quote(&q, name), known);
			ok = false;
		}
	}
	if (!ok) {
		free(v);
		return false;
	}
	qsort(v, nv, sizeof *v, u32_cmp);
	for (j = 0, k = 0; j < nv; j++)
		if (k == 0 || v[j] != v[k - 1])
			v[k++] = v[j];
	r->fs = v;
	r->n_fs = k;
	return true;
}

/* recent = seconds (an integer, 1 to 2^31-1). */
static bool read_recent(struct dlg_diags *d, const config_setting_t *s, size_t no,
			struct dlg_rule *r)
{
	int type = config_setting_type(s);
	long long v;

	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
		ERR(d, line_of(s), "rule %zu: recent must be a number of seconds (an integer), "
		    "not %s", no, type_name(s));
		return false;
	}
	v = config_setting_get_int64(s);
	if (v < 1 || v > INT32_MAX) {
		ERR(d, line_of(s), "rule %zu: recent = %lld is out of range (1 to %d seconds)", no,
		    v, INT32_MAX);
		return false;
	}
	r->recent = (uint32_t)v;
	return true;
}

/* "LD_PRELOAD LD_LIBRARY_PATH ..." for messages. */
static void env_known(char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (uint32_t bit = 1; bit & DLG_ENV_KNOWN && o < len; bit <<= 1) {
		int k = snprintf(buf + o, len - o, "%s%s", o ? " " : "", dlg_env_var_name(bit));

		if (k < 0)
			break;
		o += (size_t)k;
	}
}

/* env.strip = "LD_PRELOAD"; or env.strip = [ "LD_PRELOAD", ... ]. */
static void read_strip(struct dlg_diags *d, const config_setting_t *s, struct dlg_policy *p)
{
	uint32_t mask = 0, bit;
	char known[240];
	bool ok = true;
	size_t n;
	qbuf q;

	if (config_setting_type(s) != CONFIG_TYPE_STRING &&
	    config_setting_type(s) != CONFIG_TYPE_ARRAY) {
		ERR(d, line_of(s), "env.strip must be a variable name or an array of them "
		    "[ \"LD_PRELOAD\", \"LD_AUDIT\" ], not %s", type_name(s));
		return;
	}
	scalar_or_many(s, false, &n);
	if (n == 0) {
		ERR(d, line_of(s), "env.strip array is empty");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *e = item_of(s, i);
		unsigned line = item_line(e, s);
		const char *name;

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			ERR(d, line, "env.strip item %zu must be a string, not %s", i + 1,
			    type_name(e));
			ok = false;
			continue;
		}
		name = config_setting_get_string(e);
		bit = dlg_env_var_bit(name);
		if (!bit && strncmp(name, "DLGUARD_", 8) == 0) {
			ERR(d, line, "env.strip: %s cannot be stripped: that would only let child "
			    "processes escape the guard's policies", quote(&q, name));
			ok = false;
		} else if (!bit) {
			env_known(known, sizeof known);
			ERR(d, line, "env.strip: %s is not one of %s", quote(&q, name), known);
			ok = false;
		} else if (mask & bit) {
			ERR(d, line, "env.strip item %zu repeats %s", i + 1, quote(&q, name));
			ok = false;
		}
		mask |= bit;
	}
	if (ok)
		p->env_strip = mask;
}

static void read_env(struct dlg_diags *d, const config_setting_t *g, struct dlg_policy *p,
		     unsigned *strip_line)
{
	int i, n;
	qbuf q;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		ERR(d, line_of(g), "env must be a group { strip = [ ... ]; "
		    "deny_untrusted_preload = true; }, not %s", type_name(g));
		return;
	}
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);

		if (strcmp(name, "strip") == 0) {
			*strip_line = line_of(s);
			read_strip(d, s, p);
		} else if (strcmp(name, "deny_untrusted_preload") == 0) {
			if (config_setting_type(s) != CONFIG_TYPE_BOOL)
				ERR(d, line_of(s), "env.deny_untrusted_preload must be true or "
				    "false, not %s", type_name(s));
			else
				p->deny_untrusted_preload = config_setting_get_bool(s) != 0;
		} else {
			ERR(d, line_of(s), "unknown key %s in env (env takes strip, "
			    "deny_untrusted_preload)", quote(&q, name));
		}
	}
}

/* ---- manifests -------------------------------------------------------- */

/* A manifest line while parsing: where it came from, for messages. */
struct mline {
	struct dlg_manifest_entry e;
	size_t line;
};

static int entry_cmp(const struct dlg_manifest_entry *a, const struct dlg_manifest_entry *b)
{
	int c = strcmp(a->path, b->path);

	return c ? c : memcmp(a->sha256, b->sha256, DLG_SHA256_LEN);
}

static int mline_cmp(const void *pa, const void *pb)
{
	const struct mline *a = pa, *b = pb;
	int c = entry_cmp(&a->e, &b->e);

	if (c)
		return c;
	return (a->line > b->line) - (a->line < b->line);
}

static int entry_qsort_cmp(const void *a, const void *b)
{
	return entry_cmp(a, b);
}

/* The file name of a sha256sum line, unescaped as coreutils does when the
 * line starts with a backslash (\\ and \n, and \r as newer coreutils
 * write). NULL with why filled. */
static char *manifest_name(const char *s, size_t n, bool escaped, char *why, size_t whylen)
{
	char *out = malloc(n + 1);
	size_t o = 0;

	if (!out) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!escaped || s[i] != '\\') {
			out[o++] = s[i];
			continue;
		}
		if (i + 1 == n || (s[i + 1] != '\\' && s[i + 1] != 'n' && s[i + 1] != 'r')) {
			snprintf(why, whylen, "bad escape in the file name: only \\\\, \\n and \\r "
				 "are known");
			free(out);
			return NULL;
		}
		i++;
		out[o++] = s[i] == 'n' ? '\n' : s[i] == 'r' ? '\r' : '\\';
	}
	out[o] = '\0';
	return out;
}

/* "<64 hex><space><space or *><absolute path>", optionally with the leading
 * backslash that marks escaped names. */
static bool manifest_line(const char *s, size_t n, struct dlg_manifest_entry *out,
			  char *why, size_t whylen)
{
	const size_t hexlen = 2 * DLG_SHA256_LEN;
	bool escaped = n > 0 && s[0] == '\\';
	qbuf q;

	if (escaped) {
		s++;
		n--;
	}
	if (n < hexlen + 3 || s[hexlen] != ' ' || (s[hexlen + 1] != ' ' && s[hexlen + 1] != '*')) {
		snprintf(why, whylen, "not a sha256sum line (\"<64 hex digits>  /path\")");
		return false;
	}
	for (size_t i = 0; i < hexlen; i++) {
		if (hexval(s[i]) < 0) {
			snprintf(why, whylen, "digest has a non-hex character at position %zu",
				 i + 1);
			return false;
		}
	}
	for (size_t i = 0; i < DLG_SHA256_LEN; i++)
		out->sha256[i] = (unsigned char)(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]));
	out->path = manifest_name(s + hexlen + 2, n - hexlen - 2, escaped, why, whylen);
	if (!out->path)
		return false;
	if (out->path[0] != '/' || strlen(out->path) >= PATH_MAX) {
		snprintf(why, whylen, "path %s is %s", quote(&q, out->path),
			 out->path[0] != '/' ? "not absolute: a manifest lists absolute paths"
					     : "too long");
		free(out->path);
		out->path = NULL;
		return false;
	}
	return true;
}

/* Splits verified manifest text into entries sorted by path; a path listed
 * twice is an error. Messages carry the rule's line and the manifest's. */
static bool manifest_parse(struct dlg_diags *d, const struct dlg_rule *r, size_t no,
			   const char *mpath, const char *buf, size_t len,
			   struct dlg_manifest *m)
{
	const char *c = buf, *end = buf + len;
	struct mline *v;
	size_t n = 0, cap = 1, line = 1, i;
	bool ok = true;
	char why[PATH_MAX + 200];
	qbuf q;

	for (i = 0; i < len; i++)
		cap += buf[i] == '\n';
	v = calloc(cap, sizeof *v);
	if (!v) {
		ERR(d, r->line, "out of memory");
		return false;
	}
	for (; c < end; line++) {
		const char *nl = memchr(c, '\n', (size_t)(end - c));
		const char *le = nl ? nl : end;

		if (manifest_line(c, (size_t)(le - c), &v[n].e, why, sizeof why)) {
			v[n++].line = line;
		} else {
			ERR(d, r->line, "rule %zu: manifest %s line %zu: %s", no, quote(&q, mpath),
			    line, why);
			ok = false;
		}
		c = nl ? nl + 1 : end;
	}
	qsort(v, n, sizeof *v, mline_cmp);
	for (i = 1; i < n && ok; i++) {
		if (strcmp(v[i].e.path, v[i - 1].e.path) == 0) {
			ERR(d, r->line, "rule %zu: manifest %s line %zu lists %s again (first at "
			    "line %zu)", no, quote(&q, mpath), v[i].line, v[i].e.path, v[i - 1].line);
			ok = false;
		}
	}
	if (ok) {
		m->entries = calloc(n ? n : 1, sizeof *m->entries);
		if (!m->entries) {
			ERR(d, r->line, "out of memory");
			ok = false;
		}
	}
	for (i = 0; i < n; i++) {
		if (ok)
			m->entries[i] = v[i].e;
		else
			free(v[i].e.path);
	}
	if (ok)
		m->n_entries = n;
	free(v);
	if (ok && n == 0)
		WARN(d, r->line, "rule %zu: manifest %s lists no file: the rule matches nothing",
		     no, quote(&q, mpath));
	return ok;
}

/* "a", "b" for messages, cut to fit. */
static void key_list(const struct dlg_policy *p, const size_t *idx, size_t n, char *out,
		     size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && o < len; i++) {
		int w = snprintf(out + o, len - o, "%s\"%s\"", i ? ", " : "",
				 p->keys[idx[i]].name);

		if (w < 0)
			break;
		o += (size_t)w;
	}
}

static bool listed(const size_t *idx, size_t n, size_t k)
{
	for (size_t i = 0; i < n; i++)
		if (idx[i] == k)
			return true;
	return false;
}

/* Which of the rule's keys signed buf; SIZE_MAX (diag given) when none. A
 * signature by another key of the policy is named as such: the likely
 * mistake is a signed_by that lists the wrong key. */
static size_t manifest_signer(struct dlg_diags *d, const struct dlg_policy *p,
			      const struct dlg_rule *r, size_t no, const char *mpath,
			      const char *buf, size_t len, const unsigned char *sig, size_t sig_len)
{
	char err[256] = "", names[200];
	bool checked = false;
	qbuf q, q2;

	for (size_t i = 0; i < r->n_signed_by; i++) {
		const struct dlg_key *k = &p->keys[r->signed_by[i]];
		enum dlg_sig_result res = dlg_sig_verify_mem(buf, len, sig, sig_len, k->der,
							     k->der_len, k->type, err, sizeof err);

		if (res == DLG_SIG_VALID)
			return r->signed_by[i];
		checked |= res == DLG_SIG_INVALID;
	}
	for (size_t k = 0; k < p->n_keys; k++) {
		const struct dlg_key *o = &p->keys[k];
		char e2[64];

		if (!o->der || listed(r->signed_by, r->n_signed_by, k))
			continue;
		if (dlg_sig_verify_mem(buf, len, sig, sig_len, o->der, o->der_len, o->type, e2,
				       sizeof e2) == DLG_SIG_VALID) {
			key_list(p, r->signed_by, r->n_signed_by, names, sizeof names);
			ERR(d, r->line, "rule %zu: manifest %s is signed by key %s, which this rule "
			    "does not trust (signed_by %s)", no, quote(&q, mpath),
			    quote(&q2, o->name), names);
			return SIZE_MAX;
		}
	}
	key_list(p, r->signed_by, r->n_signed_by, names, sizeof names);
	if (checked)
		ERR(d, r->line, "rule %zu: manifest %s: its signature does not verify with "
		    "key %s (%s)", no, quote(&q, mpath), names, err);
	else
		ERR(d, r->line, "rule %zu: manifest %s: cannot check its signature: %s", no,
		    quote(&q, mpath), err);
	return SIZE_MAX;
}

static bool sha256_mem(const void *buf, size_t len, unsigned char out[DLG_SHA256_LEN],
		       char *err, size_t errlen)
{
	const struct dlg_crypto *c = dlg_crypto_get(err, errlen);
	unsigned int outlen = 0;
	void *ctx;
	bool ok;

	if (!c)
		return false;
	ctx = c->md_ctx_new();
	ok = ctx && c->digest_init(ctx, c->sha256(), NULL) == 1 &&
	     c->digest_update(ctx, buf, len) == 1 && c->digest_final(ctx, out, &outlen) == 1 &&
	     outlen == DLG_SHA256_LEN;
	if (ctx)
		c->md_ctx_free(ctx);
	if (!ok)
		snprintf(err, errlen, "libcrypto: SHA-256 failed");
	return ok;
}

/* Reads the manifest once, verifies its detached signature over exactly
 * those bytes with one of the rule's keys, and keeps what it lists. Only
 * this copy is ever used: the compiled policy embeds it. */
static bool load_manifest(struct dlg_diags *d, const struct dlg_policy *p, struct dlg_rule *r,
			  size_t no, char *mpath)
{
	char why[256], sigpath[PATH_MAX];
	unsigned char sig[DLG_SIG_MAX];
	struct dlg_manifest *m = NULL;
	size_t len = 0, sig_len = 0, signer;
	char *buf = NULL;
	bool ok = false;
	qbuf q;
	int w;

	buf = slurp(mpath, &len, why, sizeof why);
	if (!buf) {
		ERR(d, r->line, "rule %zu: cannot read manifest %s: %s", no, quote(&q, mpath), why);
		goto end;
	}
	if (memchr(buf, '\0', len)) {
		ERR(d, r->line, "rule %zu: manifest %s contains a NUL byte: it is not a "
		    "sha256sum list", no, quote(&q, mpath));
		goto end;
	}
	w = snprintf(sigpath, sizeof sigpath, "%s.sig", mpath);
	if (w < 0 || (size_t)w >= sizeof sigpath) {
		ERR(d, r->line, "rule %zu: manifest %s: signature path too long", no,
		    quote(&q, mpath));
		goto end;
	}
	if (dlg_sig_read_file(sigpath, sig, sizeof sig, &sig_len, why, sizeof why) != 0) {
		ERR(d, r->line, "rule %zu: manifest %s: cannot read its signature %s: %s", no,
		    quote(&q, mpath), sigpath, why);
		goto end;
	}
	signer = manifest_signer(d, p, r, no, mpath, buf, len, sig, sig_len);
	if (signer == SIZE_MAX)
		goto end;
	m = calloc(1, sizeof *m);
	if (!m || !(m->sig = malloc(sig_len))) {
		ERR(d, r->line, "out of memory");
		goto end;
	}
	if (!sha256_mem(buf, len, m->sha256, why, sizeof why)) {
		ERR(d, r->line, "rule %zu: manifest %s: %s", no, quote(&q, mpath), why);
		goto end;
	}
	memcpy(m->sig, sig, sig_len);
	m->sig_len = sig_len;
	m->key = signer;
	if (!manifest_parse(d, r, no, mpath, buf, len, m))
		goto end;
	m->path = mpath;
	mpath = NULL;
	r->manifest = m;
	m = NULL;
	ok = true;
end:
	if (m) {
		free(m->sig);
		free(m);
	}
	free(mpath);
	free(buf);
	return ok;
}

/* ---- structure -------------------------------------------------------- */

/* Which condition keys a rule spelled, valid or not: used so that a bad
 * value does not also produce "rule has no condition". */
struct rule_keys {
	bool action, path, dir, exe, sha256, signed_by, manifest;
	bool risk;              /* fileless, writable, owner, fs or recent */
	char *manifest_path;    /* read, not loaded yet: that needs signed_by */
};

/* The risk keys of a rule; false when name is none of them. */
static bool read_rule_risk(struct dlg_diags *d, const config_setting_t *s, size_t no,
			   struct dlg_rule *r, struct rule_keys *k, bool *ok)
{
	const char *name = config_setting_name(s);

	if (strcmp(name, "fileless") == 0)
		*ok &= read_risk_flag(d, s, no, DLG_RISK_FILELESS, r);
	else if (strcmp(name, "writable") == 0)
		*ok &= read_risk_flag(d, s, no, DLG_RISK_WRITABLE, r);
	else if (strcmp(name, "owner") == 0)
		*ok &= read_owner(d, s, no, r);
	else if (strcmp(name, "fs") == 0)
		*ok &= read_fs(d, s, no, r);
	else if (strcmp(name, "recent") == 0)
		*ok &= read_recent(d, s, no, r);
	else
		return false;
	k->risk = true;
	return true;
}

static void read_rule_member(struct dlg_diags *d, const config_setting_t *s, size_t no,
			     const struct dlg_policy *p, struct dlg_rule *r, struct rule_keys *k,
			     bool *ok)
{
	const char *name = config_setting_name(s);
	qbuf q;
	int a;

	if (strcmp(name, "action") == 0) {
		k->action = true;
		if (read_word(d, s, no, "allow", "deny", &a))
			r->action = a == 0 ? DLG_ACTION_ALLOW : DLG_ACTION_DENY;
		else
			*ok = false;
	} else if (strcmp(name, "path") == 0) {
		k->path = true;
		*ok &= read_path(d, s, no, false, &r->path);
	} else if (strcmp(name, "dir") == 0) {
		k->dir = true;
		*ok &= read_path(d, s, no, true, &r->dir);
	} else if (strcmp(name, "exe") == 0) {
		k->exe = true;
		*ok &= read_path(d, s, no, false, &r->exe);
	} else if (strcmp(name, "sha256") == 0) {
		k->sha256 = true;
		*ok &= read_digests(d, s, no, r);
	} else if (strcmp(name, "signed_by") == 0) {
		k->signed_by = true;
		*ok &= read_signed_by(d, s, no, p, r);
	} else if (strcmp(name, "manifest") == 0) {
		k->manifest = true;
		*ok &= read_path(d, s, no, false, &k->manifest_path);
	} else if (!read_rule_risk(d, s, no, r, k, ok)) {
		ERR(d, line_of(s), "rule %zu: unknown key %s (a rule takes action, path, dir, "
		    "exe, sha256, signed_by, manifest, fileless, writable, owner, fs, recent)", no,
		    quote(&q, name));
		*ok = false;
	}
}

/* A manifest lists paths and digests itself, and is trusted only through
 * the keys that signed it. */
static bool check_manifest_rule(struct dlg_diags *d, const struct dlg_rule *r, size_t no,
				const struct rule_keys *k)
{
	bool ok = true;

	if (!k->signed_by) {
		ERR(d, r->line, "rule %zu: manifest needs signed_by: the key (or keys) that must "
		    "have signed it", no);
		ok = false;
	}
	if (k->path) {
		ERR(d, r->line, "rule %zu: manifest cannot be combined with path: the manifest "
		    "lists the paths", no);
		ok = false;
	}
	if (k->sha256) {
		ERR(d, r->line, "rule %zu: manifest cannot be combined with sha256: the manifest "
		    "lists the digests", no);
		ok = false;
	}
	return ok;
}

/* Returns true when the rule is complete and valid. */
static bool read_rule(struct dlg_diags *d, const config_setting_t *g, size_t no,
		      const struct dlg_policy *p, struct dlg_rule *r)
{
	struct rule_keys k;
	bool ok = true;
	int i, n;

	memset(&k, 0, sizeof k);
	r->line = line_of(g);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		ERR(d, r->line, "rule %zu must be a group { action = ...; ... }, not %s", no,
		    type_name(g));
		return false;
	}
	n = config_setting_length(g);
	for (i = 0; i < n; i++)
		read_rule_member(d, config_setting_get_elem(g, (unsigned)i), no, p, r, &k, &ok);
	if (!k.action) {
		ERR(d, r->line, "rule %zu has no action: add action = \"allow\"; or "
		    "action = \"deny\";", no);
		ok = false;
	}
	if (k.path && k.dir) {
		ERR(d, r->line, "rule %zu has both path and dir, which is ambiguous: split it "
		    "into two rules", no);
		ok = false;
	} else if (!k.path && !k.dir && !k.sha256 && !k.signed_by && !k.manifest && !k.risk) {
		if (k.exe)
			ERR(d, r->line, "rule %zu has only exe, which would match everything that "
			    "program loads: add path, dir, sha256 or signed_by (write dir = \"/\" "
			    "if that is really meant)", no);
		else
			ERR(d, r->line, "rule %zu has no condition: add path, dir, sha256, "
			    "signed_by, manifest or a risk condition (a match-all rule would make "
			    "the default meaningless)", no);
		ok = false;
	}
	if (k.manifest && !check_manifest_rule(d, r, no, &k))
		ok = false;
	/* Reading the manifest verifies it with the rule's keys: only worth it
	 * (and only meaningful) once the rest of the rule is sound. */
	if (k.manifest_path && ok)
		return load_manifest(d, p, r, no, k.manifest_path);
	free(k.manifest_path);
	return ok;
}

static void read_rules(struct dlg_diags *d, const config_setting_t *s, struct dlg_policy *p,
		       bool *valid)
{
	size_t i, n;

	n = (size_t)config_setting_length(s);
	if (n == 0)
		return;
	p->rules = calloc(n, sizeof *p->rules);
	if (!p->rules) {
		ERR(d, line_of(s), "out of memory");
		return;
	}
	p->n_rules = n;
	for (i = 0; i < n; i++)
		valid[i] = read_rule(d, config_setting_get_elem(s, (unsigned)i), i + 1, p,
				     &p->rules[i]);
}

static void read_log(struct dlg_diags *d, const config_setting_t *g, struct dlg_policy *p)
{
	int i, n;
	qbuf q;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		ERR(d, line_of(g), "log must be a group { syslog = ...; file = ...; "
		    "stderr = ...; }, not %s", type_name(g));
		return;
	}
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);

		if (strcmp(name, "syslog") == 0)
			read_bool(d, s, &p->log_syslog);
		else if (strcmp(name, "stderr") == 0)
			read_bool(d, s, &p->log_stderr);
		else if (strcmp(name, "file") == 0)
			read_path(d, s, 0, false, &p->log_file);
		else
			ERR(d, line_of(s), "unknown key %s in log (log takes syslog, file, "
			    "stderr)", quote(&q, name));
	}
}

static void read_version(struct dlg_diags *d, const config_setting_t *s, struct dlg_policy *p)
{
	int type = config_setting_type(s);

	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
		ERR(d, line_of(s), "version must be the integer %d, not %s",
		    DLG_POLICY_VERSION, type_name(s));
		return;
	}
	if (config_setting_get_int64(s) != DLG_POLICY_VERSION) {
		ERR(d, line_of(s), "version %lld is not supported: this dlguard reads "
		    "version = %d;", (long long)config_setting_get_int64(s), DLG_POLICY_VERSION);
		return;
	}
	p->version = DLG_POLICY_VERSION;
}

/* What the top level said, beyond what lands in the policy. */
struct top_seen {
	bool version, default_, rules;
	unsigned default_line;
	unsigned startup_line, strip_line;      /* 0: not given */
	const config_setting_t *rules_setting;
	const config_setting_t *keys_setting;   /* read before the rules that name keys */
};

static void read_top_member(struct dlg_diags *d, const config_setting_t *s,
			    struct dlg_policy *p, struct top_seen *t)
{
	const char *name = config_setting_name(s);
	qbuf q;
	int w;

	if (strcmp(name, "version") == 0) {
		t->version = true;
		read_version(d, s, p);
	} else if (strcmp(name, "mode") == 0) {
		if (read_word(d, s, 0, "enforce", "audit", &w))
			p->mode = w == 0 ? DLG_MODE_ENFORCE : DLG_MODE_AUDIT;
	} else if (strcmp(name, "default") == 0) {
		t->default_ = true;
		t->default_line = line_of(s);
		if (read_word(d, s, 0, "allow", "deny", &w))
			p->default_action = w == 0 ? DLG_ACTION_ALLOW : DLG_ACTION_DENY;
	} else if (strcmp(name, "log") == 0) {
		read_log(d, s, p);
	} else if (strcmp(name, "keys") == 0) {
		t->keys_setting = s;
	} else if (strcmp(name, "signatures") == 0) {
		read_signatures(d, s, p);
	} else if (strcmp(name, "startup") == 0) {
		t->startup_line = line_of(s);
		if (read_word(d, s, 0, "log", "kill", &w))
			p->startup = w == 0 ? DLG_STARTUP_LOG : DLG_STARTUP_KILL;
	} else if (strcmp(name, "on_error") == 0) {
		if (read_word(d, s, 0, "deny-dlopen", "allow", &w))
			p->on_error = w == 0 ? DLG_ON_ERROR_DENY_DLOPEN : DLG_ON_ERROR_ALLOW;
	} else if (strcmp(name, "env") == 0) {
		read_env(d, s, p, &t->strip_line);
	} else if (strcmp(name, "rules") == 0) {
		t->rules = true;
		if (config_setting_type(s) != CONFIG_TYPE_LIST)
			ERR(d, line_of(s), "rules must be a list ( { ... }, { ... } ), not %s",
			    type_name(s));
		else
			t->rules_setting = s;
	} else {
		ERR(d, line_of(s), "unknown top-level key %s (known: version, mode, default, "
		    "log, keys, signatures, startup, on_error, env, rules)", quote(&q, name));
	}
}

/* ---- whole-policy checks ---------------------------------------------- */

struct item {
	const struct dlg_rule *r;
	size_t no;              /* 1-based rule number */
	bool changed;           /* canonicalize rewrote one of its paths */
	bool reported;
};

static int str_cmp_null(const char *a, const char *b)
{
	if (!a || !b)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

static int u32s_cmp(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	if (na != nb)
		return na < nb ? -1 : 1;
	for (size_t i = 0; i < na; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

static int risk_cmp(const struct dlg_rule *a, const struct dlg_rule *b)
{
	int c;

	if (a->risk != b->risk)
		return a->risk < b->risk ? -1 : 1;
	if (a->recent != b->recent)
		return a->recent < b->recent ? -1 : 1;
	if ((c = u32s_cmp(a->owners, a->n_owners, b->owners, b->n_owners)) != 0)
		return c;
	return u32s_cmp(a->fs, a->n_fs, b->fs, b->n_fs);
}

static int cond_cmp(const struct dlg_rule *a, const struct dlg_rule *b)
{
	int c;
	size_t i;

	if ((c = str_cmp_null(a->path, b->path)) != 0)
		return c;
	if ((c = str_cmp_null(a->dir, b->dir)) != 0)
		return c;
	if ((c = str_cmp_null(a->exe, b->exe)) != 0)
		return c;
	if (a->n_sha256 != b->n_sha256)
		return a->n_sha256 < b->n_sha256 ? -1 : 1;
	for (i = 0; i < a->n_sha256; i++)
		if ((c = memcmp(a->sha256[i], b->sha256[i], DLG_SHA256_LEN)) != 0)
			return c;
	if (a->n_signed_by != b->n_signed_by)
		return a->n_signed_by < b->n_signed_by ? -1 : 1;
	for (i = 0; i < a->n_signed_by; i++)
		if (a->signed_by[i] != b->signed_by[i])
			return a->signed_by[i] < b->signed_by[i] ? -1 : 1;
	if ((c = str_cmp_null(a->manifest ? a->manifest->path : NULL,
			      b->manifest ? b->manifest->path : NULL)) != 0)
		return c;
	return risk_cmp(a, b);
}

static int item_cmp(const void *pa, const void *pb)
{
	const struct item *a = *(const struct item *const *)pa;
	const struct item *b = *(const struct item *const *)pb;
	int c = cond_cmp(a->r, b->r);

	if (c)
		return c;
	return a->no < b->no ? -1 : a->no > b->no;
}

/* True when the file at canonical path f (or any file below dir f, when
 * f_is_dir) lies below dir. */
static bool below(const char *dir, const char *f, bool f_is_dir)
{
	size_t n = strlen(dir);

	if (n == 1)
		return true;
	if (strncmp(dir, f, n) != 0)
		return false;
	return f[n] == '/' || (f_is_dir && f[n] == '\0');
}

/* Sorted digest sets: is every digest of b also in a? */
static bool digests_subset(const struct dlg_rule *b, const struct dlg_rule *a)
{
	size_t i = 0, j = 0;

	while (i < b->n_sha256) {
		int c;

		if (j == a->n_sha256)
			return false;
		c = memcmp(b->sha256[i], a->sha256[j], DLG_SHA256_LEN);
		if (c < 0)
			return false;
		if (c == 0)
			i++;
		j++;
	}
	return true;
}

/* Sorted sets: is every value of b also in a? */
static bool u32_subset(const uint32_t *b, size_t nb, const uint32_t *a, size_t na)
{
	size_t j = 0;

	for (size_t i = 0; i < nb; i++) {
		while (j < na && a[j] < b[i])
			j++;
		if (j == na || a[j] != b[i])
			return false;
	}
	return true;
}

/* a's risk conditions hold for every file b's hold for. */
static bool risk_covers(const struct dlg_rule *a, const struct dlg_rule *b)
{
	if (a->risk & ~b->risk)
		return false;
	if (a->n_owners && (!b->n_owners || !u32_subset(b->owners, b->n_owners, a->owners,
							 a->n_owners)))
		return false;
	if (a->n_fs && (!b->n_fs || !u32_subset(b->fs, b->n_fs, a->fs, a->n_fs)))
		return false;
	return !a->recent || (b->recent && b->recent <= a->recent);
}

/* True when every load that b matches is also matched by a. */
static bool covers(const struct dlg_rule *a, const struct dlg_rule *b)
{
	if (a->exe && (!b->exe || strcmp(a->exe, b->exe) != 0))
		return false;
	if (a->path && (!b->path || strcmp(a->path, b->path) != 0))
		return false;
	if (a->dir) {
		if (b->path ? !below(a->dir, b->path, false)
			    : !b->dir || !below(a->dir, b->dir, true))
			return false;
	}
	if (a->n_sha256 && (!b->n_sha256 || !digests_subset(b, a)))
		return false;
	return risk_covers(a, b);
}

/* Rules with identical conditions, found by sorting (learned policies can
 * have thousands of rules). Same action: a duplicate, an error at parse
 * time; other action: the later one never matches, a warning. */
static void check_same(struct dlg_diags *d, struct item **v, size_t n, bool after_canon)
{
	size_t s = 0, e, k, m, first_allow, first_deny, *first;

	while (s < n) {
		for (e = s + 1; e < n && cond_cmp(v[s]->r, v[e]->r) == 0; e++)
			;
		/* The earliest rule of the run with each action (e: none yet), so
		 * a long run costs its length, not its square. */
		first_allow = first_deny = e;
		for (k = s; k < e; k++) {
			first = v[k]->r->action == DLG_ACTION_ALLOW ? &first_allow : &first_deny;
			if (*first == e)
				*first = k;
			m = *first;
			if (k == s || (after_canon && !v[k]->changed && !v[s]->changed))
				continue;
			v[k]->reported = true;
			if (m < k && after_canon)
				WARN(d, v[k]->r->line, "rule %zu is a duplicate of rule %zu at "
				     "line %u once symlinks are resolved", v[k]->no, v[m]->no,
				     v[m]->r->line);
			else if (m < k)
				ERR(d, v[k]->r->line, "rule %zu is a duplicate of rule %zu at "
				    "line %u", v[k]->no, v[m]->no, v[m]->r->line);
			else
				WARN(d, v[k]->r->line, "rule %zu can never match: rule %zu at "
				     "line %u has the same conditions and is tried first%s",
				     v[k]->no, v[s]->no, v[s]->r->line,
				     after_canon ? " (once symlinks are resolved)" : "");
		}
		s = e;
	}
}

/* Where an earlier rule can cover a later one. covers() only ever accepts
 * an earlier rule with the same path, with a dir at or above the later
 * one's path or dir, or with neither; and with no exe or the same exe. */
enum reach { REACH_ANY, REACH_ROOT, REACH_DIR, REACH_PATH };

/* One earlier rule filed under what covers() needs of a later one. */
struct cover_key {
	enum reach reach;
	const char *at;         /* path or dir; "" for ANY and ROOT */
	size_t at_len;
	const char *exe;        /* NULL: any exe */
	bool changed;           /* canonicalize rewrote one of its paths */
	size_t pos;             /* index in the rules compared (policy order) */
};

static int span_cmp(const char *a, size_t na, const char *b, size_t nb)
{
	int c = memcmp(a, b, na < nb ? na : nb);

	if (c)
		return c;
	return (na > nb) - (na < nb);
}

/* Everything but pos: a bucket holds the rules one look-up may find. */
static int bucket_cmp(const struct cover_key *a, const struct cover_key *b)
{
	int c;

	if (a->reach != b->reach)
		return a->reach < b->reach ? -1 : 1;
	if ((c = span_cmp(a->at, a->at_len, b->at, b->at_len)) != 0)
		return c;
	if ((c = str_cmp_null(a->exe, b->exe)) != 0)
		return c;
	return (a->changed > b->changed) - (a->changed < b->changed);
}

/* Within a bucket, policy order: the first rule that covers is the
 * earliest one. */
static int cover_key_cmp(const void *pa, const void *pb)
{
	const struct cover_key *a = pa, *b = pb;
	int c = bucket_cmp(a, b);

	if (c)
		return c;
	return (a->pos > b->pos) - (a->pos < b->pos);
}

/* below() takes a one-byte dir ("/") to be above everything. */
static void file_place(const struct dlg_rule *r, struct cover_key *c)
{
	if (r->path) {
		c->reach = REACH_PATH;
		c->at = r->path;
	} else if (r->dir && strlen(r->dir) > 1) {
		c->reach = REACH_DIR;
		c->at = r->dir;
	} else {
		c->reach = r->dir ? REACH_ROOT : REACH_ANY;
		c->at = "";
	}
	c->at_len = strlen(c->at);
}

/* Only rules without content conditions (sha256, signed_by, manifest) are
 * tried as the earlier rule: they are the broad ones. */
static size_t file_cover_keys(const struct item *v, size_t n, struct cover_key *k)
{
	size_t i, nk = 0;

	for (i = 0; i < n; i++) {
		const struct dlg_rule *r = v[i].r;
		struct cover_key *c = &k[nk];

		if (r->n_sha256 || r->n_signed_by || r->manifest)
			continue;
		file_place(r, c);
		c->exe = r->exe;
		c->changed = v[i].changed;
		c->pos = i;
		nk++;
	}
	qsort(k, nk, sizeof *k, cover_key_cmp);
	return nk;
}

/* A search for the earliest rule before b that covers it. */
struct cover_search {
	const struct cover_key *k;
	size_t nk;
	const struct item *v;
	const struct dlg_rule *b;
	bool unchanged_too;     /* also try rules canonicalize left alone */
	bool changed_too;       /* also try rules it rewrote */
	size_t best;            /* earliest found so far; starts at b's own pos */
};

static size_t bucket_start(const struct cover_search *cs, const struct cover_key *q)
{
	size_t lo = 0, hi = cs->nk;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (bucket_cmp(&cs->k[mid], q) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Walks one bucket in policy order. Rules in it differ only in risk
 * conditions, so the walk is short unless many rules share a place and exe
 * and differ only in those (then it degrades towards the pairwise scan). */
static void try_bucket(struct cover_search *cs, const struct cover_key *q)
{
	size_t i;

	for (i = bucket_start(cs, q); i < cs->nk && cs->k[i].pos < cs->best; i++) {
		if (bucket_cmp(&cs->k[i], q) != 0)
			return;
		if (covers(cs->v[cs->k[i].pos].r, cs->b)) {
			cs->best = cs->k[i].pos;
			return;
		}
	}
}

/* Every bucket a rule filed at this place could be in. */
static void try_place(struct cover_search *cs, enum reach reach, const char *at,
		      size_t at_len)
{
	struct cover_key q = { .reach = reach, .at = at, .at_len = at_len };

	for (int e = 0; e < 2; e++) {
		q.exe = e ? cs->b->exe : NULL;
		if (e && !q.exe)
			break;
		q.changed = false;
		if (cs->unchanged_too)
			try_bucket(cs, &q);
		q.changed = true;
		if (cs->changed_too)
			try_bucket(cs, &q);
	}
}

/* The places from which a rule could cover b: anywhere, "/", every dir
 * above b's path or dir (and b's dir itself), and b's path. */
static void try_places(struct cover_search *cs)
{
	const struct dlg_rule *b = cs->b;
	const char *at = b->path ? b->path : b->dir;
	size_t len, k;

	try_place(cs, REACH_ANY, "", 0);
	if (!at)
		return;
	try_place(cs, REACH_ROOT, "", 0);
	len = strlen(at);
	for (k = 2; k < len; k++)
		if (at[k] == '/')
			try_place(cs, REACH_DIR, at, k);
	if (b->path)
		try_place(cs, REACH_PATH, at, len);
	else if (len > 1)
		try_place(cs, REACH_DIR, at, len);
}

/* A later rule entirely covered by an earlier one never decides anything.
 * Each rule names the earliest rule that covers it, found by look-ups in
 * the filed keys k instead of a scan of every earlier rule. */
static void check_shadowed(struct dlg_diags *d, struct item *v, size_t n, bool after_canon,
			   struct cover_key *k)
{
	struct cover_search cs = { .k = k, .v = v };
	size_t j;

	cs.nk = file_cover_keys(v, n, k);
	for (j = 0; j < n; j++) {
		if (v[j].reported)
			continue;
		cs.b = v[j].r;
		cs.best = j;
		/* after canonicalize only pairs it touched can be new */
		cs.unchanged_too = !after_canon || v[j].changed;
		cs.changed_too = after_canon;
		try_places(&cs);
		if (cs.best == j)
			continue;
		WARN(d, v[j].r->line, "rule %zu can never match: rule %zu at line %u "
		     "already matches everything it matches%s", v[j].no, v[cs.best].no,
		     v[cs.best].r->line, after_canon ? " (once symlinks are resolved)" : "");
	}
}

/* v holds the rules to compare, in policy order. */
static void check_rules(struct dlg_diags *d, struct item *v, size_t n, bool after_canon)
{
	struct item **sorted;
	struct cover_key *k;
	size_t i;

	if (n < 2)
		return;
	sorted = malloc(n * sizeof *sorted);
	k = malloc(n * sizeof *k);
	if (!sorted || !k) {
		WARN(d, 0, "out of memory: duplicate rules were not looked for");
		goto end;
	}
	for (i = 0; i < n; i++)
		sorted[i] = &v[i];
	qsort(sorted, n, sizeof *sorted, item_cmp);
	check_same(d, sorted, n, after_canon);
	check_shadowed(d, v, n, after_canon, k);
end:
	free(k);
	free(sorted);
}

/* Duplicate/shadow checks over the rules that parsed cleanly. */
static void check_valid_rules(struct dlg_diags *d, const struct dlg_policy *p,
			      const bool *valid)
{
	struct item *v;
	size_t i, n = 0;

	if (p->n_rules < 2)
		return;
	v = calloc(p->n_rules, sizeof *v);
	if (!v) {
		WARN(d, 0, "out of memory: duplicate rules were not looked for");
		return;
	}
	for (i = 0; i < p->n_rules; i++) {
		if (!valid[i])
			continue;
		v[n].r = &p->rules[i];
		v[n].no = i + 1;
		n++;
	}
	check_rules(d, v, n, false);
	free(v);
}

/* ---- entry points ----------------------------------------------------- */

/* libconfig would open any file an @include names (it cannot be turned
 * off): a policy must be one reviewable file, and an included FIFO would
 * hang us. The scanner only honours @include at the start of a line. */
static bool reject_include(const char *text, struct dlg_diags *d)
{
	const char *l = text;
	unsigned line = 1;
	bool ok = true;

	while (l) {
		const char *c = l + strspn(l, " \t");

		if (strncmp(c, "@include", 8) == 0) {
			ERR(d, line, "@include is not allowed: a policy must be a single file");
			ok = false;
		}
		l = strchr(l, '\n');
		if (l) {
			l++;
			line++;
		}
	}
	return ok;
}

static void syntax_error(const config_t *cfg, struct dlg_diags *d)
{
	const char *text = config_error_text(cfg) ? config_error_text(cfg) : "unknown error";
	int line = config_error_line(cfg);
	unsigned l = line > 0 ? (unsigned)line : 0;

	if (strcmp(text, "duplicate setting name") == 0)
		ERR(d, l, "a key is given twice in the same group (libconfig: %s)", text);
	else
		ERR(d, l, "libconfig: %s", text);
}

/* Audit mode changes nothing in the process: no start-up kill, no
 * environment stripping. */
static void warn_audit_options(struct dlg_diags *d, const struct dlg_policy *p,
			       const struct top_seen *t)
{
	if (p->mode != DLG_MODE_AUDIT)
		return;
	if (p->startup == DLG_STARTUP_KILL)
		WARN(d, t->startup_line, "startup = \"kill\" has no effect in audit mode (untrusted "
		     "start-up objects are only logged)");
	if (p->env_strip)
		WARN(d, t->strip_line, "env.strip has no effect in audit mode (the environment "
		     "is left as it is)");
}

static void read_policy(const config_t *cfg, struct dlg_policy *p, struct dlg_diags *d)
{
	const config_setting_t *root = config_root_setting(cfg);
	struct top_seen t;
	bool *valid = NULL;
	int i, n;

	memset(&t, 0, sizeof t);
	n = config_setting_length(root);
	for (i = 0; i < n; i++)
		read_top_member(d, config_setting_get_elem(root, (unsigned)i), p, &t);
	if (!t.version)
		ERR(d, 0, "version is missing: the first line should be version = %d;",
		    DLG_POLICY_VERSION);
	if (!t.default_)
		ERR(d, 0, "default is missing: add default = \"deny\"; (or \"allow\")");
	if (t.keys_setting)
		read_keys(d, t.keys_setting, p);
	if (t.rules_setting && config_setting_length(t.rules_setting) > 0) {
		valid = calloc((size_t)config_setting_length(t.rules_setting), sizeof *valid);
		if (!valid) {
			ERR(d, line_of(t.rules_setting), "out of memory");
			return;
		}
		read_rules(d, t.rules_setting, p, valid);
		check_valid_rules(d, p, valid);
		free(valid);
	}
	warn_unused_keys(d, p);
	warn_audit_options(d, p, &t);
	if (!t.rules_setting && !t.rules && p->default_action == DLG_ACTION_ALLOW)
		WARN(d, t.default_line, "policy allows everything: there are no rules and "
		     "default = \"allow\"");
	else if (t.rules_setting && p->n_rules == 0 && p->default_action == DLG_ACTION_ALLOW)
		WARN(d, t.default_line, "policy allows everything: rules is empty and "
		     "default = \"allow\"");
}

struct line_key {
	unsigned line;
	size_t idx;
};

static int line_key_cmp(const void *pa, const void *pb)
{
	const struct line_key *a = pa, *b = pb;

	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Whole-policy checks run last; readers want findings in file order (a
 * stable sort: same-line findings keep the order they were found in). */
static void sort_by_line(struct dlg_diags *d, size_t from)
{
	/* The "too many problems" marker stays last. */
	size_t end = d->n == DIAGS_MAX ? d->n - 1 : d->n, n, i;
	struct line_key *k;
	struct dlg_diag *tmp;

	if (from + 2 > end)
		return;
	n = end - from;
	k = malloc(n * sizeof *k);
	tmp = malloc(n * sizeof *tmp);
	if (!k || !tmp)
		goto end;
	for (i = 0; i < n; i++) {
		k[i].line = d->v[from + i].line;
		k[i].idx = i;
	}
	qsort(k, n, sizeof *k, line_key_cmp);
	for (i = 0; i < n; i++)
		tmp[i] = d->v[from + k[i].idx];
	memcpy(d->v + from, tmp, n * sizeof *tmp);
end:
	free(tmp);
	free(k);
}

struct dlg_policy *dlg_policy_parse_string(const char *text, const char *name,
					   struct dlg_diags *d)
{
	struct dlg_policy *p = NULL;
	size_t errors = d->n_errors, first = d->n;
	config_t cfg;

	if (!reject_include(text, d))
		return NULL;
	config_init(&cfg);
	/* No AUTOCONVERT: mode = 1 must be a type error, not silently coerced. */
	config_set_options(&cfg, 0);
	if (!config_read_string(&cfg, text)) {
		syntax_error(&cfg, d);
		goto end;
	}
	p = calloc(1, sizeof *p);
	if (!p || !(p->source = strdup(name ? name : "<string>"))) {
		ERR(d, 0, "out of memory");
		goto end;
	}
	p->mode = DLG_MODE_ENFORCE;
	p->log_syslog = true;
	read_policy(&cfg, p, d);
end:
	config_destroy(&cfg);
	sort_by_line(d, first);
	if (d->n_errors != errors) {
		dlg_policy_free(p);
		return NULL;
	}
	return p;
}

/* libconfig reads text up to the first NUL: anything after it would be
 * silently ignored. */
static bool reject_nul(const char *buf, size_t len, struct dlg_diags *d)
{
	const char *z = memchr(buf, '\0', len);
	const char *c;
	unsigned line = 1;

	if (!z)
		return true;
	for (c = buf; c < z; c++)
		line += *c == '\n';
	ERR(d, line, "policy contains a NUL byte: it is not a text file");
	return false;
}

struct dlg_policy *dlg_policy_parse_file(const char *path, struct dlg_diags *d)
{
	struct dlg_policy *p = NULL;
	size_t len = 0;
	char *text, why[256];

	text = slurp(path, &len, why, sizeof why);
	if (!text) {
		ERR(d, 0, "cannot read policy: %s", why);
		return NULL;
	}
	if (reject_nul(text, len, d))
		p = dlg_policy_parse_string(text, path, d);
	free(text);
	return p;
}

/* ---- canonicalize ----------------------------------------------------- */

/* Replaces *s by its realpath when it resolves; warns otherwise. Returns
 * true when the spelling changed. */
static bool canon_one(struct dlg_diags *d, const struct dlg_rule *r, size_t no,
		      const char *key, char **s, bool is_dir)
{
	struct stat st;
	char *real;
	bool changed = false;
	qbuf q;

	real = realpath(*s, NULL);
	if (!real) {
		if (errno == ENOENT || errno == ENOTDIR)
			WARN(d, r->line, "rule %zu: %s %s does not exist; kept as written", no,
			     key, quote(&q, *s));
		else
			WARN(d, r->line, "rule %zu: %s %s cannot be resolved (%s); kept as "
			     "written", no, key, quote(&q, *s), strerror(errno));
		return false;
	}
	if (strcmp(real, *s) != 0) {
		free(*s);
		*s = real;
		changed = true;
	} else {
		free(real);
	}
	if (stat(*s, &st) != 0)
		return changed;
	if (is_dir && !S_ISDIR(st.st_mode))
		WARN(d, r->line, "rule %zu: dir %s is not a directory", no, quote(&q, *s));
	else if (!is_dir && !S_ISREG(st.st_mode))
		WARN(d, r->line, "rule %zu: %s %s is not a regular file", no, key,
		     quote(&q, *s));
	return changed;
}

/* Manifest entries name files by whatever absolute spelling the tool that
 * wrote them used; the guard compares canonical paths. Missing files are
 * kept as written and counted in one warning per manifest. */
static void canon_manifest(struct dlg_diags *d, const struct dlg_rule *r, size_t no)
{
	struct dlg_manifest *m = r->manifest;
	const char *first_missing = NULL;
	size_t missing = 0;
	qbuf q, q2;

	for (size_t i = 0; i < m->n_entries; i++) {
		char *real = realpath(m->entries[i].path, NULL);

		if (!real) {
			if (!missing++)
				first_missing = m->entries[i].path;
			continue;
		}
		if (strcmp(real, m->entries[i].path) == 0) {
			free(real);
			continue;
		}
		free(m->entries[i].path);
		m->entries[i].path = real;
	}
	if (missing)
		WARN(d, r->line, "rule %zu: %zu of %zu files listed in manifest %s do not exist "
		     "or cannot be resolved (first: %s); kept as written", no, missing,
		     m->n_entries, quote(&q, m->path), quote(&q2, first_missing));
	qsort(m->entries, m->n_entries, sizeof *m->entries, entry_qsort_cmp);
}

static void canon_sig_dir(struct dlg_diags *d, struct dlg_policy *p)
{
	char *real = realpath(p->sig_dir, NULL);
	qbuf q;

	if (!real) {
		WARN(d, 0, "signatures.dir %s %s; kept as written", quote(&q, p->sig_dir),
		     errno == ENOENT ? "does not exist" : "cannot be resolved");
		return;
	}
	free(p->sig_dir);
	p->sig_dir = real;
}

void dlg_policy_canonicalize(struct dlg_policy *p, struct dlg_diags *d)
{
	struct item *v;
	bool any = false;
	size_t i;

	if (!p)
		return;
	if (p->sig_dir)
		canon_sig_dir(d, p);
	for (i = 0; i < p->n_rules; i++)
		if (p->rules[i].manifest)
			canon_manifest(d, &p->rules[i], i + 1);
	v = calloc(p->n_rules ? p->n_rules : 1, sizeof *v);
	for (i = 0; i < p->n_rules; i++) {
		struct dlg_rule *r = &p->rules[i];
		bool changed = false;

		if (r->path)
			changed |= canon_one(d, r, i + 1, "path", &r->path, false);
		if (r->dir)
			changed |= canon_one(d, r, i + 1, "dir", &r->dir, true);
		if (r->exe)
			changed |= canon_one(d, r, i + 1, "exe", &r->exe, false);
		if (v) {
			v[i].r = r;
			v[i].no = i + 1;
			v[i].changed = changed;
		}
		any |= changed;
	}
	/* Two spellings of one place become one: look again, warnings only. */
	if (v && any)
		check_rules(d, v, p->n_rules, true);
	else if (!v && p->n_rules)
		WARN(d, 0, "out of memory: duplicate rules were not looked for");
	free(v);
}
