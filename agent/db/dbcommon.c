// dbcommon.c - config keys, secrets and requirement rows shared by the database probes.

#include "dbcommon.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "fl/cfg.h"
#include "fl/names.h"
#include "fl/time.h"
#include "fl/unmet.h"
#include "util.h"

#define DB_TIMEOUT_MAX_MS (5 * 60 * 1000)

void
db_common_init(db_common *c, const char *name)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->timeout_ms     = 3000;
	c->saturation_pct = 90;
	c->max_lag_ms     = 30000;
	c->cert_warn_s    = 14 * 86400;
}

// "90%" or "90": a share of the connection limit, 0 (off) to 100.
static int
parse_percent(const char *value, uint32_t *out)
{
	char   buf[8];
	size_t n = strlen(value);

	if (n == 0 || n >= sizeof(buf)) {
		return -1;
	}
	memcpy(buf, value, n + 1);
	if (buf[n - 1] == '%') {
		buf[n - 1] = '\0';
	}
	return fl_cfg_uint(buf, 0, 100, out);
}

// saturation_warn, replica and max_lag: the keys of the database state checks.
static int
db_state_set(db_common *c, const char *key, const char *value, char *err, size_t errlen)
{
	if (strcmp(key, "saturation_warn") == 0) {
		if (parse_percent(value, &c->saturation_pct) != 0) {
			snprintf(err, errlen,
			    "saturation_warn must be a share of the connection limit such as 90%% "
			    "(0 turns it off)");
			return -1;
		}
		return 1;
	}
	if (strcmp(key, "replica") == 0) {
		if (fl_cfg_bool(value, &c->replica) != 0) {
			snprintf(err, errlen, "replica must be yes or no");
			return -1;
		}
		return 1;
	}
	if (strcmp(key, "max_lag") == 0) {
		if (fl_duration_parse(value, &c->max_lag_ms) != 0) {
			snprintf(
			    err, errlen, "max_lag must be a duration such as 30s or 5m, up to 24h");
			return -1;
		}
		return 1;
	}
	return 0;
}

int
db_common_set(db_common *c, const char *key, const char *value, char *err, size_t errlen)
{
	uint32_t ms;

	if (strcmp(key, "password_file") == 0) {
		if (value[0] == '\0' ||
		    fl_strlcpy_checked(c->password_file, value, sizeof(c->password_file)) != 0) {
			snprintf(err, errlen, "password_file must be a path of at most %zu bytes",
			    sizeof(c->password_file) - 1);
			return -1;
		}
		return 1;
	}
	if (strcmp(key, "password_env") == 0) {
		if (value[0] == '\0' ||
		    fl_strlcpy_checked(c->password_env, value, sizeof(c->password_env)) != 0 ||
		    strchr(value, '=') != NULL) {
			snprintf(err, errlen, "password_env must name an environment variable");
			return -1;
		}
		return 1;
	}
	if (strcmp(key, "timeout") == 0 || strcmp(key, "slow") == 0) {
		int is_timeout = key[0] == 't';
		if (fl_duration_parse(value, &ms) != 0 || (is_timeout && ms == 0) ||
		    ms > DB_TIMEOUT_MAX_MS) {
			snprintf(err, errlen,
			    "%s must be a duration such as 3s or 200ms, up to 5m%s", key,
			    is_timeout ? ", not zero" : "");
			return -1;
		}
		if (is_timeout) {
			c->timeout_ms = ms;
		} else {
			c->slow_ms = ms;
		}
		return 1;
	}
	return db_state_set(c, key, value, err, errlen);
}

int
db_common_validate(const db_common *c, char *err, size_t errlen)
{
	char secret[DB_SECRET_MAX];
	int  rv;

	if (c->password_file[0] != '\0' && c->password_env[0] != '\0') {
		snprintf(err, errlen, "set password_file or password_env, not both");
		return -1;
	}
	if (agent_check_slow(c->slow_ms, c->timeout_ms, err, errlen) != 0) {
		return -1;
	}
	if (c->password_file[0] == '\0') {
		return 0; // an unset environment variable is a round's failure, not a config error
	}
	// Read it once now so that a world-readable or missing file stops the agent at startup
	// with a clear message, rather than failing every round.
	rv = fl_cfg_read_secret_file(c->password_file, secret, sizeof(secret), err, errlen);
	db_secret_wipe(secret, sizeof(secret));
	return rv == 0 ? 0 : -1;
}

int
db_password_read(const db_common *c, char *out, char *err, size_t errlen)
{
	const char *v;

	out[0] = '\0';
	if (c->password_file[0] != '\0') {
		if (fl_cfg_read_secret_file(c->password_file, out, DB_SECRET_MAX, err, errlen) !=
		    0) {
			return -1;
		}
		return 1;
	}
	if (c->password_env[0] != '\0') {
		if ((v = getenv(c->password_env)) == NULL || v[0] == '\0') {
			snprintf(err, errlen, "environment variable %s (password_env) is not set",
			    c->password_env);
			return -1;
		}
		if (fl_strlcpy_checked(out, v, DB_SECRET_MAX) != 0) {
			snprintf(err, errlen, "password in %s is longer than %d bytes",
			    c->password_env, DB_SECRET_MAX - 1);
			return -1;
		}
		return 1;
	}
	return 0;
}

void
db_secret_wipe(char *s, size_t len)
{
	volatile char *p = s;

	while (len--) {
		*p++ = '\0';
	}
}

db_check_row *
db_check_rows(const agent_db_expect *d, size_t *n)
{
	size_t        count = 0, k = 0;
	db_check_row *rows;

	for (size_t i = 0; d != NULL && i < d->n_reqs; i++) {
		count += d->reqs[i].n_privileges ? d->reqs[i].n_privileges : 1;
	}
	if ((rows = calloc(count ? count : 1, sizeof(*rows))) == NULL) {
		return NULL;
	}
	for (size_t i = 0; d != NULL && i < d->n_reqs; i++) {
		const agent_requirement *r = &d->reqs[i];
		if (r->n_privileges == 0) {
			rows[k++] = (db_check_row) { .req = i, .r = r, .priv = "" };
		}
		for (size_t j = 0; j < r->n_privileges; j++) {
			rows[k++] = (db_check_row) { .req = i, .r = r, .priv = r->privileges[j] };
		}
	}
	*n = count;
	return rows;
}

int
db_split_last(const char *obj, char *head, size_t headlen, char *tail, size_t taillen)
{
	const char *dot = strrchr(obj, '.');

	if (dot == NULL || (size_t) (dot - obj) >= headlen || strlen(dot + 1) >= taillen) {
		return -1;
	}
	memcpy(head, obj, (size_t) (dot - obj));
	head[dot - obj] = '\0';
	memcpy(tail, dot + 1, strlen(dot + 1) + 1);
	return 0;
}

void
db_finish_ok(agent_result *res, const db_common *c, uint32_t total_ms, const char *what)
{
	if (c->slow_ms != 0 && total_ms > c->slow_ms) {
		agent_result_set(res, FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_SLOW,
		    "slow: round took %u ms (slow = %u ms); %s", total_ms, c->slow_ms, what);
		return;
	}
	agent_result_set(res, FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, "%s", what);
}

void
db_unmet_add(db_unmet *u, agent_result *res, const char *probe, const db_check_row *row,
    const char *priv, bool missing, const char *role, const char *aside)
{
	const agent_requirement *q = row->r;

	if (missing && row->req == u->last_req) {
		return; // one item per missing object, not one per privilege asked of it
	}
	u->last_req = row->req;
	agent_result_add_unmet(res, probe, q->kind, q->object, missing ? "" : priv, missing, role);
	if (u->first[0] == '\0' && res->pb.n_unmet > 0) {
		char phrase[FL_UNMET_PHRASE_MAX];
		snprintf(u->first, sizeof(u->first), "%s%s",
		    fl_unmet_phrase(res->pb.unmet[res->pb.n_unmet - 1], FL_UNMET_LACKING, phrase,
		        sizeof(phrase)),
		    missing ? "" : aside);
	}
	if (missing) {
		u->n_missing++;
	} else {
		u->n_priv++;
	}
}

bool
db_unmet_finish(const db_unmet *u, agent_result *res)
{
	if (u->n_missing + u->n_priv == 0) {
		return false;
	}
	agent_result_set(res, FL__STATUS__STATUS_FAIL,
	    u->n_missing ? FL__FAILURE_CLASS__FAILURE_OBJECT_MISSING
	                 : FL__FAILURE_CLASS__FAILURE_PRIVILEGE_MISSING,
	    "%zu unmet (%zu missing object%s, %zu missing privilege%s) of %u requirements: %s",
	    u->n_missing + u->n_priv, u->n_missing, u->n_missing == 1 ? "" : "s", u->n_priv,
	    u->n_priv == 1 ? "" : "s", res->pb.requirements_checked, u->first);
	return true;
}

int
db_resolve(const char *host, const char *port, char *addr, size_t addrlen, agent_result *res)
{
	struct addrinfo hints, *ai = NULL;
	int             rv;

	addr[0] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family   = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags    = AI_NUMERICHOST;
	int64_t t0        = fl_mono_us();
	rv                = getaddrinfo(host, port, &hints, &ai);
	if (rv == EAI_NONAME) { // a name, not an address: resolve it (the DNS phase)
		hints.ai_flags = AI_ADDRCONFIG;
		rv             = getaddrinfo(host, port, &hints, &ai);
	}
	res->timing.dns_us = agent_phase_us(t0, fl_mono_us());
	if (rv != 0) {
		res->pb.error_code = rv;
		agent_result_set(res, FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_DNS,
		    "cannot resolve %s: %s", host, gai_strerror(rv));
		return -1;
	}
	if (hints.ai_flags != AI_NUMERICHOST) {
		agent_result_set_addresses(res, host, ai); // a name: what it resolved to
	}
	rv = getnameinfo(
	    ai->ai_addr, ai->ai_addrlen, addr, (socklen_t) addrlen, NULL, 0, NI_NUMERICHOST);
	freeaddrinfo(ai);
	if (rv != 0) {
		addr[0] = '\0';
	}
	return 0;
}

const agent_db_expect *
db_round_begin(agent_result *res, const agent_round *round, const char *section, const char *probe)
{
	if (res->pb.started_us == 0) {
		res->pb.started_us = fl_now_us();
	}
	if (round == NULL || round->expect == NULL) {
		return NULL;
	}
	snprintf(res->digest, sizeof(res->digest), "%s", round->expect->digest);
	return agent_expect_find(round->expect, section, probe);
}

int
db_write_need(const agent_db_expect *d, char *out, size_t len)
{
	// Privileges whose use writes, per object kind: a read-only server refuses them.
	static const struct {
		Fl__ObjectKind kind;
		const char    *priv;
	} writes[] = {
		{ FL__OBJECT_KIND__OBJECT_TABLE, "INSERT" },
		{ FL__OBJECT_KIND__OBJECT_TABLE, "UPDATE" },
		{ FL__OBJECT_KIND__OBJECT_TABLE, "DELETE" },
		{ FL__OBJECT_KIND__OBJECT_TABLE, "TRUNCATE" },
		{ FL__OBJECT_KIND__OBJECT_COLUMN, "INSERT" },
		{ FL__OBJECT_KIND__OBJECT_COLUMN, "UPDATE" },
		{ FL__OBJECT_KIND__OBJECT_SEQUENCE, "USAGE" }, // nextval()
		{ FL__OBJECT_KIND__OBJECT_SEQUENCE, "UPDATE" },
		{ FL__OBJECT_KIND__OBJECT_SCHEMA, "CREATE" },
	};

	for (size_t i = 0; d != NULL && i < d->n_reqs; i++) {
		const agent_requirement *r = &d->reqs[i];
		for (size_t j = 0; j < r->n_privileges; j++) {
			for (size_t w = 0; w < sizeof(writes) / sizeof(writes[0]); w++) {
				if (writes[w].kind == r->kind &&
				    strcasecmp(writes[w].priv, r->privileges[j]) == 0) {
					snprintf(out, len, "%s on %s", writes[w].priv, r->object);
					return 1;
				}
			}
		}
	}
	if (len > 0) {
		out[0] = '\0';
	}
	return 0;
}

void
db_state_record(agent_result *res, const db_common *c, const db_state *s, const agent_db_expect *d)
{
	res->pb.read_only = s->read_only;
	if (s->read_only) {
		snprintf(res->read_only_reason, sizeof(res->read_only_reason), "%s",
		    s->read_only_reason);
		db_write_need(d, res->read_only_needs, sizeof(res->read_only_needs));
	}
	res->pb.connections_in_use = s->conns_in_use;
	res->pb.connections_limit  = s->conns_limit;
	res->pb.replica            = c->replica;
	if (c->replica) {
		res->pb.replication_lag_ms = s->lag_known ? s->lag_ms : -1;
	}
}

// True when in_use is above pct percent of limit (0 = off, or nothing measured).
static bool
saturated(uint32_t in_use, uint32_t limit, uint32_t pct)
{
	return pct != 0 && limit != 0 && (uint64_t) in_use * 100 > (uint64_t) limit * pct;
}

// "2027-03-01T12:00:00Z" into buf.
static const char *
cert_day(int64_t unix_us, char *buf, size_t len)
{
	char full[40];
	fl_time_format(unix_us, full, sizeof(full));
	snprintf(buf, len, "%.19sZ", full);
	return buf;
}

void
db_finish_state(agent_result *res, const db_common *c, const db_state *s, const char *release,
    uint32_t total_ms, const char *what)
{
	char    ro[160] = "", when[40];
	int64_t cert = res->pb.cert_expires_us, left_us = cert - fl_now_us();

	if (cert != 0 && left_us <= 0) {
		agent_result_set(res, FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_TLS,
		    "the server's certificate expired at %s", cert_day(cert, when, sizeof(when)));
		return;
	}

	if (s->read_only && res->read_only_needs[0] != '\0') {
		agent_result_set(res, FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_READ_ONLY,
		    "%s is read-only (%s) \u2014 release %s needs %s", c->name, s->read_only_reason,
		    release != NULL && release[0] ? release : "unknown", res->read_only_needs);
		return;
	}
	if (s->read_only) {
		snprintf(ro, sizeof(ro), "; read-only (%s), the release needs no writes",
		    s->read_only_reason);
	}
	if (c->replica && !s->lag_known) {
		agent_result_set(res, FL__STATUS__STATUS_WARN,
		    FL__FAILURE_CLASS__FAILURE_REPLICATION_LAG, "replica: %s%s",
		    s->lag_problem[0] ? s->lag_problem : "replication lag unknown", ro);
		return;
	}
	if (c->replica && s->lag_ms > (int64_t) c->max_lag_ms) {
		agent_result_set(res, FL__STATUS__STATUS_WARN,
		    FL__FAILURE_CLASS__FAILURE_REPLICATION_LAG,
		    "replica %.1f s behind its primary (max_lag = %.1f s)%s",
		    (double) s->lag_ms / 1000.0, (double) c->max_lag_ms / 1000.0, ro);
		return;
	}
	if (saturated(s->conns_in_use, s->conns_limit, c->saturation_pct)) {
		agent_result_set(res, FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_SATURATED,
		    "%u of %u connections in use (%u%%, saturation_warn = %u%%)%s", s->conns_in_use,
		    s->conns_limit, (unsigned) ((uint64_t) s->conns_in_use * 100 / s->conns_limit),
		    c->saturation_pct, ro);
		return;
	}
	if (cert != 0 && c->cert_warn_s != 0 && left_us < (int64_t) c->cert_warn_s * 1000000) {
		agent_result_set(res, FL__STATUS__STATUS_WARN,
		    FL__FAILURE_CLASS__FAILURE_CERT_EXPIRING,
		    "the server's certificate expires at %s, in %.1f days (cert_warn = %.0f days); "
		    "%s%s",
		    cert_day(cert, when, sizeof(when)), (double) left_us / 86400e6,
		    (double) c->cert_warn_s / 86400.0, what, ro);
		return;
	}
	if (ro[0] != '\0') {
		char both[320];
		snprintf(both, sizeof(both), "%s%s", what, ro);
		db_finish_ok(res, c, total_ms, both);
		return;
	}
	db_finish_ok(res, c, total_ms, what);
}
