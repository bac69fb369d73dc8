// probe_cpu.c - CPU time per probe: the agent's TCP and HTTP probes against the floor (a
// minimal C loop doing only connect()+close(), or only a plain libcurl GET), in the same run
// against the same loopback server.
//
// The server runs in a forked child, so getrusage(RUSAGE_SELF) here counts only the client
// side: for the "runner" rows that includes the round runner's worker thread and its wake-up.
//
// Usage: bench_agent_probe_cpu [ITERATIONS]   (default 5000)

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "fl/time.h"
#include "round.h"

static double
cpu_ms(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double) ru.ru_utime.tv_sec * 1e3 + (double) ru.ru_utime.tv_usec / 1e3 +
	    (double) ru.ru_stime.tv_sec * 1e3 + (double) ru.ru_stime.tv_usec / 1e3;
}

// Forks a server: each connection gets a small HTTP 200 answer (after reading the request when
// http is set) and is closed.
static pid_t
server(int *port, int http)
{
	struct sockaddr_in a   = { .sin_family = AF_INET };
	socklen_t          len = sizeof(a);
	int                fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *) &a, sizeof(a)) != 0 || listen(fd, 512) != 0) {
		perror("bench: listen");
		exit(2);
	}
	getsockname(fd, (struct sockaddr *) &a, &len);
	*port     = ntohs(a.sin_port);
	pid_t pid = fork();
	if (pid == 0) {
		static const char resp[] =
		    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
		char buf[4096];
		for (;;) {
			int c = accept(fd, NULL, NULL);
			if (c < 0) {
				continue;
			}
			if (http) {
				(void) !read(c, buf, sizeof(buf));
				(void) !write(c, resp, sizeof(resp) - 1);
			}
			close(c);
		}
	}
	close(fd);
	return pid;
}

static size_t
discard(char *d, size_t s, size_t n, void *u)
{
	(void) d;
	(void) u;
	return s * n;
}

static agent_config *
load(const char *text)
{
	agent_config *cfg;
	char          err[AGENT_CFG_ERRLEN];
	if (agent_config_parse("bench.conf", text, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		exit(2);
	}
	return cfg;
}

// Runs the config's single probe n times directly (the probe code only).
static double
run_probe(agent_config *cfg, int n)
{
	agent_probe_cfg *pc = &cfg->probes[0];
	agent_round      rd = { .release = "bench", .expect = NULL };
	agent_result     res;
	int              bad = 0;
	double           t0  = cpu_ms();
	for (int i = 0; i < n; i++) {
		agent_result_init(&res, pc->name, pc->ops->kind, pc->ops->target(pc->ctx));
		pc->ops->run(pc->ctx, &rd, &res);
		bad += res.pb.status != FL__STATUS__STATUS_OK;
		agent_result_fini(&res);
	}
	double t = (cpu_ms() - t0) / n;
	if (bad) {
		fprintf(stderr, "bench: %d of %d probes failed\n", bad, n);
	}
	return t;
}

// Runs n rounds of the config through the round runner (thread wake-up included).
static double
run_rounds(agent_config *cfg, int n)
{
	agent_runner   *r;
	agent_round_out out;
	char            err[256];
	if (agent_runner_new(cfg, false, &r, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		exit(2);
	}
	double t0 = cpu_ms();
	for (int i = 0; i < n; i++) {
		agent_runner_run(r, AGENT_ROUND_WAIT_ALL, &out);
	}
	double t = (cpu_ms() - t0) / n;
	agent_runner_free(r, 1000);
	return t;
}

// Ten probes of one kind in one config ("[kind "pN"]\nkey = prefixPORT").
static const char *
many(char *buf, size_t len, const char *kind, const char *key, const char *prefix, int port)
{
	size_t off = 0;
	for (int i = 0; i < 10 && off < len; i++) {
		int w = port >= 0 ? snprintf(buf + off, len - off, "[%s \"p%d\"]\n%s = %s%d\n",
		                        kind, i, key, prefix, port)
		                  : snprintf(buf + off, len - off, "[%s \"p%d\"]\n%s = %s\n", kind,
		                        i, key, prefix);
		off += (size_t) w;
	}
	return buf;
}

static int                tport, hport;
static char               url[128];
static struct sockaddr_in tcp_addr;

static double
floor_tcp(int n)
{
	double t0 = cpu_ms();
	for (int i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *) &tcp_addr, sizeof(tcp_addr)) != 0) {
			perror("bench: connect");
		}
		close(fd);
	}
	return (cpu_ms() - t0) / n;
}

// The floor for HTTP: a plain libcurl GET with a fresh handle each time.
static double
floor_http(int n)
{
	double t0 = cpu_ms();
	for (int i = 0; i < n; i++) {
		CURL *c = curl_easy_init();
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
		if (curl_easy_perform(c) != CURLE_OK) {
			fprintf(stderr, "bench: curl GET failed\n");
		}
		curl_easy_cleanup(c);
	}
	return (cpu_ms() - t0) / n;
}

static double
with_config(const char *text, int n, int rounds, int per_round)
{
	agent_config *cfg = load(text);
	double        t   = rounds ? run_rounds(cfg, n / per_round) / per_round : run_probe(cfg, n);
	agent_config_free(cfg);
	return t;
}

static double
agent_tcp(int n)
{
	char text[128];
	snprintf(text, sizeof(text), "[tcp \"t\"]\naddress = 127.0.0.1:%d\n", tport);
	return with_config(text, n, 0, 1);
}

static double
runner_tcp(int n)
{
	char text[128];
	snprintf(text, sizeof(text), "[tcp \"t\"]\naddress = 127.0.0.1:%d\n", tport);
	return with_config(text, n, 1, 1);
}

static double
runner_tcp10(int n)
{
	char text[2048];
	return with_config(
	    many(text, sizeof(text), "tcp", "address", "127.0.0.1:", tport), n, 1, 10);
}

static double
agent_http(int n)
{
	char text[256];
	snprintf(text, sizeof(text), "[http \"h\"]\nurl = %s\nbody_contains = ok\n", url);
	return with_config(text, n, 0, 1);
}

static double
runner_http(int n)
{
	char text[256];
	snprintf(text, sizeof(text), "[http \"h\"]\nurl = %s\nbody_contains = ok\n", url);
	return with_config(text, n, 1, 1);
}

static double
runner_http10(int n)
{
	char text[2048];
	return with_config(many(text, sizeof(text), "http", "url", url, -1), n, 1, 10);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;
	return (x > y) - (x < y);
}

#define TRIALS 7

int
main(int argc, char **argv)
{
	static const struct {
		const char *label;
		double (*fn)(int);
		int floor; // index of its floor row
	} rows[] = {
		{ "tcp floor: connect()+close()", floor_tcp, 0 },
		{ "tcp agent probe, run() direct", agent_tcp, 0 },
		{ "tcp agent probe, 1/round runner", runner_tcp, 0 },
		{ "tcp agent, 10/round, per probe", runner_tcp10, 0 },
		{ "http floor: plain curl GET", floor_http, 4 },
		{ "http agent probe, run() direct", agent_http, 4 },
		{ "http agent probe, 1/round runner", runner_http, 4 },
		{ "http agent, 10/round, per probe", runner_http10, 4 },
	};
	enum { NROWS = sizeof(rows) / sizeof(rows[0]) };
	double t[NROWS][TRIALS];
	int    n = argc > 1 ? atoi(argv[1]) : 2000;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	pid_t tpid               = server(&tport, 0);
	pid_t hpid               = server(&hport, 1);
	tcp_addr.sin_family      = AF_INET;
	tcp_addr.sin_port        = htons((uint16_t) tport);
	tcp_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/health", hport);

	// Trials interleave the rows, so a noisy moment of the machine hits all of them alike.
	for (int k = 0; k < TRIALS; k++) {
		for (int r = 0; r < NROWS; r++) {
			t[r][k] = rows[r].fn(n);
		}
	}
	kill(tpid, SIGKILL);
	kill(hpid, SIGKILL);
	waitpid(tpid, NULL, 0);
	waitpid(hpid, NULL, 0);
	curl_global_cleanup();

	printf("%d trials x %d ops per row; CPU = user+sys of this process (server excluded)\n",
	    TRIALS, n);
	printf("%-34s %10s %10s %8s %8s\n", "", "min ms/op", "med ms/op", "min x", "med x");
	for (int r = 0; r < NROWS; r++) {
		qsort(t[r], TRIALS, sizeof(double), cmp_double);
	}
	for (int r = 0; r < NROWS; r++) {
		int f = rows[r].floor;
		printf("%-34s %10.4f %10.4f %8.2f %8.2f\n", rows[r].label, t[r][0],
		    t[r][TRIALS / 2], t[r][0] / t[f][0], t[r][TRIALS / 2] / t[f][TRIALS / 2]);
	}
	return 0;
}
