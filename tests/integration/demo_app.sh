#!/usr/bin/env bash
# demo_app.sh - the demo/test HTTP app (deploy/demo/demo-app.py) does what the other tests rely
# on: each mode answers as documented, the mode file and /_mode switch it, "down" really stops
# listening and comes back, and SIGTERM exits 0.
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"
fl_init --no-binaries

echo 2.4.0 >"$FL_TMP/app.release"
fl_start_app app
U=http://127.0.0.1:$FL_APP_PORT

# get URL: prints "CODE BODY" or "ERR refused|timeout|curl-N", then the elapsed milliseconds.
get() {
	local out rc=0 code ms body
	out=$(curl -sS --max-time 1.5 -w '\n%{http_code} %{time_total}' "$1" 2>/dev/null) || rc=$?
	case $rc in
	0)
		read -r code ms <<<"${out##*$'\n'}"
		body=${out%$'\n'*}
		printf '%s %s %d\n' "$code" "${body%$'\n'}" "$(awk -v s="$ms" 'BEGIN { print int(s * 1000) }')"
		;;
	7) echo "ERR refused 0" ;;
	28) echo "ERR timeout 0" ;;
	*) echo "ERR curl-$rc 0" ;;
	esac
}
answer() { get "$1" | cut -d' ' -f1-2; }
answers() { [[ $(answer "$1") == "$2" ]]; }

assert_eq "ok mode" "200 ok" "$(answer "$U/health")"
assert_eq "release" "200 2.4.0" "$(answer "$U/release")"
fl_app_mode app 503
wait_for "503 mode" 5 answers "$U/health" "503 unavailable"
fl_app_mode app body
wait_for "body mode" 5 answers "$U/health" "200 degraded"
fl_app_mode app slow 400
wait_for "slow mode answers ok" 5 answers "$U/health" "200 ok"
ms=$(get "$U/health" | awk '{ print $NF }')
((ms >= 400)) || fl_fail "slow mode answered in ${ms} ms, expected >= 400"
fl_app_mode app errors 100
wait_for "errors 100: every request fails" 5 answers "$U/health" "503 unavailable"
fl_app_mode app errors 0 300
wait_for "errors 0: every request passes" 5 answers "$U/health" "200 ok"
ms=$(get "$U/health" | awk '{ print $NF }')
((ms >= 300)) || fl_fail "errors mode ignored its delay: ${ms} ms, expected >= 300"
fl_app_mode app errors 50
wait_for "errors 50 in force" 5 bash -c "curl -s '$U/_mode' | grep -q 'mode errors'"
n503=0
for ((i = 0; i < 40; i++)); do
	[[ $(answer "$U/health") == "503 unavailable" ]] && n503=$((n503 + 1))
done
# Binomial(40, 0.5) falls outside 8..32 with probability about 1e-5.
((n503 >= 8 && n503 <= 32)) || fl_fail "errors 50: $n503 of 40 requests failed"
fl_log "ok: errors 50 failed $n503 of 40 requests"
fl_app_mode app hang
wait_for "hang mode times out" 8 answers "$U/health" "ERR timeout"
fl_app_mode app down
wait_for "down mode refuses connections" 5 answers "$U/health" "ERR refused"
fl_app_mode app ok
wait_for "listening again after down" 5 answers "$U/health" "200 ok"
assert_eq "control endpoint sets a mode" "200 mode" "$(answer "$U/_mode?set=503")"
assert_eq "control endpoint switched it" "503 unavailable" "$(answer "$U/health")"
assert_eq "control endpoint rejects an unknown mode" "400 unknown" "$(answer "$U/_mode?set=nope")"
fl_stop app TERM
assert_eq "SIGTERM exits 0" 0 "$FL_LAST_RC"
