// listen.h - starting a listener on one of the collector's addresses (reports, control, survey).
//
// Shared by the server, which listens at start, and the listener watchdog, which listens again
// on the same address when nng's listener has stopped accepting (watchdog.h).

#ifndef FL_COLLECTOR_LISTEN_H
#define FL_COLLECTOR_LISTEN_H

#include <stddef.h>

#include <nng/nng.h>

#include "fl/tls.h"

// Listens on url with socket s. tls: the collector's TLS files, applied when url is tls+tcp://
// (may be NULL otherwise). For ipc:// the socket file is the access control: its directory is
// created if needed and the file made owner/group only (0660). what ("reports", "control")
// names the listener in the log and in err. *port is the bound TCP port (0 if not tcp).
// 0 (*out set), or -1 with err (nothing left listening).
int coll_listen_on(nng_socket s, const char *url, const fl_tls_opts *tls, const char *what,
    nng_listener *out, int *port, char *err, size_t errlen);

#endif // FL_COLLECTOR_LISTEN_H
