// exporter_counters.h - the durable counters' table in the collector's state database (sql.h:
// SQLite, or PostgreSQL shared by an HA pair): `counters (name TEXT PRIMARY KEY, value)`,
// created by the "counters" migrations.
//
// One connection, used by one thread at a time (the exporter's saving thread; start and stop
// before and after it). A lost connection (FL_SQL_EBROKEN) is connected again by a later call
// (sql.h). A failing spell is logged once, by the caller.

#ifndef FL_COLLECTOR_EXPORTER_COUNTERS_H
#define FL_COLLECTOR_EXPORTER_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#include "sql.h"

typedef struct coll_counters coll_counters;

// Opens o's database and applies the "counters" migrations. On
// failure *out is untouched and err says why (never a password). Returns 0 or -1.
int  coll_counters_open(const fl_sql_opts *o, coll_counters **out, char *err, size_t errlen);
void coll_counters_close(coll_counters *c); // accepts NULL

// The lease epoch every save checks (sql.h's fence); 0: none.
void coll_counters_set_fence(coll_counters *c, int64_t epoch);

// Reads the stored values of names[0..n) into v (0 for a name never stored or negative).
// Returns FL_SQL_OK or a negative sql.h code (v then untouched).
int coll_counters_load(coll_counters *c, const char *const *names, size_t n, uint64_t *v);

// Stores v[i] under names[i], all in one transaction (fenced when a fence is set). Returns
// FL_SQL_OK or a negative sql.h code (nothing stored).
int coll_counters_save(coll_counters *c, const char *const *names, size_t n, const uint64_t *v);

// The message of the last failure (never NULL; never a password).
const char *coll_counters_errmsg(const coll_counters *c);

#endif // FL_COLLECTOR_EXPORTER_COUNTERS_H
