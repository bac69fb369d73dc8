// mysql.c - the MySQL/MariaDB probe: a fresh connection every round through libmysqlclient
// (MariaDB Connector/C 3.3 on Debian), a trivial query, and one information_schema query that
// checks every requirement of the deployed release as the connected user.
//
// The client's non-blocking API (mysql_real_connect_start/_cont, MYSQL_OPT_NONBLOCK) runs under
// poll() with one deadline, so a server that accepts TCP and never sends its greeting costs
// `timeout`. It also lets the TCP connect be told apart from the handshake: the first time the
// client waits to READ, the socket is connected and it waits for the server's greeting. The
// blocking timeouts (MYSQL_OPT_CONNECT/READ/WRITE_TIMEOUT, whole seconds, rounded up) are set
// as well, as a backstop. The name is resolved here (DNS phase), and the client gets the
// numeric address.
//
// Classification uses mysql_errno() (client errors 2xxx, server errors 1xxx) and, for a failed
// TCP connect (2002/2003), the OS errno that Connector/C appends to its message as "(N)": a
// number the library formats, not prose. docs/database-probes.md has the table.
//
// information_schema shows a user only objects it holds some privilege on, so "not visible"
// means either "does not exist" or "no privilege at all". The check query tells them apart:
// an object the user would see if it existed (it holds a global, database, table or column
// grant covering it, as MariaDB keeps table grants after DROP TABLE) but does not see is
// missing; one it would not see anyway is reported as a missing privilege.

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "cancel.h"
#include "capture.h"
#include "dbcommon.h"
#include "fl/cfg.h"
#include "fl/errclass.h"
#include "fl/names.h"
#include "fl/str.h"
#include "fl/time.h"
#include "util.h"

typedef struct my_probe {
	db_common c;
	char      host[256];
	uint32_t  port;
	char      socket[1024];
	char      user[64]; // fits agent_result.role
	char      database[128];
	char      target[256];
} my_probe;

static pthread_once_t my_once = PTHREAD_ONCE_INIT;
static int            my_init_rv;

// mysql_library_init is not thread-safe and probes run on their own threads.
static void
my_library_init(void)
{
	my_init_rv = mysql_library_init(0, NULL, NULL);
}

static void *
my_alloc(const char *name)
{
	my_probe *p = calloc(1, sizeof(*p));

	if (p != NULL) {
		db_common_init(&p->c, name);
		p->port = 3306;
	}
	return p;
}

static void
my_update_target(my_probe *p)
{
	if (p->socket[0] != '\0') {
		snprintf(p->target, sizeof(p->target), "%.200s/%.50s", p->socket, p->database);
	} else {
		snprintf(
		    p->target, sizeof(p->target), "%.150s:%u/%.80s", p->host, p->port, p->database);
	}
}

static int
my_set(void *ctx, const char *key, const char *value, char *err, size_t errlen)
{
	my_probe *p = ctx;
	char     *dst;
	size_t    len;
	int       rv;

	if (strcmp(key, "port") == 0) {
		if (fl_cfg_uint(value, 1, 65535, &p->port) != 0) {
			snprintf(err, errlen, "port must be 1..65535");
			return -1;
		}
		my_update_target(p);
		return 0;
	}
	if (strcmp(key, "host") == 0) {
		dst = p->host;
		len = sizeof(p->host);
	} else if (strcmp(key, "socket") == 0) {
		dst = p->socket;
		len = sizeof(p->socket);
	} else if (strcmp(key, "user") == 0) {
		dst = p->user;
		len = sizeof(p->user);
	} else if (strcmp(key, "database") == 0) {
		dst = p->database;
		len = sizeof(p->database);
	} else if ((rv = db_common_set(&p->c, key, value, err, errlen)) != 0) {
		return rv < 0 ? -1 : 0;
	} else {
		snprintf(err, errlen,
		    "unknown key (mysql probes take host, port, socket, user, "
		    "database, password_file, password_env, timeout, slow, saturation_warn, "
		    "replica, max_lag)");
		return -1;
	}
	if (value[0] == '\0' || fl_strlcpy_checked(dst, value, len) != 0) {
		snprintf(err, errlen, "%s must be 1..%zu bytes", key, len - 1);
		return -1;
	}
	my_update_target(p);
	return 0;
}

static int
my_validate(void *ctx, char *err, size_t errlen)
{
	my_probe *p = ctx;

	if (p->host[0] == '\0' && p->socket[0] == '\0') {
		snprintf(err, errlen, "host or socket is required");
		return -1;
	}
	if (p->host[0] != '\0' && p->socket[0] != '\0') {
		snprintf(err, errlen, "set host or socket, not both");
		return -1;
	}
	if (p->user[0] == '\0') {
		snprintf(err, errlen, "user is required");
		return -1;
	}
	my_update_target(p);
	return db_common_validate(&p->c, err, errlen);
}

static uint32_t
my_timeout(const void *ctx)
{
	return ((const my_probe *) ctx)->c.timeout_ms;
}

static const char *
my_target(const void *ctx)
{
	return ((const my_probe *) ctx)->target;
}

// Waits for what the client asked for (status bits) within the deadline and returns the bits
// that became ready, MYSQL_WAIT_TIMEOUT when the client's own timer ran out first, or -1 when
// the probe's deadline passed.
static int
my_wait(MYSQL *m, int status, int64_t deadline)
{
	struct pollfd pfd  = { .fd = mysql_get_socket(m) };
	int64_t       left = deadline - fl_mono_us();
	int           to, libto = -1, rv, out = 0;

	if (left <= 0) {
		return -1;
	}
	to = (int) ((left + 999) / 1000);
	if (status & MYSQL_WAIT_TIMEOUT) {
		libto = (int) mysql_get_timeout_value_ms(m);
	}
	if (status & MYSQL_WAIT_READ) {
		pfd.events |= POLLIN;
	}
	if (status & MYSQL_WAIT_WRITE) {
		pfd.events |= POLLOUT;
	}
	if (status & MYSQL_WAIT_EXCEPT) {
		pfd.events |= POLLPRI;
	}
	rv = agent_poll(&pfd, libto >= 0 && libto < to ? libto : to); // -1 also when stopping
	if (rv < 0) {
		return -1;
	}
	if (rv == 0) {
		return libto >= 0 && libto < to ? MYSQL_WAIT_TIMEOUT : -1;
	}
	if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
		out |= MYSQL_WAIT_READ;
	}
	if (pfd.revents & (POLLOUT | POLLHUP | POLLERR)) {
		out |= MYSQL_WAIT_WRITE;
	}
	if (pfd.revents & POLLPRI) {
		out |= MYSQL_WAIT_EXCEPT;
	}
	return out & (status | MYSQL_WAIT_TIMEOUT);
}

// mysql_errno → failure class. os_errno is the "(N)" of a failed socket connect, or 0.
static Fl__FailureClass
class_of_errno(unsigned int e, int os_errno)
{
	switch (e) {
	case ER_ACCESS_DENIED_ERROR: // 1045
		return FL__FAILURE_CLASS__FAILURE_AUTH_FAILED;
	case ER_BAD_DB_ERROR: // 1049
		return FL__FAILURE_CLASS__FAILURE_DATABASE_MISSING;
	case ER_CON_COUNT_ERROR:           // 1040
	case ER_TOO_MANY_USER_CONNECTIONS: // 1203
		return FL__FAILURE_CLASS__FAILURE_TOO_MANY_CONNECTIONS;
	case ER_SERVER_SHUTDOWN: // 1053
		return FL__FAILURE_CLASS__FAILURE_SERVER_STARTING_OR_STOPPING;
	case ER_DISK_FULL:          // 1021
	case ER_OUTOFMEMORY:        // 1037
	case ER_OUT_OF_SORTMEMORY:  // 1038
	case ER_OUT_OF_RESOURCES:   // 1041
	case ER_RECORD_FILE_FULL:   // 1114
	case ER_CANT_CREATE_THREAD: // 1135
		return FL__FAILURE_CLASS__FAILURE_OUT_OF_RESOURCES;
	case ER_TABLEACCESS_DENIED_ERROR:     // 1142
	case ER_COLUMNACCESS_DENIED_ERROR:    // 1143
	case ER_DBACCESS_DENIED_ERROR:        // 1044
	case ER_SPECIFIC_ACCESS_DENIED_ERROR: // 1227
	case ER_PROCACCESS_DENIED_ERROR:      // 1370
		return FL__FAILURE_CLASS__FAILURE_PRIVILEGE_MISSING;
	case ER_NO_SUCH_TABLE:     // 1146
	case ER_BAD_FIELD_ERROR:   // 1054
	case ER_SP_DOES_NOT_EXIST: // 1305
		return FL__FAILURE_CLASS__FAILURE_OBJECT_MISSING;
	case CR_UNKNOWN_HOST: // 2005
		return FL__FAILURE_CLASS__FAILURE_DNS;
	case CR_CONNECTION_ERROR: // 2002 (socket file)
	case CR_CONN_HOST_ERROR:  // 2003 (TCP)
		return fl_failure_of_errno(os_errno);
	case CR_SERVER_LOST: // 2013
		return os_errno == ETIMEDOUT ? FL__FAILURE_CLASS__FAILURE_TIMEOUT
		                             : FL__FAILURE_CLASS__FAILURE_RESET;
	case CR_SERVER_GONE_ERROR: // 2006
		return FL__FAILURE_CLASS__FAILURE_RESET;
	case CR_SERVER_HANDSHAKE_ERR: // 2012
	case CR_MALFORMED_PACKET:     // 2027
	case CR_VERSION_ERROR:        // 2007
		return FL__FAILURE_CLASS__FAILURE_PROTOCOL;
	case CR_OUT_OF_MEMORY:
		return FL__FAILURE_CLASS__FAILURE_INTERNAL;
	default:
		return FL__FAILURE_CLASS__FAILURE_QUERY_ERROR;
	}
}

// The OS errno Connector/C appends to a connect failure as "(N)" at the end, or 0.
static int
os_errno_of(const char *msg)
{
	const char *lp = strrchr(msg, '(');
	char       *end;
	long        v;

	if (lp == NULL) {
		return 0;
	}
	v = strtol(lp + 1, &end, 10);
	return *end == ')' && v > 0 && v < 4096 ? (int) v : 0;
}

static void
my_fail(agent_result *res, MYSQL *m, const char *what)
{
	unsigned int e = mysql_errno(m);
	int oe = (e == CR_CONNECTION_ERROR || e == CR_CONN_HOST_ERROR || e == CR_SERVER_LOST)
	    ? os_errno_of(mysql_error(m))
	    : 0;

	res->pb.error_code = (int32_t) e;
	if (e >= 1000 && e < 2000) {
		snprintf(res->sqlstate, sizeof(res->sqlstate), "%s", mysql_sqlstate(m));
	}
	agent_result_set(res, FL__STATUS__STATUS_FAIL, class_of_errno(e, oe), "%s: %u: %s", what, e,
	    mysql_error(m));
}

static int
my_resolve(my_probe *p, char *addr, size_t addrlen, agent_result *res)
{
	char port[8];

	addr[0] = '\0';
	if (p->socket[0] != '\0') {
		return 0;
	}
	snprintf(port, sizeof(port), "%u", p->port);
	if (db_resolve(p->host, port, addr, addrlen, res) != 0) {
		return -1;
	}
	if (addr[0] == '\0') {
		snprintf(addr, addrlen, "%s", p->host);
	}
	return 0;
}

// Runs one statement and stores its result set, within the deadline. Returns 0 (with *out set,
// possibly NULL for a statement without rows), -1 on a server/client error, -2 on timeout.
static int
my_query(MYSQL *m, const char *sql, size_t len, int64_t deadline, MYSQL_RES **out)
{
	int status, err = 0;

	*out   = NULL;
	status = mysql_real_query_start(&err, m, sql, (unsigned long) len);
	while (status != 0) {
		if ((status = my_wait(m, status, deadline)) < 0) {
			return -2;
		}
		status = mysql_real_query_cont(&err, m, status);
	}
	if (err != 0) {
		return -1;
	}
	status = mysql_store_result_start(out, m);
	while (status != 0) {
		if ((status = my_wait(m, status, deadline)) < 0) {
			return -2;
		}
		status = mysql_store_result_cont(out, m, status);
	}
	if (*out == NULL && mysql_errno(m) != 0) {
		return -1;
	}
	return 0;
}

// A growable SQL text.
typedef struct sqlbuf {
	char  *s;
	size_t len, cap;
	int    oom;
} sqlbuf;

static void
sb_add(sqlbuf *b, const char *s, size_t n)
{
	if (b->oom) {
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t nc = (b->len + n + 1) * 2;
		char  *ns = realloc(b->s, nc);
		if (ns == NULL) {
			b->oom = 1;
			return;
		}
		b->s   = ns;
		b->cap = nc;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
sb_str(sqlbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

// Appends s as a quoted string literal, escaped for the connection's character set. Values
// are validated identifiers already (expect.c); the escaping is the second line of defence.
static void
sb_lit(sqlbuf *b, MYSQL *m, const char *s)
{
	size_t n = strlen(s);
	char  *e = malloc(2 * n + 1);

	if (e == NULL) {
		b->oom = 1;
		return;
	}
	unsigned long el = mysql_real_escape_string(m, e, s, (unsigned long) n);
	sb_str(b, "'");
	sb_add(b, e, el);
	sb_str(b, "'");
	free(e);
}

// The check query fetches, in one round trip, each information_schema table the check needs
// once, filtered by the names the requirements mention, as rows of one shape
// (src, schema, name, column, privilege); my_check_eval() then decides each requirement. Each
// information_schema table costs MariaDB a materialisation per (sub)query, so one scan per
// table instead of one per requirement keeps a 20-requirement check near a millisecond.
// `g` holds the grantee strings of the connected user and its enabled roles, in
// information_schema's quoting ('user'@'host', 'role').
#define MY_GRANTEES                                                                         \
	"WITH g AS (SELECT CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', " \
	"SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''') AS gr UNION SELECT CONCAT('''', "  \
	"ROLE_NAME, '''') FROM information_schema.ENABLED_ROLES) "

static const char check_head[] = MY_GRANTEES
    "SELECT 'U', '', '', '', PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES WHERE "
    "GRANTEE IN (SELECT gr FROM g)";

#define CHECK_MAX_ROWS 20000 // a cap on what the server may send back

// A list of distinct quoted literals, for IN (...).
typedef struct litlist {
	sqlbuf b;
	size_t n;
} litlist;

static void
lit_add(litlist *l, MYSQL *m, const char *s, const char *const *seen, size_t nseen)
{
	for (size_t i = 0; i < nseen; i++) {
		if (strcmp(seen[i], s) == 0) {
			return; // already listed
		}
	}
	if (l->n++ > 0) {
		sb_str(&l->b, ", ");
	}
	sb_lit(&l->b, m, s);
}

// The parts of a requirement's object: schema, name (table or routine), column.
typedef struct req_names {
	char db[256], tb[256], col[256];
} req_names;

static int
split_names(const agent_requirement *r, req_names *n)
{
	n->db[0] = n->tb[0] = n->col[0] = '\0';
	if (r->kind == FL__OBJECT_KIND__OBJECT_SCHEMA) {
		return fl_strlcpy_checked(n->db, r->object, sizeof(n->db));
	}
	if (r->kind == FL__OBJECT_KIND__OBJECT_COLUMN) {
		char head[512];
		if (db_split_last(r->object, head, sizeof(head), n->col, sizeof(n->col)) != 0) {
			return -1;
		}
		return db_split_last(head, n->db, sizeof(n->db), n->tb, sizeof(n->tb));
	}
	return db_split_last(r->object, n->db, sizeof(n->db), n->tb, sizeof(n->tb));
}

// Builds the check query for the requirements of d. Returns 0, or -1 when out of memory.
static int
build_check(MYSQL *m, const agent_db_expect *d, const req_names *names, sqlbuf *b)
{
	litlist     dbs = { 0 }, tbs = { 0 }, cols = { 0 }, fns = { 0 };
	const char *seen_db[1000], *seen_tb[1000], *seen_col[1000], *seen_fn[1000];
	size_t      ndb = 0, ntb = 0, ncol = 0, nfn = 0;
	int         rv = 0;

	for (size_t i = 0; i < d->n_reqs && i < 1000; i++) {
		const req_names *n = &names[i];
		lit_add(&dbs, m, n->db, seen_db, ndb);
		seen_db[ndb++] = n->db;
		if (d->reqs[i].kind == FL__OBJECT_KIND__OBJECT_FUNCTION) {
			lit_add(&fns, m, n->tb, seen_fn, nfn);
			seen_fn[nfn++] = n->tb;
		} else if (n->tb[0] != '\0') {
			lit_add(&tbs, m, n->tb, seen_tb, ntb);
			seen_tb[ntb++] = n->tb;
		}
		if (n->col[0] != '\0') {
			lit_add(&cols, m, n->col, seen_col, ncol);
			seen_col[ncol++] = n->col;
		}
	}
	sb_str(b, check_head);
	// Database-level grants may name patterns (`leg%`): LIKE against each database asked for.
	sb_str(b, " UNION ALL SELECT 'S', d.db, '', '', s.PRIVILEGE_TYPE FROM (SELECT ");
	for (size_t i = 0; i < ndb; i++) {
		sb_str(b, i ? " UNION SELECT " : "");
		sb_lit(b, m, seen_db[i]);
		sb_str(b, i ? "" : " AS db");
	}
	sb_str(b,
	    ") d JOIN information_schema.SCHEMA_PRIVILEGES s ON d.db LIKE s.TABLE_SCHEMA "
	    "WHERE s.GRANTEE IN (SELECT gr FROM g)");
	sb_str(b,
	    " UNION ALL SELECT 'D', SCHEMA_NAME, '', '', '' FROM information_schema.SCHEMATA "
	    "WHERE SCHEMA_NAME IN (");
	sb_add(b, dbs.b.s, dbs.b.len);
	sb_str(b, ")");
	if (tbs.n > 0) {
		sb_str(b,
		    " UNION ALL SELECT 'T', TABLE_SCHEMA, TABLE_NAME, '', PRIVILEGE_TYPE FROM "
		    "information_schema.TABLE_PRIVILEGES WHERE GRANTEE IN (SELECT gr FROM g) AND "
		    "TABLE_SCHEMA IN (");
		sb_add(b, dbs.b.s, dbs.b.len);
		sb_str(b, ") AND TABLE_NAME IN (");
		sb_add(b, tbs.b.s, tbs.b.len);
		sb_str(b,
		    ") UNION ALL SELECT 'C', TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, "
		    "PRIVILEGE_TYPE FROM information_schema.COLUMN_PRIVILEGES WHERE GRANTEE IN "
		    "(SELECT gr FROM g) AND TABLE_SCHEMA IN (");
		sb_add(b, dbs.b.s, dbs.b.len);
		sb_str(b, ") AND TABLE_NAME IN (");
		sb_add(b, tbs.b.s, tbs.b.len);
		sb_str(b,
		    ") UNION ALL SELECT 't', TABLE_SCHEMA, TABLE_NAME, '', '' FROM "
		    "information_schema.TABLES WHERE TABLE_SCHEMA IN (");
		sb_add(b, dbs.b.s, dbs.b.len);
		sb_str(b, ") AND TABLE_NAME IN (");
		sb_add(b, tbs.b.s, tbs.b.len);
		sb_str(b, ")");
	}
	if (cols.n > 0) {
		sb_str(b,
		    " UNION ALL SELECT 'c', TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, '' FROM "
		    "information_schema.COLUMNS WHERE TABLE_SCHEMA IN (");
		sb_add(b, dbs.b.s, dbs.b.len);
		sb_str(b, ") AND TABLE_NAME IN (");
		sb_add(b, tbs.b.s, tbs.b.len);
		sb_str(b, ") AND COLUMN_NAME IN (");
		sb_add(b, cols.b.s, cols.b.len);
		sb_str(b, ")");
	}
	if (fns.n > 0) {
		sb_str(b,
		    " UNION ALL SELECT 'r', ROUTINE_SCHEMA, ROUTINE_NAME, '', '' FROM "
		    "information_schema.ROUTINES WHERE ROUTINE_SCHEMA IN (");
		sb_add(b, dbs.b.s, dbs.b.len);
		sb_str(b, ") AND ROUTINE_NAME IN (");
		sb_add(b, fns.b.s, fns.b.len);
		sb_str(b, ")");
	}
	{
		char lim[32];
		snprintf(lim, sizeof(lim), " LIMIT %d", CHECK_MAX_ROWS);
		sb_str(b, lim);
	}
	rv = b->oom || dbs.b.oom || tbs.b.oom || cols.b.oom || fns.b.oom ? -1 : 0;
	free(dbs.b.s);
	free(tbs.b.s);
	free(cols.b.s);
	free(fns.b.s);
	return rv;
}

// One row of the check query's answer.
typedef struct is_row {
	char src;
	char db[65], tb[65], col[65], priv[32];
} is_row;

// Is there a row from src matching (db, tb, col, priv)? NULL arguments match anything;
// columns and routine names compare case-insensitively, as MySQL does.
static int
has_row(const is_row *rows, size_t n, char src, const char *db, const char *tb, const char *col,
    const char *priv)
{
	for (size_t i = 0; i < n; i++) {
		const is_row *r = &rows[i];
		if (r->src != src || (db && strcmp(r->db, db) != 0) ||
		    (tb && (src == 'r' ? strcasecmp(r->tb, tb) : strcmp(r->tb, tb)) != 0) ||
		    (col && strcasecmp(r->col, col) != 0) || (priv && strcmp(r->priv, priv) != 0)) {
			continue;
		}
		return 1;
	}
	return 0;
}

// The verdict on one (requirement, privilege): visible (exists and the user holds some
// privilege on it), covered (a grant would make it visible if it existed: MariaDB keeps table
// grants after DROP TABLE), granted (the privilege, at any level that applies; routine-level
// EXECUTE is not in information_schema, so a visible routine counts as granted).
static void
my_check_eval(const is_row *rows, size_t n, const agent_requirement *r, const req_names *nm,
    const char *priv, int *vis, int *covered, int *granted)
{
	int any_global = 0, global_p = 0;

	for (size_t i = 0; i < n; i++) {
		if (rows[i].src == 'U') {
			any_global |= strcmp(rows[i].priv, "USAGE") != 0;
			global_p |= priv[0] != '\0' && strcmp(rows[i].priv, priv) == 0;
		}
	}
	int any_schema = has_row(rows, n, 'S', nm->db, NULL, NULL, NULL);
	int schema_p   = priv[0] != '\0' && has_row(rows, n, 'S', nm->db, NULL, NULL, priv);

	switch (r->kind) {
	case FL__OBJECT_KIND__OBJECT_SCHEMA:
		*vis     = has_row(rows, n, 'D', nm->db, NULL, NULL, NULL);
		*covered = any_global;
		*granted = 1;
		break;
	case FL__OBJECT_KIND__OBJECT_TABLE:
		*vis     = has_row(rows, n, 't', nm->db, nm->tb, NULL, NULL);
		*covered = any_global || any_schema ||
		    has_row(rows, n, 'T', nm->db, nm->tb, NULL, NULL) ||
		    has_row(rows, n, 'C', nm->db, nm->tb, NULL, NULL);
		*granted = priv[0] == '\0' || global_p || schema_p ||
		    has_row(rows, n, 'T', nm->db, nm->tb, NULL, priv);
		break;
	case FL__OBJECT_KIND__OBJECT_COLUMN:
		*vis     = has_row(rows, n, 'c', nm->db, nm->tb, nm->col, NULL);
		*covered = any_global || any_schema ||
		    has_row(rows, n, 'T', nm->db, nm->tb, NULL, NULL) ||
		    has_row(rows, n, 'C', nm->db, nm->tb, nm->col, NULL);
		*granted = priv[0] == '\0' || global_p || schema_p ||
		    has_row(rows, n, 'T', nm->db, nm->tb, NULL, priv) ||
		    has_row(rows, n, 'C', nm->db, nm->tb, nm->col, priv);
		break;
	default: // function
		*vis     = has_row(rows, n, 'r', nm->db, nm->tb, NULL, NULL);
		*covered = any_global || any_schema;
		*granted = priv[0] == '\0' || global_p || schema_p || *vis;
		break;
	}
}

// Runs the expectations check. Returns 0 when every requirement is met, 1 when res is final.
static int
my_check(my_probe *p, MYSQL *m, const agent_db_expect *d, int64_t deadline, agent_result *res)
{
	size_t        n = 0, n_is = 0;
	db_unmet      unmet = DB_UNMET_INIT;
	db_check_row *rows  = NULL;
	req_names    *names = NULL;
	is_row       *is    = NULL;
	sqlbuf        b     = { 0 };
	MYSQL_RES    *rs    = NULL;
	MYSQL_ROW     row;
	int           rv = 1, qrv;

	res->pb.requirements_checked = (uint32_t) d->n_reqs;
	if ((names = calloc(d->n_reqs, sizeof(*names))) == NULL ||
	    (rows = db_check_rows(d, &n)) == NULL) {
		agent_result_set(res, FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_INTERNAL,
		    "cannot check expectations: out of memory");
		goto out;
	}
	for (size_t i = 0; i < d->n_reqs; i++) {
		if (split_names(&d->reqs[i], &names[i]) != 0) {
			agent_result_set(res, FL__STATUS__STATUS_FAIL,
			    FL__FAILURE_CLASS__FAILURE_INTERNAL, "cannot check %s: name too long",
			    d->reqs[i].object);
			goto out;
		}
	}
	if (build_check(m, d, names, &b) != 0) {
		agent_result_set(res, FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_INTERNAL,
		    "cannot check expectations: out of memory");
		goto out;
	}
	int64_t t0           = fl_mono_us();
	qrv                  = my_query(m, b.s, b.len, deadline, &rs);
	res->timing.check_us = agent_phase_us(t0, fl_mono_us());
	if (qrv == -2) {
		agent_result_set(res, FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_TIMEOUT,
		    "no answer to the expectations check within %u ms", p->c.timeout_ms);
		goto out;
	}
	if (qrv != 0 || rs == NULL) {
		my_fail(res, m, "expectations check failed");
		goto out;
	}
	if ((is = calloc(mysql_num_rows(rs) + 1, sizeof(*is))) == NULL) {
		agent_result_set(res, FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_INTERNAL,
		    "cannot check expectations: out of memory");
		goto out;
	}
	while ((row = mysql_fetch_row(rs)) != NULL) {
		is_row *r = &is[n_is++];
		r->src    = row[0] ? row[0][0] : '?';
		fl_str_copy_trunc(r->db, sizeof(r->db), row[1]);
		fl_str_copy_trunc(r->tb, sizeof(r->tb), row[2]);
		fl_str_copy_trunc(r->col, sizeof(r->col), row[3]);
		fl_str_copy_trunc(r->priv, sizeof(r->priv), row[4]);
	}
	for (size_t i = 0; i < n; i++) {
		const agent_requirement *q    = rows[i].r;
		const char              *priv = rows[i].priv;
		int                      vis, covered, granted, missing;

		my_check_eval(is, n_is, q, &names[rows[i].req], priv, &vis, &covered, &granted);
		if (vis && granted) {
			continue;
		}
		// Not visible although a grant covers it: it does not exist. Not visible and not
		// covered: the user holds no privilege on it, which is what gets reported (it may
		// not exist either; information_schema cannot tell this user).
		missing = !vis && covered;
		if (!vis && !covered && priv[0] == '\0') {
			priv = "ANY";
		}
		db_unmet_add(&unmet, res, p->c.name, &rows[i], priv, missing, res->role,
		    vis ? "" : " (not visible to it)");
	}
	if (db_unmet_finish(&unmet, res)) {
		goto out;
	}
	rv = 0;
out:
	mysql_free_result(rs);
	free(is);
	free(b.s);
	free(rows);
	free(names);
	return rv;
}

// The round's first query, in place of a bare SELECT 1: it proves the server answers and reads
// the state a SELECT 1 cannot see in the same round trip. Threads_connected is readable by any
// user; max_connections is what every non-SUPER login shares (SUPER gets one more).
static const char state_sql[] =
    "SELECT @@global.read_only, @@global.innodb_read_only, @@global.max_connections, "
    "(SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
    "WHERE VARIABLE_NAME = 'THREADS_CONNECTED')";

static uint32_t
my_u32(const char *v)
{
	long long n = v != NULL ? strtoll(v, NULL, 10) : 0;

	return n < 0 ? 0 : n > UINT32_MAX ? UINT32_MAX : (uint32_t) n;
}

// Reads state_sql's one row into s.
static void
my_read_state(MYSQL_RES *rs, db_state *s)
{
	MYSQL_ROW row;

	memset(s, 0, sizeof(*s));
	if (rs == NULL || mysql_num_fields(rs) != 4 || (row = mysql_fetch_row(rs)) == NULL) {
		return;
	}
	bool ro = my_u32(row[0]) != 0, innodb_ro = my_u32(row[1]) != 0;
	s->read_only = ro || innodb_ro;
	snprintf(s->read_only_reason, sizeof(s->read_only_reason), "%s",
	    innodb_ro ? "innodb_read_only" : "read_only");
	s->conns_limit  = my_u32(row[2]);
	s->conns_in_use = my_u32(row[3]);
}

// Replication lag of a replica (replica = yes): one more statement, only for such probes.
// Seconds_Behind_Master (MariaDB; Seconds_Behind_Source in MySQL 8) is NULL when replication
// is not running. A failure to read it (REPLICA MONITOR / REPLICATION CLIENT not granted) is
// reported as unknown lag, not as the database failing.
static void
my_read_lag(MYSQL *m, int64_t deadline, db_state *s)
{
	MYSQL_RES   *rs = NULL;
	MYSQL_ROW    row;
	MYSQL_FIELD *f;
	int          col = -1;

	int qrv = my_query(m, "SHOW REPLICA STATUS", 19, deadline, &rs);
	if (qrv != 0 || rs == NULL) {
		snprintf(s->lag_problem, sizeof(s->lag_problem), "cannot read replica status: %s",
		    qrv == -2 ? "timeout" : mysql_error(m));
		goto out;
	}
	f = mysql_fetch_fields(rs);
	for (unsigned i = 0; i < mysql_num_fields(rs); i++) {
		if (strcmp(f[i].name, "Seconds_Behind_Master") == 0 ||
		    strcmp(f[i].name, "Seconds_Behind_Source") == 0) {
			col = (int) i;
		}
	}
	if ((row = mysql_fetch_row(rs)) == NULL || col < 0) {
		snprintf(s->lag_problem, sizeof(s->lag_problem),
		    "not configured as a replica (SHOW REPLICA STATUS is empty)");
	} else if (row[col] == NULL) {
		snprintf(s->lag_problem, sizeof(s->lag_problem),
		    "replication is not running (Seconds_Behind_Master is NULL)");
	} else {
		s->lag_known = true;
		s->lag_ms    = (int64_t) my_u32(row[col]) * 1000;
	}
out:
	mysql_free_result(rs);
}

// Opens the probe's connection within the deadline, timed phase by phase into res: the
// password is read anew, the name resolved (DNS phase), and a failure classified. Returns the
// handle (caller mysql_close()s it) with res->role set, or NULL with res final.
static MYSQL *
my_connect(my_probe *p, int64_t deadline, agent_result *res)
{
	MYSQL       *m = NULL, *ret = NULL;
	char         password[DB_SECRET_MAX], err[256], addr[256];
	int64_t      t0, t_connect = 0;
	unsigned int secs = (p->c.timeout_ms + 999) / 1000, proto;
	int          have_pw, status;

	pthread_once(&my_once, my_library_init);
	if (my_init_rv != 0) {
		agent_result_set(res, FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_INTERNAL,
		    "cannot initialise the MySQL client library");
		goto fail;
	}
	if ((have_pw = db_password_read(&p->c, password, err, sizeof(err))) < 0) {
		agent_result_set(res, FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_INTERNAL,
		    "cannot read the password: %s", err);
		goto fail;
	}
	if (my_resolve(p, addr, sizeof(addr), res) != 0) {
		db_secret_wipe(password, sizeof(password));
		goto fail;
	}
	if ((m = mysql_init(NULL)) == NULL) {
		db_secret_wipe(password, sizeof(password));
		agent_result_set(res, FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_INTERNAL,
		    "cannot allocate a MySQL handle");
		goto fail;
	}
	// Whole seconds, rounded up: only a backstop, the poll() deadline bounds the round.
	mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &secs);
	mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &secs);
	mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &secs);
	proto = p->socket[0] != '\0' ? MYSQL_PROTOCOL_SOCKET : MYSQL_PROTOCOL_TCP;
	mysql_options(m, MYSQL_OPT_PROTOCOL, &proto);
	mysql_options(m, MYSQL_OPT_NONBLOCK, 0);
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");

	t0     = fl_mono_us();
	status = mysql_real_connect_start(&ret, m, p->socket[0] ? NULL : addr, p->user,
	    have_pw ? password : NULL, p->database[0] ? p->database : NULL, p->port,
	    p->socket[0] ? p->socket : NULL, 0);
	while (status != 0) {
		if ((status & MYSQL_WAIT_READ) && t_connect == 0) {
			t_connect = fl_mono_us(); // waiting for the greeting: TCP is connected
		}
		if ((status = my_wait(m, status, deadline)) < 0) {
			break;
		}
		status = mysql_real_connect_cont(&ret, m, status);
	}
	db_secret_wipe(password, sizeof(password));
	int64_t t_ok = fl_mono_us();
	if (t_connect != 0) {
		res->timing.connect_us = agent_phase_us(t0, t_connect);
		res->timing.auth_us    = agent_phase_us(t_connect, t_ok);
	} else if (ret != NULL) {
		// The client finished without ever waiting (a fast loopback server): the phases
		// cannot be split, so the whole connect counts as authentication.
		res->timing.auth_us = agent_phase_us(t0, t_ok);
	}
	if (status < 0) {
		res->pb.error_code = ETIMEDOUT;
		agent_result_set(res, FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_TIMEOUT,
		    "no answer within %u ms (during %s)", p->c.timeout_ms,
		    t_connect ? "handshake/authentication" : "tcp connect");
		goto fail;
	}
	if (ret == NULL) {
		my_fail(res, m, "cannot connect");
		goto fail;
	}
	{
		// CURRENT_USER() is fetched with the check; the login name is what the probe knows.
		snprintf(res->role, sizeof(res->role), "%s", p->user);
	}
	return m;
fail:
	if (m != NULL) {
		mysql_close(m);
	}
	return NULL;
}

static void
my_run(void *ctx, const agent_round *round, agent_result *res)
{
	my_probe  *p     = ctx;
	MYSQL     *m     = NULL;
	MYSQL_RES *rs    = NULL;
	int64_t    start = fl_mono_us(), deadline = start + (int64_t) p->c.timeout_ms * 1000;
	int64_t    t0;
	int        qrv;
	const agent_db_expect *d = NULL;
	db_state               state;

	d = db_round_begin(res, round, "mysql", p->c.name);
	if ((m = my_connect(p, deadline, res)) == NULL) {
		goto done;
	}
	t0                   = fl_mono_us();
	qrv                  = my_query(m, state_sql, sizeof(state_sql) - 1, deadline, &rs);
	res->timing.query_us = agent_phase_us(t0, fl_mono_us());
	if (qrv == -2) {
		agent_result_set(res, FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_TIMEOUT,
		    "no answer to the state query within %u ms", p->c.timeout_ms);
		goto done;
	}
	if (qrv != 0) {
		my_fail(res, m, "state query failed");
		goto done;
	}
	my_read_state(rs, &state);
	mysql_free_result(rs);
	rs = NULL;
	if (p->c.replica) {
		my_read_lag(m, deadline, &state);
	}
	db_state_record(res, &p->c, &state, d);
	if (d != NULL && d->n_reqs > 0 && my_check(p, m, d, deadline, res) != 0) {
		goto done;
	}
	{
		char what[160];
		snprintf(what, sizeof(what), "connected as %s; %u requirements met", res->role,
		    res->pb.requirements_checked);
		db_finish_state(res, &p->c, &state, round != NULL ? round->release : NULL,
		    agent_phase_us(start, fl_mono_us()) / 1000, what);
	}
done:
	mysql_free_result(rs);
	if (m != NULL) {
		mysql_close(m);
	}
	res->timing.total_us = agent_phase_us(start, fl_mono_us());
	res->pb.duration_us  = res->timing.total_us;
}

// Capture (--capture-expectations): the user's effective privileges on the tables and columns
// of the chosen databases, from the same information_schema tables my_check() reads, so that
// the file captured is met by construction: global, database (patterns included) and table
// grants for each visible table, and column grants beyond those for each visible column.

// The privileges the expectations format knows for MySQL tables and columns, in its order.
static const char *const my_cap_privs[] = { "SELECT", "INSERT", "UPDATE", "DELETE", "REFERENCES",
	"TRIGGER" };
#define MY_CAP_NPRIVS     (sizeof(my_cap_privs) / sizeof(my_cap_privs[0]))
#define MY_CAP_COLPRIV(i) ((i) < 3 || (i) == 4) // SELECT, INSERT, UPDATE, REFERENCES

static unsigned
my_cap_bit(const char *priv)
{
	for (size_t i = 0; i < MY_CAP_NPRIVS; i++) {
		if (strcmp(my_cap_privs[i], priv) == 0) {
			return 1u << i;
		}
	}
	return 0;
}

static void
my_cap_list(unsigned bits, bool columns, char *out, size_t len)
{
	out[0] = '\0';
	for (size_t i = 0; i < MY_CAP_NPRIVS; i++) {
		if ((bits & (1u << i)) && (!columns || MY_CAP_COLPRIV(i))) {
			db_capture_priv(out, len, my_cap_privs[i]);
		}
	}
}

static const char my_cap_dbs_sql[] =
    "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN "
    "('information_schema', 'mysql', 'performance_schema', 'sys') ORDER BY 1";

#define MY_CAPTURE_QUERY_MS 30000 // per query: the catalog of a big database takes a while

// Runs the query in b and stores its rows; NULL with err on failure.
static MYSQL_RES *
my_cap_query(MYSQL *m, const sqlbuf *b, char *err, size_t errlen)
{
	MYSQL_RES *rs = NULL;
	int        rv;

	if (b->oom) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rv = my_query(m, b->s, b->len, fl_mono_us() + (int64_t) MY_CAPTURE_QUERY_MS * 1000, &rs);
	if (rv == -2) {
		snprintf(err, errlen, "no answer to a catalog query within 30 s");
	} else if (rv != 0 || rs == NULL) {
		snprintf(
		    err, errlen, "catalog query failed: %u: %s", mysql_errno(m), mysql_error(m));
		mysql_free_result(rs);
		rs = NULL;
	}
	return rs;
}

static bool
my_listed(const char *name, const char *const *dbs, size_t n_dbs)
{
	for (size_t i = 0; i < n_dbs; i++) {
		if (strcmp(name, dbs[i]) == 0) {
			return true;
		}
	}
	return false;
}

// The databases to read, as a quoted IN list in *in, and their count; -1 with err when one
// asked for is not visible (it does not exist, or the user holds no privilege in it).
static int
my_cap_dbs(MYSQL *m, const char *const *dbs, size_t n_dbs, sqlbuf *in, size_t *n_in,
    db_capture *cap, char *err, size_t errlen)
{
	sqlbuf     q = { 0 };
	MYSQL_RES *rs;
	MYSQL_ROW  row;

	*n_in = 0;
	sb_str(&q, my_cap_dbs_sql);
	rs = my_cap_query(m, &q, err, errlen);
	free(q.s);
	if (rs == NULL) {
		return -1;
	}
	for (size_t i = 0; i < n_dbs; i++) {
		bool found = false;
		mysql_data_seek(rs, 0);
		while (!found && (row = mysql_fetch_row(rs)) != NULL) {
			found = row[0] != NULL && strcmp(row[0], dbs[i]) == 0;
		}
		if (!found) {
			snprintf(err, errlen,
			    "database %s does not exist or the user holds no privilege in it",
			    dbs[i]);
			mysql_free_result(rs);
			return -1;
		}
	}
	mysql_data_seek(rs, 0);
	while ((row = mysql_fetch_row(rs)) != NULL) {
		if (row[0] == NULL || (n_dbs > 0 && !my_listed(row[0], dbs, n_dbs)) ||
		    !db_capture_ident(cap, row[0], false)) {
			continue;
		}
		sb_str(in, *n_in ? ", " : "");
		sb_lit(in, m, row[0]);
		(*n_in)++;
	}
	mysql_free_result(rs);
	return 0;
}

// Every visible table of the databases with the privileges that apply to it (one row per
// privilege, NULL for a table seen through column grants only).
static void
my_cap_tables_sql(sqlbuf *b, const sqlbuf *in)
{
	sb_str(b,
	    MY_GRANTEES
	    "SELECT t.TABLE_SCHEMA, t.TABLE_NAME, p.PRIVILEGE_TYPE FROM information_schema.TABLES "
	    "t "
	    "LEFT JOIN (SELECT 'U' AS src, '' AS db, '' AS tb, PRIVILEGE_TYPE FROM "
	    "information_schema.USER_PRIVILEGES WHERE GRANTEE IN (SELECT gr FROM g) UNION ALL "
	    "SELECT 'S', TABLE_SCHEMA, '', PRIVILEGE_TYPE FROM "
	    "information_schema.SCHEMA_PRIVILEGES "
	    "WHERE GRANTEE IN (SELECT gr FROM g) UNION ALL SELECT 'T', TABLE_SCHEMA, TABLE_NAME, "
	    "PRIVILEGE_TYPE FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE IN (SELECT gr "
	    "FROM g)) p ON p.src = 'U' OR (p.src = 'S' AND t.TABLE_SCHEMA LIKE p.db) OR (p.src = "
	    "'T' AND t.TABLE_SCHEMA = p.db AND t.TABLE_NAME = p.tb) WHERE t.TABLE_SCHEMA IN (");
	sb_add(b, in->s, in->len);
	sb_str(b, ") ORDER BY t.TABLE_SCHEMA, t.TABLE_NAME");
}

// Every visible column of the databases with its column-level grants (NULL when none).
static void
my_cap_columns_sql(sqlbuf *b, const sqlbuf *in)
{
	sb_str(b,
	    MY_GRANTEES
	    "SELECT c.TABLE_SCHEMA, c.TABLE_NAME, c.COLUMN_NAME, cp.PRIVILEGE_TYPE FROM "
	    "information_schema.COLUMNS c LEFT JOIN information_schema.COLUMN_PRIVILEGES cp ON "
	    "cp.GRANTEE IN (SELECT gr FROM g) AND cp.TABLE_SCHEMA = c.TABLE_SCHEMA AND "
	    "cp.TABLE_NAME = c.TABLE_NAME AND cp.COLUMN_NAME = c.COLUMN_NAME WHERE c.TABLE_SCHEMA "
	    "IN (");
	sb_add(b, in->s, in->len);
	sb_str(b, ") ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION");
}

// Do rows a and b agree on their first n fields?
static bool
my_same(MYSQL_ROW a, MYSQL_ROW b, int n)
{
	for (int i = 0; i < n; i++) {
		if (a[i] == NULL || b[i] == NULL || strcmp(a[i], b[i]) != 0) {
			return false;
		}
	}
	return true;
}

// The column lines of table db.tb (whose own privileges are tbits), from the columns result.
static void
my_cap_columns_of(MYSQL_RES *cols, const char *db, const char *tb, unsigned tbits, db_capture *cap)
{
	MYSQL_ROW row, prev = NULL;
	unsigned  cbits = 0;
	char      obj[256], privs[128];

	mysql_data_seek(cols, 0);
	for (;;) {
		row = mysql_fetch_row(cols);
		if (prev != NULL && (row == NULL || !my_same(row, prev, 3))) {
			my_cap_list(cbits & ~tbits, true, privs, sizeof(privs));
			snprintf(obj, sizeof(obj), "%s.%s.%s", db, tb, prev[2]);
			db_capture_req(cap, "column", obj, privs);
			prev  = NULL;
			cbits = 0;
		}
		if (row == NULL) {
			break;
		}
		if (row[0] == NULL || row[1] == NULL || row[2] == NULL || strcmp(row[0], db) != 0 ||
		    strcmp(row[1], tb) != 0 ||
		    (prev == NULL && !db_capture_ident(cap, row[2], false))) {
			continue;
		}
		cbits |= row[3] != NULL ? my_cap_bit(row[3]) : 0;
		prev = row;
	}
}

// The table lines, each followed by its columns' lines.
static void
my_cap_tables(MYSQL_RES *tabs, MYSQL_RES *cols, db_capture *cap)
{
	MYSQL_ROW row, prev = NULL;
	unsigned  tbits = 0;
	char      obj[160], privs[128];

	for (;;) {
		row = mysql_fetch_row(tabs);
		if (prev != NULL && (row == NULL || !my_same(row, prev, 2))) {
			my_cap_list(tbits, false, privs, sizeof(privs));
			snprintf(obj, sizeof(obj), "%s.%s", prev[0], prev[1]);
			db_capture_req(cap, "table", obj, privs);
			my_cap_columns_of(cols, prev[0], prev[1], tbits, cap);
			prev  = NULL;
			tbits = 0;
		}
		if (row == NULL) {
			break;
		}
		if (row[0] == NULL || row[1] == NULL ||
		    (prev == NULL && !db_capture_ident(cap, row[1], false))) {
			continue;
		}
		tbits |= row[2] != NULL ? my_cap_bit(row[2]) : 0;
		prev = row;
	}
}

static int
my_capture(void *ctx, const char *const *dbs, size_t n_dbs, FILE *out, char *err, size_t errlen)
{
	my_probe    *p   = ctx;
	db_capture   cap = { 0 };
	agent_result res;
	MYSQL       *m;
	MYSQL_RES   *tabs = NULL, *cols = NULL;
	sqlbuf       in = { 0 }, q1 = { 0 }, q2 = { 0 };
	size_t       n_in;
	char         when[32];
	int          rv = -1;

	agent_result_init(&res, p->c.name, FL__PROBE_KIND__KIND_MYSQL, p->target);
	if ((m = my_connect(p, fl_mono_us() + (int64_t) p->c.timeout_ms * 1000, &res)) == NULL) {
		snprintf(err, errlen, "cannot connect to %s: %s (%s)", p->target, res.detail,
		    fl_failure_name(res.pb.failure));
		agent_result_fini(&res);
		return -1;
	}
	db_capture_when(when, sizeof(when));
	db_capture_comment(&cap, "What user %s can use on %s, captured from probe \"%s\" at %s.",
	    p->user, p->target, p->c.name, when);
	db_capture_intro(&cap);
	db_capture_section(&cap, "mysql", p->c.name);
	if (my_cap_dbs(m, dbs, n_dbs, &in, &n_in, &cap, err, errlen) != 0) {
		goto out;
	}
	if (n_in > 0) {
		my_cap_tables_sql(&q1, &in);
		my_cap_columns_sql(&q2, &in);
		if ((tabs = my_cap_query(m, &q1, err, errlen)) == NULL ||
		    (cols = my_cap_query(m, &q2, err, errlen)) == NULL) {
			goto out;
		}
		my_cap_tables(tabs, cols, &cap);
	}
	rv = db_capture_finish(&cap, out, err, errlen);
out:
	if (rv != 0) {
		db_capture_free(&cap);
	}
	mysql_free_result(tabs);
	mysql_free_result(cols);
	free(in.s);
	free(q1.s);
	free(q2.s);
	mysql_close(m);
	agent_result_fini(&res);
	return rv;
}

AGENT_MODULE_EXPORT const agent_probe_ops agent_probe_mysql = {
	.section    = "mysql",
	.kind       = FL__PROBE_KIND__KIND_MYSQL,
	.alloc      = my_alloc,
	.set        = my_set,
	.validate   = my_validate,
	.run        = my_run,
	.timeout_ms = my_timeout,
	.target     = my_target,
	.free       = free,
	.capture    = my_capture,
};
