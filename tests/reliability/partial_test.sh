#!/usr/bin/env bash
# partial_test.sh - peers that send a message header and most of the body, then stall, cannot
# make the collector hold unbounded memory. nng 1.5.2 has no deadline for a message in
# progress, so the bound is recv_max x max_connections per listener (docs/security.md
# "Limits"). Hand-written SP peers (raw_peer partial) stall on the report and survey
# listeners; a real agent connected before them keeps being served, the collector's RSS grows
# by less than REL_PARTIAL_RSS_MIB, and the connections over the limit are counted.
#   Before: 300 connections announcing 1.9 MB each pinned ~570 MB (the report socket took 2 MiB
#   messages, from any number of connections).
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"

RAW=$FL_BUILD/tests/collector/raw_peer
# Bound: 2 listeners x 100 connections x 256 KiB = 50 MiB, plus allocator slack (ASan builds).
# Before the limits the second phase alone pinned 1200 x 250 KB = 300 MB.
GROWTH_MAX_MIB=${REL_PARTIAL_RSS_MIB:-110}
fl_init "$FL_COLLECTOR_BIN" "$FL_CLI_BIN" "$FL_AGENT_BIN" "$RAW"
# ASan keeps freed memory in quarantine (256 MiB by default); cap it so RSS measures ours.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16

fl_collector_conf "$FL_TMP/collector.conf"
cat >>"$FL_TMP/collector.conf" <<-EOC
	recv_max = 256KiB
	max_connections = 100
EOC
fl_start_collector collector
CPID=$(fl_pid collector)
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$CPID/status"; }

fl_start_app app
fl_agent_conf "$FL_TMP/web1.conf" web1
cat >>"$FL_TMP/web1.conf" <<-EOC

	[http "app"]
	url = http://127.0.0.1:$FL_APP_PORT/health
	timeout = 800ms
EOC
fl_start_agent web1
wait_for "web1 reports" 30 bash -c "
	j=\$('$FL_CLI_BIN' -C '$FL_CONTROL' status --json); jq -e '.hosts[] | select(.host == \"web1\")' <<<\"\$j\""
applied() { fl_cli_json status | jq '.stats.reports_applied'; }
base=$(rss)
fl_log "collector RSS before the stalled peers: $((base / 1024)) MiB"

# peak_during NAME: the collector's peak RSS (KiB) while NAME runs, in $peak.
peak_during() {
	peak=0
	while fl_running "$1"; do
		local r
		r=$(rss)
		((r > peak)) && peak=$r
		sleep 0.2
	done
}

# 1. Messages over recv_max: nng refuses them as soon as the length arrives; nothing is pinned.
fl_start big "$RAW" partial "$FL_REPORT_URL" 300 1900000 push 8
peak_during big
fl_log "big: $(cat "$FL_TMP/big.log"); peak RSS $((peak / 1024)) MiB"
assert_jq "peers announcing 1.9 MB were disconnected" "$(tail -1 "$FL_TMP/big.log" | sed 's/\([a-z_]*\)=\([0-9]*\)/"\1":\2/g; s/ /,/g; s/^/{/; s/$/}/')" \
	'.closed_by_peer >= 300'
(((peak - base) / 1024 < GROWTH_MAX_MIB)) ||
	fl_fail "RSS grew by $(((peak - base) / 1024)) MiB with oversize partial messages (bound $GROWTH_MAX_MIB MiB)"

# 2. Messages under recv_max, 600 connections on each agent listener: at most 100 each are let
# in, each pinning at most 256 KiB. The agent, connected before, keeps being served.
before=$(applied)
fl_start stall "$RAW" partial "$FL_REPORT_URL" 600 250000 push 10
fl_start stall_survey "$RAW" partial "$FL_SURVEY_URL" 600 250000 respondent 10
peak_during stall
fl_log "stall: $(cat "$FL_TMP/stall.log"); stall_survey: $(cat "$FL_TMP/stall_survey.log" 2>/dev/null); peak RSS $((peak / 1024)) MiB"
(((peak - base) / 1024 < GROWTH_MAX_MIB)) ||
	fl_fail "RSS grew by $(((peak - base) / 1024)) MiB with 600 stalled connections (bound $GROWTH_MAX_MIB MiB)"
fl_log "ok: RSS grew by $(((peak - base) / 1024)) MiB (bound $GROWTH_MAX_MIB MiB)"
S=$(fl_cli_json status)
assert_jq "connections over max_connections were refused and counted" "$S" '.stats.connections_refused >= 1000'
assert_jq "web1 was served during the stall (fresh, not stale)" "$S" \
	'.hosts[] | select(.host == "web1") | .stale == false and .age_s < 3'
after=$(applied)
((after >= before + 5)) || fl_fail "web1's reports stopped being applied during the stall ($before -> $after)"
fl_log "ok: $((after - before)) reports applied during the stall"
grep -q 'connections open, the most allowed' "$FL_TMP/collector.log" || fl_fail "refusals not logged"
lines=$(grep -c 'connections open, the most allowed' "$FL_TMP/collector.log")
((lines <= 6)) || fl_fail "$lines log lines about refused connections in ~20 s (rate limit: 10 s per listener)"
