/* Signatures: public keys checked at compile time, detached signatures
 * verified over the very descriptor being decided on, through libcrypto
 * mapped on first need (crypto.h). Formats are the openssl CLI's own, so no
 * dlguard tool is needed to sign:
 *   Ed25519:   openssl pkeyutl -sign -rawin -inkey key.pem -in lib.so -out lib.so.sig
 *              (raw 64-byte signature over the whole file)
 *   ECDSA/RSA: openssl dgst -sha256 -sign key.pem -out lib.so.sig lib.so
 *              (DER ECDSA signature / PKCS#1 v1.5 over SHA-256; RSA-PSS with
 *               -sigopt rsa_padding_mode:pss, salt length = digest length or auto) */
#ifndef DLGUARD_SIG_H
#define DLGUARD_SIG_H

#include <stddef.h>

enum dlg_key_type {
	DLG_KEY_ED25519 = 1,
	DLG_KEY_ECDSA_P256 = 2,
	DLG_KEY_ECDSA_P384 = 3,
	DLG_KEY_RSA = 4,        /* accepts PKCS#1 v1.5 and PSS signatures (SHA-256) */
	DLG_KEY_RSA_PSS = 5,    /* an RSA-PSS key: PSS signatures only */
};

/* Largest signature file read (anything bigger is refused, never read). */
#define DLG_SIG_MAX 4096
/* Largest DER SubjectPublicKeyInfo kept in a compiled policy. */
#define DLG_KEY_DER_MAX 2048
/* Largest file an Ed25519 signature is checked over: Ed25519 signs the whole
 * content in one shot, so verification holds all of it in (anonymous)
 * memory. ECDSA/RSA stream the file and have no such limit. */
#define DLG_SIG_FILE_MAX (1024L * 1024 * 1024)
/* The reason dlg_sig_read_file gives when the signature file does not
 * exist (and only then), so callers can tell "unsigned" from "bad". */
#define DLG_SIG_REASON_MISSING "no signature file"

/* Compile time: reads a PEM public key (a private key file is refused),
 * checks its type and strength (Ed25519; ECDSA P-256/P-384; RSA >= 2048
 * bits), and returns its DER SubjectPublicKeyInfo (malloc'ed). Returns 0, or
 * -1 with a reason such as "RSA key of 1024 bits is too weak (minimum 2048)". */
int dlg_key_load_pem(const char *path, unsigned char **der, size_t *der_len,
		     enum dlg_key_type *type, char *err, size_t errlen);

/* Reads a signature file safely: O_NONBLOCK, regular files only, at most
 * DLG_SIG_MAX bytes (a bigger file is refused without reading it). Returns
 * 0, or -1 with a reason ("no signature file", "signature file is a FIFO",
 * "signature file too large", ...). */
int dlg_sig_read_file(const char *path, unsigned char *buf, size_t cap, size_t *len,
		      char *err, size_t errlen);

enum dlg_sig_result {
	DLG_SIG_VALID = 0,      /* the key signed exactly this content */
	DLG_SIG_INVALID = 1,    /* well-formed check, signature does not match */
	DLG_SIG_ERROR = -1,     /* could not check (libcrypto, I/O, malformed key) */
};

/* Verifies sig over the whole content of fd (pread from offset 0; the file
 * must not change meanwhile) with the DER public key. Never crashes on
 * garbage signatures or keys. */
enum dlg_sig_result dlg_sig_verify_fd(int fd, const unsigned char *sig, size_t sig_len,
				      const unsigned char *key_der, size_t key_der_len,
				      enum dlg_key_type type, char *err, size_t errlen);

/* Same over a memory buffer (manifests at compile time, tests). */
enum dlg_sig_result dlg_sig_verify_mem(const void *data, size_t len, const unsigned char *sig,
				       size_t sig_len, const unsigned char *key_der,
				       size_t key_der_len, enum dlg_key_type type, char *err,
				       size_t errlen);

#endif
