// state.h - the collector's in-memory view: every host, its latest result per probe, counters.
//
// Not thread-safe: the server holds one mutex around every call (ingest applies, control
// reads). Nothing here does I/O; what must reach SQLite is appended to a coll_ops batch that
// the caller writes after releasing the lock. Only transitions produce ops (status or failure
// change, release change, new host or probe, staleness), plus a host's last_seen at most every
// COLL_SEEN_WRITE_US, so an unchanged result costs a hash lookup and a copy of its scalars into
// the probe (its strings, equal to the ones held, are compared, not copied).
//
// Memory. A probe keeps its own compact copy of its latest result (coll_probe), not the decoded
// report, and every string held many times over (probe names, targets, details, releases) is
// held once for the whole state (state_intern.h); docs/benchmarks/scale.md has the bytes.
//
// Times: "now" is always the collector's clock (Unix us), passed in so tests control it.
//
// Late reports. Each receipt observes sent_us - now = skew - transit delay, and delay >= 0, so
// the host's clock skew is estimated as the max of recent observations (decaying by
// COLL_SKEW_DECAY_PPM of elapsed time, reset when the agent's boot_id changes or when reports
// have arrived consistently late for a while, i.e. the clock was stepped). A report is late when
// now - (round_started_us - skew) > 2 intervals: a replay from the agent's spool, or rounds that
// waited in a kernel buffer during a silent cut and arrived by retransmission. Its history events
// are stamped at round_started_us - skew, when the round really happened (never in the future,
// never before that probe's previous event). Staleness stays on the collector's clock: a report
// that was itself delayed in transit (sent more than 2 intervals before it arrived) counts as
// heard at its send time, so it neither brings a stale host "back" nor refreshes last_seen to
// the arrival time; the next report sent in time does.
//
// Bounds (docs/security.md, "Limits"). Everything a report can make the collector hold is
// bounded: at most max_hosts hosts (a report from one more is dropped, counted in
// dropped_host_limit), and a host's probes are exactly the results of its latest report
// (probes absent from it leave the state and the latest table; their history stays), at most
// max_probes_per_host of them (a report with more results is dropped whole, counted in
// dropped_probe_limit). So a host holds one report's worth of results: at most FL_WIRE_MAX_MSG
// bytes, also after a restart (restore stops adding a host's probes at that many bytes).
//
// Agent times. The decoder admits times in [0, FL_WIRE_MAX_TIME_US); a report whose sent_us or
// round_started_us is more than COLL_TIME_WINDOW_US away from the collector's clock is applied
// with its agent times ignored (as if the agent sent none: no skew observation, history at our
// clock), counted in reports_time_ignored. Arithmetic on times saturates (fl/arith.h), so even
// values restored from a damaged database cannot overflow.
//
// Restart. A host whose last stale/back history event (since its first_seen: a forgotten host
// that came back starts afresh) is "stale" was stale when the collector
// stopped: it is restored stale (no second "stale" event). Any other host gets
// COLL_STALE_INTERVALS intervals after the collector's start to report before it is called
// stale, since nobody could report while the collector was down.
//
// Name changes: a probe that reports the addresses its target's name resolved to (dns, and
// http/tcp/postgres/mysql on a name) has its last answer kept; a different answer is a "dns"
// history event ("db.internal moved from 10.0.0.5 to 10.0.0.9") and the previous answer and
// the time of the change are handed to the correlation engine. The first answer after a start
// (or a restart: it is restored from the stored result) is not a change.
//
// Staleness allows for rounds held up by a probe timeout: a host is stale after
// COLL_STALE_INTERVALS x max(interval, observed round length) of silence, where the round length
// is the longer of the last round's own duration (its results' end - round_started_us) and the
// spacing between the starts of consecutive rounds, rising at once and decaying over a few
// rounds. Reports do not carry the agent's probe timeouts, so the first round that overruns
// (the onset of a hang) is not yet allowed for.

#ifndef FL_COLLECTOR_STATE_H
#define FL_COLLECTOR_STATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "correlate.h"
#include "faultline.pb-c.h"
#include "fl/limits.h"
#include "state_intern.h"
#include "store.h"

#define COLL_SEEN_WRITE_US   (5 * 1000000LL) // last_seen reaches SQLite at most this often
#define COLL_STALE_INTERVALS 3               // silent for this many intervals = stale
#define COLL_DUP_WINDOW      64              // out-of-order seqs remembered per host
#define COLL_LATE_INTERVALS  2               // a report older than this many intervals is late
#define COLL_SKEW_DECAY_PPM  1000 // skew estimate decay: 1 ms per s (clock drift, NTP slew)
#define COLL_SKEW_RESET_RUN \
	5                             // this many delayed reports in a row, spanning as many
	                              // intervals: the agent's clock was stepped, re-estimate
#define COLL_ROUND_MAX_INTERVALS 10   // observed round length is capped at this many intervals
#define COLL_SLOW_ADOPT_ROUNDS   600  // slow this long in a row (status ok): the new normal
#define COLL_DEFAULT_MAX_HOSTS   5000 // [collector] max_hosts
#define COLL_DEFAULT_MAX_PROBES  FL_WIRE_MAX_RESULTS      // max_probes_per_host
#define COLL_TIME_WINDOW_US      (30LL * 86400 * 1000000) // agent times trusted within

typedef struct coll_stats {
	uint64_t reports_received;
	uint64_t reports_applied;
	uint64_t results_applied;
	uint64_t dropped_undecodable;
	uint64_t dropped_schema;
	uint64_t dropped_oversize;
	uint64_t dropped_invalid;
	uint64_t dropped_duplicate;
	uint64_t dropped_overload;
	uint64_t dropped_unauthenticated;
	uint64_t control_errors;       // undecodable or unknown control requests
	uint64_t dropped_host_limit;   // reports from a new host while max_hosts are known
	uint64_t dropped_probe_limit;  // reports with more than max_probes_per_host results
	uint64_t reports_time_ignored; // applied with agent times ignored (COLL_TIME_WINDOW_US)
	uint64_t history_events_lost;  // history rows the store could not write (full disk ...)
	uint64_t state_writes_lost;    // other state rows it could not write
	// Copied from the server's socket counters when a status is encoded (control.c).
	uint64_t control_clients_cut;
	uint64_t control_busy;
	uint64_t connections_refused;
	uint64_t slow_abandoned;
	uint64_t fd_exhausted;
	int64_t  started_us;
} coll_stats;

// What a probe holds beyond the common case: a name's answers, and the latest result's
// repeated fields and fields unknown to this collector (a newer agent's), kept so status and
// the latest row carry them. Held only by a probe that has any, and shared: a record is one
// stored copy per distinct content (coll_state.mores, state_intern.h), so every host whose probe
// resolved the same name to the same addresses (and has the same rare block) holds one pointer
// to one record. A record never changes; a probe whose part changes takes another. The record
// owns one reference to each of its three (released with its last holder).
typedef struct coll_probe_more {
	const char *addrs;      // the name's last answer, "10.0.0.5, 10.0.0.9"; NULL = none yet
	const char *addrs_prev; // the answer before it changed; NULL = never changed
	void      **rare;       // shared block (an Fl__ProbeResult holding res's unmet, addresses
	                        // and unknown fields) in coll_state.rare; NULL: none
} coll_probe_more;

// One probe of a host: the latest result and what is known about its recent rounds. Memory per
// probe is what sizes a collector (docs/benchmarks/scale.md), so nothing is held twice: view
// is what the correlation reads and the one home of the counters it reads (and of the release
// when the streak began, view.release_at_fail: interned, NULL when not failing); its pointers
// point into this probe (last = &res, recent = &recent, ...) and are refreshed whenever the probe
// moves or changes (host_views_sync in state.c). The result's strings are shared through the
// state's string table (state_intern.h): every host probing the same target holds one copy.
// Members are ordered largest first so the record has no padding between them.
typedef struct coll_probe {
	corr_probe             view; // first: corr_host.probes steps over coll_probes (probe_size)
	Fl__ProbeResult        res; // the latest result (name = the probe's name); strings interned
	Fl__Timing             timing;   // res.timing points here when the result had one
	corr_window            recent;   // the last CORR_WINDOW rounds
	int64_t                since_us; // last transition
	const coll_probe_more *more;     // shared (see above); NULL: no answers, repeated or
	                                 // unknown fields
	uint32_t baseline_us; // EWMA of duration_us (a uint32) while ok and not slow: within the
	                      // range of its samples; the view shows it once ok_samples >= 3
	uint8_t ok_samples;   // samples in baseline_us, counted up to 3 (all that is asked of it)
} coll_probe;

// A host. Members are grouped by size (8-byte, then 4-byte, then flags) so the record has no
// padding, and the name is allocated with it: a host is one allocation besides its probes and
// labels (docs/benchmarks/scale.md).
typedef struct coll_host {
	const char *release; // these four interned (state_intern.h); NULL until known
	const char *previous_release;
	const char *agent_version;
	const char *expectations_error;
	int64_t     release_since_us;
	int64_t     first_seen_us;
	int64_t     last_seen_us;
	int64_t     stale_ref_us;       // last_seen, or the collector's start for restored hosts
	int64_t     seen_written_us;    // when last_seen last went to SQLite
	int64_t     clock_skew_us;      // robust estimate (see above); what status shows
	int64_t     skew_at_us;         // when the estimate was last updated (collector clock)
	int64_t     delayed_since_us;   // arrival of the first of the delayed reports in a row
	int64_t     round_us;           // observed round length (0 = unknown)
	int64_t     max_round_us;       // the agent's announced longest round (0 = not sent)
	int64_t     last_round_started; // agent clock, of seq last_seq
	uint64_t    boot_id;
	uint64_t    last_seq;
	uint64_t    seq_window; // bit i: last_seq - i was applied
	uint64_t    spool_dropped;
	char      **labels;   // "key=value" as last reported, validated by fl_wire; NULL for none.
	                      // One block with their text and labels_text (free labels alone)
	char *labels_text;    // the same joined with ',' ("" for none): the hosts row; NULL
	                      // until first set
	coll_probe *probes;   // exactly as many as the latest report carried (cap_probes)
	uint32_t    n_probes; // <= max_probes_per_host (state.h, "Bounds")
	uint32_t    cap_probes;
	uint32_t    n_labels;       // <= FL_LABELS_MAX
	uint32_t    restored_bytes; // packed results restored from SQLite at startup (<=
	                            // FL_WIRE_MAX_MSG)
	uint32_t interval_ms;
	uint32_t delayed_run; // delayed reports in a row
	bool     seen_dirty;
	bool     skew_known; // clock_skew_us holds an estimate
	bool     stale;
	char     name[]; // allocated with the host
} coll_host;

typedef struct coll_state {
	coll_host **hosts; // insertion order
	size_t      n_hosts;
	size_t      cap_hosts;
	coll_host **index; // open addressing by name, size index_cap (power of two)
	size_t      index_cap;
	coll_stats  stats;
	char       *verdict; // last recorded verdict name, NULL before the first
	char       *verdict_summary;
	uint64_t    verdict_scope;       // hash of the top finding's verdict, hosts and targets
	bool        verdict_scope_known; // false after a restart until the first diagnosis
	size_t      max_hosts;           // COLL_DEFAULT_MAX_HOSTS unless set after init
	size_t      max_probes;          // COLL_DEFAULT_MAX_PROBES unless set after init
	size_t      not_restored;        // hosts in SQLite beyond max_hosts at startup
	// For /metrics: latency histograms per probe (latency.h; NULL when out of memory at
	// init: not counted) and the open findings of the last diagnosis by Fl__Verdict.
	struct coll_latency *latency;
	uint32_t             findings[6];
	// The one copy of each string the hosts and probes hold, of each distinct block of a
	// result's rare fields and of each distinct coll_probe_more (state_intern.h).
	struct coll_intern *strings;
	struct coll_intern *rare;
	struct coll_intern *mores; // the probes' shared coll_probe_more records
	// Called with every diagnosis coll_state_record_verdict makes (the notifier,
	// notify.h); r is borrowed for the call. NULL: nobody listens.
	void (*on_diagnosis)(
	    void *arg, const struct coll_state *s, const Fl__DiagnoseReply *r, int64_t now_us);
	void *on_diagnosis_arg;
} coll_state;

// Which hosts a query is about: host NULL or "" for all; labels "key=value", each of
// which a host must carry (AND; none: no label filter). Borrowed for the call.
typedef struct coll_filter {
	const char        *host;
	const char *const *labels;
	size_t             n_labels;
} coll_filter;

// The state and the mutex that guards it, as handed to the threads beside ingest and control
// (verification, the signature gate): they read or count under the lock, never own either.
typedef struct coll_state_ref {
	pthread_mutex_t *lock;
	coll_state      *state;
} coll_state_ref;

// The hosts that are not stale and carry f's labels (f NULL: every host; f->host is not looked
// at), with their release ("unknown" when none) and previous release ("" when none): parallel
// arrays of malloc'd strings, freed with coll_live_free.
typedef struct coll_live {
	char **hosts;
	char **releases;
	char **previous;
	size_t n;
} coll_live;

// Fills out (the caller holds the lock). 0, or -1 when out of memory (out then holds nothing).
int  coll_live_hosts(const coll_state *s, const coll_filter *f, coll_live *out);
void coll_live_free(coll_live *l); // accepts an emptied or zeroed coll_live

// Whether h carries every label of f (the host part of f is not looked at).
bool coll_host_has_labels(const coll_host *h, const coll_filter *f);

typedef enum coll_apply_result {
	COLL_APPLIED,     // state updated (or an old out-of-order round counted)
	COLL_DUPLICATE,   // (host, boot_id, seq) seen before; counted in dropped_duplicate
	COLL_NOMEM,       // nothing applied
	COLL_HOST_LIMIT,  // a new host while max_hosts are known; counted in dropped_host_limit
	COLL_PROBE_LIMIT, // more results than max_probes; counted in dropped_probe_limit
} coll_apply_result;

void coll_state_init(coll_state *s, int64_t now_us);
void coll_state_fini(coll_state *s);

// Moves what src loaded from the store (hosts, their latest results, the last verdict, the
// count left out by max_hosts) into dst, whose old hosts are freed; dst keeps its stats,
// latency histograms, limits and hooks. src is left empty (fini it). A standby collector
// serves the store's state this way (role.h, REFRESH), and an active one starts from it.
void coll_state_adopt(coll_state *dst, coll_state *src);

// Applies a decoded, validated report received at now_us. Always takes r (freed before it
// returns: the probes keep copies of what they need). Transitions are appended to ops; stats
// are updated.
coll_apply_result coll_state_apply(coll_state *s, Fl__Report *r, int64_t now_us, coll_ops *ops);

// Marks hosts silent for COLL_STALE_INTERVALS x max(interval, observed round length) stale
// ("stale" event, once). Returns how many hosts went stale.
size_t coll_state_check_stale(coll_state *s, int64_t now_us, coll_ops *ops);

// Appends a SEEN op for every host whose last_seen changed and is not yet written, if its last
// write is at least min_age_us old (0 at shutdown: everything).
void coll_state_flush_seen(coll_state *s, int64_t now_us, int64_t min_age_us, coll_ops *ops);

// Runs corr_diagnose over the whole state and records a "verdict" event when the top verdict
// or its summary changed. Returns 1 when an event was added, 0 otherwise (also when the
// engine returned NULL).
int coll_state_record_verdict(coll_state *s, int64_t now_us, coll_ops *ops);

// The same with the diagnosis r of the whole state already made at now_us (borrowed: the verdict
// tick shares it with the diagnose queries waiting for it, diag_share.h).
int coll_state_record_diagnosis(
    coll_state *s, const Fl__DiagnoseReply *r, int64_t now_us, coll_ops *ops);

// Diagnoses the state (only_host NULL or "" for all). Returns the engine's reply (free with
// corr_reply_free) or NULL.
Fl__DiagnoseReply *coll_state_diagnose(const coll_state *s, int64_t now_us, const char *only_host);

// The same over the hosts carrying f's labels only: the correlation sees no other host, so
// one label set's fault does not colour another's verdict. f->host restricts the findings as
// only_host does. f NULL: every host.
Fl__DiagnoseReply *coll_state_diagnose_filtered(
    const coll_state *s, int64_t now_us, const coll_filter *f);

// One page of status: a StatusReply of hosts and stats that borrows the state's strings and
// results, so it is valid only while the state is unchanged (the caller holds the lock until it
// has packed the reply). The control thread adds what the state does not know (verifications,
// refused senders) and packs it once (control.c).
typedef struct coll_status {
	Fl__StatusReply    reply; // reply.hosts and reply.stats point into this struct
	Fl__CollectorStats stats;
	Fl__HostState     *hs;  // the page's hosts
	Fl__HostState    **hsp; // reply.hosts
} coll_status;

// Fills st with the hosts f selects (f NULL: all) named after `after` (NULL/"": from the first),
// sorted by name, as many as fit in page_bytes of encoded hosts (always at least one; 0: all),
// with reply.more set when hosts remain after the page's last; and with the stats and now_us.
// 0, or -1 when out of memory (then st holds nothing to free). Free with coll_status_fini.
int  coll_state_status(const coll_state *s, const coll_filter *f, const char *after,
     size_t page_bytes, int64_t now_us, coll_status *st);
void coll_status_fini(coll_status *st); // frees what st allocated, never what it borrows

// The names of the hosts carrying f's labels (f->host ignored), as malloc'd strings in a
// malloc'd array (free with coll_names_free). 0, or -1 when out of memory.
int coll_state_names_with_labels(const coll_state *s, const coll_filter *f, char ***out, size_t *n);
void coll_names_free(char **v, size_t n);

// Forgetting hosts (`faultline forget`, forget_after). The host leaves the in-memory state (so
// status, the verdict and probe-now no longer see it); a FORGET op deletes its hosts and latest
// rows, and a "forgotten" history event (from = its state, detail = why) records it. Its history
// stays. A later report from it brings it back as a new host.

// What a forget found, for the reply.
typedef struct coll_forgotten {
	int64_t  last_seen_us;
	bool     stale;
	uint32_t probes;
} coll_forgotten;

// Forgets host name; detail says why (goes into the event). Returns 0 (what is filled when
// not NULL), 1 when no such host (nothing changed), -1 when out of memory (nothing changed).
int coll_state_forget(coll_state *s, const char *name, int64_t now_us, const char *detail,
    coll_ops *ops, coll_forgotten *what);

// Forgets every stale host silent for more than after_us ([collector] forget_after; 0: off).
// Returns how many were forgotten.
size_t coll_state_forget_silent(coll_state *s, int64_t now_us, int64_t after_us, coll_ops *ops);

// The silence after which h is stale, in us (0 when it announced no interval).
int64_t coll_host_stale_limit_us(const coll_host *h);

// Looks a host up by name; NULL if unknown.
coll_host *coll_state_host(const coll_state *s, const char *name);

// Restoring from the store at startup (coll_store_load callbacks; arg is the coll_state). A
// row restored again over a host or probe the state holds (a standby applying the store's
// changes, coll_store_load_changes) replaces it in place with what restoring the row into an
// empty state gives.
int coll_state_restore_host(void *arg, const coll_host_row *row);
int coll_state_restore_latest(void *arg, const coll_latest_row *row);
int coll_state_restore_verdict(void *arg, const char *verdict, const char *summary);

// Gives every host what a restore at now_us gives (the staleness allowance from now_us, the
// whole duplicate window seen, last_seen as written): a collector taking over with a state it
// kept up to date by changes starts as if it had just loaded it.
void coll_state_restored_at(coll_state *s, int64_t now_us);

#endif // FL_COLLECTOR_STATE_H
