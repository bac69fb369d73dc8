// json.c - see fl/json.h.

#include "fl/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl/text.h"
#include "fl/time.h"

void
fl_json_init(fl_json *j, bool pretty)
{
	memset(j, 0, sizeof(*j));
	j->pretty = pretty;
}

void
fl_json_fini(fl_json *j)
{
	free(j->buf);
	j->buf = NULL;
}

static void
put(fl_json *j, const char *s, size_t n)
{
	if (j->failed) {
		return;
	}
	if (j->len + n + 1 > j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 1024;
		while (cap < j->len + n + 1) {
			cap *= 2;
		}
		char *nb = realloc(j->buf, cap);
		if (nb == NULL) {
			j->failed = true;
			return;
		}
		j->buf = nb;
		j->cap = cap;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void
puts_(fl_json *j, const char *s)
{
	put(j, s, strlen(s));
}

static void
newline(fl_json *j)
{
	if (!j->pretty) {
		return;
	}
	put(j, "\n", 1);
	for (int i = 0; i < j->depth; i++) {
		put(j, "  ", 2);
	}
}

// Called before every value or key: writes the separating comma and indentation.
static void
before_value(fl_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth > 0) {
		if (j->need_comma[j->depth]) {
			put(j, ",", 1);
		}
		j->need_comma[j->depth] = true;
		newline(j);
	}
}

static void
open_(fl_json *j, const char *c)
{
	before_value(j);
	puts_(j, c);
	if (j->depth < 63) {
		j->depth++;
	}
	j->need_comma[j->depth] = false;
}

static void
close_(fl_json *j, const char *c)
{
	bool had = j->need_comma[j->depth];
	if (j->depth > 0) {
		j->depth--;
	}
	if (had) {
		newline(j);
	}
	puts_(j, c);
}

void
fl_json_obj_begin(fl_json *j)
{
	open_(j, "{");
}

void
fl_json_obj_end(fl_json *j)
{
	close_(j, "}");
}

void
fl_json_arr_begin(fl_json *j)
{
	open_(j, "[");
}

void
fl_json_arr_end(fl_json *j)
{
	close_(j, "]");
}

// Writes s as a JSON string that is always valid UTF-8 whatever s holds: invalid sequences
// become U+FFFD, and controls (C0, DEL, C1) and bidi/line controls are written as \u escapes,
// so the text is also safe when the JSON is printed to a terminal (fl/text.h).
static void
put_escaped(fl_json *j, const char *s)
{
	size_t n = strlen(s);

	put(j, "\"", 1);
	for (size_t i = 0; i < n;) {
		int32_t cp;
		size_t  k = fl_utf8_next(s + i, n - i, &cp);
		char    esc[8];
		if (cp == '"') {
			puts_(j, "\\\"");
		} else if (cp == '\\') {
			puts_(j, "\\\\");
		} else if (cp == '\n') {
			puts_(j, "\\n");
		} else if (cp == '\r') {
			puts_(j, "\\r");
		} else if (cp == '\t') {
			puts_(j, "\\t");
		} else if (cp < 0) {
			puts_(j, "\\ufffd");
		} else if (fl_text_unsafe(cp)) {
			snprintf(esc, sizeof(esc), "\\u%04x", (unsigned) cp);
			puts_(j, esc);
		} else {
			put(j, s + i, k);
		}
		i += k;
	}
	put(j, "\"", 1);
}

void
fl_json_key(fl_json *j, const char *key)
{
	before_value(j);
	put_escaped(j, key);
	puts_(j, j->pretty ? ": " : ":");
	j->after_key = true;
}

void
fl_json_str(fl_json *j, const char *s)
{
	before_value(j);
	if (s == NULL) {
		puts_(j, "null");
	} else {
		put_escaped(j, s);
	}
}

void
fl_json_int(fl_json *j, int64_t v)
{
	char b[32];
	before_value(j);
	snprintf(b, sizeof(b), "%" PRId64, v);
	puts_(j, b);
}

void
fl_json_uint(fl_json *j, uint64_t v)
{
	char b[32];
	before_value(j);
	snprintf(b, sizeof(b), "%" PRIu64, v);
	puts_(j, b);
}

void
fl_json_double(fl_json *j, double v)
{
	char b[64];
	before_value(j);
	if (!isfinite(v)) {
		puts_(j, "null");
		return;
	}
	snprintf(b, sizeof(b), "%.6g", v);
	puts_(j, b);
}

void
fl_json_bool(fl_json *j, bool v)
{
	before_value(j);
	puts_(j, v ? "true" : "false");
}

void
fl_json_null(fl_json *j)
{
	before_value(j);
	puts_(j, "null");
}

void
fl_json_time(fl_json *j, int64_t unix_us)
{
	char b[40];
	if (unix_us == 0) {
		fl_json_null(j);
		return;
	}
	fl_json_str(j, fl_time_format(unix_us, b, sizeof(b)));
}

void
fl_json_kstr(fl_json *j, const char *key, const char *s)
{
	fl_json_key(j, key);
	fl_json_str(j, s);
}

void
fl_json_kint(fl_json *j, const char *key, int64_t v)
{
	fl_json_key(j, key);
	fl_json_int(j, v);
}

void
fl_json_kuint(fl_json *j, const char *key, uint64_t v)
{
	fl_json_key(j, key);
	fl_json_uint(j, v);
}

void
fl_json_kbool(fl_json *j, const char *key, bool v)
{
	fl_json_key(j, key);
	fl_json_bool(j, v);
}

void
fl_json_ktime(fl_json *j, const char *key, int64_t unix_us)
{
	fl_json_key(j, key);
	fl_json_time(j, unix_us);
}

const char *
fl_json_text(fl_json *j)
{
	if (j->failed) {
		return NULL;
	}
	if (j->buf == NULL) {
		put(j, "", 0);
	}
	return j->failed ? NULL : j->buf;
}
