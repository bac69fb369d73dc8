// wire.h - encoding, decoding and validation of Faultline's protobuf messages.
//
// Every byte that arrives from a socket goes through fl_wire_decode_*: it enforces the size
// limits below, the schema version, and the shape of the message (string lengths, counts,
// enum ranges). A message that fails any check is rejected as a whole, with a reason the caller
// counts and logs; it is never partially applied.
//
// Ownership: a successful decode returns a message the caller frees with the matching
// fl__*__free_unpacked(msg, NULL). Encoders borrow the message and return a new nng_msg that
// the caller owns (and hands to nng_sendmsg, which takes it on success).

#ifndef FL_WIRE_H
#define FL_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "faultline.pb-c.h"
#include "fl/limits.h"

#define FL_SCHEMA_VERSION FL__SCHEMA_VERSION__SCHEMA_VERSION_CURRENT

// The limits on what a peer may send (FL_WIRE_MAX_*) are in fl/limits.h.

// Why a message was rejected; the collector keeps one counter per reason.
typedef enum fl_wire_reject {
	FL_WIRE_OK = 0,
	FL_WIRE_OVERSIZE,    // larger than FL_WIRE_MAX_MSG
	FL_WIRE_UNDECODABLE, // not a valid protobuf of the expected type
	FL_WIRE_SCHEMA,      // schema_version this build does not speak
	FL_WIRE_INVALID,     // decodes, but breaks a limit or a required-field rule
} fl_wire_reject;

const char *fl_wire_reject_name(fl_wire_reject r);

// Decoders: on FL_WIRE_OK, *out is the message; otherwise *out is untouched and why (if not
// NULL, at least 128 bytes) says what was wrong.
fl_wire_reject fl_wire_decode_report(
    const void *buf, size_t len, Fl__Report **out, char *why, size_t whylen);
fl_wire_reject fl_wire_decode_request(
    const void *buf, size_t len, Fl__Request **out, char *why, size_t whylen);
fl_wire_reject fl_wire_decode_response(
    const void *buf, size_t len, Fl__Response **out, char *why, size_t whylen);
fl_wire_reject fl_wire_decode_survey_request(
    const void *buf, size_t len, Fl__SurveyRequest **out, char *why, size_t whylen);
fl_wire_reject fl_wire_decode_survey_reply(
    const void *buf, size_t len, Fl__SurveyReply **out, char *why, size_t whylen);

// The host a report claims, to name the sender of a refused report: its host field escaped for
// logs and terminals (fl/text.h), truncated to outlen; "" when the bytes do not unpack.
void fl_wire_report_claimed_host(const void *buf, size_t len, char *out, size_t outlen);

// Validates a report the way the decoder does (used by the decoders and by tests): besides the
// limits above, every result has a distinct name (the agent refuses duplicates in its config;
// two results named alike would overwrite each other in the collector's state) and the times
// are in range (FL_WIRE_MAX_TIME_US). Host and probe names must be printable UTF-8
// (fl_text_problem); other strings must be free of C0 controls. A report that passes has every
// invalid UTF-8 sequence in its strings replaced by U+FFFD by the decoders (growing to at most
// 255 bytes, or within the string's own length).
fl_wire_reject fl_wire_check_report(const Fl__Report *r, char *why, size_t whylen);

// Packs any protobuf-c message into a new nng message. Returns 0 or an NNG_E* error.
int fl_wire_encode(const ProtobufCMessage *m, nng_msg **out);

// Sets the limits every Faultline socket uses (receive size cap).
int fl_wire_socket_limits(nng_socket s);

#endif // FL_WIRE_H
