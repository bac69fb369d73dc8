// canary.c - see canary.h.

#include "canary.h"

unsigned
coll_canary_judge(
    const coll_canary_rule *rule, const coll_canary_side *cand, const coll_canary_side *base)
{
	unsigned worse = 0;

	// The epsilon keeps an increase of exactly the allowance (0.05 from 0.00 to 0.05, which
	// floating point may compute as 0.0500000001) a pass.
	if (cand->error_rate > base->error_rate + rule->max_error_rate_increase + 1e-9) {
		worse |= COLL_CANARY_MORE_ERRORS;
	}
	if (base->median_latency_ms > 0 &&
	    cand->median_latency_ms >
	        rule->max_latency_ratio * base->median_latency_ms + rule->latency_slack_ms) {
		worse |= COLL_CANARY_SLOWER;
	}
	return worse;
}
