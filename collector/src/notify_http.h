// notify_http.h - one bounded HTTP POST to a receiver (libcurl easy interface).
//
// Bounded whatever the receiver does: the whole exchange within timeout_ms (a receiver that
// hangs, or dribbles its answer byte by byte, costs at most that), at most
// NOTIFY_HTTP_MAX_RESPONSE bytes of answer read (a receiver that answers 1 GB is cut off: its
// status line decides), no redirect followed, http and https only. stop, when it becomes
// nonzero, aborts the transfer within about a second (the collector is stopping).

#ifndef FL_COLLECTOR_NOTIFY_HTTP_H
#define FL_COLLECTOR_NOTIFY_HTTP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define NOTIFY_HTTP_MAX_RESPONSE (64 * 1024)

typedef struct notify_http_req {
	const char        *url;
	const char *const *headers; // "Name: value" lines, besides Content-Type
	size_t             n_headers;
	const char        *body; // JSON
	uint32_t           timeout_ms;
	atomic_int        *stop;
} notify_http_req;

// Returns 0 when the receiver answered 2xx, else -1 with a one-line reason in err (the URL's
// host and the status or curl's error; never a header).
int notify_http_post(const notify_http_req *req, char *err, size_t errlen);

#endif // FL_COLLECTOR_NOTIFY_HTTP_H
