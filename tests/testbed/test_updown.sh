#!/usr/bin/env bash
# test_updown.sh - testbed.sh up/down are idempotent and `down` leaves nothing behind, also
# after a failed `up` and after its pid files were lost. Runs without the faultline binaries
# (FL_TB_AGENTS=0): this is the bed itself, test_faults.sh runs Faultline on it.
set -uo pipefail

TB=${FL_SOURCE:?set by ctest}/tests/testbed/testbed.sh
export FL_TB_STATE=${FL_TB_STATE:-/dev/shm/faultline-testbed}
fails=0
pass() { echo "PASS $*"; }
fail() {
	echo "FAIL $*"
	fails=$((fails + 1))
}
# One testbed per machine (fixed namespace names and addresses): runs from other build dirs
# or by hand must wait, not tear this one down. ctest's RESOURCE_LOCK covers only one ctest.
exec 9>/run/faultline-testbed.lock
if ! flock -w 60 9; then
	echo "FAIL the testbed is busy: another run holds /run/faultline-testbed.lock (ctest -LE testbed skips it)"
	exit 1
fi
[ "$(id -u)" = 0 ] || { echo "FAIL needs root (network namespaces): run ctest as root"; exit 1; }

# Everything the bed may create: it must all be gone after `down`.
leftovers() {
	local n
	for n in mon app1 app2 app3 db; do
		[ -e "/run/netns/fl-$n" ] && echo "netns fl-$n"
		ip link show "fl-$n-h" >/dev/null 2>&1 && echo "link fl-$n-h"
		[ -e "/etc/netns/fl-$n" ] && echo "/etc/netns/fl-$n"
	done
	ip link show fl-tb0 >/dev/null 2>&1 && echo "bridge fl-tb0"
	[ -e "$FL_TB_STATE" ] && echo "state dir $FL_TB_STATE"
	local p
	# $pids holds PID:NETNS-INODE pairs: a pid counts only while it is still in the namespace
	# it was seen in (pids get reused quickly on a busy machine; exiting ones lose ns/net)
	for p in $pids; do
		[ "$(stat -L -c %i "/proc/${p%%:*}/ns/net" 2>/dev/null)" = "${p##*:}" ] &&
			echo "process ${p%%:*} ($(cat "/proc/${p%%:*}/comm" 2>/dev/null))"
	done
	return 0
}
ns_pids() {
	local n
	local p ino
	for n in mon app1 app2 app3 db; do
		ino=$(stat -L -c %i "/run/netns/fl-$n" 2>/dev/null) || continue
		for p in $(ip netns pids "fl-$n" 2>/dev/null); do printf '%s:%s ' "$p" "$ino"; done
	done
}

pids=""
"$TB" down >/dev/null 2>&1 # whatever an earlier run left

# 1. up twice: the second one completes nothing new and fails nothing
if FL_TB_AGENTS=0 "$TB" up && FL_TB_AGENTS=0 "$TB" up; then pass "up is idempotent"; else fail "up twice"; fi
pids=$(ns_pids)
n=$(echo "$pids" | wc -w)
# PostgreSQL (postmaster + ~5 children), mariadbd, three demo apps
if [ "$n" -ge 8 ]; then pass "servers and apps running in the namespaces ($n processes)"; else
	fail "only $n processes in the namespaces: $pids"; fi
if "$TB" exec app2 bash -c 'exec 3<>/dev/tcp/db.fl.test/5432' 2>/dev/null &&
	"$TB" exec app3 bash -c 'exec 3<>/dev/tcp/db.fl.test/3306' 2>/dev/null; then
	pass "app hosts reach db.fl.test:5432 and :3306 by name"
else fail "app hosts cannot reach the databases by name"; fi
# the root namespace has no route into the bed (the bridge has no address)
if ip route get 10.213.7.20 2>/dev/null | grep -q fl-tb0; then fail "root namespace routes into the bed"
else pass "root namespace has no route into the bed"; fi

# 2. down after the pid files are lost (a crashed run): the namespace sweep still finds them all
rm -f "$FL_TB_STATE"/run/*.pid
"$TB" down
left=$(leftovers)
if [ -z "$left" ]; then pass "down after lost pid files leaves nothing"; else fail "left behind: $left"; fi
if "$TB" down; then pass "down is idempotent"; else fail "second down"; fi

# 3. a failed up (binaries required but absent) is cleaned up by down
if FL_TB_AGENTS=1 FL_BUILD=/nonexistent "$TB" up 2>/dev/null; then fail "up without binaries succeeded"
else pass "up with FL_TB_AGENTS=1 and no binaries fails"; fi
pids=$(ns_pids)
"$TB" down
left=$(leftovers)
if [ -z "$left" ]; then pass "down after a failed up leaves nothing"; else fail "left behind: $left"; fi

[ "$fails" = 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all up/down checks passed"
