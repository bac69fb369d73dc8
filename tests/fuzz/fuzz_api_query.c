// fuzz_api_query.c - coll_api_query_parse: the query string of an /api/v1/ request, which any
// client of the collector's HTTP listener writes (collector/src/api_query.c).
//
// Past the parser: an accepted query holds only allowed, distinct keys, no control bytes and
// values within bounds (what the API's handlers rely on), and it round-trips: each pair
// percent-encoded again parses to the same pairs. A refused one says why.

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_query.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// The widest key set an endpoint accepts (verify's), so the fuzzer reaches accepted queries.
static const char *const keys[] = { "release", "hosts", "min_hosts", "canary", "rollback_to",
	"timeout", "since", "host", "limit" };
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static void
check_text(const char *s, size_t max)
{
	size_t n = strlen(s);
	FUZZ_CHECK(n < max);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char) s[i];
		FUZZ_CHECK(c >= 0x20 && c != 0x7f);
	}
}

// Appends s percent-encoded (every byte but letters and digits) to out.
static size_t
encode(char *out, size_t used, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char) *s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			out[used++] = (char) c;
		} else {
			used += (size_t) sprintf(out + used, "%%%02X", c);
		}
	}
	return used;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static coll_api_query q, q2;
	char                 *text, *again;
	char                  err[256] = "", err2[256];
	size_t                used     = 0;

	if ((text = malloc(size + 1)) == NULL) {
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0'; // the listener hands the handler a NUL-terminated request line
	if (coll_api_query_parse(text, keys, N_KEYS, &q, err, sizeof(err)) != 0) {
		FUZZ_CHECK(err[0] != '\0');
		free(text);
		return 0;
	}
	FUZZ_CHECK(q.n <= COLL_API_MAX_PARAMS);
	for (size_t i = 0; i < q.n; i++) {
		bool allowed = false;
		check_text(q.p[i].key, COLL_API_KEY_MAX);
		check_text(q.p[i].value, COLL_API_VALUE_MAX);
		for (size_t k = 0; k < N_KEYS; k++) {
			allowed = allowed || strcmp(q.p[i].key, keys[k]) == 0;
		}
		FUZZ_CHECK(allowed);
		FUZZ_CHECK(coll_api_query_get(&q, q.p[i].key) == q.p[i].value); // distinct keys
	}

	// Round trip.
	again = malloc(COLL_API_MAX_PARAMS * 3 * (COLL_API_KEY_MAX + COLL_API_VALUE_MAX + 2) + 1);
	FUZZ_CHECK(again != NULL);
	for (size_t i = 0; i < q.n; i++) {
		if (i > 0) {
			again[used++] = '&';
		}
		used          = encode(again, used, q.p[i].key);
		again[used++] = '=';
		used          = encode(again, used, q.p[i].value);
	}
	again[used] = '\0';
	FUZZ_CHECK(coll_api_query_parse(again, keys, N_KEYS, &q2, err2, sizeof(err2)) == 0);
	FUZZ_CHECK(q2.n == q.n);
	for (size_t i = 0; i < q.n; i++) {
		FUZZ_CHECK(strcmp(q.p[i].key, q2.p[i].key) == 0);
		FUZZ_CHECK(strcmp(q.p[i].value, q2.p[i].value) == 0);
	}
	free(again);
	free(text);
	return 0;
}
