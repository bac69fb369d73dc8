// expect_diff.c - see expect_diff.h.

#include "expect_diff.h"

#include <stdlib.h>
#include <string.h>

#include "fl/json.h"
#include "fl/names.h"

#include "cli.h"

// Every privilege name the parser accepts, in the order they are printed.
static const char *const privilege_names[] = { "SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE",
	"REFERENCES", "TRIGGER", "USAGE", "CREATE", "EXECUTE" };
#define N_PRIVILEGE_NAMES (sizeof(privilege_names) / sizeof(privilege_names[0]))

// One object of one section, its lines merged: the privileges as a bit set.
typedef struct merged {
	const char    *section_kind, *probe;
	Fl__ObjectKind kind;
	const char    *object;
	unsigned       privs;
} merged;

static unsigned
privilege_bit(const char *name)
{
	for (size_t i = 0; i < N_PRIVILEGE_NAMES; i++) {
		if (strcmp(privilege_names[i], name) == 0) {
			return 1u << i;
		}
	}
	return 0; // the parser accepts no other name
}

static bool
same_section(const merged *a, const char *kind, const char *probe)
{
	return strcmp(a->section_kind, kind) == 0 && strcmp(a->probe, probe) == 0;
}

static merged *
find(merged *v, size_t n, const merged *like)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i].kind == like->kind && strcmp(v[i].object, like->object) == 0 &&
		    same_section(&v[i], like->section_kind, like->probe)) {
			return &v[i];
		}
	}
	return NULL;
}

// The requirements of e, one entry per (section, kind, object). NULL when out of memory.
static merged *
merge(const agent_expect *e, size_t *n_out)
{
	size_t  cap = 1, n = 0;
	merged *v;

	for (size_t i = 0; i < e->n_dbs; i++) {
		cap += e->dbs[i].n_reqs;
	}
	if ((v = calloc(cap, sizeof(*v))) == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < e->n_dbs; i++) {
		const agent_db_expect *d = &e->dbs[i];
		for (size_t k = 0; k < d->n_reqs; k++) {
			const agent_requirement *r  = &d->reqs[k];
			merged                   m  = { .section_kind = d->section_kind,
				                   .probe             = d->name,
				                   .kind              = r->kind,
				                   .object            = r->object };
			merged                  *at = find(v, n, &m);
			if (at == NULL) {
				at  = &v[n++];
				*at = m;
			}
			for (size_t p = 0; p < r->n_privileges; p++) {
				at->privs |= privilege_bit(r->privileges[p]);
			}
		}
	}
	*n_out = n;
	return v;
}

static void
privs_text(unsigned privs, char *buf, size_t len)
{
	size_t used = 0;
	buf[0]      = '\0';
	for (size_t i = 0; i < N_PRIVILEGE_NAMES && used < len; i++) {
		if (privs & (1u << i)) {
			int w = snprintf(buf + used, len - used, "%s%s", used > 0 ? ", " : "",
			    privilege_names[i]);
			used += w > 0 ? (size_t) w : 0;
		}
	}
}

// Appends the change "m's object, with privs" to v.
static void
add_change(cli_expect_change *v, size_t *n, const merged *m, bool added, bool whole, unsigned privs)
{
	cli_expect_change *c = &v[(*n)++];
	c->added             = added;
	c->section_kind      = m->section_kind;
	c->probe             = m->probe;
	c->kind              = m->kind;
	c->object            = m->object;
	c->whole             = whole;
	privs_text(privs, c->privileges, sizeof(c->privileges));
}

// The changes of one section: what `from` has and `to` lacks, as drops (added false) or adds.
static void
section_changes(const merged *from, size_t n_from, merged *to, size_t n_to, const char *kind,
    const char *probe, bool added, cli_expect_change *v, size_t *n)
{
	for (size_t i = 0; i < n_from; i++) {
		const merged *m = &from[i];
		if (!same_section(m, kind, probe)) {
			continue;
		}
		const merged *other = find(to, n_to, m);
		if (other == NULL) {
			add_change(v, n, m, added, true, m->privs);
		} else if ((m->privs & ~other->privs) != 0) {
			add_change(v, n, m, added, false, m->privs & ~other->privs);
		}
	}
}

static bool
section_listed(const merged *v, size_t n, const char *kind, const char *probe)
{
	for (size_t i = 0; i < n; i++) {
		if (same_section(&v[i], kind, probe)) {
			return true;
		}
	}
	return false;
}

int
cli_expect_diff(
    const agent_expect *old_e, const agent_expect *new_e, cli_expect_change **out, size_t *n_out)
{
	size_t             n_old = 0, n_new = 0, n = 0;
	merged            *o = merge(old_e, &n_old), *w = merge(new_e, &n_new);
	cli_expect_change *v = calloc(n_old + n_new + 1, sizeof(*v));

	if (o == NULL || w == NULL || v == NULL) {
		free(o);
		free(w);
		free(v);
		return -1;
	}
	// Sections in order: OLD's, then those only NEW has; each section's first entry leads it.
	for (size_t pass = 0; pass < 2; pass++) {
		const merged *src = pass == 0 ? o : w;
		size_t        ns  = pass == 0 ? n_old : n_new;
		for (size_t i = 0; i < ns; i++) {
			const char *kind = src[i].section_kind, *probe = src[i].probe;
			if (section_listed(src, i, kind, probe) ||
			    (pass == 1 && section_listed(o, n_old, kind, probe))) {
				continue; // not the section's first entry, or done in pass 0
			}
			section_changes(o, n_old, w, n_new, kind, probe, false, v, &n);
			section_changes(w, n_new, o, n_old, kind, probe, true, v, &n);
		}
	}
	free(o);
	free(w);
	*out   = v;
	*n_out = n;
	return 0;
}

static const char *
kind_key(Fl__ObjectKind k)
{
	return fl_object_kind_name(k); // "table", "column", ...: the file's own keys
}

int
cli_expect_diff_print(const cli_expect_change *c, size_t n, const char *old_path,
    const char *new_path, FILE *out, bool colour)
{
	size_t      added = 0, dropped = 0;
	const char *kind = NULL, *probe = NULL;

	for (size_t i = 0; i < n; i++) {
		const cli_expect_change *x = &c[i];
		if (kind == NULL || strcmp(kind, x->section_kind) != 0 ||
		    strcmp(probe, x->probe) != 0) {
			fprintf(out, "%s[%s \"%s\"]\n", kind != NULL ? "\n" : "", x->section_kind,
			    x->probe);
			kind  = x->section_kind;
			probe = x->probe;
		}
		fprintf(out, "%s%c %s = %s%s%s%s%s\n",
		    colour ? (x->added ? "\033[32m" : "\033[31m") : "", x->added ? '+' : '-',
		    kind_key(x->kind), x->object, x->privileges[0] != '\0' ? ": " : "",
		    x->privileges, x->whole ? "" : "   (privileges only: the object stays)",
		    colour ? "\033[0m" : "");
		added += x->added;
		dropped += !x->added;
	}
	if (n == 0) {
		fprintf(out, "no change: %s needs what %s needs\n", new_path, old_path);
		return CLI_EXIT_OK;
	}
	fprintf(out, "\n%zu added, %zu dropped", added, dropped);
	if (dropped == 0) {
		fprintf(out, ": %s drops nothing %s needs\n", new_path, old_path);
		return CLI_EXIT_OK;
	}
	fprintf(out,
	    ": %sROLLBACK RISK%s: %s needs what %s drops; keep those objects and grants (do not "
	    "let the migration remove them) until %s can no longer come back\n",
	    colour ? "\033[1;31m" : "", colour ? "\033[0m" : "", old_path, new_path, old_path);
	return CLI_EXIT_FAILING;
}

static void
change_json(fl_json *j, const cli_expect_change *x)
{
	fl_json_obj_begin(j);
	fl_json_kstr(j, "section", x->section_kind);
	fl_json_kstr(j, "probe", x->probe);
	fl_json_kstr(j, "kind", kind_key(x->kind));
	fl_json_kstr(j, "object", x->object);
	fl_json_kbool(j, "whole", x->whole);
	fl_json_key(j, "privileges");
	fl_json_arr_begin(j);
	for (size_t i = 0; i < N_PRIVILEGE_NAMES; i++) {
		// privileges is "A, B": list the names it holds, in the canonical order.
		const char *p = strstr(x->privileges, privilege_names[i]);
		size_t      l = strlen(privilege_names[i]);
		if (p != NULL && (p == x->privileges || p[-1] == ' ') &&
		    (p[l] == ',' || p[l] == 0)) {
			fl_json_str(j, privilege_names[i]);
		}
	}
	fl_json_arr_end(j);
	fl_json_obj_end(j);
}

int
cli_expect_diff_json(const cli_expect_change *c, size_t n, const char *old_path,
    const char *new_path, FILE *out, bool pretty)
{
	fl_json j;
	bool    risk = false;

	fl_json_init(&j, pretty);
	fl_json_obj_begin(&j);
	fl_json_kstr(&j, "old", old_path);
	fl_json_kstr(&j, "new", new_path);
	for (int added = 1; added >= 0; added--) {
		fl_json_key(&j, added ? "added" : "dropped");
		fl_json_arr_begin(&j);
		for (size_t i = 0; i < n; i++) {
			if (c[i].added == (bool) added) {
				change_json(&j, &c[i]);
				risk |= !c[i].added;
			}
		}
		fl_json_arr_end(&j);
	}
	fl_json_kbool(&j, "rollback_risk", risk);
	fl_json_obj_end(&j);
	if (cli_json_emit(&j, out) != 0) {
		return CLI_EXIT_ERROR;
	}
	return risk ? CLI_EXIT_FAILING : CLI_EXIT_OK;
}
