// respondent.c - see respondent.h.

#include "respondent.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <nng/nng.h>
#include <nng/protocol/survey0/respond.h>

#include "cancel.h"
#include "expect.h"
#include "fl/log.h"
#include "fl/str.h"
#include "fl/unmet.h"
#include "fl/urls.h"
#include "fl/wire.h"
#include "secure.h"

struct agent_respondent {
	nng_socket      sock;
	pthread_t       thr;
	bool            started;
	pthread_mutex_t mu;     // the round lock (respondent.h)
	agent_cancel    cancel; // fired at agent_respondent_free(): release checks give up

	// Guarded by mu.
	const agent_config *cfg;
	agent_runner       *runner;
	agent_sender       *sender;
};

// Appends a formatted string to chk->errors (dropped when out of memory: best effort).
static void add_error(Fl__ReleaseCheck *chk, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
add_error(Fl__ReleaseCheck *chk, const char *fmt, ...)
{
	char    buf[FL_WIRE_MAX_DETAIL];
	va_list ap;
	char  **nv;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if ((nv = realloc(chk->errors, (chk->n_errors + 1) * sizeof(*nv))) == NULL) {
		return;
	}
	chk->errors = nv;
	if ((nv[chk->n_errors] = strdup(buf)) != NULL) {
		chk->n_errors++;
	}
}

void
agent_release_check_fini(Fl__ReleaseCheck *chk)
{
	fl_unmet_free_all(&chk->unmet, &chk->n_unmet);
	for (size_t i = 0; i < chk->n_errors; i++) {
		free(chk->errors[i]);
	}
	free(chk->errors);
	free(chk->release);
	fl__release_check__init(chk);
}

typedef struct db_job {
	const agent_probe_cfg *pc;
	agent_round            round;
	agent_result           res;
	pthread_t              thr;
	bool                   started;
	const agent_cancel    *cancel;
} db_job;

static void *
db_job_main(void *arg)
{
	db_job *j = arg;
	agent_cancel_set_current(j->cancel);
	j->pc->ops->run(j->pc->ctx, &j->round, &j->res);
	return NULL;
}

static bool
is_db_probe(const agent_probe_cfg *pc)
{
	return pc->ops->kind == FL__PROBE_KIND__KIND_POSTGRES ||
	    pc->ops->kind == FL__PROBE_KIND__KIND_MYSQL;
}

void
agent_release_check(const char *config_path, const char *state_dir, const char *release,
    const agent_cancel *cancel, Fl__ReleaseCheck *chk)
{
	char          path[PATH_MAX], err[AGENT_CFG_ERRLEN];
	struct stat   st;
	agent_expect *e    = NULL;
	agent_config *cfg  = NULL;
	db_job       *jobs = NULL;
	size_t        n    = 0;

	fl__release_check__init(chk);
	chk->release = fl_str_dup(release);
	if (agent_release_expect_path(state_dir, release, path, sizeof(path)) != 0) {
		add_error(chk, "release id too long for a path");
		return;
	}
	if (stat(path, &st) != 0) {
		// Never kept: the agent has not run this release since it started keeping copies.
		chk->known = false;
		if (errno != ENOENT) {
			add_error(chk, "cannot read %s: %s", path, strerror(errno));
		}
		return;
	}
	chk->known = true;
	if (agent_expect_load(path, &e, err, sizeof(err)) != 0) {
		add_error(chk, "expectations of release %s are malformed: %s", release, err);
		return;
	}
	if (agent_config_load(config_path, &cfg, err, sizeof(err)) != 0) {
		char *nl = strchr(err, '\n');
		if (nl != NULL) {
			*nl = '\0';
		}
		add_error(chk, "cannot load the agent config to run the database probes: %s", err);
		agent_expect_free(e);
		return;
	}
	if (cfg->n_probes > 0 && (jobs = calloc(cfg->n_probes, sizeof(*jobs))) == NULL) {
		add_error(chk, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < cfg->n_probes; i++) {
		const agent_probe_cfg *pc = &cfg->probes[i];
		if (!is_db_probe(pc)) {
			continue;
		}
		db_job *j        = &jobs[n++];
		j->pc            = pc;
		j->round.release = release;
		j->round.expect  = e;
		j->cancel        = cancel;
		agent_result_init(&j->res, pc->name, pc->ops->kind, pc->ops->target(pc->ctx));
		j->started = pthread_create(&j->thr, NULL, db_job_main, j) == 0;
		if (!j->started) {
			db_job_main(j); // no thread to spare: run it here
		}
	}
	for (size_t i = 0; i < n; i++) {
		db_job                *j = &jobs[i];
		const Fl__ProbeResult *p = &j->res.pb;
		if (j->started) {
			pthread_join(j->thr, NULL);
		}
		for (size_t k = 0; k < p->n_unmet; k++) {
			// Past the cap or out of memory: the rest are left out, as before.
			(void) fl_unmet_append(
			    &chk->unmet, &chk->n_unmet, FL_WIRE_MAX_UNMET, p->unmet[k]);
		}
		// Unmet requirements are the answer; any other failure means the database could
		// not be checked, so the release's readiness is not known for it.
		if (p->status == FL__STATUS__STATUS_FAIL &&
		    p->failure != FL__FAILURE_CLASS__FAILURE_PRIVILEGE_MISSING &&
		    p->failure != FL__FAILURE_CLASS__FAILURE_OBJECT_MISSING) {
			add_error(chk, "%s: %s", p->name, p->detail);
		}
		agent_result_fini(&j->res);
	}
done:
	free(jobs);
	agent_config_free(cfg);
	agent_expect_free(e);
}

// Runs the survey round with the lock held and returns a copy of its Report, decoded, or NULL.
static Fl__Report *
survey_round(agent_respondent *r, char *cfg_path, size_t pathlen, char *state_dir, size_t dirlen)
{
	agent_round_out round;
	uint8_t        *buf = NULL;
	size_t          len = 0;
	Fl__Report     *rep = NULL;

	pthread_mutex_lock(&r->mu);
	if (r->runner == NULL) {
		pthread_mutex_unlock(&r->mu);
		return NULL;
	}
	agent_runner_run(r->runner, AGENT_ROUND_WAIT_ALL, &round);
	agent_sender_submit(r->sender, &round);
	// The copy for the surveyor: the collector identifies rounds by the sender's seq and
	// applies the submitted one; this copy is only read.
	if (agent_report_pack(
	        r->cfg->name, r->cfg->interval_ms, 0, 0, false, 0, &round, &buf, &len) == 0) {
		rep = fl__report__unpack(NULL, len, buf);
		free(buf);
	}
	snprintf(cfg_path, pathlen, "%s", r->cfg->path);
	snprintf(state_dir, dirlen, "%s", r->cfg->state_dir);
	pthread_mutex_unlock(&r->mu);
	return rep;
}

static void
answer(agent_respondent *r, const Fl__SurveyRequest *q)
{
	Fl__SurveyReply   reply = FL__SURVEY_REPLY__INIT;
	Fl__ReleaseCheck  checks[AGENT_SURVEY_MAX_RELEASES];
	Fl__ReleaseCheck *ptrs[AGENT_SURVEY_MAX_RELEASES];
	size_t            n_checks = 0;
	char              cfg_path[PATH_MAX], state_dir[PATH_MAX];
	Fl__Report       *rep;
	nng_msg          *msg;
	int               rv;

	if ((rep = survey_round(r, cfg_path, sizeof(cfg_path), state_dir, sizeof(state_dir))) ==
	    NULL) {
		fl_log(FL_LOG_WARN, "survey", "cannot answer survey %llu: no round available",
		    (unsigned long long) q->survey_id);
		return;
	}
	for (size_t i = 0; i < q->n_rollback_to && n_checks < AGENT_SURVEY_MAX_RELEASES; i++) {
		agent_release_check(
		    cfg_path, state_dir, q->rollback_to[i], &r->cancel, &checks[n_checks]);
		ptrs[n_checks] = &checks[n_checks];
		n_checks++;
	}
	rep->n_release_checks = n_checks;
	rep->release_checks   = ptrs; // borrowed for packing; detached before the free below
	reply.schema_version  = FL_SCHEMA_VERSION;
	reply.survey_id       = q->survey_id;
	reply.report          = rep;
	// With a sign_key the reply also carries the report signed, so a collector that
	// checks signatures knows the answer comes from this host (see secure.h).
	uint8_t *env    = NULL;
	size_t   envlen = 0;
	if ((rv = agent_secure_sign_report(rep->host, rep, &env, &envlen)) == 0 && env != NULL) {
		reply.envelope.data = env;
		reply.envelope.len  = envlen;
	}
	if (rv == 0 && (rv = fl_wire_encode(&reply.base, &msg)) == 0) {
		// nng_sendmsg takes msg on success; on error we still own it.
		if ((rv = nng_sendmsg(r->sock, msg, 0)) != 0) {
			nng_msg_free(msg);
		}
	}
	if (rv != 0) {
		fl_log(FL_LOG_WARN, "survey", "cannot answer survey %llu: %s",
		    (unsigned long long) q->survey_id, nng_strerror(rv));
	} else {
		fl_log(FL_LOG_DEBUG, "survey", "answered survey %llu (%zu release checks)",
		    (unsigned long long) q->survey_id, n_checks);
	}
	free(env);
	rep->n_release_checks = 0;
	rep->release_checks   = NULL;
	fl__report__free_unpacked(rep, NULL);
	for (size_t i = 0; i < n_checks; i++) {
		agent_release_check_fini(&checks[i]);
	}
}

static void *
respondent_main(void *arg)
{
	agent_respondent *r = arg;

	for (;;) {
		nng_msg           *msg;
		Fl__SurveyRequest *q = NULL;
		char               why[256];
		int                rv = nng_recvmsg(r->sock, &msg, 0);

		if (rv == NNG_ECLOSED) {
			break;
		}
		if (rv != 0) {
			continue; // NNG_ETIMEDOUT and the like: keep listening
		}
		fl_wire_reject rj = fl_wire_decode_survey_request(
		    nng_msg_body(msg), nng_msg_len(msg), &q, why, sizeof(why));
		nng_msg_free(msg);
		if (rj != FL_WIRE_OK) {
			fl_log(FL_LOG_WARN, "survey", "cannot accept survey (%s): %s",
			    fl_wire_reject_name(rj), why);
			continue;
		}
		answer(r, q);
		fl__survey_request__free_unpacked(q, NULL);
	}
	return NULL;
}

int
agent_respondent_new(const char *url, agent_respondent **out, char *err, size_t errlen)
{
	agent_respondent *r;
	sigset_t          all, old;
	int               rv;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, errlen, "cannot start survey respondent: out of memory");
		return -1;
	}
	pthread_mutex_init(&r->mu, NULL);
	(void) agent_cancel_init(&r->cancel); // without a descriptor, waits poll the flag
	if ((rv = nng_respondent0_open(&r->sock)) != 0 ||
	    (rv = fl_wire_socket_limits(r->sock)) != 0) {
		snprintf(err, errlen, "cannot open survey socket: %s", nng_strerror(rv));
		goto fail_mu;
	}
	nng_socket_set_ms(r->sock, NNG_OPT_RECONNMINT, 100);
	nng_socket_set_ms(r->sock, NNG_OPT_RECONNMAXT, 2000);
	// Every collector of the list (fl/urls.h): only the active one listens and surveys, and a
	// reply goes back on the connection its survey came from.
	fl_urls urls;
	char    why[300];
	if (fl_urls_parse(url, false, &urls, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "cannot dial collector %s: %s", url, why);
		goto fail_sock;
	}
	for (size_t i = 0; i < urls.n; i++) {
		if (agent_secure_dial(r->sock, urls.v[i], NULL, err, errlen) !=
		    0) { // TLS: secure.h
			goto fail_sock;
		}
	}
	// The thread never takes signals: the daemon loop handles them.
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rv = pthread_create(&r->thr, NULL, respondent_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rv != 0) {
		snprintf(err, errlen, "cannot start survey thread: %s", strerror(rv));
		goto fail_sock;
	}
	r->started = true;
	*out       = r;
	return 0;

fail_sock:
	nng_close(r->sock);
fail_mu:
	pthread_mutex_destroy(&r->mu);
	agent_cancel_fini(&r->cancel);
	free(r);
	return -1;
}

void
agent_respondent_lock(agent_respondent *r)
{
	if (r != NULL) {
		pthread_mutex_lock(&r->mu);
	}
}

void
agent_respondent_unlock(agent_respondent *r)
{
	if (r != NULL) {
		pthread_mutex_unlock(&r->mu);
	}
}

void
agent_respondent_attach(
    agent_respondent *r, const agent_config *cfg, agent_runner *runner, agent_sender *sender)
{
	if (r == NULL) {
		return;
	}
	r->cfg    = cfg;
	r->runner = runner;
	r->sender = sender;
}

void
agent_respondent_free(agent_respondent *r)
{
	if (r == NULL) {
		return;
	}
	agent_cancel_fire(&r->cancel); // a survey's release checks stop waiting on databases
	nng_close(r->sock);            // wakes the thread with NNG_ECLOSED
	if (r->started) {
		pthread_join(r->thr, NULL);
	}
	pthread_mutex_destroy(&r->mu);
	agent_cancel_fini(&r->cancel);
	free(r);
}
