#!/usr/bin/env bash
# notify_verify_test.sh - "verifications page too", with real processes: a collector
# with a webhook (tests/lib/webhook_sink.py), two agents (1 s interval) probing the demo app.
#   1. Both hosts deploy 2.0 and the app answers 503: the collector's automatic post-release
#      verification fails -> one firing notification, verdict "verification", naming the
#      release, the hosts, each reason and rollback readiness (to 1.0).
#   2. A pipeline runs `faultline verify --release 2.0`, which fails too: not notified again.
#   3. The app is fixed and the pipeline's next `faultline verify` passes: the resolved
#      notification (same id) arrives. Two notifications in all.
# `for` is 10 minutes, so the diagnosis' own CODE finding notifies nothing meanwhile.
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"

SINK=$FL_SOURCE/tests/lib/webhook_sink.py
fl_init
SINK_PORT=$(fl_free_port)
fl_start sink python3 "$SINK" --port "$SINK_PORT" --out "$FL_TMP/sink.jsonl"
fl_collector_conf "$FL_TMP/collector.conf"
printf '\n[notify]\nfor = 10m\n\n[webhook "ops"]\nurl = http://127.0.0.1:%s/hook\ntimeout = 2s\n' \
	"$SINK_PORT" >>"$FL_TMP/collector.conf"
echo 1.0 >"$FL_TMP/app.release"
fl_start_app app
fl_start_collector collector
for h in app1 app2; do
	fl_agent_conf "$FL_TMP/$h.conf" "$h" 1.0
	printf '\n[http "app"]\nurl = http://127.0.0.1:%s/health\ntimeout = 2s\n' "$FL_APP_PORT" \
		>>"$FL_TMP/$h.conf"
	fl_start_agent "$h"
done

# notifications: the sink's records as one JSON array.
notifications() {
	if [[ -e $FL_TMP/sink.jsonl ]]; then
		jq -sc . "$FL_TMP/sink.jsonl"
	else
		echo '[]'
	fi
}

# sink_has N: at least N notifications arrived.
sink_has() { (($(notifications | jq length) >= $1)); }

# on_release R: both hosts report release R.
on_release() {
	fl_cli_json status | jq -e --arg r "$1" '[.hosts[] | select(.release == $r)] | length == 2' \
		>/dev/null
}

# automatic_verification R RESULT: status shows the collector's own verification of R.
automatic_verification() {
	fl_cli_json status | jq -e --arg r "$1" --arg x "$2" \
		'any(.verifications[]; .release == $r and .result == $x and .automatic)' >/dev/null
}

wait_for "both hosts on 1.0" 30 on_release 1.0

# --- 1. an automatic verification that fails pages -----------------------------------------------
fl_app_mode app 503
for h in app1 app2; do echo 2.0 >"$FL_TMP/$h.release"; done
wait_for "both hosts on 2.0" 30 on_release 2.0
wait_for "the automatic verification of 2.0 failed" 60 automatic_verification 2.0 failed
wait_for "its notification arrived" 30 sink_has 1
N=$(notifications)
assert_jq "one firing: verdict verification, release 2.0, both hosts" "$N" '
	length == 1 and (.[0].body | .status == "firing" and .verdict == "verification"
		and .release == "2.0" and (.hosts | sort) == ["app1", "app2"]
		and (.summary | test("release 2.0 failed verification")) and .ended == null)'
assert_jq "each reason in the evidence, and rollback readiness to 1.0" "$N" '
	.[0].body.evidence | any(test("^probe app[12] app: ")) and any(test("^rollback to 1.0: "))'
ID=$(jq -r '.[0].body.id' <<<"$N")

# --- 2. a pipeline's failing verify is not notified twice ------------------------------------------
rc=0
fl_cli verify --release 2.0 --rounds 3 --window 500ms --timeout 30s >/dev/null || rc=$?
assert_eq "the pipeline's verify fails" 1 "$rc"
fl_log "waiting 3 s: nothing more may arrive"
sleep 3 # a negative check: a second notification would be queued and sent within this window
assert_eq "still one notification" 1 "$(notifications | jq length)"

# --- 3. the pass that follows the failure is notified -----------------------------------------------
fl_app_mode app ok
wait_for "the app answers again on both hosts" 30 bash -c \
	"\"$FL_CLI_BIN\" -C \"$FL_CONTROL\" status --json | jq -e '[.hosts[].probes[] | select(.status == \"ok\")] | length == 2' >/dev/null"
rc=0
fl_cli verify --release 2.0 --rounds 3 --window 500ms --timeout 30s >/dev/null || rc=$?
assert_eq "the pipeline's verify passes" 0 "$rc"
wait_for "the resolved notification arrived" 30 sink_has 2
N=$(notifications)
assert_jq "resolved, same id, ended set; two notifications in all" "$N" --arg id "$ID" '
	length == 2 and (.[1].body | .status == "resolved" and .id == $id and .verdict == "verification"
		and (.ended | test("^[0-9]{4}-"))) and (.[0].event_id != .[1].event_id)'
