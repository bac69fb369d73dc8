// cert_test.c - certificate time parsing and the cert_warn key (agent/src/probes/util.c).

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "probes/util.h"

static void
test_cert_time_parse(void **state)
{
	(void) state;
	static const struct {
		const char *text;
		int64_t     unix_s; // 0: rejected
	} cases[] = {
		{ "Mar  1 12:00:00 2027 GMT", 1803902400 },
		{ "Jan 15 08:00:00 2027 GMT", 1800000000 },
		{ "Feb 29 00:00:00 2028 GMT", 1835395200 }, // leap day
		{ "Dec 31 23:59:59 1999 GMT", 946684799 },
		{ " Nov 30 10:43:33 2026 GMT", 1796035413 }, // curl's field keeps a leading space
		{ "Mar  1 12:00:00 2027 UTC", 0 },
		{ "Foo  1 12:00:00 2027 GMT", 0 },
		{ "Mar 32 12:00:00 2027 GMT", 0 },
		{ "Mar  1 12:00 2027 GMT", 0 },
		{ "Mar  1 12:00:00 2027 GMT trailing", 0 },
		{ "", 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t got = agent_cert_time_parse(cases[i].text);
		if (got != cases[i].unix_s * 1000000) {
			fail_msg("\"%s\": %lld, want %lld s", cases[i].text,
			    (long long) (got / 1000000), (long long) cases[i].unix_s);
		}
	}
	assert_int_equal(agent_cert_time_parse(NULL), 0);
}

static void
test_cert_warn_key(void **state)
{
	(void) state;
	char     why[128];
	uint32_t s = 1;
	assert_int_equal(agent_set_cert_warn("14d", &s, why, sizeof(why)), 0);
	assert_int_equal(s, 14 * 86400);
	assert_int_equal(agent_set_cert_warn("12h", &s, why, sizeof(why)), 0);
	assert_int_equal(s, 12 * 3600);
	assert_int_equal(agent_set_cert_warn("0", &s, why, sizeof(why)), 0);
	assert_int_equal(s, 0);
	assert_int_equal(agent_set_cert_warn("3650d", &s, why, sizeof(why)), 0);
	assert_int_equal(agent_set_cert_warn("3651d", &s, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "14d"));
	assert_int_equal(agent_set_cert_warn("-1d", &s, why, sizeof(why)), -1);
	assert_int_equal(agent_set_cert_warn("d", &s, why, sizeof(why)), -1);
	assert_int_equal(agent_set_cert_warn("two weeks", &s, why, sizeof(why)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cert_time_parse),
		cmocka_unit_test(test_cert_warn_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
