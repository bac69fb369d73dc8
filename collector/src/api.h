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
//
// /api/v1/verify takes seconds to minutes (waiting for the hosts to report the release, then
// the verification's probe-now rounds): it runs on a thread of its own, at most
// COLL_API_MAX_VERIFY at once (beyond: 503 with Retry-After), and its connection is answered
// when it ends (coll_http_defer), so the listener's worker keeps serving /metrics and the
// other routes meanwhile. Those threads count as the server's slow jobs (server stop waits for
// them before it frees the verifier) and give up waiting once the server stops.

#ifndef FL_COLLECTOR_API_H
#define FL_COLLECTOR_API_H

#include <stddef.h>

#include "http.h"
#include "hub.h"

#define COLL_API_MAX_VERIFY      4      // verifications running at once
#define COLL_API_VERIFY_RETRY_S  10     // Retry-After when that many run
#define COLL_API_VERIFY_WAIT_MS  300000 // default timeout= (as `faultline verify --timeout`)
#define COLL_API_VERIFY_WAIT_MAX 600000 // largest timeout= accepted
#define COLL_API_VERIFY_LIST_MAX 256    // hosts= and canary= entries

typedef enum coll_api_endpoint {
	COLL_API_STATUS,   // /api/v1/status?host=
	COLL_API_HOSTS,    // /api/v1/hosts
	COLL_API_HISTORY,  // /api/v1/history?since=&host=&limit=
	COLL_API_DIAGNOSE, // /api/v1/diagnose?host=
	COLL_API_VERIFY, // /api/v1/verify?release=&hosts=&min_hosts=&canary=&rollback_to=&timeout=
} coll_api_endpoint;

typedef struct coll_api coll_api;

// Opens the API's own read connection to the collector's database (history is read on the
// HTTP worker thread, never through the control thread's). 0, or -1 with err.
int coll_api_open(coll_server *srv, coll_api **out, char *err, size_t errlen);

// Frees it. Call after the HTTP listener has stopped (so no verification is running).
// Accepts NULL.
void coll_api_close(coll_api *a);

// Answers one request for ep with query (as the HTTP listener passes it) into reply, or, for
// verify, defers it (coll_http_defer) to a thread of its own. Runs on the HTTP worker thread.
// 0, or -1 when out of memory (the listener answers 500).
int coll_api_answer(coll_api *a, coll_api_endpoint ep, const char *query, coll_http_reply *reply);

#endif // FL_COLLECTOR_API_H
