// urls_test.c - comma-separated URL lists (fl/urls.h): blanks, the bound, duplicates, bad
// entries named, and a single URL read as before.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fl/urls.h"

static void
test_single_url_is_a_list_of_one(void **state)
{
	(void) state;
	fl_urls l;
	char    why[200];
	assert_int_equal(fl_urls_parse("tcp://127.0.0.1:7600", false, &l, why, sizeof(why)), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0], "tcp://127.0.0.1:7600");
}

static void
test_blanks_around_entries(void **state)
{
	(void) state;
	fl_urls l;
	char    why[200];
	assert_int_equal(fl_urls_parse(" tcp://c1:7600 ,\ttcp://c2:7600 , ipc:///run/x.sock ",
	                     false, &l, why, sizeof(why)),
	    0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0], "tcp://c1:7600");
	assert_string_equal(l.v[1], "tcp://c2:7600");
	assert_string_equal(l.v[2], "ipc:///run/x.sock");
}

static void
test_empty(void **state)
{
	(void) state;
	fl_urls l;
	char    why[200];
	assert_int_equal(fl_urls_parse("  ", true, &l, why, sizeof(why)), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(fl_urls_parse("", false, &l, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "nng URL"));
}

static void
test_bad_entries_named(void **state)
{
	(void) state;
	fl_urls l;
	char    why[200];
	assert_int_equal(fl_urls_parse("tcp://c1:7600, c2:7600", false, &l, why, sizeof(why)), -1);
	assert_string_equal(
	    why, "\"c2:7600\" must be an nng URL such as tcp://HOST:PORT or ipc:///PATH");
	assert_int_equal(
	    fl_urls_parse("tcp://c1:7600,,tcp://c2:7600", false, &l, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "empty entry"));
	assert_int_equal(fl_urls_parse("tcp://c1:7600,", false, &l, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "empty entry"));
	assert_int_equal(fl_urls_parse("tcp://c1:1, tcp://c1:1", false, &l, why, sizeof(why)), -1);
	assert_string_equal(why, "\"tcp://c1:1\" is in the list twice");
	assert_int_equal(fl_urls_parse("://x", false, &l, why, sizeof(why)), -1);
}

static void
test_bounded_count_and_length(void **state)
{
	(void) state;
	fl_urls l;
	char    why[200], text[2048] = "";
	for (int i = 0; i < FL_URLS_MAX; i++) {
		char one[32];
		snprintf(one, sizeof(one), "%stcp://c%d:7600", i ? "," : "", i);
		strcat(text, one);
	}
	assert_int_equal(fl_urls_parse(text, false, &l, why, sizeof(why)), 0);
	assert_int_equal(l.n, FL_URLS_MAX);
	strcat(text, ",tcp://one-more:7600");
	assert_int_equal(fl_urls_parse(text, false, &l, why, sizeof(why)), -1);
	assert_string_equal(why, "more than 8 URLs in the list");

	char long_url[FL_URL_LEN + 16];
	memset(long_url, 'a', sizeof(long_url) - 1);
	long_url[sizeof(long_url) - 1] = '\0';
	memcpy(long_url, "tcp://", 6);
	assert_int_equal(fl_urls_parse(long_url, false, &l, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "longer than 255 bytes"));
}

static void
test_any_tls(void **state)
{
	(void) state;
	assert_false(fl_urls_any_tls("tcp://c1:7600, tcp://c2:7600"));
	assert_true(fl_urls_any_tls("tcp://c1:7600, tls+tcp://c2:7600"));
	assert_true(fl_urls_any_tls("tls+tcp://c1:7600"));
	assert_false(fl_urls_any_tls(""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_url_is_a_list_of_one),
		cmocka_unit_test(test_blanks_around_entries),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_bad_entries_named),
		cmocka_unit_test(test_bounded_count_and_length),
		cmocka_unit_test(test_any_tls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
