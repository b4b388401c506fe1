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
};

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
