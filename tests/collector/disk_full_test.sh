#!/usr/bin/env bash
# disk_full_test.sh - the collector's disk fills up: history transitions it cannot write are
# counted and shown by `status` (history_events_lost), instead of vanishing with one log line.
#
# The "full disk" is a real write failure: the collector runs with a file size limit (ulimit -f,
# SIGXFSZ ignored, so write() fails with EFBIG as on a full file system) a little above its
# empty database; reports that flip a probe ok <-> fail then make transitions until SQLite can
# no longer grow its WAL.
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"

fl_init
TOOL=$FL_BUILD/tests/collector/coll_tool
[[ -x $TOOL ]] || fl_fail "$TOOL not built"
fl_collector_conf "$FL_TMP/collector.conf"
# 256 KiB per file: room for the schema and a few batches, then every write fails.
fl_start collector bash -c 'trap "" XFSZ; ulimit -f 256; exec "$0" -c "$1"' \
	"$FL_COLLECTOR_BIN" "$FL_TMP/collector.conf"
wait_for "collector answers status" 20 fl_collector_answers collector

lost() { fl_cli_json status | jq '.stats.history_events_lost // 0'; }
seq=1
flip_until_lost() {
	local i
	for i in $(seq 20); do
		"$TOOL" push "$FL_REPORT_URL" report "h$((seq % 50))" "$seq" $([[ $((seq / 50 % 2)) == 1 ]] && echo fail || echo ok) >/dev/null
		seq=$((seq + 1))
	done
	[[ $(lost) -gt 0 ]]
}
# Each push opens a connection (~0.2 s): batches of 20 per check, at most 300 reports (the WAL
# fills within a few dozen).
for _ in $(seq 15); do
	flip_until_lost && break
done
n=$(lost)
[[ $n -gt 0 ]] || fl_fail "no lost history event counted after $seq reports (log: $(tail -3 "$FL_TMP/collector.log"))"
fl_log "ok: $n history events counted as lost after $seq reports"
grep -q 'cannot store .* state changes (.* history events), dropped' "$FL_TMP/collector.log" ||
	fl_fail "the loss is not logged"
fl_running collector || fl_fail "the collector died on the full disk"
fl_cli status >"$FL_TMP/status.txt" || true
grep -q '^collector could not write [0-9]* history events and [0-9]* state rows to its database (disk full?): history has gaps$' \
	"$FL_TMP/status.txt" || fl_fail "the status table does not say history has gaps: $(tail -3 "$FL_TMP/status.txt")"
fl_log "ok: status says history has gaps"
