// latency_test.c - the per-probe latency histograms (latency.h): buckets by (probe, kind),
// unfinished results left out, and the bound on distinct pairs (further ones counted as
// untracked, never stored).

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latency.h"

static void
observe(coll_latency *l, const char *name, Fl__ProbeKind kind, Fl__Status st, uint32_t us,
    uint32_t in_progress_ms)
{
	Fl__ProbeResult r;
	fl__probe_result__init(&r);
	r.name           = (char *) name; // borrowed for the call
	r.kind           = kind;
	r.status         = st;
	r.duration_us    = us;
	r.in_progress_ms = in_progress_ms;
	coll_latency_observe(l, &r);
}

static void
test_buckets_per_probe_and_kind(void **state)
{
	(void) state;
	coll_latency *l = coll_latency_new();
	assert_non_null(l);
	observe(l, "web", FL__PROBE_KIND__KIND_HTTP, FL__STATUS__STATUS_OK, 3000, 0);     // 3 ms
	observe(l, "web", FL__PROBE_KIND__KIND_HTTP, FL__STATUS__STATUS_FAIL, 200000, 0); // 200 ms
	observe(l, "web", FL__PROBE_KIND__KIND_TCP, FL__STATUS__STATUS_OK, 1000, 0); // other kind
	observe(
	    l, "web", FL__PROBE_KIND__KIND_HTTP, FL__STATUS__STATUS_UNKNOWN, 9000, 0); // no result
	observe(
	    l, "web", FL__PROBE_KIND__KIND_HTTP, FL__STATUS__STATUS_OK, 9000, 1500); // in progress
	observe(
	    l, "web", FL__PROBE_KIND__KIND_HTTP, FL__STATUS__STATUS_OK, 60000000, 0); // 60 s: +Inf

	coll_metrics_hist *h;
	size_t             n;
	assert_int_equal(coll_latency_copy(l, &h, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(h[0].probe, "web");
	assert_string_equal(h[0].kind, "http");
	assert_int_equal(h[0].count, 3);
	assert_int_equal(h[0].buckets[0], 1); // <= 5 ms
	assert_int_equal(h[0].buckets[5], 1); // <= 250 ms
	uint64_t in_buckets = 0;
	for (int b = 0; b < COLL_LAT_BUCKETS; b++) {
		in_buckets += h[0].buckets[b];
	}
	assert_int_equal(in_buckets, 2); // the 60 s one is only in count (+Inf)
	assert_true(h[0].sum_s > 60.2 && h[0].sum_s < 60.21);
	assert_string_equal(h[1].kind, "tcp");
	assert_int_equal(h[1].count, 1);
	for (size_t i = 0; i < n; i++) {
		free(h[i].probe);
	}
	free(h);
	coll_latency_free(l);
}

static void
test_bounded(void **state)
{
	(void) state;
	coll_latency *l = coll_latency_new();
	char          name[32];
	for (int i = 0; i < COLL_LATENCY_MAX_SERIES + 10; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		observe(l, name, FL__PROBE_KIND__KIND_DNS, FL__STATUS__STATUS_OK, 1000, 0);
	}
	// A known pair is still counted once the table is full.
	observe(l, "p0", FL__PROBE_KIND__KIND_DNS, FL__STATUS__STATUS_OK, 1000, 0);
	coll_metrics_hist *h;
	size_t             n;
	assert_int_equal(coll_latency_copy(l, &h, &n), 0);
	assert_int_equal(n, COLL_LATENCY_MAX_SERIES);
	assert_int_equal(coll_latency_untracked(l), 10);
	assert_int_equal(h[0].count, 2);
	for (size_t i = 0; i < n; i++) {
		free(h[i].probe);
	}
	free(h);
	coll_latency_free(l);
	coll_latency_free(NULL);
	assert_int_equal(coll_latency_untracked(NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets_per_probe_and_kind),
		cmocka_unit_test(test_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
