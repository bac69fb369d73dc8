// notify_test.c - the notifier's pure parts: finding identity, `for` and resolve_after flap
// control, backoff, the webhook body, the mute rule (the outbox, mutes and counters on each
// engine: notify_store_test.c).

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "notify_body.h"
#include "notify_config.h"
#include "notify_mute.h"
#include "notify_track.h"

#define S 1000000LL // one second in us

// ---- building diagnoses ---------------------------------------------------------------------

typedef struct fake {
	Fl__DiagnoseReply r;
	Fl__Finding       f[4];
	Fl__Finding      *fp[4];
} fake;

static void
fake_init(fake *d)
{
	memset(d, 0, sizeof(*d));
	fl__diagnose_reply__init(&d->r);
	d->r.findings = d->fp;
}

static Fl__Finding *
fake_add(fake *d, Fl__Verdict v, const char *summary, char **targets, size_t n_targets,
    char **hosts, size_t n_hosts, const char *release)
{
	Fl__Finding *f = &d->f[d->r.n_findings];
	fl__finding__init(f);
	f->verdict               = v;
	f->summary               = (char *) summary;
	f->targets               = targets;
	f->n_targets             = n_targets;
	f->hosts                 = hosts;
	f->n_hosts               = n_hosts;
	f->release               = (char *) release;
	f->since_us              = 1000 * S;
	d->fp[d->r.n_findings++] = f;
	d->r.verdict             = v;
	return f;
}

static char *db_target[] = { (char *) "postgres 127.0.0.1:5432/app" };
static char *two_hosts[] = { (char *) "app1", (char *) "app2" };
static char *two_rev[]   = { (char *) "app2", (char *) "app1" };
static char *one_host[]  = { (char *) "app1" };

// ---- recording emits ------------------------------------------------------------------------

typedef struct rec {
	int           n;
	notify_status st[16];
	char          id[16][NOTIFY_ID_LEN];
	int64_t       at[16];
	int           fail_next; // emits to refuse before accepting
} rec;

static int
record(void *arg, notify_status st, const notify_entry *e, int64_t at_us)
{
	rec *r = arg;
	if (r->fail_next > 0) {
		r->fail_next--;
		return -1;
	}
	assert_true(r->n < 16);
	r->st[r->n] = st;
	snprintf(r->id[r->n], NOTIFY_ID_LEN, "%s", e->id);
	r->at[r->n] = at_us;
	r->n++;
	return 0;
}

static void
update(notify_tracker *t, const Fl__DiagnoseReply *r, int64_t now, rec *out)
{
	assert_int_equal(notify_tracker_update(t, r, S, now, NULL, NULL, record, out), 0);
}

// ---- identity -------------------------------------------------------------------------------

static void
test_id_stable_while_it_lasts(void **state)
{
	(void) state;
	fake a, b, c;
	char ia[NOTIFY_ID_LEN], ib[NOTIFY_ID_LEN], ic[NOTIFY_ID_LEN];
	fake_init(&a);
	fake_init(&b);
	fake_init(&c);
	// Same database target: one host, then two in another order, another summary.
	fake_add(
	    &a, FL__VERDICT__VERDICT_DATABASE, "revoked, 1 host", db_target, 1, one_host, 1, "1.0");
	fake_add(&b, FL__VERDICT__VERDICT_DATABASE, "revoked, all 2 hosts", db_target, 1, two_rev,
	    2, "1.0");
	fake_add(&c, FL__VERDICT__VERDICT_NETWORK, "revoked, all 2 hosts", db_target, 1, two_hosts,
	    2, "1.0");
	notify_finding_id(a.fp[0], ia);
	notify_finding_id(b.fp[0], ib);
	notify_finding_id(c.fp[0], ic);
	assert_int_equal(strlen(ia), 16);
	// Ids are stored and sent to receivers: this exact value must survive upgrades (it is the
	// FNV-1a fold of "database", "targets" and the target from the ids' own start value,
	// notify_track.c's NOTIFY_ID_BASIS), or every alert firing during one would fire again.
	assert_string_equal(ia, "17df498a3c481b21");
	assert_string_equal(ia, ib);
	assert_string_not_equal(ia, ic); // another verdict is another finding
}

static void
test_id_scope_without_targets(void **state)
{
	(void) state;
	fake d;
	char r1[NOTIFY_ID_LEN], r2[NOTIFY_ID_LEN], h1[NOTIFY_ID_LEN], h2[NOTIFY_ID_LEN];
	fake_init(&d);
	fake_add(&d, FL__VERDICT__VERDICT_CODE, "x", NULL, 0, two_hosts, 2, "2.4.0");
	fake_add(&d, FL__VERDICT__VERDICT_CODE, "y", NULL, 0, one_host, 1, "2.4.0");
	fake_add(&d, FL__VERDICT__VERDICT_HOST, "z", NULL, 0, two_hosts, 2, "");
	fake_add(&d, FL__VERDICT__VERDICT_HOST, "z", NULL, 0, two_rev, 2, "");
	notify_finding_id(d.fp[0], r1);
	notify_finding_id(d.fp[1], r2);
	notify_finding_id(d.fp[2], h1);
	notify_finding_id(d.fp[3], h2);
	assert_string_equal(r1, r2); // a release's CODE finding: its hosts may change
	assert_string_equal(h1, h2); // a silent hosts finding: by its (sorted) hosts
	assert_string_not_equal(r1, h1);
}

// ---- flap control ---------------------------------------------------------------------------

static void
test_for_holds_before_firing(void **state)
{
	(void) state;
	notify_tracker t;
	fake           d;
	rec            out = { 0 };
	notify_tracker_init(&t, 30 * S, 2, 100);
	fake_init(&d);
	fake_add(&d, FL__VERDICT__VERDICT_DATABASE, "revoked", db_target, 1, two_hosts, 2, "1.0");

	update(&t, &d.r, 100 * S, &out);
	update(&t, &d.r, 129 * S, &out);
	update(&t, NULL, 129 * S + S / 2, &out); // time moves, same diagnosis
	assert_int_equal(out.n, 0);
	update(&t, NULL, 130 * S, &out);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.st[0], NOTIFY_FIRING);
	update(&t, &d.r, 200 * S, &out);
	assert_int_equal(out.n, 1); // once, not per update
	notify_tracker_fini(&t);
}

static void
test_flap_shorter_than_for_notifies_nothing(void **state)
{
	(void) state;
	notify_tracker t;
	fake           d, healthy;
	rec            out = { 0 };
	notify_tracker_init(&t, 30 * S, 2, 100);
	fake_init(&d);
	fake_init(&healthy);
	fake_add(&d, FL__VERDICT__VERDICT_DATABASE, "revoked", db_target, 1, two_hosts, 2, "1.0");

	for (int64_t now = 100; now < 300; now += 20) {
		update(&t, &d.r, now * S, &out);              // 10 s of fault
		update(&t, &healthy.r, (now + 10) * S, &out); // 10 s clear
	}
	assert_int_equal(out.n, 0);
	assert_int_equal(t.n, 0);
	notify_tracker_fini(&t);
}

static void
test_resolve_after_rounds(void **state)
{
	(void) state;
	notify_tracker t;
	fake           d, healthy;
	rec            out = { 0 };
	notify_tracker_init(&t, 0, 2, 100); // for = 0: fires on sight
	fake_init(&d);
	fake_init(&healthy);
	fake_add(&d, FL__VERDICT__VERDICT_DATABASE, "revoked", db_target, 1, two_hosts, 2, "1.0");

	update(&t, &d.r, 100 * S, &out);
	assert_int_equal(out.n, 1);
	update(&t, &healthy.r, 110 * S, &out); // clear since 110
	update(&t, NULL, 111 * S, &out);       // one round (1 s) clear
	assert_int_equal(out.n, 1);
	update(&t, &d.r, 111 * S + S / 2, &out); // back before 2 rounds: nothing sent
	update(&t, &healthy.r, 120 * S, &out);
	update(&t, NULL, 121 * S, &out);
	assert_int_equal(out.n, 1);
	update(&t, NULL, 122 * S, &out); // 2 rounds clear
	assert_int_equal(out.n, 2);
	assert_int_equal(out.st[1], NOTIFY_RESOLVED);
	assert_string_equal(out.id[0], out.id[1]);
	assert_int_equal(out.at[1], 120 * S); // ended when it cleared
	assert_int_equal(t.n, 0);
	notify_tracker_fini(&t);
}

static void
test_emit_refused_is_decided_again(void **state)
{
	(void) state;
	notify_tracker t;
	fake           d;
	rec            out = { .fail_next = 1 };
	notify_tracker_init(&t, 0, 2, 100);
	fake_init(&d);
	fake_add(&d, FL__VERDICT__VERDICT_DATABASE, "revoked", db_target, 1, two_hosts, 2, "1.0");
	update(&t, &d.r, 100 * S, &out);
	assert_int_equal(out.n, 0); // the outbox refused it
	update(&t, &d.r, 101 * S, &out);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.st[0], NOTIFY_FIRING);
	notify_tracker_fini(&t);
}

static void
test_bounded_and_only_faults(void **state)
{
	(void) state;
	notify_tracker t;
	fake           d;
	rec            out  = { 0 };
	static char   *t1[] = { (char *) "a" }, *t2[] = { (char *) "b" };
	notify_tracker_init(&t, 0, 2, 1);
	fake_init(&d);
	fake_add(&d, FL__VERDICT__VERDICT_HEALTHY, "fine", NULL, 0, NULL, 0, "");
	fake_add(&d, FL__VERDICT__VERDICT_DATABASE, "a", t1, 1, one_host, 1, "");
	fake_add(&d, FL__VERDICT__VERDICT_DATABASE, "b", t2, 1, one_host, 1, "");
	update(&t, &d.r, 100 * S, &out);
	assert_int_equal(out.n, 1); // healthy is no alert; the second fault is over the bound
	assert_int_equal(t.n, 1);
	assert_int_equal(t.untracked, 1);
	notify_tracker_fini(&t);
}

static void
test_restored_firing_resolves(void **state)
{
	(void) state;
	notify_tracker t;
	fake           d, healthy;
	rec            out = { 0 };
	char           id[NOTIFY_ID_LEN];
	notify_tracker_init(&t, 30 * S, 2, 100);
	fake_init(&d);
	fake_init(&healthy);
	fake_add(&d, FL__VERDICT__VERDICT_DATABASE, "revoked", db_target, 1, two_hosts, 2, "1.0");
	notify_finding_id(d.fp[0], id);
	assert_int_equal(notify_tracker_restore(&t, id, notify_finding_copy(d.fp[0]), 50 * S), 0);
	update(&t, &healthy.r, 100 * S, &out);
	update(&t, NULL, 102 * S, &out);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.st[0], NOTIFY_RESOLVED);
	assert_string_equal(out.id[0], id);
	notify_tracker_fini(&t);
}

// A verification outcome's finding for release rel (verdict UNKNOWN, no targets).
static Fl__Finding *
verif(const char *rel)
{
	Fl__Finding f = FL__FINDING__INIT;
	f.verdict     = FL__VERDICT__VERDICT_UNKNOWN;
	f.summary     = (char *) "release failed verification";
	f.release     = (char *) rel;
	f.hosts       = two_hosts;
	f.n_hosts     = 2;
	return notify_finding_copy(&f);
}

static void
test_verification_alerts(void **state)
{
	(void) state;
	notify_tracker t;
	fake           healthy;
	rec            out = { 0 };
	notify_tracker_init(&t, 30 * S, 2, 100);
	fake_init(&healthy);

	// A pipeline's failing run raises nothing; the automatic one raises, once.
	assert_int_equal(notify_tracker_verification(&t, verif("2.0"), NOTIFY_VERIF_FAILED, false,
	                     true, 100 * S, record, &out),
	    0);
	assert_int_equal(out.n, 0);
	assert_int_equal(notify_tracker_verification(&t, verif("2.0"), NOTIFY_VERIF_FAILED, true,
	                     true, 101 * S, record, &out),
	    0);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.st[0], NOTIFY_FIRING); // no `for` for verifications
	assert_int_equal(notify_tracker_verification(&t, verif("2.0"), NOTIFY_VERIF_FAILED, true,
	                     false, 102 * S, record, &out),
	    0);
	assert_int_equal(notify_tracker_verification(&t, verif("2.0"), NOTIFY_VERIF_FAILED, false,
	                     true, 103 * S, record, &out),
	    0);
	assert_int_equal(out.n, 1); // not notified twice
	// The diagnosis does not resolve it, however long it is healthy.
	update(&t, &healthy.r, 200 * S, &out);
	update(&t, NULL, 300 * S, &out);
	assert_int_equal(out.n, 1);
	// Another release's canary pass does not either; its own pass does (a pipeline's too).
	assert_int_equal(notify_tracker_verification(&t, verif("2.1"), NOTIFY_VERIF_PASSED, false,
	                     false, 301 * S, record, &out),
	    0);
	assert_int_equal(out.n, 1);
	assert_int_equal(notify_tracker_verification(&t, verif("2.0"), NOTIFY_VERIF_PASSED, false,
	                     false, 302 * S, record, &out),
	    0);
	assert_int_equal(out.n, 2);
	assert_int_equal(out.st[1], NOTIFY_RESOLVED);
	assert_string_equal(out.id[0], out.id[1]);
	assert_int_equal(out.at[1], 302 * S);
	assert_int_equal(t.n, 0);

	// A full pass of another release (a rollback) resolves every verification alert.
	notify_tracker_verification(
	    &t, verif("3.0"), NOTIFY_VERIF_FAILED, true, true, 400 * S, record, &out);
	notify_tracker_verification(
	    &t, verif("3.1"), NOTIFY_VERIF_FAILED, true, false, 401 * S, record, &out);
	assert_int_equal(out.n, 4);
	notify_tracker_verification(
	    &t, verif("2.9"), NOTIFY_VERIF_UNVERIFIED, true, true, 402 * S, record, &out);
	assert_int_equal(out.n, 4);
	notify_tracker_verification(
	    &t, verif("2.9"), NOTIFY_VERIF_PASSED, true, true, 403 * S, record, &out);
	assert_int_equal(out.n, 6);
	assert_int_equal(out.st[4], NOTIFY_RESOLVED);
	assert_int_equal(out.st[5], NOTIFY_RESOLVED);
	assert_int_equal(t.n, 0);
	notify_tracker_fini(&t);
}

static void
test_mute_rule(void **state)
{
	(void) state;
	coll_mute v[3] = { { .id = 1, .host = "app1", .until_us = 100 * S },
		{ .id = 2, .target = "postgres 127.0.0.1:5432/app", .until_us = 50 * S },
		{ .id = 3, .host = "app2", .until_us = 10 * S } };
	fake      d;
	fake_init(&d);
	fake_add(&d, FL__VERDICT__VERDICT_CODE, "503", NULL, 0, one_host, 1, "1.0");
	fake_add(&d, FL__VERDICT__VERDICT_CODE, "503", NULL, 0, two_hosts, 2, "1.0");
	fake_add(&d, FL__VERDICT__VERDICT_DATABASE, "revoked", db_target, 1, two_hosts, 2, "1.0");
	assert_int_equal(coll_mute_rule(v, 3, d.fp[0], 5 * S), 1);
	assert_int_equal(coll_mute_rule(v, 3, d.fp[1], 5 * S), 1);  // app1 and app2 both muted
	assert_int_equal(coll_mute_rule(v, 3, d.fp[1], 20 * S), 0); // app2's mute expired
	assert_int_equal(coll_mute_rule(v, 3, d.fp[2], 20 * S), 2); // its target is muted
	assert_int_equal(coll_mute_rule(v, 3, d.fp[2], 60 * S), 0); // expired
	assert_int_equal(coll_mute_rule(v, 3, d.fp[0], 100 * S), 0);
	assert_int_equal(coll_mute_rule(v, 0, d.fp[0], 5 * S), 0);
}

static bool
mute_all(void *arg, const Fl__Finding *f, int64_t now_us)
{
	(void) f;
	return now_us < *(int64_t *) arg;
}

static void
test_muted_not_notified_until_unmuted(void **state)
{
	(void) state;
	notify_tracker t;
	fake           d;
	rec            out   = { 0 };
	int64_t        until = 200 * S;
	notify_tracker_init(&t, 30 * S, 2, 100);
	fake_init(&d);
	fake_add(&d, FL__VERDICT__VERDICT_DATABASE, "revoked", db_target, 1, two_hosts, 2, "1.0");
	for (int64_t now = 100; now < 200; now += 10) {
		assert_int_equal(
		    notify_tracker_update(&t, &d.r, S, now * S, mute_all, &until, record, &out), 0);
	}
	assert_int_equal(out.n, 0); // held 90 s, muted
	assert_true(t.v[0].muted);
	assert_int_equal(
	    notify_tracker_update(&t, &d.r, S, 200 * S, mute_all, &until, record, &out), 0);
	assert_int_equal(out.n, 1); // the mute ended: it has held longer than `for`
	assert_int_equal(out.st[0], NOTIFY_FIRING);
	notify_tracker_fini(&t);
}

static void
test_backoff_doubles_and_caps(void **state)
{
	(void) state;
	assert_int_equal(notify_backoff_us(0, 60000), 1 * S);
	assert_int_equal(notify_backoff_us(1, 60000), 2 * S);
	assert_int_equal(notify_backoff_us(5, 60000), 32 * S);
	assert_int_equal(notify_backoff_us(6, 60000), 60 * S);
	assert_int_equal(notify_backoff_us(4000000000u, 60000), 60 * S);
}

// ---- body -----------------------------------------------------------------------------------

static void
test_webhook_body(void **state)
{
	(void) state;
	fake  d;
	char  ev[96];
	char *b;
	fake_init(&d);
	Fl__Finding *f          = fake_add(&d, FL__VERDICT__VERDICT_DATABASE, "SELECT \"revoked\"",
	             db_target, 1, two_hosts, 2, "1.0");
	static char *evidence[] = { (char *) "app1 orders: privilege_missing" };
	f->evidence             = evidence;
	f->n_evidence           = 1;
	b                       = notify_webhook_body("00ab", "firing", f, 0);
	assert_non_null(b);
	assert_string_equal(b,
	    "{\"id\":\"00ab\",\"status\":\"firing\",\"verdict\":\"database\","
	    "\"summary\":\"SELECT \\\"revoked\\\"\",\"hosts\":[\"app1\",\"app2\"],"
	    "\"targets\":[\"postgres 127.0.0.1:5432/app\"],\"release\":\"1.0\","
	    "\"evidence\":[\"app1 orders: privilege_missing\"],"
	    "\"since\":\"1970-01-01T00:16:40.000Z\",\"ended\":null}");
	free(b);
	b = notify_webhook_body("00ab", "resolved", f, 2000 * S);
	assert_non_null(strstr(b, "\"ended\":\"1970-01-01T00:33:20.000Z\""));
	free(b);
	notify_event_id("00ab", 1500 * S + 7, "resolved", ev, sizeof(ev));
	assert_string_equal(ev, "00ab-1500000-resolved");
}

static void
test_alertmanager_body(void **state)
{
	(void) state;
	fake  d;
	char *b, *sent;
	fake_init(&d);
	Fl__Finding *f = fake_add(
	    &d, FL__VERDICT__VERDICT_DATABASE, "SELECT revoked", db_target, 1, two_hosts, 2, "1.0");
	static char *evidence[] = { (char *) "app1 orders: privilege_missing" };
	f->evidence             = evidence;
	f->n_evidence           = 1;
	b                       = notify_am_body("00ab", "firing", f, 0);
	assert_non_null(b);
	assert_non_null(strstr(b, NOTIFY_AM_ENDS_AT));
	sent = notify_am_set_ends_at(b, 2000 * S);
	assert_string_equal(sent,
	    "[{\"labels\":{\"alertname\":\"Faultline\",\"verdict\":\"database\","
	    "\"severity\":\"critical\",\"target\":\"postgres 127.0.0.1:5432/app\","
	    "\"release\":\"1.0\",\"finding\":\"00ab\"},\"annotations\":{\"summary\":"
	    "\"SELECT revoked\",\"description\":\"hosts: app1, app2\\n- app1 orders: "
	    "privilege_missing\",\"since\":\"1970-01-01T00:16:40.000Z\"},"
	    "\"startsAt\":\"1970-01-01T00:16:40.000Z\",\"endsAt\":\"1970-01-01T00:33:20.000Z\"}]");
	free(sent);
	free(b);
	b = notify_am_body("00ab", "resolved", f, 1500 * S);
	assert_null(strstr(b, NOTIFY_AM_ENDS_AT));
	assert_non_null(strstr(b, "\"endsAt\":\"1970-01-01T00:25:00.000Z\"}]"));
	sent = notify_am_set_ends_at(b, 2000 * S);
	assert_string_equal(sent, b); // a resolved alert keeps its end
	free(sent);
	free(b);
}

// ---- config ---------------------------------------------------------------------------------

static void
test_config_sections(void **state)
{
	(void) state;
	coll_notify_config c;
	char               err[256];
	coll_notify_config_defaults(&c);
	assert_int_equal(c.for_ms, 30000);
	assert_int_equal(c.resolve_after, 2);
	assert_int_equal(coll_notify_config_section(&c, "webhook", "ops", err, sizeof(err)), 0);
	assert_int_equal(
	    coll_notify_config_set(&c, "webhook", "url", "http://127.0.0.1:9/h", err, sizeof(err)),
	    0);
	assert_int_equal(
	    coll_notify_config_set(&c, "webhook", "header", "X-Team: db", err, sizeof(err)), 0);
	assert_int_equal(
	    coll_notify_config_set(&c, "webhook", "header", "no colon", err, sizeof(err)), -1);
	assert_int_equal(coll_notify_config_set(
	                     &c, "webhook", "url", "http://user:pw@127.0.0.1/", err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "user:password"));
	assert_int_equal(
	    coll_notify_config_set(&c, "webhook", "url", "ftp://x/", err, sizeof(err)), -1);
	assert_int_equal(coll_notify_config_section(&c, "webhook", "ops", err, sizeof(err)), -1);
	assert_int_equal(coll_notify_config_section(&c, "webhook", "", err, sizeof(err)), -1);
	assert_int_equal(coll_notify_config_set(&c, "notify", "for", "5s", err, sizeof(err)), 0);
	assert_int_equal(c.for_ms, 5000);
	assert_int_equal(
	    coll_notify_config_set(&c, "notify", "resolve_after", "0", err, sizeof(err)), -1);
	assert_int_equal(coll_notify_config_check(&c, err, sizeof(err)), 0);
	assert_int_equal(coll_notify_config_section(&c, "webhook", "nourl", err, sizeof(err)), 0);
	assert_int_equal(coll_notify_config_check(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "nourl"));
}

static void
test_config_secrets_checked(void **state)
{
	(void) state;
	coll_notify_config c;
	char               err[512], path[64];
	FILE              *f;
	snprintf(path, sizeof(path), "/tmp/coll-notify-secret-%d", (int) getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("Authorization: Bearer t0ken\n", f);
	fclose(f);
	coll_notify_config_defaults(&c);
	assert_int_equal(coll_notify_config_section(&c, "webhook", "ops", err, sizeof(err)), 0);
	assert_int_equal(
	    coll_notify_config_set(&c, "webhook", "header_file", path, err, sizeof(err)), 0);
	chmod(path, 0644);
	assert_int_equal(coll_notify_config_check_secrets(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "header_file"));
	assert_null(strstr(err, "t0ken")); // the secret is never in a message
	chmod(path, 0600);
	assert_int_equal(coll_notify_config_check_secrets(&c, err, sizeof(err)), 0);
	unsetenv("FL_NOTIFY_TEST_HEADER");
	assert_int_equal(coll_notify_config_set(&c, "webhook", "header_env",
	                     "FL_NOTIFY_TEST_HEADER", err, sizeof(err)),
	    0);
	assert_int_equal(coll_notify_config_check_secrets(&c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "FL_NOTIFY_TEST_HEADER"));
	setenv("FL_NOTIFY_TEST_HEADER", "X-Token: abc", 1);
	assert_int_equal(coll_notify_config_check_secrets(&c, err, sizeof(err)), 0);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_stable_while_it_lasts),
		cmocka_unit_test(test_id_scope_without_targets),
		cmocka_unit_test(test_for_holds_before_firing),
		cmocka_unit_test(test_flap_shorter_than_for_notifies_nothing),
		cmocka_unit_test(test_resolve_after_rounds),
		cmocka_unit_test(test_emit_refused_is_decided_again),
		cmocka_unit_test(test_bounded_and_only_faults),
		cmocka_unit_test(test_restored_firing_resolves),
		cmocka_unit_test(test_verification_alerts),
		cmocka_unit_test(test_mute_rule),
		cmocka_unit_test(test_muted_not_notified_until_unmuted),
		cmocka_unit_test(test_backoff_doubles_and_caps),
		cmocka_unit_test(test_webhook_body),
		cmocka_unit_test(test_alertmanager_body),
		cmocka_unit_test(test_config_sections),
		cmocka_unit_test(test_config_secrets_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
