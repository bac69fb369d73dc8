// loadgen.c - collector ingest benchmark: N simulated hosts x M probes PUSH reports over real
// nng to a running faultline-collector; measures results/s decoded and applied, and the
// collector's CPU and RSS from /proc. In the same run, a decode-only loop over the same bytes
// gives the floor (what protobuf decoding + validation alone costs per result on one core).
//
//   loadgen -l URL -C CONTROL_URL -p COLLECTOR_PID [-n HOSTS] [-m PROBES] [-d SECONDS]
//           [-c CONNECTIONS] [-f FAIL_PERMILLE] [-a] [-i INTERVAL_MS] [-k] [-x]
//
// Every report carries a fresh seq, so none is dropped as a duplicate; a small share of
// probes flip status (-f, default 1 per mille) so the store sees real transitions.
//
// Modes for the load and reliability tests:
//   -a              one nng socket (one connection) per simulated agent instead of -c shared ones
//   -i INTERVAL_MS  pace: each agent sends one report per interval (default 0: as fast as
//                   possible, a flood); reports carry this interval
//   -k              keep going when the collector is away or refuses (sends are non-blocking and
//                   a refused one is counted, not fatal); do not wait for every report at the end
//   -x              skip the decode-only floor
//   -b BOOT_ID      the agents' boot id (default 7): a later run against the same collector with
//                   another one is a restart of every agent, not a flood of duplicates
//   -N              probes target names (http://svcNN.internal:8080/health) that resolved to two
//                   addresses each, as agents report for a target given by name
//   -V              validate the run (bench/collector/scale.sh): at the end every simulated host
//                   is known to the collector and not stale, and nothing was dropped or refused;
//                   exit 1 (saying what failed) otherwise
// Progress: "round N sent" is printed (and flushed) after each round, so a script can wait for
// the first full round before it queries the collector.
// While it runs, the collector's RSS is sampled every 100 ms (before the connections, start with
// them open, peak, end are printed) and the drop counters are printed per reason. The collector's
// stats are read with a status query for no host, so polling costs the collector nothing per host.
//
// Reports are packed once per host and re-packed only when a probe flips; each send appends
// a short second encoding of seq, sent_us and round_started_us (protobuf: the last value
// wins), exactly as the agent's spool does, so the generator is not the bottleneck.

#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/supplemental/util/platform.h>

#include "coll_testutil.h"
#include "fl/limits.h"
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

typedef struct sampler {
	int         pid;
	atomic_int  stop;
	atomic_long peak_kib;
	pthread_t   tid;
} sampler;

static void *
sampler_main(void *arg)
{
	sampler *sp = arg;
	while (!atomic_load(&sp->stop)) {
		proc_sample ps;
		if (sample(sp->pid, &ps) == 0 && ps.rss_kib > atomic_load(&sp->peak_kib)) {
			atomic_store(&sp->peak_kib, ps.rss_kib);
		}
		nng_msleep(100);
	}
	return NULL;
}

// Sends body + a tail carrying seq and times. 0 or an NNG_E* error.
static int
send_report(nng_socket s, const uint8_t *body, size_t len, uint64_t seq, int64_t now, int flags)
{
	Fl__Report tail = FL__REPORT__INIT;
	uint8_t    tbuf[64];
	size_t     tlen;
	nng_msg   *msg;
	int        rv;

	tail.seq              = seq;
	tail.sent_us          = now;
	tail.round_started_us = now;
	tlen                  = fl__report__pack(&tail, tbuf);
	if ((rv = nng_msg_alloc(&msg, 0)) != 0) {
		return rv;
	}
	if ((rv = nng_msg_append(msg, body, len)) != 0 ||
	    (rv = nng_msg_append(msg, tbuf, tlen)) != 0 || (rv = nng_sendmsg(s, msg, flags)) != 0) {
		nng_msg_free(msg); // nng_sendmsg takes msg only on success
		return rv;
	}
	return 0;
}

// The collector's stats without its hosts: a status query naming no host it knows. 0 or NNG_E*.
static int
stats_only(const char *control, Fl__CollectorStats *out)
{
	Fl__Request     req = FL__REQUEST__INIT;
	Fl__StatusQuery q   = FL__STATUS_QUERY__INIT;
	Fl__Response   *resp;
	int             rv;

	q.host             = (char *) "loadgen-asks-for-stats-only"; // borrowed for packing
	req.schema_version = FL_SCHEMA_VERSION;
	req.query_case     = FL__REQUEST__QUERY_STATUS;
	req.status         = &q;
	if ((rv = tu_query(control, &req, &resp)) != 0) {
		return rv;
	}
	if (resp->reply_case != FL__RESPONSE__REPLY_STATUS || resp->status->stats == NULL) {
		fl__response__free_unpacked(resp, NULL);
		return NNG_EPROTO;
	}
	*out                       = *resp->status->stats;
	out->base.unknown_fields   = NULL;
	out->base.n_unknown_fields = 0;
	fl__response__free_unpacked(resp, NULL);
	return 0;
}

// Pages through the collector's status: how many hosts named bench-host-* it knows (*known) and
// how many of those are stale (*stale). 0 or NNG_E*.
static int
count_hosts(const char *control, size_t *known, size_t *stale)
{
	char after[256] = "";
	*known = *stale = 0;
	for (;;) {
		Fl__Request     req = FL__REQUEST__INIT;
		Fl__StatusQuery q   = FL__STATUS_QUERY__INIT;
		Fl__Response   *resp;
		int             rv;
		bool            more;

		q.after_host       = after; // borrowed for packing
		q.page_bytes       = 32u * FL_WIRE_MAX_MSG;
		req.schema_version = FL_SCHEMA_VERSION;
		req.query_case     = FL__REQUEST__QUERY_STATUS;
		req.status         = &q;
		if ((rv = tu_query(control, &req, &resp)) != 0) {
			return rv;
		}
		if (resp->reply_case != FL__RESPONSE__REPLY_STATUS) {
			fl__response__free_unpacked(resp, NULL);
			return NNG_EPROTO;
		}
		const Fl__StatusReply *st = resp->status;
		for (size_t i = 0; i < st->n_hosts; i++) {
			if (strncmp(st->hosts[i]->host, "bench-host-", 11) == 0) {
				(*known)++;
				*stale += st->hosts[i]->stale ? 1 : 0;
			}
		}
		more = st->more && st->n_hosts > 0;
		if (more) {
			snprintf(after, sizeof(after), "%s", st->hosts[st->n_hosts - 1]->host);
		}
		fl__response__free_unpacked(resp, NULL);
		if (!more) {
			return 0;
		}
	}
}

int
main(int argc, char **argv)
{
	const char *url = NULL, *control = NULL;
	int         pid = 0, hosts = 2000, probes = 20, seconds = 10, conns = 4, fail_pm = 1;
	int         opt, interval_ms = 0;
	uint64_t    boot_id   = 7;
	bool        per_agent = false, keep_going = false, floor = true, validate = false;
	bool        named = false;

	while ((opt = getopt(argc, argv, "l:C:p:n:m:d:c:f:ai:kxb:VN")) != -1) {
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
		case 'a':
			per_agent = true;
			break;
		case 'i':
			interval_ms = atoi(optarg);
			break;
		case 'k':
			keep_going = true;
			break;
		case 'x':
			floor = false;
			break;
		case 'b':
			boot_id = strtoull(optarg, NULL, 10);
			break;
		case 'V':
			validate = true;
			break;
		case 'N':
			named = true;
			break;
		default:
			fprintf(stderr,
			    "usage: loadgen -l URL -C CONTROL -p PID [-n hosts] [-m probes] "
			    "[-d seconds] [-c connections] [-f fail_permille] [-a] [-i "
			    "interval_ms] "
			    "[-k] [-x] [-b boot_id] [-V] [-N]\n");
			return 2;
		}
	}
	if (url == NULL || control == NULL || pid <= 0 || hosts < 1 || probes < 1 || probes > 256 ||
	    conns < 1 || conns > 20000 || interval_ms < 0) {
		fprintf(stderr, "loadgen: -l, -C and -p are required (see the header comment)\n");
		return 2;
	}

	// Probe names and host names, built once.
	tu_probe *pv     = calloc((size_t) probes, sizeof(*pv));
	char(*pn)[16]    = calloc((size_t) probes, sizeof(*pn));
	char(*hn)[32]    = calloc((size_t) hosts, sizeof(*hn));
	char(*tn)[64]    = calloc((size_t) probes, sizeof(*tn));
	char(*rn)[32]    = calloc((size_t) probes, sizeof(*rn));
	char(*an)[2][16] = calloc((size_t) probes, sizeof(*an));
	const char **av  = calloc((size_t) probes * 2, sizeof(*av));
	tu_name     *nv  = calloc((size_t) probes, sizeof(*nv));
	for (int i = 0; i < probes; i++) {
		snprintf(pn[i], sizeof(pn[i]), "probe%02d", i);
		pv[i] = (tu_probe) { pn[i], FL__STATUS__STATUS_OK, 0, 1500 + (uint32_t) i };
		if (named) {
			snprintf(rn[i], sizeof(rn[i]), "svc%02d.internal", i);
			snprintf(tn[i], sizeof(tn[i]), "http://%s:8080/health", rn[i]);
			snprintf(an[i][0], sizeof(an[i][0]), "10.1.0.%d", i % 250 + 1);
			snprintf(an[i][1], sizeof(an[i][1]), "10.2.0.%d", i % 250 + 1);
			av[2 * i]     = an[i][0];
			av[2 * i + 1] = an[i][1];
			nv[i]         = (tu_name) { tn[i], rn[i], &av[2 * i], 2 };
		}
	}
	for (int i = 0; i < hosts; i++) {
		snprintf(hn[i], sizeof(hn[i]), "bench-host-%05d", i);
	}

	// Floor: decode + validate + free the same kind of report in a tight loop, 2 s.
	if (floor) {
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

	proc_sample idle;
	if (sample(pid, &idle) != 0) {
		fprintf(stderr, "loadgen: cannot read /proc/%d\n", pid);
		return 1;
	}
	if (per_agent) {
		conns = hosts;
	}
	nng_socket *socks = calloc((size_t) conns, sizeof(*socks));
	for (int i = 0; i < conns; i++) {
		int rv;
		if (keep_going) {
			// Dial in the background: the collector may be down now or later.
			if ((rv = nng_push0_open(&socks[i])) == 0) {
				nng_socket_set_ms(socks[i], NNG_OPT_RECONNMINT, 100);
				nng_socket_set_ms(socks[i], NNG_OPT_RECONNMAXT, 1000);
				rv = nng_dial(socks[i], url, NULL, NNG_FLAG_NONBLOCK);
			}
		} else {
			rv = tu_push_open(url, &socks[i]);
		}
		if (rv != 0) {
			fprintf(stderr, "loadgen: cannot dial %s: %s\n", url, nng_strerror(rv));
			return 1;
		}
	}
	if ((per_agent || conns > 64) && !keep_going) {
		nng_msleep(500); // let the last connections settle
	}
	Fl__CollectorStats s0, s1;
	proc_sample        p0, p1;
	memset(&s0, 0, sizeof(s0));
	if ((stats_only(control, &s0) != 0 && !keep_going) || sample(pid, &p0) != 0) {
		fprintf(stderr, "loadgen: cannot read collector stats or /proc/%d\n", pid);
		return 1;
	}
	sampler sp = { .pid = pid };
	atomic_store(&sp.peak_kib, p0.rss_kib);
	pthread_create(&sp.tid, NULL, sampler_main, &sp);
	uint64_t *seq     = calloc((size_t) hosts, sizeof(*seq));
	uint8_t  *failing = calloc((size_t) hosts * (size_t) probes, 1);
	uint8_t **body    = calloc((size_t) hosts, sizeof(*body));
	size_t   *blen    = calloc((size_t) hosts, sizeof(*blen));
	int64_t   t0      = fl_mono_us();
	uint64_t  sent = 0, refused = 0;
	unsigned  rnd   = 12345;
	int       flags = keep_going ? NNG_FLAG_NONBLOCK : 0;
	int64_t   round = 0;
	while (fl_mono_us() - t0 < (int64_t) seconds * 1000000) {
		int64_t round_start = t0 + round * (int64_t) interval_ms * 1000;
		round++;
		for (int h = 0; h < hosts; h++) {
			if (interval_ms > 0) {
				// Spread each round's reports evenly over the interval.
				int64_t due =
				    round_start + (int64_t) interval_ms * 1000 * h / hosts;
				int64_t now = fl_mono_us();
				if (due > now) {
					nng_msleep((nng_duration) ((due - now + 999) / 1000));
				}
			}
			bool flipped = body[h] == NULL;
			// A few probes flip status so transitions reach SQLite as in real life;
			// each host keeps its own statuses.
			uint8_t *fs = &failing[(size_t) h * (size_t) probes];
			for (int i = 0; i < probes; i++) {
				rnd = rnd * 1103515245u + 12345u;
				if ((int) ((rnd >> 8) % 1000) < fail_pm) {
					fs[i]   = !fs[i];
					flipped = true;
				}
				pv[i].status =
				    fs[i] ? FL__STATUS__STATUS_FAIL : FL__STATUS__STATUS_OK;
				pv[i].failure = fs[i] ? FL__FAILURE_CLASS__FAILURE_TIMEOUT
				                      : FL__FAILURE_CLASS__FAILURE_NONE;
			}
			int64_t now = fl_now_us();
			if (flipped) {
				tu_rep d = { .host = hn[h],
					.boot_id   = boot_id,
					.seq       = 1,
					.n         = (size_t) probes,
					.probes    = pv,
					.names     = named ? nv : NULL,
					.interval_ms =
					    interval_ms > 0 ? (uint32_t) interval_ms : 5000 };
				free(body[h]);
				body[h] = tu_pack(&d, &blen[h]);
			}
			int rv =
			    send_report(socks[h % conns], body[h], blen[h], ++seq[h], now, flags);
			if (rv == 0) {
				sent++;
			} else if (keep_going) {
				refused++;
			} else {
				fprintf(stderr, "loadgen: send failed: %s\n", nng_strerror(rv));
				return 1;
			}
		}
		printf("round %lld sent\n", (long long) round);
		fflush(stdout);
	}
	// Wait (up to 30 s) until the collector has taken in everything we sent.
	memset(&s1, 0, sizeof(s1));
	for (int i = 0; i < (keep_going ? 100 : 3000); i++) {
		if (stats_only(control, &s1) == 0 &&
		    s1.reports_received - s0.reports_received >= sent) {
			break;
		}
		nng_msleep(10);
	}
	int64_t t1 = fl_mono_us();
	sample(pid, &p1);
	atomic_store(&sp.stop, 1);
	pthread_join(sp.tid, NULL);
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
	printf("offered %.0f reports/s (%.0f results/s); refused by nng (not sent) %llu\n",
	    (double) (sent + refused) / ((double) seconds),
	    (double) (sent + refused) * probes / ((double) seconds), (unsigned long long) refused);
	printf("dropped: overload=%llu duplicate=%llu undecodable=%llu schema=%llu oversize=%llu "
	       "invalid=%llu; not received by the end=%lld\n",
	    (unsigned long long) (s1.dropped_overload - s0.dropped_overload),
	    (unsigned long long) (s1.dropped_duplicate - s0.dropped_duplicate),
	    (unsigned long long) (s1.dropped_undecodable - s0.dropped_undecodable),
	    (unsigned long long) (s1.dropped_schema - s0.dropped_schema),
	    (unsigned long long) (s1.dropped_oversize - s0.dropped_oversize),
	    (unsigned long long) (s1.dropped_invalid - s0.dropped_invalid),
	    (long long) sent - (long long) (s1.reports_received - s0.reports_received));
	printf("collector RSS KiB: before connections %ld, start %ld peak %ld end %ld; per host "
	       "(end - start) %.2f KiB, per connection (start - before) %.2f KiB\n",
	    idle.rss_kib, p0.rss_kib, atomic_load(&sp.peak_kib), p1.rss_kib,
	    (double) (p1.rss_kib - p0.rss_kib) / hosts,
	    (double) (p0.rss_kib - idle.rss_kib) / conns);
	int invalid = 0;
	if (validate) {
		size_t   known = 0, stale = 0;
		uint64_t drops = (s1.dropped_overload - s0.dropped_overload) +
		    (s1.dropped_duplicate - s0.dropped_duplicate) +
		    (s1.dropped_undecodable - s0.dropped_undecodable) +
		    (s1.dropped_schema - s0.dropped_schema) +
		    (s1.dropped_oversize - s0.dropped_oversize) +
		    (s1.dropped_invalid - s0.dropped_invalid) +
		    (s1.dropped_host_limit - s0.dropped_host_limit) +
		    (s1.dropped_probe_limit - s0.dropped_probe_limit) +
		    (s1.connections_refused - s0.connections_refused);
		if (count_hosts(control, &known, &stale) != 0) {
			fprintf(stderr, "loadgen: INVALID RUN: cannot page through status\n");
			invalid = 1;
		} else if (known != (size_t) hosts || stale != 0) {
			fprintf(stderr, "loadgen: INVALID RUN: %zu of %d hosts known, %zu stale\n",
			    known, hosts, stale);
			invalid = 1;
		}
		if (drops != 0 || refused != 0 || reports != sent) {
			fprintf(stderr,
			    "loadgen: INVALID RUN: %llu dropped or refused by the collector, %llu "
			    "refused by nng, %llu of %llu reports applied\n",
			    (unsigned long long) drops, (unsigned long long) refused,
			    (unsigned long long) reports, (unsigned long long) sent);
			invalid = 1;
		}
		if (!invalid) {
			printf(
			    "valid run: all %d hosts known and not stale, nothing dropped, every "
			    "report applied\n",
			    hosts);
		}
	}
	for (int i = 0; i < conns; i++) {
		nng_close(socks[i]);
	}
	for (int h = 0; h < hosts; h++) {
		free(body[h]);
	}
	free(body);
	free(blen);
	free(seq);
	free(failing);
	free(socks);
	free(pv);
	free(pn);
	free(hn);
	free(tn);
	free(rn);
	free(an);
	free(av);
	free(nv);
	if (invalid) {
		return 1;
	}
	return keep_going || reports + (s1.dropped_overload - s0.dropped_overload) == sent ? 0 : 1;
}
