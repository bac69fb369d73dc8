#!/bin/bash
# agents.sh - the collector's load test (docs/benchmarks/collector.md): HOSTS simulated agents (one nng socket each) from one process,
# PROBES probes each, one report per agent per INTERVAL_MS, for SECONDS; prints results/s
# applied, drops per reason, collector RSS (start, peak, end) and CPU.
#   bench/collector/agents.sh BUILD_DIR [HOSTS] [PROBES] [SECONDS] [INTERVAL_MS]
# Use a build without sanitizers (-DCMAKE_BUILD_TYPE=Release -DFL_SANITIZER=none).
# INTERVAL_MS 0 floods (as fast as the generator can pack and send).
set -euo pipefail
B=${1:?usage: agents.sh BUILD_DIR [HOSTS] [PROBES] [SECONDS] [INTERVAL_MS]}
HOSTS=${2:-2000}; PROBES=${3:-20}; SECS=${4:-60}; IVAL=${5:-1000}
ulimit -n 16384 # one connection per simulated agent, on both sides
T=$(mktemp -d /tmp/coll-agents-XXXXXX)
P=$((20000 + RANDOM % 30000))
L=tcp://127.0.0.1:$P
C=ipc://$T/control.sock
taskset -c 0 "$B/collector/faultline-collector" --listen "$L" --control "$C" --state "$T/c.db" \
	--survey "" --log-level warn 2>"$T/log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; tail -5 "$T/log" >&2; rm -rf "$T"' EXIT
for _ in $(seq 100); do [ -S "$T/control.sock" ] && break; sleep 0.05; done
taskset -c 1 "$B/bench/collector/coll_loadgen" -l "$L" -C "$C" -p "$PID" -n "$HOSTS" \
	-m "$PROBES" -d "$SECS" -a -i "$IVAL" -x
echo "history rows: $(sqlite3 "$T/c.db" 'select count(*) from history' 2>/dev/null || echo '?')"
