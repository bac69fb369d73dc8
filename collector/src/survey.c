// survey.c - see survey.h.

#include "survey.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/survey0/survey.h>

#include "fl/log.h"
#include "fl/str.h"
#include "fl/time.h"
#include "fl/wire.h"
#include "pipes.h"

struct coll_survey {
	nng_socket           sock;
	fl_keyring          *kr; // borrowed; NULL: answers are not checked
	atomic_bool          closed;
	atomic_uint_fast64_t next_id;
};

static _Thread_local const atomic_bool *cancel_flag;

void
coll_survey_set_cancel(const atomic_bool *gone)
{
	cancel_flag = gone;
}

bool
coll_survey_cancelled(void)
{
	return cancel_flag != NULL && atomic_load(cancel_flag);
}

int
coll_survey_open(const char *url, const fl_tls_opts *tls, fl_keyring *kr, size_t max_conns,
    size_t recv_max, struct coll_pipes **pipes, coll_survey **out, int *port, char *err,
    size_t errlen)
{
	coll_survey *sv;
	nng_listener l;
	int          rv;
	char         why[512];

	if ((sv = calloc(1, sizeof(*sv))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	sv->kr = kr;
	atomic_init(&sv->closed, false);
	atomic_init(&sv->next_id, (uint64_t) fl_now_us());
	if ((rv = nng_surveyor0_open(&sv->sock)) != 0) {
		snprintf(err, errlen, "cannot open survey socket: %s", nng_strerror(rv));
		free(sv);
		return -1;
	}
	if ((rv = nng_socket_set_size(sv->sock, NNG_OPT_RECVMAXSZ, recv_max)) != 0 ||
	    (rv = coll_pipes_attach(sv->sock, "survey", max_conns, NULL, NULL, pipes)) != 0) {
		snprintf(err, errlen, "cannot open survey socket: %s", nng_strerror(rv));
		nng_close(sv->sock);
		free(sv);
		return -1;
	}
	if ((rv = nng_listener_create(&l, sv->sock, url)) != 0) {
		snprintf(err, errlen, "cannot listen for surveys on %s: %s", url, nng_strerror(rv));
		nng_close(sv->sock);
		free(sv);
		return -1;
	}
	if (fl_tls_url(url) && fl_tls_apply_listener(l, tls, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "cannot listen for surveys on %s: %s", url, why);
		nng_close(sv->sock);
		free(sv);
		return -1;
	}
	if ((rv = nng_listener_start(l, 0)) != 0) {
		snprintf(err, errlen, "cannot listen for surveys on %s: %s", url, nng_strerror(rv));
		nng_close(sv->sock);
		free(sv);
		return -1;
	}
	*port = 0;
	if (strncmp(url, "tcp", 3) == 0 || strncmp(url, "tls+tcp", 7) == 0) {
		nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, port);
	}
	fl_log(FL_LOG_INFO, "survey", "listening for agents' survey answers on %s", url);
	*out = sv;
	return 0;
}

void
coll_survey_close(coll_survey *sv)
{
	if (sv != NULL) {
		atomic_store(&sv->closed, true);
	}
}

void
coll_survey_free(coll_survey *sv)
{
	if (sv != NULL) {
		atomic_store(&sv->closed, true);
		nng_close(sv->sock);
		free(sv);
	}
}

// Takes rep: adds it to r (replacing an earlier report of the same host). 0 or -1 (rep freed).
static int
add_report(Fl__ProbeNowReply *r, Fl__Report *rep)
{
	for (size_t i = 0; i < r->n_reports; i++) {
		if (strcmp(r->reports[i]->host, rep->host) == 0) {
			fl__report__free_unpacked(r->reports[i], NULL);
			r->reports[i] = rep;
			return 0;
		}
	}
	Fl__Report **nr = realloc(r->reports, (r->n_reports + 1) * sizeof(*nr));
	if (nr == NULL) {
		fl__report__free_unpacked(rep, NULL);
		return -1;
	}
	r->reports = nr;
	char **na  = realloc(r->answered, (r->n_answered + 1) * sizeof(*na));
	if (na == NULL) {
		fl__report__free_unpacked(rep, NULL);
		return -1;
	}
	r->answered = na;
	if ((na[r->n_answered] = strdup(rep->host)) == NULL) {
		fl__report__free_unpacked(rep, NULL);
		return -1;
	}
	r->n_answered++;
	r->reports[r->n_reports++] = rep;
	return 0;
}

// With keys_dir: takes rep (the reply's unsigned copy) and returns the report from
// the reply's envelope when it verifies with its host's key, else NULL (logged). The unsigned
// copy is never used then: it could name any host.
static Fl__Report *
verified(coll_survey *sv, const Fl__SurveyReply *sr, Fl__Report *rep)
{
	Fl__Report    *signed_rep = NULL;
	fl_wire_reject wire;
	char           why[256] = "";
	fl_sign_status st       = FL_SIGN_BAD_ENVELOPE;

	if (sr->envelope.len > 0) {
		st = fl_sign_verify_report(sv->kr, sr->envelope.data, sr->envelope.len, &signed_rep,
		    &wire, why, sizeof(why));
	} else {
		snprintf(why, sizeof(why), "answer from %.64s is not signed", rep->host);
	}
	fl__report__free_unpacked(rep, NULL);
	if (st != FL_SIGN_OK) {
		fl_log(FL_LOG_WARN, "survey", "cannot accept survey answer (%s): %s",
		    st == FL_SIGN_WIRE ? fl_wire_reject_name(wire) : fl_sign_status_name(st), why);
		return NULL;
	}
	return signed_rep;
}

// Completion of a survey's send or receive, waited for in slices so that the survey ends early
// when the collector stops or the asking client leaves (a short aio timeout would not do: on a
// SURVEYOR context it ends the survey itself).
typedef struct io_wait {
	pthread_mutex_t mu;
	pthread_cond_t  cv;
	bool            done;
} io_wait;

static void
io_wait_init(io_wait *w)
{
	pthread_condattr_t ca;
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	w->done = false;
}

static void
io_wait_fini(io_wait *w)
{
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
}

static void
on_io(void *arg)
{
	io_wait *w = arg;
	pthread_mutex_lock(&w->mu);
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static void
wait_io(coll_survey *sv, nng_aio *aio, io_wait *w)
{
	bool cancelled = false;

	pthread_mutex_lock(&w->mu);
	while (!w->done) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += COLL_SURVEY_POLL_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&w->cv, &w->mu, &ts);
		if (!w->done && !cancelled &&
		    (atomic_load(&sv->closed) || coll_survey_cancelled())) {
			cancelled = true;
			pthread_mutex_unlock(&w->mu);
			nng_aio_cancel(aio);
			pthread_mutex_lock(&w->mu);
		}
	}
	w->done = false;
	pthread_mutex_unlock(&w->mu);
	nng_aio_wait(aio); // the callback has returned
}

static bool
all_answered(const Fl__ProbeNowReply *r, char *const *expect, size_t n_expect)
{
	if (n_expect == 0) {
		return false;
	}
	for (size_t i = 0; i < n_expect; i++) {
		if (!fl_strv_contains(r->answered, r->n_answered, expect[i])) {
			return false;
		}
	}
	return true;
}

// Sends the survey q on ctx, to be answered within timeout_ms. 0, or -1 with err.
static int
send_survey(coll_survey *sv, nng_ctx ctx, nng_aio *aio, io_wait *w, const Fl__SurveyRequest *q,
    uint32_t timeout_ms, char *err, size_t errlen)
{
	nng_msg *msg;
	int      rv;

	if ((rv = nng_ctx_set_ms(ctx, NNG_OPT_SURVEYOR_SURVEYTIME, (nng_duration) timeout_ms)) !=
	        0 ||
	    (rv = fl_wire_encode(&q->base, &msg)) != 0) {
		snprintf(err, errlen, "cannot start a survey: %s", nng_strerror(rv));
		return -1;
	}
	nng_aio_set_msg(aio, msg);
	nng_ctx_send(ctx, aio);
	wait_io(sv, aio, w);
	if ((rv = nng_aio_result(aio)) != 0) {
		nng_msg_free(msg); // the aio did not take it
		snprintf(err, errlen, "cannot send the survey: %s", nng_strerror(rv));
		return -1;
	}
	fl_log(FL_LOG_DEBUG, "survey", "survey %llu sent (%u ms)",
	    (unsigned long long) q->survey_id, timeout_ms);
	return 0;
}

// Decodes one answer (m, freed here), checks its signature when keys are configured, and keeps
// its report in r. An answer that fails either is logged and dropped.
static void
accept_answer(coll_survey *sv, nng_msg *m, Fl__ProbeNowReply *r)
{
	Fl__SurveyReply *sr;
	Fl__Report      *rep;
	char             why[256];
	fl_wire_reject   rj =
	    fl_wire_decode_survey_reply(nng_msg_body(m), nng_msg_len(m), &sr, why, sizeof(why));

	nng_msg_free(m);
	if (rj != FL_WIRE_OK) {
		fl_log(FL_LOG_WARN, "survey", "cannot accept survey answer (%s): %s",
		    fl_wire_reject_name(rj), why);
		return;
	}
	rep        = sr->report;
	sr->report = NULL; // detached: r owns it now
	if (sv->kr != NULL && (rep = verified(sv, sr, rep)) == NULL) {
		fl__survey_reply__free_unpacked(sr, NULL);
		return;
	}
	fl__survey_reply__free_unpacked(sr, NULL);
	if (add_report(r, rep) != 0) {
		fl_log(FL_LOG_ERR, "survey", "cannot keep a survey answer: out of memory");
	}
}

// Receives answers on ctx into r until every expected host answered, the deadline (monotonic
// us) passes, the socket closes or the asking client goes away.
static void
collect_answers(coll_survey *sv, nng_ctx ctx, nng_aio *aio, io_wait *w, int64_t deadline,
    char *const *expect, size_t n_expect, Fl__ProbeNowReply *r)
{
	while (!all_answered(r, expect, n_expect)) {
		int64_t left = deadline - fl_mono_us();
		int     rv;
		if (left <= 0 || atomic_load(&sv->closed) || coll_survey_cancelled()) {
			break;
		}
		nng_aio_set_timeout(aio, (nng_duration) ((left + 999) / 1000));
		nng_ctx_recv(ctx, aio);
		wait_io(sv, aio, w);
		if ((rv = nng_aio_result(aio)) != 0) {
			if (rv != NNG_ETIMEDOUT && rv != NNG_ECLOSED && rv != NNG_ESTATE &&
			    rv != NNG_ECANCELED) {
				fl_log(FL_LOG_WARN, "survey", "cannot receive survey answers: %s",
				    nng_strerror(rv));
			}
			break; // deadline passed (the survey expired) or socket closed
		}
		accept_answer(sv, nng_aio_get_msg(aio), r);
	}
}

// Lists in r->missing the expected hosts that did not answer (as many as memory allows).
static void
note_missing(Fl__ProbeNowReply *r, char *const *expect, size_t n_expect)
{
	for (size_t i = 0; i < n_expect; i++) {
		if (fl_strv_contains(r->answered, r->n_answered, expect[i]) ||
		    fl_strv_contains(r->missing, r->n_missing, expect[i])) {
			continue;
		}
		char **nm = realloc(r->missing, (r->n_missing + 1) * sizeof(*nm));
		if (nm == NULL) {
			break;
		}
		r->missing = nm;
		if ((nm[r->n_missing] = strdup(expect[i])) == NULL) {
			break;
		}
		r->n_missing++;
	}
}

int
coll_survey_run(coll_survey *sv, uint32_t timeout_ms, char *const *rollback_to, size_t n_rb,
    char *const *expect, size_t n_expect, Fl__ProbeNowReply **out, char *err, size_t errlen)
{
	Fl__SurveyRequest  q = FL__SURVEY_REQUEST__INIT;
	Fl__ProbeNowReply *r;
	nng_ctx            ctx;
	nng_aio           *aio = NULL;
	int                rv;
	io_wait            w;

	if (timeout_ms == 0 || timeout_ms > COLL_SURVEY_MAX_MS) {
		timeout_ms = timeout_ms == 0 ? 3000 : COLL_SURVEY_MAX_MS;
	}
	if ((r = malloc(sizeof(*r))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fl__probe_now_reply__init(r);
	io_wait_init(&w);
	q.schema_version = FL_SCHEMA_VERSION;
	q.survey_id      = atomic_fetch_add(&sv->next_id, 1);
	q.n_rollback_to  = n_rb;
	q.rollback_to    = (char **) rollback_to; // borrowed for packing only

	if (atomic_load(&sv->closed)) {
		snprintf(err, errlen, "the collector is stopping");
		goto fail;
	}
	if ((rv = nng_aio_alloc(&aio, on_io, &w)) != 0 ||
	    (rv = nng_ctx_open(&ctx, sv->sock)) != 0) {
		snprintf(err, errlen, "cannot start a survey: %s", nng_strerror(rv));
		goto fail;
	}
	int64_t deadline = fl_mono_us() + (int64_t) timeout_ms * 1000;
	if (send_survey(sv, ctx, aio, &w, &q, timeout_ms, err, errlen) != 0) {
		nng_ctx_close(ctx);
		goto fail;
	}
	collect_answers(sv, ctx, aio, &w, deadline, expect, n_expect, r);
	nng_ctx_close(ctx);
	nng_aio_free(aio);
	io_wait_fini(&w);
	note_missing(r, expect, n_expect);
	fl_log(FL_LOG_INFO, "survey", "survey %llu: %zu answered, %zu missing",
	    (unsigned long long) q.survey_id, r->n_answered, r->n_missing);
	*out = r;
	return 0;

fail:
	if (aio != NULL) {
		nng_aio_free(aio);
	}
	io_wait_fini(&w);
	fl__probe_now_reply__free_unpacked(r, NULL);
	return -1;
}
