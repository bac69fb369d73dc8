// control.c - the control thread: the CLI's REQ/REP queries. See server.h for threading.
//
// Every request gets exactly one Response: a reply, or Response.error saying why not (REP
// must answer before it can receive again, and a silent drop would leave the CLI waiting for
// its timeout).

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl/log.h"
#include "fl/time.h"
#include "fl/wire.h"
#include "server.h"

static int
encode_error(const char *text, nng_msg **out)
{
	Fl__Response resp   = FL__RESPONSE__INIT;
	resp.schema_version = FL_SCHEMA_VERSION;
	resp.error          = (char *) text; // borrowed for packing only
	return fl_wire_encode(&resp.base, out);
}

static int
answer_history(coll_server *srv, const Fl__HistoryQuery *q, nng_msg **out)
{
	Fl__Response      resp  = FL__RESPONSE__INIT;
	Fl__HistoryReply *reply = NULL;
	uint32_t          limit = COLL_HISTORY_LIMIT;
	int               rv;

	if (q != NULL && q->limit != 0) {
		limit = q->limit > COLL_HISTORY_MAX ? COLL_HISTORY_MAX : q->limit;
	}
	if (coll_store_history(
	        srv->reader, q ? q->since_us : 0, q ? q->host : NULL, limit, &reply) != 0) {
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

	pthread_mutex_lock(&srv->lock);
	reply = coll_state_diagnose(&srv->state, fl_now_us(), q ? q->host : NULL);
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

static int
answer_status(coll_server *srv, const Fl__StatusQuery *q, bool as_hosts, nng_msg **out)
{
	int rv;
	// Encoding borrows the state's strings and results, so it happens under the lock.
	pthread_mutex_lock(&srv->lock);
	rv = coll_state_encode_status(&srv->state, q ? q->host : NULL, as_hosts, fl_now_us(), out);
	pthread_mutex_unlock(&srv->lock);
	return rv;
}

static void
count_error(coll_server *srv)
{
	pthread_mutex_lock(&srv->lock);
	srv->state.stats.control_errors++;
	pthread_mutex_unlock(&srv->lock);
}

static int
answer(coll_server *srv, nng_msg *req, nng_msg **out)
{
	Fl__Request   *q = NULL;
	char           why[256], text[320];
	fl_wire_reject rj;
	int            rv;

	rj = fl_wire_decode_request(nng_msg_body(req), nng_msg_len(req), &q, why, sizeof(why));
	if (rj != FL_WIRE_OK) {
		count_error(srv);
		fl_log(FL_LOG_NOTICE, "control", "cannot decode request: %s", why);
		snprintf(text, sizeof(text), "bad request (%s): %s", fl_wire_reject_name(rj), why);
		return encode_error(text, out);
	}
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
		rv = encode_error("probe-now is not available yet", out);
		break;
	default:
		count_error(srv);
		rv = encode_error("unknown request (is the CLI newer than the collector?)", out);
		break;
	}
	fl__request__free_unpacked(q, NULL);
	return rv;
}

void *
coll_control_main(void *arg)
{
	coll_server *srv = arg;
	for (;;) {
		nng_msg *req, *resp = NULL;
		int      rv = nng_recvmsg(srv->rep, &req, 0);
		if (rv == NNG_ECLOSED || atomic_load(&srv->stopping)) {
			if (rv == 0) {
				nng_msg_free(req);
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
		rv = answer(srv, req, &resp);
		nng_msg_free(req);
		if (rv != 0 && encode_error("out of memory", &resp) != 0) {
			fl_log(FL_LOG_ERR, "control", "cannot answer: %s", nng_strerror(rv));
			continue; // REP drops the request; the CLI times out
		}
		if ((rv = nng_sendmsg(srv->rep, resp, 0)) != 0) {
			nng_msg_free(resp);
			if (rv == NNG_ECLOSED) {
				break;
			}
			fl_log(
			    FL_LOG_NOTICE, "control", "cannot send answer: %s", nng_strerror(rv));
		}
	}
	return NULL;
}
