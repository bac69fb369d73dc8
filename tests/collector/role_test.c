// role_test.c - the role machine (role.h): single stays single, a standby takes over when it
// holds the lease, an active steps down at once when the lease is lost, late or re-taken at
// another epoch, and a standby refreshes on its period.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <string.h>

#include "role.h"

static const coll_lease_view NOT_HELD = { .held = false, .epoch = 0 };

static void
test_single_never_changes(void **state)
{
	(void) state;
	coll_role_machine m;
	coll_lease_view   held = { .held = true, .epoch = 3 };
	coll_role_init(&m, false, 100);
	assert_int_equal(m.role, COLL_ROLE_SINGLE);
	assert_string_equal(coll_role_name(m.role), "single");
	assert_int_equal(coll_role_tick(&m, &held, 200), COLL_ROLE_NOTHING);
	assert_int_equal(
	    coll_role_tick(&m, &NOT_HELD, 300 + COLL_ROLE_REFRESH_US), COLL_ROLE_NOTHING);
	assert_int_equal(m.role, COLL_ROLE_SINGLE);
	assert_int_equal(m.since_us, 100);
}

static void
test_standby_refreshes_on_its_period(void **state)
{
	(void) state;
	coll_role_machine m;
	coll_role_init(&m, true, 1000);
	assert_int_equal(m.role, COLL_ROLE_STANDBY);
	assert_string_equal(coll_role_name(m.role), "standby");
	// At once (the state a new standby serves is the store's), then once per period.
	assert_int_equal(coll_role_tick(&m, &NOT_HELD, 1000), COLL_ROLE_REFRESH);
	assert_int_equal(coll_role_tick(&m, &NOT_HELD, 1001), COLL_ROLE_NOTHING);
	assert_int_equal(
	    coll_role_tick(&m, &NOT_HELD, 1000 + COLL_ROLE_REFRESH_US - 1), COLL_ROLE_NOTHING);
	assert_int_equal(
	    coll_role_tick(&m, &NOT_HELD, 1000 + COLL_ROLE_REFRESH_US), COLL_ROLE_REFRESH);
	assert_int_equal(m.role, COLL_ROLE_STANDBY);
	assert_int_equal(m.since_us, 1000);
}

// A slow reload (a large fleet) spaces the next one out to ten times its duration.
static void
test_a_slow_refresh_spaces_the_next(void **state)
{
	(void) state;
	coll_role_machine m;
	coll_role_init(&m, true, 0);
	assert_int_equal(coll_role_tick(&m, &NOT_HELD, 0), COLL_ROLE_REFRESH);
	coll_role_refreshed(&m, 50000, 50000); // 50 ms: the period stays 1 s
	assert_int_equal(m.next_refresh_us, 50000 + COLL_ROLE_REFRESH_US);
	assert_int_equal(coll_role_tick(&m, &NOT_HELD, 1050000), COLL_ROLE_REFRESH);
	coll_role_refreshed(&m, 400000, 1450000); // 400 ms: next in 4 s
	assert_int_equal(coll_role_tick(&m, &NOT_HELD, 1450000 + 3999999), COLL_ROLE_NOTHING);
	assert_int_equal(coll_role_tick(&m, &NOT_HELD, 1450000 + 4000000), COLL_ROLE_REFRESH);
}

static void
test_standby_takes_over_when_it_holds_the_lease(void **state)
{
	(void) state;
	coll_role_machine m;
	coll_lease_view   held = { .held = true, .epoch = 7 };
	coll_role_init(&m, true, 0);
	assert_int_equal(coll_role_tick(&m, &held, 50), COLL_ROLE_TAKE_OVER);
	assert_int_equal(m.role, COLL_ROLE_ACTIVE);
	assert_string_equal(coll_role_name(m.role), "active");
	assert_int_equal(m.epoch, 7);
	assert_int_equal(m.since_us, 50);
	// Held on: nothing more to do, and an active never refreshes from the store.
	assert_int_equal(
	    coll_role_tick(&m, &held, 60 + 5 * COLL_ROLE_REFRESH_US), COLL_ROLE_NOTHING);
	assert_int_equal(m.since_us, 50);
}

static void
test_held_without_an_epoch_is_not_taken(void **state)
{
	(void) state;
	coll_role_machine m;
	coll_lease_view   odd = { .held = true, .epoch = 0 }; // no fence to write under
	coll_role_init(&m, true, 0);
	(void) coll_role_tick(&m, &NOT_HELD, 0);
	assert_int_equal(coll_role_tick(&m, &odd, 10), COLL_ROLE_NOTHING);
	assert_int_equal(m.role, COLL_ROLE_STANDBY);
}

static void
test_active_steps_down_when_the_lease_is_lost(void **state)
{
	(void) state;
	coll_role_machine m;
	coll_lease_view   held = { .held = true, .epoch = 2 };
	coll_role_init(&m, true, 0);
	(void) coll_role_tick(&m, &held, 10);
	assert_int_equal(coll_role_tick(&m, &NOT_HELD, 20), COLL_ROLE_STEP_DOWN);
	assert_int_equal(m.role, COLL_ROLE_STANDBY);
	assert_int_equal(m.since_us, 20);
	assert_int_equal(m.epoch, 0);
	// The first standby tick refreshes at once: the new active's writes are the truth now.
	assert_int_equal(coll_role_tick(&m, &NOT_HELD, 20), COLL_ROLE_REFRESH);
}

static void
test_active_steps_down_when_the_epoch_moved(void **state)
{
	(void) state;
	coll_role_machine m;
	coll_lease_view   first = { .held = true, .epoch = 2 };
	coll_lease_view   again = { .held = true, .epoch = 4 }; // lost and re-taken in between
	coll_role_init(&m, true, 0);
	(void) coll_role_tick(&m, &first, 10);
	assert_int_equal(coll_role_tick(&m, &again, 20), COLL_ROLE_STEP_DOWN);
	assert_int_equal(m.role, COLL_ROLE_STANDBY);
	// Then takes over afresh at the new epoch (its state reloaded, its writers re-fenced).
	assert_int_equal(coll_role_tick(&m, &again, 30), COLL_ROLE_TAKE_OVER);
	assert_int_equal(m.epoch, 4);
}

static void
test_failed_take_over_returns_to_standby(void **state)
{
	(void) state;
	coll_role_machine m;
	coll_lease_view   held = { .held = true, .epoch = 5 };
	coll_role_init(&m, true, 0);
	assert_int_equal(coll_role_tick(&m, &held, 10), COLL_ROLE_TAKE_OVER);
	coll_role_take_over_failed(&m, 11);
	assert_int_equal(m.role, COLL_ROLE_STANDBY);
	assert_int_equal(m.since_us, 11);
	assert_int_equal(m.epoch, 0);
	// Single is never demoted by a failure it cannot have.
	coll_role_init(&m, false, 0);
	coll_role_take_over_failed(&m, 12);
	assert_int_equal(m.role, COLL_ROLE_SINGLE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_never_changes),
		cmocka_unit_test(test_standby_refreshes_on_its_period),
		cmocka_unit_test(test_a_slow_refresh_spaces_the_next),
		cmocka_unit_test(test_standby_takes_over_when_it_holds_the_lease),
		cmocka_unit_test(test_held_without_an_epoch_is_not_taken),
		cmocka_unit_test(test_active_steps_down_when_the_lease_is_lost),
		cmocka_unit_test(test_active_steps_down_when_the_epoch_moved),
		cmocka_unit_test(test_failed_take_over_returns_to_standby),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
