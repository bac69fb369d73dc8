// corr_rules.c - the correlation rules: per target, what its hosts' entries say is at fault.
//
// Each judge_* sorts one target's entries into buckets (answering, slow, failing by category),
// then each rule turns one bucket into findings: a verdict, the entries it is about, a release,
// and whether it explains those hosts' app trouble (a root cause). The reasoning is in
// docs/correlation.md; the sentences are in corr_words.c.

#include "corr_internal.h"

#include <stdlib.h>
#include <string.h>

#include "fl/str.h"

// ---- facts about entries --------------------------------------------------------------------

// Did this failing streak begin with the host's release change?
static bool
release_linked(const eng *e, uint32_t id)
{
	const corr_host  *h = ent_host(e, id);
	const corr_probe *p = ent_probe(e, id);
	if (h->previous_release == NULL || h->previous_release[0] == '\0') {
		return false; // the release never changed while we watched
	}
	if (p->release_at_fail != NULL && p->release_at_fail[0] != '\0' &&
	    !streq(p->release_at_fail, h->release)) {
		return false; // the streak predates the current release: not caused by it
	}
	int64_t slack = (int64_t) h->interval_ms * 3000;
	if (slack < CORR_RELEASE_SLACK_MIN_US) {
		slack = CORR_RELEASE_SLACK_MIN_US;
	}
	return h->release_since_us >= p->failing_since_us - slack;
}

bool
has_answer(const Fl__ProbeResult *r)
{
	return r->resolved_name != NULL && r->resolved_name[0] != '\0' && r->n_addresses > 0;
}

bool
same_answer(const Fl__ProbeResult *a, const Fl__ProbeResult *b)
{
	if (a->n_addresses != b->n_addresses) {
		return false;
	}
	for (size_t i = 0; i < a->n_addresses; i++) {
		if (strcmp(fl_str_or_empty(a->addresses[i]), fl_str_or_empty(b->addresses[i])) !=
		    0) {
			return false;
		}
	}
	return true;
}

// The entry's name changed its answer within CORR_DNS_RECENT_US.
bool
ent_moved(const eng *e, uint32_t id)
{
	const corr_probe *p = ent_probe(e, id);
	return has_answer(p->last) && p->addrs_prev != NULL && p->addrs_changed_us > 0 &&
	    e->view->now_us - p->addrs_changed_us <= CORR_DNS_RECENT_US;
}

// When every entry of v moved to the same answer when its failure began (within max(5 s, 3
// intervals): the two are one round apart at most), that move explains the failure; a move
// long before is only evidence.
bool
moved_together(const eng *e, const vec *v)
{
	for (size_t i = 0; i < v->n; i++) {
		const corr_probe *p     = ent_probe(e, v->v[i]);
		int64_t           slack = (int64_t) ent_host(e, v->v[i])->interval_ms * 3000;
		slack = slack > CORR_RELEASE_SLACK_MIN_US ? slack : CORR_RELEASE_SLACK_MIN_US;
		if (!ent_moved(e, v->v[i]) || !same_answer(p->last, ent_probe(e, v->v[0])->last) ||
		    !streq(p->addrs_prev, ent_probe(e, v->v[0])->addrs_prev) ||
		    (p->failing_since_us > 0 &&
		        (p->addrs_changed_us > p->failing_since_us + slack ||
		            p->addrs_changed_us < p->failing_since_us - slack))) {
			return false;
		}
	}
	return v->n > 0;
}

// The median recent latency of an entry: the p50 of its window, else its latest duration.
static double
ent_p50(const eng *e, uint32_t id)
{
	const corr_probe *p = ent_probe(e, id);
	if (p->recent != NULL && p->recent->n > 0) {
		return corr_window_percentile(p->recent, 50);
	}
	return p->last->duration_us;
}

// The latency that shows an entry's trouble: the median recent round when most recent rounds
// were slow; the latest round when it is slow (a spell just begun); else the p90 of the recent
// rounds (trouble that comes and goes); else the latest.
double
ent_lat(const eng *e, uint32_t id)
{
	const corr_probe  *p = ent_probe(e, id);
	const corr_window *w = p->recent;
	if (w != NULL && w->n > 0 && 2 * corr_window_slow(w) > w->n) {
		return corr_window_percentile(w, 50);
	}
	if (e->ents[id].st == ST_DEGRADED || w == NULL || w->n == 0) {
		return p->last->duration_us;
	}
	return corr_window_percentile(w, 90);
}

// The database's own part of a round: the trivial query plus the expectations check (0 when the
// probe reports no such phases).
static double
ent_db_phase(const eng *e, uint32_t id)
{
	const Fl__Timing *t = ent_res(e, id)->timing;
	return t != NULL ? (double) t->query_us + (double) t->check_us : 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;
	return (x > y) - (x < y);
}

// The median over the entries of v of f(entry), skipping zeros; 0 when none.
static double
median_of(eng *e, const vec *v, double (*f)(const eng *, uint32_t))
{
	double *x = malloc((v->n ? v->n : 1) * sizeof(*x));
	size_t  n = 0;
	if (x == NULL) {
		e->oom = true;
		return 0;
	}
	for (size_t i = 0; i < v->n; i++) {
		double d = f(e, v->v[i]);
		if (d > 0) {
			x[n++] = d;
		}
	}
	qsort(x, n, sizeof(*x), cmp_double);
	double m = n == 0 ? 0 : (n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2);
	free(x);
	return m;
}

static double
ent_baseline(const eng *e, uint32_t id)
{
	return (double) ent_probe(e, id)->baseline_us;
}

// The p75 of an entry's recent rounds (a quarter of them may be spikes), else its latest
// duration.
static double
ent_p75(const eng *e, uint32_t id)
{
	const corr_probe *p = ent_probe(e, id);
	if (p->recent != NULL && p->recent->n > 0) {
		return corr_window_percentile(p->recent, 75);
	}
	return p->last->duration_us;
}

// Whether a is clearly better than b: a's p75 at most half of b's trouble latency (ent_lat:
// the latest round of a spell just begun, else a percentile of its recent rounds) and at
// least 50 ms below it. A machine that is merely busy slows every host's rounds alike, so a
// path is only blamed when some other host's rounds to the same target stay clearly faster.
static bool
clearly_better(const eng *e, uint32_t a, uint32_t b)
{
	double pa = ent_p75(e, a), pb = ent_lat(e, b);
	return 2 * pa <= pb && pb - pa >= CORR_SLOW_FLOOR_US;
}

// How bad a suspect path is among the suspects of one target: its trouble latency (ent_lat),
// or the p90 of its recent rounds when that is higher. A lossy path whose latest round was
// only a little slow (ent_lat: that round) must still outrank a busy host's spikes (ent_lat:
// their p90), or the busy host would be the "worst" suspect and named beside it.
static double
ent_rank_lat(const eng *e, uint32_t id)
{
	double             lat = ent_lat(e, id);
	const corr_window *w   = ent_probe(e, id)->recent;
	double             p90 = w != NULL && w->n > 0 ? corr_window_percentile(w, 90) : 0;
	return p90 > lat ? p90 : lat;
}

// Whether suspect a is clearly better than the worst suspect: a's p75 at most half of the
// worst's rank latency (ent_rank_lat) and at least 50 ms below it: a busy host's spikes next
// to a lossy path are noise.
static bool
better_than_worst(const eng *e, uint32_t a, uint32_t worst)
{
	double pa = ent_p75(e, a), pw = ent_rank_lat(e, worst);
	return 2 * pa <= pw && pw - pa >= CORR_SLOW_FLOOR_US;
}

// Of the suspect paths, those with a calm host clearly better and not clearly better than
// the worst suspect (a busy host's spikes next to a lossy path are noise: the worst path is
// named) into paths; and the calm hosts clearly better than every kept path into normal.
static void
select_slow_paths(eng *e, const vec *suspects, const vec *calm, vec *paths, vec *normal)
{
	uint32_t best  = UINT32_MAX,
	         worst = UINT32_MAX; // the kept paths with the lowest/highest p90
	for (size_t i = 0; i < suspects->n; i++) {
		if (worst == UINT32_MAX ||
		    ent_rank_lat(e, suspects->v[i]) > ent_rank_lat(e, worst)) {
			worst = suspects->v[i];
		}
	}
	for (size_t i = 0; i < suspects->n; i++) {
		if (suspects->v[i] != worst && better_than_worst(e, suspects->v[i], worst)) {
			continue;
		}
		for (size_t j = 0; j < calm->n; j++) {
			if (clearly_better(e, calm->v[j], suspects->v[i])) {
				vec_push(e, paths, suspects->v[i]);
				if (best == UINT32_MAX ||
				    ent_lat(e, suspects->v[i]) < ent_lat(e, best)) {
					best = suspects->v[i];
				}
				break;
			}
		}
	}
	for (size_t j = 0; best != UINT32_MAX && j < calm->n; j++) {
		if (clearly_better(e, calm->v[j], best)) {
			vec_push(e, normal, calm->v[j]);
		}
	}
}

// ---- a host's own slowness beside another host's lossy path ----------------------------------

static void
lossy_hosts_add(lossy_hosts *lh, uint32_t host)
{
	if (lh->first == UINT32_MAX) {
		lh->first = host;
	} else if (lh->first != host) {
		lh->other = true;
	}
}

// Whether an entry's path to its database server shows lost packets: it times out, has no
// route or is reset (a reach failure: a cut path loses every packet), or its window shows the
// loss signature (path_shows_loss()), whatever its state now (a lossy path between two
// thresholds is neither failing nor a suspect, and is still lossy).
static bool
ent_path_lossy(const eng *e, uint32_t id)
{
	const ent *x = &e->ents[id];
	if (x->st == ST_SKIP || !is_db(ent_res(e, id)->kind)) {
		return false;
	}
	return (x->st == ST_FAILING && x->cat == CAT_REACH) ||
	    path_shows_loss(ent_host(e, id), ent_probe(e, id));
}

// The hosts with a lossy path to some database server (ent_path_lossy()), up to two: enough to
// tell whether a host other than a given one has one. Computed once per diagnosis, when a
// suspect first asks; the scan stops at the second host.
static const lossy_hosts *
lossy_hosts_of(eng *e)
{
	if (!e->lossy_known) {
		e->lossy       = (lossy_hosts) { .first = UINT32_MAX };
		e->lossy_known = true;
		for (size_t id = 0; id < e->n_ents && !e->lossy.other; id++) {
			if (e->lossy.first != e->ents[id].host &&
			    ent_path_lossy(e, (uint32_t) id)) {
				lossy_hosts_add(&e->lossy, e->ents[id].host);
			}
		}
	}
	return &e->lossy;
}

// Whether a host other than host has a lossy path.
static bool
lossy_beside(eng *e, uint32_t host)
{
	const lossy_hosts *lh = lossy_hosts_of(e);
	return lh->other || (lh->first != UINT32_MAX && lh->first != host);
}

// Whether another database probe of entry id's host to the same server is clean (ok lately,
// not a suspect): the path carries its rounds at their normal latency, so id's slowness is its
// own probe's (the server's work for it, or the host's CPU), not the path's. Database probes
// only: a host's app probes are mostly its own instance on loopback, and looking at them would
// cost a string comparison each. A host's entries are contiguous in e->ents, in probe order;
// its first CORR_LOSS_SIBLINGS are looked at.
static bool
sibling_path_clean(const eng *e, uint32_t id)
{
	uint32_t          host  = e->ents[id].host;
	const corr_probe *p     = ent_probe(e, id);
	uint32_t          first = id - (e->ents[id].probe < id ? e->ents[id].probe : id);
	for (uint32_t j = first; j < e->n_ents && j - first < CORR_LOSS_SIBLINGS; j++) {
		if (e->ents[j].host != host) {
			if (j > id) {
				break;
			}
			continue; // an earlier host's entry: this host's begin later
		}
		if (j != id && e->ents[j].clean && is_db(ent_res(e, j)->kind) &&
		    same_server(p, ent_probe(e, j))) {
			return true;
		}
	}
	return false;
}

// Only slow on its own: entry id's window shows no lost packets on its path (without a window
// nothing shows that), and its slowness is not the path's: for a database probe, another
// database probe of its host to the same server is clean; a DNS lookup has no such sibling
// (its resolver path is its own), and without a failed or 1 s lookup it is the host's (a busy
// host's lookups, recorded at 56-175 ms on a 2 ms baseline beside app2's lossy path).
static bool
slow_on_its_own(const eng *e, uint32_t id)
{
	const corr_probe *p = ent_probe(e, id);
	if (p->recent == NULL || p->recent->n == 0 || path_shows_loss(ent_host(e, id), p)) {
		return false;
	}
	return ent_res(e, id)->kind == FL__PROBE_KIND__KIND_DNS || sibling_path_clean(e, id);
}

// The suspects of a target that may be named into out: every one, except that beside another
// host's lossy path to a database server (lossy_beside()) a suspect slow on its own
// (slow_on_its_own()) is left out. Recorded on the testbed at 30 % loss on app2's path on a
// busy machine: app3's postgres rounds of 77-319 ms on a 21 ms baseline (its mysql probe to
// the same server at a few ms, nothing failed or lasted a second) named as a second slow path;
// app1's postgres path (6 slow rounds of 16) named while app2's lossy postgres path sat between
// the thresholds; app3's DNS lookups. A really slow host with no lossy path beside it is judged
// as before; one whose path shows loss, or whose every database probe to the server is slow (a
// path delay), still joins.
static void
suspects_beside_loss(eng *e, const vec *suspects, vec *out)
{
	for (size_t i = 0; i < suspects->n; i++) {
		uint32_t id = suspects->v[i];
		if (!lossy_beside(e, e->ents[id].host) || !slow_on_its_own(e, id)) {
			vec_push(e, out, id);
		}
	}
}

// ---- releases -------------------------------------------------------------------------------

// The distinct releases of the hosts of v (up to CORR_MAX_RELEASES; out->n is
// CORR_MAX_RELEASES + 1 when there are more).
static void
rel_set_of(const eng *e, const vec *v, rel_set *out)
{
	out->n = 0;
	for (size_t i = 0; i < v->n; i++) {
		const char *r = fl_str_or_empty(ent_host(e, v->v[i])->release);
		size_t      j = 0;
		while (j < out->n && strcmp(out->v[j], r) != 0) {
			j++;
		}
		if (j == out->n) {
			if (out->n == CORR_MAX_RELEASES) {
				out->n = CORR_MAX_RELEASES + 1;
				return;
			}
			out->v[out->n++] = r;
		}
	}
}

// No release in both (unknown when either has too many to tell: not disjoint).
static bool
rel_sets_disjoint(const rel_set *a, const rel_set *b)
{
	if (a->n > CORR_MAX_RELEASES || b->n > CORR_MAX_RELEASES) {
		return false;
	}
	for (size_t i = 0; i < a->n; i++) {
		for (size_t j = 0; j < b->n; j++) {
			if (strcmp(a->v[i], b->v[j]) == 0) {
				return false;
			}
		}
	}
	return true;
}

// The failing entries run releases none of the working ones runs (and some work).
static bool
fails_where_release_runs(
    const eng *e, const vec *bad, const vec *fine, rel_set *rs_bad, rel_set *rs_fine)
{
	rel_set_of(e, bad, rs_bad);
	rel_set_of(e, fine, rs_fine);
	return fine->n > 0 && rel_sets_disjoint(rs_bad, rs_fine);
}

// ---- grouping a target's entries --------------------------------------------------------------

static bool
same_class(const eng *e, uint32_t a, uint32_t b)
{
	return ent_res(e, a)->failure == ent_res(e, b)->failure;
}

static bool
same_release(const eng *e, uint32_t a, uint32_t b)
{
	return streq(ent_host(e, a)->release, ent_host(e, b)->release);
}

// Moves the entries of *todo that are `same` as its first into *mine (emptied first); the rest
// stay in *todo, in order. One finding per group: call until todo is empty.
static void
take_group(eng *e, vec *todo, vec *mine, bool (*same)(const eng *, uint32_t, uint32_t))
{
	vec      rest  = { 0 };
	uint32_t first = todo->v[0];
	mine->n        = 0;
	for (size_t i = 0; i < todo->n; i++) {
		vec_push(e, same(e, first, todo->v[i]) ? mine : &rest, todo->v[i]);
	}
	free(todo->v);
	*todo = rest;
}

static void
vec_copy(eng *e, vec *to, const vec *from)
{
	for (size_t i = 0; i < from->n; i++) {
		vec_push(e, to, from->v[i]);
	}
}

// ---- rules: database and DNS targets --------------------------------------------------------

// Refused / timeout / unreachable / dns on a database or shared target.
static void
rule_reach(eng *e, group_ctx *gc, const vec *reach, const vec *working, size_t connected, bool db)
{
	enum reach_kind kind;
	size_t          n_refused = 0, n_dns = 0, n_unreach = 0;
	for (size_t i = 0; i < reach->n; i++) {
		Fl__FailureClass fc = ent_res(e, reach->v[i])->failure;
		n_refused += fc == FL__FAILURE_CLASS__FAILURE_REFUSED;
		n_dns += fc == FL__FAILURE_CLASS__FAILURE_DNS;
		n_unreach += fc == FL__FAILURE_CLASS__FAILURE_UNREACHABLE;
	}
	if (moved_together(e, reach)) {
		kind = REACH_MOVED; // the name now points elsewhere, and from there it fails
	} else if (gc->g->kind == FL__PROBE_KIND__KIND_DNS) {
		kind = REACH_NAME;
	} else if (connected > 0) {
		kind = REACH_PATHS; // some hosts reach it, some do not: the difference is the path
	} else if (n_dns == reach->n) {
		kind = REACH_NO_NAME;
	} else if (n_unreach == reach->n) {
		kind = REACH_NO_ROUTE;
	} else if (db && n_refused == reach->n) {
		kind = REACH_DOWN;
	} else if (db) {
		kind = REACH_HUNG;
	} else {
		kind = REACH_FAILS;
	}
	Fl__Verdict verdict = kind == REACH_DOWN || kind == REACH_HUNG
	    ? FL__VERDICT__VERDICT_DATABASE
	    : FL__VERDICT__VERDICT_NETWORK;
	conclude(
	    e, gc, verdict, words_reach(e, gc, kind, reach, working, connected), reach, NULL, true);
}

// The server answered, but with an error: one finding per failure class. A database's own
// trouble; for a DNS name, its resolver path's.
static void
rule_answered(eng *e, group_ctx *gc, const vec *other, bool db)
{
	vec todo = { 0 }, mine = { 0 };
	vec_copy(e, &todo, other);
	while (todo.n > 0 && !e->oom) {
		take_group(e, &todo, &mine, same_class);
		conclude(e, gc, db ? FL__VERDICT__VERDICT_DATABASE : FL__VERDICT__VERDICT_NETWORK,
		    words_answered(e, gc, &mine, db), &mine, NULL, true);
	}
	free(todo.v);
	free(mine.v);
}

// One schema finding about the entries of v: code (all of one release) or database.
static void
rule_schema_finding(eng *e, group_ctx *gc, const vec *v, bool database)
{
	rel_set rs;
	fnd    *f =
	    fnd_new(e, database ? FL__VERDICT__VERDICT_DATABASE : FL__VERDICT__VERDICT_CODE, gc->t);
	if (f == NULL) {
		return;
	}
	rel_set_of(e, v, &rs);
	fnd_finish(
	    e, f, words_schema(e, gc, v, &rs, database, f), v, rs.n == 1 ? rs.v[0] : NULL, true);
}

// A required privilege or object is missing. Code where the failing hosts run releases no
// working host runs, or where the streak began with the host's release change (one finding
// per release); else the database lost it while the release stayed the same.
static void
rule_schema(eng *e, group_ctx *gc, const vec *schema, const vec *fine)
{
	rel_set rs_bad, rs_fine;
	bool    split = fails_where_release_runs(e, schema, fine, &rs_bad, &rs_fine);
	vec     code = { 0 }, db = { 0 }, mine = { 0 };
	for (size_t i = 0; i < schema->n; i++) {
		uint32_t id = schema->v[i];
		vec_push(e, split || release_linked(e, id) ? &code : &db, id);
	}
	while (code.n > 0 && !e->oom) {
		take_group(e, &code, &mine, same_release);
		rule_schema_finding(e, gc, &mine, false);
	}
	if (db.n > 0 && !e->oom) {
		rule_schema_finding(e, gc, &db, true);
	}
	free(code.v);
	free(db.v);
	free(mine.v);
}

// Slow from every host that reaches the database: the database. Latencies are medians across
// hosts of each host's median recent round; the query/check phase shows the server's own part.
static void
rule_slow(eng *e, group_ctx *gc, const vec *slow)
{
	slow_figures fig = { .lat = median_of(e, slow, ent_lat),
		.base             = median_of(e, slow, ent_baseline),
		.phase            = median_of(e, slow, ent_db_phase) };
	fnd *f = conclude(e, gc, FL__VERDICT__VERDICT_DATABASE, words_db_slow(e, gc, slow, &fig),
	    slow, NULL, true);
	if (f != NULL) {
		f->degraded = true;
	}
}

// Slow or unstable from some hosts (a spell, or failing on and off) while others reach the same
// target at normal latency: the target answers fine, so the difference is the slow hosts' path.
static void
rule_slow_path(eng *e, group_ctx *gc, const vec *slow, const vec *normal)
{
	double norm = median_of(e, normal, ent_p50);
	fnd   *f    = conclude(e, gc, FL__VERDICT__VERDICT_NETWORK,
	         words_slow_path(e, gc, slow, normal, norm), slow, NULL, true);
	if (f != NULL) {
		f->degraded = true;
	}
}

// Read-only / in recovery while the release needs to write. Database, unless the hosts that fail
// run releases no passing host runs (those releases need writes the others do not: the new
// release was pointed at a read-only server, or started writing where the old one only read).
static void
rule_read_only(eng *e, group_ctx *gc, const vec *ro, const vec *fine)
{
	rel_set rs_bad, rs_fine;
	bool    code = fails_where_release_runs(e, ro, fine, &rs_bad, &rs_fine);
	fnd *f = conclude(e, gc, code ? FL__VERDICT__VERDICT_CODE : FL__VERDICT__VERDICT_DATABASE,
	    words_read_only(e, gc, ro, &rs_bad, code), ro, rs_bad.n == 1 ? rs_bad.v[0] : NULL,
	    true);
	if (f != NULL) {
		fnd_note(e, f, words_read_only_note(e, ro));
	}
}

// State warnings (the target answers, a measured state is past its threshold): one finding per
// class; a database's own for a database target, else `verdict`.
static void
rule_state_warnings(eng *e, group_ctx *gc, const vec *warned, Fl__Verdict verdict)
{
	vec         todo = { 0 }, mine = { 0 };
	Fl__Verdict v = is_db(gc->g->kind) ? FL__VERDICT__VERDICT_DATABASE : verdict;
	vec_copy(e, &todo, warned);
	while (todo.n > 0 && !e->oom) {
		take_group(e, &todo, &mine, same_class);
		// Apps failing while their database has no free connections are its symptom (an
		// exhausted pool); lag or a certificate is not.
		bool explains =
		    ent_res(e, mine.v[0])->failure == FL__FAILURE_CLASS__FAILURE_SATURATED;
		fnd *f =
		    conclude(e, gc, v, words_state_warning(e, gc, &mine), &mine, NULL, explains);
		for (size_t i = 0; f != NULL && i < mine.n && i < CORR_MAX_NAMED; i++) {
			fnd_note(e, f, words_state_note(e, mine.v[i]));
		}
	}
	free(todo.v);
	free(mine.v);
}

// A database or DNS target's entries, sorted by what they say.
typedef struct db_buckets {
	vec    fine;      // answering: ok, slow or a state warning
	vec    slow;      // slow for a while (or now, when only the latest round is known)
	vec    slow_path; // a suspect path: a spell, or trouble that comes and goes
	vec    calm;      // fine lately: what a suspect path is compared with
	vec    warned;    // a state warning
	vec    reach, auth, schema, readonly, expect, agent, other; // failing, by category
	size_t connected; // hosts whose connection got an answer
	size_t failing;
} db_buckets;

static void
db_bucket_answering(eng *e, db_buckets *b, uint32_t id)
{
	const ent *x = &e->ents[id];
	b->connected++;
	vec_push(e, &b->fine, id);
	if (x->st == ST_WARNING) {
		vec_push(e, &b->warned, id);
		return;
	}
	// Slow for a while; or, when only the latest round is known, slow now.
	if (x->spell || (x->st == ST_DEGRADED && ent_probe(e, id)->recent == NULL)) {
		vec_push(e, &b->slow, id);
	}
	if (x->shaky) {
		vec_push(e, &b->slow_path, id);
	} else if (x->clean) {
		vec_push(e, &b->calm, id);
	}
}

static void
db_bucket_failing(eng *e, db_buckets *b, uint32_t id)
{
	b->failing++;
	switch ((enum cat) e->ents[id].cat) {
	case CAT_REFUSED:
	case CAT_REACH:
	case CAT_DNS:
		vec_push(e, &b->reach, id);
		return;
	case CAT_EXPECT:
		vec_push(e, &b->expect, id);
		return;
	case CAT_AGENT:
		vec_push(e, &b->agent, id);
		return;
	case CAT_READONLY:
		vec_push(e, &b->readonly, id);
		break;
	case CAT_AUTH:
		vec_push(e, &b->auth, id);
		break;
	case CAT_SCHEMA:
		vec_push(e, &b->schema, id);
		break;
	default:
		vec_push(e, &b->other, id);
		break;
	}
	b->connected++; // the server answered, with an error
}

static void
db_buckets_fill(eng *e, const group_ctx *gc, db_buckets *b)
{
	for (uint32_t i = e->tstart[gc->t]; i < e->tstart[gc->t + 1]; i++) {
		uint32_t   id = e->order[i];
		const ent *x  = &e->ents[id];
		if (x->st == ST_OK || x->st == ST_DEGRADED || x->st == ST_WARNING) {
			db_bucket_answering(e, b, id);
		} else if (x->st == ST_PENDING && x->shaky) {
			// One failed round inside a spell of trouble: still that path's trouble, so
			// a lossy path does not flap to healthy between its failing streaks.
			vec_push(e, &b->slow_path, id);
		} else if (x->st == ST_FAILING) {
			db_bucket_failing(e, b, id);
		}
	}
}

static void
db_buckets_fini(db_buckets *b)
{
	vec *all[] = { &b->fine, &b->slow, &b->slow_path, &b->calm, &b->warned, &b->reach, &b->auth,
		&b->schema, &b->readonly, &b->expect, &b->agent, &b->other };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		free(all[i]->v);
	}
}

// What fails on a database or DNS target, in the order the findings are wanted.
static void
judge_db_failures(eng *e, group_ctx *gc, const db_buckets *b, bool db)
{
	if (b->reach.n > 0) {
		rule_reach(e, gc, &b->reach, &b->fine, b->connected, db);
	}
	if (b->auth.n > 0) {
		conclude(e, gc, FL__VERDICT__VERDICT_DATABASE, words_auth(e, gc, &b->auth),
		    &b->auth, NULL, true);
	}
	if (b->readonly.n > 0) {
		rule_read_only(e, gc, &b->readonly, &b->fine);
	}
	if (b->schema.n > 0) {
		rule_schema(e, gc, &b->schema, &b->fine);
	}
	if (b->other.n > 0) {
		rule_answered(e, gc, &b->other, db);
	}
	if (b->expect.n > 0) {
		conclude(e, gc, FL__VERDICT__VERDICT_CODE,
		    words_bad_expectations(e, gc, &b->expect), &b->expect,
		    fl_str_or_empty(ent_host(e, b->expect.v[0])->release), false);
	}
	if (b->agent.n > 0) {
		conclude(e, gc, FL__VERDICT__VERDICT_HOST, words_agent_cannot(e, gc, &b->agent),
		    &b->agent, NULL, false);
	}
}

// What is slow on a database or DNS target: every host that reaches a database sees it
// degraded (the database), or some paths only while others are clearly better (the network;
// beside another host's lossy path, not a host slow on its own: suspects_beside_loss()).
static void
judge_db_slowness(eng *e, group_ctx *gc, const db_buckets *b, bool db)
{
	if (db && b->failing == 0 && b->slow.n > 0 && b->slow.n == b->fine.n) {
		rule_slow(e, gc, &b->slow);
	} else if (b->slow_path.n > 0 && b->calm.n > 0) {
		vec suspects = { 0 }, paths = { 0 }, normal = { 0 };
		suspects_beside_loss(e, &b->slow_path, &suspects);
		select_slow_paths(e, &suspects, &b->calm, &paths, &normal);
		if (paths.n > 0 && normal.n > 0) {
			rule_slow_path(e, gc, &paths, &normal);
		}
		free(suspects.v);
		free(paths.v);
		free(normal.v);
	}
}

void
judge_db_like(eng *e, group_ctx *gc)
{
	bool       db = is_db(gc->g->kind);
	db_buckets b  = { 0 };
	db_buckets_fill(e, gc, &b);
	judge_db_failures(e, gc, &b, db);
	judge_db_slowness(e, gc, &b, db);
	if (b.warned.n > 0) {
		rule_state_warnings(e, gc, &b.warned, FL__VERDICT__VERDICT_DATABASE);
	}
	db_buckets_fini(&b);
}

// ---- rules: app targets ---------------------------------------------------------------------

// An app slow for a while (not failing) on hosts whose databases and paths are fine,
// compared across hosts and releases like a failure: everywhere -> code (the release); only
// where a release runs -> code (that release); some hosts of one release -> that host's
// instance (a loopback target) or its path to a shared one (network).
static void
rule_app_slow(eng *e, group_ctx *gc, const vec *slow, const vec *steady)
{
	rel_set       rs_slow, rs_ok;
	slow_figures  fig = { .lat = median_of(e, slow, ent_lat),
		 .base             = median_of(e, slow, ent_baseline),
		 .others           = median_of(e, steady, ent_p50) };
	enum app_kind kind;
	Fl__Verdict   v = FL__VERDICT__VERDICT_CODE;
	rel_set_of(e, slow, &rs_slow);
	rel_set_of(e, steady, &rs_ok);
	if (steady->n == 0) {
		kind = APP_EVERYWHERE;
	} else if (rel_sets_disjoint(&rs_slow, &rs_ok)) {
		kind = APP_RELEASE;
	} else if (is_loopback_target(gc->g->target)) {
		kind = APP_INSTANCE;
		v    = FL__VERDICT__VERDICT_HOST;
	} else {
		rule_slow_path(e, gc, slow, steady);
		return;
	}
	const char *rel = kind != APP_INSTANCE && rs_slow.n == 1 ? rs_slow.v[0] : NULL;
	fnd        *f   = conclude(e, gc, v,
	             words_app_slow(e, gc, kind, slow, steady, &rs_slow, &rs_ok, &fig), slow, rel, false);
	if (f != NULL) {
		f->degraded = true;
	}
}

// An app failing on hosts whose databases and paths are fine: where a release runs -> that
// release; everywhere -> code; unreachable from some hosts of a shared target -> their paths;
// else that instance (code on the hosts that fail).
static void
rule_app_failing(eng *e, group_ctx *gc, const vec *bad, const vec *fine, bool all_reach)
{
	rel_set       rs_bad, rs_fine;
	enum app_kind kind;
	if (fails_where_release_runs(e, bad, fine, &rs_bad, &rs_fine)) {
		kind = APP_RELEASE;
	} else if (fine->n == 0) {
		kind = APP_EVERYWHERE;
	} else if (all_reach && !is_loopback_target(gc->g->target)) {
		rule_reach(e, gc, bad, fine, fine->n, false);
		return;
	} else {
		kind = APP_INSTANCE;
	}
	conclude(e, gc, FL__VERDICT__VERDICT_CODE,
	    words_app_fails(e, gc, kind, bad, fine->n, &rs_bad, &rs_fine), bad,
	    rs_bad.n == 1 ? rs_bad.v[0] : NULL, false);
}

// An app target's entries, sorted by what they say; trouble on a host that already has a root
// finding is folded into that finding instead.
typedef struct app_buckets {
	vec  bad;       // failing, not explained by a root finding
	vec  fine;      // answering: ok, slow or a state warning
	vec  warned;    // a state warning
	vec  slow;      // slow for a while, not explained by a root finding
	vec  steady;    // fine lately
	bool all_reach; // every bad entry is a reach failure (refused, no route, dns)
} app_buckets;

static void
app_bucket_answering(eng *e, app_buckets *b, uint32_t id)
{
	const ent *x = &e->ents[id];
	if (x->st == ST_WARNING) {
		vec_push(e, &b->warned, id);
	}
	vec_push(e, &b->fine, id);
	if (x->spell && e->root[x->host] >= 0) {
		// Slow because that host's database (or its path) is slow or failing.
		vec_push(e, &e->f[e->root[x->host]].folded, id);
	} else if (x->spell) {
		vec_push(e, &b->slow, id);
	} else if (x->clean) {
		vec_push(e, &b->steady, id);
	}
}

static void
app_buckets_fill(eng *e, const group_ctx *gc, app_buckets *b)
{
	b->all_reach = true;
	for (uint32_t i = e->tstart[gc->t]; i < e->tstart[gc->t + 1]; i++) {
		uint32_t   id = e->order[i];
		const ent *x  = &e->ents[id];
		if (x->st == ST_OK || x->st == ST_DEGRADED || x->st == ST_WARNING) {
			app_bucket_answering(e, b, id);
		} else if (x->st == ST_FAILING && e->root[x->host] >= 0) {
			// Downstream of that host's database/network trouble.
			vec_push(e, &e->f[e->root[x->host]].folded, id);
		} else if (x->st == ST_FAILING) {
			vec_push(e, &b->bad, id);
			b->all_reach = b->all_reach &&
			    (x->cat == CAT_REFUSED || x->cat == CAT_REACH || x->cat == CAT_DNS);
		}
	}
}

void
judge_app(eng *e, group_ctx *gc)
{
	app_buckets b = { 0 };
	app_buckets_fill(e, gc, &b);
	if (b.warned.n > 0) {
		// An app's own certificate ships with its deployment, like an expired one
		// (tls, judged below as the app failing): code.
		rule_state_warnings(e, gc, &b.warned, FL__VERDICT__VERDICT_CODE);
	}
	if (b.slow.n > 0 && !e->oom) {
		rule_app_slow(e, gc, &b.slow, &b.steady);
	}
	if (b.bad.n > 0 && !e->oom) {
		rule_app_failing(e, gc, &b.bad, &b.fine, b.all_reach);
	}
	free(b.bad.v);
	free(b.fine.v);
	free(b.warned.v);
	free(b.slow.v);
	free(b.steady.v);
}

// ---- stale hosts ----------------------------------------------------------------------------

// Hosts silent for 3 announced intervals while others report: one finding for all of them,
// since the earliest last report.
void
judge_stale(eng *e)
{
	const corr_view *v = e->view;
	if (e->n_live == 0 || e->n_live == v->n_hosts) {
		return;
	}
	fnd *f = fnd_new(e, FL__VERDICT__VERDICT_HOST, UINT32_MAX);
	if (f == NULL) {
		return;
	}
	size_t   n     = 0;
	uint32_t first = 0;
	for (size_t h = 0; h < v->n_hosts; h++) {
		const corr_host *host = &v->hosts[h];
		if (!host->stale) {
			continue;
		}
		if (n == 0 || host->last_seen_us < v->hosts[first].last_seen_us) {
			first = (uint32_t) h;
		}
		n++;
		vec_push(e, &f->hosts, (uint32_t) h);
		fnd_note(e, f, words_stale_note(e, host));
	}
	f->since   = v->hosts[first].last_seen_us;
	f->summary = words_stale(e, n, &v->hosts[first]);
}
