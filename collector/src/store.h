// store.h - the collector's durable state: hosts, latest result per probe, history; in SQLite
// (the embedded default) or PostgreSQL (shared by collectors), through sql.h.
//
// One coll_store is one connection, used by one thread at a time. The ingest thread owns the
// writer; the control thread opens its own read-only connection for history queries (SQLite's
// WAL lets readers run while the writer commits). The schema is versioned (component "store"
// of sql_migrate.h, docs/store.md) and brought up to date when a writer opens. The hot path never
// calls the store for an unchanged result: the state module turns only transitions into coll_ops,
// and the ingest thread writes a batch of them in one transaction with coll_store_write().
//
// Strings in rows and ops are owned by whoever built them; the store only borrows them for the
// call. Rows handed to load callbacks are valid only during the callback.

#ifndef FL_COLLECTOR_STORE_H
#define FL_COLLECTOR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "faultline.pb-c.h"
#include "sql.h"

typedef struct coll_store coll_store;

// A hosts row.
typedef struct coll_host_row {
	const char *host;
	const char *release;
	const char *previous_release;
	int64_t     release_since_us;
	int64_t     first_seen_us;
	int64_t     last_seen_us;
	uint32_t    interval_ms;
	const char *agent_version;
	uint64_t    boot_id;  // with last_seq: duplicate detection survives a restart
	uint64_t    last_seq; // (approximately: written with last_seen, every few seconds)
	int64_t     clock_skew_us;
	const char *labels; // "key=value,..."; "" for none
	bool        stale;  // load only: its last stale/back event since first_seen is "stale"
} coll_host_row;

// A latest row: the last result of (host, probe) as of its last transition.
typedef struct coll_latest_row {
	const char    *host;
	const char    *probe;
	const uint8_t *result; // packed Fl__ProbeResult
	size_t         result_len;
	int            status;  // Fl__Status
	int            failure; // Fl__FailureClass
	int64_t        since_us;
} coll_latest_row;

// A history row (HistoryEvent in the proto).
typedef struct coll_event {
	int64_t         at_us;
	const char     *host;
	Fl__HistoryKind kind; // stored as its name (fl_history_kind_name)
	const char     *probe;
	const char     *from;
	const char     *to;
	int             failure; // Fl__FailureClass
	const char     *detail;
	int64_t         agent_time_us;
} coll_event;

typedef enum coll_op_kind {
	COLL_OP_HOST,        // upsert the whole hosts row
	COLL_OP_SEEN,        // update last_seen_us, boot_id, last_seq, skew, interval only
	COLL_OP_LATEST,      // upsert a latest row
	COLL_OP_EVENT,       // append a history row
	COLL_OP_FORGET,      // delete the hosts row and the latest rows of u.host.host (`faultline
	                     // forget`)
	COLL_OP_DROP_LATEST, // delete the latest row of (host, probe): gone from the agent's config
} coll_op_kind;

// One pending write. Every string and the blob are heap copies owned by the op (see
// coll_op_free), so a batch outlives the state lock it was built under.
typedef struct coll_op {
	coll_op_kind kind;
	union {
		coll_host_row   host;
		coll_latest_row latest;
		coll_event      event;
	} u;
} coll_op;

// A growable batch of ops.
typedef struct coll_ops {
	coll_op *v;
	size_t   n;
	size_t   cap;
} coll_ops;

void coll_ops_init(coll_ops *ops);
void coll_ops_clear(coll_ops *ops); // frees every op's copies, keeps the array
void coll_ops_fini(coll_ops *ops);
void coll_ops_truncate(coll_ops *ops, size_t n); // frees the ops after the first n

// Moves every op of src to the end of dst (dst takes their copies; src is left empty).
// Returns 0, or -1 when out of memory (both unchanged).
int coll_ops_move(coll_ops *dst, coll_ops *src);

// Appends a copy of the row. Return 0, or -1 when out of memory (ops unchanged).
int coll_ops_host(coll_ops *ops, coll_op_kind kind, const coll_host_row *row);
int coll_ops_latest(coll_ops *ops, const coll_latest_row *row);
int coll_ops_event(coll_ops *ops, const coll_event *ev);
int coll_ops_drop_latest(coll_ops *ops, const char *host, const char *probe);

// Opens the database o names (creating a SQLite file if needed), applies the store's missing
// migrations (a database newer than this binary is refused) and prepares the statements.
// o->readonly opens an existing database for queries only. On failure *out is untouched and err
// says why.
int  coll_store_open(const fl_sql_opts *o, coll_store **out, char *err, size_t errlen);
void coll_store_close(coll_store *st); // accepts NULL

// The store's connection, for a caller that fences its writes (fl_sql_set_fence) or runs
// statements of its own on it; owned by the store.
fl_sql *coll_store_sql(coll_store *st);

// Writes every op of the batch in one transaction (fenced when the connection has a fence).
// Returns 0, or -1 (logged; the transaction is rolled back, the batch is kept by the caller, who
// may retry or drop it).
// Rows of one kind go many to a statement (store_rows.h): far fewer round trips on PostgreSQL.
int coll_store_write(coll_store *st, const coll_ops *ops);

// Rows a write statement holds at most: a power of two from 1 (one statement per row) to
// COLL_ROWS_MAX (the default). For the bench and the tests, which compare both. Returns 0, or -1
// (out of memory or not such a number; unchanged). Writer only, between writes.
int coll_store_set_rows_per_statement(coll_store *st, unsigned max_rows);

// Row write statements run since the store opened (or since the last
// coll_store_set_rows_per_statement).
uint64_t coll_store_write_statements(const coll_store *st);

// Calls on_host for every hosts row (most recently seen first), then on_latest for every latest
// row, then on_verdict
// once with the newest verdict event (if any). A callback returning nonzero stops the load,
// which then returns -1.
typedef struct coll_store_loader {
	int (*on_host)(void *arg, const coll_host_row *row);
	int (*on_latest)(void *arg, const coll_latest_row *row);
	int (*on_verdict)(void *arg, const char *verdict, const char *summary);
	void *arg;
} coll_store_loader;
int coll_store_load(coll_store *st, const coll_store_loader *ld);

// Where a copy of the state stands in the store's changes (PostgreSQL; docs/store.md, "Change
// stamps"). Every hosts and latest row inserted or updated takes the next value of one sequence
// in the writing transaction, a host's stale/back event restamps its row, and a delete of
// either kind of row is noted. Those rows are written by one connection only, the active's
// writer, one transaction after another, fenced by the lease (a new active's first write
// waits for the old one's last transaction to end): stamps are committed in increasing order,
// so the rows stamped above the highest stamp a snapshot saw are exactly what changed since.
typedef struct coll_store_cursor {
	bool    valid;   // false: nothing read yet, or SQLite (no stamps): load everything
	int64_t epoch;   // the lease epoch in the snapshot read
	int64_t deleted; // the stamp of the last delete of a hosts or latest row, then
	int64_t hosts;   // the highest hosts stamp read
	int64_t latest;  // the highest latest stamp read
} coll_store_cursor;

// coll_store_load in one snapshot (PostgreSQL), and *cur set to where it stands (not valid on
// SQLite). 0, or -1 (*cur not valid).
int coll_store_load_at(coll_store *st, const coll_store_loader *ld, coll_store_cursor *cur);

// What changed since *cur, read in one snapshot: on_host for each hosts row stamped since,
// on_latest for each latest row stamped since (per host in the order its probes appeared),
// on_verdict with the newest verdict; then *cur moves to the snapshot. Returns 0;
// COLL_STORE_CHANGES_UNKNOWN when the changes cannot be told from the stamps (cur not valid,
// SQLite, a row deleted or the lease taken since): nothing was called, load everything
// instead (coll_store_load_at); -1 on failure (*cur unchanged).
#define COLL_STORE_CHANGES_UNKNOWN 1
int coll_store_load_changes(coll_store *st, const coll_store_loader *ld, coll_store_cursor *cur);

// Reads history events with at_us >= since_us (0: all), for host (NULL or "": all hosts). When
// more than limit match, the newest limit are returned; either way oldest first. On success
// *out holds a HistoryReply the caller frees with coll_history_reply_free.
int coll_store_history(
    coll_store *st, int64_t since_us, const char *host, uint32_t limit, Fl__HistoryReply **out);

// The same, restricted to the events of hosts[0..n_hosts) when hosts is not NULL (a label
// filter: n_hosts 0 then gives no events; events without a host are left out).
int  coll_store_history_hosts(coll_store *st, int64_t since_us, const char *host,
     const char *const *hosts, size_t n_hosts, uint32_t limit, Fl__HistoryReply **out);
void coll_history_reply_free(Fl__HistoryReply *r); // accepts NULL

// Deletes history older than before_us, the oldest first, at most batch rows per call (one
// short transaction: call again while it returns batch). Returns the rows deleted, or -1.
long coll_store_prune(coll_store *st, int64_t before_us, uint32_t batch);

// Deletes the oldest history events beyond the newest max_events, at most batch of them per
// call (a large delete would hold up ingest: call again while it returns batch). Returns the
// number of rows deleted, or -1.
long coll_store_prune_count(coll_store *st, uint64_t max_events, uint32_t batch);

#endif // FL_COLLECTOR_STORE_H
