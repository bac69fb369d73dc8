#!/bin/bash
# db_probes_test.sh - the PostgreSQL and MySQL probes against real servers, one failure class
# at a time: all good, privilege revoked (table level; MySQL also database level), table
# dropped, column dropped, function missing, wrong password, database missing, max
# connections exhausted, a port that accepts TCP and never answers, server stopped, password
# file readable by others. Each case asserts the failure class and the structured unmet item,
# and no output ever contains the password.
#
# Needs root, postgresql-15 and mariadb-server (tests/lib/dbservers.sh says how to install
# them when they are missing: that is a failure, never a skip). Env: FL_BUILD, FL_SOURCE.

set -uo pipefail
FL_SOURCE=${FL_SOURCE:-$(cd "$(dirname "$0")/../.." && pwd)}
FL_BUILD=${FL_BUILD:-$FL_SOURCE/build}
PROBE=$FL_BUILD/tests/db/dbprobe
. "$FL_SOURCE/tests/lib/dbservers.sh"

T=$(mktemp -d /tmp/fl-dbtest.XXXXXX)
HOLDERS=()
cleanup() {
	for pid in "${HOLDERS[@]}"; do kill -9 "$pid" 2>/dev/null; done
	[ -n "${LISTENER:-}" ] && kill -9 "$LISTENER" 2>/dev/null
	[ -n "${FL_MY_PID:-}" ] && kill -CONT "$FL_MY_PID" 2>/dev/null
	fl_db_cleanup
	rm -rf "$T"
}
trap cleanup EXIT

source "$FL_SOURCE/tests/db/lib.sh"
[ -x "$PROBE" ] || { echo "missing $PROBE: build target dbprobe first" >&2; exit 1; }

fl_pg_start || { echo "cannot start PostgreSQL (see above)" >&2; exit 1; }
fl_my_start || { echo "cannot start MariaDB (see above)" >&2; exit 1; }

PGCI="host=127.0.0.1 port=$FL_PG_PORT dbname=orders user=app"
PG=(postgres orders --expect "$T/release.expect" conninfo="$PGCI" password_file="$FL_PG_PASSWORD_FILE")
MY=(mysql legacy --expect "$T/release.expect" host=127.0.0.1 port="$FL_MY_PORT" user=app
	database=legacy password_file="$FL_MY_PASSWORD_FILE")

cat >"$T/release.expect" <<'EOF'
; what release 42 of the demo app needs
[postgres "orders"]
schema   = public: USAGE
table    = public.orders: SELECT, INSERT, UPDATE
table    = public.order_items: SELECT, INSERT
column   = public.orders.discount_code
sequence = public.orders_id_seq: USAGE
function = public.place_order(integer): EXECUTE

[mysql "legacy"]
schema = legacy
table  = legacy.customers: SELECT, UPDATE
column = legacy.customers.email
EOF
DIGEST=$(python3 -c '
import sys
h = 0xcbf29ce484222325
for b in open(sys.argv[1], "rb").read():
    h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
print("fnv1a64:%016x" % h)' "$T/release.expect")

# ------------------------------------------------------------------ PostgreSQL

probe pg_good "${PG[@]}"
check pg_good '.result.status == "ok" and .result.failure == "none"' "all requirements met"
check pg_good '.result.requirements_checked == 6 and .result.role == "app" and (.result.unmet | length) == 0' \
	"6 requirements checked as role app"
check pg_good ".digest == \"$DIGEST\"" "expectations digest is FNV-1a 64 of the file"
check pg_good '.result.timing.connect_ms > 0 and .result.timing.auth_ms > 0 and .result.timing.query_ms > 0 and .result.timing.check_ms > 0' \
	"reports connect, auth, query and check phases"
check pg_good ".result.target == \"127.0.0.1:$FL_PG_PORT/orders\"" "target is host:port/dbname"

probe pg_name postgres orders conninfo="host=localhost hostaddr=127.0.0.1 port=$FL_PG_PORT dbname=orders user=app" password_file="$FL_PG_PASSWORD_FILE"
check pg_name '.result.status == "ok"' "hostaddr given: no DNS, target keeps the host name"
# GSSAPI encryption only when asked for: the probe's default (gssencmode=disable) connects
# as above; a conninfo that requires it is obeyed (no Kerberos here, so it cannot connect).
probe pg_gssenc postgres orders conninfo="host=127.0.0.1 port=$FL_PG_PORT dbname=orders user=app gssencmode=require" password_file="$FL_PG_PASSWORD_FILE"
check pg_gssenc '.result.status == "fail" and (.result.detail | test("GSSAPI"))' \
  "gssencmode=require in conninfo is obeyed (the default disable is only a default)"
probe pg_dns postgres orders conninfo="host=no-such-host.invalid port=$FL_PG_PORT dbname=orders user=app" password_file="$FL_PG_PASSWORD_FILE"
check pg_dns '.result.failure == "dns" and .result.timing.dns_ms > 0' "unresolvable name: dns, with the DNS phase timed"

probe pg_slow "${PG[@]}" slow=1ms
check pg_slow '.result.status == "warn" and .result.failure == "slow"' "slower than slow= is warn/slow"
# slow must be below timeout, checked and worded as for every other probe kind.
for kind in pg my; do
	if [[ $kind == pg ]]; then args=("${PG[@]}"); else args=("${MY[@]}"); fi
	probe ${kind}_slowcfg "${args[@]}" timeout=2s slow=2s
	N=$((N + 1))
	if [[ $(cat "$T/${kind}_slowcfg.rc") != 0 ]] &&
		grep -q 'dbprobe: config: slow (2000ms) must be below timeout (2000ms)' "$T/${kind}_slowcfg.err"; then
		echo "ok $N - ${kind}_slowcfg: slow not below timeout is a config error"
	else
		fail "${kind}_slowcfg: slow not below timeout: rc $(cat "$T/${kind}_slowcfg.rc"), $(cat "$T/${kind}_slowcfg.err")"
	fi
done

fl_pg_sql "REVOKE INSERT ON order_items FROM app"
probe pg_revoked "${PG[@]}"
check pg_revoked '.result.status == "fail" and .result.failure == "privilege_missing"' \
	"table privilege revoked"
check pg_revoked '.result.unmet == [{"database":"orders","kind":"table","object":"public.order_items","privilege":"INSERT","object_missing":false,"role":"app"}]' \
	"unmet item names the table, the privilege and the role"
check pg_revoked '.result.detail | endswith(": INSERT on public.order_items revoked for role app")' \
	"the detail phrases it as diagnose and verify do"
check pg_revoked '.result.detail == "1 unmet (0 missing objects, 1 missing privilege) of 6 requirements: INSERT on public.order_items revoked for role app"' \
	"detail counts the unmet before the first"
fl_pg_sql "GRANT INSERT ON order_items TO app"

fl_pg_sql "ALTER TABLE order_items RENAME TO order_items_old"
probe pg_dropped "${PG[@]}"
check pg_dropped '.result.failure == "object_missing" and (.result.unmet | length) == 1 and .result.unmet[0].object == "public.order_items" and .result.unmet[0].kind == "table" and .result.unmet[0].object_missing == true and .result.unmet[0].privilege == ""' \
	"table dropped: one object_missing item, not one per privilege"
check pg_dropped '.result.detail | endswith("(1 missing object, 0 missing privileges) of 6 requirements: table public.order_items missing")' \
	"detail counts a missing object once and words it"
fl_pg_sql "ALTER TABLE order_items_old RENAME TO order_items"

fl_pg_sql "ALTER TABLE orders DROP COLUMN discount_code"
probe pg_column "${PG[@]}"
check pg_column '.result.failure == "object_missing" and .result.unmet == [{"database":"orders","kind":"column","object":"public.orders.discount_code","privilege":"","object_missing":true,"role":"app"}]' \
	"column dropped"
check pg_column '.result.detail | endswith(": column public.orders.discount_code missing")' \
	"the detail phrases a missing object as diagnose and verify do"
fl_pg_sql "ALTER TABLE orders ADD COLUMN discount_code text"

fl_pg_sql "DROP FUNCTION place_order(integer)"
fl_pg_sql "REVOKE UPDATE ON orders FROM app"
probe pg_function "${PG[@]}"
check pg_function '.result.failure == "object_missing"' "missing object wins over missing privilege"
check pg_function '[.result.unmet[] | {kind, object, privilege, object_missing}] == [{"kind":"table","object":"public.orders","privilege":"UPDATE","object_missing":false},{"kind":"function","object":"public.place_order(integer)","privilege":"","object_missing":true}]' \
	"function missing and privilege missing, both itemised"
fl_pg_sql "GRANT UPDATE ON orders TO app"
fl_pg_sql "CREATE FUNCTION place_order(integer) RETURNS integer LANGUAGE sql AS 'SELECT \$1'; REVOKE ALL ON FUNCTION place_order(integer) FROM PUBLIC; GRANT EXECUTE ON FUNCTION place_order(integer) TO app"
probe pg_restored "${PG[@]}"
check pg_restored '.result.status == "ok"' "healthy again after restoring"

(umask 077 && echo "not-the-password" >"$T/wrong.password")
probe pg_wrongpw postgres orders conninfo="$PGCI" password_file="$T/wrong.password"
check pg_wrongpw '.result.failure == "auth_failed" and .result.sqlstate == "28P01"' "wrong password: auth_failed 28P01"

probe pg_nodb postgres orders conninfo="host=127.0.0.1 port=$FL_PG_PORT dbname=nosuchdb user=app" \
	password_file="$FL_PG_PASSWORD_FILE"
check pg_nodb '.result.failure == "database_missing" and .result.sqlstate == "3D000"' "database missing: 3D000"

cp "$FL_PG_PASSWORD_FILE" "$T/open.password" && chmod 644 "$T/open.password"
probe pg_openpw postgres orders conninfo="$PGCI" password_file="$T/open.password"
N=$((N + 1))
if [ "$(cat "$T/pg_openpw.rc")" = 2 ] && grep -q "accessible by group or others" "$T/pg_openpw.err"; then
	echo "ok $N - world-readable password file refused with a clear error"
else
	fail "world-readable password file: rc $(cat "$T/pg_openpw.rc"): $(cat "$T/pg_openpw.err")"
fi

probe pg_pwconninfo postgres orders conninfo="$PGCI password=$FL_DB_PASSWORD"
N=$((N + 1))
if [ "$(cat "$T/pg_pwconninfo.rc")" = 2 ] && grep -q "must not contain a password" "$T/pg_pwconninfo.err"; then
	echo "ok $N - conninfo with a password refused"
else
	fail "conninfo with password: rc $(cat "$T/pg_pwconninfo.rc")"
fi
# max_connections: 8 with 3 reserved for superusers leaves app 5 slots; hold them all. A
# backend of an earlier probe may still be exiting and take a slot while a holder connects
# (that holder then gets 53300 and exits), so refill until 5 are held, as for MariaDB below.
pg_app_conns() { fl_pg_sql "SELECT count(*) FROM pg_stat_activity WHERE usename = 'app'"; }
held=0
for ((try = 0; try < 10; try++)); do
	held=$(pg_app_conns)
	[ "$held" = 5 ] && break
	for ((i = held; i < 5; i++)); do
		PGPASSWORD=$FL_DB_PASSWORD psql -X -q -h 127.0.0.1 -p "$FL_PG_PORT" -U app -d orders \
			-c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
		HOLDERS+=($!)
		disown $!
	done
	wait_for 10 5 pg_app_conns && { held=5; break; }
done
[ "$held" = 5 ] || fail "could not hold 5 app connections (held $held)"
probe pg_full "${PG[@]}"
check pg_full '.result.failure == "too_many_connections" and .result.sqlstate == "53300"' \
	"max_connections exhausted: too_many_connections 53300"
for pid in "${HOLDERS[@]}"; do kill -9 "$pid" 2>/dev/null; done
HOLDERS=()
fl_pg_sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'app'" >/dev/null

# A port that accepts TCP and never answers (the kernel completes the handshake: backlog).
HANG_PORT=$(fl_db_free_port)
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16); time.sleep(120)' "$HANG_PORT" &
LISTENER=$!
disown $!
wait_for 10 0 bash -c "exec 3<>/dev/tcp/127.0.0.1/$HANG_PORT && echo 0" ||
	fail "hanging listener did not come up"
probe pg_hang postgres orders conninfo="host=127.0.0.1 port=$HANG_PORT dbname=orders user=app" \
	password_file="$FL_PG_PASSWORD_FILE" timeout=1s
check pg_hang '.result.failure == "timeout" and .result.latency_ms >= 950 and .result.latency_ms < 1500' \
	"accepts TCP, never answers: timeout within the configured 1s"
check pg_hang '.result.timing.connect_ms > 0' "the TCP connect itself was timed"

probe my_hang mysql legacy host=127.0.0.1 port="$HANG_PORT" user=app password_file="$FL_MY_PASSWORD_FILE" timeout=1s
check my_hang '.result.failure == "timeout" and .result.latency_ms >= 950 and .result.latency_ms < 1500' \
	"mysql: accepts TCP, never answers: timeout within 1s"
kill -9 "$LISTENER" 2>/dev/null
LISTENER=

# ------------------------------------------------------------------ MariaDB

APP="'app'@'127.0.0.1'"
probe my_good "${MY[@]}"
check my_good '.result.status == "ok" and .result.requirements_checked == 3 and .result.role == "app"' \
	"mysql: all requirements met"
check my_good '.result.timing.query_ms > 0 and .result.timing.check_ms > 0 and .result.timing.auth_ms > 0' \
	"mysql: reports auth, query and check phases"

fl_my_sql "REVOKE UPDATE ON legacy.customers FROM $APP"
probe my_revoked "${MY[@]}"
check my_revoked '.result.failure == "privilege_missing" and .result.unmet == [{"database":"legacy","kind":"table","object":"legacy.customers","privilege":"UPDATE","object_missing":false,"role":"app"}]' \
	"mysql: table-level privilege revoked"
check my_revoked '.result.detail | endswith(": UPDATE on legacy.customers revoked for role app")' \
	"mysql: the detail phrases it as diagnose and verify do"

# The same grants at database level instead of table level, then one revoked there.
fl_my_sql "REVOKE SELECT ON legacy.customers FROM $APP; GRANT SELECT, UPDATE ON legacy.* TO $APP"
probe my_dbgrant "${MY[@]}"
check my_dbgrant '.result.status == "ok"' "mysql: database-level grants honoured"
fl_my_sql "REVOKE UPDATE ON legacy.* FROM $APP"
probe my_dbrevoked "${MY[@]}"
check my_dbrevoked '.result.failure == "privilege_missing" and [.result.unmet[] | {object, privilege, object_missing}] == [{"object":"legacy.customers","privilege":"UPDATE","object_missing":false}]' \
	"mysql: database-level privilege revoked"
fl_my_sql "REVOKE ALL PRIVILEGES ON legacy.* FROM $APP; GRANT SELECT, UPDATE ON legacy.customers TO $APP"

fl_my_sql "RENAME TABLE legacy.customers TO legacy.customers_old"
probe my_dropped "${MY[@]}"
check my_dropped '.result.failure == "object_missing" and .result.unmet[0].object == "legacy.customers" and .result.unmet[0].object_missing == true and .result.unmet[0].kind == "table"' \
	"mysql: table dropped (its grants remain, so it is known missing)"
fl_my_sql "RENAME TABLE legacy.customers_old TO legacy.customers"

fl_my_sql "ALTER TABLE legacy.customers DROP COLUMN email"
probe my_column "${MY[@]}"
check my_column '.result.failure == "object_missing" and .result.unmet == [{"database":"legacy","kind":"column","object":"legacy.customers.email","privilege":"","object_missing":true,"role":"app"}]' \
	"mysql: column dropped"
fl_my_sql "ALTER TABLE legacy.customers ADD COLUMN email varchar(200)"

# A function: EXECUTE granted on the database, then the function dropped.
fl_my_sql "CREATE FUNCTION legacy.touch(x int) RETURNS int DETERMINISTIC RETURN x; GRANT EXECUTE ON legacy.* TO $APP"
cp "$T/release.expect" "$T/release2.expect"
echo "function = legacy.touch: EXECUTE" >>"$T/release2.expect"
MY2=(mysql legacy --expect "$T/release2.expect" host=127.0.0.1 port="$FL_MY_PORT" user=app
	database=legacy password_file="$FL_MY_PASSWORD_FILE")
probe my_func_ok "${MY2[@]}"
check my_func_ok '.result.status == "ok" and .result.requirements_checked == 4' "mysql: function present with EXECUTE"
fl_my_sql "DROP FUNCTION legacy.touch"
probe my_func "${MY2[@]}"
check my_func '.result.failure == "object_missing" and .result.unmet == [{"database":"legacy","kind":"function","object":"legacy.touch","privilege":"","object_missing":true,"role":"app"}]' \
	"mysql: function missing"
fl_my_sql "REVOKE EXECUTE ON legacy.* FROM $APP"

probe my_wrongpw mysql legacy host=127.0.0.1 port="$FL_MY_PORT" user=app database=legacy password_file="$T/wrong.password"
check my_wrongpw '.result.failure == "auth_failed" and .result.error_code == 1045' "mysql: wrong password 1045"

# A database dropped while its grants remain: the server then says 1049, not 1044.
fl_my_sql "CREATE DATABASE gone; GRANT SELECT ON gone.* TO $APP; DROP DATABASE gone"
probe my_nodb mysql legacy host=127.0.0.1 port="$FL_MY_PORT" user=app database=gone password_file="$FL_MY_PASSWORD_FILE"
check my_nodb '.result.failure == "database_missing" and .result.error_code == 1049' "mysql: database missing 1049"

# max_connections=10 (MariaDB's minimum): hold 10 app connections. Root's polling connection
# can take a slot while a holder connects (that holder then gets 1040 and exits), so refill
# until 10 are held.
my_app_conns() { fl_my_sql "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'app'"; }
held=0
for ((try = 0; try < 40; try++)); do
	held=$(my_app_conns)
	[ "$held" = 10 ] && break
	for ((i = held; i < 10; i++)); do
		mariadb --no-defaults -h 127.0.0.1 -P "$FL_MY_PORT" -u app -p"$FL_DB_PASSWORD" \
			-e "SELECT SLEEP(60)" >/dev/null 2>&1 &
		HOLDERS+=($!)
		disown $!
	done
	wait_for 5 10 my_app_conns && { held=10; break; }
done
[ "$held" = 10 ] || fail "could not hold 10 app connections (held $held)"
probe my_full "${MY[@]}"
check my_full '.result.failure == "too_many_connections" and .result.error_code == 1040' \
	"mysql: max_connections exhausted 1040"
for pid in "${HOLDERS[@]}"; do kill -9 "$pid" 2>/dev/null; done
HOLDERS=()

# A hung server: SIGSTOP the real mariadbd (the kernel still accepts TCP).
kill -STOP "$FL_MY_PID"
probe my_stopped_proc "${MY[@]}" timeout=1s
kill -CONT "$FL_MY_PID"
check my_stopped_proc '.result.failure == "timeout" and .result.latency_ms < 1500' \
	"mysql: hung server (SIGSTOP) times out within 1s"

# Servers stopped: refused.
FL_MY_STOP_KILL=1 fl_my_stop
probe my_down "${MY[@]}"
check my_down '.result.failure == "refused" and .result.error_code >= 2002' "mysql: server stopped: refused"
fl_pg_stop
probe pg_down "${PG[@]}"
check pg_down '.result.failure == "refused" and .result.error_code == 111' "postgres: server stopped: refused"

# ------------------------------------------------------------------ secrets
N=$((N + 1))
if grep -rqF -- "$FL_DB_PASSWORD" "$T"/*.json "$T"/*.err "$T/all.log"; then
	fail "the password appears in probe output"
else
	echo "ok $N - the password appears in no output ($(wc -l <"$T/all.log") lines checked)"
fi

echo "$N checks, $FAILS failed"
[ "$FAILS" = 0 ]
