#!/usr/bin/env bash
# cert_expiry_test.sh - https probes report the peer certificate's expiry (cert_expires) and
# judge it: the real faultline-agent (--once --json) against real TLS servers on loopback whose
# certificates expire in 3 days, in 60 days, and yesterday.
#   3 days, cert_warn 14d (default)  -> warn cert_expiring, cert_expires set
#   3 days, cert_warn = 0            -> ok (warning off)
#   3 days, cert_warn = 2d           -> ok
#   60 days                          -> ok, cert_expires set
#   expired, tls_verify = yes        -> fail tls, "expired" in the detail (curl refuses it)
#   expired, tls_verify = no         -> fail tls, "certificate expired at ..." (still a failure)
# Needs python3 with python3-cryptography (scripts/install-deps.sh), jq.
set -euo pipefail
source "$(dirname "$0")/../lib/harness.sh" # wait_for

AGENT="${FL_BUILD:?set FL_BUILD to the build dir}/agent/faultline-agent"
D=${FL_SOURCE:?set FL_SOURCE}/tests/agent/cert
[[ -x $AGENT ]] || { echo "FAIL: $AGENT not built"; exit 1; }
python3 -c 'import cryptography' 2>/dev/null ||
	{ echo "FAIL: python3-cryptography missing (apt-get install python3-cryptography)"; exit 1; }

T=$(mktemp -d /tmp/fl-cert.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

for c in soon:3 late:60 old:-1; do
	python3 "$D/mkcert.py" "$T/${c%%:*}" "${c#*:}"
	python3 "$D/https_server.py" "$T/${c%%:*}" &
	PIDS+=($!)
done
for c in soon late old; do
	wait_for "HTTPS server $c started (its port written)" 20 test -s "$T/$c.port"
done
url() { echo "https://127.0.0.1:$(cat "$T/$1.port")/"; }

cat >"$T/agent.conf" <<CONF
[agent]
name = cert-test
state_dir = $T/state

[http "soon"]
url = $(url soon)
ca_file = $T/soon.crt

[http "soon-off"]
url = $(url soon)
ca_file = $T/soon.crt
cert_warn = 0

[http "soon-2d"]
url = $(url soon)
ca_file = $T/soon.crt
cert_warn = 2d

[http "late"]
url = $(url late)
ca_file = $T/late.crt

[http "old"]
url = $(url old)
ca_file = $T/old.crt

[http "old-noverify"]
url = $(url old)
tls_verify = no
CONF
"$AGENT" --once --json -c "$T/agent.conf" >"$T/out.json" 2>"$T/out.err" || true

# check NAME FILTER WHAT
check() {
	if jq -e --arg n "$1" ".results[] | select(.name == \$n) | $2" "$T/out.json" >/dev/null; then
		echo "ok: $1: $3"
	else
		fail "$1: $3: $(jq -c --arg n "$1" '.results[] | select(.name == $n)' "$T/out.json") $(cat "$T/out.err")"
	fi
}
soon_day=$(python3 -c 'import datetime; print((datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=3)).strftime("%Y-%m-%d"))')
check soon ".status == \"warn\" and .failure == \"cert_expiring\" and (.cert_expires | startswith(\"$soon_day\"))" \
	"expires in 3 days, under cert_warn 14d: warn cert_expiring with cert_expires"
check soon '.detail | test("in 3.0 days \\(cert_warn = 14 days\\)")' "the detail says when"
check soon-off '.status == "ok" and .cert_expires != null' "cert_warn = 0: ok, expiry still reported"
check soon-2d '.status == "ok"' "cert_warn = 2d: 3 days left is ok"
check late '.status == "ok" and .cert_expires != null' "expires in 60 days: ok, cert_expires reported"
check old '.status == "fail" and .failure == "tls" and (.detail | test("expired"))' \
	"expired, verified: fail tls, \"expired\" in the detail"
check old-noverify '.status == "fail" and .failure == "tls" and (.detail | test("^certificate expired at "))' \
	"expired, tls_verify = no: still fail tls, \"certificate expired at\""

[[ $fails -eq 0 ]] || { echo "$fails failed"; exit 1; }
echo "all passed"
