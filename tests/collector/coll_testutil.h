// coll_testutil.h - helpers shared by the collector tests and tools: build reports, push them
// over real nng, query the control socket.

#ifndef FL_TESTS_COLL_TESTUTIL_H
#define FL_TESTS_COLL_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "faultline.pb-c.h"

typedef struct tu_probe {
	const char      *name;
	Fl__Status       status;
	Fl__FailureClass failure;
	uint32_t         duration_us;
} tu_probe;

// A probe's target given by name, and what the name resolved to (sorted, unique).
typedef struct tu_name {
	const char        *target;
	const char        *resolved_name;
	const char *const *addresses;
	size_t             n_addresses;
} tu_name;

typedef struct tu_rep {
	const char     *host;
	const char     *release; // NULL: "r1"
	uint64_t        boot_id;
	uint64_t        seq;
	int64_t         sent_us;          // 0: leave unset
	int64_t         round_started_us; // 0: leave unset
	bool            replayed;
	bool            seq_spans_starts; // the agent numbers rounds across its starts
	uint32_t        interval_ms;      // 0: 1000
	uint32_t        schema;           // 0: current
	size_t          n;
	const tu_probe *probes;
	const tu_name  *names;    // NULL (targets on loopback), or one per probe
	size_t          n_labels; // "key=value" labels of the host
	const char     *labels[16];
} tu_rep;

// Packs a report described by d into a new malloc'd buffer (caller frees); *len its size.
uint8_t *tu_pack(const tu_rep *d, size_t *len);

// The same report as the decoder would return it (free with fl__report__free_unpacked).
Fl__Report *tu_make(const tu_rep *d);

// Opens a PUSH socket dialed to url (waits for the connection). 0 or an NNG_E* error.
int tu_push_open(const char *url, nng_socket *out);
int tu_push(nng_socket s, const void *buf, size_t len);
// Sends d's next round: d->seq one up, packed and pushed. 0, or an nng error.
int tu_push_next(nng_socket s, tu_rep *d);

// Sends req over a fresh REQ socket to url and returns the decoded response. 0 or NNG_E*.
int tu_query(const char *url, const Fl__Request *req, Fl__Response **out);

// A status query; copies the stats out. 0 or NNG_E*; *nhosts the host count.
int tu_stats(const char *url, Fl__CollectorStats *stats, size_t *nhosts);

// Polls tu_stats until stats.reports_received >= n or timeout_ms passes. 0 when reached.
int tu_wait_received(const char *url, uint64_t n, int timeout_ms, Fl__CollectorStats *stats);

#endif // FL_TESTS_COLL_TESTUTIL_H
