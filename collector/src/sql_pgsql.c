// sql_pgsql.c - the PostgreSQL engine of sql.h, over libpq.
//
// A connection: PQconnectdbParams with the target expanded (URI or conninfo), the password from
// password_file (never in the target: a target carrying one is refused, so it cannot leak into
// a log line or a ps listing), connect_timeout, application_name, then SET statement_timeout
// and, for read-only connections, default_transaction_read_only. Statements are server-side
// prepared (PQprepare, named fl_<n> per connection); parameters go as text, blobs as binary;
// results come back in text format and are decoded per column type (bytea unescaped, bool as
// 0/1). A result is held whole: every query of the store is bounded by a LIMIT.
//
// Errors: a lost connection (PQstatus bad, SQLSTATE class 08, or the server shutting the
// session down, 57P0x) is FL_SQL_EBROKEN; a statement timeout or a lock or serialization
// conflict is FL_SQL_EBUSY; anything else FL_SQL_ERROR with the server's message. A lost
// connection is connected again by the next call outside a transaction (reconnect_if_lost).

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "fl/cfg.h"
#include "sql_engine.h"

#define PG_PASSWORD_MAX 512
#define PG_BYTEA_OID    17
#define PG_BOOL_OID     16

typedef struct pg_db {
	fl_sql   base;
	PGconn  *conn;
	unsigned next_stmt;  // names fl_1, fl_2, ... on this connection
	unsigned session;    // bumped by each reconnection: statements prepared before are gone
	int      timeout_ms; // statement_timeout, set again in a new session
	bool     in_tx;      // between a successful BEGIN and COMMIT/ROLLBACK
	bool     loss_told;  // a caller got FL_SQL_EBROKEN for the current loss
} pg_db;

typedef struct pg_blob {
	unsigned char *p;
	size_t         n;
} pg_blob;

typedef struct pg_stmt {
	fl_sql_stmt base;
	char        name[24];
	char       *sql;     // the text, to prepare it again in a new session
	unsigned    session; // the session it is prepared in
	int         nparams;
	char      **vals; // nparams heap copies; NULL binds SQL NULL
	int        *lens; // nparams
	int        *fmts; // nparams: 0 text, 1 binary (blobs)
	PGresult   *res;  // the last run's rows
	int         row;  // the current row of res
	bool        ran;
	int64_t     changes;
	pg_blob    *blobs; // per column: the current row's unescaped bytea
	int         nblobs;
} pg_stmt;

static PGconn *
conn_of(fl_sql *db)
{
	return ((pg_db *) db)->conn;
}

static pg_stmt *
pstmt(fl_sql_stmt *st)
{
	return (pg_stmt *) st;
}

// The FL_SQL_E... of a failed result (res may be NULL: out of memory or connection gone).
static int
classify(fl_sql *db, const PGresult *res)
{
	const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (PQstatus(conn_of(db)) == CONNECTION_BAD) {
		return FL_SQL_EBROKEN;
	}
	if (state == NULL) {
		return FL_SQL_ERROR;
	}
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P0", 4) == 0) {
		return FL_SQL_EBROKEN;
	}
	// statement timeout (query_canceled), lock_not_available, serialization, deadlock
	if (strcmp(state, "57014") == 0 || strcmp(state, "55P03") == 0 ||
	    strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0) {
		return FL_SQL_EBUSY;
	}
	return FL_SQL_ERROR;
}

// Records why res failed and returns its FL_SQL_E...; clears res.
static int
result_fail(fl_sql *db, PGresult *res)
{
	int         rv  = classify(db, res);
	const char *msg = res != NULL ? PQresultErrorMessage(res) : "";

	if (rv == FL_SQL_EBROKEN) {
		((pg_db *) db)->loss_told = true;
	}
	if (msg == NULL || msg[0] == '\0') {
		msg = PQerrorMessage(conn_of(db));
	}
	fl_sql_fail(db, rv, "%s", msg != NULL && msg[0] != '\0' ? msg : "unknown PostgreSQL error");
	PQclear(res);
	return rv;
}

static bool
result_ok(const PGresult *res)
{
	ExecStatusType s = PQresultStatus(res);
	return res != NULL &&
	    (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_EMPTY_QUERY);
}

static int reconnect_if_lost(fl_sql *db);

// Runs sql with no parameters; rows are discarded.
static int
pg_exec(fl_sql *db, const char *sql)
{
	PGresult *res;
	int       rv;

	if ((rv = reconnect_if_lost(db)) != FL_SQL_OK) {
		return rv;
	}
	res = PQexec(conn_of(db), sql);

	if (!result_ok(res)) {
		return result_fail(db, res);
	}
	PQclear(res);
	return FL_SQL_OK;
}

// ---- open/close ------------------------------------------------------------------------------

// A target must not carry the password: it belongs in password_file, which no log line shows.
// libpq's messages end in a newline; ours do not.
static void
trim_end(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char) s[n - 1])) {
		s[--n] = '\0';
	}
}

int
fl_sql_pgsql_check_target(const char *target, char *err, size_t errlen)
{
	char             *perr = NULL;
	PQconninfoOption *opts = PQconninfoParse(target, &perr);
	int               rv   = 0;

	if (opts == NULL) {
		snprintf(err, errlen, "invalid PostgreSQL target: %s",
		    perr != NULL ? perr : "out of memory");
		PQfreemem(perr);
		trim_end(err);
		return -1;
	}
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL && o->val[0] != '\0') {
			snprintf(err, errlen,
			    "the PostgreSQL target must not contain a password (use "
			    "password_file)");
			rv = -1;
		}
	}
	PQconninfoFree(opts);
	return rv;
}

// Cuts every copy of secret out of msg (libpq does not echo passwords; this makes sure).
static void
redact(char *msg, const char *secret)
{
	size_t n = strlen(secret);
	char  *p;

	if (n == 0) {
		return;
	}
	while ((p = strstr(msg, secret)) != NULL) {
		memmove(p + 3, p + n, strlen(p + n) + 1);
		memcpy(p, "***", 3);
	}
}

// The server's notices ("relation ... already exists, skipping") are not errors; libpq would
// print them on stderr.
static void
ignore_notice(void *arg, const char *message)
{
	(void) arg;
	(void) message;
}

static void
pg_close(fl_sql *db)
{
	PQfinish(conn_of(db));
	free(db);
}

// Session settings: every statement bounded in time; read-only transactions for readers.
static int
pg_session(pg_db *db)
{
	char      sql[160];
	PGresult *res;

	snprintf(sql, sizeof(sql), "SET statement_timeout = %d%s", db->timeout_ms,
	    db->base.readonly ? "; SET default_transaction_read_only = on" : "");
	res = PQexec(db->conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		result_fail(&db->base, res);
		return -1;
	}
	PQclear(res);
	return 0;
}

// A connection found lost (a statement failed with FL_SQL_EBROKEN) is connected again, with the
// same parameters, by the next call that starts work outside a transaction; its statements are
// prepared again as they run. Inside a transaction the loss stays FL_SQL_EBROKEN until the
// caller rolls back: the transaction is gone, and running the rest outside it would be wrong.
static int
reconnect_if_lost(fl_sql *db)
{
	pg_db *p = (pg_db *) db;

	if (PQstatus(p->conn) == CONNECTION_OK) {
		return FL_SQL_OK;
	}
	// Every loss reaches a caller once, even one found by a call that cannot report it
	// (finalize, rollback): a caller holding session state must learn it is gone.
	if (p->in_tx || !p->loss_told) {
		p->loss_told = true;
		return fl_sql_fail(db, FL_SQL_EBROKEN, "the connection to PostgreSQL was lost%s",
		    p->in_tx ? " in a transaction" : "");
	}
	PQreset(p->conn);
	if (PQstatus(p->conn) != CONNECTION_OK) {
		return fl_sql_fail(db, FL_SQL_EBROKEN, "cannot connect to PostgreSQL again: %s",
		    PQerrorMessage(p->conn));
	}
	p->session++;
	p->loss_told = false;
	if (pg_session(p) != 0) {
		return fl_sql_fail(db, FL_SQL_EBROKEN, "cannot set up the new PostgreSQL session");
	}
	return FL_SQL_OK;
}

static int
pg_open(const fl_sql_opts *o, fl_sql **out, char *err, size_t errlen)
{
	char        password[PG_PASSWORD_MAX] = "";
	char        connect_s[16];
	int         timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 5000;
	pg_db      *db;
	const char *keys[8], *vals[8];
	int         n = 0;

	if (fl_sql_pgsql_check_target(o->target, err, errlen) != 0) {
		return FL_SQL_ERROR;
	}
	if (o->password_file != NULL && o->password_file[0] != '\0' &&
	    fl_cfg_read_secret_file(o->password_file, password, sizeof(password), err, errlen) !=
	        0) {
		return FL_SQL_ERROR;
	}
	if ((db = calloc(1, sizeof(*db))) == NULL) {
		explicit_bzero(password, sizeof(password));
		snprintf(err, errlen, "cannot connect to PostgreSQL: out of memory");
		return FL_SQL_ERROR;
	}
	db->base.ops      = &fl_sql_pgsql_ops;
	db->base.engine   = FL_SQL_PGSQL;
	db->base.readonly = o->readonly;
	db->timeout_ms    = timeout_ms;
	// libpq counts connect_timeout in whole seconds, at least 2.
	snprintf(
	    connect_s, sizeof(connect_s), "%d", timeout_ms < 2000 ? 2 : (timeout_ms + 999) / 1000);
	// Ours first, so what the target says (a connect_timeout of its own) wins; the
	// application_name and password after it.
	keys[n] = "connect_timeout", vals[n++] = connect_s;
	keys[n] = "client_encoding", vals[n++] = "UTF8";
	keys[n] = "dbname", vals[n++] = o->target;
	keys[n] = "application_name", vals[n++] = o->app_name != NULL ? o->app_name : "faultline";
	if (password[0] != '\0') {
		keys[n] = "password", vals[n++] = password;
	}
	keys[n] = NULL, vals[n] = NULL;
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		snprintf(err, errlen, "cannot connect to PostgreSQL: %s",
		    db->conn != NULL ? PQerrorMessage(db->conn) : "out of memory");
		redact(err, password);
		explicit_bzero(password, sizeof(password));
		pg_close(&db->base);
		trim_end(err);
		return FL_SQL_ERROR;
	}
	explicit_bzero(password, sizeof(password));
	PQsetNoticeProcessor(db->conn, ignore_notice, NULL);
	if (pg_session(db) != 0) {
		snprintf(err, errlen, "cannot set up the PostgreSQL session: %s", db->base.errmsg);
		pg_close(&db->base);
		return FL_SQL_ERROR;
	}
	*out = &db->base;
	return FL_SQL_OK;
}

// ---- transactions ----------------------------------------------------------------------------

static int
pg_begin(fl_sql *db)
{
	int rv                = pg_exec(db, "BEGIN");
	((pg_db *) db)->in_tx = rv == FL_SQL_OK;
	return rv;
}

// FOR KEY SHARE: a collector taking the lease locks this row FOR UPDATE before it bumps the
// epoch, which waits until our transaction ends; every transaction after its commit reads the
// new epoch. The weakest row lock that does so: the holder's heartbeat (an UPDATE of a non-key
// column) does not wait for it, so a slow write transaction cannot cost the holder its lease.
static int
pg_read_fence(fl_sql *db, int64_t *epoch)
{
	PGresult *res = PQexec(
	    conn_of(db), "SELECT epoch FROM " FL_SQL_LEASE_TABLE " WHERE id = 1 FOR KEY SHARE");

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		return result_fail(db, res);
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		return fl_sql_fail(db, FL_SQL_ERROR, "the lease row (id 1) is missing");
	}
	*epoch = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return FL_SQL_OK;
}

static int
pg_commit(fl_sql *db)
{
	PGresult *res = PQexec(conn_of(db), "COMMIT");

	((pg_db *) db)->in_tx = false; // committed, rolled back or lost: over either way
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		return result_fail(db, res);
	}
	// COMMIT of a transaction that had failed answers ROLLBACK, not an error.
	if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		PQclear(res);
		return fl_sql_fail(
		    db, FL_SQL_ERROR, "the transaction had failed and was rolled back");
	}
	PQclear(res);
	return FL_SQL_OK;
}

static void
pg_rollback(fl_sql *db)
{
	PGTransactionStatusType t = PQtransactionStatus(conn_of(db));

	((pg_db *) db)->in_tx = false;
	if (t == PQTRANS_INTRANS || t == PQTRANS_INERROR) {
		PQclear(PQexec(conn_of(db), "ROLLBACK"));
	}
}

// ---- statements ------------------------------------------------------------------------------

static void
drop_blobs(pg_stmt *p)
{
	for (int i = 0; i < p->nblobs; i++) {
		PQfreemem(p->blobs[i].p);
		p->blobs[i].p = NULL;
		p->blobs[i].n = 0;
	}
}

static void
drop_params(pg_stmt *p)
{
	for (int i = 0; i < p->nparams; i++) {
		free(p->vals[i]);
		p->vals[i] = NULL;
		p->lens[i] = 0;
		p->fmts[i] = 0;
	}
}

// Prepares the statement in the connection's current session (again after a reconnection).
static int
prepare_in_session(pg_stmt *st)
{
	pg_db    *db = (pg_db *) st->base.db;
	PGresult *res;
	int       rv;

	if ((rv = reconnect_if_lost(&db->base)) != FL_SQL_OK) {
		return rv;
	}
	res = PQprepare(db->conn, st->name, st->sql, st->nparams, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		return result_fail(&db->base, res);
	}
	PQclear(res);
	st->session = db->session;
	return FL_SQL_OK;
}

static void
stmt_free(pg_stmt *st)
{
	free(st->sql);
	free(st->vals);
	free(st->lens);
	free(st->fmts);
	free(st);
}

static int
pg_prepare(fl_sql *db, const char *sql, fl_sql_stmt **out)
{
	pg_db   *pdb = (pg_db *) db;
	pg_stmt *st;
	int      rv;
	int      nparams = fl_sql_count_params(sql);

	if (nparams < 0) {
		return fl_sql_fail(
		    db, FL_SQL_ERROR, "parameters are $1..$%d, numbered from 1", FL_SQL_MAX_PARAMS);
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		return fl_sql_fail(db, FL_SQL_ERROR, "out of memory");
	}
	st->base.db = db;
	st->nparams = nparams;
	snprintf(st->name, sizeof(st->name), "fl_%u", ++pdb->next_stmt);
	// calloc of at least one, so that a statement without parameters has arrays too
	st->vals = calloc((size_t) nparams + 1, sizeof(*st->vals));
	st->lens = calloc((size_t) nparams + 1, sizeof(*st->lens));
	st->fmts = calloc((size_t) nparams + 1, sizeof(*st->fmts));
	if (st->vals == NULL || st->lens == NULL || st->fmts == NULL ||
	    (st->sql = strdup(sql)) == NULL) {
		stmt_free(st);
		return fl_sql_fail(db, FL_SQL_ERROR, "out of memory");
	}
	if ((rv = prepare_in_session(st)) != FL_SQL_OK) {
		stmt_free(st);
		return rv;
	}
	*out = &st->base;
	return FL_SQL_OK;
}

static void
pg_reset(fl_sql_stmt *st)
{
	pg_stmt *p = pstmt(st);

	drop_blobs(p);
	drop_params(p);
	PQclear(p->res);
	p->res = NULL;
	p->ran = false;
	p->row = 0;
}

static void
pg_finalize(fl_sql_stmt *st)
{
	pg_stmt *p    = pstmt(st);
	PGconn  *conn = conn_of(st->db);
	char     sql[48];

	pg_reset(st);
	free(p->blobs);
	// The server keeps a prepared statement until DEALLOCATE or the session's end; inside a
	// failed transaction DEALLOCATE cannot run, and the session's end will do.
	if (PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_INERROR &&
	    p->session == ((pg_db *) st->db)->session) {
		snprintf(sql, sizeof(sql), "DEALLOCATE %s", p->name);
		PQclear(PQexec(conn, sql));
	}
	stmt_free(p);
}

static int
param_slot(fl_sql_stmt *st, int idx)
{
	pg_stmt *p = pstmt(st);

	if (idx < 1 || idx > p->nparams) {
		return fl_sql_fail(st->db, FL_SQL_ERROR, "the statement has no parameter $%d", idx);
	}
	free(p->vals[idx - 1]);
	p->vals[idx - 1] = NULL;
	p->lens[idx - 1] = 0;
	p->fmts[idx - 1] = 0;
	return idx - 1;
}

static int
set_param(fl_sql_stmt *st, int idx, const void *v, size_t n, int fmt)
{
	pg_stmt *p = pstmt(st);
	int      i = param_slot(st, idx);
	char    *copy;

	if (i < 0) {
		return FL_SQL_ERROR;
	}
	if (n > (size_t) INT32_MAX || (copy = malloc(n + 1)) == NULL) {
		return fl_sql_fail(st->db, FL_SQL_ERROR, "cannot bind $%d: out of memory", idx);
	}
	if (n > 0) {
		memcpy(copy, v, n);
	}
	copy[n]    = '\0';
	p->vals[i] = copy;
	p->lens[i] = (int) n;
	p->fmts[i] = fmt;
	return FL_SQL_OK;
}

static int
pg_bind_int64(fl_sql_stmt *st, int idx, int64_t v)
{
	char s[24];
	int  n = snprintf(s, sizeof(s), "%lld", (long long) v);
	return set_param(st, idx, s, (size_t) n, 0);
}

static int
pg_bind_text(fl_sql_stmt *st, int idx, const char *s)
{
	return set_param(st, idx, s, strlen(s), 0);
}

static int
pg_bind_blob(fl_sql_stmt *st, int idx, const void *v, size_t n)
{
	return set_param(st, idx, v, n, 1);
}

static int
pg_bind_null(fl_sql_stmt *st, int idx)
{
	return param_slot(st, idx) < 0 ? FL_SQL_ERROR : FL_SQL_OK;
}

// Rows a command changed: INSERT/UPDATE/DELETE (with or without RETURNING); 0 for a query.
static int64_t
changes_of(const PGresult *res)
{
	const char *tag = PQcmdStatus((PGresult *) res);
	if (strncmp(tag, "SELECT", 6) == 0) {
		return 0;
	}
	return strtoll(PQcmdTuples((PGresult *) res), NULL, 10);
}

static int
run(pg_stmt *p)
{
	fl_sql   *db = p->base.db;
	PGresult *res;
	int       nf, rv;

	if ((rv = reconnect_if_lost(db)) != FL_SQL_OK) {
		return rv;
	}
	if (p->session != ((pg_db *) db)->session && (rv = prepare_in_session(p)) != FL_SQL_OK) {
		return rv;
	}
	res = PQexecPrepared(
	    conn_of(db), p->name, p->nparams, (const char *const *) p->vals, p->lens, p->fmts, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK && PQresultStatus(res) != PGRES_COMMAND_OK) {
		return result_fail(db, res);
	}
	nf = PQnfields(res);
	if (nf > p->nblobs) {
		pg_blob *b = realloc(p->blobs, (size_t) nf * sizeof(*b));
		if (b == NULL) {
			PQclear(res);
			return fl_sql_fail(db, FL_SQL_ERROR, "out of memory");
		}
		memset(b + p->nblobs, 0, (size_t) (nf - p->nblobs) * sizeof(*b));
		p->blobs  = b;
		p->nblobs = nf;
	}
	p->res     = res;
	p->ran     = true;
	p->row     = -1;
	p->changes = changes_of(res);
	return FL_SQL_OK;
}

static int
pg_step(fl_sql_stmt *st)
{
	pg_stmt *p = pstmt(st);
	int      rv;

	drop_blobs(p);
	if (!p->ran && (rv = run(p)) != FL_SQL_OK) {
		return rv;
	}
	if (p->row + 1 < PQntuples(p->res)) {
		p->row++;
		return FL_SQL_ROW;
	}
	p->row = PQntuples(p->res);
	return FL_SQL_DONE;
}

// The current row's value of col, or NULL (no row, no such column, or SQL NULL).
static const char *
value(pg_stmt *p, int col)
{
	if (p->res == NULL || p->row < 0 || p->row >= PQntuples(p->res) || col < 0 ||
	    col >= PQnfields(p->res) || PQgetisnull(p->res, p->row, col)) {
		return NULL;
	}
	return PQgetvalue(p->res, p->row, col);
}

static int64_t
pg_column_int64(fl_sql_stmt *st, int col)
{
	pg_stmt    *p = pstmt(st);
	const char *v = value(p, col);

	if (v == NULL) {
		return 0;
	}
	if (PQftype(p->res, col) == PG_BOOL_OID) {
		return v[0] == 't';
	}
	return strtoll(v, NULL, 10);
}

static const char *
pg_column_text(fl_sql_stmt *st, int col)
{
	const char *v = value(pstmt(st), col);
	return v != NULL ? v : "";
}

static const void *
pg_column_blob(fl_sql_stmt *st, int col, size_t *len)
{
	pg_stmt    *p = pstmt(st);
	const char *v = value(p, col);

	*len = 0;
	if (v == NULL) {
		return NULL;
	}
	if (PQftype(p->res, col) != PG_BYTEA_OID) {
		*len = (size_t) PQgetlength(p->res, p->row, col);
		return v;
	}
	if (p->blobs[col].p == NULL) {
		// text-format bytea ("\x00ff..."): decoded once per row and column
		p->blobs[col].p = PQunescapeBytea((const unsigned char *) v, &p->blobs[col].n);
		if (p->blobs[col].p == NULL) {
			fl_sql_fail(st->db, FL_SQL_ERROR, "out of memory");
			return NULL;
		}
	}
	*len = p->blobs[col].n;
	return p->blobs[col].p;
}

static bool
pg_column_is_null(fl_sql_stmt *st, int col)
{
	pg_stmt *p = pstmt(st);
	return p->res == NULL || p->row < 0 || p->row >= PQntuples(p->res) || col < 0 ||
	    col >= PQnfields(p->res) || PQgetisnull(p->res, p->row, col);
}

static int64_t
pg_changes(const fl_sql_stmt *st)
{
	return ((const pg_stmt *) st)->changes;
}

const fl_sql_engine_ops fl_sql_pgsql_ops = {
	.open           = pg_open,
	.close          = pg_close,
	.exec           = pg_exec,
	.begin          = pg_begin,
	.read_fence     = pg_read_fence,
	.commit         = pg_commit,
	.rollback       = pg_rollback,
	.prepare        = pg_prepare,
	.finalize       = pg_finalize,
	.bind_int64     = pg_bind_int64,
	.bind_text      = pg_bind_text,
	.bind_blob      = pg_bind_blob,
	.bind_null      = pg_bind_null,
	.step           = pg_step,
	.column_int64   = pg_column_int64,
	.column_text    = pg_column_text,
	.column_blob    = pg_column_blob,
	.column_is_null = pg_column_is_null,
	.changes        = pg_changes,
	.reset          = pg_reset,
};
