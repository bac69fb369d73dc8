// ingest.c - the ingest thread: PULL reports, decode, apply in batches, write transitions.
// See server.h for the threading model.

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl/log.h"
#include "fl/time.h"
#include "fl/wire.h"
#include "server.h"

typedef struct ingest_batch {
	Fl__Report *reports[COLL_BATCH_MAX];
	size_t      n;
	uint64_t    received;
	uint64_t    rejects[FL_WIRE_INVALID + 1];
} ingest_batch;

static void
take(coll_server *srv, ingest_batch *b, nng_msg *msg)
{
	char           why[256];
	Fl__Report    *r = NULL;
	fl_wire_reject rj =
	    fl_wire_decode_report(nng_msg_body(msg), nng_msg_len(msg), &r, why, sizeof(why));
	b->received++;
	if (rj == FL_WIRE_OK) {
		b->reports[b->n++] = r;
	} else {
		b->rejects[rj]++;
		uint64_t n = ++srv->reject_seen[rj];
		// Rate-limited: a hostile or broken peer must not flood the journal.
		if (n == 1 || n % COLL_LOG_EVERY == 0) {
			fl_log(FL_LOG_WARN, "ingest", "cannot accept report (%s, %llu so far): %s",
			    fl_wire_reject_name(rj), (unsigned long long) n, why);
		}
	}
	nng_msg_free(msg);
}

static void
count_rejects(coll_stats *st, const ingest_batch *b)
{
	st->reports_received += b->received;
	st->dropped_oversize += b->rejects[FL_WIRE_OVERSIZE];
	st->dropped_undecodable += b->rejects[FL_WIRE_UNDECODABLE];
	st->dropped_schema += b->rejects[FL_WIRE_SCHEMA];
	st->dropped_invalid += b->rejects[FL_WIRE_INVALID];
}

static void
write_ops(coll_server *srv, coll_ops *ops)
{
	if (ops->n > 0 && coll_store_write(srv->writer, ops) != 0) {
		// The store logged why. The transitions are lost from SQLite but remain in memory;
		// retrying forever would stall ingest behind a full disk.
		fl_log(FL_LOG_ERR, "ingest", "cannot store %zu state changes, dropped", ops->n);
	}
	coll_ops_clear(ops);
}

static void
prune(coll_server *srv, int64_t now)
{
	int64_t before = now - (int64_t) srv->cfg.history_days * 86400 * 1000000LL;
	long    n      = coll_store_prune(srv->writer, before);
	if (n > 0) {
		fl_log(FL_LOG_INFO, "ingest", "pruned %ld history events older than %u days", n,
		    srv->cfg.history_days);
	}
}

void *
coll_ingest_main(void *arg)
{
	coll_server  *srv = arg;
	ingest_batch *b;
	coll_ops      ops;
	int64_t       now          = fl_now_us();
	int64_t       next_stale   = now + COLL_STALE_TICK_US;
	int64_t       next_prune   = now + COLL_PRUNE_TICK_US;
	int64_t       next_verdict = now;
	bool          verdict_due  = true; // once at start: the state may have changed while down
	int64_t       next_seen    = now + 1000000;

	if ((b = calloc(1, sizeof(*b))) == NULL) {
		fl_log(FL_LOG_ERR, "ingest", "cannot start: out of memory");
		return NULL;
	}
	coll_ops_init(&ops);
	prune(srv, now);

	for (;;) {
		nng_msg *msg;
		int      rv;
		bool     closed = false;

		memset(b, 0, sizeof(*b));
		// Block for the first message (up to the staleness tick), then drain what is queued
		// without blocking: under load one lock and one transaction cover a whole batch.
		rv = nng_recvmsg(srv->pull, &msg, 0);
		if (rv == 0) {
			take(srv, b, msg);
			while (b->received < COLL_BATCH_MAX &&
			    (rv = nng_recvmsg(srv->pull, &msg, NNG_FLAG_NONBLOCK)) == 0) {
				take(srv, b, msg);
			}
		}
		if (rv == NNG_ECLOSED || atomic_load(&srv->stopping)) {
			closed = true;
		} else if (rv != 0 && rv != NNG_ETIMEDOUT && rv != NNG_EAGAIN) {
			fl_log(FL_LOG_WARN, "ingest", "cannot receive: %s", nng_strerror(rv));
		}

		now = fl_now_us();
		pthread_mutex_lock(&srv->lock);
		count_rejects(&srv->state.stats, b);
		for (size_t i = 0; i < b->n; i++) {
			if (coll_state_apply(&srv->state, b->reports[i], now, &ops) == COLL_NOMEM) {
				fl_log(FL_LOG_ERR, "ingest", "cannot apply report: out of memory");
			}
			verdict_due = true;
		}
		if (now >= next_stale || closed) {
			if (coll_state_check_stale(&srv->state, now, &ops) > 0) {
				verdict_due = true;
			}
			next_stale = now + COLL_STALE_TICK_US;
		}
		if (verdict_due && now >= next_verdict) {
			coll_state_record_verdict(&srv->state, now, &ops);
			verdict_due  = false;
			next_verdict = now + COLL_VERDICT_TICK_US;
		}
		if (now >= next_seen || closed) {
			coll_state_flush_seen(
			    &srv->state, now, closed ? 0 : COLL_SEEN_WRITE_US, &ops);
			next_seen = now + 1000000;
		}
		pthread_mutex_unlock(&srv->lock);

		write_ops(srv, &ops);
		if (closed) {
			break;
		}
		if (now >= next_prune) {
			prune(srv, now);
			next_prune = now + COLL_PRUNE_TICK_US;
		}
	}
	coll_ops_fini(&ops);
	free(b);
	return NULL;
}
