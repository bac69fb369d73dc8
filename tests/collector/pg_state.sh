#!/bin/bash
# pg_state.sh COMMAND [ARG...] - runs COMMAND against a state database on a real PostgreSQL 15
# (tests/lib/dbservers.sh starts it in a temp dir): database `flstate` owned by the login `app`,
# whose URI and password file COMMAND finds in FL_SQL_TEST_TARGET and FL_SQL_TEST_PASSWORD_FILE.
# The run fails when COMMAND fails, and when the password shows anywhere in its output.
# Needs root. Env: FL_SOURCE.

set -uo pipefail
FL_SOURCE=${FL_SOURCE:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$FL_SOURCE/tests/lib/dbservers.sh"
. "$FL_SOURCE/tests/lib/pgstate.sh"

OUT=$(mktemp /tmp/fl-pgstate-out.XXXXXX)
trap 'fl_db_cleanup; rm -f "$OUT"' EXIT
fl_pgstate_start || exit 1
export FL_SQL_TEST_TARGET=$FL_STATE_PG_URL FL_SQL_TEST_PASSWORD_FILE=$FL_PG_PASSWORD_FILE

"$@" >"$OUT" 2>&1
rc=$?
cat "$OUT"
if grep -qF -- "$FL_DB_PASSWORD" "$OUT"; then
	echo "pg_state: the state database's password shows in the output" >&2
	exit 1
fi
exit $rc
