// capture_test.c - the text of a captured expectations file (agent/db/capture.c): which names
// it can express, and that what it writes is a commented file the parser reads back.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capture.h"
#include "expect.h"

static void
test_identifiers(void **state)
{
	db_capture c = { 0 };

	(void) state;
	assert_true(db_capture_ident(&c, "orders", true));
	assert_true(db_capture_ident(&c, "_t1$x", true));
	assert_true(db_capture_ident(&c, "Customers", false)); // MySQL keeps the case
	assert_int_equal(c.n_skipped, 0);
	assert_false(db_capture_ident(&c, "Orders", true)); // PostgreSQL would fold it
	assert_string_equal(c.skipped, "Orders");
	assert_false(db_capture_ident(&c, "1st", false));
	assert_false(db_capture_ident(&c, "with space", false));
	assert_false(db_capture_ident(&c, "semi;colon", false));
	assert_false(db_capture_ident(&c, "caf\xc3\xa9", false));
	assert_false(db_capture_ident(&c, "", false));
	assert_int_equal(c.n_skipped, 6);
	assert_string_equal(c.skipped, "Orders"); // the first one is kept for the comment
	assert_true(db_capture_args(&c, "f", "integer, character varying, text[]"));
	assert_true(db_capture_args(&c, "f", ""));
	assert_false(db_capture_args(&c, "g", "numeric(10,2)"));
	assert_int_equal(c.n_skipped, 7);
	db_capture_free(&c);
}

static void
test_priv_list(void **state)
{
	char list[32] = "";

	(void) state;
	db_capture_priv(list, sizeof(list), "SELECT");
	db_capture_priv(list, sizeof(list), "INSERT");
	assert_string_equal(list, "SELECT, INSERT");
	db_capture_priv(list, sizeof(list), "REFERENCES, TRIGGER, TRUNCATE"); // truncated, not past
	assert_int_equal(strlen(list), sizeof(list) - 1);
}

// Writes c into a memory stream and returns the text (caller frees).
static char *
finish_to_text(db_capture *c, int *rv, char *err, size_t errlen)
{
	char  *text = NULL;
	size_t len  = 0;
	FILE  *f    = open_memstream(&text, &len);

	assert_non_null(f);
	*rv = db_capture_finish(c, f, err, errlen);
	fclose(f);
	return text;
}

static void
test_finish_parses_back(void **state)
{
	db_capture    c        = { 0 };
	char          err[256] = "", *text;
	int           rv;
	agent_expect *e = NULL;

	(void) state;
	db_capture_comment(&c, "What role %s can use", "app");
	db_capture_intro(&c);
	db_capture_section(&c, "postgres", "orders");
	db_capture_req(&c, "schema", "public", "USAGE");
	db_capture_req(&c, "table", "public.orders", "SELECT, INSERT");
	db_capture_req(&c, "column", "public.orders.id", "");
	db_capture_req(&c, "function", "public.f(integer, text)", "EXECUTE");
	assert_false(db_capture_ident(&c, "Mixed", true));
	text = finish_to_text(&c, &rv, err, sizeof(err));
	assert_int_equal(rv, 0);
	assert_non_null(strstr(text, "# What role app can use\n"));
	assert_non_null(strstr(text, "\n[postgres \"orders\"]\n"));
	assert_non_null(strstr(text, "table    = public.orders: SELECT, INSERT\n"));
	assert_non_null(strstr(text, "column   = public.orders.id\n"));
	assert_non_null(strstr(text,
	    "# Left out: 1 object whose names the format cannot express "
	    "(the first: Mixed)"));
	assert_int_equal(agent_expect_parse("t", text, strlen(text), &e, err, sizeof(err)), 0);
	assert_int_equal(e->n_dbs, 1);
	assert_int_equal(e->dbs[0].n_reqs, 4);
	assert_null(c.buf); // finish releases it
	agent_expect_free(e);
	free(text);
}

static void
test_finish_refuses_what_the_parser_refuses(void **state)
{
	db_capture c        = { 0 };
	char       err[256] = "", *text;
	int        rv;

	(void) state;
	db_capture_section(&c, "postgres", "orders");
	db_capture_req(&c, "table", "public.orders", "DROP"); // not a privilege of the format
	text = finish_to_text(&c, &rv, err, sizeof(err));
	assert_int_equal(rv, -1);
	assert_non_null(strstr(err, "does not parse"));
	assert_int_equal(strlen(text), 0); // nothing written
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identifiers),
		cmocka_unit_test(test_priv_list),
		cmocka_unit_test(test_finish_parses_back),
		cmocka_unit_test(test_finish_refuses_what_the_parser_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
