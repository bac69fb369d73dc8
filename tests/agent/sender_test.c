// sender_test.c - reports over nng PUSH to a real PULL socket: fields, ordering, the spool
// (replay with replayed = true and original round times, drop-oldest on overflow).

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>

#include "fl/time.h"
#include "fl/version.h"
#include "fl/wire.h"
#include "sender.h"

static agent_result    results[2];
static agent_result   *result_ptrs[2] = { &results[0], &results[1] };
static agent_round_out round_out;

static void
make_round(int64_t started_us)
{
	memset(&round_out, 0, sizeof(round_out));
	round_out.started_us = started_us;
	snprintf(round_out.release, sizeof(round_out.release), "v9");
	for (int i = 0; i < 2; i++) {
		agent_result_fini(&results[i]);
		agent_result_init(&results[i], i ? "db" : "web",
		    i ? FL__PROBE_KIND__KIND_TCP : FL__PROBE_KIND__KIND_HTTP, "127.0.0.1:1");
		agent_result_set(&results[i], FL__STATUS__STATUS_FAIL,
		    FL__FAILURE_CLASS__FAILURE_REFUSED, "refused %d", i);
		results[i].pb.started_us = started_us;
	}
	round_out.results   = result_ptrs;
	round_out.n_results = 2;
}

// Opens a PULL socket on a free loopback port; writes its URL.
static nng_socket
pull_listen(char *url, size_t len, int port)
{
	nng_socket   s;
	nng_listener l;
	char         u[64];
	int          p = port;
	assert_int_equal(nng_pull0_open(&s), 0);
	snprintf(u, sizeof(u), "tcp://127.0.0.1:%d", port);
	assert_int_equal(nng_listen(s, u, &l, 0), 0);
	if (port == 0) {
		assert_int_equal(nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &p), 0);
	}
	snprintf(url, len, "tcp://127.0.0.1:%d", p);
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000);
	return s;
}

static Fl__Report *
recv_report(nng_socket s)
{
	nng_msg    *m;
	Fl__Report *r = NULL;
	char        why[128];
	assert_int_equal(nng_recvmsg(s, &m, 0), 0);
	assert_int_equal(
	    fl_wire_decode_report(nng_msg_body(m), nng_msg_len(m), &r, why, sizeof(why)),
	    FL_WIRE_OK);
	nng_msg_free(m);
	return r;
}

// Receives the next report on s while flushing sender (whose re-sends happen on flush), for up
// to 5 s.
static Fl__Report *
recv_report_flushing(nng_socket s, agent_sender *sender)
{
	int64_t deadline = fl_mono_us() + 5000000;
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 100);
	for (;;) {
		nng_msg    *m;
		Fl__Report *r = NULL;
		char        why[128];
		agent_sender_flush(sender);
		if (nng_recvmsg(s, &m, 0) == 0) {
			assert_int_equal(fl_wire_decode_report(
			                     nng_msg_body(m), nng_msg_len(m), &r, why, sizeof(why)),
			    FL_WIRE_OK);
			nng_msg_free(m);
			return r;
		}
		assert_true(fl_mono_us() < deadline);
	}
}

// Submits until the sender is connected (polls, with a deadline).
static void
wait_connected(agent_sender *s)
{
	int64_t            deadline = fl_mono_us() + 5000000;
	agent_sender_stats st;
	for (;;) {
		agent_sender_flush(s);
		agent_sender_stats_get(s, &st);
		if (st.queued == 0) {
			return;
		}
		assert_true(fl_mono_us() < deadline);
		struct timespec ts = { 0, 10 * 1000000 };
		nanosleep(&ts, NULL);
	}
}

static void
test_report_fields(void **state)
{
	(void) state;
	char          url[64], err[256];
	nng_socket    pull = pull_listen(url, sizeof(url), 0);
	agent_sender *s;
	assert_int_equal(
	    agent_sender_new(url, "hostA", 1000, 10, NULL, 0, &s, err, sizeof(err)), 0);
	make_round(1111);
	agent_sender_submit(s, &round_out);
	wait_connected(s);
	Fl__Report *r = recv_report(pull);
	assert_int_equal(r->schema_version, FL_SCHEMA_VERSION);
	assert_string_equal(r->host, "hostA");
	assert_string_equal(r->release, "v9");
	assert_string_equal(r->agent_version, FL_VERSION);
	assert_int_equal(r->interval_ms, 1000);
	assert_int_equal(r->seq, 1);
	assert_int_equal(r->round_started_us, 1111);
	assert_true(r->sent_us > 1000000000000000LL);
	assert_true(r->boot_id != 0);
	assert_int_equal(r->n_results, 2);
	assert_string_equal(r->results[1]->name, "db");
	assert_int_equal(r->results[1]->failure, FL__FAILURE_CLASS__FAILURE_REFUSED);
	uint64_t boot = r->boot_id;
	fl__report__free_unpacked(r, NULL);

	make_round(2222);
	agent_sender_submit(s, &round_out);
	wait_connected(s);
	r = recv_report(pull);
	assert_int_equal(r->seq, 2);
	assert_int_equal(r->boot_id, boot);
	assert_false(r->replayed);
	fl__report__free_unpacked(r, NULL);
	agent_sender_free(s);
	nng_close(pull);
}

static void
test_spool_replay_and_overflow(void **state)
{
	(void) state;
	char url[64], err[256];
	// Find a free port, then close the listener: the collector is "away".
	nng_socket pull = pull_listen(url, sizeof(url), 0);
	int        port = 0;
	sscanf(url, "tcp://127.0.0.1:%d", &port);
	nng_close(pull);

	agent_sender *s;
	assert_int_equal(agent_sender_new(url, "hostB", 1000, 3, NULL, 0, &s, err, sizeof(err)), 0);
	for (int i = 1; i <= 5; i++) {
		make_round(i * 1000);
		assert_int_equal(agent_sender_submit(s, &round_out), 0);
	}
	agent_sender_stats st;
	agent_sender_stats_get(s, &st);
	assert_int_equal(st.queued, 3);
	assert_int_equal(st.dropped, 2);
	assert_int_equal(st.sent, 0);

	// The collector comes back on the same address; nng redials by itself.
	pull = pull_listen(url, sizeof(url), port);
	wait_connected(s);
	for (int i = 3; i <= 5; i++) { // the two oldest were dropped; the rest arrive in order
		Fl__Report *r = recv_report(pull);
		assert_int_equal(r->seq, (uint64_t) i);
		assert_int_equal(r->round_started_us, i * 1000);
		assert_true(r->replayed);
		assert_int_equal(r->spool_dropped, 2);
		assert_true(r->sent_us > r->round_started_us);
		fl__report__free_unpacked(r, NULL);
	}
	agent_sender_stats_get(s, &st);
	assert_int_equal(st.replayed, 3);
	assert_int_equal(st.queued, 0);

	// A report sent at once is not marked replayed.
	make_round(6000);
	agent_sender_submit(s, &round_out);
	wait_connected(s);
	Fl__Report *r = recv_report(pull);
	assert_int_equal(r->seq, 6);
	assert_false(r->replayed);
	fl__report__free_unpacked(r, NULL);
	agent_sender_free(s);
	nng_close(pull);
}

// The spool file: rounds queued with no collector survive the sender (the agent) going away;
// the next sender on the same directory sends them first, in order, with their own boot_id and
// seq, marked replayed, then its own rounds, whose seqs are higher and span starts.
static void
test_spool_file_across_restart(void **state)
{
	(void) state;
	char url[64], err[256], dir[] = "/tmp/fl-sender-test-XXXXXX";
	assert_non_null(mkdtemp(dir));
	nng_socket pull = pull_listen(url, sizeof(url), 0);
	int        port = 0;
	sscanf(url, "tcp://127.0.0.1:%d", &port);
	nng_close(pull); // the collector is away

	agent_sender *s;
	assert_int_equal(
	    agent_sender_new(url, "hostC", 1000, 100, dir, 1 << 20, &s, err, sizeof(err)), 0);
	for (int i = 1; i <= 4; i++) {
		make_round(i * 1000);
		assert_int_equal(agent_sender_submit(s, &round_out), 0);
	}
	agent_sender_stats st;
	agent_sender_stats_get(s, &st);
	assert_int_equal(st.queued, 4);
	agent_sender_free(s); // the agent stops: its rounds stay in the file

	assert_int_equal(
	    agent_sender_new(url, "hostC", 1000, 100, dir, 1 << 20, &s, err, sizeof(err)), 0);
	agent_sender_stats_get(s, &st);
	assert_int_equal(st.loaded, 4);
	assert_int_equal(st.queued, 4);
	make_round(5000);
	assert_int_equal(agent_sender_submit(s, &round_out), 0);
	pull = pull_listen(url, sizeof(url), port);
	wait_connected(s);
	uint64_t first_boot = 0, first_seq = 0;
	for (int i = 1; i <= 4; i++) {
		Fl__Report *r = recv_report(pull);
		assert_int_equal(r->round_started_us, i * 1000);
		assert_true(r->replayed);
		assert_true(r->seq_spans_starts);
		if (i == 1) {
			first_boot = r->boot_id;
			first_seq  = r->seq;
		}
		assert_int_equal(r->boot_id, first_boot);
		assert_int_equal(r->seq, first_seq + (uint64_t) i - 1);
		fl__report__free_unpacked(r, NULL);
	}
	Fl__Report *r = recv_report(pull); // the new start's own round
	assert_int_equal(r->round_started_us, 5000);
	assert_true(r->boot_id != first_boot);
	assert_true(r->seq > first_seq + 3);
	assert_true(r->seq_spans_starts);
	fl__report__free_unpacked(r, NULL);
	agent_sender_free(s);
	nng_close(pull);

	// Without a spool file, seqs start at 1 and do not span starts (as before).
	pull = pull_listen(url, sizeof(url), 0);
	assert_int_equal(
	    agent_sender_new(url, "hostC", 1000, 100, NULL, 0, &s, err, sizeof(err)), 0);
	make_round(6000);
	agent_sender_submit(s, &round_out);
	wait_connected(s);
	r = recv_report(pull);
	assert_int_equal(r->seq, 1);
	assert_false(r->seq_spans_starts);
	fl__report__free_unpacked(r, NULL);
	agent_sender_free(s);
	nng_close(pull);
	char p[96];
	snprintf(p, sizeof(p), "%s/spool", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/spool.lock", dir);
	unlink(p);
	rmdir(dir);
}

// Several collectors: the sender dials each address of the list; reports reach the one that
// listens, whichever it is.
static void
test_list_of_collectors(void **state)
{
	(void) state;
	char       url_a[64], url_b[64], list[160], err[256];
	nng_socket a      = pull_listen(url_a, sizeof(url_a), 0);
	nng_socket b      = pull_listen(url_b, sizeof(url_b), 0);
	int        port_a = 0;
	sscanf(url_a, "tcp://127.0.0.1:%d", &port_a);
	nng_close(a); // only B listens
	snprintf(list, sizeof(list), "%s, %s", url_a, url_b);
	agent_sender *s;
	assert_int_equal(
	    agent_sender_new(list, "hostD", 1000, 10, NULL, 0, &s, err, sizeof(err)), 0);
	make_round(1000);
	agent_sender_submit(s, &round_out);
	wait_connected(s);
	Fl__Report *r = recv_report(b);
	assert_int_equal(r->seq, 1);
	fl__report__free_unpacked(r, NULL);

	// B goes away, A comes back: the next rounds reach A.
	nng_close(b);
	a = pull_listen(url_a, sizeof(url_a), port_a);
	make_round(2000);
	agent_sender_submit(s, &round_out);
	// Round 2 may have gone to B's connection before the sender saw it end: then it is re-sent
	// (retained window) once it does, after the copy of round 1.
	r = recv_report_flushing(a, s);
	while (r->seq < 2) {
		fl__report__free_unpacked(r, NULL);
		r = recv_report_flushing(a, s);
	}
	assert_int_equal(r->seq, 2);
	assert_int_equal(r->round_started_us, 2000);
	fl__report__free_unpacked(r, NULL);
	agent_sender_free(s);
	nng_close(a);
}

static void
test_bad_url(void **state)
{
	(void) state;
	agent_sender *s = NULL;
	char          err[256];
	assert_int_equal(
	    agent_sender_new("bogus://x", "h", 1000, 1, NULL, 0, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot dial collector bogus://x"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_fields),
		cmocka_unit_test(test_spool_replay_and_overflow),
		cmocka_unit_test(test_spool_file_across_restart),
		cmocka_unit_test(test_list_of_collectors),
		cmocka_unit_test(test_bad_url),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	agent_result_fini(&results[0]);
	agent_result_fini(&results[1]);
	return rc;
}
