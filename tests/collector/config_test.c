// config_test.c - faultline-collector config: defaults, overrides and exact FILE:LINE errors.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fl/log.h"

static char path[64];

static const char *
write_conf(const char *text)
{
	snprintf(path, sizeof(path), "/tmp/coll-config-test-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
	close(fd);
	return path;
}

// Loads text and returns the error with the temp path replaced by "F" ("" when it loads).
static const char *
load_err(const char *text, coll_config *cfg)
{
	static char out[600];
	char        err[512] = "";
	const char *p        = write_conf(text);
	coll_config_defaults(cfg);
	int rc = coll_config_load(p, cfg, err, sizeof(err));
	unlink(p);
	if (rc == 0) {
		return "";
	}
	size_t n = strlen(p);
	assert_memory_equal(err, p, n);
	snprintf(out, sizeof(out), "F%s", err + n);
	return out;
}

static void
test_defaults(void **state)
{
	(void) state;
	coll_config c;
	coll_config_defaults(&c);
	assert_string_equal(c.listen, "tcp://127.0.0.1:7600");
	assert_string_equal(c.survey, "tcp://127.0.0.1:7601");
	assert_string_equal(c.control, "ipc:///run/faultline/control.sock");
	assert_string_equal(c.state, "/var/lib/faultline/collector.db");
	assert_int_equal(c.history_days, 14);
	assert_int_equal(c.log_level, FL_LOG_INFO);
}

static void
test_full_file(void **state)
{
	(void) state;
	coll_config c;
	assert_string_equal(load_err("; comment\n[collector]\nlisten = tcp://0.0.0.0:9000\n"
	                             "survey = tcp://127.0.0.1:9001\ncontrol = ipc:///tmp/x.sock\n"
	                             "state = /tmp/c.db\nlog_level = debug\nhistory_days = 30\n",
	                        &c),
	    "");
	assert_string_equal(c.listen, "tcp://0.0.0.0:9000");
	assert_string_equal(c.survey, "tcp://127.0.0.1:9001");
	assert_string_equal(c.control, "ipc:///tmp/x.sock");
	assert_string_equal(c.state, "/tmp/c.db");
	assert_int_equal(c.log_level, FL_LOG_DEBUG);
	assert_int_equal(c.history_days, 30);
}

static void
test_unknown_key(void **state)
{
	(void) state;
	coll_config c;
	assert_string_equal(load_err("[collector]\nlisten = tcp://127.0.0.1:1\nlisen = x\n", &c),
	    "F:3: unknown key [collector] lisen");
}

static void
test_unknown_section(void **state)
{
	(void) state;
	coll_config c;
	assert_string_equal(load_err("\n[collecter]\nlisten = tcp://127.0.0.1:1\n", &c),
	    "F:2: unknown section [collecter]");
}

static void
test_key_outside_section(void **state)
{
	(void) state;
	coll_config c;
	assert_string_equal(load_err("listen = tcp://127.0.0.1:1\n", &c),
	    "F:1: listen outside the [collector] section");
	assert_string_equal(load_err("[collector]\nlisten = tcp://127.0.0.1:1\n[extra]\n", &c),
	    "F:3: unknown section [extra]");
}

static void
test_bad_values(void **state)
{
	(void) state;
	coll_config c;
	assert_string_equal(load_err("[collector]\nlisten = 127.0.0.1:7600\n", &c),
	    "F:2: listen: '127.0.0.1:7600' is not a tcp://, ipc:// or tls+tcp:// address");
	assert_string_equal(load_err("[collector]\n\nhistory_days = 0\n", &c),
	    "F:3: history_days: '0' is not a number of days (1-3650)");
	assert_string_equal(load_err("[collector]\nhistory_days = 2w\n", &c),
	    "F:2: history_days: '2w' is not a number of days (1-3650)");
	assert_string_equal(load_err("[collector]\nlog_level = loud\n", &c),
	    "F:2: log_level: 'loud' is not one of err, warn, notice, info, debug");
	assert_string_equal(
	    load_err("[collector]\nstate =\n", &c), "F:2: state: path empty or too long");
}

static void
test_syntax_error_first(void **state)
{
	(void) state;
	coll_config c;
	// The syntax error on line 2 comes before the bad key on line 4: report line 2.
	assert_string_equal(load_err("[collector]\nthis is not ini\n\nbogus = 1\n", &c),
	    "F:2: syntax error (expected [section] or key = value)");
	// Only the first key error is reported.
	assert_string_equal(load_err("[collector]\nbogus = 1\nworse = 2\n", &c),
	    "F:2: unknown key [collector] bogus");
}

static void
test_missing_file(void **state)
{
	(void) state;
	coll_config c;
	char        err[256];
	coll_config_defaults(&c);
	assert_int_equal(coll_config_load("/nonexistent/collector.conf", &c, err, sizeof(err)), -1);
	assert_string_equal(
	    err, "/nonexistent/collector.conf:0: cannot read: No such file or directory");
}

static void
test_set_override(void **state)
{
	(void) state;
	coll_config c;
	char        err[256];
	coll_config_defaults(&c);
	assert_int_equal(coll_config_set(&c, "listen", "tcp://127.0.0.1:0", err, sizeof(err)), 0);
	assert_string_equal(c.listen, "tcp://127.0.0.1:0");
	assert_int_equal(coll_config_set(&c, "control", "ftp://x", err, sizeof(err)), -1);
	assert_string_equal(
	    err, "control: 'ftp://x' is not a tcp://, ipc:// or tls+tcp:// address");
	assert_string_equal(c.control, "ipc:///run/faultline/control.sock");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_unknown_section),
		cmocka_unit_test(test_key_outside_section),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_syntax_error_first),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_set_override),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
