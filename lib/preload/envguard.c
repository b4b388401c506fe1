#include "envguard.h"

#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy.h"

/* Appends the entries of in[0..inlen) (separated by any of seps) to out,
 * NUL-separated; stops at the first entry that does not fit. */
static size_t split_into(char *out, size_t outlen, const char *in, size_t inlen,
			 const char *seps)
{
	size_t used = 0, i = 0;

	while (i < inlen) {
		size_t n = 0;

		while (i + n < inlen && in[i + n] && !strchr(seps, in[i + n]))
			n++;
		if (n > 0) {
			if (used + n + 1 > outlen)
				break;
			memcpy(out + used, in + i, n);
			out[used + n] = '\0';
			used += n + 1;
		}
		i += n + 1;
	}
	return used;
}

/* ld.so's own parsing (elf/rtld.c): '#' starts a comment up to the end of
 * the line; entries are separated by spaces, tabs, newlines and colons. A
 * file larger than the buffer is read in part. Never blocks: regular files
 * only, opened non-blocking. */
static size_t read_preload_file(char *out, size_t outlen)
{
	char buf[4096];
	struct stat st;
	ssize_t n;
	int fd;

	fd = open("/etc/ld.so.preload", O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return 0;
	n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, buf, sizeof buf) : -1;
	close(fd);
	if (n <= 0)
		return 0;
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] != '#')
			continue;
		while (i < n && buf[i] != '\n')
			buf[i++] = ' ';
	}
	return split_into(out, outlen, buf, (size_t)n, ": \t\n");
}

void envguard_preload_read(struct envguard_preload *pl)
{
	const char *v = getenv("LD_PRELOAD");

	pl->env_len = v ? split_into(pl->env, sizeof pl->env, v, strlen(v), " :") : 0;
	pl->file_len = read_preload_file(pl->file, sizeof pl->file);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static bool names_object(const char *entry, const char *name, const struct stat *st)
{
	struct stat est;

	if (!strchr(entry, '/'))
		return strcmp(entry, base_name(name)) == 0;
	return stat(entry, &est) == 0 && est.st_dev == st->st_dev && est.st_ino == st->st_ino;
}

static const char *find_entry(const char *list, size_t len, const char *name,
			      const struct stat *st)
{
	for (size_t i = 0; i < len; i += strlen(list + i) + 1)
		if (names_object(list + i, name, st))
			return list + i;
	return NULL;
}

const char *envguard_preload_entry(const struct envguard_preload *pl, const char *name,
				   const struct stat *st, const char **entry)
{
	*entry = find_entry(pl->env, pl->env_len, name, st);
	if (*entry)
		return "LD_PRELOAD";
	*entry = find_entry(pl->file, pl->file_len, name, st);
	return *entry ? "/etc/ld.so.preload" : NULL;
}

/* Is entry (of LD_PRELOAD or LD_AUDIT) this library? The same inode, or
 * for a bare name (searched by ld.so) the same file name. */
static bool is_self(const char *entry, const char *self, const struct stat *self_st)
{
	struct stat st;

	if (!strchr(entry, '/'))
		return strcmp(entry, base_name(self)) == 0;
	if (strcmp(entry, self) == 0)
		return true;
	return self_st && stat(entry, &st) == 0 && st.st_dev == self_st->st_dev &&
	       st.st_ino == self_st->st_ino;
}

/* Keeps only this library's entry of a list variable (the first one, if
 * it is there twice), or removes the variable. */
static void keep_self(const char *var, const char *seps, const char *self)
{
	const char *v = getenv(var);
	char entry[PATH_MAX];
	struct stat self_st;
	bool have = self && stat(self, &self_st) == 0;

	if (!v)
		return;
	for (const char *p = v; *p;) {
		size_t n = strcspn(p, seps);

		if (n > 0 && n < sizeof entry) {
			memcpy(entry, p, n);
			entry[n] = '\0';
			if (self && is_self(entry, self, have ? &self_st : NULL)) {
				/* On failure (no memory) the variable stays as it
				 * was: children that keep the guard matter more
				 * than children that lose the rest. */
				(void)setenv(var, entry, 1);
				return;
			}
		}
		p += n;
		if (*p)
			p++;
	}
	unsetenv(var);
}

void envguard_strip(uint32_t mask, const char *preload_self, const char *audit_self)
{
	for (uint32_t bit = 1; bit & DLG_ENV_KNOWN; bit <<= 1) {
		const char *var = dlg_env_var_name(bit);

		if (!(mask & bit) || !var)
			continue;
		if (bit == DLG_ENV_LD_PRELOAD)
			keep_self(var, " :", preload_self);     /* ld.so splits LD_PRELOAD at both */
		else if (bit == DLG_ENV_LD_AUDIT)
			keep_self(var, ":", audit_self);
		else
			unsetenv(var);
	}
}
