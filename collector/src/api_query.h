// api_query.h - the query string of an /api/v1/ request, parsed and bounded (pure: no sockets,
// no state; fuzzed by tests/fuzz/fuzz_api_query.c).
//
// The rules, which are part of the API's contract (README, "HTTP API"):
// - pairs are separated by '&'; a pair is KEY=VALUE, or KEY alone for an empty value; empty
//   pairs ("a=1&&b=2", a trailing '&') are skipped;
// - keys and values are percent-decoded ("%2F" is '/'; '+' is a space, as HTML forms send
//   it); a '%' not followed by two hex digits is an error, and so is a decoded byte below
//   0x20 or 0x7f (a control character: NUL would cut a name short, others only hide text);
// - every key must be one the route accepts (unknown parameters are errors, so a typo such as
//   "limt=5" is caught instead of silently ignored), and appear at most once (a repeated key
//   would leave it unclear which value counts);
// - at most COLL_API_MAX_PARAMS pairs; a decoded key longer than COLL_API_KEY_MAX - 1 bytes or
//   value longer than COLL_API_VALUE_MAX - 1 bytes is an error.
// An error is a sentence for the client, naming the key at fault (the key is printed safely:
// its bytes were checked above, or it is not printed).

#ifndef FL_COLLECTOR_API_QUERY_H
#define FL_COLLECTOR_API_QUERY_H

#include <stddef.h>

#define COLL_API_MAX_PARAMS 16
#define COLL_API_KEY_MAX    32
#define COLL_API_VALUE_MAX  1024

typedef struct coll_api_param {
	char key[COLL_API_KEY_MAX];
	char value[COLL_API_VALUE_MAX];
} coll_api_param;

typedef struct coll_api_query {
	coll_api_param p[COLL_API_MAX_PARAMS];
	size_t         n;
} coll_api_query;

// Parses query (the text after '?'; NULL or "" for none) into out, accepting only the keys in
// allowed[0..n_allowed). 0, or -1 with a reason in err (out is then partly filled).
int coll_api_query_parse(const char *query, const char *const *allowed, size_t n_allowed,
    coll_api_query *out, char *err, size_t errlen);

// The decoded value of key, or NULL when the query did not carry it.
const char *coll_api_query_get(const coll_api_query *q, const char *key);

#endif // FL_COLLECTOR_API_QUERY_H
