// sql_sqlite.c - the SQLite engine of sql.h.
//
// A writer connection runs in WAL mode with synchronous=NORMAL: a commit is a WAL append without
// fsync, so a power loss may lose the last transactions but never corrupts the file, and readers
// (other connections, read-only ones) run while the writer commits. Parameters $1..$n are
// SQLite named parameters, bound by name so their order in the text does not matter.

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "sql_engine.h"

typedef struct lite_db {
	fl_sql   base;
	sqlite3 *h;
} lite_db;

typedef struct lite_stmt {
	fl_sql_stmt   base;
	sqlite3_stmt *s;
	int64_t       changes; // of the last run, recorded when it finished
	int          *pos;     // pos[n - 1]: SQLite's index of $n, 0 when the text has no $n
	int           npos;
} lite_stmt;

static sqlite3 *
handle(fl_sql *db)
{
	return ((lite_db *) db)->h;
}

static lite_stmt *
lstmt(fl_sql_stmt *st)
{
	return (lite_stmt *) st;
}

// SQLITE_BUSY/LOCKED: another connection holds the lock beyond the busy timeout.
static int
lite_fail(fl_sql *db, int rc)
{
	int ours = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED ? FL_SQL_EBUSY
	                                                                      : FL_SQL_ERROR;
	return fl_sql_fail(db, ours, "%s", sqlite3_errmsg(handle(db)));
}

static void
lite_close(fl_sql *db)
{
	sqlite3_close(handle(db));
	free(db);
}

static int
lite_open(const fl_sql_opts *o, fl_sql **out, char *err, size_t errlen)
{
	lite_db *db;
	char    *emsg = NULL;
	int      flags =
            o->readonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);

	if ((db = calloc(1, sizeof(*db))) == NULL) {
		snprintf(err, errlen, "cannot open %s: out of memory", o->target);
		return FL_SQL_ERROR;
	}
	db->base.ops    = &fl_sql_sqlite_ops;
	db->base.engine = FL_SQL_SQLITE;
	// NOMUTEX: a connection is used by one thread at a time (sql.h).
	if (sqlite3_open_v2(o->target, &db->h, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s: %s", o->target,
		    db->h != NULL ? sqlite3_errmsg(db->h) : "out of memory");
		lite_close(&db->base);
		return FL_SQL_ERROR;
	}
	sqlite3_busy_timeout(db->h, o->timeout_ms > 0 ? o->timeout_ms : 5000);
	if (!o->readonly &&
	    sqlite3_exec(db->h, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL,
	        &emsg) != SQLITE_OK) {
		snprintf(err, errlen, "cannot set up %s: %s", o->target, emsg ? emsg : "?");
		sqlite3_free(emsg);
		lite_close(&db->base);
		return FL_SQL_ERROR;
	}
	*out = &db->base;
	return FL_SQL_OK;
}

static int
lite_exec(fl_sql *db, const char *sql)
{
	char *emsg = NULL;
	int   rc   = sqlite3_exec(handle(db), sql, NULL, NULL, &emsg);

	if (rc != SQLITE_OK) {
		int ours = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED
		    ? FL_SQL_EBUSY
		    : FL_SQL_ERROR;
		fl_sql_fail(db, ours, "%s", emsg ? emsg : sqlite3_errstr(rc));
		sqlite3_free(emsg);
		return ours;
	}
	return FL_SQL_OK;
}

static int
lite_begin(fl_sql *db)
{
	// IMMEDIATE: the write lock now, so a busy database fails here rather than mid-batch.
	return lite_exec(db, db->readonly ? "BEGIN" : "BEGIN IMMEDIATE");
}

static int
lite_read_fence(fl_sql *db, int64_t *epoch)
{
	sqlite3_stmt *s;
	int           rc;

	if ((rc = sqlite3_prepare_v2(handle(db),
	         "SELECT epoch FROM " FL_SQL_LEASE_TABLE " WHERE id = 1", -1, &s, NULL)) !=
	    SQLITE_OK) {
		return lite_fail(db, rc);
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*epoch = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
		return FL_SQL_OK;
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE) {
		return fl_sql_fail(db, FL_SQL_ERROR, "the lease row (id 1) is missing");
	}
	return lite_fail(db, rc);
}

static int
lite_commit(fl_sql *db)
{
	return lite_exec(db, "COMMIT");
}

static void
lite_rollback(fl_sql *db)
{
	if (!sqlite3_get_autocommit(handle(db))) {
		sqlite3_exec(handle(db), "ROLLBACK", NULL, NULL, NULL);
	}
}

// SQLite finds a parameter by name in a linear search: a multi-row write of hundreds of
// parameters would spend its time there. The positions of $1..$n are looked up once.
static int
map_params(lite_stmt *st)
{
	int count = sqlite3_bind_parameter_count(st->s);

	for (int i = 1; i <= count; i++) {
		const char *name = sqlite3_bind_parameter_name(st->s, i);
		long        n    = name != NULL && name[0] == '$' ? strtol(name + 1, NULL, 10) : 0;
		if (n < 1 || n > FL_SQL_MAX_PARAMS) {
			continue; // not one of ours: binding it by number fails as before
		}
		if (n > st->npos) {
			int *v = realloc(st->pos, (size_t) n * sizeof(*v));
			if (v == NULL) {
				return -1;
			}
			memset(v + st->npos, 0, (size_t) (n - st->npos) * sizeof(*v));
			st->pos  = v;
			st->npos = (int) n;
		}
		st->pos[n - 1] = i;
	}
	return 0;
}

static int
lite_prepare(fl_sql *db, const char *sql, fl_sql_stmt **out)
{
	lite_stmt *st;
	int        rc;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		return fl_sql_fail(db, FL_SQL_ERROR, "out of memory");
	}
	st->base.db = db;
	if ((rc = sqlite3_prepare_v3(
	         handle(db), sql, -1, SQLITE_PREPARE_PERSISTENT, &st->s, NULL)) != SQLITE_OK) {
		free(st);
		return lite_fail(db, rc);
	}
	if (st->s == NULL) {
		free(st);
		return fl_sql_fail(db, FL_SQL_ERROR, "empty statement");
	}
	if (map_params(st) != 0) {
		sqlite3_finalize(st->s);
		free(st);
		return fl_sql_fail(db, FL_SQL_ERROR, "out of memory");
	}
	*out = &st->base;
	return FL_SQL_OK;
}

static void
lite_finalize(fl_sql_stmt *st)
{
	sqlite3_finalize(lstmt(st)->s);
	free(lstmt(st)->pos);
	free(st);
}

// The position of $idx in the statement (0 when the text has no $idx: a caller's mistake).
static int
param_pos(fl_sql_stmt *st, int idx)
{
	lite_stmt *l   = lstmt(st);
	int        pos = idx >= 1 && idx <= l->npos ? l->pos[idx - 1] : 0;

	if (pos == 0) {
		fl_sql_fail(st->db, FL_SQL_ERROR, "the statement has no parameter $%d", idx);
	}
	return pos;
}

static int
bound(fl_sql_stmt *st, int rc)
{
	return rc == SQLITE_OK ? FL_SQL_OK : lite_fail(st->db, rc);
}

static int
lite_bind_int64(fl_sql_stmt *st, int idx, int64_t v)
{
	int pos = param_pos(st, idx);
	return pos == 0 ? FL_SQL_ERROR : bound(st, sqlite3_bind_int64(lstmt(st)->s, pos, v));
}

static int
lite_bind_text(fl_sql_stmt *st, int idx, const char *s)
{
	int pos = param_pos(st, idx);
	return pos == 0 ? FL_SQL_ERROR
	                : bound(st, sqlite3_bind_text(lstmt(st)->s, pos, s, -1, SQLITE_TRANSIENT));
}

static int
lite_bind_blob(fl_sql_stmt *st, int idx, const void *p, size_t n)
{
	int pos = param_pos(st, idx);
	if (pos == 0) {
		return FL_SQL_ERROR;
	}
	// A zero-length blob is a blob, not NULL (sqlite3_bind_blob of NULL binds NULL).
	return bound(st,
	    sqlite3_bind_blob64(
	        lstmt(st)->s, pos, n > 0 ? p : "", (sqlite3_uint64) n, SQLITE_TRANSIENT));
}

static int
lite_bind_null(fl_sql_stmt *st, int idx)
{
	int pos = param_pos(st, idx);
	return pos == 0 ? FL_SQL_ERROR : bound(st, sqlite3_bind_null(lstmt(st)->s, pos));
}

static int
lite_step(fl_sql_stmt *st)
{
	lite_stmt *l  = lstmt(st);
	int        rc = sqlite3_step(l->s);

	if (rc == SQLITE_ROW) {
		return FL_SQL_ROW;
	}
	if (rc == SQLITE_DONE) {
		l->changes = sqlite3_stmt_readonly(l->s) ? 0 : sqlite3_changes(handle(st->db));
		return FL_SQL_DONE;
	}
	return lite_fail(st->db, rc);
}

static int64_t
lite_column_int64(fl_sql_stmt *st, int col)
{
	return sqlite3_column_int64(lstmt(st)->s, col);
}

static const char *
lite_column_text(fl_sql_stmt *st, int col)
{
	return (const char *) sqlite3_column_text(lstmt(st)->s, col);
}

static const void *
lite_column_blob(fl_sql_stmt *st, int col, size_t *len)
{
	const void *p = sqlite3_column_blob(lstmt(st)->s, col);
	*len          = p != NULL ? (size_t) sqlite3_column_bytes(lstmt(st)->s, col) : 0;
	return p;
}

static bool
lite_column_is_null(fl_sql_stmt *st, int col)
{
	return sqlite3_column_type(lstmt(st)->s, col) == SQLITE_NULL;
}

static int64_t
lite_changes(const fl_sql_stmt *st)
{
	return ((const lite_stmt *) st)->changes;
}

static void
lite_reset(fl_sql_stmt *st)
{
	sqlite3_reset(lstmt(st)->s);
	sqlite3_clear_bindings(lstmt(st)->s);
}

const fl_sql_engine_ops fl_sql_sqlite_ops = {
	.open           = lite_open,
	.close          = lite_close,
	.exec           = lite_exec,
	.begin          = lite_begin,
	.read_fence     = lite_read_fence,
	.commit         = lite_commit,
	.rollback       = lite_rollback,
	.prepare        = lite_prepare,
	.finalize       = lite_finalize,
	.bind_int64     = lite_bind_int64,
	.bind_text      = lite_bind_text,
	.bind_blob      = lite_bind_blob,
	.bind_null      = lite_bind_null,
	.step           = lite_step,
	.column_int64   = lite_column_int64,
	.column_text    = lite_column_text,
	.column_blob    = lite_column_blob,
	.column_is_null = lite_column_is_null,
	.changes        = lite_changes,
	.reset          = lite_reset,
};
