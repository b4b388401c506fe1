/* libFuzzer target: the ELF dynamic-section reader. The guard runs it on
 * every file a dlopen names before deciding (the closure check), untrusted
 * files included: arbitrary bytes must give 0 or -1 with a message, never a
 * crash, a hang or a read outside the file. The input is served from a
 * memfd, as the guard reads a file: pread at offsets the file's size bounds. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "elf.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dlg_elf_dyn dyn;
	char err[256];
	size_t sum = 0;
	int fd = fuzz_file(data, size);

	if (fd < 0)
		return 0;
	if (dlg_elf_read_dynamic(fd, &dyn, err, sizeof err) != 0) {
		/* a message, terminated */
		if (!err[0] || !memchr(err, '\0', sizeof err))
			__builtin_trap();
		return 0;
	}
	/* Every string handed out is readable and terminated. */
	if (dyn.soname)
		sum += strlen(dyn.soname);
	if (dyn.rpath)
		sum += strlen(dyn.rpath) + (size_t)dlg_elf_uses_origin(dyn.rpath);
	if (dyn.runpath)
		sum += strlen(dyn.runpath) + (size_t)dlg_elf_uses_origin(dyn.runpath);
	if (dyn.n_needed > DLG_ELF_MAX_NEEDED)
		__builtin_trap();
	for (size_t i = 0; i < dyn.n_needed; i++)
		sum += strlen(dyn.needed[i]);
	dlg_elf_dyn_free(&dyn);
	return sum == (size_t)-1;
}
