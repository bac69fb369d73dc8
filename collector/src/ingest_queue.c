// ingest_queue.c - see ingest_queue.h.

#include "ingest_queue.h"

#include <stdlib.h>

coll_iq_limits
coll_iq_limits_for(uint32_t ingest_queue, uint32_t max_hosts)
{
	coll_iq_limits l;
	uint64_t       reports =
            ingest_queue != 0 ? ingest_queue : (uint64_t) COLL_IQ_PER_HOST * max_hosts;

	if (reports < COLL_IQ_MIN) {
		reports = COLL_IQ_MIN;
	}
	if (reports > COLL_IQ_MAX) {
		reports = COLL_IQ_MAX;
	}
	l.reports = (size_t) reports;
	l.bytes   = l.reports * COLL_IQ_REPORT_BYTES;
	if (l.bytes < COLL_IQ_MIN_BYTES) {
		l.bytes = COLL_IQ_MIN_BYTES;
	}
	if (l.bytes > COLL_IQ_MAX_BYTES) {
		l.bytes = COLL_IQ_MAX_BYTES;
	}
	return l;
}

// Moves the ring into arrays of cap slots, oldest first. Returns 0, or -1 (unchanged).
static int
resize(coll_iq *q, size_t cap)
{
	void  **item = malloc(cap * sizeof(*item));
	size_t *len  = malloc(cap * sizeof(*len));

	if (item == NULL || len == NULL) {
		free(item);
		free(len);
		return -1;
	}
	for (size_t i = 0; i < q->n; i++) {
		size_t k = (q->head + i) % q->cap;
		item[i]  = q->item[k];
		len[i]   = q->len[k];
	}
	free(q->item);
	free(q->len);
	q->item = item;
	q->len  = len;
	q->cap  = cap;
	q->head = 0;
	return 0;
}

int
coll_iq_init(coll_iq *q, coll_iq_limits lim)
{
	*q = (coll_iq) { .lim = lim, .cap = 1 };
	return resize(q, lim.reports < COLL_IQ_INITIAL ? lim.reports : COLL_IQ_INITIAL);
}

void
coll_iq_fini(coll_iq *q, void (*free_item)(void *))
{
	void *it;
	while (free_item != NULL && (it = coll_iq_pop(q)) != NULL) {
		free_item(it);
	}
	free(q->item);
	free(q->len);
	*q = (coll_iq) { 0 };
}

bool
coll_iq_push(coll_iq *q, void *item, size_t len)
{
	if (q->n >= q->lim.reports || len > q->lim.bytes - q->bytes) {
		return false;
	}
	if (q->n == q->cap) {
		size_t cap = q->cap * 2 < q->lim.reports ? q->cap * 2 : q->lim.reports;
		if (resize(q, cap) != 0) {
			return false;
		}
	}
	size_t k   = (q->head + q->n) % q->cap;
	q->item[k] = item;
	q->len[k]  = len;
	q->n++;
	q->bytes += len;
	return true;
}

void *
coll_iq_pop(coll_iq *q)
{
	void *it;

	if (q->n == 0) {
		return NULL;
	}
	it = q->item[q->head];
	q->bytes -= q->len[q->head];
	q->head = (q->head + 1) % q->cap;
	q->n--;
	return it;
}
