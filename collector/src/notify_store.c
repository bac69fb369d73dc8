// notify_store.c - see notify_store.h. Notifications are rare (a few per incident), so
// statements are prepared per call rather than cached: nothing to prepare again after a lost
// connection is opened anew.

#include "notify_store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl/log.h"
#include "fl/str.h"
#include "notify_db.h"

struct notify_store {
	notify_db d;
};

int
notify_store_open(
    const fl_sql_opts *o, const char *who, notify_store **out, char *err, size_t errlen)
{
	notify_store *st = calloc(1, sizeof(*st));

	if (st == NULL) {
		snprintf(err, errlen, "cannot open the notification outbox: out of memory");
		return -1;
	}
	if (notify_db_open(&st->d, o, who, err, errlen) != 0) {
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
	notify_db_close(&st->d);
	free(st);
}

void
notify_store_set_fence(notify_store *st, int64_t epoch)
{
	if (st->d.fence != (epoch > 0 ? epoch : 0)) {
		notify_db_set_fence(&st->d, epoch);
	}
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

// Prepares sql and binds $1..$n from ap, by the letters of types: 't' a const char *, 'i' an
// int64_t, 'b' a const void * then a size_t. On failure *out is NULL and the failure (logged,
// noted) is returned.
static int
prep_v(notify_store *st, fl_sql_stmt **out, const char *sql, const char *types, va_list ap)
{
	fl_sql *db = notify_db_conn(&st->d);
	int     rc;

	*out = NULL;
	if ((rc = fl_sql_prepare(db, sql, out)) != FL_SQL_OK) {
		fl_log(FL_LOG_ERR, "notify", "cannot prepare a statement: %s", fl_sql_errmsg(db));
		*out = NULL;
		return notify_db_note(&st->d, rc);
	}
	for (int i = 0; types[i] != '\0' && rc == FL_SQL_OK; i++) {
		if (types[i] == 't') {
			rc = fl_sql_bind_text(*out, i + 1, va_arg(ap, const char *));
		} else if (types[i] == 'i') {
			rc = fl_sql_bind_int64(*out, i + 1, va_arg(ap, int64_t));
		} else {
			const void *p = va_arg(ap, const void *);
			rc            = fl_sql_bind_blob(*out, i + 1, p, va_arg(ap, size_t));
		}
	}
	if (rc != FL_SQL_OK) {
		fl_log(FL_LOG_ERR, "notify", "cannot bind a parameter: %s", fl_sql_errmsg(db));
		fl_sql_finalize(*out);
		*out = NULL;
	}
	return rc;
}

static int
prep(notify_store *st, fl_sql_stmt **out, const char *sql, const char *types, ...)
{
	va_list ap;
	int     rc;
	va_start(ap, types);
	rc = prep_v(st, out, sql, types, ap);
	va_end(ap);
	return rc;
}

// Runs s to its end and finalizes it. Returns the rows it changed (>= 0) or the failure
// (logged unless it is the fence or a lost connection; noted).
static int64_t
run(notify_store *st, fl_sql_stmt *s)
{
	int     rc;
	int64_t n;

	while ((rc = fl_sql_step(s)) == FL_SQL_ROW) {
	}
	n = fl_sql_changes(s);
	fl_sql_finalize(s);
	if (rc != FL_SQL_DONE) {
		if (rc != FL_SQL_EBROKEN && rc != FL_SQL_EFENCED) {
			fl_log(FL_LOG_ERR, "notify", "cannot write the outbox: %s",
			    fl_sql_errmsg(st->d.db));
		}
		return notify_db_note(&st->d, rc);
	}
	return n;
}

// prep and run: the rows changed (>= 0) or the failure.
static int64_t
exec_sql(notify_store *st, const char *sql, const char *types, ...)
{
	fl_sql_stmt *s;
	va_list      ap;
	int          rc;
	va_start(ap, types);
	rc = prep_v(st, &s, sql, types, ap);
	va_end(ap);
	return rc != FL_SQL_OK ? rc : run(st, s);
}

// FL_SQL_OK when exec_sql's result n is a success, else the failure.
static int
ok(int64_t n)
{
	return n >= 0 ? FL_SQL_OK : (int) n;
}

static int
count(notify_store *st, const char *receiver, const char *outcome)
{
	return ok(exec_sql(st,
	    "INSERT INTO notify_counts (receiver, outcome, n) VALUES ($1, $2, 1)"
	    " ON CONFLICT (receiver, outcome) DO UPDATE SET n = notify_counts.n + 1",
	    "tt", receiver, outcome));
}

// The first column of a one-row query, -1 on failure.
static long
count_query(notify_store *st, fl_sql_stmt *s)
{
	long n  = -1;
	int  rc = fl_sql_step(s);
	if (rc == FL_SQL_ROW) {
		n = (long) fl_sql_column_int64(s, 0);
	} else {
		notify_db_note(&st->d, rc);
	}
	fl_sql_finalize(s);
	return n;
}

long
notify_store_pending(notify_store *st, const char *receiver)
{
	return notify_store_count_rows(st, receiver, false);
}

long
notify_store_count_rows(notify_store *st, const char *receiver, bool tried_only)
{
	fl_sql_stmt *s;
	if (prep(st, &s,
	        tried_only
	            ? "SELECT COUNT(*) FROM notify_outbox WHERE receiver = $1 AND attempts > 0"
	            : "SELECT COUNT(*) FROM notify_outbox WHERE receiver = $1",
	        "t", receiver) != FL_SQL_OK) {
		return -1;
	}
	return count_query(st, s);
}

static int
insert_row(notify_store *st, const notify_enqueue *q, size_t i)
{
	return ok(exec_sql(st,
	    "INSERT INTO notify_outbox (receiver, finding, event_id, status, body, created_us)"
	    " VALUES ($1, $2, $3, $4, $5, $6)",
	    "ttttti", q->receivers[i], q->finding, q->event_id, q->status, q->bodies[i],
	    q->now_us));
}

static int
set_firing(notify_store *st, const notify_enqueue *q)
{
	if (strcmp(q->status, "firing") != 0) {
		return ok(exec_sql(st, "DELETE FROM notify_firing WHERE id = $1", "t", q->finding));
	}
	return ok(exec_sql(st,
	    "INSERT INTO notify_firing (id, fired_us, finding) VALUES ($1, $2, $3)"
	    " ON CONFLICT (id) DO UPDATE SET fired_us = excluded.fired_us,"
	    " finding = excluded.finding",
	    "tib", q->finding, q->fired_us, (const void *) q->packed, q->packed_len));
}

int
notify_store_enqueue(notify_store *st, const notify_enqueue *q)
{
	int rc = notify_db_begin(&st->d);
	for (size_t i = 0; i < q->n_receivers && rc == FL_SQL_OK; i++) {
		long n        = notify_store_pending(st, q->receivers[i]);
		q->dropped[i] = n >= NOTIFY_OUTBOX_MAX;
		if (n < 0) {
			rc = st->d.state == FL_SQL_EBROKEN ? FL_SQL_EBROKEN : FL_SQL_ERROR; // noted
		} else if (q->dropped[i]) {
			rc = count(st, q->receivers[i], "dropped");
		} else {
			rc = insert_row(st, q, i);
		}
	}
	if (rc == FL_SQL_OK) {
		rc = set_firing(st, q);
	}
	return notify_db_end(&st->d, rc);
}

int
notify_store_requeue(notify_store *st, const char *receiver, const char *finding,
    const char *event_id, const char *body, int64_t now_us)
{
	// Typed parameters: PostgreSQL infers a select list's $n as text otherwise.
	int64_t n  = 0;
	int     rc = notify_db_begin(&st->d);
	if (rc == FL_SQL_OK) {
		n  = exec_sql(st,
		     "INSERT INTO notify_outbox (receiver, finding, event_id, status, body, "
		      "created_us)"
		      " SELECT CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS TEXT), 'firing',"
		      " CAST($4 AS TEXT), CAST($5 AS BIGINT) WHERE NOT EXISTS (SELECT 1 FROM"
		      " notify_outbox WHERE receiver = $1 AND finding = $2)",
		     "tttti", receiver, finding, event_id, body, now_us);
		rc = ok(n);
	}
	rc = notify_db_end(&st->d, rc);
	return rc != FL_SQL_OK ? rc : n > 0 ? 1 : 0;
}

static char *
col_dup(fl_sql_stmt *s, int i)
{
	return fl_str_dup(fl_sql_column_text(s, i));
}

static int
read_row(fl_sql_stmt *s, const char *receiver, notify_row *row)
{
	memset(row, 0, sizeof(*row));
	row->seq      = fl_sql_column_int64(s, 0);
	row->receiver = fl_str_dup(receiver);
	row->finding  = col_dup(s, 1);
	row->event_id = col_dup(s, 2);
	row->status   = col_dup(s, 3);
	row->body     = col_dup(s, 4);
	row->attempts = (uint32_t) fl_sql_column_int64(s, 5);
	if (row->receiver == NULL || row->finding == NULL || row->event_id == NULL ||
	    row->status == NULL || row->body == NULL) {
		notify_row_free(row);
		return FL_SQL_ERROR;
	}
	return 1;
}

int
notify_store_next(notify_store *st, const char *receiver, int64_t now_us, notify_row *row)
{
	fl_sql_stmt *s;
	// Fenced (a shared store): the row is read in a transaction that checks the lease, so a
	// collector that lost it hands out nothing more to send.
	bool fenced = notify_db_fenced(&st->d);
	int  rc     = fenced ? notify_db_begin(&st->d) : FL_SQL_OK;

	if (rc == FL_SQL_OK) {
		// A finding's first row only: its later notifications wait for it (in order per
		// finding).
		rc = prep(st, &s,
		    "SELECT seq, finding, event_id, status, body, attempts FROM notify_outbox o"
		    " WHERE receiver = $1 AND next_try_us <= $2 AND seq = (SELECT MIN(seq) FROM"
		    " notify_outbox WHERE receiver = o.receiver AND finding = o.finding)"
		    " ORDER BY seq LIMIT 1",
		    "ti", receiver, now_us);
	}
	if (rc == FL_SQL_OK) {
		rc = fl_sql_step(s);
		if (rc == FL_SQL_ROW) {
			rc = read_row(s, receiver, row);
		} else if (rc == FL_SQL_DONE) {
			rc = 0;
		} else if (rc != FL_SQL_EBROKEN) {
			fl_log(FL_LOG_ERR, "notify", "cannot read the outbox: %s",
			    fl_sql_errmsg(st->d.db));
		}
		fl_sql_finalize(s);
	}
	if (fenced) {
		int end = notify_db_end(&st->d, rc);
		if (end != FL_SQL_OK && rc == 1) {
			notify_row_free(row);
		}
		return end != FL_SQL_OK ? end : rc;
	}
	return rc < 0 ? notify_db_note(&st->d, rc) : (notify_db_note(&st->d, FL_SQL_OK), rc);
}

int
notify_store_sent(notify_store *st, const notify_row *row)
{
	int rc = notify_db_begin(&st->d);
	if (rc == FL_SQL_OK) {
		rc = ok(exec_sql(st, "DELETE FROM notify_outbox WHERE seq = $1", "i", row->seq));
	}
	if (rc == FL_SQL_OK) {
		rc = count(st, row->receiver, "sent");
	}
	if (rc == FL_SQL_OK && row->attempts > 0) {
		rc = count(st, row->receiver, "retried");
	}
	return notify_db_end(&st->d, rc);
}

int
notify_store_failed(notify_store *st, const notify_row *row, int64_t next_us)
{
	int rc = notify_db_begin(&st->d);
	if (rc == FL_SQL_OK) {
		rc = ok(exec_sql(st,
		    "UPDATE notify_outbox SET attempts = attempts + 1, next_try_us = $2 WHERE seq "
		    "= $1",
		    "ii", row->seq, next_us));
	}
	if (rc == FL_SQL_OK) {
		rc = count(st, row->receiver, "failed");
	}
	return notify_db_end(&st->d, rc);
}

// The receivers of the outbox not among names[0..n), at most 16 (logged with their rows) into
// gone. Returns how many, or the failure.
static int
unknown_receivers(notify_store *st, const char *const *names, size_t n, char gone[16][128])
{
	fl_sql_stmt *s;
	int          n_gone = 0;
	int rc = prep(st, &s, "SELECT receiver, COUNT(*) FROM notify_outbox GROUP BY receiver", "");

	if (rc != FL_SQL_OK) {
		return rc;
	}
	while ((rc = fl_sql_step(s)) == FL_SQL_ROW) {
		const char *r     = fl_sql_column_text(s, 0);
		bool        known = false;
		for (size_t i = 0; i < n; i++) {
			known = known || strcmp(names[i], r) == 0;
		}
		if (!known && n_gone < 16 && strlen(r) < 128) {
			fl_log(FL_LOG_WARN, "notify",
			    "dropping %lld notifications for %s: no longer configured",
			    (long long) fl_sql_column_int64(s, 1), r);
			snprintf(gone[n_gone++], 128, "%s", r);
		}
	}
	fl_sql_finalize(s);
	return rc == FL_SQL_DONE ? n_gone : notify_db_note(&st->d, rc);
}

int
notify_store_forget_receivers(notify_store *st, const char *const *names, size_t n)
{
	char gone[16][128];
	int  rc = notify_db_begin(&st->d);
	int  n_gone;

	if (rc == FL_SQL_OK) {
		n_gone = unknown_receivers(st, names, n, gone);
		rc     = n_gone < 0 ? n_gone : FL_SQL_OK;
		for (int i = 0; i < n_gone && rc == FL_SQL_OK; i++) {
			rc = ok(exec_sql(
			    st, "DELETE FROM notify_outbox WHERE receiver = $1", "t", gone[i]));
		}
	}
	return notify_db_end(&st->d, rc);
}

int
notify_store_all_due(notify_store *st)
{
	int rc = notify_db_begin(&st->d);
	if (rc == FL_SQL_OK) {
		rc = ok(exec_sql(st, "UPDATE notify_outbox SET next_try_us = 0", ""));
	}
	return notify_db_end(&st->d, rc);
}

uint64_t
notify_store_count(notify_store *st, const char *receiver, const char *outcome)
{
	fl_sql_stmt *s;
	uint64_t     n = 0;
	int          rc;
	if (prep(st, &s, "SELECT n FROM notify_counts WHERE receiver = $1 AND outcome = $2", "tt",
	        receiver, outcome) != FL_SQL_OK) {
		return 0;
	}
	if ((rc = fl_sql_step(s)) == FL_SQL_ROW) {
		n = (uint64_t) fl_sql_column_int64(s, 0);
	} else if (rc != FL_SQL_DONE) {
		notify_db_note(&st->d, rc);
	}
	fl_sql_finalize(s);
	return n;
}

int
notify_store_firing(notify_store *st,
    int (*fn)(void *arg, const char *id, const uint8_t *packed, size_t len, int64_t fired_us),
    void *arg)
{
	fl_sql_stmt *s;
	int          rv = 0, rc;
	if (prep(st, &s, "SELECT id, fired_us, finding FROM notify_firing ORDER BY fired_us", "") !=
	    FL_SQL_OK) {
		return -1;
	}
	while ((rc = fl_sql_step(s)) == FL_SQL_ROW) {
		size_t         len = 0;
		const uint8_t *b   = fl_sql_column_blob(s, 2, &len);
		if (fn(arg, fl_sql_column_text(s, 0), b, len, fl_sql_column_int64(s, 1)) != 0) {
			rv = -1;
			break;
		}
	}
	if (rc != FL_SQL_ROW && rc != FL_SQL_DONE) {
		notify_db_note(&st->d, rc);
		rv = -1;
	}
	fl_sql_finalize(s);
	return rv;
}
