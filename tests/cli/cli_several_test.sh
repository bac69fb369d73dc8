#!/usr/bin/env bash
# cli_several_test.sh - `faultline -C URL1,URL2` and FAULTLINE_CONTROL with a list, against a
# real collector and agent, with dead addresses first in the list:
#   - a list whose first address is dead (nothing listens, connection refused) answers as the
#     live collector alone does, --json unchanged (history and the hosts compared);
#   - FAULTLINE_CONTROL takes the same list;
#   - an address that accepts but never completes the handshake (a hung collector) costs no
#     more than the connect bound (2 s) although --timeout is 10 s;
#   - probe-now and verify (which need the active collector) through a list, answered by an
#     agent whose own collector and survey lists start with a dead address, and `watch` (in a
#     real terminal, tmux) showing the live collector's hosts;
#   - nobody answering: exit 2, one line per address;
#   - a malformed list: exit 2 naming the entry.
# (A standby answering not_active is passed over too: cli_client_test, with a scripted peer.)
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"

fl_init
fl_start_app app
fl_start_collector collector
# The agent lists a dead collector first too (reports and surveys): probe-now below is answered
# through the second survey address.
FL_REPORT_URL="tcp://127.0.0.1:$(fl_free_port), $FL_REPORT_URL" \
	FL_SURVEY_URL="tcp://127.0.0.1:$(fl_free_port), $FL_SURVEY_URL" \
	fl_agent_conf "$FL_TMP/app1.conf" app1 1.0
fl_conf_app_probe >>"$FL_TMP/app1.conf"
fl_start_agent app1
app1_ok() { fl_cli_json status | jq -e 'any(.hosts[]; .host == "app1" and .probes[0].status == "ok")'; }
wait_for "app1 reports ok" 20 app1_ok

DEAD_IPC=ipc://$FL_TMP/nobody.sock
DEAD_TCP=tcp://127.0.0.1:$(fl_free_port)
LIST="$DEAD_IPC, $DEAD_TCP, $FL_CONTROL"

# --- the first that answers; --json unchanged -------------------------------------------------
# History may still move (the verdict's first change) between two readings: read both until
# they are taken from the same history, which a list that answered differently never reaches.
same_history() {
	local direct listed
	direct=$(fl_cli history --json --since 1h)
	listed=$("$FL_CLI_BIN" -C "$LIST" history --json --since 1h)
	[[ $direct == "$listed" ]] || {
		printf 'direct: %s\nlisted: %s\n' "$direct" "$listed"
		return 1
	}
}
wait_for "history --json through the list equals the collector's own" 10 same_history
S=$("$FL_CLI_BIN" -C "$LIST" hosts --json)
assert_jq "hosts --json through the list" "$S" '[.hosts[].host] == ["app1"]'
assert_jq "the same fields as asked directly" "$S" --argjson d "$(fl_cli hosts --json)" \
	'(.hosts[0] | keys) == ($d.hosts[0] | keys) and (keys == ($d | keys))'
rc=0
FAULTLINE_CONTROL="$DEAD_TCP,$FL_CONTROL" "$FL_CLI_BIN" status >"$FL_TMP/status.txt" 2>&1 || rc=$?
assert_eq "FAULTLINE_CONTROL with a list: status exit 0" 0 "$rc"
grep -q app1 "$FL_TMP/status.txt" || fl_fail "status through FAULTLINE_CONTROL: $(cat "$FL_TMP/status.txt")"
fl_log "ok: FAULTLINE_CONTROL with a list"

# --- a hung address costs the connect bound, not --timeout --------------------------------------
HUNG_PORT=$(fl_free_port)
fl_start hung python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)  # accepts, never speaks: no SP handshake
' "$HUNG_PORT"
wait_for "the hung listener listens" 10 bash -c "ss -Hltn '( sport = :$HUNG_PORT )' | grep -q ."
t0=$(date +%s%N)
rc=0
out=$("$FL_CLI_BIN" -C "tcp://127.0.0.1:$HUNG_PORT,$FL_CONTROL" --timeout 10s hosts --json) || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
assert_eq "a hung collector first: still answered (exit 0)" 0 "$rc"
assert_jq "by the live one" "$out" '[.hosts[].host] == ["app1"]'
((ms >= 1800 && ms < 4500)) || fl_fail "the hung address cost ${ms} ms (connect bound 2 s, --timeout 10 s)"
fl_log "ok: the hung address cost ${ms} ms (bound 2000 ms; --timeout 10 s)"

# --- what needs the active collector, through the list ------------------------------------------
rc=0
out=$("$FL_CLI_BIN" -C "$LIST" probe-now --json --timeout 3s) || rc=$?
assert_eq "probe-now through the list: exit 0" 0 "$rc"
assert_jq "app1 answered the probe-now" "$out" '.answered == ["app1"]'
rc=0
out=$("$FL_CLI_BIN" -C "$LIST" verify --release 1.0 --timeout 20s --rounds 3 --json) || rc=$?
assert_eq "verify through the list: exit 0 (passed)" 0 "$rc"
assert_jq "verify passed" "$out" '.result == "passed"'

# --- watch through the list, in a real terminal ---------------------------------------------------
command -v tmux >/dev/null || fl_fail "tmux not found: run scripts/install-deps.sh as root"
TMUX_SOCK=$FL_TMP/tmux.sock
fl_test_cleanup() { tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true; }
printf '%q ' "$FL_CLI_BIN" -C "$LIST" watch --interval 300ms >"$FL_TMP/watch.cmd"
tmux -S "$TMUX_SOCK" new-session -d -s w -x 120 -y 40 \
	"env TERM=xterm-256color bash -c '. $FL_TMP/watch.cmd; sleep 600'"
watch_shows() {
	local text
	text=$(tmux -S "$TMUX_SOCK" capture-pane -p -t w) || return 1
	[[ $text == *HEALTHY* && $text == *app1* && $text != *RECONNECTING* ]] || {
		echo "$text"
		return 1
	}
}
wait_for "watch through the list shows the live collector's verdict and host" 20 watch_shows
fl_log "ok: watch through the list"

# --- nobody answers; a malformed list -------------------------------------------------------------
rc=0
out=$("$FL_CLI_BIN" -C "$DEAD_IPC,$DEAD_TCP" status 2>&1) || rc=$?
assert_eq "nobody answering: exit 2" 2 "$rc"
[[ $out == *"cannot reach the collector at $DEAD_IPC"* && $out == *"cannot reach the collector at $DEAD_TCP"* && $out == *"none of the 2 collectors"* ]] ||
	fl_fail "nobody answering said: $out"
fl_log "ok: nobody answering names each address"
rc=0
out=$("$FL_CLI_BIN" -C "$FL_CONTROL,127.0.0.1:7602" status 2>&1) || rc=$?
assert_eq "a malformed list: exit 2" 2 "$rc"
[[ $out == *'"127.0.0.1:7602" must be an nng URL'* ]] || fl_fail "a malformed list said: $out"
fl_log "ok: a malformed list names the entry"
