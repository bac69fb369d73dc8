// sql_test.c - sql.h on a real engine: prepare/bind by name/step/columns/changes/reset,
// transactions, read-only refusal, errors, busy, the lease fence.
//
// The target comes from FL_SQL_TEST_TARGET (a PostgreSQL URI or conninfo; its password in the
// file FL_SQL_TEST_PASSWORD_FILE), else a temporary SQLite file: ctest registers the test once
// per engine (sql_test_sqlite, and sql_test_pgsql through tests/collector/pg_state.sh, which
// starts a real PostgreSQL).

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pthread.h>

#include "sql.h"
#include "sql_engine.h"
#include "sql_migrate.h"
#include "sql_target.h"

static fl_sql *
open_db(bool readonly, int timeout_ms)
{
	fl_sql_opts o = { .target = sqlt_target,
		.password_file    = sqlt_password_file,
		.readonly         = readonly,
		.timeout_ms       = timeout_ms,
		.app_name         = "faultline-sql-test" };
	return sqlt_open(&o);
}

static fl_sql_stmt *
prep_ok(fl_sql *db, const char *sql)
{
	fl_sql_stmt *st = NULL;
	if (fl_sql_prepare(db, sql, &st) != FL_SQL_OK) {
		fail_msg("%s: %s", sql, fl_sql_errmsg(db));
	}
	return st;
}

// A fresh table t and lease row for each test (the same database serves every test).
static int
setup(void **state)
{
	(void) state;
	fl_sql *db = open_db(false, 0);
	sqlt_exec(db,
	    "DROP TABLE IF EXISTS t; DROP TABLE IF EXISTS " FL_SQL_LEASE_TABLE
	    "; DROP TABLE IF EXISTS fl_schema; DROP TABLE IF EXISTS m1;"
	    " DROP TABLE IF EXISTS m2; DROP TABLE IF EXISTS applied");
	sqlt_exec(db,
	    sqlt_pg ? "CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT, data BYTEA)"
	            : "CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT, data BLOB)");
	sqlt_exec(db,
	    "CREATE TABLE " FL_SQL_LEASE_TABLE " (id BIGINT PRIMARY KEY, epoch BIGINT NOT "
	    "NULL); INSERT INTO " FL_SQL_LEASE_TABLE " (id, epoch) VALUES (1, 0)");
	fl_sql_close(db);
	return 0;
}

static void
test_target_engine(void **state)
{
	(void) state;
	assert_int_equal(fl_sql_target_engine("/var/lib/faultline/collector.db"), FL_SQL_SQLITE);
	assert_int_equal(fl_sql_target_engine("state.db"), FL_SQL_SQLITE);
	assert_int_equal(fl_sql_target_engine("/tmp/a=b dir/x.db"), FL_SQL_SQLITE);
	assert_int_equal(fl_sql_target_engine("postgresql://u@h/db"), FL_SQL_PGSQL);
	assert_int_equal(fl_sql_target_engine("postgres://h/db"), FL_SQL_PGSQL);
	assert_int_equal(fl_sql_target_engine("host=h dbname=d"), FL_SQL_PGSQL);
	assert_int_equal(fl_sql_target_engine("dbname=d"), FL_SQL_PGSQL);
	assert_int_equal(fl_sql_target_engine("host = h"), FL_SQL_PGSQL);
	assert_int_equal(fl_sql_target_engine("./a=b.db"), FL_SQL_SQLITE);
	assert_int_equal(fl_sql_target_engine("collector.db"), FL_SQL_SQLITE);
}

static void
test_count_params(void **state)
{
	(void) state;
	assert_int_equal(fl_sql_count_params("SELECT 1"), 0);
	assert_int_equal(fl_sql_count_params("SELECT $2, $1, $2"), 2);
	assert_int_equal(fl_sql_count_params("SELECT '$9', \"$8\", $3 -- $7\n"), 3);
	assert_int_equal(fl_sql_count_params("SELECT $12"), 12);
	assert_int_equal(fl_sql_count_params("SELECT $0"), -1);
	assert_int_equal(fl_sql_count_params("SELECT $99999"), -1);
}

// Parameters out of order in the text, bound by number; changes; reset clears and reruns.
static void
test_insert_bind_by_number(void **state)
{
	(void) state;
	fl_sql       *db     = open_db(false, 0);
	fl_sql_stmt  *ins    = prep_ok(db, "INSERT INTO t (name, data, id) VALUES ($2, $3, $1)");
	const uint8_t blob[] = { 0, 1, 0xff, 0, 'x', '\\', 0 };

	assert_int_equal(fl_sql_bind_int64(ins, 1, 1), FL_SQL_OK);
	assert_int_equal(fl_sql_bind_text(ins, 2, "alpha"), FL_SQL_OK);
	assert_int_equal(fl_sql_bind_blob(ins, 3, blob, sizeof(blob)), FL_SQL_OK);
	assert_int_equal(fl_sql_step(ins), FL_SQL_DONE);
	assert_int_equal(fl_sql_changes(ins), 1);
	fl_sql_reset(ins);
	assert_int_equal(fl_sql_bind_int64(ins, 1, INT64_MIN + 1), FL_SQL_OK);
	assert_int_equal(fl_sql_bind_text(ins, 2, NULL), FL_SQL_OK);
	assert_int_equal(fl_sql_bind_blob(ins, 3, NULL, 0), FL_SQL_OK);
	assert_int_equal(fl_sql_step(ins), FL_SQL_DONE);
	fl_sql_reset(ins);
	assert_int_equal(fl_sql_bind_int64(ins, 1, INT64_MAX), FL_SQL_OK);
	assert_int_equal(fl_sql_bind_text(ins, 2, "x'y\"z; --"), FL_SQL_OK);
	assert_int_equal(fl_sql_bind_null(ins, 3), FL_SQL_OK);
	assert_int_equal(fl_sql_step(ins), FL_SQL_DONE);
	fl_sql_finalize(ins);

	fl_sql_stmt *q = prep_ok(db, "SELECT id, name, data FROM t WHERE id >= $1 ORDER BY id");
	size_t       len;
	assert_int_equal(fl_sql_bind_int64(q, 1, INT64_MIN), FL_SQL_OK);
	assert_int_equal(fl_sql_step(q), FL_SQL_ROW);
	assert_true(fl_sql_column_int64(q, 0) == INT64_MIN + 1);
	assert_true(fl_sql_column_is_null(q, 1));
	assert_string_equal(fl_sql_column_text(q, 1), ""); // NULL reads as ""
	assert_false(fl_sql_column_is_null(q, 2));         // an empty blob is not NULL
	fl_sql_column_blob(q, 2, &len);
	assert_int_equal(len, 0);
	assert_int_equal(fl_sql_step(q), FL_SQL_ROW);
	assert_int_equal(fl_sql_column_int64(q, 0), 1);
	assert_string_equal(fl_sql_column_text(q, 1), "alpha");
	const void *p = fl_sql_column_blob(q, 2, &len);
	assert_int_equal(len, sizeof(blob));
	assert_memory_equal(p, blob, sizeof(blob));
	assert_int_equal(fl_sql_step(q), FL_SQL_ROW);
	assert_true(fl_sql_column_int64(q, 0) == INT64_MAX);
	assert_string_equal(fl_sql_column_text(q, 1), "x'y\"z; --");
	assert_true(fl_sql_column_is_null(q, 2));
	p = fl_sql_column_blob(q, 2, &len);
	assert_null(p);
	assert_int_equal(len, 0);
	assert_int_equal(fl_sql_step(q), FL_SQL_DONE);
	assert_int_equal(fl_sql_changes(q), 0);

	// reset: run again with another binding
	fl_sql_reset(q);
	assert_int_equal(fl_sql_bind_int64(q, 1, 2), FL_SQL_OK);
	assert_int_equal(fl_sql_step(q), FL_SQL_ROW);
	assert_true(fl_sql_column_int64(q, 0) == INT64_MAX);
	assert_int_equal(fl_sql_step(q), FL_SQL_DONE);
	fl_sql_finalize(q);
	fl_sql_close(db);
}

// ON CONFLICT ... DO UPDATE SET x = excluded.x, RETURNING, a parameter used twice, LIMIT.
static void
test_upsert_returning_limit(void **state)
{
	(void) state;
	fl_sql      *db = open_db(false, 0);
	fl_sql_stmt *up = prep_ok(db,
	    "INSERT INTO t (id, name) VALUES ($1, $2) ON CONFLICT (id) DO "
	    "UPDATE SET name = excluded.name RETURNING id, name");
	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "n%d", i);
		assert_int_equal(fl_sql_bind_int64(up, 1, 7), FL_SQL_OK);
		assert_int_equal(fl_sql_bind_text(up, 2, name), FL_SQL_OK);
		assert_int_equal(fl_sql_step(up), FL_SQL_ROW);
		assert_int_equal(fl_sql_column_int64(up, 0), 7);
		assert_string_equal(fl_sql_column_text(up, 1), name);
		assert_int_equal(fl_sql_step(up), FL_SQL_DONE);
		assert_int_equal(fl_sql_changes(up), 1);
		fl_sql_reset(up);
	}
	fl_sql_finalize(up);
	assert_int_equal(sqlt_count(db, "t"), 1);

	fl_sql_stmt *ins = prep_ok(db, "INSERT INTO t (id, name) VALUES ($1, 'many')");
	for (int i = 100; i < 110; i++) {
		assert_int_equal(fl_sql_bind_int64(ins, 1, i), FL_SQL_OK);
		assert_int_equal(fl_sql_step(ins), FL_SQL_DONE);
		fl_sql_reset(ins);
	}
	fl_sql_finalize(ins);

	fl_sql_stmt *q = prep_ok(db,
	    "SELECT id FROM t WHERE ($1 = '' OR name = $1) AND id >= $2 "
	    "ORDER BY id DESC LIMIT $3");
	int          n = 0;
	assert_int_equal(fl_sql_bind_text(q, 1, "many"), FL_SQL_OK);
	assert_int_equal(fl_sql_bind_int64(q, 2, 0), FL_SQL_OK);
	assert_int_equal(fl_sql_bind_int64(q, 3, 4), FL_SQL_OK);
	while (fl_sql_step(q) == FL_SQL_ROW) {
		assert_int_equal(fl_sql_column_int64(q, 0), 109 - n);
		n++;
	}
	assert_int_equal(n, 4);
	fl_sql_finalize(q);

	fl_sql_stmt *del = prep_ok(db, "DELETE FROM t WHERE id >= $1");
	assert_int_equal(fl_sql_bind_int64(del, 1, 105), FL_SQL_OK);
	assert_int_equal(fl_sql_step(del), FL_SQL_DONE);
	assert_int_equal(fl_sql_changes(del), 5);
	fl_sql_finalize(del);
	fl_sql_close(db);
}

static void
test_transactions(void **state)
{
	(void) state;
	fl_sql      *db  = open_db(false, 0);
	fl_sql_stmt *ins = prep_ok(db, "INSERT INTO t (id) VALUES ($1)");

	fl_sql_rollback(db); // outside a transaction: harmless
	assert_int_equal(fl_sql_begin(db), FL_SQL_OK);
	assert_int_equal(fl_sql_bind_int64(ins, 1, 1), FL_SQL_OK);
	assert_int_equal(fl_sql_step(ins), FL_SQL_DONE);
	fl_sql_reset(ins);
	fl_sql_rollback(db);
	assert_int_equal(sqlt_count(db, "t"), 0);

	assert_int_equal(fl_sql_begin(db), FL_SQL_OK);
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(fl_sql_bind_int64(ins, 1, i), FL_SQL_OK);
		assert_int_equal(fl_sql_step(ins), FL_SQL_DONE);
		fl_sql_reset(ins);
	}
	assert_int_equal(fl_sql_commit(db), FL_SQL_OK);
	assert_int_equal(sqlt_count(db, "t"), 3);

	// A failing statement inside a transaction; the rollback leaves the connection usable.
	assert_int_equal(fl_sql_begin(db), FL_SQL_OK);
	assert_int_equal(fl_sql_bind_int64(ins, 1, 4), FL_SQL_OK);
	assert_int_equal(fl_sql_step(ins), FL_SQL_DONE);
	fl_sql_reset(ins);
	assert_int_equal(fl_sql_bind_int64(ins, 1, 1), FL_SQL_OK);
	assert_int_equal(fl_sql_step(ins), FL_SQL_ERROR); // duplicate key
	fl_sql_reset(ins);
	fl_sql_rollback(db);
	assert_int_equal(sqlt_count(db, "t"), 3);
	assert_int_equal(fl_sql_begin(db), FL_SQL_OK);
	assert_int_equal(fl_sql_bind_int64(ins, 1, 4), FL_SQL_OK);
	assert_int_equal(fl_sql_step(ins), FL_SQL_DONE);
	fl_sql_reset(ins);
	assert_int_equal(fl_sql_commit(db), FL_SQL_OK);
	assert_int_equal(sqlt_count(db, "t"), 4);
	fl_sql_finalize(ins);
	fl_sql_close(db);
}

static void
test_readonly_refuses_writes(void **state)
{
	(void) state;
	fl_sql      *rw  = open_db(false, 0);
	fl_sql      *ro  = open_db(true, 0);
	fl_sql_stmt *ins = prep_ok(rw, "INSERT INTO t (id, name) VALUES (1, 'one')");
	assert_int_equal(fl_sql_step(ins), FL_SQL_DONE);
	fl_sql_finalize(ins);

	assert_int_equal(sqlt_count(ro, "t"), 1); // reads work
	fl_sql_stmt *w  = NULL;
	int          rv = fl_sql_prepare(ro, "INSERT INTO t (id) VALUES (2)", &w);
	if (rv == FL_SQL_OK) {
		rv = fl_sql_step(w);
		fl_sql_finalize(w);
	}
	assert_int_equal(rv, FL_SQL_ERROR);
	assert_non_null(strstr(fl_sql_errmsg(ro), "read"));
	assert_int_equal(fl_sql_exec(ro, "DELETE FROM t"), FL_SQL_ERROR);
	assert_int_equal(fl_sql_begin(ro), FL_SQL_OK); // read transactions work
	assert_int_equal(sqlt_count(ro, "t"), 1);
	fl_sql_rollback(ro);
	assert_int_equal(sqlt_count(rw, "t"), 1);
	fl_sql_close(ro);
	fl_sql_close(rw);
}

static void
test_errors(void **state)
{
	(void) state;
	fl_sql      *db = open_db(false, 0);
	fl_sql_stmt *st = NULL;
	char         err[512];

	assert_int_equal(fl_sql_prepare(db, "SELEKT 1", &st), FL_SQL_ERROR);
	assert_null(st);
	assert_non_null(strstr(fl_sql_errmsg(db), "syntax"));
	assert_int_equal(fl_sql_prepare(db, "SELECT * FROM no_such_table", &st), FL_SQL_ERROR);
	assert_non_null(strstr(fl_sql_errmsg(db), "no_such_table"));
	assert_int_equal(fl_sql_exec(db, "INSERT INTO no_such_table VALUES (1)"), FL_SQL_ERROR);
	assert_non_null(strstr(fl_sql_errmsg(db), "no_such_table"));

	st = prep_ok(db, "SELECT id FROM t WHERE id = $1");
	assert_int_equal(fl_sql_bind_int64(st, 2, 1), FL_SQL_ERROR); // no $2 in the text
	assert_non_null(strstr(fl_sql_errmsg(db), "$2"));
	assert_int_equal(fl_sql_bind_int64(st, 1, 1), FL_SQL_OK);
	assert_int_equal(fl_sql_step(st), FL_SQL_DONE);
	fl_sql_finalize(st);
	fl_sql_finalize(NULL);
	fl_sql_close(NULL);

	// usable after the errors
	assert_int_equal(sqlt_count(db, "t"), 0);
	fl_sql_close(db);

	// nothing to open
	fl_sql     *bad = NULL;
	fl_sql_opts o   = { .target = "" };
	assert_int_equal(fl_sql_open(&o, &bad, err, sizeof(err)), FL_SQL_ERROR);
	o.target = sqlt_pg ? "postgresql://app@127.0.0.1:1/nowhere" : "/nonexistent-dir/x/state.db";
	assert_int_equal(fl_sql_open(&o, &bad, err, sizeof(err)), FL_SQL_ERROR);
	assert_null(bad);
	assert_true(strlen(err) > 0);
}

// The fence: a connection writing for epoch 1 cannot begin once another moved the epoch.
static void
test_fence(void **state)
{
	(void) state;
	fl_sql      *db    = open_db(false, 0);
	fl_sql      *taker = open_db(false, 0);
	fl_sql_stmt *ins   = prep_ok(db, "INSERT INTO t (id) VALUES ($1)");

	sqlt_exec(taker, "UPDATE " FL_SQL_LEASE_TABLE " SET epoch = 1 WHERE id = 1");
	fl_sql_set_fence(db, 1);
	assert_int_equal(fl_sql_begin(db), FL_SQL_OK);
	assert_int_equal(fl_sql_bind_int64(ins, 1, 1), FL_SQL_OK);
	assert_int_equal(fl_sql_step(ins), FL_SQL_DONE);
	fl_sql_reset(ins);
	assert_int_equal(fl_sql_commit(db), FL_SQL_OK);

	sqlt_exec(taker, "UPDATE " FL_SQL_LEASE_TABLE " SET epoch = 2 WHERE id = 1");
	assert_int_equal(fl_sql_begin(db), FL_SQL_EFENCED);
	assert_non_null(strstr(fl_sql_errmsg(db), "fenced"));
	assert_int_equal(fl_sql_begin(db), FL_SQL_EFENCED); // and stays so
	assert_int_equal(sqlt_count(taker, "t"), 1);        // nothing more written

	fl_sql_set_fence(db, 2); // the new holder's epoch: writes again
	assert_int_equal(fl_sql_begin(db), FL_SQL_OK);
	assert_int_equal(fl_sql_bind_int64(ins, 1, 2), FL_SQL_OK);
	assert_int_equal(fl_sql_step(ins), FL_SQL_DONE);
	fl_sql_reset(ins);
	assert_int_equal(fl_sql_commit(db), FL_SQL_OK);
	assert_int_equal(sqlt_count(taker, "t"), 2);

	fl_sql_set_fence(db, 0); // no fence
	sqlt_exec(taker, "UPDATE " FL_SQL_LEASE_TABLE " SET epoch = 3 WHERE id = 1");
	assert_int_equal(fl_sql_begin(db), FL_SQL_OK);
	fl_sql_rollback(db);
	fl_sql_finalize(ins);
	fl_sql_close(taker);
	fl_sql_close(db);
}

// SQLite: a second writer waits busy_timeout for the write lock, then FL_SQL_EBUSY.
static void
test_busy_sqlite(void **state)
{
	(void) state;
	fl_sql *a = open_db(false, 0);
	fl_sql *b = open_db(false, 100);

	assert_int_equal(fl_sql_begin(a), FL_SQL_OK);
	assert_int_equal(fl_sql_begin(b), FL_SQL_EBUSY);
	fl_sql_rollback(a);
	assert_int_equal(fl_sql_begin(b), FL_SQL_OK);
	fl_sql_rollback(b);
	fl_sql_close(a);
	fl_sql_close(b);
}

// PostgreSQL: a statement past statement_timeout is FL_SQL_EBUSY, and so is the taker's lock
// of the lease row (FOR UPDATE, before its epoch update) while a fenced transaction holds it FOR
// KEY SHARE; a plain update of the row (the holder's heartbeat) does not wait.
static void
test_busy_pg(void **state)
{
	(void) state;
	fl_sql      *db    = open_db(false, 300);
	fl_sql      *taker = open_db(false, 300);
	fl_sql_stmt *st    = prep_ok(db, "SELECT pg_sleep(3)");

	assert_int_equal(fl_sql_step(st), FL_SQL_EBUSY);
	assert_non_null(strstr(fl_sql_errmsg(db), "timeout"));
	fl_sql_finalize(st);
	assert_int_equal(sqlt_count(db, "t"), 0); // usable again

	sqlt_exec(taker, "UPDATE " FL_SQL_LEASE_TABLE " SET epoch = 1 WHERE id = 1");
	fl_sql_set_fence(db, 1);
	assert_int_equal(fl_sql_begin(db), FL_SQL_OK);
	assert_int_equal(
	    fl_sql_exec(taker, "SELECT id FROM " FL_SQL_LEASE_TABLE " WHERE id = 1 FOR UPDATE"),
	    FL_SQL_EBUSY); // waits for the fenced transaction
	// a plain update of a non-key column (as the heartbeat) goes through at once
	sqlt_exec(taker, "UPDATE " FL_SQL_LEASE_TABLE " SET epoch = 1 WHERE id = 1");
	sqlt_exec(db, "INSERT INTO t (id) VALUES (1)");
	assert_int_equal(fl_sql_commit(db), FL_SQL_OK);
	sqlt_exec(taker,
	    "BEGIN; SELECT id FROM " FL_SQL_LEASE_TABLE " WHERE id = 1 FOR UPDATE;"
	    " UPDATE " FL_SQL_LEASE_TABLE " SET epoch = 2 WHERE id = 1; COMMIT");
	assert_int_equal(fl_sql_begin(db), FL_SQL_EFENCED);
	assert_int_equal(sqlt_count(taker, "t"), 1);
	fl_sql_close(taker);
	fl_sql_close(db);
}

// PostgreSQL: a connection the server ended is FL_SQL_EBROKEN once; the next call outside a
// transaction connects again (session settings and fence kept, statements prepared again).
static void
test_broken_pg(void **state)
{
	(void) state;
	fl_sql      *db     = open_db(false, 0);
	fl_sql      *killer = open_db(false, 0);
	fl_sql      *ro     = open_db(true, 0);
	fl_sql_stmt *q      = prep_ok(db, "SELECT count(*) FROM t");
	fl_sql_stmt *ins    = prep_ok(db, "INSERT INTO t (id) VALUES ($1)");
	fl_sql_stmt *roq = prep_ok(ro, "SELECT current_setting('default_transaction_read_only')");

	sqlt_terminate(db, killer);
	assert_int_equal(fl_sql_step(q), FL_SQL_EBROKEN);
	fl_sql_reset(q);
	assert_int_equal(fl_sql_step(q), FL_SQL_ROW); // reconnected, prepared again
	assert_int_equal(fl_sql_column_int64(q, 0), 0);
	fl_sql_reset(q);

	// Lost inside a transaction: the transaction is gone, nothing runs outside it until the
	// caller rolls back.
	sqlt_exec(killer, "UPDATE " FL_SQL_LEASE_TABLE " SET epoch = 5 WHERE id = 1");
	fl_sql_set_fence(db, 5);
	assert_int_equal(fl_sql_begin(db), FL_SQL_OK);
	assert_int_equal(fl_sql_bind_int64(ins, 1, 1), FL_SQL_OK);
	assert_int_equal(fl_sql_step(ins), FL_SQL_DONE);
	fl_sql_reset(ins);
	sqlt_terminate(ro, killer); // (ro's turn below)
	sqlt_terminate(db, killer);
	assert_int_equal(fl_sql_bind_int64(ins, 1, 2), FL_SQL_OK);
	assert_int_equal(fl_sql_step(ins), FL_SQL_EBROKEN);
	fl_sql_reset(ins);
	assert_int_equal(fl_sql_bind_int64(ins, 1, 3), FL_SQL_OK);
	assert_int_equal(fl_sql_step(ins), FL_SQL_EBROKEN); // still in the lost transaction
	fl_sql_reset(ins);
	assert_int_equal(fl_sql_commit(db), FL_SQL_EBROKEN);
	fl_sql_rollback(db);
	assert_int_equal(sqlt_count(killer, "t"), 0); // nothing of it was written

	// The fence holds on the new session.
	sqlt_exec(killer, "UPDATE " FL_SQL_LEASE_TABLE " SET epoch = 6 WHERE id = 1");
	assert_int_equal(fl_sql_begin(db), FL_SQL_EFENCED);
	fl_sql_set_fence(db, 6);
	assert_int_equal(fl_sql_begin(db), FL_SQL_OK);
	assert_int_equal(fl_sql_bind_int64(ins, 1, 4), FL_SQL_OK);
	assert_int_equal(fl_sql_step(ins), FL_SQL_DONE);
	fl_sql_reset(ins);
	assert_int_equal(fl_sql_commit(db), FL_SQL_OK);
	assert_int_equal(sqlt_count(killer, "t"), 1);

	// A loss found by a call that cannot report it (finalize) still reaches the caller once.
	fl_sql_stmt *tmp = prep_ok(db, "SELECT 1");
	sqlt_terminate(db, killer);
	fl_sql_finalize(tmp); // its DEALLOCATE finds the loss
	assert_int_equal(fl_sql_step(q), FL_SQL_EBROKEN);
	fl_sql_reset(q);
	assert_int_equal(fl_sql_step(q), FL_SQL_ROW);
	fl_sql_reset(q);

	// A read-only connection is read-only again after reconnecting.
	assert_int_equal(fl_sql_step(roq), FL_SQL_EBROKEN);
	fl_sql_reset(roq);
	assert_int_equal(fl_sql_step(roq), FL_SQL_ROW);
	assert_string_equal(fl_sql_column_text(roq, 0), "on");
	fl_sql_reset(roq);
	assert_int_equal(fl_sql_exec(ro, "INSERT INTO t (id) VALUES (9)"), FL_SQL_ERROR);

	fl_sql_finalize(roq);
	fl_sql_finalize(q);
	fl_sql_finalize(ins);
	fl_sql_close(ro);
	fl_sql_close(db);
	fl_sql_close(killer);
}

// PostgreSQL: the password comes only from a private password_file and never shows in errors.
static void
test_password_pg(void **state)
{
	(void) state;
	char        path[] = "/tmp/fl-sql-pw-XXXXXX";
	char        err[512];
	fl_sql     *db   = NULL;
	fl_sql_opts o    = { .target = sqlt_target, .password_file = path };
	int         fd   = mkstemp(path);
	const char  pw[] = "wrong-Secret-4711\n";

	assert_true(fd >= 0);
	assert_int_equal(write(fd, pw, strlen(pw)), (ssize_t) strlen(pw));
	close(fd);
	assert_int_equal(fl_sql_open(&o, &db, err, sizeof(err)), FL_SQL_ERROR); // wrong password
	assert_null(db);
	assert_null(strstr(err, "wrong-Secret-4711"));
	assert_non_null(strstr(err, "password"));

	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(fl_sql_open(&o, &db, err, sizeof(err)), FL_SQL_ERROR);
	assert_non_null(strstr(err, "chmod 600"));
	assert_null(strstr(err, "wrong-Secret-4711"));
	unlink(path);
	assert_int_equal(fl_sql_open(&o, &db, err, sizeof(err)), FL_SQL_ERROR);
	assert_non_null(strstr(err, path)); // a missing file is named

	o.target        = "postgresql://app:inline-Secret@127.0.0.1/x";
	o.password_file = NULL;
	assert_int_equal(fl_sql_open(&o, &db, err, sizeof(err)), FL_SQL_ERROR);
	assert_non_null(strstr(err, "password_file"));
	assert_null(strstr(err, "inline-Secret"));
	o.target = "host=127.0.0.1 password=inline-Secret";
	assert_int_equal(fl_sql_open(&o, &db, err, sizeof(err)), FL_SQL_ERROR);
	assert_null(strstr(err, "inline-Secret"));
	assert_null(db);
}

// PostgreSQL: application_name shows in pg_stat_activity; a read-only session says so.
static void
test_session_pg(void **state)
{
	(void) state;
	fl_sql      *ro = open_db(true, 0);
	fl_sql_stmt *st = prep_ok(ro,
	    "SELECT application_name, current_setting("
	    "'default_transaction_read_only') = 'on', "
	    "current_setting('statement_timeout') FROM pg_stat_activity "
	    "WHERE pid = pg_backend_pid()");
	assert_int_equal(fl_sql_step(st), FL_SQL_ROW);
	assert_string_equal(fl_sql_column_text(st, 0), "faultline-sql-test");
	assert_int_equal(fl_sql_column_int64(st, 1), 1);
	assert_string_equal(fl_sql_column_text(st, 2), "5s"); // timeout_ms 0: 5000
	fl_sql_finalize(st);
	fl_sql_close(ro);
}

// ---- migrations ------------------------------------------------------------------------------

static const fl_sql_migration mig[] = {
	{ .sqlite  = "CREATE TABLE m1 (id INTEGER PRIMARY KEY, v BLOB);"
	             "CREATE TABLE applied (n BIGINT NOT NULL); INSERT INTO applied VALUES (1)",
	    .pgsql = "CREATE TABLE m1 (id BIGINT PRIMARY KEY, v BYTEA);"
	             "CREATE TABLE applied (n BIGINT NOT NULL); INSERT INTO applied VALUES (1)" },
	{ .sqlite  = "ALTER TABLE m1 ADD COLUMN w TEXT NOT NULL DEFAULT 'x';"
	             "INSERT INTO applied VALUES (2)",
	    .pgsql = "ALTER TABLE m1 ADD COLUMN w TEXT NOT NULL DEFAULT 'x';"
	             "INSERT INTO applied VALUES (2)" },
	{ .sqlite  = "CREATE TABLE m2 (id BIGINT); INSERT INTO applied VALUES (3)",
	    .pgsql = "CREATE TABLE m2 (id BIGINT); INSERT INTO applied VALUES (3)" },
};

static void
test_migrate(void **state)
{
	(void) state;
	fl_sql *db = open_db(false, 0);

	assert_int_equal(fl_sql_schema_version(db, "test"), 0);
	assert_int_equal(fl_sql_migrate(db, "test", mig, 2), FL_SQL_OK);
	assert_int_equal(fl_sql_schema_version(db, "test"), 2);
	assert_int_equal(fl_sql_schema_version(db, "lease"), 1);
	assert_int_equal(sqlt_count(db, "applied"), 2);
	assert_int_equal(sqlt_count(db, FL_SQL_LEASE_TABLE), 1);
	sqlt_exec(db, "INSERT INTO m1 (id, w) VALUES (1, 'kept')");

	assert_int_equal(fl_sql_migrate(db, "test", mig, 2), FL_SQL_OK); // nothing to do
	assert_int_equal(sqlt_count(db, "applied"), 2);
	assert_int_equal(fl_sql_migrate(db, "test", mig, 3), FL_SQL_OK); // only the new one
	assert_int_equal(fl_sql_schema_version(db, "test"), 3);
	assert_int_equal(sqlt_count(db, "applied"), 3);
	assert_int_equal(sqlt_count(db, "m1"), 1);
	assert_int_equal(sqlt_count(db, "m2"), 0);

	// Other components keep their own versions; the lease row is made once.
	assert_int_equal(fl_sql_migrate(db, "other", mig + 2, 0), FL_SQL_OK);
	assert_int_equal(fl_sql_schema_version(db, "other"), 0);
	assert_int_equal(sqlt_count(db, FL_SQL_LEASE_TABLE), 1);
	fl_sql_stmt *st = prep_ok(db, "SELECT epoch FROM " FL_SQL_LEASE_TABLE " WHERE id = 1");
	assert_int_equal(fl_sql_step(st), FL_SQL_ROW);
	assert_int_equal(fl_sql_column_int64(st, 0), 0);
	fl_sql_finalize(st);
	fl_sql_close(db);
}

// A failing migration leaves the database at the version before it, its DDL undone.
static void
test_migrate_failure_rolls_back(void **state)
{
	(void) state;
	fl_sql                *db    = open_db(false, 0);
	const fl_sql_migration bad[] = { mig[0],
		{ .sqlite  = "CREATE TABLE half (id BIGINT); INSERT INTO nowhere VALUES (1)",
		    .pgsql = "CREATE TABLE half (id BIGINT); INSERT INTO nowhere VALUES (1)" } };

	assert_int_equal(fl_sql_migrate(db, "test", bad, 2), FL_SQL_ERROR);
	assert_non_null(strstr(fl_sql_errmsg(db), "test"));
	assert_non_null(strstr(fl_sql_errmsg(db), "version 2"));
	assert_non_null(strstr(fl_sql_errmsg(db), "nowhere"));
	assert_int_equal(fl_sql_schema_version(db, "test"), 1);
	fl_sql_stmt *st = NULL;
	assert_int_equal(fl_sql_prepare(db, "SELECT * FROM half", &st), FL_SQL_ERROR);
	assert_int_equal(sqlt_count(db, "applied"), 1); // usable, nothing half-done
	fl_sql_close(db);
}

// A database written by a newer collector is refused, by writers and readers.
static void
test_migrate_refuses_newer(void **state)
{
	(void) state;
	fl_sql *db = open_db(false, 0);
	fl_sql *ro;

	assert_int_equal(fl_sql_migrate(db, "test", mig, 3), FL_SQL_OK);
	sqlt_exec(db, "UPDATE fl_schema SET version = 9 WHERE component = 'test'");
	assert_int_equal(fl_sql_migrate(db, "test", mig, 3), FL_SQL_ERROR);
	assert_non_null(strstr(fl_sql_errmsg(db), "newer"));
	assert_non_null(strstr(fl_sql_errmsg(db), "version 9"));
	assert_int_equal(sqlt_count(db, "applied"), 3);
	ro = open_db(true, 0);
	assert_int_equal(fl_sql_migrate(ro, "test", mig, 3), FL_SQL_ERROR);
	assert_non_null(strstr(fl_sql_errmsg(ro), "newer"));
	sqlt_exec(db, "UPDATE fl_schema SET version = 3 WHERE component = 'test'");
	assert_int_equal(fl_sql_migrate(ro, "test", mig, 3), FL_SQL_OK);
	fl_sql_close(ro);
	fl_sql_close(db);
}

typedef struct racer {
	pthread_barrier_t *go;
	int                rv;
	char               err[512];
} racer;

static void *
race_migrate(void *arg)
{
	racer      *r  = arg;
	fl_sql     *db = NULL;
	fl_sql_opts o  = {
		 .target = sqlt_target, .password_file = sqlt_password_file, .timeout_ms = 10000
	};

	r->rv = fl_sql_open(&o, &db, r->err, sizeof(r->err));
	pthread_barrier_wait(r->go);
	if (r->rv == FL_SQL_OK) {
		r->rv = fl_sql_migrate(db, "test", mig, 3);
		snprintf(r->err, sizeof(r->err), "%s", fl_sql_errmsg(db));
		fl_sql_close(db);
	}
	return NULL;
}

// Collectors starting together: every migration is applied once.
static void
test_migrate_race(void **state)
{
	(void) state;
	enum { N = 3 };
	pthread_barrier_t go;
	pthread_t         tid[N];
	racer             r[N];

	pthread_barrier_init(&go, NULL, N);
	for (int i = 0; i < N; i++) {
		r[i].go = &go;
		assert_int_equal(pthread_create(&tid[i], NULL, race_migrate, &r[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(tid[i], NULL);
	}
	pthread_barrier_destroy(&go);
	for (int i = 0; i < N; i++) {
		if (r[i].rv != FL_SQL_OK) {
			fail_msg("racer %d: %d %s", i, r[i].rv, r[i].err);
		}
	}
	fl_sql *db = open_db(false, 0);
	assert_int_equal(sqlt_count(db, "applied"), 3);
	assert_int_equal(sqlt_count(db, FL_SQL_LEASE_TABLE), 1);
	assert_int_equal(fl_sql_schema_version(db, "test"), 3);
	fl_sql_close(db);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target_engine),
		cmocka_unit_test(test_count_params),
		cmocka_unit_test_setup(test_insert_bind_by_number, setup),
		cmocka_unit_test_setup(test_upsert_returning_limit, setup),
		cmocka_unit_test_setup(test_transactions, setup),
		cmocka_unit_test_setup(test_readonly_refuses_writes, setup),
		cmocka_unit_test_setup(test_errors, setup),
		cmocka_unit_test_setup(test_fence, setup),
		cmocka_unit_test_setup(test_migrate, setup),
		cmocka_unit_test_setup(test_migrate_failure_rolls_back, setup),
		cmocka_unit_test_setup(test_migrate_refuses_newer, setup),
		cmocka_unit_test_setup(test_migrate_race, setup),
	};
	const struct CMUnitTest lite_tests[] = {
		cmocka_unit_test_setup(test_busy_sqlite, setup),
	};
	const struct CMUnitTest pg_tests[] = {
		cmocka_unit_test_setup(test_busy_pg, setup),
		cmocka_unit_test_setup(test_broken_pg, setup),
		cmocka_unit_test(test_password_pg),
		cmocka_unit_test(test_session_pg),
	};
	int rc;

	sqlt_choose(argc, argv, "sql-test");
	sqlt_remove_lite();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (sqlt_pg) {
		rc |= cmocka_run_group_tests(pg_tests, NULL, NULL);
	} else {
		rc |= cmocka_run_group_tests(lite_tests, NULL, NULL);
	}
	sqlt_remove_lite();
	return rc;
}
