// dns.c - the DNS probe: `[dns "name"]` resolves `name` through the host's resolver (the same
// path the application uses: nsswitch, /etc/hosts, resolv.conf), bounded by `timeout`.
//
// Failures: the name does not exist or has no address (EAI_NONAME, EAI_NODATA) or the resolver
// failed fast (EAI_AGAIN, EAI_FAIL: SERVFAIL or refused) -> dns; no answer before the deadline
// -> timeout; `expect` set but not among the answers -> dns, naming what came back.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl/cfg.h"
#include "fl/time.h"
#include "probe.h"
#include "util.h"

typedef struct dns_probe {
	char     name[256];
	char     expect[64]; // normalised numeric address, "" when not set
	uint32_t timeout_ms;
	uint32_t slow_ms;
} dns_probe;

static void *
dns_alloc(const char *name)
{
	dns_probe *p = calloc(1, sizeof(*p));
	(void) name;
	if (p != NULL) {
		p->timeout_ms = 1000;
	}
	return p;
}

static int
dns_set(void *ctx, const char *key, const char *value, char *err, size_t errlen)
{
	dns_probe *p = ctx;

	if (strcmp(key, "name") == 0) {
		if (value[0] == '\0' || strchr(value, ' ') != NULL ||
		    fl_strlcpy_checked(p->name, value, sizeof(p->name)) != 0) {
			snprintf(err, errlen, "must be a host name of 1 to 255 characters");
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "expect") == 0) {
		unsigned char buf[sizeof(struct in6_addr)];
		int           af = strchr(value, ':') != NULL ? AF_INET6 : AF_INET;
		if (inet_pton(af, value, buf) != 1 ||
		    inet_ntop(af, buf, p->expect, sizeof(p->expect)) == NULL) {
			snprintf(err, errlen, "must be an IPv4 or IPv6 address");
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
	snprintf(err, errlen, "unknown key (dns probes take name, expect, timeout, slow)");
	return -1;
}

static int
dns_validate(void *ctx, char *err, size_t errlen)
{
	dns_probe *p = ctx;
	if (p->name[0] == '\0') {
		snprintf(err, errlen, "missing required key name (the host name to resolve)");
		return -1;
	}
	if (agent_check_slow(p->slow_ms, p->timeout_ms, err, errlen) != 0) {
		return -1;
	}
	return 0;
}

static void
dns_run(void *ctx, const agent_round *round, agent_result *res)
{
	dns_probe       *p  = ctx;
	struct addrinfo *ai = NULL;
	int64_t          t0 = fl_mono_us();
	int              rv;

	(void) round;
	res->pb.started_us = fl_now_us();
	rv                 = agent_resolve(p->name, NULL, SOCK_STREAM, p->timeout_ms, &ai);
	int64_t t1         = fl_mono_us();
	res->timing.dns_us = res->timing.total_us = res->pb.duration_us = agent_phase_us(t0, t1);
	if (rv == AGENT_RESOLVE_TIMEOUT) {
		agent_result_set(res, FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_TIMEOUT,
		    "no answer for %s within %ums", p->name, p->timeout_ms);
		return;
	}
	if (rv != 0) {
		res->pb.error_code = rv;
		agent_result_set(res, FL__STATUS__STATUS_FAIL,
		    rv == EAI_MEMORY ? FL__FAILURE_CLASS__FAILURE_INTERNAL
		                     : FL__FAILURE_CLASS__FAILURE_DNS,
		    "cannot resolve %s: %s", p->name, gai_strerror(rv));
		return;
	}

	agent_result_set_addresses(res, p->name, ai);
	// List the distinct addresses; check `expect` among them.
	char   list[256] = "";
	size_t off       = 0;
	int    found     = p->expect[0] == '\0';
	for (struct addrinfo *a = ai; a != NULL; a = a->ai_next) {
		char txt[64];
		agent_addr_text(a->ai_addr, txt, sizeof(txt));
		if (strcmp(txt, p->expect) == 0) {
			found = 1;
		}
		if (strstr(list, txt) == NULL && off < sizeof(list)) {
			int w =
			    snprintf(list + off, sizeof(list) - off, "%s%s", off ? ", " : "", txt);
			off += w > 0 ? (size_t) w : 0;
		}
	}
	freeaddrinfo(ai);
	if (!found) {
		agent_result_set(res, FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_DNS,
		    "%s resolves to %s, not the expected %s", p->name, list, p->expect);
		return;
	}
	if (agent_is_slow(p->slow_ms, t1 - t0)) {
		agent_result_set(res, FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_SLOW,
		    "%s -> %s in %.1fms (slow above %ums)", p->name, list,
		    (double) (t1 - t0) / 1000.0, p->slow_ms);
		return;
	}
	agent_result_set(
	    res, FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, "%s -> %s", p->name, list);
}

static uint32_t
dns_timeout_ms(const void *ctx)
{
	return ((const dns_probe *) ctx)->timeout_ms;
}

static const char *
dns_target(const void *ctx)
{
	return ((const dns_probe *) ctx)->name;
}

const agent_probe_ops agent_probe_dns = {
	.section    = "dns",
	.kind       = FL__PROBE_KIND__KIND_DNS,
	.alloc      = dns_alloc,
	.set        = dns_set,
	.validate   = dns_validate,
	.run        = dns_run,
	.timeout_ms = dns_timeout_ms,
	.target     = dns_target,
	.free       = free,
};
