/* Unit tests for lib/core/elf.c: real fixture objects built by CMake
 * (fixtures.cmake), mutated copies of them, and synthetic ELF images. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf.h"

#define FIXDIR DLG_TEST_BINDIR "/fixtures"

static char tmpdir[64];

/* ------------------------------------------------------------------ */
/* helpers                                                             */

struct blob {
	unsigned char *data;
	size_t size;
};

static struct blob slurp(const char *path)
{
	struct blob b = { NULL, 0 };
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	b.size = (size_t)st.st_size;
	b.data = malloc(b.size ? b.size : 1);
	assert_non_null(b.data);
	assert_int_equal(pread(fd, b.data, b.size, 0), (ssize_t)b.size);
	close(fd);
	return b;
}

/* Writes bytes to a fresh temp file and returns it opened read-only. */
static int file_with(const void *data, size_t len)
{
	char path[PATH_MAX];
	static unsigned seq;
	int fd;

	snprintf(path, sizeof path, "%s/f%u", tmpdir, seq++);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	if (len)
		assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	unlink(path);
	return fd;
}

static enum dlg_elf_hdr check_bytes(const void *data, size_t len, char *err, size_t errlen)
{
	int fd = file_with(data, len);
	enum dlg_elf_hdr rc = dlg_elf_check_header(fd, NULL, err, errlen);

	close(fd);
	return rc;
}

static int read_bytes(const void *data, size_t len, struct dlg_elf_dyn *d, char *err,
		      size_t errlen)
{
	int fd = file_with(data, len);
	int rc = dlg_elf_read_dynamic(fd, d, err, errlen);

	close(fd);
	return rc;
}

static int open_fixture(const char *name)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof path, "%s/%s", FIXDIR, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail_msg("fixture %s missing: %s", path, strerror(errno));
	return fd;
}

static struct blob fixture_blob(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof path, "%s/%s", FIXDIR, name);
	return slurp(path);
}

/* Locates things in a (trusted) fixture image for patching. */
static Elf64_Phdr *phdr_of(struct blob *b, uint32_t type)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)b->data;

	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr *ph = (Elf64_Phdr *)(b->data + eh->e_phoff + i * sizeof *ph);

		if (ph->p_type == type)
			return ph;
	}
	fail_msg("no phdr of type %u", type);
	return NULL;
}

static Elf64_Dyn *dyn_of(struct blob *b, int64_t tag)
{
	Elf64_Phdr *ph = phdr_of(b, PT_DYNAMIC);

	for (Elf64_Dyn *d = (Elf64_Dyn *)(b->data + ph->p_offset); d->d_tag != DT_NULL; d++)
		if (d->d_tag == tag)
			return d;
	fail_msg("no dynamic tag %lld", (long long)tag);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* synthetic images: one PT_LOAD over the whole file at vaddr 0, then a
 * PT_DYNAMIC; the dynamic entries at DYN_OFF, the strings at STR_OFF.   */

#define SYN_SIZE 16384
#define DYN_OFF 0x200
#define STR_OFF 0x2000

struct synth {
	unsigned char buf[SYN_SIZE];
	size_t ndyn, strlen_;
	unsigned nph;
};

static Elf64_Phdr *syn_ph(struct synth *s, unsigned i)
{
	return (Elf64_Phdr *)(s->buf + sizeof(Elf64_Ehdr) + i * sizeof(Elf64_Phdr));
}

static Elf64_Ehdr *syn_eh(struct synth *s)
{
	return (Elf64_Ehdr *)s->buf;
}

static void syn_init(struct synth *s)
{
	Elf64_Ehdr *eh = syn_eh(s);
	Elf64_Phdr *ph;

	memset(s, 0, sizeof *s);
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_DYN;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = sizeof(Elf64_Ehdr);
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	s->nph = 2;
	eh->e_phnum = 2;
	ph = syn_ph(s, 0);
	ph->p_type = PT_LOAD;
	ph->p_filesz = ph->p_memsz = SYN_SIZE;
	ph = syn_ph(s, 1);
	ph->p_type = PT_DYNAMIC;
	ph->p_offset = ph->p_vaddr = DYN_OFF;
	s->buf[STR_OFF] = '\0';  /* offset 0 is the empty string */
	s->strlen_ = 1;
}

static uint64_t syn_str(struct synth *s, const char *str)
{
	uint64_t off = s->strlen_;
	size_t len = strlen(str) + 1;

	assert_true(STR_OFF + s->strlen_ + len <= SYN_SIZE);
	memcpy(s->buf + STR_OFF + s->strlen_, str, len);
	s->strlen_ += len;
	return off;
}

static void syn_dyn(struct synth *s, int64_t tag, uint64_t val)
{
	Elf64_Dyn *d = (Elf64_Dyn *)(s->buf + DYN_OFF) + s->ndyn++;

	assert_true(DYN_OFF + s->ndyn * sizeof *d <= STR_OFF);
	d->d_tag = tag;
	d->d_un.d_val = val;
	syn_ph(s, 1)->p_filesz = syn_ph(s, 1)->p_memsz = s->ndyn * sizeof *d;
}

/* DT_STRTAB, DT_STRSZ and the terminating DT_NULL. */
static void syn_close(struct synth *s)
{
	syn_dyn(s, DT_STRTAB, STR_OFF);
	syn_dyn(s, DT_STRSZ, s->strlen_);
	syn_dyn(s, DT_NULL, 0);
}

static int syn_read(struct synth *s, struct dlg_elf_dyn *d, char *err, size_t errlen)
{
	return read_bytes(s->buf, SYN_SIZE, d, err, errlen);
}

/* ------------------------------------------------------------------ */
/* real fixtures                                                       */

static void test_fixture_plain(void **state)
{
	struct dlg_elf_dyn d;
	char err[256] = "";
	int fd = open_fixture("libdlgfx_plain.so");
	off_t before = lseek(fd, 0, SEEK_CUR);

	(void)state;
	assert_int_equal(dlg_elf_check_header(fd, NULL, err, sizeof err), DLG_ELF_OK);
	{
		/* the caller's fstat is used instead of a new one: a size that
		 * cannot hold the program headers says so */
		struct stat st;

		assert_int_equal(fstat(fd, &st), 0);
		assert_int_equal(dlg_elf_check_header(fd, &st, err, sizeof err), DLG_ELF_OK);
		st.st_size = 64;
		assert_int_equal(dlg_elf_check_header(fd, &st, err, sizeof err), DLG_ELF_BAD);
		assert_non_null(strstr(err, "program headers outside the file"));
	}
	assert_int_equal(dlg_elf_read_dynamic(fd, &d, err, sizeof err), 0);
	assert_string_equal(d.soname, "libdlgfx_plain.so.1");
	assert_int_equal(d.n_needed, 2);
	assert_string_equal(d.needed[0], "libm.so.6");
	assert_string_equal(d.needed[1], "libc.so.6");
	assert_null(d.rpath);
	assert_null(d.runpath);
	assert_int_equal(d.flags_1 & DF_1_NODEFLIB, 0);
	/* pread only: the descriptor's offset is untouched */
	assert_int_equal(lseek(fd, 0, SEEK_CUR), before);
	dlg_elf_dyn_free(&d);
	assert_null(d.strbuf);
	dlg_elf_dyn_free(&d);  /* twice is harmless */
	close(fd);
}

static void test_fixture_paths(void **state)
{
	static const struct {
		const char *file, *rpath, *runpath;
		unsigned flags_1;
	} t[] = {
		{ "libdlgfx_rpath.so", "/nonexistent/dlgfx:$ORIGIN/../rp", NULL, 0 },
		{ "libdlgfx_runpath.so", NULL, "/nonexistent/dlgfx:$ORIGIN/../rp", 0 },
		{ "libdlgfx_nodeflib.so", NULL, NULL, DF_1_NODEFLIB },
		{ "dlgfx_host_plain", NULL, NULL, DF_1_PIE },
		{ "dlgfx_host_rpath", "$ORIGIN/rp", NULL, DF_1_PIE },
		{ "dlgfx_host_runpath", NULL, "$ORIGIN/rp", DF_1_PIE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct dlg_elf_dyn d;
		char err[256] = "";
		int fd = open_fixture(t[i].file);

		assert_int_equal(dlg_elf_check_header(fd, NULL, err, sizeof err), DLG_ELF_OK);
		if (dlg_elf_read_dynamic(fd, &d, err, sizeof err) != 0)
			fail_msg("%s: %s", t[i].file, err);
		if (t[i].rpath)
			assert_string_equal(d.rpath, t[i].rpath);
		else
			assert_null(d.rpath);
		if (t[i].runpath)
			assert_string_equal(d.runpath, t[i].runpath);
		else
			assert_null(d.runpath);
		assert_int_equal(d.flags_1 & t[i].flags_1, t[i].flags_1);
		assert_true(d.n_needed >= 1);
		assert_string_equal(d.needed[d.n_needed - 1], "libc.so.6");
		dlg_elf_dyn_free(&d);
		close(fd);
	}
}

static void test_system_libc(void **state)
{
	struct dlg_elf_dyn d;
	char err[256] = "";
	int fd = open("/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY | O_CLOEXEC);
	bool has_ld = false;

	(void)state;
	if (fd < 0)
		skip();
	assert_int_equal(dlg_elf_check_header(fd, NULL, err, sizeof err), DLG_ELF_OK);
	assert_int_equal(dlg_elf_read_dynamic(fd, &d, err, sizeof err), 0);
	assert_string_equal(d.soname, "libc.so.6");
	for (size_t i = 0; i < d.n_needed; i++)
		has_ld = has_ld || strcmp(d.needed[i], "ld-linux-x86-64.so.2") == 0;
	assert_true(has_ld);
	dlg_elf_dyn_free(&d);
	close(fd);
}

/* ------------------------------------------------------------------ */
/* header checks: open_verify's verdicts on one-field mutations         */

static void test_header_table(void **state)
{
	static const struct {
		const char *what;
		size_t off;
		unsigned char v[2];
		size_t n;
		enum dlg_elf_hdr want;
		const char *msg;
	} t[] = {
		{ "unchanged", 0, { 0x7f }, 1, DLG_ELF_OK, NULL },
		{ "bad magic", 1, { 'X' }, 1, DLG_ELF_BAD, "invalid ELF header" },
		{ "class 32", EI_CLASS, { ELFCLASS32 }, 1, DLG_ELF_OTHER_ARCH, "ELFCLASS32" },
		{ "class none", EI_CLASS, { 0 }, 1, DLG_ELF_OTHER_ARCH, "wrong ELF class" },
		{ "class 3", EI_CLASS, { 3 }, 1, DLG_ELF_OTHER_ARCH, "wrong ELF class" },
		{ "big-endian", EI_DATA, { ELFDATA2MSB }, 1, DLG_ELF_BAD, "not little-endian" },
		{ "data none", EI_DATA, { 0 }, 1, DLG_ELF_BAD, "not little-endian" },
		{ "ident version", EI_VERSION, { 0 }, 1, DLG_ELF_BAD, "version ident" },
		{ "osabi gnu", EI_OSABI, { ELFOSABI_GNU }, 1, DLG_ELF_OK, NULL },
		{ "osabi freebsd", EI_OSABI, { ELFOSABI_FREEBSD }, 1, DLG_ELF_BAD, "OS ABI invalid" },
		{ "abiversion 1 sysv", EI_ABIVERSION, { 1 }, 1, DLG_ELF_BAD, "ABI version invalid" },
		{ "padding", EI_PAD, { 1 }, 1, DLG_ELF_BAD, "padding" },
		{ "padding last", EI_NIDENT - 1, { 1 }, 1, DLG_ELF_BAD, "padding" },
		{ "e_version 0", offsetof(Elf64_Ehdr, e_version), { 0 }, 1, DLG_ELF_BAD, "version does not match" },
		{ "machine aarch64", offsetof(Elf64_Ehdr, e_machine), { EM_AARCH64, 0 }, 2, DLG_ELF_OTHER_ARCH, "machine" },
		{ "machine i386", offsetof(Elf64_Ehdr, e_machine), { EM_386, 0 }, 2, DLG_ELF_OTHER_ARCH, "machine" },
		{ "ET_REL", offsetof(Elf64_Ehdr, e_type), { ET_REL, 0 }, 2, DLG_ELF_BAD, "only ET_DYN and ET_EXEC" },
		{ "ET_CORE", offsetof(Elf64_Ehdr, e_type), { ET_CORE, 0 }, 2, DLG_ELF_BAD, "only ET_DYN and ET_EXEC" },
		{ "ET_EXEC", offsetof(Elf64_Ehdr, e_type), { ET_EXEC, 0 }, 2, DLG_ELF_BAD, "cannot dynamically load executable" },
		{ "phentsize 32", offsetof(Elf64_Ehdr, e_phentsize), { 32, 0 }, 2, DLG_ELF_BAD, "phentsize" },
		{ "phentsize 57", offsetof(Elf64_Ehdr, e_phentsize), { 57, 0 }, 2, DLG_ELF_BAD, "phentsize" },
		{ "phnum 0xffff", offsetof(Elf64_Ehdr, e_phnum), { 0xff, 0xff }, 2, DLG_ELF_BAD, "cannot read file data" },
		{ "phoff high byte", offsetof(Elf64_Ehdr, e_phoff) + 7, { 0x80 }, 1, DLG_ELF_BAD, "cannot read file data" },
		{ "phoff past eof", offsetof(Elf64_Ehdr, e_phoff) + 3, { 0x7f }, 1, DLG_ELF_BAD, "cannot read file data" },
	};
	struct blob b = fixture_blob("libdlgfx_plain.so");

	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		unsigned char *copy = malloc(b.size);
		char err[256] = "";
		enum dlg_elf_hdr rc;

		assert_non_null(copy);
		memcpy(copy, b.data, b.size);
		memcpy(copy + t[i].off, t[i].v, t[i].n);
		rc = check_bytes(copy, b.size, err, sizeof err);
		if (rc != t[i].want)
			fail_msg("%s: got %d (%s), want %d", t[i].what, rc, err, t[i].want);
		if (t[i].msg && !strstr(err, t[i].msg))
			fail_msg("%s: message '%s' lacks '%s'", t[i].what, err, t[i].msg);
		free(copy);
	}
	free(b.data);
}

/* Debian's machine-mismatch patch: a foreign machine is skipped even when
 * other ident bytes are also wrong; with our machine, they are fatal. */
static void test_header_order(void **state)
{
	struct blob b = fixture_blob("libdlgfx_plain.so");
	Elf64_Ehdr *eh = (Elf64_Ehdr *)b.data;
	char err[256];

	(void)state;
	eh->e_ident[EI_OSABI] = 42;
	assert_int_equal(check_bytes(b.data, b.size, err, sizeof err), DLG_ELF_BAD);
	eh->e_machine = EM_AARCH64;
	assert_int_equal(check_bytes(b.data, b.size, err, sizeof err), DLG_ELF_OTHER_ARCH);
	/* big-endian object of another machine: e_machine as read LE is not ours */
	eh->e_ident[EI_OSABI] = 0;
	eh->e_ident[EI_DATA] = ELFDATA2MSB;
	eh->e_machine = (uint16_t)(EM_PPC64 << 8);
	assert_int_equal(check_bytes(b.data, b.size, err, sizeof err), DLG_ELF_OTHER_ARCH);
	/* but a wrong class wins over everything after the magic */
	eh->e_ident[EI_CLASS] = ELFCLASS32;
	eh->e_machine = EM_X86_64;
	assert_int_equal(check_bytes(b.data, b.size, err, sizeof err), DLG_ELF_OTHER_ARCH);
	assert_non_null(strstr(err, "ELFCLASS32"));
	/* ELFOSABI_GNU allows ABI versions below LIBC_ABI_MAX (4 on x86_64) */
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_OSABI] = ELFOSABI_GNU;
	eh->e_ident[EI_ABIVERSION] = 3;
	assert_int_equal(check_bytes(b.data, b.size, err, sizeof err), DLG_ELF_OK);
	eh->e_ident[EI_ABIVERSION] = 4;
	assert_int_equal(check_bytes(b.data, b.size, err, sizeof err), DLG_ELF_BAD);
	free(b.data);
}

static void test_odd_files(void **state)
{
	static const unsigned char elf32[52] = { 0x7f, 'E', 'L', 'F', ELFCLASS32, ELFDATA2LSB, 1 };
	unsigned char elf32_long[128] = { 0 };
	unsigned char be64[128] = { 0 };
	char text[200];
	struct dlg_elf_dyn d;
	char err[256];
	int fd;

	(void)state;
	memset(text, 'x', sizeof text);
	/* empty, short, not ELF */
	assert_int_equal(check_bytes("", 0, err, sizeof err), DLG_ELF_BAD);
	assert_string_equal(err, "file too short");
	assert_int_equal(read_bytes("", 0, &d, err, sizeof err), -1);
	assert_int_equal(check_bytes(text, 63, err, sizeof err), DLG_ELF_BAD);
	assert_string_equal(err, "file too short");
	assert_int_equal(check_bytes(text, sizeof text, err, sizeof err), DLG_ELF_BAD);
	assert_string_equal(err, "invalid ELF header");
	assert_int_equal(read_bytes(text, sizeof text, &d, err, sizeof err), -1);
	assert_non_null(strstr(err, "not an ELF"));
	/* a complete 32-bit header is 52 bytes: ld.so says "too short" */
	assert_int_equal(check_bytes(elf32, sizeof elf32, err, sizeof err), DLG_ELF_BAD);
	assert_int_equal(read_bytes(elf32, sizeof elf32, &d, err, sizeof err), -1);
	assert_non_null(strstr(err, "ELFCLASS32"));
	memcpy(elf32_long, elf32, sizeof elf32);
	assert_int_equal(check_bytes(elf32_long, sizeof elf32_long, err, sizeof err),
			 DLG_ELF_OTHER_ARCH);
	assert_int_equal(read_bytes(elf32_long, sizeof elf32_long, &d, err, sizeof err), -1);
	assert_non_null(strstr(err, "ELFCLASS32"));
	/* big-endian x86-64 (e_machine 62 stored big-endian) */
	memcpy(be64, ELFMAG, SELFMAG);
	be64[EI_CLASS] = ELFCLASS64;
	be64[EI_DATA] = ELFDATA2MSB;
	be64[EI_VERSION] = EV_CURRENT;
	be64[18] = 0;
	be64[19] = EM_X86_64;
	assert_int_equal(check_bytes(be64, sizeof be64, err, sizeof err), DLG_ELF_OTHER_ARCH);
	assert_int_equal(read_bytes(be64, sizeof be64, &d, err, sizeof err), -1);
	assert_non_null(strstr(err, "big-endian"));
	/* ... and one whose e_machine reads as ours little-endian */
	be64[18] = EM_X86_64;
	be64[19] = 0;
	assert_int_equal(check_bytes(be64, sizeof be64, err, sizeof err), DLG_ELF_BAD);
	assert_non_null(strstr(err, "not little-endian"));
	/* a directory */
	fd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(dlg_elf_check_header(fd, NULL, err, sizeof err), DLG_ELF_BAD);
	assert_non_null(strstr(err, "cannot read file data"));
	assert_int_equal(dlg_elf_read_dynamic(fd, &d, err, sizeof err), -1);
	close(fd);
	/* a closed descriptor */
	assert_int_equal(dlg_elf_check_header(-1, NULL, err, sizeof err), DLG_ELF_BAD);
	assert_int_equal(dlg_elf_read_dynamic(-1, &d, err, sizeof err), -1);
	assert_null(d.strbuf);
	/* no error buffer at all */
	assert_int_equal(check_bytes(text, sizeof text, NULL, 0), DLG_ELF_BAD);
	assert_int_equal(read_bytes(text, sizeof text, &d, NULL, 0), -1);
}

/* Every prefix of a real object: never a crash, and read_dynamic succeeds
 * exactly from some length on (all checks compare against the size). */
static void test_truncation_sweep(void **state)
{
	struct blob b = fixture_blob("libdlgfx_plain.so");
	char path[PATH_MAX], err[256];
	size_t first_ok = b.size + 1;
	int wfd, fd;

	(void)state;
	snprintf(path, sizeof path, "%s/trunc.so", tmpdir);
	wfd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(wfd >= 0);
	assert_int_equal(write(wfd, b.data, b.size), (ssize_t)b.size);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	for (size_t len = b.size + 1; len-- > 0;) {
		struct dlg_elf_dyn d;
		enum dlg_elf_hdr hr;
		int rc;

		assert_int_equal(ftruncate(wfd, (off_t)len), 0);
		hr = dlg_elf_check_header(fd, NULL, err, sizeof err);
		if (len < sizeof(Elf64_Ehdr))
			assert_int_equal(hr, DLG_ELF_BAD);
		rc = dlg_elf_read_dynamic(fd, &d, err, sizeof err);
		if (rc == 0) {
			assert_int_equal(first_ok, len + 1);  /* contiguous from the top */
			first_ok = len;
			assert_string_equal(d.soname, "libdlgfx_plain.so.1");
			dlg_elf_dyn_free(&d);
		} else {
			assert_null(d.strbuf);
		}
	}
	assert_true(first_ok < b.size);
	close(fd);
	close(wfd);
	unlink(path);
	free(b.data);
}

/* Structural damage to a real object, one at a time. */
static void test_corrupt_fixture(void **state)
{
	enum { PHOFF_EOF, PHNUM_HUGE, PHOFF_WRAP, DYN_OUTSIDE, DYN_NO_FILESZ, STRTAB_OUTSIDE,
	       STRSZ_HUGE, STRSZ_ZERO, SONAME_PAST, SONAME_UNTERMINATED, NEEDED_PAST,
	       LOAD_MISALIGNED, NCASES };
	struct blob orig = fixture_blob("libdlgfx_plain.so");

	(void)state;
	for (int c = 0; c < NCASES; c++) {
		struct blob b = { malloc(orig.size), orig.size };
		Elf64_Ehdr *eh = (Elf64_Ehdr *)b.data;
		struct dlg_elf_dyn d;
		char err[256] = "";
		int rc;

		assert_non_null(b.data);
		memcpy(b.data, orig.data, b.size);
		switch (c) {
		case PHOFF_EOF:
			eh->e_phoff = b.size;
			break;
		case PHNUM_HUGE:
			eh->e_phnum = 0xffff;
			break;
		case PHOFF_WRAP:
			eh->e_phoff = UINT64_MAX - 8;
			break;
		case DYN_OUTSIDE:
			phdr_of(&b, PT_DYNAMIC)->p_vaddr = 0x7fff00000000ull;
			break;
		case DYN_NO_FILESZ:
			phdr_of(&b, PT_DYNAMIC)->p_filesz = 0;
			break;
		case STRTAB_OUTSIDE:
			dyn_of(&b, DT_STRTAB)->d_un.d_ptr = 0x7fff00000000ull;
			break;
		case STRSZ_HUGE:
			dyn_of(&b, DT_STRSZ)->d_un.d_val = UINT64_MAX;
			break;
		case STRSZ_ZERO:
			dyn_of(&b, DT_STRSZ)->d_un.d_val = 0;
			break;
		case SONAME_PAST:
			dyn_of(&b, DT_SONAME)->d_un.d_val = dyn_of(&b, DT_STRSZ)->d_un.d_val;
			break;
		case SONAME_UNTERMINATED:
			dyn_of(&b, DT_STRSZ)->d_un.d_val = dyn_of(&b, DT_SONAME)->d_un.d_val + 3;
			break;
		case NEEDED_PAST:
			dyn_of(&b, DT_NEEDED)->d_un.d_val = UINT64_MAX;
			break;
		case LOAD_MISALIGNED:
			phdr_of(&b, PT_LOAD)->p_vaddr += 1;
			break;
		}
		rc = read_bytes(b.data, b.size, &d, err, sizeof err);
		if (rc != -1)
			fail_msg("case %d: read_dynamic accepted a corrupt object", c);
		assert_null(d.strbuf);
		assert_true(err[0] != '\0');
		if (c <= PHOFF_WRAP)
			assert_int_equal(check_bytes(b.data, b.size, err, sizeof err), DLG_ELF_BAD);
		free(b.data);
	}
	free(orig.data);
}

/* ------------------------------------------------------------------ */
/* synthetic images                                                    */

static void test_synth_basic(void **state)
{
	static struct synth s;
	struct dlg_elf_dyn d;
	char err[256] = "";

	(void)state;
	syn_init(&s);
	syn_dyn(&s, DT_SONAME, syn_str(&s, "old-soname"));
	syn_dyn(&s, DT_NEEDED, syn_str(&s, "liba.so"));
	syn_dyn(&s, DT_NEEDED, 0);  /* the empty string */
	syn_dyn(&s, DT_RPATH, syn_str(&s, "/r"));
	syn_dyn(&s, DT_RUNPATH, syn_str(&s, "${ORIGIN}/x"));
	syn_dyn(&s, DT_FLAGS_1, DF_1_NODEFLIB | DF_1_NOW);
	syn_dyn(&s, DT_SONAME, syn_str(&s, "new-soname"));  /* last one wins */
	syn_close(&s);
	assert_int_equal(check_bytes(s.buf, SYN_SIZE, err, sizeof err), DLG_ELF_OK);
	if (syn_read(&s, &d, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_string_equal(d.soname, "new-soname");
	assert_int_equal(d.n_needed, 2);
	assert_string_equal(d.needed[0], "liba.so");
	assert_string_equal(d.needed[1], "");
	/* raw strings: the resolver applies "RUNPATH hides RPATH" */
	assert_string_equal(d.rpath, "/r");
	assert_string_equal(d.runpath, "${ORIGIN}/x");
	assert_int_equal(d.flags_1, DF_1_NODEFLIB | DF_1_NOW);
	dlg_elf_dyn_free(&d);
}

static void test_synth_needed_limit(void **state)
{
	static struct synth s;
	struct dlg_elf_dyn d;
	char err[256] = "", name[32];

	(void)state;
	for (int extra = 0; extra <= 1; extra++) {
		syn_init(&s);
		for (int i = 0; i < DLG_ELF_MAX_NEEDED + extra; i++) {
			snprintf(name, sizeof name, "l%d", i);
			syn_dyn(&s, DT_NEEDED, syn_str(&s, name));
		}
		syn_close(&s);
		if (extra == 0) {
			assert_int_equal(syn_read(&s, &d, err, sizeof err), 0);
			assert_int_equal(d.n_needed, DLG_ELF_MAX_NEEDED);
			assert_string_equal(d.needed[DLG_ELF_MAX_NEEDED - 1], "l255");
			dlg_elf_dyn_free(&d);
		} else {
			assert_int_equal(syn_read(&s, &d, err, sizeof err), -1);
			assert_non_null(strstr(err, "DT_NEEDED"));
		}
	}
}

/* ld.so reads what p_vaddr maps to, not what p_offset says. */
static void test_synth_vaddr_wins(void **state)
{
	static struct synth s;
	struct dlg_elf_dyn d;
	char err[256] = "";
	Elf64_Dyn decoy[2] = { { DT_NULL, { 0 } }, { DT_NULL, { 0 } } };

	(void)state;
	syn_init(&s);
	syn_dyn(&s, DT_NEEDED, syn_str(&s, "libreal.so"));
	syn_close(&s);
	/* a decoy dynamic section with no DT_NEEDED where p_offset points */
	memcpy(s.buf + 0x1800, decoy, sizeof decoy);
	syn_ph(&s, 1)->p_offset = 0x1800;
	assert_int_equal(syn_read(&s, &d, err, sizeof err), 0);
	assert_int_equal(d.n_needed, 1);
	assert_string_equal(d.needed[0], "libreal.so");
	dlg_elf_dyn_free(&d);
	/* two PT_DYNAMIC: the last with p_filesz != 0 wins */
	syn_eh(&s)->e_phnum = 4;
	*syn_ph(&s, 2) = *syn_ph(&s, 1);
	syn_ph(&s, 2)->p_vaddr = 0x1800;
	*syn_ph(&s, 3) = *syn_ph(&s, 1);
	syn_ph(&s, 3)->p_filesz = 0;
	syn_ph(&s, 3)->p_vaddr = 0x3000;
	assert_int_equal(syn_read(&s, &d, err, sizeof err), 0);
	assert_int_equal(d.n_needed, 0);  /* the decoy is now the real one */
	assert_null(d.soname);
	dlg_elf_dyn_free(&d);
}

static void test_synth_bounds(void **state)
{
	enum { NO_NULL, STRTAB_BSS, STR_AT_END_UNTERM, NO_STRSZ, NO_STRTAB, NO_DYNAMIC,
	       SECOND_LOAD_SHADOWS, PHNUM_ZERO, NCASES };
	static struct synth s;

	(void)state;
	for (int c = 0; c < NCASES; c++) {
		struct dlg_elf_dyn d;
		char err[256] = "";
		uint64_t off;

		syn_init(&s);
		off = syn_str(&s, "libx.so");
		switch (c) {
		case NO_NULL:
			/* entries up to the end of the file, none DT_NULL */
			syn_dyn(&s, DT_STRTAB, STR_OFF);
			syn_dyn(&s, DT_STRSZ, s.strlen_);
			for (size_t o = DYN_OFF + 32; o + 16 <= SYN_SIZE; o += 16)
				*(int64_t *)(s.buf + o) = DT_DEBUG;
			break;
		case STRTAB_BSS:
			syn_dyn(&s, DT_NEEDED, off);
			syn_close(&s);
			syn_ph(&s, 0)->p_filesz = STR_OFF;  /* strings now in bss */
			break;
		case STR_AT_END_UNTERM:
			syn_dyn(&s, DT_NEEDED, off);
			syn_dyn(&s, DT_STRTAB, STR_OFF);
			syn_dyn(&s, DT_STRSZ, off + 4);  /* cuts "libx.so" */
			syn_dyn(&s, DT_NULL, 0);
			break;
		case NO_STRSZ:
			syn_dyn(&s, DT_NEEDED, off);
			syn_dyn(&s, DT_STRTAB, STR_OFF);
			syn_dyn(&s, DT_NULL, 0);
			break;
		case NO_STRTAB:
			syn_dyn(&s, DT_NEEDED, off);
			syn_dyn(&s, DT_STRSZ, s.strlen_);
			syn_dyn(&s, DT_NULL, 0);
			break;
		case NO_DYNAMIC:
			syn_close(&s);
			syn_ph(&s, 1)->p_type = PT_NOTE;
			break;
		case SECOND_LOAD_SHADOWS:
			/* a later PT_LOAD maps the strtab vaddr to a short file
			 * range: the later mapping is what ld.so would see */
			syn_dyn(&s, DT_NEEDED, off);
			syn_close(&s);
			syn_eh(&s)->e_phnum = 3;
			syn_ph(&s, 2)->p_type = PT_LOAD;
			syn_ph(&s, 2)->p_vaddr = STR_OFF;
			syn_ph(&s, 2)->p_offset = STR_OFF;
			syn_ph(&s, 2)->p_filesz = 4;
			syn_ph(&s, 2)->p_memsz = 4096;
			break;
		case PHNUM_ZERO:
			syn_close(&s);
			syn_eh(&s)->e_phnum = 0;
			break;
		}
		if (syn_read(&s, &d, err, sizeof err) != -1)
			fail_msg("case %d accepted", c);
		assert_null(d.strbuf);
	}
	/* the string ending exactly at DT_STRSZ is fine */
	{
		struct dlg_elf_dyn d;
		char err[256] = "";

		syn_init(&s);
		syn_dyn(&s, DT_NEEDED, syn_str(&s, "libend.so"));
		syn_close(&s);
		assert_int_equal(syn_read(&s, &d, err, sizeof err), 0);
		assert_string_equal(d.needed[0], "libend.so");
		dlg_elf_dyn_free(&d);
	}
}

static void test_uses_origin(void **state)
{
	static const struct {
		const char *s;
		int want;
	} t[] = {
		{ "$ORIGIN", 1 },
		{ "${ORIGIN}", 1 },
		{ "$ORIGIN/../lib", 1 },
		{ "/a:$ORIGIN", 1 },
		{ "/a:${ORIGIN}/b", 1 },
		{ "$ORIGINAL", 0 },
		{ "$ORIGIN_X", 0 },
		{ "${ORIGIN", 0 },
		{ "${ORIGINX}", 0 },
		{ "$origin", 0 },
		{ "ORIGIN", 0 },
		{ "$", 0 },
		{ "$$ORIGIN", 1 },
		{ "$LIB:$PLATFORM", 0 },
		{ "", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (dlg_elf_uses_origin(t[i].s) != t[i].want)
			fail_msg("'%s': want %d", t[i].s, t[i].want);
	assert_int_equal(dlg_elf_uses_origin(NULL), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/dlg-test-elf-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_plain),
		cmocka_unit_test(test_fixture_paths),
		cmocka_unit_test(test_system_libc),
		cmocka_unit_test(test_header_table),
		cmocka_unit_test(test_header_order),
		cmocka_unit_test(test_odd_files),
		cmocka_unit_test(test_truncation_sweep),
		cmocka_unit_test(test_corrupt_fixture),
		cmocka_unit_test(test_synth_basic),
		cmocka_unit_test(test_synth_needed_limit),
		cmocka_unit_test(test_synth_vaddr_wins),
		cmocka_unit_test(test_synth_bounds),
		cmocka_unit_test(test_uses_origin),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
