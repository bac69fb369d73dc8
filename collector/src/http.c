// http.c - see http.h.
//
// Every connection has at most one nng aio in flight (a receive while its request head
// arrives, then a send), so its state is one of: READING (receive pending), QUEUED (head
// complete, waiting for the worker), WRITING (send pending) or DEAD (waiting for the worker to
// free it). Callbacks run on nng's threads and only move connections between states under
// h->mtx; the worker thread builds replies and frees connections (nng_aio_free and
// nng_stream_free wait for callbacks, so they never run inside one).

#include "http.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>

#include "fl/log.h"
#include "fl/time.h"

#define CONN_SLOTS (2 * COLL_HTTP_MAX_CONNS) // regular, and admitted while busy (admit_ms)

typedef enum conn_state {
	CONN_READING,
	CONN_QUEUED,
	CONN_DEFERRED, // its handler answers later (coll_http_defer)
	CONN_WRITING,
	CONN_DEAD
} conn_state;

typedef struct conn conn;
struct conn {
	coll_http  *h;
	nng_stream *s;
	nng_aio    *rx;
	nng_aio    *tx;
	conn_state  state;
	int64_t     deadline_us; // monotonic: head complete by then, later: reply written by then
	conn       *next;        // in the queue or the dead list
	size_t      len;         // bytes of head received
	char        head[COLL_HTTP_HEAD_MAX];
	char        hdr[1024]; // reply status line and headers
	size_t      hdr_len;
	char       *body; // reply body (malloc'd) or NULL
	size_t      body_len;
	size_t      sent;
	bool        head_only; // a HEAD request: headers only
};

struct coll_http {
	pthread_mutex_t        mtx;
	pthread_cond_t         cv;
	nng_stream_listener   *l;
	nng_aio               *acc;
	bool                   acc_sleeping; // the accept aio is a back-off sleep
	bool                   stopping;
	pthread_t              worker;
	bool                   worker_started;
	conn                  *conns[CONN_SLOTS];
	size_t                 n_conns;
	conn                  *queue, *queue_tail;
	conn                  *dead;
	const coll_http_route *routes;
	size_t                 n_routes;
	void                  *ctx;
	coll_http_stats        st;
};

// ---- address ---------------------------------------------------------------------------------

int
coll_http_parse_addr(const char *v, char *url, size_t urllen, bool *tls, char *err, size_t errlen)
{
	const char *hp = v;
	const char *colon;
	char       *end;
	long        port;

	*tls = false;
	if (strncmp(v, "https://", 8) == 0) {
		*tls = true;
		hp += 8;
	} else if (strncmp(v, "http://", 7) == 0) {
		hp += 7;
	}
	if (hp[0] == '[') {
		const char *rb = strchr(hp, ']');
		colon          = rb != NULL && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = strrchr(hp, ':');
		if (colon != NULL && memchr(hp, ':', (size_t) (colon - hp)) != NULL) {
			colon = NULL; // a bare IPv6 address: needs brackets
		}
	}
	if (colon == NULL || colon == hp) {
		snprintf(err, errlen,
		    "http: '%s' is not HOST:PORT, http://HOST:PORT or https://HOST:PORT", v);
		return -1;
	}
	errno = 0;
	port  = strtol(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 || port > 65535) {
		snprintf(err, errlen,
		    "http: '%s': the port must be a number from 0 to 65535 (and no "
		    "path may follow)",
		    v);
		return -1;
	}
	for (const char *p = hp; p < colon; p++) {
		if (*p <= ' ' || *p == '/' || *p == '@' || *p == '?' || *p == '#') {
			snprintf(err, errlen, "http: '%s' has a bad character in its host", v);
			return -1;
		}
	}
	if (snprintf(url, urllen, "%s://%.*s:%ld", *tls ? "tls+tcp" : "tcp", (int) (colon - hp), hp,
	        port) >= (int) urllen) {
		snprintf(err, errlen, "http: address too long");
		return -1;
	}
	return 0;
}

// ---- connections -------------------------------------------------------------------------------

// With h->mtx held: hand c to the worker to be freed.
static void
conn_kill(coll_http *h, conn *c)
{
	c->state = CONN_DEAD;
	c->next  = h->dead;
	h->dead  = c;
	pthread_cond_broadcast(&h->cv);
}

static void
conn_free(conn *c)
{
	nng_aio_free(c->rx);
	nng_aio_free(c->tx);
	if (c->s != NULL) {
		nng_stream_free(c->s);
	}
	free(c->body);
	free(c);
}

static int64_t
remaining_ms(const conn *c)
{
	int64_t left = c->deadline_us - fl_mono_us();
	return left <= 0 ? 0 : (left + 999) / 1000;
}

// With h->mtx held: ask for more of the head, within what is left of its deadline.
static void
read_more(coll_http *h, conn *c)
{
	int64_t ms = remaining_ms(c);
	nng_iov iov;

	if (ms == 0) {
		h->st.timed_out++;
		conn_kill(h, c);
		return;
	}
	iov.iov_buf = c->head + c->len;
	iov.iov_len = sizeof(c->head) - 1 - c->len; // room for a terminating NUL
	nng_aio_set_iov(c->rx, 1, &iov);
	nng_aio_set_timeout(c->rx, (nng_duration) ms);
	nng_stream_recv(c->s, c->rx);
}

static bool
head_complete(const conn *c)
{
	return strstr(c->head, "\r\n\r\n") != NULL || strstr(c->head, "\n\n") != NULL;
}

static void
rx_cb(void *arg)
{
	conn      *c = arg;
	coll_http *h = c->h;
	int        rv;

	pthread_mutex_lock(&h->mtx);
	if ((rv = nng_aio_result(c->rx)) != 0) {
		if (rv == NNG_ETIMEDOUT) {
			h->st.timed_out++;
		}
		conn_kill(h, c);
		pthread_mutex_unlock(&h->mtx);
		return;
	}
	c->len += nng_aio_count(c->rx);
	c->head[c->len] = '\0';
	if (memchr(c->head, '\0', c->len) != NULL) {
		conn_kill(h, c); // not HTTP
	} else if (head_complete(c) || c->len >= sizeof(c->head) - 1) {
		c->state = CONN_QUEUED;
		c->next  = NULL;
		if (h->queue_tail != NULL) {
			h->queue_tail->next = c;
		} else {
			h->queue = c;
		}
		h->queue_tail = c;
		pthread_cond_broadcast(&h->cv);
	} else {
		read_more(h, c);
	}
	pthread_mutex_unlock(&h->mtx);
}

// With h->mtx held: write what is left of the reply, within the write deadline.
static void
write_more(coll_http *h, conn *c)
{
	nng_iov iov[2];
	int     n  = 0;
	int64_t ms = remaining_ms(c);

	if (ms == 0) {
		h->st.timed_out++;
		conn_kill(h, c);
		return;
	}
	if (c->sent < c->hdr_len) {
		iov[n].iov_buf   = c->hdr + c->sent;
		iov[n++].iov_len = c->hdr_len - c->sent;
		if (c->body_len > 0) {
			iov[n].iov_buf   = c->body;
			iov[n++].iov_len = c->body_len;
		}
	} else {
		iov[n].iov_buf   = c->body + (c->sent - c->hdr_len);
		iov[n++].iov_len = c->body_len - (c->sent - c->hdr_len);
	}
	nng_aio_set_iov(c->tx, (unsigned) n, iov);
	nng_aio_set_timeout(c->tx, (nng_duration) ms);
	nng_stream_send(c->s, c->tx);
}

static void
tx_cb(void *arg)
{
	conn      *c = arg;
	coll_http *h = c->h;
	int        rv;

	pthread_mutex_lock(&h->mtx);
	if ((rv = nng_aio_result(c->tx)) != 0) {
		if (rv == NNG_ETIMEDOUT) {
			h->st.timed_out++;
		}
		conn_kill(h, c);
	} else {
		c->sent += nng_aio_count(c->tx);
		if (c->sent < c->hdr_len + c->body_len) {
			write_more(h, c);
		} else {
			h->st.requests++;
			conn_kill(h, c); // Connection: close
		}
	}
	pthread_mutex_unlock(&h->mtx);
}

// With h->mtx held: the head deadline of a new connection, in ms from now, or 0 when there is
// no room. Up to COLL_HTTP_MAX_CONNS connections get COLL_HTTP_HEAD_MS each; while that many are
// open, up to as many more are admitted with only COLL_HTTP_BUSY_HEAD_MS to send their head:
// a real client (Prometheus, curl) sends it at once and is served, a slow one is soon closed.
// So slow clients holding every regular slot cannot keep a scrape out.
static int
admit_ms(const coll_http *h)
{
	size_t live = 0;

	for (size_t i = 0; i < h->n_conns; i++) {
		live += h->conns[i]->state != CONN_DEAD;
	}
	if (live < COLL_HTTP_MAX_CONNS) {
		return COLL_HTTP_HEAD_MS;
	}
	if (h->n_conns < CONN_SLOTS) {
		return COLL_HTTP_BUSY_HEAD_MS;
	}
	return 0;
}

static conn *
conn_new(coll_http *h, nng_stream *s, int head_ms)
{
	conn *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return NULL;
	}
	c->h = h;
	c->s = s;
	if (nng_aio_alloc(&c->rx, rx_cb, c) != 0 || nng_aio_alloc(&c->tx, tx_cb, c) != 0) {
		nng_aio_free(c->rx);
		free(c);
		return NULL;
	}
	c->deadline_us = fl_mono_us() + (int64_t) head_ms * 1000;
	return c;
}

static void
accept_cb(void *arg)
{
	coll_http  *h = arg;
	nng_stream *s;
	conn       *c = NULL;
	int         rv, head_ms;

	pthread_mutex_lock(&h->mtx);
	if (h->stopping) {
		if (nng_aio_result(h->acc) == 0 && !h->acc_sleeping) {
			nng_stream_free(nng_aio_get_output(h->acc, 0));
		}
		pthread_mutex_unlock(&h->mtx);
		return;
	}
	if (h->acc_sleeping) {
		h->acc_sleeping = false;
		nng_stream_listener_accept(h->l, h->acc);
		pthread_mutex_unlock(&h->mtx);
		return;
	}
	if ((rv = nng_aio_result(h->acc)) != 0) {
		// Out of descriptors, or a failed TLS handshake: try again shortly, not in a loop.
		h->acc_sleeping = true;
		nng_sleep_aio(rv == NNG_ECONNABORTED || rv == NNG_ECRYPTO ? 0 : 100, h->acc);
		pthread_mutex_unlock(&h->mtx);
		return;
	}
	s = nng_aio_get_output(h->acc, 0);
	if ((head_ms = admit_ms(h)) == 0 || (c = conn_new(h, s, head_ms)) == NULL) {
		// Full: accept nothing for a moment. Clients wait in the kernel's backlog meanwhile
		// (first come, first served), and one that reconnects at once cannot make us spin.
		h->st.refused++;
		nng_stream_free(s);
		h->acc_sleeping = true;
		nng_sleep_aio(COLL_HTTP_FULL_PAUSE_MS, h->acc);
		pthread_mutex_unlock(&h->mtx);
		return;
	}
	h->conns[h->n_conns++] = c;
	read_more(h, c);
	nng_stream_listener_accept(h->l, h->acc);
	pthread_mutex_unlock(&h->mtx);
}

// ---- replies ---------------------------------------------------------------------------------

static const char *
reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 431:
		return "Request Header Fields Too Large";
	case 503:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}

static void
text_reply(coll_http_reply *r, int status, const char *text)
{
	r->status       = status;
	r->content_type = "text/plain; charset=utf-8";
	r->body         = strdup(text);
	r->len          = r->body != NULL ? strlen(r->body) : 0;
}

// Parses c's request line and runs its route. *head_only is set for HEAD.
static void
answer(coll_http *h, conn *c, coll_http_reply *r, bool *head_only)
{
	char  *line = c->head;
	char  *sp1, *sp2, *q;
	size_t plen;

	*head_only = false;
	if (!head_complete(c)) {
		h->st.too_large++;
		text_reply(r, 431, "request head too large\n");
		return;
	}
	line[strcspn(line, "\r\n")] = '\0';
	if ((sp1 = strchr(line, ' ')) == NULL || (sp2 = strchr(sp1 + 1, ' ')) == NULL ||
	    strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
		text_reply(r, 400, "bad request line\n");
		return;
	}
	*sp1 = *sp2 = '\0';
	if (strcmp(line, "HEAD") == 0) {
		*head_only = true;
	} else if (strcmp(line, "GET") != 0) {
		text_reply(r, 405, "only GET and HEAD are served\n");
		return;
	}
	plen = (q = strchr(sp1 + 1, '?')) != NULL ? (size_t) (q - (sp1 + 1)) : strlen(sp1 + 1);
	for (size_t i = 0; i < h->n_routes; i++) {
		const coll_http_route *rt = &h->routes[i];
		if (strlen(rt->path) == plen && strncmp(rt->path, sp1 + 1, plen) == 0) {
			if (rt->handler(h->ctx, q != NULL ? q + 1 : "", r) != 0) {
				free(r->body);
				text_reply(
				    r, 500, "cannot build the answer (see the collector's log)\n");
			}
			return;
		}
	}
	text_reply(r, 404, "not found\n");
}

// Formats r's headers into c and takes its body (none for a HEAD).
static void
set_reply(conn *c, coll_http_reply *r)
{
	char retry[48] = "";

	if (r->retry_after_s > 0) {
		snprintf(retry, sizeof(retry), "Retry-After: %u\r\n", r->retry_after_s);
	}
	int n      = snprintf(c->hdr, sizeof(c->hdr),
	         "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	              "X-Content-Type-Options: nosniff\r\n"
	              "Content-Security-Policy: " COLL_HTTP_CSP "\r\n"
	              "%s%sConnection: close\r\n\r\n",
	         r->status, reason(r->status), r->content_type ? r->content_type : "text/plain", r->len,
            r->status == 405 ? "Allow: GET, HEAD\r\n" : "", retry);
	c->hdr_len = n > 0 && (size_t) n < sizeof(c->hdr) ? (size_t) n : 0;
	if (c->head_only) {
		free(r->body);
		r->body = NULL;
		r->len  = 0;
	}
	c->body     = r->body;
	c->body_len = r->len;
	r->body     = NULL;
}

// On the worker thread, h->mtx not held: builds c's reply. false when its handler deferred it.
static bool
prepare_reply(coll_http *h, conn *c)
{
	coll_http_reply r = { .conn_ = c };

	answer(h, c, &r, &c->head_only);
	if (r.deferred_) {
		free(r.body);
		return false;
	}
	set_reply(c, &r);
	return true;
}

// With h->mtx held: c's reply is ready; write it (or drop it when stopping).
static void
start_writing(coll_http *h, conn *c)
{
	c->state       = CONN_WRITING;
	c->deadline_us = fl_mono_us() + (int64_t) COLL_HTTP_WRITE_MS * 1000;
	if (h->stopping || c->hdr_len == 0) {
		conn_kill(h, c);
	} else {
		write_more(h, c);
	}
}

coll_http_later *
coll_http_defer(coll_http_reply *reply)
{
	reply->deferred_ = true;
	return reply->conn_;
}

void
coll_http_answer_later(coll_http_later *later, coll_http_reply *reply)
{
	conn      *c = (conn *) later;
	coll_http *h = c->h;

	set_reply(c, reply); // c is DEFERRED: nothing else touches it
	pthread_mutex_lock(&h->mtx);
	start_writing(h, c);
	pthread_mutex_unlock(&h->mtx);
}

static void *
worker_main(void *arg)
{
	coll_http *h = arg;

	pthread_mutex_lock(&h->mtx);
	for (;;) {
		if (h->dead != NULL) {
			conn *c = h->dead;
			h->dead = c->next;
			for (size_t i = 0; i < h->n_conns; i++) {
				if (h->conns[i] == c) {
					h->conns[i] = h->conns[--h->n_conns];
					break;
				}
			}
			pthread_mutex_unlock(&h->mtx);
			conn_free(c);
			pthread_mutex_lock(&h->mtx);
			continue;
		}
		if (h->queue != NULL) {
			conn *c  = h->queue;
			h->queue = c->next;
			if (h->queue == NULL) {
				h->queue_tail = NULL;
			}
			if (h->stopping) {
				conn_kill(h, c);
				continue;
			}
			c->state = CONN_DEFERRED; // until its reply is ready, whoever builds it
			pthread_mutex_unlock(&h->mtx);
			bool ready = prepare_reply(h, c);
			pthread_mutex_lock(&h->mtx);
			if (ready) {
				start_writing(h, c);
			}
			continue;
		}
		if (h->stopping && h->n_conns == 0) {
			break;
		}
		pthread_cond_wait(&h->cv, &h->mtx);
	}
	pthread_mutex_unlock(&h->mtx);
	return NULL;
}

// ---- start / stop ----------------------------------------------------------------------------

void
coll_http_get_stats(coll_http *h, coll_http_stats *st)
{
	pthread_mutex_lock(&h->mtx);
	*st      = h->st;
	st->open = (uint32_t) h->n_conns;
	pthread_mutex_unlock(&h->mtx);
}

static void
http_free(coll_http *h)
{
	nng_aio_free(h->acc);
	if (h->l != NULL) {
		nng_stream_listener_free(h->l);
	}
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mtx);
	free(h);
}

int
coll_http_start(const char *addr, const fl_tls_opts *tls, const coll_http_route *routes,
    size_t n_routes, void *ctx, coll_http **out, int *port, char *err, size_t errlen)
{
	coll_http *h;
	char       url[600];
	bool       https;
	int        rv;

	if (coll_http_parse_addr(addr, url, sizeof(url), &https, err, errlen) != 0) {
		return -1;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		snprintf(err, errlen, "cannot listen for http: out of memory");
		return -1;
	}
	pthread_mutex_init(&h->mtx, NULL);
	pthread_cond_init(&h->cv, NULL);
	h->routes   = routes;
	h->n_routes = n_routes;
	h->ctx      = ctx;
	if ((rv = nng_aio_alloc(&h->acc, accept_cb, h)) != 0 ||
	    (rv = nng_stream_listener_alloc(&h->l, url)) != 0) {
		snprintf(err, errlen, "cannot listen for http on %s: %s", addr, nng_strerror(rv));
		http_free(h);
		return -1;
	}
	if (https && (tls == NULL || fl_tls_apply_stream_listener(h->l, tls, err, errlen) != 0)) {
		if (tls == NULL) {
			snprintf(err, errlen, "cannot listen for http on %s: no TLS files", addr);
		}
		http_free(h);
		return -1;
	}
	if ((rv = nng_stream_listener_listen(h->l)) != 0) {
		snprintf(err, errlen, "cannot listen for http on %s: %s", addr, nng_strerror(rv));
		http_free(h);
		return -1;
	}
	*port = 0;
	nng_stream_listener_get_int(h->l, NNG_OPT_TCP_BOUND_PORT, port);
	if (pthread_create(&h->worker, NULL, worker_main, h) != 0) {
		snprintf(err, errlen, "cannot start the http worker thread");
		http_free(h);
		return -1;
	}
	h->worker_started = true;
	nng_stream_listener_accept(h->l, h->acc);
	fl_log(FL_LOG_INFO, "http", "listening for http on %s (port %d)", addr, *port);
	*out = h;
	return 0;
}

void
coll_http_stop(coll_http *h)
{
	if (h == NULL) {
		return;
	}
	pthread_mutex_lock(&h->mtx);
	h->stopping = true;
	pthread_mutex_unlock(&h->mtx);
	nng_stream_listener_close(h->l);
	nng_aio_stop(h->acc); // no accept callback runs after this
	pthread_mutex_lock(&h->mtx);
	for (size_t i = 0; i < h->n_conns; i++) {
		if (h->conns[i]->state == CONN_READING || h->conns[i]->state == CONN_WRITING) {
			nng_stream_close(h->conns[i]->s); // its aio fails: handed to the worker
		}
	}
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mtx);
	if (h->worker_started) {
		pthread_join(h->worker, NULL);
	}
	http_free(h);
}
