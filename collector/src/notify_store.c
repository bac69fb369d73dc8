// notify_store.c - see notify_store.h. Notifications are rare (a few per incident), so
// statements are prepared per call rather than cached.

#include "notify_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "fl/log.h"
#include "fl/str.h"

struct notify_store {
	sqlite3 *db;
};

static const char schema[] =
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
    " reason TEXT NOT NULL, created_us INTEGER NOT NULL, until_us INTEGER NOT NULL);";

int
notify_store_open(const char *path, notify_store **out, char *err, size_t errlen)
{
	notify_store *st   = calloc(1, sizeof(*st));
	char         *emsg = NULL;

	if (st == NULL) {
		snprintf(err, errlen, "cannot open %s: out of memory", path);
		return -1;
	}
	if (sqlite3_open_v2(path, &st->db,
	        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	        NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s: %s", path,
		    st->db ? sqlite3_errmsg(st->db) : "out of memory");
		sqlite3_close(st->db);
		free(st);
		return -1;
	}
	// The state writer commits often; wait for it rather than fail.
	sqlite3_busy_timeout(st->db, 5000);
	if (sqlite3_exec(st->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL,
	        &emsg) != SQLITE_OK ||
	    sqlite3_exec(st->db, schema, NULL, NULL, &emsg) != SQLITE_OK) {
		snprintf(
		    err, errlen, "cannot set up notifications in %s: %s", path, emsg ? emsg : "?");
		sqlite3_free(emsg);
		sqlite3_close(st->db);
		free(st);
		return -1;
	}
	*out = st;
	return 0;
}

void
notify_store_close(notify_store *st)
{
	if (st == NULL) {
		return;
	}
	sqlite3_close(st->db);
	free(st);
}

void
notify_row_free(notify_row *r)
{
	if (r == NULL) {
		return;
	}
	free(r->receiver);
	free(r->finding);
	free(r->event_id);
	free(r->status);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static sqlite3_stmt *
prep(notify_store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		fl_log(
		    FL_LOG_ERR, "notify", "cannot prepare a statement: %s", sqlite3_errmsg(st->db));
		return NULL;
	}
	return s;
}

// Runs sql (no result rows) with up to two text and two integer parameters bound as ?1..?4
// (NULL text: not bound; binding a number the statement lacks is a harmless SQLITE_RANGE).
// Returns 0 or -1 (logged).
static int
run(notify_store *st, const char *sql, const char *t1, const char *t2, int64_t i3, int64_t i4)
{
	sqlite3_stmt *s = prep(st, sql);
	int           rc;
	if (s == NULL) {
		return -1;
	}
	if (t1 != NULL) {
		sqlite3_bind_text(s, 1, t1, -1, SQLITE_STATIC);
	}
	if (t2 != NULL) {
		sqlite3_bind_text(s, 2, t2, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(s, 3, i3);
	sqlite3_bind_int64(s, 4, i4);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		fl_log(FL_LOG_ERR, "notify", "cannot write the outbox: %s", sqlite3_errmsg(st->db));
		return -1;
	}
	return 0;
}

static int
count(notify_store *st, const char *receiver, const char *outcome)
{
	return run(st,
	    "INSERT INTO notify_counts (receiver, outcome, n) VALUES (?1, ?2, 1)"
	    " ON CONFLICT (receiver, outcome) DO UPDATE SET n = n + 1",
	    receiver, outcome, 0, 0);
}

static int
begin(notify_store *st)
{
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		fl_log(FL_LOG_ERR, "notify", "cannot write the outbox: %s", sqlite3_errmsg(st->db));
		return -1;
	}
	return 0;
}

static int
commit(notify_store *st, int ok)
{
	if (ok != 0) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		fl_log(
		    FL_LOG_ERR, "notify", "cannot commit the outbox: %s", sqlite3_errmsg(st->db));
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

long
notify_store_pending(notify_store *st, const char *receiver)
{
	return notify_store_count_rows(st, receiver, false);
}

long
notify_store_count_rows(notify_store *st, const char *receiver, bool tried_only)
{
	sqlite3_stmt *s = prep(st,
	    tried_only ? "SELECT COUNT(*) FROM notify_outbox WHERE receiver = ?1 AND attempts > 0"
	               : "SELECT COUNT(*) FROM notify_outbox WHERE receiver = ?1");
	long          n = -1;
	if (s == NULL) {
		return -1;
	}
	sqlite3_bind_text(s, 1, receiver, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		n = (long) sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	return n;
}

static int
insert_row(notify_store *st, const notify_enqueue *q, size_t i)
{
	sqlite3_stmt *s = prep(st,
	    "INSERT INTO notify_outbox (receiver, finding, event_id, status, body, created_us)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	int           rc;
	if (s == NULL) {
		return -1;
	}
	sqlite3_bind_text(s, 1, q->receivers[i], -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, q->finding, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, q->event_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, q->status, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, q->bodies[i], -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, q->now_us);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
set_firing(notify_store *st, const notify_enqueue *q)
{
	if (strcmp(q->status, "firing") != 0) {
		return run(st, "DELETE FROM notify_firing WHERE id = ?1", q->finding, NULL, 0, 0);
	}
	sqlite3_stmt *s = prep(st,
	    "INSERT INTO notify_firing (id, fired_us, finding) VALUES (?1, ?2, ?3)"
	    " ON CONFLICT (id) DO UPDATE SET fired_us = ?2, finding = ?3");
	int           rc;
	if (s == NULL) {
		return -1;
	}
	sqlite3_bind_text(s, 1, q->finding, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, q->fired_us);
	sqlite3_bind_blob(s, 3, q->packed, (int) q->packed_len, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
notify_store_enqueue(notify_store *st, const notify_enqueue *q)
{
	int bad = 0;
	if (begin(st) != 0) {
		return -1;
	}
	for (size_t i = 0; i < q->n_receivers && bad == 0; i++) {
		long n        = notify_store_pending(st, q->receivers[i]);
		q->dropped[i] = n >= NOTIFY_OUTBOX_MAX;
		if (n < 0) {
			bad = -1;
		} else if (q->dropped[i]) {
			bad = count(st, q->receivers[i], "dropped");
		} else {
			bad = insert_row(st, q, i);
		}
	}
	if (bad == 0) {
		bad = set_firing(st, q);
	}
	return commit(st, bad);
}

int
notify_store_requeue(notify_store *st, const char *receiver, const char *finding,
    const char *event_id, const char *body, int64_t now_us)
{
	sqlite3_stmt *s = prep(st,
	    "INSERT INTO notify_outbox (receiver, finding, event_id, status, body, created_us)"
	    " SELECT ?1, ?2, ?3, 'firing', ?4, ?5 WHERE NOT EXISTS (SELECT 1 FROM notify_outbox"
	    " WHERE receiver = ?1 AND finding = ?2)");
	int           rc;
	if (s == NULL) {
		return -1;
	}
	sqlite3_bind_text(s, 1, receiver, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, finding, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, event_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, body, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, now_us);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		fl_log(FL_LOG_ERR, "notify", "cannot write the outbox: %s", sqlite3_errmsg(st->db));
		return -1;
	}
	return sqlite3_changes(st->db) > 0 ? 1 : 0;
}

static char *
col_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return fl_str_dup((const char *) t);
}

int
notify_store_next(notify_store *st, const char *receiver, int64_t now_us, notify_row *row)
{
	// A finding's first row only: its later notifications wait for it (in order per finding).
	sqlite3_stmt *s  = prep(st,
	     "SELECT seq, finding, event_id, status, body, attempts FROM notify_outbox o"
	      " WHERE receiver = ?1 AND next_try_us <= ?2 AND seq = (SELECT MIN(seq) FROM "
	      "notify_outbox"
	      " WHERE receiver = o.receiver AND finding = o.finding) ORDER BY seq LIMIT 1");
	int           rv = 0;
	if (s == NULL) {
		return -1;
	}
	sqlite3_bind_text(s, 1, receiver, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now_us);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		memset(row, 0, sizeof(*row));
		row->seq      = sqlite3_column_int64(s, 0);
		row->receiver = strdup(receiver);
		row->finding  = col_dup(s, 1);
		row->event_id = col_dup(s, 2);
		row->status   = col_dup(s, 3);
		row->body     = col_dup(s, 4);
		row->attempts = (uint32_t) sqlite3_column_int64(s, 5);
		rv            = 1;
		if (row->receiver == NULL || row->finding == NULL || row->event_id == NULL ||
		    row->status == NULL || row->body == NULL) {
			notify_row_free(row);
			rv = -1;
		}
	} else if (rc != SQLITE_DONE) {
		fl_log(FL_LOG_ERR, "notify", "cannot read the outbox: %s", sqlite3_errmsg(st->db));
		rv = -1;
	}
	sqlite3_finalize(s);
	return rv;
}

int
notify_store_sent(notify_store *st, const notify_row *row)
{
	int bad;
	if (begin(st) != 0) {
		return -1;
	}
	bad = run(st, "DELETE FROM notify_outbox WHERE seq = ?3", NULL, NULL, row->seq, 0);
	if (bad == 0) {
		bad = count(st, row->receiver, "sent");
	}
	if (bad == 0 && row->attempts > 0) {
		bad = count(st, row->receiver, "retried");
	}
	return commit(st, bad);
}

int
notify_store_failed(notify_store *st, const notify_row *row, int64_t next_us)
{
	int bad;
	if (begin(st) != 0) {
		return -1;
	}
	bad = run(st,
	    "UPDATE notify_outbox SET attempts = attempts + 1, next_try_us = ?4 WHERE seq = ?3",
	    NULL, NULL, row->seq, next_us);
	if (bad == 0) {
		bad = count(st, row->receiver, "failed");
	}
	return commit(st, bad);
}

int
notify_store_forget_receivers(notify_store *st, const char *const *names, size_t n)
{
	sqlite3_stmt *s =
	    prep(st, "SELECT receiver, COUNT(*) FROM notify_outbox GROUP BY receiver");
	char   gone[16][128];
	size_t n_gone = 0;
	int    rc;

	if (s == NULL) {
		return -1;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *r     = (const char *) sqlite3_column_text(s, 0);
		bool        known = false;
		for (size_t i = 0; i < n && r != NULL; i++) {
			known = known || strcmp(names[i], r) == 0;
		}
		if (r != NULL && !known && n_gone < 16 && strlen(r) < sizeof(gone[0])) {
			fl_log(FL_LOG_WARN, "notify",
			    "dropping %lld notifications for %s: no longer configured",
			    (long long) sqlite3_column_int64(s, 1), r);
			snprintf(gone[n_gone++], sizeof(gone[0]), "%s", r);
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		return -1;
	}
	for (size_t i = 0; i < n_gone; i++) {
		if (run(st, "DELETE FROM notify_outbox WHERE receiver = ?1", gone[i], NULL, 0, 0) !=
		    0) {
			return -1;
		}
	}
	return 0;
}

int
notify_store_all_due(notify_store *st)
{
	return run(st, "UPDATE notify_outbox SET next_try_us = 0", NULL, NULL, 0, 0);
}

uint64_t
notify_store_count(notify_store *st, const char *receiver, const char *outcome)
{
	sqlite3_stmt *s =
	    prep(st, "SELECT n FROM notify_counts WHERE receiver = ?1 AND outcome = ?2");
	uint64_t n = 0;
	if (s == NULL) {
		return 0;
	}
	sqlite3_bind_text(s, 1, receiver, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, outcome, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		n = (uint64_t) sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	return n;
}

int
notify_store_firing(notify_store *st,
    int (*fn)(void *arg, const char *id, const uint8_t *packed, size_t len, int64_t fired_us),
    void *arg)
{
	sqlite3_stmt *s =
	    prep(st, "SELECT id, fired_us, finding FROM notify_firing ORDER BY fired_us");
	int rv = 0, rc;
	if (s == NULL) {
		return -1;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char    *id  = (const char *) sqlite3_column_text(s, 0);
		const uint8_t *b   = sqlite3_column_blob(s, 2);
		size_t         len = (size_t) sqlite3_column_bytes(s, 2);
		if (fn(arg, fl_str_or_empty(id), b, len, sqlite3_column_int64(s, 1)) != 0) {
			rv = -1;
			break;
		}
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		rv = -1;
	}
	sqlite3_finalize(s);
	return rv;
}
