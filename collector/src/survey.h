// survey.h - probe now: the collector's SURVEYOR.
//
// The SURVEYOR listens on the `survey` address; every agent's RESPONDENT dials it. One survey
// sends a SurveyRequest to every connected agent and collects SurveyReplies until its deadline
// (NNG_OPT_SURVEYOR_SURVEYTIME), or earlier once every host in `expect` has answered. Surveys
// run on nng contexts, so several may run at once (a CLI's probe-now while the automatic
// verifier surveys) without cancelling each other, and a caller blocks for at most the deadline.
//
// Applying the results: an agent submits its survey round to its report sender like any other
// round, so the collector's normal PULL path applies it (once, with duplicate detection and the
// usual transitions); the replies collected here are copies for the caller to read and are not
// applied a second time.
//
// Thread-safe: any thread may call coll_survey_run().

#ifndef FL_COLLECTOR_SURVEY_H
#define FL_COLLECTOR_SURVEY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "faultline.pb-c.h"
#include "fl/sign.h"
#include "fl/tls.h"

#define COLL_SURVEY_MAX_MS 600000 // longest survey deadline accepted

typedef struct coll_survey coll_survey;

// Opens the SURVEYOR and listens on url (with tls, which must then be complete, when url is
// tls+tcp://: agents need a client certificate of the CA), with at most max_conns connections
// and answers of at most recv_max bytes (*pipes: the connection table, pipes.h; free it with
// coll_pipes_free after coll_survey_free). kr (borrowed; NULL: no checks):
// every answer must then carry a signed envelope (SurveyReply.envelope) that verifies with its
// host's key, and its report is read from the envelope; other answers are dropped and logged,
// so no host can answer a survey for another. *port receives the bound TCP port (0
// if not tcp). 0, or -1 with err.
struct coll_pipes;
int coll_survey_open(const char *url, const fl_tls_opts *tls, fl_keyring *kr, size_t max_conns,
    size_t recv_max, struct coll_pipes **pipes, coll_survey **out, int *port, char *err,
    size_t errlen);

// Ends the surveys in progress (within COLL_SURVEY_POLL_MS, with what they collected) and makes
// later ones fail at once. The socket stays open until coll_survey_free(), so a stop never
// waits on nng while anything else is pending. Idempotent; accepts NULL.
void coll_survey_close(coll_survey *sv);

// Closes the socket and frees; call once no survey can be running. Accepts NULL.
void coll_survey_free(coll_survey *sv);

// Surveys run by the calling thread end early (with what they collected) once *gone is true:
// the client that asked has left. NULL clears. Thread-local; verify.c's waits honour it too.
void coll_survey_set_cancel(const atomic_bool *gone);
bool coll_survey_cancelled(void); // *gone of the calling thread is true

#define COLL_SURVEY_POLL_MS 200 // how often a survey checks for a cancel or a stop

// Runs one survey of timeout_ms asking each agent also for the releases in rollback_to. The
// survey ends early once every host named in expect has answered. On success returns 0 and
// *out is a ProbeNowReply whose `answered` and `reports` are filled (one report per host: a
// second answer from the same host replaces the first) and whose `missing` lists the expect
// hosts that did not answer; free it with fl__probe_now_reply__free_unpacked(*out, NULL) (every
// part of it is malloc'd). -1 with err when the survey could not be sent at all.
int coll_survey_run(coll_survey *sv, uint32_t timeout_ms, char *const *rollback_to, size_t n_rb,
    char *const *expect, size_t n_expect, Fl__ProbeNowReply **out, char *err, size_t errlen);

#endif // FL_COLLECTOR_SURVEY_H
