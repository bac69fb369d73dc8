#!/usr/bin/env bash
# run.sh - measures the canary gate of `faultline verify` itself (docs/benchmarks/verify.md):
# its false-fail rate when nothing changed (A/A) and how often, and how fast, it catches
# regressions injected on the canary.
#
#   sudo bench/verify/run.sh [BUILD_DIR]        (default: build; use a Release build)
#
# Real pieces on loopback: a collector, three agents (app1 = canary, app2 and app3 = baseline),
# each probing its own demo app over HTTP (`web`, deploy/demo/demo-app.py answering in APP_MS),
# PostgreSQL `orders` (through a delay proxy per host, bench/verify/delay-proxy.py, 0 ms unless
# injected) and MariaDB `legacy` (tests/lib/dbservers.sh). Every run: inject (or not) on app1,
# move app1 from release 1.4.0 to 1.5.0, run
#   faultline verify --release 1.5.0 --hosts app1 --canary app1 --json $VERIFY_ARGS
# record exit status, verdicts and elapsed time, then undo and move app1 back to 1.4.0.
# A warm-up cycle first lets the collector's automatic verification of both releases happen
# before measuring (it verifies each rollout state once per collector run).
#
# Environment: AA_RUNS (50), RUNS (20 per regression), APP_MS (50: the app's normal latency),
# DB_DELAY_MS (20: per client->server chunk on app1's PostgreSQL path when injected),
# VERIFY_ARGS (default: none, i.e. 20 rounds 250 ms apart), OUT (directory for runs.tsv),
# SCENARIOS (default: all; e.g. "aa err10%,rounds60" runs those two).
# Needs root (the database servers run as postgres and mysql). Not part of ctest.

FL_SOURCE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FL_BUILD=$(cd "${1:-$FL_SOURCE/build}" && pwd)
export FL_SOURCE FL_BUILD
FL_LOG_LEVEL=${FL_LOG_LEVEL:-warn}
source "$FL_SOURCE/tests/lib/harness.sh"
# shellcheck source=../../tests/lib/dbservers.sh
source "$FL_SOURCE/tests/lib/dbservers.sh"
FL_TEST_NAME=bench-verify

AA_RUNS=${AA_RUNS:-50}
RUNS=${RUNS:-20}
APP_MS=${APP_MS:-50}
DB_DELAY_MS=${DB_DELAY_MS:-20}
read -r -a VERIFY_ARGS <<<"${VERIFY_ARGS:-}"

fl_test_cleanup() { fl_db_cleanup; }

fl_init
[[ $(id -u) -eq 0 ]] || fl_fail "must run as root: the database servers run as postgres and mysql"
OUT=${OUT:-$FL_TMP/out}
mkdir -p "$OUT"
fl_pg_start || fl_fail "cannot start PostgreSQL 15"
fl_my_start || fl_fail "cannot start MariaDB"
fl_collector_conf "$FL_TMP/collector.conf"
fl_start_collector collector

for h in app1 app2 app3; do
	echo 1.4.0 >"$FL_TMP/app-$h.release"
	fl_start_app "app-$h"
	fl_app_mode "app-$h" slow "$APP_MS"
	echo 0 >"$FL_TMP/$h.dbdelay"
	fl_start "proxy-$h" python3 "$FL_SOURCE/bench/verify/delay-proxy.py" --to-port "$FL_PG_PORT" \
		--delay-file "$FL_TMP/$h.dbdelay" --port-file "$FL_TMP/$h.proxyport"
	wait_for "proxy of $h" 10 test -s "$FL_TMP/$h.proxyport"
	fl_agent_conf "$FL_TMP/$h.conf" "$h" 1.4.0
	cat >>"$FL_TMP/$h.conf" <<-EOF

		[http "web"]
		url = http://127.0.0.1:$FL_APP_PORT/health
		expect_status = 200
		timeout = 3s

		[postgres "orders"]
		conninfo = host=127.0.0.1 port=$(cat "$FL_TMP/$h.proxyport") dbname=orders user=app
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

# app1_on RELEASE: true once the collector's status shows app1 on RELEASE.
app1_on() {
	fl_cli status --json 2>/dev/null |
		jq -e --arg r "$1" '.hosts[] | select(.host == "app1" and (.stale | not)) | .release == $r' \
			>/dev/null
}
wait_for "three hosts on 1.4.0" 60 bash -c \
	"'$FL_CLI_BIN' -C '$FL_CONTROL' status --json | jq -e '[.hosts[] | select(.release == \"1.4.0\" and (.stale | not))] | length == 3' >/dev/null"

inject() { # inject KIND: sets app1 up for one regression kind (none = A/A)
	case $1 in
	none) ;;
	lat150) fl_app_mode app-app1 slow $((APP_MS * 3 / 2)) >/dev/null 2>&1 ;;
	lat10x) fl_app_mode app-app1 slow $((APP_MS * 10)) >/dev/null 2>&1 ;;
	err10) fl_app_mode app-app1 errors 10 "$APP_MS" >/dev/null 2>&1 ;;
	err50) fl_app_mode app-app1 errors 50 "$APP_MS" >/dev/null 2>&1 ;;
	db) echo "$DB_DELAY_MS" >"$FL_TMP/app1.dbdelay" ;;
	esac
}
undo() {
	fl_app_mode app-app1 slow "$APP_MS" >/dev/null 2>&1
	echo 0 >"$FL_TMP/app1.dbdelay"
}

# one SCENARIO KIND RUN [EXTRA VERIFY ARGS...]: one measured run, appended to runs.tsv.
one() {
	local scen=$1 kind=$2 run=$3 rc=0 out
	shift 3
	inject "$kind"
	echo 1.5.0 >"$FL_TMP/app1.release"
	out=$(fl_cli verify --json --release 1.5.0 --hosts app1 --canary app1 --timeout 60s \
		"${VERIFY_ARGS[@]}" "$@") || rc=$?
	jq -r --arg s "$scen" --arg r "$run" --arg rc "$rc" '[$s, $r, $rc, .result,
		(.canary.verdict // "none"), .elapsed_s,
		([.reasons[] | .check] | unique | join(",")),
		([.canary.per_probe[]? | select(.verdict != "passed") | "\(.probe)=\(.verdict)"] | join(",")),
		([.canary.per_probe[]? | "\(.probe):\(.candidate.median_latency_ms * 10 | round / 10)/\(.baseline.median_latency_ms * 10 | round / 10)ms,err \(.candidate.errors)/\(.candidate.samples)"] | join(" ")),
		([.reasons[] | .summary] | join(" | "))] | @tsv' \
		<<<"$out" >>"$OUT/runs.tsv"
	undo
	echo 1.4.0 >"$FL_TMP/app1.release"
	wait_for "app1 back on 1.4.0" 30 app1_on 1.4.0 >/dev/null 2>&1
}

printf 'scenario\trun\texit\tresult\tcanary\telapsed_s\tchecks\tnot_passed\tper_probe\treasons\n' \
	>"$OUT/runs.tsv"
fl_log "warm-up (automatic verifications of 1.5.0 and 1.4.0)"
one warmup none 1
sleep 3

scenario() { # scenario NAME KIND N [EXTRA VERIFY ARGS...]
	local name=$1 kind=$2 n=$3 i
	shift 3
	if [[ -n ${SCENARIOS:-} && " $SCENARIOS " != *" $name "* ]]; then
		return 0
	fi
	fl_log "scenario $name: $n runs"
	for ((i = 1; i <= n; i++)); do
		one "$name" "$kind" "$i" "$@"
	done
}
scenario aa none "$AA_RUNS"
scenario lat+50% lat150 "$RUNS"
scenario "lat+50%,ratio1.2,slack5ms" lat150 "$RUNS" --max-latency-ratio 1.2 --latency-slack 5ms
scenario latx10 lat10x "$RUNS"
scenario err10% err10 "$RUNS"
scenario "err10%,rounds60" err10 "$RUNS" --rounds 60
scenario err50% err50 "$RUNS"
scenario db-slower db "$RUNS"

python3 "$FL_SOURCE/bench/verify/summary.py" "$OUT/runs.tsv"
fl_log "raw runs: $OUT/runs.tsv"
