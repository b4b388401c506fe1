#include "digest.h"

#include "errstr.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"

/* Read in large chunks from an anonymous mapping rather than the stack: host
 * threads may run with small stacks, and the allocator may be what is being
 * loaded. */
#define CHUNK (256 * 1024)

static void set_err(char *err, size_t errlen, const char *what, int e)
{
	if (err && errlen)
		snprintf(err, errlen, "%s%s%s", what, e ? ": " : "", e ? dlg_strerror(e) : "");
}

/* One read buffer kept for the life of the process: mapping and first
 * touching 256 KiB for every file hashed cost more than hashing a small
 * library. A thread that finds it busy maps its own for that call. */
static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char *spare;

static unsigned char *buffer_get(void)
{
	unsigned char *buf = MAP_FAILED;

	if (pthread_mutex_trylock(&spare_lock) == 0) {
		if (!spare) {
			void *p = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			spare = p == MAP_FAILED ? NULL : p;
		}
		if (spare)
			return spare;       /* keeps the lock until buffer_put */
		pthread_mutex_unlock(&spare_lock);
	}
	buf = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return buf;
}

static void buffer_put(unsigned char *buf)
{
	if (buf == MAP_FAILED)
		return;
	if (buf == spare)
		pthread_mutex_unlock(&spare_lock);
	else
		munmap(buf, CHUNK);
}

static int same_file_state(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static int hash_range(const struct dlg_crypto *c, int fd, off_t size, unsigned char *buf,
		      unsigned char out[DLG_SHA256_LEN], char *err, size_t errlen)
{
	void *ctx = c->md_ctx_new();
	unsigned int outlen = 0;
	off_t off = 0;
	int rc = -1;

	if (!ctx || c->digest_init(ctx, c->sha256(), NULL) != 1) {
		set_err(err, errlen, "libcrypto: cannot start SHA-256", 0);
		goto end;
	}
	while (off < size) {
		size_t want = (size - off) < CHUNK ? (size_t)(size - off) : CHUNK;
		ssize_t n = pread(fd, buf, want, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			set_err(err, errlen, "read failed", errno);
			goto end;
		}
		if (n == 0) {
			set_err(err, errlen, "file shrank while being hashed", 0);
			goto end;
		}
		if (c->digest_update(ctx, buf, (size_t)n) != 1) {
			set_err(err, errlen, "libcrypto: SHA-256 update failed", 0);
			goto end;
		}
		off += n;
	}
	if (c->digest_final(ctx, out, &outlen) != 1 || outlen != DLG_SHA256_LEN) {
		set_err(err, errlen, "libcrypto: SHA-256 final failed", 0);
		goto end;
	}
	rc = 0;
end:
	if (ctx)
		c->md_ctx_free(ctx);
	return rc;
}

int dlg_sha256_fd(int fd, unsigned char out[DLG_SHA256_LEN], char *err, size_t errlen)
{
	const struct dlg_crypto *c;
	struct stat before, after;
	unsigned char *buf = MAP_FAILED;
	int saved = errno, rc = -1;

	if (fd < 0) {
		set_err(err, errlen, "no file to hash", 0);
		goto end;
	}
	if (fstat(fd, &before) != 0) {
		set_err(err, errlen, "fstat failed", errno);
		goto end;
	}
	if (!S_ISREG(before.st_mode)) {
		set_err(err, errlen, "not a regular file", 0);
		goto end;
	}
	c = dlg_crypto_get(err, errlen);
	if (!c)
		goto end;
	buf = buffer_get();
	if (buf == MAP_FAILED) {
		set_err(err, errlen, "no memory for hashing", errno);
		goto end;
	}
	if (hash_range(c, fd, before.st_size, buf, out, err, errlen) != 0)
		goto end;
	if (fstat(fd, &after) != 0 || !same_file_state(&before, &after)) {
		set_err(err, errlen, "file changed while being hashed", 0);
		goto end;
	}
	rc = 0;
end:
	buffer_put(buf);
	errno = saved;
	return rc;
}

void dlg_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int dlg_unhex_sha256(const char *s, unsigned char out[DLG_SHA256_LEN])
{
	if (!s || strlen(s) != 2 * DLG_SHA256_LEN)
		return -1;
	for (size_t i = 0; i < DLG_SHA256_LEN; i++) {
		int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}
