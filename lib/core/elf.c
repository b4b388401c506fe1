/* Bounds-checked ELF reader. The header check mirrors glibc 2.36's
 * open_verify (elf/dl-load.c, with Debian's unsubmitted-ldso-machine-mismatch
 * patch); the dynamic section is found the way _dl_map_object_from_fd and
 * elf_get_dynamic_info find it: through PT_DYNAMIC's p_vaddr as mapped by the
 * PT_LOAD segments, because that, not p_offset, is what ld.so reads.
 * Only pread() is used, into fixed buffers; the one allocation is the copy
 * of the strings handed back. Runs inside the preload: no stdio, no exit. */
#include "elf.h"

#include "errstr.h"

#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* glibc's LIBC_ABI_MAX for x86_64-linux (libc-abis: DEFAULT, UNIQUE, IFUNC,
 * ABSOLUTE): the highest EI_ABIVERSION accepted with ELFOSABI_GNU is 3. */
#define LIBC_ABI_MAX 4

/* Refuse absurd files rather than reading them for ever. A real .dynamic
 * has fewer than a hundred entries and a real string total a few KiB. */
#define MAX_DYN_ENTRIES 65536u
#define MAX_STRBUF (1u << 20)
#define PHDR_CHUNK 32
#define DYN_CHUNK 64
#define SCAN_CHUNK 256

/* pread until len bytes, EOF or an error; returns bytes read, -1 on an
 * error before any byte. errno is 0 after a short read at EOF. */
static ssize_t pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;

	if (off > (uint64_t)INT64_MAX) {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return got ? (ssize_t)got : -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* True when [off, off+len) lies inside a file of 'size' bytes. */
static bool in_file(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

/* ------------------------------------------------------------------ */
/* Header check: open_verify.                                          */

static enum dlg_elf_hdr check_ident(const Elf64_Ehdr *eh, char *err, size_t errlen)
{
	static const unsigned char magic[SELFMAG] = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3 };
	const unsigned char *id = eh->e_ident;
	unsigned osabi = id[EI_OSABI], abiv = id[EI_ABIVERSION];
	bool ok_abiv = abiv == 0 || (osabi == ELFOSABI_GNU && abiv < LIBC_ABI_MAX);
	bool ok_pad = true;

	for (int i = EI_PAD; i < EI_NIDENT; i++)
		ok_pad = ok_pad && id[i] == 0;
	/* VALID_ELF_HEADER (sysdeps/gnu/ldsodefs.h): bytes 0..7 equal the
	 * expected ident with OSABI SYSV or GNU. */
	if (memcmp(id, magic, SELFMAG) == 0 && id[EI_CLASS] == ELFCLASS64 &&
	    id[EI_DATA] == ELFDATA2LSB && id[EI_VERSION] == EV_CURRENT &&
	    (osabi == ELFOSABI_SYSV || osabi == ELFOSABI_GNU) && ok_abiv && ok_pad)
		return DLG_ELF_OK;

	/* "Something is wrong": the same order of diagnoses as open_verify. */
	if (memcmp(id, magic, SELFMAG) != 0) {
		dlg_seterr(err, errlen, "invalid ELF header");
		return DLG_ELF_BAD;
	}
	if (id[EI_CLASS] != ELFCLASS64) {
		if (id[EI_CLASS] == ELFCLASS32)
			dlg_seterr(err, errlen, "wrong ELF class: ELFCLASS32");
		else
			dlg_seterr(err, errlen, "wrong ELF class: %u", (unsigned)id[EI_CLASS]);
		return DLG_ELF_OTHER_ARCH;
	}
	/* Debian's unsubmitted-ldso-machine-mismatch.diff: e_machine is
	 * tested (as little-endian) before the byte order, so most
	 * big-endian objects are skipped rather than fatal. */
	if (eh->e_machine != EM_X86_64) {
		dlg_seterr(err, errlen, "wrong machine: e_machine %u%s", (unsigned)eh->e_machine,
		       id[EI_DATA] == ELFDATA2MSB ? " (big-endian object)" : "");
		return DLG_ELF_OTHER_ARCH;
	}
	if (id[EI_DATA] != ELFDATA2LSB)
		dlg_seterr(err, errlen, "ELF file data encoding not little-endian");
	else if (id[EI_VERSION] != EV_CURRENT)
		dlg_seterr(err, errlen, "ELF file version ident does not match current one");
	else if (osabi != ELFOSABI_SYSV && osabi != ELFOSABI_GNU)
		dlg_seterr(err, errlen, "ELF file OS ABI invalid");
	else if (!ok_abiv)
		dlg_seterr(err, errlen, "ELF file ABI version invalid");
	else
		dlg_seterr(err, errlen, "nonzero padding in e_ident");
	return DLG_ELF_BAD;
}

enum dlg_elf_hdr dlg_elf_check_header(int fd, const struct stat *known, char *err,
				      size_t errlen)
{
	Elf64_Ehdr eh;
	struct stat st;
	ssize_t n;
	enum dlg_elf_hdr rc;
	uint64_t maplen;

	n = pread_full(fd, &eh, sizeof eh, 0);
	if (n < (ssize_t)sizeof eh) {
		if (n < 0 || errno != 0)
			dlg_seterr(err, errlen, "cannot read file data: %s", dlg_strerror(errno));
		else
			dlg_seterr(err, errlen, "file too short");
		return DLG_ELF_BAD;
	}
	rc = check_ident(&eh, err, errlen);
	if (rc != DLG_ELF_OK)
		return rc;
	if (eh.e_version != EV_CURRENT) {
		dlg_seterr(err, errlen, "ELF file version does not match current one");
		return DLG_ELF_BAD;
	}
	if (eh.e_machine != EM_X86_64) {
		dlg_seterr(err, errlen, "wrong machine: e_machine %u", (unsigned)eh.e_machine);
		return DLG_ELF_OTHER_ARCH;
	}
	if (eh.e_type != ET_DYN && eh.e_type != ET_EXEC) {
		dlg_seterr(err, errlen, "only ET_DYN and ET_EXEC can be loaded");
		return DLG_ELF_BAD;
	}
	if (eh.e_phentsize != sizeof(Elf64_Phdr)) {
		dlg_seterr(err, errlen, "ELF file's phentsize not the expected size");
		return DLG_ELF_BAD;
	}
	/* open_verify preads the program headers: they must be in the file. */
	maplen = (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr);
	if (known)
		st = *known;
	else if (fstat(fd, &st) != 0) {
		dlg_seterr(err, errlen, "cannot read file data: %s", dlg_strerror(errno));
		return DLG_ELF_BAD;
	}
	if (!in_file(eh.e_phoff, maplen, (uint64_t)st.st_size)) {
		dlg_seterr(err, errlen, "cannot read file data (program headers outside the file)");
		return DLG_ELF_BAD;
	}
	/* open_verify accepts ET_EXEC, but _dl_map_object_from_fd then fails
	 * for any dlopen: the search stops here and the load fails. */
	if (eh.e_type == ET_EXEC) {
		dlg_seterr(err, errlen, "cannot dynamically load executable");
		return DLG_ELF_BAD;
	}
	return DLG_ELF_OK;
}

/* ------------------------------------------------------------------ */
/* Dynamic section.                                                    */

/* Reads program header i (chunked through this cache). */
struct phdr_cursor {
	Elf64_Phdr buf[PHDR_CHUNK];
	unsigned first, count;
};

struct image {
	int fd;
	uint64_t size;          /* file size */
	uint64_t phoff;
	unsigned phnum;
	struct phdr_cursor phdrs;  /* kept across lookups: one pread for most objects */
};

static int phdr_get(const struct image *im, struct phdr_cursor *c, unsigned i,
		    Elf64_Phdr *out)
{
	if (i < c->first || i >= c->first + c->count) {
		unsigned want = im->phnum - i < PHDR_CHUNK ? im->phnum - i : PHDR_CHUNK;
		size_t len = (size_t)want * sizeof(Elf64_Phdr);

		if (pread_full(im->fd, c->buf, len, im->phoff + (uint64_t)i * sizeof(Elf64_Phdr)) !=
		    (ssize_t)len)
			return -1;
		c->first = i;
		c->count = want;
	}
	*out = c->buf[i - c->first];
	return 0;
}

/* Maps [vaddr, vaddr+len) to a file offset through the last PT_LOAD whose
 * file-backed part holds vaddr (ld.so maps segments in order, so a later one
 * wins). The whole range must be file-backed in that segment and in the
 * file; *avail gets how many bytes from vaddr are file-backed there. */
static int vaddr_to_off(struct image *im, uint64_t vaddr, uint64_t len,
			uint64_t *off, uint64_t *avail)
{
	bool found = false;
	Elf64_Phdr ph;

	for (unsigned i = 0; i < im->phnum; i++) {
		if (phdr_get(im, &im->phdrs, i, &ph) != 0)
			return -1;
		if (ph.p_type != PT_LOAD || vaddr < ph.p_vaddr || vaddr - ph.p_vaddr >= ph.p_filesz)
			continue;
		*off = ph.p_offset + (vaddr - ph.p_vaddr);
		*avail = ph.p_filesz - (vaddr - ph.p_vaddr);
		if (*off < ph.p_offset)
			return -1;  /* wrapped */
		found = true;
	}
	if (!found || len > *avail || !in_file(*off, len, im->size))
		return -1;
	if (*avail > im->size - *off)
		*avail = im->size - *off;
	return 0;
}

/* What the walk over the dynamic entries collects; string offsets are
 * relative to DT_STRTAB. Last occurrence wins, as in elf_get_dynamic_info. */
struct dyn_raw {
	uint64_t strtab, strsz;
	bool has_strtab, has_strsz;
	uint64_t soname, rpath, runpath;
	bool has_soname, has_rpath, has_runpath;
	uint64_t needed[DLG_ELF_MAX_NEEDED];
	size_t n_needed;
	uint64_t flags_1;
};

static int load_ident(const struct image *im, Elf64_Ehdr *eh, char *err, size_t errlen)
{
	static const unsigned char magic[SELFMAG] = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3 };

	if (pread_full(im->fd, eh, sizeof *eh, 0) != (ssize_t)sizeof *eh) {
		/* A 32-bit header is shorter than ours: say what it is. */
		unsigned char id[EI_NIDENT] = { 0 };

		if (pread_full(im->fd, id, sizeof id, 0) >= EI_DATA + 1 &&
		    memcmp(id, magic, SELFMAG) == 0 && id[EI_CLASS] == ELFCLASS32)
			dlg_seterr(err, errlen, "ELFCLASS32 object: not supported");
		else
			dlg_seterr(err, errlen, "file too short for an ELF header");
		return -1;
	}
	if (memcmp(eh->e_ident, magic, SELFMAG) != 0) {
		dlg_seterr(err, errlen, "not an ELF file");
		return -1;
	}
	if (eh->e_ident[EI_CLASS] == ELFCLASS32) {
		dlg_seterr(err, errlen, "ELFCLASS32 object: not supported");
		return -1;
	}
	if (eh->e_ident[EI_CLASS] != ELFCLASS64) {
		dlg_seterr(err, errlen, "unknown ELF class %u", (unsigned)eh->e_ident[EI_CLASS]);
		return -1;
	}
	if (eh->e_ident[EI_DATA] == ELFDATA2MSB) {
		dlg_seterr(err, errlen, "big-endian object: not supported");
		return -1;
	}
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB) {
		dlg_seterr(err, errlen, "unknown ELF data encoding %u", (unsigned)eh->e_ident[EI_DATA]);
		return -1;
	}
	return 0;
}

static int load_phdrs(struct image *im, const Elf64_Ehdr *eh, uint64_t *dyn_vaddr,
		      char *err, size_t errlen)
{
	struct phdr_cursor *c = &im->phdrs;
	bool have_dyn = false;
	Elf64_Phdr ph;

	if (eh->e_phentsize != sizeof(Elf64_Phdr)) {
		dlg_seterr(err, errlen, "unexpected e_phentsize %u", (unsigned)eh->e_phentsize);
		return -1;
	}
	im->phoff = eh->e_phoff;
	im->phnum = eh->e_phnum;
	if (im->phnum == 0) {
		dlg_seterr(err, errlen, "no program headers");
		return -1;
	}
	if (!in_file(im->phoff, (uint64_t)im->phnum * sizeof(Elf64_Phdr), im->size)) {
		dlg_seterr(err, errlen, "program headers outside the file");
		return -1;
	}
	for (unsigned i = 0; i < im->phnum; i++) {
		if (phdr_get(im, c, i, &ph) != 0) {
			dlg_seterr(err, errlen, "cannot read program headers");
			return -1;
		}
		/* _dl_map_object_from_fd refuses such a segment. */
		if (ph.p_type == PT_LOAD && ((ph.p_vaddr - ph.p_offset) & 4095) != 0) {
			dlg_seterr(err, errlen, "ELF load command address/offset not page-aligned");
			return -1;
		}
		/* p_filesz == 0 is a debuginfo stub: ld.so skips it. */
		if (ph.p_type == PT_DYNAMIC && ph.p_filesz != 0) {
			*dyn_vaddr = ph.p_vaddr;
			have_dyn = true;
		}
	}
	if (!have_dyn) {
		dlg_seterr(err, errlen, "object file has no dynamic section");
		return -1;
	}
	return 0;
}

static int note_entry(struct dyn_raw *r, const Elf64_Dyn *d, char *err, size_t errlen)
{
	switch (d->d_tag) {
	case DT_NEEDED:
		if (r->n_needed == DLG_ELF_MAX_NEEDED) {
			dlg_seterr(err, errlen, "more than %d DT_NEEDED entries", DLG_ELF_MAX_NEEDED);
			return -1;
		}
		r->needed[r->n_needed++] = d->d_un.d_val;
		break;
	case DT_STRTAB:
		r->strtab = d->d_un.d_ptr;
		r->has_strtab = true;
		break;
	case DT_STRSZ:
		r->strsz = d->d_un.d_val;
		r->has_strsz = true;
		break;
	case DT_SONAME:
		r->soname = d->d_un.d_val;
		r->has_soname = true;
		break;
	case DT_RPATH:
		r->rpath = d->d_un.d_val;
		r->has_rpath = true;
		break;
	case DT_RUNPATH:
		r->runpath = d->d_un.d_val;
		r->has_runpath = true;
		break;
	case DT_FLAGS_1:
		r->flags_1 = d->d_un.d_val;
		break;
	default:
		break;
	}
	return 0;
}

/* Walks the dynamic entries up to DT_NULL, which must come before the end
 * of the file-backed data (ld.so would read on into memory). */
static int walk_dynamic(struct image *im, uint64_t dyn_vaddr, struct dyn_raw *r,
			char *err, size_t errlen)
{
	Elf64_Dyn buf[DYN_CHUNK];
	uint64_t off, avail, count;

	if (vaddr_to_off(im, dyn_vaddr, sizeof(Elf64_Dyn), &off, &avail) != 0) {
		dlg_seterr(err, errlen, "dynamic section not inside a loaded segment of the file");
		return -1;
	}
	count = avail / sizeof(Elf64_Dyn);
	if (count > MAX_DYN_ENTRIES)
		count = MAX_DYN_ENTRIES;
	for (uint64_t i = 0; i < count; i += DYN_CHUNK) {
		uint64_t want = count - i < DYN_CHUNK ? count - i : DYN_CHUNK;
		size_t len = (size_t)want * sizeof(Elf64_Dyn);

		if (pread_full(im->fd, buf, len, off + i * sizeof(Elf64_Dyn)) != (ssize_t)len) {
			dlg_seterr(err, errlen, "cannot read dynamic section");
			return -1;
		}
		for (uint64_t j = 0; j < want; j++) {
			if (buf[j].d_tag == DT_NULL)
				return 0;
			if (note_entry(r, &buf[j], err, errlen) != 0)
				return -1;
		}
	}
	dlg_seterr(err, errlen, "dynamic section not terminated by DT_NULL");
	return -1;
}

/* Length of the string at strtab offset 'so' (without its NUL), which must
 * end inside DT_STRSZ; -1 when it does not. */
static int64_t string_len(const struct image *im, uint64_t stroff, uint64_t strsz, uint64_t so)
{
	char chunk[SCAN_CHUNK];
	uint64_t pos = 0, limit;

	if (so >= strsz)
		return -1;
	limit = strsz - so;
	if (limit > MAX_STRBUF)
		limit = MAX_STRBUF;
	while (pos < limit) {
		size_t want = limit - pos < SCAN_CHUNK ? (size_t)(limit - pos) : SCAN_CHUNK;
		const char *nul;

		if (pread_full(im->fd, chunk, want, stroff + so + pos) != (ssize_t)want)
			return -1;
		nul = memchr(chunk, '\0', want);
		if (nul)
			return (int64_t)(pos + (uint64_t)(nul - chunk));
		pos += want;
	}
	return -1;
}

/* The strings wanted, in the order they are laid out in strbuf. */
struct want {
	uint64_t off;
	const char **dst;
	int64_t len;
};

/* A string table up to this size is read with one pread instead of two per
 * string: a dlopen costs fewer system calls. */
#define WHOLE_STRTAB_MAX (64u * 1024)

static int copy_from_table(struct image *im, const struct dyn_raw *r, uint64_t stroff,
			   struct want *w, size_t n, struct dlg_elf_dyn *out, char *err,
			   size_t errlen);

/* Lengths of the wanted strings from a copy of the whole table. */
static int lengths_from_table(const char *tab, uint64_t strsz, struct want *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *nul;
		uint64_t limit;

		if (w[i].off >= strsz)
			return -1;
		limit = strsz - w[i].off;
		if (limit > MAX_STRBUF)
			limit = MAX_STRBUF;
		nul = memchr(tab + w[i].off, '\0', (size_t)limit);
		if (!nul)
			return -1;
		w[i].len = nul - (tab + w[i].off);
	}
	return 0;
}

static int copy_strings(struct image *im, const struct dyn_raw *r, struct dlg_elf_dyn *out,
			char *err, size_t errlen)
{
	struct want w[DLG_ELF_MAX_NEEDED + 3];
	size_t n = 0, total = 0, pos = 0;
	uint64_t stroff, avail;

	out->n_needed = r->n_needed;
	out->flags_1 = (unsigned)r->flags_1;
	if (!r->has_soname && !r->has_rpath && !r->has_runpath && r->n_needed == 0)
		return 0;  /* no string wanted, no string table needed */
	if (!r->has_strtab || !r->has_strsz) {
		dlg_seterr(err, errlen, "dynamic section lacks DT_STRTAB or DT_STRSZ");
		return -1;
	}
	if (r->strsz == 0 ||
	    vaddr_to_off(im, r->strtab, r->strsz, &stroff, &avail) != 0) {
		dlg_seterr(err, errlen, "string table not inside a loaded segment of the file");
		return -1;
	}
	if (r->has_soname)
		w[n++] = (struct want){ r->soname, &out->soname, 0 };
	if (r->has_rpath)
		w[n++] = (struct want){ r->rpath, &out->rpath, 0 };
	if (r->has_runpath)
		w[n++] = (struct want){ r->runpath, &out->runpath, 0 };
	for (size_t i = 0; i < r->n_needed; i++)
		w[n++] = (struct want){ r->needed[i], &out->needed[i], 0 };
	if (r->strsz <= WHOLE_STRTAB_MAX)
		return copy_from_table(im, r, stroff, w, n, out, err, errlen);
	for (size_t i = 0; i < n; i++) {
		w[i].len = string_len(im, stroff, r->strsz, w[i].off);
		if (w[i].len < 0) {
			dlg_seterr(err, errlen, "string offset %llu outside DT_STRSZ or unterminated",
			       (unsigned long long)w[i].off);
			return -1;
		}
		total += (size_t)w[i].len + 1;
		if (total > MAX_STRBUF) {
			dlg_seterr(err, errlen, "dynamic strings larger than %u bytes", MAX_STRBUF);
			return -1;
		}
	}
	out->strbuf = malloc(total ? total : 1);
	if (!out->strbuf) {
		dlg_seterr(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		size_t len = (size_t)w[i].len + 1;

		if (pread_full(im->fd, out->strbuf + pos, len, stroff + w[i].off) != (ssize_t)len ||
		    out->strbuf[pos + len - 1] != '\0') {
			dlg_seterr(err, errlen, "string table changed while reading");
			return -1;
		}
		*w[i].dst = out->strbuf + pos;
		pos += len;
	}
	return 0;
}

/* The small-table path of copy_strings: one read of DT_STRSZ bytes. */
static int copy_from_table(struct image *im, const struct dyn_raw *r, uint64_t stroff,
			   struct want *w, size_t n, struct dlg_elf_dyn *out, char *err,
			   size_t errlen)
{
	char *tab = malloc(r->strsz);
	size_t total = 0, pos = 0;
	int rc = -1;

	if (!tab) {
		dlg_seterr(err, errlen, "out of memory");
		return -1;
	}
	if (pread_full(im->fd, tab, r->strsz, stroff) != (ssize_t)r->strsz) {
		dlg_seterr(err, errlen, "cannot read the string table");
		goto end;
	}
	if (lengths_from_table(tab, r->strsz, w, n) != 0) {
		dlg_seterr(err, errlen, "string offset outside DT_STRSZ or unterminated");
		goto end;
	}
	for (size_t i = 0; i < n; i++)
		total += (size_t)w[i].len + 1;
	if (total > MAX_STRBUF) {
		dlg_seterr(err, errlen, "dynamic strings larger than %u bytes", MAX_STRBUF);
		goto end;
	}
	out->strbuf = malloc(total ? total : 1);
	if (!out->strbuf) {
		dlg_seterr(err, errlen, "out of memory");
		goto end;
	}
	for (size_t i = 0; i < n; i++) {
		memcpy(out->strbuf + pos, tab + w[i].off, (size_t)w[i].len + 1);
		*w[i].dst = out->strbuf + pos;
		pos += (size_t)w[i].len + 1;
	}
	rc = 0;
end:
	free(tab);
	return rc;
}

int dlg_elf_read_dynamic(int fd, struct dlg_elf_dyn *out, char *err, size_t errlen)
{
	struct image im = { .fd = fd };
	struct dyn_raw r = { .n_needed = 0 };
	struct stat st;
	Elf64_Ehdr eh;
	uint64_t dyn_vaddr = 0;

	memset(out, 0, sizeof *out);
	if (fstat(fd, &st) != 0) {
		dlg_seterr(err, errlen, "fstat: %s", dlg_strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		dlg_seterr(err, errlen, "not a regular file");
		return -1;
	}
	im.size = (uint64_t)st.st_size;
	if (load_ident(&im, &eh, err, errlen) != 0 ||
	    load_phdrs(&im, &eh, &dyn_vaddr, err, errlen) != 0 ||
	    walk_dynamic(&im, dyn_vaddr, &r, err, errlen) != 0 ||
	    copy_strings(&im, &r, out, err, errlen) != 0) {
		dlg_elf_dyn_free(out);
		return -1;
	}
	return 0;
}

void dlg_elf_dyn_free(struct dlg_elf_dyn *d)
{
	if (!d)
		return;
	free(d->strbuf);
	/* needed[] past n_needed is never read: clearing all 2 KB of it would
	 * be most of the cost of a cached dlopen's copy. */
	memset(d->needed, 0, (d->n_needed < DLG_ELF_MAX_NEEDED ? d->n_needed : DLG_ELF_MAX_NEEDED) *
				     sizeof d->needed[0]);
	d->soname = d->rpath = d->runpath = NULL;
	d->n_needed = 0;
	d->flags_1 = 0;
	d->strbuf = NULL;
}

/* is_dst (elf/dl-load.c): REF follows the '$' (optionally in braces) and
 * is not followed by an identifier character. Returns the length consumed
 * after the '$', 0 when this is not that DST. */
static size_t is_dst(const char *in, const char *ref)
{
	bool curly = in[0] == '{';
	size_t rlen = strlen(ref);
	char c;

	if (curly)
		in++;
	if (strncmp(in, ref, rlen) != 0)
		return 0;
	c = in[rlen];
	if (curly && c != '}')
		return 0;
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')
		return 0;
	return curly ? rlen + 2 : rlen;
}

int dlg_elf_uses_origin(const char *searchpath)
{
	if (!searchpath)
		return 0;
	for (const char *p = strchr(searchpath, '$'); p; p = strchr(p + 1, '$'))
		if (is_dst(p + 1, "ORIGIN"))
			return 1;
	return 0;
}
