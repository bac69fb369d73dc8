// exporter.h - what the collector shows over HTTP: the route table of the HTTP listener
// (http.h), the /metrics snapshot of a running server, and the counters that must survive a
// restart.
//
// Snapshot: coll_exporter_snapshot() holds the server's state lock only to copy (hosts, probes,
// latency histograms, counters, verdict); formatting happens afterwards (metrics.h), so a
// scrape of 100,000 series holds up ingest for the copy only (docs/benchmarks/metrics.md).
//
// Durable counters: reports received, reports and results applied, and verifications by
// result count durable things, so /metrics carries them across restarts. They live in the
// `counters` table of the collector's state database (SQLite, or PostgreSQL shared by an HA
// pair; exporter_counters.h), through this module's own connection: loaded at start (the
// base), written every COLL_EXPORTER_SAVE_MS by this module's thread and once more at stop. A
// crash loses at most that interval's increments. `faultline status --json` keeps showing the
// counts since the process started. On a shared store only the active collector saves
// (coll_exporter_set_fence), so the counters carry on across a failover too.
//
// Notifications: faultline_notifications_total is filled by a source registered with
// coll_exporter_set_notify_source (the notifier); without one the family has no series.

#ifndef FL_COLLECTOR_EXPORTER_H
#define FL_COLLECTOR_EXPORTER_H

#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

struct coll_server;
typedef struct coll_exporter coll_exporter;

#define COLL_EXPORTER_SAVE_MS 5000

// Loads the durable counters, starts the saving thread and, unless cfg.http is "", the HTTP
// listener (a default address already in use is skipped with a warning; a configured one is
// an error). *out is NULL-safe to stop. On failure nothing is left running and err says why.
int coll_exporter_start(struct coll_server *srv, coll_exporter **out, char *err, size_t errlen);

// The lease of a shared store: epoch > 0, this collector is active under that epoch: the saver
// first takes the stored values as its base (the previous active saved them) and then saves
// with that fence (a save after the lease moved is refused: logged once). 0 (the default): no
// lease, saves unfenced. < 0: standby: nothing is saved, and /metrics shows the values the
// active saved last (read every COLL_EXPORTER_SAVE_MS). Any thread; accepts NULL.
void coll_exporter_set_fence(coll_exporter *e, int64_t epoch);

// Writes the durable counters one last time and stops the saving thread (call once ingest and
// the verifier have stopped, before the database closes). Accepts NULL.
void coll_exporter_save_final(coll_exporter *e);

// Stops the HTTP listener and frees everything. Accepts NULL.
void coll_exporter_stop(coll_exporter *e);

// The bound port of the HTTP listener, 0 when it is off.
int coll_exporter_http_port(const coll_exporter *e);

// Counts one verification with result "passed", "failed" or "unverified" (others are counted
// as "unverified"). Any thread. Accepts NULL.
void coll_exporter_count_verification(coll_exporter *e, const char *result);

// A source of faultline_notifications_total series: fills up to max entries of out (receiver
// strings malloc'd: the snapshot frees them) and returns how many. Called on the HTTP worker
// thread, without the state lock but under the exporter's own mutex: once
// coll_exporter_set_notify_source(e, NULL, NULL) has returned, no call is in progress.
typedef size_t (*coll_notify_counts_fn)(void *arg, coll_metrics_notif *out, size_t max);
#define COLL_EXPORTER_MAX_NOTIF 1024
void coll_exporter_set_notify_source(coll_exporter *e, coll_notify_counts_fn fn, void *arg);

// Fills s (initialised by the caller) from the running server. 0, or -1 when out of memory.
int coll_exporter_snapshot(coll_exporter *e, coll_metrics_snapshot *s);

#endif // FL_COLLECTOR_EXPORTER_H
