/* libFuzzer target: the compiled policy. Arbitrary bytes either fail
 * validation with a message or make a policy on which every lookup stays in
 * bounds: dlg_db_open_mem (what the engine maps) then decisions on a few
 * subjects and every start-up verdict slot; and the start-up check's own
 * reader (dlg_db_peek, dlg_db_boot_find_fd, pread on a file), which every
 * process runs on the policies present when it starts. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_file.h"
#include "policy_db.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const paths[] = {
	"/usr/lib/x86_64-linux-gnu/libc.so.6",
	"/tmp/evil.so",
	"/opt/app/plugins/libplugin.so",
	"/",
};

static void startup_reader(const uint8_t *data, size_t size)
{
	unsigned char fp[DLG_DB_BOOT_FP];
	struct dlg_db_head head;
	struct stat st;
	char err[256];
	int fd = fuzz_file(data, size);

	if (fd < 0 || fstat(fd, &st) != 0)
		return;
	/* with the file's size (the system policy), then as the header claims */
	if (dlg_db_peek(fd, &st, &head, err, sizeof err) == 0)
		for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
			(void)dlg_db_boot_find_fd(fd, &head, paths[i], fp);
	if (dlg_db_peek(fd, NULL, &head, err, sizeof err) == 0)
		(void)dlg_db_boot_find_fd(fd, &head, paths[0], fp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dlg_db db;
	char err[256];

	startup_reader(data, size);
	if (dlg_db_open_mem(&db, data, size, err, sizeof err) != 0) {
		if (!err[0])
			__builtin_trap();
		return 0;
	}
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		struct dlg_subject s;
		struct dlg_verdict v;

		memset(&s, 0, sizeof s);
		s.path = paths[i];
		s.exe = i & 1 ? "/usr/bin/python3.11" : NULL;
		s.fd = -1;
		s.now = 1764000000;
		/* a digest the policy may list: the input's first bytes */
		s.have_sha256 = size >= DLG_SHA256_LEN;
		if (s.have_sha256)
			memcpy(s.sha256, data, DLG_SHA256_LEN);
		dlg_decide(&db, &s, &v);
		if (!memchr(v.reason, '\0', sizeof v.reason))
			__builtin_trap();
	}
	for (uint32_t i = 0; i < db.n_boot && i < 4096; i++) {
		unsigned char fp[DLG_DB_BOOT_FP];
		const char *name;
		struct stat st;

		if (!dlg_db_boot_slot(&db, i, &name, fp))
			continue;
		memset(&st, 0, sizeof st);
		st.st_mode = S_IFREG | 0644;
		(void)dlg_db_boot_allows(&db, name, &st);
	}
	dlg_db_close(&db);
	return 0;
}
