// store_rows.h - the store's row writes, many rows a statement.
//
// Why: the ingest thread writes every transition of a batch in one transaction, and on
// PostgreSQL each statement is a round trip. A first round of 10,000 agents x 20 probes is
// 200,000 new latest rows: one statement each took ~25 s (~8,000 rows/s) while reports queued
// up behind it. Here rows of one kind are gathered and written as one multi-row statement
// (INSERT ... VALUES (...), (...) ON CONFLICT ... DO UPDATE; UPDATE ... FROM (VALUES ...)),
// up to max_rows rows a statement; both engines run the same text.
//
// Same result as one statement per op, in op order:
//   - rows wait in one queue per kind (hosts upsert COLL_OP_HOST, last_seen update COLL_OP_SEEN,
//     latest upsert, history insert), and the queues run in any order: no statement reads
//     another table, and a row whose key (host; host and probe) already waits in a queue of its
//     table sends that queue first. So the writes of one row keep their order, and no statement
//     writes one row twice (PostgreSQL refuses that for an upsert, and an UPDATE ... FROM
//     would apply one of them at random);
//   - history rows keep their order (ids grow in op order).
// A caller with a write that is not a row (a delete) calls coll_rows_flush() first.
//
// Statements are prepared on first use, one per power of two of rows up to max_rows, so a
// flush of n rows runs at most log2(max_rows) + 1 statements beyond n / max_rows. Everything
// runs on the caller's connection, inside the caller's transaction (and its fence).

#ifndef FL_COLLECTOR_STORE_ROWS_H
#define FL_COLLECTOR_STORE_ROWS_H

#include "sql.h"
#include "store.h"

#define COLL_ROWS_MAX     128 // rows a statement at most (a power of two)
#define COLL_ROWS_DEFAULT 128

typedef struct coll_rows coll_rows;

// max_rows: a power of two from 1 (one statement per row, as before batching) to
// COLL_ROWS_MAX. Returns NULL when out of memory or max_rows is not one of those.
coll_rows *coll_rows_new(fl_sql *db, unsigned max_rows);
void       coll_rows_free(coll_rows *w); // accepts NULL; finalizes its statements

// Queues op (COLL_OP_HOST, _SEEN, _LATEST or _EVENT; borrowed until the next flush), writing
// the waiting rows of its table first when the rule above says so, and the op's kind when
// max_rows are waiting. Returns 0, or -1 when a write failed (logged, with fl_sql_errmsg):
// the caller rolls back; the waiting rows are then discarded by coll_rows_discard().
int coll_rows_add(coll_rows *w, const coll_op *op);

// Writes every waiting row. Returns 0 or -1 as coll_rows_add.
int coll_rows_flush(coll_rows *w);

// Forgets the waiting rows without writing them (after a failure, before a rollback).
void coll_rows_discard(coll_rows *w);

// Statements run since coll_rows_new: what batching saves, for the bench and the tests.
uint64_t coll_rows_statements(const coll_rows *w);

#endif // FL_COLLECTOR_STORE_ROWS_H
