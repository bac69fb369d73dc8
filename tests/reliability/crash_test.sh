#!/usr/bin/env bash
# crash_test.sh - "lose nothing", collector crash safety: under ingest load (the bench
# load generator, 300 simulated agents x 20 probes, 1 report/s each, many transitions) plus two
# real agents, kill -9 the collector and restart it, 5 times. Each time: SQLite's integrity check
# says ok, every history row committed before the kill (read-only snapshot just before it) is
# still there, state reloads (hosts), and the real agents reconnect by themselves.
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"
source "$FL_SOURCE/tests/reliability/lib.sh"

LOADGEN=$FL_BUILD/bench/collector/coll_loadgen
fl_init "$FL_AGENT_BIN" "$FL_COLLECTOR_BIN" "$FL_CLI_BIN" "$LOADGEN"
command -v sqlite3 >/dev/null || fl_fail "sqlite3 not found: apt-get install sqlite3"
ulimit -n 8192
rel_start_flip
fl_start_collector collector
REL_SPOOL=1000 rel_flip_agent a1
REL_SPOOL=1000 rel_flip_agent a2
# -k: the generator keeps going while the collector is down and redials by itself.
fl_start loadgen "$LOADGEN" -l "$FL_REPORT_URL" -C "$FL_CONTROL" -p "$(fl_pid collector)" \
	-n 300 -m 20 -d 600 -a -i 1000 -k -x -f 20

agents_fresh() {
	local j
	j=$(fl_cli_json status) || return 1
	jq -e '[.hosts[] | select(.host == "a1" or .host == "a2") | select(.age_s < 3)] | length == 2' \
		<<<"$j" >/dev/null
}
wait_for "both agents report" 20 agents_fresh

for i in 1 2 3 4 5; do
	wait_for "load reaches the collector" 20 bash -c "
		[[ \$(sqlite3 -readonly '$FL_STATE' 'select count(*) from hosts') -ge 100 ]]"
	sleep 3 # ingest under load for a while
	before=$(rel_sql "select coalesce(max(id),0) || ' ' || count(*) from history")
	hosts_before=$(rel_sql "select count(*) from hosts")
	fl_stop collector KILL
	read -r maxid rows <<<"$before"
	assert_eq "kill $i: integrity_check" ok "$(sqlite3 "$FL_STATE" 'PRAGMA integrity_check')"
	assert_eq "kill $i: all $rows history rows up to id $maxid committed before the kill survive" \
		"$rows" "$(rel_sql "select count(*) from history where id <= $maxid")"
	fl_start collector "$FL_COLLECTOR_BIN" -c "$FL_TMP/collector.conf"
	wait_for "kill $i: the collector answers again" 20 fl_collector_answers collector
	S=$(fl_cli_json status)
	assert_jq "kill $i: state reloads (at least the $hosts_before hosts stored)" "$S" \
		--argjson n "$hosts_before" '(.hosts | length) >= $n'
	wait_for "kill $i: the real agents reconnect by themselves" 20 agents_fresh
	fl_log "kill $i: history rows $rows -> $(rel_sql 'select count(*) from history'), stats $(jq -c '.stats | {reports_received, reports_applied, dropped_duplicate, dropped_overload}' <<<"$S")"
done
fl_stop loadgen TERM
assert_eq "integrity_check at the end" ok "$(sqlite3 "$FL_STATE" 'PRAGMA integrity_check')"
