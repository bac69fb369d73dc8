// render.h - JSON renderings of wire messages shared by the agent (--once --json) and the CLI.
//
// Field names are a public contract (README, "JSON output"): extend, never rename.

#ifndef FL_RENDER_H
#define FL_RENDER_H

#include "faultline.pb-c.h"
#include "fl/json.h"

// Writes one probe result as a JSON object:
// {"name","kind","target","status","failure","detail","started","latency_ms","timing":{...},
//  "requirements_checked","unmet":[...], "sqlstate"?, "error_code"?}
// Timing lists only the phases the probe reported (nonzero).
void fl_render_probe_json(fl_json *j, const Fl__ProbeResult *r);

// Writes one unmet requirement: {"database","kind","object","privilege","object_missing","role"}.
void fl_render_unmet_json(fl_json *j, const Fl__UnmetRequirement *u);

// Writes "key=value" labels as one JSON object {"env": "prod", ...}, in the given order (issue
// 10: `labels` of the agent's --once --json and of status --json). A label without '=' (never
// valid on the wire) is written with an empty value.
void fl_render_labels_json(fl_json *j, const char *const *labels, size_t n);

#endif // FL_RENDER_H
