// notify_config.c - see notify_config.h.

#include "notify_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl/cfg.h"
#include "fl/time.h"

void
coll_notify_config_defaults(coll_notify_config *c)
{
	memset(c, 0, sizeof(*c));
	c->for_ms        = COLL_NOTIFY_DEFAULT_FOR_MS;
	c->resolve_after = COLL_NOTIFY_DEFAULT_RESOLVE_AFTER;
	c->retry_max_ms  = COLL_NOTIFY_DEFAULT_RETRY_MAX_MS;
	c->am_resend_ms  = COLL_NOTIFY_DEFAULT_RESEND_MS;
	c->am_timeout_ms = COLL_NOTIFY_DEFAULT_TIMEOUT_MS;
}

bool
coll_notify_section_known(const char *kind)
{
	return strcmp(kind, "notify") == 0 || strcmp(kind, "webhook") == 0 ||
	    strcmp(kind, "alertmanager") == 0;
}

bool
coll_notify_key_repeatable(const char *kind, const char *key)
{
	if (strcmp(kind, "webhook") == 0) {
		return strcmp(key, "header") == 0 || strcmp(key, "header_file") == 0 ||
		    strcmp(key, "header_env") == 0;
	}
	return strcmp(kind, "alertmanager") == 0 && strcmp(key, "url") == 0;
}

// A receiver's name becomes a metric label and a log word: letters, digits, '_', '-', '.'.
static bool
name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= COLL_NOTIFY_NAME_MAX) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		        (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.')) {
			return false;
		}
	}
	return true;
}

int
coll_notify_config_section(
    coll_notify_config *c, const char *kind, const char *name, char *err, size_t errlen)
{
	if (strcmp(kind, "webhook") != 0) {
		if (name[0] != '\0') {
			snprintf(err, errlen, "[%s] takes no name", kind);
			return -1;
		}
		return 0;
	}
	if (!name_ok(name)) {
		snprintf(err, errlen,
		    "[webhook \"%s\"]: a webhook needs a name of 1-63 letters, digits, '_', '-' "
		    "or '.'",
		    name);
		return -1;
	}
	for (uint32_t i = 0; i < c->n_webhooks; i++) {
		if (strcmp(c->webhooks[i].name, name) == 0) {
			snprintf(err, errlen, "[webhook \"%s\"] defined twice", name);
			return -1;
		}
	}
	if (c->n_webhooks == COLL_NOTIFY_MAX_WEBHOOKS) {
		snprintf(err, errlen, "more than %d [webhook] sections", COLL_NOTIFY_MAX_WEBHOOKS);
		return -1;
	}
	coll_webhook_cfg *w = &c->webhooks[c->n_webhooks++];
	memset(w, 0, sizeof(*w));
	snprintf(w->name, sizeof(w->name), "%s", name);
	w->timeout_ms = COLL_NOTIFY_DEFAULT_TIMEOUT_MS;
	return 0;
}

// http:// or https:// and something after it; no user:password@ (it would be logged).
static int
set_http_url(char *dst, const char *key, const char *v, char *err, size_t errlen)
{
	const char *rest = strncmp(v, "http://", 7) == 0 ? v + 7
	    : strncmp(v, "https://", 8) == 0             ? v + 8
	                                                 : NULL;
	if (rest == NULL || rest[0] == '\0') {
		snprintf(err, errlen, "%s: '%s' is not an http:// or https:// URL", key, v);
		return -1;
	}
	const char *slash = strchr(rest, '/');
	const char *at    = strchr(rest, '@');
	if (at != NULL && (slash == NULL || at < slash)) {
		snprintf(err, errlen,
		    "%s: no user:password@ in the URL (it is logged); use header_file for a secret",
		    key);
		return -1;
	}
	if (fl_strlcpy_checked(dst, v, COLL_NOTIFY_URL_MAX) != 0) {
		snprintf(err, errlen, "%s: URL too long", key);
		return -1;
	}
	return 0;
}

static int
set_timeout(uint32_t *dst, const char *key, const char *v, char *err, size_t errlen)
{
	uint32_t ms;
	if (fl_duration_parse(v, &ms) != 0 || ms < 100 || ms > 60000) {
		snprintf(err, errlen, "%s: '%s' is not a duration from 100ms to 60s", key, v);
		return -1;
	}
	*dst = ms;
	return 0;
}

// `Name: value` with a token name: what curl sends as one header line.
static bool
header_line_ok(const char *v)
{
	const char *colon = strchr(v, ':');
	if (colon == NULL || colon == v) {
		return false;
	}
	for (const char *p = v; p < colon; p++) {
		if (*p <= ' ' || *p >= 127) {
			return false;
		}
	}
	for (const char *p = v; *p != '\0'; p++) {
		if ((unsigned char) *p < ' ' && *p != '\t') {
			return false;
		}
	}
	return true;
}

static int
set_header(coll_webhook_cfg *w, coll_header_kind kind, const char *key, const char *v, char *err,
    size_t errlen)
{
	if (w->n_headers == COLL_NOTIFY_MAX_HEADERS) {
		snprintf(err, errlen, "%s: more than %d headers", key, COLL_NOTIFY_MAX_HEADERS);
		return -1;
	}
	if (kind == COLL_HEADER_TEXT && !header_line_ok(v)) {
		snprintf(err, errlen, "header: '%s' is not 'Name: value'", v);
		return -1;
	}
	if (v[0] == '\0' ||
	    fl_strlcpy_checked(w->headers[w->n_headers], v, COLL_NOTIFY_HEADER_MAX) != 0) {
		snprintf(err, errlen, "%s: empty or too long", key);
		return -1;
	}
	w->header_kind[w->n_headers++] = kind;
	return 0;
}

static int
set_webhook(coll_webhook_cfg *w, const char *key, const char *v, char *err, size_t errlen)
{
	if (strcmp(key, "url") == 0) {
		return set_http_url(w->url, key, v, err, errlen);
	}
	if (strcmp(key, "timeout") == 0) {
		return set_timeout(&w->timeout_ms, key, v, err, errlen);
	}
	if (strcmp(key, "header") == 0) {
		return set_header(w, COLL_HEADER_TEXT, key, v, err, errlen);
	}
	if (strcmp(key, "header_file") == 0) {
		return set_header(w, COLL_HEADER_FILE, key, v, err, errlen);
	}
	if (strcmp(key, "header_env") == 0) {
		return set_header(w, COLL_HEADER_ENV, key, v, err, errlen);
	}
	snprintf(err, errlen, "unknown key [webhook] %s", key);
	return -1;
}

static int
set_notify(coll_notify_config *c, const char *key, const char *v, char *err, size_t errlen)
{
	uint32_t ms;
	if (strcmp(key, "for") == 0) {
		if (fl_duration_parse(v, &ms) != 0) {
			snprintf(err, errlen, "for: '%s' is not a duration from 0 to 24h", v);
			return -1;
		}
		c->for_ms = ms;
		return 0;
	}
	if (strcmp(key, "resolve_after") == 0) {
		if (fl_cfg_uint(v, 1, 1000, &c->resolve_after) != 0) {
			snprintf(err, errlen,
			    "resolve_after: '%s' is not a number of rounds (1-1000)", v);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "retry_max") == 0) {
		if (fl_duration_parse(v, &ms) != 0 || ms < 1000 || ms > 3600000) {
			snprintf(err, errlen, "retry_max: '%s' is not a duration from 1s to 1h", v);
			return -1;
		}
		c->retry_max_ms = ms;
		return 0;
	}
	snprintf(err, errlen, "unknown key [notify] %s", key);
	return -1;
}

static int
set_alertmanager(coll_notify_config *c, const char *key, const char *v, char *err, size_t errlen)
{
	uint32_t ms;
	if (strcmp(key, "url") == 0) {
		if (c->n_am_urls == COLL_NOTIFY_MAX_AM) {
			snprintf(
			    err, errlen, "url: more than %d Alertmanagers", COLL_NOTIFY_MAX_AM);
			return -1;
		}
		if (set_http_url(c->am_urls[c->n_am_urls], key, v, err, errlen) != 0) {
			return -1;
		}
		c->n_am_urls++;
		return 0;
	}
	if (strcmp(key, "resend") == 0) {
		if (fl_duration_parse(v, &ms) != 0 || ms < 1000 || ms > 3600000) {
			snprintf(err, errlen, "resend: '%s' is not a duration from 1s to 1h", v);
			return -1;
		}
		c->am_resend_ms = ms;
		return 0;
	}
	if (strcmp(key, "timeout") == 0) {
		return set_timeout(&c->am_timeout_ms, key, v, err, errlen);
	}
	snprintf(err, errlen, "unknown key [alertmanager] %s", key);
	return -1;
}

int
coll_notify_config_set(coll_notify_config *c, const char *kind, const char *key, const char *value,
    char *err, size_t errlen)
{
	if (strcmp(kind, "notify") == 0) {
		return set_notify(c, key, value, err, errlen);
	}
	if (strcmp(kind, "alertmanager") == 0) {
		return set_alertmanager(c, key, value, err, errlen);
	}
	if (c->n_webhooks == 0) {
		snprintf(err, errlen, "%s outside a [webhook] section", key);
		return -1;
	}
	return set_webhook(&c->webhooks[c->n_webhooks - 1], key, value, err, errlen);
}

int
coll_notify_config_check(const coll_notify_config *c, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < c->n_webhooks; i++) {
		if (c->webhooks[i].url[0] == '\0') {
			snprintf(err, errlen, "[webhook \"%s\"] needs a url", c->webhooks[i].name);
			return -1;
		}
	}
	return 0;
}

int
coll_notify_config_check_secrets(const coll_notify_config *c, char *err, size_t errlen)
{
	char line[COLL_NOTIFY_HEADER_MAX], why[256];

	for (uint32_t i = 0; i < c->n_webhooks; i++) {
		const coll_webhook_cfg *w = &c->webhooks[i];
		for (uint32_t k = 0; k < w->n_headers; k++) {
			const char *v = w->headers[k];
			if (w->header_kind[k] == COLL_HEADER_FILE) {
				int rc = fl_cfg_read_secret_file(
				    v, line, sizeof(line), why, sizeof(why));
				explicit_bzero(line, sizeof(line));
				if (rc != 0) {
					snprintf(err, errlen, "[webhook \"%s\"] header_file %s: %s",
					    w->name, v, why);
					return -1;
				}
			} else if (w->header_kind[k] == COLL_HEADER_ENV &&
			    (getenv(v) == NULL || getenv(v)[0] == '\0')) {
				snprintf(err, errlen, "[webhook \"%s\"] header_env %s: not set",
				    w->name, v);
				return -1;
			}
		}
	}
	return 0;
}
