// trace.h - a debugging record of what every `diagnose` query saw (off unless asked for).
//
// With FL_TRACE_DIAGNOSE=PATH in the collector's environment, each diagnose query appends one
// JSON line to PATH: the verdict and top finding it answered, every finding's verdict, hosts
// and targets, and for every probe of every host the inputs the engine judged it by (latest
// status, debounce counters, baseline and the whole recent-rounds window: durations oldest
// first and the slow/failed bit history). That is enough to rebuild the view in a unit test and
// replay a verdict that flapped (the testbed's loss-stability row prints the lines of the
// diagnoses that were not network). A developer's tool, not an interface: the line's fields
// may change, nothing parses it but those tests.
// Writes are best effort: a file that cannot be opened is logged once and otherwise ignored.

#ifndef FL_COLLECTOR_TRACE_H
#define FL_COLLECTOR_TRACE_H

#include <stdint.h>

#include "faultline.pb-c.h"
#include "state.h"

// Appends the trace line of one diagnosis (reply, computed from s at now_us) to the file named
// by FL_TRACE_DIAGNOSE; does nothing when that is unset or empty. Call with s locked.
void coll_trace_diagnose(const coll_state *s, int64_t now_us, const Fl__DiagnoseReply *reply);

#endif // FL_COLLECTOR_TRACE_H
