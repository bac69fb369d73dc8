// rejects.h - the senders whose reports the collector refuses, as they claim to be.
//
// A report refused by the decoder (a tab in a probe name, a schema the collector does not
// speak, bytes that are not a report) never reaches the state, so its host would never appear
// in `faultline status`: an agent dropped 100 % of the time looked merely silent. This table
// keeps, per claimed host name (escaped, fl/text.h; "" for bytes that name no host), how many
// reports were refused, the last reason and when, and decides when a log line is due: a
// sender's first refusal, then at most one line per sender per COLL_REJECT_LOG_US, and at most
// COLL_REJECT_LOG_BURST lines per COLL_REJECT_LOG_US in all (a peer inventing a new host name
// per report must not flood the journal); lines not written are counted in the next one.
//
// Bounded: at most COLL_REJECTS_MAX senders; when full, the one refused longest ago is forgotten
// (counted in `forgotten`). Thread-safe: the ingest and auth threads note, the control thread
// reads.

#ifndef COLL_REJECTS_H
#define COLL_REJECTS_H

#include <stdbool.h>
#include <stdint.h>

#include "faultline.pb-c.h"

#define COLL_REJECTS_MAX      64
#define COLL_REJECT_LOG_US    60000000LL // one line per sender per minute
#define COLL_REJECT_LOG_BURST 20         // lines per minute over all senders

typedef struct coll_rejects coll_rejects;

coll_rejects *coll_rejects_new(void);             // NULL when out of memory
void          coll_rejects_free(coll_rejects *t); // accepts NULL

// What a caller needs to write the log line when one is due.
typedef struct coll_reject_note {
	uint64_t count;      // refusals of this sender so far (since it entered the table)
	uint64_t not_logged; // refusals (of any sender) not logged since the last line
} coll_reject_note;

// Records one refused report from host (escaped claimed name, "" when unknown) for reason
// `kind` (fl_wire_reject_name or a signature status) with detail why. Returns true when a log
// line is due, with *note filled. Accepts t == NULL (then always false).
bool coll_rejects_note(coll_rejects *t, const char *host, const char *kind, const char *why,
    int64_t now_us, coll_reject_note *note);

// Notes a refused report (see coll_rejects_note) and, when due, logs one warning from `area`:
// "cannot accept report (KIND, N so far from HOST[; M refused since the last line not
// logged]): WHY", with why
// escaped. host as for coll_rejects_note.
void coll_rejects_refused(
    coll_rejects *t, const char *area, const char *host, const char *kind, const char *why);

// Adds the table to reply->rejected_senders, most recent first (heap copies; release them with
// coll_rejects_status_fini). Out of memory leaves the list shorter.
void coll_rejects_status_add(coll_rejects *t, Fl__StatusReply *reply);
void coll_rejects_status_fini(Fl__StatusReply *reply);

#endif // COLL_REJECTS_H
