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

#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "auth.h"
#include "exporter.h"
#include "fl/log.h"
#include "fl/time.h"
#include "fl/wire.h"
#include "notify.h"
#include "notify_mute.h"
#include "pipes.h"
#include "rejects.h"
#include "survey.h"
#include "verify.h"

// For ipc:// control: the socket file is the access control (issue 7), so create its directory
// if needed and make the socket owner/group only.
static int
ipc_prepare(const char *url, char *path, size_t pathlen, char *err, size_t errlen)
{
	const char *p = url + strlen("ipc://");
	char        dir[COLL_PATH_MAX];
	char       *slash;

	if (snprintf(path, pathlen, "%s", p) >= (int) pathlen) {
		snprintf(err, errlen, "control path too long");
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", p);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir) {
		return 0;
	}
	*slash = '\0';
	if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

// tls: the collector's TLS files, applied when url is tls+tcp:// (may be NULL otherwise).
static int
listen_on(nng_socket s, const char *url, const fl_tls_opts *tls, const char *what,
    nng_listener *out, int *port, char *err, size_t errlen)
{
	nng_listener l;
	int          rv;
	char         why[512];
	char         path[COLL_PATH_MAX] = "";
	bool         ipc                 = strncmp(url, "ipc://", 6) == 0;

	if (ipc && ipc_prepare(url, path, sizeof(path), err, errlen) != 0) {
		return -1;
	}
	if ((rv = nng_listener_create(&l, s, url)) != 0) {
		snprintf(
		    err, errlen, "cannot listen for %s on %s: %s", what, url, nng_strerror(rv));
		return -1;
	}
	if (fl_tls_url(url) &&
	    (tls == NULL || fl_tls_apply_listener(l, tls, why, sizeof(why)) != 0)) {
		snprintf(err, errlen, "cannot listen for %s on %s: %s", what, url,
		    tls == NULL ? "no TLS files configured" : why);
		nng_listener_close(l);
		return -1;
	}
	if (ipc) {
		// Applied by nng right after bind; the chmod below makes sure, whatever the nng
		// build.
		nng_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS, 0660);
	}
	if ((rv = nng_listener_start(l, 0)) != 0) {
		snprintf(
		    err, errlen, "cannot listen for %s on %s: %s", what, url, nng_strerror(rv));
		nng_listener_close(l);
		return -1;
	}
	if (ipc && chmod(path, 0660) != 0) {
		snprintf(err, errlen, "cannot restrict %s to mode 0660: %s", path, strerror(errno));
		nng_listener_close(l);
		return -1;
	}
	*out  = l;
	*port = 0;
	if (strncmp(url, "tcp", 3) == 0 || strncmp(url, "tls+tcp", 7) == 0) {
		nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, port);
	}
	if (*port != 0) {
		fl_log(FL_LOG_INFO, "server", "listening for %s on %s (port %d)", what, url, *port);
	} else {
		fl_log(FL_LOG_INFO, "server", "listening for %s on %s", what, url);
	}
	return 0;
}

// Listener watchdog.
//
// Why: nng 1.5.2 (Debian 12) has a defect, upstream nng#1518 (fixed in nng 1.6.0 by #1519).
// When a peer goes away while the SP handshake is under way, the ipc transport can hand
// NNG_ECLOSED to the listener's accept loop: writing our SP header to a client that already
// closed fails with EPIPE, which nng maps to NNG_ECLOSED. The listener reads that as "I was
// closed" and never asks the transport for another connection. The transport itself keeps
// accepting and completing handshakes, so every later client connects, sends its request and
// waits for its timeout: the request sits in the transport's queue and never reaches the
// socket. Those parked connections are registered with epoll with no events armed; once their
// client hangs up, EPOLLHUP (which epoll always reports) makes nng's poller thread spin. A
// collector that was stopped (SIGSTOP, a debugger, swap) is certain to hit it: the CLI gives
// up, closes mid-handshake, and the first thing the collector does on resuming is write its
// header to that vanished peer. TCP peers that reset the connection can trigger it too.
//
// Nothing in the 1.5.2 API avoids or reports it, so this thread tests the property itself:
// every WATCH_EVERY_MS it dials each listener with a fresh socket of the peer protocol and
// waits up to WATCH_WAIT_MS for the listening socket to gain a pipe (any pipe: passing a new
// connection to the socket is exactly what a stuck listener can no longer do). If none
// arrives it closes the listener, which drops the parked connections (REQ clients redial and
// resend, so a CLI waiting on one still gets its answer) and stops the spinning, then listens
// again on the same address. A false alarm (nng threads starved for the whole wait) costs one
// re-listen and is logged; requiring WATCH_MISSES failed probes in a row (the second made at once)
// makes one unlikely on a loaded machine while a wedged socket is still cured in under 2 s.
#define WATCH_EVERY_MS 500
#define WATCH_WAIT_MS  500
#define WATCH_MISSES   2

typedef struct coll_watch coll_watch;

typedef struct watched {
	coll_watch  *wt;
	const char  *what; // "reports" or "control", for the log
	nng_socket   sock;
	nng_listener l;
	bool         on;                // false: scheme not probed (e.g. ws://)
	char         url[COLL_URL_MAX]; // listen URL, with the bound port if it said port 0
	char         dial[COLL_URL_MAX];
	int (*open_peer)(nng_socket *);
	uint64_t added;  // pipes added to sock; guarded by wt->lock
	unsigned misses; // failed probes in a row
} watched;

struct coll_watch {
	atomic_llong          closing_us;   // monotonic time a close of ours began; 0: none pending
	atomic_uint_fast64_t *fd_exhausted; // the server's counter
	int64_t               fd_logged_us; // last "out of file descriptors" line (monotonic)
	pthread_mutex_t       lock;
	pthread_cond_t        cv; // a pipe was added, or stopping
	bool                  stopping;
	bool                  started;
	pthread_t             tid;
	watched               w[2]; // reports, control
};

// A connection reached the socket (pipes.h calls this for every one, also those it refuses for
// being over the limit: the listener handed them over all the same).
static void
on_pipe_added(void *arg)
{
	watched *w = arg;
	pthread_mutex_lock(&w->wt->lock);
	w->added++;
	pthread_cond_broadcast(&w->wt->cv);
	pthread_mutex_unlock(&w->wt->lock);
}

// Works out the URL to listen on again (the bound port, so a re-listen keeps the port the
// agents and CLIs know) and the URL to dial to test the listener (loopback for a wildcard
// host). Returns false for a scheme the watchdog does not probe.
static bool
watch_urls(watched *w, const char *url, int bound_port)
{
	nng_url    *u;
	const char *host;
	bool        v6;

	if (strncmp(url, "ipc://", 6) == 0) {
		snprintf(w->url, sizeof(w->url), "%s", url);
		snprintf(w->dial, sizeof(w->dial), "%s", url);
		return true;
	}
	if (strncmp(url, "tcp", 3) != 0 || bound_port <= 0 || nng_url_parse(&u, url) != 0) {
		return false;
	}
	host = u->u_hostname;
	v6   = strchr(host, ':') != NULL;
	snprintf(w->url, sizeof(w->url), v6 ? "%s://[%s]:%d" : "%s://%s:%d", u->u_scheme, host,
	    bound_port);
	if (host[0] == '\0' || strcmp(host, "*") == 0 || strcmp(host, "0.0.0.0") == 0) {
		host = "127.0.0.1";
	} else if (strcmp(host, "::") == 0) {
		host = "::1";
	}
	snprintf(w->dial, sizeof(w->dial), v6 ? "%s://[%s]:%d" : "%s://%s:%d", u->u_scheme, host,
	    bound_port);
	nng_url_free(u);
	return true;
}

// Called with wt->lock held; returns with it held. True if a pipe reached w->sock within
// WATCH_WAIT_MS of dialing it (or we are stopping, or the probe itself could not be made:
// that is no evidence against the listener).
static bool
watch_probe(coll_watch *wt, watched *w)
{
	uint64_t        before = w->added;
	struct timespec deadline;
	nng_socket      peer;
	bool            ok;

	pthread_mutex_unlock(&wt->lock);
	if (w->open_peer(&peer) != 0) {
		pthread_mutex_lock(&wt->lock);
		return true;
	}
	// A blocking dial returns once our side of the handshake is done (a stuck listener still
	// completes it), so the probe is never closed mid-handshake: nng 1.5.2 leaks the pipe of
	// a socket closed then. What matters is only whether a pipe then reaches w->sock. A dial
	// that fails outright (socket file removed, port taken over) fails the probe too, and a
	// re-listen is the cure for that as well.
	if (nng_dial(peer, w->dial, NULL, 0) != 0) {
		nng_close(peer);
		pthread_mutex_lock(&wt->lock);
		return wt->stopping;
	}
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_nsec += (long) WATCH_WAIT_MS * 1000000L;
	deadline.tv_sec += deadline.tv_nsec / 1000000000L;
	deadline.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&wt->lock);
	while (!wt->stopping && w->added == before) {
		if (pthread_cond_timedwait(&wt->cv, &wt->lock, &deadline) != 0) {
			break; // ETIMEDOUT
		}
	}
	ok = wt->stopping || w->added != before;
	pthread_mutex_unlock(&wt->lock);
	atomic_store(&wt->closing_us, fl_mono_us());
	if (getenv("FL_TEST_WEDGE_WATCHDOG") != NULL) {
		// Tests stand in for nng's wedged pipe reaper here
		// (tests/reliability/stop_test.sh): the close below would never return.
		for (;;) {
			pause();
		}
	}
	nng_close(peer);
	atomic_store(&wt->closing_us, 0);
	pthread_mutex_lock(&wt->lock);
	return ok;
}

// Called with wt->lock held; returns with it held.
static void
watch_relisten(coll_watch *wt, watched *w)
{
	nng_listener l;
	char         err[COLL_URL_MAX + 128];
	int          port;

	pthread_mutex_unlock(&wt->lock);
	fl_log(FL_LOG_WARN, "server",
	    "cannot get a new connection through the %s listener within %d ms (nng 1.5.2 stops "
	    "accepting after a peer leaves mid-handshake); listening on %s again",
	    w->what, WATCH_WAIT_MS, w->url);
	atomic_store(&wt->closing_us, fl_mono_us());
	nng_listener_close(w->l); // also drops the connections parked in it
	atomic_store(&wt->closing_us, 0);
	// Only ipc and plain tcp listeners are watched (watch_urls), so no TLS files are needed.
	if (listen_on(w->sock, w->url, NULL, w->what, &l, &port, err, sizeof(err)) != 0) {
		fl_log(FL_LOG_ERR, "server", "%s (retrying in %d ms)", err, WATCH_EVERY_MS);
		l = (nng_listener) NNG_LISTENER_INITIALIZER;
	}
	pthread_mutex_lock(&wt->lock);
	w->l = l;
}

// Out of file descriptors, the probe fails (our dial, or the listener's accept, gets EMFILE)
// though the listener is fine, and listening again would only drop every connection it holds,
// over and over. True when fewer than WATCH_FD_MARGIN descriptors are left.
#define WATCH_FD_MARGIN    8
#define WATCH_FD_LOG_EVERY 10000000LL // one log line per 10 s at most
static bool
fds_exhausted(long *open_fds, long *limit)
{
	struct rlimit rl;
	DIR          *d;
	long          n = 0;

	*open_fds = -1;
	*limit    = -1;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) {
		return false;
	}
	*limit = (long) rl.rlim_cur;
	if ((d = opendir("/proc/self/fd")) == NULL) {
		return errno == EMFILE || errno == ENFILE;
	}
	while (readdir(d) != NULL) {
		n++;
	}
	closedir(d);
	*open_fds = n - 3; // ".", ".." and the directory's own descriptor
	return *open_fds + WATCH_FD_MARGIN >= *limit;
}

// Called with wt->lock held.
static void
note_fd_exhaustion(coll_watch *wt, const watched *w, long open_fds, long limit)
{
	int64_t now = fl_mono_us();
	atomic_fetch_add(wt->fd_exhausted, 1);
	if (wt->fd_logged_us != 0 && now - wt->fd_logged_us < WATCH_FD_LOG_EVERY) {
		return;
	}
	wt->fd_logged_us = now;
	fl_log(FL_LOG_ERR, "server",
	    "out of file descriptors (%ld open, limit %ld): the %s listener cannot accept; not "
	    "listening again, which would drop every connection (raise LimitNOFILE or lower "
	    "max_connections)",
	    open_fds, limit, w->what);
}

static void *
watch_main(void *arg)
{
	coll_watch     *wt = arg;
	struct timespec next;

	pthread_mutex_lock(&wt->lock);
	while (!wt->stopping) {
		clock_gettime(CLOCK_MONOTONIC, &next);
		next.tv_nsec += (long) WATCH_EVERY_MS * 1000000L;
		next.tv_sec += next.tv_nsec / 1000000000L;
		next.tv_nsec %= 1000000000L;
		bool suspect = wt->w[0].misses > 0 || wt->w[1].misses > 0;
		while (!suspect && !wt->stopping &&
		    pthread_cond_timedwait(&wt->cv, &wt->lock, &next) != ETIMEDOUT) {
		}
		for (size_t i = 0; i < 2 && !wt->stopping; i++) {
			watched *w = &wt->w[i];
			if (!w->on) {
				continue;
			}
			bool ok = watch_probe(wt, w);
			long open_fds, limit;
			if (!ok && !wt->stopping && fds_exhausted(&open_fds, &limit)) {
				note_fd_exhaustion(wt, w, open_fds, limit);
				ok = true; // not the listener's fault
			}
			w->misses = ok ? 0 : w->misses + 1;
			if (w->misses >= WATCH_MISSES && !wt->stopping) {
				watch_relisten(wt, w);
				w->misses = 0;
			}
		}
	}
	pthread_mutex_unlock(&wt->lock);
	return NULL;
}

static coll_watch *
watch_alloc(void)
{
	coll_watch        *wt;
	pthread_condattr_t ca;

	if ((wt = calloc(1, sizeof(*wt))) == NULL) {
		return NULL;
	}
	pthread_mutex_init(&wt->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&wt->cv, &ca);
	pthread_condattr_destroy(&ca);
	return wt;
}

// Bounds the connections of s and counts them for the watchdog; before the socket listens, so
// no pipe goes uncounted.
static int
watch_socket(coll_watch *wt, size_t i, const char *what, nng_socket s,
    int (*open_peer)(nng_socket *), size_t max_conns, coll_pipes **pipes)
{
	watched *w   = &wt->w[i];
	w->wt        = wt;
	w->what      = what;
	w->sock      = s;
	w->open_peer = open_peer;
	return coll_pipes_attach(s, what, max_conns, on_pipe_added, w, pipes);
}

static void
watch_listener(coll_watch *wt, size_t i, nng_listener l, const char *url, int bound_port)
{
	watched *w = &wt->w[i];
	w->l       = l;
	w->on      = watch_urls(w, url, bound_port);
	if (!w->on) {
		fl_log(FL_LOG_INFO, "server",
		    "not watching the %s listener on %s (only ipc and tcp are probed)", w->what,
		    url);
	}
}

// Tells the thread to stop after its current probe, without waiting for it.
static void
watch_request_stop(coll_watch *wt)
{
	if (wt == NULL) {
		return;
	}
	pthread_mutex_lock(&wt->lock);
	wt->stopping = true;
	pthread_cond_broadcast(&wt->cv);
	pthread_mutex_unlock(&wt->lock);
}

// Stops the thread; the sockets must still be open (or already closed), never half-way.
static void
watch_stop(coll_watch *wt)
{
	if (wt == NULL || !wt->started) {
		return;
	}
	watch_request_stop(wt);
	pthread_join(wt->tid, NULL);
	wt->started = false;
}

// Only after the sockets are closed: their pipe callbacks use wt.
static void
watch_free(coll_watch *wt)
{
	if (wt == NULL) {
		return;
	}
	pthread_cond_destroy(&wt->cv);
	pthread_mutex_destroy(&wt->lock);
	free(wt);
}

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
	watch_free(srv->watch);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
}

void
coll_server_socket_stats(coll_server *srv, coll_stats *st)
{
	st->control_clients_cut = atomic_load(&srv->control_cut);
	st->control_busy        = atomic_load(&srv->control_busy);
	st->slow_abandoned      = atomic_load(&srv->slow_abandoned);
	st->fd_exhausted        = atomic_load(&srv->fd_exhausted);
	st->connections_refused = (srv->report_pipes ? coll_pipes_refused(srv->report_pipes) : 0) +
	    (srv->control_pipes ? coll_pipes_refused(srv->control_pipes) : 0) +
	    (srv->survey_pipes ? coll_pipes_refused(srv->survey_pipes) : 0);
}

int
coll_server_start(const coll_config *cfg, coll_server **out, char *err, size_t errlen)
{
	coll_server      *srv;
	coll_store_loader ld;
	nng_listener      pull_l, rep_l;
	int               rv;

	if ((srv = calloc(1, sizeof(*srv))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	srv->cfg = *cfg;
	srv->tls = (fl_tls_opts) { .ca_file = srv->cfg.tls_ca,
		.cert_file                  = srv->cfg.tls_cert,
		.key_file = srv->cfg.tls_key[0] != '\0' ? srv->cfg.tls_key : NULL };
	pthread_mutex_init(&srv->lock, NULL);
	coll_state_init(&srv->state, fl_now_us());
	srv->state.max_hosts  = cfg->max_hosts;
	srv->state.max_probes = cfg->max_probes_per_host;
	atomic_init(&srv->stopping, 0);
	if ((srv->rejects = coll_rejects_new()) == NULL || (srv->watch = watch_alloc()) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	srv->watch->fd_exhausted = &srv->fd_exhausted;

	if (coll_store_open(cfg->state, false, &srv->writer, err, errlen) != 0 ||
	    coll_store_open(cfg->state, true, &srv->reader, err, errlen) != 0) {
		goto fail;
	}
	ld = (coll_store_loader) { .on_host = coll_state_restore_host,
		.on_latest                  = coll_state_restore_latest,
		.on_verdict                 = coll_state_restore_verdict,
		.arg                        = &srv->state };
	if (coll_store_load(srv->writer, &ld) != 0) {
		snprintf(err, errlen, "cannot load state from %s", cfg->state);
		goto fail;
	}
	fl_log(FL_LOG_INFO, "server", "loaded %zu hosts from %s", srv->state.n_hosts, cfg->state);
	if (srv->state.not_restored > 0) {
		fl_log(FL_LOG_WARN, "server",
		    "cannot keep %zu more hosts from %s: max_hosts is %zu (the longest silent "
		    "are left out)",
		    srv->state.not_restored, cfg->state, srv->state.max_hosts);
	}

	// The report socket accepts messages up to recv_max (at most twice the wire limit, so that
	// a message somewhat too big can still reach the decoder and be counted as oversize);
	// beyond it nng drops the connection itself (nng 1.5 gives no hook to count those). A
	// peer that stalls mid-message pins at most recv_max, per connection (pipes.h).
	if ((rv = nng_pull0_open(&srv->pull)) != 0 ||
	    (rv = fl_wire_socket_limits(srv->pull)) != 0 ||
	    (rv = nng_socket_set_size(srv->pull, NNG_OPT_RECVMAXSZ, cfg->recv_max)) != 0 ||
	    (rv = nng_socket_set_ms(srv->pull, NNG_OPT_RECVTIMEO, COLL_STALE_TICK_US / 1000)) !=
	        0) {
		snprintf(err, errlen, "cannot open report socket: %s", nng_strerror(rv));
		goto fail;
	}
	// Requests are a few hundred bytes: a control peer stalled mid-message pins little.
	if ((rv = nng_rep0_open(&srv->rep)) != 0 ||
	    (rv = nng_socket_set_size(srv->rep, NNG_OPT_RECVMAXSZ, COLL_CONTROL_RECV_MAX)) != 0) {
		snprintf(err, errlen, "cannot open control socket: %s", nng_strerror(rv));
		nng_close(srv->pull);
		goto fail;
	}
	// Issue 7: with keys_dir the signature gate (auth.h) owns the report listener and feeds
	// srv->pull over inproc; without it agents connect to srv->pull directly.
	nng_socket reports = srv->pull;
	if (cfg->keys_dir[0] != '\0') {
		if (fl_keyring_open(cfg->keys_dir, &srv->keyring, err, errlen) != 0 ||
		    coll_auth_open(srv, srv->keyring, &srv->tls, &srv->auth, err, errlen) != 0) {
			goto fail_sockets;
		}
		reports          = coll_auth_socket(srv->auth);
		pull_l           = coll_auth_listener(srv->auth);
		srv->listen_port = coll_auth_port(srv->auth);
	}
	if ((rv = watch_socket(srv->watch, 0, "reports", reports, nng_push0_open,
	         cfg->max_connections, &srv->report_pipes)) != 0 ||
	    (rv = watch_socket(srv->watch, 1, "control", srv->rep, nng_req0_open,
	         COLL_CONTROL_MAX_CONNS, &srv->control_pipes)) != 0) {
		snprintf(err, errlen, "cannot watch sockets: %s", nng_strerror(rv));
		goto fail_sockets;
	}
	if ((srv->auth == NULL &&
	        listen_on(srv->pull, cfg->listen, &srv->tls, "reports", &pull_l, &srv->listen_port,
	            err, errlen) != 0) ||
	    listen_on(srv->rep, cfg->control, &srv->tls, "control", &rep_l, &srv->control_port, err,
	        errlen) != 0) {
		goto fail_sockets;
	}
	if (srv->auth != NULL && coll_auth_start(srv->auth, err, errlen) != 0) {
		goto fail_sockets;
	}
	// Probe now (issue 6): the SURVEYOR and the verifier, before the control thread can ask.
	if (cfg->survey[0] != '\0' &&
	    coll_survey_open(cfg->survey, &srv->tls, srv->keyring, cfg->max_connections,
	        cfg->recv_max, &srv->survey_pipes, &srv->survey, &srv->survey_port, err,
	        errlen) != 0) {
		goto fail_sockets;
	}
	// Issue 11: before ingest and the verifier, which hand it diagnoses and verifications.
	if (coll_mutes_open(cfg->state, fl_now_us(), &srv->mutes, err, errlen) != 0 ||
	    coll_notify_start(&cfg->notify, cfg->state, srv->mutes, &srv->notify, err, errlen) !=
	        0) {
		goto fail_sockets;
	}
	if (srv->notify != NULL) {
		srv->state.on_diagnosis     = coll_notify_on_diagnosis;
		srv->state.on_diagnosis_arg = srv->notify;
	}
	if (coll_verify_start(srv, srv->survey != NULL, err, errlen) != 0) {
		goto fail_sockets;
	}
	watch_listener(srv->watch, 0, pull_l, cfg->listen, srv->listen_port);
	watch_listener(srv->watch, 1, rep_l, cfg->control, srv->control_port);
	if (pthread_create(&srv->ingest_tid, NULL, coll_ingest_main, srv) != 0) {
		snprintf(err, errlen, "cannot start ingest thread");
		goto fail_sockets;
	}
	srv->ingest_started = true;
	if (coll_control_open(srv, err, errlen) != 0) {
		coll_server_stop(srv);
		return -1;
	}
	if (pthread_create(&srv->control_tid, NULL, coll_control_main, srv) != 0) {
		snprintf(err, errlen, "cannot start control thread");
		coll_server_stop(srv);
		return -1;
	}
	srv->control_started = true;
	if (pthread_create(&srv->watch->tid, NULL, watch_main, srv->watch) != 0) {
		snprintf(err, errlen, "cannot start listener watchdog thread");
		coll_server_stop(srv);
		return -1;
	}
	srv->watch->started = true;
	if (coll_exporter_start(srv, &srv->exporter, err, errlen) != 0) {
		coll_server_stop(srv);
		return -1;
	}
	if (srv->notify != NULL) { // issue 11: faultline_notifications_total
		coll_exporter_set_notify_source(
		    srv->exporter, coll_notify_metrics_source, srv->notify);
	}
	*out = srv;
	return 0;

fail_sockets:
	coll_verify_stop(srv);
	coll_notify_stop(srv->notify); // after the verifier, which calls it
	srv->notify = NULL;
	coll_mutes_close(srv->mutes);
	srv->mutes = NULL;
	coll_survey_free(srv->survey);
	coll_auth_free(srv->auth);
	nng_close(srv->pull);
	nng_close(srv->rep);
fail:
	free_server(srv);
	return -1;
}

bool
coll_server_wedged(coll_server *srv)
{
	coll_watch *wt = srv->watch;
	if (wt == NULL || !wt->started || atomic_load(&srv->stopping)) {
		return false;
	}
	int64_t since = atomic_load(&wt->closing_us);
	return since != 0 && fl_mono_us() - since > COLL_WEDGED_US;
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
	atomic_store(&srv->stopping, 1);
	coll_survey_close(srv->survey);
	watch_request_stop(srv->watch);
	if (srv->ingest_started) {
		pthread_join(srv->ingest_tid, NULL); // writes what is pending
		srv->ingest_started = false;
	}
	if (srv->control_started) {
		pthread_join(srv->control_tid, NULL);
		srv->control_started = false;
	}
	workers_done = wait_slow_jobs(srv, COLL_STOP_WORKERS_MS);
	coll_verify_stop(srv);
	coll_exporter_save_final(srv->exporter);
	// After ingest (which hands it diagnoses) and once no scrape reads it; its outbox is
	// already durable.
	srv->state.on_diagnosis = NULL;
	coll_exporter_set_notify_source(srv->exporter, NULL, NULL);
	coll_notify_stop(srv->notify);
	srv->notify = NULL;
	if (workers_done) {
		coll_mutes_close(srv->mutes); // control and its workers are done with it
		srv->mutes = NULL;
		write_pending(srv);
		coll_ops_fini(&srv->pending);
		coll_store_close(srv->reader);
		coll_store_close(srv->writer);
		srv->reader = srv->writer = NULL;
	}
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
	watch_stop(srv->watch);
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
	coll_control_free(srv);
	free_server(srv);
}
