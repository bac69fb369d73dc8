// names_test.c - the text names of wire enums are a public contract: exact, reversible, and
// "unknown" for values this build does not know.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fl/names.h"

static void
test_status_and_kind(void **state)
{
	(void) state;
	assert_string_equal(fl_status_name(FL__STATUS__STATUS_OK), "ok");
	assert_string_equal(fl_status_name(FL__STATUS__STATUS_WARN), "warn");
	assert_string_equal(fl_status_name(FL__STATUS__STATUS_FAIL), "fail");
	assert_string_equal(fl_status_name(FL__STATUS__STATUS_UNKNOWN), "unknown");
	assert_string_equal(fl_status_name((Fl__Status) 42), "unknown");
	assert_string_equal(fl_status_name((Fl__Status) -1), "unknown");
	assert_int_equal(fl_status_parse("fail"), FL__STATUS__STATUS_FAIL);
	assert_int_equal(fl_status_parse("FAIL"), -1);
	assert_string_equal(fl_kind_name(FL__PROBE_KIND__KIND_HTTP), "http");
	assert_string_equal(fl_kind_name(FL__PROBE_KIND__KIND_TCP), "tcp");
	assert_string_equal(fl_kind_name(FL__PROBE_KIND__KIND_DNS), "dns");
	assert_string_equal(fl_kind_name(FL__PROBE_KIND__KIND_POSTGRES), "postgres");
	assert_string_equal(fl_kind_name(FL__PROBE_KIND__KIND_MYSQL), "mysql");
	assert_int_equal(fl_kind_parse("mysql"), FL__PROBE_KIND__KIND_MYSQL);
	assert_int_equal(fl_kind_parse("mariadb"), -1);
}

static void
test_failure_names_exact_and_reversible(void **state)
{
	(void) state;
	static const struct {
		Fl__FailureClass f;
		const char      *name;
	} contract[] = {
		{ FL__FAILURE_CLASS__FAILURE_NONE, "none" },
		{ FL__FAILURE_CLASS__FAILURE_DNS, "dns" },
		{ FL__FAILURE_CLASS__FAILURE_REFUSED, "refused" },
		{ FL__FAILURE_CLASS__FAILURE_TIMEOUT, "timeout" },
		{ FL__FAILURE_CLASS__FAILURE_TLS, "tls" },
		{ FL__FAILURE_CLASS__FAILURE_HTTP_5XX, "http_5xx" },
		{ FL__FAILURE_CLASS__FAILURE_HTTP_4XX, "http_4xx" },
		{ FL__FAILURE_CLASS__FAILURE_BODY_MISMATCH, "body_mismatch" },
		{ FL__FAILURE_CLASS__FAILURE_SLOW, "slow" },
		{ FL__FAILURE_CLASS__FAILURE_UNREACHABLE, "unreachable" },
		{ FL__FAILURE_CLASS__FAILURE_RESET, "reset" },
		{ FL__FAILURE_CLASS__FAILURE_PROTOCOL, "protocol" },
		{ FL__FAILURE_CLASS__FAILURE_HTTP_STATUS, "http_status" },
		{ FL__FAILURE_CLASS__FAILURE_INTERNAL, "internal" },
		{ FL__FAILURE_CLASS__FAILURE_AUTH_FAILED, "auth_failed" },
		{ FL__FAILURE_CLASS__FAILURE_DATABASE_MISSING, "database_missing" },
		{ FL__FAILURE_CLASS__FAILURE_TOO_MANY_CONNECTIONS, "too_many_connections" },
		{ FL__FAILURE_CLASS__FAILURE_SERVER_STARTING_OR_STOPPING,
		    "server_starting_or_stopping" },
		{ FL__FAILURE_CLASS__FAILURE_PRIVILEGE_MISSING, "privilege_missing" },
		{ FL__FAILURE_CLASS__FAILURE_OBJECT_MISSING, "object_missing" },
		{ FL__FAILURE_CLASS__FAILURE_QUERY_ERROR, "query_error" },
		{ FL__FAILURE_CLASS__FAILURE_EXPECTATIONS_INVALID, "expectations_invalid" },
	};
	for (size_t i = 0; i < sizeof(contract) / sizeof(contract[0]); i++) {
		assert_string_equal(fl_failure_name(contract[i].f), contract[i].name);
		assert_int_equal(fl_failure_parse(contract[i].name), contract[i].f);
	}
	// Every value the generated descriptor knows has a name (a new enum value without a name
	// would print "unknown" in JSON).
	const ProtobufCEnumDescriptor *d = &fl__failure_class__descriptor;
	for (unsigned i = 0; i < d->n_values; i++) {
		assert_string_not_equal(
		    fl_failure_name((Fl__FailureClass) d->values[i].value), "unknown");
	}
	// The gap between the network and database classes, and values from a newer agent.
	assert_string_equal(fl_failure_name((Fl__FailureClass) 14), "unknown");
	assert_string_equal(fl_failure_name((Fl__FailureClass) 19), "unknown");
	assert_string_equal(fl_failure_name((Fl__FailureClass) 1000), "unknown");
	assert_int_equal(fl_failure_parse("unknown"), -1);
	assert_int_equal(fl_failure_parse(""), -1);
}

static void
test_verdict_and_object_kind(void **state)
{
	(void) state;
	const char *verdicts[] = { "unknown", "healthy", "code", "database", "network", "host" };
	for (int v = 0; v < 6; v++) {
		assert_string_equal(fl_verdict_name((Fl__Verdict) v), verdicts[v]);
		assert_int_equal(fl_verdict_parse(verdicts[v]), v);
	}
	assert_string_equal(fl_verdict_name((Fl__Verdict) 6), "unknown");
	assert_string_equal(fl_object_kind_name(FL__OBJECT_KIND__OBJECT_TABLE), "table");
	assert_string_equal(fl_object_kind_name(FL__OBJECT_KIND__OBJECT_COLUMN), "column");
	assert_string_equal(fl_object_kind_name(FL__OBJECT_KIND__OBJECT_DATABASE), "database");
	assert_string_equal(fl_object_kind_name((Fl__ObjectKind) 99), "unknown");
	const ProtobufCEnumDescriptor *d = &fl__status__descriptor;
	for (unsigned i = 0; i < d->n_values; i++) {
		int v = d->values[i].value;
		assert_int_equal(fl_status_parse(fl_status_name((Fl__Status) v)), v);
	}
}

// The names of the closed sets that used to travel as text: exact (they are the JSON text and
// the stored history kinds), reversible, "unknown" outside the set.
static void
test_history_and_verify_names(void **state)
{
	(void) state;
	static const char *const kinds[] = { "unknown", "status", "release", "stale", "back",
		"verdict", "verification", "forgotten", "dns" };
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		assert_string_equal(fl_history_kind_name((Fl__HistoryKind) i), kinds[i]);
		assert_int_equal(fl_history_kind_parse(kinds[i]), (int) i);
	}
	assert_string_equal(fl_history_kind_name((Fl__HistoryKind) 99), "unknown");
	assert_int_equal(fl_history_kind_parse("Stale"), -1);

	assert_string_equal(
	    fl_verify_result_name(FL__VERIFY_RESULT__VERIFY_RESULT_PASSED), "passed");
	assert_string_equal(
	    fl_verify_result_name(FL__VERIFY_RESULT__VERIFY_RESULT_FAILED), "failed");
	assert_string_equal(
	    fl_verify_result_name(FL__VERIFY_RESULT__VERIFY_RESULT_UNVERIFIED), "unverified");
	assert_string_equal(fl_verify_result_name((Fl__VerifyResult) 42), "unknown");
	assert_int_equal(fl_verify_result_parse("failed"), FL__VERIFY_RESULT__VERIFY_RESULT_FAILED);

	static const char *const checks[] = { "unknown", "probe", "expectations", "release",
		"canary", "rollback", "timeout" };
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		assert_string_equal(fl_verify_check_name((Fl__VerifyCheck) i), checks[i]);
		assert_int_equal(fl_verify_check_parse(checks[i]), (int) i);
	}
	assert_string_equal(fl_verify_check_name((Fl__VerifyCheck) -1), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_history_and_verify_names),
		cmocka_unit_test(test_status_and_kind),
		cmocka_unit_test(test_failure_names_exact_and_reversible),
		cmocka_unit_test(test_verdict_and_object_kind),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
