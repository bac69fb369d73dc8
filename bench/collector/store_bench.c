// store_bench.c - the store's write, load, query and prune costs on either engine.
//
// Usage: store_bench TARGET [HOSTS [PROBES [BATCHES]]]   (defaults 2000 20 50)
//
// TARGET is a SQLite path (created; removed first) or a PostgreSQL URI / conninfo, whose
// password is read from the file named by FL_BENCH_PASSWORD_FILE (the database is emptied of
// the store's tables first). Writes HOSTS hosts (a HOST op each), then HOSTS x PROBES latest
// rows, then BATCHES batches of one transition per host (a LATEST op and an EVENT op each: what
// ingest writes when every host flips one probe), and times: ops/s of those batches, a load of
// the whole state, a history query of the newest 1000 events (all hosts, one host, a label
// filter of 100 hosts), and pruning everything in 50,000-event batches. The writes run twice,
// each on an emptied database: one row a statement (the store before multi-row writes), then
// COLL_ROWS_DEFAULT rows a statement, and the ratio of their rows/s is printed. Wall time: run it
// on an idle machine. docs/store.md has the figures.

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fl/names.h"
#include "sql.h"
#include "store.h"
#include "store_rows.h"

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

typedef struct counts {
	size_t hosts, latest;
} counts;

static int
count_host(void *arg, const coll_host_row *r)
{
	(void) r;
	((counts *) arg)->hosts++;
	return 0;
}

static int
count_latest(void *arg, const coll_latest_row *r)
{
	(void) r;
	((counts *) arg)->latest++;
	return 0;
}

static void
die(const char *what)
{
	fprintf(stderr, "store_bench: %s\n", what);
	exit(1);
}

static void
empty_target(const fl_sql_opts *o)
{
	fl_sql *db;
	char    err[512];

	if (fl_sql_target_engine(o->target) == FL_SQL_SQLITE) {
		char p[1100];
		unlink(o->target);
		snprintf(p, sizeof(p), "%s-wal", o->target);
		unlink(p);
		snprintf(p, sizeof(p), "%s-shm", o->target);
		unlink(p);
		return;
	}
	if (fl_sql_open(o, &db, err, sizeof(err)) != FL_SQL_OK) {
		die(err);
	}
	if (fl_sql_exec(db, "DROP TABLE IF EXISTS hosts, latest, history, fl_schema, fl_lease") !=
	    FL_SQL_OK) {
		die(fl_sql_errmsg(db));
	}
	fl_sql_close(db);
}

static void
time_history(
    coll_store *st, const char *what, const char *host, const char *const *hosts, size_t n_hosts)
{
	Fl__HistoryReply *r;
	double            t = now_s();
	if (coll_store_history_hosts(st, 0, host, hosts, n_hosts, 1000, &r) != 0) {
		die("history query failed");
	}
	printf("history %-28s %5zu events  %8.2f ms\n", what, r->n_events, (now_s() - t) * 1e3);
	coll_history_reply_free(r);
}

// Writes HOSTS host rows and HOSTS x PROBES latest rows in one transaction, then BATCHES
// transition batches, rows_per_statement rows a statement; prints rows/s of both.
typedef struct write_rates {
	double initial, transitions; // rows/s
} write_rates;

static write_rates
time_writes(
    coll_store *st, unsigned rows_per_statement, size_t n_hosts, size_t n_probes, size_t n_batches)
{
	coll_ops    ops;
	char        host[32], probe[32];
	uint8_t     blob[200];
	double      t;
	write_rates r;
	uint64_t    stmts = coll_store_write_statements(st);

	memset(blob, 0x5a, sizeof(blob));
	coll_ops_init(&ops);
	t = now_s();
	for (size_t h = 0; h < n_hosts; h++) {
		coll_host_row row = { .host = host,
			.release            = "r1",
			.agent_version      = "bench",
			.interval_ms        = 10000,
			.labels             = h % 2 ? "env=prod" : "env=staging" };
		snprintf(host, sizeof(host), "host-%05zu", h);
		if (coll_ops_host(&ops, COLL_OP_HOST, &row) != 0) {
			die("out of memory");
		}
		for (size_t p = 0; p < n_probes; p++) {
			coll_latest_row l = { .host = host,
				.probe              = probe,
				.result             = blob,
				.result_len         = sizeof(blob),
				.status             = 1 };
			snprintf(probe, sizeof(probe), "probe-%02zu", p);
			if (coll_ops_latest(&ops, &l) != 0) {
				die("out of memory");
			}
		}
	}
	if (coll_store_write(st, &ops) != 0) {
		die("initial write failed");
	}
	t         = now_s() - t;
	r.initial = (double) ops.n / t;
	printf("initial write   %3u rows a statement: %zu rows in one transaction  %8.2f s  "
	       "%9.0f rows/s  (%llu statements)\n",
	    rows_per_statement, ops.n, t, r.initial,
	    (unsigned long long) (coll_store_write_statements(st) - stmts));
	coll_ops_clear(&ops);

	t = now_s();
	for (size_t b = 0; b < n_batches; b++) {
		for (size_t h = 0; h < n_hosts; h++) {
			int64_t         at = 1700000000000000LL + (int64_t) (b * n_hosts + h);
			coll_latest_row l  = { .host = host,
				 .probe              = "probe-00",
				 .result             = blob,
				 .result_len         = sizeof(blob),
				 .status             = b % 2 ? 1 : 3,
				 .since_us           = at };
			coll_event      e  = { .at_us = at,
				      .host           = host,
				      .kind           = FL__HISTORY_KIND__HISTORY_KIND_STATUS,
				      .probe          = "probe-00",
				      .from           = b % 2 ? "fail" : "ok",
				      .to             = b % 2 ? "ok" : "fail",
				      .detail         = "503" };
			snprintf(host, sizeof(host), "host-%05zu", h);
			if (coll_ops_latest(&ops, &l) != 0 || coll_ops_event(&ops, &e) != 0) {
				die("out of memory");
			}
		}
		if (coll_store_write(st, &ops) != 0) {
			die("batch write failed");
		}
		coll_ops_clear(&ops);
	}
	t             = now_s() - t;
	r.transitions = (double) (2 * n_hosts * n_batches) / t;
	printf("transitions     %3u rows a statement: %zu batches of %zu rows      %8.2f s  "
	       "%9.0f rows/s\n",
	    rows_per_statement, n_batches, 2 * n_hosts, t, r.transitions);
	coll_ops_fini(&ops);
	return r;
}

int
main(int argc, char **argv)
{
	fl_sql_opts o = { 0 };
	coll_store *st, *ro;
	char        err[512];
	size_t      n_hosts, n_probes, n_batches;
	double      t;
	long        pruned = 0, n;
	write_rates one, many;

	if (argc < 2) {
		die("usage: store_bench TARGET [HOSTS [PROBES [BATCHES]]]");
	}
	o.target        = argv[1];
	o.password_file = getenv("FL_BENCH_PASSWORD_FILE");
	n_hosts         = argc > 2 ? strtoul(argv[2], NULL, 10) : 2000;
	n_probes        = argc > 3 ? strtoul(argv[3], NULL, 10) : 20;
	n_batches       = argc > 4 ? strtoul(argv[4], NULL, 10) : 50;
	printf("engine %s, %zu hosts x %zu probes\n",
	    fl_sql_target_engine(o.target) == FL_SQL_PGSQL ? "postgresql" : "sqlite", n_hosts,
	    n_probes);

	// One row a statement (the store before batching), then the default, each on an empty
	// database: the ratio is what batching buys on this engine.
	empty_target(&o);
	if (coll_store_open(&o, &st, err, sizeof(err)) != 0) {
		die(err);
	}
	if (coll_store_set_rows_per_statement(st, 1) != 0) {
		die("cannot write one row a statement");
	}
	one = time_writes(st, 1, n_hosts, n_probes, n_batches);
	coll_store_close(st);
	empty_target(&o);
	if (coll_store_open(&o, &st, err, sizeof(err)) != 0) {
		die(err);
	}
	many = time_writes(st, COLL_ROWS_DEFAULT, n_hosts, n_probes, n_batches);
	printf("batched / one a statement: initial write x%.1f, transitions x%.1f\n",
	    many.initial / one.initial, many.transitions / one.transitions);

	o.readonly = true;
	if (coll_store_open(&o, &ro, err, sizeof(err)) != 0) {
		die(err);
	}
	counts            c  = { 0 };
	coll_store_loader ld = { .on_host = count_host, .on_latest = count_latest, .arg = &c };
	t                    = now_s();
	if (coll_store_load(ro, &ld) != 0) {
		die("load failed");
	}
	printf("load            %zu hosts, %zu latest rows  %8.2f s\n", c.hosts, c.latest,
	    now_s() - t);

	const char *some[100];
	char        names[100][32];
	for (size_t i = 0; i < 100; i++) {
		snprintf(names[i], sizeof(names[i]), "host-%05zu", (i * 7) % n_hosts);
		some[i] = names[i];
	}
	time_history(ro, "(newest 1000, all hosts)", NULL, NULL, 0);
	time_history(ro, "(newest 1000, one host)", "host-00001", NULL, 0);
	time_history(ro, "(newest 1000, 100 hosts)", NULL, some, 100);
	coll_store_close(ro);

	t = now_s();
	while ((n = coll_store_prune(st, INT64_MAX, 50000)) > 0) {
		pruned += n;
	}
	printf("prune           %ld events, 50000 a batch   %8.2f s\n", pruned, now_s() - t);
	coll_store_close(st);
	return 0;
}
