// notify_track.h - which findings to notify, and when: identity and flap control.
//
// Pure logic, no I/O and no clock reads (times are passed in), so unit tests drive it.
//
// One alert per finding of the diagnosis (not per failing probe or host). A finding's identity
// (notify_finding_id) is derived from its verdict and what it is about, and stays the same while
// it lasts even when its summary, evidence or hosts change:
//   - verdict + its targets (sorted) when it names targets (a database, a name, an app URL);
//   - else verdict + release when it names a release (a CODE finding about a release);
//   - else verdict + its hosts (sorted) (a silent host).
// So "SELECT revoked on db X for 1 host" spreading to 2 hosts is the same alert.
//
// Flap control. A finding first seen at t is notified as firing once it is still present at
// t + for (a fault shorter than `for` notifies nothing). A firing finding absent from the
// diagnosis is resolved once it has stayed absent for resolve_after rounds (round_us: the
// longest reporting interval of the fleet, passed in with each diagnosis); if it comes back
// before, nothing is sent. A muted finding (notify_tracker_update's is_muted) is never notified
// as firing while muted; one already firing still gets its resolved.
//
// Bounded: at most max entries (findings beyond it are counted in untracked and not notified).
//
// Verification alerts (notify_tracker_verification) are entries too, told apart by their
// finding's verdict, VERDICT_UNKNOWN (which no diagnosis finding is tracked with): they are
// raised and resolved by verification outcomes only, never by the diagnosis, and `for` does
// not apply. Their identity is that of a finding without targets: verdict + release.

#ifndef FL_COLLECTOR_NOTIFY_TRACK_H
#define FL_COLLECTOR_NOTIFY_TRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "faultline.pb-c.h"

#define NOTIFY_ID_LEN 17 // 16 hex digits and the NUL

typedef enum notify_status {
	NOTIFY_FIRING,
	NOTIFY_RESOLVED,
} notify_status;

typedef struct notify_entry {
	char         id[NOTIFY_ID_LEN];
	Fl__Finding *f;        // the latest state of the finding (owned, protobuf-c unpacked)
	bool         firing;   // notified as firing (and not yet resolved)
	bool         muted;    // muted at the last update
	int64_t      first_us; // first seen (collector clock)
	int64_t      fired_us; // when notified as firing; 0 while pending
	int64_t      clear_us; // first update it was absent from; 0 while present
	uint64_t     seen_gen; // the update that last saw it
} notify_entry;

typedef struct notify_tracker {
	notify_entry *v;
	size_t        n, cap;
	size_t        max;           // entries at most
	int64_t       for_us;        // [notify] for
	uint32_t      resolve_after; // [notify] resolve_after, in rounds
	uint64_t      gen;
	uint64_t      untracked; // findings not tracked: max entries reached
} notify_tracker;

// Called for each notification decided; returns 0 when it was recorded (the outbox), nonzero
// to leave the entry as it was (the same event is decided again at the next update).
typedef int (*notify_emit_fn)(void *arg, notify_status st, const notify_entry *e, int64_t at_us);

// Whether a finding is muted now (NULL: nothing is).
typedef bool (*notify_muted_fn)(void *arg, const Fl__Finding *f, int64_t now_us);

void notify_tracker_init(notify_tracker *t, int64_t for_us, uint32_t resolve_after, size_t max);
void notify_tracker_fini(notify_tracker *t);

// Writes the identity of f (see above) as 16 hex digits into id.
void notify_finding_id(const Fl__Finding *f, char id[NOTIFY_ID_LEN]);

// Takes in a diagnosis r (borrowed; NULL: the same findings as the last one, only time moved)
// made at now_us with the fleet's round length round_us (>= 1 s is assumed when 0), then
// emits whatever became due, in order: firing for findings held `for`, resolved for those
// clear for resolve_after rounds. Only findings whose verdict is code, database, network or
// host are tracked. Returns -1 when out of memory (the update is partial; the next one
// catches up), else 0.
int notify_tracker_update(notify_tracker *t, const Fl__DiagnoseReply *r, int64_t round_us,
    int64_t now_us, notify_muted_fn is_muted, void *muted_arg, notify_emit_fn emit, void *emit_arg);

// A post-release verification's outcome for release f->release (f: verdict UNKNOWN, no
// targets; taken). failed and automatic: raises its alert (firing) unless it is firing already
// (a verification failing again, or a pipeline's run, is not notified twice). failed and not
// automatic (asked by `faultline verify`): nothing, the pipeline reports it. passed: resolves
// the release's alert (at now_us); a passed full check (every host on the release) resolves
// every verification alert (the fleet moved to a verified release). unverified: nothing.
// Returns 0, or -1 when out of memory or at max.
typedef enum notify_verif_result {
	NOTIFY_VERIF_FAILED,
	NOTIFY_VERIF_PASSED,
	NOTIFY_VERIF_UNVERIFIED,
} notify_verif_result;
int notify_tracker_verification(notify_tracker *t, Fl__Finding *f, notify_verif_result result,
    bool automatic, bool full, int64_t now_us, notify_emit_fn emit, void *emit_arg);

// Whether e is a verification alert.
bool notify_entry_is_verification(const notify_entry *e);

// Restores a finding that was notified as firing before a restart (takes f). It then resolves
// like any firing finding once absent from the diagnosis. Returns 0, or -1 (f freed) when out
// of memory or at max.
int notify_tracker_restore(notify_tracker *t, const char *id, Fl__Finding *f, int64_t fired_us);

#define NOTIFY_RETRY_FIRST_MS 1000 // the first retry's wait; doubled per failed try

// The wait after a delivery's failed try number attempts+1 (attempts: failed tries before it):
// NOTIFY_RETRY_FIRST_MS doubling per failed try, capped at cap_ms. In microseconds.
int64_t notify_backoff_us(uint32_t attempts, uint32_t cap_ms);

// A deep copy of f (NULL when out of memory), freed with fl__finding__free_unpacked.
Fl__Finding *notify_finding_copy(const Fl__Finding *f);

#endif // FL_COLLECTOR_NOTIFY_TRACK_H
