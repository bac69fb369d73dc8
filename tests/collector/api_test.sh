#!/usr/bin/env bash
# api_test.sh - the HTTP API's read endpoints (/api/v1/status, hosts, history, diagnose) with a
# real collector and two real agents, each probing its own demo app (app2's answers 503): each
# endpoint's JSON equals the CLI's --json for the same moment (one renderer, two doors), with
# the filters the CLI has (--host, --since, --limit); content type application/json and
# X-Content-Type-Options: nosniff; errors as JSON {"error"} with 400 (unknown, repeated or
# malformed parameters, values out of bounds) or 404 (an unknown host).
#
# "The same moment": the agents report every second, so a status read by the CLI and one read
# over HTTP a few milliseconds apart may differ by one report. Each comparison is retried
# (wait_for) until the two agree: a difference in shape never goes away, one report in between
# does. Compared loosely, because they move with the clock between the two reads: "now" (both
# within 5 s of each other) and each host's "age_s" (a number >= 0 in both); every other field
# must be equal.
source "$(dirname "$0")/../lib/harness.sh"

fl_init
fl_start_collector

for h in app1 app2; do
	fl_start_app "app-$h"
	fl_agent_conf "$FL_TMP/$h.conf" "$h" 1.0
	fl_conf_app_probe >>"$FL_TMP/$h.conf"
	fl_start_agent "$h"
done
fl_app_mode app-app2 503

api() { curl -sS --max-time 5 "$FL_HTTP_URL/api/v1/$1"; }
# api_status PATH: the HTTP status code of GET PATH.
api_status() { curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$FL_HTTP_URL/api/v1/$1"; }

# The loosely compared fields, checked and removed.
LOOSE='if type == "object" and has("now") then del(.now) else . end
	| if type == "object" and has("hosts") then .hosts |= map(
		if has("age_s") then (if (.age_s | type) == "number" and .age_s >= 0 then del(.age_s)
		else error("age_s is not a number >= 0") end) else . end) else . end'

# same_json WHAT CLI_JSON API_JSON: succeeds when both parse and agree (loose fields aside);
# prints the difference otherwise.
same_json() {
	local cli=$2 http=$3 a b
	a=$(jq -S "$LOOSE" <<<"$cli") || return 1
	b=$(jq -S "$LOOSE" <<<"$http") || return 1
	if [[ $(jq -r 'if type == "object" and has("now") then .now else "" end' <<<"$cli") != "" ]]; then
		local dt
		dt=$(jq -n --argjson c "$cli" --argjson h "$http" \
			'(($c.now | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) - ($h.now | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601)) | fabs')
		jq -e -n --argjson d "$dt" '$d <= 5' >/dev/null || {
			echo "$1: now differs by $dt s"
			return 1
		}
	fi
	[[ $a == "$b" ]] || {
		echo "$1 differ:"
		diff <(echo "$a") <(echo "$b") | head -40
		return 1
	}
}

# agree WHAT API_PATH CLI_ARGS...: the endpoint and the CLI command answer the same.
agree() {
	local what=$1 path=$2 cli http
	shift 2
	cli=$(fl_cli_json "$@") || return 1
	http=$(api "$path") || return 1
	same_json "$what" "$cli" "$http"
}
check_agree() {
	wait_for "$1: /api/v1/$2 equals faultline ${*:3} --json" 15 agree "$@"
	fl_log "ok: /api/v1/$2 equals faultline ${*:3} --json"
}

# The moment worth comparing: both hosts reporting, app2 failing and named by the diagnosis.
hosts_ready() {
	jq -e '(.hosts | length) == 2 and ([.hosts[] | select(.host == "app2") | .probes_failing] == [1])' \
		<<<"$(api hosts)" >/dev/null
}
wait_for "both hosts in /api/v1/hosts, app2's probe failing" 20 hosts_ready
wait_for "a CODE verdict" 20 bash -c "curl -sf '$FL_HTTP_URL/api/v1/diagnose' | jq -e '.verdict == \"code\"'"

check_agree status status status
check_agree "status of one host" "status?host=app2" status --host app2
check_agree hosts hosts hosts
check_agree history history history
check_agree "history filtered" "history?since=1h&host=app2&limit=3" history --since 1h --host app2 --limit 3
check_agree "history, percent-encoded" "history?host=%61pp2&since=2d" history --host app2 --since 2d
check_agree diagnose diagnose diagnose
check_agree "diagnose of one host" "diagnose?host=app1" diagnose --host app1

# The filtered answers are not trivially empty (the comparison above would pass on two [] too).
assert_jq "history?host=app2&limit=3 has 1 to 3 events, all app2's" "$(api 'history?host=app2&limit=3')" \
	'(.events | length) >= 1 and (.events | length) <= 3 and all(.events[]; .host == "app2")'
assert_jq "status?host=app2 has app2 only, its probe failing" "$(api 'status?host=app2')" \
	'[.hosts[].host] == ["app2"] and .hosts[0].probes[0].status == "fail"'

# Headers.
headers=$(curl -sS --max-time 5 -D - -o /dev/null "$FL_HTTP_URL/api/v1/status")
grep -qi '^content-type: application/json' <<<"$headers" || fl_fail "status content type: $headers"
grep -qi '^x-content-type-options: nosniff' <<<"$headers" || fl_fail "no nosniff header: $headers"
for p in hosts history diagnose; do
	assert_eq "$p content type" application/json \
		"$(curl -s --max-time 5 -o /dev/null -w '%{content_type}' "$FL_HTTP_URL/api/v1/$p")"
done
fl_log "ok: application/json and nosniff"

# Errors: JSON {"error"} with a 4xx status, naming what is wrong.
# bad_request PATH STATUS TEXT: GET PATH answers STATUS with an error containing TEXT.
bad_request() {
	local body code
	body=$(curl -s --max-time 5 -w '\n%{http_code} %{content_type}' "$FL_HTTP_URL/api/v1/$1")
	code=$(tail -n 1 <<<"$body")
	body=$(sed '$d' <<<"$body")
	assert_eq "${1:0:50}: status and type" "$2 application/json" "$code"
	assert_jq "${1:0:50}: error names it" "$body" --arg t "$3" '(.error | type) == "string" and (.error | contains($t))'
}
bad_request "status?hots=app1" 400 "unknown parameter 'hots'"
bad_request "hosts?host=app1" 400 "unknown parameter 'host'"
bad_request "history?limit=5&limit=6" 400 "'limit' given more than once"
bad_request "history?limit=0" 400 "limit wants a number from 1 to 100000"
bad_request "history?limit=100001" 400 "limit wants a number"
bad_request "history?since=yesterday" 400 "since wants a duration"
bad_request "history?host=%zz" 400 "bad %-escape"
bad_request "history?host=a%00b" 400 "control characters"
bad_request "diagnose?host=$(head -c 1100 /dev/zero | tr '\0' a)" 400 "value too long"
bad_request "status?host=nosuchhost" 404 "knows no host named 'nosuchhost'"
assert_eq "an unknown endpoint" 404 "$(api_status nope)"
