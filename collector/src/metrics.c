// metrics.c - see metrics.h.

#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl/text.h"

static const char *const phase_names[COLL_PHASES] = { "dns", "connect", "tls", "first_byte", "auth",
	"query", "check", "total" };

// The order of the README's verdict values; names as fl_verdict_name gives them.
static const char *const verdict_labels[COLL_VERDICTS] = { "healthy", "code", "database", "network",
	"host", "unknown" };

// From 5 ms to 10 s: probes time out in seconds, healthy ones answer in milliseconds.
const double coll_lat_bounds[COLL_LAT_BUCKETS] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
	5, 10, 30 };

const char *
coll_phase_name(coll_phase p)
{
	return p < COLL_PHASES ? phase_names[p] : "unknown";
}

const char *
coll_verdict_label(size_t i)
{
	return i < COLL_VERDICTS ? verdict_labels[i] : "unknown";
}

int
coll_verdict_index(const char *name)
{
	for (size_t i = 0; name != NULL && i < COLL_VERDICTS; i++) {
		if (strcmp(verdict_labels[i], name) == 0) {
			return (int) i;
		}
	}
	return -1;
}

void
coll_metrics_snapshot_init(coll_metrics_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->verdict                = -1;
	s->process.cpu_seconds    = -1;
	s->process.resident_bytes = -1;
	s->process.open_fds       = -1;
	s->process.max_fds        = -1;
	s->process.start_time_s   = -1;
}

void
coll_metrics_snapshot_fini(coll_metrics_snapshot *s)
{
	for (size_t i = 0; s->arena == NULL && i < s->n_hosts; i++) {
		coll_metrics_host *h = &s->hosts[i];
		for (size_t j = 0; j < h->n_probes; j++) {
			free(h->probes[j].name);
		}
		free(h->probes);
		free(h->name);
		free(h->release);
	}
	free(s->arena);
	free(s->probe_pool);
	free(s->hosts);
	for (size_t i = 0; i < s->n_hists; i++) {
		free(s->hists[i].probe);
	}
	free(s->hists);
	for (size_t i = 0; i < s->n_notifs; i++) {
		free(s->notifs[i].receiver);
	}
	free(s->notifs);
	coll_metrics_snapshot_init(s);
}

// ---- text buffer -------------------------------------------------------------------------

void
coll_text_init(coll_text *t)
{
	memset(t, 0, sizeof(*t));
}

void
coll_text_fini(coll_text *t)
{
	free(t->buf);
	coll_text_init(t);
}

static bool
reserve(coll_text *t, size_t more)
{
	if (t->oom) {
		return false;
	}
	if (t->len + more + 1 <= t->cap) {
		return true;
	}
	size_t cap = t->cap ? t->cap : 4096;
	while (cap < t->len + more + 1) {
		cap *= 2;
	}
	char *b = realloc(t->buf, cap);
	if (b == NULL) {
		t->oom = true;
		return false;
	}
	t->buf = b;
	t->cap = cap;
	return true;
}

static void
put(coll_text *t, const char *s, size_t n)
{
	if (reserve(t, n)) {
		memcpy(t->buf + t->len, s, n);
		t->len += n;
		t->buf[t->len] = '\0';
	}
}

static void
puts_(coll_text *t, const char *s)
{
	put(t, s, strlen(s));
}

static void printf_(coll_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
printf_(coll_text *t, const char *fmt, ...)
{
	va_list ap;
	char    small[256];
	int     n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		return;
	}
	if ((size_t) n < sizeof(small)) {
		put(t, small, (size_t) n);
		return;
	}
	if (!reserve(t, (size_t) n)) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(t->buf + t->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	t->len += (size_t) n;
}

void
coll_text_label_value(coll_text *t, const char *v)
{
	size_t n     = strlen(v);
	char  *fixed = NULL;

	if (strpbrk(v, "\\\"\n") == NULL && fl_utf8_valid(v)) {
		put(t, v, n); // the usual case: nothing to escape
		return;
	}
	if (!fl_utf8_valid(v)) {
		// Each invalid byte becomes at most 3 bytes of U+FFFD.
		if ((fixed = malloc(3 * n + 1)) == NULL) {
			t->oom = true;
			return;
		}
		fl_utf8_repair(fixed, 3 * n + 1, v);
		v = fixed;
	}
	for (const char *p = v; *p != '\0'; p++) {
		switch (*p) {
		case '\\':
			put(t, "\\\\", 2);
			break;
		case '"':
			put(t, "\\\"", 2);
			break;
		case '\n':
			put(t, "\\n", 2);
			break;
		default:
			put(t, p, 1);
		}
	}
	free(fixed);
}

// ---- rendering ----------------------------------------------------------------------------

static void
family(coll_text *t, const char *name, const char *type, const char *help)
{
	printf_(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

// Writes `name{k1="v1",k2="v2"...`; the caller closes with `}` (or adds more labels first).
static void
series_open(coll_text *t, const char *name, const char *k1, const char *v1)
{
	puts_(t, name);
	puts_(t, "{");
	puts_(t, k1);
	puts_(t, "=\"");
	coll_text_label_value(t, v1);
	puts_(t, "\"");
}

static void
label(coll_text *t, const char *k, const char *v)
{
	puts_(t, ",");
	puts_(t, k);
	puts_(t, "=\"");
	coll_text_label_value(t, v);
	puts_(t, "\"");
}

static void
put_u64(coll_text *t, uint64_t v)
{
	char  buf[24];
	char *p = buf + sizeof(buf);
	do {
		*--p = (char) ('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put(t, p, (size_t) (buf + sizeof(buf) - p));
}

static void
value_u64(coll_text *t, uint64_t v)
{
	put(t, "} ", 2);
	put_u64(t, v);
	put(t, "\n", 1);
}

static void
value_double(coll_text *t, double v)
{
	printf_(t, "} %.9g\n", v);
}

// A count of microseconds as seconds, exactly ("0.0015", "1700000000.5", "2").
static void
value_micros(coll_text *t, uint64_t us)
{
	char     frac[8];
	uint64_t f = us % 1000000;
	int      n = 6;

	put(t, "} ", 2);
	put_u64(t, us / 1000000);
	if (f != 0) {
		for (int i = 5; i >= 0; i--, f /= 10) {
			frac[1 + i] = (char) ('0' + f % 10);
		}
		while (frac[n] == '0') {
			n--;
		}
		frac[0] = '.';
		put(t, frac, (size_t) n + 1);
	}
	put(t, "\n", 1);
}

// Every host's `host="..."` and every probe's `,probe="..."`, escaped once per rendering
// instead of once per series (a host appears in about 8 series per probe). Slices of text.
typedef struct label_cache {
	coll_text text;
	size_t   *host_off, *host_len;   // per host
	size_t   *probe_off, *probe_len; // per probe of every host, in order (from probe_base[i])
	size_t   *probe_base;            // per host: the index of its first probe
} label_cache;

static void
cache_fini(label_cache *c)
{
	coll_text_fini(&c->text);
	free(c->host_off);
	free(c->host_len);
	free(c->probe_off);
	free(c->probe_len);
	free(c->probe_base);
}

// Appends `pre` + escaped v + `"` to c->text; *off and *len locate it.
static void
cache_add(label_cache *c, const char *pre, const char *v, size_t *off, size_t *len)
{
	*off = c->text.len;
	puts_(&c->text, pre);
	coll_text_label_value(&c->text, v);
	put(&c->text, "\"", 1);
	*len = c->text.len - *off;
}

static int
cache_build(label_cache *c, const coll_metrics_snapshot *s)
{
	size_t n = 0, k = 0;

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < s->n_hosts; i++) {
		n += s->hosts[i].n_probes;
	}
	c->host_off   = malloc((s->n_hosts + 1) * sizeof(size_t));
	c->host_len   = malloc((s->n_hosts + 1) * sizeof(size_t));
	c->probe_base = malloc((s->n_hosts + 1) * sizeof(size_t));
	c->probe_off  = malloc((n + 1) * sizeof(size_t));
	c->probe_len  = malloc((n + 1) * sizeof(size_t));
	if (c->host_off == NULL || c->host_len == NULL || c->probe_base == NULL ||
	    c->probe_off == NULL || c->probe_len == NULL) {
		return -1;
	}
	for (size_t i = 0; i < s->n_hosts; i++) {
		const coll_metrics_host *h = &s->hosts[i];
		cache_add(c, "host=\"", h->name, &c->host_off[i], &c->host_len[i]);
		c->probe_base[i] = k;
		for (size_t j = 0; j < h->n_probes; j++, k++) {
			cache_add(
			    c, ",probe=\"", h->probes[j].name, &c->probe_off[k], &c->probe_len[k]);
		}
	}
	return c->text.oom ? -1 : 0;
}

// `name{host="...",probe="..."` (and `,kind="..."`); the caller adds labels and the value.
static void
probe_series(coll_text *t, const char *name, const label_cache *c, size_t i, size_t j,
    const coll_metrics_probe *p, bool with_kind)
{
	size_t k = c->probe_base[i] + j;
	puts_(t, name);
	put(t, "{", 1);
	put(t, c->text.buf + c->host_off[i], c->host_len[i]);
	put(t, c->text.buf + c->probe_off[k], c->probe_len[k]);
	if (with_kind) {
		puts_(t, ",kind=\"");
		puts_(t, p->kind);
		put(t, "\"", 1);
	}
}

// `name{host="..."`.
static void
host_series(coll_text *t, const char *name, const label_cache *c, size_t i)
{
	puts_(t, name);
	put(t, "{", 1);
	put(t, c->text.buf + c->host_off[i], c->host_len[i]);
}

static void
render_probes(const coll_metrics_snapshot *s, const label_cache *c, coll_text *t)
{
	family(t, "faultline_probe_success", "gauge",
	    "1 when the probe's latest result passed (ok or warn), else 0.");
	for (size_t i = 0; i < s->n_hosts; i++) {
		const coll_metrics_host *h = &s->hosts[i];
		for (size_t j = 0; j < h->n_probes; j++) {
			const coll_metrics_probe *p = &h->probes[j];
			bool pass = strcmp(p->status, "ok") == 0 || strcmp(p->status, "warn") == 0;
			probe_series(t, "faultline_probe_success", c, i, j, p, true);
			value_u64(t, pass ? 1 : 0);
		}
	}
	family(t, "faultline_probe_status", "gauge",
	    "Always 1: the probe's current status and failure class are its labels.");
	for (size_t i = 0; i < s->n_hosts; i++) {
		const coll_metrics_host *h = &s->hosts[i];
		for (size_t j = 0; j < h->n_probes; j++) {
			const coll_metrics_probe *p = &h->probes[j];
			probe_series(t, "faultline_probe_status", c, i, j, p, true);
			label(t, "status", p->status);
			label(t, "failure", p->failure);
			value_u64(t, 1);
		}
	}
	family(t, "faultline_probe_duration_seconds", "gauge",
	    "The probe's latest phase timings, per host.");
	for (size_t i = 0; i < s->n_hosts; i++) {
		const coll_metrics_host *h = &s->hosts[i];
		for (size_t j = 0; j < h->n_probes; j++) {
			const coll_metrics_probe *p = &h->probes[j];
			for (int ph = 0; ph < COLL_PHASES; ph++) {
				if (p->phase_us[ph] == 0) {
					continue;
				}
				probe_series(
				    t, "faultline_probe_duration_seconds", c, i, j, p, true);
				puts_(t, ",phase=\"");
				puts_(t, coll_phase_name((coll_phase) ph));
				put(t, "\"", 1);
				value_micros(t, p->phase_us[ph]);
			}
		}
	}
	family(t, "faultline_probe_unmet_requirements", "gauge",
	    "Release expectations the probe's database does not meet.");
	for (size_t i = 0; i < s->n_hosts; i++) {
		const coll_metrics_host *h = &s->hosts[i];
		for (size_t j = 0; j < h->n_probes; j++) {
			probe_series(
			    t, "faultline_probe_unmet_requirements", c, i, j, &h->probes[j], false);
			value_u64(t, h->probes[j].unmet);
		}
	}
}

static void
render_hosts(const coll_metrics_snapshot *s, const label_cache *c, coll_text *t)
{
	family(t, "faultline_host_up", "gauge", "1 when the host reports and is not stale.");
	for (size_t i = 0; i < s->n_hosts; i++) {
		host_series(t, "faultline_host_up", c, i);
		value_u64(t, s->hosts[i].up ? 1 : 0);
	}
	family(t, "faultline_host_last_seen_timestamp_seconds", "gauge",
	    "When the collector last heard from the host (Unix time).");
	for (size_t i = 0; i < s->n_hosts; i++) {
		host_series(t, "faultline_host_last_seen_timestamp_seconds", c, i);
		value_micros(
		    t, s->hosts[i].last_seen_us > 0 ? (uint64_t) s->hosts[i].last_seen_us : 0);
	}
	family(t, "faultline_host_release_info", "gauge",
	    "Always 1: the release the host runs is the label.");
	for (size_t i = 0; i < s->n_hosts; i++) {
		host_series(t, "faultline_host_release_info", c, i);
		label(t, "release", s->hosts[i].release);
		value_u64(t, 1);
	}
}

static void
render_histograms(const coll_metrics_snapshot *s, coll_text *t)
{
	// No TYPE line: see metrics.h (the name is the phase gauge's).
	puts_(t,
	    "# HELP faultline_probe_duration_seconds_bucket Total latency of every result "
	    "of a probe over all hosts since the collector started (histogram buckets).\n");
	for (size_t i = 0; i < s->n_hists; i++) {
		const coll_metrics_hist *hs  = &s->hists[i];
		uint64_t                 cum = 0;
		for (int b = 0; b <= COLL_LAT_BUCKETS; b++) {
			char le[32];
			if (b < COLL_LAT_BUCKETS) {
				cum += hs->buckets[b];
				snprintf(le, sizeof(le), "%g", coll_lat_bounds[b]);
			} else {
				cum = hs->count;
				snprintf(le, sizeof(le), "+Inf");
			}
			series_open(
			    t, "faultline_probe_duration_seconds_bucket", "probe", hs->probe);
			label(t, "kind", hs->kind);
			label(t, "le", le);
			value_u64(t, cum);
		}
	}
	puts_(t,
	    "# HELP faultline_probe_duration_seconds_sum Sum of the latencies counted in "
	    "faultline_probe_duration_seconds_bucket.\n");
	for (size_t i = 0; i < s->n_hists; i++) {
		series_open(t, "faultline_probe_duration_seconds_sum", "probe", s->hists[i].probe);
		label(t, "kind", s->hists[i].kind);
		value_double(t, s->hists[i].sum_s);
	}
	puts_(t,
	    "# HELP faultline_probe_duration_seconds_count Results counted in "
	    "faultline_probe_duration_seconds_bucket.\n");
	for (size_t i = 0; i < s->n_hists; i++) {
		series_open(
		    t, "faultline_probe_duration_seconds_count", "probe", s->hists[i].probe);
		label(t, "kind", s->hists[i].kind);
		value_u64(t, s->hists[i].count);
	}
}

static void
render_verdict(const coll_metrics_snapshot *s, coll_text *t)
{
	family(t, "faultline_verdict", "gauge",
	    "1 for the collector's current verdict, 0 for the other values.");
	for (size_t i = 0; i < COLL_VERDICTS; i++) {
		series_open(t, "faultline_verdict", "verdict", verdict_labels[i]);
		value_u64(t, s->verdict == (int) i ? 1 : 0);
	}
	family(t, "faultline_findings", "gauge", "Open findings of the diagnosis, by verdict.");
	for (size_t i = 0; i < COLL_VERDICTS; i++) {
		series_open(t, "faultline_findings", "verdict", verdict_labels[i]);
		value_u64(t, s->findings[i]);
	}
}

static void
counter(coll_text *t, const char *name, const char *help, uint64_t v)
{
	family(t, name, "counter", help);
	printf_(t, "%s %llu\n", name, (unsigned long long) v);
}

static void
labelled_counters(
    coll_text *t, const char *name, const char *key, const coll_metrics_count *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		series_open(t, name, key, v[i].label);
		value_u64(t, v[i].value);
	}
}

static void
render_counters(const coll_metrics_snapshot *s, coll_text *t)
{
	counter(t, "faultline_reports_received_total",
	    "Reports received from agents (kept across collector restarts).", s->reports_received);
	counter(t, "faultline_results_applied_total",
	    "Probe results applied to the state (kept across collector restarts).",
	    s->results_applied);
	family(t, "faultline_reports_dropped_total", "counter",
	    "Reports (or connections, requests) the collector refused, by reason.");
	labelled_counters(t, "faultline_reports_dropped_total", "reason", s->drops, s->n_drops);
	family(t, "faultline_verifications_total", "counter",
	    "Post-release verifications, by result (kept across collector restarts).");
	labelled_counters(
	    t, "faultline_verifications_total", "result", s->verifications, s->n_verifications);
	family(t, "faultline_notifications_total", "counter",
	    "Notifications to receivers, by outcome (sent, failed, retried).");
	for (size_t i = 0; i < s->n_notifs; i++) {
		series_open(t, "faultline_notifications_total", "receiver", s->notifs[i].receiver);
		label(t, "outcome", s->notifs[i].outcome);
		value_u64(t, s->notifs[i].value);
	}
	for (size_t i = 0; i < s->n_extra; i++) {
		counter(t, s->extra[i].name, s->extra[i].help, s->extra[i].value);
	}
}

static void
gauge_if(coll_text *t, const char *name, const char *type, const char *help, double v)
{
	if (v < 0) {
		return;
	}
	family(t, name, type, help);
	printf_(t, "%s %.9g\n", name, v);
}

static void
render_process(const coll_metrics_snapshot *s, coll_text *t)
{
	const coll_metrics_process *p = &s->process;
	gauge_if(t, "process_cpu_seconds_total", "counter",
	    "Total user and system CPU time spent in seconds.", p->cpu_seconds);
	gauge_if(t, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
	    p->resident_bytes);
	gauge_if(t, "process_open_fds", "gauge", "Number of open file descriptors.", p->open_fds);
	gauge_if(
	    t, "process_max_fds", "gauge", "Maximum number of open file descriptors.", p->max_fds);
	gauge_if(t, "process_start_time_seconds", "gauge",
	    "Start time of the process since unix epoch in seconds.", p->start_time_s);
	gauge_if(t, "faultline_metrics_snapshot_seconds", "gauge",
	    "How long this scrape's snapshot held the collector's state lock (ingest waits that "
	    "long).",
	    s->snapshot_lock_s);
}

int
coll_metrics_render(const coll_metrics_snapshot *s, coll_text *t)
{
	label_cache c;

	if (cache_build(&c, s) != 0) {
		cache_fini(&c);
		t->oom = true;
		return -1;
	}
	render_probes(s, &c, t);
	render_histograms(s, t);
	render_hosts(s, &c, t);
	cache_fini(&c);
	render_verdict(s, t);
	render_counters(s, t);
	render_process(s, t);
	return t->oom ? -1 : 0;
}

size_t
coll_metrics_host_series(size_t n_probes, size_t phases_per_probe)
{
	return 3 + n_probes * (3 + phases_per_probe);
}
