#!/bin/bash
# expect_capture_test.sh - `faultline expect capture` against real servers: the CLI runs the
# real faultline-agent (--capture-expectations), which connects like the probe. With a role
# that holds some grants (table, column-only, sequence, function; MariaDB table and column),
# the captured file passes `faultline expect check`, lists what was granted and nothing that
# was not, and used as the release's expectations gives an ok round (faultline-agent --once
# --json); once one captured privilege is revoked the round fails as privilege_missing. Also:
# unknown probe, a schema that does not exist, -o leaving no file on failure, the agent
# missing, and the password never in any output.
#
# Needs root, postgresql-15 and mariadb-server (tests/lib/dbservers.sh). Env: FL_BUILD,
# FL_SOURCE.

set -uo pipefail
FL_SOURCE=${FL_SOURCE:-$(cd "$(dirname "$0")/../.." && pwd)}
FL_BUILD=${FL_BUILD:-$FL_SOURCE/build}
CLI=$FL_BUILD/cli/faultline
AGENT=$FL_BUILD/agent/faultline-agent
. "$FL_SOURCE/tests/lib/dbservers.sh"

T=$(mktemp -d /tmp/fl-capture.XXXXXX)
cleanup() {
	fl_db_cleanup
	rm -rf "$T"
}
trap cleanup EXIT

FAILS=0
N=0
fail() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}
ok() {
	N=$((N + 1))
	echo "ok $N - $*"
}
# has FILE LINE / lacks FILE REGEX: the captured file holds that exact line / no line matching.
has() {
	if grep -qxF -- "$2" "$1"; then ok "$(basename "$1") has '$2'"; else
		fail "$(basename "$1") lacks '$2'"
		cat "$1" >&2
	fi
}
lacks() {
	if grep -v '^#' "$1" | grep -qE -- "$2"; then
		fail "$(basename "$1") has a line matching '$2'"
		cat "$1" >&2
	else ok "$(basename "$1") has no line matching '$2'"; fi
}
# capture OUT ARGS...: runs the CLI (with the built agent in PATH); stdout in $T/OUT, stderr in
# $T/OUT.err, exit status in $T/OUT.rc; everything also goes to $T/all.log.
capture() {
	local out=$1
	shift
	PATH="$FL_BUILD/agent:$PATH" "$CLI" expect capture "$@" >"$T/$out" 2>"$T/$out.err"
	echo $? >"$T/$out.rc"
	cat "$T/$out" "$T/$out.err" >>"$T/all.log"
}
# round NAME: one agent round with the captured expectations; JSON in $T/NAME.json.
round() {
	"$AGENT" -c "$T/agent.conf" --once --json >"$T/$1.json" 2>"$T/$1.err"
	echo $? >"$T/$1.rc"
	cat "$T/$1.json" "$T/$1.err" >>"$T/all.log"
}
# jqis NAME EXPR WANT: asserts jq -r EXPR on $T/NAME.json prints WANT.
jqis() {
	local got
	got=$(jq -r "$2" "$T/$1.json" 2>&1)
	if [[ $got == "$3" ]]; then ok "$1: $2 = $3"; else
		fail "$1: $2 = '$got', want '$3'"
		cat "$T/$1.json" "$T/$1.err" >&2
	fi
}

for b in "$CLI" "$AGENT"; do
	[ -x "$b" ] || { echo "missing $b: build first" >&2; exit 1; }
done
fl_pg_start || { echo "cannot start PostgreSQL (see above)" >&2; exit 1; }
fl_my_start || { echo "cannot start MariaDB (see above)" >&2; exit 1; }

# On top of the demo grants (tests/lib/dbservers.sh): a table app may not touch, one it may
# read one column of, one whose name the format cannot express, a schema app cannot use;
# MariaDB: a column grant beyond the table's and a table app holds nothing on.
fl_pg_sql "CREATE TABLE secret (x int);
CREATE TABLE colonly (a int, b int); GRANT SELECT (a) ON colonly TO app;
CREATE TABLE \"Mixed\" (x int); GRANT SELECT ON \"Mixed\" TO app;
CREATE SCHEMA hidden; CREATE TABLE hidden.t (x int);" >/dev/null || exit 1
fl_my_sql "GRANT INSERT (email) ON legacy.customers TO 'app'@'127.0.0.1';
CREATE TABLE legacy.hidden (x int);" || exit 1

cat >"$T/agent.conf" <<EOC
[agent]
name = capture-host
expectations = $T/release.expect

[postgres "orders"]
conninfo = host=127.0.0.1 port=$FL_PG_PORT dbname=orders user=app
password_file = $FL_PG_PASSWORD_FILE
timeout = 5s

[mysql "legacy"]
host = 127.0.0.1
port = $FL_MY_PORT
user = app
database = legacy
password_file = $FL_MY_PASSWORD_FILE
timeout = 5s

[tcp "port"]
address = 127.0.0.1:$FL_PG_PORT
EOC

# --- capture: stdout (PostgreSQL) and -o (MariaDB) ---------------------------------------------
capture pg.expect -c "$T/agent.conf" --probe orders
[[ $(cat "$T/pg.expect.rc") == 0 ]] && ok "capture --probe orders exits 0" ||
	fail "capture orders: exit $(cat "$T/pg.expect.rc"): $(cat "$T/pg.expect.err")"
capture my.stdout -c "$T/agent.conf" --probe legacy --schema legacy -o "$T/my.expect"
[[ $(cat "$T/my.stdout.rc") == 0 && ! -s $T/my.stdout && -s $T/my.expect ]] &&
	ok "capture -o FILE writes the file, nothing on stdout" ||
	fail "capture legacy -o: exit $(cat "$T/my.stdout.rc"): $(cat "$T/my.stdout.err")"

rc=0
out=$("$CLI" expect check "$T/pg.expect" "$T/my.expect" 2>&1) || rc=$?
[[ $rc == 0 ]] && ok "faultline expect check accepts both captured files" ||
	fail "expect check: exit $rc: $out"
grep -q '^# .*faultline expect check' "$T/pg.expect" && ok "the file is commented" ||
	fail "no explaining comment in the captured file"

has "$T/pg.expect" '[postgres "orders"]'
has "$T/pg.expect" 'schema   = public: USAGE'
has "$T/pg.expect" 'table    = public.orders: SELECT, INSERT, UPDATE'
has "$T/pg.expect" 'column   = public.orders.discount_code'
has "$T/pg.expect" 'table    = public.order_items: SELECT, INSERT'
has "$T/pg.expect" 'table    = public.colonly'
has "$T/pg.expect" 'column   = public.colonly.a: SELECT'
has "$T/pg.expect" 'column   = public.colonly.b'
has "$T/pg.expect" 'sequence = public.orders_id_seq: USAGE'
has "$T/pg.expect" 'function = public.place_order(integer): EXECUTE'
lacks "$T/pg.expect" 'secret|hidden|Mixed|DELETE|TRUNCATE|TRIGGER|REFERENCES|CREATE'
lacks "$T/pg.expect" 'order_items: .*UPDATE'
grep -q '^# Left out: 1 object .*Mixed' "$T/pg.expect" && ok "the unexpressible name is counted" ||
	fail "no 'Left out' comment for \"Mixed\""

has "$T/my.expect" '[mysql "legacy"]'
has "$T/my.expect" 'table    = legacy.customers: SELECT, UPDATE'
has "$T/my.expect" 'column   = legacy.customers.email: INSERT'
has "$T/my.expect" 'column   = legacy.customers.name'
lacks "$T/my.expect" 'hidden|DELETE|TRIGGER|REFERENCES'

# --- the captured files as the release's expectations: ok; a revoke: privilege_missing ------
cat "$T/pg.expect" "$T/my.expect" >"$T/release.expect"
round captured
[[ $(cat "$T/captured.rc") == 0 ]] && ok "the round with the captured expectations exits 0" ||
	fail "round: exit $(cat "$T/captured.rc"): $(cat "$T/captured.err")"
jqis captured '.results[] | select(.name=="orders") | .status' ok
jqis captured '.results[] | select(.name=="legacy") | .status' ok
jqis captured '.results[] | select(.name=="orders") | .requirements_checked > 10' true

fl_pg_sql "REVOKE INSERT ON order_items FROM app" >/dev/null
fl_my_sql "REVOKE UPDATE ON legacy.customers FROM 'app'@'127.0.0.1'"
round revoked
jqis revoked '.results[] | select(.name=="orders") | .status + "/" + .failure' fail/privilege_missing
jqis revoked '.results[] | select(.name=="orders") | .unmet[0] | .object + " " + .privilege' \
	'public.order_items INSERT'
jqis revoked '.results[] | select(.name=="legacy") | .status + "/" + .failure' fail/privilege_missing
jqis revoked '.results[] | select(.name=="legacy") | .unmet[0] | .object + " " + .privilege' \
	'legacy.customers UPDATE'

# --- errors -----------------------------------------------------------------------------------
capture nope.out -c "$T/agent.conf" --probe nope
[[ $(cat "$T/nope.out.rc") == 2 ]] && grep -q "no probe named nope" "$T/nope.out.err" &&
	ok "unknown probe: exit 2, says so" || fail "unknown probe: $(cat "$T/nope.out.rc") $(cat "$T/nope.out.err")"
capture tcp.out -c "$T/agent.conf" --probe port
[[ $(cat "$T/tcp.out.rc") == 2 ]] && grep -q "only postgres and mysql" "$T/tcp.out.err" &&
	ok "a tcp probe: exit 2, says so" || fail "tcp probe: $(cat "$T/tcp.out.rc") $(cat "$T/tcp.out.err")"
capture noschema.out -c "$T/agent.conf" --probe orders --schema nosuch -o "$T/noschema.expect"
[[ $(cat "$T/noschema.out.rc") == 1 ]] && grep -q "schema nosuch does not exist" "$T/noschema.out.err" &&
	ok "a missing schema: exit 1, says so" ||
	fail "missing schema: $(cat "$T/noschema.out.rc") $(cat "$T/noschema.out.err")"
[[ ! -e $T/noschema.expect ]] && [[ -z $(ls "$T" | grep '^noschema.expect') ]] &&
	ok "a failed capture leaves no file behind" || fail "files left: $(ls "$T")"
capture nodb.out -c "$T/agent.conf" --probe legacy --schema nosuch
[[ $(cat "$T/nodb.out.rc") == 1 ]] && grep -q "database nosuch does not exist" "$T/nodb.out.err" &&
	ok "a missing MariaDB database: exit 1, says so" ||
	fail "missing database: $(cat "$T/nodb.out.rc") $(cat "$T/nodb.out.err")"
# The CLI alone (copied where no agent is beside it, PATH without one): a clear message.
mkdir -p "$T/cli-only"
cp "$CLI" "$T/cli-only/faultline"
rc=0
out=$(PATH=/usr/bin:/bin "$T/cli-only/faultline" expect capture -c "$T/agent.conf" --probe orders 2>&1) || rc=$?
if command -v faultline-agent >/dev/null 2>&1 && [[ $(command -v faultline-agent) == /usr/bin/* ]]; then
	fail "a faultline-agent is installed in /usr/bin: cannot test the missing-agent message"
elif [[ $rc == 2 && $out == *"faultline expect capture needs faultline-agent (package faultline-agent)"* ]]; then
	ok "no agent: exit 2 with the package to install"
else
	fail "no agent: exit $rc: $out"
fi

if grep -qF -- "$FL_DB_PASSWORD" "$T/all.log" "$T"/*.expect; then
	fail "the password appears in an output"
else
	ok "the password appears in no output"
fi

echo "$N passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
