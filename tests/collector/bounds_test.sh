#!/usr/bin/env bash
# bounds_test.sh - what reports can make the real collector hold is bounded (docs/security.md,
# "Limits"): a crafted flood of hosts and of reports that each carry hundreds of new probe names
# (coll_tool flood) leaves at most max_hosts hosts, each with exactly the probes of its latest
# report, in memory and in SQLite, also after a restart; the drops are counted; reports with
# duplicate probe names or impossible times are rejected and counted; `faultline status` keeps
# working on a state larger than one status page (paged), and an answer over a client's
# receive limit is refused with "reply too large" instead of dropping the connection.
source "$(dirname "$0")/../lib/harness.sh"

TOOL=$FL_BUILD/tests/collector/coll_tool
fl_init "$FL_COLLECTOR_BIN" "$FL_CLI_BIN" "$TOOL"

MAX_HOSTS=24
MAX_PROBES=250
fl_collector_conf "$FL_TMP/collector.conf"
printf 'max_hosts = %s\nmax_probes_per_host = %s\n' $MAX_HOSTS $MAX_PROBES >>"$FL_TMP/collector.conf"

# The keys are checked: a value over the wire's own cap names its line.
printf '[collector]\nmax_probes_per_host = 300\n' >"$FL_TMP/bad.conf"
rc=0
out=$("$FL_COLLECTOR_BIN" -c "$FL_TMP/bad.conf" --check-config 2>&1) || rc=$?
assert_eq "max_probes_per_host = 300 is a config error" 2 "$rc"
assert_eq "the error names the line" \
	"$FL_TMP/bad.conf:2: max_probes_per_host: '300' is not a number of probes (1-256)" "$out"

fl_start_collector

stats() { "$TOOL" stats "$FL_CONTROL"; }
stat_is() { stats | grep -qx "$1"; }
received_at_least() { (($(stats | sed -n 's/^reports_received=//p') >= $1)); }

# 30 hosts x 2 reports x 250 new probe names each: 6 hosts too many, and every second report
# renames every probe. Then one report over max_probes_per_host, one with a probe name twice,
# one with sent_us = INT64_MIN.
"$TOOL" flood "$FL_REPORT_URL" 30 2 $MAX_PROBES | tee "$FL_TMP/flood.out" >&2
"$TOOL" flood "$FL_REPORT_URL" 1 1 $((MAX_PROBES + 1)) 3 >&2
"$TOOL" push "$FL_REPORT_URL" dupnames flood-1 3
"$TOOL" push "$FL_REPORT_URL" badtime flood-2 3
wait_for "all 63 reports counted" 60 received_at_least 63
s=$(stats)
fl_log "$(tr '\n' ' ' <<<"$s")"
assert_eq "hosts kept" "hosts=$MAX_HOSTS" "$(grep '^hosts=' <<<"$s")"
assert_eq "reports of new hosts over max_hosts counted" "dropped_host_limit=12" \
	"$(grep '^dropped_host_limit=' <<<"$s")"
assert_eq "report over max_probes_per_host counted" "dropped_probe_limit=1" \
	"$(grep '^dropped_probe_limit=' <<<"$s")"
assert_eq "duplicate names and impossible times are invalid" "dropped_invalid=2" \
	"$(grep '^dropped_invalid=' <<<"$s")"
assert_eq "the valid reports applied" "reports_applied=48" "$(grep '^reports_applied=' <<<"$s")"
grep -q "has two results named 'app'" "$FL_TMP/collector.log" ||
	fl_fail "the duplicate name is not in the log"
grep -q "max_hosts (24) reached" "$FL_TMP/collector.log" || fl_fail "the host limit is not logged"

# The whole state is bigger than one status page (8 MiB): an unpaged reply limited to that
# size is refused with the sizes, and the CLI's paged status still gets every host.
out=$("$TOOL" status "$FL_CONTROL" $((8 * 1024 * 1024)))
[[ $out =~ ^error=reply\ too\ large\ \(([0-9]+)\ bytes\ over\ the\ 8388608\ limit\)$ ]] ||
	fl_fail "an over-limit reply was not refused with its size: $out"
fl_log "whole status reply: ${BASH_REMATCH[1]} bytes"
out=$("$TOOL" status "$FL_CONTROL" $((64 * 1024 * 1024)))
[[ $out == "hosts=$MAX_HOSTS bytes="* ]] || fl_fail "an unpaged status under the limit: $out"

check_state() { # WHEN: the CLI's status, and SQLite, hold exactly the latest probes
	local js rc=0
	js=$(fl_cli status --json) || rc=$?
	[[ $rc -eq 0 || $rc -eq 1 ]] || fl_fail "$1: faultline status exited $rc"
	assert_jq "$1: status lists max_hosts hosts" "$js" --argjson n $MAX_HOSTS '.hosts | length == $n'
	assert_jq "$1: every host has exactly its latest report's probes" "$js" \
		--argjson n $MAX_PROBES --arg seq "$2" \
		'all(.hosts[]; (.probes | length) == $n and all(.probes[]; .name | startswith("p" + $seq + "-")))'
	assert_eq "$1: latest rows in SQLite" $((MAX_HOSTS * MAX_PROBES)) \
		"$(sqlite3 "$FL_STATE" 'SELECT count(*) FROM latest')"
	assert_eq "$1: host rows in SQLite" $MAX_HOSTS "$(sqlite3 "$FL_STATE" 'SELECT count(*) FROM hosts')"
	rc=0
	fl_cli hosts >/dev/null || rc=$?
	[[ $rc -eq 0 || $rc -eq 1 ]] || fl_fail "$1: faultline hosts exited $rc"
}
check_state "after the flood" 2

# A restart keeps the bounds, and the next renaming flood leaves the same amount.
fl_stop collector
fl_start_collector collector2
check_state "after a restart" 2
"$TOOL" flood "$FL_REPORT_URL" 30 1 $MAX_PROBES 4 >&2
wait_for "the second flood counted" 60 received_at_least 30
wait_for "the second flood applied" 30 stat_is "reports_applied=24"
check_state "after a restart and another flood" 4
size=$(stat -c %s "$FL_STATE")
fl_log "state file: $size bytes"

# An agent clock 40 days off: the report is applied at the collector's time, counted and logged.
"$TOOL" push "$FL_REPORT_URL" farclock flood-0 5
wait_for "the far-off times are counted" 20 stat_is "reports_time_ignored=1"
grep -q "cannot use the times in a report from flood-0" "$FL_TMP/collector2.log" ||
	fl_fail "ignored times are not logged"
