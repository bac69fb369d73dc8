#!/usr/bin/env bash
# skeleton_e2e.sh - the first end-to-end test (every part at its simplest), with real processes on loopback:
# a collector and two agents (app1, app2; interval 1s) probe a real HTTP app whose behaviour the
# test switches ok -> 503 -> slow -> down. `faultline status --json` must show each step with the
# right status and failure class on both hosts, and `faultline history --json` exactly that
# chain of transitions. Then the collector is killed (-9) and restarted on the same state file:
# the agents must come back by themselves (new results arrive) and the history from before the
# restart must be intact.
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"

fl_init
fl_collector_conf "$FL_TMP/collector.conf"
echo 1.0 >"$FL_TMP/app.release"
fl_start_app app
fl_start_collector collector

HOSTS=(app1 app2)
for h in "${HOSTS[@]}"; do
	fl_agent_conf "$FL_TMP/$h.conf" "$h" 1.0
	cat >>"$FL_TMP/$h.conf" <<-EOF

		[http "app"]
		url = http://127.0.0.1:$FL_APP_PORT/health
		expect_status = 200
		body_contains = ok
		timeout = 5s
		slow = 2s

		[tcp "app-port"]
		address = 127.0.0.1:$FL_APP_PORT
		timeout = 1s

		[dns "localhost"]
		name = localhost
	EOF
	fl_start_agent "$h"
done

# probe_on_all PROBE STATUS FAILURE: true when every host's PROBE shows STATUS and FAILURE.
probe_on_all() {
	local json
	json=$(fl_cli_json status) || return 1
	jq -e --arg p "$1" --arg s "$2" --arg f "$3" '
		[.hosts[] | select(.host == "app1" or .host == "app2")] as $h
		| ($h | length) == 2
		and all($h[]; any(.probes[]; .name == $p and .status == $s and .failure == $f))' \
		<<<"$json" >/dev/null || {
		jq -c --arg p "$1" '[.hosts[] | {host, probe: (.probes[] | select(.name == $p)
			| {status, failure, detail})}]' <<<"$json"
		return 1
	}
}

# status_rc: the exit status of the human `faultline status`.
status_rc() {
	local rc=0
	fl_cli status >"$FL_TMP/status.txt" 2>&1 || rc=$?
	echo "$rc"
}

# --- 1. everything fine ------------------------------------------------------------------------
wait_for "both agents report app ok" 20 probe_on_all app ok none
wait_for "both agents report app-port ok" 10 probe_on_all app-port ok none
wait_for "both agents report dns localhost ok" 10 probe_on_all localhost ok none
S=$(fl_cli_json status)
assert_jq "status lists exactly the two agents" "$S" '[.hosts[].host] | sort == ["app1", "app2"]'
assert_jq "hosts carry release, interval, agent version, freshness" "$S" '
	all(.hosts[]; .release == "1.0" and .interval_ms == 1000 and (.agent_version | length) > 0
		and .stale == false and (.age_s | type) == "number" and (.last_seen | test("^[0-9]{4}-")))'
assert_jq "the http probe reports kind, target, latency and timing" "$S" --arg u \
	"http://127.0.0.1:$FL_APP_PORT/health" '
	all(.hosts[].probes[] | select(.name == "app");
		.kind == "http" and .target == $u and (.latency_ms | type) == "number"
		and .latency_ms > 0 and (.timing.total_ms | type) == "number"
		and (.started | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")))'
assert_jq "tcp and dns probes carry their kind and target" "$S" --arg a "127.0.0.1:$FL_APP_PORT" '
	all(.hosts[].probes[] | select(.name == "app-port"); .kind == "tcp" and .target == $a)
	and all(.hosts[].probes[] | select(.name == "localhost"); .kind == "dns"
		and .target == "localhost")'
assert_jq "collector stats count applied reports" "$S" \
	'.stats.reports_applied >= 2 and .stats.results_applied >= 6 and .stats.dropped_undecodable == 0'
assert_eq "faultline status exits 0 when all is well" 0 "$(status_rc)"
grep -q app1 "$FL_TMP/status.txt" && grep -q app2 "$FL_TMP/status.txt" ||
	fl_fail "human status does not name both hosts: $(cat "$FL_TMP/status.txt")"
H=$(fl_cli_json hosts)
assert_jq "hosts --json lists both hosts, nothing failing" "$H" '
	[.hosts[] | select(.host == "app1" or .host == "app2")] | length == 2
	and all(.[]; .release == "1.0" and .stale == false and .probes_failing == 0)'

# --- 2. the app answers 503 ---------------------------------------------------------------------
fl_app_mode app 503
wait_for "both agents report app fail/http_5xx" 15 probe_on_all app fail http_5xx
S=$(fl_cli_json status)
assert_jq "503: the tcp port is still ok (the failure is HTTP, not the network)" "$S" \
	'all(.hosts[].probes[] | select(.name == "app-port"); .status == "ok")'
assert_jq "503: detail names the status code" "$S" \
	'all(.hosts[].probes[] | select(.name == "app"); .detail | test("503"))'
assert_eq "faultline status exits 1 while something fails" 1 "$(status_rc)"
H=$(fl_cli_json hosts)
assert_jq "hosts --json counts the failing probe" "$H" \
	'all(.hosts[] | select(.host == "app1" or .host == "app2"); .probes_failing == 1)'

# --- 3. the app is slow (3000 ms > slow = 2s) ----------------------------------------------------
# (slow = 300ms, then 1s, made an ok answer slow now and then on a saturated machine: a stray
# ok -> warn in history)
fl_app_mode app slow 3000
wait_for "both agents report app warn/slow" 15 probe_on_all app warn slow
S=$(fl_cli_json status)
assert_jq "slow: latency is over the threshold" "$S" \
	'all(.hosts[].probes[] | select(.name == "app"); .latency_ms >= 2000)'

# --- 4. the app stops listening ------------------------------------------------------------------
fl_app_mode app down
wait_for "both agents report app fail/refused" 15 probe_on_all app fail refused
wait_for "both agents report app-port fail/refused" 10 probe_on_all app-port fail refused
S=$(fl_cli_json status)
assert_jq "down: dns is unaffected" "$S" \
	'all(.hosts[].probes[] | select(.name == "localhost"); .status == "ok")'

# --- 5. history shows exactly that chain ---------------------------------------------------------
# app_chain JSON HOST: the app probe's status transitions as [from, to, failure], with the
# host's first sighting (a transition into ok) dropped.
app_chain() {
	jq -c --arg h "$2" '[.events[] | select(.kind == "status" and .host == $h and .probe == "app")
		| [.from, .to, .failure]] | until(length == 0 or .[0][1] != "ok"; .[1:])' <<<"$1"
}
HIST=$(fl_cli_json history)
assert_jq "history is oldest first" "$HIST" \
	'[.events[].at] as $a | $a == ($a | sort) and ($a | length) > 0'
for h in "${HOSTS[@]}"; do
	assert_eq "history of $h/app is ok -> http_5xx -> slow -> refused" \
		'[["ok","fail","http_5xx"],["fail","warn","slow"],["warn","fail","refused"]]' \
		"$(app_chain "$HIST" "$h")"
done
assert_jq "history records app-port going from ok to refused on both hosts" "$HIST" '
	. as $all | all("app1", "app2"; . as $h | [$all.events[] | select(.kind == "status"
		and .host == $h and .probe == "app-port")] | last
		| .from == "ok" and .to == "fail" and .failure == "refused")'

# --- 6. the collector dies (kill -9) and comes back on the same state ---------------------------
fl_stop collector KILL
assert_eq "collector killed by SIGKILL" 137 "$FL_LAST_RC"
rc=0
fl_cli status --json >/dev/null 2>"$FL_TMP/unreachable.txt" || rc=$?
assert_eq "faultline status exits 2 when the collector is unreachable" 2 "$rc"
[[ -s $FL_TMP/unreachable.txt ]] || fl_fail "no message when the collector is unreachable"
fl_app_mode app ok
# The outage must last a few probe intervals so the agents see their collector gone; this is
# the fault being injected, not a wait for a condition.
sleep 3
fl_running agent-app1 || fl_fail "agent app1 exited while the collector was down"
fl_running agent-app2 || fl_fail "agent app2 exited while the collector was down"
fl_start_collector collector2
HIST2=$(fl_cli_json history)
assert_jq "history from before the restart is intact" "$HIST2" --argjson old "$HIST" \
	'($old.events - .events) == []'
wait_for "both agents reconnect and report app ok" 20 probe_on_all app ok none
wait_for "both agents report app-port ok again" 10 probe_on_all app-port ok none
S=$(fl_cli_json status)
assert_jq "after the restart both hosts are fresh" "$S" \
	'[.hosts[] | select(.host == "app1" or .host == "app2") | .stale] == [false, false]'
assert_jq "after the restart the collector applies new reports" "$S" '.stats.reports_applied >= 2'
HIST3=$(fl_cli_json history)
for h in "${HOSTS[@]}"; do
	assert_eq "history of $h/app continues with refused -> ok" \
		'[["ok","fail","http_5xx"],["fail","warn","slow"],["warn","fail","refused"],["fail","ok","none"]]' \
		"$(app_chain "$HIST3" "$h")"
done
assert_eq "faultline status exits 0 after recovery" 0 "$(status_rc)"

# --- 7. clean shutdown -------------------------------------------------------------------------
for h in "${HOSTS[@]}"; do
	fl_stop "agent-$h" TERM
	assert_eq "agent $h exits 0 on SIGTERM" 0 "$FL_LAST_RC"
done
fl_stop collector2 TERM
assert_eq "collector exits 0 on SIGTERM" 0 "$FL_LAST_RC"
