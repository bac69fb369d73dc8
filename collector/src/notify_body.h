// notify_body.h - what a notification says: the webhook body and the Alertmanager alert.
//
// Webhook body (README, "Alerts and metrics"; a public contract):
//   {"id", "status": "firing|resolved", "verdict", "summary", "hosts", "targets", "release",
//    "evidence", "since", "ended"}
// id is the finding's identity (notify_track.h), the same on its firing and its resolved;
// since and ended are RFC 3339 (ended null while firing). The event id sent as
// X-Faultline-Event-Id is "<id>-<fired unix ms>-<status>": one per notification, the same on
// every retry, so a receiver de-duplicates by it (delivery is at least once).

#ifndef FL_COLLECTOR_NOTIFY_BODY_H
#define FL_COLLECTOR_NOTIFY_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "faultline.pb-c.h"

// The verdict a notification names: fl_verdict_name, but "verification" for a verification
// alert (its finding has verdict UNKNOWN, notify_track.h).
const char *notify_verdict_label(const Fl__Finding *f);

// The webhook body for finding f (id, status "firing" or "resolved", ended_us 0 while firing).
// Returns a malloc'd string, or NULL when out of memory.
char *notify_webhook_body(
    const char *id, const char *status, const Fl__Finding *f, int64_t ended_us);

// Alertmanager (POST /api/v2/alerts): a one-alert array with labels alertname="Faultline",
// verdict, severity (warning for host findings, critical otherwise), target (the finding's
// targets joined by ", ", when it has any), release (when it names one) and finding (the id),
// so that every re-send of a finding carries the same labels; annotations summary,
// description (hosts and evidence) and since; startsAt = since. A resolved alert has
// endsAt = ended_us; a firing one NOTIFY_AM_ENDS_AT, which the sender replaces with a time
// shortly ahead of each send (notify_am_set_ends_at), so an alert stops by itself in
// Alertmanager if the collector stops re-sending it, however long it waited in the outbox.
#define NOTIFY_AM_ENDS_AT "\"endsAt\":\"@ENDS_AT@\""
char *notify_am_body(const char *id, const char *status, const Fl__Finding *f, int64_t ended_us);

// A copy of body with NOTIFY_AM_ENDS_AT (if present) set to ends_us; NULL when out of memory.
char *notify_am_set_ends_at(const char *body, int64_t ends_us);

// Writes the event id of a notification into buf.
void notify_event_id(const char *id, int64_t fired_us, const char *status, char *buf, size_t len);

#endif // FL_COLLECTOR_NOTIFY_BODY_H
