// render_reply.c - see fl/render_reply.h.

#include "fl/render_reply.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fl/names.h"
#include "fl/render.h"
#include "fl/str.h"
#include "fl/time.h"

size_t
fl_host_probes_failing(const Fl__HostState *h)
{
	size_t n = 0;
	for (size_t i = 0; i < h->n_probes; i++) {
		n += h->probes[i]->status == FL__STATUS__STATUS_FAIL;
	}
	return n;
}

// ---- status and hosts ------------------------------------------------------------------------

static void
labels_json(fl_json *j, const Fl__HostState *h)
{
	fl_json_key(j, "labels");
	fl_render_labels_json(j, (const char *const *) h->labels, h->n_labels);
}

// Reports refused from a host that also has a row (its earlier reports were accepted).
static uint64_t
rejected_count(const Fl__StatusReply *r, const char *host)
{
	for (size_t i = 0; i < r->n_rejected_senders; i++) {
		if (strcmp(fl_str_or_empty(r->rejected_senders[i]->host), host) == 0) {
			return r->rejected_senders[i]->count;
		}
	}
	return 0;
}

static void
host_json(fl_json *j, const Fl__StatusReply *r, const Fl__HostState *h, int64_t now)
{
	fl_json_obj_begin(j);
	fl_json_kstr(j, "host", fl_str_or_empty(h->host));
	fl_json_kstr(j, "release", fl_str_or_empty(h->release));
	fl_json_kstr(j, "previous_release", fl_str_or_empty(h->previous_release));
	fl_json_ktime(j, "release_since", h->release_since_us);
	fl_json_kstr(j, "agent_version", fl_str_or_empty(h->agent_version));
	fl_json_kuint(j, "interval_ms", h->interval_ms);
	fl_json_ktime(j, "last_seen", h->last_seen_us);
	fl_json_key(j, "age_s");
	if (h->last_seen_us == 0) {
		fl_json_null(j);
	} else {
		fl_json_double(j, (double) (now - h->last_seen_us) / 1e6);
	}
	fl_json_kbool(j, "stale", h->stale);
	fl_json_kint(j, "clock_skew_ms", h->clock_skew_us / 1000);
	fl_json_kuint(j, "spool_dropped", h->spool_dropped);
	fl_json_kstr(j, "expectations_error", fl_str_or_empty(h->expectations_error));
	labels_json(j, h);
	fl_json_key(j, "probes");
	fl_json_arr_begin(j);
	for (size_t k = 0; k < h->n_probes; k++) {
		fl_render_probe_json(j, h->probes[k]);
	}
	fl_json_arr_end(j);
	fl_json_kuint(j, "reports_rejected", rejected_count(r, fl_str_or_empty(h->host)));
	fl_json_obj_end(j);
}

static void
stats_json(fl_json *j, const Fl__CollectorStats *s)
{
	static const Fl__CollectorStats zero = FL__COLLECTOR_STATS__INIT;
	if (s == NULL) {
		s = &zero;
	}
	fl_json_key(j, "stats");
	fl_json_obj_begin(j);
	fl_json_kuint(j, "reports_received", s->reports_received);
	fl_json_kuint(j, "reports_applied", s->reports_applied);
	fl_json_kuint(j, "results_applied", s->results_applied);
	fl_json_kuint(j, "dropped_undecodable", s->dropped_undecodable);
	fl_json_kuint(j, "dropped_schema", s->dropped_schema);
	fl_json_kuint(j, "dropped_oversize", s->dropped_oversize);
	fl_json_kuint(j, "dropped_invalid", s->dropped_invalid);
	fl_json_kuint(j, "dropped_duplicate", s->dropped_duplicate);
	fl_json_kuint(j, "dropped_overload", s->dropped_overload);
	fl_json_kuint(j, "dropped_unauthenticated", s->dropped_unauthenticated);
	fl_json_kuint(j, "dropped_host_limit", s->dropped_host_limit);
	fl_json_kuint(j, "dropped_probe_limit", s->dropped_probe_limit);
	fl_json_kuint(j, "reports_time_ignored", s->reports_time_ignored);
	fl_json_kuint(j, "control_clients_cut", s->control_clients_cut);
	fl_json_kuint(j, "control_busy", s->control_busy);
	fl_json_kuint(j, "connections_refused", s->connections_refused);
	fl_json_kuint(j, "slow_abandoned", s->slow_abandoned);
	fl_json_kuint(j, "fd_exhausted", s->fd_exhausted);
	fl_json_ktime(j, "started", s->started_us);
	fl_json_kuint(j, "history_events_lost", s->history_events_lost);
	fl_json_kuint(j, "state_writes_lost", s->state_writes_lost);
	fl_json_obj_end(j);
}

// The last verification of each release (post-release verification, docs/verify.md).
static void
verifications_json(fl_json *j, const Fl__StatusReply *r)
{
	fl_json_key(j, "verifications");
	fl_json_arr_begin(j);
	for (size_t i = 0; i < r->n_verifications; i++) {
		const Fl__ReleaseVerification *v = r->verifications[i];
		fl_json_obj_begin(j);
		fl_json_kstr(j, "release", v->release);
		fl_json_kstr(j, "result", v->result);
		fl_json_kstr(j, "kind", v->kind);
		fl_json_kbool(j, "automatic", v->automatic);
		fl_json_ktime(j, "at", v->at_us);
		fl_json_kstr(j, "detail", v->detail);
		fl_json_obj_end(j);
	}
	fl_json_arr_end(j);
}

static void
rejected_json(fl_json *j, const Fl__StatusReply *r)
{
	fl_json_key(j, "rejected_senders");
	fl_json_arr_begin(j);
	for (size_t i = 0; i < r->n_rejected_senders; i++) {
		const Fl__RejectedSender *s = r->rejected_senders[i];
		fl_json_obj_begin(j);
		fl_json_kstr(j, "host", fl_str_or_empty(s->host));
		fl_json_kuint(j, "count", s->count);
		fl_json_kstr(j, "last_kind", fl_str_or_empty(s->last_kind));
		fl_json_kstr(j, "last_reason", fl_str_or_empty(s->last_reason));
		fl_json_ktime(j, "last_at", s->last_at_us);
		fl_json_obj_end(j);
	}
	fl_json_arr_end(j);
}

// Each alert receiver's delivery counters.
static void
notifications_json(fl_json *j, const Fl__StatusReply *r)
{
	fl_json_key(j, "notifications");
	fl_json_arr_begin(j);
	for (size_t i = 0; i < r->n_notify_receivers; i++) {
		const Fl__NotifyReceiver *n = r->notify_receivers[i];
		fl_json_obj_begin(j);
		fl_json_kstr(j, "receiver", fl_str_or_empty(n->name));
		fl_json_kstr(j, "kind", fl_str_or_empty(n->kind));
		fl_json_kuint(j, "sent", n->sent);
		fl_json_kuint(j, "failed", n->failed);
		fl_json_kuint(j, "retried", n->retried);
		fl_json_kuint(j, "dropped", n->dropped);
		fl_json_kuint(j, "pending", n->pending);
		fl_json_kbool(j, "down", n->down);
		fl_json_obj_end(j);
	}
	fl_json_arr_end(j);
}

void
fl_render_status_json(fl_json *j, const Fl__StatusReply *r)
{
	int64_t now = r->now_us != 0 ? r->now_us : fl_now_us();

	fl_json_obj_begin(j);
	fl_json_ktime(j, "now", now);
	fl_json_key(j, "hosts");
	fl_json_arr_begin(j);
	for (size_t i = 0; i < r->n_hosts; i++) {
		host_json(j, r, r->hosts[i], now);
	}
	fl_json_arr_end(j);
	stats_json(j, r->stats);
	verifications_json(j, r);
	rejected_json(j, r);
	notifications_json(j, r);
	// The collector's HA role (a collector from before the roles is single).
	fl_json_kstr(j, "role", r->role != NULL && r->role[0] != '\0' ? r->role : "single");
	fl_json_kstr(j, "active_name", fl_str_or_empty(r->active_name));
	fl_json_kint(j, "role_since_us", r->role_since_us);
	fl_json_obj_end(j);
}

void
fl_render_hosts_json(fl_json *j, const Fl__StatusReply *r)
{
	fl_json_obj_begin(j);
	fl_json_key(j, "hosts");
	fl_json_arr_begin(j);
	for (size_t i = 0; i < r->n_hosts; i++) {
		const Fl__HostState *h = r->hosts[i];
		fl_json_obj_begin(j);
		fl_json_kstr(j, "host", fl_str_or_empty(h->host));
		fl_json_kstr(j, "release", fl_str_or_empty(h->release));
		fl_json_ktime(j, "last_seen", h->last_seen_us);
		fl_json_kbool(j, "stale", h->stale);
		fl_json_kuint(j, "probes_failing", fl_host_probes_failing(h));
		labels_json(j, h);
		fl_json_obj_end(j);
	}
	fl_json_arr_end(j);
	fl_json_obj_end(j);
}

// ---- history ---------------------------------------------------------------------------------

const char *
fl_history_event_kind(const Fl__HistoryEvent *e)
{
	const char *name = fl_history_kind_name(e->kind_enum);
	if (strcmp(name, "unknown") == 0 && e->kind != NULL && e->kind[0] != '\0') {
		return e->kind;
	}
	return name;
}

typedef struct ranked {
	const Fl__HistoryEvent *e;
	size_t pos; // position in the reply: equal times keep the collector's order
} ranked;

static int
by_time(const void *a, const void *b)
{
	const ranked *x = a, *y = b;
	if (x->e->at_us != y->e->at_us) {
		return x->e->at_us < y->e->at_us ? -1 : 1;
	}
	return x->pos < y->pos ? -1 : (x->pos > y->pos ? 1 : 0);
}

const Fl__HistoryEvent **
fl_history_sorted(const Fl__HistoryReply *r)
{
	ranked                  *v   = malloc((r->n_events + 1) * sizeof(*v));
	const Fl__HistoryEvent **out = malloc((r->n_events + 1) * sizeof(*out));

	if (v == NULL || out == NULL) {
		free(v);
		free(out);
		return NULL;
	}
	for (size_t i = 0; i < r->n_events; i++) {
		v[i].e   = r->events[i];
		v[i].pos = i;
	}
	qsort(v, r->n_events, sizeof(*v), by_time);
	for (size_t i = 0; i < r->n_events; i++) {
		out[i] = v[i].e;
	}
	free(v);
	return out;
}

void
fl_render_history_json(fl_json *j, const Fl__HistoryReply *r)
{
	const Fl__HistoryEvent **v = fl_history_sorted(r);

	if (v == NULL) {
		j->failed = true; // sticky, as for the writer's own allocations
		return;
	}
	fl_json_obj_begin(j);
	fl_json_key(j, "events");
	fl_json_arr_begin(j);
	for (size_t i = 0; i < r->n_events; i++) {
		const Fl__HistoryEvent *e = v[i];
		fl_json_obj_begin(j);
		fl_json_ktime(j, "at", e->at_us);
		fl_json_kstr(j, "host", fl_str_or_empty(e->host));
		fl_json_kstr(j, "kind", fl_history_event_kind(e));
		fl_json_kstr(j, "probe", fl_str_or_empty(e->probe));
		fl_json_kstr(j, "from", fl_str_or_empty(e->from));
		fl_json_kstr(j, "to", fl_str_or_empty(e->to));
		fl_json_kstr(j, "failure", fl_failure_name(e->failure));
		fl_json_kstr(j, "detail", fl_str_or_empty(e->detail));
		fl_json_obj_end(j);
	}
	fl_json_arr_end(j);
	fl_json_obj_end(j);
	free(v);
}

// ---- diagnose --------------------------------------------------------------------------------

static void
strings_json(fl_json *j, const char *key, char **items, size_t n)
{
	fl_json_key(j, key);
	fl_json_arr_begin(j);
	for (size_t i = 0; i < n; i++) {
		fl_json_str(j, fl_str_or_empty(items[i]));
	}
	fl_json_arr_end(j);
}

void
fl_render_diagnose_json(fl_json *j, const Fl__DiagnoseReply *r)
{
	fl_json_obj_begin(j);
	fl_json_kstr(j, "verdict", fl_verdict_name(r->verdict));
	fl_json_kstr(j, "summary", fl_str_or_empty(r->summary));
	fl_json_ktime(j, "since", r->since_us);
	fl_json_key(j, "findings");
	fl_json_arr_begin(j);
	for (size_t i = 0; i < r->n_findings; i++) {
		const Fl__Finding *f = r->findings[i];
		fl_json_obj_begin(j);
		fl_json_kstr(j, "verdict", fl_verdict_name(f->verdict));
		fl_json_kstr(j, "summary", fl_str_or_empty(f->summary));
		strings_json(j, "hosts", f->hosts, f->n_hosts);
		strings_json(j, "targets", f->targets, f->n_targets);
		fl_json_kstr(j, "release", fl_str_or_empty(f->release));
		strings_json(j, "evidence", f->evidence, f->n_evidence);
		fl_json_ktime(j, "since", f->since_us);
		fl_json_kbool(j, "muted", f->muted_by != 0);
		fl_json_kuint(j, "muted_by", f->muted_by);
		fl_json_obj_end(j);
	}
	fl_json_arr_end(j);
	fl_json_obj_end(j);
}

// ---- verify ----------------------------------------------------------------------------------

Fl__VerifyResult
fl_verify_reply_result(const Fl__VerifyReply *r)
{
	int v = r->result_enum == FL__VERIFY_RESULT__VERIFY_RESULT_UNKNOWN && r->result != NULL
	    ? fl_verify_result_parse(r->result)
	    : (int) r->result_enum;
	return v < 0 ? FL__VERIFY_RESULT__VERIFY_RESULT_UNKNOWN : (Fl__VerifyResult) v;
}

Fl__VerifyCheck
fl_verify_reason_check(const Fl__VerifyReason *x)
{
	int v = x->check_enum == FL__VERIFY_CHECK__VERIFY_CHECK_UNKNOWN && x->check != NULL
	    ? fl_verify_check_parse(x->check)
	    : (int) x->check_enum;
	return v < 0 ? FL__VERIFY_CHECK__VERIFY_CHECK_UNKNOWN : (Fl__VerifyCheck) v;
}

static void
json_reason(fl_json *j, const Fl__VerifyReason *r)
{
	fl_json_obj_begin(j);
	fl_json_kstr(j, "check", fl_verify_check_name(fl_verify_reason_check(r)));
	fl_json_kstr(j, "host", r->host);
	fl_json_kstr(j, "probe", r->probe);
	fl_json_kstr(j, "summary", r->summary);
	fl_json_obj_end(j);
}

static void
json_group(fl_json *j, const char *key, const Fl__CanaryGroup *g)
{
	fl_json_key(j, key);
	if (g == NULL) {
		fl_json_null(j);
		return;
	}
	fl_json_obj_begin(j);
	fl_json_kstr(j, "release", g->release);
	fl_json_key(j, "hosts");
	fl_json_arr_begin(j);
	for (size_t i = 0; i < g->n_hosts; i++) {
		fl_json_str(j, g->hosts[i]);
	}
	fl_json_arr_end(j);
	fl_json_kuint(j, "samples", g->samples);
	fl_json_kuint(j, "errors", g->errors);
	fl_json_key(j, "error_rate");
	fl_json_double(j, g->error_rate);
	fl_json_key(j, "median_latency_ms");
	fl_json_double(j, g->median_latency_ms);
	fl_json_obj_end(j);
}

static void
json_probe_side(fl_json *j, const char *key, const Fl__CanaryProbeSide *s)
{
	fl_json_key(j, key);
	if (s == NULL) {
		fl_json_null(j);
		return;
	}
	fl_json_obj_begin(j);
	fl_json_kuint(j, "samples", s->samples);
	fl_json_kuint(j, "errors", s->errors);
	fl_json_kuint(j, "warns", s->warns);
	fl_json_key(j, "error_rate");
	fl_json_double(j, s->error_rate);
	fl_json_key(j, "warn_rate");
	fl_json_double(j, s->warn_rate);
	fl_json_key(j, "median_latency_ms");
	fl_json_double(j, s->median_latency_ms);
	fl_json_key(j, "p90_latency_ms");
	fl_json_double(j, s->p90_latency_ms);
	fl_json_key(j, "p95_latency_ms");
	fl_json_double(j, s->p95_latency_ms);
	fl_json_obj_end(j);
}

static void
json_canary_probe(fl_json *j, const Fl__CanaryProbe *p)
{
	fl_json_obj_begin(j);
	fl_json_kstr(j, "probe", p->name);
	fl_json_kstr(j, "kind", fl_kind_name(p->kind));
	fl_json_kstr(j, "verdict", p->verdict);
	json_probe_side(j, "candidate", p->candidate);
	json_probe_side(j, "baseline", p->baseline);
	fl_json_kbool(j, "latency_tested", p->latency_tested);
	fl_json_key(j, "p_value");
	fl_json_double(j, p->p_value);
	fl_json_key(j, "tail_p_value");
	fl_json_double(j, p->tail_p_value);
	fl_json_key(j, "median_ratio");
	fl_json_double(j, p->median_ratio);
	fl_json_kstr(j, "summary", p->summary);
	fl_json_obj_end(j);
}

void
fl_render_verify_json(fl_json *j, const char *release, Fl__VerifyResult result, char *const *hosts,
    size_t n_hosts, const Fl__VerifyReply *r, const char *timeout_reason, double elapsed_s)
{
	fl_json_obj_begin(j);
	fl_json_kstr(j, "release", release);
	fl_json_kstr(j, "result", fl_verify_result_name(result));
	fl_json_key(j, "hosts");
	fl_json_arr_begin(j);
	for (size_t i = 0; r != NULL && i < r->n_hosts; i++) {
		fl_json_str(j, r->hosts[i]);
	}
	for (size_t i = 0; r == NULL && i < n_hosts; i++) {
		fl_json_str(j, hosts[i]);
	}
	fl_json_arr_end(j);
	fl_json_key(j, "reasons");
	fl_json_arr_begin(j);
	if (timeout_reason != NULL) {
		Fl__VerifyReason t = FL__VERIFY_REASON__INIT;
		t.check_enum       = FL__VERIFY_CHECK__VERIFY_CHECK_TIMEOUT;
		t.summary          = (char *) timeout_reason;
		json_reason(j, &t);
	}
	for (size_t i = 0; r != NULL && i < r->n_reasons; i++) {
		json_reason(j, r->reasons[i]);
	}
	fl_json_arr_end(j);
	fl_json_key(j, "warnings");
	fl_json_arr_begin(j);
	for (size_t i = 0; r != NULL && i < r->n_warnings; i++) {
		json_reason(j, r->warnings[i]);
	}
	fl_json_arr_end(j);
	fl_json_key(j, "canary");
	if (r != NULL && r->canary != NULL) {
		const Fl__CanaryComparison *c = r->canary;
		fl_json_obj_begin(j);
		fl_json_kbool(j, "compared", c->compared);
		fl_json_kbool(j, "passed", c->passed);
		fl_json_kuint(j, "rounds", c->rounds);
		json_group(j, "candidate", c->candidate);
		json_group(j, "baseline", c->baseline);
		fl_json_key(j, "probes");
		fl_json_arr_begin(j);
		for (size_t i = 0; i < c->n_probes; i++) {
			fl_json_str(j, c->probes[i]);
		}
		fl_json_arr_end(j);
		fl_json_key(j, "max_error_rate_increase");
		fl_json_double(j, c->max_error_rate_increase);
		fl_json_key(j, "max_latency_ratio");
		fl_json_double(j, c->max_latency_ratio);
		fl_json_kuint(j, "latency_slack_ms", c->latency_slack_ms);
		fl_json_kstr(j, "note", c->note);
		fl_json_kstr(j, "verdict", c->verdict);
		fl_json_key(j, "confidence");
		fl_json_double(j, c->confidence);
		fl_json_kuint(j, "min_samples", c->min_samples);
		fl_json_key(j, "per_probe");
		fl_json_arr_begin(j);
		for (size_t i = 0; i < c->n_per_probe; i++) {
			json_canary_probe(j, c->per_probe[i]);
		}
		fl_json_arr_end(j);
		fl_json_obj_end(j);
	} else {
		fl_json_null(j);
	}
	fl_json_key(j, "rollback");
	if (r != NULL && r->rollback != NULL) {
		const Fl__RollbackReadiness *b = r->rollback;
		fl_json_obj_begin(j);
		fl_json_kstr(j, "release", b->release);
		fl_json_kbool(j, "ready", b->ready);
		fl_json_key(j, "hosts");
		fl_json_arr_begin(j);
		for (size_t i = 0; i < b->n_hosts; i++) {
			const Fl__RollbackHost *h = b->hosts[i];
			fl_json_obj_begin(j);
			fl_json_kstr(j, "host", h->host);
			fl_json_kbool(j, "known", h->known);
			fl_json_key(j, "unmet");
			fl_json_arr_begin(j);
			for (size_t k = 0; k < h->n_unmet; k++) {
				fl_render_unmet_json(j, h->unmet[k]);
			}
			fl_json_arr_end(j);
			fl_json_key(j, "errors");
			fl_json_arr_begin(j);
			for (size_t k = 0; k < h->n_errors; k++) {
				fl_json_str(j, h->errors[k]);
			}
			fl_json_arr_end(j);
			fl_json_obj_end(j);
		}
		fl_json_arr_end(j);
		fl_json_obj_end(j);
	} else {
		fl_json_null(j);
	}
	fl_json_key(j, "elapsed_s");
	fl_json_double(j, elapsed_s);
	fl_json_obj_end(j);
}
