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

#include <stddef.h>

typedef struct coll_intern coll_intern;

coll_intern *coll_intern_new(void);            // NULL when out of memory: every get then fails
void         coll_intern_free(coll_intern *t); // accepts NULL; strings still referenced go too

// The shared copy of s (NULL reads as "") with one more reference. NULL when out of memory.
const char *coll_intern_get(coll_intern *t, const char *s);

// Drops one reference to a string coll_intern_get returned (NULL and "" are ignored).
void coll_intern_put(coll_intern *t, const char *s);

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

// Distinct strings (or blocks) held and their bytes (text and bookkeeping), for the benchmarks.
size_t coll_intern_count(const coll_intern *t);
size_t coll_intern_bytes(const coll_intern *t);

#endif // FL_COLLECTOR_STATE_INTERN_H
