// render_bench.c - the CPU cost of one /metrics scrape, measured on this thread's CPU clock (so
// other load on the machine does not inflate it): a real collector state of HOSTS x PROBES
// (coll_state_apply of generated reports, each probe with 4 phase timings), then ROUNDS times
// the exporter's snapshot (state lock held: the copy) and the rendering (lock released).
//
//   render_bench [HOSTS] [PROBES] [ROUNDS]        defaults 5000 20 10
//
// Prints the body size, the series count, and per scrape the median and max of: time the state
// lock was held, CPU time of the whole snapshot, CPU time of the rendering. What a scrape every
// second costs the collector is (snapshot + render) CPU per second; what it costs ingest
// directly is the lock time, during which reports wait to be applied.

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coll_testutil.h"
#include "exporter.h"
#include "fl/time.h"
#include "hub.h"
#include "metrics.h"

static double
cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;
	return x < y ? -1 : x > y;
}

static void
fill(coll_server *srv, int hosts, int probes)
{
	tu_probe *pv = calloc((size_t) probes, sizeof(*pv));
	char    **pn = calloc((size_t) probes, sizeof(*pn));
	coll_ops  ops;
	int64_t   now = fl_now_us();

	coll_ops_init(&ops);
	for (int i = 0; i < probes; i++) {
		pn[i] = malloc(32);
		snprintf(pn[i], 32, "probe-%02d", i);
		pv[i] = (tu_probe) { pn[i],
			i % 7 == 0 ? FL__STATUS__STATUS_FAIL : FL__STATUS__STATUS_OK,
			i % 7 == 0 ? FL__FAILURE_CLASS__FAILURE_TIMEOUT
			           : FL__FAILURE_CLASS__FAILURE_NONE,
			(uint32_t) (1000 + 137 * i) };
	}
	for (int h = 0; h < hosts; h++) {
		char host[64];
		snprintf(host, sizeof(host), "host-%05d.dc1.example.com", h);
		tu_rep      d = { .host = host,
			     .release   = "2.4.1",
			     .boot_id   = 1,
			     .seq       = 1,
			     .n         = (size_t) probes,
			     .probes    = pv };
		Fl__Report *r = tu_make(&d);
		for (size_t i = 0; i < r->n_results; i++) { // 4 phases, as an http probe reports
			r->results[i]->timing->dns_us        = 100;
			r->results[i]->timing->connect_us    = 300;
			r->results[i]->timing->first_byte_us = 900;
		}
		coll_state_apply(&srv->state, r, now, &ops);
		coll_ops_clear(&ops);
	}
	coll_ops_fini(&ops);
	for (int i = 0; i < probes; i++) {
		free(pn[i]);
	}
	free(pn);
	free(pv);
}

int
main(int argc, char **argv)
{
	int            hosts  = argc > 1 ? atoi(argv[1]) : 5000;
	int            probes = argc > 2 ? atoi(argv[2]) : 20;
	int            rounds = argc > 3 ? atoi(argv[3]) : 10;
	coll_server   *srv    = calloc(1, sizeof(*srv));
	coll_exporter *e;
	char           err[256], db[64];
	double        *lock = calloc((size_t) rounds, sizeof(double));
	double        *snap = calloc((size_t) rounds, sizeof(double));
	double        *rend = calloc((size_t) rounds, sizeof(double));
	size_t         body = 0, series = 0;

	snprintf(db, sizeof(db), "/tmp/render-bench-%d.db", (int) getpid());
	coll_config_defaults(&srv->cfg);
	snprintf(srv->cfg.state, sizeof(srv->cfg.state), "%s", db);
	srv->cfg.http[0] = '\0';
	pthread_mutex_init(&srv->lock, NULL);
	coll_state_init(&srv->state, fl_now_us());
	srv->state.max_hosts = (size_t) hosts;
	fill(srv, hosts, probes);
	if (coll_exporter_start(srv, &e, err, sizeof(err)) != 0) {
		fprintf(stderr, "render_bench: %s\n", err);
		return 1;
	}
	for (int i = 0; i < rounds; i++) {
		coll_metrics_snapshot s;
		coll_text             t;
		coll_metrics_snapshot_init(&s);
		coll_text_init(&t);
		double c0 = cpu_s();
		if (coll_exporter_snapshot(e, &s) != 0) {
			fprintf(stderr, "render_bench: snapshot failed\n");
			return 1;
		}
		double c1 = cpu_s();
		coll_metrics_render(&s, &t);
		double c2 = cpu_s();
		lock[i]   = s.snapshot_lock_s;
		coll_metrics_snapshot_fini(&s);
		snap[i] = c1 - c0;
		rend[i] = c2 - c1;
		body    = t.len;
		series  = 0;
		for (const char *p = t.buf; p != NULL && *p; p = strchr(p, '\n') + 1) {
			series += *p != '#';
			if (strchr(p, '\n') == NULL) {
				break;
			}
		}
		coll_text_fini(&t);
	}
	qsort(lock, (size_t) rounds, sizeof(double), cmp_double);
	qsort(snap, (size_t) rounds, sizeof(double), cmp_double);
	qsort(rend, (size_t) rounds, sizeof(double), cmp_double);
	printf("%d hosts x %d probes: body %zu bytes, %zu series\n", hosts, probes, body, series);
	printf("per scrape (median / max of %d): state lock held %.1f / %.1f ms; snapshot CPU "
	       "%.1f / %.1f ms; render CPU %.1f / %.1f ms\n",
	    rounds, 1e3 * lock[rounds / 2], 1e3 * lock[rounds - 1], 1e3 * snap[rounds / 2],
	    1e3 * snap[rounds - 1], 1e3 * rend[rounds / 2], 1e3 * rend[rounds - 1]);
	coll_exporter_stop(e);
	coll_state_fini(&srv->state);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
	free(lock);
	free(snap);
	free(rend);
	unlink(db);
	return 0;
}
