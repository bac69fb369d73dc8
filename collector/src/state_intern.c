// state_intern.c - see state_intern.h.

#include "state_intern.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fl/str.h"

// One stored string (or key): its header, then its text. coll_intern_get hands out a pointer to
// text, coll_intern_block_get one to value.
typedef struct entry {
	uint64_t hash;
	uint32_t refs;
	uint32_t len;
	void    *value; // a block's value; unused for strings
	char     text[];
} entry;

struct coll_intern {
	entry **slots; // open addressing, linear probing; cap is a power of two
	size_t  cap;
	size_t  n;
	size_t  bytes;
};

static const char empty[] = "";

// Records are handed out at text: pointers stored in them must be aligned (malloc aligns the
// entry itself).
_Static_assert(offsetof(entry, text) % sizeof(void *) == 0, "records must be pointer-aligned");

static entry *
entry_of(const char *s)
{
	return (entry *) (void *) (s - offsetof(entry, text));
}

static entry *
entry_of_value(void **slot)
{
	return (entry *) (void *) ((char *) slot - offsetof(entry, value));
}

coll_intern *
coll_intern_new(void)
{
	coll_intern *t = calloc(1, sizeof(*t));
	if (t == NULL || (t->slots = calloc(64, sizeof(*t->slots))) == NULL) {
		free(t);
		return NULL;
	}
	t->cap = 64;
	return t;
}

void
coll_intern_free(coll_intern *t)
{
	if (t == NULL) {
		return;
	}
	for (size_t i = 0; i < t->cap; i++) {
		free(t->slots[i]);
	}
	free(t->slots);
	free(t);
}

// The slot holding s (hash h), or the empty slot where it would go.
static size_t
find_slot(const coll_intern *t, const void *s, size_t len, uint64_t h)
{
	size_t mask = t->cap - 1;
	size_t i    = (size_t) h & mask;
	for (;; i = (i + 1) & mask) {
		const entry *e = t->slots[i];
		if (e == NULL || (e->hash == h && e->len == len && memcmp(e->text, s, len) == 0)) {
			return i;
		}
	}
}

// Doubles the table. 0 or -1 (out of memory: the table is unchanged).
static int
grow(coll_intern *t)
{
	size_t  cap = t->cap * 2;
	entry **v   = calloc(cap, sizeof(*v));
	if (v == NULL) {
		return -1;
	}
	for (size_t i = 0; i < t->cap; i++) {
		entry *e = t->slots[i];
		if (e != NULL) {
			size_t k = (size_t) e->hash & (cap - 1);
			while (v[k] != NULL) {
				k = (k + 1) & (cap - 1);
			}
			v[k] = e;
		}
	}
	free(t->slots);
	t->slots = v;
	t->cap   = cap;
	return 0;
}

// The entry for the len bytes at key, with one more reference (added when new, value NULL).
// NULL when out of memory.
static entry *
entry_get(coll_intern *t, const void *key, size_t len)
{
	uint64_t h = fl_fnv1a_bytes(FL_FNV1A_OFFSET, key, len);
	size_t   i = find_slot(t, key, len, h);
	if (t->slots[i] != NULL) {
		t->slots[i]->refs++;
		return t->slots[i];
	}
	if ((t->n + 1) * 2 > t->cap) {
		if (grow(t) != 0) {
			return NULL;
		}
		i = find_slot(t, key, len, h);
	}
	entry *e = len <= UINT32_MAX ? malloc(sizeof(*e) + len + 1) : NULL;
	if (e == NULL) {
		return NULL;
	}
	e->hash  = h;
	e->refs  = 1;
	e->len   = (uint32_t) len;
	e->value = NULL;
	memcpy(e->text, key, len);
	e->text[len] = '\0';
	t->slots[i]  = e;
	t->n++;
	t->bytes += sizeof(*e) + len + 1;
	return e;
}

const char *
coll_intern_get(coll_intern *t, const char *s)
{
	if (s == NULL || s[0] == '\0') {
		return empty;
	}
	if (t == NULL) {
		return NULL;
	}
	entry *e = entry_get(t, s, strlen(s));
	return e != NULL ? e->text : NULL;
}

void **
coll_intern_block_get(coll_intern *t, const void *key, size_t len)
{
	entry *e = t != NULL ? entry_get(t, key, len) : NULL;
	return e != NULL ? &e->value : NULL;
}

// Removes slot i, moving later entries of its run back so every lookup still finds them.
static void
remove_slot(coll_intern *t, size_t i)
{
	size_t mask = t->cap - 1;
	t->slots[i] = NULL;
	for (size_t j = (i + 1) & mask; t->slots[j] != NULL; j = (j + 1) & mask) {
		size_t home = (size_t) t->slots[j]->hash & mask;
		// The entry at j may move to the hole at i when its home is not in (i, j].
		bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
		if (movable) {
			t->slots[i] = t->slots[j];
			t->slots[j] = NULL;
			i           = j;
		}
	}
}

// Drops one reference to e; frees it (and its value with free_value) with the last.
static void
entry_put(coll_intern *t, entry *e, void (*free_value)(void *))
{
	if (--e->refs > 0) {
		return;
	}
	size_t i = find_slot(t, e->text, e->len, e->hash);
	if (t->slots[i] == e) {
		remove_slot(t, i);
	}
	t->n--;
	t->bytes -= sizeof(*e) + e->len + 1;
	if (free_value != NULL && e->value != NULL) {
		free_value(e->value);
	}
	free(e);
}

void
coll_intern_put(coll_intern *t, const char *s)
{
	if (s == NULL || s == empty || s[0] == '\0') {
		return;
	}
	entry_put(t, entry_of(s), NULL);
}

void
coll_intern_block_put(coll_intern *t, void **slot, void (*free_value)(void *))
{
	if (slot != NULL) {
		entry_put(t, entry_of_value(slot), free_value);
	}
}

const char *
coll_intern_ref(const char *s)
{
	if (s != NULL && s != empty && s[0] != '\0') {
		entry_of(s)->refs++;
	}
	return s;
}

void **
coll_intern_block_ref(void **slot)
{
	if (slot != NULL) {
		entry_of_value(slot)->refs++;
	}
	return slot;
}

const void *
coll_intern_rec_get(coll_intern *t, const void *rec, size_t len, bool *is_new)
{
	entry *e = t != NULL ? entry_get(t, rec, len) : NULL;
	*is_new  = e != NULL && e->refs == 1;
	return e != NULL ? e->text : NULL;
}

void
coll_intern_rec_put(
    coll_intern *t, const void *rec, void (*on_last)(void *arg, const void *rec), void *arg)
{
	if (rec == NULL) {
		return;
	}
	entry *e = entry_of((const char *) rec);
	if (e->refs == 1 && on_last != NULL) {
		on_last(arg, rec);
	}
	entry_put(t, e, NULL);
}

int
coll_intern_set(coll_intern *t, const char **slot, const char *s)
{
	const char *v;
	if (*slot != NULL && strcmp(*slot, s != NULL ? s : "") == 0) {
		return 0;
	}
	if ((v = coll_intern_get(t, s)) == NULL) {
		return -1;
	}
	coll_intern_put(t, *slot);
	*slot = v;
	return 1;
}

size_t
coll_intern_count(const coll_intern *t)
{
	return t != NULL ? t->n : 0;
}

size_t
coll_intern_bytes(const coll_intern *t)
{
	return t != NULL ? t->bytes + t->cap * sizeof(*t->slots) : 0;
}
