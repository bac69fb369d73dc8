// unmet.h - the one home of an unmet requirement (Fl__UnmetRequirement): how it is copied and
// how it reads.
//
// Agent, collector and CLI all hold these (a probe result, a release check, a rollback host)
// and all print them; keeping the copy and the phrase here means a requirement reads the same
// in `status`, `diagnose`, `verify` and alerts.

#ifndef FL_UNMET_H
#define FL_UNMET_H

#include <stdbool.h>
#include <stddef.h>

#include "faultline.pb-c.h"

// A heap copy of u: every string duplicated (NULL becomes ""), so the copy owns all it points
// to. Free it with fl_unmet_free (or fl__unmet_requirement__free_unpacked(c, NULL)). NULL when
// out of memory.
Fl__UnmetRequirement *fl_unmet_dup(const Fl__UnmetRequirement *u);

void fl_unmet_free(Fl__UnmetRequirement *u); // accepts NULL

// Appends a copy of u to the vector (*v, *n), growing it by one. 0, or -1 when out of memory
// or when *n already holds max entries; the vector is then unchanged.
int fl_unmet_append(
    Fl__UnmetRequirement ***v, size_t *n, size_t max, const Fl__UnmetRequirement *u);

// Frees every entry of (*v, *n) and the vector itself, and leaves them NULL/0.
void fl_unmet_free_all(Fl__UnmetRequirement ***v, size_t *n);

// How a requirement is phrased:
//   FL_UNMET_LACKING  what the database lacks: "SELECT on public.orders revoked for role app",
//                     "table public.orders missing" (the wording of diagnose, verify, alerts);
//   FL_UNMET_NEEDED   what a release needs:    "SELECT on public.orders for role app",
//                     "table public.orders".
// A privilege without a role drops " for role ..."; an unknown object kind reads "object".
typedef enum fl_unmet_voice {
	FL_UNMET_LACKING,
	FL_UNMET_NEEDED,
} fl_unmet_voice;

// Room for any phrase of a requirement that passed the wire checks (three strings of at most
// FL_WIRE_MAX_STRING bytes and a few words).
#define FL_UNMET_PHRASE_MAX 3200

// Writes the phrase of u into buf (always NUL-terminated when len > 0, truncated to fit).
// Returns buf.
char *fl_unmet_phrase(const Fl__UnmetRequirement *u, fl_unmet_voice voice, char *buf, size_t len);

#endif // FL_UNMET_H
