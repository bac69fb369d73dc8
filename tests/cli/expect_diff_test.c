// expect_diff_test.c - `faultline expect diff`'s comparison of two expectations files: what a
// release adds, what it drops (a rollback risk), merged lines, existence implied by privileges,
// and the printed and JSON forms with their exit codes.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"
#include "expect_diff.h"

static agent_expect *
parse(const char *text)
{
	agent_expect *e = NULL;
	char          err[256];
	int           rv = agent_expect_parse("t", text, strlen(text), &e, err, sizeof(err));
	if (rv != 0) {
		fail_msg("parse: %s", err);
	}
	return e;
}

typedef struct diffed {
	agent_expect      *o, *w;
	cli_expect_change *c;
	size_t             n;
} diffed;

static void
diff(diffed *d, const char *old_text, const char *new_text)
{
	d->o = parse(old_text);
	d->w = parse(new_text);
	assert_int_equal(cli_expect_diff(d->o, d->w, &d->c, &d->n), 0);
}

static void
diffed_free(diffed *d)
{
	free(d->c);
	agent_expect_free(d->o);
	agent_expect_free(d->w);
}

static char *
printed(const diffed *d, int *rc)
{
	char  *buf = NULL;
	size_t len = 0;
	FILE  *f   = open_memstream(&buf, &len);
	assert_non_null(f);
	*rc = cli_expect_diff_print(d->c, d->n, "OLD", "NEW", f, false);
	fclose(f);
	return buf;
}

static void
check_change(const cli_expect_change *c, bool added, const char *probe, Fl__ObjectKind kind,
    const char *object, bool whole, const char *privs)
{
	assert_int_equal(c->added, added);
	assert_string_equal(c->probe, probe);
	assert_int_equal(c->kind, kind);
	assert_string_equal(c->object, object);
	assert_int_equal(c->whole, whole);
	assert_string_equal(c->privileges, privs);
}

static void
test_same_file_no_change(void **state)
{
	(void) state;
	const char *text = "[postgres \"orders\"]\n"
	                   "table = public.orders: SELECT, INSERT\n"
	                   "column = public.orders.id\n";
	diffed      d;
	int         rc;
	diff(&d, text, text);
	assert_int_equal(d.n, 0);
	char *out = printed(&d, &rc);
	assert_int_equal(rc, CLI_EXIT_OK);
	assert_string_equal(out, "no change: NEW needs what OLD needs\n");
	free(out);
	diffed_free(&d);
}

// Order, case of privileges and split lines do not matter: the sets are compared.
static void
test_merged_lines_and_order(void **state)
{
	(void) state;
	diffed d;
	diff(&d,
	    "[postgres \"orders\"]\n"
	    "table = public.orders: select\n"
	    "table = public.orders: INSERT\n",
	    "[postgres \"orders\"]\n"
	    "table = public.orders: INSERT, SELECT\n");
	assert_int_equal(d.n, 0);
	diffed_free(&d);
}

static void
test_adds_only_exit_0(void **state)
{
	(void) state;
	diffed d;
	int    rc;
	diff(&d,
	    "[postgres \"orders\"]\n"
	    "table = public.orders: SELECT\n",
	    "[postgres \"orders\"]\n"
	    "table = public.orders: SELECT, UPDATE\n"
	    "column = public.orders.discount_code\n");
	assert_int_equal(d.n, 2);
	check_change(&d.c[0], true, "orders", FL__OBJECT_KIND__OBJECT_TABLE, "public.orders", false,
	    "UPDATE");
	check_change(&d.c[1], true, "orders", FL__OBJECT_KIND__OBJECT_COLUMN,
	    "public.orders.discount_code", true, "");
	char *out = printed(&d, &rc);
	assert_int_equal(rc, CLI_EXIT_OK);
	assert_string_equal(out,
	    "[postgres \"orders\"]\n"
	    "+ table = public.orders: UPDATE   (privileges only: the object stays)\n"
	    "+ column = public.orders.discount_code\n"
	    "\n"
	    "2 added, 0 dropped: NEW drops nothing OLD needs\n");
	free(out);
	diffed_free(&d);
}

// The night the README describes: 2.4.0 drops a column and a grant 2.3.1 needs.
static void
test_drops_are_a_rollback_risk(void **state)
{
	(void) state;
	diffed d;
	int    rc;
	diff(&d,
	    "[postgres \"orders\"]\n"
	    "table = public.orders: SELECT, DELETE\n"
	    "column = public.orders.legacy_code: SELECT\n"
	    "[mysql \"legacy\"]\n"
	    "table = legacy.customers: SELECT\n",
	    "[postgres \"orders\"]\n"
	    "table = public.orders: SELECT\n");
	assert_int_equal(d.n, 3);
	check_change(&d.c[0], false, "orders", FL__OBJECT_KIND__OBJECT_TABLE, "public.orders",
	    false, "DELETE");
	check_change(&d.c[1], false, "orders", FL__OBJECT_KIND__OBJECT_COLUMN,
	    "public.orders.legacy_code", true, "SELECT");
	check_change(&d.c[2], false, "legacy", FL__OBJECT_KIND__OBJECT_TABLE, "legacy.customers",
	    true, "SELECT");
	assert_string_equal(d.c[2].section_kind, "mysql");
	char *out = printed(&d, &rc);
	assert_int_equal(rc, CLI_EXIT_FAILING);
	assert_non_null(strstr(out, "- column = public.orders.legacy_code: SELECT\n"));
	assert_non_null(strstr(out, "\n[mysql \"legacy\"]\n- table = legacy.customers: SELECT\n"));
	assert_non_null(strstr(out, "0 added, 3 dropped: ROLLBACK RISK: OLD needs what NEW drops"));
	free(out);
	diffed_free(&d);
}

// A line with privileges needs its object too: dropping the privileges but keeping the object
// is a drop of privileges only, and an object OLD only needed to exist is not dropped when
// NEW needs privileges on it.
static void
test_existence_implied(void **state)
{
	(void) state;
	diffed d;
	diff(&d,
	    "[postgres \"orders\"]\n"
	    "column = public.orders.id\n",
	    "[postgres \"orders\"]\n"
	    "column = public.orders.id: SELECT\n");
	assert_int_equal(d.n, 1);
	check_change(&d.c[0], true, "orders", FL__OBJECT_KIND__OBJECT_COLUMN, "public.orders.id",
	    false, "SELECT");
	diffed_free(&d);

	diff(&d,
	    "[postgres \"orders\"]\n"
	    "column = public.orders.id: SELECT\n",
	    "[postgres \"orders\"]\n"
	    "column = public.orders.id\n");
	assert_int_equal(d.n, 1);
	check_change(&d.c[0], false, "orders", FL__OBJECT_KIND__OBJECT_COLUMN, "public.orders.id",
	    false, "SELECT");
	diffed_free(&d);
}

// The same object name under another probe, driver or kind is another requirement.
static void
test_identity_is_section_kind_object(void **state)
{
	(void) state;
	diffed d;
	diff(&d,
	    "[postgres \"a\"]\n"
	    "table = public.t: SELECT\n",
	    "[postgres \"b\"]\n"
	    "table = public.t: SELECT\n"
	    "[mysql \"a\"]\n"
	    "table = public.t: SELECT\n");
	assert_int_equal(d.n, 3);
	check_change(
	    &d.c[0], false, "a", FL__OBJECT_KIND__OBJECT_TABLE, "public.t", true, "SELECT");
	assert_string_equal(d.c[0].section_kind, "postgres");
	check_change(&d.c[1], true, "b", FL__OBJECT_KIND__OBJECT_TABLE, "public.t", true, "SELECT");
	check_change(&d.c[2], true, "a", FL__OBJECT_KIND__OBJECT_TABLE, "public.t", true, "SELECT");
	assert_string_equal(d.c[2].section_kind, "mysql");
	diffed_free(&d);
}

static void
test_json(void **state)
{
	(void) state;
	diffed d;
	char  *buf = NULL;
	size_t len = 0;
	diff(&d,
	    "[postgres \"orders\"]\n"
	    "table = public.orders: SELECT, DELETE\n",
	    "[postgres \"orders\"]\n"
	    "table = public.orders: SELECT\n"
	    "function = public.f(integer): EXECUTE\n");
	FILE *f  = open_memstream(&buf, &len);
	int   rc = cli_expect_diff_json(d.c, d.n, "OLD", "NEW", f, false);
	fclose(f);
	assert_int_equal(rc, CLI_EXIT_FAILING);
	assert_string_equal(buf,
	    "{\"old\":\"OLD\",\"new\":\"NEW\",\"added\":[{\"section\":\"postgres\",\"probe\":"
	    "\"orders\",\"kind\":\"function\",\"object\":\"public.f(integer)\",\"whole\":true,"
	    "\"privileges\":[\"EXECUTE\"]}],\"dropped\":[{\"section\":\"postgres\",\"probe\":"
	    "\"orders\",\"kind\":\"table\",\"object\":\"public.orders\",\"whole\":false,"
	    "\"privileges\":[\"DELETE\"]}],\"rollback_risk\":true}\n");
	free(buf);
	diffed_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_file_no_change),
		cmocka_unit_test(test_merged_lines_and_order),
		cmocka_unit_test(test_adds_only_exit_0),
		cmocka_unit_test(test_drops_are_a_rollback_risk),
		cmocka_unit_test(test_existence_implied),
		cmocka_unit_test(test_identity_is_section_kind_object),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
