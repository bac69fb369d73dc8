// correlate.h - the correlation engine: code, database or network?
//
// A pure function of the collector's current view: no I/O, no clock reads, no globals. The
// collector builds a corr_view from its in-memory state on every `diagnose` query (and after
// each applied report, to record verdict changes in history); unit tests build views directly.
//
// Debounce: the view carries, per (host, probe), how many consecutive rounds failed and since
// when. The engine treats a probe as failing only once consecutive_fail reaches
// params.fail_threshold, so a single lost probe does not flip the verdict. Likewise a slow path
// (slow from some hosts, normal from others) counts once consecutive_slow reaches
// params.slow_rounds.
//
// Slowness and trouble that comes and goes are judged over each probe's recent rounds: the
// collector keeps a fixed window (corr_window, CORR_WINDOW rounds) per probe and passes it in;
// the engine reads percentiles and counts from it, never a mean. A name's answer change is
// passed in as the previous answer and its time (addrs_prev, addrs_changed_us).

#ifndef FL_COLLECTOR_CORRELATE_H
#define FL_COLLECTOR_CORRELATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "faultline.pb-c.h"

// The last CORR_WINDOW rounds of one probe, kept by the collector (bounded: a fixed ring, no
// allocation) and passed in so the engine judges slowness and intermittent trouble by
// percentiles over recent rounds rather than by one round or a mean. Whether each of the last
// CORR_HISTORY rounds was slow or failed is kept longer than the durations: the engine's
// hysteresis (a lossy path stays suspect until it is clean again) looks back that far.
#define CORR_WINDOW  16 // durations held, and the rounds every count below is over
#define CORR_HISTORY 64 // slow/failed bits held: one uint64_t each

typedef struct corr_window {
	uint32_t dur_us[CORR_WINDOW]; // ring of round durations
	uint64_t slow;   // bit i: the round i rounds before the latest was slow (corr_result_slow)
	uint64_t failed; // bit i: that round failed (status fail, class not slow)
	uint8_t  n;      // rounds held in dur_us, <= CORR_WINDOW
	uint8_t  next;   // slot the next round goes to
	uint8_t  rounds; // rounds held in the bit masks, <= CORR_HISTORY
} corr_window;

// Adds one round, dropping the oldest when full.
void corr_window_push(corr_window *w, uint32_t dur_us, bool slow, bool failed);

// The pct-th percentile (nearest rank, 1..100) of the durations held; 0 when empty.
uint32_t corr_window_percentile(const corr_window *w, unsigned pct);

// How many of the last CORR_WINDOW rounds were slow / failed.
unsigned corr_window_slow(const corr_window *w);
unsigned corr_window_failed(const corr_window *w);

typedef struct corr_probe {
	const Fl__ProbeResult *last;             // latest result (borrowed)
	uint32_t               consecutive_fail; // rounds in a row with status fail (0 when ok)
	uint32_t               consecutive_ok;   // rounds in a row not failing
	uint32_t consecutive_slow; // rounds in a row that were slow (corr_result_slow); 0 = none
	                           // or unknown. A slow path needs params.slow_rounds of them.
	int64_t failing_since_us;  // collector clock, first round of the streak; 0 = ok
	int64_t baseline_us;       // typical duration while healthy (moving average);
	                           // 0 = not enough data yet
	const char        *release_at_fail; // host release when the streak began (borrowed)
	const corr_window *recent;    // the last rounds (borrowed); NULL = only `last` is known
	int64_t     slow_since_us;    // collector clock, first slow round of the current spell; 0
	const char *addrs_prev;       // the name's answer before its last change ("a, b"); NULL
	int64_t     addrs_changed_us; // collector clock of that change; 0 = never
} corr_probe;

typedef struct corr_host {
	const char       *host;
	const char       *release;
	const char       *previous_release; // "" when never changed
	int64_t           release_since_us; // collector clock of the last release change
	int64_t           last_seen_us;     // collector clock
	bool              stale;            // silent for 3 announced intervals
	uint32_t          interval_ms;
	const char       *expectations_error; // "" when the release's expectations parse
	size_t            n_probes;
	const corr_probe *probes;
	// Bytes from one probe to the next in probes; 0: sizeof(corr_probe). The collector keeps
	// each probe's view at the start of its own, larger per-probe record, so a diagnosis reads
	// the views where they are instead of copying them.
	size_t probe_size;
} corr_host;

// The i-th probe of h (i < h->n_probes).
static inline const corr_probe *
corr_host_probe(const corr_host *h, size_t i)
{
	size_t step = h->probe_size != 0 ? h->probe_size : sizeof(corr_probe);
	return (const corr_probe *) (const void *) ((const char *) h->probes + i * step);
}

typedef struct corr_params {
	uint32_t fail_threshold; // consecutive failed rounds before a probe counts (default 2)
	double   slow_factor;    // latency above baseline * factor counts as degraded (default 3)
	uint32_t slow_rounds;    // consecutive slow rounds before a slow path on some hosts (while
	                         // others are at normal latency) is a network finding (default 3)
} corr_params;

typedef struct corr_view {
	int64_t          now_us; // collector clock
	corr_params      params;
	size_t           n_hosts;
	const corr_host *hosts;
	const char      *only_host; // NULL, or restrict findings to this host (diagnose --host)
} corr_view;

void corr_params_default(corr_params *p);

// Whether r is a slow round: status warn, failure slow, or ok but slower than baseline_us *
// p->slow_factor and at least 50 ms above it (baseline_us 0 = no normal known yet). The one
// definition of "slow", shared by the engine and the collector's consecutive_slow counter.
bool corr_result_slow(const corr_params *p, const Fl__ProbeResult *r, int64_t baseline_us);

// A result's resolved addresses as one string, "10.0.0.5, 10.0.0.9" (the agent sends them sorted
// and unique), written into buf (truncated to len) and returned; "" when it has none. The one
// spelling of an answer, shared by the engine's evidence and the collector's dns history events.
const char *corr_addresses_text(const Fl__ProbeResult *r, char *buf, size_t len);

// Builds the diagnosis of view. Returns a heap-allocated reply (free with corr_reply_free), or
// NULL when out of memory. The reply owns all its strings.
Fl__DiagnoseReply *corr_diagnose(const corr_view *view);

void corr_reply_free(Fl__DiagnoseReply *r); // accepts NULL

#endif // FL_COLLECTOR_CORRELATE_H
