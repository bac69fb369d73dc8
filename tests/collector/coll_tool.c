// coll_tool.c - test helper: pushes reports or hostile bytes to a collector, prints its stats.
//
//   coll_tool push URL report HOST SEQ [ok|fail]   one valid report
//   coll_tool push URL garbage|truncated|schema|oversize|empty
//   coll_tool push URL dupnames|badtime|farclock HOST SEQ
//                                                   two results named "app" | sent_us INT64_MIN
//                                                   | an agent clock 40 days ahead
//   coll_tool flood URL HOSTS REPORTS PROBES [SEQ]  HOSTS hosts ("flood-N") each send REPORTS
//                                                   reports (seqs from SEQ, default 1) of PROBES
//                                                   failing results, every report with probe
//                                                   names never used before
//   coll_tool push URL badname HOST SEQ [COUNT]    COUNT reports whose probe name has a tab
//   coll_tool push URL hostile HOST SEQ            a valid report whose probe detail is not
//                                                  text (Latin-1, a C1 CSI, a bidi override)
//   coll_tool stats URL                             key=value lines from a status query
//   coll_tool status URL MAX_REPLY_BYTES            an unpaged status with that reply limit:
//                                                   prints "hosts=N bytes=B" or the error
//
// Exit 0 on success, 1 on failure (with a message on stderr).

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include "coll_testutil.h"
#include "fl/time.h"
#include "fl/wire.h"

static const tu_probe P_OK[]   = { { "app", FL__STATUS__STATUS_OK, 0, 1500 } };
static const tu_probe P_FAIL[] = { { "app", FL__STATUS__STATUS_FAIL,
    FL__FAILURE_CLASS__FAILURE_HTTP_5XX, 1500 } };

static const tu_probe P_BADNAME[] = { { "app\tweb", FL__STATUS__STATUS_OK, 0, 1500 } };
static const tu_probe P_DB[]      = { { "db", FL__STATUS__STATUS_FAIL,
	 FL__FAILURE_CLASS__FAILURE_QUERY_ERROR, 1500 } };

// A report whose probe detail quotes a server in Latin-1 and carries terminal controls.
static uint8_t *
pack_hostile(const tu_rep *d, size_t *len)
{
	Fl__Report *r = tu_make(d);
	uint8_t    *buf;
	if (r == NULL) {
		return NULL;
	}
	free(r->results[0]->detail);
	r->results[0]->detail = strdup("ERROR: relation \"comm\xe9\" \xc2\x9b"
	                               "2J does not exist \xe2\x80\xae"
	                               "txt.exe");
	*len                  = fl__report__get_packed_size(r);
	if ((buf = malloc(*len)) != NULL) {
		fl__report__pack(r, buf);
	}
	fl__report__free_unpacked(r, NULL);
	return buf;
}

static int
push(int argc, char **argv)
{
	nng_socket s;
	uint8_t   *buf = NULL;
	size_t     len = 0;
	int        rv;
	tu_rep     d     = { .host = "tool", .boot_id = 1, .seq = 1, .n = 1, .probes = P_OK };
	unsigned   count = 1;

	if (argc < 4) {
		return -1;
	}
	const char *what = argv[3];
	if (strcmp(what, "report") == 0 && argc >= 6) {
		d.host = argv[4];
		d.seq  = strtoull(argv[5], NULL, 10);
		if (argc >= 7 && strcmp(argv[6], "fail") == 0) {
			d.probes = P_FAIL;
		}
		buf = tu_pack(&d, &len);
	} else if (strcmp(what, "badname") == 0 && argc >= 6) {
		d.host   = argv[4];
		d.seq    = strtoull(argv[5], NULL, 10);
		d.probes = P_BADNAME;
		count    = argc >= 7 ? (unsigned) strtoul(argv[6], NULL, 10) : 1;
		buf      = tu_pack(&d, &len);
	} else if (strcmp(what, "hostile") == 0 && argc >= 6) {
		d.host   = argv[4];
		d.seq    = strtoull(argv[5], NULL, 10);
		d.probes = P_DB;
		buf      = pack_hostile(&d, &len);
	} else if (strcmp(what, "garbage") == 0) {
		len = 97;
		buf = malloc(len);
		for (size_t i = 0; i < len; i++) {
			buf[i] = (uint8_t) (0xff ^ (i * 37));
		}
	} else if (strcmp(what, "truncated") == 0) {
		buf = tu_pack(&d, &len);
		len = len / 2;
	} else if (strcmp(what, "schema") == 0) {
		d.schema = 99;
		buf      = tu_pack(&d, &len);
	} else if (strcmp(what, "oversize") == 0) {
		len = FL_WIRE_MAX_MSG + 1;
		buf = calloc(1, len);
	} else if (strcmp(what, "empty") == 0) {
		buf = malloc(1);
	} else if ((strcmp(what, "dupnames") == 0 || strcmp(what, "badtime") == 0 ||
	               strcmp(what, "farclock") == 0) &&
	    argc >= 6) {
		static const tu_probe twice[] = { { "app", FL__STATUS__STATUS_OK, 0, 1500 },
			{ "app", FL__STATUS__STATUS_FAIL, FL__FAILURE_CLASS__FAILURE_HTTP_5XX,
			    1500 } };
		d.host                        = argv[4];
		d.seq                         = strtoull(argv[5], NULL, 10);
		if (strcmp(what, "dupnames") == 0) {
			d.probes = twice;
			d.n      = 2;
		} else if (strcmp(what, "badtime") == 0) {
			d.sent_us = INT64_MIN;
		} else {
			d.sent_us          = fl_now_us() + 40LL * 86400 * 1000000;
			d.round_started_us = d.sent_us;
		}
		buf = tu_pack(&d, &len);
	} else {
		return -1;
	}
	if ((rv = tu_push_open(argv[2], &s)) != 0) {
		fprintf(stderr, "coll_tool: cannot push to %s: %s\n", argv[2], nng_strerror(rv));
		free(buf);
		return 1;
	}
	for (unsigned i = 0; i < count; i++) {
		if (i > 0) { // the next round of the same sender
			free(buf);
			d.seq++;
			buf = tu_pack(&d, &len);
		}
		if ((rv = tu_push(s, buf, len)) != 0) {
			fprintf(stderr, "coll_tool: cannot push to %s: %s\n", argv[2],
			    nng_strerror(rv));
			free(buf);
			nng_close(s);
			return 1;
		}
	}
	// nng_close does not linger: give the pipe time to flush before closing.
	nng_msleep(200);
	nng_close(s);
	free(buf);
	return 0;
}

// A report of n failing results named "p<round>-<i>", with long targets and details so that
// the state (and the status reply) grows as fast as the wire limits allow.
static uint8_t *
flood_report(const char *host, uint64_t seq, size_t n, size_t *len)
{
	static char target[1001], detail[FL_WIRE_MAX_DETAIL];
	tu_probe   *probes = calloc(n, sizeof(*probes));
	char(*names)[32]   = calloc(n, sizeof(*names));
	uint8_t *buf       = NULL;

	if (probes == NULL || names == NULL) {
		goto done;
	}
	memset(target, 't', sizeof(target) - 1);
	memset(detail, 'd', sizeof(detail) - 1);
	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "p%llu-%zu", (unsigned long long) seq, i);
		probes[i] = (tu_probe) { names[i], FL__STATUS__STATUS_FAIL,
			FL__FAILURE_CLASS__FAILURE_HTTP_5XX, 1000 };
	}
	tu_rep      d = { .host = host, .boot_id = 7, .seq = seq, .n = n, .probes = probes };
	Fl__Report *r = tu_make(&d);
	if (r == NULL) {
		goto done;
	}
	for (size_t i = 0; i < r->n_results; i++) {
		// The static buffers are borrowed for packing (NULLed again below).
		free(r->results[i]->target);
		free(r->results[i]->detail);
		r->results[i]->target = target;
		r->results[i]->detail = detail;
	}
	*len = fl__report__get_packed_size(r);
	if ((buf = malloc(*len)) != NULL) {
		fl__report__pack(r, buf);
	}
	for (size_t i = 0; i < r->n_results; i++) {
		r->results[i]->target = NULL; // the static buffers are not the report's to free
		r->results[i]->detail = NULL;
	}
	fl__report__free_unpacked(r, NULL);
done:
	free(probes);
	free(names);
	return buf;
}

static int
flood(const char *url, int hosts, int reports, size_t probes, int first_seq)
{
	nng_socket s;
	int        rv;
	size_t     total = 0;
	if ((rv = tu_push_open(url, &s)) != 0) {
		fprintf(stderr, "coll_tool: cannot push to %s: %s\n", url, nng_strerror(rv));
		return 1;
	}
	for (int k = first_seq; k < first_seq + reports; k++) {
		for (int h = 0; h < hosts; h++) {
			char     host[32];
			size_t   len;
			uint8_t *buf;
			snprintf(host, sizeof(host), "flood-%d", h);
			if ((buf = flood_report(host, (uint64_t) k, probes, &len)) == NULL) {
				fprintf(stderr, "coll_tool: out of memory\n");
				nng_close(s);
				return 1;
			}
			rv = tu_push(s, buf, len);
			free(buf);
			if (rv != 0) {
				fprintf(stderr, "coll_tool: cannot push: %s\n", nng_strerror(rv));
				nng_close(s);
				return 1;
			}
			total += len;
		}
	}
	printf("sent=%d bytes=%zu\n", hosts * reports, total);
	nng_msleep(200);
	nng_close(s);
	return 0;
}

static int
status_limited(const char *url, uint32_t max_bytes)
{
	Fl__Request     req = FL__REQUEST__INIT;
	Fl__StatusQuery q   = FL__STATUS_QUERY__INIT;
	Fl__Response   *resp;
	nng_msg        *m;
	int             rv;

	req.schema_version  = FL_SCHEMA_VERSION;
	req.query_case      = FL__REQUEST__QUERY_STATUS;
	req.status          = &q;
	req.max_reply_bytes = max_bytes;
	if ((rv = tu_query(url, &req, &resp)) != 0) {
		fprintf(stderr, "coll_tool: cannot query %s: %s\n", url, nng_strerror(rv));
		return 1;
	}
	if (resp->error != NULL && resp->error[0] != '\0') {
		printf("error=%s\n", resp->error);
	} else if (resp->status != NULL && fl_wire_encode(&resp->base, &m) == 0) {
		printf("hosts=%zu bytes=%zu\n", resp->status->n_hosts, nng_msg_len(m));
		nng_msg_free(m);
	}
	fl__response__free_unpacked(resp, NULL);
	return 0;
}

static int
stats(const char *url)
{
	Fl__CollectorStats st;
	size_t             n;
	int                rv;
	if ((rv = tu_stats(url, &st, &n)) != 0) {
		fprintf(stderr, "coll_tool: cannot query %s: %s\n", url, nng_strerror(rv));
		return 1;
	}
	printf("hosts=%zu\nreports_received=%llu\nreports_applied=%llu\nresults_applied=%llu\n"
	       "dropped_undecodable=%llu\ndropped_schema=%llu\ndropped_oversize=%llu\n"
	       "dropped_invalid=%llu\ndropped_duplicate=%llu\ndropped_host_limit=%llu\n"
	       "dropped_probe_limit=%llu\nreports_time_ignored=%llu\n",
	    n, (unsigned long long) st.reports_received, (unsigned long long) st.reports_applied,
	    (unsigned long long) st.results_applied, (unsigned long long) st.dropped_undecodable,
	    (unsigned long long) st.dropped_schema, (unsigned long long) st.dropped_oversize,
	    (unsigned long long) st.dropped_invalid, (unsigned long long) st.dropped_duplicate,
	    (unsigned long long) st.dropped_host_limit, (unsigned long long) st.dropped_probe_limit,
	    (unsigned long long) st.reports_time_ignored);
	return 0;
}

int
main(int argc, char **argv)
{
	int rc = -1;
	if (argc >= 3 && strcmp(argv[1], "push") == 0) {
		rc = push(argc, argv);
	} else if (argc == 3 && strcmp(argv[1], "stats") == 0) {
		rc = stats(argv[2]);
	} else if ((argc == 6 || argc == 7) && strcmp(argv[1], "flood") == 0) {
		rc = flood(argv[2], atoi(argv[3]), atoi(argv[4]), strtoul(argv[5], NULL, 10),
		    argc == 7 ? atoi(argv[6]) : 1);
	} else if (argc == 4 && strcmp(argv[1], "status") == 0) {
		rc = status_limited(argv[2], (uint32_t) strtoul(argv[3], NULL, 10));
	}
	if (rc < 0) {
		fprintf(stderr,
		    "usage: coll_tool push URL report HOST SEQ [ok|fail]\n"
		    "       coll_tool push URL garbage|truncated|schema|oversize|empty\n"
		    "       coll_tool push URL dupnames|badtime|farclock HOST SEQ\n"
		    "       coll_tool flood URL HOSTS REPORTS PROBES [SEQ]\n"
		    "       coll_tool push URL badname HOST SEQ [COUNT]\n"
		    "       coll_tool push URL hostile HOST SEQ\n"
		    "       coll_tool stats URL\n"
		    "       coll_tool status URL MAX_REPLY_BYTES\n");
		return 2;
	}
	return rc;
}
