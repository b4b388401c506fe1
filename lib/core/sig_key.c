#include "sig_key.h"
#include "errstr.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "crypto.h"

/* crypto.h spells these out for the preload, which has no OpenSSL headers. */
_Static_assert(DLG_NID_RSA == EVP_PKEY_RSA, "EVP_PKEY_RSA");
_Static_assert(DLG_NID_EC == EVP_PKEY_EC, "EVP_PKEY_EC");
_Static_assert(DLG_NID_RSA_PSS == EVP_PKEY_RSA_PSS, "EVP_PKEY_RSA_PSS");
_Static_assert(DLG_NID_ED25519 == EVP_PKEY_ED25519, "EVP_PKEY_ED25519");
_Static_assert(DLG_RSA_PKCS1_PADDING == RSA_PKCS1_PADDING, "RSA_PKCS1_PADDING");
_Static_assert(DLG_RSA_PKCS1_PSS_PADDING == RSA_PKCS1_PSS_PADDING, "RSA_PKCS1_PSS_PADDING");
_Static_assert(DLG_RSA_PSS_SALTLEN_DIGEST == RSA_PSS_SALTLEN_DIGEST, "RSA_PSS_SALTLEN_DIGEST");
_Static_assert(DLG_RSA_PSS_SALTLEN_AUTO == RSA_PSS_SALTLEN_AUTO, "RSA_PSS_SALTLEN_AUTO");

#define KEY_FILE_MAX (64 * 1024)
#define RSA_MIN_BITS 2048
/* Bigger keys buy nothing and make every verification in every process slow. */
#define RSA_MAX_BITS 8192

static const char *ossl_reason(void)
{
	const char *r = ERR_reason_error_string(ERR_peek_last_error());

	return r ? r : "unrecognised content";
}

int dlg_key_read_file(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		dlg_seterr(err, errlen, "cannot open key file: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		dlg_seterr(err, errlen, "key file is not a regular file");
		goto end;
	}
	if (st.st_size > KEY_FILE_MAX) {
		dlg_seterr(err, errlen, "key file too large (%lld bytes, at most %d)",
			(long long)st.st_size, KEY_FILE_MAX);
		goto end;
	}
	buf = malloc(KEY_FILE_MAX + 1);
	if (!buf) {
		dlg_seterr(err, errlen, "out of memory");
		goto end;
	}
	while (n < KEY_FILE_MAX) {
		ssize_t r = read(fd, buf + n, KEY_FILE_MAX - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			dlg_seterr(err, errlen, "cannot read key file: %s", strerror(errno));
			goto end;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n == 0) {
		dlg_seterr(err, errlen, "key file is empty");
		goto end;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	buf = NULL;
	rc = 0;
end:
	free(buf);
	close(fd);
	return rc;
}

static size_t count(const char *s, size_t len, const char *what)
{
	size_t n = 0, wl = strlen(what);
	const char *p = s, *end = s + len;

	while ((p = memmem(p, (size_t)(end - p), what, wl)) != NULL) {
		n++;
		p += wl;
	}
	return n;
}

/* Tells apart the files people give by mistake before OpenSSL's generic
 * "no start line". */
static int pem_is_one_public_key(const char *s, size_t len, char *err, size_t errlen)
{
	size_t blocks = count(s, len, "-----BEGIN ");

	if (count(s, len, "PRIVATE KEY-----")) {
		dlg_seterr(err, errlen, "this is a private key: give the public key; private keys "
				     "never need to be on the enforcing machine");
		return -1;
	}
	if (blocks == 0 && len > 4 && memcmp(s, "ssh-", 4) == 0) {
		dlg_seterr(err, errlen, "this is an OpenSSH public key: convert it with "
				     "ssh-keygen -e -m PKCS8 -f KEY.pub");
		return -1;
	}
	if (blocks == 0) {
		dlg_seterr(err, errlen, "not a PEM file (expected -----BEGIN PUBLIC KEY-----)");
		return -1;
	}
	if (count(s, len, "-----BEGIN CERTIFICATE-----")) {
		dlg_seterr(err, errlen, "this is a certificate: extract its public key with "
				     "openssl x509 -pubkey -noout -in CERT");
		return -1;
	}
	if (count(s, len, "-----BEGIN RSA PUBLIC KEY-----")) {
		dlg_seterr(err, errlen, "this is a PKCS#1 RSA PUBLIC KEY: convert it with "
				     "openssl rsa -RSAPublicKey_in -pubout -in KEY");
		return -1;
	}
	if (blocks > 1) {
		dlg_seterr(err, errlen, "%zu PEM blocks: give exactly one public key", blocks);
		return -1;
	}
	if (!count(s, len, "-----BEGIN PUBLIC KEY-----")) {
		dlg_seterr(err, errlen, "not a PEM public key (expected -----BEGIN PUBLIC KEY-----)");
		return -1;
	}
	return 0;
}

static int check_ec(EVP_PKEY *pkey, enum dlg_key_type *type, char *err, size_t errlen)
{
	char curve[64];
	int nid;

	if (EVP_PKEY_get_group_name(pkey, curve, sizeof curve, NULL) != 1) {
		dlg_seterr(err, errlen, "EC key without a named curve is not supported "
				     "(use P-256 or P-384)");
		return -1;
	}
	nid = OBJ_txt2nid(curve);
	if (nid == NID_X9_62_prime256v1) {
		*type = DLG_KEY_ECDSA_P256;
		return 0;
	}
	if (nid == NID_secp384r1) {
		*type = DLG_KEY_ECDSA_P384;
		return 0;
	}
	dlg_seterr(err, errlen, "EC curve %s is not supported (use P-256 or P-384)", curve);
	return -1;
}

/* An RSA-PSS key may carry parameters that forbid SHA-256. */
static int pss_allows_sha256(EVP_PKEY *pkey)
{
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new(pkey, NULL);
	int ok = pctx && EVP_PKEY_verify_init(pctx) == 1 &&
		 EVP_PKEY_CTX_set_signature_md(pctx, EVP_sha256()) == 1;

	EVP_PKEY_CTX_free(pctx);
	return ok;
}

static int check_rsa(EVP_PKEY *pkey, int id, enum dlg_key_type *type, char *err, size_t errlen)
{
	int bits = EVP_PKEY_get_bits(pkey);

	if (bits < RSA_MIN_BITS) {
		dlg_seterr(err, errlen, "RSA key of %d bits is too weak (minimum %d)", bits,
			RSA_MIN_BITS);
		return -1;
	}
	if (bits > RSA_MAX_BITS) {
		dlg_seterr(err, errlen, "RSA key of %d bits is too large (maximum %d)", bits,
			RSA_MAX_BITS);
		return -1;
	}
	if (id == EVP_PKEY_RSA_PSS && !pss_allows_sha256(pkey)) {
		dlg_seterr(err, errlen, "RSA-PSS key restricted to a digest other than SHA-256");
		return -1;
	}
	*type = id == EVP_PKEY_RSA ? DLG_KEY_RSA : DLG_KEY_RSA_PSS;
	return 0;
}

int dlg_key_check(EVP_PKEY *pkey, enum dlg_key_type *type, char *err, size_t errlen)
{
	int id = EVP_PKEY_get_base_id(pkey);
	const char *name;

	switch (id) {
	case EVP_PKEY_ED25519:
		*type = DLG_KEY_ED25519;
		return 0;
	case EVP_PKEY_EC:
		return check_ec(pkey, type, err, errlen);
	case EVP_PKEY_RSA:
	case EVP_PKEY_RSA_PSS:
		return check_rsa(pkey, id, type, err, errlen);
	case EVP_PKEY_X25519:
	case EVP_PKEY_X448:
	case EVP_PKEY_DH:
	case EVP_PKEY_DHX:
		dlg_seterr(err, errlen, "%s is a key-agreement key, not a signing key",
			OBJ_nid2sn(id));
		return -1;
	case EVP_PKEY_DSA:
		dlg_seterr(err, errlen, "DSA keys are not supported "
				     "(use Ed25519, ECDSA P-256/P-384 or RSA >= 2048 bits)");
		return -1;
	default:
		name = EVP_PKEY_get0_type_name(pkey);
		dlg_seterr(err, errlen, "%s keys are not supported "
				     "(use Ed25519, ECDSA P-256/P-384 or RSA >= 2048 bits)",
			name ? name : OBJ_nid2sn(id));
		return -1;
	}
}

const char *dlg_key_type_name(enum dlg_key_type type)
{
	switch (type) {
	case DLG_KEY_ED25519:
		return "Ed25519";
	case DLG_KEY_ECDSA_P256:
		return "ECDSA P-256";
	case DLG_KEY_ECDSA_P384:
		return "ECDSA P-384";
	case DLG_KEY_RSA:
		return "RSA";
	case DLG_KEY_RSA_PSS:
		return "RSA-PSS";
	}
	return "unknown";
}

static int to_der(EVP_PKEY *pkey, unsigned char **der, size_t *der_len, char *err,
		  size_t errlen)
{
	unsigned char *buf, *p;
	int n = i2d_PUBKEY(pkey, NULL);

	if (n <= 0) {
		dlg_seterr(err, errlen, "cannot encode the public key: %s", ossl_reason());
		return -1;
	}
	if (n > DLG_KEY_DER_MAX) {
		dlg_seterr(err, errlen, "public key too large (%d bytes of DER, at most %d)", n,
			DLG_KEY_DER_MAX);
		return -1;
	}
	buf = malloc((size_t)n);
	if (!buf) {
		dlg_seterr(err, errlen, "out of memory");
		return -1;
	}
	p = buf;
	if (i2d_PUBKEY(pkey, &p) != n) {
		dlg_seterr(err, errlen, "cannot encode the public key: %s", ossl_reason());
		free(buf);
		return -1;
	}
	*der = buf;
	*der_len = (size_t)n;
	return 0;
}

int dlg_key_load_pem(const char *path, unsigned char **der, size_t *der_len,
		     enum dlg_key_type *type, char *err, size_t errlen)
{
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	char *text = NULL;
	size_t len = 0;
	int rc = -1;

	ERR_set_mark();
	if (!path || !der || !der_len || !type) {
		dlg_seterr(err, errlen, "no public key file");
		goto end;
	}
	if (dlg_key_read_file(path, &text, &len, err, errlen) != 0 ||
	    pem_is_one_public_key(text, len, err, errlen) != 0)
		goto end;
	bio = BIO_new_mem_buf(text, (int)len);
	if (!bio) {
		dlg_seterr(err, errlen, "out of memory");
		goto end;
	}
	pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	if (!pkey) {
		dlg_seterr(err, errlen, "not a valid PEM public key: %s", ossl_reason());
		goto end;
	}
	if (dlg_key_check(pkey, type, err, errlen) != 0 ||
	    to_der(pkey, der, der_len, err, errlen) != 0)
		goto end;
	rc = 0;
end:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	free(text);
	ERR_pop_to_mark();
	return rc;
}
