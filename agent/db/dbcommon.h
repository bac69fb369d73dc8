// dbcommon.h - what the PostgreSQL and MySQL probes share: config keys, secrets, requirement
// expansion. Internal to agent/db/.
//
// Both probes read their password anew every round (from a mode-0600 file or the agent's
// environment), so a rotated secret is picked up without a restart, and wipe it as soon as the
// client library has it.

#ifndef FL_AGENT_DBCOMMON_H
#define FL_AGENT_DBCOMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "expect.h"
#include "probe.h"

#define DB_SECRET_MAX 256

// Keys both database probes accept, with their values.
typedef struct db_common {
	char     name[128];
	char     password_file[1024];
	char     password_env[128];
	uint32_t timeout_ms;     // default 3000
	uint32_t slow_ms;        // 0: no slow threshold
	uint32_t saturation_pct; // saturation_warn: warn above this share of the limit (90; 0 off)
	bool     replica;        // replica = yes: measure and judge replication lag
	uint32_t max_lag_ms;     // max_lag: a replica further behind is warn (default 30s)
	uint32_t cert_warn_s;    // cert_warn (PostgreSQL over TLS): warn when the server's
	                         // certificate expires sooner (default 14d; 0 off)
} db_common;

// What the round's state query found (the drivers fold it into their first query, so it costs
// no extra round trip). Zero means "not measured" for the counts.
typedef struct db_state {
	bool     read_only;
	char     read_only_reason[64]; // "in recovery", "default_transaction_read_only", ...
	uint32_t conns_in_use;
	uint32_t conns_limit;      // 0: not measured
	bool     lag_known;        // replicas: false when replication is not running
	int64_t  lag_ms;           // behind the primary, when lag_known
	char     lag_problem[160]; // why lag_known is false ("replication is not running")
} db_state;

void db_common_init(db_common *c, const char *name);

// Handles password_file, password_env, timeout, slow, saturation_warn, replica and max_lag.
// Returns 1 when the key was one of
// these and was accepted, 0 when the key is not a common one, -1 (with err) when its value is
// bad.
int db_common_set(db_common *c, const char *key, const char *value, char *err, size_t errlen);

// Checks the common keys once the section is complete, including that a password file exists
// and is not readable by group or others.
int db_common_validate(const db_common *c, char *err, size_t errlen);

// Reads the password for one round into out (DB_SECRET_MAX bytes). Returns 1 when a password
// was configured and read, 0 when none is configured, -1 with a reason in err (never the
// secret) when it cannot be read.
int db_password_read(const db_common *c, char *out, char *err, size_t errlen);

// Overwrites a secret in memory in a way the compiler may not drop.
void db_secret_wipe(char *s, size_t len);

// One (requirement, privilege) pair to check; a requirement without privileges gives one row
// with priv "" (existence only).
typedef struct db_check_row {
	size_t                   req; // index into the db's reqs
	const agent_requirement *r;
	const char              *priv; // "" for existence only
} db_check_row;

// Expands a database's requirements into rows (heap array, caller frees). NULL when out of
// memory; *n is set to 0 for an empty list (which returns a non-NULL pointer).
db_check_row *db_check_rows(const agent_db_expect *d, size_t *n);

// Splits "a.b.c" at its last dot: "a.b" into head, "c" into tail. -1 when it does not fit.
int db_split_last(const char *obj, char *head, size_t headlen, char *tail, size_t taillen);

// Sets status ok or warn/slow from the total time, with a detail. Used when nothing failed.
void db_finish_ok(agent_result *res, const db_common *c, uint32_t total_ms, const char *what);

// The first requirement of d that needs to write ("INSERT on public.orders"), written to out.
// Returns 1 when there is one, 0 when d (which may be NULL) needs reads only. Writes are
// INSERT, UPDATE, DELETE and TRUNCATE on tables and columns, USAGE and UPDATE on sequences
// (nextval) and CREATE on schemas.
int db_write_need(const agent_db_expect *d, char *out, size_t len);

// Copies the measured state into res's structured fields (read_only, connections, lag) and
// the release's first write need into read_only_needs. Call once the state query answered.
void db_state_record(
    agent_result *res, const db_common *c, const db_state *s, const agent_db_expect *d);

// Finishes a round whose queries all succeeded, in order of severity: read-only while the
// release needs a write (fail, read_only), replication lag above max_lag or not replicating
// (warn, replication_lag), connections above saturation_warn (warn, saturated), then slow /
// ok as db_finish_ok. `release` names the release in the read-only detail. The server
// certificate's expiry (res->pb.cert_expires_us, when the driver saw one) fails an expired
// certificate as tls before all of these, and warns (cert_expiring) under cert_warn after them.
void db_finish_state(agent_result *res, const db_common *c, const db_state *s, const char *release,
    uint32_t total_ms, const char *what);

// What an expectations check found unmet so far, row by row (db_unmet_add), for one verdict at
// the end (db_unmet_finish). Start from DB_UNMET_INIT.
typedef struct db_unmet {
	size_t n_missing, n_priv;
	size_t last_req;   // the requirement of the row before: a missing object is reported once
	char   first[200]; // the first finding in words, for the detail
} db_unmet;

#define DB_UNMET_INIT                   \
	{                               \
		.last_req = (size_t) -1 \
	}

// Records one unmet check row (row->req, row->r) on res for probe `probe` and role: the object
// does not exist (missing; one item per missing object, not one per privilege asked of it) or
// role lacks priv on it. The first finding is worded by fl_unmet_phrase() (as diagnose and
// verify word it); `aside` ("" or e.g. " (not visible to it)") ends a lacking privilege's.
void db_unmet_add(db_unmet *u, agent_result *res, const char *probe, const db_check_row *row,
    const char *priv, bool missing, const char *role, const char *aside);

// When anything was unmet, sets res's verdict (fail with object_missing when an object is
// missing, else privilege_missing; the detail counts them and names the first) and returns
// true; otherwise false and res is untouched.
bool db_unmet_finish(const db_unmet *u, agent_result *res);

// Resolves a database server's host for port: a numeric address as it is, a name through the
// resolver, which is the DNS phase (timed into res->timing.dns_us; its addresses recorded).
// Writes the numeric address into addr (addrlen bytes; "" when it cannot be printed). Returns
// 0, or -1 with the failure (dns) and the resolver's error set on res.
int db_resolve(const char *host, const char *port, char *addr, size_t addrlen, agent_result *res);

// Starts a round of a database probe: the wall-clock start (unless the runner set it) and the
// release's expectations digest; returns the expectations of this probe (section "postgres" or
// "mysql", probe name), or NULL when the round has none.
const agent_db_expect *db_round_begin(
    agent_result *res, const agent_round *round, const char *section, const char *probe);

#endif // FL_AGENT_DBCOMMON_H
