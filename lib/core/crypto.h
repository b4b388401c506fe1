/* libcrypto, mapped on first need. The preload library must not link it:
 * everything it links is mapped into every process on the machine. */
#ifndef DLGUARD_CRYPTO_H
#define DLGUARD_CRYPTO_H

#include <stddef.h>

struct dlg_crypto {
	void *(*md_ctx_new)(void);
	void (*md_ctx_free)(void *ctx);
	const void *(*sha256)(void);
	int (*digest_init)(void *ctx, const void *md, void *engine);
	int (*digest_update)(void *ctx, const void *data, size_t len);
	int (*digest_final)(void *ctx, unsigned char *md, unsigned int *len);

	/* Signature verification (sig.c). OpenSSL 3.0 names; void * stands
	 * for OSSL_LIB_CTX, EVP_PKEY, EVP_PKEY_CTX, EVP_MD_CTX and EVP_MD.
	 * Keys and algorithms come from a library context of our own, so a
	 * host that configures OpenSSL (providers, FIPS-only defaults, its
	 * openssl.cnf) changes nothing about how signatures are checked. */
	void *libctx;
	const void *sha256_md; /* SHA2-256 fetched from libctx */
	void *(*d2i_pubkey)(void **out, const unsigned char **in, long len, void *libctx,
			    const char *propq);
	void (*pkey_free)(void *pkey);
	int (*pkey_base_id)(const void *pkey);
	int (*pkey_bits)(const void *pkey);
	void *(*pkey_ctx_new)(void *libctx, void *pkey, const char *propq);
	void (*pkey_ctx_free)(void *pctx);
	int (*verify_init)(void *pctx);
	int (*verify)(void *pctx, const unsigned char *sig, size_t siglen,
		      const unsigned char *tbs, size_t tbslen);
	int (*set_signature_md)(void *pctx, const void *md);
	int (*set_rsa_padding)(void *pctx, int padding);
	int (*set_rsa_pss_saltlen)(void *pctx, int saltlen);
	int (*digest_verify_init)(void *ctx, void **pctx, const char *mdname, void *libctx,
				  const char *propq, void *pkey, const void *params);
	int (*digest_verify)(void *ctx, const unsigned char *sig, size_t siglen,
			     const unsigned char *tbs, size_t tbslen);
	/* The error queue is per thread and shared with a host that uses the
	 * same libcrypto: failures of ours are popped so the host never sees
	 * them. */
	int (*err_set_mark)(void);
	int (*err_pop_to_mark)(void);
};

/* Constants of <openssl/obj_mac.h> and <openssl/rsa.h>, spelled out so the
 * preload builds without OpenSSL headers (sig_key.c checks them against the
 * headers at compile time). */
#define DLG_NID_RSA 6
#define DLG_NID_EC 408
#define DLG_NID_RSA_PSS 912
#define DLG_NID_ED25519 1087
#define DLG_RSA_PKCS1_PADDING 1
#define DLG_RSA_PKCS1_PSS_PADDING 6
#define DLG_RSA_PSS_SALTLEN_DIGEST (-1)
#define DLG_RSA_PSS_SALTLEN_AUTO (-2)

/* The function used to map libcrypto. The preload passes the real dlopen so
 * the load bypasses the policy instead of recursing into it; the default is
 * the process's dlopen. Call before the first dlg_crypto_get. */
void dlg_crypto_set_loader(void *(*loader)(const char *file, int mode));

/* Maps libcrypto by absolute path (from /etc/ld.so.cache, else the default
 * directories; never through LD_LIBRARY_PATH), once per process, initialised
 * with OPENSSL_INIT_NO_LOAD_CONFIG so OPENSSL_CONF cannot load modules.
 * Returns NULL with a reason in err when libcrypto is unusable. */
const struct dlg_crypto *dlg_crypto_get(char *err, size_t errlen);

#endif
