// lease.h - who is the active collector on a shared PostgreSQL store: a lease made of a
// session-level advisory lock and the lease row (FL_SQL_LEASE_TABLE, id 1).
//
// The lock decides: the collector whose session holds it is active. It is released the moment
// that session ends, so when the active dies (kill -9 closes its socket; PostgreSQL ends the
// backend) a standby takes it at its next try. A session can outlive its collector (the host
// is gone or cut off and TCP has not noticed): the row's heartbeat, written by the holder
// every COLL_LEASE_BEAT_US with PostgreSQL's clock, then stops moving, and a standby that finds
// it older than the lease timeout ends that backend (pg_terminate_backend: allowed between
// sessions of the same role) and takes the lock.
//
// The row: epoch (bumped by every taker, before its first write), holder (the taker's
// `[collector] name`), holder_pid (its backend), heartbeat_at (now() of its last beat). The
// taker gives the new epoch to its writer connections (fl_sql_set_fence, sql.h): a collector
// that lost the lease cannot commit one more row, whatever it believes.
//
// The active side is strict about time: a beat that fails, or no beat sent in the last half
// of the lease timeout that succeeded (a statement stuck on a cut link), and the lease counts
// as lost at once (coll_lease_keeper_view), well before a standby may take it.
//
// Two layers: one lease connection with the single steps (open, try, beat: used by the tests
// step by step), and the keeper, a thread that runs those steps on their period and publishes
// what they found for the server's role machine (role.h) to read without ever waiting on
// PostgreSQL.

#ifndef FL_COLLECTOR_LEASE_H
#define FL_COLLECTOR_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "role.h"
#include "sql.h"

#define COLL_LEASE_BEAT_US         1000000LL // the active beats, a standby tries, this often
#define COLL_LEASE_DEFAULT_TIMEOUT 5000000LL // [collector] lease_timeout
#define COLL_LEASE_MIN_TIMEOUT     2000000LL
#define COLL_LEASE_MAX_TIMEOUT     60000000LL
#define COLL_LEASE_NAME_MAX        128   // bytes of a holder name, with its NUL
#define COLL_LEASE_ADVISORY_CLASS  17996 // pg_try_advisory_lock(class, 1): "FL" (decimal: SQL text)
#define COLL_LEASE_ADVISORY_OBJECT 1

typedef struct coll_lease coll_lease;

typedef struct coll_lease_opts {
	fl_sql_opts db;         // the shared store (a connection of the lease's own)
	const char *name;       // this collector's name, written as holder
	int64_t     timeout_us; // lease_timeout: a heartbeat older than this is a dead holder
} coll_lease_opts;

// Connects and makes sure the lease row has its columns. 0, or -1 with err (never the
// password).
int  coll_lease_open(const coll_lease_opts *o, coll_lease **out, char *err, size_t errlen);
void coll_lease_close(coll_lease *l); // accepts NULL; ends the session, so releases the lock

enum {
	COLL_LEASE_TAKEN = 1, // this session holds the lock; *epoch is the new epoch
	COLL_LEASE_BUSY  = 0, // another session holds it (perhaps ended now: see lease.c)
	COLL_LEASE_ERROR = -1 // the connection failed: close and open another
};

// One attempt: takes the lock if free and bumps the epoch. When another session holds it and
// the row's heartbeat of that same session is older than the timeout, ends that backend (the
// next attempt then takes it). holder (may be NULL) receives the row's holder name.
int coll_lease_try(coll_lease *l, int64_t *epoch, char *holder, size_t holder_len);

// One heartbeat of the holder at epoch. 0: still ours; -1: lost (the row names another epoch
// or session, or the connection failed).
int coll_lease_beat(coll_lease *l, int64_t epoch);

// Backend pid of the lease's session (tests end it to stand in for a dead collector).
int64_t coll_lease_backend_pid(coll_lease *l);

// ---- the keeper thread ----

typedef struct coll_lease_keeper coll_lease_keeper;

// Starts the thread (o is copied; its strings too). It connects (again, after any failure),
// tries the lease every COLL_LEASE_BEAT_US while not holding it, beats as often while holding.
// 0, or -1 with err.
int coll_lease_keeper_start(
    const coll_lease_opts *o, coll_lease_keeper **out, char *err, size_t errlen);

// Ends the thread (it may finish the statement in progress) and the session: the lease is free
// for another; k stays readable (its view says not held) until coll_lease_keeper_stop, which
// also frees it. Both accept NULL; end is idempotent.
void coll_lease_keeper_end(coll_lease_keeper *k);
void coll_lease_keeper_stop(coll_lease_keeper *k);

// What the lease says at mono_us (CLOCK_MONOTONIC): held only while the last beat that
// succeeded was sent less than half the lease timeout ago.
coll_lease_view coll_lease_keeper_view(coll_lease_keeper *k, int64_t mono_us);

// Gives the lease up (after a step-down or a failed take-over): the session ends; the keeper
// tries again from its next period.
void coll_lease_keeper_drop(coll_lease_keeper *k);

// The active's name as last seen ("" when unknown), and the number of times this keeper took
// the lease and lost it.
void     coll_lease_keeper_holder(coll_lease_keeper *k, char *out, size_t len);
uint64_t coll_lease_keeper_taken(coll_lease_keeper *k);
uint64_t coll_lease_keeper_lost(coll_lease_keeper *k);

#endif // FL_COLLECTOR_LEASE_H
