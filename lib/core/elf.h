/* Bounds-checked reader of an ELF file's header and dynamic section, over an
 * already-opened descriptor (pread only; the fd offset is untouched). */
#ifndef DLGUARD_ELF_H
#define DLGUARD_ELF_H

#include <stddef.h>
#include <sys/stat.h>

enum dlg_elf_hdr {
	DLG_ELF_OK = 0,         /* ELF for this host (class, data, machine) */
	DLG_ELF_OTHER_ARCH = 1, /* valid ELF for another class or machine: ld.so skips it in a search */
	DLG_ELF_BAD = 2,        /* not ELF, too short, unreadable: ld.so fails the load */
};

/* Checks the ELF header the way ld.so's open_verify does. st: the fd's fstat
 * when the caller has it (one system call fewer per load), else NULL. err
 * gets the reason for anything but DLG_ELF_OK. */
enum dlg_elf_hdr dlg_elf_check_header(int fd, const struct stat *st, char *err,
				      size_t errlen);

#define DLG_ELF_MAX_NEEDED 256

/* What the dynamic section says. Strings point into 'strbuf' (owned). */
struct dlg_elf_dyn {
	const char *soname;     /* NULL when absent */
	const char *rpath;      /* DT_RPATH, NULL when absent */
	const char *runpath;    /* DT_RUNPATH, NULL when absent */
	const char *needed[DLG_ELF_MAX_NEEDED];
	size_t n_needed;
	unsigned flags_1;       /* DT_FLAGS_1 (e.g. DF_1_NODEFLIB), 0 when absent */
	char *strbuf;           /* malloc'ed copy of the strings used */
};

/* Reads PT_DYNAMIC and the dynamic string table (found through PT_LOAD
 * mappings of DT_STRTAB). Every offset and size is checked against the file
 * size; a foreign class or byte order is refused cleanly. Returns 0, or -1
 * with err filled. */
int dlg_elf_read_dynamic(int fd, struct dlg_elf_dyn *out, char *err, size_t errlen);
void dlg_elf_dyn_free(struct dlg_elf_dyn *d);

/* True when a search path string uses $ORIGIN or ${ORIGIN}. */
int dlg_elf_uses_origin(const char *searchpath);

#endif
