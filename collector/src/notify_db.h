// notify_db.h - the notifier's connection to the collector's state database (sql.h): SQLite
// or PostgreSQL, the "notify" tables migrated at open, the lease fence, and the log of a lost
// connection (PostgreSQL restarted, network cut), which sql.h connects again by itself.
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
	fl_sql *db;       // open from notify_db_open to notify_db_close, also while lost (sql.h)
	char   *where;    // the database as the log names it (never a conninfo)
	int64_t fence;    // applied to every transaction; 0: none
	int     state;    // FL_SQL_OK, or the failure logged last
	char    who[128]; // names this connection in the log
} notify_db;

// Opens o's database and applies the "notify" migrations. who
// (e.g. "notifications to webhook ops") names the connection in the log. On failure d holds
// nothing and err says why (never the password). Returns 0 or -1.
int  notify_db_open(notify_db *d, const fl_sql_opts *o, const char *who, char *err, size_t errlen);
void notify_db_close(notify_db *d); // accepts a closed or zeroed d

// The connection (never NULL on an open d). After a loss its calls fail with FL_SQL_EBROKEN
// until sql.h has connected again; the caller notes what they return.
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

// Records the outcome rc of a call on d: a change between working, fenced and unreachable is
// logged once. Returns rc.
int notify_db_note(notify_db *d, int rc);

#endif // FL_COLLECTOR_NOTIFY_DB_H
