# harness.sh - shared helpers for Faultline's bash integration tests (source it; bash only).
#
#   source "$FL_SOURCE/tests/lib/harness.sh"
#   fl_init                       # temp dir $FL_TMP, cleanup trap, binaries checked
#   port=$(fl_free_port)
#   fl_start NAME CMD...          # background process, output in $FL_TMP/NAME.log
#   wait_for "what" SECONDS CMD...
#   assert_jq "what" "$json" 'jq filter that must be true'
#
# Everything runs on loopback with random free ports and its own temp dir, so tests may run in
# parallel (ctest -j). On exit every process the test started is stopped (TERM, then KILL);
# when the test failed, the tail of each process's log is printed. FL_KEEP_TMP=1 keeps the
# temp dir for a post-mortem.

set -euo pipefail

FL_SOURCE=${FL_SOURCE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
FL_BUILD=${FL_BUILD:-$FL_SOURCE/build}
FL_AGENT_BIN=${FL_AGENT_BIN:-$FL_BUILD/agent/faultline-agent}
FL_COLLECTOR_BIN=${FL_COLLECTOR_BIN:-$FL_BUILD/collector/faultline-collector}
FL_CLI_BIN=${FL_CLI_BIN:-$FL_BUILD/cli/faultline}
FL_DEMO_APP=${FL_DEMO_APP:-$FL_SOURCE/deploy/demo/demo-app.py}
# Leaks inside nng 1.5.2 that LeakSanitizer would report at a process's exit (the file says
# which). Appended: LSan takes the last value of an option, so this list replaces a caller's.
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$FL_SOURCE/tests/lsan-nng.supp"

declare -A FL_PIDS=()   # NAME -> pid of the processes this test started
FL_TMP=
FL_TEST_NAME=$(basename "${BASH_SOURCE[-1]}" .sh)

# Messages go to stderr with the test's name, so ctest's output reads as a story.
fl_log() { printf '[%s %s] %s\n' "$FL_TEST_NAME" "$(date +%H:%M:%S.%3N)" "$*" >&2; }

fl_fail() {
	printf '[%s] FAIL: %s\n' "$FL_TEST_NAME" "$*" >&2
	exit 1
}

# fl_init [BINARIES... | --no-binaries]: creates the temp dir and the cleanup trap; checks that
# the named binaries (default: agent, collector, CLI) were built and that the tools the harness
# uses exist.
fl_init() {
	local b
	for b in jq python3 curl; do
		command -v "$b" >/dev/null || fl_fail "$b not found: run scripts/install-deps.sh as root"
	done
	if [[ $# -eq 0 ]]; then
		set -- "$FL_AGENT_BIN" "$FL_COLLECTOR_BIN" "$FL_CLI_BIN"
	elif [[ $1 == --no-binaries ]]; then
		shift
	fi
	for b in "$@"; do
		[[ -x $b ]] || fl_fail "$b not built: cmake --build $FL_BUILD (FL_BUILD=$FL_BUILD)"
	done
	FL_TMP=$(mktemp -d "${TMPDIR:-/tmp}/fl-$FL_TEST_NAME.XXXXXX")
	# Root runs the tests in CI; the database servers started by dbservers.sh run as other users.
	chmod 755 "$FL_TMP"
	trap fl_cleanup EXIT
	trap 'exit 130' INT TERM
	fl_log "temp dir $FL_TMP"
}

fl_cleanup() {
	local rc=$? name pid
	set +e
	for name in "${!FL_PIDS[@]}"; do
		pid=${FL_PIDS[$name]}
		kill -TERM "$pid" 2>/dev/null
	done
	for name in "${!FL_PIDS[@]}"; do
		fl__reap "${FL_PIDS[$name]}" 5
	done
	# A test's own cleanup hook (e.g. database servers); FL_RC tells it whether the test failed.
	if declare -F fl_test_cleanup >/dev/null; then
		FL_RC=$rc fl_test_cleanup
	fi
	if [[ $FL__STATE_PG == 1 ]]; then
		# The state database's password must show in no output of the test's processes.
		if [[ -n ${FL_DB_PASSWORD:-} && -n $FL_TMP ]] &&
			grep -rlF --include='*.log' -- "$FL_DB_PASSWORD" "$FL_TMP" >&2; then
			printf '[%s] FAIL: the state database password shows in the logs above\n' \
				"$FL_TEST_NAME" >&2
			rc=1
		fi
		fl_db_cleanup
	fi
	if [[ $rc -ne 0 && -n $FL_TMP ]]; then
		local f
		for f in "$FL_TMP"/*.log; do
			[[ -e $f ]] || continue
			printf '\n----- %s (last 40 lines) -----\n' "${f##*/}" >&2
			tail -n 40 "$f" >&2
		done
	fi
	if [[ -n $FL_TMP && ${FL_KEEP_TMP:-0} != 1 ]]; then
		rm -rf "$FL_TMP"
	elif [[ -n $FL_TMP ]]; then
		fl_log "kept $FL_TMP"
	fi
	if [[ $rc -eq 0 ]]; then
		printf '[%s] PASS\n' "$FL_TEST_NAME" >&2
	fi
	exit "$rc"
}

# fl__reap PID SECONDS: waits for PID to exit, SIGKILLs it after SECONDS.
fl__reap() {
	local pid=$1 deadline=$((SECONDS + $2))
	while kill -0 "$pid" 2>/dev/null; do
		if ((SECONDS >= deadline)); then
			kill -KILL "$pid" 2>/dev/null
			break
		fi
		sleep 0.05
	done
	wait "$pid" 2>/dev/null || true
}

# fl_free_port: prints a TCP port on 127.0.0.1 that nothing listens on and that this test has
# not handed out yet. Picked at random below the kernel's ephemeral range (32768+), so it
# cannot collide with port-0 binds, and checked with ss; cheap enough to call often.
# (Handed-out ports are remembered in a file: callers use $(...), a subshell.)
fl_free_port() {
	local p i given=${FL_TMP:-/tmp}/ports.given
	for ((i = 0; i < 100; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
		! grep -qx "$p" "$given" 2>/dev/null || continue
		if [[ -z $(ss -Htan "( sport = :$p )" 2>/dev/null) ]]; then
			echo "$p" >>"$given"
			echo "$p"
			return 0
		fi
	done
	fl_fail "no free port found"
}

# fl_start NAME CMD...: runs CMD in the background; stdout+stderr go to $FL_TMP/NAME.log.
fl_start() {
	local name=$1
	shift
	[[ -z ${FL_PIDS[$name]:-} ]] || fl_fail "fl_start: $name already running"
	fl_log "start $name: $*"
	"$@" >>"$FL_TMP/$name.log" 2>&1 &
	FL_PIDS[$name]=$!
}

fl_pid() { echo "${FL_PIDS[$1]:?no process named $1}"; }

fl_running() { kill -0 "${FL_PIDS[$1]:?no process named $1}" 2>/dev/null; }

# fl_stop NAME [SIGNAL [GRACE]]: stops a process (default TERM, KILL after GRACE seconds,
# default 5) and forgets it. Sets FL_LAST_RC to the process's exit status (128+N when killed by
# signal N). Call it directly, not in $(...): the process table lives in this shell.
fl_stop() {
	local name=$1 sig=${2:-TERM} grace=${3:-5} pid rc=0
	pid=${FL_PIDS[$name]:?no process named $name}
	fl_log "stop $name (SIG$sig)"
	kill -"$sig" "$pid" 2>/dev/null || true
	local deadline=$((SECONDS + grace))
	while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || rc=$?
	unset "FL_PIDS[$name]"
	FL_LAST_RC=$rc
}

# wait_for WHAT SECONDS CMD...: runs CMD every 0.2 s until it succeeds; fails the test with
# WHAT and CMD's last output when the deadline passes. CMD's output is discarded on success.
wait_for() {
	local what=$1 secs=$2 out
	shift 2
	local deadline=$((SECONDS + secs))
	while true; do
		if out=$("$@" 2>&1); then
			return 0
		fi
		if ((SECONDS >= deadline)); then
			fl_fail "timed out after ${secs}s waiting for: $what
  command: $*
  last output: ${out:0:3000}"
		fi
		sleep 0.2
	done
}

# assert_jq WHAT JSON [jq args...] FILTER: FILTER (the last argument) must evaluate to true on
# JSON; jq args such as --arg NAME VALUE go before it.
assert_jq() {
	local what=$1 json=$2 got
	shift 2
	local filter=${*: -1}
	if ! got=$(jq -e "${@:1:$#-1}" "$filter" <<<"$json" 2>&1); then
		fl_fail "$what
  filter: $filter
  result: ${got:0:500}
  json: ${json:0:4000}"
	fi
	fl_log "ok: $what"
}

# jq_true JSON FILTER [jq args...]: succeeds when FILTER is true (for wait_for).
jq_true() {
	local json=$1 filter=$2
	shift 2
	jq -e "$@" "$filter" <<<"$json" >/dev/null
}

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() {
	[[ $2 == "$3" ]] || fl_fail "$1: expected '$2', got '$3'"
	fl_log "ok: $1"
}

# --- Faultline processes ---------------------------------------------------------------------

# fl_collector_conf FILE: writes a collector config with fresh ports under $FL_TMP and sets
# FL_REPORT_URL, FL_SURVEY_URL, FL_CONTROL (ipc in the temp dir), FL_STATE and FL_HTTP_URL
# (the HTTP listener, e.g. $FL_HTTP_URL/metrics).
# FL_TEST_STATE_PG=1: the state is a database on a real PostgreSQL the harness starts (once per
# test, stopped at exit; tests/lib/pgstate.sh): FL_STATE is then its URI, and the config names
# its password_file.
fl_collector_conf() {
	local file=$1 state_lines
	FL_REPORT_URL=tcp://127.0.0.1:$(fl_free_port)
	FL_SURVEY_URL=tcp://127.0.0.1:$(fl_free_port)
	FL_HTTP_PORT=$(fl_free_port)
	FL_HTTP_URL=http://127.0.0.1:$FL_HTTP_PORT
	FL_CONTROL=ipc://$FL_TMP/control.sock
	FL_STATE=$FL_TMP/collector.db
	state_lines="state = $FL_STATE"
	if [[ ${FL_TEST_STATE_PG:-0} == 1 ]]; then
		fl__state_pg_start
		FL_STATE=$FL_STATE_PG_URL
		state_lines="state = $FL_STATE
password_file = $FL_PG_PASSWORD_FILE"
	fi
	export FAULTLINE_CONTROL=$FL_CONTROL
	cat >"$file" <<-EOF
		[collector]
		listen = $FL_REPORT_URL
		survey = $FL_SURVEY_URL
		control = $FL_CONTROL
		$state_lines
		http = 127.0.0.1:$FL_HTTP_PORT
		log_level = ${FL_LOG_LEVEL:-info}
	EOF
}

FL__STATE_PG=0 # 1 once this harness started PostgreSQL for the state
fl__state_pg_start() {
	[[ $FL__STATE_PG == 1 ]] && return 0
	# shellcheck source=dbservers.sh
	source "$FL_SOURCE/tests/lib/dbservers.sh"
	# shellcheck source=pgstate.sh
	source "$FL_SOURCE/tests/lib/pgstate.sh"
	fl_pgstate_start || fl_fail "cannot start PostgreSQL for the state (FL_TEST_STATE_PG=1;" \
		"apt-get install -y postgresql-15, run as root)"
	FL__STATE_PG=1
	fl_log "state on PostgreSQL: $FL_STATE_PG_URL"
}

# fl_start_collector [NAME]: starts the collector on $FL_TMP/collector.conf (written on first
# use) and waits until it answers `faultline status`.
fl_start_collector() {
	local name=${1:-collector}
	[[ -e $FL_TMP/collector.conf ]] || fl_collector_conf "$FL_TMP/collector.conf"
	fl_start "$name" "$FL_COLLECTOR_BIN" -c "$FL_TMP/collector.conf"
	wait_for "collector answers status" 20 fl_collector_answers "$name"
	if [[ ${FL__STATE_PG:-0} == 1 ]]; then
		# On a shared store a collector starts standby and takes reports once it holds the
		# lease (README, "High availability and sizing"): the next fraction of a second.
		wait_for "collector active" 20 fl_collector_role active
	fi
}

# fl_role_of [CONTROL_URL]: prints the role the collector at CONTROL_URL (default $FL_CONTROL)
# reports: single, active or standby; nothing when it does not answer.
fl_role_of() {
	"$FL_CLI_BIN" -C "${1:-$FL_CONTROL}" status --json 2>/dev/null | jq -r '.role // ""' || true
}

# fl_collector_role ROLE [CONTROL_URL]: true when the collector at CONTROL_URL (default
# $FL_CONTROL) says this role (for wait_for).
fl_collector_role() {
	local want=$1 got
	got=$(fl_role_of "${2:-$FL_CONTROL}")
	[[ $got == "$want" ]] || {
		echo "role: ${got:-no answer}"
		return 1
	}
}

# fl_collector_answers NAME: true when the process is alive and `faultline status` gets a reply.
fl_collector_answers() {
	fl_running "$1" || {
		echo "$1 exited"
		return 1
	}
	local rc=0
	fl_cli status --json >/dev/null || rc=$?
	[[ $rc -eq 0 || $rc -eq 1 ]]
}

# fl_cli ARGS...: the CLI against this test's collector.
fl_cli() { "$FL_CLI_BIN" -C "$FL_CONTROL" "$@"; }

# fl_cli_json ARGS...: the CLI's JSON output; exit status 0 and 1 (something failing) both
# count as an answer, 2 (unreachable, usage) fails.
fl_cli_json() {
	local out rc=0
	out=$(fl_cli "$@" --json) || rc=$?
	if [[ $rc -ne 0 && $rc -ne 1 ]]; then
		echo "faultline $* --json exited $rc: $out" >&2
		return 1
	fi
	printf '%s\n' "$out"
}

# fl_agent_conf FILE NAME [RELEASE]: writes the [agent] section of an agent config reporting to
# this test's collector every second; append probe sections after it. The release file is
# $FL_TMP/NAME.release.
fl_agent_conf() {
	local file=$1 name=$2 release=${3:-1.0}
	mkdir -p "$FL_TMP/$name.state"
	echo "$release" >"$FL_TMP/$name.release"
	cat >"$file" <<-EOF
		[agent]
		name = $name
		collector = $FL_REPORT_URL
		survey = $FL_SURVEY_URL
		interval = ${FL_INTERVAL:-1s}
		release_file = $FL_TMP/$name.release
		state_dir = $FL_TMP/$name.state
		log_level = ${FL_LOG_LEVEL:-info}
	EOF
}

fl_start_agent() {
	local name=$1
	fl_start "agent-$name" "$FL_AGENT_BIN" -c "$FL_TMP/$name.conf"
}

# --- the demo application ----------------------------------------------------------------------

# fl_start_app NAME: starts deploy/demo/demo-app.py on a free port, driven by the mode file
# $FL_TMP/NAME.mode; sets FL_APP_PORT and waits until it answers.
fl_start_app() {
	local name=${1:-app}
	FL_APP_PORT=$(fl_free_port)
	echo ok >"$FL_TMP/$name.mode"
	fl_start "$name" python3 "$FL_DEMO_APP" --bind 127.0.0.1 --port "$FL_APP_PORT" \
		--mode-file "$FL_TMP/$name.mode" --release-file "$FL_TMP/$name.release"
	wait_for "$name listening on $FL_APP_PORT" 15 fl_http_get "http://127.0.0.1:$FL_APP_PORT/health"
}

# fl_app_mode NAME MODE [DELAY_MS]: switches the demo app (ok, 503, slow, hang, down, ...);
# fl_app_mode NAME errors PCT [DELAY_MS]: PCT % of the requests answer 503.
fl_app_mode() {
	fl_log "app $1 -> mode ${*:2}"
	echo "${*:2}" >"$FL_TMP/$1.mode.tmp"
	mv "$FL_TMP/$1.mode.tmp" "$FL_TMP/$1.mode"
}

# fl_conf_app_probe: prints an agent config section probing the demo app at $FL_APP_PORT
# ([http "app"], 200 expected, 2 s timeout); fl_conf_orders_probe: one checking the test's
# PostgreSQL database orders as user app ([postgres "orders"], 3 s timeout). Each starts with a
# blank line, to append after other sections: fl_conf_app_probe >>CONF.
fl_conf_app_probe() {
	printf '\n[http "app"]\nurl = http://127.0.0.1:%s/health\nexpect_status = 200\ntimeout = 2s\n' \
		"${FL_APP_PORT:?start the app first}"
}
fl_conf_orders_probe() {
	printf '\n[postgres "orders"]\nconninfo = host=127.0.0.1 port=%s dbname=orders user=app\n' \
		"${FL_PG_PORT:?start PostgreSQL first}"
	printf 'password_file = %s\ntimeout = 3s\n' "$FL_PG_PASSWORD_FILE"
}

# fl_demo_hosts HOST...: for each HOST its own demo app (app-HOST) and an agent config
# $FL_TMP/HOST.conf on release 1.0: the app and orders probes, with release 1.0's PostgreSQL
# expectations (deploy/demo/release-1.0.expect up to its MariaDB part). The caller starts the
# agents (fl_start_agent HOST), after changing a config if it wants.
fl_demo_hosts() {
	local h
	awk '/^\[mysql/ { exit } { print }' "$FL_SOURCE/deploy/demo/release-1.0.expect" >"$FL_TMP/1.0.expect"
	for h in "$@"; do
		fl_start_app "app-$h"
		fl_agent_conf "$FL_TMP/$h.conf" "$h" 1.0
		echo "expectations = $FL_TMP/1.0.expect" >>"$FL_TMP/$h.conf"
		fl_conf_app_probe >>"$FL_TMP/$h.conf"
		fl_conf_orders_probe >>"$FL_TMP/$h.conf"
	done
}

# fl_http_get URL: prints the body; fails unless the answer is 2xx.
fl_http_get() { curl -sSf --max-time 3 "$1"; }
