// coll_tool.c - test helper: pushes reports or hostile bytes to a collector, prints its stats.
//
//   coll_tool push URL report HOST SEQ [ok|fail]   one valid report
//   coll_tool push URL garbage|truncated|schema|oversize|empty
//   coll_tool stats URL                             key=value lines from a status query
//
// Exit 0 on success, 1 on failure (with a message on stderr).

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include "coll_testutil.h"
#include "fl/wire.h"

static const tu_probe P_OK[]   = { { "app", FL__STATUS__STATUS_OK, 0, 1500 } };
static const tu_probe P_FAIL[] = { { "app", FL__STATUS__STATUS_FAIL,
    FL__FAILURE_CLASS__FAILURE_HTTP_5XX, 1500 } };

static int
push(int argc, char **argv)
{
	nng_socket s;
	uint8_t   *buf = NULL;
	size_t     len = 0;
	int        rv;
	tu_rep     d = { .host = "tool", .boot_id = 1, .seq = 1, .n = 1, .probes = P_OK };

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
	} else {
		return -1;
	}
	if ((rv = tu_push_open(argv[2], &s)) != 0 || (rv = tu_push(s, buf, len)) != 0) {
		fprintf(stderr, "coll_tool: cannot push to %s: %s\n", argv[2], nng_strerror(rv));
		free(buf);
		return 1;
	}
	// nng_close does not linger: give the pipe time to flush before closing.
	nng_msleep(200);
	nng_close(s);
	free(buf);
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
	       "dropped_invalid=%llu\ndropped_duplicate=%llu\n",
	    n, (unsigned long long) st.reports_received, (unsigned long long) st.reports_applied,
	    (unsigned long long) st.results_applied, (unsigned long long) st.dropped_undecodable,
	    (unsigned long long) st.dropped_schema, (unsigned long long) st.dropped_oversize,
	    (unsigned long long) st.dropped_invalid, (unsigned long long) st.dropped_duplicate);
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
	}
	if (rc < 0) {
		fprintf(stderr,
		    "usage: coll_tool push URL report HOST SEQ [ok|fail]\n"
		    "       coll_tool push URL garbage|truncated|schema|oversize|empty\n"
		    "       coll_tool stats URL\n");
		return 2;
	}
	return rc;
}
