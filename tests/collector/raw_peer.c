// raw_peer.c - test client: hostile SP peers written by hand (no nng), to show what a peer that
// breaks the protocol's manners can make the collector hold.
//
//   raw_peer pipeline URL CONNS SECONDS
//       CONNS connections to a REP (control) socket; each sends status requests as fast as
//       the socket takes them and never reads a byte. A connection the collector closes is
//       opened again at once, so CONNS stay hostile for SECONDS.
//   raw_peer partial URL CONNS SIZE PROTO SECONDS
//       CONNS connections that each send the SP handshake as PROTO (push, req or respondent),
//       then a message header announcing SIZE bytes and SIZE - 16 of them, and stall. Closed
//       connections are opened again (after a second) for SECONDS.
//
// URL is tcp://HOST:PORT or ipc:///PATH. Prints one line of counters at the end:
//   connects=N closed_by_peer=N open=N requests=N bytes=N
// Exit 0, or 1 when not even the first connection could be made.

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "fl/wire.h"

#define PROTO_REQ        0x30
#define PROTO_PUSH       0x50
#define PROTO_RESPONDENT 0x63
#define MAX_CONNS        4096

typedef struct peer {
	int      fd; // -1: closed
	uint8_t *out;
	size_t   out_len, out_off;
	int64_t  reopen_at_ms;
	uint32_t req_id;
	unsigned batch; // requests in out (pipeline mode)
} peer;

typedef struct opts {
	bool        pipeline;
	const char *url;
	bool        ipc;
	size_t      conns;
	size_t      size;
	int         proto;
	int         seconds;
} opts;

static uint64_t n_connects, n_closed, n_requests, n_bytes;

static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t) v;
		v >>= 8;
	}
}

// Opens a non-blocking connection to the URL; -1 on failure.
static int
dial(const opts *o)
{
	int fd;
	if (o->ipc) {
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		snprintf(a.sun_path, sizeof(a.sun_path), "%s", o->url + strlen("ipc://"));
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0) {
			return -1;
		}
		if (connect(fd, (struct sockaddr *) &a, sizeof(a)) != 0) {
			close(fd);
			return -1;
		}
	} else {
		struct sockaddr_in a = { .sin_family = AF_INET };
		char               host[64];
		int                port;
		if (sscanf(o->url, "tcp://%63[^:]:%d", host, &port) != 2 ||
		    inet_pton(AF_INET, host, &a.sin_addr) != 1) {
			return -1;
		}
		a.sin_port = htons((uint16_t) port);
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0) {
			return -1;
		}
		if (connect(fd, (struct sockaddr *) &a, sizeof(a)) != 0) {
			close(fd);
			return -1;
		}
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	n_connects++;
	return fd;
}

// Appends one framed message (IPC has a type byte before the length) to p->out.
static void
frame(const opts *o, peer *p, const uint8_t *body, size_t len, size_t send_len)
{
	size_t   hdr = o->ipc ? 9 : 8;
	uint8_t *b   = realloc(p->out, p->out_len + hdr + send_len);
	if (b == NULL) {
		abort();
	}
	p->out = b;
	b += p->out_len;
	if (o->ipc) {
		*b++ = 1;
	}
	put_be64(b, len);
	memcpy(b + 8, body, send_len);
	p->out_len += hdr + send_len;
}

static uint8_t *
status_request(size_t *len)
{
	Fl__Request     q  = FL__REQUEST__INIT;
	Fl__StatusQuery sq = FL__STATUS_QUERY__INIT;
	nng_msg        *m;
	uint8_t        *buf;

	q.schema_version = FL_SCHEMA_VERSION;
	q.query_case     = FL__REQUEST__QUERY_STATUS;
	q.status         = &sq;
	if (fl_wire_encode(&q.base, &m) != 0) {
		abort();
	}
	*len = nng_msg_len(m) + 4; // REQ: a 4-byte request id (high bit set) comes first
	if ((buf = malloc(*len)) == NULL) {
		abort();
	}
	memcpy(buf + 4, nng_msg_body(m), nng_msg_len(m));
	nng_msg_free(m);
	return buf;
}

static void
open_peer(const opts *o, peer *p)
{
	uint8_t hs[8] = { 0, 'S', 'P', 0, 0, (uint8_t) o->proto, 0, 0 };

	if ((p->fd = dial(o)) < 0) {
		p->reopen_at_ms = now_ms() + 100;
		return;
	}
	free(p->out);
	p->out     = malloc(sizeof(hs));
	p->out_len = sizeof(hs);
	p->out_off = 0;
	p->batch   = 0;
	memcpy(p->out, hs, sizeof(hs));
	if (!o->pipeline) {
		uint8_t *body = calloc(1, o->size);
		frame(o, p, body, o->size, o->size - 16);
		free(body);
	}
}

// Queues more requests once what was queued went out (pipeline mode).
static void
refill(const opts *o, peer *p, const uint8_t *req, size_t req_len)
{
	uint8_t *r = malloc(req_len);
	memcpy(r, req, req_len);
	p->batch = 64;
	for (int i = 0; i < 64; i++) {
		uint32_t id = 0x80000000u | (++p->req_id & 0x7fffffffu);
		r[0]        = (uint8_t) (id >> 24);
		r[1]        = (uint8_t) (id >> 16);
		r[2]        = (uint8_t) (id >> 8);
		r[3]        = (uint8_t) id;
		frame(o, p, r, req_len, req_len);
	}
	free(r);
}

// Writes what p has queued; notes a connection the collector closed.
static void
pump(const opts *o, peer *p, const uint8_t *req, size_t req_len)
{
	while (p->out_off < p->out_len) {
		ssize_t n = send(p->fd, p->out + p->out_off, p->out_len - p->out_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				return;
			}
			close(p->fd);
			p->fd = -1;
			n_closed++;
			p->reopen_at_ms = now_ms() + (o->pipeline ? 0 : 1000);
			return;
		}
		p->out_off += (size_t) n;
		n_bytes += (uint64_t) n;
	}
	if (o->pipeline) {
		n_requests += p->batch;
		p->out_len = p->out_off = 0;
		refill(o, p, req, req_len);
	}
}

// Notes a connection the collector closed: POLLHUP/POLLERR, or (a stalled partial sender,
// which never writes again) EOF on a peek.
static void
check_closed(peer *p, short revents)
{
	uint8_t buf[256];
	ssize_t n = 1;
	if (!(revents & (POLLHUP | POLLERR))) {
		n = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_PEEK);
	}
	if ((revents & (POLLHUP | POLLERR)) || n == 0 ||
	    (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
		close(p->fd);
		p->fd = -1;
		n_closed++;
		p->reopen_at_ms = now_ms() + 1000;
	}
}

static int
run(const opts *o)
{
	peer          *ps = calloc(o->conns, sizeof(*ps));
	struct pollfd *fds;
	size_t         req_len = 0;
	uint8_t       *req     = o->pipeline ? status_request(&req_len) : NULL;
	int64_t        end     = now_ms() + (int64_t) o->seconds * 1000;
	size_t         open_now;

	fds = calloc(o->conns, sizeof(*fds));
	for (size_t i = 0; i < o->conns; i++) {
		open_peer(o, &ps[i]);
	}
	if (n_connects == 0) {
		fprintf(stderr, "raw_peer: cannot connect to %s: %s\n", o->url, strerror(errno));
		return 1;
	}
	while (now_ms() < end) {
		for (size_t i = 0; i < o->conns; i++) {
			peer *p = &ps[i];
			if (p->fd < 0 && now_ms() >= p->reopen_at_ms) {
				open_peer(o, p);
			}
			// Pipeline: always more to write, and replies are never read (no POLLIN).
			// Partial: write until stalled, then watch only for the close.
			fds[i] = (struct pollfd) { .fd = p->fd,
				.events =
				    (short) (o->pipeline || p->out_off < p->out_len ? POLLOUT
				                                                    : POLLIN) };
		}
		if (poll(fds, o->conns, 50) < 0 && errno != EINTR) {
			break;
		}
		for (size_t i = 0; i < o->conns; i++) {
			peer *p = &ps[i];
			if (p->fd < 0 || fds[i].revents == 0) {
				continue;
			}
			if (fds[i].revents & (POLLERR | POLLHUP | POLLIN)) {
				check_closed(p, fds[i].revents);
				if (p->fd < 0) {
					continue;
				}
			}
			if (fds[i].revents & POLLOUT) {
				pump(o, p, req, req_len);
			}
		}
	}
	// Pipeline: stop sending, and leave only once the collector has read what was sent (it
	// closes the connections it cuts off meanwhile). An abrupt close while the collector is
	// still reading can wedge nng 1.5.2 (see collector/src/control.c, cut_off), which the
	// collector survives only by restarting: tests/reliability/stop_test.sh covers that.
	if (o->pipeline) {
		struct timespec drain = { 1, 0 };
		nanosleep(&drain, NULL);
		for (size_t i = 0; i < o->conns; i++) {
			if (ps[i].fd >= 0) {
				check_closed(&ps[i], 0);
			}
		}
	}
	open_now = 0;
	for (size_t i = 0; i < o->conns; i++) {
		if (ps[i].fd >= 0) {
			open_now++;
			close(ps[i].fd);
		}
		free(ps[i].out);
	}
	printf("connects=%llu closed_by_peer=%llu open=%zu requests=%llu bytes=%llu\n",
	    (unsigned long long) n_connects, (unsigned long long) n_closed, open_now,
	    (unsigned long long) n_requests, (unsigned long long) n_bytes);
	free(ps);
	free(fds);
	free(req);
	return 0;
}

static int
usage(void)
{
	fprintf(stderr,
	    "usage: raw_peer pipeline URL CONNS SECONDS\n"
	    "       raw_peer partial URL CONNS SIZE push|req|respondent SECONDS\n");
	return 2;
}

int
main(int argc, char **argv)
{
	opts o = { 0 };

	if (argc == 5 && strcmp(argv[1], "pipeline") == 0) {
		o.pipeline = true;
		o.proto    = PROTO_REQ;
		o.seconds  = atoi(argv[4]);
	} else if (argc == 7 && strcmp(argv[1], "partial") == 0) {
		o.size    = strtoull(argv[4], NULL, 10);
		o.proto   = strcmp(argv[5], "push") == 0 ? PROTO_PUSH
		      : strcmp(argv[5], "req") == 0      ? PROTO_REQ
		                                         : PROTO_RESPONDENT;
		o.seconds = atoi(argv[6]);
		if (o.size < 32) {
			return usage();
		}
	} else {
		return usage();
	}
	o.url   = argv[2];
	o.ipc   = strncmp(o.url, "ipc://", 6) == 0;
	o.conns = strtoull(argv[3], NULL, 10);
	if (o.conns == 0 || o.conns > MAX_CONNS || (!o.ipc && strncmp(o.url, "tcp://", 6) != 0)) {
		return usage();
	}
	return run(&o);
}
