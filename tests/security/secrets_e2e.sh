#!/usr/bin/env bash
# secrets_e2e.sh - a database password placed in the agent's config never appears in
# any log line, report or JSON output.
#
# A real PostgreSQL 15 (tests/lib/dbservers.sh; needs root) and three probes that use a
# password file: the right password (the server checks it), a wrong password (the server
# refuses it: the error path), and a conninfo pointing at a host with nothing listening (the
# password is never sent). Agent and collector run at log level debug; the agent also signs
# its reports. The password strings must not appear in:
#   - the agent's and the collector's stderr (every line, debug included),
#   - `faultline-agent --once --json` and the table output,
#   - `faultline status --json`, `faultline history --json`, `faultline probe-now --json`,
#   - what the collector stored: a full dump of its SQLite state file.
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"
# shellcheck source=../lib/dbservers.sh
source "$FL_SOURCE/tests/lib/dbservers.sh"

fl_test_cleanup() { fl_db_cleanup; }

fl_init
command -v sqlite3 >/dev/null || fl_fail "sqlite3 not found: apt-get install sqlite3"
[[ $(id -u) -eq 0 ]] ||
	fl_fail "must run as root: PostgreSQL runs as user postgres (sudo ctest -L db ...)"
fl_pg_start || fl_fail "cannot start PostgreSQL 15 (apt-get install postgresql-15)"
GOOD=$FL_DB_PASSWORD
BAD="wrongSecret$(head -c 12 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
printf '%s\n' "$BAD" >"$FL_TMP/bad.password"
chmod 600 "$FL_TMP/bad.password"
fl_log "PostgreSQL on $FL_PG_PORT"

fl_collector_conf "$FL_TMP/collector.conf"
sed -i 's/^log_level = .*/log_level = debug/' "$FL_TMP/collector.conf"
# Signed reports too, so the envelope path is covered.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$FL_TMP/db1.key" 2>/dev/null
chmod 600 "$FL_TMP/db1.key"
mkdir -p "$FL_TMP/keys"
openssl pkey -in "$FL_TMP/db1.key" -pubout -out "$FL_TMP/keys/db1.pub" 2>/dev/null
echo "keys_dir = $FL_TMP/keys" >>"$FL_TMP/collector.conf"
fl_start_collector collector

FL_LOG_LEVEL=debug fl_agent_conf "$FL_TMP/db1.conf" db1 1.0
sed -i "/^\[agent\]/a sign_key = $FL_TMP/db1.key" "$FL_TMP/db1.conf"
DEAD_PORT=$(fl_free_port)
cat >>"$FL_TMP/db1.conf" <<-EOF

	[postgres "orders"]
	conninfo = host=127.0.0.1 port=$FL_PG_PORT dbname=orders user=app
	password_file = $FL_PG_PASSWORD_FILE
	timeout = 3s

	[postgres "wrong-password"]
	conninfo = host=127.0.0.1 port=$FL_PG_PORT dbname=orders user=app
	password_file = $FL_TMP/bad.password
	timeout = 3s

	[postgres "wrong-host"]
	conninfo = host=127.0.0.1 port=$DEAD_PORT dbname=orders user=app
	password_file = $FL_PG_PASSWORD_FILE
	timeout = 2s
EOF

# --- one round printed ---------------------------------------------------------------------
rc=0
"$FL_AGENT_BIN" -c "$FL_TMP/db1.conf" --once --json >"$FL_TMP/once.json" 2>"$FL_TMP/once.err" ||
	rc=$?
assert_eq "--once exits 1 (two probes fail)" 1 "$rc"
once=$(cat "$FL_TMP/once.json")
assert_jq "the right password logs in" "$once" \
	'any(.results[]; .name == "orders" and .status == "ok")'
assert_jq "the wrong password is refused by the server (auth failure, not a config error)" "$once" \
	'any(.results[]; .name == "wrong-password" and .status == "fail" and .failure == "auth_failed")'
assert_jq "the wrong host fails without sending the password" "$once" \
	'any(.results[]; .name == "wrong-host" and .status == "fail")'
"$FL_AGENT_BIN" -c "$FL_TMP/db1.conf" --once >"$FL_TMP/once.txt" 2>>"$FL_TMP/once.err" || true

# --- the daemon, the collector and the CLI ---------------------------------------------------
fl_start_agent db1
wait_for "db1's three probes reach the collector" 30 bash -c \
	"'$FL_CLI_BIN' -C '$FL_CONTROL' status --json | jq -e 'any(.hosts[]; .host == \"db1\" and (.probes | length) == 3)'"
fl_cli_json status >"$FL_TMP/status.json"
fl_cli_json history >"$FL_TMP/history.json"
fl_cli probe-now --timeout 8s --json >"$FL_TMP/probe-now.json" || true
assert_jq "probe-now answered (signed answer accepted)" "$(cat "$FL_TMP/probe-now.json")" \
	'.answered | index("db1") != null'
assert_jq "nothing refused as unauthenticated" "$(cat "$FL_TMP/status.json")" \
	'.stats.dropped_unauthenticated == 0'
# A few more rounds, then stop everything so the logs and the state file are complete.
wait_for "several rounds applied" 20 bash -c \
	"'$FL_CLI_BIN' -C '$FL_CONTROL' status --json | jq -e '.stats.reports_applied >= 4'"
fl_stop agent-db1
fl_stop collector
sqlite3 "$FL_STATE" .dump >"$FL_TMP/state.sql"
[[ -s $FL_TMP/state.sql ]] && grep -q 'db1' "$FL_TMP/state.sql" ||
	fl_fail "the state dump holds nothing of db1: the check below would prove nothing"

# --- the check ---------------------------------------------------------------------------------
files=("$FL_TMP/once.json" "$FL_TMP/once.txt" "$FL_TMP/once.err" "$FL_TMP/agent-db1.log"
	"$FL_TMP/collector.log" "$FL_TMP/status.json" "$FL_TMP/history.json"
	"$FL_TMP/probe-now.json" "$FL_TMP/state.sql")
for f in "${files[@]}"; do
	[[ -e $f ]] || fl_fail "missing output $f"
done
grep -q 'debug' "$FL_TMP/agent-db1.log" "$FL_TMP/collector.log" ||
	fl_fail "no debug lines logged: the log check would be weak"
for secret in "$GOOD" "$BAD"; do
	if grep -lF -- "$secret" "${files[@]}"; then
		fl_fail "a password appears in the files listed above"
	fi
done
# The sqlite file itself (not only the dump), and binary-safe.
for secret in "$GOOD" "$BAD"; do
	! grep -aqF -- "$secret" "$FL_STATE"* || fl_fail "a password appears in the SQLite files"
done
fl_log "ok: neither password appears in logs ($(cat "$FL_TMP/agent-db1.log" "$FL_TMP/collector.log" | wc -l) lines), JSON outputs or the stored state"
