// db_bench.c - CPU per database probe round against the client library's floor, same run.
//
//   db_bench ROUNDS PG_CONNINFO PG_PASSWORD_FILE MY_HOST MY_PORT MY_USER MY_DB MY_PASSWORD_FILE
//            EXPECT_FILE
//
// For each database it alternates blocks of (a) the floor: a minimal client loop of connect +
// `SELECT 1` + disconnect (libpq: PQconnectdbParams/PQexec/PQfinish; libmysqlclient:
// mysql_real_connect/mysql_query/mysql_close), and (b) one probe round (ops->run) with the
// release's expectations for that database, and reports user+system CPU per round from
// getrusage(RUSAGE_SELF), so server CPU is not counted. Blocks alternate so load drift on a
// shared machine hits both sides alike. docs/benchmarks/db.md records figures and the command.

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <libpq-fe.h>
#include <mysql.h>

#include "expect.h"
#include "fl/cfg.h"
#include "fl/time.h"
#include "probe.h"

#define BLOCKS 10

static double
cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	    (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static char        pg_pw[256], my_pw[256];
static const char *pg_conninfo, *my_host, *my_user, *my_db;
static unsigned    my_port;

static int
pg_floor(void)
{
	const char *k[] = { "dbname", "password", NULL };
	const char *v[] = { pg_conninfo, pg_pw, NULL };
	PGconn     *c   = PQconnectdbParams(k, v, 1); // expand_dbname: dbname is the conninfo
	int         ok  = PQstatus(c) == CONNECTION_OK;

	if (ok) {
		PGresult *r = PQexec(c, "SELECT 1");
		ok          = PQresultStatus(r) == PGRES_TUPLES_OK;
		PQclear(r);
	}
	PQfinish(c);
	return ok;
}

static int
my_floor(void)
{
	MYSQL *m  = mysql_init(NULL);
	int    ok = mysql_real_connect(m, my_host, my_user, my_pw, my_db, my_port, NULL, 0) != NULL;

	if (ok && (ok = mysql_query(m, "SELECT 1") == 0)) {
		MYSQL_RES *r = mysql_store_result(m);
		ok           = r != NULL;
		mysql_free_result(r);
	}
	mysql_close(m);
	return ok;
}

static int
probe_round(const agent_probe_ops *ops, void *ctx, const char *name, const agent_round *round)
{
	agent_result res;
	int          ok;

	agent_result_init(&res, name, ops->kind, ops->target(ctx));
	ops->run(ctx, round, &res);
	ok = res.pb.status == FL__STATUS__STATUS_OK && res.pb.requirements_checked > 0;
	if (!ok) {
		fprintf(stderr, "db_bench: probe %s: %s\n", name, res.detail);
	}
	agent_result_fini(&res);
	return ok;
}

static void *
make_probe(const agent_probe_ops *ops, const char *name, const char *const *kv)
{
	void *ctx = ops->alloc(name);
	char  err[256];

	for (; kv[0] != NULL; kv += 2) {
		if (ops->set(ctx, kv[0], kv[1], err, sizeof(err)) != 0) {
			fprintf(stderr, "db_bench: %s: %s\n", kv[0], err);
			exit(2);
		}
	}
	if (ops->validate(ctx, err, sizeof(err)) != 0) {
		fprintf(stderr, "db_bench: %s\n", err);
		exit(2);
	}
	return ctx;
}

static void
compare(const char *label, int rounds, int (*floor_fn)(void), const agent_probe_ops *ops, void *ctx,
    const char *name, const agent_round *round, size_t reqs)
{
	double  floor_cpu = 0, probe_cpu = 0;
	int64_t floor_wall = 0, probe_wall = 0;
	int     per = rounds / BLOCKS > 0 ? rounds / BLOCKS : 1;

	// warm-up: libraries, TLS/SCRAM code paths, server caches
	if (!floor_fn() || !probe_round(ops, ctx, name, round)) {
		fprintf(stderr, "db_bench: %s: warm-up round failed\n", label);
		exit(1);
	}
	for (int b = 0; b < BLOCKS; b++) {
		double  c0 = cpu_ms();
		int64_t w0 = fl_mono_us();
		for (int i = 0; i < per; i++) {
			if (!floor_fn()) {
				fprintf(stderr, "db_bench: %s floor round failed\n", label);
				exit(1);
			}
		}
		floor_cpu += cpu_ms() - c0;
		floor_wall += fl_mono_us() - w0;
		c0 = cpu_ms();
		w0 = fl_mono_us();
		for (int i = 0; i < per; i++) {
			if (!probe_round(ops, ctx, name, round)) {
				exit(1);
			}
		}
		probe_cpu += cpu_ms() - c0;
		probe_wall += fl_mono_us() - w0;
	}
	int n = per * BLOCKS;
	printf("%-8s rounds=%d requirements=%zu  floor: %.3f ms CPU (%.2f ms wall)  probe: %.3f ms "
	       "CPU (%.2f ms wall)  ratio %.2f\n",
	    label, n, reqs, floor_cpu / n, (double) floor_wall / 1e3 / n, probe_cpu / n,
	    (double) probe_wall / 1e3 / n, probe_cpu / floor_cpu);
}

int
main(int argc, char **argv)
{
	agent_expect *e = NULL;
	char          err[512], port[16];
	agent_round   round;
	int           rounds;

	if (argc != 10) {
		fprintf(stderr,
		    "usage: db_bench ROUNDS PG_CONNINFO PG_PASSWORD_FILE MY_HOST MY_PORT "
		    "MY_USER MY_DB MY_PASSWORD_FILE EXPECT_FILE\n");
		return 2;
	}
	rounds      = atoi(argv[1]);
	pg_conninfo = argv[2];
	my_host     = argv[4];
	my_port     = (unsigned) atoi(argv[5]);
	my_user     = argv[6];
	my_db       = argv[7];
	if (fl_cfg_read_secret_file(argv[3], pg_pw, sizeof(pg_pw), err, sizeof(err)) != 0 ||
	    fl_cfg_read_secret_file(argv[8], my_pw, sizeof(my_pw), err, sizeof(err)) != 0 ||
	    agent_expect_load(argv[9], &e, err, sizeof(err)) != 0) {
		fprintf(stderr, "db_bench: %s\n", err);
		return 2;
	}
	round.release = "bench";
	round.expect  = e;
	mysql_library_init(0, NULL, NULL);
	snprintf(port, sizeof(port), "%s", argv[5]);

	const char *pg_kv[] = { "conninfo", argv[2], "password_file", argv[3], NULL };
	const char *my_kv[] = { "host", argv[4], "port", port, "user", argv[6], "database", argv[7],
		"password_file", argv[8], NULL };
	void       *pg      = make_probe(&agent_probe_postgres, "orders", pg_kv);
	void       *my      = make_probe(&agent_probe_mysql, "legacy", my_kv);
	const agent_db_expect *pd = agent_expect_find(e, "postgres", "orders");
	const agent_db_expect *md = agent_expect_find(e, "mysql", "legacy");

	compare("postgres", rounds, pg_floor, &agent_probe_postgres, pg, "orders", &round,
	    pd ? pd->n_reqs : 0);
	compare("mysql", rounds, my_floor, &agent_probe_mysql, my, "legacy", &round,
	    md ? md->n_reqs : 0);
	agent_probe_postgres.free(pg);
	agent_probe_mysql.free(my);
	agent_expect_free(e);
	mysql_library_end();
	return 0;
}
