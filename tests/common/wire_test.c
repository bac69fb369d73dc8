// wire_test.c - encode/decode of Faultline messages and every reason a message is rejected.

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fl/wire.h"

static char *
s(const char *lit)
{
	return (char *) lit; // protobuf-c fields are char *; packing only borrows them
}

typedef struct report_fixture {
	Fl__Report            r;
	Fl__ProbeResult       p[2];
	Fl__ProbeResult      *pp[2];
	Fl__Timing            t;
	Fl__UnmetRequirement  u;
	Fl__UnmetRequirement *uu[1];
} report_fixture;

static void
report_init(report_fixture *f)
{
	fl__report__init(&f->r);
	fl__probe_result__init(&f->p[0]);
	fl__probe_result__init(&f->p[1]);
	fl__timing__init(&f->t);
	fl__unmet_requirement__init(&f->u);
	f->r.schema_version = FL_SCHEMA_VERSION;
	f->r.host           = s("app1");
	f->r.release        = s("2.4.0");
	f->r.agent_version  = s("0.1.0");
	f->r.interval_ms    = 5000;
	f->r.seq            = 42;
	f->r.sent_us        = 1795615640123456LL;
	f->r.boot_id        = 0xdeadbeefcafeULL;
	f->p[0].name        = s("app");
	f->p[0].kind        = FL__PROBE_KIND__KIND_HTTP;
	f->p[0].target      = s("http://127.0.0.1:8080/health");
	f->p[0].status      = FL__STATUS__STATUS_FAIL;
	f->p[0].failure     = FL__FAILURE_CLASS__FAILURE_HTTP_5XX;
	f->p[0].detail      = s("HTTP 503");
	f->p[0].duration_us = 12345;
	f->t.connect_us     = 200;
	f->t.total_us       = 12345;
	f->p[0].timing      = &f->t;
	f->p[1].name        = s("orders");
	f->p[1].kind        = FL__PROBE_KIND__KIND_POSTGRES;
	f->p[1].status      = FL__STATUS__STATUS_FAIL;
	f->p[1].failure     = FL__FAILURE_CLASS__FAILURE_PRIVILEGE_MISSING;
	f->p[1].sqlstate    = s("42501");
	f->u.database       = s("orders");
	f->u.kind           = FL__OBJECT_KIND__OBJECT_TABLE;
	f->u.object         = s("public.orders");
	f->u.privilege      = s("SELECT");
	f->u.role           = s("app");
	f->uu[0]            = &f->u;
	f->p[1].n_unmet     = 1;
	f->p[1].unmet       = f->uu;
	f->pp[0]            = &f->p[0];
	f->pp[1]            = &f->p[1];
	f->r.n_results      = 2;
	f->r.results        = f->pp;
	// Last field on the wire: a string, so cutting bytes off the end cuts inside it.
	f->r.expectations_error = s("expect.ini:3: unknown key");
}

// Packs r into a new buffer the caller frees.
static uint8_t *
pack(const Fl__Report *r, size_t *len)
{
	*len         = fl__report__get_packed_size(r);
	uint8_t *buf = malloc(*len + 1);
	assert_non_null(buf);
	assert_int_equal(fl__report__pack(r, buf), *len);
	return buf;
}

static fl_wire_reject
decode(const Fl__Report *r, char *why, size_t whylen)
{
	size_t         len;
	uint8_t       *buf = pack(r, &len);
	Fl__Report    *out = NULL;
	fl_wire_reject rj  = fl_wire_decode_report(buf, len, &out, why, whylen);
	if (rj == FL_WIRE_OK) {
		assert_non_null(out);
		fl__report__free_unpacked(out, NULL);
	} else {
		assert_null(out); // untouched on rejection
	}
	free(buf);
	return rj;
}

static void
test_round_trip(void **state)
{
	(void) state;
	report_fixture f;
	nng_msg       *msg;
	Fl__Report    *out = NULL;
	char           why[128];

	report_init(&f);
	assert_int_equal(fl_wire_encode(&f.r.base, &msg), 0);
	assert_int_equal(
	    fl_wire_decode_report(nng_msg_body(msg), nng_msg_len(msg), &out, why, sizeof(why)),
	    FL_WIRE_OK);
	nng_msg_free(msg);
	assert_string_equal(out->host, "app1");
	assert_string_equal(out->release, "2.4.0");
	assert_int_equal(out->interval_ms, 5000);
	assert_int_equal(out->seq, 42);
	assert_int_equal(out->sent_us, 1795615640123456LL);
	assert_int_equal(out->boot_id, 0xdeadbeefcafeULL);
	assert_int_equal(out->n_results, 2);
	assert_string_equal(out->results[0]->name, "app");
	assert_int_equal(out->results[0]->failure, FL__FAILURE_CLASS__FAILURE_HTTP_5XX);
	assert_int_equal(out->results[0]->timing->connect_us, 200);
	assert_int_equal(out->results[0]->timing->total_us, 12345);
	assert_int_equal(out->results[1]->n_unmet, 1);
	assert_string_equal(out->results[1]->unmet[0]->privilege, "SELECT");
	assert_string_equal(out->results[1]->sqlstate, "42501");
	assert_string_equal(out->expectations_error, "expect.ini:3: unknown key");
	fl__report__free_unpacked(out, NULL);
}

static void
test_truncated_is_undecodable(void **state)
{
	(void) state;
	report_fixture f;
	size_t         len;
	Fl__Report    *out = NULL;
	char           why[128];

	report_init(&f);
	uint8_t *buf = pack(&f.r, &len);
	for (size_t cut = 1; cut <= 5; cut++) { // inside the trailing string
		assert_int_equal(fl_wire_decode_report(buf, len - cut, &out, why, sizeof(why)),
		    FL_WIRE_UNDECODABLE);
		assert_null(out);
	}
	static const uint8_t garbage[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0x01 };
	assert_int_equal(fl_wire_decode_report(garbage, sizeof(garbage), &out, why, sizeof(why)),
	    FL_WIRE_UNDECODABLE);
	assert_non_null(strstr(why, "not a report"));
	free(buf);
}

static void
test_oversize(void **state)
{
	(void) state;
	Fl__Report *out = NULL;
	char        why[128];
	uint8_t    *big = calloc(1, FL_WIRE_MAX_MSG + 1);
	assert_non_null(big);
	assert_int_equal(fl_wire_decode_report(big, FL_WIRE_MAX_MSG + 1, &out, why, sizeof(why)),
	    FL_WIRE_OVERSIZE);
	assert_null(out);
	Fl__Request *req = NULL;
	assert_int_equal(fl_wire_decode_request(big, FL_WIRE_MAX_MSG + 1, &req, why, sizeof(why)),
	    FL_WIRE_OVERSIZE);
	free(big);
	assert_string_equal(fl_wire_reject_name(FL_WIRE_OVERSIZE), "oversize");
}

static void
test_wrong_schema(void **state)
{
	(void) state;
	report_fixture f;
	char           why[128];
	report_init(&f);
	f.r.schema_version = 2;
	assert_int_equal(decode(&f.r, why, sizeof(why)), FL_WIRE_SCHEMA);
	f.r.schema_version = 0; // an old agent that never set it
	assert_int_equal(decode(&f.r, why, sizeof(why)), FL_WIRE_SCHEMA);

	Fl__Request  req = FL__REQUEST__INIT;
	uint8_t      buf[64];
	Fl__Request *out   = NULL;
	req.schema_version = 9;
	size_t n           = fl__request__pack(&req, buf);
	assert_int_equal(fl_wire_decode_request(buf, n, &out, why, sizeof(why)), FL_WIRE_SCHEMA);
	Fl__Response  resp  = FL__RESPONSE__INIT;
	Fl__Response *rout  = NULL;
	resp.schema_version = 9;
	n                   = fl__response__pack(&resp, buf);
	assert_int_equal(fl_wire_decode_response(buf, n, &rout, why, sizeof(why)), FL_WIRE_SCHEMA);
	resp.schema_version = FL_SCHEMA_VERSION;
	n                   = fl__response__pack(&resp, buf);
	assert_int_equal(fl_wire_decode_response(buf, n, &rout, why, sizeof(why)), FL_WIRE_OK);
	fl__response__free_unpacked(rout, NULL);
}

static void
test_invalid_shapes(void **state)
{
	(void) state;
	report_fixture f;
	char           why[256];
	char          *host = malloc(1026);
	assert_non_null(host);
	memset(host, 'h', 1025);
	host[1025] = '\0';

	report_init(&f);
	f.r.host = host; // 1025 bytes
	assert_int_equal(decode(&f.r, why, sizeof(why)), FL_WIRE_INVALID);
	f.r.host = s("");
	assert_int_equal(decode(&f.r, why, sizeof(why)), FL_WIRE_INVALID);
	f.r.host = s("app\n1"); // control characters would forge log lines
	assert_int_equal(decode(&f.r, why, sizeof(why)), FL_WIRE_INVALID);

	report_init(&f);
	f.r.interval_ms = 0;
	assert_int_equal(decode(&f.r, why, sizeof(why)), FL_WIRE_INVALID);

	report_init(&f);
	f.p[0].name = s("");
	assert_int_equal(decode(&f.r, why, sizeof(why)), FL_WIRE_INVALID);

	report_init(&f);
	host[FL_WIRE_MAX_DETAIL + 1] = '\0'; // a detail over its 512-byte cap
	f.p[0].detail                = host;
	assert_int_equal(decode(&f.r, why, sizeof(why)), FL_WIRE_INVALID);
	host[FL_WIRE_MAX_DETAIL] = '\0'; // exactly at the cap is fine
	assert_int_equal(decode(&f.r, why, sizeof(why)), FL_WIRE_OK);

	report_init(&f);
	f.u.role = s("ro\x1b[31mle");
	assert_int_equal(decode(&f.r, why, sizeof(why)), FL_WIRE_INVALID);

	// A name's answer: at most FL_WIRE_MAX_ADDRS addresses of printable text.
	char *addrs[FL_WIRE_MAX_ADDRS + 1];
	for (size_t i = 0; i <= FL_WIRE_MAX_ADDRS; i++) {
		addrs[i] = s("10.0.0.5");
	}
	report_init(&f);
	f.p[1].resolved_name = s("db.internal");
	f.p[1].addresses     = addrs;
	f.p[1].n_addresses   = FL_WIRE_MAX_ADDRS;
	assert_int_equal(decode(&f.r, why, sizeof(why)), FL_WIRE_OK);
	f.p[1].n_addresses = FL_WIRE_MAX_ADDRS + 1;
	assert_int_equal(decode(&f.r, why, sizeof(why)), FL_WIRE_INVALID);
	f.p[1].n_addresses = 1;
	addrs[0]           = s("10.0.0.5\n10.6.6.6");
	assert_int_equal(decode(&f.r, why, sizeof(why)), FL_WIRE_INVALID);
	addrs[0] = host; // longer than FL_WIRE_MAX_ADDR
	assert_int_equal(decode(&f.r, why, sizeof(why)), FL_WIRE_INVALID);
	free(host);
}

// Names must be printable UTF-8 (the agent refuses others at config); other strings are text
// quoted from elsewhere and are repaired: invalid UTF-8 becomes U+FFFD.
static void
test_names_text_and_strings_repaired(void **state)
{
	(void) state;
	report_fixture f;
	char           why[256], host[128];
	static const struct {
		const char *host, *probe, *why;
	} refused[] = {
		{ "web\t01", "app", "host name contains a tab (0x09) at byte 4" },
		{ "caf\xe9", "app", "host name contains invalid UTF-8 (0xe9) at byte 4" },
		{ "web01", "a\tb", "result 0: probe name contains a tab (0x09) at byte 2" },
		{ "web01",
		    "\xe2\x80\xae"
		    "ppa",
		    "result 0: probe name contains a bidi or line control "
		    "(U+202E) at byte 1" },
		{ "web01", "x\xc2\x9b",
		    "result 0: probe name contains a C1 control character (U+009B) "
		    "at byte 2" },
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		report_init(&f);
		f.r.host    = s(refused[i].host);
		f.p[0].name = s(refused[i].probe);
		assert_int_equal(decode(&f.r, why, sizeof(why)), FL_WIRE_INVALID);
		assert_string_equal(why, refused[i].why);
		// The collector names the sender from the bytes it refused, escaped.
		size_t   len;
		uint8_t *buf = pack(&f.r, &len);
		fl_wire_report_claimed_host(buf, len, host, sizeof(host));
		assert_null(strchr(host, '\t'));
		assert_true(host[0] != '\0');
		free(buf);
	}

	report_init(&f);
	f.p[0].detail = s("ERROR: relation \"comm\xe9\" does not exist \xc2\x9b");
	f.r.release   = s("2.4\xff");
	size_t      len;
	uint8_t    *buf = pack(&f.r, &len);
	Fl__Report *out = NULL;
	assert_int_equal(fl_wire_decode_report(buf, len, &out, why, sizeof(why)), FL_WIRE_OK);
	assert_string_equal(out->results[0]->detail,
	    "ERROR: relation \"comm\xef\xbf\xbd\" does not exist \xc2\x9b");
	assert_string_equal(out->release, "2.4\xef\xbf\xbd");
	fl__report__free_unpacked(out, NULL);
	free(buf);
	fl_wire_report_claimed_host("garbage", 7, host, sizeof(host));
	assert_string_equal(host, "");
}

static void
test_too_many_results(void **state)
{
	(void) state;
	report_fixture    f;
	char              why[256];
	size_t            n  = FL_WIRE_MAX_RESULTS + 1;
	Fl__ProbeResult  *p  = calloc(n, sizeof(*p));
	Fl__ProbeResult **pp = calloc(n, sizeof(*pp));
	char(*names)[8]      = calloc(n, sizeof(*names));
	assert_non_null(p);
	assert_non_null(pp);
	assert_non_null(names);
	for (size_t i = 0; i < n; i++) {
		fl__probe_result__init(&p[i]);
		snprintf(names[i], sizeof(names[i]), "p%zu", i);
		p[i].name = names[i];
		pp[i]     = &p[i];
	}
	report_init(&f);
	f.r.results   = pp;
	f.r.n_results = n;
	assert_int_equal(decode(&f.r, why, sizeof(why)), FL_WIRE_INVALID);
	assert_non_null(strstr(why, "257 results"));
	f.r.n_results = FL_WIRE_MAX_RESULTS; // the cap itself is accepted
	assert_int_equal(decode(&f.r, why, sizeof(why)), FL_WIRE_OK);
	free(p);
	free(pp);
	free(names);
}

// A report's labels and a query's label filter follow fl/labels.h, or the whole
// message is rejected as invalid.
static void
test_labels_checked(void **state)
{
	(void) state;
	report_fixture f;
	char           why[256];
	char          *ok[]  = { s("env=prod"), s("service=orders") };
	char          *dup[] = { s("env=prod"), s("env=staging") };
	char          *bad[] = { s("env=pr od") };
	char          *many[17];
	char           buf[17][8];

	report_init(&f);
	f.r.n_labels = 2;
	f.r.labels   = ok;
	assert_int_equal(decode(&f.r, why, sizeof(why)), FL_WIRE_OK);
	f.r.labels = dup;
	assert_int_equal(decode(&f.r, why, sizeof(why)), FL_WIRE_INVALID);
	assert_non_null(strstr(why, "report from app1: label key \"env\" given twice"));
	f.r.n_labels = 1;
	f.r.labels   = bad;
	assert_int_equal(decode(&f.r, why, sizeof(why)), FL_WIRE_INVALID);
	for (int i = 0; i < 17; i++) {
		snprintf(buf[i], sizeof(buf[i]), "k%d=v", i);
		many[i] = buf[i];
	}
	f.r.n_labels = 17;
	f.r.labels   = many;
	assert_int_equal(decode(&f.r, why, sizeof(why)), FL_WIRE_INVALID);
	assert_non_null(strstr(why, "17 labels (at most 16)"));

	// A query's filter: each kind that carries one.
	Fl__Request       req = FL__REQUEST__INIT;
	Fl__StatusQuery   sq  = FL__STATUS_QUERY__INIT;
	Fl__HistoryQuery  hq  = FL__HISTORY_QUERY__INIT;
	Fl__DiagnoseQuery dq  = FL__DIAGNOSE_QUERY__INIT;
	Fl__VerifyQuery   vq  = FL__VERIFY_QUERY__INIT;
	req.schema_version    = FL_SCHEMA_VERSION;
	for (int k = 0; k < 5; k++) {
		for (int good = 0; good < 2; good++) {
			char  **v = good ? ok : bad;
			size_t  n = good ? 2 : 1;
			uint8_t b[512];
			sq.n_labels = hq.n_labels = dq.n_labels = vq.n_labels = n;
			sq.labels = hq.labels = dq.labels = vq.labels = v;
			switch (k) {
			case 0:
				req.query_case = FL__REQUEST__QUERY_STATUS;
				req.status     = &sq;
				break;
			case 1:
				req.query_case = FL__REQUEST__QUERY_HOSTS;
				req.hosts      = &sq;
				break;
			case 2:
				req.query_case = FL__REQUEST__QUERY_HISTORY;
				req.history    = &hq;
				break;
			case 3:
				req.query_case = FL__REQUEST__QUERY_DIAGNOSE;
				req.diagnose   = &dq;
				break;
			default:
				req.query_case = FL__REQUEST__QUERY_VERIFY;
				req.verify     = &vq;
				break;
			}
			size_t         len = fl__request__pack(&req, b);
			Fl__Request   *out = NULL;
			fl_wire_reject rj  = fl_wire_decode_request(b, len, &out, why, sizeof(why));
			if (rj != (good ? FL_WIRE_OK : FL_WIRE_INVALID)) {
				fail_msg("query kind %d, good %d: %s (%s)", k, good,
				    fl_wire_reject_name(rj), why);
			}
			if (out != NULL) {
				fl__request__free_unpacked(out, NULL);
			}
		}
	}
}

static void
test_reject_names(void **state)
{
	(void) state;
	assert_string_equal(fl_wire_reject_name(FL_WIRE_OK), "ok");
	assert_string_equal(fl_wire_reject_name(FL_WIRE_UNDECODABLE), "undecodable");
	assert_string_equal(fl_wire_reject_name(FL_WIRE_SCHEMA), "schema");
	assert_string_equal(fl_wire_reject_name(FL_WIRE_INVALID), "invalid");
}

// Two results with one name would overwrite each other in the collector (and record phantom
// transitions at one instant): the whole report is invalid.
static void
test_duplicate_probe_names(void **state)
{
	(void) state;
	report_fixture f;
	char           why[256];
	report_init(&f);
	f.p[1].name = s("app");
	assert_int_equal(decode(&f.r, why, sizeof(why)), FL_WIRE_INVALID);
	assert_string_equal(why, "report from app1 has two results named 'app'");
	f.p[1].name = s("app2"); // a shared prefix is not a duplicate
	assert_int_equal(decode(&f.r, why, sizeof(why)), FL_WIRE_OK);
}

// Agent times are 0 (unset) or within [0, FL_WIRE_MAX_TIME_US): the collector's arithmetic on
// them can then never overflow. INT64 extremes, negatives and the bound itself are invalid.
static void
test_times_out_of_range(void **state)
{
	(void) state;
	report_fixture f;
	char           why[256];
	const int64_t  bad[] = { INT64_MIN, INT64_MAX, -1, FL_WIRE_MAX_TIME_US };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		report_init(&f);
		f.r.sent_us = bad[i];
		assert_int_equal(decode(&f.r, why, sizeof(why)), FL_WIRE_INVALID);
		assert_non_null(strstr(why, "times out of range"));
		report_init(&f);
		f.r.round_started_us = bad[i];
		assert_int_equal(decode(&f.r, why, sizeof(why)), FL_WIRE_INVALID);
		report_init(&f);
		f.p[1].started_us = bad[i];
		assert_int_equal(decode(&f.r, why, sizeof(why)), FL_WIRE_INVALID);
		assert_non_null(strstr(why, "result 1 started at"));
	}
	report_init(&f);
	f.r.sent_us          = FL_WIRE_MAX_TIME_US - 1;
	f.r.round_started_us = 0;
	f.p[0].started_us    = FL_WIRE_MAX_TIME_US - 1;
	assert_int_equal(decode(&f.r, why, sizeof(why)), FL_WIRE_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncated_is_undecodable),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_wrong_schema),
		cmocka_unit_test(test_invalid_shapes),
		cmocka_unit_test(test_names_text_and_strings_repaired),
		cmocka_unit_test(test_too_many_results),
		cmocka_unit_test(test_labels_checked),
		cmocka_unit_test(test_reject_names),
		cmocka_unit_test(test_duplicate_probe_names),
		cmocka_unit_test(test_times_out_of_range),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
