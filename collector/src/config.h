// config.h - faultline-collector's configuration: defaults, INI file, command-line overrides.
//
// Precedence: built-in defaults, then the INI file ([collector] section), then flags. The
// struct holds fixed-size buffers so a config can be copied by value and needs no freeing.
// The file is read by the shared INI reader (fl/cfg.h): `include = GLOB` before the first
// section reads conf.d files ([collector] may appear in each; a key set twice anywhere is an
// error naming both places). Every loader error is reported, one "FILE:LINE: message" line each
// (LINE 0 when the file itself cannot be read), in err; the caller prints them and exits 2.

#ifndef FL_COLLECTOR_CONFIG_H
#define FL_COLLECTOR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "notify_config.h"
#include "sql.h"

#define COLL_DEFAULT_CONFIG "/etc/faultline/collector.conf"
#define COLL_URL_MAX        512
#define COLL_PATH_MAX       1024
#define COLL_NAME_MAX       128

// [collector] ingest_queue's bounds, in reports (ingest_queue.h sizes the queue from it).
#define COLL_INGEST_QUEUE_MIN 4096
#define COLL_INGEST_QUEUE_MAX 1000000

typedef struct coll_config {
	char     listen[COLL_URL_MAX];         // PULL listens here for agents' reports
	char     survey[COLL_URL_MAX];         // SURVEYOR listens here (probe-now, a later issue)
	char     control[COLL_URL_MAX];        // REP listens here for the CLI
	char     state[COLL_PATH_MAX];         // SQLite path, or PostgreSQL URI / conninfo (sql.h)
	char     password_file[COLL_PATH_MAX]; // PostgreSQL state: the password's file; "": none
	int      log_level;                    // FL_LOG_* (syslog numbers)
	bool     log_json;                     // log_format = json: one JSON object per log line
	uint32_t history_days;                 // history older than this is pruned
	uint32_t history_max_events;           // and beyond this many events, the oldest
	int64_t  forget_after_us;              // forget hosts stale this long; 0 = never
	uint32_t max_hosts;           // hosts kept; reports from more are dropped (counted)
	uint32_t max_probes_per_host; // results in one report; more: the report is dropped

	// Transport security (docs/security.md): TLS files serve every tls+tcp:// listener
	// (reports, survey, control), which then require a client certificate from tls_ca.
	// keys_dir: when set, every report (and survey answer) must be signed by the key
	// KEYS_DIR/<host>.pub.
	char tls_ca[COLL_PATH_MAX];
	char tls_cert[COLL_PATH_MAX];
	char tls_key[COLL_PATH_MAX]; // "": the key is in tls_cert
	char keys_dir[COLL_PATH_MAX];

	// Bounds on what peers can make the collector hold (docs/security.md, "Limits").
	uint32_t recv_max;        // bytes: largest report or survey answer received
	uint32_t max_connections; // open connections per agent-facing listener (reports, survey)
	uint32_t ingest_queue;    // reports received and not yet applied; 0: auto (ingest_queue.h)

	// The HTTP listener serving /metrics (http.h). "" = off. http_set: the value comes
	// from the file or a flag; only then is an address already in use fatal (the default
	// is skipped with a warning, so that a taken port 7680 never keeps a collector down).
	char http[COLL_URL_MAX];
	bool http_set;
	// Alert notifications (notify.h).
	coll_notify_config notify;

	// HA pair on a PostgreSQL store (lease.h, README "High availability and sizing"): the
	// name this collector holds the lease under (status `active_name`; default: the host
	// name) and how old the active's heartbeat may grow before a standby takes over.
	char    name[COLL_NAME_MAX];
	int64_t lease_timeout_us;
} coll_config;

#define COLL_DEFAULT_HTTP "127.0.0.1:7680"

#define COLL_DEFAULT_RECV_MAX        (1024u * 1024) // FL_WIRE_MAX_MSG: any valid report fits
#define COLL_DEFAULT_MAX_CONNECTIONS 1024u

// Fills cfg with the built-in defaults.
void coll_config_defaults(coll_config *cfg);

// Reads path (and what it includes) into cfg (on top of what cfg holds). Returns 0, or -1 with
// every error as "FILE:LINE: message" lines separated by '\n' in err. On error cfg may be partly
// updated; callers discard it.
int coll_config_load(const char *path, coll_config *cfg, char *err, size_t errlen);

// Sets one [collector] key from text, as the file would (used by the loader and for the
// --listen/--control/--state flags). Returns 0, or -1 with a message (no FILE:LINE) in err.
int coll_config_set(coll_config *cfg, const char *key, const char *value, char *err, size_t errlen);

// Checks what involves several keys or files, once the file and the flags are applied: TLS
// files present (and loadable) when an address is tls+tcp://, keys_dir a directory. Returns
// 0, or -1 with "WHERE: message" in err (where = the config path, or "(defaults)").
int coll_config_check(const coll_config *cfg, const char *where, char *err, size_t errlen);

// The options every module opens the state database with (state, password_file), for a
// read-only or a writing connection named app_name in pg_stat_activity. The strings are
// borrowed from cfg and app_name.
void coll_config_sql_opts(
    const coll_config *cfg, bool readonly, const char *app_name, fl_sql_opts *out);

// True when url is tcp://, tcp4:// or tcp6:// to a loopback address (127.0.0.0/8, ::1,
// localhost). A plain tcp:// control socket is refused anywhere else (anyone on the network could
// ask).
bool coll_url_loopback(const char *url);

// Parses a forget_after value: "off" or "0" (never, *us_out = 0), or whole s/m/h/d units from
// 1s to 3650d ("30s", "12h", "7d"). Returns 0, or -1 on bad syntax or range.
int coll_parse_forget_after(const char *v, int64_t *us_out);

#endif // FL_COLLECTOR_CONFIG_H
