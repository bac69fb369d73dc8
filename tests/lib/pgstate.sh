# pgstate.sh - a collector state database on the test PostgreSQL (sourced after dbservers.sh).
#
#   fl_pgstate_start   # starts PostgreSQL if needed, (re)creates database flstate owned by app;
#                      # exports FL_STATE_PG_URL (no password in it) and FL_PG_PASSWORD_FILE
#   fl_pgstate_reset   # drops and recreates flstate (a fresh state for the next collector)

fl_pgstate_reset() {
	PGOPTIONS="-c client_min_messages=warning" \
		fl_pg_sql "DROP DATABASE IF EXISTS flstate WITH (FORCE)" postgres >/dev/null &&
		fl_pg_sql "CREATE DATABASE flstate OWNER app" postgres >/dev/null
}

fl_pgstate_start() {
	if ! fl_pg_running; then
		# a collector holds several connections (writer, readers, verifier, notifier...)
		FL_PG_MAX_CONN=${FL_PG_MAX_CONN:-40}
		fl_pg_start || return 1
	fi
	fl_pgstate_reset || return 1
	FL_STATE_PG_URL="postgresql://app@127.0.0.1:$FL_PG_PORT/flstate"
	export FL_STATE_PG_URL
}
