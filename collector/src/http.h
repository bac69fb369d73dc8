// http.h - the collector's HTTP listener ([collector] http): a small, bounded HTTP/1.1 server
// on nng's stream layer, serving a table of routes (GET and HEAD only).
//
// Why not nng's own HTTP server (nng/supplemental/http): in nng 1.5.2 it cannot bound what a
// client makes it hold. Its accept loop (http_server.c, http_server_acccb) takes every
// connection with no limit; a request head is read with no deadline (nni_http_read_req has no
// timeout, so a client sending one byte a second holds its connection, its 8 KiB buffer and a
// file descriptor forever: a slowloris that exhausts descriptors stops the report and control
// listeners too); and header lines accumulate without a count or size limit. Nothing in its
// public API reaches those, so this module reads requests itself, on the same nng streams and
// TLS (nng_stream_listener, tcp:// or tls+tcp://), and bounds everything:
//
// - at most COLL_HTTP_MAX_CONNS connections with COLL_HTTP_HEAD_MS to send their request head;
//   while that many are open, as many more are admitted with only COLL_HTTP_BUSY_HEAD_MS (a
//   real client sends its head at once and is served; slow clients holding every regular slot
//   cannot keep a scrape out); beyond both, a connection is closed at once and nothing is
//   accepted for COLL_HTTP_FULL_PAUSE_MS (later clients wait in the kernel's backlog, so a
//   client reconnecting in a loop cannot make the collector spin); counted;
// - the request head must arrive whole within that deadline of the accept and fit in
//   COLL_HTTP_HEAD_MAX bytes (else 431, or the connection is closed: counted);
// - every reply carries X-Content-Type-Options: nosniff (a browser never guesses a type);
// - every reply carries COLL_HTTP_CSP as its Content-Security-Policy: a page served here runs
//   only scripts and styles fetched from this listener (no inline code, no other origin), so
//   a name an agent sends can never become code even if a page inserted it as HTML;
// - a reply must be written within COLL_HTTP_WRITE_MS; every connection closes after its
//   reply (Connection: close), so nothing lingers between requests.
//
// Handlers run on one worker thread of this module, never on nng's threads, one at a time:
// a slow render delays other HTTP replies only, never ingest or the control socket. Request
// bodies are not read (only GET and HEAD are served).
//
// Thread-safe: start and stop from one thread; the stats from any.

#ifndef FL_COLLECTOR_HTTP_H
#define FL_COLLECTOR_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fl/tls.h"

#define COLL_HTTP_MAX_CONNS     128   // open at once
#define COLL_HTTP_HEAD_MAX      8192  // bytes of request line and headers
#define COLL_HTTP_HEAD_MS       5000  // to receive them, from the accept
#define COLL_HTTP_BUSY_HEAD_MS  1000  // to receive them when MAX_CONNS are already open
#define COLL_HTTP_FULL_PAUSE_MS 50    // no accept for this long after refusing one
#define COLL_HTTP_WRITE_MS      30000 // to write a reply

// The Content-Security-Policy of every reply: own files only, no inline script or style, no
// plugins, no framing, no forms, no <base>.
#define COLL_HTTP_CSP                                                                      \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "        \
	"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; " \
	"form-action 'none'"

typedef struct coll_http coll_http;

// What a handler answers. body is malloc'd (the server frees it) or NULL for none.
typedef struct coll_http_reply {
	int         status;       // 200, 404, 500, ...
	const char *content_type; // static string
	char       *body;
	size_t      len;
	unsigned    retry_after_s; // > 0: a Retry-After header (with a 503)
	void       *conn_;         // the server's, for coll_http_defer
	bool        deferred_;
} coll_http_reply;

// A request whose answer comes later (coll_http_defer).
typedef struct coll_http_later coll_http_later;

// In a handler: the request will be answered later, from any thread, by exactly one call of
// coll_http_answer_later with what is returned (the handler leaves reply otherwise empty and
// returns 0). Meanwhile the worker serves other requests; the connection stays open, and
// coll_http_stop waits until it is answered. A handler that defers must be sure to answer,
// within bounded time.
coll_http_later *coll_http_defer(coll_http_reply *reply);

// Answers a deferred request with reply (whose body is taken). Any thread, never a handler's
// own call (it would be answered before its handler returned).
void coll_http_answer_later(coll_http_later *later, coll_http_reply *reply);

// A route: an exact path and its handler. The handler runs on the worker thread with the ctx
// given to coll_http_start and the request's query string as it came (the text after '?',
// not decoded; "" when there is none); it fills reply and returns 0, or -1 for a 500.
typedef struct coll_http_route {
	const char *path;
	int (*handler)(void *ctx, const char *query, coll_http_reply *reply);
} coll_http_route;

// Parses a [collector] http value: "HOST:PORT", "http://HOST:PORT" or "https://HOST:PORT"
// (HOST a name, an IPv4 address or [IPv6]; no path). Writes the nng URL (tcp:// or
// tls+tcp://) to url and whether it is https to *tls. Returns 0, or -1 with a reason in err.
int coll_http_parse_addr(
    const char *v, char *url, size_t urllen, bool *tls, char *err, size_t errlen);

// Listens on addr (a [collector] http value) and serves routes[0..n_routes) (borrowed: they
// must outlive the server). tls is used for https (the server's certificate; clients are not
// asked for one) and may be NULL otherwise. *port gets the bound TCP port. On failure nothing
// is left running and err says why.
int coll_http_start(const char *addr, const fl_tls_opts *tls, const coll_http_route *routes,
    size_t n_routes, void *ctx, coll_http **out, int *port, char *err, size_t errlen);

// Stops listening, closes every connection, waits for the worker (and so for every deferred
// request to be answered). Accepts NULL.
void coll_http_stop(coll_http *h);

typedef struct coll_http_stats {
	uint64_t requests;  // replies sent (any status)
	uint64_t refused;   // connections closed at accept: 2 x COLL_HTTP_MAX_CONNS open
	uint64_t timed_out; // request heads not complete within their deadline, or replies not
	                    // written within COLL_HTTP_WRITE_MS
	uint64_t too_large; // request heads over COLL_HTTP_HEAD_MAX
	uint32_t open;      // connections open now
} coll_http_stats;

void coll_http_get_stats(coll_http *h, coll_http_stats *st);

#endif // FL_COLLECTOR_HTTP_H
