// agent.c - see agent.h.

#include "agent.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fl/json.h"
#include "fl/log.h"
#include "fl/names.h"
#include "fl/notify.h"
#include "fl/render.h"
#include "fl/text.h"
#include "fl/time.h"
#include "fl/version.h"
#include "respondent.h"
#include "round.h"
#include "secure.h"
#include "sender.h"

#define AGENT_STOP_WAIT_MS 1000

static void
print_json(const agent_config *cfg, const agent_round_out *r, FILE *out)
{
	fl_json j;

	fl_json_init(&j, false);
	fl_json_obj_begin(&j);
	fl_json_kstr(&j, "host", cfg->name);
	fl_json_kstr(&j, "release", r->release);
	fl_json_kstr(&j, "agent_version", FL_VERSION);
	const char *labels[FL_LABELS_MAX];
	for (size_t i = 0; i < r->n_labels; i++) {
		labels[i] = r->labels[i];
	}
	fl_json_key(&j, "labels");
	fl_render_labels_json(&j, labels, r->n_labels);
	if (r->expectations_error[0] != '\0') {
		fl_json_kstr(&j, "expectations_error", r->expectations_error);
	}
	fl_json_key(&j, "results");
	fl_json_arr_begin(&j);
	for (size_t i = 0; i < r->n_results; i++) {
		fl_render_probe_json(&j, &r->results[i]->pb);
	}
	fl_json_arr_end(&j);
	fl_json_obj_end(&j);
	const char *text = fl_json_text(&j);
	fprintf(out, "%s\n", text != NULL ? text : "{\"error\":\"out of memory\"}");
	fl_json_fini(&j);
}

// Writes s escaped (fl/text.h) and padded to width terminal columns.
static void
put_cell(FILE *out, const char *s, int width, bool right)
{
	char shown[1024];
	int  pad = width - (int) fl_text_width(s);

	fl_text_escape(shown, sizeof(shown), s);
	if (right) {
		fprintf(out, "%*s%s", pad > 0 ? pad : 0, "", shown);
	} else {
		fprintf(out, "%s%*s", shown, pad > 0 ? pad : 0, "");
	}
}

static void
print_table(const agent_config *cfg, const agent_round_out *r, FILE *out)
{
	static const char *const head[] = { "NAME", "KIND", "TARGET", "STATUS", "FAILURE",
		"LATENCY", "DETAIL" };
	int                      w[6];
	char                     lat[32];

	for (int c = 0; c < 6; c++) {
		w[c] = (int) strlen(head[c]);
	}
	for (size_t i = 0; i < r->n_results; i++) {
		const Fl__ProbeResult *p        = &r->results[i]->pb;
		const char            *cells[6] = { p->name, fl_kind_name(p->kind), p->target,
			           fl_status_name(p->status), fl_failure_name(p->failure),
			           fl_duration_format(p->duration_us, lat, sizeof(lat)) };
		for (int c = 0; c < 6; c++) {
			int n = (int) fl_text_width(cells[c]);
			w[c]  = n > w[c] ? n : w[c];
		}
	}
	char shown[2][512];
	fprintf(out, "host %s, release %s", fl_text_escape(shown[0], sizeof(shown[0]), cfg->name),
	    fl_text_escape(shown[1], sizeof(shown[1]), r->release));
	for (size_t i = 0; i < r->n_labels; i++) {
		fprintf(out, "%s%s", i == 0 ? ", labels " : ",",
		    fl_text_escape(shown[0], sizeof(shown[0]), r->labels[i]));
	}
	fputc('\n', out);
	if (r->expectations_error[0] != '\0') {
		fprintf(out, "expectations: %s\n",
		    fl_text_escape(shown[0], sizeof(shown[0]), r->expectations_error));
	}
	for (int c = 0; c < 6; c++) {
		put_cell(out, head[c], w[c], c == 5);
		fputs("  ", out);
	}
	fprintf(out, "%s\n", head[6]);
	for (size_t i = 0; i < r->n_results; i++) {
		const Fl__ProbeResult *p        = &r->results[i]->pb;
		const char            *cells[6] = { p->name, fl_kind_name(p->kind), p->target,
			           fl_status_name(p->status), fl_failure_name(p->failure),
			           fl_duration_format(p->duration_us, lat, sizeof(lat)) };
		for (int c = 0; c < 6; c++) {
			put_cell(out, cells[c], w[c], c == 5);
			fputs("  ", out);
		}
		fprintf(out, "%s\n", fl_text_escape(shown[0], sizeof(shown[0]), p->detail));
	}
}

int
agent_once(const agent_config *cfg, bool json, FILE *out)
{
	agent_runner   *r;
	agent_round_out round;
	char            err[256];
	int             rc = 0;

	if (agent_runner_new(cfg, false, &r, err, sizeof(err)) != 0) {
		fprintf(stderr, "faultline-agent: %s\n", err);
		return 2;
	}
	agent_runner_run(r, AGENT_ROUND_WAIT_ALL, &round);
	for (size_t i = 0; i < round.n_results; i++) {
		if (round.results[i]->pb.status == FL__STATUS__STATUS_FAIL) {
			rc = 1;
		}
	}
	if (json) {
		print_json(cfg, &round, out);
	} else {
		print_table(cfg, &round, out);
	}
	fflush(out);
	(void) agent_runner_free(r, 0); // a late probe is abandoned: the process exits next
	return rc;
}

static void
apply_log_level(const agent_config *cfg, int override)
{
	if (override >= 0) {
		fl_log_level = override;
	} else if (cfg->log_level >= 0) {
		fl_log_level = cfg->log_level;
	} else {
		fl_log_level = FL_LOG_INFO;
	}
	fl_log_set_json(cfg->log_json);
}

static bool
sender_settings_differ(const agent_config *a, const agent_config *b)
{
	return strcmp(a->collector, b->collector) != 0 || strcmp(a->name, b->name) != 0 ||
	    strcmp(a->tls_ca, b->tls_ca) != 0 || strcmp(a->tls_cert, b->tls_cert) != 0 ||
	    strcmp(a->tls_key, b->tls_key) != 0 ||
	    strcmp(a->tls_server_name, b->tls_server_name) != 0 ||
	    a->interval_ms != b->interval_ms || a->spool_size != b->spool_size ||
	    a->spool_file_max != b->spool_file_max || strcmp(a->state_dir, b->state_dir) != 0;
}

// Set once the main loop has taken SIGTERM/SIGINT (a survey round may still be running).
static atomic_bool stopping;

// True when the agent is stopping: SIGTERM or SIGINT waits to be taken (every thread blocks
// them, so they stay pending for the process), or has been taken. A round in progress then
// stops waiting for its probes.
static bool
stop_signal_pending(void)
{
	sigset_t pending;
	if (atomic_load(&stopping)) {
		return true;
	}
	if (sigpending(&pending) != 0) {
		return false;
	}
	return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1;
}

// Waits until the monotonic time `until` or a signal. Returns the signal, or 0 at the time.
// Always checks for a pending signal, even when `until` has passed (a round that overran the
// interval must still let SIGTERM in).
static int
wait_signal(const sigset_t *set, int64_t until)
{
	for (;;) {
		int64_t left = until - fl_mono_us();
		if (left < 0) {
			left = 0;
		}
		struct timespec ts  = { .tv_sec = left / 1000000,
			 .tv_nsec               = (left % 1000000) * 1000 };
		int             sig = sigtimedwait(set, NULL, &ts);
		if (sig > 0) {
			return sig;
		}
		if (errno == EAGAIN || left == 0) {
			return 0;
		}
		// EINTR: wait for the rest
	}
}

// Loads the config again for SIGHUP, with the checks of a start (--allow-empty carried over).
// NULL with err when it cannot be used.
static agent_config *
load_for_reload(const char *path, bool allow_empty, char *err, size_t errlen)
{
	agent_config *ncfg;
	if (agent_config_load(path, &ncfg, err, errlen) != 0) {
		return NULL;
	}
	ncfg->allow_empty_flag = allow_empty;
	if (agent_config_check_probes(ncfg, allow_empty, err, errlen) != 0) {
		agent_config_free(ncfg);
		return NULL;
	}
	return ncfg;
}

int
agent_run(const char *path, agent_config *cfg, int log_level_override)
{
	sigset_t          set;
	agent_runner     *runner = NULL;
	agent_sender     *sender = NULL;
	agent_respondent *resp   = NULL; // answers probe-now surveys; NULL when `survey` is empty
	agent_round_out   round;
	char              err[AGENT_CFG_ERRLEN];
	int               rc = 0;

	// Block the signals before any thread exists (ours and nng's inherit the mask); the loop
	// takes them synchronously with sigtimedwait().
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	apply_log_level(cfg, log_level_override);
	// TLS and signing settings first: the sender and the respondent dial with them.
	if (agent_secure_install(cfg, err, sizeof(err)) != 0) {
		fl_log(FL_LOG_ERR, "agent", "%s", err);
		agent_config_free(cfg);
		return 2;
	}
	if (agent_sender_new(cfg->collector, cfg->name, cfg->interval_ms, cfg->spool_size,
	        cfg->state_dir, cfg->spool_file_max, &sender, err, sizeof(err)) != 0 ||
	    agent_runner_new(cfg, true, &runner, err, sizeof(err)) != 0 ||
	    (cfg->survey[0] != '\0' &&
	        agent_respondent_new(cfg->survey, &resp, err, sizeof(err)) != 0)) {
		fl_log(FL_LOG_ERR, "agent", "%s", err);
		agent_runner_free(runner, 0);
		agent_sender_free(sender);
		agent_config_free(cfg);
		return 2;
	}
	agent_runner_set_stop_check(runner, stop_signal_pending);
	agent_respondent_lock(resp);
	agent_respondent_attach(resp, cfg, runner, sender);
	agent_respondent_unlock(resp);
	fl_log(FL_LOG_NOTICE, "agent", "started: host %s, %zu probes every %ums, reporting to %s",
	    cfg->name, cfg->n_probes, cfg->interval_ms, cfg->collector);
	// Ready: the config is loaded and the first round starts now (the loop below).
	if (fl_notify("READY=1\nSTATUS=probing") < 0) {
		fl_log(FL_LOG_WARN, "agent", "cannot notify systemd (NOTIFY_SOCKET): %s",
		    strerror(errno));
	}

	int64_t next = fl_mono_us();
	for (;;) {
		agent_respondent_lock(resp); // a survey round never runs at the same time
		// Wait for the probes at most one interval: a hung probe is reported in progress
		// and the others keep their cadence (round.h).
		agent_runner_run(runner, cfg->interval_ms, &round);
		agent_sender_submit(sender, &round);
		agent_respondent_unlock(resp);

		next += (int64_t) cfg->interval_ms * 1000;
		if (next < fl_mono_us()) {
			next = fl_mono_us(); // a round overran the interval: start the next one now
		}
		int sig = wait_signal(&set, next);
		if (sig == SIGTERM || sig == SIGINT) {
			atomic_store(&stopping, true);
			fl_log(FL_LOG_NOTICE, "agent", "stopping on %s",
			    sig == SIGTERM ? "SIGTERM" : "SIGINT");
			(void) fl_notify("STOPPING=1");
			break;
		}
		if (sig != SIGHUP) {
			continue;
		}
		agent_config *ncfg = load_for_reload(path, cfg->allow_empty_flag, err, sizeof(err));
		if (ncfg == NULL) {
			fl_log(FL_LOG_ERR, "agent",
			    "cannot reload %s, keeping the running config:", path);
			for (char *line = strtok(err, "\n"); line != NULL;
			     line       = strtok(NULL, "\n")) {
				fl_log(FL_LOG_ERR, "agent", "  %s", line);
			}
			continue;
		}
		agent_runner *nr;
		if (agent_runner_new(ncfg, true, &nr, err, sizeof(err)) != 0) {
			fl_log(FL_LOG_ERR, "agent", "cannot reload: %s; keeping the running config",
			    err);
			agent_config_free(ncfg);
			continue;
		}
		agent_respondent_lock(resp); // no survey round while runner and config change
		// A new sign_key applies to the next report; new TLS files to the next dial (the
		// sender redials when its settings change, the respondent only at restart).
		if (agent_secure_install(ncfg, err, sizeof(err)) != 0) {
			fl_log(FL_LOG_ERR, "agent", "cannot reload: %s; keeping the running config",
			    err);
			agent_respondent_unlock(resp);
			agent_runner_free(nr, 0);
			agent_config_free(ncfg);
			continue;
		}
		if (sender_settings_differ(cfg, ncfg)) {
			// The old sender goes first: it leaves what it still holds in the spool
			// file (and unlocks it), which the new one takes over and sends.
			agent_sender *ns;
			agent_sender_free(sender);
			sender = NULL;
			if (agent_sender_new(ncfg->collector, ncfg->name, ncfg->interval_ms,
			        ncfg->spool_size, ncfg->state_dir, ncfg->spool_file_max, &ns, err,
			        sizeof(err)) != 0) {
				fl_log(FL_LOG_ERR, "agent",
				    "cannot reload: %s; keeping the running config", err);
				if (agent_sender_new(cfg->collector, cfg->name, cfg->interval_ms,
				        cfg->spool_size, cfg->state_dir, cfg->spool_file_max,
				        &sender, err, sizeof(err)) != 0) {
					fl_log(
					    FL_LOG_ERR, "agent", "cannot report any more: %s", err);
					agent_respondent_attach(resp, cfg, NULL, NULL);
					agent_respondent_unlock(resp);
					agent_runner_free(nr, 0);
					agent_config_free(ncfg);
					rc = 1; // a runtime failure: exit so that systemd restarts
					        // us
					break;
				}
				agent_respondent_attach(resp, cfg, runner, sender);
				agent_respondent_unlock(resp);
				agent_runner_free(nr, 0);
				agent_config_free(ncfg);
				continue;
			}
			sender = ns;
		}
		agent_runner_inherit(nr, runner);
		agent_runner_set_stop_check(nr, stop_signal_pending);
		if (agent_runner_free(runner, agent_config_max_timeout_ms(cfg) + 1000)) {
			agent_config_free(cfg);
		} // else a probe still uses the old config: leak it rather than free it under the
		  // probe
		runner = nr;
		cfg    = ncfg;
		agent_respondent_attach(resp, cfg, runner, sender);
		agent_respondent_unlock(resp);
		apply_log_level(cfg, log_level_override);
		fl_log(FL_LOG_NOTICE, "agent", "reloaded %s: %zu probes every %ums", path,
		    cfg->n_probes, cfg->interval_ms);
		next = fl_mono_us();
	}
	agent_respondent_free(resp); // first: it may be running a survey round on the runner
	// Stop promptly: probes mid-flight are cancelled (round.h); one that does not return
	// within AGENT_STOP_WAIT_MS is abandoned, so the spool is dealt with well inside a
	// service manager's stop timeout.
	bool freed = agent_runner_free(runner, AGENT_STOP_WAIT_MS);
	agent_sender_free(sender);
	agent_secure_clear();
	if (freed) {
		agent_config_free(cfg);
	}
	return rc;
}
