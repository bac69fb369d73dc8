// trace_replay.c - runs the correlation engine again over recorded diagnoses.
//
// The collector's FL_TRACE_DIAGNOSE lines (collector/src/trace.h) hold every probe's inputs to
// the engine. replay_trace.sh flattens them with jq into this tool's input, so a rule can be
// measured against every diagnosis a testbed run recorded, not only the one row copied into
// tests/correlate. A developer's tool, not an interface. Input, one token list per line:
//
//   D AT_US
//   P HOST PROBE KIND TARGET STATUS FAILURE STALE DURATION_US CFAIL COK CSLOW BASELINE_US
//     N LETTERS DUR_US... (one line: LETTERS is the window's bit history oldest first, a
//     letter per round as in the trace's rounds_text, 'F' failed, 'S' slow, '.' neither; then
//     the N newest durations, oldest first)
//   E                       (end of the diagnosis: judge it)
//
// Output, one line per diagnosis: AT_US VERDICT HOSTS, HOSTS being every finding's hosts,
// sorted and unique, comma-separated ("-" when none): the scope the testbed's row 8 checks.
// Hosts get release 1.0.0, a 1 s interval and are live unless the trace says stale; streaks
// began CFAIL (CSLOW) seconds before AT_US. Exit 0, or 2 on input it cannot read.

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate.h"
#include "fl/names.h"

#define MAX_HOSTS  16
#define MAX_PROBES 16
#define MAX_LINE   4096

typedef struct rprobe {
	Fl__ProbeResult res;
	corr_window     win;
	char            name[64], target[256];
} rprobe;

typedef struct rhost {
	char       name[64];
	bool       stale;
	size_t     n;
	rprobe     p[MAX_PROBES];
	corr_probe view[MAX_PROBES];
} rhost;

typedef struct replay {
	int64_t at_us;
	size_t  n_hosts;
	rhost   h[MAX_HOSTS];
} replay;

static rhost *
host_named(replay *r, const char *name)
{
	for (size_t i = 0; i < r->n_hosts; i++) {
		if (strcmp(r->h[i].name, name) == 0) {
			return &r->h[i];
		}
	}
	if (r->n_hosts == MAX_HOSTS) {
		return NULL;
	}
	rhost *h = &r->h[r->n_hosts++];
	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	return h;
}

// One P line (after the "P "): false on anything it cannot read.
static bool
read_probe(replay *r, char *line)
{
	char     host[64], name[64], kind[32], target[256], status[32], failure[64];
	char     stale[8], letters[CORR_HISTORY + 1];
	uint64_t dur, cf, cok, cs, n;
	int64_t  base;
	int      used = 0;
	if (sscanf(line,
	        "%63s %63s %31s %255s %31s %63s %7s %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
	        " %" SCNd64 " %" SCNu64 " %64s%n",
	        host, name, kind, target, status, failure, stale, &dur, &cf, &cok, &cs, &base, &n,
	        letters, &used) != 14 ||
	    n > CORR_WINDOW) {
		return false;
	}
	rhost *h = host_named(r, host);
	if (h == NULL || h->n == MAX_PROBES) {
		return false;
	}
	h->stale  = strcmp(stale, "true") == 0;
	rprobe *p = &h->p[h->n];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->target, sizeof(p->target), "%s", target);
	int k = fl_kind_parse(kind), st = fl_status_parse(status), fc = fl_failure_parse(failure);
	if (k < 0 || st < 0 || fc < 0) {
		return false;
	}
	fl__probe_result__init(&p->res);
	p->res.name        = p->name;
	p->res.target      = p->target;
	p->res.kind        = (Fl__ProbeKind) k;
	p->res.status      = (Fl__Status) st;
	p->res.failure     = (Fl__FailureClass) fc;
	p->res.duration_us = dur;
	char *rest         = line + used;
	for (uint64_t i = 0; i < n; i++) {
		char         *end;
		unsigned long d = strtoul(rest, &end, 10);
		if (end == rest) {
			return false;
		}
		p->win.dur_us[i] = (uint32_t) d;
		rest             = end;
	}
	// The bit history: the last letter is the latest round (bit 0).
	size_t rounds = strcmp(letters, "-") == 0 ? 0 : strlen(letters); // "-": no round yet
	for (size_t i = 0; i < rounds; i++) {
		uint64_t bit = (uint64_t) 1 << (rounds - 1 - i);
		p->win.slow |= letters[i] == 'S' ? bit : 0;
		p->win.failed |= letters[i] == 'F' ? bit : 0;
	}
	p->win.n      = (uint8_t) n;
	p->win.next   = (uint8_t) (n % CORR_WINDOW);
	p->win.rounds = (uint8_t) rounds;
	h->view[h->n] = (corr_probe) {
		.last             = &p->res,
		.consecutive_fail = (uint32_t) cf,
		.consecutive_ok   = (uint32_t) cok,
		.consecutive_slow = (uint32_t) cs,
		.failing_since_us = cf > 0 ? r->at_us - (int64_t) cf * 1000000 : 0,
		.baseline_us      = base,
		.release_at_fail  = "",
		.recent           = &p->win,
		.slow_since_us    = cs > 0 ? r->at_us - (int64_t) cs * 1000000 : 0,
	};
	h->n++;
	return true;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

// Judges the diagnosis read so far and prints its line.
static bool
judge(const replay *r)
{
	corr_host hosts[MAX_HOSTS];
	corr_view v;
	memset(&v, 0, sizeof(v));
	for (size_t i = 0; i < r->n_hosts; i++) {
		hosts[i] = (corr_host) { .host = r->h[i].name,
			.release               = "1.0.0",
			.previous_release      = "",
			.release_since_us      = r->at_us - 3600LL * 1000000,
			.last_seen_us          = r->at_us,
			.stale                 = r->h[i].stale,
			.interval_ms           = 1000,
			.expectations_error    = "",
			.n_probes              = r->h[i].n,
			.probes                = r->h[i].view };
	}
	v.now_us = r->at_us;
	corr_params_default(&v.params);
	v.n_hosts            = r->n_hosts;
	v.hosts              = hosts;
	Fl__DiagnoseReply *d = corr_diagnose(&v);
	char              *names[MAX_HOSTS * 8];
	size_t             nn = 0;
	if (d == NULL) {
		return false;
	}
	for (size_t i = 0; i < d->n_findings; i++) {
		for (size_t k = 0; k < d->findings[i]->n_hosts && nn < MAX_HOSTS * 8; k++) {
			names[nn++] = d->findings[i]->hosts[k];
		}
	}
	qsort(names, nn, sizeof(*names), cmp_str);
	printf("%" PRId64 " %s ", r->at_us, fl_verdict_name(d->verdict));
	for (size_t i = 0, out = 0; i < nn; i++) {
		if (i == 0 || strcmp(names[i], names[i - 1]) != 0) {
			printf("%s%s", out++ > 0 ? "," : "", names[i]);
		}
	}
	printf("%s\n", nn == 0 ? "-" : "");
	corr_reply_free(d);
	return true;
}

int
main(void)
{
	static replay r;
	static char   line[MAX_LINE];
	unsigned      lineno = 0;
	while (fgets(line, sizeof(line), stdin) != NULL) {
		lineno++;
		bool ok = true;
		if (line[0] == 'D') {
			memset(&r, 0, sizeof(r));
			ok = sscanf(line + 1, "%" SCNd64, &r.at_us) == 1;
		} else if (line[0] == 'P') {
			ok = read_probe(&r, line + 1);
		} else if (line[0] == 'E') {
			ok = judge(&r);
		}
		if (!ok) {
			fprintf(stderr, "trace_replay: cannot read line %u\n", lineno);
			return 2;
		}
	}
	return 0;
}
