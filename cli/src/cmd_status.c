// cmd_status.c - `faultline status` and `faultline hosts`: the collector's current view.

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl/json.h"
#include "fl/names.h"
#include "fl/render.h"
#include "fl/render_reply.h"
#include "fl/str.h"
#include "fl/time.h"
#include "fl/unmet.h"

#include "args.h"
#include "cli.h"
#include "client.h"
#include "table.h"

// A clock skew above this is shown: agents' timestamps are then misleading evidence.
#define SKEW_SHOWN_US 2000000

const char cli_help_status[] =
    "NAME\n"
    "    faultline status - every host and the latest result of each of its probes\n"
    "\n"
    "SYNOPSIS\n"
    "    faultline [-C URL] [--timeout D] status [--json] [--host H] [--label KEY=VALUE]...\n"
    "\n"
    "DESCRIPTION\n"
    "    Asks the collector for its current view and prints one row per probe: host,\n"
    "    release, time since the host's last report, probe name and kind, status (ok, warn,\n"
    "    fail), failure class (dns, refused, timeout, http_5xx, privilege_missing, ...),\n"
    "    latency and the probe's detail. A host that sent nothing for 3 of its intervals is\n"
    "    marked STALE. Requirements of the release that a database does not meet are listed\n"
    "    under their probe (\"missing: SELECT on public.orders for role app\"); a clock skew\n"
    "    above 2 s between agent and collector and an unreadable expectations file are shown\n"
    "    under their host, and so are the host's labels (the agent's `labels`). A probe\n"
    "    still running (a hung target) shows its last result with \"(in progress 2.1s)\".\n"
    "    Senders whose reports the collector refuses are listed after the table (\"refused\n"
    "    reports from web02: 30 ...\"), and lost writes to a full disk are reported. Text\n"
    "    from agents is shown with control and bidi characters escaped. Colour is used\n"
    "    only when stdout is a terminal and NO_COLOR is not set.\n"
    "\n"
    "OPTIONS\n"
    "    --json      print the public JSON shape instead (see README, \"JSON output\"):\n"
    "                "
    "{\"now\",\"hosts\":[{\"host\",\"release\",...,\"probes\":[...]}],\"stats\":{...}}\n"
    "    --host H    only host H\n"
    "    --label KEY=VALUE\n"
    "                only the hosts carrying this label (repeatable: every one must match);\n"
    "                the collector filters, so the reply holds only those hosts\n"
    "    -C URL      the collector's control URL (also a global option)\n"
    "    -h, --help  this text\n"
    "\n"
    "EXIT STATUS\n"
    "    0  every probe is ok or warn and no host is stale\n"
    "    1  a probe fails or a host is stale\n"
    "    2  usage error, unknown host, collector unreachable or answering an error\n"
    "\n"
    "EXAMPLES\n"
    "    faultline status\n"
    "    faultline status --host app1\n"
    "    faultline status --label env=prod --label service=orders\n"
    "    faultline status --json | jq '.hosts[] | select(.stale)'\n";

const char cli_help_hosts[] =
    "NAME\n"
    "    faultline hosts - one line per host\n"
    "\n"
    "SYNOPSIS\n"
    "    faultline [-C URL] [--timeout D] hosts [--json] [--label KEY=VALUE]...\n"
    "\n"
    "DESCRIPTION\n"
    "    Lists every host the collector knows: its release, the time since its last report,\n"
    "    whether it is stale (silent for 3 of its intervals), how many of its probes fail and\n"
    "    its labels.\n"
    "\n"
    "OPTIONS\n"
    "    --json      "
    "{\"hosts\":[{\"host\",\"release\",\"last_seen\",\"stale\",\"probes_failing\",\"labels\"}]}\n"
    "    --label KEY=VALUE\n"
    "                only the hosts carrying this label (repeatable: every one must match)\n"
    "    -C URL      the collector's control URL (also a global option)\n"
    "    -h, --help  this text\n"
    "\n"
    "EXIT STATUS\n"
    "    0  no probe fails and no host is stale\n"
    "    1  a probe fails or a host is stale\n"
    "    2  usage error, collector unreachable or answering an error\n"
    "\n"
    "EXAMPLES\n"
    "    faultline hosts\n"
    "    faultline hosts --json | jq -r '.hosts[] | select(.probes_failing > 0) | .host'\n"
    "    faultline hosts --label env=staging\n";

static const char *
dash(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : "-";
}

// "env=prod, service=orders", or "-" for none.
static const char *
labels_text(const Fl__HostState *h, char *buf, size_t len)
{
	size_t used = 0;
	buf[0]      = '\0';
	for (size_t i = 0; i < h->n_labels && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s", i > 0 ? ", " : "", h->labels[i]);
		used += n > 0 ? (size_t) n : 0;
	}
	return buf[0] != '\0' ? buf : "-";
}

static cli_color
status_colour(Fl__Status s)
{
	switch (s) {
	case FL__STATUS__STATUS_OK:
		return CLI_GREEN;
	case FL__STATUS__STATUS_WARN:
		return CLI_YELLOW;
	case FL__STATUS__STATUS_FAIL:
		return CLI_RED;
	default:
		return CLI_PLAIN;
	}
}

int
cli_status_exit(const Fl__StatusReply *r)
{
	for (size_t i = 0; i < r->n_hosts; i++) {
		if (r->hosts[i]->stale || fl_host_probes_failing(r->hosts[i]) > 0) {
			return CLI_EXIT_FAILING;
		}
	}
	return CLI_EXIT_OK;
}

static int64_t
reply_now(const Fl__StatusReply *r)
{
	return r->now_us != 0 ? r->now_us : fl_now_us();
}

static const char *
seen(const Fl__HostState *h, int64_t now, char *buf, size_t len)
{
	char age[32];
	if (h->last_seen_us == 0) {
		snprintf(buf, len, "never");
	} else {
		snprintf(
		    buf, len, "%s ago", cli_age_format(now - h->last_seen_us, age, sizeof(age)));
	}
	return buf;
}

// "missing: SELECT on public.orders for role app" or "missing: column public.orders.discount_code".
static void
unmet_line(cli_table *t, size_t col, const Fl__UnmetRequirement *u)
{
	char phrase[FL_UNMET_PHRASE_MAX];
	cli_table_line(t, col, CLI_RED, "  missing: %s",
	    fl_unmet_phrase(u, FL_UNMET_NEEDED, phrase, sizeof(phrase)));
}

enum { COL_HOST, COL_RELEASE, COL_SEEN, COL_PROBE };

static void
host_rows(cli_table *t, const Fl__HostState *h, int64_t now)
{
	char      when[48], lat[32], skew[32];
	cli_color seen_colour = h->stale ? CLI_RED : CLI_PLAIN;

	seen(h, now, when, sizeof(when));
	if (h->stale) {
		strncat(when, " STALE", sizeof(when) - strlen(when) - 1);
	}
	if (h->n_probes == 0) {
		cli_table_cell(t, CLI_BOLD, "%s", fl_str_or_empty(h->host));
		cli_table_cell(t, CLI_PLAIN, "%s", dash(h->release));
		cli_table_cell(t, seen_colour, "%s", when);
		cli_table_cell(t, CLI_PLAIN, "-");
		cli_table_cell(t, CLI_PLAIN, "-");
		cli_table_cell(t, CLI_PLAIN, "-");
		cli_table_cell(t, CLI_PLAIN, "-");
		cli_table_cell(t, CLI_PLAIN, "-");
		cli_table_cell(t, CLI_PLAIN, "no probe results yet");
		cli_table_row_end(t);
	}
	for (size_t i = 0; i < h->n_probes; i++) {
		const Fl__ProbeResult *p = h->probes[i];
		cli_color              c = status_colour(p->status);

		cli_table_cell(t, CLI_BOLD, "%s", fl_str_or_empty(h->host));
		cli_table_cell(t, CLI_PLAIN, "%s", dash(h->release));
		cli_table_cell(t, seen_colour, "%s", when);
		cli_table_cell(t, CLI_PLAIN, "%s", fl_str_or_empty(p->name));
		cli_table_cell(t, CLI_PLAIN, "%s", fl_kind_name(p->kind));
		cli_table_cell(t, c, "%s", fl_status_name(p->status));
		cli_table_cell(t, c, "%s",
		    p->failure == FL__FAILURE_CLASS__FAILURE_NONE ? "-"
		                                                  : fl_failure_name(p->failure));
		if (p->duration_us == 0 && p->status == FL__STATUS__STATUS_UNKNOWN) {
			cli_table_cell(t, CLI_PLAIN, "-");
		} else {
			cli_table_cell(t, CLI_PLAIN, "%s",
			    fl_duration_format(p->duration_us, lat, sizeof(lat)));
		}
		if (p->in_progress_ms != 0) {
			cli_table_cell(t, CLI_PLAIN, "(in progress %.1fs) %s",
			    (double) p->in_progress_ms / 1000.0, fl_str_or_empty(p->detail));
		} else {
			cli_table_cell(t, CLI_PLAIN, "%s", fl_str_or_empty(p->detail));
		}
		cli_table_row_end(t);
		for (size_t k = 0; k < p->n_unmet; k++) {
			unmet_line(t, COL_PROBE, p->unmet[k]);
		}
	}
	if (h->clock_skew_us > SKEW_SHOWN_US || h->clock_skew_us < -SKEW_SHOWN_US) {
		cli_table_line(t, COL_PROBE, CLI_YELLOW,
		    "  clock skew %s: the agent's clock is %s the collector's; its timestamps are "
		    "off",
		    cli_skew_format(h->clock_skew_us, skew, sizeof(skew)),
		    h->clock_skew_us > 0 ? "ahead of" : "behind");
	}
	if (h->expectations_error != NULL && h->expectations_error[0] != '\0') {
		cli_table_line(t, COL_PROBE, CLI_RED, "  expectations: %s", h->expectations_error);
	}
	if (h->n_labels > 0) {
		char buf[FL_LABELS_MAX * FL_LABEL_LEN];
		cli_table_line(
		    t, COL_PROBE, CLI_PLAIN, "  labels: %s", labels_text(h, buf, sizeof(buf)));
	}
}

// One line naming what the collector dropped, only when it dropped something.
static void
stats_line(const Fl__CollectorStats *s, FILE *out)
{
	const struct {
		const char *name;
		uint64_t    n;
	} why[] = {
		{ "undecodable", s != NULL ? s->dropped_undecodable : 0 },
		{ "wrong schema", s != NULL ? s->dropped_schema : 0 },
		{ "oversize", s != NULL ? s->dropped_oversize : 0 },
		{ "invalid", s != NULL ? s->dropped_invalid : 0 },
		{ "duplicate", s != NULL ? s->dropped_duplicate : 0 },
		{ "overload", s != NULL ? s->dropped_overload : 0 },
		{ "unauthenticated", s != NULL ? s->dropped_unauthenticated : 0 },
		{ "over max_hosts", s != NULL ? s->dropped_host_limit : 0 },
		{ "over max_probes_per_host", s != NULL ? s->dropped_probe_limit : 0 },
	};
	uint64_t    dropped = 0;
	const char *sep     = ": ";

	if (s != NULL && (s->history_events_lost > 0 || s->state_writes_lost > 0)) {
		fprintf(out,
		    "collector could not write %llu history events and %llu state rows to its "
		    "database (disk full?): history has gaps\n",
		    (unsigned long long) s->history_events_lost,
		    (unsigned long long) s->state_writes_lost);
	}
	for (size_t i = 0; i < sizeof(why) / sizeof(why[0]); i++) {
		dropped += why[i].n;
	}
	if (dropped == 0) {
		return;
	}
	fprintf(out, "collector dropped %llu of %llu reports", (unsigned long long) dropped,
	    (unsigned long long) s->reports_received);
	for (size_t i = 0; i < sizeof(why) / sizeof(why[0]); i++) {
		if (why[i].n > 0) {
			fprintf(out, "%s%llu %s", sep, (unsigned long long) why[i].n, why[i].name);
			sep = ", ";
		}
	}
	fputc('\n', out);
}

// Senders whose reports the collector refuses (they may have no host row at all): one line
// each, the most recent first, at most REJECTED_SHOWN.
#define REJECTED_SHOWN 10

static void
rejected_lines(const Fl__StatusReply *r, FILE *out)
{
	char when[40];
	for (size_t i = 0; i < r->n_rejected_senders && i < REJECTED_SHOWN; i++) {
		const Fl__RejectedSender *s = r->rejected_senders[i];
		fprintf(out, "refused reports from %s: %llu, last at %s (%s: %s)\n",
		    cli_esc(s->host[0] != '\0' ? s->host : "(no name)"),
		    (unsigned long long) s->count,
		    fl_time_format(s->last_at_us, when, sizeof(when)),
		    cli_esc(fl_str_or_empty(s->last_kind)),
		    cli_esc(fl_str_or_empty(s->last_reason)));
	}
	if (r->n_rejected_senders > REJECTED_SHOWN) {
		fprintf(out, "refused reports from %zu more senders (see --json)\n",
		    r->n_rejected_senders - REJECTED_SHOWN);
	}
}

// The last verification of each release (post-release verification, docs/verify.md).
static void
verifications_lines(const Fl__StatusReply *r, FILE *out)
{
	char when[40];
	for (size_t i = 0; i < r->n_verifications; i++) {
		const Fl__ReleaseVerification *v = r->verifications[i];
		fprintf(out, "release %s: %s (%s%s check, %s): %s\n", cli_esc(v->release),
		    cli_esc(v->result), cli_esc(v->kind), v->automatic ? " automatic" : "",
		    fl_time_format(v->at_us, when, sizeof(when)), cli_esc(v->detail));
	}
}

int
cli_status_print(const Fl__StatusReply *r, FILE *out, bool colour)
{
	cli_table *t;
	int64_t    now   = reply_now(r);
	size_t     stale = 0, n[4] = { 0 }, total = 0;

	if (r->n_hosts == 0) {
		fprintf(out, "no host has reported to this collector yet\n");
		stats_line(r->stats, out);
		rejected_lines(r, out);
		return CLI_EXIT_OK;
	}
	if ((t = cli_table_new()) == NULL) {
		fprintf(stderr, "faultline: cannot format the status: out of memory\n");
		return CLI_EXIT_ERROR;
	}
	const char *head[] = { "HOST", "RELEASE", "LAST SEEN", "PROBE", "KIND", "STATUS", "FAILURE",
		"LATENCY", "DETAIL" };
	for (size_t i = 0; i < sizeof(head) / sizeof(head[0]); i++) {
		cli_table_cell(t, CLI_BOLD, "%s", head[i]);
	}
	cli_table_row_end(t);
	for (size_t i = 0; i < r->n_hosts; i++) {
		const Fl__HostState *h = r->hosts[i];
		host_rows(t, h, now);
		stale += h->stale;
		for (size_t k = 0; k < h->n_probes; k++) {
			unsigned s = (unsigned) h->probes[k]->status;
			n[s < 4 ? s : 0]++;
			total++;
		}
	}
	if (cli_table_print(t, out, colour) != 0) {
		cli_table_free(t);
		fprintf(stderr, "faultline: cannot write the status\n");
		return CLI_EXIT_ERROR;
	}
	cli_table_free(t);
	fprintf(out, "\n%zu host%s (%zu stale), %zu probe%s: %zu ok, %zu warn, %zu fail",
	    r->n_hosts, r->n_hosts == 1 ? "" : "s", stale, total, total == 1 ? "" : "s",
	    n[FL__STATUS__STATUS_OK], n[FL__STATUS__STATUS_WARN], n[FL__STATUS__STATUS_FAIL]);
	if (n[FL__STATUS__STATUS_UNKNOWN] > 0) {
		fprintf(out, ", %zu unknown", n[FL__STATUS__STATUS_UNKNOWN]);
	}
	fputc('\n', out);
	verifications_lines(r, out);
	stats_line(r->stats, out);
	rejected_lines(r, out);
	return cli_status_exit(r);
}

// The distinct probe names of r, in order of first appearance; the caller frees the array
// (the names are borrowed from r). NULL when out of memory.
static const char **
probe_names(const Fl__StatusReply *r, size_t *n_out)
{
	size_t       cap = 0, n = 0;
	const char **v;

	for (size_t i = 0; i < r->n_hosts; i++) {
		cap += r->hosts[i]->n_probes;
	}
	if ((v = malloc((cap + 1) * sizeof(*v))) == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < r->n_hosts; i++) {
		for (size_t k = 0; k < r->hosts[i]->n_probes; k++) {
			const char *name = fl_str_or_empty(r->hosts[i]->probes[k]->name);
			size_t      j    = 0;
			while (j < n && strcmp(v[j], name) != 0) {
				j++;
			}
			if (j == n) {
				v[n++] = name;
			}
		}
	}
	*n_out = n;
	return v;
}

static const Fl__ProbeResult *
probe_named(const Fl__HostState *h, const char *name)
{
	for (size_t i = 0; i < h->n_probes; i++) {
		if (strcmp(fl_str_or_empty(h->probes[i]->name), name) == 0) {
			return h->probes[i];
		}
	}
	return NULL;
}

static void
grid_cell(cli_table *t, const Fl__ProbeResult *p)
{
	if (p == NULL) {
		cli_table_cell(t, CLI_PLAIN, "-");
	} else if (p->failure == FL__FAILURE_CLASS__FAILURE_NONE) {
		cli_table_cell(t, status_colour(p->status), "%s", fl_status_name(p->status));
	} else {
		cli_table_cell(t, status_colour(p->status), "%s/%s", fl_status_name(p->status),
		    fl_failure_name(p->failure));
	}
}

int
cli_status_grid_print(const Fl__StatusReply *r, FILE *out, bool colour)
{
	cli_table   *t     = cli_table_new();
	size_t       n     = 0;
	const char **names = probe_names(r, &n);
	int64_t      now   = reply_now(r);
	char         when[48];
	int          rc;

	if (t == NULL || names == NULL) {
		cli_table_free(t);
		free(names);
		return CLI_EXIT_ERROR;
	}
	cli_table_cell(t, CLI_BOLD, "HOST");
	cli_table_cell(t, CLI_BOLD, "RELEASE");
	cli_table_cell(t, CLI_BOLD, "LAST SEEN");
	for (size_t k = 0; k < n; k++) {
		cli_table_cell(t, CLI_BOLD, "%s", names[k]);
	}
	cli_table_row_end(t);
	for (size_t i = 0; i < r->n_hosts; i++) {
		const Fl__HostState *h = r->hosts[i];
		seen(h, now, when, sizeof(when));
		if (h->stale) {
			strncat(when, " STALE", sizeof(when) - strlen(when) - 1);
		}
		cli_table_cell(t, CLI_BOLD, "%s", fl_str_or_empty(h->host));
		cli_table_cell(t, CLI_PLAIN, "%s", dash(h->release));
		cli_table_cell(t, h->stale ? CLI_RED : CLI_PLAIN, "%s", when);
		for (size_t k = 0; k < n; k++) {
			grid_cell(t, probe_named(h, names[k]));
		}
		cli_table_row_end(t);
	}
	rc = cli_table_print(t, out, colour);
	cli_table_free(t);
	free(names);
	return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
}

int
cli_status_json(const Fl__StatusReply *r, FILE *out, bool pretty)
{
	fl_json j;

	fl_json_init(&j, pretty);
	fl_render_status_json(&j, r);
	if (cli_json_emit(&j, out) != 0) {
		return CLI_EXIT_ERROR;
	}
	return cli_status_exit(r);
}

int
cli_hosts_print(const Fl__StatusReply *r, FILE *out, bool colour)
{
	cli_table *t;
	int64_t    now = reply_now(r);
	char       when[48];

	if (r->n_hosts == 0) {
		fprintf(out, "no host has reported to this collector yet\n");
		return CLI_EXIT_OK;
	}
	if ((t = cli_table_new()) == NULL) {
		fprintf(stderr, "faultline: cannot format the hosts: out of memory\n");
		return CLI_EXIT_ERROR;
	}
	const char *head[] = { "HOST", "RELEASE", "LAST SEEN", "STALE", "FAILING", "LABELS" };
	for (size_t i = 0; i < sizeof(head) / sizeof(head[0]); i++) {
		cli_table_cell(t, CLI_BOLD, "%s", head[i]);
	}
	cli_table_row_end(t);
	for (size_t i = 0; i < r->n_hosts; i++) {
		const Fl__HostState *h    = r->hosts[i];
		size_t               fail = fl_host_probes_failing(h);
		cli_table_cell(t, CLI_BOLD, "%s", fl_str_or_empty(h->host));
		cli_table_cell(t, CLI_PLAIN, "%s", dash(h->release));
		cli_table_cell(t, CLI_PLAIN, "%s", seen(h, now, when, sizeof(when)));
		cli_table_cell(t, h->stale ? CLI_RED : CLI_GREEN, "%s", h->stale ? "yes" : "no");
		cli_table_cell(t, fail > 0 ? CLI_RED : CLI_GREEN, "%zu/%zu", fail, h->n_probes);
		char buf[FL_LABELS_MAX * FL_LABEL_LEN];
		cli_table_cell(t, CLI_PLAIN, "%s", labels_text(h, buf, sizeof(buf)));
		cli_table_row_end(t);
	}
	int rc = cli_table_print(t, out, colour);
	cli_table_free(t);
	if (rc != 0) {
		fprintf(stderr, "faultline: cannot write the hosts\n");
		return CLI_EXIT_ERROR;
	}
	return cli_status_exit(r);
}

int
cli_hosts_json(const Fl__StatusReply *r, FILE *out, bool pretty)
{
	fl_json j;

	fl_json_init(&j, pretty);
	fl_render_hosts_json(&j, r);
	if (cli_json_emit(&j, out) != 0) {
		return CLI_EXIT_ERROR;
	}
	return cli_status_exit(r);
}

// `hosts` takes no --host: said the way getopt says it for an unknown option.
static int
hosts_opt(void *state, int opt, char *arg, const char *cmd)
{
	(void) arg;
	if (opt == CLI_OPT_HOST && *(const bool *) state) {
		return cli_usage_error(cmd, "unknown option '--host'");
	}
	return CLI_OPT_NOT_OWN;
}

// The answer, rendered as status or hosts (text or JSON); the exit code.
static int
render(const Fl__StatusReply *r, const cli_shared_opts *o, const cli_ctx *c, bool hosts)
{
	if (o->host != NULL && r->n_hosts == 0) {
		fprintf(stderr,
		    "faultline: the collector knows no host named '%s'%s (see faultline hosts)\n",
		    o->host, o->labels.n > 0 ? " with those labels" : "");
		return CLI_EXIT_ERROR;
	}
	if (o->labels.n > 0 && r->n_hosts == 0 && !o->json) {
		printf("no host carries the label%s asked for\n", o->labels.n > 1 ? "s" : "");
		return CLI_EXIT_OK;
	}
	if (hosts) {
		return o->json ? cli_hosts_json(r, stdout, c->pretty)
		               : cli_hosts_print(r, stdout, c->colour);
	}
	return o->json ? cli_status_json(r, stdout, c->pretty)
	               : cli_status_print(r, stdout, c->colour);
}

// Shared by status and hosts: both ask the same question and render the answer differently.
static int
run(const cli_ctx *ctx, int argc, char **argv, bool hosts)
{
	static const struct option longopts[] = {
		CLI_LONGOPTS_FILTER,
		CLI_LONGOPTS_BASE,
		{ NULL, 0, NULL, 0 },
	};
	Fl__Request     req   = FL__REQUEST__INIT;
	Fl__StatusQuery query = FL__STATUS_QUERY__INIT;
	Fl__Response   *resp;
	cli_shared_opts o;
	int             rc;

	rc = cli_parse_opts(argc, argv, longopts, hosts ? cli_help_hosts : cli_help_status,
	    hosts_opt, &hosts, false, &o);
	if (rc != CLI_GO_ON) {
		return rc;
	}
	cli_ctx c = cli_ctx_with(ctx, &o);
	// protobuf-c string fields are char *; the query only borrows host for the send.
	query.host     = (char *) fl_str_or_empty(o.host);
	query.n_labels = o.labels.n;
	query.labels   = o.labels.v;
	if (hosts) {
		req.query_case = FL__REQUEST__QUERY_HOSTS;
		req.hosts      = &query;
	} else {
		req.query_case = FL__REQUEST__QUERY_STATUS;
		req.status     = &query;
	}
	if ((rc = cli_call_status(&c, &req,
	         hosts ? FL__RESPONSE__REPLY_HOSTS : FL__RESPONSE__REPLY_STATUS, &resp)) != 0) {
		return rc;
	}
	rc = render(hosts ? resp->hosts : resp->status, &o, &c, hosts);
	fl__response__free_unpacked(resp, NULL);
	return rc;
}

int
cli_cmd_status(const cli_ctx *ctx, int argc, char **argv)
{
	return run(ctx, argc, argv, false);
}

int
cli_cmd_hosts(const cli_ctx *ctx, int argc, char **argv)
{
	return run(ctx, argc, argv, true);
}
