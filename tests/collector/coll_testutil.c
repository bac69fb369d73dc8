// coll_testutil.c - see coll_testutil.h.

#include "coll_testutil.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/protocol/pipeline0/push.h>
#include <nng/protocol/reqrep0/req.h>

#include "fl/wire.h"

uint8_t *
tu_pack(const tu_rep *d, size_t *len)
{
	Fl__Report        r = FL__REPORT__INIT;
	Fl__ProbeResult   res[256];
	Fl__ProbeResult  *resp[256];
	Fl__Timing        timing[256];
	uint8_t          *buf;
	static const char target[] = "http://127.0.0.1:8080/health";

	r.schema_version   = d->schema ? d->schema : FL_SCHEMA_VERSION;
	r.host             = (char *) d->host; // borrowed for packing only
	r.release          = (char *) (d->release ? d->release : "r1");
	r.agent_version    = (char *) "0.1.0";
	r.interval_ms      = d->interval_ms ? d->interval_ms : 1000;
	r.seq              = d->seq;
	r.boot_id          = d->boot_id;
	r.sent_us          = d->sent_us;
	r.round_started_us = d->round_started_us;
	r.replayed         = d->replayed;
	r.seq_spans_starts = d->seq_spans_starts;
	r.n_labels         = d->n_labels;
	r.labels           = (char **) d->labels; // borrowed for packing only
	r.n_results        = d->n;
	r.results          = resp;
	for (size_t i = 0; i < d->n && i < 256; i++) {
		fl__probe_result__init(&res[i]);
		fl__timing__init(&timing[i]);
		res[i].name   = (char *) d->probes[i].name;
		res[i].kind   = FL__PROBE_KIND__KIND_HTTP;
		res[i].target = (char *) target;
		if (d->names != NULL) {
			res[i].target        = (char *) d->names[i].target; // packed only
			res[i].resolved_name = (char *) d->names[i].resolved_name;
			res[i].n_addresses   = d->names[i].n_addresses;
			res[i].addresses     = (char **) d->names[i].addresses;
		}
		res[i].status  = d->probes[i].status;
		res[i].failure = d->probes[i].failure;
		res[i].detail =
		    (char *) (d->probes[i].status == FL__STATUS__STATUS_OK ? "200 OK" : "503");
		res[i].duration_us = d->probes[i].duration_us;
		res[i].started_us  = d->round_started_us;
		timing[i].total_us = d->probes[i].duration_us;
		res[i].timing      = &timing[i];
		resp[i]            = &res[i];
	}
	*len = fl__report__get_packed_size(&r);
	if ((buf = malloc(*len ? *len : 1)) != NULL) {
		fl__report__pack(&r, buf);
	}
	return buf;
}

Fl__Report *
tu_make(const tu_rep *d)
{
	size_t      len;
	uint8_t    *buf = tu_pack(d, &len);
	Fl__Report *r   = fl__report__unpack(NULL, len, buf);
	free(buf);
	return r;
}

int
tu_push_open(const char *url, nng_socket *out)
{
	nng_socket s;
	int        rv;
	if ((rv = nng_push0_open(&s)) != 0) {
		return rv;
	}
	nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 5000);
	if ((rv = nng_dial(s, url, NULL, 0)) != 0) {
		nng_close(s);
		return rv;
	}
	*out = s;
	return 0;
}

int
tu_push(nng_socket s, const void *buf, size_t len)
{
	return nng_send(s, (void *) buf, len, 0); // nng_send copies; the cast is its API
}

int
tu_query(const char *url, const Fl__Request *req, Fl__Response **out)
{
	nng_socket s;
	nng_msg   *msg;
	int        rv;
	char       why[256];

	if ((rv = nng_req0_open(&s)) != 0) {
		return rv;
	}
	nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 5000);
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000);
	nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, 0);
	if ((rv = nng_dial(s, url, NULL, 0)) != 0 || (rv = fl_wire_encode(&req->base, &msg)) != 0) {
		nng_close(s);
		return rv;
	}
	if ((rv = nng_sendmsg(s, msg, 0)) != 0) {
		nng_msg_free(msg);
		nng_close(s);
		return rv;
	}
	if ((rv = nng_recvmsg(s, &msg, 0)) != 0) {
		nng_close(s);
		return rv;
	}
	if (fl_wire_decode_response(nng_msg_body(msg), nng_msg_len(msg), out, why, sizeof(why)) !=
	    FL_WIRE_OK) {
		rv = NNG_EPROTO;
	}
	nng_msg_free(msg);
	nng_close(s);
	return rv;
}

int
tu_stats(const char *url, Fl__CollectorStats *stats, size_t *nhosts)
{
	Fl__Request     req = FL__REQUEST__INIT;
	Fl__StatusQuery q   = FL__STATUS_QUERY__INIT;
	Fl__Response   *resp;
	int             rv;

	req.schema_version = FL_SCHEMA_VERSION;
	req.query_case     = FL__REQUEST__QUERY_STATUS;
	req.status         = &q;
	if ((rv = tu_query(url, &req, &resp)) != 0) {
		return rv;
	}
	if (resp->reply_case != FL__RESPONSE__REPLY_STATUS || resp->status->stats == NULL) {
		fl__response__free_unpacked(resp, NULL);
		return NNG_EPROTO;
	}
	*stats                       = *resp->status->stats;
	stats->base.unknown_fields   = NULL;
	stats->base.n_unknown_fields = 0;
	if (nhosts != NULL) {
		*nhosts = resp->status->n_hosts;
	}
	fl__response__free_unpacked(resp, NULL);
	return 0;
}

int
tu_wait_received(const char *url, uint64_t n, int timeout_ms, Fl__CollectorStats *stats)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		if (tu_stats(url, stats, NULL) == 0 && stats->reports_received >= n) {
			return 0;
		}
		nanosleep(&ts, NULL);
	}
	return -1;
}

int
tu_push_next(nng_socket s, tu_rep *d)
{
	size_t   len;
	uint8_t *buf;
	int      rv;

	d->seq++;
	if ((buf = tu_pack(d, &len)) == NULL) {
		return NNG_ENOMEM;
	}
	rv = tu_push(s, buf, len);
	free(buf);
	return rv;
}
