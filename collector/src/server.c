// server.c - see server.h.

#include "server.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "auth.h"
#include "control.h"
#include "exporter.h"
#include "fl/log.h"
#include "fl/time.h"
#include "fl/wire.h"
#include "hub.h"
#include "ingest.h"
#include "listen.h"
#include "notify.h"
#include "notify_mute.h"
#include "pipes.h"
#include "rejects.h"
#include "server_role.h"
#include "survey.h"
#include "verify.h"
#include "watchdog.h"

// Writes what the control thread decided after the ingest thread's last batch (a forget
// answered just before the stop). Only once both threads have ended.
static void
write_pending(coll_server *srv)
{
	if (srv->writer != NULL && srv->pending.n > 0) {
		coll_store_write(srv->writer, &srv->pending);
	}
}

static void
free_server(coll_server *srv)
{
	write_pending(srv);
	coll_ops_fini(&srv->pending);
	coll_pipes_free(srv->report_pipes);
	coll_pipes_free(srv->control_pipes);
	coll_pipes_free(srv->survey_pipes);
	coll_store_close(srv->reader);
	coll_store_close(srv->writer);
	coll_state_fini(&srv->state);
	fl_keyring_free(srv->keyring);
	coll_rejects_free(srv->rejects);
	coll_watch_free(srv->watch);
	coll_role_free(srv);
	pthread_mutex_destroy(&srv->parts_lock);
	pthread_mutex_destroy(&srv->lock);
	coll_diag_share_fini(&srv->diag);
	free(srv);
}

// The signature gate (auth.h) in front of srv->pull, with the keys already loaded.
static int
open_auth(coll_server *srv, char *err, size_t errlen)
{
	coll_auth_deps d = { .url = srv->cfg.listen,
		.recv_max         = srv->cfg.recv_max,
		.keys_dir         = srv->cfg.keys_dir,
		.ingest           = srv->pull,
		.state            = { .lock = &srv->lock, .state = &srv->state },
		.rejects          = srv->rejects,
		.kr               = srv->keyring,
		.tls              = &srv->tls };
	return coll_auth_open(&d, &srv->auth, err, errlen);
}

// A server with cfg copied and its state, lock and bookkeeping initialised; nothing open yet.
// NULL when out of memory.
static coll_server *
server_new(const coll_config *cfg)
{
	coll_server *srv = calloc(1, sizeof(*srv));

	if (srv == NULL) {
		return NULL;
	}
	srv->cfg = *cfg;
	srv->tls = (fl_tls_opts) { .ca_file = srv->cfg.tls_ca,
		.cert_file                  = srv->cfg.tls_cert,
		.key_file = srv->cfg.tls_key[0] != '\0' ? srv->cfg.tls_key : NULL };
	pthread_mutex_init(&srv->lock, NULL);
	pthread_mutex_init(&srv->parts_lock, NULL);
	coll_diag_share_init(&srv->diag);
	coll_role_init(&srv->role, coll_role_lease_target(cfg) != NULL, fl_now_us());
	atomic_init(&srv->active, srv->role.role == COLL_ROLE_SINGLE);
	atomic_init(&srv->ingest_stop, 0);
	atomic_init(&srv->role_stop, 0);
	coll_state_init(&srv->state, fl_now_us());
	srv->state.max_hosts  = cfg->max_hosts;
	srv->state.max_probes = cfg->max_probes_per_host;
	atomic_init(&srv->stopping, 0);
	if ((srv->rejects = coll_rejects_new()) == NULL ||
	    (srv->watch = coll_watch_new(&srv->fd_exhausted)) == NULL) {
		free_server(srv);
		return NULL;
	}
	return srv;
}

// Opens the store's two connections and loads the state from it. 0, or -1 with err.
static int
load_state(coll_server *srv, char *err, size_t errlen)
{
	const char       *path = srv->cfg.state;
	fl_sql_opts       wo, ro;
	coll_store_loader ld = { .on_host = coll_state_restore_host,
		.on_latest                = coll_state_restore_latest,
		.on_verdict               = coll_state_restore_verdict,
		.arg                      = &srv->state };

	coll_config_sql_opts(&srv->cfg, false, "faultline-collector", &wo);
	coll_config_sql_opts(&srv->cfg, true, "faultline-collector-control", &ro);
	if (coll_store_open(&wo, &srv->writer, err, errlen) != 0 ||
	    coll_store_open(&ro, &srv->reader, err, errlen) != 0) {
		return -1;
	}
	if (coll_store_load(srv->writer, &ld) != 0) {
		snprintf(err, errlen, "cannot load state from %s", path);
		return -1;
	}
	fl_log(FL_LOG_INFO, "server", "loaded %zu hosts from %s", srv->state.n_hosts, path);
	if (srv->state.not_restored > 0) {
		fl_log(FL_LOG_WARN, "server",
		    "cannot keep %zu more hosts from %s: max_hosts is %zu (the longest silent "
		    "are left out)",
		    srv->state.not_restored, path, srv->state.max_hosts);
	}
	return 0;
}

// Opens the report (PULL) and control (REP) sockets, not yet listening. 0, or -1 with err (then
// neither is open).
static int
open_sockets(coll_server *srv, char *err, size_t errlen)
{
	int rv;

	// The report socket accepts messages up to recv_max (at most twice the wire limit, so that
	// a message somewhat too big can still reach the decoder and be counted as oversize);
	// beyond it nng drops the connection itself (nng 1.5 gives no hook to count those). A
	// peer that stalls mid-message pins at most recv_max, per connection (pipes.h).
	if ((rv = nng_pull0_open(&srv->pull)) != 0 ||
	    (rv = fl_wire_socket_limits(srv->pull)) != 0 ||
	    (rv = nng_socket_set_size(srv->pull, NNG_OPT_RECVMAXSZ, srv->cfg.recv_max)) != 0 ||
	    (rv = nng_socket_set_ms(srv->pull, NNG_OPT_RECVTIMEO, COLL_STALE_TICK_US / 1000)) !=
	        0) {
		snprintf(err, errlen, "cannot open report socket: %s", nng_strerror(rv));
		return -1;
	}
	// Requests are a few hundred bytes: a control peer stalled mid-message pins little.
	if ((rv = nng_rep0_open(&srv->rep)) != 0 ||
	    (rv = nng_socket_set_size(srv->rep, NNG_OPT_RECVMAXSZ, COLL_CONTROL_RECV_MAX)) != 0) {
		snprintf(err, errlen, "cannot open control socket: %s", nng_strerror(rv));
		nng_close(srv->pull);
		return -1;
	}
	return 0;
}

// Listens for reports and control requests, every connection bounded and watched. With
// keys_dir the signature gate (auth.h) owns the report listener and feeds srv->pull over
// inproc; without it agents connect to srv->pull directly. *pull_l and *rep_l are the
// listeners, for the watchdog. 0, or -1 with err.
static int
listen_all(coll_server *srv, nng_listener *pull_l, nng_listener *rep_l, char *err, size_t errlen)
{
	const coll_config *cfg     = &srv->cfg;
	nng_socket         reports = srv->pull;
	int                rv;

	if (cfg->keys_dir[0] != '\0') {
		if (fl_keyring_open(cfg->keys_dir, &srv->keyring, err, errlen) != 0 ||
		    open_auth(srv, err, errlen) != 0) {
			return -1;
		}
		reports          = coll_auth_socket(srv->auth);
		*pull_l          = coll_auth_listener(srv->auth);
		srv->listen_port = coll_auth_port(srv->auth);
	}
	if ((rv = coll_watch_socket(srv->watch, 0, "reports", reports, nng_push0_open,
	         cfg->max_connections, &srv->report_pipes)) != 0 ||
	    (rv = coll_watch_socket(srv->watch, 1, "control", srv->rep, nng_req0_open,
	         COLL_CONTROL_MAX_CONNS, &srv->control_pipes)) != 0) {
		snprintf(err, errlen, "cannot watch sockets: %s", nng_strerror(rv));
		return -1;
	}
	srv->reports = reports;
	if ((srv->auth == NULL && atomic_load(&srv->active) &&
	        coll_listen_on(srv->pull, cfg->listen, &srv->tls, "reports", pull_l,
	            &srv->listen_port, err, errlen) != 0) ||
	    coll_listen_on(srv->rep, cfg->control, &srv->tls, "control", rep_l, &srv->control_port,
	        err, errlen) != 0) {
		return -1;
	}
	return srv->auth != NULL ? coll_auth_start(srv->auth, err, errlen) : 0;
}

// Mutes and (single: the active's part from the start) the notifier, before ingest and the
// verifier, which hand the notifier diagnoses and verifications. 0, or -1 with err.
static int
open_notify(coll_server *srv, char *err, size_t errlen)
{
	fl_sql_opts state;

	coll_config_sql_opts(&srv->cfg, false, "faultline-collector-notify", &state);
	if (coll_mutes_open(&state, fl_now_us(), &srv->mutes, err, errlen) != 0) {
		return -1;
	}
	return atomic_load(&srv->active) ? coll_parts_open_notify(srv, err, errlen) : 0;
}

// Stops the notifier (after the verifier and ingest, which call it; its outbox is durable)
// and, when no control worker can still use them, the mutes.
static void
close_notify(coll_server *srv, bool close_mutes)
{
	srv->state.on_diagnosis = NULL;
	coll_exporter_set_notify_source(srv->exporter, NULL, NULL);
	coll_notify_stop(srv->notify);
	srv->notify = NULL;
	if (close_mutes) {
		coll_mutes_close(srv->mutes);
		srv->mutes = NULL;
	}
}

// Probe now: the SURVEYOR (when cfg.survey is set) and the verifier, before the control thread
// can ask; a standby opens them only when it takes over. 0, or -1 with err.
static int
open_probe_now(coll_server *srv, char *err, size_t errlen)
{
	return atomic_load(&srv->active) ? coll_parts_open_probe_now(srv, err, errlen) : 0;
}

// Starts the control thread (with its reply contexts) and the watchdog, once ingest runs. On
// failure the caller stops the server. 0, or -1 with err.
static int
start_control(coll_server *srv, char *err, size_t errlen)
{
	if (coll_control_open(srv, err, errlen) != 0) {
		return -1;
	}
	if (pthread_create(&srv->control_tid, NULL, coll_control_main, srv) != 0) {
		snprintf(err, errlen, "cannot start control thread");
		return -1;
	}
	srv->control_started = true;
	if (coll_watch_start(srv->watch) != 0) {
		snprintf(err, errlen, "cannot start listener watchdog thread");
		return -1;
	}
	return 0;
}

int
coll_server_start(const coll_config *cfg, coll_server **out, char *err, size_t errlen)
{
	coll_server *srv;
	nng_listener pull_l, rep_l;

	if ((srv = server_new(cfg)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (load_state(srv, err, errlen) != 0 || open_sockets(srv, err, errlen) != 0) {
		free_server(srv);
		return -1;
	}
	if (!atomic_load(&srv->active)) {
		// Standby: the writer (which applied the schema) reopens, fenced, at a take-over.
		coll_store_close(srv->writer);
		srv->writer = NULL;
	}
	if (listen_all(srv, &pull_l, &rep_l, err, errlen) != 0 ||
	    open_notify(srv, err, errlen) != 0 || open_probe_now(srv, err, errlen) != 0) {
		goto fail_sockets;
	}
	if (atomic_load(&srv->active)) {
		coll_watch_listener(srv->watch, 0, pull_l, cfg->listen, srv->listen_port);
	} else if (srv->auth != NULL) {
		coll_watch_listener(srv->watch, 0, pull_l, cfg->listen, srv->listen_port);
		coll_watch_close_listener(srv->watch, 0); // the gate listens at once; a standby not
	}
	coll_watch_listener(srv->watch, 1, rep_l, cfg->control, srv->control_port);
	if (atomic_load(&srv->active)) {
		if (pthread_create(&srv->ingest_tid, NULL, coll_ingest_main, srv) != 0) {
			snprintf(err, errlen, "cannot start ingest thread");
			goto fail_sockets;
		}
		srv->ingest_started = true;
	}
	if (start_control(srv, err, errlen) != 0) {
		coll_server_stop(srv);
		return -1;
	}
	if (coll_exporter_start(srv, &srv->exporter, err, errlen) != 0) {
		coll_server_stop(srv);
		return -1;
	}
	if (srv->notify != NULL) {
		coll_exporter_set_notify_source(
		    srv->exporter, coll_notify_metrics_source, srv->notify);
	}
	if (srv->role.role != COLL_ROLE_SINGLE) {
		coll_exporter_set_fence(srv->exporter, -1); // a standby saves no counters
	}
	if (srv->role.role != COLL_ROLE_SINGLE && coll_role_start(srv, err, errlen) != 0) {
		coll_server_stop(srv);
		return -1;
	}
	*out = srv;
	return 0;

fail_sockets:
	coll_verify_stop(srv->verify);
	close_notify(srv, true);
	coll_survey_free(srv->survey);
	coll_auth_free(srv->auth);
	nng_close(srv->pull);
	nng_close(srv->rep);
	free_server(srv);
	return -1;
}

bool
coll_server_wedged(coll_server *srv)
{
	return !atomic_load(&srv->stopping) && coll_watch_closing_for(srv->watch, COLL_WEDGED_US);
}

static atomic_bool state_written;

bool
coll_server_state_written(void)
{
	return atomic_load(&state_written);
}

// Waits up to ms for the slow control requests' worker threads (control.c) to end. True if
// they all did.
static bool
wait_slow_jobs(coll_server *srv, int ms)
{
	for (int i = 0; i < ms / 25 && atomic_load(&srv->slow_jobs) > 0; i++) {
		struct timespec ts = { 0, 25 * 1000000L };
		nanosleep(&ts, NULL);
	}
	return atomic_load(&srv->slow_jobs) == 0;
}

void
coll_server_stop(coll_server *srv)
{
	bool workers_done;

	if (srv == NULL) {
		return;
	}
	// Phase 1, no socket closed: every thread notices `stopping` within a poll (ingest and
	// control receive with 250 ms timeouts, surveys check every COLL_SURVEY_POLL_MS), so the
	// data is written and SQLite closed whatever nng is doing. nng_close can wait on a peer
	// for a long time (nng 1.5.2: a pipe still writing a large reply, a handshake in progress);
	// it comes last, under the caller's deadline (main.c).
	coll_role_stop(srv); // the parts stay as they are: active or standby, stopped below
	atomic_store(&srv->stopping, 1);
	coll_survey_close(srv->survey);
	coll_watch_request_stop(srv->watch);
	if (srv->ingest_started) {
		pthread_join(srv->ingest_tid, NULL); // writes what is pending
		srv->ingest_started = false;
	}
	if (srv->control_started) {
		pthread_join(srv->control_tid, NULL);
		srv->control_started = false;
	}
	workers_done = wait_slow_jobs(srv, COLL_STOP_WORKERS_MS);
	coll_verify_stop(srv->verify);
	srv->verify = NULL;
	coll_exporter_save_final(srv->exporter);
	close_notify(srv, workers_done);
	if (workers_done) {
		write_pending(srv);
		coll_ops_fini(&srv->pending);
		coll_store_close(srv->reader);
		coll_store_close(srv->writer);
		srv->reader = srv->writer = NULL;
		coll_role_free_retired(srv);
	}
	coll_role_release(srv); // after the last write: a standby takes over at its next try
	atomic_store(&state_written, true);
	fl_log(FL_LOG_DEBUG, "server", "state written; closing sockets");

	// Phase 2: sockets. Tests stand in for a wedged nng here (tests/reliability/stop_test.sh).
	const char *stall = getenv("FL_TEST_STOP_STALL_MS");
	if (stall != NULL) {
		struct timespec ts = { atoi(stall) / 1000, (atoi(stall) % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
	// The watchdog first, so that it cannot listen again on a socket being
	// closed; the signature gate before the socket it feeds (it may be blocked sending to it).
	coll_watch_stop(srv->watch);
	coll_exporter_stop(srv->exporter);
	srv->exporter = NULL;
	coll_auth_free(srv->auth);
	srv->auth = NULL;
	fl_log(FL_LOG_DEBUG, "server", "closing the report socket");
	nng_close(srv->pull);
	fl_log(FL_LOG_DEBUG, "server", "closing the control socket");
	nng_close(srv->rep);
	fl_log(FL_LOG_DEBUG, "server", "closing the survey socket");
	coll_survey_free(srv->survey);
	srv->survey = NULL;
	if (!workers_done && !wait_slow_jobs(srv, COLL_STOP_WORKERS_MS)) {
		// A worker still uses the server: leave it allocated, the process is exiting.
		fl_log(FL_LOG_WARN, "server", "a probe-now or verify request did not end in time");
		return;
	}
	coll_mutes_close(srv->mutes); // when the workers ended only now
	srv->mutes = NULL;
	coll_control_free(srv);
	free_server(srv);
}
