// round.c - the round runner (see round.h).

#include "round.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cancel.h"
#include "expect.h"
#include "fl/cfg.h"
#include "fl/log.h"
#include "fl/names.h"
#include "fl/str.h"
#include "fl/text.h"
#include "fl/time.h"

#define WORKER_STACK (512 * 1024) // curl + OpenSSL handshakes fit easily; pages only when used

typedef struct worker {
	struct agent_runner   *r;
	const agent_probe_cfg *pc;
	pthread_t              thr;
	bool                   started;

	// Guarded by r->mu.
	uint64_t       want; // round the worker should run
	uint64_t       done; // last round it finished
	bool           busy;
	pthread_cond_t cv;

	// Two result buffers: the worker fills buf[1 - cur] while buf[cur] keeps its last finished
	// result, which a round reports (marked in progress) while the probe is still running.
	// cur is -1 before the first result; guarded by r->mu.
	agent_result buf[2];
	int          cur;
	int64_t      run_t0; // monotonic start of the run in progress (round thread, under r->mu)
	char         release[256];
	agent_round  round;

	agent_result     late; // the round thread's stand-in when there is no usable result
	Fl__Status       last; // last reported status, for change logging
	Fl__FailureClass last_failure;
} worker;

struct agent_runner {
	const agent_config *cfg;
	bool                log_changes;
	pthread_mutex_t     mu;
	pthread_cond_t      done_cv;
	bool                stop;
	bool (*stop_requested)(void); // polled while a round waits; NULL: never
	agent_cancel   cancel;        // fired at agent_runner_free(): probes give up at once
	uint64_t       gen;
	size_t         pending; // workers started this round and not yet done
	worker        *w;
	size_t         n;
	agent_result **out; // results handed out by the last round
	uint32_t       max_timeout_ms;

	// Expectations state (round thread only).
	agent_expect  *expect;
	agent_expect **retired; // replaced while a late probe might still read them
	size_t         n_retired;
	bool           have_sig;
	struct stat    sig;
	char           exp_error[512];
	char           exp_digest[32];
	char           kept_release[256]; // release whose expectations copy is current
	bool           kept_valid;
	char           bad_release[256]; // last release line logged as not text, "" none
};

static void
set_deadline(struct timespec *ts, int64_t mono_us)
{
	ts->tv_sec  = mono_us / 1000000;
	ts->tv_nsec = (mono_us % 1000000) * 1000;
}

static void *
worker_main(void *arg)
{
	worker       *w = arg;
	agent_runner *r = w->r;

	agent_cancel_set_current(&r->cancel);
	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (!r->stop && w->want == w->done) {
			pthread_cond_wait(&w->cv, &r->mu);
		}
		if (r->stop) {
			break;
		}
		uint64_t      gen  = w->want;
		int           next = w->cur == 0 ? 1 : 0;
		agent_result *res  = &w->buf[next];
		pthread_mutex_unlock(&r->mu);

		const agent_probe_ops *ops = w->pc->ops;
		agent_result_fini(res);
		agent_result_init(res, w->pc->name, ops->kind, ops->target(w->pc->ctx));
		ops->run(w->pc->ctx, &w->round, res);

		pthread_mutex_lock(&r->mu);
		w->cur  = next;
		w->done = gen;
		w->busy = false;
		// Wake the round thread once, when its last probe is in (or at shutdown), not per
		// probe: fewer context switches per round.
		if (gen == r->gen && r->pending > 0) {
			r->pending--;
		}
		if (r->pending == 0 || r->stop) {
			pthread_cond_signal(&r->done_cv);
		}
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

int
agent_runner_new(
    const agent_config *cfg, bool log_changes, agent_runner **out, char *err, size_t errlen)
{
	agent_runner      *r;
	pthread_condattr_t ca;
	pthread_attr_t     ta;
	sigset_t           all, old;
	int                rv = 0;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->w = calloc(cfg->n_probes ? cfg->n_probes : 1, sizeof(*r->w))) == NULL ||
	    (r->out = calloc(cfg->n_probes ? cfg->n_probes : 1, sizeof(*r->out))) == NULL) {
		if (r != NULL) {
			free(r->w);
		}
		free(r);
		snprintf(err, errlen, "cannot start probes: out of memory");
		return -1;
	}
	r->cfg            = cfg;
	r->log_changes    = log_changes;
	r->n              = cfg->n_probes;
	r->max_timeout_ms = agent_config_max_timeout_ms(cfg);
	if (agent_cancel_init(&r->cancel) != 0) {
		fl_log(FL_LOG_WARN, "round",
		    "cannot create the stop descriptor: %s; probes notice a "
		    "stop within %dms",
		    strerror(errno), AGENT_CANCEL_SLICE_MS);
	}
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->done_cv, &ca);
	pthread_attr_init(&ta);
	pthread_attr_setstacksize(&ta, WORKER_STACK);

	// Workers never take signals: the main thread handles them.
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (size_t i = 0; i < r->n; i++) {
		worker *w = &r->w[i];
		w->r      = r;
		w->pc     = &cfg->probes[i];
		w->last   = FL__STATUS__STATUS_UNKNOWN;
		pthread_cond_init(&w->cv, &ca);
		w->cur = -1;
		agent_result_init(&w->buf[0], w->pc->name, w->pc->ops->kind, "");
		agent_result_init(&w->buf[1], w->pc->name, w->pc->ops->kind, "");
		agent_result_init(&w->late, w->pc->name, w->pc->ops->kind, "");
		if ((rv = pthread_create(&w->thr, &ta, worker_main, w)) != 0) {
			snprintf(err, errlen, "cannot start probe thread: %s", strerror(rv));
			break;
		}
		w->started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&ta);
	pthread_condattr_destroy(&ca);
	if (rv != 0) {
		agent_runner_free(r, 0);
		return -1;
	}
	*out = r;
	return 0;
}

static void
free_expect_list(agent_runner *r)
{
	for (size_t i = 0; i < r->n_retired; i++) {
		agent_expect_free(r->retired[i]);
	}
	free(r->retired);
	r->retired   = NULL;
	r->n_retired = 0;
}

bool
agent_runner_free(agent_runner *r, uint32_t wait_ms)
{
	int64_t deadline;
	bool    idle = true;

	if (r == NULL) {
		return true;
	}
	deadline = fl_mono_us() + (int64_t) wait_ms * 1000;
	agent_cancel_fire(&r->cancel); // probes waiting on hung targets return now
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	for (size_t i = 0; i < r->n; i++) {
		pthread_cond_signal(&r->w[i].cv);
	}
	for (;;) {
		idle = true;
		for (size_t i = 0; i < r->n; i++) {
			idle = idle && !r->w[i].busy;
		}
		if (idle) {
			break;
		}
		struct timespec ts;
		set_deadline(&ts, deadline);
		if (pthread_cond_timedwait(&r->done_cv, &r->mu, &ts) == ETIMEDOUT) {
			break;
		}
	}
	pthread_mutex_unlock(&r->mu);
	if (!idle) {
		for (size_t i = 0; i < r->n; i++) {
			if (r->w[i].started) {
				pthread_detach(r->w[i].thr);
			}
		}
		fl_log(FL_LOG_WARN, "round", "abandoning probes still running at shutdown");
		return false;
	}
	for (size_t i = 0; i < r->n; i++) {
		worker *w = &r->w[i];
		if (w->started) {
			pthread_join(w->thr, NULL);
		}
		pthread_cond_destroy(&w->cv);
		agent_result_fini(&w->buf[0]);
		agent_result_fini(&w->buf[1]);
		agent_result_fini(&w->late);
	}
	pthread_cond_destroy(&r->done_cv);
	pthread_mutex_destroy(&r->mu);
	agent_cancel_fini(&r->cancel);
	agent_expect_free(r->expect);
	free_expect_list(r);
	free(r->out);
	free(r->w);
	free(r);
	return true;
}

int
agent_release_expect_path(const char *state_dir, const char *release, char *buf, size_t len)
{
	char     safe[201];
	size_t   i;
	bool     changed = false;
	uint32_t h       = 2166136261u; // FNV-1a 32

	for (i = 0; release[i] != '\0' && i < sizeof(safe) - 1; i++) {
		char c  = release[i];
		int  ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || (c == '.' && i > 0);
		safe[i] = ok ? c : '_';
		changed = changed || !ok;
	}
	safe[i] = '\0';
	changed = changed || release[i] != '\0' || i == 0;
	for (const char *p = release; *p; p++) {
		h = (h ^ (unsigned char) *p) * 16777619u;
	}
	int w = changed ? snprintf(buf, len, "%s/releases/%s-%08x.expect", state_dir, safe, h)
	                : snprintf(buf, len, "%s/releases/%s.expect", state_dir, safe);
	return w < 0 || (size_t) w >= len ? -1 : 0;
}

// Copies the expectations file for release into the state directory (write + rename).
static int
keep_copy(const char *state_dir, const char *src, const char *release, char *why, size_t whylen)
{
	char   dir[PATH_MAX], dst[PATH_MAX], tmp[PATH_MAX + 8], buf[8192];
	FILE  *in = NULL, *outf = NULL;
	int    ok = 0;
	size_t n;

	if (snprintf(dir, sizeof(dir), "%s/releases", state_dir) >= (int) sizeof(dir) ||
	    agent_release_expect_path(state_dir, release, dst, sizeof(dst)) != 0) {
		snprintf(why, whylen, "path too long");
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", dst);
	if ((mkdir(state_dir, 0750) != 0 && errno != EEXIST) ||
	    (mkdir(dir, 0750) != 0 && errno != EEXIST)) {
		snprintf(why, whylen, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if ((in = fopen(src, "re")) == NULL) {
		snprintf(why, whylen, "cannot read %s: %s", src, strerror(errno));
		return -1;
	}
	if ((outf = fopen(tmp, "we")) == NULL) {
		snprintf(why, whylen, "cannot write %s: %s", tmp, strerror(errno));
		fclose(in);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
		if (fwrite(buf, 1, n, outf) != n) {
			ok = -1;
			break;
		}
	}
	if (ferror(in)) {
		ok = -1;
	}
	fclose(in);
	if (fclose(outf) != 0) {
		ok = -1;
	}
	if (ok != 0 || rename(tmp, dst) != 0) {
		snprintf(why, whylen, "cannot write %s: %s", dst, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static bool
any_busy(agent_runner *r)
{
	bool busy = false;
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < r->n; i++) {
		busy = busy || r->w[i].busy;
	}
	pthread_mutex_unlock(&r->mu);
	return busy;
}

// Replaces the current expectations; the old ones are freed once no probe can be reading them.
static void
swap_expect(agent_runner *r, agent_expect *e)
{
	if (r->expect != NULL) {
		agent_expect **nv = realloc(r->retired, (r->n_retired + 1) * sizeof(*nv));
		if (nv != NULL) {
			r->retired                 = nv;
			r->retired[r->n_retired++] = r->expect;
		} // else: leak it rather than risk a late probe reading freed memory
	}
	r->expect = e;
}

static void
refresh_expectations(agent_runner *r, const char *release)
{
	const char *path = r->cfg->expectations;
	struct stat st;
	bool        changed;

	if (!any_busy(r)) {
		free_expect_list(r);
	}
	if (path[0] == '\0') {
		return;
	}
	if (stat(path, &st) != 0) {
		if (r->have_sig || r->exp_error[0] == '\0') {
			fl_log(FL_LOG_WARN, "round", "cannot read expectations %s: %s", path,
			    strerror(errno));
		}
		char msg[PATH_MAX + 128];
		snprintf(msg, sizeof(msg), "%s:0: cannot read: %s", path, strerror(errno));
		fl_str_copy_trunc(r->exp_error, sizeof(r->exp_error), msg);
		r->exp_digest[0] = '\0';
		r->have_sig      = false;
		r->kept_valid    = false;
		swap_expect(r, NULL);
		return;
	}
	changed = !r->have_sig || st.st_mtim.tv_sec != r->sig.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != r->sig.st_mtim.tv_nsec || st.st_size != r->sig.st_size ||
	    st.st_ino != r->sig.st_ino || st.st_dev != r->sig.st_dev;
	if (changed) {
		agent_expect *e = NULL;
		char          err[512];
		r->sig      = st;
		r->have_sig = true;
		if (agent_expect_load(path, &e, err, sizeof(err)) != 0) {
			if (strcmp(err, r->exp_error) != 0) {
				fl_log(FL_LOG_WARN, "round", "cannot use expectations: %s", err);
			}
			snprintf(r->exp_error, sizeof(r->exp_error), "%s", err);
			r->exp_digest[0] = '\0';
			swap_expect(r, NULL);
		} else {
			fl_log(
			    FL_LOG_INFO, "round", "loaded expectations %s (%s)", path, e->digest);
			r->exp_error[0] = '\0';
			snprintf(r->exp_digest, sizeof(r->exp_digest), "%s", e->digest);
			swap_expect(r, e);
		}
		r->kept_valid = false;
	}
	if (!r->kept_valid || strcmp(r->kept_release, release) != 0) {
		char why[PATH_MAX + 128];
		if (keep_copy(r->cfg->state_dir, path, release, why, sizeof(why)) != 0) {
			fl_log(FL_LOG_WARN, "round", "cannot keep expectations of release %s: %s",
			    release, why);
		}
		// Even on failure: retry on the next change, not every round.
		snprintf(r->kept_release, sizeof(r->kept_release), "%s", release);
		r->kept_valid = true;
	}
}

static void
log_change(worker *w, const agent_result *res)
{
	Fl__Status       s = res->pb.status;
	Fl__FailureClass f = res->pb.failure;
	if (s == w->last && f == w->last_failure) {
		return;
	}
	if (w->last == FL__STATUS__STATUS_UNKNOWN && s == FL__STATUS__STATUS_OK) {
		fl_log(FL_LOG_INFO, "probe", "%s: ok (%s)", res->name, res->detail);
	} else if (s == FL__STATUS__STATUS_OK) {
		fl_log(FL_LOG_NOTICE, "probe", "%s: %s -> ok (%s)", res->name,
		    fl_status_name(w->last), res->detail);
	} else {
		fl_log(FL_LOG_WARN, "probe", "%s: %s -> %s, %s: %s", res->name,
		    fl_status_name(w->last), fl_status_name(s), fl_failure_name(f), res->detail);
	}
	w->last         = s;
	w->last_failure = f;
}

void
agent_runner_inherit(agent_runner *r, const agent_runner *old)
{
	for (size_t i = 0; i < r->n; i++) {
		for (size_t j = 0; j < old->n; j++) {
			if (strcmp(r->w[i].pc->name, old->w[j].pc->name) == 0) {
				r->w[i].last         = old->w[j].last;
				r->w[i].last_failure = old->w[j].last_failure;
				break;
			}
		}
	}
}

// The deployed release: the release file's first line, "unknown" when there is none. A line
// that is not printable UTF-8 (a tab, an escape sequence, Latin-1) would make the collector
// refuse every report, so it is sent escaped ("1.0\\tbeta"), with a warning each time it
// changes.
static void
read_release(agent_runner *r, char *release, size_t len)
{
	const char *file = r->cfg->release_file;
	char        raw[256], problem[96];
	const char *bad;

	if (file[0] == '\0' || fl_cfg_read_first_line(file, raw, sizeof(raw)) != 0) {
		snprintf(release, len, "unknown");
		return;
	}
	if ((bad = fl_text_problem(raw, problem, sizeof(problem))) == NULL) {
		snprintf(release, len, "%s", raw);
		return;
	}
	fl_text_escape(release, len, raw);
	if (strcmp(r->bad_release, raw) != 0) {
		fl_log(FL_LOG_WARN, "round",
		    "release file %s: the first line contains %s; reporting the release as \"%s\"",
		    file, bad, release);
		snprintf(r->bad_release, sizeof(r->bad_release), "%s", raw);
	}
}

void
agent_runner_set_stop_check(agent_runner *r, bool (*stop_requested)(void))
{
	r->stop_requested = stop_requested;
}

// The result a round reports for a probe that has not finished the run it is on: its last
// finished result marked in progress, or a stand-in when there is none yet or when the run
// has overrun its own timeout (a probe that does not keep its timeout is a timeout).
static agent_result *
in_progress_result(worker *w, int64_t now, int64_t round_started_us)
{
	const agent_probe_ops *ops     = w->pc->ops;
	uint32_t               timeout = ops->timeout_ms(w->pc->ctx);
	int64_t                ran_us  = now - w->run_t0;
	uint32_t               ran_ms  = ran_us > 0 ? (uint32_t) (ran_us / 1000) : 0;

	if (ran_ms == 0) {
		ran_ms = 1; // 0 means "not in progress" on the wire
	}
	bool overran = ran_ms >= timeout + AGENT_ROUND_MARGIN_MS;
	if (w->cur >= 0 && !overran) {
		agent_result *last      = &w->buf[w->cur];
		last->pb.in_progress_ms = ran_ms;
		return last;
	}
	agent_result_fini(&w->late);
	agent_result_init(&w->late, w->pc->name, ops->kind, ops->target(w->pc->ctx));
	w->late.pb.started_us     = round_started_us;
	w->late.pb.in_progress_ms = ran_ms;
	if (overran) {
		w->late.pb.duration_us = w->late.timing.total_us =
		    ran_us > UINT32_MAX ? UINT32_MAX : (uint32_t) ran_us;
		agent_result_set(&w->late, FL__STATUS__STATUS_FAIL,
		    FL__FAILURE_CLASS__FAILURE_TIMEOUT,
		    "probe did not finish within its timeout (%ums) plus %dms", timeout,
		    AGENT_ROUND_MARGIN_MS);
	} else {
		agent_result_set(&w->late, FL__STATUS__STATUS_UNKNOWN,
		    FL__FAILURE_CLASS__FAILURE_NONE, "first run still in progress (%.1fs)",
		    (double) ran_ms / 1000.0);
	}
	return &w->late;
}

void
agent_runner_run(agent_runner *r, uint32_t wait_ms, agent_round_out *out)
{
	const agent_config *cfg      = r->cfg;
	int64_t             t0       = fl_mono_us();
	uint32_t            full     = r->max_timeout_ms + AGENT_ROUND_MARGIN_MS;
	uint32_t            wait     = wait_ms < full ? wait_ms : full;
	int64_t             deadline = t0 + (int64_t) wait * 1000;

	memset(out, 0, sizeof(*out));
	out->started_us   = fl_now_us();
	out->max_round_ms = wait;
	read_release(r, out->release, sizeof(out->release));
	refresh_expectations(r, out->release);
	snprintf(out->expectations_file, sizeof(out->expectations_file), "%s", cfg->expectations);
	snprintf(out->expectations_digest, sizeof(out->expectations_digest), "%s", r->exp_digest);
	// Parser messages may quote the file's bytes: keep them text.
	fl_text_escape(out->expectations_error, sizeof(out->expectations_error), r->exp_error);
	memcpy(out->labels, cfg->labels, cfg->n_labels * sizeof(cfg->labels[0]));
	out->n_labels = cfg->n_labels;

	pthread_mutex_lock(&r->mu);
	uint64_t gen = ++r->gen;
	r->pending   = 0;
	for (size_t i = 0; i < r->n; i++) {
		worker *w = &r->w[i];
		if (w->busy) {
			continue; // still on an earlier round: reported in progress below
		}
		snprintf(w->release, sizeof(w->release), "%s", out->release);
		w->round.release = w->release;
		w->round.expect  = r->expect;
		w->want          = gen;
		w->busy          = true;
		w->run_t0        = t0;
		r->pending++;
	}
	// Wake the workers with the lock released, so they do not wake only to block on it.
	pthread_mutex_unlock(&r->mu);
	for (size_t i = 0; i < r->n; i++) {
		if (r->w[i].want == gen) { // only this thread writes want
			pthread_cond_signal(&r->w[i].cv);
		}
	}
	pthread_mutex_lock(&r->mu);
	while (r->pending > 0) {
		struct timespec ts;
		int64_t         until = deadline;
		if (r->stop_requested != NULL) {
			if (r->stop_requested()) {
				break; // report what is in; the caller stops next
			}
			int64_t slice = fl_mono_us() + AGENT_STOP_POLL_MS * 1000;
			until         = slice < deadline ? slice : deadline;
		}
		set_deadline(&ts, until);
		if (pthread_cond_timedwait(&r->done_cv, &r->mu, &ts) == ETIMEDOUT &&
		    until == deadline) {
			break;
		}
	}
	int64_t now = fl_mono_us();
	for (size_t i = 0; i < r->n; i++) {
		worker *w = &r->w[i];
		if (w->done == gen) {
			r->out[i] = &w->buf[w->cur];
		} else {
			r->out[i] = in_progress_result(w, now, out->started_us);
		}
	}
	pthread_mutex_unlock(&r->mu);

	if (r->log_changes) {
		for (size_t i = 0; i < r->n; i++) {
			log_change(&r->w[i], r->out[i]);
		}
	}
	out->results   = r->out;
	out->n_results = r->n;
}
