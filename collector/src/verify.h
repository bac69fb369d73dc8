// verify.h - post-release verification: the checks behind `faultline verify`, and the
// collector's automatic verification of releases it sees rolling out.
//
// One evaluation (coll_verify_run) does, for release R:
//   1. a probe-now survey (with rollback_to = OLD when asked) of every reporting host;
//   2. probe check: every probe on the hosts verified (hosts on R) passes; warn is a pass but
//      is listed in `warnings`;
//   3. expectations check: no unmet requirement, no expectations_error on those hosts;
//   4. rollback readiness (OLD given): every host kept OLD's expectations and today's databases
//      meet them; each missing grant/table/column is one reason;
//   5. canary comparison (hosts named as canary, or some hosts on R and others on another
//      release): over `rounds` surveys `round_interval_ms` apart, compare probe by probe (same
//      name and kind) the error rate, warn rate and latency of the probes both groups run, by
//      the rule of canary.h (rank test, effect-size tolerance, slack); R fails when any probe
//      regressed; a probe the sample cannot decide makes the comparison inconclusive.
// Result: failed when any check failed; else unverified when a host did not answer or the
// canary comparison was inconclusive; else passed.
// docs/verify.md states the rules and the JSON contract.
//
// Automatic verification: a background thread looks at the hosts once a second. When hosts
// have moved to a release (their previous_release differs) that it has not verified in that
// rollout state, it evaluates it (canary only while the rollout is partial; the full check,
// with rollback readiness against the hosts' previous release, once every reporting host is on
// it) and records the outcome: a history event kind "verification" (host "", from = release,
// to = passed|failed|unverified, detail = the first reasons) and the last verification of each
// release, which `faultline status` shows. Evaluations asked for by `faultline verify` are
// recorded the same way. The thread never holds the state lock while surveying. Every survey
// makes each agent run a whole round, so the thread gives way to asked evaluations: it starts
// none while one runs, and one in its canary window stops between rounds when an asked one
// starts; that state is then evaluated later, unless the asked evaluation was of the same
// release (its outcome is the one recorded).

#ifndef FL_COLLECTOR_VERIFY_H
#define FL_COLLECTOR_VERIFY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "faultline.pb-c.h"
#include "fl/verify_defaults.h"
#include "sql.h"
#include "state.h"
#include "survey.h"

// The defaults of a query's unset fields (fl/verify_defaults.h: the one definition).
#define COLL_VERIFY_ROUNDS        FL_VERIFY_DEFAULT_ROUNDS
#define COLL_VERIFY_ROUND_MS      FL_VERIFY_DEFAULT_ROUND_MS
#define COLL_VERIFY_MIN_ROUND_MS  100 // faster rounds are slowed to this
#define COLL_VERIFY_CONFIDENCE    FL_VERIFY_DEFAULT_CONFIDENCE
#define COLL_VERIFY_MIN_SAMPLES   FL_VERIFY_DEFAULT_MIN_SAMPLES
#define COLL_VERIFY_MAX_PROBES    256 // probes compared per evaluation
#define COLL_VERIFY_MAX_RECORDS   64  // releases whose last verification is kept
#define COLL_VERIFY_SURVEY_MS     FL_VERIFY_DEFAULT_SURVEY_MS
#define COLL_VERIFY_MAX_ERR_INC   FL_VERIFY_DEFAULT_MAX_ERR_INC
#define COLL_VERIFY_MAX_LAT_RATIO FL_VERIFY_DEFAULT_MAX_LAT_RATIO
#define COLL_VERIFY_LAT_SLACK_MS  FL_VERIFY_DEFAULT_LAT_SLACK_MS
#define COLL_VERIFY_MAX_ROUNDS    60
#define COLL_VERIFY_AUTO_TICK_MS  1000

typedef struct coll_verify coll_verify;

// What the verifier works with, all borrowed for its whole life: the hosts (read under their
// lock, never held while surveying), the survey socket (NULL when none is configured: every
// evaluation then fails with an error saying so), the server's stop flag, the state database
// the "verification" events go to (on a connection of the verifier's own), and a hook told
// each recorded verification (r, its result "passed", "failed" or "unverified", kind and
// whether the automatic check ran it; NULL: none), which the metrics count and the notifier
// pages on.
typedef struct coll_verify_deps {
	coll_state_ref    state;
	coll_survey      *survey;
	const atomic_int *stopping;
	fl_sql_opts       store; // its strings borrowed too
	int64_t           fence; // > 0: its writes are fenced at this lease epoch (sql.h)
	void (*on_recorded)(void *arg, const Fl__VerifyReply *r, const char *result,
	    const char *kind, bool automatic);
	void *on_recorded_arg;
} coll_verify_deps;

// Creates the verifier and, when automatic is true, starts the background thread. 0 (*out
// set), or -1 with err.
int coll_verify_start(
    const coll_verify_deps *d, bool automatic, coll_verify **out, char *err, size_t errlen);

// Stops the thread (an evaluation in progress ends at its next survey, which the closed survey
// socket ends at once) and frees. Accepts NULL.
void coll_verify_stop(coll_verify *v);

// Interrupts the verifier for good (the collector stopped being active, role.h): evaluations
// in progress end at their next wait or survey (close the survey socket to end those at once)
// with the error "could not verify: interrupted (WHY)", nothing of them recorded; later ones
// fail at once the same way; the automatic thread stops. Does not wait: coll_verify_join
// waits for the automatic thread, coll_verify_stop frees once no worker can hold v. why is
// borrowed for v's life. Accept NULL.
void coll_verify_interrupt(coll_verify *v, const char *why);
void coll_verify_join(coll_verify *v);

// Runs one evaluation (see above). Never NULL on return 0: *out is a reply built of malloc'd
// parts, freed with fl__verify_reply__free_unpacked(*out, NULL). -1 with err when out of
// memory or the survey socket is missing.
int coll_verify_run(
    coll_verify *v, const Fl__VerifyQuery *q, Fl__VerifyReply **out, char *err, size_t errlen);

// Records an outcome (history event + last verification of the release). kind is "full" or
// "canary".
void coll_verify_record(coll_verify *v, const Fl__VerifyReply *r, const char *kind, bool automatic);

// Adds the last verification of each release to a status reply (malloc'd; release them with
// coll_verify_status_fini before the reply is freed by its owner). v NULL: adds nothing.
void coll_verify_status_add(coll_verify *v, Fl__StatusReply *reply);
void coll_verify_status_fini(Fl__StatusReply *reply);

#endif // FL_COLLECTOR_VERIFY_H
