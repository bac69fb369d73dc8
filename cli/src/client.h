// client.h - one request/response round trip with the collector's control socket.
//
// Each CLI invocation opens a REQ socket, dials ctx->url synchronously (so an absent collector
// is reported at once, not after the timeout), sends one Request and waits up to
// ctx->timeout_ms for the Response. Every failure is reported here, once, as one line on
// stderr that names the URL and suggests the fix; callers only return the exit code.

#ifndef CLI_CLIENT_H
#define CLI_CLIENT_H

#include "faultline.pb-c.h"

#include "cli.h"

// Sends req (its schema_version is set here; the rest is borrowed) and receives the response.
// On success returns CLI_EXIT_OK and *out is a response whose reply is of case `expect` and
// whose error is empty; the caller frees it with fl__response__free_unpacked(*out, NULL).
// Otherwise prints why on stderr, leaves *out untouched and returns CLI_EXIT_ERROR.
int cli_call(
    const cli_ctx *ctx, Fl__Request *req, Fl__Response__ReplyCase expect, Fl__Response **out);

#endif // CLI_CLIENT_H
