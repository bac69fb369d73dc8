// sender.c - see sender.h.

#include "sender.h"

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/push.h>

#include "fl/log.h"
#include "fl/time.h"
#include "fl/urls.h"
#include "fl/version.h"
#include "fl/wire.h"
#include "secure.h"
#include "spool_file.h"

#define SEND_WAIT_MS        250
#define RETAIN_MAX          64          // reports kept after handing them to nng (sender.h)
#define STALL_MIN_US        5000000LL   // sends refused this long with a connection up: reconnect
#define USER_TIMEOUT_MIN_MS 10000       // unacknowledged data this long: the kernel drops the link
#define FILE_SLACK          (64 * 1024) // dead bytes the spool file may hold beyond 2 x live

typedef struct spooled {
	uint8_t *buf;
	size_t   len;
	bool     attempted; // a send was tried and failed: a later send is a replay
} spooled;

struct agent_sender {
	nng_socket sock;
	fl_urls    urls;                        // every collector (sender.h): one dialer each
	nng_dialer dialers[FL_URLS_MAX];        // dialers[i] dials urls.v[i]
	char       urls_text[FL_URLS_TEXT_LEN]; // as configured, for messages
	char       host[256];
	uint32_t   interval_ms;
	uint64_t   seq;
	uint64_t   boot_id;
	bool       seq_spans_starts; // seqs continue across starts (the spool file: sender.h)

	agent_spool_file *file; // the spool on disk (spool_file.h); NULL: memory only

	spooled *ring;
	size_t   cap; // ring slots (at least 1)
	size_t   head, count;
	bool     keep; // spool_size > 0

	// Reports handed to nng but not known to be delivered (sender.h): a ring of RETAIN_MAX.
	spooled  retained[RETAIN_MAX];
	size_t   r_head, r_count, r_cap;
	unsigned seen_gen;    // value of gen when retained was last checked
	int64_t  stall_since; // monotonic; first refused send with a connection up, 0 if none

	agent_sender_stats st;
	atomic_int         pipes;   // connections to the collector, kept by on_pipe()
	atomic_uint        gen;     // connections lost so far, kept by on_pipe()
	atomic_bool        closing; // no "lost connection" line for our own close
};

// Linux: bounds how long a silent cut can go unnoticed. nng 1.5.2 does not expose a pipe's
// file descriptor, so find it: the TCP socket of this process whose local and peer addresses
// are the pipe's. TCP_USER_TIMEOUT makes the kernel drop the connection once sent data has
// gone unacknowledged for ms (a cut link, a vanished host), where it would otherwise retransmit
// for about 15 minutes; keepalive does the same for an idle link. Best effort: if no socket
// matches (ipc://, another platform), the send-stall check in flush still applies.
static void
tune_tcp(nng_pipe p, unsigned ms)
{
	nng_sockaddr   la, ra;
	DIR           *d;
	struct dirent *de;

	if (nng_pipe_get_addr(p, NNG_OPT_LOCADDR, &la) != 0 ||
	    nng_pipe_get_addr(p, NNG_OPT_REMADDR, &ra) != 0 || la.s_family != NNG_AF_INET ||
	    ra.s_family != NNG_AF_INET || (d = opendir("/proc/self/fd")) == NULL) {
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct sockaddr_in l, r;
		socklen_t          ll = sizeof(l), rl = sizeof(r);
		int                fd = atoi(de->d_name);
		if (de->d_name[0] < '0' || de->d_name[0] > '9' || fd == dirfd(d) ||
		    getsockname(fd, (struct sockaddr *) &l, &ll) != 0 || l.sin_family != AF_INET ||
		    l.sin_port != la.s_in.sa_port || l.sin_addr.s_addr != la.s_in.sa_addr ||
		    getpeername(fd, (struct sockaddr *) &r, &rl) != 0 ||
		    r.sin_port != ra.s_in.sa_port || r.sin_addr.s_addr != ra.s_in.sa_addr) {
			continue;
		}
		int on = 1, idle = (int) (ms / 3000 + 1), intvl = idle, cnt = 3;
		setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms));
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
		break;
	}
	closedir(d);
}

static unsigned
user_timeout_ms(const agent_sender *s)
{
	uint64_t ms = 3ULL * s->interval_ms;
	return ms < USER_TIMEOUT_MIN_MS ? USER_TIMEOUT_MIN_MS
	    : ms > 600000               ? 600000
	                                : (unsigned) ms;
}

// The URL of the collector p is connected to (its dialer's), for messages.
static const char *
pipe_url(const agent_sender *s, nng_pipe p)
{
	nng_dialer d = nng_pipe_dialer(p);
	for (size_t i = 0; i < s->urls.n; i++) {
		if (nng_dialer_id(s->dialers[i]) == nng_dialer_id(d)) {
			return s->urls.v[i];
		}
	}
	return s->urls_text;
}

static void
on_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	agent_sender *s = arg;
	if (ev == NNG_PIPE_EV_ADD_POST) {
		tune_tcp(p, user_timeout_ms(s));
		s->pipes++;
		fl_log(FL_LOG_NOTICE, "sender", "connected to collector %s", pipe_url(s, p));
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		s->pipes--;
		s->gen++;
		if (!s->closing) {
			fl_log(FL_LOG_WARN, "sender", "lost connection to collector %s; spooling",
			    pipe_url(s, p));
		}
	}
}

// Starts one dialer per collector. 0, or -1 with err (the dialers started are closed).
static int
dial_all(agent_sender *s, char *err, size_t errlen)
{
	for (size_t i = 0; i < s->urls.n; i++) {
		if (agent_secure_dial(s->sock, s->urls.v[i], &s->dialers[i], err, errlen) != 0) {
			while (i-- > 0) {
				nng_dialer_close(s->dialers[i]);
			}
			return -1;
		}
	}
	return 0;
}

static void file_rewrite(agent_sender *s);
static void file_load(agent_sender *s, const char *dir, uint64_t max_bytes);

int
agent_sender_new(const char *url, const char *host, uint32_t interval_ms, uint32_t spool_size,
    const char *spool_dir, uint64_t spool_file_max, agent_sender **out, char *err, size_t errlen)
{
	agent_sender *s;
	int           rv;
	char          why[300];

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "cannot create sender: out of memory");
		return -1;
	}
	if (fl_urls_parse(url, false, &s->urls, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "cannot dial collector %s: %s", url, why);
		free(s);
		return -1;
	}
	s->cap   = spool_size > 0 ? spool_size : 1;
	s->keep  = spool_size > 0;
	s->r_cap = spool_size < RETAIN_MAX ? spool_size : RETAIN_MAX;
	// Room for the spool plus the retained reports put back in front of it (requeue()).
	if ((s->ring = calloc(s->cap + s->r_cap, sizeof(*s->ring))) == NULL) {
		free(s);
		snprintf(err, errlen, "cannot create sender: out of memory");
		return -1;
	}
	snprintf(s->urls_text, sizeof(s->urls_text), "%s", url);
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
	if (dial_all(s, err, errlen) != 0) { // TLS: secure.h
		nng_close(s->sock);
		free(s->ring);
		free(s);
		return -1;
	}
	if (s->keep && spool_dir != NULL && spool_dir[0] != '\0' && spool_file_max > 0) {
		file_load(s, spool_dir, spool_file_max);
	}
	*out = s;
	return 0;
}

int
agent_report_pack(const char *host, uint32_t interval_ms, uint64_t seq, uint64_t boot_id,
    bool seq_spans_starts, uint64_t spool_dropped, const agent_round_out *round, uint8_t **buf,
    size_t *len)
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
	char *labels[FL_LABELS_MAX];
	for (size_t i = 0; i < round->n_labels; i++) {
		labels[i] = (char *) round->labels[i]; // borrowed for packing
	}
	// protobuf-c's string fields are `char *`; packing only reads them.
	rep.schema_version      = FL_SCHEMA_VERSION;
	rep.host                = (char *) host;
	rep.release             = (char *) round->release;
	rep.agent_version       = (char *) FL_VERSION;
	rep.interval_ms         = interval_ms;
	rep.seq                 = seq;
	rep.round_started_us    = round->started_us;
	rep.max_round_ms        = round->max_round_ms;
	rep.boot_id             = boot_id;
	rep.seq_spans_starts    = seq_spans_starts;
	rep.spool_dropped       = spool_dropped;
	rep.expectations_file   = (char *) round->expectations_file;
	rep.expectations_digest = (char *) round->expectations_digest;
	rep.expectations_error  = (char *) round->expectations_error;
	rep.n_labels            = round->n_labels;
	rep.labels              = labels;
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

static size_t
ring_size(const agent_sender *s)
{
	return s->cap + s->r_cap;
}

static void
drop_head(agent_sender *s)
{
	free(s->ring[s->head].buf);
	s->ring[s->head].buf = NULL;
	s->head              = (s->head + 1) % ring_size(s);
	s->count--;
}

int
agent_sender_submit(agent_sender *s, const agent_round_out *round)
{
	uint8_t *buf;
	size_t   len;

	if (agent_report_pack(s->host, s->interval_ms, ++s->seq, s->boot_id, s->seq_spans_starts,
	        s->st.dropped, round, &buf, &len) != 0) {
		fl_log(FL_LOG_ERR, "sender", "cannot pack report: out of memory");
		return -1;
	}
	while (s->count >= s->cap) {
		drop_head(s);
		s->st.dropped++;
		if (s->st.dropped == 1 || s->st.dropped % 100 == 0) {
			fl_log(FL_LOG_WARN, "sender",
			    "spool full (%zu rounds): dropping the oldest, %llu dropped so far",
			    s->cap, (unsigned long long) s->st.dropped);
		}
	}
	spooled *e   = &s->ring[(s->head + s->count) % ring_size(s)];
	e->buf       = buf;
	e->len       = len;
	e->attempted = false;
	s->count++;
	if (s->file != NULL && agent_spool_file_append(s->file, buf, len) != 0) {
		file_rewrite(s); // over its bound (or failing): rewrite with what is live
	}
	agent_sender_flush(s);
	if (!s->keep) {
		while (s->count > 0) {
			drop_head(s);
			s->st.dropped++;
		}
	}
	s->st.queued = s->count;
	if (s->file != NULL) {
		uint64_t live = 0;
		for (size_t i = 0; i < s->r_count; i++) {
			live += s->retained[(s->r_head + i) % RETAIN_MAX].len + 16;
		}
		for (size_t i = 0; i < s->count; i++) {
			live += s->ring[(s->head + i) % ring_size(s)].len + 16;
		}
		// Delivered reports outweigh those still live: rewrite (amortised O(1) a round).
		if (agent_spool_file_bytes(s->file) > 2 * live + FILE_SLACK) {
			file_rewrite(s);
		}
	}
	return 0;
}

// A connection ended since we last looked: what it was given may have died in a kernel buffer
// (ours or the collector's), in nng's or in the collector's uncommitted batch. Put the retained
// reports back in front of the spool, oldest first, as replays; the collector drops those it
// already has (same boot_id and seq) as duplicates.
static void
requeue(agent_sender *s)
{
	unsigned g = atomic_load(&s->gen);
	if (g == s->seen_gen) {
		return;
	}
	s->seen_gen = g;
	if (s->r_count > 0) {
		fl_log(FL_LOG_INFO, "sender",
		    "connection ended: re-sending the last %zu reports it was given", s->r_count);
	}
	size_t rs = ring_size(s);
	while (s->r_count > 0) { // newest first, each in front of the spool
		size_t   i = (s->r_head + s->r_count - 1) % RETAIN_MAX;
		spooled *e = &s->retained[i];
		s->r_count--;
		s->head          = (s->head + rs - 1) % rs;
		s->ring[s->head] = (spooled) { e->buf, e->len, true };
		e->buf           = NULL;
		s->count++;
	}
	s->r_head = 0;
}

// Keeps a sent report (takes buf) among the last RETAIN_MAX.
static void
retain(agent_sender *s, uint8_t *buf, size_t len)
{
	if (s->r_cap == 0) {
		free(buf);
		return;
	}
	if (s->r_count == s->r_cap) {
		free(s->retained[s->r_head].buf);
		s->retained[s->r_head].buf = NULL;
		s->r_head                  = (s->r_head + 1) % RETAIN_MAX;
		s->r_count--;
	}
	s->retained[(s->r_head + s->r_count) % RETAIN_MAX] = (spooled) { buf, len, false };
	s->r_count++;
}

// A connection is up but has refused every report for a while: the collector stopped reading
// (hung, stopped) or the link is cut and our buffers are full. Drop the connection and dial
// again, so that what it swallowed is re-sent once a collector reads again.
static void
check_stall(agent_sender *s, bool refused)
{
	int64_t now = fl_mono_us();
	if (!refused) {
		s->stall_since = 0;
		return;
	}
	if (s->stall_since == 0) {
		s->stall_since = now;
		return;
	}
	int64_t limit = 3LL * s->interval_ms * 1000;
	if (limit < STALL_MIN_US) {
		limit = STALL_MIN_US;
	}
	if (now - s->stall_since < limit) {
		return;
	}
	fl_log(FL_LOG_WARN, "sender",
	    "collector %s has taken no report for %lld s with the connection up; reconnecting",
	    s->urls_text, (long long) ((now - s->stall_since) / 1000000));
	s->stall_since = 0;
	for (size_t i = 0; i < s->urls.n; i++) {
		nng_dialer_close(s->dialers[i]); // closes its connection: on_pipe() counts the loss
	}
	char err[512];
	if (dial_all(s, err, sizeof(err)) != 0) {
		fl_log(FL_LOG_ERR, "sender", "%s (again)", err);
	}
}

size_t
agent_sender_flush(agent_sender *s)
{
	size_t n = 0;

	requeue(s);
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
		// Signed as this host when sign_key is set, so a collector that checks signatures
		// can tell this agent's reports from a spoofer's (secure.h); else unchanged.
		if ((rv = agent_secure_seal(s->host, &msg)) != 0) {
			nng_msg_free(msg);
			fl_log(FL_LOG_ERR, "sender", "cannot sign report: %s", nng_strerror(rv));
			break;
		}
		// nng_sendmsg takes msg on success; on error we still own it.
		if ((rv = nng_sendmsg(s->sock, msg, 0)) != 0) {
			nng_msg_free(msg);
			if (rv != NNG_EAGAIN && rv != NNG_ETIMEDOUT) {
				fl_log(FL_LOG_WARN, "sender", "cannot send report: %s",
				    nng_strerror(rv));
			}
			check_stall(s, s->pipes > 0);
			break;
		}
		check_stall(s, false);
		if (e->attempted) {
			s->st.replayed++;
		}
		s->st.sent++;
		retain(s, e->buf, e->len);
		e->buf = NULL;
		drop_head(s);
		n++;
		requeue(s); // a connection lost during that send
	}
	for (size_t i = 0; i < s->count; i++) {
		s->ring[(s->head + i) % ring_size(s)].attempted = true;
	}
	s->st.queued = s->count;
	return n;
}

// Rewrites the spool file with what is live: the retained reports, then the queued ones, oldest
// first (spool_file.h keeps the newest that fit its bound).
static void
file_rewrite(agent_sender *s)
{
	size_t    n = s->r_count + s->count, k = 0;
	uint8_t **bufs = calloc(n > 0 ? n : 1, sizeof(*bufs));
	size_t   *lens = calloc(n > 0 ? n : 1, sizeof(*lens));
	if (bufs == NULL || lens == NULL) {
		fl_log(FL_LOG_WARN, "sender", "cannot rewrite the spool file: out of memory");
	} else {
		for (size_t i = 0; i < s->r_count; i++, k++) {
			const spooled *e = &s->retained[(s->r_head + i) % RETAIN_MAX];
			bufs[k]          = e->buf;
			lens[k]          = e->len;
		}
		for (size_t i = 0; i < s->count; i++, k++) {
			const spooled *e = &s->ring[(s->head + i) % ring_size(s)];
			bufs[k]          = e->buf;
			lens[k]          = e->len;
		}
		(void) agent_spool_file_rewrite(s->file, s->boot_id, s->seq, bufs, lens, n);
	}
	free(bufs);
	free(lens);
}

// Opens the spool file in dir and queues what an earlier start left in it, oldest first, as
// replays in front of anything this start makes. This start's seqs begin above the highest the
// file holds and above the wall clock in microseconds (which grows far faster than rounds), so
// they are higher than any earlier start's, even one whose file is gone or older (sender.h).
// Without a usable file the spool is in memory only (logged) and seqs start at 1.
static void
file_load(agent_sender *s, const char *dir, uint64_t max_bytes)
{
	agent_spool_loaded ld;
	char               err[PATH_MAX + 128];

	if (agent_spool_file_open(dir, s->host, max_bytes, &s->file, &ld, err, sizeof(err)) != 0) {
		fl_log(FL_LOG_WARN, "sender", "%s; the spool is in memory only", err);
		s->file = NULL;
		return;
	}
	if (ld.corrupt > 0) {
		fl_log(FL_LOG_WARN, "sender",
		    "spool file in %s: %llu damaged or foreign records skipped", dir,
		    (unsigned long long) ld.corrupt);
	}
	size_t first = ld.n > s->cap ? ld.n - s->cap : 0; // the memory spool's bound holds
	s->st.dropped += first;
	for (size_t i = first; i < ld.n; i++) {
		s->ring[(s->head + s->count) % ring_size(s)] =
		    (spooled) { ld.bufs[i], ld.lens[i], true };
		ld.bufs[i] = NULL;
		s->count++;
	}
	uint64_t now        = (uint64_t) fl_now_us();
	s->seq              = ld.last_seq > now ? ld.last_seq : now;
	s->seq_spans_starts = true;
	s->st.queued        = s->count;
	s->st.loaded        = s->count;
	s->st.file_skipped  = ld.corrupt + first;
	if (s->count > 0) {
		fl_log(FL_LOG_NOTICE, "sender",
		    "%zu reports of an earlier start found in the spool file: sending them first",
		    s->count);
	}
	fl_log(FL_LOG_INFO, "sender",
	    "spool file %s/%s: rounds of this start are numbered from seq %llu", dir,
	    AGENT_SPOOL_FILE_NAME, (unsigned long long) s->seq + 1);
	agent_spool_loaded_fini(&ld);
	file_rewrite(s); // this start owns the file now
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
	s->closing = true;
	nng_close(s->sock);
	requeue(s); // what the last connection may have swallowed is live too
	if (s->file != NULL) {
		file_rewrite(s); // exactly what is live, fsync'd
		agent_spool_file_close(s->file);
		if (s->count > 0) {
			fl_log(FL_LOG_NOTICE, "sender",
			    "%zu unsent reports kept in the spool file for the next start",
			    s->count);
		}
	} else if (s->count > 0) {
		fl_log(FL_LOG_NOTICE, "sender", "%zu unsent reports discarded at exit", s->count);
	}
	while (s->count > 0) {
		drop_head(s);
	}
	for (size_t i = 0; i < RETAIN_MAX; i++) {
		free(s->retained[i].buf);
	}
	free(s->ring);
	free(s);
}
