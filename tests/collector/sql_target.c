// sql_target.c - see sql_target.h.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sql_target.h"

const char *sqlt_target;
const char *sqlt_password_file;
bool        sqlt_pg;

static char lite_path[96];

void
sqlt_choose(int argc, char **argv, const char *name)
{
	sqlt_target        = argc > 1 ? argv[1] : getenv("FL_SQL_TEST_TARGET");
	sqlt_password_file = getenv("FL_SQL_TEST_PASSWORD_FILE");
	if (sqlt_target == NULL || sqlt_target[0] == '\0') {
		snprintf(lite_path, sizeof(lite_path), "/tmp/fl-%s-%d.db", name, (int) getpid());
		sqlt_target        = lite_path;
		sqlt_password_file = NULL;
	}
	sqlt_pg = fl_sql_target_engine(sqlt_target) == FL_SQL_PGSQL;
}

fl_sql *
sqlt_open(const fl_sql_opts *o)
{
	fl_sql *db = NULL;
	char    err[512];
	if (fl_sql_open(o, &db, err, sizeof(err)) != FL_SQL_OK) {
		fail_msg("cannot open %s: %s", o->target, err);
	}
	return db;
}

void
sqlt_exec(fl_sql *db, const char *sql)
{
	if (fl_sql_exec(db, sql) != FL_SQL_OK) {
		fail_msg("%s: %s", sql, fl_sql_errmsg(db));
	}
}

// Prepares sql on db or fails the test.
static fl_sql_stmt *
prep(fl_sql *db, const char *sql)
{
	fl_sql_stmt *st = NULL;
	if (fl_sql_prepare(db, sql, &st) != FL_SQL_OK) {
		fail_msg("%s: %s", sql, fl_sql_errmsg(db));
	}
	return st;
}

int64_t
sqlt_int(fl_sql *db, const char *sql)
{
	fl_sql_stmt *st = prep(db, sql);
	int64_t      n;
	if (fl_sql_step(st) != FL_SQL_ROW) {
		fail_msg("%s: no row: %s", sql, fl_sql_errmsg(db));
	}
	n = fl_sql_column_int64(st, 0);
	assert_int_equal(fl_sql_step(st), FL_SQL_DONE);
	fl_sql_finalize(st);
	return n;
}

int64_t
sqlt_count(fl_sql *db, const char *table)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	return sqlt_int(db, sql);
}

void
sqlt_terminate(fl_sql *db, fl_sql *killer)
{
	char sql[96];
	// with a timeout: returns once the backend is gone (PostgreSQL 14+)
	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%lld, 10000)::int",
	    (long long) sqlt_int(db, "SELECT pg_backend_pid()"));
	assert_int_equal(sqlt_int(killer, sql), 1);
}

void
sqlt_remove_lite(void)
{
	char p[128];
	if (sqlt_pg) {
		return;
	}
	unlink(sqlt_target);
	snprintf(p, sizeof(p), "%s-wal", sqlt_target);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", sqlt_target);
	unlink(p);
}
