#!/usr/bin/env bash
# overload_test.sh - overload: the load generator floods the collector at its maximum
# rate for 10 s (4 connections, 200 hosts x 20 probes, no pacing). Meanwhile `faultline status`
# must answer within 2 s every time, and the collector's RSS must stay under REL_RSS_MAX_MIB
# (default 256 MiB: the receive queue is set to its smallest, ingest_queue = 4096 reports /
# 64 MiB, so that the flood outruns it; the state holds 200 hosts; ASan builds included).
# Reports the collector could not apply must be counted in dropped_overload and logged; every
# report taken off the socket is either applied or counted.
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"
source "$FL_SOURCE/tests/reliability/lib.sh"

LOADGEN=$FL_BUILD/bench/collector/coll_loadgen
RSS_MAX_MIB=${REL_RSS_MAX_MIB:-256}
fl_init "$FL_COLLECTOR_BIN" "$FL_CLI_BIN" "$LOADGEN"
# ASan keeps freed memory in quarantine (256 MiB by default); cap it so RSS measures ours.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16
FL_LOG_LEVEL=notice fl_collector_conf "$FL_TMP/collector.conf"
echo "ingest_queue = 4096" >>"$FL_TMP/collector.conf"
fl_start_collector collector
CPID=$(fl_pid collector)
fl_start loadgen "$LOADGEN" -l "$FL_REPORT_URL" -C "$FL_CONTROL" -p "$CPID" -n 200 -m 20 \
	-d 10 -c 4 -i 0 -k -x -f 5
wait_for "the flood reaches the collector" 20 bash -c "
	j=\$('$FL_CLI_BIN' -C '$FL_CONTROL' status --json); jq -e '.stats.reports_received > 1000' <<<\"\$j\""

peak=0 n=0 slowest=0
while fl_running loadgen; do
	t=$(date +%s%N)
	rc=0
	timeout 5 "$FL_CLI_BIN" -C "$FL_CONTROL" --timeout 2s status --json >/dev/null || rc=$?
	ms=$((($(date +%s%N) - t) / 1000000))
	[[ $rc -eq 0 || $rc -eq 1 ]] || fl_fail "faultline status failed during the flood (exit $rc after $ms ms)"
	((ms <= 2000)) || fl_fail "faultline status took $ms ms during the flood (limit 2000)"
	((ms > slowest)) && slowest=$ms
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$CPID/status")
	((rss > peak)) && peak=$rss
	n=$((n + 1))
	sleep 0.3
done
fl_log "status answered $n times during the flood, slowest $slowest ms; collector peak RSS $((peak / 1024)) MiB"
((n >= 5)) || fl_fail "only $n status queries ran during the flood"
((peak / 1024 < RSS_MAX_MIB)) || fl_fail "collector RSS peaked at $((peak / 1024)) MiB (bound $RSS_MAX_MIB MiB)"
fl_log "ok: RSS stayed under $RSS_MAX_MIB MiB"
cat "$FL_TMP/loadgen.log" >&2
wait_for "the queue drains" 30 bash -c "
	a=\$('$FL_CLI_BIN' -C '$FL_CONTROL' status --json | jq '.stats'); sleep 0.5
	b=\$('$FL_CLI_BIN' -C '$FL_CONTROL' status --json | jq '.stats')
	[[ \$(jq .reports_received <<<\"\$a\") == \$(jq .reports_received <<<\"\$b\") ]]"
S=$(fl_cli_json status)
fl_log "stats after the flood: $(jq -c .stats <<<"$S")"
assert_jq "every report received was applied or counted as dropped" "$S" '.stats |
	.reports_received == .reports_applied + .dropped_overload + .dropped_duplicate
		+ .dropped_undecodable + .dropped_schema + .dropped_oversize + .dropped_invalid'
if jq -e '.stats.dropped_overload > 0' <<<"$S" >/dev/null; then
	grep -q "cannot keep up with incoming reports" "$FL_TMP/collector.log" ||
		fl_fail "dropped_overload > 0 but the collector logged no overload warning"
	lines=$(grep -c "cannot keep up with incoming reports" "$FL_TMP/collector.log")
	((lines <= 3)) || fl_fail "overload warnings are not rate-limited: $lines lines in ~10 s"
	fl_log "ok: overload shed visibly ($(jq .stats.dropped_overload <<<"$S") reports, $lines log lines)"
else
	fl_log "the collector kept up with the flood: dropped_overload = 0"
fi
