// cmd_forget.c - `faultline forget HOST`: the collector stops tracking a host (one
// retired for good, so that its silence stops counting in the verdict).

#include <stdio.h>
#include <string.h>

#include "fl/json.h"
#include "fl/time.h"

#include "args.h"
#include "cli.h"
#include "client.h"

const char cli_help_forget[] =
    "NAME\n"
    "    faultline forget - stop tracking a host (decommissioned, renamed)\n"
    "\n"
    "SYNOPSIS\n"
    "    faultline [-C URL] [--timeout D] forget [--json] HOST\n"
    "\n"
    "DESCRIPTION\n"
    "    Removes HOST from the collector's state: it no longer appears in status or hosts\n"
    "    and no longer feeds the verdict (a silent host is a HOST finding until it is\n"
    "    forgotten). Its history stays, with a \"forgotten\" event recording when. If the\n"
    "    host reports again, it comes back as a new host. The collector can forget silent\n"
    "    hosts by itself: [collector] forget_after = 7d.\n"
    "\n"
    "    This is the only command that changes the collector's state: anyone who may use\n"
    "    the control socket may forget hosts (ipc:// socket file permissions, or a client\n"
    "    certificate on tls+tcp://; see docs/security.md).\n"
    "\n"
    "OPTIONS\n"
    "    --json      {\"host\",\"forgotten\",\"last_seen\",\"stale\",\"probes\"}\n"
    "    -C URL      the collector's control URL (also a global option)\n"
    "    -h, --help  this text\n"
    "\n"
    "EXIT STATUS\n"
    "    0  the host was forgotten\n"
    "    1  the collector knows no such host (nothing changed)\n"
    "    2  usage error, collector unreachable or answering an error\n"
    "\n"
    "EXAMPLES\n"
    "    faultline forget app7\n"
    "    faultline hosts --json | jq -r '.hosts[] | select(.stale) | .host' |\n"
    "        xargs -n1 faultline forget\n";

int
cli_forget_print(const Fl__ForgetReply *r, FILE *out)
{
	char when[40], age[32];
	if (!r->found) {
		fprintf(
		    out, "the collector knows no host named '%s': nothing to forget\n", r->host);
		return CLI_EXIT_FAILING;
	}
	fprintf(out, "forgot %s (%s, last seen %s, %s ago; %u probe%s); its history is kept\n",
	    r->host, r->stale ? "silent" : "still reporting: it will come back at its next report",
	    r->last_seen_us ? fl_time_format(r->last_seen_us, when, sizeof(when)) : "never",
	    cli_age_format(fl_now_us() - r->last_seen_us, age, sizeof(age)), r->probes,
	    r->probes == 1 ? "" : "s");
	return CLI_EXIT_OK;
}

int
cli_forget_json(const Fl__ForgetReply *r, FILE *out, bool pretty)
{
	fl_json j;
	fl_json_init(&j, pretty);
	fl_json_obj_begin(&j);
	fl_json_kstr(&j, "host", r->host);
	fl_json_kbool(&j, "forgotten", r->found);
	fl_json_ktime(&j, "last_seen", r->found ? r->last_seen_us : 0);
	fl_json_kbool(&j, "stale", r->stale);
	fl_json_kuint(&j, "probes", r->probes);
	fl_json_obj_end(&j);
	if (cli_json_emit(&j, out) != 0) {
		return CLI_EXIT_ERROR;
	}
	return r->found ? CLI_EXIT_OK : CLI_EXIT_FAILING;
}

int
cli_cmd_forget(const cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_LONGOPTS_BASE,
		{ NULL, 0, NULL, 0 },
	};
	Fl__Request     req   = FL__REQUEST__INIT;
	Fl__ForgetQuery query = FL__FORGET_QUERY__INIT;
	Fl__Response   *resp;
	cli_shared_opts o;
	int             rc;

	rc = cli_parse_opts(argc, argv, longopts, cli_help_forget, NULL, NULL, true, &o);
	if (rc != CLI_GO_ON) {
		return rc;
	}
	if (optind >= argc) {
		return cli_usage_error(argv[0], "which host? faultline forget HOST");
	}
	if (optind + 1 < argc) {
		return cli_usage_error(argv[0], "one host at a time, not '%s'", argv[optind + 1]);
	}
	if (argv[optind][0] == '\0' || strlen(argv[optind]) > 255) {
		return cli_usage_error(argv[0], "a host name is 1 to 255 characters");
	}
	cli_ctx c      = cli_ctx_with(ctx, &o);
	query.host     = argv[optind]; // borrowed for the send only
	req.query_case = FL__REQUEST__QUERY_FORGET;
	req.forget     = &query;
	if ((rc = cli_call(&c, &req, FL__RESPONSE__REPLY_FORGET, &resp)) != 0) {
		return rc;
	}
	rc = o.json ? cli_forget_json(resp->forget, stdout, c.pretty)
	            : cli_forget_print(resp->forget, stdout);
	fl__response__free_unpacked(resp, NULL);
	return rc;
}
