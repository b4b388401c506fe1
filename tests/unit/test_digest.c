/* digest: SHA-256 of an fd through lazily mapped libcrypto; hex helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"

static char dir[] = "/tmp/dlg-digest.XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd);
}

static int make_file(const char *name, const char *byte, size_t n)
{
	char path[256];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(write(fd, byte, 1), 1);
	return fd;
}

static void hex_of_fd(int fd, char *hex)
{
	unsigned char sum[DLG_SHA256_LEN];
	char err[128];

	assert_int_equal(dlg_sha256_fd(fd, sum, err, sizeof err), 0);
	dlg_hex(sum, sizeof sum, hex);
}

static void test_known_vectors(void **state)
{
	char hex[65];
	int fd;

	(void)state;
	fd = make_file("empty", "", 0);
	hex_of_fd(fd, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	close(fd);

	fd = make_file("abc", "a", 1);
	assert_int_equal(write(fd, "bc", 2), 2);
	hex_of_fd(fd, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	close(fd);

	/* one million 'a': crosses the read chunk size several times */
	fd = make_file("million", "a", 1000000);
	hex_of_fd(fd, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	/* the fd offset is untouched (pread) */
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 1000000);
	close(fd);
}

static void refused(int fd, const char *expect)
{
	unsigned char sum[DLG_SHA256_LEN];
	char err[128] = "";

	assert_int_equal(dlg_sha256_fd(fd, sum, err, sizeof err), -1);
	assert_non_null(strstr(err, expect));
}

static void test_odd_files(void **state)
{
	char fifo[256];
	int fd;

	(void)state;
	refused(-1, "no file");
	fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	refused(fd, "not a regular file");
	close(fd);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	refused(fd, "not a regular file");
	close(fd);
	snprintf(fifo, sizeof fifo, "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	refused(fd, "not a regular file");
	close(fd);
	refused(9999, "fstat failed");
}

static void test_unhex(void **state)
{
	static const struct {
		const char *in;
		int rc;
	} cases[] = {
		{ "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 0 },
		{ "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", 0 },
		{ "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85", -1 },
		{ "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555", -1 },
		{ "g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", -1 },
		{ "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85 ", -1 },
		{ "", -1 },
		{ NULL, -1 },
	};
	unsigned char bin[DLG_SHA256_LEN];
	char hex[65];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(dlg_unhex_sha256(cases[i].in, bin), cases[i].rc);
		if (cases[i].rc == 0) {
			dlg_hex(bin, sizeof bin, hex);
			assert_string_equal(hex, cases[0].in);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_vectors),
		cmocka_unit_test(test_odd_files),
		cmocka_unit_test(test_unhex),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
