// api.h - the collector's JSON API on its HTTP listener (/api/v1/..., README "HTTP API").
//
// One renderer, two doors: each endpoint builds the request the CLI would send, answers it
// with the control socket's own code (coll_control_answer, so both doors see the same reply)
// and renders that reply with the CLI's --json renderers (fl/render_reply.h). The API is
// read-only: probe-now, mute, unmute and forget stay on the control socket (README says why).
//
// Requests: the query string is parsed by api_query.h (unknown or repeated parameters,
// bad escapes and oversized values are 400). Every answer is JSON (application/json): the
// reply's shape with 200, or {"error": "..."} with a 4xx/5xx status.

#ifndef FL_COLLECTOR_API_H
#define FL_COLLECTOR_API_H

#include "http.h"
#include "hub.h"

typedef enum coll_api_endpoint {
	COLL_API_STATUS,   // /api/v1/status?host=
	COLL_API_HOSTS,    // /api/v1/hosts
	COLL_API_HISTORY,  // /api/v1/history?since=&host=&limit=
	COLL_API_DIAGNOSE, // /api/v1/diagnose?host=
} coll_api_endpoint;

// Answers one request for ep with query (as the HTTP listener passes it) into reply. Runs on
// the HTTP worker thread; takes the state lock only as the control socket does. 0, or -1 when
// out of memory (the listener answers 500).
int coll_api_answer(
    coll_server *srv, coll_api_endpoint ep, const char *query, coll_http_reply *reply);

#endif // FL_COLLECTOR_API_H
