#!/usr/bin/env bash
# agent_restart_test.sh - "lose nothing" across the agent's own restart: rounds made while no
# collector listened survive a kill -9 of the agent in its spool file (state_dir/spool) and
# reach the collector once each, in order, after the agent started again.
#
# The agent probes flip_app.py, so every round is one transition in history. No collector runs:
# the agent makes rounds and is killed -9 right after a round reached its spool file; it starts
# again (a new boot_id) and makes more; only then does the collector start. Its history must
# hold every round of both starts exactly once, in order, at its own time (rel_check_rounds,
# with room for the restart between two rounds). The spool file is 0600.
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"
source "$FL_SOURCE/tests/reliability/lib.sh"

fl_init
rel_start_flip
fl_collector_conf "$FL_TMP/collector.conf" # not started yet
SPOOL=$FL_TMP/a1.state/spool

# --- first start: rounds with no collector, then kill -9 -------------------------------------------
rel_flip_agent a1
wait_for "5 rounds made with no collector" 20 at_least_served 5
# kill -9 right after the last round reached the spool file (its records == rounds served), in
# one python process so that no round slips in between.
python3 - "$SPOOL" "$FLIP_COUNT" "$(fl_pid agent-a1)" <<'EOF' ||
import os, signal, struct, sys, time
spool, count, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
def records():  # spool_file.h: a 24-byte header, then records of a 16-byte head and a payload
    with open(spool, "rb") as f:
        b = f.read()
    n, off = 0, 24
    while off + 16 <= len(b):
        off += 16 + struct.unpack_from("<I", b, off)[0]
        n += off <= len(b)
    return n
deadline = time.time() + 10
while time.time() < deadline:
    if records() == int(open(count).read()):
        os.kill(pid, signal.SIGKILL)
        sys.exit(0)
    time.sleep(0.02)
sys.exit("the spool file never held every round made")
EOF
	fl_fail "cannot catch the agent with every round in its spool file"
fl_stop agent-a1 KILL
first=$(served)
fl_log "first start: $first rounds, killed -9"
assert_eq "the spool file is 0600" 600 "$(stat -c %a "$SPOOL")"

# --- second start: more rounds, still no collector ------------------------------------------------
fl_start_agent a1
wait_for "the second start found the first one's rounds" 10 grep -q \
	"$first reports of an earlier start found in the spool file" "$FL_TMP/agent-a1.log"
wait_for "3 more rounds" 20 at_least_served $((first + 3))

# --- the collector starts: every round of both starts, once, in order --------------------------------
fl_start_collector collector
wait_for "the collector has the spooled rounds" 30 rel_flips_at_least a1 $((first - 1))
wait_for "3 live rounds" 20 at_least_served $(($(served) + 3))
fl_stop agent-a1 TERM
# Consecutive rounds 0.1-5 s apart: the restart between the two starts' rounds takes its time.
rel_check_rounds a1 100000 5000000
S=$(fl_cli_json status)
assert_jq "the spool dropped nothing" "$S" 'all(.hosts[] | select(.host == "a1"); .spool_dropped == 0)'
