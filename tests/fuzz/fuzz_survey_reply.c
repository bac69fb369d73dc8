// fuzz_survey_reply.c - fl_wire_decode_survey_reply: an agent's answer to a probe-now survey.

#include <stddef.h>
#include <stdint.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Fl__SurveyReply *r = NULL, *r2 = NULL;
	char             why[256];

	if (fl_wire_decode_survey_reply(data, size, &r, why, sizeof(why)) != FL_WIRE_OK) {
		FUZZ_CHECK(r == NULL);
		return 0;
	}
	FUZZ_CHECK(r->report != NULL);
	fuzz_render_report(r->report);

	nng_msg *m1 = fuzz_encode(&r->base);
	FUZZ_REDECODE(
	    fl_wire_decode_survey_reply(nng_msg_body(m1), nng_msg_len(m1), &r2, why, sizeof(why)),
	    why);
	nng_msg *m2 = fuzz_encode(&r2->base);
	fuzz_same_bytes(m1, m2);

	nng_msg_free(m1);
	nng_msg_free(m2);
	fl__survey_reply__free_unpacked(r2, NULL);
	fl__survey_reply__free_unpacked(r, NULL);
	return 0;
}
