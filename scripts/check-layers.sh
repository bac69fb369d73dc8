#!/usr/bin/env bash
# check-layers.sh [SRC_DIR] - the collector's include graph runs one way (docs/collector-layers.md).
#
# Every file of collector/src belongs to a module: its name without extension, or the part
# before its first '_' (verify_steps.c belongs to verify; corr_rules.c, by the alias below, to
# correlate). Each
# module has a level below; a file may include the headers of its own module and of modules
# on a lower level, never one on its own level or above. A file of no known module fails the
# check: place it in LEVELS (and in the doc) when adding it. The modules in NO_NNG must not
# include nng at all: the state and what it stands on are pure data, testable without sockets.
# Exit status: 0 when the graph is clean, 1 with one line per wrong arrow.
set -euo pipefail

SRC=${1:-$(cd "$(dirname "$0")/.." && pwd)/collector/src}

# module level (higher: nearer the top; main starts everything)
LEVELS='
main      90
server    80
ingest    70
exporter  75
api       72
control   70
hub       65
watchdog  60
verify    50
auth      50
listen    50
config    40
survey    30
lease     25
diag      25
notify    30
trace     30
state     20
latency   15
web       15
canary    15
stats     10
rejects   10
pipes     10
store     10
correlate 10
metrics   10
http      10
role      8
sql       5
'
NO_NNG='state store sql correlate canary stats latency metrics trace role lease diag'

# Files named PREFIX_... that belong to another module: the correlation engine's corr_*.c.
declare -A alias=([corr]=correlate)

declare -A level
while read -r m l; do
	[[ -n $m ]] && level[$m]=$l
done <<<"$LEVELS"

module_of() { # FILE -> module name, or "" when none
	local base
	base=$(basename "$1")
	base=${base%.*}
	if [[ -n ${level[$base]+x} ]]; then
		echo "$base"
	elif [[ -n ${level[${base%%_*}]+x} ]]; then
		echo "${base%%_*}"
	elif [[ -n ${alias[${base%%_*}]+x} ]]; then
		echo "${alias[${base%%_*}]}"
	fi
}

bad=0
shopt -s nullglob
files=("$SRC"/*.c "$SRC"/*.h)
if ((${#files[@]} == 0)); then
	echo "check-layers: no sources in $SRC" >&2
	exit 1
fi
for f in "${files[@]}"; do
	name=$(basename "$f")
	m=$(module_of "$f")
	if [[ -z $m ]]; then
		echo "$name: not in the layer table (scripts/check-layers.sh LEVELS, docs/collector-layers.md)"
		bad=1
		continue
	fi
	while IFS= read -r inc; do
		[[ -f $SRC/$inc ]] || continue # fl/..., generated protobuf, system headers
		im=$(module_of "$SRC/$inc")
		[[ -z $im || $im == "$m" ]] && continue
		if ((level[$im] >= level[$m])); then
			echo "$name includes $inc: $m (level ${level[$m]}) may only include lower modules, $im is ${level[$im]}"
			bad=1
		fi
	done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
	for pure in $NO_NNG; do
		if [[ $m == "$pure" ]] && grep -q '^[[:space:]]*#[[:space:]]*include[[:space:]]*<nng/' "$f"; then
			echo "$name includes nng: $m must not need it"
			bad=1
		fi
	done
done
exit $bad
