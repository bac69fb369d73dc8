// correlate.c - the correlation engine: code, database or network?
//
// The rules and their reasoning are in docs/correlation.md; the engine follows its order:
//
//   1. classify every (host, probe) once: ok, pending (failed fewer rounds than the threshold),
//      degraded (warn/slow) or failing, and map its failure class to a category (class_cats[]);
//   2. group the entries by target (kind + target string) with a hash table and a counting sort,
//      so every rule looks at one target's entries across hosts: O(hosts x probes);
//   3. judge database and DNS targets first (root causes) and remember, per host, which finding
//      explains that host's database trouble (corr_rules.c);
//   4. judge app (http/tcp) targets; failures on a host that already has a root finding are folded
//      into it as downstream evidence, the rest are compared across releases (corr_rules.c);
//   5. stale hosts; then rank, filter by only_host and build the reply.
//
// Pure: no I/O, no clock, no globals. Strings in the reply are heap copies. What the files of
// the engine share is in corr_internal.h; every sentence is written in corr_words.c.

#include "corr_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl/names.h"
#include "fl/str.h"
#include "fl/time.h"

static const struct {
	Fl__FailureClass fc;
	enum cat         cat;
} class_cats[] = {
	{ FL__FAILURE_CLASS__FAILURE_DNS, CAT_DNS },
	{ FL__FAILURE_CLASS__FAILURE_REFUSED, CAT_REFUSED },
	{ FL__FAILURE_CLASS__FAILURE_TIMEOUT, CAT_REACH },
	{ FL__FAILURE_CLASS__FAILURE_UNREACHABLE, CAT_REACH },
	{ FL__FAILURE_CLASS__FAILURE_RESET, CAT_REACH },
	{ FL__FAILURE_CLASS__FAILURE_SLOW, CAT_SLOW },
	{ FL__FAILURE_CLASS__FAILURE_INTERNAL, CAT_AGENT },
	{ FL__FAILURE_CLASS__FAILURE_AUTH_FAILED, CAT_AUTH },
	{ FL__FAILURE_CLASS__FAILURE_DATABASE_MISSING, CAT_DBMISSING },
	{ FL__FAILURE_CLASS__FAILURE_TOO_MANY_CONNECTIONS, CAT_CAPACITY },
	{ FL__FAILURE_CLASS__FAILURE_SERVER_STARTING_OR_STOPPING, CAT_CAPACITY },
	{ FL__FAILURE_CLASS__FAILURE_PRIVILEGE_MISSING, CAT_SCHEMA },
	{ FL__FAILURE_CLASS__FAILURE_OBJECT_MISSING, CAT_SCHEMA },
	{ FL__FAILURE_CLASS__FAILURE_EXPECTATIONS_INVALID, CAT_EXPECT },
	{ FL__FAILURE_CLASS__FAILURE_OUT_OF_RESOURCES, CAT_CAPACITY },
	{ FL__FAILURE_CLASS__FAILURE_READ_ONLY, CAT_READONLY },
	{ FL__FAILURE_CLASS__FAILURE_SATURATED, CAT_STATE },
	{ FL__FAILURE_CLASS__FAILURE_REPLICATION_LAG, CAT_STATE },
	{ FL__FAILURE_CLASS__FAILURE_CERT_EXPIRING, CAT_STATE },
	// everything else (tls, http_*, body_mismatch, protocol, query_error, none) is CAT_OTHER
};

// Verdict tiers for ranking: root causes before code, code before a silent host.
static int
verdict_tier(Fl__Verdict v)
{
	switch (v) {
	case FL__VERDICT__VERDICT_DATABASE:
	case FL__VERDICT__VERDICT_NETWORK:
		return 0;
	case FL__VERDICT__VERDICT_CODE:
		return 1;
	default:
		return 2;
	}
}

// ---- small helpers ------------------------------------------------------------------------

// arr reallocated for twice *cap elements of elem bytes (initial when empty), *cap updated;
// NULL (and e->oom) when out of memory, arr and *cap untouched.
static void *
grow(eng *e, void *arr, size_t *cap, size_t elem, size_t initial)
{
	size_t n  = *cap ? *cap * 2 : initial;
	void  *na = realloc(arr, n * elem);
	if (na == NULL) {
		e->oom = true;
		return NULL;
	}
	*cap = n;
	return na;
}

bool
vec_push(eng *e, vec *v, uint32_t x)
{
	if (v->n == v->cap) {
		uint32_t *nv = grow(e, v->v, &v->cap, sizeof(*nv), 8);
		if (nv == NULL) {
			return false;
		}
		v->v = nv;
	}
	v->v[v->n++] = x;
	return true;
}

char *
xprintf(eng *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		n = 0;
	}
	char *s = malloc((size_t) n + 1);
	if (s == NULL) {
		e->oom = true;
		return NULL;
	}
	va_start(ap, fmt);
	vsnprintf(s, (size_t) n + 1, fmt, ap);
	va_end(ap);
	return s;
}

bool
streq(const char *a, const char *b)
{
	return strcmp(fl_str_or_empty(a), fl_str_or_empty(b)) == 0;
}

const corr_host *
ent_host(const eng *e, uint32_t id)
{
	return &e->view->hosts[e->ents[id].host];
}

const corr_probe *
ent_probe(const eng *e, uint32_t id)
{
	const ent *x = &e->ents[id];
	return corr_host_probe(&e->view->hosts[x->host], x->probe);
}

const Fl__ProbeResult *
ent_res(const eng *e, uint32_t id)
{
	return ent_probe(e, id)->last;
}

bool
is_db(Fl__ProbeKind k)
{
	return k == FL__PROBE_KIND__KIND_POSTGRES || k == FL__PROBE_KIND__KIND_MYSQL;
}

bool
is_app(Fl__ProbeKind k)
{
	return k == FL__PROBE_KIND__KIND_HTTP || k == FL__PROBE_KIND__KIND_TCP;
}

// An app target on loopback is each host's own instance, not one shared server: the same URL on
// two hosts names two different processes, so cross-host "network path" reasoning does not apply.
bool
is_loopback_target(const char *t)
{
	const char *p = strstr(t, "://");
	p             = p != NULL ? p + 3 : t;
	return strncmp(p, "127.", 4) == 0 || strncmp(p, "localhost", 9) == 0 ||
	    strncmp(p, "[::1]", 5) == 0 || strncmp(p, "::1", 3) == 0;
}

enum cat
cat_of(Fl__FailureClass fc)
{
	for (size_t i = 0; i < sizeof(class_cats) / sizeof(class_cats[0]); i++) {
		if (class_cats[i].fc == fc) {
			return class_cats[i].cat;
		}
	}
	return CAT_OTHER;
}

bool
corr_result_slow(const corr_params *p, const Fl__ProbeResult *r, int64_t baseline_us)
{
	if (r->status == FL__STATUS__STATUS_WARN) {
		return cat_of(r->failure) != CAT_STATE; // a state warning is not a slow round
	}
	if (r->status == FL__STATUS__STATUS_FAIL && cat_of(r->failure) == CAT_SLOW) {
		return true;
	}
	return r->status == FL__STATUS__STATUS_OK && baseline_us > 0 && p->slow_factor > 0 &&
	    (double) r->duration_us > (double) baseline_us * p->slow_factor &&
	    (int64_t) r->duration_us - baseline_us >= CORR_SLOW_FLOOR_US;
}

static enum st
classify(const eng *e, const corr_probe *p, enum cat *cat)
{
	const Fl__ProbeResult *r = p->last;
	*cat                     = CAT_OTHER;
	if (r == NULL) {
		return ST_SKIP;
	}
	*cat = cat_of(r->failure);
	switch (r->status) {
	case FL__STATUS__STATUS_FAIL:
		if (*cat == CAT_SLOW) {
			return ST_DEGRADED;
		}
		return p->consecutive_fail >= e->threshold ? ST_FAILING : ST_PENDING;
	case FL__STATUS__STATUS_WARN:
		if (*cat == CAT_STATE) {
			return ST_WARNING;
		}
		*cat = CAT_SLOW;
		return ST_DEGRADED;
	case FL__STATUS__STATUS_OK:
		if (corr_result_slow(&e->view->params, r, p->baseline_us)) {
			*cat = CAT_SLOW;
			return ST_DEGRADED;
		}
		return ST_OK;
	default:
		return ST_SKIP;
	}
}

// ---- grouping -----------------------------------------------------------------------------

static uint64_t
hash_target(Fl__ProbeKind k, const char *s)
{
	return fl_fnv1a(FL_FNV1A_OFFSET ^ (uint64_t) k, s);
}

typedef struct name_key {
	const char *name;
	uint32_t    idx;
} name_key;

static int
cmp_name_key(const void *a, const void *b)
{
	const name_key *x = a, *y = b;
	int             c = strcmp(x->name, y->name);
	return c != 0 ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

// Host ranks by name: findings list hosts sorted, evidence is sorted by host. Also clears root.
static bool
rank_hosts(eng *e)
{
	const corr_view *v     = e->view;
	name_key        *names = calloc(v->n_hosts ? v->n_hosts : 1, sizeof(*names));
	if (names == NULL) {
		e->oom = true;
		return false;
	}
	for (size_t h = 0; h < v->n_hosts; h++) {
		names[h].name = fl_str_or_empty(v->hosts[h].host);
		names[h].idx  = (uint32_t) h;
		e->root[h]    = -1;
	}
	qsort(names, v->n_hosts, sizeof(*names), cmp_name_key);
	for (size_t i = 0; i < v->n_hosts; i++) {
		e->rank[names[i].idx] = (uint32_t) i;
	}
	free(names);
	return true;
}

// What add_entry last found for a result's (target, name, kind) by their pointers: the collector
// hands every host the same copy of a repeated string (its string table), so across a fleet a
// few pointers recur and the string tests, hash and compare are skipped. A miss (other pointers,
// as from views built by hand) takes the full path: the cache changes no result.
typedef struct tgt_memo {
	const char   *target;
	const char   *name;
	Fl__ProbeKind kind;
	uint32_t      group;
} tgt_memo;

#define TGT_MEMO 256 // direct-mapped slots, a power of two

// The open-addressing table that finds a target's group id: slots hold id + 1, 0 = empty.
typedef struct tgt_table {
	uint32_t *slots;
	size_t    mask; // capacity - 1 (a power of two, at least twice the entries)
	tgt_memo *memo; // TGT_MEMO slots
} tgt_table;

// The memo slot of a result's (target, name, kind).
static tgt_memo *
memo_slot(const tgt_table *tt, const char *target, const char *name, Fl__ProbeKind kind)
{
	uintptr_t k = ((uintptr_t) target >> 4) ^ ((uintptr_t) name >> 3) ^ (uintptr_t) kind;
	return &tt->memo[(k ^ (k >> 9)) & (TGT_MEMO - 1)];
}

// The group id of r's target (see add_entry); UINT32_MAX when out of memory.
static uint32_t target_id(eng *e, tgt_table *tt, Fl__ProbeKind kind, const char *key, bool by_name,
    const char *t, uint32_t id);

static uint32_t
target_of(eng *e, tgt_table *tt, const Fl__ProbeResult *r, uint32_t id)
{
	const char   *t    = fl_str_or_empty(r->target);
	const char   *name = fl_str_or_empty(r->name);
	Fl__ProbeKind kind = r->kind;
	tgt_memo     *m    = memo_slot(tt, t, name, kind);
	if (m->target == t && m->name == name && m->kind == kind) {
		return m->group;
	}
	// Each host's own app instance (a loopback URL, maybe on a port of its own) is the same app
	// when the probe has the same name: compared across hosts.
	bool     by_name = is_app(kind) && is_loopback_target(t);
	uint32_t group   = target_id(e, tt, kind, by_name ? name : t, by_name, t, id);
	if (group != UINT32_MAX) {
		*m = (tgt_memo) { .target = t, .name = name, .kind = kind, .group = group };
	}
	return group;
}

// The group id of (kind, key, by_name), adding a group named by target t and entry id when it
// is new; UINT32_MAX when out of memory.
static uint32_t
target_id(eng *e, tgt_table *tt, Fl__ProbeKind kind, const char *key, bool by_name, const char *t,
    uint32_t id)
{
	size_t s = ((size_t) hash_target(kind, key) ^ (by_name ? 0x9e3779b9u : 0u)) & tt->mask;
	while (tt->slots[s] != 0) {
		tgt *g = &e->tgts[tt->slots[s] - 1];
		if (g->kind == kind && g->by_name == by_name && strcmp(g->key, key) == 0) {
			return tt->slots[s] - 1;
		}
		s = (s + 1) & tt->mask;
	}
	if (e->n_tgts == e->cap_tgts) {
		tgt *nt = grow(e, e->tgts, &e->cap_tgts, sizeof(*nt), 64);
		if (nt == NULL) {
			return UINT32_MAX;
		}
		e->tgts = nt;
	}
	e->tgts[e->n_tgts] =
	    (tgt) { .kind = kind, .target = t, .key = key, .by_name = by_name, .first = id };
	tt->slots[s] = (uint32_t) ++e->n_tgts;
	return tt->slots[s] - 1;
}

// Classifies probe p of host h and adds it as an entry of its target's group.
static bool
add_entry(eng *e, tgt_table *tt, uint32_t h, uint32_t p)
{
	const corr_params *prm  = &e->view->params;
	const corr_host   *host = &e->view->hosts[h];
	const corr_probe  *pr   = corr_host_probe(host, p);
	enum cat           cat  = CAT_OTHER;
	// A stale host's (old) result is not judged, but the host still probes that target: "all N
	// hosts" must count it.
	enum st  st     = host->stale ? ST_SKIP : classify(e, pr, &cat);
	uint32_t id     = (uint32_t) e->n_ents;
	uint32_t target = target_of(e, tt, pr->last, id);
	if (target == UINT32_MAX) {
		return false;
	}
	e->ents[e->n_ents++] = (ent) { .host = h,
		.probe                       = p,
		.target                      = target,
		.st                          = (uint8_t) st,
		.cat                         = (uint8_t) cat,
		.spell = st != ST_SKIP && st != ST_FAILING && probe_spell(prm, pr),
		.shaky = st != ST_SKIP && st != ST_FAILING && probe_shaky(prm, host, pr),
		.clean = st != ST_SKIP && probe_clean(prm, host, pr, st) };
	return true;
}

// Counting sort by target: each group's entries are contiguous, in host order.
static bool
order_by_target(eng *e)
{
	e->order       = calloc(e->n_ents ? e->n_ents : 1, sizeof(*e->order));
	e->tstart      = calloc(e->n_tgts + 1, sizeof(*e->tstart));
	uint32_t *fill = calloc(e->n_tgts ? e->n_tgts : 1, sizeof(*fill));
	if (e->order == NULL || e->tstart == NULL || fill == NULL) {
		free(fill);
		e->oom = true;
		return false;
	}
	for (size_t i = 0; i < e->n_ents; i++) {
		e->tstart[e->ents[i].target + 1]++;
	}
	for (size_t t = 0; t < e->n_tgts; t++) {
		e->tstart[t + 1] += e->tstart[t];
	}
	for (size_t i = 0; i < e->n_ents; i++) {
		uint32_t t                         = e->ents[i].target;
		e->order[e->tstart[t] + fill[t]++] = (uint32_t) i;
	}
	free(fill);
	return true;
}

// Steps 1 and 2: every (host, probe) with a result classified once and grouped by target.
static bool
build_entries(eng *e)
{
	const corr_view *v     = e->view;
	size_t           total = 0, cap = 16;
	for (size_t h = 0; h < v->n_hosts; h++) {
		total += v->hosts[h].n_probes;
		e->n_live += !v->hosts[h].stale;
	}
	while (cap < total * 2) {
		cap *= 2;
	}
	tgt_table tt = { .slots = calloc(cap, sizeof(uint32_t)),
		.mask           = cap - 1,
		.memo           = calloc(TGT_MEMO, sizeof(tgt_memo)) };
	e->ents      = calloc(total ? total : 1, sizeof(*e->ents));
	e->cap_tgts  = 64;
	e->tgts      = calloc(e->cap_tgts, sizeof(*e->tgts));
	e->rank      = calloc(v->n_hosts ? v->n_hosts : 1, sizeof(*e->rank));
	e->root      = calloc(v->n_hosts ? v->n_hosts : 1, sizeof(*e->root));
	e->mark      = calloc(v->n_hosts ? v->n_hosts : 1, sizeof(*e->mark));
	bool ok      = e->ents != NULL && e->tgts != NULL && tt.slots != NULL && tt.memo != NULL &&
	    e->rank != NULL && e->root != NULL && e->mark != NULL && rank_hosts(e);
	for (size_t h = 0; ok && h < v->n_hosts; h++) {
		for (size_t p = 0; ok && p < v->hosts[h].n_probes; p++) {
			if (corr_host_probe(&v->hosts[h], p)->last != NULL) {
				ok = add_entry(e, &tt, (uint32_t) h, (uint32_t) p);
			}
		}
	}
	free(tt.slots);
	free(tt.memo);
	if (!ok) {
		e->oom = true;
		return false;
	}
	return order_by_target(e);
}

// ---- findings -----------------------------------------------------------------------------

fnd *
fnd_new(eng *e, Fl__Verdict verdict, uint32_t target)
{
	if (e->nf == e->capf) {
		fnd *nf = grow(e, e->f, &e->capf, sizeof(*nf), 16);
		if (nf == NULL) {
			return NULL;
		}
		e->f = nf;
	}
	fnd *f = &e->f[e->nf++];
	memset(f, 0, sizeof(*f));
	f->verdict = verdict;
	if (target != UINT32_MAX) {
		vec_push(e, &f->targets, target);
	}
	return f;
}

void
fnd_note(eng *e, fnd *f, char *line)
{
	if (line == NULL) {
		return;
	}
	char **n = realloc(f->notes, (f->n_notes + 1) * sizeof(*n));
	if (n == NULL) {
		free(line);
		e->oom = true;
		return;
	}
	f->notes               = n;
	f->notes[f->n_notes++] = line;
}

static void
fnd_fini(fnd *f)
{
	free(f->summary);
	free(f->ents.v);
	free(f->folded.v);
	free(f->hosts.v);
	free(f->targets.v);
	for (size_t i = 0; i < f->n_notes; i++) {
		free(f->notes[i]);
	}
	free(f->notes);
}

int64_t
vec_since(const eng *e, const vec *v, int64_t since)
{
	for (size_t i = 0; i < v->n; i++) {
		const corr_probe *p = ent_probe(e, v->v[i]);
		int64_t s = p->failing_since_us > 0 ? p->failing_since_us : p->slow_since_us;
		if (s > 0 && (since == 0 || s < since)) {
			since = s;
		}
	}
	return since;
}

static int64_t
fnd_since(const eng *e, const fnd *f)
{
	return vec_since(e, &f->folded, vec_since(e, &f->ents, f->since));
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
	return (x > y) - (x < y);
}

// Marks rank r in the current epoch; true when it was not marked yet (a new host).
static bool
mark_rank(eng *e, uint32_t r)
{
	if (e->mark[r] == e->epoch) {
		return false;
	}
	e->mark[r] = e->epoch;
	return true;
}

static void
next_epoch(eng *e)
{
	if (++e->epoch == 0) { // wrapped: forget every old mark
		memset(e->mark, 0, e->view->n_hosts * sizeof(*e->mark));
		e->epoch = 1;
	}
}

// Sorted, unique host ranks of the entries in a and b and the host indices in hosts; caller
// frees. Dedup by epoch marks; sorted by a scan of the marks when the set is a large part of the
// fleet (O(hosts)), else by qsort of the few (O(k log k)): never worse than O(hosts).
uint32_t *
ranks_of(eng *e, const vec *a, const vec *b, const vec *hosts, size_t *n_out)
{
	size_t    n = a->n + (b ? b->n : 0) + (hosts ? hosts->n : 0), k = 0;
	uint32_t *r = malloc((n ? n : 1) * sizeof(*r));
	if (r == NULL) {
		e->oom = true;
		*n_out = 0;
		return NULL;
	}
	next_epoch(e);
	for (size_t i = 0; i < a->n; i++) {
		uint32_t x = e->rank[e->ents[a->v[i]].host];
		if (mark_rank(e, x)) {
			r[k++] = x;
		}
	}
	for (size_t i = 0; b != NULL && i < b->n; i++) {
		uint32_t x = e->rank[e->ents[b->v[i]].host];
		if (mark_rank(e, x)) {
			r[k++] = x;
		}
	}
	for (size_t i = 0; hosts != NULL && i < hosts->n; i++) {
		uint32_t x = e->rank[hosts->v[i]];
		if (mark_rank(e, x)) {
			r[k++] = x;
		}
	}
	if (k * 8 > e->view->n_hosts) {
		size_t j = 0;
		for (uint32_t x = 0; x < e->view->n_hosts; x++) {
			if (e->mark[x] == e->epoch) {
				r[j++] = x;
			}
		}
	} else {
		qsort(r, k, sizeof(*r), cmp_u32);
	}
	*n_out = k;
	return r;
}

const char *
host_by_rank(const eng *e, const uint32_t *host_of, uint32_t rank)
{
	return fl_str_or_empty(e->view->hosts[host_of[rank]].host);
}

size_t
count_hosts(eng *e, const vec *v)
{
	size_t n = 0;
	next_epoch(e);
	for (size_t i = 0; i < v->n; i++) {
		n += mark_rank(e, e->rank[e->ents[v->v[i]].host]);
	}
	return n;
}

// Distinct hosts that probe target t, whatever their state (ok, pending, degraded, failing,
// unknown, silent): summaries say "all N hosts" only when N is all of them, else "N of M".
static size_t
group_hosts(eng *e, uint32_t t)
{
	size_t n = 0;
	next_epoch(e);
	for (uint32_t i = e->tstart[t]; i < e->tstart[t + 1]; i++) {
		n += mark_rank(e, e->rank[e->ents[e->order[i]].host]);
	}
	return n;
}

// Marks the hosts of v as explained by finding fi (first finding wins).
static void
mark_root(eng *e, const vec *v, size_t fi)
{
	for (size_t i = 0; i < v->n; i++) {
		uint32_t h = e->ents[v->v[i]].host;
		if (e->root[h] < 0) {
			e->root[h] = (int32_t) fi;
		}
	}
}

fnd *
fnd_finish(eng *e, fnd *f, char *summary, const vec *ents, const char *release, bool explains)
{
	size_t fi = (size_t) (f - e->f);
	if (e->oom) {
		free(summary);
	} else {
		f->summary = summary;
		f->release = release;
		for (size_t i = 0; ents != NULL && i < ents->n; i++) {
			vec_push(e, &f->ents, ents->v[i]);
		}
	}
	if (explains && ents != NULL) {
		mark_root(e, ents, fi);
	}
	return &e->f[fi];
}

fnd *
conclude(eng *e, const group_ctx *gc, Fl__Verdict verdict, char *summary, const vec *ents,
    const char *release, bool explains)
{
	fnd *f = fnd_new(e, verdict, gc->t);
	if (f == NULL) {
		free(summary);
		return NULL;
	}
	return fnd_finish(e, f, summary, ents, release, explains);
}

// ---- reply ------------------------------------------------------------------------------

typedef struct ev_key {
	uint32_t rank, probe, id;
	bool     folded;
} ev_key;

static int
cmp_ev_key(const void *a, const void *b)
{
	const ev_key *x = a, *y = b;
	if (x->folded != y->folded) {
		return x->folded ? 1 : -1;
	}
	if (x->rank != y->rank) {
		return x->rank < y->rank ? -1 : 1;
	}
	return (x->probe > y->probe) - (x->probe < y->probe);
}

static bool
fnd_has_host(eng *e, const fnd *f, uint32_t h)
{
	for (size_t i = 0; i < f->ents.n; i++) {
		if (e->ents[f->ents.v[i]].host == h) {
			return true;
		}
	}
	for (size_t i = 0; i < f->folded.n; i++) {
		if (e->ents[f->folded.v[i]].host == h) {
			return true;
		}
	}
	for (size_t i = 0; i < f->hosts.n; i++) {
		if (f->hosts.v[i] == h) {
			return true;
		}
	}
	return false;
}

// The hosts of f, sorted by name, as heap copies into o.
static void
finding_hosts(eng *e, const fnd *f, Fl__Finding *o)
{
	size_t    n;
	uint32_t *r = ranks_of(e, &f->ents, &f->folded, &f->hosts, &n);
	o->hosts    = calloc(n ? n : 1, sizeof(char *));
	if (r != NULL && o->hosts != NULL) {
		for (size_t i = 0; i < n; i++) {
			o->hosts[o->n_hosts++] = fl_str_dup(host_by_rank(e, e->host_of, r[i]));
		}
	}
	free(r);
}

static void
finding_targets(eng *e, const fnd *f, Fl__Finding *o)
{
	o->targets = calloc(f->targets.n ? f->targets.n : 1, sizeof(char *));
	if (o->targets != NULL) {
		for (size_t i = 0; i < f->targets.n; i++) {
			o->targets[o->n_targets++] = fl_str_dup(e->tgts[f->targets.v[i]].target);
		}
	}
}

// The first CORR_MAX_EVIDENCE entries of f by (root before downstream, host, probe) into keys;
// returns how many. An insertion into a short sorted array, O(n log 40) instead of sorting
// every result.
static size_t
evidence_keys(const eng *e, const fnd *f, ev_key keys[CORR_MAX_EVIDENCE])
{
	size_t shown = 0;
	for (size_t i = 0; i < f->ents.n + f->folded.n; i++) {
		bool     fold = i >= f->ents.n;
		uint32_t id   = fold ? f->folded.v[i - f->ents.n] : f->ents.v[i];
		ev_key   k    = { e->rank[e->ents[id].host], e->ents[id].probe, id, fold };
		if (shown == CORR_MAX_EVIDENCE && cmp_ev_key(&k, &keys[shown - 1]) >= 0) {
			continue;
		}
		size_t lo = 0, hi = shown;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (cmp_ev_key(&keys[mid], &k) <= 0) {
				lo = mid + 1;
			} else {
				hi = mid;
			}
		}
		size_t move = (shown == CORR_MAX_EVIDENCE ? shown - 1 : shown) - lo;
		memmove(&keys[lo + 1], &keys[lo], move * sizeof(*keys));
		keys[lo] = k;
		if (shown < CORR_MAX_EVIDENCE) {
			shown++;
		}
	}
	return shown;
}

// The evidence of f: its notes, then its first entries, then how many more there are.
static void
finding_evidence(eng *e, const fnd *f, Fl__Finding *o)
{
	ev_key keys[CORR_MAX_EVIDENCE];
	size_t n_ev  = f->ents.n + f->folded.n;
	size_t notes = f->n_notes < CORR_MAX_EVIDENCE ? f->n_notes : CORR_MAX_EVIDENCE;
	o->evidence  = calloc(CORR_MAX_EVIDENCE + notes + 2, sizeof(char *));
	if (o->evidence == NULL) {
		e->oom = true;
		return;
	}
	size_t shown = evidence_keys(e, f, keys);
	for (size_t i = 0; i < notes; i++) {
		o->evidence[o->n_evidence++] = fl_str_dup(f->notes[i]);
	}
	for (size_t i = 0; i < shown; i++) {
		o->evidence[o->n_evidence++] = evidence_line(e, keys[i].id, keys[i].folded);
	}
	if (n_ev > shown) {
		o->evidence[o->n_evidence++] = words_more_results(e, n_ev - shown);
	}
	for (size_t i = 0; i < o->n_evidence; i++) {
		if (o->evidence[i] == NULL) {
			e->oom = true;
		}
	}
}

static Fl__Finding *
finding_out(eng *e, const fnd *f)
{
	Fl__Finding *o = malloc(sizeof(*o));
	if (o == NULL) {
		e->oom = true;
		return NULL;
	}
	fl__finding__init(o);
	o->summary  = words_finding_summary(e, f);
	o->release  = fl_str_dup(f->release);
	o->verdict  = f->verdict;
	o->since_us = fnd_since(e, f);
	finding_hosts(e, f, o);
	finding_targets(e, f, o);
	finding_evidence(e, f, o);
	if (o->summary == NULL || o->release == NULL) {
		e->oom = true;
	}
	return o;
}

typedef struct rank_key {
	int         tier;
	bool        degraded;
	size_t      hosts;
	int64_t     since;
	uint32_t    idx;
	const char *summary;
} rank_key;

static int
cmp_rank_key(const void *a, const void *b)
{
	const rank_key *x = a, *y = b;
	if (x->tier != y->tier) {
		return x->tier < y->tier ? -1 : 1;
	}
	if (x->degraded != y->degraded) {
		return x->degraded ? 1 : -1; // what fails before what is only slow
	}
	if (x->hosts != y->hosts) {
		return x->hosts > y->hosts ? -1 : 1; // wider blast radius first
	}
	if (x->since != y->since) {
		if (x->since == 0 || y->since == 0) {
			return x->since == 0 ? 1 : -1;
		}
		return x->since < y->since ? -1 : 1; // the older fault is more likely the cause
	}
	return strcmp(fl_str_or_empty(x->summary), fl_str_or_empty(y->summary));
}

static void
reply_set(Fl__DiagnoseReply *r, Fl__Verdict v, char *summary, int64_t since)
{
	r->verdict  = v;
	r->summary  = summary;
	r->since_us = since;
}

static Fl__DiagnoseReply *
reply_new(void)
{
	Fl__DiagnoseReply *r = malloc(sizeof(*r));
	if (r == NULL) {
		return NULL;
	}
	fl__diagnose_reply__init(r);
	r->summary = NULL; // owned strings only: corr_reply_free frees every field
	return r;
}

static void
eng_fini(eng *e)
{
	for (size_t i = 0; i < e->nf; i++) {
		fnd_fini(&e->f[i]);
	}
	free(e->f);
	free(e->ents);
	free(e->tgts);
	free(e->order);
	free(e->tstart);
	free(e->rank);
	free(e->root);
	free(e->mark);
}

void
corr_params_default(corr_params *p)
{
	p->fail_threshold = 2;
	p->slow_factor    = 3.0;
	p->slow_rounds    = 3;
}

// The index of view->only_host among the hosts: -1 when no host is asked for, -2 when the one
// asked for never reported.
static int32_t
only_host_index(const corr_view *view)
{
	if (view->only_host == NULL || view->only_host[0] == '\0') {
		return -1;
	}
	int32_t only = -2;
	for (size_t h = 0; h < view->n_hosts; h++) {
		if (streq(view->hosts[h].host, view->only_host)) {
			only = (int32_t) h;
		}
	}
	return only;
}

static int64_t
last_report(const corr_view *view)
{
	int64_t last = 0;
	for (size_t h = 0; h < view->n_hosts; h++) {
		if (view->hosts[h].last_seen_us > last) {
			last = view->hosts[h].last_seen_us;
		}
	}
	return last;
}

// Steps 3 to 5: root causes first (databases, DNS, shared targets), then apps, then silent
// hosts; then the DNS evidence of every finding.
static void
judge_all(eng *e)
{
	for (int pass = 0; pass < 2 && !e->oom; pass++) {
		for (uint32_t t = 0; t < e->n_tgts && !e->oom; t++) {
			group_ctx gc  = { .t = t, .g = &e->tgts[t], .host_of = e->host_of };
			bool      app = is_app(gc.g->kind);
			if ((pass == 0) == app) {
				continue;
			}
			gc.n_hosts = group_hosts(e, t);
			snprintf(gc.label, sizeof(gc.label), app ? "(%s %s)" : "%s %s",
			    fl_kind_name(gc.g->kind), gc.g->target);
			if (app) {
				judge_app(e, &gc);
			} else {
				judge_db_like(e, &gc);
			}
		}
	}
	judge_stale(e);
	for (size_t i = 0; i < e->nf && !e->oom; i++) {
		dns_notes(e, i);
	}
}

// The findings (those about host only, when only >= 0), most important first, into reply; the
// top one's verdict and summary become the reply's, else the fleet is healthy.
static void
reply_findings(eng *e, Fl__DiagnoseReply *reply, int32_t only)
{
	rank_key *keys = malloc((e->nf ? e->nf : 1) * sizeof(*keys));
	size_t    k    = 0;
	if (keys == NULL) {
		e->oom = true;
		return;
	}
	for (size_t i = 0; i < e->nf; i++) {
		if (only >= 0 && !fnd_has_host(e, &e->f[i], (uint32_t) only)) {
			continue;
		}
		size_t    n;
		uint32_t *r = ranks_of(e, &e->f[i].ents, &e->f[i].folded, &e->f[i].hosts, &n);
		free(r);
		keys[k++] = (rank_key) { verdict_tier(e->f[i].verdict), e->f[i].degraded, n,
			fnd_since(e, &e->f[i]), (uint32_t) i, e->f[i].summary };
	}
	qsort(keys, k, sizeof(*keys), cmp_rank_key);
	reply->findings = calloc(k ? k : 1, sizeof(*reply->findings));
	if (reply->findings == NULL) {
		e->oom = true;
		free(keys);
		return;
	}
	for (size_t i = 0; i < k && !e->oom; i++) {
		Fl__Finding *o = finding_out(e, &e->f[keys[i].idx]);
		if (o != NULL) {
			reply->findings[reply->n_findings++] = o;
		}
	}
	if (k == 0) {
		reply_set(reply, FL__VERDICT__VERDICT_HEALTHY,
		    words_healthy(e, only >= 0 ? e->view->only_host : NULL), 0);
	} else if (reply->n_findings > 0) {
		Fl__Finding *top = reply->findings[0];
		reply_set(reply, top->verdict, fl_str_dup(top->summary), top->since_us);
	}
	free(keys);
}

// Host rank -> host index, the inverse of e->rank.
static uint32_t *
index_hosts(eng *e)
{
	uint32_t *host_of = malloc((e->view->n_hosts ? e->view->n_hosts : 1) * sizeof(*host_of));
	if (host_of == NULL) {
		e->oom = true;
		return NULL;
	}
	for (size_t h = 0; h < e->view->n_hosts; h++) {
		host_of[e->rank[h]] = (uint32_t) h;
	}
	e->host_of = host_of;
	return host_of;
}

Fl__DiagnoseReply *
corr_diagnose(const corr_view *view)
{
	eng                e       = { .view = view };
	Fl__DiagnoseReply *reply   = reply_new();
	uint32_t          *host_of = NULL;
	int32_t            only    = only_host_index(view);
	if (reply == NULL) {
		return NULL;
	}
	e.threshold = view->params.fail_threshold ? view->params.fail_threshold : 1;
	if (view->n_hosts == 0) {
		reply_set(reply, FL__VERDICT__VERDICT_UNKNOWN, words_no_data(&e), 0);
	} else if (only == -2) {
		reply_set(reply, FL__VERDICT__VERDICT_UNKNOWN,
		    words_unknown_host(&e, view->only_host), 0);
	} else if (build_entries(&e) && (host_of = index_hosts(&e)) != NULL) {
		if (e.n_live == 0) {
			int64_t last = last_report(view);
			reply_set(
			    reply, FL__VERDICT__VERDICT_UNKNOWN, words_all_silent(&e, last), last);
		} else {
			judge_all(&e);
			if (!e.oom) {
				reply_findings(&e, reply, only);
			}
		}
	}
	free(host_of);
	eng_fini(&e);
	if (e.oom || reply->summary == NULL) {
		corr_reply_free(reply);
		return NULL;
	}
	return reply;
}

void
corr_reply_free(Fl__DiagnoseReply *r)
{
	if (r == NULL) {
		return;
	}
	for (size_t i = 0; i < r->n_findings; i++) {
		Fl__Finding *f = r->findings[i];
		free(f->summary);
		free(f->release);
		for (size_t j = 0; j < f->n_hosts; j++) {
			free(f->hosts[j]);
		}
		free(f->hosts);
		for (size_t j = 0; j < f->n_targets; j++) {
			free(f->targets[j]);
		}
		free(f->targets);
		for (size_t j = 0; j < f->n_evidence; j++) {
			free(f->evidence[j]);
		}
		free(f->evidence);
		free(f);
	}
	free(r->findings);
	free(r->summary);
	free(r);
}
