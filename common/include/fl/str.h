// str.h - small string helpers shared by the agent, the collector and the CLI.
//
// One home for the helpers every file used to carry its own copy of: string-or-empty, a
// duplicate that never yields NULL text, bounded copies, string vectors, FNV-1a hashing and the
// caller's error buffer. Protobuf-c leaves unset strings NULL and the agents' and servers' text
// has any length, so the rules are the same everywhere:
//
// - A NULL source string reads as "".
// - A bounded copy never overflows and always terminates dst (dstlen >= 1).
// - The _dup and _add functions allocate; they return NULL or -1 when out of memory and leave
//   their output as it was.

#ifndef FL_STR_H
#define FL_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// s, or "" when s is NULL.
const char *fl_str_or_empty(const char *s);

// A malloc'd copy of s ("" when s is NULL), or NULL when out of memory.
char *fl_str_dup(const char *s);

// Replaces the malloc'd string *dst (may be NULL) with a copy of src (NULL reads as "") unless
// they are equal. Returns 1 when *dst changed, 0 when it was equal, -1 when out of memory (*dst
// is then kept).
int fl_str_replace(char **dst, const char *src);

// Copies src (NULL reads as "") into dst, cut to dstlen - 1 bytes when longer: for messages,
// where a cut is fine. Returns true when all of src fitted. A cut may split a UTF-8 character;
// text shown or sent later goes through fl/text.h, which repairs it.
bool fl_str_copy_trunc(char *dst, size_t dstlen, const char *src);

// Copies src into dst only when it fits whole: for names and paths, where a cut would change
// what they mean. Returns 0, or -1 (dst untouched) when strlen(src) >= dstlen.
int fl_strlcpy_checked(char *dst, const char *src, size_t dstlen);

// True when s equals one of the n strings of v.
bool fl_strv_contains(char *const *v, size_t n, const char *s);

// Appends a copy of s (NULL reads as "") to the malloc'd vector *v of *n strings. Returns 0, or
// -1 when out of memory (then *v and *n still describe the same, valid vector).
int fl_strv_add(char ***v, size_t *n, const char *s);

// Frees the n strings of v and v itself; v may be NULL.
void fl_strv_free(char **v, size_t n);

// The 64-bit FNV-1a offset basis and prime (http://www.isthe.com/chongo/tech/comp/fnv/).
#define FL_FNV1A_OFFSET 14695981039346656037ULL
#define FL_FNV1A_PRIME  1099511628211ULL

// Folds len bytes of data (which may hold NUL bytes) into the FNV-1a state h; start from
// FL_FNV1A_OFFSET.
uint64_t fl_fnv1a_bytes(uint64_t h, const void *data, size_t len);

// Folds the bytes of s (NULL reads as "") into the FNV-1a state h; start from FL_FNV1A_OFFSET.
uint64_t fl_fnv1a(uint64_t h, const char *s);

// Folds s and then a 0xff byte (which UTF-8 text never holds) into h: a list of fields hashed
// field by field this way cannot collide by moving bytes across fields ("ab","c" vs "a","bc").
uint64_t fl_fnv1a_field(uint64_t h, const char *s);

// FNV-1a of s alone: fl_fnv1a(FL_FNV1A_OFFSET, s).
uint64_t fl_fnv1a_str(const char *s);

// For functions that report failure in a caller's buffer (err, errlen): writes the formatted
// message into err when err is not NULL and errlen > 0 (cut to fit), and returns rv, so that a
// failure reads `return fl_err_set(err, errlen, -1, "cannot open %s", path);`.
int fl_err_set(char *err, size_t errlen, int rv, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif // FL_STR_H
