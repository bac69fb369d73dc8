// state_intern_test.c - the state's shared strings: one copy per distinct string, counted
// references, the copy freed with its last reference, lookups intact after removals.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "state_intern.h"

static void
test_one_copy_per_string(void **state)
{
	(void) state;
	coll_intern *t   = coll_intern_new();
	char         a[] = "http://10.0.0.5:8080/health", b[] = "http://10.0.0.5:8080/health";
	assert_non_null(t);
	const char *x = coll_intern_get(t, a);
	const char *y = coll_intern_get(t, b);
	assert_non_null(x);
	assert_ptr_equal(x, y); // equal text, one copy
	assert_ptr_not_equal(x, a);
	assert_string_equal(x, a);
	assert_int_equal(coll_intern_count(t), 1);
	coll_intern_put(t, x);
	assert_int_equal(coll_intern_count(t), 1); // one reference left
	assert_string_equal(y, "http://10.0.0.5:8080/health");
	coll_intern_put(t, y);
	assert_int_equal(coll_intern_count(t), 0); // freed with its last reference
	coll_intern_free(t);
}

static void
test_empty_is_not_stored(void **state)
{
	(void) state;
	coll_intern *t = coll_intern_new();
	assert_non_null(t);
	const char *e = coll_intern_get(t, "");
	assert_string_equal(e, "");
	assert_string_equal(coll_intern_get(t, NULL), "");
	assert_int_equal(coll_intern_count(t), 0);
	coll_intern_put(t, e);
	coll_intern_put(t, NULL);
	coll_intern_put(t, "");
	assert_int_equal(coll_intern_count(t), 0);
	coll_intern_free(t);
}

static void
test_set_reports_change(void **state)
{
	(void) state;
	coll_intern *t    = coll_intern_new();
	const char  *slot = NULL;
	assert_non_null(t);
	assert_int_equal(coll_intern_set(t, &slot, "r1"), 1);
	assert_string_equal(slot, "r1");
	assert_int_equal(coll_intern_set(t, &slot, "r1"), 0);
	assert_int_equal(coll_intern_count(t), 1);
	assert_int_equal(coll_intern_set(t, &slot, "r2"), 1);
	assert_string_equal(slot, "r2");
	assert_int_equal(coll_intern_count(t), 1); // "r1" went with its only reference
	coll_intern_put(t, slot);
	assert_int_equal(coll_intern_count(t), 0);
	coll_intern_free(t);
}

// Many strings through growth and removals from the middle of probe runs: every string still
// held is found again (the same copy), every removed one is gone.
static void
test_many_with_removals(void **state)
{
	(void) state;
	enum { N = 5000 };
	static const char *held[N];
	coll_intern       *t = coll_intern_new();
	char               buf[32];
	assert_non_null(t);
	for (int i = 0; i < N; i++) {
		snprintf(buf, sizeof(buf), "probe-%d", i);
		held[i] = coll_intern_get(t, buf);
		assert_non_null(held[i]);
	}
	assert_int_equal(coll_intern_count(t), N);
	size_t full = coll_intern_bytes(t);
	for (int i = 0; i < N; i += 2) {
		coll_intern_put(t, held[i]);
	}
	assert_int_equal(coll_intern_count(t), N / 2);
	assert_true(coll_intern_bytes(t) < full);
	for (int i = 1; i < N; i += 2) {
		snprintf(buf, sizeof(buf), "probe-%d", i);
		const char *again = coll_intern_get(t, buf);
		assert_ptr_equal(again, held[i]);
		coll_intern_put(t, again);
	}
	assert_int_equal(coll_intern_count(t), N / 2);
	for (int i = 1; i < N; i += 2) {
		coll_intern_put(t, held[i]);
	}
	assert_int_equal(coll_intern_count(t), 0);
	coll_intern_free(t);
}

// What a record refers to, released by rec_released when its last holder goes.
typedef struct rec {
	const char *text;
	void      **block;
} rec;

static int released;

static void
rec_released(void *arg, const void *r)
{
	coll_intern *strings = arg;
	coll_intern_put(strings, ((const rec *) r)->text);
	released++;
}

// Records: one aligned copy per distinct content, made once (is_new) and released with its last
// holder (on_last first); an extra reference to a string or block keeps it past its getter's put.
static void
test_records_shared_and_released(void **state)
{
	(void) state;
	coll_intern *strings = coll_intern_new(), *recs = coll_intern_new();
	assert_non_null(strings);
	assert_non_null(recs);
	const char *text = coll_intern_get(strings, "10.0.0.5, 10.0.0.9");
	rec         key  = { .text = text, .block = NULL };
	bool        is_new;
	const rec  *a = coll_intern_rec_get(recs, &key, sizeof(key), &is_new);
	assert_non_null(a);
	assert_true(is_new);
	assert_int_equal((uintptr_t) a % sizeof(void *), 0);
	assert_ptr_equal(coll_intern_ref(a->text), text); // the record's own reference
	const rec *b = coll_intern_rec_get(recs, &key, sizeof(key), &is_new);
	assert_ptr_equal(a, b);
	assert_false(is_new);
	assert_int_equal(coll_intern_count(recs), 1);
	coll_intern_put(strings, text); // the getter's: the record still holds the string
	assert_string_equal(a->text, "10.0.0.5, 10.0.0.9");
	released = 0;
	coll_intern_rec_put(recs, b, rec_released, strings);
	assert_int_equal(released, 0);
	coll_intern_rec_put(recs, a, rec_released, strings);
	assert_int_equal(released, 1);
	assert_int_equal(coll_intern_count(recs), 0);
	assert_int_equal(coll_intern_count(strings), 0);
	coll_intern_rec_put(recs, NULL, rec_released, strings); // ignored
	assert_null(coll_intern_ref(NULL));
	assert_string_equal(coll_intern_ref(""), "");

	// A block kept by a second reference outlives its first holder's put.
	coll_intern *blocks = coll_intern_new();
	assert_non_null(blocks);
	void **slot = coll_intern_block_get(blocks, "k", 1);
	assert_non_null(slot);
	assert_ptr_equal(coll_intern_block_ref(slot), slot);
	assert_null(coll_intern_block_ref(NULL));
	coll_intern_block_put(blocks, slot, NULL);
	assert_int_equal(coll_intern_count(blocks), 1);
	coll_intern_block_put(blocks, slot, NULL);
	assert_int_equal(coll_intern_count(blocks), 0);
	coll_intern_free(blocks);
	coll_intern_free(recs);
	coll_intern_free(strings);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_copy_per_string),
		cmocka_unit_test(test_empty_is_not_stored),
		cmocka_unit_test(test_set_reports_change),
		cmocka_unit_test(test_many_with_removals),
		cmocka_unit_test(test_records_shared_and_released),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
