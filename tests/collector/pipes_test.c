// pipes_test.c - the connection table of a listening socket (pipes.h), over real nng inproc
// sockets: the connection bound, and the per-connection reply accounting the control socket
// relies on to cut off clients that do not read.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

#include "pipes.h"

static atomic_int hooked;

static void
on_add(void *arg)
{
	(void) arg;
	atomic_fetch_add(&hooked, 1);
}

// Polls cond (an expression) for up to 2 s.
#define WAIT_FOR(cond)                                        \
	do {                                                  \
		for (int i_ = 0; i_ < 200 && !(cond); i_++) { \
			nng_msleep(10);                       \
		}                                             \
		assert_true(cond);                            \
	} while (0)

static void
test_bound_and_replies(void **state)
{
	nng_socket  rep, req[3];
	coll_pipes *t;
	nng_msg    *m;
	uint32_t    pipe;
	atomic_bool gone, never;
	(void) state;

	assert_int_equal(nng_rep0_open(&rep), 0);
	assert_int_equal(coll_pipes_attach(rep, "test", 2, on_add, NULL, &t), 0);
	assert_int_equal(nng_listen(rep, "inproc://pipes-test", NULL, 0), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(nng_req0_open(&req[i]), 0);
		assert_int_equal(nng_dial(req[i], "inproc://pipes-test", NULL, 0), 0);
	}
	WAIT_FOR(coll_pipes_count(t) == 2);
	// A third connection is over the bound: closed as it arrives (its dialer keeps trying,
	// and keeps being refused), but it still reached the socket (the watchdog's hook).
	assert_int_equal(nng_req0_open(&req[2]), 0);
	assert_int_equal(nng_dial(req[2], "inproc://pipes-test", NULL, 0), 0);
	WAIT_FOR(coll_pipes_refused(t) >= 1);
	assert_true(atomic_load(&hooked) >= 3);
	assert_int_equal(coll_pipes_count(t), 2);
	nng_close(req[2]);
	uint64_t refused = coll_pipes_refused(t);

	// A request tells which connection it came on.
	char q[] = "q";
	assert_int_equal(nng_send(req[0], q, 1, 0), 0);
	assert_int_equal(nng_recvmsg(rep, &m, 0), 0);
	pipe = nng_pipe_id(nng_msg_get_pipe(m));
	nng_msg_free(m);

	// One reply queued per connection; a second is dropped.
	assert_false(coll_pipes_reply_queued(t, pipe));
	assert_int_equal(coll_pipes_reply_admit(t, pipe, 5000, 10000), COLL_REPLY_SEND);
	assert_true(coll_pipes_reply_queued(t, pipe));
	assert_int_equal(coll_pipes_reply_admit(t, pipe, 5000, 10000), COLL_REPLY_DROP);
	assert_int_equal(coll_pipes_reply_bytes(t), 5000);
	// Handed over: it stays held by the connection until the next one is handed over.
	coll_pipes_reply_done(t, pipe, 5000, true);
	assert_false(coll_pipes_reply_queued(t, pipe));
	assert_int_equal(coll_pipes_reply_bytes(t), 5000);
	// Over the budget: busy; a small answer always fits.
	assert_int_equal(coll_pipes_reply_admit(t, pipe, 6000, 10000), COLL_REPLY_BUSY);
	assert_int_equal(coll_pipes_reply_admit(t, pipe, 100, 10000), COLL_REPLY_SEND);
	assert_int_equal(coll_pipes_reply_bytes(t), 5100);
	coll_pipes_reply_done(t, pipe, 100, true); // the 5000 were written
	assert_int_equal(coll_pipes_reply_bytes(t), 100);
	// A failed send releases its bytes and keeps what was held.
	assert_int_equal(coll_pipes_reply_admit(t, pipe, 3000, 10000), COLL_REPLY_SEND);
	coll_pipes_reply_done(t, pipe, 3000, false);
	assert_int_equal(coll_pipes_reply_bytes(t), 100);
	// A connection the table does not know (gone): sent, never accounted.
	assert_int_equal(coll_pipes_reply_admit(t, 0x7fffffff, 9000, 10000), COLL_REPLY_SEND);
	coll_pipes_reply_done(t, 0x7fffffff, 9000, true);
	assert_int_equal(coll_pipes_reply_bytes(t), 100);

	// Watchers learn when the connection closes; its bytes leave with it.
	atomic_init(&gone, false);
	atomic_init(&never, false);
	assert_int_equal(coll_pipes_watch(t, pipe, &gone), 0);
	assert_false(atomic_load(&gone));
	assert_int_equal(coll_pipes_watch(t, 0x7fffffff, &never), 0);
	assert_true(atomic_load(&never)); // already gone
	coll_pipes_unwatch(t, &never);
	nng_close(req[0]);
	WAIT_FOR(atomic_load(&gone));
	coll_pipes_unwatch(t, &gone);
	WAIT_FOR(coll_pipes_count(t) == 1);
	assert_int_equal(coll_pipes_reply_bytes(t), 0);

	// A place freed: a new connection is let in.
	assert_int_equal(nng_req0_open(&req[2]), 0);
	assert_int_equal(nng_dial(req[2], "inproc://pipes-test", NULL, 0), 0);
	WAIT_FOR(coll_pipes_count(t) == 2);
	assert_int_equal(coll_pipes_refused(t), refused);

	nng_close(req[1]);
	nng_close(req[2]);
	nng_close(rep);
	coll_pipes_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bound_and_replies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
