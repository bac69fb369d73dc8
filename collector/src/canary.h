// canary.h - the canary rule of post-release verification, probe by probe, as pure functions.
//
// The candidate group (hosts on the new release) is compared with the baseline group (hosts on
// another release) one probe at a time: the same probe name and kind, sampled on both groups
// over the verification window. Pooling every probe of a host would let a few fast database
// probes hide an application that became 300 times slower, so each probe gets its own verdict,
// and the release fails when any probe regresses.
//
// A probe REGRESSES (verdict failed) when at least one of these holds:
//   - more errors: candidate error rate > baseline error rate + max_error_rate_increase
//     (absolute: 0.05 = five percentage points; error = a failing sample);
//   - more warnings: candidate warn rate > baseline warn rate + max_error_rate_increase (a
//     probe that warns, e.g. slow above its `slow` threshold, on the candidate and not on the
//     baseline);
//   - slower: the one-sided Mann-Whitney U test (stats.h) says the candidate's latencies are
//     larger with p < 1 - confidence, AND the candidate median > max_latency_ratio x baseline
//     median + latency_slack_ms. The test keeps noise quiet; the tolerance keeps a significant
//     but harmless shift (2.1 ms vs 2.0 ms) from failing; the slack is for tiny latencies;
//   - a slower tail: more candidate latencies than chance allows exceed max_latency_ratio x the
//     baseline's p95 + latency_slack_ms: k of n, with P(Binomial(n, 0.05) >= k) < 1 -
//     confidence (at 98 % and 20 samples: 4 or more). The p95 itself is not compared: with 20
//     samples it is the one or two largest, which one scheduling hiccup moves.
// Latencies are those of non-failing samples (ok and warn).
//
// A probe that did not regress is INCONCLUSIVE (never a pass) when the sample cannot decide:
//   - fewer than min_samples samples on either side; or
//   - the median is beyond the tolerance but the rank test is not significant; or
//   - both sides have min_samples latencies but the test could not reach 1 - confidence at
//     these sizes whatever the values (coll_stats_mwu_min_p).
// A side with enough samples but fewer than min_samples latencies (its probe mostly failed)
// gives no latency verdict: the error rates decide. Otherwise the probe PASSED.

#ifndef FL_COLLECTOR_CANARY_H
#define FL_COLLECTOR_CANARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct coll_canary_rule {
	double   max_error_rate_increase; // default 0.05
	double   max_latency_ratio;       // default 1.5: the effect-size tolerance
	uint32_t latency_slack_ms;        // default 20
	double   confidence;              // default 0.98: significance level 1 - confidence
	uint32_t min_samples;             // default 5, per side
} coll_canary_rule;

// One side's samples of one probe. lat_ms (borrowed) holds the latencies of the non-failing
// samples, sorted ascending (coll_stats_sort); n_lat = samples - errors.
typedef struct coll_canary_side {
	uint32_t      samples, errors, warns;
	const double *lat_ms;
	size_t        n_lat;
} coll_canary_side;

// What the rule saw on one side.
typedef struct coll_canary_summary {
	uint32_t samples, errors, warns;
	double   error_rate, warn_rate;                             // 0..1
	double   median_latency_ms, p90_latency_ms, p95_latency_ms; // 0 without latencies
} coll_canary_summary;

enum {
	COLL_CANARY_MORE_ERRORS = 1 << 0,
	COLL_CANARY_MORE_WARNS  = 1 << 1,
	COLL_CANARY_SLOWER      = 1 << 2, // the median, by the rank test and the tolerance
	COLL_CANARY_SLOWER_TAIL = 1 << 3, // the tail, by the binomial count over the tolerance
};

// The share of samples above the p95 when nothing changed: the null hypothesis of the tail test.
#define COLL_CANARY_TAIL_SHARE 0.05

enum {
	COLL_CANARY_FEW_SAMPLES     = 1 << 0, // fewer than min_samples on a side
	COLL_CANARY_NOT_SIGNIFICANT = 1
	    << 1,                        // slower beyond the tolerance, but p >= 1 - confidence
	COLL_CANARY_UNTESTABLE = 1 << 2, // these sizes cannot reach the significance level
};

typedef enum coll_canary_outcome {
	COLL_CANARY_PASSED,
	COLL_CANARY_FAILED,
	COLL_CANARY_INCONCLUSIVE,
} coll_canary_outcome;

typedef struct coll_canary_verdict {
	coll_canary_outcome outcome;
	unsigned            worse;             // COLL_CANARY_MORE_ERRORS | ... | _SLOWER_TAIL
	unsigned            undecided;         // COLL_CANARY_FEW_SAMPLES | ... (when not worse)
	bool                latency_tested;    // the rank test ran
	double              p_value;           // of the rank test; 1 when it did not run
	double              median_ratio;      // candidate / baseline median; 0 when baseline is 0
	double              tail_threshold_ms; // max_latency_ratio x baseline p95 + slack
	uint32_t            tail_exceeding;    // candidate latencies above it
	double              tail_p_value;      // binomial; 1 when the latencies were not tested
	coll_canary_summary cand, base;
} coll_canary_verdict;

// Judges one probe. Never fails; *out is fully written.
void coll_canary_judge_probe(const coll_canary_rule *rule, const coll_canary_side *cand,
    const coll_canary_side *base, coll_canary_verdict *out);

// "passed" | "failed" | "inconclusive".
const char *coll_canary_outcome_name(coll_canary_outcome o);

// One line naming the probe and, for a regression, what got worse, e.g.
// "web: median 602.9ms vs 2.1ms (×287), p95 640.2ms vs 3.0ms, Mann-Whitney p = 0.0000 over
// 20 vs 40 samples (allowed 1.50x + 20ms)"; for an inconclusive probe, why. Always
// NUL-terminated; truncated to len.
void coll_canary_describe(const char *probe, const coll_canary_rule *rule,
    const coll_canary_verdict *v, char *buf, size_t len);

#endif // FL_COLLECTOR_CANARY_H
