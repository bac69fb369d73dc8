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
test_bytes(void **state)
{
	(void) state;
	uint64_t v = 9;
	assert_int_equal(fl_cfg_bytes("4096", 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(fl_cfg_bytes("64KiB", 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(fl_cfg_bytes("16MiB", 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, 16u << 20);
	assert_int_equal(fl_cfg_bytes("2GiB", 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, 2ULL << 30);
	const char *bad[] = { "", "-1", "1 MiB", "1mb", "1KB", "x", "3GiB" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 9;
		assert_int_equal(fl_cfg_bytes(bad[i], 0, 2ULL << 30, &v), -1);
		assert_int_equal(v, 9);
	}
	assert_int_equal(fl_cfg_bytes("1KiB", 4096, UINT64_MAX, &v), -1); // below min
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

// ---- the INI reader ----

// Records what the reader hands over, one "S:text" / "K:key=value" / "E" per event.
typedef struct events {
	char log[2048];
} events;

static void
ev_section(void *user, fl_ini *ini, fl_ini_pos pos, const char *text)
{
	events *e = user;
	(void) ini;
	snprintf(e->log + strlen(e->log), sizeof(e->log) - strlen(e->log), "%d:%d S:%s|", pos.file,
	    pos.line, text);
}

static void
ev_key(void *user, fl_ini *ini, fl_ini_pos pos, const char *key, const char *value)
{
	events *e = user;
	if (strcmp(key, "bad") == 0) {
		fl_ini_err(ini, pos, "bad key %s", value); // a loader's own error
	}
	snprintf(e->log + strlen(e->log), sizeof(e->log) - strlen(e->log), "%d:%d K:%s=%.16s|",
	    pos.file, pos.line, key, value);
}

static void
ev_end(void *user, fl_ini *ini)
{
	events *e = user;
	(void) ini;
	snprintf(e->log + strlen(e->log), sizeof(e->log) - strlen(e->log), "E|");
}

static const fl_ini_ops ev_ops      = { ev_section, ev_key, ev_end, false };
static const fl_ini_ops ev_ops_incl = { ev_section, ev_key, ev_end, true };

static void
test_ini_syntax(void **state)
{
	(void) state;
	events  e   = { "" };
	fl_ini *ini = fl_ini_new();
	// BOM, comments (; and #, indented too), inline ; comments after a blank only, blanks
	// around keys and values, CRLF, an empty value, an indented key (no continuation lines),
	// a comment after a header, and no newline at the end.
	const char text[] = "\xEF\xBB\xBF[a]\r\n; c1\n  # c2\nk1 =  v 1 ; note\nurl=http://h/x;y\n"
	                    "empty =\n   indented = yes\n[ b \"n\" ] ; why\nlast=1";
	assert_int_equal(fl_ini_parse_text(ini, "t", text, strlen(text), &ev_ops, &e), 0);
	assert_string_equal(e.log,
	    "0:1 S:a|0:4 K:k1=v 1|0:5 K:url=http://h/x;y|0:6 K:empty=|"
	    "0:7 K:indented=yes|0:8 S:b \"n\"|0:9 K:last=1|E|");
	fl_ini_free(ini);
}

static void
test_ini_every_error(void **state)
{
	(void) state;
	events  e   = { "" };
	fl_ini *ini = fl_ini_new();
	char    out[4096];
	// Every error of the file, the reader's and the loader's, sorted by line.
	const char text[] = "[a\nno equals sign\n= v\nbad = 1\n[s] trailing\nok = 1\n";
	assert_int_equal(fl_ini_parse_text(ini, "t.conf", text, strlen(text), &ev_ops, &e), 5);
	fl_ini_format_errors(ini, out, sizeof(out));
	assert_string_equal(out,
	    "t.conf:1: malformed section header (no closing ])\n"
	    "t.conf:2: syntax error (expected [section], key = value or a "
	    "comment)\n"
	    "t.conf:3: syntax error (expected [section], key = value or a "
	    "comment)\n"
	    "t.conf:4: bad key 1\n"
	    "t.conf:5: unexpected text after the section header");
	assert_string_equal(e.log, "0:4 K:bad=1|0:6 K:ok=1|E|");
	fl_ini_free(ini);

	// Past FL_INI_MAX_ERRORS, the rest are counted.
	ini               = fl_ini_new();
	char many[64 * 8] = "";
	for (int i = 0; i < 40; i++) {
		strcat(many, "x\n");
	}
	assert_int_equal(fl_ini_parse_text(ini, "m", many, strlen(many), &ev_ops, &e), 40);
	fl_ini_format_errors(ini, out, sizeof(out));
	assert_non_null(strstr(out, "m:32: syntax error"));
	assert_null(strstr(out, "m:33:"));
	assert_non_null(strstr(out, "\nm: 8 more errors not shown"));
	fl_ini_free(ini);
}

static void
test_ini_limits(void **state)
{
	(void) state;
	events  e   = { "" };
	fl_ini *ini = fl_ini_new();
	char    out[512];
	// A line of exactly FL_INI_MAX_LINE bytes passes; one byte more is an error at its line,
	// and the lines after it are still read (not split into phantom lines).
	char *t = malloc(2 * FL_INI_MAX_LINE + 16);
	assert_non_null(t);
	memset(t, 'v', 2 * FL_INI_MAX_LINE + 16);
	memcpy(t, "k=", 2);
	t[FL_INI_MAX_LINE] = '\n'; // line 1: FL_INI_MAX_LINE bytes
	memcpy(t + FL_INI_MAX_LINE + 1, "k=", 2);
	t[2 * FL_INI_MAX_LINE + 2] = '\n'; // line 2: FL_INI_MAX_LINE + 1 bytes
	memcpy(t + 2 * FL_INI_MAX_LINE + 3, "z=1\n", 5);
	assert_int_equal(fl_ini_parse_text(ini, "l", t, strlen(t), &ev_ops, &e), 1);
	fl_ini_format_errors(ini, out, sizeof(out));
	assert_string_equal(out, "l:2: line longer than 16384 bytes");
	assert_string_equal(e.log, "0:1 K:k=vvvvvvvvvvvvvvvv|0:3 K:z=1|E|");
	free(t);
	fl_ini_free(ini);

	// NUL bytes; a missing file; a directory.
	ini = fl_ini_new();
	assert_int_equal(fl_ini_parse_text(ini, "n", "[a]\0x", 6, &ev_ops, &e), 1);
	assert_int_equal(fl_ini_parse_file(ini, "/nonexistent/x.conf", &ev_ops, &e), 2);
	assert_int_equal(fl_ini_parse_file(ini, dir, &ev_ops, &e), 3);
	fl_ini_format_errors(ini, out, sizeof(out));
	char want[512];
	snprintf(want, sizeof(want),
	    "n:0: cannot read: contains a NUL byte (not a text file)\n"
	    "/nonexistent/x.conf:0: cannot read: No such file or directory\n"
	    "%s:0: cannot read: not a regular file",
	    dir);
	assert_string_equal(out, want);
	fl_ini_free(ini);
}

static void
test_ini_include(void **state)
{
	(void) state;
	events  e   = { "" };
	fl_ini *ini = fl_ini_new();
	char    out[1024], path[128], want[1024];

	assert_int_equal(mkdir(strcat(strcpy(path, dir), "/d"), 0700), 0);
	file("d/b.conf", "[b]\nk = 2\n", 0600);
	file("d/a.conf", "[a]\nk = 1\n", 0600);
	file("d/c.txt", "[c]\n", 0600);
	const char *main = file("main.conf", "; top\ninclude = d/*.conf\n[m]\nk = 3\n", 0600);
	snprintf(path, sizeof(path), "%s", main);
	// Without includes enabled, include is an ordinary key.
	assert_int_equal(fl_ini_parse_file(ini, path, &ev_ops, &e), 0);
	assert_string_equal(e.log, "0:2 K:include=d/*.conf|0:3 S:m|0:4 K:k=3|E|");
	fl_ini_free(ini);

	// Sorted, each file ended before the next, then the rest of the main file.
	ini      = fl_ini_new();
	e.log[0] = '\0';
	assert_int_equal(fl_ini_parse_file(ini, path, &ev_ops_incl, &e), 0);
	assert_string_equal(e.log, "1:1 S:a|1:2 K:k=1|E|2:1 S:b|2:2 K:k=2|E|0:3 S:m|0:4 K:k=3|E|");
	snprintf(want, sizeof(want), "%s/d/b.conf:2", dir);
	assert_string_equal(fl_ini_where(ini, (fl_ini_pos) { 2, 2 }, out, sizeof(out)), want);
	fl_ini_free(ini);

	// Errors in an included file name it; an include there is refused (one level).
	file("d/a.conf", "[a]\nnot ini\ninclude = /etc/*.conf\n", 0600);
	ini = fl_ini_new();
	assert_int_equal(fl_ini_parse_file(ini, path, &ev_ops_incl, &e), 2);
	fl_ini_format_errors(ini, out, sizeof(out));
	snprintf(want, sizeof(want),
	    "%s/d/a.conf:2: syntax error (expected [section], key = value or a comment)\n"
	    "%s/d/a.conf:3: include: not allowed in an included file (only the main config "
	    "file includes)",
	    dir, dir);
	assert_string_equal(out, want);
	fl_ini_free(ini);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uint_and_bool),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_split_section),
		cmocka_unit_test(test_secret_file_permissions),
		cmocka_unit_test(test_secret_too_long_is_refused),
		cmocka_unit_test(test_first_line),
		cmocka_unit_test(test_strlcpy_checked),
		cmocka_unit_test(test_ini_syntax),
		cmocka_unit_test(test_ini_every_error),
		cmocka_unit_test(test_ini_limits),
		cmocka_unit_test(test_ini_include),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
