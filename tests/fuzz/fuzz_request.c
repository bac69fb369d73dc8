// fuzz_request.c - fl_wire_decode_request: what a CLI sends to the collector's control socket.

#include <stddef.h>
#include <stdint.h>

#include "fl/labels.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Fl__Request *r = NULL, *r2 = NULL;
	char         why[256];

	if (fl_wire_decode_request(data, size, &r, why, sizeof(why)) != FL_WIRE_OK) {
		FUZZ_CHECK(r == NULL);
		return 0;
	}
	// The fields the collector's control handler reads, exactly as it dispatches on them.
	switch (r->query_case) {
	case FL__REQUEST__QUERY_STATUS:
	case FL__REQUEST__QUERY_HOSTS: {
		const Fl__StatusQuery *q =
		    r->query_case == FL__REQUEST__QUERY_STATUS ? r->status : r->hosts;
		FUZZ_CHECK(q != NULL);
		FUZZ_CHECK(q->host == NULL || strlen(q->host) < size + 1);
		// A decoded filter follows the label rules the collector's matching relies on.
		FUZZ_CHECK(fl_labels_check((const char *const *) q->labels, q->n_labels, why,
		               sizeof(why)) == 0);
		break;
	}
	case FL__REQUEST__QUERY_FORGET: // the one request that changes state
		FUZZ_CHECK(r->forget != NULL && r->forget->host != NULL);
		break;
	case FL__REQUEST__QUERY_HISTORY:
		FUZZ_CHECK(r->history != NULL);
		break;
	case FL__REQUEST__QUERY_DIAGNOSE:
		FUZZ_CHECK(r->diagnose != NULL);
		break;
	case FL__REQUEST__QUERY_PROBE_NOW:
		FUZZ_CHECK(r->probe_now != NULL);
		for (size_t i = 0; i < r->probe_now->n_rollback_to; i++) {
			FUZZ_CHECK(r->probe_now->rollback_to[i] != NULL);
		}
		break;
	default:
		break;
	}

	nng_msg *m1 = fuzz_encode(&r->base);
	FUZZ_REDECODE(
	    fl_wire_decode_request(nng_msg_body(m1), nng_msg_len(m1), &r2, why, sizeof(why)), why);
	FUZZ_CHECK(r2->query_case == r->query_case);
	nng_msg *m2 = fuzz_encode(&r2->base);
	fuzz_same_bytes(m1, m2);

	nng_msg_free(m1);
	nng_msg_free(m2);
	fl__request__free_unpacked(r2, NULL);
	fl__request__free_unpacked(r, NULL);
	return 0;
}
