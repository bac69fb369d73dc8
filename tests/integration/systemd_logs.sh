#!/usr/bin/env bash
# systemd_logs.sh - the real collector and agent as systemd runs them, without systemd:
#   - JOURNAL_STREAM set to the DEV:INODE of their stderr (what systemd does when stderr is the
#     journal): every line starts with a <N> syslog priority and carries no timestamp of its
#     own; set to another file's: the usual timestamped lines;
#   - log_format = json: one valid JSON object per line (with the <N> prefix under journald);
#   - NOTIFY_SOCKET (an abstract name, as systemd gives; a python3 datagram listener): READY=1
#     arrives once the collector listens (the listener connects to the report port the moment
#     it reads READY=1) and once the agent has loaded its config, STOPPING=1 on SIGTERM.
source "${FL_SOURCE:?}/tests/lib/harness.sh"
fl_init

# dev:inode of a file, as systemd writes JOURNAL_STREAM (decimal st_dev and st_ino).
devino() { stat -c '%d:%i' "$1"; }

fl_collector_conf "$FL_TMP/collector.conf"

# --- JOURNAL_STREAM naming stderr: <N> prefixes, no timestamps -------------------------------
: >"$FL_TMP/collector.log"
fl_start collector env JOURNAL_STREAM="$(devino "$FL_TMP/collector.log")" \
	"$FL_COLLECTOR_BIN" -c "$FL_TMP/collector.conf"
wait_for "collector answers status" 20 fl_collector_answers collector
fl_stop collector
L=$FL_TMP/collector.log
grep -qx '<5>faultline-collector\[main\] notice: faultline-collector .* started' "$L" ||
	fl_fail "no '<5>...notice: ... started' line under JOURNAL_STREAM: $(head -5 "$L")"
grep -q '^<6>faultline-collector\[server\] info: listening for reports' "$L" ||
	fl_fail "no <6> info line: $(head -5 "$L")"
bad=$(grep -vE '^<[3-7]>faultline-collector\[[a-z]+\] (error|warning|notice|info|debug): ' "$L" || true)
[[ -z $bad ]] || fl_fail "lines without a <N> prefix or with a timestamp: $bad"
fl_log "ok: under JOURNAL_STREAM every line has its <N> priority and no timestamp"

# --- JOURNAL_STREAM naming another file (stderr redirected elsewhere): as before -------------
: >"$FL_TMP/other"
mv "$L" "$FL_TMP/journal-run.log"
fl_start collector env JOURNAL_STREAM="$(devino "$FL_TMP/other")" \
	"$FL_COLLECTOR_BIN" -c "$FL_TMP/collector.conf"
wait_for "collector answers status" 20 fl_collector_answers collector
fl_stop collector
grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z faultline-collector\[main\] notice: .* started' "$L" ||
	fl_fail "stderr not the journal: expected timestamped lines: $(head -3 "$L")"
! grep -q '^<' "$L" || fl_fail "a <N> prefix while stderr is not the journal stream"
fl_log "ok: JOURNAL_STREAM of another file: timestamped lines, no prefix"

# --- log_format = json, under journald and not -----------------------------------------------
echo "log_format = json" >>"$FL_TMP/collector.conf"
mv "$L" "$FL_TMP/text-run.log"
: >"$L"
fl_start collector env JOURNAL_STREAM="$(devino "$L")" "$FL_COLLECTOR_BIN" -c "$FL_TMP/collector.conf"
wait_for "collector answers status" 20 fl_collector_answers collector
fl_stop collector
python3 - "$L" <<'PY' || fl_fail "log_format = json under journald: $(head -3 "$L")"
import json, re, sys
lines = open(sys.argv[1], encoding="ascii").read().splitlines()
assert lines, "no log lines"
for line in lines:
    m = re.match(r"<([0-7])>(.*)$", line)
    assert m, "no <N> prefix: " + line
    o = json.loads(m.group(2))
    assert set(o) == {"ts", "level", "component", "program", "msg"}, o
    want = {"3": "error", "4": "warning", "5": "notice", "6": "info", "7": "debug"}[m.group(1)]
    assert o["level"] == want and o["program"] == "faultline-collector", o
    assert re.match(r"\d{4}-\d\d-\d\dT[\d:.]+Z$", o["ts"]), o
assert any(o for o in map(lambda l: json.loads(l[3:]), lines) if o["msg"].endswith(" started"))
PY
fl_log "ok: log_format = json: one valid JSON object per line, with <N> under journald"

# --- NOTIFY_SOCKET: READY=1 once listening, STOPPING=1 on SIGTERM -----------------------------
sed -i '/^log_format/d' "$FL_TMP/collector.conf"
NOTIFY=@fl-notify-test/$$
cat >"$FL_TMP/notify.py" <<'PY'
# Receives sd_notify datagrams; on READY=1 it connects to the report port at once and records
# whether something listened there at that moment.
import socket, sys
name, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + name[1:] if name.startswith("@") else name)
open(out + ".bound", "w").close()
with open(out, "a", buffering=1) as f:
    while True:
        msg = s.recv(4096).decode()
        f.write(msg.replace("\n", " ") + "\n")
        if "READY=1" in msg.split("\n") and port:
            c = socket.socket()
            try:
                c.connect(("127.0.0.1", port))
                f.write("listening at READY\n")
            except OSError as e:
                f.write("not listening at READY: %s\n" % e)
            c.close()
PY
REPORT_PORT=${FL_REPORT_URL##*:}
fl_start notify python3 "$FL_TMP/notify.py" "$NOTIFY" "$REPORT_PORT" "$FL_TMP/notify.txt"
wait_for "notify listener bound" 10 test -e "$FL_TMP/notify.txt.bound"
fl_start collector env NOTIFY_SOCKET="$NOTIFY" "$FL_COLLECTOR_BIN" -c "$FL_TMP/collector.conf"
wait_for "READY=1 from the collector" 20 grep -q '^READY=1 STATUS=listening$' "$FL_TMP/notify.txt"
wait_for "the listener's check after READY=1" 5 grep -q 'listening at READY' "$FL_TMP/notify.txt"
grep -q '^listening at READY$' "$FL_TMP/notify.txt" ||
	fl_fail "READY=1 came before the collector listened: $(cat "$FL_TMP/notify.txt")"
fl_log "ok: READY=1 arrives once the report port listens"
fl_collector_answers collector || fl_fail "collector does not answer after READY=1"
fl_stop collector
[[ $FL_LAST_RC -eq 0 ]] || fl_fail "collector exited $FL_LAST_RC on SIGTERM"
grep -qx 'STOPPING=1' "$FL_TMP/notify.txt" ||
	fl_fail "no STOPPING=1 on SIGTERM: $(cat "$FL_TMP/notify.txt")"
fl_log "ok: STOPPING=1 on SIGTERM"
fl_stop notify

# The agent: READY=1 once its config is loaded and its first round is scheduled.
rm -f "$FL_TMP/notify.txt" "$FL_TMP/notify.txt.bound"
fl_start notify python3 "$FL_TMP/notify.py" "$NOTIFY" 0 "$FL_TMP/notify.txt"
wait_for "notify listener bound" 10 test -e "$FL_TMP/notify.txt.bound"
fl_agent_conf "$FL_TMP/a1.conf" a1
printf '[tcp "collector"]\naddress = 127.0.0.1:%s\n' "$REPORT_PORT" >>"$FL_TMP/a1.conf"
fl_start agent-a1 env NOTIFY_SOCKET="$NOTIFY" "$FL_AGENT_BIN" -c "$FL_TMP/a1.conf"
wait_for "READY=1 from the agent" 20 grep -q '^READY=1 STATUS=probing$' "$FL_TMP/notify.txt"
grep -q 'notice: started: host a1' "$FL_TMP/agent-a1.log" ||
	fl_fail "READY=1 before the agent logged its start"
fl_stop agent-a1
[[ $FL_LAST_RC -eq 0 ]] || fl_fail "agent exited $FL_LAST_RC on SIGTERM"
grep -qx 'STOPPING=1' "$FL_TMP/notify.txt" || fl_fail "no STOPPING=1 from the agent"
fl_log "ok: the agent sends READY=1 and STOPPING=1"
fl_log "PASS"
