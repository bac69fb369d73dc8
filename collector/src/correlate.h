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

#ifndef FL_COLLECTOR_CORRELATE_H
#define FL_COLLECTOR_CORRELATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "faultline.pb-c.h"

typedef struct corr_probe {
	const Fl__ProbeResult *last;             // latest result (borrowed)
	uint32_t               consecutive_fail; // rounds in a row with status fail (0 when ok)
	uint32_t               consecutive_ok;   // rounds in a row not failing
	uint32_t consecutive_slow;   // rounds in a row that were slow (corr_result_slow); 0 = none
	                             // or unknown. A slow path needs params.slow_rounds of them.
	int64_t failing_since_us;    // collector clock, first round of the streak; 0 = ok
	int64_t baseline_us;         // typical duration while healthy (moving average);
	                             // 0 = not enough data yet
	const char *release_at_fail; // host release when the streak began (borrowed)
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
} corr_host;

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

// Builds the diagnosis of view. Returns a heap-allocated reply (free with corr_reply_free), or
// NULL when out of memory. The reply owns all its strings.
Fl__DiagnoseReply *corr_diagnose(const corr_view *view);

void corr_reply_free(Fl__DiagnoseReply *r); // accepts NULL

#endif // FL_COLLECTOR_CORRELATE_H
