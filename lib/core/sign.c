#include "sign.h"
#include "errstr.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "sig_key.h"

#define CHUNK (256 * 1024)
/* The salt length `openssl dgst -sigopt rsa_pss_saltlen:digest` uses; the
 * verifier accepts any. */
#define PSS_SALTLEN RSA_PSS_SALTLEN_DIGEST

static const char *ossl_reason(void)
{
	const char *r = ERR_reason_error_string(ERR_peek_last_error());

	return r ? r : "libcrypto error";
}

static int private_pem(const char *text, size_t len, char *err, size_t errlen)
{
	if (!memmem(text, len, "PRIVATE KEY-----", 16)) {
		dlg_seterr(err, errlen, memmem(text, len, "-----BEGIN PUBLIC KEY-----", 26)
					     ? "this is a public key: signing needs the private key"
					     : "not a PEM private key");
		return -1;
	}
	return 0;
}

static int public_der(EVP_PKEY *key, unsigned char **der, size_t *der_len, char *err,
		      size_t errlen)
{
	unsigned char *p;
	int n = i2d_PUBKEY(key, NULL);

	if (n <= 0 || n > DLG_KEY_DER_MAX || !(*der = malloc((size_t)n))) {
		dlg_seterr(err, errlen, "cannot encode the public key");
		return -1;
	}
	p = *der;
	if (i2d_PUBKEY(key, &p) != n) {
		dlg_seterr(err, errlen, "cannot encode the public key");
		free(*der);
		*der = NULL;
		return -1;
	}
	*der_len = (size_t)n;
	return 0;
}

EVP_PKEY *dlg_sign_load_key(const char *path, enum dlg_key_type *type, unsigned char **pub_der,
			    size_t *pub_der_len, char *err, size_t errlen)
{
	EVP_PKEY *key = NULL;
	BIO *bio = NULL;
	char *text = NULL;
	size_t len = 0;
	int ok = 0;

	if (dlg_key_read_file(path, &text, &len, err, errlen) != 0 ||
	    private_pem(text, len, err, errlen) != 0)
		goto end;
	bio = BIO_new_mem_buf(text, (int)len);
	if (!bio) {
		dlg_seterr(err, errlen, "out of memory");
		goto end;
	}
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	if (!key) {
		dlg_seterr(err, errlen, "cannot read the private key: %s", ossl_reason());
		goto end;
	}
	if (dlg_key_check(key, type, err, errlen) != 0 ||
	    public_der(key, pub_der, pub_der_len, err, errlen) != 0)
		goto end;
	ok = 1;
end:
	BIO_free(bio);
	if (text) {
		OPENSSL_cleanse(text, len);
		free(text);
	}
	if (!ok) {
		EVP_PKEY_free(key);
		key = NULL;
	}
	ERR_clear_error();
	return key;
}

/* Ed25519 takes no digest; the others sign SHA-256, RSA-PSS keys with PSS. */
static int sign_init(EVP_MD_CTX *ctx, EVP_PKEY *key, enum dlg_key_type type)
{
	EVP_PKEY_CTX *pctx = NULL;

	if (type == DLG_KEY_ED25519)
		return EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 ? 0 : -1;
	if (EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, key) != 1)
		return -1;
	if (type == DLG_KEY_RSA)
		return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 ? 0 : -1;
	if (type == DLG_KEY_RSA_PSS)
		return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
			       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, PSS_SALTLEN) == 1
		       ? 0
		       : -1;
	return 0;
}

static int sign_final(EVP_MD_CTX *ctx, unsigned char *sig, size_t *sig_len, char *err,
		      size_t errlen)
{
	size_t n = 0;

	if (EVP_DigestSignFinal(ctx, NULL, &n) != 1 || n == 0 || n > DLG_SIG_MAX) {
		dlg_seterr(err, errlen, "cannot sign: %s", ossl_reason());
		return -1;
	}
	if (EVP_DigestSignFinal(ctx, sig, &n) != 1) {
		dlg_seterr(err, errlen, "cannot sign: %s", ossl_reason());
		return -1;
	}
	*sig_len = n;
	return 0;
}

int dlg_sign_mem(EVP_PKEY *key, enum dlg_key_type type, const void *data, size_t len,
		 unsigned char *sig, size_t *sig_len, char *err, size_t errlen)
{
	static const unsigned char nothing[1];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t n = DLG_SIG_MAX;
	int rc = -1;

	if (!data)
		data = nothing;
	if (!ctx || sign_init(ctx, key, type) != 0) {
		dlg_seterr(err, errlen, "cannot start signing: %s", ossl_reason());
		goto end;
	}
	if (type == DLG_KEY_ED25519) {
		/* one shot: Ed25519 has no streaming interface */
		if (EVP_DigestSign(ctx, NULL, &n, data, len) != 1 || n > DLG_SIG_MAX ||
		    EVP_DigestSign(ctx, sig, &n, data, len) != 1) {
			dlg_seterr(err, errlen, "cannot sign: %s", ossl_reason());
			goto end;
		}
		*sig_len = n;
	} else if (EVP_DigestSignUpdate(ctx, data, len) != 1) {
		dlg_seterr(err, errlen, "cannot sign: %s", ossl_reason());
		goto end;
	} else if (sign_final(ctx, sig, sig_len, err, errlen) != 0) {
		goto end;
	}
	rc = 0;
end:
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

static int read_at(int fd, unsigned char *buf, size_t n, off_t off, char *err, size_t errlen)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, buf + got, n - got, off + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			dlg_seterr(err, errlen, "%s", r < 0 ? strerror(errno)
							  : "file changed while being signed");
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

static int unchanged(int fd, const struct stat *a, char *err, size_t errlen)
{
	struct stat b;

	if (fstat(fd, &b) != 0 || a->st_ino != b.st_ino || a->st_dev != b.st_dev ||
	    a->st_size != b.st_size || a->st_mtim.tv_sec != b.st_mtim.tv_sec ||
	    a->st_mtim.tv_nsec != b.st_mtim.tv_nsec) {
		dlg_seterr(err, errlen, "file changed while being signed");
		return -1;
	}
	return 0;
}

static int sign_fd_ed25519(EVP_PKEY *key, int fd, const struct stat *st, unsigned char *sig,
			   size_t *sig_len, char *err, size_t errlen)
{
	unsigned char *buf;
	int rc = -1;

	if (st->st_size > DLG_SIG_FILE_MAX) {
		dlg_seterr(err, errlen, "file too large for an Ed25519 signature (%lld bytes, at most %ld)",
			(long long)st->st_size, DLG_SIG_FILE_MAX);
		return -1;
	}
	buf = malloc(st->st_size ? (size_t)st->st_size : 1);
	if (!buf) {
		dlg_seterr(err, errlen, "out of memory");
		return -1;
	}
	if (read_at(fd, buf, (size_t)st->st_size, 0, err, errlen) == 0 &&
	    unchanged(fd, st, err, errlen) == 0)
		rc = dlg_sign_mem(key, DLG_KEY_ED25519, buf, (size_t)st->st_size, sig, sig_len,
				  err, errlen);
	free(buf);
	return rc;
}

static int sign_fd_digest(EVP_PKEY *key, enum dlg_key_type type, int fd,
			  const struct stat *st, unsigned char *sig, size_t *sig_len, char *err,
			  size_t errlen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *buf = malloc(CHUNK);
	int rc = -1;

	if (!ctx || !buf || sign_init(ctx, key, type) != 0) {
		dlg_seterr(err, errlen, "cannot start signing: %s", ossl_reason());
		goto end;
	}
	for (off_t off = 0; off < st->st_size;) {
		size_t want = (st->st_size - off) < CHUNK ? (size_t)(st->st_size - off) : CHUNK;
		if (read_at(fd, buf, want, off, err, errlen) != 0)
			goto end;
		if (EVP_DigestSignUpdate(ctx, buf, want) != 1) {
			dlg_seterr(err, errlen, "cannot sign: %s", ossl_reason());
			goto end;
		}
		off += (off_t)want;
	}
	if (unchanged(fd, st, err, errlen) != 0 || sign_final(ctx, sig, sig_len, err, errlen) != 0)
		goto end;
	rc = 0;
end:
	free(buf);
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

int dlg_sign_fd(EVP_PKEY *key, enum dlg_key_type type, int fd, unsigned char *sig,
		size_t *sig_len, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		dlg_seterr(err, errlen, "not a regular file");
		return -1;
	}
	if (type == DLG_KEY_ED25519)
		return sign_fd_ed25519(key, fd, &st, sig, sig_len, err, errlen);
	return sign_fd_digest(key, type, fd, &st, sig, sig_len, err, errlen);
}

/* mkdir -p, each created directory 0755 whatever the umask: signatures
 * must be readable by every process the guard runs in. */
static int make_dirs(const char *dir, char *err, size_t errlen)
{
	char buf[PATH_MAX];
	size_t n = strlen(dir);

	if (n >= sizeof buf) {
		dlg_seterr(err, errlen, "%s: path too long", dir);
		return -1;
	}
	memcpy(buf, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) == 0) {
			if (chmod(buf, 0755) != 0) {
				dlg_seterr(err, errlen, "%s: %s", buf, strerror(errno));
				return -1;
			}
		} else if (errno != EEXIST) {
			dlg_seterr(err, errlen, "cannot create %s: %s", buf, strerror(errno));
			return -1;
		}
		buf[i] = i < n ? '/' : '\0';
	}
	return 0;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int temp_name(const char *path, char *dir, size_t dirlen, char *tmp, size_t tmplen)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int n;

	if (!slash)
		n = snprintf(dir, dirlen, ".");
	else
		n = snprintf(dir, dirlen, "%.*s", slash == path ? 1 : (int)(slash - path), path);
	if (n < 0 || (size_t)n >= dirlen || !*base)
		return -1;
	n = snprintf(tmp, tmplen, "%s/.%s.XXXXXX", dir, base);
	return n < 0 || (size_t)n >= tmplen ? -1 : 0;
}

int dlg_sign_write_file(const char *path, const unsigned char *sig, size_t len,
			int make_parents, char *err, size_t errlen)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	int fd = -1, created = 0, rc = -1;

	if (temp_name(path, dir, sizeof dir, tmp, sizeof tmp) != 0) {
		dlg_seterr(err, errlen, "%s: bad output path", path);
		return -1;
	}
	if (make_parents && make_dirs(dir, err, errlen) != 0)
		return -1;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		dlg_seterr(err, errlen, "cannot create a temporary file in %s: %s", dir,
			strerror(errno));
		goto end;
	}
	created = 1;
	if (fchmod(fd, 0644) != 0 || write_all(fd, sig, len) != 0 || fsync(fd) != 0) {
		dlg_seterr(err, errlen, "%s: %s", tmp, strerror(errno));
		goto end;
	}
	rc = close(fd);
	fd = -1;
	if (rc != 0 || rename(tmp, path) != 0) {
		dlg_seterr(err, errlen, "cannot write %s: %s", path, strerror(errno));
		rc = -1;
		goto end;
	}
	created = 0;
	rc = 0;
end:
	if (fd >= 0)
		close(fd);
	if (created)
		unlink(tmp);
	return rc;
}
