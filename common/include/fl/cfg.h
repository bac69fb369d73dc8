// cfg.h - helpers shared by the agent's and the collector's INI config loaders.
//
// Configs are parsed with libinih. Each loader keeps its own key table; these helpers turn
// values into typed fields and format errors the same way everywhere: "FILE:LINE: message",
// which is what --check-config prints and what a loader's caller shows before exiting 2.

#ifndef FL_CFG_H
#define FL_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// Parses a value; 0 on success, -1 on bad syntax (out untouched).
int fl_cfg_uint(const char *v, uint32_t min, uint32_t max, uint32_t *out);
int fl_cfg_bool(const char *v, bool *out); // yes/no, true/false, on/off, 1/0

// Splits a section name of the form `kind "name"` (as inih passes it: `http "app"`).
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

// Copies src into a fixed buffer, failing (-1) rather than truncating.
int fl_strlcpy_checked(char *dst, const char *src, size_t dstlen);

#endif // FL_CFG_H
