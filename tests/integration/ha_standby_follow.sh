#!/bin/bash
# ha_standby_follow.sh - a standby follows the active by the store's changes (docs/store.md,
# "Change stamps"), on a real PostgreSQL: c1 active, c2 standby, two agents then three.
#   1. every change the active makes shows on the standby, as the active shows it: a status
#      flip, a new host, a release change, a host gone stale, a forgotten host; the standby
#      reads only the rows changed since its last refresh (its debug log), and everything
#      again after a delete (the forget). Its diagnose and history answers are the active's.
#   2. kill -9 of c1: c2 takes over from the state it kept, caught up with the store (its
#      log), and serves what a collector loading the whole store serves (c3, started then).
# Needs root (PostgreSQL runs as its own user).

source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"

fl_init
export FL_TEST_STATE_PG=1
fl_collector_conf "$FL_TMP/c1.conf"
C1=$FL_CONTROL
C2=ipc://$FL_TMP/c2.sock
C3=ipc://$FL_TMP/c3.sock
R1=$FL_REPORT_URL S1=$FL_SURVEY_URL
R2=tcp://127.0.0.1:$(fl_free_port) S2=tcp://127.0.0.1:$(fl_free_port)
printf 'name = c1\nlease_timeout = 5s\n' >>"$FL_TMP/c1.conf"
# other_conf NAME CONTROL: c1's config with its own name, control, HTTP and agent addresses.
other_conf() {
	sed -e "s#^control = .*#control = $2#" -e "s#^http = .*#http = 127.0.0.1:$(fl_free_port)#" \
		-e "s#^listen = .*#listen = $R2#" -e "s#^survey = .*#survey = $S2#" \
		-e "s#^name = c1#name = $1#" -e 's#^log_level = .*#log_level = debug#' \
		"$FL_TMP/c1.conf" >"$FL_TMP/$1.conf"
}
other_conf c2 "$C2"
other_conf c3 "$C3"
grep -q '^log_level = debug' "$FL_TMP/c2.conf" || fl_fail "c2's config has no log_level to set"

# view CONTROL: what status shows of every host, the fields two collectors on one store must
# agree on.
view() {
	{ "$FL_CLI_BIN" -C "$1" status --json 2>/dev/null || true; } | jq -c '[.hosts[]
		| {host, release, previous_release, stale, labels,
			probes: [.probes[] | {name, status, failure, since}]}] | sort_by(.host)'
}
# same_view CONTROL1 CONTROL2 [JQ]: both show the same hosts (and JQ holds of them).
same_view() {
	local a b
	a=$(view "$1")
	b=$(view "$2")
	[[ -n $a && $a != "[]" && $a == "$b" ]] && jq -e "${3:-true}" <<<"$a" >/dev/null || {
		echo "$1: $a"
		echo "$2: $b"
		return 1
	}
}
log_has() { grep -q "$2" "$FL_TMP/$1.log"; }

fl_start_app app
fl_start c1 "$FL_COLLECTOR_BIN" -c "$FL_TMP/c1.conf"
wait_for "c1 active" 20 fl_collector_role active "$C1"
fl_start c2 "$FL_COLLECTOR_BIN" -c "$FL_TMP/c2.conf"
wait_for "c2 standby" 20 fl_collector_role standby "$C2"

start_agent() {
	fl_agent_conf "$FL_TMP/$1.conf" "$1" 1.0
	sed -i -e "s#^collector = .*#collector = $R1, $R2#" -e "s#^survey = .*#survey = $S1, $S2#" \
		"$FL_TMP/$1.conf"
	fl_conf_app_probe >>"$FL_TMP/$1.conf"
	fl_start_agent "$1"
}
start_agent a1
start_agent a2

# --- 1. the standby follows every kind of change ---------------------------------------------
wait_for "the standby shows what the active shows" 20 same_view "$C1" "$C2" \
	'length == 2 and all(.[]; .probes[0].status == "ok")'
wait_for "the standby refreshes by the rows changed" 10 log_has c2 \
	'standby: [0-9]* rows changed since the last refresh'

fl_app_mode app 503
wait_for "a status flip: the app fails on both, as on the active" 20 same_view "$C1" "$C2" \
	'all(.[]; .probes[0].status == "fail")'
verdict_is() {
	local v
	v=$("$FL_CLI_BIN" -C "$1" diagnose --json 2>/dev/null | jq -r '.verdict') || true
	[[ $v == "$2" ]] || {
		echo "verdict ${v:-none}"
		return 1
	}
}
wait_for "the active diagnoses the code" 20 verdict_is "$C1" code
wait_for "so does the standby (the streak as the store tells it)" 20 verdict_is "$C2" code
fl_app_mode app ok
wait_for "and back: ok on both" 20 same_view "$C1" "$C2" 'all(.[]; .probes[0].status == "ok")'

start_agent a3
wait_for "a new host shows on the standby" 20 same_view "$C1" "$C2" \
	'map(.host) == ["a1", "a2", "a3"]'

echo 2.0 >"$FL_TMP/a1.release"
wait_for "a release change shows on the standby" 20 same_view "$C1" "$C2" \
	'.[] | select(.host == "a1") | .release == "2.0" and .previous_release == "1.0"'

fl_stop agent-a2
wait_for "a host gone stale (an event in history only) shows stale on the standby" 30 \
	same_view "$C1" "$C2" '.[] | select(.host == "a2") | .stale'

fl_stop agent-a3
"$FL_CLI_BIN" -C "$C1" forget a3 >/dev/null || fl_fail "forget a3 failed"
wait_for "a forgotten host leaves the standby" 20 same_view "$C1" "$C2" \
	'map(.host) == ["a1", "a2"]'
wait_for "after a delete the standby loaded everything again" 10 log_has c2 \
	'standby: loading the whole state (a row deleted'

# history: both read it from the store; compared once no new event lands in between.
same_history() {
	local a b
	a=$("$FL_CLI_BIN" -C "$C1" history --json | jq -c '.events')
	b=$("$FL_CLI_BIN" -C "$C2" history --json | jq -c '.events')
	[[ $a != "[]" && $a == "$b" ]] || {
		echo "c1 $(jq length <<<"$a") events, c2 $(jq length <<<"$b")"
		return 1
	}
}
wait_for "the standby's history is the active's" 10 same_history

# --- 2. a take-over from the kept state --------------------------------------------------------
fl_stop c1 KILL
wait_for "c2 active within 10 s" 10 fl_collector_role active "$C2"
grep -h 'active (lease epoch' "$FL_TMP/c2.log" | tail -1
log_has c2 'hosts kept, caught up with the store' ||
	fl_fail "c2 did not take over from its kept state: $(grep 'active (lease' "$FL_TMP/c2.log")"
fl_log "ok: c2 took over from the state it kept, caught up with the store"
fl_start c3 "$FL_COLLECTOR_BIN" -c "$FL_TMP/c3.conf"
wait_for "c3 standby" 20 fl_collector_role standby "$C3"
wait_for "c3 loads the whole store first" 10 log_has c3 \
	'standby: loading the whole state (no earlier load'
wait_for "c2 (took over from its kept state) shows what a fresh load of the store shows" 20 \
	same_view "$C2" "$C3" 'map(.host) == ["a1", "a2"]'
fl_log "PASS"
