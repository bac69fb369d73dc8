// config.c - see config.h.

#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include <nng/nng.h>

#include "fl/cfg.h"
#include "fl/log.h"
#include "fl/tls.h"
#include "fl/wire.h"
#include "http.h"
#include "lease.h"
#include "state.h"

void
coll_config_defaults(coll_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->listen, sizeof(cfg->listen), "tcp://127.0.0.1:7600");
	snprintf(cfg->survey, sizeof(cfg->survey), "tcp://127.0.0.1:7601");
	snprintf(cfg->control, sizeof(cfg->control), "ipc:///run/faultline/control.sock");
	snprintf(cfg->state, sizeof(cfg->state), "/var/lib/faultline/collector.db");
	cfg->log_level           = FL_LOG_INFO;
	cfg->history_days        = 14;
	cfg->history_max_events  = 1000000;
	cfg->max_hosts           = COLL_DEFAULT_MAX_HOSTS;
	cfg->max_probes_per_host = COLL_DEFAULT_MAX_PROBES;
	cfg->recv_max            = COLL_DEFAULT_RECV_MAX;
	cfg->max_connections     = COLL_DEFAULT_MAX_CONNECTIONS;
	snprintf(cfg->http, sizeof(cfg->http), "%s", COLL_DEFAULT_HTTP);
	coll_notify_config_defaults(&cfg->notify);
	if (gethostname(cfg->name, sizeof(cfg->name)) != 0 || cfg->name[0] == '\0') {
		snprintf(cfg->name, sizeof(cfg->name), "collector");
	}
	cfg->name[sizeof(cfg->name) - 1] = '\0';
	cfg->lease_timeout_us            = COLL_LEASE_DEFAULT_TIMEOUT;
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

// forget_after: "off" (or 0) = never; else a duration of whole units s, m, h or d, at least 1s
// (short values exist for tests), at most ten years. fl_duration_parse stops at one day.
int
coll_parse_forget_after(const char *v, int64_t *us_out)
{
	static const struct {
		const char *suffix;
		int64_t     secs;
	} units[] = { { "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 } };
	char              *end;
	unsigned long long n;

	if (strcmp(v, "off") == 0 || strcmp(v, "0") == 0) {
		*us_out = 0;
		return 0;
	}
	if (v[0] < '0' || v[0] > '9') {
		return -1;
	}
	errno = 0;
	n     = strtoull(v, &end, 10);
	if (errno != 0 || end == v || n == 0) {
		return -1;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			if (n > 3650ULL * 86400 / (unsigned long long) units[i].secs) {
				return -1;
			}
			*us_out = (int64_t) n * units[i].secs * 1000000LL;
			return 0;
		}
	}
	return -1;
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

// http: an address for the HTTP listener (http.h), or "" for none.
static int
coll_http_config_set(coll_config *cfg, const char *v, char *err, size_t errlen)
{
	char url[COLL_URL_MAX + 16];
	bool tls;

	if (v[0] != '\0' && coll_http_parse_addr(v, url, sizeof(url), &tls, err, errlen) != 0) {
		return -1;
	}
	if (fl_strlcpy_checked(cfg->http, v, sizeof(cfg->http)) != 0) {
		snprintf(err, errlen, "http: address too long");
		return -1;
	}
	cfg->http_set = true;
	return 0;
}

// What coll_config_set's helpers return for a key that is not theirs.
#define NOT_MINE 1

#define STR_(x) #x
#define STR(x)  STR_(x)

// The addresses: listen, survey ("" turns probe-now off), control (tcp:// on loopback only).
static int
set_address(coll_config *cfg, const char *key, const char *v, char *err, size_t errlen)
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
		// Anyone who can reach a plain TCP control socket can query the collector: only
		// loopback, for tests and local use; elsewhere TLS (client certificates) or ipc://
		// (file permissions).
		if (strncmp(v, "tcp", 3) == 0 && !coll_url_loopback(v)) {
			snprintf(err, errlen,
			    "control: tcp:// is allowed on loopback only; use tls+tcp:// or "
			    "ipc://");
			return -1;
		}
		return set_url(cfg->control, sizeof(cfg->control), key, v, err, errlen);
	}
	if (strcmp(key, "http") == 0) {
		return coll_http_config_set(cfg, v, err, errlen);
	}
	return NOT_MINE;
}

// The files: TLS files, keys_dir and the state database (which must be named).
static int
set_path(coll_config *cfg, const char *key, const char *v, char *err, size_t errlen)
{
	if (strcmp(key, "tls_ca") == 0 || strcmp(key, "tls_cert") == 0 ||
	    strcmp(key, "tls_key") == 0 || strcmp(key, "keys_dir") == 0) {
		char *dst = strcmp(key, "tls_ca") == 0 ? cfg->tls_ca
		    : strcmp(key, "tls_cert") == 0     ? cfg->tls_cert
		    : strcmp(key, "tls_key") == 0      ? cfg->tls_key
		                                       : cfg->keys_dir;
		if (fl_strlcpy_checked(dst, v, COLL_PATH_MAX) != 0) {
			snprintf(err, errlen, "%s: path too long", key);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "state") == 0) {
		if (v[0] == '\0' || fl_strlcpy_checked(cfg->state, v, sizeof(cfg->state)) != 0) {
			snprintf(err, errlen, "state: path empty or too long");
			return -1;
		}
		char why[256];
		if (fl_sql_check_target(v, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "state: %s", why);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "password_file") == 0) {
		if (fl_strlcpy_checked(cfg->password_file, v, sizeof(cfg->password_file)) != 0) {
			snprintf(err, errlen, "password_file: path too long");
			return -1;
		}
		return 0;
	}
	return NOT_MINE;
}

static int
set_logging(coll_config *cfg, const char *key, const char *v, char *err, size_t errlen)
{
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
	if (strcmp(key, "log_format") == 0) {
		if (fl_log_format_parse(v, &cfg->log_json) != 0) {
			snprintf(err, errlen, "log_format: '%s' is not text or json", v);
			return -1;
		}
		return 0;
	}
	return NOT_MINE;
}

// The keys that are a whole number within bounds, and what the error calls them.
static const struct {
	const char *key;
	uint32_t    min, max;
	size_t      offset; // of the uint32_t in coll_config
	const char *what;
} number_keys[] = {
	{ "history_max_events", 1000, 100000000, offsetof(coll_config, history_max_events),
	    "a number of events (1000-100000000)" },
	{ "history_days", 1, 3650, offsetof(coll_config, history_days),
	    "a number of days (1-3650)" },
	{ "max_hosts", 1, 1000000, offsetof(coll_config, max_hosts),
	    "a number of hosts (1-1000000)" },
	{ "max_probes_per_host", 1, FL_WIRE_MAX_RESULTS, offsetof(coll_config, max_probes_per_host),
	    "a number of probes (1-" STR(FL_WIRE_MAX_RESULTS) ")" },
	{ "max_connections", 1, 65536, offsetof(coll_config, max_connections),
	    "a number from 1 to 65536" },
};

// The bounded numbers above, forget_after, ingest_queue and recv_max.
static int
set_limit(coll_config *cfg, const char *key, const char *v, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(number_keys) / sizeof(number_keys[0]); i++) {
		if (strcmp(key, number_keys[i].key) != 0) {
			continue;
		}
		uint32_t *dst = (uint32_t *) ((char *) cfg + number_keys[i].offset);
		if (fl_cfg_uint(v, number_keys[i].min, number_keys[i].max, dst) != 0) {
			snprintf(err, errlen, "%s: '%s' is not %s", key, v, number_keys[i].what);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "forget_after") == 0) {
		if (coll_parse_forget_after(v, &cfg->forget_after_us) != 0) {
			snprintf(err, errlen,
			    "forget_after: '%s' is not off or a duration from 1s to 3650d (e.g. "
			    "30s, "
			    "12h, 7d)",
			    v);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "ingest_queue") == 0) {
		if (strcmp(v, "auto") == 0) {
			cfg->ingest_queue = 0;
		} else if (fl_cfg_uint(v, COLL_INGEST_QUEUE_MIN, COLL_INGEST_QUEUE_MAX,
		               &cfg->ingest_queue) != 0) {
			snprintf(err, errlen,
			    "ingest_queue: '%s' is not auto or a number of reports (%d-%d)", v,
			    COLL_INGEST_QUEUE_MIN, COLL_INGEST_QUEUE_MAX);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "recv_max") == 0) {
		// At most twice the wire limit, so that a report somewhat too big still reaches the
		// decoder and is counted as oversize.
		uint64_t bytes;
		if (fl_cfg_bytes(v, 4096, 2 * FL_WIRE_MAX_MSG, &bytes) != 0) {
			snprintf(err, errlen,
			    "recv_max: '%s' is not a size from 4096 to 2MiB (bytes, or with "
			    "KiB/MiB)",
			    v);
			return -1;
		}
		cfg->recv_max = (uint32_t) bytes;
		return 0;
	}
	return NOT_MINE;
}

// The HA keys: name (printable, no spaces, at most COLL_NAME_MAX - 1 bytes) and
// lease_timeout (whole seconds or minutes, COLL_LEASE_MIN_TIMEOUT to COLL_LEASE_MAX_TIMEOUT).
static int
set_ha(coll_config *cfg, const char *key, const char *v, char *err, size_t errlen)
{
	if (strcmp(key, "name") == 0) {
		bool ok = v[0] != '\0' && strlen(v) < sizeof(cfg->name);
		for (const char *p = v; ok && *p != '\0'; p++) {
			ok = *p > ' ' && *p != 0x7f;
		}
		if (!ok) {
			snprintf(err, errlen,
			    "name: '%s' is not a name of 1 to %d printable characters without "
			    "spaces",
			    v, COLL_NAME_MAX - 1);
			return -1;
		}
		snprintf(cfg->name, sizeof(cfg->name), "%s", v);
		return 0;
	}
	if (strcmp(key, "lease_timeout") == 0) {
		int64_t us;
		if (coll_parse_forget_after(v, &us) != 0 || us < COLL_LEASE_MIN_TIMEOUT ||
		    us > COLL_LEASE_MAX_TIMEOUT) {
			snprintf(err, errlen,
			    "lease_timeout: '%s' is not a duration from %llds to %llds", v,
			    COLL_LEASE_MIN_TIMEOUT / 1000000, COLL_LEASE_MAX_TIMEOUT / 1000000);
			return -1;
		}
		cfg->lease_timeout_us = us;
		return 0;
	}
	return NOT_MINE;
}

int
coll_config_set(coll_config *cfg, const char *key, const char *v, char *err, size_t errlen)
{
	int (*const setters[])(coll_config *, const char *, const char *, char *, size_t) = {
		set_address,
		set_path,
		set_logging,
		set_limit,
		set_ha,
	};
	for (size_t i = 0; i < sizeof(setters) / sizeof(setters[0]); i++) {
		int rc = setters[i](cfg, key, v, err, errlen);
		if (rc != NOT_MINE) {
			return rc;
		}
	}
	snprintf(err, errlen, "unknown key [collector] %s", key);
	return -1;
}

typedef enum sect_state {
	SECT_NONE,      // before the first header of a file
	SECT_COLLECTOR, // [collector]
	SECT_NOTIFY,    // [notify], [webhook "NAME"], [alertmanager] (notify_config.h)
	SECT_UNKNOWN,   // reported at its header; its keys are not reported again
} sect_state;

#define MAX_SEEN 64 // distinct keys remembered, for "already set at"

typedef struct load_ctx {
	coll_config *cfg;
	sect_state   sect;
	struct {
		char       key[32];
		fl_ini_pos pos;
	} seen[MAX_SEEN];
	size_t n_seen;
	char   notify_kind[16];    // SECT_NOTIFY: the section's kind
	char   notify_seen[8][32]; // its keys set so far (the ones that may not repeat)
	size_t n_notify_seen;
} load_ctx;

// Notification sections (notify_config.h). Returns true when text is one (errors reported).
static bool
notify_section(load_ctx *lc, fl_ini *ini, fl_ini_pos pos, const char *text)
{
	char kind[16], name[COLL_NOTIFY_NAME_MAX + 8], why[256];

	if (fl_cfg_split_section(text, kind, sizeof(kind), name, sizeof(name)) != 0 ||
	    !coll_notify_section_known(kind)) {
		return false;
	}
	lc->n_notify_seen = 0;
	snprintf(lc->notify_kind, sizeof(lc->notify_kind), "%s", kind);
	if (coll_notify_config_section(&lc->cfg->notify, kind, name, why, sizeof(why)) != 0) {
		fl_ini_err(ini, pos, "%s", why);
		lc->sect = SECT_UNKNOWN; // its keys are not reported again
		return true;
	}
	lc->sect = SECT_NOTIFY;
	return true;
}

// A key of a notification section: set once unless repeatable.
static void
notify_key(load_ctx *lc, fl_ini *ini, fl_ini_pos pos, const char *key, const char *value)
{
	char why[480];

	if (!coll_notify_key_repeatable(lc->notify_kind, key)) {
		for (size_t i = 0; i < lc->n_notify_seen; i++) {
			if (strcmp(lc->notify_seen[i], key) == 0) {
				fl_ini_err(ini, pos, "%s: set twice in [%s]", key, lc->notify_kind);
				return;
			}
		}
		if (lc->n_notify_seen < 8 && strlen(key) < sizeof(lc->notify_seen[0])) {
			snprintf(lc->notify_seen[lc->n_notify_seen++], sizeof(lc->notify_seen[0]),
			    "%s", key);
		}
	}
	if (coll_notify_config_set(
	        &lc->cfg->notify, lc->notify_kind, key, value, why, sizeof(why)) != 0) {
		fl_ini_err(ini, pos, "%s", why);
	}
}

static void
on_section(void *user, fl_ini *ini, fl_ini_pos pos, const char *text)
{
	load_ctx *lc = user;

	// [collector] may appear in several files (a conf.d file sets a few keys); a key set twice
	// anywhere is the error instead.
	lc->sect = strcmp(text, "collector") == 0 ? SECT_COLLECTOR : SECT_UNKNOWN;
	if (lc->sect == SECT_UNKNOWN && notify_section(lc, ini, pos, text)) {
		return;
	}
	if (lc->sect == SECT_UNKNOWN) {
		fl_ini_err(ini, pos, "unknown section [%s]", text);
	}
}

// Returns true (and reports it) when key was already set, in this file or another.
static bool
already_set(load_ctx *lc, fl_ini *ini, fl_ini_pos pos, const char *key)
{
	char where[PATH_MAX + 16];

	for (size_t i = 0; i < lc->n_seen; i++) {
		if (strcmp(lc->seen[i].key, key) == 0) {
			fl_ini_err(ini, pos, "%s: already set at %s", key,
			    fl_ini_where(ini, lc->seen[i].pos, where, sizeof(where)));
			return true;
		}
	}
	if (lc->n_seen < MAX_SEEN && strlen(key) < sizeof(lc->seen[0].key)) {
		snprintf(lc->seen[lc->n_seen].key, sizeof(lc->seen[0].key), "%s", key);
		lc->seen[lc->n_seen++].pos = pos;
	}
	return false;
}

static void
on_key(void *user, fl_ini *ini, fl_ini_pos pos, const char *key, const char *value)
{
	load_ctx *lc = user;
	char      why[480];

	switch (lc->sect) {
	case SECT_NONE:
		fl_ini_err(ini, pos, "%s outside the [collector] section", key);
		return;
	case SECT_UNKNOWN:
		return;
	case SECT_NOTIFY:
		notify_key(lc, ini, pos, key, value);
		return;
	case SECT_COLLECTOR:
		break;
	}
	if (already_set(lc, ini, pos, key)) {
		return;
	}
	if (coll_config_set(lc->cfg, key, value, why, sizeof(why)) != 0) {
		fl_ini_err(ini, pos, "%s", why);
	}
}

static void
on_end_file(void *user, fl_ini *ini)
{
	load_ctx *lc = user;
	(void) ini;
	lc->sect = SECT_NONE;
}

static const fl_ini_ops coll_ini_ops = {
	.section  = on_section,
	.key      = on_key,
	.end_file = on_end_file,
	.includes = true,
};

int
coll_config_load(const char *path, coll_config *cfg, char *err, size_t errlen)
{
	load_ctx *lc  = calloc(1, sizeof(*lc));
	fl_ini   *ini = fl_ini_new();
	int       rv  = 0;
	char      why[512];

	if (lc == NULL || ini == NULL) {
		snprintf(err, errlen, "%s:0: cannot load: out of memory", path);
		free(lc);
		fl_ini_free(ini);
		return -1;
	}
	lc->cfg = cfg;
	if (fl_ini_parse_file(ini, path, &coll_ini_ops, lc) != 0) {
		fl_ini_format_errors(ini, err, errlen);
		rv = -1;
	} else if (coll_notify_config_check(&cfg->notify, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%s:0: %s", path, why);
		rv = -1;
	}
	fl_ini_free(ini);
	free(lc);
	return rv;
}

// password_file goes with a PostgreSQL state, and must be readable by the collector alone.
static int
check_state_password(const coll_config *cfg, const char *where, char *err, size_t errlen)
{
	char secret[512];
	char why[COLL_PATH_MAX + 128];

	if (cfg->password_file[0] == '\0') {
		return 0;
	}
	if (fl_sql_target_engine(cfg->state) != FL_SQL_PGSQL) {
		snprintf(err, errlen,
		    "%s: password_file is for a PostgreSQL state, and state is a SQLite file (%s)",
		    where, cfg->state);
		return -1;
	}
	if (fl_cfg_read_secret_file(cfg->password_file, secret, sizeof(secret), why, sizeof(why)) !=
	    0) {
		snprintf(err, errlen, "%s: password_file: %s", where, why);
		return -1;
	}
	explicit_bzero(secret, sizeof(secret));
	return 0;
}

void
coll_config_sql_opts(const coll_config *cfg, bool readonly, const char *app_name, fl_sql_opts *out)
{
	*out = (fl_sql_opts) {
		.target        = cfg->state,
		.password_file = cfg->password_file[0] != '\0' ? cfg->password_file : NULL,
		.readonly      = readonly,
		.app_name      = app_name,
	};
}

bool
coll_url_loopback(const char *url)
{
	nng_url        *u;
	struct in_addr  a4;
	struct in6_addr a6;
	bool            ok = false;

	if (strncmp(url, "tcp", 3) != 0 || nng_url_parse(&u, url) != 0) {
		return false;
	}
	const char *h = u->u_hostname;
	if (strcmp(h, "localhost") == 0) {
		ok = true;
	} else if (inet_pton(AF_INET, h, &a4) == 1) {
		ok = (ntohl(a4.s_addr) >> 24) == 127;
	} else if (inet_pton(AF_INET6, h, &a6) == 1) {
		ok = IN6_IS_ADDR_LOOPBACK(&a6);
	}
	nng_url_free(u);
	return ok;
}

int
coll_config_check(const coll_config *cfg, const char *where, char *err, size_t errlen)
{
	bool tls = fl_tls_url(cfg->listen) || fl_tls_url(cfg->survey) || fl_tls_url(cfg->control) ||
	    strncmp(cfg->http, "https://", 8) == 0;
	struct stat st;
	char        why[512];

	if (tls && (cfg->tls_ca[0] == '\0' || cfg->tls_cert[0] == '\0')) {
		snprintf(err, errlen,
		    "%s: a tls+tcp:// or https:// address needs tls_ca and tls_cert (and tls_key "
		    "unless the "
		    "key "
		    "is in tls_cert)",
		    where);
		return -1;
	}
	if (!tls && (cfg->tls_ca[0] || cfg->tls_cert[0] || cfg->tls_key[0])) {
		snprintf(err, errlen,
		    "%s: tls_ca/tls_cert/tls_key are set but no address is tls+tcp:// or https://",
		    where);
		return -1;
	}
	if (tls) {
		fl_tls_opts o = { .ca_file = cfg->tls_ca,
			.cert_file         = cfg->tls_cert,
			.key_file          = cfg->tls_key[0] ? cfg->tls_key : NULL };
		if (fl_tls_check(&o, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s: %s", where, why);
			return -1;
		}
	}
	if (coll_notify_config_check_secrets(&cfg->notify, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%s: %s", where, why);
		return -1;
	}
	if (check_state_password(cfg, where, err, errlen) != 0) {
		return -1;
	}
	if (cfg->keys_dir[0] != '\0') {
		if (stat(cfg->keys_dir, &st) != 0) {
			snprintf(err, errlen, "%s: keys_dir %s: %s", where, cfg->keys_dir,
			    strerror(errno));
			return -1;
		}
		if (!S_ISDIR(st.st_mode)) {
			snprintf(
			    err, errlen, "%s: keys_dir %s: not a directory", where, cfg->keys_dir);
			return -1;
		}
	}
	return 0;
}
