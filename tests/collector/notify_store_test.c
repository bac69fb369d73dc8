// notify_store_test.c - what the notifier, the mutes and the exporter keep in the state
// database, on a real engine: the outbox (order per finding, retries, counters, firing
// findings across a reopen, the bound, re-sends, forgotten receivers), mutes seen by a second
// collector, the durable counters, the lease fence on every write, and a database written by
// the collector before sql.h adopted with its rows.
//
// The target comes from FL_SQL_TEST_TARGET (a PostgreSQL URI or conninfo; its password in the
// file FL_SQL_TEST_PASSWORD_FILE), else a temporary SQLite file: ctest registers the test once
// per engine (notify_store_test_sqlite, and notify_store_test_pgsql through
// tests/collector/pg_state.sh, which starts a real PostgreSQL).

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "exporter.h"
#include "exporter_counters.h"
#include "hub.h"
#include "metrics.h"
#include "notify.h"
#include "notify_mute.h"
#include "notify_store.h"
#include "server.h"
#include "sql.h"
#include "sql_target.h"

#define S 1000000LL // one second in us

static fl_sql_opts
opts(void)
{
	return (fl_sql_opts) { .target = sqlt_target,
		.password_file         = sqlt_password_file,
		.app_name              = "faultline-notify-store-test" };
}

static fl_sql *
raw_open(void)
{
	fl_sql_opts o = opts();
	return sqlt_open(&o);
}

static int64_t
raw_count(const char *sql)
{
	fl_sql *db = raw_open();
	int64_t n  = sqlt_int(db, sql);
	fl_sql_close(db);
	return n;
}

// An empty database for each test (the same PostgreSQL serves them all).
static int
setup(void **state)
{
	(void) state;
	if (!sqlt_pg) {
		sqlt_remove_lite();
		return 0;
	}
	fl_sql *db = raw_open();
	// The test's database (pg_state.sh) belongs to its login, and so does schema public.
	sqlt_exec(db,
	    "SET client_min_messages = warning; DROP SCHEMA public CASCADE;"
	    " CREATE SCHEMA public");
	fl_sql_close(db);
	return 0;
}

// The lease row at epoch (sql.h's fence reads it).
static void
set_lease(int64_t epoch)
{
	fl_sql *db = raw_open();
	char    sql[256];
	sqlt_exec(db,
	    "CREATE TABLE IF NOT EXISTS " FL_SQL_LEASE_TABLE
	    " (id BIGINT PRIMARY KEY, epoch BIGINT NOT NULL)");
	snprintf(sql, sizeof(sql),
	    "INSERT INTO " FL_SQL_LEASE_TABLE " (id, epoch) VALUES (1, %lld)"
	    " ON CONFLICT (id) DO UPDATE SET epoch = excluded.epoch",
	    (long long) epoch);
	sqlt_exec(db, sql);
	fl_sql_close(db);
}

static notify_store *
store_open(void)
{
	fl_sql_opts   o  = opts();
	notify_store *st = NULL;
	char          err[512];
	if (notify_store_open(&o, "the test outbox", &st, err, sizeof(err)) != 0) {
		fail_msg("cannot open the outbox: %s", err);
	}
	return st;
}

static int
enqueue_rx(notify_store *st, const char *rx, const char *finding, const char *status,
    const char *body, bool *dropped)
{
	const char *rxs[]    = { rx };
	const char *bodies[] = { body };
	uint8_t     packed[] = { 0x08, 0x03 }; // Finding{verdict: DATABASE}
	char        ev[64];
	snprintf(ev, sizeof(ev), "%s-%s", finding, status);
	notify_enqueue q = { .finding = finding,
		.event_id             = ev,
		.status               = status,
		.packed               = packed,
		.packed_len           = sizeof(packed),
		.fired_us             = 5 * S,
		.now_us               = 6 * S,
		.n_receivers          = 1,
		.receivers            = rxs,
		.bodies               = bodies,
		.dropped              = dropped };
	*dropped         = false;
	return notify_store_enqueue(st, &q);
}

static void
enqueue(notify_store *st, const char *finding, const char *status, const char *body)
{
	bool dropped;
	assert_int_equal(enqueue_rx(st, "ops", finding, status, body, &dropped), 0);
	assert_false(dropped);
}

static int
count_firing(void *arg, const char *id, const uint8_t *packed, size_t len, int64_t fired_us)
{
	int *n = arg;
	(void) id;
	assert_int_equal(len, 2);
	assert_int_equal(packed[0], 0x08);
	assert_int_equal(packed[1], 0x03);
	assert_int_equal(fired_us, 5 * S);
	(*n)++;
	return 0;
}

// ---- the outbox ------------------------------------------------------------------------------

static void
test_outbox_order_retry_and_reopen(void **state)
{
	(void) state;
	notify_store *st = store_open();
	notify_row    row;
	int           firing = 0;

	enqueue(st, "A", "firing", "a1");
	enqueue(st, "B", "firing", "b1");
	enqueue(st, "A", "resolved", "a2");
	assert_int_equal(notify_store_pending(st, "ops"), 3);

	// A's firing fails: A's resolved waits behind it, B goes ahead.
	assert_int_equal(notify_store_next(st, "ops", 10 * S, &row), 1);
	assert_string_equal(row.body, "a1");
	assert_int_equal(notify_store_failed(st, &row, 20 * S), 0);
	notify_row_free(&row);
	assert_int_equal(notify_store_next(st, "ops", 10 * S, &row), 1);
	assert_string_equal(row.body, "b1");
	assert_int_equal(notify_store_sent(st, &row), 0);
	notify_row_free(&row);
	assert_int_equal(notify_store_next(st, "ops", 10 * S, &row), 0); // A backs off
	assert_int_equal(notify_store_count_rows(st, "ops", true), 1);
	assert_int_equal(notify_store_firing(st, count_firing, &firing), 0);
	assert_int_equal(firing, 1); // B still firing; A resolved
	notify_store_close(st);

	// Reopened (a restart): every row due at once, counters kept.
	st = store_open();
	assert_int_equal(notify_store_all_due(st), 0);
	assert_int_equal(notify_store_next(st, "ops", 10 * S, &row), 1);
	assert_string_equal(row.body, "a1");
	assert_int_equal(row.attempts, 1);
	assert_int_equal(notify_store_sent(st, &row), 0);
	notify_row_free(&row);
	assert_int_equal(notify_store_next(st, "ops", 10 * S, &row), 1);
	assert_string_equal(row.body, "a2");
	assert_string_equal(row.event_id, "A-resolved");
	assert_string_equal(row.status, "resolved");
	assert_string_equal(row.receiver, "ops");
	assert_int_equal(notify_store_sent(st, &row), 0);
	notify_row_free(&row);
	assert_int_equal(notify_store_next(st, "ops", 10 * S, &row), 0);
	assert_int_equal(notify_store_count(st, "ops", "sent"), 3);
	assert_int_equal(notify_store_count(st, "ops", "failed"), 1);
	assert_int_equal(notify_store_count(st, "ops", "retried"), 1);
	assert_int_equal(notify_store_count(st, "other", "sent"), 0);
	notify_store_close(st);
}

// A receiver's outbox holds NOTIFY_OUTBOX_MAX rows at most: one more is dropped and counted,
// and the firing table still changes.
static void
test_outbox_bounded(void **state)
{
	(void) state;
	notify_store *st = store_open();
	fl_sql       *db = raw_open();
	bool          dropped;
	char          sql[512];
	int           firing = 0;

	snprintf(sql, sizeof(sql),
	    "INSERT INTO notify_outbox (receiver, finding, event_id, status, body, created_us)"
	    " WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %d)"
	    " SELECT 'ops', 'F' || x, 'e' || x, 'firing', 'b', 1 FROM c",
	    NOTIFY_OUTBOX_MAX);
	sqlt_exec(db, sql);
	fl_sql_close(db);
	assert_int_equal(notify_store_pending(st, "ops"), NOTIFY_OUTBOX_MAX);
	assert_int_equal(enqueue_rx(st, "ops", "Z", "firing", "z", &dropped), 0);
	assert_true(dropped);
	assert_int_equal(notify_store_pending(st, "ops"), NOTIFY_OUTBOX_MAX);
	assert_int_equal(notify_store_count(st, "ops", "dropped"), 1);
	assert_int_equal(notify_store_firing(st, count_firing, &firing), 0);
	assert_int_equal(firing, 1);
	// Another receiver is not held back by this one's full outbox.
	assert_int_equal(enqueue_rx(st, "other", "Z", "firing", "z", &dropped), 0);
	assert_false(dropped);
	notify_store_close(st);
}

// An Alertmanager re-send is queued only when nothing of that finding waits for it.
static void
test_requeue_once(void **state)
{
	(void) state;
	notify_store *st = store_open();
	notify_row    row;

	assert_int_equal(notify_store_requeue(st, "am", "A", "A-firing", "body", 7 * S), 1);
	assert_int_equal(notify_store_requeue(st, "am", "A", "A-firing", "body", 8 * S), 0);
	assert_int_equal(notify_store_requeue(st, "am", "B", "B-firing", "body", 8 * S), 1);
	assert_int_equal(notify_store_pending(st, "am"), 2);
	assert_int_equal(notify_store_next(st, "am", 9 * S, &row), 1);
	assert_string_equal(row.finding, "A");
	assert_string_equal(row.status, "firing");
	assert_int_equal(notify_store_sent(st, &row), 0);
	notify_row_free(&row);
	assert_int_equal(notify_store_requeue(st, "am", "A", "A-firing", "body", 9 * S), 1);
	notify_store_close(st);
}

// Rows of receivers no longer configured go; the others stay.
static void
test_forget_receivers(void **state)
{
	(void) state;
	notify_store     *st      = store_open();
	const char *const names[] = { "ops" };
	bool              dropped;

	assert_int_equal(enqueue_rx(st, "ops", "A", "firing", "a", &dropped), 0);
	assert_int_equal(enqueue_rx(st, "gone", "A", "firing", "a", &dropped), 0);
	assert_int_equal(enqueue_rx(st, "gone", "B", "firing", "b", &dropped), 0);
	assert_int_equal(notify_store_forget_receivers(st, names, 1), 0);
	assert_int_equal(notify_store_pending(st, "ops"), 1);
	assert_int_equal(notify_store_pending(st, "gone"), 0);
	notify_store_close(st);
}

// ---- mutes -----------------------------------------------------------------------------------

static coll_mutes *
mutes_open(int64_t now_us)
{
	fl_sql_opts o = opts();
	coll_mutes *m = NULL;
	char        err[512];
	if (coll_mutes_open(&o, now_us, &m, err, sizeof(err)) != 0) {
		fail_msg("cannot open the mutes: %s", err);
	}
	return m;
}

// Mutes persist; a second collector on the same store sees them when it reloads; expired
// ones are not loaded.
static void
test_mutes_persist_and_reload(void **state)
{
	(void) state;
	coll_mutes *a = mutes_open(10 * S), *b;
	coll_mute   x, y, list[4];
	char        err[256];

	assert_int_equal(
	    coll_mutes_add(a, "app1", NULL, 3600, "upgrade", 10 * S, &x, err, sizeof(err)), 0);
	assert_int_equal(
	    coll_mutes_add(a, NULL, "db:5432", 2, "failover drill", 10 * S, &y, err, sizeof(err)),
	    0);
	assert_true(x.id > 0);
	assert_true(y.id > x.id);

	b = mutes_open(11 * S);
	assert_int_equal(coll_mutes_list(b, 11 * S, list, 4), 2);
	assert_int_equal(list[0].id, x.id);
	assert_string_equal(list[0].host, "app1");
	assert_string_equal(list[0].reason, "upgrade");
	assert_int_equal(list[0].until_us, 10 * S + 3600 * S);
	assert_string_equal(list[1].target, "db:5432");

	// Removed by a: b holds it until it reloads.
	assert_int_equal(coll_mutes_remove(a, x.id, 11 * S, list), 1);
	assert_int_equal(coll_mutes_list(b, 11 * S, list, 4), 2);
	assert_int_equal(coll_mutes_reload(b, 11 * S), 0);
	assert_int_equal(coll_mutes_list(b, 11 * S, list, 4), 1);
	assert_int_equal(list[0].id, y.id);
	coll_mutes_close(b);
	coll_mutes_close(a);

	// y expired at 12 s: a restart after it loads nothing.
	a = mutes_open(13 * S);
	assert_int_equal(coll_mutes_list(a, 13 * S, list, 4), 0);
	coll_mutes_close(a);
}

// ---- durable counters ------------------------------------------------------------------------

static coll_counters *
counters_open(void)
{
	fl_sql_opts    o = opts();
	coll_counters *c = NULL;
	char           err[512];
	if (coll_counters_open(&o, &c, err, sizeof(err)) != 0) {
		fail_msg("cannot open the counters: %s", err);
	}
	return c;
}

static void
test_counters_roundtrip(void **state)
{
	(void) state;
	const char *const names[] = { "reports_received", "results_applied" };
	uint64_t          v[2]    = { 7, 7 };
	uint64_t          saved[] = { 12, (uint64_t) 1 << 40 };
	coll_counters    *c       = counters_open();

	assert_int_equal(coll_counters_load(c, names, 2, v), FL_SQL_OK);
	assert_int_equal(v[0], 0);
	assert_int_equal(v[1], 0);
	assert_int_equal(coll_counters_save(c, names, 2, saved), FL_SQL_OK);
	saved[0] = 13;
	assert_int_equal(coll_counters_save(c, names, 2, saved), FL_SQL_OK);
	coll_counters_close(c);

	c = counters_open();
	assert_int_equal(coll_counters_load(c, names, 2, v), FL_SQL_OK);
	assert_int_equal(v[0], 13);
	assert_int_equal(v[1], (uint64_t) 1 << 40);
	coll_counters_close(c);
}

// ---- the lease fence ---------------------------------------------------------------------------

// A collector whose lease epoch moved writes nothing and hands out nothing to send; a row it
// was sending stays (sent again by the active: at least once, the same event id).
static void
test_fenced_writes_refused(void **state)
{
	(void) state;
	notify_store     *st      = store_open(), *other;
	coll_mutes       *m       = mutes_open(10 * S);
	coll_counters    *c       = counters_open();
	const char *const names[] = { "reports_received" };
	uint64_t          one[] = { 1 }, two[] = { 2 }, v[1];
	notify_row        row, again;
	coll_mute         x;
	char              err[256];
	bool              dropped;

	set_lease(1);
	notify_store_set_fence(st, 1);
	coll_mutes_set_fence(m, 1);
	coll_counters_set_fence(c, 1);
	enqueue(st, "A", "firing", "a1");
	assert_int_equal(coll_counters_save(c, names, 1, one), FL_SQL_OK);
	assert_int_equal(notify_store_next(st, "ops", 10 * S, &row), 1); // being sent

	set_lease(2); // another collector took the lease
	assert_int_equal(notify_store_sent(st, &row), FL_SQL_EFENCED);
	assert_int_equal(notify_store_next(st, "ops", 10 * S, &again), FL_SQL_EFENCED);
	assert_int_equal(enqueue_rx(st, "ops", "B", "firing", "b1", &dropped), FL_SQL_EFENCED);
	assert_int_equal(notify_store_failed(st, &row, 20 * S), FL_SQL_EFENCED);
	assert_int_equal(
	    notify_store_requeue(st, "ops", "C", "C-firing", "c", 10 * S), FL_SQL_EFENCED);
	assert_int_equal(notify_store_all_due(st), FL_SQL_EFENCED);
	assert_int_equal(coll_counters_save(c, names, 1, two), FL_SQL_EFENCED);
	assert_int_equal(
	    coll_mutes_add(m, "app1", NULL, 60, "drill", 10 * S, &x, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no longer active"));

	// Nothing was written: the row being sent is still there, untried, for the active.
	assert_int_equal(raw_count("SELECT COUNT(*) FROM notify_outbox"), 1);
	assert_int_equal(raw_count("SELECT COUNT(*) FROM notify_outbox WHERE attempts = 0"), 1);
	assert_int_equal(raw_count("SELECT COUNT(*) FROM notify_counts"), 0);
	assert_int_equal(raw_count("SELECT COUNT(*) FROM notify_mutes"), 0);
	assert_int_equal(raw_count("SELECT value FROM counters"), 1);

	// The active (epoch 2) gets the same row, with the same event id, and deletes it once
	// delivered.
	other = store_open();
	notify_store_set_fence(other, 2);
	assert_int_equal(notify_store_next(other, "ops", 10 * S, &again), 1);
	assert_int_equal(again.seq, row.seq);
	assert_string_equal(again.event_id, row.event_id);
	assert_int_equal(notify_store_sent(other, &again), 0);
	assert_int_equal(notify_store_pending(other, "ops"), 0);
	notify_row_free(&again);
	notify_row_free(&row);

	// The fenced one, given the new epoch (it became active again), writes again.
	notify_store_set_fence(st, 2);
	coll_counters_set_fence(c, 2);
	assert_int_equal(coll_counters_save(c, names, 1, two), FL_SQL_OK);
	assert_int_equal(coll_counters_load(c, names, 1, v), FL_SQL_OK);
	assert_int_equal(v[0], 2);
	enqueue(st, "B", "firing", "b1");
	assert_int_equal(notify_store_pending(st, "ops"), 1);

	notify_store_close(other);
	notify_store_close(st);
	coll_mutes_close(m);
	coll_counters_close(c);
}

// ---- the sender and the fence ------------------------------------------------------------------

// A webhook receiver: answers 200 to every POST and keeps the event ids it got, in order.
typedef struct sink {
	int             fd;
	int             port;
	pthread_t       tid;
	atomic_int      stop;
	pthread_mutex_t mu;
	char            ids[8][128];
	int             n;
} sink;

// Reads one request from c (head and Content-Length body) into buf; its length, or -1.
static int
read_request(int c, char *buf, size_t cap)
{
	size_t      len = 0;
	const char *end = NULL;
	for (;;) {
		ssize_t r = read(c, buf + len, cap - 1 - len);
		if (r <= 0) {
			return -1;
		}
		len += (size_t) r;
		buf[len] = '\0';
		if (end == NULL && (end = strstr(buf, "\r\n\r\n")) != NULL) {
			end += 4;
		}
		const char *cl = strstr(buf, "Content-Length:");
		if (end != NULL &&
		    (cl == NULL || (size_t) (end - buf) + (size_t) atol(cl + 15) <= len)) {
			return (int) len;
		}
		if (len + 1 >= cap) {
			return -1;
		}
	}
}

static void *
sink_main(void *arg)
{
	sink *k = arg;
	while (!atomic_load(&k->stop)) {
		struct pollfd p = { .fd = k->fd, .events = POLLIN };
		char          buf[65536];
		if (poll(&p, 1, 50) != 1) {
			continue;
		}
		int c = accept(k->fd, NULL, NULL);
		if (c < 0) {
			continue;
		}
		if (read_request(c, buf, sizeof(buf)) > 0) {
			const char *id = strstr(buf, "X-Faultline-Event-Id: ");
			pthread_mutex_lock(&k->mu);
			if (id != NULL && k->n < 8) {
				snprintf(k->ids[k->n++], sizeof(k->ids[0]), "%.*s",
				    (int) strcspn(id + 22, "\r\n"), id + 22);
			}
			pthread_mutex_unlock(&k->mu);
			const char ok[] =
			    "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
			assert_int_equal(write(c, ok, sizeof(ok) - 1), (ssize_t) sizeof(ok) - 1);
		}
		close(c);
	}
	return NULL;
}

static void
sink_start(sink *k)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t          len = sizeof(a);
	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->mu, NULL);
	k->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(k->fd >= 0);
	assert_int_equal(bind(k->fd, (struct sockaddr *) &a, sizeof(a)), 0);
	assert_int_equal(listen(k->fd, 8), 0);
	assert_int_equal(getsockname(k->fd, (struct sockaddr *) &a, &len), 0);
	k->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&k->tid, NULL, sink_main, k), 0);
}

static void
sink_stop(sink *k)
{
	atomic_store(&k->stop, 1);
	pthread_join(k->tid, NULL);
	close(k->fd);
	pthread_mutex_destroy(&k->mu);
}

static int
sink_count(sink *k)
{
	pthread_mutex_lock(&k->mu);
	int n = k->n;
	pthread_mutex_unlock(&k->mu);
	return n;
}

// Waits up to secs for the sink to hold n requests.
static bool
sink_wait(sink *k, int n, int secs)
{
	for (int i = 0; i < secs * 20 && sink_count(k) < n; i++) {
		nanosleep(&(struct timespec) { 0, 50000000L }, NULL);
	}
	return sink_count(k) >= n;
}

// A collector whose lease epoch moved stops sending: a row queued by the active is not sent
// by it, and stays for the active; given the new epoch (active again), it sends that row with
// its event id.
static void
test_sender_stops_when_fenced(void **state)
{
	(void) state;
	coll_notify_config cfg;
	coll_notify       *n = NULL;
	notify_store      *q = store_open(); // the active's outbox, unfenced: it queues rows
	fl_sql_opts        o = opts();
	sink               k;
	char               err[512], url[64];

	sink_start(&k);
	set_lease(1);
	coll_notify_config_defaults(&cfg);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", k.port);
	assert_int_equal(coll_notify_config_section(&cfg, "webhook", "ops", err, sizeof(err)), 0);
	assert_int_equal(coll_notify_config_set(&cfg, "webhook", "url", url, err, sizeof(err)), 0);
	if (coll_notify_start(&cfg, &o, 1, NULL, &n, err, sizeof(err)) != 0) {
		fail_msg("cannot start the notifier: %s", err);
	}

	enqueue(q, "A", "firing", "{}");
	assert_true(sink_wait(&k, 1, 10));
	assert_string_equal(k.ids[0], "A-firing");

	set_lease(2); // another collector took the lease, and queues B
	enqueue(q, "B", "firing", "{}");
	// Negative: three times the sender's look period (NOTIFY_IDLE_MS) passes without a send.
	assert_false(sink_wait(&k, 2, 3));
	assert_int_equal(notify_store_pending(q, "ops"), 1);

	coll_notify_set_fence(n, 2); // this collector is the active one again
	assert_true(sink_wait(&k, 2, 10));
	assert_string_equal(k.ids[1], "B-firing");
	coll_notify_stop(n);
	assert_int_equal(notify_store_pending(q, "ops"), 0);
	notify_store_close(q);
	sink_stop(&k);
}

// ---- the exporter's durable counters under a lease --------------------------------------------

static void
set_stored_received(int64_t v)
{
	coll_counters    *c       = counters_open();
	const char *const names[] = { "reports_received" };
	uint64_t          x[]     = { (uint64_t) v };
	assert_int_equal(coll_counters_save(c, names, 1, x), FL_SQL_OK);
	coll_counters_close(c);
}

static uint64_t
shown_received(coll_server *srv)
{
	coll_metrics_snapshot s;
	coll_metrics_snapshot_init(&s);
	assert_int_equal(coll_exporter_snapshot(srv->exporter, &s), 0);
	uint64_t v = s.reports_received;
	coll_metrics_snapshot_fini(&s);
	return v;
}

// Waits up to secs for /metrics to show reports_received == v.
static bool
shows_received(coll_server *srv, uint64_t v, int secs)
{
	for (int i = 0; i < secs * 20 && shown_received(srv) != v; i++) {
		nanosleep(&(struct timespec) { 0, 50000000L }, NULL);
	}
	return shown_received(srv) == v;
}

// A standby saves nothing and shows what the active saved; on becoming active it carries on
// from the stored values; once the lease moves, its saves are refused.
static void
test_exporter_counters_follow_the_lease(void **state)
{
	(void) state;
	coll_config  cfg;
	coll_server *srv = NULL;
	char         err[512];

	coll_config_defaults(&cfg);
	snprintf(cfg.listen, sizeof(cfg.listen), "tcp://127.0.0.1:0");
	snprintf(cfg.survey, sizeof(cfg.survey), "tcp://127.0.0.1:0");
	snprintf(cfg.control, sizeof(cfg.control), "tcp://127.0.0.1:0");
	snprintf(cfg.state, sizeof(cfg.state), "%s", sqlt_target);
	snprintf(cfg.password_file, sizeof(cfg.password_file), "%s",
	    sqlt_password_file != NULL ? sqlt_password_file : "");
	cfg.http[0] = '\0';
	if (coll_server_start(&cfg, &srv, err, sizeof(err)) != 0) {
		fail_msg("cannot start the collector: %s", err);
	}
	// On PostgreSQL the collector takes the lease itself, and its take-over sets the
	// exporter's fence: let that happen first, then move the fence by hand from its epoch.
	for (int i = 0; i < 400 && !atomic_load(&srv->active); i++) {
		nanosleep(&(struct timespec) { 0, 50000000L }, NULL);
	}
	assert_true(atomic_load(&srv->active));
	int64_t epoch = srv->lease != NULL
	    ? raw_count("SELECT epoch FROM " FL_SQL_LEASE_TABLE " WHERE id = 1")
	    : 1;
	set_lease(epoch);
	coll_exporter_set_fence(srv->exporter, -1); // standby
	set_stored_received(500);                   // saved by the active
	assert_true(shows_received(srv, 500, 12));
	assert_int_equal(raw_count("SELECT value FROM counters WHERE name = 'reports_received'"),
	    500); // not overwritten by the standby

	set_stored_received(700); // the active's last save before it died
	coll_exporter_set_fence(srv->exporter, epoch);
	assert_true(shows_received(srv, 700, 12));

	set_lease(epoch + 1); // lost the lease: its saves are refused
	set_stored_received(900);
	nanosleep(&(struct timespec) { COLL_EXPORTER_SAVE_MS / 1000 + 1, 0 }, NULL); // a save tick
	assert_int_equal(
	    raw_count("SELECT value FROM counters WHERE name = 'reports_received'"), 900);
	coll_server_stop(srv);
	assert_int_equal(raw_count("SELECT value FROM counters WHERE name = 'reports_received'"),
	    900); // not at stop either
}

// ---- a lost connection (PostgreSQL) -------------------------------------------------------------

// Ends the one session named app_name (as a PostgreSQL restart or a cut does) and waits until
// the server has let it go.
static void
kill_session(const char *app_name)
{
	char sql[256];
	snprintf(sql, sizeof(sql),
	    "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
	    " WHERE application_name = '%s') t",
	    app_name);
	assert_int_equal(raw_count(sql), 1);
	snprintf(sql, sizeof(sql),
	    "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = '%s'", app_name);
	for (int i = 0; i < 100 && raw_count(sql) > 0; i++) {
		nanosleep(&(struct timespec) { 0, 50000000L }, NULL);
	}
	assert_int_equal(raw_count(sql), 0);
}

// The outbox's connection is killed (as a PostgreSQL restart or a cut does): the call that
// meets it fails with FL_SQL_EBROKEN and writes nothing; the next one connects again.
static void
test_lost_connection_reconnects(void **state)
{
	(void) state;
	fl_sql_opts   o  = opts();
	notify_store *st = NULL;
	notify_row    row;
	char          err[512];
	bool          dropped;

	o.app_name = "fl-notify-store-victim";
	if (notify_store_open(&o, "the victim outbox", &st, err, sizeof(err)) != 0) {
		fail_msg("cannot open the outbox: %s", err);
	}
	enqueue(st, "A", "firing", "a1");
	kill_session("fl-notify-store-victim");
	assert_int_equal(enqueue_rx(st, "ops", "B", "firing", "b1", &dropped), FL_SQL_EBROKEN);
	assert_int_equal(raw_count("SELECT COUNT(*) FROM notify_outbox"), 1);
	enqueue(st, "B", "firing", "b1"); // connected again
	assert_int_equal(notify_store_pending(st, "ops"), 2);
	assert_int_equal(notify_store_next(st, "ops", 10 * S, &row), 1);
	assert_string_equal(row.body, "a1");
	notify_row_free(&row);
	notify_store_close(st);
}

// The same for the durable counters and the mutes: the call that meets the loss fails with
// FL_SQL_EBROKEN, the next one works on the session sql.h connected again.
static void
test_counters_and_mutes_reconnect(void **state)
{
	(void) state;
	const char *const names[] = { "reports_received" };
	uint64_t          v[1]    = { 5 };
	fl_sql_opts       o       = opts();
	coll_counters    *c       = NULL;
	coll_mutes       *m       = NULL;
	coll_mute         list[2], x;
	char              err[512];

	o.app_name = "fl-counters-victim";
	if (coll_counters_open(&o, &c, err, sizeof(err)) != 0) {
		fail_msg("cannot open the counters: %s", err);
	}
	assert_int_equal(coll_counters_save(c, names, 1, v), FL_SQL_OK);
	kill_session("fl-counters-victim");
	v[0] = 6;
	assert_int_equal(coll_counters_save(c, names, 1, v), FL_SQL_EBROKEN);
	assert_int_equal(raw_count("SELECT value FROM counters"), 5);
	assert_int_equal(coll_counters_save(c, names, 1, v), FL_SQL_OK); // connected again
	v[0] = 0;
	assert_int_equal(coll_counters_load(c, names, 1, v), FL_SQL_OK);
	assert_int_equal(v[0], 6);
	coll_counters_close(c);

	o.app_name = "fl-mutes-victim";
	if (coll_mutes_open(&o, 10 * S, &m, err, sizeof(err)) != 0) {
		fail_msg("cannot open the mutes: %s", err);
	}
	kill_session("fl-mutes-victim");
	assert_int_equal(
	    coll_mutes_add(m, "h1", NULL, 60, "first try", 10 * S, &x, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "the state database cannot be reached"));
	assert_int_equal(
	    coll_mutes_add(m, "h1", NULL, 60, "again", 10 * S, &x, err, sizeof(err)), 0);
	assert_int_equal(raw_count("SELECT COUNT(*) FROM notify_mutes"), 1);
	assert_int_equal(coll_mutes_list(m, 11 * S, list, 2), 1);
	coll_mutes_close(m);
}

// ---- adopting a database written before sql.h ---------------------------------------------------

// The tables exactly as the collector before sql.h created them (notify_store.c,
// notify_mute.c and exporter.c on main before the port), with rows as it wrote them.
static const char before_sql_h[] =
    "CREATE TABLE IF NOT EXISTS notify_outbox ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, receiver TEXT NOT NULL, finding TEXT NOT NULL,"
    " event_id TEXT NOT NULL, status TEXT NOT NULL, body TEXT NOT NULL,"
    " created_us INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    " next_try_us INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS notify_outbox_by_finding ON notify_outbox (receiver, finding, "
    "seq);"
    "CREATE TABLE IF NOT EXISTS notify_firing ("
    " id TEXT PRIMARY KEY, fired_us INTEGER NOT NULL, finding BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS notify_counts ("
    " receiver TEXT NOT NULL, outcome TEXT NOT NULL, n INTEGER NOT NULL,"
    " PRIMARY KEY (receiver, outcome));"
    "CREATE TABLE IF NOT EXISTS notify_mutes ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, host TEXT NOT NULL, target TEXT NOT NULL,"
    " reason TEXT NOT NULL, created_us INTEGER NOT NULL, until_us INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "INSERT INTO notify_outbox (receiver, finding, event_id, status, body, created_us,"
    " attempts, next_try_us) VALUES ('ops', 'A', 'A-firing', 'firing', 'a1', 6000000, 2,"
    " 99000000);"
    "INSERT INTO notify_firing (id, fired_us, finding) VALUES ('A', 5000000, x'0803');"
    "INSERT INTO notify_counts (receiver, outcome, n) VALUES ('ops', 'sent', 4),"
    " ('ops', 'failed', 2);"
    "INSERT INTO notify_mutes (host, target, reason, created_us, until_us) VALUES"
    " ('app1', '', 'upgrade', 1000000, 9000000000);"
    "INSERT INTO counters (name, value) VALUES ('reports_received', 1234),"
    " ('verifications_failed', 3);";

// A database the collector wrote before sql.h opens with every row kept; the migrations
// record the "notify" and "counters" components at version 1, and new rows go on after the
// old ones.
static void
test_adopts_database_from_before(void **state)
{
	(void) state;
	fl_sql           *db = raw_open();
	notify_store     *st;
	coll_mutes       *m;
	coll_counters    *c;
	notify_row        row;
	coll_mute         list[2];
	int               firing  = 0;
	const char *const names[] = { "reports_received", "verifications_failed" };
	uint64_t          v[2];

	sqlt_exec(db, before_sql_h);
	fl_sql_close(db);

	st = store_open();
	assert_int_equal(notify_store_pending(st, "ops"), 1);
	assert_int_equal(notify_store_count(st, "ops", "sent"), 4);
	assert_int_equal(notify_store_count(st, "ops", "failed"), 2);
	assert_int_equal(notify_store_firing(st, count_firing, &firing), 0);
	assert_int_equal(firing, 1);
	assert_int_equal(notify_store_all_due(st), 0);
	assert_int_equal(notify_store_next(st, "ops", 10 * S, &row), 1);
	assert_string_equal(row.event_id, "A-firing");
	assert_int_equal(row.attempts, 2);
	assert_int_equal(notify_store_sent(st, &row), 0);
	notify_row_free(&row);
	enqueue(st, "B", "firing", "b1");
	assert_int_equal(notify_store_next(st, "ops", 10 * S, &row), 1);
	assert_true(row.seq > 1);
	notify_row_free(&row);
	notify_store_close(st);

	m = mutes_open(2 * S);
	assert_int_equal(coll_mutes_list(m, 2 * S, list, 2), 1);
	assert_string_equal(list[0].host, "app1");
	assert_int_equal(list[0].id, 1);
	coll_mutes_close(m);

	c = counters_open();
	assert_int_equal(coll_counters_load(c, names, 2, v), FL_SQL_OK);
	assert_int_equal(v[0], 1234);
	assert_int_equal(v[1], 3);
	coll_counters_close(c);

	assert_int_equal(raw_count("SELECT version FROM fl_schema WHERE component = 'notify'"), 1);
	assert_int_equal(
	    raw_count("SELECT version FROM fl_schema WHERE component = 'counters'"), 1);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest pg_tests[] = {
		cmocka_unit_test_setup(test_lost_connection_reconnects, setup),
		cmocka_unit_test_setup(test_counters_and_mutes_reconnect, setup),
	};
	const struct CMUnitTest lite_tests[] = {
		cmocka_unit_test_setup(test_adopts_database_from_before, setup),
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_outbox_order_retry_and_reopen, setup),
		cmocka_unit_test_setup(test_outbox_bounded, setup),
		cmocka_unit_test_setup(test_requeue_once, setup),
		cmocka_unit_test_setup(test_forget_receivers, setup),
		cmocka_unit_test_setup(test_mutes_persist_and_reload, setup),
		cmocka_unit_test_setup(test_counters_roundtrip, setup),
		cmocka_unit_test_setup(test_fenced_writes_refused, setup),
		cmocka_unit_test_setup(test_sender_stops_when_fenced, setup),
		cmocka_unit_test_setup(test_exporter_counters_follow_the_lease, setup),
	};
	int rc;

	sqlt_choose(argc, argv, "notify-store-test");
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (sqlt_pg) {
		rc |= cmocka_run_group_tests(pg_tests, NULL, NULL);
	} else {
		rc |= cmocka_run_group_tests(lite_tests, NULL, NULL);
		sqlt_remove_lite();
	}
	return rc;
}
