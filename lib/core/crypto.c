#include "crypto.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "resolve.h"
#include "rawsys.h"

#define LIBCRYPTO_SONAME "libcrypto.so.3"
/* OPENSSL_INIT_NO_LOAD_CONFIG from <openssl/crypto.h>; not included so the
 * core does not need OpenSSL headers to build the preload. */
#define INIT_NO_LOAD_CONFIG 0x00000080L

static void *(*loader)(const char *, int) = dlopen;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct dlg_crypto crypto;
static const char *failure = "libcrypto not loaded";

DLG_START_TEXT void dlg_crypto_set_loader(void *(*fn)(const char *, int))
{
	if (fn)
		loader = fn;
}

static void *open_libcrypto(void)
{
	static const char *const fallback[] = {
		"/usr/lib/x86_64-linux-gnu/" LIBCRYPTO_SONAME,
		"/lib/x86_64-linux-gnu/" LIBCRYPTO_SONAME,
	};
	struct dlg_hwcaps hw;
	char path[PATH_MAX];
	void *h;

	dlg_hwcaps_init(&hw);
	if (dlg_ldcache_lookup("/etc/ld.so.cache", &hw, LIBCRYPTO_SONAME, path, sizeof path) == 0) {
		h = loader(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
		if (h)
			return h;
	}
	for (size_t i = 0; i < sizeof fallback / sizeof fallback[0]; i++) {
		h = loader(fallback[i], RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
		if (h)
			return h;
	}
	return NULL;
}

/* dlsym returns void *; converting it to a function pointer is what POSIX
 * requires dlsym users to do. */
#define BIND(field, name)                                                        \
	do {                                                                     \
		*(void **)(&crypto.field) = dlsym(h, name);                      \
		if (!crypto.field) {                                             \
			failure = "libcrypto lacks " name;                       \
			return;                                                  \
		}                                                                \
	} while (0)

/* A library context of our own, never configured: its default provider is
 * loaded on first use, whatever the host did to the default context. */
static int private_context(void *h)
{
	void *(*ctx_new)(void);
	const void *(*md_fetch)(void *libctx, const char *name, const char *propq);

	*(void **)(&ctx_new) = dlsym(h, "OSSL_LIB_CTX_new");
	*(void **)(&md_fetch) = dlsym(h, "EVP_MD_fetch");
	if (!ctx_new || !md_fetch) {
		failure = "libcrypto lacks OSSL_LIB_CTX_new or EVP_MD_fetch";
		return -1;
	}
	crypto.libctx = ctx_new();
	if (crypto.libctx)
		crypto.sha256_md = md_fetch(crypto.libctx, "SHA2-256", NULL);
	if (!crypto.sha256_md) {
		failure = "libcrypto: no SHA-256 in a private library context";
		return -1;
	}
	return 0;
}

static void load_once(void)
{
	int (*init_crypto)(uint64_t opts, const void *settings);
	void *h = open_libcrypto();

	if (!h) {
		failure = "cannot map " LIBCRYPTO_SONAME;
		return;
	}
	*(void **)(&init_crypto) = dlsym(h, "OPENSSL_init_crypto");
	if (!init_crypto || init_crypto(INIT_NO_LOAD_CONFIG, NULL) != 1) {
		failure = "libcrypto initialisation failed";
		return;
	}
	BIND(digest_init, "EVP_DigestInit_ex");
	BIND(digest_update, "EVP_DigestUpdate");
	BIND(digest_final, "EVP_DigestFinal_ex");
	BIND(sha256, "EVP_sha256");
	BIND(md_ctx_free, "EVP_MD_CTX_free");
	BIND(d2i_pubkey, "d2i_PUBKEY_ex");
	BIND(pkey_free, "EVP_PKEY_free");
	BIND(pkey_base_id, "EVP_PKEY_get_base_id");
	BIND(pkey_bits, "EVP_PKEY_get_bits");
	BIND(pkey_ctx_new, "EVP_PKEY_CTX_new_from_pkey");
	BIND(pkey_ctx_free, "EVP_PKEY_CTX_free");
	BIND(verify_init, "EVP_PKEY_verify_init");
	BIND(verify, "EVP_PKEY_verify");
	BIND(set_signature_md, "EVP_PKEY_CTX_set_signature_md");
	BIND(set_rsa_padding, "EVP_PKEY_CTX_set_rsa_padding");
	BIND(set_rsa_pss_saltlen, "EVP_PKEY_CTX_set_rsa_pss_saltlen");
	BIND(digest_verify_init, "EVP_DigestVerifyInit_ex");
	BIND(digest_verify, "EVP_DigestVerify");
	BIND(err_set_mark, "ERR_set_mark");
	BIND(err_pop_to_mark, "ERR_pop_to_mark");
	BIND(md_ctx_new, "EVP_MD_CTX_new");
	if (private_context(h) != 0)
		return;
	failure = NULL;
}

const struct dlg_crypto *dlg_crypto_get(char *err, size_t errlen)
{
	pthread_once(&once, load_once);
	if (failure) {
		if (err && errlen)
			snprintf(err, errlen, "%s", failure);
		return NULL;
	}
	return &crypto;
}
