// config_test.c - the agent config loader: defaults, every probe kind, and each bad input with
// its exact "FILE:LINE: message".

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "fl/log.h"

static char err[AGENT_CFG_ERRLEN];

static agent_config *
parse_ok(const char *text)
{
	agent_config *cfg = NULL;
	int           rv  = agent_config_parse("t.conf", text, &cfg, err, sizeof(err));
	if (rv != 0) {
		print_error("unexpected error: %s\n", err);
	}
	assert_int_equal(rv, 0);
	assert_non_null(cfg);
	return cfg;
}

static void
expect_err(const char *text, const char *want)
{
	agent_config *cfg = NULL;
	assert_int_equal(agent_config_parse("t.conf", text, &cfg, err, sizeof(err)), -1);
	assert_null(cfg);
	assert_string_equal(err, want);
}

static void
test_defaults(void **state)
{
	(void) state;
	agent_config *cfg = parse_ok("[agent]\n");
	char          host[256];
	gethostname(host, sizeof(host));
	assert_string_equal(cfg->name, host);
	assert_string_equal(cfg->collector, "tcp://127.0.0.1:7600");
	assert_string_equal(cfg->survey, "tcp://127.0.0.1:7601");
	assert_int_equal(cfg->interval_ms, 5000);
	assert_string_equal(cfg->state_dir, "/var/lib/faultline-agent");
	assert_int_equal(cfg->spool_size, 1000);
	assert_string_equal(cfg->release_file, "");
	assert_string_equal(cfg->expectations, "");
	assert_int_equal(cfg->log_level, -1);
	assert_int_equal(cfg->n_probes, 0);
	agent_config_free(cfg);
}

static void
test_full_config(void **state)
{
	(void) state;
	agent_config *cfg = parse_ok("; comment\n"
	                             "[agent]\n"
	                             "name = app1\n"
	                             "collector = tcp://10.0.0.1:7600\n"
	                             "survey = tcp://10.0.0.1:7601\n"
	                             "interval = 1.5s\n"
	                             "release_file = /srv/app/RELEASE\n"
	                             "expectations = /srv/app/expect.ini\n"
	                             "state_dir = /tmp/st\n"
	                             "log_level = debug\n"
	                             "spool_size = 10\n"
	                             "\n"
	                             "[http \"app\"]\n"
	                             "url = http://127.0.0.1:8080/health\n"
	                             "expect_status = 200-299\n"
	                             "body_contains = ok\n"
	                             "timeout = 3s\n"
	                             "slow = 500ms\n"
	                             "tls_verify = no\n"
	                             "header = X-A: 1\n"
	                             "header = X-B: 2\n"
	                             "[tcp \"cache\"]\n"
	                             "address = 127.0.0.1:6379\n"
	                             "[dns \"db-name\"]\n"
	                             "name = localhost ; inline comment\n"
	                             "expect = 127.0.0.1\n");
	assert_string_equal(cfg->name, "app1");
	assert_string_equal(cfg->collector, "tcp://10.0.0.1:7600");
	assert_int_equal(cfg->interval_ms, 1500);
	assert_string_equal(cfg->release_file, "/srv/app/RELEASE");
	assert_string_equal(cfg->expectations, "/srv/app/expect.ini");
	assert_int_equal(cfg->log_level, FL_LOG_DEBUG);
	assert_int_equal(cfg->spool_size, 10);
	assert_int_equal(cfg->n_probes, 3);
	assert_string_equal(cfg->probes[0].name, "app");
	assert_string_equal(cfg->probes[0].ops->section, "http");
	assert_int_equal(cfg->probes[0].line, 13);
	assert_string_equal(
	    cfg->probes[0].ops->target(cfg->probes[0].ctx), "http://127.0.0.1:8080/health");
	assert_int_equal(cfg->probes[0].ops->timeout_ms(cfg->probes[0].ctx), 3000);
	assert_string_equal(cfg->probes[1].ops->target(cfg->probes[1].ctx), "127.0.0.1:6379");
	assert_int_equal(cfg->probes[1].ops->timeout_ms(cfg->probes[1].ctx), 1000);
	assert_string_equal(cfg->probes[2].ops->target(cfg->probes[2].ctx), "localhost");
	assert_int_equal(agent_config_max_timeout_ms(cfg), 3000);
	agent_config_free(cfg);
}

static void
test_long_url_line(void **state)
{
	(void) state;
	char text[1200];
	char url[900];
	memset(url, 'a', sizeof(url));
	memcpy(url, "http://h/", 9);
	url[sizeof(url) - 1] = '\0';
	snprintf(text, sizeof(text), "[http \"x\"]\nurl = %s\n", url);
	agent_config *cfg = parse_ok(text);
	assert_string_equal(cfg->probes[0].ops->target(cfg->probes[0].ctx), url);
	agent_config_free(cfg);
}

static void
test_unknown_section(void **state)
{
	(void) state;
	expect_err("[agent]\n\n[ftp \"x\"]\nurl = ftp://x\n",
	    "t.conf:3: unknown section kind \"ftp\" (expected agent, http, tcp, dns, postgres or "
	    "mysql)");
}

static void
test_unknown_key(void **state)
{
	(void) state;
	expect_err("[agent]\nname = a\ncolour = blue\n", "t.conf:3: [agent] colour: unknown key");
	expect_err("[http \"app\"]\nurl = http://x/\nurll = http://y/\n",
	    "t.conf:3: [http \"app\"] urll: unknown key (http probes take url, expect_status, "
	    "body_contains, timeout, slow, tls_verify, ca_file, cert_warn, header)");
}

static void
test_missing_url(void **state)
{
	(void) state;
	// Named at the section header's line, including a section with no keys at all.
	expect_err("[agent]\n\n[http \"app\"]\ntimeout = 1s\n",
	    "t.conf:3: [http \"app\"]: missing required key url");
	expect_err("[http \"app\"]\n[tcp \"t\"]\naddress = 127.0.0.1:1\n",
	    "t.conf:1: [http \"app\"]: missing required key url");
	expect_err(
	    "[tcp \"t\"]\n", "t.conf:1: [tcp \"t\"]: missing required key address (HOST:PORT)");
	expect_err("[dns \"d\"]\n",
	    "t.conf:1: [dns \"d\"]: missing required key name (the host name to resolve)");
}

static void
test_bad_duration(void **state)
{
	(void) state;
	expect_err("[agent]\ninterval = 5x\n",
	    "t.conf:2: [agent] interval: bad duration \"5x\" (use e.g. 500ms, 5s, 1m; at least "
	    "100ms)");
	expect_err("[http \"a\"]\nurl = http://x/\n\ntimeout = soon\n",
	    "t.conf:4: [http \"a\"] timeout: bad duration \"soon\" (use e.g. 500ms, 2s, 1m; more "
	    "than 0)");
	expect_err("[tcp \"a\"]\naddress = h:1\ntimeout = 0s\n",
	    "t.conf:3: [tcp \"a\"] timeout: bad duration \"0s\" (use e.g. 500ms, 2s, 1m; more than "
	    "0)");
}

static void
test_duplicate_name(void **state)
{
	(void) state;
	expect_err("[http \"app\"]\nurl = http://x/\n[tcp \"app\"]\naddress = h:1\n",
	    "t.conf:3: duplicate probe name \"app\" (first defined at t.conf:1)");
	expect_err("[agent]\n[agent]\n", "t.conf:2: duplicate section [agent] (first at t.conf:1)");
	expect_err("[tcp \"a\"]\naddress = h:1\naddress = h:2\n",
	    "t.conf:3: [tcp \"a\"] address: duplicate key");
}

// A name or value that is not printable UTF-8 would pass here and then have every report
// refused by the collector: refused at load, naming the key and the offending byte.
static void
test_names_and_values_must_be_text(void **state)
{
	(void) state;
	expect_err("[agent]\nname = web\t01\n",
	    "t.conf:2: [agent] name: value contains a tab (0x09) at byte 4 (values must be "
	    "printable UTF-8)");
	expect_err("[agent]\nname = \x1b[31mweb\n",
	    "t.conf:2: [agent] name: value contains a control character (0x1b) at byte 1 "
	    "(values must be printable UTF-8)");
	expect_err("[agent]\nname = caf\xe9\n",
	    "t.conf:2: [agent] name: value contains invalid UTF-8 (0xe9) at byte 4 (values must "
	    "be printable UTF-8)");
	expect_err("[http \"a\tb\"]\nurl = http://x/\n",
	    "t.conf:1: [http \"a\\tb\"]: probe name contains a tab (0x09) at byte 2 (names must "
	    "be printable UTF-8)");
	expect_err("[tcp \"db\x1b(B\"]\naddress = h:1\n",
	    "t.conf:1: [tcp \"db\\x1b(B\"]: probe name contains a control character (0x1b) at byte "
	    "3 "
	    "(names must be printable UTF-8)");
	expect_err("[dns \"caf\xe9\"]\nname = localhost\n",
	    "t.conf:1: [dns \"caf\xef\xbf\xbd\"]: probe name contains invalid UTF-8 (0xe9) at "
	    "byte 4 (names must be printable UTF-8)");
	expect_err("[dns \"x\xe2\x80\xae\"]\nname = localhost\n",
	    "t.conf:1: [dns \"x\\u202e\"]: probe name contains a bidi or line control (U+202E) "
	    "at byte 2 (names must be printable UTF-8)");
	expect_err("[http \"app\"]\nurl = http://x/\x9b\n",
	    "t.conf:2: [http \"app\"] url: value contains invalid UTF-8 (0x9b) at byte 10 (values "
	    "must be printable UTF-8)");
	// Valid UTF-8 is text: accepted as is.
	agent_config *cfg = parse_ok("[agent]\nname = caf\xc3\xa9-\xe6\x97\xa5\n"
	                             "[dns \"\xe6\x97\xa5\"]\nname = localhost\n");
	assert_string_equal(cfg->name, "caf\xc3\xa9-\xe6\x97\xa5");
	assert_string_equal(cfg->probes[0].name, "\xe6\x97\xa5");
	agent_config_free(cfg);
}

static void
test_empty_config_refused(void **state)
{
	(void) state;
	agent_config *cfg = parse_ok("[agent]\nname = a\n");
	assert_int_equal(agent_config_check_probes(cfg, false, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "t.conf:0: no probes configured: add a probe section such as "
	    "[http \"app\"] (or run with --allow-empty, or set allow_empty = yes, to report no "
	    "probes on purpose)");
	assert_int_equal(agent_config_check_probes(cfg, true, err, sizeof(err)), 0);
	agent_config_free(cfg);
	cfg = parse_ok("[agent]\nname = a\nallow_empty = yes\n");
	assert_int_equal(agent_config_check_probes(cfg, false, err, sizeof(err)), 0);
	agent_config_free(cfg);
	expect_err(
	    "[agent]\nallow_empty = maybe\n", "t.conf:2: [agent] allow_empty: must be yes or no");
	cfg = parse_ok("[dns \"d\"]\nname = localhost\n");
	assert_int_equal(agent_config_check_probes(cfg, false, err, sizeof(err)), 0);
	agent_config_free(cfg);
}

// A UTF-8 byte order mark is not "outside any section" text: the file reads as without it.
static void
test_byte_order_mark(void **state)
{
	(void) state;
	agent_config *cfg = parse_ok("\xEF\xBB\xBF[agent]\nname = bom\ninterval = 1s\n"
	                             "[dns \"d\"]\nname = localhost\n");
	assert_string_equal(cfg->name, "bom");
	assert_int_equal(cfg->interval_ms, 1000);
	assert_int_equal(cfg->n_probes, 1);
	assert_int_equal(cfg->probes[0].line, 4);
	agent_config_free(cfg);
	expect_err("\xEF\xBB\xBF[agent]\nname = bom\ncolour = blue\n",
	    "t.conf:3: [agent] colour: unknown key");
}

static void
test_unreadable_file(void **state)
{
	(void) state;
	agent_config *cfg = NULL;
	assert_int_equal(agent_config_load("/nonexistent/agent.conf", &cfg, err, sizeof(err)), -1);
	assert_string_equal(
	    err, "/nonexistent/agent.conf:0: cannot read: No such file or directory");
	assert_int_equal(agent_config_load("/tmp", &cfg, err, sizeof(err)), -1);
	assert_string_equal(err, "/tmp:0: cannot read: not a regular file");
	assert_null(cfg);
}

static void
test_load_file(void **state)
{
	(void) state;
	char  path[] = "/tmp/fl-agent-config-XXXXXX";
	int   fd     = mkstemp(path);
	FILE *f      = fdopen(fd, "w");
	assert_non_null(f);
	fputs("[agent]\nname = fromfile\n[tcp \"t\"]\naddress = [::1]:80\n[http \"h\"]\n", f);
	fclose(f);
	agent_config *cfg = NULL;
	assert_int_equal(agent_config_load(path, &cfg, err, sizeof(err)), -1);
	char want[256];
	snprintf(want, sizeof(want), "%s:5: [http \"h\"]: missing required key url", path);
	assert_string_equal(err, want);
	unlink(path);
}

static void
test_all_errors_reported(void **state)
{
	(void) state;
	expect_err(
	    "oops = 1\n[agent]\ninterval = x\n[nope]\nfoo = bar\n[http \"a\"]\nurl = ftp://x\n"
	    "this is not ini\n",
	    "t.conf:1: key \"oops\" outside any section (put it under [agent])\n"
	    "t.conf:3: [agent] interval: bad duration \"x\" (use e.g. 500ms, 5s, 1m; at least "
	    "100ms)\n"
	    "t.conf:4: unknown section kind \"nope\" (expected agent, http, tcp, dns, postgres or "
	    "mysql)\n"
	    "t.conf:7: [http \"a\"] url: must be an http:// or https:// URL under 1024 characters\n"
	    "t.conf:8: syntax error (expected [section], key = value or a comment)");
}

// A secret in the URL's query is as reported as one in user:password@: refused, named.
static void
test_url_query_secrets(void **state)
{
	(void) state;
	static const struct {
		const char *url, *param;
	} refused[] = {
		{ "http://h/health?password=hunter2", "password" },
		{ "http://h/health?x=1&PWD=hunter2", "PWD" },
		{ "https://h/?api_key=abc", "api_key" },
		{ "http://h/?a=1;token=abc#frag", "token" },
		{ "http://h/?db_password=x", "db_password" },
		{ "http://h/?x-auth-token=x", "x-auth-token" },
		{ "http://h/?secret", "secret" },
		{ "http://h/?X-Amz-Signature=ab", "X-Amz-Signature" },
	};
	char text[256], want[512];
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		snprintf(text, sizeof(text), "[http \"a\"]\nurl = %s\n", refused[i].url);
		snprintf(want, sizeof(want),
		    "t.conf:2: [http \"a\"] url: must not carry a secret in its query (%s=...; it "
		    "is reported as the target); use header = Authorization: ...",
		    refused[i].param);
		expect_err(text, want);
	}
	// Names that only contain such a word, and secrets after the fragment, are not query
	// parameters that carry one.
	agent_config *cfg = parse_ok("[http \"a\"]\nurl = http://h/?q=password&passwordless=1"
	                             "&keyboard=us#token=x\n");
	agent_config_free(cfg);
}

static void
test_bad_values(void **state)
{
	(void) state;
	expect_err("[http \"a\"]\nurl = http://u:secret@h/\n",
	    "t.conf:2: [http \"a\"] url: must not contain user:password@ (it is reported); use "
	    "header = Authorization: ...");
	expect_err("[http \"a\"]\nurl = http://h/\nexpect_status = 700\n",
	    "t.conf:3: [http \"a\"] expect_status: must be a status (200) or a range (200-299) "
	    "within 100-599");
	expect_err("[http \"a\"]\nurl = http://h/\ntimeout = 1s\nslow = 2s\n",
	    "t.conf:1: [http \"a\"]: slow (2000ms) must be below timeout (1000ms)");
	// Every probe kind checks slow against timeout with the same helper and words (the database
	// probes, which live in modules, in db_probes_test).
	expect_err("[tcp \"a\"]\naddress = h:1\ntimeout = 1s\nslow = 1s\n",
	    "t.conf:1: [tcp \"a\"]: slow (1000ms) must be below timeout (1000ms)");
	expect_err("[dns \"a\"]\nname = h\ntimeout = 1s\nslow = 3s\n",
	    "t.conf:1: [dns \"a\"]: slow (3000ms) must be below timeout (1000ms)");
	expect_err("[tcp \"a\"]\naddress = nohost\n",
	    "t.conf:2: [tcp \"a\"] address: must be HOST:PORT or [IPv6]:PORT, port 1-65535");
	expect_err("[agent]\ncollector = 127.0.0.1:7600\n",
	    "t.conf:2: [agent] collector: must be an nng URL such as tcp://HOST:PORT or "
	    "ipc:///PATH");
	expect_err("[http]\nurl = http://h/\n",
	    "t.conf:1: probe section [http] needs a name: [http "
	    "\"NAME\"]");
}

// Several collectors: a comma list, blanks allowed, each URL checked, at most FL_URLS_MAX, and
// errors at FILE:LINE naming the entry at fault.
static void
test_collector_lists(void **state)
{
	(void) state;
	agent_config *cfg = parse_ok("[agent]\n"
	                             "collector = tcp://c1:7600, tcp://c2:7600\n"
	                             "survey = tcp://c1:7601,tcp://c2:7601\n"
	                             "[tcp \"a\"]\naddress = h:1\n");
	assert_string_equal(cfg->collector, "tcp://c1:7600, tcp://c2:7600");
	assert_string_equal(cfg->survey, "tcp://c1:7601,tcp://c2:7601");
	agent_config_free(cfg);
	expect_err("[agent]\ncollector = tcp://c1:7600, c2:7600\n",
	    "t.conf:2: [agent] collector: \"c2:7600\" must be an nng URL such as tcp://HOST:PORT "
	    "or ipc:///PATH");
	expect_err("[agent]\nsurvey = tcp://c1:7601, tcp://c1:7601\n",
	    "t.conf:2: [agent] survey: \"tcp://c1:7601\" is in the list twice");
	expect_err("[agent]\ncollector = tcp://c1:1,tcp://c2:1,tcp://c3:1,tcp://c4:1,tcp://c5:1,"
	           "tcp://c6:1,tcp://c7:1,tcp://c8:1,tcp://c9:1\n",
	    "t.conf:2: [agent] collector: more than 8 URLs in the list");
	// TLS in any entry needs the TLS keys.
	expect_err("[agent]\ncollector = tcp://c1:7600, tls+tcp://c2:7600\n",
	    "t.conf:0: [agent] a tls+tcp:// collector or survey needs tls_ca, tls_cert and "
	    "tls_server_name");
}

static void
test_status_range(void **state)
{
	(void) state;
	int lo = 0, hi = 0;
	assert_int_equal(agent_parse_status_range("200", &lo, &hi), 0);
	assert_int_equal(lo, 200);
	assert_int_equal(hi, 200);
	assert_int_equal(agent_parse_status_range("200-399", &lo, &hi), 0);
	assert_int_equal(lo, 200);
	assert_int_equal(hi, 399);
	assert_int_equal(agent_parse_status_range("300-200", &lo, &hi), -1);
	assert_int_equal(agent_parse_status_range("99", &lo, &hi), -1);
	assert_int_equal(agent_parse_status_range("600", &lo, &hi), -1);
	assert_int_equal(agent_parse_status_range("2xx", &lo, &hi), -1);
	assert_int_equal(agent_parse_status_range("-200", &lo, &hi), -1);
	assert_int_equal(agent_parse_status_range("200-", &lo, &hi), -1);
	assert_int_equal(lo, 200);
	assert_int_equal(hi, 399);
}

static void
test_durations(void **state)
{
	(void) state;
	agent_config *cfg =
	    parse_ok("[agent]\ninterval = 1m\n[tcp \"a\"]\naddress = h:1\ntimeout = "
	             "250ms\n[tcp \"b\"]\naddress = h:1\ntimeout = 2\n");
	assert_int_equal(cfg->interval_ms, 60000);
	assert_int_equal(cfg->probes[0].ops->timeout_ms(cfg->probes[0].ctx), 250);
	assert_int_equal(cfg->probes[1].ops->timeout_ms(cfg->probes[1].ctx), 2000);
	agent_config_free(cfg);
	expect_err("[agent]\ninterval = 50ms\n",
	    "t.conf:2: [agent] interval: bad duration \"50ms\" (use e.g. 500ms, 5s, 1m; at least "
	    "100ms)");
	expect_err("[agent]\ninterval = -5s\n",
	    "t.conf:2: [agent] interval: bad duration \"-5s\" (use e.g. 500ms, 5s, 1m; at least "
	    "100ms)");
}

// `labels = env=prod, service=orders`, with every bad form reported at its line.
static void
test_labels(void **state)
{
	(void) state;
	agent_config *cfg = parse_ok("[agent]\nlabels = env=prod, service=orders\n");
	assert_int_equal(cfg->n_labels, 2);
	assert_string_equal(cfg->labels[0], "env=prod");
	assert_string_equal(cfg->labels[1], "service=orders");
	agent_config_free(cfg);
	cfg = parse_ok("[agent]\n");
	assert_int_equal(cfg->n_labels, 0); // none by default
	agent_config_free(cfg);

	expect_err("[agent]\nname = a\nlabels = env\n",
	    "t.conf:3: [agent] labels: label \"env\" is not KEY=VALUE");
	expect_err("[agent]\nlabels = env=prod, env=staging\n",
	    "t.conf:2: [agent] labels: label key \"env\" given twice");
	expect_err("[agent]\nlabels = env=prod,\n",
	    "t.conf:2: [agent] labels: empty label at the end of \"env=prod,\"");
	expect_err("[agent]\nlabels = 9env=prod\n",
	    "t.conf:2: [agent] labels: label \"9env=prod\": the key must be 1 to 63 characters "
	    "starting with a letter");
	expect_err("[agent]\nlabels = env=pr\"od\n",
	    "t.conf:2: [agent] labels: label \"env=pr\"od\": the value may hold only letters, "
	    "digits and _ . : / + -");
	expect_err("[agent]\nlabels = "
	           "a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9,j=10,k=11,l=12,m=13,n=14,o=15,p=16,q=17\n",
	    "t.conf:2: [agent] labels: more than 16 labels");
	expect_err(
	    "[agent]\nlabels = a=1\nlabels = b=2\n", "t.conf:3: [agent] labels: duplicate key");
}

static void
test_log_format(void **state)
{
	(void) state;
	agent_config *cfg = parse_ok("[agent]\n");
	assert_false(cfg->log_json);
	agent_config_free(cfg);
	cfg = parse_ok("[agent]\nlog_format = json\n");
	assert_true(cfg->log_json);
	agent_config_free(cfg);
	expect_err(
	    "[agent]\nlog_format = xml\n", "t.conf:2: [agent] log_format: must be text or json");
}

// conf.d: a config-management tool drops one probe per file.
static char dir[64];

static void
put(const char *name, const char *text)
{
	char  path[160];
	FILE *f;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

// Loads dir/agent.conf; returns the error text with dir replaced by "D" ("" when it loads).
static const char *
load_dir(agent_config **out)
{
	static char shown[AGENT_CFG_ERRLEN];
	char        path[160];
	size_t      n = strlen(dir), o = 0;

	snprintf(path, sizeof(path), "%s/agent.conf", dir);
	*out = NULL;
	if (agent_config_load(path, out, err, sizeof(err)) == 0) {
		return "";
	}
	for (const char *s = err; *s != '\0' && o + 1 < sizeof(shown);) {
		if (strncmp(s, dir, n) == 0) {
			shown[o++] = 'D';
			s += n;
		} else {
			shown[o++] = *s++;
		}
	}
	shown[o] = '\0';
	return shown;
}

static int
make_dir(void **state)
{
	(void) state;
	snprintf(dir, sizeof(dir), "/tmp/fl-agent-confd-XXXXXX");
	assert_non_null(mkdtemp(dir));
	char sub[96];
	snprintf(sub, sizeof(sub), "%s/conf.d", dir);
	return mkdir(sub, 0700);
}

static int
remove_dir(void **state)
{
	(void) state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_include_confd(void **state)
{
	agent_config *cfg;

	(void) state;
	// Sorted order (20 after 10 whatever the directory order), relative to agent.conf's
	// directory, then the main file's own sections; a non-matching file is not read.
	put("agent.conf",
	    "; managed\ninclude = conf.d/*.conf\n[agent]\nname = a1\n"
	    "[tcp \"main\"]\naddress = h:3\n");
	put("conf.d/20-db.conf", "[tcp \"db\"]\naddress = h:2\n");
	put("conf.d/10-app.conf", "[http \"app\"]\nurl = http://h/\n");
	put("conf.d/README", "not ini at all\n");
	assert_string_equal(load_dir(&cfg), "");
	assert_string_equal(cfg->name, "a1");
	assert_int_equal(cfg->n_probes, 3);
	assert_string_equal(cfg->probes[0].name, "app");
	assert_string_equal(cfg->probes[1].name, "db");
	assert_string_equal(cfg->probes[2].name, "main");
	agent_config_free(cfg);

	// An absolute glob that matches nothing is fine (an empty conf.d).
	char text[200];
	snprintf(text, sizeof(text), "include = %s/none.d/*.conf\n[agent]\n", dir);
	put("agent.conf", text);
	assert_string_equal(load_dir(&cfg), "");
	agent_config_free(cfg);
}

static void
test_include_errors(void **state)
{
	agent_config *cfg;

	(void) state;
	// A probe defined in two files: both places named. Errors in an included file name it
	// and its line; every error of every file is reported.
	put("agent.conf", "include = conf.d/*.conf\n[tcp \"app\"]\naddress = h:1\n");
	put("conf.d/10-app.conf", "\n[http \"app\"]\nurl = http://h/\nurll = x\n");
	put("conf.d/20-app.conf", "[http \"app\"]\nurl = http://h/\n[agent]\ninclude = x\n");
	assert_string_equal(load_dir(&cfg),
	    "D/agent.conf:2: duplicate probe name \"app\" (first defined at "
	    "D/conf.d/20-app.conf:1)\n"
	    "D/conf.d/10-app.conf:4: [http \"app\"] urll: unknown key (http probes take url, "
	    "expect_status, body_contains, timeout, slow, tls_verify, ca_file, cert_warn, "
	    "header)\n"
	    "D/conf.d/20-app.conf:4: include: not allowed in an included file (only the main "
	    "config file includes)");
	assert_null(cfg);
	unlink(strcat(strcpy((char[160]) { 0 }, dir), "/conf.d/10-app.conf"));
	unlink(strcat(strcpy((char[160]) { 0 }, dir), "/conf.d/20-app.conf"));

	// [agent] twice across files; include after a section; an included directory.
	put("conf.d/a.conf", "[agent]\nname = x\n");
	put("agent.conf", "include = conf.d/*.conf\n[agent]\ninclude = conf.d\n");
	assert_string_equal(load_dir(&cfg),
	    "D/agent.conf:2: duplicate section [agent] (first at D/conf.d/a.conf:1)\n"
	    "D/agent.conf:3: include: must come before the first section of the file");
	put("agent.conf", "include = conf.d\n");
	assert_string_equal(
	    load_dir(&cfg), "D/agent.conf:1: include: cannot read D/conf.d: not a regular file");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_log_format),
		cmocka_unit_test(test_full_config),
		cmocka_unit_test(test_long_url_line),
		cmocka_unit_test(test_unknown_section),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_missing_url),
		cmocka_unit_test(test_bad_duration),
		cmocka_unit_test(test_duplicate_name),
		cmocka_unit_test(test_names_and_values_must_be_text),
		cmocka_unit_test(test_url_query_secrets),
		cmocka_unit_test(test_empty_config_refused),
		cmocka_unit_test(test_byte_order_mark),
		cmocka_unit_test(test_unreadable_file),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_status_range),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_collector_lists),
		cmocka_unit_test_setup_teardown(test_include_confd, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_include_errors, make_dir, remove_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
