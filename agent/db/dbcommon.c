// dbcommon.c - config keys, secrets and requirement rows shared by the database probes.

#include "dbcommon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fl/cfg.h"
#include "fl/time.h"

#define DB_TIMEOUT_MAX_MS (5 * 60 * 1000)

void
db_common_init(db_common *c, const char *name)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->timeout_ms = 3000;
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
	return 0;
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
	if (c->slow_ms != 0 && c->slow_ms >= c->timeout_ms) {
		snprintf(err, errlen, "slow must be shorter than timeout");
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
db_finish_unmet(agent_result *res, size_t n_missing, size_t n_priv, const char *first)
{
	agent_result_set(res, FL__STATUS__STATUS_FAIL,
	    n_missing ? FL__FAILURE_CLASS__FAILURE_OBJECT_MISSING
	              : FL__FAILURE_CLASS__FAILURE_PRIVILEGE_MISSING,
	    "%zu unmet (%zu missing object%s, %zu missing privilege%s) of %u requirements: %s",
	    n_missing + n_priv, n_missing, n_missing == 1 ? "" : "s", n_priv,
	    n_priv == 1 ? "" : "s", res->pb.requirements_checked, first);
}

uint32_t
db_since(int64_t from, int64_t to)
{
	return to > from ? (uint32_t) (to - from) : 0;
}
