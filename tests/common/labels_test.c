// labels_test.c - host labels: the rules every part shares (fl/labels.h).

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fl/labels.h"

static void
test_label_check_table(void **state)
{
	(void) state;
	static const struct {
		const char *label;
		int         rv;
		const char *why; // a word of the reason when rejected
	} cases[] = {
		{ "env=prod", 0, NULL }, { "service=orders-v2", 0, NULL },
		{ "team.name=a_b", 0, NULL }, { "zone=eu-west-1:a/b+c", 0, NULL },
		{ "Env2=X", 0, NULL }, { "env", -1, "KEY=VALUE" }, { "=prod", -1, "key" },
		{ "1env=prod", -1, "starting with a letter" }, { "env=", -1, "value" },
		{ "e nv=prod", -1, "key may hold" }, { "env=pr od", -1, "value may hold" },
		{ "env=a=b", -1, "value may hold" }, { "env=a,b", -1, "value may hold" },
		{ "env=caf\xc3\xa9", -1, "value may hold" }, { "k=v\n", -1, "value may hold" },
		{ "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk=v", -1,
		    "1 to 63" },
		{ "k=vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv", -1,
		    "1 to 63" },
		{ "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk="
		  "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv",
		    0, NULL }, // 63 + 63: the longest
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char why[200] = "";
		int  rv       = fl_label_check(cases[i].label, why, sizeof(why));
		if (rv != cases[i].rv) {
			fail_msg("case %zu (%s): %d, want %d (%s)", i, cases[i].label, rv,
			    cases[i].rv, why);
		}
		if (cases[i].why != NULL && strstr(why, cases[i].why) == NULL) {
			fail_msg("case %zu: reason \"%s\" lacks \"%s\"", i, why, cases[i].why);
		}
	}
}

static void
test_labels_parse(void **state)
{
	(void) state;
	char   out[FL_LABELS_MAX][FL_LABEL_LEN];
	size_t n;
	char   why[200];

	assert_int_equal(
	    fl_labels_parse("env=prod, service=orders", out, FL_LABELS_MAX, &n, why, sizeof(why)),
	    0);
	assert_int_equal(n, 2);
	assert_string_equal(out[0], "env=prod");
	assert_string_equal(out[1], "service=orders");

	assert_int_equal(
	    fl_labels_parse(" a=1 ,b=2\t", out, FL_LABELS_MAX, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(out[0], "a=1");
	assert_string_equal(out[1], "b=2");

	assert_int_equal(fl_labels_parse("", out, FL_LABELS_MAX, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 0);
	assert_int_equal(fl_labels_parse("   ", out, FL_LABELS_MAX, &n, why, sizeof(why)), 0);
	assert_int_equal(n, 0);

	static const struct {
		const char *text;
		const char *why;
	} bad[] = {
		{ "env=prod,", "empty label" },
		{ ",env=prod", "empty label" },
		{ "env=prod,,a=b", "empty label" },
		{ "env=prod, env=staging", "given twice" },
		{ "env=prod service=orders", "value may hold" },
		{ "env:prod", "KEY=VALUE" },
		{ "a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9,j=10,k=11,l=12,m=13,n=14,o=15,p=16,q=17",
		    "more than 16" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		if (fl_labels_parse(bad[i].text, out, FL_LABELS_MAX, &n, why, sizeof(why)) != -1) {
			fail_msg("\"%s\" parsed", bad[i].text);
		}
		if (strstr(why, bad[i].why) == NULL) {
			fail_msg(
			    "\"%s\": reason \"%s\" lacks \"%s\"", bad[i].text, why, bad[i].why);
		}
	}
}

static void
test_labels_check_list(void **state)
{
	(void) state;
	const char *ok[]  = { "env=prod", "service=orders" };
	const char *dup[] = { "env=prod", "env=prod" };
	const char *many[FL_LABELS_MAX + 1];
	char        buf[FL_LABELS_MAX + 1][16];
	char        why[200];

	assert_int_equal(fl_labels_check(ok, 2, why, sizeof(why)), 0);
	assert_int_equal(fl_labels_check(dup, 2, why, sizeof(why)), -1);
	for (size_t i = 0; i <= FL_LABELS_MAX; i++) {
		snprintf(buf[i], sizeof(buf[i]), "k%zu=v", i);
		many[i] = buf[i];
	}
	assert_int_equal(fl_labels_check(many, FL_LABELS_MAX, why, sizeof(why)), 0);
	assert_int_equal(fl_labels_check(many, FL_LABELS_MAX + 1, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "at most 16"));
}

// Filtering: AND over the filter, exact key and value, empty filter matches all.
static void
test_labels_match(void **state)
{
	(void) state;
	const char *prod[]    = { "env=prod", "service=orders" };
	const char *staging[] = { "env=staging", "service=orders" };
	const char *f_env[]   = { "env=prod" };
	const char *f_both[]  = { "env=prod", "service=orders" };
	const char *f_other[] = { "env=prod", "service=users" };
	const char *f_pre[]   = { "env=pro" };

	assert_true(fl_labels_match(prod, 2, NULL, 0));
	assert_true(fl_labels_match(NULL, 0, NULL, 0));
	assert_true(fl_labels_match(prod, 2, f_env, 1));
	assert_false(fl_labels_match(staging, 2, f_env, 1));
	assert_true(fl_labels_match(prod, 2, f_both, 2));
	assert_false(fl_labels_match(prod, 2, f_other, 2));
	assert_false(fl_labels_match(prod, 2, f_pre, 1));
	assert_false(fl_labels_match(NULL, 0, f_env, 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_check_table),
		cmocka_unit_test(test_labels_parse),
		cmocka_unit_test(test_labels_check_list),
		cmocka_unit_test(test_labels_match),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
