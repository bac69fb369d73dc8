// store.c - see store.h.

#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "fl/json.h"
#include "fl/log.h"
#include "fl/names.h"
#include "fl/str.h"

struct coll_store {
	sqlite3      *db;
	sqlite3_stmt *begin, *commit, *rollback;
	sqlite3_stmt *up_host, *up_seen, *up_latest, *ins_event;
	sqlite3_stmt *del_host, *del_latest; // forget
	sqlite3_stmt *q_history, *q_history_hosts;
	sqlite3_stmt *del_probe; // a probe gone from the agent's config
};

// Text names, not enum numbers, for status/failure: an operator reading the file with sqlite3
// sees "fail"/"refused", and the names are already a stable public contract (names.h).
static const char schema[] =
    "CREATE TABLE IF NOT EXISTS hosts ("
    " host TEXT PRIMARY KEY, release TEXT NOT NULL DEFAULT '',"
    " previous_release TEXT NOT NULL DEFAULT '', release_since INTEGER NOT NULL DEFAULT 0,"
    " first_seen INTEGER NOT NULL DEFAULT 0, last_seen INTEGER NOT NULL DEFAULT 0,"
    " interval_ms INTEGER NOT NULL DEFAULT 0, agent_version TEXT NOT NULL DEFAULT '',"
    " boot_id INTEGER NOT NULL DEFAULT 0, last_seq INTEGER NOT NULL DEFAULT 0,"
    " clock_skew INTEGER NOT NULL DEFAULT 0, labels TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE IF NOT EXISTS latest ("
    " host TEXT NOT NULL, probe TEXT NOT NULL, result BLOB, status TEXT NOT NULL,"
    " failure TEXT NOT NULL, since INTEGER NOT NULL, PRIMARY KEY (host, probe));"
    "CREATE TABLE IF NOT EXISTS history ("
    " id INTEGER PRIMARY KEY, at_us INTEGER NOT NULL, host TEXT NOT NULL DEFAULT '',"
    " kind TEXT NOT NULL, probe TEXT NOT NULL DEFAULT '', \"from\" TEXT NOT NULL DEFAULT '',"
    " \"to\" TEXT NOT NULL DEFAULT '', failure TEXT NOT NULL DEFAULT 'none',"
    " detail TEXT NOT NULL DEFAULT '', agent_time_us INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS history_at ON history (at_us);"
    "CREATE INDEX IF NOT EXISTS history_host_at ON history (host, at_us);";

// ---- ops -------------------------------------------------------------------------------------

void
coll_ops_init(coll_ops *ops)
{
	memset(ops, 0, sizeof(*ops));
}

static void
op_free(coll_op *op)
{
	switch (op->kind) {
	case COLL_OP_HOST:
	case COLL_OP_SEEN:
	case COLL_OP_FORGET:
		free((char *) op->u.host.host);
		free((char *) op->u.host.release);
		free((char *) op->u.host.previous_release);
		free((char *) op->u.host.agent_version);
		free((char *) op->u.host.labels);
		break;
	case COLL_OP_LATEST:
	case COLL_OP_DROP_LATEST:
		free((char *) op->u.latest.host);
		free((char *) op->u.latest.probe);
		free((uint8_t *) op->u.latest.result);
		break;
	case COLL_OP_EVENT:
		free((char *) op->u.event.host);
		free((char *) op->u.event.probe);
		free((char *) op->u.event.from);
		free((char *) op->u.event.to);
		free((char *) op->u.event.detail);
		break;
	}
}

void
coll_ops_clear(coll_ops *ops)
{
	coll_ops_truncate(ops, 0);
}

void
coll_ops_truncate(coll_ops *ops, size_t n)
{
	while (ops->n > n) {
		op_free(&ops->v[--ops->n]);
	}
}

void
coll_ops_fini(coll_ops *ops)
{
	coll_ops_clear(ops);
	free(ops->v);
	coll_ops_init(ops);
}

int
coll_ops_move(coll_ops *dst, coll_ops *src)
{
	if (src->n == 0) {
		return 0;
	}
	if (dst->n + src->n > dst->cap) {
		size_t   cap = dst->n + src->n + 64;
		coll_op *v   = realloc(dst->v, cap * sizeof(*v));
		if (v == NULL) {
			return -1;
		}
		dst->v   = v;
		dst->cap = cap;
	}
	memcpy(&dst->v[dst->n], src->v, src->n * sizeof(*src->v));
	dst->n += src->n;
	src->n = 0; // the copies now belong to dst
	return 0;
}

static coll_op *
op_push(coll_ops *ops, coll_op_kind kind)
{
	if (ops->n == ops->cap) {
		size_t   cap = ops->cap ? ops->cap * 2 : 64;
		coll_op *v   = realloc(ops->v, cap * sizeof(*v));
		if (v == NULL) {
			return NULL;
		}
		ops->v   = v;
		ops->cap = cap;
	}
	coll_op *op = &ops->v[ops->n];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	return op;
}

// strdup of NULL is "" so rows never carry NULL text; *bad is set on allocation failure.
static char *
dup(const char *s, int *bad)
{
	char *d = fl_str_dup(s);
	if (d == NULL) {
		*bad = 1;
	}
	return d;
}

int
coll_ops_host(coll_ops *ops, coll_op_kind kind, const coll_host_row *row)
{
	coll_op *op  = op_push(ops, kind);
	int      bad = 0;
	if (op == NULL) {
		return -1;
	}
	op->u.host                  = *row;
	op->u.host.host             = dup(row->host, &bad);
	op->u.host.release          = dup(row->release, &bad);
	op->u.host.previous_release = dup(row->previous_release, &bad);
	op->u.host.agent_version    = dup(row->agent_version, &bad);
	op->u.host.labels           = dup(row->labels, &bad);
	if (bad) {
		op_free(op);
		return -1;
	}
	ops->n++;
	return 0;
}

int
coll_ops_latest(coll_ops *ops, const coll_latest_row *row)
{
	coll_op *op  = op_push(ops, COLL_OP_LATEST);
	int      bad = 0;
	uint8_t *blob;
	if (op == NULL) {
		return -1;
	}
	op->u.latest       = *row;
	op->u.latest.host  = dup(row->host, &bad);
	op->u.latest.probe = dup(row->probe, &bad);
	blob               = malloc(row->result_len ? row->result_len : 1);
	if (blob == NULL) {
		bad = 1;
	} else if (row->result_len > 0) {
		memcpy(blob, row->result, row->result_len);
	}
	op->u.latest.result = blob;
	if (bad) {
		op_free(op);
		return -1;
	}
	ops->n++;
	return 0;
}

int
coll_ops_event(coll_ops *ops, const coll_event *ev)
{
	coll_op *op  = op_push(ops, COLL_OP_EVENT);
	int      bad = 0;
	if (op == NULL) {
		return -1;
	}
	op->u.event        = *ev;
	op->u.event.host   = dup(ev->host, &bad);
	op->u.event.probe  = dup(ev->probe, &bad);
	op->u.event.from   = dup(ev->from, &bad);
	op->u.event.to     = dup(ev->to, &bad);
	op->u.event.detail = dup(ev->detail, &bad);
	if (bad) {
		op_free(op);
		return -1;
	}
	ops->n++;
	return 0;
}

int
coll_ops_drop_latest(coll_ops *ops, const char *host, const char *probe)
{
	coll_op *op  = op_push(ops, COLL_OP_DROP_LATEST);
	int      bad = 0;
	if (op == NULL) {
		return -1;
	}
	op->u.latest.host  = dup(host, &bad);
	op->u.latest.probe = dup(probe, &bad);
	if (bad) {
		op_free(op);
		return -1;
	}
	ops->n++;
	return 0;
}

// ---- open/close ------------------------------------------------------------------------------

static int
prep(coll_store *st, const char *sql, sqlite3_stmt **out, char *err, size_t errlen)
{
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "cannot prepare statement: %s", sqlite3_errmsg(st->db));
		return -1;
	}
	return 0;
}

// Databases written before labels existed get the column; new ones have it.
static int
add_labels_column(sqlite3 *db, char **emsg)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db, "SELECT labels FROM hosts LIMIT 0", -1, &s, NULL) == SQLITE_OK) {
		sqlite3_finalize(s);
		return SQLITE_OK;
	}
	return sqlite3_exec(
	    db, "ALTER TABLE hosts ADD COLUMN labels TEXT NOT NULL DEFAULT ''", NULL, NULL, emsg);
}

void
coll_store_close(coll_store *st)
{
	if (st == NULL) {
		return;
	}
	sqlite3_stmt *all[] = { st->begin, st->commit, st->rollback, st->up_host, st->up_seen,
		st->up_latest, st->ins_event, st->del_host, st->del_latest, st->del_probe,
		st->q_history, st->q_history_hosts };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		sqlite3_finalize(all[i]);
	}
	sqlite3_close(st->db);
	free(st);
}

int
coll_store_open(const char *path, bool readonly, coll_store **out, char *err, size_t errlen)
{
	coll_store *st;
	char       *emsg = NULL;
	int flags = readonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errlen, "cannot open %s: out of memory", path);
		return -1;
	}
	// NOMUTEX: each connection is used by one thread at a time (see store.h).
	if (sqlite3_open_v2(path, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s: %s", path,
		    st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	// A reader waits briefly for a checkpoint rather than failing with SQLITE_BUSY.
	sqlite3_busy_timeout(st->db, 2000);
	if (!readonly) {
		// WAL + NORMAL: a commit is a WAL append without fsync; a power loss may lose the
		// last transactions but never corrupts the file. Transitions are rare; this buys
		// ingest speed.
		if (sqlite3_exec(st->db,
		        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA "
		        "foreign_keys=OFF;",
		        NULL, NULL, &emsg) != SQLITE_OK ||
		    sqlite3_exec(st->db, schema, NULL, NULL, &emsg) != SQLITE_OK ||
		    add_labels_column(st->db, &emsg) != SQLITE_OK) {
			snprintf(err, errlen, "cannot set up %s: %s", path, emsg ? emsg : "?");
			sqlite3_free(emsg);
			goto fail;
		}
		if (prep(st, "BEGIN IMMEDIATE", &st->begin, err, errlen) != 0 ||
		    prep(st, "COMMIT", &st->commit, err, errlen) != 0 ||
		    prep(st, "ROLLBACK", &st->rollback, err, errlen) != 0 ||
		    prep(st,
		        "INSERT INTO hosts (host, release, previous_release, release_since, "
		        "first_seen,"
		        " last_seen, interval_ms, agent_version, boot_id, last_seq, clock_skew, "
		        "labels)"
		        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
		        " ON CONFLICT (host) DO UPDATE SET release = ?2, previous_release = ?3,"
		        " release_since = ?4, last_seen = ?6, interval_ms = ?7, agent_version = ?8,"
		        " boot_id = ?9, last_seq = ?10, clock_skew = ?11, labels = ?12",
		        &st->up_host, err, errlen) != 0 ||
		    prep(st,
		        "UPDATE hosts SET last_seen = ?2, interval_ms = ?3, boot_id = ?4, last_seq "
		        "= ?5,"
		        " clock_skew = ?6 WHERE host = ?1",
		        &st->up_seen, err, errlen) != 0 ||
		    prep(st,
		        "INSERT INTO latest (host, probe, result, status, failure, since)"
		        " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (host, probe) DO UPDATE"
		        " SET result = ?3, status = ?4, failure = ?5, since = ?6",
		        &st->up_latest, err, errlen) != 0 ||
		    prep(st,
		        "INSERT INTO history (at_us, host, kind, probe, \"from\", \"to\", failure, "
		        "detail,"
		        " agent_time_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
		        &st->ins_event, err, errlen) != 0 ||
		    prep(st, "DELETE FROM hosts WHERE host = ?1", &st->del_host, err, errlen) !=
		        0 ||
		    prep(st, "DELETE FROM latest WHERE host = ?1", &st->del_latest, err, errlen) !=
		        0 ||
		    prep(st, "DELETE FROM latest WHERE host = ?1 AND probe = ?2", &st->del_probe,
		        err, errlen) != 0) {
			goto fail;
		}
	}
	// Newest `limit` rows, returned oldest first: what an operator asking "what happened"
	// wants.
	if (prep(st,
	        "SELECT * FROM (SELECT at_us, host, kind, probe, \"from\", \"to\", failure, detail,"
	        " agent_time_us, id FROM history WHERE at_us >= ?1 AND (?2 = '' OR host = ?2)"
	        " ORDER BY at_us DESC, id DESC LIMIT ?3) ORDER BY at_us, id",
	        &st->q_history, err, errlen) != 0 ||
	    // A label filter names its hosts as a JSON array (SQLite's json_each, built in
	    // since 3.38): one statement whatever the number of hosts.
	    prep(st,
	        "SELECT * FROM (SELECT at_us, host, kind, probe, \"from\", \"to\", failure, detail,"
	        " agent_time_us, id FROM history WHERE at_us >= ?1 AND (?2 = '' OR host = ?2)"
	        " AND host IN (SELECT value FROM json_each(?4))"
	        " ORDER BY at_us DESC, id DESC LIMIT ?3) ORDER BY at_us, id",
	        &st->q_history_hosts, err, errlen) != 0) {
		goto fail;
	}
	*out = st;
	return 0;
fail:
	coll_store_close(st);
	return -1;
}

// ---- writes ----------------------------------------------------------------------------------

static int
step_done(coll_store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE) {
		fl_log(FL_LOG_ERR, "store", "cannot write state: %s", sqlite3_errmsg(st->db));
		return -1;
	}
	return 0;
}

static int
write_op(coll_store *st, const coll_op *op)
{
	sqlite3_stmt *s;
	switch (op->kind) {
	case COLL_OP_HOST: {
		const coll_host_row *h = &op->u.host;
		s                      = st->up_host;
		sqlite3_bind_text(s, 1, h->host, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, h->release, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, h->previous_release, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, h->release_since_us);
		sqlite3_bind_int64(s, 5, h->first_seen_us);
		sqlite3_bind_int64(s, 6, h->last_seen_us);
		sqlite3_bind_int64(s, 7, h->interval_ms);
		sqlite3_bind_text(s, 8, h->agent_version, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 9, (sqlite3_int64) h->boot_id);
		sqlite3_bind_int64(s, 10, (sqlite3_int64) h->last_seq);
		sqlite3_bind_int64(s, 11, h->clock_skew_us);
		sqlite3_bind_text(s, 12, fl_str_or_empty(h->labels), -1, SQLITE_STATIC);
		return step_done(st, s);
	}
	case COLL_OP_FORGET: {
		sqlite3_bind_text(st->del_latest, 1, op->u.host.host, -1, SQLITE_STATIC);
		if (step_done(st, st->del_latest) != 0) {
			return -1;
		}
		sqlite3_bind_text(st->del_host, 1, op->u.host.host, -1, SQLITE_STATIC);
		return step_done(st, st->del_host);
	}
	case COLL_OP_SEEN: {
		const coll_host_row *h = &op->u.host;
		s                      = st->up_seen;
		sqlite3_bind_text(s, 1, h->host, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, h->last_seen_us);
		sqlite3_bind_int64(s, 3, h->interval_ms);
		sqlite3_bind_int64(s, 4, (sqlite3_int64) h->boot_id);
		sqlite3_bind_int64(s, 5, (sqlite3_int64) h->last_seq);
		sqlite3_bind_int64(s, 6, h->clock_skew_us);
		return step_done(st, s);
	}
	case COLL_OP_LATEST: {
		const coll_latest_row *l = &op->u.latest;
		s                        = st->up_latest;
		sqlite3_bind_text(s, 1, l->host, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, l->probe, -1, SQLITE_STATIC);
		sqlite3_bind_blob(s, 3, l->result, (int) l->result_len, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, fl_status_name((Fl__Status) l->status), -1, SQLITE_STATIC);
		sqlite3_bind_text(
		    s, 5, fl_failure_name((Fl__FailureClass) l->failure), -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 6, l->since_us);
		return step_done(st, s);
	}
	case COLL_OP_DROP_LATEST: {
		s = st->del_probe;
		sqlite3_bind_text(s, 1, op->u.latest.host, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, op->u.latest.probe, -1, SQLITE_STATIC);
		return step_done(st, s);
	}
	case COLL_OP_EVENT: {
		const coll_event *e = &op->u.event;
		s                   = st->ins_event;
		sqlite3_bind_int64(s, 1, e->at_us);
		sqlite3_bind_text(s, 2, e->host, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, fl_history_kind_name(e->kind), -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, e->probe, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, e->from, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 6, e->to, -1, SQLITE_STATIC);
		sqlite3_bind_text(
		    s, 7, fl_failure_name((Fl__FailureClass) e->failure), -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 8, e->detail, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 9, e->agent_time_us);
		return step_done(st, s);
	}
	}
	return -1;
}

int
coll_store_write(coll_store *st, const coll_ops *ops)
{
	if (ops->n == 0) {
		return 0;
	}
	if (step_done(st, st->begin) != 0) {
		return -1;
	}
	for (size_t i = 0; i < ops->n; i++) {
		if (write_op(st, &ops->v[i]) != 0) {
			step_done(st, st->rollback);
			return -1;
		}
	}
	if (step_done(st, st->commit) != 0) {
		step_done(st, st->rollback);
		return -1;
	}
	return 0;
}

long
coll_store_prune(coll_store *st, int64_t before_us)
{
	sqlite3_stmt *s;
	long          n;
	if (sqlite3_prepare_v2(st->db, "DELETE FROM history WHERE at_us < ?1", -1, &s, NULL) !=
	    SQLITE_OK) {
		fl_log(FL_LOG_ERR, "store", "cannot prune history: %s", sqlite3_errmsg(st->db));
		return -1;
	}
	sqlite3_bind_int64(s, 1, before_us);
	if (sqlite3_step(s) != SQLITE_DONE) {
		fl_log(FL_LOG_ERR, "store", "cannot prune history: %s", sqlite3_errmsg(st->db));
		sqlite3_finalize(s);
		return -1;
	}
	n = (long) sqlite3_changes(st->db);
	sqlite3_finalize(s);
	return n;
}

long
coll_store_prune_count(coll_store *st, uint64_t max_events, uint32_t batch)
{
	// ids grow with every event (INTEGER PRIMARY KEY, never reused while newer rows exist), so
	// the events to drop are those with an id at least max_events below the newest one.
	static const char sql[] =
	    "DELETE FROM history WHERE id IN (SELECT id FROM history WHERE id <= "
	    "(SELECT max(id) FROM history) - ?1 ORDER BY id LIMIT ?2)";
	sqlite3_stmt *s;
	long          n;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		fl_log(FL_LOG_ERR, "store", "cannot prune history: %s", sqlite3_errmsg(st->db));
		return -1;
	}
	sqlite3_bind_int64(s, 1, max_events > INT64_MAX ? INT64_MAX : (sqlite3_int64) max_events);
	sqlite3_bind_int64(s, 2, batch);
	if (sqlite3_step(s) != SQLITE_DONE) {
		fl_log(FL_LOG_ERR, "store", "cannot prune history: %s", sqlite3_errmsg(st->db));
		sqlite3_finalize(s);
		return -1;
	}
	n = (long) sqlite3_changes(st->db);
	sqlite3_finalize(s);
	return n;
}

// ---- reads -----------------------------------------------------------------------------------

static const char *
col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t != NULL ? (const char *) t : "";
}

int
coll_store_load(coll_store *st, const coll_store_loader *ld)
{
	sqlite3_stmt *s  = NULL;
	int           rc = 0;

	if (sqlite3_prepare_v2(st->db,
	        "SELECT host, release, previous_release, release_since, first_seen, last_seen,"
	        " interval_ms, agent_version, boot_id, last_seq, clock_skew, labels,"
	        " (SELECT kind FROM history e WHERE e.host = hosts.host AND e.kind IN ('stale',"
	        " 'back') AND e.at_us >= hosts.first_seen ORDER BY e.at_us DESC, e.id DESC"
	        " LIMIT 1) = 'stale'"
	        " FROM hosts ORDER BY last_seen DESC",
	        -1, &s, NULL) != SQLITE_OK) {
		goto fail;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		coll_host_row h = {
			.host             = col_text(s, 0),
			.release          = col_text(s, 1),
			.previous_release = col_text(s, 2),
			.release_since_us = sqlite3_column_int64(s, 3),
			.first_seen_us    = sqlite3_column_int64(s, 4),
			.last_seen_us     = sqlite3_column_int64(s, 5),
			.interval_ms      = (uint32_t) sqlite3_column_int64(s, 6),
			.agent_version    = col_text(s, 7),
			.boot_id          = (uint64_t) sqlite3_column_int64(s, 8),
			.last_seq         = (uint64_t) sqlite3_column_int64(s, 9),
			.clock_skew_us    = sqlite3_column_int64(s, 10),
			.labels           = col_text(s, 11),
			.stale            = sqlite3_column_int(s, 12) != 0,
		};
		if (ld->on_host(ld->arg, &h) != 0) {
			goto stopped;
		}
	}
	if (rc != SQLITE_DONE) {
		goto fail;
	}
	sqlite3_finalize(s);
	if (sqlite3_prepare_v2(st->db,
	        "SELECT host, probe, result, status, failure, since FROM latest ORDER BY host, "
	        "rowid",
	        -1, &s, NULL) != SQLITE_OK) {
		s = NULL;
		goto fail;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int             status  = fl_status_parse(col_text(s, 3));
		int             failure = fl_failure_parse(col_text(s, 4));
		coll_latest_row l       = {
			      .host       = col_text(s, 0),
			      .probe      = col_text(s, 1),
			      .result     = sqlite3_column_blob(s, 2),
			      .result_len = (size_t) sqlite3_column_bytes(s, 2),
			      .status     = status < 0 ? 0 : status,
			      .failure    = failure < 0 ? 0 : failure,
			      .since_us   = sqlite3_column_int64(s, 5),
		};
		if (ld->on_latest(ld->arg, &l) != 0) {
			goto stopped;
		}
	}
	if (rc != SQLITE_DONE) {
		goto fail;
	}
	sqlite3_finalize(s);
	if (sqlite3_prepare_v2(st->db,
	        "SELECT \"to\", detail FROM history WHERE kind = 'verdict' ORDER BY at_us DESC, id "
	        "DESC"
	        " LIMIT 1",
	        -1, &s, NULL) != SQLITE_OK) {
		s = NULL;
		goto fail;
	}
	if ((rc = sqlite3_step(s)) == SQLITE_ROW && ld->on_verdict != NULL) {
		if (ld->on_verdict(ld->arg, col_text(s, 0), col_text(s, 1)) != 0) {
			goto stopped;
		}
	} else if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		goto fail;
	}
	sqlite3_finalize(s);
	return 0;
fail:
	fl_log(FL_LOG_ERR, "store", "cannot load state: %s", sqlite3_errmsg(st->db));
stopped:
	sqlite3_finalize(s);
	return -1;
}

// The enum of a stored kind: rows hold the name (fl_history_kind_name), whichever collector
// wrote them; a name this build does not know reads as unknown, its text kept in `kind`.
static Fl__HistoryKind
history_kind_of(const char *name)
{
	int k = name != NULL ? fl_history_kind_parse(name) : -1;
	return k < 0 ? FL__HISTORY_KIND__HISTORY_KIND_UNKNOWN : (Fl__HistoryKind) k;
}

static void
event_free(Fl__HistoryEvent *e)
{
	if (e == NULL) {
		return;
	}
	free(e->host);
	free(e->kind);
	free(e->probe);
	free(e->from);
	free(e->to);
	free(e->detail);
	free(e);
}

void
coll_history_reply_free(Fl__HistoryReply *r)
{
	if (r == NULL) {
		return;
	}
	for (size_t i = 0; i < r->n_events; i++) {
		event_free(r->events[i]);
	}
	free(r->events);
	free(r);
}

// Runs a history statement whose ?1..?3 are since, host and limit (and ?4, when hosts_json is
// not NULL, the JSON array of hosts).
static int
history_query(coll_store *st, sqlite3_stmt *s, int64_t since_us, const char *host,
    const char *hosts_json, uint32_t limit, Fl__HistoryReply **out)
{
	Fl__HistoryReply *r;
	size_t            cap = 0;
	int               rc;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		return -1;
	}
	fl__history_reply__init(r);
	sqlite3_bind_int64(s, 1, since_us);
	sqlite3_bind_text(s, 2, fl_str_or_empty(host), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, limit);
	if (hosts_json != NULL) {
		sqlite3_bind_text(s, 4, hosts_json, -1, SQLITE_STATIC);
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		Fl__HistoryEvent *e;
		int               bad = 0;
		if (r->n_events == cap) {
			size_t             ncap = cap ? cap * 2 : 64;
			Fl__HistoryEvent **v    = realloc(r->events, ncap * sizeof(*v));
			if (v == NULL) {
				goto fail;
			}
			r->events = v;
			cap       = ncap;
		}
		if ((e = malloc(sizeof(*e))) == NULL) {
			goto fail;
		}
		fl__history_event__init(e);
		e->at_us                 = sqlite3_column_int64(s, 0);
		e->host                  = dup(col_text(s, 1), &bad);
		e->kind                  = dup(col_text(s, 2), &bad);
		e->kind_enum             = history_kind_of(e->kind);
		e->probe                 = dup(col_text(s, 3), &bad);
		e->from                  = dup(col_text(s, 4), &bad);
		e->to                    = dup(col_text(s, 5), &bad);
		int f                    = fl_failure_parse(col_text(s, 6));
		e->failure               = (Fl__FailureClass) (f < 0 ? 0 : f);
		e->detail                = dup(col_text(s, 7), &bad);
		e->agent_time_us         = sqlite3_column_int64(s, 8);
		r->events[r->n_events++] = e;
		if (bad) {
			goto fail;
		}
	}
	if (rc != SQLITE_DONE) {
		fl_log(FL_LOG_ERR, "store", "cannot read history: %s", sqlite3_errmsg(st->db));
		goto fail;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	*out = r;
	return 0;
fail:
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	coll_history_reply_free(r);
	return -1;
}

int
coll_store_history(
    coll_store *st, int64_t since_us, const char *host, uint32_t limit, Fl__HistoryReply **out)
{
	return history_query(st, st->q_history, since_us, host, NULL, limit, out);
}

int
coll_store_history_hosts(coll_store *st, int64_t since_us, const char *host,
    const char *const *hosts, size_t n_hosts, uint32_t limit, Fl__HistoryReply **out)
{
	fl_json     j;
	const char *text;
	int         rv;

	if (hosts == NULL) {
		return coll_store_history(st, since_us, host, limit, out);
	}
	fl_json_init(&j, false);
	fl_json_arr_begin(&j);
	for (size_t i = 0; i < n_hosts; i++) {
		fl_json_str(&j, hosts[i]);
	}
	fl_json_arr_end(&j);
	if ((text = fl_json_text(&j)) == NULL) {
		fl_json_fini(&j);
		return -1;
	}
	rv = history_query(st, st->q_history_hosts, since_us, host, text, limit, out);
	fl_json_fini(&j);
	return rv;
}
