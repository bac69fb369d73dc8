// sql.c - see sql.h: engine choice, the fence, and the calls every engine shares.

#include "sql.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sql_engine.h"

fl_sql_engine
fl_sql_target_engine(const char *target)
{
	size_t key;

	if (target == NULL) {
		return FL_SQL_SQLITE;
	}
	if (strncmp(target, "postgresql://", 13) == 0 || strncmp(target, "postgres://", 11) == 0) {
		return FL_SQL_PGSQL;
	}
	// A conninfo starts with a keyword and '=' ("host=db1 ...", "dbname = x"); a path starts
	// with '/', '.' or a name with no '=' right after it.
	key = strspn(target, "abcdefghijklmnopqrstuvwxyz_");
	if (key == 0) {
		return FL_SQL_SQLITE;
	}
	key += strspn(target + key, " \t");
	return target[key] == '=' ? FL_SQL_PGSQL : FL_SQL_SQLITE;
}

int
fl_sql_check_target(const char *target, char *err, size_t errlen)
{
	if (target == NULL || target[0] == '\0') {
		snprintf(err, errlen, "no database named");
		return -1;
	}
	if (fl_sql_target_engine(target) == FL_SQL_PGSQL) {
		return fl_sql_pgsql_check_target(target, err, errlen);
	}
	return 0;
}

int
fl_sql_fail(fl_sql *db, int rv, const char *fmt, ...)
{
	va_list ap;
	size_t  n;

	va_start(ap, fmt);
	vsnprintf(db->errmsg, sizeof(db->errmsg), fmt, ap);
	va_end(ap);
	// libpq's messages end in a newline; a log line must not.
	n = strlen(db->errmsg);
	while (n > 0 && (db->errmsg[n - 1] == '\n' || db->errmsg[n - 1] == ' ')) {
		db->errmsg[--n] = '\0';
	}
	return rv;
}

int
fl_sql_count_params(const char *sql)
{
	int  max   = 0;
	char quote = 0;

	for (const char *p = sql; *p != '\0'; p++) {
		if (quote != 0) {
			if (*p == quote) {
				quote = 0;
			}
			continue;
		}
		if (*p == '\'' || *p == '"') {
			quote = *p;
		} else if (p[0] == '-' && p[1] == '-') {
			p += strcspn(p, "\n");
			if (*p == '\0') {
				break;
			}
		} else if (*p == '$' && p[1] >= '0' && p[1] <= '9') {
			int n = 0;
			while (p[1] >= '0' && p[1] <= '9') {
				n = n * 10 + (*++p - '0');
				if (n > FL_SQL_MAX_PARAMS) {
					return -1;
				}
			}
			if (n == 0) {
				return -1;
			}
			max = n > max ? n : max;
		}
	}
	return max;
}

static const fl_sql_engine_ops *
ops_of(fl_sql_engine e)
{
	return e == FL_SQL_PGSQL ? &fl_sql_pgsql_ops : &fl_sql_sqlite_ops;
}

int
fl_sql_open(const fl_sql_opts *o, fl_sql **out, char *err, size_t errlen)
{
	fl_sql *db = NULL;
	int     rv;

	if (o == NULL || o->target == NULL || o->target[0] == '\0') {
		snprintf(err, errlen, "no database named (state is empty)");
		return FL_SQL_ERROR;
	}
	if ((rv = ops_of(fl_sql_target_engine(o->target))->open(o, &db, err, errlen)) !=
	    FL_SQL_OK) {
		return rv;
	}
	db->readonly  = o->readonly;
	db->errmsg[0] = '\0';
	*out          = db;
	return FL_SQL_OK;
}

void
fl_sql_close(fl_sql *db)
{
	if (db != NULL) {
		db->ops->close(db);
	}
}

fl_sql_engine
fl_sql_engine_of(const fl_sql *db)
{
	return db->engine;
}

const char *
fl_sql_errmsg(const fl_sql *db)
{
	return db->errmsg[0] != '\0' ? db->errmsg : "no error";
}

int
fl_sql_exec(fl_sql *db, const char *sql)
{
	return db->ops->exec(db, sql);
}

// Inside the open transaction: the lease row's epoch must still be ours.
static int
check_fence(fl_sql *db)
{
	int64_t epoch = 0;
	int     rv;

	if ((rv = db->ops->read_fence(db, &epoch)) != FL_SQL_OK) {
		return rv;
	}
	if (epoch != db->fence) {
		return fl_sql_fail(db, FL_SQL_EFENCED,
		    "fenced: the lease epoch is %lld, this connection writes for epoch %lld "
		    "(another "
		    "collector is active)",
		    (long long) epoch, (long long) db->fence);
	}
	return FL_SQL_OK;
}

int
fl_sql_begin(fl_sql *db)
{
	int rv;

	if ((rv = db->ops->begin(db)) != FL_SQL_OK) {
		return rv;
	}
	if (db->fence > 0 && !db->readonly && (rv = check_fence(db)) != FL_SQL_OK) {
		char keep[sizeof(db->errmsg)];
		memcpy(keep, db->errmsg, sizeof(keep));
		db->ops->rollback(db);
		memcpy(db->errmsg, keep, sizeof(keep)); // the rollback must not hide why
		return rv;
	}
	return FL_SQL_OK;
}

int
fl_sql_commit(fl_sql *db)
{
	return db->ops->commit(db);
}

void
fl_sql_rollback(fl_sql *db)
{
	db->ops->rollback(db);
}

void
fl_sql_set_fence(fl_sql *db, int64_t epoch)
{
	db->fence = epoch > 0 ? epoch : 0;
}

int
fl_sql_prepare(fl_sql *db, const char *sql, fl_sql_stmt **out)
{
	return db->ops->prepare(db, sql, out);
}

void
fl_sql_finalize(fl_sql_stmt *st)
{
	if (st != NULL) {
		st->db->ops->finalize(st);
	}
}

int
fl_sql_bind_int64(fl_sql_stmt *st, int idx, int64_t v)
{
	return st->db->ops->bind_int64(st, idx, v);
}

int
fl_sql_bind_text(fl_sql_stmt *st, int idx, const char *s)
{
	return s == NULL ? st->db->ops->bind_null(st, idx) : st->db->ops->bind_text(st, idx, s);
}

int
fl_sql_bind_blob(fl_sql_stmt *st, int idx, const void *p, size_t n)
{
	return st->db->ops->bind_blob(st, idx, p, n);
}

int
fl_sql_bind_null(fl_sql_stmt *st, int idx)
{
	return st->db->ops->bind_null(st, idx);
}

int
fl_sql_step(fl_sql_stmt *st)
{
	return st->db->ops->step(st);
}

int64_t
fl_sql_column_int64(fl_sql_stmt *st, int col)
{
	return st->db->ops->column_int64(st, col);
}

const char *
fl_sql_column_text(fl_sql_stmt *st, int col)
{
	const char *s = st->db->ops->column_text(st, col);
	return s != NULL ? s : "";
}

const void *
fl_sql_column_blob(fl_sql_stmt *st, int col, size_t *len)
{
	return st->db->ops->column_blob(st, col, len);
}

bool
fl_sql_column_is_null(fl_sql_stmt *st, int col)
{
	return st->db->ops->column_is_null(st, col);
}

int64_t
fl_sql_changes(const fl_sql_stmt *st)
{
	return st->db->ops->changes(st);
}

void
fl_sql_reset(fl_sql_stmt *st)
{
	st->db->ops->reset(st);
}
