// cmd_expect.c - `faultline expect`: help with a release's expectations file, offline.
//
//   expect check FILE...   the agent's parser, without an agent: exit 2 with FILE:LINE
//   expect diff OLD NEW    what NEW adds and drops; a drop is a rollback risk (exit 1)
//   expect capture -c agent.conf --probe NAME [--schema S]... [-o FILE]
//                          what the probe's role can use today, written by faultline-agent
//
// Nothing here talks to the collector.

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "args.h"
#include "cli.h"
#include "expect.h"
#include "expect_diff.h"

const char cli_help_expect[] =
    "NAME\n"
    "    faultline expect - check, compare and capture release expectations files\n"
    "\n"
    "SYNOPSIS\n"
    "    faultline expect check FILE...\n"
    "    faultline expect diff [--json] OLD NEW\n"
    "    faultline expect capture [-c AGENT.CONF] --probe NAME [--schema S]... [-o FILE]\n"
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
    "    capture connects like the agent's database probe NAME (its config, password and\n"
    "    role) and writes, as a commented expectations file, what that role can use today:\n"
    "    PostgreSQL schemas it has USAGE on, its privileges on their tables, sequences and\n"
    "    functions, and the columns of those tables; MySQL/MariaDB its effective table and\n"
    "    column privileges. A release commits the file after deleting what its code does\n"
    "    not use. Names the format cannot express (PostgreSQL: upper case or quoted) are\n"
    "    left out and counted in a comment. The work is done by faultline-agent\n"
    "    --capture-expectations, found beside this program or in PATH (package\n"
    "    faultline-agent); the CLI itself has no database client.\n"
    "\n"
    "OPTIONS\n"
    "    --json             diff: {\"old\",\"new\",\"added\":[...],\"dropped\":[...],"
    "\"rollback_risk\"},\n"
    "                       each change {\"section\",\"probe\",\"kind\",\"object\",\"whole\","
    "\"privileges\":[]}\n"
    "    -c, --config FILE  capture: the agent's config (default /etc/faultline/agent.conf)\n"
    "    --probe NAME       capture: the postgres or mysql probe to connect as (required)\n"
    "    --schema S         capture: read schema S (MySQL: database S), repeatable; default:\n"
    "                       every non-system one the role can use\n"
    "    -o, --output FILE  capture: write FILE (replaced only when the capture succeeds)\n"
    "                       instead of standard output\n"
    "    -h, --help         this text\n"
    "\n"
    "EXIT STATUS\n"
    "    0  check: every file is valid; diff: NEW drops nothing OLD needs; capture: written\n"
    "    1  diff: NEW drops something OLD needs (a rollback risk); capture: the database\n"
    "       could not be read (cannot connect, a --schema that does not exist)\n"
    "    2  usage error, a file cannot be read or is not valid (FILE:LINE: message);\n"
    "       capture: a bad agent config, no such database probe, faultline-agent missing\n"
    "\n"
    "EXAMPLES\n"
    "    faultline expect check release/faultline.expect\n"
    "    faultline expect diff v2.3.1/faultline.expect v2.4.0/faultline.expect\n"
    "    faultline expect capture -c /etc/faultline/agent.conf --probe orders -o "
    "faultline.expect\n"
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

// Where faultline-agent is: next to this program (the packages install both in /usr/bin),
// else the first in PATH. Returns 0 with the path in out, -1 when there is none.
static int
find_agent(char *out, size_t len)
{
	char        self[PATH_MAX];
	ssize_t     n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	const char *path;

	if (n > 0) {
		self[n]     = '\0';
		char *slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			snprintf(out, len, "%.*s/faultline-agent", (int) (len - 17), self);
			if (access(out, X_OK) == 0) {
				return 0;
			}
		}
	}
	if ((path = getenv("PATH")) == NULL) {
		return -1;
	}
	for (const char *p = path; *p != '\0';) {
		size_t dl = strcspn(p, ":");
		if (dl > 0 && dl + 17 < len) {
			snprintf(out, len, "%.*s/faultline-agent", (int) dl, p);
			if (access(out, X_OK) == 0) {
				return 0;
			}
		}
		p += dl;
		p += *p == ':';
	}
	return -1;
}

// Runs argv with stdout on fd (-1: ours); returns its exit status, or CLI_EXIT_ERROR when it
// cannot run or was killed.
static int
run_agent(const char *const *argv, int fd)
{
	int   status;
	pid_t pid = fork();

	if (pid < 0) {
		fprintf(stderr, "faultline: cannot run %s: %s\n", argv[0], strerror(errno));
		return CLI_EXIT_ERROR;
	}
	if (pid == 0) {
		if (fd >= 0 && dup2(fd, STDOUT_FILENO) < 0) {
			_exit(CLI_EXIT_ERROR);
		}
		execv(argv[0], (char *const *) argv); // execv does not change them
		fprintf(stderr, "faultline: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(CLI_EXIT_ERROR);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			return CLI_EXIT_ERROR;
		}
	}
	if (WIFEXITED(status)) {
		return WEXITSTATUS(status);
	}
	fprintf(stderr, "faultline: %s died (signal %d)\n", argv[0], WTERMSIG(status));
	return CLI_EXIT_ERROR;
}

// Runs the agent with stdout into a temporary file beside output, renamed over it only when
// the agent succeeded: a failed capture never leaves a half-written file behind.
static int
run_agent_to_file(const char *const *argv, const char *output)
{
	char tmp[PATH_MAX];
	int  fd, rc;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", output) >= (int) sizeof(tmp)) {
		fprintf(stderr, "faultline: %s: path too long\n", output);
		return CLI_EXIT_ERROR;
	}
	if ((fd = mkstemp(tmp)) < 0) {
		fprintf(stderr, "faultline: cannot write %s: %s\n", output, strerror(errno));
		return CLI_EXIT_ERROR;
	}
	fchmod(fd, 0644); // an expectations file is committed with the release, not a secret
	rc = run_agent(argv, fd);
	if (close(fd) != 0 && rc == 0) {
		fprintf(stderr, "faultline: cannot write %s: %s\n", output, strerror(errno));
		rc = CLI_EXIT_ERROR;
	}
	if (rc == 0 && rename(tmp, output) != 0) {
		fprintf(stderr, "faultline: cannot write %s: %s\n", output, strerror(errno));
		rc = CLI_EXIT_ERROR;
	}
	if (rc != 0) {
		unlink(tmp);
	}
	return rc;
}

#define CAPTURE_MAX_SCHEMAS 64

// expect capture: the database work happens in faultline-agent (which has the database
// clients and the config loader), so the CLI's package needs neither libpq nor libmariadb.
static int
cmd_capture(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "probe", required_argument, NULL, 'p' },
		{ "schema", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char        agent[PATH_MAX], err[256];
	const char *av[8 + 2 * CAPTURE_MAX_SCHEMAS];
	const char *config = "/etc/faultline/agent.conf", *probe = NULL, *output = NULL;
	const char *schemas[CAPTURE_MAX_SCHEMAS];
	size_t      n_schemas = 0;
	int         opt, k = 0;

	cli_opt_start();
	while ((opt = cli_opt_next(argc, argv, "c:o:h", longopts, err, sizeof(err))) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'p':
			probe = optarg;
			break;
		case 's':
			if (n_schemas == CAPTURE_MAX_SCHEMAS) {
				return cli_usage_error(
				    "expect capture", "at most %d --schema", CAPTURE_MAX_SCHEMAS);
			}
			schemas[n_schemas++] = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			fputs(cli_help_expect, stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("expect capture", "%s", err);
		}
	}
	if (optind < argc) {
		return cli_usage_error("expect capture", "unexpected argument %s", argv[optind]);
	}
	if (probe == NULL) {
		return cli_usage_error("expect capture",
		    "which probe? faultline expect capture -c agent.conf --probe NAME");
	}
	if (find_agent(agent, sizeof(agent)) != 0) {
		fprintf(stderr,
		    "faultline: faultline expect capture needs faultline-agent (package "
		    "faultline-agent)\n");
		return CLI_EXIT_ERROR;
	}
	av[k++] = agent;
	av[k++] = "-c";
	av[k++] = config;
	av[k++] = "--capture-expectations";
	av[k++] = probe;
	for (size_t i = 0; i < n_schemas; i++) {
		av[k++] = "--schema";
		av[k++] = schemas[i];
	}
	av[k] = NULL;
	fflush(stdout);
	return output != NULL ? run_agent_to_file(av, output) : run_agent(av, -1);
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
		return cli_usage_error(argv[0], "which subcommand? check, diff or capture");
	}
	sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		fputs(cli_help_expect, stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(sub, "check") != 0 && strcmp(sub, "diff") != 0 && strcmp(sub, "capture") != 0) {
		return cli_usage_error(
		    argv[0], "no subcommand named '%s' (check, diff or capture)", sub);
	}
	argc--;
	argv++; // argv[0] is now the subcommand
	if (strcmp(sub, "capture") == 0) {
		return cmd_capture(argc, argv);
	}
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
