// exporter_counters.c - see exporter_counters.h.

#include "exporter_counters.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql_migrate.h"

struct coll_counters {
	fl_sql *db; // also while lost: sql.h connects it again by itself
	char    err[256];
};

// Migration 1: today's table word for word on SQLite (a database it wrote is adopted, rows
// kept); the same in PostgreSQL's types.
static const char counters_v1_sqlite[] =
    "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)";
static const char counters_v1_pgsql[] =
    "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL)";

static const fl_sql_migration counters_migrations[] = {
	{ counters_v1_sqlite, counters_v1_pgsql },
};

static int
migrate(fl_sql *db)
{
	return fl_sql_migrate(db, "counters", counters_migrations,
	    sizeof(counters_migrations) / sizeof(counters_migrations[0]));
}

// Records a failure's message. Returns rc.
static int
failed(coll_counters *c, int rc)
{
	snprintf(c->err, sizeof(c->err), "%s", fl_sql_errmsg(c->db));
	return rc;
}

int
coll_counters_open(const fl_sql_opts *o, coll_counters **out, char *err, size_t errlen)
{
	coll_counters *c = calloc(1, sizeof(*c));
	char           why[200];
	// A conninfo or URI may carry a password: only a path is named.
	const char *where =
	    fl_sql_target_engine(o->target) == FL_SQL_PGSQL ? "the PostgreSQL state" : o->target;

	if (c == NULL) {
		snprintf(err, errlen, "cannot open the counters: out of memory");
		return -1;
	}
	if (fl_sql_open(o, &c->db, why, sizeof(why)) != FL_SQL_OK) {
		snprintf(err, errlen, "cannot open %s for counters: %s", where, why);
		coll_counters_close(c);
		return -1;
	}
	if (migrate(c->db) != FL_SQL_OK) {
		snprintf(
		    err, errlen, "cannot set up counters in %s: %s", where, fl_sql_errmsg(c->db));
		coll_counters_close(c);
		return -1;
	}
	*out = c;
	return 0;
}

void
coll_counters_close(coll_counters *c)
{
	if (c == NULL) {
		return;
	}
	fl_sql_close(c->db);
	free(c);
}

void
coll_counters_set_fence(coll_counters *c, int64_t epoch)
{
	fl_sql_set_fence(c->db, epoch);
}

const char *
coll_counters_errmsg(const coll_counters *c)
{
	return c->err;
}

int
coll_counters_load(coll_counters *c, const char *const *names, size_t n, uint64_t *v)
{
	fl_sql_stmt *q       = NULL;
	uint64_t     got[16] = { 0 };
	int          rc;

	if (n > sizeof(got) / sizeof(got[0])) {
		snprintf(c->err, sizeof(c->err), "too many counters");
		return FL_SQL_ERROR;
	}
	if ((rc = fl_sql_prepare(c->db, "SELECT name, value FROM counters", &q)) != FL_SQL_OK) {
		return failed(c, rc);
	}
	while ((rc = fl_sql_step(q)) == FL_SQL_ROW) {
		const char *name = fl_sql_column_text(q, 0);
		int64_t     x    = fl_sql_column_int64(q, 1);
		for (size_t i = 0; x > 0 && i < n; i++) {
			if (strcmp(name, names[i]) == 0) {
				got[i] = (uint64_t) x;
			}
		}
	}
	fl_sql_finalize(q);
	if (rc != FL_SQL_DONE) {
		return failed(c, rc);
	}
	memcpy(v, got, n * sizeof(*v));
	return FL_SQL_OK;
}

int
coll_counters_save(coll_counters *c, const char *const *names, size_t n, const uint64_t *v)
{
	fl_sql_stmt *up = NULL;
	int          rc;

	if ((rc = fl_sql_begin(c->db)) != FL_SQL_OK) {
		return failed(c, rc);
	}
	rc = fl_sql_prepare(c->db,
	    "INSERT INTO counters (name, value) VALUES ($1, $2)"
	    " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
	    &up);
	for (size_t i = 0; rc == FL_SQL_OK && i < n; i++) {
		if ((rc = fl_sql_bind_text(up, 1, names[i])) == FL_SQL_OK &&
		    (rc = fl_sql_bind_int64(up, 2, (int64_t) v[i])) == FL_SQL_OK) {
			int step = fl_sql_step(up);
			rc       = step == FL_SQL_DONE ? FL_SQL_OK : step < 0 ? step : FL_SQL_ERROR;
		}
		fl_sql_reset(up);
	}
	fl_sql_finalize(up);
	if (rc == FL_SQL_OK) {
		rc = fl_sql_commit(c->db);
	}
	if (rc != FL_SQL_OK) {
		rc = failed(c, rc);
		fl_sql_rollback(c->db); // a lost connection is connected again after it (sql.h)
	}
	return rc;
}
