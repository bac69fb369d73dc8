#!/bin/bash
# run.sh - starts PostgreSQL 15 and MariaDB (tests/lib/dbservers.sh), extends the demo schema to
# 20 requirements per database, and runs db_bench. Usage: bench/db/run.sh BUILD_DIR [ROUNDS]
# Build without sanitizers for meaningful figures:
#   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release && cmake --build build-rel --target db_bench
set -euo pipefail
FL_SOURCE=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:?usage: run.sh BUILD_DIR [ROUNDS]}
ROUNDS=${2:-500}
. "$FL_SOURCE/tests/lib/dbservers.sh"
trap fl_db_cleanup EXIT
fl_pg_start
fl_my_start
T=$FL_DB_DIR

# 20 requirements each: demo objects plus extra tables/columns granted to app.
fl_pg_sql "$(for i in $(seq 1 8); do echo "CREATE TABLE t$i (id int, v text); GRANT SELECT, INSERT ON t$i TO app;"; done)" >/dev/null
fl_my_sql "$(for i in $(seq 1 14); do echo "CREATE TABLE legacy.t$i (id int, v text); GRANT SELECT, INSERT ON legacy.t$i TO 'app'@'127.0.0.1';"; done)"
{
	echo '[postgres "orders"]'
	echo 'schema   = public: USAGE'
	echo 'table    = public.orders: SELECT, INSERT, UPDATE'
	echo 'table    = public.order_items: SELECT, INSERT'
	echo 'column   = public.orders.discount_code'
	echo 'column   = public.orders.customer: SELECT'
	echo 'sequence = public.orders_id_seq: USAGE'
	echo 'function = public.place_order(integer): EXECUTE'
	for i in $(seq 1 8); do echo "table = public.t$i: SELECT"; done
	for i in $(seq 1 5); do echo "column = public.t$i.v: SELECT, INSERT"; done
	echo '[mysql "legacy"]'
	echo 'schema = legacy'
	echo 'table  = legacy.customers: SELECT, UPDATE'
	echo 'column = legacy.customers.email'
	echo 'column = legacy.customers.name: SELECT'
	for i in $(seq 1 14); do echo "table = legacy.t$i: SELECT, INSERT"; done
	echo 'column = legacy.t1.v: SELECT'
	echo 'column = legacy.t2.v'
} >"$T/bench.expect"
"$BUILD/bench/db/db_bench" "$ROUNDS" "host=127.0.0.1 port=$FL_PG_PORT dbname=orders user=app" \
	"$FL_PG_PASSWORD_FILE" 127.0.0.1 "$FL_MY_PORT" app legacy "$FL_MY_PASSWORD_FILE" "$T/bench.expect"
