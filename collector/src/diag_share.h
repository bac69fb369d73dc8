// diag_share.h - one diagnosis computed by the verdict tick, shared with the diagnose queries
// that arrive while it is being computed.
//
// At 50,000 hosts a full diagnosis takes ~120 ms of CPU under the state lock, and the ingest
// thread's verdict tick makes one every ~1.5 s. A `diagnose` that arrived during the tick used
// to wait for the lock until the tick had finished, then compute the same diagnosis again: twice
// the time. Instead it now takes the tick's reply. That reply is exact, not stale: the tick
// holds the state lock from before it starts until it publishes, so nothing can change the state
// between the moment the query sees a diagnosis in progress and that diagnosis' answer (the state
// the query would have read is the one the tick reads). Likewise a query that waited for the
// state lock while the tick diagnosed takes the tick's reply: that diagnosis read the state after
// the query arrived. A query that meets no diagnosis computes its own, as before.
//
// Thread use: the verdict tick calls begin (holding the state lock) before it diagnoses and
// publish after; control threads call mark when a query arrives, then use. The share's own mutex is
// taken inside the state lock and never the other way round.

#ifndef FL_COLLECTOR_DIAG_SHARE_H
#define FL_COLLECTOR_DIAG_SHARE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "faultline.pb-c.h"

typedef struct coll_diag_share {
	pthread_mutex_t    mu;
	pthread_cond_t     done;
	bool               computing; // between begin and publish
	uint64_t           published; // diagnoses published so far
	Fl__DiagnoseReply *reply;     // the latest published (owned); NULL before the first, or
	                              // when that diagnosis ran out of memory
	int64_t  reply_at_us;         // the collector clock that diagnosis judged at
	uint64_t shared;              // queries answered from a tick's diagnosis (for stats)
} coll_diag_share;

void coll_diag_share_init(coll_diag_share *d);
void coll_diag_share_fini(coll_diag_share *d); // frees the reply held

// The verdict tick, holding the state lock: a diagnosis of the state as it is now starts.
void coll_diag_share_begin(coll_diag_share *d);

// The verdict tick: the diagnosis begun is r (taken over; NULL: it ran out of memory), judged at
// at_us. Wakes the queries waiting for it; frees the previous reply.
void coll_diag_share_publish(coll_diag_share *d, Fl__DiagnoseReply *r, int64_t at_us);

// A diagnose query of the whole fleet, when it arrives: a mark to pass to coll_diag_share_use.
uint64_t coll_diag_share_mark(coll_diag_share *d);

// Answers the query that took mark from a diagnosis published since, if there is one: it read the
// state at a moment after the query arrived (it began after), or the state as it was when the
// query arrived (it was in progress then, under the state lock). With wait, and a diagnosis in
// progress, waits for it first. Calls use(reply, at_us, arg) under the share's mutex and returns
// 0; returns 1 when there is none (or it ran out of memory): the caller then diagnoses itself.
// use copies what it needs and nothing more (the ingest thread may wait for the share's mutex
// under the state lock): it takes no lock and keeps no pointer into the reply.
int coll_diag_share_use(coll_diag_share *d, uint64_t mark, bool wait,
    void (*use)(const Fl__DiagnoseReply *r, int64_t at_us, void *arg), void *arg);

// How many queries were answered from a tick's diagnosis.
uint64_t coll_diag_share_count(coll_diag_share *d);

#endif // FL_COLLECTOR_DIAG_SHARE_H
