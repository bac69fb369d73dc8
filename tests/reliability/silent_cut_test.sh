#!/usr/bin/env bash
# silent_cut_test.sh - "lose nothing", the silent cut: packets between agent and
# collector are dropped (iptables on lo, both directions, only this test's report port) while
# the connection is never torn down; during the cut the collector is also killed (-9) and
# restarted, so whatever sat in kernel buffers of the old connection can never be delivered by
# TCP retransmission. The agent must notice (TCP_USER_TIMEOUT / stalled sends), keep its rounds,
# and re-send what the dead connection swallowed: after the cut heals every round is in history
# exactly once, at its own time. Needs root (iptables).
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"
source "$FL_SOURCE/tests/reliability/lib.sh"

[[ $(id -u) -eq 0 ]] || fl_fail "needs root for iptables (run ctest as root)"
command -v iptables >/dev/null || fl_fail "iptables not found: apt-get install iptables"
CUT=${REL_CUT_SECONDS:-25}
fl_init
RULES=()
fl_test_cleanup() {
	local r
	for r in "${RULES[@]}"; do
		# shellcheck disable=SC2086
		iptables -D INPUT $r 2>/dev/null || true
	done
}
rel_start_flip
fl_start_collector collector
PORT=${FL_REPORT_URL##*:}
rel_flip_agent a1
wait_for "a1's first rounds in history" 20 bash -c "[[ \$(sqlite3 -readonly '$FL_STATE' \"select count(*) from history where host='a1' and probe='flip'\") -ge 5 ]]"

RULES=("-i lo -p tcp --dport $PORT -j DROP" "-i lo -p tcp --sport $PORT -j DROP")
for r in "${RULES[@]}"; do
	# shellcheck disable=SC2086
	iptables -I INPUT $r || fl_fail "cannot add iptables rule $r"
done
fl_log "cut: packets to and from port $PORT dropped for $CUT s"
t0=$SECONDS
sleep 3 # the test: the cut holds while the collector still runs, then the collector dies in it
fl_stop collector KILL
fl_start collector "$FL_COLLECTOR_BIN" -c "$FL_TMP/collector.conf"
wait_for "the restarted collector answers" 20 fl_collector_answers collector
wait_for "the agent notices the dead connection during the cut" $((CUT + 5)) \
	grep -q "lost connection to collector" "$FL_TMP/agent-a1.log"
fl_log "agent noticed after $((SECONDS - t0)) s"
sleep $((CUT - (SECONDS - t0) > 0 ? CUT - (SECONDS - t0) : 0))
fl_test_cleanup
RULES=()
fl_log "cut healed"
off=$(rel_seq_offset a1)
wait_for "a1 caught up: its last_seq reaches the rounds served" 40 bash -c "
	s=\$(sqlite3 -readonly '$FL_STATE' \"select last_seq from hosts where host='a1'\")
	[[ \$((s - $off)) -ge \$(cat '$FLIP_COUNT') ]]"
caught_up=$(served)
wait_for "three live rounds after the catch-up" 10 at_least_served $((caught_up + 3))
fl_stop agent-a1 TERM
rel_check_rounds a1
S=$(fl_cli_json status)
fl_log "collector stats: $(jq -c '.stats | {reports_received, reports_applied, dropped_duplicate}' <<<"$S")"
assert_jq "the spool dropped nothing" "$S" 'all(.hosts[] | select(.host == "a1"); .spool_dropped == 0)'
