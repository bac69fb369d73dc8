// control.c - the control thread: the CLI's REQ/REP queries. See server.h for threading.
//
// Every request gets exactly one Response: a reply, or Response.error saying why not (a silent
// drop would leave the CLI waiting for its timeout). The one exception is a client that sends
// a request while its previous reply is still unread: no REQ client does that, and answering
// would only queue more memory behind a reader that does not read ("reply contexts" below).

#include "control.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fl/log.h"
#include "fl/str.h"
#include "fl/time.h"
#include "fl/wire.h"
#include "notify.h"
#include "notify_mute.h"
#include "pipes.h"
#include "rejects.h"
#include "survey.h"
#include "trace.h"
#include "verify.h"

// Slow requests (probe-now, verify: seconds, bounded by their survey deadlines) are answered on
// a worker thread of their own, on the REP context they arrived on, so status and history keep
// answering meanwhile. At most this many run at once; more are refused with an error.
#define CONTROL_MAX_SLOW 8

// Replies (see "reply contexts" below).
// Contexts: one receives, the others answer or send. Each connection holds at most one queued
// reply (a context) at a time, so with one per possible connection, plus the slow requests,
// the control thread never waits for a free one.
#define CONTROL_SLOTS            (COLL_CONTROL_MAX_CONNS + CONTROL_MAX_SLOW + 1)
#define CONTROL_SEND_DEADLINE_MS 2000                 // a reply queued behind an unread one
#define CONTROL_REPLY_BUDGET     (256u * 1024 * 1024) // reply bytes held over all clients
#define CONTROL_RECV_POLL_MS     250                  // how often the thread checks for a stop
#define CONTROL_LOG_EVERY_US     10000000LL           // cut-off clients: one log line per 10 s
#define CONTROL_CUT_SETTLE_MS    50                   // see cut_off
#define CONTROL_CUT_EVERY_US     250000LL             // cut-offs are closed in batches

typedef struct reply_slot {
	coll_server *srv;
	nng_ctx      ctx;
	nng_aio     *aio;  // sends, completing in on_sent
	uint32_t     pipe; // connection of the request being answered
	size_t       len;  // bytes of the reply being sent
	bool         busy; // receiving, answering or sending
} reply_slot;

static int
encode_error(const char *text, nng_msg **out)
{
	Fl__Response resp   = FL__RESPONSE__INIT;
	resp.schema_version = FL_SCHEMA_VERSION;
	resp.error          = (char *) text; // borrowed for packing only
	return fl_wire_encode(&resp.base, out);
}

// The answer of a standby to a query only the active can answer (role.h): the error, and
// not_active so that a CLI given several collectors asks the next one.
static int
encode_not_active(coll_server *srv, const char *what, nng_msg **out)
{
	Fl__Response resp = FL__RESPONSE__INIT;
	char         text[256], active[COLL_NAME_MAX];

	pthread_mutex_lock(&srv->lock);
	(void) fl_str_copy_trunc(active, sizeof(active), srv->active_name);
	pthread_mutex_unlock(&srv->lock);
	snprintf(text, sizeof(text), "this collector is standby: %s needs the active one%s%s%s",
	    what, active[0] != '\0' ? " (" : "", active, active[0] != '\0' ? ")" : "");
	resp.schema_version = FL_SCHEMA_VERSION;
	resp.error          = text; // borrowed for packing only
	resp.not_active     = true;
	return fl_wire_encode(&resp.base, out);
}

// A query's label filter as a coll_filter (borrowing the query's strings).
static coll_filter
filter_of(const char *host, char *const *labels, size_t n_labels)
{
	coll_filter f = {
		.host = host, .labels = (const char *const *) labels, .n_labels = n_labels
	};
	return f;
}

// The history query through reader. On PostgreSQL a failed read is tried once more: a server
// restart ended the session, sql.h reports the loss once and connects again for the next call.
static int
history_hosts(coll_store *reader, const Fl__HistoryQuery *q, char **names, size_t n, uint32_t limit,
    Fl__HistoryReply **reply)
{
	int rv = coll_store_history_hosts(reader, q ? q->since_us : 0, q ? q->host : NULL,
	    (const char *const *) names, n, limit, reply);

	if (rv == 0 || fl_sql_engine_of(coll_store_sql(reader)) != FL_SQL_PGSQL) {
		return rv;
	}
	return coll_store_history_hosts(reader, q ? q->since_us : 0, q ? q->host : NULL,
	    (const char *const *) names, n, limit, reply);
}

static int
answer_history(coll_server *srv, coll_store *reader, const Fl__HistoryQuery *q, nng_msg **out)
{
	Fl__Response      resp  = FL__RESPONSE__INIT;
	Fl__HistoryReply *reply = NULL;
	uint32_t          limit = COLL_HISTORY_LIMIT;
	char            **names = NULL;
	size_t            n     = 0;
	int               rv;

	if (q != NULL && q->limit != 0) {
		limit = q->limit > COLL_HISTORY_MAX ? COLL_HISTORY_MAX : q->limit;
	}
	if (q != NULL && q->n_labels > 0) {
		// The hosts known now with those labels; SQLite selects their events.
		coll_filter f = filter_of(NULL, q->labels, q->n_labels);
		pthread_mutex_lock(&srv->lock);
		rv = coll_state_names_with_labels(&srv->state, &f, &names, &n);
		pthread_mutex_unlock(&srv->lock);
		if (rv != 0) {
			return NNG_ENOMEM;
		}
	}
	rv = history_hosts(reader, q, names, n, limit, &reply);
	coll_names_free(names, n);
	if (rv != 0) {
		return encode_error("cannot read history (see the collector's log)", out);
	}
	resp.schema_version = FL_SCHEMA_VERSION;
	resp.reply_case     = FL__RESPONSE__REPLY_HISTORY;
	resp.history        = reply;
	rv                  = fl_wire_encode(&resp.base, out);
	coll_history_reply_free(reply);
	return rv;
}

// The diagnose reply r, its findings marked with the mutes covering them, encoded into *out.
static int
encode_diagnose(coll_server *srv, Fl__DiagnoseReply *r, nng_msg **out)
{
	Fl__Response resp = FL__RESPONSE__INIT;

	coll_mutes_mark(srv->mutes, r, fl_now_us()); // findings a mute covers are shown muted
	resp.schema_version = FL_SCHEMA_VERSION;
	resp.reply_case     = FL__RESPONSE__REPLY_DIAGNOSE;
	resp.diagnose       = r;
	return fl_wire_encode(&resp.base, out);
}

// A copy of the verdict tick's reply, taken under the share's mutex: the mutes are marked on the
// copy afterwards, so the share's mutex is never held across the mutes' lock (which a mute's
// SQL write holds) while the ingest thread may wait for it under the state lock.
typedef struct shared_diagnose {
	Fl__DiagnoseReply *copy; // unpacked (fl__diagnose_reply__free_unpacked); NULL: none
} shared_diagnose;

static void
copy_shared(const Fl__DiagnoseReply *r, int64_t at_us, void *arg)
{
	shared_diagnose *u   = arg;
	size_t           len = fl__diagnose_reply__get_packed_size(r);
	uint8_t         *buf = malloc(len ? len : 1);
	(void) at_us;
	if (buf != NULL) {
		fl__diagnose_reply__pack(r, buf);
		u->copy = fl__diagnose_reply__unpack(NULL, len, buf);
		free(buf);
	}
}

// The answer from the verdict tick's diagnosis taken by coll_diag_share_use; NNG_ENOMEM when it
// could not be copied.
static int
encode_shared(coll_server *srv, shared_diagnose *u, nng_msg **out)
{
	if (u->copy == NULL) {
		return NNG_ENOMEM;
	}
	int rv = encode_diagnose(srv, u->copy, out);
	fl__diagnose_reply__free_unpacked(u->copy, NULL);
	return rv;
}

// Whether q asks for the whole fleet's diagnosis, which the verdict tick also makes: no host, no
// labels, and no FL_TRACE_DIAGNOSE (a trace records the probes the query's own diagnosis read).
static bool
whole_fleet(const Fl__DiagnoseQuery *q)
{
	const char *trace = getenv("FL_TRACE_DIAGNOSE");
	if (trace != NULL && trace[0] != '\0') {
		return false;
	}
	return q == NULL || ((q->host == NULL || q->host[0] == '\0') && q->n_labels == 0);
}

// The debug line of a diagnose answered from the verdict tick's diagnosis (scale.sh's breakdown).
static void
log_shared(int64_t t0, const char *how)
{
	fl_log(FL_LOG_DEBUG, "control", "diagnose: the verdict tick's diagnosis, which %s: %.1f ms",
	    how, (double) (fl_mono_us() - t0) / 1000.0);
}

static int
answer_diagnose(coll_server *srv, const Fl__DiagnoseQuery *q, nng_msg **out)
{
	Fl__DiagnoseReply *reply;
	int                rv;
	int64_t            t0    = fl_mono_us(), t1, t2, t3;
	bool               whole = whole_fleet(q);
	uint64_t           mark  = coll_diag_share_mark(&srv->diag);
	shared_diagnose    u     = { .copy = NULL };

	// The verdict tick diagnosing the state as it is now: its answer is this query's.
	if (whole && coll_diag_share_use(&srv->diag, mark, true, copy_shared, &u) == 0) {
		log_shared(t0, "was in progress");
		return encode_shared(srv, &u, out);
	}
	coll_filter f =
	    q != NULL ? filter_of(q->host, q->labels, q->n_labels) : filter_of(NULL, NULL, 0);
	pthread_mutex_lock(&srv->lock);
	// Or it began while this query waited for the lock: it read the state since the query came.
	if (whole && coll_diag_share_use(&srv->diag, mark, false, copy_shared, &u) == 0) {
		pthread_mutex_unlock(&srv->lock);
		log_shared(t0, "ran while the query waited for the lock");
		return encode_shared(srv, &u, out);
	}
	t1          = fl_mono_us();
	int64_t now = fl_now_us();
	reply       = coll_state_diagnose_filtered(&srv->state, now, &f);
	coll_trace_diagnose(&srv->state, now, reply);
	pthread_mutex_unlock(&srv->lock); // the reply owns its strings
	t2 = fl_mono_us();
	if (reply == NULL) {
		return encode_error(
		    "diagnosis is not available (correlation engine gave no answer)", out);
	}
	rv = encode_diagnose(srv, reply, out);
	corr_reply_free(reply);
	t3 = fl_mono_us();
	fl_log(FL_LOG_DEBUG, "control",
	    "diagnose: lock wait %.1f ms, diagnosis %.1f ms, encoding %.1f ms",
	    (double) (t1 - t0) / 1000.0, (double) (t2 - t1) / 1000.0, (double) (t3 - t2) / 1000.0);
	return rv;
}

// The page size a status query asked for, within [COLL_STATUS_PAGE_MIN, COLL_STATUS_PAGE_MAX];
// 0 (no paging) when it asked for none.
static size_t
status_page_bytes(const Fl__StatusQuery *q)
{
	if (q == NULL || q->page_bytes == 0) {
		return 0;
	}
	if (q->page_bytes < COLL_STATUS_PAGE_MIN) {
		return COLL_STATUS_PAGE_MIN;
	}
	return q->page_bytes > COLL_STATUS_PAGE_MAX ? COLL_STATUS_PAGE_MAX : q->page_bytes;
}

// What a first status page carries beside the state: the last verification of each release and
// the refused senders (malloc'd into extra; release with status_extras_fini). Read before the
// state's lock is taken, so that no lock is ever taken inside it.
static void
status_extras(coll_server *srv, Fl__StatusReply *extra)
{
	pthread_mutex_lock(&srv->parts_lock); // the role thread swaps verify and notify (hub.h)
	coll_verify_status_add(srv->verify, extra);
	coll_notify_status_add(srv->notify, extra);
	pthread_mutex_unlock(&srv->parts_lock);
	coll_rejects_status_add(srv->rejects, extra);
}

static void
status_extras_fini(Fl__StatusReply *extra)
{
	coll_verify_status_fini(extra);
	coll_rejects_status_fini(extra);
	coll_notify_status_fini(extra);
}

// Packs page (with extra's lists, borrowed) as a Response; as_hosts selects the `hosts` oneof.
static int
encode_status(Fl__StatusReply *page, const Fl__StatusReply *extra, bool as_hosts, nng_msg **out)
{
	Fl__Response resp = FL__RESPONSE__INIT;

	page->n_verifications    = extra->n_verifications;
	page->verifications      = extra->verifications;
	page->n_rejected_senders = extra->n_rejected_senders;
	page->rejected_senders   = extra->rejected_senders;
	page->n_notify_receivers = extra->n_notify_receivers;
	page->notify_receivers   = extra->notify_receivers;
	resp.schema_version      = FL_SCHEMA_VERSION;
	if (as_hosts) {
		resp.reply_case = FL__RESPONSE__REPLY_HOSTS;
		resp.hosts      = page;
	} else {
		resp.reply_case = FL__RESPONSE__REPLY_STATUS;
		resp.status     = page;
	}
	return fl_wire_encode(&resp.base, out);
}

// The status reply is built here, once: the state's page of hosts and stats, read and packed
// under the lock (it borrows the state's strings), plus the verifications and refused senders
// on the first page of a status (not of `hosts`).
static int
answer_status(coll_server *srv, const Fl__StatusQuery *q, bool as_hosts, nng_msg **out)
{
	Fl__StatusReply extra = FL__STATUS_REPLY__INIT;
	coll_status     page;
	char            active_name[COLL_NAME_MAX];
	int             rv = NNG_ENOMEM;
	coll_filter     f =
            q != NULL ? filter_of(q->host, q->labels, q->n_labels) : filter_of(NULL, NULL, 0);
	const char *after = q != NULL ? q->after_host : NULL;

	if (!as_hosts && (after == NULL || after[0] == '\0')) {
		status_extras(srv, &extra);
	}
	pthread_mutex_lock(&srv->lock);
	coll_server_socket_stats(srv, &srv->state.stats);
	if (coll_state_status(&srv->state, &f, after, status_page_bytes(q), fl_now_us(), &page) ==
	    0) {
		coll_server_role_status(srv, &page.reply, active_name);
		rv = encode_status(&page.reply, &extra, as_hosts, out);
		coll_status_fini(&page);
	}
	pthread_mutex_unlock(&srv->lock);
	status_extras_fini(&extra);
	return rv;
}

// The live hosts (coll_live_hosts) read under the lock. 0 or -1 (out of memory).
static int
live_hosts(coll_server *srv, coll_live *out)
{
	int rc;
	pthread_mutex_lock(&srv->lock);
	rc = coll_live_hosts(&srv->state, NULL, out);
	pthread_mutex_unlock(&srv->lock);
	return rc;
}

static int
answer_probe_now(coll_server *srv, const Fl__ProbeNowQuery *q, nng_msg **out)
{
	Fl__Response       resp = FL__RESPONSE__INIT;
	Fl__ProbeNowReply *reply;
	coll_live          live;
	char               err[256];
	int                rv;
	coll_survey       *survey;

	pthread_mutex_lock(&srv->lock); // after slow_jobs counted this worker (hub.h)
	survey = srv->survey;
	pthread_mutex_unlock(&srv->lock);
	if (survey == NULL) {
		return encode_error(
		    "probe-now needs a survey address: set [collector] survey", out);
	}
	if (live_hosts(srv, &live) != 0) {
		return NNG_ENOMEM;
	}
	rv = coll_survey_run(survey, q->timeout_ms, q->rollback_to, q->n_rollback_to, live.hosts,
	    live.n, &reply, err, sizeof(err));
	coll_live_free(&live);
	if (rv != 0) {
		return encode_error(err, out);
	}
	resp.schema_version = FL_SCHEMA_VERSION;
	resp.reply_case     = FL__RESPONSE__REPLY_PROBE_NOW;
	resp.probe_now      = reply;
	rv                  = fl_wire_encode(&resp.base, out);
	fl__probe_now_reply__free_unpacked(reply, NULL);
	return rv;
}

static int
answer_verify(coll_server *srv, const Fl__VerifyQuery *q, nng_msg **out)
{
	Fl__Response     resp = FL__RESPONSE__INIT;
	Fl__VerifyReply *reply;
	char             err[256];
	int              rv;
	coll_verify     *verify;

	if (q->release[0] == '\0') {
		return encode_error("verify needs a release", out);
	}
	pthread_mutex_lock(&srv->lock); // after slow_jobs counted this worker (hub.h)
	verify = srv->verify;
	pthread_mutex_unlock(&srv->lock);
	if (coll_verify_run(verify, q, &reply, err, sizeof(err)) != 0) {
		return encode_error(err, out);
	}
	coll_verify_record(verify, reply, "full", false);
	resp.schema_version = FL_SCHEMA_VERSION;
	resp.reply_case     = FL__RESPONSE__REPLY_VERIFY;
	resp.verify         = reply;
	rv                  = fl_wire_encode(&resp.base, out);
	fl__verify_reply__free_unpacked(reply, NULL);
	return rv;
}

// `faultline forget HOST`. The state changes at once (status and diagnose stop showing the
// host); the deletion of its rows and the "forgotten" event reach SQLite through the ingest
// thread's next batch (server.h, pending). Who may ask: whoever can reach the control socket,
// which is already ipc:// (file mode 0660), loopback tcp:// or mutual TLS (docs/security.md).
static int
answer_forget(coll_server *srv, const Fl__ForgetQuery *q, nng_msg **out)
{
	Fl__Response    resp  = FL__RESPONSE__INIT;
	Fl__ForgetReply reply = FL__FORGET_REPLY__INIT;
	coll_forgotten  what  = { 0 };
	coll_ops        ops;
	int             rc;

	if (q == NULL || q->host[0] == '\0') {
		return encode_error("forget needs a host name", out);
	}
	coll_ops_init(&ops);
	pthread_mutex_lock(&srv->lock);
	rc = coll_state_forget(&srv->state, q->host, fl_now_us(),
	    "forgotten by an operator (faultline forget)", &ops, &what);
	if (rc == 0 && coll_ops_move(&srv->pending, &ops) != 0) {
		rc = -1; // the state already forgot it; only the durable part is lost
	}
	pthread_mutex_unlock(&srv->lock);
	coll_ops_fini(&ops);
	if (rc < 0) {
		fl_log(FL_LOG_ERR, "control", "cannot forget %s: out of memory", q->host);
		return encode_error("cannot forget the host: the collector is out of memory", out);
	}
	if (rc == 0) {
		fl_log(FL_LOG_NOTICE, "control", "forgot host %s (%u probes) on request", q->host,
		    what.probes);
	}
	reply.host          = q->host; // borrowed for packing
	reply.found         = rc == 0;
	reply.last_seen_us  = what.last_seen_us;
	reply.stale         = what.stale;
	reply.probes        = what.probes;
	resp.schema_version = FL_SCHEMA_VERSION;
	resp.reply_case     = FL__RESPONSE__REPLY_FORGET;
	resp.forget         = &reply;
	return fl_wire_encode(&resp.base, out);
}

// `faultline mute` / `mute --list` / `unmute ID`. Mutes are the operator's (control
// socket access as for forget, docs/security.md) and bounded (notify_mute.h).
static void
mute_of(const coll_mute *x, Fl__Mute *m)
{
	fl__mute__init(m);
	m->id         = x->id;
	m->host       = (char *) x->host; // borrowed for packing
	m->target     = (char *) x->target;
	m->reason     = (char *) x->reason;
	m->created_us = x->created_us;
	m->until_us   = x->until_us;
}

static int
encode_mutes(const coll_mute *v, size_t n, bool found, nng_msg **out)
{
	Fl__Response  resp  = FL__RESPONSE__INIT;
	Fl__MuteReply reply = FL__MUTE_REPLY__INIT;
	Fl__Mute      m[COLL_MUTES_MAX];
	Fl__Mute     *mp[COLL_MUTES_MAX];

	for (size_t i = 0; i < n; i++) {
		mute_of(&v[i], &m[i]);
		mp[i] = &m[i];
	}
	reply.mutes         = mp;
	reply.n_mutes       = n;
	reply.found         = found;
	resp.schema_version = FL_SCHEMA_VERSION;
	resp.reply_case     = FL__RESPONSE__REPLY_MUTE;
	resp.mute           = &reply;
	return fl_wire_encode(&resp.base, out);
}

static int
answer_mute(coll_server *srv, const Fl__MuteQuery *q, nng_msg **out)
{
	static coll_mute list[COLL_MUTES_MAX]; // the control thread only
	coll_mute        x;
	char             err[256];
	int64_t          now = fl_now_us();

	if (q == NULL || srv->mutes == NULL) {
		return encode_error("mute: empty request", out);
	}
	if (q->list) {
		size_t n = coll_mutes_list(srv->mutes, now, list, COLL_MUTES_MAX);
		return encode_mutes(list, n < COLL_MUTES_MAX ? n : COLL_MUTES_MAX, true, out);
	}
	if (coll_mutes_add(srv->mutes, q->host, q->target, q->for_s, q->reason, now, &x, err,
	        sizeof(err)) != 0) {
		return encode_error(err, out);
	}
	fl_log(FL_LOG_NOTICE, "control", "muted %s %s for %us (mute %llu): %s",
	    x.host[0] ? "host" : "target", x.host[0] ? x.host : x.target, q->for_s,
	    (unsigned long long) x.id, x.reason);
	return encode_mutes(&x, 1, true, out);
}

static int
answer_unmute(coll_server *srv, const Fl__UnmuteQuery *q, nng_msg **out)
{
	coll_mute x;
	int       rc;

	if (q == NULL || srv->mutes == NULL) {
		return encode_error("unmute: empty request", out);
	}
	rc = coll_mutes_remove(srv->mutes, q->id, fl_now_us(), &x);
	if (rc < 0) {
		return encode_error("cannot remove the mute (see the collector's log)", out);
	}
	if (rc == 1) {
		fl_log(FL_LOG_NOTICE, "control", "unmuted mute %llu (%s %s)",
		    (unsigned long long) x.id, x.host[0] ? "host" : "target",
		    x.host[0] ? x.host : x.target);
	}
	return encode_mutes(&x, rc == 1 ? 1 : 0, rc == 1, out);
}

static void
count_error(coll_server *srv)
{
	pthread_mutex_lock(&srv->lock);
	srv->state.stats.control_errors++;
	pthread_mutex_unlock(&srv->lock);
}

// Replaces an answer larger than the client said it can receive by an error that says so:
// the client would otherwise drop the connection and report no answer at all.
static int
cap_reply(uint32_t max_bytes, nng_msg **out)
{
	char text[128];
	if (max_bytes == 0 || nng_msg_len(*out) <= max_bytes) {
		return 0;
	}
	snprintf(text, sizeof(text), "reply too large (%zu bytes over the %u limit)",
	    nng_msg_len(*out), max_bytes);
	nng_msg_free(*out);
	*out = NULL;
	return encode_error(text, out);
}

// The queries only the active answers, by name (NULL: any collector answers it). Verify is
// one: it surveys the agents, and only the active listens for them.
static const char *
needs_active(const Fl__Request *q)
{
	switch (q->query_case) {
	case FL__REQUEST__QUERY_PROBE_NOW:
		return "probe-now";
	case FL__REQUEST__QUERY_VERIFY:
		return "verify";
	case FL__REQUEST__QUERY_FORGET:
		return "forget";
	case FL__REQUEST__QUERY_MUTE:
		// Listing the mutes only reads; adding one writes.
		return q->mute != NULL && q->mute->list ? NULL : "mute";
	case FL__REQUEST__QUERY_UNMUTE:
		return "unmute";
	default:
		return NULL;
	}
}

int
coll_control_answer(coll_server *srv, coll_store *reader, const Fl__Request *q, nng_msg **out)
{
	int         rv;
	const char *what = needs_active(q);

	if (what != NULL && !coll_server_is_active(srv)) {
		return encode_not_active(srv, what, out);
	}
	switch (q->query_case) {
	case FL__REQUEST__QUERY_STATUS:
		rv = answer_status(srv, q->status, false, out);
		break;
	case FL__REQUEST__QUERY_HOSTS:
		rv = answer_status(srv, q->hosts, true, out);
		break;
	case FL__REQUEST__QUERY_HISTORY:
		rv = answer_history(srv, reader, q->history, out);
		break;
	case FL__REQUEST__QUERY_DIAGNOSE:
		rv = answer_diagnose(srv, q->diagnose, out);
		break;
	case FL__REQUEST__QUERY_PROBE_NOW:
		rv = answer_probe_now(srv, q->probe_now, out);
		break;
	case FL__REQUEST__QUERY_VERIFY:
		rv = answer_verify(srv, q->verify, out);
		break;
	case FL__REQUEST__QUERY_FORGET:
		rv = answer_forget(srv, q->forget, out);
		break;
	case FL__REQUEST__QUERY_MUTE:
		rv = answer_mute(srv, q->mute, out);
		break;
	case FL__REQUEST__QUERY_UNMUTE:
		rv = answer_unmute(srv, q->unmute, out);
		break;
	default:
		count_error(srv);
		rv = encode_error("unknown request (is the CLI newer than the collector?)", out);
		break;
	}
	return rv;
}

// Answers a decoded request and frees it.
static int
dispatch(coll_server *srv, Fl__Request *q, nng_msg **out)
{
	uint32_t max_bytes = q->max_reply_bytes;
	int      rv        = coll_control_answer(srv, srv->reader, q, out);

	fl__request__free_unpacked(q, NULL);
	if (rv == 0) {
		rv = cap_reply(max_bytes, out);
	}
	return rv;
}

static bool
is_slow(const Fl__Request *q)
{
	return q->query_case == FL__REQUEST__QUERY_PROBE_NOW ||
	    q->query_case == FL__REQUEST__QUERY_VERIFY;
}

// --- reply contexts --------------------------------------------------------------------------
//
// REP answers a request on the context it arrived on, and nng 1.5.2 makes a send wait while the
// connection is still writing its previous reply: one client that sends requests and never
// reads would hold a blocking sender for as long as it stays connected. So replies are sent
// asynchronously from a fixed pool of contexts, each send with a deadline, and what each
// connection holds is accounted (pipes.h):
//   - a request from a connection whose previous reply is still queued is dropped unanswered
//     (a REQ client never has two requests outstanding) and closes the connection;
//   - so does a reply that waits longer than CONTROL_SEND_DEADLINE_MS (both carefully:
//     see cut_off; nng 1.5.2's transports restart a read or a write from their callbacks on an
//     aio a concurrent close may just have stopped, which hangs the pipe reaper for good, so a
//     connection is closed only when neither can be in progress: its reply parked behind an
//     unread one, and its reading paused);
//   - replies in flight over all connections stay under CONTROL_REPLY_BUDGET; a request that
//     would go over is answered with a short "busy" error.
// The control thread waits for a free context only while every context is sending, which the
// deadline bounds.

typedef struct coll_control coll_control;

struct coll_control {
	pthread_mutex_t mu;
	pthread_cond_t  cv; // a slot was freed
	reply_slot      slots[CONTROL_SLOTS];
	size_t          n_slots; // opened
	atomic_llong    cut_logged_us;
	// Connections to close, closed by the control thread between receives (see cut_off).
	uint32_t to_cut[COLL_CONTROL_MAX_CONNS];
	size_t   n_cut;
	int64_t  cut_batch_us; // control thread only: when the last batch was closed
};

static void
count(atomic_uint_fast64_t *c)
{
	atomic_fetch_add(c, 1);
}

static reply_slot *
take_slot(coll_server *srv)
{
	coll_control *c = srv->control;
	reply_slot   *s = NULL;

	pthread_mutex_lock(&c->mu);
	while (s == NULL && !atomic_load(&srv->stopping)) {
		for (size_t i = 0; i < c->n_slots; i++) {
			if (!c->slots[i].busy) {
				s       = &c->slots[i];
				s->busy = true;
				break;
			}
		}
		if (s == NULL) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 250 * 1000000L;
			ts.tv_sec += ts.tv_nsec / 1000000000L;
			ts.tv_nsec %= 1000000000L;
			pthread_cond_timedwait(&c->cv, &c->mu, &ts);
		}
	}
	pthread_mutex_unlock(&c->mu);
	return s;
}

static void
release_slot(reply_slot *s)
{
	coll_control *c = s->srv->control;
	pthread_mutex_lock(&c->mu);
	s->busy = false;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

// Queues a control connection whose client does not read its replies, to be closed by the
// control thread (close_queued). Why not at once: nng 1.5.2 hangs its pipe reaper for good
// (and with it every later close, the stop's included) when a connection is closed while its
// receive callback is between two reads (the transport resubmits the read on an aio the close
// has just stopped; src/sp/transport/{ipc,tcp}). A client that floods requests keeps its
// connection reading all the time, except while REP holds its next request waiting for a
// context: so connections are closed only while the control thread has no receive posted,
// once they have had CONTROL_CUT_SETTLE_MS to finish the message they were reading (generous:
// nng's task threads may lag by milliseconds on a loaded machine). If it happens all the same,
// or a client closes its end at such a moment, main.c notices the wedge and restarts.
static void
cut_off(coll_server *srv, uint32_t pipe_id)
{
	coll_control *c      = srv->control;
	bool          queued = false;
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->n_cut && !queued; i++) {
		queued = c->to_cut[i] == pipe_id;
	}
	if (!queued && c->n_cut < COLL_CONTROL_MAX_CONNS) {
		c->to_cut[c->n_cut++] = pipe_id;
	}
	pthread_mutex_unlock(&c->mu);
}

// Control thread, no receive posted: closes the queued connections.
static void
close_queued(coll_server *srv)
{
	coll_control   *c = srv->control;
	uint32_t        ids[COLL_CONTROL_MAX_CONNS];
	size_t          n;
	struct timespec settle = { 0, CONTROL_CUT_SETTLE_MS * 1000000L };

	// Batched, so that the pauses cost the other clients at most a fifth of the thread's time.
	if (fl_mono_us() - c->cut_batch_us < CONTROL_CUT_EVERY_US) {
		return;
	}
	pthread_mutex_lock(&c->mu);
	n = c->n_cut;
	memcpy(ids, c->to_cut, n * sizeof(ids[0]));
	c->n_cut = 0;
	pthread_mutex_unlock(&c->mu);
	if (n == 0) {
		return;
	}
	nanosleep(&settle, NULL);
	c->cut_batch_us = fl_mono_us();
	for (size_t i = 0; i < n; i++) {
		nng_pipe p = NNG_PIPE_INITIALIZER;
		p.id       = ids[i];
		fl_log(FL_LOG_DEBUG, "control", "closing connection %u", (unsigned) ids[i]);
		nng_pipe_close(p);
	}
	atomic_fetch_add(&srv->control_cut, n);
	int64_t now = fl_mono_us(), last = atomic_load(&c->cut_logged_us);
	if (last == 0 || now - last >= CONTROL_LOG_EVERY_US) {
		atomic_store(&c->cut_logged_us, now);
		fl_log(FL_LOG_WARN, "control",
		    "closed a control connection: it sends requests without reading the replies "
		    "(%llu such since start; others are served)",
		    (unsigned long long) atomic_load(&srv->control_cut));
	}
}

static void
on_sent(void *arg)
{
	reply_slot  *s   = arg;
	coll_server *srv = s->srv;
	int          rv  = nng_aio_result(s->aio);

	if (rv != 0) {
		nng_msg_free(nng_aio_get_msg(s->aio)); // the aio did not take it
		nng_aio_set_msg(s->aio, NULL);
	}
	coll_pipes_reply_done(srv->control_pipes, s->pipe, s->len, rv == 0);
	if (rv == NNG_ETIMEDOUT) {
		cut_off(srv, s->pipe);
	} else if (rv != 0 && rv != NNG_ECLOSED && rv != NNG_ECANCELED) {
		fl_log(FL_LOG_NOTICE, "control", "cannot send answer: %s", nng_strerror(rv));
	}
	release_slot(s);
}

// Sends resp (taken; NULL: nothing to send) as the answer to the request s received, within
// the accounting above; the slot is released when the send ends.
static void
send_reply(reply_slot *s, nng_msg *resp)
{
	coll_server     *srv = s->srv;
	coll_reply_admit a   = COLL_REPLY_DROP;

	if (resp != NULL) {
		a = coll_pipes_reply_admit(
		    srv->control_pipes, s->pipe, nng_msg_len(resp), CONTROL_REPLY_BUDGET);
	}
	if (a == COLL_REPLY_BUSY) {
		nng_msg_free(resp);
		resp = NULL;
		count(&srv->control_busy);
		a = COLL_REPLY_DROP;
		if (encode_error("the collector is busy sending large replies to other clients; "
		                 "try again",
		        &resp) == 0) {
			a = coll_pipes_reply_admit(
			    srv->control_pipes, s->pipe, nng_msg_len(resp), CONTROL_REPLY_BUDGET);
		}
	}
	if (a != COLL_REPLY_SEND) {
		if (resp != NULL) {
			nng_msg_free(resp); // a reply is already queued: as in handle()
			count(&srv->control_busy);
		}
		release_slot(s);
		return;
	}
	s->len = nng_msg_len(resp);
	nng_aio_set_timeout(s->aio, CONTROL_SEND_DEADLINE_MS);
	nng_aio_set_msg(s->aio, resp);
	nng_ctx_send(s->ctx, s->aio);
}

// Answers q (decoded; freed here) and sends the answer on s.
static void
answer_and_send(reply_slot *s, Fl__Request *q)
{
	nng_msg *resp = NULL;
	int      rv   = dispatch(s->srv, q, &resp);

	if (rv != 0 && encode_error("out of memory", &resp) != 0) {
		fl_log(FL_LOG_ERR, "control", "cannot answer: %s", nng_strerror(rv));
		resp = NULL; // REP drops the request; the CLI times out
	}
	send_reply(s, resp);
}

static void
send_error(reply_slot *s, const char *text)
{
	nng_msg *resp = NULL;
	if (encode_error(text, &resp) != 0) {
		resp = NULL;
	}
	send_reply(s, resp);
}

typedef struct slow_job {
	reply_slot  *slot;
	Fl__Request *q;
	atomic_bool  gone; // the asking client's connection closed
	bool         watched;
} slow_job;

static void *
slow_main(void *arg)
{
	slow_job    *j   = arg;
	coll_server *srv = j->slot->srv;

	// Surveys and canary waits of this thread end early once the client has gone: its
	// probe-now slot is then free again at once rather than after the whole timeout.
	coll_survey_set_cancel(&j->gone);
	answer_and_send(j->slot, j->q);
	coll_survey_set_cancel(NULL);
	if (j->watched) {
		coll_pipes_unwatch(srv->control_pipes, &j->gone);
	}
	if (atomic_load(&j->gone)) {
		count(&srv->slow_abandoned);
	}
	free(j);
	atomic_fetch_sub(&srv->slow_jobs, 1);
	return NULL;
}

// Hands q and the slot to a worker thread. Returns 0 (both taken) or -1 (caller keeps them).
static int
start_slow(reply_slot *s, Fl__Request *q)
{
	coll_server   *srv = s->srv;
	slow_job      *j;
	pthread_t      t;
	pthread_attr_t a;
	sigset_t       all, old;
	int            rv;

	if (atomic_fetch_add(&srv->slow_jobs, 1) >= CONTROL_MAX_SLOW ||
	    (j = calloc(1, sizeof(*j))) == NULL) {
		atomic_fetch_sub(&srv->slow_jobs, 1);
		return -1;
	}
	j->slot = s;
	j->q    = q;
	atomic_init(&j->gone, false);
	j->watched = coll_pipes_watch(srv->control_pipes, s->pipe, &j->gone) == 0;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rv = pthread_create(&t, &a, slow_main, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&a);
	if (rv != 0) {
		if (j->watched) {
			coll_pipes_unwatch(srv->control_pipes, &j->gone);
		}
		free(j);
		atomic_fetch_sub(&srv->slow_jobs, 1);
		return -1;
	}
	return 0;
}

int
coll_control_open(coll_server *srv, char *err, size_t errlen)
{
	coll_control      *c;
	pthread_condattr_t ca;
	int                rv = 0;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	srv->control = c;
	for (size_t i = 0; i < CONTROL_SLOTS; i++) {
		reply_slot *s = &c->slots[i];
		s->srv        = srv;
		if ((rv = nng_aio_alloc(&s->aio, on_sent, s)) != 0) {
			break;
		}
		if ((rv = nng_ctx_open(&s->ctx, srv->rep)) != 0) {
			nng_aio_free(s->aio);
			break;
		}
		c->n_slots++;
	}
	if (rv != 0) {
		snprintf(err, errlen, "cannot open control contexts: %s", nng_strerror(rv));
		coll_control_free(srv);
		return -1;
	}
	return 0;
}

void
coll_control_free(coll_server *srv)
{
	coll_control *c = srv->control;
	if (c == NULL) {
		return;
	}
	for (size_t i = 0; i < c->n_slots; i++) {
		nng_aio_stop(c->slots[i].aio); // ends a send in progress; waits for its callback
		nng_ctx_close(c->slots[i].ctx);
		nng_aio_free(c->slots[i].aio);
	}
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
	srv->control = NULL;
}

// Receives the next request on s. Returns the message, or NULL when stopping.
static nng_msg *
receive_on(coll_server *srv, reply_slot *s, nng_aio *aio)
{
	for (;;) {
		int rv;
		// Bounded so that a stop is noticed without closing the socket.
		nng_aio_set_timeout(aio, CONTROL_RECV_POLL_MS);
		nng_ctx_recv(s->ctx, aio);
		nng_aio_wait(aio);
		rv = nng_aio_result(aio);
		if (rv == NNG_ECLOSED || atomic_load(&srv->stopping)) {
			if (rv == 0) {
				nng_msg_free(nng_aio_get_msg(aio));
			}
			return NULL;
		}
		if (rv == 0) {
			return nng_aio_get_msg(aio);
		}
		if (rv != NNG_ETIMEDOUT) {
			fl_log(FL_LOG_WARN, "control", "cannot receive: %s", nng_strerror(rv));
		}
	}
}

// Decodes req (freed here) and answers it on s.
static void
handle(coll_server *srv, reply_slot *s, nng_msg *req)
{
	Fl__Request   *q = NULL;
	char           why[256], text[320];
	fl_wire_reject rj;

	s->pipe = nng_pipe_id(nng_msg_get_pipe(req));
	if (coll_pipes_reply_queued(srv->control_pipes, s->pipe)) {
		// Its client sends requests without reading: no work, no reply, and its connection
		// is closed (cut_off) before it costs more.
		nng_msg_free(req);
		count(&srv->control_busy);
		cut_off(srv, s->pipe);
		release_slot(s);
		return;
	}
	rj = fl_wire_decode_request(nng_msg_body(req), nng_msg_len(req), &q, why, sizeof(why));
	nng_msg_free(req);
	if (rj != FL_WIRE_OK) {
		count_error(srv);
		fl_log(FL_LOG_NOTICE, "control", "cannot decode request: %s", why);
		snprintf(text, sizeof(text), "bad request (%s): %s", fl_wire_reject_name(rj), why);
		send_error(s, text);
		return;
	}
	if (!is_slow(q)) {
		answer_and_send(s, q);
		return;
	}
	if (start_slow(s, q) == 0) {
		return; // the worker answers on s
	}
	fl__request__free_unpacked(q, NULL);
	send_error(s, "too many probe-now/verify requests at once; try again");
}

void *
coll_control_main(void *arg)
{
	coll_server *srv = arg;
	nng_aio     *aio;
	int          rv;

	if ((rv = nng_aio_alloc(&aio, NULL, NULL)) != 0) {
		fl_log(FL_LOG_ERR, "control", "cannot start: %s", nng_strerror(rv));
		return NULL;
	}
	for (;;) {
		reply_slot *s;
		nng_msg    *req;
		close_queued(srv);
		if ((s = take_slot(srv)) == NULL) {
			break; // stopping
		}
		if ((req = receive_on(srv, s, aio)) == NULL) {
			release_slot(s);
			break;
		}
		handle(srv, s, req);
	}
	nng_aio_free(aio);
	return NULL;
}
