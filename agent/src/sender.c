// sender.c - see sender.h.

#include "sender.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/push.h>

#include "fl/log.h"
#include "fl/time.h"
#include "fl/version.h"
#include "fl/wire.h"

#define SEND_WAIT_MS 250

typedef struct spooled {
	uint8_t *buf;
	size_t   len;
	bool     attempted; // a send was tried and failed: a later send is a replay
} spooled;

struct agent_sender {
	nng_socket sock;
	nng_dialer dialer;
	char       url[256];
	char       host[256];
	uint32_t   interval_ms;
	uint64_t   seq;
	uint64_t   boot_id;

	spooled *ring;
	size_t   cap; // ring slots (at least 1)
	size_t   head, count;
	bool     keep; // spool_size > 0

	agent_sender_stats st;
	atomic_int         pipes;   // connections to the collector, kept by on_pipe()
	atomic_bool        closing; // no "lost connection" line for our own close
};

static void
on_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	agent_sender *s = arg;
	(void) p;
	if (ev == NNG_PIPE_EV_ADD_POST) {
		s->pipes++;
		fl_log(FL_LOG_NOTICE, "sender", "connected to collector %s", s->url);
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		s->pipes--;
		if (!s->closing) {
			fl_log(FL_LOG_WARN, "sender", "lost connection to collector %s; spooling",
			    s->url);
		}
	}
}

int
agent_sender_new(const char *url, const char *host, uint32_t interval_ms, uint32_t spool_size,
    agent_sender **out, char *err, size_t errlen)
{
	agent_sender *s;
	int           rv;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "cannot create sender: out of memory");
		return -1;
	}
	s->cap  = spool_size > 0 ? spool_size : 1;
	s->keep = spool_size > 0;
	if ((s->ring = calloc(s->cap, sizeof(*s->ring))) == NULL) {
		free(s);
		snprintf(err, errlen, "cannot create sender: out of memory");
		return -1;
	}
	snprintf(s->url, sizeof(s->url), "%s", url);
	snprintf(s->host, sizeof(s->host), "%s", host);
	s->interval_ms = interval_ms;
	if (getrandom(&s->boot_id, sizeof(s->boot_id), 0) != sizeof(s->boot_id)) {
		s->boot_id = (uint64_t) fl_now_us() ^ ((uint64_t) fl_mono_us() << 20);
	}
	if ((rv = nng_push0_open(&s->sock)) != 0) {
		snprintf(err, errlen, "cannot open report socket: %s", nng_strerror(rv));
		free(s->ring);
		free(s);
		return -1;
	}
	nng_socket_set_ms(s->sock, NNG_OPT_RECONNMINT, 100);
	nng_socket_set_ms(s->sock, NNG_OPT_RECONNMAXT, 2000);
	// No NNG_OPT_SENDBUF: a report nng buffered without a peer would be "sent" as far as we
	// know, and lost if the agent stops; the spool keeps it instead. With a peer, a send may
	// wait SEND_WAIT_MS for the pipe to finish the previous message, so a spool replays in one
	// burst rather than one report per round.
	nng_socket_set_ms(s->sock, NNG_OPT_SENDTIMEO, SEND_WAIT_MS);
	(void) fl_wire_socket_limits(s->sock);
	nng_pipe_notify(s->sock, NNG_PIPE_EV_ADD_POST, on_pipe, s);
	nng_pipe_notify(s->sock, NNG_PIPE_EV_REM_POST, on_pipe, s);
	if ((rv = nng_dial(s->sock, url, &s->dialer, NNG_FLAG_NONBLOCK)) != 0) {
		snprintf(err, errlen, "cannot dial collector %s: %s", url, nng_strerror(rv));
		nng_close(s->sock);
		free(s->ring);
		free(s);
		return -1;
	}
	*out = s;
	return 0;
}

int
agent_report_pack(const char *host, uint32_t interval_ms, uint64_t seq, uint64_t boot_id,
    uint64_t spool_dropped, const agent_round_out *round, uint8_t **buf, size_t *len)
{
	Fl__Report        rep = FL__REPORT__INIT;
	Fl__ProbeResult **res = NULL;
	uint8_t          *b;

	if (round->n_results > 0 && (res = calloc(round->n_results, sizeof(*res))) == NULL) {
		return -1;
	}
	for (size_t i = 0; i < round->n_results; i++) {
		res[i] = &round->results[i]->pb;
	}
	// protobuf-c's string fields are `char *`; packing only reads them.
	rep.schema_version      = FL_SCHEMA_VERSION;
	rep.host                = (char *) host;
	rep.release             = (char *) round->release;
	rep.agent_version       = (char *) FL_VERSION;
	rep.interval_ms         = interval_ms;
	rep.seq                 = seq;
	rep.round_started_us    = round->started_us;
	rep.boot_id             = boot_id;
	rep.spool_dropped       = spool_dropped;
	rep.expectations_file   = (char *) round->expectations_file;
	rep.expectations_digest = (char *) round->expectations_digest;
	rep.expectations_error  = (char *) round->expectations_error;
	rep.n_results           = round->n_results;
	rep.results             = res;
	*len                    = fl__report__get_packed_size(&rep);
	if ((b = malloc(*len > 0 ? *len : 1)) == NULL) {
		free(res);
		return -1;
	}
	fl__report__pack(&rep, b);
	free(res);
	*buf = b;
	return 0;
}

static void
drop_head(agent_sender *s)
{
	free(s->ring[s->head].buf);
	s->ring[s->head].buf = NULL;
	s->head              = (s->head + 1) % s->cap;
	s->count--;
}

int
agent_sender_submit(agent_sender *s, const agent_round_out *round)
{
	uint8_t *buf;
	size_t   len;

	if (agent_report_pack(s->host, s->interval_ms, ++s->seq, s->boot_id, s->st.dropped, round,
	        &buf, &len) != 0) {
		fl_log(FL_LOG_ERR, "sender", "cannot pack report: out of memory");
		return -1;
	}
	if (s->count == s->cap) {
		drop_head(s);
		s->st.dropped++;
		if (s->st.dropped == 1 || s->st.dropped % 100 == 0) {
			fl_log(FL_LOG_WARN, "sender",
			    "spool full (%zu rounds): dropping the oldest, %llu dropped so far",
			    s->cap, (unsigned long long) s->st.dropped);
		}
	}
	spooled *e   = &s->ring[(s->head + s->count) % s->cap];
	e->buf       = buf;
	e->len       = len;
	e->attempted = false;
	s->count++;
	agent_sender_flush(s);
	if (!s->keep) {
		while (s->count > 0) {
			drop_head(s);
			s->st.dropped++;
		}
	}
	s->st.queued = s->count;
	return 0;
}

size_t
agent_sender_flush(agent_sender *s)
{
	size_t n = 0;

	while (s->count > 0 && s->pipes > 0) {
		spooled   *e    = &s->ring[s->head];
		Fl__Report tail = FL__REPORT__INIT;
		uint8_t    tbuf[64];
		size_t     tlen;
		nng_msg   *msg = NULL;
		int        rv;

		tail.sent_us       = fl_now_us();
		tail.replayed      = e->attempted;
		tail.spool_dropped = s->st.dropped;
		tlen               = fl__report__pack(&tail, tbuf);
		if ((rv = nng_msg_alloc(&msg, 0)) != 0 ||
		    (rv = nng_msg_append(msg, e->buf, e->len)) != 0 ||
		    (rv = nng_msg_append(msg, tbuf, tlen)) != 0) {
			if (msg != NULL) {
				nng_msg_free(msg);
			}
			fl_log(FL_LOG_ERR, "sender", "cannot build message: %s", nng_strerror(rv));
			break;
		}
		// nng_sendmsg takes msg on success; on error we still own it.
		if ((rv = nng_sendmsg(s->sock, msg, 0)) != 0) {
			nng_msg_free(msg);
			if (rv != NNG_EAGAIN && rv != NNG_ETIMEDOUT) {
				fl_log(FL_LOG_WARN, "sender", "cannot send report: %s",
				    nng_strerror(rv));
			}
			break;
		}
		if (e->attempted) {
			s->st.replayed++;
		}
		s->st.sent++;
		drop_head(s);
		n++;
	}
	for (size_t i = 0; i < s->count; i++) {
		s->ring[(s->head + i) % s->cap].attempted = true;
	}
	s->st.queued = s->count;
	return n;
}

void
agent_sender_stats_get(const agent_sender *s, agent_sender_stats *st)
{
	*st = s->st;
}

void
agent_sender_free(agent_sender *s)
{
	if (s == NULL) {
		return;
	}
	if (s->count > 0) {
		fl_log(FL_LOG_NOTICE, "sender", "%zu unsent reports discarded at exit", s->count);
	}
	s->closing = true;
	nng_close(s->sock);
	while (s->count > 0) {
		drop_head(s);
	}
	free(s->ring);
	free(s);
}
