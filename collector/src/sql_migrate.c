// sql_migrate.c - see sql_migrate.h.

#include "sql_migrate.h"

#include <stdio.h>
#include <string.h>

#include "sql_engine.h"

#define SCHEMA_TABLE                                                                            \
	"CREATE TABLE IF NOT EXISTS fl_schema (component TEXT PRIMARY KEY, version BIGINT NOT " \
	"NULL)"

// The lease row every fenced transaction reads; the HA lease adds its columns in its own
// component's migrations.
static const fl_sql_migration lease_migrations[] = {
	{ .sqlite = "CREATE TABLE IF NOT EXISTS " FL_SQL_LEASE_TABLE
	            " (id BIGINT PRIMARY KEY, epoch BIGINT NOT NULL);"
	            "INSERT INTO " FL_SQL_LEASE_TABLE " (id, epoch) VALUES (1, 0)"
	            " ON CONFLICT (id) DO NOTHING",
	    .pgsql = "CREATE TABLE IF NOT EXISTS " FL_SQL_LEASE_TABLE
	             " (id BIGINT PRIMARY KEY, epoch BIGINT NOT NULL);"
	             "INSERT INTO " FL_SQL_LEASE_TABLE " (id, epoch) VALUES (1, 0)"
	             " ON CONFLICT (id) DO NOTHING" },
};

// Reads the component's version inside the current transaction (0: no row).
static int
read_version(fl_sql *db, const char *component, int64_t *version)
{
	fl_sql_stmt *st;
	int          rv;

	if ((rv = fl_sql_prepare(db, "SELECT version FROM fl_schema WHERE component = $1", &st)) !=
	    FL_SQL_OK) {
		return rv;
	}
	if ((rv = fl_sql_bind_text(st, 1, component)) == FL_SQL_OK) {
		rv = fl_sql_step(st);
	}
	*version = rv == FL_SQL_ROW ? fl_sql_column_int64(st, 0) : 0;
	fl_sql_finalize(st);
	return rv == FL_SQL_ROW || rv == FL_SQL_DONE ? FL_SQL_OK : rv;
}

static int
write_version(fl_sql *db, const char *component, int64_t version)
{
	fl_sql_stmt *st;
	int          rv;

	if ((rv = fl_sql_prepare(db,
	         "INSERT INTO fl_schema (component, version) VALUES ($1, $2)"
	         " ON CONFLICT (component) DO UPDATE SET version = excluded.version",
	         &st)) != FL_SQL_OK) {
		return rv;
	}
	if ((rv = fl_sql_bind_text(st, 1, component)) == FL_SQL_OK &&
	    (rv = fl_sql_bind_int64(st, 2, version)) == FL_SQL_OK) {
		rv = fl_sql_step(st);
	}
	fl_sql_finalize(st);
	return rv == FL_SQL_DONE ? FL_SQL_OK : rv;
}

// Prefixes the current error with what was being done (the engine's text stays).
static int
explain(fl_sql *db, int rv, const char *component, int64_t version)
{
	char why[sizeof(db->errmsg)];

	memcpy(why, db->errmsg, sizeof(why));
	return fl_sql_fail(
	    db, rv, "schema of %s, version %lld: %s", component, (long long) version, why);
}

static int
newer(fl_sql *db, const char *component, int64_t have, size_t known)
{
	return fl_sql_fail(db, FL_SQL_ERROR,
	    "the database's %s schema is version %lld, newer than this collector knows (%zu): a "
	    "newer faultline-collector wrote it; run that version (or a newer one)",
	    component, (long long) have, known);
}

// One transaction: lock, read the version, apply the next migration if one is due. *done is
// set when the component is at version n.
static int
migrate_step(fl_sql *db, const char *component, const fl_sql_migration *m, size_t n, bool *done)
{
	int64_t     have = 0;
	const char *text;
	int         rv;

	if ((rv = fl_sql_begin(db)) != FL_SQL_OK) {
		return explain(db, rv, component, 0);
	}
	if (fl_sql_engine_of(db) == FL_SQL_PGSQL) {
		char lock[80];
		snprintf(lock, sizeof(lock), "SELECT pg_advisory_xact_lock(%lld)",
		    (long long) FL_SQL_MIGRATE_LOCK);
		rv = fl_sql_exec(db, lock);
	}
	if (rv == FL_SQL_OK) {
		rv = fl_sql_exec(db, SCHEMA_TABLE);
	}
	if (rv == FL_SQL_OK) {
		rv = read_version(db, component, &have);
	}
	if (rv != FL_SQL_OK) {
		rv = explain(db, rv, component, 0);
		goto rollback;
	}
	if (have > (int64_t) n) {
		rv = newer(db, component, have, n);
		goto rollback;
	}
	if (have == (int64_t) n) {
		*done = true;
		fl_sql_rollback(db); // nothing written
		return FL_SQL_OK;
	}
	text = fl_sql_engine_of(db) == FL_SQL_PGSQL ? m[have].pgsql : m[have].sqlite;
	if ((rv = fl_sql_exec(db, text)) != FL_SQL_OK ||
	    (rv = write_version(db, component, have + 1)) != FL_SQL_OK ||
	    (rv = fl_sql_commit(db)) != FL_SQL_OK) {
		rv = explain(db, rv, component, have + 1);
		goto rollback;
	}
	return FL_SQL_OK;
rollback:
	fl_sql_rollback(db);
	return rv;
}

// A read-only connection cannot migrate; it refuses a newer database and trusts the writer
// (which opens first) for the rest.
static int
check_only(fl_sql *db, const char *component, size_t n)
{
	int64_t have = fl_sql_schema_version(db, component);

	if (have < 0) {
		return (int) have;
	}
	return have > (int64_t) n ? newer(db, component, have, n) : FL_SQL_OK;
}

static int
migrate_component(fl_sql *db, const char *component, const fl_sql_migration *m, size_t n)
{
	bool done = false;
	int  rv;

	if (db->readonly) {
		return check_only(db, component, n);
	}
	while (!done) {
		if ((rv = migrate_step(db, component, m, n, &done)) != FL_SQL_OK) {
			return rv;
		}
	}
	return FL_SQL_OK;
}

int
fl_sql_migrate(fl_sql *db, const char *component, const fl_sql_migration *migrations, size_t n)
{
	int rv = migrate_component(
	    db, "lease", lease_migrations, sizeof(lease_migrations) / sizeof(lease_migrations[0]));
	return rv != FL_SQL_OK ? rv : migrate_component(db, component, migrations, n);
}

// Whether the table exists (1), not (0), or a negative FL_SQL_E...
static int
table_exists(fl_sql *db, const char *table)
{
	fl_sql_stmt *st;
	int          rv;

	rv = fl_sql_prepare(db,
	    fl_sql_engine_of(db) == FL_SQL_PGSQL
	        ? "SELECT 1 WHERE to_regclass($1) IS NOT NULL"
	        : "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1",
	    &st);
	if (rv != FL_SQL_OK) {
		return rv;
	}
	if ((rv = fl_sql_bind_text(st, 1, table)) == FL_SQL_OK) {
		rv = fl_sql_step(st);
	}
	fl_sql_finalize(st);
	return rv == FL_SQL_ROW ? 1 : rv == FL_SQL_DONE ? 0 : rv;
}

int64_t
fl_sql_schema_version(fl_sql *db, const char *component)
{
	int64_t v  = 0;
	int     rv = table_exists(db, "fl_schema");

	// A database no collector has migrated has no fl_schema: version 0 of everything.
	if (rv <= 0) {
		return rv;
	}
	rv = read_version(db, component, &v);
	return rv == FL_SQL_OK ? v : rv;
}
