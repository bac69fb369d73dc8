// unmet_test.c - an unmet requirement has one copier and one phrase: the copy owns every string
// (NULL becomes ""), appends stop at the cap, and the two voices read as diagnose and status
// print them.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fl/unmet.h"

static Fl__UnmetRequirement
grant(const char *privilege, const char *object, const char *role)
{
	Fl__UnmetRequirement u = FL__UNMET_REQUIREMENT__INIT;
	u.database             = (char *) "orders";
	u.kind                 = FL__OBJECT_KIND__OBJECT_TABLE;
	u.object               = (char *) object;
	u.privilege            = (char *) privilege;
	u.role                 = (char *) role;
	return u;
}

static void
test_dup_owns_every_string(void **state)
{
	(void) state;
	char                 object[] = "public.orders";
	Fl__UnmetRequirement u        = grant("SELECT", object, "app");
	u.object_missing              = true;
	Fl__UnmetRequirement *c       = fl_unmet_dup(&u);
	assert_non_null(c);
	object[0] = 'X'; // the copy does not share the caller's storage
	assert_string_equal(c->object, "public.orders");
	assert_string_equal(c->database, "orders");
	assert_string_equal(c->privilege, "SELECT");
	assert_string_equal(c->role, "app");
	assert_int_equal(c->kind, FL__OBJECT_KIND__OBJECT_TABLE);
	assert_true(c->object_missing);
	fl_unmet_free(c);
	fl_unmet_free(NULL);
}

static void
test_dup_turns_null_into_empty(void **state)
{
	(void) state;
	Fl__UnmetRequirement u  = grant(NULL, NULL, NULL);
	u.database              = NULL;
	Fl__UnmetRequirement *c = fl_unmet_dup(&u);
	assert_non_null(c);
	assert_string_equal(c->database, "");
	assert_string_equal(c->object, "");
	assert_string_equal(c->privilege, "");
	assert_string_equal(c->role, "");
	// A copy inside a message is freed by protobuf-c's own free, too.
	fl__unmet_requirement__free_unpacked(c, NULL);
}

static void
test_append_stops_at_the_cap(void **state)
{
	(void) state;
	Fl__UnmetRequirement   u = grant("SELECT", "public.orders", "app");
	Fl__UnmetRequirement **v = NULL;
	size_t                 n = 0;
	assert_int_equal(fl_unmet_append(&v, &n, 2, &u), 0);
	u.privilege = (char *) "INSERT";
	assert_int_equal(fl_unmet_append(&v, &n, 2, &u), 0);
	assert_int_equal(fl_unmet_append(&v, &n, 2, &u), -1);
	assert_int_equal(n, 2);
	assert_string_equal(v[0]->privilege, "SELECT");
	assert_string_equal(v[1]->privilege, "INSERT");
	fl_unmet_free_all(&v, &n);
	assert_null(v);
	assert_int_equal(n, 0);
}

static void
test_phrases(void **state)
{
	(void) state;
	char                 buf[FL_UNMET_PHRASE_MAX];
	Fl__UnmetRequirement u = grant("SELECT", "public.orders", "app");
	assert_string_equal(fl_unmet_phrase(&u, FL_UNMET_LACKING, buf, sizeof(buf)),
	    "SELECT on public.orders revoked for role app");
	assert_string_equal(fl_unmet_phrase(&u, FL_UNMET_NEEDED, buf, sizeof(buf)),
	    "SELECT on public.orders for role app");
	u.role = (char *) "";
	assert_string_equal(fl_unmet_phrase(&u, FL_UNMET_LACKING, buf, sizeof(buf)),
	    "SELECT on public.orders revoked");

	Fl__UnmetRequirement m = grant("", "public.orders.discount_code", "app");
	m.kind                 = FL__OBJECT_KIND__OBJECT_COLUMN;
	m.object_missing       = true;
	assert_string_equal(fl_unmet_phrase(&m, FL_UNMET_LACKING, buf, sizeof(buf)),
	    "column public.orders.discount_code missing");
	assert_string_equal(fl_unmet_phrase(&m, FL_UNMET_NEEDED, buf, sizeof(buf)),
	    "column public.orders.discount_code");
	m.kind = (Fl__ObjectKind) 99;
	assert_string_equal(fl_unmet_phrase(&m, FL_UNMET_NEEDED, buf, sizeof(buf)),
	    "object public.orders.discount_code");
}

static void
test_phrase_truncates_to_fit(void **state)
{
	(void) state;
	char                 buf[8];
	Fl__UnmetRequirement u = grant("SELECT", "public.orders", "app");
	assert_string_equal(fl_unmet_phrase(&u, FL_UNMET_LACKING, buf, sizeof(buf)), "SELECT ");
	assert_ptr_equal(fl_unmet_phrase(&u, FL_UNMET_LACKING, buf, 0), buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dup_owns_every_string),
		cmocka_unit_test(test_dup_turns_null_into_empty),
		cmocka_unit_test(test_append_stops_at_the_cap),
		cmocka_unit_test(test_phrases),
		cmocka_unit_test(test_phrase_truncates_to_fit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
