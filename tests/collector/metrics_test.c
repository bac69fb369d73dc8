// metrics_test.c - the Prometheus renderer (metrics.h): exact series for a small snapshot,
// label escaping of hostile names (quotes, backslashes, newlines, invalid and valid UTF-8),
// the verdict families always complete, and empty families written without series.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static coll_metrics_host *
add_host(coll_metrics_snapshot *s, const char *name, const char *release, bool up)
{
	s->hosts = realloc(s->hosts, (s->n_hosts + 1) * sizeof(*s->hosts));
	assert_non_null(s->hosts);
	coll_metrics_host *h = &s->hosts[s->n_hosts++];
	memset(h, 0, sizeof(*h));
	h->name         = strdup(name);
	h->release      = strdup(release);
	h->up           = up;
	h->last_seen_us = 1700000000500000LL;
	return h;
}

static coll_metrics_probe *
add_probe(coll_metrics_host *h, const char *name, const char *kind, const char *status,
    const char *failure)
{
	h->probes = realloc(h->probes, (h->n_probes + 1) * sizeof(*h->probes));
	assert_non_null(h->probes);
	coll_metrics_probe *p = &h->probes[h->n_probes++];
	memset(p, 0, sizeof(*p));
	p->name    = strdup(name);
	p->kind    = kind;
	p->status  = status;
	p->failure = failure;
	return p;
}

static char *
render(const coll_metrics_snapshot *s)
{
	coll_text t;
	coll_text_init(&t);
	assert_int_equal(coll_metrics_render(s, &t), 0);
	assert_non_null(t.buf);
	return t.buf; // the caller frees
}

static void
assert_has(const char *text, const char *line)
{
	char *want = malloc(strlen(line) + 3);
	sprintf(want, "\n%s\n", line);
	if (strstr(text, want) == NULL) {
		fail_msg("missing line: %s\n--- in ---\n%s", line, text);
	}
	free(want);
}

static void
test_label_escaping(void **state)
{
	(void) state;
	coll_text t;
	coll_text_init(&t);
	coll_text_label_value(&t, "a\"b\\c\nd");
	assert_string_equal(t.buf, "a\\\"b\\\\c\\nd");
	coll_text_fini(&t);

	// Invalid UTF-8 becomes U+FFFD; valid multi-byte characters pass unchanged.
	coll_text_init(&t);
	coll_text_label_value(&t, "h\xff\xfe-\xc3\xa9-\xe2\x82");
	assert_string_equal(t.buf, "h\xEF\xBF\xBD\xEF\xBF\xBD-\xc3\xa9-\xEF\xBF\xBD");
	coll_text_fini(&t);

	coll_text_init(&t);
	coll_text_label_value(&t, "");
	assert_int_equal(t.len, 0);
	coll_text_fini(&t);
}

static void
test_probe_series(void **state)
{
	(void) state;
	coll_metrics_snapshot s;
	coll_metrics_snapshot_init(&s);
	coll_metrics_host  *h = add_host(&s, "app1", "1.0", true);
	coll_metrics_probe *p = add_probe(h, "orders", "postgres", "fail", "privilege_missing");
	p->unmet              = 2;
	p->phase_us[COLL_PHASE_CONNECT] = 1500;
	p->phase_us[COLL_PHASE_TOTAL]   = 250000;
	add_probe(h, "web", "http", "warn", "slow");
	add_host(&s, "app2", "1.1", false);
	char *out = render(&s);

	assert_has(
	    out, "faultline_probe_success{host=\"app1\",probe=\"orders\",kind=\"postgres\"} 0");
	assert_has(out, "faultline_probe_success{host=\"app1\",probe=\"web\",kind=\"http\"} 1");
	assert_has(out,
	    "faultline_probe_status{host=\"app1\",probe=\"orders\",kind=\"postgres\",status="
	    "\"fail\",failure=\"privilege_missing\"} 1");
	assert_has(out,
	    "faultline_probe_duration_seconds{host=\"app1\",probe=\"orders\",kind=\"postgres\","
	    "phase=\"connect\"} 0.0015");
	assert_has(out,
	    "faultline_probe_duration_seconds{host=\"app1\",probe=\"orders\",kind=\"postgres\","
	    "phase=\"total\"} 0.25");
	// Phases not reported are not written.
	assert_null(strstr(out, "phase=\"dns\""));
	assert_has(out, "faultline_probe_unmet_requirements{host=\"app1\",probe=\"orders\"} 2");
	assert_has(out, "faultline_host_up{host=\"app1\"} 1");
	assert_has(out, "faultline_host_up{host=\"app2\"} 0");
	assert_has(out, "faultline_host_last_seen_timestamp_seconds{host=\"app1\"} 1700000000.5");
	assert_has(out, "faultline_host_release_info{host=\"app2\",release=\"1.1\"} 1");
	assert_has(out, "# TYPE faultline_probe_success gauge");
	free(out);
	coll_metrics_snapshot_fini(&s);
}

static void
test_hostile_names(void **state)
{
	(void) state;
	coll_metrics_snapshot s;
	coll_metrics_snapshot_init(&s);
	coll_metrics_host *h =
	    add_host(&s, "evil\"} 1\nfaultline_verdict{verdict=\"code", "r\\1\n", true);
	add_probe(h, "p\xff", "tcp", "ok", "none");
	char *out = render(&s);

	// The injected text stays inside the label value: one line, escaped.
	assert_has(
	    out, "faultline_host_up{host=\"evil\\\"} 1\\nfaultline_verdict{verdict=\\\"code\"} 1");
	assert_has(out,
	    "faultline_host_release_info{host=\"evil\\\"} 1\\nfaultline_verdict{verdict=\\\"code\","
	    "release=\"r\\\\1\\n\"} 1");
	assert_has(out,
	    "faultline_probe_unmet_requirements{host=\"evil\\\"} "
	    "1\\nfaultline_verdict{verdict=\\\"code\",probe=\"p\xEF\xBF\xBD\"} 0");
	// No line starts with the injected series.
	assert_null(strstr(out, "\nfaultline_verdict{verdict=\"code\"} 1"));
	free(out);
	coll_metrics_snapshot_fini(&s);
}

// Hosts without probes between hosts with probes, and exact decimal seconds.
static void
test_mixed_hosts_and_seconds(void **state)
{
	(void) state;
	coll_metrics_snapshot s;
	coll_metrics_snapshot_init(&s);
	add_host(&s, "empty1", "1", true);
	coll_metrics_host  *h         = add_host(&s, "full", "1", true);
	coll_metrics_probe *p         = add_probe(h, "a", "dns", "ok", "none");
	p->phase_us[COLL_PHASE_DNS]   = 1;
	p->phase_us[COLL_PHASE_TOTAL] = 2000000;
	add_host(&s, "empty2", "1", true);
	h                             = add_host(&s, "full2", "1", true);
	p                             = add_probe(h, "b", "tcp", "fail", "refused");
	p->phase_us[COLL_PHASE_TOTAL] = 1234567;
	s.hosts[0].last_seen_us       = 0;
	char *out                     = render(&s);
	assert_has(out,
	    "faultline_probe_duration_seconds{host=\"full\",probe=\"a\",kind=\"dns\",phase=\"dns\"}"
	    " 0.000001");
	assert_has(out,
	    "faultline_probe_duration_seconds{host=\"full\",probe=\"a\",kind=\"dns\",phase="
	    "\"total\"} 2");
	assert_has(out,
	    "faultline_probe_duration_seconds{host=\"full2\",probe=\"b\",kind=\"tcp\",phase="
	    "\"total\"} 1.234567");
	assert_has(out, "faultline_probe_success{host=\"full2\",probe=\"b\",kind=\"tcp\"} 0");
	assert_has(out, "faultline_host_up{host=\"empty2\"} 1");
	assert_has(out, "faultline_host_last_seen_timestamp_seconds{host=\"empty1\"} 0");
	assert_has(out, "faultline_host_release_info{host=\"empty2\",release=\"1\"} 1");
	free(out);
	coll_metrics_snapshot_fini(&s);
}

static void
test_verdict_families_complete(void **state)
{
	(void) state;
	coll_metrics_snapshot s;
	coll_metrics_snapshot_init(&s);
	char *out = render(&s);
	// Before the first diagnosis: every value present, all 0.
	assert_has(out, "faultline_verdict{verdict=\"healthy\"} 0");
	assert_has(out, "faultline_verdict{verdict=\"unknown\"} 0");
	free(out);

	s.verdict = coll_verdict_index("database");
	assert_int_equal(s.verdict, 2);
	s.findings[2]   = 1;
	out             = render(&s);
	const char *v[] = { "healthy", "code", "database", "network", "host", "unknown" };
	for (size_t i = 0; i < 6; i++) {
		char line[128];
		snprintf(line, sizeof(line), "faultline_verdict{verdict=\"%s\"} %d", v[i], i == 2);
		assert_has(out, line);
		snprintf(line, sizeof(line), "faultline_findings{verdict=\"%s\"} %d", v[i], i == 2);
		assert_has(out, line);
	}
	assert_int_equal(coll_verdict_index("nonsense"), -1);
	free(out);
	coll_metrics_snapshot_fini(&s);
}

static void
test_counters_and_histogram(void **state)
{
	(void) state;
	coll_metrics_snapshot s;
	coll_metrics_snapshot_init(&s);
	s.reports_received    = 12;
	s.results_applied     = 34;
	s.drops[0]            = (coll_metrics_count) { "undecodable", 3 };
	s.drops[1]            = (coll_metrics_count) { "host_limit", 0 };
	s.n_drops             = 2;
	s.verifications[0]    = (coll_metrics_count) { "passed", 5 };
	s.n_verifications     = 1;
	s.hists               = calloc(1, sizeof(*s.hists));
	s.n_hists             = 1;
	s.hists[0].probe      = strdup("web");
	s.hists[0].kind       = "http";
	s.hists[0].buckets[0] = 2; // <= 5 ms
	s.hists[0].buckets[4] = 1; // <= 100 ms
	s.hists[0].count      = 4; // one above 30 s
	s.hists[0].sum_s      = 40.11;
	s.process.open_fds    = 9;
	s.process.max_fds     = 1024;
	char *out             = render(&s);

	assert_has(out, "faultline_reports_received_total 12");
	assert_has(out, "faultline_results_applied_total 34");
	assert_has(out, "faultline_reports_dropped_total{reason=\"undecodable\"} 3");
	assert_has(out, "faultline_reports_dropped_total{reason=\"host_limit\"} 0");
	assert_has(out, "faultline_verifications_total{result=\"passed\"} 5");
	assert_has(out,
	    "faultline_probe_duration_seconds_bucket{probe=\"web\",kind=\"http\",le=\"0.005\"} 2");
	assert_has(out,
	    "faultline_probe_duration_seconds_bucket{probe=\"web\",kind=\"http\",le=\"0.05\"} 2");
	assert_has(out,
	    "faultline_probe_duration_seconds_bucket{probe=\"web\",kind=\"http\",le=\"0.1\"} 3");
	assert_has(out,
	    "faultline_probe_duration_seconds_bucket{probe=\"web\",kind=\"http\",le=\"30\"} 3");
	assert_has(out,
	    "faultline_probe_duration_seconds_bucket{probe=\"web\",kind=\"http\",le=\"+Inf\"} 4");
	assert_has(out, "faultline_probe_duration_seconds_count{probe=\"web\",kind=\"http\"} 4");
	assert_has(out, "faultline_probe_duration_seconds_sum{probe=\"web\",kind=\"http\"} 40.11");
	// The notifications family exists before any series (filled by the notifier).
	assert_has(out, "# TYPE faultline_notifications_total counter");
	assert_null(strstr(out, "faultline_notifications_total{"));
	assert_has(out, "process_open_fds 9");
	assert_has(out, "process_max_fds 1024");
	// Fields left at -1 are not written.
	assert_null(strstr(out, "process_cpu_seconds_total"));
	free(out);

	s.notifs             = calloc(1, sizeof(*s.notifs));
	s.n_notifs           = 1;
	s.notifs[0].receiver = strdup("ops\"hook");
	s.notifs[0].outcome  = "sent";
	s.notifs[0].value    = 7;
	out                  = render(&s);
	assert_has(
	    out, "faultline_notifications_total{receiver=\"ops\\\"hook\",outcome=\"sent\"} 7");
	free(out);
	coll_metrics_snapshot_fini(&s);
	assert_int_equal(coll_metrics_host_series(20, 2), 3 + 20 * 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_probe_series),
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_mixed_hosts_and_seconds),
		cmocka_unit_test(test_verdict_families_complete),
		cmocka_unit_test(test_counters_and_histogram),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
