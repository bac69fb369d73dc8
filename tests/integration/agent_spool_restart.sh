#!/usr/bin/env bash
# agent_spool_restart.sh - rounds an agent made while no collector listened survive the agent's
# own restart (its spool file in state_dir) and reach the collector once each, in order.
#
# The agent probes an app whose answer alternates on every request (tests/lib/flip_app.py), so
# each round is one transition in history. No collector runs: the agent makes rounds, is killed
# -9 (right after a round was written to its spool file), starts again (a new boot_id) and makes
# more; only then does the collector start. Its history must hold every round of both starts
# exactly once, in order: as many alternating transitions as the app gave alternating answers,
# each chained to the one before, at strictly increasing times. The spool file is 0600.
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"

fl_init
fl_collector_conf "$FL_TMP/collector.conf"

APP_PORT=$(fl_free_port)
fl_start flip python3 "$FL_SOURCE/tests/lib/flip_app.py" "$APP_PORT" "$FL_TMP/flip.count" \
	"$FL_TMP/flip.frozen"
wait_for "flip app listening" 15 curl -s -o /dev/null "http://127.0.0.1:$APP_PORT/warmup"
served() { cat "$FL_TMP/flip.count" 2>/dev/null || echo 0; }
at_least_served() { [[ $(served) -ge $1 ]]; }
warmup=$(served)

fl_agent_conf "$FL_TMP/app1.conf" app1
printf '\n[http "flip"]\nurl = http://127.0.0.1:%s/health\ntimeout = 800ms\n' "$APP_PORT" \
	>>"$FL_TMP/app1.conf"
SPOOL=$FL_TMP/app1.state/spool

# --- first start: rounds with no collector, then kill -9 ---------------------------------------
fl_start_agent app1
wait_for "5 rounds made with no collector" 20 at_least_served $((warmup + 5))
# kill -9 the agent right after its last round reached the spool file (records in the file ==
# rounds the app answered), in one python process so no round slips in between.
python3 - "$SPOOL" "$FL_TMP/flip.count" "$warmup" "$(fl_pid agent-app1)" <<'EOF' ||
import os, signal, struct, sys, time
spool, count, warmup, pid = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def records():
    with open(spool, "rb") as f:
        b = f.read()
    n, off = 0, 24
    while off + 16 <= len(b):
        (length,) = struct.unpack_from("<I", b, off)
        off += 16 + length
        n += off <= len(b)
    return n
deadline = time.time() + 10
while time.time() < deadline:
    if records() == int(open(count).read()) - warmup:
        os.kill(pid, signal.SIGKILL)
        sys.exit(0)
    time.sleep(0.02)
sys.exit("the spool file never held every round made")
EOF
	fl_fail "cannot catch the agent with every round spooled"
fl_stop agent-app1 KILL
first=$(($(served) - warmup))
fl_log "first start made $first rounds"
assert_eq "the spool file is 0600" 600 "$(stat -c %a "$SPOOL")"

# --- second start: more rounds, still no collector ---------------------------------------------
fl_start_agent app1
wait_for "the second start found the first start's rounds" 10 grep -q \
	"reports of an earlier start found in the spool file" "$FL_TMP/agent-app1.log"
wait_for "3 more rounds made" 20 at_least_served $((warmup + first + 3))

# --- the collector starts: every round of both starts, once, in order --------------------------
fl_start_collector collector
flip_events() {
	fl_cli history --json --host app1 --since 1h --limit 100000 |
		jq -c '[.events[] | select(.kind == "status" and .probe == "flip")
			| {at, from, to, failure}]'
}
at_least_events() { [[ $(flip_events | jq length) -ge $1 ]]; }
wait_for "the collector records the spooled rounds" 30 at_least_events $((first + 2))
touch "$FL_TMP/flip.frozen"
rounds=$(($(served) - warmup))
fl_log "the agent made $rounds alternating rounds over two starts"
has_freeze_event() { flip_events | jq -e 'any(.[]; .failure == "http_4xx")' >/dev/null; }
wait_for "the collector records the round after the freeze" 30 has_freeze_event

E=$(flip_events)
fl_log "flip events: $(jq length <<<"$E")"
T=$(jq -c '[.[] | select(.failure != "http_4xx" and .from != "" and .from != "unknown")]' \
	<<<"$E")
assert_jq "every alternating round after the first is one transition: $((rounds - 1))" "$T" \
	--argjson n $((rounds - 1)) 'length == $n'
assert_jq "each transition starts where the one before ended (no duplicate, in order)" "$T" \
	'[range(1; length) as $i | .[$i].from == .[$i - 1].to] | all'
assert_jq "transitions alternate ok and fail" "$T" \
	'[range(1; length) as $i | .[$i].to != .[$i - 1].to] | all'
assert_jq "rounds at strictly increasing times (their own, not their arrival)" "$T" \
	'[range(1; length) as $i | .[$i].at > .[$i - 1].at] | all'
S=$(fl_cli_json status)
assert_jq "the host reports with its rounds replayed and none dropped" "$S" \
	'any(.hosts[]; .host == "app1" and .spool_dropped == 0)'
