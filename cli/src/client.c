// client.c - see client.h.

#include "client.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "fl/time.h"
#include "fl/tls.h"
#include "fl/urls.h"
#include "fl/wire.h"

#include "cli.h"

// Where failures are reported: ctx->err (the live view keeps them for its screen), else stderr.
static FILE *
err_out(const cli_ctx *ctx)
{
	return ctx->err != NULL ? ctx->err : stderr;
}

static int
unreachable(const cli_ctx *ctx, const char *what)
{
	fprintf(err_out(ctx),
	    "faultline: cannot reach the collector at %s: %s (is faultline-collector running? set "
	    "-C or FAULTLINE_CONTROL)\n",
	    ctx->url, what);
	return CLI_EXIT_ERROR;
}

// nng_dial waits for the SP handshake, which a hung (or stopped) collector never completes:
// nng gives up only after its own 10 s. The watchdog closes the socket at our timeout instead,
// which makes the blocked nng_dial return.
typedef struct watchdog {
	pthread_mutex_t mu;
	pthread_cond_t  cv;
	bool            done;  // the dial returned
	bool            fired; // the watchdog closed the socket
	nng_socket      s;
	uint32_t        ms;
} watchdog;

static void *
watch(void *arg)
{
	watchdog       *w = arg;
	struct timespec deadline;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += w->ms / 1000;
	deadline.tv_nsec += (long) (w->ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&w->mu);
	while (!w->done) {
		if (pthread_cond_timedwait(&w->cv, &w->mu, &deadline) != 0) {
			break; // ETIMEDOUT
		}
	}
	if (!w->done) {
		w->fired = true;
		nng_close(w->s);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

// nng_dial bounded by ctx->timeout_ms. Returns nng_dial's result, or NNG_ETIMEDOUT after the
// watchdog closed the socket (which the caller must then not close again).
static int
dial_bounded(const cli_ctx *ctx, nng_socket s, nng_dialer d)
{
	watchdog w = { .s = s, .ms = ctx->connect_ms ? ctx->connect_ms : ctx->timeout_ms };
	pthread_condattr_t ca;
	pthread_t          th;
	int                rv;

	pthread_mutex_init(&w.mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w.cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&th, NULL, watch, &w) != 0) {
		rv = nng_dialer_start(d, 0); // no watchdog: nng's own limit applies
	} else {
		rv = nng_dialer_start(d, 0);
		pthread_mutex_lock(&w.mu);
		w.done = true;
		pthread_cond_signal(&w.cv);
		pthread_mutex_unlock(&w.mu);
		pthread_join(th, NULL);
	}
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.mu);
	return w.fired ? NNG_ETIMEDOUT : rv;
}

// Set when a connection to the collector ends while we wait for its answer. nng drops a
// connection whose incoming message is over NNG_OPT_RECVMAXSZ, so with a collector that does
// not honour Request.max_reply_bytes an oversize reply shows up only as this.
static atomic_bool pipe_closed;

static void
on_pipe_removed(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	(void) p;
	(void) ev;
	(void) arg;
	atomic_store(&pipe_closed, true);
}

static int
closed_while_answering(const cli_ctx *ctx)
{
	fprintf(err_out(ctx),
	    "faultline: the collector at %s closed the connection instead of answering: a reply "
	    "over the %u-byte limit arrives so (reply too large: ask for less, e.g. --host), or "
	    "the collector stopped\n",
	    ctx->url, CLI_MAX_RESPONSE);
	return CLI_EXIT_ERROR;
}

static int
no_answer(const cli_ctx *ctx)
{
	char what[64], d[32];
	snprintf(what, sizeof(what), "no answer within %s",
	    fl_duration_format((int64_t) ctx->timeout_ms * 1000, d, sizeof(d)));
	return unreachable(ctx, what);
}

// A tls+tcp:// control socket needs the CLI's own certificate (the collector
// requires one) and the CA and name to check the collector's. Prints why on failure.
static int
tls_setup(const cli_ctx *ctx, nng_dialer d)
{
	char err[512];

	if (ctx->tls_ca == NULL || ctx->tls_cert == NULL || ctx->tls_server_name == NULL) {
		fprintf(err_out(ctx),
		    "faultline: control URL '%s' uses TLS: give --tls-ca, --tls-cert (and "
		    "--tls-key "
		    "unless the key is in the certificate) and --tls-server-name, or set "
		    "FAULTLINE_TLS_CA, FAULTLINE_TLS_CERT, FAULTLINE_TLS_KEY and "
		    "FAULTLINE_TLS_SERVER_NAME\n",
		    ctx->url);
		return -1;
	}
	fl_tls_opts o = {
		.ca_file = ctx->tls_ca, .cert_file = ctx->tls_cert, .key_file = ctx->tls_key
	};
	if (fl_tls_apply_dialer(d, &o, ctx->tls_server_name, err, sizeof(err)) != 0) {
		fprintf(err_out(ctx), "faultline: cannot use TLS for %s: %s\n", ctx->url, err);
		return -1;
	}
	return 0;
}

static int
open_socket(const cli_ctx *ctx, nng_socket *s)
{
	nng_dialer d;
	int        rv;

	if ((rv = nng_req0_open(s)) != 0) {
		fprintf(err_out(ctx), "faultline: cannot open a request socket: %s\n",
		    nng_strerror(rv));
		return CLI_EXIT_ERROR;
	}
	if ((rv = nng_socket_set_ms(*s, NNG_OPT_RECVTIMEO, (nng_duration) ctx->timeout_ms)) != 0 ||
	    (rv = nng_socket_set_ms(*s, NNG_OPT_SENDTIMEO, (nng_duration) ctx->timeout_ms)) != 0 ||
	    (rv = nng_socket_set_size(*s, NNG_OPT_RECVMAXSZ, CLI_MAX_RESPONSE)) != 0 ||
	    (rv = nng_pipe_notify(*s, NNG_PIPE_EV_REM_POST, on_pipe_removed, NULL)) != 0) {
		fprintf(
		    err_out(ctx), "faultline: cannot set socket options: %s\n", nng_strerror(rv));
		nng_close(*s);
		return CLI_EXIT_ERROR;
	}
	if ((rv = nng_dialer_create(&d, *s, ctx->url)) == 0 && fl_tls_url(ctx->url) &&
	    tls_setup(ctx, d) != 0) {
		nng_close(*s);
		return CLI_EXIT_ERROR;
	}
	if (rv == 0) {
		rv = dial_bounded(ctx, *s, d);
	}
	if (rv != 0) {
		if (rv == NNG_ETIMEDOUT) {
			return no_answer(ctx); // the watchdog already closed the socket
		}
		nng_close(*s);
		if (rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP) {
			fprintf(err_out(ctx),
			    "faultline: cannot use control URL '%s': %s (expected ipc:///path, "
			    "tls+tcp://host:port or tcp://127.0.0.1:port)\n",
			    ctx->url, nng_strerror(rv));
			return CLI_EXIT_ERROR;
		}
		return unreachable(ctx, nng_strerror(rv));
	}
	return CLI_EXIT_OK;
}

// Sends req and receives the raw answer into *reply.
static int
round_trip(const cli_ctx *ctx, nng_socket s, Fl__Request *req, nng_msg **reply)
{
	nng_msg *msg;
	int      rv;

	if ((rv = fl_wire_encode(&req->base, &msg)) != 0) {
		fprintf(
		    err_out(ctx), "faultline: cannot encode the request: %s\n", nng_strerror(rv));
		return CLI_EXIT_ERROR;
	}
	atomic_store(&pipe_closed, false);
	if ((rv = nng_sendmsg(s, msg, 0)) != 0) {
		nng_msg_free(msg); // nng_sendmsg takes msg only on success
		return unreachable(ctx, nng_strerror(rv));
	}
	if ((rv = nng_recvmsg(s, reply, 0)) != 0) {
		if (rv == NNG_ETIMEDOUT && atomic_load(&pipe_closed)) {
			return closed_while_answering(ctx);
		}
		return rv == NNG_ETIMEDOUT ? no_answer(ctx) : unreachable(ctx, nng_strerror(rv));
	}
	return CLI_EXIT_OK;
}

// Whether the reply the case names is there (protobuf-c may leave it NULL).
static bool
has_reply(const Fl__Response *r)
{
	switch (r->reply_case) {
	case FL__RESPONSE__REPLY_STATUS:
		return r->status != NULL;
	case FL__RESPONSE__REPLY_HISTORY:
		return r->history != NULL;
	case FL__RESPONSE__REPLY_DIAGNOSE:
		return r->diagnose != NULL;
	case FL__RESPONSE__REPLY_HOSTS:
		return r->hosts != NULL;
	case FL__RESPONSE__REPLY_PROBE_NOW:
		return r->probe_now != NULL;
	case FL__RESPONSE__REPLY_VERIFY:
		return r->verify != NULL;
	case FL__RESPONSE__REPLY_FORGET:
		return r->forget != NULL;
	case FL__RESPONSE__REPLY_MUTE:
		return r->mute != NULL;
	default:
		return false;
	}
}

// How one collector of a list took a request (cli_call tries the next unless it answered).
typedef enum outcome {
	ANSWERED,    // a reply (good, or an error the collector meant)
	UNREACHABLE, // no connection, no answer in time, or the connection closed
	NOT_ACTIVE,  // a standby: the request needs the active collector (Response.not_active)
} outcome;

// One round trip with the collector at ctx->url (one URL). Returns as cli_call does; *how says
// whether another collector of a list may answer instead.
static int
call_one(const cli_ctx *ctx, Fl__Request *req, Fl__Response__ReplyCase expect, Fl__Response **out,
    outcome *how)
{
	nng_socket     s;
	nng_msg       *reply;
	Fl__Response  *resp;
	fl_wire_reject rj;
	char           why[256];
	int            rc;

	req->schema_version = FL_SCHEMA_VERSION;
	// A larger answer would make nng drop the connection, which looks like no answer at all;
	// told our limit, the collector says "reply too large (N bytes over the M limit)".
	req->max_reply_bytes = CLI_MAX_RESPONSE;
	*how                 = UNREACHABLE;
	if ((rc = open_socket(ctx, &s)) != CLI_EXIT_OK) {
		return rc;
	}
	rc = round_trip(ctx, s, req, &reply);
	nng_close(s);
	if (rc != CLI_EXIT_OK) {
		return rc;
	}
	*how = ANSWERED;
	rj   = fl_wire_decode_response(
	      nng_msg_body(reply), nng_msg_len(reply), &resp, why, sizeof(why));
	nng_msg_free(reply);
	if (rj != FL_WIRE_OK) {
		fprintf(err_out(ctx),
		    "faultline: cannot understand the collector at %s: %s (is it the same version "
		    "as this faultline?)\n",
		    ctx->url, why);
		return CLI_EXIT_ERROR;
	}
	if (resp->not_active) {
		// A standby of an active/standby pair: another collector of the list may be active.
		*how = NOT_ACTIVE;
		fprintf(err_out(ctx), "faultline: the collector at %s is not the active one: %s\n",
		    ctx->url, resp->error != NULL && resp->error[0] ? resp->error : "standby");
		fl__response__free_unpacked(resp, NULL);
		return CLI_EXIT_ERROR;
	}
	if (resp->error != NULL && resp->error[0] != '\0') {
		fprintf(err_out(ctx), "faultline: the collector answered: %s\n", resp->error);
		fl__response__free_unpacked(resp, NULL);
		return CLI_EXIT_ERROR;
	}
	if (resp->reply_case != expect) {
		fprintf(err_out(ctx),
		    "faultline: the collector at %s answered another question (reply %d, expected "
		    "%d)\n",
		    ctx->url, (int) resp->reply_case, (int) expect);
		fl__response__free_unpacked(resp, NULL);
		return CLI_EXIT_ERROR;
	}
	if (!has_reply(resp)) {
		fprintf(err_out(ctx), "faultline: the collector sent an empty reply\n");
		fl__response__free_unpacked(resp, NULL);
		return CLI_EXIT_ERROR;
	}
	*out = resp;
	return CLI_EXIT_OK;
}

// The collector of a list that answered last: asked first next time, so the pages of one
// status, and the rounds of `watch`, keep to the active collector while it answers.
static char answered_last[FL_URL_LEN];

int
cli_call(const cli_ctx *ctx, Fl__Request *req, Fl__Response__ReplyCase expect, Fl__Response **out)
{
	fl_urls urls;
	char    why[300];
	outcome how = UNREACHABLE; // stays so when no address is tried

	if (fl_urls_parse(ctx->url, false, &urls, why, sizeof(why)) != 0) {
		fprintf(err_out(ctx),
		    "faultline: cannot use control URL '%s': %s (set -C or FAULTLINE_CONTROL)\n",
		    ctx->url, why);
		return CLI_EXIT_ERROR;
	}
	if (urls.n == 1) {
		return call_one(ctx, req, expect, out, &how); // as before lists existed
	}
	// Several collectors: each in turn until one answers and is not a standby. What the
	// others said is shown only when none answers, one line each.
	char  *said[FL_URLS_MAX] = { 0 };
	size_t said_len;
	int    rc    = CLI_EXIT_ERROR;
	size_t first = 0;
	for (size_t i = 0; i < urls.n; i++) {
		if (strcmp(urls.v[i], answered_last) == 0) {
			first = i;
		}
	}
	for (size_t k = 0; k < urls.n; k++) {
		size_t  i   = (first + k) % urls.n;
		cli_ctx one = *ctx;
		one.url     = urls.v[i];
		// A dead address costs at most the connect bound, not the whole --timeout.
		one.connect_ms = ctx->timeout_ms < CLI_CONNECT_TIMEOUT_MS ? ctx->timeout_ms
		                                                          : CLI_CONNECT_TIMEOUT_MS;
		one.err        = open_memstream(&said[i], &said_len);
		if (one.err == NULL) {
			one.err = err_out(ctx);
		}
		rc = call_one(&one, req, expect, out, &how);
		if (one.err != err_out(ctx)) {
			fclose(one.err);
		}
		if (how == ANSWERED) {
			memcpy(answered_last, urls.v[i], sizeof(answered_last));
			if (rc != CLI_EXIT_OK && said[i] != NULL) {
				fputs(said[i], err_out(ctx)); // the collector's own error
			}
			break;
		}
	}
	if (how != ANSWERED) {
		for (size_t k = 0; k < urls.n; k++) {
			size_t i = (first + k) % urls.n;
			if (said[i] != NULL) {
				fputs(said[i], err_out(ctx));
			}
		}
		fprintf(err_out(ctx),
		    "faultline: none of the %zu collectors of '%s' answered as the "
		    "active one\n",
		    urls.n, ctx->url);
		rc = CLI_EXIT_ERROR;
	}
	for (size_t i = 0; i < urls.n; i++) {
		free(said[i]);
	}
	return rc;
}

static Fl__StatusReply *
status_of(Fl__Response *r)
{
	return r->reply_case == FL__RESPONSE__REPLY_HOSTS ? r->hosts : r->status;
}

// Moves the hosts of page into all (both unpacked with protobuf-c's default allocator, i.e.
// malloc, so the array may be realloc'd and freed by either). Returns 0 or -1 (ENOMEM).
static int
take_hosts(Fl__StatusReply *all, Fl__StatusReply *page)
{
	Fl__HostState **v;
	if (page->n_hosts == 0) {
		return 0;
	}
	if ((v = realloc(all->hosts, (all->n_hosts + page->n_hosts) * sizeof(*v))) == NULL) {
		return -1;
	}
	memcpy(v + all->n_hosts, page->hosts, page->n_hosts * sizeof(*v));
	all->hosts = v;
	all->n_hosts += page->n_hosts;
	page->n_hosts = 0; // now all's
	return 0;
}

int
cli_call_status(
    const cli_ctx *ctx, Fl__Request *req, Fl__Response__ReplyCase expect, Fl__Response **out)
{
	Fl__StatusQuery *q = req->query_case == FL__REQUEST__QUERY_HOSTS ? req->hosts : req->status;
	Fl__Response    *all         = NULL, *page;
	char             after[1024] = "";
	int              rc;

	q->page_bytes = CLI_STATUS_PAGE_BYTES;
	for (;;) {
		q->after_host = after; // borrowed for the send
		if ((rc = cli_call(ctx, req, expect, &page)) != CLI_EXIT_OK) {
			break;
		}
		Fl__StatusReply *pr   = status_of(page);
		bool             more = pr != NULL && pr->more && pr->n_hosts > 0;
		if (more) {
			const char *last = pr->hosts[pr->n_hosts - 1]->host;
			if (strcmp(last, after) <= 0 || strlen(last) >= sizeof(after)) {
				more = false; // a collector that does not move forward: stop here
			} else {
				memcpy(after, last, strlen(last) + 1);
			}
		}
		if (all == NULL) {
			all = page;
		} else if (pr == NULL || take_hosts(status_of(all), pr) != 0) {
			fprintf(
			    err_out(ctx), "faultline: out of memory while reading the status\n");
			fl__response__free_unpacked(page, NULL);
			rc = CLI_EXIT_ERROR;
			break;
		} else {
			fl__response__free_unpacked(page, NULL);
		}
		if (!more) {
			break;
		}
	}
	q->after_host = (char *) ""; // borrowed a local buffer: do not leave it behind
	if (rc != CLI_EXIT_OK) {
		if (all != NULL) {
			fl__response__free_unpacked(all, NULL);
		}
		return rc;
	}
	if (status_of(all) != NULL) {
		status_of(all)->more = false;
	}
	*out = all;
	return CLI_EXIT_OK;
}
