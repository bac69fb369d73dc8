#!/bin/bash
# page_load.sh - the incident page's load time (issue 12: under 300 ms on loopback with 500
# hosts x 20 probes; docs/benchmarks/web.md). A real faultline-collector is filled by
# coll_loadgen (bench/collector/loadgen.c: HOSTS simulated agents, one connection each, PROBES
# probes, one report every INTERVAL_MS, about 1 probe in 1000 flipping per round so history
# and the verdict move); once `faultline status` shows every host with every probe, page_load.py
# loads the page RUNS times in headless Chromium (Debian's chromium, chromium-driver,
# python3-selenium) and reads the Performance API: navigation start to the first grid drawn
# and painted (app.js's performance marks), with the browser cache off. Alternating with those
# runs it loads the same page from a second, empty collector: the floor (the browser, the
# listener and the page's own code without a fleet), so the cost of the fleet shows even on a
# busy machine.
#   bench/web/page_load.sh BUILD_DIR [HOSTS] [PROBES] [RUNS] [INTERVAL_MS]
# Use a build without sanitizers (-DCMAKE_BUILD_TYPE=Release -DFL_SANITIZER=none -DFL_TESTS=ON,
# targets faultline-collector, faultline and coll_loadgen).
set -euo pipefail
B=$(realpath "${1:?usage: page_load.sh BUILD_DIR [HOSTS] [PROBES] [RUNS] [INTERVAL_MS]}")
HOSTS=${2:-500}; PROBES=${3:-20}; RUNS=${4:-20}; IVAL=${5:-5000}
HERE=$(dirname "$(realpath "$0")")
for bin in collector/faultline-collector cli/faultline bench/collector/coll_loadgen; do
	[[ -x $B/$bin ]] || { echo "page_load: $B/$bin missing (build it)" >&2; exit 2; }
done
ulimit -n 16384 # one connection per simulated agent
T=$(mktemp -d /tmp/page-load-XXXXXX)
port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
L=tcp://127.0.0.1:$(port)
HTTP_PORT=$(port)
EMPTY_PORT=$(port)
# collector NAME REPORT_URL HTTP_PORT: starts one, its pid in $T/NAME.pid.
collector() {
	mkdir -p "$T/$1"
	cat >"$T/$1/collector.conf" <<-CONF
		[collector]
		listen = $2
		survey =
		control = ipc://$T/$1/control.sock
		state = $T/$1/c.db
		http = 127.0.0.1:$3
		log_level = warn
	CONF
	"$B/collector/faultline-collector" -c "$T/$1/collector.conf" 2>"$T/$1/collector.log" &
	echo $! >"$T/$1.pid"
	for _ in $(seq 100); do [[ -S $T/$1/control.sock ]] && return; sleep 0.05; done
	echo "page_load: collector $1 did not start: $(cat "$T/$1/collector.log")" >&2
	exit 1
}
LG=
cleanup() {
	local pid
	if [[ -n $LG ]]; then
		kill "$LG" 2>/dev/null || true
		wait "$LG" 2>/dev/null || true
	fi
	for pid in "$T"/*.pid; do
		[[ -e $pid ]] || continue
		kill "$(cat "$pid")" 2>/dev/null || true
		wait "$(cat "$pid")" 2>/dev/null || true
	done
	tail -n 3 "$T"/*/collector.log >&2
	rm -rf "$T"
}
trap cleanup EXIT
collector full "$L" "$HTTP_PORT"
collector empty "tcp://127.0.0.1:$(port)" "$EMPTY_PORT"
C=ipc://$T/full/control.sock
PID=$(cat "$T/full.pid")
"$B/bench/collector/coll_loadgen" -l "$L" -C "$C" -p "$PID" -n "$HOSTS" -m "$PROBES" -d 86400 \
	-a -i "$IVAL" -x -k >"$T/loadgen.log" 2>&1 &
LG=$!
# full: every host reports every probe (status exits 1 while a probe fails: that is an answer).
full() {
	{ "$B/cli/faultline" -C "$C" status --json 2>/dev/null || true; } |
		jq -e --argjson h "$HOSTS" --argjson p "$PROBES" \
			'[.hosts[] | select(.stale | not) | select((.probes | length) == $p)] | length == $h' >/dev/null
}
for i in $(seq 120); do
	full && break
	[[ $i -eq 120 ]] && { echo "page_load: the collector never held $HOSTS hosts x $PROBES probes" >&2; exit 1; }
	sleep 0.5
done
URL=http://127.0.0.1:$HTTP_PORT
echo "collector filled: $HOSTS hosts x $PROBES probes, one report per host every $IVAL ms; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
# The API answers the page's first poll needs, as curl sees them (5 each, the median).
for path in /api/v1/status /api/v1/diagnose '/api/v1/history?limit=1000&since=1h'; do
	for _ in 1 2 3 4 5; do
		curl -s -o /dev/null -w '%{size_download} %{time_total}\n' "$URL$path"
	done | sort -k2 -n | sed -n 3p | awk -v p="$path" '{ printf "%-40s %9d bytes  %6.1f ms (curl, median of 5)\n", p, $1, $2 * 1000 }'
done
/usr/bin/python3 "$HERE/page_load.py" "$URL/" "$((HOSTS * PROBES))" "http://127.0.0.1:$EMPTY_PORT/" "$RUNS"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
