// latency.c - see latency.h.

#include "latency.h"

#include <stdlib.h>
#include <string.h>

#include "fl/names.h"
#include "fl/str.h"

#define INDEX_CAP (2 * COLL_LATENCY_MAX_SERIES) // open addressing, power of two

struct coll_latency {
	coll_metrics_hist *v; // COLL_LATENCY_MAX_SERIES slots, n used
	size_t             n;
	int32_t           *index; // INDEX_CAP entries: -1 or an index into v
	uint64_t           untracked;
};

coll_latency *
coll_latency_new(void)
{
	coll_latency *l = calloc(1, sizeof(*l));
	if (l == NULL || (l->v = calloc(COLL_LATENCY_MAX_SERIES, sizeof(*l->v))) == NULL ||
	    (l->index = malloc(INDEX_CAP * sizeof(*l->index))) == NULL) {
		coll_latency_free(l);
		return NULL;
	}
	for (size_t i = 0; i < INDEX_CAP; i++) {
		l->index[i] = -1;
	}
	return l;
}

void
coll_latency_free(coll_latency *l)
{
	if (l == NULL) {
		return;
	}
	for (size_t i = 0; l->v != NULL && i < l->n; i++) {
		free(l->v[i].probe);
	}
	free(l->v);
	free(l->index);
	free(l);
}

static uint64_t
hash(const char *name, const char *kind)
{
	return fl_fnv1a(fl_fnv1a_field(FL_FNV1A_OFFSET, name), kind);
}

static coll_metrics_hist *
find_or_add(coll_latency *l, const char *name, const char *kind)
{
	size_t i = (size_t) hash(name, kind) & (INDEX_CAP - 1);
	for (;; i = (i + 1) & (INDEX_CAP - 1)) {
		int32_t k = l->index[i];
		if (k < 0) {
			break;
		}
		// kind is a static name: equal kinds are the same pointer.
		if (l->v[k].kind == kind && strcmp(l->v[k].probe, name) == 0) {
			return &l->v[k];
		}
	}
	if (l->n >= COLL_LATENCY_MAX_SERIES) {
		return NULL;
	}
	coll_metrics_hist *h = &l->v[l->n];
	if ((h->probe = strdup(name)) == NULL) {
		return NULL;
	}
	h->kind     = kind;
	l->index[i] = (int32_t) l->n++;
	return h;
}

void
coll_latency_observe(coll_latency *l, const Fl__ProbeResult *r)
{
	if (l == NULL || r->in_progress_ms != 0 || r->status == FL__STATUS__STATUS_UNKNOWN ||
	    r->name == NULL) {
		return;
	}
	coll_metrics_hist *h = find_or_add(l, r->name, fl_kind_name(r->kind));
	if (h == NULL) {
		l->untracked++;
		return;
	}
	double s = r->duration_us / 1e6;
	for (int b = 0; b < COLL_LAT_BUCKETS; b++) {
		if (s <= coll_lat_bounds[b]) {
			h->buckets[b]++;
			break;
		}
	}
	h->count++;
	h->sum_s += s;
}

int
coll_latency_copy(const coll_latency *l, coll_metrics_hist **out, size_t *n)
{
	coll_metrics_hist *v;

	if (l == NULL || l->n == 0) {
		*out = NULL;
		*n   = 0;
		return 0;
	}
	if ((v = calloc(l->n, sizeof(*v))) == NULL) {
		return -1;
	}
	for (size_t i = 0; i < l->n; i++) {
		v[i] = l->v[i];
		if ((v[i].probe = strdup(l->v[i].probe)) == NULL) {
			for (size_t j = 0; j < i; j++) {
				free(v[j].probe);
			}
			free(v);
			return -1;
		}
	}
	*out = v;
	*n   = l->n;
	return 0;
}

uint64_t
coll_latency_untracked(const coll_latency *l)
{
	return l != NULL ? l->untracked : 0;
}
