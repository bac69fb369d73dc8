// sql_engine.h - what an engine of sql.h provides (sql.c dispatches to it). Private to the
// sql_*.c files: store modules include sql.h only.
//
// An engine's connection and statement structs start with the fl_sql / fl_sql_stmt below, so
// sql.c reads the shared part and passes the pointer on. sql.c does the fence check in begin
// and keeps the error message; engines set it with fl_sql_set_error().

#ifndef FL_COLLECTOR_SQL_ENGINE_H
#define FL_COLLECTOR_SQL_ENGINE_H

#include "sql.h"

typedef struct fl_sql_engine_ops {
	// Sets *out (a struct starting with fl_sql, ops and engine filled in) or writes err.
	int (*open)(const fl_sql_opts *o, fl_sql **out, char *err, size_t errlen);
	void (*close)(fl_sql *db);
	int (*exec)(fl_sql *db, const char *sql);
	// The transaction's first statement (SQLite: BEGIN IMMEDIATE on a writer).
	int (*begin)(fl_sql *db);
	// The fence row's epoch inside the open transaction (PostgreSQL: FOR KEY SHARE).
	int (*read_fence)(fl_sql *db, int64_t *epoch);
	int (*commit)(fl_sql *db);
	void (*rollback)(fl_sql *db);

	int (*prepare)(fl_sql *db, const char *sql, fl_sql_stmt **out);
	void (*finalize)(fl_sql_stmt *st);
	int (*bind_int64)(fl_sql_stmt *st, int idx, int64_t v);
	int (*bind_text)(fl_sql_stmt *st, int idx, const char *s);
	int (*bind_blob)(fl_sql_stmt *st, int idx, const void *p, size_t n);
	int (*bind_null)(fl_sql_stmt *st, int idx);
	int (*step)(fl_sql_stmt *st);
	int64_t (*column_int64)(fl_sql_stmt *st, int col);
	const char *(*column_text)(fl_sql_stmt *st, int col);
	const void *(*column_blob)(fl_sql_stmt *st, int col, size_t *len);
	bool (*column_is_null)(fl_sql_stmt *st, int col);
	int64_t (*changes)(const fl_sql_stmt *st);
	void (*reset)(fl_sql_stmt *st);
} fl_sql_engine_ops;

struct fl_sql {
	const fl_sql_engine_ops *ops;
	fl_sql_engine            engine;
	bool                     readonly;
	int64_t                  fence; // 0: none
	char                     errmsg[512];
};

struct fl_sql_stmt {
	fl_sql *db;
};

extern const fl_sql_engine_ops fl_sql_sqlite_ops;
extern const fl_sql_engine_ops fl_sql_pgsql_ops;

// PostgreSQL: fl_sql_check_target() of a URI or conninfo.
int fl_sql_pgsql_check_target(const char *target, char *err, size_t errlen);

// Records the last failure's message (printf-style); returns rv for `return fl_sql_fail(...)`.
int fl_sql_fail(fl_sql *db, int rv, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

// The highest $n in sql outside quotes and comments (0: none); -1 when a $n is malformed or
// above FL_SQL_MAX_PARAMS.
// Enough for a multi-row write of COLL_ROWS_MAX rows of 12 columns (store_rows.h); below the
// limits of both engines (PostgreSQL 65535, SQLite 32766).
#define FL_SQL_MAX_PARAMS 2048
int fl_sql_count_params(const char *sql);

#endif // FL_COLLECTOR_SQL_ENGINE_H
