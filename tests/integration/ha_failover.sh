#!/bin/bash
# ha_failover.sh - an HA pair on a real PostgreSQL (README, "High availability and sizing"):
# two collectors, three agents, the demo app.
#   1. c1 takes the lease (active), c2 is standby: c2 does not listen on the report address,
#      serves status from the shared state (refreshed), refuses probe-now/forget/mute with
#      not_active and names the active.
#   2. kill -9 of the active under load; the app starts failing at the same moment: c2 is
#      active within 10 s, shows every host, diagnoses the fault; its history holds every
#      event of before, no event twice, and each host's transitions chain without a gap.
#   3. c1 comes back as standby; a verification on the active (c2) is interrupted when c2
#      loses its lease session, and c1 takes over.
#   4. PostgreSQL restarted under the active: one collector is active again, nothing
#      acknowledged before the restart is lost (history), reports flow again.
#   5. The active frozen (SIGSTOP): the other takes over within 10 s; resumed, the frozen one
#      steps down at once: never two actives.
# Each collector has its own report and survey addresses, only the active listens on its own;
# the agents list both (collector = URL1, URL2), and so does the CLI where it needs the active
# (-C URL1,URL2: a standby's not_active makes it ask the next).
# Needs root (PostgreSQL runs as its own user).

source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"

fl_init
export FL_TEST_STATE_PG=1
fl_collector_conf "$FL_TMP/c1.conf"
C1=$FL_CONTROL
C2=ipc://$FL_TMP/c2.sock
R1=$FL_REPORT_URL S1=$FL_SURVEY_URL
R2=tcp://127.0.0.1:$(fl_free_port) S2=tcp://127.0.0.1:$(fl_free_port)
P1=${R1##*:} P2=${R2##*:}
printf 'name = c1\nlease_timeout = 5s\n' >>"$FL_TMP/c1.conf"
sed -e "s#^control = .*#control = $C2#" -e "s#^http = .*#http = 127.0.0.1:$(fl_free_port)#" \
	-e "s#^listen = .*#listen = $R2#" -e "s#^survey = .*#survey = $S2#" \
	-e 's#^name = c1#name = c2#' "$FL_TMP/c1.conf" >"$FL_TMP/c2.conf"

# listener_pids PORT: the pids listening on the TCP port.
listener_pids() { ss -ltnpH "sport = :$1" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u; }

fl_start_app app
fl_start c1 "$FL_COLLECTOR_BIN" -c "$FL_TMP/c1.conf"
wait_for "c1 active" 20 fl_collector_role active "$C1"
fl_start c2 "$FL_COLLECTOR_BIN" -c "$FL_TMP/c2.conf"
wait_for "c2 standby" 20 fl_collector_role standby "$C2"

HOSTS=(a1 a2 a3)
for h in "${HOSTS[@]}"; do
	fl_agent_conf "$FL_TMP/$h.conf" "$h" 1.0
	sed -i -e "s#^collector = .*#collector = $R1, $R2#" -e "s#^survey = .*#survey = $S1, $S2#" \
		"$FL_TMP/$h.conf"
	fl_conf_app_probe >>"$FL_TMP/$h.conf"
	fl_start_agent "$h"
done

# app_on_all CONTROL STATUS: every agent's app probe has STATUS in the collector's status.
app_on_all() {
	local json
	json=$("$FL_CLI_BIN" -C "$1" status --json 2>/dev/null) || [[ $? -eq 1 ]] || return 1
	jq -e --arg s "$2" '[.hosts[] | select(.host | test("^a[123]$"))] as $h
		| ($h | length) == 3 and all($h[]; any(.probes[]; .name == "app" and .status == $s))' \
		<<<"$json" >/dev/null || {
		jq -c '[.hosts[] | {host, app: [.probes[] | select(.name == "app") | .status]}]' \
			<<<"$json" 2>/dev/null
		return 1
	}
}

# --- 1. active and standby ------------------------------------------------------------------
wait_for "c1 sees the three agents ok" 30 app_on_all "$C1" ok
wait_for "the standby serves the same state (refreshed from the store)" 10 app_on_all "$C2" ok
S2=$("$FL_CLI_BIN" -C "$C2" status --json) || true
assert_jq "the standby says so, names the active and when it took its role" "$S2" \
	'.role == "standby" and .active_name == "c1" and .role_since_us > 0'
S1=$("$FL_CLI_BIN" -C "$C1" status --json) || true
assert_jq "the active says so" "$S1" '.role == "active" and .active_name == "c1"'
assert_eq "the active listens on its report address" "$(fl_pid c1)" "$(listener_pids "$P1")"
assert_eq "the standby does not listen on its report address" "" "$(listener_pids "$P2")"
for q in "probe-now" "forget a1" "mute --host a1 --for 1m --reason test"; do
	rc=0
	out=$("$FL_CLI_BIN" -C "$C2" $q 2>&1) || rc=$?
	[[ $rc -ne 0 && $out == *"this collector is standby: ${q%% *} needs the active one (c1)"* ]] ||
		fl_fail "standby answered '$q' (exit $rc): $out"
	fl_log "ok: the standby refuses $q: $out"
done

PN=$("$FL_CLI_BIN" -C "$C2,$C1" probe-now --json) ||
	fl_fail "probe-now with the standby listed first did not reach the active: $PN"
assert_jq "probe-now with the standby listed first is answered by the active" "$PN" \
	'(.answered | sort) == ["a1", "a2", "a3"]'

# A transition before the failover, for "earlier history intact".
fl_app_mode app 503
wait_for "c1 sees the app failing" 20 app_on_all "$C1" fail
fl_app_mode app ok
wait_for "c1 sees the app ok again" 20 app_on_all "$C1" ok
# history_back_ok CONTROL [AFTER]: the history CONTROL serves has, for every host, an app event
# to fail later than AFTER (epoch) and ok as its last app event (written at a verdict tick,
# after status shows it).
history_back_ok() {
	"$FL_CLI_BIN" -C "$1" history --json 2>/dev/null | jq -e --arg cut "${2:-}" '
		[.events[] | select(.kind == "status" and .probe == "app")
			| select($cut == "" or .at > $cut)] | group_by(.host) | length == 3
		and all(.[]; (map(.to) | index("fail")) != null and last.to == "ok")' >/dev/null
}
wait_for "c1's history has every host's app back to ok" 20 history_back_ok "$C1"
BEFORE=$("$FL_CLI_BIN" -C "$C1" history --json)
assert_jq "c1's history has the 503 spell of every host" "$BEFORE" '
	[.events[] | select(.kind == "status" and .probe == "app" and .to == "fail")
		| .host] | unique == ["a1", "a2", "a3"]'

# --- 2. kill -9 of the active under load, a fault injected during the failover ---------------
T0=$(date +%s.%N)
fl_stop c1 KILL
fl_app_mode app 503
wait_for "c2 becomes active within 10 s" 10 fl_collector_role active "$C2"
TOOK=$(echo "$(date +%s.%N) - $T0" | bc)
fl_log "measured: c2 active $TOOK s after kill -9 of c1"
S2=$("$FL_CLI_BIN" -C "$C2" status --json) || true
assert_jq "c2 is active under its own name" "$S2" '.role == "active" and .active_name == "c2"'
assert_eq "c2 now listens on its report address" "$(fl_pid c2)" "$(listener_pids "$P2")"
wait_for "c2 sees the fault injected during the failover on every host" 30 app_on_all "$C2" fail
D=$("$FL_CLI_BIN" -C "$C2" diagnose --json) || true
assert_jq "c2 diagnoses it: the code, on the app" "$D" '.verdict == "code"'
fl_app_mode app ok
wait_for "c2 sees the app ok again" 30 app_on_all "$C2" ok
CUT=$(jq -r '.events | map(.at) | max' <<<"$BEFORE")
wait_for "c2's history has every host's app back to ok after the failover" 20 \
	history_back_ok "$C2" "$CUT"
AFTER=$("$FL_CLI_BIN" -C "$C2" history --json)
assert_jq "every event c1 recorded is in the history c2 serves" "$AFTER" --argjson b "$BEFORE" '
	[.events[] | [.at, .host, .kind, .probe, .from, .to]] as $now
	| all($b.events[] | [.at, .host, .kind, .probe, .from, .to]; . as $e | $now | index([$e]))'
assert_jq "no event twice" "$AFTER" '
	[.events[] | [.at, .host, .kind, .probe, .from, .to]] | length == (unique | length)'
assert_jq "each host's app transitions chain without a gap (from = the previous to)" "$AFTER" '
	[.events[] | select(.kind == "status" and .probe == "app")] | group_by(.host)
	| length == 3 and all(.[]; . as $all | all(range(1; length); $all[.].from == $all[. - 1].to))'
assert_jq "the fault during the failover is in history: fail, then ok, on every host" "$AFTER" \
	--argjson b "$BEFORE" '
	($b.events | map(.at) | max) as $cut
	| [.events[] | select(.kind == "status" and .probe == "app" and .at > $cut)]
	| group_by(.host) | length == 3
		and all(.[]; (map(.to) | index("fail")) != null and last.to == "ok")'

# --- 3. the old active comes back as standby --------------------------------------------------
fl_start c1 "$FL_COLLECTOR_BIN" -c "$FL_TMP/c1.conf"
wait_for "c1 back as standby" 20 fl_collector_role standby "$C1"
names_active() {
	"$FL_CLI_BIN" -C "$1" status --json 2>/dev/null | jq -e --arg n "$2" '.active_name == $n'
}
wait_for "c1 names c2 as the active (from its first try of the lease)" 5 names_active "$C1" c2

# --- 3b. the active loses its lease session during a verification ----------------------------
# a1 moves to release 2.0: `verify` compares it with the others over 60 canary rounds a second
# apart. Meanwhile the active's lease session is ended (as a partitioned host's would be): it
# steps down at once, the verification ends "interrupted", nothing of it recorded, and c1 (the
# standby) takes over.
echo 2.0 >"$FL_TMP/a1.release"
on_release() {
	"$FL_CLI_BIN" -C "$C2" status --json 2>/dev/null |
		jq -e '[.hosts[] | select(.host == "a1") | .release] == ["2.0"]'
}
wait_for "a1 reports release 2.0" 20 on_release
rc=0
"$FL_CLI_BIN" -C "$C1" verify --release 2.0 --hosts a1 --timeout 10s >"$FL_TMP/standby-verify.out" 2>&1 || rc=$?
grep -q "this collector is standby: verify needs the active one (c2)" "$FL_TMP/standby-verify.out" ||
	fl_fail "the standby answered verify (exit $rc): $(cat "$FL_TMP/standby-verify.out")"
fl_log "ok: the standby refuses verify (it cannot survey the agents)"
"$FL_CLI_BIN" -C "$C2" verify --release 2.0 --hosts a1 --rounds 60 --window 1s --timeout 10s \
	>"$FL_TMP/verify.out" 2>&1 &
VERIFY_PID=$!
# surveyed N: c2 has ended N more surveys since the verification was asked (each canary round
# is one; an automatic verification gives way to an asked one).
SURVEYS0=$(grep -c 'survey [0-9]*: [0-9]* answered' "$FL_TMP/c2.log" || true)
surveyed() {
	local n
	n=$(grep -c 'survey [0-9]*: [0-9]* answered' "$FL_TMP/c2.log" || true)
	((n >= SURVEYS0 + $1))
}
wait_for "the verification is under way (three rounds surveyed)" 20 surveyed 3
kill -0 $VERIFY_PID 2>/dev/null || fl_fail "verify ended early: $(cat "$FL_TMP/verify.out")"
T0=$(date +%s.%N)
fl_pg_sql "SELECT pg_terminate_backend(holder_pid::int) FROM fl_lease WHERE id = 1" flstate >/dev/null
rc=0
wait $VERIFY_PID || rc=$?
fl_log "verify said (exit $rc): $(cat "$FL_TMP/verify.out")"
assert_eq "the interrupted verification exits 2 (could not verify)" 2 "$rc"
grep -q "could not verify: interrupted (collector lost the lease)" "$FL_TMP/verify.out" ||
	fl_fail "verify did not say it was interrupted: $(cat "$FL_TMP/verify.out")"
wait_for "c1 takes over from c2, which lost its lease session" 10 fl_collector_role active "$C1"
fl_log "measured: c1 active $(echo "$(date +%s.%N) - $T0" | bc) s after c2's lease session ended"
wait_for "c2 is standby" 5 fl_collector_role standby "$C2"
assert_eq "c1 now listens on its report address" "$(fl_pid c1)" "$(listener_pids "$P1")"
assert_eq "c2 no more" "" "$(listener_pids "$P2")"
H=$("$FL_CLI_BIN" -C "$C1" history --json)
# The automatic verifier records its own (canary) checks of the rollout; an asked one of 2.0
# was refused (standby) or interrupted: none may be recorded.
assert_jq "nothing of the interrupted verification is recorded" "$H" \
	'[.events[] | select(.kind == "verification" and .from == "2.0")
		| select((.detail // "") | test("automatic") | not)] == []'
echo 1.0 >"$FL_TMP/a1.release"

# --- 4. PostgreSQL restarted under the active -------------------------------------------------
back_on_1() {
	"$FL_CLI_BIN" -C "$C2" history --json 2>/dev/null | jq -e '
		any(.events[]; .kind == "release" and .host == "a1" and .from == "2.0" and .to == "1.0")'
}
wait_for "a1's return to release 1.0 in history" 20 back_on_1
PRE=$("$FL_CLI_BIN" -C "$C2" history --json)
fl_log "restarting PostgreSQL"
fl_pg_stop
sleep 2 # the test: PostgreSQL down for 2 s under the active
fl_pg_start || fl_fail "PostgreSQL did not start again"
one_active() {
	local r1 r2
	r1=$(fl_role_of "$C1")
	r2=$(fl_role_of "$C2")
	[[ "$r1,$r2" == "active,standby" || "$r1,$r2" == "standby,active" ]] || {
		echo "c1 $r1, c2 $r2"
		return 1
	}
}
wait_for "exactly one collector active again" 30 one_active
ACTIVE=$C2
[[ $(fl_role_of "$C1") == active ]] && ACTIVE=$C1
fl_log "active after the restart: $ACTIVE"
fl_app_mode app 503
wait_for "reports flow to the active again (the app fails everywhere)" 30 app_on_all "$ACTIVE" fail
POST=$("$FL_CLI_BIN" -C "$ACTIVE" history --json)
assert_jq "nothing acknowledged before the restart is lost" "$POST" --argjson b "$PRE" '
	[.events[] | [.at, .host, .kind, .probe, .from, .to]] as $now
	| all($b.events[] | [.at, .host, .kind, .probe, .from, .to]; . as $e | $now | index([$e]))'
assert_jq "still no event twice" "$POST" '
	[.events[] | [.at, .host, .kind, .probe, .from, .to]] | length == (unique | length)'

# --- 5. the active frozen (SIGSTOP: a VM paused, a stalled host) ------------------------------
# Its database sessions linger; its heartbeat stops. The standby ends its session once the
# heartbeat is older than lease_timeout and takes over; the frozen one, resumed, steps down at
# once (its last heartbeat is far too old) instead of acting as active beside the other.
if [[ $ACTIVE == "$C1" ]]; then A=c1 B=c2 CB=$C2; else A=c2 B=c1 CB=$C1; fi
T0=$(date +%s.%N)
kill -STOP "$(fl_pid "$A")"
wait_for "$B takes over from the frozen $A within 10 s" 10 fl_collector_role active "$CB"
fl_log "measured: $B active $(echo "$(date +%s.%N) - $T0" | bc) s after $A froze"
kill -CONT "$(fl_pid "$A")"
two_actives=0
for _ in $(seq 1 15); do # 3 s after the resume
	[[ $(fl_role_of "$ACTIVE") == active && $(fl_role_of "$CB") == active ]] && two_actives=1
	sleep 0.2
done
assert_eq "never two actives after the frozen one resumed" 0 "$two_actives"
assert_eq "the resumed one is standby" standby "$(fl_role_of "$ACTIVE")"
fl_log "PASS"
