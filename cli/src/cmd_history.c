// cmd_history.c - `faultline history`: the transitions the collector recorded, oldest first.

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl/cfg.h"
#include "fl/json.h"
#include "fl/names.h"
#include "fl/render_reply.h"
#include "fl/str.h"
#include "fl/time.h"

#include "args.h"
#include "cli.h"
#include "client.h"
#include "table.h"

const char cli_help_history[] =
    "NAME\n"
    "    faultline history - what changed, and when\n"
    "\n"
    "SYNOPSIS\n"
    "    faultline [-C URL] [--timeout D] history [--since WHEN] [--host H] [--limit N]\n"
    "        [--label KEY=VALUE]... [--json]\n"
    "\n"
    "DESCRIPTION\n"
    "    Prints the transitions the collector recorded, oldest first: a probe changing status\n"
    "    (status), a host deploying another release (release), a host going silent (stale) or\n"
    "    reporting again (back), a name a probe resolves getting another answer (dns:\n"
    "    \"db.internal moved from 10.0.0.5 to 10.0.0.9\"), the diagnosis changing (verdict), a\n"
    "    release verified (verification) and a host forgotten (forgotten: `faultline forget`,\n"
    "    or [collector] forget_after). Times are the collector's clock, in UTC.\n"
    "\n"
    "OPTIONS\n"
    "    --since WHEN  only events after WHEN: a duration back from now (90s, 15m, 1h, 2d) or\n"
    "                  an RFC 3339 time (2026-11-25T14:00:00Z); default: all the collector kept\n"
    "    --host H      only events of host H\n"
    "    --limit N     at most N events (the collector's default when not given)\n"
    "    --label KEY=VALUE\n"
    "                  only events of the hosts the collector now knows with this label\n"
    "                  (repeatable: every one must match); fleet-wide events (verdict,\n"
    "                  verification) and forgotten hosts are then left out\n"
    "    --json        "
    "{\"events\":[{\"at\",\"host\",\"kind\",\"probe\",\"from\",\"to\",\"failure\",\n"
    "                  \"detail\"}]}, oldest first\n"
    "    -C URL        the collector's control URL (also a global option)\n"
    "    -h, --help    this text\n"
    "\n"
    "EXIT STATUS\n"
    "    0  the history was printed (even when empty)\n"
    "    2  usage error, collector unreachable or answering an error\n"
    "\n"
    "EXAMPLES\n"
    "    faultline history --since 1h\n"
    "    faultline history --host app1 --since 2026-11-25T02:00:00Z\n"
    "    faultline history --json | jq '.events[] | select(.kind == \"verdict\")'\n";

static cli_color
change_colour(const Fl__HistoryEvent *e)
{
	const char     *to   = fl_str_or_empty(e->to);
	Fl__HistoryKind kind = e->kind_enum;
	if (kind == FL__HISTORY_KIND__HISTORY_KIND_STALE ||
	    kind == FL__HISTORY_KIND__HISTORY_KIND_FORGOTTEN || strcmp(to, "fail") == 0) {
		return CLI_RED;
	}
	if (strcmp(to, "warn") == 0) {
		return CLI_YELLOW;
	}
	if (kind == FL__HISTORY_KIND__HISTORY_KIND_BACK || strcmp(to, "ok") == 0 ||
	    strcmp(to, "healthy") == 0) {
		return CLI_GREEN;
	}
	if (kind == FL__HISTORY_KIND__HISTORY_KIND_VERDICT) {
		return CLI_RED; // any verdict but healthy names a fault
	}
	return CLI_PLAIN;
}

int
cli_history_print(const Fl__HistoryReply *r, FILE *out, bool colour)
{
	const Fl__HistoryEvent **v;
	cli_table               *t;
	char                     at[40];

	if (r->n_events == 0) {
		fprintf(out, "no events\n");
		return CLI_EXIT_OK;
	}
	if ((v = fl_history_sorted(r)) == NULL || (t = cli_table_new()) == NULL) {
		free(v);
		fprintf(stderr, "faultline: cannot format the history: out of memory\n");
		return CLI_EXIT_ERROR;
	}
	const char *head[] = { "AT", "HOST", "EVENT", "PROBE", "CHANGE", "FAILURE", "DETAIL" };
	for (size_t i = 0; i < sizeof(head) / sizeof(head[0]); i++) {
		cli_table_cell(t, CLI_BOLD, "%s", head[i]);
	}
	cli_table_row_end(t);
	for (size_t i = 0; i < r->n_events; i++) {
		const Fl__HistoryEvent *e = v[i];
		const char *from = fl_str_or_empty(e->from), *to = fl_str_or_empty(e->to);

		cli_table_cell(t, CLI_PLAIN, "%s", fl_time_format(e->at_us, at, sizeof(at)));
		cli_table_cell(t, CLI_BOLD, "%s", e->host != NULL && e->host[0] ? e->host : "-");
		cli_table_cell(t, CLI_PLAIN, "%s", fl_history_event_kind(e));
		cli_table_cell(
		    t, CLI_PLAIN, "%s", e->probe != NULL && e->probe[0] ? e->probe : "-");
		if (from[0] == '\0' && to[0] == '\0') {
			cli_table_cell(t, change_colour(e), "-");
		} else {
			cli_table_cell(
			    t, change_colour(e), "%s → %s", from[0] ? from : "-", to[0] ? to : "-");
		}
		cli_table_cell(t, CLI_PLAIN, "%s",
		    e->failure == FL__FAILURE_CLASS__FAILURE_NONE ? "-"
		                                                  : fl_failure_name(e->failure));
		cli_table_cell(t, CLI_PLAIN, "%s", fl_str_or_empty(e->detail));
		cli_table_row_end(t);
	}
	int rc = cli_table_print(t, out, colour);
	cli_table_free(t);
	free(v);
	if (rc != 0) {
		fprintf(stderr, "faultline: cannot write the history\n");
		return CLI_EXIT_ERROR;
	}
	return CLI_EXIT_OK;
}

int
cli_history_json(const Fl__HistoryReply *r, FILE *out, bool pretty)
{
	fl_json j;

	fl_json_init(&j, pretty);
	fl_render_history_json(&j, r);
	return cli_json_emit(&j, out) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
}

// --since and --limit into the query.
static int
history_opt(void *state, int opt, char *arg, const char *cmd)
{
	Fl__HistoryQuery *query = state;

	switch (opt) {
	case 's':
		if (cli_parse_since(arg, fl_now_us(), &query->since_us) != 0) {
			return cli_usage_error(cmd,
			    "--since wants a duration like 1h or 2d, or an RFC 3339 time like "
			    "2026-11-25T14:00:00Z, not '%s'",
			    arg);
		}
		return CLI_GO_ON;
	case 'n':
		if (fl_cfg_uint(arg, 1, 1000000, &query->limit) != 0) {
			return cli_usage_error(
			    cmd, "--limit wants a number from 1 to 1000000, not '%s'", arg);
		}
		return CLI_GO_ON;
	default:
		return CLI_OPT_NOT_OWN;
	}
}

int
cli_cmd_history(const cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'n' },
		CLI_LONGOPTS_FILTER,
		CLI_LONGOPTS_BASE,
		{ NULL, 0, NULL, 0 },
	};
	Fl__Request      req   = FL__REQUEST__INIT;
	Fl__HistoryQuery query = FL__HISTORY_QUERY__INIT;
	Fl__Response    *resp;
	cli_shared_opts  o;
	int              rc;

	rc = cli_parse_opts(argc, argv, longopts, cli_help_history, history_opt, &query, false, &o);
	if (rc != CLI_GO_ON) {
		return rc;
	}
	if (query.since_us < 0) {
		query.since_us = 0;
	}
	cli_ctx c      = cli_ctx_with(ctx, &o);
	query.host     = (char *) fl_str_or_empty(o.host); // borrowed for the send only
	query.n_labels = o.labels.n;
	query.labels   = o.labels.v;
	req.query_case = FL__REQUEST__QUERY_HISTORY;
	req.history    = &query;
	if ((rc = cli_call(&c, &req, FL__RESPONSE__REPLY_HISTORY, &resp)) != 0) {
		return rc;
	}
	rc = o.json ? cli_history_json(resp->history, stdout, c.pretty)
	            : cli_history_print(resp->history, stdout, c.colour);
	fl__response__free_unpacked(resp, NULL);
	return rc;
}
