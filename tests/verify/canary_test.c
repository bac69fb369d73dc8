// canary_test.c - the per-probe canary rule of `faultline verify`, row by row
// (collector/src/canary.h).

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <string.h>

#include "canary.h"
#include "stats.h"

#define MAXN 64

// One side of a row: `samples` samples of which `errors` failed and `warns` warned; the
// latencies of the non-failing ones are `center` +- `step` (evenly spread, so center is their
// median), unless `lat` lists them.
typedef struct side_spec {
	uint32_t      samples, errors, warns;
	double        center, step;
	const double *lat;
} side_spec;

// S(samples, errors, warns, center, step); L(samples, latencies...) lists the latencies.
#define S(n, e, w, c, st)                      \
	{                                      \
		(n), (e), (w), (c), (st), NULL \
	}
#define L(n, ...)                                 \
	{                                         \
		(n), 0, 0, 0, 0, (const double[]) \
		{                                 \
			__VA_ARGS__               \
		}                                 \
	}

typedef struct row {
	const char         *what;
	side_spec           cand, base;
	coll_canary_outcome want;
	unsigned            want_worse, want_undecided;
} row;

static const coll_canary_rule defaults = { 0.05, 1.5, 20, 0.98, 5 };

#define PASS    COLL_CANARY_PASSED
#define FAIL    COLL_CANARY_FAILED
#define INCONCL COLL_CANARY_INCONCLUSIVE

#define SLOWER_BOTH (COLL_CANARY_SLOWER | COLL_CANARY_SLOWER_TAIL)

static const row rows[] = {
	{ "identical groups (loopback noise)", S(20, 0, 0, 2.0, 0.01), S(40, 0, 0, 2.0, 0.005),
	    PASS, 0, 0 },
	{ "the slow canary of the issue: 600 ms and warns, baseline 2 ms", S(20, 0, 20, 602.7, 0.1),
	    S(40, 0, 0, 2.1, 0.001), FAIL, SLOWER_BOTH | COLL_CANARY_MORE_WARNS, 0 },
	{ "x10 slower without a slow threshold", S(20, 0, 0, 200.0, 1), S(40, 0, 0, 20.0, 0.1),
	    FAIL, SLOWER_BOTH, 0 },
	{ "x10 on a 2 ms probe stays within the 20 ms slack", S(20, 0, 0, 20.0, 0.1),
	    S(40, 0, 0, 2.0, 0.01), PASS, 0, 0 },
	{ "significantly but harmlessly slower (within ratio + slack)", S(20, 0, 0, 2.4, 0.01),
	    S(40, 0, 0, 2.0, 0.005), PASS, 0, 0 },
	{ "x1.5 + 20 ms exactly is allowed", S(20, 0, 0, 170.0, 0), S(40, 0, 0, 100.0, 0), PASS, 0,
	    0 },
	{ "+80% on 100 ms: the median is beyond x1.5 + 20 ms, the tail is not",
	    S(20, 0, 0, 180.0, 1), S(40, 0, 0, 100.0, 1), FAIL, COLL_CANARY_SLOWER, 0 },
	{ "10% errors on the canary", S(20, 2, 0, 2.0, 0.01), S(40, 0, 0, 2.0, 0.005), FAIL,
	    COLL_CANARY_MORE_ERRORS, 0 },
	{ "error rate up by exactly the allowance", S(20, 1, 0, 2.0, 0.01), S(40, 0, 0, 2.0, 0.005),
	    PASS, 0, 0 },
	{ "both groups fail alike (not the release)", S(20, 10, 0, 2.0, 0.01),
	    S(40, 20, 0, 2.0, 0.005), PASS, 0, 0 },
	{ "canary better than baseline", S(20, 0, 0, 5, 0.1), S(40, 8, 0, 50, 1), PASS, 0, 0 },
	{ "warns on the canary only", S(20, 0, 4, 2.0, 0.01), S(40, 0, 0, 2.0, 0.005), FAIL,
	    COLL_CANARY_MORE_WARNS, 0 },
	{ "warns alike on both", S(20, 0, 2, 2.0, 0.01), S(40, 0, 4, 2.0, 0.005), PASS, 0, 0 },
	{ "too few samples: 3 rounds", S(3, 0, 0, 600, 1), S(3, 0, 0, 2, 0.1), INCONCL, 0,
	    COLL_CANARY_FEW_SAMPLES },
	{ "too few samples, but every canary sample fails: failed, not inconclusive",
	    S(3, 3, 0, 0, 0), S(3, 0, 0, 2, 0.1), FAIL, COLL_CANARY_MORE_ERRORS, 0 },
	{ "median beyond the tolerance but not significant (bimodal baseline)",
	    L(5, 1, 1, 100, 100, 100), L(10, 1, 1, 1, 1, 1, 100, 100, 100, 100, 100), INCONCL, 0,
	    COLL_CANARY_NOT_SIGNIFICANT },
	{ "a slow tail on 4 of 20 samples: the tail count catches it (p 0.016)",
	    L(20, 1.925, 1.935, 1.945, 1.955, 1.965, 1.975, 1.985, 1.995, 2.005, 2.015, 2.025,
	        2.035, 2.045, 2.055, 2.065, 2.075, 200, 200, 200, 200),
	    S(40, 0, 0, 2.0, 0.005), FAIL, COLL_CANARY_SLOWER_TAIL, 0 },
	{ "3 of 20 in the tail is within chance (p 0.075)",
	    L(20, 1.93, 1.94, 1.95, 1.96, 1.97, 1.98, 1.99, 2.0, 2.0, 2.01, 2.02, 2.03, 2.04, 2.05,
	        2.06, 2.07, 2.08, 200, 200, 200),
	    S(40, 0, 0, 2.0, 0.005), PASS, 0, 0 },
	{ "A/A under load: median x1.02, rank test p 0.01, two outliers in the p95: noise",
	    L(20, 50, 51, 51.5, 52, 52.5, 52.8, 53, 53, 53.1, 53.2, 53.2, 53.3, 53.5, 54, 54.5, 55,
	        56, 60, 230, 240),
	    S(40, 0, 0, 52.1, 0.05), PASS, 0, 0 },
	{ "baseline always fails: no latency to compare, errors decide", S(20, 0, 0, 2.0, 0.01),
	    S(20, 20, 0, 0, 0), PASS, 0, 0 },
	{ "slower and failing more", S(20, 10, 0, 400, 1), S(40, 0, 0, 100, 1), FAIL,
	    COLL_CANARY_MORE_ERRORS | SLOWER_BOTH, 0 },
};

// The row whose description starts with `what`.
static const row *
row_named(const char *what)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (strncmp(rows[i].what, what, strlen(what)) == 0) {
			return &rows[i];
		}
	}
	fail_msg("no row %s", what);
	return NULL;
}

// Fills v (ascending) from a side spec; returns the count.
static size_t
latencies(const side_spec *s, double *v)
{
	size_t n = s->samples - s->errors;
	for (size_t i = 0; i < n; i++) {
		v[i] =
		    s->lat != NULL ? s->lat[i] : s->center + ((double) i - (n - 1) / 2.0) * s->step;
	}
	coll_stats_sort(v, n);
	return n;
}

static void
judge(const coll_canary_rule *rule, const side_spec *c, const side_spec *b, coll_canary_verdict *v)
{
	double           lc[MAXN], lb[MAXN];
	coll_canary_side cs = { c->samples, c->errors, c->warns, lc, latencies(c, lc) };
	coll_canary_side bs = { b->samples, b->errors, b->warns, lb, latencies(b, lb) };
	coll_canary_judge_probe(rule, &cs, &bs, v);
}

static void
test_rule_table(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const row          *r = &rows[i];
		coll_canary_verdict v;
		char                why[512];
		judge(&defaults, &r->cand, &r->base, &v);
		coll_canary_describe("web", &defaults, &v, why, sizeof(why));
		if (v.outcome != r->want || v.worse != r->want_worse ||
		    v.undecided != r->want_undecided) {
			fail_msg("%s: %s worse %u undecided %u (p %.4f), want %s %u %u: %s",
			    r->what, coll_canary_outcome_name(v.outcome), v.worse, v.undecided,
			    v.p_value, coll_canary_outcome_name(r->want), r->want_worse,
			    r->want_undecided, why);
		}
	}
}

// The reason of the slow canary names the probe, both medians, the factor and the p95.
static void
test_reason_names_the_probe(void **state)
{
	(void) state;
	coll_canary_verdict v;
	char                why[512];
	const row          *slow = row_named("the slow canary of the issue");
	judge(&defaults, &slow->cand, &slow->base, &v);
	coll_canary_describe("web", &defaults, &v, why, sizeof(why));
	if (strstr(why, "web: median 602.7ms vs 2.1ms (×287), p95 ") != why ||
	    strstr(why, "Mann-Whitney p = 0.0000") == NULL ||
	    strstr(why, "warns in 100.0%") == NULL ||
	    strstr(why, "slow tail: 20 of 20 samples above 23.2ms") == NULL) {
		fail_msg("unexpected reason: %s", why);
	}
	assert_true(v.cand.median_latency_ms > 602.6 && v.cand.median_latency_ms < 602.8);
	assert_true(v.cand.p95_latency_ms > v.cand.p90_latency_ms);
	assert_true(v.median_ratio > 286.9 && v.median_ratio < 287.1);

	const row *few = row_named("too few samples: 3 rounds");
	judge(&defaults, &few->cand, &few->base, &v);
	coll_canary_describe("web", &defaults, &v, why, sizeof(why));
	assert_non_null(strstr(why, "web: too few samples to decide: 3 vs 3, need 5 per side"));

	// A tiny buffer is truncated, never overrun.
	char tiny[8];
	coll_canary_describe("web", &defaults, &v, tiny, sizeof(tiny));
	assert_string_equal(tiny, "web: to");
}

// The options are the caller's: confidence, tolerance, slack and the minimum sample.
static void
test_options_are_parameters(void **state)
{
	(void) state;
	coll_canary_verdict v;
	side_spec           plus50 = S(20, 0, 0, 150, 1), base = S(40, 0, 0, 100, 1);

	judge(&defaults, &plus50, &base, &v);
	assert_int_equal(v.outcome, COLL_CANARY_PASSED); // +50% is within 1.5x + 20 ms
	coll_canary_rule tight  = defaults;
	tight.max_latency_ratio = 1.2;
	tight.latency_slack_ms  = 5;
	judge(&tight, &plus50, &base, &v);
	assert_int_equal(v.outcome, COLL_CANARY_FAILED);
	assert_true(v.worse & COLL_CANARY_SLOWER);

	// At 99.9% confidence, 5 vs 5 samples can never be significant: inconclusive.
	side_spec        c5 = S(5, 0, 0, 600, 1), b5 = S(5, 0, 0, 2, 0.1);
	coll_canary_rule strict = defaults;
	strict.confidence       = 0.999;
	judge(&defaults, &c5, &b5, &v);
	assert_int_equal(v.outcome, COLL_CANARY_FAILED);
	judge(&strict, &c5, &b5, &v);
	assert_int_equal(v.outcome, COLL_CANARY_INCONCLUSIVE);
	assert_int_equal(v.undecided, COLL_CANARY_UNTESTABLE);

	// A larger minimum sample makes 20 samples too few.
	coll_canary_rule more = defaults;
	more.min_samples      = 30;
	const row *same       = row_named("identical groups");
	judge(&more, &same->cand, &same->base, &v);
	assert_int_equal(v.outcome, COLL_CANARY_INCONCLUSIVE);
	assert_int_equal(v.undecided, COLL_CANARY_FEW_SAMPLES);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_table),
		cmocka_unit_test(test_reason_names_the_probe),
		cmocka_unit_test(test_options_are_parameters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
