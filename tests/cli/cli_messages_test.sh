#!/usr/bin/env bash
# cli_messages_test.sh - messages that must not mislead, against a real collector and agent:
#   - probe-now with no agent connected exits 1 with a sentence, not 0 with an empty table;
#   - verify names a host that is on the release but stale as such ("on it but stale"), not
#     as "not on it";
#   - the agent refuses a config with no probe (exit 2, FILE:0) unless --allow-empty, and a URL
#     with ?password= like one with user:password@.
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"

fl_init
TOOL=$FL_BUILD/tests/collector/coll_tool
[[ -x $TOOL ]] || fl_fail "$TOOL not built"
fl_start_collector collector

# --- probe-now with nobody to ask ----------------------------------------------------------
rc=0
out=$(fl_cli probe-now --timeout 1s 2>&1) || rc=$?
assert_eq "probe-now with no agent: exit status" 1 "$rc"
[[ $out == "no agent is connected to the collector's survey socket: nothing was probed" ]] ||
	fl_fail "probe-now with no agent said: $out"
rc=0
json=$(fl_cli probe-now --timeout 1s --json) || rc=$?
assert_eq "probe-now --json with no agent: exit status" 1 "$rc"
assert_jq "its JSON is empty lists" "$json" '.answered == [] and .missing == [] and .reports == []'

# --- verify and a stale host on the release ------------------------------------------------
"$TOOL" push "$FL_REPORT_URL" report web01 1 >/dev/null # release r1, interval 1 s
web01_stale() { fl_cli_json status | jq -e '.hosts[] | select(.host == "web01") | .stale'; }
wait_for "web01 goes stale" 20 web01_stale
rc=0
out=$(fl_cli verify --release r1 --hosts web01 --timeout 1s 2>&1) || rc=$?
assert_eq "verify with the only host stale: exit status" 2 "$rc"
[[ $out == *"0 of 1 hosts report r1; not ready: web01 (on it but stale)"* ]] ||
	fl_fail "verify said: $out"
fl_log "ok: verify says web01 is on r1 but stale"
rc=0
out=$(fl_cli verify --release r2 --hosts web01,web09 --timeout 1s 2>&1) || rc=$?
[[ $out == *"not ready: web01 (on r1, stale), web09 (unknown host)"* ]] || fl_fail "verify said: $out"
fl_log "ok: verify names the release a stale host is on, and unknown hosts"

# --- agent configs that would run and mislead ------------------------------------------------
printf '[agent]\nname = a\n' >"$FL_TMP/empty.conf"
rc=0
out=$("$FL_AGENT_BIN" -c "$FL_TMP/empty.conf" --check-config 2>&1) || rc=$?
assert_eq "an agent config with no probe: exit status" 2 "$rc"
assert_eq "its message" "$FL_TMP/empty.conf:0: no probes configured: add a probe section such as [http \"app\"] (or run with --allow-empty, or set allow_empty = yes, to report no probes on purpose)" "$out"
out=$("$FL_AGENT_BIN" -c "$FL_TMP/empty.conf" --check-config --allow-empty 2>&1) ||
	fl_fail "--allow-empty still refused: $out"
printf 'allow_empty = yes\n' >>"$FL_TMP/empty.conf"
out=$("$FL_AGENT_BIN" -c "$FL_TMP/empty.conf" --check-config 2>&1) ||
	fl_fail "allow_empty = yes still refused: $out"
printf '\xef\xbb\xbf[agent]\nname = a\n[http "app"]\nurl = http://127.0.0.1:1/?password=hunter2\n' \
	>"$FL_TMP/secret.conf"
rc=0
out=$("$FL_AGENT_BIN" -c "$FL_TMP/secret.conf" --check-config 2>&1) || rc=$?
assert_eq "a URL with ?password=: exit status" 2 "$rc"
assert_eq "its message (and the BOM of line 1 is no error)" "$FL_TMP/secret.conf:4: [http \"app\"] url: must not carry a secret in its query (password=...; it is reported as the target); use header = Authorization: ..." "$out"
