// api_query.c - see api_query.h.

#include "api_query.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

typedef enum {
	DECODE_OK,
	DECODE_BAD_ESCAPE,
	DECODE_CONTROL,
	DECODE_TOO_LONG,
} decode_result;

// Percent-decodes src[0..len) into dst (NUL-terminated, at most cap - 1 bytes).
static decode_result
decode(const char *src, size_t len, char *dst, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char) src[i];
		if (c == '%') {
			if (len - i < 3) {
				return DECODE_BAD_ESCAPE;
			}
			int hi = hex_digit(src[i + 1]);
			int lo = hex_digit(src[i + 2]);
			if (hi < 0 || lo < 0) {
				return DECODE_BAD_ESCAPE;
			}
			c = (unsigned char) (hi * 16 + lo);
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (c < 0x20 || c == 0x7f) {
			return DECODE_CONTROL;
		}
		if (n + 1 >= cap) {
			return DECODE_TOO_LONG;
		}
		dst[n++] = (char) c;
	}
	dst[n] = '\0';
	return DECODE_OK;
}

static bool
is_allowed(const char *key, const char *const *allowed, size_t n_allowed)
{
	for (size_t i = 0; i < n_allowed; i++) {
		if (strcmp(key, allowed[i]) == 0) {
			return true;
		}
	}
	return false;
}

// One pair s[0..len) into out->p[out->n]. 0, or -1 with err.
static int
parse_pair(const char *s, size_t len, const char *const *allowed, size_t n_allowed,
    coll_api_query *out, char *err, size_t errlen)
{
	const char     *eq   = memchr(s, '=', len);
	size_t          klen = eq != NULL ? (size_t) (eq - s) : len;
	coll_api_param *p    = &out->p[out->n];
	decode_result   d;

	if (out->n == COLL_API_MAX_PARAMS) {
		snprintf(err, errlen, "too many parameters (at most %d)", COLL_API_MAX_PARAMS);
		return -1;
	}
	if ((d = decode(s, klen, p->key, sizeof(p->key))) != DECODE_OK) {
		snprintf(err, errlen, "%s",
		    d == DECODE_BAD_ESCAPE    ? "a parameter name has a bad %-escape"
		        : d == DECODE_CONTROL ? "a parameter name has a control character"
		                              : "a parameter name is too long");
		return -1;
	}
	if (p->key[0] == '\0') {
		snprintf(err, errlen, "a parameter has no name");
		return -1;
	}
	if (!is_allowed(p->key, allowed, n_allowed)) {
		snprintf(err, errlen, "unknown parameter '%s'", p->key);
		return -1;
	}
	if (coll_api_query_get(out, p->key) != NULL) {
		snprintf(err, errlen, "parameter '%s' given more than once", p->key);
		return -1;
	}
	d = eq != NULL ? decode(eq + 1, len - klen - 1, p->value, sizeof(p->value))
	               : decode("", 0, p->value, sizeof(p->value));
	if (d != DECODE_OK) {
		snprintf(err, errlen, "parameter '%s': %s", p->key,
		    d == DECODE_BAD_ESCAPE    ? "bad %-escape (want %XX, two hex digits)"
		        : d == DECODE_CONTROL ? "control characters are not allowed"
		                              : "value too long");
		return -1;
	}
	out->n++;
	return 0;
}

int
coll_api_query_parse(const char *query, const char *const *allowed, size_t n_allowed,
    coll_api_query *out, char *err, size_t errlen)
{
	const char *s = query != NULL ? query : "";

	out->n = 0;
	while (*s != '\0') {
		size_t len = strcspn(s, "&");
		if (len > 0 && parse_pair(s, len, allowed, n_allowed, out, err, errlen) != 0) {
			return -1;
		}
		s += len;
		if (*s == '&') {
			s++;
		}
	}
	return 0;
}

const char *
coll_api_query_get(const coll_api_query *q, const char *key)
{
	for (size_t i = 0; i < q->n; i++) {
		if (strcmp(q->p[i].key, key) == 0) {
			return q->p[i].value;
		}
	}
	return NULL;
}
