// client.h - one request/response round trip with the collector's control socket.
//
// Each CLI invocation opens a REQ socket, dials ctx->url synchronously (so an absent collector
// is reported at once, not after the timeout), sends one Request and waits up to
// ctx->timeout_ms for the Response. Every failure is reported here, once, as one line on
// stderr (or ctx->err when set) that names the URL and suggests the fix; callers only return
// the exit code.

#ifndef CLI_CLIENT_H
#define CLI_CLIENT_H

#include "faultline.pb-c.h"
#include "fl/wire.h"

#include "cli.h"

// Responses may be much larger than reports (the status of thousands of hosts):
// fl_wire_decode_response accepts up to 64 times FL_WIRE_MAX_MSG.
#define CLI_MAX_RESPONSE (64u * FL_WIRE_MAX_MSG)
// Status is asked for in pages of this many bytes (StatusQuery.page_bytes): a page always
// fits CLI_MAX_RESPONSE with room to spare, whatever the collector holds.
#define CLI_STATUS_PAGE_BYTES (8u * FL_WIRE_MAX_MSG)

// Sends req (its schema_version and max_reply_bytes are set here; the rest is borrowed) and
// receives the response.
// Several collectors (ctx->url a comma-separated list, fl/urls.h): each is asked in turn,
// starting with the one that answered last, until one answers; connecting to each is bounded
// by min(ctx->timeout_ms, CLI_CONNECT_TIMEOUT_MS), so a dead address costs no more than that.
// One that cannot be reached, does not answer in time, or answers Response.not_active (a
// standby asked for what needs the active collector) is passed over; the first other answer is
// the answer, an error included. When none answers, what each said is printed, one line each.
// A request that reached a collector which then did not answer in time is sent to the next:
// a write (mute, forget) may then have been applied by the first too.
// On success returns CLI_EXIT_OK and *out is a response whose reply is of case `expect`, present
// (never NULL), and whose error is empty; the caller frees it with
// fl__response__free_unpacked(*out, NULL). Otherwise prints why on stderr, leaves *out untouched
// and returns CLI_EXIT_ERROR.
int cli_call(
    const cli_ctx *ctx, Fl__Request *req, Fl__Response__ReplyCase expect, Fl__Response **out);

// cli_call for a status or hosts request (req->status or req->hosts set): asks page by page
// (CLI_STATUS_PAGE_BYTES) and returns one response holding every host, as cli_call does.
int cli_call_status(
    const cli_ctx *ctx, Fl__Request *req, Fl__Response__ReplyCase expect, Fl__Response **out);

#endif // CLI_CLIENT_H
