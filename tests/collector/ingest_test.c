// ingest_test.c - a collector core running in-process, fed real bytes over real nng: garbage,
// truncated, oversize, wrong-schema and invalid reports are counted and dropped; the control
// socket answers every query (or says why not), also while reports flood in.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "coll_testutil.h"
#include "fl/time.h"
#include "fl/wire.h"
#include "hub.h"
#include "server.h"
#include "verify.h"

typedef struct fixture {
	coll_server *srv;
	char         listen[64];
	char         control[64];
	char         db[64];
} fixture;

static const tu_probe P_OK[] = { { "app", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE,
    1000 } };

static int
setup(void **state)
{
	fixture    *f = calloc(1, sizeof(*f));
	coll_config cfg;
	char        err[256];

	snprintf(f->db, sizeof(f->db), "/tmp/coll-ingest-test-%d.db", (int) getpid());
	unlink(f->db);
	coll_config_defaults(&cfg);
	snprintf(cfg.listen, sizeof(cfg.listen), "tcp://127.0.0.1:0");
	snprintf(
	    cfg.survey, sizeof(cfg.survey), "tcp://127.0.0.1:0"); // parallel tests: no fixed port
	snprintf(cfg.control, sizeof(cfg.control), "tcp://127.0.0.1:0");
	snprintf(cfg.state, sizeof(cfg.state), "%s", f->db);
	// The largest recv_max: an oversize report then reaches the decoder and is counted.
	cfg.recv_max = 2 * FL_WIRE_MAX_MSG;
	if (coll_server_start(&cfg, &f->srv, err, sizeof(err)) != 0) {
		fprintf(stderr, "cannot start collector: %s\n", err);
		return -1;
	}
	snprintf(f->listen, sizeof(f->listen), "tcp://127.0.0.1:%d", f->srv->listen_port);
	snprintf(f->control, sizeof(f->control), "tcp://127.0.0.1:%d", f->srv->control_port);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;
	char     p[80];
	coll_server_stop(f->srv);
	unlink(f->db);
	snprintf(p, sizeof(p), "%s-wal", f->db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->db);
	unlink(p);
	free(f);
	return 0;
}

static void
test_garbage_counted(void **state)
{
	fixture           *f = *state;
	nng_socket         push;
	Fl__CollectorStats st;
	size_t             len, good_len, nhosts;
	uint8_t           *good;
	static uint8_t     junk[64];

	assert_int_equal(tu_push_open(f->listen, &push), 0);
	tu_rep d = { .host = "web1", .boot_id = 1, .seq = 1, .n = 1, .probes = P_OK };
	good     = tu_pack(&d, &good_len);

	for (size_t i = 0; i < sizeof(junk); i++) {
		junk[i] = (uint8_t) (0xff - i); // invalid wire types and varints
	}
	assert_int_equal(tu_push(push, junk, sizeof(junk)), 0); // undecodable
	assert_int_equal(tu_push(push, good, good_len - 3), 0); // truncated: undecodable
	uint8_t *big = calloc(1, FL_WIRE_MAX_MSG + 4096);
	assert_int_equal(tu_push(push, big, FL_WIRE_MAX_MSG + 4096), 0); // oversize
	free(big);
	d.schema     = 7;
	uint8_t *bad = tu_pack(&d, &len);
	assert_int_equal(tu_push(push, bad, len), 0); // wrong schema
	free(bad);
	d.schema = 0;
	d.host   = "";
	bad      = tu_pack(&d, &len);
	assert_int_equal(tu_push(push, bad, len), 0); // invalid: no host
	free(bad);
	d.host = "web1";
	assert_int_equal(tu_push(push, good, good_len), 0); // valid
	assert_int_equal(tu_push(push, good, good_len), 0); // duplicate
	assert_int_equal(tu_push(push, "", 0), 0);          // empty: decodes with schema_version 0

	assert_int_equal(tu_wait_received(f->control, 8, 10000, &st), 0);
	assert_int_equal(st.reports_received, 8);
	assert_int_equal(st.dropped_undecodable, 2);
	assert_int_equal(st.dropped_oversize, 1);
	assert_int_equal(st.dropped_schema, 2);
	assert_int_equal(st.dropped_invalid, 1);
	assert_int_equal(st.dropped_duplicate, 1);
	assert_int_equal(st.reports_applied, 1);
	assert_int_equal(st.results_applied, 1);
	assert_int_equal(tu_stats(f->control, &st, &nhosts), 0);
	assert_int_equal(nhosts, 1);
	free(good);
	nng_close(push);
}

static Fl__Response *
raw_query(const char *url, const void *buf, size_t len)
{
	nng_socket    s;
	nng_msg      *m;
	Fl__Response *resp = NULL;
	char          why[128];
	assert_int_equal(nng_req0_open(&s), 0);
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000);
	assert_int_equal(nng_dial(s, url, NULL, 0), 0);
	assert_int_equal(nng_send(s, (void *) buf, len, 0), 0);
	assert_int_equal(nng_recvmsg(s, &m, 0), 0);
	assert_int_equal(
	    fl_wire_decode_response(nng_msg_body(m), nng_msg_len(m), &resp, why, sizeof(why)),
	    FL_WIRE_OK);
	nng_msg_free(m);
	nng_close(s);
	return resp;
}

static void
test_control_queries(void **state)
{
	fixture      *f = *state;
	Fl__Response *resp;
	Fl__Request   req = FL__REQUEST__INIT;

	// Garbage on the control socket gets an error answer, not silence.
	resp = raw_query(f->control, "\xff\xff\xff", 3);
	assert_non_null(strstr(resp->error, "bad request"));
	fl__response__free_unpacked(resp, NULL);
	// A request with no query set (e.g. from a newer CLI) is refused politely.
	uint8_t buf[16];
	req.schema_version = FL_SCHEMA_VERSION;
	size_t n           = fl__request__pack(&req, buf);
	resp               = raw_query(f->control, buf, n);
	assert_non_null(strstr(resp->error, "unknown request"));
	fl__response__free_unpacked(resp, NULL);

	Fl__ProbeNowQuery pn = FL__PROBE_NOW_QUERY__INIT;
	req.query_case       = FL__REQUEST__QUERY_PROBE_NOW;
	req.probe_now        = &pn;
	pn.timeout_ms        = 200;
	assert_int_equal(tu_query(f->control, &req, &resp), 0);
	// No agent dials the survey socket here: the survey ends at its deadline, nobody answered,
	// and the one host that reported (and is not stale) is listed as missing.
	assert_string_equal(resp->error, "");
	assert_int_equal(resp->reply_case, FL__RESPONSE__REPLY_PROBE_NOW);
	assert_int_equal(resp->probe_now->n_answered, 0);
	fl__response__free_unpacked(resp, NULL);

	Fl__DiagnoseQuery dq = FL__DIAGNOSE_QUERY__INIT;
	req.query_case       = FL__REQUEST__QUERY_DIAGNOSE;
	req.diagnose         = &dq;
	assert_int_equal(tu_query(f->control, &req, &resp), 0);
	// Until the correlation engine answers, the collector says so instead of guessing.
	if (resp->error[0] != '\0') {
		assert_non_null(strstr(resp->error, "diagnosis is not available"));
	} else {
		assert_int_equal(resp->reply_case, FL__RESPONSE__REPLY_DIAGNOSE);
	}
	fl__response__free_unpacked(resp, NULL);

	// A failing probe shows up in history, queried by host.
	nng_socket push;
	tu_probe fail = { "app", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_REFUSED, 10 };
	tu_rep   d    = { .host = "web9", .boot_id = 1, .seq = 1, .n = 1, .probes = P_OK };
	size_t   len;
	uint8_t *b;
	assert_int_equal(tu_push_open(f->listen, &push), 0);
	b = tu_pack(&d, &len);
	assert_int_equal(tu_push(push, b, len), 0);
	free(b);
	d.seq    = 2;
	d.probes = &fail;
	b        = tu_pack(&d, &len);
	assert_int_equal(tu_push(push, b, len), 0);
	free(b);
	Fl__CollectorStats st;
	assert_int_equal(tu_wait_received(f->control, 2, 10000, &st), 0);

	Fl__HistoryQuery hq = FL__HISTORY_QUERY__INIT;
	hq.host             = (char *) "web9"; // borrowed for packing
	req.query_case      = FL__REQUEST__QUERY_HISTORY;
	req.history         = &hq;
	// The transition is written by the ingest thread after the apply: poll for it.
	size_t got = 0;
	for (int i = 0; i < 250 && got == 0; i++) {
		assert_int_equal(tu_query(f->control, &req, &resp), 0);
		assert_int_equal(resp->reply_case, FL__RESPONSE__REPLY_HISTORY);
		got = resp->history->n_events;
		if (got > 0) {
			assert_string_equal(resp->history->events[0]->kind, "status");
			assert_string_equal(resp->history->events[0]->from, "ok");
			assert_string_equal(resp->history->events[0]->to, "fail");
			assert_int_equal(
			    resp->history->events[0]->failure, FL__FAILURE_CLASS__FAILURE_REFUSED);
		}
		fl__response__free_unpacked(resp, NULL);
		usleep(20000);
	}
	assert_int_equal(got, 1);
	nng_close(push);
}

// The control socket keeps answering while another thread floods reports.
static void
test_control_during_flood(void **state)
{
	fixture           *f = *state;
	nng_socket         push;
	Fl__CollectorStats st;
	size_t             len;
	int64_t            worst = 0;
	tu_probe           probes[20];
	char               names[20][8];

	for (int i = 0; i < 20; i++) {
		snprintf(names[i], sizeof(names[i]), "p%d", i);
		probes[i] = (tu_probe) { names[i], FL__STATUS__STATUS_OK, 0, 1000 };
	}
	assert_int_equal(tu_push_open(f->listen, &push), 0);
	tu_rep d = { .host = "flood", .boot_id = 1, .n = 20, .probes = probes };
	for (uint64_t seq = 1; seq <= 20000; seq++) {
		d.seq      = seq;
		uint8_t *b = tu_pack(&d, &len);
		assert_int_equal(tu_push(push, b, len), 0);
		free(b);
		if (seq % 2000 == 0) {
			int64_t t0 = fl_mono_us();
			assert_int_equal(tu_stats(f->control, &st, NULL), 0);
			int64_t dt = fl_mono_us() - t0;
			worst      = dt > worst ? dt : worst;
		}
	}
	assert_int_equal(tu_wait_received(f->control, 20000, 30000, &st), 0);
	// The ingest queue is bounded: on a loaded machine some reports may be dropped as overload,
	// which is by design, but every report ends up either applied or counted as dropped.
	for (int waited = 0; st.reports_applied + st.dropped_overload < 20000 && waited < 30000;
	     waited += 20) {
		usleep(20000);
		assert_int_equal(tu_stats(f->control, &st, NULL), 0);
	}
	assert_int_equal(st.reports_applied + st.dropped_overload, 20000);
	assert_true(st.reports_applied > 0);
	// Generous (sanitizer builds, shared CI machines): a blocked control thread takes seconds.
	assert_true(worst < 1000000);
	nng_close(push);
}

// Reports from a fleet of healthy hosts, pushed until stop is set: they keep the ingest thread
// applying batches and its verdict tick diagnosing.
typedef struct churn {
	const char     *url;
	int             hosts; // fleet00..: this many hosts
	size_t          n;     // probes per report
	const tu_probe *probes;
	atomic_int      stop;
	uint64_t        sent;
} churn;

static void *
churn_main(void *arg)
{
	churn     *c = arg;
	nng_socket push;
	size_t     len;
	char       host[16];
	if (tu_push_open(c->url, &push) != 0) {
		return NULL;
	}
	for (uint64_t seq = 1; !atomic_load(&c->stop); seq++) {
		for (int i = 0; i < c->hosts && !atomic_load(&c->stop); i++) {
			snprintf(host, sizeof(host), "fleet%02d", i);
			tu_rep   d = { .host = host,
				  .boot_id   = 1,
				  .seq       = seq,
				  .n         = c->n,
				  .probes    = c->probes };
			uint8_t *b = tu_pack(&d, &len);
			if (tu_push(push, b, len) == 0) {
				c->sent++;
			}
			free(b);
		}
		usleep(2000);
	}
	nng_close(push);
	return NULL;
}

// consecutive_fail of host's first probe as the state holds it now; -1 when not known yet.
static int
fails_held(coll_server *srv, const char *host)
{
	int rv = -1;
	pthread_mutex_lock(&srv->lock);
	const coll_host *h = coll_state_host(&srv->state, host);
	if (h != NULL && h->n_probes > 0) {
		rv = (int) h->probes[0].view.consecutive_fail;
	}
	pthread_mutex_unlock(&srv->lock);
	return rv;
}

// Polls until the state holds want consecutive failures for host (up to 10 s).
static void
wait_fails(coll_server *srv, const char *host, int want)
{
	for (int i = 0; i < 1000 && fails_held(srv, host) != want; i++) {
		usleep(10000);
	}
	assert_int_equal(fails_held(srv, host), want);
}

static Fl__Verdict
diagnose_now(const char *url)
{
	Fl__Request       req = FL__REQUEST__INIT;
	Fl__DiagnoseQuery dq  = FL__DIAGNOSE_QUERY__INIT;
	Fl__Response     *resp;
	req.schema_version = FL_SCHEMA_VERSION;
	req.query_case     = FL__REQUEST__QUERY_DIAGNOSE;
	req.diagnose       = &dq;
	assert_int_equal(tu_query(url, &req, &resp), 0);
	assert_int_equal(resp->reply_case, FL__RESPONSE__REPLY_DIAGNOSE);
	Fl__Verdict v = resp->diagnose->verdict;
	fl__response__free_unpacked(resp, NULL);
	return v;
}

// A diagnose asked once the state holds a change answers with it, at once (no staleness): also
// while reports flood in and the verdict tick diagnoses, whose diagnosis a query may share.
static void
test_diagnose_sees_applied_change(void **state)
{
	fixture   *f = *state;
	nng_socket push;
	pthread_t  t;
	churn      c  = { .url = f->listen, .hosts = 20, .n = 1, .probes = P_OK, .sent = 0 };
	tu_probe fail = { "app", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_REFUSED, 10 };
	tu_rep   d    = { .host = "flip", .boot_id = 1, .interval_ms = 60000, .n = 1 };

	atomic_init(&c.stop, 0);
	assert_int_equal(pthread_create(&t, NULL, churn_main, &c), 0);
	assert_int_equal(tu_push_open(f->listen, &push), 0);
	for (int round = 0; round < 15; round++) {
		// Two failed rounds in a row: the probe counts as failing.
		d.probes = &fail;
		for (int k = 0; k < 2; k++) {
			assert_int_equal(tu_push_next(push, &d), 0);
		}
		wait_fails(f->srv, "flip", 2);
		assert_int_not_equal(diagnose_now(f->control), FL__VERDICT__VERDICT_HEALTHY);
		// One good round: it does not any more.
		d.probes = P_OK;
		assert_int_equal(tu_push_next(push, &d), 0);
		wait_fails(f->srv, "flip", 0);
		assert_int_equal(diagnose_now(f->control), FL__VERDICT__VERDICT_HEALTHY);
	}
	atomic_store(&c.stop, 1);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(c.sent > 0);
	nng_close(push);
}

// On a fleet where a diagnosis takes a while, queries meet the verdict tick diagnosing and take
// its reply: the same answer, with the mutes marked on a copy.
static void
test_diagnose_shares_the_tick(void **state)
{
	fixture   *f = *state;
	nng_socket push;
	pthread_t  t;
	tu_probe   probes[20];
	char       names[20][8];
	tu_probe fail = { "app", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_REFUSED, 10 };
	tu_rep   d    = { .host = "flip", .boot_id = 1, .interval_ms = 60000, .n = 1 };

	for (int i = 0; i < 20; i++) {
		snprintf(names[i], sizeof(names[i]), "p%d", i);
		probes[i] = (tu_probe) { names[i], FL__STATUS__STATUS_OK, 0, 1000 };
	}
	churn c = { .url = f->listen, .hosts = 1000, .n = 20, .probes = probes, .sent = 0 };
	atomic_init(&c.stop, 0);
	assert_int_equal(tu_push_open(f->listen, &push), 0);
	d.probes = &fail;
	for (int k = 0; k < 2; k++) {
		assert_int_equal(tu_push_next(push, &d), 0);
	}
	wait_fails(f->srv, "flip", 2);
	assert_int_equal(pthread_create(&t, NULL, churn_main, &c), 0);
	// Ask until some answers came from the tick (each is a few % likely), every one right.
	int64_t until = fl_mono_us() + 60000000;
	while (coll_diag_share_count(&f->srv->diag) < 3 && fl_mono_us() < until) {
		assert_int_not_equal(diagnose_now(f->control), FL__VERDICT__VERDICT_HEALTHY);
	}
	atomic_store(&c.stop, 1);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(coll_diag_share_count(&f->srv->diag) >= 3);
	nng_close(push);
}

// A host may name a new release in every report; the collector keeps the last verification of
// at most COLL_VERIFY_MAX_RECORDS releases, the most recently used ones.
static void
test_verification_records_bounded(void **state)
{
	fixture        *f     = *state;
	Fl__VerifyReply r     = FL__VERIFY_REPLY__INIT;
	Fl__StatusReply reply = FL__STATUS_REPLY__INIT;
	char            rel[32];

	r.result_enum = FL__VERIFY_RESULT__VERIFY_RESULT_PASSED;
	for (int i = 0; i < 3 * COLL_VERIFY_MAX_RECORDS; i++) {
		snprintf(rel, sizeof(rel), "r%d", i);
		r.release = rel;
		coll_verify_record(f->srv->verify, &r, "full", false);
	}
	coll_verify_status_add(f->srv->verify, &reply);
	assert_int_equal(reply.n_verifications, COLL_VERIFY_MAX_RECORDS);
	bool newest = false, oldest = false;
	for (size_t i = 0; i < reply.n_verifications; i++) {
		newest |= strcmp(reply.verifications[i]->release, rel) == 0;
		oldest |= strcmp(reply.verifications[i]->release, "r0") == 0;
	}
	assert_true(newest);
	assert_false(oldest);
	coll_verify_status_fini(&reply);
}

static void
test_ipc_control_mode(void **state)
{
	(void) state;
	coll_config  cfg;
	coll_server *srv;
	char         err[256], dir[64], sock[96], db[96];
	struct stat  sb;

	snprintf(dir, sizeof(dir), "/tmp/coll-ipc-test-%d", (int) getpid());
	snprintf(sock, sizeof(sock), "%s/sub/control.sock", dir);
	snprintf(db, sizeof(db), "%s/c.db", dir);
	mkdir(dir, 0700);
	coll_config_defaults(&cfg);
	snprintf(cfg.listen, sizeof(cfg.listen), "tcp://127.0.0.1:0");
	snprintf(
	    cfg.survey, sizeof(cfg.survey), "tcp://127.0.0.1:0"); // parallel tests: no fixed port
	snprintf(cfg.control, sizeof(cfg.control), "ipc://%s", sock);
	snprintf(cfg.state, sizeof(cfg.state), "%s", db);
	assert_int_equal(coll_server_start(&cfg, &srv, err, sizeof(err)), 0);
	assert_int_equal(stat(sock, &sb), 0); // the missing parent dir was created
	assert_int_equal(sb.st_mode & 0777, 0660);
	Fl__CollectorStats st;
	assert_int_equal(tu_stats(cfg.control, &st, NULL), 0);
	coll_server_stop(srv);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_garbage_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_queries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_during_flood, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verification_records_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diagnose_sees_applied_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diagnose_shares_the_tick, setup, teardown),
		cmocka_unit_test(test_ipc_control_mode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
