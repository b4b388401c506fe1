/* libFuzzer target: the ld.so.cache reader. The resolver reads
 * /etc/ld.so.cache for every bare name a dlopen asks for, and `dlguard
 * compile` walks all of it for start-up verdicts. The file is root's, but a
 * damaged or foreign-format cache must still fail cleanly: a lookup that
 * finds nothing, never a read outside the mapping. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_file.h"
#include "resolve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = { "libc.so.6", "libm.so.6", "libz.so.1", "x" };

static int count(const char *path, void *ctx)
{
	size_t *n = ctx;

	*n += strlen(path) > 0;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dlg_hwcaps h;
	static int inited;
	char path[64], out[4096];
	size_t n = 0;
	int fd = fuzz_file(data, size);

	if (fd < 0)
		return 0;
	if (!inited) {
		dlg_hwcaps_init(&h);
		inited = 1;
	}
	/* On libFuzzer's own copy of the input, exactly size bytes, so that
	 * ASan sees a read past the end; then the file path the resolver and
	 * the CLI take (a mapping). */
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (dlg_ldcache_lookup_mem(data, size, &h, names[i], out, sizeof out) == 0 &&
		    !memchr(out, '\0', sizeof out))
			__builtin_trap();
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	(void)dlg_ldcache_lookup(path, &h, names[0], out, sizeof out);
	(void)dlg_ldcache_each(path, count, &n);
	return 0;
}
