#!/usr/bin/env bash
# errno_classes_test.sh - one network fault, one failure class, whichever probe kind saw it: the
# real faultline-agent runs one round (--once --json) of a tcp, an http, a postgres and a mysql
# probe at the same address, in a network namespace of its own (unshare -n, loopback up, no
# route anywhere else), so the faults are real kernel answers and nothing outside is touched:
#   192.0.2.1 (no route)           -> every kind: unreachable, error_code ENETUNREACH (101)
#   127.0.0.1, a port nobody holds -> every kind: refused, error_code ECONNREFUSED (111) for the
#                                     kinds that report the OS errno (mysql reports 2003)
#   a `prohibit` route (EACCES, a policy rule) and a `blackhole` route (EINVAL, an errno no
#   table names) -> every kind: unreachable. Before the shared table these gave unreachable
#   (tcp, http), protocol (postgres) and refused (mysql) for the same fault.
# Needs root (unshare -n), jq.
set -euo pipefail

AGENT="${FL_BUILD:?set FL_BUILD to the build dir}/agent/faultline-agent"
[[ -x $AGENT ]] || { echo "FAIL: $AGENT not built (cmake --build \$FL_BUILD)"; exit 1; }
command -v jq >/dev/null || { echo "FAIL: jq missing (apt-get install jq)"; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "FAIL: must run as root (unshare -n)"; exit 1; }

T=$(mktemp -d /tmp/fl-errno.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

# conf FILE HOST PORT: four probe kinds at HOST:PORT.
conf() {
	cat >"$1" <<-CONF
		[agent]
		name = errno-test
		state_dir = $T/state

		[tcp "tcp"]
		address = $2:$3
		timeout = 2s

		[http "http"]
		url = http://$2:$3/health
		timeout = 2s

		[postgres "postgres"]
		conninfo = host=$2 port=$3 dbname=orders user=app
		timeout = 2s

		[mysql "mysql"]
		host = $2
		port = $3
		user = app
		timeout = 2s
	CONF
}

# once CONF OUT [SETUP]: one round in a fresh network namespace (only loopback, up), after the
# shell commands SETUP (routes).
once() {
	unshare -n sh -c 'ip link set lo up && eval "$2" && exec "$0" --once --json -c "$1"' \
		"$AGENT" "$1" "${3:-true}" >"$2" 2>"$2.err" || true
	jq -e '.results | length == 4' "$2" >/dev/null ||
		fail "no four results: $(cat "$2" "$2.err")"
}

conf "$T/unreach.conf" 192.0.2.1 5432
once "$T/unreach.conf" "$T/unreach.json"
if jq -e '[.results[] | .failure] == ["unreachable", "unreachable", "unreachable", "unreachable"]
	and all(.results[] | select(.kind != "mysql"); .error_code == 101)' "$T/unreach.json" >/dev/null; then
	ok "no route: tcp, http, postgres and mysql all say unreachable (ENETUNREACH)"
else
	fail "no route: $(jq -c '[.results[] | {kind, failure, error_code, detail}]' "$T/unreach.json")"
fi

conf "$T/refused.conf" 127.0.0.1 9
once "$T/refused.conf" "$T/refused.json"
if jq -e '[.results[] | .failure] == ["refused", "refused", "refused", "refused"]
	and all(.results[] | select(.kind != "mysql"); .error_code == 111)' "$T/refused.json" >/dev/null; then
	ok "nothing listens: tcp, http, postgres and mysql all say refused"
else
	fail "nothing listens: $(jq -c '[.results[] | {kind, failure, error_code, detail}]' "$T/refused.json")"
fi

# all_unreachable OUT ERRNO WHAT
all_unreachable() {
	if jq -e --argjson e "$2" '[.results[] | .failure] == ["unreachable", "unreachable", "unreachable", "unreachable"]
		and all(.results[] | select(.kind != "mysql"); .error_code == $e)' "$1" >/dev/null; then
		ok "$3: tcp, http, postgres and mysql all say unreachable (errno $2)"
	else
		fail "$3: $(jq -c '[.results[] | {kind, failure, error_code, detail}]' "$1")"
	fi
}
conf "$T/prohibit.conf" 192.0.2.1 5432
once "$T/prohibit.conf" "$T/prohibit.json" "ip route add prohibit 192.0.2.0/24"
all_unreachable "$T/prohibit.json" 13 "prohibit route (EACCES)"
conf "$T/blackhole.conf" 198.51.100.1 5432
once "$T/blackhole.conf" "$T/blackhole.json" "ip route add blackhole 198.51.100.0/24"
all_unreachable "$T/blackhole.json" 22 "blackhole route (EINVAL, not in the table)"

[[ $fails -eq 0 ]] || { echo "$fails failed"; exit 1; }
echo "all passed"
