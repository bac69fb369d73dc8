// auth.h - the signature gate in front of ingest (keys_dir).
//
// Why a gate and not a check inside ingest: ingest decodes bare Reports; with keys_dir set
// every report must instead be a signed Envelope (fl/sign.h) whose key is its host's. The
// gate owns the socket agents connect to (PULL on cfg.listen, TLS when tls+tcp://), verifies
// each message with fl_sign_verify_report on its own thread, and forwards only verified
// Reports, re-packed, over inproc to the ingest socket, which then sees exactly what it sees
// without keys_dir. Verification (~140 us per report) thus runs beside ingest, not in it.
//
// What is refused is never forwarded: it is counted in the collector's stats under the
// server lock, as reports_received plus dropped_unauthenticated (not an Envelope, unknown
// host, key_id not the report's host, bad signature), or plus the decoder's reason for a
// correctly wrapped but malformed Report (dropped_schema, ...). Refusals are noted per claimed
// sender (key_id) and logged at most once a minute per sender (rejects.h).
//
// Back-pressure: the gate blocks while ingest's inproc queue is full, so a flood backs up
// into the agents' connections (and their spools) instead of growing memory here.

#ifndef FL_COLLECTOR_AUTH_H
#define FL_COLLECTOR_AUTH_H

#include <stddef.h>

#include <nng/nng.h>

#include "fl/sign.h"
#include "fl/tls.h"
#include "rejects.h"
#include "state.h"

typedef struct coll_auth coll_auth;

// What the gate works with, all borrowed for its whole life.
typedef struct coll_auth_deps {
	const char        *url;      // where agents connect ([collector] listen)
	size_t             recv_max; // largest message accepted ([collector] recv_max)
	const char        *keys_dir; // for the log only
	nng_socket         ingest;   // the ingest PULL socket: open, not listening (this listens)
	coll_state_ref     state;    // refused messages are counted in its stats, under its lock
	coll_rejects      *rejects;  // and noted per claimed sender
	fl_keyring        *kr;       // the hosts' keys
	const fl_tls_opts *tls;      // TLS files when url is tls+tcp://
} coll_auth_deps;

// Opens the gate: the outer PULL socket listening on d->url and the inproc link to d->ingest.
// The thread starts with coll_auth_start. 0, or -1 with err.
int coll_auth_open(const coll_auth_deps *d, coll_auth **out, char *err, size_t errlen);

// The socket agents connect to (for the listener watchdog) and its listener.
nng_socket   coll_auth_socket(const coll_auth *a);
nng_listener coll_auth_listener(const coll_auth *a);
int          coll_auth_port(const coll_auth *a); // bound TCP port, 0 if not tcp

// Starts the gate thread. 0 or -1 with err.
int coll_auth_start(coll_auth *a, char *err, size_t errlen);

// Closes the outer socket, joins the thread and frees. Call before closing d->ingest.
// Accepts NULL.
void coll_auth_free(coll_auth *a);

#endif // FL_COLLECTOR_AUTH_H
