// loadgen.c - collector ingest benchmark: N simulated hosts x M probes PUSH reports over real
// nng to a running faultline-collector; measures results/s decoded and applied, and the
// collector's CPU and RSS from /proc. In the same run, a decode-only loop over the same bytes
// gives the floor (what protobuf decoding + validation alone costs per result on one core).
//
//   loadgen -l URL -C CONTROL_URL -p COLLECTOR_PID [-n HOSTS] [-m PROBES] [-d SECONDS]
//           [-c CONNECTIONS] [-f FAIL_PERMILLE]
//
// Every report carries a fresh seq, so none is dropped as a duplicate; a small share of
// probes flip status (-f, default 1 per mille) so the store sees real transitions.

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/supplemental/util/platform.h>

#include "coll_testutil.h"
#include "fl/time.h"
#include "fl/wire.h"

typedef struct proc_sample {
	double cpu_s;
	long   rss_kib;
} proc_sample;

static int
sample(int pid, proc_sample *out)
{
	char               path[64], buf[2048];
	FILE              *f;
	unsigned long long ut, st;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL || fgets(buf, sizeof(buf), f) == NULL) {
		if (f) {
			fclose(f);
		}
		return -1;
	}
	fclose(f);
	// Fields 14 and 15 (utime, stime) follow the ")" that ends the command name.
	char *p = strrchr(buf, ')');
	if (p == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) {
		return -1;
	}
	out->cpu_s = (double) (ut + st) / (double) sysconf(_SC_CLK_TCK);
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	out->rss_kib = 0;
	if ((f = fopen(path, "r")) != NULL) {
		while (fgets(buf, sizeof(buf), f) != NULL) {
			if (strncmp(buf, "VmRSS:", 6) == 0) {
				out->rss_kib = atol(buf + 6);
			}
		}
		fclose(f);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *url = NULL, *control = NULL;
	int         pid = 0, hosts = 2000, probes = 20, seconds = 10, conns = 4, fail_pm = 1;
	int         opt;

	while ((opt = getopt(argc, argv, "l:C:p:n:m:d:c:f:")) != -1) {
		switch (opt) {
		case 'l':
			url = optarg;
			break;
		case 'C':
			control = optarg;
			break;
		case 'p':
			pid = atoi(optarg);
			break;
		case 'n':
			hosts = atoi(optarg);
			break;
		case 'm':
			probes = atoi(optarg);
			break;
		case 'd':
			seconds = atoi(optarg);
			break;
		case 'c':
			conns = atoi(optarg);
			break;
		case 'f':
			fail_pm = atoi(optarg);
			break;
		default:
			fprintf(stderr,
			    "usage: loadgen -l URL -C CONTROL -p PID [-n hosts] [-m probes] "
			    "[-d seconds] [-c connections] [-f fail_permille]\n");
			return 2;
		}
	}
	if (url == NULL || control == NULL || pid <= 0 || hosts < 1 || probes < 1 || probes > 256 ||
	    conns < 1 || conns > 64) {
		fprintf(stderr, "loadgen: -l, -C and -p are required (see the header comment)\n");
		return 2;
	}

	// Probe names and host names, built once.
	tu_probe *pv  = calloc((size_t) probes, sizeof(*pv));
	char(*pn)[16] = calloc((size_t) probes, sizeof(*pn));
	char(*hn)[32] = calloc((size_t) hosts, sizeof(*hn));
	for (int i = 0; i < probes; i++) {
		snprintf(pn[i], sizeof(pn[i]), "probe%02d", i);
		pv[i] = (tu_probe) { pn[i], FL__STATUS__STATUS_OK, 0, 1500 + (uint32_t) i };
	}
	for (int i = 0; i < hosts; i++) {
		snprintf(hn[i], sizeof(hn[i]), "bench-host-%05d", i);
	}

	// Floor: decode + validate + free the same kind of report in a tight loop, 2 s.
	{
		size_t   len;
		tu_rep   d   = { .host        = hn[0],
			    .boot_id          = 1,
			    .seq              = 1,
			    .n                = (size_t) probes,
			    .probes           = pv,
			    .sent_us          = fl_now_us(),
			    .round_started_us = fl_now_us() };
		uint8_t *buf = tu_pack(&d, &len);
		int64_t  t0  = fl_mono_us();
		long     n   = 0;
		while (fl_mono_us() - t0 < 2000000) {
			for (int k = 0; k < 100; k++, n++) {
				Fl__Report *r;
				if (fl_wire_decode_report(buf, len, &r, NULL, 0) != FL_WIRE_OK) {
					fprintf(stderr, "loadgen: own report does not decode\n");
					return 1;
				}
				fl__report__free_unpacked(r, NULL);
			}
		}
		double s = (double) (fl_mono_us() - t0) / 1e6;
		printf("floor decode-only: %.0f results/s on one core (%zu-byte reports of %d "
		       "results)\n",
		    (double) n * probes / s, len, probes);
		free(buf);
	}

	nng_socket *socks = calloc((size_t) conns, sizeof(*socks));
	for (int i = 0; i < conns; i++) {
		int rv;
		if ((rv = tu_push_open(url, &socks[i])) != 0) {
			fprintf(stderr, "loadgen: cannot dial %s: %s\n", url, nng_strerror(rv));
			return 1;
		}
	}
	Fl__CollectorStats s0, s1;
	proc_sample        p0, p1;
	if (tu_stats(control, &s0, NULL) != 0 || sample(pid, &p0) != 0) {
		fprintf(stderr, "loadgen: cannot read collector stats or /proc/%d\n", pid);
		return 1;
	}
	uint64_t *seq     = calloc((size_t) hosts, sizeof(*seq));
	uint8_t  *failing = calloc((size_t) hosts * (size_t) probes, 1);
	int64_t   t0      = fl_mono_us();
	uint64_t  sent    = 0;
	unsigned  rnd     = 12345;
	while (fl_mono_us() - t0 < (int64_t) seconds * 1000000) {
		for (int h = 0; h < hosts; h++) {
			size_t len;
			// A few probes flip status so transitions reach SQLite as in real life;
			// each host keeps its own statuses.
			uint8_t *fs = &failing[(size_t) h * (size_t) probes];
			for (int i = 0; i < probes; i++) {
				rnd = rnd * 1103515245u + 12345u;
				if ((int) ((rnd >> 8) % 1000) < fail_pm) {
					fs[i] = !fs[i];
				}
				pv[i].status =
				    fs[i] ? FL__STATUS__STATUS_FAIL : FL__STATUS__STATUS_OK;
				pv[i].failure = fs[i] ? FL__FAILURE_CLASS__FAILURE_TIMEOUT
				                      : FL__FAILURE_CLASS__FAILURE_NONE;
			}
			int64_t  now = fl_now_us();
			tu_rep   d   = { .host        = hn[h],
				    .boot_id          = 7,
				    .seq              = ++seq[h],
				    .n                = (size_t) probes,
				    .probes           = pv,
				    .sent_us          = now,
				    .round_started_us = now,
				    .interval_ms      = 5000 };
			uint8_t *buf = tu_pack(&d, &len);
			if (tu_push(socks[h % conns], buf, len) != 0) {
				fprintf(stderr, "loadgen: send failed\n");
				return 1;
			}
			free(buf);
			sent++;
		}
	}
	// Wait (up to 30 s) until the collector has taken in everything we sent.
	for (int i = 0; i < 3000; i++) {
		if (tu_stats(control, &s1, NULL) == 0 &&
		    s1.reports_received - s0.reports_received >= sent) {
			break;
		}
		nng_msleep(10);
	}
	int64_t t1 = fl_mono_us();
	sample(pid, &p1);
	double   wall    = (double) (t1 - t0) / 1e6;
	double   cpu     = p1.cpu_s - p0.cpu_s;
	uint64_t results = s1.results_applied - s0.results_applied;
	uint64_t reports = s1.reports_applied - s0.reports_applied;
	printf("hosts=%d probes=%d connections=%d sent=%llu reports applied=%llu results=%llu "
	       "duplicates=%llu\n",
	    hosts, probes, conns, (unsigned long long) sent, (unsigned long long) reports,
	    (unsigned long long) results,
	    (unsigned long long) (s1.dropped_duplicate - s0.dropped_duplicate));
	printf("wall %.2f s: %.0f results/s applied; collector CPU %.2f s (%.0f%% of one core) "
	       "=> %.0f results per CPU-second; RSS %ld KiB\n",
	    wall, (double) results / wall, cpu, 100.0 * cpu / wall,
	    cpu > 0 ? (double) results / cpu : 0.0, p1.rss_kib);
	for (int i = 0; i < conns; i++) {
		nng_close(socks[i]);
	}
	free(seq);
	free(failing);
	free(socks);
	free(pv);
	free(pn);
	free(hn);
	return reports == sent ? 0 : 1;
}
