// state_intern.h - one shared copy of each string the state holds many times over.
//
// Across a fleet the same few strings recur in every host's state: probe names, targets,
// details ("200 OK"), releases, roles, digests. The state keeps one copy of each, counted: a
// reference is taken with coll_intern_get and dropped with coll_intern_put, and the copy is freed
// with its last reference. What the table holds is therefore bounded by what the state holds
// (state.h, "Bounds"): it adds no bound of its own.
//
// Not thread-safe: it belongs to one coll_state and is used under the state's lock. The empty
// string is never stored: coll_intern_get("") returns a static "" that coll_intern_put ignores.

#ifndef FL_COLLECTOR_STATE_INTERN_H
#define FL_COLLECTOR_STATE_INTERN_H

#include <stdbool.h>
#include <stddef.h>

typedef struct coll_intern coll_intern;

coll_intern *coll_intern_new(void);            // NULL when out of memory: every get then fails
void         coll_intern_free(coll_intern *t); // accepts NULL; strings still referenced go too

// The shared copy of s (NULL reads as "") with one more reference. NULL when out of memory.
const char *coll_intern_get(coll_intern *t, const char *s);

// Drops one reference to a string coll_intern_get returned (NULL and "" are ignored).
void coll_intern_put(coll_intern *t, const char *s);

// One more reference to s, a string coll_intern_get returned (NULL and "" are returned as they
// are): for a holder that shares a reference it does not own.
const char *coll_intern_ref(const char *s);

// Replaces *slot (a reference or NULL) by a reference to s (NULL reads as ""), unless it
// already holds an equal string. 1 when it changed, 0 when it was equal, -1 when out of memory
// (*slot unchanged): as fl_str_replace.
int coll_intern_set(coll_intern *t, const char **slot, const char *s);

// Shared blocks: one value per distinct key of len bytes (any bytes), made by the first caller
// and shared by every holder of the same key; the state keeps one decoded copy of a result's
// rare fields (addresses, unmet requirements) per distinct packed form this way. Returns the
// key's value slot with one more reference: *slot is NULL when the key is new (the caller sets
// it), NULL when out of memory. Use a table for blocks or for strings, not both.
void **coll_intern_block_get(coll_intern *t, const void *key, size_t len);

// Drops one reference to the block whose slot coll_intern_block_get returned (NULL is ignored);
// with the last, free_value(*slot) (unless *slot is NULL) and the entry go.
void coll_intern_block_put(coll_intern *t, void **slot, void (*free_value)(void *));

// One more reference to the block whose slot coll_intern_block_get returned (NULL is returned).
void **coll_intern_block_ref(void **slot);

// Shared records: one stored copy per distinct record of len bytes (compared bytewise, so the
// caller zeroes any padding), aligned for pointers. The state shares a probe's rare part (its
// name's answers and rare block, state.h coll_probe_more) this way: every probe with the same
// holds one record. Returns the stored copy with one more reference, *is_new true when it was
// made by this call (its holder then takes what the record refers to); NULL when out of memory.
// Use a table for records, blocks or strings, not a mix.
const void *coll_intern_rec_get(coll_intern *t, const void *rec, size_t len, bool *is_new);

// Drops one reference to a record coll_intern_rec_get returned (NULL is ignored); before the
// last goes, on_last(arg, rec) (unless NULL) releases what the record refers to.
void coll_intern_rec_put(
    coll_intern *t, const void *rec, void (*on_last)(void *arg, const void *rec), void *arg);

// Distinct strings (or blocks) held and their bytes (text and bookkeeping), for the benchmarks.
size_t coll_intern_count(const coll_intern *t);
size_t coll_intern_bytes(const coll_intern *t);

#endif // FL_COLLECTOR_STATE_INTERN_H
