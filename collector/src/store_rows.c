// store_rows.c - see store_rows.h.

#include "store_rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl/log.h"
#include "fl/names.h"
#include "fl/str.h"

#define ROWS_LEVELS    8   // statements of 1, 2, 4 ... COLL_ROWS_MAX rows
#define ROWS_KEY_SLOTS 512 // open addressing over at most COLL_ROWS_MAX waiting keys

_Static_assert((1u << (ROWS_LEVELS - 1)) == COLL_ROWS_MAX, "a level per power of two");
_Static_assert(ROWS_KEY_SLOTS >= 2 * COLL_ROWS_MAX, "the key table stays half empty");

typedef enum rows_kind { ROWS_HOST, ROWS_SEEN, ROWS_LATEST, ROWS_EVENT, ROWS_KINDS } rows_kind;

// One kind's statement text: head, then a row "(...)" per row of ncols parameters, then tail.
typedef struct rows_spec {
	const char *head;
	const char *tail;
	int         ncols;
	const char *first_cast; // the type the row's first column is cast to; NULL: none
	const char *cast;       // and the other columns'
} rows_spec;

static const rows_spec specs[ROWS_KINDS] = {
	[ROWS_HOST] = {
		.head  = "INSERT INTO hosts (host, release, previous_release, release_since,"
		         " first_seen, last_seen, interval_ms, agent_version, boot_id, last_seq,"
		         " clock_skew, labels) VALUES ",
		.tail  = " ON CONFLICT (host) DO UPDATE SET release = excluded.release,"
		         " previous_release = excluded.previous_release,"
		         " release_since = excluded.release_since, last_seen = excluded.last_seen,"
		         " interval_ms = excluded.interval_ms, agent_version = excluded.agent_version,"
		         " boot_id = excluded.boot_id, last_seq = excluded.last_seq,"
		         " clock_skew = excluded.clock_skew, labels = excluded.labels",
		.ncols = 12,
	},
	// The rows of an UPDATE ... FROM (VALUES ...) have no target column to take their types
	// from, so PostgreSQL is told them (SQLite accepts the same CASTs).
	[ROWS_SEEN] = {
		.head       = "UPDATE hosts SET last_seen = v.column2, interval_ms = v.column3,"
		              " boot_id = v.column4, last_seq = v.column5, clock_skew = v.column6"
		              " FROM (VALUES ",
		.tail       = ") AS v WHERE hosts.host = v.column1",
		.ncols      = 6,
		.first_cast = "TEXT",
		.cast       = "BIGINT",
	},
	[ROWS_LATEST] = {
		.head  = "INSERT INTO latest (host, probe, result, status, failure, since) VALUES ",
		.tail  = " ON CONFLICT (host, probe) DO UPDATE SET result = excluded.result,"
		         " status = excluded.status, failure = excluded.failure,"
		         " since = excluded.since",
		.ncols = 6,
	},
	[ROWS_EVENT] = {
		.head  = "INSERT INTO history (at_us, host, kind, probe, \"from\", \"to\", failure,"
		         " detail, agent_time_us) VALUES ",
		.tail  = "",
		.ncols = 9,
	},
};

// The rows of one kind waiting. A key waits in at most one queue of its table (see add).
typedef struct rows_queue {
	rows_kind      kind;
	size_t         n;
	const coll_op *v[COLL_ROWS_MAX];
	uint16_t       slot[ROWS_KEY_SLOTS]; // index + 1 into v by key hash; 0: free
} rows_queue;

struct coll_rows {
	fl_sql      *db;
	unsigned     max_rows;
	uint64_t     statements;
	fl_sql_stmt *stmt[ROWS_KINDS][ROWS_LEVELS];
	rows_queue   q[ROWS_KINDS];
};

static rows_kind
kind_of(coll_op_kind k)
{
	switch (k) {
	case COLL_OP_HOST:
		return ROWS_HOST;
	case COLL_OP_SEEN:
		return ROWS_SEEN;
	case COLL_OP_LATEST:
		return ROWS_LATEST;
	case COLL_OP_EVENT:
		return ROWS_EVENT;
	default:
		return ROWS_KINDS;
	}
}

coll_rows *
coll_rows_new(fl_sql *db, unsigned max_rows)
{
	coll_rows *w;

	if (max_rows == 0 || max_rows > COLL_ROWS_MAX || (max_rows & (max_rows - 1)) != 0) {
		return NULL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		return NULL;
	}
	w->db       = db;
	w->max_rows = max_rows;
	for (int k = 0; k < ROWS_KINDS; k++) {
		w->q[k].kind = (rows_kind) k;
	}
	return w;
}

void
coll_rows_free(coll_rows *w)
{
	if (w == NULL) {
		return;
	}
	for (int k = 0; k < ROWS_KINDS; k++) {
		for (int l = 0; l < ROWS_LEVELS; l++) {
			fl_sql_finalize(w->stmt[k][l]);
		}
	}
	free(w);
}

uint64_t
coll_rows_statements(const coll_rows *w)
{
	return w->statements;
}

// ---- statements ------------------------------------------------------------------------------

// The text of kind's statement for nrows rows (malloc'd), or NULL when out of memory.
static char *
statement_text(rows_kind kind, unsigned nrows)
{
	const rows_spec *sp  = &specs[kind];
	size_t           cap = strlen(sp->head) + strlen(sp->tail) + 1 +
	    (size_t) nrows * ((size_t) sp->ncols * 32 + 4);
	char  *text = malloc(cap);
	size_t n;
	int    param = 1;

	if (text == NULL) {
		return NULL;
	}
	n = (size_t) snprintf(text, cap, "%s", sp->head);
	for (unsigned r = 0; r < nrows; r++) {
		n += (size_t) snprintf(text + n, cap - n, "%s(", r > 0 ? ", " : "");
		for (int c = 0; c < sp->ncols; c++) {
			if (c > 0) {
				n += (size_t) snprintf(text + n, cap - n, ", ");
			}
			const char *cast = c == 0 ? sp->first_cast : sp->cast;
			if (cast != NULL) {
				n += (size_t) snprintf(
				    text + n, cap - n, "CAST($%d AS %s)", param++, cast);
			} else {
				n += (size_t) snprintf(text + n, cap - n, "$%d", param++);
			}
		}
		n += (size_t) snprintf(text + n, cap - n, ")");
	}
	snprintf(text + n, cap - n, "%s", sp->tail);
	return text;
}

// kind's statement for 2^level rows, prepared on first use.
static fl_sql_stmt *
statement(coll_rows *w, rows_kind kind, int level)
{
	char *text;
	int   rc;

	if (w->stmt[kind][level] != NULL) {
		return w->stmt[kind][level];
	}
	if ((text = statement_text(kind, 1u << level)) == NULL) {
		fl_log(FL_LOG_ERR, "store", "cannot write state: out of memory");
		return NULL;
	}
	rc = fl_sql_prepare(w->db, text, &w->stmt[kind][level]);
	free(text);
	if (rc != FL_SQL_OK) {
		fl_log(FL_LOG_ERR, "store", "cannot prepare a write: %s", fl_sql_errmsg(w->db));
		w->stmt[kind][level] = NULL;
		return NULL;
	}
	return w->stmt[kind][level];
}

// ---- binding (parameters base+1 ... base+ncols) ------------------------------------------------

static void
bind_host(fl_sql_stmt *s, int base, const coll_host_row *h)
{
	fl_sql_bind_text(s, base + 1, h->host);
	fl_sql_bind_text(s, base + 2, h->release);
	fl_sql_bind_text(s, base + 3, h->previous_release);
	fl_sql_bind_int64(s, base + 4, h->release_since_us);
	fl_sql_bind_int64(s, base + 5, h->first_seen_us);
	fl_sql_bind_int64(s, base + 6, h->last_seen_us);
	fl_sql_bind_int64(s, base + 7, h->interval_ms);
	fl_sql_bind_text(s, base + 8, h->agent_version);
	fl_sql_bind_int64(s, base + 9, (int64_t) h->boot_id);
	fl_sql_bind_int64(s, base + 10, (int64_t) h->last_seq);
	fl_sql_bind_int64(s, base + 11, h->clock_skew_us);
	fl_sql_bind_text(s, base + 12, fl_str_or_empty(h->labels));
}

static void
bind_seen(fl_sql_stmt *s, int base, const coll_host_row *h)
{
	fl_sql_bind_text(s, base + 1, h->host);
	fl_sql_bind_int64(s, base + 2, h->last_seen_us);
	fl_sql_bind_int64(s, base + 3, h->interval_ms);
	fl_sql_bind_int64(s, base + 4, (int64_t) h->boot_id);
	fl_sql_bind_int64(s, base + 5, (int64_t) h->last_seq);
	fl_sql_bind_int64(s, base + 6, h->clock_skew_us);
}

static void
bind_latest(fl_sql_stmt *s, int base, const coll_latest_row *l)
{
	fl_sql_bind_text(s, base + 1, l->host);
	fl_sql_bind_text(s, base + 2, l->probe);
	fl_sql_bind_blob(s, base + 3, l->result, l->result_len);
	fl_sql_bind_text(s, base + 4, fl_status_name((Fl__Status) l->status));
	fl_sql_bind_text(s, base + 5, fl_failure_name((Fl__FailureClass) l->failure));
	fl_sql_bind_int64(s, base + 6, l->since_us);
}

static void
bind_event(fl_sql_stmt *s, int base, const coll_event *e)
{
	fl_sql_bind_int64(s, base + 1, e->at_us);
	fl_sql_bind_text(s, base + 2, e->host);
	fl_sql_bind_text(s, base + 3, fl_history_kind_name(e->kind));
	fl_sql_bind_text(s, base + 4, e->probe);
	fl_sql_bind_text(s, base + 5, e->from);
	fl_sql_bind_text(s, base + 6, e->to);
	fl_sql_bind_text(s, base + 7, fl_failure_name((Fl__FailureClass) e->failure));
	fl_sql_bind_text(s, base + 8, e->detail);
	fl_sql_bind_int64(s, base + 9, e->agent_time_us);
}

static void
bind_row(fl_sql_stmt *s, rows_kind kind, int base, const coll_op *op)
{
	switch (kind) {
	case ROWS_HOST:
		bind_host(s, base, &op->u.host);
		break;
	case ROWS_SEEN:
		bind_seen(s, base, &op->u.host);
		break;
	case ROWS_LATEST:
		bind_latest(s, base, &op->u.latest);
		break;
	case ROWS_EVENT:
	case ROWS_KINDS:
		bind_event(s, base, &op->u.event);
		break;
	}
}

// ---- waiting rows ----------------------------------------------------------------------------

// The row's key in its table: hosts by host, latest by (host, probe); history rows have none.
static uint64_t
key_hash(rows_kind kind, const coll_op *op)
{
	uint64_t    h = 1469598103934665603ULL; // FNV-1a
	const char *parts[2];
	int         n = 0;

	if (kind == ROWS_LATEST) {
		parts[n++] = op->u.latest.host;
		parts[n++] = op->u.latest.probe;
	} else {
		parts[n++] = op->u.host.host;
	}
	for (int i = 0; i < n; i++) {
		for (const unsigned char *p = (const unsigned char *) parts[i]; *p != '\0'; p++) {
			h = (h ^ *p) * 1099511628211ULL;
		}
		h = (h ^ 0xff) * 1099511628211ULL; // separates "ab"+"c" from "a"+"bc"
	}
	return h;
}

static bool
same_key(rows_kind kind, const coll_op *a, const coll_op *b)
{
	if (kind == ROWS_LATEST) {
		return strcmp(a->u.latest.host, b->u.latest.host) == 0 &&
		    strcmp(a->u.latest.probe, b->u.latest.probe) == 0;
	}
	return strcmp(a->u.host.host, b->u.host.host) == 0;
}

// Looks op's key up in q; when absent and add, records it as q's row q->n. Returns whether it
// was there.
static bool
key_seen(rows_queue *q, const coll_op *op, bool add)
{
	size_t i = (size_t) key_hash(q->kind, op) & (ROWS_KEY_SLOTS - 1);

	for (; q->slot[i] != 0; i = (i + 1) & (ROWS_KEY_SLOTS - 1)) {
		if (same_key(q->kind, q->v[q->slot[i] - 1], op)) {
			return true;
		}
	}
	if (add) {
		q->slot[i] = (uint16_t) (q->n + 1);
	}
	return false;
}

static void
queue_clear(rows_queue *q)
{
	if (q->n > 0) {
		q->n = 0;
		memset(q->slot, 0, sizeof(q->slot));
	}
}

// Runs rows [from, from + 2^level) of q as one statement.
static int
write_rows(coll_rows *w, rows_queue *q, size_t from, int level)
{
	fl_sql_stmt *s     = statement(w, q->kind, level);
	size_t       nrows = (size_t) 1 << level;
	int          ncols = specs[q->kind].ncols;
	int          rc;

	if (s == NULL) {
		return -1;
	}
	for (size_t r = 0; r < nrows; r++) {
		bind_row(s, q->kind, (int) r * ncols, q->v[from + r]);
	}
	rc = fl_sql_step(s);
	fl_sql_reset(s);
	w->statements++;
	if (rc != FL_SQL_DONE) {
		fl_log(FL_LOG_ERR, "store", "cannot write state: %s", fl_sql_errmsg(w->db));
		return -1;
	}
	return 0;
}

// The largest power of two at most n (n > 0), as its exponent.
static int
level_of(size_t n)
{
	int l = 0;
	while (l + 1 < ROWS_LEVELS && ((size_t) 2 << l) <= n) {
		l++;
	}
	return l;
}

static int
queue_flush(coll_rows *w, rows_queue *q)
{
	size_t done = 0;
	int    rv   = 0;

	while (done < q->n && rv == 0) {
		int level = level_of(q->n - done);
		rv        = write_rows(w, q, done, level);
		done += (size_t) 1 << level;
	}
	queue_clear(q);
	return rv;
}

// The other kind writing the same table as kind (hosts: HOST and SEEN), or ROWS_KINDS.
static rows_kind
sibling_of(rows_kind kind)
{
	switch (kind) {
	case ROWS_HOST:
		return ROWS_SEEN;
	case ROWS_SEEN:
		return ROWS_HOST;
	default:
		return ROWS_KINDS;
	}
}

int
coll_rows_add(coll_rows *w, const coll_op *op)
{
	rows_kind   kind = kind_of(op->kind);
	rows_kind   sib;
	rows_queue *q;

	if (kind == ROWS_KINDS) {
		fl_log(
		    FL_LOG_ERR, "store", "cannot write state: op %d is not a row", (int) op->kind);
		return -1;
	}
	q = &w->q[kind];
	if (kind != ROWS_EVENT) {
		// The row's earlier write goes first, wherever it waits: then rows waiting in
		// different queues have different keys, and the queues may run in any order.
		sib = sibling_of(kind);
		if (sib != ROWS_KINDS && w->q[sib].n > 0 && key_seen(&w->q[sib], op, false) &&
		    queue_flush(w, &w->q[sib]) != 0) {
			return -1;
		}
		if (q->n > 0 && key_seen(q, op, false) && queue_flush(w, q) != 0) {
			return -1;
		}
		key_seen(q, op, true);
	}
	q->v[q->n++] = op;
	return q->n == w->max_rows ? queue_flush(w, q) : 0;
}

int
coll_rows_flush(coll_rows *w)
{
	for (int k = 0; k < ROWS_KINDS; k++) {
		if (w->q[k].n > 0 && queue_flush(w, &w->q[k]) != 0) {
			coll_rows_discard(w);
			return -1;
		}
	}
	return 0;
}

void
coll_rows_discard(coll_rows *w)
{
	for (int k = 0; k < ROWS_KINDS; k++) {
		queue_clear(&w->q[k]);
	}
}
