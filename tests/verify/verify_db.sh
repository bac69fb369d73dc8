#!/usr/bin/env bash
# verify_db.sh - post-release verification end to end: `faultline verify` against real processes and a real
# PostgreSQL 15 (tests/lib/dbservers.sh). Two agents (1 s interval), each probing its own demo app
# and the `orders` database with its release's expectations.
#   1. release 1.0 on both hosts                           -> passed (exit 0), probe-now answers
#   2. both on 2.0 (needs no discount_code), rollback to 1.0 -> passed while the column exists
#   3. 2.0's migration drops orders.discount_code          -> --rollback-to 1.0 fails naming it
#      --rollback-to 0.9 (never deployed)                  -> fails: host never kept it
#   4. app1 deploys 2.1 whose app answers 503 (canary)     -> failed: probe + canary reasons
#   5. both on 3.0 needing a column that does not exist    -> failed naming the column
#   6. --release 9.9 that no host reports, --timeout 3s    -> exit 2 naming the hosts
#   7. the collector verified the rollouts by itself       -> "verification" history events
# Needs root (PostgreSQL runs as postgres).
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"
# shellcheck source=lib.sh
source "$FL_SOURCE/tests/verify/lib.sh"

verify_init

# expect_file NAME [extra lines...]: an expectations file for the orders database.
expect_file() {
	local f=$FL_TMP/$1.expect
	shift
	{
		echo '[postgres "orders"]'
		echo 'table = public.orders: SELECT, INSERT, UPDATE'
		echo 'table = public.order_items: SELECT, INSERT'
		printf '%s\n' "$@"
	} >"$f.tmp"
	mv "$f.tmp" "$f"
}
expect_file r1.0 'column = public.orders.discount_code'
expect_file r2.0
expect_file r3.0 'column = public.orders.loyalty_points'

# deploy HOST RELEASE: swaps the release id and its expectations, as a deploy would.
deploy() {
	fl_log "deploy $2 on $1"
	cp "$FL_TMP/r$2.expect" "$FL_TMP/$1.expect.tmp" 2>/dev/null || cp "$FL_TMP/r2.0.expect" "$FL_TMP/$1.expect.tmp"
	mv "$FL_TMP/$1.expect.tmp" "$FL_TMP/$1.expect"
	echo "$2" >"$FL_TMP/$1.release"
	echo "$2" >"$FL_TMP/app-$1.release"
}

for h in app1 app2; do
	echo 1.0 >"$FL_TMP/app-$h.release"
	fl_start_app "app-$h"
	cp "$FL_TMP/r1.0.expect" "$FL_TMP/$h.expect"
	fl_agent_conf "$FL_TMP/$h.conf" "$h" 1.0
	echo "expectations = $FL_TMP/$h.expect" >>"$FL_TMP/$h.conf"
	fl_conf_app_probe >>"$FL_TMP/$h.conf"
	fl_conf_orders_probe >>"$FL_TMP/$h.conf"
	fl_start_agent "$h"
done

# verify ARGS...: runs `faultline verify ... --json`; sets OUT and RC.
verify() {
	RC=0
	OUT=$(fl_cli verify --json --rounds 3 --window 500ms "$@") || RC=$?
	fl_log "verify $* -> exit $RC"
}

# 1. a good release passes (waits for both hosts itself)
verify --release 1.0 --hosts app1,app2 --timeout 30s
assert_eq "1.0 verifies (exit)" 0 "$RC"
assert_jq "1.0 passed on both hosts" "$OUT" '.result == "passed" and (.hosts | sort) == ["app1","app2"] and .reasons == []'
PN=$(fl_cli_json probe-now --timeout 5s)
assert_jq "probe-now: both agents answer" "$PN" '(.answered | sort) == ["app1","app2"] and .missing == [] and (.reports | length) == 2'

# 2. both on 2.0: a rollback to 1.0 would work while the column is there
deploy app1 2.0
deploy app2 2.0
verify --release 2.0 --timeout 30s --rollback-to 1.0
assert_eq "2.0 with rollback to 1.0 (exit)" 0 "$RC"
assert_jq "rollback to 1.0 ready" "$OUT" '.result == "passed" and .rollback.release == "1.0" and .rollback.ready and (.rollback.hosts | all(.known))'

# 3. 2.0's migration drops the column 1.0 needs
fl_pg_sql "ALTER TABLE orders DROP COLUMN discount_code" || fl_fail "cannot drop the column"
verify --release 2.0 --timeout 30s --rollback-to 1.0
assert_eq "rollback to 1.0 after the drop (exit)" 1 "$RC"
assert_jq "the reason names the dropped column on each host" "$OUT" '.result == "failed" and ([.reasons[] | select(.check == "rollback" and (.summary | test("discount_code")))] | map(.host) | sort) == ["app1","app2"] and (.rollback.ready | not) and ([.rollback.hosts[].unmet[] | select(.object == "public.orders.discount_code" and .object_missing)] | length) == 2'
verify --release 2.0 --timeout 30s --rollback-to 0.9
assert_eq "rollback to a release never kept (exit)" 1 "$RC"
assert_jq "never kept is a failure, not a pass" "$OUT" '.result == "failed" and ([.reasons[] | select(.check == "rollback" and (.summary | test("never kept")))] | length) == 2 and (.rollback.hosts | all(.known | not))'

# 4. canary: app1 gets 2.1 and its app answers 503; app2 stays on 2.0
fl_app_mode app-app1 503
deploy app1 2.1
verify --release 2.1 --hosts app1 --canary app1 --timeout 30s
assert_eq "canary 2.1 (exit)" 1 "$RC"
assert_jq "code reasons: the app fails on the canary and 2.1 is worse than 2.0" "$OUT" '.result == "failed" and any(.reasons[]; .check == "probe" and .host == "app1" and .probe == "app" and (.summary | test("http_5xx"))) and any(.reasons[]; .check == "canary" and (.summary | test("code"))) and .canary.compared and .canary.candidate.hosts == ["app1"] and .canary.baseline.hosts == ["app2"] and .canary.candidate.error_rate > .canary.baseline.error_rate'
fl_app_mode app-app1 ok

# 5. a release whose expectations are unmet
deploy app1 3.0
deploy app2 3.0
verify --release 3.0 --timeout 30s --no-canary
assert_eq "3.0 with unmet expectations (exit)" 1 "$RC"
assert_jq "the reason names the missing column" "$OUT" '.result == "failed" and ([.reasons[] | select(.check == "expectations" and .probe == "orders" and (.summary | test("public.orders.loyalty_points")))] | length) == 2'

# 6. a release no host reports: exit 2 after the timeout, naming the hosts
T0=$SECONDS
verify --release 9.9 --hosts app1,app2 --timeout 3s
assert_eq "9.9 never reported (exit)" 2 "$RC"
((SECONDS - T0 >= 3 && SECONDS - T0 < 20)) || fl_fail "the timeout took $((SECONDS - T0))s"
assert_jq "unverified, naming the hosts not on 9.9" "$OUT" '.result == "unverified" and .reasons[0].check == "timeout" and (.reasons[0].summary | test("app1")) and (.reasons[0].summary | test("app2"))'
RC=0
ERR=$(fl_cli verify --release 9.9 --min-hosts 1 --timeout 2s 2>&1) || RC=$?
assert_eq "human form exits 2 too" 2 "$RC"
[[ $ERR == *"cannot verify release 9.9"* ]] || fl_fail "no reason on stderr: $ERR"

# 7. automatic verification: the collector verified the rollouts it saw, and status shows it
wait_for "automatic verification of 3.0 in history" 40 bash -c \
	"'$FL_CLI_BIN' -C '$FL_CONTROL' history --json | jq -e '[.events[] | select(.kind == \"verification\" and .from == \"3.0\")] | length > 0'"
ST=$(fl_cli_json status)
assert_jq "status shows the last verification of each release" "$ST" '(.verifications | map(.release) | index("3.0")) != null and ([.verifications[] | select(.release == "3.0")][0].result == "failed")'
