/* Unit tests for lib/core/resolve.c. Trees of real objects are built under
 * a mkdtemp() directory; wherever the real loader can be asked safely, the
 * same question goes to it too (a fixture host, fork+exec, dlopen, l_name)
 * and the two answers must agree: that is what pins our fidelity. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "elf.h"
#include "resolve.h"

#define FIXDIR DLG_TEST_BINDIR "/fixtures"

static char root[64];
static struct dlg_hwcaps hw;

/* ------------------------------------------------------------------ */
/* file tree helpers                                                   */

static void at(char *buf, size_t len, const char *rel)
{
	int n = snprintf(buf, len, "%s/%s", root, rel);

	assert_true(n > 0 && (size_t)n < len);
}

static void mkdirs(const char *rel)
{
	char p[PATH_MAX];

	at(p, sizeof p, rel);
	for (char *s = p + strlen(root) + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		(void)mkdir(p, 0755);
		*s = '/';
	}
	(void)mkdir(p, 0755);
}

static void parent_dirs(const char *rel)
{
	char d[PATH_MAX];
	char *slash;

	snprintf(d, sizeof d, "%s", rel);
	slash = strrchr(d, '/');
	if (slash) {
		*slash = '\0';
		mkdirs(d);
	}
}

static unsigned char *slurp(const char *path, size_t *size)
{
	struct stat st;
	unsigned char *b;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		fail_msg("%s: %s", path, strerror(errno));
	assert_int_equal(fstat(fd, &st), 0);
	*size = (size_t)st.st_size;
	b = malloc(*size + 1);
	assert_non_null(b);
	assert_int_equal(pread(fd, b, *size, 0), (ssize_t)*size);
	close(fd);
	return b;
}

static void put_bytes(const char *rel, const void *data, size_t len, mode_t mode)
{
	char p[PATH_MAX];
	int fd;

	parent_dirs(rel);
	at(p, sizeof p, rel);
	unlink(p);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* A copy of a fixture, optionally with bytes patched at 'off'. */
static void put_fixture(const char *rel, const char *fixture, size_t off, const void *patch,
			size_t plen, mode_t mode)
{
	char src[PATH_MAX];
	unsigned char *b;
	size_t size;

	snprintf(src, sizeof src, "%s/%s", FIXDIR, fixture);
	b = slurp(src, &size);
	if (patch)
		memcpy(b + off, patch, plen);
	put_bytes(rel, b, size, mode);
	free(b);
}

static void put_lib(const char *rel)
{
	put_fixture(rel, "libdlgfx_plain.so", 0, NULL, 0, 0644);
}

static void put_symlink(const char *rel, const char *target)
{
	char p[PATH_MAX];

	parent_dirs(rel);
	at(p, sizeof p, rel);
	unlink(p);
	assert_int_equal(symlink(target, p), 0);
}

static int rm_tree(const char *path)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
	return system(cmd);
}

/* ------------------------------------------------------------------ */
/* search contexts                                                     */

struct obj {
	struct dlg_elf_dyn dyn;
	char origin[PATH_MAX];
	struct dlg_search_obj so;
};

/* The search information of the object at root/rel, as the preload would
 * gather it: its dynamic section and the directory it was loaded from. */
static void obj_load(struct obj *o, const char *rel)
{
	char p[PATH_MAX], err[256];
	int fd;

	memset(o, 0, sizeof *o);
	at(p, sizeof p, rel);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	if (dlg_elf_read_dynamic(fd, &o->dyn, err, sizeof err) != 0)
		fail_msg("%s: %s", p, err);
	close(fd);
	snprintf(o->origin, sizeof o->origin, "%s", p);
	*strrchr(o->origin, '/') = '\0';
	o->so.origin = o->origin;
	o->so.rpath = o->dyn.rpath;
	o->so.runpath = o->dyn.runpath;
	o->so.nodeflib = (o->dyn.flags_1 & DF_1_NODEFLIB) != 0;
}

static void obj_free(struct obj *o)
{
	dlg_elf_dyn_free(&o->dyn);
}

static void ctx_make(struct dlg_search_ctx *ctx, const struct dlg_search_obj *caller,
		     const struct dlg_search_obj *mainp, const char *llp)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->caller = *caller;
	ctx->main = *mainp;
	ctx->caller_is_main = caller == mainp;
	ctx->ld_library_path = llp;
	ctx->platform = (const char *)getauxval(AT_PLATFORM);
	ctx->ld_so_cache = "/etc/ld.so.cache";
	ctx->hwcaps = &hw;
}

struct answer {
	enum dlg_resolve_rc rc;
	char path[PATH_MAX];
	char err[512];
	struct stat st;
};

static void resolve_in(const struct dlg_search_ctx *ctx, const char *name, const char *cwd_rel,
		       struct answer *a)
{
	char cwd[PATH_MAX], old[PATH_MAX];
	struct dlg_found f;

	if (cwd_rel) {
		assert_non_null(getcwd(old, sizeof old));
		at(cwd, sizeof cwd, cwd_rel);
		assert_int_equal(chdir(cwd), 0);
	}
	f.fd = 12345;
	a->rc = dlg_resolve(ctx, name, &f, a->err, sizeof a->err);
	snprintf(a->path, sizeof a->path, "%s", f.path);
	if (a->rc == DLG_RESOLVE_FOUND) {
		struct stat st;

		assert_true(f.fd >= 0);
		assert_int_equal(fstat(f.fd, &st), 0);
		assert_int_equal(st.st_ino, f.st.st_ino);
		assert_true(S_ISREG(f.st.st_mode));
		assert_int_equal(fcntl(f.fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
		a->st = f.st;
		close(f.fd);
	} else {
		assert_int_equal(f.fd, -1);
	}
	if (cwd_rel)
		assert_int_equal(chdir(old), 0);
}

/* ------------------------------------------------------------------ */
/* the real loader                                                     */

struct real {
	bool ok;
	char text[PATH_MAX + 256];
};

/* Runs root/host [root/via] name with only LD_LIBRARY_PATH (and extra)
 * in the environment, in root/cwd_rel or root. */
static void real_load(const char *host, const char *via, const char *name, const char *llp,
		      const char *cwd_rel, const char *extra_env, struct real *r, char *stderr_buf,
		      size_t stderr_len)
{
	int out[2], errp[2], status;
	char hostp[PATH_MAX], viap[PATH_MAX], cwd[PATH_MAX], llpenv[PATH_MAX + 32];
	char buf[PATH_MAX + 256];
	size_t got = 0, egot = 0;
	pid_t pid;

	at(hostp, sizeof hostp, host);
	if (via)
		at(viap, sizeof viap, via);
	at(cwd, sizeof cwd, cwd_rel ? cwd_rel : ".");
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(pipe2(errp, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[4] = { hostp, via ? viap : (char *)name, via ? (char *)name : NULL, NULL };
		char *envp[3] = { NULL, NULL, NULL };
		int e = 0;

		if (llp) {
			snprintf(llpenv, sizeof llpenv, "LD_LIBRARY_PATH=%s", llp);
			envp[e++] = llpenv;
		}
		if (extra_env)
			envp[e++] = (char *)extra_env;
		dup2(out[1], 1);
		dup2(errp[1], 2);
		if (chdir(cwd) != 0)
			_exit(99);
		alarm(30);
		execve(hostp, argv, envp);
		_exit(98);
	}
	close(out[1]);
	close(errp[1]);
	for (;;) {
		struct pollfd pf[2] = { { out[0], POLLIN, 0 }, { errp[0], POLLIN, 0 } };
		ssize_t n;
		int open_fds = 0;

		for (int i = 0; i < 2; i++)
			open_fds += pf[i].fd >= 0;
		if (poll(pf, 2, 30000) <= 0)
			break;
		if (pf[0].revents) {
			n = read(out[0], buf + got, sizeof buf - 1 - got);
			if (n <= 0) {
				close(out[0]);
				out[0] = -1;
			} else {
				got += (size_t)n;
			}
		}
		if (pf[1].revents) {
			char junk[4096];
			char *dst = stderr_buf && egot + 1 < stderr_len ? stderr_buf + egot : junk;
			size_t room = stderr_buf && egot + 1 < stderr_len ? stderr_len - 1 - egot
									 : sizeof junk;

			n = read(errp[0], dst, room);
			if (n <= 0) {
				close(errp[0]);
				errp[0] = -1;
			} else if (dst != junk) {
				egot += (size_t)n;
			}
		}
		if (out[0] < 0 && errp[0] < 0)
			break;
		(void)open_fds;
	}
	if (out[0] >= 0)
		close(out[0]);
	if (errp[0] >= 0)
		close(errp[0]);
	if (stderr_buf)
		stderr_buf[egot] = '\0';
	assert_int_equal(waitpid(pid, &status, 0), pid);
	buf[got] = '\0';
	if (got && buf[got - 1] == '\n')
		buf[got - 1] = '\0';
	if (strncmp(buf, "OK ", 3) == 0) {
		r->ok = true;
		snprintf(r->text, sizeof r->text, "%s", buf + 3);
	} else if (strncmp(buf, "ERR ", 4) == 0) {
		r->ok = false;
		snprintf(r->text, sizeof r->text, "%s", buf + 4);
	} else {
		fail_msg("host %s failed: '%s' (status %d)", host, buf, status);
	}
}

/* Our answer and the loader's must agree: the same path, or both fail. */
static void same_as_loader(const char *what, const struct answer *a, const char *host,
			   const char *via, const char *name, const char *llp, const char *cwd_rel,
			   const char *loader_msg)
{
	struct real r;

	real_load(host, via, name, llp, cwd_rel, NULL, &r, NULL, 0);
	if (a->rc == DLG_RESOLVE_FOUND) {
		if (!r.ok || strcmp(r.text, a->path) != 0)
			fail_msg("%s: we found '%s', the loader says %s '%s'", what, a->path,
				 r.ok ? "OK" : "ERR", r.text);
	} else if (r.ok) {
		fail_msg("%s: we said %d (%s), the loader loaded '%s'", what, a->rc, a->err,
			 r.text);
	} else if (loader_msg && !strstr(r.text, loader_msg)) {
		fail_msg("%s: loader error '%s' lacks '%s'", what, r.text, loader_msg);
	}
}

static void expect(const char *what, const struct answer *a, enum dlg_resolve_rc rc,
		   const char *rel_or_abs)
{
	char want[PATH_MAX];

	if (a->rc != rc)
		fail_msg("%s: rc %d (%s), want %d", what, a->rc, a->err, rc);
	if (!rel_or_abs)
		return;
	/* "/abs", "=literal", or relative to the test root */
	if (rel_or_abs[0] == '/')
		snprintf(want, sizeof want, "%s", rel_or_abs);
	else if (rel_or_abs[0] == '=')
		snprintf(want, sizeof want, "%s", rel_or_abs + 1);
	else
		at(want, sizeof want, rel_or_abs);
	if (strcmp(a->path, want) != 0)
		fail_msg("%s: path '%s', want '%s'", what, a->path, want);
}

/* Resolves 'name' for root/host (calling dlopen directly, or through the
 * fixture library root/via), checks rc and path, then asks the loader. */
static void check_case(const char *what, const char *host, const char *via, const char *name,
		       const char *llp, const char *cwd_rel, enum dlg_resolve_rc rc,
		       const char *want_path, const char *loader_msg)
{
	struct dlg_search_ctx ctx;
	struct obj mainp, lib;
	struct answer a;

	obj_load(&mainp, host);
	if (via) {
		obj_load(&lib, via);
		ctx_make(&ctx, &lib.so, &mainp.so, llp);
	} else {
		ctx_make(&ctx, &mainp.so, &mainp.so, llp);
	}
	/* ld.so computes the main program's $ORIGIN from /proc/self/exe */
	resolve_in(&ctx, name, cwd_rel, &a);
	expect(what, &a, rc, want_path);
	same_as_loader(what, &a, host, via, name, llp, cwd_rel, loader_msg);
	if (via)
		obj_free(&lib);
	obj_free(&mainp);
}

static char *rootp(const char *rel)
{
	static char bufs[8][PATH_MAX];
	static int i;
	char *b = bufs[i++ % 8];

	at(b, PATH_MAX, rel);
	return b;
}

/* ------------------------------------------------------------------ */
/* hwcaps                                                              */

/* Under valgrind this process sees an emulated CPUID while the loader in
 * the child runs on the real CPU: comparisons of CPU-derived lists cannot
 * hold there. */
static bool cpu_emulated(void)
{
	const char *pre = getenv("LD_PRELOAD");

	return pre && strstr(pre, "vgpreload");
}

static void test_hwcaps_shape(void **state)
{
	(void)state;
	assert_true(hw.n >= 1 && hw.n <= DLG_MAX_HWCAP_SUBDIRS);
	assert_string_equal(hw.subdir[hw.n - 1], "");
	for (size_t i = 0; i + 1 < hw.n; i++) {
		size_t l = strlen(hw.subdir[i]);

		assert_true(l > 0 && hw.subdir[i][l - 1] == '/');
		for (size_t j = i + 1; j < hw.n; j++)
			assert_string_not_equal(hw.subdir[i], hw.subdir[j]);
	}
	/* glibc-hwcaps first, levels in order, each implying the lower */
	for (size_t i = 0; i < hw.n_hwcaps_names; i++) {
		char want[64];

		snprintf(want, sizeof want, "glibc-hwcaps/%s/", hw.hwcaps_names[i]);
		assert_string_equal(hw.subdir[i], want);
	}
	assert_true(hw.isa_level & 1);  /* baseline on any x86-64 */
	assert_int_equal(hw.n_hwcaps_names, (size_t)((hw.isa_level & 8) != 0) +
				((hw.isa_level & 4) != 0) + ((hw.isa_level & 2) != 0));
	if (hw.isa_level & 8)
		assert_int_equal(hw.isa_level & 6, 6);
	if (hw.isa_level & 4)
		assert_int_equal(hw.isa_level & 2, 2);
	assert_true(hw.hwcap & 2);  /* HWCAP_X86_64 */
	if (strcmp(hw.platform, "haswell") != 0 && strcmp(hw.platform, "xeon_phi") != 0)
		assert_string_equal(hw.platform, (const char *)getauxval(AT_PLATFORM));
}

/* `ld.so --help` lists the glibc-hwcaps levels and legacy subdirectories
 * this CPU supports: ours must agree. */
static void test_hwcaps_vs_ldso_help(void **state)
{
	FILE *p = popen("/lib64/ld-linux-x86-64.so.2 --help 2>/dev/null", "r");
	char line[256];
	size_t nsup = 0;
	bool in_hw = false, in_legacy = false, saw_platform = false, avx512_1 = false;

	(void)state;
	if (cpu_emulated())
		skip();
	if (!p)
		skip();
	while (fgets(line, sizeof line, p)) {
		char name[64];

		if (strstr(line, "Subdirectories of glibc-hwcaps")) {
			in_hw = true;
			continue;
		}
		if (strstr(line, "Legacy HWCAP subdirectories")) {
			in_hw = false;
			in_legacy = true;
			continue;
		}
		if (sscanf(line, " %63s", name) != 1)
			continue;
		if (in_hw && strstr(line, "(supported, searched)")) {
			assert_true(nsup < hw.n_hwcaps_names);
			assert_string_equal(name, hw.hwcaps_names[nsup]);
			nsup++;
		}
		if (in_legacy && strstr(line, "AT_PLATFORM; supported")) {
			assert_string_equal(name, hw.platform);
			saw_platform = true;
		}
		if (in_legacy && strcmp(name, "avx512_1") == 0)
			avx512_1 = strstr(line, "supported") != NULL;
	}
	pclose(p);
	assert_int_equal(nsup, hw.n_hwcaps_names);
	assert_true(saw_platform);
	assert_int_equal(avx512_1, (hw.hwcap & 4) != 0);
}

/* The loader's own candidate list: with LD_LIBRARY_PATH=":" (the current
 * directory, never pruned as nonexistent) LD_DEBUG=libs shows every
 * capability subdirectory it tries, in order. */
static void test_hwcaps_vs_ld_debug(void **state)
{
	static char errbuf[65536];
	const char *name = "libdlgt-missing.so";
	struct real r;
	char *line, *save = NULL;
	size_t k = 0;

	(void)state;
	if (cpu_emulated())
		skip();
	mkdirs("emptycwd");
	real_load("host_plain", NULL, name, ":", "emptycwd", "LD_DEBUG=libs", &r, errbuf,
		  sizeof errbuf);
	assert_false(r.ok);
	for (line = strtok_r(errbuf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *t = strstr(line, "trying file=");
		char want[256];

		if (!t)
			continue;
		t += strlen("trying file=");
		if (t[0] == '/' || !strstr(t, name))
			continue;
		/* skip the loader's exact duplicates */
		if (k > 0) {
			snprintf(want, sizeof want, "%s%s", hw.subdir[k - 1], name);
			if (strcmp(t, want) == 0)
				continue;
		}
		bool dup = false;

		for (size_t j = 0; j < k; j++) {
			snprintf(want, sizeof want, "%s%s", hw.subdir[j], name);
			dup = dup || strcmp(t, want) == 0;
		}
		if (dup)
			continue;
		if (k >= hw.n)
			fail_msg("loader tried extra candidate '%s'", t);
		snprintf(want, sizeof want, "%s%s", hw.subdir[k], name);
		if (strcmp(t, want) != 0)
			fail_msg("candidate %zu: loader '%s', we '%s'", k, t, want);
		k++;
	}
	assert_int_equal(k, hw.n);
}

/* ------------------------------------------------------------------ */
/* dynamic string tokens                                               */

static void test_expand_dst(void **state)
{
	struct dlg_search_obj o = { .origin = "/o/dir" };
	struct dlg_search_obj none = { .origin = NULL };
	struct dlg_search_ctx ctx;
	char plat[128];
	static const struct {
		const char *in;
		int rc;
		const char *out;
	} t[] = {
		{ "$ORIGIN/lib", 0, "/o/dir/lib" },
		{ "${ORIGIN}/lib", 0, "/o/dir/lib" },
		{ "$ORIGIN", 0, "/o/dir" },
		{ "a$ORIGIN", 0, "a/o/dir" },
		{ "$ORIGIN$ORIGIN", 0, "/o/dir/o/dir" },
		{ "$ORIGINX/lib", 0, "$ORIGINX/lib" },
		{ "$ORIGIN_/lib", 0, "$ORIGIN_/lib" },
		{ "$ORIGIN9", 0, "$ORIGIN9" },
		{ "${ORIGIN", 0, "${ORIGIN" },
		{ "${ORIGINX}", 0, "${ORIGINX}" },
		{ "$origin", 0, "$origin" },
		{ "$LIB", 0, "lib/x86_64-linux-gnu" },
		{ "/usr/${LIB}/x", 0, "/usr/lib/x86_64-linux-gnu/x" },
		{ "$LIBX", 0, "$LIBX" },
		{ "$FOO/x", 0, "$FOO/x" },
		{ "$", 0, "$" },
		{ "a$", 0, "a$" },
		{ "$$ORIGIN", 0, "$/o/dir" },
		{ "${}", 0, "${}" },
		{ "", 0, "" },
	};

	(void)state;
	ctx_make(&ctx, &o, &o, NULL);
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char out[256] = "junk";
		int rc = dlg_expand_dst(&ctx, &o, t[i].in, strlen(t[i].in), out, sizeof out);

		if (rc != t[i].rc || (rc == 0 && strcmp(out, t[i].out) != 0))
			fail_msg("'%s': rc %d '%s', want %d '%s'", t[i].in, rc, out, t[i].rc,
				 t[i].out);
	}
	/* $PLATFORM is glibc's dl_platform */
	{
		char out[256];

		assert_int_equal(dlg_expand_dst(&ctx, &o, "/p/$PLATFORM", 12, out, sizeof out), 0);
		snprintf(plat, sizeof plat, "/p/%s", hw.platform);
		assert_string_equal(out, plat);
		assert_int_equal(dlg_expand_dst(&ctx, &o, "/p/${PLATFORM}/", 15, out, sizeof out), 0);
		snprintf(plat, sizeof plat, "/p/%s/", hw.platform);
		assert_string_equal(out, plat);
		/* no hwcaps: AT_PLATFORM from the context; none at all: dropped */
		ctx.hwcaps = NULL;
		ctx.platform = "zz";
		assert_int_equal(dlg_expand_dst(&ctx, &o, "$PLATFORM", 9, out, sizeof out), 0);
		assert_string_equal(out, "zz");
		ctx.platform = NULL;
		assert_int_equal(dlg_expand_dst(&ctx, &o, "$PLATFORM", 9, out, sizeof out), -1);
		ctx.platform = "";
		assert_int_equal(dlg_expand_dst(&ctx, &o, "/x/$PLATFORM", 12, out, sizeof out), -1);
		ctx.hwcaps = &hw;
	}
	/* unknown origin: the element is dropped */
	{
		char out[64];

		errno = 0;
		assert_int_equal(dlg_expand_dst(&ctx, &none, "$ORIGIN/x", 9, out, sizeof out), -1);
		assert_int_equal(errno, ENOENT);
		assert_int_equal(dlg_expand_dst(&ctx, NULL, "${ORIGIN}", 9, out, sizeof out), -1);
		assert_int_equal(dlg_expand_dst(&ctx, &none, "/no/dst", 7, out, sizeof out), 0);
		assert_string_equal(out, "/no/dst");
	}
	/* output size: exactly enough, one short */
	{
		char out[16];

		assert_int_equal(dlg_expand_dst(&ctx, &o, "$ORIGIN/lib", 11, out, 11), 0);
		assert_string_equal(out, "/o/dir/lib");
		errno = 0;
		assert_int_equal(dlg_expand_dst(&ctx, &o, "$ORIGIN/lib", 11, out, 10), -1);
		assert_int_equal(errno, ENAMETOOLONG);
		assert_int_equal(dlg_expand_dst(&ctx, &o, "abc", 3, out, 3), -1);
		assert_int_equal(dlg_expand_dst(&ctx, &o, "abc", 3, out, 4), 0);
		assert_int_equal(dlg_expand_dst(&ctx, &o, "abc", 3, out, 0), -1);
		assert_int_equal(dlg_expand_dst(&ctx, &o, "$", 1, out, 1), -1);
	}
	/* inlen bounds the input: a token cut by it is not that token */
	{
		char out[64];

		assert_int_equal(dlg_expand_dst(&ctx, &o, "$ORIGIN:/b", 7, out, sizeof out), 0);
		assert_string_equal(out, "/o/dir");
		assert_int_equal(dlg_expand_dst(&ctx, &o, "$ORIG", 5, out, sizeof out), 0);
		assert_string_equal(out, "$ORIG");
		assert_int_equal(dlg_expand_dst(&ctx, &o, "${ORIGIN}", 8, out, sizeof out), 0);
		assert_string_equal(out, "${ORIGIN");
	}
}

/* _dl_dst_substitute in AT_SECURE processes. */
static void test_expand_dst_secure(void **state)
{
	struct dlg_search_obj lib = { .origin = "/opt/app/lib" };
	struct dlg_search_obj mainp = { .origin = "/usr/bin" };
	struct dlg_search_ctx ctx;
	static const struct {
		bool main;
		const char *origin, *in;
		int rc;
		const char *out;
	} t[] = {
		/* not the main program: a leading $ORIGIN is allowed as is */
		{ false, NULL, "$ORIGIN/../x", 0, "/opt/app/lib/../x" },
		{ false, NULL, "$ORIGIN", 0, "/opt/app/lib" },
		{ false, NULL, "${ORIGIN}/x", 0, "/opt/app/lib/x" },
		{ false, NULL, "/a/$ORIGIN", -1, NULL },
		{ false, NULL, "$ORIGIN$LIB", -1, NULL },
		{ false, NULL, "x$ORIGIN", -1, NULL },
		{ false, NULL, "$LIB/x", 0, "lib/x86_64-linux-gnu/x" },
		{ false, NULL, "$ORIGINAL/x", 0, "$ORIGINAL/x" },
		/* the main program: the result must be in a trusted directory */
		{ true, "/usr/bin", "$ORIGIN/../lib/x86_64-linux-gnu/plug", 0,
		  "/usr/bin/../lib/x86_64-linux-gnu/plug" },
		{ true, "/usr/bin", "$ORIGIN/../lib", 0, "/usr/bin/../lib" },
		{ true, "/usr/bin", "$ORIGIN/../../usr/lib//x", 0, "/usr/bin/../../usr/lib//x" },
		{ true, "/usr/bin", "$ORIGIN", -1, NULL },
		{ true, "/usr/bin", "$ORIGIN/../share", -1, NULL },
		{ true, "/lib", "$ORIGIN", 0, "/lib" },
		{ true, "/lib", "$ORIGIN/.", 0, "/lib/." },
		{ true, "/libx", "$ORIGIN", -1, NULL },
		{ true, "/home/u/bin", "$ORIGIN/../lib", -1, NULL },
		{ true, "/usr/lib/../../home", "$ORIGIN", -1, NULL },
		/* without $ORIGIN nothing is checked */
		{ true, "/home/u/bin", "/home/u/lib", 0, "/home/u/lib" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct dlg_search_obj *obj;
		char out[256] = "";
		int rc;

		mainp.origin = t[i].origin ? t[i].origin : "/usr/bin";
		if (t[i].main) {
			ctx_make(&ctx, &mainp, &mainp, NULL);
			obj = &ctx.main;
		} else {
			ctx_make(&ctx, &lib, &mainp, NULL);
			obj = &ctx.caller;
		}
		ctx.secure = true;
		rc = dlg_expand_dst(&ctx, obj, t[i].in, strlen(t[i].in), out, sizeof out);
		if (rc != t[i].rc || (rc == 0 && strcmp(out, t[i].out) != 0))
			fail_msg("%zu '%s': rc %d '%s', want %d '%s'", i, t[i].in, rc, out,
				 t[i].rc, t[i].out ? t[i].out : "");
	}
	/* the caller object, when it is the main program, is checked too */
	mainp.origin = "/home/u/bin";
	ctx_make(&ctx, &mainp, &mainp, NULL);
	ctx.secure = true;
	{
		char out[64];

		assert_int_equal(dlg_expand_dst(&ctx, &ctx.caller, "$ORIGIN", 7, out, sizeof out), -1);
	}
}

/* ------------------------------------------------------------------ */
/* search order, compared with the real loader                         */

static void test_rpath_runpath_llp(void **state)
{
	(void)state;
	put_lib("rp/libdlgt.so");
	put_lib("llp/libdlgt.so");
	check_case("RPATH before LD_LIBRARY_PATH", "host_rpath", NULL, "libdlgt.so",
		   rootp("llp"), NULL, DLG_RESOLVE_FOUND, "rp/libdlgt.so", NULL);
	check_case("LD_LIBRARY_PATH before RUNPATH", "host_runpath", NULL, "libdlgt.so",
		   rootp("llp"), NULL, DLG_RESOLVE_FOUND, "llp/libdlgt.so", NULL);
	check_case("no paths", "host_plain", NULL, "libdlgt.so", rootp("llp"), NULL,
		   DLG_RESOLVE_FOUND, "llp/libdlgt.so", NULL);
	check_case("RUNPATH alone", "host_runpath", NULL, "libdlgt.so", NULL, NULL,
		   DLG_RESOLVE_FOUND, "rp/libdlgt.so", NULL);
	check_case("nothing", "host_plain", NULL, "libdlgt.so", NULL, NULL,
		   DLG_RESOLVE_NOT_FOUND, NULL, "cannot open shared object file");
	/* LD_LIBRARY_PATH trailing slashes collapse to one, inner ones stay */
	{
		char llp[PATH_MAX];

		snprintf(llp, sizeof llp, "%s//llp///", root);
		check_case("slashes", "host_plain", NULL, "libdlgt.so", llp, NULL,
			   DLG_RESOLVE_FOUND, NULL, NULL);
	}
}

/* The caller is a library (dlopen'ed, so l_loader is NULL): its RPATH, then
 * the main program's RPATH; a RUNPATH anywhere hides RPATHs. */
static void test_caller_chain(void **state)
{
	char llp[PATH_MAX];

	(void)state;
	put_fixture("libs/libdlgfx_plain.so", "libdlgfx_plain.so", 0, NULL, 0, 0644);
	put_fixture("libs/libdlgfx_rpath.so", "libdlgfx_rpath.so", 0, NULL, 0, 0644);
	put_fixture("libs/libdlgfx_runpath.so", "libdlgfx_runpath.so", 0, NULL, 0, 0644);
	put_lib("rp/libchain.so");
	snprintf(llp, sizeof llp, "%s/llp2", root);
	check_case("main RPATH fallback", "host_rpath", "libs/libdlgfx_plain.so", "libchain.so",
		   NULL, NULL, DLG_RESOLVE_FOUND, "rp/libchain.so", NULL);
	check_case("main RUNPATH is not inherited", "host_runpath", "libs/libdlgfx_plain.so",
		   "libchain.so", NULL, NULL, DLG_RESOLVE_NOT_FOUND, NULL, NULL);
	check_case("caller RPATH with $ORIGIN", "host_plain", "libs/libdlgfx_rpath.so",
		   "libchain.so", NULL, NULL, DLG_RESOLVE_FOUND, "libs/../rp/libchain.so", NULL);
	check_case("caller RUNPATH with $ORIGIN", "host_plain", "libs/libdlgfx_runpath.so",
		   "libchain.so", NULL, NULL, DLG_RESOLVE_FOUND, "libs/../rp/libchain.so", NULL);
	check_case("caller RPATH before main RPATH", "host_rpath", "libs/libdlgfx_rpath.so",
		   "libchain.so", NULL, NULL, DLG_RESOLVE_FOUND, "libs/../rp/libchain.so", NULL);
	put_lib("llp2/libchain.so");
	check_case("caller RUNPATH: LD_LIBRARY_PATH first, main RPATH unused", "host_rpath",
		   "libs/libdlgfx_runpath.so", "libchain.so", llp, NULL, DLG_RESOLVE_FOUND,
		   "llp2/libchain.so", NULL);
	check_case("caller RPATH before LD_LIBRARY_PATH", "host_plain", "libs/libdlgfx_rpath.so",
		   "libchain.so", llp, NULL, DLG_RESOLVE_FOUND, "libs/../rp/libchain.so", NULL);
	check_case("main RPATH before LD_LIBRARY_PATH", "host_rpath", "libs/libdlgfx_plain.so",
		   "libchain.so", llp, NULL, DLG_RESOLVE_FOUND, "rp/libchain.so", NULL);
}

/* Context-level rules that fixtures cannot express (both tags in one
 * object, relative and duplicate elements, secure mode). */
static void test_ctx_rules(void **state)
{
	struct dlg_search_obj mainp = { 0 }, caller = { 0 };
	struct dlg_search_ctx ctx;
	struct answer a;
	char rp[PATH_MAX], llp[PATH_MAX];

	(void)state;
	mainp.origin = root;
	caller.origin = root;
	put_lib("c1/libctx.so");
	put_lib("c2/libctx.so");
	snprintf(rp, sizeof rp, "%s/c1", root);
	snprintf(llp, sizeof llp, "%s/c2", root);

	/* RPATH ignored when the same object has a RUNPATH, even an empty one */
	caller.rpath = rp;
	caller.runpath = "/nonexistent";
	ctx_make(&ctx, &caller, &mainp, llp);
	resolve_in(&ctx, "libctx.so", NULL, &a);
	expect("RUNPATH hides RPATH", &a, DLG_RESOLVE_FOUND, "c2/libctx.so");
	caller.runpath = "";
	ctx_make(&ctx, &caller, &mainp, llp);
	resolve_in(&ctx, "libctx.so", NULL, &a);
	expect("empty RUNPATH hides RPATH", &a, DLG_RESOLVE_FOUND, "c2/libctx.so");
	/* the main program's RPATH is hidden by the main program's RUNPATH */
	caller.rpath = NULL;
	caller.runpath = NULL;
	mainp.rpath = rp;
	mainp.runpath = "/nonexistent";
	ctx_make(&ctx, &caller, &mainp, llp);
	resolve_in(&ctx, "libctx.so", NULL, &a);
	expect("main RUNPATH hides main RPATH", &a, DLG_RESOLVE_FOUND, "c2/libctx.so");
	mainp.runpath = NULL;
	ctx_make(&ctx, &caller, &mainp, llp);
	resolve_in(&ctx, "libctx.so", NULL, &a);
	expect("main RPATH", &a, DLG_RESOLVE_FOUND, "c1/libctx.so");
	/* $ORIGIN forms in a search path; trailing slashes */
	mainp.rpath = NULL;
	caller.rpath = "/nonexistent:${ORIGIN}/c1/";
	ctx_make(&ctx, &caller, &mainp, NULL);
	resolve_in(&ctx, "libctx.so", NULL, &a);
	expect("${ORIGIN}", &a, DLG_RESOLVE_FOUND, "c1/libctx.so");
	caller.rpath = "$ORIGIN//c2//";
	ctx_make(&ctx, &caller, &mainp, NULL);
	resolve_in(&ctx, "libctx.so", NULL, &a);
	expect("$ORIGIN", &a, DLG_RESOLVE_FOUND, NULL);
	{
		char want[PATH_MAX];

		snprintf(want, sizeof want, "%s//c2/libctx.so", root);
		assert_string_equal(a.path, want);
	}
	/* unknown origin: the element is dropped, the next one used */
	caller.origin = NULL;
	caller.rpath = "$ORIGIN/c1:/nonexistent2";
	ctx_make(&ctx, &caller, &mainp, llp);
	resolve_in(&ctx, "libctx.so", NULL, &a);
	expect("unknown origin", &a, DLG_RESOLVE_FOUND, "c2/libctx.so");
	caller.origin = root;
	/* relative RPATH elements are relative to the current directory */
	caller.rpath = "c1";
	ctx_make(&ctx, &caller, &mainp, NULL);
	resolve_in(&ctx, "libctx.so", ".", &a);
	expect("relative RPATH", &a, DLG_RESOLVE_FOUND, "=c1/libctx.so");
	/* ';' separates LD_LIBRARY_PATH but not RPATH */
	caller.rpath = NULL;
	{
		char l2[PATH_MAX * 2];

		snprintf(l2, sizeof l2, "/nonexistent;%s", llp);
		ctx_make(&ctx, &caller, &mainp, l2);
		resolve_in(&ctx, "libctx.so", NULL, &a);
		expect("; in LD_LIBRARY_PATH", &a, DLG_RESOLVE_FOUND, "c2/libctx.so");
		caller.rpath = l2;
		ctx_make(&ctx, &caller, &mainp, NULL);
		resolve_in(&ctx, "libctx.so", NULL, &a);
		expect("; in RPATH", &a, DLG_RESOLVE_NOT_FOUND, NULL);
	}
	/* LD_LIBRARY_PATH DSTs expand against the main program */
	caller.rpath = NULL;
	caller.origin = "/nonexistent";
	mainp.origin = root;
	ctx_make(&ctx, &caller, &mainp, "$ORIGIN/c1");
	resolve_in(&ctx, "libctx.so", NULL, &a);
	expect("LD_LIBRARY_PATH $ORIGIN", &a, DLG_RESOLVE_FOUND, "c1/libctx.so");
	/* secure mode: a main program's $ORIGIN outside trusted dirs is dropped */
	mainp.rpath = "$ORIGIN/c1";
	ctx_make(&ctx, &mainp, &mainp, NULL);
	ctx.secure = true;
	resolve_in(&ctx, "libctx.so", NULL, &a);
	expect("secure $ORIGIN", &a, DLG_RESOLVE_NOT_FOUND, NULL);
	ctx.secure = false;
	resolve_in(&ctx, "libctx.so", NULL, &a);
	expect("non-secure $ORIGIN", &a, DLG_RESOLVE_FOUND, "c1/libctx.so");
	/* errno is left alone */
	errno = 4242;
	resolve_in(&ctx, "libctx.so", NULL, &a);
	assert_int_equal(errno, 4242);
	resolve_in(&ctx, "libnope.so", NULL, &a);
	assert_int_equal(errno, 4242);
	/* no hwcaps given: the plain directory only */
	ctx.hwcaps = NULL;
	resolve_in(&ctx, "libctx.so", NULL, &a);
	expect("no hwcaps", &a, DLG_RESOLVE_FOUND, "c1/libctx.so");
}

static void test_empty_llp_element(void **state)
{
	(void)state;
	put_lib("cwd/libcwd.so");
	check_case("empty element = cwd", "host_plain", NULL, "libcwd.so", "/nonexistent::", "cwd",
		   DLG_RESOLVE_FOUND, "=libcwd.so", NULL);
	check_case("leading empty element", "host_plain", NULL, "libcwd.so", ";/nonexistent",
		   "cwd", DLG_RESOLVE_FOUND, "=libcwd.so", NULL);
	check_case("no empty element", "host_plain", NULL, "libcwd.so", "/nonexistent", "cwd",
		   DLG_RESOLVE_NOT_FOUND, NULL, NULL);
	check_case("empty LD_LIBRARY_PATH", "host_plain", NULL, "libcwd.so", "", "cwd",
		   DLG_RESOLVE_NOT_FOUND, NULL, NULL);
	/* the relative candidates include the capability subdirectories */
	put_lib("cwd/tls/libcwd2.so");
	check_case("relative tls", "host_plain", NULL, "libcwd2.so", ":", "cwd",
		   DLG_RESOLVE_FOUND, "=tls/libcwd2.so", NULL);
}

static void test_hwcaps_preferred(void **state)
{
	char want[PATH_MAX];

	(void)state;
	if (cpu_emulated())
		skip();
	put_lib("hw/libhw.so");
	put_lib("hw/glibc-hwcaps/x86-64-v2/libhw.so");
	put_lib("hw/glibc-hwcaps/x86-64-v3/libhw.so");
	put_lib("hw/glibc-hwcaps/x86-64-v9/libhw.so");
	if (hw.isa_level & 4)
		snprintf(want, sizeof want, "hw/glibc-hwcaps/x86-64-v3/libhw.so");
	else if (hw.isa_level & 2)
		snprintf(want, sizeof want, "hw/glibc-hwcaps/x86-64-v2/libhw.so");
	else
		snprintf(want, sizeof want, "hw/libhw.so");
	check_case("glibc-hwcaps", "host_plain", NULL, "libhw.so", rootp("hw"), NULL,
		   DLG_RESOLVE_FOUND, want, NULL);
	/* legacy subdirectories, still searched by glibc 2.36 */
	put_lib("tl/libtl.so");
	put_lib("tl/tls/libtl.so");
	check_case("legacy tls", "host_plain", NULL, "libtl.so", rootp("tl"), NULL,
		   DLG_RESOLVE_FOUND, "tl/tls/libtl.so", NULL);
	put_lib("tl/x86_64/libtl.so");
	check_case("legacy tls before x86_64", "host_plain", NULL, "libtl.so", rootp("tl"), NULL,
		   DLG_RESOLVE_FOUND, "tl/tls/libtl.so", NULL);
	put_lib("tl/tls/x86_64/libtl.so");
	check_case("legacy tls/x86_64", "host_plain", NULL, "libtl.so", rootp("tl"), NULL,
		   DLG_RESOLVE_FOUND, "tl/tls/x86_64/libtl.so", NULL);
}

static void test_other_arch_skipped(void **state)
{
	static const uint16_t aarch64 = EM_AARCH64;
	static const unsigned char class32 = ELFCLASS32;
	char llp[PATH_MAX * 2];

	(void)state;
	put_fixture("oa/libarch.so", "libdlgfx_plain.so", offsetof(Elf64_Ehdr, e_machine), &aarch64,
		    2, 0644);
	put_lib("ob/libarch.so");
	put_fixture("oa/lib32.so", "libdlgfx_plain.so", EI_CLASS, &class32, 1, 0644);
	put_lib("ob/lib32.so");
	put_fixture("oa/libonly32.so", "libdlgfx_plain.so", EI_CLASS, &class32, 1, 0644);
	snprintf(llp, sizeof llp, "%s/oa:%s/ob", root, root);
	check_case("other machine skipped", "host_plain", NULL, "libarch.so", llp, NULL,
		   DLG_RESOLVE_FOUND, "ob/libarch.so", NULL);
	check_case("other class skipped", "host_plain", NULL, "lib32.so", llp, NULL,
		   DLG_RESOLVE_FOUND, "ob/lib32.so", NULL);
	check_case("only another class", "host_plain", NULL, "libonly32.so", llp, NULL,
		   DLG_RESOLVE_NOT_FOUND, NULL, "wrong ELF class");
	/* in the hwcaps subdirectory of the same directory, too */
	put_fixture("oc/glibc-hwcaps/x86-64-v2/libarch2.so", "libdlgfx_plain.so",
		    offsetof(Elf64_Ehdr, e_machine), &aarch64, 2, 0644);
	put_lib("oc/libarch2.so");
	check_case("other machine in hwcaps dir", "host_plain", NULL, "libarch2.so", rootp("oc"),
		   NULL, DLG_RESOLVE_FOUND, "oc/libarch2.so", NULL);
}

static void test_bad_candidates(void **state)
{
	char llp[PATH_MAX * 2];
	struct dlg_search_ctx ctx;
	struct dlg_search_obj mainp = { .origin = root };
	struct answer a;
	char fifo[PATH_MAX];
	time_t t0;

	(void)state;
	snprintf(llp, sizeof llp, "%s/ba:%s/bb", root, root);
	{
		char text[100];

		memset(text, 'x', sizeof text);
		put_bytes("ba/libtxt.so", text, sizeof text, 0644);
	}
	put_lib("bb/libtxt.so");
	check_case("not ELF: the load fails", "host_plain", NULL, "libtxt.so", llp, NULL,
		   DLG_RESOLVE_BAD, "ba/libtxt.so", "invalid ELF header");
	mkdirs("ba/libdir.so");
	put_lib("bb/libdir.so");
	check_case("a directory: the load fails", "host_plain", NULL, "libdir.so", llp, NULL,
		   DLG_RESOLVE_BAD, NULL, "cannot read file data");
	put_symlink("ba/libnull.so", "/dev/null");
	put_lib("bb/libnull.so");
	check_case("/dev/null: the load fails", "host_plain", NULL, "libnull.so", llp, NULL,
		   DLG_RESOLVE_BAD, NULL, "file too short");
	put_bytes("ba/libshort.so", "\177ELF", 4, 0644);
	put_lib("bb/libshort.so");
	check_case("truncated ELF: the load fails", "host_plain", NULL, "libshort.so", llp, NULL,
		   DLG_RESOLVE_BAD, NULL, "file too short");
	/* a FIFO would hang the loader: only we are asked, and answer fast */
	at(fifo, sizeof fifo, "ba/libfifo.so");
	assert_int_equal(mkfifo(fifo, 0644), 0);
	put_lib("bb/libfifo.so");
	ctx_make(&ctx, &mainp, &mainp, llp);
	t0 = time(NULL);
	resolve_in(&ctx, "libfifo.so", NULL, &a);
	assert_true(time(NULL) - t0 < 5);
	expect("FIFO", &a, DLG_RESOLVE_BAD, NULL);
	assert_string_equal(a.path, fifo);
	assert_non_null(strstr(a.err, "FIFO"));
}

/* header_known: the stat of a file whose header passed before. */
static struct stat known_st;

static bool known_header(const struct stat *st)
{
	return st->st_dev == known_st.st_dev && st->st_ino == known_st.st_ino &&
	       st->st_ctim.tv_sec == known_st.st_ctim.tv_sec &&
	       st->st_ctim.tv_nsec == known_st.st_ctim.tv_nsec;
}

/* A candidate the caller vouches for (header_known) is not read again;
 * any other still is: proven with a non-ELF file, which is found only
 * while vouched for. */
static void test_header_known(void **state)
{
	char llp[PATH_MAX * 2], path[PATH_MAX], text[100];
	struct dlg_search_ctx ctx;
	struct dlg_search_obj mainp = { .origin = root };
	struct answer a;

	(void)state;
	snprintf(llp, sizeof llp, "%s/hk", root);
	memset(text, 'x', sizeof text);
	put_bytes("hk/libhk.so", text, sizeof text, 0644);
	at(path, sizeof path, "hk/libhk.so");
	ctx_make(&ctx, &mainp, &mainp, llp);
	resolve_in(&ctx, "libhk.so", NULL, &a);
	expect("not vouched for", &a, DLG_RESOLVE_BAD, "hk/libhk.so");
	assert_int_equal(stat(path, &known_st), 0);
	ctx.header_known = known_header;
	resolve_in(&ctx, "libhk.so", NULL, &a);
	expect("vouched for", &a, DLG_RESOLVE_FOUND, "hk/libhk.so");
	known_st.st_ino++;
	resolve_in(&ctx, "libhk.so", NULL, &a);
	expect("another inode vouched for", &a, DLG_RESOLVE_BAD, "hk/libhk.so");
}

static void test_symlink_loop(void **state)
{
	char llp[PATH_MAX * 2];

	(void)state;
	put_symlink("la/libloop.so", "libloop.so");
	put_lib("lb/libloop.so");
	snprintf(llp, sizeof llp, "%s/la:%s/lb", root, root);
	/* ELOOP in an existing directory ends that search list (open_path) */
	check_case("loop abandons the list", "host_plain", NULL, "libloop.so", llp, NULL,
		   DLG_RESOLVE_NOT_FOUND, NULL, NULL);
	/* ... but the next list goes on */
	put_lib("rp/libloop.so");
	check_case("next list after a loop", "host_runpath", NULL, "libloop.so", llp, NULL,
		   DLG_RESOLVE_FOUND, "rp/libloop.so", NULL);
	/* a missing directory never ends a list */
	snprintf(llp, sizeof llp, "%s/nonexistent/deeper:%s/lb", root, root);
	check_case("missing dir", "host_plain", NULL, "libloop.so", llp, NULL, DLG_RESOLVE_FOUND,
		   "lb/libloop.so", NULL);
	/* a slash name that loops */
	{
		struct answer a;
		struct dlg_search_obj mainp = { .origin = root };
		struct dlg_search_ctx ctx;

		ctx_make(&ctx, &mainp, &mainp, NULL);
		resolve_in(&ctx, rootp("la/libloop.so"), NULL, &a);
		expect("slash loop", &a, DLG_RESOLVE_NOT_FOUND, NULL);
		assert_non_null(strstr(a.err, strerror(ELOOP)));
	}
}

static void test_slash_names(void **state)
{
	static const uint16_t aarch64 = EM_AARCH64;
	struct dlg_search_ctx ctx;
	struct dlg_search_obj mainp = { .origin = root };
	struct answer a;
	char fifo[PATH_MAX];
	time_t t0;

	(void)state;
	put_lib("sl/libslash.so");
	put_lib("rp/libslash.so");
	put_fixture("libs/libdlgfx_plain.so", "libdlgfx_plain.so", 0, NULL, 0, 0644);
	check_case("absolute", "host_plain", NULL, rootp("sl/libslash.so"), NULL, NULL,
		   DLG_RESOLVE_FOUND, "sl/libslash.so", NULL);
	check_case("relative to cwd", "host_plain", NULL, "./sl/libslash.so", NULL, ".",
		   DLG_RESOLVE_FOUND, "=./sl/libslash.so", NULL);
	check_case("$ORIGIN of the main program", "host_plain", NULL, "$ORIGIN/sl/libslash.so",
		   NULL, NULL, DLG_RESOLVE_FOUND, "sl/libslash.so", NULL);
	check_case("${ORIGIN} of a library caller", "host_plain", "libs/libdlgfx_plain.so",
		   "${ORIGIN}/../rp/libslash.so", NULL, NULL, DLG_RESOLVE_FOUND,
		   "libs/../rp/libslash.so", NULL);
	check_case("missing", "host_plain", NULL, rootp("sl/nope.so"), NULL, NULL,
		   DLG_RESOLVE_NOT_FOUND, NULL, "No such file");
	check_case("$LIB", "host_plain", NULL, "/nonexistent/$LIB/x.so", NULL, NULL,
		   DLG_RESOLVE_NOT_FOUND, NULL, NULL);
	check_case("a directory", "host_plain", NULL, rootp("sl"), NULL, NULL, DLG_RESOLVE_BAD,
		   NULL, NULL);
	check_case("/dev/zero", "host_plain", NULL, "/dev/zero", NULL, NULL, DLG_RESOLVE_BAD,
		   NULL, "invalid ELF header");
	put_fixture("sl/libarm.so", "libdlgfx_plain.so", offsetof(Elf64_Ehdr, e_machine), &aarch64,
		    2, 0644);
	check_case("another machine", "host_plain", NULL, rootp("sl/libarm.so"), NULL, NULL,
		   DLG_RESOLVE_BAD, NULL, NULL);
	/* a FIFO: answered at once, never opened by the loader here */
	at(fifo, sizeof fifo, "sl/fifo.so");
	assert_int_equal(mkfifo(fifo, 0644), 0);
	ctx_make(&ctx, &mainp, &mainp, NULL);
	t0 = time(NULL);
	resolve_in(&ctx, fifo, NULL, &a);
	assert_true(time(NULL) - t0 < 5);
	expect("FIFO", &a, DLG_RESOLVE_BAD, NULL);
	/* /dev/null, a character device */
	resolve_in(&ctx, "/dev/null", NULL, &a);
	expect("/dev/null", &a, DLG_RESOLVE_BAD, "/dev/null");
	/* unknown origin: nothing to open */
	mainp.origin = NULL;
	ctx_make(&ctx, &mainp, &mainp, NULL);
	resolve_in(&ctx, "$ORIGIN/sl/libslash.so", NULL, &a);
	expect("no origin", &a, DLG_RESOLVE_NOT_FOUND, NULL);
	assert_string_equal(a.path, "");
	/* empty and NULL names: the main program, nothing to search */
	resolve_in(&ctx, "", NULL, &a);
	assert_int_equal(a.rc, DLG_RESOLVE_NOT_FOUND);
	{
		struct dlg_found f;

		assert_int_equal(dlg_resolve(&ctx, NULL, &f, NULL, 0), DLG_RESOLVE_NOT_FOUND);
		assert_int_equal(f.fd, -1);
	}
}

static void test_long_names(void **state)
{
	struct dlg_search_ctx ctx;
	struct dlg_search_obj mainp = { .origin = root };
	struct answer a;
	char *name = malloc(PATH_MAX + 100);
	char llp[PATH_MAX * 3];

	(void)state;
	assert_non_null(name);
	ctx_make(&ctx, &mainp, &mainp, NULL);
	/* a slash path of PATH_MAX - 1 bytes is tried; PATH_MAX bytes is too long */
	name[0] = '/';
	for (size_t i = 1; i < PATH_MAX - 2; i += 2)
		memcpy(name + i, "./", 2);
	name[PATH_MAX - 2] = 'x';
	name[PATH_MAX - 1] = '\0';
	resolve_in(&ctx, name, NULL, &a);
	expect("PATH_MAX-1", &a, DLG_RESOLVE_NOT_FOUND, NULL);
	assert_non_null(strstr(a.err, strerror(ENOENT)));
	memmove(name + 1, name, PATH_MAX);
	resolve_in(&ctx, name, NULL, &a);
	expect("PATH_MAX", &a, DLG_RESOLVE_NOT_FOUND, NULL);
	assert_non_null(strstr(a.err, strerror(ENAMETOOLONG)));
	/* DST expansion past PATH_MAX */
	memset(name, 'a', PATH_MAX - 10);
	memcpy(name, "$ORIGIN/", 8);
	name[PATH_MAX - 10] = '\0';
	resolve_in(&ctx, name, NULL, &a);
	expect("expanded too long", &a, DLG_RESOLVE_NOT_FOUND, NULL);
	assert_non_null(strstr(a.err, strerror(ENAMETOOLONG)));
	/* a bare name that long */
	memset(name, 'b', PATH_MAX + 50);
	name[PATH_MAX + 50] = '\0';
	resolve_in(&ctx, name, NULL, &a);
	expect("bare too long", &a, DLG_RESOLVE_NOT_FOUND, NULL);
	/* a too long search element is dropped, the next one used */
	put_lib("ln/liblong.so");
	memset(llp, 'c', PATH_MAX + 10);
	llp[0] = '/';
	snprintf(llp + PATH_MAX + 10, sizeof llp - PATH_MAX - 10, ":%s/ln", root);
	ctx_make(&ctx, &mainp, &mainp, llp);
	resolve_in(&ctx, "liblong.so", NULL, &a);
	expect("long element", &a, DLG_RESOLVE_FOUND, "ln/liblong.so");
	/* a directory so deep that only the plain candidate fits: the too
	 * long capability candidates fail with ENAMETOOLONG, then the plain
	 * one is tried (the list is judged only after all of them) */
	{
		static char rel[PATH_MAX], dir[PATH_MAX];
		const char *lib = "libdeep.so";
		/* the directory's length so that dir/lib is PATH_MAX - 5 bytes */
		size_t target = PATH_MAX - 5 - strlen(lib) - 1;
		size_t len = strlen(root) + strlen("/deep");

		snprintf(rel, sizeof rel, "deep");
		while (len < target) {
			size_t room = target - len, c = room - 1 > 200 ? 200 : room - 1;
			size_t rl = strlen(rel);

			if (room - 1 - c == 1)
				c--;  /* never leave room for a lone '/' */
			rel[rl] = '/';
			memset(rel + rl + 1, 'd', c);
			rel[rl + 1 + c] = '\0';
			len += 1 + c;
		}
		mkdirs(rel);
		at(dir, sizeof dir, rel);
		assert_int_equal(strlen(dir) + 1 + strlen(lib), PATH_MAX - 5);
		strcat(rel, "/libdeep.so");
		put_lib(rel);
		check_case("deep directory", "host_plain", NULL, lib, dir, NULL, DLG_RESOLVE_FOUND,
			   rel, NULL);
	}
	free(name);
}

static void test_platform_in_llp(void **state)
{
	char llp[PATH_MAX], rel[PATH_MAX];

	(void)state;
	if (cpu_emulated())
		skip();
	snprintf(rel, sizeof rel, "pl/%s/libplat.so", hw.platform);
	put_lib(rel);
	snprintf(llp, sizeof llp, "%s/pl/$PLATFORM", root);
	check_case("$PLATFORM", "host_plain", NULL, "libplat.so", llp, NULL, DLG_RESOLVE_FOUND,
		   rel, NULL);
	snprintf(llp, sizeof llp, "%s/pl/${PLATFORM}:$ORIGIN/pl/$PLATFORM", root);
	check_case("${PLATFORM}", "host_plain", NULL, "libplat.so", llp, NULL, DLG_RESOLVE_FOUND,
		   rel, NULL);
}

static void test_nodeflib(void **state)
{
	struct dlg_search_ctx ctx;
	struct obj lib, mainp;
	struct answer a;

	(void)state;
	put_fixture("libs/libdlgfx_nodeflib.so", "libdlgfx_nodeflib.so", 0, NULL, 0, 0644);
	/* libm is in the cache and the default dirs only: both are off */
	check_case("NODEFLIB", "host_plain", "libs/libdlgfx_nodeflib.so", "libm.so.6", NULL, NULL,
		   DLG_RESOLVE_NOT_FOUND, NULL, NULL);
	check_case("without NODEFLIB", "host_plain", "libs/libdlgfx_plain.so", "libm.so.6", NULL,
		   NULL, DLG_RESOLVE_FOUND, "/lib/x86_64-linux-gnu/libm.so.6", NULL);
	/* but LD_LIBRARY_PATH still applies */
	put_lib("nd/libm.so.6");
	check_case("NODEFLIB with LD_LIBRARY_PATH", "host_plain", "libs/libdlgfx_nodeflib.so",
		   "libm.so.6", rootp("nd"), NULL, DLG_RESOLVE_FOUND, "nd/libm.so.6", NULL);
	obj_load(&lib, "libs/libdlgfx_nodeflib.so");
	obj_load(&mainp, "host_plain");
	assert_true(lib.so.nodeflib);
	ctx_make(&ctx, &lib.so, &mainp.so, NULL);
	resolve_in(&ctx, "libc.so.6", NULL, &a);
	expect("NODEFLIB libc", &a, DLG_RESOLVE_NOT_FOUND, NULL);
	obj_free(&lib);
	obj_free(&mainp);
}

/* ------------------------------------------------------------------ */
/* ld.so.cache                                                         */

static void test_ldcache_system(void **state)
{
	struct dlg_search_ctx ctx;
	struct dlg_search_obj mainp = { .origin = root };
	struct answer a;
	char out[PATH_MAX];
	FILE *p;
	char line[1024], last[512] = "";
	size_t checked = 0;

	(void)state;
	if (access("/etc/ld.so.cache", R_OK) != 0)
		skip();
	assert_int_equal(dlg_ldcache_lookup("/etc/ld.so.cache", &hw, "libc.so.6", out, sizeof out),
			 0);
	assert_string_equal(out, "/lib/x86_64-linux-gnu/libc.so.6");
	ctx_make(&ctx, &mainp, &mainp, NULL);
	resolve_in(&ctx, "libc.so.6", NULL, &a);
	expect("libc via cache", &a, DLG_RESOLVE_FOUND, "/lib/x86_64-linux-gnu/libc.so.6");
	/* a name is looked up as a whole, not as a prefix */
	assert_int_equal(dlg_ldcache_lookup("/etc/ld.so.cache", &hw, "libc.so", out, sizeof out), -1);
	assert_int_equal(dlg_ldcache_lookup("/etc/ld.so.cache", &hw, "libc.so.6.", out, sizeof out),
			 -1);
	assert_int_equal(dlg_ldcache_lookup("/etc/ld.so.cache", &hw, "", out, sizeof out), -1);
	/* too small an output buffer */
	assert_int_equal(dlg_ldcache_lookup("/etc/ld.so.cache", &hw, "libc.so.6", out, 10), -1);
	/* every x86-64 entry `ldconfig -p` lists, first one per name */
	p = popen("/sbin/ldconfig -p 2>/dev/null", "r");
	if (!p)
		return;
	while (fgets(line, sizeof line, p)) {
		char name[512], path[512];
		char *arrow = strstr(line, " => ");

		if (!arrow || !strstr(line, "(libc6,x86-64"))
			continue;
		if (sscanf(line, " %511s", name) != 1 || sscanf(arrow + 4, "%511s", path) != 1)
			continue;
		if (strcmp(name, last) == 0)
			continue;
		snprintf(last, sizeof last, "%s", name);
		/* a name with hwcaps or OS ABI entries (listed first) depends on
		 * the CPU: the synthetic cache tests cover those */
		if (strstr(line, "hwcap") || !strstr(line, "(libc6,x86-64)"))
			continue;
		if (dlg_ldcache_lookup("/etc/ld.so.cache", &hw, name, out, sizeof out) != 0)
			fail_msg("%s: not found, ldconfig says %s", name, path);
		if (strcmp(out, path) != 0)
			fail_msg("%s: %s, ldconfig says %s", name, out, path);
		checked++;
	}
	pclose(p);
	assert_true(checked > 10);
}

/* A little cache writer, in the layout of glibc's elf/cache.c. */
struct centry {
	const char *key, *value;
	int32_t flags;
	uint64_t hwcap;
};

#define X8664 0x303
#define EXT (1ull << 62)

static void put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* The new format at file offset 'base'; string offsets relative to base,
 * the extension's relative to the file. Returns the file size. */
static size_t mk_new(unsigned char *f, size_t base, const struct centry *e, size_t n,
		     const char *const *hwn, size_t nhw, uint8_t flags)
{
	unsigned char *h = f + base;
	size_t pos = base + 48 + n * 24;

	memcpy(h, "glibc-ld.so.cache1.1", 20);
	put32(h + 20, (uint32_t)n);
	h[28] = flags;
	for (size_t i = 0; i < n; i++) {
		unsigned char *ent = h + 48 + i * 24;
		size_t kl = strlen(e[i].key) + 1, vl = strlen(e[i].value) + 1;

		put32(ent, (uint32_t)e[i].flags);
		put32(ent + 4, (uint32_t)(pos - base));
		memcpy(f + pos, e[i].key, kl);
		pos += kl;
		put32(ent + 8, (uint32_t)(pos - base));
		memcpy(f + pos, e[i].value, vl);
		pos += vl;
		put64(ent + 16, e[i].hwcap);
	}
	if (nhw) {
		uint32_t offs[8];

		for (size_t i = 0; i < nhw; i++) {
			offs[i] = (uint32_t)pos;
			memcpy(f + pos, hwn[i], strlen(hwn[i]) + 1);
			pos += strlen(hwn[i]) + 1;
		}
		pos = (pos + 3) & ~(size_t)3;
		put32(h + 32, (uint32_t)pos);
		put32(f + pos, (uint32_t)-358342284);
		put32(f + pos + 4, 1);
		put32(f + pos + 8, 1);       /* tag: glibc-hwcaps */
		put32(f + pos + 12, 0);
		put32(f + pos + 16, (uint32_t)(pos + 24));
		put32(f + pos + 20, (uint32_t)(nhw * 4));
		pos += 24;
		for (size_t i = 0; i < nhw; i++, pos += 4)
			put32(f + pos, offs[i]);
	}
	put32(h + 24, (uint32_t)(pos - (base + 48 + n * 24)));
	return pos;
}

static char cachepath[PATH_MAX];

static void write_cache(const unsigned char *f, size_t len)
{
	int fd;

	unlink(cachepath);
	fd = open(cachepath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, f, len), (ssize_t)len);
	close(fd);
}

static const char *lookup(const struct dlg_hwcaps *h, const char *name)
{
	static char out[PATH_MAX];

	if (dlg_ldcache_lookup(cachepath, h, name, out, sizeof out) != 0)
		return NULL;
	return out;
}

static void lookup_is(const struct dlg_hwcaps *h, const char *name, const char *want, int line)
{
	const char *got = lookup(h, name);

	if (want == NULL ? got != NULL : (!got || strcmp(got, want) != 0))
		fail_msg("line %d: %s: got %s, want %s", line, name, got ? got : "(none)",
			 want ? want : "(none)");
}

#define LOOKUP_IS(h, name, want) lookup_is(h, name, want, __LINE__)

/* Entries sorted the way ldconfig sorts them: descending _dl_cache_libcmp,
 * glibc-hwcaps entries of a name first. */
static const struct centry sample[] = {
	{ "libz.so.1", "/z/libz.so.1", X8664, 0 },
	{ "libx.so.10", "/x/libx.so.10", X8664, 0 },
	{ "libx.so.9", "/x/libx.so.9", X8664, 0 },
	{ "libx.so.1", "/x32/libx.so.1", 0x0003, 0 },          /* i386 entry first */
	{ "libx.so.1", "/x/libx.so.1", X8664, 0 },
	{ "libh.so.1", "/h/v2/libh.so.1", X8664, EXT | 0 },   /* x86-64-v2 */
	{ "libh.so.1", "/h/v4/libh.so.1", X8664, EXT | 2 },   /* x86-64-v4 */
	{ "libh.so.1", "/h/v3/libh.so.1", X8664, EXT | 1 },   /* x86-64-v3 */
	{ "libh.so.1", "/h/libh.so.1", X8664, 0 },
	{ "libg.so.1", "/g/lvl/libg.so.1", X8664, EXT | (3ull << 32) | 2 }, /* needs ISA V4 */
	{ "libg.so.1", "/g/v3/libg.so.1", X8664, EXT | 1 },
	{ "libg.so.1", "/g/libg.so.1", X8664, 0 },
	{ "libf.so.1", "/f/odd/libf.so.1", X8664, EXT | 3 },   /* x86-64-v9: unknown */
	{ "libf.so.1", "/f/libf.so.1", X8664, 0 },
	{ "libe.so.1", "/e/sse2/libe.so.1", X8664, 1ull << 0 },  /* legacy hwcap sse2 */
	{ "libe.so.1", "/e/haswell/libe.so.1", X8664, 1ull << 50 },
	{ "libe.so.1", "/e/libe.so.1", X8664, 0 },
	{ "liba.so.2", "/a/liba.so.2", X8664, 0 },
};
/* sorted, as ldconfig writes them */
static const char *const sample_hw[] = { "x86-64-v2", "x86-64-v3", "x86-64-v4", "x86-64-v9" };

static void fake_hw(struct dlg_hwcaps *h, unsigned levels, const char *platform)
{
	static const char *const names[] = { "x86-64-v4", "x86-64-v3", "x86-64-v2" };

	memset(h, 0, sizeof *h);
	h->isa_level = 1;
	h->hwcap = 2;
	h->platform = platform;
	for (unsigned i = 0; i < 3; i++) {
		unsigned bit = 8u >> i;

		if (levels & bit) {
			h->isa_level |= bit;
			h->hwcaps_names[h->n_hwcaps_names++] = names[i];
		}
	}
	h->subdir[h->n++] = "";
}

static void test_ldcache_synthetic(void **state)
{
	static unsigned char f[65536];
	struct dlg_hwcaps h;
	size_t len;

	(void)state;
	snprintf(cachepath, sizeof cachepath, "%s/ld.so.cache", root);
	len = mk_new(f, 0, sample, sizeof sample / sizeof sample[0], sample_hw, 4, 2);
	write_cache(f, len);
	fake_hw(&h, 8 | 4 | 2, "x86_64");
	LOOKUP_IS(&h, "libz.so.1", "/z/libz.so.1");
	LOOKUP_IS(&h, "libx.so.10", "/x/libx.so.10");
	LOOKUP_IS(&h, "libx.so.9", "/x/libx.so.9");
	LOOKUP_IS(&h, "libx.so.1", "/x/libx.so.1");
	LOOKUP_IS(&h, "libx.so.01", "/x/libx.so.1");  /* numeric comparison */
	LOOKUP_IS(&h, "libx.so.2", NULL);
	LOOKUP_IS(&h, "liba.so.2", "/a/liba.so.2");
	LOOKUP_IS(&h, "libb.so.2", NULL);
	LOOKUP_IS(&h, "libh.so.1", "/h/v4/libh.so.1");
	LOOKUP_IS(&h, "libg.so.1", "/g/lvl/libg.so.1");
	LOOKUP_IS(&h, "libf.so.1", "/f/libf.so.1");
	LOOKUP_IS(&h, "libe.so.1", "/e/libe.so.1");
	fake_hw(&h, 4 | 2, "x86_64");
	LOOKUP_IS(&h, "libh.so.1", "/h/v3/libh.so.1");
	LOOKUP_IS(&h, "libg.so.1", "/g/v3/libg.so.1");  /* ISA level V4 missing */
	fake_hw(&h, 2, "x86_64");
	LOOKUP_IS(&h, "libh.so.1", "/h/v2/libh.so.1");
	LOOKUP_IS(&h, "libg.so.1", "/g/libg.so.1");
	fake_hw(&h, 0, "haswell");
	LOOKUP_IS(&h, "libh.so.1", "/h/libh.so.1");
	LOOKUP_IS(&h, "libe.so.1", "/e/haswell/libe.so.1");  /* platform bit matches */
	LOOKUP_IS(NULL, "libh.so.1", "/h/libh.so.1");  /* no CPU information */
	/* the real CPU */
	LOOKUP_IS(&hw, "libx.so.1", "/x/libx.so.1");

	/* endianness flag: big-endian or "invalid" caches are ignored */
	f[28] = 3;
	write_cache(f, len);
	LOOKUP_IS(&h, "libz.so.1", NULL);
	f[28] = 1;
	write_cache(f, len);
	LOOKUP_IS(&h, "libz.so.1", NULL);
	f[28] = 0;
	write_cache(f, len);
	LOOKUP_IS(&h, "libz.so.1", "/z/libz.so.1");

	/* no extension: glibc-hwcaps entries are unusable */
	len = mk_new(f, 0, sample, sizeof sample / sizeof sample[0], NULL, 0, 2);
	write_cache(f, len);
	fake_hw(&h, 8 | 4 | 2, "x86_64");
	LOOKUP_IS(&h, "libh.so.1", "/h/libh.so.1");
}

static void test_ldcache_old_formats(void **state)
{
	static unsigned char f[65536];
	static const struct centry old[] = {
		{ "libo.so.1", "/old/libo.so.1", X8664, 0 },
		{ "libn.so.1", "/old/libn.so.1", X8664, 0 },
	};
	static const struct centry neu[] = {
		{ "libo.so.1", "/new/libo.so.1", X8664, 0 },
	};
	struct dlg_hwcaps h;
	size_t pos, base;

	(void)state;
	fake_hw(&h, 0, "x86_64");
	/* old format only: "ld.so-1.7.0", 12-byte entries, strings after them */
	memset(f, 0, sizeof f);
	memcpy(f, "ld.so-1.7.0", 11);
	put32(f + 12, 2);
	pos = 16 + 2 * 12;
	for (size_t i = 0; i < 2; i++) {
		unsigned char *e = f + 16 + i * 12;
		size_t strtab = 16 + 2 * 12;

		put32(e, X8664);
		put32(e + 4, (uint32_t)(pos - strtab));
		memcpy(f + pos, old[i].key, strlen(old[i].key) + 1);
		pos += strlen(old[i].key) + 1;
		put32(e + 8, (uint32_t)(pos - strtab));
		memcpy(f + pos, old[i].value, strlen(old[i].value) + 1);
		pos += strlen(old[i].value) + 1;
	}
	write_cache(f, pos);
	LOOKUP_IS(&h, "libo.so.1", "/old/libo.so.1");
	LOOKUP_IS(&h, "libn.so.1", "/old/libn.so.1");
	LOOKUP_IS(&h, "libm.so.1", NULL);
	/* old header with the new format inside: the new one is used */
	memset(f, 0, sizeof f);
	memcpy(f, "ld.so-1.7.0", 11);
	put32(f + 12, 1);
	base = (16 + 12 + 7) & ~(size_t)7;
	pos = mk_new(f, base, neu, 1, NULL, 0, 0);
	write_cache(f, pos);
	LOOKUP_IS(&h, "libo.so.1", "/new/libo.so.1");
	/* ... and with its big-endian flag, none is */
	f[base + 28] = 3;
	write_cache(f, pos);
	LOOKUP_IS(&h, "libo.so.1", NULL);
}

/* Damaged caches: -1 or a right answer, never a crash, never a wrong path. */
static void test_ldcache_corrupt(void **state)
{
	static unsigned char f[65536], g[65536];
	struct dlg_hwcaps h;
	size_t len;
	int fd;
	char out[PATH_MAX], missing[PATH_MAX];

	(void)state;
	fake_hw(&h, 8 | 4 | 2, "x86_64");
	len = mk_new(f, 0, sample, sizeof sample / sizeof sample[0], sample_hw, 4, 2);
	/* every truncation */
	for (size_t l = 0; l <= len; l++) {
		const char *names[] = { "libz.so.1", "libh.so.1", "liba.so.2", "libx.so.1" };
		const char *want[] = { "/z/libz.so.1", NULL, "/a/liba.so.2", "/x/libx.so.1" };

		write_cache(f, l);
		for (size_t k = 0; k < 4; k++) {
			const char *got = lookup(&h, names[k]);

			if (got && want[k] && strcmp(got, want[k]) != 0)
				fail_msg("len %zu %s: %s", l, names[k], got);
			if (got && !want[k] && strncmp(got, "/h/", 3) != 0)
				fail_msg("len %zu %s: %s", l, names[k], got);
		}
		if (l == len)
			LOOKUP_IS(&h, "libh.so.1", "/h/v4/libh.so.1");
	}
	/* every single byte set to 0xff, then to 0 */
	for (int v = 0; v < 2; v++) {
		for (size_t i = 0; i < len; i++) {
			memcpy(g, f, len);
			g[i] = v ? 0xff : 0;
			write_cache(g, len);
			(void)lookup(&h, "libh.so.1");
			(void)lookup(&h, "libx.so.1");
		}
	}
	/* bad magic, nlibs too big, key and value offsets out of range */
	memcpy(g, f, len);
	g[0] = 'G';
	write_cache(g, len);
	LOOKUP_IS(&h, "libz.so.1", NULL);
	memcpy(g, f, len);
	put32(g + 20, 0x7fffffff);
	write_cache(g, len);
	LOOKUP_IS(&h, "libz.so.1", NULL);
	memcpy(g, f, len);
	put32(g + 48 + 4, 0xfffffff0);  /* first entry's key */
	write_cache(g, len);
	LOOKUP_IS(&h, "libz.so.1", NULL);
	memcpy(g, f, len);
	put32(g + 48 + 8, (uint32_t)len);  /* first entry's value */
	write_cache(g, len);
	LOOKUP_IS(&h, "libz.so.1", NULL);
	/* the last string unterminated at the end of the file */
	memcpy(g, f, len);
	put32(g + 48 + 8, (uint32_t)len - 2);
	g[len - 1] = 'x';
	g[len - 2] = 'y';
	write_cache(g, len);
	LOOKUP_IS(&h, "libz.so.1", NULL);
	/* extension offset misaligned, past the end, section past the end:
	 * the glibc-hwcaps entries become unusable, the rest still works */
	{
		uint32_t eoff;

		memcpy(&eoff, f + 32, 4);
		memcpy(g, f, len);
		put32(g + 32, eoff + 1);
		write_cache(g, len);
		LOOKUP_IS(&h, "libh.so.1", "/h/libh.so.1");
		put32(g + 32, 0xfffffff0);
		write_cache(g, len);
		LOOKUP_IS(&h, "libh.so.1", "/h/libh.so.1");
		memcpy(g, f, len);
		put32(g + eoff + 4, 0x10000000);  /* section count */
		write_cache(g, len);
		LOOKUP_IS(&h, "libh.so.1", "/h/libh.so.1");
		memcpy(g, f, len);
		put32(g + eoff + 8 + 12, 0xfffffff0);  /* section size */
		write_cache(g, len);
		LOOKUP_IS(&h, "libh.so.1", "/h/libh.so.1");
		memcpy(g, f, len);
		put32(g + eoff + 8 + 8, 0xfffffff0);  /* section offset */
		write_cache(g, len);
		LOOKUP_IS(&h, "libh.so.1", "/h/libh.so.1");
		memcpy(g, f, len);
		put32(g + eoff + 24, 0xfffffff0);  /* a name offset */
		write_cache(g, len);
		(void)lookup(&h, "libh.so.1");
		LOOKUP_IS(&h, "libz.so.1", "/z/libz.so.1");
	}
	/* not a file: directory, FIFO, missing, empty, /dev/zero */
	assert_int_equal(dlg_ldcache_lookup(root, &h, "libz.so.1", out, sizeof out), -1);
	at(missing, sizeof missing, "cache-fifo");
	assert_int_equal(mkfifo(missing, 0644), 0);
	assert_int_equal(dlg_ldcache_lookup(missing, &h, "libz.so.1", out, sizeof out), -1);
	at(missing, sizeof missing, "no-such-cache");
	assert_int_equal(dlg_ldcache_lookup(missing, &h, "libz.so.1", out, sizeof out), -1);
	write_cache(f, 0);
	LOOKUP_IS(&h, "libz.so.1", NULL);
	assert_int_equal(dlg_ldcache_lookup("/dev/zero", &h, "libz.so.1", out, sizeof out), -1);
	assert_int_equal(dlg_ldcache_lookup(NULL, &h, "libz.so.1", out, sizeof out), -1);
	assert_int_equal(dlg_ldcache_lookup(cachepath, &h, NULL, out, sizeof out), -1);
	/* a resolver pointed at a broken cache goes on to the default dirs */
	{
		struct dlg_search_obj mainp = { .origin = root };
		struct dlg_search_ctx ctx;
		struct answer a;

		write_cache((const unsigned char *)"garbage", 7);
		ctx_make(&ctx, &mainp, &mainp, NULL);
		ctx.ld_so_cache = cachepath;
		resolve_in(&ctx, "libc.so.6", NULL, &a);
		expect("broken cache", &a, DLG_RESOLVE_FOUND, "/lib/x86_64-linux-gnu/libc.so.6");
		/* a cache answer that is missing: on to the default dirs */
		static const struct centry e[] = { { "libc.so.6", "/nonexistent/libc.so.6", X8664, 0 } };

		len = mk_new(f, 0, e, 1, NULL, 0, 2);
		write_cache(f, len);
		resolve_in(&ctx, "libc.so.6", NULL, &a);
		expect("stale cache", &a, DLG_RESOLVE_FOUND, "/lib/x86_64-linux-gnu/libc.so.6");
		/* a cache answer outside the system dirs survives NODEFLIB */
		put_lib("cachedir/libcached.so.1");
		static const struct centry e2[] = { { "libcached.so.1", "", X8664, 0 } };
		struct centry e3 = e2[0];
		char v[PATH_MAX];

		at(v, sizeof v, "cachedir/libcached.so.1");
		e3.value = v;
		len = mk_new(f, 0, &e3, 1, NULL, 0, 2);
		write_cache(f, len);
		ctx.caller.nodeflib = true;
		ctx.main.nodeflib = true;
		resolve_in(&ctx, "libcached.so.1", NULL, &a);
		expect("NODEFLIB keeps other cache dirs", &a, DLG_RESOLVE_FOUND, v);
		/* a cache answer that is not ELF fails the load */
		put_bytes("cachedir/libcached.so.1", "junk", 4, 0644);
		resolve_in(&ctx, "libcached.so.1", NULL, &a);
		expect("bad cache answer", &a, DLG_RESOLVE_BAD, NULL);
	}
	fd = -1;
	(void)fd;
}

/* A cache written by the real ldconfig, with glibc-hwcaps subdirectories. */
static void test_ldcache_ldconfig(void **state)
{
	char conf[PATH_MAX], cmd[PATH_MAX * 3], want[PATH_MAX], out[PATH_MAX];
	int fd;

	(void)state;
	if (access("/sbin/ldconfig", X_OK) != 0)
		skip();
	put_fixture("lc/libdlgfx_plain.so.1", "libdlgfx_plain.so", 0, NULL, 0, 0644);
	put_fixture("lc/glibc-hwcaps/x86-64-v2/libdlgfx_plain.so.1", "libdlgfx_plain.so", 0, NULL, 0,
		    0644);
	put_fixture("lc/glibc-hwcaps/x86-64-v3/libdlgfx_plain.so.1", "libdlgfx_plain.so", 0, NULL, 0,
		    0644);
	at(conf, sizeof conf, "ld.so.conf");
	fd = open(conf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	dprintf(fd, "%s/lc\n", root);
	close(fd);
	at(cachepath, sizeof cachepath, "ldconfig.cache");
	snprintf(cmd, sizeof cmd, "/sbin/ldconfig -X -C '%s' -f '%s' >/dev/null 2>&1", cachepath,
		 conf);
	if (system(cmd) != 0 || access(cachepath, R_OK) != 0)
		skip();
	if (hw.isa_level & 4)
		at(want, sizeof want, "lc/glibc-hwcaps/x86-64-v3/libdlgfx_plain.so.1");
	else if (hw.isa_level & 2)
		at(want, sizeof want, "lc/glibc-hwcaps/x86-64-v2/libdlgfx_plain.so.1");
	else
		at(want, sizeof want, "lc/libdlgfx_plain.so.1");
	assert_int_equal(dlg_ldcache_lookup(cachepath, &hw, "libdlgfx_plain.so.1", out, sizeof out),
			 0);
	assert_string_equal(out, want);
	assert_int_equal(dlg_ldcache_lookup(cachepath, &hw, "libc.so.6", out, sizeof out), 0);
	assert_string_equal(out, "/lib/x86_64-linux-gnu/libc.so.6");
	/* without glibc-hwcaps support, the plain entry */
	{
		struct dlg_hwcaps h;

		fake_hw(&h, 0, "x86_64");
		assert_int_equal(dlg_ldcache_lookup(cachepath, &h, "libdlgfx_plain.so.1", out,
						    sizeof out), 0);
		at(want, sizeof want, "lc/libdlgfx_plain.so.1");
		assert_string_equal(out, want);
	}
}

/* ------------------------------------------------------------------ */

static int setup(void **state)
{
	static const char *const hosts[] = { "dlgfx_host_plain", "dlgfx_host_rpath",
					     "dlgfx_host_runpath" };

	(void)state;
	snprintf(root, sizeof root, "/tmp/dlg-test-resolve-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	dlg_hwcaps_init(&hw);
	for (size_t i = 0; i < 3; i++)
		put_fixture(hosts[i] + strlen("dlgfx_"), hosts[i], 0, NULL, 0, 0755);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return rm_tree(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hwcaps_shape),
		cmocka_unit_test(test_hwcaps_vs_ldso_help),
		cmocka_unit_test(test_hwcaps_vs_ld_debug),
		cmocka_unit_test(test_expand_dst),
		cmocka_unit_test(test_expand_dst_secure),
		cmocka_unit_test(test_rpath_runpath_llp),
		cmocka_unit_test(test_caller_chain),
		cmocka_unit_test(test_ctx_rules),
		cmocka_unit_test(test_empty_llp_element),
		cmocka_unit_test(test_hwcaps_preferred),
		cmocka_unit_test(test_other_arch_skipped),
		cmocka_unit_test(test_bad_candidates),
		cmocka_unit_test(test_header_known),
		cmocka_unit_test(test_symlink_loop),
		cmocka_unit_test(test_slash_names),
		cmocka_unit_test(test_long_names),
		cmocka_unit_test(test_platform_in_llp),
		cmocka_unit_test(test_nodeflib),
		cmocka_unit_test(test_ldcache_system),
		cmocka_unit_test(test_ldcache_synthetic),
		cmocka_unit_test(test_ldcache_old_formats),
		cmocka_unit_test(test_ldcache_corrupt),
		cmocka_unit_test(test_ldcache_ldconfig),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
