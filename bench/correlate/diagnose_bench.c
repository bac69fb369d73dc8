// diagnose_bench.c - time corr_diagnose on a large synthetic collector view.
//
// Usage: diagnose_bench [HOSTS [PROBES [ROUNDS]]]   (defaults 5000 20 50)
//
// Builds one view of HOSTS hosts x PROBES probes (per host: 4 shared PostgreSQL/MariaDB targets,
// 2 DNS names, the rest app probes on loopback) and times corr_diagnose over ROUNDS calls in
// three scenarios: all healthy; an incident mix (a database down everywhere with app failures
// folded in, a network partition from 10% of the hosts to another database, a release on 20% of
// the hosts breaking one app probe, 1% of the hosts stale); every probe on every host failing
// (the worst case for evidence building); and packet loss with every probe's recent-rounds window
// filled (10% of the hosts losing packets to db0 and db1, another 10% busy: slow spells on db0
// with no loss, the suspects the engine weighs against the lossy paths). Prints min / median /
// max milliseconds per call.

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate.h"
#include "fl/names.h"
#include "fl/time.h"

enum scenario { SC_HEALTHY, SC_INCIDENT, SC_ALL_FAILING, SC_LOSSY };

typedef struct fleet {
	size_t           n_hosts, n_probes;
	corr_host       *hosts;
	corr_probe      *probes;
	Fl__ProbeResult *res;
	corr_window     *wins; // one per probe slot (SC_LOSSY only)
	char (*names)[32];
	char (*targets)[64]; // one per probe slot
	char (*pnames)[32];
} fleet;

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;
	return (x > y) - (x < y);
}

static int
fleet_init(fleet *f, size_t n_hosts, size_t n_probes)
{
	f->n_hosts  = n_hosts;
	f->n_probes = n_probes;
	f->hosts    = calloc(n_hosts, sizeof(*f->hosts));
	f->probes   = calloc(n_hosts * n_probes, sizeof(*f->probes));
	f->res      = calloc(n_hosts * n_probes, sizeof(*f->res));
	f->wins     = calloc(n_hosts * n_probes, sizeof(*f->wins));
	f->names    = calloc(n_hosts, sizeof(*f->names));
	f->targets  = calloc(n_probes, sizeof(*f->targets));
	f->pnames   = calloc(n_probes, sizeof(*f->pnames));
	if (!f->hosts || !f->probes || !f->res || !f->wins || !f->names || !f->targets ||
	    !f->pnames) {
		return -1;
	}
	for (size_t p = 0; p < n_probes; p++) {
		if (p < 4) {
			snprintf(f->targets[p], sizeof(f->targets[p]), "db%zu.internal:%d/app%zu",
			    p, p % 2 ? 3306 : 5432, p);
			snprintf(f->pnames[p], sizeof(f->pnames[p]), "db%zu", p);
		} else if (p < 6) {
			snprintf(f->targets[p], sizeof(f->targets[p]), "name%zu.internal", p);
			snprintf(f->pnames[p], sizeof(f->pnames[p]), "dns%zu", p);
		} else {
			snprintf(f->targets[p], sizeof(f->targets[p]),
			    "http://127.0.0.1:%zu/health", 8000 + p);
			snprintf(f->pnames[p], sizeof(f->pnames[p]), "app%zu", p);
		}
	}
	return 0;
}

// SC_LOSSY: 16 rounds of probe p of host h. Hosts h % 10 == 3 lose packets to db0 and db1
// (rounds that time out or last a lost SYN's second), hosts h % 10 == 5 are busy (db0 slow
// for most rounds, nothing lost); the rest, and every other probe, are fine. Sets the latest
// round's status and duration in r.
static void
fill_window(corr_window *w, Fl__ProbeResult *r, size_t h, size_t p)
{
	static const char lossy[] = "S.F..S.FS..F.S.F", busy[] = "..S.SS.SS.SSS.SS";
	const char       *rounds = "................";
	if (h % 10 == 3 && p < 2) {
		rounds = lossy;
	} else if (h % 10 == 5 && p == 0) {
		rounds = busy;
	}
	memset(w, 0, sizeof(*w));
	for (size_t i = 0; i < CORR_WINDOW; i++) {
		uint32_t d = rounds[i] == 'F' ? 2000000 : (rounds[i] == 'S' ? 1100000 : 3000);
		if (rounds == busy && rounds[i] == 'S') {
			d = 150000 + (uint32_t) (i * 10000);
		}
		corr_window_push(w, d, rounds[i] == 'S', rounds[i] == 'F');
		r->duration_us = d;
		r->status      = rounds[i] == 'F' ? FL__STATUS__STATUS_FAIL : FL__STATUS__STATUS_OK;
		r->failure     = rounds[i] == 'F' ? FL__FAILURE_CLASS__FAILURE_TIMEOUT
		                                  : FL__FAILURE_CLASS__FAILURE_NONE;
	}
}

static void
fleet_fill(fleet *f, enum scenario sc, int64_t now)
{
	for (size_t h = 0; h < f->n_hosts; h++) {
		corr_host *host = &f->hosts[h];
		snprintf(f->names[h], sizeof(f->names[h]), "host%05zu", (h * 7919) % f->n_hosts);
		bool canary = sc == SC_INCIDENT && h % 5 == 0;
		*host       = (corr_host) { .host = f->names[h],
			      .release            = canary ? "2.5.0" : "2.4.0",
			      .previous_release   = canary ? "2.4.0" : "",
			      .release_since_us   = canary ? now - 60000000 : now - 86400000000LL,
			      .last_seen_us       = now - 1000000,
			      .stale              = sc == SC_INCIDENT && h % 100 == 7,
			      .interval_ms        = 1000,
			      .expectations_error = "",
			      .n_probes           = f->n_probes,
			      .probes             = &f->probes[h * f->n_probes] };
		if (host->stale) {
			host->last_seen_us = now - 60000000;
		}
		for (size_t p = 0; p < f->n_probes; p++) {
			Fl__ProbeResult *r = &f->res[h * f->n_probes + p];
			fl__probe_result__init(r);
			r->name        = f->pnames[p];
			r->target      = f->targets[p];
			r->kind        = p < 4
			           ? (p % 2 ? FL__PROBE_KIND__KIND_MYSQL : FL__PROBE_KIND__KIND_POSTGRES)
			           : p < 6 ? FL__PROBE_KIND__KIND_DNS
			                   : FL__PROBE_KIND__KIND_HTTP;
			r->status      = FL__STATUS__STATUS_OK;
			r->duration_us = 3000;
			bool fail      = false;
			if (sc == SC_ALL_FAILING) {
				fail       = true;
				r->failure = FL__FAILURE_CLASS__FAILURE_TIMEOUT;
			} else if (sc == SC_INCIDENT) {
				if (p == 0 || (p == 6 && h % 3 == 0)) {
					fail = true; // db0 down; app6 failing downstream on a third
					r->failure = p == 0 ? FL__FAILURE_CLASS__FAILURE_REFUSED
					                    : FL__FAILURE_CLASS__FAILURE_HTTP_5XX;
				} else if (p == 1 && h % 10 == 3) {
					fail       = true; // network partition to db1
					r->failure = FL__FAILURE_CLASS__FAILURE_TIMEOUT;
				} else if (p == 7 && canary) {
					fail       = true; // release 2.5.0 breaks app7
					r->failure = FL__FAILURE_CLASS__FAILURE_HTTP_5XX;
				}
			}
			if (fail) {
				r->status = FL__STATUS__STATUS_FAIL;
			}
			corr_window *w = NULL;
			if (sc == SC_LOSSY) {
				w = &f->wins[h * f->n_probes + p];
				fill_window(w, r, h, p);
				fail = r->status == FL__STATUS__STATUS_FAIL;
			}
			f->probes[h * f->n_probes + p] = (corr_probe) { .last = r,
				.recent                                       = w,
				.consecutive_fail                             = fail ? 5 : 0,
				.consecutive_ok                               = fail ? 0 : 50,
				.failing_since_us = fail ? now - 5000000 - (int64_t) (h % 1000) : 0,
				.baseline_us      = 3000,
				.release_at_fail  = host->release };
		}
	}
}

static void
run(fleet *f, const char *label, int rounds, int64_t now)
{
	corr_view v = { .now_us = now, .n_hosts = f->n_hosts, .hosts = f->hosts };
	corr_params_default(&v.params);
	double            *ms    = calloc((size_t) rounds, sizeof(*ms));
	Fl__DiagnoseReply *last  = NULL;
	size_t             bytes = 0;
	if (ms == NULL) {
		fprintf(stderr, "diagnose_bench: cannot allocate\n");
		exit(1);
	}
	for (int i = 0; i < rounds; i++) {
		int64_t            t0 = fl_mono_us();
		Fl__DiagnoseReply *r  = corr_diagnose(&v);
		int64_t            t1 = fl_mono_us();
		if (r == NULL) {
			fprintf(stderr, "diagnose_bench: corr_diagnose returned NULL\n");
			exit(1);
		}
		ms[i] = (double) (t1 - t0) / 1000.0;
		if (i == rounds - 1) {
			last  = r;
			bytes = fl__diagnose_reply__get_packed_size(r);
		} else {
			corr_reply_free(r);
		}
	}
	qsort(ms, (size_t) rounds, sizeof(*ms), cmp_double);
	printf("%-12s %zu hosts x %zu probes: min %.2f ms  median %.2f ms  max %.2f ms  "
	       "(%d calls; %zu findings, reply %zu bytes)\n",
	    label, f->n_hosts, f->n_probes, ms[0], ms[rounds / 2], ms[rounds - 1], rounds,
	    last->n_findings, bytes);
	printf("             verdict %s: %s\n", fl_verdict_name(last->verdict), last->summary);
	corr_reply_free(last);
	free(ms);
}

int
main(int argc, char **argv)
{
	size_t n_hosts  = argc > 1 ? strtoul(argv[1], NULL, 10) : 5000;
	size_t n_probes = argc > 2 ? strtoul(argv[2], NULL, 10) : 20;
	int    rounds   = argc > 3 ? atoi(argv[3]) : 50;
	if (n_hosts == 0 || n_probes < 8 || rounds <= 0) {
		fprintf(stderr, "usage: diagnose_bench [HOSTS [PROBES>=8 [ROUNDS]]]\n");
		return 2;
	}
	fleet   f   = { 0 };
	int64_t now = 1800000000000000LL;
	if (fleet_init(&f, n_hosts, n_probes) != 0) {
		fprintf(stderr, "diagnose_bench: cannot allocate\n");
		return 1;
	}
	fleet_fill(&f, SC_HEALTHY, now);
	run(&f, "healthy", rounds, now);
	fleet_fill(&f, SC_INCIDENT, now);
	run(&f, "incident", rounds, now);
	fleet_fill(&f, SC_ALL_FAILING, now);
	run(&f, "all-failing", rounds, now);
	fleet_fill(&f, SC_LOSSY, now);
	run(&f, "lossy", rounds, now);
	free(f.hosts);
	free(f.wins);
	free(f.probes);
	free(f.res);
	free(f.names);
	free(f.targets);
	free(f.pnames);
	return 0;
}
