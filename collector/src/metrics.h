// metrics.h - the collector's Prometheus metrics: a plain-data snapshot and its text rendering.
//
// Pure: no I/O, no locks, no pointer into the collector's live state. The HTTP side fills a
// snapshot while it holds the state lock (metrics_state.c: copies only, no formatting), releases
// the lock, then renders the snapshot here into the text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/), so ingest never waits on
// formatting. Every string in a snapshot is owned by it (coll_metrics_snapshot_fini frees them).
//
// Metric and label names are a public contract (README, "Alerts and metrics"). Label values
// come from agents and are never trusted: the renderer repairs invalid UTF-8 (U+FFFD) and
// escapes backslash, double quote and newline as the format requires, so any host name or
// release yields a valid exposition.
//
// One name clash is resolved by the format itself: `faultline_probe_duration_seconds` is the
// per-host phase gauge, and the per-probe latency histogram's series are
// `faultline_probe_duration_seconds_bucket/_sum/_count`. A family cannot be both a gauge and a
// histogram, so the histogram's three series are written without a TYPE line (untyped);
// Prometheus stores and queries them as usual (histogram_quantile works on _bucket).

#ifndef FL_COLLECTOR_METRICS_H
#define FL_COLLECTOR_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// Phases of faultline_probe_duration_seconds, in the order of the proto's Timing.
typedef enum coll_phase {
	COLL_PHASE_DNS,
	COLL_PHASE_CONNECT,
	COLL_PHASE_TLS,
	COLL_PHASE_FIRST_BYTE,
	COLL_PHASE_AUTH,
	COLL_PHASE_QUERY,
	COLL_PHASE_CHECK,
	COLL_PHASE_TOTAL,
	COLL_PHASES
} coll_phase;

const char *coll_phase_name(coll_phase p); // "dns", "connect", ..., "total"

// The verdict values, always all present in faultline_verdict and faultline_findings.
#define COLL_VERDICTS 6                           // healthy, code, database, network, host, unknown
const char *coll_verdict_label(size_t i);         // by index 0..COLL_VERDICTS-1
int         coll_verdict_index(const char *name); // -1 when not one of them

// Latency histogram bucket upper bounds, in seconds (+Inf is implicit).
#define COLL_LAT_BUCKETS 12
extern const double coll_lat_bounds[COLL_LAT_BUCKETS];

typedef struct coll_metrics_probe {
	char       *name;
	const char *kind;                  // static name (fl_kind_name)
	const char *status;                // static: ok | warn | fail | unknown
	const char *failure;               // static class name
	uint32_t    unmet;                 // unmet release expectations
	uint32_t    phase_us[COLL_PHASES]; // 0: phase not reported (not written)
} coll_metrics_probe;

typedef struct coll_metrics_host {
	char               *name;
	char               *release;
	bool                up; // reporting and not stale
	int64_t             last_seen_us;
	coll_metrics_probe *probes;
	size_t              n_probes;
} coll_metrics_host;

// Latency of one (probe, kind) over every host: cumulative since the collector started.
typedef struct coll_metrics_hist {
	char       *probe;
	const char *kind;
	uint64_t    buckets[COLL_LAT_BUCKETS]; // non-cumulative counts per bucket
	uint64_t    count;                     // all observations (those above the last bound too)
	double      sum_s;
} coll_metrics_hist;

// One counter series with a label value (a drop reason, a verification result, ...).
typedef struct coll_metrics_count {
	const char *label; // static
	uint64_t    value;
} coll_metrics_count;

// faultline_notifications_total: one series per (receiver, outcome).
typedef struct coll_metrics_notif {
	char       *receiver;
	const char *outcome; // sent | failed | retried
	uint64_t    value;
} coll_metrics_notif;

// What process_* reports; a field below 0 is not written.
typedef struct coll_metrics_process {
	double cpu_seconds;
	double resident_bytes;
	double open_fds;
	double max_fds;
	double start_time_s;
} coll_metrics_process;

// A counter of its own family (no labels), for the collector's own bounds.
typedef struct coll_metrics_extra {
	const char *name; // static
	const char *help; // static
	uint64_t    value;
} coll_metrics_extra;

#define COLL_METRICS_MAX_EXTRA 8
#define COLL_METRICS_MAX_DROPS 16
#define COLL_METRICS_MAX_VERIF 4

typedef struct coll_metrics_snapshot {
	coll_metrics_host   *hosts;
	size_t               n_hosts;
	coll_metrics_hist   *hists;
	size_t               n_hists;
	int                  verdict; // index into the verdict values; -1 before the first
	uint32_t             findings[COLL_VERDICTS];
	uint64_t             reports_received;
	uint64_t             results_applied;
	coll_metrics_count   drops[COLL_METRICS_MAX_DROPS];
	size_t               n_drops;
	coll_metrics_count   verifications[COLL_METRICS_MAX_VERIF];
	size_t               n_verifications;
	coll_metrics_notif  *notifs;
	size_t               n_notifs;
	coll_metrics_extra   extra[COLL_METRICS_MAX_EXTRA];
	size_t               n_extra;
	coll_metrics_process process;
	double snapshot_lock_s; // how long this snapshot held the state lock; <0: unknown

	// When arena is set, every host, release and probe name points into it and the hosts'
	// probes into probe_pool (the exporter's copy: three allocations, not one per string);
	// otherwise each is its own allocation (and hosts[i].probes too).
	char               *arena;
	coll_metrics_probe *probe_pool;
} coll_metrics_snapshot;

void coll_metrics_snapshot_init(coll_metrics_snapshot *s);
void coll_metrics_snapshot_fini(coll_metrics_snapshot *s); // frees every string and array

// A growable text buffer (the rendered body).
typedef struct coll_text {
	char  *buf;
	size_t len;
	size_t cap;
	bool   oom; // an append failed: the text is incomplete
} coll_text;

void coll_text_init(coll_text *t);
void coll_text_fini(coll_text *t);

// Appends label value v to t as the exposition format needs it: invalid UTF-8 repaired to
// U+FFFD, then `\` -> `\\`, `"` -> `\"`, newline -> `\n`. No quotes around it.
void coll_text_label_value(coll_text *t, const char *v);

// Renders s into t (appended). Returns 0, or -1 when out of memory (t->oom).
int coll_metrics_render(const coll_metrics_snapshot *s, coll_text *t);

// The number of series a host with n_probes probes and the given phase series adds (for the
// docs and the benchmark): host_up, last_seen, release_info, and per probe success, status,
// unmet requirements and one duration per reported phase.
size_t coll_metrics_host_series(size_t n_probes, size_t phases_per_probe);

#endif // FL_COLLECTOR_METRICS_H
