#!/usr/bin/env bash
# confd.sh - config that config-management tools can drive, on the real binaries: the collector
# and the agent read `include = conf.d/*.conf` (one file per probe, sorted), lines far beyond
# inih's old 200 bytes, every error as FILE:LINE (of the included file), duplicates across files
# naming both places, and the agent's --check-config validating its expectations file.
source "${FL_SOURCE:?}/tests/lib/harness.sh"
fl_init

C=$FL_TMP/collector.conf
mkdir -p "$FL_TMP/coll.d" "$FL_TMP/agent.d"

# check_fails WHAT BINARY CONF EXPECTED: --check-config exits 2 and prints exactly EXPECTED
# (with $FL_TMP shown as T).
check_fails() {
	local what=$1 bin=$2 conf=$3 want=$4 out rc=0
	out=$("$bin" -c "$conf" --check-config 2>&1) || rc=$?
	out=${out//$FL_TMP/T}
	[[ $rc -eq 2 ]] || fl_fail "$what: exit $rc (want 2): $out"
	[[ $out == "$want" ]] || fl_fail "$what: got
$out
want
$want"
	fl_log "ok: $what"
}

# --- the collector: conf.d and a long line ----------------------------------------------------
fl_collector_conf "$FL_TMP/coll.base"
# The state path (a directory name of 250 bytes) makes its line longer than 200 bytes.
LONG=$FL_TMP/$(printf 'd%.0s' $(seq 250))
mkdir -p "$LONG"
FL_STATE=$LONG/collector.db
{
	echo "include = coll.d/*.conf"
	echo "[collector]"
	echo "state = $FL_STATE"
} >"$C"
grep -v '^state = ' "$FL_TMP/coll.base" >"$FL_TMP/coll.d/10-net.conf"
printf '[collector]\nmax_hosts = 10\n' >"$FL_TMP/coll.d/20-limits.conf"
out=$("$FL_COLLECTOR_BIN" -c "$C" --check-config 2>&1) || fl_fail "collector --check-config: $out"
fl_start_collector
S=$(fl_cli_json status)
assert_jq "the collector listens on the control socket set in coll.d/10-net.conf" "$S" '.hosts == []'
[[ -e $FL_STATE ]] || fl_fail "the collector did not use the state path of the long line"
fl_log "ok: the state path of a ${#FL_STATE}-byte value is used"

# --- the agent: one probe per file ------------------------------------------------------------
A=$FL_TMP/a1.conf
fl_agent_conf "$FL_TMP/a1.agent" a1
{
	echo "; the [agent] section here, the probes in agent.d (dropped by a tool)"
	echo "include = agent.d/*.conf"
	cat "$FL_TMP/a1.agent"
} >"$A"
REPORT_PORT=${FL_REPORT_URL##*:}
printf '[tcp "collector"]\naddress = 127.0.0.1:%s\n' "$REPORT_PORT" >"$FL_TMP/agent.d/20-collector.conf"
# A URL line of about 260 bytes (reported targets are capped at 256 bytes on the wire).
APP_URL=http://127.0.0.1:$(fl_free_port)/$(printf 'p%.0s' $(seq 230))
printf '[http "app"]\nurl = %s\n' "$APP_URL" >"$FL_TMP/agent.d/10-app.conf"
echo "not a config" >"$FL_TMP/agent.d/README"
out=$("$FL_AGENT_BIN" -c "$A" --check-config 2>&1) || fl_fail "agent --check-config: $out"
[[ $out == "$A: ok" ]] || fl_fail "agent --check-config said: $out"
fl_start_agent a1
probes_listed() {
	local s
	s=$(fl_cli_json status) || return 1
	jq_true "$s" '[.hosts[] | select(.host == "a1") | .probes[] | .name] == ["app", "collector"]'
}
wait_for "a1 reports the probes of both agent.d files, in sorted order" 20 probes_listed
S=$(fl_cli_json status)
assert_jq "the probe from 20-collector.conf is ok" "$S" \
	'.hosts[0].probes[] | select(.name == "collector") | .status == "ok"'
assert_jq "the long URL line of 10-app.conf arrived whole" "$S" --arg u "$APP_URL" \
	'.hosts[0].probes[] | select(.name == "app") | .target == $u'

# --- errors: every one, in the file where it is -----------------------------------------------
printf '[tcp "collector"]\naddress = 127.0.0.1:1\n' >"$FL_TMP/agent.d/30-dup.conf"
printf '[http "web"]\nurll = http://x/\ninclude = /etc/*.conf\n' >"$FL_TMP/agent.d/40-bad.conf"
check_fails "duplicate probe across files (both places) and every error of the included files" \
	"$FL_AGENT_BIN" "$A" \
	'T/agent.d/30-dup.conf:1: duplicate probe name "collector" (first defined at T/agent.d/20-collector.conf:1)
T/agent.d/40-bad.conf:2: [http "web"] urll: unknown key (http probes take url, expect_status, body_contains, timeout, slow, tls_verify, ca_file, cert_warn, header)
T/agent.d/40-bad.conf:3: include: not allowed in an included file (only the main config file includes)'
rm "$FL_TMP/agent.d/30-dup.conf" "$FL_TMP/agent.d/40-bad.conf"

printf '[collector]\nmax_hosts = 20\nbogus = 1\n' >"$FL_TMP/coll.d/30-again.conf"
check_fails "collector: a key set in two files names both; every error" "$FL_COLLECTOR_BIN" "$C" \
	'T/coll.d/30-again.conf:2: max_hosts: already set at T/coll.d/20-limits.conf:2
T/coll.d/30-again.conf:3: unknown key [collector] bogus'
rm "$FL_TMP/coll.d/30-again.conf"

# --- --check-config validates the expectations file the agent config names ------------------
printf '[postgres "orders"]\ntabel = public.orders\ntable = public.orders: SELEKT\n' \
	>"$FL_TMP/release.expect"
sed -i "/^\[agent\]/a expectations = $FL_TMP/release.expect" "$A"
check_fails "--check-config reports every error of the expectations file" "$FL_AGENT_BIN" "$A" \
	'T/release.expect:2: unknown key tabel (expected schema, table, column, sequence or function)
T/release.expect:3: table: unknown privilege SELEKT (allowed: SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER)'
printf '[postgres "orders"]\ntable = public.orders: SELECT\n' >"$FL_TMP/release.expect"
out=$("$FL_AGENT_BIN" -c "$A" --check-config 2>&1) || fl_fail "valid expectations refused: $out"
rm "$FL_TMP/release.expect"
check_fails "--check-config: a missing expectations file" "$FL_AGENT_BIN" "$A" \
	'T/release.expect: cannot open: No such file or directory'
fl_log "PASS"
