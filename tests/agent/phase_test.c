// phase_test.c - the one phase timer of every probe (agent_phase_us, agent/src/probes/util.c):
// a phase that happened is at least 1 us, whatever the clock did (probe.h), and a long one is
// clamped to the field's range instead of wrapping.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "probes/util.h"

static void
test_phase_us(void **state)
{
	(void) state;
	static const struct {
		int64_t  from, to;
		uint32_t us;
	} cases[] = {
		{ 1000, 1250, 250 },
		{ 1000, 1001, 1 },
		{ 1000, 1000, 1 }, // too fast for the clock: it happened, so 1, never 0
		{ 1000, 999, 1 },  // readings out of order must not wrap to a huge value
		{ 0, UINT32_MAX, UINT32_MAX },
		{ 0, (int64_t) UINT32_MAX + 5, UINT32_MAX }, // 71 minutes and more: clamped
		{ INT64_MIN / 2, INT64_MAX / 2, UINT32_MAX },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(agent_phase_us(cases[i].from, cases[i].to), cases[i].us);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phase_us),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
