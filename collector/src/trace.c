// trace.c - see trace.h.

#include "trace.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "correlate.h"
#include "fl/json.h"
#include "fl/log.h"
#include "fl/names.h"

// The rounds held, oldest first, in the unit tests' `.rounds` spelling (tests/correlate): a
// letter per round ('F' failed, 'S' slow, '.' neither) and its duration in ms; rounds older
// than the durations held (only their bits are kept) read 0 ms.
static void
trace_rounds_text(fl_json *j, const corr_window *w)
{
	char   text[CORR_HISTORY * 12 + 1] = ""; // "F2000 ": at most 12 each
	size_t len                         = 0;
	for (unsigned k = w->rounds; k-- > 0;) {
		// k rounds before the latest; durations are held for the newest n
		uint64_t bit = (uint64_t) 1 << k;
		char     c   = (w->failed & bit) != 0 ? 'F' : ((w->slow & bit) != 0 ? 'S' : '.');
		uint32_t ms  = 0;
		if (k < w->n) {
			ms = w->dur_us[(w->next + CORR_WINDOW - 1 - k) % CORR_WINDOW] / 1000;
		}
		int n = snprintf(
		    text + len, sizeof(text) - len, "%s%c%u", len > 0 ? " " : "", c, (unsigned) ms);
		if (n < 0 || (size_t) n >= sizeof(text) - len) {
			break;
		}
		len += (size_t) n;
	}
	fl_json_kstr(j, "rounds_text", text);
}

// The window's durations, oldest first (the ring's order is an implementation detail).
static void
trace_window(fl_json *j, const corr_window *w)
{
	fl_json_kuint(j, "n", w->n);
	fl_json_kuint(j, "rounds", w->rounds);
	fl_json_kuint(j, "slow", w->slow);
	fl_json_kuint(j, "failed", w->failed);
	fl_json_key(j, "dur_us");
	fl_json_arr_begin(j);
	for (unsigned i = 0; i < w->n; i++) {
		fl_json_uint(j, w->dur_us[(w->next + CORR_WINDOW - w->n + i) % CORR_WINDOW]);
	}
	fl_json_arr_end(j);
	trace_rounds_text(j, w);
}

static void
trace_probe(fl_json *j, const coll_host *h, const coll_probe *p)
{
	fl_json_obj_begin(j);
	fl_json_kstr(j, "host", h->name);
	fl_json_kstr(j, "probe", p->res.name);
	fl_json_kbool(j, "stale", h->stale);
	if (p->view.last != NULL) {
		fl_json_kstr(j, "kind", fl_kind_name(p->res.kind));
		fl_json_kstr(j, "target", p->res.target);
		fl_json_kstr(j, "status", fl_status_name(p->res.status));
		fl_json_kstr(j, "failure", fl_failure_name(p->res.failure));
		fl_json_kuint(j, "duration_us", p->res.duration_us);
	}
	fl_json_kuint(j, "consecutive_fail", p->view.consecutive_fail);
	fl_json_kuint(j, "consecutive_ok", p->view.consecutive_ok);
	fl_json_kuint(j, "consecutive_slow", p->view.consecutive_slow);
	fl_json_kint(j, "baseline_us", p->ok_samples >= 3 ? p->baseline_us : 0);
	trace_window(j, &p->recent);
	fl_json_obj_end(j);
}

static void
trace_strings(fl_json *j, const char *key, char *const *v, size_t n)
{
	fl_json_key(j, key);
	fl_json_arr_begin(j);
	for (size_t i = 0; i < n; i++) {
		fl_json_str(j, v[i]);
	}
	fl_json_arr_end(j);
}

// Every finding's verdict, hosts and targets: a host named by a finding after the first (a
// busy host's own slow spell beside a lossy path) is what the testbed's scope check fails on.
static void
trace_findings(fl_json *j, const Fl__DiagnoseReply *reply)
{
	fl_json_key(j, "findings");
	fl_json_arr_begin(j);
	for (size_t i = 0; i < reply->n_findings; i++) {
		const Fl__Finding *f = reply->findings[i];
		fl_json_obj_begin(j);
		fl_json_kstr(j, "verdict", fl_verdict_name(f->verdict));
		trace_strings(j, "hosts", f->hosts, f->n_hosts);
		trace_strings(j, "targets", f->targets, f->n_targets);
		fl_json_obj_end(j);
	}
	fl_json_arr_end(j);
}

static void
trace_reply(fl_json *j, const Fl__DiagnoseReply *reply)
{
	fl_json_kstr(j, "verdict", fl_verdict_name(reply->verdict));
	fl_json_kstr(j, "summary", reply->summary);
	fl_json_key(j, "hosts");
	fl_json_arr_begin(j);
	if (reply->n_findings > 0) {
		for (size_t i = 0; i < reply->findings[0]->n_hosts; i++) {
			fl_json_str(j, reply->findings[0]->hosts[i]);
		}
	}
	fl_json_arr_end(j);
	trace_findings(j, reply);
}

void
coll_trace_diagnose(const coll_state *s, int64_t now_us, const Fl__DiagnoseReply *reply)
{
	static bool warned; // one log line, not one per query
	const char *path = getenv("FL_TRACE_DIAGNOSE");
	if (path == NULL || path[0] == '\0' || reply == NULL) {
		return;
	}
	fl_json j;
	fl_json_init(&j, false);
	fl_json_obj_begin(&j);
	fl_json_kint(&j, "at_us", now_us);
	trace_reply(&j, reply);
	fl_json_key(&j, "probes");
	fl_json_arr_begin(&j);
	for (size_t i = 0; i < s->n_hosts; i++) {
		for (size_t k = 0; k < s->hosts[i]->n_probes; k++) {
			trace_probe(&j, s->hosts[i], &s->hosts[i]->probes[k]);
		}
	}
	fl_json_arr_end(&j);
	fl_json_obj_end(&j);
	const char *text = fl_json_text(&j);
	FILE       *f    = text != NULL ? fopen(path, "a") : NULL;
	if (f != NULL) {
		fprintf(f, "%s\n", text);
		fclose(f);
	} else if (!warned) {
		warned = true;
		fl_log(FL_LOG_WARN, "trace", "cannot append to FL_TRACE_DIAGNOSE file %s", path);
	}
	fl_json_fini(&j);
}
