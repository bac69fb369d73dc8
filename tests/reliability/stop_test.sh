#!/usr/bin/env bash
# stop_test.sh - SIGTERM stops the collector within 5 s, exit 0, store intact, whatever its
# sockets are doing: reports from 200 simulated hosts and two real agents, control clients that
# pipeline requests and never read the replies, peers stalled mid-message on the report and
# survey listeners, and a probe-now survey waiting for hosts that never answer. Three rounds on
# the same state file; then one where the socket teardown is made to hang
# (FL_TEST_STOP_STALL_MS, standing in for a wedged nng): the stop deadline ends the process,
# with the state already written, exit 0. Last, an nng wedged during the run
# (FL_TEST_WEDGE_WATCHDOG): the collector notices, writes the state and exits 1.
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"
source "$FL_SOURCE/tests/reliability/lib.sh"

RAW=$FL_BUILD/tests/collector/raw_peer
LOADGEN=$FL_BUILD/bench/collector/coll_loadgen
STOP_MAX_MS=5000
fl_init "$FL_COLLECTOR_BIN" "$FL_CLI_BIN" "$FL_AGENT_BIN" "$RAW" "$LOADGEN"

fl_collector_conf "$FL_TMP/collector.conf"
sed -i 's/^log_level = .*/log_level = debug/' "$FL_TMP/collector.conf"
fl_start_app app
for h in web1 web2; do
	fl_agent_conf "$FL_TMP/$h.conf" "$h"
	cat >>"$FL_TMP/$h.conf" <<-EOC

		[http "app"]
		url = http://127.0.0.1:$FL_APP_PORT/health
		timeout = 800ms
	EOC
	fl_start_agent "$h"
done

# stop_collector: SIGTERM, waits (up to 15 s) and checks the exit: within STOP_MAX_MS, status 0.
stop_collector() {
	local pid t ms rc=0
	pid=$(fl_pid collector)
	t=$(date +%s%N)
	kill -TERM "$pid"
	while kill -0 "$pid" 2>/dev/null && (($(date +%s%N) - t < 15000000000)); do
		sleep 0.02
	done
	ms=$((($(date +%s%N) - t) / 1000000))
	kill -0 "$pid" 2>/dev/null && fl_fail "collector still running $ms ms after SIGTERM"
	wait "$pid" || rc=$?
	unset "FL_PIDS[collector]"
	((ms <= STOP_MAX_MS)) || fl_fail "stop took $ms ms (bound $STOP_MAX_MS ms)"
	assert_eq "exit status after SIGTERM (stop took $ms ms)" 0 "$rc"
	STOP_MS=$ms
}

store_intact() {
	assert_eq "SQLite integrity after the stop" ok "$(rel_sql 'pragma integrity_check')"
	local hosts
	hosts=$(rel_sql 'select count(*) from hosts')
	((hosts >= 202)) || fl_fail "only $hosts hosts stored (200 simulated + 2 agents)"
}

for round in 1 2 3; do
	fl_start_collector collector
	CPID=$(fl_pid collector)
	fl_start "loadgen$round" "$LOADGEN" -l "$FL_REPORT_URL" -C "$FL_CONTROL" -p "$CPID" -n 200 \
		-m 20 -d 30 -c 2 -i 500 -k
	wait_for "agents and simulated hosts in the state" 30 bash -c "
		j=\$('$FL_CLI_BIN' -C '$FL_CONTROL' status --json); jq -e '(.hosts | length) >= 202' <<<\"\$j\""
	fl_start "pipeline$round" "$RAW" pipeline "$FL_CONTROL" 10 30
	fl_start "partial$round" "$RAW" partial "$FL_REPORT_URL" 100 250000 push 30
	fl_start "partial_survey$round" "$RAW" partial "$FL_SURVEY_URL" 100 250000 respondent 30
	# The simulated hosts never answer a survey: this waits its whole minute.
	fl_start "probe$round" "$FL_CLI_BIN" -C "$FL_CONTROL" probe-now --timeout 60s
	wait_for "the pipelining clients get cut off" 20 bash -c "
		j=\$('$FL_CLI_BIN' -C '$FL_CONTROL' status --json); jq -e '.stats.control_clients_cut >= 1' <<<\"\$j\""
	sleep 1 # the test: the stop comes with all of that load held on the collector for a while
	rows=$(rel_sql 'select count(*) from history')
	stop_collector
	fl_log "round $round: stopped in $STOP_MS ms under load"
	if grep -q 'stop did not finish' "$FL_TMP/collector.log"; then
		fl_log "note: round $round needed the stop deadline (nng teardown hung): $(grep -E 'closing the|did not finish' "$FL_TMP/collector.log" | tail -2 | tr '\n' ' ')"
	fi
	store_intact
	after=$(rel_sql 'select count(*) from history')
	((after >= rows)) || fl_fail "history lost rows: $rows before the stop, $after after"
	for p in "loadgen$round" "pipeline$round" "partial$round" "partial_survey$round" "probe$round"; do
		fl_stop "$p" KILL
	done
	mv "$FL_TMP/collector.log" "$FL_TMP/collector-$round.log.old"
done

# A hung socket teardown: the deadline ends the process once the state is written.
FL_TEST_STOP_STALL_MS=60000 fl_start_collector collector
stop_collector
grep -q 'stop did not finish within 3000 ms (state written, sockets still closing); exiting now' \
	"$FL_TMP/collector.log" || fl_fail "the stop deadline did not fire or was not logged"
store_intact
fl_log "ok: a hung teardown ended by the deadline in $STOP_MS ms, exit 0"

# nng wedged for good (its pipe reaper hung: every close hangs, connections are never
# released): the collector notices (its watchdog has not come back for 15 s), writes the state
# and exits 1 so that systemd restarts it.
mv "$FL_TMP/collector.log" "$FL_TMP/collector-stall.log.old"
FL_TEST_WEDGE_WATCHDOG=1 fl_start_collector collector
pid=$(fl_pid collector)
wait_for "the collector notices nng is wedged and exits" 30 bash -c "! kill -0 $pid 2>/dev/null"
rc=0
wait "$pid" || rc=$?
unset "FL_PIDS[collector]"
assert_eq "exit status when nng is wedged (so that systemd restarts it)" 1 "$rc"
grep -q 'nng is wedged' "$FL_TMP/collector.log" || fl_fail "the wedge was not logged"
grep -q 'state written, sockets still closing' "$FL_TMP/collector.log" ||
	fl_fail "the state was not written before the exit"
store_intact
fl_log "ok: a wedged nng ends in a restartable exit with the state written"
