// http.c - the HTTP(S) probe: `[http "name"]`, one GET per round with libcurl.
//
// Each instance keeps one easy handle across rounds (options set once; reusing it costs less
// CPU than a fresh handle, see docs/benchmarks/agent.md), but every round opens a new
// connection (FRESH_CONNECT + FORBID_REUSE) and resolves afresh (no DNS cache): a health probe
// measures what a new client would see. The body is scanned as it streams in for
// `body_contains` and never stored; at most HTTP_BODY_CAP bytes are read.
//
// Requires curl_global_init() before the first run (main and the tests do it).

#define _GNU_SOURCE // memmem

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cancel.h"
#include "config.h"
#include "fl/cfg.h"
#include "fl/errclass.h"
#include "fl/time.h"
#include "fl/version.h"
#include "probe.h"
#include "util.h"

#define HTTP_BODY_CAP   (64UL * 1024)
#define HTTP_NEEDLE_MAX 256
#define HTTP_MAX_HEADER 16
// libcurl's receive buffer, one per probe for the agent's lifetime: 4 kB instead of 16 kB. A
// health page fits in one read either way; a large body takes more reads, not more memory.
#define HTTP_RECV_BUFFER 4096L

typedef struct http_probe {
	char     url[1024];
	int      status_lo, status_hi;
	char     needle[HTTP_NEEDLE_MAX];
	size_t   needle_len;
	uint32_t timeout_ms;
	uint32_t slow_ms;
	bool     tls_verify;
	char     ca_file[256];
	uint32_t cert_warn_s; // warn when the peer certificate expires sooner (0: off)
	bool     https;
	char     host[256]; // the URL's host when it is a name (its addresses are reported); ""
	char    *headers[HTTP_MAX_HEADER];
	size_t   n_headers;

	CURL              *curl;  // created on the first run
	CURLM             *multi; // drives curl so a stop can interrupt it (cancel.h)
	struct curl_slist *hdrs;
	char               errbuf[CURL_ERROR_SIZE];

	// Per-round body scan state.
	size_t body_bytes;
	bool   found;
	bool   capped;
	char   carry[HTTP_NEEDLE_MAX]; // last needle_len-1 bytes, for matches across chunks
	size_t carry_len;
} http_probe;

static void *
http_alloc(const char *name)
{
	http_probe *p = calloc(1, sizeof(*p));
	(void) name;
	if (p != NULL) {
		p->timeout_ms  = 2000;
		p->tls_verify  = true;
		p->cert_warn_s = 14 * 86400;
		p->status_lo   = 200;
		p->status_hi   = 299;
	}
	return p;
}

// Whether a query parameter's name says it carries a secret: a known name (password, token,
// api_key ...) or one ending in such a word after '_' or '-' (db_password, x-auth-token).
static bool
secret_param_name(const char *name, size_t len)
{
	static const char *const exact[] = { "password", "passwd", "pwd", "pass", "secret",
		"client_secret", "token", "access_token", "auth_token", "refresh_token", "id_token",
		"private_token", "api_key", "apikey", "api-key", "key_secret", "signature", "sig",
		"x-amz-signature", "x-amz-credential", "x-goog-signature", "auth", "authorization",
		"credentials", "session" };
	static const char *const tails[] = { "password", "passwd", "secret", "token", "apikey",
		"api_key", "api-key" };

	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
		if (strlen(exact[i]) == len && strncasecmp(name, exact[i], len) == 0) {
			return true;
		}
	}
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		size_t t = strlen(tails[i]);
		if (len > t + 1 && (name[len - t - 1] == '_' || name[len - t - 1] == '-') &&
		    strncasecmp(name + len - t, tails[i], t) == 0) {
			return true;
		}
	}
	return false;
}

// The first query parameter of url whose name says it carries a secret, copied into name;
// false when there is none.
static bool
find_secret_param(const char *url, char *name, size_t namelen)
{
	const char *q = strchr(url, '?');
	if (q == NULL) {
		return false;
	}
	size_t end = strcspn(++q, "#");
	for (size_t i = 0; i < end;) {
		size_t seg = strcspn(q + i, "&;#");
		if (i + seg > end) {
			seg = end - i;
		}
		size_t klen = strcspn(q + i, "=&;#");
		klen        = klen < seg ? klen : seg;
		if (klen > 0 && secret_param_name(q + i, klen)) {
			snprintf(name, namelen, "%.*s", (int) klen, q + i);
			return true;
		}
		i += seg + 1;
	}
	return false;
}

static int
http_set(void *ctx, const char *key, const char *value, char *err, size_t errlen)
{
	http_probe *p = ctx;

	if (strcmp(key, "url") == 0) {
		if ((strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0) ||
		    fl_strlcpy_checked(p->url, value, sizeof(p->url)) != 0) {
			snprintf(err, errlen,
			    "must be an http:// or https:// URL under %zu characters",
			    sizeof(p->url));
			return -1;
		}
		const char *auth = strstr(value, "://") + 3;
		size_t      alen = strcspn(auth, "/?#");
		if (memchr(auth, '@', alen) != NULL) {
			// The URL is the probe's reported target: it must not carry a password.
			snprintf(err, errlen,
			    "must not contain user:password@ (it is reported); use header = "
			    "Authorization: ...");
			p->url[0] = '\0';
			return -1;
		}
		char param[64];
		if (find_secret_param(value, param, sizeof(param))) {
			snprintf(err, errlen,
			    "must not carry a secret in its query (%s=...; it is reported as the "
			    "target); use header = Authorization: ...",
			    param);
			p->url[0] = '\0';
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "expect_status") == 0) {
		if (agent_parse_status_range(value, &p->status_lo, &p->status_hi) != 0) {
			snprintf(err, errlen,
			    "must be a status (200) or a range (200-299) within 100-599");
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "body_contains") == 0) {
		if (value[0] == '\0' ||
		    fl_strlcpy_checked(p->needle, value, sizeof(p->needle)) != 0) {
			snprintf(err, errlen, "must be 1 to %d characters", HTTP_NEEDLE_MAX - 1);
			return -1;
		}
		p->needle_len = strlen(p->needle);
		return 0;
	}
	if (strcmp(key, "timeout") == 0) {
		return agent_set_duration(value, &p->timeout_ms, err, errlen);
	}
	if (strcmp(key, "slow") == 0) {
		return agent_set_duration(value, &p->slow_ms, err, errlen);
	}
	if (strcmp(key, "tls_verify") == 0) {
		if (fl_cfg_bool(value, &p->tls_verify) != 0) {
			snprintf(err, errlen, "must be yes or no");
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "cert_warn") == 0) {
		return agent_set_cert_warn(value, &p->cert_warn_s, err, errlen);
	}
	if (strcmp(key, "ca_file") == 0) {
		if (value[0] == '\0' ||
		    fl_strlcpy_checked(p->ca_file, value, sizeof(p->ca_file)) != 0) {
			snprintf(
			    err, errlen, "must be a path under %zu characters", sizeof(p->ca_file));
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "header") == 0) {
		const char *colon = strchr(value, ':');
		if (colon == NULL || colon == value || strpbrk(value, "\r\n") != NULL) {
			snprintf(err, errlen, "must be \"Name: value\"");
			return -1;
		}
		if (p->n_headers == HTTP_MAX_HEADER) {
			snprintf(err, errlen, "at most %d headers", HTTP_MAX_HEADER);
			return -1;
		}
		if ((p->headers[p->n_headers] = strdup(value)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		p->n_headers++;
		return 0;
	}
	snprintf(err, errlen,
	    "unknown key (http probes take url, expect_status, body_contains, timeout, slow, "
	    "tls_verify, ca_file, cert_warn, header)");
	return -1;
}

// Sets p->host to the URL's host when it is a name, not an address ("" otherwise or when the
// URL cannot be parsed here: curl then reports the problem at run time).
static void
url_host_name(http_probe *p)
{
	CURLU *u    = curl_url();
	char  *host = NULL;
	p->host[0]  = '\0';
	if (u == NULL) {
		return;
	}
	if (curl_url_set(u, CURLUPART_URL, p->url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host != NULL) {
		struct addrinfo hints = { .ai_flags = AI_NUMERICHOST }, *ai = NULL;
		if (host[0] != '[' && getaddrinfo(host, NULL, &hints, &ai) == EAI_NONAME) {
			snprintf(p->host, sizeof(p->host), "%s", host);
		}
		if (ai != NULL) {
			freeaddrinfo(ai);
		}
	}
	curl_free(host);
	curl_url_cleanup(u);
}

// What the URL's host name resolves to now, within what is left of the timeout. libcurl does
// not expose the whole answer, so this asks once more (for a name only; the system's resolver
// or cache answers).
static void
report_addresses(http_probe *p, int64_t t0, agent_result *res)
{
	int64_t          left_ms = (int64_t) p->timeout_ms - (fl_mono_us() - t0) / 1000;
	struct addrinfo *ai      = NULL;
	if (p->host[0] == '\0' || left_ms < 50) {
		return;
	}
	if (agent_resolve(p->host, NULL, SOCK_STREAM, (uint32_t) left_ms, &ai) == 0) {
		agent_result_set_addresses(res, p->host, ai);
		freeaddrinfo(ai);
	}
}

static int
http_validate(void *ctx, char *err, size_t errlen)
{
	http_probe *p = ctx;
	if (p->url[0] == '\0') {
		snprintf(err, errlen, "missing required key url");
		return -1;
	}
	if (agent_check_slow(p->slow_ms, p->timeout_ms, err, errlen) != 0) {
		return -1;
	}
	url_host_name(p);
	return 0;
}

// Scans the body for the needle as it arrives; stops the transfer at the cap.
static size_t
on_body(char *data, size_t size, size_t nmemb, void *user)
{
	http_probe *p = user;
	size_t      n = size * nmemb;

	if (p->body_bytes + n > HTTP_BODY_CAP) {
		n         = HTTP_BODY_CAP - p->body_bytes;
		p->capped = true;
	}
	p->body_bytes += n;
	if (p->needle_len > 0 && !p->found && n > 0) {
		size_t k = p->needle_len - 1;
		// A match straddling the previous chunk and this one.
		if (p->carry_len > 0) {
			char   win[2 * HTTP_NEEDLE_MAX];
			size_t take = n < k ? n : k;
			memcpy(win, p->carry, p->carry_len);
			memcpy(win + p->carry_len, data, take);
			p->found =
			    memmem(win, p->carry_len + take, p->needle, p->needle_len) != NULL;
		}
		if (!p->found) {
			p->found = memmem(data, n, p->needle, p->needle_len) != NULL;
		}
		// Keep the last k bytes seen.
		if (n >= k) {
			memcpy(p->carry, data + n - k, k);
			p->carry_len = k;
		} else {
			size_t keep = p->carry_len + n > k ? k - n : p->carry_len;
			memmove(p->carry, p->carry + p->carry_len - keep, keep);
			memcpy(p->carry + keep, data, n);
			p->carry_len = keep + n;
		}
	}
	// Returning less than given aborts the transfer (CURLE_WRITE_ERROR), which is what the
	// cap wants; run() then treats the response as complete.
	return p->capped ? n : size * nmemb;
}

static int
setup(http_probe *p)
{
	CURL *c;

	if (p->multi == NULL && (p->multi = curl_multi_init()) == NULL) {
		return -1;
	}
	if ((c = curl_easy_init()) == NULL) {
		return -1;
	}
	bool build = p->hdrs == NULL; // built once, kept across rounds
	for (size_t i = 0; build && i < p->n_headers; i++) {
		struct curl_slist *s = curl_slist_append(p->hdrs, p->headers[i]);
		if (s == NULL) {
			curl_easy_cleanup(c);
			return -1;
		}
		p->hdrs = s;
	}
	curl_easy_setopt(c, CURLOPT_URL, p->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long) p->timeout_ms);
	curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(c, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, p);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, p->errbuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "faultline-agent/" FL_VERSION);
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, HTTP_RECV_BUFFER);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, p->tls_verify ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, p->tls_verify ? 2L : 0L);
	if (p->ca_file[0] != '\0') {
		curl_easy_setopt(c, CURLOPT_CAINFO, p->ca_file);
	}
	p->https = strncasecmp(p->url, "https://", 8) == 0;
	if (p->https) {
		// The peer certificate's fields, for its expiry (gathered during the handshake,
		// also when verification then fails).
		curl_easy_setopt(c, CURLOPT_CERTINFO, 1L);
	}
	if (p->hdrs != NULL) {
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, p->hdrs);
	}
	p->curl = c;
	return 0;
}

static bool
is_tls_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
		return true;
	default:
		return false;
	}
}

// Maps a transfer error to a failure class.
static Fl__FailureClass
classify_curl(CURLcode rc, long os_errno)
{
	if (is_tls_error(rc)) {
		return FL__FAILURE_CLASS__FAILURE_TLS;
	}
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		return FL__FAILURE_CLASS__FAILURE_DNS;
	case CURLE_OPERATION_TIMEDOUT:
		return FL__FAILURE_CLASS__FAILURE_TIMEOUT;
	case CURLE_COULDNT_CONNECT:
		return fl_failure_of_errno((int) os_errno);
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return FL__FAILURE_CLASS__FAILURE_RESET;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_TOO_MANY_REDIRECTS:
		return FL__FAILURE_CLASS__FAILURE_PROTOCOL;
	default:
		return FL__FAILURE_CLASS__FAILURE_INTERNAL;
	}
}

// A phase from libcurl's offsets since the transfer started (CURLINFO_*_TIME_T): an offset of
// 0 means the phase did not happen (0, probe.h's rule); otherwise agent_phase_us() measures it.
static uint32_t
us_between(curl_off_t from, curl_off_t to)
{
	if (to <= 0) {
		return 0;
	}
	return agent_phase_us(from > 0 ? (int64_t) from : 0, (int64_t) to);
}

// The peer (first) certificate's notAfter from the round's CERTINFO, Unix us; 0 when none.
static int64_t
peer_cert_expiry(CURL *c)
{
	struct curl_certinfo *ci = NULL;

	if (curl_easy_getinfo(c, CURLINFO_CERTINFO, &ci) != CURLE_OK || ci == NULL ||
	    ci->num_of_certs < 1) {
		return 0;
	}
	for (struct curl_slist *s = ci->certinfo[0]; s != NULL; s = s->next) {
		if (strncmp(s->data, "Expire date:", 12) == 0) {
			return agent_cert_time_parse(s->data + 12);
		}
	}
	return 0;
}

// "2027-03-01T12:00:00Z" into buf.
static const char *
day_text(int64_t unix_us, char *buf, size_t len)
{
	char full[40];
	fl_time_format(unix_us, full, sizeof(full));
	snprintf(buf, len, "%.19sZ", full);
	return buf;
}

// An expired peer certificate fails the round as tls. Returns 1 when it did (res is final).
static int
cert_expired(agent_result *res, int64_t now_us, const char *why)
{
	char when[40];

	if (res->pb.cert_expires_us == 0 || res->pb.cert_expires_us > now_us) {
		return 0;
	}
	agent_result_set(res, FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_TLS,
	    "certificate expired at %s%s%s", day_text(res->pb.cert_expires_us, when, sizeof(when)),
	    why[0] ? ": " : "", why);
	return 1;
}

// A certificate expiring within cert_warn makes a passing round warn/cert_expiring. Returns 1
// when it did.
static int
cert_expiring(http_probe *p, agent_result *res, int64_t now_us, long code)
{
	char    when[40];
	int64_t left_us = res->pb.cert_expires_us - now_us;

	if (p->cert_warn_s == 0 || res->pb.cert_expires_us == 0 ||
	    left_us >= (int64_t) p->cert_warn_s * 1000000) {
		return 0;
	}
	agent_result_set(res, FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_CERT_EXPIRING,
	    "HTTP %ld; certificate expires at %s, in %.1f days (cert_warn = %.0f days)", code,
	    day_text(res->pb.cert_expires_us, when, sizeof(when)), (double) left_us / 86400e6,
	    (double) p->cert_warn_s / 86400.0);
	return 1;
}

// curl_easy_perform(), but through the multi interface with the thread's cancel descriptor in
// the wait set, so a stopping agent does not wait out a hung server. CURLE_ABORTED_BY_CALLBACK
// when cancelled.
static CURLcode
perform_cancellable(http_probe *p)
{
	CURLcode rc      = CURLE_OK;
	int      running = 1;

	if (curl_multi_add_handle(p->multi, p->curl) != CURLM_OK) {
		return CURLE_OUT_OF_MEMORY;
	}
	for (;;) {
		if (curl_multi_perform(p->multi, &running) != CURLM_OK) {
			rc = CURLE_OUT_OF_MEMORY;
			break;
		}
		if (running == 0) {
			int      left;
			CURLMsg *m = curl_multi_info_read(p->multi, &left);
			rc = m != NULL && m->msg == CURLMSG_DONE ? m->data.result : CURLE_OK;
			break;
		}
		struct curl_waitfd stop = { .fd = agent_cancel_fd(), .events = CURL_WAIT_POLLIN };
		int                cfd  = stop.fd >= 0;
		if (curl_multi_poll(p->multi, cfd ? &stop : NULL, cfd ? 1 : 0,
		        cfd ? 1000 : AGENT_CANCEL_SLICE_MS, NULL) != CURLM_OK) {
			rc = CURLE_OUT_OF_MEMORY;
			break;
		}
		if (agent_cancelled()) {
			rc = CURLE_ABORTED_BY_CALLBACK;
			break;
		}
	}
	curl_multi_remove_handle(p->multi, p->curl);
	return rc;
}

static void
http_run(void *ctx, const agent_round *round, agent_result *res)
{
	http_probe *p = ctx;
	CURLcode    rc;
	long        code = 0, os_errno = 0;
	curl_off_t  dns = 0, conn = 0, tls = 0, first = 0, total = 0;

	(void) round;
	res->pb.started_us = fl_now_us();
	if (p->curl == NULL && setup(p) != 0) {
		agent_result_set(res, FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_INTERNAL,
		    "cannot create an HTTP client: out of memory");
		return;
	}
	p->body_bytes = 0;
	p->found      = false;
	p->capped     = false;
	p->carry_len  = 0;
	p->errbuf[0]  = '\0';
	int64_t t0    = fl_mono_us();
	rc            = perform_cancellable(p);
	int64_t t1    = fl_mono_us();
	if (rc == CURLE_WRITE_ERROR && p->capped) {
		rc = CURLE_OK; // we stopped reading at the cap ourselves
	}
	curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(p->curl, CURLINFO_OS_ERRNO, &os_errno);
	curl_easy_getinfo(p->curl, CURLINFO_NAMELOOKUP_TIME_T, &dns);
	curl_easy_getinfo(p->curl, CURLINFO_CONNECT_TIME_T, &conn);
	curl_easy_getinfo(p->curl, CURLINFO_APPCONNECT_TIME_T, &tls);
	curl_easy_getinfo(p->curl, CURLINFO_STARTTRANSFER_TIME_T, &first);
	curl_easy_getinfo(p->curl, CURLINFO_TOTAL_TIME_T, &total);

	// Phases as durations (probe.h): curl reports each as time since the start.
	res->timing.dns_us        = us_between(0, dns);
	res->timing.connect_us    = us_between(dns, conn);
	res->timing.tls_us        = us_between(conn, tls);
	res->timing.first_byte_us = us_between(tls > 0 ? tls : conn, first);
	res->timing.total_us      = agent_phase_us(t0, t1);
	res->pb.duration_us       = res->timing.total_us;
	res->pb.error_code        = (int32_t) os_errno;
	res->pb.cert_expires_us   = p->https ? peer_cert_expiry(p->curl) : 0;
	int64_t now_us            = fl_now_us();
	report_addresses(p, t0, res);

	if (rc != CURLE_OK) {
		Fl__FailureClass fc  = classify_curl(rc, os_errno);
		const char      *msg = p->errbuf[0] ? p->errbuf : curl_easy_strerror(rc);
		if (fc == FL__FAILURE_CLASS__FAILURE_TLS && cert_expired(res, now_us, msg)) {
			return;
		}
		if (fc == FL__FAILURE_CLASS__FAILURE_TIMEOUT) {
			agent_result_set(res, FL__STATUS__STATUS_FAIL, fc,
			    "no complete answer within %ums: %s", p->timeout_ms, msg);
		} else {
			agent_result_set(res, FL__STATUS__STATUS_FAIL, fc, "%s", msg);
		}
		return;
	}
	if (cert_expired(res, now_us, "")) {
		return; // tls_verify = no lets an expired certificate through: it still fails
	}
	if (code < p->status_lo || code > p->status_hi) {
		Fl__FailureClass fc = code >= 500 ? FL__FAILURE_CLASS__FAILURE_HTTP_5XX
		    : code >= 400                 ? FL__FAILURE_CLASS__FAILURE_HTTP_4XX
		                                  : FL__FAILURE_CLASS__FAILURE_HTTP_STATUS;
		if (p->status_lo == p->status_hi) {
			agent_result_set(res, FL__STATUS__STATUS_FAIL, fc, "HTTP %ld (expected %d)",
			    code, p->status_lo);
		} else {
			agent_result_set(res, FL__STATUS__STATUS_FAIL, fc,
			    "HTTP %ld (expected %d-%d)", code, p->status_lo, p->status_hi);
		}
		return;
	}
	if (p->needle_len > 0 && !p->found) {
		agent_result_set(res, FL__STATUS__STATUS_FAIL,
		    FL__FAILURE_CLASS__FAILURE_BODY_MISMATCH,
		    "HTTP %ld but the body lacks \"%s\"%s", code, p->needle,
		    p->capped ? " (first 64 KiB read)" : "");
		return;
	}
	if (agent_is_slow(p->slow_ms, t1 - t0)) {
		agent_result_set(res, FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_SLOW,
		    "HTTP %ld in %.1fms (slow above %ums)", code, (double) (t1 - t0) / 1000.0,
		    p->slow_ms);
		return;
	}
	if (cert_expiring(p, res, now_us, code)) {
		return;
	}
	agent_result_set(
	    res, FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, "HTTP %ld", code);
}

static uint32_t
http_timeout_ms(const void *ctx)
{
	return ((const http_probe *) ctx)->timeout_ms;
}

static const char *
http_target(const void *ctx)
{
	// Safe to report: http_set() refuses URLs with user:password@.
	const http_probe *p = ctx;
	return p->url;
}

static void
http_free(void *ctx)
{
	http_probe *p = ctx;
	if (p == NULL) {
		return;
	}
	if (p->curl != NULL) {
		curl_easy_cleanup(p->curl);
	}
	if (p->multi != NULL) {
		curl_multi_cleanup(p->multi);
	}
	curl_slist_free_all(p->hdrs);
	bool build = p->hdrs == NULL; // built once, kept across rounds
	for (size_t i = 0; build && i < p->n_headers; i++) {
		free(p->headers[i]);
	}
	free(p);
}

const agent_probe_ops agent_probe_http = {
	.section    = "http",
	.kind       = FL__PROBE_KIND__KIND_HTTP,
	.alloc      = http_alloc,
	.set        = http_set,
	.validate   = http_validate,
	.run        = http_run,
	.timeout_ms = http_timeout_ms,
	.target     = http_target,
	.free       = http_free,
};
