// config.c - see config.h.

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ini.h>

#include "fl/cfg.h"
#include "fl/log.h"

void
coll_config_defaults(coll_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->listen, sizeof(cfg->listen), "tcp://127.0.0.1:7600");
	snprintf(cfg->survey, sizeof(cfg->survey), "tcp://127.0.0.1:7601");
	snprintf(cfg->control, sizeof(cfg->control), "ipc:///run/faultline/control.sock");
	snprintf(cfg->state, sizeof(cfg->state), "/var/lib/faultline/collector.db");
	cfg->log_level    = FL_LOG_INFO;
	cfg->history_days = 14;
}

// Only transports nng 1.5.2 ships and we mean to support; anything else is a typo that would
// otherwise surface later as a confusing nng error.
static int
url_ok(const char *v)
{
	static const char *schemes[] = { "tcp://", "tcp4://", "tcp6://", "ipc://", "tls+tcp://",
		"inproc://", "abstract://" };
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t n = strlen(schemes[i]);
		if (strncmp(v, schemes[i], n) == 0 && v[n] != '\0') {
			return 1;
		}
	}
	return 0;
}

static int
set_url(char *dst, size_t dstlen, const char *key, const char *v, char *err, size_t errlen)
{
	if (!url_ok(v)) {
		snprintf(
		    err, errlen, "%s: '%s' is not a tcp://, ipc:// or tls+tcp:// address", key, v);
		return -1;
	}
	if (fl_strlcpy_checked(dst, v, dstlen) != 0) {
		snprintf(err, errlen, "%s: address too long", key);
		return -1;
	}
	return 0;
}

int
coll_config_set(coll_config *cfg, const char *key, const char *v, char *err, size_t errlen)
{
	if (strcmp(key, "listen") == 0) {
		return set_url(cfg->listen, sizeof(cfg->listen), key, v, err, errlen);
	}
	if (strcmp(key, "survey") == 0) {
		if (v[0] == '\0') {
			cfg->survey[0] =
			    '\0'; // no probe-now: agents' respondents find nobody to answer
			return 0;
		}
		return set_url(cfg->survey, sizeof(cfg->survey), key, v, err, errlen);
	}
	if (strcmp(key, "control") == 0) {
		return set_url(cfg->control, sizeof(cfg->control), key, v, err, errlen);
	}
	if (strcmp(key, "state") == 0) {
		if (v[0] == '\0' || fl_strlcpy_checked(cfg->state, v, sizeof(cfg->state)) != 0) {
			snprintf(err, errlen, "state: path empty or too long");
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "log_level") == 0) {
		int l = fl_log_level_parse(v);
		if (l < 0) {
			snprintf(err, errlen,
			    "log_level: '%s' is not one of err, warn, notice, info, debug", v);
			return -1;
		}
		cfg->log_level = l;
		return 0;
	}
	if (strcmp(key, "history_days") == 0) {
		if (fl_cfg_uint(v, 1, 3650, &cfg->history_days) != 0) {
			snprintf(
			    err, errlen, "history_days: '%s' is not a number of days (1-3650)", v);
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "unknown key [collector] %s", key);
	return -1;
}

typedef struct load_ctx {
	coll_config *cfg;
	FILE        *f;
	int          line;     // lines handed to inih so far, i.e. the current line number
	int          err_line; // line of the first key error, 0 if none
	char         msg[512];
} load_ctx;

// inih's handler does not get the line number in Debian's build (INI_HANDLER_LINENO is 0), so
// the reader counts the lines it hands over: the handler then knows which line it is on.
static char *
read_line(char *buf, int size, void *stream)
{
	load_ctx *lc = stream;
	char     *s  = fgets(buf, size, lc->f);
	if (s == NULL) {
		return NULL;
	}
	lc->line++;
	// Sections are checked here, on their own line, so an unknown (even empty) section is
	// reported where it is written rather than at its first key.
	const char *p = s + strspn(s, " \t");
	if (*p == '[' && lc->err_line == 0) {
		const char *end = strchr(p, ']');
		size_t      n   = end != NULL ? (size_t) (end - p - 1) : 0;
		if (end != NULL &&
		    !(n == strlen("collector") && strncmp(p + 1, "collector", n) == 0)) {
			snprintf(
			    lc->msg, sizeof(lc->msg), "unknown section [%.*s]", (int) n, p + 1);
			lc->err_line = lc->line;
		}
	}
	return s;
}

static int
on_key(void *user, const char *section, const char *name, const char *value)
{
	load_ctx *lc = user;
	char      why[480];

	if (lc->err_line != 0) {
		return 0; // keep the first error only
	}
	if (strcmp(section, "collector") != 0) {
		snprintf(lc->msg, sizeof(lc->msg), "%s outside the [collector] section", name);
		lc->err_line = lc->line;
		return 0;
	}
	if (coll_config_set(lc->cfg, name, value, why, sizeof(why)) != 0) {
		snprintf(lc->msg, sizeof(lc->msg), "%s", why);
		lc->err_line = lc->line;
		return 0;
	}
	return 1;
}

int
coll_config_load(const char *path, coll_config *cfg, char *err, size_t errlen)
{
	load_ctx lc = { .cfg = cfg };
	int      line;

	if ((lc.f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s:0: cannot read: %s", path, strerror(errno));
		return -1;
	}
	line = ini_parse_stream(read_line, &lc, on_key, &lc);
	fclose(lc.f);
	if (line == 0 && lc.err_line == 0) {
		return 0;
	}
	if (line < 0) {
		snprintf(err, errlen, "%s:0: cannot parse (out of memory)", path);
	} else if (lc.err_line != 0 && (line == 0 || lc.err_line <= line)) {
		snprintf(err, errlen, "%s:%d: %s", path, lc.err_line, lc.msg);
	} else {
		snprintf(err, errlen, "%s:%d: syntax error (expected [section] or key = value)",
		    path, line);
	}
	return -1;
}
