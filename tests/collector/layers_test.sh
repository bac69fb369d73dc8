#!/usr/bin/env bash
# layers_test.sh - the collector's include graph runs one way (scripts/check-layers.sh,
# docs/collector-layers.md): the tree passes, and the check does catch an arrow pointing up, an
# arrow within a level, a file of no known module and nng in the state.
set -euo pipefail

SRC=${FL_SOURCE:?FL_SOURCE is set by ctest}
CHECK=$SRC/scripts/check-layers.sh
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

out=$(bash "$CHECK" "$SRC/collector/src") || fail "the tree breaks the layers:"$'\n'"$out"
echo "ok: collector/src runs one way"

# expect_caught NAME EDIT-COMMAND EXPECTED-TEXT: a copy of the tree with one wrong arrow fails.
expect_caught() {
	rm -rf "$TMP/src"
	cp -r "$SRC/collector/src" "$TMP/src"
	(cd "$TMP/src" && eval "$2")
	if out=$(bash "$CHECK" "$TMP/src"); then
		fail "$1: not caught"
	fi
	grep -qF "$3" <<<"$out" || fail "$1: caught, but the message does not say '$3': $out"
	echo "ok: $1 caught: $out"
}

expect_caught "state including the server" \
	"sed -i 's|#include \"store.h\"|#include \"store.h\"\n#include \"server.h\"|' state.h" \
	'state.h includes server.h'
expect_caught "verify including the hub" \
	"sed -i 's|#include \"verify.h\"|#include \"verify.h\"\n#include \"hub.h\"|' verify.c" \
	'verify.c includes hub.h'
expect_caught "auth including verify (same level)" \
	"sed -i 's|#include \"auth.h\"|#include \"auth.h\"\n#include \"verify.h\"|' auth.c" \
	'auth.c includes verify.h'
expect_caught "a module of a helper file (verify_steps) including control" \
	"sed -i 's|#include \"verify_steps.h\"|#include \"verify_steps.h\"\n#include \"control.h\"|' verify_steps.c" \
	'verify_steps.c includes control.h'
expect_caught "a file of no known module" "echo '// new' > newmodule.c" \
	'newmodule.c: not in the layer table'
expect_caught "nng in the state" \
	"sed -i 's|#include <stdint.h>|#include <stdint.h>\n\n#include <nng/nng.h>|' state.h" \
	'state.h includes nng'
