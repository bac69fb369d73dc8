// notify_mute.h - muting notifications during planned work (`faultline mute`, `unmute`).
//
// A mute names a host or a target (as `diagnose --json` lists a finding's targets), a reason
// and an end. It covers a finding when the finding has hosts and every one of them is muted by
// a host mute, or when it has targets and every one of them is muted by a target mute: so
// planned work on app1 does not hide a fault that also hits app2. Covered findings are still
// diagnosed (`diagnose` shows them with the mute's id) but not notified (notify_track.h).
// Mutes persist in the state database (notify_mutes, sql.h: SQLite or PostgreSQL) and expire by
// themselves; at most
// COLL_MUTES_MAX are active (another is refused with a clear error), with bounded strings.
// Thread-safe: one mutex; the control thread adds and removes, the notifier and diagnose read.

#ifndef FL_COLLECTOR_NOTIFY_MUTE_H
#define FL_COLLECTOR_NOTIFY_MUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "faultline.pb-c.h"
#include "sql.h"

#define COLL_MUTES_MAX       256
#define COLL_MUTE_NAME_MAX   256          // a host or a target, bytes
#define COLL_MUTE_REASON_MAX 256          // a reason, bytes
#define COLL_MUTE_FOR_MAX_S  (30 * 86400) // the longest mute: 30 days

typedef struct coll_mute {
	uint64_t id;
	char     host[COLL_MUTE_NAME_MAX];
	char     target[COLL_MUTE_NAME_MAX];
	char     reason[COLL_MUTE_REASON_MAX];
	int64_t  created_us;
	int64_t  until_us;
} coll_mute;

typedef struct coll_mutes coll_mutes;

// Opens the mutes of the state database o names (its own connection; the "notify" migrations)
// and loads those not yet expired (reading only). Returns 0, or -1 with err.
int coll_mutes_open(
    const fl_sql_opts *o, int64_t now_us, coll_mutes **out, char *err, size_t errlen);
void coll_mutes_close(coll_mutes *m); // accepts NULL

// Reads the active mutes again from the database (a standby following the active's mutes, or
// one that just became active). Returns 0 or a negative sql.h code (the list then stays as
// it was).
int coll_mutes_reload(coll_mutes *m, int64_t now_us);

// The lease epoch the writes of add and remove check (sql.h's fence); 0: none. Any thread.
// A fenced add or remove fails with a message that says this collector is no longer active.
void coll_mutes_set_fence(coll_mutes *m, int64_t epoch);

// Adds a mute of host or target (exactly one non-empty) for for_s seconds (1 s to 30 days) with
// reason (non-empty). Returns 0 (*out: the new mute), or -1 with a message for the user in err.
int coll_mutes_add(coll_mutes *m, const char *host, const char *target, uint32_t for_s,
    const char *reason, int64_t now_us, coll_mute *out, char *err, size_t errlen);

// Removes mute id. Returns 1 (*out: the removed one), 0 (no active mute has that id), -1.
int coll_mutes_remove(coll_mutes *m, uint64_t id, int64_t now_us, coll_mute *out);

// Copies up to max active mutes (oldest first) into out; returns how many are active.
size_t coll_mutes_list(coll_mutes *m, int64_t now_us, coll_mute *out, size_t max);

// The id of an active mute covering f (see above), 0 when none. m NULL: 0.
uint64_t coll_mutes_covering(coll_mutes *m, const Fl__Finding *f, int64_t now_us);

// Sets muted_by on every finding of r that a mute covers.
void coll_mutes_mark(coll_mutes *m, Fl__DiagnoseReply *r, int64_t now_us);

// The pure rule, for tests: the id of a mute of v[0..n) active at now_us covering f, or 0.
uint64_t coll_mute_rule(const coll_mute *v, size_t n, const Fl__Finding *f, int64_t now_us);

#endif // FL_COLLECTOR_NOTIFY_MUTE_H
