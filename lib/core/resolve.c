/* The file ld.so would load for a dlopen name: a re-reading of glibc 2.36
 * (Debian 12, x86_64) elf/dl-load.c, elf/dl-cache.c, elf/dl-hwcaps.c and
 * sysdeps/x86/cpu-features.c. Each function names the glibc code it mirrors;
 * where we must differ, the comment says so and why.
 *
 * Runs inside every process (the preload): no stdio, no exit, no static
 * mutable state, no malloc; paths live in fixed PATH_MAX buffers. */
#include "resolve.h"
#include "errstr.h"

#include "elf.h"

#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* DL_DST_LIB: Debian's local-ld-multiarch.diff makes it slibdir without its
 * leading slash. */
#define DST_LIB "lib/x86_64-linux-gnu"
#define DEFAULT_CACHE "/etc/ld.so.cache"

/* SYSTEM_DIRS (trusted-dirs.h), in the order `ld.so --help` prints them:
 * the default search path, the trusted dirs for $ORIGIN in secure mode, and
 * the prefixes DF_1_NODEFLIB removes from ld.so.cache answers. */
static const char *const system_dirs[] = {
	"/lib/x86_64-linux-gnu/", "/usr/lib/x86_64-linux-gnu/", "/lib/", "/usr/lib/",
};
#define N_SYSTEM_DIRS (sizeof system_dirs / sizeof system_dirs[0])

/* Locale-free error text (errstr.h); buf is kept for the callers' shape. */
static const char *errstr(int e, char *buf, size_t len)
{
	(void)buf;
	(void)len;
	return dlg_strerror(e);
}

/* ------------------------------------------------------------------ */
/* CPU: sysdeps/x86/cpu-features.c (update_active, init_cpu_features) and
 * sysdeps/x86/get-isa-level.h.                                         */

#define ISA_BASELINE (1u << 0)  /* GNU_PROPERTY_X86_ISA_1_BASELINE */
#define ISA_V2 (1u << 1)
#define ISA_V3 (1u << 2)
#define ISA_V4 (1u << 3)

#define HWCAP_X86_64 (1ull << 1)        /* sysdeps/x86/dl-hwcap.h */
#define HWCAP_X86_AVX512_1 (1ull << 2)

struct cpu {
	unsigned c1, d1, b7, e1c;       /* cpuid 1 ecx/edx, 7.0 ebx, 0x80000001 ecx */
	unsigned xcr0;
	bool intel, zhaoxin;
	unsigned family, model;
};

#define BIT(reg, n) ((((reg) >> (n)) & 1u) != 0)

static void cpu_read(struct cpu *c)
{
	unsigned a, b, cx, d, max;

	memset(c, 0, sizeof *c);
	__cpuid(0, max, b, cx, d);
	c->intel = b == 0x756e6547 && cx == 0x6c65746e && d == 0x49656e69;
	c->zhaoxin = (b == 0x746e6543 && cx == 0x736c7561 && d == 0x48727561) ||
		     (b == 0x68532020 && cx == 0x20206961 && d == 0x68676e61);
	if (max >= 1) {
		__cpuid(1, a, b, c->c1, c->d1);
		/* get_common_indices */
		c->family = (a >> 8) & 0x0f;
		c->model = ((a >> 4) & 0x0f) + ((a >> 12) & 0xf0);
	}
	if (max >= 7)
		__cpuid_count(7, 0, a, c->b7, cx, d);
	__cpuid(0x80000000, a, b, cx, d);
	if (a >= 0x80000001)
		__cpuid(0x80000001, a, b, c->e1c, d);
	if (BIT(c->c1, 27)) {   /* OSXSAVE: xgetbv is allowed */
		unsigned lo, hi;

		__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		(void)hi;
		c->xcr0 = lo;
	}
}

/* The "usable" features get_isa_level and the platform choice look at. */
struct usable {
	bool avx, avx2, fma, f16c, bmi1, bmi2, lzcnt, movbe, popcnt;
	bool avx512f, avx512bw, avx512cd, avx512dq, avx512vl, avx512er, avx512pf;
};

static void cpu_usable(const struct cpu *c, struct usable *u)
{
	/* YMM|XMM state, then opmask|ZMM0-15|ZMM16-31 inside it (update_active). */
	bool ymm = BIT(c->c1, 27) && (c->xcr0 & 0x06) == 0x06;
	bool zmm = ymm && (c->xcr0 & 0xe0) == 0xe0;

	u->avx = ymm && BIT(c->c1, 28);
	u->avx2 = u->avx && BIT(c->b7, 5);
	u->fma = u->avx && BIT(c->c1, 12);
	u->f16c = u->avx && BIT(c->c1, 29);
	/* init_cpu_features: these Zhaoxin models lose AVX and AVX2. */
	if (c->zhaoxin && ((c->family == 6 && (c->model == 0x0f || c->model == 0x19)) ||
			   (c->family == 7 && (c->model == 0x1b || c->model == 0x3b)))) {
		u->avx = false;
		u->avx2 = false;
	}
	u->bmi1 = BIT(c->b7, 3);
	u->bmi2 = BIT(c->b7, 8);
	u->lzcnt = BIT(c->e1c, 5);
	u->movbe = BIT(c->c1, 22);
	u->popcnt = BIT(c->c1, 23);
	u->avx512f = zmm && BIT(c->b7, 16);
	u->avx512dq = u->avx512f && BIT(c->b7, 17);
	u->avx512pf = u->avx512f && BIT(c->b7, 26);
	u->avx512er = u->avx512f && BIT(c->b7, 27);
	u->avx512cd = u->avx512f && BIT(c->b7, 28);
	u->avx512bw = u->avx512f && BIT(c->b7, 30);
	u->avx512vl = u->avx512f && BIT(c->b7, 31);
}

/* get_isa_level (sysdeps/x86/get-isa-level.h). */
static unsigned isa_level(const struct cpu *c, const struct usable *u)
{
	unsigned lvl = 0;

	if (!(BIT(c->d1, 15) && BIT(c->d1, 8) && BIT(c->d1, 0) && BIT(c->d1, 24) &&
	      BIT(c->d1, 23) && BIT(c->d1, 25) && BIT(c->d1, 26)))
		return lvl;
	lvl |= ISA_BASELINE;
	if (!(BIT(c->c1, 13) && BIT(c->e1c, 0) && u->popcnt && BIT(c->c1, 0) &&
	      BIT(c->c1, 9) && BIT(c->c1, 19) && BIT(c->c1, 20)))
		return lvl;
	lvl |= ISA_V2;
	if (!(u->avx && u->avx2 && u->bmi1 && u->bmi2 && u->f16c && u->fma && u->lzcnt &&
	      u->movbe))
		return lvl;
	lvl |= ISA_V3;
	if (u->avx512f && u->avx512bw && u->avx512cd && u->avx512dq && u->avx512vl)
		lvl |= ISA_V4;
	return lvl;
}

/* init_cpu_features, __x86_64__ branch: dl_hwcap and the Intel override of
 * dl_platform. */
static const char *cpu_platform(const struct cpu *c, const struct usable *u, uint64_t *hwcap)
{
	const char *platform = NULL;

	*hwcap = HWCAP_X86_64;
	if (!c->intel)
		return NULL;
	if (u->avx512cd) {
		if (u->avx512er) {
			if (u->avx512pf)
				platform = "xeon_phi";
		} else if (u->avx512bw && u->avx512dq && u->avx512vl) {
			*hwcap |= HWCAP_X86_AVX512_1;
		}
	}
	if (!platform && u->avx2 && u->fma && u->bmi1 && u->bmi2 && u->lzcnt && u->movbe &&
	    u->popcnt)
		platform = "haswell";
	return platform;
}

/* Appends one subdirectory string unless an identical one is listed: a
 * repeated candidate cannot change the outcome of a search. */
static void add_subdir(struct dlg_hwcaps *h, size_t *used, const char *s, size_t len)
{
	char *dst;

	for (size_t i = 0; i < h->n; i++)
		if (strlen(h->subdir[i]) == len && memcmp(h->subdir[i], s, len) == 0)
			return;
	if (h->n + 1 >= DLG_MAX_HWCAP_SUBDIRS || len + 1 > sizeof h->storage - *used)
		return;  /* cannot happen with x86-64's strings; "" is added last anyway */
	dst = h->storage + *used;
	memcpy(dst, s, len);
	dst[len] = '\0';
	*used += len + 1;
	h->subdir[h->n++] = dst;
}

/* The legacy power set of _dl_important_hwcaps (elf/dl-hwcaps.c): from
 * temp = [hwcap names by bit, platform, "tls"], entry k holds temp[n] for
 * every bit n set in (2^cnt - 1 - k), highest n first, each with a '/'. */
static void add_legacy(struct dlg_hwcaps *h, size_t *used)
{
	const char *temp[4];
	size_t cnt = 0;
	char buf[128];

	if (h->hwcap & HWCAP_X86_64)
		temp[cnt++] = "x86_64";
	if (h->hwcap & HWCAP_X86_AVX512_1)
		temp[cnt++] = "avx512_1";
	if (h->platform && strlen(h->platform) < 32)
		temp[cnt++] = h->platform;
	temp[cnt++] = "tls";
	for (size_t k = 0; k < ((size_t)1 << cnt); k++) {
		size_t mask = ((size_t)1 << cnt) - 1 - k, len = 0;

		for (size_t n = cnt; n-- > 0;) {
			size_t l = strlen(temp[n]);

			if (!(mask & ((size_t)1 << n)))
				continue;
			memcpy(buf + len, temp[n], l);
			buf[len + l] = '/';
			len += l + 1;
		}
		add_subdir(h, used, buf, len);
	}
}

void dlg_hwcaps_init(struct dlg_hwcaps *h)
{
	/* _dl_hwcaps_subdirs (sysdeps/x86_64/dl-hwcaps-subdirs.c), in order. */
	static const char *const names[] = { "x86-64-v4", "x86-64-v3", "x86-64-v2" };
	static const char *const dirs[] = { "glibc-hwcaps/x86-64-v4/", "glibc-hwcaps/x86-64-v3/",
					    "glibc-hwcaps/x86-64-v2/" };
	static const unsigned need[] = { ISA_V4, ISA_V3, ISA_V2 };
	struct cpu c;
	struct usable u;
	const char *at;
	size_t used = 0;

	memset(h, 0, sizeof *h);
	cpu_read(&c);
	cpu_usable(&c, &u);
	h->isa_level = isa_level(&c, &u);
	h->platform = cpu_platform(&c, &u, &h->hwcap);
	if (!h->platform) {
		/* dl_platform_init: an empty AT_PLATFORM counts as none. */
		at = (const char *)getauxval(AT_PLATFORM);
		h->platform = at && *at ? at : NULL;
	}
	/* _dl_hwcaps_subdirs_active: a level is active only with all below. */
	for (size_t i = 0; i < 3; i++) {
		if ((h->isa_level & need[i]) != need[i])
			continue;
		h->hwcaps_names[h->n_hwcaps_names++] = names[i];
		h->subdir[h->n++] = dirs[i];
	}
	add_legacy(h, &used);
	if (h->n == 0 || h->subdir[h->n - 1][0] != '\0')
		h->subdir[h->n++] = "";
}

/* ------------------------------------------------------------------ */
/* Dynamic string tokens: is_dst, _dl_dst_substitute,
 * is_trusted_path_normalize (elf/dl-load.c).                           */

/* Length of DST 'ref' at in[0..n) (just after the '$'), 0 if not there.
 * Bytes past n read as NUL. */
static size_t dst_len(const char *in, size_t n, const char *ref)
{
	size_t rlen = strlen(ref), i = 0;
	bool curly = n > 0 && in[0] == '{';
	char c;

	if (curly)
		i = 1;
	if (n < i + rlen || memcmp(in + i, ref, rlen) != 0)
		return 0;
	c = i + rlen < n ? in[i + rlen] : '\0';
	if (curly && c != '}')
		return 0;
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')
		return 0;
	return curly ? rlen + 2 : rlen;
}

/* is_trusted_path_normalize: collapse "/./", "/../" and repeated slashes,
 * end with '/', and compare with the system dirs as prefixes. */
static bool trusted_path(const char *path, size_t len)
{
	char npath[PATH_MAX + 2];
	size_t w = 0, i = 0;

	if (len == 0 || len > PATH_MAX)
		return false;
	while (i < len) {
		if (path[i] == '/') {
			char c1 = i + 1 < len ? path[i + 1] : '\0';
			char c2 = i + 2 < len ? path[i + 2] : '\0';
			char c3 = i + 3 < len ? path[i + 3] : '\0';

			if (c1 == '.' && c2 == '.' && (c3 == '/' || c3 == '\0')) {
				while (w > 0 && npath[--w] != '/')
					;
				i += 3;
				continue;
			}
			if (c1 == '.' && (c2 == '/' || c2 == '\0')) {
				i += 2;
				continue;
			}
			if (w > 0 && npath[w - 1] == '/') {
				i++;
				continue;
			}
		}
		npath[w++] = path[i++];
	}
	if (w == 0 || npath[w - 1] != '/')
		npath[w++] = '/';
	for (size_t d = 0; d < N_SYSTEM_DIRS; d++) {
		size_t dl = strlen(system_dirs[d]);

		if (w >= dl && memcmp(npath, system_dirs[d], dl) == 0)
			return true;
	}
	return false;
}

static bool obj_is_main(const struct dlg_search_ctx *ctx, const struct dlg_search_obj *obj)
{
	return obj == &ctx->main || (ctx->caller_is_main && obj == &ctx->caller);
}

static const char *dst_platform(const struct dlg_search_ctx *ctx)
{
	if (ctx->hwcaps && ctx->hwcaps->platform)
		return ctx->hwcaps->platform;
	return ctx->platform && *ctx->platform ? ctx->platform : NULL;
}

/* _dl_dst_substitute. On failure errno says why: ENAMETOOLONG when the
 * result does not fit, ENOENT when a DST has no value or is refused (ld.so
 * then drops a search path element, or opens "" for a name). */
int dlg_expand_dst(const struct dlg_search_ctx *ctx, const struct dlg_search_obj *obj,
		   const char *in, size_t inlen, char *out, size_t outlen)
{
	bool check_trusted = false;
	size_t i = 0, o = 0;

	if (!out || outlen == 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (!memchr(in, '$', inlen)) {
		if (inlen >= outlen)
			goto toolong;
		memcpy(out, in, inlen);
		out[inlen] = '\0';
		return 0;
	}
	while (i < inlen) {
		const char *repl = NULL, *rest;
		size_t len, rn, rl;

		if (in[i] != '$') {
			if (o + 1 >= outlen)
				goto toolong;
			out[o++] = in[i++];
			continue;
		}
		rest = in + ++i;
		rn = inlen - i;
		if ((len = dst_len(rest, rn, "ORIGIN")) != 0) {
			/* Secure mode: only a leading $ORIGIN that is the whole
			 * element or followed by '/'; for the main program the
			 * result must also lie in a trusted directory. */
			if (!ctx->secure || (i == 1 && (len == rn || rest[len] == '/')))
				repl = obj ? obj->origin : NULL;
			check_trusted = ctx->secure && obj_is_main(ctx, obj);
		} else if ((len = dst_len(rest, rn, "PLATFORM")) != 0) {
			repl = dst_platform(ctx);
		} else if ((len = dst_len(rest, rn, "LIB")) != 0) {
			repl = DST_LIB;
		}
		if (len == 0) {
			if (o + 1 >= outlen)
				goto toolong;
			out[o++] = '$';
			continue;
		}
		if (!repl) {
			errno = ENOENT;
			return -1;
		}
		rl = strlen(repl);
		if (rl >= outlen - o)
			goto toolong;
		memcpy(out + o, repl, rl);
		o += rl;
		i += len;
	}
	out[o] = '\0';
	/* glibc runs the check before terminating the string; we give it
	 * the string it means to check. */
	if (check_trusted && !trusted_path(out, o)) {
		out[0] = '\0';
		errno = ENOENT;
		return -1;
	}
	return 0;
toolong:
	out[0] = '\0';
	errno = ENAMETOOLONG;
	return -1;
}

/* ------------------------------------------------------------------ */
/* ld.so.cache: _dl_load_cache_lookup, search_cache, _dl_cache_libcmp,
 * cache_extension_load, glibc_hwcaps_priorities_init (elf/dl-cache.c,
 * sysdeps/generic/dl-cache.h, sysdeps/x86/dl-isa-level.h).             */

#define CACHEMAGIC "ld.so-1.7.0"
#define CACHEMAGIC_NEW "glibc-ld.so.cache1.1"
#define OLD_HDR 16u             /* struct cache_file */
#define OLD_ENTRY 12u           /* struct file_entry */
#define NEW_HDR 48u             /* struct cache_file_new */
#define NEW_ENTRY 24u           /* struct file_entry_new */
#define DEFAULT_ID 0x303        /* FLAG_ELF_LIBC6 | FLAG_X8664_LIB64 */
#define HWCAP_EXTENSION (1ull << 62)
#define ISA_LEVEL_MASK 0x3ffu
#define HWCAP_PLATFORM_MASK (0xfull << 48)  /* _DL_HWCAP_PLATFORM, 4 platforms */
#define HWCAP_TLS_MASK (1ull << 63)
#define EXT_MAGIC ((uint32_t)-358342284)
#define EXT_TAG_HWCAPS 1u
#define MAX_CACHE_SIZE (256u << 20)
#define MAX_HWCAPS_STRINGS 4096u

/* A validated view of a mapped cache. Every offset is checked against
 * 'size' before use; glibc trusts the file more than we do. */
struct cache {
	const unsigned char *file;
	size_t size;
	const unsigned char *entries;
	size_t nlibs, entry_size;
	const char *strtab;     /* what entry keys and values are relative to */
	size_t strsz;
	const unsigned char *hwcaps;    /* uint32_t[n_hwcaps] of file offsets */
	size_t n_hwcaps;
};

static uint32_t rd32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof v);
	return v;
}

static uint64_t rd64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof v);
	return v;
}

/* A NUL-terminated string at 'off' inside [base, base+size), or NULL:
 * stands in for _dl_cache_verify_ptr, which checks less. */
static const char *cstr(const char *base, size_t size, uint64_t off)
{
	if (off >= size || !memchr(base + off, '\0', size - off))
		return NULL;
	return base + off;
}

/* _dl_cache_libcmp: digits compare numerically. int arithmetic in glibc
 * wraps in practice; unsigned arithmetic gives the same sign here
 * without undefined behaviour. Characters compare as signed char. */
static int libcmp(const char *p1, const char *p2)
{
	while (*p1 != '\0') {
		if (*p1 >= '0' && *p1 <= '9') {
			unsigned v1, v2;

			if (!(*p2 >= '0' && *p2 <= '9'))
				return 1;
			v1 = (unsigned)(*p1++ - '0');
			v2 = (unsigned)(*p2++ - '0');
			while (*p1 >= '0' && *p1 <= '9')
				v1 = v1 * 10 + (unsigned)(*p1++ - '0');
			while (*p2 >= '0' && *p2 <= '9')
				v2 = v2 * 10 + (unsigned)(*p2++ - '0');
			if (v1 != v2)
				return (int)(v1 - v2);
		} else if (*p2 >= '0' && *p2 <= '9') {
			return -1;
		} else if (*p1 != *p2) {
			return (signed char)*p1 - (signed char)*p2;
		} else {
			p1++;
			p2++;
		}
	}
	return (signed char)*p1 - (signed char)*p2;
}

static bool endian_ok(const unsigned char *hdr)
{
	unsigned flags = hdr[28];

	/* cache_file_new_matches_endian: 0 = unknown, else must say little. */
	return flags == 0 || (flags & 3) == 2;
}

/* cache_extension_load + cache_extension_verify, keeping only the
 * glibc-hwcaps section. Offsets are relative to the start of the file; a
 * section reaching past the end refuses the whole directory. */
static void cache_load_ext(struct cache *c, const unsigned char *newhdr)
{
	uint32_t eoff = rd32(newhdr + 32), count, hoff = 0, hsize = 0;
	bool have = false;

	if (eoff == 0 || eoff % 4 != 0 || (uint64_t)eoff + 8 > c->size)
		return;
	if (rd32(c->file + eoff) != EXT_MAGIC)
		return;
	count = rd32(c->file + eoff + 4);
	if ((uint64_t)eoff + 8 + (uint64_t)count * 16 > c->size)
		return;
	for (uint32_t i = 0; i < count; i++) {
		const unsigned char *sec = c->file + eoff + 8 + (size_t)i * 16;
		uint32_t tag = rd32(sec), off = rd32(sec + 8), size = rd32(sec + 12);

		if ((uint64_t)off + size > c->size)
			return;
		if (tag == EXT_TAG_HWCAPS) {
			hoff = off;
			hsize = size;
			have = true;
		}
	}
	/* Non-empty, 4-aligned, a multiple of 4 bytes. */
	if (!have || hsize == 0 || hoff % 4 != 0 || hsize % 4 != 0)
		return;
	c->hwcaps = c->file + hoff;
	c->n_hwcaps = hsize / 4;
}

/* _dl_load_cache_lookup's three layouts: new only, old only, old with new
 * inside. Returns -1 for anything ld.so would not use (or that we cannot
 * bound, where glibc would read out of the file). */
static int cache_open_view(struct cache *c, const unsigned char *file, size_t size)
{
	const unsigned char *newhdr = NULL;
	size_t base = 0;

	memset(c, 0, sizeof *c);
	c->file = file;
	c->size = size;
	if (size > NEW_HDR && memcmp(file, CACHEMAGIC_NEW, sizeof CACHEMAGIC_NEW - 1) == 0 &&
	    (size - NEW_HDR) / NEW_ENTRY >= rd32(file + 20)) {
		if (!endian_ok(file))
			return -1;
		newhdr = file;
	} else if (size > OLD_HDR && memcmp(file, CACHEMAGIC, sizeof CACHEMAGIC - 1) == 0 &&
		   (size - OLD_HDR) / OLD_ENTRY >= rd32(file + 12)) {
		size_t nold = rd32(file + 12);

		base = (OLD_HDR + nold * OLD_ENTRY + 7) & ~(size_t)7;  /* ALIGN_CACHE */
		if (size >= base + NEW_HDR &&
		    memcmp(file + base, CACHEMAGIC_NEW, sizeof CACHEMAGIC_NEW - 1) == 0) {
			if (!endian_ok(file + base))
				return -1;
			newhdr = file + base;
		} else {
			c->entries = file + OLD_HDR;
			c->nlibs = nold;
			c->entry_size = OLD_ENTRY;
			c->strtab = (const char *)file + OLD_HDR + nold * OLD_ENTRY;
			c->strsz = size - (OLD_HDR + nold * OLD_ENTRY);
			return 0;
		}
	} else {
		return -1;
	}
	c->nlibs = rd32(newhdr + 20);
	/* glibc does not check this for the embedded new format. */
	if ((size - base - NEW_HDR) / NEW_ENTRY < c->nlibs)
		return -1;
	c->entries = newhdr + NEW_HDR;
	c->entry_size = NEW_ENTRY;
	c->strtab = (const char *)newhdr;
	c->strsz = size - base;
	cache_load_ext(c, newhdr);
	return 0;
}

struct prio {
	const char *name;
	size_t len;
	uint32_t priority;
};

/* glibc_hwcaps_compare: bytes, then the shorter first. */
static int prio_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int cmp = memcmp(a, b, alen < blen ? alen : blen);

	if (cmp != 0)
		return cmp;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* glibc_hwcaps_priority(index) as glibc_hwcaps_priorities_init computes it:
 * a merge of the cache's (supposedly sorted) names with the CPU's active
 * names sorted by sort_priorities_by_name. Run up to 'index' only. */
static uint32_t cache_hwcaps_priority(const struct cache *c, const struct dlg_hwcaps *h,
				      uint32_t index)
{
	struct prio right[4];
	size_t nr = 0, r = 0, left = 0, res = 0;

	if (!h || !c->hwcaps || index >= c->n_hwcaps || c->n_hwcaps > MAX_HWCAPS_STRINGS)
		return 0;
	for (size_t i = 0; i < h->n_hwcaps_names && i < 4; i++) {
		struct prio p = { h->hwcaps_names[i], strlen(h->hwcaps_names[i]),
				  (uint32_t)i + 1 };
		size_t j = nr++;

		/* insertion sort, as sort_priorities_by_name */
		while (j > 0 && prio_cmp(p.name, p.len, right[j - 1].name, right[j - 1].len) < 0) {
			right[j] = right[j - 1];
			j--;
		}
		right[j] = p;
	}
	while (left < c->n_hwcaps && r < nr) {
		uint32_t soff = rd32(c->hwcaps + left * 4);
		const char *s = cstr((const char *)c->file, c->size, soff);
		int cmp;

		if (!s) {
			/* glibc would spin here (it does not advance); we
			 * count the name as unusable. */
			if (res++ == index)
				return 0;
			left++;
			continue;
		}
		cmp = prio_cmp(s, strlen(s), right[r].name, right[r].len);
		if (cmp == 0) {
			if (res++ == index)
				return right[r].priority;
			left++;
			r++;
		} else if (cmp < 0) {
			if (res++ == index)
				return 0;
			left++;
		} else {
			r++;
		}
	}
	return 0;
}

/* _dl_string_platform on x86_64: only "haswell" and "xeon_phi" have bits. */
static uint64_t platform_bit(const char *platform)
{
	if (platform && strcmp(platform, "haswell") == 0)
		return 1ull << (48 + 2);
	if (platform && strcmp(platform, "xeon_phi") == 0)
		return 1ull << (48 + 3);
	return (uint64_t)-1;
}

struct entry {
	int32_t flags;
	uint32_t key, value;
	uint64_t hwcap;
};

static void entry_at(const struct cache *c, size_t i, struct entry *e)
{
	const unsigned char *p = c->entries + i * c->entry_size;

	e->flags = (int32_t)rd32(p);
	e->key = rd32(p + 4);
	e->value = rd32(p + 8);
	e->hwcap = c->entry_size >= NEW_ENTRY ? rd64(p + 16) : 0;
}

static bool key_is(const struct cache *c, size_t i, const char *name)
{
	struct entry e;
	const char *k;

	entry_at(c, i, &e);
	k = cstr(c->strtab, c->strsz, e.key);
	return k && libcmp(name, k) == 0;
}

/* The inner loop of search_cache, over the run of entries whose key is
 * 'name', starting at 'first'. */
static const char *cache_pick(const struct cache *c, const struct dlg_hwcaps *h, size_t first,
			      size_t left, size_t right, const char *name)
{
	uint64_t hwcap = h ? h->hwcap : HWCAP_X86_64;
	uint64_t exclude = ~(hwcap | HWCAP_PLATFORM_MASK | HWCAP_TLS_MASK);
	uint64_t platform = platform_bit(h ? h->platform : NULL);
	uint32_t isa = h ? h->isa_level : ISA_BASELINE, best_prio = 0;
	const char *best = NULL;

	for (size_t m = first; m <= right; m++) {
		struct entry e;
		const char *value;
		bool named = false;

		if (m > left && !key_is(c, m, name))
			break;
		entry_at(c, m, &e);
		value = cstr(c->strtab, c->strsz, e.value);
		if (e.flags != DEFAULT_ID || !value)
			continue;
		if (c->entry_size >= NEW_ENTRY) {
			uint32_t lvl_shift = (uint32_t)(e.hwcap >> 32) & ISA_LEVEL_MASK;
			/* x86 shifts count mod 32, which is what glibc's
			 * '1 << n' does for large n. */
			uint32_t lvl = 1u << (lvl_shift & 31);

			named = ((e.hwcap >> 32) & ~(uint64_t)ISA_LEVEL_MASK) ==
				(HWCAP_EXTENSION >> 32);
			if (named && (lvl & isa) != lvl)
				continue;
			if (!named && best)
				break;
			if ((e.hwcap & exclude) && !named)
				continue;
			if ((e.hwcap & HWCAP_PLATFORM_MASK) != 0 &&
			    (e.hwcap & HWCAP_PLATFORM_MASK) != platform)
				continue;
			if (named) {
				uint32_t p = cache_hwcaps_priority(c, h, (uint32_t)e.hwcap);

				if (p == 0 || (best && p >= best_prio))
					continue;
				best_prio = p;
			}
		}
		best = value;
		if (!named)
			break;  /* flags == DEFAULT_ID: nothing better can follow */
	}
	return best;
}

/* search_cache: binary search over entries sorted by descending libcmp. */
static const char *cache_search(const struct cache *c, const struct dlg_hwcaps *h,
				const char *name)
{
	int64_t left = 0, right = (int64_t)c->nlibs - 1;

	while (left <= right) {
		int64_t middle = (left + right) / 2;
		struct entry e;
		const char *k;
		int cmp;

		entry_at(c, (size_t)middle, &e);
		k = cstr(c->strtab, c->strsz, e.key);
		if (!k)
			return NULL;
		cmp = libcmp(name, k);
		if (cmp == 0) {
			left = middle;
			while (middle > 0 && key_is(c, (size_t)middle - 1, name))
				middle--;
			return cache_pick(c, h, (size_t)middle, (size_t)left, (size_t)right, name);
		}
		if (cmp < 0)
			left = middle + 1;
		else
			right = middle - 1;
	}
	return NULL;
}

/* Maps a cache file and validates its layout into c (cache_unload
 * releases it). Returns 0, or -1 when the file is missing or unusable. */
static int cache_load(const char *cache_path, struct cache *c)
{
	struct stat st;
	void *map;
	int fd, rc = -1;

	/* _dl_sysdep_read_whole_file, but never blocking on a FIFO. */
	fd = open(cache_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > MAX_CACHE_SIZE)
		goto out;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		goto out;
	if (cache_open_view(c, map, (size_t)st.st_size) != 0) {
		munmap(map, (size_t)st.st_size);
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

static void cache_unload(struct cache *c)
{
	munmap((void *)c->file, c->size);
}

static int cache_lookup(const struct cache *c, const struct dlg_hwcaps *h, const char *name,
			char *out, size_t outlen)
{
	const char *best = cache_search(c, h, name);
	size_t len = best ? strlen(best) : 0;

	if (!best || len >= outlen)
		return -1;
	memcpy(out, best, len + 1);
	return 0;
}

int dlg_ldcache_lookup(const char *cache_path, const struct dlg_hwcaps *h,
		       const char *name, char *out, size_t outlen)
{
	struct cache c;
	int rc;

	if (!cache_path || !name || !out || outlen == 0)
		return -1;
	out[0] = '\0';
	if (cache_load(cache_path, &c) != 0)
		return -1;
	rc = cache_lookup(&c, h, name, out, outlen);
	cache_unload(&c);
	return rc;
}

#ifndef DLGUARD_IN_PRELOAD
int dlg_ldcache_lookup_mem(const void *buf, size_t len, const struct dlg_hwcaps *h,
			   const char *name, char *out, size_t outlen)
{
	struct cache c;

	if (!buf || !name || !out || outlen == 0)
		return -1;
	out[0] = '\0';
	if (cache_open_view(&c, buf, len) != 0)
		return -1;
	return cache_lookup(&c, h, name, out, outlen);
}
#endif

#ifndef DLGUARD_IN_PRELOAD
int dlg_ldcache_each(const char *cache_path, int (*cb)(const char *path, void *ctx), void *ctx)
{
	struct cache c;
	int rc = 0;

	if (!cache_path || !cb || cache_load(cache_path, &c) != 0)
		return -1;
	for (size_t i = 0; i < c.nlibs && rc == 0; i++) {
		struct entry e;
		const char *value;

		entry_at(&c, i, &e);
		value = cstr(c.strtab, c.strsz, e.value);
		if (!value)
			rc = -1;
		else if (e.flags == DEFAULT_ID)
			rc = cb(value, ctx);
	}
	cache_unload(&c);
	return rc;
}
#endif

/* ------------------------------------------------------------------ */
/* The search: _dl_map_object, open_path, open_verify (elf/dl-load.c).  */

enum try_rc { TRY_MISS, TRY_FOUND, TRY_BAD, TRY_ABANDON };

struct search {
	const struct dlg_search_ctx *ctx;
	const char *name;
	size_t namelen;
	struct dlg_found *out;  /* out->path is the candidate buffer */
	char *err;
	size_t errlen;
	int last_errno;         /* the errno ld.so would be left with */
	bool other_class;       /* found_other_class */
	unsigned skipped;       /* objects of another class or machine */
};

/* open_verify's checks on an open candidate (the descriptor stays ours). */
static enum try_rc verify_fd(struct search *s, int fd, struct stat *st)
{
	char why[160], eb[64];
	unsigned char cls = 0;

	if (fstat(fd, st) != 0) {
		dlg_seterr(s->err, s->errlen, "%s: cannot stat: %s", s->out->path,
		       errstr(errno, eb, sizeof eb));
		return TRY_BAD;
	}
	if (!S_ISREG(st->st_mode)) {
		dlg_seterr(s->err, s->errlen, "%s: %s%s", s->out->path, dlg_file_kind(st->st_mode),
			   S_ISFIFO(st->st_mode) ? " (the loader would block on it)" : "");
		return TRY_BAD;
	}
	if (s->ctx->header_known && s->ctx->header_known(st))
		return TRY_FOUND;
	switch (dlg_elf_check_header(fd, st, why, sizeof why)) {
	case DLG_ELF_OK:
		return TRY_FOUND;
	case DLG_ELF_OTHER_ARCH:
		/* skipped, with errno ENOENT; a wrong class is remembered for
		 * the final message (found_other_class) */
		if (pread(fd, &cls, 1, EI_CLASS) == 1 && cls != ELFCLASS64)
			s->other_class = true;
		s->skipped++;
		s->last_errno = ENOENT;
		dlg_seterr(s->err, s->errlen, "%s: %s", s->out->path, why);
		return TRY_MISS;
	default:
		dlg_seterr(s->err, s->errlen, "%s: %s", s->out->path, why);
		return TRY_BAD;
	}
}

/* open_verify on out->path. ld.so opens without O_NONBLOCK and would hang
 * on a FIFO or read a device; we open non-blocking and refuse anything but
 * a regular file (ld.so fails on those too: EISDIR, "file too short"...). */
static enum try_rc try_file(struct search *s)
{
	struct stat st;
	enum try_rc rc;
	int fd;

	fd = open(s->out->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		s->last_errno = errno;
		return TRY_MISS;
	}
	rc = verify_fd(s, fd, &st);
	if (rc != TRY_FOUND) {
		close(fd);
		return rc;
	}
	s->out->fd = fd;
	s->out->st = st;
	return TRY_FOUND;
}

/* open_path's directory status probe: stat "dir+subdir" without its final
 * '/' (so "/" probes ""). Returns true for an existing directory; a failed
 * stat leaves its errno in *err. */
static bool probe_dir(struct search *s, const char *dir, size_t dirlen, const char *sub,
		      int *err)
{
	size_t sublen = strlen(sub), len = dirlen + sublen;
	struct stat st;

	if (len >= sizeof s->out->path) {
		*err = ENAMETOOLONG;
		return false;
	}
	memmove(s->out->path, dir, dirlen);
	memcpy(s->out->path + dirlen, sub, sublen);
	s->out->path[len ? len - 1 : 0] = '\0';
	if (stat(s->out->path, &st) != 0) {
		*err = errno;
		return false;
	}
	return S_ISDIR(st.st_mode);
}

/* One directory of open_path with every capability subdirectory. After a
 * miss, ld.so gives up the rest of this search list when the directory
 * exists and the last error is neither ENOENT nor EACCES (e.g. ELOOP,
 * ENAMETOOLONG): TRY_ABANDON. dir ends in '/' or is "" (cwd). */
static enum try_rc search_dir(struct search *s, const char *dir, size_t dirlen)
{
	const struct dlg_hwcaps *h = s->ctx->hwcaps;
	size_t ncaps = h && h->n ? h->n : 1;
	bool here_any = dir[0] != '/';  /* relative dirs are always "existing" */
	int err = 0;

	for (size_t i = 0; i < ncaps; i++) {
		const char *sub = h && h->n ? h->subdir[i] : "";
		size_t sublen = strlen(sub);
		enum try_rc rc;

		if (dirlen + sublen + s->namelen >= sizeof s->out->path) {
			s->last_errno = ENAMETOOLONG;  /* what open() would say */
			continue;
		}
		memmove(s->out->path, dir, dirlen);
		memcpy(s->out->path + dirlen, sub, sublen);
		memcpy(s->out->path + dirlen + sublen, s->name, s->namelen + 1);
		rc = try_file(s);
		if (rc != TRY_MISS)
			return rc;
	}
	if (s->last_errno == ENOENT || s->last_errno == EACCES)
		return TRY_MISS;
	if (!here_any) {
		/* The probe after the last (plain) candidate may replace errno. */
		here_any = probe_dir(s, dir, dirlen, "", &err);
		if (err)
			s->last_errno = err;
		for (size_t i = 0; !here_any && h && i + 1 < h->n; i++)
			here_any = probe_dir(s, dir, dirlen, h->subdir[i], &err);
	}
	if (here_any && s->last_errno != ENOENT && s->last_errno != EACCES)
		return TRY_ABANDON;
	return TRY_MISS;
}

/* fillin_rpath + open_path over one search list. Elements split on 'seps';
 * an empty element is the current directory; DSTs are expanded against
 * 'obj', an element whose expansion fails is dropped; trailing slashes
 * become exactly one. Repeated directories are searched again where glibc
 * skips them: the second search cannot find what the first did not. */
static enum try_rc search_list(struct search *s, const char *list, const char *seps,
			       const struct dlg_search_obj *obj)
{
	char dir[PATH_MAX];
	const char *p = list;

	if (!list || !*list)  /* decompose_rpath / _dl_init_paths: no list */
		return TRY_MISS;
	for (;;) {
		size_t elen = strcspn(p, seps), len = 0;
		enum try_rc rc;

		dir[0] = '\0';
		if (elen > 0) {
			if (dlg_expand_dst(s->ctx, obj, p, elen, dir, sizeof dir - 1) != 0)
				goto next;
			len = strlen(dir);
			if (len == 0)
				goto next;
			while (len > 1 && dir[len - 1] == '/')
				len--;
			if (dir[len - 1] != '/')
				dir[len++] = '/';
			dir[len] = '\0';
		}
		rc = search_dir(s, dir, len);
		if (rc == TRY_ABANDON)
			return TRY_MISS;
		if (rc != TRY_MISS)
			return rc;
next:
		if (p[elen] == '\0')
			return TRY_MISS;
		p += elen + 1;
	}
}

static bool in_system_dir(const char *path)
{
	for (size_t d = 0; d < N_SYSTEM_DIRS; d++)
		if (strncmp(path, system_dirs[d], strlen(system_dirs[d])) == 0)
			return true;
	return false;
}

/* The ld.so.cache step of _dl_map_object. */
static enum try_rc search_cache_step(struct search *s)
{
	const struct dlg_search_ctx *ctx = s->ctx;
	const char *cache = ctx->ld_so_cache ? ctx->ld_so_cache : DEFAULT_CACHE;

	if (dlg_ldcache_lookup(cache, ctx->hwcaps, s->name, s->out->path,
			       sizeof s->out->path) != 0)
		return TRY_MISS;
	/* DF_1_NODEFLIB on the loader drops answers in the system dirs. */
	if (ctx->caller.nodeflib && in_system_dir(s->out->path))
		return TRY_MISS;
	return try_file(s);
}

static enum try_rc search_defaults(struct search *s)
{
	for (size_t d = 0; d < N_SYSTEM_DIRS; d++) {
		enum try_rc rc = search_dir(s, system_dirs[d], strlen(system_dirs[d]));

		if (rc == TRY_ABANDON)
			return TRY_MISS;
		if (rc != TRY_MISS)
			return rc;
	}
	return TRY_MISS;
}

/* The order of _dl_map_object for a name without '/'. glibc walks the
 * DT_RPATH of the caller and then of each l_loader up the chain (the
 * object whose DT_NEEDED first brought it in, and so on), then the main
 * program's. The chain is ctx->rpath_chain when the caller knows it (the
 * dependency walk does); a dlopen'ed caller has none (__RTLD_CALLMAP), which
 * is exact for dlopen callers, the main program and its direct
 * dependencies. */
static enum try_rc search_bare(struct search *s)
{
	const struct dlg_search_ctx *ctx = s->ctx;
	const struct dlg_search_obj *caller = &ctx->caller, *mainp = &ctx->main;
	enum try_rc rc;

	/* An object with DT_RUNPATH has its DT_RPATH ignored
	 * (elf_get_dynamic_info), and then no RPATH chain is walked. */
	if (!caller->runpath) {
		rc = search_list(s, caller->rpath, ":", caller);
		if (rc != TRY_MISS)
			return rc;
		for (size_t i = 0; i < ctx->n_rpath_chain; i++) {
			const struct dlg_search_obj *l = ctx->rpath_chain[i];
			/* cache_rpath: a DT_RUNPATH object's DT_RPATH is ignored */
			if (l->runpath)
				continue;
			rc = search_list(s, l->rpath, ":", l);
			if (rc != TRY_MISS)
				return rc;
		}
		if (!ctx->caller_is_main && !mainp->runpath) {
			rc = search_list(s, mainp->rpath, ":", mainp);
			if (rc != TRY_MISS)
				return rc;
		}
	}
	/* _dl_init_paths: LD_LIBRARY_PATH splits on ':' and ';', and its
	 * DSTs expand against the main program. */
	rc = search_list(s, ctx->ld_library_path, ":;", mainp);
	if (rc != TRY_MISS)
		return rc;
	rc = search_list(s, caller->runpath, ":", caller);
	if (rc != TRY_MISS)
		return rc;
	rc = search_cache_step(s);
	if (rc != TRY_MISS)
		return rc;
	if (caller->nodeflib)
		return TRY_MISS;
	return search_defaults(s);
}

static enum dlg_resolve_rc resolve_slash(struct search *s)
{
	const struct dlg_search_ctx *ctx = s->ctx;
	char eb[64];
	enum try_rc rc;

	/* _dl_map_object: expand_dynamic_string_token against the caller; an
	 * unexpandable DST leaves "" to open, hence ENOENT. */
	if (dlg_expand_dst(ctx, &ctx->caller, s->name, s->namelen, s->out->path,
			   sizeof s->out->path) != 0) {
		int e = errno;

		s->out->path[0] = '\0';
		dlg_seterr(s->err, s->errlen, "cannot open shared object file: %s%s",
		       errstr(e, eb, sizeof eb),
		       e == ENOENT ? " (dynamic string token not expandable here)" : "");
		return DLG_RESOLVE_NOT_FOUND;
	}
	rc = try_file(s);
	if (rc == TRY_FOUND)
		return DLG_RESOLVE_FOUND;
	if (rc == TRY_BAD || s->skipped)
		return DLG_RESOLVE_BAD;  /* an explicit path is not skipped: it fails */
	dlg_seterr(s->err, s->errlen, "cannot open shared object file: %s",
	       errstr(s->last_errno, eb, sizeof eb));
	return DLG_RESOLVE_NOT_FOUND;
}

enum dlg_resolve_rc dlg_resolve(const struct dlg_search_ctx *ctx, const char *name,
				struct dlg_found *out, char *err, size_t errlen)
{
	struct search s = {
		.ctx = ctx, .name = name, .out = out, .err = err, .errlen = errlen,
		.last_errno = ENOENT,
	};
	int saved = errno;
	enum dlg_resolve_rc rc;
	enum try_rc t;
	char eb[64];

	if (err && errlen)
		err[0] = '\0';
	out->fd = -1;
	out->path[0] = '\0';
	if (!name || !*name) {
		/* dlopen(NULL) and dlopen("") name the main program, which
		 * _dl_map_object finds among the loaded objects (its l_name
		 * is ""): there is no file to search for. */
		dlg_seterr(err, errlen, "empty name: the main program, already loaded");
		rc = DLG_RESOLVE_NOT_FOUND;
		goto done;
	}
	s.namelen = strlen(name);
	if (s.namelen >= sizeof out->path) {
		dlg_seterr(err, errlen, "cannot open shared object file: %s",
		       errstr(ENAMETOOLONG, eb, sizeof eb));
		rc = DLG_RESOLVE_NOT_FOUND;
		goto done;
	}
	if (strchr(name, '/')) {
		rc = resolve_slash(&s);
		goto done;
	}
	t = search_bare(&s);
	if (t == TRY_FOUND) {
		rc = DLG_RESOLVE_FOUND;
	} else if (t == TRY_BAD) {
		rc = DLG_RESOLVE_BAD;
	} else {
		out->path[0] = '\0';
		if (s.other_class)
			dlg_seterr(err, errlen, "wrong ELF class: ELFCLASS32");
		else
			dlg_seterr(err, errlen, "cannot open shared object file: %s",
			       errstr(s.last_errno, eb, sizeof eb));
		rc = DLG_RESOLVE_NOT_FOUND;
	}
done:
	if (rc != DLG_RESOLVE_FOUND && rc != DLG_RESOLVE_BAD)
		out->path[0] = '\0';
	errno = saved;
	return rc;
}
