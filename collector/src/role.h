// role.h - the collector's role in an HA pair: single, standby or active. Pure: no I/O, no
// clock, no threads; the server feeds it what the lease says and performs what it returns.
//
// A collector on a store without a lease (SQLite) is "single" for its whole life and does
// exactly what it always did. On a shared store (PostgreSQL) it starts "standby" and a lease
// (lease.h) decides: the collector holding the lease is "active", every other one "standby".
//
//   standby --lease held--------------------------------> active   (COLL_ROLE_TAKE_OVER)
//   active  --lease lost, late, or held at another epoch--> standby  (COLL_ROLE_STEP_DOWN)
//   standby --every refresh period--------------------------> standby (COLL_ROLE_REFRESH)
//
// What the server does for each action (server.c): STEP_DOWN stops taking reports and writing
// before anything else (closes the report listener, ends surveys, stops notifications and the
// ingest thread), then refuses the queries that need the active; TAKE_OVER fences the writer
// connections at the new epoch, brings the state up to the store (the standby's kept state and
// the store's changes since, or everything as at start-up), opens the listeners and resumes;
// REFRESH brings the state up to the store (the rows changed since the last refresh, or
// everything: docs/store.md, "Change stamps") so that the CLI's answers from a standby are
// current. A take-over that fails is undone with coll_role_take_over_failed
// (the server then gives the lease up, so that another collector can take it).

#ifndef FL_COLLECTOR_ROLE_H
#define FL_COLLECTOR_ROLE_H

#include <stdbool.h>
#include <stdint.h>

typedef enum coll_role {
	COLL_ROLE_SINGLE,  // no lease: the only collector on its store
	COLL_ROLE_STANDBY, // another collector may hold the lease; reads only
	COLL_ROLE_ACTIVE,  // holds the lease: takes reports, surveys, notifies, writes
} coll_role;

typedef enum coll_role_action {
	COLL_ROLE_NOTHING,
	COLL_ROLE_STEP_DOWN,
	COLL_ROLE_TAKE_OVER,
	COLL_ROLE_REFRESH,
} coll_role_action;

#define COLL_ROLE_REFRESH_US 1000000LL // a standby refreshes the shared state this often

// What the lease says at one instant: held is true only while this collector holds the lease
// and its last heartbeat is recent enough (lease.h); epoch is then the epoch it holds it at.
typedef struct coll_lease_view {
	bool    held;
	int64_t epoch;
} coll_lease_view;

typedef struct coll_role_machine {
	coll_role role;
	int64_t   since_us;        // when it took its current role (the caller's clock)
	int64_t   epoch;           // active: the lease epoch its writes are fenced at
	int64_t   next_refresh_us; // standby: when the next REFRESH is due
} coll_role_machine;

// leased: the store has a lease (the collector starts standby); otherwise single.
void coll_role_init(coll_role_machine *m, bool leased, int64_t now_us);

// One step with what the lease says now. Returns what the server must do; the machine is
// already in its new role (a step-down is visible at once, before the server has acted).
coll_role_action coll_role_tick(coll_role_machine *m, const coll_lease_view *v, int64_t now_us);

// A REFRESH took took_us: the next one is due no sooner than ten times that after now (a
// standby of a large fleet spends at most about a tenth of a core reloading the state).
void coll_role_refreshed(coll_role_machine *m, int64_t took_us, int64_t now_us);

// The server could not take over (the store would not load, a listener would not open): back
// to standby. The caller gives the lease up.
void coll_role_take_over_failed(coll_role_machine *m, int64_t now_us);

// "single", "standby" or "active": StatusReply.role and the JSON field `role`.
const char *coll_role_name(coll_role r);

#endif // FL_COLLECTOR_ROLE_H
