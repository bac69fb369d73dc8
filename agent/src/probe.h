// probe.h - the contract every health probe implements, and the result it fills.
//
// The agent's config loader creates one probe instance per `[kind "name"]` section by calling
// ops->alloc(), then ops->set() for every key of the section, then ops->validate(). The round
// runner calls ops->run() once per round, on a thread of its own, for every probe at the same
// time; run() must return within the probe's own timeout (plus a small margin), because a hung
// target must never delay other probes or the round, and within milliseconds once the agent
// stops: every wait goes through agent_poll() or watches agent_cancel_fd() (cancel.h). A probe
// instance is used by one thread at a time, so ctx needs no locking.
//
// An unhealthy target is a result, not an error: run() always fills res (status, failure
// class, detail, timings). FAILURE_INTERNAL is for the probe itself failing (out of memory).
//
// Timings are phase durations, not offsets from the start: dns = name lookup, connect = TCP
// handshake after the lookup, tls = TLS handshake after connect, first_byte = from the request
// being sent (connect/TLS done) to the first response byte, total = the whole check; a phase
// that did not happen is 0 (a phase that did is at least 1us). duration_us equals total_us.
// run() also sets pb.started_us (wall clock) and, where there is one, pb.error_code (errno).

#ifndef FL_AGENT_PROBE_H
#define FL_AGENT_PROBE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "faultline.pb-c.h"
#include "fl/wire.h"

struct agent_expect; // agent/db/expect.h

// What a probe may know about the round it runs in.
typedef struct agent_round {
	const char                *release; // deployed release id, "unknown" when not known
	const struct agent_expect *expect;  // the release's expectations, NULL when none are set
} agent_round;

// One probe result with its own storage: pb's string fields point into the buffers below, so a
// result needs no per-field allocation. Unmet requirements are heap-allocated and released by
// agent_result_fini().
typedef struct agent_result {
	Fl__ProbeResult pb;
	Fl__Timing      timing;
	char            name[128];
	char            target[256];
	char            detail[FL_WIRE_MAX_DETAIL];
	char            role[64];
	char            sqlstate[8];
	char            digest[72];
	char            read_only_reason[64];
	char            read_only_needs[256];
	size_t          unmet_cap;
	char            resolved_name[256];
	char            addr_buf[FL_WIRE_MAX_ADDRS][FL_WIRE_MAX_ADDR];
	char           *addr_ptr[FL_WIRE_MAX_ADDRS];
} agent_result;

// Resets res to an empty result for the named probe (status unknown, no failure).
void agent_result_init(agent_result *res, const char *name, Fl__ProbeKind kind, const char *target);

// Sets status and failure class and formats the detail text (truncated to fit, never secret).
void agent_result_set(agent_result *res, Fl__Status status, Fl__FailureClass failure,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

// Appends an unmet requirement (strings copied). Returns 0, or -1 when out of memory or past
// FL_WIRE_MAX_UNMET (the result's detail then says how many were left out).
int agent_result_add_unmet(agent_result *res, const char *database, Fl__ObjectKind kind,
    const char *object, const char *privilege, int object_missing, const char *role);

void agent_result_fini(agent_result *res); // frees unmet requirements; accepts a zeroed res

struct addrinfo;

// Records that this round resolved `name` to the addresses of ai (numeric, sorted, unique, at
// most FL_WIRE_MAX_ADDRS; ai is borrowed). The collector keeps them and notes a change.
void agent_result_set_addresses(agent_result *res, const char *name, const struct addrinfo *ai);

typedef struct agent_probe_ops {
	const char   *section; // the config section kind: "http", "tcp", "dns", "postgres", "mysql"
	Fl__ProbeKind kind;

	// A fresh instance with the probe's defaults, named after its section; NULL when out of
	// memory.
	void *(*alloc)(const char *name);

	// One key of the section. Returns 0, or -1 with a one-line reason in err (the loader adds
	// FILE:LINE and the key). Unknown keys must be rejected here.
	int (*set)(void *ctx, const char *key, const char *value, char *err, size_t errlen);

	// Called once the section is complete: checks required keys and combinations.
	// `config_dir` is the directory of the config file, for relative paths.
	int (*validate)(void *ctx, char *err, size_t errlen);

	// Runs one check and fills res (already agent_result_init()ed with name, kind, target).
	void (*run)(void *ctx, const agent_round *round, agent_result *res);

	// The probe's timeout in milliseconds (the runner's watchdog allows a margin over it).
	uint32_t (*timeout_ms)(const void *ctx);

	// The target as shown to operators (URL, host:port, name); never contains a secret.
	const char *(*target)(const void *ctx);

	void (*free)(void *ctx); // accepts NULL

	// Database probes only (NULL for the others): connects like run() and writes to out, as
	// a commented expectations file (faultline.expect(5)), what the probe's role can use
	// today in the given schemas (MySQL: databases); with none, in every schema it can use.
	// Returns 0, or -1 with a one-line reason in err (nothing written then).
	int (*capture)(void *ctx, const char *const *schemas, size_t n_schemas, FILE *out,
	    char *err, size_t errlen);
} agent_probe_ops;

// The probe kinds this build knows, looked up by section kind. HTTP, TCP and DNS are built in;
// PostgreSQL and MySQL live in modules (faultline-agent-pgsql.so, faultline-agent-mysql.so)
// loaded on first use, so that an agent without database probes never maps libpq, libmariadb
// and what they pull in. A module is looked up in FAULTLINE_AGENT_MODULE_DIR when set, else in
// the binary's RUNPATH (a build tree) and then in agent_module_dir(); once loaded it stays.
// Returns 0 with *ops set; -1 when the kind is unknown; -2 when its module cannot be loaded,
// with a one-line reason in err (the file, the loader's error, what to install).
int agent_probe_find(
    const char *section_kind, const agent_probe_ops **ops, char *err, size_t errlen);

// Makes section_kind's probes use ops instead of loading a module: for programs that link a
// driver directly (the config fuzzer, so that it reaches the database probes' keys). Call
// before the first agent_probe_find; an unknown kind is ignored.
void agent_probe_link(const char *section_kind, const agent_probe_ops *ops);

// Where the database probe modules are installed: FAULTLINE_AGENT_MODULE_DIR when set, else
// the directory fixed at build time (/usr/lib/faultline for the packages).
const char *agent_module_dir(void);

extern const agent_probe_ops agent_probe_http;
extern const agent_probe_ops agent_probe_tcp;
extern const agent_probe_ops agent_probe_dns;
// agent/db/, each in its module (and linked directly by the database tests' driver). The
// modules are built with hidden visibility: these are the only symbols they export.
#define AGENT_MODULE_EXPORT __attribute__((visibility("default")))
extern AGENT_MODULE_EXPORT const agent_probe_ops agent_probe_postgres;
extern AGENT_MODULE_EXPORT const agent_probe_ops agent_probe_mysql;

#endif // FL_AGENT_PROBE_H
