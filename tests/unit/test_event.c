/* event: one JSON line per decision, valid whatever the names contain. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "event.h"

static struct dlg_event sample(void)
{
	static const unsigned char sum[32] = { 0xab, 0xcd };
	struct dlg_event e = {
		.action = "dlopen", .decision = "deny", .rule = "4", .reason = "rule 4 (line 9): deny dir /tmp",
		.policy = "/etc/dlguard/policy.conf", .requested = "libx.so", .path = "/tmp/x/libx.so",
		.sha256 = sum, .pid = 42, .exe = "/usr/bin/app",
	};
	return e;
}

static void test_fields(void **state)
{
	struct dlg_event e = sample();
	char buf[DLG_EVENT_MAX];
	size_t n;

	(void)state;
	n = dlg_event_format(&e, buf, sizeof buf);
	assert_true(n > 0);
	assert_int_equal(strlen(buf), n);
	assert_int_equal(buf[n - 1], '\n');
	assert_memory_equal(buf, "{\"@timestamp\":\"", 15);
	assert_non_null(strstr(buf, "\"event\":{\"action\":\"dlopen\""));
	assert_non_null(strstr(buf, "\"dlguard\":{\"decision\":\"deny\",\"rule\":\"4\",\"reason\":\"rule 4 (line 9): deny dir /tmp\""));
	assert_non_null(strstr(buf, "\"requested\":\"libx.so\""));
	assert_non_null(strstr(buf, "\"dll\":{\"path\":\"/tmp/x/libx.so\",\"name\":\"libx.so\",\"hash\":{\"sha256\":\"abcd0000"));
	assert_non_null(strstr(buf, "\"process\":{\"pid\":42,\"executable\":\"/usr/bin/app\"}}\n"));
	assert_non_null(strstr(buf, "\"outcome\":\"failure\""));

	e.sha256 = NULL;
	e.path = NULL;
	e.decision = "would-deny";
	n = dlg_event_format(&e, buf, sizeof buf);
	assert_true(n > 0);
	assert_null(strstr(buf, "\"hash\""));
	assert_non_null(strstr(buf, "\"path\":null,\"name\":\"libx.so\""));
	assert_non_null(strstr(buf, "\"outcome\":\"success\""));
}

/* The timestamp is UTC, as gmtime_r would give it, without its help. */
static void test_timestamp(void **state)
{
	struct dlg_event e = sample();
	char buf[DLG_EVENT_MAX], want[64];
	struct timespec before, after;
	struct tm tm;

	(void)state;
	clock_gettime(CLOCK_REALTIME, &before);
	assert_true(dlg_event_format(&e, buf, sizeof buf) > 0);
	clock_gettime(CLOCK_REALTIME, &after);
	if (before.tv_sec != after.tv_sec)
		return; /* crossed a second: not comparable, and not worth a retry loop */
	gmtime_r(&before.tv_sec, &tm);
	strftime(want, sizeof want, "{\"@timestamp\":\"%Y-%m-%dT%H:%M:%S.", &tm);
	assert_memory_equal(buf, want, strlen(want));
	assert_int_equal(buf[strlen(want) + 3], 'Z');
}

static void test_code_signature(void **state)
{
	struct dlg_event e = sample();
	char buf[DLG_EVENT_MAX];

	(void)state;
	assert_true(dlg_event_format(&e, buf, sizeof buf) > 0);
	assert_null(strstr(buf, "code_signature"));
	e.sig_checked = 1;
	e.sig_exists = 1;
	e.sig_valid = 1;
	e.sig_trusted = 0;
	e.sig_status = "untrusted key";
	e.sig_key = "other";
	assert_true(dlg_event_format(&e, buf, sizeof buf) > 0);
	assert_non_null(strstr(buf, "\"code_signature\":{\"exists\":true,\"valid\":true,\"trusted\":false,\"status\":\"untrusted key\",\"signing_id\":\"other\"}"));
	assert_non_null(strstr(buf, "\"key\":\"other\""));
}

static void test_escaping(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "a\"b", "\"path\":\"a\\\"b\"" },
		{ "a\\b", "\"path\":\"a\\\\b\"" },
		{ "a\nb", "\"path\":\"a\\u000ab\"" },
		{ "a\x01" "b", "\"path\":\"a\\u0001b\"" },
		{ "a\x7f", "\"path\":\"a\\u007f\"" },
		{ "caf\xc3\xa9", "\"path\":\"caf\xc3\xa9\"" },          /* valid UTF-8 kept */
		{ "bad\xff", "\"path\":\"bad\\u00ff\"" },               /* invalid byte escaped */
		{ "trunc\xc3", "\"path\":\"trunc\\u00c3\"" },           /* cut sequence */
		{ "over\xc0\xaf", "\"path\":\"over\\u00c0\\u00af\"" },  /* overlong */
		{ "sur\xed\xa0\x80", "\"path\":\"sur\\u00ed\\u00a0\\u0080\"" }, /* surrogate */
	};
	char buf[DLG_EVENT_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct dlg_event e = sample();
		e.path = cases[i].in;
		assert_true(dlg_event_format(&e, buf, sizeof buf) > 0);
		if (!strstr(buf, cases[i].out))
			fail_msg("case %zu: %s not in %s", i, cases[i].out, buf);
	}
}

static void test_limits(void **state)
{
	struct dlg_event e = sample();
	char *huge = malloc(20000), buf[DLG_EVENT_MAX];

	(void)state;
	memset(huge, '"', 19999);       /* escapes double its size */
	huge[19999] = '\0';
	e.path = huge;
	e.requested = huge;
	assert_true(dlg_event_format(&e, buf, sizeof buf) > 0);
	assert_non_null(strstr(buf, "...[cut]"));
	/* a buffer too small for any line is refused, never overrun */
	assert_int_equal(dlg_event_format(&e, buf, 0), 0);
	assert_int_equal(dlg_event_format(&e, buf, 1), 0);
	assert_int_equal(dlg_event_format(&e, buf, 64), 0);
	free(huge);
}

static void test_append(void **state)
{
	char dir[] = "/tmp/dlg-event.XXXXXX", path[128], back[256];
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/log.jsonl", dir);
	assert_int_equal(dlg_event_append(path, "one\n", 4), 0);
	assert_int_equal(dlg_event_append(path, "two\n", 4), 0);
	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, back, sizeof back), 8);
	assert_memory_equal(back, "one\ntwo\n", 8);
	close(fd);
	assert_int_equal(dlg_event_append(dir, "x\n", 2), -1);          /* a directory */
	assert_int_equal(dlg_event_append("/nonexistent/dir/log", "x\n", 2), -1);
	unlink(path);
	rmdir(dir);
	dlg_event_syslog("unit test message"); /* must not block or fail without syslog */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_timestamp),
		cmocka_unit_test(test_code_signature),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_append),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
