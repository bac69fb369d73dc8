// cmd_expect.c - `faultline expect`: help with a release's expectations file, offline.
//
//   expect check FILE...   the agent's parser, without an agent: exit 2 with FILE:LINE
//   expect diff OLD NEW    what NEW adds and drops; a drop is a rollback risk (exit 1)
//
// Nothing here talks to the collector.

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "expect.h"
#include "expect_diff.h"

const char cli_help_expect[] =
    "NAME\n"
    "    faultline expect - check and compare release expectations files\n"
    "\n"
    "SYNOPSIS\n"
    "    faultline expect check FILE...\n"
    "    faultline expect diff [--json] OLD NEW\n"
    "\n"
    "DESCRIPTION\n"
    "    Works on faultline.expect(5) files, the list of what a release needs from each\n"
    "    database; no collector is asked.\n"
    "\n"
    "    check reads each FILE with the agent's own parser and prints \"FILE: ok\" with\n"
    "    what it requires, or the first error as FILE:LINE: message (exit 2).\n"
    "\n"
    "    diff compares the expectations of release OLD (deployed today) with those of\n"
    "    release NEW (about to ship): every object and privilege NEW needs that OLD did\n"
    "    not (+), and every one OLD needs that NEW no longer lists (-). What NEW drops is\n"
    "    a rollback risk: NEW's migration may remove it, and OLD, rolled back to, still\n"
    "    needs it; diff then exits 1, for a review step before a migration ships. Lines\n"
    "    naming the same object are merged, and an object listed with privileges is also\n"
    "    needed to exist.\n"
    "\n"
    "OPTIONS\n"
    "    --json      diff: {\"old\",\"new\",\"added\":[...],\"dropped\":[...],"
    "\"rollback_risk\"},\n"
    "                each change {\"section\",\"probe\",\"kind\",\"object\",\"whole\","
    "\"privileges\":[]}\n"
    "    -h, --help  this text\n"
    "\n"
    "EXIT STATUS\n"
    "    0  check: every file is valid; diff: NEW drops nothing OLD needs\n"
    "    1  diff: NEW drops something OLD needs (a rollback risk)\n"
    "    2  usage error, a file cannot be read or is not valid (FILE:LINE: message)\n"
    "\n"
    "EXAMPLES\n"
    "    faultline expect check release/faultline.expect\n"
    "    faultline expect diff v2.3.1/faultline.expect v2.4.0/faultline.expect\n"
    "    git show v2.3.1:faultline.expect >/tmp/old && faultline expect diff /tmp/old "
    "faultline.expect\n";

static size_t
count_reqs(const agent_expect *e)
{
	size_t n = 0;
	for (size_t i = 0; i < e->n_dbs; i++) {
		n += e->dbs[i].n_reqs;
	}
	return n;
}

// Loads path; on failure prints every error as FILE:LINE: message and returns NULL.
static agent_expect *
load(const char *path)
{
	agent_expect *e;
	char          err[4096];
	if (agent_expect_load(path, &e, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return NULL;
	}
	return e;
}

static int
cmd_check(int argc, char **argv)
{
	int rc = CLI_EXIT_OK;

	if (argc < 1) {
		return cli_usage_error(
		    "expect check", "which file? faultline expect check FILE...");
	}
	for (int i = 0; i < argc; i++) {
		agent_expect *e = load(argv[i]);
		if (e == NULL) {
			rc = CLI_EXIT_ERROR;
			continue;
		}
		printf("%s: ok (%zu database section%s, %zu requirement%s)\n", argv[i], e->n_dbs,
		    e->n_dbs == 1 ? "" : "s", count_reqs(e), count_reqs(e) == 1 ? "" : "s");
		agent_expect_free(e);
	}
	return rc;
}

static int
cmd_diff(const cli_ctx *ctx, int argc, char **argv, bool json)
{
	agent_expect      *o = NULL, *w = NULL;
	cli_expect_change *changes;
	size_t             n;
	int                rc;

	if (argc != 2) {
		return cli_usage_error("expect diff",
		    "wants two files, OLD and NEW (got %d): faultline expect diff OLD NEW", argc);
	}
	if ((o = load(argv[0])) == NULL || (w = load(argv[1])) == NULL) {
		agent_expect_free(o);
		return CLI_EXIT_ERROR;
	}
	if (cli_expect_diff(o, w, &changes, &n) != 0) {
		fprintf(stderr, "faultline: out of memory while comparing the files\n");
		rc = CLI_EXIT_ERROR;
	} else {
		rc = json
		    ? cli_expect_diff_json(changes, n, argv[0], argv[1], stdout, ctx->pretty)
		    : cli_expect_diff_print(changes, n, argv[0], argv[1], stdout, ctx->colour);
		free(changes);
	}
	agent_expect_free(o);
	agent_expect_free(w);
	return rc;
}

int
cli_cmd_expect(const cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char        err[256];
	bool        json = false;
	int         opt;
	const char *sub;

	if (argc < 2) {
		return cli_usage_error(argv[0], "which subcommand? check or diff");
	}
	sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		fputs(cli_help_expect, stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(sub, "check") != 0 && strcmp(sub, "diff") != 0) {
		return cli_usage_error(argv[0], "no subcommand named '%s' (check or diff)", sub);
	}
	argc--;
	argv++; // argv[0] is now the subcommand
	cli_opt_start();
	while ((opt = cli_opt_next(argc, argv, "h", longopts, err, sizeof(err))) != -1) {
		switch (opt) {
		case 'j':
			if (strcmp(sub, "diff") != 0) {
				return cli_usage_error("expect", "--json is for expect diff");
			}
			json = true;
			break;
		case 'h':
			fputs(cli_help_expect, stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("expect", "%s", err);
		}
	}
	argc -= optind;
	argv += optind;
	if (strcmp(sub, "check") == 0) {
		return cmd_check(argc, argv);
	}
	return cmd_diff(ctx, argc, argv, json);
}
