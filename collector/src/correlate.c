// correlate.c - the correlation engine: code, database or network?
//
// The rules and their reasoning are in docs/correlation.md; this file follows its order:
//
//   1. classify every (host, probe) once: ok, pending (failed fewer rounds than the threshold),
//      degraded (warn/slow) or failing, and map its failure class to a category (class_cats[]);
//   2. group the entries by target (kind + target string) with a hash table and a counting sort,
//      so every rule looks at one target's entries across hosts: O(hosts x probes);
//   3. judge database and DNS targets first (root causes) and remember, per host, which finding
//      explains that host's database trouble;
//   4. judge app (http/tcp) targets; failures on a host that already has a root finding are folded
//      into it as downstream evidence, the rest are compared across releases;
//   5. stale hosts; then rank, filter by only_host and build the reply.
//
// Pure: no I/O, no clock, no globals. Strings in the reply are heap copies.

#include "correlate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl/names.h"
#include "fl/time.h"
#include "fl/unmet.h"

#define CORR_MAX_EVIDENCE         40      // evidence lines per finding before "... and N more"
#define CORR_MAX_NAMED            3       // host names spelled out in a summary
#define CORR_MAX_RELEASES         8       // distinct releases tracked per comparison
#define CORR_MAX_UNMET            16      // distinct unmet requirements tracked per finding
#define CORR_SLOW_FLOOR_US        50000   // baseline rule: also at least 50 ms above normal
#define CORR_RELEASE_SLACK_MIN_US 5000000 // a release change this close before a streak caused it
#define CORR_DNS_RECENT_US        (3600LL * 1000000) // a name's answer changed this recently: news
#define CORR_DNS_NAMES            4 // names looked at per finding for moves and split answers
#define CORR_DNS_SETS             4 // distinct answers to one name spelled out

// What kind of fact a failure class is, for the rules. Table-driven so a new class is one row.
enum cat {
	CAT_OTHER = 0, // the peer answered, but wrongly (5xx, body, query error, TLS, protocol)
	CAT_REFUSED,   // nothing listens (or a firewall rejects)
	CAT_REACH,     // no answer / no route / reset: the path or the machine
	CAT_DNS,       // the name did not resolve
	CAT_AUTH,      // the server rejected the login
	CAT_CAPACITY,  // the server is full, starting or stopping
	CAT_DBMISSING, // the database itself does not exist
	CAT_SCHEMA,    // a required privilege or object is missing (expectations)
	CAT_SLOW,      // right answer, too slow: degraded, not failing
	CAT_EXPECT,    // the release's expectations file is malformed: code
	CAT_AGENT,     // the probe could not run at all: the agent's host
	CAT_READONLY,  // the database refuses the writes the release needs
	CAT_STATE,     // warn: the target answers, but a measured state is past its threshold
};

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

enum st {
	ST_SKIP = 0, // status unknown, or the host is stale: counted among the target's hosts only
	ST_OK,
	ST_PENDING,  // failed, but fewer consecutive rounds than the threshold
	ST_DEGRADED, // warn / slow
	ST_FAILING,
	ST_WARNING, // warn with a state class (saturated, replication lag, certificate expiring):
	            // the target works, but a measured state needs attention
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

typedef struct ent {
	uint32_t host;   // index into view->hosts
	uint32_t probe;  // index into that host's probes
	uint32_t target; // target group id
	uint8_t  st;     // enum st
	uint8_t  cat;    // enum cat (meaningful when failing)
	bool     spell;  // slow for a while: slow_rounds in a row, or the median recent round slow
	bool     shaky;  // spell, or in a spell of trouble that has not ended (hysteresis)
	bool     clean;  // ok now and lately (under 30 % bad recent rounds): a normal path
} ent;

typedef struct tgt {
	Fl__ProbeKind kind;
	const char   *target;  // the first entry's target, for names
	const char   *key;     // what groups entries: the target, or the probe name (by_name)
	bool          by_name; // a loopback app: each host's own instance of the app probe `key`
	uint32_t      first;   // an entry of this group, for names
} tgt;

typedef struct vec {
	uint32_t *v;
	size_t    n, cap;
} vec;

typedef struct fnd {
	Fl__Verdict verdict;
	char       *summary; // owned
	const char *release; // borrowed from the view, or NULL
	vec         ents;    // root evidence entries
	vec         folded;  // downstream entries (app failures explained by this finding)
	vec         hosts;   // extra host indices (stale hosts)
	vec         targets; // target ids
	char      **notes;   // extra evidence lines, owned
	size_t      n_notes;
	int64_t     since; // explicit since (stale hosts); else computed from entries
	size_t      n_hosts_cache;
	bool        degraded; // about slowness, nothing failing: ranks after failures
} fnd;

typedef struct eng {
	const corr_view *view;
	uint32_t         threshold;
	ent             *ents;
	size_t           n_ents;
	tgt             *tgts;
	size_t           n_tgts, cap_tgts;
	uint32_t        *order;   // entry ids grouped by target
	uint32_t        *tstart;  // n_tgts + 1 offsets into order
	uint32_t        *rank;    // host index -> rank by name
	int32_t         *root;    // host index -> finding that explains its database trouble, or -1
	const uint32_t  *host_of; // host rank -> host index
	uint32_t        *mark; // host rank -> epoch it was last marked in (dedup without sorting)
	uint32_t         epoch;
	fnd             *f;
	size_t           nf, capf;
	size_t           n_live; // hosts not stale
	bool             oom;
} eng;

// ---- small helpers ------------------------------------------------------------------------

static bool
vec_push(eng *e, vec *v, uint32_t x)
{
	if (v->n == v->cap) {
		size_t    cap = v->cap ? v->cap * 2 : 8;
		uint32_t *nv  = realloc(v->v, cap * sizeof(*nv));
		if (nv == NULL) {
			e->oom = true;
			return false;
		}
		v->v   = nv;
		v->cap = cap;
	}
	v->v[v->n++] = x;
	return true;
}

__attribute__((format(printf, 2, 3))) static char *
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

static char *
xstrdup(const char *s)
{
	return strdup(s != NULL ? s : "");
}

static const char *
nz(const char *s)
{
	return s != NULL ? s : "";
}

static bool
streq(const char *a, const char *b)
{
	return strcmp(nz(a), nz(b)) == 0;
}

// "14:02:03" (UTC) from a collector time; "?" when unknown.
static const char *
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
static const char *
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

static const corr_host *
ent_host(const eng *e, uint32_t id)
{
	return &e->view->hosts[e->ents[id].host];
}

static const corr_probe *
ent_probe(const eng *e, uint32_t id)
{
	const ent *x = &e->ents[id];
	return &e->view->hosts[x->host].probes[x->probe];
}

static const Fl__ProbeResult *
ent_res(const eng *e, uint32_t id)
{
	return ent_probe(e, id)->last;
}

static bool
is_db(Fl__ProbeKind k)
{
	return k == FL__PROBE_KIND__KIND_POSTGRES || k == FL__PROBE_KIND__KIND_MYSQL;
}

static bool
is_app(Fl__ProbeKind k)
{
	return k == FL__PROBE_KIND__KIND_HTTP || k == FL__PROBE_KIND__KIND_TCP;
}

// An app target on loopback is each host's own instance, not one shared server: the same URL on
// two hosts names two different processes, so cross-host "network path" reasoning does not apply.
static bool
is_loopback_target(const char *t)
{
	const char *p = strstr(t, "://");
	p             = p != NULL ? p + 3 : t;
	return strncmp(p, "127.", 4) == 0 || strncmp(p, "localhost", 9) == 0 ||
	    strncmp(p, "[::1]", 5) == 0 || strncmp(p, "::1", 3) == 0;
}

static enum cat
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

void
corr_window_push(corr_window *w, uint32_t dur_us, bool slow, bool failed)
{
	w->dur_us[w->next] = dur_us;
	w->next            = (uint8_t) ((w->next + 1) % CORR_WINDOW);
	if (w->n < CORR_WINDOW) {
		w->n++;
	}
	// Shift registers: bit 0 is the latest round, the oldest falls off the top.
	w->slow   = (w->slow << 1) | (slow ? 1u : 0u);
	w->failed = (w->failed << 1) | (failed ? 1u : 0u);
	if (w->rounds < CORR_HISTORY) {
		w->rounds++;
	}
}

static int
cmp_u32_asc(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
	return (x > y) - (x < y);
}

uint32_t
corr_window_percentile(const corr_window *w, unsigned pct)
{
	uint32_t v[CORR_WINDOW];
	if (w == NULL || w->n == 0) {
		return 0;
	}
	// The ring holds the n most recent rounds; which slots does not matter for a percentile.
	unsigned n = w->n;
	for (unsigned i = 0; i < n; i++) {
		v[i] = w->dur_us[(w->next + CORR_WINDOW - 1 - i) % CORR_WINDOW];
	}
	qsort(v, n, sizeof(*v), cmp_u32_asc);
	pct          = pct == 0 ? 1 : (pct > 100 ? 100 : pct);
	unsigned idx = (pct * n + 99) / 100; // nearest rank: ceil(pct/100 * n)
	return v[idx > 0 ? idx - 1 : 0];
}

static unsigned
popcount64(uint64_t x)
{
	unsigned c = 0;
	for (; x != 0; x &= x - 1) {
		c++;
	}
	return c;
}

// The bits of the (up to) CORR_WINDOW rounds that ended `ago` rounds before the latest; *m is
// how many rounds that window holds (fewer at first, or near the end of the history).
static uint64_t
window_bits_at(const corr_window *w, unsigned ago, unsigned *m)
{
	unsigned held = w->rounds > ago ? w->rounds - ago : 0;
	*m            = held < CORR_WINDOW ? held : CORR_WINDOW;
	return ago < CORR_HISTORY ? (((uint64_t) 1 << *m) - 1) << ago : 0;
}

unsigned
corr_window_slow(const corr_window *w)
{
	unsigned m;
	return w != NULL ? popcount64(w->slow & window_bits_at(w, 0, &m)) : 0;
}

unsigned
corr_window_failed(const corr_window *w)
{
	unsigned m;
	return w != NULL ? popcount64(w->failed & window_bits_at(w, 0, &m)) : 0;
}

// Trouble that comes and goes, in the window that ended `ago` rounds before the latest: at
// least two failed rounds and three bad (failed or slow) ones, or at least 30 % (and four) bad
// ones of any kind, or most rounds slow (the median round slow). Entering a spell of trouble.
static bool
window_troubled_at(const corr_params *prm, const corr_window *w, unsigned ago)
{
	unsigned m;
	uint64_t bits = window_bits_at(w, ago, &m);
	unsigned f = popcount64(w->failed & bits), s = popcount64(w->slow & bits), bad = f + s;
	uint32_t need = prm->slow_rounds ? prm->slow_rounds : 1;
	return (f >= 2 && bad >= 3) || (bad >= 4 && bad * 10 >= m * 3) || (m >= need && 2 * s > m);
}

// Clean again, in the window that ended `ago` rounds before the latest: at most one bad round
// of CORR_WINDOW. Leaving a spell of trouble.
static bool
window_clean_at(const corr_window *w, unsigned ago)
{
	unsigned m;
	uint64_t bits = window_bits_at(w, ago, &m);
	return popcount64((w->slow | w->failed) & bits) <= 1;
}

// Hysteresis over the bit history: the path entered a spell of trouble in some recent window
// and has not been clean in any window since (two thresholds: enter at ~30 % bad rounds, leave
// at <= 1 bad of CORR_WINDOW), and a round of the current window failed. A path losing 10 % of
// its packets has some 20-40 % bad rounds, around any single threshold, so one threshold made
// it flap between suspect and fine; it also times out now and then (two lost SYNs), which a
// busy machine's slow rounds do not: a busy host that once had a troubled window is not held
// on its spikes. A pure function of the window: the engine keeps no state between diagnoses.
static bool
window_in_trouble(const corr_params *prm, const corr_window *w)
{
	if (w != NULL && window_troubled_at(prm, w, 0)) {
		return true;
	}
	if (w == NULL || corr_window_failed(w) == 0) {
		return false;
	}
	for (unsigned ago = 0; ago < w->rounds; ago++) {
		if (window_troubled_at(prm, w, ago)) {
			return true;
		}
		if (window_clean_at(w, ago)) {
			return false;
		}
	}
	return false;
}

// Slow for a while: slow_rounds rounds in a row (a quick onset), or the median of the recent
// rounds slow (so one fast round in a slow spell does not end it: hysteresis).
static bool
probe_spell(const corr_params *prm, const corr_probe *p)
{
	uint32_t need = prm->slow_rounds ? prm->slow_rounds : 1;
	if (p->consecutive_slow >= need) {
		return true;
	}
	const corr_window *w = p->recent;
	return w != NULL && w->n >= need && 2 * corr_window_slow(w) > w->n;
}

// A suspect path: a slow spell, or in a spell of trouble that comes and goes (packet loss)
// that has not ended (window_in_trouble()). Only a suspicion: a path finding also needs other
// hosts clearly better (select_slow_paths()).
static bool
probe_shaky(const corr_params *prm, const corr_probe *p)
{
	return probe_spell(prm, p) || window_in_trouble(prm, p->recent);
}

// Fine lately: what a "normal" path is compared with. Not shaky (so not in a spell of trouble
// that has not ended) and under 30 % bad (slow or failed) recent rounds: hosts that have just
// come out of an outage or a spell every host shared are all still shaky, and none of them is
// evidence that the target is fine from elsewhere (comparing them with each other would name a
// path for a fault they shared), while a busy host's odd slow round does not disqualify it.
// Without a window only the latest round is known: it must be ok.
static bool
probe_clean(const corr_params *prm, const corr_probe *p, enum st st)
{
	const corr_window *w = p->recent;
	if (w == NULL || w->n == 0) {
		return st == ST_OK;
	}
	unsigned bad = corr_window_slow(w) + corr_window_failed(w);
	return (st == ST_OK || st == ST_DEGRADED) && !probe_shaky(prm, p) && bad * 10 < w->n * 3u;
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
	uint64_t h = 1469598103934665603ULL ^ (uint64_t) k;
	for (; *s; s++) {
		h = (h ^ (unsigned char) *s) * 1099511628211ULL;
	}
	return h;
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

static bool
build_entries(eng *e)
{
	const corr_view *v     = e->view;
	size_t           total = 0;
	for (size_t h = 0; h < v->n_hosts; h++) {
		total += v->hosts[h].n_probes;
		e->n_live += !v->hosts[h].stale;
	}
	e->ents     = calloc(total ? total : 1, sizeof(*e->ents));
	e->cap_tgts = 64;
	e->tgts     = calloc(e->cap_tgts, sizeof(*e->tgts));
	size_t cap  = 16;
	while (cap < total * 2) {
		cap *= 2;
	}
	uint32_t *slots = calloc(cap, sizeof(*slots)); // target id + 1; 0 = empty
	e->rank         = calloc(v->n_hosts ? v->n_hosts : 1, sizeof(*e->rank));
	e->root         = calloc(v->n_hosts ? v->n_hosts : 1, sizeof(*e->root));
	e->mark         = calloc(v->n_hosts ? v->n_hosts : 1, sizeof(*e->mark));
	name_key *names = calloc(v->n_hosts ? v->n_hosts : 1, sizeof(*names));
	if (e->ents == NULL || e->tgts == NULL || slots == NULL || e->rank == NULL ||
	    e->root == NULL || e->mark == NULL || names == NULL) {
		free(slots);
		free(names);
		e->oom = true;
		return false;
	}

	// Host ranks by name: findings list hosts sorted, evidence is sorted by host.
	for (size_t h = 0; h < v->n_hosts; h++) {
		names[h].name = nz(v->hosts[h].host);
		names[h].idx  = (uint32_t) h;
		e->root[h]    = -1;
	}
	qsort(names, v->n_hosts, sizeof(*names), cmp_name_key);
	for (size_t i = 0; i < v->n_hosts; i++) {
		e->rank[names[i].idx] = (uint32_t) i;
	}
	free(names);

	for (size_t h = 0; h < v->n_hosts; h++) {
		const corr_host *host = &v->hosts[h];
		for (size_t p = 0; p < host->n_probes; p++) {
			const corr_probe *pr  = &host->probes[p];
			enum cat          cat = CAT_OTHER;
			if (pr->last == NULL) {
				continue;
			}
			// A stale host's (old) result is not judged, but the host still probes
			// that target: "all N hosts" must count it.
			enum st       st   = host->stale ? ST_SKIP : classify(e, pr, &cat);
			const char   *t    = nz(pr->last->target);
			Fl__ProbeKind kind = pr->last->kind;
			// Each host's own app instance (a loopback URL, maybe on a port of its own)
			// is the same app when the probe has the same name: compared across hosts.
			bool        by_name = is_app(kind) && is_loopback_target(t);
			const char *key     = by_name ? nz(pr->last->name) : t;
			size_t      mask    = cap - 1;
			size_t s = (size_t) hash_target(kind, key) ^ (by_name ? 0x9e3779b9u : 0u);
			s &= mask;
			uint32_t id = (uint32_t) e->n_ents;
			while (slots[s] != 0) {
				tgt *g = &e->tgts[slots[s] - 1];
				if (g->kind == kind && g->by_name == by_name &&
				    strcmp(g->key, key) == 0) {
					break;
				}
				s = (s + 1) & mask;
			}
			if (slots[s] == 0 && e->n_tgts == e->cap_tgts) {
				tgt *nt = realloc(e->tgts, e->cap_tgts * 2 * sizeof(*nt));
				if (nt == NULL) {
					free(slots);
					e->oom = true;
					return false;
				}
				e->tgts = nt;
				e->cap_tgts *= 2;
			}
			if (slots[s] == 0) {
				e->tgts[e->n_tgts] = (tgt) { .kind = kind,
					.target                    = t,
					.key                       = key,
					.by_name                   = by_name,
					.first                     = id };
				slots[s]           = (uint32_t) ++e->n_tgts;
			}
			e->ents[e->n_ents++] = (ent) { .host = (uint32_t) h,
				.probe                       = (uint32_t) p,
				.target                      = slots[s] - 1,
				.st                          = (uint8_t) st,
				.cat                         = (uint8_t) cat,
				.spell                       = st != ST_SKIP && st != ST_FAILING &&
				    probe_spell(&v->params, pr),
				.shaky = st != ST_SKIP && st != ST_FAILING &&
				    probe_shaky(&v->params, pr),
				.clean = st != ST_SKIP && probe_clean(&v->params, pr, st) };
		}
	}
	free(slots);

	// Counting sort by target: each group's entries are contiguous, in host order.
	e->order  = calloc(e->n_ents ? e->n_ents : 1, sizeof(*e->order));
	e->tstart = calloc(e->n_tgts + 1, sizeof(*e->tstart));
	if (e->order == NULL || e->tstart == NULL) {
		e->oom = true;
		return false;
	}
	for (size_t i = 0; i < e->n_ents; i++) {
		e->tstart[e->ents[i].target + 1]++;
	}
	for (size_t t = 0; t < e->n_tgts; t++) {
		e->tstart[t + 1] += e->tstart[t];
	}
	uint32_t *fill = calloc(e->n_tgts ? e->n_tgts : 1, sizeof(*fill));
	if (fill == NULL) {
		e->oom = true;
		return false;
	}
	for (size_t i = 0; i < e->n_ents; i++) {
		uint32_t t                         = e->ents[i].target;
		e->order[e->tstart[t] + fill[t]++] = (uint32_t) i;
	}
	free(fill);
	return true;
}

// ---- findings -----------------------------------------------------------------------------

static fnd *
fnd_new(eng *e, Fl__Verdict verdict, uint32_t target)
{
	if (e->nf == e->capf) {
		size_t cap = e->capf ? e->capf * 2 : 16;
		fnd   *nf  = realloc(e->f, cap * sizeof(*nf));
		if (nf == NULL) {
			e->oom = true;
			return NULL;
		}
		e->f    = nf;
		e->capf = cap;
	}
	fnd *f = &e->f[e->nf++];
	memset(f, 0, sizeof(*f));
	f->verdict = verdict;
	if (target != UINT32_MAX) {
		vec_push(e, &f->targets, target);
	}
	return f;
}

static void
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

static int64_t
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
static uint32_t *
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

static const char *
host_by_rank(const eng *e, const uint32_t *host_of, uint32_t rank)
{
	return nz(e->view->hosts[host_of[rank]].host);
}

// "app2", "app1, app2, app3", "app1, app2, app3 +4 more".
static char *
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
static char *
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
		out         = xprintf(e, "%zu of %zu hosts (%s)", n, total, nz(names));
		free(names);
	}
	free(r);
	return out;
}

// Distinct hosts that probe target t, whatever their state (ok, pending, degraded, failing,
// unknown, silent): summaries say "all N hosts" only when N is all of them, else "N of M".
static size_t
group_hosts(eng *e, uint32_t t)
{
	size_t n = 0;
	next_epoch(e);
	for (uint32_t i = e->tstart[t]; i < e->tstart[t + 1]; i++) {
		const ent *x = &e->ents[e->order[i]];
		if (mark_rank(e, e->rank[x->host])) {
			n++;
		}
	}
	return n;
}

static const char *
class_name(const eng *e, uint32_t id)
{
	return fl_failure_name(ent_res(e, id)->failure);
}

// Distinct releases of the hosts of v (up to CORR_MAX_RELEASES); returns the count, or
// CORR_MAX_RELEASES + 1 when there are more.
static size_t
releases_of(const eng *e, const vec *v, const char **rel)
{
	size_t n = 0;
	for (size_t i = 0; i < v->n; i++) {
		const char *r = nz(ent_host(e, v->v[i])->release);
		size_t      j = 0;
		while (j < n && strcmp(rel[j], r) != 0) {
			j++;
		}
		if (j == n) {
			if (n == CORR_MAX_RELEASES) {
				return CORR_MAX_RELEASES + 1;
			}
			rel[n++] = r;
		}
	}
	return n;
}

static bool
releases_disjoint(const char **a, size_t na, const char **b, size_t nb)
{
	if (na > CORR_MAX_RELEASES || nb > CORR_MAX_RELEASES) {
		return false;
	}
	for (size_t i = 0; i < na; i++) {
		for (size_t j = 0; j < nb; j++) {
			if (strcmp(a[i], b[j]) == 0) {
				return false;
			}
		}
	}
	return true;
}

static char *
releases_text(eng *e, const char **rel, size_t n)
{
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

// ---- unmet requirements -------------------------------------------------------------------

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
		fnd_note(e, f, xprintf(e, "unmet: %s", nz(t)));
		free(t);
	}
	if (total == 0) {
		const Fl__ProbeResult *r = ent_res(e, v->v[0]);
		return xprintf(e, "%s (%s)", fl_failure_name(r->failure),
		    r->detail && r->detail[0] ? r->detail : "no detail");
	}
	char *first = unmet_text(e, items[0], as_database);
	char *out   = total > 1 ? xprintf(e, "%s (+%zu more)", nz(first), total - 1)
	                        : xprintf(e, "%s", nz(first));
	free(first);
	return out;
}

// ---- rules: database and DNS targets --------------------------------------------------------

typedef struct group_ctx {
	uint32_t        t;
	const tgt      *g;
	const uint32_t *host_of;
	size_t          n_hosts; // hosts considered for this target
	char            label[512];
} group_ctx;

static void
finish(eng *e, size_t fi, char *summary, const vec *ents, const char *release)
{
	if (e->oom || fi >= e->nf) {
		free(summary);
		return;
	}
	fnd *f     = &e->f[fi];
	f->summary = summary;
	f->release = release;
	for (size_t i = 0; ents != NULL && i < ents->n; i++) {
		vec_push(e, &f->ents, ents->v[i]);
	}
}

// ---- names whose answer changed ------------------------------------------------------------

const char *
corr_addresses_text(const Fl__ProbeResult *r, char *buf, size_t len)
{
	size_t off = 0;
	buf[0]     = '\0';
	for (size_t i = 0; i < r->n_addresses && off < len; i++) {
		int w = snprintf(buf + off, len - off, "%s%s", i ? ", " : "", nz(r->addresses[i]));
		off += w > 0 ? (size_t) w : 0;
	}
	return buf;
}

static bool
has_answer(const Fl__ProbeResult *r)
{
	return r->resolved_name != NULL && r->resolved_name[0] != '\0' && r->n_addresses > 0;
}

static bool
same_answer(const Fl__ProbeResult *a, const Fl__ProbeResult *b)
{
	if (a->n_addresses != b->n_addresses) {
		return false;
	}
	for (size_t i = 0; i < a->n_addresses; i++) {
		if (strcmp(nz(a->addresses[i]), nz(b->addresses[i])) != 0) {
			return false;
		}
	}
	return true;
}

// The entry's name changed its answer within CORR_DNS_RECENT_US.
static bool
ent_moved(const eng *e, uint32_t id)
{
	const corr_probe *p = ent_probe(e, id);
	return has_answer(p->last) && p->addrs_prev != NULL && p->addrs_changed_us > 0 &&
	    e->view->now_us - p->addrs_changed_us <= CORR_DNS_RECENT_US;
}

// When every entry of v moved to the same answer when its failure began (within max(5 s, 3
// intervals): the two are one round apart at most), that move explains the failure; a move
// long before is only evidence.
static bool
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

// "DNS: db.internal moved from 10.0.0.5 to 10.0.0.9 at 02:13:05 on app1 only (split DNS: app2,
// app3 still get 10.0.0.5)"; NULL when the failing entries did not move together.
static char *
moved_phrase(eng *e, group_ctx *gc, const vec *bad, const vec *others)
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
		split = xprintf(e, " (split DNS: %s still get%s %s)", nz(names), n == 1 ? "s" : "",
		    p->addrs_prev);
		free(names);
		free(rk);
	}
	char *out = xprintf(e, "DNS: %s moved from %s to %s at %s on %s%s", nz(r->resolved_name),
	    p->addrs_prev, corr_addresses_text(r, now, sizeof(now)),
	    hhmmss(p->addrs_changed_us, tb), nz(hp), split != NULL ? split : "");
	free(hp);
	free(split);
	free(old.v);
	return out;
}

// Evidence for a finding: each name among its entries whose answer changed recently ("moved
// from ... to ... at ..."), and each name its hosts do not agree on (split DNS), looked at
// across every host that resolves it.
static void
dns_notes(eng *e, size_t fi)
{
	const char *names[CORR_DNS_NAMES];
	size_t      nn = 0;
	char        tb[32], a[256];
	fnd        *f = &e->f[fi];
	for (size_t k = 0; k < f->ents.n + f->folded.n && nn < CORR_DNS_NAMES; k++) {
		uint32_t id = k < f->ents.n ? f->ents.v[k] : f->folded.v[k - f->ents.n];
		const Fl__ProbeResult *r = ent_res(e, id);
		size_t                 j = 0;
		while (has_answer(r) && j < nn && strcmp(names[j], r->resolved_name) != 0) {
			j++;
		}
		if (has_answer(r) && j == nn) {
			names[nn++] = r->resolved_name;
		}
	}
	for (size_t j = 0; j < nn && !e->oom; j++) {
		// Moves, one line per host (bounded by the finding's evidence cap).
		size_t moves = 0;
		for (size_t k = 0; k < f->ents.n + f->folded.n && moves < CORR_MAX_NAMED; k++) {
			uint32_t id = k < f->ents.n ? f->ents.v[k] : f->folded.v[k - f->ents.n];
			const corr_probe *p = ent_probe(e, id);
			if (ent_moved(e, id) && strcmp(p->last->resolved_name, names[j]) == 0) {
				fnd_note(e, f,
				    xprintf(e,
				        "%s moved from %s to %s at %s (seen by %s, probe %s)",
				        names[j], p->addrs_prev,
				        corr_addresses_text(p->last, a, sizeof(a)),
				        hhmmss(p->addrs_changed_us, tb), nz(ent_host(e, id)->host),
				        nz(p->last->name)));
				moves++;
			}
		}
		// Split answers: every live host's latest answer for this name, grouped.
		vec    sets[CORR_DNS_SETS] = { { 0 } };
		size_t ns = 0, more = 0;
		for (size_t id = 0; id < e->n_ents; id++) {
			const Fl__ProbeResult *r = ent_res(e, (uint32_t) id);
			if (e->ents[id].st == ST_SKIP || !has_answer(r) ||
			    strcmp(r->resolved_name, names[j]) != 0) {
				continue;
			}
			size_t k = 0;
			while (k < ns && !same_answer(ent_res(e, sets[k].v[0]), r)) {
				k++;
			}
			if (k == ns && ns == CORR_DNS_SETS) {
				more++;
				continue;
			}
			ns += k == ns;
			vec_push(e, &sets[k], (uint32_t) id);
		}
		if (ns > 1) {
			// The answers in the order of their first host's name, so the line is
			// stable.
			uint32_t first[CORR_DNS_SETS];
			size_t   order[CORR_DNS_SETS];
			for (size_t k = 0; k < ns; k++) {
				first[k] = UINT32_MAX;
				order[k] = k;
				for (size_t i = 0; i < sets[k].n; i++) {
					uint32_t rk = e->rank[e->ents[sets[k].v[i]].host];
					first[k]    = rk < first[k] ? rk : first[k];
				}
			}
			for (size_t k = 1; k < ns; k++) { // insertion sort of at most 4
				for (size_t m = k; m > 0 && first[order[m]] < first[order[m - 1]];
				     m--) {
					size_t t     = order[m];
					order[m]     = order[m - 1];
					order[m - 1] = t;
				}
			}
			char   line[768];
			size_t len = (size_t) snprintf(
			    line, sizeof(line), "split DNS: %s resolves to ", names[j]);
			for (size_t o = 0; o < ns && len < sizeof(line); o++) {
				size_t    k  = order[o], n;
				uint32_t *rk = ranks_of(e, &sets[k], NULL, NULL, &n);
				char     *hosts =
                                    rk != NULL ? names_phrase(e, e->host_of, rk, n) : NULL;
				int w = snprintf(line + len, sizeof(line) - len, "%s%s on %s",
				    o ? "; " : "",
				    corr_addresses_text(ent_res(e, sets[k].v[0]), a, sizeof(a)),
				    nz(hosts));
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
}

// Refused / timeout / unreachable / dns on a database or shared target.
static void
rule_reach(eng *e, group_ctx *gc, const vec *reach, const vec *working, size_t connected, bool db)
{
	char        tb[32];
	Fl__Verdict verdict = FL__VERDICT__VERDICT_NETWORK;
	char       *s       = NULL;
	int64_t     since   = vec_since(e, reach, 0);
	char       *moved   = moved_phrase(e, gc, reach, working);

	if (moved != NULL) {
		// The name now points elsewhere, and from there the target fails: the DNS change.
		s = xprintf(e, "%s; %s fails (%s) there since %s", moved, gc->label,
		    class_name(e, reach->v[0]), hhmmss(since, tb));
		free(moved);
	} else if (gc->g->kind == FL__PROBE_KIND__KIND_DNS) {
		// A name: every host that fails to resolve it, against those that do.
		char *hp      = hosts_phrase(e, gc->host_of, reach, gc->n_hosts);
		char  why[48] = "";
		if (ent_res(e, reach->v[0])->failure != FL__FAILURE_CLASS__FAILURE_DNS) {
			snprintf(why, sizeof(why), " (%s)", class_name(e, reach->v[0]));
		}
		if (connected > 0) {
			s = xprintf(e,
			    "DNS: %s does not resolve%s on %s since %s; %zu other host%s resolve%s "
			    "it: "
			    "resolver or network path of the failing hosts",
			    gc->g->target, why, nz(hp), hhmmss(since, tb), connected,
			    connected > 1 ? "s" : "", connected > 1 ? "" : "s");
		} else {
			s = xprintf(e, "DNS: %s does not resolve%s on %s since %s", gc->g->target,
			    why, nz(hp), hhmmss(since, tb));
		}
		free(hp);
	} else if (connected > 0) {
		// Some hosts reach the target, some do not: the difference is the path.
		size_t    n;
		uint32_t *r = ranks_of(e, reach, NULL, NULL, &n);
		char      paths[512];
		size_t    len = 0;
		paths[0]      = '\0';
		for (size_t i = 0; r != NULL && i < n && i < CORR_MAX_NAMED; i++) {
			int w = snprintf(paths + len, sizeof(paths) - len, "%s%s \u2192 %s",
			    i ? ", " : "", host_by_rank(e, gc->host_of, r[i]), gc->g->target);
			if (w < 0 || (size_t) w >= sizeof(paths) - len) {
				break;
			}
			len += (size_t) w;
		}
		free(r);
		char more[32] = "";
		if (n > CORR_MAX_NAMED) {
			snprintf(more, sizeof(more), " (+%zu more)", n - CORR_MAX_NAMED);
		}
		s = xprintf(e,
		    "network path%s %s%s fail%s (%s) since %s; %zu other host%s reach%s it",
		    n > 1 ? "s" : "", paths, more, n > 1 ? "" : "s", class_name(e, reach->v[0]),
		    hhmmss(since, tb), connected, connected > 1 ? "s" : "",
		    connected > 1 ? "" : "es");
	} else {
		size_t n_refused = 0, n_dns = 0, n_unreach = 0;
		for (size_t i = 0; i < reach->n; i++) {
			Fl__FailureClass fc = ent_res(e, reach->v[i])->failure;
			n_refused += fc == FL__FAILURE_CLASS__FAILURE_REFUSED;
			n_dns += fc == FL__FAILURE_CLASS__FAILURE_DNS;
			n_unreach += fc == FL__FAILURE_CLASS__FAILURE_UNREACHABLE;
		}
		char *hp = hosts_phrase(e, gc->host_of, reach, gc->n_hosts);
		if (n_dns == reach->n) {
			s = xprintf(e, "DNS: the host name of %s does not resolve from %s since %s",
			    gc->label, nz(hp), hhmmss(since, tb));
		} else if (n_unreach == reach->n) {
			s = xprintf(e, "network: no route to %s from %s since %s", gc->label,
			    nz(hp), hhmmss(since, tb));
		} else if (db && n_refused == reach->n) {
			verdict = FL__VERDICT__VERDICT_DATABASE;
			s = xprintf(e, "%s is down: connection refused from %s since %s", gc->label,
			    nz(hp), hhmmss(since, tb));
		} else if (db) {
			verdict = FL__VERDICT__VERDICT_DATABASE;
			s       = xprintf(e,
			          "%s is not answering (%s) from %s since %s: server hung, or its "
			                "machine down",
			          gc->label, class_name(e, reach->v[0]), nz(hp), hhmmss(since, tb));
		} else {
			s = xprintf(e, "network: %s fails (%s) from %s since %s", gc->label,
			    class_name(e, reach->v[0]), nz(hp), hhmmss(since, tb));
		}
		free(hp);
	}
	if (fnd_new(e, verdict, gc->t) == NULL) {
		free(s);
		return;
	}
	finish(e, e->nf - 1, s, reach, NULL);
	mark_root(e, reach, e->nf - 1);
}

// A failure class the database itself answered with: one database finding per class group.
static void
rule_db_simple(eng *e, group_ctx *gc, const vec *v, const char *what)
{
	char  tb[32];
	char *hp = hosts_phrase(e, gc->host_of, v, gc->n_hosts);
	char *s  = xprintf(
	     e, "%s %s \u2014 %s since %s", gc->label, what, nz(hp), hhmmss(vec_since(e, v, 0), tb));
	free(hp);
	if (fnd_new(e, FL__VERDICT__VERDICT_DATABASE, gc->t) == NULL) {
		free(s);
		return;
	}
	finish(e, e->nf - 1, s, v, NULL);
	mark_root(e, v, e->nf - 1);
}

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

static void
rule_schema(eng *e, group_ctx *gc, const vec *schema, const vec *fine)
{
	char        tb[32];
	const char *rel_bad[CORR_MAX_RELEASES], *rel_fine[CORR_MAX_RELEASES];
	size_t      n_bad  = releases_of(e, schema, rel_bad);
	size_t      n_fine = releases_of(e, fine, rel_fine);
	bool        split  = fine->n > 0 && releases_disjoint(rel_bad, n_bad, rel_fine, n_fine);

	vec code = { 0 }, db = { 0 };
	for (size_t i = 0; i < schema->n; i++) {
		uint32_t id = schema->v[i];
		vec_push(e, split || release_linked(e, id) ? &code : &db, id);
	}

	// Code: one finding per release whose expectations are not met.
	while (code.n > 0 && !e->oom) {
		const char *rel  = nz(ent_host(e, code.v[0])->release);
		vec         mine = { 0 }, rest = { 0 };
		for (size_t i = 0; i < code.n; i++) {
			vec_push(e, streq(ent_host(e, code.v[i])->release, rel) ? &mine : &rest,
			    code.v[i]);
		}
		if (fnd_new(e, FL__VERDICT__VERDICT_CODE, gc->t) != NULL) {
			size_t fi   = e->nf - 1;
			char  *what = schema_what(e, &mine, false, &e->f[fi]);
			char  *hp   = hosts_phrase(e, gc->host_of, &mine, gc->n_hosts);
			char  *s    = xprintf(e,
			        "release %s needs %s which is missing: migration or grant not applied "
			            "(%s on %s, "
			            "since %s)",
			        rel, nz(what), gc->label, nz(hp), hhmmss(vec_since(e, &mine, 0), tb));
			free(what);
			free(hp);
			finish(e, fi, s, &mine, rel);
			mark_root(e, &mine, fi);
		}
		free(mine.v);
		free(code.v);
		code = rest;
	}
	free(code.v);

	// Database: the requirement went away while the release stayed the same.
	if (db.n > 0 && !e->oom && fnd_new(e, FL__VERDICT__VERDICT_DATABASE, gc->t) != NULL) {
		size_t      fi = e->nf - 1;
		const char *rel[CORR_MAX_RELEASES];
		size_t      nr   = releases_of(e, &db, rel);
		char       *what = schema_what(e, &db, true, &e->f[fi]);
		char       *hp   = hosts_phrase(e, gc->host_of, &db, gc->n_hosts);
		char       *rt   = nr == 1 ? xprintf(e, "release %s unchanged", rel[0])
		                           : xprintf(e, "releases unchanged");
		char       *s    = xprintf(e, "%s \u2014 %s since %s, %s", nz(what), nz(hp),
		             hhmmss(vec_since(e, &db, 0), tb), nz(rt));
		free(what);
		free(hp);
		free(rt);
		finish(e, fi, s, &db, nr == 1 ? rel[0] : NULL);
		mark_root(e, &db, fi);
	}
	free(db.v);
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
static double
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

// Slow from every host that reaches the database: the database. Latencies are medians across
// hosts of each host's median recent round; the query/check phase shows the server's own part.
static void
rule_slow(eng *e, group_ctx *gc, const vec *slow)
{
	char   a[32], b[32], c[32];
	double lat    = median_of(e, slow, ent_lat);
	double base   = median_of(e, slow, ent_baseline);
	double phase  = median_of(e, slow, ent_db_phase);
	char   ph[64] = "";
	if (phase > 0) {
		snprintf(ph, sizeof(ph), "; query/check phase %s", ms_text(phase, c));
	}
	char *hp = hosts_phrase(e, gc->host_of, slow, gc->n_hosts);
	char *s  = base > 0 ? xprintf(e, "%s slow from %s: latency %s vs normal %s%s", gc->label,
	                          nz(hp), ms_text(lat, a), ms_text(base, b), ph)
	                    : xprintf(e, "%s slow from %s: latency %s (no normal recorded yet)%s",
	                          gc->label, nz(hp), ms_text(lat, a), ph);
	free(hp);
	if (fnd_new(e, FL__VERDICT__VERDICT_DATABASE, gc->t) == NULL) {
		free(s);
		return;
	}
	e->f[e->nf - 1].degraded = true;
	finish(e, e->nf - 1, s, slow, NULL);
	mark_root(e, slow, e->nf - 1);
}

// Slow or unstable from some hosts (a spell, or failing on and off) while others reach the same
// target at normal latency: the target answers fine, so the difference is the slow hosts' path.
static void
rule_slow_path(eng *e, group_ctx *gc, const vec *slow, const vec *normal)
{
	char      a[32], b[32], paths[768];
	size_t    len = 0, n = 0;
	double    norm     = median_of(e, normal, ent_p50);
	unsigned  unstable = 0;
	uint32_t *r        = ranks_of(e, slow, NULL, NULL, &n);
	paths[0]           = '\0';
	for (size_t j = 0; j < slow->n; j++) {
		unstable += corr_window_failed(ent_probe(e, slow->v[j])->recent) > 0;
	}
	// Paths in host-name order (each slow host has one entry in this group).
	for (size_t i = 0; r != NULL && i < n && i < CORR_MAX_NAMED; i++) {
		uint32_t id = UINT32_MAX;
		for (size_t j = 0; j < slow->n && id == UINT32_MAX; j++) {
			if (e->rank[e->ents[slow->v[j]].host] == r[i]) {
				id = slow->v[j];
			}
		}
		const corr_probe *p        = ent_probe(e, id);
		double            base     = p->baseline_us > 0 ? (double) p->baseline_us : norm;
		char              lost[64] = "";
		unsigned          nf       = corr_window_failed(p->recent);
		if (nf > 0) {
			snprintf(
			    lost, sizeof(lost), ", %u of last %u rounds failed", nf, p->recent->n);
		}
		// No round count here: the collector records a verdict event whenever the summary
		// changes (the evidence lines carry it).
		int w = snprintf(paths + len, sizeof(paths) - len,
		    "%s%s \u2192 %s (latency %s vs normal %s%s)", i ? ", " : "",
		    host_by_rank(e, gc->host_of, r[i]), gc->g->target, ms_text(ent_lat(e, id), a),
		    ms_text(base, b), lost);
		if (w < 0 || (size_t) w >= sizeof(paths) - len) {
			break;
		}
		len += (size_t) w;
	}
	free(r);
	char more[32] = "";
	if (n > CORR_MAX_NAMED) {
		snprintf(more, sizeof(more), " (+%zu more)", n - CORR_MAX_NAMED);
	}
	size_t hn = 0;
	next_epoch(e);
	for (size_t i = 0; i < normal->n; i++) {
		hn += mark_rank(e, e->rank[e->ents[normal->v[i]].host]);
	}
	char *s = xprintf(e,
	    "network: %s path%s %s%s; %zu other host%s reach%s %s at normal "
	    "latency (%s)",
	    unstable > 0 ? "unstable" : "slow", n > 1 ? "s" : "", paths, more, hn,
	    hn > 1 ? "s" : "", hn > 1 ? "" : "es", gc->label, ms_text(norm, a));
	if (fnd_new(e, FL__VERDICT__VERDICT_NETWORK, gc->t) == NULL) {
		free(s);
		return;
	}
	e->f[e->nf - 1].degraded = true;
	finish(e, e->nf - 1, s, slow, NULL);
	mark_root(e, slow, e->nf - 1);
}

// Read-only / in recovery while the release needs to write. Database, unless the hosts that fail
// run releases no passing host runs (those releases need writes the others do not: the new
// release was pointed at a read-only server, or started writing where the old one only read).
static void
rule_read_only(eng *e, group_ctx *gc, const vec *ro, const vec *fine)
{
	char                   tb[32];
	const Fl__ProbeResult *r = ent_res(e, ro->v[0]);
	const char            *rel_bad[CORR_MAX_RELEASES], *rel_fine[CORR_MAX_RELEASES];
	size_t                 n_bad  = releases_of(e, ro, rel_bad);
	size_t                 n_fine = releases_of(e, fine, rel_fine);
	bool        code  = fine->n > 0 && releases_disjoint(rel_bad, n_bad, rel_fine, n_fine);
	const char *state = r->read_only_reason != NULL && r->read_only_reason[0]
	    ? r->read_only_reason
	    : "read-only";
	const char *needs =
	    r->read_only_needs != NULL && r->read_only_needs[0] ? r->read_only_needs : "writes";
	char *rb = releases_text(e, rel_bad, n_bad);
	char *hp = hosts_phrase(e, gc->host_of, ro, gc->n_hosts);
	char *s  = code
	     ? xprintf(e,
	           "%s needs %s but %s (%s) is read-only (%s): the release writes where "
	            "the others only read, or was pointed at a read-only server (%s "
	            "since %s)",
	           nz(rb), needs, nz(r->name), gc->label, state, nz(hp),
	           hhmmss(vec_since(e, ro, 0), tb))
	     : xprintf(e, "%s (%s) is read-only (%s) \u2014 %s needs %s \u2014 %s since %s",
	           nz(r->name), gc->label, state, nz(rb), needs, nz(hp),
	           hhmmss(vec_since(e, ro, 0), tb));
	free(rb);
	free(hp);
	fnd *f =
	    fnd_new(e, code ? FL__VERDICT__VERDICT_CODE : FL__VERDICT__VERDICT_DATABASE, gc->t);
	if (f == NULL) {
		free(s);
		return;
	}
	fnd_note(
	    e, f, xprintf(e, "database state: read-only (%s); the release needs %s", state, needs));
	finish(e, e->nf - 1, s, ro, n_bad == 1 ? rel_bad[0] : NULL);
	mark_root(e, ro, e->nf - 1);
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
			return xprintf(e, "replication lag: unknown (%s)", nz(r->detail));
		}
		return xprintf(e, "replication lag: %.1f s", (double) r->replication_lag_ms / 1e3);
	case FL__FAILURE_CLASS__FAILURE_CERT_EXPIRING:
		fl_time_format(r->cert_expires_us, when, sizeof(when));
		return xprintf(e, "certificate expires %s", when);
	default:
		return xprintf(e, "%s: %s", fl_failure_name(r->failure), nz(r->detail));
	}
}

// State warnings (the target answers, a measured state is past its threshold): one finding per
// class. Their summaries carry no per-round numbers (those are in the evidence), so a verdict
// event is recorded when the state starts or ends, not every round.
static void
rule_state_warnings(eng *e, group_ctx *gc, const vec *warned, Fl__Verdict verdict)
{
	vec todo = { 0 };
	for (size_t i = 0; i < warned->n; i++) {
		vec_push(e, &todo, warned->v[i]);
	}
	while (todo.n > 0 && !e->oom) {
		const Fl__ProbeResult *r0   = ent_res(e, todo.v[0]);
		Fl__FailureClass       fc   = r0->failure;
		vec                    mine = { 0 }, rest = { 0 };
		for (size_t i = 0; i < todo.n; i++) {
			vec_push(
			    e, ent_res(e, todo.v[i])->failure == fc ? &mine : &rest, todo.v[i]);
		}
		char       *hp = hosts_phrase(e, gc->host_of, &mine, gc->n_hosts);
		char        day[40];
		char       *s = NULL;
		Fl__Verdict v = is_db(gc->g->kind) ? FL__VERDICT__VERDICT_DATABASE : verdict;
		switch (fc) {
		case FL__FAILURE_CLASS__FAILURE_SATURATED:
			s = xprintf(e,
			    "%s is saturated: connections in use above its saturation_warn share "
			    "of "
			    "the limit (%s)",
			    gc->label, nz(hp));
			break;
		case FL__FAILURE_CLASS__FAILURE_REPLICATION_LAG:
			s = xprintf(e,
			    "replica %s is behind its primary by more than max_lag, or not "
			    "replicating (%s)",
			    gc->label, nz(hp));
			break;
		case FL__FAILURE_CLASS__FAILURE_CERT_EXPIRING:
			fl_time_format(r0->cert_expires_us, day, sizeof(day));
			day[r0->cert_expires_us > 0 && strlen(day) >= 10 ? 10 : 0] = '\0';
			s = xprintf(e, "the TLS certificate of %s expires on %s: renew it (%s)",
			    gc->label, r0->cert_expires_us > 0 ? day : "?", nz(hp));
			break;
		default:
			s = xprintf(
			    e, "%s warns (%s) on %s", gc->label, fl_failure_name(fc), nz(hp));
			break;
		}
		free(hp);
		fnd *f = fnd_new(e, v, gc->t);
		if (f == NULL) {
			free(s);
		} else {
			for (size_t i = 0; i < mine.n && i < CORR_MAX_NAMED; i++) {
				char *n = state_note(e, ent_res(e, mine.v[i]));
				fnd_note(e, f,
				    xprintf(e, "%s: %s", nz(ent_host(e, mine.v[i])->host), nz(n)));
				free(n);
			}
			finish(e, e->nf - 1, s, &mine, NULL);
			if (fc == FL__FAILURE_CLASS__FAILURE_SATURATED) {
				// Apps failing while their database has no free connections are
				// its symptom (an exhausted pool); lag or a certificate is not.
				mark_root(e, &mine, e->nf - 1);
			}
		}
		free(mine.v);
		free(todo.v);
		todo = rest;
	}
	free(todo.v);
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

// Of the suspect paths, those with a calm host clearly better and not clearly better than
// the worst suspect (a busy host's spikes next to a lossy path are noise: the worst path is
// named) into paths; and the calm hosts clearly better than every kept path into normal.
static void
select_slow_paths(eng *e, const vec *suspects, const vec *calm, vec *paths, vec *normal)
{
	uint32_t best  = UINT32_MAX,
	         worst = UINT32_MAX; // the kept paths with the lowest/highest p90
	for (size_t i = 0; i < suspects->n; i++) {
		if (worst == UINT32_MAX || ent_lat(e, suspects->v[i]) > ent_lat(e, worst)) {
			worst = suspects->v[i];
		}
	}
	for (size_t i = 0; i < suspects->n; i++) {
		if (suspects->v[i] != worst && clearly_better(e, suspects->v[i], worst)) {
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

// Per failing class group that is neither reach nor schema: a table of database phrasings.
static const struct {
	Fl__FailureClass fc;
	const char      *what; // printed after the target label
} db_phrases[] = {
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

static void
judge_db_like(eng *e, group_ctx *gc)
{
	bool db    = is_db(gc->g->kind);
	vec  reach = { 0 }, auth = { 0 }, schema = { 0 }, slow = { 0 }, fine = { 0 }, other = { 0 },
	    expect = { 0 }, agent = { 0 }, calm = { 0 }, slow_path = { 0 }, readonly = { 0 },
	    warned       = { 0 };
	size_t connected = 0, considered = 0, failing = 0;

	for (uint32_t i = e->tstart[gc->t]; i < e->tstart[gc->t + 1]; i++) {
		uint32_t   id = e->order[i];
		const ent *x  = &e->ents[id];
		if (x->st == ST_OK || x->st == ST_DEGRADED) {
			considered++;
			connected++;
			vec_push(e, &fine, id);
			// Slow for a while; or, when only the latest round is known, slow
			// now.
			if (x->spell ||
			    (x->st == ST_DEGRADED && ent_probe(e, id)->recent == NULL)) {
				vec_push(e, &slow, id);
			}
			if (x->shaky) {
				vec_push(e, &slow_path, id);
			} else if (x->clean) {
				vec_push(e, &calm, id);
			}
			continue;
		}
		if (x->st == ST_PENDING && x->shaky) {
			// One failed round inside a spell of trouble: still that path's
			// trouble, so a lossy path does not flap to healthy between its
			// failing streaks.
			vec_push(e, &slow_path, id);
			continue;
		}
		if (x->st == ST_WARNING) {
			considered++;
			connected++;
			vec_push(e, &fine, id);
			vec_push(e, &warned, id);
			continue;
		}
		if (x->st != ST_FAILING) {
			continue;
		}
		considered++;
		failing++;
		switch ((enum cat) x->cat) {
		case CAT_READONLY:
			connected++;
			vec_push(e, &readonly, id);
			break;
		case CAT_REFUSED:
		case CAT_REACH:
		case CAT_DNS:
			vec_push(e, &reach, id);
			break;
		case CAT_AUTH:
			connected++;
			vec_push(e, &auth, id);
			break;
		case CAT_SCHEMA:
			connected++;
			vec_push(e, &schema, id);
			break;
		case CAT_EXPECT:
			vec_push(e, &expect, id);
			break;
		case CAT_AGENT:
			vec_push(e, &agent, id);
			break;
		default:
			connected++;
			vec_push(e, &other, id);
			break;
		}
	}
	(void) considered;

	if (reach.n > 0) {
		rule_reach(e, gc, &reach, &fine, connected, db);
	}
	if (auth.n > 0) {
		char  tb[32];
		char *hp = hosts_phrase(e, gc->host_of, &auth, gc->n_hosts);
		char *s  = xprintf(e, "%s rejects role %s: authentication failed from %s since %s",
		     gc->label, first_role(e, &auth), nz(hp), hhmmss(vec_since(e, &auth, 0), tb));
		free(hp);
		if (fnd_new(e, FL__VERDICT__VERDICT_DATABASE, gc->t) != NULL) {
			finish(e, e->nf - 1, s, &auth, NULL);
			mark_root(e, &auth, e->nf - 1);
		} else {
			free(s);
		}
	}
	if (readonly.n > 0) {
		rule_read_only(e, gc, &readonly, &fine);
	}
	if (schema.n > 0) {
		rule_schema(e, gc, &schema, &fine);
	}
	// Remaining classes the server answered with, one finding per class.
	while (other.n > 0 && !e->oom) {
		Fl__FailureClass fc   = ent_res(e, other.v[0])->failure;
		vec              mine = { 0 }, rest = { 0 };
		for (size_t i = 0; i < other.n; i++) {
			vec_push(
			    e, ent_res(e, other.v[i])->failure == fc ? &mine : &rest, other.v[i]);
		}
		const char *what = NULL;
		char        fallback[64];
		for (size_t i = 0; i < sizeof(db_phrases) / sizeof(db_phrases[0]); i++) {
			if (db_phrases[i].fc == fc) {
				what = db_phrases[i].what;
			}
		}
		if (what == NULL) {
			snprintf(fallback, sizeof(fallback), "fails (%s)", fl_failure_name(fc));
			what = fallback;
		}
		if (db) {
			rule_db_simple(e, gc, &mine, what);
		} else if (fnd_new(e, FL__VERDICT__VERDICT_NETWORK, gc->t) != NULL) {
			// A DNS probe whose server answers wrongly: the resolver path.
			char  tb[32];
			char *hp = hosts_phrase(e, gc->host_of, &mine, gc->n_hosts);
			char *s = xprintf(e, "DNS: %s %s from %s since %s", gc->label, what, nz(hp),
			    hhmmss(vec_since(e, &mine, 0), tb));
			free(hp);
			finish(e, e->nf - 1, s, &mine, NULL);
			mark_root(e, &mine, e->nf - 1);
		}
		free(mine.v);
		free(other.v);
		other = rest;
	}
	free(other.v);
	if (expect.n > 0 && fnd_new(e, FL__VERDICT__VERDICT_CODE, gc->t) != NULL) {
		const char *rel = nz(ent_host(e, expect.v[0])->release);
		const char *err = nz(ent_host(e, expect.v[0])->expectations_error);
		if (err[0] == '\0') {
			err = nz(ent_res(e, expect.v[0])->detail);
		}
		char *hp = hosts_phrase(e, gc->host_of, &expect, gc->n_hosts);
		char *s  = xprintf(
		     e, "release %s ships an invalid expectations file (%s): %s", rel, nz(hp), err);
		free(hp);
		finish(e, e->nf - 1, s, &expect, rel);
	}
	if (agent.n > 0 && fnd_new(e, FL__VERDICT__VERDICT_HOST, gc->t) != NULL) {
		char *hp = hosts_phrase(e, gc->host_of, &agent, gc->n_hosts);
		char *s  = xprintf(e, "the agent cannot run probe %s on %s: %s",
		     nz(ent_res(e, agent.v[0])->name), nz(hp), nz(ent_res(e, agent.v[0])->detail));
		free(hp);
		finish(e, e->nf - 1, s, &agent, NULL);
	}
	// Slow everywhere: every host that reaches the database sees it degraded.
	if (db && failing == 0 && slow.n > 0 && slow.n == fine.n) {
		rule_slow(e, gc, &slow);
	} else if (slow_path.n > 0 && calm.n > 0) {
		// Slow or unstable on some paths only while others are clearly better.
		vec paths = { 0 }, normal = { 0 };
		select_slow_paths(e, &slow_path, &calm, &paths, &normal);
		if (paths.n > 0 && normal.n > 0) {
			rule_slow_path(e, gc, &paths, &normal);
		}
		free(paths.v);
		free(normal.v);
	}
	if (warned.n > 0) {
		rule_state_warnings(e, gc, &warned, FL__VERDICT__VERDICT_DATABASE);
	}
	free(warned.v);
	free(readonly.v);
	free(calm.v);
	free(slow_path.v);
	free(reach.v);
	free(auth.v);
	free(schema.v);
	free(slow.v);
	free(fine.v);
	free(expect.v);
	free(agent.v);
}

// ---- rules: app targets
// -----------------------------------------------------------------------

// An app slow for a while (not failing) on hosts whose databases and paths are fine,
// compared across hosts and releases like a failure: everywhere -> code (the release); only
// where a release runs -> code (that release); some hosts of one release -> that host's
// instance (a loopback target) or its path to a shared one (network).
static void
rule_app_slow(eng *e, group_ctx *gc, const vec *slow, const vec *steady)
{
	char        a[32], b[32], tb[32];
	const char *rel_slow[CORR_MAX_RELEASES], *rel_ok[CORR_MAX_RELEASES];
	size_t      n_slow = releases_of(e, slow, rel_slow);
	size_t      n_ok   = releases_of(e, steady, rel_ok);
	const char *probe  = nz(ent_res(e, slow->v[0])->name);
	double      lat    = median_of(e, slow, ent_lat);
	double      base   = median_of(e, slow, ent_baseline);
	double      others = median_of(e, steady, ent_p50);
	int64_t     since  = vec_since(e, slow, 0);
	char       *rs     = releases_text(e, rel_slow, n_slow);
	char       *hp     = hosts_phrase(e, gc->host_of, slow, gc->n_hosts);
	char       *s      = NULL;
	const char *rel    = n_slow == 1 ? rel_slow[0] : NULL;
	Fl__Verdict v      = FL__VERDICT__VERDICT_CODE;

	if (steady->n == 0) {
		s = xprintf(e,
		    "degraded: %s %s slow on %s, %s: latency %s vs normal %s since %s; "
		    "databases "
		    "and "
		    "network fine",
		    probe, gc->label, nz(hp), nz(rs), ms_text(lat, a),
		    base > 0 ? ms_text(base, b) : "unknown", hhmmss(since, tb));
	} else if (releases_disjoint(rel_slow, n_slow, rel_ok, n_ok)) {
		char *ro = releases_text(e, rel_ok, n_ok);
		s        = xprintf(e,
		           "degraded: %s slows %s %s: latency %s on %s since %s vs %s on hosts on "
		                  "%s",
		           nz(rs), probe, gc->label, ms_text(lat, a), nz(hp), hhmmss(since, tb),
		           ms_text(others, b), nz(ro));
		free(ro);
	} else if (is_loopback_target(gc->g->target)) {
		v   = FL__VERDICT__VERDICT_HOST;
		s   = xprintf(e,
		      "degraded: %s %s slow on %s since %s (latency %s vs %s on %zu other "
		        "host%s, "
		        "same "
		        "release): that host or its instance (CPU, memory, disk)",
		      probe, gc->label, nz(hp), hhmmss(since, tb), ms_text(lat, a),
		      ms_text(others, b), steady->n, steady->n > 1 ? "s" : "");
		rel = NULL;
	} else {
		free(rs);
		free(hp);
		rule_slow_path(e, gc, slow, steady);
		return;
	}
	free(rs);
	free(hp);
	if (fnd_new(e, v, gc->t) == NULL) {
		free(s);
		return;
	}
	e->f[e->nf - 1].degraded = true;
	finish(e, e->nf - 1, s, slow, rel);
}

static void
judge_app(eng *e, group_ctx *gc)
{
	char tb[32];
	vec  bad = { 0 }, fine = { 0 }, warned = { 0 }, slow = { 0 }, steady = { 0 };
	bool all_reach = true;
	for (uint32_t i = e->tstart[gc->t]; i < e->tstart[gc->t + 1]; i++) {
		uint32_t   id = e->order[i];
		const ent *x  = &e->ents[id];
		if (x->st == ST_WARNING) {
			vec_push(e, &warned, id);
		}
		if (x->st == ST_OK || x->st == ST_DEGRADED || x->st == ST_WARNING) {
			vec_push(e, &fine, id);
			if (x->spell && e->root[x->host] >= 0) {
				// Slow because that host's database (or its path) is slow
				// or failing.
				vec_push(e, &e->f[e->root[x->host]].folded, id);
			} else if (x->spell) {
				vec_push(e, &slow, id);
			} else if (x->clean) {
				vec_push(e, &steady, id);
			}
		} else if (x->st == ST_FAILING) {
			int32_t root = e->root[x->host];
			if (root >= 0) {
				// Downstream of that host's database/network trouble.
				vec_push(e, &e->f[root].folded, id);
				continue;
			}
			vec_push(e, &bad, id);
			all_reach = all_reach &&
			    (x->cat == CAT_REFUSED || x->cat == CAT_REACH || x->cat == CAT_DNS);
		}
	}
	if (warned.n > 0) {
		// An app's own certificate ships with its deployment, like an expired one
		// (tls, judged below as the app failing): code.
		rule_state_warnings(e, gc, &warned, FL__VERDICT__VERDICT_CODE);
	}
	free(warned.v);
	if (slow.n > 0 && !e->oom) {
		rule_app_slow(e, gc, &slow, &steady);
	}
	free(slow.v);
	free(steady.v);
	if (bad.n == 0 || e->oom) {
		free(bad.v);
		free(fine.v);
		return;
	}

	const char *rel_bad[CORR_MAX_RELEASES], *rel_fine[CORR_MAX_RELEASES];
	size_t      n_bad   = releases_of(e, &bad, rel_bad);
	size_t      n_fine  = releases_of(e, &fine, rel_fine);
	const char *probe   = nz(ent_res(e, bad.v[0])->name);
	const char *cls     = class_name(e, bad.v[0]);
	int64_t     since   = vec_since(e, &bad, 0);
	char       *rb      = releases_text(e, rel_bad, n_bad);
	char       *s       = NULL;
	const char *rel     = n_bad == 1 ? rel_bad[0] : NULL;
	Fl__Verdict verdict = FL__VERDICT__VERDICT_CODE;

	if (fine.n > 0 && releases_disjoint(rel_bad, n_bad, rel_fine, n_fine)) {
		// Fails exactly where the new release runs: the release.
		size_t    n;
		uint32_t *r     = ranks_of(e, &bad, NULL, NULL, &n);
		char     *names = r ? names_phrase(e, gc->host_of, r, n) : NULL;
		char     *rf    = releases_text(e, rel_fine, n_fine);
		free(r);
		s = xprintf(e, "%s breaks %s %s: %s on %s since %s; hosts on %s are fine", nz(rb),
		    probe, gc->label, cls, nz(names), hhmmss(since, tb), nz(rf));
		free(names);
		free(rf);
	} else if (fine.n == 0) {
		char *hp = hosts_phrase(e, gc->host_of, &bad, gc->n_hosts);
		s = xprintf(e, "%s %s fails (%s) on %s, %s, databases and network fine, since %s",
		    probe, gc->label, cls, nz(hp), nz(rb), hhmmss(since, tb));
		free(hp);
	} else if (all_reach && !is_loopback_target(gc->g->target)) {
		free(rb);
		rule_reach(e, gc, &bad, &fine, fine.n, false);
		free(fine.v);
		free(bad.v);
		return;
	} else {
		// Some hosts fail on the same release that works elsewhere: that instance.
		char *hp = hosts_phrase(e, gc->host_of, &bad, gc->n_hosts);
		s        = xprintf(e,
		           "%s %s fails (%s) on %s since %s; %s also runs fine on %zu other "
		                  "host%s",
		           probe, gc->label, cls, nz(hp), hhmmss(since, tb), nz(rb), fine.n,
                    fine.n > 1 ? "s" : "");
		free(hp);
	}
	free(rb);
	if (fnd_new(e, verdict, gc->t) != NULL) {
		finish(e, e->nf - 1, s, &bad, rel);
	} else {
		free(s);
	}
	free(bad.v);
	free(fine.v);
}

// ---- stale hosts
// ----------------------------------------------------------------------------

static void
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
		char ts[40], age[32];
		if (n == 0 || host->last_seen_us < v->hosts[first].last_seen_us) {
			first = (uint32_t) h;
		}
		n++;
		vec_push(e, &f->hosts, (uint32_t) h);
		fl_time_format(host->last_seen_us, ts, sizeof(ts));
		fl_duration_format(v->now_us - host->last_seen_us, age, sizeof(age));
		fnd_note(e, f,
		    xprintf(e, "%s last seen %s (%s ago), release %s", nz(host->host), ts, age,
		        nz(host->release)));
	}
	char ts[40];
	fl_time_format(v->hosts[first].last_seen_us, ts, sizeof(ts));
	f->since = v->hosts[first].last_seen_us;
	if (n == 1) {
		f->summary = xprintf(e,
		    "%s silent since %s: agent down, or cut off from the collector; %zu "
		    "other "
		    "host%s "
		    "reporting",
		    nz(v->hosts[first].host), ts, e->n_live, e->n_live > 1 ? "s" : "");
	} else {
		f->summary = xprintf(e,
		    "%zu hosts silent (first %s, last seen %s): agents down, or cut off "
		    "from the "
		    "collector; %zu other host%s reporting",
		    n, nz(v->hosts[first].host), ts, e->n_live, e->n_live > 1 ? "s" : "");
	}
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

static char *
evidence_line(eng *e, uint32_t id, bool folded)
{
	char                   tb[32], a[32], b[32];
	const corr_host       *h      = ent_host(e, id);
	const corr_probe      *p      = ent_probe(e, id);
	const Fl__ProbeResult *r      = p->last;
	const char            *detail = nz(r->detail);
	if (e->ents[id].st == ST_WARNING) {
		return xprintf(e, "%s %s (%s %s): %s: %s", nz(h->host), nz(r->name),
		    fl_kind_name(r->kind), nz(r->target), fl_failure_name(r->failure), detail);
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
		return xprintf(e, "%s %s (%s %s): %s, %s vs normal %s%s%s%s%s", nz(h->host),
		    nz(r->name), fl_kind_name(r->kind), nz(r->target),
		    r->status == FL__STATUS__STATUS_FAIL ? fl_failure_name(r->failure) : "slow",
		    ms_text(r->duration_us, a),
		    p->baseline_us > 0 ? ms_text((double) p->baseline_us, b) : "unknown", rounds,
		    phase, recent, folded ? " (downstream)" : "");
	}
	return xprintf(e, "%s %s (%s %s): %s since %s, %u round%s%s%s%s", nz(h->host), nz(r->name),
	    fl_kind_name(r->kind), nz(r->target), fl_failure_name(r->failure),
	    hhmmss(p->failing_since_us, tb), p->consecutive_fail,
	    p->consecutive_fail == 1 ? "" : "s", detail[0] ? ": " : "", detail,
	    folded ? " (downstream)" : "");
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

static Fl__Finding *
finding_out(eng *e, const fnd *f, const uint32_t *host_of)
{
	Fl__Finding *o = malloc(sizeof(*o));
	if (o == NULL) {
		e->oom = true;
		return NULL;
	}
	fl__finding__init(o);
	size_t n_fold_fail = 0, n_fold_slow = 0;
	for (size_t i = 0; i < f->folded.n; i++) {
		if (e->ents[f->folded.v[i]].st == ST_FAILING) {
			n_fold_fail++;
		} else {
			n_fold_slow++;
		}
	}
	if (f->folded.n > 0) {
		// Say how much of the app trouble this finding explains.
		char slow[64] = "";
		if (n_fold_slow > 0) {
			snprintf(slow, sizeof(slow), "; %zu app probe%s slow downstream",
			    n_fold_slow, n_fold_slow > 1 ? "s" : "");
		}
		o->summary = n_fold_fail > 0
		    ? xprintf(e, "%s; %zu app probe failure%s downstream%s", nz(f->summary),
		          n_fold_fail, n_fold_fail > 1 ? "s" : "", slow)
		    : xprintf(e, "%s%s", nz(f->summary), slow);
	} else {
		o->summary = xstrdup(f->summary);
	}
	o->release  = xstrdup(f->release);
	o->verdict  = f->verdict;
	o->since_us = fnd_since(e, f);

	size_t    n;
	uint32_t *r = ranks_of(e, &f->ents, &f->folded, &f->hosts, &n);
	o->hosts    = calloc(n ? n : 1, sizeof(char *));
	if (r != NULL && o->hosts != NULL) {
		for (size_t i = 0; i < n; i++) {
			o->hosts[o->n_hosts++] = xstrdup(host_by_rank(e, host_of, r[i]));
		}
	}
	free(r);

	o->targets = calloc(f->targets.n ? f->targets.n : 1, sizeof(char *));
	if (o->targets != NULL) {
		for (size_t i = 0; i < f->targets.n; i++) {
			o->targets[o->n_targets++] = xstrdup(e->tgts[f->targets.v[i]].target);
		}
	}

	size_t n_ev = f->ents.n + f->folded.n;
	ev_key keys[CORR_MAX_EVIDENCE];
	size_t shown = 0;
	size_t notes = f->n_notes < CORR_MAX_EVIDENCE ? f->n_notes : CORR_MAX_EVIDENCE;
	o->evidence  = calloc(CORR_MAX_EVIDENCE + notes + 2, sizeof(char *));
	if (o->evidence == NULL) {
		e->oom = true;
		return o;
	}
	// Keep only the first CORR_MAX_EVIDENCE by (root before downstream, host, probe):
	// an insertion into a short sorted array, O(n log 40) instead of sorting every
	// result.
	for (size_t i = 0; i < n_ev; i++) {
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
	for (size_t i = 0; i < notes; i++) {
		o->evidence[o->n_evidence++] = xstrdup(f->notes[i]);
	}
	for (size_t i = 0; i < shown; i++) {
		o->evidence[o->n_evidence++] = evidence_line(e, keys[i].id, keys[i].folded);
	}
	if (n_ev > shown) {
		o->evidence[o->n_evidence++] =
		    xprintf(e, "... and %zu more probe results", n_ev - shown);
	}
	for (size_t i = 0; i < o->n_evidence; i++) {
		if (o->evidence[i] == NULL) {
			e->oom = true;
		}
	}
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
	return strcmp(nz(x->summary), nz(y->summary));
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

Fl__DiagnoseReply *
corr_diagnose(const corr_view *view)
{
	eng                e       = { .view = view };
	Fl__DiagnoseReply *reply   = reply_new();
	uint32_t          *host_of = NULL;
	rank_key          *keys    = NULL;
	if (reply == NULL) {
		return NULL;
	}
	e.threshold = view->params.fail_threshold ? view->params.fail_threshold : 1;

	if (view->n_hosts == 0) {
		reply_set(reply, FL__VERDICT__VERDICT_UNKNOWN,
		    xprintf(&e, "no data: no agent has reported to this collector"), 0);
		goto done;
	}
	// only_host must name a known host.
	int32_t only = -1;
	if (view->only_host != NULL && view->only_host[0] != '\0') {
		for (size_t h = 0; h < view->n_hosts; h++) {
			if (streq(view->hosts[h].host, view->only_host)) {
				only = (int32_t) h;
			}
		}
		if (only < 0) {
			reply_set(reply, FL__VERDICT__VERDICT_UNKNOWN,
			    xprintf(&e, "no data for host %s: it never reported", view->only_host),
			    0);
			goto done;
		}
	}
	if (!build_entries(&e)) {
		goto done;
	}
	host_of = malloc(view->n_hosts * sizeof(*host_of));
	if (host_of == NULL) {
		e.oom = true;
		goto done;
	}
	for (size_t h = 0; h < view->n_hosts; h++) {
		host_of[e.rank[h]] = (uint32_t) h;
	}
	e.host_of = host_of;

	if (e.n_live == 0) {
		int64_t last = 0;
		for (size_t h = 0; h < view->n_hosts; h++) {
			if (view->hosts[h].last_seen_us > last) {
				last = view->hosts[h].last_seen_us;
			}
		}
		char ts[40];
		fl_time_format(last, ts, sizeof(ts));
		reply_set(reply, FL__VERDICT__VERDICT_UNKNOWN,
		    xprintf(&e, "no recent data: all %zu hosts silent, last report %s",
		        view->n_hosts, ts),
		    last);
		goto done;
	}

	// Root causes first (databases, DNS, shared targets), then apps, then silent hosts.
	for (int pass = 0; pass < 2 && !e.oom; pass++) {
		for (uint32_t t = 0; t < e.n_tgts && !e.oom; t++) {
			group_ctx gc  = { .t = t, .g = &e.tgts[t], .host_of = host_of };
			bool      app = is_app(gc.g->kind);
			if ((pass == 0) == app) {
				continue;
			}
			gc.n_hosts = group_hosts(&e, t);
			snprintf(gc.label, sizeof(gc.label), "%s %s", fl_kind_name(gc.g->kind),
			    gc.g->target);
			if (app) {
				snprintf(gc.label, sizeof(gc.label), "(%s %s)",
				    fl_kind_name(gc.g->kind), gc.g->target);
				judge_app(&e, &gc);
			} else {
				judge_db_like(&e, &gc);
			}
		}
	}
	judge_stale(&e);
	for (size_t i = 0; i < e.nf && !e.oom; i++) {
		dns_notes(&e, i);
	}
	if (e.oom) {
		goto done;
	}

	keys     = malloc((e.nf ? e.nf : 1) * sizeof(*keys));
	size_t k = 0;
	if (keys == NULL) {
		e.oom = true;
		goto done;
	}
	for (size_t i = 0; i < e.nf; i++) {
		if (only >= 0 && !fnd_has_host(&e, &e.f[i], (uint32_t) only)) {
			continue;
		}
		size_t    n;
		uint32_t *r = ranks_of(&e, &e.f[i].ents, &e.f[i].folded, &e.f[i].hosts, &n);
		free(r);
		keys[k++] = (rank_key) { verdict_tier(e.f[i].verdict), e.f[i].degraded, n,
			fnd_since(&e, &e.f[i]), (uint32_t) i, e.f[i].summary };
	}
	qsort(keys, k, sizeof(*keys), cmp_rank_key);
	reply->findings = calloc(k ? k : 1, sizeof(*reply->findings));
	if (reply->findings == NULL) {
		e.oom = true;
		goto done;
	}
	for (size_t i = 0; i < k && !e.oom; i++) {
		Fl__Finding *o = finding_out(&e, &e.f[keys[i].idx], host_of);
		if (o != NULL) {
			reply->findings[reply->n_findings++] = o;
		}
	}
	if (k == 0) {
		// Stable text: the collector records a history event whenever the summary
		// changes, so it must not mention counts that move every round (pending
		// probes, latencies).
		if (only >= 0) {
			reply_set(reply, FL__VERDICT__VERDICT_HEALTHY,
			    xprintf(&e, "%s healthy", view->only_host), 0);
		} else {
			reply_set(reply, FL__VERDICT__VERDICT_HEALTHY,
			    xprintf(&e, "healthy: %zu host%s reporting, no probe failing", e.n_live,
			        e.n_live > 1 ? "s" : ""),
			    0);
		}
	} else if (reply->n_findings > 0) {
		Fl__Finding *top = reply->findings[0];
		reply_set(reply, top->verdict, xstrdup(top->summary), top->since_us);
	}

done:
	free(keys);
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
