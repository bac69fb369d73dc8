// main.c - faultline, the command line of Faultline: global options and command dispatch.
//
// Everything a command does lives in its cmd_*.c file; this file only reads the global
// options (-C, --timeout, --help, --version) and picks the command.

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fl/version.h"

#include "args.h"
#include "cli.h"
#include "table.h"

typedef struct command {
	const char *name;
	cli_cmd_fn  run;
	const char *help;
	const char *summary;
} command;

static const command commands[] = {
	{ "status", cli_cmd_status, cli_help_status,
	    "every host and the latest result of each of its probes" },
	{ "hosts", cli_cmd_hosts, cli_help_hosts, "one line per host" },
	{ "history", cli_cmd_history, cli_help_history, "what changed, and when" },
	{ "diagnose", cli_cmd_diagnose, cli_help_diagnose,
	    "is it the code, a database, the network or a host?" },
	{ "probe-now", cli_cmd_probe_now, cli_help_probe_now,
	    "make every agent probe now and wait for the results" },
	{ "verify", cli_cmd_verify, cli_help_verify,
	    "gate a deploy: release healthy, no worse, rollback possible" },
	{ "forget", cli_cmd_forget, cli_help_forget, "stop tracking a host (its history stays)" },
	{ "mute", cli_cmd_mute, cli_help_mute,
	    "mute notifications about a host or target for a while" },
	{ "unmute", cli_cmd_unmute, cli_help_unmute, "end a mute before its time" },
	{ "watch", cli_cmd_watch, cli_help_watch, "a live view: verdict, hosts × probes, events" },
	{ "expect", cli_cmd_expect, cli_help_expect,
	    "check, compare and capture release expectations files" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *out)
{
	fprintf(out,
	    "NAME\n"
	    "    faultline - ask the Faultline collector what is failing, and why\n"
	    "\n"
	    "SYNOPSIS\n"
	    "    faultline [-C URL] [--timeout D] COMMAND [OPTIONS]\n"
	    "    faultline help COMMAND\n"
	    "    faultline --help | --version\n"
	    "\n"
	    "DESCRIPTION\n"
	    "    faultline queries faultline-collector, which gathers the probe results of every\n"
	    "    faultline-agent (HTTP, TCP, DNS, PostgreSQL, MariaDB) and correlates failures "
	    "into\n"
	    "    a verdict: the code, a database, the network or a host. Each command is one\n"
	    "    request/response round trip on the collector's control socket.\n"
	    "\n"
	    "COMMANDS\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		fprintf(out, "    %-10s  %s\n", commands[i].name, commands[i].summary);
	}
	fprintf(out,
	    "    %-10s  the manual of one command\n"
	    "\n"
	    "OPTIONS\n"
	    "    -C, --control URL  the collector's control socket: ipc:///path, "
	    "tls+tcp://host:port\n"
	    "                       or tcp://127.0.0.1:port (plain tcp is loopback only);\n"
	    "                       or a comma-separated list (an active/standby pair):\n"
	    "                       asked in turn, the first that answers as active wins\n"
	    "                       (default: $FAULTLINE_CONTROL, else %s)\n"
	    "    --timeout D        give up when the collector has not answered within D\n"
	    "                       (500ms, 5s, 1m; default 5s)\n"
	    "    --tls-ca FILE      for a tls+tcp:// control URL: the CA the collector's\n"
	    "                       certificate must chain to\n"
	    "    --tls-cert FILE    this client's certificate (signed by the same CA; the\n"
	    "                       collector refuses a CLI without one)\n"
	    "    --tls-key FILE     its private key, mode 0600 (omit if inside --tls-cert)\n"
	    "    --tls-server-name NAME  a DNS name in the collector certificate's\n"
	    "                       subjectAltName (required with tls+tcp://)\n"
	    "    -h, --help         this text; COMMAND --help for a command's\n"
	    "    -V, --version      the version\n"
	    "    Every command but watch, expect check and expect capture also takes --json (the\n"
	    "    shapes documented in README).\n"
	    "\n"
	    "EXIT STATUS\n"
	    "    0  all is well (status: every probe ok or warn; diagnose: healthy; verify: "
	    "passed)\n"
	    "    1  something is failing: a probe fails, a host is stale, a fault was diagnosed;\n"
	    "       forget: no such host; unmute: no such mute\n"
	    "    2  usage error, or the collector cannot be reached or answers an error;\n"
	    "       diagnose: cannot tell (no data, verdict unknown)\n"
	    "\n"
	    "ENVIRONMENT\n"
	    "    FAULTLINE_CONTROL  the control URL (or list) when -C is not given\n"
	    "    FAULTLINE_TLS_CA, FAULTLINE_TLS_CERT, FAULTLINE_TLS_KEY,\n"
	    "    FAULTLINE_TLS_SERVER_NAME  the --tls-* values when the flags are not given\n"
	    "    NO_COLOR           when set (non-empty), never colour the output; colour is\n"
	    "                       otherwise used only when stdout is a terminal\n"
	    "\n"
	    "EXAMPLES\n"
	    "    faultline status\n"
	    "    faultline -C tls+tcp://10.0.0.5:7602 --tls-ca ca.crt --tls-cert me.crt \\\n"
	    "        --tls-key me.key --tls-server-name collector.example diagnose\n"
	    "    faultline history --since 1h --host app1\n"
	    "    faultline diagnose --label env=prod\n"
	    "    faultline forget app7\n"
	    "    faultline mute --host app3 --for 30m --reason \"kernel upgrade\"\n"
	    "    faultline watch --label env=prod\n"
	    "    faultline expect diff old/faultline.expect new/faultline.expect\n"
	    "    faultline verify --release 2.4.1 --canary app1 --rollback-to 2.4.0\n"
	    "    FAULTLINE_CONTROL=ipc:///tmp/fl.sock faultline status --json | jq .\n"
	    "\n"
	    "SEE ALSO\n"
	    "    faultline-collector(8), faultline-agent(8)\n",
	    "help", CLI_DEFAULT_CONTROL);
}

static const char *
env_or_null(const char *name)
{
	const char *v = getenv(name);
	return v != NULL && v[0] != '\0' ? v : NULL;
}

static const command *
find(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (strcmp(commands[i].name, name) == 0) {
			return &commands[i];
		}
	}
	return NULL;
}

// `faultline help [COMMAND]`
static int
help(int argc, char **argv)
{
	const command *c;
	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	if (argc > 2) {
		return cli_usage_error("help", "takes one command name, not %d", argc - 1);
	}
	if ((c = find(argv[1])) == NULL) {
		return cli_usage_error(NULL, "no command named '%s'", argv[1]);
	}
	fputs(c->help, stdout);
	return 0;
}

int
main(int argc, char **argv)
{
	cli_global     g;
	cli_ctx        ctx;
	const command *c;
	char           err[256];

	if (cli_global_parse(argc, argv, getenv("FAULTLINE_CONTROL"), &g, err, sizeof(err)) != 0) {
		return cli_usage_error(NULL, "%s", err);
	}
	if (g.help) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (g.version) {
		printf("faultline %s\n", FL_VERSION);
		return CLI_EXIT_OK;
	}
	if (g.cmd_index == 0) {
		return cli_usage_error(NULL,
		    "which command? status, hosts, history, diagnose, probe-now, verify, forget, "
		    "mute, unmute or watch");
	}
	argc -= g.cmd_index;
	argv += g.cmd_index;
	if (strcmp(argv[0], "help") == 0) {
		return help(argc, argv);
	}
	if ((c = find(argv[0])) == NULL) {
		return cli_usage_error(NULL, "no command named '%s'", argv[0]);
	}
	ctx.url             = g.url;
	ctx.timeout_ms      = g.timeout_ms;
	ctx.tls_ca          = g.tls_ca != NULL ? g.tls_ca : env_or_null("FAULTLINE_TLS_CA");
	ctx.tls_cert        = g.tls_cert != NULL ? g.tls_cert : env_or_null("FAULTLINE_TLS_CERT");
	ctx.tls_key         = g.tls_key != NULL ? g.tls_key : env_or_null("FAULTLINE_TLS_KEY");
	ctx.tls_server_name = g.tls_server_name != NULL ? g.tls_server_name
	                                                : env_or_null("FAULTLINE_TLS_SERVER_NAME");
	ctx.colour          = cli_colour_wanted(stdout);
	ctx.pretty          = isatty(STDOUT_FILENO) == 1;
	ctx.err             = NULL; // stderr
	return c->run(&ctx, argc, argv);
}
