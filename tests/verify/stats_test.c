// stats_test.c - quantiles and the one-sided Mann-Whitney U test (collector/src/stats.h).
//
// The expected p-values are those of SciPy's mannwhitneyu(x, y, alternative="greater",
// method="asymptotic") (the first row is the example of SciPy's documentation: its two-sided
// p-value 0.11134688653314041 halved); the others were computed by an independent pairwise
// count of U with the same normal approximation.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "stats.h"

#define MAXN 64

typedef struct mwu_row {
	const char *what;
	double      x[MAXN];
	size_t      nx;
	double      y[MAXN];
	size_t      ny;
	double      u, p;
} mwu_row;

static const mwu_row mwu_rows[] = {
	{ "SciPy's example", { 19, 22, 16, 29, 24 }, 5, { 20, 11, 17, 12 }, 4, 17, 0.05567344 },
	{ "x all above y", { 6, 7, 8, 9, 10 }, 5, { 1, 2, 3, 4, 5 }, 5, 25, 0.00609289 },
	{ "x all below y", { 1, 2, 3, 4, 5 }, 5, { 6, 7, 8, 9, 10 }, 5, 0, 0.99669232 },
	{ "ties across samples", { 2, 2, 3, 3, 4 }, 5, { 1, 2, 2, 3, 3 }, 5, 17, 0.18637404 },
	{ "every value tied", { 1, 1, 1 }, 3, { 1, 1, 1, 1 }, 4, 6, 1.0 },
	{ "interleaved", { 1, 3, 5, 7, 9 }, 5, { 2, 4, 6, 8, 10 }, 5, 10, 0.73456535 },
	{ "loopback noise", { 2.1, 2.3, 1.9, 2.0, 2.2, 2.4, 2.05, 1.95 }, 8,
	    { 2.0, 2.2, 1.9, 2.1, 2.3, 1.8, 2.15, 2.25 }, 8, 33.5, 0.45802554 },
};

static void
test_mwu_table(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(mwu_rows) / sizeof(mwu_rows[0]); i++) {
		const mwu_row *r = &mwu_rows[i];
		double         x[MAXN], y[MAXN];
		coll_mwu       m;
		memcpy(x, r->x, sizeof(x));
		memcpy(y, r->y, sizeof(y));
		coll_stats_sort(x, r->nx);
		coll_stats_sort(y, r->ny);
		if (coll_stats_mwu_greater(x, r->nx, y, r->ny, &m) != 0) {
			fail_msg("%s: the test did not run", r->what);
		}
		if (fabs(m.u - r->u) > 1e-9 || fabs(m.p - r->p) > 1e-7) {
			fail_msg(
			    "%s: U %.3f p %.8f, want U %.3f p %.8f", r->what, m.u, m.p, r->u, r->p);
		}
	}
}

static void
test_mwu_empty_sample(void **state)
{
	(void) state;
	double   x[] = { 1, 2 };
	coll_mwu m   = { 42, 42, 42 };
	assert_int_equal(coll_stats_mwu_greater(x, 2, x, 0, &m), -1);
	assert_int_equal(coll_stats_mwu_greater(x, 0, x, 2, &m), -1);
	assert_true(m.u == 42 && m.p == 42); // untouched
}

// The smallest p each pair of sizes can give: what decides "too few samples" at 98%.
static void
test_mwu_min_p(void **state)
{
	(void) state;
	static const struct {
		size_t nx, ny;
		double p;
	} rows[] = {
		{ 1, 1, 0.5 },
		{ 1, 40, 0.04967112 }, // one candidate sample can never reach p < 0.02
		{ 2, 20, 0.01297173 },
		{ 3, 3, 0.04042780 },
		{ 4, 4, 0.01519141 },
		{ 5, 5, 0.00609289 },
		{ 0, 5, 1.0 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		double got = coll_stats_mwu_min_p(rows[i].nx, rows[i].ny);
		if (fabs(got - rows[i].p) > 1e-7) {
			fail_msg(
			    "%zu vs %zu: %.8f, want %.8f", rows[i].nx, rows[i].ny, got, rows[i].p);
		}
	}
}

// P(Binomial(n, p) >= k), checked against exact sums of binomial terms (Python fractions).
static void
test_binomial_upper_tail(void **state)
{
	(void) state;
	static const struct {
		size_t k, n;
		double p, want;
	} rows[] = {
		{ 3, 20, 0.05, 0.0754836738 }, // three outliers in 20 samples: chance
		{ 4, 20, 0.05, 0.0159015260 }, // four: below 0.02
		{ 1, 20, 0.05, 0.6415140776 },
		{ 6, 20, 0.05, 0.0003292943 },
		{ 2, 40, 0.05, 0.6009359349 },
		{ 10, 1200, 0.005, 0.08340643546 }, // large n: no overflow
		{ 0, 20, 0.05, 1.0 },
		{ 21, 20, 0.05, 0.0 },
		{ 20, 20, 1.0, 1.0 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		double got = coll_stats_binom_upper(rows[i].k, rows[i].n, rows[i].p);
		if (fabs(got - rows[i].want) > 1e-9) {
			fail_msg("k %zu n %zu p %.3f: %.10f, want %.10f", rows[i].k, rows[i].n,
			    rows[i].p, got, rows[i].want);
		}
	}
}

static void
test_quantiles(void **state)
{
	(void) state;
	double v[] = { 5, 1, 4, 2, 3, 10, 9, 8, 7, 6 };
	coll_stats_sort(v, 10);
	assert_true(v[0] == 1 && v[9] == 10);
	static const struct {
		double q, want;
	} rows[] = {
		{ 0.0, 1 },
		{ 0.5, 5.5 },
		{ 0.9, 9.1 },
		{ 0.95, 9.55 },
		{ 1.0, 10 },
		{ 0.25, 3.25 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		double got = coll_stats_quantile(v, 10, rows[i].q);
		if (fabs(got - rows[i].want) > 1e-9) {
			fail_msg("q %.2f: %.4f, want %.4f", rows[i].q, got, rows[i].want);
		}
	}
	double one[] = { 7 };
	assert_true(coll_stats_quantile(one, 1, 0.95) == 7);
	assert_true(coll_stats_quantile(one, 0, 0.5) == 0);
	double odd[] = { 1, 2, 100 };
	assert_true(coll_stats_quantile(odd, 3, 0.5) == 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mwu_table),
		cmocka_unit_test(test_mwu_empty_sample),
		cmocka_unit_test(test_mwu_min_p),
		cmocka_unit_test(test_binomial_upper_tail),
		cmocka_unit_test(test_quantiles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
