#!/usr/bin/env bash
# replay_trace.sh - judge recorded diagnoses again with the engine as built now.
#
# Usage: replay_trace.sh TRACE.jsonl... (lines written by a collector run with
# FL_TRACE_DIAGNOSE, e.g. the testbed's build/testbed-trace/loss-*.jsonl). Prints one line per
# recorded diagnosis: its time, then the verdict and hosts (every finding's, sorted) the
# collector answered then, then those the current engine gives on the same inputs:
#   1764516000000000 network app2,app3 | network app2
# FL_BUILD names the build dir (default: build). Needs jq. A developer's tool: see
# tests/correlate/trace_replay.c for what the replay assumes.
set -euo pipefail
bin=${FL_BUILD:-build}/tests/correlate/trace_replay
[ -x "$bin" ] || { echo "replay_trace.sh: $bin not built" >&2; exit 2; }
[ $# -gt 0 ] || { echo "usage: replay_trace.sh TRACE.jsonl..." >&2; exit 2; }
# What was answered: every finding's hosts when the trace has them, else the top finding's.
jq -r '"\(.at_us) \(.verdict) \(([.findings[]?.hosts[]] | unique | if length > 0 then . else null end) // .hosts | if length > 0 then join(",") else "-" end)"' "$@" >"${TMPDIR:-/tmp}/replay.$$.was"
jq -r '"D \(.at_us)", (.probes[] | select(.n != null) | "P \(.host) \(.probe) \(.kind) \(.target) \(.status) \(.failure) \(.stale) \(.duration_us) \(.consecutive_fail) \(.consecutive_ok) \(.consecutive_slow) \(.baseline_us) \(.n) \(.rounds_text | split(" ") | map(.[0:1]) | join("") | if . == "" then "-" else . end) \(.dur_us | map(tostring) | join(" "))"), "E"' "$@" |
	"$bin" >"${TMPDIR:-/tmp}/replay.$$.now"
paste -d'|' "${TMPDIR:-/tmp}/replay.$$.was" <(cut -d' ' -f2- "${TMPDIR:-/tmp}/replay.$$.now") | sed 's/|/ | /'
rm -f "${TMPDIR:-/tmp}/replay.$$.was" "${TMPDIR:-/tmp}/replay.$$.now"
