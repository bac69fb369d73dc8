// watchdog.c - see watchdog.h.

#include "watchdog.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fl/log.h"
#include "fl/time.h"
#include "listen.h"

#define WATCH_EVERY_MS 500
#define WATCH_WAIT_MS  500
#define WATCH_MISSES   2

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
	if (coll_listen_on(w->sock, w->url, NULL, w->what, &l, &port, err, sizeof(err)) != 0) {
		fl_log(FL_LOG_ERR, "server", "%s (retrying in %d ms)", err, WATCH_EVERY_MS);
		l = (nng_listener) NNG_LISTENER_INITIALIZER;
	}
	pthread_mutex_lock(&wt->lock);
	if (!w->on) {
		// Closed meanwhile (coll_watch_close_listener: the collector stepped down).
		nng_listener_close(l);
		return;
	}
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
			if (!w->on) {
				w->misses = 0; // closed while probing: nothing to cure
				continue;
			}
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

coll_watch *
coll_watch_new(atomic_uint_fast64_t *fd_exhausted)
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
	wt->fd_exhausted = fd_exhausted;
	return wt;
}

int
coll_watch_socket(coll_watch *wt, size_t i, const char *what, nng_socket s,
    int (*open_peer)(nng_socket *), size_t max_conns, coll_pipes **pipes)
{
	watched *w   = &wt->w[i];
	w->wt        = wt;
	w->what      = what;
	w->sock      = s;
	w->open_peer = open_peer;
	return coll_pipes_attach(s, what, max_conns, on_pipe_added, w, pipes);
}

void
coll_watch_listener(coll_watch *wt, size_t i, nng_listener l, const char *url, int bound_port)
{
	watched *w = &wt->w[i];
	bool     on;
	pthread_mutex_lock(&wt->lock);
	w->l      = l;
	w->misses = 0;
	w->on = on = watch_urls(w, url, bound_port);
	pthread_mutex_unlock(&wt->lock);
	if (!on) {
		fl_log(FL_LOG_INFO, "server",
		    "not watching the %s listener on %s (only ipc and tcp are probed)", w->what,
		    url);
	}
}

void
coll_watch_close_listener(coll_watch *wt, size_t i)
{
	watched     *w = &wt->w[i];
	nng_listener l;

	pthread_mutex_lock(&wt->lock);
	w->on     = false;
	w->misses = 0;
	l         = w->l;
	w->l      = (nng_listener) NNG_LISTENER_INITIALIZER;
	pthread_mutex_unlock(&wt->lock);
	if (nng_listener_id(l) > 0) {
		nng_listener_close(l); // and with it the connections it accepted
	}
}

void
coll_watch_request_stop(coll_watch *wt)
{
	if (wt == NULL) {
		return;
	}
	pthread_mutex_lock(&wt->lock);
	wt->stopping = true;
	pthread_cond_broadcast(&wt->cv);
	pthread_mutex_unlock(&wt->lock);
}

void
coll_watch_stop(coll_watch *wt)
{
	if (wt == NULL || !wt->started) {
		return;
	}
	coll_watch_request_stop(wt);
	pthread_join(wt->tid, NULL);
	wt->started = false;
}

void
coll_watch_free(coll_watch *wt)
{
	if (wt == NULL) {
		return;
	}
	pthread_cond_destroy(&wt->cv);
	pthread_mutex_destroy(&wt->lock);
	free(wt);
}

int
coll_watch_start(coll_watch *wt)
{
	if (pthread_create(&wt->tid, NULL, watch_main, wt) != 0) {
		return -1;
	}
	wt->started = true;
	return 0;
}

bool
coll_watch_closing_for(coll_watch *wt, int64_t limit_us)
{
	if (wt == NULL || !wt->started) {
		return false;
	}
	int64_t since = atomic_load(&wt->closing_us);
	return since != 0 && fl_mono_us() - since > limit_us;
}
