#!/usr/bin/env bash
# agent_failover.sh - an agent configured with two collectors loses no round when one goes away
# and the other takes over on the same state (what an active/standby pair looks like to the
# agent: only one of the two listens at a time).
#
# The agent lists both collectors (`collector = A, B`, `survey = A, B`) and probes an app whose
# answer alternates on every request (tests/lib/flip_app.py), so each round is one transition
# in history. Collector A runs, is killed -9; rounds made while nothing listens wait in the
# agent's spool; collector B starts on the other addresses with the SAME SQLite state file. B's
# history must hold every round of the agent exactly once: as many alternating transitions as
# the app gave alternating answers, each chained to the one before (no duplicate, nothing out
# of order), none more than 2.5 intervals after the previous one (no gap), across the outage.
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"

fl_init

# --- two collectors on one state file, one agent listing both ---------------------------------
fl_collector_conf "$FL_TMP/a.conf" # sets FL_STATE, shared by both
A_REPORT=$FL_REPORT_URL A_SURVEY=$FL_SURVEY_URL A_CONTROL=$FL_CONTROL
B_REPORT=tcp://127.0.0.1:$(fl_free_port) B_SURVEY=tcp://127.0.0.1:$(fl_free_port)
B_CONTROL=ipc://$FL_TMP/control-b.sock
sed -e "s|^listen = .*|listen = $B_REPORT|" -e "s|^survey = .*|survey = $B_SURVEY|" \
	-e "s|^control = .*|control = $B_CONTROL|" -e "s|^http = .*|http = |" \
	"$FL_TMP/a.conf" >"$FL_TMP/b.conf"

APP_PORT=$(fl_free_port)
fl_start flip python3 "$FL_SOURCE/tests/lib/flip_app.py" "$APP_PORT" "$FL_TMP/flip.count" \
	"$FL_TMP/flip.frozen"
wait_for "flip app listening" 15 curl -s -o /dev/null "http://127.0.0.1:$APP_PORT/warmup"
# served: alternating answers so far (the warm-up request counts: the test only compares)
served() { cat "$FL_TMP/flip.count" 2>/dev/null || echo 0; }
warmup=$(served)

fl_start collector-a "$FL_COLLECTOR_BIN" -c "$FL_TMP/a.conf"
wait_for "collector A answers" 20 fl_collector_answers collector-a

FL_REPORT_URL="$A_REPORT, $B_REPORT" FL_SURVEY_URL="$A_SURVEY,$B_SURVEY" \
	fl_agent_conf "$FL_TMP/app1.conf" app1
printf '\n[http "flip"]\nurl = http://127.0.0.1:%s/health\ntimeout = 800ms\n' "$APP_PORT" \
	>>"$FL_TMP/app1.conf"
fl_start_agent app1

# flip_events CONTROL: the flip probe's status events, a JSON array of {at, from, to, failure}.
flip_events() {
	"$FL_CLI_BIN" -C "$1" history --json --host app1 --since 1h --limit 100000 |
		jq -c '[.events[] | select(.kind == "status" and .probe == "flip")
			| {at, from, to, failure}]'
}
# at_least_events CONTROL N
at_least_events() { [[ $(flip_events "$1" | jq length) -ge $2 ]]; }

wait_for "collector A records 6 rounds of the flip probe" 30 at_least_events "$A_CONTROL" 6
fl_log "A has $(flip_events "$A_CONTROL" | jq length) flip events; killing it (-9)"

# --- A dies; the agent spools; B takes over on the same state --------------------------------
fl_stop collector-a KILL
killed_at=$(served)
at_least_served() { [[ $(served) -ge $1 ]]; }
wait_for "the agent keeps probing with no collector (4 rounds)" 20 \
	at_least_served $((killed_at + 4))
wait_for "the agent saw the connection end" 10 grep -q "lost connection to collector" \
	"$FL_TMP/agent-app1.log"

fl_start collector-b "$FL_COLLECTOR_BIN" -c "$FL_TMP/b.conf"
FL_CONTROL=$B_CONTROL
wait_for "collector B answers" 20 fl_collector_answers collector-b
wait_for "the agent connected to B" 20 grep -q "connected to collector $B_REPORT" \
	"$FL_TMP/agent-app1.log"
now_served=$(served)
wait_for "B records the rounds up to now" 30 at_least_events "$B_CONTROL" \
	$((now_served - warmup - 1))

# --- freeze the app: what B holds is then every alternating round, or not --------------------
touch "$FL_TMP/flip.frozen"
rounds=$(($(served) - warmup))
fl_log "the agent made $rounds alternating rounds, $(($(served) - killed_at)) after A died"
has_freeze_event() {
	flip_events "$B_CONTROL" | jq -e 'any(.[]; .failure == "http_4xx")' >/dev/null
}
wait_for "B records the round after the freeze" 20 has_freeze_event

E=$(flip_events "$B_CONTROL")
fl_log "B's flip events: $(jq length <<<"$E")"
# The transitions between alternating rounds: all but the one into the frozen 404s and a first
# event of the new probe, if the collector records one (it is no transition between rounds).
T=$(jq -c '[.[] | select(.failure != "http_4xx" and .from != "" and .from != "unknown")]' \
	<<<"$E")
assert_jq "every alternating round after the first is one transition: $((rounds - 1))" "$T" \
	--argjson n $((rounds - 1)) 'length == $n'
assert_jq "each transition starts where the one before ended (no duplicate, no reordering)" \
	"$T" '[range(1; length) as $i | .[$i].from == .[$i - 1].to] | all'
assert_jq "transitions alternate ok and fail" "$T" \
	'[range(1; length) as $i | .[$i].to != .[$i - 1].to] | all'
assert_jq "no two events at the same time (none applied twice)" "$E" \
	'(map(.at) | unique | length) == length'
# seconds since the epoch, with the milliseconds, of an RFC 3339 "...:SS.mmmZ"
secs='def secs: (sub("\\.[0-9]+Z$"; "Z") | fromdate) + (capture("\\.(?<ms>[0-9]+)Z$").ms | tonumber / 1000);'
assert_jq "no gap: consecutive rounds at most 2.5 s apart (interval 1 s), across the outage" \
	"$T" "$secs"' [range(1; length) as $i | (.[$i].at | secs) - (.[$i - 1].at | secs)
		| select(. > 2.5)] | length == 0'
S=$("$FL_CLI_BIN" -C "$B_CONTROL" status --json || true)
assert_jq "B dropped the agent's re-sent copies of rounds A had applied, as duplicates" "$S" \
	'.stats.dropped_duplicate >= 1'
