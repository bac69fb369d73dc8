// latency.h - the per-probe latency histogram behind faultline_probe_duration_seconds_bucket:
// every finished result's total duration, counted by (probe name, kind) over all hosts, since
// the collector started.
//
// Bounded: at most COLL_LATENCY_MAX_SERIES (probe, kind) pairs (a probe name is chosen by
// whoever writes an agent's config, so a hostile fleet could invent any number); results of
// further pairs are not counted, only counted as untracked. Not thread-safe: the state lock
// guards it (coll_state_apply observes, the metrics snapshot copies).

#ifndef FL_COLLECTOR_LATENCY_H
#define FL_COLLECTOR_LATENCY_H

#include <stddef.h>
#include <stdint.h>

#include "faultline.pb-c.h"
#include "metrics.h"

#define COLL_LATENCY_MAX_SERIES 4096

typedef struct coll_latency coll_latency;

coll_latency *coll_latency_new(void);             // NULL when out of memory
void          coll_latency_free(coll_latency *l); // accepts NULL

// Counts r's total duration, unless it has not finished (in progress, status unknown).
void coll_latency_observe(coll_latency *l, const Fl__ProbeResult *r);

// Copies every histogram into a new array (*out, n entries; the probe names are copies):
// what coll_metrics_snapshot holds. 0, or -1 when out of memory (*out untouched).
int coll_latency_copy(const coll_latency *l, coll_metrics_hist **out, size_t *n);

// Results not counted because COLL_LATENCY_MAX_SERIES pairs were already known.
uint64_t coll_latency_untracked(const coll_latency *l);

#endif // FL_COLLECTOR_LATENCY_H
