// client_test.c - one round trip against a scripted REP peer standing in for the collector:
// the request it sees, and how the client handles good, erroneous, foreign, garbled and missing
// answers.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <pthread.h>

#include "fl/time.h"
#include "fl/wire.h"

#include "cli.h"
#include "client.h"

typedef struct peer {
	nng_socket  sock;
	char        url[64];
	pthread_t   thread;
	const void *reply; // bytes to answer with; NULL: answer nothing
	size_t      reply_len;
	int         query_case; // what the peer received
	unsigned    schema;
	uint32_t    max_reply; // Request.max_reply_bytes
	char        host[64];
} peer;

static void *
serve_one(void *arg)
{
	peer    *p = arg;
	nng_msg *m;

	if (nng_recvmsg(p->sock, &m, 0) != 0) {
		return NULL;
	}
	Fl__Request *req = fl__request__unpack(NULL, nng_msg_len(m), nng_msg_body(m));
	if (req != NULL) {
		p->query_case = (int) req->query_case;
		p->schema     = req->schema_version;
		p->max_reply  = req->max_reply_bytes;
		if (req->query_case == FL__REQUEST__QUERY_STATUS && req->status->host != NULL) {
			snprintf(p->host, sizeof(p->host), "%s", req->status->host);
		}
		fl__request__free_unpacked(req, NULL);
	}
	nng_msg_free(m);
	if (p->reply != NULL && nng_msg_alloc(&m, p->reply_len) == 0) {
		memcpy(nng_msg_body(m), p->reply, p->reply_len);
		if (nng_sendmsg(p->sock, m, 0) != 0) {
			nng_msg_free(m);
		}
	}
	return NULL;
}

static void
peer_start(peer *p, const void *reply, size_t len)
{
	nng_listener l;
	int          port;

	memset(p, 0, sizeof(*p));
	p->reply     = reply;
	p->reply_len = len;
	assert_int_equal(nng_rep0_open(&p->sock), 0);
	assert_int_equal(nng_socket_set_ms(p->sock, NNG_OPT_RECVTIMEO, 5000), 0);
	assert_int_equal(nng_listen(p->sock, "tcp://127.0.0.1:0", &l, 0), 0);
	assert_int_equal(nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port), 0);
	snprintf(p->url, sizeof(p->url), "tcp://127.0.0.1:%d", port);
	assert_int_equal(pthread_create(&p->thread, NULL, serve_one, p), 0);
}

static void
peer_stop(peer *p)
{
	pthread_join(p->thread, NULL);
	nng_close(p->sock);
}

// Packs a response into buf; returns its length.
static size_t
pack(const Fl__Response *r, uint8_t *buf, size_t cap)
{
	size_t n = fl__response__get_packed_size(r);
	assert_true(n <= cap);
	return fl__response__pack(r, buf);
}

static int
ask_status(const char *url, uint32_t timeout_ms, Fl__Response **out)
{
	cli_ctx         ctx = { .url = url, .timeout_ms = timeout_ms };
	Fl__Request     req = FL__REQUEST__INIT;
	Fl__StatusQuery q   = FL__STATUS_QUERY__INIT;
	q.host              = (char *) "app1"; // borrowed for the send
	req.query_case      = FL__REQUEST__QUERY_STATUS;
	req.status          = &q;
	return cli_call(&ctx, &req, FL__RESPONSE__REPLY_STATUS, out);
}

static void
test_good_answer(void **state)
{
	(void) state;
	Fl__Response    r     = FL__RESPONSE__INIT;
	Fl__StatusReply sr    = FL__STATUS_REPLY__INIT;
	Fl__HostState   h     = FL__HOST_STATE__INIT;
	Fl__HostState  *hs[1] = { &h };
	Fl__Response   *got   = NULL;
	uint8_t         buf[256];
	peer            p;

	h.host           = (char *) "app1";
	sr.n_hosts       = 1;
	sr.hosts         = hs;
	r.schema_version = FL_SCHEMA_VERSION;
	r.reply_case     = FL__RESPONSE__REPLY_STATUS;
	r.status         = &sr;
	peer_start(&p, buf, pack(&r, buf, sizeof(buf)));
	assert_int_equal(ask_status(p.url, 5000, &got), CLI_EXIT_OK);
	peer_stop(&p);
	assert_int_equal(p.schema, FL_SCHEMA_VERSION);
	assert_int_equal(p.max_reply, CLI_MAX_RESPONSE); // the collector caps its answer at it
	assert_int_equal(p.query_case, FL__REQUEST__QUERY_STATUS);
	assert_string_equal(p.host, "app1");
	assert_non_null(got);
	assert_int_equal(got->status->n_hosts, 1);
	assert_string_equal(got->status->hosts[0]->host, "app1");
	fl__response__free_unpacked(got, NULL);
}

static void
test_error_answer(void **state)
{
	(void) state;
	Fl__Response  r   = FL__RESPONSE__INIT;
	Fl__Response *got = NULL;
	uint8_t       buf[256];
	peer          p;

	r.schema_version = FL_SCHEMA_VERSION;
	r.error          = (char *) "not available yet";
	peer_start(&p, buf, pack(&r, buf, sizeof(buf)));
	assert_int_equal(ask_status(p.url, 5000, &got), CLI_EXIT_ERROR);
	peer_stop(&p);
	assert_null(got);
}

static void
test_foreign_schema_wrong_case_and_garbage(void **state)
{
	(void) state;
	Fl__Response    r   = FL__RESPONSE__INIT;
	Fl__StatusReply sr  = FL__STATUS_REPLY__INIT;
	Fl__Response   *got = NULL;
	uint8_t         buf[256];
	peer            p;

	r.schema_version = 7; // a collector from the future
	r.reply_case     = FL__RESPONSE__REPLY_STATUS;
	r.status         = &sr;
	peer_start(&p, buf, pack(&r, buf, sizeof(buf)));
	assert_int_equal(ask_status(p.url, 5000, &got), CLI_EXIT_ERROR);
	peer_stop(&p);

	r.schema_version = FL_SCHEMA_VERSION;
	r.reply_case     = FL__RESPONSE__REPLY_HOSTS; // answers another question
	r.status         = NULL;
	r.hosts          = &sr;
	peer_start(&p, buf, pack(&r, buf, sizeof(buf)));
	assert_int_equal(ask_status(p.url, 5000, &got), CLI_EXIT_ERROR);
	peer_stop(&p);

	static const uint8_t garbage[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x12 };
	peer_start(&p, garbage, sizeof(garbage));
	assert_int_equal(ask_status(p.url, 5000, &got), CLI_EXIT_ERROR);
	peer_stop(&p);
	assert_null(got);
}

static void
test_silent_peer_times_out(void **state)
{
	(void) state;
	Fl__Response *got = NULL;
	peer          p;

	peer_start(&p, NULL, 0);
	int64_t t0 = fl_mono_us();
	assert_int_equal(ask_status(p.url, 300, &got), CLI_EXIT_ERROR);
	int64_t took = fl_mono_us() - t0;
	peer_stop(&p);
	assert_true(took >= 250000); // it did wait for the answer
	assert_true(took < 3000000); // and gave up at the timeout
	assert_null(got);
}

static void
test_nobody_listening_fails_at_once(void **state)
{
	(void) state;
	Fl__Response *got = NULL;
	peer          p;

	// Take a free port, then close it: nothing listens there any more.
	peer_start(&p, NULL, 0);
	char url[64];
	snprintf(url, sizeof(url), "%s", p.url);
	nng_close(p.sock); // also ends the peer's recv
	pthread_join(p.thread, NULL);
	int64_t t0 = fl_mono_us();
	assert_int_equal(ask_status(url, 5000, &got), CLI_EXIT_ERROR);
	assert_true(fl_mono_us() - t0 < 2000000); // not after the 5 s timeout
	assert_int_equal(
	    ask_status("ipc:///nonexistent/faultline.sock", 5000, &got), CLI_EXIT_ERROR);
	assert_int_equal(ask_status("bogus://x", 5000, &got), CLI_EXIT_ERROR);
	assert_null(got);
}

// A plain TCP listener on a free loopback port that never accepts: the kernel completes a
// connect, but the SP handshake never comes (a hung or stopped collector). Returns its fd (the
// caller closes it); *port gets its port.
static int
hung_listener(int *port)
{
	struct sockaddr_in sa  = { .sin_family = AF_INET };
	socklen_t          len = sizeof(sa);
	int                fd  = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void
test_peer_that_never_handshakes_times_out(void **state)
{
	(void) state;
	// nng alone would wait 10 s for the handshake.
	int  port;
	int  fd = hung_listener(&port);
	char url[64];
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);

	Fl__Response *got = NULL;
	int64_t       t0  = fl_mono_us();
	assert_int_equal(ask_status(url, 500, &got), CLI_EXIT_ERROR);
	int64_t took = fl_mono_us() - t0;
	close(fd);
	assert_true(took >= 400000);
	assert_true(took < 3000000);
	assert_null(got);
}

// A good status reply naming host app1, packed into buf; returns its length.
static size_t
good_status(uint8_t *buf, size_t cap)
{
	Fl__Response    r     = FL__RESPONSE__INIT;
	Fl__StatusReply sr    = FL__STATUS_REPLY__INIT;
	Fl__HostState   h     = FL__HOST_STATE__INIT;
	Fl__HostState  *hs[1] = { &h };
	h.host                = (char *) "app1";
	sr.n_hosts            = 1;
	sr.hosts              = hs;
	r.schema_version      = FL_SCHEMA_VERSION;
	r.reply_case          = FL__RESPONSE__REPLY_STATUS;
	r.status              = &sr;
	return pack(&r, buf, cap);
}

// Several collectors: a dead address first, then one that never completes the handshake (a
// hung collector), then a live one: the live one answers, and the hung one costs no more than
// the connect bound although --timeout is 10 s.
static void
test_list_passes_over_dead_and_hung(void **state)
{
	(void) state;
	int     port;
	int     fd = hung_listener(&port);
	uint8_t buf[256];
	peer    p;
	peer_start(&p, buf, good_status(buf, sizeof(buf)));
	char list[256];
	snprintf(list, sizeof(list), "ipc:///nonexistent/faultline.sock, tcp://127.0.0.1:%d, %s",
	    port, p.url);
	Fl__Response *got = NULL;
	int64_t       t0  = fl_mono_us();
	assert_int_equal(ask_status(list, 10000, &got), CLI_EXIT_OK);
	int64_t took = fl_mono_us() - t0;
	peer_stop(&p);
	close(fd);
	assert_true(
	    took >= (CLI_CONNECT_TIMEOUT_MS - 100) * 1000LL); // it did wait for the hung one
	assert_true(took < (CLI_CONNECT_TIMEOUT_MS + 2000) * 1000LL); // but not the 10 s timeout
	assert_non_null(got);
	assert_string_equal(got->status->hosts[0]->host, "app1");
	fl__response__free_unpacked(got, NULL);
}

// A standby answers not_active: the CLI asks the next collector, which answers; a collector's
// other error is the answer (no other collector is asked).
static void
test_list_passes_over_standby(void **state)
{
	(void) state;
	Fl__Response standby = FL__RESPONSE__INIT;
	uint8_t      sbuf[256], gbuf[256];
	peer         a, b;
	standby.schema_version = FL_SCHEMA_VERSION;
	standby.error          = (char *) "standby: probe-now needs the active collector (c2)";
	standby.not_active     = true;
	peer_start(&a, sbuf, pack(&standby, sbuf, sizeof(sbuf)));
	peer_start(&b, gbuf, good_status(gbuf, sizeof(gbuf)));
	char list[160];
	snprintf(list, sizeof(list), "%s,%s", a.url, b.url);
	Fl__Response *got = NULL;
	assert_int_equal(ask_status(list, 5000, &got), CLI_EXIT_OK);
	peer_stop(&a);
	peer_stop(&b);
	assert_int_equal(a.query_case, FL__REQUEST__QUERY_STATUS); // both were asked
	assert_int_equal(b.query_case, FL__REQUEST__QUERY_STATUS);
	assert_non_null(got);
	fl__response__free_unpacked(got, NULL);

	// An ordinary error from the first: that is the answer.
	Fl__Response e   = FL__RESPONSE__INIT;
	e.schema_version = FL_SCHEMA_VERSION;
	e.error          = (char *) "no such host";
	peer_start(&a, sbuf, pack(&e, sbuf, sizeof(sbuf)));
	peer_start(&b, gbuf, good_status(gbuf, sizeof(gbuf)));
	snprintf(list, sizeof(list), "%s,%s", a.url, b.url);
	got = NULL;
	assert_int_equal(ask_status(list, 5000, &got), CLI_EXIT_ERROR);
	assert_null(got);
	nng_close(b.sock); // never asked: end its wait
	peer_stop(&a);
	pthread_join(b.thread, NULL);
	assert_int_equal(b.query_case, 0);
}

// Runs ask_status(url, timeout_ms) with stderr captured into err. Returns its exit code.
static int
ask_status_stderr(const char *url, uint32_t timeout_ms, char *err, size_t errlen)
{
	char          path[64];
	Fl__Response *got = NULL;
	int           saved, fd, rc;
	ssize_t       n;

	snprintf(path, sizeof(path), "/tmp/cli-client-test-%d.err", (int) getpid());
	fflush(stderr);
	saved = dup(2);
	fd    = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	rc = ask_status(url, timeout_ms, &got);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n                  = pread(fd, err, errlen - 1, 0);
	err[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	assert_null(got);
	return rc;
}

// A reply over the CLI's receive limit is named as such: by the collector ("reply too large",
// it knows our limit), or, from a peer that ignores the limit and whose oversize answer makes
// nng drop the connection, by the CLI itself instead of "cannot reach".
static void
test_reply_too_large(void **state)
{
	(void) state;
	Fl__Response r = FL__RESPONSE__INIT;
	uint8_t      buf[256];
	char         err[1024];
	peer         p;

	r.schema_version = FL_SCHEMA_VERSION;
	r.error          = (char *) "reply too large (70000000 bytes over the 67108864 limit)";
	peer_start(&p, buf, pack(&r, buf, sizeof(buf)));
	assert_int_equal(ask_status_stderr(p.url, 5000, err, sizeof(err)), CLI_EXIT_ERROR);
	peer_stop(&p);
	assert_non_null(strstr(err, "reply too large (70000000 bytes over the 67108864 limit)"));

	size_t   big  = (size_t) CLI_MAX_RESPONSE + 1;
	uint8_t *huge = calloc(1, big);
	assert_non_null(huge);
	peer_start(&p, huge, big);
	assert_int_equal(ask_status_stderr(p.url, 1500, err, sizeof(err)), CLI_EXIT_ERROR);
	peer_stop(&p);
	free(huge);
	assert_non_null(strstr(err, "closed the connection instead of answering"));
	assert_non_null(strstr(err, "reply too large"));
	assert_null(strstr(err, "cannot reach"));
}

// A collector for `verify`: answers status polls with app1 on release 1.0, then the verify
// query with "passed", keeping what the query carried.
typedef struct verify_peer {
	nng_socket sock;
	char       url[64];
	pthread_t  thread;
	bool       got_verify;
	bool       old_collector; // answers with the text fields only (before the enums)
	bool       thresholds_set, err_set, ratio_set, slack_set;
	double     err, ratio, confidence;
	uint32_t   slack_ms, rounds, interval_ms, survey_ms, min_samples;
} verify_peer;

static void
verify_peer_answer(verify_peer *p, const Fl__Request *req)
{
	Fl__Response    r     = FL__RESPONSE__INIT;
	Fl__StatusReply sr    = FL__STATUS_REPLY__INIT;
	Fl__HostState   h     = FL__HOST_STATE__INIT;
	Fl__HostState  *hs[1] = { &h };
	Fl__VerifyReply vr    = FL__VERIFY_REPLY__INIT;
	uint8_t         buf[512];
	nng_msg        *m;

	r.schema_version = FL_SCHEMA_VERSION;
	if (req->query_case == FL__REQUEST__QUERY_VERIFY) {
		const Fl__VerifyQuery *q = req->verify;
		p->got_verify            = true;
		p->thresholds_set        = q->thresholds_set;
		p->err_set               = q->max_error_rate_increase_set;
		p->ratio_set             = q->max_latency_ratio_set;
		p->slack_set             = q->latency_slack_set;
		p->err                   = q->max_error_rate_increase;
		p->ratio                 = q->max_latency_ratio;
		p->slack_ms              = q->latency_slack_ms;
		p->confidence            = q->confidence;
		p->rounds                = q->rounds;
		p->interval_ms           = q->round_interval_ms;
		p->survey_ms             = q->survey_timeout_ms;
		p->min_samples           = q->min_samples;
		vr.release               = (char *) "1.0";
		vr.result_enum           = FL__VERIFY_RESULT__VERIFY_RESULT_PASSED;
		if (p->old_collector) {
			vr.result_enum = FL__VERIFY_RESULT__VERIFY_RESULT_UNKNOWN;
			vr.result      = (char *) "failed";
		}
		r.reply_case = FL__RESPONSE__REPLY_VERIFY;
		r.verify     = &vr;
	} else {
		h.host       = (char *) "app1";
		h.release    = (char *) "1.0";
		sr.n_hosts   = 1;
		sr.hosts     = hs;
		r.reply_case = FL__RESPONSE__REPLY_STATUS;
		r.status     = &sr;
	}
	size_t n = pack(&r, buf, sizeof(buf));
	if (nng_msg_alloc(&m, n) == 0) {
		memcpy(nng_msg_body(m), buf, n);
		if (nng_sendmsg(p->sock, m, 0) != 0) {
			nng_msg_free(m);
		}
	}
}

static void *
verify_peer_serve(void *arg)
{
	verify_peer *p = arg;
	nng_msg     *m;

	while (!p->got_verify && nng_recvmsg(p->sock, &m, 0) == 0) {
		Fl__Request *req = fl__request__unpack(NULL, nng_msg_len(m), nng_msg_body(m));
		nng_msg_free(m);
		if (req != NULL) {
			verify_peer_answer(p, req);
			fl__request__free_unpacked(req, NULL);
		}
	}
	return NULL;
}

// Runs `faultline verify --release 1.0 ARGS...` against a verify_peer; returns the exit code.
static int
run_verify(verify_peer *p, const char *const *args, size_t n_args, bool old_collector)
{
	nng_listener l;
	int          port;
	char        *argv[16] = { (char *) "verify", (char *) "--release", (char *) "1.0" };
	int          argc     = 3;

	memset(p, 0, sizeof(*p));
	p->old_collector = old_collector;
	assert_int_equal(nng_rep0_open(&p->sock), 0);
	// Generous: on a loaded machine the CLI's second call must still find the peer there.
	assert_int_equal(nng_socket_set_ms(p->sock, NNG_OPT_RECVTIMEO, 30000), 0);
	assert_int_equal(nng_listen(p->sock, "tcp://127.0.0.1:0", &l, 0), 0);
	assert_int_equal(nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port), 0);
	snprintf(p->url, sizeof(p->url), "tcp://127.0.0.1:%d", port);
	assert_int_equal(pthread_create(&p->thread, NULL, verify_peer_serve, p), 0);
	for (size_t i = 0; i < n_args && argc < 15; i++) {
		argv[argc++] = (char *) args[i];
	}
	cli_ctx ctx = { .url = p->url, .timeout_ms = 5000 };
	int     rc  = cli_cmd_verify(&ctx, argc, argv);
	pthread_join(p->thread, NULL);
	nng_close(p->sock);
	return rc;
}

// Defaults live in the collector: a verify without tuning flags sends none of them.
// Nobody answers: each address's reason is printed, one line each, then the summary; a list
// that is not one is a usage error naming the entry.
static void
test_list_none_answers(void **state)
{
	(void) state;
	char err[2048];
	assert_int_equal(ask_status_stderr("ipc:///nonexistent/a.sock, ipc:///nonexistent/b.sock",
	                     2000, err, sizeof(err)),
	    CLI_EXIT_ERROR);
	assert_non_null(strstr(err, "cannot reach the collector at ipc:///nonexistent/a.sock"));
	assert_non_null(strstr(err, "cannot reach the collector at ipc:///nonexistent/b.sock"));
	assert_non_null(strstr(err, "none of the 2 collectors"));
	assert_int_equal(
	    ask_status_stderr("ipc:///x.sock, x.sock", 2000, err, sizeof(err)), CLI_EXIT_ERROR);
	assert_non_null(strstr(err, "\"x.sock\" must be an nng URL"));
}

static void
test_verify_sends_no_defaults(void **state)
{
	(void) state;
	verify_peer p;
	assert_int_equal(run_verify(&p, NULL, 0, false), CLI_EXIT_OK);
	assert_true(p.got_verify);
	assert_false(p.thresholds_set);
	assert_false(p.err_set);
	assert_false(p.ratio_set);
	assert_false(p.slack_set);
	assert_int_equal(p.rounds, 0);
	assert_int_equal(p.interval_ms, 0);
	assert_int_equal(p.survey_ms, 0);
	assert_int_equal(p.min_samples, 0);
	assert_true(p.confidence == 0);
}

// What the user gives is sent, each flag on its own; a zero threshold is a value, not "unset".
static void
test_verify_sends_what_the_user_gave(void **state)
{
	(void) state;
	verify_peer       p;
	const char *const args[] = { "--latency-slack", "0", "--max-latency-ratio", "2.5",
		"--rounds", "3", "--confidence", "0.9", "--min-samples", "2" };
	assert_int_equal(run_verify(&p, args, sizeof(args) / sizeof(args[0]), false), CLI_EXIT_OK);
	assert_true(p.got_verify);
	assert_false(p.thresholds_set);
	assert_true(p.slack_set);
	assert_int_equal(p.slack_ms, 0);
	assert_true(p.ratio_set);
	assert_true(p.ratio == 2.5);
	assert_false(p.err_set); // not given: the collector's
	assert_int_equal(p.rounds, 3);
	assert_true(p.confidence == 0.9);
	assert_int_equal(p.min_samples, 2);
	assert_int_equal(p.interval_ms, 0);
}

// A collector from before the result enum sends only the text: "failed" still exits 1.
static void
test_verify_reads_an_older_collectors_text(void **state)
{
	(void) state;
	verify_peer p;
	assert_int_equal(run_verify(&p, NULL, 0, true), CLI_EXIT_FAILING);
	assert_true(p.got_verify);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_answer),
		cmocka_unit_test(test_error_answer),
		cmocka_unit_test(test_foreign_schema_wrong_case_and_garbage),
		cmocka_unit_test(test_silent_peer_times_out),
		cmocka_unit_test(test_nobody_listening_fails_at_once),
		cmocka_unit_test(test_peer_that_never_handshakes_times_out),
		cmocka_unit_test(test_reply_too_large),
		cmocka_unit_test(test_list_passes_over_dead_and_hung),
		cmocka_unit_test(test_list_passes_over_standby),
		cmocka_unit_test(test_list_none_answers),
		cmocka_unit_test(test_verify_sends_no_defaults),
		cmocka_unit_test(test_verify_sends_what_the_user_gave),
		cmocka_unit_test(test_verify_reads_an_older_collectors_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
