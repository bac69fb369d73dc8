// lease.c - see lease.h.

#include "lease.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fl/log.h"
#include "fl/str.h"
#include "fl/time.h"
#include "sql_migrate.h"

// The lease's columns beyond sql's (id, epoch) (sql_migrate.h: the "lease" component makes the
// table and its row), as a component of their own. The lease never runs on SQLite; its text is
// there for the migration runner's symmetry.
static const fl_sql_migration LEASE_HOLDER_MIGRATIONS[] = {
	{ .sqlite = "ALTER TABLE " FL_SQL_LEASE_TABLE " ADD COLUMN holder TEXT NOT NULL DEFAULT '';"
	            "ALTER TABLE " FL_SQL_LEASE_TABLE
	            " ADD COLUMN holder_pid INTEGER NOT NULL DEFAULT 0;"
	            "ALTER TABLE " FL_SQL_LEASE_TABLE
	            " ADD COLUMN heartbeat_at INTEGER NOT NULL DEFAULT 0;",
	    .pgsql =
	        "ALTER TABLE " FL_SQL_LEASE_TABLE " ADD COLUMN holder TEXT NOT NULL DEFAULT '',"
	        " ADD COLUMN holder_pid BIGINT NOT NULL DEFAULT 0,"
	        " ADD COLUMN heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now();" },
};

#define XSTR(x) #x
#define STR(x)  XSTR(x)

static const char TRY_LOCK[] = "SELECT pg_try_advisory_lock(" STR(
    COLL_LEASE_ADVISORY_CLASS) ", " STR(COLL_LEASE_ADVISORY_OBJECT) ")::int";

// Bumping the epoch waits for every fenced transaction of the previous holder (they read the
// row FOR KEY SHARE, which only FOR UPDATE waits for: hence the lock before the update), so
// none of them commits after it.
static const char TAKE[] =
    "WITH held AS (SELECT id FROM " FL_SQL_LEASE_TABLE " WHERE id = 1 FOR UPDATE)"
    " UPDATE " FL_SQL_LEASE_TABLE " SET epoch = epoch + 1, holder = $1,"
    " holder_pid = pg_backend_pid(), heartbeat_at = now() WHERE id = (SELECT id FROM held)"
    " RETURNING epoch";

static const char BEAT[] = "UPDATE " FL_SQL_LEASE_TABLE " SET heartbeat_at = now()"
                           " WHERE id = 1 AND epoch = $1 AND holder_pid = pg_backend_pid()";

// The holder as the row names it, how old its heartbeat is (ms, PostgreSQL's clock) and
// whether the session holding the lock is the one the row names: a taker holds the lock a
// moment before it writes the row, and must not be mistaken for a dead holder then.
static const char HOLDER[] =
    "SELECT holder, (extract(epoch FROM now() - heartbeat_at) * 1000)::bigint, holder_pid,"
    " coalesce((SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND classid = " STR(COLL_LEASE_ADVISORY_CLASS) " AND objid = " STR(
        COLL_LEASE_ADVISORY_OBJECT) " AND objsubid = 2 LIMIT 1), 0)"
                                    " FROM " FL_SQL_LEASE_TABLE " WHERE id = 1";

// A collector cut off in the middle of a fenced transaction leaves it open ("idle in
// transaction") while TCP has not noticed, and its share lock on the lease row would hold the
// taker's epoch bump forever. Such a session, idle longer than half the lease timeout (a live
// collector's transactions take milliseconds), is ended before the bump.
static const char STUCK[] =
    "SELECT count(pg_terminate_backend(a.pid))::bigint FROM pg_stat_activity a"
    " WHERE a.pid <> pg_backend_pid() AND a.state = 'idle in transaction'"
    " AND a.state_change < now() - make_interval(secs => $1::bigint / 1000.0)"
    " AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid"
    " AND l.relation = '" FL_SQL_LEASE_TABLE "'::regclass)";

static const char TERMINATE[] = "SELECT pg_terminate_backend($1::int)::int";

struct coll_lease {
	fl_sql      *db;
	char         name[COLL_LEASE_NAME_MAX];
	int64_t      timeout_us;
	fl_sql_stmt *try_lock, *take, *beat, *holder, *terminate, *stuck;
};

void
coll_lease_close(coll_lease *l)
{
	if (l == NULL) {
		return;
	}
	fl_sql_finalize(l->try_lock);
	fl_sql_finalize(l->take);
	fl_sql_finalize(l->beat);
	fl_sql_finalize(l->holder);
	fl_sql_finalize(l->terminate);
	fl_sql_finalize(l->stuck);
	fl_sql_close(l->db);
	free(l);
}

static int
prepare_all(coll_lease *l)
{
	if (fl_sql_prepare(l->db, TRY_LOCK, &l->try_lock) != FL_SQL_OK ||
	    fl_sql_prepare(l->db, TAKE, &l->take) != FL_SQL_OK ||
	    fl_sql_prepare(l->db, BEAT, &l->beat) != FL_SQL_OK ||
	    fl_sql_prepare(l->db, HOLDER, &l->holder) != FL_SQL_OK ||
	    fl_sql_prepare(l->db, TERMINATE, &l->terminate) != FL_SQL_OK ||
	    fl_sql_prepare(l->db, STUCK, &l->stuck) != FL_SQL_OK) {
		return -1;
	}
	return 0;
}

int
coll_lease_open(const coll_lease_opts *o, coll_lease **out, char *err, size_t errlen)
{
	coll_lease *l;
	fl_sql_opts so = o->db;

	if (fl_sql_target_engine(so.target) != FL_SQL_PGSQL) {
		snprintf(err, errlen, "a lease needs a PostgreSQL store");
		return -1;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	(void) fl_str_copy_trunc(l->name, sizeof(l->name), o->name);
	l->timeout_us = o->timeout_us;
	so.readonly   = false;
	if (so.app_name == NULL) {
		so.app_name = "faultline-collector lease";
	}
	if (so.timeout_ms == 0) {
		so.timeout_ms = (int) (o->timeout_us / 2000); // half the lease timeout
	}
	if (fl_sql_open(&so, &l->db, err, errlen) != FL_SQL_OK) {
		free(l);
		return -1;
	}
	if (fl_sql_migrate(l->db, "lease_holder", LEASE_HOLDER_MIGRATIONS, 1) != FL_SQL_OK ||
	    prepare_all(l) != 0) {
		snprintf(err, errlen, "cannot set up the lease: %s", fl_sql_errmsg(l->db));
		coll_lease_close(l);
		return -1;
	}
	*out = l;
	return 0;
}

// Runs st (bound already) for one row and reads its first column as an integer. 0, or -1.
static int
one_int(fl_sql_stmt *st, int64_t *v)
{
	int rv = fl_sql_step(st);
	if (rv == FL_SQL_ROW) {
		*v = fl_sql_column_int64(st, 0);
		rv = fl_sql_step(st) == FL_SQL_DONE ? 0 : -1;
	} else {
		rv = -1;
	}
	fl_sql_reset(st);
	return rv;
}

// Reads the row's holder; ends the lock holder's backend when it is the row's and its
// heartbeat is older than the timeout. 0, or -1 when a statement failed.
static int
check_holder(coll_lease *l, char *holder, size_t holder_len)
{
	int64_t age_ms, row_pid, lock_pid, done;
	int     rv = fl_sql_step(l->holder);

	if (rv != FL_SQL_ROW) {
		fl_sql_reset(l->holder);
		return -1;
	}
	if (holder != NULL) {
		(void) fl_str_copy_trunc(holder, holder_len, fl_sql_column_text(l->holder, 0));
	}
	age_ms   = fl_sql_column_int64(l->holder, 1);
	row_pid  = fl_sql_column_int64(l->holder, 2);
	lock_pid = fl_sql_column_int64(l->holder, 3);
	fl_sql_reset(l->holder);
	if (lock_pid == 0 || lock_pid != row_pid || age_ms * 1000 <= l->timeout_us) {
		return 0;
	}
	fl_log(FL_LOG_WARN, "lease",
	    "the active collector %s has not renewed the lease for %lld ms (timeout %lld ms): "
	    "ending its database session (backend %lld) to take over",
	    holder != NULL ? holder : "", (long long) age_ms, (long long) (l->timeout_us / 1000),
	    (long long) lock_pid);
	if (fl_sql_bind_int64(l->terminate, 1, lock_pid) != FL_SQL_OK ||
	    one_int(l->terminate, &done) != 0) {
		return -1;
	}
	return 0;
}

int
coll_lease_try(coll_lease *l, int64_t *epoch, char *holder, size_t holder_len)
{
	int64_t got;

	if (one_int(l->try_lock, &got) != 0) {
		return COLL_LEASE_ERROR;
	}
	if (got == 0) {
		return check_holder(l, holder, holder_len) == 0 ? COLL_LEASE_BUSY
		                                                : COLL_LEASE_ERROR;
	}
	if (fl_sql_bind_int64(l->stuck, 1, l->timeout_us / 2000) != FL_SQL_OK ||
	    one_int(l->stuck, &got) != 0) {
		return COLL_LEASE_ERROR;
	}
	if (got > 0) {
		fl_log(FL_LOG_WARN, "lease",
		    "ended %lld database session(s) stuck in a transaction on the lease row (a "
		    "collector cut off mid-write)",
		    (long long) got);
	}
	if (fl_sql_bind_text(l->take, 1, l->name) != FL_SQL_OK || one_int(l->take, epoch) != 0) {
		// Holding the lock without a new epoch would be useless: the caller closes the
		// connection, which releases it.
		return COLL_LEASE_ERROR;
	}
	if (holder != NULL) {
		(void) fl_str_copy_trunc(holder, holder_len, l->name);
	}
	return COLL_LEASE_TAKEN;
}

int
coll_lease_beat(coll_lease *l, int64_t epoch)
{
	int rv;

	if (fl_sql_bind_int64(l->beat, 1, epoch) != FL_SQL_OK) {
		return -1;
	}
	rv = fl_sql_step(l->beat);
	if (rv == FL_SQL_DONE && fl_sql_changes(l->beat) == 1) {
		fl_sql_reset(l->beat);
		return 0;
	}
	fl_sql_reset(l->beat);
	return -1;
}

int64_t
coll_lease_backend_pid(coll_lease *l)
{
	fl_sql_stmt *st;
	int64_t      pid = 0;

	if (fl_sql_prepare(l->db, "SELECT pg_backend_pid()", &st) != FL_SQL_OK) {
		return 0;
	}
	if (one_int(st, &pid) != 0) {
		pid = 0;
	}
	fl_sql_finalize(st);
	return pid;
}

// ---- the keeper ----

struct coll_lease_keeper {
	coll_lease_opts o;
	char           *target;
	char           *password_file;
	char           *name;

	pthread_t       tid;
	pthread_mutex_t mu;
	pthread_cond_t  cv; // stop or drop asked
	bool            stop;
	bool            drop;

	// Published for coll_lease_keeper_view, under mu.
	int64_t  epoch;      // > 0 while held
	int64_t  beat_ok_us; // monotonic time the last successful beat (or the take) was sent
	char     holder[COLL_LEASE_NAME_MAX];
	uint64_t taken, lost;
};

// Waits until the next period, or until stop or drop is asked. With k->mu held.
static void
keeper_wait(coll_lease_keeper *k, int64_t until_mono_us)
{
	struct timespec ts = { until_mono_us / 1000000, (long) (until_mono_us % 1000000) * 1000 };
	while (!k->stop && !k->drop && fl_mono_us() < until_mono_us) {
		if (pthread_cond_timedwait(&k->cv, &k->mu, &ts) != 0) {
			break;
		}
	}
}

static void
keeper_lost(coll_lease_keeper *k, const char *why)
{
	pthread_mutex_lock(&k->mu);
	bool held = k->epoch > 0;
	k->epoch  = 0;
	k->lost += held;
	pthread_mutex_unlock(&k->mu);
	if (held) {
		fl_log(FL_LOG_WARN, "lease", "lost the lease: %s", why);
	}
}

// One period: connect if needed, then try (not held) or beat (held). Returns the connection
// to keep (NULL after a failure: the session, and with it the lock, is ended).
static coll_lease *
keeper_step(coll_lease_keeper *k, coll_lease *l)
{
	char    err[256], holder[COLL_LEASE_NAME_MAX] = "";
	int64_t sent = fl_mono_us(), epoch;

	if (l == NULL && coll_lease_open(&k->o, &l, err, sizeof(err)) != 0) {
		fl_log(FL_LOG_WARN, "lease", "cannot reach the store for the lease: %s", err);
		return NULL;
	}
	pthread_mutex_lock(&k->mu);
	epoch = k->epoch;
	pthread_mutex_unlock(&k->mu);
	if (epoch > 0) {
		if (coll_lease_beat(l, epoch) != 0) {
			keeper_lost(k,
			    fl_sql_errmsg(l->db)[0] != '\0' ? fl_sql_errmsg(l->db)
			                                    : "another collector holds it");
			coll_lease_close(l);
			return NULL;
		}
		pthread_mutex_lock(&k->mu);
		k->beat_ok_us = sent;
		pthread_mutex_unlock(&k->mu);
		return l;
	}
	switch (coll_lease_try(l, &epoch, holder, sizeof(holder))) {
	case COLL_LEASE_TAKEN:
		pthread_mutex_lock(&k->mu);
		k->epoch      = epoch;
		k->beat_ok_us = sent;
		k->taken++;
		(void) fl_str_copy_trunc(k->holder, sizeof(k->holder), holder);
		pthread_mutex_unlock(&k->mu);
		fl_log(FL_LOG_NOTICE, "lease", "took the lease (epoch %lld)", (long long) epoch);
		return l;
	case COLL_LEASE_BUSY:
		pthread_mutex_lock(&k->mu);
		(void) fl_str_copy_trunc(k->holder, sizeof(k->holder), holder);
		pthread_mutex_unlock(&k->mu);
		return l;
	default:
		fl_log(FL_LOG_WARN, "lease", "cannot try the lease: %s", fl_sql_errmsg(l->db));
		coll_lease_close(l);
		return NULL;
	}
}

static void *
keeper_main(void *arg)
{
	coll_lease_keeper *k = arg;
	coll_lease        *l = NULL;

	pthread_mutex_lock(&k->mu);
	while (!k->stop) {
		int64_t next = fl_mono_us() + COLL_LEASE_BEAT_US;
		if (k->drop) {
			k->drop = false;
			k->lost += k->epoch > 0;
			k->epoch = 0;
			pthread_mutex_unlock(&k->mu);
			coll_lease_close(l); // ends the session: the lock is free for another
			l = NULL;
			pthread_mutex_lock(&k->mu);
			keeper_wait(k, next);
			continue;
		}
		pthread_mutex_unlock(&k->mu);
		l = keeper_step(k, l);
		pthread_mutex_lock(&k->mu);
		keeper_wait(k, next);
	}
	k->epoch = 0;
	pthread_mutex_unlock(&k->mu);
	coll_lease_close(l);
	return NULL;
}

static void
keeper_free(coll_lease_keeper *k)
{
	pthread_cond_destroy(&k->cv);
	pthread_mutex_destroy(&k->mu);
	free(k->target);
	free(k->password_file);
	free(k->name);
	free(k);
}

int
coll_lease_keeper_start(const coll_lease_opts *o, coll_lease_keeper **out, char *err, size_t errlen)
{
	coll_lease_keeper *k = calloc(1, sizeof(*k));
	pthread_condattr_t ca;

	if (k == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_init(&k->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&k->cv, &ca);
	pthread_condattr_destroy(&ca);
	k->o             = *o;
	k->target        = fl_str_dup(o->db.target);
	k->password_file = o->db.password_file != NULL ? fl_str_dup(o->db.password_file) : NULL;
	k->name          = fl_str_dup(o->name);
	k->o.db.target   = k->target;
	k->o.db.password_file = k->password_file;
	k->o.name             = k->name;
	k->o.db.app_name      = NULL;
	if (k->target == NULL || k->name == NULL ||
	    (o->db.password_file != NULL && k->password_file == NULL) ||
	    pthread_create(&k->tid, NULL, keeper_main, k) != 0) {
		snprintf(err, errlen, "cannot start the lease thread");
		keeper_free(k);
		return -1;
	}
	*out = k;
	return 0;
}

void
coll_lease_keeper_end(coll_lease_keeper *k)
{
	bool join;

	if (k == NULL) {
		return;
	}
	pthread_mutex_lock(&k->mu);
	join    = !k->stop;
	k->stop = true;
	pthread_cond_broadcast(&k->cv);
	pthread_mutex_unlock(&k->mu);
	if (join) {
		pthread_join(k->tid, NULL);
	}
}

void
coll_lease_keeper_stop(coll_lease_keeper *k)
{
	if (k == NULL) {
		return;
	}
	coll_lease_keeper_end(k);
	keeper_free(k);
}

coll_lease_view
coll_lease_keeper_view(coll_lease_keeper *k, int64_t mono_us)
{
	coll_lease_view v = { .held = false, .epoch = 0 };
	pthread_mutex_lock(&k->mu);
	if (k->epoch > 0 && !k->drop && mono_us - k->beat_ok_us < k->o.timeout_us / 2) {
		v.held  = true;
		v.epoch = k->epoch;
	}
	pthread_mutex_unlock(&k->mu);
	return v;
}

void
coll_lease_keeper_drop(coll_lease_keeper *k)
{
	pthread_mutex_lock(&k->mu);
	k->drop = true;
	pthread_cond_broadcast(&k->cv);
	pthread_mutex_unlock(&k->mu);
}

void
coll_lease_keeper_holder(coll_lease_keeper *k, char *out, size_t len)
{
	pthread_mutex_lock(&k->mu);
	(void) fl_str_copy_trunc(out, len, k->holder);
	pthread_mutex_unlock(&k->mu);
}

uint64_t
coll_lease_keeper_taken(coll_lease_keeper *k)
{
	pthread_mutex_lock(&k->mu);
	uint64_t n = k->taken;
	pthread_mutex_unlock(&k->mu);
	return n;
}

uint64_t
coll_lease_keeper_lost(coll_lease_keeper *k)
{
	pthread_mutex_lock(&k->mu);
	uint64_t n = k->lost;
	pthread_mutex_unlock(&k->mu);
	return n;
}
