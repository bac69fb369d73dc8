// watchdog.h - the listener watchdog and wedge detector: workarounds for two nng 1.5.2 defects.
//
// 1. A listener that stops accepting.
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
// every 500 ms it dials each listener with a fresh socket of the peer protocol and
// waits up to 500 ms for the listening socket to gain a pipe (any pipe: passing a new
// connection to the socket is exactly what a stuck listener can no longer do). If none
// arrives it closes the listener, which drops the parked connections (REQ clients redial and
// resend, so a CLI waiting on one still gets its answer) and stops the spinning, then listens
// again on the same address. A false alarm (nng threads starved for the whole wait) costs one
// re-listen and is logged; requiring 2 failed probes in a row (the second made at once)
// makes one unlikely on a loaded machine while a wedged socket is still cured in under 2 s.
//
// 2. A pipe reaper that hangs (the wedge detector, coll_watch_closing_for). nng 1.5.2's ipc and
// tcp transports restart a read or a write from their completion callbacks on an aio that a
// concurrent close may just have stopped; the pipe's teardown then waits for good on that aio
// (its reaper hangs), every later close hangs behind it, connections are never released and
// the listeners fill up. The control thread avoids closing a connection while a read can be in
// progress (control.c, cut_off), but a client may close its own end at such a moment. Nothing
// but a restart cures it, so the watchdog notes when each of its own closes starts: one that
// has not returned after COLL_WEDGED_US (server.h) means nng is wedged, and main.c stops (the
// state written) and exits 1 for systemd to restart the collector. The probe's close is the
// canary because it happens twice a second whatever the traffic.
//
// Which nng fixes them. (1) upstream nng#1518, fixed by #1519 in nng 1.6.0. (2) upstream
// nng#1636 ("tcp: finish receive aio on close", merged February 2023, first released in 1.6.0)
// makes the tcp receive callback finish its aio instead of restarting it once the pipe is
// closed; the ipc transport and the write side are not known to be fixed in 1.5.x, and were
// not checked in later releases here.
//
// How to drop it. Once the collector builds against an nng that fixes both (1.6.0 or later,
// after re-running tests/collector/control_recover_test.sh and control_flood_test.sh without
// the watchdog): remove watchdog.c/.h, the coll_watch_* calls in server.c (start, stop,
// socket/listener registration: keep coll_pipes_attach, which bounds connections), and
// coll_server_wedged with its use in main.c; COLL_WEDGED_US and the fd_exhausted counter go
// with them (keep the stats field, always 0, so that the JSON contract holds).
//
// Out of file descriptors the probe fails too (our dial, or the listener's accept, gets EMFILE)
// though the listener is fine: that is counted (fd_exhausted) and logged, never cured by
// listening again, which would drop every connection.

#ifndef FL_COLLECTOR_WATCHDOG_H
#define FL_COLLECTOR_WATCHDOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "pipes.h"

typedef struct coll_watch coll_watch;

// A watchdog for two listeners (0: reports, 1: control), not yet running. fd_exhausted
// (borrowed) counts the checks that found no free descriptor. NULL when out of memory.
coll_watch *coll_watch_new(atomic_uint_fast64_t *fd_exhausted);

// Bounds the connections of listener i's socket s and counts them for the watchdog (pipes.h);
// before the socket listens, so no pipe goes uncounted. what names it in the log; open_peer
// opens a socket of the peer protocol for the probes. 0 or an NNG_E* error.
int coll_watch_socket(coll_watch *wt, size_t i, const char *what, nng_socket s,
    int (*open_peer)(nng_socket *), size_t max_conns, coll_pipes **pipes);

// Listener i listens on url (bound_port: its TCP port, so a re-listen keeps it). Only ipc and
// plain tcp listeners are probed; others are logged and left alone.
void coll_watch_listener(coll_watch *wt, size_t i, nng_listener l, const char *url, int bound_port);

// Closes listener i (and the connections it accepted) and stops probing it until
// coll_watch_listener names a new one: a standby collector takes no reports (role.h).
void coll_watch_close_listener(coll_watch *wt, size_t i);

// Starts the thread. 0 or -1.
int coll_watch_start(coll_watch *wt);

// Tells the thread to stop after its current probe, without waiting for it. Accepts NULL.
void coll_watch_request_stop(coll_watch *wt);

// Stops the thread; the sockets must still be open (or already closed), never half-way.
// Accepts NULL.
void coll_watch_stop(coll_watch *wt);

// Only after the sockets are closed: their pipe callbacks use wt. Accepts NULL.
void coll_watch_free(coll_watch *wt);

// True when a close the running watchdog began has not returned for more than limit_us.
bool coll_watch_closing_for(coll_watch *wt, int64_t limit_us);

#endif // FL_COLLECTOR_WATCHDOG_H
