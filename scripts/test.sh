#!/usr/bin/env bash
# test.sh - the full check CI runs: deps, a sanitizer build with warnings as errors, the
# formatting check, and every ctest test (unit, database, integration).
#
#   bash scripts/test.sh [BUILD_DIR]     (default: build-ci in the source tree)
#
# Environment: FL_JOBS (default 2) build/test parallelism; FL_SANITIZER (default
# address,undefined); FL_CTEST_ARGS ctest arguments (default "-LE soak"; e.g. "-L unit").
# Exits non-zero on the first failing step.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$src/build-ci}
jobs=${FL_JOBS:-2}
san=${FL_SANITIZER:-address,undefined}

step() { printf '\n==> %s\n' "$*"; }

step "dependencies"
if [[ $(id -u) -eq 0 ]]; then
	bash "$src/scripts/install-deps.sh"
else
	echo "not root: skipping install-deps (run as root to install missing packages)"
fi

step "configure $build (sanitizer: $san, -Werror)"
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DFL_WERROR=ON -DFL_TESTS=ON \
	-DFL_SANITIZER="$san"

step "build (-j$jobs)"
cmake --build "$build" -j"$jobs"

step "clang-format check"
# Every C source and header of the project; build trees (ours, and dpkg-buildpackage's obj-*
# and debian/<package>) hold generated code and are skipped.
mapfile -d '' files < <(find "$src" \( -path "$src/build*" -o -path "$src/.git" -o -path "$src/.cache" \
	-o -path "$src/obj-*" -o -path "$src/debian" \) \
	-prune -o -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z)
echo "${#files[@]} files"
clang-format --dry-run -Werror "${files[@]}"

step "fuzz: every libFuzzer target for ${FL_FUZZ_SECONDS:-10}s (tests/fuzz/run.sh)"
# Before ctest, so that ctest's summary closes the log. FL_FUZZ_SECONDS=0 skips it.
if [ "${FL_FUZZ_SECONDS:-10}" != 0 ]; then
	bash "$src/tests/fuzz/run.sh" "${FL_FUZZ_SECONDS:-10}"
fi

step "ctest (-j$jobs)"
# Sanitizers: stop at the first report, and fail on leaks.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-}
# shellcheck disable=SC2086 # FL_CTEST_ARGS is a list of words on purpose
# Default: every test but the `soak` label (testbed row 8's one-minute holds, ~3 min; CI runs the
# row with 30 s holds in testbed_faults; `ctest -L soak`).
(cd "$build" && ctest --output-on-failure -j"$jobs" --timeout 600 ${FL_CTEST_ARGS:--LE soak})

step "all checks passed"
