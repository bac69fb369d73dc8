// fuzz_survey_request.c - fl_wire_decode_survey_request: what an agent's RESPONDENT receives.

#include <stddef.h>
#include <stdint.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Fl__SurveyRequest *r = NULL, *r2 = NULL;
	char               why[256];

	if (fl_wire_decode_survey_request(data, size, &r, why, sizeof(why)) != FL_WIRE_OK) {
		FUZZ_CHECK(r == NULL);
		return 0;
	}
	// What the agent relies on: few releases, each a short printable string.
	FUZZ_CHECK(r->n_rollback_to <= 16);
	for (size_t i = 0; i < r->n_rollback_to; i++) {
		FUZZ_CHECK(r->rollback_to[i] != NULL && strlen(r->rollback_to[i]) <= 256);
	}

	nng_msg *m1 = fuzz_encode(&r->base);
	FUZZ_REDECODE(
	    fl_wire_decode_survey_request(nng_msg_body(m1), nng_msg_len(m1), &r2, why, sizeof(why)),
	    why);
	nng_msg *m2 = fuzz_encode(&r2->base);
	fuzz_same_bytes(m1, m2);

	nng_msg_free(m1);
	nng_msg_free(m2);
	fl__survey_request__free_unpacked(r2, NULL);
	fl__survey_request__free_unpacked(r, NULL);
	return 0;
}
