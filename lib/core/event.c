#include "event.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"
#include "policy.h"

/* A string field is cut (and marked) past this many output bytes, so an
 * event with every field at its worst (6 bytes per escaped input byte) still
 * fits DLG_EVENT_MAX. */
#define FIELD_MAX 2000

struct out {
	char *buf;
	size_t len, used;
	int overflow;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->overflow || n >= o->len - o->used) {
		o->overflow = 1;
		return;
	}
	memcpy(o->buf + o->used, s, n);
	o->used += n;
	o->buf[o->used] = '\0';
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n;
	unsigned min;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, min = 0x80, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, min = 0x800, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, min = 0x10000, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* JSON string: quotes, backslashes and control characters escaped; bytes
 * that are not valid UTF-8 become \u00XX so the line stays valid JSON. */
static void put_json_string(struct out *o, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t start = o->used;
	char esc[8];

	put(o, "\"", 1);
	while (*s) {
		size_t n = utf8_len(s);
		if (o->used - start >= FIELD_MAX) {
			puts_(o, "...[cut]");
			break;
		}
		if (n == 0 || *s < 0x20 || *s == '"' || *s == '\\' || *s == 0x7f) {
			if (*s == '"' || *s == '\\') {
				esc[0] = '\\';
				esc[1] = (char)*s;
				esc[2] = '\0';
			} else {
				snprintf(esc, sizeof esc, "\\u%04x", (unsigned)*s);
			}
			puts_(o, esc);
			s++;
			continue;
		}
		put(o, (const char *)s, n);
		s += n;
	}
	put(o, "\"", 1);
}

static void put_field(struct out *o, const char *key, const char *val)
{
	put(o, "\"", 1);
	puts_(o, key);
	put(o, "\":", 2);
	if (val)
		put_json_string(o, val);
	else
		puts_(o, "null");
}

/* UTC calendar date from days since 1970-01-01 (H. Hinnant's
 * civil_from_days). Not gmtime_r: glibc's first call reads /etc/localtime
 * and allocates, which has no place inside a host's dlopen. */
static void civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
	long long era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (long long)yoe + era * 400 + (*m <= 2);
}

static void put_timestamp(struct out *o)
{
	struct timespec ts;
	long long days, secs, year;
	unsigned month, day;
	char t[128];

	clock_gettime(CLOCK_REALTIME, &ts);
	days = ts.tv_sec / 86400;
	secs = ts.tv_sec % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	civil_from_days(days, &year, &month, &day);
	snprintf(t, sizeof t, "\"@timestamp\":\"%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03ldZ\"",
		 year, month, day, secs / 3600, secs / 60 % 60, secs % 60, ts.tv_nsec / 1000000);
	puts_(o, t);
}

static const char *base_name(const char *p)
{
	const char *slash = strrchr(p, '/');
	return slash ? slash + 1 : p;
}

size_t dlg_event_format(const struct dlg_event *e, char *buf, size_t len)
{
	struct out o = { buf, len, 0, 0 };
	char num[32], hex[2 * DLG_SHA256_LEN + 1];
	int denied = strcmp(e->decision, "allow") != 0;

	if (len < 2)
		return 0;
	buf[0] = '\0';
	put(&o, "{", 1);
	put_timestamp(&o);
	put(&o, ",\"event\":{", 10);
	put_field(&o, "action", e->action);
	puts_(&o, ",\"kind\":\"event\",\"category\":[\"library\"],\"type\":[");
	puts_(&o, strcmp(e->decision, "deny") == 0 ? "\"denied\"]" : "\"allowed\"]");
	puts_(&o, denied && strcmp(e->decision, "deny") == 0 ? ",\"outcome\":\"failure\"},"
							     : ",\"outcome\":\"success\"},");
	put(&o, "\"dlguard\":{", 11);
	put_field(&o, "decision", e->decision);
	put(&o, ",", 1);
	put_field(&o, "rule", e->rule);
	put(&o, ",", 1);
	put_field(&o, "reason", e->reason);
	put(&o, ",", 1);
	put_field(&o, "policy", e->policy);
	put(&o, ",", 1);
	put_field(&o, "requested", e->requested);
	if (e->sig_key && *e->sig_key) {
		put(&o, ",", 1);
		put_field(&o, "key", e->sig_key);
	}
	put(&o, "},\"dll\":{", 9);
	put_field(&o, "path", e->path);
	put(&o, ",", 1);
	put_field(&o, "name", e->path ? base_name(e->path) : (e->requested ? base_name(e->requested) : NULL));
	if (e->sha256) {
		dlg_hex(e->sha256, DLG_SHA256_LEN, hex);
		puts_(&o, ",\"hash\":{\"sha256\":\"");
		puts_(&o, hex);
		puts_(&o, "\"}");
	}
	if (e->sig_checked) {
		puts_(&o, ",\"code_signature\":{\"exists\":");
		puts_(&o, e->sig_exists ? "true" : "false");
		puts_(&o, ",\"valid\":");
		puts_(&o, e->sig_valid ? "true" : "false");
		puts_(&o, ",\"trusted\":");
		puts_(&o, e->sig_trusted ? "true" : "false");
		put(&o, ",", 1);
		put_field(&o, "status", e->sig_status ? e->sig_status : "");
		if (e->sig_key && *e->sig_key) {
			put(&o, ",", 1);
			put_field(&o, "signing_id", e->sig_key);
		}
		put(&o, "}", 1);
	}
	snprintf(num, sizeof num, "%ld", (long)e->pid);
	puts_(&o, "},\"process\":{\"pid\":");
	puts_(&o, num);
	put(&o, ",", 1);
	put_field(&o, "executable", e->exe);
	put(&o, "}}\n", 3);
	if (o.overflow)
		return 0;
	return o.used;
}

size_t dlg_event_summary(const struct dlg_event *e, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s %s (requested \"%s\") by %s: %s; pid %ld exe %s",
			 e->decision, e->path ? e->path : "(unresolved)",
			 e->requested ? e->requested : "", e->rule ? e->rule : "default",
			 e->reason ? e->reason : "", (long)e->pid, e->exe ? e->exe : "?");
	if (n < 0)
		return 0;
	return (size_t)n < len ? (size_t)n : len - 1;
}

int dlg_event_append(const char *file, const char *line, size_t len)
{
	int fd, saved;
	ssize_t n;

	fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0640);
	if (fd < 0)
		return -1;
	do
		n = write(fd, line, len);
	while (n < 0 && errno == EINTR);
	saved = errno;
	close(fd);
	if (n != (ssize_t)len) {
		errno = n < 0 ? saved : EIO;
		return -1;
	}
	return 0;
}

void dlg_event_syslog(const char *msg)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX, .sun_path = "/dev/log" };
	char line[1024];
	int fd, n, saved = errno;

	/* <84> = LOG_AUTHPRIV | LOG_WARNING */
	n = snprintf(line, sizeof line, "<84>dlguard[%ld]: %s", (long)getpid(), msg);
	if (n < 0)
		goto end;
	if ((size_t)n >= sizeof line)
		n = sizeof line - 1;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto end;
	sendto(fd, line, (size_t)n, MSG_NOSIGNAL, (struct sockaddr *)&addr, sizeof addr);
	close(fd);
end:
	errno = saved;
}
