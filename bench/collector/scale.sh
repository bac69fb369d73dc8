#!/bin/bash
# scale.sh - one collector under a fleet-sized load, end to end (docs/benchmarks/scale.md):
# HOSTS simulated agents x PROBES probes, one report per agent per INTERVAL_MS, for SECONDS,
# from coll_loadgen, either over one connection per agent (CONNS 0) or HOSTS/CONNS hosts per
# connection. Prints results/s applied, drops, collector CPU and RSS (total and per host) and the
# history rows written; the run is checked (every simulated host known and not stale, nothing
# dropped or refused, every report applied) and the script fails when it is not valid.
#
#   bench/collector/scale.sh BUILD_DIR[,BUILD_DIR2...] [HOSTS] [PROBES] [SECONDS] [INTERVAL_MS] [CONNS]
#
# Several build dirs (comma-separated) run the same load one after the other, REPEAT times
# (interleaved: A B A B ...), so figures from a shared machine are compared as ratios within one
# script run. Use builds without sanitizers (-DCMAKE_BUILD_TYPE=Release -DFL_SANITIZER=none).
#
# Environment:
#   REPEAT=N     runs per build (default 1)
#   QUERIES=N    while the load runs (after its second round), time N runs each of
#                `faultline diagnose`, GET /metrics and `faultline status --host H`, then N/3 of
#                a full `faultline status`, against the live collector, and print median and p90
#                (default 0: none, so the CPU figure is the ingest's alone). Give the run
#                SECONDS enough for them: hosts go stale 3 intervals after the load stops.
#   PG=1         the collector's state on a real PostgreSQL 15 the script starts (tests/lib/
#                dbservers.sh; as root), a fresh database per run (default: a fresh SQLite
#                file per run)
#   NAMED=1      probes target names that resolved to two addresses each (coll_loadgen -N), as
#                agents report for targets given by name (default: loopback URLs)
#   LOG_LEVEL=debug  the collector's log level (default warn); at debug, with QUERIES, also
#                where each diagnose spent its time in the collector (lock wait, diagnosis,
#                encoding, or the verdict tick's diagnosis it took) and what the ticks took
#   PIN=0        do not pin the collector to CPU 0 and the generator to CPU 1 (default 1: pinned,
#                so "of one core" is literal; unpinned, the collector's query threads may run
#                beside its ingest thread, as on a real multi-core machine)
#   TOOLS=DIR    the build whose coll_loadgen and faultline CLI drive every run (default: the
#                last build listed), so only the collector differs between builds
set -euo pipefail
BUILDS=${1:?usage: scale.sh BUILD_DIR[,BUILD_DIR2...] [HOSTS] [PROBES] [SECONDS] [INTERVAL_MS] [CONNS]}
HOSTS=${2:-10000}; PROBES=${3:-20}; SECS=${4:-60}; IVAL=${5:-10000}; CONNS=${6:-0}
REPEAT=${REPEAT:-1}; QUERIES=${QUERIES:-0}
PIN0=(taskset -c 0); PIN1=(taskset -c 1)
[ "${PIN:-1}" = 0 ] && PIN0=() && PIN1=()

# The collector holds one fd per connection, the generator as many: raise the soft limit to the
# hard one and refuse a run that cannot fit rather than measure refused connections.
NEED=$(( (CONNS > 0 ? CONNS : HOSTS) + 256 ))
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$NEED" ]; then
	echo "scale.sh: needs $NEED file descriptors, the hard limit is $(ulimit -Hn)" >&2
	exit 2
fi

# Median and 90th percentile (nearest rank) of the numbers on stdin.
pct() {
	sort -n | awk '{v[NR]=$1} END {if (NR == 0) {print "n/a"; exit}
		m = int((NR + 1) / 2); p = int(NR * 0.9 + 0.999); if (p < 1) p = 1
		printf "median %s p90 %s (n=%d)", v[m], v[p], NR}'
}

# With LOG_LEVEL=debug: where the collector spent the diagnose queries' time (its debug lines,
# control.c answer_diagnose) and what its verdict ticks took (ingest.c).
diagnose_breakdown() {
	local log=$1
	echo "  diagnose, own diagnosis: lock wait ms: $(sed -n 's/.*diagnose: lock wait \([0-9.]*\) ms.*/\1/p' "$log" | pct)"
	echo "  diagnose, own diagnosis: diagnosis ms: $(sed -n 's/.*diagnose: lock wait.*, diagnosis \([0-9.]*\) ms.*/\1/p' "$log" | pct)"
	echo "  diagnose, own diagnosis: encoding ms: $(sed -n 's/.*diagnose: lock wait.*, encoding \([0-9.]*\) ms.*/\1/p' "$log" | pct)"
	echo "  diagnose, the tick's diagnosis: ms: $(sed -n "s/.*diagnose: the verdict tick's diagnosis.*: \([0-9.]*\) ms.*/\1/p" "$log" | pct)"
	echo "  verdict tick: diagnosis ms: $(sed -n 's/.*verdict tick: diagnosis \([0-9.]*\) ms.*/\1/p' "$log" | pct)"
}

# Times QUERIES runs of `diagnose`, then of GET /metrics, then of `status` (the heaviest last, so
# it does not hold the state lock while the others are timed) against the live collector.
queries() {
	local b=$1 t=$2 port=$3 i s e
	local cli=("$TOOLS/cli/faultline" -C "ipc://$t/control.sock")
	: >"$t/q.diagnose"; : >"$t/q.status"; : >"$t/q.metrics"; : >"$t/q.host"
	for ((i = 0; i < QUERIES; i++)); do
		s=$(date +%s%N); "${cli[@]}" diagnose >"$t/diagnose.out" 2>&1 || true
		e=$(date +%s%N); echo $(( (e - s) / 1000000 )) >>"$t/q.diagnose"
	done
	echo "diagnose ms: $(pct <"$t/q.diagnose"); first line: $(head -1 "$t/diagnose.out")"
	[ "${LOG_LEVEL:-warn}" = debug ] && diagnose_breakdown "$t/log"
	for ((i = 0; i < QUERIES; i++)); do
		s=$(date +%s%N); curl -s -o "$t/metrics.out" "http://127.0.0.1:$port/metrics" || true
		e=$(date +%s%N); echo $(( (e - s) / 1000000 )) >>"$t/q.metrics"
	done
	echo "metrics ms: $(pct <"$t/q.metrics"); $(wc -c <"$t/metrics.out") bytes," \
		"$(grep -vc '^#' "$t/metrics.out") series"
	for ((i = 0; i < QUERIES; i++)); do
		s=$(date +%s%N); "${cli[@]}" status --host bench-host-00042 >/dev/null 2>&1 || true
		e=$(date +%s%N); echo $(( (e - s) / 1000000 )) >>"$t/q.host"
	done
	echo "status --host ms: $(pct <"$t/q.host")"
	for ((i = 0; i < (QUERIES + 2) / 3; i++)); do
		s=$(date +%s%N); "${cli[@]}" status >"$t/status.out" 2>&1 || true
		e=$(date +%s%N); echo $(( (e - s) / 1000000 )) >>"$t/q.status"
	done
	echo "status (every host) ms: $(pct <"$t/q.status"); $(wc -l <"$t/status.out") lines"
}

# The config's state lines for run directory $1: a fresh SQLite file, or (PG=1) a fresh
# database on the PostgreSQL started below.
state_lines() {
	if [ "${PG:-0}" = 1 ]; then
		fl_pgstate_reset >/dev/null || return 1
		printf 'state = %s\npassword_file = %s\n' "$FL_STATE_PG_URL" "$FL_PG_PASSWORD_FILE"
	else
		echo "state = $1/c.db"
	fi
}

# What the state holds after a run in directory $1: history rows and bytes, latest bytes.
state_report() {
	if [ "${PG:-0}" = 1 ]; then
		fl_pg_sql "select 'history rows: ' || (select count(*) from history) ||
			', history bytes (table + indexes): ' || pg_total_relation_size('history') ||
			', latest bytes: ' || pg_total_relation_size('latest') ||
			', database bytes: ' || pg_database_size('flstate')" flstate
	else
		# Rows, and the pages history and its two indexes take (bytes per row: disk per day
		# is that times the transitions a day).
		sqlite3 "$1/c.db" "select 'history rows: ' || (select count(*) from history) ||
			', history bytes (table + indexes): ' || (select sum(pgsize) from dbstat
			where name in ('history', 'history_at', 'history_host_at')) ||
			', latest bytes: ' || (select sum(pgsize) from dbstat
			where name like '%latest%')"
		echo "state files: $(cat "$1"/c.db* | wc -c) bytes (database and WAL)"
	fi
}

# Starts the collector of build $1 in directory $2 on free ports (tries again on a clash): sets
# pid, l (the report URL) and hp (the HTTP port). 1 when it does not start.
start_collector() {
	local b=$1 t=$2 p try
	for try in 1 2 3 4 5; do
		# Below the kernel's ephemeral range (32768-60999 on Debian): 10,000 client
		# connections on this machine would otherwise often hold the port drawn.
		p=$((12000 + RANDOM % 20000)); hp=$((p + 1))
		l=tcp://127.0.0.1:$p
		cat >"$t/collector.conf" <<-EOF
		[collector]
		listen = $l
		survey =
		control = ipc://$t/control.sock
		http = 127.0.0.1:$hp
		$(state_lines "$t")
		log_level = ${LOG_LEVEL:-warn}
		max_hosts = $((HOSTS + 100))
		max_connections = $(( (CONNS > 0 ? CONNS : HOSTS) + 100 ))
		EOF
		rm -f "$t/control.sock"
		${PIN0[@]+"${PIN0[@]}"} "$b/collector/faultline-collector" -c "$t/collector.conf" \
			2>"$t/log" &
		pid=$!
		for _ in $(seq 200); do
			kill -0 $pid 2>/dev/null || break
			# Ready when it answers on the control socket and on HTTP (the listeners may
			# come up in any order, and a port in use ends the start), and, on
			# PostgreSQL, once it holds the lease (its report listener opens then).
			"$TOOLS/cli/faultline" -C "ipc://$t/control.sock" status --json 2>/dev/null |
				grep -Eq '"role": *"(single|active)"' &&
				curl -s -o /dev/null "http://127.0.0.1:$hp/" &&
				kill -0 $pid 2>/dev/null && return 0
			sleep 0.05
		done
		kill $pid 2>/dev/null # alive but not ready (a collector retries a port in use)
		wait $pid 2>/dev/null || true
		echo "scale.sh: collector did not start (try $try): $(tail -1 "$t/log")" >&2
	done
	return 1
}

run_one() {
	local b=$1 t pid l hp lg rc=0
	t=$(mktemp -d /tmp/coll-scale-XXXXXX)
	start_collector "$b" "$t" || { rm -rf "$t"; return 1; }
	local mode=(-a)
	[ "$CONNS" -gt 0 ] && mode=(-c "$CONNS")
	[ "${NAMED:-0}" = 1 ] && mode+=(-N)
	echo "== $b: $HOSTS hosts x $PROBES probes every $IVAL ms for $SECS s over" \
		"$([ "$CONNS" -gt 0 ] && echo "$CONNS connections" || echo "one connection per agent")"
	${PIN1[@]+"${PIN1[@]}"} "$TOOLS/bench/collector/coll_loadgen" -l "$l" -C "ipc://$t/control.sock" -p "$pid" \
		-n "$HOSTS" -m "$PROBES" -d "$SECS" -i "$IVAL" -x -V "${mode[@]}" >"$t/lg.out" 2>&1 &
	lg=$!
	RUNNING="$pid $lg"
	if [ "$QUERIES" -gt 0 ]; then
		while kill -0 $lg 2>/dev/null && ! grep -qs '^round 2 sent' "$t/lg.out"; do sleep 0.2; done
		queries "$b" "$t" "$hp"
	fi
	wait $lg || rc=$?
	grep -v '^round ' "$t/lg.out"
	state_report "$t"
	kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
	RUNNING=
	tail -3 "$t/log" >&2
	rm -rf "$t"
	return $rc
}

RUNNING= # the collector and generator of the run in progress, stopped if the script stops
cleanup() {
	[ -n "$RUNNING" ] && kill $RUNNING 2>/dev/null
	[ "${PG:-0}" = 1 ] && fl_db_cleanup
	return 0
}
trap cleanup EXIT
if [ "${PG:-0}" = 1 ]; then
	FL_SOURCE=$(cd "$(dirname "$0")/../.." && pwd)
	# shellcheck source=../../tests/lib/dbservers.sh
	source "$FL_SOURCE/tests/lib/dbservers.sh"
	# shellcheck source=../../tests/lib/pgstate.sh
	source "$FL_SOURCE/tests/lib/pgstate.sh"
	FL_PG_MAX_CONN=60 fl_pgstate_start || { echo "scale.sh: cannot start PostgreSQL" >&2; exit 2; }
fi
IFS=, read -r -a BV <<<"$BUILDS"
TOOLS=${TOOLS:-${BV[-1]}}
fail=0
for ((r = 1; r <= REPEAT; r++)); do
	for b in "${BV[@]}"; do
		run_one "$b" || fail=1
	done
done
[ $fail -eq 0 ] || { echo "scale.sh: at least one run was not valid" >&2; exit 1; }
