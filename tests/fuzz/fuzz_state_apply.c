// fuzz_state_apply.c - the collector's state-apply path: a sequence of reports, as the ingest
// thread applies them, then staleness, last_seen flushes, the verdict and paged status.
//
// The decoder is only the first gate: what it lets through is then combined with the host's
// history (skew, seq window, round length, staleness) and the collector's clock. Input framing,
// repeated until the bytes run out (FUZZ_FRAME_HEADER bytes of header, little-endian):
//
//   u16 len | i32 dt_ms | u8 flags | i64 t | len bytes of a packed Report
//
// The clock advances by dt_ms (either way: clocks step) before the report is applied. The
// report goes through fl_wire_decode_report; flags then overwrite its times with t (bit 0:
// sent_us, bit 1: round_started_us, bit 2: every result's started_us), past the decoder's
// range checks, so the state's own arithmetic is fuzzed at any int64 (UBSan aborts on an
// overflow). Small bounds (4 hosts, 8 probes) make the limit paths reachable.

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "state.h"

#define FUZZ_FRAME_HEADER 15
#define FUZZ_T0           1700000000000000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t
le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		v |= (uint64_t) p[i] << (8 * i);
	}
	return v;
}

static void
set_times(Fl__Report *r, unsigned flags, int64_t t)
{
	if (flags & 1) {
		r->sent_us = t;
	}
	if (flags & 2) {
		r->round_started_us = t;
	}
	for (size_t i = 0; (flags & 4) && i < r->n_results; i++) {
		r->results[i]->started_us = t;
	}
}

// Paged status: every page decodes, and the pages hold every host once.
static void
check_status(const coll_state *s, int64_t now)
{
	char   after[300] = "";
	size_t seen       = 0;
	for (;;) {
		nng_msg      *m;
		Fl__Response *resp;
		Fl__Response  out = FL__RESPONSE__INIT;
		coll_status   st;
		char          why[256];
		FUZZ_CHECK(coll_state_status(s, NULL, after, 1, now, &st) == 0);
		out.schema_version = FL_SCHEMA_VERSION;
		if (seen % 2 == 0) {
			out.reply_case = FL__RESPONSE__REPLY_HOSTS;
			out.hosts      = &st.reply;
		} else {
			out.reply_case = FL__RESPONSE__REPLY_STATUS;
			out.status     = &st.reply;
		}
		FUZZ_CHECK(fl_wire_encode(&out.base, &m) == 0);
		coll_status_fini(&st);
		FUZZ_REDECODE(fl_wire_decode_response(
		                  nng_msg_body(m), nng_msg_len(m), &resp, why, sizeof(why)),
		    why);
		nng_msg_free(m);
		Fl__StatusReply *r = resp->status != NULL ? resp->status : resp->hosts;
		FUZZ_CHECK(r != NULL);
		FUZZ_CHECK(r->n_hosts <= 1); // a 1-byte page holds one host
		seen += r->n_hosts;
		bool more = r->more;
		if (r->n_hosts == 1) {
			FUZZ_CHECK(strlen(r->hosts[0]->host) < sizeof(after));
			snprintf(after, sizeof(after), "%s", r->hosts[0]->host);
			FUZZ_CHECK(r->hosts[0]->n_probes <= s->max_probes);
		}
		fl__response__free_unpacked(resp, NULL);
		if (!more) {
			break;
		}
	}
	FUZZ_CHECK(seen == s->n_hosts);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	coll_state s;
	coll_ops   ops;
	int64_t    now = FUZZ_T0;

	coll_state_init(&s, now);
	coll_ops_init(&ops);
	s.max_hosts  = 4;
	s.max_probes = 8;
	while (size >= FUZZ_FRAME_HEADER) {
		size_t      len   = (size_t) le(data, 2);
		int32_t     dt_ms = (int32_t) (uint32_t) le(data + 2, 4);
		unsigned    flags = data[6];
		int64_t     t     = (int64_t) le(data + 7, 8);
		Fl__Report *r     = NULL;
		char        why[256];

		data += FUZZ_FRAME_HEADER;
		size -= FUZZ_FRAME_HEADER;
		if (len > size) {
			len = size;
		}
		now += (int64_t) dt_ms * 1000; // at most ~25 days a frame: stays a plausible clock
		if (fl_wire_decode_report(data, len, &r, why, sizeof(why)) == FL_WIRE_OK) {
			set_times(r, flags, t);
			coll_state_apply(&s, r, now, &ops); // takes r
		}
		data += len;
		size -= len;
		coll_state_check_stale(&s, now, &ops);
		coll_state_flush_seen(&s, now, COLL_SEEN_WRITE_US, &ops);
		FUZZ_CHECK(s.n_hosts <= s.max_hosts);
		for (size_t i = 0; i < s.n_hosts; i++) {
			FUZZ_CHECK(s.hosts[i]->n_probes <= s.max_probes);
		}
		coll_ops_clear(&ops);
	}
	coll_state_record_verdict(&s, now, &ops);
	Fl__DiagnoseReply *d = coll_state_diagnose(&s, now, NULL);
	if (d != NULL) {
		corr_reply_free(d);
	}
	check_status(&s, now);
	coll_ops_fini(&ops);
	coll_state_fini(&s);
	return 0;
}
