// expect.c - parsing a release's expectations file (see expect.h for the format).
//
// The file is INI, read with the shared reader (fl/cfg.h, without includes), so every requirement
// and every error knows its line, and every error of the file is reported, not only the first.
// Everything the file says is checked here (section kinds, keys, object syntax, privilege names
// per object kind and driver): a probe can then turn requirements into catalog queries without
// second-guessing them, and a typo in a release's file is an error naming FILE:LINE, never a
// requirement that silently checks nothing.

#include "expect.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl/cfg.h"
#include "fl/str.h"

#define EXPECT_MAX_FILE  (1024 * 1024) // bytes; a release's file is a few hundred
#define EXPECT_MAX_REQS  1000          // requirements per database
#define EXPECT_MAX_PRIVS 16            // privileges on one requirement

typedef struct priv_set {
	const char *names[8];
} priv_set;

// Privileges that make sense per driver and object kind. An empty set means existence only.
static const priv_set pg_privs[] = {
	[FL__OBJECT_KIND__OBJECT_SCHEMA]   = { { "USAGE", "CREATE" } },
	[FL__OBJECT_KIND__OBJECT_TABLE]    = { { "SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE",
	       "REFERENCES", "TRIGGER" } },
	[FL__OBJECT_KIND__OBJECT_COLUMN]   = { { "SELECT", "INSERT", "UPDATE", "REFERENCES" } },
	[FL__OBJECT_KIND__OBJECT_SEQUENCE] = { { "USAGE", "SELECT", "UPDATE" } },
	[FL__OBJECT_KIND__OBJECT_FUNCTION] = { { "EXECUTE" } },
};

// MySQL/MariaDB: TRUNCATE is not a privilege there (it needs DROP), a database ("schema") has
// no privilege of its own beyond those on its tables, and sequences are not checked.
static const priv_set my_privs[] = {
	[FL__OBJECT_KIND__OBJECT_SCHEMA] = { { NULL } },
	[FL__OBJECT_KIND__OBJECT_TABLE]  = { { "SELECT", "INSERT", "UPDATE", "DELETE", "REFERENCES",
	     "TRIGGER" } },
	[FL__OBJECT_KIND__OBJECT_COLUMN] = { { "SELECT", "INSERT", "UPDATE", "REFERENCES" } },
	[FL__OBJECT_KIND__OBJECT_SEQUENCE] = { { NULL } },
	[FL__OBJECT_KIND__OBJECT_FUNCTION] = { { "EXECUTE" } },
};

typedef struct parser {
	fl_ini       *ini;
	int           line;         // of the line being handled
	char          section[256]; // the current section's text, "" before the first
	bool          sect_bad;     // its header was reported: its keys are skipped
	agent_expect *e;
} parser;

static int fail_at(parser *p, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

// Records an error at line and returns 0 (the handler's "this line failed").
static int
fail_at(parser *p, int line, const char *fmt, ...)
{
	char    msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fl_ini_err(p->ini, (fl_ini_pos) { 0, line }, "%s", msg);
	return 0;
}

// Checks a section header's text (`kind "name"`). Returns -1 (with an error) when bad.
static int
check_header(parser *p, const char *sec)
{
	char kind[32], name[128];

	if (strlen(sec) >= sizeof(p->section)) {
		fail_at(p, p->line, "malformed section header (longer than %zu bytes)",
		    sizeof(p->section) - 1);
		return -1;
	}
	if (fl_cfg_split_section(sec, kind, sizeof(kind), name, sizeof(name)) != 0) {
		fail_at(p, p->line,
		    "malformed section [%s] (expected [postgres \"NAME\"] or [mysql "
		    "\"NAME\"])",
		    sec);
		return -1;
	}
	if (strcmp(kind, "postgres") != 0 && strcmp(kind, "mysql") != 0) {
		fail_at(p, p->line, "unknown section kind [%s] (expected postgres or mysql)", kind);
		return -1;
	}
	if (name[0] == '\0') {
		fail_at(p, p->line, "section [%s] needs a probe name: [%s \"NAME\"]", kind, kind);
		return -1;
	}
	return 0;
}

static int
is_ident_start(int c)
{
	return isalpha(c) || c == '_';
}

static int
is_ident_char(int c)
{
	return isalnum(c) || c == '_' || c == '$';
}

// Reads one unquoted SQL identifier at *sp; returns its length, 0 when there is none.
static size_t
ident(const char *s)
{
	size_t n = 0;

	if (!is_ident_start((unsigned char) s[0])) {
		return 0;
	}
	while (is_ident_char((unsigned char) s[n])) {
		n++;
	}
	return n;
}

// Checks `a.b...` with exactly `parts` identifiers and optionally a trailing "(args)".
// Returns NULL when fine, or what is wrong.
static const char *
check_object(const char *obj, int parts, int want_args)
{
	const char *s = obj;

	for (int i = 0; i < parts; i++) {
		size_t n = ident(s);
		if (n == 0) {
			return "expects an identifier (letters, digits, _ or $, not starting with "
			       "a "
			       "digit)";
		}
		s += n;
		if (i + 1 < parts) {
			if (*s != '.') {
				return "has too few dot-separated parts";
			}
			s++;
		}
	}
	if (want_args) {
		if (*s != '(') {
			return "needs its argument types in parentheses, e.g. public.f(integer) or "
			       "public.f()";
		}
		s++;
		while (*s != '\0' && *s != ')') {
			if (*s == '(' ||
			    (!isalnum((unsigned char) *s) && strchr(" ,._[]\"", *s) == NULL)) {
				return "has an unexpected character in its argument types";
			}
			s++;
		}
		if (*s != ')') {
			return "lacks the closing parenthesis";
		}
		s++;
	}
	if (*s == '.') {
		return "has too many dot-separated parts";
	}
	if (*s != '\0') {
		return "has unexpected text after the object name";
	}
	return NULL;
}

static char *
trim(char *s)
{
	char *end;

	while (isspace((unsigned char) *s)) {
		s++;
	}
	end = s + strlen(s);
	while (end > s && isspace((unsigned char) end[-1])) {
		*--end = '\0';
	}
	return s;
}

static agent_db_expect *
db_for(parser *p, const char *kind, const char *name)
{
	agent_expect    *e = p->e;
	agent_db_expect *d;

	for (size_t i = 0; i < e->n_dbs; i++) {
		if (strcmp(e->dbs[i].section_kind, kind) == 0 &&
		    strcmp(e->dbs[i].name, name) == 0) {
			return &e->dbs[i];
		}
	}
	d = realloc(e->dbs, (e->n_dbs + 1) * sizeof(*d));
	if (d == NULL) {
		return NULL;
	}
	e->dbs = d;
	d      = &e->dbs[e->n_dbs];
	memset(d, 0, sizeof(*d));
	d->section_kind = strdup(kind);
	d->name         = strdup(name);
	e->n_dbs++; // counted even when a strdup failed, so that free releases it
	if (d->section_kind == NULL || d->name == NULL) {
		return NULL;
	}
	return d;
}

static void
req_fini(agent_requirement *r)
{
	for (size_t i = 0; i < r->n_privileges; i++) {
		free(r->privileges[i]);
	}
	free(r->privileges);
	free(r->object);
}

static int
priv_allowed(const priv_set *set, const char *priv)
{
	for (size_t i = 0; i < sizeof(set->names) / sizeof(set->names[0]) && set->names[i]; i++) {
		if (strcmp(set->names[i], priv) == 0) {
			return 1;
		}
	}
	return 0;
}

static void
priv_list(const priv_set *set, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(set->names) / sizeof(set->names[0]) && set->names[i]; i++) {
		int n = snprintf(buf + off, len - off, "%s%s", i ? ", " : "", set->names[i]);
		if (n < 0 || (size_t) n >= len - off) {
			break;
		}
		off += (size_t) n;
	}
}

// Splits "A, B" into upper-cased privilege names checked against set, into r.
static int
parse_privs(
    parser *p, int line, const char *key, const priv_set *set, char *list, agent_requirement *r)
{
	char allowed[128];

	priv_list(set, allowed, sizeof(allowed));
	if (*trim(list) == '\0') {
		return fail_at(p, line,
		    "%s: empty privilege list after ':' (omit the ':' to require "
		    "only that the object exists)",
		    key);
	}
	for (char *tok = list, *next; tok != NULL; tok = next) {
		if ((next = strchr(tok, ',')) != NULL) {
			*next++ = '\0'; // strtok would skip the empty name in "A,,B"
		}
		char *priv = trim(tok);
		int   dup  = 0;

		if (*priv == '\0') {
			return fail_at(p, line, "%s: empty privilege name in the list", key);
		}
		for (char *c = priv; *c; c++) {
			*c = (char) toupper((unsigned char) *c);
		}
		if (!priv_allowed(set, priv)) {
			if (allowed[0] == '\0') {
				return fail_at(p, line,
				    "%s: privilege %s cannot be required here (this object kind "
				    "takes no "
				    "privileges for this database kind; only existence is checked)",
				    key, priv);
			}
			return fail_at(
			    p, line, "%s: unknown privilege %s (allowed: %s)", key, priv, allowed);
		}
		for (size_t i = 0; i < r->n_privileges; i++) {
			dup |= strcmp(r->privileges[i], priv) == 0;
		}
		if (dup) {
			continue;
		}
		if (r->n_privileges >= EXPECT_MAX_PRIVS) {
			return fail_at(p, line, "%s: too many privileges", key);
		}
		if ((r->privileges[r->n_privileges] = strdup(priv)) == NULL) {
			return fail_at(p, line, "out of memory");
		}
		r->n_privileges++;
	}
	return 1;
}

static int
add_requirement(parser *p, const char *section, const char *key, const char *value)
{
	int                line = p->line;
	char               kind[32], name[128], buf[1024];
	char              *obj, *colon, *privs = NULL;
	const char        *why;
	const priv_set    *set;
	agent_db_expect   *d;
	agent_requirement  r, *nr;
	int                parts = 0, want_args = 0, is_pg;
	static const char *keys[] = {
		[FL__OBJECT_KIND__OBJECT_SCHEMA]   = "schema",
		[FL__OBJECT_KIND__OBJECT_TABLE]    = "table",
		[FL__OBJECT_KIND__OBJECT_COLUMN]   = "column",
		[FL__OBJECT_KIND__OBJECT_SEQUENCE] = "sequence",
		[FL__OBJECT_KIND__OBJECT_FUNCTION] = "function",
	};

	if (section[0] == '\0') {
		return fail_at(p, line,
		    "key %s outside a section (start with [postgres \"NAME\"] or "
		    "[mysql \"NAME\"])",
		    key);
	}
	if (fl_cfg_split_section(section, kind, sizeof(kind), name, sizeof(name)) != 0) {
		return fail_at(p, line, "malformed section [%s]", section);
	}
	is_pg = strcmp(kind, "postgres") == 0;
	if (!is_pg && strcmp(kind, "mysql") != 0) {
		return fail_at(
		    p, line, "unknown section kind [%s] (expected postgres or mysql)", kind);
	}
	if (name[0] == '\0') {
		return fail_at(
		    p, line, "section [%s] needs a probe name: [%s \"NAME\"]", kind, kind);
	}
	memset(&r, 0, sizeof(r));
	for (size_t k = 1; k < sizeof(keys) / sizeof(keys[0]); k++) {
		if (keys[k] != NULL && strcmp(keys[k], key) == 0) {
			r.kind = (Fl__ObjectKind) k;
		}
	}
	switch (r.kind) {
	case FL__OBJECT_KIND__OBJECT_SCHEMA:
		parts = 1;
		break;
	case FL__OBJECT_KIND__OBJECT_TABLE:
	case FL__OBJECT_KIND__OBJECT_SEQUENCE:
		parts = 2;
		break;
	case FL__OBJECT_KIND__OBJECT_COLUMN:
		parts = 3;
		break;
	case FL__OBJECT_KIND__OBJECT_FUNCTION:
		parts     = 2;
		want_args = is_pg; // MySQL routines are not overloaded: no argument list
		break;
	default:
		return fail_at(p, line,
		    "unknown key %s (expected schema, table, column, sequence or function)", key);
	}
	if (!is_pg && r.kind == FL__OBJECT_KIND__OBJECT_SEQUENCE) {
		return fail_at(p, line, "sequence requirements are supported for postgres only");
	}
	if (strlen(value) >= sizeof(buf)) {
		return fail_at(p, line, "value too long");
	}
	memcpy(buf, value, strlen(value) + 1);
	// The privilege list follows the last ':' outside the argument list of a function.
	colon = strrchr(buf, ':');
	if (colon != NULL && strchr(colon, ')') == NULL) {
		*colon = '\0';
		privs  = colon + 1;
	}
	obj = trim(buf);
	if (*obj == '\0') {
		return fail_at(p, line, "%s: missing object name", key);
	}
	if ((why = check_object(obj, parts, want_args)) != NULL) {
		static const char *shapes[] = { "", "SCHEMA", "SCHEMA.TABLE",
			"SCHEMA.TABLE.COLUMN" };
		return fail_at(p, line, "%s %s: object %s (expected %s%s)", key, obj, why,
		    r.kind == FL__OBJECT_KIND__OBJECT_FUNCTION ? "SCHEMA.FUNCTION" : shapes[parts],
		    want_args ? "(ARGTYPES)" : "");
	}
	set    = is_pg ? &pg_privs[r.kind] : &my_privs[r.kind];
	r.line = line;
	if ((r.object = strdup(obj)) == NULL ||
	    (r.privileges = calloc(EXPECT_MAX_PRIVS, sizeof(char *))) == NULL) {
		req_fini(&r);
		return fail_at(p, line, "out of memory");
	}
	if (privs != NULL && !parse_privs(p, line, key, set, privs, &r)) {
		req_fini(&r);
		return 0;
	}
	if ((d = db_for(p, kind, name)) == NULL) {
		req_fini(&r);
		return fail_at(p, line, "out of memory");
	}
	if (d->n_reqs >= EXPECT_MAX_REQS) {
		req_fini(&r);
		return fail_at(p, line, "too many requirements for [%s \"%s\"] (at most %d)", kind,
		    name, EXPECT_MAX_REQS);
	}
	if ((nr = realloc(d->reqs, (d->n_reqs + 1) * sizeof(*nr))) == NULL) {
		req_fini(&r);
		return fail_at(p, line, "out of memory");
	}
	d->reqs              = nr;
	d->reqs[d->n_reqs++] = r;
	return 1;
}

void
agent_expect_digest(const void *data, size_t len, char out[AGENT_EXPECT_DIGEST_LEN])
{
	uint64_t h = fl_fnv1a_bytes(FL_FNV1A_OFFSET, data, len);

	snprintf(out, AGENT_EXPECT_DIGEST_LEN, "fnv1a64:%016llx", (unsigned long long) h);
}

static void
on_section(void *user, fl_ini *ini, fl_ini_pos pos, const char *text)
{
	parser *p = user;

	(void) ini;
	p->line     = pos.line;
	p->sect_bad = check_header(p, text) != 0;
	snprintf(p->section, sizeof(p->section), "%s", p->sect_bad ? "" : text);
}

static void
on_key(void *user, fl_ini *ini, fl_ini_pos pos, const char *key, const char *value)
{
	parser *p = user;

	(void) ini;
	p->line = pos.line;
	if (!p->sect_bad) {
		add_requirement(p, p->section, key, value);
	}
}

static const fl_ini_ops expect_ini_ops = {
	.section = on_section,
	.key     = on_key,
};

int
agent_expect_parse(
    const char *name, const char *text, size_t len, agent_expect **out, char *err, size_t errlen)
{
	parser        p;
	agent_expect *e;

	if (err != NULL && errlen > 0) {
		err[0] = '\0';
	}
	if (len > EXPECT_MAX_FILE) {
		snprintf(err, errlen, "%s: larger than %d bytes", name, EXPECT_MAX_FILE);
		return -1;
	}
	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, errlen, "%s: contains a NUL byte (not a text file)", name);
		return -1;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL || (e->path = strdup(name)) == NULL) {
		free(e);
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	agent_expect_digest(text, len, e->digest);
	memset(&p, 0, sizeof(p));
	p.e = e;
	if ((p.ini = fl_ini_new()) == NULL) {
		agent_expect_free(e);
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	if (fl_ini_parse_text(p.ini, name, text, len, &expect_ini_ops, &p) != 0) {
		fl_ini_format_errors(p.ini, err, errlen);
		fl_ini_free(p.ini);
		agent_expect_free(e);
		return -1;
	}
	fl_ini_free(p.ini);
	*out = e;
	return 0;
}

int
agent_expect_load(const char *path, agent_expect **out, char *err, size_t errlen)
{
	FILE  *f;
	char  *buf;
	size_t n;
	int    rv;

	if ((f = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if ((buf = malloc(EXPECT_MAX_FILE + 1)) == NULL) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	n = fread(buf, 1, EXPECT_MAX_FILE + 1, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	rv = agent_expect_parse(path, buf, n, out, err, errlen);
	free(buf);
	return rv;
}

void
agent_expect_free(agent_expect *e)
{
	if (e == NULL) {
		return;
	}
	for (size_t i = 0; i < e->n_dbs; i++) {
		for (size_t j = 0; j < e->dbs[i].n_reqs; j++) {
			req_fini(&e->dbs[i].reqs[j]);
		}
		free(e->dbs[i].reqs);
		free(e->dbs[i].section_kind);
		free(e->dbs[i].name);
	}
	free(e->dbs);
	free(e->path);
	free(e);
}

const agent_db_expect *
agent_expect_find(const agent_expect *e, const char *section_kind, const char *name)
{
	if (e == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < e->n_dbs; i++) {
		if (strcmp(e->dbs[i].section_kind, section_kind) == 0 &&
		    strcmp(e->dbs[i].name, name) == 0) {
			return &e->dbs[i];
		}
	}
	return NULL;
}
