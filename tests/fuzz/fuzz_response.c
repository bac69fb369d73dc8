// fuzz_response.c - fl_wire_decode_response: what the CLI reads back from a collector.

#include <stddef.h>
#include <stdint.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
render_status(const Fl__StatusReply *s)
{
	if (s == NULL) {
		return;
	}
	for (size_t i = 0; i < s->n_hosts; i++) {
		fuzz_render_results(s->hosts[i]->probes, s->hosts[i]->n_probes);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Fl__Response *r = NULL, *r2 = NULL;
	char          why[256];

	if (fl_wire_decode_response(data, size, &r, why, sizeof(why)) != FL_WIRE_OK) {
		FUZZ_CHECK(r == NULL);
		return 0;
	}
	switch (r->reply_case) {
	case FL__RESPONSE__REPLY_STATUS:
		render_status(r->status);
		break;
	case FL__RESPONSE__REPLY_HOSTS:
		render_status(r->hosts);
		break;
	case FL__RESPONSE__REPLY_PROBE_NOW:
		for (size_t i = 0; r->probe_now != NULL && i < r->probe_now->n_reports; i++) {
			fuzz_render_report(r->probe_now->reports[i]);
		}
		break;
	default:
		break;
	}

	nng_msg *m1 = fuzz_encode(&r->base);
	FUZZ_REDECODE(
	    fl_wire_decode_response(nng_msg_body(m1), nng_msg_len(m1), &r2, why, sizeof(why)), why);
	FUZZ_CHECK(r2->reply_case == r->reply_case);
	nng_msg *m2 = fuzz_encode(&r2->base);
	fuzz_same_bytes(m1, m2);

	nng_msg_free(m1);
	nng_msg_free(m2);
	fl__response__free_unpacked(r2, NULL);
	fl__response__free_unpacked(r, NULL);
	return 0;
}
