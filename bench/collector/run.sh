#!/bin/bash
# run.sh - start the real faultline-collector, drive it with coll_loadgen, print the figures.
#   bench/collector/run.sh BUILD_DIR [HOSTS] [PROBES] [SECONDS]
# Use a build without sanitizers (-DCMAKE_BUILD_TYPE=Release -DFL_SANITIZER=none).
set -euo pipefail
B=${1:?usage: run.sh BUILD_DIR [HOSTS] [PROBES] [SECONDS]}
HOSTS=${2:-2000}; PROBES=${3:-20}; SECS=${4:-10}
T=$(mktemp -d /tmp/coll-bench-XXXXXX)
P=$((20000 + RANDOM % 30000))
L=tcp://127.0.0.1:$P
C=ipc://$T/control.sock
# Pin the collector to one core so "on one core" is literal; the generator gets another.
taskset -c 0 "$B/collector/faultline-collector" --listen "$L" --control "$C" --state "$T/c.db" \
	--log-level warn 2>"$T/log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; cat "$T/log" >&2; rm -rf "$T"' EXIT
for _ in $(seq 100); do [ -S "$T/control.sock" ] && break; sleep 0.05; done
taskset -c 1 "$B/bench/collector/coll_loadgen" -l "$L" -C "$C" -p "$PID" -n "$HOSTS" \
	-m "$PROBES" -d "$SECS"
echo "history rows: $(sqlite3 "$T/c.db" 'select count(*) from history' 2>/dev/null || echo '?')"
