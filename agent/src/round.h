// round.h - the round runner: runs every configured probe at once, each on its own thread.
//
// Each probe has a persistent worker thread, woken once per round (cheaper than spawning a
// thread per probe per round). A round returns when every probe has finished, or when its wait
// bound has passed: the caller's wait_ms (the daemon passes its interval, so a hung probe never
// stretches the cadence of the others), at most the longest probe timeout plus
// AGENT_ROUND_MARGIN_MS. A probe still running then is not waited for and not started again
// by later rounds until it finishes; each round reports it *in progress*: its last finished
// result with pb.in_progress_ms = how long the current run has been going (a stand-in with
// status unknown before its first result). Once the run has lasted longer than the probe's
// own timeout plus the margin, the stand-in is a timeout failure ("did not finish"). The
// first round after the run ends reports its result (or a newer one).
//
// Stopping: agent_runner_free() fires the runner's cancel token (cancel.h), so probes waiting
// on hung targets return within milliseconds; agent_runner_set_stop_check() lets a round that
// is waiting end early when the process is asked to stop.
//
// Every round also re-reads the release file (first line; "unknown" when missing or empty)
// and, when the expectations file changed (mtime, size, inode) or first thing, reloads it with
// agent_expect_load(); a load error is reported as the round's expectations_error with no
// expectations (NULL) handed to the probes. Whenever the release or the expectations file
// changes, a copy of the file is kept as agent_release_expect_path(state_dir, release), which
// rollback readiness reads later.
//
// Ownership: the runner borrows cfg (and its probe instances) until agent_runner_free(), which
// waits for the workers to finish their current probe. Results handed out by agent_runner_run()
// are owned by the runner and valid until the next agent_runner_run() or agent_runner_free().
// One thread drives a runner.

#ifndef FL_AGENT_ROUND_H
#define FL_AGENT_ROUND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "probe.h"

#define AGENT_ROUND_MARGIN_MS 500
#define AGENT_STOP_POLL_MS    100        // how often a waiting round asks stop_requested()
#define AGENT_ROUND_WAIT_ALL  UINT32_MAX // wait_ms: wait for every probe (--once, probe-now)

typedef struct agent_runner agent_runner;

typedef struct agent_round_out {
	int64_t  started_us;   // wall clock when the round began
	uint32_t max_round_ms; // the longest this round may take (its wait bound)
	char     release[256];
	char     expectations_file[PATH_MAX];         // "" when none configured
	char     expectations_digest[32];             // "" when none loaded
	char     expectations_error[512];             // "" when fine or none configured
	char     labels[FL_LABELS_MAX][FL_LABEL_LEN]; // the config's labels, sent in every report
	size_t   n_labels;
	agent_result **results; // one per configured probe, config order
	size_t         n_results;
} agent_round_out;

// Creates the runner and its worker threads. log_changes: log one line per probe status
// change (the daemon), or nothing (--once). 0, or -1 with err.
int agent_runner_new(
    const agent_config *cfg, bool log_changes, agent_runner **out, char *err, size_t errlen);

// Carries each probe's last status over from an old runner (matched by probe name), so a
// config reload logs only real status changes. Call before the first round of r.
void agent_runner_inherit(agent_runner *r, const agent_runner *old);

// Runs one round and fills out; waits at most wait_ms (capped at the longest probe timeout
// plus AGENT_ROUND_MARGIN_MS) for the probes, see above.
void agent_runner_run(agent_runner *r, uint32_t wait_ms, agent_round_out *out);

// A function a waiting round calls every AGENT_STOP_POLL_MS; when it returns true the round
// stops waiting and reports what it has. Call before the first round; NULL: none.
void agent_runner_set_stop_check(agent_runner *r, bool (*stop_requested)(void));

// Stops the workers: fires the cancel token, so probes give up their waits, then waits up to
// wait_ms for probes still running. Returns true when all
// stopped and the runner is freed. Returns false when a probe was still running: the runner
// and its threads are abandoned (leaked) so shutdown never hangs, and the caller must then NOT
// free the config either, because that probe still uses its instance. Accepts NULL (true).
bool agent_runner_free(agent_runner *r, uint32_t wait_ms);

// Where the copy of a release's expectations is kept:
// STATE_DIR/releases/<release, with anything but [A-Za-z0-9._-] replaced>.expect; a hash of the
// raw id is appended when characters were replaced, so distinct releases never share a file.
int agent_release_expect_path(const char *state_dir, const char *release, char *buf, size_t len);

#endif // FL_AGENT_ROUND_H
