#!/usr/bin/env bash
# prometheus_e2e.sh - /metrics as Prometheus sees it: a real PostgreSQL
# (tests/lib/dbservers.sh), a collector, two agents (1 s interval) probing their demo app and
# the database with release 1.0's expectations, and Debian's Prometheus scraping the collector
# every second.
#   - `promtool check metrics` passes on the live output of two agents;
#   - healthy: Prometheus sees faultline_verdict{verdict="healthy"} == 1 and every probe up;
#   - a pipeline's `faultline verify` is counted (faultline_verifications_total);
#   - SELECT on public.orders revoked: Prometheus' HTTP API returns
#     faultline_probe_success == 0 for each host's "orders" probe (and 1 for "app"), and
#     faultline_verdict{verdict="database"} == 1, faultline_findings{verdict="database"} >= 1;
#   - the grant restored: healthy again;
#   - the durable counters (reports received, verifications) survive a collector restart.
# Needs root (PostgreSQL runs as postgres).
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"
# shellcheck source=../lib/dbservers.sh
source "$FL_SOURCE/tests/lib/dbservers.sh"

fl_test_cleanup() {
	if [[ $FL_RC -ne 0 && -e $FL_TMP/prometheus.log ]]; then
		printf '\n----- prometheus.log (last 20 lines) -----\n%s\n' "$(tail -n 20 "$FL_TMP/prometheus.log")" >&2
	fi
	fl_db_cleanup
}

fl_init
[[ $(id -u) -eq 0 ]] || fl_fail "must run as root: PostgreSQL runs as postgres (sudo ctest ...)"
command -v prometheus >/dev/null && command -v promtool >/dev/null ||
	fl_fail "prometheus and promtool not found: apt-get install prometheus (scripts/install-deps.sh)"
fl_pg_start || fl_fail "cannot start PostgreSQL 15 (apt-get install postgresql-15)"

fl_collector_conf "$FL_TMP/collector.conf"
fl_start_collector collector
fl_demo_hosts app1 app2
fl_start_agent app1
fl_start_agent app2

# Prometheus, scraping the collector every second.
PROM_PORT=$(fl_free_port)
PROM=http://127.0.0.1:$PROM_PORT
cat >"$FL_TMP/prometheus.yml" <<EOF
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: faultline
    static_configs: [{targets: ["127.0.0.1:$FL_HTTP_PORT"]}]
EOF
fl_start prometheus prometheus --config.file="$FL_TMP/prometheus.yml" \
	--storage.tsdb.path="$FL_TMP/tsdb" --web.listen-address="127.0.0.1:$PROM_PORT"

# prom_value QUERY: the value of the single series QUERY returns (fails when not exactly one).
prom_value() {
	curl -sf --max-time 3 --get "$PROM/api/v1/query" --data-urlencode "query=$1" |
		jq -er 'if .status == "success" and (.data.result | length) == 1
			then .data.result[0].value[1] else error("series: \(.data.result | length)") end'
}
# prom_is QUERY VALUE: for wait_for.
prom_is() {
	local v
	v=$(prom_value "$1") || return 1
	[[ $v == "$2" ]] || {
		echo "$1 = $v, want $2"
		return 1
	}
}

wait_for "both hosts report both probes" 30 bash -c '
	"$0" -C "$1" status --json | jq -e "[.hosts[] | .probes | length] == [2, 2]"' \
	"$FL_CLI_BIN" "$FL_CONTROL"
curl -sf "$FL_HTTP_URL/metrics" >"$FL_TMP/metrics.txt"
promtool check metrics <"$FL_TMP/metrics.txt" || fl_fail "promtool check metrics failed on $FL_TMP/metrics.txt"
fl_log "ok: promtool check metrics passes on two agents' metrics ($(grep -vc '^#' "$FL_TMP/metrics.txt") series)"

wait_for "Prometheus scrapes the collector" 30 prom_is 'up{job="faultline"}' 1
wait_for "Prometheus sees healthy" 30 prom_is 'faultline_verdict{verdict="healthy"}' 1
for h in app1 app2; do
	wait_for "$h orders up" 10 prom_is "faultline_probe_success{host=\"$h\",probe=\"orders\",kind=\"postgres\"}" 1
done
assert_eq "six verdict series" 6 "$(curl -sf --get "$PROM/api/v1/query" --data-urlencode 'query=count(faultline_verdict)' | jq -r '.data.result[0].value[1]')"
assert_eq "per-probe histogram has +Inf buckets for both probes" 2 \
	"$(curl -sf --get "$PROM/api/v1/query" --data-urlencode 'query=count(faultline_probe_duration_seconds_bucket{le="+Inf"})' | jq -r '.data.result[0].value[1]')"

# A pipeline's verification, counted.
fl_cli verify --release 1.0 --timeout 60s >"$FL_TMP/verify.out" 2>&1 ||
	fl_fail "faultline verify failed: $(cat "$FL_TMP/verify.out")"
wait_for "the verification counted" 15 prom_is 'faultline_verifications_total{result="passed"} >= bool 1' 1
passed=$(prom_value 'faultline_verifications_total{result="passed"}')

# The fault: SELECT revoked from the app's role.
t0=$SECONDS
fl_pg_sql "REVOKE SELECT ON public.orders FROM app"
for h in app1 app2; do
	wait_for "Prometheus: $h's orders probe fails" 30 \
		prom_is "faultline_probe_success{host=\"$h\",probe=\"orders\"}" 0
	wait_for "Prometheus: $h's orders status names the class" 10 \
		prom_is "faultline_probe_status{host=\"$h\",probe=\"orders\",status=\"fail\",failure=\"privilege_missing\"}" 1
	assert_eq "$h's app probe still passes" 1 "$(prom_value "faultline_probe_success{host=\"$h\",probe=\"app\"}")"
done
wait_for "Prometheus: verdict database" 30 prom_is 'faultline_verdict{verdict="database"}' 1
fl_log "ok: Prometheus saw the fault $((SECONDS - t0)) s after the REVOKE"
assert_eq "healthy is 0 meanwhile" 0 "$(prom_value 'faultline_verdict{verdict="healthy"}')"
wait_for "a database finding" 10 prom_is 'faultline_findings{verdict="database"} >= bool 1' 1
wait_for "unmet requirements counted" 10 prom_is 'faultline_probe_unmet_requirements{host="app1",probe="orders"} >= bool 1' 1

fl_pg_sql "GRANT SELECT ON public.orders TO app"
wait_for "Prometheus: healthy again" 30 prom_is 'faultline_verdict{verdict="healthy"}' 1
wait_for "Prometheus: orders passes again" 10 prom_is 'min(faultline_probe_success{probe="orders"})' 1

# Durable counters across a restart of the collector.
fl_stop agent-app1
fl_stop agent-app2
received=$(curl -sf "$FL_HTTP_URL/metrics" | awk '/^faultline_reports_received_total /{print $2}')
fl_stop collector
fl_start_collector collector2
M=$(curl -sf "$FL_HTTP_URL/metrics")
assert_eq "reports received kept" "$received" "$(awk '/^faultline_reports_received_total /{print $2}' <<<"$M")"
assert_eq "verifications kept" "$passed" "$(awk '/^faultline_verifications_total\{result="passed"\} /{print $2}' <<<"$M")"
