// correlate_test.c - table-driven tests of the correlation engine: the fault matrix,
// one row per kind of fault and the verdict it must get.
//
// Every row starts from the same healthy fleet: app1, app2, app3 on release 2.4.0, each probing
//   app    http     http://127.0.0.1:8080/health   (each host's own app instance)
//   orders postgres 127.0.0.1:5432/orders          (one shared server)
//   users  mysql    127.0.0.1:3306/users           (one shared server)
//   resolv dns      db.internal
// and lists only what differs (host overrides, probe overrides). Each row asserts the top verdict,
// words of the top summary, the top finding's hosts, targets and release, and optionally the
// number of findings and a word of its evidence.

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "correlate.h"
#include "fl/names.h"
#include "fl/time.h"

#define T0   1800000000000000LL // collector clock "now" (2027-01-15T08:00:00Z)
#define S(x) ((int64_t) (x) *1000000LL)

#define MAX_HOSTS  8
#define MAX_PROBES 8
#define MAX_WORDS  6

typedef struct hspec {
	const char *host;
	const char *release;
	const char *prev;     // previous release, "" = never changed
	int64_t     rel_ago;  // seconds before T0 the release was first seen
	int         stale;    // 1 = silent
	int64_t     seen_ago; // seconds before T0 of the last report
} hspec;

typedef struct pspec {
	const char      *host;
	const char      *name;
	Fl__Status       st;
	Fl__FailureClass fc;
	uint32_t         fails;     // consecutive failed rounds
	int64_t          since_ago; // seconds before T0 the streak began
	uint32_t         dur_ms;    // 0 = 3 ms
	const char      *rel_at_fail;
	const char      *unmet; // "PRIV object role" or "-kind object role" (object missing)
	const char      *role;
	uint32_t         slow; // consecutive slow rounds (0 = none or unknown)
	const char *recent;    // the recent rounds, oldest first: '.' ok (3 ms), 'S' slow (dur_ms),
	                       // 'F' failed (2 s); NULL = no window
	uint32_t    phase_ms;  // databases: query + check phase of the latest round
	const char *answer;    // the name db.internal resolves to now ("10.0.0.9"); NULL = none
	const char *prev_answer; // its answer before the last change; NULL = never changed
	int64_t     moved_ago;   // seconds before T0 of that change
	// Database state and certificate fields (0 / NULL = not reported).
	const char *ro_reason; // read_only with this reason
	const char *ro_needs;
	uint32_t    conns_in_use, conns_limit;
	int64_t     lag_ms;    // replica with this lag (-1: not replicating); 0 = not a replica
	int64_t     cert_in_s; // certificate expires this many seconds after T0
	// Rounds as recorded on the testbed, oldest first, overriding `recent`: tokens of a
	// letter ('.', 'S', 'F' as above) and the round's duration in ms ("S1113 .323 F2014").
	const char *rounds;
	uint32_t    base_ms; // the probe's baseline (0 = 3 ms)
} pspec;

typedef struct row {
	const char *name;
	hspec       hosts[MAX_HOSTS]; // overrides or additions, by host name
	pspec       probes[16];       // overrides, by (host, name)
	const char *only_host;
	Fl__Verdict verdict;
	const char *words[MAX_WORDS];         // all must appear in the top summary
	const char *hosts_exp[MAX_HOSTS];     // the top finding's hosts, exactly (NULL-terminated)
	const char *all_hosts_exp[MAX_HOSTS]; // every finding's hosts, sorted, unique (if [0] set):
	                                      // the scope the testbed's row 8 checks
	const char *targets_exp[4];           // the top finding's targets, exactly (if [0] set)
	const char *release;                  // the top finding's release (if set)
	size_t      n_findings;               // exact number of findings (if nonzero)
	const char *evidence;                 // a word of the top finding's evidence (if set)
	int64_t     since_ago;                // top-level since (if nonzero)
} row;

static const char *const base_probes[][3] = {
	{ "app", "http", "http://127.0.0.1:8080/health" },
	{ "orders", "postgres", "127.0.0.1:5432/orders" },
	{ "users", "mysql", "127.0.0.1:3306/users" },
	{ "resolv", "dns", "db.internal" },
};
#define N_BASE (sizeof(base_probes) / sizeof(base_probes[0]))

// ---- the fault matrix -------------------------------------------------------------------

// Probes recorded on the testbed that several rows below share, named by their recording:
// the quick-onset flap (ONSET), a busy host beside a lossy path (BESIDE_LOSSY, BUSY), a calm
// peer (CALM), a lossy path's timeouts (LOSSY) and a busy host's spikes (SPIKES).
#define REC_ONSET_APP2_ORDERS                                                                     \
	{                                                                                         \
		.host = "app2", .name = "orders", .st = FL__STATUS__STATUS_OK, .dur_ms = 17,      \
		.base_ms = 39,                                                                    \
		.rounds  = ".0 .0 .0 .0 .0 .0 .0 .0 .47 .24 .28 .59 .31 .44 .50 .30 .73 .34 .53 " \
		           "S456 S218 S430 S432 .17"                                              \
	}
#define REC_ONSET_APP1_ORDERS                                                                \
	{                                                                                    \
		.host = "app1", .name = "orders", .st = FL__STATUS__STATUS_OK, .dur_ms = 17, \
		.base_ms = 32,                                                               \
		.rounds  = ".34 .23 .25 .50 .41 .51 .35 .76 .28 .20 .14 .80 .29 .23 .15 .17" \
	}
#define REC_ONSET_APP3_ORDERS                                                                \
	{                                                                                    \
		.host = "app3", .name = "orders", .st = FL__STATUS__STATUS_OK, .dur_ms = 23, \
		.base_ms = 29,                                                               \
		.rounds  = ".35 .30 .30 .36 .26 .32 .33 .37 .36 .35 .15 .28 .24 .32 .23 .23" \
	}
#define REC_BESIDE_LOSSY_APP2_ORDERS                                                          \
	{                                                                                     \
		.host = "app2", .name = "orders", .st = FL__STATUS__STATUS_FAIL,              \
		.fc = FL__FAILURE_CLASS__FAILURE_TIMEOUT, .fails = 3, .since_ago = 3,         \
		.dur_ms = 2002, .base_ms = 31,                                                \
		.rounds = ".0 .0 .0 .0 .0 .0 .0 .0 .51 .36 .37 S855 F2000 F2003 F2019 F2002 " \
		          "F2565 F2001 F2496 S1150 S1688 F2003 F2002 F2002"                   \
	}
#define REC_BESIDE_LOSSY_APP2_USERS                                                              \
	{                                                                                        \
		.host = "app2", .name = "users", .st = FL__STATUS__STATUS_FAIL,                  \
		.fc = FL__FAILURE_CLASS__FAILURE_TIMEOUT, .fails = 3, .since_ago = 3,            \
		.dur_ms = 2005, .base_ms = 3,                                                    \
		.rounds = ".0 .0 .0 .0 .0 .0 .0 .0 .7 .1 .1 F3000 F2000 S1460 F2003 S215 F2051 " \
		          "S428 F2001 F2001 .2 F2000 F2001 F2005"                                \
	}
#define REC_BUSY_APP3_USERS                                                                  \
	{                                                                                    \
		.host = "app3", .name = "users", .st = FL__STATUS__STATUS_OK, .dur_ms = 3,   \
		.base_ms = 3, .rounds = ".1 .7 S1027 .1 .2 .3 .2 .2 .2 .2 .1 .0 .8 .2 .2 .3" \
	}
#define REC_BESIDE_LOSSY_APP1_ORDERS                                                                \
	{                                                                                           \
		.host = "app1", .name = "orders", .st = FL__STATUS__STATUS_OK, .dur_ms = 15,        \
		.base_ms = 24,                                                                      \
		.rounds  = "S0 .0 .0 .0 .0 S0 S0 .0 .27 .50 S224 .28 .13 S166 .15 .15 .25 .13 .18 " \
		           ".12 .13 .42 .29 .15"                                                    \
	}
#define REC_BESIDE_LOSSY_APP1_USERS                                                        \
	{                                                                                  \
		.host = "app1", .name = "users", .st = FL__STATUS__STATUS_OK, .dur_ms = 1, \
		.base_ms = 3, .rounds = ".7 .1 .2 .1 .1 .2 S85 .1 .4 .2 .2 .6 .1 .2 .5 .1" \
	}
#define REC_BUSY_APP3_ORDERS_SLOW                                                                 \
	{                                                                                         \
		.host = "app3", .name = "orders", .st = FL__STATUS__STATUS_OK, .dur_ms = 319,     \
		.base_ms = 21, .slow = 3,                                                         \
		.rounds = ".21 S115 .13 .13 .25 S94 S77 S198 S83 .36 S137 S170 S81 .17 .45 S150 " \
		          "S164 S319"                                                             \
	}
#define REC_CALM_APP1_ORDERS                                                                 \
	{                                                                                    \
		.host = "app1", .name = "orders", .st = FL__STATUS__STATUS_OK, .dur_ms = 15, \
		.base_ms = 24,                                                               \
		.rounds  = ".27 .50 .24 .28 .13 .26 .15 .15 .25 .13 .18 .12 .13 .42 .29 .15" \
	}
#define REC_LOSSY_APP2_ORDERS                                                                 \
	{                                                                                     \
		.host = "app2", .name = "orders", .st = FL__STATUS__STATUS_FAIL,              \
		.fc = FL__FAILURE_CLASS__FAILURE_TIMEOUT, .fails = 3, .since_ago = 3,         \
		.dur_ms = 2002, .base_ms = 31,                                                \
		.rounds = ".51 .36 .37 S855 F2000 F2003 F2019 F2002 F2565 F2001 F2496 S1150 " \
		          "S1688 F2003 F2002 F2002"                                           \
	}
#define REC_SPIKES_APP2_ORDERS                                                               \
	{                                                                                    \
		.host = "app2", .name = "orders", .st = FL__STATUS__STATUS_OK, .dur_ms = 83, \
		.base_ms = 85,                                                               \
		.rounds  = ".80 .83 .79 .85 .82 .81 .84 .80 .83 .82 .86 .81 .80 .84 .83 .83" \
	}
#define REC_SPIKES_APP3_ORDERS                                                               \
	{                                                                                    \
		.host = "app3", .name = "orders", .st = FL__STATUS__STATUS_OK, .dur_ms = 83, \
		.base_ms = 85,                                                               \
		.rounds  = ".80 .83 .79 .85 .82 .81 .84 .80 .83 .82 .86 .81 .80 .84 .83 .83" \
	}

static const row rows[] = {
	{
	    .name      = "healthy",
	    .verdict   = FL__VERDICT__VERDICT_HEALTHY,
	    .words     = { "3 hosts reporting, no probe failing" },
	    .hosts_exp = { NULL },
	},
	{
	    .name        = "code: app fails only on the hosts that moved to release 2.5.0",
	    .hosts       = { { "app1", "2.5.0", "2.4.0", 60, 0, 1 },
	              { "app2", "2.5.0", "2.4.0", 60, 0, 1 } },
	    .probes      = { { "app1", "app", FL__STATUS__STATUS_FAIL,
	                         FL__FAILURE_CLASS__FAILURE_HTTP_5XX, 5, 58 },
	             { "app2", "app", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_HTTP_5XX, 4,
	                 57 } },
	    .verdict     = FL__VERDICT__VERDICT_CODE,
	    .words       = { "release 2.5.0", "app", "app1, app2", "http_5xx", "2.4.0" },
	    .hosts_exp   = { "app1", "app2" },
	    .targets_exp = { "http://127.0.0.1:8080/health" },
	    .release     = "2.5.0",
	    .n_findings  = 1,
	    .since_ago   = 58,
	},
	{
	    .name        = "code: app fails on every host, databases and network fine",
	    .probes      = { { "app1", "app", FL__STATUS__STATUS_FAIL,
	                         FL__FAILURE_CLASS__FAILURE_TIMEOUT, 3, 10 },
	             { "app2", "app", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_TIMEOUT, 3,
	                 10 },
	             { "app3", "app", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_TIMEOUT, 3,
	                 9 } },
	    .verdict     = FL__VERDICT__VERDICT_CODE,
	    .words       = { "app", "all 3 hosts", "release 2.4.0", "timeout" },
	    .hosts_exp   = { "app1", "app2", "app3" },
	    .targets_exp = { "http://127.0.0.1:8080/health" },
	    .release     = "2.4.0",
	    .n_findings  = 1,
	},
	{
	    .name        = "database: server stopped, app failures folded in as downstream",
	    .probes      = { { "app1", "orders", FL__STATUS__STATUS_FAIL,
	                         FL__FAILURE_CLASS__FAILURE_REFUSED, 5, 5 },
	             { "app2", "orders", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_REFUSED, 5,
	                 5 },
	             { "app3", "orders", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_REFUSED, 4,
	                 4 },
	             { "app1", "app", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_HTTP_5XX, 5,
	                 5 },
	             { "app2", "app", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_HTTP_5XX, 5,
	                 5 },
	             { "app3", "app", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_HTTP_5XX, 5,
	                 6 } },
	    .verdict     = FL__VERDICT__VERDICT_DATABASE,
	    .words       = { "postgres 127.0.0.1:5432/orders", "down", "refused", "all 3 hosts",
	              "3 app probe failures downstream" },
	    .hosts_exp   = { "app1", "app2", "app3" },
	    .targets_exp = { "127.0.0.1:5432/orders" },
	    .n_findings  = 1,
	    .evidence    = "app3 app (http http://127.0.0.1:8080/health): http_5xx since",
	    .since_ago   = 6, // earliest evidence, the folded app3 failure
	},
	{
	    .name        = "database: SELECT revoked while the release did not change",
	    .probes      = { { "app1", "orders", FL__STATUS__STATUS_FAIL,
	                         FL__FAILURE_CLASS__FAILURE_PRIVILEGE_MISSING, 4, 30, 0, "2.4.0",
	                         "SELECT public.orders app" },
	             { "app2", "orders", FL__STATUS__STATUS_FAIL,
	                 FL__FAILURE_CLASS__FAILURE_PRIVILEGE_MISSING, 4, 30, 0, "2.4.0",
	                 "SELECT public.orders app" },
	             { "app3", "orders", FL__STATUS__STATUS_FAIL,
	                 FL__FAILURE_CLASS__FAILURE_PRIVILEGE_MISSING, 4, 29, 0, "2.4.0",
	                 "SELECT public.orders app" },
	             { "app2", "app", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_HTTP_5XX, 3,
	                 28 } },
	    .verdict     = FL__VERDICT__VERDICT_DATABASE,
	    .words       = { "SELECT on public.orders revoked for role app", "all 3 hosts",
	              "since 07:59:30", "release 2.4.0 unchanged" },
	    .hosts_exp   = { "app1", "app2", "app3" },
	    .targets_exp = { "127.0.0.1:5432/orders" },
	    .release     = "2.4.0",
	    .n_findings  = 1,
	    .evidence    = "(downstream)",
	    .since_ago   = 30,
	},
	{
	    .name        = "database: privilege gone long after the last release change",
	    .hosts       = { { "app1", "2.4.0", "2.3.0", 3600, 0, 1 },
	              { "app2", "2.4.0", "2.3.0", 3600, 0, 1 },
	              { "app3", "2.4.0", "2.3.0", 3600, 0, 1 } },
	    .probes      = { { "app1", "orders", FL__STATUS__STATUS_FAIL,
	                         FL__FAILURE_CLASS__FAILURE_PRIVILEGE_MISSING, 4, 30, 0, "2.4.0",
	                         "INSERT public.audit app" },
	             { "app2", "orders", FL__STATUS__STATUS_FAIL,
	                 FL__FAILURE_CLASS__FAILURE_PRIVILEGE_MISSING, 4, 30, 0, "2.4.0",
	                 "INSERT public.audit app" } },
	    .verdict     = FL__VERDICT__VERDICT_DATABASE,
	    .words       = { "INSERT on public.audit revoked for role app", "2 of 3 hosts",
	              "release 2.4.0 unchanged" },
	    .hosts_exp   = { "app1", "app2" },
	    .targets_exp = { "127.0.0.1:5432/orders" },
	},
	{
	    .name        = "code: release 2.5.0 needs a column that is not there",
	    .hosts       = { { "app1", "2.5.0", "2.4.0", 20, 0, 1 },
	              { "app2", "2.5.0", "2.4.0", 20, 0, 1 }, { "app3", "2.5.0", "2.4.0", 19, 0, 1 } },
	    .probes      = { { "app1", "orders", FL__STATUS__STATUS_FAIL,
	                         FL__FAILURE_CLASS__FAILURE_OBJECT_MISSING, 3, 20, 0, "2.5.0",
	                         "-column public.orders.discount_code app" },
	             { "app2", "orders", FL__STATUS__STATUS_FAIL,
	                 FL__FAILURE_CLASS__FAILURE_OBJECT_MISSING, 3, 20, 0, "2.5.0",
	                 "-column public.orders.discount_code app" },
	             { "app3", "orders", FL__STATUS__STATUS_FAIL,
	                 FL__FAILURE_CLASS__FAILURE_OBJECT_MISSING, 3, 19, 0, "2.5.0",
	                 "-column public.orders.discount_code app" },
	             { "app1", "app", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_HTTP_5XX, 3,
	                 19 } },
	    .verdict     = FL__VERDICT__VERDICT_CODE,
	    .words       = { "release 2.5.0 needs column public.orders.discount_code which is "
	                           "missing: "
	                           "migration or grant not applied",
	              "all 3 hosts" },
	    .hosts_exp   = { "app1", "app2", "app3" },
	    .targets_exp = { "127.0.0.1:5432/orders" },
	    .release     = "2.5.0",
	    .n_findings  = 1,
	    .evidence    = "unmet: column public.orders.discount_code",
	},
	{
	    .name        = "code: canary on 2.5.0 misses a grant the 2.4.0 hosts do not need",
	    .hosts       = { { "app1", "2.5.0", "2.4.0", 3600, 0, 1 } },
	    .probes      = { { "app1", "orders", FL__STATUS__STATUS_FAIL,
	             FL__FAILURE_CLASS__FAILURE_PRIVILEGE_MISSING, 9, 600, 0, "2.5.0",
	             "UPDATE public.orders app" } },
	    .verdict     = FL__VERDICT__VERDICT_CODE,
	    .words       = { "release 2.5.0 needs UPDATE on public.orders for role app which is "
	                           "missing",
	              "app1 only" },
	    .hosts_exp   = { "app1" },
	    .targets_exp = { "127.0.0.1:5432/orders" },
	    .release     = "2.5.0",
	},
	{
	    .name    = "network: database reachable from some hosts, times out from app2",
	    .probes  = { { "app2", "orders", FL__STATUS__STATUS_FAIL,
	                     FL__FAILURE_CLASS__FAILURE_TIMEOUT, 3, 7 },
	         { "app2", "app", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_HTTP_5XX, 3,
	             6 } },
	    .verdict = FL__VERDICT__VERDICT_NETWORK,
	    .words   = { "app2 \u2192 127.0.0.1:5432/orders", "timeout", "2 other hosts reach it" },
	    .hosts_exp   = { "app2" },
	    .targets_exp = { "127.0.0.1:5432/orders" },
	    .n_findings  = 1,
	    .evidence    = "(downstream)",
	},
	{
	    .name   = "network: one DNS name fails to resolve on every host",
	    .probes = { { "app1", "resolv", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_DNS,
	                    2, 3 },
	        { "app2", "resolv", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_DNS, 2, 3 },
	        { "app3", "resolv", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_DNS, 2,
	            2 } },
	    .verdict     = FL__VERDICT__VERDICT_NETWORK,
	    .words       = { "DNS", "db.internal", "does not resolve", "all 3 hosts" },
	    .hosts_exp   = { "app1", "app2", "app3" },
	    .targets_exp = { "db.internal" },
	    .n_findings  = 1,
	},
	{
	    .name   = "network: DNS fails on one host only",
	    .probes = { { "app3", "resolv", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_DNS,
	        2, 3 } },
	    .verdict     = FL__VERDICT__VERDICT_NETWORK,
	    .words       = { "db.internal", "app3 only", "2 other hosts resolve it" },
	    .hosts_exp   = { "app3" },
	    .targets_exp = { "db.internal" },
	},
	{
	    .name    = "host: an agent stops reporting while the others are fine",
	    .hosts   = { { "app3", "2.4.0", "", 3600, 1, 45 } },
	    .verdict = FL__VERDICT__VERDICT_HOST,
	    .words   = { "app3 silent since 2027-01-15T07:59:15.000Z", "cut off from the collector",
	          "2 other hosts reporting" },
	    .hosts_exp  = { "app3" },
	    .n_findings = 1,
	    .evidence   = "app3 last seen 2027-01-15T07:59:15.000Z (45.0s ago)",
	    .since_ago  = 45,
	},
	{
	    .name        = "database: wrong password on every host",
	    .probes      = { { "app1", "orders", FL__STATUS__STATUS_FAIL,
	                         FL__FAILURE_CLASS__FAILURE_AUTH_FAILED, 2, 2, 0, NULL, NULL, "app" },
	             { "app2", "orders", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_AUTH_FAILED,
	                 2, 2, 0, NULL, NULL, "app" },
	             { "app3", "orders", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_AUTH_FAILED,
	                 2, 2, 0, NULL, NULL, "app" },
	             { "app1", "app", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_HTTP_5XX, 2,
	                 2 },
	             { "app2", "app", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_HTTP_5XX, 2,
	                 2 },
	             { "app3", "app", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_HTTP_5XX, 2,
	                 2 } },
	    .verdict     = FL__VERDICT__VERDICT_DATABASE,
	    .words       = { "postgres 127.0.0.1:5432/orders", "rejects role app",
	              "authentication failed", "all 3 hosts" },
	    .hosts_exp   = { "app1", "app2", "app3" },
	    .targets_exp = { "127.0.0.1:5432/orders" },
	    .n_findings  = 1,
	},
	{
	    .name        = "database: too many connections",
	    .probes      = { { "app1", "users", FL__STATUS__STATUS_FAIL,
	                         FL__FAILURE_CLASS__FAILURE_TOO_MANY_CONNECTIONS, 2, 2 },
	             { "app3", "users", FL__STATUS__STATUS_FAIL,
	                 FL__FAILURE_CLASS__FAILURE_TOO_MANY_CONNECTIONS, 3, 3 } },
	    .verdict     = FL__VERDICT__VERDICT_DATABASE,
	    .words       = { "mysql 127.0.0.1:3306/users", "too many connections", "2 of 3 hosts" },
	    .hosts_exp   = { "app1", "app3" },
	    .targets_exp = { "127.0.0.1:3306/users" },
	},
	{
	    .name        = "database: slow on every host",
	    .probes      = { { "app1", "orders", FL__STATUS__STATUS_WARN,
	                         FL__FAILURE_CLASS__FAILURE_SLOW, 0, 0, 470 },
	             { "app2", "orders", FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_SLOW, 0, 0,
	                 480 },
	             { "app3", "orders", FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_SLOW, 0, 0,
	                 490 } },
	    .verdict     = FL__VERDICT__VERDICT_DATABASE,
	    .words       = { "postgres 127.0.0.1:5432/orders", "slow", "all 3 hosts",
	              "latency 480ms vs normal 3ms" },
	    .hosts_exp   = { "app1", "app2", "app3" },
	    .targets_exp = { "127.0.0.1:5432/orders" },
	},
	{
	    .name    = "database: slow by baseline alone (status ok, 40x normal)",
	    .probes  = { { "app1", "users", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE,
	                     0, 0, 120 },
	         { "app2", "users", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 0, 0,
	             120 },
	         { "app3", "users", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 0, 0,
	             120 } },
	    .verdict = FL__VERDICT__VERDICT_DATABASE,
	    .words   = { "mysql 127.0.0.1:3306/users", "latency 120ms vs normal 3ms" },
	    .hosts_exp = { "app1", "app2", "app3" },
	},
	{
	    .name      = "healthy: slow on one host only is not a database verdict",
	    .probes    = { { "app2", "orders", FL__STATUS__STATUS_WARN,
	           FL__FAILURE_CLASS__FAILURE_SLOW, 0, 0, 480 } },
	    .verdict   = FL__VERDICT__VERDICT_HEALTHY,
	    .words     = { "reporting, no probe failing" },
	    .hosts_exp = { NULL },
	},
	// ---- debounce ----
	{
	    .name      = "debounce: one failed round does not change a healthy verdict",
	    .probes    = { { "app1", "orders", FL__STATUS__STATUS_FAIL,
	                       FL__FAILURE_CLASS__FAILURE_REFUSED, 1, 1 },
	           { "app2", "orders", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_REFUSED, 1,
	               1 },
	           { "app3", "orders", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_REFUSED, 1,
	               1 } },
	    .verdict   = FL__VERDICT__VERDICT_HEALTHY,
	    .words     = { "3 hosts reporting, no probe failing" },
	    .hosts_exp = { NULL },
	},
	{
	    .name      = "debounce: two failed rounds do",
	    .probes    = { { "app1", "orders", FL__STATUS__STATUS_FAIL,
	                       FL__FAILURE_CLASS__FAILURE_REFUSED, 2, 1 },
	           { "app2", "orders", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_REFUSED, 2,
	               1 },
	           { "app3", "orders", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_REFUSED, 2,
	               1 } },
	    .verdict   = FL__VERDICT__VERDICT_DATABASE,
	    .words     = { "down", "refused" },
	    .hosts_exp = { "app1", "app2", "app3" },
	},
	{
	    .name      = "debounce: a host still below the threshold is not counted as a "
	                 "working path",
	    .probes    = { { "app1", "orders", FL__STATUS__STATUS_FAIL,
	                       FL__FAILURE_CLASS__FAILURE_REFUSED, 2, 1 },
	           { "app2", "orders", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_REFUSED, 2,
	               1 },
	           { "app3", "orders", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_REFUSED, 1,
	               0 } },
	    .verdict   = FL__VERDICT__VERDICT_DATABASE,
	    .words     = { "down", "2 of 3 hosts (app1, app2)" },
	    .hosts_exp = { "app1", "app2" },
	},
	// ---- wording: "all N hosts" only when N is every host that probes the target ----
	{
	    .name       = "wording: a silent host that probes the target counts: 3 of 4 hosts",
	    .hosts      = { { "app4", "2.4.0", "", 3600, 1, 60 } },
	    .probes     = { { "app1", "orders", FL__STATUS__STATUS_FAIL,
	                        FL__FAILURE_CLASS__FAILURE_REFUSED, 3, 3 },
	            { "app2", "orders", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_REFUSED, 3,
	                3 },
	            { "app3", "orders", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_REFUSED, 3,
	                3 } },
	    .verdict    = FL__VERDICT__VERDICT_DATABASE,
	    .words      = { "refused from 3 of 4 hosts (app1, app2, app3)" },
	    .hosts_exp  = { "app1", "app2", "app3" },
	    .n_findings = 2,
	},
	{
	    .name   = "wording: a host whose result is unknown still probes it: 2 of 3 hosts",
	    .probes = { { "app1", "resolv", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_DNS,
	                    3, 3 },
	        { "app2", "resolv", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_DNS, 3, 3 },
	        { "app3", "resolv", FL__STATUS__STATUS_UNKNOWN, FL__FAILURE_CLASS__FAILURE_NONE, 0,
	            0 } },
	    .verdict   = FL__VERDICT__VERDICT_NETWORK,
	    .words     = { "does not resolve on 2 of 3 hosts (app1, app2)" },
	    .hosts_exp = { "app1", "app2" },
	},
	// ---- slow paths: slow from some hosts for several rounds, normal from the others
	// ----
	{
	    .name    = "network: postgres slow from app2 only for 3 rounds, normal elsewhere",
	    .probes  = { { "app2", "orders", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE,
	         0, 0, 260, NULL, NULL, NULL, 3 } },
	    .verdict = FL__VERDICT__VERDICT_NETWORK,
	    .words   = { "slow path app2 \u2192 127.0.0.1:5432/orders",
	          "(latency 260ms vs normal 3ms);",
	          "2 other hosts reach postgres 127.0.0.1:5432/orders at normal latency "
	            "(3ms)" },
	    .hosts_exp   = { "app2" },
	    .targets_exp = { "127.0.0.1:5432/orders" },
	    .n_findings  = 1,
	    .evidence = "app2 orders (postgres 127.0.0.1:5432/orders): slow, 260ms vs normal 3ms, "
	                "3 rounds",
	},
	{
	    .name   = "network: mysql warn (over its slow threshold) from app2 for 5 rounds",
	    .probes = { { "app2", "users", FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_SLOW,
	        0, 0, 900, NULL, NULL, NULL, 5 } },
	    .verdict     = FL__VERDICT__VERDICT_NETWORK,
	    .words       = { "slow path app2 \u2192 127.0.0.1:3306/users", "latency 900ms" },
	    .evidence    = "slow, 900ms vs normal 3ms, 5 rounds",
	    .hosts_exp   = { "app2" },
	    .targets_exp = { "127.0.0.1:3306/users" },
	    .n_findings  = 1,
	},
	{
	    .name    = "network: two slow paths, one host normal",
	    .probes  = { { "app1", "orders", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE,
	                     0, 0, 300, NULL, NULL, NULL, 4 },
	         { "app3", "orders", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 0, 0,
	             310, NULL, NULL, NULL, 6 } },
	    .verdict = FL__VERDICT__VERDICT_NETWORK,
	    .words   = { "slow paths app1 \u2192 127.0.0.1:5432/orders (latency 300ms",
	          "app3 \u2192 127.0.0.1:5432/orders (latency 310ms", "1 other host reaches" },
	    .hosts_exp  = { "app1", "app3" },
	    .n_findings = 1,
	},
	{
	    .name    = "network: a slow DNS path",
	    .probes  = { { "app3", "resolv", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE,
	         0, 0, 500, NULL, NULL, NULL, 3 } },
	    .verdict = FL__VERDICT__VERDICT_NETWORK,
	    .words   = { "slow path app3 \u2192 db.internal" },
	    .hosts_exp  = { "app3" },
	    .n_findings = 1,
	},
	{
	    .name    = "healthy: slow from app2 for 2 rounds only (debounce)",
	    .probes  = { { "app2", "orders", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE,
	         0, 0, 260, NULL, NULL, NULL, 2 } },
	    .verdict = FL__VERDICT__VERDICT_HEALTHY,
	    .words   = { "reporting, no probe failing" },
	    .hosts_exp = { NULL },
	},
	{
	    .name    = "healthy: a slow round within 3x normal is not slow",
	    .probes  = { { "app2", "orders", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE,
	         0, 0, 8, NULL, NULL, NULL, 0 } },
	    .verdict = FL__VERDICT__VERDICT_HEALTHY,
	    .words   = { "reporting, no probe failing" },
	    .hosts_exp = { NULL },
	},
	{
	    .name    = "database: slow on every host for several rounds stays database",
	    .probes  = { { "app1", "orders", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE,
	                     0, 0, 250, NULL, NULL, NULL, 5 },
	         { "app2", "orders", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 0, 0,
	             260, NULL, NULL, NULL, 5 },
	         { "app3", "orders", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 0, 0,
	             270, NULL, NULL, NULL, 1 } },
	    .verdict = FL__VERDICT__VERDICT_DATABASE,
	    .words   = { "postgres 127.0.0.1:5432/orders slow from all 3 hosts",
	          "latency 260ms vs normal 3ms" },
	    .hosts_exp   = { "app1", "app2", "app3" },
	    .targets_exp = { "127.0.0.1:5432/orders" },
	    .n_findings  = 1,
	},
	{
	    .name       = "network: slow path and a cut path on the same target are both named",
	    .probes     = { { "app1", "orders", FL__STATUS__STATUS_FAIL,
	                        FL__FAILURE_CLASS__FAILURE_TIMEOUT, 3, 3 },
	            { "app2", "orders", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 0, 0,
	                400, NULL, NULL, NULL, 3 } },
	    .verdict    = FL__VERDICT__VERDICT_NETWORK,
	    .words      = { "app1 \u2192 127.0.0.1:5432/orders fails (timeout)" },
	    .hosts_exp  = { "app1" },
	    .n_findings = 2,
	},
	// ---- slowness is a fault (percentiles over the recent rounds) ----
	{
	    .name    = "code (degraded): the app slow on every host, databases and network "
	               "fine",
	    .probes  = { { "app1", "app", FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_SLOW,
	                     0, 40, 900, NULL, NULL, NULL, 6, "....SSSSSS" },
	         { "app2", "app", FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_SLOW, 0, 40,
	             910, NULL, NULL, NULL, 6, "....SSSSSS" },
	         { "app3", "app", FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_SLOW, 0, 39,
	             905, NULL, NULL, NULL, 5, ".....SSSSS" } },
	    .verdict = FL__VERDICT__VERDICT_CODE,
	    .words   = { "degraded", "app (http http://127.0.0.1:8080/health) slow on all 3 hosts",
	          "release 2.4.0", "latency 905ms vs normal 3ms", "databases and network fine" },
	    .hosts_exp   = { "app1", "app2", "app3" },
	    .targets_exp = { "http://127.0.0.1:8080/health" },
	    .release     = "2.4.0",
	    .n_findings  = 1,
	    .evidence    = "app3 app (http http://127.0.0.1:8080/health): slow, 905ms vs "
	                   "normal 3ms, 5 rounds; last 10 rounds: p50 3ms, p90 905ms, 5 slow, "
	                   "0 failed",
	    .since_ago   = 40,
	},
	{
	    .name    = "healthy: the app slow on every host for 2 rounds only",
	    .probes  = { { "app1", "app", FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_SLOW,
	                     0, 2, 900, NULL, NULL, NULL, 2, "........SS" },
	         { "app2", "app", FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_SLOW, 0, 2,
	             900, NULL, NULL, NULL, 2, "........SS" },
	         { "app3", "app", FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_SLOW, 0, 2,
	             900, NULL, NULL, NULL, 2, "........SS" } },
	    .verdict = FL__VERDICT__VERDICT_HEALTHY,
	    .words   = { "reporting, no probe failing" },
	    .hosts_exp = { NULL },
	},
	{
	    .name    = "code (degraded): one fast round does not end a slow spell (median slow)",
	    .probes  = { { "app1", "app", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 0,
	                     30, 4, NULL, NULL, NULL, 0, "SSSSSSSSS." },
	         { "app2", "app", FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_SLOW, 0, 30,
	             900, NULL, NULL, NULL, 9, "SSSSSSSSSS" },
	         { "app3", "app", FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_SLOW, 0, 30,
	             900, NULL, NULL, NULL, 1, "SSSSSS.S.S" } },
	    .verdict = FL__VERDICT__VERDICT_CODE,
	    .words   = { "degraded", "slow on all 3 hosts" },
	    .hosts_exp  = { "app1", "app2", "app3" },
	    .n_findings = 1,
	},
	{
	    .name    = "healthy: a slow spell that has left the median",
	    .probes  = { { "app1", "app", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 0,
	                     30, 4, NULL, NULL, NULL, 0, "SSSSS....." },
	         { "app2", "app", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 0, 30, 4,
	             NULL, NULL, NULL, 0, "SSSSS....." },
	         { "app3", "app", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 0, 30, 4,
	             NULL, NULL, NULL, 0, "SSSSS....." } },
	    .verdict = FL__VERDICT__VERDICT_HEALTHY,
	    .words   = { "reporting, no probe failing" },
	    .hosts_exp = { NULL },
	},
	{
	    .name      = "database (degraded): apps slow and the database's query/check phase slow",
	    .probes    = { { "app1", "orders", FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_SLOW, 0, 20, 620, NULL, NULL, NULL, 4, "......SSSS", 600 }, { "app2", "orders", FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_SLOW, 0, 20, 630, NULL, NULL, NULL, 4, "......SSSS", 610 }, { "app3", "orders", FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_SLOW, 0, 19, 640, NULL, NULL, NULL, 4, "......SSSS", 620 }, { "app1", "app", FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_SLOW, 0, 19, 900, NULL, NULL, NULL, 4, "......SSSS" }, { "app2", "app", FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_SLOW, 0, 19, 900, NULL, NULL, NULL, 4, "......SSSS" }, { "app3", "app", FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_SLOW, 0, 19, 900, NULL, NULL, NULL, 4, "......SSSS" } },
	    .verdict   = FL__VERDICT__VERDICT_DATABASE,
	    .words     = { "postgres 127.0.0.1:5432/orders slow from all 3 hosts",
	            "latency 630ms vs normal 3ms", "query/check phase 610ms",
	            "3 app probes slow downstream" },
	    .hosts_exp = { "app1", "app2", "app3" },
	    .targets_exp = { "127.0.0.1:5432/orders" },
	    .n_findings  = 1,
	    .evidence =
	        "app2 app (http http://127.0.0.1:8080/health): slow, 900ms vs normal 3ms, "
	        "4 "
	        "rounds; last 10 rounds: p50 3ms, p90 900ms, 4 slow, 0 failed (downstream)",
	    .since_ago = 20,
	},
	{
	    .name        = "code (degraded): slow only on the hosts that moved to release 2.5.0",
	    .hosts       = { { "app1", "2.5.0", "2.4.0", 60, 0, 1 },
	              { "app2", "2.5.0", "2.4.0", 60, 0, 1 } },
	    .probes      = { { "app1", "app", FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_SLOW, 0, 50, 700, NULL, NULL, NULL, 8, "..SSSSSSSS" }, { "app2", "app", FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_SLOW, 0, 50, 700, NULL, NULL, NULL, 8, "..SSSSSSSS" } },
	    .verdict     = FL__VERDICT__VERDICT_CODE,
	    .words       = { "degraded: release 2.5.0 slows app",
	              "latency 700ms on 2 of 3 hosts (app1, app2)", "vs 3ms on hosts on release 2.4.0" },
	    .hosts_exp   = { "app1", "app2" },
	    .targets_exp = { "http://127.0.0.1:8080/health" },
	    .release     = "2.5.0",
	    .n_findings  = 1,
	},
	{
	    .name      = "host (degraded): the app slow on app2 only, same release fine elsewhere",
	    .probes    = { { "app2", "app", FL__STATUS__STATUS_WARN,
	           FL__FAILURE_CLASS__FAILURE_SLOW, 0, 12, 800, NULL, NULL, NULL, 10, "SSSSSSSSSS" } },
	    .verdict   = FL__VERDICT__VERDICT_HOST,
	    .words     = { "degraded", "slow on app2 only", "latency 800ms vs 3ms on 2 other hosts",
	            "same release", "that host or its instance" },
	    .hosts_exp = { "app2" },
	    .n_findings = 1,
	},
	{
	    .name       = "ranking: a failing database ranks above a slow app elsewhere",
	    .probes     = { { "app2", "app", FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_SLOW, 0, 12, 800, NULL, NULL, NULL, 10, "SSSSSSSSSS" }, { "app1", "users", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_AUTH_FAILED, 3, 3 } },
	    .verdict    = FL__VERDICT__VERDICT_DATABASE,
	    .words      = { "rejects role" },
	    .hosts_exp  = { "app1" },
	    .n_findings = 2,
	},
	// ---- intermittent trouble (packet loss): hysteresis keeps the verdict ----
	{
	    .name        = "network: a lossy path between failing streaks (one failed round) "
	                   "stays network",
	    .probes      = { { "app2", "orders", FL__STATUS__STATUS_FAIL,
	             FL__FAILURE_CLASS__FAILURE_TIMEOUT, 1, 1, 2000, NULL, NULL, NULL, 0,
	             "S.SF.SFS.F" } },
	    .verdict     = FL__VERDICT__VERDICT_NETWORK,
	    .words       = { "unstable path app2 \u2192 127.0.0.1:5432/orders",
	              "3 of last 10 rounds failed", "2 other hosts reach" },
	    .hosts_exp   = { "app2" },
	    .targets_exp = { "127.0.0.1:5432/orders" },
	    .n_findings  = 1,
	    .evidence =
	        "app2 orders (postgres 127.0.0.1:5432/orders): timeout, 2000ms vs "
	        "normal 3ms",
	},
	{
	    .name    = "network: a lossy path whose latest round was fine stays network",
	    .probes  = { { "app2", "orders", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE,
	         0, 0, 3, NULL, NULL, NULL, 0, ".F..F.F..." } },
	    .verdict = FL__VERDICT__VERDICT_NETWORK,
	    .words   = { "unstable path app2 \u2192 127.0.0.1:5432/orders",
	          "3 of last 10 rounds failed" },
	    .hosts_exp  = { "app2" },
	    .n_findings = 1,
	},
	{
	    .name        = "network: a failing streak on a lossy path is the same network finding",
	    .probes      = { { "app2", "orders", FL__STATUS__STATUS_FAIL,
	             FL__FAILURE_CLASS__FAILURE_TIMEOUT, 2, 2, 2000, NULL, NULL, NULL, 0,
	             "S.SF.S.SFF" } },
	    .verdict     = FL__VERDICT__VERDICT_NETWORK,
	    .words       = { "app2 \u2192 127.0.0.1:5432/orders", "2 other hosts reach it" },
	    .hosts_exp   = { "app2" },
	    .targets_exp = { "127.0.0.1:5432/orders" },
	    .n_findings  = 1,
	},
	{
	    .name      = "healthy: every host slow in the same one round (a busy machine) is no "
	                 "database verdict",
	    .probes    = { { "app1", "orders", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 0, 0, 200, NULL, NULL, NULL, 1, ".........S" }, { "app2", "orders", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 0, 0, 210, NULL, NULL, NULL, 1, "...S.....S" }, { "app3", "orders", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 0, 0, 220, NULL, NULL, NULL, 1, ".........S" } },
	    .verdict   = FL__VERDICT__VERDICT_HEALTHY,
	    .words     = { "reporting, no probe failing" },
	    .hosts_exp = { NULL },
	},
	{
	    .name       = "network: a lossy path stays network while the other hosts have an odd "
	                  "slow round",
	    .probes     = { { "app2", "orders", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 0, 0, 250, NULL, NULL, NULL, 0, "S.SSFS.SS." }, { "app1", "orders", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 0, 0, 200, NULL, NULL, NULL, 1, "....S....." }, { "app3", "orders", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 0, 0, 3, NULL, NULL, NULL, 0, ".S........" } },
	    .verdict    = FL__VERDICT__VERDICT_NETWORK,
	    .words      = { "unstable path app2 \u2192 127.0.0.1:5432/orders",
	             "1 of last 10 rounds failed", "2 other hosts reach" },
	    .hosts_exp  = { "app2" },
	    .n_findings = 1,
	},
	{
	    .name =
	        "network: a busy host's spikes next to a lossy path: only the lossy path is named",
	    .probes  = { { "app2", "orders", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 0, 0, 1300, NULL, NULL, NULL, 0, "S.SSFS.SS." }, { "app1", "orders", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 0, 0, 460, NULL, NULL, NULL, 0, "S..S.S..S." }, { "app3", "orders", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 0, 0, 3, NULL, NULL, NULL, 0, ".........." } },
	    .verdict = FL__VERDICT__VERDICT_NETWORK,
	    .words = { "unstable path app2 \u2192 127.0.0.1:5432/orders", "1 other host reaches" },
	    .hosts_exp  = { "app2" },
	    .n_findings = 1,
	},
	// Windows seen on the testbed at 10 % loss (app2 -> the database host): after the path
	// entered a spell of trouble, its last 16 rounds held only 3-4 bad ones (retransmits of
	// about 1 s and timeouts), under the 30 % that enters a spell; on both targets at once,
	// a single threshold answered "healthy" in the middle of the loss. Oldest round first:
	// the first 16 entered the spell, the last 16 are the current window.
	{
	    .name    = "network: a 10 % lossy path with 4 bad of its last 16 rounds stays network "
	               "(hysteresis: it entered a spell and is not clean yet)",
	    .probes  = { { .host = "app2", .name = "orders", .st = FL__STATUS__STATUS_OK,
	         .dur_ms = 1050, .slow = 1, .recent = "S..S.F..S..S.S.." "....F..S.....S.S" } },
	    .verdict = FL__VERDICT__VERDICT_NETWORK,
	    .words   = { "unstable path app2 \u2192 127.0.0.1:5432/orders",
	          "1 of last 16 rounds failed", "2 other hosts reach" },
	    .hosts_exp   = { "app2" },
	    .targets_exp = { "127.0.0.1:5432/orders" },
	    .n_findings  = 1,
	},
	{
	    // Recorded at the first flap (CPU hog on both cores): app2's postgres window held 4
	    // bad rounds of 16 (1 failed) and its mysql window 3 (none failed), both under the
	    // 30 % that enters a spell, while app1/app3 stayed clean and clearly better. Note the
	    // postgres rounds of 323-566 ms that did not count as slow: the lossy rounds that
	    // were not slow had pulled app2's baseline up to 225 ms (app1's: 117 ms).
	    .name    = "network: 10 % loss, both database paths of app2 between the thresholds at "
	               "once (the testbed's flap to healthy, as recorded)",
	    .probes  = { { .host = "app2", .name = "orders", .st = FL__STATUS__STATUS_OK,
	                    .dur_ms = 96, .base_ms = 225,
	                    .rounds = ".60 .108 S1590 .383 S363 S1373 S384 .128 S355 S381 .136 "
	                              ".185 .157 S1516 .100 S1161 S485 S1139 F2023 S1113 .323 "
	                              ".348 .157 S558 .81 .474 .318 .241 .204 .268 .566 .108 "
	                              "S1360 F2014 .96" },
	         { .host = "app2", .name = "users", .st = FL__STATUS__STATUS_OK, .dur_ms = 2,
	             .base_ms = 6,
	             .rounds = ".7 .3 .213 S1022 S1024 F2007 .3 S240 .8 .2 .1 S1081 S1020 .0 .0 "
	                       ".4 .3 S1250 S1024 .6 .17 .12 .2 .4 S208 .1 .1 .1 .10 S1233 "
	                       "S210 .17 .1 .1 .2" },
	         { .host = "app1", .name = "orders", .st = FL__STATUS__STATUS_OK, .dur_ms = 86,
	             .base_ms = 117,
	             .rounds = ".60 .178 .156 .133 .97 .155 .154 .134 .162 .46 .32 .127 .157 "
	                       ".153 .175 .86" },
	         { .host = "app1", .name = "users", .st = FL__STATUS__STATUS_OK, .dur_ms = 2,
	             .base_ms = 6,
	             .rounds = ".1 .6 .4 .44 .5 .1 .0 .6 .5 .6 .2 .15 .3 .10 .1 .2" },
	         { .host = "app3", .name = "orders", .st = FL__STATUS__STATUS_OK, .dur_ms = 112,
	             .base_ms = 114,
	             .rounds = ".146 .120 .149 .67 .89 .144 .154 .125 .135 .169 .127 .151 .75 "
	                       ".150 .93 .112" },
	         { .host = "app3", .name = "users", .st = FL__STATUS__STATUS_OK, .dur_ms = 6,
	             .base_ms = 7,
	             .rounds = ".0 .1 .2 .8 .12 .1 .5 .1 .1 .2 .3 .1 .1 .1 .6 .6" } },
	    // Both paths are held now: the mysql window has no failed round but a lost SYN's
	    // round (S1233: slow, and a second more than its normal few ms).
	    .verdict    = FL__VERDICT__VERDICT_NETWORK,
	    .words      = { "path app2 \u2192 127.0.0.1:3306/users", "2 other hosts reach" },
	    .hosts_exp  = { "app2" },
	    .n_findings = 2,
	},
	{
	    // Recorded on the testbed (30 % loss on app2, idle machine; the mysql path left out):
	    // the current window of app2's postgres path held 3 bad rounds of 16 and none failed,
	    // but one of them (S1054, baseline 35 ms) was a lost SYN's round, retransmitted after
	    // 1 s. Holding only while a round failed dropped it here.
	    .name    = "network: a lossy path held on a lost SYN's round of about 1 s (no failed "
	               "round in its window, as recorded)",
	    .probes  = { { .host = "app2", .name = "orders", .st = FL__STATUS__STATUS_OK,
	                    .dur_ms = 27, .base_ms = 35,
	                    .rounds = "S0 F0 S0 S0 S0 .0 .0 S0 S0 S0 .0 S0 S0 S0 S0 .0 .0 F0 .0 .0 "
	                              "S0 .0 S0 S0 S0 S0 S0 S0 S0 .0 .51 .36 .23 S237 .30 .58 .37 "
	                              ".26 S1054 S247 .39 .32 .23 .56 .29 .27" },
	         { .host = "app1", .name = "orders", .st = FL__STATUS__STATUS_OK, .dur_ms = 26,
	             .base_ms = 27,
	             .rounds = ".30 .26 .53 .27 .32 .17 .36 .17 .18 .17 .16 .25 .20 .24 .53 .26" },
	         { .host = "app3", .name = "orders", .st = FL__STATUS__STATUS_OK, .dur_ms = 19,
	             .base_ms = 29,
	             .rounds = ".40 .41 .31 .20 .25 .18 .35 .28 .29 .26 .26 .21 .26 .21 .42 .19" } },
	    .verdict = FL__VERDICT__VERDICT_NETWORK,
	    .words   = { "path app2 \u2192 127.0.0.1:5432/orders", "2 other hosts reach" },
	    .hosts_exp   = { "app2" },
	    .targets_exp = { "127.0.0.1:5432/orders" },
	    .n_findings  = 1,
	},
	{
	    // Recorded at a flap of the testbed's 10 % hold (the only one in five runs after the
	    // lost-SYN hold): app2's postgres path was held, but its latest round was only a
	    // little slow (235 ms, its trouble latency), under the p90 of app3's spikes (262 ms:
	    // 5 slow rounds of 16 on a 32 ms baseline, a busy machine), so app3 ranked as the
	    // worst suspect and was named beside app2 ("slow paths app2, app3"). Suspects are
	    // ranked by the p90 too: app3's p75 (102 ms) is under half of app2's p90 (669 ms).
	    .name    = "network: a busy host's spikes beside a lossy path whose latest round was "
	               "only a little slow: only the lossy path is named (as recorded)",
	    .probes  = { { .host = "app2", .name = "orders", .st = FL__STATUS__STATUS_OK,
	                    .dur_ms = 235, .base_ms = 45, .slow = 1,
	                    .rounds = ".0 S0 .0 .0 .0 S0 F0 S0 .0 .0 S0 F0 S0 S0 .0 .0 S0 S0 .0 S0 "
	                              "S448 S323 S451 S228 .18 S435 S669 .19 S1242 .50 .22 .18 .100 "
	                              ".31 .27 S235" },
	         { .host = "app2", .name = "users", .st = FL__STATUS__STATUS_FAIL,
	             .fc = FL__FAILURE_CLASS__FAILURE_TIMEOUT, .fails = 1, .since_ago = 1,
	             .dur_ms = 2003, .base_ms = 5,
	             .rounds = "S0 S0 S0 F0 S0 S0 S0 S0 .0 S0 F0 .0 .0 .0 S0 .0 .4 .2 S208 .1 .1 "
	                       ".1 S206 .1 .1 .6 F2000 .1 .1 S206 .9 F2003" },
	         { .host = "app3", .name = "orders", .st = FL__STATUS__STATUS_OK, .dur_ms = 19,
	             .base_ms = 32,
	             .rounds = ".25 .40 .26 .37 S575 S102 .65 .21 .18 .18 S113 S104 S262 .62 .29 "
	                       ".19" },
	         { .host = "app3", .name = "users", .st = FL__STATUS__STATUS_OK, .dur_ms = 1,
	             .base_ms = 3,
	             .rounds = ".1 .7 .5 .3 S303 .4 .1 .1 .2 .2 .4 .9 .2 .0 .1 .1" },
	         { .host = "app1", .name = "orders", .st = FL__STATUS__STATUS_OK, .dur_ms = 30,
	             .base_ms = 44,
	             .rounds = ".17 .39 .21 .21 S588 S103 .61 .18 .24 .25 .82 .22 .18 .91 .77 .30" },
	         { .host = "app1", .name = "users", .st = FL__STATUS__STATUS_OK, .dur_ms = 2,
	             .base_ms = 3,
	             .rounds = ".3 .20 .2 .3 S338 .1 .1 .1 .3 .1 .2 .11 .1 .3 .1 .2" } },
	    .verdict = FL__VERDICT__VERDICT_NETWORK,
	    // Two findings, each app2's alone: the postgres one named app2 and app3 (and ranked
	    // first, on its two hosts).
	    .words       = { "path app2 \u2192 127.0.0.1:3306/users" },
	    .hosts_exp   = { "app2" },
	    .n_findings  = 2,
	},
	{
	    // Recorded at the onset flap of the testbed's 10 % hold (run after rows 1-7): 3 s
	    // after the injection, app2's postgres path had 4 slow rounds in a row (lost segments,
	    // 218-456 ms on a 39 ms baseline) and the quick-onset rule named it; then one fast
	    // round (17 ms) ended that spell while its window held 4 bad rounds of 16 (under the
	    // 30 % that enters a spell of trouble) and none had failed or lasted a second. app2's
	    // mysql path to the same server had just timed out (F2001). The window that met the
	    // quick-onset rule counts as troubled, and the loss its sibling showed holds it.
	    .name    = "network: a lossy path named by the quick-onset rule is held through its "
	               "next fast round (the onset flap, as recorded)",
	    .probes  = { REC_ONSET_APP2_ORDERS,
	         { .host = "app2", .name = "users", .st = FL__STATUS__STATUS_OK, .dur_ms = 417,
	             .base_ms = 5, .slow = 2,
	             .rounds = ".0 .0 .0 .0 .0 .0 .0 .0 .5 .2 .5 .2 .4 .4 .2 .2 .2 .10 .11 .3 "
	                       "F2001 .8 S212 S417" },
	         REC_ONSET_APP1_ORDERS,
	         { .host = "app1", .name = "users", .st = FL__STATUS__STATUS_OK, .dur_ms = 4,
	             .base_ms = 2,
	             .rounds = ".1 .2 .1 .1 .2 .2 .1 .4 .1 .4 .0 .1 .1 .1 .1 .4" },
	         REC_ONSET_APP3_ORDERS,
	         { .host = "app3", .name = "users", .st = FL__STATUS__STATUS_OK, .dur_ms = 2,
	             .base_ms = 3,
	             .rounds = ".2 .2 .2 .3 .2 .3 .9 .10 .1 .1 .1 .2 .5 .1 .2 .2" } },
	    .verdict     = FL__VERDICT__VERDICT_NETWORK,
	    .words       = { "path app2 \u2192 127.0.0.1:5432/orders", "2 other hosts reach" },
	    .hosts_exp   = { "app2" },
	    .targets_exp = { "127.0.0.1:5432/orders" },
	    .n_findings  = 1,
	},
	{
	    // The same quick onset on a merely busy host: 4 slow rounds in a row (up to 456 ms),
	    // then fast, and no round of any of its probes to that server failed or lasted a
	    // second. Not held: a busy host's spell ends with its slow rounds.
	    .name    = "healthy: a busy host's quick-onset spell ended by a fast round is not held "
	               "(no lost packets on any of its paths to that server)",
	    .probes  = { REC_ONSET_APP2_ORDERS,
	         { .host = "app2", .name = "users", .st = FL__STATUS__STATUS_OK, .dur_ms = 4,
	             .base_ms = 5,
	             .rounds = ".5 .2 .5 .2 .4 .4 .2 .2 .2 .10 .11 .3 .4 .8 S212 .4" },
	         REC_ONSET_APP1_ORDERS,
	         REC_ONSET_APP3_ORDERS },
	    .verdict   = FL__VERDICT__VERDICT_HEALTHY,
	    .words     = { "reporting, no probe failing" },
	    .hosts_exp = { NULL },
	},
	{
	    // Recorded in a 30 % hold on a busy machine: app3's postgres rounds had had a quick
	    // onset (S137 S170 S81, now older than its window of 4 bad rounds of 16) and one of its
	    // mysql rounds lasted 1027 ms, as busy rounds now and then do (app1's postgres had one
	    // of 1390 ms). Counting that second as loss on app3's path held app3's postgres path
	    // and named it beside the lossy app2. Only a failed round of another probe shows loss
	    // on the path.
	    .name    = "network: a busy host's quick onset beside a lossy path is not held by a 1 s "
	               "round of its other probe to the server (as recorded)",
	    .probes  = { REC_BESIDE_LOSSY_APP2_ORDERS,
	         REC_BESIDE_LOSSY_APP2_USERS,
	         { .host = "app3", .name = "orders", .st = FL__STATUS__STATUS_OK, .dur_ms = 23,
	             .base_ms = 21,
	             .rounds = ".0 S0 S0 S0 S0 .0 S0 S0 S81 .17 .45 S150 S164 S319 .16 .19 .25 .26 "
	                       ".16 .19 .16 .15 .18 .23" },
	         REC_BUSY_APP3_USERS,
	         REC_BESIDE_LOSSY_APP1_ORDERS,
	         REC_BESIDE_LOSSY_APP1_USERS },
	    .verdict    = FL__VERDICT__VERDICT_NETWORK,
	    .words      = { "network path app2 \u2192", "fails (timeout)", "2 other hosts reach it" },
	    .hosts_exp  = { "app2" },
	    .n_findings = 2, // app2's two paths; app3 is not named
	},
	// ---- a host slow on its own beside another host's lossy path ----
	// Recorded in a 30 % hold of testbed_faults on a busy machine (trace lines 10-36): app2's
	// paths to the database host timed out (its postgres and mysql probes failing), and app3
	// had a slow spell of its own: postgres rounds of 77-319 ms on a 21 ms baseline, none
	// failed and none a second, while its mysql probe to the same server stayed at a few ms
	// (one 1027 ms round) and app1 stayed clean. app2's postgres path was a reach finding, so
	// app3 was the only slow suspect and was named as a second slow path (8 of 40 diagnoses).
	{
	    .name    = "network: a busy host's own slow spell beside another host's lossy path is "
	               "not named (its other probe to the server clean, no loss; as recorded)",
	    .probes  = { REC_BESIDE_LOSSY_APP2_ORDERS,
	         REC_BESIDE_LOSSY_APP2_USERS,
	         REC_BUSY_APP3_ORDERS_SLOW,
	         REC_BUSY_APP3_USERS,
	         REC_BESIDE_LOSSY_APP1_ORDERS,
	         REC_BESIDE_LOSSY_APP1_USERS },
	    .verdict       = FL__VERDICT__VERDICT_NETWORK,
	    .words         = { "network path app2 \u2192", "fails (timeout)", "2 other hosts reach it" },
	    .hosts_exp     = { "app2" },
	    .all_hosts_exp = { "app2" },
	    .n_findings    = 2, // app2's two paths
	},
	{
	    // The other recorded case (a soak run, load average 9, trace lines 22-37): app3's
	    // postgres rounds went .31 S170 S311 S217 S287 .110 .109 S269 S949 .16 .18 on a 47 ms
	    // baseline (the five rounds before them were normal: the trace is gone, the doc kept
	    // these), its mysql stayed at 1-67 ms and app1's postgres at 17-164 ms; 8 of 77
	    // diagnoses named app3 beside app2. app2's windows as recorded in a 30 % hold on
	    // 2026-11-30 16:28: its postgres path failing (a reach finding), its mysql path a
	    // suspect that shows loss.
	    .name    = "network: a busy host's troubled window beside another host's lossy paths is "
	               "not named (as recorded)",
	    .probes  = { { .host = "app2", .name = "orders", .st = FL__STATUS__STATUS_FAIL,
	                    .fc = FL__FAILURE_CLASS__FAILURE_TIMEOUT, .fails = 2, .since_ago = 2,
	                    .dur_ms = 2022, .base_ms = 250,
	                    .rounds = ".146 .213 .327 .222 .123 .242 .149 .311 .147 .246 .311 S1544 "
	                              "S1362 S959 F2867 F2022" },
	         { .host = "app2", .name = "users", .st = FL__STATUS__STATUS_WARN,
	             .fc = FL__FAILURE_CLASS__FAILURE_SLOW, .dur_ms = 857, .base_ms = 9, .slow = 1,
	             .rounds = ".29 .15 .31 .16 .10 .4 .6 .12 .11 .2 .1 S430 F2029 .2 F2006 S857" },
	         { .host = "app3", .name = "orders", .st = FL__STATUS__STATUS_OK, .dur_ms = 18,
	             .base_ms = 47,
	             .rounds = ".44 .51 .47 .40 .52 .31 S170 S311 S217 S287 .110 .109 S269 S949 .16 "
	                       ".18" },
	         { .host = "app3", .name = "users", .st = FL__STATUS__STATUS_OK, .dur_ms = 2,
	             .base_ms = 3,
	             .rounds = ".2 .1 .1 S67 .3 .1 .2 .1 .1 .2 .1 .1 .3 .1 .2 .2" },
	         { .host = "app1", .name = "orders", .st = FL__STATUS__STATUS_OK, .dur_ms = 20,
	             .base_ms = 27,
	             .rounds = ".17 .25 S164 .30 .22 .19 .40 .18 .21 .33 .17 .25 .60 .19 .22 .20" },
	         { .host = "app1", .name = "users", .st = FL__STATUS__STATUS_OK, .dur_ms = 1,
	             .base_ms = 3,
	             .rounds = ".1 .2 .1 .1 .2 .1 .1 .3 .1 .1 .2 .1 .1 .1 .2 .1" } },
	    .verdict       = FL__VERDICT__VERDICT_NETWORK,
	    .words         = { "path app2 \u2192", "other hosts reach" },
	    .hosts_exp     = { "app2" },
	    .all_hosts_exp = { "app2" },
	    .n_findings    = 2, // app2's two paths
	},
	{
	    // Recorded at the onset of a 30 % hold (load average 13-18): app2's postgres path sat
	    // between the thresholds (S118 S1348 F2002 S916: 4 bad rounds of 16, no quick onset),
	    // neither failing nor a suspect, while app1's postgres window held 6 slow rounds of 16
	    // (103-253 ms on 38 ms, nothing lost, its mysql clean): app1 was named, app2 counted
	    // among the hosts that reach it at normal latency. app2's path shows loss whatever its
	    // state (a failed round, a lost SYN's second), so app1's own spell is not named.
	    .name    = "network: a busy host's spell beside a lossy path between the thresholds is "
	               "not named (as recorded)",
	    .probes  = {
		{ .host = "app1", .name = "orders", .st = FL__STATUS__STATUS_OK, .dur_ms = 63, .base_ms = 38, .rounds = ".26 .19 .19 .31 .24 .31 .25 S103 S103 .41 S253 .69 S208 S234 S116 .63" },
		{ .host = "app1", .name = "users", .st = FL__STATUS__STATUS_OK, .dur_ms = 23, .base_ms = 6, .rounds = ".1 .4 .2 .6 .3 .2 .3 .28 .1 .2 .2 .1 .1 .1 .5 .23" },
		{ .host = "app2", .name = "orders", .st = FL__STATUS__STATUS_WARN, .fc = FL__FAILURE_CLASS__FAILURE_SLOW, .dur_ms = 916, .base_ms = 33, .slow = 1, .rounds = "S0 S0 S0 F0 S0 .0 S0 S0 .0 S0 S0 S0 F0 S0 F0 S0 .0 .0 S0 S0 S0 S0 S0 " "S0 .0 F0 .0 .0 S0 S0 S0 .0 S0 .0 .0 .0 .0 S0 S0 .0 .0 S0 .0 .25 .17 " ".20 .36 .29 .23 .25 .31 .32 .29 .68 .36 S118 S1348 F2002 S916" },
		{ .host = "app2", .name = "users", .st = FL__STATUS__STATUS_WARN, .fc = FL__FAILURE_CLASS__FAILURE_SLOW, .dur_ms = 1099, .base_ms = 3, .slow = 1, .rounds = "S0 .0 .0 .0 S0 S0 .0 .0 S0 .0 .0 .0 S0 S0 S0 S0 S0 .0 .0 .0 .0 S0 S0 " "S0 .0 S0 .0 .0 S0 S0 .0 S0 .0 .0 .0 S0 S0 .0 S0 .0 .0 .0 .0 S0 S0 F0 " ".0 .0 .1 .1 .2 .2 .1 .1 .1 .4 .4 .3 .4 .2 .8 F3062 F2021 S1099" },
		{ .host = "app3", .name = "orders", .st = FL__STATUS__STATUS_OK, .dur_ms = 238, .base_ms = 42, .slow = 2, .rounds = "S0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .28 .44 .21 .22 .29 " ".49 .46 .80 .38 S198 .54 .30 S127 .56 S175 S238" },
		{ .host = "app3", .name = "users", .st = FL__STATUS__STATUS_OK, .dur_ms = 4, .base_ms = 3, .rounds = ".5 .2 .2 .1 .2 .3 .8 S97 .1 .1 .1 .2 .2 .2 .4 .4" },
	    },
	    .verdict       = FL__VERDICT__VERDICT_NETWORK,
	    .words         = { "unstable path app2 \u2192 127.0.0.1:3306/users" },
	    .hosts_exp     = { "app2" },
	    .all_hosts_exp = { "app2" },
	},
	{
	    // Recorded 18 s later in the same hold: app3's DNS lookups of the database's name had 5
	    // slow rounds of 16 (56-175 ms on a 2 ms baseline, none failed or took a second): a
	    // busy host's lookups (the testbed resolves from a hosts file), named "slow path app3
	    // → db.fl.test" beside app2's lossy paths. A lookup slow on its own beside a lossy
	    // path is not named either.
	    .name    = "network: a busy host's slow DNS lookups beside another host's lossy path are "
	               "not named (as recorded)",
	    .probes  = {
		{ .host = "app1", .name = "resolv", .st = FL__STATUS__STATUS_OK, .dur_ms = 0, .base_ms = 2, .rounds = "S0 .0 .0 .0 .1 .0 S139 .0 .0 .0 .0 .0 .6 .1 .0 .24 .0 .0 .2 .0" },
		{ .host = "app1", .name = "orders", .st = FL__STATUS__STATUS_OK, .dur_ms = 264, .base_ms = 73, .slow = 1, .rounds = "S0 S0 .0 S0 .0 S0 S0 S0 .63 .84 .39 .72 S308 S191 S411 .105 S415 S222 " "S427 S244 S248 .137 .136 S264" },
		{ .host = "app1", .name = "users", .st = FL__STATUS__STATUS_OK, .dur_ms = 6, .base_ms = 6, .rounds = ".11 .1 .17 .2 S73 .4 .4 .34 .7 .2 .3 .5 .1 .2 S397 .6" },
		{ .host = "app2", .name = "resolv", .st = FL__STATUS__STATUS_OK, .dur_ms = 2, .base_ms = 2, .rounds = "S0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 " ".0 .0 .0 .0 .0 .0 .0 S0 .0 S0 .0 .1 .1 .0 .44 .0 .0 .0 .0 .0 .0 .1 .0 " "S93 .0 .0 .2" },
		{ .host = "app2", .name = "orders", .st = FL__STATUS__STATUS_WARN, .fc = FL__FAILURE_CLASS__FAILURE_SLOW, .dur_ms = 1080, .base_ms = 33, .slow = 2, .rounds = "F0 S0 .0 S0 S0 .0 S0 S0 S0 F0 S0 F0 S0 .0 .0 S0 S0 S0 S0 S0 S0 .0 F0 " ".0 .0 S0 S0 S0 .0 S0 .0 .0 .0 .0 S0 S0 .0 .0 S0 .0 .0 .0 .0 .0 .0 .0 " ".0 .0 .32 .29 .68 .36 S118 S1348 F2002 S916 S851 F2007 S625 S1640 " "S1565 F2001 S348 S1080" },
		{ .host = "app2", .name = "users", .st = FL__STATUS__STATUS_FAIL, .fc = FL__FAILURE_CLASS__FAILURE_TIMEOUT, .fails = 2, .since_ago = 2, .dur_ms = 2349, .base_ms = 3, .rounds = "S0 .0 .0 .0 S0 S0 S0 S0 S0 .0 .0 .0 .0 S0 S0 S0 .0 S0 .0 .0 S0 S0 .0 " "S0 .0 .0 .0 S0 S0 .0 S0 .0 .0 .0 .0 S0 S0 F0 .0 .0 .0 .0 .0 .0 .0 .0 " ".0 .0 .4 .3 .4 .2 .8 F3062 F2021 S1099 F2005 F2002 S1904 .2 F2028 " "S2001 F2005 F2349" },
		{ .host = "app3", .name = "resolv", .st = FL__STATUS__STATUS_OK, .dur_ms = 0, .base_ms = 2, .rounds = ".0 .1 S93 S75 .0 S85 .0 .0 .0 .0 .0 S56 .23 .0 S175 .0" },
		{ .host = "app3", .name = "orders", .st = FL__STATUS__STATUS_OK, .dur_ms = 257, .base_ms = 163, .rounds = "S0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 " ".0 .0 .0 S0 .0 .0 S0 .0 S0 S0 S0 .47 .101 .62 .126 S192 S287 S192 " "S1114 .174 .224 .225 .313 .165 .161 .201 .257" },
		{ .host = "app3", .name = "users", .st = FL__STATUS__STATUS_OK, .dur_ms = 3, .base_ms = 4, .rounds = "S0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .0 .2 .4 .2 S87 .0 .4 .5 .2 S256 .4 .4 " ".14 .1 .2 S394 .3" },
	    },
	    .verdict       = FL__VERDICT__VERDICT_NETWORK,
	    .words         = { "network path app2 \u2192 127.0.0.1:3306/users fails (timeout)" },
	    .hosts_exp     = { "app2" },
	    .all_hosts_exp = { "app2" },
	},
	{
	    // The same spell with no lossy path beside it: a host really slow on its own still
	    // gets its own finding, as before.
	    .name    = "network: the same busy host's slow spell with no lossy path beside it is "
	               "still its slow path",
	    .probes  = { REC_BUSY_APP3_ORDERS_SLOW,
	         REC_BUSY_APP3_USERS,
	         REC_CALM_APP1_ORDERS,
	         { .host = "app2", .name = "orders", .st = FL__STATUS__STATUS_OK, .dur_ms = 30,
	             .base_ms = 31,
	             .rounds = ".51 .36 .37 .25 .30 .33 .29 .31 .35 .28 .30 .27 .33 .31 .29 .30" } },
	    .verdict       = FL__VERDICT__VERDICT_NETWORK,
	    .words         = { "slow path app3 \u2192 127.0.0.1:5432/orders", "other host reaches" },
	    .hosts_exp     = { "app3" },
	    .all_hosts_exp = { "app3" },
	    .n_findings    = 1,
	},
	{
	    // A delay on app3's path beside app2's lossy one: every probe of app3 to the server
	    // is slow (the slowness is the path's, shared), so it is a second path fault, named.
	    .name    = "network: a host whose every probe to the server is slow joins another "
	               "host's lossy path (a path delay, shared by its probes)",
	    .probes  = { REC_LOSSY_APP2_ORDERS,
	         { .host = "app2", .name = "users", .st = FL__STATUS__STATUS_FAIL,
	             .fc = FL__FAILURE_CLASS__FAILURE_TIMEOUT, .fails = 3, .since_ago = 3,
	             .dur_ms = 2005, .base_ms = 3,
	             .rounds = ".1 F3000 F2000 S1460 F2003 S215 F2051 S428 F2001 F2001 .2 F2000 "
	                       "F2001 F2005 F2001 F2005" },
	         { .host = "app3", .name = "orders", .st = FL__STATUS__STATUS_OK, .dur_ms = 280,
	             .base_ms = 21, .slow = 8,
	             .rounds = ".21 .23 .20 .22 .25 .19 .22 .20 S270 S281 S266 S290 S275 S268 "
	                       "S272 S280" },
	         { .host = "app3", .name = "users", .st = FL__STATUS__STATUS_OK, .dur_ms = 255,
	             .base_ms = 3, .slow = 8,
	             .rounds = ".2 .3 .2 .1 .3 .2 .2 .3 S253 S255 S251 S256 S252 S254 S253 S255" },
	         REC_CALM_APP1_ORDERS,
	         { .host = "app1", .name = "users", .st = FL__STATUS__STATUS_OK, .dur_ms = 1,
	             .base_ms = 3,
	             .rounds = ".7 .1 .2 .1 .1 .2 .1 .1 .4 .2 .2 .6 .1 .2 .5 .1" } },
	    .verdict       = FL__VERDICT__VERDICT_NETWORK,
	    .hosts_exp     = { "app2" }, // its failing paths rank first (older)
	    .all_hosts_exp = { "app2", "app3" },
	    .n_findings    = 4, // app2's two failing paths, app3's two slow ones
	},
	{
	    // A host slow on one probe only whose path shows loss (a round timed out) beside
	    // another host's lossy path: the loss signature is a path's, so it joins.
	    .name    = "network: a host slow on one probe with a timed-out round joins another "
	               "host's lossy path",
	    .probes  = { REC_LOSSY_APP2_ORDERS,
	         { .host = "app3", .name = "orders", .st = FL__STATUS__STATUS_OK, .dur_ms = 319,
	             .base_ms = 21, .slow = 3,
	             .rounds = ".21 S115 .13 .13 .25 S94 S77 S198 S83 F2003 S137 S170 S81 .17 .45 "
	                       "S150 S164 S319" },
	         { .host = "app3", .name = "users", .st = FL__STATUS__STATUS_OK, .dur_ms = 3,
	             .base_ms = 3,
	             .rounds = ".1 .7 .1 .1 .2 .3 .2 .2 .2 .2 .1 .0 .8 .2 .2 .3" },
	         REC_CALM_APP1_ORDERS },
	    .verdict       = FL__VERDICT__VERDICT_NETWORK,
	    .hosts_exp     = { "app2" }, // its failing paths rank first (older)
	    .all_hosts_exp = { "app2", "app3" },
	    .n_findings    = 2, // app2's failing path, app3's unstable one
	},
	{
	    // Recorded in a 10 % hold on a busy machine (load average up to 9): every host's
	    // postgres rounds slow at once, app1 3 rounds in a row (90-244 ms on 27 ms), app3 4
	    // (111-273 ms on 29 ms), app2's lossy path most of its window, while mysql on the
	    // same hosts and the same machine stayed at 1-3 ms. Every client of postgres saw it
	    // slow and nothing else was: the server was slow (here starved of CPU), so database
	    // is the right answer, not a false positive to suppress (docs/correlation.md).
	    .name    = "database: postgres slow from every host at once, mysql fine on the same "
	               "hosts (the machine-wide spike, as recorded)",
	    .probes  = { { .host = "app1", .name = "orders", .st = FL__STATUS__STATUS_OK,
	                    .dur_ms = 244, .base_ms = 27, .slow = 3,
	                    .rounds = ".0 S0 .0 .0 .0 S0 .0 S0 S919 .66 .38 .28 .42 .17 .45 .32 "
	                              ".21 .24 .21 .18 .32 S90 S125 S244" },
	         { .host = "app1", .name = "users", .st = FL__STATUS__STATUS_OK, .dur_ms = 3,
	             .base_ms = 2,
	             .rounds = ".5 .1 .1 .1 .9 .1 .2 .1 .0 .0 .0 .1 .1 .2 .2 .3" },
	         { .host = "app2", .name = "orders", .st = FL__STATUS__STATUS_OK, .dur_ms = 241,
	             .base_ms = 26, .slow = 2,
	             .rounds = "S0 S0 S0 S0 .0 .0 .0 .0 S243 S224 S493 F2621 S554 S581 S432 "
	                       "S433 S76 S673 .48 S224 .21 .27 S435 S241" },
	         { .host = "app2", .name = "users", .st = FL__STATUS__STATUS_OK, .dur_ms = 5,
	             .base_ms = 4,
	             .rounds = ".0 .0 .0 S0 .0 .0 S0 .0 S621 S500 .1 S209 .4 S435 .1 .10 .2 "
	                       "S1018 S207 S478 F2002 .2 S295 .5" },
	         { .host = "app3", .name = "orders", .st = FL__STATUS__STATUS_OK, .dur_ms = 174,
	             .base_ms = 29, .slow = 4,
	             .rounds = "S0 .0 .0 .0 S0 S0 S0 S0 S149 .17 .21 .20 S119 .22 .40 .17 .18 "
	                       ".48 S110 .58 S111 S273 S173 S174" },
	         { .host = "app3", .name = "users", .st = FL__STATUS__STATUS_OK, .dur_ms = 2,
	             .base_ms = 4,
	             .rounds = "S111 .1 .1 .5 .1 .2 .44 .1 .1 .1 .1 .2 .9 .1 .1 .2" } },
	    .verdict     = FL__VERDICT__VERDICT_DATABASE,
	    .words       = { "postgres 127.0.0.1:5432/orders slow from all 3 hosts" },
	    .hosts_exp   = { "app1", "app2", "app3" },
	    .targets_exp = { "127.0.0.1:5432/orders" },
	},
	{
	    // The hold's bound with the lost-SYN signature: once the loss stops, the last such
	    // round leaves the window within 16 rounds and the path is fine again.
	    .name    = "healthy: 16 rounds after a lossy path's last lost-SYN round it has left its "
	               "spell",
	    .probes  = { { .host = "app2", .name = "orders", .st = FL__STATUS__STATUS_OK,
	         .dur_ms = 1050, .slow = 0,
	         .recent = "SS.S.S.S.S..S..S" "................" } },
	    .verdict = FL__VERDICT__VERDICT_HEALTHY,
	    .words   = { "reporting, no probe failing" },
	    .hosts_exp = { NULL },
	},
	{
	    // ... while two of them are still in its window (14 rounds later), it is held.
	    .name    = "network: 14 rounds after a lossy path's last two lost-SYN rounds it is still "
	               "held",
	    .probes  = { { .host = "app2", .name = "orders", .st = FL__STATUS__STATUS_OK,
	         .dur_ms = 1050, .slow = 0,
	         .recent = "SS.S.S.S.S..S.SS" ".............." } },
	    .verdict = FL__VERDICT__VERDICT_NETWORK,
	    .words   = { "path app2 \u2192 127.0.0.1:5432/orders" },
	    .hosts_exp = { "app2" },
	},
	{
	    // A busy host's slow spell, spikes up to just under a second: no round failed and
	    // none lasted the second a lost SYN adds, so it is not held on its spikes.
	    .name    = "healthy: a busy host's spikes of up to 950 ms after a slow spell are no lost "
	               "SYNs",
	    .probes  = { { .host = "app1", .name = "orders", .st = FL__STATUS__STATUS_OK,
	         .dur_ms = 258, .base_ms = 96,
	         .rounds = "S700 .90 S880 .95 S950 .88 S920 .97 S390 .92 .100 .94 .96 S410 .99 .93 "
	                   ".92 .98 S950 .95 .97 .90 .94 S880 .93 .91 .95 .97 S940 .92 .94 .96 "
	                   ".258" },
	         REC_SPIKES_APP2_ORDERS,
	         REC_SPIKES_APP3_ORDERS },
	    .verdict = FL__VERDICT__VERDICT_HEALTHY,
	    .words   = { "reporting, no probe failing" },
	    .hosts_exp = { NULL },
	},
	{
	    .name    = "network: a lossy path with 2-3 bad rounds in every window since its spell "
	               "keeps it until clean (<= 1 bad of 16)",
	    .probes  = { { .host = "app2", .name = "orders", .st = FL__STATUS__STATUS_OK,
	         .dur_ms = 1050, .slow = 1,
	         .recent = "SS.F.S.S.F..S..." "...S.......F...S" } },
	    .verdict = FL__VERDICT__VERDICT_NETWORK,
	    .words   = { "unstable path app2 \u2192 127.0.0.1:5432/orders" },
	    .hosts_exp  = { "app2" },
	    .n_findings = 1,
	},
	{
	    .name    = "healthy: every host recovering from the same outage (2 failed rounds left) "
	               "is no path finding",
	    .probes  = { { .host = "app1", .name = "orders", .st = FL__STATUS__STATUS_OK,
	                    .recent = "......FFFFFFFFFF" "F.............." },
	         { .host = "app2", .name = "orders", .st = FL__STATUS__STATUS_OK,
	             .recent = "......FFFFFFFFFF" "F.............." },
	         { .host = "app3", .name = "orders", .st = FL__STATUS__STATUS_OK,
	             .recent = ".....FFFFFFFFFFF" "F.............." } },
	    .verdict = FL__VERDICT__VERDICT_HEALTHY,
	    .words   = { "reporting, no probe failing" },
	    .hosts_exp = { NULL },
	},
	{
	    // Seen on the testbed after the loss was cleared, both cores busy: app1 had once had
	    // a troubled window of slow rounds and, held on its spikes until clean, was named.
	    .name    = "healthy: a busy host's spell of slow rounds is not held on its spikes (no "
	               "failed round)",
	    .probes  = { { .host = "app1", .name = "orders", .st = FL__STATUS__STATUS_OK,
	         .dur_ms = 258, .base_ms = 96,
	         .rounds = "S400 .90 S380 .95 S350 .88 S420 .97 S390 .92 .100 .94 .96 S410 .99 .93 "
	                   ".92 .98 S360 .95 .97 .90 .94 S380 .93 .91 .95 .97 S370 .92 .94 .96 "
	                   ".258" },
	         REC_SPIKES_APP2_ORDERS,
	         REC_SPIKES_APP3_ORDERS },
	    .verdict = FL__VERDICT__VERDICT_HEALTHY,
	    .words   = { "reporting, no probe failing" },
	    .hosts_exp = { NULL },
	},
	{
	    .name    = "healthy: a lossy path that was clean (<= 1 bad of 16) has left its spell",
	    .probes  = { { .host = "app2", .name = "orders", .st = FL__STATUS__STATUS_OK,
	         .dur_ms = 1050, .slow = 1,
	         .recent = "SS.F.S.S.F..S..." "................" "....S.....F....S" } },
	    .verdict = FL__VERDICT__VERDICT_HEALTHY,
	    .words   = { "reporting, no probe failing" },
	    .hosts_exp = { NULL },
	},
	{
	    .name    = "healthy: 3 bad of 16 rounds that never reached 30 % is no spell",
	    .probes  = { { .host = "app2", .name = "orders", .st = FL__STATUS__STATUS_OK,
	         .dur_ms = 1050, .slow = 1,
	         .recent = ".......S........" "...S......F....S" } },
	    .verdict = FL__VERDICT__VERDICT_HEALTHY,
	    .words   = { "reporting, no probe failing" },
	    .hosts_exp = { NULL },
	},
	{
	    .name    = "healthy: one failed and one slow round among the recent ones",
	    .probes  = { { "app2", "orders", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE,
	         0, 0, 3, NULL, NULL, NULL, 0, "..F....S.." } },
	    .verdict = FL__VERDICT__VERDICT_HEALTHY,
	    .words   = { "reporting, no probe failing" },
	    .hosts_exp = { NULL },
	},
	// ---- a name whose answer changed ----
	{
	    .name    = "network (DNS): the name moved on app1 only and the database fails there",
	    .probes  = { { "app1", "orders", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_REFUSED, 3, 10, 0, NULL, NULL, NULL, 0, NULL, 0, "10.0.0.9", "10.0.0.5", 11 }, { "app2", "orders", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 0, 0, 0, NULL, NULL, NULL, 0, NULL, 0, "10.0.0.5" }, { "app3", "orders", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 0, 0, 0, NULL, NULL, NULL, 0, NULL, 0, "10.0.0.5" } },
	    .verdict = FL__VERDICT__VERDICT_NETWORK,
	    .words = { "DNS: db.internal moved from 10.0.0.5 to 10.0.0.9 at 07:59:49 on app1 only",
	        "(split DNS: app2, app3 still get 10.0.0.5)",
	        "postgres 127.0.0.1:5432/orders fails (refused) there since 07:59:50" },
	    .hosts_exp   = { "app1" },
	    .targets_exp = { "127.0.0.1:5432/orders" },
	    .n_findings  = 1,
	    .evidence =
	        "split DNS: db.internal resolves to 10.0.0.9 on app1; 10.0.0.5 on app2, app3",
	},
	{
	    .name       = "network (DNS): the name moved on every host and the new address refuses",
	    .probes     = { { "app1", "orders", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_REFUSED, 3, 10, 0, NULL, NULL, NULL, 0, NULL, 0, "10.0.0.9", "10.0.0.5", 11 }, { "app2", "orders", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_REFUSED, 3, 10, 0, NULL, NULL, NULL, 0, NULL, 0, "10.0.0.9", "10.0.0.5", 10 }, { "app3", "orders", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_REFUSED, 3, 10, 0, NULL, NULL, NULL, 0, NULL, 0, "10.0.0.9", "10.0.0.5", 12 } },
	    .verdict    = FL__VERDICT__VERDICT_NETWORK,
	    .words      = { "DNS: db.internal moved from 10.0.0.5 to 10.0.0.9", "on all 3 hosts",
	             "fails (refused) there" },
	    .hosts_exp  = { "app1", "app2", "app3" },
	    .n_findings = 1,
	    .evidence   = "db.internal moved from 10.0.0.5 to 10.0.0.9 at 07:59:48 (seen by app3, "
	                  "probe orders)",
	},
	{
	    .name       = "network (DNS): split answers are listed in host-name order",
	    .probes     = { { "app3", "orders", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_REFUSED, 3, 10, 0, NULL, NULL, NULL, 0, NULL, 0, "10.0.0.9", "10.0.0.5", 11 }, { "app1", "orders", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 0, 0, 0, NULL, NULL, NULL, 0, NULL, 0, "10.0.0.5" }, { "app2", "orders", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 0, 0, 0, NULL, NULL, NULL, 0, NULL, 0, "10.0.0.5" } },
	    .verdict    = FL__VERDICT__VERDICT_NETWORK,
	    .words      = { "on app3 only (split DNS: app1, app2 still get 10.0.0.5)" },
	    .hosts_exp  = { "app3" },
	    .n_findings = 1,
	    .evidence =
	        "split DNS: db.internal resolves to 10.0.0.5 on app1, app2; 10.0.0.9 on app3",
	},
	{
	    .name    = "healthy: a name moved and everything works (a fact in history, no fault)",
	    .probes  = { { "app1", "orders", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE,
	                     0, 0, 0, NULL, NULL, NULL, 0, NULL, 0, "10.0.0.9", "10.0.0.5", 11 },
	         { "app2", "orders", FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 0, 0, 0,
	             NULL, NULL, NULL, 0, NULL, 0, "10.0.0.5" } },
	    .verdict = FL__VERDICT__VERDICT_HEALTHY,
	    .words   = { "reporting, no probe failing" },
	    .hosts_exp = { NULL },
	},
	{
	    .name =
	        "database: the name moved 10 minutes before the server went down (evidence only)",
	    .probes     = { { "app1", "orders", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_REFUSED, 3, 10, 0, NULL, NULL, NULL, 0, NULL, 0, "10.0.0.9", "10.0.0.5", 600 }, { "app2", "orders", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_REFUSED, 3, 10, 0, NULL, NULL, NULL, 0, NULL, 0, "10.0.0.9", "10.0.0.5", 600 }, { "app3", "orders", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_REFUSED, 3, 10, 0, NULL, NULL, NULL, 0, NULL, 0, "10.0.0.9", "10.0.0.5", 600 } },
	    .verdict    = FL__VERDICT__VERDICT_DATABASE,
	    .words      = { "postgres 127.0.0.1:5432/orders is down" },
	    .hosts_exp  = { "app1", "app2", "app3" },
	    .n_findings = 1,
	    .evidence   = "db.internal moved from 10.0.0.5 to 10.0.0.9 at 07:50:00 (seen by app1, "
	                  "probe orders)",
	},
	// ---- only_host ----
	{
	    .name       = "only_host: a finding about app2 is not shown for app1",
	    .probes     = { { "app2", "orders", FL__STATUS__STATUS_FAIL,
	            FL__FAILURE_CLASS__FAILURE_TIMEOUT, 3, 7 } },
	    .only_host  = "app1",
	    .verdict    = FL__VERDICT__VERDICT_HEALTHY,
	    .words      = { "app1 healthy" },
	    .hosts_exp  = { NULL },
	    .n_findings = 0,
	},
	{
	    .name       = "only_host: it is shown for app2",
	    .probes     = { { "app2", "orders", FL__STATUS__STATUS_FAIL,
	                        FL__FAILURE_CLASS__FAILURE_TIMEOUT, 3, 7 },
	            { "app3", "users", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_TIMEOUT, 3,
	                7 } },
	    .only_host  = "app2",
	    .verdict    = FL__VERDICT__VERDICT_NETWORK,
	    .words      = { "app2 \u2192 127.0.0.1:5432/orders" },
	    .hosts_exp  = { "app2" },
	    .n_findings = 1,
	},
	{
	    .name      = "only_host: unknown host",
	    .only_host = "nope",
	    .verdict   = FL__VERDICT__VERDICT_UNKNOWN,
	    .words     = { "no data for host nope" },
	    .hosts_exp = { NULL },
	},
	// ---- staleness and ranking ----
	{
	    .name  = "unknown: every host is silent",
	    .hosts = { { "app1", "2.4.0", "", 3600, 1, 300 }, { "app2", "2.4.0", "", 3600, 1, 200 },
	        { "app3", "2.4.0", "", 3600, 1, 100 } },
	    .verdict   = FL__VERDICT__VERDICT_UNKNOWN,
	    .words     = { "no recent data", "all 3 hosts silent", "2027-01-15T07:58:20.000Z" },
	    .hosts_exp = { NULL },
	},
	{
	    .name       = "ranking: a database down on all hosts ranks above a silent host and "
	                  "the app",
	    .hosts      = { { "app4", "2.4.0", "", 3600, 1, 60 } },
	    .probes     = { { "app1", "users", FL__STATUS__STATUS_FAIL,
	                        FL__FAILURE_CLASS__FAILURE_REFUSED, 3, 3 },
	            { "app2", "users", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_REFUSED, 3,
	                3 },
	            { "app3", "users", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_REFUSED, 3,
	                3 },
	            { "app1", "app", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_HTTP_5XX, 3,
	                3 } },
	    .verdict    = FL__VERDICT__VERDICT_DATABASE,
	    .words      = { "mysql 127.0.0.1:3306/users is down" },
	    .hosts_exp  = { "app1", "app2", "app3" },
	    .n_findings = 2,
	},
	{
	    .name      = "ranking: network on one path ranks above code on every host (no overlap)",
	    .probes    = { { "app2", "users", FL__STATUS__STATUS_FAIL,
	                       FL__FAILURE_CLASS__FAILURE_UNREACHABLE, 3, 3 },
	           { "app1", "app", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_HTTP_5XX, 3,
	               3 },
	           { "app3", "app", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_HTTP_5XX, 3,
	               3 } },
	    .verdict   = FL__VERDICT__VERDICT_NETWORK,
	    .words     = { "app2 \u2192 127.0.0.1:3306/users", "unreachable" },
	    .hosts_exp = { "app2" },
	    .n_findings = 2,
	},
	{
	    .name       = "code: app fails on app2 only, same release runs fine elsewhere",
	    .probes     = { { "app2", "app", FL__STATUS__STATUS_FAIL,
	            FL__FAILURE_CLASS__FAILURE_HTTP_5XX, 3, 3 } },
	    .verdict    = FL__VERDICT__VERDICT_CODE,
	    .words      = { "app", "app2 only", "release 2.4.0 also runs fine on 2 other hosts" },
	    .hosts_exp  = { "app2" },
	    .release    = "2.4.0",
	    .n_findings = 1,
	},
	// ---- database states a SELECT 1 cannot see --------------------------------------------
	{
	    .name    = "database: orders read-only (in recovery) while release 2.4.0 needs INSERT; "
	               "apps fail downstream",
	    .probes  = { { .host        = "app1",
	                     .name      = "orders",
	                     .st        = FL__STATUS__STATUS_FAIL,
	                     .fc        = FL__FAILURE_CLASS__FAILURE_READ_ONLY,
	                     .fails     = 4,
	                     .since_ago = 20,
	                     .ro_reason = "in recovery",
	                     .ro_needs  = "INSERT on public.orders" },
	         { .host        = "app2",
	             .name      = "orders",
	             .st        = FL__STATUS__STATUS_FAIL,
	             .fc        = FL__FAILURE_CLASS__FAILURE_READ_ONLY,
	             .fails     = 4,
	             .since_ago = 20,
	             .ro_reason = "in recovery",
	             .ro_needs  = "INSERT on public.orders" },
	         { .host        = "app3",
	             .name      = "orders",
	             .st        = FL__STATUS__STATUS_FAIL,
	             .fc        = FL__FAILURE_CLASS__FAILURE_READ_ONLY,
	             .fails     = 3,
	             .since_ago = 19,
	             .ro_reason = "in recovery",
	             .ro_needs  = "INSERT on public.orders" },
	         { "app1", "app", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_HTTP_5XX, 4,
	             19 },
	         { "app2", "app", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_HTTP_5XX, 4,
	             19 },
	         { "app3", "app", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_HTTP_5XX, 4,
	             19 } },
	    .verdict = FL__VERDICT__VERDICT_DATABASE,
	    .words   = { "orders (postgres 127.0.0.1:5432/orders) is read-only (in recovery)",
	          "release 2.4.0 needs INSERT on public.orders", "all 3 hosts",
	          "3 app probe failures downstream" },
	    .hosts_exp   = { "app1", "app2", "app3" },
	    .targets_exp = { "127.0.0.1:5432/orders" },
	    .release     = "2.4.0",
	    .n_findings  = 1,
	    .evidence    = "database state: read-only (in recovery)",
	},
	{
	    .name      = "database: read-only for one round only is not yet a finding",
	    .probes    = { { .host = "app1",
	           .name           = "orders",
	           .st             = FL__STATUS__STATUS_FAIL,
	           .fc             = FL__FAILURE_CLASS__FAILURE_READ_ONLY,
	           .fails          = 1,
	           .since_ago      = 1,
	           .ro_reason      = "read_only",
	           .ro_needs       = "UPDATE on users.t" } },
	    .verdict   = FL__VERDICT__VERDICT_HEALTHY,
	    .words     = { "reporting, no probe failing" },
	    .hosts_exp = { NULL },
	},
	{
	    .name       = "code: only release 2.5.0 needs writes on the read-only orders",
	    .hosts      = { { "app1", "2.5.0", "2.4.0", 60, 0, 1 } },
	    .probes     = { { .host        = "app1",
	                        .name      = "orders",
	                        .st        = FL__STATUS__STATUS_FAIL,
	                        .fc        = FL__FAILURE_CLASS__FAILURE_READ_ONLY,
	                        .fails     = 5,
	                        .since_ago = 58,
	                        .ro_reason = "default_transaction_read_only",
	                        .ro_needs  = "INSERT on public.orders" },
	            { .host        = "app2",
	                .name      = "orders",
	                .st        = FL__STATUS__STATUS_OK,
	                .ro_reason = "default_transaction_read_only" },
	            { .host        = "app3",
	                .name      = "orders",
	                .st        = FL__STATUS__STATUS_OK,
	                .ro_reason = "default_transaction_read_only" } },
	    .verdict    = FL__VERDICT__VERDICT_CODE,
	    .words      = { "release 2.5.0 needs INSERT on public.orders", "read-only",
	             "default_transaction_read_only" },
	    .hosts_exp  = { "app1" },
	    .release    = "2.5.0",
	    .n_findings = 1,
	},
	{
	    .name      = "database: orders saturated (warn) on every host, app failures folded in",
	    .probes    = { { .host           = "app1",
	                       .name         = "orders",
	                       .st           = FL__STATUS__STATUS_WARN,
	                       .fc           = FL__FAILURE_CLASS__FAILURE_SATURATED,
	                       .conns_in_use = 96,
	                       .conns_limit  = 97 },
	           { .host           = "app2",
	               .name         = "orders",
	               .st           = FL__STATUS__STATUS_WARN,
	               .fc           = FL__FAILURE_CLASS__FAILURE_SATURATED,
	               .conns_in_use = 95,
	               .conns_limit  = 97 },
	           { .host           = "app3",
	               .name         = "orders",
	               .st           = FL__STATUS__STATUS_WARN,
	               .fc           = FL__FAILURE_CLASS__FAILURE_SATURATED,
	               .conns_in_use = 95,
	               .conns_limit  = 97 },
	           { "app1", "app", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_HTTP_5XX, 3,
	               5 } },
	    .verdict   = FL__VERDICT__VERDICT_DATABASE,
	    .words     = { "postgres 127.0.0.1:5432/orders is saturated", "all 3 hosts",
	            "1 app probe failure downstream" },
	    .hosts_exp = { "app1", "app2", "app3" },
	    .targets_exp = { "127.0.0.1:5432/orders" },
	    .n_findings  = 1,
	    .evidence    = "app1: connections: 96 of 97 in use",
	},
	{
	    .name       = "database: a saturated server that also refuses some hosts",
	    .probes     = { { .host           = "app1",
	                        .name         = "orders",
	                        .st           = FL__STATUS__STATUS_WARN,
	                        .fc           = FL__FAILURE_CLASS__FAILURE_SATURATED,
	                        .conns_in_use = 5,
	                        .conns_limit  = 5 },
	            { "app2", "orders", FL__STATUS__STATUS_FAIL,
	                FL__FAILURE_CLASS__FAILURE_TOO_MANY_CONNECTIONS, 3, 3 } },
	    .verdict    = FL__VERDICT__VERDICT_DATABASE,
	    .words      = { "postgres 127.0.0.1:5432/orders", "too many connections" },
	    .hosts_exp  = { "app2" },
	    .n_findings = 2,
	},
	{
	    .name        = "database: replica users lags behind its primary",
	    .probes      = { { .host     = "app1",
	                         .name   = "users",
	                         .st     = FL__STATUS__STATUS_WARN,
	                         .fc     = FL__FAILURE_CLASS__FAILURE_REPLICATION_LAG,
	                         .lag_ms = 42000 },
	             { .host     = "app2",
	                 .name   = "users",
	                 .st     = FL__STATUS__STATUS_WARN,
	                 .fc     = FL__FAILURE_CLASS__FAILURE_REPLICATION_LAG,
	                 .lag_ms = 41000 },
	             { .host     = "app3",
	                 .name   = "users",
	                 .st     = FL__STATUS__STATUS_WARN,
	                 .fc     = FL__FAILURE_CLASS__FAILURE_REPLICATION_LAG,
	                 .lag_ms = 43000 } },
	    .verdict     = FL__VERDICT__VERDICT_DATABASE,
	    .words       = { "replica mysql 127.0.0.1:3306/users", "max_lag", "all 3 hosts" },
	    .hosts_exp   = { "app1", "app2", "app3" },
	    .targets_exp = { "127.0.0.1:3306/users" },
	    .n_findings  = 1,
	    .evidence    = "app1: replication lag: 42.0 s",
	},
	{
	    .name       = "database: replication stopped on the replica (lag unknown)",
	    .probes     = { { .host = "app1",
	            .name           = "users",
	            .st             = FL__STATUS__STATUS_WARN,
	            .fc             = FL__FAILURE_CLASS__FAILURE_REPLICATION_LAG,
	            .lag_ms         = -1 } },
	    .verdict    = FL__VERDICT__VERDICT_DATABASE,
	    .words      = { "replica mysql 127.0.0.1:3306/users", "not replicating", "app1 only" },
	    .hosts_exp  = { "app1" },
	    .n_findings = 1,
	    .evidence   = "replication lag: unknown",
	},
	{
	    .name       = "database: out of resources (disk full) from every host",
	    .probes     = { { "app1", "orders", FL__STATUS__STATUS_FAIL,
	                        FL__FAILURE_CLASS__FAILURE_OUT_OF_RESOURCES, 3, 9 },
	            { "app2", "orders", FL__STATUS__STATUS_FAIL,
	                FL__FAILURE_CLASS__FAILURE_OUT_OF_RESOURCES, 3, 9 },
	            { "app3", "orders", FL__STATUS__STATUS_FAIL,
	                FL__FAILURE_CLASS__FAILURE_OUT_OF_RESOURCES, 2, 8 },
	            { "app2", "app", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_HTTP_5XX, 3,
	                8 } },
	    .verdict    = FL__VERDICT__VERDICT_DATABASE,
	    .words      = { "postgres 127.0.0.1:5432/orders is out of resources", "all 3 hosts",
	             "1 app probe failure downstream" },
	    .hosts_exp  = { "app1", "app2", "app3" },
	    .n_findings = 1,
	    .evidence   = "out_of_resources since",
	},
	{
	    .name       = "code: the app's TLS certificate expires in 5 days (warn on every host)",
	    .probes     = { { .host        = "app1",
	                        .name      = "app",
	                        .st        = FL__STATUS__STATUS_WARN,
	                        .fc        = FL__FAILURE_CLASS__FAILURE_CERT_EXPIRING,
	                        .cert_in_s = 5 * 86400 },
	            { .host        = "app2",
	                .name      = "app",
	                .st        = FL__STATUS__STATUS_WARN,
	                .fc        = FL__FAILURE_CLASS__FAILURE_CERT_EXPIRING,
	                .cert_in_s = 5 * 86400 },
	            { .host        = "app3",
	                .name      = "app",
	                .st        = FL__STATUS__STATUS_WARN,
	                .fc        = FL__FAILURE_CLASS__FAILURE_CERT_EXPIRING,
	                .cert_in_s = 5 * 86400 } },
	    .verdict    = FL__VERDICT__VERDICT_CODE,
	    .words      = { "TLS certificate of (http http://127.0.0.1:8080/health)",
	             "expires on 2027-01-20", "all 3 hosts" },
	    .hosts_exp  = { "app1", "app2", "app3" },
	    .n_findings = 1,
	    .evidence   = "certificate expires 2027-01-20T08:00:00",
	},
	{
	    .name       = "database: the database server's certificate expires (warn)",
	    .probes     = { { .host = "app1",
	            .name           = "orders",
	            .st             = FL__STATUS__STATUS_WARN,
	            .fc             = FL__FAILURE_CLASS__FAILURE_CERT_EXPIRING,
	            .cert_in_s      = 86400 } },
	    .verdict    = FL__VERDICT__VERDICT_DATABASE,
	    .words      = { "TLS certificate of postgres 127.0.0.1:5432/orders", "2027-01-16" },
	    .hosts_exp  = { "app1" },
	    .n_findings = 1,
	},
};

// A silent host stays a host finding until it is forgotten (`faultline forget`,
// forget_after): its last results are old, so they are not judged as a fault of their own. (A
// table of their own: clang-format re-lays the whole of `rows` out when it grows.)
static const row stale_rows[] = {
	{
	    .name    = "host: a silent host whose last results failed is only a host finding",
	    .hosts   = { { "app3", "2.4.0", "", 3600, 1, 600 } },
	    .probes  = { { "app3", "orders", FL__STATUS__STATUS_FAIL,
	                     FL__FAILURE_CLASS__FAILURE_REFUSED, 9, 700 },
	         { "app3", "app", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_HTTP_5XX, 9,
	             700 } },
	    .verdict = FL__VERDICT__VERDICT_HOST,
	    .words   = { "app3 silent since 2027-01-15T07:50:00.000Z", "2 other hosts reporting" },
	    .hosts_exp  = { "app3" },
	    .n_findings = 1,
	    .evidence   = "(10m00s ago), release 2.4.0",
	    .since_ago  = 600,
	},
	{
	    .name       = "host: two silent hosts share one finding, days later still there",
	    .hosts      = { { "app3", "2.4.0", "", 864000, 1, 7 * 86400 },
	             { "app4", "2.3.0", "", 864000, 1, 86400 } },
	    .verdict    = FL__VERDICT__VERDICT_HOST,
	    .words      = { "2 hosts silent", "first app3", "2 other hosts reporting" },
	    .hosts_exp  = { "app3", "app4" },
	    .n_findings = 1,
	    .since_ago  = 7 * 86400,
	},
	{
	    .name       = "ranking: code on the live hosts ranks above a silent host",
	    .hosts      = { { "app3", "2.4.0", "", 3600, 1, 120 } },
	    .probes     = { { "app1", "app", FL__STATUS__STATUS_FAIL,
	                        FL__FAILURE_CLASS__FAILURE_HTTP_5XX, 3, 3 },
	            { "app2", "app", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_HTTP_5XX, 3,
	                3 } },
	    .verdict    = FL__VERDICT__VERDICT_CODE,
	    .hosts_exp  = { "app1", "app2" },
	    .n_findings = 2,
	},
	{
	    .name       = "host: diagnose --host of a silent host gives its host finding",
	    .hosts      = { { "app3", "2.4.0", "", 3600, 1, 120 } },
	    .only_host  = "app3",
	    .verdict    = FL__VERDICT__VERDICT_HOST,
	    .words      = { "app3 silent since" },
	    .hosts_exp  = { "app3" },
	    .n_findings = 1,
	},
};

// ---- building a view from a row -------------------------------------------------------------

typedef struct fixture {
	corr_host             hosts[MAX_HOSTS];
	corr_probe            probes[MAX_HOSTS][MAX_PROBES];
	Fl__ProbeResult       res[MAX_HOSTS][MAX_PROBES];
	Fl__UnmetRequirement  unmet[MAX_HOSTS][MAX_PROBES];
	Fl__UnmetRequirement *unmetp[MAX_HOSTS][MAX_PROBES];
	corr_window           win[MAX_HOSTS][MAX_PROBES];
	char                  abuf[MAX_HOSTS][MAX_PROBES][4][48];
	char                 *aptr[MAX_HOSTS][MAX_PROBES][4];
	Fl__Timing            timing[MAX_HOSTS][MAX_PROBES];
	char                  ubuf[MAX_HOSTS][MAX_PROBES][3][64];
	corr_view             view;
} fixture;

static Fl__ProbeKind
kind_of(const char *k)
{
	return (Fl__ProbeKind) fl_kind_parse(k);
}

static void
add_host(fixture *fx, const hspec *h)
{
	size_t i = 0;
	while (i < fx->view.n_hosts && strcmp(fx->hosts[i].host, h->host) != 0) {
		i++;
	}
	assert_true(i < MAX_HOSTS);
	corr_host *ch          = &fx->hosts[i];
	ch->host               = h->host;
	ch->release            = h->release;
	ch->previous_release   = h->prev;
	ch->release_since_us   = T0 - S(h->rel_ago);
	ch->stale              = h->stale != 0;
	ch->last_seen_us       = T0 - S(h->seen_ago);
	ch->interval_ms        = 1000;
	ch->expectations_error = "";
	ch->probes             = fx->probes[i];
	ch->n_probes           = N_BASE;
	if (i == fx->view.n_hosts) {
		fx->view.n_hosts++;
		for (size_t p = 0; p < N_BASE; p++) {
			Fl__ProbeResult *r = &fx->res[i][p];
			fl__probe_result__init(r);
			r->name   = (char *) base_probes[p][0]; // borrowed literal, never freed
			r->kind   = kind_of(base_probes[p][1]);
			r->target = (char *) base_probes[p][2];
			r->status = FL__STATUS__STATUS_OK;
			r->duration_us = 3000;
			corr_probe *cp = &fx->probes[i][p];
			memset(cp, 0, sizeof(*cp));
			cp->last           = r;
			cp->consecutive_ok = 100;
			cp->baseline_us    = 3000;
		}
	}
}

static void
apply_probe(fixture *fx, const pspec *ps)
{
	size_t h = 0, p = 0;
	while (h < fx->view.n_hosts && strcmp(fx->hosts[h].host, ps->host) != 0) {
		h++;
	}
	while (p < N_BASE && strcmp(base_probes[p][0], ps->name) != 0) {
		p++;
	}
	assert_true(h < fx->view.n_hosts);
	assert_true(p < N_BASE);
	Fl__ProbeResult *r  = &fx->res[h][p];
	corr_probe      *cp = &fx->probes[h][p];
	r->status           = ps->st;
	r->failure          = ps->fc;
	r->duration_us      = ps->dur_ms ? ps->dur_ms * 1000 : 3000;
	if (ps->role != NULL) {
		r->role = (char *) ps->role; // borrowed literal
	}
	r->read_only          = ps->ro_reason != NULL;
	r->read_only_reason   = (char *) ps->ro_reason; // borrowed literals
	r->read_only_needs    = (char *) ps->ro_needs;
	r->connections_in_use = ps->conns_in_use;
	r->connections_limit  = ps->conns_limit;
	r->replica            = ps->lag_ms != 0;
	r->replication_lag_ms = ps->lag_ms;
	r->cert_expires_us    = ps->cert_in_s != 0 ? T0 + S(ps->cert_in_s) : 0;
	cp->consecutive_fail  = ps->fails;
	cp->consecutive_slow  = ps->slow;
	cp->consecutive_ok    = ps->st == FL__STATUS__STATUS_FAIL ? 0 : 100;
	cp->failing_since_us  = ps->st == FL__STATUS__STATUS_FAIL ? T0 - S(ps->since_ago) : 0;
	cp->release_at_fail   = ps->rel_at_fail != NULL ? ps->rel_at_fail : fx->hosts[h].release;
	if (ps->base_ms != 0) {
		cp->baseline_us = (int64_t) ps->base_ms * 1000;
	}
	if (ps->rounds != NULL) {
		corr_window *w = &fx->win[h][p];
		for (const char *c = ps->rounds; *c != '\0';) {
			char    *end;
			uint32_t ms = (uint32_t) strtoul(c + 1, &end, 10);
			assert_true(strchr(".SF", *c) != NULL && end > c + 1);
			corr_window_push(w, ms * 1000, *c == 'S', *c == 'F');
			c = end + strspn(end, " ");
		}
		cp->recent = w;
	} else if (ps->recent != NULL) {
		corr_window *w = &fx->win[h][p];
		for (const char *c = ps->recent; *c; c++) {
			uint32_t d = *c == 'S' ? r->duration_us : (*c == 'F' ? 2000000 : 3000);
			corr_window_push(w, d, *c == 'S', *c == 'F');
		}
		cp->recent        = w;
		cp->slow_since_us = strchr(ps->recent, 'S') != NULL ? T0 - S(ps->since_ago) : 0;
	}
	if (ps->answer != NULL) {
		char buf[200], *save = NULL;
		snprintf(buf, sizeof(buf), "%s", ps->answer);
		r->resolved_name = (char *) "db.internal"; // borrowed literal
		r->addresses     = fx->aptr[h][p];
		r->n_addresses   = 0;
		for (char *t = strtok_r(buf, ", ", &save); t != NULL && r->n_addresses < 4;
		     t       = strtok_r(NULL, ", ", &save)) {
			snprintf(fx->abuf[h][p][r->n_addresses], 48, "%s", t);
			fx->aptr[h][p][r->n_addresses] = fx->abuf[h][p][r->n_addresses];
			r->n_addresses++;
		}
		cp->addrs_prev       = ps->prev_answer;
		cp->addrs_changed_us = ps->prev_answer != NULL ? T0 - S(ps->moved_ago) : 0;
	}
	if (ps->phase_ms > 0) {
		Fl__Timing *t = &fx->timing[h][p];
		fl__timing__init(t);
		t->query_us = ps->phase_ms * 1000 / 2;
		t->check_us = ps->phase_ms * 1000 - t->query_us;
		r->timing   = t;
	}
	if (ps->unmet != NULL) {
		Fl__UnmetRequirement *u = &fx->unmet[h][p];
		char(*b)[64]            = fx->ubuf[h][p];
		fl__unmet_requirement__init(u);
		bool missing = ps->unmet[0] == '-';
		assert_int_equal(
		    sscanf(ps->unmet + missing, "%63s %63s %63s", b[0], b[1], b[2]), 3);
		u->database       = (char *) ps->name;
		u->object         = b[1];
		u->role           = b[2];
		u->object_missing = missing;
		if (missing) {
			u->kind = strcmp(b[0], "column") == 0 ? FL__OBJECT_KIND__OBJECT_COLUMN
			                                      : FL__OBJECT_KIND__OBJECT_TABLE;
		} else {
			u->kind      = FL__OBJECT_KIND__OBJECT_TABLE;
			u->privilege = b[0];
		}
		fx->unmetp[h][p] = u;
		r->unmet         = &fx->unmetp[h][p];
		r->n_unmet       = 1;
	}
}

static void
build(fixture *fx, const row *rw)
{
	static const hspec base_hosts[] = {
		{ "app1", "2.4.0", "", 3600, 0, 1 },
		{ "app2", "2.4.0", "", 3600, 0, 1 },
		{ "app3", "2.4.0", "", 3600, 0, 1 },
	};
	memset(fx, 0, sizeof(*fx));
	fx->view.now_us = T0;
	corr_params_default(&fx->view.params);
	fx->view.hosts = fx->hosts;
	for (size_t i = 0; i < 3; i++) {
		add_host(fx, &base_hosts[i]);
	}
	for (size_t i = 0; i < MAX_HOSTS && rw->hosts[i].host != NULL; i++) {
		add_host(fx, &rw->hosts[i]);
	}
	for (size_t i = 0; i < 16 && rw->probes[i].host != NULL; i++) {
		apply_probe(fx, &rw->probes[i]);
	}
	fx->view.only_host = rw->only_host;
}

// A summary never repeats its verdict in front ("network: ..."): the verdict is a field of its
// own, and the CLI prints the summary after it as sent.
static void
assert_no_verdict_prefix(const char *row_name, Fl__Verdict v, const char *summary)
{
	const char *name = fl_verdict_name(v);
	size_t      n    = strlen(name);
	if (strncasecmp(summary, name, n) == 0 && summary[n] == ':') {
		fail_msg("%s: summary \"%s\" repeats its verdict", row_name, summary);
	}
}

// The hosts of every finding of r, sorted and unique, against want (NULL-terminated).
static void
assert_all_hosts(const char *row_name, const Fl__DiagnoseReply *r, const char *const *want)
{
	const char *got[MAX_HOSTS];
	size_t      n = 0;
	for (size_t i = 0; i < r->n_findings; i++) {
		for (size_t k = 0; k < r->findings[i]->n_hosts; k++) {
			const char *h   = r->findings[i]->hosts[k];
			size_t      pos = 0;
			while (pos < n && strcmp(got[pos], h) < 0) {
				pos++;
			}
			if (pos < n && strcmp(got[pos], h) == 0) {
				continue;
			}
			assert_true(n < MAX_HOSTS);
			memmove(&got[pos + 1], &got[pos], (n - pos) * sizeof(*got));
			got[pos] = h;
			n++;
		}
	}
	for (size_t i = 0; i < MAX_HOSTS && (i < n || want[i] != NULL); i++) {
		if (i >= n || want[i] == NULL || strcmp(got[i], want[i]) != 0) {
			fail_msg("%s: findings name host %s, want %s", row_name,
			    i < n ? got[i] : "none", want[i] != NULL ? want[i] : "none");
		}
	}
}

static void
check_row(const row *rw)
{
	fixture *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	build(fx, rw);
	Fl__DiagnoseReply *r = corr_diagnose(&fx->view);
	assert_non_null(r);
	print_message("%-75s -> %s: %s\n", rw->name, fl_verdict_name(r->verdict), r->summary);

	if (r->verdict != rw->verdict) {
		fail_msg("%s: verdict %s, want %s (%s)", rw->name, fl_verdict_name(r->verdict),
		    fl_verdict_name(rw->verdict), r->summary);
	}
	assert_no_verdict_prefix(rw->name, r->verdict, r->summary);
	for (size_t i = 0; i < r->n_findings; i++) {
		assert_no_verdict_prefix(
		    rw->name, r->findings[i]->verdict, r->findings[i]->summary);
	}
	for (size_t i = 0; i < MAX_WORDS && rw->words[i] != NULL; i++) {
		if (strstr(r->summary, rw->words[i]) == NULL) {
			fail_msg(
			    "%s: summary \"%s\" lacks \"%s\"", rw->name, r->summary, rw->words[i]);
		}
	}
	if (rw->n_findings > 0 || rw->verdict == FL__VERDICT__VERDICT_HEALTHY) {
		for (size_t i = 0; r->n_findings != rw->n_findings && i < r->n_findings; i++) {
			print_message("  finding %zu: %s\n", i, r->findings[i]->summary);
		}
		assert_int_equal(r->n_findings, rw->n_findings);
	}
	if (rw->since_ago != 0) {
		assert_int_equal(r->since_us, T0 - S(rw->since_ago));
	}
	if (rw->all_hosts_exp[0] != NULL) {
		assert_all_hosts(rw->name, r, rw->all_hosts_exp);
	}
	if (r->n_findings > 0) {
		const Fl__Finding *f = r->findings[0];
		assert_int_equal(f->verdict, r->verdict);
		assert_string_equal(f->summary, r->summary);
		size_t nh = 0;
		while (nh < MAX_HOSTS && rw->hosts_exp[nh] != NULL) {
			nh++;
		}
		if (f->n_hosts != nh) {
			fail_msg("%s: %zu hosts, want %zu", rw->name, f->n_hosts, nh);
		}
		for (size_t i = 0; i < nh; i++) {
			assert_string_equal(f->hosts[i], rw->hosts_exp[i]);
		}
		if (rw->targets_exp[0] != NULL) {
			size_t nt = 0;
			while (nt < 4 && rw->targets_exp[nt] != NULL) {
				nt++;
			}
			assert_int_equal(f->n_targets, nt);
			for (size_t i = 0; i < nt; i++) {
				assert_string_equal(f->targets[i], rw->targets_exp[i]);
			}
		}
		if (rw->release != NULL) {
			assert_string_equal(f->release, rw->release);
		}
		if (rw->evidence != NULL) {
			bool found = false;
			for (size_t i = 0; i < f->n_evidence; i++) {
				found = found || strstr(f->evidence[i], rw->evidence) != NULL;
			}
			if (!found) {
				for (size_t i = 0; i < f->n_evidence; i++) {
					print_message("  evidence: %s\n", f->evidence[i]);
				}
				fail_msg("%s: no evidence line has \"%s\"", rw->name, rw->evidence);
			}
		}
		assert_true(f->n_evidence > 0);
	}
	corr_reply_free(r);
	free(fx);
}

static const row *
row_named(const char *name)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (strcmp(rows[i].name, name) == 0) {
			return &rows[i];
		}
	}
	fail_msg("no row named %s", name);
	return NULL;
}

static void
test_fault_matrix(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		check_row(&rows[i]);
	}
	for (size_t i = 0; i < sizeof(stale_rows) / sizeof(stale_rows[0]); i++) {
		check_row(&stale_rows[i]);
	}
}

static void
test_no_hosts_is_unknown(void **state)
{
	(void) state;
	corr_view v = { .now_us = T0 };
	corr_params_default(&v.params);
	Fl__DiagnoseReply *r = corr_diagnose(&v);
	assert_non_null(r);
	assert_int_equal(r->verdict, FL__VERDICT__VERDICT_UNKNOWN);
	assert_non_null(strstr(r->summary, "no data"));
	assert_int_equal(r->n_findings, 0);
	corr_reply_free(r);
	corr_reply_free(NULL);
}

static void
test_params_default(void **state)
{
	(void) state;
	corr_params p;
	corr_params_default(&p);
	assert_int_equal(p.fail_threshold, 2);
	assert_true(p.slow_factor > 1.0);
}

// A higher threshold keeps two failed rounds from counting.
static void
test_threshold_is_a_parameter(void **state)
{
	(void) state;
	fixture *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	build(fx, row_named("debounce: two failed rounds do"));
	fx->view.params.fail_threshold = 3;
	Fl__DiagnoseReply *r           = corr_diagnose(&fx->view);
	assert_non_null(r);
	assert_int_equal(r->verdict, FL__VERDICT__VERDICT_HEALTHY);
	corr_reply_free(r);
	free(fx);
}

// The same input gives the same reply, and the view is not modified (pure function).
static void
test_deterministic(void **state)
{
	(void) state;
	fixture *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	build(fx, row_named("database: server stopped, app failures folded in as downstream"));
	Fl__DiagnoseReply *a = corr_diagnose(&fx->view);
	Fl__DiagnoseReply *b = corr_diagnose(&fx->view);
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a->summary, b->summary);
	assert_int_equal(a->n_findings, b->n_findings);
	for (size_t i = 0; i < a->n_findings; i++) {
		assert_int_equal(a->findings[i]->n_evidence, b->findings[i]->n_evidence);
		for (size_t j = 0; j < a->findings[i]->n_evidence; j++) {
			assert_string_equal(
			    a->findings[i]->evidence[j], b->findings[i]->evidence[j]);
		}
	}
	corr_reply_free(a);
	corr_reply_free(b);
	free(fx);
}

// The reply packs as a valid protobuf message (what the collector sends to the CLI).
static void
test_reply_packs(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fixture *fx = calloc(1, sizeof(*fx));
		assert_non_null(fx);
		build(fx, &rows[i]);
		Fl__DiagnoseReply *r = corr_diagnose(&fx->view);
		assert_non_null(r);
		size_t   len = fl__diagnose_reply__get_packed_size(r);
		uint8_t *buf = malloc(len ? len : 1);
		assert_non_null(buf);
		assert_int_equal(fl__diagnose_reply__pack(r, buf), len);
		Fl__DiagnoseReply *back = fl__diagnose_reply__unpack(NULL, len, buf);
		assert_non_null(back);
		assert_string_equal(back->summary, r->summary);
		assert_int_equal(back->n_findings, r->n_findings);
		fl__diagnose_reply__free_unpacked(back, NULL);
		free(buf);
		corr_reply_free(r);
		free(fx);
	}
}

// Many hosts: evidence is capped, hosts are complete and sorted.
static void
test_large_fleet_caps_evidence(void **state)
{
	(void) state;
	enum { N = 500 };
	corr_host       *hosts  = calloc(N, sizeof(*hosts));
	corr_probe      *probes = calloc(N, sizeof(*probes));
	Fl__ProbeResult *res    = calloc(N, sizeof(*res));
	char(*names)[16]        = calloc(N, sizeof(*names));
	assert_non_null(hosts);
	assert_non_null(probes);
	assert_non_null(res);
	assert_non_null(names);
	for (size_t i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "h%03zu", N - 1 - i); // reverse order
		fl__probe_result__init(&res[i]);
		res[i].name    = (char *) "orders"; // borrowed literal
		res[i].kind    = FL__PROBE_KIND__KIND_POSTGRES;
		res[i].target  = (char *) "db:5432/orders";
		res[i].status  = FL__STATUS__STATUS_FAIL;
		res[i].failure = FL__FAILURE_CLASS__FAILURE_REFUSED;
		probes[i]      = (corr_probe) {
			     .last = &res[i], .consecutive_fail = 3, .failing_since_us = T0 - S(5)
		};
		hosts[i] = (corr_host) { .host = names[i],
			.release               = "1",
			.previous_release      = "",
			.last_seen_us          = T0,
			.n_probes              = 1,
			.probes                = &probes[i] };
	}
	corr_view v = { .now_us = T0, .n_hosts = N, .hosts = hosts };
	corr_params_default(&v.params);
	Fl__DiagnoseReply *r = corr_diagnose(&v);
	assert_non_null(r);
	assert_int_equal(r->verdict, FL__VERDICT__VERDICT_DATABASE);
	assert_non_null(strstr(r->summary, "all 500 hosts"));
	assert_int_equal(r->n_findings, 1);
	const Fl__Finding *f = r->findings[0];
	assert_int_equal(f->n_hosts, N);
	assert_string_equal(f->hosts[0], "h000");
	assert_string_equal(f->hosts[N - 1], "h499");
	assert_true(f->n_evidence <= 41);
	assert_non_null(strstr(f->evidence[f->n_evidence - 1], "and 460 more"));
	assert_non_null(strstr(f->evidence[0], "h000 orders"));
	corr_reply_free(r);
	free(hosts);
	free(probes);
	free(res);
	free(names);
}

// The one definition of a slow round, shared with the collector's consecutive_slow counter.
static void
test_window(void **state)
{
	(void) state;
	corr_window w = { 0 };
	assert_int_equal(corr_window_percentile(&w, 50), 0);
	for (uint32_t i = 1; i <= CORR_WINDOW; i++) { // 1..16 ms; even ones slow, 3 failed
		corr_window_push(&w, i * 1000, i % 2 == 0, i == 3);
	}
	assert_int_equal(w.n, CORR_WINDOW);
	assert_int_equal(corr_window_percentile(&w, 50), 8000); // nearest rank: the 8th of 16
	assert_int_equal(corr_window_percentile(&w, 75), 12000);
	assert_int_equal(corr_window_percentile(&w, 90), 15000);
	assert_int_equal(corr_window_percentile(&w, 100), 16000);
	assert_int_equal(corr_window_percentile(&w, 1), 1000);
	assert_int_equal(corr_window_slow(&w), 8);
	assert_int_equal(corr_window_failed(&w), 1);
	// Two more rounds push out the two oldest (1 ms, and 2 ms which was slow); still bounded.
	corr_window_push(&w, 50000, false, false);
	corr_window_push(&w, 60000, false, true);
	assert_int_equal(w.n, CORR_WINDOW);
	assert_int_equal(corr_window_percentile(&w, 1), 3000);
	assert_int_equal(corr_window_percentile(&w, 100), 60000);
	assert_int_equal(corr_window_percentile(&w, 50), 10000);
	assert_int_equal(corr_window_slow(&w), 7);
	assert_int_equal(corr_window_failed(&w), 2);
	// A partly filled window counts only the rounds it holds.
	corr_window p = { 0 };
	corr_window_push(&p, 7000, true, false);
	corr_window_push(&p, 9000, false, true);
	assert_int_equal(p.n, 2);
	assert_int_equal(corr_window_percentile(&p, 50), 7000);
	assert_int_equal(corr_window_percentile(&p, 90), 9000);
	assert_int_equal(corr_window_slow(&p), 1);
	assert_int_equal(corr_window_failed(&p), 1);
}

static void
test_result_slow(void **state)
{
	(void) state;
	static const struct {
		Fl__Status       st;
		Fl__FailureClass fc;
		uint32_t         dur_us;
		int64_t          base_us;
		bool             slow;
	} cases[] = {
		{ FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 3000, 3000, false },
		{ FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 60000, 3000, true },
		{ FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 60000, 0,
		    false }, // no normal
		{ FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 40000, 3000,
		    false }, // < +50ms
		{ FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 250000, 100000,
		    false }, // < 3x
		{ FL__STATUS__STATUS_OK, FL__FAILURE_CLASS__FAILURE_NONE, 310000, 100000, true },
		{ FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_SLOW, 900000, 0, true },
		{ FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_SLOW, 900000, 0, true },
		{ FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_TIMEOUT, 2000000, 3000,
		    false },
		{ FL__STATUS__STATUS_UNKNOWN, FL__FAILURE_CLASS__FAILURE_NONE, 900000, 3000,
		    false },
		// A state warning is not a slow round, however long it took.
		{ FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_SATURATED, 900000, 3000,
		    false },
		{ FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_REPLICATION_LAG, 900000, 3000,
		    false },
		{ FL__STATUS__STATUS_WARN, FL__FAILURE_CLASS__FAILURE_CERT_EXPIRING, 3000, 3000,
		    false },
	};
	corr_params p;
	corr_params_default(&p);
	assert_int_equal(p.slow_rounds, 3);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		Fl__ProbeResult r = FL__PROBE_RESULT__INIT;
		r.status          = cases[i].st;
		r.failure         = cases[i].fc;
		r.duration_us     = cases[i].dur_us;
		if (corr_result_slow(&p, &r, cases[i].base_us) != cases[i].slow) {
			fail_msg("case %zu: slow is %d", i, !cases[i].slow);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fault_matrix),
		cmocka_unit_test(test_no_hosts_is_unknown),
		cmocka_unit_test(test_params_default),
		cmocka_unit_test(test_threshold_is_a_parameter),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_reply_packs),
		cmocka_unit_test(test_large_fleet_caps_evidence),
		cmocka_unit_test(test_result_slow),
		cmocka_unit_test(test_window),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
