// api.c - see api.h.

#include "api.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_query.h"
#include "control.h"
#include "fl/cfg.h"
#include "fl/json.h"
#include "fl/log.h"
#include "fl/render_reply.h"
#include "fl/time.h"
#include "fl/verify_wait.h"
#include "fl/wire.h"
#include "store.h"

#define API_CONTENT_TYPE "application/json"
#define API_POLL_MS      250 // how often a waiting verification checks for a stop

struct coll_api {
	coll_server *srv;
	coll_store  *reader;   // the HTTP worker's history connection
	atomic_int   verifies; // running
};

// The parameters each endpoint accepts (anything else is a 400).
static const char *const status_keys[]   = { "host" };
static const char *const history_keys[]  = { "since", "host", "limit" };
static const char *const diagnose_keys[] = { "host" };
static const char *const verify_keys[] = { "release", "hosts", "min_hosts", "canary", "rollback_to",
	"timeout" };

// Hands j's text to reply as its body (j is left empty). 0, or -1 when out of memory.
static int
json_body(fl_json *j, int status, coll_http_reply *reply)
{
	if (fl_json_text(j) == NULL) {
		fl_json_fini(j);
		return -1;
	}
	reply->status       = status;
	reply->content_type = API_CONTENT_TYPE;
	reply->body         = j->buf; // the writer's buffer, taken over
	reply->len          = j->len;
	j->buf              = NULL;
	fl_json_fini(j);
	return 0;
}

// {"error": text} with status. 0, or -1 when out of memory.
static int
json_error(int status, const char *text, coll_http_reply *reply)
{
	fl_json j;

	fl_json_init(&j, false);
	fl_json_obj_begin(&j);
	fl_json_kstr(&j, "error", text);
	fl_json_obj_end(&j);
	return json_body(&j, status, reply);
}

// The request's parameters as the CLI would put them in its query; 400 text in err.
typedef struct api_args {
	const char *host;     // "" for all hosts
	int64_t     since_us; // history: 0 for the beginning
	uint32_t    limit;    // history: 0 for the collector's default
} api_args;

static int
parse_args(const coll_api_query *q, api_args *a, char *err, size_t errlen)
{
	const char *v;

	a->host     = (v = coll_api_query_get(q, "host")) != NULL ? v : "";
	a->since_us = 0;
	a->limit    = 0;
	if ((v = coll_api_query_get(q, "since")) != NULL &&
	    fl_since_parse(v, fl_now_us(), &a->since_us) != 0) {
		snprintf(err, errlen,
		    "since wants a duration like 1h or 2d, or an RFC 3339 time like "
		    "2026-11-25T14:00:00Z");
		return -1;
	}
	if (a->since_us < 0) {
		a->since_us = 0;
	}
	if ((v = coll_api_query_get(q, "limit")) != NULL &&
	    fl_cfg_uint(v, 1, COLL_HISTORY_MAX, &a->limit) != 0) {
		snprintf(err, errlen, "limit wants a number from 1 to %d", COLL_HISTORY_MAX);
		return -1;
	}
	return 0;
}

// The control socket's answer to req, decoded (history read through reader). 0, or -1 with
// err (an internal failure).
static int
ask(coll_server *srv, coll_store *reader, const Fl__Request *req, Fl__Response **resp, char *err,
    size_t errlen)
{
	nng_msg *msg = NULL;
	int      rv  = coll_control_answer(srv, reader, req, &msg);

	if (rv != 0) {
		snprintf(err, errlen, "cannot build the answer: %s", nng_strerror(rv));
		return -1;
	}
	rv = fl_wire_decode_response(nng_msg_body(msg), nng_msg_len(msg), resp, err, errlen) ==
	        FL_WIRE_OK
	    ? 0
	    : -1;
	nng_msg_free(msg);
	return rv;
}

// Renders resp's reply for ep into j. 0, or 404 with err (an unknown host).
static int
render(coll_api_endpoint ep, const api_args *a, const Fl__Response *resp, fl_json *j, char *err,
    size_t errlen)
{
	switch (ep) {
	case COLL_API_STATUS:
	case COLL_API_HOSTS: {
		const Fl__StatusReply *r = ep == COLL_API_STATUS ? resp->status : resp->hosts;
		if (a->host[0] != '\0' && r->n_hosts == 0) {
			// As `faultline status --host` says it (an error, not an empty list).
			snprintf(err, errlen, "the collector knows no host named '%s'", a->host);
			return 404;
		}
		if (ep == COLL_API_STATUS) {
			fl_render_status_json(j, r);
		} else {
			fl_render_hosts_json(j, r);
		}
		return 0;
	}
	case COLL_API_HISTORY:
		fl_render_history_json(j, resp->history);
		return 0;
	case COLL_API_DIAGNOSE:
		fl_render_diagnose_json(j, resp->diagnose);
		return 0;
	case COLL_API_VERIFY:
		break; // answered by verify_main
	}
	return 0;
}

// The expected reply case of ep's request; the request itself in req (borrowing a's strings
// and the query structs).
static Fl__Response__ReplyCase
build_request(coll_api_endpoint ep, const api_args *a, Fl__Request *req, Fl__StatusQuery *sq,
    Fl__HistoryQuery *hq, Fl__DiagnoseQuery *dq)
{
	// protobuf-c string fields are char *; the request only borrows them.
	switch (ep) {
	case COLL_API_STATUS:
	case COLL_API_HOSTS:
		sq->host = (char *) a->host;
		if (ep == COLL_API_STATUS) {
			req->query_case = FL__REQUEST__QUERY_STATUS;
			req->status     = sq;
			return FL__RESPONSE__REPLY_STATUS;
		}
		req->query_case = FL__REQUEST__QUERY_HOSTS;
		req->hosts      = sq;
		return FL__RESPONSE__REPLY_HOSTS;
	case COLL_API_HISTORY:
		hq->host        = (char *) a->host;
		hq->since_us    = a->since_us;
		hq->limit       = a->limit;
		req->query_case = FL__REQUEST__QUERY_HISTORY;
		req->history    = hq;
		return FL__RESPONSE__REPLY_HISTORY;
	case COLL_API_DIAGNOSE:
		dq->host        = (char *) a->host;
		req->query_case = FL__REQUEST__QUERY_DIAGNOSE;
		req->diagnose   = dq;
		return FL__RESPONSE__REPLY_DIAGNOSE;
	case COLL_API_VERIFY:
		break;
	}
	return FL__RESPONSE__REPLY__NOT_SET;
}

static void
allowed_keys(coll_api_endpoint ep, const char *const **keys, size_t *n)
{
	switch (ep) {
	case COLL_API_STATUS:
		*keys = status_keys;
		*n    = sizeof(status_keys) / sizeof(status_keys[0]);
		return;
	case COLL_API_HISTORY:
		*keys = history_keys;
		*n    = sizeof(history_keys) / sizeof(history_keys[0]);
		return;
	case COLL_API_DIAGNOSE:
		*keys = diagnose_keys;
		*n    = sizeof(diagnose_keys) / sizeof(diagnose_keys[0]);
		return;
	case COLL_API_VERIFY:
		*keys = verify_keys;
		*n    = sizeof(verify_keys) / sizeof(verify_keys[0]);
		return;
	case COLL_API_HOSTS:
		break;
	}
	*keys = NULL;
	*n    = 0;
}

// ---- verify --------------------------------------------------------------------------------

// One /api/v1/verify: its parameters (borrowing from q, which it owns) and its connection.
typedef struct verify_job {
	coll_api        *api;
	coll_http_later *later;
	coll_api_query   q;
	const char      *release;
	const char      *rollback_to;
	char            *hosts[COLL_API_VERIFY_LIST_MAX];
	size_t           n_hosts;
	char            *canary[COLL_API_VERIFY_LIST_MAX];
	size_t           n_canary;
	uint32_t         min_hosts;
	uint32_t         wait_ms;
	int64_t          t0; // monotonic, when asked
} verify_job;

// Splits the comma-separated value of key (in place, in job->q) into v. Empty entries are
// skipped; an empty or absent value gives none. 0, or -1 with err.
static int
split_list(verify_job *job, const char *key, char **v, size_t *n, char *err, size_t errlen)
{
	char *value = (char *) coll_api_query_get(&job->q, key);
	char *save  = NULL;

	*n = 0;
	for (char *tok = value ? strtok_r(value, ",", &save) : NULL; tok != NULL;
	     tok       = strtok_r(NULL, ",", &save)) {
		if (*n == COLL_API_VERIFY_LIST_MAX) {
			snprintf(
			    err, errlen, "%s: at most %d entries", key, COLL_API_VERIFY_LIST_MAX);
			return -1;
		}
		v[(*n)++] = tok;
	}
	return 0;
}

// The value of key, or NULL when absent or empty (a pipeline's template may leave it empty).
static const char *
given(const coll_api_query *q, const char *key)
{
	const char *v = coll_api_query_get(q, key);
	return v != NULL && v[0] != '\0' ? v : NULL;
}

// The verify parameters, as `faultline verify` checks its options. 0, or -1 with err.
static int
verify_args(verify_job *job, char *err, size_t errlen)
{
	const char *v;

	if ((job->release = given(&job->q, "release")) == NULL) {
		snprintf(err, errlen, "which release? release=R is required");
		return -1;
	}
	job->rollback_to = (v = given(&job->q, "rollback_to")) != NULL ? v : "";
	job->wait_ms     = COLL_API_VERIFY_WAIT_MS;
	if ((v = given(&job->q, "min_hosts")) != NULL &&
	    fl_cfg_uint(v, 1, 100000, &job->min_hosts) != 0) {
		snprintf(err, errlen, "min_hosts wants a count from 1 to 100000");
		return -1;
	}
	if ((v = given(&job->q, "timeout")) != NULL &&
	    (fl_duration_parse(v, &job->wait_ms) != 0 || job->wait_ms > COLL_API_VERIFY_WAIT_MAX)) {
		snprintf(err, errlen, "timeout wants a duration (30s, 5m) up to %dm",
		    COLL_API_VERIFY_WAIT_MAX / 60000);
		return -1;
	}
	if (split_list(job, "hosts", job->hosts, &job->n_hosts, err, errlen) != 0 ||
	    split_list(job, "canary", job->canary, &job->n_canary, err, errlen) != 0) {
		return -1;
	}
	if (job->n_hosts > 0 && job->min_hosts > 0) {
		snprintf(err, errlen, "hosts and min_hosts exclude each other");
		return -1;
	}
	return 0;
}

static double
elapsed_s(const verify_job *job)
{
	return (double) (fl_mono_us() - job->t0) / 1e6;
}

// HTTP status of a verification's result: 200 passed, 409 failed, 503 could not verify.
static int
verify_status(Fl__VerifyResult r)
{
	return r == FL__VERIFY_RESULT__VERIFY_RESULT_PASSED ? 200
	    : r == FL__VERIFY_RESULT__VERIFY_RESULT_FAILED  ? 409
	                                                    : 503;
}

// Answers job's connection with the verify JSON (r NULL: the wait timed out with why).
static void
answer_verify_json(verify_job *job, Fl__VerifyResult result, char *const *found, size_t n_found,
    const Fl__VerifyReply *r, const char *why)
{
	coll_http_reply reply = { 0 };
	fl_json         j;

	fl_json_init(&j, false);
	fl_render_verify_json(&j, job->release, result, found, n_found, r, why, elapsed_s(job));
	if (json_body(&j, verify_status(result), &reply) != 0 &&
	    json_error(503, "out of memory", &reply) != 0) {
		reply.status = 503; // no body at all: the status still says it
	}
	coll_http_answer_later(job->later, &reply);
}

static void
answer_verify_error(verify_job *job, const char *text)
{
	coll_http_reply reply = { 0 };
	if (json_error(503, text, &reply) != 0) {
		reply.status = 503;
	}
	coll_http_answer_later(job->later, &reply);
}

static void
free_found(char **found, size_t *n_found)
{
	for (size_t i = 0; i < *n_found; i++) {
		free(found[i]);
	}
	*n_found = 0;
}

// Sleeps ms unless the server stops meanwhile. false when it stops.
static bool
nap(coll_server *srv, int ms)
{
	for (int slept = 0; slept < ms; slept += API_POLL_MS) {
		if (atomic_load(&srv->stopping)) {
			return false;
		}
		struct timespec ts = { 0, API_POLL_MS * 1000000L };
		nanosleep(&ts, NULL);
	}
	return !atomic_load(&srv->stopping);
}

// One look at the status: how many expected hosts are on the release (fl_verify_wait_count).
// 0, or -1 with err.
static int
look(verify_job *job, size_t *on, size_t *expected, char *missing, size_t mlen, char **found,
    size_t *n_found, char *err, size_t errlen)
{
	Fl__Request     req = FL__REQUEST__INIT;
	Fl__StatusQuery sq  = FL__STATUS_QUERY__INIT;
	Fl__Response   *resp;
	fl_verify_wait  w = { .release = job->release,
		 .hosts                = job->hosts,
		 .n_hosts              = job->n_hosts,
		 .min_hosts            = job->min_hosts };

	req.query_case = FL__REQUEST__QUERY_STATUS;
	req.status     = &sq;
	if (ask(job->api->srv, NULL, &req, &resp, err, errlen) != 0) {
		return -1;
	}
	if (resp->reply_case != FL__RESPONSE__REPLY_STATUS) {
		snprintf(err, errlen, "%s", resp->error ? resp->error : "no status");
		fl__response__free_unpacked(resp, NULL);
		return -1;
	}
	fl_verify_wait_count(resp->status, &w, on, expected, missing, mlen, found, n_found,
	    COLL_API_VERIFY_LIST_MAX);
	fl__response__free_unpacked(resp, NULL);
	return 0;
}

// Phase 1, as `faultline verify`: polls the status once a second until the expected hosts
// report the release. true with the hosts on it in found; false once answered (a timeout, an
// error or a stop).
static bool
wait_for_release(verify_job *job, char **found, size_t *n_found)
{
	char   missing[2048], why[2304], err[256];
	size_t on = 0, expected = 0;

	for (;;) {
		free_found(found, n_found);
		if (look(job, &on, &expected, missing, sizeof(missing), found, n_found, err,
		        sizeof(err)) != 0) {
			answer_verify_error(job, err);
			return false;
		}
		if (on >= expected && on > 0) {
			return true;
		}
		double el = elapsed_s(job);
		if (el * 1000 >= job->wait_ms) {
			fl_verify_wait_reason(
			    why, sizeof(why), el, on, expected, job->release, missing);
			answer_verify_json(job, FL__VERIFY_RESULT__VERIFY_RESULT_UNVERIFIED, found,
			    *n_found, NULL, why);
			free_found(found, n_found);
			return false;
		}
		if (!nap(job->api->srv, 1000)) {
			answer_verify_error(job, "the collector is stopping");
			free_found(found, n_found);
			return false;
		}
	}
}

// Phase 2: the control socket's verification of the release on the hosts found.
static void
verify_release(verify_job *job, char **found, size_t n_found)
{
	Fl__Request     req = FL__REQUEST__INIT;
	Fl__VerifyQuery vq  = FL__VERIFY_QUERY__INIT;
	Fl__Response   *resp;
	char            err[256];

	// protobuf-c string fields are char *; the query only borrows them.
	vq.release     = (char *) job->release;
	vq.hosts       = found;
	vq.n_hosts     = n_found;
	vq.canary      = job->canary;
	vq.n_canary    = job->n_canary;
	vq.rollback_to = (char *) job->rollback_to;
	req.query_case = FL__REQUEST__QUERY_VERIFY;
	req.verify     = &vq;
	if (ask(job->api->srv, NULL, &req, &resp, err, sizeof(err)) != 0) {
		answer_verify_error(job, err);
		return;
	}
	if (resp->reply_case != FL__RESPONSE__REPLY_VERIFY) {
		// The collector could not verify (no survey socket, ...): its sentence.
		answer_verify_error(job,
		    resp->error != NULL && resp->error[0] != '\0'
		        ? resp->error
		        : "the collector answered another question");
	} else {
		answer_verify_json(
		    job, fl_verify_reply_result(resp->verify), NULL, 0, resp->verify, NULL);
	}
	fl__response__free_unpacked(resp, NULL);
}

static void *
verify_main(void *arg)
{
	verify_job  *job = arg;
	coll_api    *a   = job->api;
	coll_server *srv = a->srv;
	char        *found[COLL_API_VERIFY_LIST_MAX];
	size_t       n_found = 0;

	if (wait_for_release(job, found, &n_found)) {
		verify_release(job, found, n_found);
		free_found(found, &n_found);
	}
	free(job);
	atomic_fetch_sub(&a->verifies, 1);
	atomic_fetch_sub(&srv->slow_jobs, 1); // last: the server may free the verifier after it
	return NULL;
}

// Starts job on a detached thread (signals blocked: main.c handles them). 0, or -1.
static int
start_verify_thread(verify_job *job)
{
	pthread_t      t;
	pthread_attr_t attr;
	sigset_t       all, old;
	int            rv;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rv = pthread_create(&t, &attr, verify_main, job);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return rv == 0 ? 0 : -1;
}

// Takes a verification slot (and a server slow job). false when none is free or stopping.
static bool
take_verify_slot(coll_api *a)
{
	coll_server *srv = a->srv;

	if (atomic_fetch_add(&a->verifies, 1) >= COLL_API_MAX_VERIFY) {
		atomic_fetch_sub(&a->verifies, 1);
		return false;
	}
	atomic_fetch_add(&srv->slow_jobs, 1);
	if (atomic_load(&srv->stopping)) {
		atomic_fetch_sub(&srv->slow_jobs, 1);
		atomic_fetch_sub(&a->verifies, 1);
		return false;
	}
	return true;
}

static void
release_verify_slot(coll_api *a)
{
	atomic_fetch_sub(&a->verifies, 1);
	atomic_fetch_sub(&a->srv->slow_jobs, 1);
}

// /api/v1/verify: checks the parameters at once (400), then hands the request to a thread.
static int
answer_verify(coll_api *a, const char *query, coll_http_reply *reply)
{
	verify_job *job = calloc(1, sizeof(*job));
	char        err[256];

	if (job == NULL) {
		return -1;
	}
	job->api = a;
	job->t0  = fl_mono_us();
	if (coll_api_query_parse(query, verify_keys, sizeof(verify_keys) / sizeof(verify_keys[0]),
	        &job->q, err, sizeof(err)) != 0 ||
	    verify_args(job, err, sizeof(err)) != 0) {
		free(job);
		return json_error(400, err, reply);
	}
	if (!take_verify_slot(a)) {
		free(job);
		reply->retry_after_s = COLL_API_VERIFY_RETRY_S;
		snprintf(err, sizeof(err), "%d verifications are running already; retry later",
		    COLL_API_MAX_VERIFY);
		return json_error(503, err, reply);
	}
	job->later = coll_http_defer(reply);
	if (start_verify_thread(job) != 0) {
		// Not deferred after all: this reply is the answer.
		reply->deferred_ = false;
		release_verify_slot(a);
		free(job);
		return json_error(503, "cannot start a verification thread", reply);
	}
	return 0;
}

// ---- the other endpoints, and the module --------------------------------------------------

int
coll_api_open(coll_server *srv, coll_api **out, char *err, size_t errlen)
{
	coll_api *a = calloc(1, sizeof(*a));

	if (a == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	a->srv = srv;
	atomic_init(&a->verifies, 0);
	fl_sql_opts o;
	coll_config_sql_opts(&srv->cfg, true, "faultline-collector-api", &o);
	if (coll_store_open(&o, &a->reader, err, errlen) != 0) {
		free(a);
		return -1;
	}
	*out = a;
	return 0;
}

void
coll_api_close(coll_api *a)
{
	if (a == NULL) {
		return;
	}
	coll_store_close(a->reader);
	free(a);
}

int
coll_api_answer(coll_api *a, coll_api_endpoint ep, const char *query, coll_http_reply *reply)
{
	coll_server       *srv = a->srv;
	Fl__Request        req = FL__REQUEST__INIT;
	Fl__StatusQuery    sq  = FL__STATUS_QUERY__INIT;
	Fl__HistoryQuery   hq  = FL__HISTORY_QUERY__INIT;
	Fl__DiagnoseQuery  dq  = FL__DIAGNOSE_QUERY__INIT;
	Fl__Response      *resp;
	coll_api_query    *q;
	const char *const *keys;
	size_t             n_keys;
	api_args           args;
	char               err[256];
	fl_json            j;
	int                rv;

	if (ep == COLL_API_VERIFY) {
		return answer_verify(a, query, reply);
	}
	if ((q = malloc(sizeof(*q))) == NULL) { // 16 KiB: not on the worker's stack
		return -1;
	}
	allowed_keys(ep, &keys, &n_keys);
	if (coll_api_query_parse(query, keys, n_keys, q, err, sizeof(err)) != 0 ||
	    parse_args(q, &args, err, sizeof(err)) != 0) {
		free(q);
		return json_error(400, err, reply);
	}
	Fl__Response__ReplyCase want = build_request(ep, &args, &req, &sq, &hq, &dq);
	if (ask(srv, a->reader, &req, &resp, err, sizeof(err)) != 0) {
		free(q);
		fl_log(FL_LOG_ERR, "api", "%s", err);
		return json_error(500, "cannot build the answer (see the collector's log)", reply);
	}
	if (resp->error != NULL && resp->error[0] != '\0') {
		rv = json_error(500, resp->error, reply);
	} else if (resp->reply_case != want) {
		rv = json_error(500, "the collector answered another question", reply);
	} else {
		fl_json_init(&j, false);
		int status = render(ep, &args, resp, &j, err, sizeof(err));
		if (status != 0) {
			fl_json_fini(&j);
			rv = json_error(status, err, reply);
		} else {
			rv = json_body(&j, 200, reply);
		}
	}
	fl__response__free_unpacked(resp, NULL);
	free(q);
	return rv;
}
