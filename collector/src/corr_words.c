// corr_words.c - every sentence the correlation engine writes: summaries, evidence lines and the
// phrases they are made of.
//
// The rules (corr_rules.c) decide what a target's trouble is; the functions here only say it.
// A summary never starts with its verdict ("network: ..."): the verdict is a field of its own.
// Each returns a heap string (NULL, with e->oom set, when out of memory). Summaries must not
// carry figures that move every round unless the finding is about them: the collector records
// a verdict event whenever the top summary changes.

#include "corr_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl/names.h"
#include "fl/str.h"
#include "fl/time.h"
#include "fl/unmet.h"

// ---- phrases --------------------------------------------------------------------------------

// "14:02:03" (UTC) from a collector time; "?" when unknown.
const char *
hhmmss(int64_t us, char buf[32])
{
	char full[40];
	if (us <= 0) {
		return "?";
	}
	fl_time_format(us, full, sizeof(full));
	if (strlen(full) < 19) {
		return "?";
	}
	memcpy(buf, full + 11, 8);
	buf[8] = '\0';
	return buf;
}

// "480ms", "3ms", "0.4ms", "12.5s".
const char *
ms_text(double us, char buf[32])
{
	if (us >= 10e6) {
		snprintf(buf, 32, "%.1fs", us / 1e6);
	} else if (us >= 1e3) {
		snprintf(buf, 32, "%.0fms", us / 1e3);
	} else {
		snprintf(buf, 32, "%.1fms", us / 1e3);
	}
	return buf;
}

// "app2", "app1, app2, app3", "app1, app2, app3 +4 more".
char *
names_phrase(eng *e, const uint32_t *host_of, const uint32_t *ranks, size_t n)
{
	char   buf[256];
	size_t len = 0;
	buf[0]     = '\0';
	for (size_t i = 0; i < n && i < CORR_MAX_NAMED; i++) {
		int w = snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? ", " : "",
		    host_by_rank(e, host_of, ranks[i]));
		if (w < 0 || (size_t) w >= sizeof(buf) - len) {
			break;
		}
		len += (size_t) w;
	}
	if (n > CORR_MAX_NAMED) {
		return xprintf(e, "%s +%zu more", buf, n - CORR_MAX_NAMED);
	}
	return xprintf(e, "%s", buf);
}

// "all 3 hosts", "app2 only", "2 of 5 hosts (app1, app2)".
char *
hosts_phrase(eng *e, const uint32_t *host_of, const vec *v, size_t total)
{
	size_t    n;
	uint32_t *r = ranks_of(e, v, NULL, NULL, &n);
	if (r == NULL) {
		return NULL;
	}
	char *out = NULL;
	if (n == total && n > 1) {
		out = xprintf(e, "all %zu hosts", n);
	} else if (n == total) {
		out = xprintf(e, "%s (the only host)", host_by_rank(e, host_of, r[0]));
	} else if (n == 1) {
		out = xprintf(e, "%s only", host_by_rank(e, host_of, r[0]));
	} else {
		char *names = names_phrase(e, host_of, r, n);
		out         = xprintf(e, "%zu of %zu hosts (%s)", n, total, fl_str_or_empty(names));
		free(names);
	}
	free(r);
	return out;
}

const char *
class_name(const eng *e, uint32_t id)
{
	return fl_failure_name(ent_res(e, id)->failure);
}

char *
releases_text(eng *e, const rel_set *rs)
{
	const char *const *rel = rs->v;
	size_t             n   = rs->n;
	if (n == 1) {
		return xprintf(e, "release %s", rel[0]);
	}
	if (n > CORR_MAX_RELEASES) {
		return xprintf(e, "several releases");
	}
	char   buf[256] = "releases ";
	size_t len      = strlen(buf);
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? ", " : "", rel[i]);
		if (w < 0 || (size_t) w >= sizeof(buf) - len) {
			break;
		}
		len += (size_t) w;
	}
	return xprintf(e, "%s", buf);
}

// What the database lacks (a DATABASE finding) or what the release needs (a CODE finding).
static char *
unmet_text(eng *e, const Fl__UnmetRequirement *u, bool as_database)
{
	char buf[FL_UNMET_PHRASE_MAX];
	return xprintf(e, "%s",
	    fl_unmet_phrase(u, as_database ? FL_UNMET_LACKING : FL_UNMET_NEEDED, buf, sizeof(buf)));
}

static bool
unmet_same(const Fl__UnmetRequirement *a, const Fl__UnmetRequirement *b)
{
	return a->object_missing == b->object_missing && streq(a->object, b->object) &&
	    streq(a->privilege, b->privilege) && streq(a->role, b->role);
}

// Distinct unmet requirements across the entries of v; returns how many (may exceed cap).
static size_t
collect_unmet(const eng *e, const vec *v, const Fl__UnmetRequirement **out, size_t cap)
{
	size_t n = 0, total = 0;
	for (size_t i = 0; i < v->n; i++) {
		const Fl__ProbeResult *r = ent_res(e, v->v[i]);
		for (size_t u = 0; u < r->n_unmet; u++) {
			size_t j = 0;
			while (j < n && !unmet_same(out[j], r->unmet[u])) {
				j++;
			}
			if (j < n) {
				continue;
			}
			total++;
			if (n < cap) {
				out[n++] = r->unmet[u];
			}
		}
	}
	return total;
}

// The requirement text of a schema finding: first unmet item (+N more), or the probe's detail.
static char *
schema_what(eng *e, const vec *v, bool as_database, fnd *f)
{
	const Fl__UnmetRequirement *items[CORR_MAX_UNMET];
	size_t                      total = collect_unmet(e, v, items, CORR_MAX_UNMET);
	size_t                      n     = total < CORR_MAX_UNMET ? total : CORR_MAX_UNMET;
	for (size_t i = 0; i < n && f != NULL; i++) {
		char *t = unmet_text(e, items[i], false);
		fnd_note(e, f, xprintf(e, "unmet: %s", fl_str_or_empty(t)));
		free(t);
	}
	if (total == 0) {
		const Fl__ProbeResult *r = ent_res(e, v->v[0]);
		return xprintf(e, "%s (%s)", fl_failure_name(r->failure),
		    r->detail && r->detail[0] ? r->detail : "no detail");
	}
	char *first = unmet_text(e, items[0], as_database);
	char *out   = total > 1 ? xprintf(e, "%s (+%zu more)", fl_str_or_empty(first), total - 1)
	                        : xprintf(e, "%s", fl_str_or_empty(first));
	free(first);
	return out;
}

const char *
corr_addresses_text(const Fl__ProbeResult *r, char *buf, size_t len)
{
	size_t off = 0;
	buf[0]     = '\0';
	for (size_t i = 0; i < r->n_addresses && off < len; i++) {
		int w = snprintf(
		    buf + off, len - off, "%s%s", i ? ", " : "", fl_str_or_empty(r->addresses[i]));
		off += w > 0 ? (size_t) w : 0;
	}
	return buf;
}

// "DNS: db.internal moved from 10.0.0.5 to 10.0.0.9 at 02:13:05 on app1 only (split DNS: app2,
// app3 still get 10.0.0.5)"; NULL when the failing entries did not move together.
static char *
moved_phrase(eng *e, const group_ctx *gc, const vec *bad, const vec *others)
{
	char                   tb[32], now[256];
	const corr_probe      *p = ent_probe(e, bad->v[0]);
	const Fl__ProbeResult *r = p->last;
	if (!moved_together(e, bad)) {
		return NULL;
	}
	char *hp    = hosts_phrase(e, gc->host_of, bad, gc->n_hosts);
	char *split = NULL;
	vec   old   = { 0 };
	for (size_t i = 0; others != NULL && i < others->n; i++) {
		const Fl__ProbeResult *o = ent_res(e, others->v[i]);
		char                   t[256];
		if (has_answer(o) &&
		    strcmp(corr_addresses_text(o, t, sizeof(t)), p->addrs_prev) == 0) {
			vec_push(e, &old, others->v[i]);
		}
	}
	if (old.n > 0) {
		size_t    n;
		uint32_t *rk    = ranks_of(e, &old, NULL, NULL, &n);
		char     *names = rk != NULL ? names_phrase(e, gc->host_of, rk, n) : NULL;
		split = xprintf(e, " (split DNS: %s still get%s %s)", fl_str_or_empty(names),
		    n == 1 ? "s" : "", p->addrs_prev);
		free(names);
		free(rk);
	}
	char *out = xprintf(e, "DNS: %s moved from %s to %s at %s on %s%s",
	    fl_str_or_empty(r->resolved_name), p->addrs_prev,
	    corr_addresses_text(r, now, sizeof(now)), hhmmss(p->addrs_changed_us, tb),
	    fl_str_or_empty(hp), fl_str_or_empty(split));
	free(hp);
	free(split);
	free(old.v);
	return out;
}

// The entry id of the k-th of f's root entries, then of its downstream ones.
static uint32_t
fnd_entry(const fnd *f, size_t k)
{
	return k < f->ents.n ? f->ents.v[k] : f->folded.v[k - f->ents.n];
}

// The distinct names (up to CORR_DNS_NAMES) that f's entries resolved; returns how many.
static size_t
resolved_names(const eng *e, const fnd *f, const char *names[CORR_DNS_NAMES])
{
	size_t nn = 0;
	for (size_t k = 0; k < f->ents.n + f->folded.n && nn < CORR_DNS_NAMES; k++) {
		const Fl__ProbeResult *r = ent_res(e, fnd_entry(f, k));
		size_t                 j = 0;
		while (has_answer(r) && j < nn && strcmp(names[j], r->resolved_name) != 0) {
			j++;
		}
		if (has_answer(r) && j == nn) {
			names[nn++] = r->resolved_name;
		}
	}
	return nn;
}

// A line per host of f whose answer for name moved recently (bounded by CORR_MAX_NAMED).
static void
note_moves(eng *e, fnd *f, const char *name)
{
	char   tb[32], a[256];
	size_t moves = 0;
	for (size_t k = 0; k < f->ents.n + f->folded.n && moves < CORR_MAX_NAMED; k++) {
		uint32_t          id = fnd_entry(f, k);
		const corr_probe *p  = ent_probe(e, id);
		if (ent_moved(e, id) && strcmp(p->last->resolved_name, name) == 0) {
			fnd_note(e, f,
			    xprintf(e, "%s moved from %s to %s at %s (seen by %s, probe %s)", name,
			        p->addrs_prev, corr_addresses_text(p->last, a, sizeof(a)),
			        hhmmss(p->addrs_changed_us, tb),
			        fl_str_or_empty(ent_host(e, id)->host),
			        fl_str_or_empty(p->last->name)));
			moves++;
		}
	}
}

// Every live host's latest answer for name, grouped into sets of equal answers (up to
// CORR_DNS_SETS; *more counts the entries with yet another answer). Returns how many sets.
static size_t
answer_sets(eng *e, const char *name, vec sets[CORR_DNS_SETS], size_t *more)
{
	size_t ns = 0;
	*more     = 0;
	for (size_t id = 0; id < e->n_ents; id++) {
		const Fl__ProbeResult *r = ent_res(e, (uint32_t) id);
		if (e->ents[id].st == ST_SKIP || !has_answer(r) ||
		    strcmp(r->resolved_name, name) != 0) {
			continue;
		}
		size_t k = 0;
		while (k < ns && !same_answer(ent_res(e, sets[k].v[0]), r)) {
			k++;
		}
		if (k == ns && ns == CORR_DNS_SETS) {
			(*more)++;
			continue;
		}
		ns += k == ns;
		vec_push(e, &sets[k], (uint32_t) id);
	}
	return ns;
}

// The sets in the order of their first host's name, so the line is stable.
static void
order_sets(const eng *e, const vec *sets, size_t ns, size_t order[CORR_DNS_SETS])
{
	uint32_t first[CORR_DNS_SETS];
	for (size_t k = 0; k < ns; k++) {
		first[k] = UINT32_MAX;
		order[k] = k;
		for (size_t i = 0; i < sets[k].n; i++) {
			uint32_t rk = e->rank[e->ents[sets[k].v[i]].host];
			first[k]    = rk < first[k] ? rk : first[k];
		}
	}
	for (size_t k = 1; k < ns; k++) { // insertion sort of at most 4
		for (size_t m = k; m > 0 && first[order[m]] < first[order[m - 1]]; m--) {
			size_t t     = order[m];
			order[m]     = order[m - 1];
			order[m - 1] = t;
		}
	}
}

// "split DNS: db resolves to 10.0.0.5 on app1, app2; 10.0.0.9 on app3" when the hosts do not
// agree on name.
static void
note_split(eng *e, fnd *f, const char *name)
{
	vec    sets[CORR_DNS_SETS] = { { 0 } };
	size_t more, ns = answer_sets(e, name, sets, &more);
	if (ns > 1) {
		char   line[768], a[256];
		size_t order[CORR_DNS_SETS];
		size_t len =
		    (size_t) snprintf(line, sizeof(line), "split DNS: %s resolves to ", name);
		order_sets(e, sets, ns, order);
		for (size_t o = 0; o < ns && len < sizeof(line); o++) {
			size_t    k     = order[o], n;
			uint32_t *rk    = ranks_of(e, &sets[k], NULL, NULL, &n);
			char     *hosts = rk != NULL ? names_phrase(e, e->host_of, rk, n) : NULL;
			int       w =
			    snprintf(line + len, sizeof(line) - len, "%s%s on %s", o ? "; " : "",
			        corr_addresses_text(ent_res(e, sets[k].v[0]), a, sizeof(a)),
			        fl_str_or_empty(hosts));
			len += w > 0 ? (size_t) w : 0;
			free(hosts);
			free(rk);
		}
		fnd_note(e, f,
		    more > 0 ? xprintf(e, "%s; and %zu more answers", line, more)
		             : xprintf(e, "%s", line));
	}
	for (size_t k = 0; k < CORR_DNS_SETS; k++) {
		free(sets[k].v);
	}
}

// Evidence for a finding: each name among its entries whose answer changed recently ("moved
// from ... to ... at ..."), and each name its hosts do not agree on (split DNS), looked at
// across every host that resolves it.
void
dns_notes(eng *e, size_t fi)
{
	const char *names[CORR_DNS_NAMES];
	fnd        *f  = &e->f[fi];
	size_t      nn = resolved_names(e, f, names);
	for (size_t j = 0; j < nn && !e->oom; j++) {
		note_moves(e, f, names[j]);
		note_split(e, f, names[j]);
	}
}

char *
evidence_line(eng *e, uint32_t id, bool folded)
{
	char                   tb[32], a[32], b[32];
	const corr_host       *h      = ent_host(e, id);
	const corr_probe      *p      = ent_probe(e, id);
	const Fl__ProbeResult *r      = p->last;
	const char            *detail = fl_str_or_empty(r->detail);
	if (e->ents[id].st == ST_WARNING) {
		return xprintf(e, "%s %s (%s %s): %s: %s", fl_str_or_empty(h->host),
		    fl_str_or_empty(r->name), fl_kind_name(r->kind), fl_str_or_empty(r->target),
		    fl_failure_name(r->failure), detail);
	}
	if (e->ents[id].st != ST_FAILING) {
		// Slow, or in a spell of trouble: the latest round, then the recent window.
		char rounds[32] = "", recent[128] = "", phase[48] = "", c[32], d[32];
		if (p->consecutive_slow > 0) {
			snprintf(rounds, sizeof(rounds), ", %u round%s", p->consecutive_slow,
			    p->consecutive_slow == 1 ? "" : "s");
		}
		if (p->recent != NULL && p->recent->n > 1) {
			snprintf(recent, sizeof(recent),
			    "; last %u rounds: p50 %s, p90 %s, %u slow, %u failed", p->recent->n,
			    ms_text(corr_window_percentile(p->recent, 50), c),
			    ms_text(corr_window_percentile(p->recent, 90), d),
			    corr_window_slow(p->recent), corr_window_failed(p->recent));
		}
		if (is_db(r->kind) && r->timing != NULL &&
		    r->timing->query_us + r->timing->check_us > 0) {
			snprintf(phase, sizeof(phase), "; query/check %s",
			    ms_text((double) r->timing->query_us + r->timing->check_us, c));
		}
		return xprintf(e, "%s %s (%s %s): %s, %s vs normal %s%s%s%s%s",
		    fl_str_or_empty(h->host), fl_str_or_empty(r->name), fl_kind_name(r->kind),
		    fl_str_or_empty(r->target),
		    r->status == FL__STATUS__STATUS_FAIL ? fl_failure_name(r->failure) : "slow",
		    ms_text(r->duration_us, a),
		    p->baseline_us > 0 ? ms_text((double) p->baseline_us, b) : "unknown", rounds,
		    phase, recent, folded ? " (downstream)" : "");
	}
	return xprintf(e, "%s %s (%s %s): %s since %s, %u round%s%s%s%s", fl_str_or_empty(h->host),
	    fl_str_or_empty(r->name), fl_kind_name(r->kind), fl_str_or_empty(r->target),
	    fl_failure_name(r->failure), hhmmss(p->failing_since_us, tb), p->consecutive_fail,
	    p->consecutive_fail == 1 ? "" : "s", detail[0] ? ": " : "", detail,
	    folded ? " (downstream)" : "");
}

// ---- summaries: database and DNS targets ----------------------------------------------------

// A name: every host that fails to resolve it, against those that do.
static char *
dns_unresolved(eng *e, const group_ctx *gc, const vec *reach, size_t connected, int64_t since)
{
	char  tb[32];
	char *hp      = hosts_phrase(e, gc->host_of, reach, gc->n_hosts);
	char  why[48] = "";
	char *s;
	if (ent_res(e, reach->v[0])->failure != FL__FAILURE_CLASS__FAILURE_DNS) {
		snprintf(why, sizeof(why), " (%s)", class_name(e, reach->v[0]));
	}
	if (connected > 0) {
		s = xprintf(e,
		    "DNS: %s does not resolve%s on %s since %s; %zu other host%s resolve%s it: "
		    "resolver or network path of the failing hosts",
		    gc->g->target, why, fl_str_or_empty(hp), hhmmss(since, tb), connected,
		    connected > 1 ? "s" : "", connected > 1 ? "" : "s");
	} else {
		s = xprintf(e, "DNS: %s does not resolve%s on %s since %s", gc->g->target, why,
		    fl_str_or_empty(hp), hhmmss(since, tb));
	}
	free(hp);
	return s;
}

// "app1 \u2192 db:5432, app2 \u2192 db:5432 (+2 more)": the first CORR_MAX_NAMED paths of the
// entries of v (one per host) in host-name order, each followed by what detail() writes (may be
// NULL), within budget bytes of out (out holds budget + 32, for the "+N more"). *n: the hosts.
static void
paths_text(eng *e, const group_ctx *gc, const vec *v, char *out, size_t budget, size_t *n,
    void (*detail)(eng *, uint32_t, const void *, char *, size_t), const void *arg)
{
	size_t    off = 0;
	uint32_t *r   = ranks_of(e, v, NULL, NULL, n);
	out[0]        = '\0';
	for (size_t i = 0; r != NULL && i < *n && i < CORR_MAX_NAMED; i++) {
		char     extra[192] = "";
		uint32_t id         = UINT32_MAX;
		for (size_t j = 0; j < v->n && id == UINT32_MAX; j++) {
			if (e->rank[e->ents[v->v[j]].host] == r[i]) {
				id = v->v[j];
			}
		}
		if (detail != NULL) {
			detail(e, id, arg, extra, sizeof(extra));
		}
		int w = snprintf(out + off, budget - off, "%s%s \u2192 %s%s", i ? ", " : "",
		    host_by_rank(e, gc->host_of, r[i]), gc->g->target, extra);
		if (w < 0 || (size_t) w >= budget - off) {
			break; // what fitted of this path stays, cut short
		}
		off += (size_t) w;
	}
	free(r);
	if (*n > CORR_MAX_NAMED) {
		off = strlen(out);
		snprintf(out + off, budget + 32 - off, " (+%zu more)", *n - CORR_MAX_NAMED);
	}
}

// Some hosts reach the target, some do not: the difference is the path.
static char *
paths_fail(eng *e, const group_ctx *gc, const vec *reach, size_t connected, int64_t since)
{
	char   tb[32], paths[512 + 32];
	size_t n;
	paths_text(e, gc, reach, paths, 512, &n, NULL, NULL);
	return xprintf(e, "network path%s %s fail%s (%s) since %s; %zu other host%s reach%s it",
	    n > 1 ? "s" : "", paths, n > 1 ? "" : "s", class_name(e, reach->v[0]),
	    hhmmss(since, tb), connected, connected > 1 ? "s" : "", connected > 1 ? "" : "es");
}

char *
words_reach(eng *e, const group_ctx *gc, enum reach_kind kind, const vec *reach, const vec *working,
    size_t connected)
{
	char    tb[32];
	int64_t since = vec_since(e, reach, 0);
	char   *hp, *s;
	switch (kind) {
	case REACH_MOVED: {
		// The name now points elsewhere, and from there the target fails: the DNS change.
		char *moved = moved_phrase(e, gc, reach, working);
		s           = xprintf(e, "%s; %s fails (%s) there since %s", fl_str_or_empty(moved),
		              gc->label, class_name(e, reach->v[0]), hhmmss(since, tb));
		free(moved);
		return s;
	}
	case REACH_NAME:
		return dns_unresolved(e, gc, reach, connected, since);
	case REACH_PATHS:
		return paths_fail(e, gc, reach, connected, since);
	default:
		break;
	}
	hp = hosts_phrase(e, gc->host_of, reach, gc->n_hosts);
	switch (kind) {
	case REACH_NO_NAME:
		s = xprintf(e, "DNS: the host name of %s does not resolve from %s since %s",
		    gc->label, fl_str_or_empty(hp), hhmmss(since, tb));
		break;
	case REACH_NO_ROUTE:
		s = xprintf(e, "no route to %s from %s since %s", gc->label, fl_str_or_empty(hp),
		    hhmmss(since, tb));
		break;
	case REACH_DOWN:
		s = xprintf(e, "%s is down: connection refused from %s since %s", gc->label,
		    fl_str_or_empty(hp), hhmmss(since, tb));
		break;
	case REACH_HUNG:
		s = xprintf(e,
		    "%s is not answering (%s) from %s since %s: server hung, or its machine down",
		    gc->label, class_name(e, reach->v[0]), fl_str_or_empty(hp), hhmmss(since, tb));
		break;
	default:
		s = xprintf(e, "%s fails (%s) from %s since %s", gc->label,
		    class_name(e, reach->v[0]), fl_str_or_empty(hp), hhmmss(since, tb));
		break;
	}
	free(hp);
	return s;
}

// Per failing class that is neither reach nor schema: how a server that answered wrongly is
// described, after the target label.
static const struct {
	Fl__FailureClass fc;
	const char      *what;
} answered_phrases[] = {
	{ FL__FAILURE_CLASS__FAILURE_TOO_MANY_CONNECTIONS,
	    "refuses new connections: too many connections" },
	{ FL__FAILURE_CLASS__FAILURE_SERVER_STARTING_OR_STOPPING,
	    "is starting up or shutting down" },
	{ FL__FAILURE_CLASS__FAILURE_DATABASE_MISSING, "has no such database" },
	{ FL__FAILURE_CLASS__FAILURE_OUT_OF_RESOURCES,
	    "is out of resources (disk full, out of memory or threads)" },
	{ FL__FAILURE_CLASS__FAILURE_QUERY_ERROR, "fails queries" },
	{ FL__FAILURE_CLASS__FAILURE_TLS, "fails the TLS handshake" },
	{ FL__FAILURE_CLASS__FAILURE_PROTOCOL, "answers something that is not its protocol" },
};

char *
words_answered(eng *e, const group_ctx *gc, const vec *v, bool db)
{
	char             tb[32], fallback[64];
	Fl__FailureClass fc   = ent_res(e, v->v[0])->failure;
	const char      *what = NULL;
	for (size_t i = 0; i < sizeof(answered_phrases) / sizeof(answered_phrases[0]); i++) {
		if (answered_phrases[i].fc == fc) {
			what = answered_phrases[i].what;
		}
	}
	if (what == NULL) {
		snprintf(fallback, sizeof(fallback), "fails (%s)", fl_failure_name(fc));
		what = fallback;
	}
	char *hp = hosts_phrase(e, gc->host_of, v, gc->n_hosts);
	// A DNS server that answers wrongly is the resolver path's trouble.
	char *s = db ? xprintf(e, "%s %s \u2014 %s since %s", gc->label, what, fl_str_or_empty(hp),
	                   hhmmss(vec_since(e, v, 0), tb))
	             : xprintf(e, "DNS: %s %s from %s since %s", gc->label, what,
	                   fl_str_or_empty(hp), hhmmss(vec_since(e, v, 0), tb));
	free(hp);
	return s;
}

// The role a login was rejected for: the first the results name, "?" when none does.
static const char *
first_role(const eng *e, const vec *v)
{
	for (size_t i = 0; i < v->n; i++) {
		const Fl__ProbeResult *r = ent_res(e, v->v[i]);
		if (r->role != NULL && r->role[0] != '\0') {
			return r->role;
		}
		for (size_t u = 0; u < r->n_unmet; u++) {
			if (r->unmet[u]->role != NULL && r->unmet[u]->role[0] != '\0') {
				return r->unmet[u]->role;
			}
		}
	}
	return "?";
}

char *
words_auth(eng *e, const group_ctx *gc, const vec *auth)
{
	char  tb[32];
	char *hp = hosts_phrase(e, gc->host_of, auth, gc->n_hosts);
	char *s  = xprintf(e, "%s rejects role %s: authentication failed from %s since %s",
	     gc->label, first_role(e, auth), fl_str_or_empty(hp), hhmmss(vec_since(e, auth, 0), tb));
	free(hp);
	return s;
}

// Code (as_database false): the release rel->v[0] needs what is missing; database: the
// requirement went away while the releases stayed the same. Adds an "unmet:" line to f for each
// requirement.
char *
words_schema(
    eng *e, const group_ctx *gc, const vec *v, const rel_set *rel, bool as_database, fnd *f)
{
	char  tb[32];
	char *what = schema_what(e, v, as_database, f);
	char *hp   = hosts_phrase(e, gc->host_of, v, gc->n_hosts);
	char *s;
	if (!as_database) {
		s = xprintf(e,
		    "release %s needs %s which is missing: migration or grant not applied (%s on "
		    "%s, "
		    "since %s)",
		    rel->v[0], fl_str_or_empty(what), gc->label, fl_str_or_empty(hp),
		    hhmmss(vec_since(e, v, 0), tb));
	} else {
		char *rt = rel->n == 1 ? xprintf(e, "release %s unchanged", rel->v[0])
		                       : xprintf(e, "releases unchanged");
		s        = xprintf(e, "%s \u2014 %s since %s, %s", fl_str_or_empty(what),
		           fl_str_or_empty(hp), hhmmss(vec_since(e, v, 0), tb), fl_str_or_empty(rt));
		free(rt);
	}
	free(what);
	free(hp);
	return s;
}

char *
words_db_slow(eng *e, const group_ctx *gc, const vec *slow, const slow_figures *fig)
{
	char a[32], b[32], c[32], ph[64] = "";
	if (fig->phase > 0) {
		snprintf(ph, sizeof(ph), "; query/check phase %s", ms_text(fig->phase, c));
	}
	char *hp = hosts_phrase(e, gc->host_of, slow, gc->n_hosts);
	char *s  = fig->base > 0
	     ? xprintf(e, "%s slow from %s: latency %s vs normal %s%s", gc->label,
	           fl_str_or_empty(hp), ms_text(fig->lat, a), ms_text(fig->base, b), ph)
	     : xprintf(e, "%s slow from %s: latency %s (no normal recorded yet)%s", gc->label,
	           fl_str_or_empty(hp), ms_text(fig->lat, a), ph);
	free(hp);
	return s;
}

// " (latency 480ms vs normal 3ms, 4 of last 16 rounds failed)" after one slow path; the normal
// is the path's own baseline, else *(const double *) norm, the other hosts' median. No round
// count: the collector records a verdict event whenever the summary changes (the evidence lines
// carry it).
static void
slow_path_detail(eng *e, uint32_t id, const void *norm, char *out, size_t len)
{
	char              a[32], b[32], lost[64] = "";
	const corr_probe *p = ent_probe(e, id);
	double   base       = p->baseline_us > 0 ? (double) p->baseline_us : *(const double *) norm;
	unsigned nf         = corr_window_failed(p->recent);
	if (nf > 0) {
		snprintf(lost, sizeof(lost), ", %u of last %u rounds failed", nf, p->recent->n);
	}
	snprintf(out, len, " (latency %s vs normal %s%s)", ms_text(ent_lat(e, id), a),
	    ms_text(base, b), lost);
}

char *
words_slow_path(eng *e, const group_ctx *gc, const vec *slow, const vec *normal, double norm)
{
	char     a[32], paths[768 + 32];
	size_t   n        = 0;
	unsigned unstable = 0;
	for (size_t j = 0; j < slow->n; j++) {
		unstable += corr_window_failed(ent_probe(e, slow->v[j])->recent) > 0;
	}
	paths_text(e, gc, slow, paths, 768, &n, slow_path_detail, &norm);
	size_t hn = count_hosts(e, normal);
	return xprintf(e, "%s path%s %s; %zu other host%s reach%s %s at normal latency (%s)",
	    unstable > 0 ? "unstable" : "slow", n > 1 ? "s" : "", paths, hn, hn > 1 ? "s" : "",
	    hn > 1 ? "" : "es", gc->label, ms_text(norm, a));
}

// What a read-only server says it is, and what the release needs of it.
static const char *
read_only_state(const Fl__ProbeResult *r)
{
	return r->read_only_reason != NULL && r->read_only_reason[0] ? r->read_only_reason
	                                                             : "read-only";
}

static const char *
read_only_needs(const Fl__ProbeResult *r)
{
	return r->read_only_needs != NULL && r->read_only_needs[0] ? r->read_only_needs : "writes";
}

char *
words_read_only(eng *e, const group_ctx *gc, const vec *ro, const rel_set *bad, bool code)
{
	char                   tb[32];
	const Fl__ProbeResult *r     = ent_res(e, ro->v[0]);
	const char            *state = read_only_state(r), *needs = read_only_needs(r);
	char                  *rb = releases_text(e, bad);
	char                  *hp = hosts_phrase(e, gc->host_of, ro, gc->n_hosts);
	char                  *s;
	if (code) {
		s = xprintf(e,
		    "%s needs %s but %s (%s) is read-only (%s): the release writes where the "
		    "others "
		    "only read, or was pointed at a read-only server (%s since %s)",
		    fl_str_or_empty(rb), needs, fl_str_or_empty(r->name), gc->label, state,
		    fl_str_or_empty(hp), hhmmss(vec_since(e, ro, 0), tb));
	} else {
		s = xprintf(e, "%s (%s) is read-only (%s) \u2014 %s needs %s \u2014 %s since %s",
		    fl_str_or_empty(r->name), gc->label, state, fl_str_or_empty(rb), needs,
		    fl_str_or_empty(hp), hhmmss(vec_since(e, ro, 0), tb));
	}
	free(rb);
	free(hp);
	return s;
}

char *
words_read_only_note(eng *e, const vec *ro)
{
	const Fl__ProbeResult *r = ent_res(e, ro->v[0]);
	return xprintf(e, "database state: read-only (%s); the release needs %s",
	    read_only_state(r), read_only_needs(r));
}

// The one-line account of a state warning for its finding's evidence.
static char *
state_note(eng *e, const Fl__ProbeResult *r)
{
	char when[40];
	switch (r->failure) {
	case FL__FAILURE_CLASS__FAILURE_SATURATED:
		return xprintf(
		    e, "connections: %u of %u in use", r->connections_in_use, r->connections_limit);
	case FL__FAILURE_CLASS__FAILURE_REPLICATION_LAG:
		if (r->replication_lag_ms < 0) {
			return xprintf(
			    e, "replication lag: unknown (%s)", fl_str_or_empty(r->detail));
		}
		return xprintf(e, "replication lag: %.1f s", (double) r->replication_lag_ms / 1e3);
	case FL__FAILURE_CLASS__FAILURE_CERT_EXPIRING:
		fl_time_format(r->cert_expires_us, when, sizeof(when));
		return xprintf(e, "certificate expires %s", when);
	default:
		return xprintf(
		    e, "%s: %s", fl_failure_name(r->failure), fl_str_or_empty(r->detail));
	}
}

char *
words_state_note(eng *e, uint32_t id)
{
	char *n = state_note(e, ent_res(e, id));
	char *line =
	    xprintf(e, "%s: %s", fl_str_or_empty(ent_host(e, id)->host), fl_str_or_empty(n));
	free(n);
	return line;
}

// State warnings carry no per-round numbers (those are in the evidence), so a verdict event is
// recorded when the state starts or ends, not every round.
char *
words_state_warning(eng *e, const group_ctx *gc, const vec *mine)
{
	const Fl__ProbeResult *r0 = ent_res(e, mine->v[0]);
	char                  *hp = hosts_phrase(e, gc->host_of, mine, gc->n_hosts);
	char                   day[40];
	char                  *s;
	switch (r0->failure) {
	case FL__FAILURE_CLASS__FAILURE_SATURATED:
		s = xprintf(e,
		    "%s is saturated: connections in use above its saturation_warn share of the "
		    "limit (%s)",
		    gc->label, fl_str_or_empty(hp));
		break;
	case FL__FAILURE_CLASS__FAILURE_REPLICATION_LAG:
		s = xprintf(e,
		    "replica %s is behind its primary by more than max_lag, or not replicating "
		    "(%s)",
		    gc->label, fl_str_or_empty(hp));
		break;
	case FL__FAILURE_CLASS__FAILURE_CERT_EXPIRING:
		fl_time_format(r0->cert_expires_us, day, sizeof(day));
		day[r0->cert_expires_us > 0 && strlen(day) >= 10 ? 10 : 0] = '\0';
		s = xprintf(e, "the TLS certificate of %s expires on %s: renew it (%s)", gc->label,
		    r0->cert_expires_us > 0 ? day : "?", fl_str_or_empty(hp));
		break;
	default:
		s = xprintf(e, "%s warns (%s) on %s", gc->label, fl_failure_name(r0->failure),
		    fl_str_or_empty(hp));
		break;
	}
	free(hp);
	return s;
}

char *
words_bad_expectations(eng *e, const group_ctx *gc, const vec *expect)
{
	const char *rel = fl_str_or_empty(ent_host(e, expect->v[0])->release);
	const char *err = fl_str_or_empty(ent_host(e, expect->v[0])->expectations_error);
	if (err[0] == '\0') {
		err = fl_str_or_empty(ent_res(e, expect->v[0])->detail);
	}
	char *hp = hosts_phrase(e, gc->host_of, expect, gc->n_hosts);
	char *s  = xprintf(e, "release %s ships an invalid expectations file (%s): %s", rel,
	     fl_str_or_empty(hp), err);
	free(hp);
	return s;
}

char *
words_agent_cannot(eng *e, const group_ctx *gc, const vec *agent)
{
	char *hp = hosts_phrase(e, gc->host_of, agent, gc->n_hosts);
	char *s  = xprintf(e, "the agent cannot run probe %s on %s: %s",
	     fl_str_or_empty(ent_res(e, agent->v[0])->name), fl_str_or_empty(hp),
	     fl_str_or_empty(ent_res(e, agent->v[0])->detail));
	free(hp);
	return s;
}

// ---- summaries: app targets -----------------------------------------------------------------

char *
words_app_slow(eng *e, const group_ctx *gc, enum app_kind kind, const vec *slow, const vec *steady,
    const rel_set *rs_slow, const rel_set *rs_ok, const slow_figures *fig)
{
	char        a[32], b[32], tb[32];
	const char *probe = fl_str_or_empty(ent_res(e, slow->v[0])->name);
	int64_t     since = vec_since(e, slow, 0);
	char       *rs    = releases_text(e, rs_slow);
	char       *hp    = hosts_phrase(e, gc->host_of, slow, gc->n_hosts);
	char       *s     = NULL;
	if (kind == APP_EVERYWHERE) {
		s = xprintf(e,
		    "degraded: %s %s slow on %s, %s: latency %s vs normal %s since %s; databases "
		    "and network fine",
		    probe, gc->label, fl_str_or_empty(hp), fl_str_or_empty(rs),
		    ms_text(fig->lat, a), fig->base > 0 ? ms_text(fig->base, b) : "unknown",
		    hhmmss(since, tb));
	} else if (kind == APP_RELEASE) {
		char *ro = releases_text(e, rs_ok);
		s        = xprintf(e,
		           "degraded: %s slows %s %s: latency %s on %s since %s vs %s on hosts on %s",
		           fl_str_or_empty(rs), probe, gc->label, ms_text(fig->lat, a),
		           fl_str_or_empty(hp), hhmmss(since, tb), ms_text(fig->others, b),
		           fl_str_or_empty(ro));
		free(ro);
	} else {
		s = xprintf(e,
		    "degraded: %s %s slow on %s since %s (latency %s vs %s on %zu other host%s, "
		    "same "
		    "release): that host or its instance (CPU, memory, disk)",
		    probe, gc->label, fl_str_or_empty(hp), hhmmss(since, tb), ms_text(fig->lat, a),
		    ms_text(fig->others, b), steady->n, steady->n > 1 ? "s" : "");
	}
	free(rs);
	free(hp);
	return s;
}

char *
words_app_fails(eng *e, const group_ctx *gc, enum app_kind kind, const vec *bad, size_t n_fine,
    const rel_set *rs_bad, const rel_set *rs_fine)
{
	char        tb[32];
	const char *probe = fl_str_or_empty(ent_res(e, bad->v[0])->name);
	const char *cls   = class_name(e, bad->v[0]);
	int64_t     since = vec_since(e, bad, 0);
	char       *rb    = releases_text(e, rs_bad);
	char       *s     = NULL;
	if (kind == APP_RELEASE) {
		// Fails exactly where the new release runs: the release.
		size_t    n;
		uint32_t *r     = ranks_of(e, bad, NULL, NULL, &n);
		char     *names = r ? names_phrase(e, gc->host_of, r, n) : NULL;
		char     *rf    = releases_text(e, rs_fine);
		free(r);
		s = xprintf(e, "%s breaks %s %s: %s on %s since %s; hosts on %s are fine",
		    fl_str_or_empty(rb), probe, gc->label, cls, fl_str_or_empty(names),
		    hhmmss(since, tb), fl_str_or_empty(rf));
		free(names);
		free(rf);
	} else if (kind == APP_EVERYWHERE) {
		char *hp = hosts_phrase(e, gc->host_of, bad, gc->n_hosts);
		s = xprintf(e, "%s %s fails (%s) on %s, %s, databases and network fine, since %s",
		    probe, gc->label, cls, fl_str_or_empty(hp), fl_str_or_empty(rb),
		    hhmmss(since, tb));
		free(hp);
	} else {
		// Some hosts fail on the same release that works elsewhere: that instance.
		char *hp = hosts_phrase(e, gc->host_of, bad, gc->n_hosts);
		s        = xprintf(e,
		           "%s %s fails (%s) on %s since %s; %s also runs fine on %zu other host%s", probe,
		           gc->label, cls, fl_str_or_empty(hp), hhmmss(since, tb), fl_str_or_empty(rb),
		           n_fine, n_fine > 1 ? "s" : "");
		free(hp);
	}
	free(rb);
	return s;
}

// ---- summaries: silent hosts and the whole fleet ---------------------------------------------

char *
words_stale_note(eng *e, const corr_host *host)
{
	char ts[40], age[32];
	fl_time_format(host->last_seen_us, ts, sizeof(ts));
	fl_duration_format(e->view->now_us - host->last_seen_us, age, sizeof(age));
	return xprintf(e, "%s last seen %s (%s ago), release %s", fl_str_or_empty(host->host), ts,
	    age, fl_str_or_empty(host->release));
}

char *
words_stale(eng *e, size_t n, const corr_host *first)
{
	char ts[40];
	fl_time_format(first->last_seen_us, ts, sizeof(ts));
	if (n == 1) {
		return xprintf(e,
		    "%s silent since %s: agent down, or cut off from the collector; %zu other "
		    "host%s "
		    "reporting",
		    fl_str_or_empty(first->host), ts, e->n_live, e->n_live > 1 ? "s" : "");
	}
	return xprintf(e,
	    "%zu hosts silent (first %s, last seen %s): agents down, or cut off from the "
	    "collector; %zu other host%s reporting",
	    n, fl_str_or_empty(first->host), ts, e->n_live, e->n_live > 1 ? "s" : "");
}

char *
words_no_data(eng *e)
{
	return xprintf(e, "no data: no agent has reported to this collector");
}

char *
words_unknown_host(eng *e, const char *host)
{
	return xprintf(e, "no data for host %s: it never reported", host);
}

char *
words_all_silent(eng *e, int64_t last_us)
{
	char ts[40];
	fl_time_format(last_us, ts, sizeof(ts));
	return xprintf(
	    e, "no recent data: all %zu hosts silent, last report %s", e->view->n_hosts, ts);
}

// Stable text: the collector records a history event whenever the summary changes, so it must
// not mention counts that move every round (pending probes, latencies). No "healthy:" in front:
// the verdict is a field of its own (no summary starts with its verdict's name).
char *
words_healthy(eng *e, const char *only_host)
{
	if (only_host != NULL) {
		return xprintf(e, "%s healthy", only_host);
	}
	return xprintf(
	    e, "%zu host%s reporting, no probe failing", e->n_live, e->n_live > 1 ? "s" : "");
}

// ---- findings in the reply ------------------------------------------------------------------

// The finding's summary, followed by how much of the app trouble it explains.
char *
words_finding_summary(eng *e, const fnd *f)
{
	size_t n_fold_fail = 0, n_fold_slow = 0;
	for (size_t i = 0; i < f->folded.n; i++) {
		if (e->ents[f->folded.v[i]].st == ST_FAILING) {
			n_fold_fail++;
		} else {
			n_fold_slow++;
		}
	}
	if (f->folded.n == 0) {
		return fl_str_dup(f->summary);
	}
	char slow[64] = "";
	if (n_fold_slow > 0) {
		snprintf(slow, sizeof(slow), "; %zu app probe%s slow downstream", n_fold_slow,
		    n_fold_slow > 1 ? "s" : "");
	}
	return n_fold_fail > 0
	    ? xprintf(e, "%s; %zu app probe failure%s downstream%s", fl_str_or_empty(f->summary),
	          n_fold_fail, n_fold_fail > 1 ? "s" : "", slow)
	    : xprintf(e, "%s%s", fl_str_or_empty(f->summary), slow);
}

char *
words_more_results(eng *e, size_t n)
{
	return xprintf(e, "... and %zu more probe results", n);
}
