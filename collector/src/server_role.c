// server_role.c - see server_role.h.

#include "server_role.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exporter.h"
#include "fl/log.h"
#include "fl/str.h"
#include "fl/time.h"
#include "ingest.h"
#include "lease.h"
#include "listen.h"
#include "notify.h"
#include "notify_mute.h"
#include "pipes.h"
#include "sql.h"
#include "survey.h"
#include "verify.h"
#include "watchdog.h"

#define ROLE_TICK_MS      100 // how often the role thread reads the lease
#define ROLE_LOG_EVERY_US 10000000LL
#define ROLE_FULL_LOAD_US 600000000LL // a standby reloads everything at least this often

static const char LOST_LEASE[] = "collector lost the lease";

const char *
coll_role_lease_target(const coll_config *cfg)
{
	return fl_sql_target_engine(cfg->state) == FL_SQL_PGSQL ? cfg->state : NULL;
}

// Active, and (with a lease) still holding it by the lease's own clock: a collector resumed
// after a freeze refuses what needs the active before its role thread has even looked.
bool
coll_server_is_active(coll_server *srv)
{
	return atomic_load(&srv->active) &&
	    (srv->lease == NULL || coll_lease_keeper_view(srv->lease, fl_mono_us()).held);
}

void
coll_server_role_status(coll_server *srv, Fl__StatusReply *r, char *name)
{
	coll_role role = srv->role.role;

	// A take-over in progress (loading the state, opening the listeners) is not active yet,
	// nor one whose lease just lapsed (the role thread steps it down at its next look).
	if (role == COLL_ROLE_ACTIVE && !coll_server_is_active(srv)) {
		role = COLL_ROLE_STANDBY;
	}
	(void) fl_str_copy_trunc(name, COLL_NAME_MAX, srv->active_name);
	r->role          = (char *) coll_role_name(role);
	r->active_name   = name;
	r->role_since_us = srv->role.since_us;
}

// ---- the active's parts ----------------------------------------------------------------------

// verify.h's on_recorded: the metrics count each recorded verification (the exporter starts
// after the verifier, and may be absent: coll_exporter_count_verification accepts NULL), and
// the notifier pages on a failed automatic one and on the pass that follows.
static void
verification_recorded(
    void *arg, const Fl__VerifyReply *r, const char *result, const char *kind, bool automatic)
{
	coll_server *srv = arg;
	coll_exporter_count_verification(srv->exporter, result);
	coll_notify_verification(srv->notify, r, kind, automatic);
}

// The survey and verifier; the verifier's writes fenced at the epoch the server is active at
// (role.h: 0 when single).
int
coll_parts_open_probe_now(coll_server *srv, char *err, size_t errlen)
{
	const coll_config *cfg   = &srv->cfg;
	coll_survey       *sv    = NULL;
	coll_pipes        *pipes = NULL;
	coll_verify       *v     = NULL;
	int                port  = 0;
	coll_verify_deps   vd    = { .state = { .lock = &srv->lock, .state = &srv->state },
		     .stopping              = &srv->stopping,
		     .fence                 = srv->role.epoch,
		     .on_recorded           = verification_recorded,
		     .on_recorded_arg       = srv };

	coll_config_sql_opts(cfg, false, "faultline-collector-verify", &vd.store);

	if (cfg->survey[0] != '\0' &&
	    coll_survey_open(cfg->survey, &srv->tls, srv->keyring, cfg->max_connections,
	        cfg->recv_max, &pipes, &sv, &port, err, errlen) != 0) {
		return -1;
	}
	vd.survey = sv;
	if (coll_verify_start(&vd, sv != NULL, &v, err, errlen) != 0) {
		coll_survey_free(sv);
		coll_pipes_free(pipes);
		return -1;
	}
	pthread_mutex_lock(&srv->parts_lock);
	pthread_mutex_lock(&srv->lock);
	srv->survey       = sv;
	srv->survey_pipes = pipes;
	srv->survey_port  = port;
	srv->verify       = v;
	pthread_mutex_unlock(&srv->lock);
	pthread_mutex_unlock(&srv->parts_lock);
	return 0;
}

// The notifier; its outbox's writes fenced at the epoch the server is active at (0: single).
int
coll_parts_open_notify(coll_server *srv, char *err, size_t errlen)
{
	coll_notify *n = NULL;
	fl_sql_opts  state;

	coll_config_sql_opts(&srv->cfg, false, "faultline-collector-notify", &state);
	if (coll_notify_start(
	        &srv->cfg.notify, &state, srv->role.epoch, srv->mutes, &n, err, errlen) != 0) {
		return -1;
	}
	pthread_mutex_lock(&srv->parts_lock);
	pthread_mutex_lock(&srv->lock);
	srv->notify = n;
	if (n != NULL) {
		srv->state.on_diagnosis     = coll_notify_on_diagnosis;
		srv->state.on_diagnosis_arg = n;
	}
	pthread_mutex_unlock(&srv->lock);
	pthread_mutex_unlock(&srv->parts_lock);
	if (n != NULL && srv->exporter != NULL) {
		coll_exporter_set_notify_source(srv->exporter, coll_notify_metrics_source, n);
	}
	return 0;
}

// Waits up to ms for the slow control requests' workers (control.c) to end. True if they did.
static bool
slow_jobs_end(coll_server *srv, int ms)
{
	for (int i = 0; i < ms / 25 && atomic_load(&srv->slow_jobs) > 0; i++) {
		struct timespec ts = { 0, 25 * 1000000L };
		nanosleep(&ts, NULL);
	}
	return atomic_load(&srv->slow_jobs) == 0;
}

void
coll_role_free_retired(coll_server *srv)
{
	if (srv->old_verify == NULL && srv->old_survey == NULL) {
		return;
	}
	if (atomic_load(&srv->slow_jobs) > 0) {
		return; // one may still hold them (hub.h)
	}
	coll_verify_stop(srv->old_verify);
	coll_survey_free(srv->old_survey);
	coll_pipes_free(srv->old_survey_pipes);
	srv->old_verify       = NULL;
	srv->old_survey       = NULL;
	srv->old_survey_pipes = NULL;
}

// The survey and verifier swapped out: freed now when no slow job runs, else kept until none
// does (a slow job reads them only after it is counted: hub.h).
static void
retire_probe_now(coll_server *srv, coll_survey *sv, coll_pipes *pipes, coll_verify *v)
{
	coll_role_free_retired(srv);
	if (atomic_load(&srv->slow_jobs) == 0) {
		coll_verify_stop(v);
		coll_survey_free(sv);
		coll_pipes_free(pipes);
		return;
	}
	if (srv->old_verify != NULL || srv->old_survey != NULL) {
		// Two step-downs within one slow job's life: keep the newest; the older pair is
		// left allocated (closed, never used again) rather than freed under a worker.
		fl_log(FL_LOG_WARN, "role", "a probe-now or verify outlived two step-downs");
	}
	srv->old_verify       = v;
	srv->old_survey       = sv;
	srv->old_survey_pipes = pipes;
}

// Stops everything only the active does, reports and writes first. Safe on parts that never
// opened (a take-over that failed half-way).
static void
stop_active_parts(coll_server *srv)
{
	coll_survey *sv;
	coll_verify *v;
	coll_pipes  *pipes;
	coll_notify *n;

	atomic_store(&srv->active, false); // control refuses what needs the active
	coll_watch_close_listener(srv->watch, 0);
	atomic_store(&srv->ingest_stop, 1);
	coll_verify_interrupt(srv->verify, LOST_LEASE);
	coll_survey_close(srv->survey); // ends the surveys in progress at once
	if (srv->ingest_started) {
		pthread_join(srv->ingest_tid, NULL);
		srv->ingest_started = false;
	}
	coll_verify_join(srv->verify);
	(void) slow_jobs_end(srv, COLL_STOP_WORKERS_MS);
	pthread_mutex_lock(&srv->parts_lock);
	pthread_mutex_lock(&srv->lock);
	sv                      = srv->survey;
	v                       = srv->verify;
	pipes                   = srv->survey_pipes;
	n                       = srv->notify;
	srv->survey             = NULL;
	srv->verify             = NULL;
	srv->survey_pipes       = NULL;
	srv->survey_port        = 0;
	srv->notify             = NULL;
	srv->state.on_diagnosis = NULL;
	coll_ops_clear(&srv->pending); // forgets not yet written are the new active's to redo
	pthread_mutex_unlock(&srv->lock);
	pthread_mutex_unlock(&srv->parts_lock);
	coll_exporter_set_notify_source(srv->exporter, NULL, NULL);
	coll_exporter_set_fence(srv->exporter, -1); // saves nothing, shows the active's counters
	coll_notify_stop(n); // its outbox stays in the store for the next active
	retire_probe_now(srv, sv, pipes, v);
	coll_store_close(srv->writer);
	srv->writer = NULL;
}

// Loads the store's whole state through st into the server's state (under its lock, swapped in
// at once); srv->seen says where it stands in the store's changes. 0, or -1 with err.
static int
load_shared_state(coll_server *srv, coll_store *st, char *err, size_t errlen)
{
	coll_state        fresh;
	coll_store_loader ld = { .on_host = coll_state_restore_host,
		.on_latest                = coll_state_restore_latest,
		.on_verdict               = coll_state_restore_verdict,
		.arg                      = &fresh };
	int               rc;

	coll_state_init(&fresh, fl_now_us());
	fresh.max_hosts  = srv->cfg.max_hosts;
	fresh.max_probes = srv->cfg.max_probes_per_host;
	rc               = coll_store_load_at(st, &ld, &srv->seen);
	if (rc == 0) {
		pthread_mutex_lock(&srv->lock);
		coll_state_adopt(&srv->state, &fresh);
		pthread_mutex_unlock(&srv->lock);
		srv->full_load_us = fl_mono_us();
	} else {
		snprintf(err, errlen, "cannot load the state from the store");
	}
	coll_state_fini(&fresh);
	return rc;
}

// The rows coll_store_load_changes hands over, copied (a row lives only during its callback),
// so that the state lock is held only while they are applied, not while the store is read.
typedef struct store_changes {
	coll_ops rows;
	char    *verdict, *summary; // NULL: no verdict in the store
} store_changes;

static int
changed_host(void *arg, const coll_host_row *row)
{
	return coll_ops_host(&((store_changes *) arg)->rows, COLL_OP_HOST, row);
}

static int
changed_latest(void *arg, const coll_latest_row *row)
{
	return coll_ops_latest(&((store_changes *) arg)->rows, row);
}

static int
changed_verdict(void *arg, const char *verdict, const char *summary)
{
	store_changes *c = arg;
	return fl_str_replace(&c->verdict, verdict) < 0 || fl_str_replace(&c->summary, summary) < 0
	    ? -1
	    : 0;
}

// Restores the changed rows over the server's state, as a load would restore them into an empty
// one (state.h). 0, or -1 when out of memory (the state then holds part of them).
static int
apply_changes(coll_server *srv, const store_changes *c)
{
	int rc = 0;

	pthread_mutex_lock(&srv->lock);
	for (size_t i = 0; i < c->rows.n && rc == 0; i++) {
		const coll_op *op = &c->rows.v[i];
		rc                = op->kind == COLL_OP_HOST
		                   ? coll_state_restore_host(&srv->state, &op->u.host)
		                   : coll_state_restore_latest(&srv->state, &op->u.latest);
	}
	if (rc == 0 && c->verdict != NULL) {
		rc = coll_state_restore_verdict(&srv->state, c->verdict, c->summary);
	}
	pthread_mutex_unlock(&srv->lock);
	return rc;
}

// Reads what changed in the store since srv->seen through st and applies it. 0;
// COLL_STORE_CHANGES_UNKNOWN when the store cannot tell; -1 on failure (srv->seen is then not
// valid when the state may hold part of the changes).
static int
apply_store_changes(coll_server *srv, coll_store *st)
{
	store_changes     c  = { .verdict = NULL, .summary = NULL };
	coll_store_loader ld = { .on_host = changed_host,
		.on_latest                = changed_latest,
		.on_verdict               = changed_verdict,
		.arg                      = &c };
	int               rc;

	coll_ops_init(&c.rows);
	rc = coll_store_load_changes(st, &ld, &srv->seen);
	if (rc == 0 && apply_changes(srv, &c) != 0) {
		// Part applied: only a full load can tell what the state is.
		srv->seen.valid = false;
		rc              = -1;
	}
	if (rc == 0) {
		fl_log(FL_LOG_DEBUG, "role", "standby: %zu rows changed since the last refresh",
		    c.rows.n);
	}
	coll_ops_fini(&c.rows);
	free(c.verdict);
	free(c.summary);
	return rc;
}

// Brings the server's state up to the store through st: only what changed since the last load
// when the store can tell (PostgreSQL's change stamps, docs/store.md), else everything; and
// everything at least every ROLE_FULL_LOAD_US, whatever the stamps say. 0, or -1 with err.
static int
catch_up(coll_server *srv, coll_store *st, char *err, size_t errlen)
{
	const char *why = "no earlier load to follow";

	if (srv->seen.valid && fl_mono_us() - srv->full_load_us >= ROLE_FULL_LOAD_US) {
		why = "the periodic full load";
	} else if (srv->seen.valid) {
		int rc = apply_store_changes(srv, st);
		if (rc == 0) {
			return 0;
		}
		if (rc < 0) {
			snprintf(err, errlen, "cannot read the changes from the store");
			return -1;
		}
		why = "a row deleted or the lease taken since the last one";
	}
	fl_log(FL_LOG_DEBUG, "role", "standby: loading the whole state (%s)", why);
	return load_shared_state(srv, st, err, errlen);
}

// A take-over's state: what the standby kept, brought up to the store, when the only lease
// taken since its last refresh is this one (it refreshed at epoch - 1, or already at epoch: a
// refresh can run between the lease's bump and the role thread seeing it): every write of the
// active it followed ended before this epoch began (the fence), so the changes since cover
// them all. Otherwise everything, through w (fenced at epoch). 0, or -1 with err.
static int
take_over_state(
    coll_server *srv, coll_store *w, int64_t epoch, bool *caught_up, char *err, size_t errlen)
{
	int rc = -1;

	*caught_up = false;
	if (srv->refresher != NULL && srv->seen.valid &&
	    (srv->seen.epoch == epoch - 1 || srv->seen.epoch == epoch) &&
	    fl_mono_us() - srv->full_load_us < ROLE_FULL_LOAD_US) {
		srv->seen.epoch = epoch;
		rc              = apply_store_changes(srv, srv->refresher);
		*caught_up      = rc == 0;
	}
	if (rc != 0) {
		rc = load_shared_state(srv, w, err, errlen);
	}
	if (rc == 0) {
		pthread_mutex_lock(&srv->lock);
		coll_state_restored_at(&srv->state, fl_now_us());
		pthread_mutex_unlock(&srv->lock);
	}
	srv->seen.valid = false; // from now on the state runs ahead of the store, not behind it
	return rc;
}

static int
listen_reports(coll_server *srv, char *err, size_t errlen)
{
	nng_listener l;
	int          port;

	if (coll_listen_on(
	        srv->reports, srv->cfg.listen, &srv->tls, "reports", &l, &port, err, errlen) != 0) {
		return -1;
	}
	srv->listen_port = port;
	coll_watch_listener(srv->watch, 0, l, srv->cfg.listen, port);
	return 0;
}

// Becomes active at epoch: the writer fenced at it before anything is written, the state
// brought up to the store (take_over_state), then the notifier, the verifier and survey, the report
// listener and the ingest thread. 0, or -1 with err (what opened is closed again).
static int
take_over(coll_server *srv, int64_t epoch, char *err, size_t errlen)
{
	coll_store *w  = NULL;
	int64_t     t0 = fl_mono_us();
	bool        caught_up;
	size_t      n_hosts;
	fl_sql_opts o;

	coll_config_sql_opts(&srv->cfg, false, "faultline-collector", &o);
	if (coll_store_open(&o, &w, err, errlen) != 0) {
		return -1;
	}
	if (fl_sql_engine_of(coll_store_sql(w)) == FL_SQL_PGSQL) {
		fl_sql_set_fence(coll_store_sql(w), epoch);
	}
	if (take_over_state(srv, w, epoch, &caught_up, err, errlen) != 0) {
		coll_store_close(w);
		return -1;
	}
	srv->writer = w;
	coll_mutes_set_fence(srv->mutes, epoch);
	(void) coll_mutes_reload(srv->mutes, fl_now_us());
	coll_exporter_set_fence(srv->exporter, epoch); // carries on from the stored counters
	if (coll_parts_open_notify(srv, err, errlen) != 0 ||
	    coll_parts_open_probe_now(srv, err, errlen) != 0 ||
	    listen_reports(srv, err, errlen) != 0) {
		stop_active_parts(srv);
		return -1;
	}
	atomic_store(&srv->ingest_stop, 0);
	if (pthread_create(&srv->ingest_tid, NULL, coll_ingest_main, srv) != 0) {
		snprintf(err, errlen, "cannot start ingest thread");
		stop_active_parts(srv);
		return -1;
	}
	srv->ingest_started = true;
	atomic_store(&srv->active, true);
	pthread_mutex_lock(&srv->lock);
	n_hosts = srv->state.n_hosts;
	pthread_mutex_unlock(&srv->lock);
	fl_log(FL_LOG_NOTICE, "role",
	    "active (lease epoch %lld): %zu hosts %s, listening on %s (took over in %lld ms)",
	    (long long) epoch, n_hosts, caught_up ? "kept, caught up with the store" : "loaded",
	    srv->cfg.listen, (long long) ((fl_mono_us() - t0) / 1000));
	return 0;
}

// A standby's view of the store: brought up to it on the refresh period (catch_up) so that the
// CLI's answers are current. A failure is logged at most every ROLE_LOG_EVERY_US; the connection is
// opened again next time.
static void
refresh(coll_server *srv, int64_t *logged_us)
{
	char        err[512];
	int64_t     mono = fl_mono_us();
	fl_sql_opts o;

	coll_config_sql_opts(&srv->cfg, true, "faultline-collector-standby", &o);
	(void) coll_mutes_reload(srv->mutes, fl_now_us()); // the active's mutes, as diagnose shows
	if ((srv->refresher == NULL &&
	        coll_store_open(&o, &srv->refresher, err, sizeof(err)) != 0) ||
	    catch_up(srv, srv->refresher, err, sizeof(err)) != 0) {
		coll_store_close(srv->refresher);
		srv->refresher = NULL;
		if (*logged_us == 0 || mono - *logged_us >= ROLE_LOG_EVERY_US) {
			fl_log(
			    FL_LOG_WARN, "role", "standby: cannot read the shared state: %s", err);
			*logged_us = mono;
		}
	}
}

static void
act(coll_server *srv, coll_role_action a, int64_t epoch, int64_t *logged_us)
{
	char err[512];

	switch (a) {
	case COLL_ROLE_STEP_DOWN:
		// Logged first: a stop may wait on a write stuck on a cut link (the fence refuses
		// it once it gets through).
		fl_log(FL_LOG_WARN, "role",
		    "standby: lost the lease; stopping reports, surveys and notifications");
		stop_active_parts(srv);
		coll_lease_keeper_drop(srv->lease);
		fl_log(FL_LOG_NOTICE, "role", "standby: the active's parts are stopped");
		break;
	case COLL_ROLE_TAKE_OVER:
		if (take_over(srv, epoch, err, sizeof(err)) != 0) {
			fl_log(
			    FL_LOG_ERR, "role", "cannot take over: %s; giving the lease up", err);
			pthread_mutex_lock(&srv->lock);
			coll_role_take_over_failed(&srv->role, fl_now_us());
			pthread_mutex_unlock(&srv->lock);
			coll_lease_keeper_drop(srv->lease);
		}
		break;
	case COLL_ROLE_REFRESH: {
		int64_t t0 = fl_mono_us();
		int64_t took;
		size_t  n_hosts;
		refresh(srv, logged_us);
		took = fl_mono_us() - t0;
		pthread_mutex_lock(&srv->lock);
		coll_role_refreshed(&srv->role, took, fl_now_us());
		n_hosts = srv->state.n_hosts;
		pthread_mutex_unlock(&srv->lock);
		// What bench/collector/standby.sh reads: a standby's cost is its refreshes.
		fl_log(FL_LOG_DEBUG, "role", "standby: refreshed the state in %lld ms (%zu hosts)",
		    (long long) (took / 1000), n_hosts);
		break;
	}
	case COLL_ROLE_NOTHING:
		break;
	}
}

static void *
role_main(void *arg)
{
	coll_server *srv       = arg;
	int64_t      logged_us = 0;

	while (!atomic_load(&srv->role_stop) && !atomic_load(&srv->stopping)) {
		coll_lease_view  v = coll_lease_keeper_view(srv->lease, fl_mono_us());
		coll_role_action a;
		char             holder[COLL_NAME_MAX];

		coll_lease_keeper_holder(srv->lease, holder, sizeof(holder));
		pthread_mutex_lock(&srv->lock);
		a = coll_role_tick(&srv->role, &v, fl_now_us());
		(void) fl_str_copy_trunc(srv->active_name, sizeof(srv->active_name),
		    srv->role.role == COLL_ROLE_ACTIVE ? srv->cfg.name : holder);
		pthread_mutex_unlock(&srv->lock);
		act(srv, a, v.epoch, &logged_us);
		coll_role_free_retired(srv);
		struct timespec ts = { 0, ROLE_TICK_MS * 1000000L };
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int
coll_role_start(coll_server *srv, char *err, size_t errlen)
{
	coll_lease_opts o = { .name = srv->cfg.name, .timeout_us = srv->cfg.lease_timeout_us };

	coll_config_sql_opts(&srv->cfg, false, "faultline-collector-lease", &o.db);
	o.db.target     = coll_role_lease_target(&srv->cfg);
	o.db.timeout_ms = 0; // the lease's own: half the lease timeout

	if (coll_lease_keeper_start(&o, &srv->lease, err, errlen) != 0) {
		return -1;
	}
	if (pthread_create(&srv->role_tid, NULL, role_main, srv) != 0) {
		snprintf(err, errlen, "cannot start the role thread");
		coll_lease_keeper_stop(srv->lease);
		srv->lease = NULL;
		return -1;
	}
	srv->role_started = true;
	fl_log(FL_LOG_NOTICE, "role", "standby as %s: waiting for the lease (timeout %lld ms)",
	    srv->cfg.name, (long long) (srv->cfg.lease_timeout_us / 1000));
	return 0;
}

void
coll_role_stop(coll_server *srv)
{
	atomic_store(&srv->role_stop, 1);
	if (srv->role_started) {
		pthread_join(srv->role_tid, NULL);
		srv->role_started = false;
	}
	coll_store_close(srv->refresher);
	srv->refresher = NULL;
}

void
coll_role_release(coll_server *srv)
{
	atomic_store(&srv->active, srv->lease == NULL); // single stays as it was
	coll_lease_keeper_end(srv->lease); // freed with the server: other threads may still look
}

void
coll_role_free(coll_server *srv)
{
	coll_lease_keeper_stop(srv->lease);
	srv->lease = NULL;
}
