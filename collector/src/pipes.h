// pipes.h - the connections of one listening socket: bounded, counted, and (for the control
// socket) what each holds in replies.
//
// Why: whatever a peer makes the collector hold must be bounded. nng 1.5.2 accepts any number
// of connections and gives no deadline for a message in progress (the TCP and IPC transports
// allocate the body once its length prefix has arrived and then wait for the rest for as long
// as the connection lives), so what a stalled peer can pin is at most the receive limit per
// connection, times the connections. This module bounds the second factor: a connection over
// `max` is closed as it is added (NNG_PIPE_EV_ADD_PRE, before it can deliver anything) and
// counted.
//
// For the control socket it also keeps, per connection, the reply bytes the collector has
// handed to nng and does not know to be written (REP keeps one reply on the connection while
// the socket writes it, and queues the next behind it), so a client that sends requests and
// never reads the replies can be found and cut off, and the total reply memory bounded.
//
// Thread-safe: the callbacks run on nng's threads; every function may be called from any
// thread.

#ifndef FL_COLLECTOR_PIPES_H
#define FL_COLLECTOR_PIPES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

typedef struct coll_pipes coll_pipes;

// Called for every connection that reaches the socket, refused or not (the listener watchdog
// counts them: a refused connection still proves the listener accepts).
typedef void (*coll_pipes_hook)(void *arg);

// Registers the pipe callbacks on s (before it listens, so no connection goes uncounted). what
// names the socket in the log ("reports", "control", "survey"). 0 or an NNG_E* error.
int coll_pipes_attach(nng_socket s, const char *what, size_t max, coll_pipes_hook on_add,
    void *hook_arg, coll_pipes **out);

// Frees; only once s is closed (its callbacks use the table). Accepts NULL.
void coll_pipes_free(coll_pipes *t);

size_t   coll_pipes_count(coll_pipes *t);   // connections open now
uint64_t coll_pipes_refused(coll_pipes *t); // connections closed for being over max

// --- replies (control socket) ---------------------------------------------------------------

typedef enum coll_reply_admit {
	COLL_REPLY_SEND, // send it; call coll_pipes_reply_done() when the send completes
	COLL_REPLY_BUSY, // over the total budget: send a short "busy" answer instead
	COLL_REPLY_DROP, // the connection already has a reply queued: send nothing
} coll_reply_admit;

// True when pipe already has a reply queued behind one nng has not finished writing: its
// client sends requests without reading the answers.
bool coll_pipes_reply_queued(coll_pipes *t, uint32_t pipe);

// Accounts a reply of len bytes for pipe, unless the connection already has one queued (DROP) or
// the total would exceed budget (BUSY; small answers, len <= 1 KiB, are always admitted).
coll_reply_admit coll_pipes_reply_admit(coll_pipes *t, uint32_t pipe, size_t len, size_t budget);

// The send of an admitted reply completed: sent (handed to the connection, which has then
// written its previous reply) or not (failed, timed out: the caller closes the connection).
void coll_pipes_reply_done(coll_pipes *t, uint32_t pipe, size_t len, bool sent);

// Reply bytes held now over all connections (queued, and last handed to each connection).
size_t coll_pipes_reply_bytes(coll_pipes *t);

// --- owners that must learn when their client leaves ----------------------------------------

// Sets *gone once pipe is closed (at once if it is already gone). At most COLL_PIPES_WATCHERS at
// a time; returns -1 when full (the caller then just does not learn). Every successful watch
// needs an unwatch before *gone is freed.
#define COLL_PIPES_WATCHERS 32
int  coll_pipes_watch(coll_pipes *t, uint32_t pipe, atomic_bool *gone);
void coll_pipes_unwatch(coll_pipes *t, atomic_bool *gone);

#endif // FL_COLLECTOR_PIPES_H
