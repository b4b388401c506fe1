/* Making detached signatures, for the CLI only (links OpenSSL directly; never
 * in the preload). What these write is exactly what sig.h verifies and what
 * the openssl CLI writes and verifies:
 *   Ed25519:   64 raw bytes over the whole content
 *   ECDSA:     DER ECDSA-Sig-Value over SHA-256
 *   RSA:       PKCS#1 v1.5 over SHA-256
 *   RSA-PSS:   PSS over SHA-256, MGF1-SHA-256, salt length = 32 */
#ifndef DLGUARD_SIGN_H
#define DLGUARD_SIGN_H

#include <stddef.h>
#include <openssl/evp.h>

#include "sig.h"

/* A private signing key from a PEM file (PKCS#8 or traditional; an encrypted
 * key prompts on the terminal). The key must pass dlg_key_check. Also
 * returns its public half as DER SubjectPublicKeyInfo (malloc'ed), which is
 * what policies name. Returns NULL with a reason. */
EVP_PKEY *dlg_sign_load_key(const char *path, enum dlg_key_type *type, unsigned char **pub_der,
			    size_t *pub_der_len, char *err, size_t errlen);

/* Signs the whole content of the regular file behind fd (pread; a file that
 * changes meanwhile is an error; Ed25519 refuses files over
 * DLG_SIG_FILE_MAX). sig must hold DLG_SIG_MAX bytes. Returns 0 or -1. */
int dlg_sign_fd(EVP_PKEY *key, enum dlg_key_type type, int fd, unsigned char *sig,
		size_t *sig_len, char *err, size_t errlen);

/* Same over memory (manifests). */
int dlg_sign_mem(EVP_PKEY *key, enum dlg_key_type type, const void *data, size_t len,
		 unsigned char *sig, size_t *sig_len, char *err, size_t errlen);

/* Writes a signature file atomically (temp file in the same directory,
 * fsync, rename), mode 0644; creates missing parent directories 0755 when
 * make_parents is set. Returns 0 or -1. */
int dlg_sign_write_file(const char *path, const unsigned char *sig, size_t len,
			int make_parents, char *err, size_t errlen);

#endif
