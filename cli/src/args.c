// args.c - see args.h.

#include "args.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fl/cfg.h"
#include "fl/json.h"
#include "fl/str.h"
#include "fl/time.h"

#include "cli.h"

void
cli_opt_start(void)
{
	optind = 0; // glibc: 0 reinitialises getopt completely, including its "+" mode
}

int
cli_opt_next(int argc, char **argv, const char *shortopts, const struct option *longopts, char *err,
    size_t errlen)
{
	char opts[64];
	int  c;

	opterr = 0;
	// '+': stop at the first positional; ':': report a missing argument as ':'.
	snprintf(opts, sizeof(opts), "+:%s", shortopts);
	c = getopt_long(argc, argv, opts, longopts, NULL);
	if (c == -1) {
		return -1;
	}
	if (c == '?' || c == ':') {
		const char *bad     = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
		bool        is_long = strncmp(bad, "--", 2) == 0;
		if (c == ':' && is_long) {
			snprintf(err, errlen, "option '%s' needs a value", bad);
		} else if (c == ':') {
			snprintf(err, errlen, "option '-%c' needs a value", optopt);
		} else if (is_long || optopt == 0) {
			snprintf(err, errlen, "unknown option '%s'", bad);
		} else {
			snprintf(err, errlen, "unknown option '-%c'", optopt);
		}
		return '?';
	}
	return c;
}

// One shared option into o; CLI_GO_ON, or the exit code to stop with.
static int
shared_opt(int opt, const char *cmd, const char *help, const char *err, cli_shared_opts *o)
{
	char why[256];

	switch (opt) {
	case CLI_OPT_JSON:
		o->json = true;
		return CLI_GO_ON;
	case CLI_OPT_HOST:
		o->host = optarg;
		return CLI_GO_ON;
	case CLI_OPT_LABEL:
		if (cli_labels_add(&o->labels, optarg, why, sizeof(why)) != 0) {
			return cli_usage_error(cmd, "%s", why);
		}
		return CLI_GO_ON;
	case CLI_OPT_CONTROL:
		o->url = optarg;
		return CLI_GO_ON;
	case CLI_OPT_HELP:
		fputs(help, stdout);
		return CLI_EXIT_OK;
	default:
		return cli_usage_error(cmd, "%s", err);
	}
}

cli_ctx
cli_ctx_with(const cli_ctx *ctx, const cli_shared_opts *shared)
{
	cli_ctx c = *ctx;
	if (shared->url != NULL) {
		c.url = shared->url;
	}
	return c;
}

int
cli_parse_opts(int argc, char **argv, const struct option *longopts, const char *help,
    cli_own_opt_fn own, void *state, bool allow_positionals, cli_shared_opts *shared)
{
	char err[256];
	int  opt;

	memset(shared, 0, sizeof(*shared));
	cli_opt_start();
	while ((opt = cli_opt_next(argc, argv, "C:h", longopts, err, sizeof(err))) != -1) {
		int rc =
		    opt != '?' && own != NULL ? own(state, opt, optarg, argv[0]) : CLI_OPT_NOT_OWN;
		if (rc == CLI_OPT_NOT_OWN) {
			rc = shared_opt(opt, argv[0], help, err, shared);
		}
		if (rc != CLI_GO_ON) {
			return rc;
		}
	}
	if (!allow_positionals && optind < argc) {
		return cli_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
	}
	return CLI_GO_ON;
}

const char *
cli_opt_name(const struct option *longopts, int val)
{
	static char name[64];
	for (const struct option *o = longopts; o != NULL && o->name != NULL; o++) {
		if (o->val == val && o->flag == NULL) {
			snprintf(name, sizeof(name), "--%s", o->name);
			return name;
		}
	}
	if (val > 0 && val < 128) {
		snprintf(name, sizeof(name), "-%c", val);
	} else {
		snprintf(name, sizeof(name), "the option");
	}
	return name;
}

int
cli_global_parse(
    int argc, char **argv, const char *env_control, cli_global *g, char *err, size_t errlen)
{
	static const struct option longopts[] = {
		{ "control", required_argument, NULL, 'C' },
		{ "timeout", required_argument, NULL, 't' },
		{ "tls-ca", required_argument, NULL, 'a' },
		{ "tls-cert", required_argument, NULL, 'e' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "tls-server-name", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(g, 0, sizeof(*g));
	cli_opt_start();
	g->url = env_control != NULL && env_control[0] != '\0' ? env_control : CLI_DEFAULT_CONTROL;
	g->timeout_ms = CLI_DEFAULT_TIMEOUT_MS;
	while ((c = cli_opt_next(argc, argv, "C:hV", longopts, err, errlen)) != -1) {
		switch (c) {
		case 'C':
			if (optarg[0] == '\0') {
				snprintf(err, errlen,
				    "-C wants a control URL, e.g. tcp://127.0.0.1:7602");
				return -1;
			}
			g->url = optarg;
			break;
		case 't':
			if (fl_duration_parse(optarg, &g->timeout_ms) != 0 || g->timeout_ms == 0) {
				snprintf(err, errlen,
				    "--timeout wants a duration like 500ms, 5s or 1m, not '%s'",
				    optarg);
				return -1;
			}
			break;
		case 'a':
			g->tls_ca = optarg;
			break;
		case 'e':
			g->tls_cert = optarg;
			break;
		case 'k':
			g->tls_key = optarg;
			break;
		case 'n':
			g->tls_server_name = optarg;
			break;
		case 'h':
			g->help = true;
			break;
		case 'V':
			g->version = true;
			break;
		default:
			return -1; // err set by cli_opt_next
		}
	}
	g->cmd_index = optind < argc ? optind : 0;
	return 0;
}

int
cli_labels_add(cli_labels *l, char *label, char *err, size_t errlen)
{
	const char *all[FL_LABELS_MAX + 1];
	char        why[200];

	if (l->n == FL_LABELS_MAX) {
		snprintf(err, errlen, "--label: at most %d labels", FL_LABELS_MAX);
		return -1;
	}
	for (size_t i = 0; i < l->n; i++) {
		all[i] = l->v[i];
	}
	all[l->n] = label;
	if (fl_labels_check(all, l->n + 1, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "--label: %s", why);
		return -1;
	}
	l->v[l->n++] = label;
	return 0;
}

int
cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "faultline%s%s: ", cmd != NULL ? " " : "", fl_str_or_empty(cmd));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (try 'faultline%s%s --help')\n", cmd != NULL ? " " : "",
	    fl_str_or_empty(cmd));
	return CLI_EXIT_ERROR;
}

int
cli_parse_rfc3339(const char *text, int64_t *us_out)
{
	return fl_time_parse_rfc3339(text, us_out);
}

int
cli_parse_since(const char *text, int64_t now_us, int64_t *us_out)
{
	return fl_since_parse(text, now_us, us_out);
}

char *
cli_age_format(int64_t us, char *buf, size_t len)
{
	int64_t s = us < 0 ? 0 : us / 1000000;
	if (s < 60) {
		snprintf(buf, len, "%ds", (int) s);
	} else if (s < 3600) {
		snprintf(buf, len, "%dm%02ds", (int) (s / 60), (int) (s % 60));
	} else if (s < 86400) {
		snprintf(buf, len, "%dh%02dm", (int) (s / 3600), (int) (s / 60 % 60));
	} else {
		snprintf(buf, len, "%dd%02dh", (int) (s / 86400), (int) (s / 3600 % 24));
	}
	return buf;
}

char *
cli_skew_format(int64_t us, char *buf, size_t len)
{
	char        d[32];
	const char *sign = us < 0 ? "-" : "+";
	int64_t     a    = us < 0 ? -us : us;
	if (a < 60000000) {
		snprintf(buf, len, "%s%.1fs", sign, (double) a / 1e6);
	} else {
		snprintf(buf, len, "%s%s", sign, cli_age_format(a, d, sizeof(d)));
	}
	return buf;
}

int
cli_json_emit(fl_json *j, FILE *out)
{
	const char *text = fl_json_text(j);
	int         rc   = 0;

	if (text == NULL) {
		fprintf(stderr, "faultline: cannot build the JSON output: out of memory\n");
		rc = -1;
	} else if (fprintf(out, "%s\n", text) < 0) {
		rc = -1;
	}
	fl_json_fini(j);
	return rc;
}
