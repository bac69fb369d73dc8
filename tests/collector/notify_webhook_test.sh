#!/usr/bin/env bash
# notify_webhook_test.sh - webhook notifications with real processes: a collector,
# two agents (1 s interval) probing the demo app, and a small local HTTP sink
# (tests/lib/webhook_sink.py).
#   1. Nothing lost: the sink is down while the app fails (503 on both hosts: one CODE finding)
#      and the collector is restarted in between, while the app recovers. Once the sink is up,
#      firing then resolved arrive, once each (by event id), with the documented body, the
#      configured headers (the secret one from header_file, never logged) and status --json
#      counting sent/failed/retried, also after another restart.
#   2. Flap: a fault shorter than `for` notifies nothing.
#   3. Hostile receivers: one that hangs, one that answers byte by byte, one that answers 1 GB,
#      beside a good one: the good one gets its notification, the others' tries are bounded by
#      their timeout and counted, ingest is unaffected (status answers within 4 s, well inside
#      the hanging one's 10 s timeout; reports keep being applied), and SIGTERM still stops the
#      collector within 3 s.
# FL_TEST_STATE_PG=1 runs it all with the state on a real PostgreSQL (the harness starts it).
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"

SINK=$FL_SOURCE/tests/lib/webhook_sink.py
fl_init

# collector_conf FOR WEBHOOK_SECTIONS: a fresh collector config with [notify] and webhooks.
collector_conf() {
	fl_collector_conf "$FL_TMP/collector.conf"
	cat >>"$FL_TMP/collector.conf" <<-EOF

		[notify]
		for = $1
		resolve_after = 2
		retry_max = 2s
		$2
	EOF
}

# fresh_state: an empty state database for the next collector (stopped by then).
fresh_state() {
	if [[ ${FL_TEST_STATE_PG:-0} == 1 ]]; then
		fl_pgstate_reset || fl_fail "cannot recreate the PostgreSQL state"
	else
		rm -f "$FL_TMP/collector.db"*
	fi
}

start_agents() {
	local h
	for h in app1 app2; do
		fl_agent_conf "$FL_TMP/$h.conf" "$h" 1.0
		cat >>"$FL_TMP/$h.conf" <<-EOF

			[http "app"]
			url = http://127.0.0.1:$FL_APP_PORT/health
			timeout = 2s
		EOF
		fl_start_agent "$h"
	done
}

# verdict_is V: the collector's verdict is V.
verdict_is() {
	local json
	json=$(fl_cli_json diagnose) || return 1
	jq -e --arg v "$1" '.verdict == $v' <<<"$json" >/dev/null || {
		jq -c '{verdict, summary}' <<<"$json"
		return 1
	}
}

# receiver_has NAME FILTER: status --json's notifications entry of NAME satisfies FILTER.
receiver_has() {
	local json
	json=$(fl_cli_json status) || return 1
	jq -e --arg n "$1" "(.notifications[] | select(.receiver == \$n)) | $2" <<<"$json" \
		>/dev/null || {
		jq -c '.notifications' <<<"$json"
		return 1
	}
}

# lines FILE FILTER: how many JSON lines of FILE match FILTER.
lines() {
	if [[ -e $1 ]]; then
		jq -c "select($2)" "$1" | wc -l
	else
		echo 0
	fi
}

# lines_at_least FILE FILTER N: for wait_for (counted at each try).
lines_at_least() { (($(lines "$1" "$2") >= $3)); }

# --- 1. the sink down during the fault, a restart in between -----------------------------------
SINK_PORT=$(fl_free_port)
printf 'Authorization: Bearer s3cret-token-42\n' >"$FL_TMP/auth.header"
chmod 600 "$FL_TMP/auth.header"
collector_conf 2s "[webhook \"ops\"]
url = http://127.0.0.1:$SINK_PORT/hook
header = X-Team: dba
header_file = $FL_TMP/auth.header
timeout = 1s"
# A secret file others may read is refused, by --check-config too, without showing the secret.
chmod 644 "$FL_TMP/auth.header"
rc=0
out=$("$FL_COLLECTOR_BIN" -c "$FL_TMP/collector.conf" --check-config 2>&1) || rc=$?
[[ $rc -eq 2 && $out == *header_file* && $out != *s3cret* ]] ||
	fl_fail "--check-config with a readable header_file: exit $rc: $out"
fl_log "ok: a group-readable header_file is refused: $out"
chmod 600 "$FL_TMP/auth.header"
"$FL_COLLECTOR_BIN" -c "$FL_TMP/collector.conf" --check-config >/dev/null
fl_start_app app
fl_start_collector collector
start_agents
wait_for "healthy" 30 verdict_is healthy
assert_jq "the receiver is listed, nothing sent yet" "$(fl_cli_json status)" \
	'.notifications == [{"receiver":"ops","kind":"webhook","sent":0,"failed":0,"retried":0,
	  "dropped":0,"pending":0,"down":false}]'

fl_app_mode app 503
wait_for "a code finding" 30 verdict_is code
wait_for "the firing waits in the outbox, tries failing" 30 receiver_has ops \
	'.pending >= 1 and .failed >= 1 and .down and .sent == 0'

fl_stop collector
fl_app_mode app ok
fl_start_collector collector
wait_for "healthy again after the restart" 30 verdict_is healthy
wait_for "the resolved queued behind the firing" 30 receiver_has ops '.pending >= 2'

# A loaded test machine may add a real fault of its own (a probe timing out): the assertions
# follow the first notification (this fault's firing) and its resolved, by event id.
first_pair() {
	jq -sc '.[0].event_id as $f | ($f | sub("-firing$"; "-resolved")) as $r
		| [.[] | select(.event_id == $f or .event_id == $r)]' "$FL_TMP/sink.jsonl"
}
pair_delivered() {
	[[ -e $FL_TMP/sink.jsonl ]] && first_pair | jq -e 'length >= 2' >/dev/null
}
fl_start sink python3 "$SINK" --port "$SINK_PORT" --out "$FL_TMP/sink.jsonl"
wait_for "firing and resolved delivered" 30 pair_delivered
got=$(first_pair)
assert_jq "firing then resolved, once each, one finding id, distinct event ids" "$got" '
	length == 2 and [.[].body.status] == ["firing", "resolved"]
	and (.[0].body.id == .[1].body.id) and (.[0].event_id != .[1].event_id)'
assert_jq "event ids are <id>-<fired ms>-<status>" "$got" '
	all(.[]; .event_id == "\(.body.id)-\(.event_id | split("-")[1])-\(.body.status)"
		and (.event_id | test("^[0-9a-f]{16}-[0-9]+-(firing|resolved)$")))'
assert_jq "the body has exactly the documented fields" "$got" '
	all(.[]; .body | keys == (["id","status","verdict","summary","hosts","targets","release",
		"evidence","since","ended"] | sort))'
# The resolved one is the finding as last seen: after the restart one host may have reported
# its recovery before the other (so its hosts, and its since, are those of the hosts left).
assert_jq "a code finding on both hosts, release 1.0, evidence, since; ended only when resolved" \
	"$got" '
	all(.[]; .body.verdict == "code" and .body.release == "1.0"
		and (.body.evidence | length) > 0
		and (.body.since | test("^[0-9]{4}-")) and (.body.summary | length) > 0)
	and (.[0].body.hosts | sort) == ["app1","app2"]
	and (.[1].body.hosts | length) > 0 and (.[1].body.hosts - ["app1","app2"]) == []
	and .[0].body.ended == null and (.[1].body.ended | test("^[0-9]{4}-"))'
assert_jq "headers: JSON, the configured one and the secret one from header_file" "$got" '
	all(.[]; .path == "/hook" and .headers["content-type"] == "application/json"
		and .headers["x-team"] == "dba"
		and .headers["authorization"] == "Bearer s3cret-token-42")'
grep -q s3cret "$FL_TMP"/collector.log && fl_fail "the secret header reached the log"
fl_log "ok: the secret is in no log"
assert_eq "the receiver's down and up are logged once each" "1 1" \
	"$(grep -c 'cannot deliver to webhook ops' "$FL_TMP/collector.log") $(grep -c 'webhook ops accepts notifications again' "$FL_TMP/collector.log")"
# The resolved waited behind the firing (order per finding), so only the firing was retried.
assert_jq "counters: both sent, the firing after failed tries" "$(fl_cli_json status)" '
	.notifications[0] | .sent >= 2 and .retried == 1 and .failed >= 2 and .down == false'
metrics=$(curl -sSf --max-time 5 "$FL_HTTP_URL/metrics")
grep -qE '^faultline_notifications_total\{receiver="ops",outcome="sent"\} [2-9]' <<<"$metrics" &&
	grep -qE '^faultline_notifications_total\{receiver="ops",outcome="retried"\} 1$' <<<"$metrics" &&
	grep -qE '^faultline_notifications_total\{receiver="ops",outcome="failed"\} [2-9]' <<<"$metrics" ||
	fl_fail "/metrics lacks the receiver's counters: $(grep notifications <<<"$metrics")"
fl_log "ok: /metrics counts them: $(grep -c '^faultline_notifications_total{' <<<"$metrics") series"
fl_stop collector
fl_start_collector collector
assert_jq "the counters survive a restart" "$(fl_cli_json status)" '
	.notifications[0] | .sent >= 2 and .retried == 1 and .failed >= 2'
fl_log "waiting 4 s: nothing more may arrive"
sleep 4 # a negative check: a duplicate would have to arrive within this window
assert_jq "nothing delivered twice (by event id)" "$(jq -sc . "$FL_TMP/sink.jsonl")" \
	'([.[].event_id] | length) == ([.[].event_id] | unique | length)'
assert_eq "this fault's pair still delivered once each" 2 "$(first_pair | jq length)"

# --- 2. a fault shorter than `for` notifies nothing ---------------------------------------------
fl_stop collector
fl_stop agent-app1
fl_stop agent-app2
fresh_state
rm -f "$FL_TMP/sink.jsonl"
collector_conf 1m "[webhook \"ops\"]
url = http://127.0.0.1:$SINK_PORT/hook
timeout = 1s"
fl_start_collector collector
start_agents
wait_for "healthy" 30 verdict_is healthy
fl_app_mode app 503
wait_for "a code finding" 30 verdict_is code
fl_app_mode app ok
wait_for "healthy again" 30 verdict_is healthy
fl_log "waiting 3 s (resolve_after): nothing may arrive"
sleep 3 # a negative check: a notification would have arrived by now
assert_eq "a flap shorter than for: nothing notified" 0 "$(lines "$FL_TMP/sink.jsonl" true)"
assert_jq "nothing queued either" "$(fl_cli_json status)" \
	'.notifications[0] | .pending == 0 and .sent == 0 and .failed == 0'

# --- 3. hostile receivers -----------------------------------------------------------------------
fl_stop collector
fl_stop agent-app1
fl_stop agent-app2
fresh_state
rm -f "$FL_TMP/sink.jsonl"
declare -A PORT
for m in hang slow huge; do
	PORT[$m]=$(fl_free_port)
	fl_start "sink-$m" python3 "$SINK" --port "${PORT[$m]}" --out "$FL_TMP/$m.jsonl" --mode "$m"
done
sections="[webhook \"good\"]
url = http://127.0.0.1:$SINK_PORT/hook
timeout = 1s"
for m in hang slow huge; do
	# The hanging one with a longer timeout (10 s), so that a status or a stop held up by it
	# would show, and a stop below lands inside a try.
	sections+="
[webhook \"$m\"]
url = http://127.0.0.1:${PORT[$m]}/hook
timeout = $([[ $m == hang ]] && echo 10s || echo 1s)"
done
collector_conf 1s "$sections"
for m in hang slow huge; do
	wait_for "sink $m listening" 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/${PORT[$m]}"
done
fl_start_collector collector
start_agents
wait_for "healthy" 30 verdict_is healthy
fl_app_mode app 503
wait_for "a code finding" 30 verdict_is code
wait_for "the good receiver got the firing" 30 receiver_has good '.sent >= 1'
wait_for "the hanging receiver failed (its timeout)" 30 receiver_has hang '.failed >= 1 and .down'
wait_for "the slow receiver failed twice (timeouts)" 30 receiver_has slow '.failed >= 2 and .down'
wait_for "the 1 GB receiver's 200 counts as delivered" 30 receiver_has huge '.sent >= 1'
wait_for "the 1 GB sink saw the collector stop reading" 10 lines_at_least "$FL_TMP/huge.jsonl" .huge_sent 1
fl_log "the 1 GB receiver got to send $(jq -s 'map(.huge_sent) | max' "$FL_TMP/huge.jsonl") bytes"
assert_jq "at most a few MB of the 1 GB were taken" "$(jq -sc . "$FL_TMP/huge.jsonl")" \
	'all(.[]; .huge_sent < 16 * 1048576)'

# Ingest is unaffected while the hostile receivers are retried: status answers well within the
# hanging receiver's 10 s timeout (4 s: the test machine may be loaded) and reports keep being
# applied.
before=$(fl_cli_json status | jq .stats.reports_applied)
for i in 1 2 3 4 5; do
	t0=$(date +%s%N)
	fl_cli_json status >/dev/null || fl_fail "status did not answer"
	ms=$((($(date +%s%N) - t0) / 1000000))
	((ms < 4000)) || fl_fail "status took ${ms} ms while receivers hang"
	sleep 0.5
done
fl_log "ok: status answered within 4 s each time"
wait_for "reports keep being applied" 10 bash -c \
	"test \$(\"$FL_CLI_BIN\" -C \"$FL_CONTROL\" status --json | jq .stats.reports_applied) -ge $((before + 4))"
rss=$(awk '/VmRSS/ {print $2}' "/proc/$(fl_pid collector)/status")
fl_log "collector RSS ${rss} kB"
((rss < 400000)) || fl_fail "collector RSS ${rss} kB: the 1 GB answer was not bounded"

# A stop while a try hangs (10 s timeout; one just began) ends within 3 s.
tries=$(lines "$FL_TMP/hang.jsonl" .hang)
wait_for "a new try to the hanging receiver" 30 lines_at_least "$FL_TMP/hang.jsonl" .hang $((tries + 1))
t0=$SECONDS
fl_stop collector
((SECONDS - t0 <= 3)) || fl_fail "the collector took $((SECONDS - t0)) s to stop"
assert_eq "the collector stopped cleanly" 0 "$FL_LAST_RC"
