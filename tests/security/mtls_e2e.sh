#!/usr/bin/env bash
# mtls_e2e.sh - authentication with the real binaries on loopback.
#
# One collector with every socket on tls+tcp:// (reports, survey, control) and keys_dir, and
# a throwaway PKI from gen_certs.sh. Checked:
#   - agents with a client certificate of the CA and their own signing key: reports arrive
#     (status shows the hosts) and probe-now answers come back signed;
#   - an agent with a certificate of another CA, and a plain tcp:// agent (no certificate at
#     all) never get a report in (status shows no such host); the collector keeps serving;
#   - the spoof: an agent with a valid certificate calling itself host-b but signing with
#     host-a's key is dropped and counted as dropped_unauthenticated; host-b never appears;
#     an unsigned agent is dropped the same way; then host-b with its own key is accepted;
#   - the CLI over tls+tcp:// works with its certificate and exits 2 without one or with one
#     of another CA;
#   - a plain tcp:// control address that is not loopback is refused by --check-config.
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"

fl_init
command -v openssl >/dev/null || fl_fail "openssl not found: apt-get install openssl"
PKI=$FL_TMP/pki
bash "$FL_SOURCE/tests/security/gen_certs.sh" "$PKI"
# A third host key, for the agent whose only fault is its TLS certificate.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/host-c.key" 2>/dev/null
openssl pkey -in "$PKI/host-c.key" -pubout -out "$PKI/host-c.pub" 2>/dev/null
chmod 600 "$PKI/host-c.key"
mkdir -p "$FL_TMP/keys"
cp "$PKI/host-a.pub" "$PKI/host-b.pub" "$PKI/host-c.pub" "$FL_TMP/keys/"

P_REPORT=$(fl_free_port)
P_SURVEY=$(fl_free_port)
P_CONTROL=$(fl_free_port)
FL_CONTROL=tls+tcp://127.0.0.1:$P_CONTROL
{
	echo "[collector]"
	echo "listen = tls+tcp://127.0.0.1:$P_REPORT"
	echo "survey = tls+tcp://127.0.0.1:$P_SURVEY"
	echo "control = $FL_CONTROL"
	echo "state = $FL_TMP/collector.db"
	echo "log_level = info"
	echo "tls_ca = $PKI/ca.crt"
	echo "tls_cert = $PKI/server.crt"
	echo "tls_key = $PKI/server.key"
	echo "keys_dir = $FL_TMP/keys"
} >"$FL_TMP/collector.conf"
# The CLI's TLS settings through the environment (the flags are tested below).
export FAULTLINE_TLS_CA=$PKI/ca.crt FAULTLINE_TLS_CERT=$PKI/client.crt \
	FAULTLINE_TLS_KEY=$PKI/client.key FAULTLINE_TLS_SERVER_NAME=collector
"$FL_COLLECTOR_BIN" -c "$FL_TMP/collector.conf" --check-config >/dev/null ||
	fl_fail "the TLS collector config does not pass --check-config"
fl_start_collector collector

# agent_conf FILE SCHEME CERT KEY SIGN_KEY: an agent config (name $AGENT_NAME, else FILE) with
# one DNS probe, checked with --check-config.
agent_conf() {
	local file=$1 scheme=$2 cert=$3 key=$4 sign=$5
	mkdir -p "$FL_TMP/$file.state"
	{
		echo "[agent]"
		echo "name = ${AGENT_NAME:-$file}"
		echo "collector = $scheme://127.0.0.1:$P_REPORT"
		echo "survey = $scheme://127.0.0.1:$P_SURVEY"
		echo "interval = 500ms"
		echo "state_dir = $FL_TMP/$file.state"
		echo "log_level = info"
		if [[ $scheme == tls+tcp ]]; then
			echo "tls_ca = $PKI/ca.crt"
			echo "tls_cert = $cert"
			echo "tls_key = $key"
			echo "tls_server_name = collector"
		fi
		[[ -z $sign ]] || echo "sign_key = $sign"
		echo
		echo '[dns "localhost"]'
		echo "name = localhost"
	} >"$FL_TMP/$file.conf"
	"$FL_AGENT_BIN" -c "$FL_TMP/$file.conf" --check-config >/dev/null ||
		fl_fail "agent config $file rejected: $("$FL_AGENT_BIN" -c "$FL_TMP/$file.conf" --check-config 2>&1)"
}

status_json() { fl_cli_json status; }
has_host() { jq -e --arg h "$1" 'any(.hosts[]; .host == $h)' <<<"$(status_json)" >/dev/null; }
unauth() { jq '.stats.dropped_unauthenticated' <<<"$(status_json)"; }
unauth_at_least() { [[ $(unauth) -ge $1 ]]; }

# --- good agents ---------------------------------------------------------------------------
agent_conf host-a tls+tcp "$PKI/client.crt" "$PKI/client.key" "$PKI/host-a.key"
fl_start_agent host-a
wait_for "host-a's signed report over mutual TLS arrives" 20 has_host host-a
assert_eq "nothing dropped as unauthenticated yet" 0 "$(unauth)"

# probe-now over TLS: with keys_dir the answer is accepted only when signed by host-a.
pn=$(fl_cli probe-now --timeout 5s --json || true)
assert_jq "probe-now answer from host-a is accepted (signed, over TLS)" "$pn" \
	'.answered | index("host-a") != null'

# --- agents that must never get in -----------------------------------------------------------
# Another CA's certificate (its signing key IS trusted: only TLS stops it).
agent_conf host-c tls+tcp "$PKI/other-client.crt" "$PKI/other-client.key" "$PKI/host-c.key"
fl_start_agent host-c
# No certificate at all: a plain tcp:// agent dialing the TLS port.
agent_conf host-n tcp "" "" "$PKI/host-c.key"
fl_start_agent host-n
# A TLS peer presenting no client certificate is refused in the handshake.
if timeout 5 openssl s_client -connect "127.0.0.1:$P_REPORT" -CAfile "$PKI/ca.crt" \
	-servername collector </dev/null >"$FL_TMP/s_client.log" 2>&1 &&
	! grep -qiE 'alert|error' "$FL_TMP/s_client.log"; then
	fl_fail "a TLS client without a certificate completed the handshake: $(tail -5 "$FL_TMP/s_client.log")"
fi
fl_log "ok: openssl s_client without a client certificate is refused"

# --- the spoof: valid certificate, host-b's name, host-a's key -------------------------------
AGENT_NAME=host-b agent_conf spoof tls+tcp "$PKI/client.crt" "$PKI/client.key" "$PKI/host-a.key"
fl_start_agent spoof
wait_for "the spoofed reports are counted as dropped_unauthenticated" 20 unauth_at_least 3
# Unsigned reports from a certified agent are refused as well.
before=$(unauth)
agent_conf host-u tls+tcp "$PKI/client.crt" "$PKI/client.key" ""
fl_start_agent host-u
wait_for "unsigned reports are counted as dropped_unauthenticated" 20 unauth_at_least $((before + 3))
# The refused agents run several more rounds (interval 500ms) while nothing of theirs gets in.
t_end=$((SECONDS + 3))
while ((SECONDS < t_end)); do
	! has_host host-b || fl_fail "host-b appeared: a report signed with host-a's key was accepted"
	sleep 0.2
done
pn=$(fl_cli probe-now --timeout 3s --json || true)
assert_jq "probe-now: only host-a's signed answer is accepted (not host-b's, host-u's)" "$pn" \
	'.answered == ["host-a"]'
# The spoofing agent's respondent may not have dialed the survey socket yet on a loaded
# machine: survey again until its answer has arrived and been refused.
spoof_answer_refused() {
	fl_cli probe-now --timeout 2s --json >/dev/null 2>&1 || true
	grep -q 'cannot accept survey answer (bad_signature' "$FL_TMP/collector.log"
}
wait_for "the spoofed survey answer is refused as bad_signature" 20 spoof_answer_refused
js=$(status_json)
assert_jq "spoofed host-b, unsigned host-u, other-CA host-c, plain-tcp host-n: none appears" "$js" \
	'[.hosts[].host] - ["host-a"] == []'
assert_jq "the refused reports are counted" "$js" '.stats.dropped_unauthenticated >= 6'
assert_jq "host-a is still reporting (collector keeps serving)" "$js" \
	'any(.hosts[]; .host == "host-a" and .stale == false)'
grep -q 'cannot accept report (bad_signature' "$FL_TMP/collector.log" ||
	fl_fail "the collector did not log the bad signature"
for a in host-c host-n; do
	! grep -q 'connected to collector' "$FL_TMP/agent-$a.log" ||
		fl_fail "agent $a got a connection to the collector: $(grep 'connected' "$FL_TMP/agent-$a.log" | head -2)"
done
fl_log "ok: the other-CA and plain-tcp agents never got a connection"

# --- host-b with its own key is accepted -----------------------------------------------------
fl_stop agent-spoof
AGENT_NAME=host-b agent_conf real-b tls+tcp "$PKI/client.crt" "$PKI/client.key" "$PKI/host-b.key"
fl_start_agent real-b
wait_for "host-b signed with its own key is accepted" 20 has_host host-b

# --- the CLI over tls+tcp:// -------------------------------------------------------------------
rc=0
env -u FAULTLINE_TLS_CA -u FAULTLINE_TLS_CERT -u FAULTLINE_TLS_KEY -u FAULTLINE_TLS_SERVER_NAME \
	"$FL_CLI_BIN" -C "$FL_CONTROL" --tls-ca "$PKI/ca.crt" --tls-cert "$PKI/client.crt" \
	--tls-key "$PKI/client.key" --tls-server-name collector hosts --json >"$FL_TMP/cli.json" || rc=$?
[[ $rc -eq 0 || $rc -eq 1 ]] || fl_fail "CLI with its certificate (flags) exited $rc"
assert_jq "CLI with --tls-* flags gets the hosts" "$(cat "$FL_TMP/cli.json")" \
	'[.hosts[].host] | sort == ["host-a", "host-b"]'
rc=0
env -u FAULTLINE_TLS_CERT -u FAULTLINE_TLS_KEY "$FL_CLI_BIN" -C "$FL_CONTROL" --timeout 3s \
	status >"$FL_TMP/cli-nocert.txt" 2>&1 || rc=$?
assert_eq "CLI without a certificate exits 2" 2 "$rc"
grep -q 'tls-cert' "$FL_TMP/cli-nocert.txt" ||
	fl_fail "no hint about --tls-cert: $(cat "$FL_TMP/cli-nocert.txt")"
rc=0
FAULTLINE_TLS_CERT=$PKI/other-client.crt FAULTLINE_TLS_KEY=$PKI/other-client.key \
	"$FL_CLI_BIN" -C "$FL_CONTROL" --timeout 3s status >"$FL_TMP/cli-other.txt" 2>&1 || rc=$?
assert_eq "CLI with another CA's certificate exits 2" 2 "$rc"
rc=0
"$FL_CLI_BIN" -C "tcp://127.0.0.1:$P_CONTROL" --timeout 3s status >/dev/null 2>&1 || rc=$?
assert_eq "CLI over plain tcp:// to the TLS control port exits 2" 2 "$rc"
wait_for "collector still answers after the refused clients" 10 fl_collector_answers collector

# --- control address rules (--check-config) ----------------------------------------------------
check() { "$FL_COLLECTOR_BIN" -c "$FL_TMP/collector.conf" --check-config "$@"; }
rc=0
out=$(check --control tcp://10.1.2.3:7602 2>&1) || rc=$?
assert_eq "plain tcp:// control on a non-loopback address is refused" 2 "$rc"
[[ $out == *"control: tcp:// is allowed on loopback only; use tls+tcp:// or ipc://"* ]] ||
	fl_fail "unexpected message: $out"
sed 's|^control = .*|control = tcp://0.0.0.0:7602|' "$FL_TMP/collector.conf" >"$FL_TMP/bad.conf"
rc=0
out=$("$FL_COLLECTOR_BIN" -c "$FL_TMP/bad.conf" --check-config 2>&1) || rc=$?
assert_eq "wildcard tcp:// control in the file is refused" 2 "$rc"
[[ $out == "$FL_TMP/bad.conf:4: control: tcp:// is allowed on loopback only"* ]] ||
	fl_fail "expected FILE:LINE: message, got: $out"
for ok in tcp://127.0.0.1:7602 "tcp://[::1]:7602" tcp://127.9.9.9:7602 tls+tcp://10.1.2.3:7602 \
	ipc:///tmp/x.sock; do
	check --control "$ok" >/dev/null || fl_fail "control $ok refused: $(check --control "$ok" 2>&1)"
done
fl_log "ok: loopback tcp://, tls+tcp:// and ipc:// control addresses are accepted"
grep -v '^tls_cert' "$FL_TMP/collector.conf" >"$FL_TMP/nocert.conf"
rc=0
out=$("$FL_COLLECTOR_BIN" -c "$FL_TMP/nocert.conf" --check-config 2>&1) || rc=$?
assert_eq "tls+tcp:// without tls_cert is a config error" 2 "$rc"
# The agent refuses a signing key that others may read.
chmod 644 "$PKI/host-a.key"
rc=0
out=$("$FL_AGENT_BIN" -c "$FL_TMP/host-a.conf" --check-config 2>&1) || rc=$?
chmod 600 "$PKI/host-a.key"
assert_eq "agent refuses a group/world-readable sign_key" 2 "$rc"
[[ $out == *"host-a.conf:"*"sign_key"*"chmod 600"* ]] || fl_fail "unexpected message: $out"
