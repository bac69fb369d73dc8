// control.h - the control thread: the CLI's queries on the REP socket, answered one at a time
// and sent asynchronously (control.c, "reply contexts"; server.h explains the threads).

#ifndef FL_COLLECTOR_CONTROL_H
#define FL_COLLECTOR_CONTROL_H

#include <stddef.h>

#include "hub.h"

// The control socket's reply contexts: opened before the control thread starts, freed once it
// and every slow request have ended. 0, or -1 with err.
int  coll_control_open(coll_server *srv, char *err, size_t errlen);
void coll_control_free(coll_server *srv);

// Answers one request (borrowed) the way the control socket does: *out gets the packed
// Response (a reply, or Response.error saying why not). History is read through reader, a
// store connection the calling thread alone uses (the control thread's is srv->reader; the
// connections are NOMUTEX, store.h); when a read fails on PostgreSQL (a restart of the server
// ends every session) it is tried once more, on the session sql.h connects again for it.
// Slow requests (probe-now, verify) take seconds: call them on a thread of their own. Any
// thread. 0, or an nng error (out of memory).
int coll_control_answer(coll_server *srv, coll_store *reader, const Fl__Request *q, nng_msg **out);

// The thread body; arg is the coll_server.
void *coll_control_main(void *arg);

#endif // FL_COLLECTOR_CONTROL_H
