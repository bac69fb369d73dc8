// listen.c - see listen.h.

#include "listen.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "fl/log.h"

// For ipc:// control: the socket file is the access control (docs/security.md), so create its
// directory if needed and make the socket owner/group only.
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
int
coll_listen_on(nng_socket s, const char *url, const fl_tls_opts *tls, const char *what,
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
