#!/usr/bin/env bash
# json_utf8.sh - JSON output is valid UTF-8 whatever a database server sends, end to end.
# A real MariaDB (tests/lib/dbservers.sh) answers the probe's session in German and in
# Latin-1 (init_connect sets lc_messages and character_set_results, as a server set up for a
# Latin-1 site would), so a replica probe's SHOW REPLICA STATUS is refused with
# "Kein Zugriff. Hierfür wird die Berechtigung ... benötigt" whose ü and ö arrive as single
# bytes, invalid UTF-8. Every --json output that carries the message must still load as
# strict UTF-8 JSON, with U+FFFD where those bytes were: the agent's --once --json, and the
# CLI's status, diagnose and history against a collector the agent reports to. Needs root.
source "${FL_SOURCE:?run via ctest, or set FL_SOURCE and FL_BUILD}/tests/lib/harness.sh"
# shellcheck source=../lib/dbservers.sh
source "$FL_SOURCE/tests/lib/dbservers.sh"

fl_test_cleanup() {
	if [[ $FL_RC -ne 0 && -n ${FL_DB_DIR:-} && -e $FL_DB_DIR/my/error.log ]]; then
		printf '\n----- MariaDB error.log (last 20 lines) -----\n%s\n' \
			"$(tail -n 20 "$FL_DB_DIR/my/error.log")" >&2
	fi
	fl_db_cleanup
}

# strict_json FILE: loads FILE as JSON decoded as strict UTF-8 (python3 raises on any invalid
# byte, and the exit status is then 1); prints every string (key or value) holding U+FFFD.
strict_json() {
	python3 -c '
import json, sys
def strings(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from strings(x)
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)
doc = json.loads(open(sys.argv[1], "rb").read().decode("utf-8", errors="strict"))
for s in strings(doc):
    if "\ufffd" in s:
        print(s)
' "$1"
}

# json_ok WHAT FILE: FILE is valid UTF-8 JSON and one of its strings is the German refusal
# with U+FFFD for the Latin-1 bytes.
json_ok() {
	local what=$1 file=$2 repaired
	repaired=$(strict_json "$file") || fl_fail "$what: not valid UTF-8 JSON: $(head -c 2000 "$file")"
	grep -q $'Hierf\uFFFDr wird die Berechtigung .* ben\uFFFDtigt' <<<"$repaired" ||
		fl_fail "$what: no repaired German refusal among: ${repaired:-<none>}"
	fl_log "ok: $what is valid UTF-8 JSON with U+FFFD for the Latin-1 bytes"
}

fl_init
[[ $(id -u) -eq 0 ]] || fl_fail "must run as root: the database servers run as mysql (sudo ctest ...)"
fl_my_start || fl_fail "cannot start MariaDB (apt-get install mariadb-server)"
fl_my_sql "SET GLOBAL init_connect = 'SET lc_messages = ''de_DE'', character_set_results = ''latin1'''"

# The premise: the server really sends Latin-1 (0xfc for ü) to a non-admin session.
printf '%s\n' "[client]" "password=$(cat "$FL_MY_PASSWORD_FILE")" >"$FL_TMP/my.cnf"
raw=$(mariadb --defaults-extra-file="$FL_TMP/my.cnf" -h 127.0.0.1 -P "$FL_MY_PORT" -u app \
	-N -B -e "SHOW REPLICA STATUS" 2>&1 | od -An -tx1 | tr -d ' \n' || true)
[[ $raw == *$(printf 'Hierf' | od -An -tx1 | tr -d ' \n')fc* ]] ||
	fl_fail "MariaDB did not answer in Latin-1 (got bytes $raw)"
fl_log "ok: MariaDB answers the app's session in Latin-1"

fl_collector_conf "$FL_TMP/collector.conf"
fl_start_collector collector
fl_agent_conf "$FL_TMP/app1.conf" app1 1.0
cat >>"$FL_TMP/app1.conf" <<-CONF

	[mysql "legacy"]
	host = 127.0.0.1
	port = $FL_MY_PORT
	user = app
	database = legacy
	password_file = $FL_MY_PASSWORD_FILE
	replica = yes
CONF

# The agent alone.
"$FL_AGENT_BIN" -c "$FL_TMP/app1.conf" --once --json >"$FL_TMP/once.json" || true
json_ok "faultline-agent --once --json" "$FL_TMP/once.json"

# Through the collector: reported every second, shown by the CLI.
fl_start_agent app1
status_has_refusal() {
	fl_cli_json status >"$FL_TMP/status.json" &&
		jq -e '[.hosts[].probes[] | select(.name == "legacy") | .detail | test("Kein Zugriff")] | any' \
			"$FL_TMP/status.json" >/dev/null
}
wait_for "status shows the refused replica check" 30 status_has_refusal
json_ok "faultline status --json" "$FL_TMP/status.json"

fl_cli_json diagnose >"$FL_TMP/diagnose.json" || fl_fail "faultline diagnose --json failed"
strict_json "$FL_TMP/diagnose.json" >/dev/null ||
	fl_fail "faultline diagnose --json: not valid UTF-8 JSON: $(head -c 2000 "$FL_TMP/diagnose.json")"
fl_log "ok: faultline diagnose --json is valid UTF-8 JSON"

history_has_refusal() {
	fl_cli_json history --since 1h >"$FL_TMP/history.json" &&
		grep -q 'Kein Zugriff' "$FL_TMP/history.json"
}
wait_for "history records the refusal" 30 history_has_refusal
json_ok "faultline history --json" "$FL_TMP/history.json"
