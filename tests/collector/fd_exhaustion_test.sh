#!/usr/bin/env bash
# fd_exhaustion_test.sh - out of file descriptors, the listener watchdog must not take the
# failed probes for nng's wedged listener and listen again (each re-listen drops every
# connection the listener holds: 36 of them in 15 s before). The collector runs with
# `ulimit -n 128`; hand-written peers (raw_peer partial) hold 200 connections to the report
# listener for 8 s. Expected: no re-listen, a rate-limited "out of file descriptors" error, the
# fd_exhausted counter, and a collector that answers again once the peers are gone.
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"

RAW=$FL_BUILD/tests/collector/raw_peer
fl_init "$FL_COLLECTOR_BIN" "$FL_CLI_BIN" "$RAW"
fl_collector_conf "$FL_TMP/collector.conf"
fl_start collector bash -c "ulimit -n 128 && exec '$FL_COLLECTOR_BIN' -c '$FL_TMP/collector.conf'"
wait_for "collector answers status" 20 fl_collector_answers collector
CPID=$(fl_pid collector)
fl_log "collector: $(ls /proc/"$CPID"/fd | wc -l) descriptors open, limit $(awk '/Max open files/ {print $4}' /proc/"$CPID"/limits)"

fl_start peers "$RAW" partial "$FL_REPORT_URL" 200 4096 push 8
wait_for "the collector runs out of descriptors" 10 bash -c \
	"(( \$(ls /proc/$CPID/fd | wc -l) >= 120 ))"
peers_done() { ! fl_running peers; }
wait_for "the stalled peers end (they run 8 s)" 60 peers_done
fl_log "peers: $(cat "$FL_TMP/peers.log")"
wait_for "collector answers again once the peers are gone" 20 fl_collector_answers collector
S=$(fl_cli_json status)
assert_jq "the exhaustion was counted" "$S" '.stats.fd_exhausted >= 1'
grep -q 'out of file descriptors' "$FL_TMP/collector.log" || fl_fail "fd exhaustion not logged"
lines=$(grep -c 'out of file descriptors' "$FL_TMP/collector.log")
((lines <= 2)) || fl_fail "$lines 'out of file descriptors' lines in ~8 s (rate limit: one per 10 s)"
if grep -q 'listening on .* again' "$FL_TMP/collector.log"; then
	fl_fail "the watchdog listened again while out of descriptors: $(grep -c 'listening on .* again' "$FL_TMP/collector.log") times"
fi
fl_log "ok: no re-listen while out of descriptors; $lines log line(s)"
