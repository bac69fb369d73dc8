// respondent.h - the agent's side of probe-now: answers the collector's surveys.
//
// A RESPONDENT socket dials the collector's SURVEYOR (agent key `survey`; nng redials by
// itself, so a collector restart needs nothing from the agent). On a SurveyRequest the
// respondent's own thread runs one round at once and answers with its Report:
//
//  - Two rounds never run at once: the daemon loop holds the respondent's lock while it runs a
//    round (and while it swaps config, runner or sender on SIGHUP), and a survey round takes the
//    same lock. The runner's contract ("one thread drives a runner") holds because the lock
//    hands the runner from one thread to the other.
//  - The survey round is submitted to the sender like any scheduled round, so the collector
//    applies it once, through its normal report path (seq, duplicates, spool and replay all as
//    usual). The SurveyReply carries a copy of that Report for whoever asked (probe-now,
//    verify); the collector does not apply the copy again.
//  - SurveyRequest.rollback_to: for each release named, the expectations kept for it in
//    state_dir (round.h, agent_release_expect_path) are checked against today's databases by
//    running the database probes of the agent's config with round.expect = those expectations.
//    The probes run on fresh instances loaded from the config file (never on the instances the
//    runner owns, which a late probe may still be using), in parallel, each bounded by its own
//    timeout. The answer is one ReleaseCheck per release: known = false when the agent never
//    kept that release's expectations; unmet requirements; databases that could not be
//    checked, with why.
//
// A survey the agent cannot answer before the collector's deadline is simply late: the
// surveyor discards it, and the round still reached the collector through the sender.

#ifndef FL_AGENT_RESPONDENT_H
#define FL_AGENT_RESPONDENT_H

#include <stddef.h>

#include "cancel.h"
#include "config.h"
#include "round.h"
#include "sender.h"

#define AGENT_SURVEY_MAX_RELEASES 8 // rollback_to releases checked per survey

typedef struct agent_respondent agent_respondent;

// Opens the socket, dials each URL of url (one, or a comma-separated list: fl/urls.h; not
// waiting for the collector) and starts the thread. Surveys
// are answered only once agent_respondent_attach() has been called. 0, or -1 with err.
int agent_respondent_new(const char *url, agent_respondent **out, char *err, size_t errlen);

// The lock the daemon loop holds around each round + submit and around swapping what it
// attached. Accepts NULL (no-op), so the loop need not care whether a respondent exists.
void agent_respondent_lock(agent_respondent *r);
void agent_respondent_unlock(agent_respondent *r);

// With the lock held: what survey rounds use from now on (all borrowed until the next attach
// or agent_respondent_free). Accepts r == NULL.
void agent_respondent_attach(
    agent_respondent *r, const agent_config *cfg, agent_runner *runner, agent_sender *sender);

// Closes the socket and joins the thread. A survey in progress finishes its round first, with
// its release checks' database probes cancelled (cancel.h), so this returns promptly. Call
// without the lock held. Accepts NULL.
void agent_respondent_free(agent_respondent *r);

// Checks the expectations kept for release (see above) and fills chk (strings and arrays are
// heap-allocated: release with agent_release_check_fini). Exposed for tests. config_path is
// the agent's config file, state_dir its state directory. cancel (may be NULL) is installed on
// the threads that run the database probes, so firing it ends their waits.
void agent_release_check(const char *config_path, const char *state_dir, const char *release,
    const agent_cancel *cancel, Fl__ReleaseCheck *chk);
void agent_release_check_fini(Fl__ReleaseCheck *chk);

#endif // FL_AGENT_RESPONDENT_H
