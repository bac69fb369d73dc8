#!/usr/bin/env bash
# pss.sh - the agent's memory while probing 10 HTTP targets every second: proportional set
# size (PSS, /proc/PID/smaps_rollup) sampled every 5 s, reporting first, max and last, so
# growth over time shows.
#
# Usage: bench/agent/pss.sh BUILD_DIR [SECONDS]   (default 60; use a Release, no-sanitizer build)
set -euo pipefail
BUILD=${1:?usage: pss.sh BUILD_DIR [SECONDS]}
SECS=${2:-60}
AGENT=$BUILD/agent/faultline-agent
SINK=$BUILD/bench/agent/bench_agent_sink
T=$(mktemp -d /tmp/fl-agent-pss.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$T"; }
trap cleanup EXIT

# 10 HTTP targets: one threaded loopback server, ten paths.
cat >"$T/server.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_port)); s.serve_forever()
PY
python3 "$T/server.py" "$T/port" & pids+=($!)
for _ in $(seq 100); do [[ -s $T/port ]] && break; sleep 0.05; done
PORT=$(cat "$T/port")
SINKPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$SINK" "tcp://127.0.0.1:$SINKPORT" $((SECS + 30)) >"$T/sink.out" & sinkpid=$!

{
  printf '[agent]\nname = pss-bench\ncollector = tcp://127.0.0.1:%s\ninterval = 1s\nstate_dir = %s/state\nlog_level = warn\n' "$SINKPORT" "$T"
  for i in $(seq 10); do printf '[http "t%d"]\nurl = http://127.0.0.1:%s/health/%d\nbody_contains = ok\n' "$i" "$PORT" "$i"; done
} >"$T/agent.conf"
"$AGENT" -c "$T/agent.conf" & apid=$!; pids+=($apid)

kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$apid/smaps_rollup"; }
printf '%6s %8s %8s %10s %10s\n' t_s Pss_kB Rss_kB Pss_Anon Private
first= max=0 last=
for ((t = 0; t <= SECS; t += 5)); do
  sleep $(( t == 0 ? 2 : 5 ))
  pss=$(kb Pss); rss=$(kb Rss); anon=$(kb Pss_Anon)
  priv=$(( $(kb Private_Clean) + $(kb Private_Dirty) ))
  printf '%6d %8d %8d %10d %10d\n' "$t" "$pss" "$rss" "$anon" "$priv"
  first=${first:-$pss}; last=$pss; (( pss > max )) && max=$pss
  ticks=$(awk '{ print $14 + $15 }' "/proc/$apid/stat")
  if ((t == 0)); then ticks0=$ticks; t0=$(date +%s.%N); fi
done
t1=$(date +%s.%N)
kill -TERM $apid; wait $apid || true
wait $sinkpid || true
hz=$(getconf CLK_TCK)
echo "PSS first ${first} kB, max ${max} kB, last ${last} kB"
awk -v d=$((ticks - ticks0)) -v hz="$hz" -v t0="$t0" -v t1="$t1" 'BEGIN {
  s = t1 - t0; cpu = d / hz
  printf "steady-state agent CPU: %.2f s over %.1f s = %.2f%% of a core, %.3f ms per probe (10 probes/s)\n",
    cpu, s, 100 * cpu / s, 1000 * cpu / (s * 10) }' 
echo "sink: $(cat "$T/sink.out")"
