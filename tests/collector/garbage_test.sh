#!/bin/bash
# garbage_test.sh - the real faultline-collector binary receives garbage, truncated, oversize and
# wrong-schema messages, counts and drops each, and keeps serving reports and queries. Also
# checks config errors exit 2 with FILE:LINE and a clean SIGTERM stop.
set -euo pipefail
source "$(dirname "$0")/../lib/harness.sh" # wait_for

B=${FL_BUILD:?set FL_BUILD to the build dir}
COLL=$B/collector/faultline-collector
TOOL=$B/tests/collector/coll_tool
T=$(mktemp -d /tmp/coll-garbage-XXXXXX)
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$T/log" ] && tail -20 "$T/log" >&2; exit 1; }

# Config errors: exit 2, FILE:LINE: message.
printf '[collector]\nlisten = tcp://127.0.0.1:1\nbogus = 1\n' >"$T/bad.conf"
set +e
out=$("$COLL" -c "$T/bad.conf" --check-config 2>&1); rc=$?
set -e
[ $rc -eq 2 ] || fail "bad config exited $rc"
[ "$out" = "$T/bad.conf:3: unknown key [collector] bogus" ] || fail "bad config said: $out"
set +e
out=$("$COLL" -c "$T/missing.conf" 2>&1); rc=$?
set -e
[ $rc -eq 2 ] || fail "missing config exited $rc"
[[ "$out" == "$T/missing.conf:0: cannot read: "* ]] || fail "missing config said: $out"
printf '[collector]\nrecv_max = 3MiB\n' >"$T/bad.conf"
set +e
out=$("$COLL" -c "$T/bad.conf" --check-config 2>&1); rc=$?
set -e
[ $rc -eq 2 ] || fail "recv_max over 2MiB exited $rc"
[[ "$out" == "$T/bad.conf:2: recv_max: '3MiB' is not a size"* ]] || fail "bad recv_max said: $out"
"$COLL" --help | grep -q -- '--check-config' || fail "--help lacks --check-config"
# The largest recv_max, so that an oversize report reaches the decoder and is counted.
printf '[collector]\nrecv_max = 2MiB\n' >"$T/c.conf"
"$COLL" --version | grep -Eq '^faultline-collector [0-9]' || fail "--version"

# Random high ports; retry a few times if one is taken by a concurrent test.
for attempt in 1 2 3 4 5; do
	P=$((20000 + RANDOM % 30000))
	L=tcp://127.0.0.1:$P
	C=ipc://$T/run/control.sock
	"$COLL" -c "$T/c.conf" --listen "$L" --survey tcp://127.0.0.1:0 --control "$C" --state "$T/c.db" --log-level info >"$T/log" 2>&1 &
	PID=$!
	for _ in $(seq 100); do
		if "$TOOL" stats "$C" >/dev/null 2>&1; then break; fi
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$PID" 2>/dev/null; then break; fi
	PID=
done
[ -n "$PID" ] || fail "collector did not start"
[ "$(stat -c %a "$T/run/control.sock")" = 660 ] || fail "control socket mode is not 0660"

"$TOOL" push "$L" report web1 1
for kind in garbage truncated schema oversize empty garbage; do
	"$TOOL" push "$L" "$kind"
done
"$TOOL" push "$L" report web1 1   # duplicate
"$TOOL" push "$L" report web1 2 fail

# stats_say LINE: the collector's stats hold LINE.
stats_say() {
	local s
	s=$("$TOOL" stats "$C") && grep -qx "$1" <<<"$s"
}
wait_for "all 9 messages counted" 30 stats_say 'reports_received=9'
s=$("$TOOL" stats "$C") || fail "collector stopped answering"
echo "$s"
grep -q '^reports_received=9$' <<<"$s" || fail "not all messages counted"
grep -q '^dropped_undecodable=3$' <<<"$s" || fail "undecodable count"
grep -q '^dropped_schema=2$' <<<"$s" || fail "schema count (wrong version + empty)"
grep -q '^dropped_oversize=1$' <<<"$s" || fail "oversize count"
grep -q '^dropped_invalid=0$' <<<"$s" || fail "invalid count"
grep -q '^dropped_duplicate=1$' <<<"$s" || fail "duplicate count"
grep -q '^reports_applied=2$' <<<"$s" || fail "valid reports not applied"
grep -q '^hosts=1$' <<<"$s" || fail "host count"
kill -0 "$PID" || fail "collector died"
# Rejects are logged, rate-limited to the first of each reason here.
[ "$(grep -c 'cannot accept report (undecodable' "$T/log")" = 1 ] || fail "undecodable not logged once"

# SIGTERM: clean stop, state kept for the next start.
kill -TERM "$PID"
wait "$PID" || fail "collector exited non-zero on SIGTERM"
PID=
grep -q 'stopped' "$T/log" || fail "no clean stop logged"
"$COLL" --listen "$L" --survey tcp://127.0.0.1:0 --control "$C" --state "$T/c.db" >"$T/log2" 2>&1 &
PID=$!
wait_for "the restarted collector answers" 20 "$TOOL" stats "$C"
s=$("$TOOL" stats "$C")
grep -q '^hosts=1$' <<<"$s" || fail "state not kept across restart"
grep -q 'loaded 1 hosts' "$T/log2" || fail "restart did not load hosts"
echo "PASS"
