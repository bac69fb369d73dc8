// cfg.h - the one INI reader of the agent's and collector's configs and of expectations files,
// and helpers shared by their loaders.
//
// The reader (fl_ini_*) splits a file into section headers and `key = value` lines and hands
// them to the loader's callbacks with their position; the loader keeps its own key table. Errors
// of the reader and of the loaders go into one list and come out the same way everywhere, every
// one of them, as "FILE:LINE: message" lines: what --check-config prints and what a loader's
// caller shows before exiting 2.
//
// Syntax (the subset of inih the configs always used):
//   - a line is at most FL_INI_MAX_LINE bytes (without its newline); longer is an error naming
//     it; a file is at most FL_INI_MAX_FILE bytes, without NUL bytes; a UTF-8 BOM is skipped
//   - blank lines and lines whose first non-blank character is ';' or '#' are comments
//   - `[TEXT]` starts a section (TEXT trimmed; a comment may follow the bracket)
//   - `key = value`: key and value trimmed, value may be empty; a ';' after whitespace starts
//     a comment; an indented line is an ordinary line (no continuation lines)
//   - anything else is a syntax error
// With includes enabled, `include = GLOB` before the first section of the main file reads
// the files GLOB matches, in sorted (byte) order, at that point; a relative GLOB is relative
// to the main file's directory; no match is fine (an empty conf.d); at most
// FL_INI_MAX_INCLUDES files in all. An included file may not include again (one level: no
// cycles, and every file's place is visible from the main file); an include after a section
// header is an error (the sections of an included file would otherwise cut that section).

#ifndef FL_CFG_H
#define FL_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fl/str.h" // fl_strlcpy_checked, used by every loader

#define FL_INI_MAX_LINE     16384         // bytes in one line, newline excluded
#define FL_INI_MAX_FILE     (1024 * 1024) // bytes in one file
#define FL_INI_MAX_INCLUDES 256           // files one include line (or all of them) may add
#define FL_INI_MAX_ERRORS   32            // errors kept; more are counted ("N more errors")

typedef struct fl_ini fl_ini; // one load: the files read so far and the errors found

// Where a line is: file is an index into the files of the load (0 = the main file).
typedef struct fl_ini_pos {
	int file;
	int line;
} fl_ini_pos;

// A loader's callbacks. Each may add errors with fl_ini_err() and keeps going: the reader
// never stops early, so every error of every file is reported in one pass.
typedef struct fl_ini_ops {
	// `[text]`; text is trimmed and may be malformed for the loader (it decides).
	void (*section)(void *user, fl_ini *ini, fl_ini_pos pos, const char *text);
	// `key = value`, both trimmed.
	void (*key)(void *user, fl_ini *ini, fl_ini_pos pos, const char *key, const char *value);
	// Optional: the end of a file (a section never continues in the next file).
	void (*end_file)(void *user, fl_ini *ini);
	bool includes; // accept `include = GLOB` (the agent and the collector)
} fl_ini_ops;

// A new, empty load, or NULL when out of memory. fl_ini_free() accepts NULL.
fl_ini *fl_ini_new(void);
void    fl_ini_free(fl_ini *ini);

// Reads path (and what it includes), calling ops with user. Returns the number of errors
// found so far in this load (0 = fine). A file that cannot be read is an error at line 0.
size_t fl_ini_parse_file(fl_ini *ini, const char *path, const fl_ini_ops *ops, void *user);

// Same from memory (len bytes, NUL bytes refused); name stands in for the file name.
size_t fl_ini_parse_text(
    fl_ini *ini, const char *name, const char *text, size_t len, const fl_ini_ops *ops, void *user);

// Adds "FILE:LINE: message" at pos (line 0: the file as a whole).
void fl_ini_err(fl_ini *ini, fl_ini_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

// The path of file index `file`, or "?" when out of range.
const char *fl_ini_file(const fl_ini *ini, int file);

// Writes "FILE:LINE" of pos into buf and returns buf: for messages naming another place.
const char *fl_ini_where(const fl_ini *ini, fl_ini_pos pos, char *buf, size_t len);

size_t fl_ini_errors(const fl_ini *ini); // errors so far (dropped ones included)

// Writes every error, sorted by file (in the order read) then line, one per line separated
// by '\n', then "N more errors not shown" when some were dropped. out is always terminated.
void fl_ini_format_errors(const fl_ini *ini, char *out, size_t outlen);

// Parses a value; 0 on success, -1 on bad syntax (out untouched).
int fl_cfg_uint(const char *v, uint32_t min, uint32_t max, uint32_t *out);
int fl_cfg_bool(const char *v, bool *out); // yes/no, true/false, on/off, 1/0
// A byte count: digits with an optional KiB, MiB or GiB suffix, from min to max bytes.
int fl_cfg_bytes(const char *v, uint64_t min, uint64_t max, uint64_t *out);

// Splits a section name of the form `kind "name"` (as the reader passes it: `http "app"`).
// Writes kind and name (without quotes) into the buffers; a bare section has name "".
// Returns -1 on malformed quoting or when a part does not fit.
int fl_cfg_split_section(
    const char *section, char *kind, size_t kindlen, char *name, size_t namelen);

// Reads a secret from a file: the first line, without its newline. Refuses (returns -1 with a
// reason in err) a file that is group- or world-readable, missing or empty. The secret is
// written to out, which must be at least outlen bytes; it is never logged.
int fl_cfg_read_secret_file(const char *path, char *out, size_t outlen, char *err, size_t errlen);

// Reads the first line of a small text file (e.g. RELEASE) into out, trimmed. Returns -1 when
// the file cannot be read or the first line is empty.
int fl_cfg_read_first_line(const char *path, char *out, size_t outlen);

#endif // FL_CFG_H
