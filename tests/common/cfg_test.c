// cfg_test.c - config helpers: numbers, booleans, section names, secret files, first lines.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fl/cfg.h"

static char dir[64];

static int
setup(void **state)
{
	(void) state;
	snprintf(dir, sizeof(dir), "/tmp/fl-cfg-test-XXXXXX");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void) state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

// Writes content to dir/name with mode; returns the path (static buffer).
static const char *
file(const char *name, const char *content, mode_t mode)
{
	static char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void
test_uint_and_bool(void **state)
{
	(void) state;
	uint32_t v = 9;
	assert_int_equal(fl_cfg_uint("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(fl_cfg_uint("4294967295", 0, UINT32_MAX, &v), 0);
	assert_int_equal(v, UINT32_MAX);
	const char *bad[] = { "", "-1", "+1", " 1", "1 ", "1x", "101", "4294967296", "0x10" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 9;
		assert_int_equal(fl_cfg_uint(bad[i], 0, 100, &v), -1);
		assert_int_equal(v, 9);
	}
	assert_int_equal(fl_cfg_uint("0", 1, 10, &v), -1); // below min
	assert_int_equal(fl_cfg_uint(NULL, 0, 10, &v), -1);

	bool b = false;
	assert_int_equal(fl_cfg_bool("YES", &b), 0);
	assert_true(b);
	assert_int_equal(fl_cfg_bool("off", &b), 0);
	assert_false(b);
	assert_int_equal(fl_cfg_bool("1", &b), 0);
	assert_true(b);
	assert_int_equal(fl_cfg_bool("maybe", &b), -1);
	assert_true(b);
}

static void
test_split_section(void **state)
{
	(void) state;
	char kind[16], name[16];
	assert_int_equal(
	    fl_cfg_split_section("http \"app\"", kind, sizeof(kind), name, sizeof(name)), 0);
	assert_string_equal(kind, "http");
	assert_string_equal(name, "app");
	assert_int_equal(fl_cfg_split_section(
	                     "postgres   \"orders db\"", kind, sizeof(kind), name, sizeof(name)),
	    0);
	assert_string_equal(kind, "postgres");
	assert_string_equal(name, "orders db");
	assert_int_equal(fl_cfg_split_section("agent", kind, sizeof(kind), name, sizeof(name)), 0);
	assert_string_equal(kind, "agent");
	assert_string_equal(name, "");
	const char *bad[] = {
		"http \"\"",                   // empty name
		"http app",                    // unquoted
		"http \"app",                  // unterminated
		"http app\"",                  // no opening quote
		"http \"a\"b\"",               // quote inside
		" \"app\"",                    // no kind
		"http \"0123456789abcdef\"",   // name does not fit
		"averyveryverylongkind \"x\"", // kind does not fit
		"averyveryverylongkind",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
		    fl_cfg_split_section(bad[i], kind, sizeof(kind), name, sizeof(name)), -1);
	}
}

static void
test_secret_file_permissions(void **state)
{
	(void) state;
	char secret[64], err[256];

	const char *ok = file("pw-ok", "s3cret pass\n", 0600);
	assert_int_equal(fl_cfg_read_secret_file(ok, secret, sizeof(secret), err, sizeof(err)), 0);
	assert_string_equal(secret, "s3cret pass");
	ok = file("pw-ro", "ro\r\nsecond line\n", 0400);
	assert_int_equal(fl_cfg_read_secret_file(ok, secret, sizeof(secret), err, sizeof(err)), 0);
	assert_string_equal(secret, "ro"); // the first line only, without CR LF

	static const mode_t loose[] = { 0640, 0604, 0660, 0644, 0610, 0601 };
	for (size_t i = 0; i < sizeof(loose) / sizeof(loose[0]); i++) {
		const char *p = file("pw-loose", "hunter2\n", loose[i]);
		err[0]        = '\0';
		assert_int_equal(
		    fl_cfg_read_secret_file(p, secret, sizeof(secret), err, sizeof(err)), -1);
		assert_non_null(strstr(err, "chmod 600"));
		assert_null(strstr(err, "hunter2")); // the secret is never in a message
	}
	const char *empty = file("pw-empty", "", 0600);
	assert_int_equal(
	    fl_cfg_read_secret_file(empty, secret, sizeof(secret), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "empty"));
	const char *blank = file("pw-blank", "\n", 0600);
	assert_int_equal(
	    fl_cfg_read_secret_file(blank, secret, sizeof(secret), err, sizeof(err)), -1);

	char missing[128];
	snprintf(missing, sizeof(missing), "%s/absent", dir);
	assert_int_equal(
	    fl_cfg_read_secret_file(missing, secret, sizeof(secret), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot open"));
	assert_int_equal(
	    fl_cfg_read_secret_file(dir, secret, sizeof(secret), err, sizeof(err)), -1);
}

static void
test_secret_too_long_is_refused(void **state)
{
	(void) state;
	char secret[8], err[256];
	// A secret that does not fit must not be silently cut: the cut one would fail to log in
	// with no hint why.
	const char *p = file("pw-long", "0123456789abcdef\n", 0600);
	assert_int_equal(fl_cfg_read_secret_file(p, secret, sizeof(secret), err, sizeof(err)), -1);
	assert_null(strstr(err, "0123"));
	p = file("pw-fits", "0123456\n", 0600); // exactly outlen - 1 characters
	assert_int_equal(fl_cfg_read_secret_file(p, secret, sizeof(secret), err, sizeof(err)), 0);
	assert_string_equal(secret, "0123456");
	p = file("pw-fits-noeol", "0123456", 0600);
	assert_int_equal(fl_cfg_read_secret_file(p, secret, sizeof(secret), err, sizeof(err)), 0);
	assert_string_equal(secret, "0123456");
}

static void
test_first_line(void **state)
{
	(void) state;
	char        line[32];
	const char *p = file("RELEASE", "  2.4.0 \t\r\nnotes\n", 0644);
	assert_int_equal(fl_cfg_read_first_line(p, line, sizeof(line)), 0);
	assert_string_equal(line, "2.4.0");
	p = file("RELEASE2", "2.4.1", 0644); // no newline
	assert_int_equal(fl_cfg_read_first_line(p, line, sizeof(line)), 0);
	assert_string_equal(line, "2.4.1");
	p = file("RELEASE3", "\n2.4.2\n", 0644); // an empty first line is no release
	assert_int_equal(fl_cfg_read_first_line(p, line, sizeof(line)), -1);
	p = file("RELEASE4", "", 0644);
	assert_int_equal(fl_cfg_read_first_line(p, line, sizeof(line)), -1);
	char missing[128];
	snprintf(missing, sizeof(missing), "%s/absent", dir);
	assert_int_equal(fl_cfg_read_first_line(missing, line, sizeof(line)), -1);
}

static void
test_strlcpy_checked(void **state)
{
	(void) state;
	char b[4];
	assert_int_equal(fl_strlcpy_checked(b, "abc", sizeof(b)), 0);
	assert_string_equal(b, "abc");
	assert_int_equal(fl_strlcpy_checked(b, "abcd", sizeof(b)), -1);
	assert_string_equal(b, "abc"); // untouched
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uint_and_bool),
		cmocka_unit_test(test_split_section),
		cmocka_unit_test(test_secret_file_permissions),
		cmocka_unit_test(test_secret_too_long_is_refused),
		cmocka_unit_test(test_first_line),
		cmocka_unit_test(test_strlcpy_checked),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
