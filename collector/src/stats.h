// stats.h - the small statistics behind the canary comparison: quantiles of a latency sample
// and a one-sided Mann-Whitney U rank test. Pure functions: no allocation, no I/O, no state.
//
// Samples are arrays of doubles sorted ascending (coll_stats_sort sorts one in place); NaN is
// not allowed. The functions never keep a pointer to their inputs.
//
// The rank test answers "does x tend to be larger than y?" (the candidate's latencies larger
// than the baseline's) without assuming any distribution, which is why it suits latencies
// (skewed, long-tailed). It uses the normal approximation of U with the tie correction and a
// continuity correction of 0.5, as R's wilcox.test(exact = FALSE, correct = TRUE) and SciPy's
// mannwhitneyu(method = "asymptotic", alternative = "greater") do, so the p-values can be
// checked against either.

#ifndef FL_COLLECTOR_STATS_H
#define FL_COLLECTOR_STATS_H

#include <stddef.h>

// Sorts v[0..n) ascending, in place.
void coll_stats_sort(double *v, size_t n);

// The q-quantile (0 <= q <= 1) of sorted[0..n), interpolated linearly between the two closest
// ranks (R's type 7, NumPy's default): q = 0.5 is the median. 0 when n is 0.
double coll_stats_quantile(const double *sorted, size_t n, double q);

typedef struct coll_mwu {
	double u; // U of x: the number of (x, y) pairs with x > y, ties counting one half
	double z; // standardised, continuity-corrected U; 0 when every value is tied
	double p; // one-sided p-value for "x tends to be larger than y"; 1 when untestable
} coll_mwu;

// One-sided Mann-Whitney U test of x[0..nx) against y[0..ny), both sorted ascending. Fills
// *out; returns 0, or -1 (and leaves *out untouched) when a sample is empty.
int coll_stats_mwu_greater(const double *x, size_t nx, const double *y, size_t ny, coll_mwu *out);

// P(X >= k) for X ~ Binomial(n, p), 0 <= p <= 1: the one-sided p-value of seeing k or more
// "successes" in n trials when each has probability p. 1 when k is 0.
double coll_stats_binom_upper(size_t k, size_t n, double p);

// The smallest p-value the test above can give for samples of these sizes (every x above
// every y, no ties). When it is not below the significance level, no outcome could be
// significant: the samples are too small to decide. 1 when a size is 0.
double coll_stats_mwu_min_p(size_t nx, size_t ny);

#endif // FL_COLLECTOR_STATS_H
