/* sig: detached signatures verified through lazily mapped libcrypto, for
 * every key type, against signatures made by the openssl CLI (the format
 * contract); public key loading and its refusals; signature files that are
 * odd; the CLI-side signer (sign.c) round-tripping with the verifier. Keys are
 * generated at test time with the openssl CLI (package "openssl"). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "sig.h"
#include "sig_key.h"
#include "sign.h"

#define DATA_LEN (300 * 1024) /* crosses the 256 KiB read chunk */

static char dir[] = "/tmp/dlg-sig.XXXXXX";

struct keyspec {
	const char *name, *genargs;
	enum dlg_key_type type;
};

static const struct keyspec keys[] = {
	{ "ed25519", "-algorithm ED25519", DLG_KEY_ED25519 },
	{ "p256", "-algorithm EC -pkeyopt ec_paramgen_curve:P-256", DLG_KEY_ECDSA_P256 },
	{ "p384", "-algorithm EC -pkeyopt ec_paramgen_curve:P-384", DLG_KEY_ECDSA_P384 },
	{ "rsa", "-algorithm RSA -pkeyopt rsa_keygen_bits:2048", DLG_KEY_RSA },
	{ "rsapss", "-algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048", DLG_KEY_RSA_PSS },
	/* parameters in the key: SHA-256, salt 32; "auto" salt is refused for it */
	{ "rsapss_r",
	  "-algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -pkeyopt rsa_pss_keygen_md:sha256 "
	  "-pkeyopt rsa_pss_keygen_mgf1_md:sha256 -pkeyopt rsa_pss_keygen_saltlen:32",
	  DLG_KEY_RSA_PSS },
};

/* Signatures as the openssl CLI writes them (NULL opts: pkeyutl -rawin). */
static const struct {
	const char *key, *opts;
} sigs[] = {
	{ "ed25519", NULL },
	{ "p256", "" },
	{ "p384", "" },
	{ "rsa", "" },
	{ "rsa", "-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest" },
	{ "rsa", "-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:max" },
	{ "rsa", "-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:0" },
	{ "rsapss", "" },
	{ "rsapss", "-sigopt rsa_pss_saltlen:digest" },
	{ "rsapss_r", "" },
};

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof cmd)
		return -1;
	return system(cmd);
}

static void path_of(char *out, size_t len, const char *name)
{
	assert_true((size_t)snprintf(out, len, "%s/%s", dir, name) < len);
}

static void write_file(const char *name, const void *data, size_t len)
{
	char p[512];
	int fd;

	path_of(p, sizeof p, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static int open_in_dir(const char *name)
{
	char p[512];
	int fd;

	path_of(p, sizeof p, name);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static int gen_key(const char *name, const char *genargs)
{
	return sh("cd %s && openssl genpkey %s -out %s.key 2>/dev/null && "
		  "openssl pkey -in %s.key -pubout -out %s.pub 2>/dev/null",
		  dir, genargs, name, name, name);
}

static int setup(void **state)
{
	unsigned char *data;
	int rc = 0;

	(void)state;
	if (sh("openssl version > /dev/null 2>&1") != 0) {
		fprintf(stderr, "test_sig: the openssl CLI is missing: apt-get install openssl\n");
		return -1;
	}
	if (!mkdtemp(dir))
		return -1;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0] && rc == 0; i++) {
		char other[64];
		snprintf(other, sizeof other, "%s.other", keys[i].name);
		rc = gen_key(keys[i].name, keys[i].genargs) || gen_key(other, keys[i].genargs);
	}
	data = malloc(DATA_LEN);
	if (!data)
		return -1;
	for (size_t i = 0; i < DATA_LEN; i++)
		data[i] = (unsigned char)(i * 7 + (i >> 8));
	write_file("lib.so", data, DATA_LEN);
	data[DATA_LEN / 2] ^= 1; /* one bit */
	write_file("lib.mod.so", data, DATA_LEN);
	free(data);
	return rc;
}

static int teardown(void **state)
{
	(void)state;
	return sh("rm -rf %s", dir);
}

static void load_pub(const char *name, unsigned char **der, size_t *len, enum dlg_key_type *type)
{
	char p[512], err[256] = "";

	path_of(p, sizeof p, name);
	if (dlg_key_load_pem(p, der, len, type, err, sizeof err) != 0)
		fail_msg("%s: %s", name, err);
}

static void read_sig(const char *name, unsigned char *buf, size_t *len)
{
	char p[512], err[256] = "";

	path_of(p, sizeof p, name);
	if (dlg_sig_read_file(p, buf, DLG_SIG_MAX, len, err, sizeof err) != 0)
		fail_msg("%s: %s", name, err);
}

static enum dlg_sig_result verify_file(const char *name, const unsigned char *sig, size_t sig_len,
				       const unsigned char *der, size_t der_len,
				       enum dlg_key_type type, char *err, size_t errlen)
{
	int fd = open_in_dir(name);
	enum dlg_sig_result r = dlg_sig_verify_fd(fd, sig, sig_len, der, der_len, type, err, errlen);

	close(fd);
	/* nothing of ours is left on the thread's libcrypto error queue */
	assert_int_equal(ERR_peek_error(), 0);
	return r;
}

static int cli_sign(const char *key, const char *opts, const char *in, const char *out)
{
	if (!opts)
		return sh("cd %s && openssl pkeyutl -sign -rawin -inkey %s.key -in %s -out %s",
			  dir, key, in, out);
	return sh("cd %s && openssl dgst -sha256 -sign %s.key %s -out %s %s", dir, key, opts, out,
		  in);
}

/* A well-formed signature by the key: VALID over fd and memory; by another
 * key, of another content, or damaged in any way: never VALID. */
static void check_one(const char *key, const char *opts)
{
	unsigned char *der, *other_der, sig[DLG_SIG_MAX], other[DLG_SIG_MAX], bad[DLG_SIG_MAX + 2];
	size_t der_len, other_der_len, sig_len, other_len;
	enum dlg_key_type type, other_type;
	char name[64], err[256];
	static unsigned char data[DATA_LEN];
	int fd;

	snprintf(name, sizeof name, "%s.other.pub", key);
	load_pub(name, &other_der, &other_der_len, &other_type);
	snprintf(name, sizeof name, "%s.pub", key);
	load_pub(name, &der, &der_len, &type);
	assert_int_equal(type, other_type);
	assert_int_equal(cli_sign(key, opts, "lib.so", "good.sig"), 0);
	snprintf(name, sizeof name, "%s.other", key);
	assert_int_equal(cli_sign(name, opts, "lib.so", "other.sig"), 0);
	read_sig("good.sig", sig, &sig_len);
	read_sig("other.sig", other, &other_len);

	err[0] = '\0';
	if (verify_file("lib.so", sig, sig_len, der, der_len, type, err, sizeof err) !=
	    DLG_SIG_VALID)
		fail_msg("%s %s: %s", key, opts ? opts : "pkeyutl", err);
	fd = open_in_dir("lib.so");
	assert_int_equal(read(fd, data, sizeof data), (ssize_t)sizeof data);
	close(fd);
	assert_int_equal(dlg_sig_verify_mem(data, sizeof data, sig, sig_len, der, der_len, type,
					    err, sizeof err),
			 DLG_SIG_VALID);

	/* another key's signature; this key's signature under the other key */
	assert_int_equal(verify_file("lib.so", other, other_len, der, der_len, type, err,
				     sizeof err),
			 DLG_SIG_INVALID);
	assert_non_null(strstr(err, "signature"));
	assert_int_equal(verify_file("lib.so", sig, sig_len, other_der, other_der_len, type, err,
				     sizeof err),
			 DLG_SIG_INVALID);
	/* the file modified after signing (one bit) */
	assert_int_equal(verify_file("lib.mod.so", sig, sig_len, der, der_len, type, err,
				     sizeof err),
			 DLG_SIG_INVALID);
	assert_string_equal(err, "signature does not match");
	data[0] ^= 0x80;
	assert_int_equal(dlg_sig_verify_mem(data, sizeof data, sig, sig_len, der, der_len, type,
					    err, sizeof err),
			 DLG_SIG_INVALID);
	data[0] ^= 0x80;

	/* truncated by one byte, by half, extended by one byte, empty */
	assert_int_not_equal(verify_file("lib.so", sig, sig_len - 1, der, der_len, type, err,
					 sizeof err),
			     DLG_SIG_VALID);
	assert_int_not_equal(verify_file("lib.so", sig, sig_len / 2, der, der_len, type, err,
					 sizeof err),
			     DLG_SIG_VALID);
	memcpy(bad, sig, sig_len);
	bad[sig_len] = 0;
	assert_int_not_equal(verify_file("lib.so", bad, sig_len + 1, der, der_len, type, err,
					 sizeof err),
			     DLG_SIG_VALID);
	assert_int_equal(verify_file("lib.so", sig, 0, der, der_len, type, err, sizeof err),
			 DLG_SIG_INVALID);
	assert_int_equal(verify_file("lib.so", NULL, 0, der, der_len, type, err, sizeof err),
			 DLG_SIG_INVALID);
	/* every single bit flipped, over the first 16 bytes: never valid */
	for (size_t i = 0; i < 16 * 8 && i < sig_len * 8; i++) {
		memcpy(bad, sig, sig_len);
		bad[i / 8] ^= (unsigned char)(1u << (i % 8));
		assert_int_not_equal(dlg_sig_verify_mem(data, sizeof data, bad, sig_len, der, der_len,
							type, err, sizeof err),
				     DLG_SIG_VALID);
	}
	/* garbage of the same length and of the maximum length */
	for (size_t i = 0; i < sizeof bad; i++)
		bad[i] = (unsigned char)(i * 131 + 17);
	assert_int_equal(verify_file("lib.so", bad, sig_len, der, der_len, type, err, sizeof err),
			 DLG_SIG_INVALID);
	assert_int_equal(verify_file("lib.so", bad, DLG_SIG_MAX, der, der_len, type, err,
				     sizeof err),
			 DLG_SIG_INVALID);
	assert_int_equal(verify_file("lib.so", bad, DLG_SIG_MAX + 1, der, der_len, type, err,
				     sizeof err),
			 DLG_SIG_INVALID);
	free(der);
	free(other_der);
}

static void test_cli_signatures(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		check_one(sigs[i].key, sigs[i].opts);
}

/* Exact edge lengths of the fixed-size and DER formats. */
static void test_malformed_signatures(void **state)
{
	unsigned char *der, sig[DLG_SIG_MAX], big[80];
	size_t der_len, sig_len;
	enum dlg_key_type type;
	char err[256];

	(void)state;
	load_pub("ed25519.pub", &der, &der_len, &type);
	assert_int_equal(cli_sign("ed25519", NULL, "lib.so", "ed.sig"), 0);
	read_sig("ed.sig", sig, &sig_len);
	assert_int_equal(sig_len, 64);
	memcpy(big, sig, 64);
	big[64] = 0;
	assert_int_equal(verify_file("lib.so", sig, 63, der, der_len, type, err, sizeof err),
			 DLG_SIG_INVALID);
	assert_string_equal(err, "malformed Ed25519 signature (63 bytes, not 64)");
	assert_int_equal(verify_file("lib.so", big, 65, der, der_len, type, err, sizeof err),
			 DLG_SIG_INVALID);
	assert_int_equal(verify_file("lib.so", sig, 64, der, der_len, type, err, sizeof err),
			 DLG_SIG_VALID);
	free(der);

	load_pub("p256.pub", &der, &der_len, &type);
	assert_int_equal(cli_sign("p256", "", "lib.so", "ec.sig"), 0);
	read_sig("ec.sig", sig, &sig_len);
	assert_int_equal(sig[0], 0x30); /* DER SEQUENCE */
	assert_int_equal(verify_file("lib.so", sig, sig_len - 1, der, der_len, type, err,
				     sizeof err),
			 DLG_SIG_INVALID);
	sig[1]++; /* SEQUENCE length one too long */
	assert_int_equal(verify_file("lib.so", sig, sig_len, der, der_len, type, err, sizeof err),
			 DLG_SIG_INVALID);
	free(der);

	load_pub("rsa.pub", &der, &der_len, &type);
	assert_int_equal(cli_sign("rsa", "", "lib.so", "rsa.sig"), 0);
	read_sig("rsa.sig", sig, &sig_len);
	assert_int_equal(sig_len, 256);
	assert_int_equal(verify_file("lib.so", sig, 255, der, der_len, type, err, sizeof err),
			 DLG_SIG_INVALID);
	assert_string_equal(err, "malformed RSA signature (255 bytes, not 256)");
	free(der);
}

static enum dlg_sig_result verify_mem_err(const unsigned char *der, size_t len,
					  enum dlg_key_type type)
{
	unsigned char sig[64] = { 1 };
	char err[256];

	return dlg_sig_verify_mem("x", 1, sig, sizeof sig, der, len, type, err, sizeof err);
}

/* Keys handed to the verifier: wrong declared type, garbage, damaged DER. */
static void test_bad_key_der(void **state)
{
	unsigned char *der, *ec_der, sig[DLG_SIG_MAX], junk[DLG_KEY_DER_MAX + 1];
	size_t der_len, ec_len, sig_len;
	enum dlg_key_type type, ec_type;
	char err[256];

	(void)state;
	load_pub("ed25519.pub", &der, &der_len, &type);
	load_pub("p384.pub", &ec_der, &ec_len, &ec_type);
	assert_int_equal(cli_sign("ed25519", NULL, "lib.so", "ed.sig"), 0);
	read_sig("ed.sig", sig, &sig_len);

	assert_int_equal(verify_file("lib.so", sig, sig_len, der, der_len, DLG_KEY_RSA, err,
				     sizeof err),
			 DLG_SIG_ERROR);
	assert_string_equal(err, "public key does not match its declared type");
	assert_int_equal(verify_file("lib.so", sig, sig_len, ec_der, ec_len, DLG_KEY_ECDSA_P256,
				     err, sizeof err),
			 DLG_SIG_ERROR);
	assert_int_equal(verify_file("lib.so", sig, sig_len, der, der_len, (enum dlg_key_type)99,
				     err, sizeof err),
			 DLG_SIG_ERROR);
	assert_int_equal(verify_file("lib.so", sig, sig_len, der, der_len - 1, type, err,
				     sizeof err),
			 DLG_SIG_ERROR);
	assert_int_equal(verify_file("lib.so", sig, sig_len, der, 0, type, err, sizeof err),
			 DLG_SIG_ERROR);
	assert_int_equal(verify_file("lib.so", sig, sig_len, NULL, der_len, type, err, sizeof err),
			 DLG_SIG_ERROR);
	memcpy(junk, der, der_len);
	junk[der_len] = 0;
	assert_int_equal(verify_file("lib.so", sig, sig_len, junk, der_len + 1, type, err,
				     sizeof err),
			 DLG_SIG_ERROR);
	assert_string_equal(err, "malformed public key (trailing bytes)");
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (unsigned char)(i * 37 + 1);
	assert_int_equal(verify_file("lib.so", sig, sig_len, junk, 100, type, err, sizeof err),
			 DLG_SIG_ERROR);
	assert_int_equal(verify_file("lib.so", sig, sig_len, junk, DLG_KEY_DER_MAX + 1, type, err,
				     sizeof err),
			 DLG_SIG_ERROR);
	/* a host's own pending libcrypto error survives ours, and is the only one */
	ERR_raise(ERR_LIB_USER, 42);
	assert_int_equal(verify_mem_err(junk, 100, type), DLG_SIG_ERROR);
	assert_int_equal(ERR_GET_REASON(ERR_peek_error()), 42);
	assert_int_equal(ERR_GET_REASON(ERR_peek_last_error()), 42);
	ERR_clear_error();
	/* every truncation of a valid key */
	for (size_t n = 0; n < der_len; n++)
		assert_int_equal(dlg_sig_verify_mem("x", 1, sig, sig_len, der, n, type, err,
						    sizeof err),
				 DLG_SIG_ERROR);
	assert_int_equal(ERR_peek_error(), 0);
	free(der);
	free(ec_der);
}

/* Files the verifier is handed: never read unless regular. */
static void test_verify_odd_fds(void **state)
{
	unsigned char *der, sig[64] = { 0 };
	size_t der_len;
	enum dlg_key_type type;
	char err[256], fifo[512];
	int fd;

	(void)state;
	load_pub("ed25519.pub", &der, &der_len, &type);
	assert_int_equal(dlg_sig_verify_fd(-1, sig, 64, der, der_len, type, err, sizeof err),
			 DLG_SIG_ERROR);
	fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	assert_int_equal(dlg_sig_verify_fd(fd, sig, 64, der, der_len, type, err, sizeof err),
			 DLG_SIG_ERROR);
	assert_string_equal(err, "not a regular file");
	close(fd);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(dlg_sig_verify_fd(fd, sig, 64, der, der_len, type, err, sizeof err),
			 DLG_SIG_ERROR);
	close(fd);
	path_of(fifo, sizeof fifo, "vfifo");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(10);
	fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_int_equal(dlg_sig_verify_fd(fd, sig, 64, der, der_len, type, err, sizeof err),
			 DLG_SIG_ERROR);
	alarm(0);
	close(fd);
	/* errno is left alone */
	errno = 1234;
	fd = open_in_dir("lib.so");
	errno = 1234;
	(void)dlg_sig_verify_fd(fd, sig, 64, der, der_len, type, err, sizeof err);
	assert_int_equal(errno, 1234);
	close(fd);
	free(der);
}

/* Empty content is still signed content. (openssl 3.0's pkeyutl cannot
 * sign an empty file with -rawin: the Ed25519 one comes from sign.c.) */
static void test_empty_file(void **state)
{
	unsigned char *der, sig[DLG_SIG_MAX];
	size_t der_len, sig_len;
	enum dlg_key_type type;
	char p[512], err[256];
	EVP_PKEY *k;

	(void)state;
	write_file("empty.so", "", 0);
	for (size_t i = 0; i < 2; i++) {
		const char *key = i ? "p256" : "ed25519";
		char pub[64];
		snprintf(pub, sizeof pub, "%s.pub", key);
		load_pub(pub, &der, &der_len, &type);
		if (i) {
			assert_int_equal(cli_sign(key, "", "empty.so", "empty.sig"), 0);
			read_sig("empty.sig", sig, &sig_len);
		} else {
			unsigned char *pub_der;
			size_t pub_len;
			path_of(p, sizeof p, "ed25519.key");
			k = dlg_sign_load_key(p, &type, &pub_der, &pub_len, err, sizeof err);
			assert_non_null(k);
			assert_int_equal(dlg_sign_mem(k, type, NULL, 0, sig, &sig_len, err,
						      sizeof err),
					 0);
			EVP_PKEY_free(k);
			free(pub_der);
		}
		assert_int_equal(verify_file("empty.so", sig, sig_len, der, der_len, type, err,
					     sizeof err),
				 DLG_SIG_VALID);
		assert_int_equal(dlg_sig_verify_mem(NULL, 0, sig, sig_len, der, der_len, type, err,
						    sizeof err),
				 DLG_SIG_VALID);
		assert_int_equal(verify_file("lib.so", sig, sig_len, der, der_len, type, err,
					     sizeof err),
				 DLG_SIG_INVALID);
		free(der);
	}
}

struct writer {
	int fd;
	volatile int stop, started;
};

static void *keep_writing(void *arg)
{
	struct writer *w = arg;
	unsigned char byte = 0;

	/* the same byte over and over: content never changes, mtime does */
	assert_int_equal(pread(w->fd, &byte, 1, 0), 1);
	while (!w->stop) {
		if (pwrite(w->fd, &byte, 1, 0) != 1)
			break;
		w->started = 1;
		usleep(500);
	}
	return NULL;
}

/* A file written to while it is verified is an error, even if its content
 * ends up the same. */
static void test_changed_while_verified(void **state)
{
	static const char *const names[] = { "ed25519", "p256" };
	char p[512], err[256];
	unsigned char *der, sig[DLG_SIG_MAX];
	size_t der_len, sig_len;
	enum dlg_key_type type;
	struct writer w;
	pthread_t t;
	int fd;

	(void)state;
	path_of(p, sizeof p, "big.so");
	assert_int_equal(sh("head -c 64M /dev/urandom > %s", p), 0);
	for (size_t i = 0; i < 2; i++) {
		char pub[64];
		snprintf(pub, sizeof pub, "%s.pub", names[i]);
		load_pub(pub, &der, &der_len, &type);
		assert_int_equal(cli_sign(names[i], i ? "" : NULL, "big.so", "big.sig"), 0);
		read_sig("big.sig", sig, &sig_len);
		assert_int_equal(verify_file("big.so", sig, sig_len, der, der_len, type, err,
					     sizeof err),
				 DLG_SIG_VALID);
		fd = open(p, O_RDWR | O_CLOEXEC);
		assert_true(fd >= 0);
		w = (struct writer){ .fd = fd };
		assert_int_equal(pthread_create(&t, NULL, keep_writing, &w), 0);
		while (!w.started)
			usleep(100);
		assert_int_equal(dlg_sig_verify_fd(fd, sig, sig_len, der, der_len, type, err,
						   sizeof err),
				 DLG_SIG_ERROR);
		assert_string_equal(err, "file changed while being verified");
		w.stop = 1;
		pthread_join(t, NULL);
		close(fd);
		free(der);
	}
}

static void read_refused(const char *path, size_t cap, const char *expect)
{
	unsigned char buf[DLG_SIG_MAX];
	size_t len = 777;
	char err[256] = "";

	assert_true(cap <= sizeof buf);
	alarm(10); /* a hang on a FIFO becomes a failure */
	assert_int_equal(dlg_sig_read_file(path, buf, cap, &len, err, sizeof err), -1);
	alarm(0);
	if (!strstr(err, expect))
		fail_msg("%s: got '%s', expected '%s'", path ? path : "(null)", err, expect);
	assert_int_equal(len, 777);
}

static void test_read_file(void **state)
{
	static unsigned char big[1024 * 1024];
	unsigned char buf[DLG_SIG_MAX];
	char p[512], sub[512];
	size_t len;
	char err[256];

	(void)state;
	path_of(p, sizeof p, "missing.sig");
	read_refused(p, sizeof buf, DLG_SIG_REASON_MISSING);
	path_of(sub, sizeof sub, "lib.so/x.sig"); /* ENOTDIR: missing too */
	read_refused(sub, sizeof buf, DLG_SIG_REASON_MISSING);
	path_of(p, sizeof p, "fifo.sig");
	assert_int_equal(mkfifo(p, 0600), 0);
	read_refused(p, sizeof buf, "signature file is a FIFO");
	read_refused(dir, sizeof buf, "signature file is a directory");
	read_refused("/dev/zero", sizeof buf, "signature file is a character device");
	read_refused(NULL, sizeof buf, "no signature file");
	read_refused("", sizeof buf, "no signature file");

	write_file("huge.sig", big, sizeof big);
	path_of(p, sizeof p, "huge.sig");
	read_refused(p, sizeof buf, "signature file too large (1048576 bytes");
	write_file("empty.sig", "", 0);
	path_of(p, sizeof p, "empty.sig");
	read_refused(p, sizeof buf, "signature file is empty");

	/* DLG_SIG_MAX - 1, DLG_SIG_MAX read; DLG_SIG_MAX + 1 refused */
	for (size_t n = DLG_SIG_MAX - 1; n <= DLG_SIG_MAX + 1; n++) {
		write_file("edge.sig", big, n);
		path_of(p, sizeof p, "edge.sig");
		if (n > DLG_SIG_MAX) {
			read_refused(p, sizeof buf, "too large");
			continue;
		}
		assert_int_equal(dlg_sig_read_file(p, buf, sizeof buf, &len, err, sizeof err), 0);
		assert_int_equal(len, n);
	}
	/* a caller's smaller buffer is the limit: 64 and 65 bytes into 64 */
	write_file("cap.sig", "0123456789012345678901234567890123456789012345678901234567890123",
		   64);
	path_of(p, sizeof p, "cap.sig");
	assert_int_equal(dlg_sig_read_file(p, buf, 64, &len, err, sizeof err), 0);
	assert_int_equal(len, 64);
	assert_memory_equal(buf, "0123456789", 10);
	write_file("cap.sig", "0123456789012345678901234567890123456789012345678901234567890123X",
		   65);
	read_refused(p, 64, "too large");
	read_refused(p, 0, "no signature file");
}

struct loadcase {
	const char *name;       /* file under dir, made by cmd */
	const char *cmd;        /* shell, run in dir; NULL: file already there */
	int rc;
	enum dlg_key_type type; /* rc == 0 */
	const char *expect;     /* rc != 0: part of the reason */
};

static void test_key_load(void **state)
{
	static const struct loadcase cases[] = {
		{ "ed25519.pub", NULL, 0, DLG_KEY_ED25519, NULL },
		{ "p256.pub", NULL, 0, DLG_KEY_ECDSA_P256, NULL },
		{ "p384.pub", NULL, 0, DLG_KEY_ECDSA_P384, NULL },
		{ "rsa.pub", NULL, 0, DLG_KEY_RSA, NULL },
		{ "rsapss.pub", NULL, 0, DLG_KEY_RSA_PSS, NULL },
		{ "rsapss_r.pub", NULL, 0, DLG_KEY_RSA_PSS, NULL },
		{ "crlf.pub", "sed 's/$/\\r/' ed25519.pub > crlf.pub", 0, DLG_KEY_ED25519, NULL },
		{ "rsa1024.pub",
		  "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 2>/dev/null | "
		  "openssl pkey -pubout -out rsa1024.pub",
		  -1, 0, "RSA key of 1024 bits is too weak (minimum 2048)" },
		{ "rsa2047.pub",
		  "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2047 2>/dev/null | "
		  "openssl pkey -pubout -out rsa2047.pub",
		  -1, 0, "RSA key of 2047 bits is too weak" },
		{ "pss512.pub",
		  "openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 "
		  "-pkeyopt rsa_pss_keygen_md:sha512 2>/dev/null | openssl pkey -pubout -out pss512.pub",
		  -1, 0, "restricted to a digest other than SHA-256" },
		{ "k1.pub",
		  "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1 2>/dev/null | "
		  "openssl pkey -pubout -out k1.pub",
		  -1, 0, "EC curve secp256k1 is not supported" },
		{ "p521.pub",
		  "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 2>/dev/null | "
		  "openssl pkey -pubout -out p521.pub",
		  -1, 0, "EC curve secp521r1 is not supported" },
		/* explicit parameters that are exactly P-256's: libcrypto names the curve */
		{ "explicit.pub",
		  "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
		  "-pkeyopt ec_param_enc:explicit 2>/dev/null | openssl pkey -pubout -out explicit.pub",
		  0, DLG_KEY_ECDSA_P256, NULL },
		{ "x25519.pub",
		  "openssl genpkey -algorithm X25519 | openssl pkey -pubout -out x25519.pub", -1, 0,
		  "X25519 is a key-agreement key" },
		{ "ed448.pub", "openssl genpkey -algorithm ED448 | openssl pkey -pubout -out ed448.pub",
		  -1, 0, "ED448 keys are not supported" },
		{ "dsa.pub",
		  "openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:1024 "
		  "-out dsa.param 2>/dev/null && openssl genpkey -paramfile dsa.param | "
		  "openssl pkey -pubout -out dsa.pub",
		  -1, 0, "DSA keys are not supported" },
		{ "ed25519.key", NULL, -1, 0, "this is a private key: give the public key" },
		{ "rsa-trad.key", "openssl rsa -in rsa.key -traditional -out rsa-trad.key 2>/dev/null",
		  -1, 0, "this is a private key" },
		{ "enc.key", "openssl pkey -in ed25519.key -aes256 -passout pass:x -out enc.key", -1,
		  0, "this is a private key" },
		{ "both.pem", "cat ed25519.pub ed25519.key > both.pem", -1, 0, "private key" },
		{ "two.pub", "cat ed25519.pub p256.pub > two.pub", -1, 0,
		  "2 PEM blocks: give exactly one public key" },
		{ "pkcs1.pub", "openssl rsa -in rsa.key -RSAPublicKey_out -out pkcs1.pub 2>/dev/null",
		  -1, 0, "PKCS#1 RSA PUBLIC KEY" },
		{ "cert.pem",
		  "openssl req -x509 -new -key ed25519.key -subj /CN=t -days 1 -out cert.pem", -1, 0,
		  "this is a certificate" },
		{ "ssh.pub", "echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB user@host' > ssh.pub", -1, 0,
		  "OpenSSH public key" },
		{ "garbage.pub", "head -c 500 /dev/urandom > garbage.pub", -1, 0, "" },
		{ "text.pub", "echo hello > text.pub", -1, 0, "not a PEM file" },
		{ "empty.pub", ": > empty.pub", -1, 0, "key file is empty" },
		{ "cut.pub", "head -c 60 rsa.pub > cut.pub; echo '-----END PUBLIC KEY-----' >> cut.pub",
		  -1, 0, "not a valid PEM public key" },
		{ "nobegin.pub", "grep -v BEGIN ed25519.pub > nobegin.pub", -1, 0, "not a PEM file" },
		{ "params.pem", "cp dsa.param params.pem", -1, 0, "not a PEM public key" },
		{ "big.pub", "head -c 70000 /dev/zero > big.pub", -1, 0, "key file too large" },
		{ "kfifo.pub", "mkfifo kfifo.pub", -1, 0, "not a regular file" },
		{ "kdir.pub", "mkdir kdir.pub", -1, 0, "not a regular file" },
		{ "missing.pub", "true", -1, 0, "No such file" },
	};
	unsigned char *der;
	size_t der_len;
	enum dlg_key_type type;
	char p[512], err[256];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct loadcase *c = &cases[i];
		int rc;
		if (c->cmd && sh("cd %s && %s", dir, c->cmd) != 0)
			fail_msg("%s: cannot make the fixture", c->name);
		path_of(p, sizeof p, c->name);
		der = NULL;
		err[0] = '\0';
		alarm(10);
		rc = dlg_key_load_pem(p, &der, &der_len, &type, err, sizeof err);
		alarm(0);
		if (rc != c->rc)
			fail_msg("%s: rc %d, expected %d (%s)", c->name, rc, c->rc, err);
		if (rc == 0) {
			assert_int_equal(type, c->type);
			assert_non_null(der);
			assert_true(der_len > 0 && der_len <= DLG_KEY_DER_MAX);
			free(der);
		} else if (!strstr(err, c->expect) || !err[0]) {
			fail_msg("%s: reason '%s', expected '%s'", c->name, err, c->expect);
		}
	}
	/* the DER is exactly what openssl writes for the public key */
	assert_int_equal(sh("cd %s && openssl pkey -pubin -in p256.pub -outform DER -out p256.der",
			    dir),
			 0);
	path_of(p, sizeof p, "p256.pub");
	assert_int_equal(dlg_key_load_pem(p, &der, &der_len, &type, err, sizeof err), 0);
	{
		unsigned char ref[DLG_KEY_DER_MAX];
		int fd = open_in_dir("p256.der");
		ssize_t n = read(fd, ref, sizeof ref);
		close(fd);
		assert_int_equal(n, (ssize_t)der_len);
		assert_memory_equal(ref, der, der_len);
	}
	free(der);
}

/* sign.c (the CLI signer) writes what the verifier and openssl accept. */
static void test_sign_roundtrip(void **state)
{
	unsigned char sig[DLG_SIG_MAX], *pub, *cli_der;
	size_t sig_len, pub_len, cli_len;
	enum dlg_key_type type, cli_type;
	char p[512], key[64], err[256];
	EVP_PKEY *k;
	int fd;

	(void)state;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		snprintf(key, sizeof key, "%s.key", keys[i].name);
		path_of(p, sizeof p, key);
		k = dlg_sign_load_key(p, &type, &pub, &pub_len, err, sizeof err);
		if (!k)
			fail_msg("%s: %s", key, err);
		assert_int_equal(type, keys[i].type);
		snprintf(key, sizeof key, "%s.pub", keys[i].name);
		load_pub(key, &cli_der, &cli_len, &cli_type);
		assert_int_equal(cli_type, type);
		assert_int_equal(cli_len, pub_len);
		assert_memory_equal(cli_der, pub, pub_len);

		fd = open_in_dir("lib.so");
		assert_int_equal(dlg_sign_fd(k, type, fd, sig, &sig_len, err, sizeof err), 0);
		close(fd);
		assert_int_equal(verify_file("lib.so", sig, sig_len, pub, pub_len, type, err,
					     sizeof err),
				 DLG_SIG_VALID);
		assert_int_equal(verify_file("lib.mod.so", sig, sig_len, pub, pub_len, type, err,
					     sizeof err),
				 DLG_SIG_INVALID);
		path_of(p, sizeof p, "w/x/y/lib.so.sig");
		assert_int_equal(dlg_sign_write_file(p, sig, sig_len, 1, err, sizeof err), 0);
		if (type == DLG_KEY_ED25519)
			assert_int_equal(sh("cd %s && openssl pkeyutl -verify -rawin -pubin -inkey "
					    "%s.pub -in lib.so -sigfile w/x/y/lib.so.sig > /dev/null",
					    dir, keys[i].name),
					 0);
		else
			assert_int_equal(sh("cd %s && openssl dgst -sha256 %s -verify %s.pub "
					    "-signature w/x/y/lib.so.sig lib.so > /dev/null",
					    dir,
					    type == DLG_KEY_RSA_PSS ? "-sigopt rsa_padding_mode:pss"
								    : "",
					    keys[i].name),
					 0);

		assert_int_equal(dlg_sign_mem(k, type, "manifest", 8, sig, &sig_len, err,
					      sizeof err),
				 0);
		assert_int_equal(dlg_sig_verify_mem("manifest", 8, sig, sig_len, pub, pub_len,
						    type, err, sizeof err),
				 DLG_SIG_VALID);
		assert_int_equal(dlg_sig_verify_mem("manifesT", 8, sig, sig_len, pub, pub_len,
						    type, err, sizeof err),
				 DLG_SIG_INVALID);
		EVP_PKEY_free(k);
		free(pub);
		free(cli_der);
	}
}

static void test_sign_refusals(void **state)
{
	static const struct {
		const char *name, *make, *expect;
	} cases[] = {
		{ "ed25519.pub", "true", "this is a public key: signing needs the private key" },
		{ "sgarbage.key", "head -c 500 /dev/urandom > sgarbage.key", "not a PEM private key" },
		{ "sempty.key", ": > sempty.key", "key file is empty" },
		{ "sfifo.key", "mkfifo sfifo.key", "not a regular file" },
		{ "scut.key", "head -n 2 rsa.key > scut.key", "cannot read the private key" },
	};
	unsigned char *pub = NULL;
	size_t pub_len;
	enum dlg_key_type type;
	struct stat st;
	char p[512], err[256];
	mode_t old;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(sh("cd %s && %s", dir, cases[i].make), 0);
		path_of(p, sizeof p, cases[i].name);
		assert_null(dlg_sign_load_key(p, &type, &pub, &pub_len, err, sizeof err));
		if (!strstr(err, cases[i].expect))
			fail_msg("%s: '%s'", cases[i].name, err);
	}
	assert_int_equal(sh("cd %s && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 "
			    "-out weak.key 2>/dev/null",
			    dir),
			 0);
	path_of(p, sizeof p, "weak.key");
	assert_null(dlg_sign_load_key(p, &type, &pub, &pub_len, err, sizeof err));
	assert_non_null(strstr(err, "too weak"));

	/* written files are 0644, new directories 0755, whatever the umask */
	old = umask(077);
	path_of(p, sizeof p, "m/n/s.sig");
	assert_int_equal(dlg_sign_write_file(p, (const unsigned char *)"ab", 2, 1, err, sizeof err),
			 0);
	umask(old);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(st.st_size, 2);
	path_of(p, sizeof p, "m/n");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	/* without make_parents a missing directory is an error, nothing left */
	path_of(p, sizeof p, "nodir/s.sig");
	assert_int_equal(dlg_sign_write_file(p, (const unsigned char *)"ab", 2, 0, err, sizeof err),
			 -1);
	path_of(p, sizeof p, "nodir");
	assert_int_equal(stat(p, &st), -1);
}

/* A host that restricts its own OpenSSL (here: FIPS-only defaults with no
 * FIPS provider, so every fetch in the default context fails) does not
 * change what the guard's verifier does: it has its own library context. */
static void test_host_openssl_config(void **state)
{
	unsigned char *der, sig[DLG_SIG_MAX];
	size_t der_len, sig_len;
	enum dlg_key_type type;
	char err[256];
	int status;
	pid_t pid;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		const char *key = i ? "rsa" : "ed25519";
		char pub[64];
		snprintf(pub, sizeof pub, "%s.pub", key);
		load_pub(pub, &der, &der_len, &type);
		assert_int_equal(cli_sign(key, i ? "" : NULL, "lib.so", "host.sig"), 0);
		read_sig("host.sig", sig, &sig_len);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			EVP_MD *md;
			int fd = open_in_dir("lib.so");
			if (EVP_set_default_properties(NULL, "fips=yes") != 1)
				_exit(10);
			md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
			if (md) /* the restriction did not take: the test proves nothing */
				_exit(11);
			if (dlg_sig_verify_fd(fd, sig, sig_len, der, der_len, type, err,
					      sizeof err) != DLG_SIG_VALID)
				_exit(12);
			_exit(0);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
		free(der);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_signatures),
		cmocka_unit_test(test_malformed_signatures),
		cmocka_unit_test(test_bad_key_der),
		cmocka_unit_test(test_verify_odd_fds),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_changed_while_verified),
		cmocka_unit_test(test_read_file),
		cmocka_unit_test(test_key_load),
		cmocka_unit_test(test_sign_roundtrip),
		cmocka_unit_test(test_sign_refusals),
		cmocka_unit_test(test_host_openssl_config),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
