#!/usr/bin/env bash
# footprint.sh - the agent's memory next to zabbix_agentd's, in one run, one process at a time
# (PSS splits a shared page among the processes mapping it, so two daemons running together
# would each look smaller than they are alone).
#
# Usage (root): bench/agent/footprint.sh BUILD_DIR [BUILD_DIR...]
#   BUILD_DIR: a Release build without sanitizers; several (e.g. before and after a change) are
#   measured in the same run, one after the other. SECS (default 30): how long each agent runs
#   before it is measured. Needs the peer harness (PEERS, default ../shared/peers next to the
#   repository; its install.sh once) for nginx, PostgreSQL, MariaDB and zabbix_agentd.
#
# Measured, in this order: zabbix_agentd idle (5 s after start) and after 4,000 passive checks
# (its whole process tree); then faultline-agent with "net" = 10 HTTP + 10 TCP + 1 DNS probe and
# "db" = the same plus one PostgreSQL and one MariaDB probe, at interval 1s, reporting to a real
# collector. For the agent: PSS, Pss_Anon and RSS (smaps_rollup, median of 5 samples 2 s apart)
# and its threads, then PSS by mapping (smaps grouped by pathname; anonymous mappings, thread
# stacks included, as [anon]). Everything goes to stdout and $OUTDIR.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
[ $# -ge 1 ] || { echo "usage: footprint.sh BUILD_DIR [BUILD_DIR...]" >&2; exit 2; }
BUILDS=()
for b in "$@"; do BUILDS+=("$(cd "$b" && pwd)") || exit 2; done
SECS=${SECS:-30}
PEERS=${PEERS:-$REPO/../shared/peers}
OUTDIR=${OUTDIR:-$(mktemp -d /tmp/fl-footprint-out.XXXXXX)}
# shellcheck source=/dev/null
source "$PEERS/lib.sh" || { echo "footprint.sh: no peer harness at $PEERS (set PEERS)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"
COLL=${BUILDS[0]}/collector/faultline-collector; CLI=${BUILDS[0]}/cli/faultline
for b in "${BUILDS[@]/%//agent/faultline-agent}" "$COLL" "$CLI" nginx mariadbd zabbix_agentd; do
  command -v "$b" >/dev/null || die "missing $b"
done
T=$(mktemp -d /tmp/fl-footprint.XXXXXX); chmod 755 "$T"
trap 'stop_all; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
mkdir -p "$OUTDIR"

start_nginx; start_postgres; start_mariadb

kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/smaps_rollup"; }
# field [samples]: median over samples taken 2 s apart
median_kb() {
  local pid=$1 field=$2 n=${3:-5} i v=()
  for ((i = 0; i < n; i++)); do v+=("$(kb "$pid" "$field")"); ((i < n - 1)) && sleep 2; done
  median "${v[@]}"
}
# PSS (kB) by mapping: pathname, or [anon] for anonymous memory (heap, thread stacks, arenas)
pss_by_mapping() {
  awk '/^[0-9a-f]+-[0-9a-f]+ / { name = (NF >= 6) ? $6 : "[anon]"; next }
       $1 == "Pss:" { pss[name] += $2 }
       END { for (n in pss) if (pss[n] > 0) printf "%7d %s\n", pss[n], n }' "/proc/$1/smaps" |
    sort -rn
}

# ---- zabbix_agentd ----
start_zabbix_agentd
sleep 5
za_idle=$(tree_pss_kb "$ZA_PID") za_idle_rss=$(tree_status_kb "$ZA_PID" VmRSS)
"$PEERS/drive.py" zbx 127.0.0.1 "$ZA_PORT" "net.tcp.service[tcp,127.0.0.1,$HTTP_PORT]" 2000 1 >/dev/null 2>&1
"$PEERS/drive.py" zbx 127.0.0.1 "$ZA_PORT" "web.page.perf[127.0.0.1,/,$HTTP_PORT]" 2000 '!0' >/dev/null 2>&1
za_load=$(tree_pss_kb "$ZA_PID") za_load_rss=$(tree_status_kb "$ZA_PID" VmRSS)
za_procs=$(tree_pids "$ZA_PID" | wc -l)
stop_pid zabbix_agentd "$ZA_PID"

# ---- faultline: a real collector, one agent at a time ----
CP=27760; SP=27761; CTL=ipc://$T/ctl.sock
printf '[collector]\nlisten = tcp://127.0.0.1:%s\nsurvey = tcp://127.0.0.1:%s\ncontrol = %s\nstate = %s/c.db\nlog_level = warn\n' \
  "$CP" "$SP" "$CTL" "$T" >"$T/coll.ini"
"$COLL" -c "$T/coll.ini" 2>"$T/coll.log" & remember collector $!
echo "$PW" >"$T/pw"; chmod 600 "$T/pw"
agent_conf() { # with_db (0|1)
  local i
  printf '[agent]\nname = bench\ncollector = tcp://127.0.0.1:%s\nsurvey = tcp://127.0.0.1:%s\ninterval = 1s\nstate_dir = %s/st\nlog_level = warn\n' \
    "$CP" "$SP" "$T"
  for ((i = 0; i < 10; i++)); do
    printf '[http "h%d"]\nurl = http://127.0.0.1:%s/\n[tcp "t%d"]\naddress = 127.0.0.1:%s\n' "$i" "$HTTP_PORT" "$i" "$HTTP_PORT"
  done
  printf '[dns "d"]\nname = localhost\n'
  if [ "$1" = 1 ]; then
    printf '[postgres "p"]\nconninfo = host=127.0.0.1 port=%s dbname=postgres user=probe\npassword_file = %s/pw\n' "$PG_PORT" "$T"
    printf '[mysql "m"]\nhost = 127.0.0.1\nport = %s\nuser = probe\ndatabase = mysql\npassword_file = %s/pw\n' "$MY_PORT" "$T"
  fi
}
declare -A A_PSS A_ANON A_RSS A_THR
for ((bi = 0; bi < ${#BUILDS[@]}; bi++)); do
  AGENT=${BUILDS[$bi]}/agent/faultline-agent
  for cfg in net db; do
    id=$bi-$cfg
    mkdir -p "$T/st"; agent_conf "$([ $cfg = db ] && echo 1 || echo 0)" >"$T/agent-$cfg.ini"
    "$AGENT" -c "$T/agent-$cfg.ini" 2>"$T/agent-$id.log" & pid=$!; remember "agent-$id" "$pid"
    sleep "$SECS"
    alive "$pid" || die "agent ($AGENT, $cfg) exited: $(cat "$T/agent-$id.log")"
    A_PSS[$id]=$(median_kb "$pid" Pss); A_ANON[$id]=$(median_kb "$pid" Pss_Anon 1)
    A_RSS[$id]=$(median_kb "$pid" Rss 1); A_THR[$id]=$(awk '$1 == "Threads:" { print $2 }' "/proc/$pid/status")
    pss_by_mapping "$pid" >"$OUTDIR/agent-$id.smaps.txt"
    stop_pid "agent-$id" "$pid"
  done
done
"$CLI" -C "$CTL" status --json >"$OUTDIR/status.json" 2>/dev/null
ok=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(1 for h in d["hosts"] for p in h["probes"] if p["status"]=="ok"), sum(1 for h in d["hosts"] for p in h["probes"]))' "$OUTDIR/status.json" 2>/dev/null)

{
  echo "| process | PSS kB | Pss_Anon kB | RSS kB | threads / processes |"
  echo "|---|---|---|---|---|"
  printf '| zabbix_agentd idle | %s | | %s | %s processes |\n' "$za_idle" "$za_idle_rss" "$za_procs"
  printf '| zabbix_agentd after 4,000 checks | %s | | %s | %s processes |\n' "$za_load" "$za_load_rss" "$za_procs"
  for ((bi = 0; bi < ${#BUILDS[@]}; bi++)); do
    printf '| faultline-agent (%s), 10 HTTP + 10 TCP + 1 DNS | %s | %s | %s | %s threads |\n' "${BUILDS[$bi]}" \
      "${A_PSS[$bi-net]}" "${A_ANON[$bi-net]}" "${A_RSS[$bi-net]}" "${A_THR[$bi-net]}"
    printf '| faultline-agent (%s), the same + PostgreSQL + MariaDB | %s | %s | %s | %s threads |\n' "${BUILDS[$bi]}" \
      "${A_PSS[$bi-db]}" "${A_ANON[$bi-db]}" "${A_RSS[$bi-db]}" "${A_THR[$bi-db]}"
  done
  echo
  echo "probes ok in the collector's last status (ok total): ${ok:-?}"
  for ((bi = 0; bi < ${#BUILDS[@]}; bi++)); do
    for cfg in net db; do
      echo; echo "agent ${BUILDS[$bi]} ($cfg), PSS by mapping (kB), largest first:"
      head -20 "$OUTDIR/agent-$bi-$cfg.smaps.txt"
    done
  done
} | tee "$OUTDIR/footprint.md"
