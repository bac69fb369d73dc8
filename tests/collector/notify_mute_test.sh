#!/usr/bin/env bash
# notify_mute_test.sh - muting notifications, with real processes: a collector with a webhook
# (tests/lib/webhook_sink.py, `for = 2s`), two agents (1 s interval), each probing its own demo
# app.
#   1. `faultline mute --host app1 --for 30m --reason ...`; app1's app answers 503: the finding
#      is diagnosed and shown muted by `diagnose` (human and JSON) but nothing is notified.
#   2. The mute is listed (`mute --list`, human and JSON) and survives a collector restart.
#   3. `faultline unmute ID`: the finding, held all along, is notified at once.
#   4. A mute ends by itself (--for 2s); bad input gets a clear error and exit 2; unmuting an
#      unknown id exits 1.
# FL_TEST_STATE_PG=1 runs it with the state on a real PostgreSQL (the harness starts it).
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"

SINK=$FL_SOURCE/tests/lib/webhook_sink.py
fl_init
SINK_PORT=$(fl_free_port)
fl_start sink python3 "$SINK" --port "$SINK_PORT" --out "$FL_TMP/sink.jsonl"
fl_collector_conf "$FL_TMP/collector.conf"
printf '\n[notify]\nfor = 2s\n\n[webhook "ops"]\nurl = http://127.0.0.1:%s/hook\ntimeout = 2s\n' \
	"$SINK_PORT" >>"$FL_TMP/collector.conf"
fl_start_collector collector
for h in app1 app2; do
	echo 1.0 >"$FL_TMP/app-$h.release"
	fl_start_app "app-$h"
	fl_agent_conf "$FL_TMP/$h.conf" "$h" 1.0
	printf '\n[http "app"]\nurl = http://127.0.0.1:%s/health\ntimeout = 2s\n' "$FL_APP_PORT" \
		>>"$FL_TMP/$h.conf"
	fl_start_agent "$h"
done

notified() {
	if [[ -e $FL_TMP/sink.jsonl ]]; then
		jq -s length "$FL_TMP/sink.jsonl"
	else
		echo 0
	fi
}
sink_has() { (($(notified) >= $1)); }

# app1_finding_muted YES|NO: diagnose --json has a finding about app1 only, muted or not.
app1_finding() {
	local json
	json=$(fl_cli_json diagnose) || return 1
	jq -e --argjson m "$1" 'any(.findings[]; .hosts == ["app1"] and .muted == $m)' <<<"$json" \
		>/dev/null || {
		jq -c '[.findings[] | {verdict, hosts, muted, muted_by}]' <<<"$json"
		return 1
	}
}

wait_for "both hosts report ok" 30 bash -c "\"$FL_CLI_BIN\" -C \"$FL_CONTROL\" status >/dev/null"

# --- 1. muted: diagnosed, shown muted, not notified -------------------------------------------
out=$(fl_cli mute --host app1 --for 30m --reason "kernel upgrade")
fl_log "$out"
[[ $out =~ ^muted\ host\ app1\ until\ .*\(mute\ ([0-9]+)\) ]] || fl_fail "mute said: $out"
ID=${BASH_REMATCH[1]}
fl_app_mode app-app1 503
wait_for "app1's finding diagnosed, muted" 30 app1_finding true
D=$(fl_cli_json diagnose)
assert_jq "diagnose --json names the mute" "$D" --argjson id "$ID" \
	'any(.findings[]; .hosts == ["app1"] and .muted and .muted_by == $id)'
human=$(fl_cli diagnose || true)
grep -q "MUTED:.*mute $ID" <<<"$human" || fl_fail "diagnose does not show the finding muted: $human"
fl_log "ok: diagnose shows it MUTED"
fl_log "waiting 4 s (twice for): nothing may be notified"
sleep 4 # a negative check: unmuted, it would have been notified after `for` (2 s)
assert_eq "a muted host's finding notifies nothing" 0 "$(notified)"

# --- 2. listed, and kept across a restart -------------------------------------------------------
list=$(fl_cli mute --list)
grep -qE "^$ID +host app1 .*kernel upgrade$" <<<"$list" || fl_fail "mute --list: $list"
fl_log "ok: mute --list shows it"
fl_stop collector
fl_start_collector collector
L=$(fl_cli_json mute --list)
assert_jq "the mute survives a restart" "$L" --argjson id "$ID" '
	.mutes | length == 1 and .[0].id == $id and .[0].host == "app1" and .[0].target == ""
	and .[0].reason == "kernel upgrade" and (.[0].until | test("^[0-9]{4}-"))'
wait_for "still diagnosed muted after the restart" 30 app1_finding true
assert_eq "still nothing notified" 0 "$(notified)"

# --- 3. unmuted: notified --------------------------------------------------------------------
U=$(fl_cli unmute --json "$ID")
assert_jq "unmute ends it" "$U" --argjson id "$ID" '.unmuted and .mutes[0].id == $id'
wait_for "the finding is notified once unmuted" 20 sink_has 1
assert_jq "the firing is app1's finding" "$(jq -sc . "$FL_TMP/sink.jsonl")" \
	'.[0].body.status == "firing" and .[0].body.hosts == ["app1"]'
wait_for "diagnose no longer shows it muted" 10 app1_finding false

# --- 4. expiry and bad input -------------------------------------------------------------------
fl_cli mute --target db.example:5432 --for 2s --reason "failover drill" >/dev/null
assert_jq "a target mute is listed" "$(fl_cli_json mute --list)" \
	'[.mutes[] | .target] == ["db.example:5432"]'
wait_for "it ends by itself" 10 bash -c \
	"\"$FL_CLI_BIN\" -C \"$FL_CONTROL\" mute --list --json | jq -e '.mutes == []' >/dev/null"
rc=0
fl_cli unmute "$ID" >/dev/null || rc=$?
assert_eq "unmuting an ended mute exits 1" 1 "$rc"
expect_usage() {
	local what=$1 want=$2 rc=0 err
	shift 2
	err=$(fl_cli "$@" 2>&1 >/dev/null) || rc=$?
	[[ $rc -eq 2 && $err == *"$want"* ]] || fl_fail "$what: exit $rc, said: $err"
	fl_log "ok: $what -> exit 2: $err"
}
expect_usage "no reason" "--reason" mute --host app1 --for 5m
expect_usage "no duration" "--for" mute --host app1 --reason x
expect_usage "31 days" "--for" mute --host app1 --for 31d --reason x
expect_usage "host and target" "--host H or --target T" mute --host a --target b --for 5m --reason x
expect_usage "unmute a word" "not a mute id" unmute abc
expect_usage "a control character in the reason (refused by the collector)" "printable" \
	mute --host app1 --for 5m --reason "$(printf 'a\033[2Jb')"
