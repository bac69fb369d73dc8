// notify.h - alert notifications: one alert per finding, never lost, always resolved.
//
// Threads. The ingest thread hands each diagnosis it computes to coll_notify_observe, which
// only packs it into a slot (the latest wins) under the notifier's own mutex: ingest never
// waits on a receiver, on curl or on the outbox. A decider thread wakes every
// NOTIFY_TICK_MS, runs the flap control (notify_track.h) over the latest diagnosis and writes
// each decided notification into the outbox (notify_store.h), one row per receiver, in the
// same transaction as the firing table it changes. One sender thread per receiver delivers its
// rows (notify_http.h): a finding's notifications in order, each retried with exponential
// backoff (1 s doubling, capped at [notify] retry_max) until the receiver answers 2xx, across
// restarts (a restart makes every waiting row due at once). So delivery is at least once; the
// event id (notify_body.h) lets receivers de-duplicate. A receiver that hangs only delays its
// own rows.
//
// Logging: each decided notification once (info); a receiver's state change once (warn when
// it stops accepting, notice when it accepts again), never once per try.
//
// Counters (per receiver, outcome sent/failed/retried/dropped) survive restarts: sent = rows
// delivered, failed = tries that failed, retried = rows delivered after at least one failed
// try, dropped = notifications not queued because the receiver's outbox held
// NOTIFY_OUTBOX_MAX rows. Every function accepts a NULL notifier (nothing configured).

#ifndef FL_COLLECTOR_NOTIFY_H
#define FL_COLLECTOR_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "faultline.pb-c.h"
#include "notify_config.h"
#include "sql.h"

#define NOTIFY_TICK_MS      250  // the decider's period
#define NOTIFY_MAX_FINDINGS 1000 // findings tracked at once (notify_track.h)

typedef struct coll_notify coll_notify;

// Starts the notifier when cfg names at least one receiver (else *out = NULL, returns 0):
// reads the secret headers, opens the outbox in the state database state names (sql.h;
// borrowed for the call), restores the findings notified as firing before a restart. fence:
// the lease epoch every write checks from the first (0: none; see coll_notify_set_fence).
// mutes (borrowed; may be NULL) holds the mutes: a finding they cover is not notified.
// Returns 0, or -1 with err.
struct coll_mutes;
int coll_notify_start(const coll_notify_config *cfg, const fl_sql_opts *state, int64_t fence,
    struct coll_mutes *mutes, coll_notify **out, char *err, size_t errlen);

// A shared store (HA pair): the lease epoch the outbox's writes check from now on (0: none).
// Each thread applies it before its next transaction. With an epoch that is no longer the
// lease's (another collector took it), the decider queues nothing and every sender stops
// sending (logged once each): the rows wait in the outbox for the active collector, which
// sends them (at least once, with their event ids). Any thread; accepts NULL.
void coll_notify_set_fence(coll_notify *n, int64_t epoch);

// Stops every thread (a transfer in progress is aborted within about a second) and frees n.
void coll_notify_stop(coll_notify *n);

// Hands the notifier the diagnosis r (borrowed) made at now_us; round_us is the fleet's
// longest reporting interval. Cheap: called by the ingest thread under the state lock.
void coll_notify_observe(
    coll_notify *n, const Fl__DiagnoseReply *r, int64_t round_us, int64_t now_us);

struct coll_state;

// Verifications page too (README, "Alerts and metrics"): called with every recorded
// post-release verification (verify.c; kind "full" or "canary", automatic when the collector
// ran it by itself). An automatic verification that fails raises an alert for its release
// (verdict "verification": release, hosts, each reason, rollback readiness) unless one is
// firing already; a `faultline verify` asked by a pipeline never raises one (the pipeline
// reports it, and its failure is not notified twice); the next pass of that release resolves
// it, and a passed full check of any release resolves them all. Cheap: the decider thread
// does the rest. At most NOTIFY_MAX_VERIF_QUEUE outcomes wait; more are dropped (logged).
#define NOTIFY_MAX_VERIF_QUEUE 16
void coll_notify_verification(
    coll_notify *n, const Fl__VerifyReply *r, const char *kind, bool automatic);

// coll_state's on_diagnosis hook (arg is the coll_notify): observes r with the fleet's round,
// the longest announced interval of the hosts that are not stale (1 s when none).
void coll_notify_on_diagnosis(
    void *arg, const struct coll_state *s, const Fl__DiagnoseReply *r, int64_t now_us);

// One receiver's counters, for /metrics (faultline_notifications_total{receiver,outcome}).
typedef struct coll_notify_counter {
	char     receiver[96]; // webhook: its NAME; alertmanager: "alertmanager:HOST:PORT"
	char     kind[16];     // webhook | alertmanager
	uint64_t sent, failed, retried, dropped;
	uint64_t pending; // rows waiting in its outbox
	bool     down;    // its last try failed
} coll_notify_counter;

// Copies up to max receivers' counters into out; returns how many receivers there are.
size_t coll_notify_counters(coll_notify *n, coll_notify_counter *out, size_t max);

// The exporter's source of faultline_notifications_total (exporter.h, coll_notify_counts_fn;
// arg is the coll_notify): one series per receiver and outcome (sent, failed, retried,
// dropped), receiver strings malloc'd. Returns how many it filled.
struct coll_metrics_notif;
size_t coll_notify_metrics_source(void *arg, struct coll_metrics_notif *out, size_t max);

// Adds the receivers' counters to a status reply (notify_receivers); undone by
// coll_notify_status_fini, which frees what was added.
void coll_notify_status_add(coll_notify *n, Fl__StatusReply *r);
void coll_notify_status_fini(Fl__StatusReply *r);

#endif // FL_COLLECTOR_NOTIFY_H
