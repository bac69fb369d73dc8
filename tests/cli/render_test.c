// render_test.c - the CLI's human and JSON renderings of collector replies, and exit codes.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"

#define NOW_US 1795615640000000LL // 2026-11-25T14:07:20Z

// Captures what a renderer writes: pass cap_open(&c) as its FILE, then take cap_close(&c).
typedef struct cap {
	char  *buf;
	size_t len;
	FILE  *out;
} cap;

static FILE *
cap_open(cap *c)
{
	c->buf = NULL;
	c->len = 0;
	c->out = open_memstream(&c->buf, &c->len);
	assert_non_null(c->out);
	return c->out;
}

static char *
cap_close(cap *c)
{
	fclose(c->out);
	return c->buf; // the caller frees
}

// A fixture: app1 healthy on 2.4.0; app2 stale with a failing database probe that misses a
// grant, a skewed clock and a broken expectations file.
typedef struct fixture {
	Fl__StatusReply       reply;
	Fl__HostState         h1, h2;
	Fl__HostState        *hosts[2];
	Fl__ProbeResult       p1, p2, p3;
	Fl__ProbeResult      *probes1[1], *probes2[2];
	Fl__UnmetRequirement  u;
	Fl__UnmetRequirement *unmet[1];
	Fl__Timing            timing;
	Fl__CollectorStats    stats;
	char                 *labels1[2];
} fixture;

static char *
s(const char *lit)
{
	return (char *) lit; // protobuf-c fields are char *; the fixture never frees them
}

static void
fixture_init(fixture *f)
{
	memset(f, 0, sizeof(*f));
	fl__status_reply__init(&f->reply);
	fl__host_state__init(&f->h1);
	fl__host_state__init(&f->h2);
	fl__probe_result__init(&f->p1);
	fl__probe_result__init(&f->p2);
	fl__probe_result__init(&f->p3);
	fl__unmet_requirement__init(&f->u);
	fl__timing__init(&f->timing);
	fl__collector_stats__init(&f->stats);

	f->p1.name         = s("app");
	f->p1.kind         = FL__PROBE_KIND__KIND_HTTP;
	f->p1.target       = s("http://127.0.0.1:8080/health");
	f->p1.status       = FL__STATUS__STATUS_OK;
	f->p1.detail       = s("HTTP 200");
	f->p1.duration_us  = 12300;
	f->timing.dns_us   = 100;
	f->timing.total_us = 12300;
	f->p1.timing       = &f->timing;
	f->probes1[0]      = &f->p1;

	f->p2.name        = s("orders");
	f->p2.kind        = FL__PROBE_KIND__KIND_POSTGRES;
	f->p2.status      = FL__STATUS__STATUS_FAIL;
	f->p2.failure     = FL__FAILURE_CLASS__FAILURE_PRIVILEGE_MISSING;
	f->p2.detail      = s("permission denied for table orders");
	f->p2.duration_us = 3100;
	f->u.database     = s("orders");
	f->u.kind         = FL__OBJECT_KIND__OBJECT_TABLE;
	f->u.object       = s("public.orders");
	f->u.privilege    = s("SELECT");
	f->u.role         = s("app");
	f->unmet[0]       = &f->u;
	f->p2.n_unmet     = 1;
	f->p2.unmet       = f->unmet;
	f->p3.name        = s("cache");
	f->p3.kind        = FL__PROBE_KIND__KIND_TCP;
	f->p3.status      = FL__STATUS__STATUS_WARN;
	f->p3.failure     = FL__FAILURE_CLASS__FAILURE_SLOW;
	f->p3.duration_us = 650000;
	f->probes2[0]     = &f->p2;
	f->probes2[1]     = &f->p3;

	f->h1.host          = s("app1");
	f->h1.release       = s("2.4.0");
	f->h1.last_seen_us  = NOW_US - 2000000;
	f->h1.interval_ms   = 5000;
	f->h1.n_probes      = 1;
	f->h1.probes        = f->probes1;
	f->h1.clock_skew_us = 1500000; // below the 2 s threshold: not shown
	f->labels1[0]       = s("env=prod");
	f->labels1[1]       = s("service=orders");
	f->h1.n_labels      = 2;
	f->h1.labels        = f->labels1;

	f->h2.host               = s("app-server-2");
	f->h2.release            = s("2.3.9");
	f->h2.last_seen_us       = NOW_US - 41000000;
	f->h2.stale              = true;
	f->h2.clock_skew_us      = -3200000;
	f->h2.expectations_error = s("/srv/app/expect.ini:3: unknown key");
	f->h2.n_probes           = 2;
	f->h2.probes             = f->probes2;

	f->hosts[0]               = &f->h1;
	f->hosts[1]               = &f->h2;
	f->reply.now_us           = NOW_US;
	f->reply.n_hosts          = 2;
	f->reply.hosts            = f->hosts;
	f->stats.reports_received = 10;
	f->stats.dropped_schema   = 1;
	f->reply.stats            = &f->stats;
}

static void
test_status_human_table(void **state)
{
	(void) state;
	fixture f;
	int     rc;
	cap     c;
	fixture_init(&f);
	char *text = (rc = cli_status_print(&f.reply, cap_open(&c), false), cap_close(&c));
	assert_int_equal(rc, CLI_EXIT_FAILING);
	// Columns aligned: every probe row has its PROBE column at the same offset as the header.
	const char *hdr = strstr(text, "PROBE");
	assert_non_null(hdr);
	size_t      col  = (size_t) (hdr - text);
	const char *row1 = strstr(text, "\napp1 ");
	const char *row2 = strstr(text, "\napp-server-2 ");
	assert_non_null(row1);
	assert_non_null(row2);
	assert_int_equal(strstr(row1, "app ") - row1 - 1, (long) col);
	assert_int_equal(strstr(row2, "orders") - row2 - 1, (long) col);
	assert_non_null(strstr(text, "2s ago"));
	assert_non_null(strstr(text, "41s ago STALE"));
	assert_non_null(strstr(text, "privilege_missing"));
	assert_non_null(strstr(text, "12.3ms"));
	// The unmet requirement under its probe, indented below the PROBE column.
	const char *miss = strstr(text, "  missing: SELECT on public.orders for role app\n");
	assert_non_null(miss);
	assert_true(miss > row2);
	assert_int_equal(miss[-(long) col - 1], '\n');
	assert_non_null(strstr(text, "clock skew -3.2s"));
	assert_null(strstr(text, "clock skew +1.5s")); // under 2 s
	assert_non_null(strstr(text, "expectations: /srv/app/expect.ini:3: unknown key"));
	// Labels under their host, below the PROBE column; a host without labels has no line.
	const char *lab = strstr(text, "  labels: env=prod, service=orders\n");
	assert_non_null(lab);
	assert_true(lab > row1 && lab < row2);
	assert_int_equal(lab[-(long) col - 1], '\n');
	assert_null(strstr(row2, "labels:"));
	assert_non_null(strstr(text, "2 hosts (1 stale), 3 probes: 1 ok, 1 warn, 1 fail"));
	assert_non_null(strstr(text, "\ncollector dropped 1 of 10 reports: 1 wrong schema\n"));
	assert_null(strstr(text, "\033[")); // no colour asked
	assert_null(strstr(text, " \n"));   // no trailing blanks
	free(text);

	text = (rc = cli_status_print(&f.reply, cap_open(&c), true), cap_close(&c));
	assert_non_null(strstr(text, "\033[31mfail\033[0m"));
	assert_non_null(strstr(text, "\033[32mok\033[0m"));
	assert_non_null(strstr(text, "\033[33mwarn\033[0m"));
	free(text);
}

static void
test_status_exit_codes(void **state)
{
	(void) state;
	fixture f;
	fixture_init(&f);
	assert_int_equal(cli_status_exit(&f.reply), CLI_EXIT_FAILING);
	f.reply.n_hosts = 1; // app1 alone: ok
	assert_int_equal(cli_status_exit(&f.reply), CLI_EXIT_OK);
	f.p1.status = FL__STATUS__STATUS_WARN; // warn is ok
	assert_int_equal(cli_status_exit(&f.reply), CLI_EXIT_OK);
	f.h1.stale = true; // stale is not
	assert_int_equal(cli_status_exit(&f.reply), CLI_EXIT_FAILING);
	f.h1.stale  = false;
	f.hosts[0]  = &f.h2;
	f.h2.stale  = false;
	f.p2.status = FL__STATUS__STATUS_OK;
	assert_int_equal(cli_status_exit(&f.reply), CLI_EXIT_OK);
	f.p3.status = FL__STATUS__STATUS_FAIL;
	assert_int_equal(cli_status_exit(&f.reply), CLI_EXIT_FAILING);
	f.reply.n_hosts = 0;
	assert_int_equal(cli_status_exit(&f.reply), CLI_EXIT_OK);
}

static void
test_status_json_shape(void **state)
{
	(void) state;
	fixture f;
	int     rc;
	cap     c;
	fixture_init(&f);
	char *text = (rc = cli_status_json(&f.reply, cap_open(&c), false), cap_close(&c));
	assert_int_equal(rc, CLI_EXIT_FAILING);
	assert_non_null(strstr(text,
	    "{\"now\":\"2026-11-25T14:07:20.000Z\",\"hosts\":[{\"host\":\"app1\","
	    "\"release\":\"2.4.0\",\"previous_release\":\"\","
	    "\"release_since\":null,\"agent_version\":\"\","
	    "\"interval_ms\":5000,\"last_seen\":\"2026-11-25T14:07:18.000Z\","
	    "\"age_s\":2,\"stale\":false,\"clock_skew_ms\":1500,"
	    "\"spool_dropped\":0,\"expectations_error\":\"\","
	    "\"labels\":{\"env\":\"prod\",\"service\":\"orders\"},\"probes\":[{"
	    "\"name\":\"app\",\"kind\":\"http\""));
	assert_non_null(strstr(text,
	    "\"expectations_error\":\"/srv/app/expect.ini:3: unknown key\","
	    "\"labels\":{},\"probes\":["));
	assert_non_null(strstr(text, "\"timing\":{\"dns_ms\":0.1,\"total_ms\":12.3}"));
	assert_non_null(strstr(text, "\"stale\":true,\"clock_skew_ms\":-3200"));
	assert_non_null(strstr(text,
	    "\"unmet\":[{\"database\":\"orders\",\"kind\":\"table\","
	    "\"object\":\"public.orders\",\"privilege\":\"SELECT\","
	    "\"object_missing\":false,\"role\":\"app\"}]"));
	assert_non_null(strstr(text, "\"failure\":\"privilege_missing\""));
	assert_non_null(strstr(text, "\"stats\":{\"reports_received\":10,\"reports_applied\":0,"));
	assert_non_null(strstr(text,
	    "\"dropped_unauthenticated\":0,\"dropped_host_limit\":0,\"dropped_probe_limit\":0,"
	    "\"reports_time_ignored\":0,\"control_clients_cut\":0,\"control_busy\":0,"
	    "\"connections_refused\":0,\"slow_abandoned\":0,\"fd_exhausted\":0,\"started\":null,"
	    "\"history_events_lost\":0,\"state_writes_lost\":0},"));
	// A collector from before the HA roles sends no role: it is single.
	assert_non_null(strstr(text,
	    "\"verifications\":[],\"rejected_senders\":[],\"notifications\":[],"
	    "\"role\":\"single\",\"active_name\":\"\",\"role_since_us\":0}\n"));
	free(text);
	f.reply.role          = (char *) "standby";
	f.reply.active_name   = (char *) "c2";
	f.reply.role_since_us = 1764079640000000;
	text = (rc = cli_status_json(&f.reply, cap_open(&c), false), cap_close(&c));
	assert_non_null(strstr(text,
	    "\"role\":\"standby\",\"active_name\":\"c2\",\"role_since_us\":1764079640000000}\n"));
	free(text);
}

// Text from agents and servers is not trusted to be text: the table shows control and bidi
// characters escaped and invalid UTF-8 as U+FFFD, and lines up wide characters; the JSON is
// valid UTF-8. Senders whose reports are refused are listed, with a count on their host row.
static void
test_hostile_text_and_rejected_senders(void **state)
{
	(void) state;
	fixture             f;
	cap                 c;
	Fl__RejectedSender  r1, r2;
	Fl__RejectedSender *rs[2] = { &r1, &r2 };
	fixture_init(&f);
	f.p1.detail = s("HTTP 200 \xc2\x9b"
	                "2J \xe2\x80\xae"
	                "evil \xe9t\xe9");
	f.h2.host   = s("\xe6\x97\xa5\xe6\x9c\xac"); // two wide characters, 4 columns
	fl__rejected_sender__init(&r1);
	fl__rejected_sender__init(&r2);
	r1.host                    = s("app1");
	r1.count                   = 5;
	r1.last_kind               = s("invalid");
	r1.last_reason             = s("result 0: probe name contains a tab (0x09) at byte 4");
	r1.last_at_us              = NOW_US - 1000000;
	r2.host                    = s("");
	r2.count                   = 2;
	r2.last_kind               = s("undecodable");
	r2.last_reason             = s("7 bytes are not a report");
	r2.last_at_us              = NOW_US - 5000000;
	f.reply.n_rejected_senders = 2;
	f.reply.rejected_senders   = rs;

	char *text = (cli_status_print(&f.reply, cap_open(&c), false), cap_close(&c));
	assert_non_null(strstr(text, "HTTP 200 \\x9b2J \\u202eevil \xef\xbf\xbdt\xef\xbf\xbd"));
	assert_null(strstr(text, "\xc2\x9b"));
	assert_null(strstr(text, "\xe2\x80\xae"));
	// The wide host name takes 4 columns: the PROBE column starts at the same place.
	const char *row1 = strstr(text, "\napp1 ");
	const char *row2 = strstr(text, "\n\xe6\x97\xa5\xe6\x9c\xac ");
	assert_non_null(row1);
	assert_non_null(row2);
	long col1 = strstr(row1, " app ") - row1;
	long col2 = strstr(row2, " orders ") - row2;
	assert_int_equal(col1 + 2, col2); // 4 bytes wider in UTF-8 (6 bytes, 4 columns) ...
	assert_non_null(strstr(text,
	    "refused reports from app1: 5, last at 2026-11-25T14:07:19.000Z "
	    "(invalid: result 0: probe name contains a tab (0x09) at "
	    "byte 4)\n"));
	assert_non_null(strstr(text, "refused reports from (no name): 2, "));
	free(text);

	text = (cli_status_json(&f.reply, cap_open(&c), false), cap_close(&c));
	assert_non_null(
	    strstr(text, "\"detail\":\"HTTP 200 \\u009b2J \\u202eevil \\ufffdt\\ufffd\""));
	assert_non_null(strstr(text, "\"reports_rejected\":5}"));
	assert_non_null(strstr(text,
	    "\"rejected_senders\":[{\"host\":\"app1\",\"count\":5,"
	    "\"last_kind\":\"invalid\",\"last_reason\":\"result 0: "
	    "probe name contains a tab (0x09) at byte 4\",\"last_at\":"
	    "\"2026-11-25T14:07:19.000Z\"},{\"host\":\"\",\"count\":2,"));
	free(text);
}

static void
test_hosts_human_and_json(void **state)
{
	(void) state;
	fixture f;
	int     rc;
	cap     c;
	fixture_init(&f);
	char *text = (rc = cli_hosts_print(&f.reply, cap_open(&c), false), cap_close(&c));
	assert_int_equal(rc, CLI_EXIT_FAILING);
	assert_string_equal(text,
	    "HOST          RELEASE  LAST SEEN  STALE  FAILING  LABELS\n"
	    "app1          2.4.0    2s ago     no     0/1      env=prod, service=orders\n"
	    "app-server-2  2.3.9    41s ago    yes    1/2      -\n");
	free(text);
	text = (rc = cli_hosts_json(&f.reply, cap_open(&c), false), cap_close(&c));
	assert_string_equal(text,
	    "{\"hosts\":[{\"host\":\"app1\",\"release\":\"2.4.0\",\"last_seen\":\"2026-11-25T14:07:"
	    "18.000Z\",\"stale\":false,\"probes_failing\":0,\"labels\":{\"env\":\"prod\","
	    "\"service\":\"orders\"}},{\"host\":\"app-server-2\","
	    "\"release\":\"2.3.9\",\"last_seen\":\"2026-11-25T14:06:39.000Z\",\"stale\":true,"
	    "\"probes_failing\":1,\"labels\":{}}]}\n");
	free(text);
}

static void
test_status_empty(void **state)
{
	(void) state;
	Fl__StatusReply r = FL__STATUS_REPLY__INIT;
	int             rc;
	cap             c;
	char           *text = (rc = cli_status_print(&r, cap_open(&c), false), cap_close(&c));
	assert_int_equal(rc, CLI_EXIT_OK);
	assert_string_equal(text, "no host has reported to this collector yet\n");
	free(text);
	r.now_us = NOW_US;
	text     = (rc = cli_status_json(&r, cap_open(&c), false), cap_close(&c));
	assert_non_null(strstr(text, "\"hosts\":[],\"stats\":{"));
	free(text);
}

// A kind newer than this CLI (unknown enum) shows the text the collector also sends.
static void
test_history_kind_newer_than_the_cli(void **state)
{
	(void) state;
	Fl__HistoryEvent  e  = FL__HISTORY_EVENT__INIT;
	Fl__HistoryEvent *ev = &e;
	Fl__HistoryReply  r  = FL__HISTORY_REPLY__INIT;
	int               rc;
	cap               c;
	e.at_us     = NOW_US;
	e.host      = s("app1");
	e.kind_enum = (Fl__HistoryKind) 99;
	e.kind      = s("moved");
	r.n_events  = 1;
	r.events    = &ev;
	char *text  = (rc = cli_history_json(&r, cap_open(&c), false), cap_close(&c));
	assert_int_equal(rc, CLI_EXIT_OK);
	assert_non_null(strstr(text, "\"kind\":\"moved\""));
	free(text);
}

static void
test_history_sorted_oldest_first(void **state)
{
	(void) state;
	Fl__HistoryEvent  e[3];
	Fl__HistoryEvent *ev[3];
	Fl__HistoryReply  r = FL__HISTORY_REPLY__INIT;
	int               rc;
	cap               c;
	for (int i = 0; i < 3; i++) {
		fl__history_event__init(&e[i]);
		ev[i]     = &e[i];
		e[i].host = s("app1");
	}
	// Sent newest first, with a tie that must keep the sent order.
	e[0].at_us = NOW_US;
	e[0].kind_enum =
	    FL__HISTORY_KIND__HISTORY_KIND_VERDICT; // the text is what an old CLI reads
	e[0].from      = s("healthy");
	e[0].to        = s("database");
	e[1].at_us     = NOW_US - 1000000;
	e[1].kind_enum = FL__HISTORY_KIND__HISTORY_KIND_STATUS;
	e[1].probe     = s("orders");
	e[1].from      = s("ok");
	e[1].to        = s("fail");
	e[1].failure   = FL__FAILURE_CLASS__FAILURE_REFUSED;
	e[1].detail    = s("connection refused");
	e[2].at_us     = NOW_US - 1000000;
	e[2].kind_enum = FL__HISTORY_KIND__HISTORY_KIND_RELEASE;
	e[2].from      = s("2.3.9");
	e[2].to        = s("2.4.0");
	r.n_events     = 3;
	r.events       = ev;

	char *text = (rc = cli_history_print(&r, cap_open(&c), false), cap_close(&c));
	assert_int_equal(rc, CLI_EXIT_OK);
	assert_string_equal(text,
	    "AT                        HOST  EVENT    PROBE   CHANGE              FAILURE  DETAIL\n"
	    "2026-11-25T14:07:19.000Z  app1  status   orders  ok → fail           refused  "
	    "connection "
	    "refused\n"
	    "2026-11-25T14:07:19.000Z  app1  release  -       2.3.9 → 2.4.0       -\n"
	    "2026-11-25T14:07:20.000Z  app1  verdict  -       healthy → database  -\n");
	free(text);
	text = (rc = cli_history_json(&r, cap_open(&c), false), cap_close(&c));
	assert_int_equal(rc, CLI_EXIT_OK);
	const char *a = strstr(text, "\"kind\":\"status\"");
	const char *b = strstr(text, "\"kind\":\"release\"");
	const char *v = strstr(text, "\"kind\":\"verdict\"");
	assert_true(a != NULL && b != NULL && v != NULL && a < b && b < v);
	assert_non_null(strstr(text,
	    "{\"at\":\"2026-11-25T14:07:19.000Z\",\"host\":\"app1\",\"kind\":\"status\","
	    "\"probe\":\"orders\",\"from\":\"ok\",\"to\":\"fail\",\"failure\":\"refused\","
	    "\"detail\":\"connection refused\"}"));
	free(text);
}

static void
test_diagnose_human_and_exit(void **state)
{
	(void) state;
	Fl__DiagnoseReply r          = FL__DIAGNOSE_REPLY__INIT;
	Fl__Finding       f          = FL__FINDING__INIT;
	Fl__Finding      *fs[1]      = { &f };
	char             *hosts[]    = { s("app1"), s("app2"), s("app3") };
	char             *targets[]  = { s("db1:5432/orders") };
	char             *evidence[] = { s("app1 orders: fail privilege_missing"),
		            s("app2 orders: fail privilege_missing") };
	int               rc;
	cap               c;

	r.verdict = FL__VERDICT__VERDICT_DATABASE;
	r.summary = s("SELECT on public.orders revoked for role app — all 3 hosts since 02:13:05, "
	              "release 2.4.0 unchanged");
	r.since_us   = NOW_US - 60000000;
	f.verdict    = FL__VERDICT__VERDICT_DATABASE;
	f.summary    = s("SELECT on public.orders revoked for role app");
	f.n_hosts    = 3;
	f.hosts      = hosts;
	f.n_targets  = 1;
	f.targets    = targets;
	f.release    = s("2.4.0");
	f.n_evidence = 2;
	f.evidence   = evidence;
	r.n_findings = 1;
	r.findings   = fs;

	char *text = (rc = cli_diagnose_print(&r, cap_open(&c), false), cap_close(&c));
	assert_int_equal(rc, CLI_EXIT_FAILING);
	assert_memory_equal(text,
	    "DATABASE: SELECT on public.orders revoked for role app — all 3 hosts since 02:13:05, "
	    "release 2.4.0 unchanged\n\n1. DATABASE: SELECT on public.orders revoked for role app\n"
	    "   hosts:   app1, app2, app3\n   targets: db1:5432/orders\n   release: 2.4.0\n"
	    "   evidence:\n     - app1 orders: fail privilege_missing\n",
	    strlen("DATABASE: SELECT on public.orders revoked for role app — all 3 hosts since "
	           "02:13:05, release 2.4.0 unchanged\n\n1. DATABASE: SELECT on public.orders "
	           "revoked for role app\n   hosts:   app1, app2, app3\n   targets: "
	           "db1:5432/orders\n   release: 2.4.0\n   evidence:\n     - app1 orders: fail "
	           "privilege_missing\n"));
	free(text);

	text = (rc = cli_diagnose_json(&r, cap_open(&c), false), cap_close(&c));
	assert_int_equal(rc, CLI_EXIT_FAILING);
	assert_non_null(strstr(text, "{\"verdict\":\"database\",\"summary\":\"SELECT on"));
	assert_non_null(strstr(text,
	    "\"since\":\"2026-11-25T14:06:20.000Z\",\"findings\":[{"
	    "\"verdict\":\"database\",\"summary\":\"SELECT on public.orders "
	    "revoked for role app\",\"hosts\":[\"app1\",\"app2\",\"app3\"],"
	    "\"targets\":[\"db1:5432/orders\"],\"release\":\"2.4.0\","
	    "\"evidence\":[\"app1 orders: fail privilege_missing\",\"app2 "
	    "orders: fail privilege_missing\"],\"since\":null,\"muted\":false,"
	    "\"muted_by\":0}]}\n"));
	free(text);

	r.verdict    = FL__VERDICT__VERDICT_HEALTHY;
	r.summary    = s("3 hosts, all probes ok");
	r.n_findings = 0;
	text         = (rc = cli_diagnose_print(&r, cap_open(&c), false), cap_close(&c));
	assert_int_equal(rc, CLI_EXIT_OK);
	assert_string_equal(text, "HEALTHY: 3 hosts, all probes ok\n");
	free(text);
	// The summary is printed as sent: the collector does not repeat the verdict in it, and a
	// summary that happens to begin with a verdict's name is not cut.
	r.summary = s("network: a probe named network is fine");
	text      = (rc = cli_diagnose_print(&r, cap_open(&c), false), cap_close(&c));
	assert_string_equal(text, "HEALTHY: network: a probe named network is fine\n");
	free(text);
	r.summary = s("");
	text      = (rc = cli_diagnose_print(&r, cap_open(&c), false), cap_close(&c));
	assert_string_equal(text, "HEALTHY\n");
	free(text);
	r.verdict = FL__VERDICT__VERDICT_UNKNOWN;
	assert_int_equal(cli_diagnose_exit(&r), CLI_EXIT_ERROR);
	r.verdict = FL__VERDICT__VERDICT_HOST;
	assert_int_equal(cli_diagnose_exit(&r), CLI_EXIT_FAILING);
	r.verdict = (Fl__Verdict) 99; // a verdict from a newer collector: cannot tell
	assert_int_equal(cli_diagnose_exit(&r), CLI_EXIT_ERROR);
}

// `faultline forget`: 0 when forgotten, 1 when the collector knows no such host.
static void
test_forget_human_json_and_exit(void **state)
{
	(void) state;
	Fl__ForgetReply r = FL__FORGET_REPLY__INIT;
	cap             c;
	int             rc;

	r.host         = s("app7");
	r.found        = true;
	r.stale        = true;
	r.last_seen_us = NOW_US - 90000000;
	r.probes       = 3;
	char *text     = (rc = cli_forget_print(&r, cap_open(&c)), cap_close(&c));
	assert_int_equal(rc, CLI_EXIT_OK);
	assert_non_null(strstr(text, "forgot app7 (silent, last seen 2026-11-25T14:05:50.000Z"));
	assert_non_null(strstr(text, "3 probes); its history is kept\n"));
	free(text);
	text = (rc = cli_forget_json(&r, cap_open(&c), false), cap_close(&c));
	assert_int_equal(rc, CLI_EXIT_OK);
	assert_string_equal(text,
	    "{\"host\":\"app7\",\"forgotten\":true,\"last_seen\":\"2026-11-25T14:05:50.000Z\","
	    "\"stale\":true,\"probes\":3}\n");
	free(text);

	r.found        = false;
	r.stale        = false;
	r.last_seen_us = 0;
	r.probes       = 0;
	text           = (rc = cli_forget_print(&r, cap_open(&c)), cap_close(&c));
	assert_int_equal(rc, CLI_EXIT_FAILING);
	assert_non_null(strstr(text, "knows no host named 'app7'"));
	free(text);
	text = (rc = cli_forget_json(&r, cap_open(&c), false), cap_close(&c));
	assert_int_equal(rc, CLI_EXIT_FAILING);
	assert_string_equal(text,
	    "{\"host\":\"app7\",\"forgotten\":false,\"last_seen\":null,\"stale\":false,"
	    "\"probes\":0}\n");
	free(text);
}

// The live view's grid: a row per host, a column per probe name (union over hosts, in order of
// first appearance), "-" where a host lacks the probe, status/failure in each cell.
static void
test_status_grid(void **state)
{
	(void) state;
	fixture f;
	cap     c;
	fixture_init(&f);

	char *text = (cli_status_grid_print(&f.reply, cap_open(&c), false), cap_close(&c));
	assert_string_equal(text,
	    "HOST          RELEASE  LAST SEEN      app  orders                  cache\n"
	    "app1          2.4.0    2s ago         ok   -                       -\n"
	    "app-server-2  2.3.9    41s ago STALE  -    fail/privilege_missing  warn/slow\n");
	free(text);
}

// The headline is exactly the first line of diagnose's print.
static void
test_diagnose_headline(void **state)
{
	(void) state;
	Fl__DiagnoseReply r = FL__DIAGNOSE_REPLY__INIT;
	cap               c;
	r.verdict  = FL__VERDICT__VERDICT_HEALTHY;
	r.summary  = s("2 hosts reporting");
	char *text = (cli_diagnose_headline(&r, cap_open(&c), false), cap_close(&c));
	assert_string_equal(text, "HEALTHY: 2 hosts reporting\n");
	free(text);
	text = (cli_diagnose_headline(&r, cap_open(&c), true), cap_close(&c));
	assert_string_equal(text, "\033[1;32mHEALTHY\033[0m: 2 hosts reporting\n");
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_human_table),
		cmocka_unit_test(test_status_exit_codes),
		cmocka_unit_test(test_status_json_shape),
		cmocka_unit_test(test_hostile_text_and_rejected_senders),
		cmocka_unit_test(test_hosts_human_and_json),
		cmocka_unit_test(test_status_empty),
		cmocka_unit_test(test_history_sorted_oldest_first),
		cmocka_unit_test(test_history_kind_newer_than_the_cli),
		cmocka_unit_test(test_diagnose_human_and_exit),
		cmocka_unit_test(test_forget_human_json_and_exit),
		cmocka_unit_test(test_status_grid),
		cmocka_unit_test(test_diagnose_headline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
