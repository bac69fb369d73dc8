// capture.h - writing the expectations a database role meets today (`faultline-agent
// --capture-expectations`), shared by the PostgreSQL and MySQL drivers. Internal to agent/db/.
//
// A driver lists what its role can use, line by line, into a db_capture; db_capture_finish()
// then reads the text back with the expectations parser (so the file written is one the agent
// and `faultline expect check` accept) before writing it out. Objects whose names the format
// cannot express are left out and counted, never written half-right.

#ifndef FL_AGENT_CAPTURE_H
#define FL_AGENT_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct db_capture {
	char  *buf;
	size_t len, cap;
	bool   oom;
	size_t n_reqs;       // requirement lines written
	size_t n_skipped;    // objects left out because of their names
	char   skipped[200]; // the first one left out, for the comment
} db_capture;

// Appends one comment line ("# " + text).
void db_capture_comment(db_capture *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// The current UTC time as "2026-11-30T12:00:00Z", for the header.
void db_capture_when(char *out, size_t len);

// The comment that says what the file is and what to do with it.
void db_capture_intro(db_capture *c);

// Appends a blank line and the section header [kind "name"].
void db_capture_section(db_capture *c, const char *kind, const char *name);

// Appends `key = object[: privs]` (privs "" for existence only).
void db_capture_req(db_capture *c, const char *key, const char *object, const char *privs);

// Is name an identifier the expectations format accepts ([A-Za-z_][A-Za-z0-9_$]*)? With
// lower_only, upper-case letters are refused too (PostgreSQL folds unquoted names to lower
// case, so "Orders" would name another table). A name refused is counted as skipped.
bool db_capture_ident(db_capture *c, const char *name, bool lower_only);

// Counts the object named what as left out (the first one is named in the closing comment).
void db_capture_skip(db_capture *c, const char *what);

// Same for function argument types as the format writes them ("integer, text[]").
bool db_capture_args(db_capture *c, const char *fn, const char *args);

// Appends ", PRIV" (or "PRIV" when list is empty) to list (len bytes).
void db_capture_priv(char *list, size_t len, const char *priv);

// Checks the text with the expectations parser, writes it to out and frees c. Returns 0, or
// -1 with err when out of memory, the parser refuses it (a bug) or writing fails.
int db_capture_finish(db_capture *c, FILE *out, char *err, size_t errlen);

void db_capture_free(db_capture *c);

#endif // FL_AGENT_CAPTURE_H
