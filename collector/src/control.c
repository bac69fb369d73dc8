// control.c - the control thread: the CLI's REQ/REP queries. See server.h for threading.
//
// Every request gets exactly one Response: a reply, or Response.error saying why not (REP
// must answer before it can receive again, and a silent drop would leave the CLI waiting for
// its timeout).

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl/log.h"
#include "fl/time.h"
#include "fl/wire.h"
#include "rejects.h"
#include "server.h"
#include "survey.h"
#include "verify.h"

// Slow requests (probe-now, verify: seconds, bounded by their survey deadlines) are answered on
// a worker thread of their own, on the REP context they arrived on, so status and history keep
// answering meanwhile. At most this many run at once; more are refused with an error.
#define CONTROL_MAX_SLOW 8

static int
encode_error(const char *text, nng_msg **out)
{
	Fl__Response resp   = FL__RESPONSE__INIT;
	resp.schema_version = FL_SCHEMA_VERSION;
	resp.error          = (char *) text; // borrowed for packing only
	return fl_wire_encode(&resp.base, out);
}

// A query's label filter as a coll_filter (borrowing the query's strings).
static coll_filter
filter_of(const char *host, char *const *labels, size_t n_labels)
{
	coll_filter f = {
		.host = host, .labels = (const char *const *) labels, .n_labels = n_labels
	};
	return f;
}

static int
answer_history(coll_server *srv, const Fl__HistoryQuery *q, nng_msg **out)
{
	Fl__Response      resp  = FL__RESPONSE__INIT;
	Fl__HistoryReply *reply = NULL;
	uint32_t          limit = COLL_HISTORY_LIMIT;
	char            **names = NULL;
	size_t            n     = 0;
	int               rv;

	if (q != NULL && q->limit != 0) {
		limit = q->limit > COLL_HISTORY_MAX ? COLL_HISTORY_MAX : q->limit;
	}
	if (q != NULL && q->n_labels > 0) {
		// The hosts known now with those labels; SQLite selects their events.
		coll_filter f = filter_of(NULL, q->labels, q->n_labels);
		pthread_mutex_lock(&srv->lock);
		rv = coll_state_names_with_labels(&srv->state, &f, &names, &n);
		pthread_mutex_unlock(&srv->lock);
		if (rv != 0) {
			return NNG_ENOMEM;
		}
	}
	rv = coll_store_history_hosts(srv->reader, q ? q->since_us : 0, q ? q->host : NULL,
	    (const char *const *) names, n, limit, &reply);
	coll_names_free(names, n);
	if (rv != 0) {
		return encode_error("cannot read history (see the collector's log)", out);
	}
	resp.schema_version = FL_SCHEMA_VERSION;
	resp.reply_case     = FL__RESPONSE__REPLY_HISTORY;
	resp.history        = reply;
	rv                  = fl_wire_encode(&resp.base, out);
	coll_history_reply_free(reply);
	return rv;
}

static int
answer_diagnose(coll_server *srv, const Fl__DiagnoseQuery *q, nng_msg **out)
{
	Fl__Response       resp = FL__RESPONSE__INIT;
	Fl__DiagnoseReply *reply;
	int                rv;

	coll_filter f =
	    q != NULL ? filter_of(q->host, q->labels, q->n_labels) : filter_of(NULL, NULL, 0);
	pthread_mutex_lock(&srv->lock);
	reply = coll_state_diagnose_filtered(&srv->state, fl_now_us(), &f);
	pthread_mutex_unlock(&srv->lock); // the reply owns its strings
	if (reply == NULL) {
		return encode_error(
		    "diagnosis is not available (correlation engine gave no answer)", out);
	}
	resp.schema_version = FL_SCHEMA_VERSION;
	resp.reply_case     = FL__RESPONSE__REPLY_DIAGNOSE;
	resp.diagnose       = reply;
	rv                  = fl_wire_encode(&resp.base, out);
	corr_reply_free(reply);
	return rv;
}

// The page size a status query asked for, within [COLL_STATUS_PAGE_MIN, COLL_STATUS_PAGE_MAX];
// 0 (no paging) when it asked for none.
static size_t
status_page_bytes(const Fl__StatusQuery *q)
{
	if (q == NULL || q->page_bytes == 0) {
		return 0;
	}
	if (q->page_bytes < COLL_STATUS_PAGE_MIN) {
		return COLL_STATUS_PAGE_MIN;
	}
	return q->page_bytes > COLL_STATUS_PAGE_MAX ? COLL_STATUS_PAGE_MAX : q->page_bytes;
}

static int
answer_status(coll_server *srv, const Fl__StatusQuery *q, bool as_hosts, nng_msg **out)
{
	int         rv;
	coll_filter f =
	    q != NULL ? filter_of(q->host, q->labels, q->n_labels) : filter_of(NULL, NULL, 0);
	// Encoding borrows the state's strings and results, so it happens under the lock.
	const char *after = q != NULL ? q->after_host : NULL;
	pthread_mutex_lock(&srv->lock);
	rv = coll_state_encode_status_page(
	    &srv->state, &f, after, status_page_bytes(q), as_hosts, fl_now_us(), out);
	pthread_mutex_unlock(&srv->lock);
	if (rv != 0 || as_hosts || (after != NULL && after[0] != '\0')) {
		return rv; // later pages: the verifications came with the first
	}
	// Issue 6: the last verification of each release. The state module encodes the reply, so
	// the verifications are added by decoding it again (status is not a hot path).
	Fl__Response *resp = fl__response__unpack(NULL, nng_msg_len(*out), nng_msg_body(*out));
	if (resp == NULL || resp->status == NULL) {
		if (resp != NULL) {
			fl__response__free_unpacked(resp, NULL);
		}
		return 0; // keep the reply without verifications
	}
	coll_verify_status_add(srv, resp->status);
	coll_rejects_status_add(srv->rejects, resp->status);
	if (resp->status->n_verifications > 0 || resp->status->n_rejected_senders > 0) {
		nng_msg *m;
		if (fl_wire_encode(&resp->base, &m) == 0) {
			nng_msg_free(*out);
			*out = m;
		}
	}
	coll_verify_status_fini(resp->status);
	coll_rejects_status_fini(resp->status);
	fl__response__free_unpacked(resp, NULL);
	return 0;
}

static int
answer_probe_now(coll_server *srv, const Fl__ProbeNowQuery *q, nng_msg **out)
{
	Fl__Response       resp = FL__RESPONSE__INIT;
	Fl__ProbeNowReply *reply;
	char             **live, **rel, **prev;
	size_t             n;
	char               err[256];
	int                rv;

	if (srv->survey == NULL) {
		return encode_error(
		    "probe-now needs a survey address: set [collector] survey", out);
	}
	if (coll_live_hosts(srv, &live, &rel, &prev, &n) != 0) {
		return NNG_ENOMEM;
	}
	rv = coll_survey_run(srv->survey, q->timeout_ms, q->rollback_to, q->n_rollback_to, live, n,
	    &reply, err, sizeof(err));
	coll_strv_free(live, n);
	coll_strv_free(rel, n);
	coll_strv_free(prev, n);
	if (rv != 0) {
		return encode_error(err, out);
	}
	resp.schema_version = FL_SCHEMA_VERSION;
	resp.reply_case     = FL__RESPONSE__REPLY_PROBE_NOW;
	resp.probe_now      = reply;
	rv                  = fl_wire_encode(&resp.base, out);
	fl__probe_now_reply__free_unpacked(reply, NULL);
	return rv;
}

static int
answer_verify(coll_server *srv, const Fl__VerifyQuery *q, nng_msg **out)
{
	Fl__Response     resp = FL__RESPONSE__INIT;
	Fl__VerifyReply *reply;
	char             err[256];
	int              rv;

	if (q->release[0] == '\0') {
		return encode_error("verify needs a release", out);
	}
	if (coll_verify_run(srv, q, &reply, err, sizeof(err)) != 0) {
		return encode_error(err, out);
	}
	coll_verify_record(srv, reply, "full", false);
	resp.schema_version = FL_SCHEMA_VERSION;
	resp.reply_case     = FL__RESPONSE__REPLY_VERIFY;
	resp.verify         = reply;
	rv                  = fl_wire_encode(&resp.base, out);
	fl__verify_reply__free_unpacked(reply, NULL);
	return rv;
}

// `faultline forget HOST`. The state changes at once (status and diagnose stop showing the
// host); the deletion of its rows and the "forgotten" event reach SQLite through the ingest
// thread's next batch (server.h, pending). Who may ask: whoever can reach the control socket,
// which is already ipc:// (file mode 0660), loopback tcp:// or mutual TLS (docs/security.md).
static int
answer_forget(coll_server *srv, const Fl__ForgetQuery *q, nng_msg **out)
{
	Fl__Response    resp  = FL__RESPONSE__INIT;
	Fl__ForgetReply reply = FL__FORGET_REPLY__INIT;
	coll_forgotten  what  = { 0 };
	coll_ops        ops;
	int             rc;

	if (q == NULL || q->host[0] == '\0') {
		return encode_error("forget needs a host name", out);
	}
	coll_ops_init(&ops);
	pthread_mutex_lock(&srv->lock);
	rc = coll_state_forget(&srv->state, q->host, fl_now_us(),
	    "forgotten by an operator (faultline forget)", &ops, &what);
	if (rc == 0 && coll_ops_move(&srv->pending, &ops) != 0) {
		rc = -1; // the state already forgot it; only the durable part is lost
	}
	pthread_mutex_unlock(&srv->lock);
	coll_ops_fini(&ops);
	if (rc < 0) {
		fl_log(FL_LOG_ERR, "control", "cannot forget %s: out of memory", q->host);
		return encode_error("cannot forget the host: the collector is out of memory", out);
	}
	if (rc == 0) {
		fl_log(FL_LOG_NOTICE, "control", "forgot host %s (%u probes) on request", q->host,
		    what.probes);
	}
	reply.host          = q->host; // borrowed for packing
	reply.found         = rc == 0;
	reply.last_seen_us  = what.last_seen_us;
	reply.stale         = what.stale;
	reply.probes        = what.probes;
	resp.schema_version = FL_SCHEMA_VERSION;
	resp.reply_case     = FL__RESPONSE__REPLY_FORGET;
	resp.forget         = &reply;
	return fl_wire_encode(&resp.base, out);
}

static void
count_error(coll_server *srv)
{
	pthread_mutex_lock(&srv->lock);
	srv->state.stats.control_errors++;
	pthread_mutex_unlock(&srv->lock);
}

// Replaces an answer larger than the client said it can receive by an error that says so:
// the client would otherwise drop the connection and report no answer at all.
static int
cap_reply(uint32_t max_bytes, nng_msg **out)
{
	char text[128];
	if (max_bytes == 0 || nng_msg_len(*out) <= max_bytes) {
		return 0;
	}
	snprintf(text, sizeof(text), "reply too large (%zu bytes over the %u limit)",
	    nng_msg_len(*out), max_bytes);
	nng_msg_free(*out);
	*out = NULL;
	return encode_error(text, out);
}

// Answers a decoded request and frees it.
static int
dispatch(coll_server *srv, Fl__Request *q, nng_msg **out)
{
	int      rv;
	uint32_t max_bytes = q->max_reply_bytes;

	switch (q->query_case) {
	case FL__REQUEST__QUERY_STATUS:
		rv = answer_status(srv, q->status, false, out);
		break;
	case FL__REQUEST__QUERY_HOSTS:
		rv = answer_status(srv, q->hosts, true, out);
		break;
	case FL__REQUEST__QUERY_HISTORY:
		rv = answer_history(srv, q->history, out);
		break;
	case FL__REQUEST__QUERY_DIAGNOSE:
		rv = answer_diagnose(srv, q->diagnose, out);
		break;
	case FL__REQUEST__QUERY_PROBE_NOW:
		rv = answer_probe_now(srv, q->probe_now, out);
		break;
	case FL__REQUEST__QUERY_VERIFY:
		rv = answer_verify(srv, q->verify, out);
		break;
	case FL__REQUEST__QUERY_FORGET:
		rv = answer_forget(srv, q->forget, out);
		break;
	default:
		count_error(srv);
		rv = encode_error("unknown request (is the CLI newer than the collector?)", out);
		break;
	}
	fl__request__free_unpacked(q, NULL);
	if (rv == 0) {
		rv = cap_reply(max_bytes, out);
	}
	return rv;
}

static bool
is_slow(const Fl__Request *q)
{
	return q->query_case == FL__REQUEST__QUERY_PROBE_NOW ||
	    q->query_case == FL__REQUEST__QUERY_VERIFY;
}

// Sends resp on ctx (aio reused). Takes resp.
static int
send_on(nng_ctx ctx, nng_aio *aio, nng_msg *resp)
{
	int rv;
	nng_aio_set_timeout(aio, NNG_DURATION_DEFAULT);
	nng_aio_set_msg(aio, resp);
	nng_ctx_send(ctx, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0) {
		nng_msg_free(resp); // the aio did not take it
	}
	return rv;
}

// Answers q (decoded, or NULL with a ready error in *out) and sends the answer on ctx.
static void
answer_and_send(coll_server *srv, nng_ctx ctx, nng_aio *aio, Fl__Request *q, nng_msg *resp)
{
	int rv = 0;
	if (q != NULL) {
		rv = dispatch(srv, q, &resp);
	}
	if (rv != 0 && encode_error("out of memory", &resp) != 0) {
		fl_log(FL_LOG_ERR, "control", "cannot answer: %s", nng_strerror(rv));
		return; // REP drops the request; the CLI times out
	}
	if ((rv = send_on(ctx, aio, resp)) != 0 && rv != NNG_ECLOSED) {
		fl_log(FL_LOG_NOTICE, "control", "cannot send answer: %s", nng_strerror(rv));
	}
}

typedef struct slow_job {
	coll_server *srv;
	nng_ctx      ctx;
	Fl__Request *q;
} slow_job;

static void *
slow_main(void *arg)
{
	slow_job *j = arg;
	nng_aio  *aio;

	if (nng_aio_alloc(&aio, NULL, NULL) == 0) {
		answer_and_send(j->srv, j->ctx, aio, j->q, NULL);
		nng_aio_free(aio);
	} else {
		fl__request__free_unpacked(j->q, NULL);
	}
	nng_ctx_close(j->ctx);
	atomic_fetch_sub(&j->srv->slow_jobs, 1);
	free(j);
	return NULL;
}

// Hands q and ctx to a worker thread. Returns 0 (both taken) or -1 (caller keeps them).
static int
start_slow(coll_server *srv, nng_ctx ctx, Fl__Request *q)
{
	slow_job      *j;
	pthread_t      t;
	pthread_attr_t a;
	sigset_t       all, old;
	int            rv;

	if (atomic_fetch_add(&srv->slow_jobs, 1) >= CONTROL_MAX_SLOW ||
	    (j = malloc(sizeof(*j))) == NULL) {
		atomic_fetch_sub(&srv->slow_jobs, 1);
		return -1;
	}
	*j = (slow_job) { .srv = srv, .ctx = ctx, .q = q };
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rv = pthread_create(&t, &a, slow_main, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&a);
	if (rv != 0) {
		free(j);
		atomic_fetch_sub(&srv->slow_jobs, 1);
		return -1;
	}
	return 0;
}

void *
coll_control_main(void *arg)
{
	coll_server *srv = arg;
	nng_aio     *aio;
	nng_ctx      ctx;
	int          rv;

	if ((rv = nng_aio_alloc(&aio, NULL, NULL)) != 0 ||
	    (rv = nng_ctx_open(&ctx, srv->rep)) != 0) {
		fl_log(FL_LOG_ERR, "control", "cannot start: %s", nng_strerror(rv));
		return NULL;
	}
	for (;;) {
		nng_msg       *req, *resp = NULL;
		Fl__Request   *q = NULL;
		char           why[256], text[320];
		fl_wire_reject rj;

		nng_aio_set_timeout(aio, NNG_DURATION_DEFAULT);
		nng_ctx_recv(ctx, aio);
		nng_aio_wait(aio);
		rv = nng_aio_result(aio);
		if (rv == NNG_ECLOSED || atomic_load(&srv->stopping)) {
			if (rv == 0) {
				nng_msg_free(nng_aio_get_msg(aio));
			}
			break;
		}
		if (rv != 0) {
			if (rv != NNG_ETIMEDOUT) {
				fl_log(
				    FL_LOG_WARN, "control", "cannot receive: %s", nng_strerror(rv));
			}
			continue;
		}
		req = nng_aio_get_msg(aio);
		rj  = fl_wire_decode_request(
		     nng_msg_body(req), nng_msg_len(req), &q, why, sizeof(why));
		nng_msg_free(req);
		if (rj != FL_WIRE_OK) {
			count_error(srv);
			fl_log(FL_LOG_NOTICE, "control", "cannot decode request: %s", why);
			snprintf(text, sizeof(text), "bad request (%s): %s",
			    fl_wire_reject_name(rj), why);
			if (encode_error(text, &resp) == 0) {
				answer_and_send(srv, ctx, aio, NULL, resp);
			}
			continue;
		}
		if (is_slow(q)) {
			nng_ctx next;
			if ((rv = nng_ctx_open(&next, srv->rep)) == 0) {
				if (start_slow(srv, ctx, q) == 0) {
					ctx = next; // the worker answers on the old context and
					            // closes it
					continue;
				}
				nng_ctx_close(next);
			}
			fl__request__free_unpacked(q, NULL);
			if (encode_error("too many probe-now/verify requests at once; try again",
			        &resp) == 0) {
				answer_and_send(srv, ctx, aio, NULL, resp);
			}
			continue;
		}
		answer_and_send(srv, ctx, aio, q, NULL);
	}
	nng_ctx_close(ctx);
	nng_aio_free(aio);
	return NULL;
}
