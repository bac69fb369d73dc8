// notify_mute.c - see notify_mute.h.

#include "notify_mute.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl/log.h"
#include "fl/text.h"
#include "notify_db.h"

struct coll_mutes {
	pthread_mutex_t mu;
	notify_db       d; // the mutes' connection (under mu)
	coll_mute       v[COLL_MUTES_MAX];
	size_t          n;
};

// ---- the rule -------------------------------------------------------------------------------

// The id of an active mute in v naming s as a host (is_host) or a target; 0 when none.
static uint64_t
muted_name(const coll_mute *v, size_t n, const char *s, bool is_host, int64_t now_us)
{
	for (size_t i = 0; i < n; i++) {
		const char *name = is_host ? v[i].host : v[i].target;
		if (v[i].until_us > now_us && name[0] != '\0' && strcmp(name, s) == 0) {
			return v[i].id;
		}
	}
	return 0;
}

// The id of a mute covering every one of names (by the first name's mute), 0 otherwise.
static uint64_t
all_muted(
    const coll_mute *v, size_t n, char *const *names, size_t n_names, bool is_host, int64_t now_us)
{
	uint64_t first = 0;
	for (size_t i = 0; i < n_names; i++) {
		uint64_t id = muted_name(v, n, names[i], is_host, now_us);
		if (id == 0) {
			return 0;
		}
		first = first != 0 ? first : id;
	}
	return first;
}

uint64_t
coll_mute_rule(const coll_mute *v, size_t n, const Fl__Finding *f, int64_t now_us)
{
	uint64_t id = all_muted(v, n, f->hosts, f->n_hosts, true, now_us);
	return id != 0 ? id : all_muted(v, n, f->targets, f->n_targets, false, now_us);
}

// ---- the list -------------------------------------------------------------------------------

// Drops expired mutes from memory (their rows go with the next mute added). Under mu.
static void
expire(coll_mutes *m, int64_t now_us)
{
	size_t k = 0;
	for (size_t i = 0; i < m->n; i++) {
		if (m->v[i].until_us > now_us) {
			m->v[k++] = m->v[i];
		}
	}
	m->n = k;
}

// Reads the rows of mutes active at now_us into v (at most COLL_MUTES_MAX); *n: how many.
static int
read_rows(fl_sql *db, int64_t now_us, coll_mute *v, size_t *n)
{
	fl_sql_stmt *s = NULL;
	int          rc;

	*n = 0;
	if ((rc = fl_sql_prepare(db,
	         "SELECT id, host, target, reason, created_us, until_us FROM notify_mutes"
	         " WHERE until_us > $1 ORDER BY id LIMIT $2",
	         &s)) != FL_SQL_OK ||
	    (rc = fl_sql_bind_int64(s, 1, now_us)) != FL_SQL_OK ||
	    (rc = fl_sql_bind_int64(s, 2, COLL_MUTES_MAX)) != FL_SQL_OK) {
		fl_sql_finalize(s);
		return rc;
	}
	while ((rc = fl_sql_step(s)) == FL_SQL_ROW && *n < COLL_MUTES_MAX) {
		coll_mute *x = &v[(*n)++];
		memset(x, 0, sizeof(*x));
		x->id = (uint64_t) fl_sql_column_int64(s, 0);
		snprintf(x->host, sizeof(x->host), "%s", fl_sql_column_text(s, 1));
		snprintf(x->target, sizeof(x->target), "%s", fl_sql_column_text(s, 2));
		snprintf(x->reason, sizeof(x->reason), "%s", fl_sql_column_text(s, 3));
		x->created_us = fl_sql_column_int64(s, 4);
		x->until_us   = fl_sql_column_int64(s, 5);
	}
	fl_sql_finalize(s);
	return rc == FL_SQL_DONE ? FL_SQL_OK : rc;
}

// Replaces m->v with the mutes active at now_us in the database (reading only: a standby may
// call it); on failure m->v is left as it was. Under mu.
static int
load(coll_mutes *m, int64_t now_us)
{
	fl_sql    *db = notify_db_conn(&m->d);
	coll_mute *v  = malloc(COLL_MUTES_MAX * sizeof(*v));
	size_t     n  = 0;
	int        rc = v == NULL ? FL_SQL_ERROR : FL_SQL_OK;

	if (rc == FL_SQL_OK && (rc = read_rows(db, now_us, v, &n)) == FL_SQL_OK) {
		memcpy(m->v, v, n * sizeof(*v));
		m->n = n;
	}
	free(v);
	return notify_db_note(&m->d, rc);
}

int
coll_mutes_open(const fl_sql_opts *o, int64_t now_us, coll_mutes **out, char *err, size_t errlen)
{
	coll_mutes *m = calloc(1, sizeof(*m));
	if (m == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_init(&m->mu, NULL);
	if (notify_db_open(&m->d, o, "the mutes", err, errlen) != 0) {
		pthread_mutex_destroy(&m->mu);
		free(m);
		return -1;
	}
	if (load(m, now_us) != FL_SQL_OK) {
		snprintf(err, errlen, "cannot read the mutes: %s", fl_sql_errmsg(m->d.db));
		coll_mutes_close(m);
		return -1;
	}
	*out = m;
	return 0;
}

int
coll_mutes_reload(coll_mutes *m, int64_t now_us)
{
	int rc;
	pthread_mutex_lock(&m->mu);
	rc = load(m, now_us);
	pthread_mutex_unlock(&m->mu);
	return rc == FL_SQL_OK ? 0 : rc;
}

void
coll_mutes_set_fence(coll_mutes *m, int64_t epoch)
{
	pthread_mutex_lock(&m->mu);
	notify_db_set_fence(&m->d, epoch);
	pthread_mutex_unlock(&m->mu);
}

void
coll_mutes_close(coll_mutes *m)
{
	if (m == NULL) {
		return;
	}
	notify_db_close(&m->d);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

// A host or target name, or a reason: printable UTF-8 of 1..max-1 bytes.
static bool
text_ok(const char *s, size_t max)
{
	char   why[96];
	size_t n = strlen(s);
	return n > 0 && n < max && fl_text_problem(s, why, sizeof(why)) == NULL;
}

// Runs s (finalized here) to its end; FL_SQL_OK or the failure. *id: the first row's first
// column when id is not NULL.
static int
run(fl_sql_stmt *s, uint64_t *id)
{
	int rc;
	while ((rc = fl_sql_step(s)) == FL_SQL_ROW) {
		if (id != NULL) {
			*id = (uint64_t) fl_sql_column_int64(s, 0);
			id  = NULL;
		}
	}
	fl_sql_finalize(s);
	return rc == FL_SQL_DONE ? FL_SQL_OK : rc;
}

// Inserts x (x->id set from the database), after deleting the expired rows, in one fenced
// transaction. Under mu. FL_SQL_OK or the failure (logged).
static int
insert(coll_mutes *m, coll_mute *x)
{
	fl_sql_stmt *s  = NULL;
	int          rc = notify_db_begin(&m->d);

	if (rc == FL_SQL_OK &&
	    (rc = fl_sql_prepare(m->d.db, "DELETE FROM notify_mutes WHERE until_us <= $1", &s)) ==
	        FL_SQL_OK &&
	    (rc = fl_sql_bind_int64(s, 1, x->created_us)) == FL_SQL_OK) {
		rc = run(s, NULL);
		s  = NULL;
	}
	fl_sql_finalize(s);
	s = NULL;
	if (rc == FL_SQL_OK &&
	    (rc = fl_sql_prepare(m->d.db,
	         "INSERT INTO notify_mutes (host, target, reason, created_us, until_us)"
	         " VALUES ($1, $2, $3, $4, $5) RETURNING id",
	         &s)) == FL_SQL_OK) {
		fl_sql_bind_text(s, 1, x->host);
		fl_sql_bind_text(s, 2, x->target);
		fl_sql_bind_text(s, 3, x->reason);
		fl_sql_bind_int64(s, 4, x->created_us);
		fl_sql_bind_int64(s, 5, x->until_us);
		rc = run(s, &x->id);
		s  = NULL;
	}
	fl_sql_finalize(s);
	if (rc != FL_SQL_OK && rc != FL_SQL_EFENCED && rc != FL_SQL_EBROKEN) {
		fl_log(FL_LOG_ERR, "notify", "cannot store a mute: %s", fl_sql_errmsg(m->d.db));
	}
	return notify_db_end(&m->d, rc);
}

// Deletes mute id's row in one fenced transaction. Under mu. FL_SQL_OK or the failure.
static int
delete_row(coll_mutes *m, uint64_t id)
{
	fl_sql_stmt *s  = NULL;
	int          rc = notify_db_begin(&m->d);

	if (rc == FL_SQL_OK &&
	    (rc = fl_sql_prepare(m->d.db, "DELETE FROM notify_mutes WHERE id = $1", &s)) ==
	        FL_SQL_OK &&
	    (rc = fl_sql_bind_int64(s, 1, (int64_t) id)) == FL_SQL_OK) {
		rc = run(s, NULL);
		s  = NULL;
	}
	fl_sql_finalize(s);
	if (rc != FL_SQL_OK && rc != FL_SQL_EFENCED && rc != FL_SQL_EBROKEN) {
		fl_log(FL_LOG_ERR, "notify", "cannot remove mute %llu: %s", (unsigned long long) id,
		    fl_sql_errmsg(m->d.db));
	}
	return notify_db_end(&m->d, rc);
}

// What the user reads when the database refused a mute's change.
static const char *
refusal(int rc)
{
	return rc == FL_SQL_EFENCED ? "this collector is no longer active (another holds the lease)"
	    : rc == FL_SQL_EBROKEN  ? "the state database cannot be reached"
	                            : "see the collector's log";
}

int
coll_mutes_add(coll_mutes *m, const char *host, const char *target, uint32_t for_s,
    const char *reason, int64_t now_us, coll_mute *out, char *err, size_t errlen)
{
	coll_mute x = { 0 };
	int       rc;
	bool      by_host   = host != NULL && host[0] != '\0';
	bool      by_target = target != NULL && target[0] != '\0';

	if (by_host == by_target) {
		snprintf(err, errlen, "mute needs either a host or a target");
		return -1;
	}
	if (!text_ok(by_host ? host : target, COLL_MUTE_NAME_MAX)) {
		snprintf(err, errlen, "a %s to mute is 1 to %d bytes of printable text",
		    by_host ? "host" : "target", COLL_MUTE_NAME_MAX - 1);
		return -1;
	}
	if (reason == NULL || !text_ok(reason, COLL_MUTE_REASON_MAX)) {
		snprintf(err, errlen, "a mute needs a reason of 1 to %d bytes of printable text",
		    COLL_MUTE_REASON_MAX - 1);
		return -1;
	}
	if (for_s == 0 || for_s > COLL_MUTE_FOR_MAX_S) {
		snprintf(err, errlen, "a mute lasts from 1s to 30d");
		return -1;
	}
	snprintf(x.host, sizeof(x.host), "%s", by_host ? host : "");
	snprintf(x.target, sizeof(x.target), "%s", by_target ? target : "");
	snprintf(x.reason, sizeof(x.reason), "%s", reason);
	x.created_us = now_us;
	x.until_us   = now_us + (int64_t) for_s * 1000000;

	pthread_mutex_lock(&m->mu);
	expire(m, now_us);
	if (m->n == COLL_MUTES_MAX) {
		pthread_mutex_unlock(&m->mu);
		snprintf(
		    err, errlen, "%d mutes are active already: unmute one first", COLL_MUTES_MAX);
		return -1;
	}
	if ((rc = insert(m, &x)) != FL_SQL_OK) {
		pthread_mutex_unlock(&m->mu);
		snprintf(err, errlen, "cannot store the mute: %s", refusal(rc));
		return -1;
	}
	m->v[m->n++] = x;
	pthread_mutex_unlock(&m->mu);
	*out = x;
	return 0;
}

int
coll_mutes_remove(coll_mutes *m, uint64_t id, int64_t now_us, coll_mute *out)
{
	int found = 0;

	pthread_mutex_lock(&m->mu);
	expire(m, now_us);
	for (size_t i = 0; i < m->n; i++) {
		if (m->v[i].id != id) {
			continue;
		}
		if (delete_row(m, id) != FL_SQL_OK) {
			found = -1;
			break;
		}
		*out = m->v[i];
		memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof(m->v[0]));
		m->n--;
		found = 1;
		break;
	}
	pthread_mutex_unlock(&m->mu);
	return found;
}

size_t
coll_mutes_list(coll_mutes *m, int64_t now_us, coll_mute *out, size_t max)
{
	size_t n;
	pthread_mutex_lock(&m->mu);
	expire(m, now_us);
	n = m->n;
	memcpy(out, m->v, (n < max ? n : max) * sizeof(*out));
	pthread_mutex_unlock(&m->mu);
	return n;
}

uint64_t
coll_mutes_covering(coll_mutes *m, const Fl__Finding *f, int64_t now_us)
{
	uint64_t id;
	if (m == NULL) {
		return 0;
	}
	pthread_mutex_lock(&m->mu);
	id = coll_mute_rule(m->v, m->n, f, now_us);
	pthread_mutex_unlock(&m->mu);
	return id;
}

void
coll_mutes_mark(coll_mutes *m, Fl__DiagnoseReply *r, int64_t now_us)
{
	for (size_t i = 0; i < r->n_findings; i++) {
		r->findings[i]->muted_by = coll_mutes_covering(m, r->findings[i], now_us);
	}
}
