// hub.h - coll_server: what the server, the ingest thread and the control thread share.
//
// Shared by server.c, ingest.c and control.c only (server.h explains the threads): the modules
// below them (state, verify, auth, survey, store) are handed the narrow pieces they need
// (state.h's coll_state_ref, a survey, a store path), never this; main.c and tests outside
// these three see the server through server.h.

#ifndef FL_COLLECTOR_HUB_H
#define FL_COLLECTOR_HUB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "config.h"
#include "diag_share.h"
#include "fl/limits.h"
#include "fl/sign.h"
#include "fl/tls.h"
#include "role.h"
#include "state.h"
#include "store.h"

#define COLL_BATCH_MAX     256      // reports applied per lock and per transaction
#define COLL_STALE_TICK_US 250000LL // staleness check period
// Verdicts are recomputed after reports change something, at most every COLL_VERDICT_TICK_US,
// and never more often than 10x the last diagnosis took (so at most ~10% of a core on
// large fleets). A short tick keeps a brief fault's verdict and scope in history.
#define COLL_VERDICT_TICK_US     200000LL
#define COLL_PRUNE_TICK_US       3600000000LL
#define COLL_PRUNE_COUNT_TICK_US 10000000LL // history_max_events is checked this often
#define COLL_PRUNE_BATCH         50000      // events deleted at most per check
#define COLL_HISTORY_LIMIT       1000       // default events per history query
#define COLL_HISTORY_MAX         100000     // cap on a requested limit
#define COLL_LOG_EVERY           1000 // a drop reason is logged on its 1st, then every Nth time
// A paged status reply (StatusQuery.page_bytes) holds this much of hosts at most (one host,
// at most FL_WIRE_MAX_MSG plus its own fields, always fits).
#define COLL_STATUS_PAGE_MIN (2u * FL_WIRE_MAX_MSG)
#define COLL_STATUS_PAGE_MAX (32u * FL_WIRE_MAX_MSG)

typedef struct coll_server {
	// Configuration, as loaded; TLS files for every tls+tcp:// listener (files in cfg).
	coll_config cfg;
	fl_tls_opts tls;

	// The in-memory view and what waits to reach SQLite. `lock` guards state and pending.
	// pending: store writes decided on the control thread (`faultline forget`); the ingest
	// thread moves them into its next batch before applying reports, so they reach SQLite in
	// the order the state changed (a forget after the host's last upsert, a report that
	// brings the host back after the forget).
	pthread_mutex_t lock;
	coll_state      state;
	coll_ops        pending;
	coll_diag_share diag;   // the verdict tick's diagnosis, for the queries waiting on it
	coll_store     *writer; // ingest thread only
	coll_store     *reader; // control thread only

	// Threads: ingest, control (server.h above) and the slow control requests' workers.
	pthread_t  ingest_tid;
	pthread_t  control_tid;
	bool       ingest_started;
	bool       control_started;
	atomic_int stopping;
	atomic_int slow_jobs; // control requests answered on worker threads (control.c)

	// Sockets and listeners: reports (PULL) and control (REP), their bound TCP ports (0 if not
	// tcp), the watchdog that keeps the listeners accepting (watchdog.h) and the reply
	// contexts of the control socket (control.c).
	nng_socket           pull;
	nng_socket           rep;
	int                  listen_port;
	int                  control_port;
	struct coll_watch   *watch;
	struct coll_control *control;

	// Probe now and post-release verification (survey.h, verify.h).
	struct coll_survey *survey;      // NULL when cfg.survey is empty
	int                 survey_port; // bound TCP port of cfg.survey, 0 if not tcp
	struct coll_verify *verify;      // verifier: its store connection and automatic thread

	// Signed reports (auth.h, docs/security.md): with cfg.keys_dir the hosts' keys and the
	// signature gate that then owns the report listener and feeds `pull` over inproc.
	fl_keyring       *keyring; // NULL without keys_dir
	struct coll_auth *auth;    // NULL without keys_dir

	// Bounds on what peers can make the collector hold (docs/security.md, "Limits"), and what
	// they cost: connections per listener, refused senders, counters copied into the stats.
	struct coll_pipes   *report_pipes;   // connections of the report listener
	struct coll_pipes   *control_pipes;  // of the control listener, with their replies
	struct coll_pipes   *survey_pipes;   // of the survey listener (NULL without survey)
	struct coll_rejects *rejects;        // refused senders and their log throttling
	atomic_uint_fast64_t control_cut;    // control clients closed for not reading replies
	atomic_uint_fast64_t control_busy;   // control requests answered "busy"
	atomic_uint_fast64_t slow_abandoned; // probe-now/verify whose client left before the end
	atomic_uint_fast64_t fd_exhausted;   // watchdog checks that found no free descriptor

	// Metrics: /metrics and the durable counters (exporter.h).
	struct coll_exporter *exporter;

	// Alert notifications (notify.h; NULL when no receiver is configured) and the operator's
	// mutes (notify_mute.h).
	struct coll_notify *notify;
	struct coll_mutes  *mutes;

	// High availability (role.h, lease.h, server_role.c). `role` and `active_name` are under
	// `lock`; `active` says "single or active" to the threads that must not wait for the lock
	// to know whether they may write or answer a query that needs the active. With a lease,
	// the role thread opens and closes the active's parts (report listener, survey and
	// verifier, notifier, ingest thread and writer) as the role changes: survey, verify and
	// notify are swapped under `parts_lock`, which the control thread holds while it reads
	// them for a status; slow jobs (control.c) read survey and verify under `lock` after they
	// are counted in slow_jobs, so a swapped-out one is freed only once slow_jobs is 0.
	coll_role_machine         role;
	char                      active_name[COLL_NAME_MAX];
	atomic_bool               active;
	struct coll_lease_keeper *lease;     // NULL: no lease (single)
	coll_store               *refresher; // role thread: a standby's reads of the store
	coll_store_cursor         seen;      // role thread: where the state stands in the store's
	                                     // changes (not valid: reload everything next time)
	int64_t             full_load_us;    // role thread: mono time of the last full load
	nng_socket          reports;         // what the report listener feeds (pull or the gate)
	atomic_int          ingest_stop;     // the ingest thread ends, the server goes on
	atomic_int          role_stop;
	pthread_t           role_tid;
	bool                role_started;
	pthread_mutex_t     parts_lock;
	struct coll_survey *old_survey; // swapped out while a slow job still ran
	struct coll_verify *old_verify;
	struct coll_pipes  *old_survey_pipes;
} coll_server;

// How long a stop waits for probe-now/verify workers to end (they notice within
// COLL_SURVEY_POLL_MS), before and again after the sockets close.
#define COLL_STOP_WORKERS_MS 2000

#define COLL_CONTROL_MAX_CONNS 256         // control connections open at once
#define COLL_CONTROL_RECV_MAX  (64 * 1024) // bytes in one control request

// True when this collector may take reports and write: single, or active (role.h).
bool coll_server_is_active(coll_server *srv);

// Fills r's role, active_name and role_since_us (active_name is copied into name, of
// COLL_NAME_MAX bytes, which r then borrows); the caller holds srv->lock.
void coll_server_role_status(coll_server *srv, Fl__StatusReply *r, char *name);

// Copies the socket counters above into st (the caller holds srv->lock): what a status and
// /metrics show of them.
void coll_server_socket_stats(coll_server *srv, coll_stats *st);

#endif // FL_COLLECTOR_HUB_H
