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

#include "cli.h"

// Global options, before the command: faultline [-C URL] [--timeout D] [--help] [--version] CMD.
typedef struct cli_global {
	const char *url;        // -C/--control, else $FAULTLINE_CONTROL, else the default
	uint32_t    timeout_ms; // --timeout
	// TLS for a tls+tcp:// control URL (--tls-ca etc.; main.c falls back to
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

// `--label KEY=VALUE`, repeatable: the label filter a query carries; a host must
// carry every label (AND). The strings are borrowed from argv.
typedef struct cli_labels {
	char  *v[FL_LABELS_MAX];
	size_t n;
} cli_labels;

// Adds one --label value after checking it (fl/labels.h rules, at most FL_LABELS_MAX, no key
// twice). Returns 0, or -1 with a one-line reason in err.
int cli_labels_add(cli_labels *l, char *label, char *err, size_t errlen);

// ---- a command's options ---------------------------------------------------------------------
//
// Every command parses its argv the same way: the options it shares with the others (below),
// its own ones through a callback, then its positionals. A command lists in its longopts only
// the options it accepts; the shared ones must use these values.
enum {
	CLI_OPT_JSON    = 'j', // --json
	CLI_OPT_HOST    = 'H', // --host H
	CLI_OPT_LABEL   = 'L', // --label KEY=VALUE, repeatable
	CLI_OPT_CONTROL = 'C', // -C/--control URL
	CLI_OPT_HELP    = 'h', // -h/--help
};

// The longopts rows of the shared options, for a command's table: every command takes
// CLI_LONGOPTS_BASE (--json, --control, --help); those that filter hosts CLI_LONGOPTS_FILTER.
// clang-format off
#define CLI_LONGOPTS_BASE                                         \
	{ "json", no_argument, NULL, CLI_OPT_JSON },              \
	{ "control", required_argument, NULL, CLI_OPT_CONTROL },  \
	{ "help", no_argument, NULL, CLI_OPT_HELP }
#define CLI_LONGOPTS_FILTER                                       \
	{ "host", required_argument, NULL, CLI_OPT_HOST },        \
	{ "label", required_argument, NULL, CLI_OPT_LABEL }
// clang-format on

// What cli_parse_opts and a command's own-option callback return besides an exit code.
enum {
	CLI_GO_ON       = -1, // parsed: carry on
	CLI_OPT_NOT_OWN = -2, // (callback) not one of the command's own options
};

// The shared options' values.
typedef struct cli_shared_opts {
	const char *url;    // --control; NULL when not given
	bool        json;   // --json
	const char *host;   // --host; NULL when not given
	cli_labels  labels; // --label
} cli_shared_opts;

// *ctx with what the shared options change (--control).
cli_ctx cli_ctx_with(const cli_ctx *ctx, const cli_shared_opts *shared);

// A command's own options: called with each option value before the shared ones are tried, with
// the option's argument (NULL when it takes none) and the command name for messages. Returns
// CLI_GO_ON when it took the option, CLI_OPT_NOT_OWN when the option is not its own, or an exit
// code to stop with (cli_usage_error's 2 for a bad value).
typedef int (*cli_own_opt_fn)(void *state, int opt, char *arg, const char *cmd);

// Parses argv (argv[0] is the command name) with longopts (and -C, -h): own options through own
// (may be NULL), the shared ones into *shared (zeroed first). help is printed on --help.
// Without allow_positionals, a positional is a usage error. Returns CLI_GO_ON, with optind at
// the first positional; CLI_EXIT_OK after printing help; CLI_EXIT_ERROR on a usage error
// (reported on stderr).
int cli_parse_opts(int argc, char **argv, const struct option *longopts, const char *help,
    cli_own_opt_fn own, void *state, bool allow_positionals, cli_shared_opts *shared);

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
