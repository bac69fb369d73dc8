#!/usr/bin/env bash
# notify_alertmanager_test.sh - Alertmanager notifications with real parts: a real
# PostgreSQL (tests/lib/dbservers.sh), a collector, two agents (1 s interval) probing it with
# release 1.0's expectations, Debian's prometheus-alertmanager routing to a local webhook sink
# (tests/lib/webhook_sink.py).
#   - A revoked grant (DATABASE, both hosts) gives ONE firing alert at the sink through
#     Alertmanager, with the documented labels and annotations, although the collector re-sends
#     it every `resend` (2 s here) as Alertmanager expects.
#   - The restored grant gives the resolved one (endsAt), with the same labels.
# Needs root (the database server runs as postgres).
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"
# shellcheck source=../lib/dbservers.sh
source "$FL_SOURCE/tests/lib/dbservers.sh"

fl_test_cleanup() { fl_db_cleanup; }

SINK=$FL_SOURCE/tests/lib/webhook_sink.py
AM_BIN=$(command -v prometheus-alertmanager) ||
	fl_fail "prometheus-alertmanager not found: run scripts/install-deps.sh as root"
fl_init
[[ $(id -u) -eq 0 ]] || fl_fail "must run as root: the database server runs as postgres (sudo ctest ...)"
fl_pg_start || fl_fail "cannot start PostgreSQL 15 (apt-get install postgresql-15)"

# The sink, and Alertmanager routing every alert to it at once (group_wait 1s), re-notifying an
# unchanged group only after an hour: a second firing at the sink would be a new alert.
SINK_PORT=$(fl_free_port)
AM_PORT=$(fl_free_port)
fl_start sink python3 "$SINK" --port "$SINK_PORT" --out "$FL_TMP/sink.jsonl"
{
	echo "route: {receiver: sink, group_by: ['...'], group_wait: 1s, group_interval: 1s, repeat_interval: 1h}"
	echo "receivers: [{name: sink, webhook_configs: [{url: 'http://127.0.0.1:$SINK_PORT/am', send_resolved: true}]}]"
} >"$FL_TMP/am.yml"
fl_start alertmanager "$AM_BIN" --config.file="$FL_TMP/am.yml" --storage.path="$FL_TMP/am" \
	--web.listen-address="127.0.0.1:$AM_PORT" --cluster.listen-address=
wait_for "Alertmanager ready" 30 curl -sf "http://127.0.0.1:$AM_PORT/-/ready"

fl_collector_conf "$FL_TMP/collector.conf"
{
	printf '\n[notify]\nfor = 2s\nresolve_after = 2\n'
	printf '\n[alertmanager]\nurl = http://127.0.0.1:%s/\nresend = 2s\ntimeout = 2s\n' "$AM_PORT"
} >>"$FL_TMP/collector.conf"
fl_start_collector collector

printf '[postgres "orders"]\nschema = public: USAGE\ntable = public.orders: SELECT, INSERT, UPDATE\n' \
	>"$FL_TMP/release.expect"
for h in app1 app2; do
	fl_agent_conf "$FL_TMP/$h.conf" "$h" 1.0
	{
		echo "expectations = $FL_TMP/release.expect"
		echo
		echo '[postgres "orders"]'
		echo "conninfo = host=127.0.0.1 port=$FL_PG_PORT dbname=orders user=app"
		echo "password_file = $FL_PG_PASSWORD_FILE"
		echo "timeout = 3s"
	} >>"$FL_TMP/$h.conf"
	fl_start_agent "$h"
done

verdict_is() {
	local j
	j=$(fl_cli_json diagnose) || return 1
	jq -e --arg v "$1" '.verdict == $v' <<<"$j" >/dev/null || {
		jq -c '{verdict, summary}' <<<"$j"
		return 1
	}
}

# sink_count STATUS: webhook messages from Alertmanager at the sink with that status.
sink_count() {
	if [[ -e $FL_TMP/sink.jsonl ]]; then
		jq -c --arg s "$1" 'select(.body.status == $s)' "$FL_TMP/sink.jsonl" | wc -l
	else
		echo 0
	fi
}

# sink_has STATUS N: at least N such messages (for wait_for: counted at each try).
sink_has() { (($(sink_count "$1") >= $2)); }

am_has() {
	local json
	json=$(fl_cli_json status) || return 1
	jq -e "(.notifications[] | select(.kind == \"alertmanager\")) | $1" <<<"$json" >/dev/null || {
		jq -c .notifications <<<"$json"
		return 1
	}
}

wait_for "healthy" 40 verdict_is healthy
assert_jq "one Alertmanager receiver, named by host and port" "$(fl_cli_json status)" \
	--arg n "alertmanager:127.0.0.1:$AM_PORT" '[.notifications[].receiver] == [$n]'

fl_pg_sql "REVOKE SELECT ON public.orders FROM app"
wait_for "a database finding" 40 verdict_is database
wait_for "one firing alert at the sink through Alertmanager" 40 sink_has firing 1
got=$(jq -sc '[.[] | select(.body.status == "firing")][0].body' "$FL_TMP/sink.jsonl")
assert_jq "one alert, labels alertname/verdict/severity/target/release/finding" "$got" '
	(.alerts | length) == 1 and (.alerts[0].labels | .alertname == "Faultline"
		and .verdict == "database" and .severity == "critical" and .release == "1.0"
		and (.target | test("127.0.0.1")) and (.finding | test("^[0-9a-f]{16}$")))'
assert_jq "annotations: summary naming privilege and object, description with hosts and evidence, since" \
	"$got" '.alerts[0].annotations | (.summary | test("SELECT") and test("orders"))
		and (.description | test("app1") and test("app2") and test("\n- "))
		and (.since | test("^[0-9]{4}-"))'
labels=$(jq -c '.alerts[0].labels' <<<"$got")

# Re-sent every 2 s (Alertmanager would otherwise end it at its endsAt), still one page.
wait_for "the collector re-sent the alert" 30 am_has '.sent >= 3'
assert_eq "one firing at the sink despite the re-sends" 1 "$(sink_count firing)"

fl_pg_sql "GRANT SELECT ON public.orders TO app"
wait_for "healthy again" 40 verdict_is healthy
wait_for "the resolved alert at the sink" 40 sink_has resolved 1
got=$(jq -sc '[.[] | select(.body.status == "resolved")][0].body' "$FL_TMP/sink.jsonl")
assert_jq "resolved: the same alert (labels), with endsAt" "$got" --argjson l "$labels" '
	(.alerts | length) == 1 and .alerts[0].labels == $l and .alerts[0].status == "resolved"
	and (.alerts[0].endsAt | test("^[0-9]{4}-"))'
assert_eq "still one firing in all" 1 "$(sink_count firing)"
wait_for "nothing left in the outbox" 20 am_has '.pending == 0 and .failed == 0'
