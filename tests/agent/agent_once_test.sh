#!/usr/bin/env bash
# agent_once_test.sh - the real faultline-agent binary: --once (table and --json) against a
# local HTTP server this script starts, and --check-config against good and bad configs
# (exit codes and exact FILE:LINE messages). Needs: python3, jq.
set -euo pipefail
source "$(dirname "$0")/../lib/harness.sh" # wait_for

AGENT="${FL_BUILD:?set FL_BUILD to the build dir}/agent/faultline-agent"
[[ -x $AGENT ]] || { echo "FAIL: $AGENT not built (cmake --build \$FL_BUILD)"; exit 1; }
command -v jq >/dev/null || { echo "FAIL: jq missing (apt-get install jq)"; exit 1; }

T=$(mktemp -d /tmp/fl-agent-once.XXXXXX)
SERVER_PID= SILENT_PID= APID=
cleanup() {
  for p in $SERVER_PID $SILENT_PID $APID; do kill "$p" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

# A tiny HTTP server on a free loopback port: /health -> 200 "ok", /down -> 503.
cat >"$T/server.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        code, body = (200, b"ok") if self.path == "/health" else (503, b"down")
        self.send_response(code); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_port))
s.serve_forever()
PY
python3 "$T/server.py" "$T/port.tmp" &
SERVER_PID=$!
wait_for "port.tmp written" 20 test -s "$T/port.tmp"
[[ -s $T/port.tmp ]] || { echo "FAIL: test HTTP server did not start"; exit 1; }
PORT=$(cat "$T/port.tmp")
# A port with nothing listening.
CLOSED=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

echo "r42" >"$T/RELEASE"
cat >"$T/good.conf" <<EOF2
[agent]
name = once-host
collector = tcp://127.0.0.1:1
release_file = $T/RELEASE
state_dir = $T/state

[http "app"]
url = http://127.0.0.1:$PORT/health
body_contains = ok

[tcp "app-port"]
address = 127.0.0.1:$PORT
EOF2
cp "$T/good.conf" "$T/mixed.conf"
cp "$T/good.conf" "$T/net.conf" # HTTP and TCP only, for the module checks (good.conf is edited)
cat >>"$T/mixed.conf" <<EOF2

[http "down"]
url = http://127.0.0.1:$PORT/down

[tcp "nothing"]
address = 127.0.0.1:$CLOSED
timeout = 500ms
EOF2

# --- --once, all ok: exit 0, table output --------------------------------------------------
rc=0; out=$("$AGENT" -c "$T/good.conf" --once) || rc=$?
[[ $rc == 0 ]] && ok "--once all ok exits 0" || fail "--once all ok exited $rc: $out"
grep -Eq '^app +http +http://127.0.0.1:[0-9]+/health +ok +none' <<<"$out" \
  && ok "table row for app" || fail "table: $out"

# --- --once --json with failures: exit 1, classes right ---------------------------------------
rc=0; json=$("$AGENT" -c "$T/mixed.conf" --once --json) || rc=$?
[[ $rc == 1 ]] && ok "--once with a failing probe exits 1" || fail "exit $rc: $json"
check() { # jq-expression expected
  local got; got=$(jq -r "$1" <<<"$json")
  [[ $got == "$2" ]] && ok "$1 = $2" || fail "$1 = $got, want $2"
}
check '.host' once-host
check '.release' r42
check '.agent_version | test("^[0-9]+\\.[0-9]+")' true
check '.results | length' 4
check '.results[] | select(.name=="app") | .status' ok
check '.results[] | select(.name=="app") | .timing.total_ms > 0' true
check '.results[] | select(.name=="app-port") | .status' ok
check '.results[] | select(.name=="down") | .status + "/" + .failure' fail/http_5xx
check '.results[] | select(.name=="down") | .detail' 'HTTP 503 (expected 200-299)'
check '.results[] | select(.name=="nothing") | .status + "/" + .failure' fail/refused
check '.results[] | select(.name=="nothing") | .target' "127.0.0.1:$CLOSED"
check 'has("expectations_error")' false

# --- --check-config ----------------------------------------------------------------------------
rc=0; out=$("$AGENT" -c "$T/good.conf" --check-config 2>&1) || rc=$?
[[ $rc == 0 && $out == "$T/good.conf: ok" ]] && ok "--check-config good" || fail "good: $rc $out"

bad() { # name expected-message config-text
  printf '%s' "$3" >"$T/$1.conf"
  local rc=0 out
  out=$("$AGENT" -c "$T/$1.conf" --check-config 2>&1) || rc=$?
  local want="$T/$1.conf:$2"
  [[ $rc == 2 && $out == "$want" ]] && ok "bad config $1" \
    || fail "bad config $1: exit $rc, got '$out', want '$want'"
}
bad unknown-section '3: unknown section kind "ftp" (expected agent, http, tcp, dns, postgres or mysql)' \
  $'[agent]\n\n[ftp "x"]\nurl = ftp://x\n'
bad unknown-key '3: [agent] colour: unknown key' $'[agent]\nname = a\ncolour = blue\n'
bad missing-url '2: [http "app"]: missing required key url' $'\n[http "app"]\ntimeout = 1s\n'
bad bad-duration '2: [agent] interval: bad duration "fast" (use e.g. 500ms, 5s, 1m; at least 100ms)' \
  $'[agent]\ninterval = fast\n'
bad duplicate-name "3: duplicate probe name \"a\" (first defined at $T/duplicate-name.conf:1)" \
  $'[tcp "a"]\naddress = 127.0.0.1:1\n[dns "a"]\nname = localhost\n'

rc=0; out=$("$AGENT" -c "$T/nope.conf" --check-config 2>&1) || rc=$?
[[ $rc == 2 && $out == "$T/nope.conf:0: cannot read: No such file or directory" ]] \
  && ok "unreadable file" || fail "unreadable: $rc $out"
# Same errors and exit code when starting for real or with --once.
rc=0; out=$("$AGENT" -c "$T/unknown-key.conf" --once 2>&1) || rc=$?
[[ $rc == 2 && $out == "$T/unknown-key.conf:3: [agent] colour: unknown key" ]] \
  && ok "--once with a bad config exits 2" || fail "--once bad: $rc $out"

# --- usage -------------------------------------------------------------------------------------
"$AGENT" --help | grep -q -- '--check-config' && ok "--help" || fail "--help"
"$AGENT" --version | grep -Eq '^faultline-agent [0-9]' && ok "--version" || fail "--version"
rc=0; "$AGENT" --bogus >/dev/null 2>&1 || rc=$?
[[ $rc == 2 ]] && ok "unknown option exits 2" || fail "unknown option exit $rc"
rc=0; "$AGENT" -c "$T/good.conf" --json >/dev/null 2>&1 || rc=$?
[[ $rc == 2 ]] && ok "--json without --once exits 2" || fail "--json alone exit $rc"

# --- daemon: SIGHUP with a bad config keeps running, SIGTERM exits 0 -----------------------
# Rounds overrun the interval (a probe that hangs until its timeout): signals must still work.
python3 -c 'import socket, time, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(100)
open(sys.argv[1], "w").write(str(s.getsockname()[1])); time.sleep(600)' "$T/silent.port" &
SILENT_PID=$!
wait_for "silent.port written" 20 test -s "$T/silent.port"
sed -i 's/^\[agent\]/[agent]\ninterval = 200ms/' "$T/good.conf"
printf '[http "hang"]\nurl = http://127.0.0.1:%s/\ntimeout = 700ms\n' "$(cat "$T/silent.port")" \
  >>"$T/good.conf"
"$AGENT" -c "$T/good.conf" 2>"$T/daemon.log" &
APID=$!
wait_for "'app: ok' in daemon.log" 20 grep -q 'app: ok' "$T/daemon.log"
grep -q 'app: ok' "$T/daemon.log" && ok "daemon probes" || fail "daemon: $(cat "$T/daemon.log")"
kill -HUP $APID
wait_for "'reloaded' in daemon.log" 20 grep -q 'reloaded' "$T/daemon.log"
sleep 0.5 # a negative check: a few rounds on the reloaded config, which must not repeat a line
grep -q 'reloaded' "$T/daemon.log" && [[ $(grep -c 'app: ok' "$T/daemon.log") == 1 ]] \
  && ok "good reload, no repeated status lines" || fail "good reload: $(cat "$T/daemon.log")"
echo "[nonsense" >>"$T/good.conf"
kill -HUP $APID
wait_for "'cannot reload' in daemon.log" 20 grep -q 'cannot reload' "$T/daemon.log"
grep -q "good.conf:.*: malformed section header" "$T/daemon.log" && kill -0 $APID \
  && ok "bad reload logged, still running" || fail "reload: $(cat "$T/daemon.log")"
# Rounds go on every 200ms; the hung probe's timeout result goes out with the round after it ends.
wait_for "'hang: unknown -> fail, timeout' in daemon.log" 20 grep -q 'hang: unknown -> fail, timeout' "$T/daemon.log"
grep -q 'hang: unknown -> fail, timeout' "$T/daemon.log" && ok "hung target reported as timeout" \
  || fail "hang: $(cat "$T/daemon.log")"
start=$(date +%s%N)
kill -TERM $APID
rc=0; wait $APID || rc=$?
took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[[ $rc == 0 ]] && ok "SIGTERM exits 0" || fail "SIGTERM exit $rc: $(cat "$T/daemon.log")"
(( took_ms < 3000 )) && ok "SIGTERM honoured in ${took_ms}ms while rounds overrun" \
  || fail "SIGTERM took ${took_ms}ms"
kill $SILENT_PID 2>/dev/null || true

# --- database probe modules: loaded only when configured, a clear error when missing ---------
# The daemon on good.conf (HTTP + TCP) maps neither driver; with a [postgres] and a [mysql]
# probe added it maps both modules and their client libraries.
maps_of() { # config: starts the daemon, prints its mappings once its config is loaded
  "$AGENT" -c "$1" 2>"$T/maps.log" &
  APID=$!
  # polled by hand, not wait_for: in $(...) its exit would leave this daemon running
  for _ in $(seq 400); do grep -q 'notice: started' "$T/maps.log" && break; sleep 0.05; done
  grep -q 'notice: started' "$T/maps.log" || echo "not started: $(cat "$T/maps.log")"
  awk '{ print $6 }' "/proc/$APID/maps" | sort -u
  kill -TERM $APID; wait $APID || true
  APID=
}
maps=$(maps_of "$T/net.conf")
grep -q 'notice: started' "$T/maps.log" && ! grep -qE 'libpq|libmariadb|faultline-agent-(pgsql|mysql)' <<<"$maps" \
  && ok "no database probe: neither driver mapped" || fail "without db probes: $maps"
cp "$T/net.conf" "$T/db.conf"
cat >>"$T/db.conf" <<EOF2

[postgres "pg"]
conninfo = host=127.0.0.1 port=$CLOSED dbname=x user=x

[mysql "my"]
host = 127.0.0.1
port = $CLOSED
user = x
EOF2
maps=$(maps_of "$T/db.conf")
for want in "$FAULTLINE_AGENT_MODULE_DIR/faultline-agent-pgsql.so" libpq.so \
  "$FAULTLINE_AGENT_MODULE_DIR/faultline-agent-mysql.so" libmariadb.so; do
  grep -q "$want" <<<"$maps" && ok "with db probes: $want mapped" || fail "$want not mapped: $maps"
done
rc=0; out=$(FAULTLINE_AGENT_MODULE_DIR=$T/nowhere "$AGENT" -c "$T/db.conf" --check-config 2>&1) || rc=$?
want="$T/db.conf:14: [postgres \"pg\"]: postgres probes need a module that cannot be loaded: $T/nowhere/faultline-agent-pgsql.so: cannot open shared object file: No such file or directory (install the faultline-agent package and libpq5, or set FAULTLINE_AGENT_MODULE_DIR)
$T/db.conf:17: [mysql \"my\"]: mysql probes need a module that cannot be loaded: $T/nowhere/faultline-agent-mysql.so: cannot open shared object file: No such file or directory (install the faultline-agent package and libmariadb3, or set FAULTLINE_AGENT_MODULE_DIR)"
[[ $rc == 2 && $out == "$want" ]] && ok "missing module: exit 2 naming the file and what to install" \
  || fail "missing module: exit $rc, got '$out', want '$want'"
rc=0; out=$(FAULTLINE_AGENT_MODULE_DIR=$T/nowhere "$AGENT" -c "$T/net.conf" --check-config 2>&1) || rc=$?
[[ $rc == 0 ]] && ok "missing modules do not matter without db probes" || fail "net.conf: $rc $out"

if ((fails > 0)); then
  echo "$fails check(s) failed"
  exit 1
fi
echo "all checks passed"
