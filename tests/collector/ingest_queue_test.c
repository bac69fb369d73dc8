// ingest_queue_test.c - the receive queue (ingest_queue.h): sized for the fleet, bounded in
// reports and in bytes, first in first out across its growth and wrap-around.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdint.h>
#include <stdlib.h>

#include "ingest_queue.h"

static void
test_limits_for(void **state)
{
	(void) state;
	// auto: two rounds of every host kept, never below COLL_IQ_MIN
	coll_iq_limits l = coll_iq_limits_for(0, 5000);
	assert_int_equal(l.reports, 10000);
	assert_int_equal(l.bytes, (size_t) 10000 * COLL_IQ_REPORT_BYTES);
	l = coll_iq_limits_for(0, 100);
	assert_int_equal(l.reports, COLL_IQ_MIN);
	assert_int_equal(l.bytes, COLL_IQ_MIN_BYTES); // 4096 x 8 KiB is below the floor
	l = coll_iq_limits_for(0, 50000);
	assert_int_equal(l.reports, 100000);
	assert_int_equal(l.bytes, COLL_IQ_MAX_BYTES); // 800 MiB capped
	// max_hosts at its largest: the reports' bound, not 2,000,000
	l = coll_iq_limits_for(0, 1000000);
	assert_int_equal(l.reports, COLL_IQ_MAX);
	assert_int_equal(l.bytes, COLL_IQ_MAX_BYTES);
	// configured: as given (within the key's bounds), whatever max_hosts
	l = coll_iq_limits_for(20000, 5000);
	assert_int_equal(l.reports, 20000);
	assert_int_equal(l.bytes, (size_t) 20000 * COLL_IQ_REPORT_BYTES);
	l = coll_iq_limits_for(10, 5000);
	assert_int_equal(l.reports, COLL_IQ_MIN);
	l = coll_iq_limits_for(UINT32_MAX, 5000);
	assert_int_equal(l.reports, COLL_IQ_MAX);
}

// Items are small integers; their "length" is what the test says.
#define ITEM(i) ((void *) (uintptr_t) (i))

static void
test_bounded_by_reports(void **state)
{
	(void) state;
	coll_iq q;
	// more than the initial ring, so it grows (and wraps: pops between pushes)
	coll_iq_limits lim     = { .reports = COLL_IQ_INITIAL * 3, .bytes = SIZE_MAX / 2 };
	size_t         next_in = 1, next_out = 1;

	assert_int_equal(coll_iq_init(&q, lim), 0);
	assert_int_equal(q.cap, COLL_IQ_INITIAL);
	for (size_t round = 0; round < 4; round++) {
		while (coll_iq_push(&q, ITEM(next_in), 10)) {
			next_in++;
		}
		assert_int_equal(q.n, lim.reports);
		assert_int_equal(q.bytes, 10 * lim.reports);
		assert_true(q.cap <= lim.reports);
		for (size_t i = 0; i < lim.reports / 3 + round; i++) {
			assert_ptr_equal(coll_iq_pop(&q), ITEM(next_out));
			next_out++;
		}
	}
	while (q.n > 0) {
		assert_ptr_equal(coll_iq_pop(&q), ITEM(next_out));
		next_out++;
	}
	assert_int_equal(next_out, next_in);
	assert_null(coll_iq_pop(&q));
	assert_int_equal(q.bytes, 0);
	coll_iq_fini(&q, NULL);
}

static void
test_bounded_by_bytes(void **state)
{
	(void) state;
	coll_iq        q;
	coll_iq_limits lim = { .reports = 100, .bytes = 1000 };

	assert_int_equal(coll_iq_init(&q, lim), 0);
	assert_true(coll_iq_push(&q, ITEM(1), 600));
	assert_false(coll_iq_push(&q, ITEM(2), 401)); // 1001 bytes: refused, left to the caller
	assert_true(coll_iq_push(&q, ITEM(3), 400));  // exactly the bound
	assert_false(coll_iq_push(&q, ITEM(4), 1));
	assert_int_equal(q.n, 2);
	assert_ptr_equal(coll_iq_pop(&q), ITEM(1));
	assert_int_equal(q.bytes, 400);
	assert_true(coll_iq_push(&q, ITEM(5), 600));       // room again once applied
	assert_false(coll_iq_push(&q, ITEM(6), SIZE_MAX)); // no overflow in the sum
	coll_iq_fini(&q, NULL);
}

static int freed;

static void
count_free(void *p)
{
	(void) p;
	freed++;
}

static void
test_fini_frees_waiting(void **state)
{
	(void) state;
	coll_iq q;
	assert_int_equal(coll_iq_init(&q, coll_iq_limits_for(0, 10)), 0);
	for (int i = 1; i <= 5; i++) {
		assert_true(coll_iq_push(&q, ITEM(i), 100));
	}
	assert_ptr_equal(coll_iq_pop(&q), ITEM(1));
	freed = 0;
	coll_iq_fini(&q, count_free);
	assert_int_equal(freed, 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits_for),
		cmocka_unit_test(test_bounded_by_reports),
		cmocka_unit_test(test_bounded_by_bytes),
		cmocka_unit_test(test_fini_frees_waiting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
