// sql_migrate.h - forward schema migrations, per component, on either engine.
//
// A component (the store, the notification outbox, the lease...) lists its migrations in
// order: migrations[0] takes it to version 1, migrations[i] to version i + 1. Each has one text
// per engine (DDL differs). fl_sql_migrate() applies, at start, those the database lacks:
// each in its own transaction together with its row in fl_schema(component, version), so a
// crash leaves the database at one version or the next. On PostgreSQL each transaction first
// takes pg_advisory_xact_lock(FL_SQL_MIGRATE_LOCK): collectors starting together apply every
// migration once, one after the other. A database whose version is above n was written by a
// newer collector: fl_sql_migrate() refuses it (FL_SQL_ERROR) rather than run old code on it.
//
// Every call first brings the "lease" component up: fl_lease(id, epoch) with the row (1, 0),
// the row fenced writes read (sql.h). A read-only connection only checks versions.

#ifndef FL_COLLECTOR_SQL_MIGRATE_H
#define FL_COLLECTOR_SQL_MIGRATE_H

#include <stddef.h>

#include "sql.h"

#define FL_SQL_MIGRATE_LOCK 0x666c7363686d61LL // "flschma": the advisory lock's key

typedef struct fl_sql_migration {
	const char *sqlite; // one or more statements for SQLite
	const char *pgsql;  // the same for PostgreSQL
} fl_sql_migration;

// Brings component to version n. Returns FL_SQL_OK, or a negative FL_SQL_E... with the reason
// (naming the component and versions) in fl_sql_errmsg(db).
int fl_sql_migrate(fl_sql *db, const char *component, const fl_sql_migration *migrations, size_t n);

// The component's version in the database (0: none yet), or a negative FL_SQL_E...
int64_t fl_sql_schema_version(fl_sql *db, const char *component);

#endif // FL_COLLECTOR_SQL_MIGRATE_H
