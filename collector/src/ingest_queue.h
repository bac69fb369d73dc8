// ingest_queue.h - the bounded FIFO between the ingest's receiver thread and its apply loop
// (ingest.c), and how big it is for a fleet.
//
// Why it is sized by the fleet: when a fleet starts (or the collector restarts), every agent
// sends its first round at once, and a first round writes every probe's latest row: the queue
// must hold that round while it is applied, or the first rounds are shed. A fixed 4,096 reports
// was 0.4 s of a 10,000-agent fleet at 10 s; 2 x max_hosts holds two rounds of every host the
// collector keeps. What an outsider can make it hold stays bounded twice: by reports, and by
// bytes (COLL_IQ_REPORT_BYTES a report, within [COLL_IQ_MIN_BYTES, COLL_IQ_MAX_BYTES]), and the
// ring grows only as reports wait (from COLL_IQ_INITIAL), so a quiet collector holds little.
//
// Not thread-safe: ingest.c holds its lock around every call.

#ifndef FL_COLLECTOR_INGEST_QUEUE_H
#define FL_COLLECTOR_INGEST_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define COLL_IQ_MIN          COLL_INGEST_QUEUE_MIN // reports: auto never sizes below this
#define COLL_IQ_PER_HOST     2                     // auto: rounds of every host kept
#define COLL_IQ_MAX          COLL_INGEST_QUEUE_MAX // reports: the key's upper bound
#define COLL_IQ_REPORT_BYTES 8192                  // bytes a queued report may take on average
#define COLL_IQ_MIN_BYTES    ((size_t) 64 << 20)
#define COLL_IQ_MAX_BYTES    ((size_t) 512 << 20)
#define COLL_IQ_INITIAL      4096 // ring slots allocated at start

typedef struct coll_iq_limits {
	size_t reports; // at most this many waiting
	size_t bytes;   // and their lengths summed at most this
} coll_iq_limits;

// The bounds for [collector] ingest_queue (reports; 0: auto, COLL_IQ_PER_HOST x max_hosts, at
// least COLL_IQ_MIN) and max_hosts: reports as said, at most COLL_IQ_MAX; bytes
// reports x COLL_IQ_REPORT_BYTES within [COLL_IQ_MIN_BYTES, COLL_IQ_MAX_BYTES].
coll_iq_limits coll_iq_limits_for(uint32_t ingest_queue, uint32_t max_hosts);

typedef struct coll_iq {
	coll_iq_limits lim;
	void         **item; // ring of cap
	size_t        *len;  // each item's length
	size_t         cap, head, n, bytes;
} coll_iq;

// Returns 0, or -1 when out of memory.
int coll_iq_init(coll_iq *q, coll_iq_limits lim);

// Frees the ring; items still waiting are passed to free_item (when not NULL) first.
void coll_iq_fini(coll_iq *q, void (*free_item)(void *));

// Appends item of len bytes. Returns false, leaving item to the caller, when it does not fit:
// lim.reports waiting, lim.bytes exceeded, or the ring cannot grow (out of memory).
bool coll_iq_push(coll_iq *q, void *item, size_t len);

// The oldest item (NULL when none waits).
void *coll_iq_pop(coll_iq *q);

#endif // FL_COLLECTOR_INGEST_QUEUE_H
