// diag_share_test.c - the verdict tick's diagnosis shared with diagnose queries (diag_share.h):
// a query takes it only when it read the state after the query arrived (or while the query
// waited), never an older one.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag_share.h"

static Fl__DiagnoseReply *
reply_named(const char *summary)
{
	Fl__DiagnoseReply *r = malloc(sizeof(*r));
	assert_non_null(r);
	fl__diagnose_reply__init(r);
	r->summary = strdup(summary);
	assert_non_null(r->summary);
	return r;
}

typedef struct seen {
	char    summary[32];
	int64_t at_us;
} seen;

static void
remember(const Fl__DiagnoseReply *r, int64_t at_us, void *arg)
{
	seen *s = arg;
	snprintf(s->summary, sizeof(s->summary), "%s", r->summary);
	s->at_us = at_us;
}

// Nothing in progress and nothing published since the query came: the query diagnoses itself.
static void
test_none_means_diagnose_yourself(void **state)
{
	(void) state;
	coll_diag_share d;
	seen            s = { { 0 }, 0 };
	coll_diag_share_init(&d);
	uint64_t mark = coll_diag_share_mark(&d);
	assert_int_equal(coll_diag_share_use(&d, mark, true, remember, &s), 1);
	// A diagnosis published before the query came is older than the query: not taken.
	coll_diag_share_begin(&d);
	coll_diag_share_publish(&d, reply_named("old"), 5);
	mark = coll_diag_share_mark(&d);
	assert_int_equal(coll_diag_share_use(&d, mark, true, remember, &s), 1);
	assert_int_equal(coll_diag_share_use(&d, mark, false, remember, &s), 1);
	assert_string_equal(s.summary, "");
	assert_int_equal(coll_diag_share_count(&d), 0);
	coll_diag_share_fini(&d);
}

// One published after the query came (it ran while the query waited for the state lock) is
// taken, with or without waiting.
static void
test_published_since_is_taken(void **state)
{
	(void) state;
	coll_diag_share d;
	seen            s = { { 0 }, 0 };
	coll_diag_share_init(&d);
	coll_diag_share_begin(&d);
	coll_diag_share_publish(&d, reply_named("first"), 1);
	uint64_t mark = coll_diag_share_mark(&d);
	coll_diag_share_begin(&d);
	coll_diag_share_publish(&d, reply_named("second"), 2);
	assert_int_equal(coll_diag_share_use(&d, mark, false, remember, &s), 0);
	assert_string_equal(s.summary, "second");
	assert_int_equal(s.at_us, 2);
	assert_int_equal(coll_diag_share_count(&d), 1);
	coll_diag_share_fini(&d);
}

typedef struct waiter {
	coll_diag_share *d;
	uint64_t         mark;
	seen             s;
	int              rv;
	atomic_bool      done;
} waiter;

static void *
wait_main(void *arg)
{
	waiter *w = arg;
	w->rv     = coll_diag_share_use(w->d, w->mark, true, remember, &w->s);
	atomic_store(&w->done, true);
	return NULL;
}

// A query arriving while a diagnosis is in progress waits for exactly that one.
static void
test_in_progress_is_awaited(void **state)
{
	(void) state;
	coll_diag_share d;
	pthread_t       t;
	coll_diag_share_init(&d);
	coll_diag_share_begin(&d);
	coll_diag_share_publish(&d, reply_named("before"), 1);
	coll_diag_share_begin(&d); // the tick now diagnoses the state as it is
	waiter w = { .d = &d, .mark = coll_diag_share_mark(&d), .rv = -1 };
	atomic_init(&w.done, false);
	assert_int_equal(pthread_create(&t, NULL, wait_main, &w), 0);
	usleep(100000);
	assert_false(atomic_load(&w.done)); // it does not answer with "before"
	coll_diag_share_publish(&d, reply_named("now"), 7);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(w.rv, 0);
	assert_string_equal(w.s.summary, "now");
	assert_int_equal(w.s.at_us, 7);
	coll_diag_share_fini(&d);
}

// The tick's diagnosis ran out of memory: the waiter diagnoses itself.
static void
test_failed_diagnosis_falls_back(void **state)
{
	(void) state;
	coll_diag_share d;
	pthread_t       t;
	coll_diag_share_init(&d);
	coll_diag_share_begin(&d);
	waiter w = { .d = &d, .mark = coll_diag_share_mark(&d), .rv = -1 };
	atomic_init(&w.done, false);
	assert_int_equal(pthread_create(&t, NULL, wait_main, &w), 0);
	coll_diag_share_publish(&d, NULL, 3);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(w.rv, 1);
	assert_int_equal(coll_diag_share_count(&d), 0);
	coll_diag_share_fini(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_none_means_diagnose_yourself),
		cmocka_unit_test(test_published_since_is_taken),
		cmocka_unit_test(test_in_progress_is_awaited),
		cmocka_unit_test(test_failed_diagnosis_falls_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
