// notify_mute.c - see notify_mute.h.

#include "notify_mute.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "fl/log.h"
#include "fl/text.h"

struct coll_mutes {
	pthread_mutex_t mu;
	sqlite3        *db;
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

// Drops expired mutes from memory (their rows go at the next open). Under mu.
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

static int
load(coll_mutes *m, int64_t now_us)
{
	sqlite3_stmt *s = NULL;
	int           rc;

	if (sqlite3_prepare_v2(m->db, "DELETE FROM notify_mutes WHERE until_us <= ?1", -1, &s,
	        NULL) != SQLITE_OK) {
		return -1;
	}
	sqlite3_bind_int64(s, 1, now_us);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE ||
	    sqlite3_prepare_v2(m->db,
	        "SELECT id, host, target, reason, created_us, until_us FROM notify_mutes"
	        " ORDER BY id LIMIT ?1",
	        -1, &s, NULL) != SQLITE_OK) {
		return -1;
	}
	sqlite3_bind_int(s, 1, COLL_MUTES_MAX);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		coll_mute *x = &m->v[m->n++];
		memset(x, 0, sizeof(*x));
		x->id = (uint64_t) sqlite3_column_int64(s, 0);
		snprintf(x->host, sizeof(x->host), "%s", (const char *) sqlite3_column_text(s, 1));
		snprintf(
		    x->target, sizeof(x->target), "%s", (const char *) sqlite3_column_text(s, 2));
		snprintf(
		    x->reason, sizeof(x->reason), "%s", (const char *) sqlite3_column_text(s, 3));
		x->created_us = sqlite3_column_int64(s, 4);
		x->until_us   = sqlite3_column_int64(s, 5);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
coll_mutes_open(const char *path, int64_t now_us, coll_mutes **out, char *err, size_t errlen)
{
	coll_mutes *m = calloc(1, sizeof(*m));
	if (m == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_init(&m->mu, NULL);
	if (sqlite3_open_v2(path, &m->db,
	        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
	        NULL) != SQLITE_OK ||
	    (sqlite3_busy_timeout(m->db, 5000),
	        sqlite3_exec(m->db,
	            "CREATE TABLE IF NOT EXISTS notify_mutes ("
	            " id INTEGER PRIMARY KEY AUTOINCREMENT, host TEXT NOT NULL, target TEXT NOT "
	            "NULL,"
	            " reason TEXT NOT NULL, created_us INTEGER NOT NULL, until_us INTEGER NOT "
	            "NULL);",
	            NULL, NULL, NULL) != SQLITE_OK) ||
	    load(m, now_us) != 0) {
		snprintf(err, errlen, "cannot read the mutes in %s: %s", path,
		    m->db != NULL ? sqlite3_errmsg(m->db) : "out of memory");
		coll_mutes_close(m);
		return -1;
	}
	*out = m;
	return 0;
}

void
coll_mutes_close(coll_mutes *m)
{
	if (m == NULL) {
		return;
	}
	sqlite3_close(m->db);
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

static int
insert(coll_mutes *m, coll_mute *x)
{
	sqlite3_stmt *s = NULL;
	int           rc;
	if (sqlite3_prepare_v2(m->db,
	        "INSERT INTO notify_mutes (host, target, reason, created_us, until_us)"
	        " VALUES (?1, ?2, ?3, ?4, ?5)",
	        -1, &s, NULL) != SQLITE_OK) {
		return -1;
	}
	sqlite3_bind_text(s, 1, x->host, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, x->target, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, x->reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, x->created_us);
	sqlite3_bind_int64(s, 5, x->until_us);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		return -1;
	}
	x->id = (uint64_t) sqlite3_last_insert_rowid(m->db);
	return 0;
}

int
coll_mutes_add(coll_mutes *m, const char *host, const char *target, uint32_t for_s,
    const char *reason, int64_t now_us, coll_mute *out, char *err, size_t errlen)
{
	coll_mute x         = { 0 };
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
	if (insert(m, &x) != 0) {
		fl_log(FL_LOG_ERR, "notify", "cannot store a mute: %s", sqlite3_errmsg(m->db));
		pthread_mutex_unlock(&m->mu);
		snprintf(err, errlen, "cannot store the mute (see the collector's log)");
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
	sqlite3_stmt *s     = NULL;
	int           found = 0;

	pthread_mutex_lock(&m->mu);
	expire(m, now_us);
	for (size_t i = 0; i < m->n; i++) {
		if (m->v[i].id != id) {
			continue;
		}
		if (sqlite3_prepare_v2(m->db, "DELETE FROM notify_mutes WHERE id = ?1", -1, &s,
		        NULL) != SQLITE_OK) {
			found = -1;
			break;
		}
		sqlite3_bind_int64(s, 1, (sqlite3_int64) id);
		int rc = sqlite3_step(s);
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE) {
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
	if (found < 0) {
		fl_log(FL_LOG_ERR, "notify", "cannot remove mute %llu: %s", (unsigned long long) id,
		    sqlite3_errmsg(m->db));
	}
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
