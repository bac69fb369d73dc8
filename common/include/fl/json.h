// json.h - a small streaming JSON writer for --json output.
//
// The writer appends to a growable buffer and takes care of commas and string escaping;
// callers describe the structure (object/array/key/value). Output is one compact line unless
// pretty is set. Any allocation failure is sticky: fl_json_finish() then returns NULL.

#ifndef FL_JSON_H
#define FL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fl_json {
	char  *buf;
	size_t len;
	size_t cap;
	int    depth;
	bool   need_comma[64];
	bool   after_key;
	bool   failed;
	bool   pretty;
} fl_json;

void fl_json_init(fl_json *j, bool pretty);
void fl_json_fini(fl_json *j); // frees the buffer unless fl_json_finish() handed it out

void fl_json_obj_begin(fl_json *j);
void fl_json_obj_end(fl_json *j);
void fl_json_arr_begin(fl_json *j);
void fl_json_arr_end(fl_json *j);
void fl_json_key(fl_json *j, const char *key);
void fl_json_str(fl_json *j, const char *s); // NULL is written as null
void fl_json_int(fl_json *j, int64_t v);
void fl_json_uint(fl_json *j, uint64_t v);
void fl_json_double(fl_json *j, double v);
void fl_json_bool(fl_json *j, bool v);
void fl_json_null(fl_json *j);
void fl_json_time(fl_json *j, int64_t unix_us); // RFC 3339 string, or null when 0

// Shorthands for "key": value.
void fl_json_kstr(fl_json *j, const char *key, const char *s);
void fl_json_kint(fl_json *j, const char *key, int64_t v);
void fl_json_kuint(fl_json *j, const char *key, uint64_t v);
void fl_json_kbool(fl_json *j, const char *key, bool v);
void fl_json_ktime(fl_json *j, const char *key, int64_t unix_us);

// Returns the NUL-terminated text (owned by j, valid until fl_json_fini), or NULL if any
// allocation failed.
const char *fl_json_text(fl_json *j);

#endif // FL_JSON_H
