// verify.c - see verify.h.

#include "verify.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "canary.h"
#include "fl/labels.h"
#include "fl/log.h"
#include "fl/names.h"
#include "fl/str.h"
#include "fl/time.h"
#include "stats.h"
#include "verify_steps.h"

typedef struct last_verif {
	char   *release;
	char   *result;
	char   *detail;
	char   *kind;
	int64_t at_us;
	bool    automatic;
	bool    full_done; // automatic: a full check was recorded for this release
	bool    canary_done;
	int64_t yielded_at_us; // an automatic evaluation gave way to an asked one then; 0 never
	int64_t used_us;       // last looked up (monotonic): the least recently used is evicted
} last_verif;

struct coll_verify {
	coll_verify_deps d;
	pthread_mutex_t  mu; // guards recs and the store
	coll_store      *store;
	last_verif      *recs;
	size_t           n_recs;
	pthread_t        tid;
	bool             started;
	atomic_int       stop;
	atomic_int       asked;       // asked-for evaluations (faultline verify) in progress
	atomic_int       interrupted; // coll_verify_interrupt: no evaluation may finish
	const char      *why;         // its reason, set before interrupted
};

// verify_run's answer when an automatic evaluation gave way to an asked one.
#define VERIFY_YIELDED 1

// --- small helpers -----------------------------------------------------------------------------

// The live hosts carrying labels, read under the state's lock. 0 or -1 (out of memory).
static int
live_hosts(coll_verify *v, char *const *labels, size_t n_labels, coll_live *out)
{
	coll_filter f = { .labels = (const char *const *) labels, .n_labels = n_labels };
	int         rc;
	pthread_mutex_lock(v->d.state.lock);
	rc = coll_live_hosts(v->d.state.state, &f, out);
	pthread_mutex_unlock(v->d.state.lock);
	return rc;
}

// --- canary sampling -------------------------------------------------------------------------

typedef struct samples {
	uint32_t n, errors, warns;
	double  *lat_ms; // of non-failing samples
	size_t   n_lat, cap_lat;
} samples;

// The samples of one probe (name and kind) on each group: [0] candidate, [1] baseline.
typedef struct probe_samples {
	char         *name;
	Fl__ProbeKind kind;
	samples       side[2];
} probe_samples;

// Every probe compared, at most COLL_VERIFY_MAX_PROBES; results of further probes are counted
// in `dropped` and reported in the comparison's note.
typedef struct probe_table {
	probe_samples *v;
	size_t         n;
	uint32_t       dropped;
} probe_table;

static void
sample_add(samples *s, const Fl__ProbeResult *p)
{
	s->n++;
	if (p->status == FL__STATUS__STATUS_FAIL) {
		s->errors++;
		return;
	}
	if (p->status == FL__STATUS__STATUS_WARN) {
		s->warns++;
	}
	if (s->n_lat == s->cap_lat) {
		size_t  cap = s->cap_lat ? s->cap_lat * 2 : 32;
		double *nv  = realloc(s->lat_ms, cap * sizeof(*nv));
		if (nv == NULL) {
			return;
		}
		s->lat_ms  = nv;
		s->cap_lat = cap;
	}
	s->lat_ms[s->n_lat++] = p->duration_us / 1000.0;
}

static probe_samples *
probe_slot(probe_table *t, const Fl__ProbeResult *p)
{
	for (size_t i = 0; i < t->n; i++) {
		if (t->v[i].kind == p->kind && strcmp(t->v[i].name, p->name) == 0) {
			return &t->v[i];
		}
	}
	if (t->n == COLL_VERIFY_MAX_PROBES) {
		return NULL;
	}
	probe_samples *nv = realloc(t->v, (t->n + 1) * sizeof(*nv));
	if (nv == NULL) {
		return NULL;
	}
	t->v = nv;
	memset(&nv[t->n], 0, sizeof(nv[0]));
	if ((nv[t->n].name = fl_str_dup(p->name)) == NULL) {
		return NULL;
	}
	nv[t->n].kind = p->kind;
	return &t->v[t->n++];
}

static void
probe_table_fini(probe_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].name);
		free(t->v[i].side[0].lat_ms);
		free(t->v[i].side[1].lat_ms);
	}
	free(t->v);
}

// Does a host of the group run a probe of this name and kind in this round?
static bool
probe_in_group(
    const Fl__ProbeNowReply *pn, char *const *group, size_t n_group, const Fl__ProbeResult *p)
{
	for (size_t g = 0; g < n_group; g++) {
		const Fl__Report *rep = verify_find_report(pn, group[g]);
		for (size_t k = 0; rep != NULL && k < rep->n_results; k++) {
			if (rep->results[k]->kind == p->kind &&
			    strcmp(rep->results[k]->name, p->name) == 0) {
				return true;
			}
		}
	}
	return false;
}

// Adds one round's results of the probes both groups run: to the pooled samples of each group
// (sc, sb) and to the probe's own samples in t.
static void
sample_round(const Fl__ProbeNowReply *pn, char *const *cand, size_t n_cand, char *const *base,
    size_t n_base, samples *sc, samples *sb, probe_table *t, char ***probes, size_t *n_probes)
{
	for (int side = 0; side < 2; side++) {
		char *const *grp   = side == 0 ? cand : base;
		size_t       n_grp = side == 0 ? n_cand : n_base;
		char *const *other = side == 0 ? base : cand;
		size_t       n_oth = side == 0 ? n_base : n_cand;
		for (size_t g = 0; g < n_grp; g++) {
			const Fl__Report *rep = verify_find_report(pn, grp[g]);
			for (size_t k = 0; rep != NULL && k < rep->n_results; k++) {
				const Fl__ProbeResult *p = rep->results[k];
				if (!probe_in_group(pn, other, n_oth, p)) {
					continue;
				}
				sample_add(side == 0 ? sc : sb, p);
				probe_samples *ps = probe_slot(t, p);
				if (ps != NULL) {
					sample_add(&ps->side[side], p);
				} else {
					t->dropped++;
				}
				if (!fl_strv_contains(*probes, *n_probes, p->name)) {
					fl_strv_add(probes, n_probes, p->name);
				}
			}
		}
	}
}

static Fl__CanaryGroup *
group_new(const char *release, char *const *hosts, size_t n, samples *s)
{
	Fl__CanaryGroup *g = malloc(sizeof(*g));
	if (g == NULL) {
		return NULL;
	}
	fl__canary_group__init(g);
	g->release = fl_str_dup(release);
	for (size_t i = 0; i < n; i++) {
		fl_strv_add(&g->hosts, &g->n_hosts, hosts[i]);
	}
	coll_stats_sort(s->lat_ms, s->n_lat);
	g->samples           = s->n;
	g->errors            = s->errors;
	g->error_rate        = s->n ? (double) s->errors / s->n : 0;
	g->median_latency_ms = coll_stats_quantile(s->lat_ms, s->n_lat, 0.5);
	return g;
}

static Fl__CanaryProbeSide *
probe_side_new(const coll_canary_summary *s)
{
	Fl__CanaryProbeSide *o = malloc(sizeof(*o));
	if (o == NULL) {
		return NULL;
	}
	fl__canary_probe_side__init(o);
	o->samples           = s->samples;
	o->errors            = s->errors;
	o->warns             = s->warns;
	o->error_rate        = s->error_rate;
	o->warn_rate         = s->warn_rate;
	o->median_latency_ms = s->median_latency_ms;
	o->p90_latency_ms    = s->p90_latency_ms;
	o->p95_latency_ms    = s->p95_latency_ms;
	return o;
}

// Judges one probe (canary.h) and appends its entry to c->per_probe. Returns the outcome.
static coll_canary_outcome
judge_probe(Fl__CanaryComparison *c, const coll_canary_rule *rule, probe_samples *ps)
{
	coll_canary_side    side[2];
	coll_canary_verdict v;
	char                why[640];

	for (int i = 0; i < 2; i++) {
		samples *s = &ps->side[i];
		coll_stats_sort(s->lat_ms, s->n_lat);
		side[i] = (coll_canary_side) { .samples = s->n,
			.errors                         = s->errors,
			.warns                          = s->warns,
			.lat_ms                         = s->lat_ms,
			.n_lat                          = s->n_lat };
	}
	coll_canary_judge_probe(rule, &side[0], &side[1], &v);
	coll_canary_describe(ps->name, rule, &v, why, sizeof(why));

	Fl__CanaryProbe  *e  = malloc(sizeof(*e));
	Fl__CanaryProbe **nv = e ? realloc(c->per_probe, (c->n_per_probe + 1) * sizeof(*nv)) : NULL;
	if (nv == NULL) {
		free(e);
		return v.outcome;
	}
	c->per_probe = nv;
	fl__canary_probe__init(e);
	e->name                        = fl_str_dup(ps->name);
	e->kind                        = ps->kind;
	e->verdict                     = fl_str_dup(coll_canary_outcome_name(v.outcome));
	e->candidate                   = probe_side_new(&v.cand);
	e->baseline                    = probe_side_new(&v.base);
	e->p_value                     = v.p_value;
	e->median_ratio                = v.median_ratio;
	e->summary                     = fl_str_dup(why);
	e->latency_tested              = v.latency_tested;
	e->tail_p_value                = v.tail_p_value;
	c->per_probe[c->n_per_probe++] = e;
	return v.outcome;
}

// --- the evaluation ----------------------------------------------------------------------------

static bool
sleep_unless_stopping(coll_verify *v, int64_t until_mono_us)
{
	while (fl_mono_us() < until_mono_us) {
		if (atomic_load(v->d.stopping) || atomic_load(&v->interrupted) ||
		    coll_survey_cancelled()) {
			return false;
		}
		struct timespec ts = { 0, 50 * 1000000L };
		nanosleep(&ts, NULL);
	}
	return !atomic_load(v->d.stopping);
}

// The release's verdict over the probes: failed when any failed, else inconclusive when any
// was, else passed.
static const char *
overall_verdict(size_t n_failed, size_t n_inconclusive)
{
	return n_failed > 0 ? "failed" : n_inconclusive > 0 ? "inconclusive" : "passed";
}

// The reason of one probe that failed or could not be judged.
static void
probe_reason(Fl__VerifyReply *r, const Fl__CanaryProbe *e, const char *release, const char *baserel)
{
	bool failed = strcmp(e->verdict, "failed") == 0;
	verify_add_reason(&r->reasons, &r->n_reasons, FL__VERIFY_CHECK__VERIFY_CHECK_CANARY, "",
	    e->name, "%s (%s %s vs %s): %s", e->summary, fl_kind_name(e->kind), release, baserel,
	    failed ? (e->candidate != NULL && e->candidate->error_rate > 0
	                     ? "fails more on the release: points at the code of the release"
	                     : "worse on the release than before: points at the code of the "
	                       "release")
	           : "the sample cannot decide, which is not a pass");
}

// One evaluation's working set, owned by verify_run and freed in one place (evaluation_fini).
typedef struct evaluation {
	const Fl__VerifyQuery *q;
	verify_params          p;
	int64_t                t0;      // monotonic start
	coll_live              live;    // hosts known and not stale (within the query's labels)
	char                 **targets; // hosts verified
	size_t                 n_targets;
	Fl__ProbeNowReply     *pn; // the first round's answers
	verify_groups          groups;
	verify_outcome         o;
	Fl__VerifyReply       *r; // NULL once handed to the caller
} evaluation;

static void
evaluation_fini(evaluation *e)
{
	if (e->pn != NULL) {
		fl__probe_now_reply__free_unpacked(e->pn, NULL);
	}
	if (e->r != NULL) {
		fl__verify_reply__free_unpacked(e->r, NULL);
	}
	coll_live_free(&e->live);
	fl_strv_free(e->targets, e->n_targets);
	verify_groups_fini(&e->groups);
}

// The samples of one canary window: pooled per group, per probe, and the probes seen.
typedef struct window {
	samples     sc, sb; // candidate, baseline
	probe_table t;
	char      **probes;
	size_t      n_probes;
	uint32_t    done; // rounds sampled
} window;

static void
window_fini(window *w)
{
	free(w->sc.lat_ms);
	free(w->sb.lat_ms);
	probe_table_fini(&w->t);
	fl_strv_free(w->probes, w->n_probes);
}

static void
window_sample(window *w, const Fl__ProbeNowReply *pn, const verify_groups *g)
{
	sample_round(pn, g->cand, g->n_cand, g->base, g->n_base, &w->sc, &w->sb, &w->t, &w->probes,
	    &w->n_probes);
	w->done++;
}

// Samples the first round's answers, then surveys both groups every gap_ms until the window's
// rounds are done, a survey fails, or the collector stops. 0, or VERIFY_YIELDED as soon as
// *yield_to > 0 (automatic evaluations): every agent runs a whole round per survey, so two
// windows at once would make each round, and the asked verification, about twice as long.
static int
run_window(
    coll_verify *v, const evaluation *e, atomic_int *yield_to, window *w, char *err, size_t errlen)
{
	const verify_groups *g        = &e->groups;
	char               **expect   = NULL;
	size_t               n_expect = 0;
	int64_t              next     = e->t0;
	int                  rc       = 0;

	for (size_t i = 0; i < g->n_cand; i++) {
		fl_strv_add(&expect, &n_expect, g->cand[i]);
	}
	for (size_t i = 0; i < g->n_base; i++) {
		fl_strv_add(&expect, &n_expect, g->base[i]);
	}
	window_sample(w, e->pn, g);
	while (w->done < e->p.rounds) {
		Fl__ProbeNowReply *more = NULL;
		if (yield_to != NULL && atomic_load(yield_to) > 0) {
			rc = VERIFY_YIELDED;
			break;
		}
		next += (int64_t) e->p.gap_ms * 1000;
		if (!sleep_unless_stopping(v, next) ||
		    coll_survey_run(v->d.survey, e->p.survey_ms, NULL, 0, expect, n_expect, &more,
		        err, errlen) != 0) {
			break;
		}
		window_sample(w, more, g);
		fl__probe_now_reply__free_unpacked(more, NULL);
	}
	fl_strv_free(expect, n_expect);
	return rc;
}

// Judges each probe both groups ran (canary.h) into c, with a reason per probe that failed or
// could not be judged, and the comparison's verdict. baserel: the baseline's release.
static void
judge_window(Fl__CanaryComparison *c, const coll_canary_rule *rule, window *w, const char *release,
    const char *baserel, Fl__VerifyReply *r)
{
	size_t n_failed = 0, n_inconclusive = 0;

	for (size_t i = 0; i < w->n_probes; i++) {
		fl_strv_add(&c->probes, &c->n_probes, w->probes[i]);
	}
	for (size_t i = 0; c->compared && i < w->t.n; i++) {
		coll_canary_outcome o = judge_probe(c, rule, &w->t.v[i]);
		n_failed += o == COLL_CANARY_FAILED;
		n_inconclusive += o == COLL_CANARY_INCONCLUSIVE;
	}
	for (size_t i = 0; i < c->n_per_probe; i++) {
		if (strcmp(c->per_probe[i]->verdict, "passed") != 0) {
			probe_reason(r, c->per_probe[i], release, baserel);
		}
	}
	if (w->t.dropped > 0 && c->note == NULL) {
		char note[160];
		snprintf(note, sizeof(note), "%u results of probes past the first %d not compared",
		    w->t.dropped, COLL_VERIFY_MAX_PROBES);
		c->note = fl_str_dup(note);
	}
	c->verdict =
	    fl_str_dup(c->compared ? overall_verdict(n_failed, n_inconclusive) : "not compared");
	c->passed = n_failed == 0 && n_inconclusive == 0;
}

// A comparison carrying the rule it applies. NULL when out of memory.
static Fl__CanaryComparison *
comparison_new(const coll_canary_rule *rule)
{
	Fl__CanaryComparison *c = malloc(sizeof(*c));
	if (c == NULL) {
		return NULL;
	}
	fl__canary_comparison__init(c);
	c->max_error_rate_increase = rule->max_error_rate_increase;
	c->max_latency_ratio       = rule->max_latency_ratio;
	c->latency_slack_ms        = rule->latency_slack_ms;
	c->confidence              = rule->confidence;
	c->min_samples             = rule->min_samples;
	return c;
}

// The canary comparison (see canary.h) of e's groups: runs the remaining probe-now rounds of
// the window, judges each probe both groups run, and fills e->r->canary and its reasons. -1
// only when out of memory (e->r->canary may then lack a verdict); VERIFY_YIELDED when an asked
// evaluation made an automatic one give way (yield_to, see run_window).
static int
canary_compare(coll_verify *v, evaluation *e, atomic_int *yield_to, char *err, size_t errlen)
{
	const verify_groups  *g            = &e->groups;
	window                w            = { 0 };
	char                  baserel[256] = "";
	Fl__CanaryComparison *c            = comparison_new(&e->p.rule);

	if ((e->r->canary = c) == NULL) {
		return -1;
	}
	for (size_t i = 0; i < g->n_base && baserel[0] == '\0'; i++) {
		snprintf(
		    baserel, sizeof(baserel), "%s", verify_find_report(e->pn, g->base[i])->release);
	}
	if (g->n_cand == 0 || g->n_base == 0) {
		c->note = fl_str_dup(g->n_cand == 0 ? "no canary host on the release answered"
		                                    : "no host on another release to compare with");
	} else {
		if (run_window(v, e, yield_to, &w, err, errlen) == VERIFY_YIELDED) {
			window_fini(&w);
			return VERIFY_YIELDED;
		}
		c->compared = w.sc.n > 0 && w.sb.n > 0;
		if (!c->compared) {
			c->note = fl_str_dup("the two groups share no probe");
		}
	}
	c->rounds    = w.done;
	c->candidate = group_new(e->q->release, g->cand, g->n_cand, &w.sc);
	c->baseline  = group_new(baserel, g->base, g->n_base, &w.sb);
	judge_window(c, &e->p.rule, &w, e->q->release, baserel, e->r);
	window_fini(&w);
	return c->verdict != NULL ? 0 : -1;
}

// Step 1: the release's hosts (a label filter narrows every step to the matching hosts: the
// hosts verified, the hosts surveyed and the canary's baseline). 0 or -1 with err.
static int
release_hosts(coll_verify *v, evaluation *e, char *err, size_t errlen)
{
	const Fl__VerifyQuery *q = e->q;

	if ((e->r = malloc(sizeof(*e->r))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fl__verify_reply__init(e->r);
	e->r->release = fl_str_dup(q->release);
	if (live_hosts(v, q->labels, q->n_labels, &e->live) != 0 ||
	    verify_targets(q, &e->live, &e->targets, &e->n_targets) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < e->n_targets; i++) {
		fl_strv_add(&e->r->hosts, &e->r->n_hosts, e->targets[i]);
	}
	if (e->n_targets == 0) {
		verify_add_reason(&e->r->reasons, &e->r->n_reasons,
		    FL__VERIFY_CHECK__VERIFY_CHECK_TIMEOUT, "", "",
		    "no reporting host runs release %s", q->release);
		e->o.unverified = true;
	}
	return 0;
}

// The first survey round (with the rollback checks asked for): it ends once every live host
// and every target answered, or at its deadline. 0 or -1 with err.
static int
first_round(coll_verify *v, evaluation *e, char *err, size_t errlen)
{
	char **expect;
	size_t n_expect;
	char  *rb[1] = { (char *) e->q->rollback_to }; // borrowed for packing only
	int    rc;

	if (verify_first_round_hosts(&e->live, e->targets, e->n_targets, &expect, &n_expect) != 0) {
		fl_strv_free(expect, n_expect);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = coll_survey_run(v->d.survey, e->p.survey_ms, rb, e->q->rollback_to[0] ? 1 : 0, expect,
	    n_expect, &e->pn, err, errlen);
	fl_strv_free(expect, n_expect);
	return rc;
}

// Steps 2 and 3 over the first round's answers.
static void
check_targets(evaluation *e)
{
	verify_rollback_init(e->q, e->r);
	for (size_t i = 0; i < e->n_targets; i++) {
		const Fl__Report *rep = verify_find_report(e->pn, e->targets[i]);
		verify_check_host(e->q, e->targets[i], rep, e->p.survey_ms, e->r, &e->o);
		verify_check_rollback(e->q, e->targets[i], rep, e->r, &e->o);
	}
}

// Step 4: the canary comparison when there is something to compare. 0 (also when out of
// memory in the comparison: the reply then has no verdict from it) or VERIFY_YIELDED.
static int
canary_step(coll_verify *v, evaluation *e, bool automatic, char *err, size_t errlen)
{
	verify_groups *g = &e->groups;
	int            rc;

	verify_canary_groups(e->q, e->pn, e->targets, e->n_targets, g);
	if (!g->compare) {
		return 0;
	}
	rc = canary_compare(v, e, automatic ? &v->asked : NULL, err, errlen);
	if (rc == VERIFY_YIELDED) {
		return VERIFY_YIELDED;
	}
	if (rc == 0) {
		verify_canary_outcome(e->r->canary, &e->o);
	}
	return 0;
}

// One evaluation (verify.h); automatic ones give way to asked ones (VERIFY_YIELDED, *out not
// set).
static int
verify_run(coll_verify *v, const Fl__VerifyQuery *q, bool automatic, Fl__VerifyReply **out,
    char *err, size_t errlen)
{
	evaluation e = { .q = q, .t0 = fl_mono_us() };
	int        rc;

	if (v->d.survey == NULL) {
		snprintf(err, errlen,
		    "the collector has no survey address configured ([collector] "
		    "survey): it cannot probe now");
		return -1;
	}
	verify_params_of(q, &e.p);
	rc = release_hosts(v, &e, err, errlen);
	if (rc == 0 && e.n_targets > 0 && (rc = first_round(v, &e, err, errlen)) == 0) {
		check_targets(&e);
		rc = canary_step(v, &e, automatic, err, errlen);
	}
	if (atomic_load(&v->interrupted)) {
		// Whatever it found, it cannot be recorded or trusted: the surveys were cut short.
		snprintf(err, errlen, "could not verify: interrupted (%s)", v->why);
		rc = -1;
	}
	if (rc == 0) {
		e.r->result_enum = verify_result(&e.o);
		e.r->result     = fl_str_dup(fl_verify_result_name(e.r->result_enum)); // older CLIs
		e.r->elapsed_us = fl_mono_us() - e.t0;
		*out            = e.r;
		e.r             = NULL;
	}
	evaluation_fini(&e);
	return rc;
}

int
coll_verify_run(
    coll_verify *v, const Fl__VerifyQuery *q, Fl__VerifyReply **out, char *err, size_t errlen)
{
	int rc;

	if (v == NULL) {
		snprintf(err, errlen, "the collector is stopping: it cannot verify now");
		return -1;
	}
	if (atomic_load(&v->interrupted)) {
		snprintf(err, errlen, "could not verify: interrupted (%s)", v->why);
		return -1;
	}
	atomic_fetch_add(&v->asked, 1);
	rc = verify_run(v, q, false, out, err, errlen);
	atomic_fetch_sub(&v->asked, 1);
	return rc;
}

// --- recording -----------------------------------------------------------------------------------

static void
rec_free(last_verif *l)
{
	free(l->release);
	free(l->result);
	free(l->detail);
	free(l->kind);
	memset(l, 0, sizeof(*l));
}

// The record of release, created if asked. Records are kept for at most COLL_VERIFY_MAX_RECORDS
// releases: a host may name a new release in every report, and each would otherwise stay for
// good (and be listed by every status). The least recently used record makes room.
static last_verif *
rec_find(coll_verify *v, const char *release, bool create)
{
	last_verif *l = NULL;
	for (size_t i = 0; i < v->n_recs; i++) {
		if (strcmp(v->recs[i].release, release) == 0) {
			v->recs[i].used_us = fl_mono_us();
			return &v->recs[i];
		}
	}
	if (!create) {
		return NULL;
	}
	if (v->n_recs == COLL_VERIFY_MAX_RECORDS) {
		l = &v->recs[0];
		for (size_t i = 1; i < v->n_recs; i++) {
			if (v->recs[i].used_us < l->used_us) {
				l = &v->recs[i];
			}
		}
		rec_free(l);
	} else {
		last_verif *nv = realloc(v->recs, (v->n_recs + 1) * sizeof(*nv));
		if (nv == NULL) {
			return NULL;
		}
		v->recs = nv;
		l       = &nv[v->n_recs++];
		memset(l, 0, sizeof(*l));
	}
	if ((l->release = fl_str_dup(release)) == NULL) {
		*l = v->recs[--v->n_recs]; // keep the array dense: the last record fills the slot
		return NULL;
	}
	l->used_us = fl_mono_us();
	return l;
}

void
coll_verify_record(coll_verify *v, const Fl__VerifyReply *r, const char *kind, bool automatic)
{
	char        detail[1024] = "";
	size_t      off          = 0;
	coll_ops    ops;
	const char *result = fl_verify_result_name(r->result_enum);

	if (v == NULL) {
		return;
	}
	for (size_t i = 0; i < r->n_reasons && i < 3 && off < sizeof(detail) - 1; i++) {
		int w = snprintf(detail + off, sizeof(detail) - off, "%s%s%s%s", i ? "; " : "",
		    r->reasons[i]->host[0] ? r->reasons[i]->host : "",
		    r->reasons[i]->host[0] ? ": " : "", r->reasons[i]->summary);
		off   = w < 0 ? off : off + (size_t) w;
	}
	if (off >= sizeof(detail)) {
		off = sizeof(detail) - 1;
	}
	if (r->n_reasons > 3 && off < sizeof(detail) - 32) {
		snprintf(detail + off, sizeof(detail) - off, "; and %zu more", r->n_reasons - 3);
	}
	if (detail[0] == '\0') {
		snprintf(detail, sizeof(detail), "%s check of %zu hosts%s", kind, r->n_hosts,
		    automatic ? " (automatic)" : "");
	}
	int64_t now = fl_now_us();
	pthread_mutex_lock(&v->mu);
	last_verif *l = rec_find(v, r->release, true);
	if (l != NULL) {
		fl_str_replace(&l->result, result);
		fl_str_replace(&l->detail, detail);
		fl_str_replace(&l->kind, kind);
		l->at_us     = now;
		l->automatic = automatic;
	}
	coll_ops_init(&ops);
	coll_event ev = { .at_us = now,
		.host            = "",
		.kind            = FL__HISTORY_KIND__HISTORY_KIND_VERIFICATION,
		.probe           = "",
		.from            = r->release,
		.to              = result,
		.failure         = 0,
		.detail          = detail,
		.agent_time_us   = 0 };
	if (coll_ops_event(&ops, &ev) != 0 || coll_store_write(v->store, &ops) != 0) {
		fl_log(FL_LOG_ERR, "verify", "cannot record the verification of release %s",
		    r->release);
	}
	coll_ops_fini(&ops);
	pthread_mutex_unlock(&v->mu);
	if (v->d.on_recorded != NULL) {
		v->d.on_recorded(v->d.on_recorded_arg, r, result, kind, automatic);
	}
	fl_log(
	    r->result_enum == FL__VERIFY_RESULT__VERIFY_RESULT_PASSED ? FL_LOG_NOTICE : FL_LOG_WARN,
	    "verify", "release %s %s (%s%s): %s", r->release, result, kind,
	    automatic ? ", automatic" : "", detail);
}

void
coll_verify_status_add(coll_verify *v, Fl__StatusReply *reply)
{
	if (v == NULL) {
		return;
	}
	pthread_mutex_lock(&v->mu);
	if (v->n_recs > 0 && (reply->verifications = calloc(v->n_recs, sizeof(void *))) != NULL) {
		for (size_t i = 0; i < v->n_recs; i++) {
			const last_verif        *l  = &v->recs[i];
			Fl__ReleaseVerification *rv = malloc(sizeof(*rv));
			if (l->result == NULL || rv == NULL) {
				free(rv);
				continue;
			}
			fl__release_verification__init(rv);
			rv->release                                    = fl_str_dup(l->release);
			rv->result                                     = fl_str_dup(l->result);
			rv->detail                                     = fl_str_dup(l->detail);
			rv->kind                                       = fl_str_dup(l->kind);
			rv->at_us                                      = l->at_us;
			rv->automatic                                  = l->automatic;
			reply->verifications[reply->n_verifications++] = rv;
		}
	}
	pthread_mutex_unlock(&v->mu);
}

void
coll_verify_status_fini(Fl__StatusReply *reply)
{
	for (size_t i = 0; i < reply->n_verifications; i++) {
		fl__release_verification__free_unpacked(reply->verifications[i], NULL);
	}
	free(reply->verifications);
	reply->verifications   = NULL;
	reply->n_verifications = 0;
}

// --- automatic verification --------------------------------------------------------------------

// One look at the rollout: returns after at most one evaluation.
static void
auto_tick(coll_verify *v)
{
	coll_live live;

	if (atomic_load(&v->asked) > 0) {
		return; // an asked verification is surveying: do not double the agents' rounds
	}
	if (live_hosts(v, NULL, 0, &live) != 0) {
		return;
	}
	char **rel = live.releases, **prev = live.previous;
	size_t n = live.n;
	for (size_t i = 0; i < n; i++) {
		// A release some host moved to (from another release).
		if (prev[i][0] == '\0' || strcmp(prev[i], rel[i]) == 0 ||
		    strcmp(rel[i], "unknown") == 0) {
			continue;
		}
		size_t on = 0;
		for (size_t k = 0; k < n; k++) {
			on += strcmp(rel[k], rel[i]) == 0;
		}
		bool full = on == n;
		pthread_mutex_lock(&v->mu);
		last_verif *l    = rec_find(v, rel[i], true);
		bool        todo = l != NULL && (full ? !l->full_done : !l->canary_done);
		if (todo && l->yielded_at_us != 0 && !l->automatic &&
		    l->at_us >= l->yielded_at_us) {
			todo = false; // the asked verification it gave way to verified this release
			l->full_done   = l->full_done || full;
			l->canary_done = l->canary_done || !full;
		}
		if (todo) {
			if (full) {
				l->full_done = true;
			} else {
				l->canary_done = true;
			}
		}
		pthread_mutex_unlock(&v->mu);
		if (!todo) {
			continue;
		}
		Fl__VerifyQuery  q = FL__VERIFY_QUERY__INIT;
		Fl__VerifyReply *r;
		char             err[256];
		q.release     = rel[i];
		q.rollback_to = full ? prev[i] : (char *) ""; // borrowed
		int rc        = verify_run(v, &q, true, &r, err, sizeof(err));
		if (rc == 0) {
			coll_verify_record(v, r, full ? "full" : "canary", true);
			fl__verify_reply__free_unpacked(r, NULL);
		} else if (rc == VERIFY_YIELDED) {
			// Try again once the asked verification is done, unless it was of this
			// release.
			pthread_mutex_lock(&v->mu);
			if ((l = rec_find(v, rel[i], false)) != NULL) {
				l->yielded_at_us = fl_now_us();
				if (full) {
					l->full_done = false;
				} else {
					l->canary_done = false;
				}
			}
			pthread_mutex_unlock(&v->mu);
			fl_log(FL_LOG_INFO, "verify",
			    "automatic verification of release %s gives way to an asked one",
			    rel[i]);
		} else {
			fl_log(FL_LOG_WARN, "verify", "cannot verify release %s: %s", rel[i], err);
		}
		break;
	}
	coll_live_free(&live);
}

static void *
auto_main(void *arg)
{
	coll_verify *v = arg;
	while (!atomic_load(&v->stop) && !atomic_load(v->d.stopping)) {
		auto_tick(v);
		for (int i = 0; i < COLL_VERIFY_AUTO_TICK_MS / 50 && !atomic_load(&v->stop); i++) {
			struct timespec ts = { 0, 50 * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

int
coll_verify_start(
    const coll_verify_deps *d, bool automatic, coll_verify **out, char *err, size_t errlen)
{
	coll_verify *v = calloc(1, sizeof(*v));
	if (v == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	v->d = *d;
	pthread_mutex_init(&v->mu, NULL);
	atomic_init(&v->stop, 0);
	atomic_init(&v->asked, 0);
	atomic_init(&v->interrupted, 0);
	if (coll_store_open(&d->store, &v->store, err, errlen) != 0) {
		pthread_mutex_destroy(&v->mu);
		free(v);
		return -1;
	}
	if (d->fence > 0) {
		fl_sql_set_fence(coll_store_sql(v->store), d->fence);
	}
	if (automatic) {
		if (pthread_create(&v->tid, NULL, auto_main, v) != 0) {
			snprintf(err, errlen, "cannot start the verification thread");
			coll_verify_stop(v);
			return -1;
		}
		v->started = true;
	}
	*out = v;
	return 0;
}

void
coll_verify_interrupt(coll_verify *v, const char *why)
{
	if (v == NULL) {
		return;
	}
	v->why = why;
	atomic_store(&v->interrupted, 1);
	atomic_store(&v->stop, 1);
}

void
coll_verify_join(coll_verify *v)
{
	if (v != NULL && v->started) {
		pthread_join(v->tid, NULL);
		v->started = false;
	}
}

void
coll_verify_stop(coll_verify *v)
{
	if (v == NULL) {
		return;
	}
	atomic_store(&v->stop, 1);
	if (v->started) {
		pthread_join(v->tid, NULL);
	}
	for (size_t i = 0; i < v->n_recs; i++) {
		rec_free(&v->recs[i]);
	}
	free(v->recs);
	coll_store_close(v->store);
	pthread_mutex_destroy(&v->mu);
	free(v);
}
