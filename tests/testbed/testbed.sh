#!/usr/bin/env bash
# testbed.sh - Faultline's multi-host testbed: hosts as Linux network namespaces on one bridge,
# real PostgreSQL 15 and MariaDB, the real collector, agents and CLI, and real network faults.
# Needs root. See docs/testbed.md for a walk-through.
#
#   testbed.sh up                 create everything (idempotent: completes a partial bed)
#   testbed.sh down               remove everything, also after a failed or killed run (idempotent)
#   testbed.sh status             what is up
#   testbed.sh exec HOST CMD...   run CMD inside host HOST (mon, app1, app2, app3, db)
#   testbed.sh cli ARGS...        the faultline CLI, run in fl-mon against the collector
#   testbed.sh fault NAME ARGS... inject a fault (testbed.sh fault help lists them)
#   testbed.sh clear              undo every fault: the bed is back to healthy
#   testbed.sh app HOST MODE      switch HOST's demo app to ok|503|slow|hang
#   testbed.sh pg-admin ARGS...   psql as superuser on appdb;  my-admin ARGS...: mariadb as root
#
# Hosts (bridge fl-tb0 in the root namespace has NO address, so the root namespace has no route
# into the bed, and the namespaces have no default route: traffic never leaves the bed):
#   fl-mon  .10  collector (+ the CLI)          fl-db .20  PostgreSQL :5432, MariaDB :3306
#   fl-app1 .11, fl-app2 .12, fl-app3 .13       demo app :8080 + agent (interval 1s)
# Names: every namespace gets /etc/netns/fl-X/hosts (bind-mounted over /etc/hosts by
# `ip netns exec`) with db.fl.test -> the db host, an nsswitch.conf that resolves from that file
# only and a resolv.conf pointing at its own loopback: a name missing from hosts fails at once
# and no DNS query ever leaves the bed.
#
# Environment:
#   FL_BUILD      build dir holding agent/faultline-agent, collector/faultline-collector,
#                 cli/faultline, tests/testbed/nfq_delay (default: <source>/build)
#   FL_TB_STATE   state dir (default /dev/shm/faultline-testbed, else /tmp/...); removed by
#                 `down`
#   FL_TB_AGENTS  auto (default: start collector + agents when the binaries exist), 1 (require
#                 them), 0 (network, databases and demo apps only)
#   FL_TB_APP     demo app script (default: deploy/demo/demo-app.py if present, else tb_app.py)
set -euo pipefail

exec 9>&- # the tests' lock (test_*.sh) must not be inherited by the daemons started here
TB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FL_SOURCE=${FL_SOURCE:-$(cd "$TB_DIR/../.." && pwd)}
FL_BUILD=${FL_BUILD:-$FL_SOURCE/build}
# tmpfs when there is one: initdb, mariadb-install-db and `down`'s rm are I/O bound, and the
# databases' data is thrown away anyway
if [ -z "${FL_TB_STATE:-}" ]; then
	if [ -d /dev/shm ] && [ -w /dev/shm ]; then FL_TB_STATE=/dev/shm/faultline-testbed
	else FL_TB_STATE=/tmp/faultline-testbed; fi
fi
ST=$FL_TB_STATE
FL_TB_AGENTS=${FL_TB_AGENTS:-auto}

NET=10.213.7
BR=fl-tb0
HOSTS="mon:10 app1:11 app2:12 app3:13 db:20"
APPS="app1 app2 app3"
MON_IP=$NET.10
DB_IP=$NET.20
DB_NAME=db.fl.test
PG_BIN=/usr/lib/postgresql/15/bin
PG_PORT=5432
MY_PORT=3306
APP_PORT=8080
REPORT_URL=tcp://$MON_IP:7600
SURVEY_URL=tcp://$MON_IP:7601
CONTROL_URL=ipc://$ST/mon/control.sock
BASE_RELEASE=1.0.0
DELAY_QUEUE=7

AGENT_BIN=$FL_BUILD/agent/faultline-agent
COLLECTOR_BIN=$FL_BUILD/collector/faultline-collector
CLI_BIN=$FL_BUILD/cli/faultline
NFQ_BIN=$FL_BUILD/tests/testbed/nfq_delay

log() { printf '[testbed %s] %s\n' "$(date +%T)" "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}
ms_now() { date +%s%3N; }
step() { # step FUNC: run it and log how long it took (up's cost is part of the test budget)
	local t0
	t0=$(ms_now)
	"$@"
	log "$1: $(($(ms_now) - t0)) ms"
}
nsx() {
	local h=$1
	shift
	ip netns exec "fl-$h" "$@"
}
have_ns() { [ -e "/run/netns/fl-$1" ]; }
have_link() { ip link show "$1" >/dev/null 2>&1; }
host_ip() {
	local hv
	for hv in $HOSTS; do
		[ "${hv%%:*}" = "$1" ] && { echo "$NET.${hv##*:}"; return 0; }
	done
	die "unknown host '$1' (mon, app1, app2, app3, db)"
}
is_app() { case " $APPS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# ------------------------------------------------------------------------------- processes
# Daemons run in the foreground under `ip netns exec` (which execs them), so $! is their pid;
# it goes to $ST/run/NAME.pid and `down` kills by that pid, then sweeps `ip netns pids`.
start_daemon() { # start_daemon NAME HOST CMD...
	local name=$1 h=$2
	shift 2
	if proc_alive "$name"; then return 0; fi
	# not via nsx: a backgrounded function would be a subshell and $! its pid, not the daemon's
	ip netns exec "fl-$h" "$@" </dev/null >>"$ST/log/$name.log" 2>&1 &
	echo $! >"$ST/run/$name.pid"
}
proc_pid() { cat "$ST/run/$1.pid" 2>/dev/null || true; }
proc_alive() {
	local pid
	pid=$(proc_pid "$1")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}
stop_daemon() { # stop_daemon NAME: TERM, wait up to 3 s, then KILL
	local pid
	pid=$(proc_pid "$1")
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 30); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	fi
	rm -f "$ST/run/$1.pid"
	return 0
}
stop_all() { # every daemon with a pid file (but mariadbd) at once: TERM, 3 s, then KILL
	local f name pids="" _
	for f in "$ST"/run/*.pid; do
		[ -e "$f" ] || continue
		name=${f##*/}
		name=${name%.pid}
		[ "$name" = mariadbd ] && continue
		proc_alive "$name" && pids+=" $(proc_pid "$name")"
		rm -f "$f"
	done
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086 # a list of pids
	kill -TERM $pids 2>/dev/null || true
	for _ in $(seq 30); do
		# shellcheck disable=SC2086
		kill -0 $pids 2>/dev/null || return 0 # true while any of them is alive
		sleep 0.1
	done
	# shellcheck disable=SC2086
	kill -KILL $pids 2>/dev/null || true
}

kill_ns_procs() { # whatever still lives in one of our namespaces, by pid
	local hv name pids
	for hv in $HOSTS; do
		name=${hv%%:*}
		have_ns "$name" || continue
		pids=$(ip netns pids "fl-$name" 2>/dev/null | tr '\n' ' ')
		[ -n "${pids// /}" ] || continue
		log "killing leftover processes in fl-$name: $pids"
		# shellcheck disable=SC2086 # a list of pids
		kill -KILL $pids 2>/dev/null || true
	done
	# KILL is asynchronous: wait (3 s at most) until the namespaces are empty
	local _
	for _ in $(seq 30); do
		pids=""
		for hv in $HOSTS; do
			have_ns "${hv%%:*}" && pids+=$(ip netns pids "fl-${hv%%:*}" 2>/dev/null)
		done
		[ -z "$pids" ] && return 0
		sleep 0.1
	done
	log "processes still alive in the namespaces: $pids"
	return 0
}

# ------------------------------------------------------------------------------- network
net_up() {
	have_link "$BR" || ip link add "$BR" type bridge
	sysctl -qw "net.ipv6.conf.$BR.disable_ipv6=1" || true
	ip link set "$BR" up
	local hv name
	for hv in $HOSTS; do
		name=${hv%%:*}
		have_ns "$name" || ip netns add "fl-$name"
		have_link "fl-$name-h" || ip link add "fl-$name-h" type veth peer name eth0 netns "fl-$name"
		sysctl -qw "net.ipv6.conf.fl-$name-h.disable_ipv6=1" || true
		ip link set "fl-$name-h" master "$BR" up
		nsx "$name" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		nsx "$name" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
		ip -n "fl-$name" link set lo up
		ip -n "fl-$name" addr replace "${hv/*:/$NET.}/24" dev eth0
		ip -n "fl-$name" link set eth0 up
	done
	# Bridged frames cross the root namespace's FORWARD chain when bridge-nf-call-iptables=1:
	# a docker-style DROP policy there would silently break the bed, so check a real path.
	local _
	for _ in $(seq 50); do
		reachable app1 "$DB_IP" && return 0
		sleep 0.1
	done
	die "fl-app1 cannot reach $DB_IP: is the root FORWARD chain dropping bridged frames? (try sysctl -w net.bridge.bridge-nf-call-iptables=0)"
}

# reachable HOST ADDR: a TCP connect from HOST to ADDR's closed port 9 is refused (an RST came
# back) within 1 s. Needs nothing listening and no ping binary.
reachable() {
	local err
	err=$(nsx "$1" timeout 1 bash -c "exec 3<>/dev/tcp/$2/9" 2>&1) && return 0
	[[ "$err" == *"refused"* ]]
}

net_down() {
	local hv name
	for hv in $HOSTS; do
		name=${hv%%:*}
		# deleting the host end removes the pair at once; `ip netns del` is asynchronous
		if have_link "fl-$name-h"; then ip link del "fl-$name-h"; fi
		if have_ns "$name"; then ip netns del "fl-$name"; fi
	done
	if have_link "$BR"; then ip link del "$BR"; fi
	return 0
}

hosts_file() { # the healthy /etc/hosts of every namespace
	local hv
	printf '127.0.0.1\tlocalhost\n'
	for hv in $HOSTS; do printf '%s\tfl-%s\n' "${hv/*:/$NET.}" "${hv%%:*}"; done
	printf '%s\t%s\n' "$DB_IP" "$DB_NAME"
}

names_up() {
	local hv name
	for hv in $HOSTS; do
		name=${hv%%:*}
		mkdir -p "/etc/netns/fl-$name"
		hosts_file >"/etc/netns/fl-$name/hosts"
		# names come from the hosts file only: a name missing there fails at once (NOTFOUND)
		# instead of waiting for a resolver, and no DNS query can leave the namespace
		printf 'hosts: files\n' >"/etc/netns/fl-$name/nsswitch.conf"
		printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"/etc/netns/fl-$name/resolv.conf"
	done
}

names_down() {
	local hv
	for hv in $HOSTS; do rm -rf "/etc/netns/fl-${hv%%:*}"; done
	rmdir /etc/netns 2>/dev/null || true # only when empty: other tools may keep entries there
}

# ------------------------------------------------------------------------------- PostgreSQL
PGD=$ST/pg/data
PGRUN=$ST/run/pg
pg_admin() {
	nsx db runuser -u postgres -- psql -X -q -h "$PGRUN" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 "$@"
}

pg_up() {
	[ -x "$PG_BIN/initdb" ] || die "PostgreSQL 15 missing: apt-get install -y postgresql-15"
	mkdir -p "$ST/pg" "$PGRUN"
	chown postgres:postgres "$ST/pg" "$PGRUN"
	chmod 700 "$ST/pg"
	local fresh=0
	if [ ! -s "$PGD/PG_VERSION" ]; then
		rm -rf "$PGD"
		runuser -u postgres -- "$PG_BIN/initdb" -D "$PGD" -U postgres -E UTF8 --locale=C.UTF-8 \
			--auth-local=peer --auth-host=scram-sha-256 >"$ST/pg/initdb.log" 2>&1 ||
			{ cat "$ST/pg/initdb.log" >&2; die "initdb failed"; }
		echo "host all all $NET.0/24 scram-sha-256" >>"$PGD/pg_hba.conf"
		fresh=1
	fi
	if ! runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGD" status >/dev/null 2>&1; then
		nsx db runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGD" -l "$ST/pg/server.log" -w -t 60 \
			-o "-c listen_addresses=$DB_IP -c port=$PG_PORT -c unix_socket_directories=$PGRUN \
			-c shared_buffers=32MB -c max_connections=60 -c fsync=off -c synchronous_commit=off \
			-c full_page_writes=off" start >/dev/null ||
			{ tail -20 "$ST/pg/server.log" >&2; die "postgres did not start"; }
	fi
	if [ "$fresh" = 1 ]; then
		pg_admin -d postgres <<'SQL'
CREATE ROLE app LOGIN PASSWORD 'apppw';
CREATE DATABASE appdb;
SQL
		pg_admin -d appdb <<'SQL'
CREATE TABLE public.orders(id int PRIMARY KEY, note text);
INSERT INTO public.orders VALUES (1, 'seed');
GRANT USAGE ON SCHEMA public TO app;
GRANT SELECT, INSERT ON public.orders TO app;
SQL
	fi
}

pg_down() {
	[ -s "$PGD/postmaster.pid" ] || return 0
	# the data is thrown away: immediate shutdown is enough and takes ~0.1 s
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGD" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
	return 0
}

# ------------------------------------------------------------------------------- MariaDB
MYD=$ST/my/data
MYRUN=$ST/run/my
MYSOCK=$MYRUN/mysqld.sock
my_admin() { mariadb --no-defaults --socket="$MYSOCK" -uroot "$@"; }
my_ping() { mariadb-admin --no-defaults --socket="$MYSOCK" -uroot ping >/dev/null 2>&1; }

my_up() {
	command -v mariadbd >/dev/null || die "MariaDB missing: apt-get install -y mariadb-server"
	mkdir -p "$ST/my" "$MYRUN"
	chown mysql:mysql "$ST/my" "$MYRUN"
	chmod 750 "$ST/my"
	local fresh=0
	if [ ! -d "$MYD/mysql" ]; then
		rm -rf "$MYD"
		mariadb-install-db --no-defaults --user=mysql --datadir="$MYD" --skip-test-db \
			--auth-root-authentication-method=socket --innodb-log-file-size=8M >"$ST/my/install.log" 2>&1 ||
			{ cat "$ST/my/install.log" >&2; die "mariadb-install-db failed"; }
		fresh=1
	fi
	if ! proc_alive mariadbd; then
		start_daemon mariadbd db /usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$MYD" \
			--socket="$MYSOCK" --pid-file="$MYRUN/mysqld.pid" --port="$MY_PORT" \
			--bind-address="$DB_IP" --log-error="$ST/my/error.log" --skip-name-resolve \
			--skip-log-bin --innodb-buffer-pool-size=32M --innodb-log-file-size=8M --innodb-flush-log-at-trx-commit=2 \
			--max-connections=100
		for _ in $(seq 300); do
			my_ping && break
			proc_alive mariadbd || break
			sleep 0.1
		done
		my_ping || { tail -20 "$ST/my/error.log" >&2; die "mariadbd did not start"; }
	fi
	if [ "$fresh" = 1 ]; then
		my_admin <<SQL
CREATE DATABASE appdb;
CREATE TABLE appdb.orders(id int PRIMARY KEY, note text);
INSERT INTO appdb.orders VALUES (1, 'seed');
CREATE USER 'app'@'$NET.%' IDENTIFIED BY 'apppw';
GRANT SELECT, INSERT ON appdb.orders TO 'app'@'$NET.%';
SQL
	fi
}

# ------------------------------------------------------------------------------- demo apps
app_script() {
	if [ -n "${FL_TB_APP:-}" ]; then echo "$FL_TB_APP"
	elif [ -f "$FL_SOURCE/deploy/demo/demo-app.py" ]; then echo "$FL_SOURCE/deploy/demo/demo-app.py"
	else echo "$TB_DIR/tb_app.py"; fi
}

# The app listens on every address of its namespace; its mode switch goes over loopback there.
app_get() { # app_get HOST PATH -> body
	nsx "$1" curl -s --max-time 3 "http://127.0.0.1:$APP_PORT$2"
}

apps_up() {
	local h script
	script=$(app_script)
	for h in $APPS; do
		mkdir -p "$ST/$h"
		[ -s "$ST/$h/RELEASE" ] || echo "$BASE_RELEASE" >"$ST/$h/RELEASE"
		start_daemon "app-$h" "$h" python3 "$script" --bind 0.0.0.0 --port "$APP_PORT" \
			--release-file "$ST/$h/RELEASE"
	done
	for h in $APPS; do
		for _ in $(seq 100); do
			app_get "$h" /_mode >/dev/null 2>&1 && break
			sleep 0.1
		done
		app_get "$h" /_mode >/dev/null || die "demo app on $h does not answer (log: $ST/log/app-$h.log)"
	done
}

app_mode() { # app_mode HOST MODE
	local got
	got=$(app_get "$1" "/_mode?set=$2") || die "cannot switch the demo app on $1"
	# deploy/demo/demo-app.py answers "mode MODE"
	[ "$got" = "mode $2" ] || die "demo app on $1 answered '$got' to mode $2"
}

# ------------------------------------------------------------------------------- faultline
binaries_ok() { [ -x "$AGENT_BIN" ] && [ -x "$COLLECTOR_BIN" ] && [ -x "$CLI_BIN" ]; }

collector_up() {
	mkdir -p "$ST/mon"
	cat >"$ST/mon/collector.conf" <<EOF
[collector]
listen = $REPORT_URL
survey = $SURVEY_URL
control = $CONTROL_URL
state = $ST/mon/state.db
log_level = info
EOF
	start_daemon collector mon "$COLLECTOR_BIN" -c "$ST/mon/collector.conf"
}

agent_conf() { # agent_conf HOST
	local h=$1
	cat <<EOF
; testbed agent on $h (generated by tests/testbed/testbed.sh)
[agent]
name = $h
collector = $REPORT_URL
survey = $SURVEY_URL
interval = 1s
release_file = $ST/$h/RELEASE
state_dir = $ST/$h/state
log_level = info

[http "app"]
url = http://127.0.0.1:$APP_PORT/health
expect_status = 200
timeout = 2s
slow = 1s

[dns "db-name"]
name = $DB_NAME

; db probes: slow well above a loaded 2-core machine's SCRAM round (~100-400 ms under
; ASan), below the latency fault's (250 ms per packet: 0.8-1.5 s), timeout above that but
; under 3 intervals (a round bounded by a 3 s timeout would make the host look stale)
[postgres "orders-pg"]
conninfo = host=$DB_NAME port=$PG_PORT dbname=appdb user=app sslmode=disable
password_file = $ST/$h/db.password
timeout = 2s
slow = 800ms

[mysql "orders-my"]
host = $DB_NAME
port = $MY_PORT
user = app
database = appdb
password_file = $ST/$h/db.password
timeout = 2s
slow = 800ms
EOF
}

agents_up() {
	local h
	for h in $APPS; do
		mkdir -p "$ST/$h/state"
		(umask 077 && printf 'apppw\n' >"$ST/$h/db.password")
		agent_conf "$h" >"$ST/$h/agent.conf"
		start_daemon "agent-$h" "$h" "$AGENT_BIN" -c "$ST/$h/agent.conf"
	done
}

cli() { nsx mon "$CLI_BIN" -C "$CONTROL_URL" "$@"; }

wait_hosts_reporting() { # all three agents seen by the collector, within 20 s
	local n=0 _
	for _ in $(seq 80); do
		n=$(cli hosts --json 2>/dev/null | jq '[.hosts[] | select(.stale == false)] | length' 2>/dev/null || echo 0)
		[ "$n" = 3 ] && return 0
		sleep 0.25
	done
	die "the collector sees $n of 3 agents after 20 s (logs: $ST/log/)"
}

# ------------------------------------------------------------------------------- faults
fault_help() {
	cat <<EOF
faults (each one undone by \`testbed.sh clear\`):
  cut-db HOST            HOST's packets to the db host dropped (nft in fl-HOST): that path only
  block-db-ports         tcp 5432 and 3306 dropped at the db host for every app host (db up)
  db-down                the db host's link down: unreachable from everywhere
  cut-collector HOST [drop|reset]
                         HOST's packets to the collector dropped (a silent blackhole), or its
                         connections reset and refused; its agent keeps probing
  dns-db                 $DB_NAME removed from every app host's hosts file
  delay HOST MS          MS of latency on HOST's packets to the db host (NFQUEUE + nfq_delay)
  loss HOST PCT          PCT% of the packets between HOST and the db host dropped (nft numgen)
  release HOST ID        HOST's RELEASE file now says ID (a deploy)
  bad-release HOST ID    release HOST ID, and HOST's demo app answers 503
EOF
}

nft_table() { # an nft table of our own in fl-HOST, so `clear` removes exactly what we added
	nsx "$1" nft list table inet fl_fault >/dev/null 2>&1 && return 0
	nsx "$1" nft -f - <<'EOF'
table inet fl_fault {
	chain input  { type filter hook input  priority -10; policy accept; }
	chain output { type filter hook output priority -10; policy accept; }
}
EOF
}

need_host() { have_ns "$1" || die "no host fl-$1 (is the testbed up?)"; }
need_app() {
	is_app "${1:-}" || die "not an app host: '${1:-}' (app1, app2, app3)"
	need_host "$1"
}

fault() {
	local name=${1:-help} h
	shift || true
	case $name in
	cut-db)
		need_app "${1:-}"
		nft_table "$1"
		nsx "$1" nft add rule inet fl_fault output ip daddr "$DB_IP" drop
		;;
	block-db-ports)
		need_host db
		nft_table db
		nsx db nft add rule inet fl_fault input ip saddr "$NET.0/24" tcp dport "{ $PG_PORT, $MY_PORT }" drop
		;;
	db-down)
		need_host db
		ip link set fl-db-h down
		;;
	cut-collector)
		need_app "${1:-}"
		nft_table "$1"
		case ${2:-drop} in
		drop) nsx "$1" nft add rule inet fl_fault output ip daddr "$MON_IP" drop ;;
		# resets the agent's open connection on its next send, and refuses redials
		reset) nsx "$1" nft add rule inet fl_fault output ip daddr "$MON_IP" tcp dport 7600-7601 reject with tcp reset ;;
		*) die "usage: fault cut-collector HOST [drop|reset]" ;;
		esac
		;;
	dns-db)
		for h in $APPS; do
			# rewrite in place: `ip netns exec` bind-mounts this very inode over /etc/hosts,
			# so a new file (sed -i, mv) would not be seen by processes already running
			hosts_file | grep -v "[[:space:]]$DB_NAME\$" >"/etc/netns/fl-$h/hosts"
		done
		;;
	delay)
		need_app "${1:-}"
		[[ "${2:-}" =~ ^[0-9]+$ ]] || die "usage: fault delay HOST MS"
		[ -x "$NFQ_BIN" ] || die "no $NFQ_BIN: build target nfq_delay (needs libnetfilter-queue-dev)"
		stop_daemon "nfq-$1"
		start_daemon "nfq-$1" "$1" "$NFQ_BIN" -q "$DELAY_QUEUE" -d "$2"
		sleep 0.2 # let it bind the queue (with --queue-bypass an unbound queue is a no-op anyway)
		proc_alive "nfq-$1" || die "nfq_delay did not start (log: $ST/log/nfq-$1.log)"
		nsx "$1" iptables -A OUTPUT -d "$DB_IP" -j NFQUEUE --queue-num "$DELAY_QUEUE" --queue-bypass
		;;
	loss)
		need_app "${1:-}"
		if ! [[ "${2:-}" =~ ^[0-9]+$ ]] || [ "$2" -gt 100 ]; then die "usage: fault loss HOST PCT"; fi
		nft_table "$1"
		nsx "$1" nft add rule inet fl_fault output ip daddr "$DB_IP" numgen random mod 100 "<" "$2" drop
		nsx "$1" nft add rule inet fl_fault input ip saddr "$DB_IP" numgen random mod 100 "<" "$2" drop
		;;
	release)
		need_app "${1:-}"
		[ -n "${2:-}" ] || die "usage: fault release HOST ID"
		echo "$2" >"$ST/$1/RELEASE"
		;;
	bad-release)
		need_app "${1:-}"
		[ -n "${2:-}" ] || die "usage: fault bad-release HOST ID"
		echo "$2" >"$ST/$1/RELEASE"
		app_mode "$1" 503
		;;
	help | -h | --help) fault_help ;;
	*)
		fault_help >&2
		exit 2
		;;
	esac
}

clear_faults() {
	local hv name
	for hv in $HOSTS; do
		name=${hv%%:*}
		have_ns "$name" || continue
		if have_link "fl-$name-h"; then ip link set "fl-$name-h" up; fi
		nsx "$name" nft delete table inet fl_fault 2>/dev/null || true
		if is_app "$name"; then
			nsx "$name" iptables -F OUTPUT 2>/dev/null || true
			stop_daemon "nfq-$name"
			hosts_file >"/etc/netns/fl-$name/hosts"
			echo "$BASE_RELEASE" >"$ST/$name/RELEASE"
			if proc_alive "app-$name"; then app_mode "$name" ok; fi
		fi
	done
}

# ------------------------------------------------------------------------------- main
cmd_up() {
	local t0
	t0=$(ms_now)
	[ "$(id -u)" = 0 ] || die "must run as root (network namespaces)"
	mkdir -p "$ST/run" "$ST/log"
	chmod 755 "$ST" "$ST/run"
	runuser -u postgres -- test -x "$ST" || die "$ST is not reachable by user postgres (parent dir mode?)"
	step net_up
	names_up
	step pg_up
	step my_up
	step apps_up
	case $FL_TB_AGENTS in
	0) log "FL_TB_AGENTS=0: no collector, no agents" ;;
	1 | auto)
		if binaries_ok; then
			collector_up
			agents_up
			step wait_hosts_reporting
		elif [ "$FL_TB_AGENTS" = 1 ]; then
			die "faultline binaries missing under $FL_BUILD (build them: cmake --build $FL_BUILD)"
		else
			log "faultline binaries missing under $FL_BUILD: network, databases and apps only"
		fi
		;;
	*) die "FL_TB_AGENTS must be auto, 0 or 1" ;;
	esac
	log "up in $(($(ms_now) - t0)) ms (state $ST)"
}

cmd_down() {
	local t0 f
	t0=$(ms_now)
	[ "$(id -u)" = 0 ] || die "must run as root"
	step stop_all
	step pg_down
	# mariadbd's data is thrown away: no need for its 0.5-2 s InnoDB shutdown
	f=$(proc_pid mariadbd)
	if [ -n "$f" ]; then kill -KILL "$f" 2>/dev/null || true; fi
	step kill_ns_procs
	step net_down
	names_down
	rm -rf "$ST"
	log "down in $(($(ms_now) - t0)) ms"
}

cmd_status() {
	local hv name n
	for hv in $HOSTS; do
		name=${hv%%:*}
		if have_ns "$name"; then
			n=$(ip netns pids "fl-$name" | wc -l)
			printf 'fl-%-5s %s  link %s  %s processes\n' "$name" "${hv/*:/$NET.}" \
				"$(ip -br link show "fl-$name-h" 2>/dev/null | awk '{print $2}')" "$n"
		else
			printf 'fl-%-5s absent\n' "$name"
		fi
	done
	for f in "$ST"/run/*.pid; do
		[ -e "$f" ] || continue
		f=${f##*/}
		f=${f%.pid}
		if proc_alive "$f"; then echo "$f: pid $(proc_pid "$f")"; else echo "$f: dead"; fi
	done
	[ -s "$PGD/postmaster.pid" ] && echo "postgres: pid $(head -1 "$PGD/postmaster.pid")"
	return 0
}

case "${1:-}" in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
exec)
	shift
	[ $# -ge 2 ] || die "usage: exec HOST CMD..."
	h=$1
	shift
	host_ip "$h" >/dev/null
	exec ip netns exec "fl-$h" "$@"
	;;
cli)
	shift
	cli "$@"
	;;
fault)
	shift
	fault "$@"
	;;
clear) clear_faults ;;
app)
	[ $# = 3 ] || die "usage: app HOST ok|503|slow|hang"
	need_app "$2"
	app_mode "$2" "$3"
	;;
pg-admin)
	shift
	pg_admin -d appdb "$@"
	;;
my-admin)
	shift
	my_admin "$@"
	;;
*)
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
	;;
esac
