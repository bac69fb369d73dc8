// corr_window.c - the recent rounds of one probe and the hysteresis the engine reads from them.
//
// A pure function of each window: the engine keeps no state between diagnoses. Spells (slow for
// a while) and spells of trouble that come and go (packet loss) are entered and left at two
// different thresholds, so a path near one threshold does not flap.

#include "corr_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

// Whether the window that ended `ago` rounds before the latest ended with `need` slow rounds
// in a row: the quick-onset rule (probe_spell()) was met then.
static bool
window_quick_onset_at(const corr_window *w, unsigned ago, uint32_t need)
{
	if (ago >= CORR_HISTORY || need > CORR_WINDOW || w->rounds < ago + need) {
		return false;
	}
	uint64_t run = (((uint64_t) 1 << need) - 1) << ago;
	return (w->slow & run) == run;
}

// Trouble that comes and goes, in the window that ended `ago` rounds before the latest: at
// least two failed rounds and three bad (failed or slow) ones, or at least 30 % (and four) bad
// ones of any kind, or most rounds slow (the median round slow), or a quick onset (slow_rounds
// slow rounds in a row, the rule that names a path first: so a path it named is held by the
// same hysteresis, and one fast round does not end it). Entering a spell of trouble.
static bool
window_troubled_at(const corr_params *prm, const corr_window *w, unsigned ago)
{
	unsigned m;
	uint64_t bits = window_bits_at(w, ago, &m);
	unsigned f = popcount64(w->failed & bits), s = popcount64(w->slow & bits), bad = f + s;
	uint32_t need = prm->slow_rounds ? prm->slow_rounds : 1;
	return (f >= 2 && bad >= 3) || (bad >= 4 && bad * 10 >= m * 3) ||
	    (m >= need && 2 * s > m) || window_quick_onset_at(w, ago, need);
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

// Whether a round of the current window shows lost packets: it failed, or it was slow and took
// at least CORR_SYN_RETRY_US (a lost SYN or SYN-ACK is sent again after 1 s, so that round
// lasts its normal time plus a second; being slow, it is far above the path's baseline). A busy
// machine slows rounds by a few hundred ms, not by a second, and does not time them out.
static bool
window_shows_loss(const corr_window *w)
{
	if (w == NULL) {
		return false;
	}
	if (corr_window_failed(w) > 0) {
		return true;
	}
	for (unsigned i = 0; i < w->n; i++) {
		// Bit i of the history and the i-th newest duration are the same round.
		uint32_t d = w->dur_us[(w->next + CORR_WINDOW - 1 - i) % CORR_WINDOW];
		if (((w->slow >> i) & 1u) != 0 && d >= CORR_SYN_RETRY_US) {
			return true;
		}
	}
	return false;
}

// The server a target names: its host part ("db.fl.test" of "db.fl.test:5432/appdb" and of
// "http://db.fl.test:8080/x"), as a span of t; *len 0 when there is none.
static const char *
server_of(const char *t, size_t *len)
{
	const char *p = t != NULL ? strstr(t, "://") : NULL;
	p             = p != NULL ? p + 3 : (t != NULL ? t : "");
	size_t n      = strcspn(p, "/?#");
	if (p[0] == '[') { // [v6]:port
		const char *close = memchr(p, ']', n);
		*len              = close != NULL ? (size_t) (close - p) + 1 : n;
		return p;
	}
	const char *colon = memchr(p, ':', n);
	*len              = colon != NULL ? (size_t) (colon - p) : n;
	return p;
}

bool
same_server(const corr_probe *a, const corr_probe *b)
{
	if (a->last == NULL || b->last == NULL || a->last->kind == FL__PROBE_KIND__KIND_DNS ||
	    b->last->kind == FL__PROBE_KIND__KIND_DNS) {
		return false;
	}
	size_t      na, nb;
	const char *sa = server_of(a->last->target, &na), *sb = server_of(b->last->target, &nb);
	return na > 0 && na == nb && strncasecmp(sa, sb, na) == 0;
}

// Only a failed round counts from another probe: on a busy machine a round now and then
// lasts over a second (1027 ms on a mysql probe beside a busy host's slow postgres rounds, as
// recorded), and that must not hold the busy host's other paths. Only the host's first
// CORR_LOSS_SIBLINGS probes are looked at, so a diagnosis stays linear in the probes held.
bool
path_shows_loss(const corr_host *h, const corr_probe *p)
{
	if (window_shows_loss(p->recent)) {
		return true;
	}
	size_t n = h != NULL ? h->n_probes : 0;
	for (size_t i = 0; i < n && i < CORR_LOSS_SIBLINGS; i++) {
		const corr_probe *q = corr_host_probe(h, i);
		if (q != p && q->recent != NULL && corr_window_failed(q->recent) > 0 &&
		    same_server(p, q)) {
			return true;
		}
	}
	return false;
}

// Hysteresis over the bit history: the path entered a spell of trouble in some recent window
// and has not been clean in any window since (two thresholds: enter at ~30 % bad rounds or a
// quick onset, leave at <= 1 bad of CORR_WINDOW), and the path shows lost packets now
// (path_shows_loss()). A path losing 10 % of its packets has some 20-40 % bad rounds, around
// any single threshold, so one threshold made it flap between suspect and fine; its rounds
// also time out or last a second more now and then (lost SYNs), which a busy machine's slow
// rounds do not: a busy host that once had a troubled window is not held on its spikes. A pure
// function of the host's windows: the engine keeps no state between diagnoses.
static bool
window_in_trouble(const corr_params *prm, const corr_host *h, const corr_probe *p)
{
	const corr_window *w = p->recent;
	if (w == NULL) {
		return false;
	}
	if (window_troubled_at(prm, w, 0)) {
		return true;
	}
	// The bits first (cheap), the other probes of the host only for a path still in a spell.
	for (unsigned ago = 1; ago < w->rounds; ago++) {
		if (window_clean_at(w, ago - 1)) {
			return false;
		}
		if (window_troubled_at(prm, w, ago)) {
			return path_shows_loss(h, p);
		}
	}
	return false;
}

// Slow for a while: slow_rounds rounds in a row (a quick onset), or the median of the recent
// rounds slow (so one fast round in a slow spell does not end it: hysteresis).
bool
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
bool
probe_shaky(const corr_params *prm, const corr_host *h, const corr_probe *p)
{
	return probe_spell(prm, p) || window_in_trouble(prm, h, p);
}

// Fine lately: what a "normal" path is compared with. Not shaky (so not in a spell of trouble
// that has not ended) and under 30 % bad (slow or failed) recent rounds: hosts that have just
// come out of an outage or a spell every host shared are all still shaky, and none of them is
// evidence that the target is fine from elsewhere (comparing them with each other would name a
// path for a fault they shared), while a busy host's odd slow round does not disqualify it.
// Without a window only the latest round is known: it must be ok.
bool
probe_clean(const corr_params *prm, const corr_host *h, const corr_probe *p, enum st st)
{
	const corr_window *w = p->recent;
	if (w == NULL || w->n == 0) {
		return st == ST_OK;
	}
	unsigned bad = corr_window_slow(w) + corr_window_failed(w);
	return (st == ST_OK || st == ST_DEGRADED) && !probe_shaky(prm, h, p) &&
	    bad * 10 < w->n * 3u;
}
