// ingest.c - the ingest thread: PULL reports, decode, apply in batches, write transitions.
// See server.h for the threading model.
//
// Overload. The ingest thread starts a receiver thread of its own that does nothing but move
// messages from the PULL socket into a bounded queue (ingest_queue.h: [collector] ingest_queue
// reports, by default two rounds of max_hosts hosts, and a bound in bytes); the ingest thread
// takes batches from that queue. When reports arrive faster than they can be applied, the queue
// fills and the receiver drops what does not fit: counted in dropped_overload (also in
// reports_received) and logged at most every INGEST_OVERLOAD_LOG_US. So a flood costs bounded
// memory and is visible, and the control thread keeps answering (it waits for the state lock at
// most one batch apply). Why drop rather than stop reading and let TCP push back on the agents:
// a stalled PULL socket looks to every agent like a collector that stopped reading, a hostile
// peer could hold everyone's reports back that way, and nothing would count it. The queue holds
// a fleet's first round (every probe new: the slowest round to write) while it is applied, so
// bursts are absorbed, not shed.

#include "ingest.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fl/log.h"
#include "fl/time.h"
#include "fl/wire.h"
#include "hub.h"
#include "ingest_queue.h"
#include "rejects.h"

#define INGEST_OVERLOAD_LOG_US 10000000LL // an overload spell is logged this often

typedef struct ingest_batch {
	Fl__Report *reports[COLL_BATCH_MAX];
	nng_msg    *msgs[COLL_BATCH_MAX];
	size_t      n;
	size_t      n_msgs;
	uint64_t    received;
	uint64_t    overload; // dropped by the receiver since the previous batch
	uint64_t    rejects[FL_WIRE_INVALID + 1];
} ingest_batch;

// The bounded queue between the receiver thread and the ingest thread.
typedef struct ingest_queue {
	pthread_mutex_t mu;
	pthread_cond_t  cv;        // not empty, or closed
	coll_iq         ring;      // of nng_msg *
	bool            closed;    // the receiver has stopped: nothing more will come
	uint64_t        overload;  // drops not yet taken into the stats
	uint64_t        total;     // drops since start, for the log
	uint64_t        logged;    // total when last logged
	int64_t         logged_us; // when last logged (monotonic)
} ingest_queue;

typedef struct ingest_recv {
	coll_server  *srv;
	ingest_queue *q;
} ingest_recv;

// Receiver thread: socket -> queue, nothing else, so that it keeps up with the network and the
// drop decision is made here, counted, rather than by TCP flow control.
static void *
recv_main(void *arg)
{
	ingest_recv  *rc  = arg;
	coll_server  *srv = rc->srv;
	ingest_queue *q   = rc->q;

	for (;;) {
		nng_msg *msg;
		int      rv = nng_recvmsg(srv->pull, &msg, 0);
		if (rv == NNG_ECLOSED || atomic_load(&srv->stopping) ||
		    atomic_load(&srv->ingest_stop)) {
			if (rv == 0) {
				nng_msg_free(msg);
			}
			break;
		}
		if (rv != 0) {
			if (rv != NNG_ETIMEDOUT && rv != NNG_EAGAIN) {
				fl_log(
				    FL_LOG_WARN, "ingest", "cannot receive: %s", nng_strerror(rv));
			}
			continue;
		}
		size_t   len   = nng_msg_len(msg);
		bool     drop  = false;
		uint64_t total = 0, since = 0;
		size_t   qn = 0, qbytes = 0;
		pthread_mutex_lock(&q->mu);
		if (!coll_iq_push(&q->ring, msg, len)) {
			drop = true;
			q->overload++;
			q->total++;
			int64_t mono = fl_mono_us();
			if (q->logged == 0 || mono - q->logged_us >= INGEST_OVERLOAD_LOG_US) {
				total        = q->total;
				since        = q->total - q->logged;
				qn           = q->ring.n;
				qbytes       = q->ring.bytes;
				q->logged    = q->total;
				q->logged_us = mono;
			}
		} else {
			pthread_cond_signal(&q->cv);
		}
		pthread_mutex_unlock(&q->mu);
		if (drop) {
			nng_msg_free(msg);
		}
		if (total > 0) {
			fl_log(FL_LOG_WARN, "ingest",
			    "cannot keep up with incoming reports: queue full (%zu reports, %zu "
			    "bytes), dropped %llu since the last warning, %llu since start",
			    qn, qbytes, (unsigned long long) since, (unsigned long long) total);
		}
	}
	pthread_mutex_lock(&q->mu);
	q->closed = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

// Waits until the queue holds a message or deadline_us (monotonic) passes, then moves up to
// COLL_BATCH_MAX messages into b. Returns true once the queue is closed and empty.
static bool
queue_take(ingest_queue *q, ingest_batch *b, int64_t deadline_us)
{
	bool done;
	pthread_mutex_lock(&q->mu);
	while (q->ring.n == 0 && !q->closed) {
		int64_t left = deadline_us - fl_mono_us();
		if (left <= 0) {
			break;
		}
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += left / 1000000;
		ts.tv_nsec += (long) (left % 1000000) * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&q->cv, &q->mu, &ts);
	}
	while (q->ring.n > 0 && b->n_msgs < COLL_BATCH_MAX) {
		b->msgs[b->n_msgs++] = coll_iq_pop(&q->ring);
	}
	b->overload = q->overload;
	q->overload = 0;
	done        = q->closed && q->ring.n == 0;
	pthread_mutex_unlock(&q->mu);
	return done;
}

static int
queue_init(ingest_queue *q, coll_iq_limits lim)
{
	pthread_condattr_t ca;
	memset(q, 0, sizeof(*q));
	if (coll_iq_init(&q->ring, lim) != 0) {
		return -1;
	}
	pthread_mutex_init(&q->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cv, &ca);
	pthread_condattr_destroy(&ca);
	return 0;
}

static void
free_msg(void *m)
{
	nng_msg_free(m);
}

// After the receiver has been joined.
static void
queue_fini(ingest_queue *q)
{
	coll_iq_fini(&q->ring, free_msg);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
}

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
		char host[128] = "";
		if (rj != FL_WIRE_OVERSIZE) {
			fl_wire_report_claimed_host(
			    nng_msg_body(msg), nng_msg_len(msg), host, sizeof(host));
		}
		coll_rejects_refused(srv->rejects, "ingest", host, fl_wire_reject_name(rj), why);
	}
	nng_msg_free(msg);
}

static void
count_rejects(coll_stats *st, const ingest_batch *b)
{
	st->reports_received += b->received + b->overload;
	st->dropped_overload += b->overload;
	st->dropped_oversize += b->rejects[FL_WIRE_OVERSIZE];
	st->dropped_undecodable += b->rejects[FL_WIRE_UNDECODABLE];
	st->dropped_schema += b->rejects[FL_WIRE_SCHEMA];
	st->dropped_invalid += b->rejects[FL_WIRE_INVALID];
}

// Applies one report (under the state lock) and logs what it could not apply: a bound hit
// is logged on its 1st, then every COLL_LOG_EVERY-th time (refused reports are throttled per
// sender instead: rejects.h).
static void
apply_one(coll_server *srv, Fl__Report *r, int64_t now, coll_ops *ops)
{
	char              host[257];
	size_t            n_results = r->n_results;
	uint64_t          ignored   = srv->state.stats.reports_time_ignored;
	coll_apply_result ar;

	snprintf(host, sizeof(host), "%s", r->host); // r is gone after the apply
	ar = coll_state_apply(&srv->state, r, now, ops);
	if (srv->state.stats.reports_time_ignored != ignored) {
		uint64_t n = srv->state.stats.reports_time_ignored;
		if (n == 1 || n % COLL_LOG_EVERY == 0) {
			fl_log(FL_LOG_WARN, "ingest",
			    "cannot use the times in a report from %s: more than %lld days off "
			    "the collector's clock, applied at its time (%llu so far)",
			    host, (long long) (COLL_TIME_WINDOW_US / 86400000000LL),
			    (unsigned long long) n);
		}
	}
	if (ar == COLL_NOMEM) {
		fl_log(FL_LOG_ERR, "ingest", "cannot apply report: out of memory");
	} else if (ar == COLL_HOST_LIMIT) {
		uint64_t n = srv->state.stats.dropped_host_limit;
		if (n == 1 || n % COLL_LOG_EVERY == 0) {
			fl_log(FL_LOG_WARN, "ingest",
			    "cannot accept report from new host %s: max_hosts (%zu) reached (%llu "
			    "dropped so far)",
			    host, srv->state.max_hosts, (unsigned long long) n);
		}
	} else if (ar == COLL_PROBE_LIMIT) {
		uint64_t n = srv->state.stats.dropped_probe_limit;
		if (n == 1 || n % COLL_LOG_EVERY == 0) {
			fl_log(FL_LOG_WARN, "ingest",
			    "cannot accept report from %s: %zu results, max_probes_per_host is %zu "
			    "(%llu dropped so far)",
			    host, n_results, srv->state.max_probes, (unsigned long long) n);
		}
	}
}

static void
write_ops(coll_server *srv, coll_ops *ops)
{
	if (ops->n > 0 && coll_store_write(srv->writer, ops) != 0) {
		// The store logged why. The transitions are lost from SQLite but remain in memory;
		// retrying forever would stall ingest behind a full disk. Counted, so `status`
		// shows that history has gaps.
		size_t events = 0;
		for (size_t i = 0; i < ops->n; i++) {
			events += ops->v[i].kind == COLL_OP_EVENT;
		}
		pthread_mutex_lock(&srv->lock);
		srv->state.stats.history_events_lost += events;
		srv->state.stats.state_writes_lost += ops->n - events;
		pthread_mutex_unlock(&srv->lock);
		fl_log(FL_LOG_ERR, "ingest",
		    "cannot store %zu state changes (%zu history events), dropped", ops->n, events);
	}
	coll_ops_clear(ops);
}

// History older than history_days goes, COLL_PRUNE_BATCH events per transaction (one large
// delete would hold up ingest). Returns true while more remain to be pruned.
static bool
prune(coll_server *srv, int64_t now)
{
	int64_t before = now - (int64_t) srv->cfg.history_days * 86400 * 1000000LL;
	long    n      = coll_store_prune(srv->writer, before, COLL_PRUNE_BATCH);
	if (n > 0) {
		fl_log(FL_LOG_INFO, "ingest", "pruned %ld history events older than %u days", n,
		    srv->cfg.history_days);
	}
	return n == COLL_PRUNE_BATCH;
}

// A peer whose probes flip every round can write history faster than history_days ages it
// out: the oldest events beyond history_max_events go, COLL_PRUNE_BATCH at a time so that
// ingest never waits long on one delete. Returns true while more remain to be pruned.
static bool
prune_count(coll_server *srv)
{
	long n = coll_store_prune_count(srv->writer, srv->cfg.history_max_events, COLL_PRUNE_BATCH);
	if (n > 0) {
		fl_log(FL_LOG_INFO, "ingest", "pruned the %ld oldest history events (over %u kept)",
		    n, srv->cfg.history_max_events);
	}
	return n == COLL_PRUNE_BATCH;
}

void *
coll_ingest_main(void *arg)
{
	coll_server  *srv = arg;
	ingest_batch *b;
	ingest_queue  q;
	ingest_recv   rc;
	pthread_t     recv_tid;
	coll_ops      ops;
	int64_t       now          = fl_now_us();
	int64_t       next_stale   = now + COLL_STALE_TICK_US;
	int64_t       next_prune   = now + COLL_PRUNE_TICK_US;
	int64_t       next_count   = now;
	int64_t       next_verdict = now;
	bool          verdict_due  = true; // once at start: the state may have changed while down
	int64_t       next_seen    = now + 1000000;

	coll_iq_limits lim = coll_iq_limits_for(srv->cfg.ingest_queue, srv->cfg.max_hosts);
	if ((b = calloc(1, sizeof(*b))) == NULL || queue_init(&q, lim) != 0) {
		fl_log(FL_LOG_ERR, "ingest", "cannot start: out of memory");
		free(b);
		return NULL;
	}
	fl_log(FL_LOG_INFO, "ingest", "receive queue: up to %zu reports, %zu MiB", lim.reports,
	    lim.bytes >> 20);
	rc = (ingest_recv) { .srv = srv, .q = &q };
	if (pthread_create(&recv_tid, NULL, recv_main, &rc) != 0) {
		fl_log(FL_LOG_ERR, "ingest", "cannot start the receiver thread");
		queue_fini(&q);
		free(b);
		return NULL;
	}
	coll_ops_init(&ops);
	if (prune(srv, now)) {
		next_prune = now; // a backlog: the next batch after this round
	}

	for (;;) {
		memset(b, 0, sizeof(*b));
		// Wait for the first message (up to the staleness tick), then take what is queued:
		// under load one lock and one transaction cover a whole batch.
		bool closed = queue_take(&q, b, fl_mono_us() + COLL_STALE_TICK_US);
		for (size_t i = 0; i < b->n_msgs; i++) {
			take(srv, b, b->msgs[i]);
		}

		now = fl_now_us();
		pthread_mutex_lock(&srv->lock);
		// Forgets answered by the control thread since the last batch go first: the state
		// already changed in that order.
		if (srv->pending.n > 0 && coll_ops_move(&ops, &srv->pending) == 0) {
			verdict_due = true;
		}
		count_rejects(&srv->state.stats, b);
		for (size_t i = 0; i < b->n; i++) {
			apply_one(srv, b->reports[i], now, &ops);
			verdict_due = true;
		}
		if (now >= next_stale || closed) {
			if (coll_state_check_stale(&srv->state, now, &ops) > 0) {
				verdict_due = true;
			}
			size_t gone = coll_state_forget_silent(
			    &srv->state, now, srv->cfg.forget_after_us, &ops);
			if (gone > 0) {
				fl_log(FL_LOG_NOTICE, "ingest",
				    "forgot %zu host%s silent longer than forget_after", gone,
				    gone > 1 ? "s" : "");
				verdict_due = true;
			}
			next_stale = now + COLL_STALE_TICK_US;
		}
		if (verdict_due && now >= next_verdict) {
			int64_t took = fl_mono_us();
			// Queries arriving meanwhile take this diagnosis instead of making their
			// own after it (diag_share.h).
			coll_diag_share_begin(&srv->diag);
			Fl__DiagnoseReply *r = coll_state_diagnose(&srv->state, now, NULL);
			if (r != NULL) {
				coll_state_record_diagnosis(&srv->state, r, now, &ops);
			}
			coll_diag_share_publish(&srv->diag, r, now);
			took = fl_mono_us() - took;
			fl_log(FL_LOG_DEBUG, "ingest", "verdict tick: diagnosis %.1f ms",
			    (double) took / 1000.0);
			verdict_due  = false;
			next_verdict = now +
			    (10 * took > COLL_VERDICT_TICK_US ? 10 * took : COLL_VERDICT_TICK_US);
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
			next_prune = now + (prune(srv, now) ? 0 : COLL_PRUNE_TICK_US);
		}
		if (now >= next_count) {
			next_count = now + (prune_count(srv) ? 0 : COLL_PRUNE_COUNT_TICK_US);
		}
	}
	pthread_join(recv_tid, NULL);
	queue_fini(&q);
	coll_ops_fini(&ops);
	free(b);
	return NULL;
}
