// config_test.c - faultline-collector config: defaults, overrides and exact FILE:LINE errors.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "fl/cfg.h"
#include "fl/log.h"
#include "http.h"

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

// recv_max and max_connections bound what stalled peers can pin (docs/security.md, "Limits").
static void
test_peer_limits(void **state)
{
	(void) state;
	coll_config c;
	coll_config_defaults(&c);
	assert_int_equal(c.recv_max, 1024 * 1024);
	assert_int_equal(c.max_connections, 1024);
	assert_string_equal(
	    load_err("[collector]\nrecv_max = 64KiB\nmax_connections = 50\n", &c), "");
	assert_int_equal(c.recv_max, 64 * 1024);
	assert_int_equal(c.max_connections, 50);
	assert_string_equal(load_err("[collector]\nrecv_max = 2MiB\n", &c), "");
	assert_int_equal(c.recv_max, 2 * 1024 * 1024);
	assert_string_equal(load_err("[collector]\nrecv_max = 5000\n", &c), "");
	assert_int_equal(c.recv_max, 5000);
	const char *bad[] = { "4095", "3MiB", "2049KiB", "1GiB", "-1", "KiB", "10 KiB", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[64], want[160];
		snprintf(text, sizeof(text), "[collector]\nrecv_max = %s\n", bad[i]);
		snprintf(want, sizeof(want),
		    "F:2: recv_max: '%s' is not a size from 4096 to 2MiB (bytes, or with KiB/MiB)",
		    bad[i]);
		assert_string_equal(load_err(text, &c), want);
	}
	assert_string_equal(load_err("[collector]\nmax_connections = 0\n", &c),
	    "F:2: max_connections: '0' is not a number from 1 to 65536");
}

// ingest_queue: auto (0, sized from max_hosts: ingest_queue_test) or a number of reports.
static void
test_ingest_queue(void **state)
{
	(void) state;
	coll_config c;
	coll_config_defaults(&c);
	assert_int_equal(c.ingest_queue, 0);
	assert_string_equal(load_err("[collector]\ningest_queue = 50000\n", &c), "");
	assert_int_equal(c.ingest_queue, 50000);
	assert_string_equal(load_err("[collector]\ningest_queue = auto\n", &c), "");
	assert_int_equal(c.ingest_queue, 0);
	const char *bad[] = { "4095", "1000001", "0", "-1", "10k", "", "Auto" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[64], want[160];
		snprintf(text, sizeof(text), "[collector]\ningest_queue = %s\n", bad[i]);
		snprintf(want, sizeof(want),
		    "F:2: ingest_queue: '%s' is not auto or a number of reports (4096-1000000)",
		    bad[i]);
		assert_string_equal(load_err(text, &c), want);
	}
}

// [collector] http: the listener's address forms, empty to turn it off, and a clear
// error for anything else; https counts as a TLS address for the tls_* checks.
static void
test_http(void **state)
{
	(void) state;
	coll_config c;
	char        url[600], err[256];
	bool        tls;

	coll_config_defaults(&c);
	assert_string_equal(c.http, "127.0.0.1:7680");
	assert_false(c.http_set);
	assert_string_equal(load_err("[collector]\nhttp =\n", &c), "");
	assert_string_equal(c.http, "");
	assert_true(c.http_set);
	assert_string_equal(load_err("[collector]\nhttp = https://[::1]:9443\n", &c), "");
	assert_string_equal(c.http, "https://[::1]:9443");

	const struct {
		const char *in, *url;
		bool        tls;
	} good[] = {
		{ "127.0.0.1:7680", "tcp://127.0.0.1:7680", false },
		{ "http://0.0.0.0:0", "tcp://0.0.0.0:0", false },
		{ "https://collector.example:443", "tls+tcp://collector.example:443", true },
		{ "[::1]:7680", "tcp://[::1]:7680", false },
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(
		    coll_http_parse_addr(good[i].in, url, sizeof(url), &tls, err, sizeof(err)), 0);
		assert_string_equal(url, good[i].url);
		assert_int_equal(tls, good[i].tls);
	}
	const char *bad[] = { "7680", "localhost", "127.0.0.1:", "127.0.0.1:70000",
		"127.0.0.1:80/metrics", "::1:7680", "http://a b:80", "ftp://x:1", "127.0.0.1:-1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[96];
		snprintf(text, sizeof(text), "[collector]\nhttp = %s\n", bad[i]);
		const char *got = load_err(text, &c);
		if (strncmp(got, "F:2: http: '", 12) != 0) {
			fail_msg("%s: %s", bad[i], got);
		}
	}
	// https needs the TLS files; they are not "set but unused" with it.
	coll_config_defaults(&c);
	snprintf(c.http, sizeof(c.http), "https://127.0.0.1:7680");
	assert_int_equal(coll_config_check(&c, "F", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "https://"));
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
	assert_string_equal(load_err("[collector]\nlog_format = xml\n", &c),
	    "F:2: log_format: 'xml' is not text or json");
	assert_false(c.log_json);
	assert_string_equal(load_err("[collector]\nlog_format = json\n", &c), "");
	assert_true(c.log_json);
}

// state names a SQLite file or a PostgreSQL database (URI or conninfo, its password in
// password_file); every module opens it with the same options.
static void
test_state_postgresql(void **state)
{
	(void) state;
	coll_config c;
	fl_sql_opts o;
	char        err[1024];
	char        pw[] = "/tmp/coll-config-pw-XXXXXX";
	int         fd   = mkstemp(pw);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "s3cret\n", 7), 7);
	close(fd);

	assert_string_equal(load_err("[collector]\nstate = postgresql://fl@db1:5432/faultline\n"
	                             "password_file = /nonexistent/pw\n",
	                        &c),
	    "");
	assert_string_equal(c.state, "postgresql://fl@db1:5432/faultline");
	assert_string_equal(c.password_file, "/nonexistent/pw");
	coll_config_sql_opts(&c, true, "faultline-test", &o);
	assert_string_equal(o.target, c.state);
	assert_string_equal(o.password_file, "/nonexistent/pw");
	assert_true(o.readonly);
	assert_string_equal(o.app_name, "faultline-test");
	assert_int_equal(fl_sql_target_engine(o.target), FL_SQL_PGSQL);
	assert_int_equal(coll_config_check(&c, "F", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "F: password_file: cannot open password file /nonexistent/pw"));
	snprintf(c.password_file, sizeof(c.password_file), "%s", pw);
	assert_int_equal(coll_config_check(&c, "F", err, sizeof(err)), 0);
	assert_int_equal(chmod(pw, 0640), 0);
	assert_int_equal(coll_config_check(&c, "F", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "chmod 600"));
	assert_null(strstr(err, "s3cret"));

	assert_string_equal(load_err("[collector]\nstate = host=db1 dbname=fl user=fl\n", &c), "");
	assert_string_equal(c.state, "host=db1 dbname=fl user=fl");
	coll_config_sql_opts(&c, false, "x", &o);
	assert_null(o.password_file); // none: libpq's environment or .pgpass
	assert_false(o.readonly);

	// The password never goes in state; a conninfo must parse.
	assert_string_equal(load_err("[collector]\nstate = postgresql://fl:s3cret@db1/fl\n", &c),
	    "F:2: state: the PostgreSQL target must not contain a password (use password_file)");
	assert_string_equal(load_err("[collector]\n\nstate = host=db1 password=s3cret\n", &c),
	    "F:3: state: the PostgreSQL target must not contain a password (use password_file)");
	assert_string_equal(load_err("[collector]\nstate = host=db1 dbname\n", &c),
	    "F:2: state: invalid PostgreSQL target: missing \"=\" after \"dbname\" in connection "
	    "info string");

	// password_file with a SQLite state is a mistake worth saying.
	assert_string_equal(
	    load_err("[collector]\nstate = /tmp/c.db\npassword_file = /tmp/pw\n", &c), "");
	assert_int_equal(coll_config_check(&c, "F", err, sizeof(err)), -1);
	assert_string_equal(err,
	    "F: password_file is for a PostgreSQL state, and state is a SQLite "
	    "file (/tmp/c.db)");
	unlink(pw);
}

// Replaces every occurrence of the temp path in s by "F" (errors of several lines).
static const char *
all_errs(const char *text, coll_config *cfg)
{
	static char out[2048];
	char        err[1024] = "";
	const char *p         = write_conf(text);
	size_t      n = strlen(p), o = 0;
	coll_config_defaults(cfg);
	int rc = coll_config_load(p, cfg, err, sizeof(err));
	unlink(p);
	assert_int_equal(rc, -1);
	for (const char *s = err; *s != '\0' && o + 1 < sizeof(out);) {
		if (strncmp(s, p, n) == 0) {
			out[o++] = 'F';
			s += n;
		} else {
			out[o++] = *s++;
		}
	}
	out[o] = '\0';
	return out;
}

static void
test_every_error_reported(void **state)
{
	(void) state;
	coll_config c;
	// Every error, in line order, not only the first.
	assert_string_equal(all_errs("[collector]\nthis is not ini\n\nbogus = 1\nworse = 2\n"
	                             "history_days = 0\n[extra]\nignored = 1\n",
	                        &c),
	    "F:2: syntax error (expected [section], key = value or a comment)\n"
	    "F:4: unknown key [collector] bogus\n"
	    "F:5: unknown key [collector] worse\n"
	    "F:6: history_days: '0' is not a number of days (1-3650)\n"
	    "F:7: unknown section [extra]");
	// A key set twice is an error naming where it was set first.
	assert_string_equal(
	    all_errs("[collector]\nmax_hosts = 5\n[collector]\nmax_hosts = 6\n", &c),
	    "F:4: max_hosts: already set at F:2");
}

// A line longer than inih's 200-byte buffer used to be split, and its tail reported as a
// syntax error on a line that does not exist. Lines up to FL_INI_MAX_LINE bytes now load; a
// longer one is an error naming its line.
static void
test_long_lines(void **state)
{
	(void) state;
	coll_config c;
	char        text[2048], dir[700];
	memset(dir, 'd', sizeof(dir) - 1);
	dir[0]               = '/';
	dir[sizeof(dir) - 1] = '\0';
	snprintf(text, sizeof(text), "[collector]\nstate = %s/collector.db\nmax_hosts = 7\n", dir);
	assert_string_equal(load_err(text, &c), "");
	assert_int_equal(strlen(c.state), strlen(dir) + strlen("/collector.db"));
	assert_int_equal(c.max_hosts, 7);

	size_t big  = FL_INI_MAX_LINE + 100;
	char  *huge = malloc(big + 64);
	assert_non_null(huge);
	int n = snprintf(huge, big + 64, "[collector]\n; comment\nstate = /");
	memset(huge + n, 'x', big);
	snprintf(huge + n + big, 64, "\nmax_hosts = x\n");
	assert_string_equal(all_errs(huge, &c),
	    "F:3: line longer than 16384 bytes\n"
	    "F:4: max_hosts: 'x' is not a number of hosts (1-1000000)");
	free(huge);
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

// forget_after is off by default, takes s/m/h/d (1s for fast tests), and a bad value
// is an error at its line.
// The HA keys: the lease holder's name (the host name by default) and the lease timeout.
static void
test_ha_keys(void **state)
{
	(void) state;
	coll_config c;
	char        err[256], host[COLL_NAME_MAX] = "";
	coll_config_defaults(&c);
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	assert_string_equal(c.name, host);
	assert_int_equal(c.lease_timeout_us, 5000000);
	assert_int_equal(coll_config_set(&c, "name", "c1.example", err, sizeof(err)), 0);
	assert_string_equal(c.name, "c1.example");
	assert_int_equal(coll_config_set(&c, "name", "two words", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "name: 'two words' is not a name"));
	assert_int_equal(coll_config_set(&c, "name", "", err, sizeof(err)), -1);
	assert_string_equal(c.name, "c1.example");
	assert_int_equal(coll_config_set(&c, "lease_timeout", "10s", err, sizeof(err)), 0);
	assert_int_equal(c.lease_timeout_us, 10000000);
	assert_int_equal(coll_config_set(&c, "lease_timeout", "1m", err, sizeof(err)), 0);
	assert_int_equal(c.lease_timeout_us, 60000000);
	assert_int_equal(coll_config_set(&c, "lease_timeout", "1s", err, sizeof(err)), -1);
	assert_string_equal(err, "lease_timeout: '1s' is not a duration from 2s to 60s");
	assert_int_equal(coll_config_set(&c, "lease_timeout", "2m", err, sizeof(err)), -1);
	assert_int_equal(coll_config_set(&c, "lease_timeout", "off", err, sizeof(err)), -1);
	assert_int_equal(c.lease_timeout_us, 60000000);
}

static void
test_forget_after(void **state)
{
	(void) state;
	coll_config c;
	coll_config_defaults(&c);
	assert_int_equal(c.forget_after_us, 0);

	static const struct {
		const char *text;
		int         rv;
		int64_t     us;
	} cases[] = {
		{ "off", 0, 0 },
		{ "0", 0, 0 },
		{ "1s", 0, 1000000LL },
		{ "90s", 0, 90000000LL },
		{ "15m", 0, 900000000LL },
		{ "12h", 0, 43200000000LL },
		{ "7d", 0, 604800000000LL },
		{ "3650d", 0, 3650LL * 86400 * 1000000 },
		{ "3651d", -1, 0 },
		{ "0s", -1, 0 },
		{ "7", -1, 0 },
		{ "1.5h", -1, 0 },
		{ "-1d", -1, 0 },
		{ "7w", -1, 0 },
		{ "", -1, 0 },
		{ "never", -1, 0 },
		{ "99999999999999999999d", -1, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t us = -1;
		int     rv = coll_parse_forget_after(cases[i].text, &us);
		if (rv != cases[i].rv || (rv == 0 && us != cases[i].us)) {
			fail_msg("forget_after \"%s\": rv %d, %lld us", cases[i].text, rv,
			    (long long) us);
		}
	}
	assert_string_equal(load_err("[collector]\nforget_after = 7d\n", &c), "");
	assert_int_equal(c.forget_after_us, 604800000000LL);
	assert_string_equal(load_err("[collector]\nstate = /tmp/x.db\nforget_after = soon\n", &c),
	    "F:3: forget_after: 'soon' is not off or a duration from 1s to 3650d (e.g. 30s, 12h, "
	    "7d)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_forget_after),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_peer_limits),
		cmocka_unit_test(test_ingest_queue),
		cmocka_unit_test(test_http),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_unknown_section),
		cmocka_unit_test(test_key_outside_section),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_every_error_reported),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_set_override),
		cmocka_unit_test(test_ha_keys),
		cmocka_unit_test(test_state_postgresql),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
