// str.c - see fl/str.h.

#include "fl/str.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
fl_str_or_empty(const char *s)
{
	return s != NULL ? s : "";
}

char *
fl_str_dup(const char *s)
{
	return strdup(fl_str_or_empty(s));
}

int
fl_str_replace(char **dst, const char *src)
{
	const char *s = fl_str_or_empty(src);
	char       *copy;

	if (*dst != NULL && strcmp(*dst, s) == 0) {
		return 0;
	}
	if ((copy = strdup(s)) == NULL) {
		return -1;
	}
	free(*dst);
	*dst = copy;
	return 1;
}

bool
fl_str_copy_trunc(char *dst, size_t dstlen, const char *src)
{
	const char *s = fl_str_or_empty(src);
	size_t      n = strnlen(s, dstlen - 1);

	memcpy(dst, s, n);
	dst[n] = '\0';
	return s[n] == '\0';
}

int
fl_strlcpy_checked(char *dst, const char *src, size_t dstlen)
{
	size_t n = strlen(src);
	if (n >= dstlen) {
		return -1;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

bool
fl_strv_contains(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i], s) == 0) {
			return true;
		}
	}
	return false;
}

int
fl_strv_add(char ***v, size_t *n, const char *s)
{
	char  *copy = fl_str_dup(s);
	char **nv;

	if (copy == NULL) {
		return -1;
	}
	if ((nv = realloc(*v, (*n + 1) * sizeof(*nv))) == NULL) {
		free(copy);
		return -1;
	}
	nv[*n] = copy;
	*v     = nv;
	(*n)++;
	return 0;
}

void
fl_strv_free(char **v, size_t n)
{
	if (v == NULL) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		free(v[i]);
	}
	free(v);
}

uint64_t
fl_fnv1a_bytes(uint64_t h, const void *data, size_t len)
{
	const unsigned char *b = data;

	for (size_t i = 0; i < len; i++) {
		h = (h ^ b[i]) * FL_FNV1A_PRIME;
	}
	return h;
}

uint64_t
fl_fnv1a(uint64_t h, const char *s)
{
	const char *t = fl_str_or_empty(s);

	return fl_fnv1a_bytes(h, t, strlen(t));
}

uint64_t
fl_fnv1a_field(uint64_t h, const char *s)
{
	return fl_fnv1a_bytes(fl_fnv1a(h, s), "\xff", 1);
}

uint64_t
fl_fnv1a_str(const char *s)
{
	return fl_fnv1a(FL_FNV1A_OFFSET, s);
}

int
fl_err_set(char *err, size_t errlen, int rv, const char *fmt, ...)
{
	if (err != NULL && errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rv;
}
