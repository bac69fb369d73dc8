// urls.h - a comma-separated list of nng URLs: several collectors for one agent or CLI.
//
// `collector = tcp://c1:7600, tcp://c2:7600` (agent) and `faultline -C URL1,URL2` (CLI) name
// every collector of an active/standby pair; the agent dials each of them, the CLI asks them in
// turn. The list is parsed here once, with the same rules for every program: entries separated
// by commas, blanks around them ignored, each an nng URL (`SCHEME://...`, shorter than
// FL_URL_LEN), no entry twice, at most FL_URLS_MAX entries. A single URL is a list of one, so
// every config and command line written before lists existed means what it meant.

#ifndef FL_URLS_H
#define FL_URLS_H

#include <stdbool.h>
#include <stddef.h>

#define FL_URLS_MAX      8                                // collectors one list may name
#define FL_URL_LEN       256                              // bytes of one URL, with its NUL
#define FL_URLS_TEXT_LEN (FL_URLS_MAX * (FL_URL_LEN + 2)) // the list as written, with its NUL

typedef struct fl_urls {
	char   v[FL_URLS_MAX][FL_URL_LEN];
	size_t n;
} fl_urls;

// Parses text into *out. An empty (or all-blank) text gives n = 0 when allow_empty, else is an
// error. Returns 0, or -1 with a one-line reason in why (naming the entry at fault) and *out
// unspecified.
int fl_urls_parse(const char *text, bool allow_empty, fl_urls *out, char *why, size_t whylen);

// True when any URL of the list text is tls+tcp:// (text need not be valid: a bad entry is
// simply not TLS).
bool fl_urls_any_tls(const char *text);

#endif // FL_URLS_H
