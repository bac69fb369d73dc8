// fuzz_util.h - what every wire fuzz target does after a successful decode.
//
// A decoder that accepts a message hands it to code that trusts it: the collector's state, the
// CLI's renderers. So each target goes past the decoder: it renders every probe result as JSON
// (fl_render_probe_json) and checks that re-encoding is stable: encode(decode(bytes)) decodes
// again, and encoding that gives the same bytes. A broken invariant aborts, which libFuzzer
// reports as a crash with the input that caused it.

#ifndef FL_FUZZ_UTIL_H
#define FL_FUZZ_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl/json.h"
#include "fl/render.h"
#include "fl/wire.h"

#define FUZZ_CHECK(cond)                                                                         \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(                                                                 \
			    stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                 \
		}                                                                                \
	} while (0)

// A message we encoded ourselves must decode again: the agent's spool and the collector's
// re-sends depend on it.
#define FUZZ_REDECODE(call, why)                                                                   \
	do {                                                                                       \
		fl_wire_reject rj_ = (call);                                                       \
		if (rj_ != FL_WIRE_OK) {                                                           \
			fprintf(stderr, "%s:%d: re-encoded message rejected (%s): %s\n", __FILE__, \
			    __LINE__, fl_wire_reject_name(rj_), why);                              \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

// Renders results[0..n) as a JSON array and checks the text is complete.
static inline void
fuzz_render_results(Fl__ProbeResult *const *results, size_t n)
{
	fl_json j;

	fl_json_init(&j, (n & 1) != 0); // both the compact and the pretty writer
	fl_json_arr_begin(&j);
	for (size_t i = 0; i < n; i++) {
		fl_render_probe_json(&j, results[i]);
	}
	fl_json_arr_end(&j);
	const char *text = fl_json_text(&j);
	FUZZ_CHECK(text != NULL);
	FUZZ_CHECK(text[0] == '[' && text[strlen(text) - 1] == ']');
	fl_json_fini(&j);
}

// Renders a report's results and unmet requirements of its release checks.
static inline void
fuzz_render_report(const Fl__Report *r)
{
	fl_json j;

	fuzz_render_results(r->results, r->n_results);
	fl_json_init(&j, false);
	fl_json_arr_begin(&j);
	for (size_t i = 0; i < r->n_release_checks; i++) {
		for (size_t k = 0; k < r->release_checks[i]->n_unmet; k++) {
			fl_render_unmet_json(&j, r->release_checks[i]->unmet[k]);
		}
	}
	fl_json_arr_end(&j);
	FUZZ_CHECK(fl_json_text(&j) != NULL);
	fl_json_fini(&j);
}

// Packs m into a new nng message (the production encoder); the caller frees it.
static inline nng_msg *
fuzz_encode(const ProtobufCMessage *m)
{
	nng_msg *msg = NULL;

	FUZZ_CHECK(fl_wire_encode(m, &msg) == 0);
	FUZZ_CHECK(nng_msg_len(msg) == protobuf_c_message_get_packed_size(m));
	return msg;
}

// Checks that packing is a fixed point: decoding `first` and encoding it again gives the same
// bytes. `again` is the second encoding.
static inline void
fuzz_same_bytes(nng_msg *first, nng_msg *again)
{
	FUZZ_CHECK(nng_msg_len(first) == nng_msg_len(again));
	FUZZ_CHECK(memcmp(nng_msg_body(first), nng_msg_body(again), nng_msg_len(first)) == 0);
}

#endif // FL_FUZZ_UTIL_H
