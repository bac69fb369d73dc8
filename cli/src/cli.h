// cli.h - what main.c and the command files share.
//
// main.c parses the global options into a cli_ctx and dispatches to one cli_cmd_* function per
// command. A command parses its own options from argv (argv[0] is the command name), does at
// most one request/response round trip with the collector (client.h), prints, and returns the
// process exit code. Each command file also exports its --help text.

#ifndef CLI_CLI_H
#define CLI_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "faultline.pb-c.h"
#include "fl/json.h"

// Exit codes (the same for every Faultline program).
enum {
	CLI_EXIT_OK      = 0, // all fine (a warn is fine)
	CLI_EXIT_FAILING = 1, // something is failing, stale, or a fault was diagnosed
	CLI_EXIT_ERROR   = 2, // usage error, collector unreachable or answering an error, no data
};

#define CLI_DEFAULT_CONTROL    "ipc:///run/faultline/control.sock"
#define CLI_DEFAULT_TIMEOUT_MS 5000
#define CLI_CONNECT_TIMEOUT_MS 2000 // per address of a list: a dead one costs no more

typedef struct cli_ctx {
	// Control URL of the collector, or a comma-separated list of them (fl/urls.h: every
	// collector of an active/standby pair, asked in turn); borrowed from argv or environ.
	const char *url;
	uint32_t    timeout_ms; // send and receive timeout of the round trip
	uint32_t    connect_ms; // bound on connecting; 0: timeout_ms (client.h)
	// For a tls+tcp:// url: CA, client certificate and key (NULL: inside cert), and
	// the DNS name the collector's certificate must carry. NULL when not given.
	const char *tls_ca, *tls_cert, *tls_key, *tls_server_name;
	bool        colour; // stdout is a terminal and NO_COLOR is unset
	bool        pretty; // indent --json output (stdout is a terminal)
	FILE       *err;    // where client.c reports a failed round trip; NULL: stderr
} cli_ctx;

typedef int (*cli_cmd_fn)(const cli_ctx *ctx, int argc, char **argv);

int cli_cmd_status(const cli_ctx *ctx, int argc, char **argv);
int cli_cmd_hosts(const cli_ctx *ctx, int argc, char **argv);
int cli_cmd_history(const cli_ctx *ctx, int argc, char **argv);
int cli_cmd_diagnose(const cli_ctx *ctx, int argc, char **argv);
int cli_cmd_probe_now(const cli_ctx *ctx, int argc, char **argv);
int cli_cmd_verify(const cli_ctx *ctx, int argc, char **argv); // post-release gate
int cli_cmd_forget(const cli_ctx *ctx, int argc, char **argv); // retire a host
int cli_cmd_watch(const cli_ctx *ctx, int argc, char **argv);  // the live view
int cli_cmd_mute(const cli_ctx *ctx, int argc, char **argv);   // silence notifications
int cli_cmd_unmute(const cli_ctx *ctx, int argc, char **argv); // lift a mute
int cli_cmd_expect(const cli_ctx *ctx, int argc, char **argv); // expectations files, offline

// Renderers, split from the commands so tests can feed them replies directly. The *_print
// functions write the human form; *_json the public JSON shape (README, "JSON output").
// They return the exit code the reply deserves (or CLI_EXIT_ERROR when out of memory).
int cli_status_print(const Fl__StatusReply *r, FILE *out, bool colour);
int cli_status_json(const Fl__StatusReply *r, FILE *out, bool pretty);
int cli_hosts_print(const Fl__StatusReply *r, FILE *out, bool colour);
int cli_hosts_json(const Fl__StatusReply *r, FILE *out, bool pretty);
int cli_status_exit(const Fl__StatusReply *r); // 1 if a probe fails or a host is stale
int cli_history_print(const Fl__HistoryReply *r, FILE *out, bool colour);
int cli_history_json(const Fl__HistoryReply *r, FILE *out, bool pretty);
int cli_diagnose_print(const Fl__DiagnoseReply *r, FILE *out, bool colour);
int cli_diagnose_json(const Fl__DiagnoseReply *r, FILE *out, bool pretty);
int cli_diagnose_exit(const Fl__DiagnoseReply *r); // 0 healthy, 1 a fault, 2 unknown
// The first line of cli_diagnose_print: "VERDICT: summary" and a newline.
void cli_diagnose_headline(const Fl__DiagnoseReply *r, FILE *out, bool colour);
// The hosts × probes grid of `faultline watch`: one row per host (release, last seen, STALE),
// one column per probe name, each cell the probe's status and failure class ("fail/refused"),
// "-" where the host has no such probe. Returns 0, or CLI_EXIT_ERROR when out of memory.
int cli_status_grid_print(const Fl__StatusReply *r, FILE *out, bool colour);
int cli_forget_print(const Fl__ForgetReply *r, FILE *out); // 0 forgotten, 1 no such host
int cli_forget_json(const Fl__ForgetReply *r, FILE *out, bool pretty);

// Writes the JSON text of j plus a newline to out and frees j. Returns 0, or -1 (with a message
// on stderr) when j ran out of memory or the write failed.
int cli_json_emit(fl_json *j, FILE *out);

extern const char cli_help_status[];
extern const char cli_help_hosts[];
extern const char cli_help_history[];
extern const char cli_help_diagnose[];
extern const char cli_help_probe_now[];
extern const char cli_help_verify[];
extern const char cli_help_forget[];
extern const char cli_help_mute[];
extern const char cli_help_unmute[];
extern const char cli_help_watch[];
extern const char cli_help_expect[];

#endif // CLI_CLI_H
