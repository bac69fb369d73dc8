// api.c - see api.h.

#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_query.h"
#include "control.h"
#include "fl/cfg.h"
#include "fl/json.h"
#include "fl/log.h"
#include "fl/render_reply.h"
#include "fl/time.h"
#include "fl/wire.h"

#define API_CONTENT_TYPE "application/json"

// The parameters each endpoint accepts (anything else is a 400).
static const char *const status_keys[]   = { "host" };
static const char *const history_keys[]  = { "since", "host", "limit" };
static const char *const diagnose_keys[] = { "host" };

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

// The control socket's answer to req, decoded. 0, or -1 with err (an internal failure).
static int
ask(coll_server *srv, const Fl__Request *req, Fl__Response **resp, char *err, size_t errlen)
{
	nng_msg *msg = NULL;
	int      rv  = coll_control_answer(srv, req, &msg);

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
	case COLL_API_HOSTS:
		break;
	}
	*keys = NULL;
	*n    = 0;
}

int
coll_api_answer(coll_server *srv, coll_api_endpoint ep, const char *query, coll_http_reply *reply)
{
	Fl__Request        req = FL__REQUEST__INIT;
	Fl__StatusQuery    sq  = FL__STATUS_QUERY__INIT;
	Fl__HistoryQuery   hq  = FL__HISTORY_QUERY__INIT;
	Fl__DiagnoseQuery  dq  = FL__DIAGNOSE_QUERY__INIT;
	Fl__Response      *resp;
	coll_api_query    *q;
	const char *const *keys;
	size_t             n_keys;
	api_args           a;
	char               err[256];
	fl_json            j;
	int                rv;

	if ((q = malloc(sizeof(*q))) == NULL) { // 16 KiB: not on the worker's stack
		return -1;
	}
	allowed_keys(ep, &keys, &n_keys);
	if (coll_api_query_parse(query, keys, n_keys, q, err, sizeof(err)) != 0 ||
	    parse_args(q, &a, err, sizeof(err)) != 0) {
		free(q);
		return json_error(400, err, reply);
	}
	Fl__Response__ReplyCase want = build_request(ep, &a, &req, &sq, &hq, &dq);
	if (ask(srv, &req, &resp, err, sizeof(err)) != 0) {
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
		int status = render(ep, &a, resp, &j, err, sizeof(err));
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
