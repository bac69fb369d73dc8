#!/usr/bin/env bash
# run.sh - build every libFuzzer target and run each for a bounded time; CI calls this.
#
# Usage: tests/fuzz/run.sh [SECONDS] [TARGET...]
#   SECONDS   time per target (default 20)
#   TARGET    run only these (default: all)
# Environment: FL_FUZZ_BUILD (default <repo>/build-fuzz), CC (default clang-14),
#              FL_FUZZ_JOBS (build parallelism, default 2).
#
# Each target starts from the committed seeds in tests/fuzz/corpus/<target>/ (every seed,
# including kept crash inputs, is first replayed as a regression test) and writes what it
# discovers into a scratch corpus under the build dir, never into the repo. A crash, leak,
# sanitizer report or timeout makes the script exit 1; the input is saved as
# <build>/tests/fuzz/artifacts/<target>/crash-* and the command to reproduce it is printed.
# To keep a fixed crash as a regression seed, copy the file into tests/fuzz/corpus/<target>/.
set -euo pipefail

secs=${1:-20}
shift || true
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${FL_FUZZ_BUILD:-$src/build-fuzz}
cc=${CC:-clang-14}
jobs=${FL_FUZZ_JOBS:-2}
all=(fl_wire_decode_report fl_wire_decode_request fl_wire_decode_response
	fl_wire_decode_survey_request fl_wire_decode_survey_reply fl_sign_verify_report
	agent_expect_parse agent_config_parse coll_config_load coll_state_apply coll_api_query)
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${all[@]}")

if ! command -v "$cc" >/dev/null; then
	echo "run.sh: $cc not found (apt-get install clang-14 libclang-rt-14-dev, or set CC)" >&2
	exit 2
fi

# Warnings are gated by the gcc build; clang's extra ones must not stop the fuzzers.
CC=$cc cmake -S "$src" -B "$build" -DFL_FUZZ=ON -DFL_TESTS=OFF -DFL_WERROR=OFF \
	-DFL_SANITIZER=address,undefined -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$jobs" --target fuzz >/dev/null

failed=()
summary=()
for t in "${targets[@]}"; do
	bin=$build/tests/fuzz/$t
	seeds=$src/tests/fuzz/corpus/$t
	work=$build/tests/fuzz/work/$t
	art=$build/tests/fuzz/artifacts/$t
	log=$build/tests/fuzz/$t.log
	mkdir -p "$work" "$art"
	opts=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536
		-print_final_stats=1 -artifact_prefix="$art/")
	case $t in
	agent_* | coll_*) opts+=(-dict="$src/tests/fuzz/ini.dict") ;;
	esac
	echo "== $t (${secs}s)"
	if "$bin" "${opts[@]}" "$work" "$seeds" >"$log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
		cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
		ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
		summary+=("$(printf '%-32s ok    execs %-9s exec/s %-7s cov %-5s ft %s' \
			"$t" "$execs" "$rate" "$cov" "$ft")")
	else
		failed+=("$t")
		crash=$(ls -t "$art" 2>/dev/null | head -1 || true)
		summary+=("$(printf '%-32s FAIL  see %s' "$t" "$log")")
		grep -E 'ERROR:|SUMMARY:|invariant broken|#[0-9]+ 0x' "$log" | head -20 >&2 || true
		[[ -n $crash ]] && echo "reproduce: $bin $art/$crash" >&2
	fi
done

printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
	echo "run.sh: crashes in: ${failed[*]}" >&2
	exit 1
fi
