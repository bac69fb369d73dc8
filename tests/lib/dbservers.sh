# dbservers.sh - start and stop a real PostgreSQL 15 and a real MariaDB for tests (sourced).
#
#   . "$FL_SOURCE/tests/lib/dbservers.sh"
#   trap fl_db_cleanup EXIT
#   fl_pg_start            # exports FL_PG_PORT FL_PG_SOCKDIR FL_PG_PID FL_PG_PASSWORD_FILE ...
#   fl_my_start            # exports FL_MY_PORT FL_MY_SOCKET FL_MY_PID FL_MY_PASSWORD_FILE ...
#   fl_pg_sql "REVOKE SELECT ON orders FROM app"      # as superuser, database orders
#   fl_my_sql "REVOKE UPDATE ON legacy.customers FROM 'app'@'127.0.0.1'"
#   fl_pg_stop; fl_my_stop; fl_db_cleanup              # idempotent; cleanup removes everything
#
# Both servers live in one temp dir (FL_DB_DIR), listen on 127.0.0.1 on free high ports, and
# keep their sockets there. Administrative SQL goes over the Unix socket with OS-identity auth
# (peer for PostgreSQL, unix_socket for MariaDB root), so no admin password exists. The
# application login `app` uses a password over TCP (scram-sha-256 / mysql_native_password),
# random per run, in FL_DB_PASSWORD and in mode-0600 files FL_PG_PASSWORD_FILE /
# FL_MY_PASSWORD_FILE: tests grep their outputs for it to prove it never leaks.
#
# Demo schema (what tests and the demo release's expectations refer to):
#   PostgreSQL database `orders`: schema public (USAGE to app), tables orders(id serial,
#   customer text, discount_code text, total numeric) and order_items(order_id, sku, qty),
#   sequence orders_id_seq, function place_order(integer). app: SELECT/INSERT/UPDATE on
#   orders, SELECT/INSERT on order_items, USAGE on orders_id_seq, EXECUTE on place_order.
#   MariaDB database `legacy`: table customers(id, email, name); app@127.0.0.1 and app@localhost
#   have SELECT, UPDATE on legacy.customers (table level).
#
# Connection limits are set low on purpose so a test can exhaust them: PostgreSQL
# max_connections=8 with 3 reserved for superusers (app gets 5), MariaDB max_connections=10 (its minimum)
# (plus one for root). Override with FL_PG_MAX_CONN / FL_MY_MAX_CONN before starting.
# FL_MY_BINLOG=1 before fl_my_start keeps a binary log (server_id 1), so a replica can follow it.
#
# Needs root (servers run as users postgres and mysql via runuser) and the Debian packages
# postgresql-15 and mariadb-server. A missing server is an error saying how to install it.

FL_PG_BIN=${FL_PG_BIN:-/usr/lib/postgresql/15/bin}

fl_db_die() {
	echo "dbservers: $*" >&2
	return 1
}

# A free TCP port on 127.0.0.1 (the kernel picks it; a small race remains until the server binds).
fl_db_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

fl_db_dir() {
	if [ -z "${FL_DB_DIR:-}" ] || [ ! -d "$FL_DB_DIR" ]; then
		FL_DB_DIR=$(mktemp -d /tmp/fl-db.XXXXXX) || return 1
		# postgres and mysql must traverse it (mktemp makes 0700)
		chmod 755 "$FL_DB_DIR"
		export FL_DB_DIR
	fi
	if [ -z "${FL_DB_PASSWORD:-}" ]; then
		FL_DB_PASSWORD="pw$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20)"
		export FL_DB_PASSWORD
	fi
}

# Waits until "$@" succeeds, polling every 50 ms, at most $1 seconds.
fl_db_wait() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 20; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

# ---------------------------------------------------------------- PostgreSQL 15

fl_pg_start() {
	[ "$(id -u)" = 0 ] || fl_db_die "must run as root (servers run as user postgres)" || return 1
	[ -x "$FL_PG_BIN/initdb" ] ||
		fl_db_die "PostgreSQL 15 missing: apt-get install -y postgresql-15" || return 1
	fl_db_dir || return 1
	local d=$FL_DB_DIR/pg
	mkdir -p "$d/run" && chown postgres:postgres "$d" "$d/run" && chmod 700 "$d" || return 1
	if [ ! -f "$d/data/PG_VERSION" ]; then
		runuser -u postgres -- "$FL_PG_BIN/initdb" -D "$d/data" -U postgres -E UTF8 \
			--locale=C.UTF-8 --auth-local=peer --auth-host=scram-sha-256 \
			>"$d/initdb.log" 2>&1 || {
			cat "$d/initdb.log" >&2
			fl_db_die "initdb failed"
			return 1
		}
	fi
	FL_PG_PORT=${FL_PG_PORT:-$(fl_db_free_port)}
	FL_PG_SOCKDIR=$d/run
	FL_PG_DATA=$d/data
	export FL_PG_PORT FL_PG_SOCKDIR FL_PG_DATA
	runuser -u postgres -- "$FL_PG_BIN/pg_ctl" -D "$d/data" -l "$d/server.log" -w -t 30 \
		-o "-c listen_addresses=127.0.0.1 -c port=$FL_PG_PORT -c unix_socket_directories=$d/run \
-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=16MB \
-c max_connections=${FL_PG_MAX_CONN:-8} -c superuser_reserved_connections=3 \
-c password_encryption=scram-sha-256 -c log_min_messages=warning" \
		start >"$d/pg_ctl.log" 2>&1 || {
		tail -20 "$d/server.log" >&2
		fl_db_die "postgres did not start (port $FL_PG_PORT)"
		return 1
	}
	FL_PG_PID=$(head -1 "$d/data/postmaster.pid")
	export FL_PG_PID
	[ -f "$d/.demo" ] || { fl_pg_demo && touch "$d/.demo"; } || return 1
}

# Runs SQL as superuser over the Unix socket: fl_pg_sql "SQL" [database, default orders].
# Prints rows unaligned, tuples only; fails on the first error.
fl_pg_sql() {
	runuser -u postgres -- psql -X -q -At -v ON_ERROR_STOP=1 -h "$FL_PG_SOCKDIR" \
		-p "$FL_PG_PORT" -U postgres -d "${2:-orders}" -c "$1"
}

fl_pg_demo() {
	FL_PG_PASSWORD_FILE=$FL_DB_DIR/pg.password
	(umask 077 && printf '%s\n' "$FL_DB_PASSWORD" >"$FL_PG_PASSWORD_FILE")
	export FL_PG_PASSWORD_FILE
	# The password goes in on stdin, not argv, so it does not show in ps.
	printf "CREATE ROLE app LOGIN PASSWORD '%s';\n" "$FL_DB_PASSWORD" |
		runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -h "$FL_PG_SOCKDIR" \
			-p "$FL_PG_PORT" -U postgres -d postgres >/dev/null || return 1
	fl_pg_sql "CREATE DATABASE orders" postgres >/dev/null || return 1
	fl_pg_sql "
REVOKE ALL ON DATABASE orders FROM PUBLIC;
GRANT CONNECT ON DATABASE orders TO app;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO app;
CREATE TABLE orders (id serial PRIMARY KEY, customer text NOT NULL, discount_code text,
  total numeric(12,2) NOT NULL DEFAULT 0, created timestamptz NOT NULL DEFAULT now());
CREATE TABLE order_items (order_id integer NOT NULL REFERENCES orders(id), sku text NOT NULL,
  qty integer NOT NULL);
CREATE FUNCTION place_order(integer) RETURNS integer LANGUAGE sql
  AS 'INSERT INTO orders(customer) VALUES (''c'' || \$1) RETURNING id';
REVOKE ALL ON FUNCTION place_order(integer) FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON orders TO app;
GRANT SELECT, INSERT ON order_items TO app;
GRANT USAGE ON SEQUENCE orders_id_seq TO app;
GRANT EXECUTE ON FUNCTION place_order(integer) TO app;
INSERT INTO orders(customer, discount_code) VALUES ('alice', 'WELCOME');
" >/dev/null
}

fl_pg_running() {
	[ -n "${FL_PG_PID:-}" ] && kill -0 "$FL_PG_PID" 2>/dev/null
}

# Stops PostgreSQL (fast shutdown, kill -9 after 10 s). Data stays until fl_db_cleanup.
fl_pg_stop() {
	fl_pg_running || return 0
	runuser -u postgres -- "$FL_PG_BIN/pg_ctl" -D "$FL_PG_DATA" -m fast -w -t 10 stop \
		>/dev/null 2>&1 || true
	if kill -0 "$FL_PG_PID" 2>/dev/null; then
		kill -9 "$FL_PG_PID" 2>/dev/null || true
		fl_db_wait 5 bash -c "! kill -0 $FL_PG_PID"
		pkill -9 -P "$FL_PG_PID" 2>/dev/null || true
	fi
	FL_PG_PID=
}

# ---------------------------------------------------------------- MariaDB

fl_my_start() {
	[ "$(id -u)" = 0 ] || fl_db_die "must run as root (mariadbd runs as user mysql)" || return 1
	command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] ||
		fl_db_die "MariaDB missing: apt-get install -y mariadb-server" || return 1
	fl_db_dir || return 1
	local d=$FL_DB_DIR/my mysqld=/usr/sbin/mariadbd
	# its own tmpdir: internal temporary tables must not live in (or be cleaned from) /tmp
	mkdir -p "$d/run" "$d/tmp" && chown mysql:mysql "$d" "$d/run" "$d/tmp" && chmod 750 "$d" ||
		return 1
	if [ ! -d "$d/data/mysql" ]; then
		mariadb-install-db --no-defaults --user=mysql --datadir="$d/data" --skip-test-db \
			--auth-root-authentication-method=socket >"$d/install.log" 2>&1 || {
			cat "$d/install.log" >&2
			fl_db_die "mariadb-install-db failed"
			return 1
		}
	fi
	FL_MY_PORT=${FL_MY_PORT:-$(fl_db_free_port)}
	FL_MY_SOCKET=$d/run/mysqld.sock
	export FL_MY_PORT FL_MY_SOCKET
	rm -f "$d/run/mysqld.pid"
	setsid "$mysqld" --no-defaults --user=mysql --datadir="$d/data" --socket="$FL_MY_SOCKET" \
		--pid-file="$d/run/mysqld.pid" --port="$FL_MY_PORT" --bind-address=127.0.0.1 \
		--tmpdir="$d/tmp" \
		--log-error="$d/error.log" --skip-name-resolve \
		$([ "${FL_MY_BINLOG:-0}" = 1 ] && echo "--log-bin=mysql-bin --server-id=1" || echo --skip-log-bin) \
		--innodb-buffer-pool-size=32M --innodb-log-file-size=16M --innodb-flush-log-at-trx-commit=0 \
		--max-connections="${FL_MY_MAX_CONN:-10}" </dev/null >/dev/null 2>&1 &
	FL_MY_PID=$!
	disown "$FL_MY_PID" # no "Killed" job notice when a test kills it on purpose
	export FL_MY_PID
	if ! fl_db_wait 30 mariadb-admin --no-defaults --socket="$FL_MY_SOCKET" -uroot ping; then
		tail -20 "$d/error.log" >&2
		fl_db_die "mariadbd did not start (port $FL_MY_PORT)"
		return 1
	fi
	[ -f "$d/.demo" ] || { fl_my_demo && touch "$d/.demo"; } || return 1
}

# Runs SQL as root over the Unix socket (unix_socket auth): fl_my_sql "SQL" [database].
fl_my_sql() {
	mariadb --no-defaults --socket="$FL_MY_SOCKET" -uroot -N -B ${2:+-D "$2"} -e "$1"
}

fl_my_demo() {
	FL_MY_PASSWORD_FILE=$FL_DB_DIR/my.password
	(umask 077 && printf '%s\n' "$FL_DB_PASSWORD" >"$FL_MY_PASSWORD_FILE")
	export FL_MY_PASSWORD_FILE
	printf "CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY '%s';
CREATE USER 'app'@'localhost' IDENTIFIED BY '%s';\n" "$FL_DB_PASSWORD" "$FL_DB_PASSWORD" |
		mariadb --no-defaults --socket="$FL_MY_SOCKET" -uroot || return 1
	fl_my_sql "
CREATE DATABASE legacy;
CREATE TABLE legacy.customers (id int PRIMARY KEY AUTO_INCREMENT, email varchar(200) NOT NULL,
  name varchar(100));
INSERT INTO legacy.customers(email, name) VALUES ('a@example.org', 'alice');
GRANT SELECT, UPDATE ON legacy.customers TO 'app'@'127.0.0.1';
GRANT SELECT, UPDATE ON legacy.customers TO 'app'@'localhost';
"
}

fl_my_running() {
	[ -n "${FL_MY_PID:-}" ] && kill -0 "$FL_MY_PID" 2>/dev/null
}

# Stops MariaDB: SIGTERM, then kill -9 after 10 s. FL_MY_STOP_KILL=1 skips straight to -9
# (a test that only needs it gone; InnoDB shutdown takes up to 2 s).
fl_my_stop() {
	fl_my_running || return 0
	if [ "${FL_MY_STOP_KILL:-0}" != 1 ]; then
		kill -TERM "$FL_MY_PID" 2>/dev/null || true
		fl_db_wait 10 bash -c "! kill -0 $FL_MY_PID"
	fi
	if kill -0 "$FL_MY_PID" 2>/dev/null; then
		kill -9 "$FL_MY_PID" 2>/dev/null || true
		fl_db_wait 5 bash -c "! kill -0 $FL_MY_PID"
	fi
	wait "$FL_MY_PID" 2>/dev/null || true
	FL_MY_PID=
}

# Stops both servers and removes the temp dir. Safe in an EXIT trap and to call twice.
fl_db_cleanup() {
	fl_pg_stop
	fl_my_stop
	if [ -n "${FL_DB_DIR:-}" ] && [ -d "$FL_DB_DIR" ]; then
		case $FL_DB_DIR in
		/tmp/fl-db.*) rm -rf "$FL_DB_DIR" ;;
		esac
	fi
	FL_DB_DIR=
}
