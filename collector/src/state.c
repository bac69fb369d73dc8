// state.c - see state.h.

#include "state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl/arith.h"
#include "fl/labels.h"
#include "fl/limits.h"
#include "fl/names.h"
#include "fl/str.h"
#include "fl/time.h"
#include "latency.h"

// ---- a probe's latest result ---------------------------------------------------------------
//
// A probe keeps its own copy of its latest result, not the decoded report (which is freed once
// applied): the scalars in place, the strings shared through s->strings, the timing beside it,
// and what is rare (repeated fields, fields this collector does not know, any message but
// timing) in a decoded block shared by every probe with the same (s->rare,
// coll_probe_more.rare). The walk is over the message's descriptor, so a field added to
// ProbeResult later is kept without a change here.

// The field of m at f's offset.
static void *
field_at(const Fl__ProbeResult *m, const ProtobufCFieldDescriptor *f)
{
	return (char *) (uintptr_t) m + f->offset;
}

// Whether f lives in the rare block: repeated, bytes, or a message other than timing.
static bool
field_is_rare(const ProtobufCFieldDescriptor *f)
{
	return f->label == PROTOBUF_C_LABEL_REPEATED || f->type == PROTOBUF_C_TYPE_BYTES ||
	    (f->type == PROTOBUF_C_TYPE_MESSAGE && f->offset != offsetof(Fl__ProbeResult, timing));
}

// Whether the rare field f of r holds anything.
static bool
rare_present(const Fl__ProbeResult *r, const ProtobufCFieldDescriptor *f)
{
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		return *(const size_t *) (const void *) ((const char *) r + f->quantifier_offset) !=
		    0;
	}
	if (f->type == PROTOBUF_C_TYPE_BYTES) {
		return ((const ProtobufCBinaryData *) field_at(r, f))->len != 0;
	}
	return *(void **) field_at(r, f) != NULL;
}

// Points n's rare field f at the same field of from (NULL: empty).
static void
rare_point(Fl__ProbeResult *n, const Fl__ProbeResult *from, const ProtobufCFieldDescriptor *f)
{
	size_t size =
	    f->type == PROTOBUF_C_TYPE_BYTES ? sizeof(ProtobufCBinaryData) : sizeof(void *);
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size                                                     = sizeof(void *);
		*(size_t *) (void *) ((char *) n + f->quantifier_offset) = from != NULL
		    ? *(const size_t *) (const void *) ((const char *) from + f->quantifier_offset)
		    : 0;
	}
	if (from != NULL) {
		memcpy(field_at(n, f), field_at(from, f), size);
	} else {
		memset(field_at(n, f), 0, size);
	}
}

static void
rare_free(void *v)
{
	fl__probe_result__free_unpacked(v, NULL);
}

// The shared block (a value slot of rt) holding r's rare fields and unknown fields; NULL when r
// has none (*err 0) or out of memory (*err -1). The caller owns one reference.
static void **
rare_block(coll_intern *rt, const Fl__ProbeResult *r, int *err)
{
	const ProtobufCMessageDescriptor *md = &fl__probe_result__descriptor;
	Fl__ProbeResult                   tmp;
	bool                              any = r->base.n_unknown_fields != 0;
	uint8_t                           stackbuf[1024], *buf = stackbuf;
	void                            **slot;

	*err = 0;
	fl__probe_result__init(&tmp);
	for (unsigned i = 0; i < md->n_fields; i++) {
		if (field_is_rare(&md->fields[i]) && rare_present(r, &md->fields[i])) {
			rare_point(&tmp, r, &md->fields[i]);
			any = true;
		}
	}
	if (!any) {
		return NULL;
	}
	tmp.base.n_unknown_fields = r->base.n_unknown_fields;
	tmp.base.unknown_fields   = r->base.unknown_fields;
	size_t len                = fl__probe_result__get_packed_size(&tmp);
	if (len > sizeof(stackbuf) && (buf = malloc(len)) == NULL) {
		*err = -1;
		return NULL;
	}
	fl__probe_result__pack(&tmp, buf);
	if ((slot = coll_intern_block_get(rt, buf, len)) != NULL && *slot == NULL &&
	    (*slot = fl__probe_result__unpack(NULL, len, buf)) == NULL) {
		coll_intern_block_put(rt, slot, rare_free);
		slot = NULL;
	}
	if (buf != stackbuf) {
		free(buf);
	}
	*err = slot == NULL ? -1 : 0;
	return slot;
}

// Whether the rare block held (NULL: none) carries exactly the same as r: then it is kept without
// looking it up. Only the common case is recognised (addresses alone, the same).
static bool
rare_same(const Fl__ProbeResult *held, const Fl__ProbeResult *r)
{
	if (held == NULL || r->n_unmet != 0 || r->base.n_unknown_fields != 0 ||
	    held->n_unmet != 0 || held->base.n_unknown_fields != 0 ||
	    held->n_addresses != r->n_addresses || r->n_addresses == 0) {
		return false;
	}
	for (size_t i = 0; i < r->n_addresses; i++) {
		if (strcmp(held->addresses[i], r->addresses[i]) != 0) {
			return false;
		}
	}
	const ProtobufCMessageDescriptor *md = &fl__probe_result__descriptor;
	for (unsigned i = 0; i < md->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &md->fields[i];
		if (field_is_rare(f) && f->offset != offsetof(Fl__ProbeResult, addresses) &&
		    (rare_present(r, f) || rare_present(held, f))) {
			return false;
		}
	}
	return true;
}

// What p's shared record holds (NULL: none).
static const char *
more_addrs(const coll_probe *p)
{
	return p->more != NULL ? p->more->addrs : NULL;
}

static const char *
more_prev(const coll_probe *p)
{
	return p->more != NULL ? p->more->addrs_prev : NULL;
}

static void **
more_rare(const coll_probe *p)
{
	return p->more != NULL ? p->more->rare : NULL;
}

// The decoded rare block p holds; NULL: none.
static const Fl__ProbeResult *
probe_rare(const coll_probe *p)
{
	void **rare = more_rare(p);
	return rare != NULL ? *rare : NULL;
}

// Releases what a coll_probe_more record refers to: its last holder let it go.
static void
more_release(void *arg, const void *rec)
{
	coll_state            *s = arg;
	const coll_probe_more *m = rec;
	coll_intern_put(s->strings, m->addrs);
	coll_intern_put(s->strings, m->addrs_prev);
	coll_intern_block_put(s->rare, m->rare, rare_free);
}

// Makes p's shared part the record of (addrs, addrs_prev, rare), references the caller keeps
// (a new record takes its own), and releases the record p held. All three NULL: none. 0, or
// -1 when out of memory (p unchanged).
static int
more_set(coll_state *s, coll_probe *p, const char *addrs, const char *addrs_prev, void **rare)
{
	const coll_probe_more *m = NULL;
	if (addrs != NULL || addrs_prev != NULL || rare != NULL) {
		coll_probe_more key = { .addrs = addrs, .addrs_prev = addrs_prev, .rare = rare };
		bool            is_new;
		if ((m = coll_intern_rec_get(s->mores, &key, sizeof(key), &is_new)) == NULL) {
			return -1;
		}
		if (is_new) {
			coll_intern_ref(addrs);
			coll_intern_ref(addrs_prev);
			coll_intern_block_ref(rare);
		}
	}
	coll_intern_rec_put(s->mores, p->more, more_release, s);
	p->more = m;
	return 0;
}

// Makes p's result a copy of r (r stays the caller's): strings from s->strings, the rare block
// from s->rare. 0, or -1 when out of memory (p's result unchanged).
static int
result_store(coll_state *s, coll_probe *p, const Fl__ProbeResult *r)
{
	const ProtobufCMessageDescriptor *md        = &fl__probe_result__descriptor;
	coll_intern                      *t         = s->strings;
	const Fl__ProbeResult            *old       = &p->res;
	const Fl__ProbeResult            *held      = probe_rare(p);
	Fl__ProbeResult                   n         = *r; // every scalar; pointers replaced below
	void                            **rare      = NULL;
	bool                              fresh[64] = { false }; // strings newly referenced
	bool                              keep_rare = rare_same(held, r);
	int                               err       = 0;

	if (!keep_rare && (rare = rare_block(s->rare, r, &err)) == NULL && err != 0) {
		return -1;
	}
	const Fl__ProbeResult *from = keep_rare ? held : rare != NULL ? *rare : NULL;
	for (unsigned i = 0; i < md->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &md->fields[i];
		if (field_is_rare(f)) {
			rare_point(&n, from, f);
		} else if (f->type == PROTOBUF_C_TYPE_STRING) {
			const char *ov = *(char **) field_at(old, f),
			           *nv = *(char **) field_at(r, f);
			const char *v  = ov;
			if (strcmp(ov, nv) != 0) {
				if (i >= sizeof(fresh) / sizeof(fresh[0]) ||
				    (v = coll_intern_get(t, nv)) == NULL) {
					goto undo;
				}
				fresh[i] = true;
			}
			*(const char **) field_at(&n, f) = v;
		}
	}
	if (!keep_rare && more_set(s, p, more_addrs(p), more_prev(p), rare) != 0) {
		goto undo; // nothing of p changed yet
	}
	n.base.n_unknown_fields = from != NULL ? from->base.n_unknown_fields : 0;
	n.base.unknown_fields   = from != NULL ? from->base.unknown_fields : NULL;
	if (r->timing != NULL) {
		p->timing                       = *r->timing;
		p->timing.base.n_unknown_fields = 0; // a newer agent's timing fields are not kept
		p->timing.base.unknown_fields   = NULL;
		n.timing                        = &p->timing;
	}
	coll_intern_block_put(s->rare, rare, rare_free); // p's record holds its own (NULL: none)
	for (unsigned i = 0; i < md->n_fields; i++) {
		if (fresh[i]) {
			coll_intern_put(t, *(char **) field_at(old, &md->fields[i]));
		}
	}
	p->res       = n;
	p->view.last = &p->res;
	return 0;
undo:
	for (unsigned i = 0; i < md->n_fields; i++) {
		if (fresh[i]) {
			coll_intern_put(t, *(char **) field_at(&n, &md->fields[i]));
		}
	}
	coll_intern_block_put(s->rare, rare, rare_free);
	return -1;
}

// Drops every reference p holds; its memory is the caller's.
static void
probe_fini(coll_state *s, coll_probe *p)
{
	coll_intern                      *t  = s->strings;
	const ProtobufCMessageDescriptor *md = &fl__probe_result__descriptor;
	for (unsigned i = 0; i < md->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &md->fields[i];
		if (!field_is_rare(f) && f->type == PROTOBUF_C_TYPE_STRING) {
			coll_intern_put(t, *(char **) field_at(&p->res, f));
		}
	}
	coll_intern_put(t, p->view.release_at_fail);
	coll_intern_rec_put(s->mores, p->more, more_release, s);
	p->more = NULL;
}

// ---- hosts ----------------------------------------------------------------------------------

// labels_text of a host reported with no labels: nothing allocated for them.
static char no_labels[] = "";

static void
labels_free(coll_host *h)
{
	free(h->labels); // the text is in the same block (or no_labels)
	h->labels      = NULL;
	h->n_labels    = 0;
	h->labels_text = NULL;
}

// Sets h's labels to v[0..n) (already validated). Returns 1 if they changed, 0 if not, -1 when
// out of memory (h unchanged).
static int
labels_set(coll_host *h, const char *const *v, size_t n)
{
	size_t text = 0;

	if (h->labels_text != NULL && n == h->n_labels) {
		size_t i = 0;
		while (i < n && strcmp(h->labels[i], v[i]) == 0) {
			i++;
		}
		if (i == n) {
			return 0;
		}
	}
	if (n == 0) {
		labels_free(h);
		h->labels_text = no_labels;
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		text += strlen(v[i]) + 1;
	}
	// One block: the pointers, each label, then the labels joined (as long as the labels).
	char **nv = malloc(n * sizeof(*nv) + 2 * text);
	if (nv == NULL) {
		return -1;
	}
	char *at = (char *) (nv + n), *joined = at + text, *j = joined;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(v[i]);
		memcpy(at, v[i], len + 1);
		nv[i] = at;
		at += len + 1;
		if (i > 0) {
			*j++ = ',';
		}
		memcpy(j, v[i], len);
		j += len;
	}
	*j = '\0';
	labels_free(h);
	h->labels      = nv;
	h->n_labels    = (uint32_t) n;
	h->labels_text = joined;
	return 1;
}

// Sets h's labels from the hosts row's joined text, keeping only a valid set (a hand-edited
// database must not make the collector hold what a report could not).
static int
labels_restore(coll_host *h, const char *text)
{
	char   buf[FL_LABELS_MAX][FL_LABEL_LEN];
	size_t n = 0;
	char   why[160];
	if (fl_labels_parse(fl_str_or_empty(text), buf, FL_LABELS_MAX, &n, why, sizeof(why)) != 0) {
		n = 0;
	}
	const char *v[FL_LABELS_MAX];
	for (size_t i = 0; i < n; i++) {
		v[i] = buf[i];
	}
	return labels_set(h, v, n) < 0 ? -1 : 0;
}

bool
coll_host_has_labels(const coll_host *h, const coll_filter *f)
{
	if (f == NULL || f->n_labels == 0) {
		return true;
	}
	return fl_labels_match(
	    (const char *const *) h->labels, h->n_labels, f->labels, f->n_labels);
}

// Whether h is one of the hosts f selects (its host name, if any, and its labels).
static bool
host_selected(const coll_host *h, const coll_filter *f)
{
	if (f != NULL && f->host != NULL && f->host[0] != '\0' && strcmp(f->host, h->name) != 0) {
		return false;
	}
	return coll_host_has_labels(h, f);
}

static void
host_free(coll_state *s, coll_host *h)
{
	coll_intern *t = s->strings;
	labels_free(h);
	for (size_t i = 0; i < h->n_probes; i++) {
		probe_fini(s, &h->probes[i]);
	}
	free(h->probes);
	coll_intern_put(t, h->release);
	coll_intern_put(t, h->previous_release);
	coll_intern_put(t, h->agent_version);
	coll_intern_put(t, h->expectations_error);
	free(h);
}

void
coll_state_init(coll_state *s, int64_t now_us)
{
	memset(s, 0, sizeof(*s));
	s->stats.started_us = now_us;
	s->max_hosts        = COLL_DEFAULT_MAX_HOSTS;
	s->max_probes       = COLL_DEFAULT_MAX_PROBES;
	s->latency          = coll_latency_new();
	s->strings          = coll_intern_new(); // NULL: every report is out of memory
	s->rare             = coll_intern_new();
	s->mores            = coll_intern_new();
}

void
coll_state_fini(coll_state *s)
{
	for (size_t i = 0; i < s->n_hosts; i++) {
		host_free(s, s->hosts[i]);
	}
	free(s->hosts);
	free(s->index);
	free(s->verdict);
	free(s->verdict_summary);
	coll_latency_free(s->latency);
	coll_intern_free(s->strings);
	coll_intern_free(s->rare);
	coll_intern_free(s->mores);
	memset(s, 0, sizeof(*s));
}

void
coll_state_adopt(coll_state *dst, coll_state *src)
{
	for (size_t i = 0; i < dst->n_hosts; i++) {
		host_free(dst, dst->hosts[i]);
	}
	free(dst->hosts);
	free(dst->index);
	free(dst->verdict);
	free(dst->verdict_summary);
	// The hosts hold their strings and blocks in src's tables: those move with them; src takes
	// dst's, empty now, and frees them with its fini.
	struct coll_intern *strings = dst->strings, *rare = dst->rare, *mores = dst->mores;
	dst->strings             = src->strings;
	dst->rare                = src->rare;
	dst->mores               = src->mores;
	src->strings             = strings;
	src->rare                = rare;
	src->mores               = mores;
	dst->hosts               = src->hosts;
	dst->n_hosts             = src->n_hosts;
	dst->cap_hosts           = src->cap_hosts;
	dst->index               = src->index;
	dst->index_cap           = src->index_cap;
	dst->verdict             = src->verdict;
	dst->verdict_summary     = src->verdict_summary;
	dst->verdict_scope       = src->verdict_scope;
	dst->verdict_scope_known = src->verdict_scope_known;
	dst->not_restored        = src->not_restored;
	src->hosts               = NULL;
	src->n_hosts = src->cap_hosts = src->index_cap = 0;
	src->index                                     = NULL;
	src->verdict = src->verdict_summary = NULL;
}

// ---- host index ------------------------------------------------------------------------------

coll_host *
coll_state_host(const coll_state *s, const char *name)
{
	if (s->index_cap == 0) {
		return NULL;
	}
	size_t mask = s->index_cap - 1;
	for (size_t i = fl_fnv1a_str(name) & mask;; i = (i + 1) & mask) {
		coll_host *h = s->index[i];
		if (h == NULL) {
			return NULL;
		}
		if (strcmp(h->name, name) == 0) {
			return h;
		}
	}
}

static void
index_put(coll_host **index, size_t cap, coll_host *h)
{
	size_t mask = cap - 1;
	size_t i    = fl_fnv1a_str(h->name) & mask;
	while (index[i] != NULL) {
		i = (i + 1) & mask;
	}
	index[i] = h;
}

static coll_host *
host_add(coll_state *s, const char *name)
{
	coll_host *h;
	if ((s->n_hosts + 1) * 2 > s->index_cap) {
		size_t      cap = s->index_cap ? s->index_cap * 2 : 64;
		coll_host **idx = calloc(cap, sizeof(*idx));
		if (idx == NULL) {
			return NULL;
		}
		for (size_t i = 0; i < s->n_hosts; i++) {
			index_put(idx, cap, s->hosts[i]);
		}
		free(s->index);
		s->index     = idx;
		s->index_cap = cap;
	}
	if (s->n_hosts == s->cap_hosts) {
		size_t      cap = s->cap_hosts ? s->cap_hosts * 2 : 64;
		coll_host **v   = realloc(s->hosts, cap * sizeof(*v));
		if (v == NULL) {
			return NULL;
		}
		s->hosts     = v;
		s->cap_hosts = cap;
	}
	size_t len  = strlen(name);
	size_t size = offsetof(coll_host, name) + len + 1;
	if ((h = calloc(1, size > sizeof(*h) ? size : sizeof(*h))) == NULL) {
		return NULL;
	}
	memcpy(h->name, name, len + 1);
	s->hosts[s->n_hosts++] = h;
	index_put(s->index, s->index_cap, h);
	return h;
}

// Brings the pointers of h's probes up to date after they changed or moved (a report applied, a
// row restored, the array reallocated or compacted): each view points into its own probe, so a
// diagnosis hands the views to the correlation as they are instead of copying every probe.
static void
host_views_sync(coll_host *h)
{
	for (size_t i = 0; i < h->n_probes; i++) {
		coll_probe *p = &h->probes[i];
		if (p->view.last != NULL) {
			p->view.last = &p->res;
		}
		if (p->res.timing != NULL) {
			p->res.timing = &p->timing;
		}
		p->view.baseline_us = p->ok_samples >= 3 ? p->baseline_us : 0;
		p->view.recent      = &p->recent;
		p->view.addrs_prev  = more_prev(p);
	}
}

// Makes room for exactly cap probes (memory per probe is what sizes a collector: no slack).
// 0, or -1 when out of memory (h unchanged).
static int
probes_reserve(coll_host *h, size_t cap)
{
	if (cap <= h->cap_probes) {
		return 0;
	}
	coll_probe *v = realloc(h->probes, cap * sizeof(*v));
	if (v == NULL) {
		return -1;
	}
	h->probes     = v;
	h->cap_probes = (uint32_t) cap;
	host_views_sync(h); // the probes moved
	return 0;
}

// Finds probe `name`, trying position hint first (agents send probes in the same order every
// round, so this is nearly always a hit); adds it when missing (with no result yet: view.last
// is NULL until result_store). NULL on ENOMEM.
static coll_probe *
probe_get(coll_intern *t, coll_host *h, const char *name, size_t hint, bool *created)
{
	*created = false;
	if (hint < h->n_probes && strcmp(h->probes[hint].res.name, name) == 0) {
		return &h->probes[hint];
	}
	for (size_t i = 0; i < h->n_probes; i++) {
		if (strcmp(h->probes[i].res.name, name) == 0) {
			return &h->probes[i];
		}
	}
	if (probes_reserve(h, h->n_probes + 1) != 0) {
		return NULL;
	}
	coll_probe *p = &h->probes[h->n_probes];
	memset(p, 0, sizeof(*p));
	fl__probe_result__init(&p->res);
	const char *v = coll_intern_get(t, name);
	if (v == NULL) {
		return NULL;
	}
	p->res.name = (char *) v; // a message field; the reference is the probe's
	h->n_probes++;
	host_views_sync(h);
	*created = true;
	return p;
}

// ---- ops from state --------------------------------------------------------------------------

static coll_host_row
host_row(const coll_host *h)
{
	coll_host_row row = {
		.host             = h->name,
		.release          = fl_str_or_empty(h->release),
		.previous_release = fl_str_or_empty(h->previous_release),
		.release_since_us = h->release_since_us,
		.first_seen_us    = h->first_seen_us,
		.last_seen_us     = h->last_seen_us,
		.interval_ms      = h->interval_ms,
		.agent_version    = fl_str_or_empty(h->agent_version),
		.boot_id          = h->boot_id,
		.last_seq         = h->last_seq,
		.clock_skew_us    = h->clock_skew_us,
		.labels           = fl_str_or_empty(h->labels_text),
	};
	return row;
}

static int
add_event(coll_ops *ops, int64_t at, const char *host, Fl__HistoryKind kind, const char *probe,
    const char *from, const char *to, int failure, const char *detail, int64_t agent_time)
{
	coll_event ev = { .at_us = at,
		.host            = host,
		.kind            = kind,
		.probe           = probe,
		.from            = from,
		.to              = to,
		.failure         = failure,
		.detail          = detail,
		.agent_time_us   = agent_time };
	return coll_ops_event(ops, &ev);
}

static int
add_latest(coll_ops *ops, const coll_host *h, const coll_probe *p)
{
	uint8_t  stackbuf[2048];
	uint8_t *buf = stackbuf;
	size_t   n   = fl__probe_result__get_packed_size(&p->res);
	int      rv;
	if (n > sizeof(stackbuf) && (buf = malloc(n)) == NULL) {
		return -1;
	}
	fl__probe_result__pack(&p->res, buf);
	coll_latest_row row = { .host = h->name,
		.probe                = p->res.name,
		.result               = buf,
		.result_len           = n,
		.status               = (int) p->res.status,
		.failure              = (int) p->res.failure,
		.since_us             = p->since_us };
	rv                  = coll_ops_latest(ops, &row);
	if (buf != stackbuf) {
		free(buf);
	}
	return rv;
}

// ---- apply -----------------------------------------------------------------------------------

// True when r's seq is ordered with the host's rounds so far although r may come from another
// agent start (boot_id): an agent with a spool file numbers its rounds across starts
// (Report.seq_spans_starts) and re-sends earlier starts' rounds from that file.
static bool
seq_spans_starts(const coll_host *h, const Fl__Report *r)
{
	return h->last_seen_us != 0 && r->seq_spans_starts;
}

// Duplicate detection over a sliding window of seqs per host. Within one agent start (boot_id)
// seqs increase; across starts only when the agent says so (seq_spans_starts), and then the
// window spans starts: a round of an earlier start that comes after the new start's (re-sent
// from the agent's spool file when a connection ended, or to a collector that took over) is
// older than last_seq, a duplicate when seen. Otherwise a new boot_id starts the window over.
// Returns 1 for a new newest round, 0 for an older round not seen before, -1 for a duplicate.
static int
seq_check(coll_host *h, const Fl__Report *r)
{
	uint64_t seq = r->seq;
	if (h->last_seen_us == 0 || (r->boot_id != h->boot_id && !seq_spans_starts(h, r))) {
		// First report, or the agent restarted without a spool file: its seqs start over.
		h->boot_id    = r->boot_id;
		h->last_seq   = seq;
		h->seq_window = 1;
		return 1;
	}
	if (seq > h->last_seq) {
		uint64_t shift = seq - h->last_seq;
		h->seq_window  = shift >= COLL_DUP_WINDOW ? 1 : (h->seq_window << shift) | 1;
		h->last_seq    = seq;
		h->boot_id     = r->boot_id; // the newest round's start (persisted with last_seq)
		return 1;
	}
	uint64_t back = h->last_seq - seq;
	if (back >= COLL_DUP_WINDOW || (h->seq_window & (1ULL << back)) != 0) {
		return -1; // too old to tell is treated as seen: never apply a round twice
	}
	h->seq_window |= 1ULL << back;
	return 0;
}

// Notes a change of the name's answer: 1 when it changed (history event added), 0 when not,
// -1 when out of memory.
static int
addrs_observe(coll_state *s, coll_host *h, coll_probe *p, const Fl__ProbeResult *res, int64_t at,
    int64_t agent_time, coll_ops *ops)
{
	char now[FL_WIRE_MAX_ADDRS * (FL_WIRE_MAX_ADDR + 2)];
	if (res->n_addresses == 0 || res->resolved_name == NULL || res->resolved_name[0] == '\0') {
		return 0; // no answer this round (a failure is its own class): keep the last one
	}
	corr_addresses_text(res, now, sizeof(now));
	const char *held = more_addrs(p); // stays valid: the new record refers to it
	if (held != NULL && strcmp(held, now) == 0) {
		return 0;
	}
	const char *a = coll_intern_get(s->strings, now);
	if (a == NULL) {
		return -1;
	}
	int rc = more_set(s, p, a, held != NULL ? held : more_prev(p), more_rare(p));
	coll_intern_put(s->strings, a); // p's record holds its own
	if (rc != 0 || held == NULL) {
		return rc; // the first answer is not a change
	}
	char detail[FL_WIRE_MAX_DETAIL];
	snprintf(detail, sizeof(detail), "%.120s moved from %.180s to %.180s", res->resolved_name,
	    held, now);
	p->view.addrs_changed_us = at;
	return add_event(ops, at, h->name, FL__HISTORY_KIND__HISTORY_KIND_DNS, p->res.name,
	           p->more->addrs_prev, p->more->addrs, 0, detail, agent_time) == 0
	    ? 1
	    : -1;
}

// Applies one result of a report to its probe (added when new) and marks the probe in carried.
// 0, or -1 when out of memory.
static int
apply_result(coll_state *s, coll_host *h, const Fl__ProbeResult *res, size_t i, int64_t at,
    int64_t agent_time, const corr_params *cp, coll_ops *ops, bool *carried)
{
	coll_intern *t = s->strings;
	bool         created;
	coll_probe  *p = probe_get(t, h, res->name, i, &created);
	if (p == NULL) {
		return -1;
	}
	carried[p - h->probes] = true;
	if (at < p->since_us) {
		at = p->since_us; // a late round never goes before this probe's previous event
	}
	// Slow by the engine's own definition, against the baseline the engine sees.
	bool slow        = corr_result_slow(cp, res, p->ok_samples >= 3 ? p->baseline_us : 0);
	int  old_status  = (int) p->res.status;
	int  new_status  = (int) res->status;
	int  new_failure = (int) res->failure;
	bool transition =
	    created || old_status != new_status || (int) p->res.failure != new_failure;
	// A probe still running repeats its last finished result (in_progress_ms, the same
	// started_us as the result already held): shown, but not a new sample for the streak
	// counters, the recent window or the latency baseline. A result that finished since also
	// comes marked in progress when the next run has begun: it is new, and counts.
	bool repeat = res->in_progress_ms != 0 && !transition && p->view.last != NULL &&
	    res->started_us != 0 && res->started_us == p->res.started_us;
	int moved = addrs_observe(s, h, p, res, at, agent_time, ops);
	if (moved < 0) {
		return -1;
	}

	if (!repeat) {
		p->view.consecutive_slow = slow ? p->view.consecutive_slow + 1 : 0;
		corr_window_push(&p->recent, res->duration_us, slow,
		    res->status == FL__STATUS__STATUS_FAIL &&
		        res->failure != FL__FAILURE_CLASS__FAILURE_SLOW);
		if (slow && p->view.slow_since_us == 0) {
			p->view.slow_since_us = at;
		} else if (!slow && 2 * corr_window_slow(&p->recent) <= p->recent.n) {
			// A fast round outside a spell: the next slow one starts anew.
			p->view.slow_since_us = 0;
		}
	}
	if (repeat) {
		// nothing to count
	} else if (new_status == FL__STATUS__STATUS_FAIL) {
		p->view.consecutive_fail++;
		p->view.consecutive_ok = 0;
		if (p->view.failing_since_us == 0) {
			p->view.failing_since_us = at;
			coll_intern_put(t, p->view.release_at_fail);
			p->view.release_at_fail =
			    coll_intern_get(t, h->release); // NULL on ENOMEM: read as ""
		}
	} else {
		p->view.consecutive_ok++;
		p->view.consecutive_fail = 0;
		p->view.failing_since_us = 0;
		coll_intern_put(t, p->view.release_at_fail);
		p->view.release_at_fail = NULL;
		int64_t d               = (int64_t) res->duration_us;
		if (new_status == FL__STATUS__STATUS_OK && d > 0 && !slow) {
			// EWMA with weight 1/8: follows a real shift in a few dozen rounds, ignores
			// one odd sample. Only healthy, not slow rounds count, so a slow spell does
			// not become normal (it would stop looking slow after ~3 rounds).
			int64_t b      = p->baseline_us;
			p->baseline_us = (uint32_t) (p->ok_samples == 0 ? d : b + (d - b) / 8);
			p->ok_samples += p->ok_samples < 3;
		} else if (new_status == FL__STATUS__STATUS_OK && d > 0 &&
		    p->view.consecutive_slow >= COLL_SLOW_ADOPT_ROUNDS) {
			// Slow for so long that it is the new normal (a moved server, a new route).
			p->baseline_us           = (uint32_t) d;
			p->ok_samples            = 3;
			p->view.consecutive_slow = 0;
		}
	}

	if (result_store(s, p, res) != 0) {
		return -1;
	}

	if (!transition && moved) {
		return add_latest(
		    ops, h, p); // keep the stored result's answer current for a restart
	}
	if (!transition) {
		return 0;
	}
	p->since_us = at;
	if (add_latest(ops, h, p) != 0) {
		return -1;
	}
	// A new probe that is fine is not news; a new probe that fails is.
	if (created && new_status == FL__STATUS__STATUS_OK) {
		return 0;
	}
	return add_event(ops, at, h->name, FL__HISTORY_KIND__HISTORY_KIND_STATUS, p->res.name,
	    fl_status_name((Fl__Status) (created ? FL__STATUS__STATUS_UNKNOWN : old_status)),
	    fl_status_name((Fl__Status) new_status), new_failure, fl_str_or_empty(res->detail),
	    agent_time);
}

// A host's probe set is what its latest report says: probes that report did not carry (no
// longer in the agent's config, or names a hostile peer made up) leave the state and the
// latest table. Their history stays. Keeps the order of the others (probe_get's hint).
static void
drop_absent_probes(coll_state *s, coll_host *h, const bool *carried, coll_ops *ops)
{
	size_t k = 0;
	for (size_t i = 0; i < h->n_probes; i++) {
		coll_probe *p = &h->probes[i];
		if (carried[i]) {
			if (k != i) {
				h->probes[k] = *p;
			}
			k++;
			continue;
		}
		// Out of memory: the row stays in SQLite and comes back at a restart, until the
		// next report after it drops it again.
		coll_ops_drop_latest(ops, h->name, p->res.name);
		probe_fini(s, p);
	}
	h->n_probes = (uint32_t) k;
}

// Feeds one observation of sent_us - now (= skew - transit delay) into the host's skew
// estimate: the max of recent observations, decaying, reset on a new boot_id or after a run of
// delayed reports spread over time (a stepped clock, not a burst after a cut).
static void
skew_observe(coll_host *h, int64_t obs, bool new_boot, int64_t now_us, int64_t ival_us)
{
	if (!h->skew_known || new_boot) {
		h->clock_skew_us = obs;
		h->skew_known    = true;
		h->skew_at_us    = now_us;
		h->delayed_run   = 0;
		return;
	}
	if (fl_sub_sat(h->clock_skew_us, obs) > COLL_LATE_INTERVALS * ival_us) {
		// Delayed in transit: says nothing new about the skew, and the estimate is not
		// decayed for the length of a cut, so the held rounds are placed precisely.
		if (h->delayed_run++ == 0) {
			h->delayed_since_us = now_us;
		}
		if (h->delayed_run >= COLL_SKEW_RESET_RUN &&
		    fl_sub_sat(now_us, h->delayed_since_us) >= COLL_SKEW_RESET_RUN * ival_us) {
			h->clock_skew_us = obs;
			h->skew_at_us    = now_us;
			h->delayed_run   = 0;
		}
		return;
	}
	int64_t elapsed = now_us > h->skew_at_us ? fl_sub_sat(now_us, h->skew_at_us) : 0;
	int64_t decayed =
	    fl_sub_sat(h->clock_skew_us, fl_mul_sat(elapsed, COLL_SKEW_DECAY_PPM) / 1000000);
	h->clock_skew_us = obs > decayed ? obs : decayed;
	h->skew_at_us    = now_us;
	h->delayed_run   = 0;
}

// Updates the observed round length from a new newest round: the longer of its own duration
// (its results' end) and the spacing from the previous round's start; up at once, down by 1/4
// per round, capped at COLL_ROUND_MAX_INTERVALS intervals (a paused agent is not a long round).
static void
round_observe(coll_host *h, const Fl__Report *r, int64_t start, bool consecutive, int64_t ival_us)
{
	int64_t len = 0;
	if (start == 0) {
		return;
	}
	for (size_t i = 0; i < r->n_results; i++) {
		const Fl__ProbeResult *res = r->results[i];
		int64_t end = fl_add_sat(res->started_us, (int64_t) res->duration_us);
		if (res->started_us != 0 && fl_sub_sat(end, start) > len) {
			len = fl_sub_sat(end, start);
		}
	}
	if (consecutive && h->last_round_started != 0 &&
	    fl_sub_sat(start, h->last_round_started) > len) {
		len = fl_sub_sat(start, h->last_round_started);
	}
	if (len > COLL_ROUND_MAX_INTERVALS * ival_us) {
		len = COLL_ROUND_MAX_INTERVALS * ival_us;
	}
	h->round_us           = len >= h->round_us ? len : h->round_us + (len - h->round_us) / 4;
	h->last_round_started = start;
}

int64_t
coll_host_stale_limit_us(const coll_host *h)
{
	int64_t unit = (int64_t) h->interval_ms * 1000;
	if (h->interval_ms == 0) {
		return 0;
	}
	if (h->round_us > unit) {
		unit = h->round_us;
	}
	// A round that hangs on its longest timeout delays the next report by that much: allow one
	// full-length round plus two intervals before calling the host silent.
	int64_t limit = unit * COLL_STALE_INTERVALS;
	int64_t hung  = 2 * (int64_t) h->interval_ms * 1000 + h->max_round_us;
	return hung > limit ? hung : limit;
}

// True when the agent's times (0 = not sent) are within COLL_TIME_WINDOW_US of our clock.
static bool
agent_times_plausible(int64_t sent_us, int64_t round_started_us, int64_t now_us)
{
	int64_t d1 = sent_us != 0 ? fl_sub_sat(sent_us, now_us) : 0;
	int64_t d2 = round_started_us != 0 ? fl_sub_sat(round_started_us, now_us) : 0;
	return d1 >= -COLL_TIME_WINDOW_US && d1 <= COLL_TIME_WINDOW_US &&
	    d2 >= -COLL_TIME_WINDOW_US && d2 <= COLL_TIME_WINDOW_US;
}

// Whether r may be applied at all: within max_probes, and from a known host or one more within
// max_hosts (added here, *is_new set). COLL_APPLIED to go on (*hp set); otherwise the result,
// counted, and r is freed.
static coll_apply_result
admit_report(coll_state *s, Fl__Report *r, coll_host **hp, bool *is_new)
{
	coll_host *h = coll_state_host(s, r->host);

	*is_new = false;
	if (r->n_results > s->max_probes) {
		s->stats.dropped_probe_limit++;
		fl__report__free_unpacked(r, NULL);
		return COLL_PROBE_LIMIT;
	}
	if (h == NULL) {
		if (s->n_hosts >= s->max_hosts) {
			s->stats.dropped_host_limit++;
			fl__report__free_unpacked(r, NULL);
			return COLL_HOST_LIMIT;
		}
		if ((h = host_add(s, r->host)) == NULL) {
			fl__report__free_unpacked(r, NULL);
			return COLL_NOMEM;
		}
		*is_new = true;
	}
	*hp = h;
	return COLL_APPLIED;
}

// When a report's round happened and whether it was delayed in transit (state.h, "Late
// reports").
typedef struct report_times {
	int64_t ival_us;    // the host's interval (1 s when it announced none)
	int64_t agent_time; // round_started_us, 0 when not sent or ignored as implausible
	int64_t at;         // when its history events are stamped (collector clock)
	bool    delayed;    // sent more than COLL_LATE_INTERVALS intervals before it arrived
} report_times;

// Observes the host's clock skew from r and works out r's times.
static void
observe_times(coll_state *s, coll_host *h, const Fl__Report *r, int64_t now_us, bool new_boot,
    report_times *t)
{
	uint32_t ival_ms = r->interval_ms != 0 ? r->interval_ms : h->interval_ms;
	int64_t  late_us;
	// Agent clock minus ours, estimated robustly (state.h); sent_us is stamped on every
	// (re)send, so a spool replay is not delayed in transit, but a round that waited in a
	// kernel buffer during a silent cut is.
	int64_t sent_us = r->sent_us;

	t->ival_us    = (int64_t) (ival_ms != 0 ? ival_ms : 1000) * 1000;
	late_us       = COLL_LATE_INTERVALS * t->ival_us;
	t->delayed    = false;
	t->agent_time = r->round_started_us;
	if (!agent_times_plausible(sent_us, t->agent_time, now_us)) {
		s->stats.reports_time_ignored++;
		sent_us       = 0;
		t->agent_time = 0;
	}
	if (sent_us != 0) {
		int64_t obs = fl_sub_sat(sent_us, now_us);
		skew_observe(h, obs, new_boot, now_us, t->ival_us);
		t->delayed = fl_sub_sat(h->clock_skew_us, obs) > late_us;
	}
	t->at = now_us;
	if (t->agent_time != 0 && h->skew_known) {
		int64_t when = fl_sub_sat(t->agent_time, h->clock_skew_us);
		if (r->replayed || fl_sub_sat(now_us, when) > late_us) {
			t->at =
			    when < now_us ? when : now_us; // late: when the round really happened
		}
	}
}

// Staleness is on our clock: only a report sent in time shows the host is reachable now. A
// delayed one (stuck in transit) neither ends a stale spell nor moves last_seen.
static void
observe_heard(coll_host *h, const report_times *t, int64_t now_us, coll_ops *ops)
{
	if (h->stale && !t->delayed) {
		char detail[96], d[32];
		h->stale = false;
		snprintf(detail, sizeof(detail), "reporting again after %s of silence",
		    fl_duration_format(fl_sub_sat(now_us, h->stale_ref_us), d, sizeof(d)));
		add_event(ops, now_us, h->name, FL__HISTORY_KIND__HISTORY_KIND_BACK, "", "stale",
		    "ok", 0, detail, t->agent_time);
	}
	if (!t->delayed || h->last_seen_us == 0) {
		h->last_seen_us = now_us;
		h->stale_ref_us = now_us;
		h->seen_dirty   = true;
	}
}

// Takes the host's own fields from r (release, with a "release" event when it changed, agent
// version, interval, labels ...). 1 when a field of the hosts row changed, 0 when none did, -1
// when out of memory.
static int
update_host(coll_intern *strings, coll_host *h, const Fl__Report *r, bool is_new,
    const report_times *t, coll_ops *ops)
{
	const char *release =
	    (r->release != NULL && r->release[0] != '\0') ? r->release : "unknown";
	int changed = 0, lc;

	if (!is_new && h->release != NULL && strcmp(h->release, release) != 0) {
		int64_t rat = t->at > h->release_since_us ? t->at : h->release_since_us;
		if (coll_intern_set(strings, &h->previous_release, h->release) < 0) {
			return -1;
		}
		add_event(ops, rat, h->name, FL__HISTORY_KIND__HISTORY_KIND_RELEASE, "", h->release,
		    release, 0, "", t->agent_time);
		h->release_since_us = rat;
	}
	if ((changed |= coll_intern_set(strings, &h->release, release)) < 0 ||
	    (changed |= coll_intern_set(strings, &h->agent_version, r->agent_version)) < 0 ||
	    coll_intern_set(strings, &h->expectations_error, r->expectations_error) < 0) {
		return -1;
	}
	if (h->interval_ms != r->interval_ms) {
		h->interval_ms = r->interval_ms;
		changed        = 1;
	}
	if ((lc = labels_set(h, (const char *const *) r->labels, r->n_labels)) < 0) {
		return -1;
	}
	h->spool_dropped = r->spool_dropped;
	h->max_round_us  = (int64_t) r->max_round_ms * 1000;
	return changed | lc;
}

// Appends h's row as op (COLL_OP_HOST or COLL_OP_SEEN) and notes last_seen as written.
static void
write_host_row(coll_host *h, coll_op_kind op, int64_t now_us, coll_ops *ops)
{
	coll_host_row row = host_row(h);
	if (coll_ops_host(ops, op, &row) == 0) {
		h->seen_written_us = now_us;
		h->seen_dirty      = false;
	}
}

// Applies every result of r (taken: freed here, the probes keep copies) and drops the probes
// it no longer has. 0, or -1 when out of memory.
static int
apply_results(coll_state *s, coll_host *h, Fl__Report *r, const report_times *t, coll_ops *ops)
{
	// Probes held before (at most max_probes) plus the ones this report adds (as many).
	bool        carried[2 * FL_WIRE_MAX_RESULTS] = { false };
	corr_params cp;
	int         rc = probes_reserve(h, r->n_results);

	corr_params_default(&cp);
	for (size_t i = 0; i < r->n_results && rc == 0; i++) {
		rc = apply_result(s, h, r->results[i], i, t->at, t->agent_time, &cp, ops, carried);
	}
	if (rc == 0) {
		drop_absent_probes(s, h, carried, ops);
	}
	fl__report__free_unpacked(r, NULL);
	host_views_sync(h);
	return rc;
}

coll_apply_result
coll_state_apply(coll_state *s, Fl__Report *r, int64_t now_us, coll_ops *ops)
{
	coll_host        *h;
	bool              is_new, host_written = true;
	int               sc, changed;
	report_times      t;
	coll_apply_result ar = admit_report(s, r, &h, &is_new);

	if (ar != COLL_APPLIED) {
		return ar;
	}
	bool     other_boot = h->last_seen_us == 0 || r->boot_id != h->boot_id;
	uint64_t prev_seq   = h->last_seq;
	if ((sc = seq_check(h, r)) < 0) {
		s->stats.dropped_duplicate++;
		fl__report__free_unpacked(r, NULL);
		return COLL_DUPLICATE;
	}
	// A new start only when its round is the newest: an earlier start's round re-sent late
	// (spool file) must not reset what was learnt of the current one (clock skew, cadence).
	bool new_boot = other_boot && sc > 0;
	s->stats.reports_applied++;
	s->stats.results_applied += r->n_results;
	observe_times(s, h, r, now_us, new_boot, &t);
	if (sc > 0) {
		round_observe(h, r, t.agent_time, !new_boot && r->seq == prev_seq + 1, t.ival_us);
	}
	observe_heard(h, &t, now_us, ops);
	if (is_new) {
		h->first_seen_us    = now_us;
		h->release_since_us = t.at;
	}
	if (sc == 0) {
		// An older round arriving late (out of order): its results are older than what we
		// hold, so it must not overwrite the latest state. It is counted as applied.
		fl__report__free_unpacked(r, NULL);
		return COLL_APPLIED;
	}
	for (size_t i = 0; i < r->n_results; i++) {
		coll_latency_observe(s->latency, r->results[i]);
	}
	if ((changed = update_host(s->strings, h, r, is_new, &t, ops)) < 0) {
		fl__report__free_unpacked(r, NULL);
		return COLL_NOMEM;
	}
	if (changed) {
		write_host_row(h, COLL_OP_HOST, now_us, ops);
	} else if (fl_sub_sat(now_us, h->seen_written_us) >= COLL_SEEN_WRITE_US) {
		write_host_row(h, COLL_OP_SEEN, now_us, ops);
	} else {
		host_written = false;
	}
	size_t ops_before = ops->n;
	if (apply_results(s, h, r, &t, ops) != 0) {
		return COLL_NOMEM;
	}
	if (!host_written && ops->n > ops_before) {
		// This round changed something durable: its seq goes to SQLite in the same
		// transaction, so after a crash the agent's re-sent copy of it is recognised as a
		// duplicate instead of replaying its transitions into history a second time.
		write_host_row(h, COLL_OP_SEEN, now_us, ops);
	}
	return COLL_APPLIED;
}

size_t
coll_state_check_stale(coll_state *s, int64_t now_us, coll_ops *ops)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n_hosts; i++) {
		coll_host *h     = s->hosts[i];
		int64_t    limit = coll_host_stale_limit_us(h);
		if (h->stale || limit == 0) {
			continue;
		}
		int64_t silent = fl_sub_sat(now_us, h->stale_ref_us);
		if (silent > limit) {
			char detail[160], ts[40], d[32], l[32];
			h->stale = true;
			snprintf(detail, sizeof(detail),
			    "nothing for %s (interval %u ms, allowed %s), last seen %s",
			    fl_duration_format(silent, d, sizeof(d)), h->interval_ms,
			    fl_duration_format(limit, l, sizeof(l)),
			    h->last_seen_us ? fl_time_format(h->last_seen_us, ts, sizeof(ts))
			                    : "never");
			add_event(ops, now_us, h->name, FL__HISTORY_KIND__HISTORY_KIND_STALE, "",
			    "ok", "stale", 0, detail, 0);
			n++;
		}
	}
	return n;
}

void
coll_state_flush_seen(coll_state *s, int64_t now_us, int64_t min_age_us, coll_ops *ops)
{
	for (size_t i = 0; i < s->n_hosts; i++) {
		coll_host *h = s->hosts[i];
		if (h->seen_dirty && fl_sub_sat(now_us, h->seen_written_us) >= min_age_us) {
			coll_host_row row = host_row(h);
			if (coll_ops_host(ops, COLL_OP_SEEN, &row) == 0) {
				h->seen_written_us = now_us;
				h->seen_dirty      = false;
			}
		}
	}
}

// ---- forgetting ------------------------------------------------------------------------------

// Takes h out of the host list and rebuilds the index (forgetting is rare: O(hosts) is fine,
// and open addressing has no cheap delete). The list keeps its order.
static void
host_remove(coll_state *s, coll_host *h)
{
	size_t k = 0;
	for (size_t i = 0; i < s->n_hosts; i++) {
		if (s->hosts[i] != h) {
			s->hosts[k++] = s->hosts[i];
		}
	}
	s->n_hosts = k;
	memset(s->index, 0, s->index_cap * sizeof(*s->index));
	for (size_t i = 0; i < s->n_hosts; i++) {
		index_put(s->index, s->index_cap, s->hosts[i]);
	}
	host_free(s, h);
}

int
coll_state_forget(coll_state *s, const char *name, int64_t now_us, const char *detail,
    coll_ops *ops, coll_forgotten *what)
{
	coll_host    *h = coll_state_host(s, name);
	coll_host_row row;
	size_t        before = ops->n;

	if (h == NULL) {
		return 1;
	}
	memset(&row, 0, sizeof(row));
	row.host = h->name;
	if (coll_ops_host(ops, COLL_OP_FORGET, &row) != 0 ||
	    add_event(ops, now_us, h->name, FL__HISTORY_KIND__HISTORY_KIND_FORGOTTEN, "",
	        h->stale ? "stale" : "reporting", "forgotten", 0, detail, 0) != 0) {
		coll_ops_truncate(ops, before); // all or nothing: no delete without its event
		return -1;
	}
	if (what != NULL) {
		what->last_seen_us = h->last_seen_us;
		what->stale        = h->stale;
		what->probes       = (uint32_t) h->n_probes;
	}
	host_remove(s, h);
	return 0;
}

size_t
coll_state_forget_silent(coll_state *s, int64_t now_us, int64_t after_us, coll_ops *ops)
{
	size_t n = 0;
	if (after_us <= 0) {
		return 0;
	}
	for (size_t i = 0; i < s->n_hosts;) {
		coll_host *h = s->hosts[i];
		// stale_ref_us, not last_seen: after our own downtime a host that was fine gets the
		// full allowance again, as for staleness (one already stale keeps its last_seen).
		if (!h->stale || fl_sub_sat(now_us, h->stale_ref_us) <= after_us) {
			i++;
			continue;
		}
		char detail[160], ts[40], d[32], a[32];
		snprintf(detail, sizeof(detail), "silent for %s (forget_after %s), last seen %s",
		    fl_duration_format(fl_sub_sat(now_us, h->stale_ref_us), d, sizeof(d)),
		    fl_duration_format(after_us, a, sizeof(a)),
		    h->last_seen_us ? fl_time_format(h->last_seen_us, ts, sizeof(ts)) : "never");
		if (coll_state_forget(s, h->name, now_us, detail, ops, NULL) != 0) {
			break; // out of memory: try again at the next check
		}
		n++; // hosts[i] is now the next host
	}
	return n;
}

// ---- correlation -----------------------------------------------------------------------------

Fl__DiagnoseReply *
coll_state_diagnose(const coll_state *s, int64_t now_us, const char *only_host)
{
	coll_filter f = { .host = only_host };
	return coll_state_diagnose_filtered(s, now_us, &f);
}

// The answer to `diagnose --host H --label ...` when H is known but not in the label set: the
// engine would otherwise say H never reported.
static Fl__DiagnoseReply *
outside_labels(const char *host)
{
	Fl__DiagnoseReply *r = malloc(sizeof(*r));
	char               text[320];
	if (r == NULL) {
		return NULL;
	}
	fl__diagnose_reply__init(r);
	r->verdict = FL__VERDICT__VERDICT_UNKNOWN;
	snprintf(text, sizeof(text), "%.256s does not carry the labels asked for", host);
	if ((r->summary = strdup(text)) == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

Fl__DiagnoseReply *
coll_state_diagnose_filtered(const coll_state *s, int64_t now_us, const coll_filter *f)
{
	corr_view          v;
	corr_host         *hosts;
	size_t             nh = 0;
	Fl__DiagnoseReply *reply;
	const char        *only_host = f != NULL ? f->host : NULL;
	const coll_host   *named;

	if (only_host != NULL && only_host[0] != '\0' &&
	    (named = coll_state_host(s, only_host)) != NULL && !coll_host_has_labels(named, f)) {
		return outside_labels(only_host);
	}
	hosts = calloc(s->n_hosts ? s->n_hosts : 1, sizeof(*hosts));
	if (hosts == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < s->n_hosts; i++) {
		const coll_host *h = s->hosts[i];
		if (!coll_host_has_labels(h, f)) {
			continue; // another label set: not even counted among a target's hosts
		}
		hosts[nh++] = (corr_host) {
			.host               = h->name,
			.release            = fl_str_or_empty(h->release),
			.previous_release   = fl_str_or_empty(h->previous_release),
			.release_since_us   = h->release_since_us,
			.last_seen_us       = h->last_seen_us,
			.stale              = h->stale,
			.interval_ms        = h->interval_ms,
			.expectations_error = fl_str_or_empty(h->expectations_error),
			.n_probes           = h->n_probes,
			.probes =
			    h->n_probes ? &h->probes[0].view : NULL, // current: host_views_sync
			.probe_size = sizeof(coll_probe),
		};
	}
	memset(&v, 0, sizeof(v));
	v.now_us = now_us;
	corr_params_default(&v.params);
	v.n_hosts   = nh;
	v.hosts     = hosts;
	v.only_host = (only_host != NULL && only_host[0] != '\0') ? only_host : NULL;
	reply       = corr_diagnose(&v);
	free(hosts);
	return reply;
}

// What makes a diagnosis news: the verdict and the top finding's verdict, hosts and targets.
// Summaries carry live figures (latency, round counts) that would otherwise record a "change"
// every second while nothing changed.
static uint64_t
verdict_scope(const Fl__DiagnoseReply *r)
{
	uint64_t h = fl_fnv1a_field(FL_FNV1A_OFFSET, fl_verdict_name(r->verdict));
	if (r->n_findings > 0) {
		const Fl__Finding *f = r->findings[0];
		h                    = fl_fnv1a_field(h, fl_verdict_name(f->verdict));
		for (size_t i = 0; i < f->n_hosts; i++) {
			h = fl_fnv1a_field(h, f->hosts[i]);
		}
		for (size_t i = 0; i < f->n_targets; i++) {
			h = fl_fnv1a_field(h, f->targets[i]);
		}
	}
	return h;
}

int
coll_state_record_verdict(coll_state *s, int64_t now_us, coll_ops *ops)
{
	Fl__DiagnoseReply *r = coll_state_diagnose(s, now_us, NULL);
	if (r == NULL) {
		return 0;
	}
	int added = coll_state_record_diagnosis(s, r, now_us, ops);
	corr_reply_free(r);
	return added;
}

int
coll_state_record_diagnosis(
    coll_state *s, const Fl__DiagnoseReply *r, int64_t now_us, coll_ops *ops)
{
	const char *name    = fl_verdict_name(r->verdict);
	const char *summary = fl_str_or_empty(r->summary);
	uint64_t    scope   = verdict_scope(r);
	int         added   = 0;
	memset(s->findings, 0, sizeof(s->findings));
	for (size_t i = 0; i < r->n_findings; i++) {
		if ((size_t) r->findings[i]->verdict <
		    sizeof(s->findings) / sizeof(s->findings[0])) {
			s->findings[r->findings[i]->verdict]++;
		}
	}
	// After a restart only the verdict name is known; its scope is learnt silently.
	bool changed = s->verdict == NULL || strcmp(s->verdict, name) != 0 ||
	    (s->verdict_scope_known && s->verdict_scope != scope);
	s->verdict_scope       = scope;
	s->verdict_scope_known = true;
	if (changed) {
		// The first verdict of a fresh database being "healthy" is not news.
		if (s->verdict != NULL || r->verdict != FL__VERDICT__VERDICT_HEALTHY) {
			added = add_event(ops, now_us, "", FL__HISTORY_KIND__HISTORY_KIND_VERDICT,
			            "", fl_str_or_empty(s->verdict), name, 0, summary, 0) == 0;
		}
		fl_str_replace(&s->verdict, name);
		fl_str_replace(&s->verdict_summary, summary);
	}
	if (s->on_diagnosis != NULL) {
		s->on_diagnosis(s->on_diagnosis_arg, s, r, now_us);
	}
	return added;
}

// ---- status ----------------------------------------------------------------------------------

static int
cmp_host(const void *a, const void *b)
{
	const coll_host *const *x = a;
	const coll_host *const *y = b;
	return strcmp((*x)->name, (*y)->name);
}

// Fills hs from h, borrowing its strings and results (the message is packed, never freed:
// ownership rule "messages built for packing borrow"). hs->probes is a new array the caller
// frees. Returns 0 or -1 (out of memory).
static int
host_state(const coll_host *h, Fl__HostState *hs)
{
	fl__host_state__init(hs);
	hs->host               = (char *) h->name; // packed only
	hs->release            = (char *) fl_str_or_empty(h->release);
	hs->agent_version      = (char *) fl_str_or_empty(h->agent_version);
	hs->interval_ms        = h->interval_ms;
	hs->first_seen_us      = h->first_seen_us;
	hs->last_seen_us       = h->last_seen_us;
	hs->stale              = h->stale;
	hs->clock_skew_us      = h->clock_skew_us;
	hs->last_seq           = h->last_seq;
	hs->spool_dropped      = h->spool_dropped;
	hs->release_since_us   = h->release_since_us;
	hs->previous_release   = (char *) fl_str_or_empty(h->previous_release);
	hs->expectations_error = (char *) fl_str_or_empty(h->expectations_error);
	hs->n_labels           = h->n_labels;
	hs->labels             = h->labels;
	if (h->n_probes == 0) {
		return 0;
	}
	if ((hs->probes = malloc(h->n_probes * sizeof(*hs->probes))) == NULL) {
		return -1;
	}
	for (size_t j = 0; j < h->n_probes; j++) {
		hs->probes[hs->n_probes++] = (Fl__ProbeResult *) &h->probes[j].res; // packed only
	}
	return 0;
}

static void
stats_fill(const coll_stats *src, Fl__CollectorStats *st)
{
	st->reports_received        = src->reports_received;
	st->reports_applied         = src->reports_applied;
	st->results_applied         = src->results_applied;
	st->dropped_undecodable     = src->dropped_undecodable;
	st->dropped_schema          = src->dropped_schema;
	st->dropped_oversize        = src->dropped_oversize;
	st->dropped_invalid         = src->dropped_invalid;
	st->dropped_duplicate       = src->dropped_duplicate;
	st->dropped_overload        = src->dropped_overload;
	st->dropped_unauthenticated = src->dropped_unauthenticated;
	st->dropped_host_limit      = src->dropped_host_limit;
	st->dropped_probe_limit     = src->dropped_probe_limit;
	st->reports_time_ignored    = src->reports_time_ignored;
	st->history_events_lost     = src->history_events_lost;
	st->state_writes_lost       = src->state_writes_lost;
	st->control_clients_cut     = src->control_clients_cut;
	st->control_busy            = src->control_busy;
	st->connections_refused     = src->connections_refused;
	st->slow_abandoned          = src->slow_abandoned;
	st->fd_exhausted            = src->fd_exhausted;
	st->started_us              = src->started_us;
}

int
coll_state_names_with_labels(const coll_state *s, const coll_filter *f, char ***out, size_t *n)
{
	char **v = calloc(s->n_hosts ? s->n_hosts : 1, sizeof(*v));
	size_t k = 0;
	if (v == NULL) {
		return -1;
	}
	for (size_t i = 0; i < s->n_hosts; i++) {
		if (!coll_host_has_labels(s->hosts[i], f)) {
			continue;
		}
		if ((v[k] = strdup(s->hosts[i]->name)) == NULL) {
			coll_names_free(v, k);
			return -1;
		}
		k++;
	}
	*out = v;
	*n   = k;
	return 0;
}

void
coll_names_free(char **v, size_t n)
{
	for (size_t i = 0; i < n && v != NULL; i++) {
		free(v[i]);
	}
	free(v);
}

// The hosts f selects named after `after`, sorted by name, into sel (room for every host).
static size_t
select_hosts(const coll_state *s, const coll_filter *f, const char *after, coll_host **sel)
{
	size_t n = 0;
	if (f != NULL && f->host != NULL && f->host[0] != '\0') {
		// One host asked for by name: the index finds it without a pass over the fleet.
		coll_host *h = coll_state_host(s, f->host);
		if (h != NULL && coll_host_has_labels(h, f) &&
		    (after == NULL || after[0] == '\0' || strcmp(h->name, after) > 0)) {
			sel[n++] = h;
		}
		return n;
	}
	for (size_t i = 0; i < s->n_hosts; i++) {
		const char *name = s->hosts[i]->name;
		if (host_selected(s->hosts[i], f) &&
		    (after == NULL || after[0] == '\0' || strcmp(name, after) > 0)) {
			sel[n++] = s->hosts[i];
		}
	}
	qsort(sel, n, sizeof(*sel), cmp_host);
	return n;
}

// Fills st->hs with the first of the n hosts of sel that fit in page_bytes (0: all), setting
// reply.more when some are left out. -1 when out of memory.
static int
fill_page(coll_status *st, coll_host *const *sel, size_t n, size_t page_bytes)
{
	size_t bytes = 0;
	for (size_t i = 0; i < n; i++) {
		if (host_state(sel[i], &st->hs[i]) != 0) {
			return -1;
		}
		st->reply.n_hosts++;
		// Each host is a length-delimited field: its size plus at most 6 bytes of key and
		// length.
		bytes += fl__host_state__get_packed_size(&st->hs[i]) + 6;
		if (page_bytes != 0 && st->reply.n_hosts > 1 && bytes > page_bytes) {
			free(st->hs[i].probes); // the next page starts with it
			st->reply.n_hosts--;
			st->reply.more = true;
			break;
		}
		st->hsp[i] = &st->hs[i];
	}
	return 0;
}

int
coll_state_status(const coll_state *s, const coll_filter *f, const char *after, size_t page_bytes,
    int64_t now_us, coll_status *st)
{
	size_t      room = s->n_hosts ? s->n_hosts : 1;
	coll_host **sel  = malloc(room * sizeof(*sel));
	int         rc   = -1;

	memset(st, 0, sizeof(*st));
	fl__status_reply__init(&st->reply);
	fl__collector_stats__init(&st->stats);
	st->hs  = malloc(room * sizeof(*st->hs));
	st->hsp = malloc(room * sizeof(*st->hsp));
	if (sel != NULL && st->hs != NULL && st->hsp != NULL) {
		rc = fill_page(st, sel, select_hosts(s, f, after, sel), page_bytes);
	}
	free(sel);
	if (rc != 0) {
		coll_status_fini(st);
		return -1;
	}
	stats_fill(&s->stats, &st->stats);
	st->reply.now_us = now_us;
	st->reply.hosts  = st->hsp;
	st->reply.stats  = &st->stats;
	return 0;
}

void
coll_status_fini(coll_status *st)
{
	for (size_t i = 0; st->hs != NULL && i < st->reply.n_hosts; i++) {
		free(st->hs[i].probes);
	}
	free(st->hs);
	free(st->hsp);
	memset(st, 0, sizeof(*st));
}

// ---- live hosts ------------------------------------------------------------------------------

static int
live_add(coll_live *l, const coll_host *h)
{
	size_t n = l->n;
	char **hv, **rv, **pv;
	if ((hv = realloc(l->hosts, (n + 1) * sizeof(*hv))) != NULL) {
		l->hosts = hv;
	}
	if ((rv = realloc(l->releases, (n + 1) * sizeof(*rv))) != NULL) {
		l->releases = rv;
	}
	if ((pv = realloc(l->previous, (n + 1) * sizeof(*pv))) != NULL) {
		l->previous = pv;
	}
	if (hv == NULL || rv == NULL || pv == NULL) {
		return -1;
	}
	hv[n] = strdup(h->name);
	rv[n] = strdup(h->release ? h->release : "unknown");
	pv[n] = fl_str_dup(h->previous_release);
	if (hv[n] == NULL || rv[n] == NULL || pv[n] == NULL) {
		free(hv[n]);
		free(rv[n]);
		free(pv[n]);
		return -1;
	}
	l->n++;
	return 0;
}

int
coll_live_hosts(const coll_state *s, const coll_filter *f, coll_live *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < s->n_hosts; i++) {
		const coll_host *h = s->hosts[i];
		if (h->stale || !coll_host_has_labels(h, f)) {
			continue;
		}
		if (live_add(out, h) != 0) {
			coll_live_free(out);
			return -1;
		}
	}
	return 0;
}

void
coll_live_free(coll_live *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->hosts[i]);
		free(l->releases[i]);
		free(l->previous[i]);
	}
	free(l->hosts);
	free(l->releases);
	free(l->previous);
	memset(l, 0, sizeof(*l));
}

// ---- restore ---------------------------------------------------------------------------------

// The rounds a restored probe has held its status, as near as the store tells: its row's since
// is its last transition and the host's last_seen its last report (a transition before that
// report would be in the same snapshot), so one round, plus one per interval between them.
// A standby, and a collector restarted, then diagnose a streak as the active counted it
// (correlate.h: a failure needs fail_threshold rounds) instead of as one round old.
static uint32_t
restored_rounds(const coll_host *h, const coll_probe *p)
{
	int64_t span = fl_sub_sat(h->last_seen_us, p->since_us);
	int64_t n;

	if (span <= 0) {
		return 1;
	}
	if (h->interval_ms == 0) {
		return 2; // at least one report after the transition
	}
	n = 1 + span / ((int64_t) h->interval_ms * 1000);
	return n > 1000000 ? 1000000 : (uint32_t) n;
}

// After a host's row is restored over it (a standby's refresh), its probes' streaks run to its
// new last_seen, as a load would restore them.
static void
restored_streaks(coll_host *h)
{
	for (size_t i = 0; i < h->n_probes; i++) {
		coll_probe *p = &h->probes[i];
		if (p->view.consecutive_fail > 0) {
			p->view.consecutive_fail = restored_rounds(h, p);
		} else if (p->view.consecutive_ok > 0) {
			p->view.consecutive_ok = restored_rounds(h, p);
		}
	}
}

// h's probe named name, or NULL.
static coll_probe *
probe_find(coll_host *h, const char *name)
{
	for (size_t i = 0; i < h->n_probes; i++) {
		if (strcmp(h->probes[i].res.name, name) == 0) {
			return &h->probes[i];
		}
	}
	return NULL;
}

// Makes p the blank record probe_get creates, in its place and with its name: restoring a row
// over a probe the state holds then gives exactly what restoring it into an empty state gives.
// 0, or -1 when out of memory (p unchanged).
static int
probe_blank(coll_state *s, coll_probe *p)
{
	const char *name = coll_intern_get(s->strings, p->res.name);
	if (name == NULL) {
		return -1;
	}
	probe_fini(s, p);
	memset(p, 0, sizeof(*p));
	fl__probe_result__init(&p->res);
	p->res.name = (char *) name;
	return 0;
}

void
coll_state_restored_at(coll_state *s, int64_t now_us)
{
	for (size_t i = 0; i < s->n_hosts; i++) {
		coll_host *h       = s->hosts[i];
		h->seq_window      = ~0ULL;
		h->seen_written_us = h->last_seen_us;
		h->seen_dirty      = false;
		if (!h->stale) {
			h->stale_ref_us = now_us > h->last_seen_us ? now_us : h->last_seen_us;
		}
	}
}

int
coll_state_restore_host(void *arg, const coll_host_row *row)
{
	coll_state *s = arg;
	coll_host  *h = coll_state_host(s, row->host);
	if (h == NULL && s->n_hosts >= s->max_hosts) {
		s->not_restored++; // rows come most recent first: the longest silent stay out
		return 0;
	}
	if (h == NULL && (h = host_add(s, row->host)) == NULL) {
		return -1;
	}
	if (coll_intern_set(s->strings, &h->release, row->release) < 0 ||
	    coll_intern_set(s->strings, &h->previous_release, row->previous_release) < 0 ||
	    coll_intern_set(s->strings, &h->agent_version, row->agent_version) < 0 ||
	    labels_restore(h, row->labels) < 0) {
		return -1;
	}
	h->release_since_us = row->release_since_us;
	h->first_seen_us    = row->first_seen_us;
	h->last_seen_us     = row->last_seen_us;
	h->seen_written_us  = row->last_seen_us;
	h->interval_ms      = row->interval_ms;
	h->boot_id          = row->boot_id;
	h->last_seq         = row->last_seq;
	h->clock_skew_us    = row->clock_skew_us;
	// We do not know which recent seqs were applied: treat the whole window as seen rather
	// than risk applying a round twice.
	h->seq_window = ~0ULL;
	h->stale = false; // a host restored again over itself (a standby's refresh) may be back
	restored_streaks(h);
	if (row->stale) {
		// Stale when we stopped (its "stale" event is in history): still stale, silent
		// since last_seen, and not news again.
		h->stale        = true;
		h->stale_ref_us = h->last_seen_us;
		return 0;
	}
	// Give every other host COLL_STALE_INTERVALS intervals after our own start before calling
	// it stale: while we were down nobody could report.
	h->stale_ref_us =
	    s->stats.started_us > h->last_seen_us ? s->stats.started_us : h->last_seen_us;
	return 0;
}

int
coll_state_restore_latest(void *arg, const coll_latest_row *row)
{
	coll_state      *s = arg;
	coll_host       *h = coll_state_host(s, row->host);
	coll_probe      *had;
	bool             created;
	Fl__ProbeResult *res;
	if (h == NULL) {
		return 0; // orphan row (or a host beyond max_hosts): ignore
	}
	// A row restored again (a standby's refresh) replaces its probe in place: no new room.
	had = probe_find(h, row->probe);
	// Within the bounds of one report (state.h), whatever the file holds; the next report
	// brings back a probe left out here.
	if (row->result_len > FL_WIRE_MAX_MSG ||
	    (had == NULL &&
	        (h->n_probes >= s->max_probes ||
	            h->restored_bytes + row->result_len > FL_WIRE_MAX_MSG))) {
		return 0;
	}
	if ((res = fl__probe_result__unpack(NULL, row->result_len, row->result)) == NULL) {
		return 0; // unreadable blob: the next report brings the probe back
	}
	if (strcmp(res->name, row->probe) != 0) {
		fl__probe_result__free_unpacked(res, NULL);
		return 0; // a blob of another probe: as unreadable
	}
	if (had != NULL && probe_blank(s, had) != 0) {
		fl__probe_result__free_unpacked(res, NULL);
		return -1;
	}
	if (had == NULL) {
		h->restored_bytes += (uint32_t) row->result_len;
	}
	coll_probe *p  = probe_get(s->strings, h, row->probe, h->n_probes, &created);
	int         rc = p != NULL ? result_store(s, p, res) : -1;
	if (rc == 0 && res->n_addresses > 0) {
		char        buf[FL_WIRE_MAX_ADDRS * (FL_WIRE_MAX_ADDR + 2)];
		const char *a =
		    coll_intern_get(s->strings, corr_addresses_text(res, buf, sizeof(buf)));
		if (a == NULL || more_set(s, p, a, more_prev(p), more_rare(p)) != 0) {
			rc = -1;
		}
		coll_intern_put(s->strings, a); // p's record holds its own
	}
	fl__probe_result__free_unpacked(res, NULL);
	if (rc != 0) {
		host_views_sync(h);
		return -1;
	}
	p->res.status  = (Fl__Status) row->status;
	p->res.failure = (Fl__FailureClass) row->failure;
	p->since_us    = row->since_us;
	if (row->status == FL__STATUS__STATUS_FAIL) {
		p->view.consecutive_fail = restored_rounds(h, p);
		p->view.failing_since_us = row->since_us;
		coll_intern_put(s->strings, p->view.release_at_fail);
		p->view.release_at_fail = coll_intern_get(s->strings, h->release);
	} else {
		p->view.consecutive_ok = restored_rounds(h, p);
	}
	host_views_sync(h);
	return 0;
}

int
coll_state_restore_verdict(void *arg, const char *verdict, const char *summary)
{
	coll_state *s = arg;
	if (fl_str_replace(&s->verdict, verdict) < 0 ||
	    fl_str_replace(&s->verdict_summary, summary) < 0) {
		return -1;
	}
	return 0;
}
