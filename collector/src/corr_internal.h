// corr_internal.h - what the correlation engine's files share; not part of its contract.
//
// correlate.h is the contract (a pure function from a corr_view to a DiagnoseReply). Behind it:
//
//   correlate.c   the engine: classifies every (host, probe) once, groups the entries by target,
//                 runs the rules in order, ranks the findings and builds the reply;
//   corr_window.c the recent-rounds window and the hysteresis read from it (spell, shaky, clean);
//   corr_rules.c  the rules: per target, which entries are which trouble, and what that means
//                 (verdict, hosts, release); they never spell a sentence themselves;
//   corr_words.c  every sentence: summaries, evidence lines and the phrases they are built of.
//
// Everything here lives for one corr_diagnose() call in one eng; strings returned as char * are
// heap copies the caller frees; const char * are borrowed from the view or from a caller's buffer.
// Allocation failures set eng.oom and return NULL / false; callers carry on and the reply is
// dropped at the end.

#ifndef FL_COLLECTOR_CORR_INTERNAL_H
#define FL_COLLECTOR_CORR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "correlate.h"
#include "fl/str.h" // fl_str_or_empty, fl_str_dup: NULL strings of the views read as ""

#define CORR_MAX_EVIDENCE         40      // evidence lines per finding before "... and N more"
#define CORR_MAX_NAMED            3       // host names spelled out in a summary
#define CORR_MAX_RELEASES         8       // distinct releases tracked per comparison
#define CORR_MAX_UNMET            16      // distinct unmet requirements tracked per finding
#define CORR_SLOW_FLOOR_US        50000   // baseline rule: also at least 50 ms above normal
#define CORR_SYN_RETRY_US         1000000 // a lost SYN is sent again after 1 s (initial RTO)
#define CORR_LOSS_SIBLINGS        32 // a host's probes looked at for loss on a path (hysteresis)
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

enum st {
	ST_SKIP = 0, // status unknown, or the host is stale: counted among the target's hosts only
	ST_OK,
	ST_PENDING,  // failed, but fewer consecutive rounds than the threshold
	ST_DEGRADED, // warn / slow
	ST_FAILING,
	ST_WARNING, // warn with a state class (saturated, replication lag, certificate expiring):
	            // the target works, but a measured state needs attention
};

// One (host, probe), classified once per diagnosis.
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

// A target: what the entries of one group probe.
typedef struct tgt {
	Fl__ProbeKind kind;
	const char   *target;  // the first entry's target, for names
	const char   *key;     // what groups entries: the target, or the probe name (by_name)
	bool          by_name; // a loopback app: each host's own instance of the app probe `key`
	uint32_t      first;   // an entry of this group, for names
} tgt;

// A growable list of entry ids (or host indices).
typedef struct vec {
	uint32_t *v;
	size_t    n, cap;
} vec;

// A finding being built.
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
	int64_t     since;    // explicit since (stale hosts); else computed from entries
	bool        degraded; // about slowness, nothing failing: ranks after failures
} fnd;

// Hosts with a lossy path to a database server, up to two (corr_rules.c).
typedef struct lossy_hosts {
	uint32_t first; // a host with a lossy path (UINT32_MAX: none)
	bool     other; // and some other host has one too
} lossy_hosts;

// One diagnosis in progress.
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
	lossy_hosts      lossy;  // valid when lossy_known (computed on first use)
	bool             lossy_known;
	bool             oom;
} eng;

// The distinct releases of some hosts: n > CORR_MAX_RELEASES means more than v holds.
typedef struct rel_set {
	const char *v[CORR_MAX_RELEASES];
	size_t      n;
} rel_set;

// Medians across hosts of a slow target's latencies (us; 0 = none known).
typedef struct slow_figures {
	double lat;    // each slow host's trouble latency (ent_lat)
	double base;   // their normal (baseline)
	double others; // the steady hosts' median round
	double phase;  // a database's own part: query plus check
} slow_figures;

// Which account of a target some hosts cannot reach (rule_reach).
enum reach_kind {
	REACH_MOVED,    // its name moved when the failures began, and from there it fails
	REACH_NAME,     // a DNS probe: the name does not resolve
	REACH_PATHS,    // other hosts reach it: the failing hosts' paths
	REACH_NO_NAME,  // no host resolves the target's host name
	REACH_NO_ROUTE, // no host has a route to it
	REACH_DOWN,     // a database refuses every connection
	REACH_HUNG,     // a database does not answer
	REACH_FAILS,    // a shared target fails from every host
};

// Where an app's trouble shows, against the hosts where it does not.
enum app_kind {
	APP_EVERYWHERE, // on every host that runs it
	APP_RELEASE,    // exactly where some releases run
	APP_INSTANCE,   // on some hosts of a release that works elsewhere
};

// The target a rule is judging.
typedef struct group_ctx {
	uint32_t        t;
	const tgt      *g;
	const uint32_t *host_of;
	size_t          n_hosts; // hosts that probe this target, whatever their state
	char            label[512];
} group_ctx;

// ---- engine (correlate.c) ------------------------------------------------------------------

bool  vec_push(eng *e, vec *v, uint32_t x); // false (and e->oom) when out of memory
char *xprintf(eng *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool  streq(const char *a, const char *b); // NULL equals ""

const corr_host       *ent_host(const eng *e, uint32_t id);
const corr_probe      *ent_probe(const eng *e, uint32_t id);
const Fl__ProbeResult *ent_res(const eng *e, uint32_t id);

bool     is_db(Fl__ProbeKind k);
bool     is_app(Fl__ProbeKind k);
bool     is_loopback_target(const char *t); // each host's own instance, not a shared server
enum cat cat_of(Fl__FailureClass fc);

// Starts a finding about target (UINT32_MAX: none); NULL when out of memory. The pointer is
// valid until the next fnd_new().
fnd *fnd_new(eng *e, Fl__Verdict verdict, uint32_t target);
void fnd_note(eng *e, fnd *f, char *line); // takes line (NULL is ignored)

// Completes f (the latest finding, from fnd_new()) as conclude() does; returns f. For a rule
// whose wording adds evidence lines to the finding before its summary exists.
fnd *fnd_finish(eng *e, fnd *f, char *summary, const vec *ents, const char *release, bool explains);

// Records a finding about gc's target: verdict, summary (taken, freed on failure), the entries
// of ents as root evidence, release (borrowed, may be NULL); when explains, the hosts of ents
// count as explained by it (their app trouble is folded into it). Returns the finding, valid
// until the next fnd_new(), or NULL when out of memory.
fnd *conclude(eng *e, const group_ctx *gc, Fl__Verdict verdict, char *summary, const vec *ents,
    const char *release, bool explains);

// The earliest failing (else slow) start among the entries of v, or since if earlier.
int64_t vec_since(const eng *e, const vec *v, int64_t since);

// Sorted, unique host ranks of the entries in a and b (may be NULL) and the host indices in
// hosts (may be NULL); caller frees. NULL (and *n_out 0) when out of memory.
uint32_t   *ranks_of(eng *e, const vec *a, const vec *b, const vec *hosts, size_t *n_out);
const char *host_by_rank(const eng *e, const uint32_t *host_of, uint32_t rank);
size_t      count_hosts(eng *e, const vec *v); // distinct hosts among the entries of v

// ---- windows (corr_window.c) ---------------------------------------------------------------

// Whether probes a and b connect to the same server: the host part of their targets
// ("db.fl.test" of "db.fl.test:5432/appdb" and of "db.fl.test:3306/appdb"), as written. A DNS
// probe's target is a name to resolve, not a server it connects to: never.
bool same_server(const corr_probe *a, const corr_probe *b);

// Whether the path from host h to the server of its probe p shows lost packets (the loss
// signature): a round of p's current window failed, or was slow and lasted at least
// CORR_SYN_RETRY_US (a lost SYN's retransmission), or another probe of h to the same server
// failed a round of its current window (a postgres and a mysql probe of one database host
// share the path: at the onset of loss one may time out while the other's lost segments only
// slow it). A busy machine slows rounds, it does not time them out nor add a second to them.
bool path_shows_loss(const corr_host *h, const corr_probe *p);

// p is a probe of host h: the other probes of h to the same server count for its hysteresis
// (lost packets on that path show on any of them).
bool probe_spell(const corr_params *prm, const corr_probe *p);
bool probe_shaky(const corr_params *prm, const corr_host *h, const corr_probe *p);
bool probe_clean(const corr_params *prm, const corr_host *h, const corr_probe *p, enum st st);

// ---- rules (corr_rules.c) ------------------------------------------------------------------

void judge_db_like(eng *e, group_ctx *gc); // every target but http/tcp: databases, DNS names
void judge_app(eng *e, group_ctx *gc);     // app targets, after every root cause is known
void judge_stale(eng *e);                  // silent hosts

bool   has_answer(const Fl__ProbeResult *r); // a resolved name with addresses
bool   same_answer(const Fl__ProbeResult *a, const Fl__ProbeResult *b);
bool   ent_moved(const eng *e, uint32_t id); // its name's answer changed recently
bool   moved_together(const eng *e, const vec *v);
double ent_lat(const eng *e, uint32_t id); // the latency that shows an entry's trouble

// ---- words (corr_words.c) ------------------------------------------------------------------

const char *hhmmss(int64_t us, char buf[32]); // "14:02:03" (UTC); "?" when unknown
const char *ms_text(double us, char buf[32]); // "480ms", "0.4ms", "12.5s"
const char *class_name(const eng *e, uint32_t id);
char       *names_phrase(eng *e, const uint32_t *host_of, const uint32_t *ranks, size_t n);
char       *hosts_phrase(eng *e, const uint32_t *host_of, const vec *v, size_t total);
char       *releases_text(eng *e, const rel_set *rs); // "release 2.4.0", "releases a, b"

// Summaries. Each says what its rule found, about gc's target and the entries it names.
char *words_reach(eng *e, const group_ctx *gc, enum reach_kind kind, const vec *reach,
    const vec *working, size_t connected);
char *words_answered(eng *e, const group_ctx *gc, const vec *v, bool db); // one failure class
char *words_auth(eng *e, const group_ctx *gc, const vec *auth);
char *words_schema(eng *e, const group_ctx *gc, const vec *v, const rel_set *rel, bool as_database,
    fnd *f); // adds the "unmet: ..." evidence lines to f
char *words_db_slow(eng *e, const group_ctx *gc, const vec *slow, const slow_figures *fig);
char *words_slow_path(eng *e, const group_ctx *gc, const vec *slow, const vec *normal, double norm);
char *words_read_only(eng *e, const group_ctx *gc, const vec *ro, const rel_set *bad, bool code);
char *words_state_warning(eng *e, const group_ctx *gc, const vec *mine); // one class
char *words_bad_expectations(eng *e, const group_ctx *gc, const vec *expect);
char *words_agent_cannot(eng *e, const group_ctx *gc, const vec *agent);
char *words_app_slow(eng *e, const group_ctx *gc, enum app_kind kind, const vec *slow,
    const vec *steady, const rel_set *rs_slow, const rel_set *rs_ok, const slow_figures *fig);
char *words_app_fails(eng *e, const group_ctx *gc, enum app_kind kind, const vec *bad,
    size_t n_fine, const rel_set *rs_bad, const rel_set *rs_fine);
char *words_stale(eng *e, size_t n, const corr_host *first); // n silent hosts, first the oldest
char *words_no_data(eng *e);
char *words_unknown_host(eng *e, const char *host);
char *words_all_silent(eng *e, int64_t last_us);
char *words_healthy(eng *e, const char *only_host); // only_host NULL: the whole fleet
char *words_finding_summary(eng *e, const fnd *f);  // with what it explains downstream

// Evidence lines. schema findings also get "unmet: ..." lines from words_schema().
char *words_read_only_note(eng *e, const vec *ro);
char *words_state_note(eng *e, uint32_t id);
char *words_stale_note(eng *e, const corr_host *host);
char *words_more_results(eng *e, size_t n);
char *evidence_line(eng *e, uint32_t id, bool folded); // one entry (folded: downstream)
void  dns_notes(eng *e, size_t fi);                    // names that moved or split, for finding fi

#endif // FL_COLLECTOR_CORR_INTERNAL_H
