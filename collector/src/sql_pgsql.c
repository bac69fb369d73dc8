// sql_pgsql.c - the PostgreSQL engine of sql.h (placeholder until the libpq engine lands).

#include <stdio.h>

#include "sql_engine.h"

static int
pg_open(const fl_sql_opts *o, fl_sql **out, char *err, size_t errlen)
{
	(void) o;
	(void) out;
	snprintf(err, errlen, "PostgreSQL state is not built yet");
	return FL_SQL_ERROR;
}

const fl_sql_engine_ops fl_sql_pgsql_ops = { .open = pg_open };
