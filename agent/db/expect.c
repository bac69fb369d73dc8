// expect.c - parsing a release's expectations file (see expect.h for the format).
//
// The file is INI, read with libinih through a line reader of our own, so every requirement and
// every error knows its line even though Debian's libinih is built without INI_HANDLER_LINENO.
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

#include <ini.h>

#include "fl/cfg.h"

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
	const char   *name; // file name for messages
	const char   *text;
	size_t        len;
	size_t        pos;
	int           line;     // number of the line the reader handed out last
	int           too_long; // the reader stopped at a line longer than inih's buffer
	int           max_line; // inih's buffer, less newline and NUL
	agent_expect *e;
	char         *err;
	size_t        errlen;
	int           failed;
} parser;

static int fail_at(parser *p, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
fail_at(parser *p, int line, const char *fmt, ...)
{
	char    msg[512];
	va_list ap;

	if (p->failed) {
		return 0; // keep the first error: later ones are often its consequences
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%d: %s", p->name, line, msg);
	p->failed = 1;
	return 0;
}

// Checks a `[kind "name"]` line; other lines pass. Returns -1 (and fails p) when bad.
static int
check_header(parser *p, const char *line)
{
	const char *s = line, *end;
	char        sec[256], kind[32], name[128];

	if (p->line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3; // a UTF-8 byte order mark, which inih skips too
	}
	while (*s == ' ' || *s == '\t') {
		s++;
	}
	if (*s != '[') {
		return 0;
	}
	if ((end = strchr(s, ']')) == NULL || (size_t) (end - s - 1) >= sizeof(sec)) {
		fail_at(p, p->line, "malformed section header");
		return -1;
	}
	memcpy(sec, s + 1, (size_t) (end - s - 1));
	sec[end - s - 1] = '\0';
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

// inih's line source: hands out one whole line per call and counts them, so the handler knows
// which line it is looking at. A line that would not fit inih's buffer stops the parse (inih
// would otherwise split it and count the rest as a new line).
static char *
read_line(char *str, int num, void *stream)
{
	parser *p = stream;
	size_t  n = 0;

	if (p->pos >= p->len || p->too_long) {
		return NULL;
	}
	while (p->pos + n < p->len && p->text[p->pos + n] != '\n') {
		n++;
	}
	p->line++;
	if (n + 2 > (size_t) num) {
		p->too_long = 1;
		p->max_line = num - 2;
		return NULL;
	}
	memcpy(str, p->text + p->pos, n);
	str[n] = '\0';
	p->pos += n;
	if (p->pos < p->len) {
		p->pos++; // the newline
	}
	// inih has no callback for a section header, so an empty section of an unknown kind
	// would go unnoticed: check headers as they pass.
	if (check_header(p, str) != 0) {
		return NULL;
	}
	return str;
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
handler(void *user, const char *section, const char *key, const char *value)
{
	parser            *p    = user;
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

	if (p->failed) {
		return 0;
	}
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
	const unsigned char *b = data;
	uint64_t             h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	snprintf(out, AGENT_EXPECT_DIGEST_LEN, "fnv1a64:%016llx", (unsigned long long) h);
}

int
agent_expect_parse(
    const char *name, const char *text, size_t len, agent_expect **out, char *err, size_t errlen)
{
	parser        p;
	agent_expect *e;
	int           rv;

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
	p.name   = name;
	p.text   = text;
	p.len    = len;
	p.e      = e;
	p.err    = err;
	p.errlen = errlen;
	rv       = ini_parse_stream(read_line, &p, handler, &p);
	if (p.failed) {
		// the reader or the handler said why
	} else if (p.too_long) {
		fail_at(&p, p.line, "line longer than %d bytes", p.max_line);
	} else if (rv > 0 && !p.failed) {
		fail_at(
		    &p, rv, "syntax error (expected [kind \"name\"], key = value, or a comment)");
	} else if (rv < 0 && !p.failed) {
		fail_at(&p, p.line, "cannot parse (out of memory)");
	}
	if (p.failed) {
		agent_expect_free(e);
		return -1;
	}
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
