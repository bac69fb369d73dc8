// verify_steps.h - the steps of one evaluation (verify.h) that decide something, apart from the
// surveys, waits and threads that feed them (verify.c), so that each is tested on its own
// (tests/verify/verify_steps_test.c). verify.c runs them in this order:
//   1. the release's hosts: the hosts verified (verify_targets) and the hosts the first survey
//      round waits for (verify_first_round_hosts); verify.c surveys them;
//   2. probe round + expectations of each host verified (verify_check_host);
//   3. rollback readiness of each (verify_rollback_init once, then verify_check_rollback);
//   4. canary comparison: the groups (verify_canary_groups); verify.c runs the remaining rounds
//      and judges the probes (canary.h); verify_canary_outcome folds its verdict in.
// Steps append their reasons to the reply and raise the outcome's flags; verify_result names
// the outcome. Everything added to a reply is malloc'd (fl__verify_reply__free_unpacked frees
// it); a step that runs out of memory leaves out what it could not add.

#ifndef FL_COLLECTOR_VERIFY_STEPS_H
#define FL_COLLECTOR_VERIFY_STEPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "canary.h"
#include "faultline.pb-c.h"
#include "state.h"
#include "verify.h"

// The query's settings with the collector's defaults and bounds applied.
typedef struct verify_params {
	uint32_t         survey_ms; // one survey's deadline
	uint32_t         rounds;    // canary window, at most COLL_VERIFY_MAX_ROUNDS
	uint32_t         gap_ms;    // between rounds, at least COLL_VERIFY_MIN_ROUND_MS
	coll_canary_rule rule;
} verify_params;

void verify_params_of(const Fl__VerifyQuery *q, verify_params *p);

// What the checks found so far: failed wins over unverified, which wins over passed.
typedef struct verify_outcome {
	bool failed;
	bool unverified;
} verify_outcome;

Fl__VerifyResult verify_result(const verify_outcome *o); // failed, unverified or passed

// Step 1. The hosts verified: those the query names, else every live host on its release.
// *out is a new string vector (free with verify_strv_free). 0 or -1 (out of memory).
int verify_targets(const Fl__VerifyQuery *q, const coll_live *live, char ***out, size_t *n);

// The hosts the first survey round waits for: every live host (the others are the canary's
// baseline) and every target, once each. 0 or -1 (out of memory).
int verify_first_round_hosts(
    const coll_live *live, char *const *targets, size_t n_targets, char ***out, size_t *n);

// Step 2. One host verified, from its answer to the first round (rep NULL: it did not answer
// within survey_ms, which leaves the release unverified): on another release, expectations it
// cannot use, unmet requirements and failing probes fail; warning probes are listed.
void verify_check_host(const Fl__VerifyQuery *q, const char *host, const Fl__Report *rep,
    uint32_t survey_ms, Fl__VerifyReply *r, verify_outcome *o);

// Step 3. With q->rollback_to set, r->rollback starts ready; each host that answered adds its
// entry, and each missing check, unknown release, unmet requirement or check error makes it
// not ready (and the release failed). Without rollback_to both do nothing.
void verify_rollback_init(const Fl__VerifyQuery *q, Fl__VerifyReply *r);
void verify_check_rollback(const Fl__VerifyQuery *q, const char *host, const Fl__Report *rep,
    Fl__VerifyReply *r, verify_outcome *o);

// Step 4. The canary's groups among the first round's answers within the query's labels:
// candidates = the canary hosts named (or every target) on the release; baseline = the hosts on
// another release. compare: whether a comparison is to be run (not no_canary, and canaries
// named or a baseline found).
typedef struct verify_groups {
	char **cand;
	size_t n_cand;
	char **base;
	size_t n_base;
	bool   compare;
} verify_groups;

void verify_canary_groups(const Fl__VerifyQuery *q, const Fl__ProbeNowReply *pn,
    char *const *targets, size_t n_targets, verify_groups *g);
void verify_groups_fini(verify_groups *g);

// The comparison's verdict folded into o: "failed" fails, "inconclusive" leaves unverified.
// c NULL (not run, or out of memory): nothing.
void verify_canary_outcome(const Fl__CanaryComparison *c, verify_outcome *o);

// Helpers shared with verify.c.
const Fl__Report *verify_find_report(const Fl__ProbeNowReply *pn, const char *host); // or NULL

// Appends a reason (check, host, probe, summary from fmt) to *v; nothing when out of memory.
void verify_add_reason(Fl__VerifyReason ***v, size_t *n, Fl__VerifyCheck check, const char *host,
    const char *probe, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif // FL_COLLECTOR_VERIFY_STEPS_H
