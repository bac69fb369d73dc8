// sql_target.h - the database a store-level test runs on. Each such test binary is registered
// by ctest once per engine: as is (a temporary SQLite file) and through pg_state.sh, which
// starts a real PostgreSQL and passes it in FL_SQL_TEST_TARGET (a URI or conninfo; its password
// in the file FL_SQL_TEST_PASSWORD_FILE). Every helper fails the running test on error.

#ifndef FL_TESTS_SQL_TARGET_H
#define FL_TESTS_SQL_TARGET_H

#include <stdbool.h>
#include <stdint.h>

#include "sql.h"

extern const char *sqlt_target;        // the SQLite file or the PostgreSQL database
extern const char *sqlt_password_file; // NULL for SQLite
extern bool        sqlt_pg;            // sqlt_target is PostgreSQL

// Chooses the target: argv[1], else FL_SQL_TEST_TARGET, else /tmp/fl-NAME-PID.db.
void sqlt_choose(int argc, char **argv, const char *name);

fl_sql *sqlt_open(const fl_sql_opts *o);
void    sqlt_exec(fl_sql *db, const char *sql);
void    sqlt_remove_lite(void); // the SQLite file with its -wal and -shm

// The integer in the first column of the one row sql returns (a count, a stored value).
int64_t sqlt_int(fl_sql *db, const char *sql);
int64_t sqlt_count(fl_sql *db, const char *table); // SELECT count(*) FROM table

// PostgreSQL: ends db's server session from killer (another connection of the same role), as a
// server restart or a cut would; returns once the session is gone.
void sqlt_terminate(fl_sql *db, fl_sql *killer);

#endif // FL_TESTS_SQL_TARGET_H
