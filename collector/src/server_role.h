// server_role.h - the active's parts of a running collector and the role thread that opens and
// closes them as the lease comes and goes (role.h, lease.h). server.c only; the fields live in
// hub.h.
//
// The active's parts: the report listener, the survey socket with the verifier, the notifier,
// the ingest thread and the writer connection. A single collector (no lease) opens them once at
// start and keeps them, exactly as before the roles existed. A collector with a lease starts
// standby with none of them: the role thread starts them at a take-over and stops them at a
// step-down, reports and writes first.

#ifndef FL_COLLECTOR_SERVER_ROLE_H
#define FL_COLLECTOR_SERVER_ROLE_H

#include <stddef.h>

#include "config.h"
#include "hub.h"

// The database the lease lives in: the state database when it is PostgreSQL; else NULL (no
// lease: single, exactly as before the roles).
const char *coll_role_lease_target(const coll_config *cfg);

// The survey socket and the verifier (probe now), published under srv->lock. 0, or -1 with err
// (nothing opened).
int coll_parts_open_probe_now(coll_server *srv, char *err, size_t errlen);

// The notifier when receivers are configured, hooked to the state's diagnoses and to the
// exporter. 0, or -1 with err.
int coll_parts_open_notify(coll_server *srv, char *err, size_t errlen);

// Starts the lease keeper and the role thread (the server is standby until it holds the
// lease). 0, or -1 with err.
int coll_role_start(coll_server *srv, char *err, size_t errlen);

// Stops the role thread, leaving the parts as they are (the server's stop closes them);
// accepts a server whose role thread never started. coll_role_release then ends the lease,
// once the stop has written what it had: a standby takes over at its next try.
void coll_role_stop(coll_server *srv);
void coll_role_release(coll_server *srv);
void coll_role_free(coll_server *srv); // with the server, once no thread can look at it

// Frees the survey and verifier a step-down swapped out while a slow job still ran, once no
// slow job runs. The server's stop calls it after its workers ended.
void coll_role_free_retired(coll_server *srv);

#endif // FL_COLLECTOR_SERVER_ROLE_H
