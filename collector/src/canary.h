// canary.h - the canary rule of post-release verification, as a pure function.
//
// The candidate group (hosts on the new release) is compared with the baseline group (hosts on
// another release) on the same probes over the verification window. The candidate is worse
// when its error rate exceeds the baseline's by more than max_error_rate_increase (absolute:
// 0.05 = five percentage points), or when its median latency of passing samples exceeds
// max_latency_ratio x the baseline's median plus latency_slack_ms. The slack keeps a 1 ms vs
// 2 ms difference on loopback from failing a release; a baseline without passing samples
// (median 0) gives no latency verdict.

#ifndef FL_COLLECTOR_CANARY_H
#define FL_COLLECTOR_CANARY_H

#include <stdint.h>

typedef struct coll_canary_rule {
	double   max_error_rate_increase; // default 0.05
	double   max_latency_ratio;       // default 1.5
	uint32_t latency_slack_ms;        // default 20
} coll_canary_rule;

typedef struct coll_canary_side {
	double error_rate;        // failing samples / samples, 0..1
	double median_latency_ms; // of passing samples; 0 when there were none
} coll_canary_side;

enum {
	COLL_CANARY_MORE_ERRORS = 1 << 0,
	COLL_CANARY_SLOWER      = 1 << 1,
};

// Returns 0 when the candidate is no worse, else a mask of COLL_CANARY_* reasons.
unsigned coll_canary_judge(
    const coll_canary_rule *rule, const coll_canary_side *cand, const coll_canary_side *base);

#endif // FL_COLLECTOR_CANARY_H
