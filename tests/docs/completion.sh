#!/usr/bin/env bash
# completion.sh - the bash completions in completion/ complete what the programs take:
# commands and options (read from the programs' own --help), option values (files, log
# levels), and host names from a real collector with two agents, through -C or
# FAULTLINE_CONTROL; with no collector reachable they offer nothing, quickly.
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"
fl_init

COMP=$FL_SOURCE/completion
for f in faultline faultline-agent faultline-collector; do
	bash -n "$COMP/$f" || fl_fail "completion/$f is not valid bash"
done
# The programs as the completion finds them: on PATH, by the name typed.
export PATH=$FL_BUILD/cli:$FL_BUILD/agent:$FL_BUILD/collector:$PATH

# complete FILE FUNCTION WORD...: what FUNCTION offers for the command line WORD... (the cursor
# is on the last word), sorted, on one line. Each word is split at ':' and '=' into several
# COMP_WORDS, as bash does (COMP_WORDBREAKS): "-C ipc:///x" arrives as -C, ipc, :, ///x.
complete() {
	local file=$1 fn=$2 w
	local -a split=()
	shift 2
	for w in "$@"; do
		while [[ $w =~ ^([^:=]*)([:=]+)(.*)$ ]]; do
			[[ -z ${BASH_REMATCH[1]} ]] || split+=("${BASH_REMATCH[1]}")
			split+=("${BASH_REMATCH[2]}")
			w=${BASH_REMATCH[3]}
		done
		split+=("$w")
	done
	# shellcheck disable=SC2016 # expanded by the child shell
	bash -c 'source "$1"; fn=$2; shift 2; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		"$fn"; printf "%s\n" "${COMPREPLY[@]}"' _ "$file" "$fn" "${split[@]}" | sort | xargs
}

# Each file registers itself, also when loaded the way bash-completion loads it.
out=$(bash -c "source /usr/share/bash-completion/bash_completion; source $COMP/faultline;
	source $COMP/faultline-collector; complete -p faultline faultline-collector") ||
	fl_fail "loading the completions with bash-completion failed: $out"
[[ $out == *"-F _faultline faultline"* && $out == *"-F _faultline_agent faultline-collector"* ]] ||
	fl_fail "completions not registered: $out"

# Commands: exactly those of `faultline --help`.
want=$(faultline --help | sed -n '/^COMMANDS$/,/^$/p' | awk 'NF > 1 {print $1}' | sort | xargs)
assert_eq "faultline <TAB> offers the commands of --help" "$want" \
	"$(complete "$COMP/faultline" _faultline faultline '')"
[[ $want == *status* && $want == *verify* && $want == *help* ]] || fl_fail "commands: $want"
assert_eq "faultline di<TAB>" "diagnose" "$(complete "$COMP/faultline" _faultline faultline di)"
assert_eq "faultline help pro<TAB>" "probe-now" \
	"$(complete "$COMP/faultline" _faultline faultline help pro)"
assert_eq "faultline expect <TAB> offers its subcommands" "capture check diff" \
	"$(complete "$COMP/faultline" _faultline faultline expect '')"
touch "$FL_TMP/release.expect"
assert_eq "faultline expect diff FILE<TAB>" "$FL_TMP/release.expect" \
	"$(complete "$COMP/faultline" _faultline faultline expect diff "$FL_TMP/release.ex")"
printf '[agent]\n[postgres "orders"]\n[mysql "legacy"]\n[http "app"]\n' >"$FL_TMP/capture.conf"
assert_eq "faultline expect capture -c CONF --probe <TAB> offers its database probes" \
	"legacy orders" \
	"$(complete "$COMP/faultline" _faultline faultline expect capture -c "$FL_TMP/capture.conf" --probe '')"
assert_eq "faultline expect capture --sch<TAB>" "--schema" \
	"$(complete "$COMP/faultline" _faultline faultline expect capture --sch)"
assert_eq "faultline-agent -c CONF --capture-expectations <TAB>" "legacy orders" \
	"$(complete "$COMP/faultline-agent" _faultline_agent faultline-agent -c "$FL_TMP/capture.conf" --capture-expectations '')"
assert_eq "faultline watch --in<TAB>" "--interval" \
	"$(complete "$COMP/faultline" _faultline faultline watch --in)"
assert_eq "global options: faultline --tls-<TAB>" \
	"--tls-ca --tls-cert --tls-key --tls-server-name" \
	"$(complete "$COMP/faultline" _faultline faultline --tls-)"
assert_eq "a global option's value does not end the options: faultline -C URL hi<TAB>" "history" \
	"$(complete "$COMP/faultline" _faultline faultline -C ipc:///x hi)"
# help_long_options TEXT: the --options of TEXT's OPTIONS block, sorted, on one line.
help_long_options() {
	sed -n '/^OPTIONS$/,/^$/p' <<<"$1" | grep -E '^ +-' | sed -E 's/^ +//; s/  .*//' |
		grep -oE -- '--[a-z][a-z0-9-]*' | sort -u | xargs
}
want=$(help_long_options "$(faultline help history)")
[[ $want == *--since* && $want == *--limit* && $want == *--json* ]] || fl_fail "history: $want"
assert_eq "command options: faultline history --<TAB> offers those of its help" "$want" \
	"$(complete "$COMP/faultline" _faultline faultline history --)"
assert_eq "verify --r<TAB>" "--release --rollback-to --rounds" \
	"$(complete "$COMP/faultline" _faultline faultline verify --r)"
touch "$FL_TMP/ca.crt"
assert_eq "--tls-ca takes a file" "$FL_TMP/ca.crt" \
	"$(complete "$COMP/faultline" _faultline faultline --tls-ca "$FL_TMP/ca.")"

# Host names from a real collector.
fl_start_collector
for h in app1 app2; do
	fl_agent_conf "$FL_TMP/$h.conf" "$h"
	printf '[dns "localhost"]\nname = localhost\n' >>"$FL_TMP/$h.conf"
	fl_start_agent "$h"
done
hosts_known() { [[ $(fl_cli_json hosts | jq -r '[.hosts[].host] | sort | join(" ")') == "app1 app2" ]]; }
wait_for "both agents reported" 20 hosts_known
unset FAULTLINE_CONTROL
assert_eq "faultline -C URL status --host <TAB> asks the collector" "app1 app2" \
	"$(complete "$COMP/faultline" _faultline faultline -C "$FL_CONTROL" status --host '')"
assert_eq "--control=URL diagnose --host a<TAB>" "app1 app2" \
	"$(complete "$COMP/faultline" _faultline faultline --control="$FL_CONTROL" diagnose --host a)"
assert_eq "verify --hosts app1,<TAB> completes the list's next element" "app1,app1 app1,app2" \
	"$(complete "$COMP/faultline" _faultline faultline -C "$FL_CONTROL" verify --hosts app1,)"
assert_eq "faultline forget <TAB> offers the hosts" "app1 app2" \
	"$(complete "$COMP/faultline" _faultline faultline -C "$FL_CONTROL" forget '')"
assert_eq "FAULTLINE_CONTROL is used when -C is not typed" "app2" \
	"$(FAULTLINE_CONTROL=$FL_CONTROL complete "$COMP/faultline" _faultline faultline status --host app2)"
start=$SECONDS
assert_eq "no collector: no host names" "" \
	"$(complete "$COMP/faultline" _faultline faultline -C "ipc://$FL_TMP/none.sock" status --host '')"
((SECONDS - start <= 3)) || fl_fail "completing with no collector took $((SECONDS - start))s"

# The daemons.
want=$(faultline-agent --help | sed -n '/^Options:/,/^$/p' |
	grep -oE '(^|[[:space:],])--?[A-Za-z][A-Za-z0-9-]*' | tr -d ' ,' | sort | xargs)
assert_eq "faultline-agent -<TAB> offers the options of --help" "$want" \
	"$(complete "$COMP/faultline-agent" _faultline_agent faultline-agent -)"
[[ $want == *--check-config* && $want == *--once* ]] || fl_fail "agent options: $want"
assert_eq "faultline-agent --log-level <TAB>" "debug err info notice warn" \
	"$(complete "$COMP/faultline-agent" _faultline_agent faultline-agent --log-level '')"
assert_eq "faultline-agent -c FILE" "$FL_SOURCE/deploy/agent.conf.example" \
	"$(complete "$COMP/faultline-agent" _faultline_agent faultline-agent -c "$FL_SOURCE/deploy/agent.conf.e")"
assert_eq "faultline-collector --st<TAB>" "--state" \
	"$(complete "$COMP/faultline-collector" _faultline_agent faultline-collector --st)"
