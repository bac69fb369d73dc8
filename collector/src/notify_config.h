// notify_config.h - the collector's notification settings: [notify], [webhook "NAME"],
// [alertmanager] (README, "Alerts and metrics").
//
// Fixed-size buffers, like coll_config, so the whole config is copied by value. Secrets are not
// read here: a header given by `header_file` or `header_env` keeps only the file's path or the
// variable's name, and is read when the notifier starts (notify.c), so `--check-config` and the
// config struct never hold a secret.

#ifndef FL_COLLECTOR_NOTIFY_CONFIG_H
#define FL_COLLECTOR_NOTIFY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COLL_NOTIFY_MAX_WEBHOOKS 8    // [webhook "NAME"] sections
#define COLL_NOTIFY_MAX_HEADERS  8    // header/header_file/header_env lines per webhook
#define COLL_NOTIFY_MAX_AM       4    // url lines of [alertmanager]
#define COLL_NOTIFY_NAME_MAX     64   // a webhook's name
#define COLL_NOTIFY_URL_MAX      512  // a receiver's URL
#define COLL_NOTIFY_HEADER_MAX   1024 // a header line, a header file's path or a variable name

#define COLL_NOTIFY_DEFAULT_FOR_MS        30000u // [notify] for
#define COLL_NOTIFY_DEFAULT_RESOLVE_AFTER 2u     // [notify] resolve_after (rounds)
#define COLL_NOTIFY_DEFAULT_RETRY_MAX_MS  60000u // [notify] retry_max
#define COLL_NOTIFY_DEFAULT_TIMEOUT_MS    5000u  // a receiver's timeout
#define COLL_NOTIFY_DEFAULT_RESEND_MS     60000u // [alertmanager] resend

typedef enum coll_header_kind {
	COLL_HEADER_TEXT, // `header = Name: value`
	COLL_HEADER_FILE, // `header_file = PATH`: the file's first line is `Name: value` (0600)
	COLL_HEADER_ENV,  // `header_env = VAR`: the variable holds `Name: value`
} coll_header_kind;

typedef struct coll_webhook_cfg {
	char             name[COLL_NOTIFY_NAME_MAX];
	char             url[COLL_NOTIFY_URL_MAX];
	char             headers[COLL_NOTIFY_MAX_HEADERS][COLL_NOTIFY_HEADER_MAX];
	coll_header_kind header_kind[COLL_NOTIFY_MAX_HEADERS];
	uint32_t         n_headers;
	uint32_t         timeout_ms;
} coll_webhook_cfg;

typedef struct coll_notify_config {
	uint32_t         for_ms;        // a finding is notified once it has held this long
	uint32_t         resolve_after; // and resolved once clear for this many rounds
	uint32_t         retry_max_ms;  // the longest wait between two tries (backoff cap)
	coll_webhook_cfg webhooks[COLL_NOTIFY_MAX_WEBHOOKS];
	uint32_t         n_webhooks;
	char             am_urls[COLL_NOTIFY_MAX_AM][COLL_NOTIFY_URL_MAX];
	uint32_t         n_am_urls;
	uint32_t         am_resend_ms;
	uint32_t         am_timeout_ms;
} coll_notify_config;

void coll_notify_config_defaults(coll_notify_config *c);

// Whether a section of that kind ("notify", "webhook", "alertmanager") belongs here.
bool coll_notify_section_known(const char *kind);

// Starts a section (kind as above; name is the quoted part, "" for none). Returns 0, or -1
// with a message in err (a webhook without a name or with a bad one, one too many, a name
// used twice, a name on [notify] or [alertmanager]).
int coll_notify_config_section(
    coll_notify_config *c, const char *kind, const char *name, char *err, size_t errlen);

// Sets key of the section last started. Returns 0, or -1 with a message in err.
int coll_notify_config_set(coll_notify_config *c, const char *kind, const char *key,
    const char *value, char *err, size_t errlen);

// Checks what needs the whole file: every webhook has a url. Returns 0, or -1 with a message.
int coll_notify_config_check(const coll_notify_config *c, char *err, size_t errlen);

// Checks that every header_file can be read as a secret (not group- or world-readable) and
// every header_env is set, without keeping the secret. Returns 0, or -1 with a message.
int coll_notify_config_check_secrets(const coll_notify_config *c, char *err, size_t errlen);

// Whether key may be given more than once in a section of that kind (header, url).
bool coll_notify_key_repeatable(const char *kind, const char *key);

#endif // FL_COLLECTOR_NOTIFY_CONFIG_H
