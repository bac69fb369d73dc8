// verify_steps_test.c - the steps of one `faultline verify` evaluation that decide something
// (collector/src/verify_steps.h), each on hand-made survey answers.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "fl/str.h"
#include "verify_steps.h"

// --- fixtures ----------------------------------------------------------------------------------

// Protobuf-c's string fields are char *; the steps only read these literals (never freed).
#define S(lit) ((char *) (lit))

static Fl__VerifyReply *
new_reply(void)
{
	Fl__VerifyReply *r = malloc(sizeof(*r));
	assert_non_null(r);
	fl__verify_reply__init(r);
	return r;
}

// A query for release "2.0" (strings borrowed; never freed).
static Fl__VerifyQuery
query(void)
{
	Fl__VerifyQuery q = FL__VERIFY_QUERY__INIT;
	q.release         = (char *) "2.0";
	return q;
}

// A survey answer of host on release with the given probe results (all borrowed).
static Fl__Report
report(const char *host, const char *release, Fl__ProbeResult **results, size_t n)
{
	Fl__Report r         = FL__REPORT__INIT;
	r.host               = (char *) host;
	r.release            = (char *) release;
	r.expectations_error = (char *) "";
	r.results            = results;
	r.n_results          = n;
	return r;
}

static Fl__ProbeResult
result(const char *name, Fl__Status status)
{
	Fl__ProbeResult p = FL__PROBE_RESULT__INIT;
	p.name            = (char *) name;
	p.status          = status;
	p.detail          = (char *) "detail";
	return p;
}

static Fl__UnmetRequirement
unmet(const char *object)
{
	Fl__UnmetRequirement u = FL__UNMET_REQUIREMENT__INIT;
	u.database             = (char *) "orders";
	u.kind                 = FL__OBJECT_KIND__OBJECT_TABLE;
	u.object               = (char *) object;
	u.privilege            = (char *) "SELECT";
	u.role                 = (char *) "app";
	return u;
}

static bool
has_reason(const Fl__VerifyReply *r, const char *check, const char *host, const char *text)
{
	for (size_t i = 0; i < r->n_reasons; i++) {
		const Fl__VerifyReason *x = r->reasons[i];
		if (strcmp(x->check, check) == 0 && strcmp(x->host, host) == 0 &&
		    strstr(x->summary, text) != NULL) {
			return true;
		}
	}
	return false;
}

// live: web1 and web2 on 2.0, web3 on 1.0.
static coll_live
live3(void)
{
	static char *hosts[] = { S("web1"), S("web2"), S("web3") };
	static char *rels[]  = { S("2.0"), S("2.0"), S("1.0") };
	static char *prev[]  = { S("1.0"), S("1.0"), S("") };
	coll_live    l       = { .hosts = hosts, .releases = rels, .previous = prev, .n = 3 };
	return l;
}

// --- params ------------------------------------------------------------------------------------

static void
test_params_defaults_and_bounds(void **state)
{
	(void) state;
	Fl__VerifyQuery q = query();
	verify_params   p;

	verify_params_of(&q, &p);
	assert_int_equal(p.survey_ms, COLL_VERIFY_SURVEY_MS);
	assert_int_equal(p.rounds, COLL_VERIFY_ROUNDS);
	assert_int_equal(p.gap_ms, COLL_VERIFY_ROUND_MS);
	assert_true(p.rule.max_error_rate_increase == COLL_VERIFY_MAX_ERR_INC);
	assert_true(p.rule.max_latency_ratio == COLL_VERIFY_MAX_LAT_RATIO);
	assert_int_equal(p.rule.latency_slack_ms, COLL_VERIFY_LAT_SLACK_MS);
	assert_true(p.rule.confidence == COLL_VERIFY_CONFIDENCE);
	assert_int_equal(p.rule.min_samples, COLL_VERIFY_MIN_SAMPLES);

	q.rounds            = 1000; // capped
	q.round_interval_ms = 1;    // slowed
	q.confidence        = 1.5;  // not a probability: the default
	q.thresholds_set    = true; // thresholds as given, zeros included
	q.max_latency_ratio = 2.0;
	verify_params_of(&q, &p);
	assert_int_equal(p.rounds, COLL_VERIFY_MAX_ROUNDS);
	assert_int_equal(p.gap_ms, COLL_VERIFY_MIN_ROUND_MS);
	assert_true(p.rule.confidence == COLL_VERIFY_CONFIDENCE);
	assert_true(p.rule.max_latency_ratio == 2.0);
	assert_true(p.rule.max_error_rate_increase == 0);
	assert_int_equal(p.rule.latency_slack_ms, 0);

	// A current CLI marks each threshold it was given; the others keep their defaults.
	Fl__VerifyQuery one         = query();
	one.max_latency_ratio_set   = true;
	one.max_latency_ratio       = 3.0;
	one.latency_slack_set       = true; // 0 given: kept as 0
	one.max_error_rate_increase = 0.5;  // not marked as given: the default
	verify_params_of(&one, &p);
	assert_true(p.rule.max_latency_ratio == 3.0);
	assert_int_equal(p.rule.latency_slack_ms, 0);
	assert_true(p.rule.max_error_rate_increase == COLL_VERIFY_MAX_ERR_INC);
}

// --- step 1: the release's hosts ---------------------------------------------------------------

static void
test_targets_named_or_on_release(void **state)
{
	(void) state;
	Fl__VerifyQuery q    = query();
	coll_live       live = live3();
	char          **t;
	size_t          n;

	assert_int_equal(verify_targets(&q, &live, &t, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(t[0], "web1");
	assert_string_equal(t[1], "web2");
	fl_strv_free(t, n);

	char *named[] = { S("web3"), S("gone") }; // named hosts win, live or not
	q.hosts       = named;
	q.n_hosts     = 2;
	assert_int_equal(verify_targets(&q, &live, &t, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(t[0], "web3");
	assert_string_equal(t[1], "gone");

	char **expect;
	size_t n_expect;
	assert_int_equal(verify_first_round_hosts(&live, t, n, &expect, &n_expect), 0);
	assert_int_equal(n_expect, 4); // every live host, then the targets not among them
	assert_string_equal(expect[3], "gone");
	fl_strv_free(expect, n_expect);
	fl_strv_free(t, n);

	q.n_hosts = 0;
	q.release = (char *) "3.0";
	assert_int_equal(verify_targets(&q, &live, &t, &n), 0);
	assert_int_equal(n, 0);
	fl_strv_free(t, n);
}

// --- step 2: probe round + expectations --------------------------------------------------------

static void
test_check_host(void **state)
{
	(void) state;
	Fl__VerifyQuery       q    = query();
	Fl__VerifyReply      *r    = new_reply();
	verify_outcome        o    = { 0 };
	Fl__ProbeResult       ok   = result("web", FL__STATUS__STATUS_OK);
	Fl__ProbeResult       warn = result("cache", FL__STATUS__STATUS_WARN);
	Fl__ProbeResult      *pv[] = { &ok, &warn };
	Fl__Report            good = report("web1", "2.0", pv, 2);
	Fl__UnmetRequirement  u    = unmet("invoices");
	Fl__UnmetRequirement *uv[] = { &u };

	// Passing, with a warning listed apart.
	verify_check_host(&q, "web1", &good, 5000, r, &o);
	assert_false(o.failed);
	assert_false(o.unverified);
	assert_int_equal(r->n_reasons, 0);
	assert_int_equal(r->n_warnings, 1);
	assert_string_equal(r->warnings[0]->probe, "cache");
	assert_int_equal(verify_result(&o), FL__VERIFY_RESULT__VERIFY_RESULT_PASSED);

	// No answer: unverified, not failed.
	verify_check_host(&q, "web2", NULL, 2500, r, &o);
	assert_true(o.unverified);
	assert_false(o.failed);
	assert_true(has_reason(r, "timeout", "web2", "within 2.5s"));
	assert_int_equal(verify_result(&o), FL__VERIFY_RESULT__VERIFY_RESULT_UNVERIFIED);

	// Another release, unusable expectations, an unmet requirement, a failing probe.
	Fl__ProbeResult  db    = result("db", FL__STATUS__STATUS_FAIL);
	Fl__ProbeResult  app   = result("app", FL__STATUS__STATUS_FAIL);
	Fl__ProbeResult *bv[]  = { &db, &app };
	db.unmet               = uv;
	db.n_unmet             = 1;
	Fl__Report bad         = report("web3", "1.0", bv, 2);
	bad.expectations_error = (char *) "bad yaml";
	verify_check_host(&q, "web3", &bad, 5000, r, &o);
	assert_true(o.failed);
	assert_true(has_reason(r, "release", "web3", "runs release 1.0, not 2.0"));
	assert_true(has_reason(r, "expectations", "web3", "cannot be used: bad yaml"));
	assert_true(has_reason(r, "expectations", "web3", "invoices"));
	assert_true(has_reason(r, "probe", "web3", "app fails"));
	assert_false(has_reason(r, "probe", "web3", "db fails")); // its unmet requirement says why
	assert_int_equal(verify_result(&o), FL__VERIFY_RESULT__VERIFY_RESULT_FAILED);
	fl__verify_reply__free_unpacked(r, NULL);
}

// --- step 3: rollback readiness ----------------------------------------------------------------

static void
test_rollback(void **state)
{
	(void) state;
	Fl__VerifyQuery  q  = query();
	Fl__VerifyReply *r  = new_reply();
	verify_outcome   o  = { 0 };
	Fl__Report       h1 = report("web1", "2.0", NULL, 0);

	// Not asked for: nothing.
	verify_rollback_init(&q, r);
	assert_null(r->rollback);
	verify_check_rollback(&q, "web1", &h1, r, &o);
	assert_false(o.failed);

	// Asked for, every host ready.
	q.rollback_to           = (char *) "1.0";
	Fl__ReleaseCheck  ready = FL__RELEASE_CHECK__INIT;
	Fl__ReleaseCheck *cv[]  = { &ready };
	ready.release           = (char *) "1.0";
	ready.known             = true;
	h1.release_checks       = cv;
	h1.n_release_checks     = 1;
	verify_rollback_init(&q, r);
	assert_non_null(r->rollback);
	verify_check_rollback(&q, "web1", &h1, r, &o);
	verify_check_rollback(&q, "web9", NULL, r, &o); // did not answer: step 2 said so
	assert_true(r->rollback->ready);
	assert_false(o.failed);
	assert_int_equal(r->rollback->n_hosts, 1);
	assert_true(r->rollback->hosts[0]->known);

	// A host that made no check, one that never kept 1.0, one with an unmet grant and an error.
	Fl__Report h2 = report("web2", "2.0", NULL, 0);
	verify_check_rollback(&q, "web2", &h2, r, &o);
	assert_false(r->rollback->ready);
	assert_true(o.failed);
	assert_true(has_reason(r, "rollback", "web2", "did not check release 1.0"));

	Fl__ReleaseCheck      unknown = FL__RELEASE_CHECK__INIT;
	Fl__ReleaseCheck     *kv[]    = { &unknown };
	Fl__UnmetRequirement  u       = unmet("refunds");
	Fl__UnmetRequirement *uv[]    = { &u };
	char                 *ev[]    = { S("cannot connect") };
	unknown.release               = (char *) "1.0";
	unknown.unmet                 = uv;
	unknown.n_unmet               = 1;
	unknown.errors                = ev;
	unknown.n_errors              = 1;
	Fl__Report h3                 = report("web3", "2.0", NULL, 0);
	h3.release_checks             = kv;
	h3.n_release_checks           = 1;
	verify_check_rollback(&q, "web3", &h3, r, &o);
	assert_true(
	    has_reason(r, "rollback", "web3", "never kept the expectations of release 1.0"));
	assert_true(has_reason(r, "rollback", "web3", "a rollback to 1.0 would break"));
	assert_true(has_reason(r, "rollback", "web3", "cannot connect"));
	Fl__RollbackHost *rh = r->rollback->hosts[r->rollback->n_hosts - 1];
	assert_string_equal(rh->host, "web3");
	assert_false(rh->known);
	assert_int_equal(rh->n_unmet, 1);
	assert_string_equal(rh->unmet[0]->object, "refunds"); // a copy: freed with the reply
	assert_int_equal(rh->n_errors, 1);
	fl__verify_reply__free_unpacked(r, NULL);
}

// --- step 4: canary groups and verdict ---------------------------------------------------------

static void
test_canary_groups(void **state)
{
	(void) state;
	Fl__VerifyQuery   q      = query();
	Fl__Report        a      = report("web1", "2.0", NULL, 0);
	Fl__Report        b      = report("web2", "2.0", NULL, 0);
	Fl__Report        c      = report("web3", "1.0", NULL, 0);
	Fl__Report        d      = report("stage1", "1.0", NULL, 0);
	Fl__Report       *rv[]   = { &a, &b, &c, &d };
	Fl__ProbeNowReply pn     = FL__PROBE_NOW_REPLY__INIT;
	char             *tg[]   = { S("web1"), S("web2") };
	char             *prod[] = { S("env=prod") };
	char             *stg[]  = { S("env=staging") };
	verify_groups     g;
	pn.reports   = rv;
	pn.n_reports = 4;
	a.labels = b.labels = c.labels = prod;
	a.n_labels = b.n_labels = c.n_labels = 1;
	d.labels                             = stg;
	d.n_labels                           = 1;

	// Every target on the release against every host on another.
	verify_canary_groups(&q, &pn, tg, 2, &g);
	assert_true(g.compare);
	assert_int_equal(g.n_cand, 2);
	assert_int_equal(g.n_base, 2);
	verify_groups_fini(&g);

	// Canaries named; a label set keeps stage1 out of the baseline.
	char *canary[] = { S("web2") };
	q.canary       = canary;
	q.n_canary     = 1;
	q.labels       = prod;
	q.n_labels     = 1;
	verify_canary_groups(&q, &pn, tg, 2, &g);
	assert_int_equal(g.n_cand, 1);
	assert_string_equal(g.cand[0], "web2");
	assert_int_equal(g.n_base, 1);
	assert_string_equal(g.base[0], "web3");
	verify_groups_fini(&g);

	// No host on another release and no canary named: nothing to compare.
	q.n_canary   = 0;
	pn.n_reports = 2;
	verify_canary_groups(&q, &pn, tg, 2, &g);
	assert_false(g.compare);
	verify_groups_fini(&g);

	// --no-canary.
	pn.n_reports = 4;
	q.no_canary  = true;
	verify_canary_groups(&q, &pn, tg, 2, &g);
	assert_false(g.compare);
	assert_int_equal(g.n_cand + g.n_base, 0);
	verify_groups_fini(&g);
}

static void
test_canary_outcome(void **state)
{
	(void) state;
	Fl__CanaryComparison c = FL__CANARY_COMPARISON__INIT;
	verify_outcome       o = { 0 };

	verify_canary_outcome(NULL, &o); // not run
	c.verdict = (char *) "passed";
	verify_canary_outcome(&c, &o);
	c.verdict = (char *) "not compared";
	verify_canary_outcome(&c, &o);
	assert_int_equal(verify_result(&o), FL__VERIFY_RESULT__VERIFY_RESULT_PASSED);
	c.verdict = (char *) "inconclusive";
	verify_canary_outcome(&c, &o);
	assert_int_equal(verify_result(&o), FL__VERIFY_RESULT__VERIFY_RESULT_UNVERIFIED);
	c.verdict = (char *) "failed";
	verify_canary_outcome(&c, &o);
	assert_int_equal(verify_result(&o), FL__VERIFY_RESULT__VERIFY_RESULT_FAILED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params_defaults_and_bounds),
		cmocka_unit_test(test_targets_named_or_on_release),
		cmocka_unit_test(test_check_host),
		cmocka_unit_test(test_rollback),
		cmocka_unit_test(test_canary_groups),
		cmocka_unit_test(test_canary_outcome),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
