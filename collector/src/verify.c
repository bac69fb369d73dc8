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
#include "fl/time.h"
#include "stats.h"

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
	atomic_int       asked; // asked-for evaluations (faultline verify) in progress
};

// verify_run's answer when an automatic evaluation gave way to an asked one.
#define VERIFY_YIELDED 1

// --- small helpers -----------------------------------------------------------------------------

static char *
xdup(const char *s)
{
	return strdup(s != NULL ? s : "");
}

static void
coll_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i]);
	}
	free(v);
}

static bool
in_list(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i], s) == 0) {
			return true;
		}
	}
	return false;
}

static int
strv_add(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (nv == NULL) {
		return -1;
	}
	*v = nv;
	if ((nv[*n] = xdup(s)) == NULL) {
		return -1;
	}
	(*n)++;
	return 0;
}

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

static void add_reason(Fl__VerifyReason ***v, size_t *n, const char *check, const char *host,
    const char *probe, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void
add_reason(Fl__VerifyReason ***v, size_t *n, const char *check, const char *host, const char *probe,
    const char *fmt, ...)
{
	char               buf[768];
	va_list            ap;
	Fl__VerifyReason  *r;
	Fl__VerifyReason **nv;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if ((nv = realloc(*v, (*n + 1) * sizeof(*nv))) == NULL) {
		return;
	}
	*v = nv;
	if ((r = malloc(sizeof(*r))) == NULL) {
		return;
	}
	fl__verify_reason__init(r);
	r->check   = xdup(check);
	r->host    = xdup(host);
	r->probe   = xdup(probe);
	r->summary = xdup(buf);
	if (r->check == NULL || r->host == NULL || r->probe == NULL || r->summary == NULL) {
		fl__verify_reason__free_unpacked(r, NULL);
		return;
	}
	nv[(*n)++] = r;
}

static const Fl__Report *
find_report(const Fl__ProbeNowReply *pn, const char *host)
{
	for (size_t i = 0; i < pn->n_reports; i++) {
		if (strcmp(pn->reports[i]->host, host) == 0) {
			return pn->reports[i];
		}
	}
	return NULL;
}

static void
unmet_text(const Fl__UnmetRequirement *u, char *buf, size_t len)
{
	if (u->object_missing) {
		snprintf(buf, len, "%s: %s %s is missing", u->database,
		    fl_object_kind_name(u->kind), u->object);
	} else {
		snprintf(buf, len, "%s: %s on %s %s is not granted%s%s", u->database, u->privilege,
		    fl_object_kind_name(u->kind), u->object, u->role[0] ? " to " : "", u->role);
	}
}

static Fl__UnmetRequirement *
unmet_copy(const Fl__UnmetRequirement *u)
{
	Fl__UnmetRequirement *c = malloc(sizeof(*c));
	if (c == NULL) {
		return NULL;
	}
	fl__unmet_requirement__init(c);
	c->database       = xdup(u->database);
	c->kind           = u->kind;
	c->object         = xdup(u->object);
	c->privilege      = xdup(u->privilege);
	c->object_missing = u->object_missing;
	c->role           = xdup(u->role);
	if (!c->database || !c->object || !c->privilege || !c->role) {
		fl__unmet_requirement__free_unpacked(c, NULL);
		return NULL;
	}
	return c;
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
	if ((nv[t->n].name = xdup(p->name)) == NULL) {
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
		const Fl__Report *rep = find_report(pn, group[g]);
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
			const Fl__Report *rep = find_report(pn, grp[g]);
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
				if (!in_list(*probes, *n_probes, p->name)) {
					strv_add(probes, n_probes, p->name);
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
	g->release = xdup(release);
	for (size_t i = 0; i < n; i++) {
		strv_add(&g->hosts, &g->n_hosts, hosts[i]);
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
	e->name                        = xdup(ps->name);
	e->kind                        = ps->kind;
	e->verdict                     = xdup(coll_canary_outcome_name(v.outcome));
	e->candidate                   = probe_side_new(&v.cand);
	e->baseline                    = probe_side_new(&v.base);
	e->p_value                     = v.p_value;
	e->median_ratio                = v.median_ratio;
	e->summary                     = xdup(why);
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
		if (atomic_load(v->d.stopping) || coll_survey_cancelled()) {
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
	add_reason(&r->reasons, &r->n_reasons, "canary", "", e->name, "%s (%s %s vs %s): %s",
	    e->summary, fl_kind_name(e->kind), release, baserel,
	    failed ? (e->candidate != NULL && e->candidate->error_rate > 0
	                     ? "fails more on the release: points at the code of the release"
	                     : "worse on the release than before: points at the code of the "
	                       "release")
	           : "the sample cannot decide, which is not a pass");
}

// The canary comparison (see canary.h): candidate = canary hosts (or every target) on the
// release; baseline = answering hosts on another release. Runs the remaining probe-now rounds
// of the window, judges each probe both groups run, and fills r->canary and its reasons.
// -1 only when out of memory (r->canary stays NULL). With yield_to (automatic evaluations),
// stops between rounds as soon as *yield_to > 0 and returns VERIFY_YIELDED: every agent runs a
// whole round per survey, so two windows at once would make each round, and the asked
// verification, about twice as long.
static int
canary_compare(coll_verify *v, const Fl__VerifyQuery *q, const coll_canary_rule *rule, int64_t t0,
    const Fl__ProbeNowReply *pn, char *const *cand, size_t n_cand, char *const *base, size_t n_base,
    uint32_t rounds, uint32_t gap_ms, uint32_t survey_ms, atomic_int *yield_to, Fl__VerifyReply *r,
    char *err, size_t errlen)
{
	Fl__CanaryComparison *c  = malloc(sizeof(*c));
	samples               sc = { 0 }, sb = { 0 };
	probe_table           t            = { 0 };
	char                **probes       = NULL;
	size_t                n_probes     = 0;
	char                  baserel[256] = "";
	uint32_t              done         = 0;
	size_t                n_failed = 0, n_inconclusive = 0;

	if (c == NULL) {
		return -1;
	}
	fl__canary_comparison__init(c);
	r->canary                  = c;
	c->max_error_rate_increase = rule->max_error_rate_increase;
	c->max_latency_ratio       = rule->max_latency_ratio;
	c->latency_slack_ms        = rule->latency_slack_ms;
	c->confidence              = rule->confidence;
	c->min_samples             = rule->min_samples;
	for (size_t i = 0; i < n_base && baserel[0] == '\0'; i++) {
		snprintf(baserel, sizeof(baserel), "%s", find_report(pn, base[i])->release);
	}
	if (n_cand == 0 || n_base == 0) {
		c->note = xdup(n_cand == 0 ? "no canary host on the release answered"
		                           : "no host on another release to compare with");
	} else {
		char **expect   = NULL;
		size_t n_expect = 0;
		for (size_t i = 0; i < n_cand; i++) {
			strv_add(&expect, &n_expect, cand[i]);
		}
		for (size_t i = 0; i < n_base; i++) {
			strv_add(&expect, &n_expect, base[i]);
		}
		int64_t next = t0;
		sample_round(pn, cand, n_cand, base, n_base, &sc, &sb, &t, &probes, &n_probes);
		done = 1;
		while (done < rounds) {
			if (yield_to != NULL && atomic_load(yield_to) > 0) {
				coll_strv_free(expect, n_expect);
				free(sc.lat_ms);
				free(sb.lat_ms);
				probe_table_fini(&t);
				coll_strv_free(probes, n_probes);
				return VERIFY_YIELDED;
			}
			next += (int64_t) gap_ms * 1000;
			if (!sleep_unless_stopping(v, next)) {
				break;
			}
			Fl__ProbeNowReply *more = NULL;
			if (coll_survey_run(v->d.survey, survey_ms, NULL, 0, expect, n_expect,
			        &more, err, errlen) != 0) {
				break;
			}
			sample_round(
			    more, cand, n_cand, base, n_base, &sc, &sb, &t, &probes, &n_probes);
			fl__probe_now_reply__free_unpacked(more, NULL);
			done++;
		}
		coll_strv_free(expect, n_expect);
		c->compared = sc.n > 0 && sb.n > 0;
		if (!c->compared) {
			c->note = xdup("the two groups share no probe");
		}
	}
	c->rounds    = done;
	c->candidate = group_new(q->release, cand, n_cand, &sc);
	c->baseline  = group_new(baserel, base, n_base, &sb);
	for (size_t i = 0; i < n_probes; i++) {
		strv_add(&c->probes, &c->n_probes, probes[i]);
	}
	for (size_t i = 0; c->compared && i < t.n; i++) {
		coll_canary_outcome o = judge_probe(c, rule, &t.v[i]);
		n_failed += o == COLL_CANARY_FAILED;
		n_inconclusive += o == COLL_CANARY_INCONCLUSIVE;
	}
	for (size_t i = 0; i < c->n_per_probe; i++) {
		if (strcmp(c->per_probe[i]->verdict, "passed") != 0) {
			probe_reason(r, c->per_probe[i], q->release, baserel);
		}
	}
	if (t.dropped > 0 && c->note == NULL) {
		char note[160];
		snprintf(note, sizeof(note), "%u results of probes past the first %d not compared",
		    t.dropped, COLL_VERIFY_MAX_PROBES);
		c->note = xdup(note);
	}
	c->verdict = xdup(c->compared ? overall_verdict(n_failed, n_inconclusive) : "not compared");
	c->passed  = n_failed == 0 && n_inconclusive == 0;
	free(sc.lat_ms);
	free(sb.lat_ms);
	probe_table_fini(&t);
	coll_strv_free(probes, n_probes);
	return c->verdict != NULL ? 0 : -1;
}

// One evaluation (verify.h); automatic ones give way to asked ones (VERIFY_YIELDED, *out not
// set).
static int
verify_run(coll_verify *v, const Fl__VerifyQuery *q, bool automatic, Fl__VerifyReply **out,
    char *err, size_t errlen)
{
	Fl__VerifyReply   *r;
	Fl__ProbeNowReply *pn      = NULL;
	coll_live          live    = { 0 };
	char             **targets = NULL, **cand = NULL, **base = NULL;
	size_t             n_targets = 0, n_cand = 0, n_base = 0;
	char              *rb[1];
	int64_t            t0      = fl_mono_us();
	const char        *release = q->release;
	bool               failed = false, unverified = false;
	uint32_t survey_ms = q->survey_timeout_ms ? q->survey_timeout_ms : COLL_VERIFY_SURVEY_MS;
	uint32_t rounds    = q->rounds ? q->rounds : COLL_VERIFY_ROUNDS;
	uint32_t gap_ms    = q->round_interval_ms ? q->round_interval_ms : COLL_VERIFY_ROUND_MS;
	double   max_inc = q->thresholds_set ? q->max_error_rate_increase : COLL_VERIFY_MAX_ERR_INC;
	double   max_ratio = q->thresholds_set ? q->max_latency_ratio : COLL_VERIFY_MAX_LAT_RATIO;
	uint32_t slack_ms  = q->thresholds_set ? q->latency_slack_ms : COLL_VERIFY_LAT_SLACK_MS;
	double   confidence =
            q->confidence > 0 && q->confidence < 1 ? q->confidence : COLL_VERIFY_CONFIDENCE;
	uint32_t min_samples = q->min_samples ? q->min_samples : COLL_VERIFY_MIN_SAMPLES;

	if (rounds > COLL_VERIFY_MAX_ROUNDS) {
		rounds = COLL_VERIFY_MAX_ROUNDS;
	}
	if (gap_ms < COLL_VERIFY_MIN_ROUND_MS) {
		gap_ms = COLL_VERIFY_MIN_ROUND_MS;
	}
	if (v->d.survey == NULL) {
		snprintf(err, errlen,
		    "the collector has no survey address configured ([collector] "
		    "survey): it cannot probe now");
		return -1;
	}
	if ((r = malloc(sizeof(*r))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fl__verify_reply__init(r);
	r->release = xdup(release);
	// A label filter (issue 10) narrows everything below to the matching hosts: the hosts
	// verified, the hosts surveyed and the canary's baseline.
	if (live_hosts(v, q->labels, q->n_labels, &live) != 0) {
		snprintf(err, errlen, "out of memory");
		fl__verify_reply__free_unpacked(r, NULL);
		return -1;
	}
	// The hosts verified: those named, or every live host on the release.
	if (q->n_hosts > 0) {
		for (size_t i = 0; i < q->n_hosts; i++) {
			strv_add(&targets, &n_targets, q->hosts[i]);
		}
	} else {
		for (size_t i = 0; i < live.n; i++) {
			if (strcmp(live.releases[i], release) == 0) {
				strv_add(&targets, &n_targets, live.hosts[i]);
			}
		}
	}
	for (size_t i = 0; i < n_targets; i++) {
		strv_add(&r->hosts, &r->n_hosts, targets[i]);
	}
	if (n_targets == 0) {
		add_reason(&r->reasons, &r->n_reasons, "timeout", "", "",
		    "no reporting host runs release %s", release);
		unverified = true;
		goto finish;
	}

	// Round 1: the probe, expectations and rollback checks. Every live host is surveyed (the
	// others are the canary baseline); the survey ends once all of them answered.
	rb[0] = (char *) q->rollback_to; // borrowed for packing only
	{
		char **expect   = NULL;
		size_t n_expect = 0;
		for (size_t i = 0; i < live.n; i++) {
			strv_add(&expect, &n_expect, live.hosts[i]);
		}
		for (size_t i = 0; i < n_targets; i++) {
			if (!in_list(expect, n_expect, targets[i])) {
				strv_add(&expect, &n_expect, targets[i]);
			}
		}
		int rc = coll_survey_run(v->d.survey, survey_ms, rb, q->rollback_to[0] ? 1 : 0,
		    expect, n_expect, &pn, err, errlen);
		coll_strv_free(expect, n_expect);
		if (rc != 0) {
			goto fail;
		}
	}
	if (q->rollback_to[0] != '\0') {
		r->rollback = malloc(sizeof(*r->rollback));
		if (r->rollback != NULL) {
			fl__rollback_readiness__init(r->rollback);
			r->rollback->release = xdup(q->rollback_to);
			r->rollback->ready   = true;
		}
	}
	for (size_t i = 0; i < n_targets; i++) {
		const char       *host = targets[i];
		const Fl__Report *rep  = find_report(pn, host);
		if (rep == NULL) {
			add_reason(&r->reasons, &r->n_reasons, "timeout", host, "",
			    "%s did not answer the probe-now survey within %.1fs", host,
			    survey_ms / 1000.0);
			unverified = true;
			continue;
		}
		if (strcmp(rep->release, release) != 0) {
			add_reason(&r->reasons, &r->n_reasons, "release", host, "",
			    "%s runs release %s, not %s", host, rep->release, release);
			failed = true;
		}
		if (rep->expectations_error[0] != '\0') {
			add_reason(&r->reasons, &r->n_reasons, "expectations", host, "",
			    "the expectations of release %s cannot be used: %s", rep->release,
			    rep->expectations_error);
			failed = true;
		}
		for (size_t k = 0; k < rep->n_results; k++) {
			const Fl__ProbeResult *p = rep->results[k];
			char                   u[512];
			for (size_t m = 0; m < p->n_unmet; m++) {
				unmet_text(p->unmet[m], u, sizeof(u));
				add_reason(&r->reasons, &r->n_reasons, "expectations", host,
				    p->name, "release %s needs what the database lacks: %s",
				    rep->release, u);
				failed = true;
			}
			if (p->status == FL__STATUS__STATUS_FAIL && p->n_unmet == 0) {
				add_reason(&r->reasons, &r->n_reasons, "probe", host, p->name,
				    "%s fails (%s): %s", p->name, fl_failure_name(p->failure),
				    p->detail);
				failed = true;
			} else if (p->status == FL__STATUS__STATUS_WARN) {
				add_reason(&r->warnings, &r->n_warnings, "probe", host, p->name,
				    "%s warns (%s): %s", p->name, fl_failure_name(p->failure),
				    p->detail);
			}
		}
		if (r->rollback == NULL) {
			continue;
		}
		const Fl__ReleaseCheck *chk = NULL;
		for (size_t k = 0; k < rep->n_release_checks; k++) {
			if (strcmp(rep->release_checks[k]->release, q->rollback_to) == 0) {
				chk = rep->release_checks[k];
			}
		}
		Fl__RollbackHost *rh = malloc(sizeof(*rh));
		if (rh == NULL) {
			continue;
		}
		fl__rollback_host__init(rh);
		rh->host  = xdup(host);
		rh->known = chk != NULL && chk->known;
		Fl__RollbackHost **nv =
		    realloc(r->rollback->hosts, (r->rollback->n_hosts + 1) * sizeof(*nv));
		if (nv == NULL) {
			fl__rollback_host__free_unpacked(rh, NULL);
			continue;
		}
		r->rollback->hosts                         = nv;
		r->rollback->hosts[r->rollback->n_hosts++] = rh;
		if (chk == NULL) {
			add_reason(&r->reasons, &r->n_reasons, "rollback", host, "",
			    "%s did not check release %s (agent without rollback checks?)", host,
			    q->rollback_to);
			r->rollback->ready = false;
			failed             = true;
			continue;
		}
		if (!chk->known) {
			add_reason(&r->reasons, &r->n_reasons, "rollback", host, "",
			    "%s never kept the expectations of release %s: a rollback to it cannot "
			    "be checked",
			    host, q->rollback_to);
			r->rollback->ready = false;
			failed             = true;
		}
		for (size_t k = 0; k < chk->n_unmet; k++) {
			char                   u[512];
			Fl__UnmetRequirement  *c = unmet_copy(chk->unmet[k]);
			Fl__UnmetRequirement **nu =
			    c ? realloc(rh->unmet, (rh->n_unmet + 1) * sizeof(*nu)) : NULL;
			if (nu != NULL) {
				rh->unmet                = nu;
				rh->unmet[rh->n_unmet++] = c;
			} else if (c != NULL) {
				fl__unmet_requirement__free_unpacked(c, NULL);
			}
			unmet_text(chk->unmet[k], u, sizeof(u));
			add_reason(&r->reasons, &r->n_reasons, "rollback", host,
			    chk->unmet[k]->database, "a rollback to %s would break: %s",
			    q->rollback_to, u);
			r->rollback->ready = false;
			failed             = true;
		}
		for (size_t k = 0; k < chk->n_errors; k++) {
			strv_add(&rh->errors, &rh->n_errors, chk->errors[k]);
			add_reason(&r->reasons, &r->n_reasons, "rollback", host, "",
			    "cannot check a rollback to %s: %s", q->rollback_to, chk->errors[k]);
			r->rollback->ready = false;
			failed             = true;
		}
	}

	// Canary comparison: candidate = canary hosts (or every target) on the release; baseline =
	// answering hosts on another release.
	if (!q->no_canary) {
		for (size_t i = 0; i < pn->n_reports; i++) {
			const Fl__Report *rep = pn->reports[i];
			bool              on  = strcmp(rep->release, release) == 0;
			if (!fl_labels_match((const char *const *) rep->labels, rep->n_labels,
			        (const char *const *) q->labels, q->n_labels)) {
				continue; // outside the label set asked for: not a baseline either
			}
			if (on &&
			    (q->n_canary > 0 ? in_list(q->canary, q->n_canary, rep->host)
			                     : in_list(targets, n_targets, rep->host))) {
				strv_add(&cand, &n_cand, rep->host);
			} else if (!on) {
				strv_add(&base, &n_base, rep->host);
			}
		}
	}
	if (!q->no_canary && (q->n_canary > 0 || n_base > 0)) {
		coll_canary_rule rule = { max_inc, max_ratio, slack_ms, confidence, min_samples };
		atomic_int      *yield_to = automatic ? &v->asked : NULL;
		int rc = canary_compare(v, q, &rule, t0, pn, cand, n_cand, base, n_base, rounds,
		    gap_ms, survey_ms, yield_to, r, err, errlen);
		if (rc == VERIFY_YIELDED) {
			fl__probe_now_reply__free_unpacked(pn, NULL);
			coll_live_free(&live);
			coll_strv_free(targets, n_targets);
			coll_strv_free(cand, n_cand);
			coll_strv_free(base, n_base);
			fl__verify_reply__free_unpacked(r, NULL);
			return VERIFY_YIELDED;
		}
		if (rc != 0) {
			goto finish;
		}
		if (strcmp(r->canary->verdict, "failed") == 0) {
			failed = true;
		} else if (strcmp(r->canary->verdict, "inconclusive") == 0) {
			unverified = true;
		}
	}

finish:
	r->result     = xdup(failed ? "failed" : unverified ? "unverified" : "passed");
	r->elapsed_us = fl_mono_us() - t0;
	fl__probe_now_reply__free_unpacked(pn, NULL);
	coll_live_free(&live);
	coll_strv_free(targets, n_targets);
	coll_strv_free(cand, n_cand);
	coll_strv_free(base, n_base);
	*out = r;
	return 0;

fail:
	if (pn != NULL) {
		fl__probe_now_reply__free_unpacked(pn, NULL);
	}
	coll_live_free(&live);
	coll_strv_free(targets, n_targets);
	fl__verify_reply__free_unpacked(r, NULL);
	return -1;
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
	if ((l->release = xdup(release)) == NULL) {
		*l = v->recs[--v->n_recs]; // keep the array dense: the last record fills the slot
		return NULL;
	}
	l->used_us = fl_mono_us();
	return l;
}

static void
set_str(char **dst, const char *s)
{
	char *c = xdup(s);
	if (c != NULL) {
		free(*dst);
		*dst = c;
	}
}

void
coll_verify_record(coll_verify *v, const Fl__VerifyReply *r, const char *kind, bool automatic)
{
	char     detail[1024] = "";
	size_t   off          = 0;
	coll_ops ops;

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
		set_str(&l->result, r->result);
		set_str(&l->detail, detail);
		set_str(&l->kind, kind);
		l->at_us     = now;
		l->automatic = automatic;
	}
	coll_ops_init(&ops);
	coll_event ev = { .at_us = now,
		.host            = "",
		.kind            = "verification",
		.probe           = "",
		.from            = r->release,
		.to              = r->result,
		.failure         = 0,
		.detail          = detail,
		.agent_time_us   = 0 };
	if (coll_ops_event(&ops, &ev) != 0 || coll_store_write(v->store, &ops) != 0) {
		fl_log(FL_LOG_ERR, "verify", "cannot record the verification of release %s",
		    r->release);
	}
	coll_ops_fini(&ops);
	pthread_mutex_unlock(&v->mu);
	fl_log(strcmp(r->result, "passed") == 0 ? FL_LOG_NOTICE : FL_LOG_WARN, "verify",
	    "release %s %s (%s%s): %s", r->release, r->result, kind, automatic ? ", automatic" : "",
	    detail);
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
			rv->release                                    = xdup(l->release);
			rv->result                                     = xdup(l->result);
			rv->detail                                     = xdup(l->detail);
			rv->kind                                       = xdup(l->kind);
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
	if (coll_store_open(d->store_path, false, &v->store, err, errlen) != 0) {
		pthread_mutex_destroy(&v->mu);
		free(v);
		return -1;
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
