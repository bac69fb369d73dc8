// cmd_verify.c - `faultline verify`: the post-release gate a deploy pipeline runs.
//
// Two phases. Waiting happens here, by polling `status` once a second, because it can take
// minutes and the collector's control socket should not be held that long. Verifying happens
// in the collector (VerifyQuery), because the same evaluation also runs there automatically;
// it takes a few seconds (the probe-now rounds of the verification window).

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fl/json.h"
#include "fl/names.h"
#include "fl/render.h"
#include "fl/render_reply.h"
#include "fl/time.h"
#include "fl/verify_defaults.h"
#include "fl/verify_wait.h"

#include "args.h"
#include "cli.h"
#include "client.h"
#include "table.h"

#define MAX_LIST 256

const char cli_help_verify[] =
    "NAME\n"
    "    faultline verify - gate a deploy: is release R healthy, no worse than before, and\n"
    "    could it be rolled back?\n"
    "\n"
    "SYNOPSIS\n"
    "    faultline [-C URL] verify --release R [--hosts H1,H2,... | --min-hosts N]\n"
    "                     [--timeout D] [--canary H1,H2] [--rollback-to OLD] [--json]\n"
    "                     [--rounds N] [--window D] [--survey-timeout D] [--no-canary]\n"
    "                     [--max-error-rate-increase X] [--max-latency-ratio X]\n"
    "                     [--latency-slack D] [--label KEY=VALUE]...\n"
    "                     [--confidence X] [--min-samples N]\n"
    "\n"
    "DESCRIPTION\n"
    "    First waits until the expected hosts report release R: the hosts named by --hosts,\n"
    "    or at least N hosts with --min-hosts, or else every reporting (non-stale) host. On a\n"
    "    terminal a progress line shows hosts on R / expected and the time elapsed.\n"
    "    Then the collector probes now (every agent runs a round at once) and checks:\n"
    "      probe         every probe on the hosts on R passes (warn passes, but is listed)\n"
    "      expectations  R's expectations are met (no unmet grant/table/column, no malformed\n"
    "                    expectations file)\n"
    "      canary        with --canary, or when some hosts still run another release: over\n"
    "                    --rounds probe-now rounds --window apart, each probe (same name and\n"
    "                    kind) on R is compared with itself on the other hosts. R fails when\n"
    "                    a probe fails or warns more (--max-error-rate-increase), or is slower\n"
    "                    (Mann-Whitney U at --confidence and median beyond --max-latency-ratio\n"
    "                    x the other's + --latency-slack; or too many samples beyond that\n"
    "                    x the other's p95). Too few samples to decide: inconclusive, exit 2\n"
    "      rollback      with --rollback-to OLD: each agent checks the expectations it kept\n"
    "                    for OLD against today's databases; every missing grant, table or\n"
    "                    column is a reason, and so is a host that never kept OLD's\n"
    "    docs/verify.md has the rules and the JSON contract.\n"
    "\n"
    "OPTIONS\n"
    "    --release R                  the release to verify (required)\n"
    "    --hosts H1,H2                the hosts that must run R\n"
    "    --min-hosts N                at least N hosts must run R\n"
    "    --timeout D                  how long to wait for the hosts to report R (default 5m)\n"
    "    --canary H1,H2               the canary hosts on R, compared with the others\n"
    "    --rollback-to OLD            check that a rollback to release OLD would work\n"
    "    --rounds N                   canary probe-now rounds, 1-60 (default 20)\n"
    "    --window D                   time between them, from 100ms (default 250ms)\n"
    "    --survey-timeout D           how long agents get to answer each round (default 5s)\n"
    "    --no-canary                  never compare groups\n"
    "    --max-error-rate-increase X  default 0.05 (5 percentage points)\n"
    "    --max-latency-ratio X        default 1.5\n"
    "    --latency-slack D            default 20ms\n"
    "    --label KEY=VALUE            only the hosts carrying this label (repeatable: every\n"
    "                                 one must match): waited for, verified, and the\n"
    "                                 canary's baseline\n"
    "    --confidence X               of the rank test, 0.5-0.9999 (default 0.98)\n"
    "    --min-samples N              per probe and group, 1-1000 (default 5)\n"
    "    --json                       {\"release\",\"result\",\"hosts\",\"reasons\",\"warnings\",\n"
    "                                 \"canary\",\"rollback\",\"elapsed_s\"} (docs/verify.md)\n"
    "    -C URL                       the collector's control URL\n"
    "    -h, --help                   this text\n"
    "\n"
    "EXIT STATUS\n"
    "    0  passed\n"
    "    1  failed: each reason is printed (or in --json)\n"
    "    2  could not verify: the hosts did not report R in time, a host did not answer,\n"
    "       the canary comparison was inconclusive, the collector is unreachable, or a\n"
    "       usage error\n"
    "\n"
    "EXAMPLES\n"
    "    faultline verify --release 2.4.1 --hosts app1 --canary app1 --timeout 10m\n"
    "    faultline verify --release 2.4.1 --min-hosts 6 --rollback-to 2.4.0 --json\n"
    "    faultline verify --release 2.4.1 --label env=staging\n";

// What the options ask for: the query's tunables go straight into vq; the rest is the CLI's.
typedef struct vopts {
	const char      *release;
	char            *hosts[MAX_LIST];
	size_t           n_hosts;
	char            *canary[MAX_LIST];
	size_t           n_canary;
	uint32_t         min_hosts;
	uint32_t         wait_ms;
	bool             json;
	bool             seen_canary;
	cli_labels       labels; // --label: only the hosts that carry them
	Fl__VerifyQuery *vq;
} vopts;

static int
split_list(char *arg, char **v, size_t *n, const char *what)
{
	for (char *tok = strtok(arg, ","); tok != NULL; tok = strtok(NULL, ",")) {
		if (*tok == '\0') {
			continue;
		}
		if (*n == MAX_LIST) {
			return cli_usage_error(
			    "verify", "too many %s (at most %d)", what, MAX_LIST);
		}
		v[(*n)++] = tok;
	}
	return *n == 0 ? cli_usage_error("verify", "%s wants a comma-separated list", what) : 0;
}

// One status poll: counts the expected hosts on R. Fills on/expected and, for the timeout
// message, the hosts not on R ("host (release)"). 0, or the CLI exit code of a failed call.
static int
poll_status(const cli_ctx *c, const vopts *o, size_t *on, size_t *expected, char *missing,
    size_t mlen, char **found, size_t *n_found)
{
	Fl__Request     req = FL__REQUEST__INIT;
	Fl__StatusQuery sq  = FL__STATUS_QUERY__INIT;
	Fl__Response   *resp;
	int             rc;

	sq.n_labels    = o->labels.n;
	sq.labels      = (char **) o->labels.v; // borrowed for packing
	req.query_case = FL__REQUEST__QUERY_STATUS;
	req.status     = &sq;
	if ((rc = cli_call_status(c, &req, FL__RESPONSE__REPLY_STATUS, &resp)) != 0) {
		return rc;
	}
	fl_verify_wait w = { .release = o->release,
		.hosts                = o->hosts,
		.n_hosts              = o->n_hosts,
		.min_hosts            = o->min_hosts };
	fl_verify_wait_count(
	    resp->status, &w, on, expected, missing, mlen, found, n_found, MAX_LIST);
	fl__response__free_unpacked(resp, NULL);
	return 0;
}

// The --json document; r may be NULL (timeout while waiting), then reasons are given.
static int
print_json(const char *release, Fl__VerifyResult result, char *const *hosts, size_t n_hosts,
    const Fl__VerifyReply *r, const char *timeout_reason, double elapsed_s, bool pretty)
{
	fl_json j;

	fl_json_init(&j, pretty);
	fl_render_verify_json(&j, release, result, hosts, n_hosts, r, timeout_reason, elapsed_s);
	return cli_json_emit(&j, stdout);
}

// One line per probe compared: verdict, errors, median and p95 on both groups.
static void
print_canary_probe(const Fl__CanaryProbe *p)
{
	const Fl__CanaryProbeSide *a = p->candidate, *b = p->baseline;
	if (a == NULL || b == NULL) {
		return;
	}
	printf("    %-12s %-8s %-12s errors %.1f%% vs %.1f%%, median %.1fms vs %.1fms, p95 "
	       "%.1fms vs %.1fms\n",
	    cli_esc(p->name), fl_kind_name(p->kind), cli_esc(p->verdict), a->error_rate * 100,
	    b->error_rate * 100, a->median_latency_ms, b->median_latency_ms, a->p95_latency_ms,
	    b->p95_latency_ms);
}

static void
print_human(const Fl__VerifyReply *r, double elapsed_s)
{
	printf("release %s: %s (%zu host%s, %.1fs)\n", cli_esc(r->release),
	    fl_verify_result_name(fl_verify_reply_result(r)), r->n_hosts,
	    r->n_hosts == 1 ? "" : "s", elapsed_s);
	for (size_t i = 0; i < r->n_reasons; i++) {
		const Fl__VerifyReason *x = r->reasons[i];
		printf("  %-12s %s%s%s\n", fl_verify_check_name(fl_verify_reason_check(x)),
		    cli_esc(x->host), x->host[0] ? ": " : "", cli_esc(x->summary));
	}
	for (size_t i = 0; i < r->n_warnings; i++) {
		const Fl__VerifyReason *x = r->warnings[i];
		printf("  %-12s %s: %s\n", "warning", cli_esc(x->host), cli_esc(x->summary));
	}
	if (r->canary != NULL) {
		const Fl__CanaryComparison *c = r->canary;
		if (c->compared && c->candidate != NULL && c->baseline != NULL) {
			printf("  canary: %s, %zu probe%s compared over %u rounds (%s vs %s)\n",
			    cli_esc(c->verdict), c->n_per_probe, c->n_per_probe == 1 ? "" : "s",
			    c->rounds, cli_esc(c->candidate->release),
			    cli_esc(c->baseline->release));
			for (size_t i = 0; i < c->n_per_probe; i++) {
				print_canary_probe(c->per_probe[i]);
			}
		} else {
			printf("  canary: not compared (%s)\n", cli_esc(c->note));
		}
	}
	if (r->rollback != NULL) {
		printf("  rollback to %s: %s\n", cli_esc(r->rollback->release),
		    r->rollback->ready ? "ready" : "would break");
	}
}

// How long the collector may take to answer vq: its rounds, each a survey and a gap, plus 5 s.
static uint64_t
verify_wait_ms(const Fl__VerifyQuery *vq)
{
	uint64_t rounds = vq->rounds ? vq->rounds : FL_VERIFY_DEFAULT_ROUNDS;
	uint64_t survey =
	    vq->survey_timeout_ms ? vq->survey_timeout_ms : FL_VERIFY_DEFAULT_SURVEY_MS;
	uint64_t gap = vq->round_interval_ms ? vq->round_interval_ms : FL_VERIFY_DEFAULT_ROUND_MS;
	return rounds * (survey + gap) + 5000;
}

static int
parse_ratio(const char *s, double *out)
{
	char  *end;
	double v = strtod(s, &end);
	if (end == s || *end != '\0' || !(v >= 0) || v > 1000) {
		return -1;
	}
	*out = v;
	return 0;
}

enum {
	O_HOSTS = 256,
	O_MIN,
	O_CANARY,
	O_ROLLBACK,
	O_ROUNDS,
	O_WINDOW,
	O_SURVEY,
	O_NOCAN,
	O_ERR,
	O_LAT,
	O_SLACK,
	O_RELEASE,
	O_TIMEOUT,
	O_CONFIDENCE,
	O_MIN_SAMPLES
};

static const struct option verify_longopts[] = {
	{ "release", required_argument, NULL, O_RELEASE },
	{ "hosts", required_argument, NULL, O_HOSTS },
	{ "min-hosts", required_argument, NULL, O_MIN },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "canary", required_argument, NULL, O_CANARY },
	{ "rollback-to", required_argument, NULL, O_ROLLBACK },
	{ "rounds", required_argument, NULL, O_ROUNDS },
	{ "window", required_argument, NULL, O_WINDOW },
	{ "survey-timeout", required_argument, NULL, O_SURVEY },
	{ "no-canary", no_argument, NULL, O_NOCAN },
	{ "max-error-rate-increase", required_argument, NULL, O_ERR },
	{ "max-latency-ratio", required_argument, NULL, O_LAT },
	{ "latency-slack", required_argument, NULL, O_SLACK },
	{ "label", required_argument, NULL, CLI_OPT_LABEL },
	{ "confidence", required_argument, NULL, O_CONFIDENCE },
	{ "min-samples", required_argument, NULL, O_MIN_SAMPLES },
	CLI_LONGOPTS_BASE,
	{ NULL, 0, NULL, 0 },
};

// A release named twice with two different values (a pipeline variable expanded twice) must
// not silently use the last one.
static int
given_twice(const char *cmd, const char *name, const char *first, const char *second)
{
	return cli_usage_error(cmd, "%s given twice ('%s' and '%s'): which release?", name,
	    cli_esc(first), cli_esc(second));
}

// The durations: --window, --survey-timeout, --latency-slack.
static int
duration_opt(Fl__VerifyQuery *vq, int opt, const char *arg, const char *cmd)
{
	uint32_t ms;
	if (fl_duration_parse(arg, &ms) != 0 || ms > 600000) {
		return cli_usage_error(cmd, "%s wants a duration up to 10m, not '%s'",
		    cli_opt_name(verify_longopts, opt), arg);
	}
	if (opt == O_WINDOW && ms < 100) {
		return cli_usage_error(cmd,
		    "--window wants at least 100ms (agents run a whole round each time), not '%s'",
		    arg);
	}
	if (opt == O_WINDOW) {
		vq->round_interval_ms = ms;
	} else if (opt == O_SURVEY) {
		vq->survey_timeout_ms = ms ? ms : 1;
	} else {
		vq->latency_slack_ms  = ms;
		vq->latency_slack_set = true;
	}
	return CLI_GO_ON;
}

// A whole number from lo to hi into *out; "WHAT wants LO to HI" otherwise.
static int
count_opt(const char *arg, uint32_t lo, uint32_t hi, uint32_t *out, const char *cmd, int opt)
{
	char         *end;
	unsigned long v = strtoul(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || v < lo || v > hi) {
		return cli_usage_error(cmd, "%s wants %u to %u, not '%s'",
		    cli_opt_name(verify_longopts, opt), lo, hi, arg);
	}
	*out = (uint32_t) v;
	return CLI_GO_ON;
}

// The tunables of the collector's evaluation: only those given are sent (the collector has
// the defaults).
static int
tuning_opt(Fl__VerifyQuery *vq, int opt, const char *arg, const char *cmd)
{
	char *end;

	switch (opt) {
	case O_ROUNDS:
		return count_opt(arg, 1, 60, &vq->rounds, cmd, opt);
	case O_MIN_SAMPLES:
		return count_opt(arg, 1, 1000, &vq->min_samples, cmd, opt);
	case O_WINDOW:
	case O_SURVEY:
	case O_SLACK:
		return duration_opt(vq, opt, arg, cmd);
	case O_CONFIDENCE:
		vq->confidence = strtod(arg, &end);
		if (*arg == '\0' || *end != '\0' || !(vq->confidence >= 0.5) ||
		    vq->confidence > 0.9999) {
			return cli_usage_error(
			    cmd, "--confidence wants 0.5 to 0.9999, not '%s'", arg);
		}
		return CLI_GO_ON;
	case O_ERR:
	case O_LAT:
		if (parse_ratio(arg,
		        opt == O_ERR ? &vq->max_error_rate_increase : &vq->max_latency_ratio) !=
		    0) {
			return cli_usage_error(cmd, "%s wants a number, not '%s'",
			    cli_opt_name(verify_longopts, opt), arg);
		}
		vq->max_error_rate_increase_set |= opt == O_ERR;
		vq->max_latency_ratio_set |= opt == O_LAT;
		return CLI_GO_ON;
	case O_NOCAN:
		vq->no_canary = true;
		return CLI_GO_ON;
	default:
		return CLI_OPT_NOT_OWN;
	}
}

// What to verify and how long to wait for it.
static int
verify_opt(void *state, int opt, char *arg, const char *cmd)
{
	vopts *o = state;

	switch (opt) {
	case O_RELEASE:
		if (o->release != NULL && strcmp(o->release, arg) != 0) {
			return given_twice(cmd, "--release", o->release, arg);
		}
		o->release = arg;
		return CLI_GO_ON;
	case O_ROLLBACK:
		// (FL__VERIFY_QUERY__INIT leaves the field as "", never NULL.)
		if (o->vq->rollback_to != NULL && o->vq->rollback_to[0] != '\0' &&
		    strcmp(o->vq->rollback_to, arg) != 0) {
			return given_twice(cmd, "--rollback-to", o->vq->rollback_to, arg);
		}
		o->vq->rollback_to = arg;
		return CLI_GO_ON;
	case O_HOSTS:
		return split_list(arg, o->hosts, &o->n_hosts, "--hosts") == 0 ? CLI_GO_ON
		                                                              : CLI_EXIT_ERROR;
	case O_CANARY:
		o->seen_canary = true;
		return split_list(arg, o->canary, &o->n_canary, "--canary") == 0 ? CLI_GO_ON
		                                                                 : CLI_EXIT_ERROR;
	case O_MIN: {
		char         *end;
		unsigned long v = strtoul(arg, &end, 10);
		if (*arg == '\0' || *end != '\0' || v == 0 || v > 100000) {
			return cli_usage_error(
			    cmd, "--min-hosts wants a count from 1, not '%s'", arg);
		}
		o->min_hosts = (uint32_t) v;
		return CLI_GO_ON;
	}
	case O_TIMEOUT:
		if (fl_duration_parse(arg, &o->wait_ms) != 0) {
			return cli_usage_error(
			    cmd, "--timeout wants a duration (30s, 5m), not '%s'", arg);
		}
		return CLI_GO_ON;
	default:
		return tuning_opt(o->vq, opt, arg, cmd);
	}
}

// The options' combinations that cannot work. CLI_GO_ON, or a usage error.
static int
check_args(const vopts *o, const char *cmd)
{
	if (o->release == NULL || o->release[0] == '\0') {
		return cli_usage_error(cmd, "which release? --release R is required");
	}
	if (o->n_hosts > 0 && o->min_hosts > 0) {
		return cli_usage_error(cmd, "--hosts and --min-hosts exclude each other");
	}
	if (o->seen_canary && o->vq->no_canary) {
		return cli_usage_error(cmd, "--canary and --no-canary contradict each other");
	}
	return CLI_GO_ON;
}

static void
free_hosts(char **found, size_t *n_found)
{
	for (size_t i = 0; i < *n_found; i++) {
		free(found[i]);
	}
	*n_found = 0;
}

// Says that the hosts did not report R within --timeout (JSON or a line on stderr).
static void
report_not_ready(const cli_ctx *c, const vopts *o, const char *missing, size_t on, size_t expected,
    double el, char *const *found, size_t n_found)
{
	char why[2304];
	fl_verify_wait_reason(why, sizeof(why), el, on, expected, o->release, missing);
	if (o->json) {
		print_json(o->release, FL__VERIFY_RESULT__VERIFY_RESULT_UNVERIFIED, found, n_found,
		    NULL, why, el, c->pretty);
	} else {
		fprintf(
		    stderr, "faultline verify: cannot verify release %s: %s\n", o->release, why);
	}
}

// Phase 1: polls status once a second until the expected hosts report R. CLI_GO_ON with the
// hosts on R in found (the caller frees them), or the exit code (found then empty).
static int
wait_for_release(const cli_ctx *c, const vopts *o, int64_t t0, char **found, size_t *n_found)
{
	bool   tty = isatty(STDERR_FILENO) == 1 && !o->json;
	char   missing[2048];
	size_t on = 0, expected = 0;
	int    rc;

	for (;;) {
		free_hosts(found, n_found);
		if ((rc = poll_status(
		         c, o, &on, &expected, missing, sizeof(missing), found, n_found)) != 0) {
			return rc;
		}
		double el = (fl_mono_us() - t0) / 1e6;
		if (tty) {
			fprintf(stderr, "\rhosts on %s: %zu/%zu, %.0fs elapsed ", o->release, on,
			    expected, el);
		}
		if (on >= expected && on > 0) {
			break;
		}
		if (el * 1000 >= o->wait_ms) {
			if (tty) {
				fputc('\n', stderr);
			}
			report_not_ready(c, o, missing, on, expected, el, found, *n_found);
			free_hosts(found, n_found);
			return CLI_EXIT_ERROR;
		}
		struct timespec ts = { 1, 0 };
		nanosleep(&ts, NULL);
	}
	if (tty) {
		fputc('\n', stderr);
	}
	return CLI_GO_ON;
}

// Phase 2: the collector verifies R on the hosts found; prints its answer. The exit code.
static int
ask_collector(const cli_ctx *ctx, const vopts *o, int64_t t0, char **found, size_t n_found)
{
	Fl__VerifyQuery *vq  = o->vq;
	Fl__Request      req = FL__REQUEST__INIT;
	Fl__Response    *resp;
	cli_ctx          c = *ctx;
	int              rc;

	vq->release  = (char *) o->release; // borrowed for packing only
	vq->n_hosts  = n_found;
	vq->hosts    = found;
	vq->n_canary = o->n_canary;
	vq->canary   = (char **) o->canary;
	vq->n_labels = o->labels.n;
	vq->labels   = (char **) o->labels.v;
	if (vq->rollback_to == NULL) {
		vq->rollback_to = (char *) "";
	}
	uint64_t need = verify_wait_ms(vq);
	if (c.timeout_ms < need) {
		c.timeout_ms = need > 3600000 ? 3600000 : (uint32_t) need;
	}
	req.query_case = FL__REQUEST__QUERY_VERIFY;
	req.verify     = vq;
	if ((rc = cli_call(&c, &req, FL__RESPONSE__REPLY_VERIFY, &resp)) != 0) {
		return rc;
	}
	const Fl__VerifyReply *r  = resp->verify;
	double                 el = (fl_mono_us() - t0) / 1e6;
	if (o->json) {
		rc = print_json(
		    o->release, fl_verify_reply_result(r), NULL, 0, r, NULL, el, c.pretty);
	} else {
		print_human(r, el);
	}
	Fl__VerifyResult result = fl_verify_reply_result(r);
	if (rc != 0) {
		rc = CLI_EXIT_ERROR;
	} else if (result == FL__VERIFY_RESULT__VERIFY_RESULT_PASSED) {
		rc = CLI_EXIT_OK;
	} else {
		rc = result == FL__VERIFY_RESULT__VERIFY_RESULT_FAILED ? CLI_EXIT_FAILING
		                                                       : CLI_EXIT_ERROR;
	}
	fl__response__free_unpacked(resp, NULL);
	return rc;
}

int
cli_cmd_verify(const cli_ctx *ctx, int argc, char **argv)
{
	Fl__VerifyQuery vq = FL__VERIFY_QUERY__INIT; // only what the user gives is sent
	vopts           o  = { .wait_ms = 300000, .vq = &vq };
	cli_shared_opts shared;
	char           *found[MAX_LIST];
	size_t          n_found = 0;
	int             rc;

	rc = cli_parse_opts(
	    argc, argv, verify_longopts, cli_help_verify, verify_opt, &o, false, &shared);
	if (rc != CLI_GO_ON || (rc = check_args(&o, argv[0])) != CLI_GO_ON) {
		return rc;
	}
	cli_ctx c  = cli_ctx_with(ctx, &shared);
	o.json     = shared.json;
	o.labels   = shared.labels;
	int64_t t0 = fl_mono_us();
	if ((rc = wait_for_release(&c, &o, t0, found, &n_found)) != CLI_GO_ON) {
		return rc;
	}
	rc = ask_collector(&c, &o, t0, found, n_found);
	free_hosts(found, &n_found);
	return rc;
}
