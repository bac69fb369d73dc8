// config.c - the agent's config loader (see config.h).
//
// libinih r55 as Debian builds it calls the handler without a line number, so the loader feeds
// inih through its own line reader (ini_parse_stream): the reader counts lines and also sees
// every section header, which is where a section starts and the previous one ends. That is
// also how an empty section (no keys at all, so no handler call) is still validated.

#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "fl/cfg.h"
#include "fl/log.h"
#include "fl/sign.h"
#include "fl/text.h"
#include "fl/time.h"
#include "fl/tls.h"

#define MAX_FILE (1024 * 1024) // a config larger than this is a mistake
#define MAX_LINE 4096
#define MAX_KEYS 64 // keys remembered per section, for duplicate detection
#define MAX_ERRS 32

typedef enum sect_type {
	SECT_NONE,  // before the first header
	SECT_AGENT, // [agent]
	SECT_PROBE, // [kind "name"], valid so far
	SECT_SKIP,  // a section whose header was wrong: its keys are not reported again
} sect_type;

typedef struct cfg_err {
	int  line;
	char msg[256];
} cfg_err;

typedef struct loader {
	const char   *file;
	const char   *text;
	size_t        pos;
	size_t        len;
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
	bool                   sect_bad_key; // a key of this section was rejected

	cfg_err errs[MAX_ERRS];
	size_t  n_errs;
	size_t  n_dropped;
	bool    oom;
} loader;

static void add_err(loader *l, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
add_err(loader *l, int line, const char *fmt, ...)
{
	va_list ap;

	if (l->n_errs == MAX_ERRS) {
		l->n_dropped++;
		return;
	}
	l->errs[l->n_errs].line = line;
	va_start(ap, fmt);
	vsnprintf(l->errs[l->n_errs].msg, sizeof(l->errs[0].msg), fmt, ap);
	va_end(ap);
	l->n_errs++;
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
	cfg->interval_ms = AGENT_DEFAULT_INTERVAL;
	cfg->spool_size  = AGENT_DEFAULT_SPOOL_SIZE;
	cfg->log_level   = -1;
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
			agent_probe_cfg *pc = &l->cfg->probes[l->cfg->n_probes++];
			pc->ops             = l->ops;
			pc->ctx             = l->ctx;
			pc->line            = l->sect_line;
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
	char kind[32], name[64];

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
			add_err(l, l->line, "duplicate section [agent]");
		} else {
			l->seen_agent = true;
			l->type       = SECT_AGENT;
		}
		return;
	}
	if ((l->ops = agent_probe_lookup(kind)) == NULL) {
		add_err(l, l->line,
		    "unknown section kind \"%s\" (expected agent, http, tcp, dns, postgres or "
		    "mysql)",
		    kind);
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
			add_err(l, l->line,
			    "duplicate probe name \"%s\" (first defined at line %d)", name,
			    l->cfg->probes[i].line);
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

static int
set_url(char *dst, size_t dstlen, const char *v, char *why, size_t whylen)
{
	if (strstr(v, "://") == NULL || fl_strlcpy_checked(dst, v, dstlen) != 0) {
		snprintf(why, whylen, "must be an nng URL such as tcp://HOST:PORT or ipc:///PATH");
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
		return set_url(cfg->collector, sizeof(cfg->collector), v, why, whylen);
	}
	if (strcmp(key, "survey") == 0) {
		return set_url(cfg->survey, sizeof(cfg->survey), v, why, whylen);
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
	if (strcmp(key, "spool_size") == 0) {
		if (fl_cfg_uint(v, 0, 1000000, &cfg->spool_size) != 0) {
			snprintf(why, whylen, "must be a number of rounds from 0 to 1000000");
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

// Issue 7: what the TLS and signing keys need, checked once the whole file is read so the
// order of keys does not matter. Files are loaded here (as the daemon will load them), so a
// missing CA, a key that does not match its certificate or a readable signing key is a config
// error with the line of the key, not a surprise at the first connection.
static void
check_security(loader *l)
{
	agent_config *cfg  = l->cfg;
	bool          tls  = fl_tls_url(cfg->collector) || fl_tls_url(cfg->survey);
	bool          any  = cfg->tls_ca[0] || cfg->tls_cert[0] || cfg->tls_key[0];
	int           line = cfg->tls_line > 0 ? cfg->tls_line : 0;
	char          why[512];

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
		if (fl_sign_key_load(cfg->sign_key, &k, why, sizeof(why)) != 0) {
			add_err(l, cfg->sign_key_line, "[agent] sign_key: %s", why);
		} else {
			fl_sign_key_free(k);
		}
	}
}

static int
handler(void *user, const char *section, const char *key, const char *value)
{
	loader *l = user;
	char    why[200], shown[64];

	(void) section; // truncated to 50 bytes by inih; the reader keeps the full header
	key = fl_text_escape(shown, sizeof(shown), key); // for messages; real keys are plain
	if (value == NULL) {
		value = "";
	}
	switch (l->type) {
	case SECT_NONE:
		add_err(l, l->line, "key \"%s\" outside any section (put it under [agent])", key);
		return 1;
	case SECT_SKIP:
		return 1;
	case SECT_AGENT:
	case SECT_PROBE:
		break;
	}
	// `header` may repeat (one HTTP header per line); any other repeated key is a mistake,
	// including an indented line that inih reads as a continuation of the previous key.
	if (strcmp(key, "header") != 0 && seen_key(l, key)) {
		add_err(l, l->line, "[%s] %s: duplicate key", l->sect_label, key);
		l->sect_bad_key = true;
		return 1;
	}
	char        problem[96];
	const char *bad = fl_text_problem(value, problem, sizeof(problem));
	if (bad != NULL) {
		// Values become names, targets and paths that reach the collector, logs and
		// terminals; the collector refuses reports with control characters in them.
		add_err(l, l->line, "[%s] %s: value contains %s (values must be printable UTF-8)",
		    l->sect_label, key, bad);
		l->sect_bad_key = true;
		return 1;
	}
	why[0] = '\0';
	if (l->type == SECT_AGENT && strncmp(key, "tls_", 4) == 0 && l->cfg->tls_line == 0) {
		l->cfg->tls_line = l->line;
	} else if (l->type == SECT_AGENT && strcmp(key, "sign_key") == 0) {
		l->cfg->sign_key_line = l->line;
	}
	int rv = l->type == SECT_AGENT ? set_agent_key(l->cfg, key, value, why, sizeof(why))
	                               : l->ops->set(l->ctx, key, value, why, sizeof(why));
	if (rv != 0) {
		add_err(l, l->line, "[%s] %s: %s", l->sect_label, key, why[0] ? why : "bad value");
		l->sect_bad_key = true;
	}
	return 1; // keep going: every error is reported in one pass
}

// The fgets-like reader handed to inih: one line at a time, counting lines and catching
// section headers before inih parses them.
static char *
reader(char *str, int num, void *stream)
{
	loader *l = stream;
	size_t  n, i;

	if (l->pos >= l->len) {
		return NULL;
	}
	const char *start   = l->text + l->pos;
	const char *nl      = memchr(start, '\n', l->len - l->pos);
	size_t      linelen = nl != NULL ? (size_t) (nl - start) + 1 : l->len - l->pos;
	l->pos += linelen;
	l->line++;
	if (linelen >= (size_t) num) {
		add_err(l, l->line, "line too long (at most %d characters)", num - 3);
		str[0] = '\n';
		str[1] = '\0';
		return str;
	}
	memcpy(str, start, linelen);
	str[linelen] = '\0';
	n            = linelen;

	for (i = 0; i < n && (str[i] == ' ' || str[i] == '\t'); i++) {
	}
	if (str[i] == '[') {
		const char *close = strchr(str + i, ']');
		if (close != NULL) {
			char section[MAX_LINE];
			memcpy(section, str + i + 1, (size_t) (close - str - i - 1));
			section[close - str - i - 1] = '\0';
			begin_section(l, section);
		} // else inih reports the line as a syntax error
	}
	return str;
}

static int
cmp_err(const void *a, const void *b)
{
	const cfg_err *x = a, *y = b;
	return (x->line > y->line) - (x->line < y->line);
}

int
agent_config_parse(const char *name, const char *text, agent_config **out, char *err, size_t errlen)
{
	loader *l;
	int     rv;

	err[0] = '\0';
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		snprintf(err, errlen, "%s:0: cannot load: out of memory", name);
		return -1;
	}
	l->file = name;
	// A UTF-8 byte order mark (editors on Windows write one) is not part of line 1: without
	// this, inih skips it but the section header of line 1 is missed here.
	if (strncmp(text, "\xEF\xBB\xBF", 3) == 0) {
		text += 3;
	}
	l->text = text;
	l->len  = strlen(text);
	l->cfg  = calloc(1, sizeof(*l->cfg));
	if (l->cfg != NULL) {
		l->cfg->probes = calloc(AGENT_MAX_PROBES, sizeof(*l->cfg->probes));
	}
	if (l->cfg == NULL || l->cfg->probes == NULL) {
		snprintf(err, errlen, "%s:0: cannot load: out of memory", name);
		agent_config_free(l->cfg);
		free(l);
		return -1;
	}
	set_defaults(l->cfg);
	snprintf(l->cfg->path, sizeof(l->cfg->path), "%s", name);

	// Process-wide inih settings: a heap line buffer so lines up to MAX_LINE (long URLs)
	// parse; the defaults (200 bytes on the stack) would split them silently.
	ini_use_stack     = false;
	ini_max_line      = MAX_LINE;
	ini_initial_alloc = MAX_LINE;

	rv = ini_parse_stream(reader, l, handler, l);
	end_section(l);
	if (l->n_errs == 0 && rv == 0) {
		check_security(l);
	}
	if (rv > 0) {
		bool known = false;
		for (size_t i = 0; i < l->n_errs; i++) {
			known = known || l->errs[i].line == rv;
		}
		if (!known) {
			add_err(
			    l, rv, "syntax error (expected [section], key = value or a comment)");
		}
	} else if (rv < 0) {
		l->oom = true;
	}
	if (l->oom) {
		add_err(l, 0, "cannot load: out of memory");
	}

	if (l->n_errs == 0) {
		*out = l->cfg;
		free(l);
		return 0;
	}
	qsort(l->errs, l->n_errs, sizeof(l->errs[0]), cmp_err);
	size_t off = 0;
	for (size_t i = 0; i < l->n_errs && off < errlen; i++) {
		int w = snprintf(err + off, errlen - off, "%s%s:%d: %s", i ? "\n" : "", name,
		    l->errs[i].line, l->errs[i].msg);
		off += w > 0 ? (size_t) w : 0;
	}
	if (l->n_dropped > 0 && off < errlen) {
		snprintf(
		    err + off, errlen - off, "\n%s: %zu more errors not shown", name, l->n_dropped);
	}
	agent_config_free(l->cfg);
	free(l);
	return -1;
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
	struct stat st;
	FILE       *f;
	char       *text;
	int         rv;

	if ((f = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "%s:0: cannot read: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s:0: cannot read: not a regular file", path);
		fclose(f);
		return -1;
	}
	if (st.st_size > MAX_FILE) {
		snprintf(err, errlen, "%s:0: cannot read: larger than %d bytes", path, MAX_FILE);
		fclose(f);
		return -1;
	}
	if ((text = malloc((size_t) st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "%s:0: cannot read: out of memory", path);
		fclose(f);
		return -1;
	}
	size_t n = fread(text, 1, (size_t) st.st_size, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s:0: cannot read: %s", path, strerror(errno));
		fclose(f);
		free(text);
		return -1;
	}
	fclose(f);
	text[n] = '\0';
	if (memchr(text, '\0', n) != NULL) {
		snprintf(
		    err, errlen, "%s:0: cannot read: contains a NUL byte (not a text file)", path);
		free(text);
		return -1;
	}
	rv = agent_config_parse(path, text, out, err, errlen);
	free(text);
	return rv;
}
