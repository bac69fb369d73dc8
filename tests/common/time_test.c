// time_test.c - durations (parse and format), RFC 3339 formatting, clocks, interruptible sleep.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fl/arith.h"
#include "fl/time.h"

static void
test_duration_parse_good(void **state)
{
	(void) state;
	static const struct {
		const char *text;
		uint32_t    ms;
	} good[] = {
		{ "500ms", 500 }, { "5s", 5000 }, { "1m", 60000 }, { "2h", 7200000 },
		{ "1.5s", 1500 }, { "3", 3000 }, // a bare number is seconds
		{ "0", 0 }, { "0ms", 0 }, { "24h", 86400000 },
		{ "0.5ms", 1 }, // rounded to the nearest ms
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint32_t ms = 12345;
		assert_int_equal(fl_duration_parse(good[i].text, &ms), 0);
		assert_int_equal(ms, good[i].ms);
	}
}

static void
test_duration_parse_bad(void **state)
{
	(void) state;
	static const char *const bad[] = { "", "-1s", "+1s", " 5s", "5 s", "5s ", "5x", "s", "ms",
		"5sec", "nan", "inf", "25h", "86401s", "1e400", "5mss" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t ms = 777;
		assert_int_equal(fl_duration_parse(bad[i], &ms), -1);
		assert_int_equal(ms, 777); // untouched on error
	}
	uint32_t ms = 777;
	assert_int_equal(fl_duration_parse(NULL, &ms), -1);
}

static void
test_time_format_rfc3339(void **state)
{
	(void) state;
	char b[40];
	assert_string_equal(fl_time_format(0, b, sizeof(b)), "1970-01-01T00:00:00.000Z");
	assert_string_equal(
	    fl_time_format(1795615640123456LL, b, sizeof(b)), "2026-11-25T14:07:20.123Z");
	assert_string_equal(fl_time_format(951782400000000LL, b, sizeof(b)),
	    "2000-02-29T00:00:00.000Z"); // leap day
	// The result fits the documented 32 bytes.
	assert_true(strlen(fl_time_format(253402300799999999LL, b, sizeof(b))) < 32);
}

static void
test_duration_format(void **state)
{
	(void) state;
	char b[32];
	assert_string_equal(fl_duration_format(0, b, sizeof(b)), "0us");
	assert_string_equal(fl_duration_format(850, b, sizeof(b)), "850us");
	assert_string_equal(fl_duration_format(12300, b, sizeof(b)), "12.3ms");
	assert_string_equal(fl_duration_format(4200000, b, sizeof(b)), "4.2s");
	assert_string_equal(fl_duration_format(190000000, b, sizeof(b)), "3m10s");
	assert_string_equal(fl_duration_format(7500000000LL, b, sizeof(b)), "2h05m");
	assert_string_equal(fl_duration_format(-3200000, b, sizeof(b)), "-3.2s");
	// Extremes (a crafted agent time): no overflow, a number of hours.
	assert_string_equal(fl_duration_format(INT64_MAX, b, sizeof(b)), "2562047788h00m");
	assert_string_equal(fl_duration_format(INT64_MIN, b, sizeof(b)), "-2562047788h00m");
}

static void
test_clocks(void **state)
{
	(void) state;
	int64_t wall = fl_now_us();
	assert_true(wall > 1700000000LL * 1000000); // after 2023
	int64_t a = fl_mono_us();
	int64_t b = fl_mono_us();
	assert_true(b >= a);
}

static void
test_sleep_unless(void **state)
{
	(void) state;
	volatile int stop = 0;
	int64_t      t0   = fl_mono_us();
	assert_int_equal(fl_sleep_ms_unless(60, &stop), 0);
	int64_t took = fl_mono_us() - t0;
	assert_true(took >= 60000);
	assert_true(took < 2000000);
	stop = 1; // already asked to stop: returns at once, saying so
	t0   = fl_mono_us();
	assert_int_equal(fl_sleep_ms_unless(10000, &stop), 1);
	assert_true(fl_mono_us() - t0 < 1000000);
}

// The collector's time arithmetic clamps instead of overflowing (UB, and a UBSan abort here).
static void
test_saturating_arithmetic(void **state)
{
	(void) state;
	assert_int_equal(fl_add_sat(1, 2), 3);
	assert_int_equal(fl_sub_sat(1, 2), -1);
	assert_int_equal(fl_mul_sat(-3, 4), -12);
	assert_true(fl_add_sat(INT64_MAX, 1) == INT64_MAX);
	assert_true(fl_add_sat(INT64_MIN, -1) == INT64_MIN);
	assert_true(fl_add_sat(INT64_MAX, INT64_MIN) == -1);
	assert_true(fl_sub_sat(INT64_MIN, 1) == INT64_MIN);
	assert_true(fl_sub_sat(INT64_MAX, -1) == INT64_MAX);
	assert_true(fl_sub_sat(0, INT64_MIN) == INT64_MAX);
	assert_true(fl_sub_sat(-1, INT64_MIN) == INT64_MAX);
	assert_true(fl_sub_sat(INT64_MAX, INT64_MIN) == INT64_MAX);
	assert_true(fl_sub_sat(INT64_MIN, INT64_MAX) == INT64_MIN);
	assert_true(fl_mul_sat(INT64_MAX, 1000) == INT64_MAX);
	assert_true(fl_mul_sat(INT64_MIN, 1000) == INT64_MIN);
	assert_true(fl_mul_sat(INT64_MIN, -1) == INT64_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_parse_good),
		cmocka_unit_test(test_duration_parse_bad),
		cmocka_unit_test(test_time_format_rfc3339),
		cmocka_unit_test(test_duration_format),
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_sleep_unless),
		cmocka_unit_test(test_saturating_arithmetic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
