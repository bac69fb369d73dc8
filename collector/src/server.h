// server.h - one running collector: sockets, threads, state and store wired together.
//
// Threads (why two, not nng aio callbacks): ingest and control have opposite needs. Ingest is
// a tight loop that batches many reports per lock and per SQLite transaction; control must
// answer a CLI within milliseconds even while reports flood in. With one thread each and one
// mutex around the in-memory state, the ingest thread holds the lock only to apply an already
// decoded batch (decoding and SQLite writes happen outside it), so a control query waits at
// most one batch apply (well under a millisecond for 256 reports). Aio callbacks would run on
// nng's shared task threads and make every callback re-enter the same lock anyway, with more
// state machines and no gain in latency.
//
// The ingest thread also runs the timers: staleness and forget_after (every 250 ms), last_seen
// writes, verdict changes (at most every COLL_VERDICT_TICK_US after applying reports, or ten
// times the last check's time when that is longer) and retention (at start, then hourly).
// History queries read the store through the control thread's own read-only connection. The
// control thread computes answers one at a time but sends them asynchronously (control.c,
// "reply contexts"), so a client that does not read its replies cannot hold it.
//
// A third, mostly sleeping thread (watchdog.h) proves twice a second that both listeners still
// hand new connections to their sockets, and listens again when one has stopped: nng 1.5.2's
// listener can stop accepting for good after a peer leaves mid-handshake (upstream nng#1518;
// watchdog.h explains). Out of file descriptors it does not (that is not the defect, and
// listening again would drop every connection).
//
// Every listener bounds its connections (pipes.h); a stop writes the state before it closes
// any socket (coll_server_stop).
//
// main.c owns signals; library code never exits.

#ifndef FL_COLLECTOR_SERVER_H
#define FL_COLLECTOR_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

typedef struct coll_server coll_server; // hub.h

// Opens the store, loads state from it, listens on cfg->listen and cfg->control and starts the
// ingest and control threads. On failure nothing is left running and err says why.
int coll_server_start(const coll_config *cfg, coll_server **out, char *err, size_t errlen);

// Stops the threads, writes pending state (last_seen of every host), closes SQLite (then sets
// coll_server_state_written), closes the sockets and frees everything. Only the last step waits on
// nng, which may take long with some peers (main.c bounds the whole stop). Accepts NULL.
void coll_server_stop(coll_server *srv);

// True when nng is wedged: the listener watchdog, which opens and closes a connection twice a
// second, has been waiting in a close for COLL_WEDGED_US. Only a close counts: a dial may wait
// long for good reasons (a firewall dropping packets to our own port), and nng bounds it itself.
// nng 1.5.2's pipe reaper can hang for good when a connection is closed while its transport is
// between two reads (watchdog.h, control.c cut_off); every close then hangs, connections are never
// released and the listeners fill up. Nothing but a restart cures it: main.c then stops (state
// written) and exits 1, so that systemd (Restart=on-failure) starts the collector again.
#define COLL_WEDGED_US 15000000LL
bool coll_server_wedged(coll_server *srv);

// True once a stop in this process has written the state and closed SQLite: from then on the
// process may _exit() without losing anything (main.c's stop deadline).
bool coll_server_state_written(void);

#endif // FL_COLLECTOR_SERVER_H
