// notify_db.h - the notifier's connection to the collector's state database (sql.h): SQLite
// or PostgreSQL, the "notify" tables migrated at open, the lease fence, and a connection lost
// (PostgreSQL restarted, network cut) opened again by the next use.
//
// One notify_db is used by one thread at a time (its owner: the decider, a sender, the mutes
// under their mutex). It logs a change of its state once (the database refuses: fenced or
// unreachable; it answers again), never once per failed call: the decider retries every tick.
//
// Tables of the "notify" component (migrations in notify_db.c, both engines):
//   notify_outbox  one row per (receiver, notification) not yet delivered (notify_store.h)
//   notify_firing  findings notified as firing and not yet resolved (packed Finding)
//   notify_counts  per receiver and outcome: /metrics counters that survive restarts
//   notify_mutes   mutes (notify_mute.h)

#ifndef FL_COLLECTOR_NOTIFY_DB_H
#define FL_COLLECTOR_NOTIFY_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sql.h"

typedef struct notify_db {
	char       *target, *password_file, *app_name; // copies of the opts' strings
	fl_sql_opts opts;                              // pointing at the copies
	fl_sql     *db;                                // NULL while the connection is lost
	int64_t     fence;                             // applied to every connection; 0: none
	int         state;                             // FL_SQL_OK, or the failure logged last
	char        who[128];                          // names this connection in the log
} notify_db;

// Opens o's database (copying what it needs of o) and applies the "notify" migrations. who
// (e.g. "notifications to webhook ops") names the connection in the log. On failure d holds
// nothing and err says why (never the password). Returns 0 or -1.
int  notify_db_open(notify_db *d, const fl_sql_opts *o, const char *who, char *err, size_t errlen);
void notify_db_close(notify_db *d); // accepts a closed or zeroed d

// The connection, opened again when it was lost; NULL when it cannot be (logged once: the
// caller reports FL_SQL_EBROKEN).
fl_sql *notify_db_conn(notify_db *d);

// Sets the lease epoch every later transaction checks (sql.h); 0: none. On this thread.
void notify_db_set_fence(notify_db *d, int64_t epoch);
bool notify_db_fenced(const notify_db *d);

// Begins a write transaction (fenced when a fence is set). Returns FL_SQL_OK or the failure
// (FL_SQL_EFENCED, FL_SQL_EBROKEN, ...; noted).
int notify_db_begin(notify_db *d);

// Commits when rc is FL_SQL_OK (or any non-negative code), else rolls back. Returns FL_SQL_OK
// or the failure (noted).
int notify_db_end(notify_db *d, int rc);

// Records the outcome rc of a call on d: a lost connection is closed (the next use opens
// another); a change between working, fenced and unreachable is logged once. Returns rc.
int notify_db_note(notify_db *d, int rc);

#endif // FL_COLLECTOR_NOTIFY_DB_H
