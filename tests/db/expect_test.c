// expect_test.c - parsing release expectations: a good file, and every kind of malformed one.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "expect.h"
#include "fl/cfg.h"

static const char good[] = "; release 42\n"
                           "[postgres \"orders\"]                      ; the orders probe\n"
                           "schema   = public: USAGE\n"
                           "table    = public.orders: SELECT, INSERT, UPDATE\n"
                           "table    = public.order_items: select,insert\n"
                           "column   = public.orders.discount_code\n"
                           "column   = public.orders.id: SELECT, UPDATE\n"
                           "sequence = public.orders_id_seq: USAGE\n"
                           "function = public.place_order(integer): EXECUTE\n"
                           "function = public.f(integer, character varying)\n"
                           "\n"
                           "[mysql \"legacy\"]\n"
                           "table  = legacy.customers: SELECT, UPDATE\n"
                           "column = legacy.customers.email\n"
                           "function = legacy.touch: EXECUTE\n"
                           "[postgres \"orders\"]\n"
                           "table = public.more: DELETE\n";

static void
test_good_file(void **state)
{
	agent_expect          *e = NULL;
	char                   err[256];
	const agent_db_expect *d;

	(void) state;
	assert_int_equal(
	    agent_expect_parse("good.expect", good, strlen(good), &e, err, sizeof(err)), 0);
	assert_non_null(e);
	assert_int_equal(e->n_dbs, 2);
	assert_string_equal(e->path, "good.expect");
	assert_int_equal(strncmp(e->digest, "fnv1a64:", 8), 0);
	assert_int_equal(strlen(e->digest), 24);

	d = agent_expect_find(e, "postgres", "orders");
	assert_non_null(d);
	assert_int_equal(d->n_reqs, 9); // the repeated section adds to the first
	assert_int_equal(d->reqs[0].kind, FL__OBJECT_KIND__OBJECT_SCHEMA);
	assert_string_equal(d->reqs[0].object, "public");
	assert_int_equal(d->reqs[0].n_privileges, 1);
	assert_string_equal(d->reqs[0].privileges[0], "USAGE");
	assert_int_equal(d->reqs[0].line, 3);
	assert_int_equal(d->reqs[1].n_privileges, 3);
	assert_string_equal(d->reqs[1].privileges[2], "UPDATE");
	assert_string_equal(d->reqs[2].privileges[0], "SELECT"); // upper-cased
	assert_string_equal(d->reqs[2].privileges[1], "INSERT");
	assert_int_equal(d->reqs[3].kind, FL__OBJECT_KIND__OBJECT_COLUMN);
	assert_string_equal(d->reqs[3].object, "public.orders.discount_code");
	assert_int_equal(d->reqs[3].n_privileges, 0);
	assert_int_equal(d->reqs[5].kind, FL__OBJECT_KIND__OBJECT_SEQUENCE);
	assert_int_equal(d->reqs[6].kind, FL__OBJECT_KIND__OBJECT_FUNCTION);
	assert_string_equal(d->reqs[6].object, "public.place_order(integer)");
	assert_string_equal(d->reqs[6].privileges[0], "EXECUTE");
	assert_string_equal(d->reqs[7].object, "public.f(integer, character varying)");
	assert_string_equal(d->reqs[8].object, "public.more");
	assert_int_equal(d->reqs[8].line, 17);

	d = agent_expect_find(e, "mysql", "legacy");
	assert_non_null(d);
	assert_int_equal(d->n_reqs, 3);
	assert_string_equal(d->reqs[1].object, "legacy.customers.email");
	assert_string_equal(d->reqs[2].object, "legacy.touch");

	assert_null(agent_expect_find(e, "mysql", "orders"));
	assert_null(agent_expect_find(e, "postgres", "nope"));
	assert_null(agent_expect_find(NULL, "postgres", "orders"));
	agent_expect_free(e);
	agent_expect_free(NULL);
}

static void
test_digest_changes_with_content(void **state)
{
	char a[AGENT_EXPECT_DIGEST_LEN], b[AGENT_EXPECT_DIGEST_LEN];

	(void) state;
	agent_expect_digest("", 0, a);
	assert_string_equal(a, "fnv1a64:cbf29ce484222325"); // FNV-1a 64 offset basis
	agent_expect_digest("a", 1, a);
	assert_string_equal(a, "fnv1a64:af63dc4c8601ec8c"); // published test vector
	agent_expect_digest("b", 1, b);
	assert_string_not_equal(a, b);
}

static void
test_empty_file_is_valid(void **state)
{
	agent_expect *e = NULL;
	char          err[256];

	(void) state;
	assert_int_equal(agent_expect_parse("e", "", 0, &e, err, sizeof(err)), 0);
	assert_int_equal(e->n_dbs, 0);
	agent_expect_free(e);
}

// Each malformed text must fail with "bad.expect:LINE: " and a message containing `needle`.
static const struct bad_case {
	const char *text;
	int         line;
	const char *needle;
} bad_cases[] = {
	{ "table = public.orders\n", 1, "outside a section" },
	{ "[redis \"x\"]\ntable = a.b\n", 1, "unknown section kind [redis]" },
	{ "[redis \"x\"]\n", 1, "unknown section kind" },
	{ "[postgres]\ntable = a.b\n", 1, "needs a probe name" },
	{ "[postgres \"x]\n", 1, "malformed section" },
	{ "[postgres \"x\"\ntable = a.b\n", 1, "malformed section header" },
	{ "[postgres \"x\"]\ntabel = a.b\n", 2, "unknown key tabel" },
	{ "[postgres \"x\"]\n\ntable a.b\n", 3, "syntax error" },
	{ "[postgres \"x\"]\ntable = orders\n", 2, "too few dot-separated parts" },
	{ "[postgres \"x\"]\ntable = a.b.c\n", 2, "too many dot-separated parts" },
	{ "[postgres \"x\"]\ncolumn = a.b\n", 2, "too few" },
	{ "[postgres \"x\"]\nschema = 1abc\n", 2, "identifier" },
	{ "[postgres \"x\"]\ntable = a.b c\n", 2, "unexpected text" },
	{ "[postgres \"x\"]\ntable = \n", 2, "missing object name" },
	{ "[postgres \"x\"]\ntable = : SELECT\n", 2, "missing object name" },
	{ "[postgres \"x\"]\nfunction = a.f: EXECUTE\n", 2, "argument types" },
	{ "[postgres \"x\"]\nfunction = a.f(int\n", 2, "closing parenthesis" },
	{ "[postgres \"x\"]\nfunction = a.f(in(t)): EXECUTE\n", 2, "unexpected character" },
	{ "[postgres \"x\"]\ntable = a.b: SELEKT\n", 2, "unknown privilege SELEKT" },
	{ "[postgres \"x\"]\ntable = a.b: EXECUTE\n", 2, "unknown privilege EXECUTE" },
	{ "[postgres \"x\"]\nschema = a: SELECT\n", 2, "allowed: USAGE, CREATE" },
	{ "[postgres \"x\"]\nsequence = a.s: INSERT\n", 2, "unknown privilege INSERT" },
	{ "[postgres \"x\"]\nfunction = a.f(): SELECT\n", 2, "unknown privilege SELECT" },
	{ "[postgres \"x\"]\ncolumn = a.b.c: DELETE\n", 2, "unknown privilege DELETE" },
	{ "[postgres \"x\"]\ntable = a.b:\n", 2, "empty privilege list" },
	{ "[postgres \"x\"]\ntable = a.b: SELECT,,INSERT\n", 2, "empty privilege name" },
	{ "[mysql \"x\"]\ntable = a.b: TRUNCATE\n", 2, "unknown privilege TRUNCATE" },
	{ "[mysql \"x\"]\nsequence = a.s\n", 2, "postgres only" },
	{ "[mysql \"x\"]\nschema = a: USAGE\n", 2, "only existence" },
	{ "[mysql \"x\"]\nfunction = a.f(int)\n", 2, "unexpected text" },
	{ "[postgres \"x\"]\ntable = a.b\ntable = c.d: NOPE\n", 3, "NOPE" },
};

static void
test_malformed_files(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		agent_expect          *e = (agent_expect *) (uintptr_t) 0x1; // must stay untouched
		char                   err[512], prefix[64];

		err[0] = '\0';
		int rv = agent_expect_parse(
		    "bad.expect", c->text, strlen(c->text), &e, err, sizeof(err));
		snprintf(prefix, sizeof(prefix), "bad.expect:%d: ", c->line);
		if (rv != -1 || strncmp(err, prefix, strlen(prefix)) != 0 ||
		    strstr(err, c->needle) == NULL) {
			print_error("case %zu (%s): rv=%d err=\"%s\", want \"%s...%s\"\n", i,
			    c->text, rv, err, prefix, c->needle);
			fail();
		}
		assert_ptr_equal(e, (agent_expect *) (uintptr_t) 0x1);
	}
}

// A UTF-8 byte order mark before line 1 is not text of the file: same requirements, same lines.
static void
test_byte_order_mark(void **state)
{
	(void) state;
	static const char bom[] =
	    "\xEF\xBB\xBF[postgres \"orders\"]\ntable = public.orders: SELECT\n";
	static const char bad[] = "\xEF\xBB\xBF[ftp \"x\"]\ntable = public.orders: SELECT\n";
	agent_expect     *e     = NULL;
	char              err[256];
	assert_int_equal(
	    agent_expect_parse("bom.expect", bom, strlen(bom), &e, err, sizeof(err)), 0);
	const agent_db_expect *d = agent_expect_find(e, "postgres", "orders");
	assert_non_null(d);
	assert_int_equal(d->n_reqs, 1);
	assert_int_equal(d->reqs[0].line, 2);
	agent_expect_free(e);
	e = NULL;
	assert_int_equal(
	    agent_expect_parse("bom.expect", bad, strlen(bad), &e, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bom.expect:1: unknown section kind [ftp]"));
}

static void
test_every_error_reported(void **state)
{
	agent_expect *e = NULL;
	char          err[1024];
	const char    text[] = "[postgres \"x\"]\ntabel = a.b\ntable = a.b: SELEKT\n[redis \"r\"]\n"
	                       "table = a.b\n[mysql \"m\"]\nsequence = a.s\n";

	(void) state;
	assert_int_equal(agent_expect_parse("f", text, strlen(text), &e, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "f:2: unknown key tabel (expected schema, table, column, sequence or function)\n"
	    "f:3: table: unknown privilege SELEKT (allowed: SELECT, INSERT, UPDATE, DELETE, "
	    "TRUNCATE, REFERENCES, TRIGGER)\n"
	    "f:4: unknown section kind [redis] (expected postgres or mysql)\n"
	    "f:7: sequence requirements are supported for postgres only");
	assert_null(e);
}

static void
test_long_line_and_nul(void **state)
{
	char          text[FL_INI_MAX_LINE + 100];
	char          err[256];
	agent_expect *e = NULL;

	(void) state;
	// A long line is fine (a long column list); one over the reader's maximum is an error.
	int n = snprintf(text, sizeof(text), "[postgres \"x\"]\ntable = a.");
	memset(text + n, 't', 400);
	snprintf(text + n + 400, sizeof(text) - (size_t) n - 400, ": SELECT\n");
	assert_int_equal(agent_expect_parse("f", text, strlen(text), &e, err, sizeof(err)), 0);
	agent_expect_free(e);
	e = NULL;
	snprintf(text, sizeof(text), "[postgres \"x\"]\ntable = a.%0*d\n", FL_INI_MAX_LINE, 0);
	assert_int_equal(agent_expect_parse("f", text, strlen(text), &e, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "f:2: line longer than"));
	assert_int_equal(
	    agent_expect_parse("f", "[postgres \"x\"]\0", 15, &e, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "NUL"));
	assert_null(e);
}

static void
test_load_from_file(void **state)
{
	char          path[] = "/tmp/fl-expect-test-XXXXXX";
	int           fd     = mkstemp(path);
	agent_expect *e      = NULL;
	char          err[256];
	const char bad[] = "[postgres \"orders\"]\ntable = public.orders: SELECT\nfunction = x\n";

	(void) state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, good, strlen(good)), (ssize_t) strlen(good));
	assert_int_equal(agent_expect_load(path, &e, err, sizeof(err)), 0);
	assert_string_equal(e->path, path);
	char want[AGENT_EXPECT_DIGEST_LEN];
	agent_expect_digest(good, strlen(good), want);
	assert_string_equal(e->digest, want);
	agent_expect_free(e);
	e = NULL;

	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(pwrite(fd, bad, strlen(bad), 0), (ssize_t) strlen(bad));
	assert_int_equal(agent_expect_load(path, &e, err, sizeof(err)), -1);
	char prefix[128];
	snprintf(prefix, sizeof(prefix), "%s:3: function x:", path);
	assert_int_equal(strncmp(err, prefix, strlen(prefix)), 0);
	assert_null(e);
	close(fd);
	unlink(path);

	assert_int_equal(agent_expect_load("/nonexistent/x.expect", &e, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/x.expect: cannot open"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_digest_changes_with_content),
		cmocka_unit_test(test_empty_file_is_valid),
		cmocka_unit_test(test_malformed_files),
		cmocka_unit_test(test_byte_order_mark),
		cmocka_unit_test(test_every_error_reported),
		cmocka_unit_test(test_long_line_and_nul),
		cmocka_unit_test(test_load_from_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
