// notify_store.h - the notification outbox and what must survive a restart, in the collector's
// state database (sql.h: SQLite, or PostgreSQL shared by an HA pair; its own connection per
// thread, each transaction a few rows; notify_db.h opens it again after it was lost).
//
// Tables (the "notify" migrations, notify_db.c):
//   notify_outbox  one row per (receiver, notification) not yet delivered: the body to POST,
//                  its event id, tries so far and when to try next. seq orders a finding's
//                  notifications; a receiver delivers a finding's lowest seq first.
//   notify_firing  the findings notified as firing and not yet resolved (packed Finding), so a
//                  restart still resolves them.
//   notify_counts  per receiver and outcome (sent, failed, retried, dropped): /metrics counters
//                  that survive restarts.
//   notify_mutes   mutes (notify.h).
//
// Strings passed in are borrowed for the call; rows handed out are owned by the caller.
//
// Failures are negative sql.h codes: FL_SQL_EFENCED (the lease moved: another collector is
// active; nothing was written), FL_SQL_EBROKEN (the connection is lost; the next call opens
// another), FL_SQL_ERROR and the others. Every write is one transaction begun by
// fl_sql_begin(), so the fence applies to all of them.

#ifndef FL_COLLECTOR_NOTIFY_STORE_H
#define FL_COLLECTOR_NOTIFY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sql.h"

typedef struct notify_store notify_store;

#define NOTIFY_OUTBOX_MAX 10000 // rows per receiver; an event beyond it is dropped (counted)

// Opens the database o names (applying the "notify" migrations); who names the connection in
// the log ("notifications to webhook ops"). On failure *out is untouched and err says why (-1).
int notify_store_open(
    const fl_sql_opts *o, const char *who, notify_store **out, char *err, size_t errlen);
void notify_store_close(notify_store *st); // accepts NULL

// The lease epoch every later write checks (sql.h's fence); 0: none. On the owning thread.
// Fenced, notify_store_next reads in a fenced transaction too: a collector that lost the
// lease is handed nothing more to send.
void notify_store_set_fence(notify_store *st, int64_t epoch);

// One notification for one receiver.
typedef struct notify_row {
	int64_t  seq;
	char    *receiver;
	char    *finding;  // the finding's id
	char    *event_id; // X-Faultline-Event-Id
	char    *status;   // firing | resolved
	char    *body;
	uint32_t attempts; // tries so far
} notify_row;

void notify_row_free(notify_row *r); // frees the strings; accepts NULL

// A decided notification: its rows for every receiver, and the firing table's change (firing:
// finding stored as firing with fired_us; resolved: removed), in one transaction. bodies[i]
// is receiver i's body; a receiver whose outbox holds NOTIFY_OUTBOX_MAX rows gets none
// (dropped[i] set, the "dropped" counter incremented). Returns 0, or a failure (nothing
// written).
typedef struct notify_enqueue {
	const char        *finding;
	const char        *event_id;
	const char        *status;
	const uint8_t     *packed; // packed Finding (firing only)
	size_t             packed_len;
	int64_t            fired_us;
	int64_t            now_us;
	size_t             n_receivers;
	const char *const *receivers;
	const char *const *bodies;
	bool              *dropped; // out, n_receivers
} notify_enqueue;
int notify_store_enqueue(notify_store *st, const notify_enqueue *q);

// Queues a firing row again for one receiver (Alertmanager re-sends) unless the receiver
// already has a row of that finding waiting. Returns 1 (queued), 0 (one waits already), or a
// failure.
int notify_store_requeue(notify_store *st, const char *receiver, const char *finding,
    const char *event_id, const char *body, int64_t now_us);

// The next row due for receiver: for each finding only its lowest seq counts, and of those
// the lowest seq with next_try_us <= now_us. Returns 1 (row filled), 0 (nothing due), or a
// failure.
int notify_store_next(notify_store *st, const char *receiver, int64_t now_us, notify_row *row);

// Delivered (the receiver acknowledged): deletes the row, counts sent (and retried when it was
// a retry). Returns 0 or a failure: then the row stays, and is sent again (at least once).
int notify_store_sent(notify_store *st, const notify_row *row);

// A failed try: counts failed, schedules the next try at next_us. Returns 0 or a failure.
int notify_store_failed(notify_store *st, const notify_row *row, int64_t next_us);

// Rows waiting for receiver (-1 on error).
long notify_store_pending(notify_store *st, const char *receiver);

// The same, or only those tried at least once (tried_only: the receiver was failing).
long notify_store_count_rows(notify_store *st, const char *receiver, bool tried_only);

// Deletes the rows of receivers not among names[0..n) (no longer configured: they would wait
// forever), logging how many each had. Returns 0 or a failure.
int notify_store_forget_receivers(notify_store *st, const char *const *names, size_t n);

// Makes every row due now (at start: a restart is a fresh try for whatever waits). 0 or a
// failure.
int notify_store_all_due(notify_store *st);

// The counter outcome of receiver (0 when never counted).
uint64_t notify_store_count(notify_store *st, const char *receiver, const char *outcome);

// Calls fn for every finding of the firing table. Stops (returns -1) when fn does not return 0.
int notify_store_firing(notify_store *st,
    int (*fn)(void *arg, const char *id, const uint8_t *packed, size_t len, int64_t fired_us),
    void *arg);

#endif // FL_COLLECTOR_NOTIFY_STORE_H
