/* SHA-256 of an open file, through libcrypto mapped on first need. */
#ifndef DLGUARD_DIGEST_H
#define DLGUARD_DIGEST_H

#include <stddef.h>
#include "policy.h"

/* Hashes the regular file behind fd from offset 0 (pread, fd offset
 * untouched), exactly st_size bytes as seen by fstat at the start; a file that
 * shrinks, grows or changes while being read is an error. Returns 0, or -1 with
 * a short reason in err. Never blocks on FIFOs or devices (they are refused). */
int dlg_sha256_fd(int fd, unsigned char out[DLG_SHA256_LEN], char *err, size_t errlen);

/* Lower-case hex; out must hold 2*DLG_SHA256_LEN+1 bytes. */
void dlg_hex(const unsigned char *in, size_t n, char *out);

/* Parses exactly 64 hex digits (either case). Returns 0 or -1. */
int dlg_unhex_sha256(const char *s, unsigned char out[DLG_SHA256_LEN]);

#endif
