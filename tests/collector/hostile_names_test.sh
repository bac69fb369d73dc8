#!/usr/bin/env bash
# hostile_names_test.sh - names and text that are not text, end to end with the real binaries.
#
# 1. The agent refuses a tab or an escape sequence in `name` or a probe's name, and a Latin-1
#    byte in a probe name, at --check-config, with FILE:LINE naming the key (the collector would
#    refuse every report carrying them).
# 2. A release file whose first line has a tab is reported escaped ("1.0\tbeta"), with a warning.
# 3. Reports the collector refuses (an older or foreign agent sending a tab in a probe name) are
#    logged once per sender per minute, naming the sender, and listed by `status` with a count
#    under rejected_senders; a host whose earlier reports were accepted shows reports_rejected.
# 4. A report whose probe detail is not text (Latin-1 from a database, a C1 CSI, a bidi
#    override) is accepted: `status --json` is valid JSON (python3 json.load) with U+FFFD and
#    \u escapes, and the table shows the controls escaped.
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"

fl_init
TOOL=$FL_BUILD/tests/collector/coll_tool
[[ -x $TOOL ]] || fl_fail "$TOOL not built"
fl_start_collector collector

# --- 1. refused at config time ----------------------------------------------------------------
check_refused() { # WHAT CONFIG-TEXT EXPECTED-MESSAGE
	local f=$FL_TMP/bad.conf out rc=0
	printf '%b' "$2" >"$f"
	out=$("$FL_AGENT_BIN" -c "$f" --check-config 2>&1) || rc=$?
	assert_eq "$1: exit status" 2 "$rc"
	[[ $out == "$f:$3" ]] || fl_fail "$1: said '$out', want '$f:$3'"
	fl_log "ok: $1 refused: $out"
}
check_refused "a tab in name" '[agent]\nname = web\t01\n' \
	'2: [agent] name: value contains a tab (0x09) at byte 4 (values must be printable UTF-8)'
check_refused "an escape sequence in a probe name" '[agent]\nname = web01\n[tcp "db\e[2J"]\naddress = h:1\n' \
	'3: [tcp "db\x1b[2J"]: probe name contains a control character (0x1b) at byte 3 (names must be printable UTF-8)'
check_refused "a Latin-1 probe name" '[dns "caf\xe9"]\nname = localhost\n' \
	'1: [dns "caf'$'\xef\xbf\xbd''"]: probe name contains invalid UTF-8 (0xe9) at byte 4 (names must be printable UTF-8)'

# --- 2. a release line with a tab --------------------------------------------------------------
fl_agent_conf "$FL_TMP/a1.conf" a1
printf '1.0\tbeta\n' >"$FL_TMP/a1.release"
cat >>"$FL_TMP/a1.conf" <<EOF

[dns "localhost"]
name = localhost
EOF
fl_start_agent a1
release_escaped() {
	fl_cli_json status | jq -e '.hosts[] | select(.host == "a1") | .release == "1.0\\tbeta"'
}
wait_for "a1 reports its release escaped" 20 release_escaped
grep -q 'release file .*a1.release: the first line contains a tab (0x09) at byte 4; reporting the release as "1.0\\tbeta"' \
	"$FL_TMP/agent-a1.log" || fl_fail "no warning about the release line"
fl_log "ok: the agent warns about the release line"

# --- 3. refused reports: named, counted, logged once per sender --------------------------------
"$TOOL" push "$FL_REPORT_URL" report a1 900000 >/dev/null # a1 also sends a bad one below
"$TOOL" push "$FL_REPORT_URL" badname web02 1 30
"$TOOL" push "$FL_REPORT_URL" badname web03 1 5
"$TOOL" push "$FL_REPORT_URL" badname a1 1000000 3
rejected_counted() {
	fl_cli_json status | jq -e '
		(.rejected_senders | map({(.host): .count}) | add) as $c
		| $c.web02 == 30 and $c.web03 == 5 and $c.a1 == 3'
}
wait_for "status lists the refused senders with counts" 20 rejected_counted
S=$(fl_cli_json status)
assert_jq "the reason names the offending probe name" "$S" '
	.rejected_senders[] | select(.host == "web02") | .last_kind == "invalid"
	and (.last_reason | contains("probe name contains a tab (0x09) at byte 4"))
	and (.last_at | test("^[0-9]{4}-"))'
assert_jq "a host with accepted reports shows its refused ones" "$S" '
	.hosts[] | select(.host == "a1") | .reports_rejected == 3'
assert_jq "stats count them as dropped_invalid" "$S" '.stats.dropped_invalid >= 38'
n=$(grep -c 'cannot accept report (invalid, .* so far from web02' "$FL_TMP/collector.log" || true)
assert_eq "web02's 30 refusals make one log line" 1 "$n"
n=$(grep -c 'cannot accept report (invalid, .* so far from web03' "$FL_TMP/collector.log" || true)
assert_eq "web03 gets its own line" 1 "$n"
fl_cli status >"$FL_TMP/status.txt" || true
grep -q '^refused reports from web02: 30, last at .* (invalid: result 0: probe name contains a tab' \
	"$FL_TMP/status.txt" || fl_fail "the status table does not list web02: $(cat "$FL_TMP/status.txt")"
fl_log "ok: the status table lists the refused senders"

# --- 4. text that is not text reaches status valid and escaped --------------------------------
"$TOOL" push "$FL_REPORT_URL" hostile db01 1
has_db01() { fl_cli_json status | jq -e 'any(.hosts[]; .host == "db01")'; }
wait_for "db01's report is accepted" 20 has_db01
fl_cli status --json >"$FL_TMP/status.json" || true
python3 -c 'import json, sys; json.load(open(sys.argv[1], encoding="utf-8", errors="strict"))' \
	"$FL_TMP/status.json" || fl_fail "status --json is not valid UTF-8 JSON"
fl_log "ok: status --json loads with python3 json.load"
S=$(cat "$FL_TMP/status.json")
assert_jq "the detail keeps the text, invalid bytes as U+FFFD, controls as themselves" "$S" '
	.hosts[] | select(.host == "db01") | .probes[0].detail
	== "ERROR: relation \"comm\ufffd\" \u009b2J does not exist \u202etxt.exe"'
grep -q 'u009b2J' "$FL_TMP/status.json" || fl_fail "the C1 CSI is not escaped in the JSON"
grep -q 'u202etxt' "$FL_TMP/status.json" || fl_fail "the bidi override is not escaped in the JSON"
fl_cli status >"$FL_TMP/status.txt" || true
grep -qF 'relation "comm'$'\xef\xbf\xbd''" \x9b2J does not exist \u202etxt.exe' "$FL_TMP/status.txt" ||
	fl_fail "the table does not show the detail escaped: $(grep db01 "$FL_TMP/status.txt")"
if LC_ALL=C grep -q $'\xc2\x9b\|\xe2\x80\xae\|\x1b' "$FL_TMP/status.txt"; then
	fl_fail "raw control bytes reached the table"
fi
fl_log "ok: the status table shows the controls escaped"
