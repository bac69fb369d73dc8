// log_test.c - log line formats (text, journal, JSON), $JOURNAL_STREAM matching, and the
// sd_notify datagram (fl/notify.h) received on a real AF_UNIX socket.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "fl/log.h"
#include "fl/notify.h"

#define TS 1764496800123000LL // 2025-11-30T10:00:00.123Z

static const fl_log_style text    = { false, false };
static const fl_log_style journal = { true, false };
static const fl_log_style json    = { false, true };
static const fl_log_style jjson   = { true, true };

static void
test_text_and_journal(void **state)
{
	(void) state;
	char line[256];
	fl_log_format(line, sizeof(line), text, FL_LOG_WARN, TS, "faultline-agent", "probe",
	    "app: ok -> fail");
	assert_string_equal(
	    line, "2025-11-30T10:00:00.123Z faultline-agent[probe] warning: app: ok -> fail");
	// journald: the priority as <N>, no timestamp of our own.
	fl_log_format(line, sizeof(line), journal, FL_LOG_WARN, TS, "faultline-agent", "probe",
	    "app: ok -> fail");
	assert_string_equal(line, "<4>faultline-agent[probe] warning: app: ok -> fail");
	fl_log_format(line, sizeof(line), journal, FL_LOG_ERR, TS, "p", "c", "m");
	assert_string_equal(line, "<3>p[c] error: m");
	fl_log_format(line, sizeof(line), journal, FL_LOG_DEBUG, TS, "p", "c", "m");
	assert_string_equal(line, "<7>p[c] debug: m");
}

static void
test_json(void **state)
{
	(void) state;
	char line[512];
	fl_log_format(
	    line, sizeof(line), json, FL_LOG_NOTICE, TS, "faultline-collector", "main", "started");
	assert_string_equal(line,
	    "{\"ts\":\"2025-11-30T10:00:00.123Z\",\"level\":\"notice\","
	    "\"component\":\"main\",\"program\":\"faultline-collector\","
	    "\"msg\":\"started\"}");
	// Whatever the bytes: quotes, backslashes, controls, valid UTF-8 (2, 3 and 4 bytes),
	// invalid UTF-8 (a stray continuation byte, an overlong '/', a surrogate, Latin-1, a cut
	// sequence) all come out as pure-ASCII JSON; U+FFFD per maximal invalid part (fl/text.h).
	fl_log_format(line, sizeof(line), json, FL_LOG_INFO, TS, "p", "c",
	    "a\"b\\c\n\t\x1b[31m \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \x80 \xc0\xaf \xed\xa0\x80 "
	    "caf\xe9 \xe2\x82");
	assert_string_equal(line,
	    "{\"ts\":\"2025-11-30T10:00:00.123Z\",\"level\":\"info\",\"component\":\"c\","
	    "\"program\":\"p\",\"msg\":\"a\\\"b\\\\c\\u000a\\u0009\\u001b[31m \\u00e9 \\u20ac "
	    "\\ud83d\\ude00 \\ufffd \\ufffd\\ufffd \\ufffd\\ufffd\\ufffd caf\\ufffd \\ufffd\"}");
	// Under journald the JSON object keeps the priority prefix.
	fl_log_format(line, sizeof(line), jjson, FL_LOG_ERR, TS, "p", "c", "x");
	assert_string_equal(line,
	    "<3>{\"ts\":\"2025-11-30T10:00:00.123Z\",\"level\":\"error\","
	    "\"component\":\"c\",\"program\":\"p\",\"msg\":\"x\"}");
}

static void
test_json_truncated_stays_valid(void **state)
{
	(void) state;
	char line[160], msg[400];
	memset(msg, 'x', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	msg[100]             = '\n'; // an escape near the cut
	for (size_t cap = 100; cap <= sizeof(line); cap++) {
		fl_log_format(line, cap, json, FL_LOG_INFO, TS, "p", "c", msg);
		size_t n = strlen(line);
		assert_true(n < cap);
		assert_string_equal(line + n - 2, "\"}");
		assert_null(strstr(line, "\\u00\""));
	}
}

static void
test_format_parse(void **state)
{
	(void) state;
	bool j = true;
	assert_int_equal(fl_log_format_parse("text", &j), 0);
	assert_false(j);
	assert_int_equal(fl_log_format_parse("json", &j), 0);
	assert_true(j);
	assert_int_equal(fl_log_format_parse("JSON", &j), -1);
	assert_int_equal(fl_log_format_parse("", &j), -1);
}

static void
test_journal_stream(void **state)
{
	(void) state;
	char        path[] = "/tmp/fl-log-test-XXXXXX", env[64];
	int         fd     = mkstemp(path);
	struct stat st;
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long) st.st_dev,
	    (unsigned long long) st.st_ino);
	assert_true(fl_log_journal_stream(env, fd));
	// Another file (stderr redirected away from the journal), or malformed values: no.
	assert_false(fl_log_journal_stream(env, STDIN_FILENO) && STDIN_FILENO != fd);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long) st.st_dev,
	    (unsigned long long) st.st_ino + 1);
	assert_false(fl_log_journal_stream(env, fd));
	assert_false(fl_log_journal_stream(NULL, fd));
	assert_false(fl_log_journal_stream("", fd));
	assert_false(fl_log_journal_stream("12", fd));
	assert_false(fl_log_journal_stream("1:2:3", fd));
	assert_false(fl_log_journal_stream("1:2x", fd));
	close(fd);
	unlink(path);
}

// Binds a datagram socket at name (a path, or '@' + an abstract name); returns its fd.
static int
listen_dgram(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t             n  = strlen(name);
	int                fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	memcpy(sa.sun_path, name, n);
	if (name[0] == '@') {
		sa.sun_path[0] = '\0';
	}
	socklen_t len =
	    (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '@' ? 0 : 1));
	assert_int_equal(bind(fd, (struct sockaddr *) &sa, len), 0);
	return fd;
}

static void
test_notify(void **state)
{
	(void) state;
	char buf[128], name[108];
	int  fd;

	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(fl_notify("READY=1"), 0); // not under systemd: nothing to do

	snprintf(name, sizeof(name), "/tmp/fl-notify-test-%d", (int) getpid());
	unlink(name);
	fd = listen_dgram(name);
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(fl_notify("READY=1\nSTATUS=listening"), 1);
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "READY=1\nSTATUS=listening");
	close(fd);
	unlink(name);

	// An abstract name, as systemd hands out: '@' stands for the leading NUL.
	snprintf(name, sizeof(name), "@fl-notify-test/%d", (int) getpid());
	fd = listen_dgram(name);
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(fl_notify("STOPPING=1"), 1);
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "STOPPING=1");
	close(fd);

	// Unusable addresses are errors, not crashes.
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(fl_notify("READY=1"), -1);
	setenv("NOTIFY_SOCKET", "/nonexistent/notify.sock", 1);
	assert_int_equal(fl_notify("READY=1"), -1);
	char longname[200];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[0]                    = '/';
	longname[sizeof(longname) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longname, 1);
	assert_int_equal(fl_notify("READY=1"), -1);
	unsetenv("NOTIFY_SOCKET");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_and_journal),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_truncated_stays_valid),
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test(test_journal_stream),
		cmocka_unit_test(test_notify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
