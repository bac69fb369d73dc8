#!/usr/bin/env bash
# restart_stale_test.sh - a host that was stale when the collector stopped is stale right after
# the restart (hosts says so and exits 1), and no second "ok -> stale" event is recorded for it;
# a host that was fine when the collector stopped gets its grace of 3 intervals, then its own
# stale event. Real collector and CLI; the hosts' reports are pushed by coll_tool (interval 1 s).
source "$(dirname "$0")/../lib/harness.sh"

TOOL=$FL_BUILD/tests/collector/coll_tool
fl_init "$FL_COLLECTOR_BIN" "$FL_CLI_BIN" "$TOOL"
fl_start_collector

hosts_json() { fl_cli_json hosts; }
is_stale() { jq_true "$(hosts_json)" '.hosts[] | select(.host == $h) | .stale' --arg h "$1"; }
knows() { jq_true "$(hosts_json)" 'any(.hosts[]; .host == $h)' --arg h "$1"; }
stale_events() { # HOST: how many stale events history holds for it
	fl_cli_json history | jq --arg h "$1" '[.events[] | select(.host == $h and .kind == "stale")] | length'
}

"$TOOL" push "$FL_REPORT_URL" report silent 1
wait_for "silent is stale" 20 is_stale silent
assert_eq "one stale event for silent" 1 "$(stale_events silent)"

# fresh reports just before the stop.
"$TOOL" push "$FL_REPORT_URL" report fresh 1
wait_for "fresh is known" 10 knows fresh
fl_stop collector
fl_start_collector collector2

# At the first answer after the restart.
js=$(hosts_json)
assert_jq "silent is still stale right after the restart" "$js" \
	'.hosts[] | select(.host == "silent") | .stale'
assert_jq "fresh is given its grace" "$js" '.hosts[] | select(.host == "fresh") | .stale | not'
rc=0
fl_cli hosts >/dev/null || rc=$?
assert_eq "hosts exits 1 with a stale host" 1 "$rc"

# Once fresh's grace is over (3 intervals), it is stale with its own event; silent never got a
# second one.
wait_for "fresh goes stale after its grace" 20 is_stale fresh
assert_eq "one stale event for fresh" 1 "$(stale_events fresh)"
assert_eq "still one stale event for silent" 1 "$(stale_events silent)"
