// canary.c - see canary.h.

#include "canary.h"

#include <stdarg.h>
#include <stdio.h>

#include "stats.h"

// Keeps an increase of exactly the allowance (0.05 from 0.00 to 0.05, which floating point may
// compute as 0.0500000001) a pass.
#define RATE_EPSILON 1e-9

static void
summarize(const coll_canary_side *s, coll_canary_summary *out)
{
	out->samples           = s->samples;
	out->errors            = s->errors;
	out->warns             = s->warns;
	out->error_rate        = s->samples ? (double) s->errors / s->samples : 0;
	out->warn_rate         = s->samples ? (double) s->warns / s->samples : 0;
	out->median_latency_ms = coll_stats_quantile(s->lat_ms, s->n_lat, 0.5);
	out->p90_latency_ms    = coll_stats_quantile(s->lat_ms, s->n_lat, 0.90);
	out->p95_latency_ms    = coll_stats_quantile(s->lat_ms, s->n_lat, 0.95);
}

static bool
rate_worse(double cand, double base, double allowance)
{
	return cand > base + allowance + RATE_EPSILON;
}

// The effect-size tolerance on one statistic (median or p95).
static bool
beyond_tolerance(const coll_canary_rule *rule, double cand, double base)
{
	return cand > rule->max_latency_ratio * base + rule->latency_slack_ms;
}

// The tail part of the rule: how many candidate latencies exceed the tolerance applied to the
// baseline's p95. Without a change, each exceeds the baseline's p95 itself with probability
// COLL_CANARY_TAIL_SHARE, and the higher threshold less often, so the binomial upper tail is a
// conservative p-value. One or two outliers in 20 samples are not enough; four are (p 0.016).
static void
judge_tail(const coll_canary_rule *rule, const coll_canary_side *cand, coll_canary_verdict *v)
{
	double threshold =
	    rule->max_latency_ratio * v->base.p95_latency_ms + rule->latency_slack_ms;
	size_t k = 0;

	for (size_t i = cand->n_lat; i > 0 && cand->lat_ms[i - 1] > threshold; i--) {
		k++;
	}
	v->tail_threshold_ms = threshold;
	v->tail_exceeding    = (uint32_t) k;
	v->tail_p_value      = coll_stats_binom_upper(k, cand->n_lat, COLL_CANARY_TAIL_SHARE);
	if (v->tail_p_value < 1.0 - rule->confidence) {
		v->worse |= COLL_CANARY_SLOWER_TAIL;
	}
}

// The latency part of the rule: sets SLOWER in worse, or reasons in undecided.
static void
judge_latency(const coll_canary_rule *rule, const coll_canary_side *cand,
    const coll_canary_side *base, coll_canary_verdict *v)
{
	double alpha = 1.0 - rule->confidence;
	size_t need  = rule->min_samples > 0 ? rule->min_samples : 1;

	if (cand->n_lat < need || base->n_lat < need) {
		return; // a side that mostly failed: the error rates decide
	}
	if (coll_stats_mwu_min_p(cand->n_lat, base->n_lat) >= alpha) {
		v->undecided |= COLL_CANARY_UNTESTABLE;
		return;
	}
	coll_mwu m;
	if (coll_stats_mwu_greater(cand->lat_ms, cand->n_lat, base->lat_ms, base->n_lat, &m) != 0) {
		return;
	}
	v->latency_tested = true;
	v->p_value        = m.p;
	bool median_beyond =
	    beyond_tolerance(rule, v->cand.median_latency_ms, v->base.median_latency_ms);
	if (m.p < alpha && median_beyond) {
		v->worse |= COLL_CANARY_SLOWER;
	} else if (m.p >= alpha && median_beyond) {
		v->undecided |= COLL_CANARY_NOT_SIGNIFICANT;
	}
	judge_tail(rule, cand, v);
}

void
coll_canary_judge_probe(const coll_canary_rule *rule, const coll_canary_side *cand,
    const coll_canary_side *base, coll_canary_verdict *out)
{
	coll_canary_verdict v    = { .outcome = COLL_CANARY_PASSED, .p_value = 1 };
	size_t              need = rule->min_samples > 0 ? rule->min_samples : 1;

	summarize(cand, &v.cand);
	summarize(base, &v.base);
	if (v.base.median_latency_ms > 0) {
		v.median_ratio = v.cand.median_latency_ms / v.base.median_latency_ms;
	}
	if (cand->samples > 0 && base->samples > 0) {
		if (rate_worse(
		        v.cand.error_rate, v.base.error_rate, rule->max_error_rate_increase)) {
			v.worse |= COLL_CANARY_MORE_ERRORS;
		}
		if (rate_worse(v.cand.warn_rate, v.base.warn_rate, rule->max_error_rate_increase)) {
			v.worse |= COLL_CANARY_MORE_WARNS;
		}
	}
	if (cand->samples < need || base->samples < need) {
		v.undecided |= COLL_CANARY_FEW_SAMPLES;
	} else {
		judge_latency(rule, cand, base, &v);
	}
	if (v.worse != 0) {
		v.outcome   = COLL_CANARY_FAILED;
		v.undecided = 0;
	} else if (v.undecided != 0) {
		v.outcome = COLL_CANARY_INCONCLUSIVE;
	}
	*out = v;
}

const char *
coll_canary_outcome_name(coll_canary_outcome o)
{
	switch (o) {
	case COLL_CANARY_PASSED:
		return "passed";
	case COLL_CANARY_FAILED:
		return "failed";
	case COLL_CANARY_INCONCLUSIVE:
		return "inconclusive";
	}
	return "unknown";
}

// Appends to buf at *off, never past len; *off stops at len - 1 once full.
static void appendf(char *buf, size_t len, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
appendf(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	if (*off >= len - 1) {
		return;
	}
	va_start(ap, fmt);
	int w = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (w < 0) {
		return;
	}
	*off = *off + (size_t) w >= len ? len - 1 : *off + (size_t) w;
}

static void
describe_latency(
    const coll_canary_rule *rule, const coll_canary_verdict *v, char *buf, size_t len, size_t *off)
{
	appendf(buf, len, off, "median %.1fms vs %.1fms", v->cand.median_latency_ms,
	    v->base.median_latency_ms);
	if (v->median_ratio > 0) {
		appendf(buf, len, off, " (×%.*f)", v->median_ratio < 10 ? 2 : 0, v->median_ratio);
	}
	appendf(buf, len, off, ", p95 %.1fms vs %.1fms", v->cand.p95_latency_ms,
	    v->base.p95_latency_ms);
	if (v->latency_tested) {
		appendf(buf, len, off, ", Mann-Whitney p = %.4f", v->p_value);
	}
	appendf(buf, len, off,
	    " over %zu vs %zu samples (allowed %.2f× + %ums at %.0f%% confidence)",
	    (size_t) (v->cand.samples - v->cand.errors),
	    (size_t) (v->base.samples - v->base.errors), rule->max_latency_ratio,
	    rule->latency_slack_ms, rule->confidence * 100);
}

void
coll_canary_describe(const char *probe, const coll_canary_rule *rule, const coll_canary_verdict *v,
    char *buf, size_t len)
{
	size_t      off = 0;
	const char *sep = "";

	if (len == 0) {
		return;
	}
	buf[0] = '\0';
	appendf(buf, len, &off, "%s: ", probe);
	if (v->worse & (COLL_CANARY_SLOWER | COLL_CANARY_SLOWER_TAIL)) {
		describe_latency(rule, v, buf, len, &off);
		sep = "; ";
	}
	if (v->worse & COLL_CANARY_SLOWER_TAIL) {
		appendf(buf, len, &off,
		    "; slow tail: %u of %zu samples above %.1fms (%.2f× + %ums the baseline's "
		    "p95), "
		    "binomial p = %.4f",
		    v->tail_exceeding, (size_t) (v->cand.samples - v->cand.errors),
		    v->tail_threshold_ms, rule->max_latency_ratio, rule->latency_slack_ms,
		    v->tail_p_value);
	}
	if (v->worse & COLL_CANARY_MORE_ERRORS) {
		appendf(buf, len, &off,
		    "%serror rate %.1f%% vs %.1f%% (%u/%u vs %u/%u, allowed +%.1f points)", sep,
		    v->cand.error_rate * 100, v->base.error_rate * 100, v->cand.errors,
		    v->cand.samples, v->base.errors, v->base.samples,
		    rule->max_error_rate_increase * 100);
		sep = "; ";
	}
	if (v->worse & COLL_CANARY_MORE_WARNS) {
		appendf(buf, len, &off, "%swarns in %.1f%% of samples vs %.1f%% (%u/%u vs %u/%u)",
		    sep, v->cand.warn_rate * 100, v->base.warn_rate * 100, v->cand.warns,
		    v->cand.samples, v->base.warns, v->base.samples);
		sep = "; ";
	}
	if (v->worse != 0) {
		return;
	}
	if (v->undecided & COLL_CANARY_FEW_SAMPLES) {
		appendf(buf, len, &off,
		    "too few samples to decide: %u vs %u, need %u per side (raise --rounds)",
		    v->cand.samples, v->base.samples, rule->min_samples);
	} else if (v->undecided & COLL_CANARY_UNTESTABLE) {
		appendf(buf, len, &off,
		    "too few samples for %.0f%% confidence: %u vs %u latencies (raise --rounds)",
		    rule->confidence * 100, v->cand.samples - v->cand.errors,
		    v->base.samples - v->base.errors);
	} else if (v->undecided & COLL_CANARY_NOT_SIGNIFICANT) {
		appendf(buf, len, &off, "maybe slower, not significant: ");
		describe_latency(rule, v, buf, len, &off);
	} else {
		appendf(buf, len, &off, "no worse: ");
		describe_latency(rule, v, buf, len, &off);
	}
}
