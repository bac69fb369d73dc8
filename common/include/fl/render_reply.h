// render_reply.h - the JSON shapes of the collector's query replies: `faultline status`,
// `hosts`, `history` and `diagnose --json`, and the collector's /api/v1/ routes.
//
// One renderer, two doors: the CLI renders the reply it receives on the control socket, the
// collector renders the same reply for its HTTP API, both with these functions, so the two
// shapes cannot drift apart. Field names are a public contract (README, "JSON output" and
// "HTTP API"): extend, never rename.
//
// Each function writes one JSON object into j (initialised by the caller, who takes the text
// with fl_json_text). An allocation failure is sticky in j (fl_json_text then returns NULL).

#ifndef FL_RENDER_REPLY_H
#define FL_RENDER_REPLY_H

#include <stddef.h>

#include "faultline.pb-c.h"
#include "fl/json.h"

// How many of the host's probes are failing now (status fail).
size_t fl_host_probes_failing(const Fl__HostState *h);

// {"now","hosts":[{"host","release",...,"probes":[...],"reports_rejected"}],"stats":{...},
//  "verifications":[...],"rejected_senders":[...],"notifications":[...]}.
// "now" is the reply's now_us, or this machine's clock when the reply has none.
void fl_render_status_json(fl_json *j, const Fl__StatusReply *r);

// {"hosts":[{"host","release","last_seen","stale","probes_failing","labels"}]}.
void fl_render_hosts_json(fl_json *j, const Fl__StatusReply *r);

// {"events":[{"at","host","kind","probe","from","to","failure","detail"}]}, oldest first
// (equal times keep the reply's order), whatever order the reply has them in.
void fl_render_history_json(fl_json *j, const Fl__HistoryReply *r);

// {"verdict","summary","since","findings":[{"verdict","summary","hosts","targets","release",
//  "evidence","since","muted","muted_by"}]}.
void fl_render_diagnose_json(fl_json *j, const Fl__DiagnoseReply *r);

// A history event's kind as text: its enum's name, or, for a kind newer than this build
// (protobuf-c keeps the number it does not know), the name the collector also sends as text.
const char *fl_history_event_kind(const Fl__HistoryEvent *e);

// The events of r oldest first (equal times keep the reply's order), in a malloc'd array the
// caller frees (the events are borrowed from r). NULL when out of memory.
const Fl__HistoryEvent **fl_history_sorted(const Fl__HistoryReply *r);

// A verification's result and a reason's check: the enums, or, from a collector older than
// them (enum unset), the text it sent instead.
Fl__VerifyResult fl_verify_reply_result(const Fl__VerifyReply *r);
Fl__VerifyCheck  fl_verify_reason_check(const Fl__VerifyReason *x);

// `faultline verify --json` and /api/v1/verify: {"release","result","hosts","reasons",
// "warnings","canary","rollback","elapsed_s"} (docs/verify.md). r is NULL when the hosts did
// not report the release in time: then hosts[0..n_hosts) are the hosts on it and
// timeout_reason the reason (check "timeout"); otherwise both come from r.
void fl_render_verify_json(fl_json *j, const char *release, Fl__VerifyResult result,
    char *const *hosts, size_t n_hosts, const Fl__VerifyReply *r, const char *timeout_reason,
    double elapsed_s);

#endif // FL_RENDER_REPLY_H
