#!/usr/bin/env bash
# hung_target_test.sh - an agent whose targets accept connections and never answer: rounds still
# go out every interval (a hung probe is reported in progress, the others stay fresh), and
# SIGTERM stops the agent within 2 s, exit status 0, however long the probes' timeouts are.
#
# The hung server is a real TCP listener (python3) that accepts and never reads or writes; an
# HTTP probe with a 60 s timeout, a PostgreSQL and a MariaDB probe with 3 s timeouts point at it,
# next to an HTTP probe of a healthy app. The agent runs at interval = 1s.
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"

fl_init
HUNG_PORT=$(fl_free_port)
fl_start hung python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
held = []
while True:
    c, _ = s.accept()
    held.append(c)  # accept, then never answer
' "$HUNG_PORT"
hung_listening() { [[ -n $(ss -Htln "( sport = :$HUNG_PORT )") ]]; }
wait_for "hung server listening" 10 hung_listening
fl_start_app app
fl_start_collector collector

fl_agent_conf "$FL_TMP/h1.conf" h1
cat >>"$FL_TMP/h1.conf" <<EOF

[http "app"]
url = http://127.0.0.1:$FL_APP_PORT/health
timeout = 2s

[http "hung-http"]
url = http://127.0.0.1:$HUNG_PORT/
timeout = 60s

[postgres "hung-pg"]
conninfo = host=127.0.0.1 port=$HUNG_PORT dbname=x user=x sslmode=disable
timeout = 3s

[mysql "hung-my"]
host = 127.0.0.1
port = $HUNG_PORT
user = x
timeout = 3s
EOF
fl_start_agent h1

status() { fl_cli_json status; }
app_started() {
	status | jq -r '.hosts[] | select(.host == "h1") | .probes[] | select(.name == "app")
		| .started'
}
received() { status | jq '.stats.reports_received'; }
app_ok() {
	status | jq -e '.hosts[] | select(.host == "h1")
		| any(.probes[]; .name == "app" and .status == "ok")'
}
db_timeouts_in() {
	status | jq -e '[.hosts[] | select(.host == "h1") | .probes[]
		| select(.name == "hung-pg" or .name == "hung-my")
		| select(.status == "fail" and .failure == "timeout")] | length == 2'
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

wait_for "h1 reports app ok" 20 app_ok
wait_for "the database probes' 3 s timeouts are reported once they end" 15 db_timeouts_in

# Cadence: count reports over a measured window while every hung probe is mid-timeout.
declare -A seen=()
r0=$(received)
t0=$(now_ms)
for _ in 1 2 3 4 5 6 7 8; do
	seen["x$(app_started)"]=1
	sleep 0.75
done
r1=$(received)
window=$((($(now_ms) - t0) / 1000))
got=$((r1 - r0))
fl_log "reports in ${window}s: $got; distinct app results seen: ${#seen[@]}"
# At 1 s per round a ~6 s window holds 5-7 reports; rounds waiting for the 60 s (or even the
# 3 s) probes would give 0-2.
((got >= 5)) || fl_fail "only $got reports arrived in ${window}s at interval 1s"
((${#seen[@]} >= 4)) || fl_fail "the app probe's result was fresh only ${#seen[@]} times"
fl_log "ok: rounds on time, the app probe's result keeps updating"

S=$(status)
assert_jq "the 60 s HTTP probe is shown in progress, with no result yet" "$S" '
	.hosts[] | select(.host == "h1") | .probes[] | select(.name == "hung-http")
	| .in_progress_ms > 0 and .status == "unknown"'
assert_jq "the app probe is ok and not in progress" "$S" '
	.hosts[] | select(.host == "h1") | .probes[] | select(.name == "app")
	| .status == "ok" and (has("in_progress_ms") | not)'
fl_cli status >"$FL_TMP/status.txt" || true
grep -q "(in progress [0-9.]*s)" "$FL_TMP/status.txt" ||
	fl_fail "the status table does not say which probe is in progress: $(cat "$FL_TMP/status.txt")"
fl_log "ok: the status table marks the hung probe in progress"

# Stop: SIGTERM while three probes wait on the hung server.
pid=$(fl_pid agent-h1)
start=$(now_ms)
kill -TERM "$pid"
while kill -0 "$pid" 2>/dev/null; do
	if (($(now_ms) - start > 5000)); then
		fl_fail "the agent did not exit within 5 s of SIGTERM"
	fi
	sleep 0.05
done
took=$(($(now_ms) - start))
rc=0
wait "$pid" || rc=$?
unset "FL_PIDS[agent-h1]"
fl_log "agent exited ${took} ms after SIGTERM with status $rc"
((took < 2000)) || fl_fail "the agent took ${took} ms to stop (limit 2 s)"
assert_eq "exit status after SIGTERM" 0 "$rc"
if grep -q "abandoning probes" "$FL_TMP/agent-h1.log"; then
	fl_fail "probes were abandoned instead of cancelled"
fi
fl_log "ok: every probe was cancelled, none abandoned"
