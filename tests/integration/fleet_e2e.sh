#!/usr/bin/env bash
# fleet_e2e.sh - a fleet that changes, with real agents, collector and CLI on loopback.
#
# Three agents with labels: prod1 (env=prod, service=orders) and prod2 (env=prod,
# service=users) probe the production app, stage1 (env=staging, service=orders) its own staging
# app. Then:
#   1. labels reach status (table and --json) and filter status and hosts collector-side;
#   2. staging's app fails: the unfiltered verdict names stage1, `diagnose --label env=prod` is
#      HEALTHY (exit 0), history and verify follow the filter too;
#   3. forgetting a live host: gone, then back with its next report;
#   4. forgetting a silent host: its host finding leaves the verdict, status no longer lists it,
#      its history stays (with a "forgotten" event); forgetting it again exits 1;
#   5. [collector] forget_after = 2s forgets a host silent that long, by itself, and records it.
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"

fl_init
fl_collector_conf "$FL_TMP/collector.conf"
echo 1.0 >"$FL_TMP/prod.release"
echo 1.0 >"$FL_TMP/stage.release"
fl_start_app prod
PROD_PORT=$FL_APP_PORT
fl_start_app stage
STAGE_PORT=$FL_APP_PORT
fl_start_collector collector

# agent NAME PORT LABELS: an agent probing the app on PORT, with the given labels line.
agent() {
	fl_agent_conf "$FL_TMP/$1.conf" "$1" 1.0
	cat >>"$FL_TMP/$1.conf" <<-EOF
		labels = $3

		[http "app"]
		url = http://127.0.0.1:$2/health
		timeout = 1s
	EOF
	fl_start_agent "$1"
}
agent prod1 "$PROD_PORT" "env=prod, service=orders"
agent prod2 "$PROD_PORT" "env=prod, service=users"
agent stage1 "$STAGE_PORT" "env=staging, service=orders"

# hosts_are JSON_COMMAND... EXPECTED: the sorted host names the command's JSON lists.
hosts_are() {
	local want=$1 got
	shift
	got=$(fl_cli_json "$@" | jq -c '[.hosts[].host] | sort') || return 1
	[[ $got == "$want" ]] || {
		echo "hosts $got, want $want"
		return 1
	}
}

# verdict_is VERDICT ARGS...: `diagnose ARGS --json` gives VERDICT.
verdict_is() {
	local want=$1 got
	shift
	got=$(fl_cli_json diagnose "$@") || return 1
	jq -e --arg v "$want" '.verdict == $v' <<<"$got" >/dev/null || {
		echo "$got"
		return 1
	}
}

# rc_of CMD...: prints CMD's exit status (its output goes to $FL_TMP/out.txt).
rc_of() {
	local rc=0
	"$@" >"$FL_TMP/out.txt" 2>&1 || rc=$?
	echo "$rc"
}

# --- 1. labels in status, filters on status and hosts ------------------------------------------
wait_for "three agents report" 20 hosts_are '["prod1","prod2","stage1"]' status
wait_for "every app probe ok" 20 verdict_is healthy
S=$(fl_cli_json status)
assert_jq "status --json carries each host's labels as an object" "$S" '
	[.hosts[] | {host, labels}] == [
		{host: "prod1", labels: {env: "prod", service: "orders"}},
		{host: "prod2", labels: {env: "prod", service: "users"}},
		{host: "stage1", labels: {env: "staging", service: "orders"}}]'
fl_cli status >"$FL_TMP/status.txt" || true
grep -q "labels: env=prod, service=orders" "$FL_TMP/status.txt" ||
	fl_fail "human status does not show prod1's labels: $(cat "$FL_TMP/status.txt")"
hosts_are '["prod1","prod2"]' status --label env=prod || fl_fail "status --label env=prod"
hosts_are '["prod1","stage1"]' hosts --label service=orders || fl_fail "hosts --label service=orders"
hosts_are '["prod1"]' status --label env=prod --label service=orders ||
	fl_fail "two --label filters are an AND"
hosts_are '[]' hosts --label env=dev || fl_fail "a label nobody carries lists no host"
H=$(fl_cli_json hosts --label env=staging)
assert_jq "hosts --json carries labels" "$H" \
	'.hosts == [.hosts[0]] and .hosts[0].labels == {env: "staging", service: "orders"}'
assert_eq "a malformed --label is a usage error" 2 "$(rc_of fl_cli status --label env)"
grep -q "is not KEY=VALUE" "$FL_TMP/out.txt" || fl_fail "no reason for a bad --label: $(cat "$FL_TMP/out.txt")"

# --- 2. a fault on staging only ------------------------------------------------------------------
fl_app_mode stage 503
wait_for "the unfiltered verdict is code on stage1" 20 verdict_is code
D=$(fl_cli_json diagnose)
assert_jq "the unfiltered verdict names staging's host only" "$D" \
	'.verdict == "code" and .findings[0].hosts == ["stage1"]'
assert_eq "diagnose --label env=prod exits 0" 0 "$(rc_of fl_cli diagnose --label env=prod)"
grep -q "^HEALTHY" "$FL_TMP/out.txt" || fl_fail "diagnose --label env=prod: $(cat "$FL_TMP/out.txt")"
D=$(fl_cli_json diagnose --label env=prod)
assert_jq "production's verdict is healthy, counting its own 2 hosts" "$D" \
	'.verdict == "healthy" and (.summary | test("2 hosts reporting")) and .findings == []'
D=$(fl_cli_json diagnose --label env=staging)
assert_jq "staging's verdict is its fault" "$D" '.verdict == "code" and .findings[0].hosts == ["stage1"]'
HIST=$(fl_cli_json history --label env=prod)
assert_jq "history --label env=prod holds no staging or fleet-wide event" "$HIST" \
	'all(.events[]; .host == "prod1" or .host == "prod2")'
HIST=$(fl_cli_json history --label env=staging)
assert_jq "history --label env=staging holds stage1's failure" "$HIST" '
	any(.events[]; .host == "stage1" and .kind == "status" and .to == "fail")
	and all(.events[]; .host == "stage1")'
VERIFY=(verify --release 1.0 --rounds 1 --no-canary --timeout 20s --survey-timeout 3s)
assert_eq "verify --label env=prod passes: staging is not asked" 0 \
	"$(rc_of fl_cli "${VERIFY[@]}" --label env=prod --json)"
assert_jq "verify --label env=prod verified the prod hosts only" "$(cat "$FL_TMP/out.txt")" \
	'.result == "passed" and (.hosts | sort) == ["prod1", "prod2"]'
assert_eq "verify without a label fails on staging's app" 1 "$(rc_of fl_cli "${VERIFY[@]}")"
fl_app_mode stage ok
wait_for "staging recovers" 20 verdict_is healthy

# --- 3. forget a live host: it comes back with its next report ----------------------------------
assert_eq "forget prod2 exits 0" 0 "$(rc_of fl_cli forget --json prod2)"
assert_jq "forget --json says what was forgotten" "$(cat "$FL_TMP/out.txt")" \
	'.host == "prod2" and .forgotten == true and .stale == false and .probes == 1
	and (.last_seen | test("^[0-9]{4}-"))'
wait_for "prod2 reports again and is back" 10 hosts_are '["prod1","prod2","stage1"]' status
S=$(fl_cli_json status --label service=users)
assert_jq "prod2 is back with its labels" "$S" \
	'.hosts[0].host == "prod2" and .hosts[0].labels.env == "prod" and .hosts[0].stale == false'

# --- 4. forget a silent host -------------------------------------------------------------------
fl_stop agent-prod2
stale_finding() {
	local d
	d=$(fl_cli_json diagnose) || return 1
	jq -e '.verdict == "host" and .findings[0].hosts == ["prod2"]' <<<"$d" >/dev/null || {
		echo "$d"
		return 1
	}
}
wait_for "a silent prod2 is a host finding" 20 stale_finding
assert_eq "diagnose exits 1 on the host finding" 1 "$(rc_of fl_cli diagnose)"
assert_eq "forget prod2 (silent) exits 0" 0 "$(rc_of fl_cli forget prod2)"
grep -q "forgot prod2 (silent" "$FL_TMP/out.txt" || fl_fail "forget output: $(cat "$FL_TMP/out.txt")"
hosts_are '["prod1","stage1"]' status || fl_fail "prod2 still in status after forget"
D=$(fl_cli_json diagnose)
assert_jq "the verdict no longer names prod2" "$D" '.verdict == "healthy"'
assert_eq "diagnose exits 0 once it is forgotten" 0 "$(rc_of fl_cli diagnose)"
assert_eq "forgetting an unknown host exits 1" 1 "$(rc_of fl_cli forget prod2)"
grep -q "knows no host named 'prod2'" "$FL_TMP/out.txt" || fl_fail "$(cat "$FL_TMP/out.txt")"
assert_eq "status --host prod2 exits 2 (no such host)" 2 "$(rc_of fl_cli status --host prod2)"
forgotten_in_history() {
	local h
	h=$(fl_cli_json history --host "$1") || return 1
	jq -e --arg from "$2" --arg d "$3" '
		any(.events[]; .kind != "forgotten") and
		(last(.events[] | select(.kind == "forgotten")) | .from == $from and .to == "forgotten"
			and (.detail | contains($d)))' <<<"$h" >/dev/null || {
		echo "$h"
		return 1
	}
}
wait_for "prod2's history stays, with the forget" 10 forgotten_in_history prod2 stale "faultline forget"
H=$(fl_cli_json history --host prod2)
assert_jq "both forgets are in prod2's history" "$H" '[.events[] | select(.kind == "forgotten")] | length == 2'
assert_eq "forget without a host is a usage error" 2 "$(rc_of fl_cli forget)"
assert_eq "forget --help exits 0" 0 "$(rc_of fl_cli forget --help)"
grep -q "forget_after" "$FL_TMP/out.txt" || fl_fail "forget --help does not mention forget_after"
assert_eq "forget against no collector exits 2" 2 \
	"$(rc_of "$FL_CLI_BIN" -C "ipc://$FL_TMP/nobody.sock" --timeout 1s forget prod1)"

# --- 5. forget_after ----------------------------------------------------------------------------
fl_stop collector
assert_eq "collector stops cleanly" 0 "$FL_LAST_RC"
echo "forget_after = 2s" >>"$FL_TMP/collector.conf"
"$FL_COLLECTOR_BIN" -c "$FL_TMP/collector.conf" --check-config >/dev/null ||
	fl_fail "forget_after = 2s does not pass --check-config"
fl_start_collector collector2
wait_for "both agents report to the new collector" 20 hosts_are '["prod1","stage1"]' status
fl_stop agent-stage1
gone_after() {
	hosts_are '["prod1"]' status || return 1
	forgotten_in_history stage1 stale "forget_after 2.0s"
}
wait_for "forget_after forgets the silent stage1 by itself" 30 gone_after
S=$(fl_cli_json status)
assert_jq "the live prod1 is kept" "$S" '[.hosts[].host] == ["prod1"] and .hosts[0].stale == false'
grep -q "forgot 1 host silent longer than forget_after" "$FL_TMP/collector2.log" ||
	fl_fail "the collector did not log the forget"
