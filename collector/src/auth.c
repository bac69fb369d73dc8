// auth.c - see auth.h.

#include "auth.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>

#include "fl/log.h"
#include "fl/text.h"
#include "fl/wire.h"

struct coll_auth {
	coll_auth_deps d;
	nng_socket     outer; // PULL, faces the agents
	nng_socket     link;  // PUSH, dials d.ingest over inproc
	nng_listener   l;
	int            port;
	pthread_t      tid;
	bool           started;
};

static atomic_uint link_ids;

int
coll_auth_open(const coll_auth_deps *d, coll_auth **out, char *err, size_t errlen)
{
	coll_auth  *a;
	char        inproc[64], why[512];
	int         rv;
	const char *url = d->url;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	a->d = *d;
	snprintf(
	    inproc, sizeof(inproc), "inproc://faultline-ingest-%u", atomic_fetch_add(&link_ids, 1));
	// The inner socket accepts what the outer one does (recv_max, see server.c).
	if ((rv = nng_listen(d->ingest, inproc, NULL, 0)) != 0) {
		snprintf(err, errlen, "cannot link the signature gate: %s", nng_strerror(rv));
		free(a);
		return -1;
	}
	if ((rv = nng_pull0_open(&a->outer)) != 0 || (rv = fl_wire_socket_limits(a->outer)) != 0 ||
	    (rv = nng_socket_set_size(a->outer, NNG_OPT_RECVMAXSZ, d->recv_max)) != 0) {
		snprintf(err, errlen, "cannot open report socket: %s", nng_strerror(rv));
		free(a);
		return -1;
	}
	if ((rv = nng_push0_open(&a->link)) != 0 ||
	    (rv = nng_dial(a->link, inproc, NULL, 0)) != 0) {
		snprintf(err, errlen, "cannot link the signature gate: %s", nng_strerror(rv));
		nng_close(a->outer);
		free(a);
		return -1;
	}
	if ((rv = nng_listener_create(&a->l, a->outer, url)) != 0) {
		snprintf(err, errlen, "cannot listen for reports on %s: %s", url, nng_strerror(rv));
		goto fail;
	}
	if (fl_tls_url(url) && fl_tls_apply_listener(a->l, d->tls, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "cannot listen for reports on %s: %s", url, why);
		goto fail;
	}
	if ((rv = nng_listener_start(a->l, 0)) != 0) {
		snprintf(err, errlen, "cannot listen for reports on %s: %s", url, nng_strerror(rv));
		goto fail;
	}
	if (strncmp(url, "tcp", 3) == 0 || strncmp(url, "tls+tcp", 7) == 0) {
		nng_listener_get_int(a->l, NNG_OPT_TCP_BOUND_PORT, &a->port);
	}
	fl_log(FL_LOG_INFO, "auth", "listening for signed reports on %s (port %d); keys in %s", url,
	    a->port, d->keys_dir);
	*out = a;
	return 0;
fail:
	nng_close(a->outer);
	nng_close(a->link);
	free(a);
	return -1;
}

nng_socket
coll_auth_socket(const coll_auth *a)
{
	return a->outer;
}

nng_listener
coll_auth_listener(const coll_auth *a)
{
	return a->l;
}

int
coll_auth_port(const coll_auth *a)
{
	return a->port;
}

// The host a refused message claims: the envelope's key id, or a bare report's host; escaped.
static void
claimed_host(const void *buf, size_t len, char *out, size_t outlen)
{
	Fl__Envelope *e;

	out[0] = '\0';
	if (len <= FL_WIRE_MAX_MSG && (e = fl__envelope__unpack(NULL, len, buf)) != NULL) {
		if (e->key_id != NULL && e->key_id[0] != '\0') {
			fl_text_escape(out, outlen, e->key_id);
		} else {
			fl_wire_report_claimed_host(e->report.data, e->report.len, out, outlen);
		}
		fl__envelope__free_unpacked(e, NULL);
	}
	if (out[0] == '\0') {
		fl_wire_report_claimed_host(buf, len, out, outlen);
	}
}

// Counts one refused message under the server lock (the control thread reads the stats).
static void
refused(coll_auth *a, fl_sign_status st, fl_wire_reject wire, const char *host, const char *why)
{
	coll_stats *s = &a->d.state.state->stats;

	pthread_mutex_lock(a->d.state.lock);
	s->reports_received++;
	if (st != FL_SIGN_WIRE) {
		s->dropped_unauthenticated++;
	} else if (wire == FL_WIRE_OVERSIZE) {
		s->dropped_oversize++;
	} else if (wire == FL_WIRE_UNDECODABLE) {
		s->dropped_undecodable++;
	} else if (wire == FL_WIRE_SCHEMA) {
		s->dropped_schema++;
	} else {
		s->dropped_invalid++;
	}
	pthread_mutex_unlock(a->d.state.lock);
	// Rate-limited per claimed sender (rejects.h): a hostile peer must not flood the journal.
	// why names hosts, never secrets (reports carry none).
	coll_rejects_refused(a->d.rejects, "auth", host,
	    st == FL_SIGN_WIRE ? fl_wire_reject_name(wire) : fl_sign_status_name(st), why);
}

static void *
gate_main(void *arg)
{
	coll_auth *a = arg;

	for (;;) {
		nng_msg       *msg, *fwd;
		Fl__Report    *r = NULL;
		fl_wire_reject wire;
		char           why[256] = "";
		int            rv       = nng_recvmsg(a->outer, &msg, 0);

		if (rv == NNG_ECLOSED) {
			break;
		}
		if (rv != 0) {
			continue;
		}
		fl_sign_status st = fl_sign_verify_report(
		    a->d.kr, nng_msg_body(msg), nng_msg_len(msg), &r, &wire, why, sizeof(why));
		if (st != FL_SIGN_OK) {
			char host[128];
			claimed_host(nng_msg_body(msg), nng_msg_len(msg), host, sizeof(host));
			refused(a, st, wire, host, why);
			nng_msg_free(msg);
			continue;
		}
		nng_msg_free(msg);
		rv = fl_wire_encode(&r->base, &fwd);
		fl__report__free_unpacked(r, NULL);
		if (rv != 0) {
			fl_log(FL_LOG_ERR, "auth", "cannot forward report: %s", nng_strerror(rv));
			continue;
		}
		// Blocks while ingest is behind (back-pressure); takes fwd on success.
		if ((rv = nng_sendmsg(a->link, fwd, 0)) != 0) {
			nng_msg_free(fwd);
			if (rv == NNG_ECLOSED) {
				break;
			}
		}
	}
	return NULL;
}

int
coll_auth_start(coll_auth *a, char *err, size_t errlen)
{
	if (pthread_create(&a->tid, NULL, gate_main, a) != 0) {
		snprintf(err, errlen, "cannot start signature gate thread");
		return -1;
	}
	a->started = true;
	return 0;
}

void
coll_auth_free(coll_auth *a)
{
	if (a == NULL) {
		return;
	}
	nng_close(a->outer); // wakes the thread with NNG_ECLOSED
	nng_close(a->link);  // and a send blocked on a full ingest queue
	if (a->started) {
		pthread_join(a->tid, NULL);
	}
	free(a);
}
