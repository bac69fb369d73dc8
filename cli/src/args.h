// args.h - pure helpers for the CLI's argument parsing and text formatting.
//
// Nothing here touches the network; most of it is unit-tested in tests/cli/args_test.c.
// Option parsing goes through getopt_long (global state: each parse restarts it).

#ifndef CLI_ARGS_H
#define CLI_ARGS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fl/labels.h"

// Global options, before the command: faultline [-C URL] [--timeout D] [--help] [--version] CMD.
typedef struct cli_global {
	const char *url;        // -C/--control, else $FAULTLINE_CONTROL, else the default
	uint32_t    timeout_ms; // --timeout
	// Issue 7: TLS for a tls+tcp:// control URL (--tls-ca etc.; main.c falls back to
	// $FAULTLINE_TLS_CA, $FAULTLINE_TLS_CERT, $FAULTLINE_TLS_KEY, $FAULTLINE_TLS_SERVER_NAME).
	const char *tls_ca, *tls_cert, *tls_key, *tls_server_name;
	bool        help;
	bool        version;
	int         cmd_index; // index in argv of the command; 0 when there is none
} cli_global;

// Parses the global options. env_control is $FAULTLINE_CONTROL (may be NULL or empty).
// Returns 0, or -1 with a one-line reason in err.
int cli_global_parse(
    int argc, char **argv, const char *env_control, cli_global *g, char *err, size_t errlen);

// Restarts getopt: call before the first cli_opt_next() of each argv.
void cli_opt_start(void);

// getopt_long without getopt's own messages: returns the option's value, -1 at the end of the
// options (optind is then the first positional), or '?' with a one-line reason in err (unknown
// option, missing argument). Options must come before positionals.
int cli_opt_next(int argc, char **argv, const char *shortopts, const struct option *longopts,
    char *err, size_t errlen);

// `--label KEY=VALUE`, repeatable (issue 10): the label filter a query carries; a host must
// carry every label (AND). The strings are borrowed from argv.
typedef struct cli_labels {
	char  *v[FL_LABELS_MAX];
	size_t n;
} cli_labels;

// Adds one --label value after checking it (fl/labels.h rules, at most FL_LABELS_MAX, no key
// twice). Returns 0, or -1 with a one-line reason in err.
int cli_labels_add(cli_labels *l, char *label, char *err, size_t errlen);

// The name an option is known by in messages: "--NAME" for the long option whose value is val
// (or "-C" for a short one), whatever the user typed (--name=v, --name v, -Cv). The text lives
// in a static buffer until the next call.
const char *cli_opt_name(const struct option *longopts, int val);

// Prints "faultline CMD: <message> (try 'faultline CMD --help')" on stderr; returns 2.
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// Parses an RFC 3339 time ("2026-11-25T14:07:20Z", "...20.123+02:00"; 't' or ' ' also accepted
// between date and time) into Unix microseconds. Returns 0, or -1 on bad syntax.
int cli_parse_rfc3339(const char *text, int64_t *us_out);

// Parses --since: an RFC 3339 time, or a duration back from now_us ("90s", "1h", "2d").
// Returns 0, or -1 on bad syntax.
int cli_parse_since(const char *text, int64_t now_us, int64_t *us_out);

// Writes a coarse age: "4s", "3m10s", "2h05m", "3d04h"; negative ages (clock skew) print "0s".
char *cli_age_format(int64_t us, char *buf, size_t len);

// Writes a signed skew: "+3.2s", "-1m05s".
char *cli_skew_format(int64_t us, char *buf, size_t len);

#endif // CLI_ARGS_H
