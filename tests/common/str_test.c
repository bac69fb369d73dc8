// str_test.c - the shared string helpers: string-or-empty, dup, bounded copies, string vectors,
// FNV-1a against the published test vectors, and the error buffer.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fl/str.h"

static void
test_or_empty(void **state)
{
	(void) state;
	const char *s = "x";
	assert_string_equal(fl_str_or_empty(NULL), "");
	assert_ptr_equal(fl_str_or_empty(s), s);
}

static void
test_dup(void **state)
{
	(void) state;
	char *a = fl_str_dup(NULL);
	char *b = fl_str_dup("db1");
	assert_non_null(a);
	assert_string_equal(a, "");
	assert_string_equal(b, "db1");
	free(a);
	free(b);
}

static void
test_replace(void **state)
{
	(void) state;
	char *s = NULL;

	assert_int_equal(fl_str_replace(&s, "a"), 1);
	assert_string_equal(s, "a");
	const char *before = s;
	assert_int_equal(fl_str_replace(&s, "a"), 0);
	assert_ptr_equal(s, before); // equal: kept, not copied again
	assert_int_equal(fl_str_replace(&s, NULL), 1);
	assert_string_equal(s, "");
	assert_int_equal(fl_str_replace(&s, ""), 0);
	free(s);
}

static void
test_copy_trunc(void **state)
{
	(void) state;
	char buf[5];

	memset(buf, 'z', sizeof(buf));
	assert_true(fl_str_copy_trunc(buf, sizeof(buf), "abcd"));
	assert_string_equal(buf, "abcd");
	assert_false(fl_str_copy_trunc(buf, sizeof(buf), "abcdef"));
	assert_string_equal(buf, "abcd");
	assert_true(fl_str_copy_trunc(buf, sizeof(buf), NULL));
	assert_string_equal(buf, "");
	assert_false(fl_str_copy_trunc(buf, 1, "a"));
	assert_string_equal(buf, "");
}

static void
test_strlcpy_checked(void **state)
{
	(void) state;
	char buf[4] = "old";

	assert_int_equal(fl_strlcpy_checked(buf, "abcd", sizeof(buf)), -1);
	assert_string_equal(buf, "old"); // untouched when it does not fit
	assert_int_equal(fl_strlcpy_checked(buf, "abc", sizeof(buf)), 0);
	assert_string_equal(buf, "abc");
}

static void
test_strv(void **state)
{
	(void) state;
	char **v = NULL;
	size_t n = 0;

	assert_false(fl_strv_contains(v, n, "a"));
	assert_int_equal(fl_strv_add(&v, &n, "a"), 0);
	assert_int_equal(fl_strv_add(&v, &n, NULL), 0);
	assert_int_equal(fl_strv_add(&v, &n, "ccc"), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0], "a");
	assert_string_equal(v[1], "");
	assert_string_equal(v[2], "ccc");
	assert_true(fl_strv_contains(v, n, "ccc"));
	assert_true(fl_strv_contains(v, n, ""));
	assert_false(fl_strv_contains(v, n, "cc"));
	assert_false(fl_strv_contains(v, 2, "ccc")); // only the first n count
	fl_strv_free(v, n);
	fl_strv_free(NULL, 0);
}

// The published 64-bit FNV-1a test vectors (fnv.c test suite of the reference implementation).
static void
test_fnv1a(void **state)
{
	(void) state;
	assert_true(FL_FNV1A_OFFSET == 0xcbf29ce484222325ULL);
	assert_true(fl_fnv1a_str("") == 0xcbf29ce484222325ULL);
	assert_true(fl_fnv1a_str(NULL) == 0xcbf29ce484222325ULL);
	assert_true(fl_fnv1a_str("a") == 0xaf63dc4c8601ec8cULL);
	assert_true(fl_fnv1a_str("foobar") == 0x85944171f73967e8ULL);
	// Folding piece by piece is the same as hashing the concatenation.
	assert_true(fl_fnv1a(fl_fnv1a_str("foo"), "bar") == fl_fnv1a_str("foobar"));
	// Bytes with NUL among them: "a\0b" differs from "a".
	assert_true(fl_fnv1a_bytes(FL_FNV1A_OFFSET, "a", 1) == 0xaf63dc4c8601ec8cULL);
	assert_true(
	    fl_fnv1a_bytes(FL_FNV1A_OFFSET, "a\0b", 3) != fl_fnv1a_bytes(FL_FNV1A_OFFSET, "a", 1));
	assert_true(fl_fnv1a_bytes(FL_FNV1A_OFFSET, "", 0) == FL_FNV1A_OFFSET);
	// Fields: a separator after each, so bytes cannot move from one field to the next.
	uint64_t ab_c = fl_fnv1a_field(fl_fnv1a_field(FL_FNV1A_OFFSET, "ab"), "c");
	uint64_t a_bc = fl_fnv1a_field(fl_fnv1a_field(FL_FNV1A_OFFSET, "a"), "bc");
	assert_true(ab_c != a_bc);
	assert_true(
	    fl_fnv1a_field(FL_FNV1A_OFFSET, "a") == fl_fnv1a_bytes(FL_FNV1A_OFFSET, "a\xff", 2));
	// Bytes above 0x7f count as unsigned.
	assert_true(fl_fnv1a_str("\xe9") == ((FL_FNV1A_OFFSET ^ 0xe9ULL) * FL_FNV1A_PRIME));
}

static void
test_err_set(void **state)
{
	(void) state;
	char err[8] = "";

	assert_int_equal(fl_err_set(err, sizeof(err), -3, "cannot %s", "open"), -3);
	assert_string_equal(err, "cannot "); // cut to fit, terminated
	assert_int_equal(fl_err_set(NULL, 0, 7, "ignored %d", 1), 7);
	strcpy(err, "kept");
	assert_int_equal(fl_err_set(err, 0, 1, "x"), 1);
	assert_string_equal(err, "kept"); // a zero-length buffer is not written
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_or_empty),
		cmocka_unit_test(test_dup),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_copy_trunc),
		cmocka_unit_test(test_strlcpy_checked),
		cmocka_unit_test(test_strv),
		cmocka_unit_test(test_fnv1a),
		cmocka_unit_test(test_err_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
