#!/usr/bin/env bash
# spool_test.sh - "lose nothing", agent spool: the collector is down for 60 s while an
# agent probes every second; after the restart every round arrives, none twice, each placed in
# history at its own time. The probe flips ok/503 every round (flip_app.py), so every round is a
# history event and counting events counts rounds.
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"
source "$FL_SOURCE/tests/reliability/lib.sh"

DOWN=${REL_DOWN_SECONDS:-60}
fl_init
rel_start_flip
fl_start_collector collector
rel_flip_agent a1
wait_for "a1's first rounds in history" 20 bash -c "[[ \$(sqlite3 -readonly '$FL_STATE' \"select count(*) from history where host='a1' and probe='flip'\") -ge 5 ]]"

fl_stop collector TERM
seq_down=$(($(rel_sql "select last_seq from hosts where host='a1'") - $(rel_seq_offset a1)))
served_down=$(cat "$FLIP_COUNT")
fl_log "collector stopped at a1 seq $seq_down ($served_down rounds); down for $DOWN s"
sleep "$DOWN" # the outage itself: rounds keep happening, the agent spools them
served_up=$(cat "$FLIP_COUNT")
((served_up - served_down >= DOWN - 2)) || fl_fail "the agent did not keep probing while the collector was down ($served_down -> $served_up)"
fl_start_collector collector
# The spool drains (one burst) and rounds continue; then stop the agent so the count is final.
off=$(rel_seq_offset a1)
wait_for "a1 caught up: its last_seq reaches the rounds served" 30 bash -c "
	s=\$(sqlite3 -readonly '$FL_STATE' \"select last_seq from hosts where host='a1'\")
	[[ \$((s - $off)) -ge \$(cat '$FLIP_COUNT') ]]"
caught_up=$(served)
wait_for "three live rounds after the replay" 10 at_least_served $((caught_up + 3))
fl_stop agent-a1 TERM
grep -q "unsent reports discarded" "$FL_TMP/agent-a1.log" && fl_fail "the agent exited with reports unsent"
rel_check_rounds a1

S=$(fl_cli_json status)
final_seq=$(($(rel_sql "select last_seq from hosts where host='a1'") - off))
assert_eq "every round got a seq the collector holds" "$(cat "$FLIP_COUNT")" "$final_seq"
assert_jq "after the restart the collector applied each new round once (reports_applied = seqs since the stop)" \
	"$S" --argjson n "$((final_seq - seq_down))" '.stats.reports_applied == $n'
assert_jq "the spool dropped nothing" "$S" 'all(.hosts[] | select(.host == "a1"); .spool_dropped == 0)'
fl_log "collector stats after the restart: $(jq -c '.stats | {reports_received, reports_applied, dropped_duplicate}' <<<"$S")"
H=$(fl_cli_json history --host a1 --limit 100000)
assert_jq "faultline history shows the outage's rounds, one event per round" "$H" \
	--argjson n "$((final_seq - 1))" '[.events[] | select(.host == "a1" and .kind == "status" and .probe == "flip")] | length == $n'
