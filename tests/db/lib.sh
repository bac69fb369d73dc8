# lib.sh - helpers shared by the database probe tests (db_probes_test.sh, db_states_test.sh):
# one probe round through the dbprobe tool, jq assertions on its JSON, and polling. The caller
# sets T (its temp dir) and PROBE (the dbprobe binary) and reports FAILS at the end.
# shellcheck shell=bash

FAILS=0
N=0
fail() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}

# probe OUT KIND NAME ARGS...: one round; JSON in $T/OUT.json, stderr in $T/OUT.err, exit code
# in $T/OUT.rc. Everything is also appended to $T/all.log (for checks over all output, such as
# the password check).
probe() {
	local out=$1
	shift
	"$PROBE" "$@" >"$T/$out.json" 2>"$T/$out.err"
	echo $? >"$T/$out.rc"
	{ cat "$T/$out.json" "$T/$out.err"; } >>"$T/all.log"
}

# check OUT 'jq boolean expression' 'what': asserts on the result of a probe() call.
check() {
	N=$((N + 1))
	if ! jq -e "$2" "$T/$1.json" >/dev/null 2>&1; then
		fail "$1: $3"
		echo "  expression: $2" >&2
		echo "  got: $(cat "$T/$1.json" "$T/$1.err")" >&2
		return 1
	fi
	echo "ok $N - $1: $3"
}

# wait_for SECS WANT CMD...: polls every 50 ms, at most SECS s, until CMD's output equals WANT.
wait_for() {
	local secs=$1 want=$2 i
	shift 2
	for ((i = 0; i < secs * 20; i++)); do
		[ "$("$@" 2>/dev/null)" = "$want" ] && return 0
		sleep 0.05
	done
	return 1
}
