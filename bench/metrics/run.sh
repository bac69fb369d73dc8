#!/bin/bash
# run.sh - /metrics under load (docs/benchmarks/metrics.md): the body size and scrape time with
# HOSTS x PROBES in the state, and the collector's ingest rate (bench/collector's coll_loadgen,
# flooding) while a scraper fetches /metrics every second vs without one.
#   bench/metrics/run.sh BUILD_DIR [HOSTS] [PROBES] [SECONDS] [REPEATS]
# Use a build without sanitizers (-DCMAKE_BUILD_TYPE=Release -DFL_SANITIZER=none). The
# collector is pinned to CPU 0 (its HTTP worker included), the generator and the scraper to CPU 1.
set -euo pipefail
B=${1:?usage: run.sh BUILD_DIR [HOSTS] [PROBES] [SECONDS] [REPEATS]}
HOSTS=${2:-5000}; PROBES=${3:-20}; SECS=${4:-20}; REPS=${5:-3}
# INTERVAL_MS (environment): each simulated agent reports once per interval (0: a flood).
INTERVAL_MS=${INTERVAL_MS:-0}
T=$(mktemp -d /tmp/metrics-bench-XXXXXX)
PID=
trap '[[ -n $PID ]] && kill $PID 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

start_collector() {
	rm -f "$T"/c.db*
	P=$(free_port); HP=$(free_port)
	cat >"$T/c.conf" <<-EOF2
		[collector]
		listen = tcp://127.0.0.1:$P
		survey =
		control = ipc://$T/control.sock
		state = $T/c.db
		http = 127.0.0.1:$HP
		max_hosts = $HOSTS
		log_level = warn
	EOF2
	taskset -c 0 "$B/collector/faultline-collector" -c "$T/c.conf" 2>>"$T/log" &
	PID=$!
	for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$HP/metrics" && return 0; sleep 0.05; done
	echo "collector did not start: $(cat "$T/log")" >&2
	exit 1
}
stop_collector() {
	kill $PID
	wait $PID 2>/dev/null || true
	PID=
}

# scraper: one GET /metrics at the start of every second, "time_total size" per line, until
# $T/stop exists.
scraper() {
	while [[ ! -e $T/stop ]]; do
		taskset -c 1 curl -s -o /dev/null -w '%{time_total} %{size_download}\n' \
			"http://127.0.0.1:$HP/metrics" >>"$T/scrapes"
		sleep "0.$(printf '%03d' $((999 - 10#$(date +%N | cut -c1-3))))"
	done
}

# load SCRAPE BOOT: one flood against the running collector, whose state is already full (the
# agents restart with boot id BOOT, so nothing is a duplicate); prints "results/s results/CPU-s".
load() {
	local spid=
	rm -f "$T/stop"
	if [[ $1 == 1 ]]; then
		scraper </dev/null >/dev/null 2>&1 &
		spid=$!
	fi
	taskset -c 1 "$B/bench/collector/coll_loadgen" -l "tcp://127.0.0.1:$P" -C "ipc://$T/control.sock" \
		-p "$PID" -n "$HOSTS" -m "$PROBES" -d "$SECS" -x -b "$2" -i "$INTERVAL_MS" >"$T/load.out" 2>&1 || {
		echo "coll_loadgen failed: $(cat "$T/load.out")" >&2
		touch "$T/stop"
		return 1
	}
	if [[ -n $spid ]]; then
		touch "$T/stop"
		wait $spid 2>/dev/null || true
	fi
	sed -n 's/^wall [0-9.]* s: \([0-9]*\) results\/s applied.*=> \([0-9]*\) results per CPU-second.*/\1 \2/p' "$T/load.out"
	grep -o "overload=[0-9]*" "$T/load.out" >&2
}

median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }

echo "== $HOSTS hosts x $PROBES probes, interval ${INTERVAL_MS} ms (0: flood), $SECS s runs, $REPS runs each (alternating), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
start_collector
# Fill the state first (every host and probe is new: that round is SQLite-bound, not measured).
taskset -c 1 "$B/bench/collector/coll_loadgen" -l "tcp://127.0.0.1:$P" -C "ipc://$T/control.sock" \
	-p "$PID" -n "$HOSTS" -m "$PROBES" -d 3 -x -b 1 >/dev/null
: >"$T/without"; : >"$T/with"
boot=10
for r in $(seq "$REPS"); do
	boot=$((boot + 1))
	load 0 $boot | tee -a "$T/without" | sed 's/^/without scraping: results\/s, results\/CPU-s: /'
	: >"$T/scrapes"
	boot=$((boot + 1))
	load 1 $boot | tee -a "$T/with" | sed 's/^/while scraping:   results\/s, results\/CPU-s: /'
	echo "  scrapes during that run: $(wc -l <"$T/scrapes"), time median $(cut -d' ' -f1 "$T/scrapes" | median) s, max $(cut -d' ' -f1 "$T/scrapes" | sort -n | tail -1) s"
done
w0=$(cut -d' ' -f1 "$T/without" | median); w1=$(cut -d' ' -f1 "$T/with" | median)
c0=$(cut -d' ' -f2 "$T/without" | median); c1=$(cut -d' ' -f2 "$T/with" | median)
echo "median results/s applied: without $w0, while scraping $w1 ($(awk -v a="$w0" -v b="$w1" 'BEGIN{printf "%+.1f", 100*(b-a)/a}') %)"
echo "median results per collector CPU-second: without $c0, while scraping $c1 ($(awk -v a="$c0" -v b="$c1" 'BEGIN{printf "%+.1f", 100*(b-a)/a}') %)"

# The full state, idle: body size, scrape time, series, promtool.
: >"$T/scrapes"
for _ in $(seq 10); do
	taskset -c 1 curl -s -o "$T/body" -w '%{time_total} %{size_download}\n' "http://127.0.0.1:$HP/metrics" >>"$T/scrapes"
done
lock=$(grep '^faultline_metrics_snapshot_seconds ' "$T/body" | cut -d' ' -f2)
echo "idle full state: body $(tail -1 "$T/scrapes" | cut -d' ' -f2) bytes, $(grep -vc '^#' "$T/body") series; scrape time median $(cut -d' ' -f1 "$T/scrapes" | median) s, max $(cut -d' ' -f1 "$T/scrapes" | sort -n | tail -1) s (10 scrapes); state lock held $lock s (last scrape)"
echo "gzip -1 of the body: $(gzip -1 <"$T/body" | wc -c) bytes"
if command -v promtool >/dev/null; then
	promtool check metrics <"$T/body" >/dev/null 2>&1 && echo "promtool check metrics: ok" || echo "promtool check metrics: FAILED"
fi
echo "collector RSS after the scrapes: $(awk '/VmRSS/{print $2, $3}' /proc/$PID/status), peak $(awk '/VmHWM/{print $2, $3}' /proc/$PID/status)"
stop_collector
