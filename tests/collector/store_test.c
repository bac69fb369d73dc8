// store_test.c - the store on a real engine: batched writes, reload, history queries, pruning,
// migrations (a database of the collectors before them is adopted; a newer one refused).
//
// The target comes from FL_SQL_TEST_TARGET (a PostgreSQL URI or conninfo, its password in the
// file FL_SQL_TEST_PASSWORD_FILE), else a temporary SQLite file: ctest registers the test once
// per engine (collector_store_test, and collector_store_test_pgsql through pg_state.sh).

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fl/names.h"
#include "sql.h"
#include "sql_migrate.h"
#include "sql_target.h"
#include "store.h"

#ifndef FL_TEST_DATA
#error "FL_TEST_DATA: the directory of tests/collector/data"
#endif

static fl_sql_opts
opts(bool readonly)
{
	return (fl_sql_opts) {
		.target = sqlt_target, .password_file = sqlt_password_file, .readonly = readonly
	};
}

// A database without the store's tables: a new file, or the PostgreSQL database emptied.
static int
setup(void **state)
{
	(void) state;
	if (!sqlt_pg) {
		sqlt_remove_lite();
		return 0;
	}
	fl_sql_opts o  = opts(false);
	fl_sql     *db = sqlt_open(&o);
	sqlt_exec(
	    db, "DROP TABLE IF EXISTS hosts, latest, history, fl_schema, fl_lease, fl_changes");
	fl_sql_close(db);
	return 0;
}

static int
teardown(void **state)
{
	(void) state;
	if (!sqlt_pg) {
		sqlt_remove_lite();
	}
	return 0;
}

static coll_store *
open_store(bool readonly)
{
	coll_store *st = NULL;
	char        err[512];
	fl_sql_opts o = opts(readonly);
	if (coll_store_open(&o, &st, err, sizeof(err)) != 0) {
		fail_msg("cannot open the store on %s: %s", sqlt_target, err);
	}
	return st;
}

static coll_store *
open_rw(void)
{
	return open_store(false);
}

static void
add_event(coll_ops *ops, int64_t at, const char *host, const char *kind, const char *to)
{
	coll_event ev = { .at_us = at,
		.host            = host,
		.kind            = (Fl__HistoryKind) fl_history_kind_parse(kind),
		.probe           = "app",
		.from            = "ok",
		.to              = to,
		.failure         = 5,
		.detail          = "503",
		.agent_time_us   = at + 7 };
	assert_int_equal(coll_ops_event(ops, &ev), 0);
}

typedef struct loaded {
	int      hosts, latest;
	char     release[32], prev[32], probe[32], verdict[32];
	int      status, failure;
	int64_t  last_seen;
	uint64_t last_seq;
	size_t   blob_len;
} loaded;

static int
on_host(void *arg, const coll_host_row *r)
{
	loaded *l = arg;
	l->hosts++;
	snprintf(l->release, sizeof(l->release), "%s", r->release);
	snprintf(l->prev, sizeof(l->prev), "%s", r->previous_release);
	l->last_seen = r->last_seen_us;
	l->last_seq  = r->last_seq;
	return 0;
}

static int
on_latest(void *arg, const coll_latest_row *r)
{
	loaded *l = arg;
	l->latest++;
	snprintf(l->probe, sizeof(l->probe), "%s", r->probe);
	l->status   = r->status;
	l->failure  = r->failure;
	l->blob_len = r->result_len;
	return 0;
}

static int
on_verdict(void *arg, const char *v, const char *summary)
{
	loaded *l = arg;
	(void) summary;
	snprintf(l->verdict, sizeof(l->verdict), "%s", v);
	return 0;
}

static void
test_write_and_reload(void **state)
{
	(void) state;
	coll_store     *st = open_rw();
	coll_ops        ops;
	coll_host_row   h      = { .host = "web1",
		       .release          = "r2",
		       .previous_release = "r1",
		       .release_since_us = 100,
		       .first_seen_us    = 50,
		       .last_seen_us     = 200,
		       .interval_ms      = 1000,
		       .agent_version    = "0.1.0",
		       .boot_id          = 9,
		       .last_seq         = 41 };
	uint8_t         blob[] = { 0x0a, 0x03, 'a', 'p', 'p' };
	coll_latest_row l      = { .host = "web1",
		     .probe              = "app",
		     .result             = blob,
		     .result_len         = sizeof(blob),
		     .status             = 3,
		     .failure            = 5,
		     .since_us           = 150 };

	coll_ops_init(&ops);
	assert_int_equal(coll_ops_host(&ops, COLL_OP_HOST, &h), 0);
	assert_int_equal(coll_ops_latest(&ops, &l), 0);
	add_event(&ops, 150, "web1", "status", "fail");
	add_event(&ops, 160, "", "verdict", "code");
	assert_int_equal(coll_store_write(st, &ops), 0);
	coll_ops_clear(&ops);
	// A SEEN update touches last_seen and seq only.
	h.last_seen_us = 999;
	h.last_seq     = 77;
	h.release      = "ignored";
	assert_int_equal(coll_ops_host(&ops, COLL_OP_SEEN, &h), 0);
	// Upserting the same latest row replaces it.
	l.status = 1;
	assert_int_equal(coll_ops_latest(&ops, &l), 0);
	assert_int_equal(coll_store_write(st, &ops), 0);
	coll_ops_fini(&ops);
	coll_store_close(st);

	st                   = open_rw();
	loaded            x  = { 0 };
	coll_store_loader ld = { on_host, on_latest, on_verdict, &x };
	assert_int_equal(coll_store_load(st, &ld), 0);
	assert_int_equal(x.hosts, 1);
	assert_int_equal(x.latest, 1);
	assert_string_equal(x.release, "r2");
	assert_string_equal(x.prev, "r1");
	assert_int_equal(x.last_seen, 999);
	assert_int_equal(x.last_seq, 77);
	assert_string_equal(x.probe, "app");
	assert_int_equal(x.status, 1);
	assert_int_equal(x.failure, 5);
	assert_int_equal(x.blob_len, sizeof(blob));
	assert_string_equal(x.verdict, "code");
	coll_store_close(st);
}

static void
test_history_query(void **state)
{
	(void) state;
	coll_store       *st = open_rw();
	coll_store       *ro;
	coll_ops          ops;
	Fl__HistoryReply *r;

	coll_ops_init(&ops);
	add_event(&ops, 30, "b", "status", "fail");
	add_event(&ops, 10, "a", "status", "fail");
	add_event(&ops, 20, "b", "stale", "stale");
	add_event(&ops, 40, "a", "status", "ok");
	assert_int_equal(coll_store_write(st, &ops), 0);
	coll_ops_fini(&ops);

	// A separate read-only connection sees the committed rows (the control thread's view).
	ro = open_store(true);
	assert_int_equal(coll_store_history(ro, 0, NULL, 100, &r), 0);
	assert_int_equal(r->n_events, 4);
	assert_int_equal(r->events[0]->at_us, 10); // oldest first
	assert_int_equal(r->events[3]->at_us, 40);
	assert_string_equal(r->events[1]->kind, "stale");
	assert_int_equal(r->events[1]->kind_enum, FL__HISTORY_KIND__HISTORY_KIND_STALE);
	assert_int_equal(r->events[0]->kind_enum, FL__HISTORY_KIND__HISTORY_KIND_STATUS);
	assert_int_equal(r->events[0]->failure, 5);
	assert_int_equal(r->events[0]->agent_time_us, 17);
	assert_string_equal(r->events[0]->detail, "503");
	coll_history_reply_free(r);

	assert_int_equal(coll_store_history(ro, 20, NULL, 100, &r), 0);
	assert_int_equal(r->n_events, 3);
	assert_int_equal(r->events[0]->at_us, 20);
	coll_history_reply_free(r);

	assert_int_equal(coll_store_history(ro, 0, "a", 100, &r), 0);
	assert_int_equal(r->n_events, 2);
	assert_string_equal(r->events[0]->host, "a");
	assert_string_equal(r->events[1]->to, "ok");
	coll_history_reply_free(r);

	// With a limit, the newest events are kept, still oldest first.
	assert_int_equal(coll_store_history(ro, 0, NULL, 2, &r), 0);
	assert_int_equal(r->n_events, 2);
	assert_int_equal(r->events[0]->at_us, 30);
	assert_int_equal(r->events[1]->at_us, 40);
	coll_history_reply_free(r);

	assert_int_equal(coll_store_prune(st, 25, 100), 2);
	assert_int_equal(coll_store_history(ro, 0, NULL, 100, &r), 0);
	assert_int_equal(r->n_events, 2);
	coll_history_reply_free(r);
	coll_store_close(ro);
	coll_store_close(st);
}

// history_max_events: the oldest events beyond the newest N go, a batch at a time.
// Rows hold the kind's name: those an older collector wrote read back with their enum, and a
// name this build does not know reads as unknown with its text kept.
static void
test_history_kinds_of_stored_rows(void **state)
{
	(void) state;
	coll_store       *st = open_rw(); // creates the schema
	Fl__HistoryReply *r;
	static const struct {
		const char     *name;
		Fl__HistoryKind kind;
	} rows[] = {
		{ "status", FL__HISTORY_KIND__HISTORY_KIND_STATUS },
		{ "release", FL__HISTORY_KIND__HISTORY_KIND_RELEASE },
		{ "stale", FL__HISTORY_KIND__HISTORY_KIND_STALE },
		{ "back", FL__HISTORY_KIND__HISTORY_KIND_BACK },
		{ "verdict", FL__HISTORY_KIND__HISTORY_KIND_VERDICT },
		{ "verification", FL__HISTORY_KIND__HISTORY_KIND_VERIFICATION },
		{ "forgotten", FL__HISTORY_KIND__HISTORY_KIND_FORGOTTEN },
		{ "dns", FL__HISTORY_KIND__HISTORY_KIND_DNS },
		{ "from-the-future", FL__HISTORY_KIND__HISTORY_KIND_UNKNOWN },
	};
	size_t n = sizeof(rows) / sizeof(rows[0]);

	for (size_t i = 0; i < n; i++) {
		char sql[160];
		snprintf(sql, sizeof(sql),
		    "INSERT INTO history (at_us, host, kind) VALUES (%zu, 'a', '%s')", i + 1,
		    rows[i].name);
		assert_int_equal(fl_sql_exec(coll_store_sql(st), sql), FL_SQL_OK);
	}
	assert_int_equal(coll_store_history(st, 0, NULL, 100, &r), 0);
	assert_int_equal(r->n_events, n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(r->events[i]->kind, rows[i].name);
		assert_int_equal(r->events[i]->kind_enum, rows[i].kind);
	}
	coll_history_reply_free(r);
	coll_store_close(st);
}

static void
test_prune_count(void **state)
{
	(void) state;
	coll_store       *st = open_rw();
	coll_ops          ops;
	Fl__HistoryReply *r;

	coll_ops_init(&ops);
	for (int i = 1; i <= 500; i++) {
		add_event(&ops, i, "a", "status", i % 2 ? "fail" : "ok");
	}
	assert_int_equal(coll_store_write(st, &ops), 0);
	coll_ops_fini(&ops);

	assert_int_equal(coll_store_prune_count(st, 100, 300), 300); // a batch, more to go
	assert_int_equal(coll_store_prune_count(st, 100, 300), 100);
	assert_int_equal(coll_store_prune_count(st, 100, 300), 0);
	assert_int_equal(coll_store_history(st, 0, NULL, 1000, &r), 0);
	assert_int_equal(r->n_events, 100);
	assert_int_equal(r->events[0]->at_us, 401); // the newest are kept
	assert_int_equal(r->events[99]->at_us, 500);
	coll_history_reply_free(r);
	coll_store_close(st);
}

// history_days: the oldest events go first, a bounded batch per call.
static void
test_prune_age_batches(void **state)
{
	(void) state;
	coll_store       *st = open_rw();
	coll_ops          ops;
	Fl__HistoryReply *r;

	coll_ops_init(&ops);
	for (int i = 1; i <= 500; i++) {
		add_event(&ops, i, i % 2 ? "a" : "b", "status", i % 2 ? "fail" : "ok");
	}
	assert_int_equal(coll_store_write(st, &ops), 0);
	coll_ops_fini(&ops);

	assert_int_equal(coll_store_prune(st, 451, 300), 300); // a batch, more to go
	assert_int_equal(coll_store_history(st, 0, NULL, 1000, &r), 0);
	assert_int_equal(r->n_events, 200);
	assert_int_equal(r->events[0]->at_us, 301); // the oldest went first
	coll_history_reply_free(r);
	assert_int_equal(coll_store_prune(st, 451, 300), 150);
	assert_int_equal(coll_store_prune(st, 451, 300), 0);
	assert_int_equal(coll_store_history(st, 0, NULL, 1000, &r), 0);
	assert_int_equal(r->n_events, 50);
	assert_int_equal(r->events[0]->at_us, 451);
	coll_history_reply_free(r);

	// Queries stay bounded by their limit and time, per host too.
	assert_int_equal(coll_store_history(st, 490, "a", 3, &r), 0);
	assert_int_equal(r->n_events, 3);
	assert_int_equal(r->events[0]->at_us, 495);
	assert_int_equal(r->events[2]->at_us, 499);
	coll_history_reply_free(r);
	const char *hosts[] = { "b" };
	assert_int_equal(coll_store_history_hosts(st, 0, NULL, hosts, 1, 2, &r), 0);
	assert_int_equal(r->n_events, 2);
	assert_string_equal(r->events[1]->host, "b");
	assert_int_equal(r->events[1]->at_us, 500);
	coll_history_reply_free(r);
	assert_int_equal(coll_store_history_hosts(st, 0, NULL, hosts, 0, 100, &r), 0);
	assert_int_equal(r->n_events, 0);
	coll_history_reply_free(r);
	coll_store_close(st);
}

// A database of a newer collector (its store schema beyond this binary's) is refused.
static void
test_newer_schema_refused(void **state)
{
	(void) state;
	coll_store *st    = open_rw();
	coll_store *again = NULL;
	char        err[512];
	fl_sql_opts o = opts(false);

	assert_int_equal(fl_sql_schema_version(coll_store_sql(st), "store"), 2);
	assert_int_equal(fl_sql_exec(coll_store_sql(st),
	                     "UPDATE fl_schema SET version = 42 WHERE component = 'store'"),
	    FL_SQL_OK);
	coll_store_close(st);
	assert_int_equal(coll_store_open(&o, &again, err, sizeof(err)), -1);
	assert_null(again);
	assert_non_null(strstr(err, "version 42"));
	assert_non_null(strstr(err, "newer"));
	o.readonly = true;
	assert_int_equal(coll_store_open(&o, &again, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "newer"));
}

// SQLite: a file written by the collector before migrations existed (made by that collector:
// two hosts pushed by coll_tool, web1 failing, both gone stale) is adopted with its rows.
static void
test_adopt_database_before_migrations(void **state)
{
	(void) state;
	char cmd[256];

	snprintf(
	    cmd, sizeof(cmd), "cp %s/collector-before-migrations.db %s", FL_TEST_DATA, sqlt_target);
	assert_int_equal(system(cmd), 0);

	for (int round = 0; round < 2; round++) { // adopted, then opened as usual
		coll_store       *st = open_rw();
		loaded            x  = { 0 };
		coll_store_loader ld = { on_host, on_latest, on_verdict, &x };
		Fl__HistoryReply *r;

		assert_int_equal(fl_sql_schema_version(coll_store_sql(st), "store"), 2);
		assert_int_equal(coll_store_load(st, &ld), 0);
		assert_int_equal(x.hosts, 2);
		assert_int_equal(x.latest, 2);
		assert_string_equal(x.release, "r1");
		assert_string_equal(x.verdict, "unknown");
		assert_int_equal(coll_store_history(st, 0, NULL, 100, &r), 0);
		assert_int_equal(r->n_events, 4 + round);
		assert_string_equal(r->events[0]->host, "web1");
		assert_int_equal(r->events[0]->failure, FL__FAILURE_CLASS__FAILURE_HTTP_5XX);
		assert_string_equal(r->events[0]->to, "fail");
		assert_string_equal(r->events[3]->kind, "verdict");
		coll_history_reply_free(r);

		coll_ops ops; // and it takes new rows
		coll_ops_init(&ops);
		add_event(&ops, 1796056200000000LL, "web1", "status", "ok");
		assert_int_equal(coll_store_write(st, &ops), 0);
		coll_ops_fini(&ops);
		coll_store_close(st);
	}
}

// PostgreSQL: a writer whose session the server ended loses that one batch (-1, logged, the
// caller counts it), then writes again on a new session; readers too.
static void
test_reconnect_pg(void **state)
{
	(void) state;
	coll_store       *st = open_rw();
	coll_store       *ro = open_store(true);
	coll_ops          ops;
	Fl__HistoryReply *r;

	for (int i = 0; i < 2; i++) {
		// another connection ends it (the store's own would end itself)
		coll_store *killer = open_rw();
		sqlt_terminate(coll_store_sql(i == 0 ? st : ro), coll_store_sql(killer));
		coll_store_close(killer);
	}

	coll_ops_init(&ops);
	add_event(&ops, 10, "a", "status", "fail");
	assert_int_equal(coll_store_write(st, &ops), -1); // the loss, once
	assert_int_equal(coll_store_write(st, &ops), 0);  // a new session
	coll_ops_fini(&ops);
	assert_int_equal(coll_store_history(ro, 0, NULL, 100, &r), -1);
	assert_int_equal(coll_store_history(ro, 0, NULL, 100, &r), 0);
	assert_int_equal(r->n_events, 1);
	coll_history_reply_free(r);
	coll_store_close(ro);
	coll_store_close(st);
}

// What a standby reads (coll_store_load_changes): on PostgreSQL only the rows written since the
// cursor, in one snapshot, and "cannot tell" after a delete or a new lease epoch; on SQLite
// (no change stamps) always "cannot tell".
typedef struct changed {
	int  hosts, latest;
	char host[32], probe[32], verdict[32];
	bool stale;
	int  status;
} changed;

static int
ch_host(void *arg, const coll_host_row *r)
{
	changed *c = arg;
	c->hosts++;
	snprintf(c->host, sizeof(c->host), "%s", r->host);
	c->stale = r->stale;
	return 0;
}

static int
ch_latest(void *arg, const coll_latest_row *r)
{
	changed *c = arg;
	c->latest++;
	snprintf(c->probe, sizeof(c->probe), "%s/%s", r->host, r->probe);
	c->status = r->status;
	return 0;
}

static int
ch_verdict(void *arg, const char *v, const char *summary)
{
	changed *c = arg;
	(void) summary;
	snprintf(c->verdict, sizeof(c->verdict), "%s", v);
	return 0;
}

static void
write_host(coll_store *st, const char *host, const char *probe, int status)
{
	coll_ops        ops;
	uint8_t         blob[] = { 0x0a, 0x03, 'a', 'p', 'p' };
	coll_host_row   h      = { .host = host, .release = "r1", .last_seen_us = 10 };
	coll_latest_row l      = { .host = host,
		     .probe              = probe,
		     .result             = blob,
		     .result_len         = sizeof(blob),
		     .status             = status,
		     .since_us           = 10 };
	coll_ops_init(&ops);
	assert_int_equal(coll_ops_host(&ops, COLL_OP_HOST, &h), 0);
	assert_int_equal(coll_ops_latest(&ops, &l), 0);
	assert_int_equal(coll_store_write(st, &ops), 0);
	coll_ops_fini(&ops);
}

// The changes since cur into a fresh `changed`; returns coll_store_load_changes's result.
static int
changes(coll_store *ro, coll_store_cursor *cur, changed *c)
{
	coll_store_loader ld = { ch_host, ch_latest, ch_verdict, c };
	memset(c, 0, sizeof(*c));
	return coll_store_load_changes(ro, &ld, cur);
}

static void
test_load_changes(void **state)
{
	(void) state;
	coll_store       *st = open_rw();
	coll_store       *ro = open_store(true);
	coll_store_cursor cur;
	changed           c;
	loaded            x  = { 0 };
	coll_store_loader ld = { on_host, on_latest, on_verdict, &x };
	coll_ops          ops;

	write_host(st, "a", "app", FL__STATUS__STATUS_OK);
	assert_int_equal(coll_store_load_at(ro, &ld, &cur), 0);
	assert_int_equal(x.hosts, 1);
	assert_int_equal(x.latest, 1);
	if (!sqlt_pg) {
		assert_false(cur.valid);
		assert_int_equal(changes(ro, &cur, &c), COLL_STORE_CHANGES_UNKNOWN);
		assert_int_equal(c.hosts + c.latest, 0);
		coll_store_close(ro);
		coll_store_close(st);
		return;
	}
	assert_true(cur.valid);
	assert_int_equal(changes(ro, &cur, &c), 0); // nothing written since
	assert_int_equal(c.hosts + c.latest, 0);

	// A new host; then a status flip of a's probe only (its hosts row untouched).
	write_host(st, "b", "db", FL__STATUS__STATUS_OK);
	assert_int_equal(changes(ro, &cur, &c), 0);
	assert_int_equal(c.hosts, 1);
	assert_string_equal(c.host, "b");
	assert_int_equal(c.latest, 1);
	assert_string_equal(c.probe, "b/db");
	coll_ops_init(&ops);
	uint8_t         blob[] = { 0x0a, 0x03, 'a', 'p', 'p' };
	coll_latest_row l      = { .host = "a",
		     .probe              = "app",
		     .result             = blob,
		     .result_len         = sizeof(blob),
		     .status             = FL__STATUS__STATUS_FAIL,
		     .since_us           = 20 };
	assert_int_equal(coll_ops_latest(&ops, &l), 0);
	add_event(&ops, 20, "", "verdict", "code");
	assert_int_equal(coll_store_write(st, &ops), 0);
	coll_ops_clear(&ops);
	assert_int_equal(changes(ro, &cur, &c), 0);
	assert_int_equal(c.hosts, 0);
	assert_int_equal(c.latest, 1);
	assert_string_equal(c.probe, "a/app");
	assert_int_equal(c.status, FL__STATUS__STATUS_FAIL);
	assert_string_equal(c.verdict, "code");

	// A stale event (history only) brings its host back as changed, stale.
	coll_event ev = { .at_us = 30,
		.host            = "b",
		.kind            = FL__HISTORY_KIND__HISTORY_KIND_STALE,
		.from            = "ok",
		.to              = "stale" };
	assert_int_equal(coll_ops_event(&ops, &ev), 0);
	assert_int_equal(coll_store_write(st, &ops), 0);
	coll_ops_clear(&ops);
	assert_int_equal(changes(ro, &cur, &c), 0);
	assert_int_equal(c.hosts, 1);
	assert_string_equal(c.host, "b");
	assert_true(c.stale);
	assert_int_equal(c.latest, 0);

	// A forgotten host: a delete the stamps cannot show; the cursor is left as it was.
	coll_store_cursor before = cur;
	coll_host_row     gone   = { .host = "b" };
	assert_int_equal(coll_ops_host(&ops, COLL_OP_FORGET, &gone), 0);
	assert_int_equal(coll_store_write(st, &ops), 0);
	coll_ops_fini(&ops);
	assert_int_equal(changes(ro, &cur, &c), COLL_STORE_CHANGES_UNKNOWN);
	assert_int_equal(c.hosts + c.latest, 0);
	assert_memory_equal(&cur, &before, sizeof(cur));
	memset(&x, 0, sizeof(x));
	assert_int_equal(coll_store_load_at(ro, &ld, &cur), 0);
	assert_int_equal(x.hosts, 1);
	assert_int_equal(changes(ro, &cur, &c), 0);

	// Another lease epoch: cannot tell either.
	assert_int_equal(fl_sql_exec(coll_store_sql(st),
	                     "UPDATE " FL_SQL_LEASE_TABLE " SET epoch = epoch + 1 WHERE id = 1"),
	    FL_SQL_OK);
	assert_int_equal(changes(ro, &cur, &c), COLL_STORE_CHANGES_UNKNOWN);
	coll_store_close(ro);
	coll_store_close(st);
}

static void
test_open_failure(void **state)
{
	(void) state;
	coll_store *st = NULL;
	char        err[256];
	fl_sql_opts o = { .target = "/nonexistent/dir/x.db" };
	assert_int_equal(coll_store_open(&o, &st, err, sizeof(err)), -1);
	assert_null(st);
	assert_non_null(strstr(err, "cannot open /nonexistent/dir/x.db"));
	o.target = "postgresql://app@127.0.0.1:1/none";
	assert_int_equal(coll_store_open(&o, &st, err, sizeof(err)), -1);
	assert_null(st);
	assert_non_null(strstr(err, "cannot connect to PostgreSQL"));
}

// ---- many rows a statement ---------------------------------------------------------------------

// Appends printf output to a growing dump.
static void dump_add(char **d, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
dump_add(char **d, size_t *n, const char *fmt, ...)
{
	va_list ap;
	char    line[512];
	int     len;

	va_start(ap, fmt);
	len = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	assert_true(len > 0 && (size_t) len < sizeof(line));
	*d = realloc(*d, *n + (size_t) len + 1);
	assert_non_null(*d);
	memcpy(*d + *n, line, (size_t) len + 1);
	*n += (size_t) len;
}

typedef struct dump {
	char  *text;
	size_t n;
} dump;

static int
dump_host(void *arg, const coll_host_row *r)
{
	dump *d = arg;
	dump_add(&d->text, &d->n, "host %s %s %s %lld %lld %lld %u %s %llu %llu %lld %s\n", r->host,
	    r->release, r->previous_release, (long long) r->release_since_us,
	    (long long) r->first_seen_us, (long long) r->last_seen_us, r->interval_ms,
	    r->agent_version, (unsigned long long) r->boot_id, (unsigned long long) r->last_seq,
	    (long long) r->clock_skew_us, r->labels);
	return 0;
}

static int
dump_latest(void *arg, const coll_latest_row *r)
{
	dump *d = arg;
	dump_add(&d->text, &d->n, "latest %s %s %d %d %lld %zu:%.*s\n", r->host, r->probe,
	    r->status, r->failure, (long long) r->since_us, r->result_len, (int) r->result_len,
	    (const char *) r->result);
	return 0;
}

// Everything the store holds, in load order (hosts by last_seen, probes in the order they first
// appeared) and history in id order.
static char *
dump_store(coll_store *st)
{
	dump              d  = { 0 };
	coll_store_loader ld = { .on_host = dump_host, .on_latest = dump_latest, .arg = &d };
	Fl__HistoryReply *r;

	assert_int_equal(coll_store_load(st, &ld), 0);
	assert_int_equal(coll_store_history(st, 0, NULL, 100000, &r), 0);
	for (size_t i = 0; i < r->n_events; i++) {
		const Fl__HistoryEvent *e = r->events[i];
		dump_add(&d.text, &d.n, "event %lld %s %s %s %s %s %s\n", (long long) e->at_us,
		    e->host, e->kind, e->probe, e->from, e->to, e->detail);
	}
	coll_history_reply_free(r);
	return d.text;
}

static void
host_op(coll_ops *ops, coll_op_kind kind, int h, const char *release, uint64_t seq)
{
	char          name[16];
	coll_host_row row = { .host = name,
		.release            = release,
		.previous_release   = "r0",
		.release_since_us   = 10 + h,
		.first_seen_us      = 20 + h,
		.last_seen_us       = 1000 * (int64_t) seq + h, // distinct: the load's order
		.interval_ms        = 1000,
		.agent_version      = "0.1.0",
		.boot_id            = 7,
		.last_seq           = seq,
		.clock_skew_us      = -(int64_t) h,
		.labels             = h % 2 ? "env=prod" : "" };
	snprintf(name, sizeof(name), "h%d", h);
	assert_int_equal(coll_ops_host(ops, kind, &row), 0);
}

static void
latest_op(coll_ops *ops, int h, int p, int status)
{
	char            name[16], probe[16], blob[32];
	coll_latest_row row = { .host = name,
		.probe                = probe,
		.result               = (const uint8_t *) blob,
		.status               = status,
		.failure              = status == 3 ? 5 : 0,
		.since_us             = 100 * h + p };
	snprintf(name, sizeof(name), "h%d", h);
	snprintf(probe, sizeof(probe), "p%d", p);
	row.result_len = (size_t) snprintf(blob, sizeof(blob), "r%d.%d.%d", h, p, status);
	assert_int_equal(coll_ops_latest(ops, &row), 0);
}

static void
event_op(coll_ops *ops, int h, const char *to)
{
	char       name[16];
	coll_event ev = { .at_us = 5000, // the same time: history's order is the ids'
		.host            = name,
		.kind            = FL__HISTORY_KIND__HISTORY_KIND_STATUS,
		.probe           = "p0",
		.from            = "ok",
		.to              = to,
		.detail          = name };
	snprintf(name, sizeof(name), "h%d", h);
	assert_int_equal(coll_ops_event(ops, &ev), 0);
}

// Two batches as ingest writes them, with what the batching must keep in order: a host row
// upserted, updated (SEEN) and upserted again; a latest row written twice in one batch; a
// probe dropped and written again; a host forgotten and back; more rows than a statement holds.
static void
write_mixed_batches(coll_store *st)
{
	coll_ops ops;

	coll_ops_init(&ops);
	for (int h = 0; h < 6; h++) {
		host_op(&ops, COLL_OP_HOST, h, "r1", 1);
		for (int p = 0; p < 11; p++) {
			latest_op(&ops, h, p, 1);
			if (p % 4 == 0) {
				event_op(&ops, h, "ok");
			}
		}
		host_op(&ops, COLL_OP_SEEN, h, "-", 2);
	}
	host_op(&ops, COLL_OP_HOST, 0, "r2", 3);
	host_op(&ops, COLL_OP_SEEN, 0, "-", 4);
	latest_op(&ops, 1, 3, 3);
	event_op(&ops, 1, "fail");
	latest_op(&ops, 1, 3, 2);
	assert_int_equal(coll_ops_drop_latest(&ops, "h2", "p5"), 0);
	latest_op(&ops, 2, 5, 3);
	assert_int_equal(coll_store_write(st, &ops), 0);
	coll_ops_clear(&ops);

	host_op(&ops, COLL_OP_SEEN, 5, "-", 5);
	host_op(&ops, COLL_OP_FORGET, 3, "", 0);
	event_op(&ops, 3, "forgotten");
	host_op(&ops, COLL_OP_HOST, 3, "r3", 6);
	latest_op(&ops, 3, 9, 1);
	for (int h = 0; h < 6; h++) {
		host_op(&ops, COLL_OP_SEEN, h, "-", 7 + (uint64_t) h);
	}
	assert_int_equal(coll_store_write(st, &ops), 0);
	coll_ops_fini(&ops);
}

// The same batches written one row a statement and many rows a statement leave the same rows.
static void
test_many_rows_a_statement(void **state)
{
	static const unsigned sizes[] = { 1, 4, 128 };
	char                 *dumps[3];
	uint64_t              statements[3];

	for (size_t i = 0; i < 3; i++) {
		setup(state);
		coll_store *st = open_rw();
		assert_int_equal(coll_store_set_rows_per_statement(st, sizes[i]), 0);
		write_mixed_batches(st);
		statements[i] = coll_store_write_statements(st);
		dumps[i]      = dump_store(st);
		coll_store_close(st);
	}
	assert_string_equal(dumps[1], dumps[0]);
	assert_string_equal(dumps[2], dumps[0]);
	// What the batches say, read back.
	assert_non_null(strstr(dumps[0], "host h0 r2 r0 10 20 7000 1000 0.1.0 7 7 0 \n"));
	assert_non_null(
	    strstr(dumps[0], "host h3 r3 r0 13 23 10003 1000 0.1.0 7 10 -3 env=prod\n"));
	assert_non_null(strstr(dumps[0], "latest h1 p3 2 0 103 6:r1.3.2\n"));
	assert_non_null(strstr(dumps[0], "latest h2 p5 3 5 205 6:r2.5.3\n"));
	assert_null(strstr(dumps[0], "latest h3 p0 "));
	assert_non_null(strstr(dumps[0], "latest h3 p9 1 0 309 6:r3.9.1\n"));
	assert_non_null(strstr(dumps[0],
	    "event 5000 h1 status p0 ok fail h1\n"
	    "event 5000 h3 status p0 ok forgotten h3\n"));
	// Unbatched, one statement a row (latest, history, hosts rows of the first batch, then the
	// second's rows; deletes are not row writes). Batched, a hosts row written twice splits its
	// queue, so not a handful, but far fewer.
	assert_int_equal(
	    statements[0], (6 * 11 + 3) + (6 * 3 + 1) + (6 * 2 + 2) + (1 + 1 + 1 + 1 + 6));
	assert_true(statements[2] * 3 < statements[0]);
	assert_true(statements[1] < statements[0]);
	for (size_t i = 0; i < 3; i++) {
		free(dumps[i]);
	}
	// 1000 rows of one kind: 7 statements of 128 rows, then 64 + 32 + 8.
	coll_store *st = open_rw();
	coll_ops    ops;
	coll_ops_init(&ops);
	for (int i = 0; i < 1000; i++) {
		latest_op(&ops, i / 20, i % 20, 1);
	}
	uint64_t before = coll_store_write_statements(st);
	assert_int_equal(coll_store_write(st, &ops), 0);
	assert_int_equal(coll_store_write_statements(st) - before, 7 + 3);
	coll_ops_fini(&ops);
	char *all = dump_store(st);
	assert_non_null(strstr(all, "latest h49 p19 1 0 4919 8:r49.19.1\n"));
	free(all);
	// Not a power of two, or beyond the most a statement holds: refused, the store unchanged.
	assert_int_equal(coll_store_set_rows_per_statement(st, 3), -1);
	assert_int_equal(coll_store_set_rows_per_statement(st, 256), -1);
	assert_int_equal(coll_store_set_rows_per_statement(st, 0), -1);
	coll_store_close(st);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest lite_tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_adopt_database_before_migrations, setup, teardown),
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_and_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_rows_a_statement, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_query, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_kinds_of_stored_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_age_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_changes, setup, teardown),
		cmocka_unit_test(test_open_failure),
	};
	const struct CMUnitTest pg_tests[] = {
		cmocka_unit_test_setup_teardown(test_reconnect_pg, setup, teardown),
	};
	int rc;

	sqlt_choose(argc, argv, "coll-store-test");
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (sqlt_pg) {
		rc |= cmocka_run_group_tests(pg_tests, NULL, NULL);
	} else {
		rc |= cmocka_run_group_tests(lite_tests, NULL, NULL);
	}
	return rc;
}
