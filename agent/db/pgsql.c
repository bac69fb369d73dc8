// pgsql.c - the PostgreSQL probe: a fresh connection every round, timed phase by phase, a
// trivial query, and one catalog query that checks every requirement of the deployed release.
//
// Why a new connection per round: it is what breaks in an incident (authentication, connection
// slots, DNS, routing), and a pooled connection would hide all of it.
//
// Everything runs on libpq's asynchronous API (PQconnectStartParams + PQconnectPoll, then
// PQsendQueryParams) under poll() with one deadline, so a server that accepts TCP and never
// answers costs `timeout`, not the kernel's TCP timeouts. The name is resolved here, before
// libpq sees it (hostaddr), so that DNS time is measured and a DNS failure has its own class.
//
// Classification uses SQLSTATEs, never message text. libpq 15 has no API that returns the
// SQLSTATE of an error the server sends during connection startup (PQgetResult gives a
// synthesized result without one), but in PQERRORS_VERBOSE mode libpq itself writes the
// ErrorResponse's SQLSTATE field into the error message as "SEVERITY:  XXXXX: ...", and that
// is read back here. Failures before the server said anything (refused, unreachable, timeout)
// carry the connect(2) errno, which libpq only renders as strerror() text: it is matched
// against strerror() of the candidate errnos, produced by the same libc in the same process.
// docs/database-probes.md describes the phases and classes.

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libpq-fe.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "cancel.h"
#include "capture.h"
#include "dbcommon.h"
#include "fl/cfg.h"
#include "fl/errclass.h"
#include "fl/log.h"
#include "fl/names.h"
#include "fl/str.h"
#include "fl/time.h"
#include "util.h"

#define PG_MAX_KEYS 48

typedef struct pg_probe {
	db_common c;
	char     *keys[PG_MAX_KEYS]; // conninfo as keyword/value pairs (never a password)
	char     *vals[PG_MAX_KEYS];
	int       n;
	char      host[256];
	char      hostaddr[64];
	char      port[16];
	char      dbname[128];
	char      target[256];
	int       have_conninfo;
	int       sets_gssencmode; // conninfo chose whether to try GSSAPI encryption
} pg_probe;

// The one query a round spends on the release's expectations. Each row of the unnested
// arrays is one (requirement, privilege) pair; the query returns only the unmet ones, with
// `missing` telling a missing object from a missing privilege. The oid-taking has_*_privilege
// functions return NULL for an oid that does not exist, so nothing here raises for a missing
// object; function argument types are resolved first (to_regtype) because to_regprocedure
// raises 42704 for an unknown type name instead of returning NULL.
static const char check_sql[] =
    "SELECT r.i, o.oid IS NULL AS missing FROM unnest($1::int[], $2::text[], $3::text[], "
    "$4::text[], $5::text[], $6::text[]) AS r(i, kind, obj, sub, priv, args) "
    "CROSS JOIN LATERAL (SELECT CASE r.kind "
    "WHEN 'schema' THEN to_regnamespace(r.obj)::oid "
    "WHEN 'table' THEN (SELECT c.oid FROM pg_catalog.pg_class c WHERE c.oid = "
    "to_regclass(r.obj) AND c.relkind IN ('r','p','v','m','f')) "
    "WHEN 'sequence' THEN (SELECT c.oid FROM pg_catalog.pg_class c WHERE c.oid = "
    "to_regclass(r.obj) AND c.relkind = 'S') "
    "WHEN 'column' THEN (SELECT c.oid FROM pg_catalog.pg_class c WHERE c.oid = "
    "to_regclass(r.obj) AND c.relkind IN ('r','p','v','m','f') AND EXISTS (SELECT 1 FROM "
    "pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attname = r.sub AND a.attnum > 0 "
    "AND NOT a.attisdropped)) "
    "WHEN 'function' THEN CASE WHEN coalesce((SELECT bool_and(to_regtype(btrim(t)) IS NOT NULL) "
    "FROM unnest(string_to_array(r.args, ',')) AS t), true) THEN to_regprocedure(r.obj)::oid "
    "END END AS oid) AS o "
    "WHERE o.oid IS NULL OR (r.priv <> '' AND NOT coalesce(CASE r.kind "
    "WHEN 'schema' THEN has_schema_privilege(o.oid, r.priv) "
    "WHEN 'table' THEN has_table_privilege(o.oid, r.priv) "
    "WHEN 'sequence' THEN has_sequence_privilege(o.oid, r.priv) "
    "WHEN 'column' THEN has_column_privilege(o.oid, r.sub, r.priv) "
    "WHEN 'function' THEN has_function_privilege(o.oid, r.priv) END, false)) "
    "ORDER BY r.i";

// The round's first query, in place of a bare SELECT 1: it proves the server answers and reads
// the state a SELECT 1 cannot see, in the same round trip. Read-only: recovery (a standby),
// default_transaction_read_only, and the session's transaction_read_only that follows from
// either. Connections: client backends against max_connections minus the slots reserved for
// superusers (reserved_connections exists from PostgreSQL 16 on, hence missing_ok); read from
// pg_stat_get_activity() itself, because planning the pg_stat_activity view's joins costs ~1 ms
// (20x the rest of the query, measured with pgbench on this machine).
// Replication lag (a standby only): 0 when everything received is replayed, else the age of
// the last replayed transaction.
static const char state_sql[] =
    "SELECT pg_catalog.pg_is_in_recovery(), "
    "current_setting('transaction_read_only')::bool, "
    "current_setting('default_transaction_read_only')::bool, "
    "(SELECT count(*) FROM pg_catalog.pg_stat_get_activity(NULL) AS a "
    "WHERE a.backend_type = 'client backend'), "
    "current_setting('max_connections')::int - "
    "current_setting('superuser_reserved_connections')::int - "
    "coalesce(current_setting('reserved_connections', true)::int, 0), "
    "CASE WHEN NOT pg_catalog.pg_is_in_recovery() THEN NULL "
    "WHEN pg_catalog.pg_last_wal_receive_lsn() = pg_catalog.pg_last_wal_replay_lsn() THEN 0 "
    "ELSE (extract(epoch FROM now() - pg_catalog.pg_last_xact_replay_timestamp()) * 1000)::bigint "
    "END";

static void *
pg_alloc(const char *name)
{
	pg_probe *p = calloc(1, sizeof(*p));

	if (p != NULL) {
		db_common_init(&p->c, name);
	}
	return p;
}

static void
pg_clear_conninfo(pg_probe *p)
{
	for (int i = 0; i < p->n; i++) {
		free(p->keys[i]);
		free(p->vals[i]);
	}
	p->n = 0;
}

static void
pg_free(void *ctx)
{
	pg_probe *p = ctx;

	if (p != NULL) {
		pg_clear_conninfo(p);
		free(p);
	}
}

// Keywords the probe sets itself each round; a conninfo must not set them.
static int
reserved_key(const char *k)
{
	return strcmp(k, "password") == 0 || strcmp(k, "connect_timeout") == 0;
}

static int
pg_set_conninfo(pg_probe *p, const char *value, char *err, size_t errlen)
{
	PQconninfoOption *opts;
	char             *msg = NULL;
	int               rv  = -1;

	if ((opts = PQconninfoParse(value, &msg)) == NULL) {
		// libpq's message names the bad part but never echoes values
		snprintf(err, errlen, "invalid conninfo: %s", msg != NULL ? msg : "out of memory");
		for (char *s = err; *s; s++) {
			*s = *s == '\n' ? ' ' : *s;
		}
		PQfreemem(msg);
		return -1;
	}
	pg_clear_conninfo(p);
	p->host[0] = p->hostaddr[0] = p->port[0] = p->dbname[0] = '\0';
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || o->val[0] == '\0') {
			continue;
		}
		if (strcmp(o->keyword, "password") == 0) {
			snprintf(err, errlen,
			    "conninfo must not contain a password (use password_file "
			    "or password_env)");
			goto out;
		}
		if (reserved_key(o->keyword)) {
			snprintf(err, errlen,
			    "conninfo must not set %s (the probe sets it; use timeout)",
			    o->keyword);
			goto out;
		}
		if ((strcmp(o->keyword, "host") == 0 || strcmp(o->keyword, "hostaddr") == 0 ||
		        strcmp(o->keyword, "port") == 0) &&
		    strchr(o->val, ',') != NULL) {
			snprintf(err, errlen,
			    "conninfo: one host per probe (make one probe per server)");
			goto out;
		}
		if (strcmp(o->keyword, "host") == 0) {
			snprintf(p->host, sizeof(p->host), "%s", o->val);
		} else if (strcmp(o->keyword, "hostaddr") == 0) {
			snprintf(p->hostaddr, sizeof(p->hostaddr), "%s", o->val);
		} else if (strcmp(o->keyword, "port") == 0) {
			snprintf(p->port, sizeof(p->port), "%s", o->val);
		} else if (strcmp(o->keyword, "dbname") == 0) {
			snprintf(p->dbname, sizeof(p->dbname), "%s", o->val);
		} else if (strcmp(o->keyword, "gssencmode") == 0) {
			p->sets_gssencmode = 1;
		}
		if (p->n >= PG_MAX_KEYS - 5) { // room for the keys run() adds
			snprintf(err, errlen, "conninfo has too many keywords");
			goto out;
		}
		p->keys[p->n] = strdup(o->keyword);
		p->vals[p->n] = strdup(o->val);
		p->n++;
		if (p->keys[p->n - 1] == NULL || p->vals[p->n - 1] == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	if (p->host[0] == '\0' && p->hostaddr[0] == '\0') {
		snprintf(err, errlen, "conninfo needs host= (or hostaddr=)");
		goto out;
	}
	// %.*s: the parts are bounded by their buffers but may together exceed the target's
	snprintf(p->target, sizeof(p->target), "%.120s:%s/%.110s",
	    p->host[0] ? p->host : p->hostaddr, p->port[0] ? p->port : "5432",
	    p->dbname[0] ? p->dbname : "(default)");
	p->have_conninfo = 1;
	rv               = 0;
out:
	if (rv != 0) {
		pg_clear_conninfo(p);
	}
	PQconninfoFree(opts);
	return rv;
}

static int
pg_set(void *ctx, const char *key, const char *value, char *err, size_t errlen)
{
	pg_probe *p = ctx;
	int       rv;

	if (strcmp(key, "conninfo") == 0) {
		return pg_set_conninfo(p, value, err, errlen);
	}
	if (strcmp(key, "cert_warn") == 0) {
		return agent_set_cert_warn(value, &p->c.cert_warn_s, err, errlen) == 0 ? 0 : -1;
	}
	if ((rv = db_common_set(&p->c, key, value, err, errlen)) != 0) {
		return rv < 0 ? -1 : 0;
	}
	snprintf(err, errlen,
	    "unknown key (postgres probes take conninfo, password_file, password_env, timeout, "
	    "slow, saturation_warn, replica, max_lag, cert_warn)");
	return -1;
}

static int
pg_validate(void *ctx, char *err, size_t errlen)
{
	pg_probe *p = ctx;

	if (!p->have_conninfo) {
		snprintf(err, errlen, "conninfo is required");
		return -1;
	}
	return db_common_validate(&p->c, err, errlen);
}

static uint32_t
pg_timeout(const void *ctx)
{
	return ((const pg_probe *) ctx)->c.timeout_ms;
}

static const char *
pg_target(const void *ctx)
{
	return ((const pg_probe *) ctx)->target;
}

static int
remaining_ms(int64_t deadline)
{
	int64_t left = deadline - fl_mono_us();

	return left <= 0 ? 0 : (int) ((left + 999) / 1000);
}

// SQLSTATE → failure class (PostgreSQL Appendix A).
static Fl__FailureClass
class_of_sqlstate(const char *s)
{
	static const struct {
		const char      *code;
		Fl__FailureClass fc;
	} map[] = {
		{ "28P01", FL__FAILURE_CLASS__FAILURE_AUTH_FAILED },
		{ "28000", FL__FAILURE_CLASS__FAILURE_AUTH_FAILED },
		{ "3D000", FL__FAILURE_CLASS__FAILURE_DATABASE_MISSING },
		{ "53300", FL__FAILURE_CLASS__FAILURE_TOO_MANY_CONNECTIONS },
		{ "57P01",
		    FL__FAILURE_CLASS__FAILURE_SERVER_STARTING_OR_STOPPING }, // admin shutdown
		{ "57P02",
		    FL__FAILURE_CLASS__FAILURE_SERVER_STARTING_OR_STOPPING }, // crash shutdown
		{ "57P03",
		    FL__FAILURE_CLASS__FAILURE_SERVER_STARTING_OR_STOPPING }, // cannot connect now
		{ "42501", FL__FAILURE_CLASS__FAILURE_PRIVILEGE_MISSING },
		{ "42P01", FL__FAILURE_CLASS__FAILURE_OBJECT_MISSING },
		{ "42703", FL__FAILURE_CLASS__FAILURE_OBJECT_MISSING },
		{ "42883", FL__FAILURE_CLASS__FAILURE_OBJECT_MISSING },
		{ "3F000", FL__FAILURE_CLASS__FAILURE_OBJECT_MISSING },
		{ "08P01", FL__FAILURE_CLASS__FAILURE_PROTOCOL },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcmp(map[i].code, s) == 0) {
			return map[i].fc;
		}
	}
	// The rest of class 53, insufficient resources: 53100 disk full, 53200 out of memory,
	// 53400 configuration limit exceeded (53300 too many connections is matched above).
	if (strncmp(s, "53", 2) == 0) {
		return FL__FAILURE_CLASS__FAILURE_OUT_OF_RESOURCES;
	}
	return FL__FAILURE_CLASS__FAILURE_QUERY_ERROR;
}

static int
is_sqlstate_char(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z');
}

// Finds the SQLSTATE libpq wrote into a verbose-mode error message ("FATAL:  28P01: ...").
// Returns 0 and fills out[6], or -1 when the message carries none (no server error).
static int
sqlstate_from_verbose(const char *msg, char out[6])
{
	for (const char *s = strstr(msg, ":  "); s != NULL; s = strstr(s + 1, ":  ")) {
		const char *c  = s + 3;
		int         ok = 1;
		for (int i = 0; i < 5; i++) {
			ok &= is_sqlstate_char(c[i]);
		}
		if (ok && c[5] == ':') {
			memcpy(out, c, 5);
			out[5] = '\0';
			return 0;
		}
	}
	return -1;
}

// The first line of a libpq message, for the detail (libpq never includes passwords).
static void
first_line(const char *msg, char *out, size_t len)
{
	size_t n = strcspn(msg, "\n");

	if (n >= len) {
		n = len - 1;
	}
	memcpy(out, msg, n);
	out[n] = '\0';
}

// errno of a failed connect(2), recovered from libpq's strerror() text (see the file comment).
static int
connect_errno(const char *msg)
{
	static const int cands[] = { ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, ENETUNREACH, ECONNRESET,
		EADDRNOTAVAIL, ENETDOWN, EHOSTDOWN, EACCES, EPERM, ECONNABORTED, ENOENT, EMFILE,
		ENFILE, ENOBUFS, ENOMEM, EINVAL };
	char             buf[128];

	for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
		if (strerror_r(cands[i], buf, sizeof(buf)) == 0 && strstr(msg, buf) != NULL) {
			return cands[i];
		}
	}
	return 0;
}

static const char *
phase_name(ConnStatusType st)
{
	switch (st) {
	case CONNECTION_STARTED:
		return "tcp connect";
	case CONNECTION_SSL_STARTUP:
	case CONNECTION_GSS_STARTUP:
		return "tls/gss negotiation";
	default:
		return "authentication/startup";
	}
}

// Resolves p->host (unless hostaddr is set or host is a socket directory) into addr.
// Returns 0, or -1 with the class and detail set on res.
static int
pg_resolve(pg_probe *p, char *addr, size_t addrlen, agent_result *res)
{
	addr[0] = '\0';
	if (p->hostaddr[0] != '\0' || p->host[0] == '/' || p->host[0] == '@') {
		return 0;
	}
	// When the address cannot be printed, addr stays "" and libpq resolves the name itself.
	return db_resolve(p->host, p->port[0] ? p->port : "5432", addr, addrlen, res);
}

// Waits for the socket within the deadline. 1 ready, 0 timed out, -1 poll error.
static int
wait_fd(int fd, int for_write, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = for_write ? POLLOUT : POLLIN };
	int           rv;

	rv = agent_poll(&pfd, remaining_ms(deadline)); // also returns when the agent stops
	return rv > 0 ? 1 : rv;
}

// Sends one query and collects its single result within the deadline. Returns the result
// (caller clears it), or NULL on timeout (*timed_out set) or a connection failure.
static PGresult *
exec_bounded(PGconn *conn, const char *sql, int nparams, const char *const *values,
    int64_t deadline, int *timed_out)
{
	PGresult *r = NULL, *last = NULL;

	*timed_out = 0;
	if (!PQsendQueryParams(conn, sql, nparams, NULL, values, NULL, NULL, 0)) {
		return NULL;
	}
	while (PQflush(conn) == 1) {
		if (wait_fd(PQsocket(conn), 1, deadline) <= 0) {
			*timed_out = 1;
			return NULL;
		}
	}
	for (;;) {
		while (PQisBusy(conn)) {
			if (wait_fd(PQsocket(conn), 0, deadline) <= 0) {
				*timed_out = 1;
				PQclear(last);
				return NULL;
			}
			if (!PQconsumeInput(conn)) {
				break;
			}
		}
		if ((r = PQgetResult(conn)) == NULL) {
			return last;
		}
		PQclear(last);
		last = r;
		if (PQstatus(conn) == CONNECTION_BAD) {
			return last;
		}
	}
}

// Appends s as a quoted element of a PostgreSQL array literal.
static int
array_add(char **buf, size_t *len, size_t *cap, const char *s, int first)
{
	size_t need = *len + 2 * strlen(s) + 5;

	if (need > *cap) {
		size_t nc = need * 2;
		char  *nb = realloc(*buf, nc);
		if (nb == NULL) {
			return -1;
		}
		*buf = nb;
		*cap = nc;
	}
	if (!first) {
		(*buf)[(*len)++] = ',';
	}
	(*buf)[(*len)++] = '"';
	for (; *s; s++) {
		if (*s == '"' || *s == '\\') {
			(*buf)[(*len)++] = '\\';
		}
		(*buf)[(*len)++] = *s;
	}
	(*buf)[(*len)++] = '"';
	(*buf)[*len]     = '\0';
	return 0;
}

// Fills the six array parameters of check_sql from the rows. Returns 0 or -1 (out of memory).
static int
build_params(const db_check_row *rows, size_t n, char *arr[6])
{
	size_t len[6] = { 0 }, cap[6] = { 0 };
	int    rv = 0;

	for (int a = 0; a < 6; a++) {
		if ((arr[a] = malloc(64)) == NULL) {
			return -1;
		}
		cap[a] = 64;
		len[a] = 0;
	}
	for (size_t i = 0; i < n && rv == 0; i++) {
		const agent_requirement *r = rows[i].r;
		char                     idx[24], obj[512], sub[256], args[512];
		const char              *o = r->object;

		snprintf(idx, sizeof(idx), "%zu", i);
		sub[0] = args[0] = '\0';
		if (r->kind == FL__OBJECT_KIND__OBJECT_COLUMN) {
			if (db_split_last(r->object, obj, sizeof(obj), sub, sizeof(sub)) != 0) {
				return -1;
			}
			o = obj;
		} else if (r->kind == FL__OBJECT_KIND__OBJECT_FUNCTION) {
			const char *lp = strchr(r->object, '(');
			size_t      al = lp != NULL ? strlen(lp + 1) : 0;
			if (lp != NULL && al > 0 && al < sizeof(args)) {
				memcpy(args, lp + 1, al - 1); // without the closing parenthesis
				args[al - 1] = '\0';
			}
		}
		rv |= array_add(&arr[0], &len[0], &cap[0], idx, i == 0);
		rv |= array_add(&arr[1], &len[1], &cap[1], fl_object_kind_name(r->kind), i == 0);
		rv |= array_add(&arr[2], &len[2], &cap[2], o, i == 0);
		rv |= array_add(&arr[3], &len[3], &cap[3], sub, i == 0);
		rv |= array_add(&arr[4], &len[4], &cap[4], rows[i].priv, i == 0);
		rv |= array_add(&arr[5], &len[5], &cap[5], args, i == 0);
	}
	for (int a = 0; a < 6 && rv == 0; a++) {
		// wrap in braces: shift right by one
		char *nb = realloc(arr[a], len[a] + 3);
		if (nb == NULL) {
			return -1;
		}
		memmove(nb + 1, nb, len[a]);
		nb[0]          = '{';
		nb[len[a] + 1] = '}';
		nb[len[a] + 2] = '\0';
		arr[a]         = nb;
	}
	return rv;
}

// Runs the expectations check; fills unmet items or the failure. Returns 0 when the round may
// finish ok (all met), 1 when res is final.
static int
pg_check(pg_probe *p, PGconn *conn, const agent_db_expect *d, int64_t deadline, agent_result *res,
    const char *role)
{
	size_t        n     = 0;
	db_unmet      unmet = DB_UNMET_INIT;
	db_check_row *rows;
	char         *arr[6] = { NULL };
	PGresult     *r      = NULL;
	int           timed_out, rv = 1;

	if ((rows = db_check_rows(d, &n)) == NULL || build_params(rows, n, arr) != 0) {
		agent_result_set(res, FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_INTERNAL,
		    "cannot check expectations: out of memory");
		goto out;
	}
	res->pb.requirements_checked = (uint32_t) d->n_reqs;
	int64_t t0                   = fl_mono_us();
	r = exec_bounded(conn, check_sql, 6, (const char *const *) arr, deadline, &timed_out);
	res->timing.check_us = agent_phase_us(t0, fl_mono_us());
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
		const char *ss = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
		char        msg[256];
		first_line(
		    r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(conn), msg, sizeof(msg));
		if (timed_out) {
			agent_result_set(res, FL__STATUS__STATUS_FAIL,
			    FL__FAILURE_CLASS__FAILURE_TIMEOUT,
			    "no answer to the expectations check within %u ms", p->c.timeout_ms);
		} else if (ss != NULL) {
			snprintf(res->sqlstate, sizeof(res->sqlstate), "%s", ss);
			agent_result_set(res, FL__STATUS__STATUS_FAIL, class_of_sqlstate(ss),
			    "expectations check failed: %s", msg);
		} else {
			agent_result_set(res, FL__STATUS__STATUS_FAIL,
			    FL__FAILURE_CLASS__FAILURE_RESET,
			    "connection lost during the expectations check: %s", msg);
		}
		goto out;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		size_t row     = strtoul(PQgetvalue(r, i, 0), NULL, 10);
		bool   missing = PQgetvalue(r, i, 1)[0] == 't';

		if (row >= n) {
			continue;
		}
		db_unmet_add(&unmet, res, p->c.name, &rows[row], rows[row].priv, missing, role, "");
	}
	if (db_unmet_finish(&unmet, res)) {
		goto out;
	}
	rv = 0;
out:
	PQclear(r);
	for (int a = 0; a < 6; a++) {
		free(arr[a]);
	}
	free(rows);
	return rv;
}

// The server certificate's notAfter when the connection uses TLS (libpq built with OpenSSL),
// Unix time in microseconds; 0 when there is none.
static int64_t
pg_peer_cert_expiry(PGconn *conn)
{
	SSL    *ssl = PQsslInUse(conn) ? PQsslStruct(conn, "OpenSSL") : NULL;
	X509   *cert;
	int     days, secs;
	int64_t out = 0;

	if (ssl == NULL || (cert = SSL_get1_peer_certificate(ssl)) == NULL) {
		return 0;
	}
	if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(cert)) == 1) {
		// notAfter is in whole seconds: so is the result, whatever the clock's fraction.
		out = (fl_now_us() / 1000000 + (int64_t) days * 86400 + secs) * 1000000;
	}
	X509_free(cert);
	return out;
}

static bool
pg_bool_at(const PGresult *r, int row, int col)
{
	return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

static bool
pg_bool(const PGresult *r, int col)
{
	return pg_bool_at(r, 0, col);
}

static uint32_t
pg_u32(const PGresult *r, int col)
{
	long long v = PQgetisnull(r, 0, col) ? 0 : strtoll(PQgetvalue(r, 0, col), NULL, 10);

	return v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t) v;
}

// Reads state_sql's one row into s.
static void
pg_read_state(const PGresult *r, const db_common *c, db_state *s)
{
	bool recovery, tx_ro, default_ro;

	memset(s, 0, sizeof(*s));
	if (PQntuples(r) != 1 || PQnfields(r) != 6) {
		return;
	}
	recovery     = pg_bool(r, 0);
	tx_ro        = pg_bool(r, 1);
	default_ro   = pg_bool(r, 2);
	s->read_only = recovery || tx_ro || default_ro;
	snprintf(s->read_only_reason, sizeof(s->read_only_reason), "%s",
	    recovery         ? "in recovery"
	        : default_ro ? "default_transaction_read_only"
	                     : "transaction_read_only");
	s->conns_in_use = pg_u32(r, 3);
	s->conns_limit  = pg_u32(r, 4);
	if (!c->replica) {
		return;
	}
	if (!recovery) {
		snprintf(s->lag_problem, sizeof(s->lag_problem),
		    "not in recovery: this server is a primary now (promoted?)");
	} else if (PQgetisnull(r, 0, 5)) {
		snprintf(s->lag_problem, sizeof(s->lag_problem),
		    "no transaction replayed yet: replication lag unknown");
	} else {
		s->lag_known = true;
		s->lag_ms    = strtoll(PQgetvalue(r, 0, 5), NULL, 10);
		s->lag_ms    = s->lag_ms < 0 ? 0 : s->lag_ms;
	}
}

// Opens the probe's connection within the deadline, timed phase by phase into res: the
// password is read anew, the name resolved (DNS phase), and a failure classified. Returns the
// connection (caller PQfinish()es it) with res->role and the certificate expiry set, or NULL
// with res final (status fail, class, detail).
static PGconn *
pg_connect(pg_probe *p, int64_t deadline, agent_result *res)
{
	const char               *keys[PG_MAX_KEYS + 1], *vals[PG_MAX_KEYS + 1];
	char                      password[DB_SECRET_MAX], err[256], addr[64], ctimeout[16];
	char                      msg[512], ss[6];
	int                       k = 0, have_pw, timed_out = 0;
	int64_t                   t_connect = 0, t_tls0 = 0, t_tls1 = 0, t_ok = 0;
	PGconn                   *conn = NULL;
	ConnStatusType            last = CONNECTION_STARTED;
	PostgresPollingStatusType st   = PGRES_POLLING_WRITING;

	if ((have_pw = db_password_read(&p->c, password, err, sizeof(err))) < 0) {
		agent_result_set(res, FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_INTERNAL,
		    "cannot read the password: %s", err);
		return NULL;
	}
	if (pg_resolve(p, addr, sizeof(addr), res) != 0) {
		db_secret_wipe(password, sizeof(password));
		return NULL;
	}
	for (int i = 0; i < p->n; i++) {
		keys[k]   = p->keys[i];
		vals[k++] = p->vals[i];
	}
	if (addr[0] != '\0') {
		keys[k]   = "hostaddr";
		vals[k++] = addr;
	}
	if (have_pw) {
		keys[k]   = "password";
		vals[k++] = password;
	}
	// libpq's default gssencmode=prefer initialises Kerberos on every connection (its
	// config, a context, ~0.3 MB of heap and library data held for good) only to find no
	// credentials for a service user; GSSAPI encryption is used when asked for, in conninfo
	// or PGGSSENCMODE.
	if (!p->sets_gssencmode && getenv("PGGSSENCMODE") == NULL) {
		keys[k]   = "gssencmode";
		vals[k++] = "disable";
	}
	// A backstop only (libpq rounds it to whole seconds, minimum 2): the poll loop below is
	// what bounds the round.
	snprintf(ctimeout, sizeof(ctimeout), "%u", (p->c.timeout_ms + 999) / 1000 + 1);
	keys[k]   = "connect_timeout";
	vals[k++] = ctimeout;
	keys[k] = vals[k] = NULL;

	int64_t t0 = fl_mono_us();
	if ((conn = PQconnectStartParams(keys, vals, 0)) == NULL) {
		db_secret_wipe(password, sizeof(password));
		agent_result_set(res, FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_INTERNAL,
		    "cannot start a connection: out of memory");
		return NULL;
	}
	db_secret_wipe(password, sizeof(password));
	PQsetErrorVerbosity(conn, PQERRORS_VERBOSE); // so libpq writes the SQLSTATE (file comment)
	if (PQstatus(conn) == CONNECTION_BAD) {
		st = PGRES_POLLING_FAILED;
	}
	while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
		int ready = wait_fd(PQsocket(conn), st == PGRES_POLLING_WRITING, deadline);
		if (ready <= 0) {
			timed_out = 1;
			break;
		}
		st                 = PQconnectPoll(conn);
		ConnStatusType cs  = PQstatus(conn);
		int64_t        now = fl_mono_us();
		if (last == CONNECTION_STARTED && cs != CONNECTION_STARTED &&
		    cs != CONNECTION_BAD) {
			t_connect = now; // the socket became writable: TCP is up
		}
		if ((cs == CONNECTION_SSL_STARTUP || cs == CONNECTION_GSS_STARTUP) && t_tls0 == 0) {
			t_tls0 = now;
		}
		if (t_tls0 != 0 && t_tls1 == 0 && cs != CONNECTION_SSL_STARTUP &&
		    cs != CONNECTION_GSS_STARTUP) {
			t_tls1 = now;
		}
		if (cs != CONNECTION_BAD) {
			last = cs;
		}
	}
	t_ok = fl_mono_us();
	if (t_connect != 0) {
		res->timing.connect_us = agent_phase_us(t0, t_connect);
		if (t_tls1 != 0 && PQsslInUse(conn)) {
			res->timing.tls_us  = agent_phase_us(t_connect, t_tls1);
			res->timing.auth_us = agent_phase_us(t_tls1, t_ok);
		} else {
			res->timing.auth_us = agent_phase_us(t_connect, t_ok);
		}
	}
	if (timed_out) {
		res->pb.error_code = ETIMEDOUT;
		agent_result_set(res, FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_TIMEOUT,
		    "no answer within %u ms (during %s)", p->c.timeout_ms, phase_name(last));
		PQfinish(conn);
		return NULL;
	}
	if (st != PGRES_POLLING_OK) {
		first_line(PQerrorMessage(conn), msg, sizeof(msg));
		if (sqlstate_from_verbose(PQerrorMessage(conn), ss) == 0) {
			snprintf(res->sqlstate, sizeof(res->sqlstate), "%s", ss);
			agent_result_set(
			    res, FL__STATUS__STATUS_FAIL, class_of_sqlstate(ss), "%s", msg);
		} else if (last == CONNECTION_SSL_STARTUP) {
			// The TLS handshake failed (certificate not trusted, expired, wrong host).
			agent_result_set(res, FL__STATUS__STATUS_FAIL,
			    FL__FAILURE_CLASS__FAILURE_TLS, "%s", msg);
		} else if (last == CONNECTION_STARTED) {
			int e              = connect_errno(msg);
			res->pb.error_code = e;
			agent_result_set(
			    res, FL__STATUS__STATUS_FAIL, fl_failure_of_errno(e), "%s", msg);
		} else {
			// The server hung up or spoke no PostgreSQL, without an error of its own.
			agent_result_set(res, FL__STATUS__STATUS_FAIL,
			    FL__FAILURE_CLASS__FAILURE_PROTOCOL, "%s", msg);
		}
		PQfinish(conn);
		return NULL;
	}
	snprintf(res->role, sizeof(res->role), "%s", PQuser(conn));
	res->pb.cert_expires_us = pg_peer_cert_expiry(conn);
	return conn;
}

static void
pg_run(void *ctx, const agent_round *round, agent_result *res)
{
	pg_probe *p = ctx;
	char      msg[512];
	int       timed_out = 0;
	int64_t   start = fl_mono_us(), deadline = start + (int64_t) p->c.timeout_ms * 1000;
	PGconn   *conn           = NULL;
	PGresult *r              = NULL;
	const agent_db_expect *d = NULL;
	db_state               state;

	d = db_round_begin(res, round, "postgres", p->c.name);
	if ((conn = pg_connect(p, deadline, res)) == NULL) {
		goto done;
	}
	int64_t t0           = fl_mono_us();
	r                    = exec_bounded(conn, state_sql, 0, NULL, deadline, &timed_out);
	res->timing.query_us = agent_phase_us(t0, fl_mono_us());
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
		const char *code = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
		first_line(
		    r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(conn), msg, sizeof(msg));
		if (timed_out) {
			agent_result_set(res, FL__STATUS__STATUS_FAIL,
			    FL__FAILURE_CLASS__FAILURE_TIMEOUT,
			    "no answer to the state query within %u ms", p->c.timeout_ms);
		} else if (code != NULL) {
			snprintf(res->sqlstate, sizeof(res->sqlstate), "%s", code);
			agent_result_set(res, FL__STATUS__STATUS_FAIL, class_of_sqlstate(code),
			    "state query failed: %s", msg);
		} else {
			agent_result_set(res, FL__STATUS__STATUS_FAIL,
			    FL__FAILURE_CLASS__FAILURE_RESET,
			    "connection lost during the state query: %s", msg);
		}
		goto done;
	}
	pg_read_state(r, &p->c, &state);
	db_state_record(res, &p->c, &state, d);
	PQclear(r);
	r = NULL;
	if (d != NULL && d->n_reqs > 0 && pg_check(p, conn, d, deadline, res, res->role) != 0) {
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
	PQclear(r);
	PQfinish(conn);
	res->timing.total_us = agent_phase_us(start, fl_mono_us());
	res->pb.duration_us  = res->timing.total_us;
}

// Capture (--capture-expectations): what the role can use today, read with the same
// has_*_privilege functions check_sql uses, so that the file captured is met by construction.
// Every query takes the chosen schemas as $1; privileges are listed in the order the
// expectations format documents them.
#define PG_PRIVS_OF(fn, list)                                                               \
	"coalesce((SELECT string_agg(t.p, ', ' ORDER BY t.o) FROM unnest(ARRAY[" list "]) " \
	"WITH ORDINALITY AS t(p, o) WHERE " fn "), '')"

// The schemas asked for, or every non-system one the role has USAGE on: name, USAGE, CREATE.
static const char cap_schemas_sql[] =
    "SELECT n.nspname, has_schema_privilege(n.oid, 'USAGE'), has_schema_privilege(n.oid, "
    "'CREATE') FROM pg_catalog.pg_namespace n WHERE CASE WHEN cardinality($1::text[]) = 0 "
    "THEN n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' AND "
    "has_schema_privilege(n.oid, 'USAGE') ELSE n.nspname = ANY($1::text[]) END ORDER BY 1";

// One row per column of every table or view the role holds a privilege on (table level or
// on some column): schema, table, column, the table's privileges, and the column's privileges
// beyond the table's.
static const char cap_tables_sql[] = "SELECT n.nspname, c.relname, a.attname, " PG_PRIVS_OF(
    "has_table_privilege(c.oid, t.p)",
    "'SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER'") ", " PG_PRIVS_OF("has_"
                                                                                              "colu"
                                                                                              "mn_"
                                                                                              "priv"
                                                                                              "ileg"
                                                                                              "e(c."
                                                                                              "oid,"
                                                                                              " a."
                                                                                              "attn"
                                                                                              "um, "
                                                                                              "t.p)"
                                                                                              " AND"
                                                                                              " NOT"
                                                                                              " has"
                                                                                              "_tab"
                                                                                              "le_"
                                                                                              "priv"
                                                                                              "ileg"
                                                                                              "e(c."
                                                                                              "oid,"
                                                                                              " t."
                                                                                              "p)",
    "'SELECT','INSERT','UPDATE','REFERENCES'") " FROM pg_catalog.pg_class c JOIN "
                                               "pg_catalog.pg_namespace n ON n.oid = "
                                               "c.relnamespace JOIN pg_catalog.pg_attribute a ON "
                                               "a.attrelid = c.oid AND a.attnum > 0 AND NOT "
                                               "a.attisdropped WHERE n.nspname = "
                                               "ANY($1::text[]) AND c.relkind IN "
                                               "('r','p','v','m','f') AND "
                                               "(has_table_privilege(c.oid, "
                                               "'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, "
                                               "REFERENCES, TRIGGER') OR "
                                               "has_any_column_privilege(c.oid, 'SELECT, INSERT, "
                                               "UPDATE, REFERENCES')) "
                                               "ORDER BY n.nspname, c.relname, a.attnum";

// has_sequence_privilege() raises on any other relation, and the planner may test it before
// the relkind: hence the CASE.
static const char cap_sequences_sql[] =
    "SELECT n.nspname, c.relname, " PG_PRIVS_OF("has_sequence_privilege(c.oid, t.p)",
        "'USAGE','SELECT','UPDATE'") " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace "
                                     "n ON n.oid = c.relnamespace WHERE n.nspname = "
                                     "ANY($1::text[]) AND CASE WHEN c.relkind = 'S' THEN "
                                     "has_sequence_privilege(c.oid, 'USAGE, SELECT, UPDATE') "
                                     "END ORDER BY 1, 2";

// Functions and procedures the role may execute, but not those an extension installed.
static const char cap_functions_sql[] =
    "SELECT n.nspname, p.proname, pg_catalog.oidvectortypes(p.proargtypes) FROM "
    "pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE "
    "n.nspname = ANY($1::text[]) AND p.prokind IN ('f','p') AND has_function_privilege(p.oid, "
    "'EXECUTE') AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = "
    "'pg_catalog.pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e') ORDER BY 1, 2, 3";

#define PG_CAPTURE_QUERY_MS 30000 // per query: the catalog of a big schema takes a while

// Runs one capture query with the schema array as $1. NULL with err on failure.
static PGresult *
cap_query(PGconn *conn, const char *sql, const char *schemas, char *err, size_t errlen)
{
	const char *params[1] = { schemas };
	int         timed_out;
	char        msg[256];
	PGresult   *r = exec_bounded(
	      conn, sql, 1, params, fl_mono_us() + (int64_t) PG_CAPTURE_QUERY_MS * 1000, &timed_out);

	if (r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK) {
		return r;
	}
	first_line(r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(conn), msg, sizeof(msg));
	snprintf(err, errlen, "%s", timed_out ? "no answer to a catalog query within 30 s" : msg);
	PQclear(r);
	return NULL;
}

// The schema lines; fills *arr with the array literal of the schemas to read objects from
// (those the role has USAGE on). -1 with err when a schema asked for does not exist.
static int
cap_schemas(PGconn *conn, const char *const *schemas, size_t n_schemas, db_capture *cap, char **arr,
    char *err, size_t errlen)
{
	char     *want = NULL;
	size_t    wl = 0, wc = 0, al = 0, ac = 0;
	PGresult *r;
	int       rv = -1;

	*arr = NULL;
	for (size_t i = 0; i < n_schemas; i++) {
		if (array_add(&want, &wl, &wc, schemas[i], i == 0) != 0) {
			goto oom;
		}
	}
	{
		char *w = malloc(wl + 3);
		if (w == NULL) {
			goto oom;
		}
		snprintf(w, wl + 3, "{%s}", fl_str_or_empty(want));
		free(want);
		want = w;
	}
	if ((r = cap_query(conn, cap_schemas_sql, want, err, errlen)) == NULL) {
		goto out;
	}
	for (size_t i = 0; i < n_schemas; i++) {
		int found = 0;
		for (int j = 0; j < PQntuples(r) && !found; j++) {
			found = strcmp(PQgetvalue(r, j, 0), schemas[i]) == 0;
		}
		if (!found) {
			snprintf(err, errlen, "schema %s does not exist", schemas[i]);
			PQclear(r);
			goto out;
		}
	}
	if (array_add(arr, &al, &ac, "", 1) != 0) { // a non-NULL empty list to start from
		PQclear(r);
		goto oom;
	}
	al        = 0;
	(*arr)[0] = '\0';
	for (int j = 0, first = 1; j < PQntuples(r); j++) {
		const char *name      = PQgetvalue(r, j, 0);
		char        privs[32] = "";
		if (!db_capture_ident(cap, name, true)) {
			continue;
		}
		if (pg_bool_at(r, j, 1)) {
			db_capture_priv(privs, sizeof(privs), "USAGE");
		}
		if (pg_bool_at(r, j, 2)) {
			db_capture_priv(privs, sizeof(privs), "CREATE");
		}
		if (privs[0] == '\0') {
			db_capture_comment(
			    cap, "%s: no USAGE, so none of its objects can be used", name);
		}
		db_capture_req(cap, "schema", name, privs);
		if (pg_bool_at(r, j, 1)) {
			if (array_add(arr, &al, &ac, name, first) != 0) {
				PQclear(r);
				goto oom;
			}
			first = 0;
		}
	}
	PQclear(r);
	{
		char *a = malloc(al + 3);
		if (a == NULL) {
			goto oom;
		}
		snprintf(a, al + 3, "{%s}", *arr);
		free(*arr);
		*arr = a;
	}
	rv = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	free(want);
	if (rv != 0) {
		free(*arr);
		*arr = NULL;
	}
	return rv;
}

// Table lines, each followed by its columns' lines.
static int
cap_tables(PGconn *conn, const char *schemas, db_capture *cap, char *err, size_t errlen)
{
	PGresult *r;
	char      cur[300] = "", obj[400];
	bool      cur_ok   = false;

	if ((r = cap_query(conn, cap_tables_sql, schemas, err, errlen)) == NULL) {
		return -1;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		const char *ns = PQgetvalue(r, i, 0), *rel = PQgetvalue(r, i, 1);
		const char *col = PQgetvalue(r, i, 2);
		char        tbl[300];
		snprintf(tbl, sizeof(tbl), "%s.%s", ns, rel);
		if (strcmp(tbl, cur) != 0) {
			snprintf(cur, sizeof(cur), "%s", tbl);
			cur_ok = db_capture_ident(cap, rel, true);
			if (cur_ok) {
				db_capture_req(cap, "table", tbl, PQgetvalue(r, i, 3));
			}
		}
		if (cur_ok && db_capture_ident(cap, col, true)) {
			snprintf(obj, sizeof(obj), "%s.%s", tbl, col);
			db_capture_req(cap, "column", obj, PQgetvalue(r, i, 4));
		}
	}
	PQclear(r);
	return 0;
}

static int
cap_sequences(PGconn *conn, const char *schemas, db_capture *cap, char *err, size_t errlen)
{
	PGresult *r;
	char      obj[300];

	if ((r = cap_query(conn, cap_sequences_sql, schemas, err, errlen)) == NULL) {
		return -1;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		if (db_capture_ident(cap, PQgetvalue(r, i, 1), true)) {
			snprintf(
			    obj, sizeof(obj), "%s.%s", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
			db_capture_req(cap, "sequence", obj, PQgetvalue(r, i, 2));
		}
	}
	PQclear(r);
	return 0;
}

static int
cap_functions(PGconn *conn, const char *schemas, db_capture *cap, char *err, size_t errlen)
{
	PGresult *r;
	char      obj[1024];

	if ((r = cap_query(conn, cap_functions_sql, schemas, err, errlen)) == NULL) {
		return -1;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		const char *fn = PQgetvalue(r, i, 1), *args = PQgetvalue(r, i, 2);
		if (!db_capture_ident(cap, fn, true) || !db_capture_args(cap, fn, args)) {
			continue;
		}
		int n = snprintf(obj, sizeof(obj), "%s.%s(%s)", PQgetvalue(r, i, 0), fn, args);
		if (n < 0 || (size_t) n >= sizeof(obj)) {
			db_capture_skip(cap, fn); // a signature longer than we write: never cut it
			continue;
		}
		db_capture_req(cap, "function", obj, "EXECUTE");
	}
	PQclear(r);
	return 0;
}

static int
pg_capture(
    void *ctx, const char *const *schemas, size_t n_schemas, FILE *out, char *err, size_t errlen)
{
	pg_probe    *p   = ctx;
	db_capture   cap = { 0 };
	agent_result res;
	PGconn      *conn;
	char        *arr = NULL, when[32];
	int          rv  = -1;

	agent_result_init(&res, p->c.name, FL__PROBE_KIND__KIND_POSTGRES, p->target);
	conn = pg_connect(p, fl_mono_us() + (int64_t) p->c.timeout_ms * 1000, &res);
	if (conn == NULL) {
		snprintf(err, errlen, "cannot connect to %s: %s (%s)", p->target, res.detail,
		    fl_failure_name(res.pb.failure));
		agent_result_fini(&res);
		return -1;
	}
	db_capture_when(when, sizeof(when));
	db_capture_comment(&cap, "What role %s can use on %s, captured from probe \"%s\" at %s.",
	    res.role, p->target, p->c.name, when);
	db_capture_intro(&cap);
	db_capture_section(&cap, "postgres", p->c.name);
	if (cap_schemas(conn, schemas, n_schemas, &cap, &arr, err, errlen) != 0 ||
	    cap_tables(conn, arr, &cap, err, errlen) != 0 ||
	    cap_sequences(conn, arr, &cap, err, errlen) != 0 ||
	    cap_functions(conn, arr, &cap, err, errlen) != 0) {
		db_capture_free(&cap);
		goto out;
	}
	rv = db_capture_finish(&cap, out, err, errlen);
out:
	free(arr);
	PQfinish(conn);
	agent_result_fini(&res);
	return rv;
}

AGENT_MODULE_EXPORT const agent_probe_ops agent_probe_postgres = {
	.section    = "postgres",
	.kind       = FL__PROBE_KIND__KIND_POSTGRES,
	.alloc      = pg_alloc,
	.set        = pg_set,
	.validate   = pg_validate,
	.run        = pg_run,
	.timeout_ms = pg_timeout,
	.target     = pg_target,
	.free       = pg_free,
	.capture    = pg_capture,
};
