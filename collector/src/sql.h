// sql.h - one small SQL interface, two engines: SQLite (embedded, the default store) and
// PostgreSQL through libpq (a store shared by collectors running as an HA pair).
//
// The collector's store modules write each statement once, in the dialect both engines accept:
//   - parameters are $1..$n, numbered from 1 (the SQLite engine binds them by name, so their
//     order in the text does not matter);
//   - INSERT ... ON CONFLICT (...) DO UPDATE SET x = excluded.x, RETURNING, LIMIT;
//   - integers are BIGINT, strings TEXT, byte strings a blob column (BLOB / BYTEA).
// Where the dialects differ (DDL, types) the migrations keep one text per engine.
//
// A connection is used by one thread at a time. A statement belongs to its connection and is
// finalized before it. Calls returning int return FL_SQL_OK, FL_SQL_ROW or FL_SQL_DONE on
// success and a negative FL_SQL_E... on failure; fl_sql_errmsg() then says why. Values bound
// are copied by the call; values read are valid until the next step, reset or finalize of the
// same statement.
//
// Lost connections (PostgreSQL): a loss is returned as FL_SQL_EBROKEN once to a caller (by the
// call that finds it, or by the next one when finalize or rollback found it); a transaction in
// progress is gone: roll back. The next call that starts work outside a
// transaction (begin, exec, a step, a prepare) connects again with the same options and
// re-prepares the connection's statements as they run; while that fails it returns
// FL_SQL_EBROKEN too. Session state (an advisory lock, temporary tables) does not survive: a
// caller relying on it treats FL_SQL_EBROKEN as its loss.
//
// Writes fenced by a lease: a collector that takes the lease bumps the lease row's epoch and
// gives it to its writer connections with fl_sql_set_fence(). Every fl_sql_begin() on such a
// connection then reads that row FOR KEY SHARE inside the transaction and refuses
// (FL_SQL_EFENCED, rolled back) when the epoch moved: a collector that lost the lease cannot
// write one more row, whatever it believes, because the taker locks the row FOR UPDATE before
// its epoch update (that lock waits for the key-share locks) and every later transaction sees
// the new epoch. A plain UPDATE of the row (the holder's heartbeat) does not wait for them.

#ifndef FL_COLLECTOR_SQL_H
#define FL_COLLECTOR_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fl_sql      fl_sql;
typedef struct fl_sql_stmt fl_sql_stmt;

typedef enum fl_sql_engine {
	FL_SQL_SQLITE,
	FL_SQL_PGSQL,
} fl_sql_engine;

enum {
	FL_SQL_OK      = 0,
	FL_SQL_ROW     = 1,  // fl_sql_step: a row is ready to read
	FL_SQL_DONE    = 2,  // fl_sql_step: the statement has run; no (more) rows
	FL_SQL_ERROR   = -1, // the statement failed; the connection is usable
	FL_SQL_EBROKEN = -2, // the connection is lost (PostgreSQL); see "Lost connections"
	FL_SQL_EFENCED = -3, // fl_sql_begin: the lease epoch moved; another collector is active
	FL_SQL_EBUSY   = -4, // locked (SQLite) or statement timeout (PostgreSQL): try again later
};

// The lease row every fenced transaction reads (created by the migrations, both engines).
#define FL_SQL_LEASE_TABLE "fl_lease"

typedef struct fl_sql_opts {
	// A file path (SQLite), or a PostgreSQL URI (postgresql://... or postgres://...) or libpq
	// conninfo ("host=... dbname=..."); fl_sql_target_engine() tells which.
	const char *target;
	// PostgreSQL: a file whose first line is the password (never logged); NULL: none or in the
	// environment/.pgpass as libpq reads them. Ignored by SQLite.
	const char *password_file;
	bool        readonly; // queries only: SQLite opens read-only, PostgreSQL sets read-only
	                      // transactions
	int timeout_ms; // SQLite busy timeout, PostgreSQL connect and statement timeouts; 0: 5000
	const char *app_name; // PostgreSQL application_name (pg_stat_activity); NULL: "faultline"
} fl_sql_opts;

// FL_SQL_PGSQL for "postgresql://", "postgres://" and a conninfo (it starts with a lower-case
// keyword and "=": "host=db1 dbname=fl"); otherwise FL_SQL_SQLITE (a path, even "/tmp/a=b").
fl_sql_engine fl_sql_target_engine(const char *target);

// Checks a target without connecting: a PostgreSQL URI or conninfo must parse and must not
// carry a password (it belongs in password_file). Returns 0, or -1 with the reason in err.
int fl_sql_check_target(const char *target, char *err, size_t errlen);

// Opens a connection. On failure *out is untouched and err says why (without the password).
int  fl_sql_open(const fl_sql_opts *o, fl_sql **out, char *err, size_t errlen);
void fl_sql_close(fl_sql *db); // accepts NULL; finalize its statements first

fl_sql_engine fl_sql_engine_of(const fl_sql *db);
const char   *fl_sql_errmsg(const fl_sql *db); // the last failure's message; never NULL

// Runs sql (one or more statements, no parameters); rows are discarded.
int fl_sql_exec(fl_sql *db, const char *sql);

// Transactions. begin takes the write lock at once on SQLite (BEGIN IMMEDIATE) unless the
// connection is read-only, and checks the fence when one is set.
int  fl_sql_begin(fl_sql *db);
int  fl_sql_commit(fl_sql *db);
void fl_sql_rollback(fl_sql *db); // accepts a connection outside a transaction

// epoch > 0: every fl_sql_begin() checks FL_SQL_LEASE_TABLE's epoch equals it; 0: no fence.
void fl_sql_set_fence(fl_sql *db, int64_t epoch);

// Prepared statements: prepared once, run many times (bind, step until DONE, reset).
int  fl_sql_prepare(fl_sql *db, const char *sql, fl_sql_stmt **out);
void fl_sql_finalize(fl_sql_stmt *st); // accepts NULL

int fl_sql_bind_int64(fl_sql_stmt *st, int idx, int64_t v);
int fl_sql_bind_text(fl_sql_stmt *st, int idx, const char *s); // NULL binds SQL NULL
int fl_sql_bind_blob(fl_sql_stmt *st, int idx, const void *p, size_t n);
int fl_sql_bind_null(fl_sql_stmt *st, int idx);

// The first step after a reset runs the statement; FL_SQL_ROW while rows remain, then
// FL_SQL_DONE.
int fl_sql_step(fl_sql_stmt *st);

// Columns of the current row, numbered from 0. SQL NULL reads as 0, "" and (NULL, 0).
int64_t     fl_sql_column_int64(fl_sql_stmt *st, int col);
const char *fl_sql_column_text(fl_sql_stmt *st, int col);
const void *fl_sql_column_blob(fl_sql_stmt *st, int col, size_t *len);
bool        fl_sql_column_is_null(fl_sql_stmt *st, int col);

int64_t fl_sql_changes(const fl_sql_stmt *st); // rows the last run inserted/updated/deleted
void    fl_sql_reset(fl_sql_stmt *st);         // ready to run again; bindings are cleared

#endif // FL_COLLECTOR_SQL_H
