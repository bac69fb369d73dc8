// gen_seeds.c - writes the binary seed corpora of the wire fuzz targets.
//
// Usage: fl_fuzz_gen_seeds DIR [KEY]   (writes DIR/<target>/<name>.bin)
// KEY is tests/fuzz/fuzz-test-host.key (mode 0600), the private key whose public half the
// envelope target trusts for host app1; without it, no envelope seeds are written.
// The seeds are committed under tests/fuzz/corpus/; rerun this after a change to
// proto/faultline.proto so the fuzzers start from messages of the current shape. Each message is
// what the agent, the CLI or the collector really sends: a full report with HTTP, DNS and
// database results (with unmet requirements and a release check), every control query, and
// every reply.

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fl/sign.h"
#include "fl/wire.h"

static const char *outdir;

// protobuf-c string fields are `char *`; the seeds only pack them, never write through them.
#define S(lit) ((char *) (lit))

static int
write_seed(const char *target, const char *name, const ProtobufCMessage *m)
{
	char     path[1024];
	nng_msg *msg;
	FILE    *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "cannot create %s: %s\n", path, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s/%s.bin", outdir, target, name);
	if (fl_wire_encode(m, &msg) != 0) {
		fprintf(stderr, "cannot encode %s\n", name);
		return -1;
	}
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(nng_msg_body(msg), 1, nng_msg_len(msg), f) != nng_msg_len(msg) ||
	    fclose(f) != 0) {
		fprintf(stderr, "cannot write %s\n", path);
		nng_msg_free(msg);
		return -1;
	}
	nng_msg_free(msg);
	return 0;
}

// One frame of the coll_state_apply target (fuzz_state_apply.c): header, then the report.
typedef struct frame {
	const ProtobufCMessage *m;
	int32_t                 dt_ms;
	uint8_t                 flags;
	int64_t                 t;
} frame;

static int
write_frames(const char *name, const frame *fr, size_t n)
{
	char  path[1024];
	FILE *f;
	int   rc = 0;

	snprintf(path, sizeof(path), "%s/coll_state_apply", outdir);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "cannot create %s: %s\n", path, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/coll_state_apply/%s.bin", outdir, name);
	if ((f = fopen(path, "wb")) == NULL) {
		fprintf(stderr, "cannot write %s\n", path);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		nng_msg *msg;
		uint8_t  h[15];
		uint64_t t = (uint64_t) fr[i].t;
		if (fl_wire_encode(fr[i].m, &msg) != 0) {
			rc = -1;
			break;
		}
		h[0] = (uint8_t) nng_msg_len(msg), h[1] = (uint8_t) (nng_msg_len(msg) >> 8);
		for (int b = 0; b < 4; b++) {
			h[2 + b] = (uint8_t) ((uint32_t) fr[i].dt_ms >> (8 * b));
		}
		h[6] = fr[i].flags;
		for (int b = 0; b < 8; b++) {
			h[7 + b] = (uint8_t) (t >> (8 * b));
		}
		fwrite(h, 1, sizeof(h), f);
		fwrite(nng_msg_body(msg), 1, nng_msg_len(msg), f);
		nng_msg_free(msg);
	}
	if (fclose(f) != 0) {
		rc = -1;
	}
	return rc;
}

int
main(int argc, char **argv)
{
	int rc = 0;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: %s DIR [KEY]\n", argv[0]);
		return 2;
	}
	outdir = argv[1];

	// --- a report: http ok, dns fail, postgres with unmet requirements ----------------------
	Fl__Timing t_http = FL__TIMING__INIT;
	t_http.dns_us = 120, t_http.connect_us = 300, t_http.first_byte_us = 2400;
	t_http.total_us      = 2600;
	Fl__ProbeResult http = FL__PROBE_RESULT__INIT;
	http.name = S("app"), http.kind = FL__PROBE_KIND__KIND_HTTP;
	http.target = S("http://127.0.0.1:8080/health"), http.status = FL__STATUS__STATUS_OK;
	http.detail = S("HTTP 200"), http.started_us = 1700000000000000, http.duration_us = 2600;
	http.timing = &t_http;

	Fl__ProbeResult dns = FL__PROBE_RESULT__INIT;
	dns.name = S("db-name"), dns.kind = FL__PROBE_KIND__KIND_DNS;
	dns.target = S("db.internal"), dns.status = FL__STATUS__STATUS_FAIL;
	dns.failure = FL__FAILURE_CLASS__FAILURE_DNS, dns.detail = S("name does not resolve");
	dns.started_us = 1700000000000100, dns.duration_us = 40000;

	Fl__UnmetRequirement u1 = FL__UNMET_REQUIREMENT__INIT;
	u1.database = S("orders"), u1.kind = FL__OBJECT_KIND__OBJECT_COLUMN;
	u1.object = S("public.orders.discount_code"), u1.privilege = S("");
	u1.object_missing = 1, u1.role = S("app");
	Fl__UnmetRequirement u2 = FL__UNMET_REQUIREMENT__INIT;
	u2.database = S("orders"), u2.kind = FL__OBJECT_KIND__OBJECT_TABLE;
	u2.object = S("public.orders"), u2.privilege = S("INSERT"), u2.role = S("app");
	Fl__UnmetRequirement *unmet[] = { &u1, &u2 };
	Fl__Timing            t_pg    = FL__TIMING__INIT;
	t_pg.connect_us = 500, t_pg.auth_us = 3000, t_pg.query_us = 400, t_pg.check_us = 900;
	t_pg.total_us      = 4800;
	Fl__ProbeResult pg = FL__PROBE_RESULT__INIT;
	pg.name = S("orders"), pg.kind = FL__PROBE_KIND__KIND_POSTGRES;
	pg.target = S("127.0.0.1:5432/orders"), pg.status = FL__STATUS__STATUS_FAIL;
	pg.failure = FL__FAILURE_CLASS__FAILURE_OBJECT_MISSING;
	pg.detail = S("2 requirements unmet"), pg.started_us = 1700000000000200;
	pg.duration_us = 4800, pg.timing = &t_pg, pg.n_unmet = 2, pg.unmet = unmet;
	pg.requirements_checked = 7, pg.role = S("app"), pg.sqlstate = S("42703");
	pg.expectations_digest = S("fnv1a64:0123456789abcdef");

	Fl__ProbeResult my = FL__PROBE_RESULT__INIT;
	my.name = S("legacy"), my.kind = FL__PROBE_KIND__KIND_MYSQL;
	my.target = S("127.0.0.1:3306/legacy"), my.status = FL__STATUS__STATUS_FAIL;
	my.failure = FL__FAILURE_CLASS__FAILURE_AUTH_FAILED, my.detail = S("access denied");
	my.error_code = 1045, my.sqlstate = S("28000");

	Fl__ProbeResult *results[] = { &http, &dns, &pg, &my };

	char                 *errors[]   = { S("legacy: cannot connect") };
	Fl__ReleaseCheck      rc1        = FL__RELEASE_CHECK__INIT;
	Fl__ReleaseCheck     *checks[]   = { &rc1 };
	Fl__UnmetRequirement *rc_unmet[] = { &u2 };
	rc1.release = S("1.4.1"), rc1.known = 1, rc1.n_unmet = 1, rc1.unmet = rc_unmet;
	rc1.n_errors = 1, rc1.errors = errors;

	Fl__Report rep     = FL__REPORT__INIT;
	rep.schema_version = FL_SCHEMA_VERSION, rep.host = S("app1"), rep.release = S("1.4.2");
	rep.agent_version = S("0.1.0"), rep.interval_ms = 5000, rep.seq = 42;
	rep.sent_us = 1700000000100000, rep.round_started_us = 1700000000000000;
	rep.n_results = 4, rep.results = results, rep.boot_id = 0x1234567890abcdefULL;
	rep.expectations_file   = S("/srv/app/current/faultline.expect");
	rep.expectations_digest = S("fnv1a64:0123456789abcdef");
	rc |= write_seed("fl_wire_decode_report", "full", &rep.base);

	Fl__Report small     = FL__REPORT__INIT;
	small.schema_version = FL_SCHEMA_VERSION, small.host = S("app2");
	small.release = S("unknown"), small.agent_version = S("0.1.0"), small.interval_ms = 1000;
	small.seq = 1, small.n_results = 1, small.results = results;
	small.replayed = 1, small.spool_dropped = 3;
	rc |= write_seed("fl_wire_decode_report", "small_replayed", &small.base);

	Fl__Report bad         = small;
	bad.expectations_error = S("faultline.expect:3: unknown key tabel");
	rc |= write_seed("fl_wire_decode_report", "expectations_error", &bad.base);
	bad.schema_version = 7; // rejected: schema
	rc |= write_seed("fl_wire_decode_report", "reject_schema", &bad.base);
	bad.schema_version = FL_SCHEMA_VERSION, bad.interval_ms = 0; // rejected: invalid
	rc |= write_seed("fl_wire_decode_report", "reject_interval", &bad.base);

	Fl__Report spoof       = rep; // for the release-check path
	spoof.n_release_checks = 1, spoof.release_checks = checks;
	rc |= write_seed("fl_wire_decode_report", "release_check", &spoof.base);

	// --- sequences of reports for the state-apply target --------------------------------
	{
		Fl__Report r2 = rep, r3 = rep, r4 = rep, one = rep, h[6], dup = rep;
		r2.seq = 43, r2.sent_us += 5000000, r2.round_started_us += 5000000;
		r3.seq = 44, r3.sent_us += 60000000, r3.round_started_us += 60000000;
		r4.seq = 45, r4.replayed = 1;
		one.seq = 46, one.n_results = 1;
		const frame seq[] = { { &rep.base, 0, 0, 0 }, { &r2.base, 5000, 0, 0 },
			{ &small.base, 1000, 0, 0 }, { &r3.base, 60000, 0, 0 },
			{ &r4.base, 1000, 0, 0 }, { &one.base, 1000, 0, 0 } };
		rc |= write_frames("sequence", seq, sizeof(seq) / sizeof(seq[0]));

		const frame ext[] = { { &rep.base, 0, 7, INT64_MIN },
			{ &r2.base, 1000, 7, INT64_MAX }, { &r3.base, 1000, 1, -1 },
			{ &r4.base, -2000000000, 3, INT64_MAX - 1 },
			{ &one.base, 2000000000, 6, 1 } };
		rc |= write_frames("extreme_times", ext, sizeof(ext) / sizeof(ext[0]));

		static const char *names[] = { "h1", "h2", "h3", "h4", "h5", "h6" };
		frame              many[6];
		for (size_t i = 0; i < 6; i++) {
			h[i]      = small;
			h[i].host = S(names[i]);
			many[i]   = (frame) { &h[i].base, 100, 0, 0 };
		}
		rc |= write_frames("many_hosts", many, 6);

		Fl__ProbeResult *twice[] = { &http, &http };
		dup.seq = 50, dup.n_results = 2, dup.results = twice;
		const frame d[] = { { &dup.base, 0, 0, 0 }, { &rep.base, 10, 0, 0 } };
		rc |= write_frames("duplicate_names", d, 2);
	}

	// --- survey --------------------------------------------------------------------------
	Fl__SurveyRequest sq   = FL__SURVEY_REQUEST__INIT;
	char             *rb[] = { S("1.4.1"), S("1.3.0") };
	sq.schema_version = FL_SCHEMA_VERSION, sq.survey_id = 7;
	rc |= write_seed("fl_wire_decode_survey_request", "plain", &sq.base);
	sq.n_rollback_to = 2, sq.rollback_to = rb;
	rc |= write_seed("fl_wire_decode_survey_request", "rollback", &sq.base);

	Fl__SurveyReply sr = FL__SURVEY_REPLY__INIT;
	sr.schema_version = FL_SCHEMA_VERSION, sr.survey_id = 7, sr.report = &spoof;
	rc |= write_seed("fl_wire_decode_survey_reply", "full", &sr.base);
	sr.report = &small;
	rc |= write_seed("fl_wire_decode_survey_reply", "small", &sr.base);

	// --- control requests ------------------------------------------------------------------
	Fl__Request       rq = FL__REQUEST__INIT;
	Fl__StatusQuery   st = FL__STATUS_QUERY__INIT;
	Fl__HistoryQuery  hq = FL__HISTORY_QUERY__INIT;
	Fl__DiagnoseQuery dq = FL__DIAGNOSE_QUERY__INIT;
	Fl__ProbeNowQuery pq = FL__PROBE_NOW_QUERY__INIT;
	rq.schema_version    = FL_SCHEMA_VERSION;
	rq.query_case = FL__REQUEST__QUERY_STATUS, rq.status = &st;
	rc |= write_seed("fl_wire_decode_request", "status", &rq.base);
	st.host = S("app1");
	rc |= write_seed("fl_wire_decode_request", "status_host", &rq.base);
	rq.query_case = FL__REQUEST__QUERY_HOSTS, rq.status = NULL, rq.hosts = &st;
	rc |= write_seed("fl_wire_decode_request", "hosts", &rq.base);
	hq.since_us = 1700000000000000, hq.host = S("app1"), hq.limit = 100;
	rq.query_case = FL__REQUEST__QUERY_HISTORY, rq.hosts = NULL, rq.history = &hq;
	rc |= write_seed("fl_wire_decode_request", "history", &rq.base);
	rq.query_case = FL__REQUEST__QUERY_DIAGNOSE, rq.history = NULL, rq.diagnose = &dq;
	rc |= write_seed("fl_wire_decode_request", "diagnose", &rq.base);
	pq.timeout_ms = 3000, pq.n_rollback_to = 1, pq.rollback_to = rb;
	rq.query_case = FL__REQUEST__QUERY_PROBE_NOW, rq.diagnose = NULL, rq.probe_now = &pq;
	rc |= write_seed("fl_wire_decode_request", "probe_now", &rq.base);

	// --- control responses -----------------------------------------------------------------
	Fl__HostState      hs      = FL__HOST_STATE__INIT;
	Fl__HostState     *hosts[] = { &hs };
	Fl__CollectorStats cs      = FL__COLLECTOR_STATS__INIT;
	Fl__StatusReply    sp      = FL__STATUS_REPLY__INIT;
	hs.host = S("app1"), hs.release = S("1.4.2"), hs.agent_version = S("0.1.0");
	hs.interval_ms = 5000, hs.last_seen_us = 1700000000200000, hs.n_probes = 4;
	hs.probes = results, hs.previous_release = S("1.4.1");
	cs.reports_received = 10, cs.reports_applied = 9, cs.dropped_invalid = 1;
	sp.now_us = 1700000000300000, sp.n_hosts = 1, sp.hosts = hosts, sp.stats = &cs;
	Fl__Response rs   = FL__RESPONSE__INIT;
	rs.schema_version = FL_SCHEMA_VERSION, rs.reply_case = FL__RESPONSE__REPLY_STATUS;
	rs.status = &sp;
	rc |= write_seed("fl_wire_decode_response", "status", &rs.base);
	rs.reply_case = FL__RESPONSE__REPLY_HOSTS, rs.status = NULL, rs.hosts = &sp;
	rc |= write_seed("fl_wire_decode_response", "hosts", &rs.base);

	Fl__HistoryEvent  ev    = FL__HISTORY_EVENT__INIT;
	Fl__HistoryEvent *evs[] = { &ev };
	Fl__HistoryReply  hr    = FL__HISTORY_REPLY__INIT;
	ev.at_us = 1700000000000000, ev.host = S("app1"), ev.kind = S("status");
	ev.probe = S("orders"), ev.from = S("ok"), ev.to = S("fail");
	ev.failure = FL__FAILURE_CLASS__FAILURE_OBJECT_MISSING, ev.detail = S("2 unmet");
	hr.n_events = 1, hr.events = evs;
	rs.reply_case = FL__RESPONSE__REPLY_HISTORY, rs.hosts = NULL, rs.history = &hr;
	rc |= write_seed("fl_wire_decode_response", "history", &rs.base);

	Fl__Finding       fd    = FL__FINDING__INIT;
	Fl__Finding      *fds[] = { &fd };
	Fl__DiagnoseReply dr    = FL__DIAGNOSE_REPLY__INIT;
	char             *fh[]  = { S("app1"), S("app2") };
	fd.verdict = FL__VERDICT__VERDICT_CODE, fd.summary = S("release 1.4.2 needs a column");
	fd.n_hosts = 2, fd.hosts = fh, fd.release = S("1.4.2");
	dr.verdict = FL__VERDICT__VERDICT_CODE, dr.summary = S("code"), dr.n_findings = 1;
	dr.findings   = fds;
	rs.reply_case = FL__RESPONSE__REPLY_DIAGNOSE, rs.history = NULL, rs.diagnose = &dr;
	rc |= write_seed("fl_wire_decode_response", "diagnose", &rs.base);

	Fl__ProbeNowReply pr     = FL__PROBE_NOW_REPLY__INIT;
	Fl__Report       *reps[] = { &spoof };
	pr.n_answered = 1, pr.answered = fh, pr.n_missing = 1, pr.missing = fh + 1;
	pr.n_reports = 1, pr.reports = reps;
	rs.reply_case = FL__RESPONSE__REPLY_PROBE_NOW, rs.diagnose = NULL, rs.probe_now = &pr;
	rc |= write_seed("fl_wire_decode_response", "probe_now", &rs.base);

	Fl__Response er   = FL__RESPONSE__INIT;
	er.schema_version = FL_SCHEMA_VERSION, er.error = S("no such host: app9");
	rc |= write_seed("fl_wire_decode_response", "error", &er.base);

	// --- signed envelopes (fl_sign_verify_report)
	// ----------------------------------------------
	if (argc == 3) {
		fl_sign_key *k;
		char         err[256];
		nng_msg     *msg;
		const char  *names[]  = { "signed_full", "signed_small", "signed_as_other" };
		Fl__Report  *reps_s[] = { &rep, &small, &rep };
		const char  *ids[]    = { "app1", "app1", "app2" };

		if (fl_sign_key_load(argv[2], &k, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		rep.host = small.host = S("app1");
		for (size_t i = 0; i < 3; i++) {
			char  path[1024];
			FILE *f;
			snprintf(path, sizeof(path), "%s/fl_sign_verify_report", outdir);
			(void) mkdir(path, 0755);
			snprintf(path, sizeof(path), "%s/fl_sign_verify_report/%s.bin", outdir,
			    names[i]);
			if (fl_sign_report(k, ids[i], reps_s[i], &msg) != 0 ||
			    (f = fopen(path, "wb")) == NULL) {
				fprintf(stderr, "cannot write %s\n", path);
				return 1;
			}
			fwrite(nng_msg_body(msg), 1, nng_msg_len(msg), f);
			fclose(f);
			nng_msg_free(msg);
		}
		fl_sign_key_free(k);
	}

	return rc != 0 ? 1 : 0;
}
