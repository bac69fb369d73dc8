// state_diagnose_bench.c - time a diagnosis of the collector's state, input building included.
//
// Usage: state_diagnose_bench [HOSTS [PROBES [ROUNDS [named]]]]   (defaults 5000 20 50)
// With "named", every probe targets a name that resolved to two addresses (what an agent sends
// for a target given by name), the same on every host.
//
// Fills a coll_state through coll_state_apply (the ingest path) with HOSTS hosts of PROBES
// probes each, three rounds per host (a tenth of the hosts failing one probe, so findings have
// evidence), then times ROUNDS calls of coll_state_diagnose (what `faultline diagnose` and every
// applied report's verdict check run: building the correlation's view of the state, then
// corr_diagnose) and one more round of coll_state_apply per host. Prints min / median / max
// milliseconds of CPU time per diagnose call and the mean CPU microseconds per applied report
// (the work, not the wait: the machine is shared), and the heap the state holds per host (bytes
// in use by malloc after the fill minus before it: the state alone, without nng's buffers).
// docs/benchmarks/correlate.md has the figures.

#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coll_testutil.h"
#include "correlate.h"
#include "state.h"

#define T0  1700000000000000LL
#define SEC 1000000LL

// CPU time of this thread: on a loaded machine wall time mostly measures the other processes.
static int64_t
cpu_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;
	return (x > y) - (x < y);
}

// One round of every host: probe p0..pN, the first failing on every tenth host.
static double
apply_round(coll_state *s, coll_ops *ops, size_t n_hosts, tu_probe *probes, const tu_name *names,
    size_t n_probes, uint64_t seq)
{
	char    host[32];
	int64_t t0 = cpu_us();
	for (size_t h = 0; h < n_hosts; h++) {
		snprintf(host, sizeof(host), "host%05zu", h);
		probes[0].status  = h % 10 == 0 ? FL__STATUS__STATUS_FAIL : FL__STATUS__STATUS_OK;
		probes[0].failure = h % 10 == 0 ? FL__FAILURE_CLASS__FAILURE_TIMEOUT
		                                : FL__FAILURE_CLASS__FAILURE_NONE;
		tu_rep d          = { .host = host,
			         .boot_id   = 1,
			         .seq       = seq,
			         .n         = n_probes,
			         .probes    = probes,
			         .names     = names };
		if (coll_state_apply(s, tu_make(&d), T0 + (int64_t) seq * SEC, ops) !=
		    COLL_APPLIED) {
			fprintf(
			    stderr, "state_diagnose_bench: cannot apply a report of %s\n", host);
			exit(1);
		}
		coll_ops_clear(ops);
	}
	return (double) (cpu_us() - t0) / (double) n_hosts;
}

int
main(int argc, char **argv)
{
	size_t     n_hosts  = argc > 1 ? strtoul(argv[1], NULL, 10) : 5000;
	size_t     n_probes = argc > 2 ? strtoul(argv[2], NULL, 10) : 20;
	int        rounds   = argc > 3 ? atoi(argv[3]) : 50;
	bool       named    = argc > 4 && strcmp(argv[4], "named") == 0;
	coll_state s;
	coll_ops   ops;
	tu_probe  *probes                = calloc(n_probes ? n_probes : 1, sizeof(*probes));
	char(*names)[24]                 = calloc(n_probes ? n_probes : 1, sizeof(*names));
	char(*targets)[64]               = calloc(n_probes ? n_probes : 1, sizeof(*targets));
	char(*rnames)[48]                = calloc(n_probes ? n_probes : 1, sizeof(*rnames));
	static const char *const addrs[] = { "10.1.0.7", "10.2.0.7" };
	tu_name                 *nv      = calloc(n_probes ? n_probes : 1, sizeof(*nv));
	double                  *ms      = calloc(rounds > 0 ? (size_t) rounds : 1, sizeof(*ms));
	if (probes == NULL || names == NULL || ms == NULL || n_hosts == 0 || n_probes == 0 ||
	    rounds <= 0) {
		fprintf(stderr, "usage: state_diagnose_bench [HOSTS [PROBES [ROUNDS]]]\n");
		return 2;
	}
	for (size_t p = 0; p < n_probes; p++) {
		snprintf(names[p], sizeof(names[p]), "p%zu", p);
		probes[p] = (tu_probe) { names[p], FL__STATUS__STATUS_OK,
			FL__FAILURE_CLASS__FAILURE_NONE, 1000 + (uint32_t) p };
		if (named) {
			snprintf(rnames[p], sizeof(rnames[p]), "svc%zu.internal", p);
			snprintf(targets[p], sizeof(targets[p]), "http://%s:8080/", rnames[p]);
			nv[p] = (tu_name) { targets[p], rnames[p], addrs, 2 };
		}
	}
	coll_ops_init(&ops);
	size_t heap0 = mallinfo2().uordblks;
	coll_state_init(&s, T0);
	s.max_hosts = n_hosts;
	for (uint64_t seq = 1; seq <= 3; seq++) {
		apply_round(&s, &ops, n_hosts, probes, named ? nv : NULL, n_probes, seq);
	}
	double heap_host = (double) (mallinfo2().uordblks - heap0) / (double) n_hosts;

	size_t findings = 0;
	for (int i = 0; i < rounds; i++) {
		int64_t            t0 = cpu_us();
		Fl__DiagnoseReply *r  = coll_state_diagnose(&s, T0 + 4 * SEC, NULL);
		ms[i]                 = (double) (cpu_us() - t0) / 1000.0;
		if (r == NULL) {
			fprintf(stderr, "state_diagnose_bench: diagnose failed\n");
			return 1;
		}
		findings = r->n_findings;
		corr_reply_free(r);
	}
	qsort(ms, (size_t) rounds, sizeof(*ms), cmp_double);
	double apply_us = apply_round(&s, &ops, n_hosts, probes, named ? nv : NULL, n_probes, 4);
	printf("%zu hosts x %zu probes: diagnose CPU min %.2f ms, median %.2f ms, max %.2f ms (%zu "
	       "findings); apply %.1f us per report; state heap %.0f bytes per host\n",
	    n_hosts, n_probes, ms[0], ms[rounds / 2], ms[rounds - 1], findings, apply_us,
	    heap_host);

	coll_ops_fini(&ops);
	coll_state_fini(&s);
	free(probes);
	free(names);
	free(targets);
	free(nv);
	free(rnames);
	free(ms);
	return 0;
}
