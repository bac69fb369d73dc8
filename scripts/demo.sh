#!/usr/bin/env bash
# demo.sh - Faultline in one command, on loopback.
#
#   bash scripts/demo.sh            install deps, build, start everything, break a grant,
#                                        show the diagnosis, restore it; leaves it all running
#   bash scripts/demo.sh stop       stop everything the demo started and remove its dir
#   bash scripts/demo.sh status     `faultline status` against the demo collector
#   bash scripts/demo.sh app MODE [DELAY_MS]
#                                        switch the demo app: ok 503 500 404 body slow hang down
#   bash scripts/demo.sh db read-only
#                                        a failover left the apps on a database that refuses
#                                        writes: PostgreSQL orders goes read-only and the app
#                                        answers 503; shows the diagnosis (DATABASE, not CODE)
#   bash scripts/demo.sh db ok      undo it: writable again, app ok
#
# What runs (all under $FL_DEMO_DIR, default /tmp/faultline-demo):
#   demo-app      deploy/demo/demo-app.py, an HTTP app whose /health the demo switches
#   PostgreSQL 15 and MariaDB, in db/, with the demo schema (tests/lib/dbservers.sh)
#   collector     faultline-collector, state in collector.db, control at control.sock
#   app1, app2    two faultline-agents probing the app, its TCP port, DNS (localhost) and both
#                 databases, with release 1.0's expectations (deploy/demo/release-1.0.expect)
# Must run as root: the database servers run as users postgres and mysql.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEMO=${FL_DEMO_DIR:-/tmp/faultline-demo}
BUILD=${FL_DEMO_BUILD:-$SRC/build-demo}
CLI=$BUILD/cli/faultline
CONTROL=ipc://$DEMO/control.sock
INTERVAL=${FL_DEMO_INTERVAL:-1s}

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
die() {
	echo "demo: $*" >&2
	exit 1
}

need_root() {
	[[ $(id -u) -eq 0 ]] || die "run as root (or: sudo bash scripts/demo.sh $*)"
}

# A port on 127.0.0.1: the preferred one when it is free, else one the kernel picks.
pick_port() {
	python3 - "$1" <<-'EOF'
		import socket, sys
		s = socket.socket()
		try:
		    s.bind(("127.0.0.1", int(sys.argv[1])))
		except OSError:
		    s.bind(("127.0.0.1", 0))
		print(s.getsockname()[1])
	EOF
}

# start NAME CMD...: a detached background process, log in NAME.log, pid in NAME.pid.
start() {
	local name=$1
	shift
	setsid "$@" </dev/null >>"$DEMO/$name.log" 2>&1 &
	echo $! >"$DEMO/$name.pid"
}

# wait_until SECONDS WHAT CMD...: polls CMD every 0.5 s.
wait_until() {
	local secs=$1 what=$2
	shift 2
	local deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			echo "demo: timed out waiting for $what; logs are in $DEMO" >&2
			tail -n 20 "$DEMO"/*.log >&2 || true
			return 1
		fi
		sleep 0.5
	done
}

fl() { "$CLI" -C "$CONTROL" "$@"; }

# True when every demo probe on both agents has reported (no "unknown" left).
all_reported() {
	fl status --json 2>/dev/null | jq -e '
		([.hosts[] | select(.host == "app1" or .host == "app2")] | length) == 2
		and all(.hosts[]; (.probes | length) >= 5 and all(.probes[]; .status != "unknown"))'
}

history_ends_healthy() {
	fl history --json 2>/dev/null |
		jq -e '[.events[] | select(.kind == "verdict")] | last | .to == "healthy"' >/dev/null
}

verdict_is() {
	local v
	v=$(fl diagnose --json 2>/dev/null | jq -r .verdict) || true
	[[ $v == "$1" ]]
}

stop_demo() {
	need_root stop
	if [[ ! -e $DEMO/.faultline-demo ]]; then
		echo "demo: nothing to stop in $DEMO"
		return 0
	fi
	say "stopping the demo in $DEMO"
	local name pid
	for name in app1 app2 collector demo-app; do
		[[ -e $DEMO/$name.pid ]] || continue
		pid=$(cat "$DEMO/$name.pid")
		if kill -TERM "$pid" 2>/dev/null; then
			for _ in $(seq 50); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			kill -KILL "$pid" 2>/dev/null || true
			echo "stopped $name (pid $pid)"
		fi
		rm -f "$DEMO/$name.pid"
	done
	if [[ -e $DEMO/db.env ]]; then
		# shellcheck source=/dev/null
		source "$DEMO/db.env"
		# shellcheck source=../tests/lib/dbservers.sh
		source "$SRC/tests/lib/dbservers.sh"
		fl_pg_stop && echo "stopped PostgreSQL"
		fl_my_stop && echo "stopped MariaDB"
	fi
	rm -rf "$DEMO"
	echo "removed $DEMO"
}

app_mode() {
	[[ -e $DEMO/app.mode ]] || die "no demo running in $DEMO (start it: bash scripts/demo.sh)"
	echo "$1 ${2:-}" >"$DEMO/app.mode.tmp"
	mv "$DEMO/app.mode.tmp" "$DEMO/app.mode"
	echo "demo app mode: $1 ${2:-}"
}

# db_state read-only|ok: puts the demo's PostgreSQL in a state a SELECT 1 cannot see, or back.
db_state() {
	need_root db "$1"
	[[ -e $DEMO/db.env ]] || die "no demo running in $DEMO (start it: bash scripts/demo.sh)"
	# shellcheck source=/dev/null
	source "$DEMO/db.env"
	# shellcheck source=../tests/lib/dbservers.sh
	source "$SRC/tests/lib/dbservers.sh"
	case $1 in
	read-only)
		say "a failover left the apps on a read-only database: ALTER DATABASE orders SET default_transaction_read_only = on"
		# From the postgres database: the setting also binds the superuser's new sessions.
		fl_pg_sql "ALTER DATABASE orders SET default_transaction_read_only = on" postgres
		say "the app's writes fail: it answers 503 on every host, release 1.0 unchanged"
		app_mode 503
		wait_until 30 "a database verdict" verdict_is database || true
		say "faultline status"
		fl status || true
		say "faultline diagnose"
		fl diagnose || true
		echo
		echo "Undo it: bash scripts/demo.sh db ok"
		;;
	ok)
		say "writable again: ALTER DATABASE orders RESET default_transaction_read_only; app ok"
		fl_pg_sql "ALTER DATABASE orders RESET default_transaction_read_only" postgres
		app_mode ok
		wait_until 30 "a healthy verdict" verdict_is healthy || true
		say "faultline diagnose"
		fl diagnose || true
		;;
	*) die "usage: scripts/demo.sh db read-only|ok" ;;
	esac
}

start_demo() {
	need_root
	say "installing dependencies (Debian packages)"
	bash "$SRC/scripts/install-deps.sh"

	say "building (Release) in $BUILD"
	# Warnings are errors in CI (scripts/test.sh), not here: a newer compiler's new warning must
	# not stop a newcomer's demo.
	cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DFL_SANITIZER=none -DFL_TESTS=OFF -DFL_WERROR=OFF \
		>/dev/null
	cmake --build "$BUILD" -j"$(nproc)" --target faultline-agent faultline-collector faultline

	if [[ -e $DEMO/.faultline-demo ]]; then
		stop_demo
	fi
	mkdir -p "$DEMO"
	chmod 755 "$DEMO"
	touch "$DEMO/.faultline-demo"

	local app_port listen survey http_port
	app_port=$(pick_port 18080)
	listen=tcp://127.0.0.1:$(pick_port 17600)
	survey=tcp://127.0.0.1:$(pick_port 17601)
	http_port=$(pick_port 7680)
	METRICS_URL=http://127.0.0.1:$http_port/metrics
	PAGE_URL=http://127.0.0.1:$http_port/

	say "starting the demo app on http://127.0.0.1:$app_port/health"
	# A deploy the way the agent expects it: releases/<id>/ with RELEASE and faultline.expect,
	# and a `current` symlink that a deploy (or rollback) swaps.
	mkdir -p "$DEMO/releases/1.0"
	echo 1.0 >"$DEMO/releases/1.0/RELEASE"
	cp "$SRC/deploy/demo/release-1.0.expect" "$DEMO/releases/1.0/faultline.expect"
	ln -sfn releases/1.0 "$DEMO/current"
	echo ok >"$DEMO/app.mode"
	start demo-app python3 "$SRC/deploy/demo/demo-app.py" --bind 127.0.0.1 --port "$app_port" \
		--mode-file "$DEMO/app.mode" --release-file "$DEMO/current/RELEASE"

	say "starting PostgreSQL 15 and MariaDB with the demo schema"
	FL_DB_DIR=$DEMO/db
	mkdir -p "$FL_DB_DIR"
	chmod 755 "$FL_DB_DIR"
	export FL_DB_DIR
	# shellcheck source=../tests/lib/dbservers.sh
	source "$SRC/tests/lib/dbservers.sh"
	fl_pg_start || die "cannot start PostgreSQL (see $FL_DB_DIR/pg/server.log)"
	fl_my_start || die "cannot start MariaDB (see $FL_DB_DIR/my/error.log)"
	# What `demo.sh stop` needs to find them again (no password in here).
	declare -p FL_DB_DIR FL_PG_PORT FL_PG_SOCKDIR FL_PG_DATA FL_PG_PID FL_MY_PORT FL_MY_SOCKET \
		FL_MY_PID FL_PG_PASSWORD_FILE FL_MY_PASSWORD_FILE | sed 's/^declare -[-a-zA-Z]* /declare -gx /' \
		>"$DEMO/db.env"
	echo "PostgreSQL on 127.0.0.1:$FL_PG_PORT, MariaDB on 127.0.0.1:$FL_MY_PORT"

	say "starting the collector ($listen, control $CONTROL)"
	cat >"$DEMO/collector.conf" <<-EOF
		[collector]
		listen = $listen
		survey = $survey
		control = $CONTROL
		state = $DEMO/collector.db
		http = 127.0.0.1:$http_port
		log_level = info
	EOF
	start collector "$BUILD/collector/faultline-collector" -c "$DEMO/collector.conf"
	wait_until 20 "the collector" fl status --json || die "the collector did not start"
	echo "Prometheus metrics: $METRICS_URL"
	echo "Incident page: $PAGE_URL (open it in a browser: it follows the demo by itself)"

	say "starting agents app1 and app2 (interval $INTERVAL)"
	local h
	for h in app1 app2; do
		mkdir -p "$DEMO/$h.state"
		cat >"$DEMO/$h.conf" <<-EOF
			[agent]
			name = $h
			collector = $listen
			survey = $survey
			interval = $INTERVAL
			release_file = $DEMO/current/RELEASE
			expectations = $DEMO/current/faultline.expect
			state_dir = $DEMO/$h.state

			[http "app"]
			url = http://127.0.0.1:$app_port/health
			expect_status = 200
			body_contains = ok
			timeout = 2s
			slow = 500ms

			[tcp "app-port"]
			address = 127.0.0.1:$app_port
			timeout = 1s

			[dns "localhost"]
			name = localhost

			[postgres "orders"]
			conninfo = host=127.0.0.1 port=$FL_PG_PORT dbname=orders user=app
			password_file = $FL_PG_PASSWORD_FILE
			timeout = 3s

			[mysql "legacy"]
			host = 127.0.0.1
			port = $FL_MY_PORT
			user = app
			database = legacy
			password_file = $FL_MY_PASSWORD_FILE
			timeout = 3s
		EOF
		"$BUILD/agent/faultline-agent" --check-config -c "$DEMO/$h.conf"
		start "$h" "$BUILD/agent/faultline-agent" -c "$DEMO/$h.conf"
	done
	wait_until 30 "the first reports of both agents" all_reported || die "no reports arrived"

	say "faultline status"
	fl status || true

	say "breaking something real: REVOKE SELECT ON public.orders FROM app (release 1.0 needs it)"
	fl_pg_sql "REVOKE SELECT ON public.orders FROM app"
	wait_until 30 "a database verdict" verdict_is database || true
	say "faultline diagnose"
	fl diagnose || true

	say "restoring it: GRANT SELECT ON public.orders TO app"
	fl_pg_sql "GRANT SELECT ON public.orders TO app"
	wait_until 30 "a healthy verdict" verdict_is healthy || true
	say "faultline diagnose"
	fl diagnose || true
	# The collector records the return to healthy a moment after diagnose first says so.
	wait_until 5 "the recovery in history" history_ends_healthy || true
	say "faultline history (the incident, as recorded)"
	fl history --since 10m || true

	cat <<-EOF

		The demo keeps running in $DEMO (logs: $DEMO/*.log).

		  export FAULTLINE_CONTROL=$CONTROL
		  $CLI status            # or: bash scripts/demo.sh status
		  $CLI diagnose
		  $CLI history --since 10m
		  curl -s $METRICS_URL   # Prometheus metrics (README, "Alerts and metrics")

		Incident page (live, updates every 2 s): $PAGE_URL

		Break things and watch:
		  bash scripts/demo.sh app 503          # the app answers 503 (code)
		  bash scripts/demo.sh app slow 900     # 900 ms answers (warn, slow)
		  bash scripts/demo.sh app down         # the app stops listening (refused)
		  bash scripts/demo.sh app ok           # back to normal
		  bash scripts/demo.sh db read-only     # failover onto a read-only database
		  bash scripts/demo.sh db ok            # writable again
		  bash -c 'source $DEMO/db.env; source $SRC/tests/lib/dbservers.sh; fl_pg_sql "REVOKE INSERT ON public.order_items FROM app"'
		  bash -c 'source $DEMO/db.env; source $SRC/tests/lib/dbservers.sh; fl_my_stop'   # MariaDB down

		Stop everything:  bash scripts/demo.sh stop
	EOF
}

case ${1:-start} in
start) start_demo ;;
stop) stop_demo ;;
status)
	[[ -e $DEMO/.faultline-demo ]] || die "no demo running in $DEMO"
	fl status
	;;
app)
	[[ $# -ge 2 ]] || die "usage: scripts/demo.sh app MODE [DELAY_MS]"
	app_mode "$2" "${3:-}"
	;;
db)
	[[ $# -ge 2 ]] || die "usage: scripts/demo.sh db read-only|ok"
	db_state "$2"
	;;
-h | --help | help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' ;;
*) die "unknown command '$1' (start, stop, status, app MODE, db read-only|ok, help)" ;;
esac
