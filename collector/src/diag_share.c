// diag_share.c - the verdict tick's diagnosis, shared with the queries that wait for it
// (diag_share.h).

#include "diag_share.h"

#include "correlate.h"

void
coll_diag_share_init(coll_diag_share *d)
{
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->done, NULL);
	d->computing   = false;
	d->published   = 0;
	d->reply       = NULL;
	d->reply_at_us = 0;
	d->shared      = 0;
}

void
coll_diag_share_fini(coll_diag_share *d)
{
	corr_reply_free(d->reply);
	d->reply = NULL;
	pthread_cond_destroy(&d->done);
	pthread_mutex_destroy(&d->mu);
}

void
coll_diag_share_begin(coll_diag_share *d)
{
	pthread_mutex_lock(&d->mu);
	d->computing = true;
	pthread_mutex_unlock(&d->mu);
}

void
coll_diag_share_publish(coll_diag_share *d, Fl__DiagnoseReply *r, int64_t at_us)
{
	pthread_mutex_lock(&d->mu);
	corr_reply_free(d->reply);
	d->reply       = r;
	d->reply_at_us = at_us;
	d->computing   = false;
	d->published++;
	pthread_cond_broadcast(&d->done);
	pthread_mutex_unlock(&d->mu);
}

uint64_t
coll_diag_share_mark(coll_diag_share *d)
{
	pthread_mutex_lock(&d->mu);
	uint64_t mark = d->published;
	pthread_mutex_unlock(&d->mu);
	return mark;
}

int
coll_diag_share_use(coll_diag_share *d, uint64_t mark, bool wait,
    void (*use)(const Fl__DiagnoseReply *r, int64_t at_us, void *arg), void *arg)
{
	int rv = 1;

	pthread_mutex_lock(&d->mu);
	while (wait && d->computing && d->published == mark) {
		pthread_cond_wait(&d->done, &d->mu);
	}
	// The latest published, even if later than the first after mark (a waiter woke late):
	// it read the state after the query arrived, too.
	if (d->published != mark && d->reply != NULL) {
		use(d->reply, d->reply_at_us, arg);
		d->shared++;
		rv = 0;
	}
	pthread_mutex_unlock(&d->mu);
	return rv;
}

uint64_t
coll_diag_share_count(coll_diag_share *d)
{
	pthread_mutex_lock(&d->mu);
	uint64_t n = d->shared;
	pthread_mutex_unlock(&d->mu);
	return n;
}
