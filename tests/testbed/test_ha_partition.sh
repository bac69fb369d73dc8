#!/usr/bin/env bash
# test_ha_partition.sh - an HA pair whose active loses PostgreSQL while the standby still
# reaches it (README, "High availability and sizing"). Network namespaces on a bridge of their
# own: PostgreSQL in fl-ha-db, collectors c1 and c2 in fl-ha-c1 and fl-ha-c2, an agent in
# fl-ha-ag reporting to c1. Every data-changing statement PostgreSQL runs is logged with the
# client's address (log_statement = mod), so "the first stops writing" is checked on the
# server's side: after the link between c1 and PostgreSQL is cut (packets dropped both ways: a
# partition, the sessions linger), c1 steps down by itself before c2 takes over, c2 is active
# within 10 s, and after the link is back PostgreSQL has run no write of c1's since the cut.
# Needs root. Takes the testbed's lock (one network test bed at a time on a machine).
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"

exec 9>/run/faultline-testbed.lock
flock -w 300 9 || fl_fail "the testbed is busy: another run holds /run/faultline-testbed.lock"
[[ $(id -u) == 0 ]] || fl_fail "needs root (network namespaces, PostgreSQL as user postgres)"
PG_BIN=/usr/lib/postgresql/15/bin
[[ -x $PG_BIN/initdb ]] || fl_fail "PostgreSQL 15 missing: apt-get install -y postgresql-15"
command -v nft >/dev/null || fl_fail "nft missing: apt-get install -y nftables"

NET=10.213.9
BR=fl-hab0
NSS="db:20 c1:11 c2:12 ag:30"
fl_init

net_down() {
	local h
	for h in $NSS; do
		ip netns del "fl-ha-${h%%:*}" 2>/dev/null || true
		ip link del "fl-ha-${h%%:*}-h" 2>/dev/null || true
	done
	ip link del "$BR" 2>/dev/null || true
}
pg_down() {
	if [[ -f $FL_TMP/pg/data/postmaster.pid ]]; then
		runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$FL_TMP/pg/data" -m immediate -w -t 10 \
			stop >/dev/null 2>&1 || true
	fi
}
fl_test_cleanup() {
	pg_down
	net_down
}

net_down
ip link add "$BR" type bridge && ip link set "$BR" up
for h in $NSS; do
	n=fl-ha-${h%%:*}
	ip netns add "$n"
	ip link add "$n-h" type veth peer name eth0 netns "$n"
	ip link set "$n-h" master "$BR" up
	ip -n "$n" link set lo up
	ip -n "$n" addr add "$NET.${h##*:}/24" dev eth0
	ip -n "$n" link set eth0 up
done
ip netns exec fl-ha-c1 ping -c1 -W2 "$NET.20" >/dev/null || fl_fail "no route from c1 to db"

# PostgreSQL in fl-ha-db, every data-changing statement logged with the client's address.
mkdir -p "$FL_TMP/pg" "$FL_TMP/pgrun"
chown postgres: "$FL_TMP/pg" "$FL_TMP/pgrun" && chmod 700 "$FL_TMP/pg"
runuser -u postgres -- "$PG_BIN/initdb" -D "$FL_TMP/pg/data" -U postgres -E UTF8 \
	--auth-local=peer --auth-host=scram-sha-256 >"$FL_TMP/initdb.log" 2>&1 ||
	fl_fail "initdb failed: $(tail -5 "$FL_TMP/initdb.log")"
echo "host all all $NET.0/24 scram-sha-256" >>"$FL_TMP/pg/data/pg_hba.conf"
ip netns exec fl-ha-db runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$FL_TMP/pg/data" \
	-l "$FL_TMP/pg/server.log" -w -t 30 -o "-c listen_addresses=$NET.20 -c port=5432 \
-c unix_socket_directories=$FL_TMP/pgrun -c fsync=off -c max_connections=60 \
-c log_statement=mod -c log_line_prefix='%m|%h|%a|' -c log_timezone=UTC" start \
	>"$FL_TMP/pg_ctl.log" 2>&1 || fl_fail "PostgreSQL did not start: $(tail -5 "$FL_TMP/pg/server.log")"
psql_su() { runuser -u postgres -- psql -X -q -At -v ON_ERROR_STOP=1 -h "$FL_TMP/pgrun" -d postgres -c "$1"; }
PW=ha-$RANDOM$RANDOM
psql_su "CREATE ROLE app LOGIN PASSWORD '$PW'" && psql_su "CREATE DATABASE flstate OWNER app" ||
	fl_fail "cannot create the state database"
(umask 077 && echo "$PW" >"$FL_TMP/state.password")

for c in c1 c2; do
	cat >"$FL_TMP/$c.conf" <<-EOF
		[collector]
		name = $c
		state = postgresql://app@$NET.20:5432/flstate
		password_file = $FL_TMP/state.password
		lease_timeout = 5s
		listen = tcp://0.0.0.0:7600
		survey = tcp://0.0.0.0:7601
		control = ipc://$FL_TMP/$c.sock
		http =
		log_level = info
	EOF
done
fl_start c1 ip netns exec fl-ha-c1 "$FL_COLLECTOR_BIN" -c "$FL_TMP/c1.conf"
wait_for "c1 active" 20 fl_collector_role active "ipc://$FL_TMP/c1.sock"
fl_start c2 ip netns exec fl-ha-c2 "$FL_COLLECTOR_BIN" -c "$FL_TMP/c2.conf"
wait_for "c2 standby" 20 fl_collector_role standby "ipc://$FL_TMP/c2.sock"

mkdir -p "$FL_TMP/ag.state"
cat >"$FL_TMP/ag.conf" <<-EOF
	[agent]
	name = ag
	collector = tcp://$NET.11:7600
	interval = 1s
	state_dir = $FL_TMP/ag.state

	[tcp "db"]
	address = $NET.20:5432
	timeout = 1s
	EOF
fl_start agent ip netns exec fl-ha-ag "$FL_AGENT_BIN" -c "$FL_TMP/ag.conf"
host_seen() {
	{ "$FL_CLI_BIN" -C "ipc://$FL_TMP/$1.sock" status --json 2>/dev/null || true; } |
		jq -e '[.hosts[] | select(.host == "ag")] | length == 1'
}
wait_for "c1 has the agent's reports" 20 host_seen c1
wait_for "the standby shows it from the store" 10 host_seen c2

# c1's writes as PostgreSQL logged them: "TIME|CLIENT|APP|LOG:  statement: ..." lines (the
# extended protocol logs "execute NAME: ..."), with the client's address c1's, that insert,
# update or delete rows (log_statement = mod also logs DDL: a reconnecting collector's
# migration check runs CREATE TABLE IF NOT EXISTS, which writes nothing).
c1_writes() {
	grep -E "^[^|]*\|$NET\.11\|[^|]*\|LOG:  (statement|execute [^:]*): (INSERT|UPDATE|DELETE)" \
		"$FL_TMP/pg/server.log" || true
}
has_c1_writes() { [[ -n $(c1_writes) ]]; }
wait_for "PostgreSQL logs a write of c1 before the cut (else the check below would prove nothing)" \
	10 has_c1_writes
fl_log "ok: c1 writes before the cut ($(c1_writes | wc -l) statements logged)"

# --- the cut: c1 <-> db only ------------------------------------------------------------------
CUT=$(date -u +%s.%N)
ip netns exec fl-ha-c1 nft -f - <<-EOF
	table inet fl_ha_cut {
		chain out { type filter hook output priority 0; ip daddr $NET.20 drop; }
		chain in { type filter hook input priority 0; ip saddr $NET.20 drop; }
	}
	EOF
fl_log "cut the link between c1 and PostgreSQL"
wait_for "c1 steps down by itself (no heartbeat for half the lease timeout)" 8 fl_collector_role standby "ipc://$FL_TMP/c1.sock"
DOWN=$(echo "$(date -u +%s.%N) - $CUT" | bc)
wait_for "c2 takes over within 10 s of the cut" 10 fl_collector_role active "ipc://$FL_TMP/c2.sock"
UP=$(echo "$(date -u +%s.%N) - $CUT" | bc)
fl_log "measured: c1 standby after $DOWN s, c2 active after $UP s"
log_time() { # the time of the first log line of FILE matching PATTERN, as seconds
	date -u -d "$(grep -m1 "$2" "$1" | cut -c1-23 | tr T ' ')" +%s.%N
}
# status says active from the decision on; the log line comes once the listeners are open
wait_for "c1 logs its step-down" 5 grep -q "standby: lost the lease" "$FL_TMP/c1.log"
wait_for "c2 logs its take-over" 5 grep -q "role] notice: active" "$FL_TMP/c2.log"
T_DOWN=$(log_time "$FL_TMP/c1.log" "standby: lost the lease")
T_UP=$(log_time "$FL_TMP/c2.log" "role] notice: active")
[[ $(echo "$T_DOWN < $T_UP" | bc) == 1 ]] ||
	fl_fail "c1 stepped down at $T_DOWN, after c2 became active at $T_UP: two actives at once"
fl_log "ok: c1 stepped down $(echo "$T_UP - $T_DOWN" | bc) s before c2 took over"
assert_eq "c2 names itself active" '"c2"' \
	"$({ "$FL_CLI_BIN" -C "ipc://$FL_TMP/c2.sock" status --json || true; } | jq .active_name)"

# --- the link back: c1's lingering sessions talk to PostgreSQL again --------------------------
sleep 2 # the test: the cut held a while after the take-over
ip netns exec fl-ha-c1 nft delete table inet fl_ha_cut
fl_log "link restored"
sleep 4 # a negative check: a write c1 still had queued would reach PostgreSQL within this window
names_c2() {
	# (status exits 1 meanwhile: the agent, which reports to c1 only, has gone stale)
	{ "$FL_CLI_BIN" -C "ipc://$FL_TMP/c1.sock" status --json 2>/dev/null || true; } |
		jq -e '.role == "standby" and .active_name == "c2"'
}
wait_for "c1 stays standby, and names c2" 10 names_c2
fl_collector_role active "ipc://$FL_TMP/c2.sock" || fl_fail "c2 is no more active after the link came back"
late=$(c1_writes | while IFS= read -r line; do
	s=$(date -u -d "${line%%|*}" +%s.%N)
	if [[ $(echo "$s > $CUT" | bc) == 1 ]]; then echo "$line"; fi
done)
[[ -z $late ]] || fl_fail "PostgreSQL ran writes of c1 after the cut:
$late"
fl_log "ok: PostgreSQL ran no write of c1 after the cut"
