#!/usr/bin/env bash
# diagnose_db_states.sh - database states a SELECT 1 cannot see, end to end: a real PostgreSQL
# 15 and MariaDB (tests/lib/dbservers.sh), a collector and two agents (1 s interval) probing
# their demo apps and both databases with release 1.0's expectations (which need writes).
#   PostgreSQL read-only (default_transaction_read_only) and every app answering 503, release
#   unchanged                             -> database, naming the state and the write, apps folded
#   MariaDB SET GLOBAL read_only = 1      -> database, naming read_only and legacy
#   PostgreSQL app connections held until the server is saturated
#                                         -> database naming the target; status carries the counts
# The night the issue describes: after a failover the apps fail everywhere and the release did
# not change; the verdict must not be CODE. Needs root.
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"
# shellcheck source=../lib/dbservers.sh
source "$FL_SOURCE/tests/lib/dbservers.sh"

HOLDERS=()
fl_test_cleanup() {
	local pid
	for pid in "${HOLDERS[@]}"; do kill -9 "$pid" 2>/dev/null; done
	if [[ $FL_RC -ne 0 && -n ${FL_DB_DIR:-} ]]; then
		local f
		for f in "$FL_DB_DIR/pg/server.log" "$FL_DB_DIR/my/error.log"; do
			[[ -e $f ]] && printf '\n----- %s (last 20 lines) -----\n%s\n' "$f" "$(tail -n 20 "$f")" >&2
		done
	fi
	fl_db_cleanup
}

fl_init
[[ $(id -u) -eq 0 ]] || fl_fail "must run as root: the database servers run as postgres/mysql (sudo ctest ...)"
fl_pg_start || fl_fail "cannot start PostgreSQL 15 (apt-get install postgresql-15)"
fl_my_start || fl_fail "cannot start MariaDB (apt-get install mariadb-server)"

fl_collector_conf "$FL_TMP/collector.conf"
fl_start_collector collector
for h in app1 app2; do
	echo 1.0 >"$FL_TMP/app-$h.release"
	fl_start_app "app-$h"
	fl_agent_conf "$FL_TMP/$h.conf" "$h" 1.0
	cat >>"$FL_TMP/$h.conf" <<-EOF
		expectations = $FL_SOURCE/deploy/demo/release-1.0.expect

		[http "app"]
		url = http://127.0.0.1:$FL_APP_PORT/health
		timeout = 2s

		[postgres "orders"]
		conninfo = host=127.0.0.1 port=$FL_PG_PORT dbname=orders user=app
		password_file = $FL_PG_PASSWORD_FILE

		[mysql "legacy"]
		host = 127.0.0.1
		port = $FL_MY_PORT
		user = app
		database = legacy
		password_file = $FL_MY_PASSWORD_FILE
	EOF
	fl_start_agent "$h"
done

diagnosis_has() {
	local j
	j=$(fl_cli diagnose --json) || true
	jq -e "$@" <<<"$j" >/dev/null || {
		jq -c '{verdict, summary}' <<<"$j" 2>/dev/null || echo "$j"
		return 1
	}
}
# expect WHAT SECONDS FILTER: waits until the diagnosis satisfies FILTER; logs the time taken.
expect() {
	local t0=$SECONDS
	wait_for "$1" "$2" diagnosis_has "${@:3}"
	fl_log "$1 after $((SECONDS - t0)) s"
	D=$(fl_cli diagnose --json || true)
}

expect "healthy at first" 30 '.verdict == "healthy"'

# --- PostgreSQL goes read-only and the apps fail everywhere, release unchanged ---------------
fl_pg_sql "ALTER DATABASE orders SET default_transaction_read_only = on" postgres
fl_app_mode app-app1 503
fl_app_mode app-app2 503
expect "read-only PostgreSQL: database verdict" 15 '
	.verdict == "database" and (.findings[0].hosts | sort) == ["app1", "app2"]
	and (.summary | test("^orders \\(postgres .*\\) is read-only \\(default_transaction_read_only\\) — release 1.0 needs INSERT on public.orders"))'
assert_jq "the apps' 503s are folded into it, not a code finding" "$D" '
	([.findings[] | select(.verdict == "code")] | length) == 0
	and (.summary | test("2 app probe failures downstream"))
	and any(.findings[0].evidence[]; test("database state: read-only \\(default_transaction_read_only\\)"))'
S=$(fl_cli_json status)
assert_jq "status carries the state, structured" "$S" '
	all(.hosts[].probes[] | select(.name == "orders");
		.failure == "read_only" and .read_only == true
		and .read_only_reason == "default_transaction_read_only"
		and .read_only_needs == "INSERT on public.orders")'
fl_pg_sql "ALTER DATABASE orders RESET default_transaction_read_only" postgres
fl_app_mode app-app1 ok
fl_app_mode app-app2 ok
expect "writable again: healthy" 15 '.verdict == "healthy"'

# --- MariaDB read_only ---------------------------------------------------------------------------
fl_my_sql "SET GLOBAL read_only = 1"
expect "read-only MariaDB: database verdict" 15 '
	.verdict == "database" and (.summary | test("^legacy \\(mysql .*\\) is read-only \\(read_only\\) — release 1.0 needs UPDATE on legacy.customers"))'
fl_my_sql "SET GLOBAL read_only = 0"
expect "MariaDB writable again: healthy" 15 '.verdict == "healthy"'

# --- PostgreSQL saturated: 4 held app connections + a probe's = 5 of its 5 slots ---------------
# When both agents probe at the same moment one of them is refused (too_many_connections):
# either way the verdict is database, naming the target.
held() {
	fl_pg_sql "SELECT count(*) FROM pg_stat_activity WHERE usename = 'app' AND query LIKE '%pg_sleep%'"
}
held_at_least() { [[ $(held) -ge $1 ]]; }
# hold_more N: starts holders until N are held; an agent's probe may take a slot while a holder
# connects (that holder is refused and exits), so it refills.
hold_more() {
	local want=$1 have i
	have=$(held)
	for ((i = have; i < want; i++)); do
		PGPASSWORD=$FL_DB_PASSWORD psql -X -q -h 127.0.0.1 -p "$FL_PG_PORT" -U app -d orders \
			-c "SELECT pg_sleep(120)" >/dev/null 2>&1 &
		HOLDERS+=($!)
		disown $!
	done
	local deadline=$((SECONDS + 3))
	while ((SECONDS < deadline)); do
		held_at_least "$want" && return 0
		sleep 0.1
	done
	return 1
}
wait_for "4 held app connections" 30 hold_more 4
expect "saturated PostgreSQL: database verdict naming the target" 20 --arg p "$FL_PG_PORT" '
	any(.findings[]; .verdict == "database" and any(.targets[]; test($p))
		and (.summary | test("is saturated|too many connections")))'
S=$(fl_cli_json status)
assert_jq "status reports in-use against the limit" "$S" '
	any(.hosts[].probes[] | select(.name == "orders"); .connections_limit == 5
		and .connections_in_use >= 5
		and (.failure == "saturated" or .failure == "too_many_connections"))'
for pid in "${HOLDERS[@]}"; do kill -9 "$pid" 2>/dev/null; done
HOLDERS=()
fl_pg_sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'app' AND query LIKE '%pg_sleep%'" >/dev/null
expect "connections released: healthy" 20 '.verdict == "healthy"'
