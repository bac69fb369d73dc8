// cmd_probe_now.c - `faultline probe-now`: ask every agent to probe at once (collector side
// arrives with the survey work; until then the collector answers "not available yet").

#include <stdio.h>
#include <string.h>

#include "fl/json.h"
#include "fl/names.h"
#include "fl/render.h"
#include "fl/str.h"
#include "fl/time.h"

#include "args.h"
#include "cli.h"
#include "client.h"
#include "table.h"

#define DEFAULT_SURVEY_MS 3000
#define REPLY_MARGIN_MS   2000 // the collector answers after the survey closes

const char cli_help_probe_now[] =
    "NAME\n"
    "    faultline probe-now - make every agent probe now and wait for the results\n"
    "\n"
    "SYNOPSIS\n"
    "    faultline [-C URL] probe-now [--json] [--timeout D]\n"
    "\n"
    "DESCRIPTION\n"
    "    Asks the collector to survey every agent: each runs a round of probes at once and\n"
    "    answers. Prints the results of the agents that answered within the timeout and names\n"
    "    those that did not.\n"
    "\n"
    "OPTIONS\n"
    "    --timeout D  how long the agents get to answer (default 3s)\n"
    "    --json       {\"answered\":[],\"missing\":[],\"reports\":[{\"host\",\"release\",\n"
    "                 \"agent_version\",\"expectations_error\",\"results\":[...]}]}\n"
    "    -C URL       the collector's control URL (also a global option)\n"
    "    -h, --help   this text\n"
    "\n"
    "EXIT STATUS\n"
    "    0  every agent answered and no probe fails\n"
    "    1  an agent did not answer, a probe fails, or no agent is connected\n"
    "    2  usage error, collector unreachable or answering an error\n"
    "\n"
    "EXAMPLES\n"
    "    faultline probe-now --timeout 5s\n";

static int
verdict(const Fl__ProbeNowReply *r)
{
	// Nobody answered and nobody was expected: nothing was probed, which is not a pass.
	if (r->n_missing > 0 || (r->n_answered == 0 && r->n_reports == 0)) {
		return CLI_EXIT_FAILING;
	}
	for (size_t i = 0; i < r->n_reports; i++) {
		for (size_t k = 0; k < r->reports[i]->n_results; k++) {
			if (r->reports[i]->results[k]->status == FL__STATUS__STATUS_FAIL) {
				return CLI_EXIT_FAILING;
			}
		}
	}
	return CLI_EXIT_OK;
}

static int
print_json(const Fl__ProbeNowReply *r, FILE *out, bool pretty)
{
	fl_json j;

	fl_json_init(&j, pretty);
	fl_json_obj_begin(&j);
	fl_json_key(&j, "answered");
	fl_json_arr_begin(&j);
	for (size_t i = 0; i < r->n_answered; i++) {
		fl_json_str(&j, fl_str_or_empty(r->answered[i]));
	}
	fl_json_arr_end(&j);
	fl_json_key(&j, "missing");
	fl_json_arr_begin(&j);
	for (size_t i = 0; i < r->n_missing; i++) {
		fl_json_str(&j, fl_str_or_empty(r->missing[i]));
	}
	fl_json_arr_end(&j);
	fl_json_key(&j, "reports");
	fl_json_arr_begin(&j);
	for (size_t i = 0; i < r->n_reports; i++) {
		const Fl__Report *rep = r->reports[i];
		fl_json_obj_begin(&j);
		fl_json_kstr(&j, "host", fl_str_or_empty(rep->host));
		fl_json_kstr(&j, "release", fl_str_or_empty(rep->release));
		fl_json_kstr(&j, "agent_version", fl_str_or_empty(rep->agent_version));
		fl_json_kstr(&j, "expectations_error", fl_str_or_empty(rep->expectations_error));
		fl_json_key(&j, "results");
		fl_json_arr_begin(&j);
		for (size_t k = 0; k < rep->n_results; k++) {
			fl_render_probe_json(&j, rep->results[k]);
		}
		fl_json_arr_end(&j);
		fl_json_obj_end(&j);
	}
	fl_json_arr_end(&j);
	fl_json_obj_end(&j);
	return cli_json_emit(&j, out) == 0 ? verdict(r) : CLI_EXIT_ERROR;
}

static int
print_human(const Fl__ProbeNowReply *r, FILE *out, bool colour)
{
	cli_table *t = cli_table_new();
	char       lat[32];

	if (r->n_answered == 0 && r->n_reports == 0 && r->n_missing == 0) {
		cli_table_free(t);
		fprintf(out,
		    "no agent is connected to the collector's survey socket: nothing was "
		    "probed\n");
		return CLI_EXIT_FAILING;
	}
	if (t == NULL) {
		fprintf(stderr, "faultline: cannot format the results: out of memory\n");
		return CLI_EXIT_ERROR;
	}
	const char *head[] = { "HOST", "PROBE", "KIND", "STATUS", "FAILURE", "LATENCY", "DETAIL" };
	for (size_t i = 0; i < sizeof(head) / sizeof(head[0]); i++) {
		cli_table_cell(t, CLI_BOLD, "%s", head[i]);
	}
	cli_table_row_end(t);
	for (size_t i = 0; i < r->n_reports; i++) {
		for (size_t k = 0; k < r->reports[i]->n_results; k++) {
			const Fl__ProbeResult *p = r->reports[i]->results[k];
			cli_color              c = p->status == FL__STATUS__STATUS_FAIL ? CLI_RED
			                 : p->status == FL__STATUS__STATUS_WARN         ? CLI_YELLOW
			                                                                : CLI_GREEN;
			cli_table_cell(t, CLI_BOLD, "%s", fl_str_or_empty(r->reports[i]->host));
			cli_table_cell(t, CLI_PLAIN, "%s", fl_str_or_empty(p->name));
			cli_table_cell(t, CLI_PLAIN, "%s", fl_kind_name(p->kind));
			cli_table_cell(t, c, "%s", fl_status_name(p->status));
			cli_table_cell(t, c, "%s", fl_failure_name(p->failure));
			cli_table_cell(t, CLI_PLAIN, "%s",
			    fl_duration_format(p->duration_us, lat, sizeof(lat)));
			cli_table_cell(t, CLI_PLAIN, "%s", fl_str_or_empty(p->detail));
			cli_table_row_end(t);
		}
	}
	for (size_t i = 0; i < r->n_missing; i++) {
		cli_table_line(t, 0, CLI_RED, "%s: no answer", fl_str_or_empty(r->missing[i]));
	}
	int rc = cli_table_print(t, out, colour);
	cli_table_free(t);
	return rc == 0 ? verdict(r) : CLI_EXIT_ERROR;
}

// --timeout: how long agents get to answer.
static int
probe_now_opt(void *state, int opt, char *arg, const char *cmd)
{
	Fl__ProbeNowQuery *query = state;

	if (opt != 't') {
		return CLI_OPT_NOT_OWN;
	}
	if (fl_duration_parse(arg, &query->timeout_ms) != 0 || query->timeout_ms == 0 ||
	    query->timeout_ms > 600000) {
		return cli_usage_error(
		    cmd, "--timeout wants a duration from 1ms to 10m, not '%s'", arg);
	}
	return CLI_GO_ON;
}

int
cli_cmd_probe_now(const cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "timeout", required_argument, NULL, 't' },
		CLI_LONGOPTS_BASE,
		{ NULL, 0, NULL, 0 },
	};
	Fl__Request       req   = FL__REQUEST__INIT;
	Fl__ProbeNowQuery query = FL__PROBE_NOW_QUERY__INIT;
	Fl__Response     *resp;
	cli_shared_opts   o;
	int               rc;

	query.timeout_ms = DEFAULT_SURVEY_MS;
	rc               = cli_parse_opts(
	                  argc, argv, longopts, cli_help_probe_now, probe_now_opt, &query, false, &o);
	if (rc != CLI_GO_ON) {
		return rc;
	}
	cli_ctx c = cli_ctx_with(ctx, &o);
	if (c.timeout_ms < query.timeout_ms + REPLY_MARGIN_MS) {
		c.timeout_ms = query.timeout_ms + REPLY_MARGIN_MS;
	}
	req.query_case = FL__REQUEST__QUERY_PROBE_NOW;
	req.probe_now  = &query;
	if ((rc = cli_call(&c, &req, FL__RESPONSE__REPLY_PROBE_NOW, &resp)) != 0) {
		return rc;
	}
	rc = o.json ? print_json(resp->probe_now, stdout, c.pretty)
	            : print_human(resp->probe_now, stdout, c.colour);
	fl__response__free_unpacked(resp, NULL);
	return rc;
}
