// text.h - UTF-8 at the edges: validation, repair, terminal-safe escaping and display width.
//
// Every string Faultline shows or stores comes from outside (config files, agents, database
// servers), so none is trusted to be text. The rules, one place for all three programs:
//
// - Valid UTF-8 is strict RFC 3629: no overlong forms, no surrogates (U+D800-DFFF), nothing
//   above U+10FFFF, no stray continuation bytes, no truncated sequences. Each maximal invalid
//   subsequence (as far as it could still have been valid) is replaced by one U+FFFD.
// - Unsafe for a terminal: C0 controls (U+0000-001F), DEL, C1 controls (U+0080-009F, among them
//   U+009B, the 8-bit CSI), the bidi embeddings, overrides and isolates (U+202A-202E,
//   U+2066-2069), the bidi marks (U+200E, U+200F, U+061C) and the line/paragraph separators
//   (U+2028, U+2029). Human output shows them escaped: \t \n \r, \xNN below U+0100, \uNNNN above.
// - Display width: 0 for combining marks and zero-width characters, 2 for East Asian wide and
//   fullwidth characters (CJK, Hangul, fullwidth forms, emoji), 1 otherwise. A small table of
//   our own rather than wcwidth(3): the CLI does not depend on the caller's locale, and the
//   same bytes always align the same way.
//
// No function allocates except the _dup ones; all accept any byte string.

#ifndef FL_TEXT_H
#define FL_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FL_UTF8_REPLACEMENT "\xEF\xBF\xBD" // U+FFFD

// Decodes the character at s (n > 0 bytes available). Returns its length in bytes and sets *cp;
// for an invalid sequence returns the length of the invalid part (1-3) and sets *cp to -1.
size_t fl_utf8_next(const char *s, size_t n, int32_t *cp);

// True when the NUL-terminated s is valid UTF-8.
bool fl_utf8_valid(const char *s);

// Copies s into dst (dstlen >= 1 bytes, always terminated) with every invalid sequence replaced
// by U+FFFD; never cuts a character in two when it must truncate. Returns how many sequences
// were replaced.
size_t fl_utf8_repair(char *dst, size_t dstlen, const char *s);

// A malloc'd repaired copy of s (see fl_utf8_repair), or NULL when out of memory.
char *fl_utf8_repair_dup(const char *s);

// True when cp must not reach a terminal raw (see above).
bool fl_text_unsafe(int32_t cp);

// Columns cp takes on a terminal: 0, 1 or 2 (see above). Unsafe characters count as 1 here;
// fl_text_width() counts their escaped form.
int fl_text_cp_width(int32_t cp);

// Writes s into dst (dstlen >= 1, always terminated) as it may be shown on a terminal: unsafe
// characters escaped, invalid UTF-8 as U+FFFD; truncates between characters. Returns dst.
char *fl_text_escape(char *dst, size_t dstlen, const char *s);

// A malloc'd fl_text_escape() of s, whatever its length, or NULL when out of memory.
char *fl_text_escape_dup(const char *s);

// The number of terminal columns fl_text_escape(s) takes.
size_t fl_text_width(const char *s);

// For names and other identities: NULL when s is valid UTF-8 without any unsafe character;
// otherwise a description of the first offender written into buf and returned, e.g. "a tab
// (0x09) at byte 4", "a control character (0x1b) at byte 3", "invalid UTF-8 (0xe9) at byte 5",
// "a bidi control (U+202E) at byte 2".
const char *fl_text_problem(const char *s, char *buf, size_t len);

#endif // FL_TEXT_H
