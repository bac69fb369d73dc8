#!/usr/bin/env bash
# failover_test.sh - "lose nothing" with several collectors: an agent that lists two loses no
# round and applies none twice when the one that listens goes away and the other takes over on
# the same state (what an active/standby pair looks like to the agent: one listens at a time).
#
# The agent lists both (`collector = A, B`, `survey = A, B`) and probes flip_app.py, so every
# round is one transition in history. Collector A runs and is killed -9; rounds made while
# nothing listens wait in the agent's spool; collector B starts on the other addresses with the
# SAME SQLite state file. B's history must hold every round exactly once, in order, each at its
# own time (rel_check_rounds), and B must have dropped the re-sent copies of rounds A had
# applied as duplicates. FL_TEST_STATE_PG=1 (reliability_failover_pgsql): the shared state is a
# PostgreSQL database, as for an active/standby pair.
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"
source "$FL_SOURCE/tests/reliability/lib.sh"

fl_init
rel_start_flip

# Two collectors on one state file (fl_collector_conf sets FL_STATE for both).
fl_collector_conf "$FL_TMP/a.conf"
A_REPORT=$FL_REPORT_URL A_SURVEY=$FL_SURVEY_URL A_CONTROL=$FL_CONTROL
B_REPORT=tcp://127.0.0.1:$(fl_free_port) B_SURVEY=tcp://127.0.0.1:$(fl_free_port)
B_CONTROL=ipc://$FL_TMP/control-b.sock
sed -e "s|^listen = .*|listen = $B_REPORT|" -e "s|^survey = .*|survey = $B_SURVEY|" \
	-e "s|^control = .*|control = $B_CONTROL|" -e "s|^http = .*|http = |" \
	"$FL_TMP/a.conf" >"$FL_TMP/b.conf"
fl_start collector-a "$FL_COLLECTOR_BIN" -c "$FL_TMP/a.conf"
wait_for "collector A answers" 20 fl_collector_answers collector-a

FL_REPORT_URL="$A_REPORT, $B_REPORT" FL_SURVEY_URL="$A_SURVEY,$B_SURVEY" rel_flip_agent a1
grep -q "^collector = $A_REPORT, $B_REPORT$" "$FL_TMP/a1.conf" || fl_fail "the agent lists one collector"
wait_for "A records 6 rounds of a1" 30 rel_flips_at_least a1 6

# --- A dies; the agent spools; B takes over on the same state ------------------------------------
fl_stop collector-a KILL
killed_at=$(served)
fl_log "A killed after $killed_at rounds"
wait_for "the agent saw the connection end" 10 grep -q "lost connection to collector $A_REPORT" \
	"$FL_TMP/agent-a1.log"
wait_for "the agent keeps probing with no collector (4 rounds)" 20 at_least_served $((killed_at + 4))
fl_start collector-b "$FL_COLLECTOR_BIN" -c "$FL_TMP/b.conf"
FL_CONTROL=$B_CONTROL
wait_for "collector B answers" 20 fl_collector_answers collector-b
wait_for "the agent connected to B" 20 grep -q "connected to collector $B_REPORT" \
	"$FL_TMP/agent-a1.log"
fl_log "B took over; $(($(served) - killed_at)) rounds made since A died"
wait_for "3 live rounds after the take-over" 20 at_least_served $(($(served) + 3))
fl_stop agent-a1 TERM
rel_check_rounds a1

S=$(fl_cli_json status)
fl_log "B's stats: $(jq -c '.stats | {reports_received, reports_applied, dropped_duplicate}' <<<"$S")"
assert_jq "B dropped the re-sent copies of rounds A had applied, as duplicates" "$S" \
	'.stats.dropped_duplicate >= 1'
assert_jq "the spool dropped nothing" "$S" 'all(.hosts[] | select(.host == "a1"); .spool_dropped == 0)'
