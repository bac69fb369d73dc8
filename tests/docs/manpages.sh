#!/usr/bin/env bash
# manpages.sh - the manuals in man/ are clean roff and say what the programs say:
# `mandoc -T lint` reports nothing (style included) on every page, and check_manpages.py finds
# every option of each program's --help (and of each `faultline help COMMAND`) and every key of
# the example configs and of the README's key tables in its page, and no option the programs do
# not take.
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"
fl_init
command -v mandoc >/dev/null || fl_fail "mandoc not found: run scripts/install-deps.sh as root"

pages=("$FL_SOURCE"/man/*.[1-8])
assert_eq "six manual pages in man/" 6 "${#pages[@]}"
out=$(mandoc -T lint -W style "${pages[@]}" 2>&1) || fl_fail "mandoc -T lint: $out"
[[ -z $out ]] || fl_fail "mandoc -T lint: $out"
fl_log "ok: mandoc -T lint reports nothing on ${pages[*]##*/}"

out=$(python3 "$FL_SOURCE/tests/docs/check_manpages.py" "$FL_SOURCE" "$FL_AGENT_BIN" \
	"$FL_COLLECTOR_BIN" "$FL_CLI_BIN" 2>&1) || fl_fail "the manuals and --help disagree:
$out"
fl_log "ok: every --help option and example key is in its manual page"
