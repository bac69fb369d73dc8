// util.c - see util.h.

#define _GNU_SOURCE // getaddrinfo_a, gai_suspend, gai_cancel

#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cancel.h"
#include "fl/cfg.h"
#include "fl/time.h"

int
agent_set_duration(const char *v, uint32_t *ms, char *why, size_t whylen)
{
	uint32_t x;
	if (fl_duration_parse(v, &x) != 0 || x == 0) {
		snprintf(
		    why, whylen, "bad duration \"%s\" (use e.g. 500ms, 2s, 1m; more than 0)", v);
		return -1;
	}
	*ms = x;
	return 0;
}

int
agent_split_hostport(const char *addr, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *colon;
	const char *h = addr;
	size_t      hl;

	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');
		if (close == NULL || close[1] != ':') {
			return -1;
		}
		h     = addr + 1;
		hl    = (size_t) (close - h);
		colon = close + 1;
	} else {
		colon = strrchr(addr, ':');
		if (colon == NULL || memchr(addr, ':', (size_t) (colon - addr)) != NULL) {
			return -1; // no port, or an unbracketed IPv6 address
		}
		hl = (size_t) (colon - addr);
	}
	uint32_t p;
	if (hl == 0 || hl >= hostlen || fl_cfg_uint(colon + 1, 1, 65535, &p) != 0 ||
	    fl_strlcpy_checked(port, colon + 1, portlen) != 0) {
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	return 0;
}

const char *
agent_addr_text(const struct sockaddr *sa, char *buf, size_t len)
{
	const void *a = sa->sa_family == AF_INET6
	    ? (const void *) &((const struct sockaddr_in6 *) sa)->sin6_addr
	    : (const void *) &((const struct sockaddr_in *) sa)->sin_addr;
	if (inet_ntop(sa->sa_family, a, buf, (socklen_t) len) == NULL) {
		snprintf(buf, len, "?");
	}
	return buf;
}

int
agent_check_slow(uint32_t slow_ms, uint32_t timeout_ms, char *err, size_t errlen)
{
	if (slow_ms != 0 && slow_ms >= timeout_ms) {
		snprintf(
		    err, errlen, "slow (%ums) must be below timeout (%ums)", slow_ms, timeout_ms);
		return -1;
	}
	return 0;
}

bool
agent_is_slow(uint32_t slow_ms, int64_t elapsed_us)
{
	return slow_ms != 0 && elapsed_us > (int64_t) slow_ms * 1000;
}

uint32_t
agent_phase_us(int64_t from, int64_t to)
{
	int64_t d = to - from;
	if (d < 1) {
		return 1;
	}
	return d > UINT32_MAX ? UINT32_MAX : (uint32_t) d;
}

// One getaddrinfo_a request; heap-allocated because glibc may still write into it after the
// caller gave up.
typedef struct gai_req {
	struct gaicb    cb;
	struct addrinfo hints;
	char            host[256];
	char            port[16];
	struct gai_req *next;
} gai_req;

static pthread_mutex_t orphan_mu = PTHREAD_MUTEX_INITIALIZER;
static gai_req        *orphans;

static void
req_free(gai_req *r)
{
	if (r->cb.ar_result != NULL) {
		freeaddrinfo(r->cb.ar_result);
	}
	free(r);
}

// Frees parked requests that glibc has finished with.
static void
reap_orphans(void)
{
	pthread_mutex_lock(&orphan_mu);
	for (gai_req **pp = &orphans; *pp != NULL;) {
		gai_req *r = *pp;
		if (gai_error(&r->cb) != EAI_INPROGRESS) {
			*pp = r->next;
			req_free(r);
		} else {
			pp = &r->next;
		}
	}
	pthread_mutex_unlock(&orphan_mu);
}

int
agent_resolve(
    const char *host, const char *port, int socktype, uint32_t timeout_ms, struct addrinfo **out)
{
	gai_req      *r;
	struct gaicb *list[1];
	int           rv;
	int64_t       deadline = fl_mono_us() + (int64_t) timeout_ms * 1000;

	reap_orphans();
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		return EAI_MEMORY;
	}
	if (fl_strlcpy_checked(r->host, host, sizeof(r->host)) != 0 ||
	    (port != NULL && fl_strlcpy_checked(r->port, port, sizeof(r->port)) != 0)) {
		free(r);
		return EAI_NONAME;
	}
	r->hints.ai_family   = AF_UNSPEC;
	r->hints.ai_socktype = socktype;
	// No AI_ADDRCONFIG: it hides IPv4 answers on a host (or network namespace) whose only
	// IPv4 address is loopback, which would turn a working name into a dns failure.
	r->hints.ai_flags = port != NULL ? AI_NUMERICSERV : 0;
	r->cb.ar_name     = r->host;
	r->cb.ar_service  = port != NULL ? r->port : NULL;
	r->cb.ar_request  = &r->hints;
	list[0]           = &r->cb;
	if ((rv = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL)) != 0) {
		free(r);
		return rv;
	}
	for (;;) {
		if ((rv = gai_error(&r->cb)) != EAI_INPROGRESS) {
			break;
		}
		int64_t left = deadline - fl_mono_us();
		if (left <= 0 || agent_cancelled()) {
			rv = AGENT_RESOLVE_TIMEOUT;
			break;
		}
		if (left > AGENT_CANCEL_SLICE_MS * 1000) {
			left = AGENT_CANCEL_SLICE_MS * 1000; // gai_suspend cannot watch the token
		}
		struct timespec ts = { .tv_sec = left / 1000000,
			.tv_nsec               = (left % 1000000) * 1000 };
		(void) gai_suspend((const struct gaicb *const *) list, 1, &ts);
	}
	if (rv == AGENT_RESOLVE_TIMEOUT) {
		if (gai_cancel(&r->cb) == EAI_NOTCANCELED) {
			pthread_mutex_lock(&orphan_mu);
			r->next = orphans;
			orphans = r;
			pthread_mutex_unlock(&orphan_mu);
			return rv;
		}
		req_free(r);
		return rv;
	}
	if (rv == 0) {
		*out            = r->cb.ar_result;
		r->cb.ar_result = NULL;
	}
	req_free(r);
	return rv;
}

int
agent_set_cert_warn(const char *v, uint32_t *secs, char *why, size_t whylen)
{
	size_t   n = strlen(v);
	uint32_t ms;

	if (n > 1 && v[n - 1] == 'd') {
		char  buf[16];
		char *end;
		if (n >= sizeof(buf)) {
			goto bad;
		}
		memcpy(buf, v, n - 1);
		buf[n - 1]      = '\0';
		unsigned long d = strtoul(buf, &end, 10);
		if (*end != '\0' || buf[0] < '0' || buf[0] > '9' || d > 3650) {
			goto bad;
		}
		*secs = (uint32_t) d * 86400u;
		return 0;
	}
	if (fl_duration_parse(v, &ms) == 0) {
		*secs = ms / 1000;
		return 0;
	}
bad:
	snprintf(why, whylen, "must be days such as 14d (up to 3650d) or a duration such as 12h");
	return -1;
}

// Days from 1970-01-01 to the civil date y-m-d (proleptic Gregorian), without timegm().
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t  era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned) (y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t) doe - 719468;
}

int64_t
agent_cert_time_parse(const char *text)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char              mon[4], tz[4];
	int               d, h, mi, s, y, used = 0;

	if (text == NULL ||
	    sscanf(text, "%3s %d %d:%d:%d %d %3s%n", mon, &d, &h, &mi, &s, &y, tz, &used) != 7 ||
	    text[used] != '\0' || strcmp(tz, "GMT") != 0) {
		return 0;
	}
	const char *at = strstr(months, mon);
	if (strlen(mon) != 3 || at == NULL || (at - months) % 3 != 0 || d < 1 || d > 31 || h < 0 ||
	    h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60 || y < 1970 || y > 9999) {
		return 0;
	}
	unsigned m    = (unsigned) ((at - months) / 3 + 1);
	int64_t  days = days_from_civil(y, m, (unsigned) d);
	return ((days * 86400) + h * 3600 + mi * 60 + s) * 1000000;
}
