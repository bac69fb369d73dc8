// capture.c - the text of a captured expectations file (see capture.h).

#include "capture.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "expect.h"

static void cap_vadd(db_capture *c, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
cap_vadd(db_capture *c, const char *fmt, va_list ap)
{
	va_list ap2;
	int     n;

	if (c->oom) {
		return;
	}
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		c->oom = true;
		return;
	}
	if (c->len + (size_t) n + 1 > c->cap) {
		size_t nc = (c->len + (size_t) n + 1) * 2;
		char  *nb = realloc(c->buf, nc);
		if (nb == NULL) {
			c->oom = true;
			return;
		}
		c->buf = nb;
		c->cap = nc;
	}
	vsnprintf(c->buf + c->len, c->cap - c->len, fmt, ap);
	c->len += (size_t) n;
}

static void cap_add(db_capture *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
cap_add(db_capture *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cap_vadd(c, fmt, ap);
	va_end(ap);
}

void
db_capture_comment(db_capture *c, const char *fmt, ...)
{
	va_list ap;

	cap_add(c, "# ");
	va_start(ap, fmt);
	cap_vadd(c, fmt, ap);
	va_end(ap);
	cap_add(c, "\n");
}

void
db_capture_when(char *out, size_t len)
{
	time_t    now = time(NULL);
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL || strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		snprintf(out, len, "(unknown time)");
	}
}

void
db_capture_intro(db_capture *c)
{
	db_capture_comment(c,
	    "Written by faultline expect capture (faultline-agent "
	    "--capture-expectations).");
	db_capture_comment(c,
	    "This is everything the role can use today, not what the release "
	    "needs: delete the");
	db_capture_comment(c,
	    "lines the code does not use, then commit it with the release. "
	    "Check it with");
	db_capture_comment(c,
	    "`faultline expect check FILE`; compare releases with `faultline "
	    "expect diff OLD NEW`.");
	db_capture_comment(c,
	    "A line without \": PRIVILEGES\" only requires the object to "
	    "exist. See faultline.expect(5).");
}

void
db_capture_section(db_capture *c, const char *kind, const char *name)
{
	cap_add(c, "\n[%s \"%s\"]\n", kind, name);
}

void
db_capture_req(db_capture *c, const char *key, const char *object, const char *privs)
{
	cap_add(c, "%-8s = %s%s%s\n", key, object, privs[0] ? ": " : "", privs);
	c->n_reqs++;
}

void
db_capture_skip(db_capture *c, const char *what)
{
	if (c->n_skipped++ == 0) {
		snprintf(c->skipped, sizeof(c->skipped), "%s", what);
	}
}

bool
db_capture_ident(db_capture *c, const char *name, bool lower_only)
{
	const unsigned char *s = (const unsigned char *) name;

	if (!(isalpha(s[0]) || s[0] == '_') || (lower_only && isupper(s[0]))) {
		db_capture_skip(c, name);
		return false;
	}
	for (; *s; s++) {
		if (*s > 0x7f || !(isalnum(*s) || *s == '_' || *s == '$') ||
		    (lower_only && isupper(*s))) {
			db_capture_skip(c, name);
			return false;
		}
	}
	return true;
}

bool
db_capture_args(db_capture *c, const char *fn, const char *args)
{
	for (const unsigned char *s = (const unsigned char *) args; *s; s++) {
		if (*s > 0x7f || (!isalnum(*s) && strchr(" ,._[]\"", *s) == NULL)) {
			db_capture_skip(c, fn);
			return false;
		}
	}
	return true;
}

void
db_capture_priv(char *list, size_t len, const char *priv)
{
	size_t n = strlen(list);

	snprintf(list + n, len - n, "%s%s", n ? ", " : "", priv);
}

void
db_capture_free(db_capture *c)
{
	free(c->buf);
	memset(c, 0, sizeof(*c));
}

int
db_capture_finish(db_capture *c, FILE *out, char *err, size_t errlen)
{
	agent_expect *e = NULL;
	char          perr[512];
	int           rv = -1;

	if (c->n_skipped > 0) {
		db_capture_comment(c,
		    "Left out: %zu object%s whose names the format cannot express (the first: "
		    "%s); add them by hand if the release needs them.",
		    c->n_skipped, c->n_skipped == 1 ? "" : "s", c->skipped);
	}
	if (c->oom) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (agent_expect_parse("captured expectations", c->buf, c->len, &e, perr, sizeof(perr)) !=
	    0) {
		snprintf(err, errlen, "the captured file does not parse (a bug): %s", perr);
		goto out;
	}
	if (fwrite(c->buf, 1, c->len, out) != c->len || fflush(out) != 0) {
		snprintf(err, errlen, "cannot write the expectations");
		goto out;
	}
	rv = 0;
out:
	agent_expect_free(e);
	db_capture_free(c);
	return rv;
}
