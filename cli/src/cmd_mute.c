// cmd_mute.c - `faultline mute` and `faultline unmute`: mute notifications about a
// host or a target during planned work.

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl/json.h"
#include "fl/str.h"
#include "fl/text.h"
#include "fl/time.h"

#include "args.h"
#include "cli.h"
#include "client.h"

const char cli_help_mute[] =
    "NAME\n"
    "    faultline mute - mute notifications about a host or a target for a while\n"
    "\n"
    "SYNOPSIS\n"
    "    faultline [-C URL] mute (--host H | --target T) --for D --reason TEXT [--json]\n"
    "    faultline [-C URL] mute --list [--json]\n"
    "\n"
    "DESCRIPTION\n"
    "    During planned work, stops the collector from notifying (webhooks, Alertmanager)\n"
    "    findings about host H, or about target T (as diagnose --json lists a finding's\n"
    "    targets). A finding is muted when every one of its hosts is muted, or every one\n"
    "    of its targets: a fault that also hits another host is still notified. Muted\n"
    "    findings are still diagnosed; faultline diagnose shows them marked muted. A\n"
    "    mute is kept across collector restarts and ends by itself after D; faultline\n"
    "    unmute ID ends it before. Alertmanager users may prefer its own silences.\n"
    "\n"
    "OPTIONS\n"
    "    --host H       mute findings about host H\n"
    "    --target T     mute findings about target T\n"
    "    --for D        how long: whole s, m, h or d (30m, 2h, 1d), 1s to 30d\n"
    "    --reason TEXT  why (shown by mute --list; required)\n"
    "    --list         the active mutes: ID, what, until when, why\n"
    "    --json         {\"mutes\": [{\"id\",\"host\",\"target\",\"reason\",\"created\","
    "\"until\"}]}\n"
    "    -C URL         the collector's control URL (also a global option)\n"
    "    -h, --help     this text\n"
    "\n"
    "EXIT STATUS\n"
    "    0  muted (or listed)\n"
    "    2  usage error, collector unreachable or refusing the mute\n"
    "\n"
    "EXAMPLES\n"
    "    faultline mute --host app3 --for 30m --reason \"kernel upgrade\"\n"
    "    faultline mute --list\n"
    "    faultline unmute 4\n";

const char cli_help_unmute[] =
    "NAME\n"
    "    faultline unmute - end a mute before its time\n"
    "\n"
    "SYNOPSIS\n"
    "    faultline [-C URL] unmute [--json] ID\n"
    "\n"
    "DESCRIPTION\n"
    "    Ends mute ID (faultline mute --list shows the IDs): findings it covered are\n"
    "    notified again, once they have held for the collector's [notify] for.\n"
    "\n"
    "OPTIONS\n"
    "    --json      {\"unmuted\", \"mutes\": [the mute ended]}\n"
    "    -C URL      the collector's control URL (also a global option)\n"
    "    -h, --help  this text\n"
    "\n"
    "EXIT STATUS\n"
    "    0  the mute was ended\n"
    "    1  no active mute has that ID (it expired, or never was)\n"
    "    2  usage error, collector unreachable or answering an error\n"
    "\n"
    "EXAMPLES\n"
    "    faultline unmute 4\n";

// A mute's length: whole s, m, h or d units, 1 s to 30 days. Returns 0, or -1.
static int
parse_for(const char *text, uint32_t *secs)
{
	static const struct {
		char     unit;
		uint32_t secs;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
	char              *end;
	unsigned long long n;

	if (text[0] < '0' || text[0] > '9') {
		return -1;
	}
	errno = 0;
	n     = strtoull(text, &end, 10);
	if (errno != 0 || n == 0 || end[0] == '\0' || end[1] != '\0') {
		return -1;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (end[0] == units[i].unit) {
			if (n > 30ULL * 86400 / units[i].secs) {
				return -1;
			}
			*secs = (uint32_t) n * units[i].secs;
			return 0;
		}
	}
	return -1;
}

static void
mutes_json(fl_json *j, const Fl__MuteReply *r)
{
	fl_json_key(j, "mutes");
	fl_json_arr_begin(j);
	for (size_t i = 0; i < r->n_mutes; i++) {
		const Fl__Mute *m = r->mutes[i];
		fl_json_obj_begin(j);
		fl_json_kuint(j, "id", m->id);
		fl_json_kstr(j, "host", fl_str_or_empty(m->host));
		fl_json_kstr(j, "target", fl_str_or_empty(m->target));
		fl_json_kstr(j, "reason", fl_str_or_empty(m->reason));
		fl_json_ktime(j, "created", m->created_us);
		fl_json_ktime(j, "until", m->until_us);
		fl_json_obj_end(j);
	}
	fl_json_arr_end(j);
}

// "host app1" or "target db:5432", escaped for a terminal, into buf.
static const char *
what(const Fl__Mute *m, char *buf, size_t len)
{
	char name[600];
	fl_text_escape(
	    name, sizeof(name), fl_str_or_empty(m->host)[0] ? m->host : fl_str_or_empty(m->target));
	snprintf(buf, len, "%s %s", fl_str_or_empty(m->host)[0] ? "host" : "target", name);
	return buf;
}

static void
list_print(const Fl__MuteReply *r, FILE *out)
{
	char until[40], w[640], reason[600];
	if (r->n_mutes == 0) {
		fprintf(out, "no active mute\n");
		return;
	}
	fprintf(out, "%-6s %-32s %-24s %s\n", "ID", "MUTED", "UNTIL", "REASON");
	for (size_t i = 0; i < r->n_mutes; i++) {
		const Fl__Mute *m = r->mutes[i];
		fprintf(out, "%-6llu %-32s %-24s %s\n", (unsigned long long) m->id,
		    what(m, w, sizeof(w)), fl_time_format(m->until_us, until, sizeof(until)),
		    fl_text_escape(reason, sizeof(reason), fl_str_or_empty(m->reason)));
	}
}

// Sends req and prints the MuteReply. kind: 'a' added, 'l' list, 'u' unmuted.
static int
mute_call(const cli_ctx *c, Fl__Request *req, int kind, bool json)
{
	Fl__Response *resp;
	int           rc;
	char          until[40], w[640];

	if ((rc = cli_call(c, req, FL__RESPONSE__REPLY_MUTE, &resp)) != 0) {
		return rc;
	}
	const Fl__MuteReply *r = resp->mute; // present: cli_call checked the reply
	if (kind == 'a' && r->n_mutes != 1) {
		fprintf(stderr, "faultline: the collector sent an empty reply\n");
		fl__response__free_unpacked(resp, NULL);
		return CLI_EXIT_ERROR;
	}
	rc = kind == 'u' && !r->found ? CLI_EXIT_FAILING : CLI_EXIT_OK;
	if (json) {
		fl_json j;
		fl_json_init(&j, c->pretty);
		fl_json_obj_begin(&j);
		if (kind == 'u') {
			fl_json_kbool(&j, "unmuted", r->found);
		}
		mutes_json(&j, r);
		fl_json_obj_end(&j);
		if (cli_json_emit(&j, stdout) != 0) {
			rc = CLI_EXIT_ERROR;
		}
	} else if (kind == 'l') {
		list_print(r, stdout);
	} else if (kind == 'a') {
		printf("muted %s until %s (mute %llu): not notified, still diagnosed\n",
		    what(r->mutes[0], w, sizeof(w)),
		    fl_time_format(r->mutes[0]->until_us, until, sizeof(until)),
		    (unsigned long long) r->mutes[0]->id);
	} else if (r->found && r->n_mutes == 1) {
		printf("unmuted %llu (%s)\n", (unsigned long long) r->mutes[0]->id,
		    what(r->mutes[0], w, sizeof(w)));
	} else {
		printf("no active mute with that id: nothing to unmute\n");
	}
	fl__response__free_unpacked(resp, NULL);
	return rc;
}

// mute's own options (cli_own_opt_fn).
typedef struct mute_opts {
	const char *target, *reason, *dur;
	bool        list;
} mute_opts;

enum { OPT_TARGET = 'T', OPT_FOR = 'F', OPT_REASON = 'R', OPT_LIST = 'l' };

static int
mute_own(void *state, int opt, char *arg, const char *cmd)
{
	mute_opts *m = state;
	(void) cmd;
	switch (opt) {
	case OPT_TARGET:
		m->target = arg;
		return CLI_GO_ON;
	case OPT_FOR:
		m->dur = arg;
		return CLI_GO_ON;
	case OPT_REASON:
		m->reason = arg;
		return CLI_GO_ON;
	case OPT_LIST:
		m->list = true;
		return CLI_GO_ON;
	default:
		return CLI_OPT_NOT_OWN;
	}
}

int
cli_cmd_mute(const cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_LONGOPTS_BASE,
		{ "host", required_argument, NULL, CLI_OPT_HOST },
		{ "target", required_argument, NULL, OPT_TARGET },
		{ "for", required_argument, NULL, OPT_FOR },
		{ "reason", required_argument, NULL, OPT_REASON },
		{ "list", no_argument, NULL, OPT_LIST },
		{ NULL, 0, NULL, 0 },
	};
	Fl__Request     req   = FL__REQUEST__INIT;
	Fl__MuteQuery   query = FL__MUTE_QUERY__INIT;
	mute_opts       m     = { 0 };
	cli_shared_opts o;
	uint32_t        secs = 0;
	int             rc;

	rc = cli_parse_opts(argc, argv, longopts, cli_help_mute, mute_own, &m, false, &o);
	if (rc != CLI_GO_ON) {
		return rc;
	}
	const char *host = o.host;
	if (m.list && (host || m.target || m.dur || m.reason)) {
		return cli_usage_error(
		    argv[0], "--list takes no --host, --target, --for or --reason");
	}
	if (!m.list) {
		if ((host == NULL) == (m.target == NULL)) {
			return cli_usage_error(argv[0], "mute what? give --host H or --target T");
		}
		if (m.dur == NULL || parse_for(m.dur, &secs) != 0) {
			return cli_usage_error(argv[0],
			    "--for: how long, in whole s, m, h or d from 1s to 30d (30m, 2h)");
		}
		if (m.reason == NULL || m.reason[0] == '\0') {
			return cli_usage_error(argv[0], "--reason: say why (shown by mute --list)");
		}
	}
	cli_ctx c      = cli_ctx_with(ctx, &o);
	query.list     = m.list;
	query.host     = (char *) fl_str_or_empty(host); // borrowed for the send only
	query.target   = (char *) fl_str_or_empty(m.target);
	query.for_s    = secs;
	query.reason   = (char *) fl_str_or_empty(m.reason);
	req.query_case = FL__REQUEST__QUERY_MUTE;
	req.mute       = &query;
	return mute_call(&c, &req, m.list ? 'l' : 'a', o.json);
}

int
cli_cmd_unmute(const cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_LONGOPTS_BASE,
		{ NULL, 0, NULL, 0 },
	};
	Fl__Request     req   = FL__REQUEST__INIT;
	Fl__UnmuteQuery query = FL__UNMUTE_QUERY__INIT;
	cli_shared_opts o;
	char           *end;
	int             rc;

	rc = cli_parse_opts(argc, argv, longopts, cli_help_unmute, NULL, NULL, true, &o);
	if (rc != CLI_GO_ON) {
		return rc;
	}
	if (optind + 1 != argc) {
		return cli_usage_error(argv[0], "which mute? faultline unmute ID (mute --list)");
	}
	errno    = 0;
	query.id = strtoull(argv[optind], &end, 10);
	if (errno != 0 || *end != '\0' || query.id == 0 || argv[optind][0] < '0' ||
	    argv[optind][0] > '9') {
		return cli_usage_error(argv[0], "'%s' is not a mute id (a number)", argv[optind]);
	}
	cli_ctx c      = cli_ctx_with(ctx, &o);
	req.query_case = FL__REQUEST__QUERY_UNMUTE;
	req.unmute     = &query;
	return mute_call(&c, &req, 'u', o.json);
}
