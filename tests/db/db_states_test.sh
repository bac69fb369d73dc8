#!/bin/bash
# db_states_test.sh - database states a SELECT 1 cannot see, each with the real server in that
# state (PostgreSQL 15 and MariaDB from tests/lib/dbservers.sh):
#   read-only: PostgreSQL default_transaction_read_only (ALTER DATABASE) and a real streaming
#     standby (in recovery); MariaDB SET GLOBAL read_only=1 with the non-SUPER app user. Fails as
#     read_only when the release's expectations need a write, passes (reported) when they do not.
#   replication lag: the standby with replay paused while the primary writes (warn above
#     max_lag); caught up (ok); replica = yes on a primary. A real MariaDB replica of the test
#     server: caught up (ok), MASTER_DELAY while the primary writes (warn, Seconds_Behind_Master),
#     SQL thread stopped (warn, not running); replica = yes on the primary (not a replica).
#   connection saturation: app connections held until in-use passes saturation_warn (warn
#     saturated), structured counts in every round.
#   certificate expiry (PostgreSQL over TLS): the server's certificate expiring in 3 days (warn
#     cert_expiring, cert_expires), expired (fail tls), with sslmode=require and verify-full.
#   out of resources: mariadbd in a pids cgroup at its current thread count, so the thread of a
#     new connection cannot be created (1135).
# Needs root. Env: FL_BUILD, FL_SOURCE.

set -uo pipefail
FL_SOURCE=${FL_SOURCE:-$(cd "$(dirname "$0")/../.." && pwd)}
FL_BUILD=${FL_BUILD:-$FL_SOURCE/build}
PROBE=$FL_BUILD/tests/db/dbprobe
. "$FL_SOURCE/tests/lib/dbservers.sh"

T=$(mktemp -d /tmp/fl-dbstates.XXXXXX)
HOLDERS=()
CG=
STANDBY=
REPLICA_PID=
cleanup() {
	[ -n "$REPLICA_PID" ] && kill -9 "$REPLICA_PID" 2>/dev/null
	for pid in "${HOLDERS[@]}"; do kill -9 "$pid" 2>/dev/null; done
	if [ -n "$CG" ] && [ -d "$CG" ]; then
		echo max >"$CG/pids.max" 2>/dev/null
		[ -n "${FL_MY_PID:-}" ] && echo "$FL_MY_PID" >/sys/fs/cgroup/pids/cgroup.procs 2>/dev/null
		rmdir "$CG" 2>/dev/null
	fi
	if [ -n "$STANDBY" ]; then
		runuser -u postgres -- "$FL_PG_BIN/pg_ctl" -D "$STANDBY" -m immediate -w stop \
			>/dev/null 2>&1
	fi
	fl_db_cleanup
	rm -rf "$T"
}
trap cleanup EXIT

source "$FL_SOURCE/tests/db/lib.sh"
[ -x "$PROBE" ] || { echo "missing $PROBE: build target dbprobe first" >&2; exit 1; }

fl_pg_start || { echo "cannot start PostgreSQL (see above)" >&2; exit 1; }
FL_MY_BINLOG=1 fl_my_start || { echo "cannot start MariaDB (see above)" >&2; exit 1; }

# Release 2.4 writes to both databases; the "reader" release only reads.
cat >"$T/writer.expect" <<'EOF'
[postgres "orders"]
table    = public.orders: SELECT, INSERT, UPDATE
sequence = public.orders_id_seq: USAGE
[mysql "legacy"]
table  = legacy.customers: SELECT, UPDATE
EOF
cat >"$T/reader.expect" <<'EOF'
[postgres "orders"]
table = public.orders: SELECT
[mysql "legacy"]
table = legacy.customers: SELECT
EOF

pgci() { echo "host=127.0.0.1 port=$1 dbname=orders user=app"; }
PG=(postgres orders --release 2.4 conninfo="$(pgci "$FL_PG_PORT")" password_file="$FL_PG_PASSWORD_FILE")
MY=(mysql legacy --release 2.4 host=127.0.0.1 port="$FL_MY_PORT" user=app database=legacy
	password_file="$FL_MY_PASSWORD_FILE")

# ------------------------------------------------------------------ PostgreSQL read-only

probe pg_rw "${PG[@]}" --expect "$T/writer.expect"
check pg_rw '.result.status == "ok" and (.result | has("read_only") | not)' "writable: no read_only field"
check pg_rw '.result.connections_limit == 5 and .result.connections_in_use >= 1' \
	"connections in use vs the limit (max_connections 8 - 3 reserved) in every round"

fl_pg_sql "ALTER DATABASE orders SET default_transaction_read_only = on" postgres
probe pg_ro "${PG[@]}" --expect "$T/writer.expect"
check pg_ro '.result.status == "fail" and .result.failure == "read_only"' \
	"default_transaction_read_only and the release needs INSERT: fail read_only"
check pg_ro '.result.read_only == true and .result.read_only_reason == "default_transaction_read_only" and .result.read_only_needs == "INSERT on public.orders"' \
	"structured: the state and the write the release needs"
check pg_ro '.result.detail == "orders is read-only (default_transaction_read_only) — release 2.4 needs INSERT on public.orders"' \
	"the summary names the database, the state, the release and the write"
check pg_ro '.result.timing.query_ms > 0 and .result.timing.check_ms > 0' \
	"the state came with the first query (no extra phase)"
probe pg_ro_reader "${PG[@]}" --expect "$T/reader.expect"
check pg_ro_reader '.result.status == "ok" and .result.read_only == true and (.result | has("read_only_needs") | not)' \
	"read-only but the release only reads: reported, passes"
check pg_ro_reader '.result.detail | test("read-only \\(default_transaction_read_only\\), the release needs no writes")' \
	"the detail says it is read-only"
fl_pg_sql "ALTER DATABASE orders RESET default_transaction_read_only" postgres
probe pg_rw_again "${PG[@]}" --expect "$T/writer.expect"
check pg_rw_again '.result.status == "ok"' "writable again"

# A real streaming standby of the test server: in recovery.
STANDBY_PORT=$(fl_db_free_port)
STANDBY=$FL_DB_DIR/pg/standby
runuser -u postgres -- "$FL_PG_BIN/pg_basebackup" -h "$FL_PG_SOCKDIR" -p "$FL_PG_PORT" -U postgres \
	-D "$STANDBY" -R -X stream >"$T/basebackup.log" 2>&1 || fail "pg_basebackup: $(cat "$T/basebackup.log")"
runuser -u postgres -- "$FL_PG_BIN/pg_ctl" -D "$STANDBY" -l "$FL_DB_DIR/pg/standby.log" -w -t 30 \
	-o "-c port=$STANDBY_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$FL_PG_SOCKDIR" \
	start >"$T/standby.log" 2>&1 || fail "standby did not start: $(tail -5 "$FL_DB_DIR/pg/standby.log")"
standby_sql() {
	runuser -u postgres -- psql -X -q -At -h "$FL_PG_SOCKDIR" -p "$STANDBY_PORT" -U postgres \
		-d orders -c "$1"
}
wait_for 20 t standby_sql "SELECT pg_is_in_recovery() AND pg_last_wal_receive_lsn() IS NOT NULL" ||
	fail "the standby does not stream"
SB=(postgres orders --release 2.4 conninfo="$(pgci "$STANDBY_PORT")" password_file="$FL_PG_PASSWORD_FILE")

probe sb_ro "${SB[@]}" --expect "$T/writer.expect"
check sb_ro '.result.failure == "read_only" and .result.read_only_reason == "in recovery"' \
	"a standby (in recovery) and the release needs INSERT: read_only, in recovery"
check sb_ro '.result.detail == "orders is read-only (in recovery) — release 2.4 needs INSERT on public.orders"' \
	"the summary says in recovery"

# Replication lag: caught up, then replay paused while the primary writes.
fl_pg_sql "INSERT INTO orders(customer) VALUES ('lag-probe-1')" >/dev/null
# Caught up means this commit replayed (equal receive and replay positions alone can both still
# be before it, and then no commit has a replay timestamp to age once replay is paused).
wait_for 20 t standby_sql "SELECT pg_last_xact_replay_timestamp() IS NOT NULL AND
	EXISTS (SELECT 1 FROM orders WHERE customer = 'lag-probe-1') AND
	pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()" ||
	fail "the standby does not catch up"
probe sb_lag0 "${SB[@]}" --expect "$T/reader.expect" replica=yes max_lag=2s
check sb_lag0 '.result.status == "ok" and .result.replica == true and .result.replication_lag_s == 0' \
	"caught-up replica: lag 0, ok"
standby_sql "SELECT pg_wal_replay_pause()" >/dev/null
fl_pg_sql "INSERT INTO orders(customer) VALUES ('lag-probe-2')" >/dev/null
wait_for 20 t standby_sql "SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()" ||
	fail "the standby did not receive the write while paused"
# The last replayed commit ages: lag grows past max_lag = 1s.
lag_past() { standby_sql "SELECT now() - pg_last_xact_replay_timestamp() > interval '1.5 s'"; }
wait_for 10 t lag_past || fail "replay lag did not grow"
probe sb_lag "${SB[@]}" --expect "$T/reader.expect" replica=yes max_lag=1s
check sb_lag '.result.status == "warn" and .result.failure == "replication_lag" and .result.replication_lag_s > 1' \
	"replay paused: warn replication_lag with the lag in seconds"
check sb_lag '.result.detail | test("behind its primary \\(max_lag = 1.0 s\\)")' "the detail names max_lag"
standby_sql "SELECT pg_wal_replay_resume()" >/dev/null
wait_for 20 t standby_sql "SELECT pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()" ||
	fail "the standby does not catch up after resume"
# A WAL record that is not a commit (the primary's periodic running-xacts record) can arrive
# just after the catch-up: for the moment it is being replayed, receive and replay positions
# differ and the last replayed commit is old, so one round may still read a lag. Replay has
# resumed when a round reads ok within 10 s.
for ((i = 0; i < 40; i++)); do
	probe sb_lag_ok "${SB[@]}" --expect "$T/reader.expect" replica=yes max_lag=1s
	jq -e '.result.status == "ok"' "$T/sb_lag_ok.json" >/dev/null 2>&1 && break
	sleep 0.25
done
check sb_lag_ok '.result.status == "ok" and .result.replication_lag_s == 0' "replay resumed: ok again"
probe pg_not_replica "${PG[@]}" replica=yes
check pg_not_replica '.result.failure == "replication_lag" and .result.replication_lag_s == null and (.result.detail | test("not in recovery"))' \
	"replica = yes on a primary (promoted?): warn, lag unknown"
runuser -u postgres -- "$FL_PG_BIN/pg_ctl" -D "$STANDBY" -m fast -w stop >/dev/null 2>&1
STANDBY=

# ------------------------------------------------------------------ PostgreSQL saturation
# 5 app slots; holders plus the probe's own connection.
pg_clients() { fl_pg_sql "SELECT count(*) FROM pg_stat_activity WHERE usename = 'app'"; }
hold_pg() {
	local want=$1 i try
	for ((try = 0; try < 10; try++)); do
		local have
		have=$(pg_clients)
		[ "$have" = "$want" ] && return 0
		for ((i = have; i < want; i++)); do
			PGPASSWORD=$FL_DB_PASSWORD psql -X -q -h 127.0.0.1 -p "$FL_PG_PORT" -U app \
				-d orders -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
			HOLDERS+=($!)
			disown $!
		done
		wait_for 10 "$want" pg_clients && return 0
	done
	return 1
}
hold_pg 3 || fail "could not hold 3 app connections"
probe pg_80 "${PG[@]}"
check pg_80 '.result.status == "ok" and .result.connections_in_use >= 4 and .result.connections_limit == 5' \
	"4 of 5 in use (80%): below saturation_warn 90%, ok"
hold_pg 4 || fail "could not hold 4 app connections"
probe pg_sat "${PG[@]}"
check pg_sat '.result.status == "warn" and .result.failure == "saturated" and .result.connections_in_use >= 5 and .result.connections_limit == 5' \
	"5 of 5 in use: warn saturated"
check pg_sat '.result.detail | test("of 5 connections in use .*saturation_warn = 90%")' "the detail gives the counts"
probe pg_sat_off "${PG[@]}" saturation_warn=0
check pg_sat_off '.result.status == "ok" and .result.connections_in_use >= 5' "saturation_warn = 0 turns the warning off"
for pid in "${HOLDERS[@]}"; do kill -9 "$pid" 2>/dev/null; done
HOLDERS=()
fl_pg_sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'app'" >/dev/null

# ------------------------------------------------------------------ PostgreSQL over TLS
# Certificates made by tests/agent/cert/mkcert.py; ssl is turned on by a reload.
PD=$FL_DB_DIR/pg
python3 "$FL_SOURCE/tests/agent/cert/mkcert.py" "$PD/soon" 3 &&
	python3 "$FL_SOURCE/tests/agent/cert/mkcert.py" "$PD/old" -1 ||
	fail "cannot make certificates (python3-cryptography)"
chown postgres "$PD"/soon.* "$PD"/old.* && chmod 600 "$PD"/soon.key "$PD"/old.key
pg_ssl() {
	fl_pg_sql "ALTER SYSTEM SET ssl_cert_file = '$PD/$1.crt'" >/dev/null &&
		fl_pg_sql "ALTER SYSTEM SET ssl_key_file = '$PD/$1.key'" >/dev/null &&
		fl_pg_sql "ALTER SYSTEM SET ssl = on" >/dev/null && fl_pg_sql "SELECT pg_reload_conf()" >/dev/null
}
ssl_cert_is() {
	openssl s_client -starttls postgres -connect "127.0.0.1:$FL_PG_PORT" </dev/null 2>/dev/null |
		openssl x509 -noout -fingerprint -sha256 2>/dev/null
}
want_fp() { openssl x509 -in "$PD/$1.crt" -noout -fingerprint -sha256; }
pg_ssl soon
wait_for 10 "$(want_fp soon)" ssl_cert_is || fail "PostgreSQL does not serve the new certificate"
soon_day=$(python3 -c 'import datetime; print((datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=3)).strftime("%Y-%m-%d"))')
probe tls_soon postgres orders conninfo="$(pgci "$FL_PG_PORT") sslmode=require" password_file="$FL_PG_PASSWORD_FILE"
check tls_soon ".result.status == \"warn\" and .result.failure == \"cert_expiring\" and (.result.cert_expires | startswith(\"$soon_day\")) and .result.timing.tls_ms > 0" \
	"TLS, certificate expiring in 3 days: warn cert_expiring with cert_expires"
probe tls_soon_verified postgres orders conninfo="$(pgci "$FL_PG_PORT") sslmode=verify-full sslrootcert=$PD/soon.crt" \
	password_file="$FL_PG_PASSWORD_FILE" cert_warn=2d
check tls_soon_verified '.result.status == "ok" and .result.cert_expires != null' \
	"verify-full, cert_warn = 2d: ok, expiry reported"
probe tls_plain "${PG[@]}" conninfo="$(pgci "$FL_PG_PORT") sslmode=disable"
check tls_plain '.result.status == "ok" and (.result | has("cert_expires") | not)' "no TLS: no cert_expires"
pg_ssl old
wait_for 10 "$(want_fp old)" ssl_cert_is || fail "PostgreSQL does not serve the expired certificate"
probe tls_old postgres orders conninfo="$(pgci "$FL_PG_PORT") sslmode=require" password_file="$FL_PG_PASSWORD_FILE"
check tls_old '.result.status == "fail" and .result.failure == "tls" and (.result.detail | test("certificate expired at"))' \
	"expired certificate, not verified: still fail tls, \"expired\" in the detail"
probe tls_old_verified postgres orders conninfo="$(pgci "$FL_PG_PORT") sslmode=verify-full sslrootcert=$PD/old.crt" \
	password_file="$FL_PG_PASSWORD_FILE"
check tls_old_verified '.result.status == "fail" and .result.failure == "tls"' \
	"expired certificate, verify-full: the handshake fails: tls"
fl_pg_sql "ALTER SYSTEM SET ssl = off" >/dev/null && fl_pg_sql "SELECT pg_reload_conf()" >/dev/null

# ------------------------------------------------------------------ MariaDB

probe my_rw "${MY[@]}" --expect "$T/writer.expect"
check my_rw '.result.status == "ok" and .result.connections_limit == 10 and .result.connections_in_use >= 1' \
	"mysql: writable, connections in use vs max_connections"
fl_my_sql "SET GLOBAL read_only = 1"
probe my_ro "${MY[@]}" --expect "$T/writer.expect"
check my_ro '.result.failure == "read_only" and .result.read_only_reason == "read_only" and .result.read_only_needs == "UPDATE on legacy.customers"' \
	"mysql: @@read_only and the release needs UPDATE: read_only"
check my_ro '.result.detail == "legacy is read-only (read_only) — release 2.4 needs UPDATE on legacy.customers"' \
	"mysql: the summary"
probe my_ro_reader "${MY[@]}" --expect "$T/reader.expect"
check my_ro_reader '.result.status == "ok" and .result.read_only == true' "mysql: read-only, release only reads: passes"
fl_my_sql "SET GLOBAL read_only = 0"

# Saturation: holders of the app user until Threads_connected passes half of max_connections.
my_clients() { fl_my_sql "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'app'"; }
for ((i = 0; i < 6; i++)); do
	mariadb --no-defaults -h 127.0.0.1 -P "$FL_MY_PORT" -u app -p"$FL_DB_PASSWORD" \
		-e "SELECT SLEEP(60)" >/dev/null 2>&1 &
	HOLDERS+=($!)
	disown $!
done
wait_for 10 6 my_clients || fail "could not hold 6 MariaDB connections"
probe my_sat "${MY[@]}" saturation_warn=50%
check my_sat '.result.status == "warn" and .result.failure == "saturated" and .result.connections_in_use >= 7 and .result.connections_limit == 10' \
	"mysql: 7+ of 10 in use above saturation_warn 50%: warn saturated"
probe my_sat_ok "${MY[@]}"
check my_sat_ok '.result.status == "ok"' "mysql: the same load under the default 90% is ok"
for pid in "${HOLDERS[@]}"; do kill -9 "$pid" 2>/dev/null; done
HOLDERS=()

# A real MariaDB replica of the test server, following its binary log from the start (so it gets
# the app users and the legacy database too).
RD=$FL_DB_DIR/myrep
RPORT=$(fl_db_free_port)
mkdir -p "$RD/run" "$RD/tmp" && chown mysql:mysql "$RD" "$RD/run" "$RD/tmp"
mariadb-install-db --no-defaults --user=mysql --datadir="$RD/data" --skip-test-db \
	--auth-root-authentication-method=socket >"$T/rep-install.log" 2>&1 || fail "replica install: $(tail -3 "$T/rep-install.log")"
setsid /usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$RD/data" --socket="$RD/run/sock" \
	--pid-file="$RD/run/pid" --port="$RPORT" --bind-address=127.0.0.1 --tmpdir="$RD/tmp" \
	--log-error="$RD/error.log" --skip-name-resolve --skip-log-bin --server-id=2 \
	--innodb-buffer-pool-size=32M --innodb-log-file-size=16M </dev/null >/dev/null 2>&1 &
REPLICA_PID=$!
disown $REPLICA_PID
rep_sql() { mariadb --no-defaults --socket="$RD/run/sock" -uroot -N -B -e "$1"; }
wait_for 30 ok bash -c "mariadb-admin --no-defaults --socket=$RD/run/sock -uroot ping >/dev/null && echo ok" ||
	fail "the replica did not start: $(tail -5 "$RD/error.log")"
fl_my_sql "CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY 'replpw'; GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1'"
rep_sql "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$FL_MY_PORT, MASTER_USER='repl',
	MASTER_PASSWORD='replpw', MASTER_LOG_FILE='mysql-bin.000001', MASTER_LOG_POS=4,
	MASTER_USE_GTID=no; START SLAVE"
lag_of() {
	mariadb --no-defaults --socket="$RD/run/sock" -uroot -e "SHOW SLAVE STATUS\G" |
		awk '/Seconds_Behind_Master:/ {print $2}'
}
app_on_replica() { rep_sql "SELECT COUNT(*) FROM mysql.user WHERE User = 'app'"; }
wait_for 30 2 app_on_replica || fail "the replica did not replay the app users: $(mariadb --no-defaults --socket="$RD/run/sock" -uroot -e "SHOW SLAVE STATUS\G" | grep -E 'Running|Error')"
wait_for 30 0 lag_of || fail "the replica does not catch up"
rep_sql "GRANT SLAVE MONITOR ON *.* TO 'app'@'127.0.0.1'"
MYR=(mysql legacy --release 2.4 host=127.0.0.1 port="$RPORT" user=app database=legacy
	password_file="$FL_MY_PASSWORD_FILE" replica=yes max_lag=1s)
probe myr_ok "${MYR[@]}" --expect "$T/reader.expect"
check myr_ok '.result.status == "ok" and .result.replica == true and .result.replication_lag_s == 0' \
	"mysql replica caught up: lag 0, ok"
rep_sql "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 60; START SLAVE"
fl_my_sql "INSERT INTO legacy.customers(email, name) VALUES ('lag@example.org', 'lag')"
lag_at_least_2() { local l; l=$(lag_of); [ "$l" != NULL ] && [ "${l:-0}" -ge 2 ] && echo yes; }
wait_for 15 yes lag_at_least_2 || fail "Seconds_Behind_Master did not grow (got $(lag_of))"
probe myr_lag "${MYR[@]}" --expect "$T/reader.expect"
check myr_lag '.result.status == "warn" and .result.failure == "replication_lag" and .result.replication_lag_s >= 2' \
	"mysql replica delayed while the primary writes: warn replication_lag, lag in seconds"
rep_sql "STOP SLAVE SQL_THREAD"
probe myr_stopped "${MYR[@]}" --expect "$T/reader.expect"
check myr_stopped '.result.failure == "replication_lag" and .result.replication_lag_s == null and (.result.detail | test("not running"))' \
	"mysql replica with its SQL thread stopped: warn, replication not running"
kill -9 "$REPLICA_PID" 2>/dev/null
REPLICA_PID=

# replica = yes where nothing replicates (the user may read replica status: SLAVE MONITOR).
fl_my_sql "GRANT SLAVE MONITOR ON *.* TO 'app'@'127.0.0.1'"
probe my_not_replica "${MY[@]}" replica=yes
check my_not_replica '.result.failure == "replication_lag" and .result.replication_lag_s == null and (.result.detail | test("not configured as a replica"))' \
	"mysql: replica = yes, SHOW REPLICA STATUS empty: warn, lag unknown"
fl_my_sql "REVOKE SLAVE MONITOR ON *.* FROM 'app'@'127.0.0.1'"

# Out of resources: no thread for a new connection. The thread cache is emptied first (a cached
# thread would serve the connection), then mariadbd's pids cgroup is capped at what it runs.
fl_my_sql "SET GLOBAL thread_cache_size = 0"
threads_cached() { fl_my_sql "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'THREADS_CACHED'"; }
wait_for 10 0 threads_cached || fail "mariadbd keeps cached threads"
CG=/sys/fs/cgroup/pids/fl-dbstates-$$
if mkdir "$CG" 2>/dev/null && echo "$FL_MY_PID" >"$CG/cgroup.procs"; then
	cat "$CG/pids.current" >"$CG/pids.max"
	probe my_threads "${MY[@]}"
	echo max >"$CG/pids.max"
	check my_threads '.result.status == "fail" and .result.failure == "out_of_resources" and .result.error_code == 1135' \
		"mysql: no thread for the connection (1135): out_of_resources"
else
	fail "cannot put mariadbd in a pids cgroup ($CG): the out-of-resources case needs cgroup v1 pids"
fi
probe my_threads_ok "${MY[@]}"
check my_threads_ok '.result.status == "ok"' "mysql: threads available again: ok"

echo "$N checks, $FAILS failed"
[ "$FAILS" = 0 ]
