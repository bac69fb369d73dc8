// notify.c - see notify.h: the decider thread, the sender threads and the observe hook.

#include "notify.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "fl/cfg.h"
#include "fl/log.h"
#include "fl/names.h"
#include "fl/str.h"
#include "fl/time.h"
#include "metrics.h"
#include "notify_body.h"
#include "notify_http.h"
#include "notify_mute.h"
#include "notify_store.h"
#include "notify_track.h"
#include "state.h"

#define NOTIFY_IDLE_MS 1000 // a sender with nothing due looks again this often

typedef struct receiver {
	struct coll_notify *n;
	char                name[96];
	const char         *kind;                          // webhook | alertmanager
	char                url[COLL_NOTIFY_URL_MAX + 16]; // where to POST
	char              **headers; // resolved "Name: value" lines (secrets included)
	size_t              n_headers;
	uint32_t            timeout_ms;
	notify_store       *st; // the sender thread's connection
	pthread_t           tid;
	bool                started;
	// Guarded by n->mu.
	uint64_t sent, failed, retried, dropped, pending;
	bool     down;
} receiver;

struct coll_notify {
	coll_notify_config  cfg;
	pthread_mutex_t     mu;
	pthread_cond_t      cv; // a new diagnosis, new rows, or stop
	atomic_int          stop;
	atomic_int_fast64_t fence;    // the lease epoch every connection's writes check; 0: none
	uint64_t            rows_gen; // bumped when rows are queued (senders wait on it)
	// The latest diagnosis, packed (guarded by mu).
	uint8_t *snap;
	size_t   snap_len;
	int64_t  snap_round_us;
	bool     snap_new;

	// Verification outcomes waiting for the decider (guarded by mu).
	struct verif_outcome {
		Fl__Finding        *f;
		notify_verif_result result;
		bool                automatic, full;
	} verif[NOTIFY_MAX_VERIF_QUEUE];
	size_t n_verif;

	coll_mutes    *mutes;   // borrowed; NULL: nothing is muted
	notify_tracker tracker; // decider thread only
	notify_store  *st;      // the decider's connection
	int64_t        round_us;
	bool           has_am;         // an [alertmanager] url is configured
	int64_t        next_resend_us; // when firing findings are next re-sent to them
	pthread_t      tid;
	bool           started;
	bool           curl_init;
	receiver      *rx;
	size_t         n_rx;
};

// ---- helpers ------------------------------------------------------------------------------

static void
timed_wait(coll_notify *n, uint32_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long) (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&n->cv, &n->mu, &ts);
}

// A header line from a file (first line, file not readable by group or others) or from the
// environment. The secret goes into a malloc'd string; err never holds it.
static char *
resolve_header(coll_header_kind kind, const char *v, char *err, size_t errlen)
{
	char line[COLL_NOTIFY_HEADER_MAX];
	if (kind == COLL_HEADER_TEXT) {
		return strdup(v);
	}
	if (kind == COLL_HEADER_FILE) {
		char why[256];
		if (fl_cfg_read_secret_file(v, line, sizeof(line), why, sizeof(why)) != 0) {
			snprintf(err, errlen, "header_file %s: %s", v, why);
			return NULL;
		}
	} else {
		const char *e = getenv(v);
		if (e == NULL || e[0] == '\0' || strlen(e) >= sizeof(line)) {
			snprintf(err, errlen, "header_env %s: not set, empty or too long", v);
			return NULL;
		}
		snprintf(line, sizeof(line), "%s", e);
	}
	char *out = NULL;
	if (strchr(line, ':') == NULL || line[0] == ':' || strpbrk(line, "\r\n") != NULL) {
		snprintf(err, errlen, "%s %s: does not hold one 'Name: value' line",
		    kind == COLL_HEADER_FILE ? "header_file" : "header_env", v);
	} else if ((out = strdup(line)) == NULL) {
		snprintf(err, errlen, "out of memory");
	}
	explicit_bzero(line, sizeof(line)); // the secret lives on in out only
	return out;
}

static int
add_webhook(coll_notify *n, const coll_webhook_cfg *w, char *err, size_t errlen)
{
	receiver *r = &n->rx[n->n_rx];
	memset(r, 0, sizeof(*r));
	r->n    = n;
	r->kind = "webhook";
	snprintf(r->name, sizeof(r->name), "%s", w->name);
	snprintf(r->url, sizeof(r->url), "%s", w->url);
	r->timeout_ms = w->timeout_ms;
	n->n_rx++; // counted now, so that a failure below frees what was resolved
	if (w->n_headers > 0 && (r->headers = calloc(w->n_headers, sizeof(char *))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (uint32_t i = 0; i < w->n_headers; i++) {
		char  why[COLL_NOTIFY_HEADER_MAX + 64];
		char *h = resolve_header(w->header_kind[i], w->headers[i], why, sizeof(why));
		if (h == NULL) {
			snprintf(err, errlen, "[webhook \"%s\"] %s", w->name, why);
			return -1;
		}
		r->headers[r->n_headers++] = h;
	}
	return 0;
}

// One Alertmanager of [alertmanager] url: named alertmanager:HOST:PORT, POSTed to
// URL/api/v2/alerts.
static void
add_alertmanager(coll_notify *n, const char *url, uint32_t timeout_ms)
{
	receiver   *r    = &n->rx[n->n_rx++];
	const char *host = strstr(url, "://") + 3;
	size_t      len  = strlen(url);

	memset(r, 0, sizeof(*r));
	r->n          = n;
	r->kind       = "alertmanager";
	r->timeout_ms = timeout_ms;
	snprintf(r->name, sizeof(r->name), "alertmanager:%.*s", (int) strcspn(host, "/"), host);
	while (len > 0 && url[len - 1] == '/') {
		len--;
	}
	snprintf(r->url, sizeof(r->url), "%.*s/api/v2/alerts", (int) len, url);
}

static void
receivers_free(coll_notify *n)
{
	for (size_t i = 0; i < n->n_rx; i++) {
		receiver *r = &n->rx[i];
		for (size_t k = 0; k < r->n_headers; k++) {
			// A secret: cleared before the memory goes back.
			explicit_bzero(r->headers[k], strlen(r->headers[k]));
			free(r->headers[k]);
		}
		free(r->headers);
		notify_store_close(r->st);
	}
	free(n->rx);
	n->rx   = NULL;
	n->n_rx = 0;
}

// ---- deciding -------------------------------------------------------------------------------

static bool
is_am(const receiver *r)
{
	return strcmp(r->kind, "alertmanager") == 0;
}

static char *
body_for(const receiver *r, notify_status st, const notify_entry *e, int64_t at_us)
{
	const char *status = st == NOTIFY_FIRING ? "firing" : "resolved";
	int64_t     ended  = st == NOTIFY_FIRING ? 0 : at_us;
	return is_am(r) ? notify_am_body(e->id, status, e->f, ended)
	                : notify_webhook_body(e->id, status, e->f, ended);
}

// Alertmanager forgets an alert at its endsAt unless it is sent again (README, "Alertmanager"):
// every `resend`, each firing finding is queued again for each Alertmanager that has nothing
// of it waiting already (so an Alertmanager that is down does not pile up re-sends).
static void
resend_firing(coll_notify *n, int64_t now_us)
{
	bool queued = false;
	for (size_t k = 0; k < n->tracker.n; k++) {
		const notify_entry *e = &n->tracker.v[k];
		char                event_id[NOTIFY_ID_LEN + 48];
		if (!e->firing || e->f == NULL) {
			continue;
		}
		notify_event_id(e->id, e->fired_us, "firing", event_id, sizeof(event_id));
		for (size_t i = 0; i < n->n_rx; i++) {
			if (!is_am(&n->rx[i])) {
				continue;
			}
			char *body = body_for(&n->rx[i], NOTIFY_FIRING, e, now_us);
			if (body != NULL &&
			    notify_store_requeue(
			        n->st, n->rx[i].name, e->id, event_id, body, now_us) == 1) {
				pthread_mutex_lock(&n->mu);
				n->rx[i].pending++;
				pthread_mutex_unlock(&n->mu);
				queued = true;
			}
			free(body);
		}
	}
	if (queued) {
		pthread_mutex_lock(&n->mu);
		n->rows_gen++;
		pthread_cond_broadcast(&n->cv);
		pthread_mutex_unlock(&n->mu);
	}
}

// notify_emit_fn: writes the notification's rows for every receiver.
static int
emit(void *arg, notify_status st, const notify_entry *e, int64_t at_us)
{
	coll_notify *n      = arg;
	const char  *status = st == NOTIFY_FIRING ? "firing" : "resolved";
	int64_t      fired  = st == NOTIFY_FIRING ? at_us : e->fired_us;
	char         event_id[NOTIFY_ID_LEN + 48];
	const char  *names[COLL_NOTIFY_MAX_WEBHOOKS + COLL_NOTIFY_MAX_AM];
	char        *bodies[COLL_NOTIFY_MAX_WEBHOOKS + COLL_NOTIFY_MAX_AM]  = { 0 };
	bool         dropped[COLL_NOTIFY_MAX_WEBHOOKS + COLL_NOTIFY_MAX_AM] = { 0 };
	uint8_t     *packed                                                 = NULL;
	size_t       packed_len                                             = 0;
	int          rv                                                     = -1;

	notify_event_id(e->id, fired, status, event_id, sizeof(event_id));
	for (size_t i = 0; i < n->n_rx; i++) {
		names[i] = n->rx[i].name;
		if ((bodies[i] = body_for(&n->rx[i], st, e, at_us)) == NULL) {
			goto out;
		}
	}
	if (st == NOTIFY_FIRING) {
		packed_len = fl__finding__get_packed_size(e->f);
		if ((packed = malloc(packed_len ? packed_len : 1)) == NULL) {
			goto out;
		}
		fl__finding__pack(e->f, packed);
	}
	notify_enqueue q = { .finding = e->id,
		.event_id             = event_id,
		.status               = status,
		.packed               = packed,
		.packed_len           = packed_len,
		.fired_us             = fired,
		.now_us               = fl_now_us(),
		.n_receivers          = n->n_rx,
		.receivers            = names,
		.bodies               = (const char *const *) bodies,
		.dropped              = dropped };
	if ((rv = notify_store_enqueue(n->st, &q)) != 0) {
		goto out;
	}
	fl_log(FL_LOG_INFO, "notify", "%s %s (%s): %s", status, e->id, notify_verdict_label(e->f),
	    fl_str_or_empty(e->f->summary));
	pthread_mutex_lock(&n->mu);
	for (size_t i = 0; i < n->n_rx; i++) {
		if (dropped[i]) {
			n->rx[i].dropped++;
			fl_log(FL_LOG_WARN, "notify",
			    "cannot queue %s %s for %s: %d notifications wait already (dropped)",
			    status, e->id, n->rx[i].name, NOTIFY_OUTBOX_MAX);
		} else {
			n->rx[i].pending++;
		}
	}
	n->rows_gen++;
	pthread_cond_broadcast(&n->cv);
	pthread_mutex_unlock(&n->mu);
out:
	for (size_t i = 0; i < n->n_rx; i++) {
		free(bodies[i]);
	}
	free(packed);
	return rv;
}

// notify_muted_fn over the mutes (notify_mute.h).
static bool
is_muted(void *arg, const Fl__Finding *f, int64_t now_us)
{
	return coll_mutes_covering(arg, f, now_us) != 0;
}

static void *
decider_main(void *arg)
{
	coll_notify *n = arg;

	pthread_mutex_lock(&n->mu);
	while (!atomic_load(&n->stop)) {
		uint8_t             *snap  = NULL;
		size_t               len   = 0;
		int64_t              round = n->round_us;
		struct verif_outcome verif[NOTIFY_MAX_VERIF_QUEUE];
		size_t               n_verif = n->n_verif;
		memcpy(verif, n->verif, n_verif * sizeof(verif[0]));
		n->n_verif = 0;
		if (n->snap_new) {
			snap        = n->snap;
			len         = n->snap_len;
			round       = n->snap_round_us;
			n->snap     = NULL;
			n->snap_new = false;
		}
		pthread_mutex_unlock(&n->mu);

		notify_store_set_fence(n->st, atomic_load(&n->fence));
		Fl__DiagnoseReply *r = NULL;
		if (snap != NULL) {
			r = fl__diagnose_reply__unpack(NULL, len, snap);
			free(snap);
			n->round_us = round;
		}
		int64_t now = fl_now_us();
		for (size_t i = 0; i < n_verif; i++) {
			notify_tracker_verification(&n->tracker, verif[i].f, verif[i].result,
			    verif[i].automatic, verif[i].full, now, emit, n);
		}
		notify_tracker_update(
		    &n->tracker, r, n->round_us, now, is_muted, n->mutes, emit, n);
		if (n->has_am && now >= n->next_resend_us) {
			resend_firing(n, now);
			n->next_resend_us = now + (int64_t) n->cfg.am_resend_ms * 1000;
		}
		if (r != NULL) {
			fl__diagnose_reply__free_unpacked(r, NULL);
		}

		pthread_mutex_lock(&n->mu);
		if (!atomic_load(&n->stop) && !n->snap_new && n->n_verif == 0) {
			timed_wait(n, NOTIFY_TICK_MS);
		}
	}
	pthread_mutex_unlock(&n->mu);
	return NULL;
}

// ---- sending --------------------------------------------------------------------------------

// Logs a receiver's state change once: down with the reason, up again.
static void
set_down(receiver *r, bool down, const char *why)
{
	coll_notify *n = r->n;
	bool         was;
	uint64_t     pending;

	pthread_mutex_lock(&n->mu);
	was     = r->down;
	r->down = down;
	pending = r->pending;
	pthread_mutex_unlock(&n->mu);
	if (down && !was) {
		fl_log(FL_LOG_WARN, "notify",
		    "cannot deliver to %s %s: %s; retrying with backoff (%llu waiting)", r->kind,
		    r->name, why, (unsigned long long) pending);
	} else if (!down && was) {
		fl_log(
		    FL_LOG_NOTICE, "notify", "%s %s accepts notifications again", r->kind, r->name);
	}
}

// Tries one row. Returns true when it was delivered.
static bool
deliver(receiver *r, notify_row *row)
{
	coll_notify *n = r->n;
	char         why[CURL_ERROR_SIZE + 64];
	char         id_header[NOTIFY_ID_LEN + 96];
	const char  *headers[COLL_NOTIFY_MAX_HEADERS + 1];
	size_t       nh = 0;

	snprintf(id_header, sizeof(id_header), "X-Faultline-Event-Id: %s", row->event_id);
	headers[nh++] = id_header;
	for (size_t i = 0; i < r->n_headers; i++) {
		headers[nh++] = r->headers[i];
	}
	// A firing alert to Alertmanager ends by itself unless re-sent: a few resends ahead of now.
	char *body = notify_am_set_ends_at(
	    row->body, fl_now_us() + 3 * (int64_t) n->cfg.am_resend_ms * 1000);
	if (body == NULL) {
		return false; // out of memory: tried again at the next look
	}
	notify_http_req req    = { .url = r->url,
		   .headers             = headers,
		   .n_headers           = nh,
		   .body                = body,
		   .timeout_ms          = r->timeout_ms,
		   .stop                = &n->stop };
	int             posted = notify_http_post(&req, why, sizeof(why));
	free(body);
	if (posted == 0) {
		if (notify_store_sent(r->st, row) == 0) {
			long left = notify_store_pending(r->st, r->name);
			pthread_mutex_lock(&n->mu);
			r->sent++;
			r->retried += row->attempts > 0;
			r->pending = left >= 0 ? (uint64_t) left : r->pending;
			pthread_mutex_unlock(&n->mu);
		}
		set_down(r, false, NULL);
		return true;
	}
	if (atomic_load(&n->stop)) {
		return false; // aborted by the stop: not the receiver's failure
	}
	if (notify_store_failed(r->st, row,
	        fl_now_us() + notify_backoff_us(row->attempts, n->cfg.retry_max_ms)) == 0) {
		pthread_mutex_lock(&n->mu);
		r->failed++;
		pthread_mutex_unlock(&n->mu);
	}
	set_down(r, true, why);
	return false;
}

static void *
sender_main(void *arg)
{
	receiver    *r = arg;
	coll_notify *n = r->n;

	while (!atomic_load(&n->stop)) {
		notify_row row;
		// Fenced or cut off (notify_store.h), next hands out nothing: the sender stops
		// sending (notify_db.h logs why once) and its rows wait in the outbox.
		notify_store_set_fence(r->st, atomic_load(&n->fence));
		int got = notify_store_next(r->st, r->name, fl_now_us(), &row);
		if (got == 1) {
			deliver(r, &row);
			notify_row_free(&row);
			continue;
		}
		pthread_mutex_lock(&n->mu);
		uint64_t gen = n->rows_gen;
		while (!atomic_load(&n->stop) && gen == n->rows_gen) {
			timed_wait(n, NOTIFY_IDLE_MS);
			break; // due rows (a backoff ended) are found by looking again
		}
		pthread_mutex_unlock(&n->mu);
	}
	return NULL;
}

// ---- life cycle -----------------------------------------------------------------------------

static int
restore_one(void *arg, const char *id, const uint8_t *packed, size_t len, int64_t fired_us)
{
	coll_notify *n = arg;
	Fl__Finding *f = fl__finding__unpack(NULL, len, packed);
	if (f == NULL) {
		fl_log(FL_LOG_WARN, "notify", "cannot read firing finding %s: skipped", id);
		return 0;
	}
	if (notify_tracker_restore(&n->tracker, id, f, fired_us) != 0) {
		fl_log(FL_LOG_WARN, "notify", "cannot restore firing finding %s", id);
	}
	return 0;
}

static void
load_counters(coll_notify *n)
{
	for (size_t i = 0; i < n->n_rx; i++) {
		receiver *r = &n->rx[i];
		long      p = notify_store_pending(n->st, r->name);
		r->sent     = notify_store_count(n->st, r->name, "sent");
		r->failed   = notify_store_count(n->st, r->name, "failed");
		r->retried  = notify_store_count(n->st, r->name, "retried");
		r->dropped  = notify_store_count(n->st, r->name, "dropped");
		r->pending  = p > 0 ? (uint64_t) p : 0;
		// Failing before the restart: its recovery is the next state change to log.
		r->down = notify_store_count_rows(n->st, r->name, true) > 0;
	}
}

// The configured receivers' names (borrowed from n; a static array: start runs once, on one
// thread, before any other notifier thread exists).
static const char *const *
names_of(const coll_notify *n)
{
	static const char *names[COLL_NOTIFY_MAX_WEBHOOKS + COLL_NOTIFY_MAX_AM];
	for (size_t i = 0; i < n->n_rx; i++) {
		names[i] = n->rx[i].name;
	}
	return names;
}

static int
open_stores(coll_notify *n, const fl_sql_opts *state, char *err, size_t errlen)
{
	int64_t fence = atomic_load(&n->fence);
	if (notify_store_open(state, "the notification outbox", &n->st, err, errlen) != 0) {
		return -1;
	}
	notify_store_set_fence(n->st, fence);
	for (size_t i = 0; i < n->n_rx; i++) {
		char who[160];
		snprintf(who, sizeof(who), "notifications to %s %s", n->rx[i].kind, n->rx[i].name);
		if (notify_store_open(state, who, &n->rx[i].st, err, errlen) != 0) {
			return -1;
		}
		notify_store_set_fence(n->rx[i].st, fence);
	}
	if (notify_store_forget_receivers(n->st, names_of(n), n->n_rx) != 0 ||
	    notify_store_all_due(n->st) != 0 || notify_store_firing(n->st, restore_one, n) != 0) {
		snprintf(err, errlen, "cannot read the notification outbox (see the log)");
		return -1;
	}
	load_counters(n);
	return 0;
}

static int
start_threads(coll_notify *n, char *err, size_t errlen)
{
	if (pthread_create(&n->tid, NULL, decider_main, n) != 0) {
		snprintf(err, errlen, "cannot start the notification thread");
		return -1;
	}
	n->started = true;
	for (size_t i = 0; i < n->n_rx; i++) {
		if (pthread_create(&n->rx[i].tid, NULL, sender_main, &n->rx[i]) != 0) {
			snprintf(
			    err, errlen, "cannot start the sender thread of %s", n->rx[i].name);
			return -1;
		}
		n->rx[i].started = true;
	}
	return 0;
}

int
coll_notify_start(const coll_notify_config *cfg, const fl_sql_opts *state, int64_t fence,
    coll_mutes *mutes, coll_notify **out, char *err, size_t errlen)
{
	coll_notify       *n;
	pthread_condattr_t ca;

	*out = NULL;
	if (cfg->n_webhooks + cfg->n_am_urls == 0) {
		return 0;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL ||
	    (n->rx = calloc(cfg->n_webhooks + cfg->n_am_urls, sizeof(*n->rx))) == NULL) {
		free(n);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	n->cfg   = *cfg;
	n->mutes = mutes;
	pthread_mutex_init(&n->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&n->cv, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&n->stop, 0);
	atomic_init(&n->fence, fence > 0 ? fence : 0);
	notify_tracker_init(
	    &n->tracker, (int64_t) cfg->for_ms * 1000, cfg->resolve_after, NOTIFY_MAX_FINDINGS);
	n->round_us = 1000000;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "cannot initialise libcurl");
		coll_notify_stop(n);
		return -1;
	}
	n->curl_init = true;
	for (uint32_t i = 0; i < cfg->n_webhooks; i++) {
		if (add_webhook(n, &cfg->webhooks[i], err, errlen) != 0) {
			coll_notify_stop(n);
			return -1;
		}
	}
	for (uint32_t i = 0; i < cfg->n_am_urls; i++) {
		add_alertmanager(n, cfg->am_urls[i], cfg->am_timeout_ms);
		n->has_am = true;
	}
	if (open_stores(n, state, err, errlen) != 0 || start_threads(n, err, errlen) != 0) {
		coll_notify_stop(n);
		return -1;
	}
	fl_log(FL_LOG_INFO, "notify",
	    "notifying %zu receiver%s (for %us, resolve after %u rounds, %zu firing)", n->n_rx,
	    n->n_rx > 1 ? "s" : "", cfg->for_ms / 1000, cfg->resolve_after, n->tracker.n);
	*out = n;
	return 0;
}

void
coll_notify_set_fence(coll_notify *n, int64_t epoch)
{
	if (n != NULL) {
		atomic_store(&n->fence, epoch > 0 ? epoch : 0);
	}
}

void
coll_notify_stop(coll_notify *n)
{
	if (n == NULL) {
		return;
	}
	pthread_mutex_lock(&n->mu);
	atomic_store(&n->stop, 1);
	pthread_cond_broadcast(&n->cv);
	pthread_mutex_unlock(&n->mu);
	if (n->started) {
		pthread_join(n->tid, NULL);
	}
	for (size_t i = 0; i < n->n_rx; i++) {
		if (n->rx[i].started) {
			pthread_join(n->rx[i].tid, NULL);
		}
	}
	receivers_free(n);
	for (size_t i = 0; i < n->n_verif; i++) {
		fl__finding__free_unpacked(n->verif[i].f, NULL);
	}
	notify_store_close(n->st);
	notify_tracker_fini(&n->tracker);
	free(n->snap);
	if (n->curl_init) {
		curl_global_cleanup();
	}
	pthread_cond_destroy(&n->cv);
	pthread_mutex_destroy(&n->mu);
	free(n);
}

void
coll_notify_observe(coll_notify *n, const Fl__DiagnoseReply *r, int64_t round_us, int64_t now_us)
{
	(void) now_us; // the decider judges times on its own clock reads, a tick later at most
	if (n == NULL || r == NULL) {
		return;
	}
	size_t   len  = fl__diagnose_reply__get_packed_size(r);
	uint8_t *snap = malloc(len ? len : 1);
	if (snap == NULL) {
		return; // the next diagnosis will do
	}
	fl__diagnose_reply__pack(r, snap);
	pthread_mutex_lock(&n->mu);
	free(n->snap);
	n->snap          = snap;
	n->snap_len      = len;
	n->snap_round_us = round_us;
	n->snap_new      = true;
	pthread_mutex_unlock(&n->mu);
}

void
coll_notify_on_diagnosis(void *arg, const coll_state *s, const Fl__DiagnoseReply *r, int64_t now_us)
{
	int64_t round_us = 0;
	for (size_t i = 0; i < s->n_hosts; i++) {
		const coll_host *h = s->hosts[i];
		if (!h->stale && (int64_t) h->interval_ms * 1000 > round_us) {
			round_us = (int64_t) h->interval_ms * 1000;
		}
	}
	coll_notify_observe(arg, r, round_us > 0 ? round_us : 1000000, now_us);
}

// ---- verifications -------------------------------------------------------------------------

// The alert's evidence: each reason, then rollback readiness.
static char **
verif_evidence(const Fl__VerifyReply *r, size_t *n)
{
	char **v = calloc(r->n_reasons + 2, sizeof(char *));
	*n       = 0;
	if (v == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < r->n_reasons; i++) {
		const Fl__VerifyReason *x     = r->reasons[i];
		const char             *check = fl_verify_check_name(x->check_enum);
		size_t                  len   = strlen(check) + strlen(fl_str_or_empty(x->host)) +
		    strlen(fl_str_or_empty(x->probe)) + strlen(fl_str_or_empty(x->summary)) + 8;
		if ((v[*n] = malloc(len)) != NULL) {
			snprintf(v[*n], len, "%s%s%s%s%s: %s", check,
			    fl_str_or_empty(x->host)[0] ? " " : "", fl_str_or_empty(x->host),
			    fl_str_or_empty(x->probe)[0] ? " " : "", fl_str_or_empty(x->probe),
			    fl_str_or_empty(x->summary));
			(*n)++;
		}
	}
	if (r->rollback != NULL) {
		size_t len = strlen(fl_str_or_empty(r->rollback->release)) + 64;
		if ((v[*n] = malloc(len)) != NULL) {
			snprintf(v[*n], len, "rollback to %s: %s",
			    fl_str_or_empty(r->rollback->release),
			    r->rollback->ready ? "ready" : "NOT ready");
			(*n)++;
		}
	}
	return v;
}

// A verification outcome as the finding its alert carries (verdict UNKNOWN: notify_track.h).
static Fl__Finding *
verif_finding(const Fl__VerifyReply *r, const char *kind, bool automatic)
{
	Fl__Finding f = FL__FINDING__INIT;
	char        summary[1024];
	size_t      n_ev = 0;

	snprintf(summary, sizeof(summary),
	    "release %s %s verification (%s check of %zu host%s%s)%s%s", r->release,
	    fl_verify_result_name(r->result_enum), kind, r->n_hosts, r->n_hosts == 1 ? "" : "s",
	    automatic ? ", automatic" : "", r->n_reasons > 0 ? ": " : "",
	    r->n_reasons > 0 ? r->reasons[0]->summary : "");
	f.verdict      = FL__VERDICT__VERDICT_UNKNOWN;
	f.summary      = summary;
	f.release      = r->release;
	f.hosts        = r->hosts;
	f.n_hosts      = r->n_hosts;
	f.evidence     = verif_evidence(r, &n_ev);
	f.n_evidence   = n_ev;
	f.since_us     = fl_now_us();
	Fl__Finding *c = f.evidence != NULL ? notify_finding_copy(&f) : NULL;
	for (size_t i = 0; i < n_ev; i++) {
		free(f.evidence[i]);
	}
	free(f.evidence);
	return c;
}

void
coll_notify_verification(coll_notify *n, const Fl__VerifyReply *r, const char *kind, bool automatic)
{
	notify_verif_result result = r->result_enum == FL__VERIFY_RESULT__VERIFY_RESULT_FAILED
	    ? NOTIFY_VERIF_FAILED
	    : r->result_enum == FL__VERIFY_RESULT__VERIFY_RESULT_PASSED ? NOTIFY_VERIF_PASSED
	                                                                : NOTIFY_VERIF_UNVERIFIED;
	if (n == NULL || result == NOTIFY_VERIF_UNVERIFIED ||
	    (result == NOTIFY_VERIF_FAILED && !automatic)) {
		return; // nothing it could raise or resolve
	}
	Fl__Finding *f = verif_finding(r, kind, automatic);
	if (f == NULL) {
		fl_log(FL_LOG_ERR, "notify", "cannot notify the verification of %s: out of memory",
		    r->release);
		return;
	}
	pthread_mutex_lock(&n->mu);
	if (n->n_verif == NOTIFY_MAX_VERIF_QUEUE) {
		pthread_mutex_unlock(&n->mu);
		fl_log(FL_LOG_WARN, "notify",
		    "cannot notify the verification of %s: %d outcomes wait already (dropped)",
		    r->release, NOTIFY_MAX_VERIF_QUEUE);
		fl__finding__free_unpacked(f, NULL);
		return;
	}
	n->verif[n->n_verif++] = (struct verif_outcome) {
		.f = f, .result = result, .automatic = automatic, .full = strcmp(kind, "full") == 0
	};
	pthread_cond_broadcast(&n->cv);
	pthread_mutex_unlock(&n->mu);
}

// ---- counters -------------------------------------------------------------------------------

size_t
coll_notify_counters(coll_notify *n, coll_notify_counter *out, size_t max)
{
	if (n == NULL) {
		return 0;
	}
	pthread_mutex_lock(&n->mu);
	for (size_t i = 0; i < n->n_rx && i < max; i++) {
		const receiver      *r = &n->rx[i];
		coll_notify_counter *c = &out[i];
		snprintf(c->receiver, sizeof(c->receiver), "%s", r->name);
		snprintf(c->kind, sizeof(c->kind), "%s", r->kind);
		c->sent    = r->sent;
		c->failed  = r->failed;
		c->retried = r->retried;
		c->dropped = r->dropped;
		c->pending = r->pending;
		c->down    = r->down;
	}
	pthread_mutex_unlock(&n->mu);
	return n->n_rx;
}

size_t
coll_notify_metrics_source(void *arg, coll_metrics_notif *out, size_t max)
{
	coll_notify_counter c[COLL_NOTIFY_MAX_WEBHOOKS + COLL_NOTIFY_MAX_AM];
	size_t              k = coll_notify_counters(arg, c, sizeof(c) / sizeof(c[0]));
	size_t              n = 0;

	for (size_t i = 0; i < k; i++) {
		const struct {
			const char *outcome;
			uint64_t    value;
		} v[] = { { "sent", c[i].sent }, { "failed", c[i].failed },
			{ "retried", c[i].retried }, { "dropped", c[i].dropped } };
		for (size_t o = 0; o < sizeof(v) / sizeof(v[0]) && n < max; o++) {
			if ((out[n].receiver = strdup(c[i].receiver)) == NULL) {
				return n;
			}
			out[n].outcome = v[o].outcome;
			out[n].value   = v[o].value;
			n++;
		}
	}
	return n;
}

void
coll_notify_status_add(coll_notify *n, Fl__StatusReply *reply)
{
	coll_notify_counter c[COLL_NOTIFY_MAX_WEBHOOKS + COLL_NOTIFY_MAX_AM];
	size_t              k = coll_notify_counters(n, c, sizeof(c) / sizeof(c[0]));

	if (k == 0 || (reply->notify_receivers = calloc(k, sizeof(void *))) == NULL) {
		return;
	}
	for (size_t i = 0; i < k; i++) {
		Fl__NotifyReceiver *r = calloc(1, sizeof(*r));
		if (r == NULL) {
			break;
		}
		fl__notify_receiver__init(r);
		r->name                                              = strdup(c[i].receiver);
		r->kind                                              = strdup(c[i].kind);
		r->sent                                              = c[i].sent;
		r->failed                                            = c[i].failed;
		r->retried                                           = c[i].retried;
		r->dropped                                           = c[i].dropped;
		r->pending                                           = c[i].pending;
		r->down                                              = c[i].down;
		reply->notify_receivers[reply->n_notify_receivers++] = r;
		if (r->name == NULL || r->kind == NULL) {
			break;
		}
	}
}

void
coll_notify_status_fini(Fl__StatusReply *reply)
{
	for (size_t i = 0; i < reply->n_notify_receivers; i++) {
		Fl__NotifyReceiver *r = reply->notify_receivers[i];
		free(r->name);
		free(r->kind);
		free(r);
	}
	free(reply->notify_receivers);
	reply->notify_receivers   = NULL;
	reply->n_notify_receivers = 0;
}
