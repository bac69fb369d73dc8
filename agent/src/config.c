// config.c - the agent's config loader (see config.h).
//
// The shared INI reader (fl/cfg.h) hands over every section header, which is where a section
// starts and the previous one ends (so an empty section, with no keys at all, is still
// validated), and every key with its file and line. A section ends at the end of its file too:
// conf.d files (`include = ...`) each hold whole sections.

#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fl/cfg.h"
#include "fl/log.h"
#include "fl/sign.h"
#include "fl/text.h"
#include "fl/time.h"
#include "fl/tls.h"
#include "fl/urls.h"
#include "spool_file.h"

#define MAX_KEYS 64 // keys remembered per section, for duplicate detection

typedef enum sect_type {
	SECT_NONE,  // before the first header
	SECT_AGENT, // [agent]
	SECT_PROBE, // [kind "name"], valid so far
	SECT_SKIP,  // a section whose header was wrong: its keys are not reported again
} sect_type;

typedef struct loader {
	fl_ini       *ini;
	int           file; // of the line being read (an index of ini's files)
	int           line;
	agent_config *cfg;

	sect_type              type;
	int                    sect_line;
	char                   sect_label[160]; // e.g. `http "app"`, for messages
	const agent_probe_ops *ops;
	void                  *ctx;
	char                   probe_name[64];
	char                   keys[MAX_KEYS][32];
	size_t                 n_keys;
	bool                   seen_agent;
	fl_ini_pos             agent_pos;                   // of the [agent] header
	bool                   sect_bad_key;                // a key of this section was rejected
	fl_ini_pos             probe_pos[AGENT_MAX_PROBES]; // of each kept probe's header
	int  tls_file, sign_key_file; // files of cfg->tls_line and cfg->sign_key_line
	bool oom;
} loader;

static void add_err(loader *l, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
add_err(loader *l, int line, const char *fmt, ...)
{
	va_list ap;
	char    msg[640];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fl_ini_err(l->ini, (fl_ini_pos) { l->file, line }, "%s", msg);
}

// "FILE:LINE" of pos, for messages that name a second place.
static const char *
where(const loader *l, fl_ini_pos pos, char *buf, size_t len)
{
	return fl_ini_where(l->ini, pos, buf, len);
}

uint32_t
agent_config_max_timeout_ms(const agent_config *cfg)
{
	uint32_t max = 0;
	for (size_t i = 0; i < cfg->n_probes; i++) {
		uint32_t t = cfg->probes[i].ops->timeout_ms(cfg->probes[i].ctx);
		if (t > max) {
			max = t;
		}
	}
	return max;
}

int
agent_parse_status_range(const char *v, int *lo, int *hi)
{
	char        a[8], b[8];
	uint32_t    x, y;
	const char *dash = strchr(v, '-');

	if (dash == NULL) {
		if (fl_cfg_uint(v, 100, 599, &x) != 0) {
			return -1;
		}
		*lo = *hi = (int) x;
		return 0;
	}
	size_t la = (size_t) (dash - v);
	if (la == 0 || la >= sizeof(a) || strlen(dash + 1) >= sizeof(b)) {
		return -1;
	}
	memcpy(a, v, la);
	a[la] = '\0';
	memcpy(b, dash + 1, strlen(dash + 1) + 1); // fits: checked above
	if (fl_cfg_uint(a, 100, 599, &x) != 0 || fl_cfg_uint(b, 100, 599, &y) != 0 || x > y) {
		return -1;
	}
	*lo = (int) x;
	*hi = (int) y;
	return 0;
}

void
agent_config_free(agent_config *cfg)
{
	if (cfg == NULL) {
		return;
	}
	for (size_t i = 0; i < cfg->n_probes; i++) {
		cfg->probes[i].ops->free(cfg->probes[i].ctx);
	}
	free(cfg->probes);
	free(cfg);
}

static void
set_defaults(agent_config *cfg)
{
	if (gethostname(cfg->name, sizeof(cfg->name)) != 0 || cfg->name[0] == '\0') {
		snprintf(cfg->name, sizeof(cfg->name), "localhost");
	}
	cfg->name[sizeof(cfg->name) - 1] = '\0';
	snprintf(cfg->collector, sizeof(cfg->collector), "%s", AGENT_DEFAULT_COLLECTOR);
	snprintf(cfg->survey, sizeof(cfg->survey), "%s", AGENT_DEFAULT_SURVEY);
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "%s", AGENT_DEFAULT_STATE_DIR);
	cfg->interval_ms    = AGENT_DEFAULT_INTERVAL;
	cfg->spool_size     = AGENT_DEFAULT_SPOOL_SIZE;
	cfg->spool_file_max = AGENT_DEFAULT_SPOOL_FILE;
	cfg->log_level      = -1;
}

// Ends the current section: validates a probe section and keeps its instance.
static void
end_section(loader *l)
{
	char reason[200] = "";

	if (l->type == SECT_PROBE && l->sect_bad_key) {
		l->ops->free(l->ctx); // its key error is reported; "missing key" would be noise
	} else if (l->type == SECT_PROBE) {
		if (l->ops->validate(l->ctx, reason, sizeof(reason)) != 0) {
			add_err(l, l->sect_line, "[%s]: %s", l->sect_label, reason);
			l->ops->free(l->ctx);
		} else if (l->cfg->n_probes == AGENT_MAX_PROBES) {
			add_err(l, l->sect_line, "[%s]: too many probes (at most %d)",
			    l->sect_label, AGENT_MAX_PROBES);
			l->ops->free(l->ctx);
		} else {
			l->probe_pos[l->cfg->n_probes] = (fl_ini_pos) { l->file, l->sect_line };
			agent_probe_cfg *pc            = &l->cfg->probes[l->cfg->n_probes++];
			pc->ops                        = l->ops;
			pc->ctx                        = l->ctx;
			pc->line                       = l->sect_line;
			snprintf(pc->name, sizeof(pc->name), "%s", l->probe_name);
		}
	}
	l->ctx          = NULL;
	l->ops          = NULL;
	l->type         = SECT_NONE;
	l->n_keys       = 0;
	l->sect_bad_key = false;
}

static void
begin_section(loader *l, const char *section)
{
	char kind[32], name[64], first[PATH_MAX + 16];

	end_section(l);
	l->sect_line = l->line;
	l->type      = SECT_SKIP;
	// Escaped: messages go to a terminal, and the header may hold what a name must not.
	fl_text_escape(l->sect_label, sizeof(l->sect_label), section);
	if (fl_cfg_split_section(section, kind, sizeof(kind), name, sizeof(name)) != 0) {
		add_err(l, l->line,
		    "malformed section [%s] (expected [kind \"name\"], name < 64 chars)", section);
		return;
	}
	if (strcmp(kind, "agent") == 0) {
		if (name[0] != '\0') {
			add_err(l, l->line, "section [agent] takes no name");
		} else if (l->seen_agent) {
			add_err(l, l->line, "duplicate section [agent] (first at %s)",
			    where(l, l->agent_pos, first, sizeof(first)));
		} else {
			l->seen_agent = true;
			l->agent_pos  = (fl_ini_pos) { l->file, l->line };
			l->type       = SECT_AGENT;
		}
		return;
	}
	char why[1024] = "";
	int  found     = agent_probe_find(kind, &l->ops, why, sizeof(why));
	if (found == -1) {
		add_err(l, l->line,
		    "unknown section kind \"%s\" (expected agent, http, tcp, dns, postgres or "
		    "mysql)",
		    kind);
		return;
	}
	if (found != 0) {
		add_err(l, l->line, "[%s]: %s", l->sect_label, why);
		return;
	}
	if (name[0] == '\0') {
		add_err(l, l->line, "probe section [%s] needs a name: [%s \"NAME\"]", kind, kind);
		l->ops = NULL;
		return;
	}
	char        problem[96];
	const char *bad = fl_text_problem(name, problem, sizeof(problem));
	if (bad != NULL) {
		// The collector refuses every report that carries such a name.
		add_err(l, l->line, "[%s]: probe name contains %s (names must be printable UTF-8)",
		    l->sect_label, bad);
		l->ops = NULL;
		return;
	}
	for (size_t i = 0; i < l->cfg->n_probes; i++) {
		if (strcmp(l->cfg->probes[i].name, name) == 0) {
			add_err(l, l->line, "duplicate probe name \"%s\" (first defined at %s)",
			    name, where(l, l->probe_pos[i], first, sizeof(first)));
			l->ops = NULL;
			return;
		}
	}
	// A duplicate of a section that failed validation is not caught above; that is fine:
	// the config is rejected anyway.
	if ((l->ctx = l->ops->alloc(name)) == NULL) {
		l->oom = true;
		l->ops = NULL;
		return;
	}
	snprintf(l->probe_name, sizeof(l->probe_name), "%s", name);
	l->type = SECT_PROBE;
}

// Returns true when key was already set in this section (and remembers it otherwise).
static bool
seen_key(loader *l, const char *key)
{
	for (size_t i = 0; i < l->n_keys; i++) {
		if (strcmp(l->keys[i], key) == 0) {
			return true;
		}
	}
	if (l->n_keys < MAX_KEYS) {
		snprintf(l->keys[l->n_keys++], sizeof(l->keys[0]), "%s", key);
	}
	return false;
}

static int
set_path(char *dst, size_t dstlen, const char *v, char *why, size_t whylen)
{
	if (v[0] == '\0' || fl_strlcpy_checked(dst, v, dstlen) != 0) {
		snprintf(why, whylen, "must be a path of 1 to %zu characters", dstlen - 1);
		return -1;
	}
	return 0;
}

// One URL or a comma-separated list of them (fl/urls.h): every collector of an active/standby
// pair. Kept as written; the sender and the respondent parse it again to dial each.
static int
set_url_list(char *dst, size_t dstlen, const char *v, char *why, size_t whylen)
{
	fl_urls urls;
	if (fl_urls_parse(v, false, &urls, why, whylen) != 0) {
		return -1;
	}
	if (fl_strlcpy_checked(dst, v, dstlen) != 0) {
		snprintf(why, whylen, "list longer than %zu bytes", dstlen - 1);
		return -1;
	}
	return 0;
}

static int
set_agent_key(agent_config *cfg, const char *key, const char *v, char *why, size_t whylen)
{
	if (strcmp(key, "name") == 0) {
		if (v[0] == '\0' || fl_strlcpy_checked(cfg->name, v, sizeof(cfg->name)) != 0) {
			snprintf(why, whylen, "must be 1 to %zu characters", sizeof(cfg->name) - 1);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "collector") == 0) {
		return set_url_list(cfg->collector, sizeof(cfg->collector), v, why, whylen);
	}
	if (strcmp(key, "survey") == 0) {
		return set_url_list(cfg->survey, sizeof(cfg->survey), v, why, whylen);
	}
	if (strcmp(key, "interval") == 0) {
		if (fl_duration_parse(v, &cfg->interval_ms) != 0 || cfg->interval_ms < 100) {
			snprintf(why, whylen,
			    "bad duration \"%s\" (use e.g. 500ms, 5s, 1m; at least 100ms)", v);
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "release_file") == 0) {
		return set_path(cfg->release_file, sizeof(cfg->release_file), v, why, whylen);
	}
	if (strcmp(key, "expectations") == 0) {
		// Reported in every Report (expectations_file), whose strings the collector caps.
		return set_path(cfg->expectations, FL_WIRE_MAX_STRING, v, why, whylen);
	}
	if (strcmp(key, "state_dir") == 0) {
		return set_path(cfg->state_dir, sizeof(cfg->state_dir), v, why, whylen);
	}
	if (strcmp(key, "log_level") == 0) {
		if ((cfg->log_level = fl_log_level_parse(v)) < 0) {
			snprintf(why, whylen, "must be err, warn, notice, info or debug");
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "allow_empty") == 0) {
		if (fl_cfg_bool(v, &cfg->allow_empty) != 0) {
			snprintf(why, whylen, "must be yes or no");
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "log_format") == 0) {
		if (fl_log_format_parse(v, &cfg->log_json) != 0) {
			snprintf(why, whylen, "must be text or json");
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "spool_size") == 0) {
		if (fl_cfg_uint(v, 0, 1000000, &cfg->spool_size) != 0) {
			snprintf(why, whylen, "must be a number of rounds from 0 to 1000000");
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "spool_file_max") == 0) {
		if (fl_cfg_bytes(v, 0, AGENT_MAX_SPOOL_FILE, &cfg->spool_file_max) != 0 ||
		    (cfg->spool_file_max > 0 && cfg->spool_file_max < AGENT_SPOOL_FILE_MIN)) {
			snprintf(why, whylen,
			    "must be 0 (no spool file) or a size from 64KiB to 4GiB (bytes, or "
			    "with "
			    "KiB/MiB/GiB)");
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "tls_ca") == 0) {
		return set_path(cfg->tls_ca, sizeof(cfg->tls_ca), v, why, whylen);
	}
	if (strcmp(key, "tls_cert") == 0) {
		return set_path(cfg->tls_cert, sizeof(cfg->tls_cert), v, why, whylen);
	}
	if (strcmp(key, "tls_key") == 0) {
		return set_path(cfg->tls_key, sizeof(cfg->tls_key), v, why, whylen);
	}
	if (strcmp(key, "tls_server_name") == 0) {
		if (v[0] == '\0' ||
		    fl_strlcpy_checked(cfg->tls_server_name, v, sizeof(cfg->tls_server_name)) !=
		        0) {
			snprintf(why, whylen, "must be a DNS name of the collector's certificate");
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "sign_key") == 0) {
		return set_path(cfg->sign_key, sizeof(cfg->sign_key), v, why, whylen);
	}
	if (strcmp(key, "labels") == 0) {
		return fl_labels_parse(v, cfg->labels, FL_LABELS_MAX, &cfg->n_labels, why, whylen);
	}
	snprintf(why, whylen, "unknown key");
	return -1;
}

// What the TLS and signing keys need, checked once the whole file is read so the
// order of keys does not matter. Files are loaded here (as the daemon will load them), so a
// missing CA, a key that does not match its certificate or a readable signing key is a config
// error with the line of the key, not a surprise at the first connection.
static void
check_security(loader *l)
{
	agent_config *cfg  = l->cfg;
	bool          tls  = fl_urls_any_tls(cfg->collector) || fl_urls_any_tls(cfg->survey);
	bool          any  = cfg->tls_ca[0] || cfg->tls_cert[0] || cfg->tls_key[0];
	int           line = cfg->tls_line > 0 ? cfg->tls_line : 0;
	char          why[512];

	l->file = cfg->tls_line > 0 ? l->tls_file : 0;

	if (tls &&
	    (cfg->tls_ca[0] == '\0' || cfg->tls_cert[0] == '\0' ||
	        cfg->tls_server_name[0] == '\0')) {
		add_err(l, line,
		    "[agent] a tls+tcp:// collector or survey needs tls_ca, tls_cert and "
		    "tls_server_name");
	} else if (!tls && any) {
		add_err(l, line,
		    "[agent] tls_ca/tls_cert/tls_key are set but neither collector nor survey is "
		    "a tls+tcp:// address");
	} else if (tls) {
		fl_tls_opts o = { .ca_file = cfg->tls_ca,
			.cert_file         = cfg->tls_cert,
			.key_file          = cfg->tls_key[0] ? cfg->tls_key : NULL };
		if (fl_tls_check(&o, why, sizeof(why)) != 0) {
			add_err(l, line, "[agent] %s", why);
		}
	}
	if (cfg->sign_key[0] != '\0') {
		fl_sign_key *k;
		l->file = l->sign_key_file;
		if (fl_sign_key_load(cfg->sign_key, &k, why, sizeof(why)) != 0) {
			add_err(l, cfg->sign_key_line, "[agent] sign_key: %s", why);
		} else {
			fl_sign_key_free(k);
		}
	}
}

static void
handler(void *user, fl_ini *ini, fl_ini_pos pos, const char *key, const char *value)
{
	loader *l = user;
	char    why[200], shown[64];

	(void) ini;
	l->file = pos.file;
	l->line = pos.line;
	key     = fl_text_escape(shown, sizeof(shown), key); // for messages; real keys are plain
	switch (l->type) {
	case SECT_NONE:
		add_err(l, l->line, "key \"%s\" outside any section (put it under [agent])", key);
		return;
	case SECT_SKIP:
		return;
	case SECT_AGENT:
	case SECT_PROBE:
		break;
	}
	// `header` may repeat (one HTTP header per line); any other repeated key is a mistake,
	// including an indented line that inih reads as a continuation of the previous key.
	if (strcmp(key, "header") != 0 && seen_key(l, key)) {
		add_err(l, l->line, "[%s] %s: duplicate key", l->sect_label, key);
		l->sect_bad_key = true;
		return;
	}
	char        problem[96];
	const char *bad = fl_text_problem(value, problem, sizeof(problem));
	if (bad != NULL) {
		// Values become names, targets and paths that reach the collector, logs and
		// terminals; the collector refuses reports with control characters in them.
		add_err(l, l->line, "[%s] %s: value contains %s (values must be printable UTF-8)",
		    l->sect_label, key, bad);
		l->sect_bad_key = true;
		return;
	}
	why[0] = '\0';
	if (l->type == SECT_AGENT && strncmp(key, "tls_", 4) == 0 && l->cfg->tls_line == 0) {
		l->cfg->tls_line = l->line;
		l->tls_file      = l->file;
	} else if (l->type == SECT_AGENT && strcmp(key, "sign_key") == 0) {
		l->cfg->sign_key_line = l->line;
		l->sign_key_file      = l->file;
	}
	int rv = l->type == SECT_AGENT ? set_agent_key(l->cfg, key, value, why, sizeof(why))
	                               : l->ops->set(l->ctx, key, value, why, sizeof(why));
	if (rv != 0) {
		add_err(l, l->line, "[%s] %s: %s", l->sect_label, key, why[0] ? why : "bad value");
		l->sect_bad_key = true;
	}
	// keep going: every error is reported in one pass
}

static void
on_section(void *user, fl_ini *ini, fl_ini_pos pos, const char *section)
{
	loader *l = user;

	(void) ini;
	end_section(l); // with the previous file and line, where that section was
	l->file = pos.file;
	l->line = pos.line;
	begin_section(l, section);
}

static void
on_end_file(void *user, fl_ini *ini)
{
	(void) ini;
	end_section(user);
}

static const fl_ini_ops agent_ini_ops = {
	.section  = on_section,
	.key      = handler,
	.end_file = on_end_file,
	.includes = true,
};

// Reads path (file != NULL) or text into a new config; see agent_config_parse/load.
static int
load(const char *name, const char *text, agent_config **out, char *err, size_t errlen)
{
	loader *l;
	int     rv = -1;

	err[0] = '\0';
	if ((l = calloc(1, sizeof(*l))) == NULL || (l->ini = fl_ini_new()) == NULL) {
		snprintf(err, errlen, "%s:0: cannot load: out of memory", name);
		free(l);
		return -1;
	}
	l->cfg = calloc(1, sizeof(*l->cfg));
	if (l->cfg != NULL) {
		l->cfg->probes = calloc(AGENT_MAX_PROBES, sizeof(*l->cfg->probes));
	}
	if (l->cfg == NULL || l->cfg->probes == NULL) {
		snprintf(err, errlen, "%s:0: cannot load: out of memory", name);
		agent_config_free(l->cfg);
		fl_ini_free(l->ini);
		free(l);
		return -1;
	}
	set_defaults(l->cfg);
	snprintf(l->cfg->path, sizeof(l->cfg->path), "%s", name);

	if (text != NULL) {
		fl_ini_parse_text(l->ini, name, text, strlen(text), &agent_ini_ops, l);
	} else {
		fl_ini_parse_file(l->ini, name, &agent_ini_ops, l);
	}
	if (fl_ini_errors(l->ini) == 0 && !l->oom) {
		check_security(l);
	}
	if (l->oom) {
		l->file = 0;
		add_err(l, 0, "cannot load: out of memory");
	}
	if (fl_ini_errors(l->ini) == 0) {
		*out = l->cfg;
		rv   = 0;
	} else {
		fl_ini_format_errors(l->ini, err, errlen);
		agent_config_free(l->cfg);
	}
	fl_ini_free(l->ini);
	free(l);
	return rv;
}

int
agent_config_parse(const char *name, const char *text, agent_config **out, char *err, size_t errlen)
{
	return load(name, text, out, err, errlen);
}

int
agent_config_check_probes(const agent_config *cfg, bool allow_empty, char *err, size_t errlen)
{
	if (cfg->n_probes > 0 || allow_empty || cfg->allow_empty) {
		return 0;
	}
	snprintf(err, errlen,
	    "%s:0: no probes configured: add a probe section such as [http \"app\"] (or run with "
	    "--allow-empty, or set allow_empty = yes, to report no probes on purpose)",
	    cfg->path);
	return -1;
}

int
agent_config_load(const char *path, agent_config **out, char *err, size_t errlen)
{
	return load(path, NULL, out, err, errlen);
}
