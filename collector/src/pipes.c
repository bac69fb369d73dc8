// pipes.c - see pipes.h.

#include "pipes.h"

#include <pthread.h>
#include <stdlib.h>

#include "fl/log.h"
#include "fl/time.h"

#define PIPES_LOG_EVERY_US 10000000LL // refused connections: one log line per 10 s at most
#define PIPES_SMALL_REPLY  1024       // always admitted (error answers)

typedef struct pipe_entry {
	uint32_t id;
	size_t   held;         // bytes of the last reply handed to the connection
	size_t   queued_bytes; // bytes of replies admitted and not yet handed over
	unsigned queued;       // replies admitted and not yet handed over
} pipe_entry;

typedef struct watcher {
	uint32_t     pipe;
	atomic_bool *gone; // NULL: free slot
} watcher;

struct coll_pipes {
	pthread_mutex_t mu;
	const char     *what;
	size_t          max;
	coll_pipes_hook on_add;
	void           *hook_arg;
	pipe_entry     *v; // max entries
	size_t          n;
	size_t          bytes; // sum of held + queued_bytes
	uint64_t        refused;
	uint64_t        refused_logged;
	int64_t         logged_us;
	watcher         watchers[COLL_PIPES_WATCHERS];
};

// Called with t->mu held.
static pipe_entry *
find(coll_pipes *t, uint32_t id)
{
	for (size_t i = 0; i < t->n; i++) {
		if (t->v[i].id == id) {
			return &t->v[i];
		}
	}
	return NULL;
}

// Called with t->mu held, for a refused connection: whether to log now, and what.
static bool
refused_log_due(coll_pipes *t, uint64_t *since)
{
	int64_t now = fl_mono_us();
	if (t->refused_logged != 0 && now - t->logged_us < PIPES_LOG_EVERY_US) {
		return false;
	}
	*since            = t->refused - t->refused_logged;
	t->refused_logged = t->refused;
	t->logged_us      = now;
	return true;
}

static void
on_add_pre(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	coll_pipes *t = arg;
	bool        refuse, log = false;
	uint64_t    since = 0, total = 0;
	(void) ev;

	if (t->on_add != NULL) {
		t->on_add(t->hook_arg);
	}
	pthread_mutex_lock(&t->mu);
	refuse = t->n >= t->max;
	if (refuse) {
		total = ++t->refused;
		log   = refused_log_due(t, &since);
	} else {
		t->v[t->n++] = (pipe_entry) { .id = nng_pipe_id(p) };
	}
	pthread_mutex_unlock(&t->mu);
	if (refuse) {
		nng_pipe_close(p); // before the protocol starts it: nothing is received
	}
	if (log) {
		fl_log(FL_LOG_WARN, "server",
		    "%s: %zu connections open, the most allowed; closed %llu more (%llu since "
		    "start)",
		    t->what, t->max, (unsigned long long) since, (unsigned long long) total);
	}
}

static void
on_rem_post(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	coll_pipes *t  = arg;
	uint32_t    id = nng_pipe_id(p);
	pipe_entry *e;
	(void) ev;

	pthread_mutex_lock(&t->mu);
	if ((e = find(t, id)) != NULL) {
		t->bytes -= e->held + e->queued_bytes;
		*e = t->v[--t->n];
	}
	for (size_t i = 0; i < COLL_PIPES_WATCHERS; i++) {
		if (t->watchers[i].gone != NULL && t->watchers[i].pipe == id) {
			atomic_store(t->watchers[i].gone, true);
		}
	}
	pthread_mutex_unlock(&t->mu);
}

int
coll_pipes_attach(nng_socket s, const char *what, size_t max, coll_pipes_hook on_add,
    void *hook_arg, coll_pipes **out)
{
	coll_pipes *t;
	int         rv;

	if (max == 0 || (t = calloc(1, sizeof(*t))) == NULL ||
	    (t->v = calloc(max, sizeof(*t->v))) == NULL) {
		free(max == 0 ? NULL : t);
		return max == 0 ? NNG_EINVAL : NNG_ENOMEM;
	}
	pthread_mutex_init(&t->mu, NULL);
	t->what     = what;
	t->max      = max;
	t->on_add   = on_add;
	t->hook_arg = hook_arg;
	if ((rv = nng_pipe_notify(s, NNG_PIPE_EV_ADD_PRE, on_add_pre, t)) != 0 ||
	    (rv = nng_pipe_notify(s, NNG_PIPE_EV_REM_POST, on_rem_post, t)) != 0) {
		nng_pipe_notify(s, NNG_PIPE_EV_ADD_PRE, NULL, NULL);
		coll_pipes_free(t);
		return rv;
	}
	*out = t;
	return 0;
}

void
coll_pipes_free(coll_pipes *t)
{
	if (t == NULL) {
		return;
	}
	pthread_mutex_destroy(&t->mu);
	free(t->v);
	free(t);
}

size_t
coll_pipes_count(coll_pipes *t)
{
	size_t n;
	pthread_mutex_lock(&t->mu);
	n = t->n;
	pthread_mutex_unlock(&t->mu);
	return n;
}

uint64_t
coll_pipes_refused(coll_pipes *t)
{
	uint64_t n;
	pthread_mutex_lock(&t->mu);
	n = t->refused;
	pthread_mutex_unlock(&t->mu);
	return n;
}

bool
coll_pipes_reply_queued(coll_pipes *t, uint32_t pipe)
{
	pipe_entry *e;
	bool        queued;
	pthread_mutex_lock(&t->mu);
	queued = (e = find(t, pipe)) != NULL && e->queued > 0;
	pthread_mutex_unlock(&t->mu);
	return queued;
}

coll_reply_admit
coll_pipes_reply_admit(coll_pipes *t, uint32_t pipe, size_t len, size_t budget)
{
	pipe_entry      *e;
	coll_reply_admit a = COLL_REPLY_SEND;

	pthread_mutex_lock(&t->mu);
	if ((e = find(t, pipe)) != NULL) {
		if (e->queued > 0) {
			a = COLL_REPLY_DROP;
		} else if (len > PIPES_SMALL_REPLY && t->bytes + len > budget) {
			a = COLL_REPLY_BUSY;
		} else {
			e->queued++;
			e->queued_bytes += len;
			t->bytes += len;
		}
	}
	// No entry: the connection is gone, and REP discards what is sent to it.
	pthread_mutex_unlock(&t->mu);
	return a;
}

void
coll_pipes_reply_done(coll_pipes *t, uint32_t pipe, size_t len, bool sent)
{
	pipe_entry *e;

	pthread_mutex_lock(&t->mu);
	// No entry: removed meanwhile, and its bytes with it.
	if ((e = find(t, pipe)) != NULL && e->queued > 0) {
		e->queued--;
		e->queued_bytes -= len;
		t->bytes -= len;
		if (sent) {
			// REP hands a reply over only once the previous one is written.
			t->bytes -= e->held;
			e->held = len;
			t->bytes += len;
		}
	}
	pthread_mutex_unlock(&t->mu);
}

size_t
coll_pipes_reply_bytes(coll_pipes *t)
{
	size_t n;
	pthread_mutex_lock(&t->mu);
	n = t->bytes;
	pthread_mutex_unlock(&t->mu);
	return n;
}

int
coll_pipes_watch(coll_pipes *t, uint32_t pipe, atomic_bool *gone)
{
	int rv = -1;

	pthread_mutex_lock(&t->mu);
	for (size_t i = 0; i < COLL_PIPES_WATCHERS; i++) {
		if (t->watchers[i].gone == NULL) {
			t->watchers[i] = (watcher) { .pipe = pipe, .gone = gone };
			if (find(t, pipe) == NULL) {
				atomic_store(gone, true);
			}
			rv = 0;
			break;
		}
	}
	pthread_mutex_unlock(&t->mu);
	return rv;
}

void
coll_pipes_unwatch(coll_pipes *t, atomic_bool *gone)
{
	pthread_mutex_lock(&t->mu);
	for (size_t i = 0; i < COLL_PIPES_WATCHERS; i++) {
		if (t->watchers[i].gone == gone) {
			t->watchers[i].gone = NULL;
		}
	}
	pthread_mutex_unlock(&t->mu);
}
