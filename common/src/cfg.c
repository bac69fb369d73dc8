// cfg.c - see fl/cfg.h.

#include "fl/cfg.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

int
fl_cfg_uint(const char *v, uint32_t min, uint32_t max, uint32_t *out)
{
	char         *end;
	unsigned long n;

	if (v == NULL || *v < '0' || *v > '9') {
		return -1;
	}
	errno = 0;
	n     = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max) {
		return -1;
	}
	*out = (uint32_t) n;
	return 0;
}

int
fl_cfg_bytes(const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	char              *end;
	unsigned long long n;
	uint64_t           mult = 1;

	if (v == NULL || *v < '0' || *v > '9') {
		return -1;
	}
	errno = 0;
	n     = strtoull(v, &end, 10);
	if (errno != 0) {
		return -1;
	}
	if (strcmp(end, "KiB") == 0) {
		mult = 1024;
	} else if (strcmp(end, "MiB") == 0) {
		mult = 1024 * 1024;
	} else if (strcmp(end, "GiB") == 0) {
		mult = 1024 * 1024 * 1024;
	} else if (*end != '\0') {
		return -1;
	}
	if (n > max / mult || n * mult < min) {
		return -1;
	}
	*out = n * mult;
	return 0;
}

int
fl_cfg_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[]  = { "no", "false", "off", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

int
fl_cfg_split_section(const char *section, char *kind, size_t kindlen, char *name, size_t namelen)
{
	const char *sp = strchr(section, ' ');
	size_t      klen;

	if (sp == NULL) {
		if (fl_strlcpy_checked(kind, section, kindlen) != 0 || namelen == 0) {
			return -1;
		}
		name[0] = '\0';
		return 0;
	}
	klen = (size_t) (sp - section);
	if (klen == 0 || klen >= kindlen) {
		return -1;
	}
	memcpy(kind, section, klen);
	kind[klen] = '\0';
	while (*sp == ' ') {
		sp++;
	}
	size_t rest = strlen(sp);
	if (rest < 3 || sp[0] != '"' || sp[rest - 1] != '"') {
		return -1; // need at least one character between the quotes
	}
	if (rest - 2 >= namelen || memchr(sp + 1, '"', rest - 2) != NULL) {
		return -1;
	}
	memcpy(name, sp + 1, rest - 2);
	name[rest - 2] = '\0';
	return 0;
}

static void
chomp(char *s)
{
	size_t n = strlen(s);
	while (n > 0 &&
	    (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t')) {
		s[--n] = '\0';
	}
}

int
fl_cfg_read_secret_file(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
	struct stat st;
	FILE       *f;
	int         fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "cannot open password file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "password file %s is not a regular file", path);
		close(fd);
		return -1;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		snprintf(err, errlen,
		    "password file %s is accessible by group or others (mode %03o); run chmod 600 "
		    "%s",
		    path, (unsigned) (st.st_mode & 0777), path);
		close(fd);
		return -1;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		snprintf(err, errlen, "cannot read password file %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (fgets(out, (int) outlen, f) == NULL) {
		snprintf(err, errlen, "password file %s is empty", path);
		fclose(f);
		return -1;
	}
	if (strchr(out, '\n') == NULL) {
		// fgets stopped at the buffer's end or at EOF: a cut secret must not pass as whole.
		int c = fgetc(f);
		if (c == '\r') {
			c = fgetc(f);
		}
		if (c != EOF && c != '\n') {
			explicit_bzero(out, outlen);
			snprintf(err, errlen, "password file %s: first line longer than %zu bytes",
			    path, outlen - 1);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	chomp(out);
	if (out[0] == '\0') {
		snprintf(err, errlen, "password file %s is empty", path);
		return -1;
	}
	return 0;
}

int
fl_cfg_read_first_line(const char *path, char *out, size_t outlen)
{
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		return -1;
	}
	if (fgets(out, (int) outlen, f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	chomp(out);
	char *start = out;
	while (*start == ' ' || *start == '\t') {
		start++;
	}
	if (start != out) {
		memmove(out, start, strlen(start) + 1);
	}
	return out[0] == '\0' ? -1 : 0;
}

// ---- the INI reader ----

typedef struct ini_error {
	int  file, line, seq;
	char msg[384];
} ini_error;

struct fl_ini {
	char    **files; // paths, index = fl_ini_pos.file
	size_t    n_files;
	ini_error errs[FL_INI_MAX_ERRORS];
	size_t    n_errs;
	size_t    n_dropped;
	int       seq;
};

fl_ini *
fl_ini_new(void)
{
	return calloc(1, sizeof(fl_ini));
}

void
fl_ini_free(fl_ini *ini)
{
	if (ini == NULL) {
		return;
	}
	for (size_t i = 0; i < ini->n_files; i++) {
		free(ini->files[i]);
	}
	free(ini->files);
	free(ini);
}

const char *
fl_ini_file(const fl_ini *ini, int file)
{
	if (file < 0 || (size_t) file >= ini->n_files) {
		return "?";
	}
	return ini->files[file];
}

const char *
fl_ini_where(const fl_ini *ini, fl_ini_pos pos, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%d", fl_ini_file(ini, pos.file), pos.line);
	return buf;
}

void
fl_ini_err(fl_ini *ini, fl_ini_pos pos, const char *fmt, ...)
{
	va_list ap;

	if (ini->n_errs == FL_INI_MAX_ERRORS) {
		ini->n_dropped++;
		return;
	}
	ini_error *e = &ini->errs[ini->n_errs++];
	e->file      = pos.file;
	e->line      = pos.line;
	e->seq       = ini->seq++;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

size_t
fl_ini_errors(const fl_ini *ini)
{
	return ini->n_errs + ini->n_dropped;
}

static int
cmp_error(const void *a, const void *b)
{
	const ini_error *x = a, *y = b;
	if (x->file != y->file) {
		return x->file < y->file ? -1 : 1;
	}
	if (x->line != y->line) {
		return x->line < y->line ? -1 : 1;
	}
	return (x->seq > y->seq) - (x->seq < y->seq);
}

void
fl_ini_format_errors(const fl_ini *ini, char *out, size_t outlen)
{
	ini_error sorted[FL_INI_MAX_ERRORS];
	size_t    off = 0;

	if (outlen == 0) {
		return;
	}
	out[0] = '\0';
	memcpy(sorted, ini->errs, ini->n_errs * sizeof(sorted[0]));
	qsort(sorted, ini->n_errs, sizeof(sorted[0]), cmp_error);
	for (size_t i = 0; i < ini->n_errs && off < outlen; i++) {
		int w = snprintf(out + off, outlen - off, "%s%s:%d: %s", i ? "\n" : "",
		    fl_ini_file(ini, sorted[i].file), sorted[i].line, sorted[i].msg);
		off += w > 0 ? (size_t) w : 0;
	}
	if (ini->n_dropped > 0 && off < outlen) {
		snprintf(out + off, outlen - off, "\n%s: %zu more errors not shown",
		    fl_ini_file(ini, 0), ini->n_dropped);
	}
}

// Registers a file name; returns its index, or -1 when out of memory.
static int
add_file(fl_ini *ini, const char *path)
{
	char **nf = realloc(ini->files, (ini->n_files + 1) * sizeof(*nf));
	if (nf == NULL) {
		return -1;
	}
	ini->files = nf;
	if ((nf[ini->n_files] = strdup(path)) == NULL) {
		return -1;
	}
	return (int) ini->n_files++;
}

// One file being read.
typedef struct ini_file {
	fl_ini           *ini;
	const fl_ini_ops *ops;
	void             *user;
	int               file;       // index in ini->files
	int               depth;      // 0 = the main file
	bool              in_section; // a section header was seen in this file
	size_t           *n_included; // files included so far in this load
} ini_file;

static size_t parse_text(const ini_file *parent, const char *name, const char *text, size_t len,
    const fl_ini_ops *ops, void *user);
static size_t parse_path(
    const ini_file *parent, const char *path, const fl_ini_ops *ops, void *user, fl_ini_pos from);

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

// Trims s in place (blanks both ends); returns the new start.
static char *
trim(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && is_blank(s[n - 1])) {
		s[--n] = '\0';
	}
	while (is_blank(*s)) {
		s++;
	}
	return s;
}

// Cuts an inline comment: a ';' at the start or after a blank.
static void
cut_comment(char *s)
{
	for (char *p = s; *p != '\0'; p++) {
		if (*p == ';' && (p == s || is_blank(p[-1]))) {
			*p = '\0';
			return;
		}
	}
}

// glob(3)'s error callback has no user pointer: the errno of the last directory it could not
// read, per thread (loads may run on several threads).
static _Thread_local int glob_errno;

static int
on_glob_error(const char *path, int e)
{
	(void) path;
	glob_errno = e;
	return e == ENOENT ? 0 : 1; // a missing directory matches nothing; others stop
}

// `include = GLOB`: reads the matching files, sorted, as included files.
static void
include_glob(ini_file *f, fl_ini_pos pos, const char *pattern)
{
	char   full[PATH_MAX];
	glob_t g;
	int    rv;

	if (f->depth > 0) {
		fl_ini_err(f->ini, pos,
		    "include: not allowed in an included file (only the main config file "
		    "includes)");
		return;
	}
	if (f->in_section) {
		fl_ini_err(f->ini, pos, "include: must come before the first section of the file");
		return;
	}
	if (pattern[0] == '\0') {
		fl_ini_err(f->ini, pos, "include: needs a file or glob, e.g. conf.d/*.conf");
		return;
	}
	if (pattern[0] != '/') {
		const char *main  = fl_ini_file(f->ini, f->file);
		const char *slash = strrchr(main, '/');
		int         dlen  = slash != NULL ? (int) (slash - main) : 1;
		snprintf(full, sizeof(full), "%.*s/%s", dlen, slash != NULL ? main : ".", pattern);
	} else {
		snprintf(full, sizeof(full), "%s", pattern);
	}
	glob_errno = 0;
	rv         = glob(full, 0, on_glob_error, &g);
	if (rv == GLOB_NOMATCH) {
		return; // an empty (or absent) conf.d is normal
	}
	if (rv != 0) {
		fl_ini_err(f->ini, pos, "include: cannot read %s: %s", full,
		    rv == GLOB_NOSPACE ? "out of memory" : strerror(glob_errno));
		globfree(&g);
		return;
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		if (*f->n_included == FL_INI_MAX_INCLUDES) {
			fl_ini_err(f->ini, pos, "include: more than %d included files",
			    FL_INI_MAX_INCLUDES);
			break;
		}
		(*f->n_included)++;
		parse_path(f, g.gl_pathv[i], f->ops, f->user, pos);
	}
	globfree(&g);
}

// Handles one line (NUL-terminated, newline removed).
static void
parse_line(ini_file *f, int lineno, char *line)
{
	fl_ini_pos pos = { f->file, lineno };
	char      *s   = trim(line);
	char      *eq;

	if (*s == '\0' || *s == ';' || *s == '#') {
		return;
	}
	if (*s == '[') {
		char *close = strchr(s, ']');
		if (close == NULL) {
			fl_ini_err(f->ini, pos, "malformed section header (no closing ])");
			return;
		}
		*close     = '\0';
		char *rest = trim(close + 1);
		if (*rest != '\0' && *rest != ';' && *rest != '#') {
			fl_ini_err(f->ini, pos, "unexpected text after the section header");
			return;
		}
		f->in_section = true;
		f->ops->section(f->user, f->ini, pos, trim(s + 1));
		return;
	}
	if ((eq = strchr(s, '=')) == NULL || eq == s) {
		fl_ini_err(
		    f->ini, pos, "syntax error (expected [section], key = value or a comment)");
		return;
	}
	*eq         = '\0';
	char *key   = trim(s);
	char *value = eq + 1;
	cut_comment(value);
	value = trim(value);
	if (f->ops->includes && strcmp(key, "include") == 0) {
		include_glob(f, pos, value);
		return;
	}
	f->ops->key(f->user, f->ini, pos, key, value);
}

static size_t
parse_text(const ini_file *parent, const char *name, const char *text, size_t len,
    const fl_ini_ops *ops, void *user)
{
	fl_ini  *ini = parent->ini;
	ini_file f   = { .ini = ini, .ops = ops, .user = user, .depth = parent->depth };
	char    *buf;
	size_t   pos    = 0;
	int      lineno = 0;

	if ((f.file = add_file(ini, name)) < 0) {
		fl_ini_err(ini, (fl_ini_pos) { parent->file, 0 }, "%s: out of memory", name);
		return fl_ini_errors(ini);
	}
	f.n_included = parent->n_included;
	if (len > FL_INI_MAX_FILE) {
		fl_ini_err(ini, (fl_ini_pos) { f.file, 0 }, "cannot read: larger than %d bytes",
		    FL_INI_MAX_FILE);
		return fl_ini_errors(ini);
	}
	if (memchr(text, '\0', len) != NULL) {
		fl_ini_err(ini, (fl_ini_pos) { f.file, 0 },
		    "cannot read: contains a NUL byte (not a text file)");
		return fl_ini_errors(ini);
	}
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
		pos = 3; // a UTF-8 byte order mark (Windows editors write one) is not text
	}
	if ((buf = malloc(FL_INI_MAX_LINE + 1)) == NULL) {
		fl_ini_err(ini, (fl_ini_pos) { f.file, 0 }, "cannot read: out of memory");
		return fl_ini_errors(ini);
	}
	while (pos < len) {
		const char *start = text + pos;
		const char *nl    = memchr(start, '\n', len - pos);
		size_t      n     = nl != NULL ? (size_t) (nl - start) : len - pos;
		pos += n + (nl != NULL ? 1 : 0);
		lineno++;
		if (n > FL_INI_MAX_LINE) {
			fl_ini_err(ini, (fl_ini_pos) { f.file, lineno },
			    "line longer than %d bytes", FL_INI_MAX_LINE);
			continue;
		}
		memcpy(buf, start, n);
		buf[n] = '\0';
		parse_line(&f, lineno, buf);
	}
	free(buf);
	if (ops->end_file != NULL) {
		ops->end_file(user, ini);
	}
	return fl_ini_errors(ini);
}

// Reads a whole file (bounded) and parses it. from: the include line, for a child.
static size_t
parse_path(
    const ini_file *parent, const char *path, const fl_ini_ops *ops, void *user, fl_ini_pos from)
{
	ini_file    child = *parent;
	struct stat st;
	FILE       *f;
	char       *text;
	size_t      n;
	int         idx;

	child.depth = parent->file < 0 ? 0 : parent->depth + 1;
	if ((f = fopen(path, "re")) == NULL || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > FL_INI_MAX_FILE) {
		char why[96];
		if (f == NULL) {
			snprintf(why, sizeof(why), "%s", strerror(errno));
		} else if (!S_ISREG(st.st_mode)) {
			snprintf(why, sizeof(why), "not a regular file");
		} else {
			snprintf(why, sizeof(why), "larger than %d bytes", FL_INI_MAX_FILE);
		}
		if (f != NULL) {
			fclose(f);
		}
		if (parent->file < 0) {
			idx = add_file(parent->ini, path);
			fl_ini_err(parent->ini, (fl_ini_pos) { idx < 0 ? 0 : idx, 0 },
			    "cannot read: %s", why);
		} else {
			fl_ini_err(parent->ini, from, "include: cannot read %s: %s", path, why);
		}
		return fl_ini_errors(parent->ini);
	}
	if ((text = malloc((size_t) st.st_size + 1)) == NULL) {
		fclose(f);
		fl_ini_err(parent->ini, from, "cannot read %s: out of memory", path);
		return fl_ini_errors(parent->ini);
	}
	n = fread(text, 1, (size_t) st.st_size, f);
	if (ferror(f)) {
		fl_ini_err(parent->ini, from, "cannot read %s: %s", path, strerror(errno));
		fclose(f);
		free(text);
		return fl_ini_errors(parent->ini);
	}
	fclose(f);
	text[n] = '\0';
	parse_text(&child, path, text, n, ops, user);
	free(text);
	return fl_ini_errors(parent->ini);
}

size_t
fl_ini_parse_file(fl_ini *ini, const char *path, const fl_ini_ops *ops, void *user)
{
	size_t   n_included = 0;
	ini_file top        = { .ini = ini, .file = -1, .n_included = &n_included };
	return parse_path(&top, path, ops, user, (fl_ini_pos) { 0, 0 });
}

size_t
fl_ini_parse_text(
    fl_ini *ini, const char *name, const char *text, size_t len, const fl_ini_ops *ops, void *user)
{
	size_t   n_included = 0;
	ini_file top        = { .ini = ini, .file = -1, .n_included = &n_included };
	return parse_text(&top, name, text, len, ops, user);
}
