#include "sig.h"

#include "errstr.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"

/* Files are read from an anonymous mapping rather than the stack or the heap:
 * host threads may run with small stacks, and the allocator may be what is
 * being loaded. The file itself is never mapped: a truncation by another
 * process would turn into SIGBUS in the host. */
#define CHUNK (256 * 1024)
#define SHA256_LEN 32
#define ED25519_SIG_LEN 64
#define RSA_MIN_BITS 2048

/* Reads exactly n bytes at off; a short file is an error, never a hang. */
static int read_at(int fd, unsigned char *buf, size_t n, off_t off, char *err, size_t errlen)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, buf + got, n - got, off + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			dlg_seterr(err, errlen, "read failed: %s", dlg_strerror(errno));
			return -1;
		}
		if (r == 0) {
			dlg_seterr(err, errlen, "file changed while being verified");
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

static int read_sig_fd(int fd, const char *path, unsigned char *buf, size_t limit, size_t *len,
		       char *err, size_t errlen)
{
	struct stat st;
	size_t n = 0;
	unsigned char extra;
	ssize_t r;

	if (fstat(fd, &st) != 0) {
		dlg_seterr(err, errlen, "cannot stat signature file %s: %s", path, dlg_strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		dlg_seterr(err, errlen, "signature file is %s", dlg_file_kind(st.st_mode));
		return -1;
	}
	if (st.st_size > (off_t)limit) {
		dlg_seterr(err, errlen, "signature file too large (%lld bytes, at most %zu)",
			(long long)st.st_size, limit);
		return -1;
	}
	/* Read to end of file rather than st_size bytes, bounded by limit. */
	while (n < limit) {
		r = pread(fd, buf + n, limit - n, (off_t)n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			dlg_seterr(err, errlen, "cannot read signature file: %s", dlg_strerror(errno));
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n == limit && pread(fd, &extra, 1, (off_t)n) > 0) {
		dlg_seterr(err, errlen, "signature file too large (grew beyond %zu bytes)", limit);
		return -1;
	}
	if (n == 0) {
		dlg_seterr(err, errlen, "signature file is empty");
		return -1;
	}
	*len = n;
	return 0;
}

int dlg_sig_read_file(const char *path, unsigned char *buf, size_t cap, size_t *len,
		      char *err, size_t errlen)
{
	size_t limit = cap < DLG_SIG_MAX ? cap : DLG_SIG_MAX;
	int saved = errno, fd = -1, rc = -1;

	if (!path || !*path || !buf || !len || !limit) {
		dlg_seterr(err, errlen, "no signature file name or buffer");
		goto end;
	}
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			dlg_seterr(err, errlen, DLG_SIG_REASON_MISSING);
		else
			dlg_seterr(err, errlen, "cannot open signature file: %s", dlg_strerror(errno));
		goto end;
	}
	rc = read_sig_fd(fd, path, buf, limit, len, err, errlen);
end:
	if (fd >= 0)
		close(fd);
	errno = saved;
	return rc;
}

static int key_matches(const struct dlg_crypto *c, void *pkey, enum dlg_key_type type,
		       char *err, size_t errlen)
{
	int id = c->pkey_base_id(pkey), bits = c->pkey_bits(pkey);

	switch (type) {
	case DLG_KEY_ED25519:
		if (id == DLG_NID_ED25519)
			return 0;
		break;
	case DLG_KEY_ECDSA_P256:
	case DLG_KEY_ECDSA_P384:
		if (id == DLG_NID_EC && bits == (type == DLG_KEY_ECDSA_P256 ? 256 : 384))
			return 0;
		break;
	case DLG_KEY_RSA:
	case DLG_KEY_RSA_PSS:
		if (id == (type == DLG_KEY_RSA ? DLG_NID_RSA : DLG_NID_RSA_PSS) &&
		    bits >= RSA_MIN_BITS)
			return 0;
		break;
	default:
		dlg_seterr(err, errlen, "unknown key type %d", (int)type);
		return -1;
	}
	dlg_seterr(err, errlen, "public key does not match its declared type");
	return -1;
}

/* The DER must be exactly one SubjectPublicKeyInfo of the declared type. */
static void *load_key(const struct dlg_crypto *c, const unsigned char *der, size_t len,
		      enum dlg_key_type type, char *err, size_t errlen)
{
	const unsigned char *p = der;
	void *pkey;

	if (!der || len == 0 || len > DLG_KEY_DER_MAX) {
		dlg_seterr(err, errlen, "malformed public key (%zu bytes)", der ? len : 0);
		return NULL;
	}
	pkey = c->d2i_pubkey(NULL, &p, (long)len, c->libctx, NULL);
	if (!pkey) {
		dlg_seterr(err, errlen, "malformed public key");
		return NULL;
	}
	if (p != der + len) {
		dlg_seterr(err, errlen, "malformed public key (trailing bytes)");
		c->pkey_free(pkey);
		return NULL;
	}
	if (key_matches(c, pkey, type, err, errlen) != 0) {
		c->pkey_free(pkey);
		return NULL;
	}
	return pkey;
}

/* Signature shapes that cannot possibly verify are reported as such, before
 * any libcrypto parsing. */
static int sig_plausible(const struct dlg_crypto *c, void *pkey, enum dlg_key_type type,
			 const unsigned char *sig, size_t sig_len, char *err, size_t errlen)
{
	size_t rsa_len;

	if (!sig || sig_len == 0) {
		dlg_seterr(err, errlen, "empty signature");
		return -1;
	}
	if (sig_len > DLG_SIG_MAX) {
		dlg_seterr(err, errlen, "signature too large (%zu bytes)", sig_len);
		return -1;
	}
	if (type == DLG_KEY_ED25519 && sig_len != ED25519_SIG_LEN) {
		dlg_seterr(err, errlen, "malformed Ed25519 signature (%zu bytes, not %d)", sig_len,
			ED25519_SIG_LEN);
		return -1;
	}
	if (type == DLG_KEY_RSA || type == DLG_KEY_RSA_PSS) {
		rsa_len = ((size_t)c->pkey_bits(pkey) + 7) / 8;
		if (sig_len != rsa_len) {
			dlg_seterr(err, errlen, "malformed RSA signature (%zu bytes, not %zu)",
				sig_len, rsa_len);
			return -1;
		}
	}
	return 0;
}

static enum dlg_sig_result verify_ed25519(const struct dlg_crypto *c, void *pkey,
					  const unsigned char *data, size_t len,
					  const unsigned char *sig, size_t sig_len, char *err,
					  size_t errlen)
{
	static const unsigned char nothing[1];
	enum dlg_sig_result res = DLG_SIG_ERROR;
	void *ctx = c->md_ctx_new();

	if (!ctx || c->digest_verify_init(ctx, NULL, NULL, c->libctx, NULL, pkey, NULL) != 1) {
		dlg_seterr(err, errlen, "libcrypto: cannot start Ed25519 verification");
		goto end;
	}
	if (c->digest_verify(ctx, sig, sig_len, len ? data : nothing, len) == 1) {
		res = DLG_SIG_VALID;
	} else {
		dlg_seterr(err, errlen, "signature does not match");
		res = DLG_SIG_INVALID;
	}
end:
	if (ctx)
		c->md_ctx_free(ctx);
	return res;
}

/* One verification of a SHA-256 digest with one RSA padding (0: not RSA). */
static enum dlg_sig_result verify_padded(const struct dlg_crypto *c, void *pkey, int padding,
					 const unsigned char dg[SHA256_LEN],
					 const unsigned char *sig, size_t sig_len, char *err,
					 size_t errlen)
{
	enum dlg_sig_result res = DLG_SIG_ERROR;
	void *pctx = c->pkey_ctx_new(c->libctx, pkey, NULL);
	int rc;

	if (!pctx || c->verify_init(pctx) != 1 ||
	    c->set_signature_md(pctx, c->sha256_md) != 1 ||
	    (padding && c->set_rsa_padding(pctx, padding) != 1)) {
		dlg_seterr(err, errlen, "libcrypto: cannot start signature verification");
		goto end;
	}
	/* Any salt length the signer chose. An RSA-PSS key restricted by its
	 * parameters refuses "auto"; its own minimum then applies. */
	if (padding == DLG_RSA_PKCS1_PSS_PADDING)
		(void)c->set_rsa_pss_saltlen(pctx, DLG_RSA_PSS_SALTLEN_AUTO);
	rc = c->verify(pctx, sig, sig_len, dg, SHA256_LEN);
	if (rc == 1) {
		res = DLG_SIG_VALID;
	} else {
		/* 0: no match; < 0: the signature did not even parse */
		dlg_seterr(err, errlen, rc == 0 ? "signature does not match" : "malformed signature");
		res = DLG_SIG_INVALID;
	}
end:
	if (pctx)
		c->pkey_ctx_free(pctx);
	return res;
}

static enum dlg_sig_result verify_digest(const struct dlg_crypto *c, void *pkey,
					 enum dlg_key_type type, const unsigned char dg[SHA256_LEN],
					 const unsigned char *sig, size_t sig_len, char *err,
					 size_t errlen)
{
	enum dlg_sig_result res;

	switch (type) {
	case DLG_KEY_RSA:
		/* PKCS#1 v1.5 is what `openssl dgst -sign` writes by default */
		res = verify_padded(c, pkey, DLG_RSA_PKCS1_PADDING, dg, sig, sig_len, err, errlen);
		if (res == DLG_SIG_INVALID)
			res = verify_padded(c, pkey, DLG_RSA_PKCS1_PSS_PADDING, dg, sig, sig_len,
					    err, errlen);
		return res;
	case DLG_KEY_RSA_PSS:
		return verify_padded(c, pkey, DLG_RSA_PKCS1_PSS_PADDING, dg, sig, sig_len, err,
				     errlen);
	default:
		return verify_padded(c, pkey, 0, dg, sig, sig_len, err, errlen);
	}
}

static int sha256_mem(const struct dlg_crypto *c, const void *data, size_t len,
		      unsigned char out[SHA256_LEN], char *err, size_t errlen)
{
	void *ctx = c->md_ctx_new();
	unsigned int outlen = 0;
	int rc = -1;

	if (!ctx || c->digest_init(ctx, c->sha256_md, NULL) != 1 ||
	    (len && c->digest_update(ctx, data, len) != 1) ||
	    c->digest_final(ctx, out, &outlen) != 1 || outlen != SHA256_LEN) {
		dlg_seterr(err, errlen, "libcrypto: SHA-256 failed");
		goto end;
	}
	rc = 0;
end:
	if (ctx)
		c->md_ctx_free(ctx);
	return rc;
}

static int sha256_fd(const struct dlg_crypto *c, int fd, off_t size,
		     unsigned char out[SHA256_LEN], char *err, size_t errlen)
{
	unsigned char *buf = MAP_FAILED;
	void *ctx = NULL;
	unsigned int outlen = 0;
	int rc = -1;

	buf = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		dlg_seterr(err, errlen, "no memory for verification: %s", dlg_strerror(errno));
		goto end;
	}
	ctx = c->md_ctx_new();
	if (!ctx || c->digest_init(ctx, c->sha256_md, NULL) != 1) {
		dlg_seterr(err, errlen, "libcrypto: cannot start SHA-256");
		goto end;
	}
	for (off_t off = 0; off < size;) {
		size_t want = (size - off) < CHUNK ? (size_t)(size - off) : CHUNK;
		if (read_at(fd, buf, want, off, err, errlen) != 0)
			goto end;
		if (c->digest_update(ctx, buf, want) != 1) {
			dlg_seterr(err, errlen, "libcrypto: SHA-256 update failed");
			goto end;
		}
		off += (off_t)want;
	}
	if (c->digest_final(ctx, out, &outlen) != 1 || outlen != SHA256_LEN) {
		dlg_seterr(err, errlen, "libcrypto: SHA-256 final failed");
		goto end;
	}
	rc = 0;
end:
	if (ctx)
		c->md_ctx_free(ctx);
	if (buf != MAP_FAILED)
		munmap(buf, CHUNK);
	return rc;
}

static int same_file_state(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static int unchanged(int fd, const struct stat *before, char *err, size_t errlen)
{
	struct stat after;

	if (fstat(fd, &after) != 0 || !same_file_state(before, &after)) {
		dlg_seterr(err, errlen, "file changed while being verified");
		return -1;
	}
	return 0;
}

/* Ed25519 signs the whole content: it is read into anonymous memory. */
static enum dlg_sig_result verify_fd_ed25519(const struct dlg_crypto *c, void *pkey, int fd,
					     const struct stat *st, const unsigned char *sig,
					     size_t sig_len, char *err, size_t errlen)
{
	enum dlg_sig_result res = DLG_SIG_ERROR;
	size_t size = (size_t)st->st_size, maplen = size ? size : 1;
	unsigned char *buf;

	if (st->st_size > DLG_SIG_FILE_MAX) {
		dlg_seterr(err, errlen, "file too large for an Ed25519 signature (%lld bytes, at most %ld)",
			(long long)st->st_size, DLG_SIG_FILE_MAX);
		return DLG_SIG_ERROR;
	}
	buf = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		dlg_seterr(err, errlen, "no memory for verification: %s", dlg_strerror(errno));
		return DLG_SIG_ERROR;
	}
	if (read_at(fd, buf, size, 0, err, errlen) != 0 || unchanged(fd, st, err, errlen) != 0)
		goto end;
	res = verify_ed25519(c, pkey, buf, size, sig, sig_len, err, errlen);
end:
	munmap(buf, maplen);
	return res;
}

static enum dlg_sig_result verify_fd_digest(const struct dlg_crypto *c, void *pkey,
					    enum dlg_key_type type, int fd,
					    const struct stat *st, const unsigned char *sig,
					    size_t sig_len, char *err, size_t errlen)
{
	unsigned char dg[SHA256_LEN];

	if (sha256_fd(c, fd, st->st_size, dg, err, errlen) != 0 ||
	    unchanged(fd, st, err, errlen) != 0)
		return DLG_SIG_ERROR;
	return verify_digest(c, pkey, type, dg, sig, sig_len, err, errlen);
}

enum dlg_sig_result dlg_sig_verify_fd(int fd, const unsigned char *sig, size_t sig_len,
				      const unsigned char *key_der, size_t key_der_len,
				      enum dlg_key_type type, char *err, size_t errlen)
{
	enum dlg_sig_result res = DLG_SIG_ERROR;
	const struct dlg_crypto *c = NULL;
	struct stat st;
	void *pkey = NULL;
	int saved = errno, marked = 0;

	if (fd < 0 || fstat(fd, &st) != 0) {
		dlg_seterr(err, errlen, "no file to verify");
		goto end;
	}
	if (!S_ISREG(st.st_mode)) {
		dlg_seterr(err, errlen, "not a regular file");
		goto end;
	}
	c = dlg_crypto_get(err, errlen);
	if (!c)
		goto end;
	/* With an empty queue no mark is set, and popping empties it again. */
	(void)c->err_set_mark();
	marked = 1;
	pkey = load_key(c, key_der, key_der_len, type, err, errlen);
	if (!pkey)
		goto end;
	if (sig_plausible(c, pkey, type, sig, sig_len, err, errlen) != 0) {
		res = DLG_SIG_INVALID;
		goto end;
	}
	if (type == DLG_KEY_ED25519)
		res = verify_fd_ed25519(c, pkey, fd, &st, sig, sig_len, err, errlen);
	else
		res = verify_fd_digest(c, pkey, type, fd, &st, sig, sig_len, err, errlen);
end:
	if (pkey)
		c->pkey_free(pkey);
	if (marked)
		c->err_pop_to_mark();
	errno = saved;
	return res;
}

enum dlg_sig_result dlg_sig_verify_mem(const void *data, size_t len, const unsigned char *sig,
				       size_t sig_len, const unsigned char *key_der,
				       size_t key_der_len, enum dlg_key_type type, char *err,
				       size_t errlen)
{
	enum dlg_sig_result res = DLG_SIG_ERROR;
	const struct dlg_crypto *c = NULL;
	unsigned char dg[SHA256_LEN];
	void *pkey = NULL;
	int saved = errno, marked = 0;

	if (!data && len) {
		dlg_seterr(err, errlen, "no data to verify");
		goto end;
	}
	c = dlg_crypto_get(err, errlen);
	if (!c)
		goto end;
	(void)c->err_set_mark();
	marked = 1;
	pkey = load_key(c, key_der, key_der_len, type, err, errlen);
	if (!pkey)
		goto end;
	if (sig_plausible(c, pkey, type, sig, sig_len, err, errlen) != 0) {
		res = DLG_SIG_INVALID;
		goto end;
	}
	if (type == DLG_KEY_ED25519)
		res = verify_ed25519(c, pkey, data, len, sig, sig_len, err, errlen);
	else if (sha256_mem(c, data, len, dg, err, errlen) == 0)
		res = verify_digest(c, pkey, type, dg, sig, sig_len, err, errlen);
end:
	if (pkey)
		c->pkey_free(pkey);
	if (marked)
		c->err_pop_to_mark();
	errno = saved;
	return res;
}
