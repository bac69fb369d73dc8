// wire.c - see fl/wire.h.

#include "fl/wire.h"

#include <stdlib.h>
#include <string.h>

#include "fl/labels.h"
#include "fl/str.h"
#include "fl/text.h"

const char *
fl_wire_reject_name(fl_wire_reject r)
{
	switch (r) {
	case FL_WIRE_OK:
		return "ok";
	case FL_WIRE_OVERSIZE:
		return "oversize";
	case FL_WIRE_UNDECODABLE:
		return "undecodable";
	case FL_WIRE_SCHEMA:
		return "schema";
	case FL_WIRE_INVALID:
		return "invalid";
	}
	return "unknown";
}

// A wire string is acceptable when it is short and has no control characters: these strings
// end up in terminals, logs and JSON.
static int
string_ok(const char *s, size_t max)
{
	size_t n = 0;
	if (s == NULL) {
		return 1;
	}
	for (const unsigned char *p = (const unsigned char *) s; *p; p++, n++) {
		if (n >= max || *p < 0x20 || *p == 0x7f) {
			return 0;
		}
	}
	return 1;
}

static fl_wire_reject
check_unmet(const Fl__UnmetRequirement *u, char *why, size_t whylen)
{
	if (!string_ok(u->database, FL_WIRE_MAX_STRING) ||
	    !string_ok(u->object, FL_WIRE_MAX_STRING) ||
	    !string_ok(u->privilege, FL_WIRE_MAX_STRING) ||
	    !string_ok(u->role, FL_WIRE_MAX_STRING)) {
		return fl_err_set(
		    why, whylen, FL_WIRE_INVALID, "unmet requirement has a bad string");
	}
	return FL_WIRE_OK;
}

static int
time_ok(int64_t us)
{
	return us >= 0 && us < FL_WIRE_MAX_TIME_US;
}

static fl_wire_reject
check_result(const Fl__ProbeResult *p, size_t i, char *why, size_t whylen)
{
	char        problem[96];
	const char *bad;
	if (p->name == NULL || p->name[0] == '\0' || strlen(p->name) >= FL_WIRE_MAX_STRING) {
		return fl_err_set(why, whylen, FL_WIRE_INVALID, "result %zu has no valid name", i);
	}
	if (!time_ok(p->started_us)) {
		return fl_err_set(why, whylen, FL_WIRE_INVALID, "result %zu started at %lld us", i,
		    (long long) p->started_us);
	}
	if ((bad = fl_text_problem(p->name, problem, sizeof(problem))) != NULL) {
		return fl_err_set(
		    why, whylen, FL_WIRE_INVALID, "result %zu: probe name contains %s", i, bad);
	}
	if (!string_ok(p->target, FL_WIRE_MAX_STRING) || !string_ok(p->role, FL_WIRE_MAX_STRING) ||
	    !string_ok(p->expectations_digest, FL_WIRE_MAX_STRING) ||
	    !string_ok(p->sqlstate, FL_WIRE_MAX_STRING) ||
	    !string_ok(p->read_only_reason, FL_WIRE_MAX_STRING) ||
	    !string_ok(p->read_only_needs, FL_WIRE_MAX_STRING)) {
		return fl_err_set(why, whylen, FL_WIRE_INVALID, "result %zu has a bad string", i);
	}
	if (!string_ok(p->detail, FL_WIRE_MAX_DETAIL)) {
		return fl_err_set(why, whylen, FL_WIRE_INVALID, "result %zu detail too long", i);
	}
	if (p->n_unmet > FL_WIRE_MAX_UNMET) {
		return fl_err_set(why, whylen, FL_WIRE_INVALID,
		    "result %zu has %zu unmet requirements", i, p->n_unmet);
	}
	if (!string_ok(p->resolved_name, FL_WIRE_MAX_STRING) ||
	    p->n_addresses > FL_WIRE_MAX_ADDRS) {
		return fl_err_set(why, whylen, FL_WIRE_INVALID,
		    "result %zu has a bad name or %zu addresses", i, p->n_addresses);
	}
	for (size_t k = 0; k < p->n_addresses; k++) {
		if (p->addresses[k] == NULL || !string_ok(p->addresses[k], FL_WIRE_MAX_ADDR)) {
			return fl_err_set(
			    why, whylen, FL_WIRE_INVALID, "result %zu has a bad address", i);
		}
	}
	for (size_t k = 0; k < p->n_unmet; k++) {
		fl_wire_reject r = check_unmet(p->unmet[k], why, whylen);
		if (r != FL_WIRE_OK) {
			return r;
		}
	}
	return FL_WIRE_OK;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

// Returns a name that two results share, or NULL. Sorted rather than compared pairwise: 256
// results of long names with a common prefix would otherwise cost millions of byte compares.
static const char *
duplicate_name(const Fl__Report *r)
{
	const char *names[FL_WIRE_MAX_RESULTS];
	for (size_t i = 0; i < r->n_results; i++) {
		names[i] = r->results[i]->name;
	}
	qsort(names, r->n_results, sizeof(names[0]), cmp_name);
	for (size_t i = 1; i < r->n_results; i++) {
		if (strcmp(names[i - 1], names[i]) == 0) {
			return names[i];
		}
	}
	return NULL;
}

fl_wire_reject
fl_wire_check_report(const Fl__Report *r, char *why, size_t whylen)
{
	if (r->schema_version != FL_SCHEMA_VERSION) {
		return fl_err_set(why, whylen, FL_WIRE_SCHEMA,
		    "schema version %u, this collector speaks %d", r->schema_version,
		    FL_SCHEMA_VERSION);
	}
	char        problem[96];
	const char *bad;
	if (r->host == NULL || r->host[0] == '\0' || strlen(r->host) >= 256) {
		return fl_err_set(why, whylen, FL_WIRE_INVALID, "report has no valid host name");
	}
	if ((bad = fl_text_problem(r->host, problem, sizeof(problem))) != NULL) {
		return fl_err_set(why, whylen, FL_WIRE_INVALID, "host name contains %s", bad);
	}
	if (!string_ok(r->release, 256) || !string_ok(r->agent_version, 64) ||
	    !string_ok(r->expectations_file, FL_WIRE_MAX_STRING) ||
	    !string_ok(r->expectations_digest, FL_WIRE_MAX_STRING) ||
	    !string_ok(r->expectations_error, FL_WIRE_MAX_STRING)) {
		return fl_err_set(
		    why, whylen, FL_WIRE_INVALID, "report from %s has a bad string", r->host);
	}
	if (r->interval_ms == 0 || r->interval_ms > 86400000u) {
		return fl_err_set(why, whylen, FL_WIRE_INVALID, "report from %s has interval %u ms",
		    r->host, r->interval_ms);
	}
	if (r->n_results > FL_WIRE_MAX_RESULTS) {
		return fl_err_set(why, whylen, FL_WIRE_INVALID,
		    "report from %s has %zu results (max %d)", r->host, r->n_results,
		    FL_WIRE_MAX_RESULTS);
	}
	if (!time_ok(r->sent_us) || !time_ok(r->round_started_us)) {
		return fl_err_set(why, whylen, FL_WIRE_INVALID,
		    "report from %s has times out of range (sent %lld, round %lld us)", r->host,
		    (long long) r->sent_us, (long long) r->round_started_us);
	}
	for (size_t i = 0; i < r->n_results; i++) {
		fl_wire_reject rj = check_result(r->results[i], i, why, whylen);
		if (rj != FL_WIRE_OK) {
			return rj;
		}
	}
	if (r->n_labels > 0) {
		char lwhy[160];
		if (fl_labels_check(
		        (const char *const *) r->labels, r->n_labels, lwhy, sizeof(lwhy)) != 0) {
			return fl_err_set(
			    why, whylen, FL_WIRE_INVALID, "report from %s: %s", r->host, lwhy);
		}
	}
	const char *dup = duplicate_name(r);
	if (dup != NULL) {
		return fl_err_set(why, whylen, FL_WIRE_INVALID,
		    "report from %s has two results named '%s'", r->host, dup);
	}
	for (size_t i = 0; i < r->n_release_checks; i++) {
		const Fl__ReleaseCheck *c = r->release_checks[i];
		if (!string_ok(c->release, 256) || c->n_unmet > FL_WIRE_MAX_UNMET ||
		    c->n_errors > FL_WIRE_MAX_RESULTS) {
			return fl_err_set(
			    why, whylen, FL_WIRE_INVALID, "release check %zu is invalid", i);
		}
		for (size_t k = 0; k < c->n_unmet; k++) {
			fl_wire_reject rj = check_unmet(c->unmet[k], why, whylen);
			if (rj != FL_WIRE_OK) {
				return rj;
			}
		}
		for (size_t k = 0; k < c->n_errors; k++) {
			if (!string_ok(c->errors[k], FL_WIRE_MAX_STRING)) {
				return fl_err_set(
				    why, whylen, FL_WIRE_INVALID, "release check error too long");
			}
		}
	}
	return FL_WIRE_OK;
}

// protobuf-c 1.4.1 accepts field number 0 when the tag is an overlong varint (80 80 00), keeps it
// as an unknown field and packs it back as the single byte 00, which its own unpack refuses: a
// message that decodes, but whose re-encoding (a survey reply forwarded to the CLI, a spooled
// report) no longer does. Field 0 is not valid protobuf; such a message is undecodable.
// Found by tests/fuzz (fl_wire_decode_request, fl_wire_decode_survey_reply).
static int
has_field_zero(const ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor *d    = m->descriptor;
	const char                       *base = (const char *) m;

	if (depth > 16) { // our schema nests 4 deep; deeper is not one of our messages
		return 1;
	}
	for (unsigned i = 0; i < m->n_unknown_fields; i++) {
		if (m->unknown_fields[i].tag == 0) {
			return 1;
		}
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_MESSAGE) {
			continue;
		}
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *) (base + f->quantifier_offset);
			ProtobufCMessage *const *v =
			    *(ProtobufCMessage *const *const *) (base + f->offset);
			for (size_t k = 0; k < n; k++) {
				if (has_field_zero(v[k], depth + 1)) {
					return 1;
				}
			}
			continue;
		}
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0 &&
		    *(const uint32_t *) (base + f->quantifier_offset) != f->id) {
			continue; // another member of the oneof is set; this pointer is not ours
		}
		const ProtobufCMessage *sub = *(ProtobufCMessage *const *) (base + f->offset);
		if (sub != NULL && has_field_zero(sub, depth + 1)) {
			return 1;
		}
	}
	return 0;
}

// protobuf_c_message_unpack() plus the check above; NULL when either fails.
static ProtobufCMessage *
unpack(const ProtobufCMessageDescriptor *d, size_t len, const void *buf)
{
	ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, len, buf);
	if (m != NULL && has_field_zero(m, 0)) {
		protobuf_c_message_free_unpacked(m, NULL);
		return NULL;
	}
	return m;
}

// Replaces invalid UTF-8 in every string of m (recursively) by U+FFFD and returns how many
// strings it repaired. A repaired string may grow (one byte becomes three, up to 255 bytes), so
// it can outgrow a limit smaller than that (agent_version's 64): a repaired message is checked
// again. Names were checked to be text already; this is for free text quoted from elsewhere (a
// database's message in Latin-1).
static size_t
repair_strings(ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor *d        = m->descriptor;
	char                             *base     = (char *) m;
	size_t                            repaired = 0;

	if (depth > 16) {
		return 0;
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE) {
			continue;
		}
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0 &&
		    *(const uint32_t *) (base + f->quantifier_offset) != f->id) {
			continue;
		}
		bool   rep = f->label == PROTOBUF_C_LABEL_REPEATED;
		size_t n   = rep ? *(const size_t *) (base + f->quantifier_offset) : 1;
		void **v   = rep ? *(void ***) (base + f->offset) : (void **) (base + f->offset);
		for (size_t k = 0; k < n; k++) {
			if (v[k] == NULL) {
				continue;
			}
			if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
				repaired += repair_strings(v[k], depth + 1);
			} else if (f->type == PROTOBUF_C_TYPE_STRING && !fl_utf8_valid(v[k])) {
				repaired++;
				size_t len  = strlen(v[k]);
				size_t cap  = 3 * len + 1 < 256 ? 3 * len + 1 : 256;
				cap         = cap > len + 1 ? cap : len + 1;
				char *fixed = malloc(cap);
				if (fixed != NULL) {
					fl_utf8_repair(fixed, cap, v[k]);
					free(v[k]);
					v[k] = fixed;
				} else {
					*(char *) v[k] =
					    '\0'; // out of memory: drop it rather than pass it
				}
			}
		}
	}
	return repaired;
}

// Checks a decoded report, repairs its strings, and checks it again when a repair changed one:
// what is accepted re-encodes to bytes that are accepted (the agent's spool re-sends them).
static fl_wire_reject
check_and_repair_report(Fl__Report *r, char *why, size_t whylen)
{
	fl_wire_reject rj = fl_wire_check_report(r, why, whylen);
	if (rj == FL_WIRE_OK && repair_strings(&r->base, 0) > 0) {
		rj = fl_wire_check_report(r, why, whylen);
	}
	return rj;
}

void
fl_wire_report_claimed_host(const void *buf, size_t len, char *out, size_t outlen)
{
	Fl__Report *r;

	out[0] = '\0';
	if (len > FL_WIRE_MAX_MSG ||
	    (r = (Fl__Report *) protobuf_c_message_unpack(
	         &fl__report__descriptor, NULL, len, buf)) == NULL) {
		return;
	}
	if (r->host != NULL) {
		fl_text_escape(out, outlen, r->host);
	}
	fl__report__free_unpacked(r, NULL);
}

// protobuf-c's unpack is bounded by len, but its allocations are not: cap len first.
#define DECODE_PREAMBLE(what)                                                                      \
	if (len > FL_WIRE_MAX_MSG) {                                                               \
		return fl_err_set(why, whylen, FL_WIRE_OVERSIZE, "%s of %zu bytes (max %d)", what, \
		    len, FL_WIRE_MAX_MSG);                                                         \
	}

fl_wire_reject
fl_wire_decode_report(const void *buf, size_t len, Fl__Report **out, char *why, size_t whylen)
{
	Fl__Report    *r;
	fl_wire_reject rj;

	DECODE_PREAMBLE("report");
	if ((r = (Fl__Report *) unpack(&fl__report__descriptor, len, buf)) == NULL) {
		return fl_err_set(
		    why, whylen, FL_WIRE_UNDECODABLE, "%zu bytes are not a report", len);
	}
	if ((rj = check_and_repair_report(r, why, whylen)) != FL_WIRE_OK) {
		fl__report__free_unpacked(r, NULL);
		return rj;
	}
	*out = r;
	return FL_WIRE_OK;
}

// The label filter a query carries, if any: bounded and well-formed like a host's.
static bool
request_labels_bad(const Fl__Request *r, char *why, size_t whylen)
{
	const ProtobufCMessage *q = NULL;
	char *const            *v = NULL;
	size_t                  n = 0;
	char                    lwhy[160];

	switch (r->query_case) {
	case FL__REQUEST__QUERY_STATUS:
	case FL__REQUEST__QUERY_HOSTS: {
		const Fl__StatusQuery *s =
		    r->query_case == FL__REQUEST__QUERY_STATUS ? r->status : r->hosts;
		q = s ? &s->base : NULL;
		v = s ? s->labels : NULL;
		n = s ? s->n_labels : 0;
		break;
	}
	case FL__REQUEST__QUERY_HISTORY:
		q = r->history ? &r->history->base : NULL;
		v = r->history ? r->history->labels : NULL;
		n = r->history ? r->history->n_labels : 0;
		break;
	case FL__REQUEST__QUERY_DIAGNOSE:
		q = r->diagnose ? &r->diagnose->base : NULL;
		v = r->diagnose ? r->diagnose->labels : NULL;
		n = r->diagnose ? r->diagnose->n_labels : 0;
		break;
	case FL__REQUEST__QUERY_VERIFY:
		q = r->verify ? &r->verify->base : NULL;
		v = r->verify ? r->verify->labels : NULL;
		n = r->verify ? r->verify->n_labels : 0;
		break;
	default:
		break;
	}
	if (q == NULL || n == 0) {
		return false;
	}
	if (fl_labels_check((const char *const *) v, n, lwhy, sizeof(lwhy)) != 0) {
		fl_err_set(why, whylen, FL_WIRE_INVALID, "label filter: %s", lwhy);
		return true;
	}
	return false;
}

fl_wire_reject
fl_wire_decode_request(const void *buf, size_t len, Fl__Request **out, char *why, size_t whylen)
{
	Fl__Request *r;

	DECODE_PREAMBLE("request");
	if ((r = (Fl__Request *) unpack(&fl__request__descriptor, len, buf)) == NULL) {
		return fl_err_set(
		    why, whylen, FL_WIRE_UNDECODABLE, "%zu bytes are not a request", len);
	}
	if (r->schema_version != FL_SCHEMA_VERSION) {
		unsigned v = r->schema_version;
		fl__request__free_unpacked(r, NULL);
		return fl_err_set(why, whylen, FL_WIRE_SCHEMA, "request schema version %u", v);
	}
	if (request_labels_bad(r, why, whylen)) {
		fl__request__free_unpacked(r, NULL);
		return FL_WIRE_INVALID;
	}
	*out = r;
	return FL_WIRE_OK;
}

fl_wire_reject
fl_wire_decode_response(const void *buf, size_t len, Fl__Response **out, char *why, size_t whylen)
{
	Fl__Response *r;

	// Responses may be larger than reports (a status of thousands of hosts); the CLI trusts
	// its collector more than the collector trusts agents, but still bounds the size.
	if (len > 64u * FL_WIRE_MAX_MSG) {
		return fl_err_set(why, whylen, FL_WIRE_OVERSIZE, "response of %zu bytes", len);
	}
	if ((r = (Fl__Response *) unpack(&fl__response__descriptor, len, buf)) == NULL) {
		return fl_err_set(
		    why, whylen, FL_WIRE_UNDECODABLE, "%zu bytes are not a response", len);
	}
	if (r->schema_version != FL_SCHEMA_VERSION) {
		unsigned v = r->schema_version;
		fl__response__free_unpacked(r, NULL);
		return fl_err_set(why, whylen, FL_WIRE_SCHEMA, "response schema version %u", v);
	}
	*out = r;
	return FL_WIRE_OK;
}

fl_wire_reject
fl_wire_decode_survey_request(
    const void *buf, size_t len, Fl__SurveyRequest **out, char *why, size_t whylen)
{
	Fl__SurveyRequest *r;

	DECODE_PREAMBLE("survey request");
	if ((r = (Fl__SurveyRequest *) unpack(&fl__survey_request__descriptor, len, buf)) == NULL) {
		return fl_err_set(
		    why, whylen, FL_WIRE_UNDECODABLE, "%zu bytes are not a survey", len);
	}
	if (r->schema_version != FL_SCHEMA_VERSION || r->n_rollback_to > 16) {
		fl__survey_request__free_unpacked(r, NULL);
		return fl_err_set(why, whylen, FL_WIRE_SCHEMA, "survey of another schema version");
	}
	for (size_t i = 0; i < r->n_rollback_to; i++) {
		if (!string_ok(r->rollback_to[i], 256)) {
			fl__survey_request__free_unpacked(r, NULL);
			return fl_err_set(
			    why, whylen, FL_WIRE_INVALID, "survey names a bad release");
		}
	}
	*out = r;
	return FL_WIRE_OK;
}

fl_wire_reject
fl_wire_decode_survey_reply(
    const void *buf, size_t len, Fl__SurveyReply **out, char *why, size_t whylen)
{
	Fl__SurveyReply *r;
	fl_wire_reject   rj;

	DECODE_PREAMBLE("survey reply");
	if ((r = (Fl__SurveyReply *) unpack(&fl__survey_reply__descriptor, len, buf)) == NULL) {
		return fl_err_set(
		    why, whylen, FL_WIRE_UNDECODABLE, "%zu bytes are not a survey reply", len);
	}
	if (r->schema_version != FL_SCHEMA_VERSION || r->report == NULL) {
		fl__survey_reply__free_unpacked(r, NULL);
		return fl_err_set(
		    why, whylen, FL_WIRE_SCHEMA, "survey reply of another schema version");
	}
	if ((rj = check_and_repair_report(r->report, why, whylen)) != FL_WIRE_OK) {
		fl__survey_reply__free_unpacked(r, NULL);
		return rj;
	}
	*out = r;
	return FL_WIRE_OK;
}

int
fl_wire_encode(const ProtobufCMessage *m, nng_msg **out)
{
	nng_msg *msg;
	size_t   n = protobuf_c_message_get_packed_size(m);
	int      rv;

	if ((rv = nng_msg_alloc(&msg, n)) != 0) {
		return rv;
	}
	protobuf_c_message_pack(m, nng_msg_body(msg));
	*out = msg;
	return 0;
}

int
fl_wire_socket_limits(nng_socket s)
{
	return nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, FL_WIRE_MAX_MSG);
}
