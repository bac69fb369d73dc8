#!/usr/bin/env bash
# test_faults.sh - Faultline end to end on the multi-host testbed: one `up`, then
# every fault in turn. For each: inject, poll `faultline diagnose --json` every 250 ms until it
# gives the expected verdict AND scope (hosts, targets) or the deadline passes, print one
# PASS/FAIL line with the time to verdict measured from the injection, clear the fault and wait
# for healthy again before the next one. The verdicts chosen for the ambiguous rows are
# argued in docs/testbed.md.
#
# Env (from ctest): FL_BUILD, FL_SOURCE; FL_TB_HOLD_S sets row 8's hold (testbed_faults: 30 s;
# testbed_loss_stability runs row 8 alone with the default 60 s). FL_TB_SKIP="8" leaves those
# faults out. By hand:
# FL_TB_ONLY="1 5" runs only those faults (by number); FL_TB_KEEP=1 leaves the bed up afterwards
# (logs in $FL_TB_STATE/log).
set -uo pipefail

SRC=${FL_SOURCE:?set by ctest}
export FL_BUILD=${FL_BUILD:?set by ctest}
export FL_TB_STATE=${FL_TB_STATE:-/dev/shm/faultline-testbed}
TB=$SRC/tests/testbed/testbed.sh
DEADLINE_S=${FL_TB_DEADLINE_S:-20}  # per fault; the issue aims at ~2 probe intervals (2 s)
RECOVER_S=${FL_TB_RECOVER_S:-30}
fails=0
ms_now() { date +%s%3N; }
say() { echo "[faults $(date +%T)] $*"; }

# One testbed per machine (fixed namespace names and addresses): runs from other build dirs
# or by hand must wait, not tear this one down. ctest's RESOURCE_LOCK covers only one ctest.
exec 9>/run/faultline-testbed.lock
if ! flock -w 60 9; then
	echo "FAIL the testbed is busy: another run holds /run/faultline-testbed.lock (ctest -LE testbed skips it)"
	exit 1
fi
missing=""
[ "$(id -u)" = 0 ] || missing+=" root (network namespaces: run ctest as root)"
for b in agent/faultline-agent collector/faultline-collector cli/faultline tests/testbed/nfq_delay; do
	[ -x "$FL_BUILD/$b" ] || missing+=" $FL_BUILD/$b"
done
if [ -n "$missing" ]; then
	echo "FAIL testbed prerequisites missing:$missing"
	echo "(build everything; nfq_delay needs libnetfilter-queue-dev: apt-get install -y libnetfilter-queue-dev)"
	exit 1
fi

selected() {
	[[ " ${FL_TB_SKIP:-} " != *" $1 "* ]] || return 1
	[ -z "${FL_TB_ONLY:-}" ] || [[ " $FL_TB_ONLY " == *" $1 "* ]]
}

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	if [ "${FL_TB_KEEP:-0}" = 1 ]; then
		say "FL_TB_KEEP=1: the bed stays up; remove it with: $TB down"
	else "$TB" down >/dev/null 2>&1; fi
}
trap cleanup EXIT
"$TB" down >/dev/null 2>&1 # whatever an earlier run left
# Row 8 records what the collector judged at every diagnosis (collector/src/trace.h), so a flap
# can be replayed: the lines of the hold are kept in $TRACE_DIR (the state dir goes with `down`).
TRACE_DIR=${FL_TB_TRACE_DIR:-$FL_BUILD/testbed-trace}
if selected 8; then
	export FL_TRACE_DIAGNOSE=$FL_TB_STATE/log/diagnose-trace.jsonl
	mkdir -p "$TRACE_DIR"
fi
t_up=$(ms_now)
if ! FL_TB_AGENTS=1 "$TB" up; then
	echo "FAIL testbed up (logs were in $FL_TB_STATE/log; rerun: FL_BUILD=$FL_BUILD $TB up)"
	for f in "$FL_TB_STATE"/log/*.log; do [ -e "$f" ] && { echo "== $f"; tail -5 "$f"; }; done
	exit 1
fi
say "up in $(($(ms_now) - t_up)) ms"

diag() { "$TB" cli diagnose --json 2>"$FL_TB_STATE/log/diagnose.err"; }
last=""

# poll_until SECONDS JQ_PREDICATE: 0 when diagnose satisfies it in time; sets $last, $took_ms
poll_until() {
	local deadline=$(($(ms_now) + $1 * 1000)) pred=$2 t0
	t0=$(ms_now)
	seen=""
	local cur prev=""
	while :; do
		last=$(diag)
		# the verdicts seen on the way, e.g. "healthy > network[app1] > database[app1,app2,app3]"
		cur=$(echo "$last" | jq -r '.verdict + "[" + ([.findings[]?.hosts[]?] | unique | join(",")) + "]"' 2>/dev/null || echo "?")
		if [ "$cur" != "$prev" ]; then
			seen+="${seen:+ > }$cur"
			prev=$cur
		fi
		if [ -n "$last" ] && echo "$last" | jq -e "$pred" >/dev/null 2>&1; then
			took_ms=$(($(ms_now) - t0))
			return 0
		fi
		[ "$(ms_now)" -ge "$deadline" ] && return 1
		sleep 0.25
	done
}

summary() {
	if [ -z "$last" ]; then
		echo "diagnose printed nothing: $(tail -3 "$FL_TB_STATE/log/diagnose.err" 2>/dev/null | tr '\n' ' ')"
		return 0
	fi
	echo "$last" | jq -c '{verdict, summary, findings: [.findings[]? | {verdict, hosts, targets, release}]}' 2>/dev/null || echo "$last"
}

wait_healthy() {
	if poll_until "$RECOVER_S" '.verdict == "healthy"'; then
		say "healthy again after ${took_ms} ms"
		return 0
	fi
	echo "FAIL not healthy ${RECOVER_S}s after clearing $1: $(summary)"
	fails=$((fails + 1))
	return 1
}

# run_fault N NAME PREDICATE INJECT...: inject, wait for the predicate, report, clear
run_fault() {
	local n=$1 name=$2 pred=$3
	shift 3
	selected "$n" || return 0
	say "fault $n ($name): $*"
	if ! "$TB" fault "$@"; then
		echo "FAIL fault $n $name: cannot inject"
		fails=$((fails + 1))
	elif poll_until "$DEADLINE_S" "$pred"; then
		echo "PASS fault $n $name: verdict in ${took_ms} ms: $(summary)"
		say "verdicts seen: $seen"
	else
		echo "FAIL fault $n $name: no expected verdict within ${DEADLINE_S}s; last: $(summary)"
		say "verdicts seen: $seen"
		fails=$((fails + 1))
	fi
	"$TB" clear
	wait_healthy "fault $n"
}

# jq helpers: every host named by any finding, every target, and the finding texts
HOSTS='([.findings[].hosts[]] | unique)'
TARGETS='[.findings[].targets[]]'
DB_TARGETS="($TARGETS | map(select(test(\"db[.]fl[.]test|10[.]213[.]7[.]20\"))))"

# The bed starts healthy: all three agents report and nothing fails.
if poll_until "$RECOVER_S" '.verdict == "healthy"'; then
	echo "PASS baseline: healthy after up (${took_ms} ms)"
else
	echo "FAIL baseline: not healthy after up: $(summary)"
	fails=$((fails + 1))
fi

# 1. app1's path to the db host cut; app2/app3 fine -> network, that path only
run_fault 1 cut-db-path \
	".verdict == \"network\" and $HOSTS == [\"app1\"] and ($DB_TARGETS | length) > 0" \
	cut-db app1

# 2. tcp 5432/3306 dropped at the db host for every app host, db up -> database (docs/testbed.md)
run_fault 2 block-db-ports \
	".verdict == \"database\" and $HOSTS == [\"app1\",\"app2\",\"app3\"] and ($DB_TARGETS | unique | length) == 2" \
	block-db-ports

# 3. db host's link down -> database (docs/testbed.md)
run_fault 3 db-host-down \
	".verdict == \"database\" and $HOSTS == [\"app1\",\"app2\",\"app3\"] and ($DB_TARGETS | unique | length) == 2" \
	db-down

# 4. app1 cut off from the collector -> host app1; its agent keeps probing and spools; while
# cut, app1's app fails for a few rounds; after the cut the spooled rounds arrive and history
# shows the stale period, the return and the failure that happened during the cut.
fault4() { # fault4 NAME drop|reset
	selected 4 || return 0
	local name=$1 how=$2 t_cut t_ok t_lift hist pred
	say "fault 4 ($name): cut-collector app1 $how"
	"$TB" fault cut-collector app1 "$how"
	t_cut=$(date +%s)
	if poll_until "$DEADLINE_S" ".verdict == \"host\" and $HOSTS == [\"app1\"]"; then
		echo "PASS fault 4 $name: verdict in ${took_ms} ms: $(summary)"
	else
		echo "FAIL fault 4 $name: no host verdict within ${DEADLINE_S}s; last: $(summary)"
		fails=$((fails + 1))
	fi
	# What happens on app1 while nobody can see it: its app fails, then recovers. Nothing
	# observable from outside the cut tells when the agent has probed it, so this waits for
	# a fixed number of rounds (interval 1 s, fail threshold 2).
	"$TB" app app1 503
	sleep 4
	"$TB" app app1 ok
	t_ok=$(date +%s)
	sleep 2 # the test: app1 ok again for two rounds, still unseen
	"$TB" exec app1 nft delete table inet fl_fault # lift the cut only
	t_lift=$(date +%s)
	# The replay: a status event of probe "app" going to fail, stamped inside the cut (when
	# it happened, not when it arrived), after a stale event; and the host back.
	pred="[.events[] | select(.host == \"app1\")] as \$e
	  | (\$e | map(select(.kind == \"stale\")) | length) > 0
	  and (\$e | map(select(.kind == \"back\")) | length) > 0
	  and (\$e | map(select(.kind == \"status\" and .probe == \"app\" and .to == \"fail\"
	        and ((.at | sub(\"[.][0-9]+Z\$\"; \"Z\") | fromdateiso8601) as \$t
	             | \$t >= $t_cut - 1 and \$t <= $t_ok + 1))) | length) > 0"
	local deadline=$(($(ms_now) + 30000)) t0 ok=0
	t0=$(ms_now)
	while [ "$(ms_now)" -lt "$deadline" ]; do
		hist=$("$TB" cli history --json --host app1 2>/dev/null)
		if echo "$hist" | jq -e "$pred" >/dev/null 2>&1; then
			ok=1
			break
		fi
		sleep 0.5
	done
	if [ "$ok" = 1 ]; then
		echo "PASS fault 4 $name replay: spooled rounds in history $(($(ms_now) - t0)) ms after the cut was lifted:"
		echo "$hist" | jq -c '.events[] | select(.host == "app1") | {at, kind, probe, from, to, failure}' | tail -12
	else
		echo "FAIL fault 4 $name replay: history of app1 lacks stale/back, or the app failure stamped when it happened (between $(date -d @"$t_cut" +%T) and $(date -d @"$t_ok" +%T); the cut was lifted at $(date -d @"$t_lift" +%T)):"
		echo "$hist" | jq -c '.events[]? | {at, host, kind, probe, from, to}' 2>/dev/null | tail -15 || echo "$hist"
		fails=$((fails + 1))
	fi
	"$TB" clear
	wait_healthy "fault 4 $name"
}
# A blackhole: the agent's TCP connection stays up, so what it sends waits in the kernel and
# arrives by retransmission after the cut.
fault4 collector-cut drop
# Resets: the connection drops and redials are refused, so the agent's own spool keeps the
# rounds and sends them on reconnect.
fault4 collector-cut-reset reset

# 5. db.fl.test stops resolving on every app host -> network (DNS), naming the name
run_fault 5 dns \
	".verdict == \"network\" and any(.findings[]; .targets == [\"db.fl.test\"] and .hosts == [\"app1\",\"app2\",\"app3\"])
	 and ([.summary, .findings[].summary, .findings[].evidence[]] | join(\" \") | test(\"dns|resolv\"; \"i\"))" \
	dns-db

# 6a. 250 ms latency on app2 -> db only (db probes' slow = 800 ms) -> network, that path only
run_fault 6 latency-path \
	".verdict == \"network\" and $HOSTS == [\"app2\"] and ($DB_TARGETS | length) > 0" \
	delay app2 250

# 6b. 40% loss between app2 and the db host -> network, that path only
run_fault 6 loss-path \
	".verdict == \"network\" and $HOSTS == [\"app2\"] and ($DB_TARGETS | length) > 0" \
	loss app2 40

# 7. app1 deploys release 2.0.0 and its app starts answering 503 -> code, release and host
run_fault 7 bad-release \
	".verdict == \"code\" and $HOSTS == [\"app1\"] and ([.findings[].release] | index(\"2.0.0\")) != null" \
	bad-release app1 2.0.0

# 8. 10-30% loss between app2 and the db host -> network on app2, and it stays so: after the
# first network verdict, every diagnosis for FL_TB_HOLD_S (60) seconds must still be network
# naming app2 only; one healthy (or other) answer in between is a flap and fails the row.
# FL_TB_LOSS_PCTS picks the loss rates (default "10 30": both ends of the range).
# The scope is that of the diagnosis of the path: every finding but one about a host's own app
# instance (a host finding whose targets are all loopback apps: "app slow on app1 only: that
# host or its instance (CPU, memory, disk)"), which on an overloaded machine is true of another
# host now and then and says nothing about the path; those are counted and printed, not failed.
OWN_APP='(.verdict == "host" and (.targets | length) > 0 and all(.targets[]; test("^https?://(127[.]|localhost|\\[::1\\])")))'
fault8() { # fault8 PCT
	selected 8 || return 0
	local pct=$1 hold=${FL_TB_HOLD_S:-60} pred end n=0 flaps=0 first_flap="" cur prev="" own=0
	pred=".verdict == \"network\" and ([.findings[] | select($OWN_APP | not) | .hosts[]] | unique) == [\"app2\"] and ($DB_TARGETS | length) > 0"
	say "fault 8 (loss-stable $pct%): loss app2 $pct, then held ${hold}s"
	if ! "$TB" fault loss app2 "$pct"; then
		echo "FAIL fault 8 loss-stable-$pct: cannot inject"
		fails=$((fails + 1))
		return 0
	fi
	# Detection takes longer than a cut: a path is blamed once enough of its last 16 rounds
	# were bad (about 30 %), which at 10 % loss takes 5-15 rounds.
	if ! poll_until "${FL_TB_LOSS_DEADLINE_S:-30}" "$pred"; then
		echo "FAIL fault 8 loss-stable-$pct: no network verdict on app2 within ${FL_TB_LOSS_DEADLINE_S:-30}s; last: $(summary)"
		say "verdicts seen: $seen"
		fails=$((fails + 1))
	else
		say "fault 8 loss-stable-$pct: network on app2 after ${took_ms} ms; holding"
		seen=""
		: >"$FL_TRACE_DIAGNOSE" # the hold only
		end=$(($(ms_now) + hold * 1000))
		while [ "$(ms_now)" -lt "$end" ]; do
			last=$(diag)
			n=$((n + 1))
			cur=$(echo "$last" | jq -r '.verdict + "[" + ([.findings[]?.hosts[]?] | unique | join(",")) + "]"' 2>/dev/null || echo "?")
			[ "$cur" != "$prev" ] && seen+="${seen:+ > }$cur" && prev=$cur
			if ! echo "$last" | jq -e "$pred" >/dev/null 2>&1; then
				flaps=$((flaps + 1))
				[ -n "$first_flap" ] || first_flap=$(summary)
				trace_flap
			elif echo "$last" | jq -e "[.findings[] | select($OWN_APP)] | length > 0" >/dev/null 2>&1; then
				own=$((own + 1))
				say "also named (a host's own app, not the path): $(echo "$last" | jq -c "[.findings[] | select($OWN_APP) | .summary]")"
			fi
			sleep 0.5
		done
		if [ "$flaps" = 0 ]; then
			echo "PASS fault 8 loss-stable-$pct: network on app2 in ${took_ms} ms, then all $n diagnoses over ${hold}s network on app2 only ($own also named a host's own app instance): $(summary)"
		else
			echo "FAIL fault 8 loss-stable-$pct: $flaps of $n diagnoses over ${hold}s were not network on app2; first: $first_flap"
			fails=$((fails + 1))
		fi
		say "verdicts seen while held: $seen"
		cp "$FL_TRACE_DIAGNOSE" "$TRACE_DIR/loss-$pct-$(date +%Y%m%dT%H%M%S).jsonl"
	fi
	"$TB" clear
	wait_healthy "fault 8 loss $pct%"
}
# The database paths' windows at the diagnosis just made (the trace's last line) and the one
# before: what let a flap through.
trace_flap() {
	tail -2 "$FL_TRACE_DIAGNOSE" | jq -c '{at_us, verdict, hosts,
	  findings: [.findings[]? | {verdict, hosts, targets}], db: [.probes[]
	  | select(.probe | test("orders")) | {host, probe, status, failure, cf: .consecutive_fail,
	    base_ms: (.baseline_us / 1000 | floor), slow, failed,
	    ms: [.dur_us[] / 1000 | floor]}]}' 2>/dev/null | sed 's/^/  trace: /'
}
for pct in ${FL_TB_LOSS_PCTS:-10 30}; do fault8 "$pct"; done

if [ "$fails" = 0 ]; then
	echo "testbed: every fault gave its verdict"
	exit 0
fi
echo "testbed: $fails failure(s)"
exit 1
