#!/usr/bin/env bash
# http_test.sh - the collector's HTTP listener ([collector] http) with the real binary:
# /metrics passes promtool with a hostile host name; 404, 405, HEAD and an oversized head; a
# slowloris of 100 connections sending a header byte per second (and one of 200, over the
# connection limit) never stops /metrics nor the CLI, and is counted (timeouts); the
# durable counters survive a restart; https:// serves with the TLS files and no client
# certificate; a bad value or a configured port in use is an error.
source "$(dirname "$0")/../lib/harness.sh"

TOOL=$FL_BUILD/tests/collector/coll_tool
fl_init "$FL_COLLECTOR_BIN" "$FL_CLI_BIN" "$TOOL"
command -v promtool >/dev/null || fl_fail "promtool not found: apt-get install prometheus (scripts/install-deps.sh)"
SLOWLORIS=$FL_SOURCE/tests/lib/slowloris.py

fl_start_collector
metrics() { curl -sf --max-time 3 "$FL_HTTP_URL/metrics"; }
# metric_value FILTER: the value of the series whose line starts with FILTER (exact labels).
metric_value() { metrics | awk -v f="$1" 'index($0, f " ") == 1 { print $2 }'; }
has_line() { metrics | grep -qxF "$1"; }

"$TOOL" push "$FL_REPORT_URL" report app1 1 ok
"$TOOL" push "$FL_REPORT_URL" report 'we"ird\host' 1 fail
wait_for "app1's probe in /metrics" 10 has_line 'faultline_probe_success{host="app1",probe="app",kind="http"} 1'
wait_for "the hostile host's probe, escaped" 10 has_line \
	'faultline_probe_success{host="we\"ird\\host",probe="app",kind="http"} 0'
metrics >"$FL_TMP/metrics.txt"
promtool check metrics <"$FL_TMP/metrics.txt" || fl_fail "promtool check metrics failed on $FL_TMP/metrics.txt"
fl_log "ok: promtool check metrics passes"
assert_eq "reports received" 2 "$(metric_value faultline_reports_received_total)"
assert_eq "all six verdict values" 6 "$(grep -c '^faultline_verdict{' "$FL_TMP/metrics.txt")"
assert_eq "content type" "text/plain; version=0.0.4; charset=utf-8" \
	"$(curl -sf -o /dev/null -w '%{content_type}' "$FL_HTTP_URL/metrics")"

# Routes and methods.
assert_eq "unknown path" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$FL_HTTP_URL/nope")"
assert_eq "POST" 405 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$FL_HTTP_URL/metrics")"
assert_eq "HEAD has no body" 0 "$(curl -s -I -o /dev/null -w '%{size_download}' "$FL_HTTP_URL/metrics")"
assert_eq "query string ignored" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$FL_HTTP_URL/metrics?x=1")"
big=$(head -c 9000 /dev/zero | tr '\0' 'a')
assert_eq "a head over 8 KiB" 431 "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $big" "$FL_HTTP_URL/metrics")"

# scrape_ok: /metrics answers in time and the CLI too, while the slowloris runs.
scrape_ok() {
	local t0=$SECONDS out rc=0
	out=$(metrics) || rc=$?
	[[ $rc -eq 0 && $out == *'faultline_host_up{host="app1"}'* ]] ||
		fl_fail "/metrics did not answer within 3 s under a slowloris (curl exit $rc)"
	fl_cli --timeout 3s status --json >/dev/null || [[ $? -eq 1 ]] || fl_fail "the CLI did not answer under a slowloris"
	((SECONDS - t0 <= 4)) || fl_fail "a scrape and a status took $((SECONDS - t0)) s under a slowloris"
}
slowloris_run() { # CONNECTIONS SECONDS
	python3 "$SLOWLORIS" 127.0.0.1 "$FL_HTTP_PORT" "$1" "$2" >"$FL_TMP/slowloris-$1.log" 2>&1 &
	local pid=$! i
	# 100 slow heads held at once (the limit is 128: more are closed and opened again)
	wait_for "the slowloris holds its connections" 5 bash -c \
		"(( \$(ss -Htn state established '( dport = :$FL_HTTP_PORT )' | wc -l) >= 100 ))"
	for i in $(seq 1 "$(($2 - 2))"); do
		scrape_ok
		sleep 1 # the test: a scrape every second while the slowloris runs
	done
	wait "$pid" || fl_fail "slowloris.py failed: $(cat "$FL_TMP/slowloris-$1.log")"
	fl_log "slowloris $1: $(cat "$FL_TMP/slowloris-$1.log")"
}
slowloris_run 100 12
timeouts=$(metric_value faultline_http_timeouts_total)
((timeouts >= 100)) || fl_fail "expected the 100 slow heads to time out (5 s), counted $timeouts"
fl_log "ok: 100 slow connections: /metrics and the CLI answered every second; $timeouts heads timed out"
slowloris_run 200 10
timeouts2=$(metric_value faultline_http_timeouts_total)
((timeouts2 - timeouts >= 200)) || fl_fail "200 slow connections (over the limit of 128): only $((timeouts2 - timeouts)) more heads timed out"
fl_log "ok: 200 slow connections: /metrics and the CLI answered every second; $((timeouts2 - timeouts)) heads timed out"
wait_for "the slow connections are gone" 10 \
	bash -c "[[ \$(curl -sf '$FL_HTTP_URL/metrics' | grep -c '^faultline_http_requests_total') == 1 ]] && (( \$(ss -Htn state established '( sport = :$FL_HTTP_PORT )' | wc -l) <= 2 ))"

# Durable counters survive a restart (written at stop).
received=$(metric_value faultline_reports_received_total)
results=$(metric_value faultline_results_applied_total)
fl_stop collector
fl_start_collector collector2
assert_eq "reports received after the restart" "$received" "$(metric_value faultline_reports_received_total)"
assert_eq "results applied after the restart" "$results" "$(metric_value faultline_results_applied_total)"
"$TOOL" push "$FL_REPORT_URL" report app1 2 ok
wait_for "the count goes on" 10 bash -c "[[ \$(curl -sf '$FL_HTTP_URL/metrics' | awk '/^faultline_reports_received_total /{print \$2}') == $((received + 1)) ]]"
fl_stop collector2

# A bad value, and a configured port already in use, are errors (exit 2 with the key named).
cp "$FL_TMP/collector.conf" "$FL_TMP/bad.conf"
sed -i 's/^http = .*/http = 127.0.0.1:nope/' "$FL_TMP/bad.conf"
rc=0
out=$("$FL_COLLECTOR_BIN" -c "$FL_TMP/bad.conf" --check-config 2>&1) || rc=$?
assert_eq "bad http value exits 2" 2 "$rc"
[[ $out == *"http: '127.0.0.1:nope'"* ]] || fl_fail "no clear error for a bad http value: $out"
python3 -c 'import socket,time,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(60)' \
	"$FL_HTTP_PORT" &
holder=$!
wait_for "the port holder listens" 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$FL_HTTP_PORT"
rc=0
timeout 10 "$FL_COLLECTOR_BIN" -c "$FL_TMP/collector.conf" >"$FL_TMP/inuse.log" 2>&1 || rc=$?
kill "$holder"
[[ $rc -ne 0 && $rc -ne 124 ]] || fl_fail "a configured http port in use did not stop the start (rc $rc)"
grep -q "cannot listen for http" "$FL_TMP/inuse.log" || fl_fail "no clear error: $(cat "$FL_TMP/inuse.log")"
fl_log "ok: a configured http port in use is an error"

# https:// with the collector's TLS files; the client has no certificate.
K="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
(
	cd "$FL_TMP"
	openssl req -x509 $K -keyout ca.key -out ca.crt -days 2 -subj /CN=fl-test-ca
	openssl req $K -keyout srv.key -out srv.csr -subj /CN=collector
	openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -out srv.crt \
		-extfile <(printf "subjectAltName=DNS:collector.test\nextendedKeyUsage=serverAuth")
) >/dev/null 2>&1 || fl_fail "cannot make test certificates"
sed -i "s|^http = .*|http = https://127.0.0.1:$FL_HTTP_PORT|" "$FL_TMP/collector.conf"
printf 'tls_ca = %s\ntls_cert = %s\ntls_key = %s\n' "$FL_TMP/ca.crt" "$FL_TMP/srv.crt" \
	"$FL_TMP/srv.key" >>"$FL_TMP/collector.conf"
fl_start_collector collector3
https_metrics() {
	curl -sf --max-time 3 --cacert "$FL_TMP/ca.crt" --resolve "collector.test:$FL_HTTP_PORT:127.0.0.1" \
		"https://collector.test:$FL_HTTP_PORT/metrics"
}
wait_for "/metrics over https" 10 bash -c "$(declare -f https_metrics); FL_TMP=$FL_TMP FL_HTTP_PORT=$FL_HTTP_PORT https_metrics | grep -q '^faultline_reports_received_total $((received + 1))\$'"
rc=0
curl -sf --max-time 3 "http://127.0.0.1:$FL_HTTP_PORT/metrics" >/dev/null 2>&1 || rc=$?
[[ $rc -ne 0 ]] || fl_fail "plain http answered on the https listener"
fl_log "ok: https serves /metrics without a client certificate; plain http gets nothing"
