// json_test.c - the JSON writer: structure, commas, escaping, numbers, times, pretty output.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fl/json.h"
#include "fl/text.h"

static void
test_nested_structure_and_commas(void **state)
{
	(void) state;
	fl_json j;
	fl_json_init(&j, false);
	fl_json_obj_begin(&j);
	fl_json_kstr(&j, "host", "app1");
	fl_json_kint(&j, "n", -3);
	fl_json_kuint(&j, "u", UINT64_MAX);
	fl_json_kbool(&j, "stale", true);
	fl_json_key(&j, "empty_arr");
	fl_json_arr_begin(&j);
	fl_json_arr_end(&j);
	fl_json_key(&j, "empty_obj");
	fl_json_obj_begin(&j);
	fl_json_obj_end(&j);
	fl_json_key(&j, "list");
	fl_json_arr_begin(&j);
	fl_json_int(&j, 1);
	fl_json_obj_begin(&j);
	fl_json_kstr(&j, "a", NULL);
	fl_json_obj_end(&j);
	fl_json_null(&j);
	fl_json_bool(&j, false);
	fl_json_arr_end(&j);
	fl_json_obj_end(&j);
	assert_string_equal(fl_json_text(&j),
	    "{\"host\":\"app1\",\"n\":-3,\"u\":18446744073709551615,\"stale\":true,"
	    "\"empty_arr\":[],\"empty_obj\":{},\"list\":[1,{\"a\":null},null,false]}");
	fl_json_fini(&j);
}

static void
test_escaping(void **state)
{
	(void) state;
	fl_json j;
	fl_json_init(&j, false);
	fl_json_str(&j, "q\"b\\n\nr\rt\tc\x01\x1f\x7f é →");
	assert_string_equal(
	    fl_json_text(&j), "\"q\\\"b\\\\n\\nr\\rt\\tc\\u0001\\u001f\\u007f é →\"");
	fl_json_fini(&j);
	fl_json_init(&j, false);
	fl_json_obj_begin(&j);
	fl_json_kstr(&j, "we\"ird", "");
	fl_json_obj_end(&j);
	assert_string_equal(fl_json_text(&j), "{\"we\\\"ird\":\"\"}");
	fl_json_fini(&j);
}

// Output is valid UTF-8 whatever the input: invalid sequences become U+FFFD; C1 controls and
// bidi overrides are escaped so the JSON is safe on a terminal too.
static void
test_not_text_becomes_valid_json(void **state)
{
	(void) state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "caf\xe9", "\"caf\\ufffd\"" }, // Latin-1
		{ "a\x9b"
		  "b",
		    "\"a\\ufffdb\"" }, // raw 8-bit CSI byte
		{ "a\xc2\x9b"
		  "b",
		    "\"a\\u009bb\"" },                           // U+009B encoded
		{ "x\xe2\x80\xaey", "\"x\\u202ey\"" },           // RIGHT-TO-LEFT OVERRIDE
		{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" }, // surrogate
		{ "\xe6\x97\xa5", "\"\xe6\x97\xa5\"" },          // valid CJK kept as is
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fl_json j;
		fl_json_init(&j, false);
		fl_json_str(&j, cases[i].in);
		if (strcmp(fl_json_text(&j), cases[i].out) != 0) {
			fail_msg("case %zu: %s", i, fl_json_text(&j));
		}
		fl_json_fini(&j);
	}
}

// Keys come from agents too (label names): a Latin-1 key and a Latin-1 database message as
// value give valid UTF-8, every byte of the output checked.
static void
test_latin1_key_and_value(void **state)
{
	(void) state;
	fl_json j;
	fl_json_init(&j, false);
	fl_json_obj_begin(&j);
	fl_json_kstr(&j, "r\xf4le",
	    "Zugriff verweigert f\xfcr Benutzer 'app' (\xe9"
	    "chec)");
	fl_json_obj_end(&j);
	const char *out = fl_json_text(&j);
	assert_string_equal(
	    out, "{\"r\\ufffdle\":\"Zugriff verweigert f\\ufffdr Benutzer 'app' (\\ufffdchec)\"}");
	assert_true(fl_utf8_valid(out));
	fl_json_fini(&j);
}

static void
test_numbers_and_times(void **state)
{
	(void) state;
	fl_json j;
	fl_json_init(&j, false);
	fl_json_arr_begin(&j);
	fl_json_double(&j, 12.3);
	fl_json_double(&j, 0.0);
	fl_json_double(&j, 1.0 / 0.0); // JSON has no infinity
	fl_json_double(&j, 0.0 / 0.0);
	fl_json_time(&j, 0); // 0: not known
	fl_json_time(&j, 1795615640123000LL);
	fl_json_int(&j, INT64_MIN);
	fl_json_arr_end(&j);
	assert_string_equal(fl_json_text(&j),
	    "[12.3,0,null,null,null,\"2026-11-25T14:07:20.123Z\",-9223372036854775808]");
	fl_json_fini(&j);
}

static void
test_pretty(void **state)
{
	(void) state;
	fl_json j;
	fl_json_init(&j, true);
	fl_json_obj_begin(&j);
	fl_json_key(&j, "a");
	fl_json_arr_begin(&j);
	fl_json_int(&j, 1);
	fl_json_int(&j, 2);
	fl_json_arr_end(&j);
	fl_json_key(&j, "e");
	fl_json_obj_begin(&j);
	fl_json_obj_end(&j);
	fl_json_obj_end(&j);
	assert_string_equal(fl_json_text(&j), "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"e\": {}\n}");
	fl_json_fini(&j);
}

static void
test_empty_and_large(void **state)
{
	(void) state;
	fl_json j;
	fl_json_init(&j, false);
	assert_string_equal(fl_json_text(&j), ""); // nothing written is an empty string, not NULL
	fl_json_fini(&j);
	fl_json_fini(&j); // twice is harmless

	// Growth past the first allocation keeps every byte.
	fl_json_init(&j, false);
	fl_json_arr_begin(&j);
	for (int i = 0; i < 5000; i++) {
		fl_json_str(&j, "0123456789");
	}
	fl_json_arr_end(&j);
	const char *t = fl_json_text(&j);
	assert_non_null(t);
	assert_int_equal(strlen(t), 2 + 5000 * 12 + 4999);
	assert_int_equal(t[strlen(t) - 1], ']');
	fl_json_fini(&j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_structure_and_commas),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_not_text_becomes_valid_json),
		cmocka_unit_test(test_latin1_key_and_value),
		cmocka_unit_test(test_numbers_and_times),
		cmocka_unit_test(test_pretty),
		cmocka_unit_test(test_empty_and_large),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
