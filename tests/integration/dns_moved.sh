#!/usr/bin/env bash
# dns_moved.sh - a name whose answer changes is a fact in history and evidence, end to end with
# real name resolution: two agents (1 s interval), each in a mount namespace of its own whose
# /etc/hosts is a file of this test (as `ip netns exec` does for the testbed), probing a real
# PostgreSQL as host=db.fl.test and the name itself (dns probe).
#   db.fl.test -> 127.0.0.1 on both hosts                 -> healthy
#   app1's answer becomes 127.0.0.9 (nothing listens)     -> network (DNS): "moved from 127.0.0.1
#                                                            to 127.0.0.9 ... on app1 only (split
#                                                            DNS: app2 still gets 127.0.0.1)";
#                                                            history: a dns event per probe
#   app1 back to 127.0.0.1                                -> healthy; history has the move back
# Needs root (mount namespaces; PostgreSQL runs as postgres).
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"
# shellcheck source=../lib/dbservers.sh
source "$FL_SOURCE/tests/lib/dbservers.sh"

fl_test_cleanup() { fl_db_cleanup; }

fl_init
[[ $(id -u) -eq 0 ]] || fl_fail "must run as root: mount namespaces, and PostgreSQL runs as postgres"
command -v unshare >/dev/null || fl_fail "unshare not found (apt-get install util-linux)"
fl_pg_start || fl_fail "cannot start PostgreSQL 15 (apt-get install postgresql-15)"

fl_collector_conf "$FL_TMP/collector.conf"
fl_start_collector collector

# point HOST ADDRESS: db.fl.test resolves to ADDRESS on HOST from now on. The file is rewritten
# in place: the agent's /etc/hosts is a bind mount of this very inode.
point() {
	fl_log "$1: db.fl.test -> $2"
	printf '127.0.0.1 localhost\n%s db.fl.test\n' "$2" >"$FL_TMP/hosts-$1"
}

for h in app1 app2; do
	point "$h" 127.0.0.1
	fl_agent_conf "$FL_TMP/$h.conf" "$h" 1.0
	cat >>"$FL_TMP/$h.conf" <<-EOF

		[dns "db-name"]
		name = db.fl.test

		[postgres "orders"]
		conninfo = host=db.fl.test port=$FL_PG_PORT dbname=orders user=app
		password_file = $FL_PG_PASSWORD_FILE
		timeout = 3s
	EOF
	fl_start "agent-$h" unshare --mount --propagation private -- bash -c \
		'mount --bind "$0" /etc/hosts && exec "$1" -c "$2"' \
		"$FL_TMP/hosts-$h" "$FL_AGENT_BIN" "$FL_TMP/$h.conf"
done

diagnosis_has() {
	local j
	j=$(fl_cli_json diagnose) || return 1
	jq -e "$1" <<<"$j" >/dev/null || {
		jq -c '{verdict, summary, findings: [.findings[] | {verdict, hosts, evidence}]}' <<<"$j"
		return 1
	}
}

expect() {
	local t0=$SECONDS
	wait_for "$1" "$2" diagnosis_has "$3"
	fl_log "$1: after $((SECONDS - t0)) s: $(fl_cli_json diagnose | jq -r .summary)"
}

wait_for "both hosts report both probes with the name's answer" 30 bash -c '
	"$0" -C "$1" status --json | jq -e "[.hosts[].probes[] | .resolved_name + \"=\" + (.addresses | join(\",\"))]
		== [\"db.fl.test=127.0.0.1\", \"db.fl.test=127.0.0.1\", \"db.fl.test=127.0.0.1\", \"db.fl.test=127.0.0.1\"]"' \
	"$FL_CLI_BIN" "$FL_CONTROL"
expect "nothing wrong" 30 '.verdict == "healthy"'

# --- app1 now gets another answer --------------------------------------------------------------
point app1 127.0.0.9
expect "the name moved on app1 only: network (DNS), split DNS named" 20 '
	.verdict == "network" and .findings[0].hosts == ["app1"]
	and (.summary | test("DNS: db.fl.test moved from 127.0.0.1 to 127.0.0.9 at [0-9:]{8} on app1 only"))
	and (.summary | test("split DNS: app2 still gets 127.0.0.1"))
	and (.summary | test("fails \\(refused\\) there"))
	and (.findings[0].evidence | any(test("^split DNS: db.fl.test resolves to 127.0.0.9 on app1; 127.0.0.1 on app2$")))'
S=$(fl_cli_json status)
assert_jq "status carries each probe's answer" "$S" '
	[.hosts[] | select(.host == "app1") | .probes[] | .addresses] == [["127.0.0.9"], ["127.0.0.9"]]
	and [.hosts[] | select(.host == "app2") | .probes[] | .addresses] == [["127.0.0.1"], ["127.0.0.1"]]'
H=$(fl_cli_json history --host app1)
assert_jq "history has the move, for the dns probe and the database probe" "$H" '
	[.events[] | select(.kind == "dns") | {probe, from, to, detail}] | sort_by(.probe)
	== [{"probe": "db-name", "from": "127.0.0.1", "to": "127.0.0.9",
	     "detail": "db.fl.test moved from 127.0.0.1 to 127.0.0.9"},
	    {"probe": "orders", "from": "127.0.0.1", "to": "127.0.0.9",
	     "detail": "db.fl.test moved from 127.0.0.1 to 127.0.0.9"}]'
H2=$(fl_cli_json history --host app2)
assert_jq "app2 saw no move" "$H2" '[.events[] | select(.kind == "dns")] == []'
fl_cli history --host app1 | grep -q 'db.fl.test moved from 127.0.0.1 to 127.0.0.9' ||
	fl_fail "the history table does not show the move: $(fl_cli history --host app1)"

# --- and back ------------------------------------------------------------------------------------
point app1 127.0.0.1
expect "app1 back on the old answer" 30 '.verdict == "healthy"'
H=$(fl_cli_json history --host app1)
assert_jq "history has the move back" "$H" '
	[.events[] | select(.kind == "dns" and .probe == "orders") | .to] == ["127.0.0.9", "127.0.0.1"]'

fl_log "PASS"
