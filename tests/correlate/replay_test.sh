#!/usr/bin/env bash
# replay_test.sh - replay_trace.sh rebuilds recorded views faithfully: over two diagnoses
# recorded in a 30 % hold of the testbed's row 8 on a busy machine (tests/correlate/data), the
# engine as built gives what the collector answered then, including the second line's extra
# host finding (app1's own app slow: "network app1,app2"). A replay that drifts from the trace
# (a field misread, the bit history rebuilt wrongly) would make every measurement made with it
# wrong, so this fails first. (A rule change that changes these answers changes `want` too:
# say why in its commit.)
set -uo pipefail
SRC=${FL_SOURCE:?set by ctest}
export FL_BUILD=${FL_BUILD:?set by ctest}
out=$("$SRC/tests/correlate/replay_trace.sh" "$SRC/tests/correlate/data/loss-30-busy.jsonl") || {
	echo "FAIL replay_trace.sh exited $?"
	exit 1
}
echo "$out"
want=$'1796057052316754 network app2 | network app2\n1796057068348449 network app1,app2 | network app1,app2'
if [ "$out" != "$want" ]; then
	echo "FAIL replayed diagnoses differ from the recorded ones; want:"
	echo "$want"
	exit 1
fi
echo "PASS both recorded diagnoses replayed as answered"
