// api_query_test.c - the HTTP API's query-string parser (api_query.h): pairs, percent-decoding,
// repeated and unknown keys, bounds, and the error sentences a client reads.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_query.h"

static const char *const keys[] = { "since", "host", "limit" };
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static coll_api_query q;
static char           err[256];

static int
parse(const char *query)
{
	err[0] = '\0';
	return coll_api_query_parse(query, keys, N_KEYS, &q, err, sizeof(err));
}

// query fails with an error containing want.
static void
assert_refused(const char *query, const char *want)
{
	if (parse(query) != -1) {
		fail_msg("'%s' was accepted", query);
	}
	if (strstr(err, want) == NULL) {
		fail_msg("'%s': error '%s' does not contain '%s'", query, err, want);
	}
}

static void
test_empty(void **state)
{
	(void) state;
	assert_int_equal(parse(NULL), 0);
	assert_int_equal(q.n, 0);
	assert_int_equal(parse(""), 0);
	assert_int_equal(q.n, 0);
	assert_int_equal(parse("&&&"), 0); // empty pairs are skipped
	assert_int_equal(q.n, 0);
	assert_null(coll_api_query_get(&q, "host"));
}

static void
test_pairs(void **state)
{
	(void) state;
	assert_int_equal(parse("host=app1&limit=5&since=1h&"), 0);
	assert_int_equal(q.n, 3);
	assert_string_equal(coll_api_query_get(&q, "host"), "app1");
	assert_string_equal(coll_api_query_get(&q, "limit"), "5");
	assert_string_equal(coll_api_query_get(&q, "since"), "1h");
	// A key alone and a key with '=' but nothing after it both carry "".
	assert_int_equal(parse("host&limit="), 0);
	assert_string_equal(coll_api_query_get(&q, "host"), "");
	assert_string_equal(coll_api_query_get(&q, "limit"), "");
	// Only the first '=' splits: the rest belongs to the value.
	assert_int_equal(parse("host=a=b"), 0);
	assert_string_equal(coll_api_query_get(&q, "host"), "a=b");
}

static void
test_percent_decoding(void **state)
{
	(void) state;
	assert_int_equal(parse("host=%61pp%2D1"), 0);
	assert_string_equal(coll_api_query_get(&q, "host"), "app-1");
	assert_int_equal(parse("since=2026-11-25T14%3a00%3A00Z"), 0); // either case of hex
	assert_string_equal(coll_api_query_get(&q, "since"), "2026-11-25T14:00:00Z");
	assert_int_equal(parse("host=a+b%2Bc%26d%3De"), 0); // '+' is a space; %2B a plus
	assert_string_equal(coll_api_query_get(&q, "host"), "a b+c&d=e");
	assert_int_equal(parse("%68ost=x"), 0); // keys are decoded too
	assert_string_equal(coll_api_query_get(&q, "host"), "x");
	assert_int_equal(parse("host=%3Cscript%3E%22%27"), 0); // hostile but printable: kept
	assert_string_equal(coll_api_query_get(&q, "host"), "<script>\"'");
	assert_int_equal(parse("host=%C3%A9"), 0); // UTF-8 bytes pass through
	assert_string_equal(coll_api_query_get(&q, "host"), "\xc3\xa9");
}

static void
test_bad_escapes(void **state)
{
	(void) state;
	assert_refused("host=%", "parameter 'host': bad %-escape");
	assert_refused("host=%4", "parameter 'host': bad %-escape");
	assert_refused("host=%zz", "parameter 'host': bad %-escape");
	assert_refused("host=ab%", "bad %-escape");
	assert_refused("ho%st=1", "a parameter name has a bad %-escape");
	assert_refused("host=a%00b", "parameter 'host': control characters are not allowed");
	assert_refused("host=a%0Ab", "control characters");
	assert_refused("host=a%7Fb", "control characters");
	assert_refused("host=a\tb", "control characters"); // raw, not escaped
	assert_refused("ho%0Ast=1", "a parameter name has a control character");
}

static void
test_unknown_and_repeated(void **state)
{
	(void) state;
	assert_refused("limt=5", "unknown parameter 'limt'");
	assert_refused("host=a&Host=b", "unknown parameter 'Host'"); // case matters
	assert_refused("=5", "a parameter has no name");
	assert_refused("host=a&host=b", "parameter 'host' given more than once");
	assert_refused("host=a&h%6Fst=a", "parameter 'host' given more than once");
	// The route accepts no key at all.
	assert_int_equal(coll_api_query_parse("x=1", NULL, 0, &q, err, sizeof(err)), -1);
	assert_string_equal(err, "unknown parameter 'x'");
	assert_int_equal(coll_api_query_parse("", NULL, 0, &q, err, sizeof(err)), 0);
}

static void
test_bounds(void **state)
{
	char       *long_value = malloc(COLL_API_VALUE_MAX + 16);
	static char many[COLL_API_MAX_PARAMS * 8 + 64];
	const char *more_keys[COLL_API_MAX_PARAMS + 1];
	static char names[COLL_API_MAX_PARAMS + 1][8];
	char        key[COLL_API_KEY_MAX + 8];
	size_t      used = 0;

	(void) state;
	assert_non_null(long_value);
	// The longest value fits; one byte more does not.
	memcpy(long_value, "host=", 5);
	memset(long_value + 5, 'a', COLL_API_VALUE_MAX - 1);
	long_value[5 + COLL_API_VALUE_MAX - 1] = '\0';
	assert_int_equal(parse(long_value), 0);
	assert_int_equal(strlen(coll_api_query_get(&q, "host")), COLL_API_VALUE_MAX - 1);
	strcat(long_value, "a");
	assert_refused(long_value, "parameter 'host': value too long");
	// Three bytes of escape count as the one byte they decode to.
	memcpy(long_value + 5, "%61", 3);
	long_value[5 + COLL_API_VALUE_MAX - 1 + 2] = '\0';
	assert_int_equal(parse(long_value), 0);
	free(long_value);

	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	assert_refused(key, "a parameter name is too long");

	// COLL_API_MAX_PARAMS pairs pass, one more does not.
	for (size_t i = 0; i <= COLL_API_MAX_PARAMS; i++) {
		snprintf(names[i], sizeof(names[i]), "k%zu", i);
		more_keys[i] = names[i];
	}
	for (size_t i = 0; i < COLL_API_MAX_PARAMS; i++) {
		used += (size_t) snprintf(
		    many + used, sizeof(many) - used, "%sk%zu=1", i ? "&" : "", i);
	}
	assert_int_equal(
	    coll_api_query_parse(many, more_keys, COLL_API_MAX_PARAMS + 1, &q, err, sizeof(err)),
	    0);
	assert_int_equal(q.n, COLL_API_MAX_PARAMS);
	snprintf(many + used, sizeof(many) - used, "&k%d=1", COLL_API_MAX_PARAMS);
	assert_int_equal(
	    coll_api_query_parse(many, more_keys, COLL_API_MAX_PARAMS + 1, &q, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "too many parameters (at most 16)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_pairs),
		cmocka_unit_test(test_percent_decoding),
		cmocka_unit_test(test_bad_escapes),
		cmocka_unit_test(test_unknown_and_repeated),
		cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
