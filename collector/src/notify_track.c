// notify_track.c - see notify_track.h.

#include "notify_track.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl/names.h"
#include "fl/str.h"

void
notify_tracker_init(notify_tracker *t, int64_t for_us, uint32_t resolve_after, size_t max)
{
	memset(t, 0, sizeof(*t));
	t->for_us        = for_us;
	t->resolve_after = resolve_after;
	t->max           = max;
}

static void
entry_free(notify_entry *e)
{
	if (e->f != NULL) {
		fl__finding__free_unpacked(e->f, NULL);
		e->f = NULL;
	}
}

void
notify_tracker_fini(notify_tracker *t)
{
	for (size_t i = 0; i < t->n; i++) {
		entry_free(&t->v[i]);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}

Fl__Finding *
notify_finding_copy(const Fl__Finding *f)
{
	size_t       len = fl__finding__get_packed_size(f);
	uint8_t     *buf = malloc(len ? len : 1);
	Fl__Finding *c;

	if (buf == NULL) {
		return NULL;
	}
	fl__finding__pack(f, buf);
	c = fl__finding__unpack(NULL, len, buf);
	free(buf);
	return c;
}

// ---- identity -------------------------------------------------------------------------------

// A finding's id is stored (notify_firing) and sent to receivers (the webhook's "id",
// Alertmanager's "finding" label, event ids): it must not change when the collector is
// upgraded, or every alert firing then would be resolved and fired again under a new id. So it
// keeps the start value the first collectors used, 1469598103934665603, a digit short of FNV's
// 64-bit offset basis (FL_FNV1A_OFFSET); for a hash that only has to tell findings apart, the
// start value is immaterial. notify_test pins an id to this value.
#define NOTIFY_ID_BASIS 1469598103934665603ULL

static uint64_t
fnv(uint64_t h, const char *s)
{
	return fl_fnv1a_field(h, s); // a separator no string contains after each field
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

// Hashes v sorted (the engine's order of hosts or targets may change between diagnoses).
static uint64_t
fnv_sorted(uint64_t h, char *const *v, size_t n)
{
	char **s = malloc((n ? n : 1) * sizeof(*s));
	if (s == NULL) {
		// Unsorted is still deterministic for one order; good enough when out of memory.
		for (size_t i = 0; i < n; i++) {
			h = fnv(h, v[i]);
		}
		return h;
	}
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_str);
	for (size_t i = 0; i < n; i++) {
		h = fnv(h, s[i]);
	}
	free(s);
	return h;
}

void
notify_finding_id(const Fl__Finding *f, char id[NOTIFY_ID_LEN])
{
	uint64_t h = fnv(NOTIFY_ID_BASIS, fl_verdict_name(f->verdict));
	if (f->n_targets > 0) {
		h = fnv_sorted(fnv(h, "targets"), f->targets, f->n_targets);
	} else if (f->release != NULL && f->release[0] != '\0') {
		h = fnv(fnv(h, "release"), f->release);
	} else {
		h = fnv_sorted(fnv(h, "hosts"), f->hosts, f->n_hosts);
	}
	snprintf(id, NOTIFY_ID_LEN, "%016llx", (unsigned long long) h);
}

// ---- tracking -------------------------------------------------------------------------------

static notify_entry *
find(notify_tracker *t, const char *id)
{
	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->v[i].id, id) == 0) {
			return &t->v[i];
		}
	}
	return NULL;
}

// A new entry (zeroed but for id), or NULL when out of memory or at max.
static notify_entry *
add(notify_tracker *t, const char *id)
{
	if (t->n == t->max) {
		return NULL;
	}
	if (t->n == t->cap) {
		size_t        cap = t->cap ? 2 * t->cap : 8;
		notify_entry *v   = realloc(t->v, cap * sizeof(*v));
		if (v == NULL) {
			return NULL;
		}
		t->v   = v;
		t->cap = cap;
	}
	notify_entry *e = &t->v[t->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->id, sizeof(e->id), "%s", id);
	return e;
}

static void
remove_at(notify_tracker *t, size_t i)
{
	entry_free(&t->v[i]);
	memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(t->v[0]));
	t->n--;
}

static bool
notifiable(Fl__Verdict v)
{
	return v == FL__VERDICT__VERDICT_CODE || v == FL__VERDICT__VERDICT_DATABASE ||
	    v == FL__VERDICT__VERDICT_NETWORK || v == FL__VERDICT__VERDICT_HOST;
}

bool
notify_entry_is_verification(const notify_entry *e)
{
	return e->f != NULL && e->f->verdict == FL__VERDICT__VERDICT_UNKNOWN;
}

// Records the findings of r as present at now_us. Returns -1 when out of memory.
static int
observe(notify_tracker *t, const Fl__DiagnoseReply *r, int64_t now_us)
{
	char id[NOTIFY_ID_LEN];
	int  rv = 0;

	t->gen++;
	for (size_t i = 0; i < r->n_findings; i++) {
		const Fl__Finding *f = r->findings[i];
		if (!notifiable(f->verdict)) {
			continue;
		}
		notify_finding_id(f, id);
		notify_entry *e = find(t, id);
		if (e != NULL && e->seen_gen == t->gen) {
			continue; // two findings of one identity: the first (the engine's rank)
			          // wins
		}
		if (e == NULL && (e = add(t, id)) == NULL) {
			t->untracked++;
			continue;
		}
		Fl__Finding *c = notify_finding_copy(f);
		if (c == NULL) {
			rv = -1;
		} else {
			entry_free(e);
			e->f = c;
		}
		if (e->first_us == 0) {
			e->first_us = now_us;
		}
		e->seen_gen = t->gen;
		e->clear_us = 0;
	}
	// Entries never copied (out of memory on their first sight) cannot be notified.
	for (size_t i = t->n; i-- > 0;) {
		notify_entry *e = &t->v[i];
		if (e->seen_gen == t->gen || notify_entry_is_verification(e)) {
			continue;
		}
		if (!e->firing || e->f == NULL) {
			remove_at(t, i); // a pending finding that went away: a flap, nothing sent
		} else if (e->clear_us == 0) {
			e->clear_us = now_us;
		}
	}
	return rv;
}

int
notify_tracker_update(notify_tracker *t, const Fl__DiagnoseReply *r, int64_t round_us,
    int64_t now_us, notify_muted_fn is_muted, void *muted_arg, notify_emit_fn emit, void *emit_arg)
{
	int     rv          = r != NULL ? observe(t, r, now_us) : 0;
	int64_t resolve_for = (int64_t) t->resolve_after * (round_us > 0 ? round_us : 1000000);

	for (size_t i = 0; i < t->n;) {
		notify_entry *e = &t->v[i];
		if (e->f == NULL || notify_entry_is_verification(e)) {
			i++;
			continue;
		}
		e->muted = is_muted != NULL && is_muted(muted_arg, e->f, now_us);
		if (!e->firing && !e->muted && now_us - e->first_us >= t->for_us) {
			if (emit(emit_arg, NOTIFY_FIRING, e, now_us) == 0) {
				e->firing   = true;
				e->fired_us = now_us;
			}
		} else if (e->firing && e->clear_us != 0 && now_us - e->clear_us >= resolve_for) {
			if (emit(emit_arg, NOTIFY_RESOLVED, e, e->clear_us) == 0) {
				remove_at(t, i);
				continue;
			}
		}
		i++;
	}
	return rv;
}

int
notify_tracker_verification(notify_tracker *t, Fl__Finding *f, notify_verif_result result,
    bool automatic, bool full, int64_t now_us, notify_emit_fn emit, void *emit_arg)
{
	char id[NOTIFY_ID_LEN];
	int  rv = 0;

	notify_finding_id(f, id);
	if (result == NOTIFY_VERIF_FAILED && automatic && find(t, id) == NULL) {
		notify_entry *e = add(t, id);
		if (e == NULL) {
			t->untracked++;
			fl__finding__free_unpacked(f, NULL);
			return -1;
		}
		e->f        = f;
		e->first_us = now_us;
		e->seen_gen = t->gen;
		if (emit(emit_arg, NOTIFY_FIRING, e, now_us) != 0) {
			remove_at(t, t->n - 1); // frees f; the next failure tries again
			return -1;
		}
		e->firing   = true;
		e->fired_us = now_us;
		return 0;
	}
	if (result == NOTIFY_VERIF_PASSED) {
		for (size_t i = t->n; i-- > 0;) {
			notify_entry *e = &t->v[i];
			if (!notify_entry_is_verification(e) || (!full && strcmp(e->id, id) != 0)) {
				continue;
			}
			if (emit(emit_arg, NOTIFY_RESOLVED, e, now_us) == 0) {
				remove_at(t, i);
			} else {
				rv = -1;
			}
		}
	}
	fl__finding__free_unpacked(f, NULL);
	return rv;
}

int
notify_tracker_restore(notify_tracker *t, const char *id, Fl__Finding *f, int64_t fired_us)
{
	notify_entry *e = find(t, id);
	if (e == NULL && (e = add(t, id)) == NULL) {
		fl__finding__free_unpacked(f, NULL);
		return -1;
	}
	entry_free(e);
	e->f        = f;
	e->firing   = true;
	e->first_us = fired_us;
	e->fired_us = fired_us;
	e->seen_gen = t->gen;
	return 0;
}

int64_t
notify_backoff_us(uint32_t attempts, uint32_t cap_ms)
{
	int64_t ms = NOTIFY_RETRY_FIRST_MS;
	for (uint32_t i = 0; i < attempts && ms < (int64_t) cap_ms; i++) {
		ms *= 2;
	}
	return (ms < (int64_t) cap_ms ? ms : (int64_t) cap_ms) * 1000;
}
