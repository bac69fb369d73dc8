#!/usr/bin/env bash
# cli_errors_test.sh - the faultline binary without a collector: an unreachable collector and
# usage errors exit 2 with one clear line on stderr; --help and --version exit 0.
set -u

FL=${FL_BUILD:?FL_BUILD must point to the build directory}/cli/faultline
[[ -x $FL ]] || { echo "FAIL: $FL is not built (cmake --build \$FL_BUILD --target faultline)"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# run EXPECTED_RC ARGS...: runs faultline with ARGS, keeps stdout/stderr in $out/$err.
run() {
	local want=$1
	shift
	"$FL" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
	if [[ $rc -ne $want ]]; then
		fail "faultline $* exited $rc, expected $want (stderr: $err)"
		return 1
	fi
	return 0
}

expect_err() { # PATTERN: stderr must contain it
	[[ $err == *"$1"* ]] || fail "stderr lacks '$1': $err"
}

one_line_usage() { # a usage error: nothing on stdout, one line on stderr with a --help hint
	[[ -z $out ]] || fail "usage error printed on stdout: $out"
	[[ $(wc -l <"$tmp/err") -eq 1 ]] || fail "usage error is not one line: $err"
	[[ $err == *"--help"* ]] || fail "usage error gives no --help hint: $err"
}

# --- an unreachable collector -------------------------------------------------------------
unset FAULTLINE_CONTROL
sock="ipc://$tmp/nobody.sock"
for cmd in status hosts history diagnose probe-now; do
	if run 2 -C "$sock" $cmd; then
		expect_err "faultline: cannot reach the collector at $sock: "
		expect_err "(is faultline-collector running? set -C or FAULTLINE_CONTROL)"
		[[ -z $out ]] || fail "$cmd printed on stdout while unreachable: $out"
	fi
done

# A free loopback TCP port nobody listens on (bound then released by the kernel).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
if run 2 -C "tcp://127.0.0.1:$port" status --json; then
	expect_err "cannot reach the collector at tcp://127.0.0.1:$port: Connection refused"
fi

# The URL comes from FAULTLINE_CONTROL, and -C beats it (also after the command).
if FAULTLINE_CONTROL="ipc://$tmp/env.sock" run 2 status; then
	expect_err "at ipc://$tmp/env.sock:"
fi
if FAULTLINE_CONTROL="ipc://$tmp/env.sock" run 2 -C "ipc://$tmp/flag.sock" diagnose; then
	expect_err "at ipc://$tmp/flag.sock:"
fi
if run 2 status -C "ipc://$tmp/after.sock"; then
	expect_err "at ipc://$tmp/after.sock:"
fi
# An unreachable collector is exit 2 even for diagnose --json (cannot tell), fast.
start=$(date +%s%N)
run 2 --timeout 10s -C "$sock" diagnose --json
took_ms=$((($(date +%s%N) - start) / 1000000))
((took_ms < 3000)) || fail "an absent collector took ${took_ms} ms to report (dial must fail at once)"

if run 2 -C "bogus://x" status; then
	expect_err "cannot use control URL 'bogus://x'"
fi

# --- usage errors ---------------------------------------------------------------------------
usage_cases=(
	""
	"nosuch"
	"--bogus status"
	"-C"
	"--timeout soon status"
	"--timeout 0 status"
	"status --bogus"
	"status extra"
	"status --host"
	"hosts --host app1"
	"history --since yesterday"
	"history --since"
	"history --limit 0"
	"history --limit many"
	"diagnose --verbose"
	"probe-now --timeout never"
	"help nosuch"
	"help status extra"
	"verify"
	"watch --interval 5"
	"watch --interval 10ms"
	"watch --interval"
	"watch extra"
	"watch --label novalue"
	"verify --release 1.0 --window 50ms"
	"verify --release 1.0 --confidence 1.5"
	"verify --release 1.0 --confidence 0.3"
	"verify --release 1.0 --min-samples 0"
	"verify --release 1.0 --rounds 61"
	"verify --release 2.4.1 --canary app1 --no-canary"
	"verify --release 2.4.1 --release 2.4.2"
	"verify --release 2.4.1 --rollback-to 2.4.0 --rollback-to 2.3.9"
	"verify --release 2.4.1 --max-latency-ratio -1"
	"verify --release 2.4.1 --window=soon"
)
for args in "${usage_cases[@]}"; do
	# shellcheck disable=SC2086 # word splitting is the point
	if run 2 -C "$sock" $args; then
		one_line_usage
		[[ $err == *"cannot reach"* ]] && fail "'$args' tried the collector before checking usage"
	fi
done
run 2 history --since yesterday && expect_err "--since wants a duration like 1h"
run 2 watch --interval 2h && expect_err "--interval wants a duration from 100ms to 1h"
# Not a terminal (ctest's stdout): refused before anything is drawn or asked.
if run 2 -C "$sock" watch; then
	one_line_usage
	expect_err "faultline watch: stdout is not a terminal: watch draws a full-screen view"
fi

# --- expect check / diff: offline, FILE:LINE on a bad file ---------------------------------
printf '[postgres "orders"]\ntable = public.orders: SELECT\n' >"$tmp/ok.expect"
printf '[postgres "orders"]\ntable = public.orders: SELECT\n\ncolumn = public.orders: SELECT\n' >"$tmp/bad.expect"
printf '[postgres "orders"]\ntable = public.orders: SELECT, DELETE\n' >"$tmp/more.expect"
if run 0 -C "$sock" expect check "$tmp/ok.expect"; then
	[[ $out == "$tmp/ok.expect: ok (1 database section, 1 requirement)" ]] || fail "expect check printed '$out'"
fi
if run 2 expect check "$tmp/ok.expect" "$tmp/bad.expect"; then
	[[ $err == "$tmp/bad.expect:4: column public.orders: object "* ]] || fail "expect check error is not FILE:LINE: '$err'"
	[[ $(wc -l <"$tmp/err") -eq 1 ]] || fail "expect check: more than one line: $err"
	[[ $out == *"ok.expect: ok"* ]] || fail "expect check skipped the good file: $out"
fi
# Every error of a file, one line each, in line order.
printf '[postgres "a"]\ntabel = x.y\n\ntable = x.y: SELEKT\n' >"$tmp/two.expect"
if run 2 expect check "$tmp/two.expect"; then
	[[ $err == "$tmp/two.expect:2: unknown key tabel "*$'\n'"$tmp/two.expect:4: table: unknown privilege SELEKT"* ]] ||
		fail "expect check does not list every error: '$err'"
fi
run 2 expect check "$tmp/nosuch.expect" && expect_err "$tmp/nosuch.expect: cannot open: No such file or directory"
run 0 expect diff "$tmp/ok.expect" "$tmp/more.expect" && [[ $out == *"+ table = public.orders: DELETE"* ]] ||
	fail "expect diff adds: $out"
run 1 expect diff "$tmp/more.expect" "$tmp/ok.expect" && [[ $out == *"ROLLBACK RISK"* ]] ||
	fail "expect diff drops: $out"
run 2 expect diff "$tmp/ok.expect" "$tmp/bad.expect" && expect_err "$tmp/bad.expect:4: "
if run 1 expect diff --json "$tmp/more.expect" "$tmp/ok.expect"; then
	jq -e '.rollback_risk == true and .dropped[0].privileges == ["DELETE"]' <<<"$out" >/dev/null ||
		fail "expect diff --json: $out"
fi
for args in "expect" "expect nosuch" "expect check" "expect diff $tmp/ok.expect" \
	"expect diff a b c" "expect check --json $tmp/ok.expect" "expect diff --bogus a b"; do
	# shellcheck disable=SC2086 # word splitting is the point
	run 2 $args && one_line_usage
done
if run 0 help expect; then
	[[ $out == *"faultline expect diff [--json] OLD NEW"* ]] || fail "help expect: $out"
fi
# Contradictions are refused, not resolved by "last wins"; an option error names the option,
# whichever way its value was written.
run 2 verify --release 2.4.1 --canary app1 --no-canary &&
	expect_err "faultline verify: --canary and --no-canary contradict each other"
run 2 verify --release 2.4.1 --release 2.4.2 &&
	expect_err "faultline verify: --release given twice ('2.4.1' and '2.4.2'): which release?"
run 2 verify --release 2.4.1 --max-latency-ratio -1 &&
	expect_err "faultline verify: --max-latency-ratio wants a number, not '-1'"
run 2 verify --release 2.4.1 --max-error-rate-increase=x &&
	expect_err "faultline verify: --max-error-rate-increase wants a number, not 'x'"
run 2 verify --release 2.4.1 --window soon &&
	expect_err "faultline verify: --window wants a duration up to 10m, not 'soon'"
# Repeating an option with the same value, and one --rollback-to, are not contradictions: the
# usage is accepted and the CLI goes on to the (absent) collector.
run 2 -C "$sock" verify --release 2.4.1 --release 2.4.1 --rollback-to 2.4.0 --canary app1 &&
	expect_err "cannot reach the collector"

# --- help and version -------------------------------------------------------------------
if run 0 --version; then
	[[ $out =~ ^faultline\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "--version printed '$out'"
fi
if run 0 --help; then
	for section in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS "EXIT STATUS" ENVIRONMENT EXAMPLES \
		FAULTLINE_CONTROL NO_COLOR status hosts history diagnose; do
		[[ $out == *"$section"* ]] || fail "--help lacks '$section'"
	done
fi
run 0 help && [[ $out == *SYNOPSIS* ]] || fail "'faultline help' printed no manual"
for cmd in status hosts history diagnose probe-now; do
	if run 0 help $cmd; then
		via_help=$out
		for section in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" EXAMPLES "faultline $cmd"; do
			[[ $out == *"$section"* ]] || fail "help $cmd lacks '$section'"
		done
		run 0 -C "$sock" $cmd --help && [[ $out == "$via_help" ]] ||
			fail "'$cmd --help' differs from 'help $cmd'"
		run 0 $cmd -h && [[ $out == "$via_help" ]] || fail "'$cmd -h' differs from 'help $cmd'"
	fi
done

if ((failures > 0)); then
	echo "$failures check(s) failed"
	exit 1
fi
echo "PASS"
