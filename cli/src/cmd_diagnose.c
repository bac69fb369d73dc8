// cmd_diagnose.c - `faultline diagnose`: code, database or network, with the evidence.

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "fl/json.h"
#include "fl/names.h"
#include "fl/render_reply.h"
#include "fl/str.h"
#include "fl/time.h"

#include "args.h"
#include "cli.h"
#include "client.h"
#include "table.h"

const char cli_help_diagnose[] =
    "NAME\n"
    "    faultline diagnose - is it the code, a database, the network or a host?\n"
    "\n"
    "SYNOPSIS\n"
    "    faultline [-C URL] [--timeout D] diagnose [--json] [--host H] [--label KEY=VALUE]...\n"
    "\n"
    "DESCRIPTION\n"
    "    Asks the collector to correlate the latest probe results of every host with their\n"
    "    releases and history, and prints its verdict on the first line, in upper case,\n"
    "    followed by a one-line summary, e.g.\n"
    "\n"
    "      DATABASE: SELECT on public.orders revoked for role app — all 3 hosts since\n"
    "      02:13:05, release 2.4.0 unchanged\n"
    "\n"
    "    then each finding, most important first, with the hosts, targets and release it\n"
    "    concerns and the evidence it rests on. Verdicts: healthy, code (a release or a\n"
    "    missing migration), database, network, host (an agent stopped reporting), unknown.\n"
    "    A failure that looks like a symptom of another (an app failing because its database\n"
    "    is down) is folded into that finding rather than reported on its own.\n"
    "\n"
    "OPTIONS\n"
    "    --json      {\"verdict\",\"summary\",\"since\",\"findings\":[{\"verdict\",\"summary\",\n"
    "                \"hosts\":[],\"targets\":[],\"release\",\"evidence\":[],\"since\"}]}\n"
    "    --host H    only findings that concern host H\n"
    "    --label KEY=VALUE\n"
    "                correlate only the hosts carrying this label (repeatable: every one\n"
    "                must match): the other hosts do not feed the verdict at all, so\n"
    "                staging's fault does not colour production's diagnosis\n"
    "    -C URL      the collector's control URL (also a global option)\n"
    "    -h, --help  this text\n"
    "\n"
    "EXIT STATUS\n"
    "    0  healthy\n"
    "    1  a fault was found (code, database, network or host)\n"
    "    2  cannot tell: no data, verdict unknown, usage error, collector unreachable or\n"
    "       answering an error\n"
    "\n"
    "EXAMPLES\n"
    "    faultline diagnose\n"
    "    faultline diagnose --json | jq -r .verdict\n"
    "    faultline diagnose --label env=prod\n"
    "    faultline diagnose >/dev/null || page-oncall\n";

int
cli_diagnose_exit(const Fl__DiagnoseReply *r)
{
	switch (r->verdict) {
	case FL__VERDICT__VERDICT_HEALTHY:
		return CLI_EXIT_OK;
	case FL__VERDICT__VERDICT_CODE:
	case FL__VERDICT__VERDICT_DATABASE:
	case FL__VERDICT__VERDICT_NETWORK:
	case FL__VERDICT__VERDICT_HOST:
		return CLI_EXIT_FAILING;
	default:
		return CLI_EXIT_ERROR; // unknown: cannot tell
	}
}

static const char *
upper(Fl__Verdict v, char *buf, size_t len)
{
	const char *name = fl_verdict_name(v);
	size_t      i    = 0;
	for (; name[i] != '\0' && i + 1 < len; i++) {
		buf[i] = (char) toupper((unsigned char) name[i]);
	}
	buf[i] = '\0';
	return buf;
}

static const char *
colour_on(Fl__Verdict v, bool colour)
{
	if (!colour) {
		return "";
	}
	if (v == FL__VERDICT__VERDICT_HEALTHY) {
		return "\033[1;32m";
	}
	return v == FL__VERDICT__VERDICT_UNKNOWN ? "\033[1;33m" : "\033[1;31m";
}

// ": summary" after a verdict's name; nothing for an empty one. The collector does not repeat the
// verdict in the summary (it is a field of its own), so the text is printed as sent.
static void
summary_after_verdict(FILE *out, const char *summary)
{
	if (summary != NULL && summary[0] != '\0') {
		fprintf(out, ": %s", cli_esc(summary));
	}
}

static void
list(FILE *out, const char *label, char **items, size_t n)
{
	if (n == 0) {
		return;
	}
	fprintf(out, "   %-9s", label);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%s%s", i > 0 ? ", " : "", cli_esc(fl_str_or_empty(items[i])));
	}
	fputc('\n', out);
}

static void
since_line(FILE *out, int64_t since_us, int64_t now_us)
{
	char at[40], age[32];
	if (since_us == 0) {
		return;
	}
	fprintf(out, "   %-9s%s (%s ago)\n", "since:", fl_time_format(since_us, at, sizeof(at)),
	    cli_age_format(now_us - since_us, age, sizeof(age)));
}

void
cli_diagnose_headline(const Fl__DiagnoseReply *r, FILE *out, bool colour)
{
	char name[16];

	upper(r->verdict, name, sizeof(name));
	fprintf(out, "%s%s%s", colour_on(r->verdict, colour), name, colour ? "\033[0m" : "");
	summary_after_verdict(out, r->summary);
	fputc('\n', out);
}

int
cli_diagnose_print(const Fl__DiagnoseReply *r, FILE *out, bool colour)
{
	char    name[16];
	int64_t now = fl_now_us();

	cli_diagnose_headline(r, out, colour);
	for (size_t i = 0; i < r->n_findings; i++) {
		const Fl__Finding *f = r->findings[i];
		upper(f->verdict, name, sizeof(name));
		fprintf(out, "\n%zu. %s%s%s", i + 1, colour_on(f->verdict, colour), name,
		    colour ? "\033[0m" : "");
		summary_after_verdict(out, f->summary);
		fputc('\n', out);
		if (f->muted_by != 0) {
			fprintf(out, "   %-9snot notified (faultline mute --list: mute %llu)\n",
			    "MUTED:", (unsigned long long) f->muted_by);
		}
		list(out, "hosts:", f->hosts, f->n_hosts);
		list(out, "targets:", f->targets, f->n_targets);
		if (f->release != NULL && f->release[0] != '\0') {
			fprintf(out, "   %-9s%s\n", "release:", cli_esc(f->release));
		}
		since_line(out, f->since_us, now);
		if (f->n_evidence > 0) {
			fprintf(out, "   evidence:\n");
		}
		for (size_t k = 0; k < f->n_evidence; k++) {
			fprintf(out, "     - %s\n", cli_esc(fl_str_or_empty(f->evidence[k])));
		}
	}
	if (ferror(out)) {
		fprintf(stderr, "faultline: cannot write the diagnosis\n");
		return CLI_EXIT_ERROR;
	}
	return cli_diagnose_exit(r);
}

int
cli_diagnose_json(const Fl__DiagnoseReply *r, FILE *out, bool pretty)
{
	fl_json j;

	fl_json_init(&j, pretty);
	fl_render_diagnose_json(&j, r);
	if (cli_json_emit(&j, out) != 0) {
		return CLI_EXIT_ERROR;
	}
	return cli_diagnose_exit(r);
}

int
cli_cmd_diagnose(const cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_LONGOPTS_FILTER,
		CLI_LONGOPTS_BASE,
		{ NULL, 0, NULL, 0 },
	};
	Fl__Request       req   = FL__REQUEST__INIT;
	Fl__DiagnoseQuery query = FL__DIAGNOSE_QUERY__INIT;
	Fl__Response     *resp;
	cli_shared_opts   o;
	int               rc;

	rc = cli_parse_opts(argc, argv, longopts, cli_help_diagnose, NULL, NULL, false, &o);
	if (rc != CLI_GO_ON) {
		return rc;
	}
	cli_ctx c      = cli_ctx_with(ctx, &o);
	query.host     = (char *) fl_str_or_empty(o.host); // borrowed for the send only
	query.n_labels = o.labels.n;
	query.labels   = o.labels.v;
	req.query_case = FL__REQUEST__QUERY_DIAGNOSE;
	req.diagnose   = &query;
	if ((rc = cli_call(&c, &req, FL__RESPONSE__REPLY_DIAGNOSE, &resp)) != 0) {
		return rc;
	}
	rc = o.json ? cli_diagnose_json(resp->diagnose, stdout, c.pretty)
	            : cli_diagnose_print(resp->diagnose, stdout, c.colour);
	fl__response__free_unpacked(resp, NULL);
	return rc;
}
