#!/usr/bin/env bash
# slow_e2e.sh - slowness is a fault and its cause is named, end to end with real processes: a
# collector, two agents (1 s interval) each probing its own demo app (`slow = 500ms`) and a real
# PostgreSQL 15 with release 1.0's expectations (`slow = 800ms`).
#   the demo app answers in 900 ms on every host          -> code (degraded), release 1.0
#   the apps slow AND PostgreSQL's check phase slow       -> database, both latencies as evidence
#   app2 deploys 1.1 and only its app is slow             -> code, release 1.1, app2
# The slow database is real: the catalog check the probe runs calls to_regnamespace(); a
# function of that name in a schema placed before pg_catalog in the probe role's search_path
# sleeps 1 s before answering, so the server itself is slow in the query/check phase.
# Needs root (PostgreSQL runs as postgres).
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"
# shellcheck source=../lib/dbservers.sh
source "$FL_SOURCE/tests/lib/dbservers.sh"

fl_test_cleanup() { fl_db_cleanup; }

fl_init
[[ $(id -u) -eq 0 ]] || fl_fail "must run as root: PostgreSQL runs as postgres (sudo ctest ...)"
fl_pg_start || fl_fail "cannot start PostgreSQL 15 (apt-get install postgresql-15)"

fl_collector_conf "$FL_TMP/collector.conf"
fl_start_collector collector

for h in app1 app2; do
	echo 1.0 >"$FL_TMP/app-$h.release"
	fl_start_app "app-$h"
	{
		sed -n '/^\[postgres "orders"\]/,/^$/p' "$FL_SOURCE/deploy/demo/release-1.0.expect"
	} >"$FL_TMP/$h.expect"
	fl_agent_conf "$FL_TMP/$h.conf" "$h" 1.0
	cat >>"$FL_TMP/$h.conf" <<-EOF
		expectations = $FL_TMP/$h.expect

		[http "app"]
		url = http://127.0.0.1:$FL_APP_PORT/health
		timeout = 2s
		slow = 500ms

		[postgres "orders"]
		conninfo = host=127.0.0.1 port=$FL_PG_PORT dbname=orders user=app
		password_file = $FL_PG_PASSWORD_FILE
		timeout = 3s
		slow = 800ms
	EOF
	fl_start_agent "$h"
done

diagnosis_has() {
	local j
	j=$(fl_cli_json diagnose) || return 1
	jq -e "$1" <<<"$j" >/dev/null || {
		jq -c '{verdict, summary, findings: [.findings[] | {verdict, hosts, release}]}' <<<"$j"
		return 1
	}
}

# expect WHAT SECONDS JQ: waits for a diagnosis matching JQ and logs how long it took.
expect() {
	local t0=$SECONDS
	wait_for "$1" "$2" diagnosis_has "$3"
	fl_log "$1: after $((SECONDS - t0)) s: $(fl_cli_json diagnose | jq -r .summary)"
}

wait_for "both hosts report both probes" 30 bash -c '
	"$0" -C "$1" status --json | jq -e "[.hosts[] | .probes | length] == [2, 2]"' \
	"$FL_CLI_BIN" "$FL_CONTROL"
expect "nothing wrong" 30 '.verdict == "healthy"'
# A few healthy rounds first, so each probe has a normal latency to be compared with.
healthy_since() { ((SECONDS - $1 >= 5)) && diagnosis_has '.verdict == "healthy"'; }
wait_for "5 s of healthy rounds" 30 healthy_since "$SECONDS"

# --- the demo app answers in 900 ms on every host ---------------------------------------------
for h in app1 app2; do fl_app_mode "app-$h" slow 900; done
expect "the app slow everywhere: code, naming the release" 20 '
	.verdict == "code" and (.summary | test("degraded")) and (.summary | test("slow on all 2 hosts"))
	and .findings[0].release == "1.0" and .findings[0].hosts == ["app1", "app2"]
	and (.summary | test("latency 9[0-9][0-9]ms vs normal [0-9]+(\\.[0-9])?ms"))
	and (.findings[0].evidence | any(test("app1 app .*: slow, 9[0-9][0-9]ms vs normal [0-9]")))'
S=$(fl_cli_json status)
assert_jq "status shows the app warn/slow on both hosts" "$S" '
	[.hosts[].probes[] | select(.name == "app") | .status + "/" + .failure] == ["warn/slow", "warn/slow"]'
rc=0
fl_cli diagnose >/dev/null || rc=$?
assert_eq "diagnose exits 1 on a slow fault" 1 "$rc"
for h in app1 app2; do fl_app_mode "app-$h" ok; done
expect "app fast again" 30 '.verdict == "healthy"'

# --- the apps slow because the database is slow ----------------------------------------------
fl_pg_sql "
CREATE SCHEMA slowdb;
GRANT USAGE ON SCHEMA slowdb TO app;
CREATE FUNCTION slowdb.to_regnamespace(text) RETURNS regnamespace LANGUAGE plpgsql AS
  \$\$ BEGIN PERFORM pg_catalog.pg_sleep(1); RETURN pg_catalog.to_regnamespace(\$1); END \$\$;
ALTER ROLE app IN DATABASE orders SET search_path = slowdb, pg_catalog, public;" >/dev/null
for h in app1 app2; do fl_app_mode "app-$h" slow 900; done
expect "apps and the database slow: database, with both latencies" 25 '
	.verdict == "database" and .findings[0].targets == ["127.0.0.1:'"$FL_PG_PORT"'/orders"]
	and (.summary | test("slow from all 2 hosts: latency [0-9.]+m?s vs normal"))
	and (.summary | test("query/check phase 1[0-9]{3}ms"))
	and (.summary | test("2 app probes slow downstream"))
	and (.findings[0].evidence | any(test("app1 orders \\(postgres .*\\): slow, .*query/check 1[0-9]{3}ms")))
	and (.findings[0].evidence | any(test("app2 app \\(http .*\\): slow, 9[0-9][0-9]ms .*\\(downstream\\)")))'
fl_pg_sql "ALTER ROLE app IN DATABASE orders RESET search_path; DROP SCHEMA slowdb CASCADE;" >/dev/null
for h in app1 app2; do fl_app_mode "app-$h" ok; done
expect "database fast again" 30 '.verdict == "healthy"'

# --- slow only where the new release runs ------------------------------------------------------
echo 1.1 >"$FL_TMP/app2.release"
echo 1.1 >"$FL_TMP/app-app2.release"
fl_app_mode app-app2 slow 900
expect "slow only on release 1.1: code naming it" 20 '
	.verdict == "code" and .findings[0].release == "1.1" and .findings[0].hosts == ["app2"]
	and (.summary | test("release 1.1 slows app"))'

fl_log "PASS"
