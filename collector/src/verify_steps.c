// verify_steps.c - see verify_steps.h.

#include "verify_steps.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl/labels.h"
#include "fl/names.h"
#include "fl/str.h"
#include "fl/unmet.h"
#include "fl/wire.h"

// --- small helpers -----------------------------------------------------------------------------

void
verify_add_reason(Fl__VerifyReason ***v, size_t *n, Fl__VerifyCheck check, const char *host,
    const char *probe, const char *fmt, ...)
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
	r->check_enum = check;
	r->check      = fl_str_dup(fl_verify_check_name(check)); // for CLIs from before check_enum
	r->host       = fl_str_dup(host);
	r->probe      = fl_str_dup(probe);
	r->summary    = fl_str_dup(buf);
	if (r->check == NULL || r->host == NULL || r->probe == NULL || r->summary == NULL) {
		fl__verify_reason__free_unpacked(r, NULL);
		return;
	}
	nv[(*n)++] = r;
}

const Fl__Report *
verify_find_report(const Fl__ProbeNowReply *pn, const char *host)
{
	for (size_t i = 0; i < pn->n_reports; i++) {
		if (strcmp(pn->reports[i]->host, host) == 0) {
			return pn->reports[i];
		}
	}
	return NULL;
}

// "orders: SELECT on public.orders revoked for role app": the database, then the phrase every
// other output uses.
static void
unmet_text(const Fl__UnmetRequirement *u, char *buf, size_t len)
{
	char phrase[448];
	snprintf(buf, len, "%s: %s", u->database,
	    fl_unmet_phrase(u, FL_UNMET_LACKING, phrase, sizeof(phrase)));
}

// --- the steps ---------------------------------------------------------------------------------

void
verify_params_of(const Fl__VerifyQuery *q, verify_params *p)
{
	p->survey_ms = q->survey_timeout_ms ? q->survey_timeout_ms : COLL_VERIFY_SURVEY_MS;
	p->rounds    = q->rounds ? q->rounds : COLL_VERIFY_ROUNDS;
	p->gap_ms    = q->round_interval_ms ? q->round_interval_ms : COLL_VERIFY_ROUND_MS;
	if (p->rounds > COLL_VERIFY_MAX_ROUNDS) {
		p->rounds = COLL_VERIFY_MAX_ROUNDS;
	}
	if (p->gap_ms < COLL_VERIFY_MIN_ROUND_MS) {
		p->gap_ms = COLL_VERIFY_MIN_ROUND_MS;
	}
	// An old CLI says "all three given" with thresholds_set; a current one field by field.
	p->rule.max_error_rate_increase = q->thresholds_set || q->max_error_rate_increase_set
	    ? q->max_error_rate_increase
	    : COLL_VERIFY_MAX_ERR_INC;
	p->rule.max_latency_ratio       = q->thresholds_set || q->max_latency_ratio_set
	          ? q->max_latency_ratio
	          : COLL_VERIFY_MAX_LAT_RATIO;
	p->rule.latency_slack_ms        = q->thresholds_set || q->latency_slack_set
	           ? q->latency_slack_ms
	           : COLL_VERIFY_LAT_SLACK_MS;
	p->rule.confidence =
	    q->confidence > 0 && q->confidence < 1 ? q->confidence : COLL_VERIFY_CONFIDENCE;
	p->rule.min_samples = q->min_samples ? q->min_samples : COLL_VERIFY_MIN_SAMPLES;
}

int
verify_targets(const Fl__VerifyQuery *q, const coll_live *live, char ***out, size_t *n)
{
	*out = NULL;
	*n   = 0;
	for (size_t i = 0; i < q->n_hosts; i++) {
		if (fl_strv_add(out, n, q->hosts[i]) != 0) {
			return -1;
		}
	}
	for (size_t i = 0; q->n_hosts == 0 && i < live->n; i++) {
		if (strcmp(live->releases[i], q->release) == 0 &&
		    fl_strv_add(out, n, live->hosts[i]) != 0) {
			return -1;
		}
	}
	return 0;
}

int
verify_first_round_hosts(
    const coll_live *live, char *const *targets, size_t n_targets, char ***out, size_t *n)
{
	*out = NULL;
	*n   = 0;
	for (size_t i = 0; i < live->n; i++) {
		if (fl_strv_add(out, n, live->hosts[i]) != 0) {
			return -1;
		}
	}
	for (size_t i = 0; i < n_targets; i++) {
		if (!fl_strv_contains(*out, *n, targets[i]) &&
		    fl_strv_add(out, n, targets[i]) != 0) {
			return -1;
		}
	}
	return 0;
}

// The probe results of rep: unmet requirements and failures fail, warnings are listed.
static void
check_results(const char *host, const Fl__Report *rep, Fl__VerifyReply *r, verify_outcome *o)
{
	for (size_t k = 0; k < rep->n_results; k++) {
		const Fl__ProbeResult *p = rep->results[k];
		char                   u[512];
		for (size_t m = 0; m < p->n_unmet; m++) {
			unmet_text(p->unmet[m], u, sizeof(u));
			verify_add_reason(&r->reasons, &r->n_reasons,
			    FL__VERIFY_CHECK__VERIFY_CHECK_EXPECTATIONS, host, p->name,
			    "release %s needs what the database lacks: %s", rep->release, u);
			o->failed = true;
		}
		if (p->status == FL__STATUS__STATUS_FAIL && p->n_unmet == 0) {
			verify_add_reason(&r->reasons, &r->n_reasons,
			    FL__VERIFY_CHECK__VERIFY_CHECK_PROBE, host, p->name,
			    "%s fails (%s): %s", p->name, fl_failure_name(p->failure), p->detail);
			o->failed = true;
		} else if (p->status == FL__STATUS__STATUS_WARN) {
			verify_add_reason(&r->warnings, &r->n_warnings,
			    FL__VERIFY_CHECK__VERIFY_CHECK_PROBE, host, p->name,
			    "%s warns (%s): %s", p->name, fl_failure_name(p->failure), p->detail);
		}
	}
}

void
verify_check_host(const Fl__VerifyQuery *q, const char *host, const Fl__Report *rep,
    uint32_t survey_ms, Fl__VerifyReply *r, verify_outcome *o)
{
	if (rep == NULL) {
		verify_add_reason(&r->reasons, &r->n_reasons,
		    FL__VERIFY_CHECK__VERIFY_CHECK_TIMEOUT, host, "",
		    "%s did not answer the probe-now survey within %.1fs", host,
		    survey_ms / 1000.0);
		o->unverified = true;
		return;
	}
	if (strcmp(rep->release, q->release) != 0) {
		verify_add_reason(&r->reasons, &r->n_reasons,
		    FL__VERIFY_CHECK__VERIFY_CHECK_RELEASE, host, "", "%s runs release %s, not %s",
		    host, rep->release, q->release);
		o->failed = true;
	}
	if (rep->expectations_error[0] != '\0') {
		verify_add_reason(&r->reasons, &r->n_reasons,
		    FL__VERIFY_CHECK__VERIFY_CHECK_EXPECTATIONS, host, "",
		    "the expectations of release %s cannot be used: %s", rep->release,
		    rep->expectations_error);
		o->failed = true;
	}
	check_results(host, rep, r, o);
}

void
verify_rollback_init(const Fl__VerifyQuery *q, Fl__VerifyReply *r)
{
	if (q->rollback_to[0] == '\0' || (r->rollback = malloc(sizeof(*r->rollback))) == NULL) {
		return;
	}
	fl__rollback_readiness__init(r->rollback);
	r->rollback->release = fl_str_dup(q->rollback_to);
	r->rollback->ready   = true;
}

// rep's check of release (NULL: it made none).
static const Fl__ReleaseCheck *
release_check(const Fl__Report *rep, const char *release)
{
	const Fl__ReleaseCheck *chk = NULL;
	for (size_t k = 0; k < rep->n_release_checks; k++) {
		if (strcmp(rep->release_checks[k]->release, release) == 0) {
			chk = rep->release_checks[k];
		}
	}
	return chk;
}

// A new entry for host in r->rollback (NULL when out of memory).
static Fl__RollbackHost *
rollback_host_add(Fl__RollbackReadiness *rb, const char *host, bool known)
{
	Fl__RollbackHost  *rh = malloc(sizeof(*rh));
	Fl__RollbackHost **nv;
	if (rh == NULL) {
		return NULL;
	}
	fl__rollback_host__init(rh);
	rh->host  = fl_str_dup(host);
	rh->known = known;
	if ((nv = realloc(rb->hosts, (rb->n_hosts + 1) * sizeof(*nv))) == NULL) {
		fl__rollback_host__free_unpacked(rh, NULL);
		return NULL;
	}
	rb->hosts                = nv;
	rb->hosts[rb->n_hosts++] = rh;
	return rh;
}

// Marks the rollback not ready: one more reason it would not work.
static void
rollback_broken(Fl__VerifyReply *r, verify_outcome *o)
{
	r->rollback->ready = false;
	o->failed          = true;
}

void
verify_check_rollback(const Fl__VerifyQuery *q, const char *host, const Fl__Report *rep,
    Fl__VerifyReply *r, verify_outcome *o)
{
	const Fl__ReleaseCheck *chk;
	Fl__RollbackHost       *rh;

	if (r->rollback == NULL || rep == NULL) {
		return;
	}
	chk = release_check(rep, q->rollback_to);
	if ((rh = rollback_host_add(r->rollback, host, chk != NULL && chk->known)) == NULL) {
		return;
	}
	if (chk == NULL) {
		verify_add_reason(&r->reasons, &r->n_reasons,
		    FL__VERIFY_CHECK__VERIFY_CHECK_ROLLBACK, host, "",
		    "%s did not check release %s (agent without rollback checks?)", host,
		    q->rollback_to);
		rollback_broken(r, o);
		return;
	}
	if (!chk->known) {
		verify_add_reason(&r->reasons, &r->n_reasons,
		    FL__VERIFY_CHECK__VERIFY_CHECK_ROLLBACK, host, "",
		    "%s never kept the expectations of release %s: a rollback to it cannot be "
		    "checked",
		    host, q->rollback_to);
		rollback_broken(r, o);
	}
	for (size_t k = 0; k < chk->n_unmet; k++) {
		char u[512];
		// Out of memory: the reason below still names it.
		(void) fl_unmet_append(&rh->unmet, &rh->n_unmet, FL_WIRE_MAX_UNMET, chk->unmet[k]);
		unmet_text(chk->unmet[k], u, sizeof(u));
		verify_add_reason(&r->reasons, &r->n_reasons,
		    FL__VERIFY_CHECK__VERIFY_CHECK_ROLLBACK, host, chk->unmet[k]->database,
		    "a rollback to %s would break: %s", q->rollback_to, u);
		rollback_broken(r, o);
	}
	for (size_t k = 0; k < chk->n_errors; k++) {
		fl_strv_add(&rh->errors, &rh->n_errors, chk->errors[k]);
		verify_add_reason(&r->reasons, &r->n_reasons,
		    FL__VERIFY_CHECK__VERIFY_CHECK_ROLLBACK, host, "",
		    "cannot check a rollback to %s: %s", q->rollback_to, chk->errors[k]);
		rollback_broken(r, o);
	}
}

void
verify_canary_groups(const Fl__VerifyQuery *q, const Fl__ProbeNowReply *pn, char *const *targets,
    size_t n_targets, verify_groups *g)
{
	memset(g, 0, sizeof(*g));
	for (size_t i = 0; !q->no_canary && i < pn->n_reports; i++) {
		const Fl__Report *rep = pn->reports[i];
		bool              on  = strcmp(rep->release, q->release) == 0;
		if (!fl_labels_match((const char *const *) rep->labels, rep->n_labels,
		        (const char *const *) q->labels, q->n_labels)) {
			continue; // outside the label set asked for: not a baseline either
		}
		if (on &&
		    (q->n_canary > 0 ? fl_strv_contains(q->canary, q->n_canary, rep->host)
		                     : fl_strv_contains(targets, n_targets, rep->host))) {
			fl_strv_add(&g->cand, &g->n_cand, rep->host);
		} else if (!on) {
			fl_strv_add(&g->base, &g->n_base, rep->host);
		}
	}
	g->compare = !q->no_canary && (q->n_canary > 0 || g->n_base > 0);
}

void
verify_groups_fini(verify_groups *g)
{
	fl_strv_free(g->cand, g->n_cand);
	fl_strv_free(g->base, g->n_base);
	memset(g, 0, sizeof(*g));
}

void
verify_canary_outcome(const Fl__CanaryComparison *c, verify_outcome *o)
{
	if (c == NULL || c->verdict == NULL) {
		return;
	}
	if (strcmp(c->verdict, "failed") == 0) {
		o->failed = true;
	} else if (strcmp(c->verdict, "inconclusive") == 0) {
		o->unverified = true;
	}
}

Fl__VerifyResult
verify_result(const verify_outcome *o)
{
	return o->failed    ? FL__VERIFY_RESULT__VERIFY_RESULT_FAILED
	    : o->unverified ? FL__VERIFY_RESULT__VERIFY_RESULT_UNVERIFIED
	                    : FL__VERIFY_RESULT__VERIFY_RESULT_PASSED;
}
