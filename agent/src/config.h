// config.h - the agent's configuration: the [agent] section and one probe per probe section.
//
// The file is INI, read by the shared reader (fl/cfg.h: long lines, every error, includes):
//
//   [agent]                 name, collector, survey, interval, release_file, expectations,
//                           state_dir, log_level, spool_size, spool_file_max, tls_ca,
//                           tls_cert, tls_key,
//                           tls_server_name, sign_key, labels (all optional, defaults below)
//   [http "app"]            one probe; the kind picks agent_probe_ops (probe.h), which parses
//   [tcp "cache"]           and validates the section's keys
//
// Loading never stops at the first problem: every error is collected, one per line, as
// "FILE:LINE: message" (the line of the offending key, or of the section header for a
// missing required key), so --check-config shows them all at once. A config either loads
// completely or not at all; nothing is half-applied.
//
// Ownership: agent_config_load() returns a config the caller frees with agent_config_free(),
// which also frees every probe instance. The probe instances belong to the config; the round
// runner borrows them for as long as it runs.

#ifndef FL_AGENT_CONFIG_H
#define FL_AGENT_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "fl/labels.h"
#include "fl/urls.h"
#include "probe.h"

#define AGENT_DEFAULT_CONFIG     "/etc/faultline/agent.conf"
#define AGENT_DEFAULT_COLLECTOR  "tcp://127.0.0.1:7600"
#define AGENT_DEFAULT_SURVEY     "tcp://127.0.0.1:7601"
#define AGENT_DEFAULT_INTERVAL   5000 // ms
#define AGENT_DEFAULT_STATE_DIR  "/var/lib/faultline-agent"
#define AGENT_DEFAULT_SPOOL_SIZE 1000                // rounds kept while the collector is away
#define AGENT_DEFAULT_SPOOL_FILE (16u * 1024 * 1024) // bytes of state_dir/spool (spool_file.h)
#define AGENT_MAX_SPOOL_FILE     (4ULL * 1024 * 1024 * 1024)
#define AGENT_MAX_PROBES         FL_WIRE_MAX_RESULTS
#define AGENT_CFG_ERRLEN         4096 // enough for a screenful of "FILE:LINE: message" lines

// One configured probe: a `[kind "name"]` section turned into a probe instance.
typedef struct agent_probe_cfg {
	const agent_probe_ops *ops;
	void                  *ctx; // owned; ops->free() releases it
	char                   name[64];
	int                    line; // of the section header
} agent_probe_cfg;

typedef struct agent_config {
	char     path[PATH_MAX];              // the file it came from, for messages
	char     name[256];                   // host name reported to the collector
	char     collector[FL_URLS_TEXT_LEN]; // one URL or a list (fl/urls.h): every collector
	char     survey[FL_URLS_TEXT_LEN];    // likewise: each collector's survey address
	uint32_t interval_ms;
	char     release_file[PATH_MAX]; // "" when not set: release is "unknown"
	char     expectations[PATH_MAX]; // "" when not set
	char     state_dir[PATH_MAX];
	int      log_level; // FL_LOG_*; -1 when not set in the file
	bool     log_json;  // log_format = json: one JSON object per log line
	uint32_t spool_size;
	uint64_t spool_file_max; // bytes of the spool file in state_dir; 0: memory spool only

	// Transport security (secure.h): TLS files are needed when collector or survey is
	// tls+tcp://; they and sign_key are checked at load time (readable, key private, key
	// matches certificate).
	char tls_ca[PATH_MAX];
	char tls_cert[PATH_MAX];
	char tls_key[PATH_MAX];       // "": the key is in tls_cert
	char tls_server_name[256];    // a DNS name in the collector certificate's subjectAltName
	char sign_key[PATH_MAX];      // "": reports are not signed
	int  tls_line, sign_key_line; // where they were set, for messages

	// `labels = env=prod, service=orders`, validated by fl/labels.h, sent in every
	// report; the collector keeps them per host and filters on them.
	char   labels[FL_LABELS_MAX][FL_LABEL_LEN];
	size_t n_labels;

	agent_probe_cfg *probes;
	size_t           n_probes;
	bool             allow_empty;      // [agent] allow_empty
	bool             allow_empty_flag; // --allow-empty, carried over to reloads
} agent_config;

// Loads and validates the file at path. On success *out is set and 0 returned; on failure -1
// is returned, *out untouched, and err holds one or more "FILE:LINE: message" lines separated
// by '\n' (an unreadable file gives "FILE:0: cannot read: reason").
int agent_config_load(const char *path, agent_config **out, char *err, size_t errlen);

// A config with no probe section would run and report nothing, which looks healthy: refused
// unless allow_empty (--allow-empty) or the file's own allow_empty = yes. 0, or -1 with
// "FILE:0: no probes configured ..." in err.
int agent_config_check_probes(const agent_config *cfg, bool allow_empty, char *err, size_t errlen);

// Same as agent_config_load() from memory; name stands in for the file name in messages.
int agent_config_parse(
    const char *name, const char *text, agent_config **out, char *err, size_t errlen);

void agent_config_free(agent_config *cfg); // accepts NULL

// The longest timeout of any configured probe, in milliseconds (0 when there are none).
uint32_t agent_config_max_timeout_ms(const agent_config *cfg);

// Parses an HTTP status expectation "200" or "200-299" (100..599). 0 or -1 (out untouched).
int agent_parse_status_range(const char *v, int *lo, int *hi);

#endif // FL_AGENT_CONFIG_H
