#!/usr/bin/env bash
# probe_now_slots_test.sh - a probe-now whose client has gone frees its slot at once. Eight
# CLIs ask for 10-minute probe-now surveys (no agent answers, so each would run its whole
# timeout) and hold the collector's eight slots: a ninth is refused. Then the eight are killed:
# the ninth must be accepted within seconds (before: refused for the full 10 minutes), and
# status counts the eight abandoned requests (slow_abandoned).
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"
fl_init "$FL_COLLECTOR_BIN" "$FL_CLI_BIN"
FL_LOG_LEVEL=debug fl_start_collector collector

for i in 1 2 3 4 5 6 7 8; do
	fl_start "probe$i" "$FL_CLI_BIN" -C "$FL_CONTROL" probe-now --timeout 10m
done
wait_for "eight surveys under way" 20 bash -c \
	"(( \$(grep -c 'survey [0-9]* sent (600000 ms)' '$FL_TMP/collector.log') == 8 ))"

# probe_refused: a ninth probe-now is refused because every slot is taken.
probe_refused() {
	local out
	out=$(fl_cli probe-now --timeout 1s 2>&1) && return 1
	grep -q 'too many probe-now/verify requests at once' <<<"$out"
}
wait_for "the eight probe-now requests hold every slot" 20 probe_refused
fl_log "ok: a ninth probe-now is refused while eight run"

for i in 1 2 3 4 5 6 7 8; do
	fl_stop "probe$i" KILL
done
t=$SECONDS
# probe_accepted: a probe-now runs (exit 0 or 1; an empty fleet is not an error here).
probe_accepted() {
	local out rc=0
	out=$(fl_cli probe-now --timeout 1s 2>&1) || rc=$?
	if grep -q 'too many probe-now' <<<"$out"; then
		echo "$out"
		return 1
	fi
	[[ $rc -eq 0 || $rc -eq 1 ]] || { echo "exit $rc: $out"; return 1; }
}
wait_for "a probe-now is accepted once the askers have gone" 10 probe_accepted
fl_log "ok: accepted $((SECONDS - t)) s after the eight clients were killed"
# At least eight: on a loaded machine one of the probe_accepted checks above may itself give up
# before its answer and be counted as abandoned too, which is right.
wait_for "the eight abandoned requests are counted" 10 bash -c "
	n=\$('$FL_CLI_BIN' -C '$FL_CONTROL' status --json | jq '.stats.slow_abandoned'); echo \"slow_abandoned=\$n\"; (( n >= 8 ))"
fl_log "ok: slow_abandoned >= 8"
