# lib.sh - what the verification tests share (source it after tests/lib/harness.sh): a real
# PostgreSQL 15 (tests/lib/dbservers.sh, its log's tail printed when the test fails), MariaDB
# when asked, and a collector.
# shellcheck source=../lib/dbservers.sh
source "$FL_SOURCE/tests/lib/dbservers.sh"

fl_test_cleanup() {
	if [[ $FL_RC -ne 0 && -n ${FL_DB_DIR:-} && -e $FL_DB_DIR/pg/server.log ]]; then
		printf '\n----- postgres (last 20 lines) -----\n%s\n' "$(tail -n 20 "$FL_DB_DIR/pg/server.log")" >&2
	fi
	fl_db_cleanup
}

# verify_init [--mariadb]: the temp dir, PostgreSQL (and MariaDB), and the collector
# `collector` on $FL_TMP/collector.conf. Needs root: the servers run as postgres and mysql.
verify_init() {
	fl_init
	[[ $(id -u) -eq 0 ]] || fl_fail "must run as root: the database servers run as postgres and mysql (sudo ctest ...)"
	fl_pg_start || fl_fail "cannot start PostgreSQL 15 (apt-get install postgresql-15)"
	if [[ ${1:-} == --mariadb ]]; then
		fl_my_start || fl_fail "cannot start MariaDB (apt-get install mariadb-server)"
	fi
	fl_collector_conf "$FL_TMP/collector.conf"
	fl_start_collector collector
}
