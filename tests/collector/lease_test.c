// lease_test.c - the lease (lease.h) on a real PostgreSQL (run through pg_state.sh, which
// passes its URI and password file): two lease objects, the second gets it only when the
// first's session dies or it stops beating; a holder that beats keeps it; a writer fenced at
// the old epoch cannot write once another collector took the lease; the keeper thread hands
// the lease over when the holder stops, and counts a late heartbeat as lost.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fl/time.h"
#include "lease.h"
#include "sql.h"

#define TIMEOUT_US 2000000LL // short, so that the tests wait little

static const char *target;
static const char *password_file;

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static coll_lease *
open_lease(const char *name)
{
	coll_lease_opts o = { .db = { .target = target, .password_file = password_file },
		.name             = name,
		.timeout_us       = TIMEOUT_US };
	coll_lease     *l = NULL;
	char            err[512];
	if (coll_lease_open(&o, &l, err, sizeof(err)) != 0) {
		fail_msg("cannot open a lease on %s: %s", target, err);
	}
	return l;
}

static fl_sql *
open_db(void)
{
	fl_sql_opts o  = { .target = target, .password_file = password_file };
	fl_sql     *db = NULL;
	char        err[512];
	if (fl_sql_open(&o, &db, err, sizeof(err)) != FL_SQL_OK) {
		fail_msg("cannot open %s: %s", target, err);
	}
	return db;
}

// Ends the session of backend pid from another connection: stands in for a holder whose
// process died (the kernel closes its socket, PostgreSQL ends its backend).
static void
kill_backend(int64_t pid)
{
	fl_sql      *db = open_db();
	fl_sql_stmt *st = NULL;
	assert_int_equal(
	    fl_sql_prepare(db, "SELECT pg_terminate_backend($1::int)::int", &st), FL_SQL_OK);
	assert_int_equal(fl_sql_bind_int64(st, 1, pid), FL_SQL_OK);
	assert_int_equal(fl_sql_step(st), FL_SQL_ROW);
	assert_int_equal(fl_sql_column_int64(st, 0), 1);
	fl_sql_finalize(st);
	fl_sql_close(db);
}

// Tries until taken or ms pass. The epoch, or 0.
static int64_t
take_within(coll_lease *l, int ms)
{
	int64_t epoch = 0;
	for (int i = 0; i < ms / 100; i++) {
		int rv = coll_lease_try(l, &epoch, NULL, 0);
		assert_int_not_equal(rv, COLL_LEASE_ERROR);
		if (rv == COLL_LEASE_TAKEN) {
			return epoch;
		}
		sleep_ms(100);
	}
	return 0;
}

static void
test_second_gets_it_only_when_the_first_dies(void **state)
{
	(void) state;
	coll_lease *a = open_lease("alpha"), *b = open_lease("beta");
	int64_t     ea = 0, eb = 0;
	char        holder[COLL_LEASE_NAME_MAX] = "";

	assert_int_equal(coll_lease_try(a, &ea, holder, sizeof(holder)), COLL_LEASE_TAKEN);
	assert_true(ea > 0);
	assert_string_equal(holder, "alpha");
	assert_int_equal(coll_lease_try(b, &eb, holder, sizeof(holder)), COLL_LEASE_BUSY);
	assert_string_equal(holder, "alpha");
	assert_int_equal(coll_lease_beat(a, ea), 0);
	// The holder's process dies: its session ends and with it the advisory lock.
	kill_backend(coll_lease_backend_pid(a));
	eb = take_within(b, 3000);
	assert_int_equal(eb, ea + 1);
	assert_int_equal(coll_lease_beat(a, ea), -1); // the old holder learns it
	assert_int_equal(coll_lease_beat(b, eb), 0);
	coll_lease_close(a);
	coll_lease_close(b);
}

static void
test_a_holder_that_beats_keeps_it(void **state)
{
	(void) state;
	coll_lease *a = open_lease("alpha"), *b = open_lease("beta");
	int64_t     ea = 0, eb = 0;

	assert_int_equal(take_within(a, 3000) > 0, true);
	assert_int_equal(coll_lease_try(a, &ea, NULL, 0), COLL_LEASE_TAKEN); // re-entrant lock
	for (int i = 0; i < 12; i++) { // 3 s: longer than the timeout
		assert_int_equal(coll_lease_beat(a, ea), 0);
		assert_int_equal(coll_lease_try(b, &eb, NULL, 0), COLL_LEASE_BUSY);
		sleep_ms(250);
	}
	assert_int_equal(coll_lease_beat(a, ea), 0);
	coll_lease_close(a);
	coll_lease_close(b);
}

static void
test_a_holder_that_stops_beating_is_ended(void **state)
{
	(void) state;
	coll_lease *a = open_lease("alpha"), *b = open_lease("beta");
	int64_t     ea = 0, eb = 0;
	int64_t     t0;

	ea = take_within(a, 3000);
	assert_true(ea > 0);
	// alpha's session lingers (its host is cut off) but it beats no more.
	t0 = fl_mono_us();
	eb = take_within(b, 6000);
	assert_int_equal(eb, ea + 1);
	assert_true(fl_mono_us() - t0 >= TIMEOUT_US - 200000); // not before the timeout
	assert_int_equal(coll_lease_beat(a, ea), -1);          // its backend was ended
	coll_lease_close(a);
	coll_lease_close(b);
}

// Two actives writing is impossible by construction: the old holder's writer, fenced at its
// epoch, is refused as soon as another took the lease, even though it still believes.
static void
test_the_old_holders_fenced_writer_cannot_write(void **state)
{
	(void) state;
	coll_lease  *a = open_lease("alpha"), *b = open_lease("beta");
	fl_sql      *w = open_db(), *r = open_db();
	fl_sql_stmt *count = NULL;
	int64_t      ea, eb;

	assert_int_equal(
	    fl_sql_exec(w, "CREATE TABLE IF NOT EXISTS lease_probe (who TEXT NOT NULL)"),
	    FL_SQL_OK);
	assert_int_equal(fl_sql_exec(w, "DELETE FROM lease_probe"), FL_SQL_OK);
	ea = take_within(a, 3000);
	assert_true(ea > 0);
	fl_sql_set_fence(w, ea);
	assert_int_equal(fl_sql_begin(w), FL_SQL_OK);
	assert_int_equal(
	    fl_sql_exec(w, "INSERT INTO lease_probe VALUES ('alpha before')"), FL_SQL_OK);
	assert_int_equal(fl_sql_commit(w), FL_SQL_OK);

	kill_backend(coll_lease_backend_pid(a)); // alpha's lease session dies, its writer lives
	eb = take_within(b, 3000);
	assert_int_equal(eb, ea + 1);

	assert_int_equal(fl_sql_begin(w), FL_SQL_EFENCED);
	assert_int_equal(fl_sql_begin(w), FL_SQL_EFENCED); // and stays so
	assert_int_equal(fl_sql_prepare(r, "SELECT count(*) FROM lease_probe", &count), FL_SQL_OK);
	assert_int_equal(fl_sql_step(count), FL_SQL_ROW);
	assert_int_equal(fl_sql_column_int64(count, 0), 1); // only the row written before
	fl_sql_finalize(count);
	fl_sql_close(r);
	fl_sql_close(w);
	coll_lease_close(a);
	coll_lease_close(b);
}

// A write transaction in flight (the ingest's, fenced: it holds the lease row FOR KEY SHARE)
// does not hold up the holder's heartbeat: a slow write must not cost the lease.
static void
test_a_slow_write_does_not_hold_up_the_heartbeat(void **state)
{
	(void) state;
	coll_lease *a = open_lease("alpha");
	fl_sql     *w = open_db();
	int64_t     ea;

	ea = take_within(a, 3000);
	assert_true(ea > 0);
	fl_sql_set_fence(w, ea);
	assert_int_equal(fl_sql_begin(w), FL_SQL_OK);
	assert_int_equal(coll_lease_beat(a, ea), 0);
	assert_int_equal(coll_lease_beat(a, ea), 0);
	assert_int_equal(fl_sql_commit(w), FL_SQL_OK);
	fl_sql_close(w);
	coll_lease_close(a);
}

// The old holder was cut off in the middle of a fenced transaction: its writer's session stays
// "idle in transaction" with a share lock on the lease row. The taker ends it (once idle for
// half the lease timeout) instead of waiting for it forever.
static void
test_a_writer_stuck_mid_transaction_does_not_block_the_taker(void **state)
{
	(void) state;
	coll_lease *a = open_lease("alpha"), *b = open_lease("beta");
	fl_sql     *w = open_db();
	int64_t     ea, eb;

	ea = take_within(a, 3000);
	assert_true(ea > 0);
	fl_sql_set_fence(w, ea);
	assert_int_equal(fl_sql_begin(w), FL_SQL_OK); // holds the lease row FOR KEY SHARE, hangs
	// A cut is noticed after the lease timeout at the earliest: by then the writer has been
	// idle longer than half of it.
	sleep_ms(TIMEOUT_US / 2000 + 200);
	kill_backend(coll_lease_backend_pid(a));
	eb = take_within(b, 6000);
	assert_int_equal(eb, ea + 1);
	assert_int_not_equal(fl_sql_commit(w), FL_SQL_OK); // its session was ended
	fl_sql_close(w);
	coll_lease_close(a);
	coll_lease_close(b);
}

static coll_lease_keeper *
start_keeper(const char *name)
{
	coll_lease_opts    o = { .db = { .target = target, .password_file = password_file },
		   .name             = name,
		   .timeout_us       = TIMEOUT_US };
	coll_lease_keeper *k = NULL;
	char               err[512];
	if (coll_lease_keeper_start(&o, &k, err, sizeof(err)) != 0) {
		fail_msg("cannot start a keeper: %s", err);
	}
	return k;
}

// Waits until k holds the lease (or ms pass); its view then.
static coll_lease_view
held_within(coll_lease_keeper *k, int ms)
{
	coll_lease_view v = { 0 };
	for (int i = 0; i < ms / 50 && !v.held; i++) {
		v = coll_lease_keeper_view(k, fl_mono_us());
		if (!v.held) {
			sleep_ms(50);
		}
	}
	return v;
}

static void
test_keepers_hand_over(void **state)
{
	(void) state;
	coll_lease_keeper *a  = start_keeper("alpha");
	coll_lease_view    va = held_within(a, 5000), vb;
	char               holder[COLL_LEASE_NAME_MAX];

	assert_true(va.held);
	coll_lease_keeper *b = start_keeper("beta");
	sleep_ms(2500); // b tries twice or more meanwhile
	assert_false(coll_lease_keeper_view(b, fl_mono_us()).held);
	coll_lease_keeper_holder(b, holder, sizeof(holder));
	assert_string_equal(holder, "alpha");
	// A beat is late when none succeeded within half the timeout: a view from then on says
	// lost, whatever the thread is stuck in.
	assert_true(coll_lease_keeper_view(a, fl_mono_us()).held);
	assert_false(coll_lease_keeper_view(a, fl_mono_us() + TIMEOUT_US / 2 + 1100000).held);

	int64_t t0 = fl_mono_us();
	coll_lease_keeper_stop(a); // ends the session
	vb = held_within(b, 5000);
	assert_true(vb.held);
	assert_true(fl_mono_us() - t0 < 2500000); // the next try, not a timeout
	assert_true(vb.epoch > va.epoch);
	assert_int_equal(coll_lease_keeper_taken(b), 1);

	coll_lease_keeper_drop(b); // gives it up; takes it again at a new epoch
	coll_lease_view again = held_within(b, 5000);
	assert_true(again.held);
	assert_true(again.epoch > vb.epoch);
	assert_int_equal(coll_lease_keeper_lost(b), 1);
	coll_lease_keeper_stop(b);
}

static void
test_only_postgresql_has_a_lease(void **state)
{
	(void) state;
	coll_lease_opts o = {
		.db = { .target = "/tmp/fl-lease-test.db" }, .name = "x", .timeout_us = TIMEOUT_US
	};
	coll_lease *l = NULL;
	char        err[256];
	assert_int_equal(coll_lease_open(&o, &l, err, sizeof(err)), -1);
	assert_string_equal(err, "a lease needs a PostgreSQL store");
	assert_null(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_only_postgresql_has_a_lease),
		cmocka_unit_test(test_second_gets_it_only_when_the_first_dies),
		cmocka_unit_test(test_a_holder_that_beats_keeps_it),
		cmocka_unit_test(test_a_holder_that_stops_beating_is_ended),
		cmocka_unit_test(test_the_old_holders_fenced_writer_cannot_write),
		cmocka_unit_test(test_a_slow_write_does_not_hold_up_the_heartbeat),
		cmocka_unit_test(test_a_writer_stuck_mid_transaction_does_not_block_the_taker),
		cmocka_unit_test(test_keepers_hand_over),
	};

	target        = getenv("FL_SQL_TEST_TARGET");
	password_file = getenv("FL_SQL_TEST_PASSWORD_FILE");
	if (target == NULL || fl_sql_target_engine(target) != FL_SQL_PGSQL) {
		fprintf(stderr,
		    "lease_test: FL_SQL_TEST_TARGET must name a PostgreSQL (run it through "
		    "tests/collector/pg_state.sh, as ctest does)\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
