#!/usr/bin/env bash
# verify_api.sh - GET /api/v1/verify end to end: a real collector, two agents (1 s interval)
# probing their demo apps and a real PostgreSQL 15 (tests/lib/dbservers.sh) with release 1.0's
# expectations.
#   1. release 1.0 healthy                      -> 200, "passed", the shape of `verify --json`
#   2. REVOKE SELECT ON public.orders FROM app  -> 409, "failed", a reason naming the grant
#   3. release 9.9 that no host reports         -> 503, "unverified", the timeout reason
#   4. while verifications wait, /metrics and /api/v1/status answer at once; a fifth one over
#      COLL_API_MAX_VERIFY (4) is 503 with Retry-After; each waiting one ends with its 503
#   5. bad parameters                           -> 400 {"error"} at once
#   6. the collector stops (SIGTERM) with a verification waiting -> it ends at once with 503
# Needs root (PostgreSQL runs as postgres).
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"
# shellcheck source=lib.sh
source "$FL_SOURCE/tests/verify/lib.sh"

verify_init

printf '%s\n' '[postgres "orders"]' 'table = public.orders: SELECT, INSERT, UPDATE' >"$FL_TMP/r1.0.expect"
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

# api_verify QUERY: GET /api/v1/verify?QUERY; sets OUT (the body), CODE (the HTTP status) and
# HDRS (the response headers).
api_verify() {
	local resp
	resp=$(curl -sS --max-time 90 -D "$FL_TMP/verify.hdrs" -w '\n%{http_code}' "$FL_HTTP_URL/api/v1/verify?$1") ||
		fl_fail "GET /api/v1/verify?$1: curl failed"
	CODE=$(tail -n 1 <<<"$resp")
	OUT=$(sed '$d' <<<"$resp")
	HDRS=$(cat "$FL_TMP/verify.hdrs")
	fl_log "GET /api/v1/verify?$1 -> $CODE"
}
# The keys of the verify --json shape, sorted (the API must give the same ones).
keys() { jq -c 'keys' <<<"$1"; }

# 1. A healthy release passes: 200, and the shape is the CLI's.
api_verify "release=1.0&hosts=app1,app2&timeout=30s"
assert_eq "1.0 verifies: 200" 200 "$CODE"
assert_jq "1.0 passed on both hosts" "$OUT" '.result == "passed" and (.hosts | sort) == ["app1","app2"] and .reasons == []'
grep -qi '^content-type: application/json' <<<"$HDRS" || fl_fail "verify content type: $HDRS"
CLI=$(fl_cli_json verify --release 1.0 --hosts app1,app2 --timeout 30s)
assert_eq "the CLI's verify --json has the same keys" "$(keys "$CLI")" "$(keys "$OUT")"
assert_jq "and the same result and hosts" "$OUT" --argjson c "$CLI" '.result == $c.result and (.hosts | sort) == ($c.hosts | sort) and .release == $c.release'

# 2. A real database fault: the release's grant revoked. 409 with the reason.
fl_pg_sql "REVOKE SELECT ON public.orders FROM app" || fl_fail "cannot revoke"
wait_for "the revoke seen by both agents" 20 bash -c \
	"curl -sf '$FL_HTTP_URL/api/v1/status' | jq -e '[.hosts[].probes[] | select(.name == \"orders\" and .status == \"fail\")] | length == 2'"
api_verify "release=1.0&timeout=30s&rollback_to="
assert_eq "1.0 without its grant: 409" 409 "$CODE"
assert_jq "failed, the reasons name SELECT on public.orders on each host" "$OUT" \
	'.result == "failed" and ([.reasons[] | select(.summary | test("SELECT") and test("public.orders")) | .host] | unique | sort) == ["app1","app2"]'
CLI=$(fl_cli_json verify --release 1.0 --timeout 30s)
assert_jq "the CLI says failed too" "$CLI" '.result == "failed"'
fl_pg_sql "GRANT SELECT ON public.orders TO app" || fl_fail "cannot grant"
wait_for "the grant back on both agents" 20 bash -c \
	"curl -sf '$FL_HTTP_URL/api/v1/status' | jq -e '[.hosts[].probes[] | select(.name == \"orders\" and .status == \"ok\")] | length == 2'"

# 3. A release no host reports: 503 after the timeout, naming the hosts not on it.
T0=$SECONDS
api_verify "release=9.9&hosts=app1,app2&timeout=3s"
assert_eq "9.9 never reported: 503" 503 "$CODE"
((SECONDS - T0 >= 3 && SECONDS - T0 < 20)) || fl_fail "the timeout took $((SECONDS - T0))s"
assert_jq "unverified, the timeout reason names both hosts" "$OUT" \
	'.result == "unverified" and .reasons[0].check == "timeout" and (.reasons[0].summary | test("app1")) and (.reasons[0].summary | test("app2"))'
CLI=$(fl_cli verify --json --release 9.9 --hosts app1,app2 --timeout 3s) || true # exit 2
assert_eq "the CLI's timeout has the same keys" "$(keys "$CLI")" "$(keys "$OUT")"

# 4. Four verifications waiting (the limit) block nothing; a fifth is refused with Retry-After.
WAITERS=()
for i in 1 2 3 4; do
	curl -s --max-time 30 -o "$FL_TMP/wait$i.json" -w '%{http_code}' \
		"$FL_HTTP_URL/api/v1/verify?release=8.$i&timeout=6s" >"$FL_TMP/wait$i.code" &
	WAITERS+=($!)
done
# All four connected (each stays open until its verification answers, at its 6 s timeout);
# curl sends its request head as soon as it connects.
wait_for "the four verifications connected" 5 bash -c \
	"(( \$(ss -Htn state established '( sport = :$FL_HTTP_PORT )' | wc -l) >= 4 ))"
T0=$(date +%s%N)
curl -sf --max-time 2 -o /dev/null "$FL_HTTP_URL/metrics" || fl_fail "/metrics did not answer while 4 verifications wait"
curl -sf --max-time 2 -o /dev/null "$FL_HTTP_URL/api/v1/status" || fl_fail "/api/v1/status did not answer while 4 verifications wait"
MS=$((($(date +%s%N) - T0) / 1000000))
((MS < 2000)) || fl_fail "/metrics and status took $MS ms while verifications wait"
fl_log "ok: /metrics and /api/v1/status answered in $MS ms while 4 verifications wait"
api_verify "release=7.0&timeout=1s"
assert_eq "a fifth verification: 503" 503 "$CODE"
assert_jq "refused with a reason" "$OUT" '.error | test("4 verifications are running")'
grep -qi '^retry-after: 10' <<<"$HDRS" || fl_fail "no Retry-After on the refused verification: $HDRS"
wait "${WAITERS[@]}"
for i in 1 2 3 4; do
	assert_eq "waiting verification $i ended: 503" 503 "$(cat "$FL_TMP/wait$i.code")"
	assert_jq "waiting verification $i: unverified" "$(cat "$FL_TMP/wait$i.json")" --arg r "8.$i" \
		'.result == "unverified" and .release == $r and .reasons[0].check == "timeout"'
done
api_verify "release=1.0&timeout=30s"
assert_eq "slots free again: 1.0 passes" 200 "$CODE"

# 5. Bad parameters: 400 at once, as JSON.
bad() {
	api_verify "$1"
	assert_eq "$1: 400" 400 "$CODE"
	assert_jq "$1: the error says why" "$OUT" --arg t "$2" '.error | contains($t)'
}
bad "hosts=app1" "release=R is required"
bad "release=" "release=R is required"
bad "release=1.0&hosts=app1&min_hosts=1" "hosts and min_hosts exclude each other"
bad "release=1.0&timeout=11m" "timeout wants a duration"
bad "release=1.0&min_hosts=0" "min_hosts wants a count"
bad "release=1.0&rounds=3" "unknown parameter 'rounds'"

# 6. The collector stops promptly with a verification waiting: the client gets a 503 saying why,
# and the collector exits cleanly (not killed after fl_stop's 5 s).
curl -s --max-time 30 -o "$FL_TMP/stopping.json" -w '%{http_code}' \
	"$FL_HTTP_URL/api/v1/verify?release=6.0&timeout=60s" >"$FL_TMP/stopping.code" &
STOPPING=$!
wait_for "the waiting verification connected" 5 bash -c \
	"(( \$(ss -Htn state established '( sport = :$FL_HTTP_PORT )' | wc -l) >= 1 ))"
T0=$SECONDS
fl_stop collector
assert_eq "the collector exits cleanly" 0 "$FL_LAST_RC"
((SECONDS - T0 <= 3)) || fl_fail "the collector took $((SECONDS - T0)) s to stop with a verification waiting"
wait "$STOPPING" || true
assert_eq "the waiting verification: 503" 503 "$(cat "$FL_TMP/stopping.code")"
assert_jq "it says the collector is stopping" "$(cat "$FL_TMP/stopping.json")" '.error == "the collector is stopping"'
