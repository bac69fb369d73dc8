// state_test.c - in-memory state: transitions, duplicates, staleness, skew, replay, restart.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coll_testutil.h"
#include "fl/wire.h"
#include "state.h"

#define T0  1700000000000000LL
#define SEC 1000000LL

static const tu_probe P_OK[]   = { { "app", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE,
	                               1000 },
	  { "db", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 2000 } };
static const tu_probe P_FAIL[] = { { "app", FL__STATUS__STATUS_FAIL,
	                               FL__FAILURE_CLASS__FAILURE_HTTP_5XX, 1000 },
	{ "db", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 2000 } };

static coll_apply_result
apply(coll_state *s, const char *host, uint64_t seq, const tu_probe *p, int64_t now, coll_ops *ops)
{
	tu_rep d = { .host = host, .boot_id = 1, .seq = seq, .n = 2, .probes = p };
	return coll_state_apply(s, tu_make(&d), now, ops);
}

static size_t
count_kind(const coll_ops *ops, coll_op_kind k, const char *event_kind)
{
	size_t n = 0;
	for (size_t i = 0; i < ops->n; i++) {
		if (ops->v[i].kind == k &&
		    (event_kind == NULL || strcmp(ops->v[i].u.event.kind, event_kind) == 0)) {
			n++;
		}
	}
	return n;
}

static void
test_transitions_only(void **state)
{
	(void) state;
	coll_state s;
	coll_ops   ops;
	coll_state_init(&s, T0);
	coll_ops_init(&ops);

	assert_int_equal(apply(&s, "web1", 1, P_OK, T0, &ops), COLL_APPLIED);
	assert_int_equal(count_kind(&ops, COLL_OP_HOST, NULL), 1);
	assert_int_equal(count_kind(&ops, COLL_OP_LATEST, NULL), 2);
	assert_int_equal(count_kind(&ops, COLL_OP_EVENT, NULL), 0); // new + ok is not news
	coll_ops_clear(&ops);

	// Unchanged results produce no writes at all.
	assert_int_equal(apply(&s, "web1", 2, P_OK, T0 + SEC, &ops), COLL_APPLIED);
	assert_int_equal(ops.n, 0);

	assert_int_equal(apply(&s, "web1", 3, P_FAIL, T0 + 2 * SEC, &ops), COLL_APPLIED);
	assert_int_equal(count_kind(&ops, COLL_OP_LATEST, NULL), 1);
	assert_int_equal(count_kind(&ops, COLL_OP_EVENT, "status"), 1);
	assert_string_equal(ops.v[1].u.event.from, "ok");
	assert_string_equal(ops.v[1].u.event.to, "fail");
	assert_string_equal(ops.v[1].u.event.probe, "app");
	assert_int_equal(ops.v[1].u.event.failure, FL__FAILURE_CLASS__FAILURE_HTTP_5XX);
	assert_int_equal(ops.v[1].u.event.at_us, T0 + 2 * SEC);
	coll_ops_clear(&ops);

	assert_int_equal(apply(&s, "web1", 4, P_FAIL, T0 + 3 * SEC, &ops), COLL_APPLIED);
	assert_int_equal(ops.n, 0);
	coll_host *h = coll_state_host(&s, "web1");
	assert_non_null(h);
	assert_int_equal(h->probes[0].consecutive_fail, 2);
	assert_int_equal(h->probes[0].consecutive_ok, 0);
	assert_int_equal(h->probes[0].failing_since_us, T0 + 2 * SEC);
	assert_string_equal(h->probes[0].release_at_fail, "r1");
	assert_int_equal(h->probes[1].consecutive_ok, 4);

	assert_int_equal(apply(&s, "web1", 5, P_OK, T0 + 4 * SEC, &ops), COLL_APPLIED);
	assert_int_equal(count_kind(&ops, COLL_OP_EVENT, "status"), 1);
	assert_int_equal(h->probes[0].consecutive_fail, 0);
	assert_int_equal(h->probes[0].consecutive_ok, 1);
	assert_int_equal(h->probes[0].failing_since_us, 0);
	assert_int_equal(s.stats.reports_applied, 5);
	assert_int_equal(s.stats.results_applied, 10);
	coll_ops_clear(&ops);

	// last_seen reaches the store at most every COLL_SEEN_WRITE_US.
	assert_int_equal(
	    apply(&s, "web1", 6, P_OK, T0 + 4 * SEC + COLL_SEEN_WRITE_US, &ops), COLL_APPLIED);
	assert_int_equal(count_kind(&ops, COLL_OP_SEEN, NULL), 1);

	coll_ops_fini(&ops);
	coll_state_fini(&s);
}

static void
test_duplicates(void **state)
{
	(void) state;
	coll_state s;
	coll_ops   ops;
	coll_state_init(&s, T0);
	coll_ops_init(&ops);
	assert_int_equal(apply(&s, "web1", 10, P_OK, T0, &ops), COLL_APPLIED);
	assert_int_equal(apply(&s, "web1", 10, P_FAIL, T0, &ops), COLL_DUPLICATE);
	assert_int_equal(s.stats.dropped_duplicate, 1);
	// An older round not seen yet is accepted but does not overwrite newer state.
	assert_int_equal(apply(&s, "web1", 8, P_FAIL, T0, &ops), COLL_APPLIED);
	assert_int_equal(coll_state_host(&s, "web1")->probes[0].status, FL__STATUS__STATUS_OK);
	assert_int_equal(apply(&s, "web1", 8, P_FAIL, T0, &ops), COLL_DUPLICATE);
	assert_int_equal(s.stats.dropped_duplicate, 2);
	// A new agent process (boot_id) starts its seqs again.
	tu_rep d = { .host = "web1", .boot_id = 2, .seq = 1, .n = 2, .probes = P_FAIL };
	assert_int_equal(coll_state_apply(&s, tu_make(&d), T0 + SEC, &ops), COLL_APPLIED);
	assert_int_equal(coll_state_host(&s, "web1")->probes[0].status, FL__STATUS__STATUS_FAIL);
	coll_ops_fini(&ops);
	coll_state_fini(&s);
}

static void
test_stale_and_back(void **state)
{
	(void) state;
	coll_state s;
	coll_ops   ops;
	coll_state_init(&s, T0);
	coll_ops_init(&ops);
	assert_int_equal(apply(&s, "web1", 1, P_OK, T0, &ops), COLL_APPLIED); // interval 1 s
	coll_ops_clear(&ops);
	assert_int_equal(coll_state_check_stale(&s, T0 + 3 * SEC, &ops), 0);
	assert_int_equal(coll_state_check_stale(&s, T0 + 3 * SEC + 1, &ops), 1);
	assert_int_equal(count_kind(&ops, COLL_OP_EVENT, "stale"), 1);
	assert_true(coll_state_host(&s, "web1")->stale);
	assert_int_equal(coll_state_check_stale(&s, T0 + 10 * SEC, &ops), 0); // once only
	coll_ops_clear(&ops);
	assert_int_equal(apply(&s, "web1", 2, P_OK, T0 + 11 * SEC, &ops), COLL_APPLIED);
	assert_int_equal(count_kind(&ops, COLL_OP_EVENT, "back"), 1);
	assert_false(coll_state_host(&s, "web1")->stale);
	coll_ops_fini(&ops);
	coll_state_fini(&s);
}

static void
test_skew_and_replay(void **state)
{
	(void) state;
	coll_state s;
	coll_ops   ops;
	coll_state_init(&s, T0);
	coll_ops_init(&ops);
	// The agent's clock runs 5 s ahead.
	tu_rep d = { .host        = "web1",
		.boot_id          = 1,
		.seq              = 1,
		.n                = 2,
		.probes           = P_OK,
		.sent_us          = T0 + 5 * SEC,
		.round_started_us = T0 + 5 * SEC };
	assert_int_equal(coll_state_apply(&s, tu_make(&d), T0, &ops), COLL_APPLIED);
	assert_int_equal(coll_state_host(&s, "web1")->clock_skew_us, 5 * SEC);
	coll_ops_clear(&ops);
	// A replayed round that began 40 s ago by our clock (35 s ahead-adjusted on the agent's).
	d.seq              = 2;
	d.probes           = P_FAIL;
	d.replayed         = true;
	d.round_started_us = T0 + 60 * SEC - 40 * SEC + 5 * SEC;
	d.sent_us          = T0 + 60 * SEC + 5 * SEC;
	assert_int_equal(coll_state_apply(&s, tu_make(&d), T0 + 60 * SEC, &ops), COLL_APPLIED);
	assert_int_equal(count_kind(&ops, COLL_OP_EVENT, "status"), 1);
	const coll_event *ev = &ops.v[ops.n - 1].u.event;
	assert_int_equal(ev->at_us, T0 + 20 * SEC);
	assert_int_equal(ev->agent_time_us, d.round_started_us);
	assert_int_equal(coll_state_host(&s, "web1")->last_seen_us, T0 + 60 * SEC);
	coll_ops_fini(&ops);
	coll_state_fini(&s);
}

static void
test_release_change_and_baseline(void **state)
{
	(void) state;
	coll_state s;
	coll_ops   ops;
	coll_state_init(&s, T0);
	coll_ops_init(&ops);
	tu_rep d = { .host = "web1", .boot_id = 1, .seq = 1, .n = 2, .probes = P_OK };
	for (int i = 0; i < 5; i++) {
		d.seq = (uint64_t) i + 1;
		assert_int_equal(
		    coll_state_apply(&s, tu_make(&d), T0 + i * SEC, &ops), COLL_APPLIED);
	}
	coll_ops_clear(&ops);
	coll_host *h = coll_state_host(&s, "web1");
	assert_int_equal(h->probes[0].baseline_us, 1000);
	assert_int_equal(h->probes[1].baseline_us, 2000);
	d.seq     = 6;
	d.release = "r2";
	assert_int_equal(coll_state_apply(&s, tu_make(&d), T0 + 6 * SEC, &ops), COLL_APPLIED);
	assert_int_equal(count_kind(&ops, COLL_OP_EVENT, "release"), 1);
	assert_int_equal(count_kind(&ops, COLL_OP_HOST, NULL), 1);
	assert_string_equal(h->release, "r2");
	assert_string_equal(h->previous_release, "r1");
	assert_int_equal(h->release_since_us, T0 + 6 * SEC);
	coll_ops_fini(&ops);
	coll_state_fini(&s);
}

static void
test_restart_reload(void **state)
{
	(void) state;
	char        db[64], err[256], p[80];
	coll_store *st;
	coll_state  s;
	coll_ops    ops;
	snprintf(db, sizeof(db), "/tmp/coll-state-test-%d.db", (int) getpid());
	unlink(db);
	assert_int_equal(coll_store_open(db, false, &st, err, sizeof(err)), 0);

	coll_state_init(&s, T0);
	coll_ops_init(&ops);
	assert_int_equal(apply(&s, "web2", 1, P_OK, T0, &ops), COLL_APPLIED);
	assert_int_equal(apply(&s, "web1", 1, P_OK, T0, &ops), COLL_APPLIED);
	assert_int_equal(apply(&s, "web1", 2, P_FAIL, T0 + SEC, &ops), COLL_APPLIED);
	coll_state_flush_seen(&s, T0 + SEC, 0, &ops);
	assert_int_equal(coll_store_write(st, &ops), 0);
	coll_ops_clear(&ops);
	coll_state_fini(&s);

	coll_state_init(&s, T0 + 100 * SEC);
	coll_store_loader ld = { coll_state_restore_host, coll_state_restore_latest,
		coll_state_restore_verdict, &s };
	assert_int_equal(coll_store_load(st, &ld), 0);
	assert_int_equal(s.n_hosts, 2);
	coll_host *h = coll_state_host(&s, "web1");
	assert_non_null(h);
	assert_int_equal(h->n_probes, 2);
	assert_string_equal(h->probes[0].last->name, "app");
	assert_int_equal(h->probes[0].last->status, FL__STATUS__STATUS_FAIL);
	assert_int_equal(h->probes[0].since_us, T0 + SEC);
	assert_int_equal(h->probes[0].consecutive_fail, 1);
	assert_int_equal(h->last_seen_us, T0 + SEC);
	assert_string_equal(h->release, "r1");
	// Not stale right after our own start, even though last_seen is long ago.
	assert_int_equal(coll_state_check_stale(&s, T0 + 101 * SEC, &ops), 0);
	// A round applied before the restart is still a duplicate.
	assert_int_equal(apply(&s, "web1", 2, P_OK, T0 + 101 * SEC, &ops), COLL_DUPLICATE);
	// The next round applies over the restored result, without a spurious transition.
	assert_int_equal(apply(&s, "web1", 3, P_FAIL, T0 + 102 * SEC, &ops), COLL_APPLIED);
	assert_int_equal(count_kind(&ops, COLL_OP_EVENT, "status"), 0);
	assert_int_equal(h->probes[0].consecutive_fail, 2);

	// The status reply lists hosts sorted, with probes.
	nng_msg      *msg;
	Fl__Response *resp;
	char          why[128];
	assert_int_equal(coll_state_encode_status(&s, NULL, false, T0, &msg), 0);
	assert_int_equal(
	    fl_wire_decode_response(nng_msg_body(msg), nng_msg_len(msg), &resp, why, sizeof(why)),
	    FL_WIRE_OK);
	nng_msg_free(msg);
	assert_int_equal(resp->status->n_hosts, 2);
	assert_string_equal(resp->status->hosts[0]->host, "web1");
	assert_int_equal(resp->status->hosts[0]->n_probes, 2);
	assert_int_equal(
	    resp->status->hosts[0]->probes[0]->failure, FL__FAILURE_CLASS__FAILURE_HTTP_5XX);
	assert_string_equal(resp->status->hosts[1]->host, "web2");
	fl__response__free_unpacked(resp, NULL);

	coll_ops_fini(&ops);
	coll_state_fini(&s);
	coll_store_close(st);
	unlink(db);
	snprintf(p, sizeof(p), "%s-wal", db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db);
	unlink(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transitions_only),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_stale_and_back),
		cmocka_unit_test(test_skew_and_replay),
		cmocka_unit_test(test_release_change_and_baseline),
		cmocka_unit_test(test_restart_reload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
