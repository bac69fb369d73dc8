#!/usr/bin/env bash
# probe_removed_test.sh - a probe removed from an agent's config (SIGHUP reload) leaves the
# collector's state and its SQLite latest table at the next report; its history stays. Real
# agent, collector and CLI.
source "$(dirname "$0")/../lib/harness.sh"

fl_init
fl_start_collector
closed=$(fl_free_port) # nothing listens: the "gone" probe fails (refused)
fl_agent_conf "$FL_TMP/web1.conf" web1
cp "$FL_TMP/web1.conf" "$FL_TMP/web1.base"
printf '\n[dns "resolver"]\nname = localhost\n' >>"$FL_TMP/web1.base"
cp "$FL_TMP/web1.base" "$FL_TMP/web1.conf"
printf '\n[tcp "gone"]\naddress = 127.0.0.1:%s\ntimeout = 1s\n' "$closed" >>"$FL_TMP/web1.conf"
fl_start_agent web1

probes_are() { # NAMES...: web1's probes in status, sorted, are exactly these
	local got
	got=$(fl_cli_json status |
		jq -r '[.hosts[] | select(.host == "web1") | .probes[].name] | sort | join(" ")')
	[[ $got == "$*" ]] || {
		echo "probes: $got"
		return 1
	}
}
latest_rows_are() {
	local got
	got=$(sqlite3 "$FL_STATE" "SELECT group_concat(probe, ' ') FROM (SELECT probe FROM latest WHERE host = 'web1' ORDER BY probe)")
	[[ $got == "$1" ]] || {
		echo "latest rows: $got"
		return 1
	}
}
wait_for "web1 reports both probes" 20 probes_are gone resolver
wait_for "both are in the latest table" 10 latest_rows_are "gone resolver"

# The operator removes "gone" and reloads the agent.
cp "$FL_TMP/web1.base" "$FL_TMP/web1.conf"
kill -HUP "$(fl_pid agent-web1)"
wait_for "gone leaves status at the next report" 15 probes_are resolver
wait_for "gone leaves the latest table" 10 latest_rows_are resolver
js=$(fl_cli_json history)
assert_jq "its history stays" "$js" \
	'any(.events[]; .host == "web1" and .probe == "gone" and .to == "fail")'
rc=0
fl_cli status >/dev/null || rc=$?
assert_eq "status is healthy again without the failing probe" 0 "$rc"
