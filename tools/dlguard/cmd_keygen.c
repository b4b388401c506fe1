/* dlguard keygen: a signing key pair. The private key (PKCS#8 PEM, 0600)
 * stays with whoever signs; NAME.pub (PEM, 0644) is what enforcing machines
 * get. Neither file is ever overwritten. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "cli.h"
#include "sig_key.h"

static const char usage_text[] =
	"usage: dlguard keygen [--type ed25519|ecdsa|ecdsa-p384|rsa|rsa-pss] -o NAME\n";

/* EVP_PKEY_Q_keygen takes a size only for "RSA". */
static EVP_PKEY *generate_rsa_pss(void)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL);
	EVP_PKEY *pkey = NULL;

	if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 3072) != 1 || EVP_PKEY_generate(ctx, &pkey) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

static EVP_PKEY *generate(const char *type)
{
	if (strcmp(type, "ed25519") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (strcmp(type, "ecdsa") == 0 || strcmp(type, "ecdsa-p256") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (strcmp(type, "ecdsa-p384") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	if (strcmp(type, "rsa") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	if (strcmp(type, "rsa-pss") == 0)
		return generate_rsa_pss();
	return NULL;
}

static int known_type(const char *type)
{
	static const char *const types[] = { "ed25519", "ecdsa",   "ecdsa-p256",
					     "ecdsa-p384", "rsa", "rsa-pss" };

	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcmp(type, types[i]) == 0)
			return 1;
	return 0;
}

/* O_EXCL also refuses a symlink planted at the name. */
static int create_new(const char *path, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);

	if (fd < 0) {
		if (errno == EEXIST)
			fprintf(stderr, "dlguard: %s: already exists; refusing to overwrite a key\n",
				path);
		else
			fprintf(stderr, "dlguard: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fchmod(fd, mode) != 0) {
		fprintf(stderr, "dlguard: %s: %s\n", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

static int write_all(int fd, const char *p, size_t n)
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

/* The private key goes through secure memory, cleared when freed. */
static int write_pem(int fd, EVP_PKEY *pkey, int private)
{
	BIO *b = BIO_new(private ? BIO_s_secmem() : BIO_s_mem());
	char *data = NULL;
	long n;
	int rc = -1;

	if (!b)
		return -1;
	if (private ? PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0, NULL, NULL) != 1
		    : PEM_write_bio_PUBKEY(b, pkey) != 1)
		goto end;
	n = BIO_get_mem_data(b, &data);
	if (n <= 0 || write_all(fd, data, (size_t)n) != 0 || fsync(fd) != 0)
		goto end;
	rc = 0;
end:
	BIO_free(b);
	return rc;
}

static int write_pair(const char *name, EVP_PKEY *pkey)
{
	char pub[PATH_MAX];
	int priv_fd = -1, pub_fd = -1, rc = 1;

	if (snprintf(pub, sizeof pub, "%s.pub", name) >= (int)sizeof pub) {
		fprintf(stderr, "dlguard: %s: name too long\n", name);
		return 1;
	}
	priv_fd = create_new(name, 0600);
	if (priv_fd < 0)
		return 1;
	pub_fd = create_new(pub, 0644);
	if (pub_fd < 0)
		goto end;
	if (write_pem(priv_fd, pkey, 1) != 0 || write_pem(pub_fd, pkey, 0) != 0) {
		fprintf(stderr, "dlguard: %s: cannot write the key pair: %s\n", name,
			errno ? strerror(errno) : "libcrypto error");
		goto end;
	}
	rc = 0;
end:
	if (pub_fd >= 0 && close(pub_fd) != 0)
		rc = 1;
	if (close(priv_fd) != 0)
		rc = 1;
	/* only files this call created are removed */
	if (rc != 0) {
		unlink(name);
		if (pub_fd >= 0)
			unlink(pub);
	}
	return rc;
}

int cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *type = "ed25519", *out = NULL;
	enum dlg_key_type kt;
	EVP_PKEY *pkey = NULL;
	char err[256];
	int c, rc = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "t:o:h", opts, NULL)) != -1) {
		if (c == 't') {
			type = optarg;
		} else if (c == 'o') {
			out = optarg;
		} else {
			return cli_usage(usage_text, c);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "dlguard keygen: unexpected argument '%s'\n%s", argv[optind],
			usage_text);
		return 2;
	}
	if (!out || !*out) {
		fprintf(stderr, "dlguard keygen: -o NAME is required\n%s", usage_text);
		return 2;
	}
	if (!known_type(type)) {
		fprintf(stderr, "dlguard keygen: unknown key type '%s'\n%s", type, usage_text);
		return 2;
	}
	pkey = generate(type);
	if (!pkey || dlg_key_check(pkey, &kt, err, sizeof err) != 0) {
		fprintf(stderr, "dlguard: cannot generate a %s key: %s\n", type,
			pkey ? err : ERR_reason_error_string(ERR_peek_last_error()));
		goto end;
	}
	errno = 0;
	if (write_pair(out, pkey) != 0)
		goto end;
	printf("%s: %s private key (keep it where you sign, never on enforcing machines)\n"
	       "%s.pub: public key (for policy keys = ( { public_key = ...; } ))\n",
	       out, dlg_key_type_name(kt), out);
	rc = 0;
end:
	EVP_PKEY_free(pkey);
	return rc;
}
