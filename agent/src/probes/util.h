// util.h - helpers shared by the network probes (http, tcp, dns): key parsing and a resolver
// bounded by a timeout.
//
// getaddrinfo() cannot be interrupted, and a hung resolver must not hang a probe past its
// timeout. agent_resolve() therefore uses glibc's getaddrinfo_a() and waits with a deadline;
// a request that cannot be cancelled in time is parked and reaped by a later call, so a probe
// thread never blocks on it.

#ifndef FL_AGENT_PROBES_UTIL_H
#define FL_AGENT_PROBES_UTIL_H

#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define AGENT_RESOLVE_TIMEOUT 1 // agent_resolve(): no answer before the deadline (EAI_* are < 0)

// Parses a duration key (fl_duration_parse syntax). Rejects zero. 0, or -1 with why.
int agent_set_duration(const char *v, uint32_t *ms, char *why, size_t whylen);

// Splits "host:port" or "[v6addr]:port". 0, or -1 when malformed or a part does not fit.
int agent_split_hostport(const char *addr, char *host, size_t hostlen, char *port, size_t portlen);

// Resolves host (and port, may be NULL) within timeout_ms. Returns 0 and sets *out (free with
// freeaddrinfo), AGENT_RESOLVE_TIMEOUT, or an EAI_* code (gai_strerror() describes it).
int agent_resolve(
    const char *host, const char *port, int socktype, uint32_t timeout_ms, struct addrinfo **out);

// Writes the numeric form of an address ("127.0.0.1", "::1") into buf. Returns buf.
const char *agent_addr_text(const struct sockaddr *sa, char *buf, size_t len);

// Parses cert_warn: "14d" (days, up to 3650) or a duration ("12h", "30m"); 0 turns the warning
// off. Stores seconds. 0, or -1 with why.
int agent_set_cert_warn(const char *v, uint32_t *secs, char *why, size_t whylen);

// Parses a certificate time as OpenSSL prints it (ASN1_TIME_print, which is what libcurl's
// CURLINFO_CERTINFO "Expire date" carries): "Mar  1 12:00:00 2027 GMT". Returns Unix time in
// microseconds, or 0 when text is not in that form.
int64_t agent_cert_time_parse(const char *text);

// Checks a probe's slow threshold against its timeout: 0, or -1 with why in err when slow is
// set (not 0) and not below timeout.
int agent_check_slow(uint32_t slow_ms, uint32_t timeout_ms, char *err, size_t errlen);

// True when a check that took elapsed_us is slow: slow is set (not 0) and exceeded.
bool agent_is_slow(uint32_t slow_ms, int64_t elapsed_us);

// The one phase timer of every probe (HTTP, TCP, DNS, PostgreSQL, MySQL): microseconds
// between two fl_mono_us() readings of a phase that happened, clamped to uint32 and to at least
// 1 so that it is never reported as "did not happen" (0; see probe.h). A phase that did not
// happen is not measured: its field stays 0.
uint32_t agent_phase_us(int64_t from, int64_t to);

#endif // FL_AGENT_PROBES_UTIL_H
