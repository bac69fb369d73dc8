// tcp.c - the TCP connect probe: `[tcp "name"]` with address = host:port.
//
// One round = resolve (only for a host name; a numeric address is parsed once at load),
// a non-blocking connect bounded by poll() against the probe's deadline, and close. Each
// address of the name is tried in order until one connects or the deadline passes; the
// failure reported is the last one seen.

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cancel.h"
#include "fl/cfg.h"
#include "fl/errclass.h"
#include "fl/time.h"
#include "probe.h"
#include "util.h"

typedef struct tcp_probe {
	char     address[256];
	char     host[256];
	char     port[8];
	uint32_t timeout_ms;
	uint32_t slow_ms; // 0: not set
	bool     numeric; // host is an IP literal: sa holds it, no resolving per round
	struct sockaddr_storage sa;
	socklen_t               salen;
} tcp_probe;

static void *
tcp_alloc(const char *name)
{
	tcp_probe *p = calloc(1, sizeof(*p));
	(void) name;
	if (p != NULL) {
		p->timeout_ms = 1000;
	}
	return p;
}

static int
tcp_set(void *ctx, const char *key, const char *value, char *err, size_t errlen)
{
	tcp_probe *p = ctx;

	if (strcmp(key, "address") == 0) {
		if (agent_split_hostport(
		        value, p->host, sizeof(p->host), p->port, sizeof(p->port)) != 0 ||
		    fl_strlcpy_checked(p->address, value, sizeof(p->address)) != 0) {
			snprintf(err, errlen, "must be HOST:PORT or [IPv6]:PORT, port 1-65535");
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "timeout") == 0) {
		return agent_set_duration(value, &p->timeout_ms, err, errlen);
	}
	if (strcmp(key, "slow") == 0) {
		return agent_set_duration(value, &p->slow_ms, err, errlen);
	}
	snprintf(err, errlen, "unknown key (tcp probes take address, timeout, slow)");
	return -1;
}

static int
tcp_validate(void *ctx, char *err, size_t errlen)
{
	tcp_probe           *p   = ctx;
	struct sockaddr_in  *in4 = (struct sockaddr_in *) &p->sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &p->sa;
	uint16_t             port;

	if (p->address[0] == '\0') {
		snprintf(err, errlen, "missing required key address (HOST:PORT)");
		return -1;
	}
	if (agent_check_slow(p->slow_ms, p->timeout_ms, err, errlen) != 0) {
		return -1;
	}
	port = (uint16_t) atoi(p->port);
	memset(&p->sa, 0, sizeof(p->sa));
	if (inet_pton(AF_INET, p->host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port   = htons(port);
		p->salen        = sizeof(*in4);
		p->numeric      = true;
	} else if (inet_pton(AF_INET6, p->host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port   = htons(port);
		p->salen         = sizeof(*in6);
		p->numeric       = true;
	}
	return 0;
}

// Connects to one address before deadline. Returns 0, or an errno (ETIMEDOUT at the deadline).
static int
try_connect(const struct sockaddr *sa, socklen_t salen, int64_t deadline)
{
	int fd, e = 0;

	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		return errno;
	}
	if (connect(fd, sa, salen) != 0) {
		if (errno != EINPROGRESS) {
			e = errno;
		} else {
			for (;;) {
				int64_t left = deadline - fl_mono_us();
				if (left <= 0) {
					e = ETIMEDOUT;
					break;
				}
				struct pollfd pfd = { .fd = fd, .events = POLLOUT };
				int           n   = agent_poll(&pfd, (int) ((left + 999) / 1000));
				if (n < 0) {
					e = errno;
					break;
				}
				if (n == 0) {
					continue; // re-check the deadline
				}
				socklen_t len = sizeof(e);
				if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0) {
					e = errno;
				}
				break;
			}
		}
	}
	close(fd);
	return e;
}

static void
tcp_run(void *ctx, const agent_round *round, agent_result *res)
{
	tcp_probe       *p  = ctx;
	struct addrinfo *ai = NULL;
	int64_t          t0 = fl_mono_us(), t1 = t0, t2;
	int64_t          deadline = t0 + (int64_t) p->timeout_ms * 1000;
	int              e        = ETIMEDOUT;
	char             addr[64] = "";

	(void) round;
	res->pb.started_us = fl_now_us();
	if (p->numeric) {
		e = try_connect((const struct sockaddr *) &p->sa, p->salen, deadline);
	} else {
		int rv = agent_resolve(p->host, p->port, SOCK_STREAM, p->timeout_ms, &ai);
		t1     = fl_mono_us();
		res->timing.dns_us = agent_phase_us(t0, t1);
		if (rv != 0) {
			res->pb.duration_us = res->timing.total_us = agent_phase_us(t0, t1);
			if (rv == AGENT_RESOLVE_TIMEOUT) {
				agent_result_set(res, FL__STATUS__STATUS_FAIL,
				    FL__FAILURE_CLASS__FAILURE_TIMEOUT,
				    "no DNS answer for %s within %ums", p->host, p->timeout_ms);
			} else {
				agent_result_set(res, FL__STATUS__STATUS_FAIL,
				    FL__FAILURE_CLASS__FAILURE_DNS, "cannot resolve %s: %s",
				    p->host, gai_strerror(rv));
			}
			return;
		}
		agent_result_set_addresses(res, p->host, ai);
		for (struct addrinfo *a = ai; a != NULL; a = a->ai_next) {
			agent_addr_text(a->ai_addr, addr, sizeof(addr));
			if ((e = try_connect(a->ai_addr, a->ai_addrlen, deadline)) == 0 ||
			    fl_mono_us() >= deadline) {
				break;
			}
		}
		freeaddrinfo(ai);
	}
	t2                     = fl_mono_us();
	res->timing.connect_us = agent_phase_us(t1, t2);
	res->timing.total_us   = agent_phase_us(t0, t2);
	res->pb.duration_us    = res->timing.total_us;
	const char *via        = addr[0] ? " via " : "";
	if (e != 0) {
		res->pb.error_code = e;
		if (e == ETIMEDOUT) {
			agent_result_set(res, FL__STATUS__STATUS_FAIL,
			    FL__FAILURE_CLASS__FAILURE_TIMEOUT, "no answer from %s%s%s within %ums",
			    p->address, via, addr, p->timeout_ms);
		} else {
			agent_result_set(res, FL__STATUS__STATUS_FAIL, fl_failure_of_errno(e),
			    "cannot connect to %s%s%s: %s", p->address, via, addr, strerror(e));
		}
		return;
	}
	if (agent_is_slow(p->slow_ms, t2 - t0)) {
		agent_result_set(res, FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_SLOW,
		    "connected in %.1fms (slow above %ums)", (double) (t2 - t0) / 1000.0,
		    p->slow_ms);
		return;
	}
	agent_result_set(res, FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE,
	    "connected in %.1fms", (double) (t2 - t0) / 1000.0);
}

static uint32_t
tcp_timeout_ms(const void *ctx)
{
	return ((const tcp_probe *) ctx)->timeout_ms;
}

static const char *
tcp_target(const void *ctx)
{
	return ((const tcp_probe *) ctx)->address;
}

const agent_probe_ops agent_probe_tcp = {
	.section    = "tcp",
	.kind       = FL__PROBE_KIND__KIND_TCP,
	.alloc      = tcp_alloc,
	.set        = tcp_set,
	.validate   = tcp_validate,
	.run        = tcp_run,
	.timeout_ms = tcp_timeout_ms,
	.target     = tcp_target,
	.free       = free,
};
