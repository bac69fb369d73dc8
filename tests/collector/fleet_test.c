// fleet_test.c - a fleet that changes: host labels kept and filtered on, label sets
// correlated apart, hosts forgotten by hand or after forget_after, all on synthetic clocks.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coll_testutil.h"
#include "fl/names.h"
#include "fl/wire.h"
#include "state.h"

#define T0  1700000000000000LL
#define SEC 1000000LL

static const tu_probe P_OK[]   = { { "app", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE,
      1000 } };
static const tu_probe P_FAIL[] = { { "app", FL__STATUS__STATUS_FAIL,
    FL__FAILURE_CLASS__FAILURE_HTTP_5XX, 1000 } };

// Applies one round of host (one probe "app"), labelled with the comma-free list labels[].
static void
apply(coll_state *s, const char *host, uint64_t seq, const tu_probe *p, const char *l1,
    const char *l2, int64_t now, coll_ops *ops)
{
	tu_rep d = { .host = host, .boot_id = 1, .seq = seq, .n = 1, .probes = p };
	if (l1 != NULL) {
		d.labels[d.n_labels++] = l1;
	}
	if (l2 != NULL) {
		d.labels[d.n_labels++] = l2;
	}
	assert_int_equal(coll_state_apply(s, tu_make(&d), now, ops), COLL_APPLIED);
}

static size_t
count_events(const coll_ops *ops, const char *kind)
{
	size_t n = 0;
	for (size_t i = 0; i < ops->n; i++) {
		n += ops->v[i].kind == COLL_OP_EVENT &&
		    strcmp(fl_history_kind_name(ops->v[i].u.event.kind), kind) == 0;
	}
	return n;
}

static Fl__StatusReply *
status(const coll_state *s, const coll_filter *f, Fl__Response **resp)
{
	nng_msg     *msg;
	char         why[128];
	coll_status  st;
	Fl__Response out = FL__RESPONSE__INIT;
	assert_int_equal(coll_state_status(s, f, NULL, 0, T0, &st), 0);
	out.schema_version = FL_SCHEMA_VERSION;
	out.reply_case     = FL__RESPONSE__REPLY_STATUS;
	out.status         = &st.reply;
	assert_int_equal(fl_wire_encode(&out.base, &msg), 0);
	coll_status_fini(&st);
	assert_int_equal(
	    fl_wire_decode_response(nng_msg_body(msg), nng_msg_len(msg), resp, why, sizeof(why)),
	    FL_WIRE_OK);
	nng_msg_free(msg);
	return (*resp)->status;
}

// prod1, prod2 (env=prod, service=orders / users); stage1 (env=staging, service=orders); bare.
static void
fleet(coll_state *s, coll_ops *ops, const tu_probe *stage)
{
	for (uint64_t seq = 1; seq <= 3; seq++) {
		int64_t now = T0 + (int64_t) seq * SEC;
		apply(s, "prod1", seq, P_OK, "env=prod", "service=orders", now, ops);
		apply(s, "prod2", seq, P_OK, "env=prod", "service=users", now, ops);
		apply(s, "stage1", seq, stage, "env=staging", "service=orders", now, ops);
		apply(s, "bare", seq, P_OK, NULL, NULL, now, ops);
	}
}

// Labels are kept per host, shown in status, and filter it: AND, exact, with --host too.
static void
test_labels_kept_and_filtered(void **state)
{
	(void) state;
	coll_state    s;
	coll_ops      ops;
	Fl__Response *resp;
	coll_state_init(&s, T0);
	coll_ops_init(&ops);
	fleet(&s, &ops, P_OK);

	const coll_host *h = coll_state_host(&s, "prod1");
	assert_int_equal(h->n_labels, 2);
	assert_string_equal(h->labels_text, "env=prod,service=orders");

	static const struct {
		const char *labels[2];
		const char *host;
		const char *want; // the hosts listed, in order
	} cases[] = {
		{ { NULL }, NULL, "bare prod1 prod2 stage1" },
		{ { "env=prod" }, NULL, "prod1 prod2" },
		{ { "env=staging" }, NULL, "stage1" },
		{ { "service=orders" }, NULL, "prod1 stage1" },
		{ { "env=prod", "service=orders" }, NULL, "prod1" },
		{ { "env=prod", "service=nope" }, NULL, "" },
		{ { "env=pro" }, NULL, "" },
		{ { "env=prod" }, "prod2", "prod2" },
		{ { "env=prod" }, "stage1", "" },
		{ { NULL }, "stage1", "stage1" },
		{ { NULL }, "nope", "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		coll_filter f = { .host = cases[i].host, .labels = cases[i].labels };
		while (f.n_labels < 2 && cases[i].labels[f.n_labels] != NULL) {
			f.n_labels++;
		}
		Fl__StatusReply *r        = status(&s, &f, &resp);
		char             got[128] = "";
		for (size_t k = 0; k < r->n_hosts; k++) {
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", k ? " " : "",
			    r->hosts[k]->host);
		}
		if (strcmp(got, cases[i].want) != 0) {
			fail_msg("case %zu: hosts \"%s\", want \"%s\"", i, got, cases[i].want);
		}
		fl__response__free_unpacked(resp, NULL);
	}

	// The status reply carries each host's labels.
	coll_filter      f = { .host = "prod1" };
	Fl__StatusReply *r = status(&s, &f, &resp);
	assert_int_equal(r->hosts[0]->n_labels, 2);
	assert_string_equal(r->hosts[0]->labels[0], "env=prod");
	assert_string_equal(r->hosts[0]->labels[1], "service=orders");
	fl__response__free_unpacked(resp, NULL);

	// Names for history: the hosts with the labels, whatever f->host says.
	char      **names;
	size_t      n;
	const char *prod[] = { "env=prod" };
	coll_filter fp     = { .host = "x", .labels = prod, .n_labels = 1 };
	assert_int_equal(coll_state_names_with_labels(&s, &fp, &names, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "prod1");
	assert_string_equal(names[1], "prod2");
	coll_names_free(names, n);

	// Changed labels are news for the hosts row (a HOST op), unchanged ones are not.
	coll_ops_clear(&ops);
	apply(&s, "prod1", 4, P_OK, "env=prod", "service=orders", T0 + 4 * SEC, &ops);
	for (size_t i = 0; i < ops.n; i++) {
		assert_int_not_equal(ops.v[i].kind, COLL_OP_HOST);
	}
	apply(&s, "prod1", 5, P_OK, "env=prod", NULL, T0 + 5 * SEC, &ops);
	assert_int_equal(ops.n, 1);
	assert_int_equal(ops.v[0].kind, COLL_OP_HOST);
	assert_string_equal(ops.v[0].u.host.labels, "env=prod");

	coll_ops_fini(&ops);
	coll_state_fini(&s);
}

// A filter feeds only its hosts to the correlation: staging's failing app does not colour
// production's verdict, and the unfiltered verdict still names it.
static void
test_diagnose_per_label_set(void **state)
{
	(void) state;
	coll_state s;
	coll_ops   ops;
	coll_state_init(&s, T0);
	coll_ops_init(&ops);
	fleet(&s, &ops, P_FAIL);

	Fl__DiagnoseReply *all = coll_state_diagnose(&s, T0 + 3 * SEC, NULL);
	assert_non_null(all);
	assert_int_equal(all->verdict, FL__VERDICT__VERDICT_CODE);
	assert_int_equal(all->findings[0]->n_hosts, 1);
	assert_string_equal(all->findings[0]->hosts[0], "stage1");
	corr_reply_free(all);

	const char        *prod[] = { "env=prod" };
	coll_filter        f      = { .labels = prod, .n_labels = 1 };
	Fl__DiagnoseReply *r      = coll_state_diagnose_filtered(&s, T0 + 3 * SEC, &f);
	assert_non_null(r);
	assert_int_equal(r->verdict, FL__VERDICT__VERDICT_HEALTHY);
	assert_non_null(strstr(r->summary, "2 hosts reporting")); // prod1, prod2 only
	corr_reply_free(r);

	const char *stage[] = { "env=staging" };
	f                   = (coll_filter) { .labels = stage, .n_labels = 1 };
	r                   = coll_state_diagnose_filtered(&s, T0 + 3 * SEC, &f);
	assert_non_null(r);
	assert_int_equal(r->verdict, FL__VERDICT__VERDICT_CODE);
	assert_string_equal(r->findings[0]->hosts[0], "stage1");
	corr_reply_free(r);

	// --host of a host outside the label set: said so, not "never reported".
	f = (coll_filter) { .host = "prod1", .labels = stage, .n_labels = 1 };
	r = coll_state_diagnose_filtered(&s, T0 + 3 * SEC, &f);
	assert_non_null(r);
	assert_int_equal(r->verdict, FL__VERDICT__VERDICT_UNKNOWN);
	assert_string_equal(r->summary, "prod1 does not carry the labels asked for");
	assert_int_equal(r->n_findings, 0);
	corr_reply_free(r);

	// A filter no host matches: nothing to correlate.
	const char *none[] = { "env=dev" };
	f                  = (coll_filter) { .labels = none, .n_labels = 1 };
	r                  = coll_state_diagnose_filtered(&s, T0 + 3 * SEC, &f);
	assert_non_null(r);
	assert_int_equal(r->verdict, FL__VERDICT__VERDICT_UNKNOWN);
	corr_reply_free(r);

	coll_ops_fini(&ops);
	coll_state_fini(&s);
}

// Correlation per label set, not a filter on the fleet's findings: a shared database refused
// from staging's hosts only is a network path fleet-wide, and a database fault for staging.
static void
test_label_set_is_its_own_fleet(void **state)
{
	(void) state;
	coll_state  s;
	coll_ops    ops;
	const char *hosts[][2] = { { "prod1", "env=prod" }, { "prod2", "env=prod" },
		{ "stage1", "env=staging" }, { "stage2", "env=staging" } };
	coll_state_init(&s, T0);
	coll_ops_init(&ops);
	for (uint64_t seq = 1; seq <= 3; seq++) {
		for (size_t i = 0; i < 4; i++) {
			bool     stage = strncmp(hosts[i][0], "stage", 5) == 0;
			tu_probe p     = { "orders",
                                stage ? FL__STATUS__STATUS_FAIL : FL__STATUS__STATUS_OK,
                                stage ? FL__FAILURE_CLASS__FAILURE_REFUSED
				          : FL__FAILURE_CLASS__FAILURE_NONE,
				    2000 };
			tu_rep   d     = {
				      .host = hosts[i][0], .boot_id = 1, .seq = seq, .n = 1, .probes = &p
			};
			d.labels[d.n_labels++] = hosts[i][1];
			Fl__Report *r          = tu_make(&d);
			char       *t          = strdup("db.example:5432/orders");
			assert_non_null(t);
			free(r->results[0]->target); // unpacked with the default allocator
			r->results[0]->target = t;
			r->results[0]->kind   = FL__PROBE_KIND__KIND_POSTGRES;
			assert_int_equal(
			    coll_state_apply(&s, r, T0 + (int64_t) seq * SEC, &ops), COLL_APPLIED);
		}
	}
	Fl__DiagnoseReply *r = coll_state_diagnose(&s, T0 + 3 * SEC, NULL);
	assert_int_equal(r->verdict, FL__VERDICT__VERDICT_NETWORK);
	corr_reply_free(r);
	const char *stage[] = { "env=staging" };
	coll_filter f       = { .labels = stage, .n_labels = 1 };
	r                   = coll_state_diagnose_filtered(&s, T0 + 3 * SEC, &f);
	assert_int_equal(r->verdict, FL__VERDICT__VERDICT_DATABASE);
	assert_non_null(strstr(r->summary, "refused from all 2 hosts"));
	corr_reply_free(r);
	const char *prod[] = { "env=prod" };
	f                  = (coll_filter) { .labels = prod, .n_labels = 1 };
	r                  = coll_state_diagnose_filtered(&s, T0 + 3 * SEC, &f);
	assert_int_equal(r->verdict, FL__VERDICT__VERDICT_HEALTHY);
	corr_reply_free(r);
	coll_ops_fini(&ops);
	coll_state_fini(&s);
}

// forget: gone from state, status and the verdict (a stale host was a host finding until
// then), one FORGET op and one "forgotten" event; a new report brings it back.
static void
test_forget(void **state)
{
	(void) state;
	coll_state     s;
	coll_ops       ops;
	coll_forgotten what;
	Fl__Response  *resp;
	coll_state_init(&s, T0);
	coll_ops_init(&ops);
	fleet(&s, &ops, P_OK);
	// stage1 goes silent; the others keep reporting.
	for (uint64_t seq = 4; seq <= 10; seq++) {
		int64_t now = T0 + (int64_t) seq * SEC;
		apply(&s, "prod1", seq, P_OK, "env=prod", "service=orders", now, &ops);
		apply(&s, "prod2", seq, P_OK, "env=prod", "service=users", now, &ops);
		apply(&s, "bare", seq, P_OK, NULL, NULL, now, &ops);
		coll_state_check_stale(&s, now, &ops);
	}
	assert_true(coll_state_host(&s, "stage1")->stale);
	Fl__DiagnoseReply *r = coll_state_diagnose(&s, T0 + 10 * SEC, NULL);
	assert_int_equal(r->verdict, FL__VERDICT__VERDICT_HOST);
	assert_non_null(strstr(r->summary, "stage1 silent since"));
	corr_reply_free(r);
	coll_ops_clear(&ops);

	assert_int_equal(coll_state_forget(&s, "nope", T0 + 10 * SEC, "x", &ops, &what), 1);
	assert_int_equal(ops.n, 0);
	assert_int_equal(coll_state_forget(&s, "stage1", T0 + 10 * SEC, "by hand", &ops, &what), 0);
	assert_true(what.stale);
	assert_int_equal(what.probes, 1);
	assert_int_equal(what.last_seen_us, T0 + 3 * SEC);
	assert_int_equal(ops.n, 2);
	assert_int_equal(ops.v[0].kind, COLL_OP_FORGET);
	assert_string_equal(ops.v[0].u.host.host, "stage1");
	assert_int_equal(count_events(&ops, "forgotten"), 1);
	assert_string_equal(ops.v[1].u.event.host, "stage1");
	assert_string_equal(ops.v[1].u.event.from, "stale");
	assert_string_equal(ops.v[1].u.event.to, "forgotten");
	assert_string_equal(ops.v[1].u.event.detail, "by hand");
	assert_null(coll_state_host(&s, "stage1"));
	assert_int_equal(s.n_hosts, 3);
	// The other hosts are still found through the rebuilt index.
	assert_non_null(coll_state_host(&s, "prod1"));
	assert_non_null(coll_state_host(&s, "prod2"));
	assert_non_null(coll_state_host(&s, "bare"));
	Fl__StatusReply *st = status(&s, NULL, &resp);
	assert_int_equal(st->n_hosts, 3);
	fl__response__free_unpacked(resp, NULL);
	r = coll_state_diagnose(&s, T0 + 10 * SEC, NULL);
	assert_int_equal(r->verdict, FL__VERDICT__VERDICT_HEALTHY);
	corr_reply_free(r);
	coll_ops_clear(&ops);

	// It reports again: a new host, with its labels.
	apply(&s, "stage1", 11, P_OK, "env=staging", NULL, T0 + 11 * SEC, &ops);
	const coll_host *h = coll_state_host(&s, "stage1");
	assert_non_null(h);
	assert_false(h->stale);
	assert_int_equal(h->first_seen_us, T0 + 11 * SEC);
	assert_string_equal(h->labels_text, "env=staging");
	assert_int_equal(ops.v[0].kind, COLL_OP_HOST);

	coll_ops_fini(&ops);
	coll_state_fini(&s);
}

// forget_after: only hosts stale for longer than it, never a live host between reports, never
// when off; recorded as a "forgotten" event.
static void
test_forget_silent(void **state)
{
	(void) state;
	coll_state s;
	coll_ops   ops;
	coll_state_init(&s, T0);
	coll_ops_init(&ops);
	apply(&s, "a", 1, P_OK, NULL, NULL, T0, &ops);
	apply(&s, "b", 1, P_OK, NULL, NULL, T0, &ops);
	apply(&s, "c", 1, P_OK, NULL, NULL, T0, &ops);
	coll_ops_clear(&ops);

	// 0.9 s later nobody is stale: a 1 ms forget_after forgets no live host.
	assert_int_equal(coll_state_forget_silent(&s, T0 + 900000, 1000, &ops), 0);
	// b keeps reporting; a and c go stale after 3 s.
	for (uint64_t seq = 2; seq <= 5; seq++) {
		apply(&s, "b", seq, P_OK, NULL, NULL, T0 + (int64_t) (seq - 1) * SEC, &ops);
	}
	assert_int_equal(coll_state_check_stale(&s, T0 + 4 * SEC, &ops), 2);
	coll_ops_clear(&ops);
	assert_int_equal(coll_state_forget_silent(&s, T0 + 4 * SEC, 0, &ops), 0); // off
	assert_int_equal(coll_state_forget_silent(&s, T0 + 4 * SEC, 10 * SEC, &ops), 0);
	assert_int_equal(coll_state_forget_silent(&s, T0 + 10 * SEC + 1, 10 * SEC, &ops), 2);
	assert_int_equal(s.n_hosts, 1);
	assert_string_equal(s.hosts[0]->name, "b");
	assert_non_null(coll_state_host(&s, "b"));
	assert_int_equal(count_events(&ops, "forgotten"), 2);
	assert_non_null(strstr(ops.v[1].u.event.detail, "forget_after 10.0s"));
	coll_ops_fini(&ops);
	coll_state_fini(&s);
}

// Labels and forgetting reach SQLite: labels survive a restart; a forgotten host is not
// restored, and its history stays.
static void
test_store_labels_and_forget(void **state)
{
	(void) state;
	char        db[64], err[256], p[80];
	coll_store *st;
	coll_state  s;
	coll_ops    ops;
	snprintf(db, sizeof(db), "/tmp/coll-fleet-test-%d.db", (int) getpid());
	unlink(db);
	assert_int_equal(
	    coll_store_open(&(fl_sql_opts) { .target = db }, &st, err, sizeof(err)), 0);
	coll_state_init(&s, T0);
	coll_ops_init(&ops);
	apply(&s, "a", 1, P_OK, "env=prod", "team=x", T0, &ops);
	apply(&s, "b", 1, P_FAIL, "env=staging", NULL, T0, &ops);
	apply(&s, "b", 2, P_OK, "env=staging", NULL, T0 + SEC, &ops);
	assert_int_equal(coll_store_write(st, &ops), 0);
	coll_ops_clear(&ops);
	assert_int_equal(coll_state_forget(&s, "b", T0 + 2 * SEC, "gone", &ops, NULL), 0);
	assert_int_equal(coll_store_write(st, &ops), 0);
	coll_ops_clear(&ops);
	coll_state_fini(&s);

	coll_state_init(&s, T0 + 100 * SEC);
	coll_store_loader ld = { coll_state_restore_host, coll_state_restore_latest,
		coll_state_restore_verdict, &s };
	assert_int_equal(coll_store_load(st, &ld), 0);
	assert_int_equal(s.n_hosts, 1);
	const coll_host *h = coll_state_host(&s, "a");
	assert_non_null(h);
	assert_int_equal(h->n_labels, 2);
	assert_string_equal(h->labels[0], "env=prod");
	assert_string_equal(h->labels[1], "team=x");
	assert_null(coll_state_host(&s, "b"));

	// b's history: its transitions and the forget; a label filter on env=staging finds no
	// host known now, so no events; on env=prod, a's only.
	Fl__HistoryReply *hr;
	assert_int_equal(coll_store_history(st, 0, "b", 100, &hr), 0);
	assert_int_equal(hr->n_events, 3); // fail, ok, forgotten
	assert_string_equal(hr->events[2]->kind, "forgotten");
	assert_string_equal(hr->events[2]->detail, "gone");
	coll_history_reply_free(hr);
	const char *names[] = { "a" };
	assert_int_equal(coll_store_history_hosts(st, 0, NULL, names, 0, 100, &hr), 0);
	assert_int_equal(hr->n_events, 0);
	coll_history_reply_free(hr);
	const char *both[] = { "a", "b\"x" }; // a quote must not break the JSON list
	assert_int_equal(coll_store_history_hosts(st, 0, NULL, both, 2, 100, &hr), 0);
	assert_int_equal(hr->n_events, 0); // a only had "new and ok": no event
	coll_history_reply_free(hr);
	const char *bn[] = { "b" };
	assert_int_equal(coll_store_history_hosts(st, 0, NULL, bn, 1, 100, &hr), 0);
	assert_int_equal(hr->n_events, 3);
	coll_history_reply_free(hr);
	assert_int_equal(coll_store_history_hosts(st, 0, NULL, NULL, 0, 100, &hr), 0);
	assert_int_equal(hr->n_events, 3); // no filter: everything
	coll_history_reply_free(hr);

	coll_ops_fini(&ops);
	coll_state_fini(&s);
	coll_store_close(st);
	unlink(db);
	snprintf(p, sizeof(p), "%s-wal", db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db);
	unlink(p);
}

// A database written before labels existed gets the column on open.
static void
test_store_adds_labels_column(void **state)
{
	(void) state;
	char        db[64], err[256];
	coll_store *st;
	sqlite3    *raw;
	snprintf(db, sizeof(db), "/tmp/coll-fleet-old-%d.db", (int) getpid());
	unlink(db);
	assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(raw,
	        "CREATE TABLE hosts (host TEXT PRIMARY KEY, release TEXT NOT NULL "
	        "DEFAULT '', previous_release TEXT NOT NULL DEFAULT '', release_since "
	        "INTEGER NOT NULL DEFAULT 0, first_seen INTEGER NOT NULL DEFAULT 0, "
	        "last_seen INTEGER NOT NULL DEFAULT 0, interval_ms INTEGER NOT NULL "
	        "DEFAULT 0, agent_version TEXT NOT NULL DEFAULT '', boot_id INTEGER "
	        "NOT NULL DEFAULT 0, last_seq INTEGER NOT NULL DEFAULT 0, clock_skew "
	        "INTEGER NOT NULL DEFAULT 0); INSERT INTO hosts (host) VALUES ('old');",
	        NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(raw);
	assert_int_equal(
	    coll_store_open(&(fl_sql_opts) { .target = db }, &st, err, sizeof(err)), 0);
	coll_state s;
	coll_state_init(&s, T0);
	coll_store_loader ld = { coll_state_restore_host, coll_state_restore_latest,
		coll_state_restore_verdict, &s };
	assert_int_equal(coll_store_load(st, &ld), 0);
	assert_int_equal(s.n_hosts, 1);
	assert_string_equal(s.hosts[0]->name, "old");
	assert_int_equal(s.hosts[0]->n_labels, 0);
	coll_state_fini(&s);
	coll_store_close(st);
	unlink(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_labels_kept_and_filtered),
		cmocka_unit_test(test_diagnose_per_label_set),
		cmocka_unit_test(test_label_set_is_its_own_fleet),
		cmocka_unit_test(test_forget),
		cmocka_unit_test(test_forget_silent),
		cmocka_unit_test(test_store_labels_and_forget),
		cmocka_unit_test(test_store_adds_labels_column),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
