/* Key files, for the CLI only (links OpenSSL directly; never in the preload).
 * dlg_key_load_pem itself is declared in sig.h. */
#ifndef DLGUARD_SIG_KEY_H
#define DLGUARD_SIG_KEY_H

#include <stddef.h>
#include <openssl/evp.h>

#include "sig.h"

/* Reads a key file of at most 64 KiB (O_NONBLOCK, regular files only) into a
 * NUL-terminated malloc'ed buffer. Returns 0, or -1 with a reason. */
int dlg_key_read_file(const char *path, char **text, size_t *len, char *err, size_t errlen);

/* Accepts Ed25519, ECDSA P-256/P-384, RSA and RSA-PSS of 2048..8192 bits
 * (RSA-PSS keys must allow SHA-256), public or private. Returns 0 and the
 * type, or -1 with a reason naming what the key is. */
int dlg_key_check(EVP_PKEY *pkey, enum dlg_key_type *type, char *err, size_t errlen);

/* "Ed25519", "ECDSA P-256", ... */
const char *dlg_key_type_name(enum dlg_key_type type);

#endif
