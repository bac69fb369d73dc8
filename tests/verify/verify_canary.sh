#!/usr/bin/env bash
# verify_canary.sh - the canary comparison probe by probe, with real agents, a real PostgreSQL 15
# and a real MariaDB (tests/lib/dbservers.sh). Three hosts on release 1.4.0, each probing its
# own demo app over HTTP (`web`, slow above 300 ms) plus the `orders` (PostgreSQL) and `legacy`
# (MariaDB) databases.
#   1. app1 moves to 1.5.0 and its app answers in 600 ms instead of ~2 ms: `verify --canary
#      app1` fails, with a canary reason naming `web` (median, factor, p95); the database
#      probes pass. (Pooled over every probe, the median hid this: the release passed.)
#   2. app1's app is fast again, but only 3 rounds: too few samples to decide -> inconclusive,
#      exit 2, never a pass.
#   3. the default window (20 rounds): the same build on both sides passes, probe by probe.
#   4. thresholds given (zeros included) are the ones used; none given: the collector's defaults
#      (the CLI sends only what the user gave).
# Needs root (the database servers run as postgres and mysql).
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"
# shellcheck source=lib.sh
source "$FL_SOURCE/tests/verify/lib.sh"

verify_init --mariadb

for h in app1 app2 app3; do
	echo 1.4.0 >"$FL_TMP/app-$h.release"
	fl_start_app "app-$h"
	fl_agent_conf "$FL_TMP/$h.conf" "$h" 1.4.0
	cat >>"$FL_TMP/$h.conf" <<-EOF

		[http "web"]
		url = http://127.0.0.1:$FL_APP_PORT/health
		expect_status = 200
		slow = 300ms
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

# verify ARGS...: `faultline verify --release 1.5.0 --hosts app1 --canary app1 --json ARGS`;
# sets OUT and RC.
verify() {
	RC=0
	OUT=$(fl_cli verify --json --release 1.5.0 --hosts app1 --canary app1 --timeout 30s "$@") ||
		RC=$?
	fl_log "verify $* -> exit $RC: $(jq -c '{result, elapsed_s, rounds: .canary.rounds, canary: .canary.verdict, reasons: [.reasons[].summary]}' <<<"$OUT")"
}

wait_for "the three hosts report" 30 bash -c \
	"'$FL_CLI_BIN' -C '$FL_CONTROL' status --json | jq -e '[.hosts[] | select(.stale | not)] | length == 3'"

# 1. the slow canary
fl_app_mode app-app1 slow 600
echo 1.5.0 >"$FL_TMP/app1.release"
verify
assert_eq "slow canary (exit)" 1 "$RC"
assert_jq "failed by the canary, naming web" "$OUT" '.result == "failed" and .canary.verdict == "failed" and .canary.compared and (.canary.passed | not)'
assert_jq "the reason names web with both medians, the factor and the p95" "$OUT" 'any(.reasons[]; .check == "canary" and .probe == "web" and .host == "" and (.summary | test("^web: median 6[0-9]{2}\\.[0-9]ms vs [0-9]+\\.[0-9]ms \\(×[0-9]+\\), p95 [0-9.]+ms vs [0-9.]+ms")))'
assert_jq "only web regressed" "$OUT" '[.reasons[] | select(.check == "canary") | .probe] == ["web"]'
assert_jq "per probe: web failed (slower and warns), the databases passed" "$OUT" '(.canary.per_probe | map({(.probe): .verdict}) | add) == {"web":"failed","orders":"passed","legacy":"passed"} and ([.canary.per_probe[] | select(.probe == "web")][0] | .kind == "http" and .candidate.warn_rate == 1 and .baseline.warn_rate == 0 and .latency_tested and .p_value < 0.02 and .median_ratio > 10 and .candidate.p95_latency_ms >= .candidate.median_latency_ms)'
assert_jq "no flags: the collector's default thresholds" "$OUT" '.canary.max_error_rate_increase == 0.05 and .canary.max_latency_ratio == 1.5 and .canary.latency_slack_ms == 20 and .canary.confidence == 0.98 and .canary.min_samples == 5'
assert_jq "20 rounds by default; 2 baseline hosts; the contract's fields stay" "$OUT" '.canary.rounds == 20 and (.canary.baseline.hosts | sort) == ["app2","app3"] and .canary.candidate.hosts == ["app1"] and (.canary.candidate | has("median_latency_ms") and has("error_rate")) and .canary.confidence == 0.98 and .canary.min_samples == 5 and ([.canary.per_probe[] | select(.probe == "web")][0] | .candidate.samples == 20 and .baseline.samples == 40)'
assert_jq "web still only warns in the probe check" "$OUT" 'any(.warnings[]; .host == "app1" and .probe == "web") and all(.reasons[]; .check == "canary")'

# 2. fast again, but 3 rounds cannot decide
fl_app_mode app-app1 ok
wait_for "app1's app answers fast again" 10 bash -c \
	"'$FL_CLI_BIN' -C '$FL_CONTROL' probe-now --json --timeout 5s | jq -e '.reports[] | select(.host == \"app1\") | .results[] | select(.name == \"web\") | .status == \"ok\"'"
verify --rounds 3
assert_eq "3 rounds (exit)" 2 "$RC"
assert_jq "inconclusive, not a pass, with a reason per probe" "$OUT" '.result == "unverified" and .canary.verdict == "inconclusive" and (.canary.passed | not) and ([.reasons[] | select(.check == "canary" and (.summary | test("too few samples to decide: 3 vs 6")))] | map(.probe) | sort) == ["legacy","orders","web"]'
RC=0
HUMAN=$(fl_cli verify --release 1.5.0 --hosts app1 --canary app1 --rounds 3) || RC=$?
assert_eq "human form exits 2 too" 2 "$RC"
[[ $HUMAN == *"release 1.5.0: unverified"* && $HUMAN == *"canary: inconclusive"* ]] ||
	fl_fail "human form: $HUMAN"

# 3. the same build on both sides, over the default window: passes probe by probe
verify
assert_eq "A/A over 20 rounds (exit)" 0 "$RC"
assert_jq "passed, every probe compared" "$OUT" '.result == "passed" and .canary.verdict == "passed" and .canary.passed and (.canary.per_probe | map(.probe) | sort) == ["legacy","orders","web"] and all(.canary.per_probe[]; .verdict == "passed")'

# 4. the user's thresholds, zeros included, are the ones used and reported
verify --rounds 4 --max-error-rate-increase 0 --max-latency-ratio 3 --latency-slack 0 --confidence 0.9 --min-samples 2
assert_jq "flags: the user's thresholds, 0 kept as 0" "$OUT" '.canary.compared and .canary.rounds == 4 and .canary.max_error_rate_increase == 0 and .canary.max_latency_ratio == 3 and .canary.latency_slack_ms == 0 and .canary.confidence == 0.9 and .canary.min_samples == 2'
verify --rounds 4 --max-latency-ratio 2.5
assert_jq "one threshold given: the others are the collector's" "$OUT" '.canary.max_latency_ratio == 2.5 and .canary.max_error_rate_increase == 0.05 and .canary.latency_slack_ms == 20 and .canary.confidence == 0.98 and .canary.min_samples == 5'
