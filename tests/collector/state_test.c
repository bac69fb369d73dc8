// state_test.c - in-memory state: transitions, duplicates, staleness, skew, replay, restart,
// slow-round counting, late reports (synthetic clocks) and staleness of long rounds.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coll_testutil.h"
#include "fl/names.h"
#include "fl/str.h"
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

// One status page as a client receives it: built by the state, packed, decoded again (free
// with fl__status_reply__free_unpacked).
static Fl__StatusReply *
status_decoded(const coll_state *s, const coll_filter *f, const char *after, size_t page_bytes)
{
	coll_status      st;
	uint8_t         *buf;
	size_t           len;
	Fl__StatusReply *r;

	assert_int_equal(coll_state_status(s, f, after, page_bytes, T0, &st), 0);
	len = fl__status_reply__get_packed_size(&st.reply);
	buf = malloc(len ? len : 1);
	assert_non_null(buf);
	fl__status_reply__pack(&st.reply, buf);
	coll_status_fini(&st);
	r = fl__status_reply__unpack(NULL, len, buf);
	free(buf);
	assert_non_null(r);
	return r;
}

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
		    (event_kind == NULL ||
		        strcmp(fl_history_kind_name(ops->v[i].u.event.kind), event_kind) == 0)) {
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
	assert_int_equal(h->probes[0].view.consecutive_fail, 2);
	assert_int_equal(h->probes[0].view.consecutive_ok, 0);
	assert_int_equal(h->probes[0].view.failing_since_us, T0 + 2 * SEC);
	assert_string_equal(h->probes[0].view.release_at_fail, "r1");
	assert_int_equal(h->probes[1].view.consecutive_ok, 4);

	assert_int_equal(apply(&s, "web1", 5, P_OK, T0 + 4 * SEC, &ops), COLL_APPLIED);
	assert_int_equal(count_kind(&ops, COLL_OP_EVENT, "status"), 1);
	assert_int_equal(h->probes[0].view.consecutive_fail, 0);
	assert_int_equal(h->probes[0].view.consecutive_ok, 1);
	assert_int_equal(h->probes[0].view.failing_since_us, 0);
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

// A probe still running (in_progress_ms) repeats its last finished result: shown, but not counted
// again; a result that finished since counts even when it comes marked in progress (the next run
// has begun), so a hung database still reaches the failing threshold.
static coll_apply_result
apply_running(coll_state *s, uint64_t seq, const tu_probe *p, int64_t started, uint32_t running,
    int64_t now, coll_ops *ops)
{
	tu_rep      d = { .host = "web1", .boot_id = 1, .seq = seq, .n = 2, .probes = p };
	Fl__Report *r = tu_make(&d);
	r->results[0]->started_us     = started;
	r->results[0]->in_progress_ms = running;
	return coll_state_apply(s, r, now, ops);
}

static void
test_in_progress_repeats(void **state)
{
	(void) state;
	coll_state s;
	coll_ops   ops;
	coll_state_init(&s, T0);
	coll_ops_init(&ops);
	assert_int_equal(apply_running(&s, 1, P_OK, T0, 0, T0, &ops), COLL_APPLIED);
	coll_host *h = coll_state_host(&s, "web1");
	assert_non_null(h);
	assert_int_equal(h->probes[0].view.consecutive_ok, 1);
	// The same ok result while the next run hangs: not a second sample.
	assert_int_equal(apply_running(&s, 2, P_OK, T0, 1000, T0 + SEC, &ops), COLL_APPLIED);
	assert_int_equal(apply_running(&s, 3, P_OK, T0, 2000, T0 + 2 * SEC, &ops), COLL_APPLIED);
	assert_int_equal(h->probes[0].view.consecutive_ok, 1);
	assert_int_equal(h->probes[0].res.status, FL__STATUS__STATUS_OK);
	// Its timeout ends it: a transition, counted.
	assert_int_equal(
	    apply_running(&s, 4, P_FAIL, T0 + SEC, 1000, T0 + 3 * SEC, &ops), COLL_APPLIED);
	assert_int_equal(h->probes[0].view.consecutive_fail, 1);
	assert_int_equal(
	    apply_running(&s, 5, P_FAIL, T0 + SEC, 2000, T0 + 4 * SEC, &ops), COLL_APPLIED);
	assert_int_equal(h->probes[0].view.consecutive_fail, 1);
	// The next timeout is a new result (new start), also marked in progress: counted.
	assert_int_equal(
	    apply_running(&s, 6, P_FAIL, T0 + 4 * SEC, 1000, T0 + 6 * SEC, &ops), COLL_APPLIED);
	assert_int_equal(h->probes[0].view.consecutive_fail, 2);
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
	assert_int_equal(coll_state_host(&s, "web1")->probes[0].res.status, FL__STATUS__STATUS_OK);
	assert_int_equal(apply(&s, "web1", 8, P_FAIL, T0, &ops), COLL_DUPLICATE);
	assert_int_equal(s.stats.dropped_duplicate, 2);
	// A new agent process (boot_id) starts its seqs again.
	tu_rep d = { .host = "web1", .boot_id = 2, .seq = 1, .n = 2, .probes = P_FAIL };
	assert_int_equal(coll_state_apply(&s, tu_make(&d), T0 + SEC, &ops), COLL_APPLIED);
	assert_int_equal(
	    coll_state_host(&s, "web1")->probes[0].res.status, FL__STATUS__STATUS_FAIL);
	coll_ops_fini(&ops);
	coll_state_fini(&s);
}

// A round of agent start `boot` (which numbers rounds across starts: a spool file) at now.
static coll_apply_result
apply_spanning(
    coll_state *s, uint64_t boot, uint64_t seq, const tu_probe *p, int64_t now, coll_ops *ops)
{
	tu_rep d = { .host        = "web1",
		.boot_id          = boot,
		.seq              = seq,
		.seq_spans_starts = true,
		.n                = 2,
		.probes           = p,
		.replayed         = true };
	return coll_state_apply(s, tu_make(&d), now, ops);
}

// An agent restarted with its spool file: the new start has a new boot_id and seqs above the
// earlier start's, and its spool file re-sends rounds of the earlier start (a connection that
// ended at the boundary, a collector that took over). Those are duplicates, whatever their
// boot_id, also after a collector restart; without seq_spans_starts a new boot_id starts the
// window over (an agent with no spool file).
static void
test_duplicates_across_agent_starts(void **state)
{
	(void) state;
	coll_state s;
	coll_ops   ops;
	coll_state_init(&s, T0);
	coll_ops_init(&ops);
	// Start A: rounds 1001-1003 (the last one failing).
	assert_int_equal(apply_spanning(&s, 0xA, 1001, P_OK, T0, &ops), COLL_APPLIED);
	assert_int_equal(apply_spanning(&s, 0xA, 1002, P_OK, T0 + SEC, &ops), COLL_APPLIED);
	assert_int_equal(apply_spanning(&s, 0xA, 1003, P_FAIL, T0 + 2 * SEC, &ops), COLL_APPLIED);
	// Start B continues above: 1004 (its file's highest + 1) and one far above (the clock).
	assert_int_equal(apply_spanning(&s, 0xB, 1004, P_OK, T0 + 3 * SEC, &ops), COLL_APPLIED);
	coll_host *h = coll_state_host(&s, "web1");
	assert_int_equal(h->probes[0].res.status, FL__STATUS__STATUS_OK);
	assert_int_equal(h->boot_id, 0xB);
	// A's last rounds re-sent after B's: duplicates, not a "new boot" applied again.
	coll_ops_clear(&ops);
	assert_int_equal(apply_spanning(&s, 0xA, 1003, P_FAIL, T0 + 4 * SEC, &ops), COLL_DUPLICATE);
	assert_int_equal(apply_spanning(&s, 0xA, 1002, P_OK, T0 + 4 * SEC, &ops), COLL_DUPLICATE);
	assert_int_equal(apply_spanning(&s, 0xB, 1004, P_OK, T0 + 4 * SEC, &ops), COLL_DUPLICATE);
	assert_int_equal(s.stats.dropped_duplicate, 3);
	assert_int_equal(count_kind(&ops, COLL_OP_EVENT, "status"), 0);
	assert_int_equal(h->probes[0].res.status, FL__STATUS__STATUS_OK);
	assert_int_equal(h->boot_id, 0xB);
	uint64_t big = 1700000000000000ULL; // a start whose seqs begin at the clock
	assert_int_equal(apply_spanning(&s, 0xC, big, P_FAIL, T0 + 5 * SEC, &ops), COLL_APPLIED);
	assert_int_equal(apply_spanning(&s, 0xB, 1004, P_OK, T0 + 6 * SEC, &ops), COLL_DUPLICATE);
	assert_int_equal(apply_spanning(&s, 0xC, big, P_OK, T0 + 6 * SEC, &ops), COLL_DUPLICATE);
	assert_int_equal(h->probes[0].res.status, FL__STATUS__STATUS_FAIL);

	// After a collector restart (boot_id and last_seq restored, the window unknown): the
	// earlier starts' rounds are still duplicates; the next round of C applies.
	coll_ops_fini(&ops);
	coll_state_fini(&s);
	coll_state_init(&s, T0 + 100 * SEC);
	coll_ops_init(&ops);
	coll_host_row row = { .host = "web1",
		.release            = "r1",
		.previous_release   = "",
		.agent_version      = "0.1.0",
		.labels             = "",
		.interval_ms        = 1000,
		.boot_id            = 0xC,
		.last_seq           = big,
		.first_seen_us      = T0,
		.last_seen_us       = T0 + 5 * SEC };
	assert_int_equal(coll_state_restore_host(&s, &row), 0);
	assert_int_equal(apply_spanning(&s, 0xB, 1004, P_OK, T0 + 101 * SEC, &ops), COLL_DUPLICATE);
	assert_int_equal(apply_spanning(&s, 0xA, 1003, P_OK, T0 + 101 * SEC, &ops), COLL_DUPLICATE);
	assert_int_equal(apply_spanning(&s, 0xC, big, P_OK, T0 + 101 * SEC, &ops), COLL_DUPLICATE);
	assert_int_equal(
	    apply_spanning(&s, 0xC, big + 1, P_OK, T0 + 102 * SEC, &ops), COLL_APPLIED);

	// An agent without a spool file (seq from 1 with each boot_id) starts the window over;
	// after it, a start numbering across starts continues from there.
	tu_rep d = { .host = "web1", .boot_id = 0xD, .seq = 1, .n = 2, .probes = P_FAIL };
	assert_int_equal(coll_state_apply(&s, tu_make(&d), T0 + 103 * SEC, &ops), COLL_APPLIED);
	assert_int_equal(coll_state_host(&s, "web1")->last_seq, 1);
	assert_int_equal(
	    apply_spanning(&s, 0xE, big + 2, P_OK, T0 + 104 * SEC, &ops), COLL_APPLIED);
	assert_int_equal(coll_state_host(&s, "web1")->boot_id, 0xE);
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
	assert_int_equal(
	    coll_store_open(&(fl_sql_opts) { .target = db }, &st, err, sizeof(err)), 0);

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
	assert_string_equal(h->probes[0].view.last->name, "app");
	assert_int_equal(h->probes[0].view.last->status, FL__STATUS__STATUS_FAIL);
	assert_int_equal(h->probes[0].since_us, T0 + SEC);
	assert_int_equal(h->probes[0].view.consecutive_fail, 1);
	assert_int_equal(h->last_seen_us, T0 + SEC);
	assert_string_equal(h->release, "r1");
	// Not stale right after our own start, even though last_seen is long ago.
	assert_int_equal(coll_state_check_stale(&s, T0 + 101 * SEC, &ops), 0);
	// A round applied before the restart is still a duplicate.
	assert_int_equal(apply(&s, "web1", 2, P_OK, T0 + 101 * SEC, &ops), COLL_DUPLICATE);
	// The next round applies over the restored result, without a spurious transition.
	assert_int_equal(apply(&s, "web1", 3, P_FAIL, T0 + 102 * SEC, &ops), COLL_APPLIED);
	assert_int_equal(count_kind(&ops, COLL_OP_EVENT, "status"), 0);
	assert_int_equal(h->probes[0].view.consecutive_fail, 2);

	// The status reply lists hosts sorted, with probes.
	Fl__StatusReply *r = status_decoded(&s, NULL, NULL, 0);
	assert_int_equal(r->n_hosts, 2);
	assert_string_equal(r->hosts[0]->host, "web1");
	assert_int_equal(r->hosts[0]->n_probes, 2);
	assert_int_equal(r->hosts[0]->probes[0]->failure, FL__FAILURE_CLASS__FAILURE_HTTP_5XX);
	assert_string_equal(r->hosts[1]->host, "web2");
	fl__status_reply__free_unpacked(r, NULL);

	coll_ops_fini(&ops);
	coll_state_fini(&s);
	coll_store_close(st);
	unlink(db);
	snprintf(p, sizeof(p), "%s-wal", db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db);
	unlink(p);
}

// ---- slow rounds ----------------------------------------------------------------------------

static const tu_probe P_DB_SLOW[] = { { "app", FL__STATUS__STATUS_OK,
	                                  FL__FAILURE_CLASS__FAILURE_NONE, 1000 },
	{ "db", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 300000 } };
static const tu_probe P_DB_WARN[] = { { "app", FL__STATUS__STATUS_OK,
	                                  FL__FAILURE_CLASS__FAILURE_NONE, 1000 },
	{ "db", FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_SLOW, 900000 } };

// Like apply(), with probe "db" a postgres probe of a shared server (tu_make makes every probe
// http of the host's own app).
static coll_apply_result
apply_db(
    coll_state *s, const char *host, uint64_t seq, const tu_probe *p, int64_t now, coll_ops *ops)
{
	tu_rep      d = { .host = host, .boot_id = 1, .seq = seq, .n = 2, .probes = p };
	Fl__Report *r = tu_make(&d);
	char       *t = strdup("db.example:5432/orders");
	assert_non_null(t);
	free(r->results[1]->target); // unpacked with the default allocator
	r->results[1]->target = t;
	r->results[1]->kind   = FL__PROBE_KIND__KIND_POSTGRES;
	return coll_state_apply(s, r, now, ops);
}

// consecutive_slow counts slow rounds (warn, or ok but far above the baseline) and resets on a
// normal one; slow rounds do not drag the baseline up (the spell would otherwise look normal).
static void
test_consecutive_slow(void **state)
{
	(void) state;
	coll_state s;
	coll_ops   ops;
	coll_state_init(&s, T0);
	coll_ops_init(&ops);
	uint64_t seq = 1;
	for (int i = 0; i < 5; i++, seq++) {
		assert_int_equal(
		    apply(&s, "web1", seq, P_OK, T0 + (int64_t) seq * SEC, &ops), COLL_APPLIED);
		assert_int_equal(
		    apply(&s, "web2", seq, P_OK, T0 + (int64_t) seq * SEC, &ops), COLL_APPLIED);
	}
	coll_host *h = coll_state_host(&s, "web1");
	assert_int_equal(h->probes[1].view.consecutive_slow, 0);
	static const struct {
		const tu_probe *p;
		uint32_t        slow;
		Fl__Verdict     verdict;
	} steps[] = {
		{ P_DB_SLOW, 1, FL__VERDICT__VERDICT_HEALTHY },
		{ P_DB_SLOW, 2, FL__VERDICT__VERDICT_HEALTHY },
		{ P_DB_WARN, 3, FL__VERDICT__VERDICT_NETWORK }, // web1 -> db slow, web2 normal
		{ P_DB_SLOW, 4, FL__VERDICT__VERDICT_NETWORK },
		// Hysteresis: 4 of the last 10 rounds were slow, so one normal round does not end
		// the slow path (the counter itself resets), nor does the next slow one restart it.
		{ P_OK, 0, FL__VERDICT__VERDICT_NETWORK },
		{ P_DB_SLOW, 1, FL__VERDICT__VERDICT_NETWORK },
	};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++, seq++) {
		int64_t now = T0 + (int64_t) seq * SEC;
		assert_int_equal(apply_db(&s, "web1", seq, steps[i].p, now, &ops), COLL_APPLIED);
		assert_int_equal(apply_db(&s, "web2", seq, P_OK, now, &ops), COLL_APPLIED);
		assert_int_equal(h->probes[1].view.consecutive_slow, steps[i].slow);
		assert_int_equal(h->probes[1].baseline_us, 2000);
		Fl__DiagnoseReply *r = coll_state_diagnose(&s, now, NULL);
		assert_non_null(r);
		if (r->verdict != steps[i].verdict) {
			fail_msg("step %zu: %s: %s", i, fl_verdict_name(r->verdict), r->summary);
		}
		if (r->verdict == FL__VERDICT__VERDICT_NETWORK) {
			assert_non_null(strstr(r->summary, "slow path web1 \u2192"));
			assert_int_equal(r->findings[0]->n_hosts, 1);
			assert_string_equal(r->findings[0]->hosts[0], "web1");
		}
		corr_reply_free(r);
	}
	coll_ops_fini(&ops);
	coll_state_fini(&s);
}

static const tu_probe P_APP_SLOW[] = { { "app", FL__STATUS__STATUS_WARN,
	                                   FL__FAILURE_CLASS__FAILURE_SLOW, 900000 },
	{ "db", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 2000 } };

// The collector keeps a fixed window of recent rounds per probe and hands it to the engine: an
// app slow on every host for several rounds is a (degraded) code finding, and one fast round
// inside a long slow spell does not end it (the median recent round is still slow).
static void
test_recent_window(void **state)
{
	(void) state;
	coll_state s;
	coll_ops   ops;
	coll_state_init(&s, T0);
	coll_ops_init(&ops);
	uint64_t seq = 1;
	for (int i = 0; i < 30; i++, seq++) {
		int64_t now = T0 + (int64_t) seq * SEC;
		assert_int_equal(apply_db(&s, "web1", seq, P_OK, now, &ops), COLL_APPLIED);
		assert_int_equal(apply_db(&s, "web2", seq, P_OK, now, &ops), COLL_APPLIED);
	}
	coll_host *h = coll_state_host(&s, "web1");
	assert_int_equal(h->probes[0].recent.n, CORR_WINDOW); // bounded: 30 rounds, 16 kept
	assert_int_equal(corr_window_percentile(&h->probes[0].recent, 50), 1000);
	// 10 slow rounds on both hosts, then fast ones. Code once 3 came in a row; a fast round
	// does not end the spell while most of the last CORR_WINDOW rounds were slow.
	int64_t  spell_start = 0;
	unsigned slow_held   = 0; // slow rounds among the last CORR_WINDOW
	bool     hist[64]    = { false };
	for (int i = 0; i < 30; i++, seq++) {
		int64_t         now  = T0 + (int64_t) seq * SEC;
		bool            slow = i < 10;
		const tu_probe *p    = slow ? P_APP_SLOW : P_OK;
		hist[i]              = slow;
		slow_held += slow;
		if (i >= CORR_WINDOW && hist[i - CORR_WINDOW]) {
			slow_held--;
		}
		spell_start = spell_start ? spell_start : now;
		assert_int_equal(apply_db(&s, "web1", seq, p, now, &ops), COLL_APPLIED);
		assert_int_equal(apply_db(&s, "web2", seq, p, now, &ops), COLL_APPLIED);
		Fl__DiagnoseReply *r = coll_state_diagnose(&s, now, NULL);
		assert_non_null(r);
		Fl__Verdict want = (slow && i >= 2) || (!slow && 2 * slow_held > CORR_WINDOW)
		    ? FL__VERDICT__VERDICT_CODE
		    : FL__VERDICT__VERDICT_HEALTHY;
		if (r->verdict != want) {
			fail_msg("round %d: %s: %s", i, fl_verdict_name(r->verdict), r->summary);
		}
		if (r->verdict == FL__VERDICT__VERDICT_CODE) {
			assert_non_null(strstr(r->summary, "degraded"));
			assert_non_null(strstr(r->summary, "slow on all 2 hosts"));
			assert_non_null(strstr(r->summary, "latency 900ms vs normal 1ms"));
			assert_int_equal(r->since_us, spell_start);
		}
		corr_reply_free(r);
	}
	assert_int_equal(h->probes[0].recent.n, CORR_WINDOW);
	coll_ops_fini(&ops);
	coll_state_fini(&s);
}

// Like apply_db(), with the db probe reporting that db.example resolved to `answer`
// (comma-separated, sorted).
static coll_apply_result
apply_answer(
    coll_state *s, const char *host, uint64_t seq, const char *answer, int64_t now, coll_ops *ops)
{
	tu_rep           d = { .host = host, .boot_id = 1, .seq = seq, .n = 2, .probes = P_OK };
	Fl__Report      *r = tu_make(&d);
	Fl__ProbeResult *x = r->results[1];
	char             buf[128], *save = NULL;
	free(x->target); // unpacked with the default allocator: heap strings throughout
	x->target        = strdup("db.example:5432/orders");
	x->kind          = FL__PROBE_KIND__KIND_POSTGRES;
	x->resolved_name = strdup("db.example");
	x->addresses     = calloc(4, sizeof(char *));
	assert_non_null(x->target);
	assert_non_null(x->resolved_name);
	assert_non_null(x->addresses);
	snprintf(buf, sizeof(buf), "%s", answer);
	for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		x->addresses[x->n_addresses++] = strdup(t);
	}
	return coll_state_apply(s, r, now, ops);
}

static const coll_event *
first_event(const coll_ops *ops, const char *kind)
{
	for (size_t i = 0; i < ops->n; i++) {
		if (ops->v[i].kind == COLL_OP_EVENT &&
		    strcmp(fl_history_kind_name(ops->v[i].u.event.kind), kind) == 0) {
			return &ops->v[i].u.event;
		}
	}
	return NULL;
}

// A name's answer: the first is not news, a change is a "dns" history event (and the stored
// result is rewritten so a restart knows the new answer), the engine sees the previous answer.
static void
test_answer_changes(void **state)
{
	(void) state;
	coll_state s;
	coll_ops   ops;
	coll_state_init(&s, T0);
	coll_ops_init(&ops);
	assert_int_equal(apply_answer(&s, "web1", 1, "10.0.0.5", T0, &ops), COLL_APPLIED);
	assert_int_equal(apply_answer(&s, "web1", 2, "10.0.0.5", T0 + SEC, &ops), COLL_APPLIED);
	assert_null(first_event(&ops, "dns"));
	coll_ops_clear(&ops);

	assert_int_equal(
	    apply_answer(&s, "web1", 3, "10.0.0.9,10.0.0.10", T0 + 2 * SEC, &ops), COLL_APPLIED);
	const coll_event *ev = first_event(&ops, "dns");
	assert_non_null(ev);
	assert_string_equal(ev->host, "web1");
	assert_string_equal(ev->probe, "db");
	assert_string_equal(ev->from, "10.0.0.5");
	assert_string_equal(ev->to, "10.0.0.9, 10.0.0.10");
	assert_string_equal(ev->detail, "db.example moved from 10.0.0.5 to 10.0.0.9, 10.0.0.10");
	assert_int_equal(ev->at_us, T0 + 2 * SEC);
	assert_int_equal(count_kind(&ops, COLL_OP_LATEST, NULL), 1);
	coll_host *h = coll_state_host(&s, "web1");
	assert_string_equal(h->probes[1].more->addrs_prev, "10.0.0.5");
	assert_int_equal(h->probes[1].view.addrs_changed_us, T0 + 2 * SEC);
	coll_ops_clear(&ops);

	// The same answer again, and a round with no answer (a failure): nothing new.
	assert_int_equal(
	    apply_answer(&s, "web1", 4, "10.0.0.9,10.0.0.10", T0 + 3 * SEC, &ops), COLL_APPLIED);
	assert_int_equal(apply_db(&s, "web1", 5, P_OK, T0 + 4 * SEC, &ops), COLL_APPLIED);
	assert_null(first_event(&ops, "dns"));
	coll_ops_fini(&ops);
	coll_state_fini(&s);
}

// ---- late reports ---------------------------------------------------------------------------

#define SKEW (5 * SEC) // the agent's clock runs 5 s ahead of ours

// A report of round `seq` that began at collector time `round_at` (agent clock + SKEW), first
// sent at collector time `sent_at`, received at `now`.
static coll_apply_result
apply_at(coll_state *s, uint64_t boot, uint64_t seq, const tu_probe *p, int64_t round_at,
    int64_t sent_at, int64_t now, coll_ops *ops)
{
	tu_rep d = { .host        = "web1",
		.boot_id          = boot,
		.seq              = seq,
		.n                = 2,
		.probes           = p,
		.sent_us          = sent_at + SKEW,
		.round_started_us = round_at + SKEW };
	return coll_state_apply(s, tu_make(&d), now, ops);
}

static const coll_event *
find_event(const coll_ops *ops, const char *kind, const char *probe)
{
	for (size_t i = 0; i < ops->n; i++) {
		const coll_event *ev = &ops->v[i].u.event;
		if (ops->v[i].kind == COLL_OP_EVENT &&
		    strcmp(fl_history_kind_name(ev->kind), kind) == 0 &&
		    (probe == NULL || strcmp(ev->probe, probe) == 0)) {
			return ev;
		}
	}
	return NULL;
}

// The skew estimate is the max of sent_us - now (= skew - transit delay), so a delayed report
// does not lower it; it decays slowly, and resets on a new boot_id.
static void
test_skew_estimate(void **state)
{
	(void) state;
	coll_state s;
	coll_ops   ops;
	coll_state_init(&s, T0);
	coll_ops_init(&ops);
	static const int64_t delay_ms[] = { 30, 5, 50, 2000, 12 };
	int64_t              t          = T0;
	for (size_t i = 0; i < 5; i++, t += SEC) {
		int64_t now = t + delay_ms[i] * 1000;
		assert_int_equal(apply_at(&s, 1, i + 1, P_OK, t, t, now, &ops), COLL_APPLIED);
	}
	coll_host *h = coll_state_host(&s, "web1");
	// The least-delayed observation, less the decay since (1000 ppm of ~4 s); the report
	// delayed 2 s did not lower it.
	assert_true(h->clock_skew_us <= SKEW - 5000);
	assert_true(h->clock_skew_us >= SKEW - 5000 - 4100);
	// After 100 s without reports the estimate has decayed by 100 ms: a report delayed
	// 60 ms now sets it.
	t += 100 * SEC;
	assert_int_equal(apply_at(&s, 1, 6, P_OK, t, t, t + 60000, &ops), COLL_APPLIED);
	assert_int_equal(h->clock_skew_us, SKEW - 60000);
	// A new agent process starts a new estimate (its clock may have been set meanwhile).
	t += SEC;
	tu_rep d = { .host        = "web1",
		.boot_id          = 2,
		.seq              = 1,
		.n                = 2,
		.probes           = P_OK,
		.sent_us          = t - 3 * SEC,
		.round_started_us = t - 3 * SEC };
	assert_int_equal(coll_state_apply(&s, tu_make(&d), t, &ops), COLL_APPLIED);
	assert_int_equal(h->clock_skew_us, -3 * SEC);
	coll_ops_fini(&ops);
	coll_state_fini(&s);
}

// A silent cut (packets dropped, TCP never torn down): rounds wait in the agent's socket buffer,
// the host goes stale, then every held round arrives at once by retransmission with its
// original sent_us. Their events are stamped when the rounds happened; the host stays stale
// until a report sent in time arrives, and stale/back are on our clock.
static void
test_late_burst_after_silent_cut(void **state)
{
	(void) state;
	coll_state s;
	coll_ops   ops;
	coll_state_init(&s, T0);
	coll_ops_init(&ops);
	const int64_t transit = 3000;
	for (uint64_t i = 1; i <= 3; i++) { // rounds at T0+1..3 s, on time
		int64_t t = T0 + (int64_t) i * SEC;
		assert_int_equal(
		    apply_at(&s, 1, i, P_OK, t, t + 1000, t + 1000 + transit, &ops), COLL_APPLIED);
	}
	coll_host *h = coll_state_host(&s, "web1");
	assert_int_equal(h->clock_skew_us, SKEW - transit);
	const int64_t seen = T0 + 3 * SEC + 1000 + transit;
	assert_int_equal(h->last_seen_us, seen);
	// The cut begins after round 3; rounds 4..12 are held. Stale after 3 intervals.
	assert_int_equal(coll_state_check_stale(&s, seen + 3 * SEC + 1, &ops), 1);
	const coll_event *ev = find_event(&ops, "stale", NULL);
	assert_non_null(ev);
	assert_int_equal(ev->at_us, seen + 3 * SEC + 1);
	coll_ops_clear(&ops);

	// The cut heals at T0+20 s: rounds 4..12 arrive within a few ms; app fails from round 6.
	const int64_t heal = T0 + 20 * SEC;
	for (uint64_t i = 4; i <= 12; i++) {
		int64_t t = T0 + (int64_t) i * SEC;
		assert_int_equal(apply_at(&s, 1, i, i >= 6 ? P_FAIL : P_OK, t, t + 1000,
		                     heal + (int64_t) i * 100, &ops),
		    COLL_APPLIED);
		assert_true(h->stale); // a delayed report does not bring the host back
		assert_int_equal(h->last_seen_us, seen);
	}
	ev = find_event(&ops, "status", "app");
	assert_non_null(ev);
	assert_string_equal(ev->to, "fail");
	// Round 6 began at T0+6 s by our clock; the estimate (SKEW - transit) places it 3 ms later.
	assert_int_equal(ev->at_us, T0 + 6 * SEC + transit);
	assert_null(find_event(&ops, "back", NULL));
	assert_int_equal(h->probes[0].view.failing_since_us, T0 + 6 * SEC + transit);
	assert_int_equal(h->probes[0].view.consecutive_fail, 7);
	assert_int_equal(h->clock_skew_us, SKEW - transit); // not lowered by the delayed ones
	Fl__DiagnoseReply *r = coll_state_diagnose(&s, heal + SEC + 2000, NULL);
	assert_non_null(r);
	// Still silent: no report sent in time yet (its only host, so "no recent data").
	assert_int_equal(r->verdict, FL__VERDICT__VERDICT_UNKNOWN);
	corr_reply_free(r);
	coll_ops_clear(&ops);

	// Round 20 is sent in time: the host is back, now, on our clock.
	const int64_t fresh = heal + 2 * SEC;
	assert_int_equal(
	    apply_at(&s, 1, 20, P_FAIL, fresh - SEC, fresh - 2000, fresh, &ops), COLL_APPLIED);
	ev = find_event(&ops, "back", NULL);
	assert_non_null(ev);
	assert_int_equal(ev->at_us, fresh);
	assert_false(h->stale);
	assert_int_equal(h->last_seen_us, fresh);
	coll_ops_fini(&ops);
	coll_state_fini(&s);
}

// Late rounds are clamped: never in the future, never before the probe's previous event. A
// report that is on time is stamped at arrival.
static void
test_late_clamps(void **state)
{
	(void) state;
	coll_state s;
	coll_ops   ops;
	coll_state_init(&s, T0);
	coll_ops_init(&ops);
	assert_int_equal(apply_at(&s, 1, 1, P_OK, T0, T0, T0, &ops), COLL_APPLIED);
	coll_ops_clear(&ops);
	// On time (round began 1.5 s ago, under 2 intervals): stamped at arrival.
	assert_int_equal(apply_at(&s, 1, 2, P_FAIL, T0 + 500000, T0 + 2 * SEC, T0 + 2 * SEC, &ops),
	    COLL_APPLIED);
	const coll_event *ev = find_event(&ops, "status", "app");
	assert_non_null(ev);
	assert_int_equal(ev->at_us, T0 + 2 * SEC);
	coll_ops_clear(&ops);
	// Late (began 10 s ago by its own clock), but the probe's last event was at T0+2 s.
	assert_int_equal(
	    apply_at(&s, 1, 3, P_OK, T0 - 7 * SEC, T0 + 3 * SEC, T0 + 3 * SEC, &ops), COLL_APPLIED);
	ev = find_event(&ops, "status", "app");
	assert_non_null(ev);
	assert_int_equal(ev->at_us, T0 + 2 * SEC);
	coll_ops_clear(&ops);
	// A replayed round claiming to begin in the future is stamped now.
	tu_rep d = { .host        = "web1",
		.boot_id          = 1,
		.seq              = 4,
		.n                = 2,
		.probes           = P_FAIL,
		.replayed         = true,
		.sent_us          = T0 + 4 * SEC + SKEW,
		.round_started_us = T0 + 60 * SEC + SKEW };
	assert_int_equal(coll_state_apply(&s, tu_make(&d), T0 + 4 * SEC, &ops), COLL_APPLIED);
	ev = find_event(&ops, "status", "app");
	assert_non_null(ev);
	assert_int_equal(ev->at_us, T0 + 4 * SEC);
	coll_ops_fini(&ops);
	coll_state_fini(&s);
}

// The collector's clock steps forward 30 s: every report now looks 30 s delayed. A run of them
// spread over several intervals (not a burst) resets the estimate, and the host is back.
static void
test_clock_step_resets_skew(void **state)
{
	(void) state;
	coll_state s;
	coll_ops   ops;
	coll_state_init(&s, T0);
	coll_ops_init(&ops);
	uint64_t seq = 1;
	for (; seq <= 3; seq++) {
		int64_t t = T0 + (int64_t) seq * SEC;
		assert_int_equal(apply_at(&s, 1, seq, P_OK, t, t, t, &ops), COLL_APPLIED);
	}
	coll_host *h = coll_state_host(&s, "web1");
	assert_int_equal(h->clock_skew_us, SKEW);
	int64_t now = 0;
	for (int i = 0; i < 8 && h->clock_skew_us == SKEW; i++, seq++) {
		int64_t t = T0 + (int64_t) seq * SEC;
		now       = t + 30 * SEC;
		assert_int_equal(apply_at(&s, 1, seq, P_OK, t, t, now, &ops), COLL_APPLIED);
		coll_state_check_stale(&s, now, &ops);
	}
	assert_int_equal(h->clock_skew_us, SKEW - 30 * SEC);
	assert_int_equal(h->delayed_run, 0);
	assert_int_equal(seq, 3 + 1 + COLL_SKEW_RESET_RUN + 1); // after the 6th such report
	assert_false(h->stale);
	assert_int_equal(h->last_seen_us, now);
	coll_ops_fini(&ops);
	coll_state_fini(&s);
}

// ---- staleness allows for long rounds ------------------------------------------------------

// A report whose round took round_ms (its results end that long after round_started_us).
static coll_apply_result
apply_round(
    coll_state *s, uint64_t seq, int64_t start, uint32_t round_ms, int64_t now, coll_ops *ops)
{
	tu_rep      d = { .host        = "web1",
		     .boot_id          = 1,
		     .seq              = seq,
		     .n                = 2,
		     .probes           = P_OK,
		     .sent_us          = now,
		     .round_started_us = start };
	Fl__Report *r = tu_make(&d);
	for (size_t i = 0; i < r->n_results; i++) {
		r->results[i]->started_us  = start + 1000;
		r->results[i]->duration_us = i == 1 ? round_ms * 1000 - 1000 : 1000;
	}
	return coll_state_apply(s, r, now, ops);
}

static void
test_stale_allows_long_rounds(void **state)
{
	(void) state;
	coll_state s;
	coll_ops   ops;
	coll_state_init(&s, T0);
	coll_ops_init(&ops);
	int64_t  t   = T0;
	uint64_t seq = 1;
	for (; seq <= 3; seq++, t += SEC) { // 1 s interval, 50 ms rounds
		assert_int_equal(apply_round(&s, seq, t, 50, t + 50000, &ops), COLL_APPLIED);
	}
	coll_host *h = coll_state_host(&s, "web1");
	assert_int_equal(coll_host_stale_limit_us(h), 3 * SEC);
	// A probe hangs for its 3 s timeout: the round takes 3.5 s, the next starts at once.
	assert_int_equal(apply_round(&s, seq++, t, 3500, t + 3500000, &ops), COLL_APPLIED);
	int64_t last = t + 3500000;
	t += 3500000;
	assert_int_equal(coll_host_stale_limit_us(h), 3 * 3500000);
	// The next long round's report comes 3.5 s later: not stale meanwhile.
	assert_int_equal(coll_state_check_stale(&s, last + 3500000, &ops), 0);
	assert_int_equal(apply_round(&s, seq++, t, 3500, t + 3500000, &ops), COLL_APPLIED);
	last = t + 3500000;
	t += 3500000;
	// A real silence is still noticed, after 3 x 3.5 s.
	assert_int_equal(coll_state_check_stale(&s, last + 10 * SEC, &ops), 0);
	assert_int_equal(coll_state_check_stale(&s, last + 10500001, &ops), 1);
	t = last + 11 * SEC;
	// Short rounds again: the allowance decays back to 3 intervals within ~30 rounds (the
	// 11 s gap counted as a round of at most 10 intervals).
	for (int i = 0; i < 30; i++, seq++, t += SEC) {
		assert_int_equal(apply_round(&s, seq, t, 50, t + 50000, &ops), COLL_APPLIED);
	}
	assert_false(h->stale);
	assert_true(coll_host_stale_limit_us(h) < 3020000);
	// A paused agent (60 s between round starts) counts as at most 10 intervals.
	t += 59 * SEC;
	assert_int_equal(apply_round(&s, seq++, t, 50, t + 50000, &ops), COLL_APPLIED);
	assert_int_equal(coll_host_stale_limit_us(h), 3 * COLL_ROUND_MAX_INTERVALS * SEC);
	coll_ops_fini(&ops);
	coll_state_fini(&s);
}

// An agent announces its longest round (longest probe timeout + margin): one round hung on
// that timeout must not make its host stale, while a host with short probes keeps the usual
// 3 intervals.
static void
test_stale_allows_announced_round(void **state)
{
	(void) state;
	coll_state s;
	coll_ops   ops;
	coll_state_init(&s, T0);
	coll_ops_init(&ops);

	tu_rep      d   = { .host = "slowdb", .boot_id = 1, .seq = 1, .n = 2, .probes = P_OK };
	Fl__Report *r   = tu_make(&d);
	r->max_round_ms = 3500;
	assert_int_equal(coll_state_apply(&s, r, T0, &ops), COLL_APPLIED);
	assert_int_equal(apply(&s, "fast", 1, P_OK, T0, &ops), COLL_APPLIED);
	assert_int_equal(coll_host_stale_limit_us(coll_state_host(&s, "slowdb")), 5500000);
	assert_int_equal(coll_host_stale_limit_us(coll_state_host(&s, "fast")), 3 * SEC);

	coll_ops_fini(&ops);
	coll_state_fini(&s);
}

// A verdict event is news only when the verdict or the top finding's hosts or targets change:
// more failing rounds of the same fault (and their live figures) record nothing.
static void
test_verdict_events_on_scope_change(void **state)
{
	(void) state;
	coll_state s;
	coll_ops   ops;
	uint64_t   seq = 1;
	int64_t    now = T0;
	coll_state_init(&s, T0);
	coll_ops_init(&ops);

	for (int i = 0; i < 3; i++, now += SEC) {
		apply(&s, "web1", seq, P_OK, now, &ops);
		apply(&s, "web2", seq++, P_OK, now, &ops);
	}
	coll_ops_clear(&ops);
	assert_int_equal(coll_state_record_verdict(&s, now, &ops), 0); // first "healthy" is no news
	assert_int_equal(count_kind(&ops, COLL_OP_EVENT, "verdict"), 0);

	for (int i = 0; i < 3; i++, now += SEC) {
		apply(&s, "web1", seq, P_FAIL, now, &ops);
		apply(&s, "web2", seq++, P_OK, now, &ops);
	}
	coll_ops_clear(&ops);
	assert_int_equal(coll_state_record_verdict(&s, now, &ops), 1);
	assert_int_equal(count_kind(&ops, COLL_OP_EVENT, "verdict"), 1);
	assert_string_equal(ops.v[0].u.event.from, "healthy");
	assert_string_equal(ops.v[0].u.event.to, "code");

	for (int i = 0; i < 3; i++, now += SEC) { // the same fault goes on
		apply(&s, "web1", seq, P_FAIL, now, &ops);
		apply(&s, "web2", seq++, P_OK, now, &ops);
	}
	coll_ops_clear(&ops);
	assert_int_equal(coll_state_record_verdict(&s, now, &ops), 0);

	for (int i = 0; i < 3; i++, now += SEC) { // it spreads to web2: same verdict, wider scope
		apply(&s, "web1", seq, P_FAIL, now, &ops);
		apply(&s, "web2", seq++, P_FAIL, now, &ops);
	}
	coll_ops_clear(&ops);
	assert_int_equal(coll_state_record_verdict(&s, now, &ops), 1);
	assert_string_equal(ops.v[0].u.event.from, "code");
	assert_string_equal(ops.v[0].u.event.to, "code");

	coll_ops_fini(&ops);
	coll_state_fini(&s);
}

// ---- bounds ----------------------------------------------------------------------------------

static void
db_path(char *db, size_t len, const char *what)
{
	snprintf(db, len, "/tmp/coll-state-%s-%d.db", what, (int) getpid());
	unlink(db);
}

static void
db_remove(const char *db)
{
	char p[96];
	unlink(db);
	snprintf(p, sizeof(p), "%s-wal", db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db);
	unlink(p);
}

static void
reload(coll_state *s, coll_store *st, int64_t now)
{
	coll_state_init(s, now);
	coll_store_loader ld = { coll_state_restore_host, coll_state_restore_latest,
		coll_state_restore_verdict, s };
	assert_int_equal(coll_store_load(st, &ld), 0);
}

// Writes what ops holds to st, restarts the state from st at now and returns host (which must
// have come back).
static coll_host *
restart(coll_state *s, coll_store *st, coll_ops *ops, int64_t now, const char *host)
{
	assert_int_equal(coll_store_write(st, ops), 0);
	coll_ops_clear(ops);
	coll_state_fini(s);
	reload(s, st, now);
	coll_host *h = coll_state_host(s, host);
	assert_non_null(h);
	return h;
}

// A host's probe set is what its latest report says: a probe removed from the agent's config
// leaves the state and the latest table at the next report (its history stays), and does not
// come back after a restart.
static void
test_probe_set_follows_latest_report(void **state)
{
	(void) state;
	static const tu_probe only_app[] = { { "app", FL__STATUS__STATUS_FAIL,
	    FL__FAILURE_CLASS__FAILURE_HTTP_5XX, 1000 } };
	char                  db[64], err[256];
	coll_store           *st;
	coll_state            s;
	coll_ops              ops;
	db_path(db, sizeof(db), "probes");
	assert_int_equal(
	    coll_store_open(&(fl_sql_opts) { .target = db }, &st, err, sizeof(err)), 0);
	coll_state_init(&s, T0);
	coll_ops_init(&ops);

	assert_int_equal(apply(&s, "web1", 1, P_OK, T0, &ops), COLL_APPLIED);
	tu_rep d = { .host = "web1", .boot_id = 1, .seq = 2, .n = 1, .probes = only_app };
	assert_int_equal(coll_state_apply(&s, tu_make(&d), T0 + SEC, &ops), COLL_APPLIED);
	coll_host *h = coll_state_host(&s, "web1");
	assert_int_equal(h->n_probes, 1);
	assert_string_equal(h->probes[0].res.name, "app");
	assert_int_equal(h->probes[0].res.status, FL__STATUS__STATUS_FAIL);
	assert_int_equal(count_kind(&ops, COLL_OP_DROP_LATEST, NULL), 1);
	assert_int_equal(count_kind(&ops, COLL_OP_EVENT, "status"), 1); // app ok -> fail only

	h = restart(&s, st, &ops, T0 + 10 * SEC, "web1");
	assert_int_equal(h->n_probes, 1);
	assert_string_equal(h->probes[0].res.name, "app");
	// An empty report empties the set.
	d.seq = 3;
	d.n   = 0;
	assert_int_equal(coll_state_apply(&s, tu_make(&d), T0 + 11 * SEC, &ops), COLL_APPLIED);
	assert_int_equal(h->n_probes, 0);
	assert_int_equal(count_kind(&ops, COLL_OP_DROP_LATEST, NULL), 1);

	coll_ops_fini(&ops);
	coll_state_fini(&s);
	coll_store_close(st);
	db_remove(db);
}

// The correlation reads each probe's view where it lies, at the start of the probe (no copy per
// diagnosis): every view must point into its own probe as it is now, after any move.
static void
assert_views_current(const coll_host *h)
{
	for (size_t i = 0; i < h->n_probes; i++) {
		const coll_probe *p = &h->probes[i];
		const corr_probe *v = &p->view;
		assert_ptr_equal(v->last, &p->res);
		assert_ptr_equal(v->recent, &p->recent);
		assert_true(p->res.timing == NULL || p->res.timing == &p->timing);
		assert_int_equal(v->baseline_us, p->ok_samples >= 3 ? p->baseline_us : 0);
		assert_ptr_equal(v->addrs_prev, p->more != NULL ? p->more->addrs_prev : NULL);
	}
}

// The views follow the probes through every change: a report applied, the probe array grown
// (moved) by new probes, compacted by dropped ones, and a restart's restore. A diagnosis over
// them names the failing probe (under ASan a view left pointing into a moved array fails).
static void
test_views_follow_probes(void **state)
{
	(void) state;
	tu_probe    many[12];
	char        names[12][8], db[64], err[256];
	coll_store *st;
	coll_state  s;
	coll_ops    ops;
	for (size_t i = 0; i < 12; i++) {
		snprintf(names[i], sizeof(names[i]), "p%zu", i);
		many[i] = (tu_probe) { names[i], FL__STATUS__STATUS_OK,
			FL__FAILURE_CLASS__FAILURE_NONE, 1000 };
	}
	many[0] = P_FAIL[0]; // "app", failing
	db_path(db, sizeof(db), "views");
	assert_int_equal(
	    coll_store_open(&(fl_sql_opts) { .target = db }, &st, err, sizeof(err)), 0);
	coll_state_init(&s, T0);
	coll_ops_init(&ops);

	assert_int_equal(apply(&s, "web1", 1, P_FAIL, T0, &ops), COLL_APPLIED);
	coll_host *h = coll_state_host(&s, "web1");
	assert_views_current(h);
	// Twelve probes: the array of two grows past its first 8 slots and moves.
	tu_rep d = { .host = "web1", .boot_id = 1, .seq = 2, .n = 12, .probes = many };
	assert_int_equal(coll_state_apply(&s, tu_make(&d), T0 + SEC, &ops), COLL_APPLIED);
	assert_int_equal(h->n_probes, 12);
	assert_views_current(h);
	// Only p7 and app: the others leave, p7 and app move to slots 0 and 1.
	const tu_probe two[] = { many[7], many[0] };
	d = (tu_rep) { .host = "web1", .boot_id = 1, .seq = 3, .n = 2, .probes = two };
	assert_int_equal(coll_state_apply(&s, tu_make(&d), T0 + 2 * SEC, &ops), COLL_APPLIED);
	assert_int_equal(h->n_probes, 2);
	assert_views_current(h);
	Fl__DiagnoseReply *r = coll_state_diagnose(&s, T0 + 2 * SEC, NULL);
	assert_non_null(r);
	assert_int_equal(r->verdict, FL__VERDICT__VERDICT_CODE);
	assert_non_null(strstr(r->summary, "app"));
	corr_reply_free(r);

	h = restart(&s, st, &ops, T0 + 10 * SEC, "web1");
	assert_int_equal(h->n_probes, 2);
	assert_views_current(h);
	// Restored app: failing for the three rounds it failed before (failing since T0, last
	// seen at T0 + 2 s, a round a second), as the store tells them.
	for (size_t i = 0; i < h->n_probes; i++) {
		bool app = strcmp(h->probes[i].res.name, "app") == 0;
		assert_int_equal(h->probes[i].view.consecutive_fail, app ? 3 : 0);
	}
	coll_ops_fini(&ops);
	coll_state_fini(&s);
	coll_store_close(st);
	db_remove(db);
}

// Reports beyond max_hosts / max_probes are dropped whole and counted; known hosts keep
// reporting; a reply of every host stays in bounds.
static void
test_host_and_probe_limits(void **state)
{
	(void) state;
	coll_state s;
	coll_ops   ops;
	coll_state_init(&s, T0);
	coll_ops_init(&ops);
	assert_int_equal(s.max_hosts, COLL_DEFAULT_MAX_HOSTS);
	assert_int_equal(s.max_probes, FL_WIRE_MAX_RESULTS);
	s.max_hosts  = 2;
	s.max_probes = 2;

	assert_int_equal(apply(&s, "web1", 1, P_OK, T0, &ops), COLL_APPLIED);
	assert_int_equal(apply(&s, "web2", 1, P_OK, T0, &ops), COLL_APPLIED);
	coll_ops_clear(&ops);
	assert_int_equal(apply(&s, "web3", 1, P_OK, T0, &ops), COLL_HOST_LIMIT);
	assert_int_equal(apply(&s, "web4", 1, P_OK, T0, &ops), COLL_HOST_LIMIT);
	assert_int_equal(ops.n, 0);
	assert_int_equal(s.n_hosts, 2);
	assert_null(coll_state_host(&s, "web3"));
	assert_int_equal(s.stats.dropped_host_limit, 2);
	assert_int_equal(apply(&s, "web1", 2, P_FAIL, T0 + SEC, &ops), COLL_APPLIED);

	tu_probe three[3] = { P_OK[0], P_OK[1], { "cache", FL__STATUS__STATUS_OK, 0, 10 } };
	tu_rep   d        = { .host = "web1", .boot_id = 1, .seq = 3, .n = 3, .probes = three };
	assert_int_equal(coll_state_apply(&s, tu_make(&d), T0 + 2 * SEC, &ops), COLL_PROBE_LIMIT);
	assert_int_equal(s.stats.dropped_probe_limit, 1);
	assert_int_equal(coll_state_host(&s, "web1")->n_probes, 2);
	assert_int_equal(coll_state_host(&s, "web1")->last_seq, 2); // not applied at all

	// The counters reach the status reply.
	Fl__StatusReply *r = status_decoded(&s, NULL, NULL, 0);
	assert_int_equal(r->stats->dropped_host_limit, 2);
	assert_int_equal(r->stats->dropped_probe_limit, 1);
	fl__status_reply__free_unpacked(r, NULL);
	coll_ops_fini(&ops);
	coll_state_fini(&s);
}

// A restart keeps the bounds whatever the file holds: the most recently seen max_hosts hosts,
// at most max_probes results each.
static void
test_restore_within_bounds(void **state)
{
	(void) state;
	char        db[64], err[256], name[16];
	coll_store *st;
	coll_state  s;
	coll_ops    ops;
	db_path(db, sizeof(db), "restore");
	assert_int_equal(
	    coll_store_open(&(fl_sql_opts) { .target = db }, &st, err, sizeof(err)), 0);
	coll_state_init(&s, T0);
	coll_ops_init(&ops);
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "web%d", i);
		assert_int_equal(apply(&s, name, 1, P_OK, T0 + i * SEC, &ops), COLL_APPLIED);
	}
	coll_state_flush_seen(&s, T0 + 10 * SEC, 0, &ops);
	assert_int_equal(coll_store_write(st, &ops), 0);
	coll_ops_clear(&ops);
	coll_state_fini(&s);

	coll_state_init(&s, T0 + 100 * SEC);
	s.max_hosts          = 3;
	s.max_probes         = 1;
	coll_store_loader ld = { coll_state_restore_host, coll_state_restore_latest,
		coll_state_restore_verdict, &s };
	assert_int_equal(coll_store_load(st, &ld), 0);
	assert_int_equal(s.n_hosts, 3);
	assert_int_equal(s.not_restored, 2);
	assert_null(coll_state_host(&s, "web0")); // the longest silent are left out
	assert_null(coll_state_host(&s, "web1"));
	for (int i = 2; i < 5; i++) {
		snprintf(name, sizeof(name), "web%d", i);
		assert_non_null(coll_state_host(&s, name));
		assert_int_equal(coll_state_host(&s, name)->n_probes, 1);
	}
	coll_ops_fini(&ops);
	coll_state_fini(&s);
	coll_store_close(st);
	db_remove(db);
}

// Paged status: each page holds whole hosts within page_bytes (at least one), sorted, and
// `more` until the last; together the pages are the unpaged reply.
static void
test_status_pages(void **state)
{
	(void) state;
	coll_state s;
	coll_ops   ops;
	char       name[16], after[16] = "";
	size_t     seen = 0, pages = 0, one = 0;
	coll_state_init(&s, T0);
	coll_ops_init(&ops);
	for (int i = 9; i >= 0; i--) {
		snprintf(name, sizeof(name), "web%d", i);
		assert_int_equal(apply(&s, name, 1, P_OK, T0, &ops), COLL_APPLIED);
	}
	for (;;) {
		// 1 byte: every page is its first host only; then two hosts and a half: two.
		size_t           page = pages < 3 ? 1 : 5 * one / 2;
		Fl__StatusReply *r    = status_decoded(&s, NULL, after, page);
		assert_true(r->n_hosts >= 1);
		if (pages < 3) {
			assert_int_equal(r->n_hosts, 1);
		}
		size_t bytes = 0;
		for (size_t i = 0; i < r->n_hosts; i++) {
			snprintf(name, sizeof(name), "web%zu", seen++);
			assert_string_equal(r->hosts[i]->host, name);
			assert_int_equal(r->hosts[i]->n_probes, 2);
			bytes += fl__host_state__get_packed_size(r->hosts[i]) + 2;
		}
		if (pages == 0) {
			one = bytes;
		} else if (pages >= 3) {
			assert_true(bytes <= page);
			assert_true(r->n_hosts == 2 || !r->more);
		}
		snprintf(after, sizeof(after), "%s", r->hosts[r->n_hosts - 1]->host);
		bool more = r->more;
		fl__status_reply__free_unpacked(r, NULL);
		pages++;
		if (!more) {
			break;
		}
	}
	assert_int_equal(seen, 10);
	assert_int_equal(pages, 3 + 4); // 3 single, then 2 + 2 + 2 + 1
	coll_ops_fini(&ops);
	coll_state_fini(&s);
}

// ---- crafted times ---------------------------------------------------------------------------

// Applies a report whose agent times are set directly (the decoder would refuse most of these:
// this checks the state's own arithmetic, which UBSan aborts on if it overflows).
static coll_apply_result
apply_times(coll_state *s, const char *host, uint64_t seq, int64_t sent, int64_t round,
    int64_t started, int64_t now, coll_ops *ops)
{
	tu_rep      d       = { .host = host, .boot_id = 1, .seq = seq, .n = 2, .probes = P_OK };
	Fl__Report *r       = tu_make(&d);
	r->sent_us          = sent;
	r->round_started_us = round;
	r->results[0]->started_us  = started;
	r->results[0]->duration_us = UINT32_MAX;
	return coll_state_apply(s, r, now, ops);
}

static void
test_extreme_times(void **state)
{
	(void) state;
	static const int64_t ext[] = { INT64_MIN, INT64_MIN + 1, -1, 1, INT64_MAX - 1, INT64_MAX,
		T0 + COLL_TIME_WINDOW_US + 1000, T0 - COLL_TIME_WINDOW_US - 1000 };
	const size_t         n     = sizeof(ext) / sizeof(ext[0]);
	coll_state           s;
	coll_ops             ops;
	coll_state_init(&s, T0);
	coll_ops_init(&ops);

	uint64_t seq = 1;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			int64_t now = T0 + (int64_t) seq;
			assert_int_equal(
			    apply_times(&s, "h", seq, ext[i], ext[j], ext[j], now, &ops),
			    COLL_APPLIED);
			seq++;
		}
	}
	// Every one of them was applied at the collector's clock, its times ignored.
	assert_int_equal(s.stats.reports_time_ignored, n * n);
	coll_host *h = coll_state_host(&s, "h");
	assert_false(h->skew_known);
	assert_int_equal(h->clock_skew_us, 0);
	assert_int_equal(h->last_seen_us, T0 + (int64_t) seq - 1);
	for (size_t i = 0; i < ops.n; i++) {
		if (ops.v[i].kind == COLL_OP_EVENT) {
			assert_true(ops.v[i].u.event.at_us >= T0);
		}
	}
	// Plausible times, with a skew of a few seconds, are used.
	assert_int_equal(
	    apply_times(&s, "h", seq++, T0 + 5 * SEC, T0 + 4 * SEC, T0 + 4 * SEC, T0 + 100, &ops),
	    COLL_APPLIED);
	assert_int_equal(s.stats.reports_time_ignored, n * n);
	assert_true(h->skew_known);
	// Still stale on time, and the staleness arithmetic is safe at any clock.
	assert_int_equal(coll_state_check_stale(&s, T0 + 2 * SEC, &ops), 0);
	assert_int_equal(coll_state_check_stale(&s, INT64_MAX, &ops), 1);
	assert_true(h->stale);

	// Values restored from a damaged database: the same arithmetic saturates.
	coll_host_row row = { .host = "old",
		.release            = "r1",
		.previous_release   = "",
		.agent_version      = "",
		.last_seen_us       = INT64_MIN,
		.first_seen_us      = INT64_MIN,
		.interval_ms        = 1000,
		.clock_skew_us      = INT64_MIN,
		.stale              = true };
	assert_int_equal(coll_state_restore_host(&s, &row), 0);
	row.host          = "old2";
	row.clock_skew_us = INT64_MAX;
	row.last_seen_us  = INT64_MAX;
	row.stale         = false;
	assert_int_equal(coll_state_restore_host(&s, &row), 0);
	for (size_t i = 0; i < n; i++) {
		apply_times(&s, "old", 100 + i, T0, ext[i], ext[i], T0 + SEC, &ops);
		apply_times(&s, "old2", 100 + i, T0, T0, T0, ext[i], &ops);
		coll_state_check_stale(&s, ext[i], &ops);
		coll_state_flush_seen(&s, ext[i], COLL_SEEN_WRITE_US, &ops);
	}
	coll_ops_fini(&ops);
	coll_state_fini(&s);
}

// ---- restart and staleness -------------------------------------------------------------------

// A host stale when the collector stopped is stale right after the restart, with no second
// "stale" event; a host that was fine gets the grace of COLL_STALE_INTERVALS intervals.
static void
test_restart_keeps_stale(void **state)
{
	(void) state;
	char        db[64], err[256];
	coll_store *st;
	coll_state  s;
	coll_ops    ops;
	db_path(db, sizeof(db), "stale");
	assert_int_equal(
	    coll_store_open(&(fl_sql_opts) { .target = db }, &st, err, sizeof(err)), 0);
	coll_state_init(&s, T0);
	coll_ops_init(&ops);
	assert_int_equal(apply(&s, "silent", 1, P_OK, T0, &ops), COLL_APPLIED);
	assert_int_equal(apply(&s, "fine", 1, P_OK, T0, &ops), COLL_APPLIED);
	assert_int_equal(apply(&s, "back", 1, P_OK, T0, &ops), COLL_APPLIED);
	assert_int_equal(apply(&s, "reborn", 1, P_OK, T0, &ops), COLL_APPLIED);
	assert_int_equal(apply(&s, "fine", 2, P_OK, T0 + 9 * SEC, &ops), COLL_APPLIED);
	assert_int_equal(coll_state_check_stale(&s, T0 + 5 * SEC, &ops), 3); // all but fine
	assert_int_equal(apply(&s, "back", 2, P_OK, T0 + 9 * SEC, &ops), COLL_APPLIED);
	// Forgotten while stale, then reporting again: a new host, whose old "stale" event is no
	// longer its state.
	assert_int_equal(coll_state_forget(&s, "reborn", T0 + 6 * SEC, "test", &ops, NULL), 0);
	tu_rep again = { .host = "reborn", .boot_id = 2, .seq = 1, .n = 2, .probes = P_OK };
	assert_int_equal(coll_state_apply(&s, tu_make(&again), T0 + 9 * SEC, &ops), COLL_APPLIED);
	coll_state_flush_seen(&s, T0 + 10 * SEC, 0, &ops);
	assert_int_equal(coll_store_write(st, &ops), 0);
	coll_ops_clear(&ops);
	coll_state_fini(&s);

	reload(&s, st, T0 + 600 * SEC); // down for ten minutes
	assert_true(coll_state_host(&s, "silent")->stale);
	assert_false(coll_state_host(&s, "fine")->stale);
	assert_false(coll_state_host(&s, "back")->stale);
	assert_false(coll_state_host(&s, "reborn")->stale);
	assert_int_equal(coll_state_host(&s, "silent")->stale_ref_us, T0);
	// No new event for the stale host, ever; the others after their grace.
	assert_int_equal(coll_state_check_stale(&s, T0 + 601 * SEC, &ops), 0);
	assert_int_equal(coll_state_check_stale(&s, T0 + 700 * SEC, &ops), 3);
	assert_int_equal(count_kind(&ops, COLL_OP_EVENT, "stale"), 3);
	for (size_t i = 0; i < ops.n; i++) {
		assert_string_not_equal(ops.v[i].u.event.host, "silent");
	}
	coll_ops_clear(&ops);
	// When it reports again: "back", silent since its last report before the restart.
	assert_int_equal(apply(&s, "silent", 2, P_OK, T0 + 701 * SEC, &ops), COLL_APPLIED);
	assert_int_equal(count_kind(&ops, COLL_OP_EVENT, "back"), 1);
	assert_non_null(strstr(ops.v[0].u.event.detail, "11m41s"));
	coll_ops_fini(&ops);
	coll_state_fini(&s);
	coll_store_close(st);
	db_remove(db);
}

// Packs r into a new buffer (*len its size).
static uint8_t *
packed(const Fl__ProbeResult *r, size_t *len)
{
	*len         = fl__probe_result__get_packed_size(r);
	uint8_t *buf = malloc(*len ? *len : 1);
	assert_non_null(buf);
	fl__probe_result__pack(r, buf);
	return buf;
}

// A probe keeps its own compact copy of its latest result: the same bytes as received (rare
// fields such as unmet requirements and addresses, and fields this collector does not know,
// included), kept when the next round repeats them and replaced when it does not; and the
// strings every host repeats (probe names, targets, details, releases) held once.
static void
test_results_kept_compact(void **state)
{
	(void) state;
	coll_state s;
	coll_ops   ops;
	coll_state_init(&s, T0);
	coll_ops_init(&ops);

	// web1's db result carries an unmet requirement, two addresses and an unknown field 200.
	tu_rep      d = { .host = "web1", .boot_id = 1, .seq = 1, .n = 2, .probes = P_OK };
	size_t      len;
	uint8_t    *buf = tu_pack(&d, &len);
	uint8_t    *big = malloc(len + 64);
	Fl__Report *r   = fl__report__unpack(NULL, len, buf);
	assert_non_null(r);
	assert_non_null(big);
	Fl__ProbeResult      *x        = r->results[1];
	Fl__UnmetRequirement  u        = FL__UNMET_REQUIREMENT__INIT;
	Fl__UnmetRequirement *up[1]    = { &u };
	static char          *addrs[2] = { (char *) "10.0.0.5", (char *) "10.0.0.9" };
	u.object                       = (char *) "public.orders";
	u.privilege                    = (char *) "SELECT";
	Fl__ProbeResult with           = *x;
	with.n_unmet                   = 1;
	with.unmet                     = up;
	with.n_addresses               = 2;
	with.addresses                 = addrs;
	with.resolved_name             = (char *) "db.example";
	size_t rlen                    = fl__probe_result__get_packed_size(&with);
	fl__probe_result__pack(&with, big);
	memcpy(big + rlen, "\xc0\x0c\x05", 3); // field 200, varint 5: unknown to this collector
	Fl__ProbeResult *sent = fl__probe_result__unpack(NULL, rlen + 3, big);
	assert_non_null(sent);
	assert_int_equal(sent->base.n_unknown_fields, 1);
	fl__probe_result__free_unpacked(x, NULL);
	r->results[1] = sent;
	size_t   want_len;
	uint8_t *want = packed(sent, &want_len);
	assert_int_equal(coll_state_apply(&s, r, T0, &ops), COLL_APPLIED); // r is freed
	coll_host *h = coll_state_host(&s, "web1");
	size_t     got_len;
	uint8_t   *got = packed(&h->probes[1].res, &got_len);
	assert_int_equal(got_len, want_len);
	assert_memory_equal(got, want, want_len);
	free(got);
	assert_ptr_equal(h->probes[1].view.last, &h->probes[1].res);

	// The same answer again: the rare block is kept as it is (no copy per round) ...
	r             = fl__report__unpack(NULL, len, buf);
	sent          = fl__probe_result__unpack(NULL, rlen, big); // without the unknown field
	x             = r->results[1];
	r->results[1] = sent;
	fl__probe_result__free_unpacked(x, NULL);
	r->seq = 2;
	assert_int_equal(coll_state_apply(&s, r, T0 + SEC, &ops), COLL_APPLIED);
	assert_int_equal(
	    h->probes[1].res.base.n_unknown_fields, 0); // ... but not the unknown field
	assert_int_equal(h->probes[1].res.n_addresses, 2);
	assert_string_equal(h->probes[1].res.addresses[1], "10.0.0.9");
	assert_int_equal(h->probes[1].res.n_unmet, 1);
	assert_string_equal(h->probes[1].res.unmet[0]->object, "public.orders");
	// ... and a round without them leaves none behind.
	assert_int_equal(apply(&s, "web1", 3, P_OK, T0 + 2 * SEC, &ops), COLL_APPLIED);
	assert_int_equal(h->probes[1].res.n_addresses, 0);
	assert_int_equal(h->probes[1].res.n_unmet, 0);
	assert_string_equal(h->probes[1].res.resolved_name, "");

	// Fifty hosts, the same probes, target, details and release: one copy of each string.
	char name[16];
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "host%02d", i);
		assert_int_equal(apply(&s, name, 1, P_OK, T0 + 3 * SEC, &ops), COLL_APPLIED);
	}
	coll_host *a = coll_state_host(&s, "host00"), *b = coll_state_host(&s, "host49");
	assert_ptr_equal(a->probes[0].res.target, b->probes[0].res.target);
	assert_ptr_equal(a->probes[0].res.name, b->probes[0].res.name);
	assert_ptr_equal(a->probes[0].res.detail, b->probes[0].res.detail);
	assert_ptr_equal(a->release, b->release);
	// "app", "db", the target, "200 OK", "r1", "0.1.0": the same six whatever the hosts.
	size_t strings = coll_intern_count(s.strings);
	assert_true(strings <= 8);
	// A probe failing on one host takes its own detail; it goes when the probe recovers.
	assert_int_equal(apply(&s, "host07", 2, P_FAIL, T0 + 4 * SEC, &ops), COLL_APPLIED);
	assert_string_equal(coll_state_host(&s, "host07")->probes[0].res.detail, "503");
	assert_int_equal(coll_intern_count(s.strings), strings + 1);
	assert_int_equal(apply(&s, "host07", 3, P_OK, T0 + 5 * SEC, &ops), COLL_APPLIED);
	assert_int_equal(coll_intern_count(s.strings), strings);

	free(want);
	free(buf);
	free(big);
	coll_ops_fini(&ops);
	coll_state_fini(&s);
}

// Probes to names: every host whose probe resolved the same name to the same addresses shares
// one block of them and one copy of the answer's text; a host that got another answer has its
// own, and the shared block goes with its last holder.
static void
test_named_results_shared(void **state)
{
	(void) state;
	static const char *const a1[] = { "10.0.0.5", "10.0.0.9" }, *const a2[] = { "10.0.0.7" };
	const tu_name same[2]  = { { "http://app.example/", "app.example", a1, 2 },
		 { "db.example:5432/orders", "db.example", a1, 2 } };
	const tu_name other[2] = { { "http://app.example/", "app.example", a2, 1 },
		{ "db.example:5432/orders", "db.example", a1, 2 } };
	coll_state    s;
	coll_ops      ops;
	coll_state_init(&s, T0);
	coll_ops_init(&ops);
	for (int i = 0; i < 3; i++) {
		char host[8];
		snprintf(host, sizeof(host), "web%d", i);
		tu_rep d = { .host = host,
			.boot_id   = 1,
			.seq       = 1,
			.n         = 2,
			.probes    = P_OK,
			.names     = i == 2 ? other : same };
		assert_int_equal(coll_state_apply(&s, tu_make(&d), T0, &ops), COLL_APPLIED);
	}
	const coll_host *w0 = coll_state_host(&s, "web0"), *w1 = coll_state_host(&s, "web1");
	const coll_host *w2 = coll_state_host(&s, "web2");
	assert_int_equal(w0->probes[0].res.n_addresses, 2);
	assert_string_equal(w0->probes[0].res.addresses[1], "10.0.0.9");
	assert_ptr_equal(w0->probes[0].res.addresses, w1->probes[0].res.addresses);
	assert_ptr_equal(w0->probes[0].more->addrs, w1->probes[0].more->addrs);
	assert_string_equal(w0->probes[0].more->addrs, "10.0.0.5, 10.0.0.9");
	assert_ptr_not_equal(w0->probes[0].res.addresses, w2->probes[0].res.addresses);
	assert_string_equal(w2->probes[0].res.addresses[0], "10.0.0.7");
	// The block holds the addresses alone (the name is a string of the result): a1 is one block
	// for app and db, a2 another.
	assert_ptr_equal(w0->probes[0].res.addresses, w0->probes[1].res.addresses);
	assert_int_equal(coll_intern_count(s.rare), 2);
	// One record of the name's answer and block per distinct content, whatever the hosts
	// and probes: {a1, block a1} for app and db of web0 and web1 and db of web2, {a2, ...}.
	assert_ptr_equal(w0->probes[0].more, w1->probes[1].more);
	assert_ptr_equal(w0->probes[0].more, w2->probes[1].more);
	assert_ptr_not_equal(w0->probes[0].more, w2->probes[0].more);
	assert_int_equal(coll_intern_count(s.mores), 2);
	size_t strings = coll_intern_count(s.strings);
	assert_int_equal(coll_state_forget(&s, "web2", T0, "test", &ops, NULL), 0);
	assert_int_equal(coll_intern_count(s.rare), 1);
	assert_int_equal(coll_intern_count(s.mores), 1);
	assert_int_equal(coll_intern_count(s.strings), strings - 1); // "10.0.0.7" went with it
	// A name that moves on one host: that probe takes a record of its own (the previous
	// answer with it), the other host's keeps the shared one.
	tu_rep moved = {
		.host = "web1", .boot_id = 1, .seq = 2, .n = 2, .probes = P_OK, .names = other
	};
	assert_int_equal(coll_state_apply(&s, tu_make(&moved), T0 + SEC, &ops), COLL_APPLIED);
	assert_string_equal(w1->probes[0].more->addrs, "10.0.0.7");
	assert_string_equal(w1->probes[0].more->addrs_prev, "10.0.0.5, 10.0.0.9");
	assert_string_equal(w1->probes[0].view.addrs_prev, "10.0.0.5, 10.0.0.9");
	assert_string_equal(w0->probes[0].more->addrs, "10.0.0.5, 10.0.0.9");
	assert_null(w0->probes[0].more->addrs_prev);
	assert_ptr_equal(w0->probes[1].more, w1->probes[1].more);
	assert_int_equal(coll_intern_count(s.mores), 2);
	assert_int_equal(coll_state_forget(&s, "web0", T0, "test", &ops, NULL), 0);
	assert_int_equal(coll_state_forget(&s, "web1", T0, "test", &ops, NULL), 0);
	assert_int_equal(coll_intern_count(s.mores), 0);
	assert_int_equal(coll_intern_count(s.rare), 0);
	coll_ops_fini(&ops);
	coll_state_fini(&s);
}

// The latest op of (host, probe) in ops, NULL when none.
static const coll_latest_row *
latest_op(const coll_ops *ops, const char *host, const char *probe)
{
	for (size_t i = 0; i < ops->n; i++) {
		const coll_latest_row *l = &ops->v[i].u.latest;
		if (ops->v[i].kind == COLL_OP_LATEST && strcmp(l->host, host) == 0 &&
		    strcmp(l->probe, probe) == 0) {
			return l;
		}
	}
	return NULL;
}

// Every scalar of a result at its bound (timing fields, duration and counters at UINT32_MAX,
// the latest time the decoder admits, negative and extreme signed values) comes back in status
// and in the latest row with the same bytes as received; and the latency baseline, kept as a
// uint32, follows durations at UINT32_MAX without overflow, shown once three samples are in.
static void
test_results_at_bounds(void **state)
{
	(void) state;
	coll_state s;
	coll_ops   ops;
	coll_state_init(&s, T0);
	coll_ops_init(&ops);
	static const tu_probe ok_max[1] = { { "db", FL__STATUS__STATUS_OK,
	    FL__FAILURE_CLASS__FAILURE_NONE, UINT32_MAX } };
	tu_rep      d = { .host = "web1", .boot_id = 1, .seq = 1, .n = 1, .probes = ok_max };
	Fl__Report *r = tu_make(&d);
	Fl__Timing  t = FL__TIMING__INIT;
	t.dns_us = t.connect_us = t.tls_us = t.first_byte_us = UINT32_MAX;
	t.total_us = t.auth_us = t.query_us = t.check_us = UINT32_MAX;
	Fl__ProbeResult with                             = *r->results[0];
	with.timing                                      = &t;
	with.kind                                        = FL__PROBE_KIND__KIND_POSTGRES;
	with.started_us                                  = FL_WIRE_MAX_TIME_US - 1;
	with.requirements_checked                        = UINT32_MAX;
	with.error_code                                  = INT32_MIN;
	with.read_only                                   = true;
	with.connections_in_use                          = UINT32_MAX;
	with.connections_limit                           = UINT32_MAX;
	with.replica                                     = true;
	with.replication_lag_ms                          = INT64_MIN;
	with.cert_expires_us                             = INT64_MAX;
	size_t   want_len;
	uint8_t *want = packed(&with, &want_len);
	fl__probe_result__free_unpacked(r->results[0], NULL);
	r->results[0] = fl__probe_result__unpack(NULL, want_len, want);
	assert_non_null(r->results[0]);
	assert_int_equal(coll_state_apply(&s, r, T0, &ops), COLL_APPLIED);

	coll_host *h = coll_state_host(&s, "web1");
	size_t     got_len;
	uint8_t   *got = packed(&h->probes[0].res, &got_len); // what status carries
	assert_int_equal(got_len, want_len);
	assert_memory_equal(got, want, want_len);
	const coll_latest_row *l = latest_op(&ops, "web1", "db");
	assert_non_null(l);
	assert_int_equal(l->result_len, want_len);
	assert_memory_equal(l->result, want, want_len);
	free(got);
	free(want);

	// The baseline: UINT32_MAX three times, then 1 us (EWMA 1/8, in 64 bits).
	const coll_probe *p = &h->probes[0];
	for (uint64_t seq = 2; seq <= 3; seq++) {
		tu_rep n = d;
		n.seq    = seq;
		assert_int_equal(coll_state_apply(&s, tu_make(&n), T0 + (int64_t) seq * SEC, &ops),
		    COLL_APPLIED);
		assert_int_equal(p->baseline_us, UINT32_MAX);
	}
	assert_int_equal(p->view.baseline_us, (int64_t) UINT32_MAX);
	static const tu_probe ok_one[1] = { { "db", FL__STATUS__STATUS_OK,
	    FL__FAILURE_CLASS__FAILURE_NONE, 1 } };
	for (uint64_t seq = 4; seq <= 40; seq++) {
		tu_rep n = d;
		n.seq    = seq;
		n.probes = ok_one;
		assert_int_equal(coll_state_apply(&s, tu_make(&n), T0 + (int64_t) seq * SEC, &ops),
		    COLL_APPLIED);
		if (seq == 4) {
			int64_t b = (int64_t) UINT32_MAX;
			assert_int_equal(p->view.baseline_us, b + (1 - b) / 8);
		}
	}
	assert_int_equal(p->ok_samples, 3); // counted up to what is asked of it
	int64_t b = (int64_t) UINT32_MAX;   // the same EWMA over the 37 rounds of 1 us
	for (int i = 0; i < 37; i++) {
		b += (1 - b) / 8;
	}
	assert_int_equal(p->view.baseline_us, b);
	coll_ops_fini(&ops);
	coll_state_fini(&s);
}

// A standby's refresh: the hosts loaded into a fresh state move into the serving one with the
// strings and blocks they hold (each state has its own tables), and both states can be applied
// to and freed afterwards (ASan checks no string is freed twice or left behind).
static void
test_adopt_moves_strings(void **state)
{
	(void) state;
	static const char *const a1[]     = { "10.0.0.5" };
	const tu_name            names[2] = { { "http://app.example/", "app.example", a1, 1 },
		           { "db.example:5432/orders", "db.example", a1, 1 } };
	coll_state               dst, src;
	coll_ops                 ops;
	coll_state_init(&dst, T0);
	coll_state_init(&src, T0);
	coll_ops_init(&ops);
	assert_int_equal(apply(&dst, "old1", 1, P_OK, T0, &ops), COLL_APPLIED);
	tu_rep d = {
		.host = "web1", .boot_id = 1, .seq = 1, .n = 2, .probes = P_FAIL, .names = names
	};
	assert_int_equal(coll_state_apply(&src, tu_make(&d), T0, &ops), COLL_APPLIED);
	coll_state_adopt(&dst, &src);
	coll_state_fini(&src);
	assert_null(coll_state_host(&dst, "old1"));
	coll_host *h = coll_state_host(&dst, "web1");
	assert_non_null(h);
	assert_string_equal(h->probes[0].res.target, "http://app.example/");
	assert_string_equal(h->probes[0].res.addresses[0], "10.0.0.5");
	assert_string_equal(h->release, "r1");
	// The adopted host goes on from its tables.
	d.seq    = 2;
	d.probes = P_OK;
	assert_int_equal(coll_state_apply(&dst, tu_make(&d), T0 + SEC, &ops), COLL_APPLIED);
	assert_int_equal(apply(&dst, "web2", 1, P_OK, T0 + SEC, &ops), COLL_APPLIED);
	assert_ptr_equal(coll_state_host(&dst, "web2")->probes[0].res.name, h->probes[0].res.name);
	coll_ops_fini(&ops);
	coll_state_fini(&dst);
}

// A standby applying the store's changes (coll_store_load_changes) restores rows over the
// state it holds: a host's new release, a status flip each way, a host back from stale, a
// probe and a host that are new. The state must be the one a restore of the store's rows as
// they now are into an empty state gives (what a full reload would serve).
typedef struct restore_rows {
	coll_host_row   hosts[3];
	size_t          n_hosts;
	coll_latest_row latest[6];
	size_t          n_latest;
} restore_rows;

static uint8_t *
packed_result(const char *name, Fl__Status status, size_t *len)
{
	Fl__ProbeResult r;
	uint8_t        *b;
	fl__probe_result__init(&r);
	r.name   = (char *) name;
	r.target = (char *) "http://app.example/";
	r.status = status;
	*len     = fl__probe_result__get_packed_size(&r);
	assert_non_null(b = malloc(*len));
	fl__probe_result__pack(&r, b);
	return b;
}

static void
restore_all(coll_state *s, const restore_rows *r)
{
	for (size_t i = 0; i < r->n_hosts; i++) {
		assert_int_equal(coll_state_restore_host(s, &r->hosts[i]), 0);
	}
	for (size_t i = 0; i < r->n_latest; i++) {
		assert_int_equal(coll_state_restore_latest(s, &r->latest[i]), 0);
	}
}

static coll_latest_row
latest_row(const char *host, const char *probe, Fl__Status status, int64_t since)
{
	coll_latest_row l = { .host = host,
		.probe              = probe,
		.status             = status,
		.failure            = status == FL__STATUS__STATUS_FAIL ? 5 : 0,
		.since_us           = since };
	l.result          = packed_result(probe, status, &l.result_len);
	return l;
}

static void
rows_free(restore_rows *r)
{
	for (size_t i = 0; i < r->n_latest; i++) {
		free((uint8_t *) r->latest[i].result);
	}
}

static void
assert_same_state(const coll_state *a, const coll_state *b)
{
	assert_int_equal(a->n_hosts, b->n_hosts);
	for (size_t i = 0; i < b->n_hosts; i++) {
		const coll_host *y = b->hosts[i];
		const coll_host *x = coll_state_host(a, y->name);
		assert_non_null(x);
		assert_string_equal(fl_str_or_empty(x->release), fl_str_or_empty(y->release));
		assert_string_equal(
		    fl_str_or_empty(x->previous_release), fl_str_or_empty(y->previous_release));
		assert_int_equal(x->stale, y->stale);
		assert_int_equal(x->stale_ref_us, y->stale_ref_us);
		assert_int_equal(x->last_seen_us, y->last_seen_us);
		assert_int_equal(x->n_probes, y->n_probes);
		for (size_t k = 0; k < y->n_probes; k++) {
			const coll_probe *p = &x->probes[k], *q = &y->probes[k];
			assert_string_equal(p->res.name, q->res.name);
			assert_string_equal(p->res.target, q->res.target);
			assert_int_equal(p->res.status, q->res.status);
			assert_int_equal(p->res.failure, q->res.failure);
			assert_int_equal(p->since_us, q->since_us);
			assert_int_equal(p->view.consecutive_fail, q->view.consecutive_fail);
			assert_int_equal(p->view.consecutive_ok, q->view.consecutive_ok);
			assert_int_equal(p->view.failing_since_us, q->view.failing_since_us);
			assert_string_equal(fl_str_or_empty(p->view.release_at_fail),
			    fl_str_or_empty(q->view.release_at_fail));
			assert_ptr_equal(p->view.last, &p->res);
		}
	}
}

static void
test_restore_over_equals_fresh(void **state)
{
	(void) state;
	coll_state   kept, fresh;
	restore_rows before = { .n_hosts = 2, .n_latest = 3 },
	             change = { .n_hosts = 3, .n_latest = 4 };
	restore_rows now    = { .n_hosts = 3, .n_latest = 5 };

	before.hosts[0]  = (coll_host_row) { .host = "web1", .release = "r1", .last_seen_us = T0 };
	before.hosts[1]  = (coll_host_row) { .host = "web2", .release = "r1", .stale = true };
	before.latest[0] = latest_row("web1", "app", FL__STATUS__STATUS_OK, T0);
	before.latest[1] = latest_row("web1", "db", FL__STATUS__STATUS_FAIL, T0);
	before.latest[2] = latest_row("web2", "app", FL__STATUS__STATUS_OK, T0);
	// What changed: web1's release (r1 -> r2), app failing and db ok; web1's new probe dns;
	// web2 back; web3 new.
	change.hosts[0] = (coll_host_row) {
		.host = "web1", .release = "r2", .previous_release = "r1", .last_seen_us = T0 + SEC
	};
	change.hosts[1]  = (coll_host_row) { .host = "web2", .release = "r1", .last_seen_us = T0 };
	change.hosts[2]  = (coll_host_row) { .host = "web3", .release = "r2", .last_seen_us = T0 };
	change.latest[0] = latest_row("web1", "app", FL__STATUS__STATUS_FAIL, T0 + SEC);
	change.latest[1] = latest_row("web1", "db", FL__STATUS__STATUS_OK, T0 + SEC);
	change.latest[2] = latest_row("web1", "dns", FL__STATUS__STATUS_FAIL, T0 + SEC);
	change.latest[3] = latest_row("web3", "app", FL__STATUS__STATUS_OK, T0);
	// The store's rows as they are now, in the order a full load reads them.
	now.hosts[0]  = change.hosts[0];
	now.hosts[1]  = change.hosts[1];
	now.hosts[2]  = change.hosts[2];
	now.latest[0] = latest_row("web1", "app", FL__STATUS__STATUS_FAIL, T0 + SEC);
	now.latest[1] = latest_row("web1", "db", FL__STATUS__STATUS_OK, T0 + SEC);
	now.latest[2] = latest_row("web1", "dns", FL__STATUS__STATUS_FAIL, T0 + SEC);
	now.latest[3] = latest_row("web2", "app", FL__STATUS__STATUS_OK, T0);
	now.latest[4] = latest_row("web3", "app", FL__STATUS__STATUS_OK, T0);

	coll_state_init(&kept, T0);
	coll_state_init(&fresh, T0);
	restore_all(&kept, &before);
	assert_true(coll_state_host(&kept, "web2")->stale);
	assert_int_equal(coll_state_host(&kept, "web1")->probes[1].view.consecutive_fail, 1);
	restore_all(&kept, &change);
	restore_all(&fresh, &now);
	assert_same_state(&kept, &fresh);
	assert_false(coll_state_host(&kept, "web2")->stale);
	assert_int_equal(coll_state_host(&kept, "web1")->probes[1].view.consecutive_fail, 0);
	assert_string_equal(coll_state_host(&kept, "web1")->probes[0].view.release_at_fail, "r2");
	// A take-over starts from it as from a load at that time.
	coll_state_restored_at(&kept, T0 + 60 * SEC);
	assert_int_equal(coll_state_host(&kept, "web1")->stale_ref_us, T0 + 60 * SEC);
	assert_int_equal(coll_state_host(&kept, "web1")->seq_window, ~0ULL);
	rows_free(&before);
	rows_free(&change);
	rows_free(&now);
	coll_state_fini(&kept);
	coll_state_fini(&fresh);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transitions_only),
		cmocka_unit_test(test_in_progress_repeats),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_duplicates_across_agent_starts),
		cmocka_unit_test(test_stale_and_back),
		cmocka_unit_test(test_skew_and_replay),
		cmocka_unit_test(test_release_change_and_baseline),
		cmocka_unit_test(test_restart_reload),
		cmocka_unit_test(test_consecutive_slow),
		cmocka_unit_test(test_recent_window),
		cmocka_unit_test(test_answer_changes),
		cmocka_unit_test(test_skew_estimate),
		cmocka_unit_test(test_late_burst_after_silent_cut),
		cmocka_unit_test(test_late_clamps),
		cmocka_unit_test(test_clock_step_resets_skew),
		cmocka_unit_test(test_stale_allows_long_rounds),
		cmocka_unit_test(test_verdict_events_on_scope_change),
		cmocka_unit_test(test_stale_allows_announced_round),
		cmocka_unit_test(test_probe_set_follows_latest_report),
		cmocka_unit_test(test_views_follow_probes),
		cmocka_unit_test(test_results_kept_compact),
		cmocka_unit_test(test_results_at_bounds),
		cmocka_unit_test(test_named_results_shared),
		cmocka_unit_test(test_adopt_moves_strings),
		cmocka_unit_test(test_restore_over_equals_fresh),
		cmocka_unit_test(test_host_and_probe_limits),
		cmocka_unit_test(test_restore_within_bounds),
		cmocka_unit_test(test_status_pages),
		cmocka_unit_test(test_extreme_times),
		cmocka_unit_test(test_restart_keeps_stale),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
