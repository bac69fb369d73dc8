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
