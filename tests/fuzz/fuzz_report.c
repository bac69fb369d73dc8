// fuzz_report.c - fl_wire_decode_report: the bytes every agent pushes to the collector.

#include <stddef.h>
#include <stdint.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Fl__Report *r = NULL, *r2 = NULL;
	char        why[256];

	if (fl_wire_decode_report(data, size, &r, why, sizeof(why)) != FL_WIRE_OK) {
		FUZZ_CHECK(r == NULL); // *out untouched on rejection
		FUZZ_CHECK(why[0] != '\0');
		return 0;
	}
	fuzz_render_report(r);

	// A report the collector accepted must survive the agent's spool (re-encode) unchanged.
	nng_msg *m1 = fuzz_encode(&r->base);
	FUZZ_REDECODE(
	    fl_wire_decode_report(nng_msg_body(m1), nng_msg_len(m1), &r2, why, sizeof(why)), why);
	nng_msg *m2 = fuzz_encode(&r2->base);
	fuzz_same_bytes(m1, m2);

	nng_msg_free(m1);
	nng_msg_free(m2);
	fl__report__free_unpacked(r2, NULL);
	fl__report__free_unpacked(r, NULL);
	return 0;
}
