#!/bin/bash
# standby.sh - an active/standby pair on PostgreSQL under a fleet-sized load
# (docs/benchmarks/scale.md, "Standby and takeover at scale"): what the standby costs while it
# follows the active, how fast the CLI answers from it, and how long a takeover takes.
#
#   bench/collector/standby.sh BUILD_DIR [HOSTS] [PROBES] [WINDOW_S] [INTERVAL_MS] [CONNS]
#
# 1. Starts PostgreSQL 15 (tests/lib/dbservers.sh; as root), the active collector `a`, then the
#    standby `b` on the same database. Both are configured with the same report address: only
#    the active listens on it, so after a takeover the generator's connections come back to b,
#    as agents listing both collectors would.
# 2. coll_loadgen (-k: it carries on while no collector listens) sends HOSTS x PROBES, one report
#    per host per INTERVAL_MS, over CONNS connections (0: one per host).
# 3. Once the first two rounds are sent and the store holds every host and probe (waited for:
#    the first round's rows reach PostgreSQL behind the active), for WINDOW_S seconds: the
#    standby's CPU share (/proc), its refreshes and their wall time (its debug log: "standby:
#    refreshed the state in N ms"), then QUERIES (default 5) timings each of `faultline status
#    --host H`, `faultline diagnose` and a full `faultline status` against the standby.
# 4. kill -9 of the active, under load: the time until b says it is active (status), and until
#    it has applied a result (its status stats), from the kill.
# 5. Checks the standby's view: every simulated host known to b before the kill, and after the
#    takeover. The script fails when a step does not happen (a run that is not valid).
#
# lease_timeout is 60 s: under this load on a shared machine a long write transaction of the
# active (the first round's rows) can hold its heartbeat past the default 5 s (the heartbeat
# waits for the fence's share lock), and the standby would take over from a live active. A
# kill -9 ends the active's sessions at once, so the timeout does not enter the take-over time.
#
# The active is pinned to CPU 0 and the generator to CPU 1 (PIN=0: neither); the standby is not
# pinned (on a real pair it has a machine of its own). The standby's cost includes the work its
# refresh queries make PostgreSQL do: the CPU of its backend (application_name
# faultline-collector-standby) is read from /proc too.
#
# Environment: QUERIES=N (default 5); PIN=0. Use a build without sanitizers
# (-DCMAKE_BUILD_TYPE=Release -DFL_SANITIZER=none).
set -euo pipefail
B=${1:?usage: standby.sh BUILD_DIR [HOSTS] [PROBES] [WINDOW_S] [INTERVAL_MS] [CONNS]}
HOSTS=${2:-10000}; PROBES=${3:-20}; WINDOW=${4:-30}; IVAL=${5:-10000}; CONNS=${6:-0}
QUERIES=${QUERIES:-5}
PIN0=(taskset -c 0); PIN1=(taskset -c 1)
[ "${PIN:-1}" = 0 ] && PIN0=() && PIN1=()
CLI=("$B/cli/faultline" --timeout 60s)

NEED=$(( (CONNS > 0 ? CONNS : HOSTS) + 256 ))
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$NEED" ]; then
	echo "standby.sh: needs $NEED file descriptors, the hard limit is $(ulimit -Hn)" >&2
	exit 2
fi

FL_SOURCE=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../tests/lib/dbservers.sh
source "$FL_SOURCE/tests/lib/dbservers.sh"
# shellcheck source=../../tests/lib/pgstate.sh
source "$FL_SOURCE/tests/lib/pgstate.sh"

T=$(mktemp -d /tmp/coll-standby-XXXXXX)
RUNNING=
cleanup() {
	[ -n "$RUNNING" ] && kill $RUNNING 2>/dev/null
	fl_db_cleanup
	rm -rf "$T"
	return 0
}
trap cleanup EXIT
FL_PG_MAX_CONN=60 fl_pgstate_start || { echo "standby.sh: cannot start PostgreSQL" >&2; exit 2; }

pct() {
	sort -n | awk '{v[NR]=$1} END {if (NR == 0) {print "n/a"; exit}
		m = int((NR + 1) / 2); p = int(NR * 0.9 + 0.999); if (p < 1) p = 1
		printf "median %s p90 %s (n=%d)", v[m], v[p], NR}'
}
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# cpu_ticks PID: its user + system time in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# role_of NAME: the role collector NAME says it has (a status for no host: cheap at any size).
role_of() {
	{ "${CLI[@]}" -C "ipc://$T/$1.sock" status --label bench=none --json 2>/dev/null || true; } |
		jq -r '.role // ""' 2>/dev/null || true
}
# hosts_known NAME: how many bench hosts collector NAME shows (a paged `status --json`).
hosts_known() {
	{ "${CLI[@]}" -C "ipc://$T/$1.sock" status --json 2>/dev/null || true; } |
		jq '[.hosts[] | select(.host | startswith("bench-host-"))] | length' 2>/dev/null ||
		echo 0
}
# applied_of NAME: the results collector NAME applied since it started (0 while standby).
applied_of() {
	{ "${CLI[@]}" -C "ipc://$T/$1.sock" status --label bench=none --json 2>/dev/null || true; } |
		jq -r '.stats.results_applied // 0' 2>/dev/null || echo 0
}

# Three free ports in a row (the report address, then the two HTTP listeners), below the
# ephemeral range (32768-60999: the generator's thousands of connections take ports there).
port_free() { ! ss -Htan "sport = :$1" | grep -q .; }
for _ in $(seq 50); do
	PORT=$((20000 + RANDOM % 12000))
	port_free $PORT && port_free $((PORT + 1)) && port_free $((PORT + 2)) && break
done
L=tcp://127.0.0.1:$PORT
HP_A=$((PORT + 1)); HP_B=$((PORT + 2))
conf() { # NAME HTTP_PORT LOG_LEVEL
	cat >"$T/$1.conf" <<-EOF
	[collector]
	name = $1
	listen = $L
	survey =
	control = ipc://$T/$1.sock
	http = 127.0.0.1:$2
	state = $FL_STATE_PG_URL
	password_file = $FL_PG_PASSWORD_FILE
	log_level = $3
	lease_timeout = 60s
	max_hosts = $((HOSTS + 100))
	max_connections = $(( (CONNS > 0 ? CONNS : HOSTS) + 100 ))
	EOF
}
conf a "$HP_A" warn
conf b "$HP_B" debug
wait_role() { # NAME ROLE SECONDS
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		[ "$(role_of "$1")" = "$2" ] && return 0
		sleep 0.05
	done
	echo "standby.sh: $1 is not $2 after $3 s (log: $(tail -2 "$T/$1.log"))" >&2
	return 1
}
${PIN0[@]+"${PIN0[@]}"} "$B/collector/faultline-collector" -c "$T/a.conf" 2>"$T/a.log" &
PA=$!
RUNNING="$PA"
wait_role a active 30
"$B/collector/faultline-collector" -c "$T/b.conf" 2>"$T/b.log" &
PB=$!
RUNNING="$PA $PB"
wait_role b standby 30

mode=(-a)
[ "$CONNS" -gt 0 ] && mode=(-c "$CONNS")
# Long enough for the store to fill (up to 30 min), the window, the queries and the takeover;
# stopped at the end.
DUR=$((WINDOW + 2400))
echo "== $HOSTS hosts x $PROBES probes every $IVAL ms over" \
	"$([ "$CONNS" -gt 0 ] && echo "$CONNS connections" || echo "one connection per agent");" \
	"active a, standby b on PostgreSQL"
${PIN1[@]+"${PIN1[@]}"} "$B/bench/collector/coll_loadgen" -l "$L" -C "ipc://$T/a.sock" -p "$PA" \
	-n "$HOSTS" -m "$PROBES" -d "$DUR" -i "$IVAL" -k -x "${mode[@]}" >"$T/lg.out" 2>&1 &
LG=$!
RUNNING="$PA $PB $LG"
while kill -0 $LG 2>/dev/null && ! grep -qs '^round 2 sent' "$T/lg.out"; do sleep 0.2; done
grep -qs '^round 2 sent' "$T/lg.out" || { echo "standby.sh: the load did not run" >&2; exit 1; }

# --- the standby following the active ---------------------------------------------------------
# The store fills behind the active (every probe is a new latest row in the first round): wait
# until it holds every host and probe, so that the standby has the whole fleet to follow.
F0=$(now_ms)
for ((i = 0; i < 1800; i++)); do
	n=$(fl_pg_sql "select (select count(*) from hosts) || ' ' || (select count(*) from latest)" \
		flstate)
	[ "$n" = "$HOSTS $((HOSTS * PROBES))" ] && break
	sleep 1
done
[ "$n" = "$HOSTS $((HOSTS * PROBES))" ] ||
	{ echo "standby.sh: the store holds $n hosts and latest rows after 30 min" >&2; exit 1; }
echo "the store held every host and probe $(( $(now_ms) - F0 )) ms after the second round"
sleep 5 # a refresh after that
R0=$(grep -c 'standby: refreshed the state' "$T/b.log" || true)
# standby_backends: the PostgreSQL sessions the standby refreshes on.
standby_backends() {
	fl_pg_sql "select pid from pg_stat_activity where application_name =
		'faultline-collector-standby'" flstate
}
BK=$(standby_backends | tr '\n' ' ')
[ -n "$BK" ] || { echo "standby.sh: the standby has no PostgreSQL session" >&2; exit 1; }
ticks_of() { local p t=0; for p in $BK; do t=$((t + $(cpu_ticks "$p" 2>/dev/null || echo 0))); done; echo $t; }
C0=$(cpu_ticks "$PB"); CA0=$(cpu_ticks "$PA"); CK0=$(ticks_of); S0=$(now_ms)
sleep "$WINDOW"
C1=$(cpu_ticks "$PB"); CA1=$(cpu_ticks "$PA"); CK1=$(ticks_of); S1=$(now_ms)
[ "$(standby_backends | tr '\n' ' ')" = "$BK" ] ||
	echo "standby.sh: note: the standby's sessions changed during the window"
TCK=$(getconf CLK_TCK)
grep 'standby: refreshed the state' "$T/b.log" | tail -n +$((R0 + 1)) |
	sed -n 's/.*refreshed the state in \([0-9]*\) ms.*/\1/p' >"$T/refresh.ms"
echo "standby CPU over ${WINDOW} s: $(awk -v c=$((C1 - C0)) -v t="$TCK" -v w=$((S1 - S0)) \
	'BEGIN {printf "%.1f%% of one core", 100 * c / t / (w / 1000)}');" \
	"its PostgreSQL backend: $(awk -v c=$((CK1 - CK0)) -v t="$TCK" -v w=$((S1 - S0)) \
	'BEGIN {printf "%.1f%%", 100 * c / t / (w / 1000)}');" \
	"active CPU: $(awk -v c=$((CA1 - CA0)) -v t="$TCK" -v w=$((S1 - S0)) \
	'BEGIN {printf "%.1f%%", 100 * c / t / (w / 1000)}')"
echo "standby refreshes in the window: $(wc -l <"$T/refresh.ms"); wall ms: $(pct <"$T/refresh.ms")"
echo "standby RSS: $(awk '/VmRSS/ {print $2, $3}' "/proc/$PB/status")"

: >"$T/q.host"; : >"$T/q.diag"; : >"$T/q.status"
for ((i = 0; i < QUERIES; i++)); do
	s=$(now_ms); "${CLI[@]}" -C "ipc://$T/b.sock" status --host bench-host-00042 >/dev/null 2>&1 || true
	echo $(( $(now_ms) - s )) >>"$T/q.host"
	s=$(now_ms); "${CLI[@]}" -C "ipc://$T/b.sock" diagnose >"$T/diag.out" 2>&1 || true
	echo $(( $(now_ms) - s )) >>"$T/q.diag"
	s=$(now_ms); "${CLI[@]}" -C "ipc://$T/b.sock" status >"$T/status.out" 2>&1 || true
	echo $(( $(now_ms) - s )) >>"$T/q.status"
done
echo "standby: status --host ms: $(pct <"$T/q.host")"
echo "standby: diagnose ms: $(pct <"$T/q.diag"); first line: $(head -1 "$T/diag.out")"
echo "standby: status (every host) ms: $(pct <"$T/q.status"); $(wc -l <"$T/status.out") lines"
KB=$(hosts_known b)
echo "standby knows $KB of $HOSTS hosts before the takeover"
[ "$KB" -eq "$HOSTS" ] ||
	echo "standby.sh: note: the standby's view misses hosts (its last refresh is older than" \
		"the store's contents)"
echo "the standby's last refreshes (ms, hosts): $(grep 'standby: refreshed the state' "$T/b.log" |
	tail -3 | sed -n 's/.*refreshed the state in \([0-9]*\) ms (\([0-9]*\) hosts).*/\1 (\2)/p' |
	paste -sd ' ')"

# --- kill -9 of the active under load ---------------------------------------------------------
K=$(now_ms)
kill -9 "$PA"
wait "$PA" 2>/dev/null || true
RUNNING="$PB $LG"
wait_role b active 60
TA=$(( $(now_ms) - K ))
for ((i = 0; i < 1200; i++)); do
	[ "$(applied_of b)" -gt 0 ] && break
	sleep 0.05
done
TR=$(( $(now_ms) - K ))
kill -0 "$LG" 2>/dev/null || { echo "standby.sh: INVALID: the generator died" >&2; exit 1; }
echo "takeover: b active $TA ms after kill -9 of a; applying reports after $TR ms"
grep -h 'active (lease epoch' "$T/b.log" | tail -1
KB=$(hosts_known b)
echo "b knows $KB of $HOSTS hosts after the takeover"
[ "$KB" -eq "$HOSTS" ] || { echo "standby.sh: INVALID: hosts missing after the takeover" >&2; exit 1; }
kill "$LG" 2>/dev/null || true
kill "$PB" 2>/dev/null || true
wait "$PB" 2>/dev/null || true
RUNNING=
