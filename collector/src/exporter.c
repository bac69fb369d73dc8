// exporter.c - see exporter.h.

#include "exporter.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "exporter_counters.h"
#include "fl/log.h"
#include "fl/names.h"
#include "fl/time.h"
#include "http.h"
#include "hub.h"
#include "latency.h"
#include "web.h"

// Durable counters, by their row name in the counters table.
enum {
	D_RECEIVED,
	D_REPORTS_APPLIED,
	D_RESULTS_APPLIED,
	D_VERIF_PASSED,
	D_VERIF_FAILED,
	D_VERIF_UNVERIFIED,
	D_COUNT
};
static const char *const durable_names[D_COUNT] = { "reports_received", "reports_applied",
	"results_applied", "verifications_passed", "verifications_failed",
	"verifications_unverified" };

struct coll_exporter {
	coll_server   *srv;
	coll_http     *http;
	int            http_port;
	coll_api      *api;      // /api/v1/*
	coll_counters *counters; // the saver's connection (start and stop: before, after)
	// A counter's durable value is what this process counted plus adj: the stored value when
	// it was loaded, less what this process had counted then.
	atomic_int_fast64_t   adj[D_COUNT];
	atomic_uint_fast64_t  verif[3];      // since start: passed, failed, unverified
	int64_t               fence_applied; // saver thread only: the fence its connection has
	pthread_mutex_t       mu;            // guards the fields below
	pthread_cond_t        cv;
	int64_t               fence; // > 0 active under that lease epoch, 0 single, < 0 standby
	bool                  stopping;
	bool                  saver_started;
	bool                  save_failing; // saver thread only (and the final save after it)
	pthread_t             saver;
	coll_notify_counts_fn notify_fn;
	void                 *notify_arg;
};

// ---- durable counters ------------------------------------------------------------------------

// What this process counted since it started.
static void
process_counts(coll_exporter *e, uint64_t v[D_COUNT])
{
	coll_server *srv = e->srv;
	pthread_mutex_lock(&srv->lock);
	v[D_RECEIVED]        = srv->state.stats.reports_received;
	v[D_REPORTS_APPLIED] = srv->state.stats.reports_applied;
	v[D_RESULTS_APPLIED] = srv->state.stats.results_applied;
	pthread_mutex_unlock(&srv->lock);
	for (int i = 0; i < 3; i++) {
		v[D_VERIF_PASSED + i] = atomic_load(&e->verif[i]);
	}
}

static uint64_t
durable_value(coll_exporter *e, int i, uint64_t counted)
{
	int64_t v = (int64_t) counted + atomic_load(&e->adj[i]);
	return v > 0 ? (uint64_t) v : 0;
}

// Takes the stored values as the durable ones from now on: at start (on top of what this
// process counts), and later, when this collector becomes active after another saved them or
// follows the active's saves as a standby (what this process had counted is in them then).
static int
durable_load(coll_exporter *e, bool at_start)
{
	uint64_t stored[D_COUNT], counted[D_COUNT];
	int      rc = coll_counters_load(e->counters, durable_names, D_COUNT, stored);
	if (rc != FL_SQL_OK) {
		return rc;
	}
	process_counts(e, counted);
	for (int i = 0; i < D_COUNT; i++) {
		atomic_store(
		    &e->adj[i], (int64_t) stored[i] - (at_start ? 0 : (int64_t) counted[i]));
	}
	return FL_SQL_OK;
}

static int
durable_open(coll_exporter *e, char *err, size_t errlen)
{
	fl_sql_opts o;
	coll_config_sql_opts(&e->srv->cfg, false, "faultline-collector-counters", &o);
	if (coll_counters_open(&o, &e->counters, err, errlen) != 0) {
		return -1;
	}
	if (durable_load(e, true) != FL_SQL_OK) {
		snprintf(
		    err, errlen, "cannot read counters: %s", coll_counters_errmsg(e->counters));
		return -1;
	}
	return 0;
}

// Logs a save's outcome once per spell (a full disk would otherwise log every few seconds).
static void
note_save(coll_exporter *e, int rc)
{
	if (rc == FL_SQL_OK) {
		if (e->save_failing) {
			fl_log(FL_LOG_NOTICE, "metrics", "counters saved again");
		}
		e->save_failing = false;
		return;
	}
	if (!e->save_failing) {
		fl_log(FL_LOG_WARN, "metrics", "cannot save counters: %s (retrying every %d s)",
		    rc == FL_SQL_EFENCED ? "another collector holds the lease (fenced)"
		                         : coll_counters_errmsg(e->counters),
		    COLL_EXPORTER_SAVE_MS / 1000);
	}
	e->save_failing = true;
}

// On the saver thread: follows a fence change (a new active epoch first takes the stored
// values, which the previous active saved). Returns the fence: < 0 means do not save.
static int64_t
apply_fence(coll_exporter *e)
{
	int64_t fence;
	pthread_mutex_lock(&e->mu);
	fence = e->fence;
	pthread_mutex_unlock(&e->mu);
	if (fence < 0) {
		durable_load(e, false); // a standby shows the active's saved counts
	} else if (fence != e->fence_applied) {
		coll_counters_set_fence(e->counters, fence);
		if (fence > 0 && durable_load(e, false) != FL_SQL_OK) {
			return -1; // the stored values unread: saving would write older ones
		}
	}
	e->fence_applied = fence;
	return fence;
}

static void
durable_save(coll_exporter *e)
{
	uint64_t counted[D_COUNT], v[D_COUNT];

	if (apply_fence(e) < 0) {
		return;
	}
	process_counts(e, counted);
	for (int i = 0; i < D_COUNT; i++) {
		v[i] = durable_value(e, i, counted[i]);
	}
	note_save(e, coll_counters_save(e->counters, durable_names, D_COUNT, v));
}

static void *
saver_main(void *arg)
{
	coll_exporter *e = arg;

	pthread_mutex_lock(&e->mu);
	while (!e->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += COLL_EXPORTER_SAVE_MS / 1000;
		pthread_cond_timedwait(&e->cv, &e->mu, &ts);
		if (e->stopping) {
			break;
		}
		pthread_mutex_unlock(&e->mu);
		durable_save(e);
		pthread_mutex_lock(&e->mu);
	}
	pthread_mutex_unlock(&e->mu);
	return NULL;
}

void
coll_exporter_count_verification(coll_exporter *e, const char *result)
{
	if (e == NULL) {
		return;
	}
	int i = strcmp(result, "passed") == 0 ? 0 : strcmp(result, "failed") == 0 ? 1 : 2;
	atomic_fetch_add(&e->verif[i], 1);
}

void
coll_exporter_set_fence(coll_exporter *e, int64_t epoch)
{
	if (e == NULL) {
		return;
	}
	pthread_mutex_lock(&e->mu);
	e->fence = epoch;
	pthread_mutex_unlock(&e->mu);
}

void
coll_exporter_set_notify_source(coll_exporter *e, coll_notify_counts_fn fn, void *arg)
{
	if (e == NULL) {
		return;
	}
	pthread_mutex_lock(&e->mu);
	e->notify_fn  = fn;
	e->notify_arg = arg;
	pthread_mutex_unlock(&e->mu);
}

// ---- snapshot --------------------------------------------------------------------------------

static void
copy_probe(const coll_probe *p, coll_metrics_probe *m)
{
	const Fl__ProbeResult *r = &p->res;
	const Fl__Timing      *t = r->timing;

	m->kind    = fl_kind_name(r->kind);
	m->status  = fl_status_name(r->status);
	m->failure = fl_failure_name(r->failure);
	m->unmet   = (uint32_t) r->n_unmet;
	if (t != NULL) {
		m->phase_us[COLL_PHASE_DNS]        = t->dns_us;
		m->phase_us[COLL_PHASE_CONNECT]    = t->connect_us;
		m->phase_us[COLL_PHASE_TLS]        = t->tls_us;
		m->phase_us[COLL_PHASE_FIRST_BYTE] = t->first_byte_us;
		m->phase_us[COLL_PHASE_AUTH]       = t->auth_us;
		m->phase_us[COLL_PHASE_QUERY]      = t->query_us;
		m->phase_us[COLL_PHASE_CHECK]      = t->check_us;
		m->phase_us[COLL_PHASE_TOTAL]      = t->total_us;
	}
	if (m->phase_us[COLL_PHASE_TOTAL] == 0) {
		m->phase_us[COLL_PHASE_TOTAL] = r->duration_us;
	}
}

// Bytes of arena the hosts' strings need (names, releases, probe names, with their NULs), and
// their probes.
static size_t
arena_size(const coll_state *cs, size_t *n_probes)
{
	size_t bytes = 0;

	*n_probes = 0;
	for (size_t i = 0; i < cs->n_hosts; i++) {
		const coll_host *h = cs->hosts[i];
		bytes +=
		    strlen(h->name) + 1 + strlen(h->release != NULL ? h->release : "unknown") + 1;
		for (size_t j = 0; j < h->n_probes; j++) {
			bytes += strlen(h->probes[j].res.name) + 1;
		}
		*n_probes += h->n_probes;
	}
	return bytes;
}

static char *
arena_put(char **at, const char *v)
{
	size_t n = strlen(v) + 1;
	char  *p = *at;
	memcpy(p, v, n);
	*at += n;
	return p;
}

// With the state lock held: copies every host and probe into three allocations (hosts, probes,
// one arena of strings), so the lock is held for a few memcpy, not 100,000 mallocs.
static int
copy_hosts(const coll_state *cs, coll_metrics_snapshot *s)
{
	size_t n_probes, k = 0;
	size_t bytes = arena_size(cs, &n_probes);
	char  *at;

	if (cs->n_hosts == 0) {
		return 0;
	}
	s->hosts      = calloc(cs->n_hosts, sizeof(*s->hosts));
	s->probe_pool = calloc(n_probes + 1, sizeof(*s->probe_pool));
	s->arena      = malloc(bytes);
	if (s->hosts == NULL || s->probe_pool == NULL || s->arena == NULL) {
		return -1;
	}
	at = s->arena;
	for (size_t i = 0; i < cs->n_hosts; i++) {
		const coll_host   *h = cs->hosts[i];
		coll_metrics_host *m = &s->hosts[s->n_hosts++];
		m->name              = arena_put(&at, h->name);
		m->release           = arena_put(&at, h->release != NULL ? h->release : "unknown");
		m->up                = !h->stale;
		m->last_seen_us      = h->last_seen_us;
		m->probes            = &s->probe_pool[k];
		for (size_t j = 0; j < h->n_probes; j++, k++) {
			m->probes[m->n_probes].name = arena_put(&at, h->probes[j].res.name);
			copy_probe(&h->probes[j], &m->probes[m->n_probes++]);
		}
	}
	return 0;
}

static void
add_drop(coll_metrics_snapshot *s, const char *reason, uint64_t v)
{
	if (s->n_drops < COLL_METRICS_MAX_DROPS) {
		s->drops[s->n_drops++] = (coll_metrics_count) { reason, v };
	}
}

static void
add_extra(coll_metrics_snapshot *s, const char *name, const char *help, uint64_t v)
{
	if (s->n_extra < COLL_METRICS_MAX_EXTRA) {
		s->extra[s->n_extra++] = (coll_metrics_extra) { name, help, v };
	}
}

static void
copy_stats(coll_metrics_snapshot *s, const coll_stats *st)
{
	add_drop(s, "undecodable", st->dropped_undecodable);
	add_drop(s, "schema", st->dropped_schema);
	add_drop(s, "oversize", st->dropped_oversize);
	add_drop(s, "invalid", st->dropped_invalid);
	add_drop(s, "duplicate", st->dropped_duplicate);
	add_drop(s, "overload", st->dropped_overload);
	add_drop(s, "unauthenticated", st->dropped_unauthenticated);
	add_drop(s, "host_limit", st->dropped_host_limit);
	add_drop(s, "probe_limit", st->dropped_probe_limit);
}

// With the state lock held: everything that comes from the state.
static int
copy_state(coll_server *srv, coll_metrics_snapshot *s, coll_stats *st)
{
	const coll_state *cs = &srv->state;

	*st = cs->stats;
	coll_server_socket_stats(srv, st);
	s->verdict = cs->verdict != NULL ? coll_verdict_index(cs->verdict) : -1;
	for (int v = 0; v < 6; v++) {
		int i = coll_verdict_index(fl_verdict_name((Fl__Verdict) v));
		if (i >= 0) {
			s->findings[i] = cs->findings[v];
		}
	}
	if (copy_hosts(cs, s) != 0) {
		return -1;
	}
	add_extra(s, "faultline_latency_untracked_results_total",
	    "Results left out of the latency histograms: too many distinct (probe, kind) pairs.",
	    coll_latency_untracked(cs->latency));
	return coll_latency_copy(cs->latency, &s->hists, &s->n_hists);
}

static void
copy_process(coll_metrics_snapshot *s, const coll_stats *st)
{
	struct rusage ru;
	struct rlimit rl;
	FILE         *f;
	DIR          *d;
	long          pages = 0, rss = 0;

	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		s->process.cpu_seconds = (double) ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		    (double) ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	}
	if ((f = fopen("/proc/self/statm", "r")) != NULL) {
		if (fscanf(f, "%ld %ld", &pages, &rss) == 2) {
			s->process.resident_bytes = (double) rss * (double) sysconf(_SC_PAGESIZE);
		}
		fclose(f);
	}
	if ((d = opendir("/proc/self/fd")) != NULL) {
		long n = 0;
		while (readdir(d) != NULL) {
			n++;
		}
		closedir(d);
		s->process.open_fds = (double) (n - 3); // ".", ".." and the directory's own
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		s->process.max_fds = (double) rl.rlim_cur;
	}
	s->process.start_time_s = (double) st->started_us / 1e6;
}

static void
copy_http(coll_exporter *e, coll_metrics_snapshot *s)
{
	coll_http_stats hs;
	if (e->http == NULL) {
		return;
	}
	coll_http_get_stats(e->http, &hs);
	add_extra(s, "faultline_http_requests_total", "HTTP requests answered.", hs.requests);
	add_extra(s, "faultline_http_connections_refused_total",
	    "HTTP connections closed at once: every connection slot taken.", hs.refused);
	add_extra(s, "faultline_http_timeouts_total",
	    "HTTP requests not received, or replies not written, in time.", hs.timed_out);
	add_extra(s, "faultline_http_requests_too_large_total",
	    "HTTP request heads over the size limit.", hs.too_large);
}

// The source is called under e->mu, so that coll_exporter_set_notify_source(e, NULL, NULL)
// returns only once no scrape is inside it: the notifier may then be freed (server.c's stop).
static void
copy_notifications(coll_exporter *e, coll_metrics_snapshot *s)
{
	pthread_mutex_lock(&e->mu);
	if (e->notify_fn != NULL &&
	    (s->notifs = calloc(COLL_EXPORTER_MAX_NOTIF, sizeof(*s->notifs))) != NULL) {
		s->n_notifs = e->notify_fn(e->notify_arg, s->notifs, COLL_EXPORTER_MAX_NOTIF);
	}
	pthread_mutex_unlock(&e->mu);
}

int
coll_exporter_snapshot(coll_exporter *e, coll_metrics_snapshot *s)
{
	coll_stats st;
	uint64_t   v[D_COUNT];
	int        rv;

	int64_t t0 = fl_mono_us();
	pthread_mutex_lock(&e->srv->lock);
	rv = copy_state(e->srv, s, &st);
	pthread_mutex_unlock(&e->srv->lock);
	s->snapshot_lock_s = (double) (fl_mono_us() - t0) / 1e6;
	if (rv != 0) {
		return -1;
	}
	for (int i = 0; i < 3; i++) {
		v[D_VERIF_PASSED + i] =
		    durable_value(e, D_VERIF_PASSED + i, atomic_load(&e->verif[i]));
	}
	s->reports_received = durable_value(e, D_RECEIVED, st.reports_received);
	s->results_applied  = durable_value(e, D_RESULTS_APPLIED, st.results_applied);
	copy_stats(s, &st);
	s->verifications[0] = (coll_metrics_count) { "passed", v[D_VERIF_PASSED] };
	s->verifications[1] = (coll_metrics_count) { "failed", v[D_VERIF_FAILED] };
	s->verifications[2] = (coll_metrics_count) { "unverified", v[D_VERIF_UNVERIFIED] };
	s->n_verifications  = 3;
	copy_process(s, &st);
	copy_http(e, s);
	copy_notifications(e, s);
	return 0;
}

// ---- routes ----------------------------------------------------------------------------------

static int
metrics_route(void *ctx, const char *query, coll_http_reply *reply)
{
	coll_exporter        *e = ctx;
	coll_metrics_snapshot s;
	coll_text             t;
	int                   rv;

	(void) query; // scrapers may add parameters: none changes the answer

	coll_metrics_snapshot_init(&s);
	coll_text_init(&t);
	rv = coll_exporter_snapshot(e, &s);
	if (rv == 0) {
		rv = coll_metrics_render(&s, &t);
	}
	coll_metrics_snapshot_fini(&s);
	if (rv != 0) {
		fl_log(FL_LOG_ERR, "metrics", "cannot render /metrics: out of memory");
		coll_text_fini(&t);
		return -1;
	}
	reply->status       = 200;
	reply->content_type = "text/plain; version=0.0.4; charset=utf-8";
	reply->body         = t.buf;
	reply->len          = t.len;
	return 0;
}

// /api/v1/*: the JSON API (api.h), answered from the running server.
static int
api_status_route(void *ctx, const char *query, coll_http_reply *reply)
{
	return coll_api_answer(((coll_exporter *) ctx)->api, COLL_API_STATUS, query, reply);
}

static int
api_hosts_route(void *ctx, const char *query, coll_http_reply *reply)
{
	return coll_api_answer(((coll_exporter *) ctx)->api, COLL_API_HOSTS, query, reply);
}

static int
api_history_route(void *ctx, const char *query, coll_http_reply *reply)
{
	return coll_api_answer(((coll_exporter *) ctx)->api, COLL_API_HISTORY, query, reply);
}

static int
api_diagnose_route(void *ctx, const char *query, coll_http_reply *reply)
{
	return coll_api_answer(((coll_exporter *) ctx)->api, COLL_API_DIAGNOSE, query, reply);
}

static int
api_verify_route(void *ctx, const char *query, coll_http_reply *reply)
{
	return coll_api_answer(((coll_exporter *) ctx)->api, COLL_API_VERIFY, query, reply);
}

// The HTTP listener's routes: the incident page (web.h), /metrics and the JSON API.
static const coll_http_route routes[] = {
	{ "/", coll_web_page_route },
	{ "/app.js", coll_web_js_route },
	{ "/app.css", coll_web_css_route },
	{ "/metrics", metrics_route },
	{ "/api/v1/status", api_status_route },
	{ "/api/v1/hosts", api_hosts_route },
	{ "/api/v1/history", api_history_route },
	{ "/api/v1/diagnose", api_diagnose_route },
	{ "/api/v1/verify", api_verify_route },
};

// ---- start / stop ----------------------------------------------------------------------------

int
coll_exporter_http_port(const coll_exporter *e)
{
	return e != NULL ? e->http_port : 0;
}

static int
start_http(coll_exporter *e, char *err, size_t errlen)
{
	const coll_config *cfg = &e->srv->cfg;

	if (cfg->http[0] == '\0') {
		return 0;
	}
	if (coll_api_open(e->srv, &e->api, err, errlen) != 0) {
		return -1;
	}
	if (coll_http_start(cfg->http, &e->srv->tls, routes, sizeof(routes) / sizeof(routes[0]), e,
	        &e->http, &e->http_port, err, errlen) == 0) {
		return 0;
	}
	if (cfg->http_set) {
		return -1;
	}
	fl_log(FL_LOG_WARN, "metrics",
	    "%s; running without the HTTP listener (set [collector] http)", err);
	return 0;
}

int
coll_exporter_start(coll_server *srv, coll_exporter **out, char *err, size_t errlen)
{
	coll_exporter *e = calloc(1, sizeof(*e));

	if (e == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	e->srv = srv;
	pthread_mutex_init(&e->mu, NULL);
	pthread_cond_init(&e->cv, NULL);
	if (durable_open(e, err, errlen) != 0 || start_http(e, err, errlen) != 0) {
		coll_exporter_stop(e);
		return -1;
	}
	if (pthread_create(&e->saver, NULL, saver_main, e) != 0) {
		snprintf(err, errlen, "cannot start the counters thread");
		coll_exporter_stop(e);
		return -1;
	}
	e->saver_started = true;
	*out             = e;
	return 0;
}

void
coll_exporter_save_final(coll_exporter *e)
{
	if (e == NULL || e->counters == NULL) {
		return;
	}
	pthread_mutex_lock(&e->mu);
	e->stopping = true;
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
	if (e->saver_started) {
		pthread_join(e->saver, NULL);
		e->saver_started = false;
	}
	durable_save(e);
	coll_counters_close(e->counters);
	e->counters = NULL;
}

void
coll_exporter_stop(coll_exporter *e)
{
	if (e == NULL) {
		return;
	}
	coll_http_stop(e->http); // before the saver: the HTTP worker reads the counters
	e->http = NULL;
	coll_api_close(e->api); // after the listener: no request is being answered
	e->api = NULL;
	if (e->saver_started) {
		pthread_mutex_lock(&e->mu);
		e->stopping = true;
		pthread_cond_broadcast(&e->cv);
		pthread_mutex_unlock(&e->mu);
		pthread_join(e->saver, NULL);
	}
	coll_counters_close(e->counters);
	pthread_cond_destroy(&e->cv);
	pthread_mutex_destroy(&e->mu);
	free(e);
}
