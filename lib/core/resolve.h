/* The file ld.so (glibc 2.36, x86_64) would load for a dlopen/dlmopen name,
 * searched for a given caller. Mirrors elf/dl-load.c _dl_map_object. */
#ifndef DLGUARD_RESOLVE_H
#define DLGUARD_RESOLVE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* Search information of one loaded object. */
struct dlg_search_obj {
	const char *origin;     /* directory of the object, for $ORIGIN; NULL if unknown */
	const char *rpath;      /* raw DT_RPATH string (unexpanded), or NULL */
	const char *runpath;    /* raw DT_RUNPATH string (unexpanded), or NULL */
	bool nodeflib;          /* DF_1_NODEFLIB: skip the default dirs and ld.so.cache
				 * entries that lie in them */
};

/* 3 glibc-hwcaps levels + 16 legacy combinations (Intel with AVX512 and
 * platform "haswell": x86_64, avx512_1, haswell, tls). */
#define DLG_MAX_HWCAP_SUBDIRS 24

/* Capability subdirectories tried under each search directory, in priority
 * order, each ending in '/'; the last one is "" (the directory itself). */
struct dlg_hwcaps {
	const char *subdir[DLG_MAX_HWCAP_SUBDIRS];
	size_t n;
	char storage[1024];
	/* glibc-hwcaps names this CPU supports, priority order (e.g. "x86-64-v3"),
	 * for choosing ld.so.cache entries */
	const char *hwcaps_names[4];
	size_t n_hwcaps_names;
	/* glibc's dl_platform, i.e. $PLATFORM: AT_PLATFORM, replaced by
	 * "haswell" or "xeon_phi" on qualifying Intel CPUs; NULL if unknown */
	const char *platform;
	uint64_t hwcap;         /* legacy HWCAP bits (dl_hwcap & HWCAP_IMPORTANT) */
	uint32_t isa_level;     /* GNU_PROPERTY_X86_ISA_1_{BASELINE,V2,V3,V4} bits */
};

/* Computes the subdirectory list the way glibc 2.36 does on this CPU. */
void dlg_hwcaps_init(struct dlg_hwcaps *h);

struct dlg_search_ctx {
	struct dlg_search_obj caller;   /* the object that called dlopen */
	struct dlg_search_obj main;     /* the main program (DT_RPATH fallback) */
	bool caller_is_main;
	const char *ld_library_path;    /* NULL when unset or in AT_SECURE processes */
	bool secure;                    /* AT_SECURE: restricted $ORIGIN expansion */
	const char *platform;           /* AT_PLATFORM, for $PLATFORM when hwcaps is NULL
					 * or has no platform (hwcaps->platform wins) */
	const char *ld_so_cache;        /* path of the cache, normally "/etc/ld.so.cache" */
	const struct dlg_hwcaps *hwcaps;
	/* The l_loader chain above the caller, nearest first: for a DT_NEEDED
	 * search, the object that needed the caller, then the one that needed
	 * that, ... (a dlopen'ed object has none). Their DT_RPATHs are searched
	 * after the caller's. May be NULL. */
	const struct dlg_search_obj *const *rpath_chain;
	size_t n_rpath_chain;
	/* When set and true for a candidate's fstat, a file with exactly this
	 * fingerprint (dev, ino, size, mtime, ctime) passed the ELF header check
	 * before, so its header is not read again. May be NULL. */
	bool (*header_known)(const struct stat *st);
};

/* The result of a search: an open descriptor on the very file that would be
 * loaded, and the path string ld.so would record as the object's name. */
struct dlg_found {
	int fd;                 /* O_RDONLY|O_CLOEXEC|O_NONBLOCK; caller closes */
	struct stat st;         /* fstat of fd */
	char path[PATH_MAX];    /* the path as ld.so would spell it (not canonical) */
};

enum dlg_resolve_rc {
	DLG_RESOLVE_FOUND = 0,
	DLG_RESOLVE_NOT_FOUND = 1,  /* no candidate: ld.so fails with "cannot open shared object file" */
	DLG_RESOLVE_BAD = 2,        /* a candidate was found but ld.so would fail on it (not ELF, a
				     * directory, DST not allowed, name too long...) */
};

/* For a name with a slash: expands DSTs ($ORIGIN, $LIB, $PLATFORM) against the
 * caller and opens that file. For a bare name: caller's DT_RPATH chain (when it
 * has no DT_RUNPATH) then the main program's DT_RPATH, LD_LIBRARY_PATH, the
 * caller's DT_RUNPATH, /etc/ld.so.cache, the default directories; each
 * directory with its hwcaps subdirectories; candidates of another ELF class or
 * machine are skipped as ld.so skips them. err explains anything but FOUND.
 * Never blocks (O_NONBLOCK) and never follows more than the kernel allows.
 * A NULL or empty name (the main program) is NOT_FOUND: nothing to search.
 * errno is preserved. out->path is set for FOUND and BAD, "" otherwise. */
enum dlg_resolve_rc dlg_resolve(const struct dlg_search_ctx *ctx, const char *name,
				struct dlg_found *out, char *err, size_t errlen);

/* Looks a bare name up in an ld.so.cache file (format glibc-ld.so.cache1.1),
 * choosing among glibc-hwcaps entries as ld.so does. Writes the path and
 * returns 0, or -1 when absent or the cache is unusable. Exposed for tests. */
int dlg_ldcache_lookup(const char *cache_path, const struct dlg_hwcaps *h,
		       const char *name, char *out, size_t outlen);

/* The same on cache bytes the caller holds (len exactly), so that a fuzzer
 * under ASan sees any read past them, which a file mapping would hide.
 * CLI and tests only: not in the preload. */
int dlg_ldcache_lookup_mem(const void *buf, size_t len, const struct dlg_hwcaps *h,
			   const char *name, char *out, size_t outlen);

/* Calls cb with the path of every entry of an ld.so.cache file that ld.so
 * (x86-64, libc6) may use, glibc-hwcaps subdirectories included, in the
 * file's order; the same path may come more than once. Stops at the first
 * non-zero return of cb, and returns it; else 0 once all were seen, or -1
 * when the file is missing or unusable or an entry's path lies outside it
 * (cb may have been called for the entries before). CLI only: not in the
 * preload. */
int dlg_ldcache_each(const char *cache_path, int (*cb)(const char *path, void *ctx), void *ctx);

/* Expands $ORIGIN/${ORIGIN}, $LIB/${LIB}, $PLATFORM/${PLATFORM} in one search
 * path element or slash name. Returns 0, or -1 when the result would not fit,
 * when a DST cannot be expanded (unknown origin) or is refused (secure mode),
 * in which case ld.so drops the element; errno is then ENAMETOOLONG or
 * ENOENT. Exposed for tests. */
int dlg_expand_dst(const struct dlg_search_ctx *ctx, const struct dlg_search_obj *obj,
		   const char *in, size_t inlen, char *out, size_t outlen);

#endif
