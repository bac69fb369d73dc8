// server.c - see server.h.

#include "server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/reqrep0/rep.h>

#include "fl/log.h"
#include "fl/time.h"
#include "fl/wire.h"

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

static int
listen_on(nng_socket s, const char *url, const char *what, int *port, char *err, size_t errlen)
{
	nng_listener l;
	int          rv;
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
		return -1;
	}
	*port = 0;
	if (strncmp(url, "tcp", 3) == 0) {
		nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, port);
	}
	if (*port != 0) {
		fl_log(FL_LOG_INFO, "server", "listening for %s on %s (port %d)", what, url, *port);
	} else {
		fl_log(FL_LOG_INFO, "server", "listening for %s on %s", what, url);
	}
	return 0;
}

static void
free_server(coll_server *srv)
{
	coll_store_close(srv->reader);
	coll_store_close(srv->writer);
	coll_state_fini(&srv->state);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
}

int
coll_server_start(const coll_config *cfg, coll_server **out, char *err, size_t errlen)
{
	coll_server      *srv;
	coll_store_loader ld;
	int               rv;

	if ((srv = calloc(1, sizeof(*srv))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	srv->cfg = *cfg;
	pthread_mutex_init(&srv->lock, NULL);
	coll_state_init(&srv->state, fl_now_us());
	atomic_init(&srv->stopping, 0);

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

	// The report socket accepts up to twice the wire limit so that a message somewhat too big
	// still reaches the decoder and is counted as oversize; beyond that nng drops the
	// connection itself (nng 1.5 gives no hook to count those). Memory stays bounded either
	// way.
	if ((rv = nng_pull0_open(&srv->pull)) != 0 ||
	    (rv = fl_wire_socket_limits(srv->pull)) != 0 ||
	    (rv = nng_socket_set_size(srv->pull, NNG_OPT_RECVMAXSZ, 2 * FL_WIRE_MAX_MSG)) != 0 ||
	    (rv = nng_socket_set_ms(srv->pull, NNG_OPT_RECVTIMEO, COLL_STALE_TICK_US / 1000)) !=
	        0) {
		snprintf(err, errlen, "cannot open report socket: %s", nng_strerror(rv));
		goto fail;
	}
	if ((rv = nng_rep0_open(&srv->rep)) != 0 || (rv = fl_wire_socket_limits(srv->rep)) != 0) {
		snprintf(err, errlen, "cannot open control socket: %s", nng_strerror(rv));
		nng_close(srv->pull);
		goto fail;
	}
	if (listen_on(srv->pull, cfg->listen, "reports", &srv->listen_port, err, errlen) != 0 ||
	    listen_on(srv->rep, cfg->control, "control", &srv->control_port, err, errlen) != 0) {
		goto fail_sockets;
	}
	if (pthread_create(&srv->ingest_tid, NULL, coll_ingest_main, srv) != 0) {
		snprintf(err, errlen, "cannot start ingest thread");
		goto fail_sockets;
	}
	srv->ingest_started = true;
	if (pthread_create(&srv->control_tid, NULL, coll_control_main, srv) != 0) {
		snprintf(err, errlen, "cannot start control thread");
		coll_server_stop(srv);
		return -1;
	}
	srv->control_started = true;
	*out                 = srv;
	return 0;

fail_sockets:
	nng_close(srv->pull);
	nng_close(srv->rep);
fail:
	free_server(srv);
	return -1;
}

void
coll_server_stop(coll_server *srv)
{
	if (srv == NULL) {
		return;
	}
	atomic_store(&srv->stopping, 1);
	// Closing a socket wakes its thread with NNG_ECLOSED; ingest then writes what is pending.
	nng_close(srv->pull);
	nng_close(srv->rep);
	if (srv->ingest_started) {
		pthread_join(srv->ingest_tid, NULL);
	}
	if (srv->control_started) {
		pthread_join(srv->control_tid, NULL);
	}
	free_server(srv);
}
