// canary_test.c - the canary rule of `faultline verify`, row by row (collector/src/canary.h).

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "canary.h"

typedef struct row {
	const char      *what;
	coll_canary_side cand, base;
	unsigned         want;
} row;

static const coll_canary_rule defaults = { 0.05, 1.5, 20 };

static const row rows[] = {
	{ "identical groups", { 0.0, 10 }, { 0.0, 10 }, 0 },
	{ "error rate up by exactly the allowance", { 0.05, 10 }, { 0.0, 10 }, 0 },
	{ "error rate up by more than the allowance", { 0.06, 10 }, { 0.0, 10 },
	    COLL_CANARY_MORE_ERRORS },
	{ "canary fails everything (a 503 release)", { 1.0, 0 }, { 0.0, 12 },
	    COLL_CANARY_MORE_ERRORS },
	{ "both groups fail alike (not the release)", { 0.5, 10 }, { 0.5, 10 }, 0 },
	{ "canary better than baseline", { 0.0, 5 }, { 0.2, 50 }, 0 },
	{ "slower, within ratio + slack", { 0.0, 35 }, { 0.0, 10 }, 0 },
	{ "slower past ratio + slack", { 0.0, 36 }, { 0.0, 10 }, COLL_CANARY_SLOWER },
	{ "loopback noise: 2 ms vs 1 ms", { 0.0, 2 }, { 0.0, 1 }, 0 },
	{ "no passing baseline sample: no latency verdict", { 0.0, 500 }, { 0.0, 0 }, 0 },
	{ "worse on both counts", { 0.5, 400 }, { 0.0, 100 },
	    COLL_CANARY_MORE_ERRORS | COLL_CANARY_SLOWER },
};

static void
test_rule_table(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		unsigned got = coll_canary_judge(&defaults, &rows[i].cand, &rows[i].base);
		if (got != rows[i].want) {
			fail_msg("%s: got %u, want %u", rows[i].what, got, rows[i].want);
		}
	}
}

// The thresholds are the caller's: a stricter rule fails what the default passes.
static void
test_thresholds_are_parameters(void **state)
{
	(void) state;
	coll_canary_rule strict = { 0.0, 1.1, 0 };
	coll_canary_side cand = { 0.01, 12 }, base = { 0.0, 10 };
	assert_int_equal(coll_canary_judge(&defaults, &cand, &base), 0);
	assert_int_equal(
	    coll_canary_judge(&strict, &cand, &base), COLL_CANARY_MORE_ERRORS | COLL_CANARY_SLOWER);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_table),
		cmocka_unit_test(test_thresholds_are_parameters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
