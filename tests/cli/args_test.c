// args_test.c - global and per-command option parsing, --since, RFC 3339 times and age formatting.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "args.h"
#include "cli.h"

#define ARGC(a) ((int) (sizeof(a) / sizeof((a)[0])))

// A writable copy of an argument vector (getopt wants char **; literals are const).
typedef struct argvec {
	int   argc;
	char *argv[16];
	char  buf[1024];
} argvec;

static void
argvec_set(argvec *v, const char *const *src, int n)
{
	size_t off = 0;
	assert_true(n < 16);
	v->argc = n;
	for (int i = 0; i < n; i++) {
		size_t len = strlen(src[i]) + 1;
		assert_true(off + len <= sizeof(v->buf));
		memcpy(v->buf + off, src[i], len);
		v->argv[i] = v->buf + off;
		off += len;
	}
	v->argv[n] = NULL;
}

#define ARGV(v, ...)                                               \
	do {                                                       \
		static const char *const src_[] = { __VA_ARGS__ }; \
		argvec_set(&(v), src_, ARGC(src_));                \
	} while (0)

static void
test_global_defaults(void **state)
{
	(void) state;
	argvec argv;
	ARGV(argv, "faultline", "status", "--json");
	cli_global g;
	char       err[256];
	assert_int_equal(cli_global_parse(argv.argc, argv.argv, NULL, &g, err, sizeof(err)), 0);
	assert_string_equal(g.url, CLI_DEFAULT_CONTROL);
	assert_int_equal(g.timeout_ms, 5000);
	assert_int_equal(g.cmd_index, 1);
	assert_false(g.help);
	assert_false(g.version);
}

static void
test_global_env_then_flag(void **state)
{
	(void) state;
	cli_global g;
	char       err[256];
	argvec     a1;
	ARGV(a1, "faultline", "hosts");
	assert_int_equal(
	    cli_global_parse(a1.argc, a1.argv, "tcp://127.0.0.1:9", &g, err, sizeof(err)), 0);
	assert_string_equal(g.url, "tcp://127.0.0.1:9");
	// An empty variable is as good as unset.
	assert_int_equal(cli_global_parse(a1.argc, a1.argv, "", &g, err, sizeof(err)), 0);
	assert_string_equal(g.url, CLI_DEFAULT_CONTROL);
	// -C beats the environment; options stop at the command.
	argvec a2;
	ARGV(a2, "faultline", "-C", "ipc:///tmp/x.sock", "--timeout", "750ms", "status", "-C", "y");
	assert_int_equal(
	    cli_global_parse(a2.argc, a2.argv, "tcp://127.0.0.1:9", &g, err, sizeof(err)), 0);
	assert_string_equal(g.url, "ipc:///tmp/x.sock");
	assert_int_equal(g.timeout_ms, 750);
	assert_int_equal(g.cmd_index, 5);
	argvec a3;
	ARGV(a3, "faultline", "--control=tcp://h:1", "--timeout=2s", "diagnose");
	assert_int_equal(cli_global_parse(a3.argc, a3.argv, NULL, &g, err, sizeof(err)), 0);
	assert_string_equal(g.url, "tcp://h:1");
	assert_int_equal(g.timeout_ms, 2000);
	assert_int_equal(g.cmd_index, 3);
}

static void
test_global_errors(void **state)
{
	(void) state;
	cli_global g;
	char       err[256];
	argvec     a1;
	ARGV(a1, "faultline", "--timeout", "soon", "status");
	assert_int_equal(cli_global_parse(a1.argc, a1.argv, NULL, &g, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "'soon'"));
	argvec a2;
	ARGV(a2, "faultline", "--timeout", "0s", "status");
	assert_int_equal(cli_global_parse(a2.argc, a2.argv, NULL, &g, err, sizeof(err)), -1);
	argvec a3;
	ARGV(a3, "faultline", "--bogus", "status");
	assert_int_equal(cli_global_parse(a3.argc, a3.argv, NULL, &g, err, sizeof(err)), -1);
	assert_string_equal(err, "unknown option '--bogus'");
	argvec a4;
	ARGV(a4, "faultline", "-x");
	assert_int_equal(cli_global_parse(a4.argc, a4.argv, NULL, &g, err, sizeof(err)), -1);
	assert_string_equal(err, "unknown option '-x'");
	argvec a5;
	ARGV(a5, "faultline", "-C");
	assert_int_equal(cli_global_parse(a5.argc, a5.argv, NULL, &g, err, sizeof(err)), -1);
	assert_string_equal(err, "option '-C' needs a value");
	argvec a6;
	ARGV(a6, "faultline", "--control");
	assert_int_equal(cli_global_parse(a6.argc, a6.argv, NULL, &g, err, sizeof(err)), -1);
	assert_string_equal(err, "option '--control' needs a value");
	argvec a7;
	ARGV(a7, "faultline", "-C", "", "status");
	assert_int_equal(cli_global_parse(a7.argc, a7.argv, NULL, &g, err, sizeof(err)), -1);
}

static void
test_global_help_version_no_command(void **state)
{
	(void) state;
	cli_global g;
	char       err[256];
	argvec     a1;
	ARGV(a1, "faultline", "--version");
	assert_int_equal(cli_global_parse(a1.argc, a1.argv, NULL, &g, err, sizeof(err)), 0);
	assert_true(g.version);
	assert_int_equal(g.cmd_index, 0);
	argvec a2;
	ARGV(a2, "faultline", "-h");
	assert_int_equal(cli_global_parse(a2.argc, a2.argv, NULL, &g, err, sizeof(err)), 0);
	assert_true(g.help);
	argvec a3;
	ARGV(a3, "faultline");
	assert_int_equal(cli_global_parse(a3.argc, a3.argv, NULL, &g, err, sizeof(err)), 0);
	assert_int_equal(g.cmd_index, 0);
}

static void
test_command_options_restart(void **state)
{
	(void) state;
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "host", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	argvec argv;
	ARGV(argv, "status", "--json", "--host", "app1", "extra");
	char err[128];
	for (int round = 0; round < 2; round++) { // the same argv parses the same way twice
		cli_opt_start();
		assert_int_equal(
		    cli_opt_next(argv.argc, argv.argv, "h", longopts, err, sizeof(err)), 'j');
		assert_int_equal(
		    cli_opt_next(argv.argc, argv.argv, "h", longopts, err, sizeof(err)), 'H');
		assert_string_equal(optarg, "app1");
		assert_int_equal(
		    cli_opt_next(argv.argc, argv.argv, "h", longopts, err, sizeof(err)), -1);
		assert_int_equal(optind, 4); // the positional is left for the command to refuse
	}
	argvec bad;
	ARGV(bad, "status", "--host");
	cli_opt_start();
	assert_int_equal(cli_opt_next(bad.argc, bad.argv, "h", longopts, err, sizeof(err)), '?');
	assert_string_equal(err, "option '--host' needs a value");
}

// The options every command shares, and a command's own ones through its callback.
static const struct option parse_longopts[] = {
	{ "json", no_argument, NULL, CLI_OPT_JSON },
	{ "host", required_argument, NULL, CLI_OPT_HOST },
	{ "label", required_argument, NULL, CLI_OPT_LABEL },
	{ "control", required_argument, NULL, CLI_OPT_CONTROL },
	{ "help", no_argument, NULL, CLI_OPT_HELP },
	{ "limit", required_argument, NULL, 'n' },
	{ NULL, 0, NULL, 0 },
};

// The test's own option: --limit N (and it claims --host when state says so).
typedef struct own_state {
	const char *limit;
	bool        claim_host;
	int         calls;
} own_state;

static int
own_opt(void *state, int opt, char *arg, const char *cmd)
{
	own_state *o = state;
	o->calls++;
	if (opt == 'n') {
		if (strcmp(arg, "0") == 0) {
			return cli_usage_error(cmd, "--limit wants 1 or more");
		}
		o->limit = arg;
		return CLI_GO_ON;
	}
	if (opt == CLI_OPT_HOST && o->claim_host) {
		return CLI_GO_ON;
	}
	return CLI_OPT_NOT_OWN;
}

static void
test_parse_opts_shared_and_own(void **state)
{
	(void) state;
	argvec          v;
	cli_shared_opts o;
	own_state       own = { 0 };
	ARGV(v, "history", "--json", "--host", "app1", "--label", "env=prod", "-C", "ipc:///x",
	    "--limit", "5");
	assert_int_equal(
	    cli_parse_opts(v.argc, v.argv, parse_longopts, "help\n", own_opt, &own, false, &o),
	    CLI_GO_ON);
	assert_true(o.json);
	assert_string_equal(o.host, "app1");
	assert_int_equal(o.labels.n, 1);
	assert_string_equal(o.labels.v[0], "env=prod");
	assert_string_equal(o.url, "ipc:///x");
	assert_string_equal(own.limit, "5");
	assert_int_equal(own.calls, 5); // asked first about every option

	cli_ctx base = { .url = "ipc:///default", .timeout_ms = 7 };
	cli_ctx c    = cli_ctx_with(&base, &o);
	assert_string_equal(c.url, "ipc:///x");
	assert_int_equal(c.timeout_ms, 7);
	o.url = NULL;
	assert_string_equal(cli_ctx_with(&base, &o).url, "ipc:///default");

	// The command's own handling comes first.
	own_state claim = { .claim_host = true };
	ARGV(v, "status", "--host", "app1");
	assert_int_equal(
	    cli_parse_opts(v.argc, v.argv, parse_longopts, "help\n", own_opt, &claim, false, &o),
	    CLI_GO_ON);
	assert_null(o.host);
}

static void
test_parse_opts_exits(void **state)
{
	(void) state;
	argvec          v;
	cli_shared_opts o;
	own_state       own = { 0 };

	ARGV(v, "diagnose", "--help");
	assert_int_equal(
	    cli_parse_opts(v.argc, v.argv, parse_longopts, "", NULL, NULL, false, &o), CLI_EXIT_OK);
	ARGV(v, "diagnose", "--verbose");
	assert_int_equal(cli_parse_opts(v.argc, v.argv, parse_longopts, "", NULL, NULL, false, &o),
	    CLI_EXIT_ERROR);
	ARGV(v, "diagnose", "--label", "no-equals-sign");
	assert_int_equal(cli_parse_opts(v.argc, v.argv, parse_longopts, "", NULL, NULL, false, &o),
	    CLI_EXIT_ERROR);
	ARGV(v, "history", "--limit", "0");
	assert_int_equal(
	    cli_parse_opts(v.argc, v.argv, parse_longopts, "", own_opt, &own, false, &o),
	    CLI_EXIT_ERROR);
	// Without a callback, the command's own option is not known.
	ARGV(v, "history", "--limit", "3");
	assert_int_equal(cli_parse_opts(v.argc, v.argv, parse_longopts, "", NULL, NULL, false, &o),
	    CLI_EXIT_ERROR);
	// Positionals: refused, or left at optind.
	ARGV(v, "forget", "--json", "app1");
	assert_int_equal(cli_parse_opts(v.argc, v.argv, parse_longopts, "", NULL, NULL, false, &o),
	    CLI_EXIT_ERROR);
	assert_int_equal(
	    cli_parse_opts(v.argc, v.argv, parse_longopts, "", NULL, NULL, true, &o), CLI_GO_ON);
	assert_int_equal(optind, 2);
	assert_string_equal(v.argv[optind], "app1");
}

static void
test_rfc3339(void **state)
{
	(void) state;
	int64_t us;
	assert_int_equal(cli_parse_rfc3339("1970-01-01T00:00:00Z", &us), 0);
	assert_int_equal(us, 0);
	assert_int_equal(cli_parse_rfc3339("2026-11-25T14:07:20.123Z", &us), 0);
	assert_int_equal(us, 1795615640123000LL);
	assert_int_equal(cli_parse_rfc3339("2026-11-25T16:07:20.123+02:00", &us), 0);
	assert_int_equal(us, 1795615640123000LL);
	assert_int_equal(cli_parse_rfc3339("2026-11-25 09:07:20.123456-05:00", &us), 0);
	assert_int_equal(us, 1795615640123456LL);
	assert_int_equal(cli_parse_rfc3339("2024-02-29T00:00:00Z", &us), 0);
	const char *bad[] = { "", "2026-11-25", "2026-11-25T14:07:20", "2026-13-01T00:00:00Z",
		"2026-02-29T00:00:00Z", "2026-11-25T24:00:00Z", "2026-11-25T14:07:20.Z",
		"2026-11-25T14:07:20Zjunk", "2026-11-25T14:07:20+0200", "26-11-25T14:07:20Z",
		"1h" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		us = 42;
		assert_int_equal(cli_parse_rfc3339(bad[i], &us), -1);
		assert_int_equal(us, 42); // untouched on error
	}
}

static void
test_since(void **state)
{
	(void) state;
	const int64_t now = 1795615640000000LL;
	int64_t       us;
	assert_int_equal(cli_parse_since("1h", now, &us), 0);
	assert_int_equal(us, now - 3600LL * 1000000);
	assert_int_equal(cli_parse_since("90s", now, &us), 0);
	assert_int_equal(us, now - 90LL * 1000000);
	assert_int_equal(cli_parse_since("500ms", now, &us), 0);
	assert_int_equal(us, now - 500000);
	assert_int_equal(cli_parse_since("2d", now, &us), 0);
	assert_int_equal(us, now - 2LL * 86400 * 1000000);
	assert_int_equal(cli_parse_since("2026-11-25T00:00:00Z", now, &us), 0);
	assert_int_equal(us, 1795564800000000LL);
	assert_int_equal(cli_parse_since("yesterday", now, &us), -1);
	assert_int_equal(cli_parse_since("d", now, &us), -1);
	assert_int_equal(cli_parse_since("-1h", now, &us), -1);
	assert_int_equal(cli_parse_since("9999d", now, &us), -1);
	assert_int_equal(cli_parse_since("", now, &us), -1);
}

static void
test_age_and_skew_format(void **state)
{
	(void) state;
	char b[32];
	assert_string_equal(cli_age_format(0, b, sizeof(b)), "0s");
	assert_string_equal(cli_age_format(-5000000, b, sizeof(b)), "0s");
	assert_string_equal(cli_age_format(4900000, b, sizeof(b)), "4s");
	assert_string_equal(cli_age_format(190LL * 1000000, b, sizeof(b)), "3m10s");
	assert_string_equal(cli_age_format(7500LL * 1000000, b, sizeof(b)), "2h05m");
	assert_string_equal(
	    cli_age_format((3 * 86400 + 4 * 3600) * 1000000LL, b, sizeof(b)), "3d04h");
	assert_string_equal(cli_skew_format(3200000, b, sizeof(b)), "+3.2s");
	assert_string_equal(cli_skew_format(-65LL * 1000000, b, sizeof(b)), "-1m05s");
}

// --label KEY=VALUE: checked as the collector will, repeatable up to the limit, no key twice.
static void
test_labels_option(void **state)
{
	(void) state;
	cli_labels l = { .n = 0 };
	char       err[256];
	char       a[] = "env=prod", b[] = "service=orders", c[] = "env=staging", d[] = "env";
	assert_int_equal(cli_labels_add(&l, a, err, sizeof(err)), 0);
	assert_int_equal(cli_labels_add(&l, b, err, sizeof(err)), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0], "env=prod");
	assert_int_equal(cli_labels_add(&l, c, err, sizeof(err)), -1);
	assert_string_equal(err, "--label: label key \"env\" given twice");
	assert_int_equal(cli_labels_add(&l, d, err, sizeof(err)), -1);
	assert_string_equal(err, "--label: label \"env\" is not KEY=VALUE");
	assert_int_equal(l.n, 2);

	char buf[FL_LABELS_MAX][8];
	l.n = 0;
	for (int i = 0; i < FL_LABELS_MAX; i++) {
		snprintf(buf[i], sizeof(buf[i]), "k%d=v", i);
		assert_int_equal(cli_labels_add(&l, buf[i], err, sizeof(err)), 0);
	}
	char more[] = "z=1";
	assert_int_equal(cli_labels_add(&l, more, err, sizeof(err)), -1);
	assert_string_equal(err, "--label: at most 16 labels");
}

// Messages name the option, not the value that follows it.
static void
test_opt_name(void **state)
{
	(void) state;
	static const struct option o[] = {
		{ "max-latency-ratio", required_argument, NULL, 300 },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	assert_string_equal(cli_opt_name(o, 300), "--max-latency-ratio");
	assert_string_equal(cli_opt_name(o, 'j'), "--json");
	assert_string_equal(cli_opt_name(o, 'C'), "-C");
	assert_string_equal(cli_opt_name(o, 999), "the option");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_global_defaults),
		cmocka_unit_test(test_global_env_then_flag),
		cmocka_unit_test(test_global_errors),
		cmocka_unit_test(test_global_help_version_no_command),
		cmocka_unit_test(test_command_options_restart),
		cmocka_unit_test(test_parse_opts_shared_and_own),
		cmocka_unit_test(test_parse_opts_exits),
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_since),
		cmocka_unit_test(test_age_and_skew_format),
		cmocka_unit_test(test_labels_option),
		cmocka_unit_test(test_opt_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
