#!/usr/bin/env bash
# diagnose_db.sh - the fault matrix rows (tests/correlate) that run against real servers, end to end:
# a real PostgreSQL 15 and MariaDB (tests/lib/dbservers.sh), a collector, and two agents (1 s
# interval), each probing its own demo app and both databases with its release's expectations.
#   healthy                                             -> healthy
#   SELECT on public.orders revoked, release unchanged  -> database (privilege, object, role)
#   app2 deploys 1.1 whose expectations need a column that does not exist
#                                                       -> code (release 1.1, the column)
#   app2 deploys 1.2 and its app answers 503, app1 on 1.0 fine
#                                                       -> code (release 1.2, host app2, probe)
#   PostgreSQL stopped                                  -> database (the target)
# Each verdict must come within a few intervals; the time taken is logged.
# Needs root (the servers run as postgres / mysql).
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"
# shellcheck source=../lib/dbservers.sh
source "$FL_SOURCE/tests/lib/dbservers.sh"

fl_test_cleanup() {
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
fl_log "PostgreSQL on $FL_PG_PORT, MariaDB on $FL_MY_PORT"

fl_collector_conf "$FL_TMP/collector.conf"
fl_start_collector collector

declare -A APP_PORT
for h in app1 app2; do
	echo 1.0 >"$FL_TMP/app-$h.release"
	fl_start_app "app-$h"
	APP_PORT[$h]=$FL_APP_PORT
	cp "$FL_SOURCE/deploy/demo/release-1.0.expect" "$FL_TMP/$h.expect"
	fl_agent_conf "$FL_TMP/$h.conf" "$h" 1.0
	cat >>"$FL_TMP/$h.conf" <<-EOF
		expectations = $FL_TMP/$h.expect

		[http "app"]
		url = http://127.0.0.1:${APP_PORT[$h]}/health
		expect_status = 200
		timeout = 2s

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
	fl_start_agent "$h"
done

verdict_is() {
	local j
	j=$(fl_cli diagnose --json) || true
	jq -e --arg v "$1" '.verdict == $v' <<<"$j" >/dev/null || {
		jq -c '{verdict, summary}' <<<"$j" 2>/dev/null || echo "$j"
		return 1
	}
}

# expect_verdict WHAT VERDICT SECONDS: waits for it and logs how long it took.
expect_verdict() {
	local t0=$SECONDS
	wait_for "$1: verdict $2" "$3" verdict_is "$2"
	fl_log "verdict $2 after $((SECONDS - t0)) s ($1)"
	D=$(fl_cli diagnose --json || true)
}

# diagnosis_has [jq args...] FILTER: the current diagnosis satisfies FILTER (for wait_for: a
# fault reaches the second host a round after the first, so scope is awaited, not assumed).
diagnosis_has() {
	local j
	j=$(fl_cli diagnose --json) || true
	jq -e "$@" <<<"$j" >/dev/null || {
		jq -c '{verdict, summary}' <<<"$j" 2>/dev/null || echo "$j"
		return 1
	}
}

# Everything the diagnosis says, as one string, for text assertions.
said() { jq -r '[.summary, (.findings[] | .summary, .evidence[], .targets[])] | join("\n")' <<<"$D"; }

# --- healthy --------------------------------------------------------------------------------
wait_for "both hosts report all probes" 30 bash -c '
	"$0" -C "$1" status --json | jq -e "[.hosts[] | .probes | length] == [3, 3]"' \
	"$FL_CLI_BIN" "$FL_CONTROL"
expect_verdict "nothing wrong" healthy 20
rc=0
fl_cli diagnose >/dev/null || rc=$?
assert_eq "diagnose exits 0 when healthy" 0 "$rc"
S=$(fl_cli_json status)
assert_jq "database probes check the release's requirements" "$S" '
	all(.hosts[].probes[] | select(.kind == "postgres"); .status == "ok"
		and .requirements_checked >= 6)
	and all(.hosts[].probes[] | select(.kind == "mysql"); .status == "ok"
		and .requirements_checked >= 2)'

# --- a privilege revoked, release unchanged ---------------------------------------------------
fl_pg_sql "REVOKE SELECT ON public.orders FROM app"
expect_verdict "SELECT revoked" database 15
wait_for "the finding is a database one on both hosts" 10 diagnosis_has '
	.findings[0].verdict == "database" and (.findings[0].hosts | sort) == ["app1", "app2"]'
D=$(fl_cli diagnose --json || true)
grep -q 'SELECT' <<<"$(said)" && grep -q 'public.orders' <<<"$(said)" ||
	fl_fail "the diagnosis does not name SELECT on public.orders: $D"
rc=0
fl_cli diagnose >/dev/null || rc=$?
assert_eq "diagnose exits 1 on a fault" 1 "$rc"
S=$(fl_cli_json status)
assert_jq "status carries the unmet requirement, structured" "$S" '
	all(.hosts[].probes[] | select(.name == "orders");
		.status == "fail" and .failure == "privilege_missing"
		and any(.unmet[]; .database == "orders" and .kind == "table"
			and .object == "public.orders" and .privilege == "SELECT"
			and .object_missing == false and .role == "app"))'
if grep -qF "$FL_DB_PASSWORD" <<<"$S$D"; then
	fl_fail "the database password appears in CLI output"
fi
fl_pg_sql "GRANT SELECT ON public.orders TO app"
expect_verdict "SELECT restored" healthy 15

# --- a release whose migration was not applied ----------------------------------------------
# Release 1.1 needs one more column, which its (unapplied) migration would have added.
sed 's/^column   = public.orders.discount_code$/&\ncolumn   = public.orders.loyalty_tier/' \
	"$FL_SOURCE/deploy/demo/release-1.0.expect" >"$FL_TMP/app2-1.1.expect"
grep -q loyalty_tier "$FL_TMP/app2-1.1.expect" || fl_fail "could not write release 1.1's expectations"
cp "$FL_TMP/app2-1.1.expect" "$FL_TMP/app2.expect"
echo 1.1 >"$FL_TMP/app2.release"
expect_verdict "app2 on 1.1 needs a missing column" code 15
assert_jq "the finding names release 1.1 on app2" "$D" '
	any(.findings[]; .verdict == "code" and .release == "1.1" and .hosts == ["app2"])'
grep -q 'loyalty_tier' <<<"$(said)" || fl_fail "the diagnosis does not name the missing column: $D"
S=$(fl_cli_json status)
assert_jq "status shows the missing object on app2 only" "$S" '
	(.hosts[] | select(.host == "app2") | .probes[] | select(.name == "orders")
		| .failure == "object_missing" and any(.unmet[]; .object_missing
		and (.object | test("loyalty_tier"))))
	and (.hosts[] | select(.host == "app1") | .probes[] | select(.name == "orders")
		| .status == "ok")'
H=$(fl_cli_json history)
assert_jq "history records app2's release change" "$H" '
	any(.events[]; .kind == "release" and .host == "app2" and .from == "1.0" and .to == "1.1")'
# A verdict reaches history at the collector's next verdict tick (200 ms, longer when judging
# is slow), so diagnose can answer "code" a moment before history holds it.
verdicts_recorded() {
	jq -e '[.events[] | select(.kind == "verdict") | .to] as $v
		| ($v | index("database")) != null and ($v | index("code")) != null' \
		<<<"$(fl_cli_json history)"
}
wait_for "history records the verdict changes" 5 verdicts_recorded
fl_log "ok: history records the verdict changes"
cp "$FL_SOURCE/deploy/demo/release-1.0.expect" "$FL_TMP/app2.expect"
echo 1.0 >"$FL_TMP/app2.release"
expect_verdict "app2 rolled back to 1.0" healthy 15

# --- a bad release: 5xx only on the host that moved to it ------------------------------------
echo 1.2 >"$FL_TMP/app2.release"
# Let the collector see the release change before the app breaks, as in a real deploy.
wait_for "collector sees app2 on 1.2" 10 bash -c '
	"$0" -C "$1" hosts --json | jq -e ".hosts[] | select(.host == \"app2\") | .release == \"1.2\""' \
	"$FL_CLI_BIN" "$FL_CONTROL"
fl_app_mode app-app2 503
expect_verdict "app2's app fails on release 1.2" code 15
assert_jq "the finding names release 1.2, host app2" "$D" '
	any(.findings[]; .verdict == "code" and .release == "1.2" and .hosts == ["app2"])'
fl_app_mode app-app2 ok
expect_verdict "app2's app recovered" healthy 15

# --- the database server stops ----------------------------------------------------------------
fl_pg_stop
expect_verdict "PostgreSQL stopped" database 15
wait_for "the finding is about the PostgreSQL target on both hosts" 10 diagnosis_has \
	--arg p "$FL_PG_PORT" '
	any(.findings[]; .verdict == "database" and (.hosts | sort) == ["app1", "app2"]
		and any(.targets[]; test($p)))'
S=$(fl_cli_json status)
assert_jq "the postgres probes fail with refused" "$S" '
	all(.hosts[].probes[] | select(.name == "orders"); .failure == "refused")'
